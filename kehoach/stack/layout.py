"""What `kehoach serve` starts, decided from the environment without starting anything.

A team machine runs the Prefect server (API and UI), the `kehoach` work pool with the deployments of
prefect.yaml, and one or more process workers. Where their state lives:

- KEHOACH_HOME (./.kehoach): the ledger (unless KEHOACH_DATABASE_URL), the server's PREFECT_HOME
  (`prefect/`), the logs of what `serve` started (`logs/`), the API password (`server-auth`) and
  `serve.env`, the settings other shells source to use this server.
- Prefect's database: PREFECT_API_DATABASE_CONNECTION_URL when set; else, when the ledger is on
  PostgreSQL, a database of its own on the same server, `<ledger database>_prefect` (Prefect has
  tables of its own named like the ledger's, so they never share one database); else SQLite in
  PREFECT_HOME.
- Access: Prefect's basic auth is always on. The credentials are KEHOACH_SERVER_AUTH or
  PREFECT_SERVER_API_AUTH_STRING ("user:password"), else generated once and kept in
  KEHOACH_HOME/server-auth (readable by its owner only).
- The forms behind the links in the mail (`kehoach forms`, on --forms-port, 8765): their secret is
  KEHOACH_FORMS_SECRET, else generated once and kept in KEHOACH_HOME/forms-secret; serve.env carries
  it and the links' address (KEHOACH_FORMS_URL, else the forms on this machine), so the workers
  write into the mail links the forms accept.

Nothing here imports Prefect or touches a process: `kehoach/stack/serve.py` does that.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from flows.orphans import worker_name
from kehoach.settings import Settings

POOL = "kehoach"
HEARTBEAT_FREQUENCY = 30  # seconds; kehoach/stack/automations.py waits three of them
WORKER_QUERY_SECONDS = 2  # how often a worker asks for runs to start (Prefect's default, 10, is a morning's first 5 s)
SERVER_POOL_SIZE = 15  # Prefect's connections to PostgreSQL kept open (its default, 5, is below a morning's need)
_CSRF_SETTINGS = ("PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED", "PREFECT_SERVER_CSRF_PROTECTION_ENABLED")
AUTH_USER = "kehoach"
AUTH_FILE = "server-auth"
FORMS_SECRET_FILE = "forms-secret"
FORMS_PORT = 8765
ENV_FILE = "serve.env"
PREFECT_DB_SUFFIX = "_prefect"
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 4200


class StackError(Exception):
    """A setting `kehoach serve` cannot use, in the user's terms."""


@dataclass(frozen=True)
class Database:
    """Prefect's database: its SQLAlchemy URL for the server, and what to show (never a password)."""

    url: str | None  # None: Prefect's own SQLite in PREFECT_HOME
    shown: str
    create: str | None = None  # a PostgreSQL database to create first, as a psycopg URL to its server

    @property
    def is_postgres(self) -> bool:
        return bool(self.url and self.url.startswith("postgresql"))


@dataclass(frozen=True)
class StackLayout:
    """Addresses, files and environments of one team stack."""

    host: str
    port: int
    home: Path
    project: Path
    database: Database
    auth: str
    auth_source: str
    workers: int
    worker_limit: int
    ledger_url: str | None = field(repr=False)
    base_env: Mapping[str, str] = field(repr=False)
    forms_secret: str = field(default="", repr=False)
    forms_secret_source: str = "KEHOACH_FORMS_SECRET"
    forms_port: int = FORMS_PORT
    forms_url: str | None = None  # KEHOACH_FORMS_URL: what units open (behind the TLS proxy)

    @property
    def forms_link_base(self) -> str:
        """The address the links in the mail carry: KEHOACH_FORMS_URL, else the forms on this machine
        (enough for a team on one machine or a test; a real office sets the proxy's address)."""
        return self.forms_url or self.forms_local_url

    @property
    def forms_local_url(self) -> str:
        """Where the forms answer on this machine (units open KEHOACH_FORMS_URL, behind the proxy)."""
        return f"http://{_url_host(self.host)}:{self.forms_port}"

    @property
    def ui_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def env_file(self) -> Path:
        return self.home / ENV_FILE

    def client_env(self) -> dict[str, str]:
        """What a `prefect` or `kehoach` command needs to use this server (and the same ledger)."""
        env = {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_API_AUTH_STRING": self.auth,
            "KEHOACH_HOME": str(self.home),
        }
        if self.ledger_url:
            env["KEHOACH_DATABASE_URL"] = self.ledger_url
        if self.forms_secret:
            env["KEHOACH_FORMS_SECRET"] = self.forms_secret
            env["KEHOACH_FORMS_URL"] = self.forms_link_base
        return env

    def _common(self) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(
            PREFECT_HOME=str(self.prefect_home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PYTHONUNBUFFERED="1",
            # prefect.yaml's pull step sets the flow runs' working directory to "{{ $PWD }}".
            PWD=str(self.project),
        )
        return env

    def server_env(self) -> dict[str, str]:
        env = self._common()
        env.pop("PREFECT_API_URL", None)
        env.update(
            PREFECT_SERVER_API_HOST=self.host,
            PREFECT_SERVER_API_PORT=str(self.port),
            PREFECT_SERVER_API_AUTH_STRING=self.auth,
            # The server's own client (its services) talks to its own API with the password too.
            PREFECT_API_AUTH_STRING=self.auth,
        )
        # Behind a proxy the browsers' address differs: PREFECT_UI_API_URL set by the user is kept.
        env.setdefault("PREFECT_UI_API_URL", self.api_url)
        if self.database.url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database.url
            # Prefect keeps 5 connections and opens and closes the rest as it needs them: on a busy
            # morning that was a new PostgreSQL connection a second, each a process to fork.
            if "PREFECT_SQLALCHEMY_POOL_SIZE" not in env:  # the older name of the setting, the user's
                env.setdefault("PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE", str(SERVER_POOL_SIZE))
        return env

    def worker_env(self) -> dict[str, str]:
        env = self._common()
        env.update(self.client_env())
        # The server's settings are not the worker's business (and hold a database password).
        for key in ("PREFECT_SERVER_API_AUTH_STRING", "PREFECT_API_DATABASE_CONNECTION_URL"):
            env.pop(key, None)
        # Flow runs send a heartbeat: the server's automation marks silent ones Crashed (kehoach/stack/automations.py).
        env.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_FREQUENCY))
        # The plan-run starts within 2 s of being asked for, rather than 10.
        env.setdefault("PREFECT_WORKER_QUERY_SECONDS", str(WORKER_QUERY_SECONDS))
        if not any(self.base_env.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in _CSRF_SETTINGS):
            # The server does not ask for CSRF tokens (Prefect's default): every client would still
            # ask it for one first, a request per item run on a busy morning.
            env.setdefault("PREFECT_CLIENT_CSRF_SUPPORT_ENABLED", "false")
        return env

    def server_command(self, prefect: list[str]) -> list[str]:
        return [*prefect, "server", "start", "--host", self.host, "--port", str(self.port)]

    def worker_command(self, prefect: list[str], number: int) -> list[str]:
        return [
            *prefect, "worker", "start", "--pool", POOL, "--type", "process",
            "--name", worker_name(number), "--limit", str(self.worker_limit),
        ]

    def forms_command(self, python: str) -> list[str]:
        return [python, "-m", "kehoach.cli", "forms", "--host", self.host, "--port", str(self.forms_port)]

    def forms_env(self) -> dict[str, str]:
        """The forms use the ledger and resume runs through the API, as a worker does."""
        return self.worker_env()

    def env_file_text(self) -> str:
        lines = [
            "# Written by `kehoach serve`: the settings to use its Prefect server from another shell,",
            f"#   . {self.env_file}",
            "# It holds the API password and the forms' secret: keep it readable by its owner only.",
        ]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in self.client_env().items()]
        return "\n".join(lines) + "\n"


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return LOOPBACK  # what this machine's browser opens; others use the machine's own address
    return f"[{host}]" if ":" in host else host


# -- decisions --------------------------------------------------------------------------------------


def prefect_database(settings: Settings) -> Database:
    """Prefect's own database, from PREFECT_API_DATABASE_CONNECTION_URL or the ledger's server."""
    explicit = settings.prefect_database_url
    if explicit:
        url = _parse(explicit, "PREFECT_API_DATABASE_CONNECTION_URL")
        return Database(url=explicit, shown=_shown(url))
    ledger = settings.database_url
    if not ledger:
        return Database(url=None, shown="SQLite trong PREFECT_HOME")
    parsed = _parse(ledger, "KEHOACH_DATABASE_URL")
    if not parsed.drivername.startswith("postgresql"):
        return Database(url=None, shown="SQLite trong PREFECT_HOME")
    if not parsed.database:
        raise StackError("KEHOACH_DATABASE_URL: thiếu tên cơ sở dữ liệu (…/tên_csdl ở cuối địa chỉ)")
    name = f"{parsed.database}{PREFECT_DB_SUFFIX}"
    if parsed.query:
        # asyncpg (Prefect's driver) takes other options than psycopg: say so rather than guess.
        raise StackError(
            "KEHOACH_DATABASE_URL có tham số (?…) mà Prefect không dùng được; hãy đặt riêng "
            "PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://…/" + name
        )
    prefect_url = parsed.set(drivername="postgresql+asyncpg", database=name)
    admin_url = parsed.set(drivername="postgresql+psycopg")
    return Database(
        url=prefect_url.render_as_string(hide_password=False),
        shown=_shown(prefect_url),
        create=admin_url.render_as_string(hide_password=False),
    )


def _parse(text: str, variable: str) -> URL:
    try:
        return make_url(text)
    except (ArgumentError, ValueError):
        raise StackError(
            f"{variable} không phải địa chỉ cơ sở dữ liệu hợp lệ — cần dạng "
            "postgresql+psycopg://người_dùng:mật_khẩu@máy:cổng/tên_csdl"
        ) from None


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


_AUTH = re.compile(r"^[^:\s]+:\S+$")


def auth_from(settings: Settings, stored: str | None) -> tuple[str, str]:
    """(user:password, where it came from). A new one is made when nothing is configured or stored."""
    for variable, value in (("KEHOACH_SERVER_AUTH", settings.server_auth), ("PREFECT_SERVER_API_AUTH_STRING", settings.prefect_server_auth)):
        if value:
            if not _AUTH.match(value):
                raise StackError(f"{variable} phải có dạng người_dùng:mật_khẩu (không dấu cách), ví dụ kehoach:<mật khẩu dài>")
            return value, variable
    if stored and _AUTH.match(stored.strip()):
        return stored.strip(), AUTH_FILE
    return f"{AUTH_USER}:{secrets.token_urlsafe(24)}", "new"


def forms_secret_from(settings: Settings, stored: str | None) -> tuple[str, str]:
    """(secret, where it came from): KEHOACH_FORMS_SECRET, else the stored file, else a new one."""
    if settings.forms_secret:
        return settings.forms_secret, "KEHOACH_FORMS_SECRET"
    if stored and len(stored.strip()) >= 16:
        return stored.strip(), FORMS_SECRET_FILE
    return secrets.token_urlsafe(32), "new"


def layout(
    settings: Settings,
    env: Mapping[str, str],
    *,
    host: str,
    port: int,
    workers: int,
    worker_limit: int,
    project: Path,
    stored_auth: str | None,
    forms_port: int = FORMS_PORT,
    stored_forms_secret: str | None = None,
) -> StackLayout:
    if workers < 1:
        raise StackError("--workers phải từ 1 trở lên")
    if worker_limit < 1:
        raise StackError("--worker-limit phải từ 1 trở lên")
    auth, source = auth_from(settings, stored_auth)
    forms_secret, forms_source = forms_secret_from(settings, stored_forms_secret)
    if forms_port == port:
        raise StackError("--forms-port phải khác --port (máy chủ Prefect)")
    return StackLayout(
        host=host,
        port=port,
        home=settings.home,
        project=project,
        database=prefect_database(settings),
        auth=auth,
        auth_source=source,
        workers=workers,
        worker_limit=worker_limit,
        ledger_url=settings.database_url,
        base_env=dict(env),
        forms_secret=forms_secret,
        forms_secret_source=forms_source,
        forms_port=forms_port,
        forms_url=settings.forms_url,
    )


def find_project(start: Path) -> Path | None:
    """The checkout holding prefect.yaml: `start` or a parent, else the one this code is in."""
    for folder in (start, *start.parents):
        if (folder / "prefect.yaml").is_file() and (folder / "flows").is_dir():
            return folder
    here = Path(__file__).resolve().parents[1]
    return here if (here / "prefect.yaml").is_file() else None

"""Processes that integration tests start: `kehoach serve`, and PostgreSQL clusters and databases.

Everything listens on 127.0.0.1 and is stopped, by its process id, by the test that started it:
`served_stack` stops `kehoach serve` as a user does (SIGINT, Ctrl-C) and then checks that nothing it
started is left running.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
KEHOACH = str(BIN / "kehoach")
SERVE_READY_TIMEOUT = 180
SERVE_STOP_TIMEOUT = 90
READY_LINE = "Sẵn sàng."


# -- processes ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def on_uvicorn(app: Any, port: int, *, timeout: float = 30, log_level: str = "warning") -> Iterator[Any]:
    """An ASGI application on uvicorn at 127.0.0.1:`port`, in a thread of this process; stopped
    through the server's handle when the block ends."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, lifespan="on"))
    thread = threading.Thread(target=server.run, name="forms-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        assert not thread.is_alive(), "uvicorn did not stop"


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is as good as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def send(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class Service:
    """A process a test started, with its output in a file."""

    name: str
    process: subprocess.Popen
    log: Path
    known_descendants: set[int] = field(default_factory=set)

    def remember_descendants(self) -> None:
        if self.process.poll() is None:
            self.known_descendants.update(descendants(self.process.pid))

    def stop(self, grace: float, sig: int = signal.SIGTERM) -> None:
        """`sig` by pid, wait up to `grace` seconds, then SIGKILL; the same for what it started."""
        self.remember_descendants()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        leftovers = [pid for pid in self.known_descendants if alive(pid)]
        for pid in leftovers:
            send(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while leftovers and time.monotonic() < deadline:
            leftovers = [pid for pid in leftovers if alive(pid)]
            time.sleep(0.2)
        for pid in leftovers:
            send(pid, signal.SIGKILL)

    def left_running(self) -> list[str]:
        return [f"{pid} {command_line(pid)}" for pid in sorted({self.process.pid, *self.known_descendants}) if alive(pid)]


def start(name: str, args: list[str], env: dict[str, str], logs: Path, cwd: Path = REPO) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Service(name, process, log)


def run(args: list[str], env: dict[str, str], timeout: float = 120, check: bool = True, cwd: Path = REPO) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
    return done


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any Prefect or Kehoach configuration, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KEHOACH_"))}
    env.update(extra)
    return env


def wait_for(what: str, probe: Callable[[], tuple[bool, Any]], timeout: float, every: float = 0.5, fail: Callable[[str], None] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = probe()
        if ok:
            return last
        time.sleep(every)
    (fail or (lambda m: pytest.fail(m, pytrace=False)))(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last}")


# -- kehoach serve ------------------------------------------------------------------------------------


@dataclass
class ServedStack:
    """A running `kehoach serve` and what a test needs to use it."""

    ui_url: str
    api_url: str
    auth: str
    env: dict[str, str]  # for `prefect` and `kehoach` commands against this server
    kehoach_home: Path
    serve: Service
    database_url: str | None = None
    forms_url: str | None = None  # where `kehoach serve` runs the units' forms

    @property
    def log(self) -> Path:
        return self.serve.log

    def logs(self) -> str:
        self.serve.remember_descendants()
        parts = [f"--- kehoach serve ({self.serve.log}), last lines:\n{tail(self.serve.log)}"]
        for log in sorted((self.kehoach_home / "logs").glob("*.log")):
            parts.append(f"--- {log.name}, last lines:\n{tail(log, 40)}")
        return "\n".join(parts)

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n{self.logs()}", pytrace=False)

    def ledger(self, home: Path | None = None):
        from plan.ledger import Ledger

        if self.database_url and home is None:
            return Ledger(self.database_url)
        return Ledger(f"sqlite:///{(home or self.kehoach_home) / 'ledger.sqlite'}")

    @contextlib.contextmanager
    def client(self):
        """A Prefect client of this server, whatever other tests configured in this process."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.api_url, PREFECT_API_AUTH_STRING: self.auth}):
            with get_client(sync_client=True) as client:
                yield client

    def workers(self) -> list[dict[str, Any]]:
        import base64
        import json

        request = urllib.request.Request(f"{self.api_url}/work_pools/kehoach/workers/filter", data=b"{}", method="POST")
        request.add_header("Authorization", "Basic " + base64.b64encode(self.auth.encode()).decode())
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def wait_for_workers(self, count: int, timeout: float = 90) -> list[dict[str, Any]]:
        def probe():
            with contextlib.suppress(OSError):
                online = [w for w in self.workers() if w.get("status") == "ONLINE"]
                return len(online) >= count, online
            return False, "API not answering"

        return wait_for(f"{count} worker(s) online", probe, timeout, fail=self.fail)


@contextlib.contextmanager
def served_stack(
    root: Path,
    database_url: str | None = None,
    workers: int = 1,
    worker_limit: int = 4,
    extra_env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
) -> Iterator[ServedStack]:
    """`kehoach serve` on 127.0.0.1 with its own KEHOACH_HOME under `root`; stopped with SIGINT at the end."""
    root.mkdir(parents=True, exist_ok=True)
    logs = root / "test-logs"
    logs.mkdir(exist_ok=True)
    home = root / "kehoach"
    port = free_port()
    forms_port = free_port()
    auth = f"kehoach:{secrets.token_urlsafe(16)}"
    settings = {
        "KEHOACH_HOME": str(home),
        "KEHOACH_SERVER_AUTH": auth,
        "KEHOACH_USER": "kiểm thử tích hợp",
        # Deployments have schedules (plan-run every morning): no scheduled run may start in a test.
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    if database_url:
        settings["KEHOACH_DATABASE_URL"] = database_url
    settings.update(extra_env or {})
    env = clean_env(**settings)
    serve = start(
        "serve",
        [KEHOACH, "serve", "--port", str(port), "--forms-port", str(forms_port), "--workers", str(workers), "--worker-limit", str(worker_limit), *(extra_args or [])],
        env, logs,
    )
    api_url = f"http://127.0.0.1:{port}/api"
    client_env = clean_env(
        PREFECT_API_URL=api_url,
        PREFECT_API_AUTH_STRING=auth,
        KEHOACH_HOME=str(home),
        KEHOACH_USER=settings["KEHOACH_USER"],
        PYTHONUNBUFFERED="1",
        **({"KEHOACH_DATABASE_URL": database_url} if database_url else {}),
    )
    stack = ServedStack(ui_url=f"http://127.0.0.1:{port}", api_url=api_url, auth=auth, env=client_env,
                        kehoach_home=home, serve=serve, database_url=database_url, forms_url=f"http://127.0.0.1:{forms_port}")
    try:
        def ready():
            if serve.process.poll() is not None:
                stack.fail(f"kehoach serve exited with {serve.process.returncode} before it was ready")
            serve.remember_descendants()
            return READY_LINE in serve.log.read_text(encoding="utf-8", errors="replace"), tail(serve.log, 5)

        wait_for("kehoach serve to say it is ready", ready, SERVE_READY_TIMEOUT, fail=stack.fail)
        stack.wait_for_workers(workers)
        serve.remember_descendants()
        yield stack
    finally:
        serve.remember_descendants()
        if serve.process.poll() is None:
            serve.process.send_signal(signal.SIGINT)  # Ctrl-C, as a user stops it
            try:
                serve.process.wait(timeout=SERVE_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        stopped_itself = serve.process.poll() is not None
        left = [pid for pid in serve.known_descendants if alive(pid)]
        described = [f"{pid} {command_line(pid)}" for pid in left]
        serve.stop(grace=5)  # whatever is left, by pid
        assert stopped_itself, f"kehoach serve did not stop within {SERVE_STOP_TIMEOUT} s of SIGINT\n{stack.logs()}"
        assert not described, f"kehoach serve left processes running after SIGINT: {described}\n{stack.logs()}"


# -- PostgreSQL -----------------------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()])
    return found[-1].parent if found else None


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class PostgresCluster:
    """A throwaway cluster a test started (and can stop and start again) on 127.0.0.1."""

    data: Path
    port: int
    bin: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), *args]),
                              capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"pg_ctl {' '.join(args)}: {done.stdout}{done.stderr}")
        return done

    def start(self) -> None:
        self._ctl("-l", str(self.data.parent / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def running(self) -> bool:
        return self._ctl("status", check=False).returncode == 0


@contextlib.contextmanager
def postgres_cluster(root: Path) -> Iterator[PostgresCluster]:
    """initdb + start on a free loopback port; stopped and deleted at the end (skips without PostgreSQL)."""
    pg_bin = _pg_bin()
    if pg_bin is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin); .ci/run installs it")
    del root  # pytest's folders are private to their owner: the postgres user could not enter them
    base = Path(tempfile.mkdtemp(prefix="kehoach-test-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data = base / "data"
    done = subprocess.run(_as_postgres([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                        "-E", "UTF8", "--no-locale", "--no-sync"]), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"initdb failed: {done.stdout}{done.stderr}"
    port = free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n"
                   "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n")
    cluster = PostgresCluster(data=data, port=port, bin=pg_bin)
    try:
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """CREATE DATABASE `name` on the server of `admin_url`; the URL of the new database."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_databases(admin_url: str, *names: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()

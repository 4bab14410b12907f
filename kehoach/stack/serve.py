"""`kehoach serve`: the Prefect server, the work pool, the deployments and workers on one machine,
and the units' forms beside them.

Starts, in order: the server (API + UI, basic auth on), waits until it answers; the `kehoach` work
pool if missing; `prefect deploy --all` from the checkout's prefect.yaml; the workers; the forms
(`kehoach forms`). Then it watches them: a worker or the forms dying is started again (a crash must
not stop the plan's schedule), the server dying ends everything with its log. Ctrl-C (or SIGTERM)
stops the forms and the workers first, then the server, by their process ids, escalating to SIGKILL
when one does not stop in time.

The decisions (addresses, databases, environments) are in `kehoach/stack/layout.py`; this module does
the I/O. It runs `prefect` as subprocesses and never imports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kehoach.stack.layout import AUTH_FILE, FORMS_SECRET_FILE, POOL, StackError, StackLayout

PREFECT = [sys.executable, "-m", "prefect"]
SERVER_START_TIMEOUT = 180.0
SETUP_TIMEOUT = 300.0
WORKER_STOP_GRACE = 15.0
SERVER_STOP_GRACE = 20.0
RESTART_WINDOW = 300.0
MAX_RESTARTS = 5  # worker restarts within RESTART_WINDOW before `serve` gives up

Say = Callable[[str], None]


class ServeFailed(Exception):
    """The stack could not start or stopped working; the message says what and where the log is."""


@dataclass
class Child:
    """A process `serve` started, in its own process group, its output in a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"\n--- kehoach serve: {' '.join(self.args)} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.args, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float, first: int = signal.SIGTERM) -> bool:
        """Ask it to stop, then insist. True if it stopped on its own within `grace` seconds."""
        if self.process is None:
            return True
        gentle = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(first)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                gentle = False
        # Whatever it started (flow-run processes, the server's own helpers) is in its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        return gentle

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# -- setup ------------------------------------------------------------------------------------------


def prepare_home(stack: StackLayout) -> None:
    """Folders, the password file (new or kept) and serve.env, both readable by their owner only."""
    for folder in (stack.home, stack.prefect_home, stack.logs):
        folder.mkdir(parents=True, exist_ok=True)
    if stack.auth_source == "new":
        _write_private(stack.home / AUTH_FILE, stack.auth + "\n")
    if stack.forms_secret_source == "new":
        _write_private(stack.home / FORMS_SECRET_FILE, stack.forms_secret + "\n")
    _write_private(stack.env_file, stack.env_file_text())


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)


def stored_auth(home: Path) -> str | None:
    try:
        return (home / AUTH_FILE).read_text(encoding="utf-8")
    except OSError:
        return None


def stored_forms_secret(home: Path) -> str | None:
    try:
        return (home / FORMS_SECRET_FILE).read_text(encoding="utf-8")
    except OSError:
        return None


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StackError(f"Không dùng được {host}:{port} ({exc.strerror or exc}); chọn cổng khác với --port") from None


def ensure_prefect_database(stack: StackLayout) -> None:
    """Create Prefect's PostgreSQL database beside the ledger's when it is not there yet."""
    if not stack.database.create:
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = make_url(stack.database.url or "").database
    engine = sa.create_engine(stack.database.create, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ServeFailed(f"Không tạo được cơ sở dữ liệu Prefect «{name}» trên máy chủ PostgreSQL của sổ: {reason}") from None
    finally:
        engine.dispose()


def wait_until_healthy(stack: StackLayout, server: Child, timeout: float = SERVER_START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.running():
            raise ServeFailed(f"Máy chủ Prefect dừng khi đang khởi động (mã {server.returncode}); nhật ký {server.log}:\n{server.tail()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{stack.api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    raise ServeFailed(f"Máy chủ Prefect chưa trả lời sau {timeout:.0f} s; nhật ký {server.log}:\n{server.tail()}")


def api_get(stack: StackLayout, path: str, auth: str | None = None, method: str = "GET", body: bytes | None = None) -> tuple[int, bytes]:
    """One request to the API with the stack's password (or `auth`); (status, body)."""
    import base64

    request = urllib.request.Request(f"{stack.api_url}{path}", method=method, data=body)
    credentials = stack.auth if auth is None else auth
    if credentials:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def run_setup(stack: StackLayout, say: Say) -> None:
    """The work pool (when missing) and every deployment of prefect.yaml, against the new server."""
    env = stack.worker_env()
    log = stack.logs / "setup.log"

    def run(args: list[str], what: str, check: bool = True) -> int:
        with log.open("ab") as out:
            out.write(f"\n--- {' '.join(args)}\n".encode())
            out.flush()
            try:
                done = subprocess.run(args, cwd=stack.project, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, timeout=SETUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise ServeFailed(f"{what}: quá {SETUP_TIMEOUT:.0f} s; nhật ký {log}") from None
        if check and done.returncode != 0:
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
            raise ServeFailed(f"{what} không thành công (mã {done.returncode}); nhật ký {log}:\n{tail}")
        return done.returncode

    status, _ = api_get(stack, f"/work_pools/{POOL}")
    if status == 404:
        run([*PREFECT, "work-pool", "create", POOL, "--type", "process"], f"Tạo work pool «{POOL}»")
        say(f"Đã tạo work pool «{POOL}» (process).")
    elif status != 200:
        raise ServeFailed(f"Không đọc được work pool «{POOL}» (HTTP {status})")
    started = time.monotonic()
    run([*PREFECT, "--no-prompt", "deploy", "--all"], "prefect deploy --all")
    say(f"Đã triển khai các deployment của {stack.project / 'prefect.yaml'} ({time.monotonic() - started:.0f} s).")
    # Runs whose machine dies stop their heartbeats: the server marks them Crashed (kehoach/stack/automations.py).
    run([sys.executable, "-m", "kehoach.stack.automations"], "Tạo automation phát hiện lượt chạy mất tín hiệu")


# -- supervision ------------------------------------------------------------------------------------


class Supervisor:
    """Starts the stack, keeps the workers running, stops everything on a signal."""

    def __init__(self, stack: StackLayout, say: Say, setup: bool = True) -> None:
        self.stack = stack
        self.say = say
        self.setup = setup
        self.stopping = threading.Event()
        self.server = Child("server", stack.server_command(PREFECT), stack.server_env(), stack.logs / "server.log", stack.project)
        self.workers = [
            Child(f"worker-{n}", stack.worker_command(PREFECT, n), stack.worker_env(), stack.logs / f"worker-{n}.log", stack.project)
            for n in range(1, stack.workers + 1)
        ]
        self.forms = Child("forms", stack.forms_command(sys.executable), stack.forms_env(), stack.logs / "forms.log", stack.project)

    def request_stop(self, signum: int, _frame=None) -> None:
        if self.stopping.is_set():
            return
        self.say(f"Nhận tín hiệu {signal.Signals(signum).name}: đang dừng…")
        self.stopping.set()

    def run(self) -> int:
        try:
            self._start()
            if self.stopping.is_set():
                return 0
            self._announce()
            return self._watch()
        except ServeFailed:
            if self.stopping.is_set():  # interrupted while starting: what failed was stopped by us
                return 0
            raise
        finally:
            self._stop_all()

    def _start(self) -> None:
        stack = self.stack
        self.say(f"Máy chủ Prefect: {stack.ui_url} (cơ sở dữ liệu: {stack.database.shown})")
        self.server.start()
        wait_until_healthy(stack, self.server)
        if self.stopping.is_set():
            return
        if self.setup:
            run_setup(stack, self.say)
        for worker in self.workers:
            if self.stopping.is_set():
                return
            worker.start()
        if not self.stopping.is_set():
            self.forms.start()

    def _announce(self) -> None:
        stack = self.stack
        lines = [
            f"Sẵn sàng. Giao diện: {stack.ui_url}   API: {stack.api_url}",
            f"  Đăng nhập bằng chuỗi người_dùng:mật_khẩu trong {stack.home / AUTH_FILE}"
            if stack.auth_source in ("new", AUTH_FILE)
            else f"  Đăng nhập bằng chuỗi trong biến {stack.auth_source}",
            f"  Worker: {len(self.workers)} × tối đa {stack.worker_limit} lượt chạy, work pool «{POOL}»",
            f"  Biểu mẫu cho các đơn vị: {stack.forms_local_url} (đường dẫn trong thư: KEHOACH_FORMS_URL; khóa ký: "
            + (f"{stack.home / FORMS_SECRET_FILE})" if stack.forms_secret_source in ("new", FORMS_SECRET_FILE) else "biến KEHOACH_FORMS_SECRET)"),
            f"  Dùng prefect/kehoach từ cửa sổ khác: . {stack.env_file}",
            f"  Nhật ký: {stack.logs}",
            "  Ctrl-C để dừng tất cả.",
        ]
        for line in lines:
            self.say(line)

    def _watch(self) -> int:
        while not self.stopping.wait(1.0):
            if not self.server.running():
                raise ServeFailed(f"Máy chủ Prefect đã dừng (mã {self.server.returncode}); nhật ký {self.server.log}:\n{self.server.tail()}")
            for child in (*self.workers, self.forms):
                if not child.running():
                    self._restart(child)
        return 0

    def _restart(self, worker: Child) -> None:
        now = time.monotonic()
        worker.restarts = [t for t in worker.restarts if now - t < RESTART_WINDOW] + [now]
        if len(worker.restarts) > MAX_RESTARTS:
            raise ServeFailed(
                f"{worker.name} dừng {MAX_RESTARTS + 1} lần trong {RESTART_WINDOW / 60:.0f} phút; nhật ký {worker.log}:\n{worker.tail()}"
            )
        code = worker.returncode
        self.say(f"{worker.name} đã dừng (mã {code}); chạy lại. Lượt chạy bị bỏ dở: kehoach doctor")
        worker.start()

    def _stop_all(self) -> None:
        if self.forms.process is not None and not self.forms.stop(WORKER_STOP_GRACE):
            self.say(f"Biểu mẫu không tự dừng sau {WORKER_STOP_GRACE:.0f} s: đã buộc dừng (SIGKILL)")
        for worker in self.workers:
            if worker.process is not None:
                # Prefect's worker may sit on its first SIGTERM while it cancels its polling loops.
                if not worker.stop(WORKER_STOP_GRACE, first=signal.SIGINT):
                    self.say(f"{worker.name} không tự dừng sau {WORKER_STOP_GRACE:.0f} s: đã buộc dừng (SIGKILL)")
        if self.server.process is not None:
            if not self.server.stop(SERVER_STOP_GRACE):
                self.say(f"Máy chủ không tự dừng sau {SERVER_STOP_GRACE:.0f} s: đã buộc dừng (SIGKILL)")
        self.say("Đã dừng.")


def serve(stack: StackLayout, say: Say, setup: bool = True) -> int:
    check_port_free(stack.host, stack.port)
    check_port_free(stack.host, stack.forms_port)
    prepare_home(stack)
    ensure_prefect_database(stack)
    supervisor = Supervisor(stack, say, setup=setup)
    previous = {sig: signal.signal(sig, supervisor.request_stop) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return supervisor.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

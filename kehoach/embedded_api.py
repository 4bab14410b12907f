"""Prefect's API for one `kehoach` command when no server is configured: the embedded default.

Prefect would start a temporary server of its own, give it 20 s (too little for a fresh database's
migrations on a busy two-core machine) and leave it running if the command dies without running its
exit handlers (a segmentation fault in a native library, SIGKILL). Kehoach starts the same server
itself, before Prefect is imported:

- the server process is told by the kernel to die with the command (Linux PR_SET_PDEATHSIG), however
  the command ends, and is stopped by the command when it ends normally;
- it gets the time a fresh database needs (EMBEDDED_START_SECONDS, or the user's own
  PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS), and a failure to start is one line saying what
  to do (EmbeddedServerFailed), with the server's output in KEHOACH_HOME/logs/prefect-api.log.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from kehoach import prefect_defaults
from kehoach.settings import Settings, read_environment

EMBEDDED_START_SECONDS = 180.0
STOP_GRACE_SECONDS = 5.0
LOG_FILE = "prefect-api.log"
_PR_SET_PDEATHSIG = 1


class EmbeddedServerFailed(RuntimeError):
    """Prefect's API for this command did not start; the message says what to do."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextlib.contextmanager
def embedded_api(settings: Settings) -> Iterator[str | None]:
    """Prefect's API for the duration of the block: the configured server's address, or a server of
    this command's own on 127.0.0.1. Yields None when Prefect was imported before (its own
    configuration then stands: a test harness, a Python session)."""
    if settings.has_server:
        prefect_defaults.use_server(settings)
        yield settings.prefect_api_url
        return
    if "prefect" in sys.modules:
        yield None
        return
    prefect_defaults.quiet()
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise EmbeddedServerFailed("không tìm thấy thư viện Prefect trong môi trường Python này: cài lại Kehoach (pip install -e .)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / LOG_FILE
    environment = read_environment()
    environment.update(PREFECT_UI_ENABLED="0", PREFECT__SERVER_EPHEMERAL="1", PREFECT__SERVER_FINAL="1")
    command = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent),
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]
    with log_path.open("ab") as log:
        log.write(f"\n--- kehoach: Prefect API on {url} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode())
        log.flush()
        server = subprocess.Popen(
            command, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509 - before any thread starts
        )
    try:
        _wait_until_healthy(server, url, settings.embedded_start_seconds or EMBEDDED_START_SECONDS, log_path)
        prefect_defaults.use_api(url)
        yield url
    finally:
        _stop(server)


def _wait_until_healthy(server: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise EmbeddedServerFailed(
                f"máy chủ Prefect tạm của lệnh dừng khi khởi động (mã {server.returncode}); xem {log_path}"
            )
        if _healthy(url):
            return
        time.sleep(0.2)
    _stop(server)
    raise EmbeddedServerFailed(
        f"máy chủ Prefect tạm chưa sẵn sàng sau {timeout:.0f} giây (máy đang bận?); chạy lại lệnh, hoặc cho thêm thời gian: "
        f"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=600; nhật ký: {log_path}"
    )


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()

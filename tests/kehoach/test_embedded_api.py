"""The embedded default's Prefect API (kehoach/embedded_api.py): it starts on a busy machine with a
fresh database, a failure to start is one line, and it never outlives the command that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

KEHOACH = str(Path(sys.executable).parent / "kehoach")
ITEMS = ["run", "--items-only", "--as-of", "2023-06-30"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHOACH_", "PREFECT_"))}
    env.update(KEHOACH_HOME=str(tmp_path / "kehoach"), PREFECT_HOME=str(tmp_path / "prefect"), COLUMNS="200", **extra)
    return env


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.update(int(p) for p in text.split())
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_main_job_starts_with_a_fresh_database_while_both_cpus_are_busy(tmp_path):
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        done = subprocess.run([KEHOACH, *ITEMS], env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[9/9]" in done.stdout and "Traceback" not in done.stderr


def test_a_server_that_cannot_start_in_time_is_one_line_with_what_to_do(tmp_path):
    done = subprocess.run(
        [KEHOACH, *ITEMS], env=_env(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0.3"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("kehoach: lỗi: máy chủ Prefect tạm chưa sẵn sàng") and "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in first, done.stderr
    assert (tmp_path / "kehoach" / "logs" / "prefect-api.log").is_file()


def test_nothing_the_main_job_started_outlives_it_when_it_is_killed(tmp_path):
    job = subprocess.Popen([KEHOACH, *ITEMS], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        assert job.stdout is not None
        for line in job.stdout:  # until the first item has run: the server is up and busy
            children |= _children(job.pid)
            if "[1/9]" in line or time.monotonic() > deadline:
                break
        children |= _children(job.pid)
        assert children, "the main job started its Prefect API as a child process"
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in children if _alive(pid)]
        assert not left, f"still running after the main job was killed: {left}"
    finally:
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if job.poll() is None:
            job.kill()

"""Every command, against each broken environment a new user can make, ends with one line in the
user's terms and the right exit code: never a traceback, never a silent success, nothing recorded.

Real processes (the installed `kehoach`), each case in a KEHOACH_HOME of its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from kehoach.cli.boundary import ERROR_LOG, guarded
from plan.events import EventKind, NewEvent, PlanRef
from plan.ledger import Ledger

KEHOACH = str(Path(sys.executable).parent / "kehoach")

# Commands a user runs, with arguments inside the 2023 plan. None of them reaches Prefect when the
# ledger cannot be opened: the command says so first.
COMMANDS = {
    "run": ["run", "--items-only", "--as-of", "2023-06-30"],
    "record": ["record", "7", "preparation", "--set", "result=done", "--on", "2023-05-02"],
    "request": ["request", "8", "--date", "2023-08-01", "--counterpart", "dsq-nhat-ban", "--on", "2023-07-01"],
    "digest": ["digest", "--as-of", "2023-10-16"],
    "report": ["report", "--as-of", "2023-12-31", "--no-send"],
    "outbox": ["outbox"],
    "outbox retry": ["outbox", "retry"],
}


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHOACH_", "PREFECT_"))}
    env.update(KEHOACH_HOME=str(home), PREFECT_HOME=str(home.parent / "prefect"), COLUMNS="200")
    env.update(extra)
    return env


def _kehoach(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KEHOACH, *args], env=env, capture_output=True, text=True, encoding="utf-8", timeout=timeout)


def _ledger_at(home: Path) -> Ledger:
    home.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(f"sqlite:///{home / 'ledger.sqlite'}")
    ledger.append(PlanRef("hanoi-svhtt-ttdn-2023", "h"), [NewEvent(key="k1", item="ngoi-lang-chau-au", kind=EventKind.STAGE_STATUS, stage="preparation", status="in_progress")])
    return ledger


def _corrupt(home: Path) -> dict[str, str]:
    home.mkdir(parents=True)
    (home / "ledger.sqlite").write_bytes(b"junk, not a database\n" * 10)
    return {}


def _schema(version: object) -> Callable[[Path], dict[str, str]]:
    def make(home: Path) -> dict[str, str]:
        ledger = _ledger_at(home)
        with ledger.engine.begin() as conn:
            conn.execute(sa.text("UPDATE kehoach_schema SET version = :v"), {"v": version})
        ledger.dispose()
        return {}

    return make


def _without_outbox(home: Path) -> dict[str, str]:
    ledger = _ledger_at(home)
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE outbox"))
    ledger.dispose()
    return {}


def _unreachable_postgres(home: Path) -> dict[str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {"KEHOACH_DATABASE_URL": f"postgresql+psycopg://kehoach:S3cret@127.0.0.1:{port}/kehoach?connect_timeout=3"}


def _home_under_a_file(home: Path) -> dict[str, str]:
    home.parent.mkdir(parents=True, exist_ok=True)
    (home.parent / "a-file").write_text("not a folder")
    return {"KEHOACH_HOME": str(home.parent / "a-file" / "kehoach")}


BROKEN = {
    "corrupt ledger": _corrupt,
    "newer schema": _schema(99),
    "nonsense schema": _schema("abc"),
    "outbox table dropped": _without_outbox,
    "PostgreSQL unreachable": _unreachable_postgres,
    "home not writable": _home_under_a_file,
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_every_command_in_a_broken_environment_ends_with_one_line_and_exit_1(broken, tmp_path):
    home = tmp_path / "home"
    env = _env(home, **BROKEN[broken](home))
    for name, args in COMMANDS.items():
        if broken == "outbox table dropped" and name in ("run", "record", "request", "report"):
            continue  # they do not touch the outbox (report --no-send included)
        done = _kehoach(args, env)
        shown = done.stdout + done.stderr
        assert "Traceback" not in shown, f"{name} / {broken}:\n{shown}"
        assert done.returncode == 1, f"{name} / {broken}: exit {done.returncode}\n{shown}"
        first = done.stderr.strip().splitlines()[0]
        assert first.startswith("kehoach: lỗi: "), f"{name} / {broken}: {first}"
        assert "S3cret" not in shown, "the database password never shows"
        assert len(done.stderr.strip().splitlines()) <= 3, f"{name} / {broken}: one line and what to do\n{done.stderr}"


def test_a_ledger_in_memory_is_refused_before_anything_is_recorded(tmp_path):
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?cache=shared&uri=true"):
        done = _kehoach(COMMANDS["record"], _env(tmp_path / "home", KEHOACH_DATABASE_URL=url))
        assert done.returncode == 2 and "KEHOACH_DATABASE_URL" in done.stderr and "bộ nhớ" in done.stderr, done.stderr
        assert "sự kiện mới" not in done.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["run", "--items-only", "--as-of", "9999-12-31"], "--as-of"),
        (["digest", "--as-of", "9000-06-01"], "--as-of"),
        (["report", "--as-of", "0001-01-01", "--no-send"], "--as-of"),
        (["record", "7", "preparation", "--set", "result=done", "--on", "0001-01-01"], "--on"),
        (["request", "8", "--date", "2031-01-01", "--on", "2023-07-01"], "--date"),
        (["report", "--period", "1999", "--as-of", "2023-12-31"], "--period"),
    ],
)
def test_dates_and_periods_outside_the_plan_are_refused_and_nothing_is_written(args, option, tmp_path):
    home = tmp_path / "home"
    done = _kehoach(args, _env(home))
    assert done.returncode == 2, done.stdout + done.stderr
    assert option in done.stderr and "326/KH-SVHTT" in done.stderr and "Traceback" not in done.stderr
    assert not (home / "ledger.sqlite").exists(), "refused before the ledger is even opened"


def test_force_accepts_a_date_outside_the_plan(tmp_path):
    done = _kehoach([*COMMANDS["record"][:-1], "2025-02-03", "--force"], _env(tmp_path / "home"))
    assert done.returncode == 0 and "sự kiện mới" in done.stdout, done.stderr


def test_a_header_unsafe_sender_name_is_refused_before_anything_is_queued(tmp_path):
    home = tmp_path / "home"
    done = _kehoach(COMMANDS["digest"], _env(home, KEHOACH_MAIL_FROM_NAME="X\r\nBcc: a@b.example"))
    assert done.returncode == 2 and "KEHOACH_MAIL_FROM_NAME" in done.stderr and "\\r\\n" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2
    assert not (home / "ledger.sqlite").exists()


def test_an_unexpected_failure_is_one_line_and_a_log_file_with_the_traceback(tmp_path, capsys):
    def boom() -> None:
        raise ZeroDivisionError("the unexpected")

    with pytest.raises(SystemExit) as ended:
        guarded(boom, lambda: tmp_path)
    assert ended.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ZeroDivisionError: the unexpected" in err and str(tmp_path / "logs" / ERROR_LOG) in err
    log = (tmp_path / "logs" / ERROR_LOG).read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "boom" in log


def test_an_unreachable_mail_server_is_told_at_once_and_again_until_the_mail_is_out(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    env = _env(tmp_path / "home", KEHOACH_SMTP_HOST="127.0.0.1", KEHOACH_SMTP_PORT=str(port), KEHOACH_SMTP_SECURITY="none")
    started = time.monotonic()
    first = _kehoach(COMMANDS["digest"], env)
    took = time.monotonic() - started
    assert first.returncode == 1 and "Traceback" not in first.stdout + first.stderr, first.stdout + first.stderr
    assert "8 thư mới, 0 thư đã gửi" in first.stdout and "8 thư chưa gửi được" in first.stdout
    assert "từ chối kết nối" in first.stdout and "tự thử lại lúc" in first.stdout and "kehoach outbox retry" in first.stdout
    assert took < 120, f"delivered once, no minutes of retries ({took:.0f} s)"
    again = _kehoach(COMMANDS["digest"], env)
    assert again.returncode == 1 and "0 thư mới" in again.stdout and "8 thư chưa gửi được" in again.stdout, again.stdout

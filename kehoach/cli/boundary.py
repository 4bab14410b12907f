"""The command line's one error boundary: whatever a command fails with reaches the user as one line
in their terms and what to do next, never a traceback.

- bad input (a setting, a plan, an argument, a date): exit 2;
- a broken environment (the ledger's database, the mail server, Prefect's API, a folder that cannot
  be written): exit 1;
- anything unexpected: exit 1, one line, and the traceback written to a log file whose path is given.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from kehoach.exit_codes import EXIT_FAILED, EXIT_INVALID

INTERRUPTED = 130
ERROR_LOG = "kehoach-errors.log"


@dataclass(frozen=True)
class Failure:
    """What the user is told: the message, what to do, and how the command ends."""

    message: str
    advice: str
    exit_code: int

    def lines(self) -> list[str]:
        return [f"kehoach: lỗi: {self.message}"] + ([f"  → {self.advice}"] if self.advice else [])


def explain(exc: BaseException) -> Failure | None:
    """A known failure in the user's terms, or None when it is not one we know."""
    from kehoach.settings import SettingsError
    from notifications.settings import MailSettingsError
    from plan.ledger import LedgerError

    if isinstance(exc, (SettingsError, MailSettingsError)):
        return Failure(str(exc), "sửa biến môi trường đã nêu rồi chạy lại", EXIT_INVALID)
    if isinstance(exc, LedgerError):
        return Failure(f"sổ theo dõi: {exc}", "kiểm tra KEHOACH_HOME hoặc KEHOACH_DATABASE_URL; chưa có gì được ghi thêm", EXIT_FAILED)
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    if module.startswith("sqlalchemy"):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        return Failure(f"cơ sở dữ liệu của sổ theo dõi: {reason}", "sổ có thể bị hỏng hoặc thiếu bảng: dùng bản sao lưu, hoặc một KEHOACH_HOME mới", EXIT_FAILED)
    if isinstance(exc, PermissionError) or (isinstance(exc, OSError) and exc.errno in (13, 28, 30)):
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return Failure(f"không ghi được{where}: {exc.strerror or exc}", "kiểm tra quyền ghi và dung lượng của thư mục KEHOACH_HOME", EXIT_FAILED)
    if name == "MailNotDelivered":
        return Failure(f"thư bị từ chối: {exc}", "sửa địa chỉ hoặc cấu hình thư, rồi chạy kehoach outbox retry --include-permanent", EXIT_FAILED)
    if name == "PlanInvalid":
        return Failure(f"kế hoạch không hợp lệ: {exc}", "chạy kehoach plan check để xem từng lỗi", EXIT_INVALID)
    if name == "EmbeddedServerFailed":
        return Failure(str(exc), "", EXIT_FAILED)
    return None


def guarded(command: Callable[[], object], home: Callable[[], Path | None]) -> None:
    """Run the command line (click's standalone mode off); known failures become one line, the rest
    one line and a log file. Python's own last-resort logging is silenced: a command says what
    happened in its own words (library warnings would otherwise reach the terminal)."""
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        command()
    except click.exceptions.Exit as ended:
        sys.exit(ended.exit_code)
    except SystemExit:
        raise
    except click.ClickException as exc:
        _usage(exc)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.Abort):
        click.echo("kehoach: đã dừng theo yêu cầu (Ctrl-C); những gì đã ghi vào sổ vẫn còn nguyên.", err=True)
        sys.exit(INTERRUPTED)
    except BrokenPipeError:  # `kehoach plan show --json | head`
        sys.stderr.close()
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - the boundary: nothing escapes as a traceback
        failure = explain(exc) or _unexpected(exc, home())
        for line in failure.lines():
            click.echo(line, err=True)
        sys.exit(failure.exit_code)


def _usage(exc: click.ClickException) -> None:
    """A mistake on the command line, in Vietnamese (click's own words are English)."""
    from kehoach.cli.errors import UserError

    if isinstance(exc, UserError):
        exc.show()
        return
    hint = ""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        hint = f"  → xem: {exc.ctx.command_path} --help"
    if isinstance(exc, click.NoSuchOption):
        message = f"không có tùy chọn {exc.option_name}" + (f" (có phải {', '.join(sorted(exc.possibilities))}?)" if exc.possibilities else "")
    elif isinstance(exc, click.MissingParameter):
        message = f"thiếu {exc.param.human_readable_name if exc.param is not None else 'một giá trị'}"
    elif isinstance(exc, click.BadParameter):
        name = exc.param_hint or (exc.param.opts[0] if exc.param is not None and exc.param.opts else "")
        if exc.param is not None and isinstance(exc.param.type, click.Choice):
            message = f"{name}: giá trị không được phép — cần một trong: {', '.join(map(str, exc.param.type.choices))}"
        elif isinstance(exc.param.type if exc.param is not None else None, (click.types.IntParamType, click.types.IntRange)):
            message = f"{name}: cần một số nguyên"
        else:
            message = f"{name}: {exc.message}"
    elif isinstance(exc, click.UsageError) and "No such command" in exc.message:
        message = f"không có lệnh {exc.message.split(chr(39))[1] if chr(39) in exc.message else ''}".strip()
    elif isinstance(exc, click.UsageError) and "unexpected extra argument" in exc.message.lower():
        message = f"thừa đối số: {exc.message.split('(')[-1].rstrip(')')}"
    else:
        message = exc.format_message()
    click.echo(f"kehoach: lỗi: {message}", err=True)
    if hint:
        click.echo(hint, err=True)


def _unexpected(exc: BaseException, home: Path | None) -> Failure:
    text = "".join(traceback.format_exception(exc))
    log = _write_log(text, home)
    where = f"chi tiết trong {log}" if log else "không ghi được tệp nhật ký"
    return Failure(
        f"lỗi không lường trước ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else '—'})",
        f"{where}; gửi tệp đó cho người quản trị Kehoach",
        EXIT_FAILED,
    )


def _write_log(text: str, home: Path | None) -> Path | None:
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    for folder in ([home / "logs"] if home else []) + [Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / ERROR_LOG
            with path.open("a", encoding="utf-8") as log:
                log.write(f"--- {stamp} {' '.join(sys.argv)}\n{text}\n")
            return path
        except OSError:
            continue
    return None

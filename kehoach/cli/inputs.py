"""What commands take from the user: the settings, the plan file, dates; and the terminal they write to."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kehoach.cli.errors import EXIT_INVALID, UserError

if TYPE_CHECKING:
    from kehoach.settings import Settings
from plan.load import LoadResult, load_plan
from plan.model import Plan

PLAN_ARG = click.argument("plan_file", metavar="[PLAN]", required=False, type=click.Path(path_type=Path))
FORCE_OPTION = click.option("--force", is_flag=True, help="Nhận cả ngày nằm ngoài thời gian của kế hoạch (từ năm trước đến năm sau năm kế hoạch).")
PLAN_OPTION = click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Tệp kế hoạch (mặc định: $KEHOACH_PLAN hoặc kế hoạch 2023).")


def settings() -> Settings:
    """The settings, read from the environment once per command."""
    from kehoach.settings import Settings, SettingsError
    from notifications.settings import MailSettingsError

    context = click.get_current_context()
    found = context.find_object(Settings)
    if found is None:
        try:
            found = Settings()
        except (SettingsError, MailSettingsError) as exc:
            raise UserError(str(exc)) from None
        context.find_root().obj = found
    return found


def date_option(ctx: Any, param: Any, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise click.BadParameter(f"«{value}» không phải một ngày có thật") from None
        raise click.BadParameter(f"«{value}» không phải ngày dạng NNNN-TT-NN (ví dụ 2023-12-31)") from None


def person_option(ctx: Any, param: Any, value: str | None) -> str | None:
    """A person's name (--by): one line of text."""
    if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise click.BadParameter("tên có ký tự xuống dòng hoặc ký tự điều khiển — cần: một dòng chữ")
    return value.strip() if value else value


def within_plan(plan: Plan, day: dt.date | None, option: str, force: bool) -> dt.date:
    """The date given (or today's, when none was) if a command may write or send for it; else the
    reason, exit 2. --force widens what is accepted, within reason."""
    from flows.resources import today
    from plan.horizon import date_problem

    given = day is not None
    day = day if day is not None else today()
    problem = date_problem(plan, day, option if given else f"hôm nay (không có {option})", forced=force)
    if problem:
        raise UserError(problem)
    return day


def plan_path(plan_file: Path | None) -> Path:
    if plan_file is not None:
        return plan_file
    context = click.get_current_context(silent=True)
    if context is not None and context.find_root().obj is not None:
        return settings().plan_path
    # The plan commands need no more of the settings than this (kehoach/plan_choice.py).
    from kehoach.plan_choice import plan_from_environment

    return plan_from_environment()


def load(plan_file: Path | None) -> LoadResult:
    path = plan_path(plan_file)
    return load_plan(path, display_name=_display_path(str(path)))


def valid_plan(plan_file: Path | None, *, quiet: bool = False) -> Plan:
    """The plan, or its problems printed and exit 2."""
    result = load(plan_file)
    if not result.ok or result.plan is None:
        print_problems(result)
        click.echo(f"Kế hoạch không hợp lệ: {count(result)}.", err=True)
        sys.exit(EXIT_INVALID)
    if not quiet:
        print_problems(result)
    return result.plan


def print_problems(result: LoadResult) -> None:
    for problem in result.problems:
        click.echo(problem.render(), err=True)


def count(result: LoadResult) -> str:
    return f"{len(result.errors)} lỗi, {len(result.warnings)} cảnh báo"


def _display_path(source: str) -> str:
    """Paths under the current directory are shown relative, as compilers do."""
    try:
        relative = os.path.relpath(source)
    except ValueError:
        return source
    return relative if not relative.startswith("..") else source


def console() -> Any:
    from rich.console import Console

    # Piped into a file or a mail, a table wider than rich's 80-column default reads better than
    # one squeezed to it; a terminal (or $COLUMNS, which rich reads itself) decides for itself.
    width = None if sys.stdout.isatty() or settings().terminal_columns else 140
    return Console(width=width)


def open_ledger(settings: Settings) -> Any:
    """The ledger of these settings, for this command and the flows it runs in this process (a
    LedgerError, told by the error boundary, when it cannot be opened)."""
    from flows import resources

    resources.use(settings, interactive=True)
    return resources.ledger()

"""The `kehoach` command line.

Plan commands (check, show, schema, calendar) import only `plan/` and stay fast; commands that run
flows import Prefect when they are called, never at start-up.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from plan.load import LoadResult, default_plan_path, load_plan
from plan.model import Plan

EXIT_INVALID = 2

PLAN_ARG = click.argument("plan_file", metavar="[PLAN]", required=False, type=click.Path(path_type=Path))


class UserError(click.ClickException):
    """Bad input from the user: a message in their terms and exit code 2, no traceback."""

    exit_code = EXIT_INVALID

    def show(self, file=None) -> None:
        click.echo(f"kehoach: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kehoach")
def cli() -> None:
    """Kehoach — kế hoạch như mã nguồn: kiểm tra, xem và chạy một kế hoạch công tác."""


@cli.group("plan")
def plan_group() -> None:
    """Kiểm tra và xem tệp kế hoạch (mặc định: kế hoạch 326/KH-SVHTT năm 2023, hoặc $KEHOACH_PLAN)."""


@plan_group.command("check")
@PLAN_ARG
def plan_check(plan_file: Path | None) -> None:
    """Kiểm tra tệp kế hoạch: cú pháp YAML, mẫu (schema) và các quy tắc; thoát 0 nếu hợp lệ, 2 nếu không."""
    result = _load(plan_file)
    _print_problems(result)
    if not result.ok:
        click.echo(f"Kế hoạch không hợp lệ: {_count(result)}.", err=True)
        sys.exit(EXIT_INVALID)
    plan = result.plan
    click.echo(
        f"Hợp lệ: {plan.document.type} số {plan.document.number_symbol} — {len(plan.items)} nội dung, "
        f"{len(plan.units)} đơn vị, {len(plan.counterparts)} đối tác; {_count(result)}."
    )


@plan_group.command("show")
@PLAN_ARG
@click.option("--json", "as_json", is_flag=True, help="In kế hoạch đã chuẩn hóa dạng JSON (cho các script).")
def plan_show(plan_file: Path | None, as_json: bool) -> None:
    """Bảng các nội dung: đơn vị chủ trì, phối hợp, thời gian, đối tác."""
    plan = _valid_plan(plan_file, quiet=as_json)
    if as_json:
        click.echo(plan.model_dump_json(indent=2))
        return
    from flows.views import plan_table

    _console().print(plan_table(plan))


@plan_group.command("schema")
def plan_schema() -> None:
    """In JSON Schema của tệp kế hoạch (để trình soạn thảo gợi ý và kiểm tra)."""
    from plan.schema import schema_json

    click.echo(schema_json(), nl=False)


@plan_group.command("calendar")
@PLAN_ARG
@click.option("--unit", "unit", metavar="U", help="Chỉ các nội dung mà đơn vị U (mã, ví dụ van-phong) tham gia.")
@click.option("--ics", "ics_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path), help="Ghi thêm tệp iCalendar (.ics) để nhập vào Outlook hoặc Google Calendar.")
def plan_calendar(plan_file: Path | None, unit: str | None, ics_file: Path | None) -> None:
    """Hạn của từng bước (chuẩn bị, phối hợp, triển khai, báo cáo), tính theo ngày làm việc."""
    from plan.schedule import plan_deadlines

    plan = _valid_plan(plan_file)
    if unit is not None and unit not in {u.id for u in plan.units}:
        raise UserError(f"không có đơn vị «{unit}» trong kế hoạch — cần một mã trong: {', '.join(u.id for u in plan.units)}")
    deadlines = plan_deadlines(plan, unit=unit)
    from flows.views import calendar_table

    _console().print(calendar_table(plan, deadlines, unit=unit))
    if ics_file is not None:
        from plan.ics import deadlines_to_ics

        try:
            ics_file.write_bytes(deadlines_to_ics(plan, deadlines, unit=unit))
        except OSError as exc:
            raise UserError(f"không ghi được {ics_file}: {exc.strerror or exc}") from None
        click.echo(f"Đã ghi {len(deadlines)} hạn vào {ics_file}")


# --- helpers ---------------------------------------------------------------------------------


def _load(plan_file: Path | None) -> LoadResult:
    path = plan_file if plan_file is not None else default_plan_path()
    return load_plan(path, display_name=_display_path(str(path)))


def _valid_plan(plan_file: Path | None, *, quiet: bool = False) -> Plan:
    result = _load(plan_file)
    if not result.ok:
        _print_problems(result)
        click.echo(f"Kế hoạch không hợp lệ: {_count(result)}.", err=True)
        sys.exit(EXIT_INVALID)
    if not quiet:
        _print_problems(result)
    return result.plan


def _print_problems(result: LoadResult) -> None:
    for problem in result.problems:
        click.echo(problem.render(), err=True)


def _count(result: LoadResult) -> str:
    return f"{len(result.errors)} lỗi, {len(result.warnings)} cảnh báo"


def _display_path(source: str) -> str:
    """Paths under the current directory are shown relative, as compilers do."""
    try:
        relative = os.path.relpath(source)
    except ValueError:
        return source
    return relative if not relative.startswith("..") else source


def _console():
    from rich.console import Console

    # Piped into a file or a mail, a table wider than rich's 80-column default reads better than
    # one squeezed to it; a terminal (or $COLUMNS) decides for itself.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 140
    return Console(width=width)


def main() -> None:
    try:
        cli.main(prog_name="kehoach", standalone_mode=True)
    except BrokenPipeError:  # `kehoach plan show --json | head`
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    main()

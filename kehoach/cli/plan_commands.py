"""`kehoach plan check|show|schema|calendar`: the plan file, checked and shown (no Prefect)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kehoach.cli import inputs
from kehoach.cli.errors import EXIT_INVALID, UserError


@click.group("plan")
def plan_group() -> None:
    """Kiểm tra và xem tệp kế hoạch (mặc định: kế hoạch 326/KH-SVHTT năm 2023, hoặc $KEHOACH_PLAN)."""


@plan_group.command("check")
@inputs.PLAN_ARG
def plan_check(plan_file: Path | None) -> None:
    """Kiểm tra tệp kế hoạch: cú pháp YAML, mẫu (schema) và các quy tắc; thoát 0 nếu hợp lệ, 2 nếu không."""
    result = inputs.load(plan_file)
    inputs.print_problems(result)
    if not result.ok or result.plan is None:
        click.echo(f"Kế hoạch không hợp lệ: {inputs.count(result)}.", err=True)
        sys.exit(EXIT_INVALID)
    plan = result.plan
    click.echo(
        f"Hợp lệ: {plan.document.type} số {plan.document.number_symbol} — {len(plan.items)} nội dung, "
        f"{len(plan.units)} đơn vị, {len(plan.counterparts)} đối tác; {inputs.count(result)}."
    )


@plan_group.command("show")
@inputs.PLAN_ARG
@click.option("--json", "as_json", is_flag=True, help="In kế hoạch đã chuẩn hóa dạng JSON (cho các script).")
def plan_show(plan_file: Path | None, as_json: bool) -> None:
    """Bảng các nội dung: đơn vị chủ trì, phối hợp, thời gian, đối tác."""
    plan = inputs.valid_plan(plan_file, quiet=as_json)
    if as_json:
        click.echo(plan.model_dump_json(indent=2))
        return
    from kehoach.cli.tables import plan_table

    inputs.console().print(plan_table(plan))


@plan_group.command("schema")
def plan_schema() -> None:
    """In JSON Schema của tệp kế hoạch (để trình soạn thảo gợi ý và kiểm tra)."""
    from plan.schema import schema_json

    click.echo(schema_json(), nl=False)


@plan_group.command("calendar")
@inputs.PLAN_ARG
@click.option("--unit", "unit", metavar="U", help="Chỉ các nội dung mà đơn vị U (mã, ví dụ van-phong) tham gia.")
@click.option("--ics", "ics_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path), help="Ghi thêm tệp iCalendar (.ics) để nhập vào Outlook hoặc Google Calendar.")
def plan_calendar(plan_file: Path | None, unit: str | None, ics_file: Path | None) -> None:
    """Hạn của từng bước (chuẩn bị, phối hợp, triển khai, báo cáo), tính theo ngày làm việc."""
    from kehoach.cli.tables import calendar_table
    from plan.schedule import plan_deadlines

    plan = inputs.valid_plan(plan_file)
    if unit is not None and unit not in {u.id for u in plan.units}:
        raise UserError(f"không có đơn vị «{unit}» trong kế hoạch — cần một mã trong: {', '.join(u.id for u in plan.units)}")
    deadlines = plan_deadlines(plan, unit=unit)
    inputs.console().print(calendar_table(plan, deadlines, unit=unit))
    if ics_file is not None:
        from plan.ics import deadlines_to_ics

        try:
            ics_file.write_bytes(deadlines_to_ics(plan, deadlines, unit=unit))
        except OSError as exc:
            raise UserError(f"không ghi được {ics_file}: {exc.strerror or exc}") from None
        click.echo(f"Đã ghi {len(deadlines)} hạn vào {ics_file}")

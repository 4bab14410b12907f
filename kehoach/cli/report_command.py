"""`kehoach report`: the periodic report upward, written and mailed through the outbox."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from kehoach.cli import inputs
from kehoach.cli.errors import EXIT_FAILED, EXIT_OK, UserError
from kehoach.embedded_api import embedded_api
from kehoach.settings import Settings


@click.command("report")
@click.option("--period", metavar="KỲ", help="2023-H1 (6 tháng), 2023-9M (9 tháng), 2023 (năm), 2023-Q3 (quý), 2023-05 (tháng); mặc định kỳ gần nhất đã chốt số liệu.")
@click.option("--as-of", "as_of", callback=inputs.date_option, metavar="DATE", help="Ngày báo cáo (mặc định: hôm nay, giờ Hà Nội).")
@click.option("--number", metavar="SỐ", help="Số văn bản (mặc định để trống cho văn thư điền).")
@click.option("--no-send", is_flag=True, help="Chỉ lập tệp, không gửi thư cho nơi nhận.")
@inputs.PLAN_OPTION
@inputs.FORCE_OPTION
def report_command(period, as_of, number, no_send, plan_file, force) -> None:
    """Lập báo cáo định kỳ gửi cấp trên (PDF, DOCX, XLSX, biểu đồ) và gửi qua hộp thư đi."""
    from plan.calendar import ReportingPeriod
    from plan.horizon import period_problem

    settings = inputs.settings()
    plan = inputs.valid_plan(plan_file, quiet=True)
    if period is not None:
        try:
            problem = period_problem(plan, ReportingPeriod.parse(period))
        except ValueError as exc:
            raise UserError(f"--period: {exc}") from None
        if problem:
            raise UserError(f"--period: {problem}")
    as_of = inputs.within_plan(plan, as_of, "--as-of", force)
    sys.exit(run_report(settings, inputs.plan_path(plan_file), period, as_of, number, not no_send, inputs.console()))


def run_report(
    settings: Settings, path: Path, period: str | None, as_of: dt.date | None, number: str | None, send: bool, console: Any
) -> int:
    """The periodic report: files written, mail queued; says where they are."""
    from flows import resources

    inputs.open_ledger(settings)  # a ledger that cannot be opened is told before any run starts
    as_of = as_of or resources.today()
    from flows.delivery import MailNotDelivered

    try:
        if settings.has_server:  # a flow run on the team's server, visible in its UI
            with embedded_api(settings):
                from flows.report import upward_report

                run = upward_report(period=period, as_of=as_of, plan_path=str(path.resolve()), number=number, send=send)
        else:  # the same steps in this process: no Prefect start-up for a one-off command
            from flows.report_job import make_report

            run = make_report(period=period, as_of=as_of, plan_path=str(path.resolve()), number=number, send=send)
    except MailNotDelivered as exc:
        console.print(f"[red]Báo cáo đã lập nhưng thư bị từ chối[/red]: {exc}", highlight=False)
        return EXIT_FAILED
    console.print(f"Báo cáo kỳ {run.period} ({run.events_in_period} sự kiện trong kỳ):", highlight=False)
    for kind, file in (("PDF", run.files.pdf), ("DOCX", run.files.docx), ("XLSX", run.files.xlsx)):
        console.print(f"  {kind}: {file}", highlight=False)
    if send:
        console.print(f"  Đã gửi {len(run.sent)} thư cho nơi nhận (xem `kehoach outbox`).", highlight=False)
        from kehoach.cli.mail_commands import undelivered

        return undelivered(console)
    return EXIT_OK

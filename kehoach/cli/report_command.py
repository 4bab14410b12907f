"""`kehoach report`: a draft of the periodic report upward, told to the compiling unit; `kehoach
report approve`: the approved report, with its number, sent to the recipients through the outbox."""

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

# How the approval's fields are known on the command line.
_OPTIONS = {"period": "--period", "number": "--number", "signed": "--signed", "comments": "--comments"}


@click.group("report", invoke_without_command=True)
@click.option("--period", metavar="KỲ", help="2023-H1 (6 tháng), 2023-9M (9 tháng), 2023 (năm), 2023-Q3 (quý), 2023-05 (tháng); mặc định kỳ gần nhất đã chốt số liệu.")
@click.option("--as-of", "as_of", callback=inputs.date_option, metavar="DATE", help="Ngày báo cáo (mặc định: hôm nay, giờ Hà Nội).")
@click.option("--number", metavar="SỐ", help="Số văn bản in trên dự thảo (mặc định để trống cho văn thư điền).")
@click.option("--no-send", is_flag=True, help="Chỉ lập tệp dự thảo, không gửi thư nào.")
@inputs.PLAN_OPTION
@inputs.FORCE_OPTION
@click.pass_context
def report_command(ctx, period, as_of, number, no_send, plan_file, force) -> None:
    """Lập dự thảo báo cáo định kỳ gửi cấp trên (PDF, DOCX, XLSX) và báo Văn phòng; gửi nơi nhận sau khi duyệt (report approve)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = inputs.settings()
    plan = inputs.valid_plan(plan_file, quiet=True)
    _check_period(plan, period)
    as_of = inputs.within_plan(plan, as_of, "--as-of", force)
    sys.exit(run_report(settings, inputs.plan_path(plan_file), period, as_of, number, not no_send, inputs.console()))


@report_command.command("approve")
@click.option("--period", required=True, metavar="KỲ", help="Kỳ báo cáo được duyệt, ví dụ 2023 (năm) hoặc 2023-H1.")
@click.option("--number", required=True, metavar="SỐ", help="Số văn bản do văn thư cấp, ví dụ 125 (hoặc 125/BC-SVHTT).")
@click.option("--signed", type=click.Path(path_type=Path), metavar="TỆP.pdf", help="Bản báo cáo đã ký (PDF); mặc định gửi dự thảo đã duyệt, điền số và ngày ký.")
@click.option("--signed-on", "signed_on", callback=inputs.date_option, metavar="DATE", help="Ngày ký (mặc định: hôm nay).")
@click.option("--signer", callback=inputs.person_option, metavar="TÊN", help="Người ký (mặc định: người ký ghi trong kế hoạch).")
@click.option("--by", "by", callback=inputs.person_option, help="Người duyệt (mặc định: $KEHOACH_USER hoặc tên đăng nhập).")
@click.option("--replace", is_flag=True, help="Đính chính: thay bản đã duyệt (số khác) và gửi lại cho nơi nhận.")
@inputs.PLAN_OPTION
@inputs.FORCE_OPTION
def approve_command(period, number, signed, signed_on, signer, by, replace, plan_file, force) -> None:
    """Duyệt dự thảo mới nhất của kỳ (số văn bản, bản đã ký) rồi gửi báo cáo cho nơi nhận qua hộp thư đi."""
    settings = inputs.settings()
    plan = inputs.valid_plan(plan_file, quiet=True)
    _check_period(plan, period)
    if signed_on is not None:
        inputs.within_plan(plan, signed_on, "--signed-on", force)
    sys.exit(run_approval(settings, inputs.plan_path(plan_file), period, number, signed, signed_on, signer, by or settings.actor, replace, inputs.console()))


def _check_period(plan: Any, period: str | None) -> None:
    from plan.calendar import ReportingPeriod
    from plan.horizon import period_problem

    if period is None:
        return
    try:
        problem = period_problem(plan, ReportingPeriod.parse(period))
    except ValueError as exc:
        raise UserError(f"--period: {exc}") from None
    if problem:
        raise UserError(f"--period: {problem}")


def run_report(
    settings: Settings, path: Path, period: str | None, as_of: dt.date | None, number: str | None, send: bool, console: Any
) -> int:
    """A draft of the periodic report: files written, draft recorded, the compiling unit told; says
    where the files are and what to do next."""
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
        console.print(f"[red]Dự thảo đã lập nhưng thư báo bị từ chối[/red]: {exc}", highlight=False)
        return EXIT_FAILED
    draft = run.draft
    made = "(lập trước đó, vẫn đúng)" if run.reused else "đã lập"
    version = f" lần {draft.version}" if draft is not None else ""
    console.print(f"Dự thảo báo cáo kỳ {run.period}{version} {made} ({run.events_in_period} sự kiện trong kỳ):", highlight=False)
    for kind, file in (("PDF", run.files.pdf), ("DOCX", run.files.docx), ("XLSX", run.files.xlsx)):
        console.print(f"  {kind}: {file}", highlight=False)
    if run.files.placeholders:
        console.print(f"  Còn {len(run.files.placeholders)} chỗ cần bổ sung trong bản DOCX:", highlight=False)
        for what in run.files.placeholders:
            console.print(f"    - {what}", highlight=False)
    console.print("Báo cáo CHƯA gửi cho nơi nhận. Tiếp theo: rà soát, bổ sung, trình Giám đốc ký, lấy số tại văn thư, rồi duyệt:", highlight=False)
    console.print(f"  {run.approve_command}", highlight=False)
    if send:
        console.print(f"  Đã báo Văn phòng: {len(run.sent)} thư (xem `kehoach outbox`).", highlight=False)
        from kehoach.cli.mail_commands import undelivered

        return undelivered(console)
    return EXIT_OK


def run_approval(
    settings: Settings, path: Path, period: str, number: str, signed: Path | None, signed_on: dt.date | None,
    signer: str | None, by: str, replace: bool, console: Any,
) -> int:
    """Approve and send; then hand the approval to a run of the team's server waiting for it."""
    from flows.delivery import MailNotDelivered
    from flows.report_job import approve_report
    from plan.report_approval import ApprovalRefused

    inputs.open_ledger(settings)
    try:
        done = approve_report(
            period, number, signed=signed, signed_on=signed_on, signer=signer, by=by, replace=replace, plan_path=str(path.resolve())
        )
    except ApprovalRefused as exc:
        raise UserError("báo cáo không được duyệt: " + exc.render(_OPTIONS.get(exc.field, exc.field))) from None
    except MailNotDelivered as exc:
        console.print(f"[red]Báo cáo đã duyệt nhưng thư bị từ chối[/red]: {exc}", highlight=False)
        return EXIT_FAILED
    approval = done.approval
    if done.repeated:
        console.print(f"Báo cáo kỳ {period} đã được duyệt trước đó: số {approval.number_symbol}, ký ngày {approval.signed_on:%d/%m/%Y}; không gửi lại.", highlight=False)
    else:
        console.print(f"Đã duyệt báo cáo kỳ {period}: số {approval.number_symbol}, ký ngày {approval.signed_on:%d/%m/%Y} (dự thảo lần {approval.draft_version}).", highlight=False)
    for file in done.attachments:
        console.print(f"  Gửi kèm: {file}", highlight=False)
    console.print(f"  {len(done.queued)} thư mới cho nơi nhận, {len(done.sent)} thư đã gửi (xem `kehoach outbox`).", highlight=False)
    if settings.has_server:
        _resume(settings, path, period, approval, console)
    from kehoach.cli.mail_commands import undelivered

    return undelivered(console)


def _resume(settings: Settings, path: Path, period: str, approval: Any, console: Any) -> None:
    """A deployed upward-report run waiting for this approval takes it (and finds it recorded)."""
    from flows.resume import resume_waiting_reports
    from plan.load import load_plan

    plan = load_plan(path).plan
    if plan is None:
        return
    given = {
        "decision": "approve", "number": approval.number, "signed_on": approval.signed_on.isoformat(), "signer": approval.signer,
        "by": approval.decided_by, "replace": False,
    }
    with embedded_api(settings):
        resumed, failed = resume_waiting_reports(plan, period, given)
    for run_id in resumed:
        console.print(f"Đã tiếp tục lượt chạy đang chờ duyệt: {run_id}", highlight=False)
    for reason in failed:
        console.print(f"Không tiếp tục được lượt chạy {reason} (báo cáo đã được duyệt và gửi).", highlight=False)

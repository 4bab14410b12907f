"""The upward report's steps, without Prefect: aggregate the ledger for a period, write a draft and
record it, tell the compiling unit; once approved, send it to the recipients. The `upward-report`
flow (flows/report.py) runs the steps as tasks; `kehoach report` with no server configured runs them
here, in its own process, without Prefect's start-up.

Nothing goes to the recipients from a draft: `approve_report` records an approval, and only from
that record are the recipients' mails made (notifications.report_mail.approved_report_mails).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace as replaced
from pathlib import Path
from typing import Any

from flows import resources
from flows.delivery import Delivery, deliver_once, queue_mail
from notifications.outbox import Outbox
from notifications.report_mail import approved_report_mails, draft_notice
from plan.calendar import PeriodKind, ReportingPeriod, latest_closed_period
from plan.model import Plan
from plan.report_approval import ApprovalRefused, decide, parse_number
from plan.report_book import Draft, ReportBook, Review, StoredFile
from reports.data import ReportData
from reports.document import ReportFiles


@dataclass(frozen=True)
class ReportRun:
    """What a report run made: the period, the draft's files and record, the mails sent."""

    period: str
    files: ReportFiles
    sent: tuple[str, ...]
    events_in_period: int
    draft: Draft | None = None
    reused: bool = False  # the latest draft still stood (same date, nothing new in the ledger): not made again

    @property
    def approve_command(self) -> str:
        return approve_command(self.period)


@dataclass(frozen=True)
class ApprovalRun:
    """What an approval did: the approval in force, whether it was recorded before (a repeat), the
    files sent, the mails newly queued and those sent."""

    approval: Review
    repeated: bool
    attachments: tuple[Path, ...]
    queued: tuple[str, ...]
    sent: tuple[str, ...]


def approve_command(period: str) -> str:
    return f"kehoach report approve --period {period} --number SỐ [--signed TỆP-ĐÃ-KÝ.pdf]"


def the_period(plan: Plan, period: str | None, as_of: dt.date) -> ReportingPeriod:
    """The period asked for, else the latest whose data window has closed (what a schedule reports)."""
    return ReportingPeriod.parse(period) if period else latest_closed_period([PeriodKind(k) for k in plan.reporting.periods], as_of)


def aggregate_step(plan_path: str, period_id: str, as_of: dt.date) -> ReportData:
    from reports.aggregate import aggregate

    plan, _ = resources.load(plan_path)
    return aggregate(plan, resources.ledger(), ReportingPeriod.parse(period_id), as_of)


def render_step(data: ReportData, out_dir: str, number: str | None) -> ReportFiles:
    from reports.document import render_report

    return render_report(data, Path(out_dir), number=number)


def out_dir(period: ReportingPeriod) -> Path:
    return resources.settings().reports_dir / period.id


def _no_artifacts(plan: Plan, period: ReportingPeriod, as_of: dt.date, data: ReportData, files: ReportFiles) -> None:
    return None


@dataclass(frozen=True)
class Steps:
    """How each step runs: plain calls in a command's own process; the flow gives its tasks, its
    deliver task and its artifacts."""

    aggregate: Callable[[str, str, dt.date], ReportData] = aggregate_step
    render: Callable[[ReportData, str, str | None], ReportFiles] = render_step
    deliver: Callable[[Any], Delivery] = deliver_once
    publish: Callable[[Plan, ReportingPeriod, dt.date, ReportData, ReportFiles], None] = _no_artifacts


def book() -> ReportBook:
    return ReportBook(resources.ledger())


# -- the draft -------------------------------------------------------------------------------------


def make_report(
    period: str | None = None, as_of: dt.date | None = None, plan_path: str | None = None, number: str | None = None,
    send: bool = True, logger: Any = None, steps: Steps = Steps(), *, by: str | None = None, new_version: bool = False,
) -> ReportRun:
    """A draft of the report: written, recorded, and the compiling unit told (unless `send` is
    off). The latest draft is kept when it still stands (same date, no event since, files as they
    were) unless `new_version` is asked (a draft returned with comments)."""
    as_of = as_of or resources.today()
    path = str(resources.plan_path(plan_path))
    plan, _ = resources.load(path)
    chosen = the_period(plan, period, as_of)
    data = steps.aggregate(path, chosen.id, as_of)
    reports = book()
    latest = reports.latest_draft(plan.id, chosen.id)
    if latest is not None and not new_version and number is None and _still_stands(reports, latest, as_of):
        files = files_of(latest)
        draft, reused = latest, True
    else:
        version = (latest.version if latest else 0) + 1
        files = steps.render(data, str(out_dir(chosen) / f"du-thao-{version}"), number)
        placeholders = files.placeholders or _placeholders_in_pdf(files.pdf)
        files = replaced(files, placeholders=placeholders)
        stored = (StoredFile.of(files.pdf, "pdf"), StoredFile.of(files.docx, "docx"), StoredFile.of(files.xlsx, "xlsx"))
        draft = reports.record_draft(plan.id, chosen.id, as_of, stored, placeholders, by or resources.settings().actor)
        reused = False
    steps.publish(plan, chosen, as_of, data, files)
    sent: tuple[str, ...] = ()
    if send:
        queue_mail(plan.id, draft_notice(plan, chosen, draft, files.pdf, files.docx, approve_command(chosen.id)))
        sent = steps.deliver(logger).sent
    return ReportRun(period=chosen.id, files=files, sent=sent, events_in_period=data.events_in_period, draft=draft, reused=reused)


def _still_stands(reports: ReportBook, draft: Draft, as_of: dt.date) -> bool:
    return draft.as_of == as_of and len(draft.files) == 3 and all(f.unchanged() for f in draft.files) and reports.events_since(draft) == 0


def files_of(draft: Draft) -> ReportFiles:
    paths = {f.kind: Path(f.path) for f in draft.files}
    return ReportFiles(pdf=paths["pdf"], docx=paths["docx"], xlsx=paths["xlsx"], placeholders=draft.placeholders)


def _placeholders_in_pdf(pdf: Path) -> tuple[str, ...]:
    from reports.pdf_text import pdf_text
    from reports.placeholders import placeholders_in

    return tuple(placeholders_in(pdf_text(pdf)))


def return_draft(plan_path: str | None, period: str, by: str, comments: str) -> Review:
    """The latest draft sent back with comments (the next draft is made by the caller)."""
    plan, _ = resources.load(str(resources.plan_path(plan_path)))
    chosen = ReportingPeriod.parse(period)
    reports = book()
    draft = reports.latest_draft(plan.id, chosen.id)
    if draft is None:
        raise ApprovalRefused("period", f"chưa có dự thảo báo cáo {chosen.label}", "lập dự thảo trước (kehoach report --period …)")
    if not (comments or "").strip():
        raise ApprovalRefused("comments", "trả lại dự thảo mà không có ý kiến", "ý kiến cần sửa của người duyệt")
    return reports.record_return(draft, by, comments.strip())


# -- the approval ----------------------------------------------------------------------------------


def approve_report(
    period: str,
    number: str | None,
    *,
    signed: str | Path | None = None,
    signed_on: dt.date | None = None,
    signer: str | None = None,
    by: str | None = None,
    replace: bool = False,
    plan_path: str | None = None,
    logger: Any = None,
    steps: Steps = Steps(),
) -> ApprovalRun:
    """Approve the latest draft of the period and send the approved report to the recipients.

    Refuses (ApprovalRefused) without a draft, with placeholders left, with a number that is not
    one, a signed file that is not a readable PDF, or another number already approved (unless
    `replace`). The same approval given again records and sends nothing new."""
    from reports.content import number_symbol

    path = str(resources.plan_path(plan_path))
    plan, _ = resources.load(path)
    try:
        chosen = ReportingPeriod.parse(period)
    except ValueError as exc:
        raise ApprovalRefused("period", str(exc)) from None
    suffix = number_symbol(plan, "10")[2:]  # "/BC-SVHTT"
    parsed = parse_number(number, suffix)
    reports = book()
    draft = reports.latest_draft(plan.id, chosen.id)
    in_force = reports.approval(plan.id, chosen.id)
    signed_path = Path(signed).expanduser() if signed else None
    decision = decide(
        chosen.label, draft, in_force, parsed, replace=replace,
        read_signed=(lambda: _signed_placeholders(signed_path)) if signed_path else None,
        changed_since=(lambda d: reports.events_since(d)),
    )
    if decision.existing is not None:
        approval, repeated = decision.existing, True
        attachments = _attachments_of(approval, draft)
    else:
        signed_on = signed_on or resources.today()
        signer = (signer or "").strip() or plan.document.signer.name
        if signed_path is not None:
            sent_pdf = StoredFile.of(signed_path, "pdf")
            xlsx = decision.draft.file("xlsx")
            extra = (Path(xlsx.path),) if xlsx is not None and xlsx.unchanged() else ()
        else:
            files = _approved_files(plan, path, decision.draft, parsed, signed_on, signer, steps)
            sent_pdf = StoredFile.of(files.pdf, "pdf")
            extra = (files.xlsx,)
        approval = reports.record_approval(
            decision.draft, number=parsed, number_symbol=number_symbol(plan, parsed), signed_on=signed_on, signer=signer,
            by=by or resources.settings().actor, sent_pdf=sent_pdf,
            signed_pdf=StoredFile.of(signed_path, "pdf") if signed_path is not None else None,
            replaces=decision.replaces.id if decision.replaces is not None else None,
        )
        repeated = False
        attachments = (Path(sent_pdf.path), *extra)
    queued = send_approved(plan, chosen, approval, attachments)
    sent = steps.deliver(logger).sent
    return ApprovalRun(approval=approval, repeated=repeated, attachments=attachments, queued=tuple(queued), sent=sent)


def send_approved(plan: Plan, period: ReportingPeriod, approval: Review, attachments: tuple[Path, ...]) -> list[str]:
    """Queue the approved report's cover mails (each key once: a repeat queues nothing)."""
    outbox = Outbox(resources.ledger())
    if not attachments:
        return []
    attachments = tuple(a for a in attachments if Path(a).suffix.lower() == ".pdf")  # only the PDF leaves the Department
    known = outbox.keys(plan.id)
    missing = [a for a in attachments if not Path(a).is_file()]
    mails = approved_report_mails(plan, period, approval, tuple(a for a in attachments if a not in missing))
    fresh = [m for m in mails if m.key not in known]
    if fresh and missing:
        raise ApprovalRefused("signed", f"không còn tệp đã duyệt để gửi: {', '.join(map(str, missing))}", "tệp PDF đã duyệt ở đúng chỗ cũ")
    return outbox.queue(plan.id, fresh)


def _attachments_of(approval: Review, draft: Draft | None) -> tuple[Path, ...]:
    """What a recorded approval sends: its PDF, and the annex beside it (the draft's, or the one
    rendered with the approved PDF)."""
    if approval.sent_pdf is None:
        return ()
    pdf = Path(approval.sent_pdf.path)
    beside = sorted(pdf.parent.glob("*.xlsx"))
    if approval.signed_pdf is None and beside:
        return (pdf, beside[0])
    xlsx = draft.file("xlsx") if draft is not None and draft.version == approval.draft_version else None
    return (pdf, Path(xlsx.path)) if xlsx is not None and xlsx.unchanged() else (pdf,)


def _signed_placeholders(path: Path) -> list[str]:
    from reports.pdf_text import NotAPdf, pdf_text
    from reports.placeholders import placeholders_in

    try:
        return placeholders_in(pdf_text(path))
    except NotAPdf as exc:
        raise ApprovalRefused("signed", str(exc), "bản báo cáo đã ký, dạng PDF đọc được") from None


def _approved_files(plan: Plan, path: str, draft: Draft, number: str, signed_on: dt.date, signer: str, steps: Steps) -> ReportFiles:
    """The approved draft again, from the ledger as of its date, with the number and the signing
    date filled in (and the signer's name, when another signed), in a folder of its own."""
    from reports.document import render_report

    data = steps.aggregate(path, draft.period, draft.as_of)
    who = plan.document.signer if signer == plan.document.signer.name else plan.document.signer.model_copy(update={"name": signer})
    folder = out_dir(ReportingPeriod.parse(draft.period)) / f"ban-duyet-so-{number}-du-thao-{draft.version}"
    return render_report(data, folder, number=number, signer=who, signed_on=signed_on)

"""The mails of the periodic report: the draft's notice to the compiling unit, and, once approved,
the cover mail that carries the report to each recipient body of the reporting regime.

Nothing reaches the recipients without an approval: `approved_report_mails` is the only function
that writes to them, and it takes the approval record.
"""

from __future__ import annotations

from pathlib import Path

from notifications.mail import Address, Mail, MailKind, mail_key
from notifications.render import render_html, render_text
from plan.calendar import ReportingPeriod
from plan.model import Plan
from plan.report_book import Draft, Review


class NotApproved(ValueError):
    """A report mail asked for without an approval."""


def report_subject(plan: Plan, period: ReportingPeriod, approval: Review) -> str:
    """V/v báo cáo kết quả thực hiện Kế hoạch số 326/KH-SVHTT năm 2023 (Báo cáo số 125/BC-SVHTT)."""
    return (
        f"V/v báo cáo kết quả thực hiện {plan.document.type} số {plan.document.number_symbol} {period.label} "
        f"(Báo cáo số {approval.number_symbol or approval.number})"
    )


def approved_report_mails(plan: Plan, period: ReportingPeriod, approval: Review, attachments: tuple[Path, ...]) -> list[Mail]:
    """One cover mail per recipient body of the reporting regime, the bodies it goes through and the
    compiling unit in cc, answers to the compiling unit; recipients without an address get none.

    The key names the approval: the same approval is sent once, a correcting one (--replace) again."""
    if not approval.approved or not approval.number or approval.plan_id != plan.id or approval.period != period.id:
        raise NotApproved(f"báo cáo {period.label} chưa được duyệt: không gửi cho nơi nhận")
    if any(Path(a).suffix.lower() != ".pdf" for a in attachments):
        # The DOCX is the drafter's working copy; the XLSX annex names each counterpart's answers
        # (declines included): both stay in the Department. Only the signed or approved PDF leaves.
        raise NotApproved("chỉ gửi bản PDF đã duyệt cho nơi nhận (DOCX, XLSX là tài liệu làm việc của Sở)")
    bodies = {b.id: b for b in plan.bodies}
    compiler = plan.unit(plan.reporting.compiled_by)
    mails = []
    for recipient in plan.reporting.recipients:
        body = bodies[recipient.body]
        via = [bodies[v] for v in recipient.via]
        context = {
            "plan": plan, "period": period, "body": body, "via": via, "compiler": compiler, "approval": approval,
            "attachments": [Path(a).suffix.lower().lstrip(".") for a in attachments],
        }
        mails.append(
            Mail(
                key=mail_key(MailKind.REPORT, body.id, plan.id, period.id, f"so-{approval.number}", f"duyet-{approval.id}"),
                kind=MailKind.REPORT,
                to=tuple(Address(str(e), body.name) for e in body.emails),
                cc=tuple(Address(str(e), v.name) for v in via for e in v.emails)
                + tuple(Address(str(e), compiler.name) for e in compiler.emails),
                subject=report_subject(plan, period, approval),
                html=render_html("report", **context),
                text=render_text("report", **context),
                attachments=attachments,
                reply_to=tuple(Address(str(e), f"{compiler.name} — {plan.department.name}") for e in compiler.emails),
                sender_name=plan.department.name,
            )
        )
    return [m for m in mails if m.to]


def draft_notice(plan: Plan, period: ReportingPeriod, draft: Draft, pdf: Path, docx: Path, approve_command: str) -> list[Mail]:
    """The short internal mail telling the compiling unit a draft is ready and what to do with it;
    none when the unit has no address."""
    compiler = plan.unit(plan.reporting.compiled_by)
    if not compiler.emails:
        return []
    context = {"plan": plan, "period": period, "draft": draft, "compiler": compiler, "docx": docx, "approve_command": approve_command}
    return [
        Mail(
            key=mail_key(MailKind.DRAFT, compiler.id, plan.id, period.id, f"du-thao-{draft.version}"),
            kind=MailKind.DRAFT,
            to=tuple(Address(str(e), compiler.name) for e in compiler.emails),
            subject=f"Dự thảo báo cáo {period.label} (lần {draft.version}) — {plan.document.type} số {plan.document.number_symbol}",
            html=render_html("report_draft", **context),
            text=render_text("report_draft", **context),
            attachments=(pdf,),
        )
    ]

"""The mail that carries the periodic report to each recipient body of the reporting regime."""

from __future__ import annotations

from pathlib import Path

from notifications.mail import Address, Mail, MailKind, mail_key
from notifications.render import render_html, render_text
from plan.calendar import ReportingPeriod
from plan.model import Plan


def report_mails(plan: Plan, period: ReportingPeriod, attachments: tuple[Path, ...]) -> list[Mail]:
    """One mail per recipient body of the reporting regime, the bodies it goes through and the
    compiling unit in cc; recipients without an address get none."""
    bodies = {b.id: b for b in plan.bodies}
    compiler = plan.unit(plan.reporting.compiled_by)
    mails = []
    for recipient in plan.reporting.recipients:
        body = bodies[recipient.body]
        via = [bodies[v] for v in recipient.via]
        subject = f"[Kehoach] Báo cáo {period.label} — {plan.document.type} số {plan.document.number_symbol} — {plan.department.name}"
        context = {"plan": plan, "period": period, "body": body, "via": via, "compiler": compiler}
        mails.append(
            Mail(
                key=mail_key(MailKind.REPORT, body.id, plan.id, period.id),
                kind=MailKind.REPORT,
                to=tuple(Address(str(e), body.name) for e in body.emails),
                cc=tuple(Address(str(e), v.name) for v in via for e in v.emails)
                + tuple(Address(str(e), compiler.name) for e in compiler.emails),
                subject=subject,
                html=render_html("report", **context),
                text=render_text("report", **context),
                attachments=attachments,
            )
        )
    return [m for m in mails if m.to]

"""The `upward-report` flow: aggregate the ledger for a reporting period, write the report (PDF,
DOCX, XLSX, charts), publish artifacts and send it to the plan's recipients through the outbox.

    python -m flows.report 2023 2023-12-31     # the annual report of 2023
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from flows import runtime
from notifications.mail import Address, Mail, MailKind, mail_key
from plan.calendar import PeriodKind, ReportingPeriod, periods_in_year
from plan.model import Plan


def latest_period(plan: Plan, as_of: dt.date) -> ReportingPeriod:
    """The plan's most recent period whose data window has closed by `as_of` (what a scheduled run reports)."""
    kinds = [PeriodKind(k) for k in plan.reporting.periods]
    closed = [p for year in (as_of.year - 1, as_of.year) for p in periods_in_year(kinds, year) if p.data_window[1] < as_of]
    if not closed:
        return periods_in_year(kinds, as_of.year)[0]
    return max(closed, key=lambda p: (p.data_window[1], p.kind == PeriodKind.ANNUAL))


def reports_dir() -> Path:
    from flows.mail import home

    return home() / "reports"


@task(name="aggregate")
def aggregate_task(plan_path: str, period_id: str, as_of: dt.date):
    from reports.aggregate import aggregate

    plan, _ = runtime.load(plan_path)
    return aggregate(plan, runtime.ledger(), ReportingPeriod.parse(period_id), as_of)


@task(name="render-report")
def render_task(data, out_dir: str, number: str | None) -> dict[str, Any]:
    from reports.document import render_report

    files = render_report(data, Path(out_dir), number=number)
    return {"pdf": str(files.pdf), "docx": str(files.docx), "xlsx": str(files.xlsx), "charts": [str(c) for c in files.charts]}


def report_mails(plan: Plan, period: ReportingPeriod, files: dict[str, Any]) -> list[Mail]:
    """One mail per recipient body of the reporting regime, the bodies it goes through in cc."""
    from notifications.render import render_html, render_text

    bodies = {b.id: b for b in plan.bodies}
    compiler = plan.unit(plan.reporting.compiled_by)
    attachments = tuple(Path(files[k]) for k in ("pdf", "docx", "xlsx"))
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


@flow(name="upward-report", flow_run_name="Báo cáo {period}", log_prints=False)
def upward_report(
    period: str | None = None,
    as_of: dt.date | None = None,
    plan_path: str | None = None,
    number: str | None = None,
    send: bool = True,
) -> dict[str, Any]:
    """Báo cáo định kỳ gửi cấp trên: tổng hợp sổ theo dõi, lập PDF, DOCX, XLSX và gửi qua hộp thư đi.

    period: 2023-H1, 2023-9M, 2023 (năm), 2023-Q3…; mặc định kỳ gần nhất đã chốt số liệu.
    number: số văn bản (để trống cho văn thư điền). send: gửi thư cho nơi nhận.
    """
    from flows.mail import deliver_and_check, queue_mail

    logger = get_run_logger()
    as_of = as_of or runtime.today()
    path = str(runtime.plan_path(plan_path))
    plan, _ = runtime.load(path)
    the_period = ReportingPeriod.parse(period) if period else latest_period(plan, as_of)
    data = aggregate_task(path, the_period.id, as_of)
    files = render_task(data, str(reports_dir() / the_period.id), number)
    _publish(plan, the_period, as_of, data, files)
    sent: list[str] = []
    if send:
        queue_mail(plan.id, report_mails(plan, the_period, files))
        sent = deliver_and_check(logger)["sent"]
    return {"period": the_period.id, "files": files, "sent": sent, "events_in_period": data.events_in_period}


def _publish(plan: Plan, period: ReportingPeriod, as_of: dt.date, data, files: dict[str, Any]) -> None:
    key = f"{plan.id}-{period.id}".lower().replace("_", "-")[:50]
    totals = data.indicator_totals
    lines = [
        f"# Báo cáo {period.label}",
        "",
        f"{plan.document.type} số {plan.document.number_symbol} — số liệu từ {period.data_window[0]:%d/%m/%Y} đến {period.data_window[1]:%d/%m/%Y}, tình hình đến {as_of:%d/%m/%Y}.",
        "",
        f"- Sự kiện trong kỳ: {data.events_in_period}",
        f"- Nội dung hoàn thành: {int((data.items['rag'] == 'done').sum())}/{len(data.items)}",
        f"- Bước chậm tiến độ: {len(data.late)}",
        "",
        "| Chỉ tiêu | Giá trị |",
        "|---|---:|",
        *[f"| {row.label} ({row.unit}) | {int(row.value)} |" for row in totals.itertuples()],
        "",
        f"Tệp: `{files['pdf']}`, `{files['docx']}`, `{files['xlsx']}`",
    ]
    create_markdown_artifact(key=f"report-{key}", markdown="\n".join(lines), description=f"Báo cáo {period.label}")
    rows = data.items[["number", "short_title", "lead", "rag_label", "stages_done", "stages_overdue"]].rename(
        columns={"number": "ND", "short_title": "Nội dung", "lead": "Chủ trì", "rag_label": "Trạng thái", "stages_done": "Bước xong", "stages_overdue": "Quá hạn"}
    )
    create_table_artifact(key=f"report-table-{key}", table=rows.astype(str).to_dict(orient="records"), description=f"Bảng nội dung, {period.label}")
    for kind in ("pdf", "docx", "xlsx"):
        create_link_artifact(key=f"report-{kind}-{key}", link=Path(files[kind]).resolve().as_uri(), link_text=Path(files[kind]).name)


if __name__ == "__main__":
    upward_report(sys.argv[1] if len(sys.argv) > 1 else None, dt.date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else None)

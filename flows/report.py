"""The `upward-report` flow: aggregate the ledger for a reporting period, write the report (PDF,
DOCX, XLSX, charts), publish artifacts and send it to the plan's recipients through the outbox.

    python -m flows.report 2023 2023-12-31     # the annual report of 2023
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from flows.mail_task import deliver_and_check
from flows.report_job import ReportRun, Steps, aggregate_step, make_report, render_step
from plan.calendar import ReportingPeriod
from plan.model import Plan
from reports.data import ReportData
from reports.document import ReportFiles

aggregate_task = task(name="aggregate")(aggregate_step)
render_task = task(name="render-report")(render_step)


@flow(name="upward-report", flow_run_name="Báo cáo {period}", log_prints=False)
def upward_report(
    period: str | None = None,
    as_of: dt.date | None = None,
    plan_path: str | None = None,
    number: str | None = None,
    send: bool = True,
) -> ReportRun:
    """Báo cáo định kỳ gửi cấp trên: tổng hợp sổ theo dõi, lập PDF, DOCX, XLSX và gửi qua hộp thư đi.

    period: 2023-H1, 2023-9M, 2023 (năm), 2023-Q3…; mặc định kỳ gần nhất đã chốt số liệu.
    number: số văn bản (để trống cho văn thư điền). send: gửi thư cho nơi nhận.
    """
    steps = Steps(aggregate=aggregate_task, render=render_task, deliver=deliver_and_check, publish=_publish)
    return make_report(period, as_of, plan_path, number, send, get_run_logger(), steps)


def _publish(plan: Plan, period: ReportingPeriod, as_of: dt.date, data: ReportData, files: ReportFiles) -> None:
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
        f"Tệp: `{files.pdf}`, `{files.docx}`, `{files.xlsx}`",
    ]
    create_markdown_artifact(key=f"report-{key}", markdown="\n".join(lines), description=f"Báo cáo {period.label}")
    rows = data.items[["number", "short_title", "lead", "rag_label", "stages_done", "stages_overdue"]].rename(
        columns={"number": "ND", "short_title": "Nội dung", "lead": "Chủ trì", "rag_label": "Trạng thái", "stages_done": "Bước xong", "stages_overdue": "Quá hạn"}
    )
    create_table_artifact(key=f"report-table-{key}", table=rows.astype(str).to_dict(orient="records"), description=f"Bảng nội dung, {period.label}")
    for kind, file in (("pdf", files.pdf), ("docx", files.docx), ("xlsx", files.xlsx)):
        create_link_artifact(key=f"report-{kind}-{key}", link=Path(file).resolve().as_uri(), link_text=Path(file).name)


if __name__ == "__main__":
    upward_report(sys.argv[1] if len(sys.argv) > 1 else None, dt.date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else None)

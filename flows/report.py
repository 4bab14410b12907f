"""The `upward-report` flow: aggregate the ledger for a reporting period, write a draft of the report
(PDF, DOCX, XLSX, charts), record it and tell the compiling unit, publish artifacts; deployed, wait
for the approval form (approve: the report goes to the recipients; return: a new draft).

    python -m flows.report 2023 2023-12-31     # the annual report of 2023
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import deployment as deployment_runtime

from flows import resources
from flows.mail_task import deliver_and_check
from flows.report_job import ReportRun, Steps, aggregate_step, approve_report, book, make_report, render_step, return_draft
from flows.resume import report_pause_key
from plan.calendar import ReportingPeriod
from plan.model import Plan
from plan.report_approval import ApprovalInput
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
    wait_for_approval: bool = True,
) -> ReportRun:
    """Báo cáo định kỳ gửi cấp trên: tổng hợp sổ theo dõi, lập dự thảo (PDF, DOCX, XLSX), báo Văn phòng.

    period: 2023-H1, 2023-9M, 2023 (năm), 2023-Q3…; mặc định kỳ gần nhất đã chốt số liệu.
    number: số văn bản in trên dự thảo (để trống cho văn thư điền). send: gửi thư báo dự thảo.
    wait_for_approval: khi chạy từ deployment, chờ duyệt (nút Resume): duyệt thì gửi nơi nhận, trả lại thì lập dự thảo mới.
    """
    logger = get_run_logger()
    steps = Steps(aggregate=aggregate_task, render=render_task, deliver=deliver_and_check, publish=_publish)
    waiting = wait_for_approval and bool(deployment_runtime.id)
    resumed = _resumed_draft(plan_path, period, as_of) if waiting else None
    run = resumed or make_report(period, as_of, plan_path, number, send, logger, steps)
    if not waiting:
        return run
    while True:
        assert run.draft is not None
        key = report_pause_key(run.draft.plan_id, run.draft.period, run.draft.version)
        logger.info("Chờ duyệt dự thảo báo cáo %s lần %d (%s)", run.period, run.draft.version, key)
        given = ApprovalInput.model_validate(suspend_flow_run(wait_for_input=_form(), key=key, timeout=None).model_dump())
        by = given.by or "giao diện Prefect"
        if given.decision == "return":
            if not any(r.draft_version == run.draft.version for r in book().reviews(run.draft.plan_id, run.period)):
                return_draft(plan_path, run.period, by, given.comments or "")
            run = make_report(run.period, run.draft.as_of, plan_path, number, send, logger, steps, by=by, new_version=True)
            continue
        # The same path as `kehoach report approve`; a form it refuses fails the run with the reason
        # (the draft stays: approve it from the command line, or run the report again).
        approved = approve_report(
            run.period, given.number, signed=given.signed_pdf, signed_on=given.signed_on, signer=given.signer, by=by,
            replace=given.replace, plan_path=plan_path, logger=logger, steps=steps,
        )
        logger.info("Đã duyệt báo cáo số %s; %d thư mới gửi nơi nhận", approved.approval.number_symbol, len(approved.queued))
        return run


def _form():
    from prefect.input.run_input import run_input_subclass_from_type

    return run_input_subclass_from_type(ApprovalInput)


def _resumed_draft(plan_path: str | None, period: str | None, as_of: dt.date | None) -> ReportRun | None:
    """Resumed, the run starts over: the draft whose pause fired is taken up again rather than
    drafted anew (the day may have changed since), so the input given reaches it."""
    from flows.report_job import files_of, the_period

    context = FlowRunContext.get()
    fired = set((context.flow_run.empirical_policy.pause_keys or ()) if context and context.flow_run else ())
    if not fired:
        return None
    plan, _ = resources.load(str(resources.plan_path(plan_path)))
    chosen = the_period(plan, period, as_of or resources.today())
    draft = book().latest_draft(plan.id, chosen.id)
    if draft is None or report_pause_key(plan.id, chosen.id, draft.version) not in fired:
        return None
    return ReportRun(period=chosen.id, files=files_of(draft), sent=(), events_in_period=0, draft=draft, reused=True)


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

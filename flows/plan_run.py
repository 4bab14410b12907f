"""The `plan-run` flow: every content item of the plan for one date, with progress and status artifacts.

Which item runs where (subflows here, runs of their own when deployed) is flows/dispatch.py's job.

    python -m flows.plan_run 2023-12-31
"""

from __future__ import annotations

import datetime as dt
import sys

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import deployment

from flows import dispatch, resources
from flows.dispatch import ItemRun
from flows.mail_task import deliver_and_check, delivered_by_the_plan_run
from plan.model import Plan
from plan.progress import plan_status
from plan.status_views import status_markdown, status_rows


class ItemRunsNotSettled(RuntimeError):
    """Deployed: some item runs failed, crashed or did not settle; the message names them."""


@flow(name="plan-run", flow_run_name="Kế hoạch {as_of}", log_prints=False)
def plan_run(as_of: dt.date | None = None, plan_path: str | None = None, concurrent: bool | None = None) -> list[ItemRun]:
    """Toàn bộ kế hoạch cho một ngày: chạy từng nội dung và công bố tiến độ, bảng trạng thái.

    concurrent: chạy song song các nội dung (mặc định: chỉ khi máy chủ Prefect dùng PostgreSQL).
    """
    logger = get_run_logger()
    as_of = as_of or resources.today()
    path = str(resources.plan_path(plan_path))
    plan, _ = resources.load(path)
    progress = dispatch.Progress(plan, as_of, logger)
    work = dispatch.work_today(plan, as_of)
    items = dispatch.without_work(plan, work, bool(deployment.id), progress.finished)
    logger.info("%d/%d nội dung có việc hôm nay; các nội dung khác không cần lượt chạy", len(items), len(plan.items))
    with delivered_by_the_plan_run():
        if deployment.id:
            on_postgres = concurrent if concurrent is not None else dispatch.deployed_api_on_postgres()
            dispatch.deployed(plan, items, work, path, as_of, logger, on_postgres, progress.finished)
        elif concurrent if concurrent is not None else dispatch.api_on_postgres():
            dispatch.concurrently(plan, items, path, as_of, progress.finished)
        else:
            dispatch.in_order(plan, items, path, as_of, progress.finished)
    deliver_and_check(logger)  # what the items queued, and what was due in the outbox already
    _publish_status(plan, as_of)
    results = sorted(progress.results, key=lambda r: r.number)
    unsettled = [r for r in results if not r.settled]
    if deployment.id and unsettled:
        # Red in the UI, with the items named; the artifacts above are published all the same.
        raise ItemRunsNotSettled(
            f"{len(unsettled)}/{len(results)} nội dung không chạy xong: "
            + ", ".join(f"ND {r.number} ({r.state})" for r in unsettled[:20])
            + (" …" if len(unsettled) > 20 else "")
        )
    return results


def _publish_status(plan: Plan, as_of: dt.date) -> None:
    statuses = plan_status(plan, resources.ledger().events(plan.id), as_of)
    create_table_artifact(
        table=status_rows(plan, statuses),
        key=f"plan-status-table-{plan.id}".replace("_", "-")[:64],
        description=f"Trạng thái các nội dung, {plan.document.number_symbol}, ngày {as_of:%d/%m/%Y}",
    )
    create_markdown_artifact(
        markdown=status_markdown(plan, statuses, as_of),
        key=f"plan-status-{plan.id}".replace("_", "-")[:64],
        description=f"Tình hình thực hiện {plan.document.number_symbol} ngày {as_of:%d/%m/%Y}",
    )


if __name__ == "__main__":
    plan_run(dt.date.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else None)

"""The `plan-run` flow: every content item of the plan for one date, with progress and status artifacts.

On the embedded default the items run as subflows, one after another (SQLite locks under concurrent
writers); against a PostgreSQL-backed API they run concurrently. When deployed, each item starts as
its own deployment run so that it can wait for a unit's input on its own.

    python -m flows.plan_run 2023-12-31
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import flow, get_run_logger, tags
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.runtime import deployment as deployment_runtime

from flows import runtime
from flows.content_item import content_item
from plan.progress import plan_status
from plan.status_views import status_markdown, status_rows

CONTENT_ITEM_DEPLOYMENT = "content-item/content-item"

# The command line listens here to show progress; a flow parameter cannot carry a callback.
progress_listeners: list[Callable[[int, int, dict[str, Any]], None]] = []


def _api_on_postgres() -> bool:
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or PREFECT_API_DATABASE_CONNECTION_URL.value() or ""
    return url.startswith("postgresql")


@flow(name="plan-run", flow_run_name="Kế hoạch {as_of}", log_prints=False)
def plan_run(as_of: dt.date | None = None, plan_path: str | None = None, concurrent: bool | None = None) -> list[dict[str, Any]]:
    """Toàn bộ kế hoạch cho một ngày: chạy từng nội dung và công bố tiến độ, bảng trạng thái.

    concurrent: chạy song song các nội dung (mặc định: chỉ khi máy chủ Prefect dùng PostgreSQL).
    """
    logger = get_run_logger()
    as_of = as_of or runtime.today()
    path = str(runtime.plan_path(plan_path))
    plan, _ = runtime.load(path)
    key = f"plan-progress-{plan.id}".replace("_", "-")[:64]
    progress_id = create_progress_artifact(progress=0.0, key=key, description=f"Tiến độ chạy {plan.document.number_symbol} ngày {as_of:%d/%m/%Y}")
    total = len(plan.items)
    results: list[dict[str, Any]] = []

    def finished(result: dict[str, Any]) -> None:
        results.append(result)
        update_progress_artifact(progress_id, progress=100.0 * len(results) / total)
        for listener in progress_listeners:
            listener(len(results), total, result)

    if deployment_runtime.id:
        for result in _start_item_deployments(plan, path, as_of, logger):
            finished(result)
    elif concurrent if concurrent is not None else _api_on_postgres():
        with ThreadPoolExecutor(max_workers=min(8, total)) as pool:
            futures = [pool.submit(contextvars.copy_context().run, _run_item, plan, item, path, as_of) for item in plan.items]
            for future in futures:
                finished(future.result())
    else:
        for item in plan.items:
            finished(_run_item(plan, item, path, as_of))
    _publish_status(plan, as_of)
    return sorted(results, key=lambda r: r["item"])


def _run_item(plan, item, path: str, as_of: dt.date) -> dict[str, Any]:
    with tags(*runtime.item_tags(plan, item)):
        return content_item(item.id, as_of=as_of, plan_path=path)


def _start_item_deployments(plan, path: str, as_of: dt.date, logger) -> list[dict[str, Any]]:
    """Start each item as its own run (a subflow cannot suspend) and wait until each settles."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    started = []
    for item in plan.items:
        run = run_deployment(
            CONTENT_ITEM_DEPLOYMENT,
            parameters={"item": item.id, "as_of": as_of.isoformat(), "plan_path": path, "wait_for_input": True},
            flow_run_name=runtime.item_run_name(plan, item, as_of),
            tags=runtime.item_tags(plan, item),
            as_subflow=False,
            timeout=0,
        )
        started.append((item, run.id))
    results = []
    deadline = time.monotonic() + 1800
    with get_client(sync_client=True) as client:
        pending = dict(started)
        while pending and time.monotonic() < deadline:
            for item, run_id in list(pending.items()):
                state = client.read_flow_run(run_id).state
                if state is not None and (state.is_final() or state.is_paused()):
                    results.append({"item": item.number, "id": item.id, "state": state.name, "flow_run_id": str(run_id)})
                    del pending[item]
            if pending:
                time.sleep(2)
        for item, run_id in pending.items():
            logger.warning("ND %s chưa xong sau 30 phút (lượt chạy %s)", item.number, run_id)
            results.append({"item": item.number, "id": item.id, "state": "Running", "flow_run_id": str(run_id)})
    return results


def _publish_status(plan, as_of: dt.date) -> None:
    statuses = plan_status(plan, runtime.ledger().events(plan.id), as_of)
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

"""`kehoach record` and `kehoach request`: what units report, written to the ledger in one transaction,
then handed to any flow run that is waiting for it."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from typing import Any

from plan.events import Event, NewEvent
from plan.model import STAGE_LABELS, Plan, Stage
from plan.recording import InputError, find_item, find_stage, outcome_record, request_record


def actor_name(given: str | None) -> str:
    return given or os.environ.get("KEHOACH_USER") or getpass.getuser()


def record(
    plan: Plan,
    events: list[Event],
    *,
    item_key: str,
    stage_name: str,
    data: dict[str, Any],
    on: dt.date,
    actor: str,
    occurrence: str | None = None,
    counterpart: str | None = None,
) -> tuple[str, Stage, str, list[NewEvent]]:
    item = find_item(plan, item_key)
    stage = find_stage(stage_name)
    target, produced = outcome_record(
        plan, item, stage, data, events, on=on, actor=actor, occurrence=occurrence, counterpart=counterpart
    )
    return item.id, stage, target.id, produced


def request(
    plan: Plan,
    *,
    item_key: str,
    start: dt.date,
    until: dt.date | None,
    counterpart: str | None,
    title: str | None,
    on: dt.date,
    actor: str,
) -> NewEvent:
    item = find_item(plan, item_key)
    return request_record(plan, item, start=start, end=until, counterpart=counterpart, title=title, on=on, actor=actor)


def resume_waiting_runs(
    plan: Plan, item_id: str, occurrence: str, stage: Stage, outcome: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """Resume content-item runs suspended for this very stage, with the outcome as their input.
    Returns the resumed run ids and, for runs that could not be resumed, the reason.

    Only when a Prefect server is configured (PREFECT_API_URL): the embedded default has no runs
    that outlive the command.
    """
    if not os.environ.get("PREFECT_API_URL"):
        return [], []
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    from flows.content_item import pause_key

    item = plan.item(item_id)
    prefix = pause_key(occurrence, stage)
    resumed: list[str] = []
    failed: list[str] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["content-item"])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
            ),
        )
    for run in runs:
        key = (run.state.state_details.pause_key or "") if run.state else ""
        if key.startswith(prefix) and _runs_item(run, plan, item):
            try:
                resume_flow_run(run.id, run_input=outcome)
            except Exception as exc:  # noqa: BLE001 - the outcome is recorded; say why this run was not resumed
                failed.append(f"{run.id}: {exc}")
                continue
            resumed.append(str(run.id))
    return resumed, failed


def _runs_item(run, plan: Plan, item) -> bool:
    """Whether a content-item run is for this item of this plan: by its tags when plan-run started it,
    else by its `item` parameter (a run started by hand or from the UI carries no plan or item tag)."""
    tags = set(run.tags or ())
    if any(t.startswith("plan:") for t in tags) and f"plan:{plan.id}" not in tags:
        return False
    if f"item:{item.number}" in tags:
        return True
    try:
        return plan.item(str((run.parameters or {}).get("item"))).id == item.id
    except KeyError:
        return False


def describe(stage: Stage, occurrence: str) -> str:
    where = "" if occurrence == "main" else f", đợt {occurrence}"
    return f"bước {STAGE_LABELS[stage]}{where}"


__all__ = ["InputError", "actor_name", "describe", "record", "request", "resume_waiting_runs"]

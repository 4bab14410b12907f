"""Resuming `content-item` runs suspended for a stage, once that stage's outcome is in the ledger
(`kehoach record` records it, then hands it to the runs waiting for it)."""

from __future__ import annotations

from typing import Any

from plan.model import Item, Plan, Stage

FLOW_NAME = "content-item"
REPORT_FLOW_NAME = "upward-report"


def pause_key(occurrence_id: str, stage: Stage, as_of: Any = None) -> str:
    """`main--execution--2023-05-15`; without the date, the prefix a resume looks for.

    Prefect stores the Resume form under keys derived from the pause key and accepts only lowercase
    letters, digits and dashes there; plan ids never contain "--", so it separates the parts.
    """
    parts = [occurrence_id.replace("_", "-"), stage.value, as_of.isoformat() if as_of else ""]
    return "--".join(parts)


def resume_waiting_runs(plan: Plan, item_id: str, occurrence: str, stage: Stage, outcome: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Resume content-item runs suspended for this very stage, with the outcome as their input.
    Returns the resumed run ids and, for runs that could not be resumed, the reason.

    Call it only with a Prefect server configured: the embedded default has no runs that outlive
    the command.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    item = plan.item(item_id)
    prefix = pause_key(occurrence, stage)
    resumed: list[str] = []
    failed: list[str] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
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


def resume_waiting_runs_on(
    api_url: str | None, api_auth: str | None, plan: Plan, item_id: str, occurrence: str, stage: Stage, outcome: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """`resume_waiting_runs` on the server at `api_url` (with its password), whatever Prefect's
    process-wide settings say: the units' forms are given their settings, not the environment's."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    updates: dict[Any, Any] = {PREFECT_API_URL: api_url}
    if api_auth:
        updates[PREFECT_API_AUTH_STRING] = api_auth
    with temporary_settings(updates=updates):
        return resume_waiting_runs(plan, item_id, occurrence, stage, outcome)


def _runs_item(run: Any, plan: Plan, item: Item) -> bool:
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


def report_pause_key(plan_id: str, period: str, version: int | None = None) -> str:
    """`report--hanoi-svhtt-ttdn-2023--2023-h1--v2`: an upward-report run waiting for the approval
    of that draft; without the version, the prefix a resume looks for."""
    return "--".join(["report", plan_id.replace("_", "-").lower(), period.lower(), f"v{version}" if version is not None else ""])


def resume_waiting_reports(plan: Plan, period: str, given: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Resume upward-report runs waiting for the approval of a draft of this period, with the
    approval form as their input. Returns the resumed run ids and why others could not be.

    Call it only with a Prefect server configured."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    prefix = report_pause_key(plan.id, period)
    resumed: list[str] = []
    failed: list[str] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[REPORT_FLOW_NAME])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))),
        )
    for run in runs:
        key = (run.state.state_details.pause_key or "") if run.state else ""
        if key.startswith(prefix):
            try:
                resume_flow_run(run.id, run_input=given)
            except Exception as exc:  # noqa: BLE001 - the approval is recorded; say why this run was not resumed
                failed.append(f"{run.id}: {exc}")
                continue
            resumed.append(str(run.id))
    return resumed, failed

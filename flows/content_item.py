"""The `content-item` flow: one content item of the plan, its occurrences and their four stages.

Each stage task reads the ledger, decides (plan.progress), records the events and returns a short
summary. Run directly for one item on the embedded default:

    python -m flows.content_item 7 2023-05-15
"""

from __future__ import annotations

import datetime as dt
import sys
from copy import deepcopy
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.context import FlowRunContext, TagsContext, TaskRunContext
from prefect.runtime import deployment as deployment_runtime, flow_run as flow_run_runtime
from prefect.task_runners import ThreadPoolTaskRunner
from sqlalchemy.exc import OperationalError

from flows import resources
from flows.delivery import queue_mail
from flows.labels import item_run_name
from flows.mail_task import deliver_if_due
from flows.resume import pause_key
from plan.awaiting import awaiting_outcome, occurrence_steps
from plan.events import Event, EventKind, PlanRef, content_key
from plan.model import Item, Plan, Stage
from plan.occurrences import Occurrence, item_occurrences
from plan.outcomes import outcome_model, outcome_payload
from plan.progress import OccurrenceState, Step, fold, item_status, outcome_events, stage_step
from plan.schedule import working_calendar

CACHE_VERSION = "stage-v2"  # part of every stage's cache key: bump when StageSummary changes


@dataclass(frozen=True)
class StageSummary:
    """What one stage task decided and recorded (the task's persisted result)."""

    item: int
    occurrence: str
    stage: str
    counterpart: str | None
    status: str
    due: dt.date
    working_days_late: int
    recorded: int
    note: str | None


@dataclass(frozen=True)
class ItemSummary:
    """The result of a `content-item` run: where the item stands after today's steps."""

    number: int
    id: str
    rag: str
    overdue: int
    occurrences: tuple[str, ...]
    steps: tuple[StageSummary, ...]


def _stage_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Ledger, plan version, item, occurrence, stage (and counterpart), date, and what people have
    said so far.

    Prefect's default (the inputs) would make the same call in two tasks collide; the input version
    makes a new outcome recorded by a person invalidate the cached decision, nothing else does.
    """
    p = parameters
    return "-".join(
        str(part)
        for part in (
            CACHE_VERSION,
            p.get("ledger_id") or "-",
            p["plan_hash"],
            p["item_id"],
            p["occurrence_id"],
            p["stage"],
            p.get("counterpart") or "all",
            p["as_of"],
            p.get("input_version") or "none",
        )
    )


def _transient(task, task_run, state) -> bool:
    """Retry what a second try can fix: a locked or briefly unreachable database."""
    try:
        state.result()
    except OperationalError:
        return True
    except Exception:  # noqa: BLE001 - anything else is a bug or bad data: fail now, visibly
        return False
    return False


@task(
    name="stage",
    task_run_name="{stage} · {occurrence_id}{counterpart_label}",
    cache_key_fn=_stage_cache_key,
    persist_result=True,
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=_transient,
)
def stage_task(
    plan_path: str,
    plan_hash: str,
    item_id: str,
    occurrence_id: str,
    stage: str,
    as_of: dt.date,
    counterpart: str | None = None,
    counterpart_label: str = "",
    input_version: str = "",
    ledger_id: str = "",
) -> StageSummary:
    plan, ref, item, occurrence, state = _where_it_stands(plan_path, item_id, occurrence_id, as_of)
    ledger = resources.ledger()
    step = stage_step(plan, item, occurrence, Stage(stage), state, as_of, working_calendar(plan), counterpart=counterpart)
    return _summary(item, occurrence, Stage(stage), counterpart, step, recorded=len(ledger.append(ref, step.events)))


def _summary(item: Item, occurrence: Occurrence, stage: Stage, counterpart: str | None, step: Step, recorded: int) -> StageSummary:
    return StageSummary(
        item=item.number,
        occurrence=occurrence.id,
        stage=stage.value,
        counterpart=counterpart,
        status=step.status.value,
        due=step.due,
        working_days_late=step.working_days_late,
        recorded=recorded,
        note=step.note,
    )


@task(name="record-outcome", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=_transient)
def record_outcome_task(plan_path: str, item_id: str, occurrence_id: str, stage: str, outcome: dict[str, Any], on: dt.date, actor: str) -> int:
    """Record what a person entered in the Resume form (unless `kehoach record` already did)."""
    plan, ref, item, occurrence, state = _where_it_stands(plan_path, item_id, occurrence_id, on)
    if state.latest_outcome(Stage(stage)) == outcome:
        return 0
    return len(resources.ledger().append(ref, outcome_events(plan, item, occurrence, Stage(stage), outcome, state, on=on, actor=actor)))


def _where_it_stands(plan_path: str, item_id: str, occurrence_id: str, on: dt.date) -> tuple[Plan, PlanRef, Item, Occurrence, OccurrenceState]:
    """The plan, the item, its occurrence and that occurrence's state in the ledger on `on`."""
    plan, ref = resources.load(plan_path)
    item = plan.item(item_id)
    events = resources.ledger().events(plan.id, item=item.id)
    occurrence = _occurrence(plan, item, events, occurrence_id, on)
    state = fold(e for e in events if e.occurrence == occurrence.id).get((item.id, occurrence.id), OccurrenceState())
    return plan, ref, item, occurrence, state


def _occurrence(plan: Plan, item: Item, events: list[Event], occurrence_id: str, as_of: dt.date) -> Occurrence:
    for occurrence in item_occurrences(plan, item, events, as_of):
        if occurrence.id == occurrence_id:
            return occurrence
    raise LookupError(f"item {item.id}: no occurrence {occurrence_id!r} on {as_of}")


def _input_version(events, occurrence_id: str, stage: Stage) -> str:
    people = [e.key for e in events if e.occurrence == occurrence_id and e.stage == stage.value and e.kind == EventKind.OUTCOME]
    return content_key(people) if people else ""


def _run_name() -> str:
    parameters = flow_run_runtime.parameters
    try:
        plan, _ = resources.load(parameters.get("plan_path"))
        as_of = parameters.get("as_of") or resources.today()
        if isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        return item_run_name(plan, plan.item(parameters["item"]), as_of)
    except Exception:  # noqa: BLE001 - a bad parameter fails the run below, with its reason
        return f"ND {parameters.get('item')}"


@flow(name="content-item", flow_run_name=_run_name, log_prints=False)
def content_item(
    item: str,
    as_of: dt.date | None = None,
    plan_path: str | None = None,
    wait_for_input: bool = False,
) -> ItemSummary:
    """Một nội dung của kế hoạch: chuẩn bị, phối hợp với đối tác, triển khai, báo cáo.

    item: số thứ tự (ví dụ 7) hoặc mã nội dung; as_of: ngày xét (mặc định hôm nay, giờ Hà Nội);
    wait_for_input: khi chạy từ deployment, chờ đơn vị nhập kết quả trên giao diện (nút Resume).
    """
    logger = get_run_logger()
    as_of = as_of or resources.today()
    path = str(resources.plan_path(plan_path))
    plan, ref = resources.load(path)
    the_item = plan.item(str(item))
    events = resources.ledger().events(plan.id, item=the_item.id)
    occurrences = item_occurrences(plan, the_item, events, as_of)
    steps: list[StageSummary] = []
    # The item's tags label this flow run; task runs do without them, since every tagged task run
    # costs concurrency-slot writes on the API ("database is locked" on SQLite) for no reader.
    with TagsContext(current_tags=set()):
        for occurrence in occurrences:
            steps.extend(_run_occurrence(path, ref.plan_hash, plan, the_item, occurrence, as_of, events))
        # Mail goes out before the run waits for anyone: an invitation must not wait for a reply. Under
        # a plan-run in this process, the plan-run delivers it once its items have settled.
        status = item_status(plan, the_item, resources.ledger().events(plan.id, item=the_item.id), as_of)
        _send_coordination_mail(plan, status, as_of, logger)
        if wait_for_input and deployment_runtime.id:
            _wait_for_outcome(plan, the_item, path, as_of, logger)
            status = item_status(plan, the_item, resources.ledger().events(plan.id, item=the_item.id), as_of)
    logger.info("ND %s: %s, %d bước quá hạn", the_item.number, status.rag.value, len(status.overdue))
    return ItemSummary(
        number=the_item.number,
        id=the_item.id,
        rag=status.rag.value,
        overdue=len(status.overdue),
        occurrences=tuple(o.id for o in occurrences),
        steps=tuple(steps),
    )


def _send_coordination_mail(plan, status, as_of: dt.date, logger) -> None:
    """Invitations, reminders, overdue notices and escalations this item calls for today."""
    from notifications.coordination import coordination_mails

    mails = coordination_mails(plan, [status], as_of, links=resources.form_links(plan))
    if mails:
        queue_mail(plan.id, mails)
    deliver_if_due(logger)


def _run_occurrence(path: str, plan_hash: str, plan: Plan, item: Item, occurrence: Occurrence, as_of: dt.date, events) -> list[StageSummary]:
    """The occurrence's four stages in order. A stage whose step records something today runs as a
    `stage` task (retried, cached, seen in the UI); a stage with nothing to record is summarised
    here, without a task run: on a busy morning most stages of most items have nothing to do, and
    every task run costs the API a dozen rows. Which stages record is the tasks' own decision
    (plan/awaiting.py: `stage_step` on the occurrence's state, carried from stage to stage)."""
    if occurrence.known_since > as_of:
        return []
    recorded = {event.key for event in events}
    state = deepcopy(fold(e for e in events if e.occurrence == occurrence.id).get((item.id, occurrence.id), OccurrenceState()))
    steps: list[StageSummary] = []
    decided = occurrence_steps(plan, item, occurrence, state, as_of, working_calendar(plan))
    for stage, stage_steps in groupby(decided, key=lambda decision: decision[0]):
        # Counterpart (None: the stage as a whole) -> its summary, or None where a task must run.
        summaries = {
            counterpart: None if any(e.key not in recorded for e in step.events) else _summary(item, occurrence, stage, counterpart, step, recorded=0)
            for _, counterpart, step in stage_steps
        }
        common: dict[str, Any] = dict(
            plan_path=path,
            plan_hash=plan_hash,
            item_id=item.id,
            occurrence_id=occurrence.id,
            stage=stage.value,
            as_of=as_of,
            input_version=_input_version(events, occurrence.id, stage),
            ledger_id=resources.ledger().instance_id,
        )
        whole = summaries.pop(None)
        ran = iter(_each_counterpart([cp for cp, summary in summaries.items() if summary is None], common))  # type: ignore[misc]
        steps.extend(summary if summary is not None else next(ran) for summary in summaries.values())  # counterparts run together first
        steps.append(whole if whole is not None else stage_task(**common))
    return steps


def _each_counterpart(counterparts: list[str], common: dict[str, Any]) -> list[StageSummary]:
    """The coordination stage once per counterpart, KEHOACH_TASK_WORKERS at a time: one unless told
    otherwise, since concurrent task-run writes to a SQLite-backed Prefect API wait on its lock
    ("database is locked"). With PostgreSQL behind the API, set it to e.g. 8."""
    if not counterparts:
        return []
    task_runner: ThreadPoolTaskRunner[StageSummary] = ThreadPoolTaskRunner(max_workers=resources.settings().task_workers)
    with task_runner as runner:
        answers = runner.map(
            stage_task,
            {
                "counterpart": counterparts,
                "counterpart_label": [f" · {c}" for c in counterparts],
                **{k: unmapped(v) for k, v in common.items()},
            },
        )
        return list(answers.result())  # type: ignore[arg-type]  # Prefect types the results of map() as its futures


def _wait_for_outcome(plan, item, path: str, as_of: dt.date, logger) -> None:
    """Suspend until a unit gives the outcome of the first stage that needs one; no worker is held."""
    from prefect.flow_runs import suspend_flow_run
    from prefect.input.run_input import run_input_subclass_from_type

    status = item_status(plan, item, resources.ledger().events(plan.id, item=item.id), as_of)
    # Resumed, the run starts over: it takes up the pause that fired, whose stage `kehoach record`
    # may have finished already, rather than waiting again for the next stage.
    context = FlowRunContext.get()
    fired = set((context.flow_run.empirical_policy.pause_keys or ()) if context and context.flow_run else ())
    waiting = [view for view in status.stages if pause_key(view.occurrence.id, view.stage, as_of) in fired] or awaiting_outcome(
        plan, status, as_of, working_calendar(plan)
    )
    if not waiting:
        return
    view = waiting[0]
    form = run_input_subclass_from_type(outcome_model(plan, item, view.stage))
    if view.stage is Stage.COORDINATION:
        pending = next((cp for cp, s in view.counterparts.items() if s.value == "invited"), None)
        if pending is not None:
            form = form.with_initial_data(counterpart=pending)  # type: ignore[misc]  # Prefect types the classmethod on RunInput, not its generated subclasses
    key = pause_key(view.occurrence.id, view.stage, as_of)
    if key in fired:  # resumed: Prefect hands back the input given, nothing is awaited any more
        logger.info("Nhận kết quả đơn vị đã nhập: %s", key)
    else:
        logger.info("Chờ đơn vị nhập kết quả: %s", key)
    given = suspend_flow_run(wait_for_input=form, key=key, timeout=None)
    outcome = outcome_payload(given)
    record_outcome_task(path, item.id, view.occurrence.id, view.stage.value, outcome, as_of, "giao diện Prefect")


if __name__ == "__main__":
    content_item(sys.argv[1], dt.date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else None)

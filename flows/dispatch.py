"""How `plan-run` gets its items run: which item runs where, and waiting until they have settled.

- The embedded default (`kehoach run`): each item as a subflow of the plan-run, one after another
  (`in_order`; SQLite locks under concurrent writers), or eight at a time against a PostgreSQL-backed
  API (`concurrently`).
- Deployed (`deployed`): an item that needs a unit's outcome today gets a run of its own from the
  `content-item` deployment (its *waiting run*), so that it can suspend and wait for the input (a
  subflow cannot); the others run as subflows. The plan-run executes both in its own process, eight
  at a time on PostgreSQL, one after another on SQLite, rather than a worker process per waiting item;
  resuming a waiting run goes to a worker.

Only the items with work today get a run at all (plan/workload.py, `work_today`); which will wait
is decided in plan/awaiting.py, the same decision the item's run takes.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from prefect import tags
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.exceptions import PrefectHTTPStatusError

from flows import orphans, resources
from flows.content_item import ItemSummary, content_item
from flows.labels import item_run_name, item_tags
from notifications.coordination import coordination_keys
from notifications.outbox import Outbox
from plan import workload
from plan.awaiting import will_wait
from plan.events import Event
from plan.model import Item, Plan
from plan.progress import ItemStatus
from plan.schedule import working_calendar
from plan.workload import Work

CONTENT_ITEM_DEPLOYMENT = "content-item/content-item"
START_RETRY_SECONDS = (5, 15, 30, 60)  # pauses between tries to create an item run the server refused
NO_WORK = "No work today"  # an item whose run would record and send nothing: it gets none
SETTLED = ("Completed", "Suspended", NO_WORK)  # ended well, waits for a unit's outcome, or had nothing to do


@dataclass(frozen=True)
class ItemRun:
    """How one item of the plan-run ended: its final state (or Suspended, waiting for a unit), the
    flow run that ran it, and, when it ran here as a subflow, its RAG status."""

    number: int
    id: str
    state: str
    flow_run_id: str | None = None
    rag: str | None = None

    @property
    def settled(self) -> bool:
        return self.state in SETTLED


Finished = Callable[[ItemRun], None]

# The command line listens here to show progress; a flow parameter cannot carry a callback.
progress_listeners: list[Callable[[int, int, ItemRun], None]] = []


class Progress:
    """The plan-run's progress artifact and listeners, told of each item as it finishes."""

    def __init__(self, plan: Plan, as_of: dt.date, logger: Any):
        key = f"plan-progress-{plan.id}".replace("_", "-")[:64]
        description = f"Tiến độ chạy {plan.document.number_symbol} ngày {as_of:%d/%m/%Y}"
        # Sync in a sync flow: Prefect types the call for both (sync_compatible).
        self._id: UUID = create_progress_artifact(progress=0.0, key=key, description=description)  # type: ignore[assignment]
        self._total = len(plan.items)
        self._logger = logger
        self._shown = 0.0
        self.results: list[ItemRun] = []

    def finished(self, result: ItemRun) -> None:
        self.results.append(result)
        # At most once a second: a thousand items would otherwise be a thousand API calls.
        if len(self.results) == self._total or time.monotonic() - self._shown >= 1.0:
            try:
                update_progress_artifact(self._id, progress=100.0 * len(self.results) / self._total)
            except Exception as exc:  # noqa: BLE001 - the gauge may lag for a moment; the items may not
                self._logger.warning("Chưa cập nhật được tiến độ: %s", exc)
            self._shown = time.monotonic()
        for listener in progress_listeners:
            listener(len(self.results), self._total, result)


def api_on_postgres() -> bool:
    """Whether this process's Prefect API keeps its state in PostgreSQL."""
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = resources.settings().prefect_database_url or PREFECT_API_DATABASE_CONNECTION_URL.value() or ""
    return url.startswith("postgresql")


def deployed_api_on_postgres() -> bool:
    """A worker does not get the server's database setting; `kehoach serve` puts Prefect's database
    on PostgreSQL whenever the ledger is there, so the ledger's URL tells (the `concurrent`
    parameter of plan-run overrides it)."""
    return api_on_postgres() or resources.settings().ledger_on_postgres


def work_today(plan: Plan, as_of: dt.date) -> dict[str, Work]:
    """Each item's work on `as_of` (plan/workload.py), from one read of the ledger and the outbox."""
    calendar = working_calendar(plan)
    by_item: dict[str, list[Event]] = {}
    for event in resources.ledger().events(plan.id):
        by_item.setdefault(event.item, []).append(event)
    queued = Outbox(resources.ledger()).keys(plan.id)

    def new_mails(status: ItemStatus) -> int:
        return len(coordination_keys(plan, [status], as_of, calendar=calendar) - queued)

    return {item.id: workload.work_today(plan, item, by_item.get(item.id, []), as_of, calendar, new_mails) for item in plan.items}


def without_work(plan: Plan, work: dict[str, Work], can_wait: bool, finished: Finished) -> list[Item]:
    """The items with work today; the others are told finished, with their status, without a run.
    `can_wait`: the runs can suspend for a unit's outcome (deployed)."""
    busy = []
    for item in plan.items:
        if work[item.id].needs_run(can_wait):
            busy.append(item)
        else:
            finished(ItemRun(number=item.number, id=item.id, state=NO_WORK, rag=work[item.id].status.rag.value))
    return busy


def in_order(plan: Plan, items: list[Item], path: str, as_of: dt.date, finished: Finished) -> None:
    """Each item as a subflow, one after another."""
    for item in items:
        finished(_summarised(item, _run_item(plan, item, path, as_of)))


def concurrently(plan: Plan, items: list[Item], path: str, as_of: dt.date, finished: Finished) -> None:
    """Each item as a subflow, eight at a time (a PostgreSQL-backed API only)."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        futures = [(item, pool.submit(contextvars.copy_context().run, _run_item, plan, item, path, as_of)) for item in items]
        for item, future in futures:
            finished(_summarised(item, future.result()))


def _summarised(item: Item, summary: ItemSummary) -> ItemRun:
    return ItemRun(number=item.number, id=item.id, state="Completed", rag=summary.rag)


def _run_item(plan: Plan, item: Item, path: str, as_of: dt.date) -> ItemSummary:
    with tags(*item_tags(plan, item)):
        return content_item(item.id, as_of=as_of, plan_path=path)


def deployed(
    plan: Plan, items: list[Item], work: dict[str, Work], path: str, as_of: dt.date, logger: Any, concurrent: bool, finished: Finished
) -> None:
    """Deployed: an item that will wait for a unit's outcome gets a run of its own (a subflow cannot
    suspend), executed here, in this run's process, until it suspends; the others run as subflows.
    With `concurrent` (PostgreSQL) eight at a time, else (SQLite) one after another: concurrent
    writers would lock its one file. Returns once every item has settled: final, or suspended.

    Which items will wait is decided the way the item's run decides it (plan/awaiting.py: the same
    stage steps, then the same test), in `work_today`. A worker would start a process for each
    waiting item instead: Python, importing Prefect and kehoach, loading the plan, ~10 of the ~16 s
    such an item run took (bench/scale.py); here it costs a thread.
    """
    from prefect.runtime import flow_run as flow_run_runtime

    waiting = [item for item in items if work[item.id].waits]
    here = [item for item in items if not work[item.id].waits]
    logger.info(
        "%d nội dung cần đơn vị nhập kết quả: mỗi nội dung một lượt chạy riêng (chờ trên giao diện); "
        "%d nội dung chạy ngay trong lượt này", len(waiting), len(here),
    )
    at_a_time = 8 if concurrent else 1
    calendar = working_calendar(plan)
    for item, ended, run_id in _run_in_this_process(plan, waiting, here, path, as_of, flow_run_runtime.id, logger, calendar, at_a_time):
        finished(ItemRun(item.number, item.id, ended, run_id))


def _run_in_this_process(
    plan: Plan, waiting: list[Item], here: list[Item], path: str, as_of: dt.date, parent: Any, logger: Any, calendar: Any,
    at_a_time: int,
) -> Iterator[tuple[Item, str, str | None]]:
    """Every item in this run's process, `at_a_time` at once: (item, state name, run id), as each
    settles. The items with nothing to wait for run as subflows; each item that will wait gets a
    run of its own, created from the `content-item` deployment in state Pending (so that no worker
    takes it) and executed here, in a thread with a context of its own (a run, not a subflow), until
    it suspends. Resuming it goes to a worker like any suspended run of the deployment.

    """
    from prefect.client.orchestration import get_client
    from prefect.states import Pending

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(CONTENT_ITEM_DEPLOYMENT)
        me = client.read_flow_run(parent) if parent else None
    # The doctor's reading of whose process a run is in: this run's process and worker.
    owner_pid = me.infrastructure_pid if me else None
    owner_labels = {orphans.WORKER_LABEL: me.labels[orphans.WORKER_LABEL]} if me and me.labels and orphans.WORKER_LABEL in me.labels else None

    def own_run(item):
        parameters = {"item": item.id, "as_of": as_of.isoformat(), "plan_path": path, "wait_for_input": True}
        with get_client(sync_client=True) as client:

            def create():
                run = client.create_flow_run_from_deployment(
                    deployment.id, parameters=parameters, state=Pending(), name=item_run_name(plan, item, as_of),
                    tags=item_tags(plan, item), idempotency_key=f"plan-run-{parent}-{item.id}" if parent else None,
                    labels=owner_labels,
                )
                if owner_pid:
                    client.update_flow_run(run.id, infrastructure_pid=owner_pid)
                return run

            run = _retrying(create, item, logger)
        if run.state is not None and not run.state.is_pending():
            return item, run.state.name, str(run.id)  # made by an earlier try of this plan-run, and past that
        state = contextvars.Context().run(_execute_item_run, run)
        return item, state.name if state is not None else "Crashed", str(run.id)

    def subflow(item):
        _, name, run_id = _as_subflow(plan, item, path, as_of)
        if name == "Completed" and will_wait(plan, item, resources.ledger().events(plan.id, item=item.id), as_of, calendar):
            # Something changed since the ledger was read (a request opened an occurrence): the item
            # does need a unit's outcome today, so it gets a waiting run of its own.
            logger.info("ND %s cần đơn vị nhập kết quả: chạy thành lượt riêng", item.number)
            return own_run(item)
        return item, name, run_id

    with ThreadPoolExecutor(max_workers=at_a_time) as pool:
        futures = [pool.submit(own_run, item) for item in waiting]
        futures += [pool.submit(contextvars.copy_context().run, subflow, item) for item in here]
        for future in as_completed(futures):
            yield future.result()


def _execute_item_run(run):
    """Execute the item's waiting run in this thread; its final state, or Suspended when it waits."""
    from prefect.exceptions import Pause
    from prefect.flow_engine import run_flow

    try:
        return run_flow(content_item, flow_run=run, return_type="state")
    except Pause as paused:  # suspended for a unit's outcome: the engine has set the state
        return paused.state


def _retrying(create: Callable[[], Any], item, logger) -> Any:
    """Create the item's run; again, after a pause, when the server is briefly unable to (503, a
    dropped connection). The idempotency key makes a second try return the run the first made."""
    for attempt, pause in enumerate([*START_RETRY_SECONDS, None], start=1):
        try:
            return create()
        except (PrefectHTTPStatusError, httpx.TransportError) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if pause is None or (status is not None and status < 500):
                raise
            logger.warning("Chưa tạo được lượt chạy ND %s (lần %d: %s); thử lại sau %d s", item.number, attempt, status or exc, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def _as_subflow(plan, item, path: str, as_of: dt.date) -> tuple[Any, str, str | None]:
    """Run the item as a subflow of this run: (item, final state name, flow run id)."""
    with tags(*item_tags(plan, item)):
        state = content_item(item.id, as_of=as_of, plan_path=path, return_state=True)
    run_id = state.state_details.flow_run_id
    return item, str(state.name), str(run_id) if run_id else None

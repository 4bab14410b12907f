"""How `plan-run` gets its items run: which item runs where, and waiting until they have settled.

- The embedded default (`kehoach run`): each item as a subflow of the plan-run, one after another
  (`in_order`; SQLite locks under concurrent writers), or eight at a time against a PostgreSQL-backed
  API (`concurrently`).
- Deployed (`deployed`): an item that needs a unit's outcome today gets a run of its own from the
  `content-item` deployment (its *waiting run*), so that it can suspend and wait for the input (a
  subflow cannot); the items with nothing to wait for run as subflows of the plan-run, in its process, rather than
  costing a process each on the workers. On SQLite the workers take the waiting items' runs, a
  process each, a few at a time; on PostgreSQL the plan-run executes them in its own process too,
  eight at a time (`_run_in_this_process`).

Which items will wait is decided in plan/awaiting.py, the same decision the item's run takes.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import queue
import threading
import time
from collections import deque
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
POLL_SECONDS = 2.0
POLL_BATCH = 200  # flow runs read per API call while waiting for the item runs
QUEUED_MAX = 8  # item runs created and not yet taken by a worker, at most (see deployed)
START_RETRY_SECONDS = (5, 15, 30, 60)  # pauses between tries to create an item run the server refused
STALL_SECONDS = 1800  # stop waiting once nothing has moved for this long
ORPHAN_CHECK_SECONDS = 60  # how often item runs are checked for a process that died without a word
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
    """Deployed: an item that will wait for a unit's outcome starts as its own `content-item` run
    (a subflow cannot suspend), which the workers take; the others run here, as subflows, in a thread
    of this run, meanwhile. Returns once every item has settled: final, or suspended waiting. With
    `concurrent` (PostgreSQL) the waiting runs execute in this process too (`_run_in_this_process`).

    A process per item costs seconds of start-up (importing Prefect, loading the plan) on the
    workers' machine; an item with nothing to wait for today does not need one. Which items will
    wait is decided the way the item's run decides it (plan/awaiting.py: the same stage steps,
    then the same test), in `work_today`.

    Item runs are created as the workers take them: at most QUEUED_MAX wait in the queue at a time.
    Hundreds of runs created at once sit "Scheduled" until a worker is free, and the server's
    late-runs service keeps rewriting them as "Late"; on SQLite those writes take the database's
    lock from everything else, until creating runs fails (measured: bench/scale.py).
    """
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run as flow_run_runtime

    calendar = working_calendar(plan)
    to_start = deque(item for item in items if work[item.id].waits)
    here = [item for item in items if not work[item.id].waits]
    logger.info(
        "%d nội dung cần đơn vị nhập kết quả: mỗi nội dung một lượt chạy riêng (chờ trên giao diện); "
        "%d nội dung chạy ngay trong lượt này", len(to_start), len(here),
    )
    parent = flow_run_runtime.id
    if concurrent:
        for item, ended, run_id in _run_in_this_process(plan, list(to_start), here, path, as_of, parent, logger, calendar):
            finished(ItemRun(item.number, item.id, ended, run_id))
        return
    done_here: queue.Queue = queue.Queue()
    thread = threading.Thread(target=contextvars.copy_context().run, args=(_run_here_into, done_here, plan, here, path, as_of),
                              name="plan-run-items", daemon=True)
    thread.start()
    started: dict[Any, Any] = {}  # flow run id -> item, until it settles
    here_left = len(here)
    last_progress = last_orphan_check = time.monotonic()
    with get_client(sync_client=True) as client:
        while to_start or started or here_left:
            queued = 0
            states_runs = _states(client, list(started), logger)
            for run_id in list(started):
                state = states_runs[run_id].state if run_id in states_runs else None
                if state is not None and (state.is_final() or state.is_paused()):
                    item = started.pop(run_id)
                    finished(ItemRun(item.number, item.id, state.name, str(run_id)))
                    last_progress = time.monotonic()
                elif state is None or state.is_scheduled():  # not read this time: counted as still queued
                    queued += 1
            while to_start and queued < QUEUED_MAX:
                item = to_start.popleft()
                started[_start_item_run(plan, item, path, as_of, parent, logger)] = item
                queued += 1
                last_progress = time.monotonic()
            while True:
                try:
                    outcome = done_here.get_nowait()
                except queue.Empty:
                    break
                if isinstance(outcome, BaseException):
                    raise outcome
                here_left -= 1
                last_progress = time.monotonic()
                item, ended, run_id = outcome
                if ended == "Completed" and will_wait(plan, item, resources.ledger().events(plan.id, item=item.id), as_of, calendar):
                    # Something changed since the ledger was read (a request opened an occurrence):
                    # the item does need a unit's outcome today, so it gets a waiting run of its own.
                    logger.info("ND %s cần đơn vị nhập kết quả: chạy thành lượt riêng", item.number)
                    to_start.append(item)
                    continue
                finished(ItemRun(item.number, item.id, ended, run_id))
            if started and time.monotonic() - last_orphan_check > ORPHAN_CHECK_SECONDS:
                last_orphan_check = time.monotonic()
                for run_id, reason in _crashed_without_a_word([run for run in states_runs.values() if run.id in started], client):
                    item = started.pop(run_id)
                    logger.warning("ND %s: %s; đã đánh dấu Crashed", item.number, reason)
                    finished(ItemRun(item.number, item.id, "Crashed", str(run_id)))
                    last_progress = time.monotonic()
            if time.monotonic() - last_progress > STALL_SECONDS:
                break
            if to_start or started or here_left:
                time.sleep(POLL_SECONDS)
    thread.join(timeout=0 if here_left else 60)
    for run_id, item in started.items():
        logger.warning("ND %s chưa xong sau %d phút không có tiến triển (lượt chạy %s)", item.number, STALL_SECONDS // 60, run_id)
        finished(ItemRun(item.number, item.id, "Running", str(run_id)))
    for item in to_start:
        logger.warning("ND %s chưa bắt đầu: không có tiến triển trong %d phút", item.number, STALL_SECONDS // 60)
        finished(ItemRun(item.number, item.id, "Not started"))


def _run_in_this_process(
    plan: Plan, waiting: list[Item], here: list[Item], path: str, as_of: dt.date, parent: Any, logger: Any, calendar: Any
) -> Iterator[tuple[Item, str, str | None]]:
    """PostgreSQL: every item in this run's process, eight at a time: (item, state name, run id), as
    each settles. The items with nothing to wait for run as subflows; each item that will wait gets a
    run of its own, created from the `content-item` deployment in state Pending (so that no worker
    takes it) and executed here, in a thread with a context of its own (a run, not a subflow), until
    it suspends. Resuming it goes to a worker like any suspended run of the deployment.

    A worker would start a process for each waiting item: Python, importing Prefect, loading the
    plan, ~10 s of the ~13 s such an item run took on two cores (bench/scale.py). Here it costs a
    thread. SQLite cannot take the concurrent writers this means; there, workers run them one
    process each (`deployed`)."""
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

    with ThreadPoolExecutor(max_workers=8) as pool:
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


def _run_here_into(out: queue.Queue, plan, items: list, path: str, as_of: dt.date) -> None:
    """SQLite: the items with nothing to wait for, as subflows one after another, into `out`."""
    try:
        for item in items:
            out.put(_as_subflow(plan, item, path, as_of))
    except BaseException as exc:  # noqa: BLE001 - handed to the run's own thread, which raises it
        out.put(exc)


def _states(client, run_ids: list, logger) -> dict:
    """run id -> flow run, one filtered read per POLL_BATCH runs; none this time if the API is busy (503)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    found: dict[Any, Any] = {}
    for chunk in (run_ids[i : i + POLL_BATCH] for i in range(0, len(run_ids), POLL_BATCH)):
        try:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)), limit=len(chunk))
        except (PrefectHTTPStatusError, httpx.TransportError) as exc:
            logger.debug("Chưa đọc được trạng thái các lượt chạy: %s", exc)
            continue
        found.update((run.id, run) for run in runs)
    return found


def _crashed_without_a_word(runs: list, client) -> list[tuple[Any, str]]:
    """Item runs whose process is gone while they still say Running or Pending: killed, or unable to
    report their end (the database was down). Marked Crashed, as `kehoach doctor --fix` would, in the
    doctor's one certain case only (flows/orphans.py: a worker of this machine, the run's process
    gone), once the run has said nothing for ORPHAN_CHECK_SECONDS, and read once more just before."""
    from prefect.states import Crashed

    now = dt.datetime.now(dt.UTC)
    marked = []
    for run in runs:
        state = run.state
        if state is None or state.type.value not in orphans.ACTIVE_STATES or state.timestamp is None:
            continue
        if (now - state.timestamp).total_seconds() < ORPHAN_CHECK_SECONDS:
            continue
        info = orphans.run_info(run, {})  # its pid, its worker
        # The run's own worker counts as online here: a worker that stopped answering is the doctor's
        # business ("probable"); only a process known to be gone is certain.
        orphan = orphans.classify(info, now=now, online_workers={info.worker} if info.worker else set(),
                                 pid_alive=orphans.pid_alive, local_prefix=orphans.this_host_worker_prefix())
        if orphan is None or not orphan.certain:
            continue
        again = client.read_flow_run(run.id).state
        if again is None or again.type.value not in orphans.ACTIVE_STATES:
            continue
        client.set_flow_run_state(run.id, Crashed(message=f"plan-run: {orphan.reason}; chạy lại kế hoạch để làm tiếp"), force=True)
        marked.append((run.id, orphan.reason))
    return marked


def _start_item_run(plan, item, path: str, as_of: dt.date, parent: str | None, logger):
    """Create the item's run for the workers to take; its id."""
    from prefect.deployments import run_deployment

    def create():
        return run_deployment(
            CONTENT_ITEM_DEPLOYMENT,
            parameters={"item": item.id, "as_of": as_of.isoformat(), "plan_path": path, "wait_for_input": True},
            flow_run_name=item_run_name(plan, item, as_of),
            tags=item_tags(plan, item),
            # The same plan-run started again (a retry after its process died) finds its item runs.
            idempotency_key=f"plan-run-{parent}-{item.id}" if parent else None,
            as_subflow=False,
            timeout=0,
        ).id

    return _retrying(create, item, logger)


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

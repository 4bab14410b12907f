"""SLOW INTEGRATION TEST: faults under `kehoach serve` — a worker killed mid-run, PostgreSQL stopped mid-run.

1. SIGKILL the worker and every process it started (the machine's crash, as far as the plan-run is
   concerned) while `plan-run` is under way. `kehoach serve` starts a new worker; `kehoach doctor`
   names the runs the crash left "Running"; `--fix` marks them Crashed; the plan runs again. Then: every
   item has a settled run, the ledger has no event twice and lost none, no mail went out twice.
2. Stop the PostgreSQL server under the Prefect server and the ledger for a few seconds during a
   run: the run ends visibly (completed after retries, or failed/crashed with a message), nothing
   recorded before is lost, and running again completes without duplicates.

Everything listens on 127.0.0.1 and is stopped by pid (kehoach serve by SIGINT, the cluster by its
data directory).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import mailbox
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from stack import KEHOACH, PREFECT, ServedStack, command_line, descendants, postgres_cluster, run, served_stack, wait_for

from flows.labels import item_run_name
from plan.load import DEFAULT_PLAN, load_plan

AS_OF = "2023-06-20"
PLAN_RUN_TIMEOUT = 420

pytestmark = pytest.mark.skipif(not Path(PREFECT).exists(), reason=f"no prefect executable at {PREFECT}")


def _plan():
    return load_plan(DEFAULT_PLAN).plan


def _trigger_plan_run(stack: ServedStack, client) -> UUID:
    from prefect.deployments import run_deployment

    del client  # the client's settings (API URL, password) are what run_deployment uses
    return run_deployment("plan-run/plan-run", parameters={"as_of": AS_OF}, timeout=0, as_subflow=False).id


def _state(client, run_id: UUID):
    return client.read_flow_run(run_id).state


def _wait_final(stack: ServedStack, client, run_id: UUID, timeout: float = PLAN_RUN_TIMEOUT):
    def probe():
        state = _state(client, run_id)
        return bool(state and state.is_final()), state.name if state else None

    wait_for(f"plan-run {run_id} to end", probe, timeout, every=1, fail=stack.fail)
    return _state(client, run_id)


def _item_runs(client) -> dict[str, list[Any]]:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["content-item"])), limit=200)
    by_name: dict[str, list[Any]] = {}
    for r in runs:
        by_name.setdefault(r.name, []).append(r)
    return by_name


def _settled(run) -> bool:
    return run.state is not None and (run.state.is_completed() or run.state.is_paused())


def _worker_tree(stack: ServedStack) -> tuple[int, list[int]]:
    workers = [pid for pid in descendants(stack.serve.process.pid) if "worker start" in command_line(pid)]
    assert len(workers) == 1, f"expected one worker under kehoach serve, found {workers}"
    return workers[0], descendants(workers[0])


def _events(stack: ServedStack):
    with stack.ledger() as ledger:
        return ledger.events(_plan().id)


def _duplicates(events) -> list[tuple]:
    """The same fact recorded twice: same item, kind, occurrence, stage, counterpart, status and date."""
    facts = Counter((e.item, str(e.kind), e.occurrence, e.stage, e.counterpart, e.status, e.effective_date, e.actor) for e in events)
    return [fact for fact, n in facts.items() if n > 1]


def _delivered_message_ids(home: Path) -> list[str]:
    box = home / "maildir"
    if not box.exists():
        return []
    return [str(message["Message-ID"]) for message in mailbox.Maildir(str(box), create=False)]


def _doctor(stack: ServedStack, *args: str):
    return run([KEHOACH, "doctor", *args], {**stack.env, "COLUMNS": "200"}, timeout=120, check=False)


# -- 1. the worker killed ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_worker_killed_mid_plan_run_loses_no_item_and_duplicates_nothing(tmp_path, backend):
    """On SQLite the waiting items run on the workers, a process each; on PostgreSQL in the plan-run's
    process (flows/plan_run.py): either way the kill takes item runs with it."""
    with contextlib.ExitStack() as stacks:
        database_url = None
        if backend == "postgresql":
            from stack import create_database

            database_url = create_database(stacks.enter_context(postgres_cluster(tmp_path)).admin_url, "kehoach")
        _worker_killed(stacks.enter_context(served_stack(tmp_path / "killed", database_url=database_url)))


def _with_work_on_an_empty_ledger(plan) -> set[str]:
    """The items the plan-run gives a run on AS_OF, with nothing recorded yet (plan/workload.py)."""
    from plan.schedule import working_calendar
    from plan.workload import work_today

    day = dt.date.fromisoformat(AS_OF)
    calendar = working_calendar(plan)
    return {item.id for item in plan.items if work_today(plan, item, [], day, calendar).needs_run(can_wait=True)}


def _worker_killed(stack: ServedStack) -> None:
    plan = _plan()
    with_work = _with_work_on_an_empty_ledger(plan)
    assert 0 < len(with_work) < len(plan.items), "a date with items to run and items with nothing to do"
    # Items without work get no run (plan-run reports them with their status); the others must settle.
    names = {item.id: item_run_name(plan, item, dt.date.fromisoformat(AS_OF)) for item in plan.items if item.id in with_work}
    with stack.client() as client:
        plan_run = _trigger_plan_run(stack, client)

        # Mid-run: the plan-run is running and some of its item runs are, while others are not done yet.
        def mid_run():
            runs = _item_runs(client)
            running = [r for rs in runs.values() for r in rs if r.state and r.state.is_running()]
            state = _state(client, plan_run)
            return bool(state and state.is_running() and running and len(runs) < len(names) + 1), (state and state.name, len(runs), len(running))

        wait_for("plan-run to be under way with item runs running", mid_run, 240, every=0.3, fail=stack.fail)
        worker, started = _worker_tree(stack)
        for pid in [worker, *started]:
            os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()

        # kehoach serve notices and starts a worker again.
        def restarted():
            try:
                new, _ = _worker_tree(stack)
            except AssertionError as exc:
                return False, str(exc)
            return new != worker, new

        wait_for("kehoach serve to start a new worker", restarted, 60, fail=stack.fail)
        assert "worker-1 đã dừng" in stack.serve.log.read_text(encoding="utf-8"), stack.logs()
        stack.wait_for_workers(1)

        # The crash left the plan-run "Running": the doctor finds it, with the reason, and fixes it.
        assert _state(client, plan_run).is_running(), f"plan-run is {_state(client, plan_run).name} after its process was killed"
        found = _doctor(stack)
        assert found.returncode == 1, f"doctor should report the abandoned runs (exit 1):\n{found.stdout}\n{found.stderr}"
        assert "Lượt chạy bị bỏ dở sau sự cố" in found.stdout and str(plan_run) in found.stdout, found.stdout
        assert "không còn" in found.stdout and "chắc chắn" in found.stdout, found.stdout
        fixed = _doctor(stack, "--fix")
        assert fixed.returncode == 0, f"doctor --fix:\n{fixed.stdout}\n{fixed.stderr}"
        assert "đã đánh dấu Crashed" in fixed.stdout, fixed.stdout
        assert _state(client, plan_run).type.value == "CRASHED"
        clean = _doctor(stack)
        assert clean.returncode == 0 and "Không có lượt chạy nào bị bỏ dở" in clean.stdout, clean.stdout
        print(f"worker killed → doctor fixed in {time.monotonic() - killed_at:.1f} s")

        # Run the plan again: every item ends settled; nothing recorded twice, nothing lost, no mail twice.
        before = {e.key for e in _events(stack)}
        again = _trigger_plan_run(stack, client)
        state = _wait_final(stack, client, again)
        assert state.is_completed(), f"the second plan-run ended {state.name}: {state.message}\n{stack.logs()}"
        runs = _item_runs(client)
        unsettled = {item: [r.state.name for r in runs.get(name, [])] for item, name in names.items() if not any(_settled(r) for r in runs.get(name, []))}
        assert not unsettled, f"items with no completed or waiting run after the rerun: {unsettled}"
        events = _events(stack)
        assert before <= {e.key for e in events}, "events recorded before the crash were lost"
        assert not _duplicates(events), f"facts recorded twice: {_duplicates(events)[:5]}"
        ids = _delivered_message_ids(stack.kehoach_home)
        assert len(ids) == len(set(ids)), f"mail delivered twice: {[i for i, n in Counter(ids).items() if n > 1]}"


# -- 2. PostgreSQL stopped --------------------------------------------------------------------------


def test_postgres_stopped_mid_run_fails_or_retries_visibly_and_loses_nothing(tmp_path):
    with postgres_cluster(tmp_path) as cluster:
        from stack import create_database

        ledger_url = create_database(cluster.admin_url, "kehoach")
        with served_stack(tmp_path / "pg", database_url=ledger_url) as stack, stack.client() as client:
            plan_run = _trigger_plan_run(stack, client)

            def recording():
                return len(_events(stack)) >= 20, len(_events(stack))

            wait_for("the run to record its first events", recording, 240, every=0.5, fail=stack.fail)
            before = {e.key for e in _events(stack)}
            cluster.stop("fast")
            time.sleep(8)
            cluster.start()

            state = _wait_final(stack, client, plan_run)
            item_states = [r.state for rs in _item_runs(client).values() for r in rs if r.state]
            troubled = [s for s in item_states if s.type.value in ("FAILED", "CRASHED")]
            retried = _retries(client)
            # Visible: either the runs say what happened, or the task runs show their retries.
            if not state.is_completed():
                assert state.message, f"plan-run ended {state.name} without a message"
            assert troubled or retried or not state.is_completed(), (
                "PostgreSQL was stopped for 8 s under the run and nothing shows it: "
                f"plan-run {state.name}, item runs {Counter(s.name for s in item_states)}"
            )
            after = {e.key for e in _events(stack)}
            assert before <= after, f"{len(before - after)} events recorded before the stop were lost"

            # Whatever the outage cut short runs again to the end, without duplicates.
            _doctor(stack, "--fix")
            again = _trigger_plan_run(stack, client)
            second = _wait_final(stack, client, again)
            assert second.is_completed(), f"the plan-run after the outage ended {second.name}: {second.message}\n{stack.logs()}"
            events = _events(stack)
            assert after <= {e.key for e in events}
            assert not _duplicates(events), f"facts recorded twice: {_duplicates(events)[:5]}"
            print(f"outage: plan-run {state.name}; item runs {Counter(s.name for s in item_states)}; task retries {retried}")


def _retries(client) -> int:
    """Task runs that ran more than once (retried after an error)."""
    return sum(1 for r in client.read_task_runs(limit=200) if (r.run_count or 0) > 1)

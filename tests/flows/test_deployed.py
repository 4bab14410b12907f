"""SLOW INTEGRATION TEST: the deployed `content-item` flow under `kehoach serve` (real server and worker).

`kehoach serve` starts the Prefect server on 127.0.0.1 with its basic auth on, creates the `kehoach`
work pool, runs `prefect deploy --all` from the repository root and starts a worker; then the test
runs `content-item/content-item`, which suspends waiting for a unit's outcome, and resumes it twice
over: through the API with the password (what the UI's Resume form does) and through `kehoach
record`. Takes under a minute; `kehoach serve` is stopped with SIGINT at the end and must leave
nothing running.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from stack import KEHOACH, PREFECT, ServedStack, run as _run, wait_for

from plan.events import EventKind
from plan.load import DEFAULT_PLAN, load_plan
from plan.model import Stage
from plan.occurrences import item_occurrences
from plan.outcomes import outcome_model, outcome_payload

ITEM_NUMBER, ITEM_ID = "7", "ngoi-lang-chau-au"
AS_OF = "2023-05-15"
# The second scenario has its own ledger and date: stage results are cached by plan, item, stage and
# date (not by ledger), so the same date on a fresh ledger would find every stage in the cache.
SECOND_AS_OF = "2023-05-16"
UI_ACTOR = "giao diện Prefect"
CLI_ACTOR = "kiểm thử tích hợp"

RUN_STATE_TIMEOUT = 90

pytestmark = pytest.mark.skipif(not Path(PREFECT).exists(), reason=f"no prefect executable next to {PREFECT}")


@pytest.fixture(name="stack")
def fixture_stack(team_stack: ServedStack) -> ServedStack:
    return team_stack


@pytest.fixture(name="client")
def fixture_client(stack: ServedStack):
    """A Prefect client of the test's server (with its password), whatever other tests configured."""
    with stack.client() as client:
        yield client


# -- helpers ------------------------------------------------------------------------------------------


def _wait_for(stack: ServedStack, what: str, probe: Callable[[], Any], timeout: float = RUN_STATE_TIMEOUT, every: float = 0.5) -> Any:
    return wait_for(what, probe, timeout, every, fail=stack.fail)


def _wait_for_state(stack: ServedStack, client, run_id: UUID, wanted: str, timeout: float = RUN_STATE_TIMEOUT):
    from prefect.client.schemas.objects import StateType

    def probe():
        run = client.read_flow_run(run_id)
        state = run.state
        if state is not None and state.type == StateType(wanted):
            return True, run
        if state is not None and state.is_final() and state.type != StateType(wanted):
            stack.fail(f"flow run {run_id} ended {state.type.value} ({state.name}: {state.message}) instead of {wanted}")
        return False, f"{state.type.value if state else None} ({state.name if state else ''})"

    return _wait_for(stack, f"flow run {run_id} to be {wanted}", probe, timeout)


def _start_run(as_of: str, kehoach_home: Path | None = None) -> UUID:
    """A run of the deployment as `prefect deployment run` starts it: no tags, wait_for_input from prefect.yaml."""
    from prefect.deployments import run_deployment

    job_variables = {"env": {"KEHOACH_HOME": str(kehoach_home)}} if kehoach_home else None
    run = run_deployment(
        "content-item/content-item",
        parameters={"item": ITEM_NUMBER, "as_of": as_of},
        job_variables=job_variables,
        timeout=0,
        as_subflow=False,
    )
    return run.id


def _stored_input(client, run_id: UUID, key: str) -> Callable[[], tuple[bool, Any]]:
    """A probe for a flow run input: the run is PAUSED a moment before it saves its schema."""
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

    def probe():
        state = client.read_flow_run(run_id).state
        if state is None or not state.is_paused():
            return False, f"run left the pause: {state.type.value if state else None} ({state.name if state else ''}: {state.message if state else ''})"
        try:
            return True, client.read_flow_run_input(run_id, key)
        except (ObjectNotFound, PrefectHTTPStatusError) as exc:
            return False, f"not stored yet ({exc.__class__.__name__})"

    return probe


@dataclass
class Waiting:
    key: str
    occurrence: str
    stage: Stage
    schema: dict[str, Any]


def _wait_until_suspended(stack: ServedStack, client, run_id: UUID, as_of: str) -> Waiting:
    run = _wait_for_state(stack, client, run_id, "PAUSED")
    details = run.state.state_details
    key = details.pause_key or ""
    assert run.state.name == "Suspended", f"paused as {run.state.name!r}, not suspended: the run would hold a worker slot"
    # occurrence--stage--date: Prefect keeps the form under keys of lowercase letters, digits, dashes.
    occurrence, _, rest = key.partition("--")
    stage_name, _, date = rest.partition("--")
    assert occurrence == "main", f"pause key {key!r} does not name the main occurrence"
    assert date == as_of, f"pause key {key!r} does not end with the date {as_of}"
    assert stage_name in {s.value for s in Stage}, f"pause key {key!r} names no stage"
    keyset = details.run_input_keyset
    assert keyset and "schema" in keyset, f"the suspended state carries no run input keyset: {details}"
    # The Resume form in the UI is drawn from this schema.
    stored = _wait_for(stack, f"the run input schema {keyset['schema']!r} of {run_id}", _stored_input(client, run_id, keyset["schema"]), timeout=30)
    schema = json.loads(stored)
    assert schema.get("properties"), f"the stored run input schema has no fields: {schema}"
    return Waiting(key=key, occurrence=occurrence, stage=Stage(stage_name), schema=schema)


@functools.lru_cache(maxsize=1)
def _plan():
    return load_plan(DEFAULT_PLAN).plan


def _outcome_for(stage: Stage, as_of: str) -> tuple[dict[str, Any], list[str]]:
    """A valid outcome for the stage, as the ledger stores it, and the `kehoach record` options giving it."""
    plan = _plan()
    item = plan.item(ITEM_ID)
    counterpart = item_occurrences(plan, item, [], dt.date.fromisoformat(as_of))[0].counterparts[0]
    data, options = {
        Stage.PREPARATION: (
            {"result": "done", "detailed_plan_approved": True, "venue_confirmed": True},
            ["--set", "result=done", "--set", "detailed_plan_approved=true", "--set", "venue_confirmed=true"],
        ),
        Stage.COORDINATION: (
            {"counterpart": counterpart, "answer": "confirmed", "contact": "Bà Lan"},
            ["--counterpart", counterpart, "--set", "answer=confirmed", "--set", "contact=Bà Lan"],
        ),
        Stage.EXECUTION: (
            {"result": "done", "indicators": {"participants": 25000}},
            ["--set", "result=done", "--set", "indicators.participants=25000"],
        ),
        Stage.REPORTING: (
            {"result": "done", "document_number": "125/BC-SVHTT"},
            ["--set", "result=done", "--set", "document_number=125/BC-SVHTT"],
        ),
    }[stage]
    payload = outcome_payload(outcome_model(plan, item, stage).model_validate(data))
    return payload, options


def _outcomes(stack: ServedStack, stage: Stage, home: Path | None = None) -> list:
    with stack.ledger(home) as ledger:
        return [e for e in ledger.events(_plan().id, item=ITEM_ID, kinds=[EventKind.OUTCOME]) if e.stage == stage.value]


def _ledger_keys(stack: ServedStack, home: Path | None = None) -> list[str]:
    with stack.ledger(home) as ledger:
        return [e.key for e in ledger.events(_plan().id)]


def _stage_task_runs(stack: ServedStack, client, run_id: UUID) -> dict[str, Counter]:
    """Stage task name -> how many of its task runs ended in each state, once the resumed run's
    record-outcome task run is in (a stage task run again would come before it)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    stages = {s.value for s in Stage}

    def probe():
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        by_name: dict[str, Counter] = {}
        resumed = any(r.name.startswith("record-outcome") and r.state and r.state.is_final() for r in runs)
        for r in runs:
            if r.name.split(" · ")[0] in stages:
                by_name.setdefault(r.name, Counter())[r.state.name if r.state else "?"] += 1
        settled = resumed and bool(by_name) and all("?" not in c for c in by_name.values())
        return settled, by_name

    # Task runs reach the API as events, a moment after the flow run's own state.
    return _wait_for(stack, f"the stage task runs of flow run {run_id}", probe, timeout=30)


def _suspensions(client, run_id: UUID) -> list[str]:
    return [s.state_details.pause_key for s in client.read_flow_run_states(run_id) if s.name == "Suspended"]


# -- the tests ----------------------------------------------------------------------------------------


def test_a_suspended_run_resumed_with_a_typed_outcome_records_it_and_redoes_no_stage(stack, client):
    from prefect.flow_runs import resume_flow_run

    run_id = _start_run(AS_OF)
    waiting = _wait_until_suspended(stack, client, run_id, AS_OF)
    payload, _ = _outcome_for(waiting.stage, AS_OF)
    assert set(payload) <= set(waiting.schema["properties"]), (payload, waiting.schema)
    before = _ledger_keys(stack)
    assert before, "the stages that ran before the suspension recorded nothing in the worker's ledger"
    assert not _outcomes(stack, waiting.stage)

    resume_flow_run(run_id, run_input=payload)
    _wait_for_state(stack, client, run_id, "COMPLETED")

    outcomes = _outcomes(stack, waiting.stage)
    assert [(e.payload, e.actor, e.occurrence) for e in outcomes] == [(payload, UI_ACTOR, waiting.occurrence)]
    after = _ledger_keys(stack)
    assert after[: len(before)] == before, "events recorded before the suspension changed"
    assert len(after) == len(set(after))
    assert _suspensions(client, run_id) == [waiting.key]

    # Resumed, the flow started over: a stage that recorded before the suspension has nothing left to
    # record, so it gets no second task run; each stage task ran once.
    task_runs = _stage_task_runs(stack, client, run_id)
    assert task_runs, "no stage task run: the stages that recorded before the suspension ran as tasks"
    for name, states in task_runs.items():
        assert states == Counter({"Completed": 1}), f"{name}: {dict(states)} — a finished stage ran again"


def test_kehoach_record_resumes_the_waiting_run_and_the_outcome_is_recorded_once(stack, client, tmp_path):
    home = tmp_path / "kehoach"  # a fresh ledger: the run waits for the first stage, with later ones due too
    run_id = _start_run(SECOND_AS_OF, kehoach_home=home)
    waiting = _wait_until_suspended(stack, client, run_id, SECOND_AS_OF)
    payload, options = _outcome_for(waiting.stage, SECOND_AS_OF)
    assert _ledger_keys(stack, home), "the run did not record into the ledger given in its job variables"
    assert not _outcomes(stack, waiting.stage, home)

    env = {**stack.env, "KEHOACH_HOME": str(home)}
    recorded = _run([KEHOACH, "record", ITEM_NUMBER, waiting.stage.value, *options, "--on", SECOND_AS_OF], env, timeout=120)
    assert str(run_id) in recorded.stdout, f"kehoach record did not resume {run_id}:\n{recorded.stdout}\n{recorded.stderr}"
    _wait_for_state(stack, client, run_id, "COMPLETED")

    outcomes = _outcomes(stack, waiting.stage, home)
    assert [(e.payload, e.actor) for e in outcomes] == [(payload, CLI_ACTOR)], "the outcome must be recorded once, by the command"
    keys = _ledger_keys(stack, home)
    assert len(keys) == len(set(keys))
    # Resumed for the stage it waited for, the run takes that outcome and ends; it does not wait again.
    assert _suspensions(client, run_id) == [waiting.key]

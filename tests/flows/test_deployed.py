"""SLOW INTEGRATION TEST: the deployed `content-item` flow on a real Prefect server and process worker.

Starts `prefect server start` on 127.0.0.1 (its own PREFECT_HOME), creates the `kehoach` work pool,
runs `prefect --no-prompt deploy --all` from the repository root exactly as the README says and
starts `prefect worker start --pool kehoach`; then runs `content-item/content-item`, which suspends
waiting for a unit's outcome, and resumes it twice over: through the API (what the UI's Resume
form does) and through `kehoach record`. Takes under a minute; everything it starts is stopped by
its process id at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from plan.events import EventKind
from plan.ledger import Ledger
from plan.load import DEFAULT_PLAN, load_plan
from plan.model import Stage
from plan.occurrences import item_occurrences
from plan.outcomes import outcome_model, outcome_payload

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
KEHOACH = str(BIN / "kehoach")
ITEM_NUMBER, ITEM_ID = "7", "ngoi-lang-chau-au"
AS_OF = "2023-05-15"
# The second scenario has its own ledger and date: stage results are cached by plan, item, stage and
# date (not by ledger), so the same date on a fresh ledger would find every stage in the cache.
SECOND_AS_OF = "2023-05-16"
UI_ACTOR = "giao diện Prefect"
CLI_ACTOR = "kiểm thử tích hợp"

SERVER_START_TIMEOUT = 90
RUN_STATE_TIMEOUT = 90
WORKER_STOP_GRACE = 40

pytestmark = pytest.mark.skipif(not Path(PREFECT).exists(), reason=f"no prefect executable next to {sys.executable}")


# -- processes ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


def _descendants(pid: int) -> list[int]:
    """Every live process below `pid` (from /proc), children first found first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is as good as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


@dataclass
class Service:
    """A process this module started, with its output in files."""

    name: str
    process: subprocess.Popen
    log: Path
    known_descendants: set[int] = field(default_factory=set)

    def remember_descendants(self) -> None:
        if self.process.poll() is None:
            self.known_descendants.update(_descendants(self.process.pid))

    def stop(self, grace: float) -> None:
        """SIGTERM by pid, wait up to `grace` seconds, then SIGKILL; the same for what it started."""
        self.remember_descendants()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        leftovers = [pid for pid in self.known_descendants if _alive(pid)]
        for pid in leftovers:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while leftovers and time.monotonic() < deadline:
            leftovers = [pid for pid in leftovers if _alive(pid)]
            time.sleep(0.2)
        for pid in leftovers:
            _signal(pid, signal.SIGKILL)


def _start(name: str, args: list[str], env: dict[str, str], logs: Path, cwd: Path = REPO) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Service(name, process, log)


def _run(args: list[str], env: dict[str, str], timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
    return done


@dataclass
class Stack:
    api_url: str
    env: dict[str, str]
    kehoach_home: Path
    server: Service
    worker: Service | None = None

    def logs(self) -> str:
        parts = []
        for service in (self.server, self.worker):
            if service is not None:
                service.remember_descendants()
                parts.append(f"--- {service.name} log ({service.log}), last lines:\n{_tail(service.log)}")
        return "\n".join(parts)

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n{self.logs()}", pytrace=False)

    def ledger(self, home: Path | None = None) -> Ledger:
        return Ledger(f"sqlite:///{(home or self.kehoach_home) / 'ledger.sqlite'}")


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any Prefect or Kehoach configuration, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KEHOACH_"))}
    env.update(extra)
    return env


def _wait_for_health(stack: Stack) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.server.process.poll() is not None:
            stack.fail(f"prefect server exited with {stack.server.process.returncode} before it was healthy")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{stack.api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    stack.fail(f"prefect server not healthy at {stack.api_url}/health after {SERVER_START_TIMEOUT} s")


@pytest.fixture(name="stack", scope="module")
def fixture_stack(tmp_path_factory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("deployed")
    logs = root / "logs"
    logs.mkdir()
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = _clean_env(
        PREFECT_HOME=str(root / "prefect-home"),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # The plan-run deployment has a daily schedule: no scheduled run may start during the test.
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_HEARTBEAT_SECONDS="5",
        KEHOACH_HOME=str(root / "kehoach"),
        KEHOACH_USER=CLI_ACTOR,
        PWD=str(REPO),  # prefect.yaml's pull step: set_working_directory "{{ $PWD }}"
        PYTHONUNBUFFERED="1",
    )
    server = _start(
        "server",
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--no-scheduler", "--analytics-off"],
        env,
        logs,
    )
    stack = Stack(api_url=api_url, env=env, kehoach_home=root / "kehoach", server=server)
    try:
        _wait_for_health(stack)
        server.remember_descendants()
        try:
            _run([PREFECT, "work-pool", "create", "kehoach", "--type", "process"], env)
            _run([PREFECT, "--no-prompt", "deploy", "--all"], env, timeout=180)
        except (AssertionError, subprocess.TimeoutExpired) as exc:
            stack.fail(f"setting up the deployments failed: {exc}")
        stack.worker = _start(
            "worker",
            [PREFECT, "worker", "start", "--pool", "kehoach", "--type", "process", "--limit", "4", "--name", f"kehoach-test-{port}"],
            env,
            logs,
        )
        yield stack
    finally:
        if stack.worker is not None:
            stack.worker.stop(grace=WORKER_STOP_GRACE)
        server.stop(grace=30)
        left = [
            f"{s.name}:{pid}"
            for s in (stack.worker, server)
            if s is not None
            for pid in [s.process.pid, *s.known_descendants]
            if _alive(pid)
        ]
        assert not left, f"processes still running after teardown: {left}"


@pytest.fixture(name="client")
def fixture_client(stack: Stack):
    """A Prefect client of the test's server, whatever other tests configured in this process."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
        with get_client(sync_client=True) as client:
            yield client


# -- helpers ------------------------------------------------------------------------------------------


def _wait_for(stack: Stack, what: str, probe: Callable[[], Any], timeout: float = RUN_STATE_TIMEOUT, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = probe()
        if ok:
            return last
        time.sleep(every)
    stack.fail(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last}")


def _wait_for_state(stack: Stack, client, run_id: UUID, wanted: str, timeout: float = RUN_STATE_TIMEOUT):
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


def _wait_until_suspended(stack: Stack, client, run_id: UUID, as_of: str) -> Waiting:
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


def _outcomes(stack: Stack, stage: Stage, home: Path | None = None) -> list:
    with stack.ledger(home) as ledger:
        return [e for e in ledger.events(_plan().id, item=ITEM_ID, kinds=[EventKind.OUTCOME]) if e.stage == stage.value]


def _ledger_keys(stack: Stack, home: Path | None = None) -> list[str]:
    with stack.ledger(home) as ledger:
        return [e.key for e in ledger.events(_plan().id)]


def _stage_task_runs(stack: Stack, client, run_id: UUID) -> dict[str, Counter]:
    """Stage task name -> how many of its task runs ended in each state, once the re-run's are in."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    stages = {s.value for s in Stage}

    def probe():
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        by_name: dict[str, Counter] = {}
        for r in runs:
            if r.name.split(" · ")[0] in stages:
                by_name.setdefault(r.name, Counter())[r.state.name if r.state else "?"] += 1
        # Before and after the suspension: two task runs per stage, both finished.
        settled = bool(by_name) and all(sum(c.values()) >= 2 and "?" not in c for c in by_name.values())
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

    # Resumed, the flow started over: every stage task ran once, and its second run came from the cache.
    for name, states in _stage_task_runs(stack, client, run_id).items():
        assert states == Counter({"Completed": 1, "Cached": 1}), f"{name}: {dict(states)} — a finished stage ran again"


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

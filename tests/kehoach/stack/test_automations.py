"""The crash automation `kehoach serve` installs (kehoach/stack/automations.py), firing on a real server.

A flow run whose process is killed stops sending heartbeats: the automation marks it Crashed. A run
that ended sends its final state, which closes the window: it is left as it is. The trigger and the
action are the ones `kehoach serve` installs; only the window is shorter (15 s instead of 90 s, so
that the test waits seconds, not minutes) and it watches this test's runs only, by name, so that it
cannot touch the other runs of the session's stack.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from stack import PREFECT, ServedStack, wait_for

from kehoach.stack.automations import zombie_automation

pytestmark = pytest.mark.skipif(not Path(PREFECT).exists(), reason=f"no prefect executable at {PREFECT}")

WINDOW = dt.timedelta(seconds=15)
# A flow that says when it has started and then does nothing (the heartbeats go on) until the test
# creates its release file, or for ten minutes at most.
BEATING_FLOW = """
import sys, time
from pathlib import Path
from prefect import flow

@flow(name="heartbeat-test", flow_run_name=sys.argv[1])
def beating(release: str) -> None:
    print("started", flush=True)
    deadline = time.monotonic() + 600
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.2)

beating(sys.argv[2])
"""


def _post(stack: ServedStack, path: str, body: dict) -> object:
    request = urllib.request.Request(stack.api_url + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", "Basic " + base64.b64encode(stack.auth.encode()).decode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _run_named(stack: ServedStack, name: str) -> dict | None:
    runs = _post(stack, "/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}, "limit": 1})
    return runs[0] if runs else None


def _heartbeats(stack: ServedStack, run_id: str) -> list[dict]:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    page = _post(stack, "/events/filter", {
        "filter": {"occurred": {"since": since}, "event": {"name": ["prefect.flow-run.heartbeat"]},
                   "resource": {"id": [f"prefect.flow-run.{run_id}"]}},
        "limit": 50,
    })
    return page["events"]


def test_a_run_whose_process_is_killed_is_marked_crashed_and_a_run_that_ended_is_left_alone(team_stack: ServedStack, tmp_path):
    tag = uuid.uuid4().hex[:8]
    automation = zombie_automation(within=WINDOW, name=f"kiểm thử {tag}", match={"prefect.resource.name": f"beat-{tag}-*"})
    with team_stack.client():  # the settings of this stack for Automation.create/delete
        automation_id = automation.create().id
    processes: list[subprocess.Popen] = []
    try:
        env = {**team_stack.env, "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"}  # what serve gives workers
        script = tmp_path / "beating.py"
        script.write_text(BEATING_FLOW, encoding="utf-8")
        names = {"killed": f"beat-{tag}-killed", "ended": f"beat-{tag}-ended"}
        release = {role: tmp_path / f"{role}.release" for role in names}
        for role in ("killed", "ended"):
            with (tmp_path / f"{role}.log").open("wb") as out:
                processes.append(subprocess.Popen([sys.executable, str(script), names[role], str(release[role])], env=env,
                                                  stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        killed_process, ended_process = processes

        def beating(name):
            def probe():
                run = _run_named(team_stack, name)
                if run is None:
                    return False, "no run yet"
                return bool(_heartbeats(team_stack, run["id"])), (run["state_name"], "no heartbeat yet")
            return probe

        def logs() -> str:
            return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(tmp_path.glob("*.log")))

        def fail(message: str) -> None:
            pytest.fail(f"{message}\n{logs()}", pytrace=False)

        # Both runs have beaten (as the server records it) before one is killed and the other ends: the
        # ended run's window is open, so it is its final state that must close it.
        wait_for("the first heartbeat of the run to be killed", beating(names["killed"]), 120, fail=fail)
        wait_for("the first heartbeat of the run that ends", beating(names["ended"]), 120, fail=fail)
        killed = _run_named(team_stack, names["killed"])
        assert killed["state_type"] == "RUNNING", killed["state_name"]
        killed_process.send_signal(signal.SIGKILL)  # the process we started, by its pid
        killed_process.wait(timeout=10)
        killed_at = time.monotonic()

        release["ended"].touch()
        assert ended_process.wait(timeout=120) == 0, logs()
        assert _run_named(team_stack, names["ended"])["state_type"] == "COMPLETED", logs()

        def crashed():
            run = _run_named(team_stack, names["killed"])
            return run["state_type"] == "CRASHED", run["state_name"]

        wait_for("the automation to mark the killed run Crashed", crashed, 120, every=1, fail=fail)
        with team_stack.client() as client:
            state = client.read_flow_run(killed["id"]).state
        # Not before the window: a run is not given up while it may still beat (the window runs from its
        # last heartbeat, which came before the kill).
        last_beat = max(dt.datetime.fromisoformat(e["occurred"]) for e in _heartbeats(team_stack, killed["id"]))
        assert state.timestamp - last_beat >= WINDOW - dt.timedelta(seconds=1), (last_beat, state.timestamp)
        assert state.message == f"Mất tín hiệu (heartbeat) {int(WINDOW.total_seconds())} giây: tiến trình của lượt chạy đã dừng đột ngột."

        # The ended run's window has passed too (its last heartbeat came before the kill): its Completed closed it.
        time.sleep(max(0.0, WINDOW.total_seconds() + 10 - (time.monotonic() - killed_at)))
        assert _run_named(team_stack, names["ended"])["state_type"] == "COMPLETED"
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        with team_stack.client() as client:
            client.delete_automation(automation_id)

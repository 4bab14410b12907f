"""The content-item and plan-run flows on a Prefect test harness, against a real SQLite ledger."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from flows import resources
from plan.events import EventKind, plan_ref
from plan.progress import Rag, plan_status
from plan.scenario import load_scenario, scenario_events

SAMPLE = Path(__file__).resolve().parents[2] / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"
YEAR_END = dt.date(2023, 12, 31)



def _apply_sample(plan, as_of):
    scenario, problems = load_scenario(SAMPLE)
    assert not problems
    ledger = resources.ledger()
    ledger.append(plan_ref(plan), scenario_events(plan, scenario, ledger.events(plan.id), as_of, actor="kịch bản"))


def _keys(plan):
    return [e.key for e in resources.ledger().events(plan.id)]


def test_plan_run_on_the_sample_year_gives_the_expected_statuses(prefect_api, kehoach_home, plan):
    from flows.plan_run import plan_run

    _apply_sample(plan, YEAR_END)
    results = plan_run(as_of=YEAR_END)
    assert [r.number for r in results] == list(range(1, 10))
    assert {r.number for r in results if r.rag == Rag.DONE.value} == {2, 3, 4, 6, 7, 8, 9}
    statuses = {s.item.number: s for s in plan_status(plan, resources.ledger().events(plan.id), YEAR_END)}
    assert statuses[5].rag is Rag.OFF_TRACK  # the research item never delivered
    assert {n for n, s in statuses.items() if s.rag is Rag.DONE} == {2, 3, 4, 6, 7, 8, 9}
    # Item 9: Canada declined; Belgium, never answering, is not invited on 31/12 to an event held on
    # 28/10: the coordination ended with the event (the day its execution was recorded).
    coordination = next(v for v in statuses[9].stages if v.stage.value == "coordination")
    assert coordination.counterparts["dsq-canada"].value == "declined"
    assert coordination.counterparts["dsq-bi"].value == "to_invite"
    assert coordination.finished_on == dt.date(2023, 10, 29)
    assert not any(e.counterpart == "dsq-bi" and e.status == "invited" for e in resources.ledger().events(plan.id))
    # Item 8: two anniversaries requested, each with its own four stages.
    assert [o.id for o in statuses[8].occurrences] == ["2023-08-01-dsq-singapore", "2023-09-21-dsq-nhat-ban"]
    assert statuses[7].indicators["participants"] == 25000


def test_a_second_run_for_the_same_date_adds_nothing(prefect_api, kehoach_home, plan):
    from flows.plan_run import plan_run

    plan_run(as_of=dt.date(2023, 6, 30))
    first = _keys(plan)
    assert first
    plan_run(as_of=dt.date(2023, 6, 30))
    assert _keys(plan) == first


def test_coordination_without_counterparts_is_recorded_as_not_applicable(prefect_api, kehoach_home, plan):
    from flows.content_item import content_item

    content_item("5", as_of=dt.date(2023, 6, 1))
    events = resources.ledger().events(plan.id, item="de-an-cong-nghiep-van-hoa", kinds=[EventKind.STAGE_STATUS])
    coordination = [(e.status, e.payload["reason"]) for e in events if e.stage == "coordination"]
    assert coordination == [("skipped", "không có đối tác cần phối hợp")]


def test_a_task_failing_midway_then_a_rerun_redoes_no_finished_stage(prefect_api, kehoach_home, plan, monkeypatch):
    import plan.progress as progress
    from flows import content_item as module

    calls = Counter()
    real_step = progress.stage_step

    def flaky(plan_, item, occurrence, stage, *args, **kwargs):
        calls[stage.value] += 1
        if stage.value == "execution" and fail["now"]:
            raise RuntimeError("máy in hỏng")  # not transient: the task fails at once
        return real_step(plan_, item, occurrence, stage, *args, **kwargs)

    fail = {"now": True}
    monkeypatch.setattr(module, "stage_step", flaky)
    as_of = dt.date(2023, 5, 16)
    state = module.content_item("7", as_of=as_of, return_state=True)
    assert state.is_failed()
    before = _keys(plan)
    assert calls["preparation"] == 1 and calls["execution"] == 1
    fail["now"] = False
    calls.clear()
    module.content_item("7", as_of=as_of)
    assert calls["preparation"] == 0 and calls["coordination"] == 0, "a finished stage ran again"
    assert calls["execution"] == 1, "the stage that failed did not run again"
    after = _keys(plan)
    assert after[: len(before)] == before and len(after) == len(set(after))


def test_a_killed_run_then_a_rerun_records_each_event_once(prefect_api, kehoach_home, plan, tmp_path):
    from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH

    as_of = dt.date(2023, 5, 16)
    script = tmp_path / "slow_run.py"
    script.write_text(
        "import datetime as dt, time\n"
        "import flows.content_item as m\n"
        "real = m.stage_step\n"
        "def slow(plan, item, occurrence, stage, *a, **k):\n"
        "    if stage.value == 'execution':\n"
        "        time.sleep(600)\n"
        "    return real(plan, item, occurrence, stage, *a, **k)\n"
        "m.stage_step = slow\n"
        f"m.content_item('7', as_of=dt.date({as_of.year}, {as_of.month}, {as_of.day}))\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_LOCAL_STORAGE_PATH": str(PREFECT_LOCAL_STORAGE_PATH.value())}
    child = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            stages = {e.stage for e in resources.ledger().events(plan.id, item="ngoi-lang-chau-au")}
            if {"preparation", "coordination"} <= stages:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the first run never reached the execution stage")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    killed_at = _keys(plan)
    from flows.content_item import content_item

    content_item("7", as_of=as_of)
    after = _keys(plan)
    assert after[: len(killed_at)] == killed_at
    assert len(after) == len(set(after))
    stages = Counter((e.stage, e.status) for e in resources.ledger().events(plan.id, item="ngoi-lang-chau-au", kinds=[EventKind.STAGE_STATUS]))
    assert all(count == 1 for count in stages.values()), stages
    assert ("execution", "in_progress") in stages


def _task_run_names(flow_run_id, expected: int) -> list[str]:
    """The names of the flow run's task runs, once `expected` of them have reached the API (task
    runs arrive as events, a moment after the flow run ends)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if len(runs) >= expected or time.monotonic() > deadline:
                return sorted(r.name for r in runs)
            time.sleep(0.5)


def test_only_the_stages_that_record_today_run_as_tasks(prefect_api, kehoach_home, plan):
    """02/05 on a fresh ledger: item 7's preparation opens and the other stages have nothing to do
    yet; they are summarised without a task run. The same day again records nothing and runs none."""
    from flows.content_item import content_item

    as_of = dt.date(2023, 5, 2)
    state = content_item("7", as_of=as_of, return_state=True)
    summary = state.result()
    recorded = {(s.stage, s.counterpart) for s in summary.steps if s.recorded}
    assert recorded and len(recorded) < len(summary.steps), f"the day should have stages with and without work: {summary.steps}"
    assert {s.stage for s in summary.steps} == {"preparation", "coordination", "execution", "reporting"}, "every stage is summarised"
    names = _task_run_names(state.state_details.flow_run_id, expected=len(recorded))
    stage_runs = [n for n in names if n.split(" · ")[0] in {"preparation", "coordination", "execution", "reporting"}]
    assert sorted((n.split(" · ")[0], n.split(" · ")[2] if n.count(" · ") == 2 else None) for n in stage_runs) == sorted(
        recorded, key=lambda r: (r[0], r[1] or "")
    ), names

    again = content_item("7", as_of=as_of, return_state=True)
    assert not any(s.recorded for s in again.result().steps)
    time.sleep(2)  # give a stray task run's events the time to arrive
    assert _task_run_names(again.state_details.flow_run_id, expected=0) == [], "a day already done ran tasks again"

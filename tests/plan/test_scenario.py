"""Scenario files: dated outcomes and requests replayed into the ledger with the same code as
`kehoach record` and `kehoach request`; loaded like a plan file (located problems, no traceback)."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from plan.events import EventKind
from plan.model import Stage
from plan.problems import Severity
from plan.progress import Rag, plan_status
from plan.recording import InputError
from plan.scenario import SCENARIOS_DIR, OutcomeEntry, RequestEntry, Scenario, load_scenario, scenario_events

D = dt.date
SAMPLE = SCENARIOS_DIR / "hanoi-svhtt-ttdn-2023.sample.yaml"
YEAR_END = D(2023, 12, 31)


@pytest.fixture(scope="module")
def sample() -> Scenario:
    scenario, problems = load_scenario(SAMPLE)
    assert problems == [] and scenario is not None
    return scenario


@pytest.fixture(scope="module")
def year(plan, sample):
    return scenario_events(plan, sample, [], YEAR_END, actor="kịch bản")


def _write(tmp_path, text: str):
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


# -- the sample ------------------------------------------------------------------------------------


def test_the_sample_loads_without_problems(plan, sample):
    assert sample.plan == plan.id
    assert "MẪU" in sample.label
    assert any(isinstance(e, RequestEntry) for e in sample.entries)
    assert any(isinstance(e, OutcomeEntry) for e in sample.entries)


def test_an_occurrence_named_by_its_date_is_read_as_its_id(sample):
    named = [e.occurrence for e in sample.entries if isinstance(e, OutcomeEntry) and e.occurrence]
    assert "2023-08-10" in named and "2023-08-01-dsq-singapore" in named
    assert all(isinstance(o, str) for o in named)


def test_the_sample_year_gives_events_with_unique_keys(year):
    assert year
    keys = [e.key for e in year]
    assert len(keys) == len(set(keys))
    assert all(e.effective_date <= YEAR_END for e in year)
    assert all(e.actor.startswith("kịch bản") for e in year)
    kinds = {e.kind for e in year}
    assert {EventKind.OUTCOME, EventKind.STAGE_STATUS, EventKind.COUNTERPART_STATUS, EventKind.OCCURRENCE_OPENED} <= kinds
    assert EventKind.OVERDUE not in kinds  # flows flag lateness, people do not


def test_replaying_the_scenario_on_its_own_events_adds_nothing(plan, sample, year):
    assert scenario_events(plan, sample, list(year), YEAR_END, actor="kịch bản") == []


def test_a_year_replayed_in_two_runs_gives_the_same_events(plan, sample, year):
    first_half = scenario_events(plan, sample, [], D(2023, 6, 30), actor="kịch bản")
    second_half = scenario_events(plan, sample, first_half, YEAR_END, actor="kịch bản")
    assert first_half and second_half
    assert sorted(e.key for e in first_half + second_half) == sorted(e.key for e in year)


def test_entries_after_as_of_are_skipped(plan, sample, year):
    events = scenario_events(plan, sample, [], D(2023, 6, 30), actor="kịch bản")
    assert all(e.effective_date <= D(2023, 6, 30) for e in events)
    assert {e.key for e in events} == {e.key for e in year if e.effective_date <= D(2023, 6, 30)}
    requests = [e.occurrence for e in events if e.kind is EventKind.OCCURRENCE_OPENED]
    assert requests == ["2023-08-01-dsq-singapore"]  # asked on 20/6; Japan asked on 15/8


def test_entries_are_applied_in_date_order_not_file_order(plan, sample):
    # Item 1's months are prepared on 2/5, listed after the year's preparation of 10/5.
    events = scenario_events(plan, sample, [], D(2023, 5, 5), actor="kịch bản")
    months = {e.occurrence for e in events if e.item == "dich-thuat-tin-bai"}
    assert months == {"2023-04", "2023-05"}


def test_the_sample_year_ends_as_the_sample_says(plan, year):
    statuses = {s.item.number: s for s in plan_status(plan, year, YEAR_END)}
    assert statuses[7].rag is Rag.DONE
    assert statuses[7].indicators == {"events_held": 1, "participants": 25000, "partner_countries": 20, "embassies_engaged": 18, "funding_spent": 250}
    assert [o.id for o in statuses[8].occurrences] == ["2023-08-01-dsq-singapore", "2023-09-21-dsq-nhat-ban"]
    assert statuses[8].indicators == {"events_held": 2, "participants": 2300, "embassies_engaged": 2, "funding_spent": 205}
    # Item 6 invites no counterpart: the plan names none for the conference.
    assert all(not s.counterparts for s in statuses[6].stages if s.stage is Stage.COORDINATION)
    assert statuses[9].declined == [(statuses[9].occurrences[0], "dsq-canada")]
    assert statuses[5].rag is Rag.OFF_TRACK  # the late research item


def test_a_scenario_for_another_plan_is_refused(plan, sample):
    other = sample.model_copy(update={"plan": "hanoi-svhtt-ttdn-2024"})
    with pytest.raises(InputError) as caught:
        scenario_events(plan, other, [], YEAR_END, actor="kịch bản")
    assert caught.value.problems == ["plan: kịch bản dành cho kế hoạch «hanoi-svhtt-ttdn-2024», không phải «hanoi-svhtt-ttdn-2023»"]


# -- refused entries ------------------------------------------------------------------------------------


def test_a_refused_entry_is_named_by_its_index_and_date(plan, tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - {on: 2023-05-19, item: 7, stage: reporting, set: {submitted_on: 2023-05-19}}
          - {on: 2023-05-22, item: 7, stage: reporting, set: {result: blocked}}
        """,
    )
    scenario, problems = load_scenario(path)
    assert problems == []
    with pytest.raises(InputError) as caught:
        scenario_events(plan, scenario, [], YEAR_END, actor="kịch bản")
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("entries[1] (22/05/2023): reporting: không thể chuyển")
    # Up to the day before, the scenario is fine.
    assert scenario_events(plan, scenario, [], D(2023, 5, 21), actor="kịch bản")


def test_an_entry_for_an_unknown_item_or_counterpart_is_refused(plan, tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - {on: 2023-05-03, item: 7, stage: coordination, counterpart: dsq-phap, set: {answer: confirmed}}
          - {on: 2023-05-04, item: 12, stage: execution}
        """,
    )
    scenario, _ = load_scenario(path)
    with pytest.raises(InputError) as caught:
        scenario_events(plan, scenario, [], YEAR_END, actor="kịch bản")
    assert caught.value.problems[0].startswith("entries[0] (03/05/2023): counterpart: «dsq-phap»")
    with pytest.raises(InputError, match=r"entries\[0\] \(04/05/2023\): nội dung: không có nội dung «12»"):
        scenario_events(plan, scenario.model_copy(update={"entries": scenario.entries[1:]}), [], YEAR_END, actor="kịch bản")


def test_an_entry_by_a_person_names_them(plan, tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - {on: 2023-05-14, item: 7, stage: execution, by: Nguyễn Văn A, set: {indicators: {participants: 100}}}
        """,
    )
    scenario, _ = load_scenario(path)
    events = scenario_events(plan, scenario, [], YEAR_END, actor="kịch bản")
    assert {e.actor for e in events} == {"kịch bản: Nguyễn Văn A"}


# -- broken files ----------------------------------------------------------------------------------


def test_an_unknown_key_is_located_at_its_line(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - {on: 2023-05-02, item: 7, stage: preparation}
          - on: 2023-05-03
            item: 7
            stage: reporting
            colour: red
        """,
    )
    scenario, problems = load_scenario(path)
    assert scenario is None
    assert len(problems) == 1
    problem = problems[0]
    assert problem.severity is Severity.ERROR
    assert (problem.location.file, problem.location.line, problem.location.column) == (str(path), 8, 5)
    assert problem.path == "entries[1].colour"
    # In the scenario's terms, listing what an outcome entry may hold.
    assert problem.message == "trường «colour» không có trong mẫu kịch bản"
    assert problem.expected == "một trong: by, counterpart, item, occurrence, occurrences, on, set, stage"


def test_an_unknown_key_in_a_request_entry_is_located_at_that_key(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - on: 2023-06-20
            request: 8
            counterpart: dsq-singapore
            date: 2023-08-01
            colour: red
        """,
    )
    _, problems = load_scenario(path)
    assert [(p.location.line, p.location.column, p.path) for p in problems] == [(8, 5, "entries[0].colour")]
    assert problems[0].expected == "một trong: by, counterpart, date, on, request, title, until"


def test_a_misspelt_key_gets_a_suggestion(tmp_path):
    _, problems = load_scenario(_write(tmp_path, "plan: hanoi-svhtt-ttdn-2023\nlable: thử\n"))
    misspelt = next(p for p in problems if p.path == "lable")
    assert misspelt.location.line == 2
    assert "(có phải là «label»?)" in misspelt.message and misspelt.expected == "một trong: entries, label, note, plan"


def test_an_unknown_top_level_key_is_located(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        lable: thử
        entries: []
        """,
    )
    scenario, problems = load_scenario(path)
    assert scenario is None
    assert [(p.location.line, p.path) for p in problems] == [(3, "lable")]


def test_a_date_that_does_not_exist_is_located_at_its_line(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - {on: 2023-05-02, item: 7, stage: preparation}
          - on: 2023-02-30
            item: 7
            stage: execution
          - {on: 2023-05-03, request: 8, date: 2023-13-01}
        """,
    )
    scenario, problems = load_scenario(path)
    assert scenario is None
    located = [(p.location.line, p.path) for p in problems]
    assert located == [(5, "entries[1].on"), (8, "entries[2].date")]
    assert "«2023-02-30»" in problems[0].message and "ngày" in problems[0].message
    assert "«2023-13-01»" in problems[1].message
    assert all(p.severity is Severity.ERROR and p.location.file == str(path) for p in problems)


def test_a_bad_date_in_a_request_entry_is_located_at_the_date_not_the_request(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - on: 2023-06-20
            request: 8
            counterpart: dsq-singapore
            date: 2023-09-31
        """,
    )
    _, problems = load_scenario(path)
    assert [(p.location.line, p.location.column, p.path) for p in problems] == [(7, 11, "entries[0].date")]


def test_an_entry_that_is_not_a_mapping_is_located(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - {on: 2023-05-02, item: 7, stage: preparation}
          - chuẩn bị xong
        """,
    )
    _, problems = load_scenario(path)
    assert [(p.location.line, p.path) for p in problems] == [(5, "entries[1]")]
    assert "«chuẩn bị xong»" in problems[0].message
    assert "_entry_kind" not in problems[0].render()  # no internals in what the user reads


def test_a_missing_field_is_located_at_its_entry(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - on: 2023-05-02
            item: 7
        """,
    )
    scenario, problems = load_scenario(path)
    assert scenario is None
    assert [(p.location.line, p.path) for p in problems] == [(4, "entries[0].stage")]
    assert "«stage»" in problems[0].message


def test_broken_yaml_is_located(tmp_path):
    path = _write(
        tmp_path,
        """
        plan: hanoi-svhtt-ttdn-2023
        label: thử
        entries:
          - {on: 2023-05-02, item: 7, stage: preparation
        """,
    )
    scenario, problems = load_scenario(path)
    assert scenario is None and problems
    assert problems[0].severity is Severity.ERROR and problems[0].location.line >= 4


def test_a_scenario_that_is_not_a_mapping_is_refused(tmp_path):
    scenario, problems = load_scenario(_write(tmp_path, "- plan: x\n"))
    assert scenario is None
    assert len(problems) == 1 and problems[0].location.line == 1 and "plan, label, entries" in problems[0].message


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path):
    scenario, problems = load_scenario(tmp_path / "none.yaml")
    assert scenario is None and len(problems) == 1 and problems[0].severity is Severity.ERROR

"""What people say, turned into ledger events: typed stage outcomes and requests (item 8 asks, item 3
schedules a course), refused with every problem in the user's terms and nothing recorded."""

from __future__ import annotations

import datetime as dt

import pytest

from plan.events import MAIN, EventKind, NewEvent
from plan.model import Stage
from plan.outcomes import CounterpartAnswer, PreparationOutcome, ReportOutcome, outcome_model, outcome_payload, parse_assignments
from plan.progress import fold
from plan.recording import InputError, find_item, find_occurrence, find_stage, outcome_record, request_record

D = dt.date
EU = "phai-doan-eu"
ON = D(2023, 5, 14)


def _record(plan, number, stage, data, events=(), **kw):
    kw.setdefault("on", ON)
    kw.setdefault("actor", "vp")
    return outcome_record(plan, plan.item(number), stage, data, list(events), **kw)


def _problems(call) -> list[str]:
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.problems and str(caught.value) == "; ".join(caught.value.problems)
    return caught.value.problems


def _statuses(events) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind.value, e.counterpart, e.status) for e in events if e.kind is not EventKind.OUTCOME]


# -- the forms --------------------------------------------------------------------------------------


def test_each_stage_has_its_form(plan):
    item = plan.item(7)
    assert outcome_model(plan, item, Stage.PREPARATION) is PreparationOutcome
    assert outcome_model(plan, item, Stage.COORDINATION) is CounterpartAnswer
    assert outcome_model(plan, item, Stage.REPORTING) is ReportOutcome


@pytest.mark.parametrize("number", [1, 3, 7, 8])
def test_the_execution_form_asks_for_exactly_the_items_indicators(plan, number):
    item = plan.item(number)
    model = outcome_model(plan, item, Stage.EXECUTION)
    assert set(model.model_fields) == {"result", "held_on", "indicators", "note"}
    assert list(model.model_fields["indicators"].annotation.model_fields) == list(item.indicators)


def test_indicator_fields_carry_the_catalogue_labels(plan):
    fields = outcome_model(plan, plan.item(3), Stage.EXECUTION).model_fields["indicators"].annotation.model_fields
    assert fields["trainees"].title == "Số học viên"
    assert "người" in fields["trainees"].description


def test_the_payload_keeps_only_what_was_given(plan):
    model = outcome_model(plan, plan.item(7), Stage.EXECUTION)
    outcome = model.model_validate({"held_on": "2023-05-12", "indicators": {"participants": "25000"}})
    assert outcome_payload(outcome) == {"result": "done", "held_on": "2023-05-12", "indicators": {"participants": 25000}}


# -- outcome_record: validation ------------------------------------------------------------------------


def test_an_execution_outcome_is_recorded_with_its_indicators(plan):
    occurrence, events = _record(plan, 7, Stage.EXECUTION, {"held_on": "2023-05-12", "indicators": {"participants": "25000", "events_held": 1}})
    assert occurrence.id == MAIN
    outcome = events[0]
    assert outcome.kind is EventKind.OUTCOME and outcome.stage == "execution" and outcome.actor == "vp"
    assert outcome.payload == {"result": "done", "held_on": "2023-05-12", "indicators": {"events_held": 1, "participants": 25000}}
    assert outcome.effective_date == ON


def test_an_indicator_of_another_item_is_refused_by_name(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.EXECUTION, {"indicators": {"trainees": 150}}))
    assert len(problems) == 1
    assert problems[0].startswith("indicators.trainees: ")
    assert "«trainees»" in problems[0]
    # The person is told which indicators the item has.
    assert all(i in problems[0] for i in plan.item(7).indicators)


def test_an_unknown_field_is_refused_by_name(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.PREPARATION, {"venue_booked": True}))
    assert problems[0].startswith("venue_booked: ") and "venue_confirmed" in problems[0]


def test_a_negative_number_is_refused(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": -1}}))
    assert len(problems) == 1 and problems[0].startswith("indicators.participants: ")
    assert "≥ 0" in problems[0]


def test_a_number_that_is_not_a_number_is_refused(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": "nhiều"}}))
    assert problems[0].startswith("indicators.participants: ") and "số nguyên" in problems[0]


@pytest.mark.parametrize(("stage", "field"), [(Stage.EXECUTION, "held_on"), (Stage.REPORTING, "submitted_on")])
def test_a_date_that_does_not_exist_is_refused(plan, stage, field):
    problems = _problems(lambda: _record(plan, 7, stage, {field: "2023-02-30"}))
    assert len(problems) == 1 and problems[0].startswith(f"{field}: ")
    assert "«2023-02-30»" in problems[0] and "ngày" in problems[0]


def test_every_problem_is_reported_at_once(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.EXECUTION, {"result": "maybe", "held_on": "hôm qua", "indicators": {"participants": -5}}))
    assert sorted(p.split(":")[0] for p in problems) == ["held_on", "indicators.participants", "result"]


def test_a_refused_outcome_names_the_result_values(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.REPORTING, {"result": "xong"}))
    assert problems[0].startswith("result: ") and all(v in problems[0] for v in ("done", "blocked", "skipped"))


def test_coordination_needs_a_counterpart(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.COORDINATION, {"answer": "confirmed"}))
    assert problems[0].startswith("counterpart: ") and EU in problems[0]


def test_coordination_needs_a_counterpart_of_the_occurrence(plan):
    # The French embassy is a counterpart of the plan, but not of item 7.
    problems = _problems(lambda: _record(plan, 7, Stage.COORDINATION, {"answer": "confirmed"}, counterpart="dsq-phap"))
    assert problems[0].startswith("counterpart: ") and "«dsq-phap»" in problems[0] and EU in problems[0]


def test_a_requests_counterpart_is_the_only_one_of_that_occurrence(plan):
    item = plan.item(8)
    request = request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 20), actor="vp")
    problems = _problems(
        lambda: _record(plan, 8, Stage.COORDINATION, {"answer": "confirmed"}, [request], on=D(2023, 7, 14), occurrence=request.occurrence, counterpart="dsq-nhat-ban")
    )
    assert "«dsq-nhat-ban»" in problems[0] and "dsq-singapore" in problems[0]
    _, events = _record(plan, 8, Stage.COORDINATION, {"answer": "confirmed"}, [request], on=D(2023, 7, 14), occurrence=request.occurrence, counterpart="dsq-singapore")
    assert events[0].counterpart == "dsq-singapore" and events[0].payload == {"counterpart": "dsq-singapore", "answer": "confirmed"}
    assert all(e.occurrence == request.occurrence for e in events)


def test_a_counterpart_on_another_stage_is_refused(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.EXECUTION, {}, counterpart=EU))
    assert problems[0].startswith("counterpart: ")


def test_the_answer_may_come_in_the_data(plan):
    _, events = _record(plan, 7, Stage.COORDINATION, {"counterpart": EU, "answer": "declined"})
    assert ("counterpart_status", EU, "declined") in _statuses(events)


# -- outcome_record: the lifecycle ----------------------------------------------------------------------


def test_done_on_a_stage_nobody_started_passes_through_in_progress(plan):
    _, events = _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": 120}})
    assert [e.kind for e in events] == [EventKind.OUTCOME, EventKind.STAGE_STATUS, EventKind.STAGE_STATUS]
    assert _statuses(events) == [("stage_status", None, "in_progress"), ("stage_status", None, "done")]
    assert all(e.effective_date == ON and e.actor == "vp" for e in events)
    assert len({e.key for e in events}) == 3


def test_blocked_on_a_stage_nobody_started_is_one_step(plan):
    _, events = _record(plan, 7, Stage.PREPARATION, {"result": "blocked", "note": "Chưa có kinh phí"})
    assert _statuses(events) == [("stage_status", None, "blocked")]


def test_done_after_blocked_resumes_first(plan):
    _, blocked = _record(plan, 7, Stage.PREPARATION, {"result": "blocked"}, on=D(2023, 4, 20))
    _, events = _record(plan, 7, Stage.PREPARATION, {"result": "done"}, blocked, on=D(2023, 4, 24))
    assert _statuses(events) == [("stage_status", None, "in_progress"), ("stage_status", None, "done")]


def test_blocked_on_a_finished_stage_is_refused(plan):
    _, done = _record(plan, 7, Stage.REPORTING, {"submitted_on": "2023-05-19"}, on=D(2023, 5, 19))
    problems = _problems(lambda: _record(plan, 7, Stage.REPORTING, {"result": "blocked"}, done, on=D(2023, 5, 22)))
    assert problems == [problems[0]] and problems[0].startswith("reporting: không thể chuyển từ «Hoàn thành» sang «Vướng mắc»")
    assert "trạng thái cuối" in problems[0]  # the person is told a finished stage cannot change


def test_skipped_on_a_finished_stage_is_refused(plan):
    _, done = _record(plan, 7, Stage.EXECUTION, {}, on=D(2023, 5, 14))
    with pytest.raises(InputError, match="execution: không thể chuyển"):
        _record(plan, 7, Stage.EXECUTION, {"result": "skipped"}, done, on=D(2023, 5, 15))


def test_a_corrected_report_on_a_finished_stage_adds_only_the_outcome(plan):
    _, done = _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": 100}})
    _, again = _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": 120}}, done, on=D(2023, 5, 15))
    assert [e.kind for e in again] == [EventKind.OUTCOME]
    assert again[0].payload["indicators"] == {"participants": 120}


def test_the_same_report_twice_gets_the_same_keys(plan):
    _, first = _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": 100}})
    _, second = _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": 100}})
    assert [e.key for e in first] == [e.key for e in second]
    # The outcome key depends on what was said and when, not on the status keys around it.
    _, other = _record(plan, 7, Stage.EXECUTION, {"indicators": {"participants": 101}})
    assert other[0].key != first[0].key


def test_an_answer_changes_the_invitation_and_finishes_a_single_counterpart_stage(plan):
    _, events = _record(plan, 7, Stage.COORDINATION, {"answer": "confirmed", "contact": "Bộ phận Văn hóa"}, counterpart=EU, on=D(2023, 5, 3))
    assert _statuses(events) == [
        ("counterpart_status", EU, "invited"),
        ("counterpart_status", EU, "confirmed"),
        ("stage_status", None, "in_progress"),
        ("stage_status", None, "done"),
    ]
    state = fold(events)[("ngoi-lang-chau-au", MAIN)]
    assert state.latest_outcome(Stage.COORDINATION)["contact"] == "Bộ phận Văn hóa"


def test_one_answer_of_many_leaves_the_stage_in_progress(plan):
    _, events = _record(plan, 9, Stage.COORDINATION, {"answer": "declined"}, counterpart="dsq-canada", on=D(2023, 10, 13))
    assert _statuses(events)[-1] == ("stage_status", None, "in_progress")
    assert ("counterpart_status", "dsq-canada", "declined") in _statuses(events)


def test_a_given_answer_cannot_be_changed(plan):
    _, confirmed = _record(plan, 7, Stage.COORDINATION, {"answer": "confirmed"}, counterpart=EU, on=D(2023, 5, 3))
    problems = _problems(lambda: _record(plan, 7, Stage.COORDINATION, {"answer": "declined"}, confirmed, counterpart=EU, on=D(2023, 5, 4)))
    assert problems[0].startswith("coordination: không thể chuyển từ «Nhận lời» sang «Từ chối»")


def test_a_late_answer_after_no_answer_is_recorded(plan):
    _, no_answer = _record(plan, 7, Stage.COORDINATION, {"answer": "no_answer"}, counterpart=EU, on=D(2023, 5, 8))
    _, late = _record(plan, 7, Stage.COORDINATION, {"answer": "confirmed"}, no_answer, counterpart=EU, on=D(2023, 5, 9))
    assert _statuses(late) == [("counterpart_status", EU, "confirmed")]  # the stage was already done


# -- occurrences, items and stages by name -----------------------------------------------------------------


def test_recording_for_a_month_needs_the_month(plan):
    item = plan.item(1)
    problems = _problems(lambda: find_occurrence(plan, item, [], "2023-07", D(2023, 6, 30)))
    assert "«2023-07»" in problems[0] and "2023-06" in problems[0]
    assert find_occurrence(plan, item, [], "2023-07", D(2023, 7, 1)).id == "2023-07"
    assert find_occurrence(plan, item, [], None, D(2023, 7, 1)).id == MAIN  # the main one by default


def test_an_on_request_item_without_a_request_asks_for_one(plan):
    problems = _problems(lambda: _record(plan, 8, Stage.PREPARATION, {}))
    assert "kehoach request 8" in problems[0]


def test_an_on_request_item_with_two_requests_asks_which(plan):
    item = plan.item(8)
    requests = [
        request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 20), actor="vp"),
        request_record(plan, item, start=D(2023, 9, 21), counterpart="dsq-nhat-ban", on=D(2023, 8, 15), actor="vp"),
    ]
    problems = _problems(lambda: _record(plan, 8, Stage.PREPARATION, {}, requests, on=D(2023, 9, 1)))
    assert "2023-08-01-dsq-singapore" in problems[0] and "2023-09-21-dsq-nhat-ban" in problems[0]
    # Before the second request was made, the only occurrence is taken.
    occurrence, _ = _record(plan, 8, Stage.PREPARATION, {}, requests, on=D(2023, 7, 10))
    assert occurrence.id == "2023-08-01-dsq-singapore"


def test_items_and_stages_are_found_by_number_id_or_vietnamese_name(plan):
    assert find_item(plan, 7).id == find_item(plan, "7").id == find_item(plan, "ngoi-lang-chau-au").id == "ngoi-lang-chau-au"
    assert find_stage("phoi-hop") is Stage.COORDINATION and find_stage(" Execution ") is Stage.EXECUTION
    assert "«10»" in _problems(lambda: find_item(plan, 10))[0]
    assert "«lam-viec»" in _problems(lambda: find_stage("lam-viec"))[0]


# -- request_record ------------------------------------------------------------------------------------


def test_a_request_opens_an_occurrence(plan):
    event = request_record(plan, plan.item(8), start=D(2023, 8, 1), counterpart="dsq-singapore", title="50 năm", on=D(2023, 6, 20), actor="vp")
    assert isinstance(event, NewEvent)
    assert (event.kind, event.item, event.occurrence, event.counterpart, event.effective_date) == (
        EventKind.OCCURRENCE_OPENED,
        "ky-niem-50-nam-ngoai-giao",
        "2023-08-01-dsq-singapore",
        "dsq-singapore",
        D(2023, 6, 20),
    )
    assert event.payload == {"start": "2023-08-01", "end": "2023-08-01", "counterparts": ["dsq-singapore"], "title": "50 năm"}
    assert event.key == f"{plan.id}/ky-niem-50-nam-ngoai-giao/2023-08-01-dsq-singapore/request"


def test_the_same_request_twice_is_one_key(plan):
    one = request_record(plan, plan.item(8), start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 20), actor="vp")
    two = request_record(plan, plan.item(8), start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 21), actor="qlnt")
    assert one.key == two.key


@pytest.mark.parametrize("number", [1, 5, 6, 7, 9])
def test_items_that_are_not_on_request_or_programmes_refuse_requests(plan, number):
    item = plan.item(number)
    problems = _problems(lambda: request_record(plan, item, start=D(2023, 8, 1), on=D(2023, 7, 1), actor="vp"))
    assert problems[0].startswith("nội dung: ") and item.kind.value in problems[0]


@pytest.mark.parametrize("number", [2, 3, 4, 8])
def test_on_request_and_programme_items_take_requests(plan, number):
    assert request_record(plan, plan.item(number), start=D(2023, 8, 1), on=D(2023, 7, 1), actor="vp").occurrence == "2023-08-01"


def test_an_unknown_counterpart_is_refused(plan):
    problems = _problems(lambda: request_record(plan, plan.item(8), start=D(2023, 8, 1), counterpart="dsq-atlantis", on=D(2023, 7, 1), actor="vp"))
    assert problems[0].startswith("counterpart: ") and "«dsq-atlantis»" in problems[0] and "dsq-singapore" in problems[0]


def test_an_end_before_the_start_is_refused(plan):
    problems = _problems(lambda: request_record(plan, plan.item(3), start=D(2023, 8, 11), end=D(2023, 8, 10), on=D(2023, 7, 1), actor="vp"))
    assert problems == ["until: ngày kết thúc 10/08/2023 trước ngày 11/08/2023"]


def test_a_date_outside_the_plans_year_is_refused(plan):
    problems = _problems(lambda: request_record(plan, plan.item(8), start=D(2022, 12, 30), on=D(2023, 1, 3), actor="vp"))
    assert problems[0].startswith("date: ") and "2023" in problems[0]


def test_every_request_problem_is_reported_at_once(plan):
    problems = _problems(
        lambda: request_record(plan, plan.item(7), start=D(2023, 8, 11), end=D(2023, 8, 10), counterpart="dsq-atlantis", on=D(2023, 7, 1), actor="vp")
    )
    assert [p.split(":")[0] for p in problems] == ["nội dung", "counterpart", "until"]


# -- parse_assignments ---------------------------------------------------------------------------------


def test_assignments_nest_on_dots():
    assert parse_assignments(["indicators.participants=120", "indicators.events_held=1", "note=Tốt", "held_on=2023-05-12"]) == {
        "indicators": {"participants": "120", "events_held": "1"},
        "note": "Tốt",
        "held_on": "2023-05-12",
    }


def test_only_the_first_equals_sign_separates():
    assert parse_assignments(["note=a=b", " answer =confirmed"]) == {"note": "a=b", "answer": "confirmed"}


def test_an_empty_value_is_kept():
    assert parse_assignments(["note="]) == {"note": ""}


@pytest.mark.parametrize("pair", ["participants", "=120", "  =x", ""])
def test_a_malformed_pair_is_refused(pair):
    with pytest.raises(ValueError, match="khóa=giá trị"):
        parse_assignments([pair])


def test_a_key_cannot_be_both_a_value_and_a_group():
    with pytest.raises(ValueError, match="vừa là giá trị vừa là nhóm"):
        parse_assignments(["indicators=5", "indicators.participants=120"])


def test_assignments_feed_the_execution_form(plan):
    data = parse_assignments(["indicators.participants=120", "held_on=2023-05-12"])
    _, events = _record(plan, 7, Stage.EXECUTION, data)
    assert events[0].payload == {"result": "done", "held_on": "2023-05-12", "indicators": {"participants": 120}}


def test_a_note_too_long_and_a_link_that_is_not_a_web_address_are_refused_in_vietnamese(plan):
    problems = _problems(lambda: _record(plan, 7, Stage.EXECUTION, {"note": "x" * 4100, "indicators": {"participants": 5}}))
    assert problems == ["note: dài quá 4000 ký tự (có 4100) — cần: tối đa 4000 ký tự"]
    problems = _problems(lambda: _record(plan, 7, Stage.REPORTING, {"link": "ftp://x.example/bao-cao"}))
    assert len(problems) == 1 and "không phải địa chỉ web" in problems[0] and "https://" in problems[0]
    assert not any(word in problems[0] for word in ("should", "scheme", "URL"))


def test_a_request_title_is_one_line_of_reasonable_length(plan):
    item = find_item(plan, 8)
    with pytest.raises(InputError) as refused:
        request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", title="t" * 201, on=D(2023, 6, 20), actor="vp")
    assert refused.value.problems == ["title: tên dài 201 ký tự — cần: tối đa 200 ký tự"]
    with pytest.raises(InputError) as refused:
        request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", title="Kỷ niệm\nBcc: x", on=D(2023, 6, 20), actor="vp")
    assert "xuống dòng" in refused.value.problems[0]
    kept = request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", title="  Kỷ niệm 50 năm  ", on=D(2023, 6, 20), actor="vp")
    assert kept.payload["title"] == "Kỷ niệm 50 năm"

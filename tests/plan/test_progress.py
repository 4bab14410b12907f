"""The decisions: what a stage task records on a date, each item's RAG status, and the occurrences of
recurring, programme and on-request items, with real 2023 dates around the Vietnamese holidays:
Tết 20–26/1, 29/4–3/5 (Giỗ Tổ, 30/4, 1/5 and their days off in lieu), 1–4/9 (Quốc khánh).

Item 7 (Ngôi làng Châu Âu, 12–14/5/2023, counterpart: the EU Delegation) is due, with the plan's
stage defaults: preparation 25/4 (10 working days before 12/5, across 1–3/5), coordination 5/5,
execution 15/5 (14/5 is a Sunday), reporting 19/5. The plan was issued on 27/4.
"""

from __future__ import annotations

import datetime as dt

import pytest

from plan.calendar import WorkingCalendar
from plan.events import MAIN, CoordinationStatus, EventKind, NewEvent, StageStatus
from plan.model import Policy, Stage
from plan.occurrences import Occurrence, item_occurrences
from plan.progress import OccurrenceState, Rag, fold, item_status, stage_step, stage_windows
from plan.recording import request_record

D = dt.date
EU = "phai-doan-eu"
YEAR_END = D(2023, 12, 31)


# -- helpers ----------------------------------------------------------------------------------------


def _main(plan, number: int, as_of: D = YEAR_END) -> Occurrence:
    item = plan.item(number)
    return next(o for o in item_occurrences(plan, item, [], as_of) if o.is_main)


def _step(plan, cal, number, stage, state, as_of, *, occurrence=None, counterpart=None):
    item = plan.item(number)
    return stage_step(plan, item, occurrence or _main(plan, number), stage, state, as_of, cal, counterpart=counterpart)


def _status(item: str, stage: Stage, status: StageStatus, on: D, occurrence: str = MAIN, n: int = 0) -> NewEvent:
    return NewEvent(
        key=f"t/{item}/{occurrence}/{stage.value}/{n}/{status.value}",
        item=item,
        kind=EventKind.STAGE_STATUS,
        occurrence=occurrence,
        stage=stage.value,
        status=status.value,
        effective_date=on,
    )


def _finished(item: str, stage: Stage, on: D, status: StageStatus = StageStatus.DONE, occurrence: str = MAIN) -> list[NewEvent]:
    """A stage taken legally to a finished status on a date."""
    if status is StageStatus.SKIPPED:
        return [_status(item, stage, status, on, occurrence)]
    return [_status(item, stage, StageStatus.IN_PROGRESS, on, occurrence, 0), _status(item, stage, status, on, occurrence, 1)]


def _answer(item: str, counterpart: str, status: CoordinationStatus, on: D, occurrence: str = MAIN, n: int = 0) -> NewEvent:
    return NewEvent(
        key=f"t/{item}/{occurrence}/{counterpart}/{n}/{status.value}",
        item=item,
        kind=EventKind.COUNTERPART_STATUS,
        occurrence=occurrence,
        stage=Stage.COORDINATION.value,
        counterpart=counterpart,
        status=status.value,
        effective_date=on,
    )


def _execution(item: str, indicators: dict, on: D, occurrence: str = MAIN, tag: str = "") -> NewEvent:
    return NewEvent(
        key=f"t/{item}/{occurrence}/execution/outcome/{on}/{tag}",
        item=item,
        kind=EventKind.OUTCOME,
        occurrence=occurrence,
        stage=Stage.EXECUTION.value,
        payload={"result": "done", "indicators": indicators},
        effective_date=on,
    )


def _kinds(events) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind.value, e.counterpart, e.status) for e in events]


def _holiday_free_may(plan) -> WorkingCalendar:
    """The plan's calendar, but with 1–3 May 2023 worked: what a count that ignores the holidays gives."""
    return WorkingCalendar(extra_working_days={D(2023, 5, 1): "x", D(2023, 5, 2): "x", D(2023, 5, 3): "x"})


# -- the calendar facts the tests below rest on -------------------------------------------------------


def test_the_holidays_the_tests_rely_on_are_days_off(cal):
    for first, last in [(D(2023, 1, 20), D(2023, 1, 26)), (D(2023, 4, 29), D(2023, 5, 3)), (D(2023, 9, 1), D(2023, 9, 4))]:
        day = first
        while day <= last:
            assert not cal.is_working_day(day), day
            day += dt.timedelta(days=1)
    assert cal.is_working_day(D(2023, 1, 27)) and cal.is_working_day(D(2023, 5, 4)) and cal.is_working_day(D(2023, 9, 5))


def test_item_7_stage_windows(plan, cal):
    windows = stage_windows(plan, plan.item(7), _main(plan, 7), cal)
    assert {s: (w.opens, w.due) for s, w in windows.items()} == {
        # Due before the plan was issued: a stage never opens after it is due.
        Stage.PREPARATION: (D(2023, 4, 25), D(2023, 4, 25)),
        Stage.COORDINATION: (D(2023, 4, 27), D(2023, 5, 5)),
        Stage.EXECUTION: (D(2023, 5, 12), D(2023, 5, 15)),
        Stage.REPORTING: (D(2023, 5, 14), D(2023, 5, 19)),
    }


# -- stage_step: preparation -------------------------------------------------------------------------


def test_a_stage_does_nothing_before_it_opens(plan, cal):
    state = OccurrenceState()
    step = _step(plan, cal, 7, Stage.PREPARATION, state, D(2023, 4, 24))
    assert step.events == [] and step.status is StageStatus.NOT_STARTED
    assert step.working_days_late == 0
    assert "25/04/2023" in step.note
    assert state.stage(Stage.PREPARATION) is StageStatus.NOT_STARTED


def test_preparation_starts_once_at_the_plans_issue(plan, cal):
    state = OccurrenceState()
    step = _step(plan, cal, 7, Stage.PREPARATION, state, D(2023, 4, 27))
    moves = [e for e in step.events if e.kind is EventKind.STAGE_STATUS]
    assert [(e.status, e.stage, e.occurrence, e.effective_date) for e in moves] == [("in_progress", "preparation", MAIN, D(2023, 4, 27))]
    assert step.status is StageStatus.IN_PROGRESS and state.stage(Stage.PREPARATION) is StageStatus.IN_PROGRESS
    # The same step on the state it left records nothing more.
    again = _step(plan, cal, 7, Stage.PREPARATION, state, D(2023, 4, 27))
    assert again.events == []
    assert again.status is StageStatus.IN_PROGRESS


def test_a_rerun_on_the_ledger_state_adds_no_new_key(plan, cal):
    first = _step(plan, cal, 7, Stage.PREPARATION, OccurrenceState(), D(2023, 4, 27))
    ledger = fold(first.events)[(plan.item(7).id, MAIN)]
    second = _step(plan, cal, 7, Stage.PREPARATION, ledger, D(2023, 4, 27))
    assert second.events == []
    # Even when the state is stale, the same decision gets the same keys, so the ledger dedups it.
    stale = _step(plan, cal, 7, Stage.PREPARATION, OccurrenceState(), D(2023, 4, 27))
    assert [e.key for e in stale.events] == [e.key for e in first.events]


def test_the_step_is_deterministic(plan, cal):
    for number, stage, counterpart, as_of in [
        (7, Stage.PREPARATION, None, D(2023, 5, 4)),
        (7, Stage.COORDINATION, EU, D(2023, 5, 8)),
        (2, Stage.COORDINATION, None, D(2023, 4, 27)),
    ]:
        one = _step(plan, cal, number, stage, OccurrenceState(), as_of, counterpart=counterpart)
        two = _step(plan, cal, number, stage, OccurrenceState(), as_of, counterpart=counterpart)
        assert one.events and one.events == two.events
        keys = [e.key for e in one.events]
        assert len(set(keys)) == len(keys)
        assert all(k.startswith(f"{plan.id}/{plan.item(number).id}/{MAIN}/{stage.value}/") for k in keys)


def test_overdue_is_recorded_once_counting_working_days_across_the_may_holidays(plan, cal):
    state = OccurrenceState()
    # Due 25/4; on 4/5 it is 9 calendar days late but only 4 working days: 26, 27, 28/4 and 4/5.
    step = _step(plan, cal, 7, Stage.PREPARATION, state, D(2023, 5, 4))
    overdue = [e for e in step.events if e.kind is EventKind.OVERDUE]
    assert len(overdue) == 1
    assert overdue[0].payload == {"due": "2023-04-25", "working_days_late": 4}
    assert overdue[0].stage == "preparation" and overdue[0].effective_date == D(2023, 5, 4)
    assert step.working_days_late == 4 and step.due == D(2023, 4, 25)
    # The next days add no second flag, though the count goes on.
    later = _step(plan, cal, 7, Stage.PREPARATION, state, D(2023, 5, 5))
    assert later.events == [] and later.working_days_late == 5
    from_ledger = fold(step.events)[(plan.item(7).id, MAIN)]
    assert _step(plan, cal, 7, Stage.PREPARATION, from_ledger, D(2023, 5, 8)).events == []


def test_a_due_date_in_the_holidays_moves_to_the_next_working_day(plan, cal):
    # April's translations (27–30/4) are due at the end of the month, a Sunday before 1–3/5 off: 4/5.
    april = next(o for o in item_occurrences(plan, plan.item(1), [], D(2023, 5, 31)) if o.id == "2023-04")
    state = OccurrenceState()
    during = _step(plan, cal, 1, Stage.EXECUTION, state, D(2023, 5, 3), occurrence=april)
    assert during.due == D(2023, 5, 4)
    assert during.working_days_late == 0 and not [e for e in during.events if e.kind is EventKind.OVERDUE]
    after = _step(plan, cal, 1, Stage.EXECUTION, state, D(2023, 5, 5), occurrence=april)
    assert after.working_days_late == 1
    assert [e.payload for e in after.events if e.kind is EventKind.OVERDUE] == [{"due": "2023-05-04", "working_days_late": 1}]


def test_a_finished_stage_is_left_alone_even_when_it_finished_late(plan, cal):
    state = fold(_finished("ngoi-lang-chau-au", Stage.PREPARATION, D(2023, 5, 4)))[("ngoi-lang-chau-au", MAIN)]
    step = _step(plan, cal, 7, Stage.PREPARATION, state, D(2023, 5, 10))
    assert step.events == [] and step.status is StageStatus.DONE
    assert step.working_days_late == 0 and step.note == "đã xong"


def test_a_blocked_stage_stays_blocked_and_is_flagged_overdue(plan, cal):
    events = [_status("ngoi-lang-chau-au", Stage.PREPARATION, StageStatus.BLOCKED, D(2023, 4, 24))]
    state = fold(events)[("ngoi-lang-chau-au", MAIN)]
    step = _step(plan, cal, 7, Stage.PREPARATION, state, D(2023, 4, 28))
    assert step.status is StageStatus.BLOCKED
    assert _kinds(step.events) == [("overdue", None, None)]
    assert step.events[0].payload["working_days_late"] == 3


# -- stage_step: coordination ------------------------------------------------------------------------


def test_coordination_opens_at_the_plans_issue_and_invites_the_counterpart(plan, cal):
    state = OccurrenceState()
    assert _step(plan, cal, 7, Stage.COORDINATION, state, D(2023, 4, 26), counterpart=EU).events == []
    step = _step(plan, cal, 7, Stage.COORDINATION, state, D(2023, 4, 27), counterpart=EU)
    assert _kinds(step.events) == [("stage_status", None, "in_progress"), ("counterpart_status", EU, "invited")]
    assert step.note == "invited"
    assert state.counterpart(EU) is CoordinationStatus.INVITED
    # Waiting for the answer: nothing new until the coordination due date has passed.
    assert _step(plan, cal, 7, Stage.COORDINATION, state, D(2023, 5, 5), counterpart=EU).events == []


def test_no_answer_after_the_due_date_and_the_stage_is_then_done(plan, cal):
    state = OccurrenceState()
    _step(plan, cal, 7, Stage.COORDINATION, state, D(2023, 4, 27), counterpart=EU)
    step = _step(plan, cal, 7, Stage.COORDINATION, state, D(2023, 5, 8), counterpart=EU)
    assert _kinds(step.events) == [("counterpart_status", EU, "no_answer"), ("stage_status", None, "done")]
    assert step.status is StageStatus.DONE and step.working_days_late == 0
    assert _step(plan, cal, 7, Stage.COORDINATION, state, D(2023, 5, 9), counterpart=EU).events == []


def test_a_counterpart_first_seen_after_the_due_date_is_invited_then_marked_no_answer(plan, cal):
    step = _step(plan, cal, 7, Stage.COORDINATION, OccurrenceState(), D(2023, 5, 8), counterpart=EU)
    assert _kinds(step.events) == [
        ("stage_status", None, "in_progress"),
        ("counterpart_status", EU, "invited"),
        ("counterpart_status", EU, "no_answer"),
        ("stage_status", None, "done"),
    ]


def test_a_late_answer_after_no_answer_is_kept(plan, cal):
    events = [
        _status("ngoi-lang-chau-au", Stage.COORDINATION, StageStatus.IN_PROGRESS, D(2023, 4, 27)),
        _answer("ngoi-lang-chau-au", EU, CoordinationStatus.INVITED, D(2023, 4, 27), n=0),
        _answer("ngoi-lang-chau-au", EU, CoordinationStatus.NO_ANSWER, D(2023, 5, 8), n=1),
        _answer("ngoi-lang-chau-au", EU, CoordinationStatus.CONFIRMED, D(2023, 5, 9), n=2),
    ]
    state = fold(events)[("ngoi-lang-chau-au", MAIN)]
    step = _step(plan, cal, 7, Stage.COORDINATION, state, D(2023, 5, 10), counterpart=EU)
    assert state.counterpart(EU) is CoordinationStatus.CONFIRMED and step.note == "confirmed"
    assert _kinds(step.events) == [("stage_status", None, "done")]


def test_coordination_is_done_only_when_every_counterpart_has_answered(plan, cal):
    item = plan.item(9)
    occurrence = _main(plan, 9)
    assert len(occurrence.counterparts) == 9
    due = stage_windows(plan, item, occurrence, cal)[Stage.COORDINATION].due
    assert due == D(2023, 10, 16)
    state = OccurrenceState()
    after = D(2023, 10, 17)
    *first, last = occurrence.counterparts
    for counterpart in first:
        step = _step(plan, cal, 9, Stage.COORDINATION, state, after, counterpart=counterpart)
        assert state.counterpart(counterpart) is CoordinationStatus.NO_ANSWER
        assert step.status is StageStatus.IN_PROGRESS
    # The stage-level step waits for the last one, and flags the stage as late meanwhile.
    waiting = _step(plan, cal, 9, Stage.COORDINATION, state, after)
    assert waiting.status is StageStatus.IN_PROGRESS and _kinds(waiting.events) == [("overdue", None, None)]
    step = _step(plan, cal, 9, Stage.COORDINATION, state, after, counterpart=last)
    assert step.status is StageStatus.DONE
    assert _kinds(step.events)[-1] == ("stage_status", None, "done")


def test_answers_recorded_by_people_finish_the_stage_at_the_stage_level_step(plan, cal):
    occurrence = _main(plan, 9)
    on = D(2023, 10, 10)
    events = [_status("giao-luu-van-hoa-quoc-te", Stage.COORDINATION, StageStatus.IN_PROGRESS, on)]
    for counterpart in occurrence.counterparts:
        answer = CoordinationStatus.DECLINED if counterpart == "dsq-canada" else CoordinationStatus.CONFIRMED
        events += [
            _answer("giao-luu-van-hoa-quoc-te", counterpart, CoordinationStatus.INVITED, on, n=0),
            _answer("giao-luu-van-hoa-quoc-te", counterpart, answer, on, n=1),
        ]
    state = fold(events[:-1])[("giao-luu-van-hoa-quoc-te", MAIN)]  # the last answer is still missing
    assert _step(plan, cal, 9, Stage.COORDINATION, state, on).events == []
    state = fold(events)[("giao-luu-van-hoa-quoc-te", MAIN)]
    step = _step(plan, cal, 9, Stage.COORDINATION, state, on)
    assert _kinds(step.events) == [("stage_status", None, "done")]
    assert step.events[0].payload == {"reason": "mọi đối tác đã trả lời"}


def test_no_overdue_flag_from_a_counterpart_step(plan, cal):
    occurrence = _main(plan, 9)
    step = _step(plan, cal, 9, Stage.COORDINATION, OccurrenceState(), D(2023, 10, 17), counterpart=occurrence.counterparts[0])
    # Late is reported, but the stage is flagged once, by the stage-level step, not per counterpart.
    assert EventKind.OVERDUE not in {e.kind for e in step.events}
    assert step.working_days_late == 1


@pytest.mark.parametrize("number", [2, 5])
def test_coordination_without_counterparts_is_skipped(plan, cal, number):
    state = OccurrenceState()
    step = _step(plan, cal, number, Stage.COORDINATION, state, D(2023, 4, 27))
    assert _kinds(step.events) == [("stage_status", None, "skipped")]
    assert step.status is StageStatus.SKIPPED
    assert "không áp dụng" in step.note
    assert _step(plan, cal, number, Stage.COORDINATION, state, D(2023, 6, 30)).events == []


def test_a_months_coordination_is_skipped_too(plan, cal):
    may = next(o for o in item_occurrences(plan, plan.item(1), [], D(2023, 5, 31)) if o.id == "2023-05")
    step = _step(plan, cal, 1, Stage.COORDINATION, OccurrenceState(), D(2023, 5, 4), occurrence=may)
    assert _kinds(step.events) == [("stage_status", None, "skipped")]
    assert all(e.occurrence == "2023-05" for e in step.events)


# -- item_status and RAG -----------------------------------------------------------------------------


def _view(status, stage: Stage, occurrence: str = MAIN):
    return next(v for v in status.stages if v.stage is stage and v.occurrence.id == occurrence)


def test_on_track_when_nothing_is_due_soon(plan):
    status = item_status(plan, plan.item(7), [], D(2023, 4, 19))
    # Preparation is due 25/4: 20, 21, 24, 25/4 are four working days away.
    assert status.rag is Rag.ON_TRACK and status.reasons == []
    assert status.next_due.stage is Stage.PREPARATION and status.next_due.due == D(2023, 4, 25)


def test_at_risk_when_not_started_and_due_within_the_policy(plan):
    status = item_status(plan, plan.item(7), [], D(2023, 4, 20))
    assert status.rag is Rag.AT_RISK
    assert status.reasons == ["Chuẩn bị: đến hạn 25/04/2023 mà chưa bắt đầu"]


def test_started_work_due_soon_is_not_at_risk(plan):
    events = [_status("ngoi-lang-chau-au", Stage.PREPARATION, StageStatus.IN_PROGRESS, D(2023, 4, 20))]
    assert item_status(plan, plan.item(7), events, D(2023, 4, 24)).rag is Rag.ON_TRACK


def test_holidays_make_a_week_away_due_soon(plan):
    # Preparation done; coordination due Friday 5/5. From Thursday 27/4 that is 8 calendar days but
    # only 3 working days (28/4, 4/5, 5/5) because of 29/4–3/5: at risk.
    events = _finished("ngoi-lang-chau-au", Stage.PREPARATION, D(2023, 4, 24))
    at_risk = item_status(plan, plan.item(7), events, D(2023, 4, 27))
    assert at_risk.rag is Rag.AT_RISK
    assert at_risk.reasons == ["Phối hợp với đối tác: đến hạn 05/05/2023 mà chưa bắt đầu"]
    # The day before, four working days remain: on track.
    assert item_status(plan, plan.item(7), events, D(2023, 4, 26)).rag is Rag.ON_TRACK
    # Same dates, with 1–3 May worked: six working days remain, on track.
    assert item_status(plan, plan.item(7), events, D(2023, 4, 27), _holiday_free_may(plan)).rag is Rag.ON_TRACK


def test_tet_makes_a_fortnight_away_due_soon(plan):
    # An anniversary event on Friday 10/2/2023, asked for on 5/1: preparation is due 27/1, the first
    # working day after Tết (10 working days before 10/2, skipping 20–26/1).
    request = request_record(plan, plan.item(8), start=D(2023, 2, 10), counterpart="dsq-australia", on=D(2023, 1, 5), actor="t")
    occurrence = request.occurrence
    early = item_status(plan, plan.item(8), [request], D(2023, 1, 16))
    assert _view(early, Stage.PREPARATION, occurrence).due == D(2023, 1, 27)
    # 16/1: 17, 18, 19 and 27/1 are four working days away (11 calendar days): on track.
    assert early.rag is Rag.ON_TRACK
    # 17/1: three working days (10 calendar days): at risk. On 19/1 only one working day is left.
    assert item_status(plan, plan.item(8), [request], D(2023, 1, 17)).rag is Rag.AT_RISK
    eve = item_status(plan, plan.item(8), [request], D(2023, 1, 19))
    assert eve.rag is Rag.AT_RISK
    assert any("27/01/2023" in r for r in eve.reasons)


def test_the_due_soon_threshold_comes_from_the_plans_policy(plan):
    events = _finished("ngoi-lang-chau-au", Stage.PREPARATION, D(2023, 4, 24))
    strict = plan.model_copy(update={"policy": Policy(due_soon_working_days=2)})
    assert item_status(strict, strict.item(7), events, D(2023, 4, 27)).rag is Rag.ON_TRACK
    assert item_status(strict, strict.item(7), events, D(2023, 4, 28)).rag is Rag.AT_RISK
    wide = plan.model_copy(update={"policy": Policy(due_soon_working_days=6)})
    assert item_status(wide, wide.item(7), events, D(2023, 4, 24)).rag is Rag.AT_RISK  # 25–28/4, 4–5/5


def test_overdue_by_the_threshold_is_at_risk_and_beyond_it_off_track(plan):
    # Preparation due 25/4. On 5/5 it is 10 calendar days but 5 working days late: at risk only.
    on_fifth = item_status(plan, plan.item(7), [], D(2023, 5, 5))
    prep = _view(on_fifth, Stage.PREPARATION)
    assert prep.overdue and prep.working_days_late == 5
    assert on_fifth.rag is Rag.AT_RISK
    assert "Chuẩn bị: quá hạn 5 ngày làm việc" in on_fifth.reasons
    # Monday 8/5: 6 working days late, more than policy.off_track_after_working_days (5).
    on_eighth = item_status(plan, plan.item(7), [], D(2023, 5, 8))
    assert on_eighth.rag is Rag.OFF_TRACK
    assert "Chuẩn bị: quá hạn 6 ngày làm việc" in on_eighth.reasons
    assert {v.stage for v in on_eighth.overdue} == {Stage.PREPARATION, Stage.COORDINATION}


def test_the_off_track_threshold_comes_from_the_plans_policy(plan):
    strict = plan.model_copy(update={"policy": Policy(off_track_after_working_days=3)})
    assert item_status(strict, strict.item(7), [], D(2023, 4, 28)).rag is Rag.AT_RISK  # 3 days late
    assert item_status(strict, strict.item(7), [], D(2023, 5, 4)).rag is Rag.OFF_TRACK  # 4: the holidays do not count


def test_blocked_is_off_track_even_before_the_due_date(plan):
    events = [_status("ngoi-lang-chau-au", Stage.PREPARATION, StageStatus.BLOCKED, D(2023, 4, 10))]
    status = item_status(plan, plan.item(7), events, D(2023, 4, 12))
    assert status.rag is Rag.OFF_TRACK
    assert status.reasons == ["Chuẩn bị: vướng mắc"]
    assert status.overdue == []


def test_done_when_every_stage_is_finished_even_late(plan):
    item = "ngoi-lang-chau-au"
    events = [
        *_finished(item, Stage.PREPARATION, D(2023, 5, 4)),  # due 25/4: 4 working days late
        _status(item, Stage.COORDINATION, StageStatus.IN_PROGRESS, D(2023, 4, 27)),
        _answer(item, EU, CoordinationStatus.INVITED, D(2023, 4, 27)),
        _answer(item, EU, CoordinationStatus.CONFIRMED, D(2023, 5, 5), n=1),
        _status(item, Stage.COORDINATION, StageStatus.DONE, D(2023, 5, 5), n=1),  # on the due date
        *_finished(item, Stage.EXECUTION, D(2023, 5, 14)),  # before its due date, 15/5
        *_finished(item, Stage.REPORTING, D(2023, 5, 23)),  # due 19/5: 22 and 23/5 late
    ]
    status = item_status(plan, plan.item(7), events, D(2023, 6, 1))
    assert status.rag is Rag.DONE and status.reasons == []
    assert [(v.stage, v.finished_on, v.working_days_late) for v in status.stages] == [
        (Stage.PREPARATION, D(2023, 5, 4), 4),
        (Stage.COORDINATION, D(2023, 5, 5), 0),
        (Stage.EXECUTION, D(2023, 5, 14), 0),
        (Stage.REPORTING, D(2023, 5, 23), 2),
    ]
    assert status.overdue == [] and status.next_due is None
    assert _view(status, Stage.COORDINATION).counterparts == {EU: CoordinationStatus.CONFIRMED}


def test_skipped_stages_count_as_finished(plan):
    item = "giao-luu-the-thao"
    events = [
        *_finished(item, Stage.PREPARATION, D(2023, 5, 12)),
        *_finished(item, Stage.COORDINATION, D(2023, 4, 27), StageStatus.SKIPPED),
        *_finished(item, Stage.EXECUTION, D(2023, 12, 15)),
        *_finished(item, Stage.REPORTING, D(2023, 12, 22)),
    ]
    assert item_status(plan, plan.item(2), events, D(2023, 12, 31)).rag is Rag.DONE


def test_a_late_stage_that_is_finished_no_longer_counts_against_the_item(plan):
    events = _finished("ngoi-lang-chau-au", Stage.PREPARATION, D(2023, 5, 8))  # 6 working days late
    status = item_status(plan, plan.item(7), events, D(2023, 5, 8))
    prep = _view(status, Stage.PREPARATION)
    assert prep.working_days_late == 6 and prep.finished and not prep.overdue
    assert not any(r.startswith("Chuẩn bị") for r in status.reasons)


def test_the_ledger_after_as_of_is_ignored(plan):
    events = [
        *_finished("ngoi-lang-chau-au", Stage.PREPARATION, D(2023, 4, 24)),
        _execution("ngoi-lang-chau-au", {"participants": 25000}, D(2023, 5, 14)),
        *_finished("ngoi-lang-chau-au", Stage.EXECUTION, D(2023, 5, 14)),
    ]
    before = item_status(plan, plan.item(7), events, D(2023, 4, 21))
    assert _view(before, Stage.PREPARATION).status is StageStatus.NOT_STARTED
    assert before.indicators == {}
    after = item_status(plan, plan.item(7), events, D(2023, 5, 14))
    assert _view(after, Stage.EXECUTION).status is StageStatus.DONE
    assert after.indicators == {"participants": 25000}


def test_indicators_are_summed_across_occurrences_from_each_latest_report(plan):
    item = plan.item(8)
    singapore = request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 20), actor="t")
    japan = request_record(plan, item, start=D(2023, 9, 21), counterpart="dsq-nhat-ban", on=D(2023, 8, 15), actor="t")
    events = [
        singapore,
        japan,
        _execution(item.id, {"events_held": 1, "participants": 800, "embassies_engaged": 1}, D(2023, 8, 1), singapore.occurrence),
        _execution(item.id, {"events_held": 1, "participants": 1500, "embassies_engaged": 1}, D(2023, 9, 21), japan.occurrence),
    ]
    status = item_status(plan, item, events, D(2023, 12, 31))
    assert status.indicators == {"events_held": 2, "participants": 2300, "embassies_engaged": 2}
    # A corrected report replaces the earlier one of the same occurrence; it is not added to it.
    correction = _execution(item.id, {"events_held": 1, "participants": 900}, D(2023, 8, 2), singapore.occurrence, tag="fix")
    corrected = item_status(plan, item, [*events, correction], D(2023, 12, 31))
    assert corrected.indicators == {"events_held": 2, "participants": 2400, "embassies_engaged": 1}
    # Before Japan's event was reported, only Singapore's counts.
    assert item_status(plan, item, events, D(2023, 9, 1)).indicators == {"events_held": 1, "participants": 800, "embassies_engaged": 1}


def test_an_on_request_item_without_requests_has_nothing_to_do(plan):
    status = item_status(plan, plan.item(8), [], D(2023, 12, 31))
    assert status.occurrences == [] and status.stages == []
    assert status.rag is Rag.ON_TRACK and status.next_due is None


def test_other_items_events_do_not_leak_into_an_items_status(plan):
    events = [_status("giao-luu-van-hoa-quoc-te", Stage.PREPARATION, StageStatus.BLOCKED, D(2023, 4, 1))]
    status = item_status(plan, plan.item(7), events, D(2023, 4, 12))
    assert status.rag is Rag.ON_TRACK
    assert all(v.status is StageStatus.NOT_STARTED for v in status.stages)


# -- occurrences -------------------------------------------------------------------------------------


def test_item_1_has_no_month_before_the_plan_is_issued(plan):
    assert [o.id for o in item_occurrences(plan, plan.item(1), [], D(2023, 4, 26))] == [MAIN]


def test_item_1_has_a_month_from_the_plans_issue_up_to_as_of(plan):
    item = plan.item(1)
    on_issue = item_occurrences(plan, item, [], D(2023, 4, 27))
    assert [(o.id, o.start, o.end, o.known_since) for o in on_issue] == [
        (MAIN, D(2023, 1, 1), D(2023, 12, 31), D(2023, 1, 1)),
        ("2023-04", D(2023, 4, 27), D(2023, 4, 30), D(2023, 4, 27)),
    ]
    assert [o.id for o in item_occurrences(plan, item, [], D(2023, 5, 31))] == [MAIN, "2023-04", "2023-05"]
    assert [o.id for o in item_occurrences(plan, item, [], D(2023, 6, 1))][-1] == "2023-06"
    year = item_occurrences(plan, item, [], D(2023, 12, 31))
    assert [o.id for o in year] == [MAIN] + [f"2023-{m:02d}" for m in range(4, 13)]
    june = next(o for o in year if o.id == "2023-06")
    assert (june.start, june.end, june.title, june.counterparts) == (D(2023, 6, 1), D(2023, 6, 30), "tháng 6/2023", ())
    # The months stop at the end of the plan's year.
    assert [o.id for o in item_occurrences(plan, item, [], D(2024, 3, 1))][-1] == "2023-12"


def test_a_months_stages_follow_the_occurrence_offsets_around_the_september_holidays(plan, cal):
    item = plan.item(1)
    september = next(o for o in item_occurrences(plan, item, [], D(2023, 9, 30)) if o.id == "2023-09")
    windows = stage_windows(plan, item, september, cal)
    # 1/9 is Quốc khánh and 4/9 its day off: the month's first working day is 5/9. The month ends on a
    # Saturday; execution is due on Monday 2/10, reporting 5 working days later.
    assert {s: w.due for s, w in windows.items()} == {
        Stage.PREPARATION: D(2023, 9, 5),
        Stage.COORDINATION: D(2023, 9, 5),
        Stage.EXECUTION: D(2023, 10, 2),
        Stage.REPORTING: D(2023, 10, 6),
    }
    assert windows[Stage.PREPARATION].opens == D(2023, 9, 1)


def test_programme_and_event_items_have_only_their_main_occurrence_without_requests(plan):
    for number in (2, 3, 4, 5, 6, 7, 9):
        assert [o.id for o in item_occurrences(plan, plan.item(number), [], D(2023, 12, 31))] == [MAIN]


def test_an_on_request_item_has_an_occurrence_per_request(plan, cal):
    item = plan.item(8)
    assert item_occurrences(plan, item, [], D(2023, 12, 31)) == []
    singapore = request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 20), actor="t")
    japan = request_record(plan, item, start=D(2023, 9, 21), counterpart="dsq-nhat-ban", on=D(2023, 8, 15), actor="t")
    events = [japan, singapore]
    # A request dated after as_of is not known yet.
    assert item_occurrences(plan, item, events, D(2023, 6, 19)) == []
    assert [o.id for o in item_occurrences(plan, item, events, D(2023, 8, 14))] == ["2023-08-01-dsq-singapore"]
    both = item_occurrences(plan, item, events, D(2023, 8, 15))
    assert [(o.id, o.start, o.end, o.known_since, o.counterparts) for o in both] == [
        ("2023-08-01-dsq-singapore", D(2023, 8, 1), D(2023, 8, 1), D(2023, 6, 20), ("dsq-singapore",)),
        ("2023-09-21-dsq-nhat-ban", D(2023, 9, 21), D(2023, 9, 21), D(2023, 8, 15), ("dsq-nhat-ban",)),
    ]
    # Each request has its own stage dates, from its date and the stage offsets, opening when asked.
    windows = stage_windows(plan, item, both[0], cal)
    assert {s: (w.opens, w.due) for s, w in windows.items()} == {
        Stage.PREPARATION: (D(2023, 6, 20), D(2023, 7, 18)),
        Stage.COORDINATION: (D(2023, 6, 20), D(2023, 7, 25)),
        Stage.EXECUTION: (D(2023, 8, 1), D(2023, 8, 1)),
        Stage.REPORTING: (D(2023, 8, 1), D(2023, 8, 8)),
    }
    assert stage_windows(plan, item, both[1], cal)[Stage.REPORTING].due == D(2023, 9, 28)


def test_a_request_just_after_the_september_holidays_is_due_earlier(plan, cal):
    request = request_record(plan, plan.item(8), start=D(2023, 9, 5), counterpart="dsq-nhat-ban", on=D(2023, 8, 1), actor="t")
    (occurrence,) = item_occurrences(plan, plan.item(8), [request], D(2023, 9, 30))
    windows = stage_windows(plan, plan.item(8), occurrence, cal)
    # Back from 5/9 over 1–4/9: 31, 30, 29, 28, 25/8 for coordination, ten days to 18/8 for preparation.
    assert windows[Stage.COORDINATION].due == D(2023, 8, 25)
    assert windows[Stage.PREPARATION].due == D(2023, 8, 18)
    assert windows[Stage.REPORTING].due == D(2023, 9, 12)


def test_a_programme_session_spans_its_days(plan, cal):
    item = plan.item(3)
    session = request_record(plan, item, start=D(2023, 8, 10), end=D(2023, 8, 11), title="Khóa tập huấn", on=D(2023, 7, 3), actor="t")
    occurrences = item_occurrences(plan, item, [session], D(2023, 12, 31))
    assert [o.id for o in occurrences] == [MAIN, "2023-08-10"]
    course = occurrences[1]
    assert (course.start, course.end, course.title, course.counterparts) == (D(2023, 8, 10), D(2023, 8, 11), "Khóa tập huấn", ())
    windows = stage_windows(plan, item, course, cal)
    assert windows[Stage.EXECUTION].due == D(2023, 8, 11)
    assert windows[Stage.REPORTING].due == D(2023, 8, 18)
    # The session's stages are its own, not the year's: preparation 10 working days before 10/8.
    assert windows[Stage.PREPARATION].due == D(2023, 7, 27)


def test_requests_for_another_item_are_not_its_occurrences(plan):
    request = request_record(plan, plan.item(8), start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 20), actor="t")
    assert [o.id for o in item_occurrences(plan, plan.item(3), [request], D(2023, 12, 31))] == [MAIN]


def test_each_request_occurrence_runs_its_own_stages(plan, cal):
    item = plan.item(8)
    request = request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 6, 20), actor="t")
    (occurrence,) = item_occurrences(plan, item, [request], D(2023, 6, 20))
    state = OccurrenceState()
    step = stage_step(plan, item, occurrence, Stage.COORDINATION, state, D(2023, 6, 20), cal, counterpart="dsq-singapore")
    assert _kinds(step.events) == [("stage_status", None, "in_progress"), ("counterpart_status", "dsq-singapore", "invited")]
    assert all(e.occurrence == "2023-08-01-dsq-singapore" for e in step.events)
    assert all("/2023-08-01-dsq-singapore/coordination/" in e.key for e in step.events)

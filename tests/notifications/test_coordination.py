"""Which coordination mails go out on a date: invitations, reminders, overdue notices, escalations.

Item 7 (Ngôi làng Châu Âu, 12–14/5/2023; lead Văn phòng Sở, coordinating Phòng Quản lý nghệ thuật,
counterpart the EU Delegation) has its coordination due Fri 5/5/2023. 29/4–3/5 are days off, so the
three working days before it are 27/4, 28/4 and 4/5. Item 9's coordination is due Mon 16/10 (nine
embassies); item 6 is led by the city (UBND), outside the Department.
"""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.coordination import coordination_mails, responsible
from notifications.mail import MailKind
from plan.events import CoordinationStatus
from plan.load import load_plan
from plan.model import CounterpartKind, Plan, Stage
from plan.occurrences import item_occurrences
from plan.progress import OccurrenceState, fold, outcome_events, plan_status
from plan.recording import request_record

D = dt.date
EU = "phai-doan-eu"


@pytest.fixture(name="plan", scope="module")
def plan_fixture() -> Plan:
    result = load_plan()
    assert result.plan is not None
    return result.plan


def _mails(plan: Plan, as_of: D, events: list | None = None, *, items: tuple[int, ...] | None = None):
    statuses = plan_status(plan, list(events or []), as_of)
    if items is not None:
        statuses = [s for s in statuses if s.item.number in items]
    return coordination_mails(plan, statuses, as_of)


def _keys(mails, kind: MailKind | None = None) -> list[str]:
    return [m.key for m in mails if kind is None or m.kind is kind]


def _answer(plan: Plan, number: int, counterpart: str, answer: str, on: D, events: list, occurrence_id: str = "main") -> list:
    item = plan.item(number)
    occurrence = next(o for o in item_occurrences(plan, item, events, on) if o.id == occurrence_id)
    state = fold(events).get((item.id, occurrence.id), OccurrenceState())
    return outcome_events(plan, item, occurrence, Stage.COORDINATION, {"counterpart": counterpart, "answer": answer}, state, on=on, actor="t")


def _done(plan: Plan, number: int, stage: Stage, on: D, events: list) -> list:
    item = plan.item(number)
    occurrence = item_occurrences(plan, item, events, on)[0]
    state = fold(events).get((item.id, occurrence.id), OccurrenceState())
    return outcome_events(plan, item, occurrence, stage, {"result": "done"}, state, on=on, actor="t")


# -- invitations ------------------------------------------------------------------------------------


def test_each_counterpart_is_invited_once_per_occurrence_whatever_the_date(plan):
    first = _keys(_mails(plan, D(2023, 4, 27), items=(9,)), MailKind.INVITATION)
    assert first == [f"invitation/{cp}/giao-luu-van-hoa-quoc-te/main" for cp in plan.item(9).counterparts]
    later = _keys(_mails(plan, D(2023, 9, 1), items=(9,)), MailKind.INVITATION)
    assert later == first  # the same keys: the outbox queues each once


def test_an_answered_counterpart_is_not_invited(plan):
    events = _answer(plan, 9, "dsq-phap", "confirmed", D(2023, 10, 10), [])
    events += _answer(plan, 9, "dsq-canada", "declined", D(2023, 10, 10), events)
    keys = _keys(_mails(plan, D(2023, 10, 11), events, items=(9,)), MailKind.INVITATION)
    assert "invitation/dsq-phap/giao-luu-van-hoa-quoc-te/main" not in keys
    assert "invitation/dsq-canada/giao-luu-van-hoa-quoc-te/main" not in keys
    assert "invitation/dsq-bi/giao-luu-van-hoa-quoc-te/main" in keys


def test_no_invitation_once_the_event_has_begun(plan):
    assert _keys(_mails(plan, D(2023, 10, 20), items=(9,)), MailKind.INVITATION) != []
    assert _keys(_mails(plan, D(2023, 10, 21), items=(9,)), MailKind.INVITATION) == []


def test_a_request_is_an_occurrence_of_its_own_with_its_own_invitation(plan):
    item = plan.item(8)
    request = request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", title="Kỷ niệm 50 năm Việt Nam – Singapore", on=D(2023, 6, 20), actor="t")
    assert _keys(_mails(plan, D(2023, 6, 19), [request], items=(8,)), MailKind.INVITATION) == []
    mails = [m for m in _mails(plan, D(2023, 6, 20), [request], items=(8,)) if m.kind is MailKind.INVITATION]
    assert [m.key for m in mails] == [f"invitation/dsq-singapore/ky-niem-50-nam-ngoai-giao/{request.occurrence}"]
    assert "Kỷ niệm 50 năm Việt Nam – Singapore" in mails[0].text


def test_a_late_request_asks_for_an_answer_as_soon_as_possible(plan):
    # Asked on Fri 28/7 for Tue 1/8: the coordination was due 5 working days before, on 25/7.
    item = plan.item(8)
    request = request_record(plan, item, start=D(2023, 8, 1), counterpart="dsq-singapore", on=D(2023, 7, 28), actor="t")
    mail = next(m for m in _mails(plan, D(2023, 7, 28), [request], items=(8,)) if m.kind is MailKind.INVITATION)
    assert "sớm nhất có thể" in mail.text and "at your earliest convenience" in mail.text
    assert "trước ngày" not in mail.text


def test_an_invitation_goes_to_the_contacts_with_the_responsible_units_in_copy(plan):
    mail = next(m for m in _mails(plan, D(2023, 4, 27), items=(7,)) if m.kind is MailKind.INVITATION)
    assert mail.key == f"invitation/{EU}/ngoi-lang-chau-au/main"
    assert [a.email for a in mail.to] == ["culture@eu-delegation.example"]
    assert [a.email for a in mail.cc] == ["vanphong@svhtt.hanoi.example"]
    assert "«Ngôi làng Châu Âu»" not in mail.subject and "Ngôi làng Châu Âu" in mail.subject


def test_embassies_get_vietnamese_then_english(plan):
    mail = next(m for m in _mails(plan, D(2023, 4, 27), items=(9,)) if m.key.startswith("invitation/dsq-bi/"))
    for body in (mail.text, mail.html):
        assert body.index("Kính gửi: Đại sứ quán Vương quốc Bỉ tại Việt Nam") < body.index("To: Embassy of Belgium in Viet Nam")
        assert "21 October 2023 – 31 October 2023 (expected; to be confirmed)" in body
        assert "by 16 October 2023" in body
        assert "trước ngày 16/10/2023" in body
    assert "Invitation to cooperate" in mail.subject


def test_a_partner_that_is_not_an_embassy_gets_vietnamese_only(plan):
    counterparts = [c.model_copy(update={"kind": CounterpartKind.PARTNER}) if c.id == "dsq-bi" else c for c in plan.counterparts]
    local = plan.model_copy(update={"counterparts": counterparts})
    mail = next(m for m in _mails(local, D(2023, 4, 27), items=(9,)) if m.key.startswith("invitation/dsq-bi/"))
    assert "Kính gửi:" in mail.text
    assert "To:" not in mail.text and "Pursuant" not in mail.html
    assert "Invitation" not in mail.subject


def test_a_counterpart_without_contacts_gets_no_mail(plan):
    counterparts = [c.model_copy(update={"contacts": []}) if c.id == "dsq-bi" else c for c in plan.counterparts]
    local = plan.model_copy(update={"counterparts": counterparts})
    keys = _keys(_mails(local, D(2023, 4, 27), items=(9,)), MailKind.INVITATION)
    assert len(keys) == 8 and not any("/dsq-bi/" in k for k in keys)


# -- reminders --------------------------------------------------------------------------------------


def test_the_reminder_comes_three_working_days_before_the_due_date_counted_around_the_holidays(plan):
    key = "reminder/van-phong/ngoi-lang-chau-au/main/coordination"
    assert key not in _keys(_mails(plan, D(2023, 4, 26), items=(7,)))  # 26/4: 4 working days ahead
    assert key in _keys(_mails(plan, D(2023, 4, 27), items=(7,)))  # 28/4, 4/5, 5/5 ahead
    assert key in _keys(_mails(plan, D(2023, 5, 2), items=(7,)))  # a holiday: still due within 3
    assert key in _keys(_mails(plan, D(2023, 5, 5), items=(7,)))  # due today


def test_the_reminder_period_comes_from_the_plans_policy(plan):
    late_reminder = plan.model_copy(update={"policy": plan.policy.model_copy(update={"remind_before_working_days": 1})})
    key = "reminder/van-phong/ngoi-lang-chau-au/main/coordination"
    assert key not in _keys(_mails(late_reminder, D(2023, 5, 3), items=(7,)))  # 4/5 and 5/5 ahead
    assert key in _keys(_mails(late_reminder, D(2023, 5, 4), items=(7,)))


def test_the_reminder_goes_to_the_lead_with_the_coordinating_units_in_copy(plan):
    mail = next(m for m in _mails(plan, D(2023, 4, 27), items=(7,)) if m.key == "reminder/van-phong/ngoi-lang-chau-au/main/coordination")
    assert mail.kind is MailKind.REMINDER
    assert [a.email for a in mail.to] == ["vanphong@svhtt.hanoi.example"]
    assert [a.email for a in mail.cc] == ["qlnt@svhtt.hanoi.example"]
    assert "05/05/2023" in mail.subject
    assert "còn 3 ngày làm việc" in mail.text


def test_finished_stages_get_no_mail(plan):
    events = _answer(plan, 7, EU, "confirmed", D(2023, 5, 3), [])
    keys = _keys(_mails(plan, D(2023, 5, 4), events, items=(7,)))
    assert not any(k.endswith("/coordination") for k in keys)
    assert f"invitation/{EU}/ngoi-lang-chau-au/main" not in keys


def test_a_coordination_stage_without_counterparts_gets_no_mail(plan):
    # Item 2's coordination (no counterparts, skipped by the flows) is due 30/5.
    keys = _keys(_mails(plan, D(2023, 5, 29), items=(2,)))
    assert not any(k.endswith("/coordination") for k in keys)
    assert _keys(_mails(plan, D(2023, 12, 13), items=(2,)), MailKind.REMINDER) == ["reminder/qltdtt/giao-luu-the-thao/main/execution"]


# -- overdue and escalation -------------------------------------------------------------------------


def test_overdue_from_the_first_working_day_after_the_due_date(plan):
    key = "overdue/van-phong/ngoi-lang-chau-au/main/coordination"
    assert key not in _keys(_mails(plan, D(2023, 5, 6), items=(7,)))  # Saturday: not late yet
    assert "reminder/van-phong/ngoi-lang-chau-au/main/coordination" not in _keys(_mails(plan, D(2023, 5, 6), items=(7,)))
    mails = _mails(plan, D(2023, 5, 8), items=(7,))
    assert key in _keys(mails)
    mail = next(m for m in mails if m.key == key)
    assert [a.email for a in mail.to] == ["vanphong@svhtt.hanoi.example"]
    assert [a.email for a in mail.cc] == ["qlnt@svhtt.hanoi.example"]
    assert "quá hạn 1 ngày làm việc" in mail.text


def test_escalation_to_the_directors_only_beyond_the_threshold(plan):
    # Item 9's coordination is due Mon 16/10; its event runs 21/10–31/10.
    key = "escalation/ban-giam-doc/giao-luu-van-hoa-quoc-te/main/coordination"
    assert key not in _keys(_mails(plan, D(2023, 10, 23), items=(9,)))  # 5 working days late: not beyond 5
    mails = _mails(plan, D(2023, 10, 24), items=(9,))  # 6
    assert key in _keys(mails)
    assert "overdue/van-phong/giao-luu-van-hoa-quoc-te/main/coordination" in _keys(mails)
    mail = next(m for m in mails if m.key == key)
    assert mail.kind is MailKind.ESCALATION
    assert [a.email for a in mail.to] == ["bangiamdoc@svhtt.hanoi.example"]
    assert {a.email for a in mail.cc} == {"vanphong@svhtt.hanoi.example", "qlnt@svhtt.hanoi.example"}
    assert "quá hạn 6 ngày làm việc" in mail.subject


def test_no_invitation_reminder_or_overdue_notice_once_the_event_has_taken_place(plan):
    # Item 7 was held 12–14/5: from 15/5 nobody is chased about its coordination (nor invited),
    # though the stage was never finished; its execution is still asked for.
    before = _keys(_mails(plan, D(2023, 5, 12), items=(7,)))
    assert "overdue/van-phong/ngoi-lang-chau-au/main/coordination" in before
    after = _keys(_mails(plan, D(2023, 5, 15), items=(7,)))
    assert not any(k.endswith("/coordination") for k in after)
    assert not any(k.startswith("invitation/") for k in after)
    assert "reminder/van-phong/ngoi-lang-chau-au/main/execution" in after


def test_no_invitation_once_the_execution_is_recorded(plan):
    # Item 9's execution recorded on 20/10, before the planned window: Belgium is no longer invited.
    events = _done(plan, 9, Stage.EXECUTION, D(2023, 10, 20), [])
    keys = _keys(_mails(plan, D(2023, 10, 20), events, items=(9,)))
    assert not any(k.startswith("invitation/") for k in keys)
    assert not any(k.endswith("/coordination") for k in keys)


def test_the_sample_year_run_once_on_31_december_invites_nobody_to_a_past_event(plan):
    # `kehoach run --as-of 2023-12-31 --scenario …`: the flows' steps on that one day record no
    # "invited" for Belgium (item 9 was held on 28/10) and end the coordination on the event's day,
    # so no digest of the last week shows it as a late completion.
    from plan.progress import stage_step
    from plan.scenario import SCENARIOS_DIR, load_scenario, scenario_events
    from plan.schedule import working_calendar

    scenario, _ = load_scenario(SCENARIOS_DIR / "hanoi-svhtt-ttdn-2023.sample.yaml")
    day = D(2023, 12, 31)
    events = list(scenario_events(plan, scenario, [], day, actor="t"))
    item = plan.item(9)
    occurrence = item_occurrences(plan, item, events, day)[0]
    state = fold(events)[(item.id, occurrence.id)]
    steps = [stage_step(plan, item, occurrence, Stage.COORDINATION, state, day, working_calendar(plan), counterpart=cp) for cp in occurrence.counterparts]
    steps.append(stage_step(plan, item, occurrence, Stage.COORDINATION, state, day, working_calendar(plan)))
    new = [e for s in steps for e in s.events]
    assert not any(e.counterpart == "dsq-bi" for e in new)
    assert state.counterpart("dsq-bi") is CoordinationStatus.TO_INVITE
    view = next(v for v in plan_status(plan, events + new, day)[8].stages if v.stage is Stage.COORDINATION)
    assert view.finished and view.finished_on == D(2023, 10, 29)  # the day its execution was recorded
    assert _keys(_mails(plan, day, events + new, items=(9,)), MailKind.INVITATION) == []


def test_the_escalation_threshold_comes_from_the_plans_policy(plan):
    strict = plan.model_copy(update={"policy": plan.policy.model_copy(update={"off_track_after_working_days": 0})})
    assert "escalation/ban-giam-doc/ngoi-lang-chau-au/main/coordination" in _keys(_mails(strict, D(2023, 5, 8), items=(7,)))


def test_an_external_lead_gets_nothing_and_the_coordinating_unit_everything(plan):
    # Item 6 is led by the city; Văn phòng Sở coordinates. Reporting is due Fri 21/4, execution Mon 17/4.
    assert [r.key for r in responsible(plan, plan.item(6))] == ["van-phong"]
    mails = _mails(plan, D(2023, 4, 18), items=(6,))
    assert "reminder/van-phong/hoi-nghi-viet-phap-12/main/reporting" in _keys(mails)
    assert "overdue/van-phong/hoi-nghi-viet-phap-12/main/execution" in _keys(mails)
    recipients = {a.email for m in mails for a in (*m.to, *m.cc)}
    assert "vanthu@ubnd.hanoi.example" not in recipients
    assert not any("/ubnd-tp-ha-noi/" in k for k in _keys(mails))
    reminder = next(m for m in mails if m.kind is MailKind.REMINDER)
    assert [a.email for a in reminder.to] == ["vanphong@svhtt.hanoi.example"]
    assert "là đơn vị phối hợp, báo kết quả thay đơn vị chủ trì" in reminder.text


def test_nothing_is_due_for_an_item_whose_stages_are_done(plan):
    events: list = []
    for stage in (Stage.PREPARATION, Stage.EXECUTION, Stage.REPORTING):
        events += _done(plan, 7, stage, D(2023, 4, 25), events)
    events += _answer(plan, 7, EU, "confirmed", D(2023, 4, 25), events)
    assert _mails(plan, D(2023, 5, 30), events, items=(7,)) == []


def test_the_same_date_gives_the_same_mails(plan):
    first = _mails(plan, D(2023, 5, 15))
    again = _mails(plan, D(2023, 5, 15))
    assert [(m.key, m.subject, m.text, m.html) for m in first] == [(m.key, m.subject, m.text, m.html) for m in again]
    assert len({m.key for m in first}) == len(first)


def test_a_stage_answer_status_other_than_invited_is_not_awaited(plan):
    # "no answer" counts as answered: no invitation again.
    events = _answer(plan, 9, "dsq-bi", "no_answer", D(2023, 10, 17), [])
    view = next(v for v in plan_status(plan, events, D(2023, 10, 18))[8].stages if v.stage is Stage.COORDINATION)
    assert view.counterparts["dsq-bi"] is CoordinationStatus.NO_ANSWER
    assert not any(k.startswith("invitation/dsq-bi/") for k in _keys(_mails(plan, D(2023, 10, 18), events, items=(9,))))

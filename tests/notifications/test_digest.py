"""The weekly digests, from the 2023 plan and its sample scenario replayed the way the flows would run
it (the flows also record "in progress", "invited" and "no answer"; see `_simulate`).

Dates that matter: the plan was issued on Thu 27/4/2023; 29/4–3/5 are days off (Giỗ Tổ, 30/4, 1/5 and
their days in lieu); item 7 (Ngôi làng Châu Âu, lead Văn phòng Sở) is due: coordination Fri 5/5,
execution Mon 15/5, reporting Fri 19/5; item 9's coordination is due Mon 16/10 and Belgium never answers.
"""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from notifications.digest import (
    DecisionKind,
    digest_mails,
    directors_digest,
    iso_week,
    unit_digest,
)
from notifications.mail import MailKind
from plan.events import CoordinationStatus, StageStatus
from plan.load import load_plan
from plan.model import Plan, Role, Stage
from plan.occurrences import item_occurrences
from plan.progress import OccurrenceState, Rag, fold, outcome_events, plan_status, stage_step
from plan.scenario import SCENARIOS_DIR, load_scenario, scenario_events
from plan.schedule import working_calendar

D = dt.date
SAMPLE = SCENARIOS_DIR / "hanoi-svhtt-ttdn-2023.sample.yaml"


# -- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture(name="plan", scope="module")
def plan_fixture() -> Plan:
    result = load_plan()
    assert result.plan is not None
    return result.plan


@functools.cache
def _sample_events(as_of: D) -> tuple:
    plan = load_plan().plan
    scenario, problems = load_scenario(SAMPLE)
    assert scenario is not None, problems
    return tuple(_simulate(plan, scenario, as_of))


def _simulate(plan: Plan, scenario, as_of: D) -> list:
    """The sample scenario replayed with the flows' own steps at the plan's issue, every Monday and on
    `as_of`: what the ledger would hold had `kehoach run` been scheduled weekly."""
    calendar = working_calendar(plan)
    issued = plan.document.issued_on
    checkpoints = [issued]
    day = issued + dt.timedelta(days=7 - issued.weekday())
    while day < as_of:
        checkpoints.append(day)
        day += dt.timedelta(days=7)
    checkpoints.append(as_of)
    events: list = []
    previous = D.min
    for day in checkpoints:
        window = scenario.model_copy(update={"entries": [e for e in scenario.entries if previous < e.on <= day]})
        events += scenario_events(plan, window, events, day, actor="kịch bản")
        previous = day
        states = fold(events)
        for item in plan.items:
            for occurrence in item_occurrences(plan, item, events, day):
                if occurrence.known_since > day:
                    continue
                state = states.setdefault((item.id, occurrence.id), OccurrenceState())
                for stage in Stage:
                    if stage is Stage.COORDINATION:
                        for cp in occurrence.counterparts:
                            events += stage_step(plan, item, occurrence, stage, state, day, calendar, counterpart=cp).events
                    events += stage_step(plan, item, occurrence, stage, state, day, calendar).events
    return events


def _statuses(plan: Plan, as_of: D, extra: list | None = None):
    return plan_status(plan, [*_sample_events(as_of), *(extra or [])], as_of)


def _rows(entries) -> list[tuple]:
    return [(e.item.number, e.occurrence.id, e.stage.value) for e in entries]


# -- the unit digest --------------------------------------------------------------------------------


def test_van_phong_on_8_may_2023(plan):
    digest = unit_digest(plan, _statuses(plan, D(2023, 5, 8)), "van-phong", D(2023, 5, 8))
    assert [r.item.number for r in digest.leads] == [7, 8, 9]
    assert [(r.item.number, r.role) for r in digest.coordinates] == [(1, Role.COORDINATE), (6, Role.COORDINATE)]
    # What Văn phòng Sở reports: item 7's stages (it leads), none this week, two the next.
    assert _rows(digest.due_soon) == [(7, "main", "execution"), (7, "main", "reporting")]
    assert [e.working_days_left for e in digest.due_soon] == [5, 9]
    assert all(e.reports for e in digest.due_soon)
    assert digest.overdue == [] and digest.todo == []
    assert [(t.item.number, t.view.stage.value, t.counterpart) for t in digest.later] == [(7, "execution", None), (7, "reporting", None)]
    # Item 1 is led by Trung tâm Thông tin Triển lãm: Văn phòng Sở sees its late and coming stages as
    # a coordinating unit, and reports none of them. April's translations were due Thu 4/5.
    assert _rows(digest.partners) == [(1, "2023-04", "execution"), (1, "2023-04", "reporting"), (1, "main", "preparation")]
    assert digest.partners[0].working_days_late == 2 and not any(e.reports for e in digest.partners)
    assert _rows(digest.done_since) == [(1, "2023-04", "preparation"), (1, "2023-05", "preparation"), (7, "main", "coordination")]
    # Item 9's invitations went out at the plan's issue; none has been answered yet.
    assert {a.counterpart.id for a in digest.awaiting} == set(plan.item(9).counterparts)
    assert {a.due for a in digest.awaiting} == {D(2023, 10, 16)}


def test_van_phong_on_16_october_2023(plan):
    digest = unit_digest(plan, _statuses(plan, D(2023, 10, 16)), "van-phong", D(2023, 10, 16))
    assert [(r.item.number, r.status.rag) for r in digest.leads] == [(7, Rag.DONE), (8, Rag.DONE), (9, Rag.ON_TRACK)]
    # Due today is still "due", not late: 0 working days left.
    assert _rows(digest.due_soon) == [(9, "main", "coordination")]
    assert digest.due_soon[0].working_days_left == 0
    assert digest.due_soon[0].unanswered == ["dsq-bi"]
    # Belgium's answer is the one line of this week's work, with the stage due today.
    assert [(t.item.number, t.counterpart.id if t.counterpart else None) for t in digest.todo] == [(9, "dsq-bi")]
    # Item 1's late months are Trung tâm Thông tin Triển lãm's to report: not Văn phòng Sở's overdue.
    assert digest.overdue == []
    assert [(e.occurrence.id, e.stage.value, e.working_days_late) for e in digest.partners if e.view.overdue] == [
        ("2023-07", "execution", 53),
        ("2023-07", "reporting", 48),
        ("2023-08", "execution", 30),
        ("2023-08", "reporting", 25),
        ("2023-09", "execution", 10),
        ("2023-09", "reporting", 6),
    ]
    assert all(e.role is Role.COORDINATE for e in digest.partners)
    assert digest.done_since == []
    assert [(a.item.number, a.counterpart.id) for a in digest.awaiting] == [(9, "dsq-bi")]


def test_coordination_stages_without_counterparts_are_never_due_nor_late(plan):
    # Items 1–5 have no counterpart: the flows skip their coordination; with no flow events at all
    # the ledger still says "not started", and the digest must not call it late.
    as_of = D(2023, 10, 16)
    digest = unit_digest(plan, plan_status(plan, [], as_of), "qltdtt", as_of)
    assert (2, "main", "coordination") not in _rows(digest.overdue)
    assert (2, "main", "preparation") in _rows(digest.overdue)


def test_done_since_is_the_window_after_since_up_to_the_date(plan):
    statuses = _statuses(plan, D(2023, 5, 8))
    # Item 7's coordination finished on Wed 3/5.
    assert (7, "main", "coordination") not in _rows(unit_digest(plan, statuses, "van-phong", D(2023, 5, 8), since=D(2023, 5, 3)).done_since)
    assert (7, "main", "coordination") in _rows(unit_digest(plan, statuses, "van-phong", D(2023, 5, 8), since=D(2023, 5, 2)).done_since)
    # By default, the seven days before the date.
    default = unit_digest(plan, statuses, "van-phong", D(2023, 5, 8))
    assert default.since == D(2023, 5, 1)
    earlier = unit_digest(plan, _statuses(plan, D(2023, 5, 2)), "van-phong", D(2023, 5, 2))
    assert (7, "main", "coordination") not in _rows(earlier.done_since)


def test_skipped_stages_are_not_listed_as_done(plan):
    digest = unit_digest(plan, _statuses(plan, D(2023, 5, 1)), "ttttl", D(2023, 5, 1), since=D(2023, 4, 1))
    assert all(e.view.status is StageStatus.DONE for e in digest.done_since)
    assert (1, "2023-05", "coordination") not in _rows(digest.done_since)


def test_awaiting_answers_are_for_the_lead_and_the_coordinators_not_the_supporters(plan):
    statuses = _statuses(plan, D(2023, 10, 16))
    assert [a.counterpart.id for a in unit_digest(plan, statuses, "qlnt", D(2023, 10, 16)).awaiting] == ["dsq-bi"]
    assert unit_digest(plan, statuses, "khtc", D(2023, 10, 16)).awaiting == []


def test_an_answer_ends_the_wait_and_so_does_the_due_date(plan):
    # On 23/10 the flows have marked Belgium "no answer": nothing is awaited any more.
    digest = unit_digest(plan, _statuses(plan, D(2023, 10, 23)), "van-phong", D(2023, 10, 23))
    assert digest.awaiting == []
    # France answered on 10/10.
    digest = unit_digest(plan, _statuses(plan, D(2023, 10, 10)), "van-phong", D(2023, 10, 10))
    assert "dsq-phap" not in {a.counterpart.id for a in digest.awaiting}
    assert "dsq-bi" in {a.counterpart.id for a in digest.awaiting}


def test_due_soon_covers_today_to_fourteen_days_ahead(plan):
    # Item 7, nothing recorded: execution due Mon 15/5, reporting Fri 19/5, coordination Fri 5/5.
    def due_soon(as_of: D) -> list[tuple]:
        return [(n, s) for n, _, s in _rows(unit_digest(plan, plan_status(plan, [], as_of), "van-phong", as_of).due_soon) if n == 7]

    assert (7, "execution") not in due_soon(D(2023, 4, 30))  # 15 days ahead
    assert (7, "execution") in due_soon(D(2023, 5, 1))  # 14 days ahead
    assert (7, "reporting") not in due_soon(D(2023, 5, 1))
    assert (7, "coordination") in due_soon(D(2023, 5, 5))  # due today
    assert (7, "coordination") not in due_soon(D(2023, 5, 8))  # late now
    assert due_soon(D(2023, 5, 5))[0] == (7, "coordination")


def test_overdue_counts_working_days_across_the_april_may_holidays(plan):
    # April's translations (item 1) had to be chosen on Thu 27/4; nothing recorded.
    def late(as_of: D) -> int:
        digest = unit_digest(plan, plan_status(plan, [], as_of), "ttttl", as_of)
        return next(e.working_days_late for e in digest.overdue if (e.occurrence.id, e.stage) == ("2023-04", Stage.PREPARATION))

    assert late(D(2023, 4, 28)) == 1
    assert late(D(2023, 5, 3)) == 1  # 29/4–3/5 are days off
    assert late(D(2023, 5, 4)) == 2
    assert late(D(2023, 5, 8)) == 4  # 28/4, 4/5, 5/5, 8/5


def test_a_unit_without_a_role_in_an_item_does_not_see_it(plan):
    digest = unit_digest(plan, _statuses(plan, D(2023, 10, 16)), "tcpc", D(2023, 10, 16))
    assert [r.item.number for r in digest.leads] == [3]
    assert digest.coordinates == []
    assert all(e.item.number == 3 for e in [*digest.due_soon, *digest.overdue, *digest.done_since])


def test_the_finance_unit_supports_every_item(plan):
    digest = unit_digest(plan, _statuses(plan, D(2023, 10, 16)), "khtc", D(2023, 10, 16))
    assert digest.leads == []
    assert [r.item.number for r in digest.coordinates] == list(range(1, 10))
    assert {r.role for r in digest.coordinates} == {Role.SUPPORT}
    # It helps; it is not chased: no overdue, nothing to do, no lead's stage listed (item 1 is late).
    assert digest.overdue == [] and digest.due_soon == [] and digest.todo == [] and digest.partners == []
    assert digest.supports == digest.coordinates


def test_a_support_unit_gets_no_overdue_tile_for_the_leads_stage(plan):
    mail = next(m for m in digest_mails(plan, _statuses(plan, D(2023, 10, 16)), D(2023, 10, 16)) if m.key.startswith("digest/khtc/"))
    assert "Cần làm tuần này: 0 · Quá hạn: 0" in mail.text
    assert "#b42318" not in mail.html  # no red anywhere: neither a tile, a badge nor a late line
    assert "quá hạn" not in mail.text.split("NỘI DUNG ĐƠN VỊ HỖ TRỢ")[1]
    assert "ND 1 · Dịch thuật tin, bài đối ngoại [hỗ trợ]" in mail.text


# -- the directors' overview ------------------------------------------------------------------------


def test_directors_on_16_october_2023(plan):
    overview = directors_digest(plan, _statuses(plan, D(2023, 10, 16)), D(2023, 10, 16))
    assert [line.item.number for line in overview.items] == list(range(1, 10))
    assert overview.tally == {Rag.OFF_TRACK: 1, Rag.AT_RISK: 0, Rag.ON_TRACK: 5, Rag.DONE: 3}
    assert [line.item.number for line in overview.needs_decision] == [1, 9]
    item1, item9 = overview.needs_decision
    assert item1.rag is Rag.OFF_TRACK and item1.reasons
    # Late beyond the plan's 5 working days: all six of item 1's late stages (the least is 6 days).
    assert [(d.kind, d.occurrence.id, d.stage.value, d.working_days_late) for d in item1.decisions][-1] == (
        DecisionKind.OVERDUE,
        "2023-09",
        "reporting",
        6,
    )
    assert len(item1.decisions) == 6
    assert [(d.kind, d.counterpart.id, d.note) for d in item9.decisions] == [
        (DecisionKind.DECLINED, "dsq-canada", "Trùng lịch công tác của Đại sứ quán.")
    ]


def test_late_within_the_threshold_is_not_for_the_directors(plan):
    # On 8/5 item 1's April execution is 2 working days late: at risk, the unit's business.
    overview = directors_digest(plan, _statuses(plan, D(2023, 5, 8)), D(2023, 5, 8))
    assert overview.needs_decision == []
    assert [line.rag for line in overview.items][0] is Rag.AT_RISK


def test_the_threshold_comes_from_the_plans_policy(plan):
    strict = plan.model_copy(update={"policy": plan.policy.model_copy(update={"off_track_after_working_days": 1})})
    overview = directors_digest(strict, _statuses(plan, D(2023, 5, 8)), D(2023, 5, 8))
    assert [(line.item.number, [d.kind for d in line.decisions]) for line in overview.needs_decision] == [(1, [DecisionKind.OVERDUE])]


def test_a_blocked_stage_needs_a_decision_even_before_it_is_due(plan):
    as_of = D(2023, 10, 16)
    item = plan.item(5)
    occurrence = item_occurrences(plan, item, [], as_of)[0]
    blocked = outcome_events(
        plan, item, occurrence, Stage.EXECUTION, {"result": "blocked", "note": "Chưa có kinh phí"}, OccurrenceState(), on=as_of, actor="t"
    )
    overview = directors_digest(plan, _statuses(plan, as_of, blocked), as_of)
    line = next(line for line in overview.needs_decision if line.item.number == 5)
    assert line.rag is Rag.OFF_TRACK
    assert [(d.kind, d.stage, d.note) for d in line.decisions] == [(DecisionKind.BLOCKED, Stage.EXECUTION, "Chưa có kinh phí")]


def test_a_decline_no_longer_needs_a_decision_once_the_event_is_held(plan):
    overview = directors_digest(plan, _statuses(plan, D(2023, 10, 30)), D(2023, 10, 30))
    assert 9 not in [line.item.number for line in overview.needs_decision]


def test_a_counterpart_that_never_answered_is_for_the_directors_until_the_event(plan):
    overview = directors_digest(plan, _statuses(plan, D(2023, 10, 23)), D(2023, 10, 23))
    line = next(line for line in overview.needs_decision if line.item.number == 9)
    assert {(d.kind, d.counterpart.id) for d in line.decisions} == {
        (DecisionKind.DECLINED, "dsq-canada"),
        (DecisionKind.NO_ANSWER, "dsq-bi"),
    }
    assert all(d.view.counterparts[d.counterpart.id] in (CoordinationStatus.DECLINED, CoordinationStatus.NO_ANSWER) for d in line.decisions)


def test_directors_see_what_was_done_in_the_week(plan):
    overview = directors_digest(plan, _statuses(plan, D(2023, 5, 8)), D(2023, 5, 8))
    assert _rows(overview.done_since) == [(1, "2023-04", "preparation"), (1, "2023-05", "preparation"), (7, "main", "coordination")]


# -- the mails --------------------------------------------------------------------------------------


def test_one_digest_per_unit_with_an_address_and_one_for_the_directors(plan):
    mails = digest_mails(plan, _statuses(plan, D(2023, 10, 16)), D(2023, 10, 16))
    assert [(m.kind, m.key.split("/")[1]) for m in mails] == [(MailKind.DIGEST, u.id) for u in plan.units] + [
        (MailKind.DIRECTORS, "ban-giam-doc")
    ]
    van_phong = mails[0]
    assert [a.email for a in van_phong.to] == ["vanphong@svhtt.hanoi.example"]
    assert van_phong.subject == "[Kehoach] Tổng hợp tuần 42/2023 — Văn phòng Sở — Kế hoạch 326/KH-SVHTT"
    assert mails[-1].subject == "[Kehoach] Tổng hợp tuần 42/2023 — Ban Giám đốc Sở — Kế hoạch 326/KH-SVHTT"
    assert [a.email for a in mails[-1].to] == ["bangiamdoc@svhtt.hanoi.example"]


def test_a_unit_without_an_address_gets_no_digest(plan):
    units = [u if u.id != "qlds" else u.model_copy(update={"emails": []}) for u in plan.units]
    quiet = plan.model_copy(update={"units": units})
    keys = [m.key for m in digest_mails(quiet, _statuses(plan, D(2023, 10, 16)), D(2023, 10, 16))]
    assert len(keys) == len(plan.units)
    assert not any("/qlds/" in k for k in keys)


def test_digest_keys_are_stable_within_an_iso_week(plan):
    monday = [m.key for m in digest_mails(plan, _statuses(plan, D(2023, 10, 16)), D(2023, 10, 16))]
    friday = [m.key for m in digest_mails(plan, _statuses(plan, D(2023, 10, 20)), D(2023, 10, 20))]
    next_monday = [m.key for m in digest_mails(plan, _statuses(plan, D(2023, 10, 23)), D(2023, 10, 23))]
    assert monday == friday
    assert monday[0] == "digest/van-phong/hanoi-svhtt-ttdn-2023/2023-W42"
    assert monday[-1] == "directors/ban-giam-doc/hanoi-svhtt-ttdn-2023/2023-W42"
    assert set(monday).isdisjoint(next_monday)


def test_the_iso_week_belongs_to_the_iso_year():
    assert iso_week(D(2023, 12, 25)) == "2023-W52"
    assert iso_week(D(2023, 1, 1)) == "2022-W52"
    assert iso_week(D(2024, 12, 30)) == "2025-W01"


def test_since_defaults_to_a_week_before(plan):
    statuses = _statuses(plan, D(2023, 5, 8))
    default = digest_mails(plan, statuses, D(2023, 5, 8))
    explicit = digest_mails(plan, statuses, D(2023, 5, 8), since=D(2023, 5, 1))
    shorter = digest_mails(plan, statuses, D(2023, 5, 8), since=D(2023, 5, 5))
    assert [m.text for m in default] == [m.text for m in explicit]
    assert default[0].text != shorter[0].text

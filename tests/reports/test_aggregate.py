"""The report's numbers from the ledger, for the 2023 plan and its sample year (plan/scenarios/…sample.yaml).

Every expected number is computed here again, in plain Python over `ledger.events(...)` and
`plan.progress.plan_status` (the reference for statuses), and compared with what `aggregate` derives
in SQL and pandas. Runs on SQLite, and on PostgreSQL too when KEHOACH_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from plan.calendar import ReportingPeriod
from plan.events import MAIN, CoordinationStatus, EventKind, NewEvent, PlanRef, StageStatus, plan_ref
from plan.ledger import Ledger
from plan.model import STAGE_LABELS, Counted, Stage
from plan.progress import RAG_LABELS, plan_status
from plan.recording import outcome_record, request_record
from plan.scenario import SCENARIOS_DIR, load_scenario, scenario_events
from reports.aggregate import aggregate
from reports.data import (
    COUNTERPART_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_TOTAL_COLUMNS,
    ITEM_COLUMNS,
    LATE_COLUMNS,
    NOTE_COLUMNS,
    UNIT_COLUMNS,
)

D = dt.date
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = SCENARIOS_DIR / "hanoi-svhtt-ttdn-2023.sample.yaml"
PERIODS = ["2023-H1", "2023-9M", "2023", "2023-Q2", "2023-Q3"]


# -- fixtures --------------------------------------------------------------------------------------


def _sample_events(plan) -> list[NewEvent]:
    scenario, problems = load_scenario(SAMPLE)
    assert scenario is not None, [p.render() for p in problems]
    return scenario_events(plan, scenario, [], D(2023, 12, 31), actor="x")


@pytest.fixture(scope="module", name="ledger")
def fixture_ledger(plan, database_url):
    """The sample year: the scenario's outcomes and requests, replayed without any flow run."""
    with Ledger(database_url("sample")) as ledger:
        ledger.append(plan_ref(plan), _sample_events(plan))
        yield ledger


@pytest.fixture(scope="module", name="events")
def fixture_events(plan, ledger):
    return ledger.events(plan.id)


@pytest.fixture(scope="module", name="amended")
def fixture_amended(plan, database_url):
    """The sample year plus corrections and blocked stages."""
    with Ledger(database_url("amended")) as ledger:
        ref = plan_ref(plan)
        ledger.append(ref, _sample_events(plan))

        def record(number, stage, data, on, occurrence=None):
            _, new = outcome_record(plan, plan.item(number), stage, data, ledger.events(plan.id), on=on, actor="vp", occurrence=occurrence)
            ledger.append(ref, new)

        # Item 7 (executed 12/5, recorded 14/5 with 25,000 participants) is corrected twice: on 1/6
        # (inside the 6-month window) and on 20/6 (after it).
        held = {"held_on": "2023-05-12", "indicators": {"events_held": 1, "participants": 25500, "partner_countries": 20, "embassies_engaged": 18}}
        record(7, Stage.EXECUTION, {**held, "note": "Bổ sung số lượt khách ngày cuối."}, D(2023, 6, 1))
        held["indicators"]["participants"] = 26000
        record(7, Stage.EXECUTION, {**held, "note": "Số liệu chính thức của Ban tổ chức."}, D(2023, 6, 20))
        # Item 5: a note on its (late) coordination, then the proposal is blocked, with a later note.
        ledger.append(ref, [_note("de-an-cong-nghiep-van-hoa", Stage.COORDINATION, "Chưa xác định được đối tác phối hợp.", D(2023, 6, 1))])
        record(5, Stage.EXECUTION, {"result": "blocked", "note": "Chưa bố trí được kinh phí thuê tư vấn."}, D(2023, 11, 2))
        # Item 2: a note on its preparation only; its coordination is late.
        ledger.append(ref, [_note("giao-luu-the-thao", Stage.PREPARATION, "Đã xin ý kiến Ban Giám đốc về kinh phí.", D(2023, 6, 2))])
        # Item 1, December: coordination blocked by a flow, with the reason on the status only.
        base = f"{plan.id}/dich-thuat-tin-bai/2023-12/coordination"
        ledger.append(
            ref,
            [
                NewEvent(f"{base}/t/0", "dich-thuat-tin-bai", EventKind.STAGE_STATUS, "2023-12", "coordination", status="in_progress", effective_date=D(2023, 12, 4)),
                NewEvent(
                    f"{base}/t/1", "dich-thuat-tin-bai", EventKind.STAGE_STATUS, "2023-12", "coordination",
                    status="blocked", payload={"reason": "Chưa có cộng tác viên dịch tiếng Hàn."}, effective_date=D(2023, 12, 5),
                ),
            ],
        )
        yield ledger


@pytest.fixture(scope="module", name="blocked")
def fixture_blocked(plan, database_url):
    """Item 9's preparation blocked on 1/6 and Belgium invited the same day, never answering; a course of item 3."""
    with Ledger(database_url("blocked")) as ledger:
        ref = plan_ref(plan)
        _, new = outcome_record(plan, plan.item(9), Stage.PREPARATION, {"result": "blocked", "note": "Chờ phê duyệt địa điểm."}, [], on=D(2023, 6, 1), actor="vp")
        key = f"{plan.id}/giao-luu-van-hoa-quoc-te/main/coordination/dsq-bi/0/invited"
        invited = NewEvent(key, "giao-luu-van-hoa-quoc-te", EventKind.COUNTERPART_STATUS, MAIN, "coordination", "dsq-bi", "invited", {"reason": "gửi thư mời"}, effective_date=D(2023, 6, 1))
        # Item 3: a five-day course, scheduled and then left alone.
        course = request_record(plan, plan.item(3), start=D(2023, 9, 4), end=D(2023, 9, 8), title="Khóa bồi dưỡng kỹ năng", on=D(2023, 8, 20), actor="tcpc")
        ledger.append(ref, [*new, invited, course])
        yield ledger


def _note(item: str, stage: Stage, text: str, on: D) -> NewEvent:
    """A note given with an outcome that changes no status."""
    return NewEvent(f"test/{item}/{stage.value}/{on}", item, EventKind.OUTCOME, MAIN, stage.value, payload={"note": text}, actor="vp", effective_date=on)


def _report(plan, ledger, period: str, as_of: D | None = None):
    return aggregate(plan, ledger, ReportingPeriod.parse(period), as_of)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (str(v) if isinstance(v, str) else v) for k, v in row.items()} for row in frame.astype(object).to_dict("records")]


# -- the numbers, again, in plain Python ----------------------------------------------------------


def _in(day: D | None, window: tuple[D, D], as_of: D) -> bool:
    return day is not None and window[0] <= day <= min(window[1], as_of)


def expected_items(plan, events, as_of, window) -> list[dict]:
    rows = []
    for status in plan_status(plan, events, as_of):
        rows.append(
            {
                "number": status.item.number,
                "rag": status.rag.value,
                "rag_label": RAG_LABELS[status.rag],
                "occurrences": len(status.occurrences),
                "stages_total": len(status.stages),
                "stages_done": sum(v.finished for v in status.stages),
                "stages_done_in_period": sum(v.finished and _in(v.finished_on, window, as_of) for v in status.stages),
                "stages_overdue": len(status.overdue),
            }
        )
    return rows


def expected_indicators(plan, events, as_of, window) -> tuple[dict, dict]:
    """Per (item number, indicator) and per indicator: the latest execution outcome in the window, per
    occurrence; summed, except `counted: distinct` indicators (countries, embassies), which take the
    largest figure per item and overall, never a sum."""
    distinct = {i.id for i in plan.indicators if i.counted is Counted.DISTINCT}
    latest = {}
    for e in events:
        if e.kind == EventKind.OUTCOME and e.stage == Stage.EXECUTION and _in(e.effective_date, window, as_of):
            latest[(e.item, e.occurrence)] = e  # events come in id order
    per_item, totals = defaultdict(int), defaultdict(int)
    for (item, _), event in latest.items():
        for key, value in (event.payload.get("indicators") or {}).items():
            if isinstance(value, int):
                where = (plan.item(item).number, key)
                if key in distinct:
                    per_item[where] = max(per_item[where], value)
                    totals[key] = max(totals[key], value)
                else:
                    per_item[where] += value
                    totals[key] += value
    return dict(per_item), dict(totals)


def expected_late(plan, events, as_of) -> list[dict]:
    known = [e for e in events if e.effective_date is None or e.effective_date <= as_of]
    rows = []
    for status in plan_status(plan, events, as_of):
        for view in status.overdue:
            mine = [e for e in known if e.item == status.item.id and e.occurrence == view.occurrence.id]
            notes = [e.payload["note"] for e in mine if e.kind == EventKind.OUTCOME and e.payload.get("note")]
            on_stage = [e.payload["note"] for e in mine if e.kind == EventKind.OUTCOME and e.stage == view.stage and e.payload.get("note")]
            reason = (on_stage or notes or [""])[-1]
            if not reason and view.status is StageStatus.BLOCKED:
                statuses = [e for e in mine if e.kind == EventKind.STAGE_STATUS and e.stage == view.stage]
                reason = statuses[-1].payload.get("reason", "")
            rows.append(
                {
                    "item_number": status.item.number,
                    "short_title": status.item.short_title,
                    "occurrence": view.occurrence.id,
                    "stage": view.stage.value,
                    "stage_label": STAGE_LABELS[view.stage],
                    "due": view.due,
                    "working_days_late": view.working_days_late,
                    "lead": plan.party_name(status.item.lead, short=True),
                    "reason": reason,
                }
            )
    return sorted(rows, key=lambda r: (r["item_number"], r["due"], list(Stage).index(Stage(r["stage"]))))


def expected_counterparts(plan, events, as_of, window) -> dict[str, dict]:
    known = {(s.item.id, o.id) for s in plan_status(plan, events, as_of) for o in s.occurrences}
    latest = {}
    for e in events:
        if e.kind == EventKind.COUNTERPART_STATUS and e.counterpart and (e.effective_date is None or e.effective_date <= as_of):
            latest[(e.item, e.occurrence, e.counterpart)] = e
    table: dict[str, dict] = {}
    for (item, occurrence, counterpart), e in latest.items():
        awaiting = e.status == CoordinationStatus.INVITED
        if (item, occurrence) not in known or not (awaiting or _in(e.effective_date, window, as_of)):
            continue
        row = table.setdefault(counterpart, {"items": set(), "confirmed": 0, "declined": 0, "no_answer": 0, "awaiting": 0})
        row["items"].add(plan.item(item).number)
        row["awaiting" if awaiting else e.status] += 1
    return {cp: {**row, "items": ", ".join(map(str, sorted(row["items"])))} for cp, row in table.items()}


def expected_notes(plan, events, as_of, window) -> list[tuple]:
    notes = [
        (e.effective_date, plan.item(e.item).number, e.id, e.stage, e.actor, e.payload["note"])
        for e in events
        if e.kind == EventKind.OUTCOME and e.payload.get("note") and _in(e.effective_date, window, as_of)
    ]
    return [(number, stage, day, actor, text) for day, number, _, stage, actor, text in sorted(notes)]


# -- the contract ----------------------------------------------------------------------------------


def test_tables_have_the_contract_columns_and_categorical_statuses(plan, ledger):
    data = _report(plan, ledger, "2023")
    assert list(data.items.columns) == ITEM_COLUMNS
    assert list(data.indicators.columns) == INDICATOR_COLUMNS
    assert list(data.indicator_totals.columns) == INDICATOR_TOTAL_COLUMNS
    assert list(data.units.columns) == UNIT_COLUMNS
    assert list(data.late.columns) == LATE_COLUMNS
    assert list(data.counterparts.columns) == COUNTERPART_COLUMNS
    assert list(data.notes.columns) == NOTE_COLUMNS
    assert list(data.items["rag"].cat.categories) == ["done", "on_track", "at_risk", "off_track"]
    assert list(data.items["kind"].cat.categories) == ["recurring", "programme", "event", "on_request", "research"]
    assert list(data.late["stage"].cat.categories) == ["preparation", "coordination", "execution", "reporting"]
    assert isinstance(data.notes["stage"].dtype, pd.CategoricalDtype)
    assert list(data.counterparts["kind"].cat.categories) == ["embassy", "delegation", "partner"]
    integer_columns = (
        (data.items, ["number", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]),
        (data.indicators, ["item_number", "value"]),
        (data.units, ["items_led", "items_coordinated", "stages_done", "stages_overdue"]),
    )
    for frame, columns in integer_columns:
        for column in columns:
            assert pd.api.types.is_integer_dtype(frame[column]), column
    assert all(isinstance(d, dt.date) for d in [*data.late["due"], *data.notes["date"]])


def test_the_period_is_its_calendar_months_and_statuses_are_as_of_its_last_day(plan, ledger):
    """Not Decree 09's data window (15/12–14/6): what happened in the period's months belongs to it."""
    data = _report(plan, ledger, "2023-H1")
    assert data.window == (D(2023, 1, 1), D(2023, 6, 30))
    assert data.as_of == D(2023, 6, 30)
    assert _report(plan, ledger, "2023").window == (D(2023, 1, 1), D(2023, 12, 31))
    assert _report(plan, ledger, "2023-Q3").window == (D(2023, 7, 1), D(2023, 9, 30))
    assert data.period == ReportingPeriod.parse("2023-H1")
    assert _report(plan, ledger, "2023-H1", D(2023, 6, 20)).as_of == D(2023, 6, 20)


# -- per item ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS)
def test_rag_and_stage_counts_equal_plan_status(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    got = data.items[["number", "rag", "rag_label", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]]
    assert _records(got) == expected_items(plan, events, data.as_of, data.window)


def test_statuses_on_any_day_of_the_year_equal_plan_status(plan, ledger, events, blocked):
    """Week by week through the year and after it: on track, due soon, a little late, long late, done."""
    seen = set()
    for source, source_events in ((ledger, events), (blocked, blocked.events(plan.id))):
        for as_of in pd.date_range("2023-03-01", "2024-01-20", freq="6D").date:
            data = _report(plan, source, "2023", as_of)
            columns = ["number", "rag", "rag_label", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]
            assert _records(data.items[columns]) == expected_items(plan, source_events, as_of, data.window), as_of
            assert _records(data.late) == expected_late(plan, source_events, as_of), as_of
            seen |= set(data.items["rag"])
    assert seen == {"done", "on_track", "at_risk", "off_track"}


def test_items_carry_the_plan_words(plan, ledger):
    items = _report(plan, ledger, "2023").items.set_index("number")
    assert items.loc[7, "lead"] == "VP" and items.loc[7, "coordinating"] == "QLNT"
    assert items.loc[6, "lead"] == "UBND TP. Hà Nội"  # led outside the Department
    assert items.loc[7, "window"] == "12/05–14/05/2023"
    assert items.loc[1, "kind"] == "recurring"
    assert list(items.index) == [i.number for i in plan.items]


def test_a_report_after_the_cut_off_takes_statuses_on_its_date(plan, ledger, events):
    data = _report(plan, ledger, "2023", D(2023, 12, 31))
    assert _records(data.items[["number", "rag", "rag_label", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]]) == expected_items(
        plan, events, D(2023, 12, 31), data.window
    )


# -- indicators ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS)
def test_indicators_sum_the_executions_inside_the_window(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    per_item, totals = expected_indicators(plan, events, data.as_of, data.window)
    assert {(r["item_number"], r["indicator"]): r["value"] for r in _records(data.indicators)} == per_item
    got_totals = data.indicator_totals.set_index("indicator")
    assert list(got_totals.index) == [i.id for i in plan.indicators]
    for indicator in plan.indicators:
        assert got_totals.loc[indicator.id, "value"] == totals.get(indicator.id, 0)
        assert got_totals.loc[indicator.id, "label"] == indicator.label and got_totals.loc[indicator.id, "unit"] == indicator.unit
        assert got_totals.loc[indicator.id, "items"] == len({n for (n, key) in per_item if key == indicator.id})


def test_participants_in_the_year_and_articles_translated_by_period(plan, ledger):
    def total(period: str, indicator: str) -> int:
        return int(_report(plan, ledger, period).indicator_totals.set_index("indicator").loc[indicator, "value"])

    # Items 6 (600), 7 (25,000), 8 (800 and 1,500), 9 (15,000), and item 2's 1,200, recorded on 15/12:
    # after Decree 09's annual cut-off (14/12) but in the year, so in the annual report.
    assert total("2023", "participants") == 42_900 + 1_200
    # Translations are recorded on 30/6 (3 months × 18) and 30/11 (5 months × 24): the first in June.
    assert total("2023-H1", "articles_translated") == 54
    assert total("2023-Q2", "articles_translated") == 54
    assert total("2023-9M", "articles_translated") == 54
    assert total("2023-Q3", "articles_translated") == 0
    assert total("2023", "articles_translated") == 54 + 120


def test_distinct_indicators_take_the_largest_figure_never_a_sum(plan, ledger):
    """Countries and embassies: the same one at two events is one, so the figures are not added up."""
    data = _report(plan, ledger, "2023")
    per_item = data.indicators.set_index(["item_number", "indicator"])["value"]
    totals = data.indicator_totals.set_index("indicator")["value"]
    # Item 8: Singapore's and Japan's events, 1 embassy each.
    assert per_item[(8, "embassies_engaged")] == 1
    # Items 2 (6), 6 (2), 7 (20), 9 (7): 20, not 35; embassies 18 (item 7), not 18 + 1 + 1 + 7.
    assert totals["partner_countries"] == 20
    assert totals["embassies_engaged"] == 18
    # Summed ones still add up: events 3 + 6 + 1 + 1 + 1 + 1.
    assert totals["events_held"] == 13
    # Funding (counted: funding) is summed: item 1 (3 × 12 + 5 × 10) and the others.
    assert per_item[(1, "funding_spent")] == 86
    assert totals["funding_spent"] == 86 + 180 + 65 + 310 + 120 + 250 + 95 + 110 + 420


def test_an_outcome_after_the_decree_09_cut_off_counts_in_the_year(plan, ledger):
    """Items 2 and 4 recorded their year's results on 15/12, after the 14/12 cut-off."""
    data = _report(plan, ledger, "2023")
    per_item = data.indicators.set_index(["item_number", "indicator"])["value"]
    assert per_item[(2, "participants")] == 1_200 and per_item[(4, "visual_displays")] == 450
    # A report made on the cut-off day does not know them yet.
    early = _report(plan, ledger, "2023", D(2023, 12, 14)).indicators
    assert not ((early["item_number"].isin([2, 4])) & (early["indicator"] != "funding_spent")).any()


def test_a_correction_replaces_the_figures_it_corrects(plan, amended):
    def participants(period: str | D) -> int:
        frame = (_report(plan, amended, "2023-H1", period) if isinstance(period, D) else _report(plan, amended, period)).indicators
        return int(frame[(frame["item_number"] == 7) & (frame["indicator"] == "participants")]["value"].sum())

    assert participants("2023-H1") == 26_000  # the correction of 20/6 is in June, so in the half-year
    assert participants(D(2023, 6, 14)) == 25_500  # made on 14/6: the correction of 1/6 only
    assert participants("2023-9M") == 26_000
    assert participants("2023") == 26_000
    assert participants("2023-Q2") == 26_000
    assert participants("2023-Q3") == 0  # nothing of item 7 happened in July–September
    totals = _report(plan, amended, "2023").indicator_totals.set_index("indicator")
    assert totals.loc["participants", "value"] == 44_100 - 25_000 + 26_000
    assert totals.loc["events_held", "value"] == 13  # item 7 corrected twice, its event not counted three times


@pytest.mark.parametrize("period", PERIODS)
def test_amended_ledger_still_matches_plan_status_and_plain_sums(plan, amended, period):
    events = amended.events(plan.id)
    data = _report(plan, amended, period)
    assert _records(data.items[["number", "rag", "rag_label", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]]) == expected_items(
        plan, events, data.as_of, data.window
    )
    per_item, _ = expected_indicators(plan, events, data.as_of, data.window)
    assert {(r["item_number"], r["indicator"]): r["value"] for r in _records(data.indicators)} == per_item
    assert _records(data.late) == expected_late(plan, events, data.as_of)


# -- late stages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS)
def test_late_stages_with_their_reasons(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    assert _records(data.late) == expected_late(plan, events, data.as_of)


def test_a_declined_invitation_explains_the_late_coordination(plan, ledger):
    late = _report(plan, ledger, "2023").late
    row = late[(late["item_number"] == 9) & (late["stage"] == "coordination")].iloc[0]
    assert row["occurrence"] == MAIN
    assert row["reason"] == "Trùng lịch công tác của Đại sứ quán."
    assert row["due"] == D(2023, 10, 16) and row["lead"] == "VP"


def test_the_reason_is_the_stages_note_else_its_occurrences_else_its_blocked_status(plan, amended):
    late = _report(plan, amended, "2023").late.set_index(["item_number", "occurrence", "stage"])
    # Item 5: its coordination's own note wins over the later note on the blocked proposal.
    assert late.loc[(5, MAIN, "coordination"), "reason"] == "Chưa xác định được đối tác phối hợp."
    # Item 2: no note on the coordination; the latest on the occurrence is its preparation's.
    assert late.loc[(2, MAIN, "coordination"), "reason"] == "Đã xin ý kiến Ban Giám đốc về kinh phí."
    # Item 1, December: blocked with no note at all: the reason recorded with the status.
    assert late.loc[(1, "2023-12", "coordination"), "reason"] == "Chưa có cộng tác viên dịch tiếng Hàn."
    assert late.loc[(1, "2023-11", "coordination"), "reason"] == ""


def test_a_blocked_stage_puts_an_item_off_track_before_anything_is_late(plan, blocked):
    events = blocked.events(plan.id)
    data = _report(plan, blocked, "2023-H1")
    assert _records(data.items[["number", "rag", "rag_label", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]]) == expected_items(
        plan, events, data.as_of, data.window
    )
    items = data.items.set_index("number")
    assert items.loc[9, "rag"] == "off_track" and items.loc[9, "stages_overdue"] == 0


@pytest.mark.parametrize("period", ["2023-H1", "2023-Q3", "2023"])
def test_an_unanswered_invitation_is_awaited_in_every_later_report(plan, blocked, period):
    events = blocked.events(plan.id)
    data = _report(plan, blocked, period)
    got = {r.pop("counterpart"): r for r in _records(data.counterparts)}
    for row in got.values():
        del row["name"], row["kind"]
    assert got == expected_counterparts(plan, events, data.as_of, data.window)
    assert got["dsq-bi"] == {"items": "9", "confirmed": 0, "declined": 0, "no_answer": 0, "awaiting": 1}  # invited on 1/6


# -- units, counterparts, notes ------------------------------------------------------------------------


@pytest.mark.parametrize("period", PERIODS)
def test_units_sum_the_items_they_lead(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    statuses = {s.item.id: s for s in plan_status(plan, events, data.as_of)}
    expected = []
    for unit in plan.units:
        led = [i for i in plan.items if i.lead == unit.id]
        expected.append(
            {
                "unit": unit.id,
                "short_name": unit.short_name,
                "name": unit.name,
                "items_led": len(led),
                "items_coordinated": sum(unit.id in i.coordinating for i in plan.items),
                "stages_done": sum(v.finished and _in(v.finished_on, data.window, data.as_of) for i in led for v in statuses[i.id].stages),
                "stages_overdue": sum(len(statuses[i.id].overdue) for i in led),
            }
        )
    assert _records(data.units) == expected


@pytest.mark.parametrize("period", PERIODS)
def test_counterparts_by_their_latest_answer(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    got = {r.pop("counterpart"): r for r in _records(data.counterparts)}
    for counterpart, row in got.items():
        assert row.pop("name") == (plan.counterpart(counterpart).short_name or plan.counterpart(counterpart).name)
        assert row.pop("kind") == plan.counterpart(counterpart).kind.value
    assert got == expected_counterparts(plan, events, data.as_of, data.window)
    order = [c.id for c in plan.counterparts]
    assert list(data.counterparts["counterpart"]) == sorted(got, key=order.index)


def test_canada_declined_item_9(plan, ledger):
    year = _report(plan, ledger, "2023").counterparts.set_index("counterpart")
    assert year.loc["dsq-canada", ["confirmed", "declined", "no_answer", "awaiting"]].tolist() == [0, 1, 0, 0]
    assert year.loc["dsq-canada", "items"] == "9"
    # Item 6 invites no counterpart (the plan names none for the conference).
    assert year.loc["dsq-phap", "items"] == "9" and year.loc["dsq-phap", "confirmed"] == 1
    assert "dsq-canada" not in set(_report(plan, ledger, "2023-H1").counterparts["counterpart"])


@pytest.mark.parametrize("period", PERIODS)
def test_notes_written_inside_the_window(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    got = [(r["item_number"], r["stage"], r["date"], r["actor"], r["text"]) for r in _records(data.notes)]
    assert got == expected_notes(plan, events, data.as_of, data.window)
    assert list(data.notes["stage_label"]) == [STAGE_LABELS[Stage(s)] for s in data.notes["stage"]]


@pytest.mark.parametrize("period", PERIODS)
def test_events_in_period_counts_every_event_dated_in_the_window(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    assert data.events_in_period == sum(_in(e.effective_date, data.window, data.as_of) for e in events) > 0
    assert not data.empty


# -- nothing to report ------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2022", "2023-Q1"])
def test_a_period_without_events_gives_an_empty_but_valid_report(plan, ledger, events, period):
    data = _report(plan, ledger, period)
    assert data.empty and data.events_in_period == 0
    assert len(data.items) == len(plan.items)
    assert _records(data.items[["number", "rag", "rag_label", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]]) == expected_items(
        plan, events, data.as_of, data.window
    )
    assert (data.items["stages_done_in_period"] == 0).all()
    assert data.indicators.empty and list(data.indicators.columns) == INDICATOR_COLUMNS
    assert (data.indicator_totals["value"] == 0).all() and (data.indicator_totals["items"] == 0).all()
    assert len(data.indicator_totals) == len(plan.indicators)
    assert data.counterparts.empty and list(data.counterparts.columns) == COUNTERPART_COLUMNS
    assert data.notes.empty and list(data.notes.columns) == NOTE_COLUMNS
    assert (data.units["stages_done"] == 0).all()
    assert _records(data.late) == expected_late(plan, events, data.as_of)


def test_an_empty_ledger_gives_a_valid_report(plan, database_url):
    with Ledger(database_url("empty")) as ledger:
        data = _report(plan, ledger, "2023")
    assert data.empty
    assert list(data.items.columns) == ITEM_COLUMNS and len(data.items) == len(plan.items)
    assert data.indicators.empty and data.counterparts.empty and data.notes.empty
    assert _records(data.items[["number", "rag", "rag_label", "occurrences", "stages_total", "stages_done", "stages_done_in_period", "stages_overdue"]]) == expected_items(
        plan, [], data.as_of, data.window
    )


def test_other_plans_events_are_left_out(plan, ledger, database_url):
    with Ledger(database_url("two_plans")) as shared:
        events = _sample_events(plan)
        shared.append(PlanRef("another-plan", "0" * 16), [dataclasses.replace(e, key=f"other/{e.key}") for e in events])
        assert _report(plan, shared, "2023").empty
        shared.append(plan_ref(plan), events)
        both = _report(plan, shared, "2023")
    alone = _report(plan, ledger, "2023")
    assert both.events_in_period == alone.events_in_period
    for name in ("items", "indicators", "indicator_totals", "units", "late", "counterparts", "notes"):
        assert _records(getattr(both, name)) == _records(getattr(alone, name)), name


def test_reports_and_notifications_never_import_prefect():
    """Every module of `reports` and `notifications`, imported in a fresh interpreter, loads no Prefect
    (directly or through what it imports)."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import notifications, reports\n"
        "names = [m.name for p in (reports, notifications) for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps({'modules': names, 'prefect': sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert {"reports.aggregate", "reports.charts", "notifications.render", "notifications.outbox"} <= set(found["modules"])  # the walk found them
    assert found["prefect"] == []


def test_sessions_are_the_requests_and_dated_sessions_opened_by_the_report_date(plan, ledger):
    year = _report(plan, ledger, "2023").sessions
    rows = [(int(r.item_number), r.occurrence, r.start, r.end, bool(r.held)) for r in year.itertuples()]
    assert rows == [
        (8, "2023-08-01-dsq-singapore", D(2023, 8, 1), D(2023, 8, 1), True),
        (3, "2023-08-10", D(2023, 8, 10), D(2023, 8, 11), True),
        (8, "2023-09-21-dsq-nhat-ban", D(2023, 9, 21), D(2023, 9, 21), True),
    ]
    # The six-month report is made on 30/06: the Singapore request, opened on 20/06 for 01/08, is known.
    assert list(_report(plan, ledger, "2023-H1").sessions["occurrence"]) == ["2023-08-01-dsq-singapore"]
    by_events = aggregate(plan, ledger, ReportingPeriod.parse("2023"), source="events").sessions
    pd.testing.assert_frame_equal(by_events.reset_index(drop=True), year.reset_index(drop=True))

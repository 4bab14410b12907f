"""The aggregation reads the states the ledger keeps beside its events (plan.ledger, migration 4); what
it reads there, and the report built from it, must be exactly what grouping the events themselves
gives (the way it read before the states existed, kept as `source="events"`), on any report date,
including the occurrences whose states cannot tell and are read from the events.

Runs on SQLite, and on PostgreSQL too when KEHOACH_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
import sqlalchemy as sa

from plan.calendar import ReportingPeriod
from plan.events import MAIN, CoordinationStatus, EventKind, NewEvent, StageStatus, plan_ref
from plan.ledger import Ledger
from plan.ledger_tables import event_days_table, invitation_states_table, occurrence_states_table, outcome_notes_table
from plan.model import Stage
from plan.scenario import SCENARIOS_DIR, load_scenario, scenario_events
from reports.aggregate import SOURCES, aggregate
from reports.ledger_reads import read_ledger

D = dt.date
SAMPLE = SCENARIOS_DIR / "hanoi-svhtt-ttdn-2023.sample.yaml"
TABLES = ("items", "indicators", "indicator_totals", "units", "late", "counterparts", "notes")


@pytest.fixture(scope="module", name="sample_events")
def fixture_sample_events(plan):
    """The 2023 plan's sample year."""
    scenario, problems = load_scenario(SAMPLE)
    assert scenario is not None, [p.render() for p in problems]
    return scenario_events(plan, scenario, [], D(2023, 12, 31), actor="x")


def _appended(plan, url: str, events) -> Ledger:
    """A ledger holding `events`, appended in a few batches."""
    ledger = Ledger(url)
    for begin in range(0, len(events), 25):
        ledger.append(plan_ref(plan), events[begin : begin + 25])
    return ledger


@pytest.fixture(scope="module", name="sample")
def fixture_sample(plan, sample_events, database_url):
    """The 2023 plan's sample year, appended in a few batches."""
    with _appended(plan, database_url("sample"), sample_events) as ledger:
        yield ledger


@pytest.fixture(scope="module", name="shuffled")
def fixture_shuffled(plan, database_url):
    """A made-up year recorded out of date order: many status changes per stage, answers changing their
    minds, corrections, backdated and undated events, sessions opened twice."""
    rng = random.Random(30)
    ref, events = plan_ref(plan), []
    occurrences = {item.id: [MAIN, "2023-03", "2023-07"] for item in plan.items}
    for item in plan.items:
        for n in range(rng.randint(0, 3)):
            start = D(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 340))
            session = f"{start.isoformat()}-s{n}"
            occurrences[item.id].append(session)
            for again in range(rng.choice([1, 1, 2])):
                payload = {"start": (start + dt.timedelta(days=again)).isoformat(), "end": (start + dt.timedelta(days=rng.randint(0, 3))).isoformat()}
                if rng.random() < 0.1:  # days the states do not keep: the events decide
                    payload = rng.choice([{"start": payload["start"] + "T08:30", "end": None}, {"title": "chưa có ngày"}, {"start": payload["start"], "end": payload["end"] + "T17:00"}])
                events.append(
                    NewEvent(f"open/{item.id}/{session}/{again}", item.id, EventKind.OCCURRENCE_OPENED, session, payload=payload, effective_date=start - dt.timedelta(days=rng.randint(-20, 40)))
                )
    counterparts = [c.id for c in plan.counterparts]
    for n in range(2500):
        item = rng.choice(plan.items)
        occurrence, stage = rng.choice(occurrences[item.id]), rng.choice(list(Stage))
        on = None if rng.random() < 0.05 else D(2022, 12, 1) + dt.timedelta(days=rng.randint(0, 400))
        pick = rng.random()
        if pick < 0.5:
            events.append(NewEvent(f"s/{n}", item.id, EventKind.STAGE_STATUS, occurrence, stage.value, status=rng.choice(list(StageStatus)).value, payload={"reason": f"lý do {n}"}, effective_date=on))
        elif pick < 0.7:
            counterpart = rng.choice(counterparts)
            events.append(NewEvent(f"a/{n}", item.id, EventKind.COUNTERPART_STATUS, occurrence, Stage.COORDINATION.value, counterpart, rng.choice(list(CoordinationStatus)).value, effective_date=on))
        elif pick < 0.9:
            payload = {"indicators": {i: rng.randint(0, 50) for i in rng.sample(item.indicators, k=len(item.indicators))}} if item.indicators else {}
            if rng.random() < 0.4:
                payload["note"] = rng.choice(["Đã làm.", "Vướng <b>kinh phí</b> & lịch", "Trùng lịch."])
            events.append(NewEvent(f"o/{n}", item.id, EventKind.OUTCOME, occurrence, rng.choice([Stage.EXECUTION.value, stage.value]), payload=payload, actor=f"nguoi-{n % 7}", effective_date=on))
        else:
            events.append(NewEvent(f"d/{n}", item.id, EventKind.OVERDUE, occurrence, stage.value, effective_date=on))
    rng.shuffle(events)  # ids no longer follow dates
    with Ledger(database_url("shuffled")) as ledger:
        for begin in range(0, len(events), 100):
            ledger.append(ref, events[begin : begin + 100])
        yield ledger


def _both_ways(plan, ledger, period: str, as_of: D | None):
    """(rows from the states, rows from the events, report from the states, report from the events)."""
    period = ReportingPeriod.parse(period)
    window = period.data_window
    as_of = as_of or window[1]
    in_period = (window[0], min(window[1], as_of))
    with ledger.transaction(write=False, snapshot=True) as conn:
        raws = [read_ledger(conn, plan, as_of, in_period, source=source) for source in SOURCES]
    reports = [aggregate(plan, ledger, period, as_of, source=source) for source in SOURCES]
    return (*raws, *reports)


def _comparable(raw) -> dict[str, pd.DataFrame]:
    """The rows that say something, in key order."""
    stages = [s.value for s in Stage]
    occ = raw.occurrences
    occ = occ[(occ[stages] >= 0).any(axis=1) | (occ["opened"] > 0) | (occ["outcome"] > 0)].copy()
    inv = raw.invitations[raw.invitations["answer"] >= 0]
    return {
        "occurrences": occ.sort_values(["item", "occurrence"]).reset_index(drop=True),
        "invitations": inv.sort_values(["item", "occurrence", "counterpart"]).reset_index(drop=True),
        "notes": raw.notes.sort_values("id").reset_index(drop=True),
    }


def _assert_same(plan, ledger, period, as_of=None):
    from_states, from_events, report, reference = _both_ways(plan, ledger, period, as_of)
    assert from_states.events_in_period == from_events.events_in_period
    assert not from_events.read_from_events  # everything is
    for name, frame in _comparable(from_states).items():
        pd.testing.assert_frame_equal(frame, _comparable(from_events)[name], check_exact=True, obj=f"{name} ({period}, {as_of})")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(report, name), getattr(reference, name), check_exact=True, obj=f"{name} ({period}, {as_of})")
    return from_states


@pytest.mark.parametrize("period", ["2023-H1", "2023-9M", "2023", "2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4", "2022"])
def test_the_sample_year_reads_the_same_from_the_states_and_from_the_events(plan, sample, period):
    raw = _assert_same(plan, sample, period)
    if period == "2023":
        assert len(raw.occurrences) > 10 and len(raw.invitations) > 3 and len(raw.notes) >= 2


def test_on_any_report_date_the_states_and_the_events_agree(plan, sample, shuffled):
    """Report dates through the year on a ledger whose ids do not follow its dates: the states often
    cannot tell the status on an earlier day, and those occurrences are read from the events."""
    read_again = []
    for as_of in [*pd.date_range("2023-01-10", "2024-01-20", freq="23D").date, D(2022, 12, 1)]:
        read_again.append(len(_assert_same(plan, shuffled, "2023", as_of).read_from_events))
        _assert_same(plan, sample, "2023", as_of)
    for period in ("2023-H1", "2023-Q3"):
        read_again.append(len(_assert_same(plan, shuffled, period).read_from_events))
    assert max(read_again) > 5  # the events decided for some occurrences


def test_aggregate_reads_the_states_by_default(plan, sample, sample_events, database_url):
    """The report itself goes through the states: with the states emptied (the events kept) it reports
    nothing by default, and from the events, asked for, the same as before."""
    period = ReportingPeriod.parse("2023")
    before = aggregate(plan, sample, period)
    assert before.events_in_period > 0 and not before.late.empty and not before.notes.empty
    with _appended(plan, database_url("emptied"), sample_events) as ledger:
        with ledger.transaction(write=True) as conn:
            for table in (occurrence_states_table, invitation_states_table, outcome_notes_table, event_days_table):
                conn.execute(sa.delete(table))
        assert ledger.count(plan.id) == sample.count(plan.id)
        by_default = aggregate(plan, ledger, period)
        from_events = aggregate(plan, ledger, period, source="events")
    assert by_default.empty and by_default.notes.empty and by_default.counterparts.empty and by_default.indicators.empty
    assert (by_default.items["stages_done"] == 0).all()
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(from_events, name), getattr(before, name), check_exact=True, obj=name)


def test_an_unknown_source_is_refused(plan, sample):
    with pytest.raises(ValueError, match="states, events"):
        aggregate(plan, sample, ReportingPeriod.parse("2023"), source="cache")

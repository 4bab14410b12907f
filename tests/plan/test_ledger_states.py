"""The states the ledger keeps beside its events (migration 4): written by `append` in the same
transaction, and always equal to what `rebuild_states` derives from the events again.

Every test runs on SQLite; on PostgreSQL too when KEHOACH_TEST_POSTGRES_URL names a database the tests
may create schemas in (`.ci/run` starts a throwaway one).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

import plan.ledger as ledger_module
from plan.events import MAIN, CoordinationStatus, EventKind, NewEvent, PlanRef, StageStatus
from plan.ledger import Ledger, LedgerError
from plan.ledger_states import rebuild_states
from plan.ledger_tables import (
    STATE_TABLES,
    event_days_table,
    invitation_states_table,
    occurrence_states_table,
    outcome_notes_table,
)

D = dt.date
REF = PlanRef("hanoi-svhtt-ttdn-2023", "0123456789abcdef")
OTHER_REF = PlanRef("hanoi-svhtt-ttdn-2024", "fedcba9876543210")


@pytest.fixture
def ledger(database_url):
    with Ledger(database_url) as opened:
        yield opened


def states(ledger: Ledger) -> dict[str, list[dict]]:
    """Every row of every state table, in a stable order."""
    with ledger.transaction(write=False) as conn:
        return {t.name: sorted((dict(r) for r in conn.execute(sa.select(t)).mappings()), key=repr) for t in STATE_TABLES}


def rebuilt(ledger: Ledger) -> dict[str, list[dict]]:
    """The states derived from the events again (and left so)."""
    with ledger.transaction(write=True) as conn:
        rebuild_states(conn)
    return states(ledger)


def status(key, item, stage, value, on, occurrence=MAIN, **payload) -> NewEvent:
    return NewEvent(key, item, EventKind.STAGE_STATUS, occurrence, stage, status=value, payload=payload, effective_date=on)


def answer(key, item, counterpart, value, on, occurrence=MAIN, stage="coordination") -> NewEvent:
    return NewEvent(key, item, EventKind.COUNTERPART_STATUS, occurrence, stage, counterpart, value, effective_date=on)


def outcome(key, item, stage, on, occurrence=MAIN, **payload) -> NewEvent:
    return NewEvent(key, item, EventKind.OUTCOME, occurrence, stage, payload=payload, actor="vp", effective_date=on)


def opened(key, item, occurrence, on, **payload) -> NewEvent:
    return NewEvent(key, item, EventKind.OCCURRENCE_OPENED, occurrence, payload=payload, effective_date=on)


# -- what the states hold -----------------------------------------------------------------------------


def test_an_occurrence_keeps_each_stages_latest_status_the_one_before_and_how_many(ledger):
    ledger.append(REF, [status("p1", "item-1", "preparation", StageStatus.IN_PROGRESS, D(2023, 3, 1))])
    ledger.append(
        REF,
        [
            status("p2", "item-1", "preparation", StageStatus.DONE, D(2023, 3, 9)),
            status("p3", "item-1", "preparation", StageStatus.BLOCKED, None),
            status("c1", "item-1", "coordination", StageStatus.SKIPPED, D(2023, 3, 2)),
            status("x1", "item-1", "no-such-stage", StageStatus.DONE, D(2023, 3, 2)),  # no column: not kept
        ],
    )
    ids = {e.key: e.id for e in ledger.events(REF.plan_id)}
    [row] = states(ledger)["occurrence_states"]
    assert (row["plan_id"], row["item"], row["occurrence"]) == (REF.plan_id, "item-1", MAIN)
    assert (row["preparation_event"], row["preparation_status"], row["preparation_on"]) == (ids["p3"], "blocked", None)
    assert (row["preparation_previous_event"], row["preparation_previous_status"], row["preparation_previous_on"]) == (ids["p2"], "done", D(2023, 3, 9))
    assert row["preparation_count"] == 3
    assert (row["coordination_event"], row["coordination_status"], row["coordination_count"]) == (ids["c1"], "skipped", 1)
    assert row["coordination_previous_event"] is None
    assert row["execution_event"] is None and row["execution_count"] == 0 and row["opened_count"] == 0


def test_invitations_openings_execution_outcomes_notes_and_days(ledger):
    ledger.append(
        REF,
        [
            opened("o1", "item-8", "2023-06-01-dsq-han-quoc", D(2023, 5, 2), start="2023-06-01", end="2023-06-02"),
            opened("o2", "item-8", "2023-06-01-dsq-han-quoc", D(2023, 5, 3), start="2023-06-05"),  # counted, not kept
            answer("a1", "item-8", "dsq-han-quoc", CoordinationStatus.INVITED, D(2023, 5, 4), "2023-06-01-dsq-han-quoc"),
            answer("a2", "item-8", "dsq-han-quoc", CoordinationStatus.CONFIRMED, D(2023, 5, 9), "2023-06-01-dsq-han-quoc"),
            answer("a3", "item-8", None, CoordinationStatus.INVITED, D(2023, 5, 9), "2023-06-01-dsq-han-quoc"),  # no counterpart
            outcome("e1", "item-8", "execution", D(2023, 6, 2), "2023-06-01-dsq-han-quoc", indicators={"events_held": 1, "participants": 300}),
            outcome("e2", "item-8", "execution", D(2023, 6, 5), "2023-06-01-dsq-han-quoc", indicators={"participants": 320}, note="Điều chỉnh số liệu."),
            outcome("n1", "item-8", "reporting", D(2023, 6, 6), "2023-06-01-dsq-han-quoc", note=""),  # empty: no note
            outcome("n2", "item-8", None, None, "2023-06-01-dsq-han-quoc", note="Ghi chú chung."),
            outcome("n3", "item-8", "reporting", D(2023, 6, 7), "2023-06-01-dsq-han-quoc", note={"not": "text"}),
        ],
    )
    ledger.append(OTHER_REF, [status("other", "item-1", "preparation", StageStatus.DONE, D(2023, 6, 2))])
    ids = {e.key: e.id for e in ledger.events(REF.plan_id)}
    kept = states(ledger)
    occurrences = {(r["plan_id"], r["item"], r["occurrence"]): r for r in kept["occurrence_states"]}
    row = occurrences[(REF.plan_id, "item-8", "2023-06-01-dsq-han-quoc")]
    assert (row["opened_event"], row["opened_on"], row["opened_start"], row["opened_end"], row["opened_count"]) == (ids["o1"], D(2023, 5, 2), D(2023, 6, 1), D(2023, 6, 2), 2)
    assert (row["execution_outcome_event"], row["execution_outcome_on"], row["execution_outcome_count"]) == (ids["e2"], D(2023, 6, 5), 2)
    assert row["execution_outcome_indicators"] == '{"participants": 320}'
    assert (row["execution_outcome_previous_event"], row["execution_outcome_previous_indicators"]) == (ids["e1"], '{"events_held": 1, "participants": 300}')
    assert (OTHER_REF.plan_id, "item-1", MAIN) in occurrences

    [invitation] = kept["invitation_states"]
    assert (invitation["item"], invitation["occurrence"], invitation["counterpart"]) == ("item-8", "2023-06-01-dsq-han-quoc", "dsq-han-quoc")
    assert (invitation["answer_event"], invitation["answer_status"], invitation["answer_on"], invitation["answer_count"]) == (ids["a2"], "confirmed", D(2023, 5, 9), 2)
    assert (invitation["answer_previous_event"], invitation["answer_previous_status"]) == (ids["a1"], "invited")

    assert [(n["event"], n["stage"], n["effective_date"], n["actor"], n["note"]) for n in sorted(kept["outcome_notes"], key=lambda n: n["event"])] == [
        (ids["e2"], "execution", D(2023, 6, 5), "vp", "Điều chỉnh số liệu."),
        (ids["n2"], None, None, "vp", "Ghi chú chung."),
    ]
    days = {(d["plan_id"], d["effective_date"]): d["events"] for d in kept["event_days"]}
    assert days[(REF.plan_id, D(2023, 5, 9))] == 2 and days[(REF.plan_id, D(2023, 6, 2))] == 1 and days[(OTHER_REF.plan_id, D(2023, 6, 2))] == 1
    assert sum(n for (plan_id, _), n in days.items() if plan_id == REF.plan_id) == 9  # n2 has no date


def test_an_opening_whose_days_are_not_iso_dates_keeps_no_days(ledger):
    """Readers then go back to the opening itself; a missing end is just missing."""
    payloads = {
        "no-end": {"start": "2023-06-01"},
        "null-end": {"start": "2023-06-01", "end": None},
        "with-time": {"start": "2023-06-01T09:00", "end": "2023-06-02"},
        "no-start": {"title": "Đợt 1"},
        "number-end": {"start": "2023-06-01", "end": 20230602},
        "not-a-day": {"start": "2023-02-30"},
    }
    ledger.append(REF, [opened(f"o/{name}", "item-3", name, D(2023, 5, 1), **payload) for name, payload in payloads.items()])
    days = {r["occurrence"]: (r["opened_start"], r["opened_end"]) for r in states(ledger)["occurrence_states"]}
    assert days == {
        "no-end": (D(2023, 6, 1), None),
        "null-end": (D(2023, 6, 1), None),
        "with-time": (None, None),
        "no-start": (None, None),
        "number-end": (None, None),
        "not-a-day": (None, None),
    }


# -- always what the events say -------------------------------------------------------------------------


def _random_events(seed: int, count: int) -> list[NewEvent]:
    """Events in no particular date order, some dated later than ones appended after them, some undated."""
    rng = random.Random(seed)
    items, occurrences = ["item-1", "item-2", "item-8"], [MAIN, "2023-05", "2023-06-01-dsq-han-quoc"]
    stages, counterparts = ["preparation", "coordination", "execution", "reporting", None], ["dsq-phap", "dsq-han-quoc", None]
    events = []
    for n in range(count):
        item, occurrence, stage = rng.choice(items), rng.choice(occurrences), rng.choice(stages)
        on = None if rng.random() < 0.1 else D(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        kind = rng.choice(list(EventKind))
        payload: dict = {}
        if kind is EventKind.OUTCOME:
            payload = {"indicators": {"participants": rng.randint(1, 900)}} if rng.random() < 0.6 else {}
            if rng.random() < 0.4:
                payload["note"] = rng.choice(["Ghi chú.", "", "Vướng mắc <b>kinh phí</b> & \u000b lịch"])
        elif kind is EventKind.OCCURRENCE_OPENED:
            payload = {"start": f"2023-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "end": rng.choice([None, "2023-10-01", "2023-10-01T10:00"])}
        status_value = rng.choice([*StageStatus, *CoordinationStatus, None])
        events.append(NewEvent(f"r{seed}/{n % (count - 7)}", item, kind, occurrence, stage, rng.choice(counterparts), status_value, payload, effective_date=on))
    return events  # a few keys repeat: appended once


def test_states_kept_by_append_equal_states_rebuilt_from_the_events(ledger):
    events = _random_events(2023, 400)
    rng = random.Random(7)
    begin = 0
    while begin < len(events):
        size = rng.randint(1, 40)
        ledger.append(REF if rng.random() < 0.8 else OTHER_REF, events[begin : begin + size])
        begin += size
    ledger.append(REF, events[:50])  # all recorded already: nothing changes
    kept = states(ledger)
    assert len(kept["occurrence_states"]) > 5 and kept["invitation_states"] and kept["outcome_notes"]
    assert max(r["preparation_count"] for r in kept["occurrence_states"]) > 2
    assert kept == rebuilt(ledger)


def test_a_batch_that_fails_leaves_the_states_as_they_were(ledger):
    ledger.append(REF, [status("p1", "item-1", "preparation", StageStatus.IN_PROGRESS, D(2023, 3, 1))])
    before = states(ledger)
    with pytest.raises(LedgerError):
        ledger.append(REF, [status("p2", "item-1", "preparation", StageStatus.DONE, D(2023, 3, 9)), NewEvent(key="no-item", item=None, kind=EventKind.OUTCOME)])
    assert states(ledger) == before


def test_a_ledger_from_before_the_states_gets_them_from_its_events(database_url):
    with Ledger(database_url) as ledger:
        ledger.append(REF, _random_events(9, 120))
        expected = states(ledger)
        with ledger.transaction(write=True) as conn:  # back to schema version 3
            for table in ledger_module.REPORT_TABLES:
                table.drop(conn)
            ledger_module.outbox_files_table.drop(conn)
            for table in reversed(STATE_TABLES):
                table.drop(conn)
            conn.execute(ledger_module.schema_table.update().values(version=3))
    with Ledger(database_url) as upgraded:
        assert states(upgraded) == expected
        with upgraded.transaction(write=False) as conn:
            assert conn.execute(sa.select(ledger_module.schema_table.c.version)).scalar() == len(ledger_module.MIGRATIONS) == 6


def test_the_state_tables_are_the_ones_the_reports_read():
    assert {t.name for t in STATE_TABLES} == {"occurrence_states", "invitation_states", "outcome_notes", "event_days"}
    assert [t for t in STATE_TABLES] == [occurrence_states_table, invitation_states_table, outcome_notes_table, event_days_table]

"""The ledger's states, folded from its events: each occurrence's latest stage statuses and execution
outcome, each invitation's latest answer, the outcome notes and the events per day (the tables are in
`plan.ledger_tables`). `add_to_states` folds events just appended, in the appending transaction;
`rebuild_states` derives all of it again from the events.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from plan.events import EventKind
from plan.ledger_tables import (
    ANSWER,
    EXECUTION_OUTCOME,
    OPENED,
    STAGE_NAMES,
    STATE_TABLES,
    event_days_table,
    events_table,
    insert_for,
    invitation_states_table,
    occurrence_states_table,
    outcome_notes_table,
)
from plan.model import Stage

_STATUS, _ANSWER, _OUTCOME, _OPENED = (
    EventKind.STAGE_STATUS.value,
    EventKind.COUNTERPART_STATUS.value,
    EventKind.OUTCOME.value,
    EventKind.OCCURRENCE_OPENED.value,
)
_EXECUTION = Stage.EXECUTION.value
_BATCH = 5000

EventRow = Mapping[str, Any] | RowMapping  # an event by column name: a dict, or a row read back


class _States:
    """Rows of the state tables with events folded into them, in id order. `occurrences` and
    `invitations` map primary keys to whole rows (dicts by column name); `notes` and `days` hold what
    the folded events add."""

    def __init__(self, occurrences: dict[tuple, dict] | None = None, invitations: dict[tuple, dict] | None = None):
        self.occurrences = occurrences if occurrences is not None else {}
        self.invitations = invitations if invitations is not None else {}
        self.notes: list[dict[str, Any]] = []
        self.days: Counter[tuple[str, dt.date]] = Counter()

    def add(self, event: EventRow) -> None:
        kind, stage, on = event["kind"], event["stage"], event["effective_date"]
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        key = (event["plan_id"], event["item"], event["occurrence"])
        if on is not None:
            self.days[(event["plan_id"], on)] += 1
        if kind == _STATUS and stage in STAGE_NAMES:
            _push(self._row(self.occurrences, occurrence_states_table, key), stage, event, status=event["status"])
        elif kind == _ANSWER and stage in STAGE_NAMES and event["counterpart"] is not None:
            _push(self._row(self.invitations, invitation_states_table, (*key, event["counterpart"])), ANSWER, event, status=event["status"])
        elif kind == _OUTCOME:
            if stage == _EXECUTION:
                indicators = payload.get("indicators")
                text = None if indicators is None else json.dumps(indicators, ensure_ascii=False)
                _push(self._row(self.occurrences, occurrence_states_table, key), EXECUTION_OUTCOME, event, indicators=text)
            note = payload.get("note")
            if isinstance(note, str) and note:
                self.notes.append(
                    {"event": event["id"], "plan_id": key[0], "item": key[1], "occurrence": key[2], "stage": stage, "effective_date": on, "actor": event["actor"], "note": note}
                )
        elif kind == _OPENED:
            row = self._row(self.occurrences, occurrence_states_table, key)
            if row[f"{OPENED}_count"] == 0:
                start, end = _iso_date(payload.get("start")), _iso_date(payload.get("end"))
                if end is _IRREGULAR or (end is None and payload.get("end") is not None):
                    start = None
                row[f"{OPENED}_event"], row[f"{OPENED}_on"] = event["id"], on
                row[f"{OPENED}_start"], row[f"{OPENED}_end"] = (start, end) if isinstance(start, dt.date) else (None, None)
            row[f"{OPENED}_count"] += 1

    @staticmethod
    def _row(rows: dict[tuple, dict], table: sa.Table, key: tuple) -> dict[str, Any]:
        row = rows.get(key)
        if row is None:
            row = rows[key] = {c.name: (0 if c.name.endswith("_count") else None) for c in table.c}
            row.update(zip((c.name for c in table.primary_key), key))
        return row


_IRREGULAR = object()


def _iso_date(value: Any) -> Any:
    """A "YYYY-MM-DD" text as a date; None for None; _IRREGULAR for anything else."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    return _IRREGULAR


def _push(row: dict[str, Any], name: str, event: EventRow, **fields: Any) -> None:
    """The event becomes the group's latest; the latest becomes the one before."""
    for field in ("event", "on", *fields):
        row[f"{name}_previous_{field}"] = row[f"{name}_{field}"]
    row[f"{name}_event"], row[f"{name}_on"] = event["id"], event["effective_date"]
    for field, value in fields.items():
        row[f"{name}_{field}"] = value
    row[f"{name}_count"] += 1


def add_to_states(conn: Connection, events: Sequence[Mapping[str, Any]]) -> None:
    """Fold events just inserted (rows with their ids, in id order) into the states, in the caller's
    write transaction: the rows they touch are read, updated and written back."""
    if not events:
        return
    occurrences = {(e["plan_id"], e["item"], e["occurrence"]) for e in events if e["kind"] in (_STATUS, _OUTCOME, _OPENED)}
    invitations = {(e["plan_id"], e["item"], e["occurrence"], e["counterpart"]) for e in events if e["kind"] == _ANSWER and e["counterpart"] is not None}
    states = _States(_read_rows(conn, occurrence_states_table, occurrences), _read_rows(conn, invitation_states_table, invitations))
    for event in events:
        states.add(event)
    _write_states(conn, states, upsert=True)


def rebuild_states(conn: Connection) -> None:
    """Derive the states from all the events again, in the caller's write transaction (migration 4,
    and after a bulk load that bypassed `append`)."""
    for table in STATE_TABLES:
        conn.execute(table.delete())
    t = events_table
    # Only outcomes and openings have a payload that matters: the others' is not even decoded.
    payload = sa.type_coerce(sa.case((t.c.kind.in_([_OUTCOME, _OPENED]), t.c.payload)), t.c.payload.type).label("payload")
    columns = [t.c.id, t.c.plan_id, t.c.item, t.c.occurrence, t.c.kind, t.c.stage, t.c.counterpart, t.c.status, t.c.actor, t.c.effective_date, payload]
    states = _States()
    result = conn.execute(sa.select(*columns).order_by(t.c.id).execution_options(yield_per=20_000))
    for event in result.mappings():
        states.add(event)
    _write_states(conn, states, upsert=False)


def _read_rows(conn: Connection, table: sa.Table, keys: set[tuple]) -> dict[tuple, dict]:
    """The rows of these primary keys that exist, by key."""
    key_columns = list(table.primary_key)
    found: dict[tuple, dict] = {}
    ordered = sorted(keys)
    for begin in range(0, len(ordered), _BATCH // len(key_columns)):
        chunk = ordered[begin : begin + _BATCH // len(key_columns)]
        for row in conn.execute(sa.select(table).where(sa.tuple_(*key_columns).in_(chunk))).mappings():
            found[tuple(row[c.name] for c in key_columns)] = dict(row)
    return found


def _write_states(conn: Connection, states: _States, *, upsert: bool) -> None:
    dialect = conn.dialect.name
    for table, rows in ((occurrence_states_table, states.occurrences), (invitation_states_table, states.invitations)):
        if rows:
            _execute_many(conn, _state_insert(dialect, table, upsert), list(rows.values()))
    _execute_many(conn, outcome_notes_table.insert(), states.notes)
    if states.days:
        _execute_many(conn, _days_insert(dialect, upsert), [{"plan_id": plan_id, "effective_date": on, "events": n} for (plan_id, on), n in states.days.items()])


@functools.cache
def _state_insert(dialect: str, table: sa.Table, upsert: bool) -> Any:
    """The insert (or upsert) of a state table's rows, built once: building one costs more than a
    small append's writes."""
    stmt = insert_for(dialect)(table)
    if upsert:
        stmt = stmt.on_conflict_do_update(index_elements=[c.name for c in table.primary_key], set_={c.name: stmt.excluded[c.name] for c in table.c if not c.primary_key})
    return stmt


@functools.cache
def _days_insert(dialect: str, upsert: bool) -> Any:
    stmt = insert_for(dialect)(event_days_table)
    if upsert:
        stmt = stmt.on_conflict_do_update(index_elements=["plan_id", "effective_date"], set_={"events": event_days_table.c.events + stmt.excluded.events})
    return stmt


def _execute_many(conn: Connection, stmt, rows: list[dict[str, Any]]) -> None:
    for begin in range(0, len(rows), _BATCH):
        conn.execute(stmt, rows[begin : begin + _BATCH])

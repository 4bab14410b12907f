"""What the report needs from the ledger, reduced in SQL (in the caller's snapshot).

From the states the ledger keeps beside its events (plan/ledger.py, written in the transaction that
records each event), the database decides what they say on the report date: one row per occurrence
with the latest status of each stage, its opening and its latest execution outcome in the window; one
row per invitation with its latest answer; the outcome notes; the events per day. Where the states
cannot tell (three or more changes of a stage, the newest two dated after the report date; an opening
without ISO dates) those occurrences are grouped from the events themselves, as all of them were
before the states existed (`source="events"`, kept as the reference).
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from plan.events import EventKind
from plan.ledger_tables import (
    ANSWER,
    EXECUTION_OUTCOME,
    OPENED,
    event_days_table,
    events_table,
    invitation_states_table,
    occurrence_states_table,
    outcome_notes_table,
)
from plan.model import Plan, Stage
from reports.packed import day_number, packed_event
from reports.sql_frames import Columnar, ints_or_zero, parse_json, read_columns, read_frame

Source = Literal["states", "events"]
"""Where the report's rows come from: the ledger's states (the events for what they cannot tell), or
the events alone (the reference)."""
SOURCES: tuple[str, ...] = get_args(Source)

STAGES = list(Stage)


@dataclass
class LedgerRows:
    # One row per occurrence known to the ledger (no particular order): the latest status of each stage
    # on as_of, packed (reports.packed; -1 none); the first opening recorded by as_of with a start (its event id,
    # 0 none, and the first and last day it gives as day numbers); the latest execution outcome in the
    # window (its id, 0 none, and its `indicators`, parsed).
    occurrences: pd.DataFrame  # item, occurrence, preparation, coordination, execution, reporting, opened, start, end, outcome, indicators
    # One row per invitation: its latest answer on as_of, packed (-1 none).
    invitations: pd.DataFrame  # item, occurrence, counterpart, answer
    # The outcomes with a note, dated up to as_of (or undated).
    notes: pd.DataFrame  # id, item, occurrence, stage, day, actor, note
    events_in_period: int
    # Reading the states: the (item, occurrence) pairs they could not tell, read from the events
    # instead (empty reading the events, where everything comes from).
    read_from_events: frozenset[tuple[str, str]] = frozenset()


OCCURRENCE_COLUMNS = ["item", "occurrence", *(s.value for s in STAGES), "opened", "start", "end", "outcome", "indicators"]
INVITATION_COLUMNS = ["item", "occurrence", "counterpart", "answer"]
_NONE = {**{s.value: -1 for s in STAGES}, "opened": 0, "start": 0, "end": 0, "outcome": 0, "indicators": None, "answer": -1}


def read_ledger(conn: Connection, plan: Plan, as_of: dt.date, in_period: tuple[dt.date, dt.date], *, source: Source = "states") -> LedgerRows:
    """What the report needs from the ledger, read from the states the ledger keeps beside its events
    (`source="states"`), or from the events themselves (`source="events"`: the reference, and what the
    states cannot tell)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    plan_id = unicodedata.normalize("NFC", plan.id)
    if source == "events":
        occurrences, invitations = _from_events(conn, plan_id, as_of, in_period)
        return LedgerRows(occurrences, invitations, _notes_from_events(conn, plan_id, as_of), _count_from_events(conn, plan_id, in_period))
    occurrences, invitations, read_from_events = _from_states(conn, plan_id, as_of, in_period)
    return LedgerRows(occurrences, invitations, _notes_from_states(conn, plan_id, as_of), _count_from_days(conn, plan_id, in_period), read_from_events)


# -- from the ledger's states, filtered and reduced in SQL ------------------------------------------


def _from_states(conn: Connection, plan_id: str, as_of: dt.date, in_period: tuple[dt.date, dt.date]) -> tuple[pd.DataFrame, pd.DataFrame, frozenset[tuple[str, str]]]:
    """Each occurrence's and invitation's row of the ledger's states, as of `as_of`: its latest event
    of a sort if dated by then, else the one before if it is, else none if there were no more. The
    few that had three or more, the newer two dated later, are read from the events (and returned: their
    (item, occurrence) pairs)."""
    occurrences, invitations = _state_queries(conn.dialect.name)
    values = {"plan_id": plan_id, "as_of": as_of, "first": in_period[0], "last": in_period[1]}
    occ, inv = read_columns(conn, occurrences, values), read_columns(conn, invitations, values)

    keys: set[tuple[str, str]] = set()
    # NULL where the states cannot tell (the numbers are still objects then): those occurrences, and
    # all their invitations, are read from the events.
    undecided, unanswered = (_nulls(frame[columns]) for frame, columns in ((occ, _OCCURRENCE_NUMBERS), (inv, ["answer"])))
    if undecided.any() or unanswered.any():
        keys = set(zip(occ["item"].to_numpy()[undecided], occ["occurrence"].to_numpy()[undecided])) | set(zip(inv["item"].to_numpy()[unanswered], inv["occurrence"].to_numpy()[unanswered]))
        again_occ, again_inv = _from_events(conn, plan_id, as_of, in_period, keys)
        occ = pd.concat([occ[~_pairs_in(occ, keys)].astype(object), again_occ.astype(object)], ignore_index=True)
        inv = pd.concat([inv[~_pairs_in(inv, keys)].astype(object), again_inv.astype(object)], ignore_index=True)
    if not (_whole_numbers(occ, _OCCURRENCE_NUMBERS) and _whole_numbers(inv, ["answer"])):
        raise AssertionError("a state left undecided")
    # An opening without a start does not count; the days of one that does not count are not read.
    ignored = occ["start"].to_numpy() <= 0
    occ.loc[ignored, "opened"] = 0
    occ.loc[ignored | (occ["opened"].to_numpy() == 0), ["start", "end"]] = 0
    return occ, inv, frozenset(keys)


@functools.cache
def _state_queries(dialect: str) -> tuple[Columnar, Columnar]:
    """The queries of `_from_states`, built once: plan_id, as_of and the window (first, last) are
    parameters."""
    o, v = occurrence_states_table, invitation_states_table
    as_of, first, last = (sa.bindparam(name, type_=sa.Date) for name in ("as_of", "first", "last"))
    plan_id = sa.bindparam("plan_id", type_=sa.Text)

    def known(on):
        return sa.or_(on.is_(None), on <= as_of)

    def in_window(on):
        return on.between(first, last)

    def as_of_day(table: sa.Table, name: str, value: Callable[[str], Any], none: Any, dated=known):
        latest, previous = name, f"{name}_previous"
        return sa.case(
            (sa.and_(table.c[f"{latest}_event"].is_not(None), dated(table.c[f"{latest}_on"])), value(latest)),
            (sa.and_(table.c[f"{previous}_event"].is_not(None), dated(table.c[f"{previous}_on"])), value(previous)),
            (table.c[f"{name}_count"] <= 2, none),
        )  # else NULL: the events decide

    def packed(table: sa.Table, answer: bool = False):
        return lambda which: packed_event(dialect, table.c[f"{which}_event"], table.c[f"{which}_status"], table.c[f"{which}_on"], answer=answer)

    # The first opening, if known by as_of and dated (a start before 1900 is none, as no start is,
    # when there were no other openings); else NULL, the events decide.
    opened_event, opened_count, opened_on = o.c[f"{OPENED}_event"], o.c[f"{OPENED}_count"], o.c[f"{OPENED}_on"]
    start = day_number(dialect, o.c[f"{OPENED}_start"])
    opened = sa.case(
        (opened_event.is_(None), 0),
        (sa.and_(opened_on > as_of, opened_count <= 1), 0),
        (sa.and_(known(opened_on), o.c[f"{OPENED}_start"].is_not(None), sa.or_(opened_count <= 1, start > 0)), opened_event),
    )
    occurrences = sa.select(
        o.c.item,
        o.c.occurrence,
        *(as_of_day(o, s.value, packed(o), -1).label(s.value) for s in STAGES),
        opened.label("opened"),
        sa.func.coalesce(start, 0).label("start"),
        sa.func.coalesce(day_number(dialect, o.c[f"{OPENED}_end"]), 0).label("end"),
        as_of_day(o, EXECUTION_OUTCOME, lambda which: o.c[f"{which}_event"], 0, in_window).label("outcome"),
        as_of_day(o, EXECUTION_OUTCOME, lambda which: o.c[f"{which}_indicators"], None, in_window).label("indicators"),
    ).where(o.c.plan_id == plan_id)
    invitations = sa.select(v.c.item, v.c.occurrence, v.c.counterpart, as_of_day(v, ANSWER, packed(v, answer=True), -1).label("answer")).where(v.c.plan_id == plan_id)
    return Columnar.of(dialect, occurrences, _OCCURRENCE_NUMBERS, json_values=["indicators"]), Columnar.of(dialect, invitations, ["answer"])


_OCCURRENCE_NUMBERS = [*(s.value for s in STAGES), "opened", "start", "end", "outcome"]


def _nulls(numbers: pd.DataFrame) -> np.ndarray:
    """The rows with a NULL among the numbers (columns still of objects)."""
    if (numbers.dtypes != np.dtype(object)).all():
        return np.zeros(len(numbers), dtype=bool)
    return numbers.isna().any(axis=1).to_numpy()


def _whole_numbers(frame: pd.DataFrame, columns: list[str]) -> bool:
    """Turns the object columns into int64 ones, unless one holds a NULL (False then, unchanged)."""
    if all(frame[c].dtype == np.int64 for c in columns):
        return True
    try:
        converted = {c: frame[c].to_numpy(dtype=object).astype(np.int64) for c in columns}
    except TypeError:
        return False
    for column, values in converted.items():
        frame[column] = values
    return True


def _pairs_in(frame: pd.DataFrame, keys: set[tuple[str, str]]) -> np.ndarray:
    return pd.MultiIndex.from_arrays([frame["item"].to_numpy(dtype=object), frame["occurrence"].to_numpy(dtype=object)]).isin(list(keys))


def _notes_from_states(conn: Connection, plan_id: str, as_of: dt.date) -> pd.DataFrame:
    return read_columns(conn, _notes_query(conn.dialect.name), {"plan_id": plan_id, "as_of": as_of})


@functools.cache
def _notes_query(dialect: str) -> Columnar:
    n, as_of = outcome_notes_table, sa.bindparam("as_of", type_=sa.Date)
    query = sa.select(
        n.c.event.label("id"), n.c.item, n.c.occurrence, n.c.stage, sa.func.coalesce(day_number(dialect, n.c.effective_date), 0).label("day"), n.c.actor, n.c.note
    ).where(n.c.plan_id == sa.bindparam("plan_id", type_=sa.Text), sa.or_(n.c.effective_date <= as_of, n.c.effective_date.is_(None)))
    return Columnar.of(dialect, query, ["id", "day"], nullable=["stage"])


def _count_from_days(conn: Connection, plan_id: str, in_period: tuple[dt.date, dt.date]) -> int:
    d = event_days_table
    if in_period[0] > in_period[1]:
        return 0
    query = sa.select(sa.func.coalesce(sa.func.sum(d.c.events), 0)).where(d.c.plan_id == plan_id, d.c.effective_date.between(*in_period))
    return int(conn.execute(query).scalar_one())


# -- the same from the events (the reference; what the states cannot tell) ------------------------------


def _from_events(conn: Connection, plan_id: str, as_of: dt.date, in_period: tuple[dt.date, dt.date], keys: set[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The occurrences' and invitations' rows grouped from the events: of every occurrence, or of `keys`
    (item, occurrence) only."""
    t = events_table
    is_answer = t.c.kind == EventKind.COUNTERPART_STATUS.value
    is_outcome = t.c.kind == EventKind.OUTCOME.value
    is_opened = t.c.kind == EventKind.OCCURRENCE_OPENED.value
    chunks: list[sa.ColumnElement[bool]]
    if keys is None:
        # On SQLite a plain scan and a sort beat walking the (plan, item, occurrence) index, whose rows
        # lie all over the table: `+plan_id` keeps the planner off it.
        plan_column = sa.literal_column(f"+{t.name}.plan_id") if conn.dialect.name == "sqlite" else t.c.plan_id
        chunks = [sa.true()]
    else:
        plan_column = t.c.plan_id
        ordered = sorted(keys)
        chunks = [sa.tuple_(t.c.item, t.c.occurrence).in_(ordered[b : b + 400]) for b in range(0, len(ordered), 400)]
    occurrence_rows, invitation_rows, detail_rows = [], [], []
    for chunk in chunks:
        known = sa.and_(plan_column == plan_id, chunk, sa.or_(t.c.effective_date <= as_of, t.c.effective_date.is_(None)))
        # The latest status of every stage and every invitation.
        counterpart = sa.case((is_answer, t.c.counterpart)).label("counterpart")
        states = (
            sa.select(
                t.c.item,
                t.c.occurrence,
                counterpart,
                *(
                    sa.func.coalesce(
                        sa.func.max(sa.case((t.c.stage == s.value, packed_event(conn.dialect.name, t.c.id, t.c.status, t.c.effective_date, answer=is_answer)))), -1
                    ).label(s.value)
                    for s in STAGES
                ),
            )
            .where(known, sa.or_(t.c.kind == EventKind.STAGE_STATUS.value, sa.and_(is_answer, t.c.counterpart.is_not(None))))
            .group_by(t.c.item, t.c.occurrence, counterpart)
        )
        execution = sa.and_(is_outcome, t.c.stage == Stage.EXECUTION.value, t.c.effective_date.between(*in_period))
        details = sa.select(
            t.c.id,
            t.c.item,
            t.c.occurrence,
            sa.case((is_opened, "opened"), else_="outcome").label("kind"),
            sa.case((is_opened, day_number(conn.dialect.name, t.c.payload["start"].as_string(), text=True))).label("start"),
            sa.case((is_opened, day_number(conn.dialect.name, t.c.payload["end"].as_string(), text=True))).label("end"),
            sa.case((execution, t.c.payload["indicators"].as_string())).label("indicators"),
        ).where(known, sa.or_(is_opened, execution))
        frame = read_frame(conn, states)
        occurrence_rows.append(frame[frame["counterpart"].isna()])
        invitation_rows.append(frame[frame["counterpart"].notna()])
        detail_rows.append(read_frame(conn, details))

    states, answers, details = (pd.concat(rows, ignore_index=True) for rows in (occurrence_rows, invitation_rows, detail_rows))
    # An invitation's answers are the coordination's: its latest answer is the latest of any stage.
    invitations = answers[["item", "occurrence", "counterpart"]].assign(answer=answers[[s.value for s in STAGES]].to_numpy(dtype=np.int64).max(axis=1, initial=-1))
    # The first opening with a start; the latest execution outcome.
    details = details.sort_values("id", kind="stable")
    opened = details[(details["kind"] == "opened").to_numpy() & (ints_or_zero(details["start"]) > 0)].drop_duplicates(["item", "occurrence"], keep="first")
    executed = details[(details["kind"] == "outcome").to_numpy()].drop_duplicates(["item", "occurrence"], keep="last")
    occurrences = states.drop(columns="counterpart")
    occurrences = occurrences.merge(opened[["item", "occurrence", "id", "start", "end"]].rename(columns={"id": "opened"}), on=["item", "occurrence"], how="outer")
    occurrences = occurrences.merge(executed[["item", "occurrence", "id", "indicators"]].rename(columns={"id": "outcome"}), on=["item", "occurrence"], how="outer")
    occurrences = occurrences.astype(object)
    for column in ("opened", "start", "end", "outcome", *(s.value for s in STAGES)):
        occurrences[column] = occurrences[column].where(occurrences[column].notna(), _NONE[column])
    occurrences["indicators"] = parse_json(occurrences["indicators"].where(occurrences["indicators"].notna(), None).to_numpy(dtype=object))
    occurrences, invitations = occurrences[OCCURRENCE_COLUMNS].reset_index(drop=True), invitations[INVITATION_COLUMNS].reset_index(drop=True)
    _whole_numbers(occurrences, _OCCURRENCE_NUMBERS)
    _whole_numbers(invitations, ["answer"])
    return occurrences, invitations


def _notes_from_events(conn: Connection, plan_id: str, as_of: dt.date) -> pd.DataFrame:
    t = events_table
    note = t.c.payload["note"].as_string()
    query = sa.select(
        t.c.id, t.c.item, t.c.occurrence, t.c.stage, sa.func.coalesce(day_number(conn.dialect.name, t.c.effective_date), 0).label("day"), t.c.actor, note.label("note")
    ).where(
        t.c.plan_id == plan_id,
        sa.or_(t.c.effective_date <= as_of, t.c.effective_date.is_(None)),
        t.c.kind == EventKind.OUTCOME.value,
        note.is_not(None),
        note != "",
    )
    return read_frame(conn, query, ["id", "day"])


def _count_from_events(conn: Connection, plan_id: str, in_period: tuple[dt.date, dt.date]) -> int:
    t = events_table
    if in_period[0] > in_period[1]:
        return 0
    return int(conn.execute(sa.select(sa.func.count()).where(t.c.plan_id == plan_id, t.c.effective_date.between(*in_period))).scalar_one())


def status_reasons(conn: Connection, ids: list[int]) -> dict[int, str]:
    """The reason recorded with some status events (late blocked stages with no note: a handful)."""
    t = events_table
    found: dict[int, str] = {}
    for begin in range(0, len(ids), 500):
        query = sa.select(t.c.id, t.c.payload["reason"].as_string()).where(t.c.id.in_(ids[begin : begin + 500]))
        found.update((int(i), r) for i, r in conn.execute(query) if r)
    return found


def held_on(conn: Connection, ids: list[int]) -> dict[int, dt.date]:
    """The day each execution outcome says the activity was held (`held_on`), where it gives one."""
    t = events_table
    found: dict[int, dt.date] = {}
    for begin in range(0, len(ids), 500):
        query = sa.select(t.c.id, t.c.payload["held_on"].as_string()).where(t.c.id.in_(ids[begin : begin + 500]))
        for ident, text in conn.execute(query):
            if not text:
                continue
            try:
                found[int(ident)] = dt.date.fromisoformat(str(text)[:10])
            except ValueError:
                continue
    return found

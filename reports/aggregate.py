"""The upward report's numbers for one reporting period, aggregated from the ledger with pandas.

The database reads the states the ledger keeps beside its events (plan/ledger.py, written in the
transaction that records each event) and decides, in SQL, what they say on the report date: one row
per occurrence with the latest status of each stage, its opening and its latest execution outcome in
the window; one row per invitation with its latest answer; the outcome notes; the events per day.
Where the states cannot tell (three or more changes of a stage, the newest two dated after the report
date; an opening without ISO dates) those occurrences are grouped from the events themselves, as all
of them were before the states existed (`_read(..., from_events=True)`, kept as the reference).
pandas and numpy then join those rows to the stage due dates, counted in Vietnamese working days with
vectorised arithmetic, and derive what `plan.progress.item_status` derives (the reference): stages
done and overdue, each item's RAG, the late list with its reasons, the units and the counterparts. No
Python loop runs over events; the loops here run over the plan's items, units and indicators to build
lookup tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from plan.calendar import ReportingPeriod, WorkingCalendar
from plan.events import ANSWERED, MAIN, CoordinationStatus, EventKind, StageStatus
from plan.ledger import Ledger
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
from plan.model import STAGE_LABELS, Anchor, CounterpartKind, ItemKind, Plan, Stage
from plan.occurrences import item_occurrences
from plan.progress import RAG_LABELS, Rag
from plan.schedule import item_span, working_calendar
from plan.text import window_text
from reports.data import (
    COUNTERPART_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_TOTAL_COLUMNS,
    ITEM_COLUMNS,
    LATE_COLUMNS,
    NOTE_COLUMNS,
    UNIT_COLUMNS,
    ReportData,
)

__all__ = ["aggregate", "RAG_DTYPE", "KIND_DTYPE", "STAGE_DTYPE", "COUNTERPART_KIND_DTYPE"]

STAGES = list(Stage)
STAGE_STATUSES = list(StageStatus)
ANSWERS = list(CoordinationStatus)
RAG_ORDER = [Rag.DONE, Rag.ON_TRACK, Rag.AT_RISK, Rag.OFF_TRACK]  # as reports list them

RAG_DTYPE = pd.CategoricalDtype([r.value for r in RAG_ORDER])
KIND_DTYPE = pd.CategoricalDtype([k.value for k in ItemKind])
STAGE_DTYPE = pd.CategoricalDtype([s.value for s in Stage], ordered=True)
COUNTERPART_KIND_DTYPE = pd.CategoricalDtype([k.value for k in CounterpartKind])

_DONE, _SKIPPED, _BLOCKED, _NOT_STARTED = (STAGE_STATUSES.index(s) for s in (StageStatus.DONE, StageStatus.SKIPPED, StageStatus.BLOCKED, StageStatus.NOT_STARTED))
_INVITED = ANSWERS.index(CoordinationStatus.INVITED)
_ANCHORS = {Anchor.START: 0, Anchor.END: 1, Anchor.ISSUED: 2}
# Status codes packed with an event (below): a stage's lifecycle, then an invitation's.
_CODES = {s.value: i for i, s in enumerate(STAGE_STATUSES)} | {s.value: 8 + i for i, s in enumerate(ANSWERS)}
# The database tries them in this order: the usual latest statuses first.
_CODES = {s.value: _CODES[s.value] for s in (StageStatus.DONE, StageStatus.IN_PROGRESS, CoordinationStatus.CONFIRMED, StageStatus.SKIPPED)} | _CODES

# "The latest event" in SQL without joining back: each event is packed into one integer ordered by
# its id and carrying its status code and date, so MAX() over a group gives the latest event and
# what it says: id · 2^21 + code · 2^17 + day.
_ID_SHIFT, _CODE_SHIFT = 1 << 21, 1 << 17
# Dates travel as day numbers: 1 is 1/1/1900, 0 is no date; 17 bits reach 2258.
_EPOCH = dt.date(1900, 1, 1)
_DAY0 = _EPOCH.toordinal() - 1  # ordinal = day number + _DAY0


def aggregate(plan: Plan, ledger: Ledger, period: ReportingPeriod, as_of: dt.date | None = None) -> ReportData:
    """The report tables for `period`, whose data window is Decree 09/2019's, with statuses as of `as_of`
    (default: the window's last day). Only this plan's events dated up to `as_of` are read; "in the
    window" below means dated inside the data window, up to `as_of`.

    - items: occurrences, stages and RAG as `plan.progress.item_status` derives them on `as_of`;
      `stages_done_in_period` counts the stages finished (done or skipped) in the window.
    - indicators: per occurrence, the latest execution outcome in the window (a correction replaces
      what it corrects; one recorded after the cut-off goes to the next report), summed per item and
      over all items; every catalogue indicator has a total, 0 when none was given.
    - units: the items each unit leads and coordinates (plan); over the items it leads, the stages
      finished in the window and those overdue on `as_of`.
    - late: the stages not finished and past due on `as_of`, with the reason people gave: the latest
      note on the stage, else on its occurrence, else the reason recorded with a blocked status, else
      "". `occurrence` is the ledger's id: main, 2023-05, 2023-08-01-dsq-singapore.
    - counterparts: each invitation's latest answer on `as_of`, counted when that answer is dated in
      the window or the invitation still awaits one; `items` lists item numbers ("6, 9").
    - notes: the outcome notes written in the window, by date.
    - events_in_period: the plan's events in the window; `ReportData.empty` when there is none.

    `late.due` and `notes.date` hold `datetime.date` values.
    """
    window = period.data_window
    as_of = as_of or window[1]
    in_period = (window[0], min(window[1], as_of))
    # One snapshot for every statement: the states and the events read agree with each other. The
    # plan's lookup tables need no database: a thread builds them while the database works (both
    # SQLite and psycopg let go of the interpreter while a statement runs).
    with ledger.transaction(write=False, snapshot=True) as conn, ThreadPoolExecutor(1, thread_name_prefix="kehoach-report") as pool:
        tables = pool.submit(_plan_tables, plan, as_of)
        raw = _read(conn, plan, as_of, in_period)
        return _build(plan, period, as_of, window, in_period, raw, functools.partial(_status_reasons, conn), tables.result())


# -- reading: the ledger's states, filtered and reduced in SQL ----------------------------------------


@dataclass
class _Raw:
    # One row per occurrence known to the ledger (no particular order): the latest status of each stage
    # on as_of, packed (below; -1 none); the first opening recorded by as_of with a start (its event id,
    # 0 none, and the first and last day it gives as day numbers); the latest execution outcome in the
    # window (its id, 0 none, and its `indicators`, parsed).
    occurrences: pd.DataFrame  # item, occurrence, preparation, coordination, execution, reporting, opened, start, end, outcome, indicators
    # One row per invitation: its latest answer on as_of, packed (-1 none).
    invitations: pd.DataFrame  # item, occurrence, counterpart, answer
    # The outcomes with a note, dated up to as_of (or undated).
    notes: pd.DataFrame  # id, item, occurrence, stage, day, actor, note
    events_in_period: int


OCCURRENCE_COLUMNS = ["item", "occurrence", *(s.value for s in STAGES), "opened", "start", "end", "outcome", "indicators"]
INVITATION_COLUMNS = ["item", "occurrence", "counterpart", "answer"]
_NONE = {**{s.value: -1 for s in STAGES}, "opened": 0, "start": 0, "end": 0, "outcome": 0, "indicators": None, "answer": -1}


def _read(conn: Connection, plan: Plan, as_of: dt.date, in_period: tuple[dt.date, dt.date], *, from_events: bool = False) -> _Raw:
    """What the report needs from the ledger, read from the states the ledger keeps beside its events,
    or (`from_events`: the reference, and what the states cannot tell) from the events themselves."""
    plan_id = unicodedata.normalize("NFC", plan.id)
    if from_events:
        occurrences, invitations = _from_events(conn, plan_id, as_of, in_period)
        return _Raw(occurrences, invitations, _notes_from_events(conn, plan_id, as_of), _count_from_events(conn, plan_id, in_period))
    occurrences, invitations = _from_states(conn, plan_id, as_of, in_period)
    return _Raw(occurrences, invitations, _notes_from_states(conn, plan_id, as_of), _count_from_days(conn, plan_id, in_period))


def _from_states(conn: Connection, plan_id: str, as_of: dt.date, in_period: tuple[dt.date, dt.date]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each occurrence's and invitation's row of the ledger's states, as of `as_of`: its latest event
    of a sort if dated by then, else the one before if it is, else none if there were no more. The
    few that had three or more, the newer two dated later, are read from the events."""
    occurrences, invitations = _state_queries(conn.dialect.name)
    values = {"plan_id": plan_id, "as_of": as_of, "first": in_period[0], "last": in_period[1]}
    occ, inv = _columns(conn, occurrences, values), _columns(conn, invitations, values)

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
    return occ, inv


@functools.cache
def _state_queries(dialect: str) -> tuple[_Columnar, _Columnar]:
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
        return lambda which: _packed(dialect, table.c[f"{which}_event"], table.c[f"{which}_status"], table.c[f"{which}_on"], answer=answer)

    # The first opening, if known by as_of and dated (a start before 1900 is none, as no start is,
    # when there were no other openings); else NULL, the events decide.
    opened_event, opened_count, opened_on = o.c[f"{OPENED}_event"], o.c[f"{OPENED}_count"], o.c[f"{OPENED}_on"]
    start = _day_number(dialect, o.c[f"{OPENED}_start"])
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
        sa.func.coalesce(_day_number(dialect, o.c[f"{OPENED}_end"]), 0).label("end"),
        as_of_day(o, EXECUTION_OUTCOME, lambda which: o.c[f"{which}_event"], 0, in_window).label("outcome"),
        as_of_day(o, EXECUTION_OUTCOME, lambda which: o.c[f"{which}_indicators"], None, in_window).label("indicators"),
    ).where(o.c.plan_id == plan_id)
    invitations = sa.select(v.c.item, v.c.occurrence, v.c.counterpart, as_of_day(v, ANSWER, packed(v, answer=True), -1).label("answer")).where(v.c.plan_id == plan_id)
    return _Columnar.of(dialect, occurrences, _OCCURRENCE_NUMBERS, json_values=["indicators"]), _Columnar.of(dialect, invitations, ["answer"])


_OCCURRENCE_NUMBERS = [*(s.value for s in STAGES), "opened", "start", "end", "outcome"]


def _nulls(numbers: pd.DataFrame) -> np.ndarray:
    """The rows with a NULL among the numbers (columns still of objects)."""
    if (numbers.dtypes != object).all():
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
    return _columns(conn, _notes_query(conn.dialect.name), {"plan_id": plan_id, "as_of": as_of})


@functools.cache
def _notes_query(dialect: str) -> _Columnar:
    n, as_of = outcome_notes_table, sa.bindparam("as_of", type_=sa.Date)
    query = sa.select(
        n.c.event.label("id"), n.c.item, n.c.occurrence, n.c.stage, sa.func.coalesce(_day_number(dialect, n.c.effective_date), 0).label("day"), n.c.actor, n.c.note
    ).where(n.c.plan_id == sa.bindparam("plan_id", type_=sa.Text), sa.or_(n.c.effective_date <= as_of, n.c.effective_date.is_(None)))
    return _Columnar.of(dialect, query, ["id", "day"], nullable=["stage"])


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
                *(sa.func.coalesce(sa.func.max(sa.case((t.c.stage == s.value, _packed(conn.dialect.name, t.c.id, t.c.status, t.c.effective_date, answer=is_answer)))), -1).label(s.value) for s in STAGES),
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
            sa.case((is_opened, _day_number(conn.dialect.name, t.c.payload["start"].as_string(), text=True))).label("start"),
            sa.case((is_opened, _day_number(conn.dialect.name, t.c.payload["end"].as_string(), text=True))).label("end"),
            sa.case((execution, t.c.payload["indicators"].as_string())).label("indicators"),
        ).where(known, sa.or_(is_opened, execution))
        frame = _frame(conn, states)
        occurrence_rows.append(frame[frame["counterpart"].isna()])
        invitation_rows.append(frame[frame["counterpart"].notna()])
        detail_rows.append(_frame(conn, details))

    states, answers, details = (pd.concat(rows, ignore_index=True) for rows in (occurrence_rows, invitation_rows, detail_rows))
    # An invitation's answers are the coordination's: its latest answer is the latest of any stage.
    invitations = answers[["item", "occurrence", "counterpart"]].assign(answer=answers[[s.value for s in STAGES]].to_numpy(dtype=np.int64).max(axis=1, initial=-1))
    # The first opening with a start; the latest execution outcome.
    details = details.sort_values("id", kind="stable")
    opened = details[(details["kind"] == "opened").to_numpy() & (_ints(details["start"]) > 0)].drop_duplicates(["item", "occurrence"], keep="first")
    executed = details[(details["kind"] == "outcome").to_numpy()].drop_duplicates(["item", "occurrence"], keep="last")
    occurrences = states.drop(columns="counterpart")
    occurrences = occurrences.merge(opened[["item", "occurrence", "id", "start", "end"]].rename(columns={"id": "opened"}), on=["item", "occurrence"], how="outer")
    occurrences = occurrences.merge(executed[["item", "occurrence", "id", "indicators"]].rename(columns={"id": "outcome"}), on=["item", "occurrence"], how="outer")
    occurrences = occurrences.astype(object)
    for column in ("opened", "start", "end", "outcome", *(s.value for s in STAGES)):
        occurrences[column] = occurrences[column].where(occurrences[column].notna(), _NONE[column])
    occurrences["indicators"] = _parsed(occurrences["indicators"].where(occurrences["indicators"].notna(), None).to_numpy(dtype=object))
    occurrences, invitations = occurrences[OCCURRENCE_COLUMNS].reset_index(drop=True), invitations[INVITATION_COLUMNS].reset_index(drop=True)
    _whole_numbers(occurrences, _OCCURRENCE_NUMBERS)
    _whole_numbers(invitations, ["answer"])
    return occurrences, invitations


def _notes_from_events(conn: Connection, plan_id: str, as_of: dt.date) -> pd.DataFrame:
    t = events_table
    note = t.c.payload["note"].as_string()
    query = sa.select(
        t.c.id, t.c.item, t.c.occurrence, t.c.stage, sa.func.coalesce(_day_number(conn.dialect.name, t.c.effective_date), 0).label("day"), t.c.actor, note.label("note")
    ).where(
        t.c.plan_id == plan_id,
        sa.or_(t.c.effective_date <= as_of, t.c.effective_date.is_(None)),
        t.c.kind == EventKind.OUTCOME.value,
        note.is_not(None),
        note != "",
    )
    return _frame(conn, query, ["id", "day"])


def _count_from_events(conn: Connection, plan_id: str, in_period: tuple[dt.date, dt.date]) -> int:
    t = events_table
    if in_period[0] > in_period[1]:
        return 0
    return int(conn.execute(sa.select(sa.func.count()).where(t.c.plan_id == plan_id, t.c.effective_date.between(*in_period))).scalar_one())


def _packed(dialect: str, event, status, on, *, answer) -> Any:
    """An event packed into one integer (see _ID_SHIFT). Only finished stages and answers (`answer`:
    True, or a condition) need their day."""
    day = sa.func.coalesce(_day_number(dialect, on), 0)
    finished = status.in_([StageStatus.DONE.value, StageStatus.SKIPPED.value])
    if answer is not True:
        day = sa.case((finished if answer is False else sa.or_(answer, finished), day), else_=0)
    return event * _ID_SHIFT + sa.case(_CODES, value=status, else_=15) * _CODE_SHIFT + day


def _day_number(dialect: str, value, *, text: bool = False):
    """The database computes day numbers (1 = 1/1/1900) from dates, or from ISO dates in JSON text."""
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(value) - 2415020.5, sa.Integer) + 1
    return (sa.cast(value, sa.Date) if text else value) - sa.literal(_EPOCH, sa.Date) + 1


_SEPARATOR = "\x1f"  # the unit separator: in no id, and JSON text escapes it
_NULL = -(2**62)


@dataclass(frozen=True)
class _Columnar:
    """A query read column by column (`_columns`): the database joins each column into one text."""

    rows: Any  # the query, as rows
    joined: Any  # count(*), then each column joined
    numbers: tuple[str, ...]
    nullable: tuple[str, ...]
    json_values: tuple[str, ...]

    @classmethod
    def of(cls, dialect: str, query, numbers: Sequence[str] = (), *, nullable: Sequence[str] = (), json_values: Sequence[str] = ()) -> _Columnar:
        """`numbers` are whole numbers; `nullable` texts come back None when NULL or empty;
        `json_values` (JSON texts) come back parsed, None when NULL."""
        rows, joined = query.subquery(), [sa.func.count()]
        for column in rows.c:
            if column.name in numbers:
                number = sa.func.coalesce(column, _NULL)
                joined.append(_join(dialect, number if dialect == "sqlite" else sa.cast(number, sa.Text), ","))
            elif column.name in json_values:
                joined.append(_join(dialect, sa.func.coalesce(column, "null"), ","))
            else:
                joined.append(_join(dialect, sa.func.coalesce(column, ""), _SEPARATOR))
        return cls(query, sa.select(*joined), tuple(numbers), tuple(nullable), tuple(json_values))


def _columns(conn: Connection, query: _Columnar, values: dict[str, Any]) -> pd.DataFrame:
    """Like `_frame`, for many rows: each column comes as one text, split here at once, so that
    100,000 rows make a few Python objects, not a million. Texts holding the separator are read as
    rows instead."""
    count, *texts = conn.execute(query.joined, values).one()
    columns = {}
    for column, text in zip(query.rows.selected_columns, texts):
        if column.name in query.numbers:
            array = np.fromstring(text or "", dtype=np.int64, sep=",")
            if (array == _NULL).any():  # NULL: the numbers stay objects, None among them
                array = np.where(array == _NULL, None, array.astype(object))
        elif column.name in query.json_values:
            array = _objects(json.loads(f"[{text or ''}]"))
        else:
            array = np.array(text.split(_SEPARATOR) if count else [], dtype=object)
            if column.name in query.nullable:
                array[array == ""] = None
        if len(array) != count:
            frame = _frame(conn, query.rows, query.numbers, json_values=query.json_values, values=values)
            for name in query.nullable:
                frame[name] = frame[name].where(frame[name].notna() & (frame[name] != ""), None)
            return frame
        columns[column.name] = array
    return _frame_of(columns)


def _objects(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _frame_of(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame of these arrays as they are (pandas would read text as its string dtype)."""
    return pd.DataFrame({name: pd.Series(values, dtype=values.dtype, copy=False) for name, values in columns.items()})


def _join(dialect: str, value, separator: str):
    if dialect == "sqlite":
        return sa.func.group_concat(value, separator)
    return sa.func.string_agg(value, separator)


def _frame(conn: Connection, query, numbers: Sequence[str] = (), *, json_values: Sequence[str] = (), values: dict[str, Any] | None = None) -> pd.DataFrame:
    """The rows in object columns, the `numbers` in int64 ones unless one is NULL, `json_values` (JSON
    texts) parsed. Plain DBAPI rows: building a frame from SQLAlchemy Row objects, or inferring pandas'
    string dtype, costs more than the query; numpy turns the rows into typed columns in one go."""
    result = conn.execute(query, values or {})
    names, rows = list(result.keys()), result.cursor.fetchall()
    frame = None
    if numbers:
        try:
            array = np.array(rows, dtype=[(name, np.int64 if name in numbers else object) for name in names])
            frame = _frame_of({name: array[name] for name in names})
        except (TypeError, ValueError):
            pass  # a NULL among the numbers
    if frame is None:
        frame = pd.DataFrame(rows, columns=names, dtype=object)
    for name in json_values:
        frame[name] = _parsed(frame[name].to_numpy(dtype=object))
    return frame


def _parsed(texts: np.ndarray) -> np.ndarray:
    """JSON texts (None: NULL) parsed at once."""
    return _objects(json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]"))


def _status_reasons(conn: Connection, ids: list[int]) -> dict[int, str]:
    """The reason recorded with some status events (late blocked stages with no note: a handful)."""
    t, found = events_table, {}
    for begin in range(0, len(ids), 500):
        query = sa.select(t.c.id, t.c.payload["reason"].as_string()).where(t.c.id.in_(ids[begin : begin + 500]))
        found.update((int(i), r) for i, r in conn.execute(query) if r)
    return found


# -- working days, vectorised ---------------------------------------------------------------------


class _Days:
    """`WorkingCalendar` arithmetic on arrays of date ordinals: the calendar's working days from `first`
    to `last` in a sorted array, searched as the calendar bisects its own list. Every day of that span
    has its place in the array looked up once."""

    def __init__(self, calendar: WorkingCalendar, first: int, last: int):
        ordinals = np.arange(first, last + 1, dtype=np.int64)
        working = np.array([calendar.is_working_day(dt.date.fromordinal(int(o))) for o in ordinals], dtype=bool)
        self.working, self.first = ordinals[working], first
        self.up_to = np.cumsum(working)  # working days up to each day of the span, itself included
        self.on = working.astype(np.int64)

    def _position(self, ordinals: np.ndarray, side: str) -> np.ndarray:
        """np.searchsorted(self.working, ordinals, side)."""
        at = ordinals - self.first
        if at.size and (at.min() < 0 or at.max() >= self.up_to.size):
            return np.searchsorted(self.working, ordinals, side=side)
        return self.up_to[at] if side == "right" else self.up_to[at] - self.on[at]

    def add(self, ordinals: np.ndarray, n: np.ndarray) -> np.ndarray:
        """`add_working_days` element-wise; n = 0 is the day itself or the next working day."""
        index = np.where(n > 0, self._position(ordinals, "right") + n - 1, self._position(ordinals, "left") + n)
        if index.size and (index.min() < 0 or index.max() >= self.working.size):
            raise IndexError("the working-day table does not cover these dates")
        return self.working[index]

    def late(self, due: np.ndarray, on: np.ndarray) -> np.ndarray:
        """`working_days_late` element-wise: the working days after `due` up to `on`."""
        counted = self._position(on, "right") - self._position(due, "right")
        return np.where(on > due, counted, 0)


def _dates(ordinals: np.ndarray) -> np.ndarray:
    """`datetime.date` objects, as the rest of Kehoach writes dates (for result rows only): one object
    per distinct day."""
    ordinals = np.asarray(ordinals, dtype=np.int64)
    if not len(ordinals):
        return np.array([], dtype=object)
    first = int(ordinals.min())
    days = np.array([dt.date.fromordinal(o) for o in range(first, int(ordinals.max()) + 1)], dtype=object)
    return days[ordinals - first]


def _ints(values: pd.Series) -> np.ndarray:
    """Whole numbers from an object column of ints (None: 0)."""
    array = values.to_numpy(dtype=object)
    try:
        return array.astype(np.int64)
    except TypeError:  # None among them
        return np.where(pd.isna(array), 0, array).astype(np.int64)


# -- the plan as lookup tables ----------------------------------------------------------------------


@dataclass
class _PlanTables:
    items: pd.DataFrame  # one row per item, in plan order (row = item position)
    offsets: np.ndarray  # [item, 0 own window | 1 an occurrence, stage] -> (anchor code, working days)
    occurrences: pd.DataFrame  # the plan's own occurrences (main, months): item, occurrence, start, end


def _plan_tables(plan: Plan, as_of: dt.date) -> _PlanTables:
    names = {p.id: (getattr(p, "short_name", None) or p.name) for p in (*plan.units, *plan.bodies, plan.directors, plan.department)}
    rows, occurrences = [], []
    months: dict[tuple[dt.date, dt.date], list] = {}  # monthly items with the same window share their months
    for position, item in enumerate(plan.items):
        rows.append(
            (
                item.number,
                item.id,
                item.short_title,
                item.title,
                item.kind.value,
                window_text(plan, item),
                names.get(item.lead, item.lead),
                ", ".join(names.get(u, u) for u in item.coordinating),
                item.lead,
                tuple(item.coordinating),
            )
        )
        span = item_span(plan, item)
        if span is None:
            continue
        if item.recurrence:
            if span not in months:
                months[span] = [(o.id, o.start.toordinal(), o.end.toordinal()) for o in item_occurrences(plan, item, [], as_of)]
            occurrences += [(position, *month) for month in months[span]]
        else:
            occurrences.append((position, MAIN, span[0].toordinal(), span[1].toordinal()))
    items = pd.DataFrame(rows, columns=["number", "id", "short_title", "title", "kind", "window", "lead", "coordinating", "lead_id", "coordinating_ids"])
    items["kind"] = items["kind"].astype(KIND_DTYPE)
    occ = pd.DataFrame(occurrences, columns=["item", "occurrence", "start", "end"]).astype({"occurrence": object})
    return _PlanTables(items, _offset_table(plan), occ)


def _offset_table(plan: Plan) -> np.ndarray:
    """[item, 0 own window | 1 an occurrence, stage] -> (anchor code, working days): `Plan.offset` for
    every item at once, each distinct offset read once (tests/reports check it against Plan.offset)."""
    names = [s.value for s in STAGES]
    defaults = [getattr(plan.stage_defaults, n) for n in names]
    offsets = []  # item by item: its own window's stages, then an occurrence's
    for item in plan.items:
        own = [getattr(item.stages, n) or d for n, d in zip(names, defaults)]
        # An occurrence: its own offsets, else the plan's defaults, but a request keeps the item's.
        fallback = own if item.kind is ItemKind.ON_REQUEST else defaults
        given = item.occurrence_stages
        offsets += own
        offsets += fallback if given is None else [getattr(given, n) or f for n, f in zip(names, fallback)]
    if not offsets:
        return np.zeros((0, 2, len(STAGES), 2), dtype=np.int64)
    _, first, inverse = np.unique(np.fromiter(map(id, offsets), dtype=np.int64, count=len(offsets)), return_index=True, return_inverse=True)
    distinct = [offsets[i] for i in first]  # None: the rules make sure there is one
    anchors = pd.Index(list(_ANCHORS), dtype=object).get_indexer([Anchor.ISSUED if o is None else o.anchor for o in distinct])
    codes = np.stack([np.array(list(_ANCHORS.values()), dtype=np.int64)[anchors], np.array([0 if o is None else o.working_days for o in distinct], dtype=np.int64)], axis=1)
    return codes[inverse.ravel()].reshape(len(plan.items), 2, len(STAGES), 2)


# -- building the tables -------------------------------------------------------------------------


class _OccurrenceKeys:
    """(item position, occurrence name) pairs as integers that compare equal when the pairs do: item
    position × number of names + name code, the names of several columns coded all at once; -1 when
    the item is unknown."""

    def __init__(self, *pairs: tuple[np.ndarray, pd.Series]):
        names = [occurrences.to_numpy(dtype=object) for _, occurrences in pairs]
        codes, uniques = pd.factorize(np.concatenate(names))
        self.names = pd.Index(uniques, dtype=object)
        self.size, self.keys, begin = max(len(self.names), 1), [], 0
        for (items, _), column in zip(pairs, names):
            code = codes[begin : begin + len(column)]
            begin += len(column)
            self.keys.append(np.where((items >= 0) & (code >= 0), items * self.size + code, -1))

    def named(self, keys: np.ndarray, name: str) -> np.ndarray:
        """Which keys (all known) are of an occurrence with this name."""
        code = self.names.get_loc(name) if name in self.names else -1
        return keys % self.size == code


@dataclass
class _Views:
    """Every stage of every known occurrence (arrays shaped occurrences × stages), as item_status sees them."""

    occ: pd.DataFrame  # item (position), occurrence, start, end, main, key
    due: np.ndarray
    code: np.ndarray  # position in StageStatus
    status_id: np.ndarray  # id of the latest status event, 0 when none
    finished: np.ndarray
    finished_on: np.ndarray  # ordinal, 0 when not finished or undated
    late: np.ndarray  # working days late: open stages on as_of, finished ones when they finished
    overdue: np.ndarray
    severity: np.ndarray  # 1 on track, 2 at risk, 3 off track: positions in RAG_ORDER


def _build(
    plan: Plan,
    period: ReportingPeriod,
    as_of: dt.date,
    window: tuple[dt.date, dt.date],
    in_period: tuple[dt.date, dt.date],
    raw: _Raw,
    status_reasons: Callable[[list[int]], dict[int, str]],
    tables: _PlanTables | None = None,
) -> ReportData:
    tables = tables or _plan_tables(plan, as_of)
    items = tables.items
    item_ids = pd.Index(items["id"])
    start, end = in_period[0].toordinal(), in_period[1].toordinal()

    states, invitations, noted = raw.occurrences, raw.invitations, raw.notes
    states_item, invitations_item, notes_item = (item_ids.get_indexer(frame["item"].to_numpy(dtype=object)) for frame in (states, invitations, noted))
    keys = _OccurrenceKeys(
        (tables.occurrences["item"].to_numpy(), tables.occurrences["occurrence"]),
        (states_item, states["occurrence"]),
        (invitations_item, invitations["occurrence"]),
        (notes_item, noted["occurrence"]),
    )
    own_key, states_key, invitations_key, notes_key = keys.keys

    # Occurrences as item_occurrences lists them: the plan's, then the sessions and requests opened by
    # as_of, in the order they were opened.
    opened, opened_start, opened_end = (states[c].to_numpy(dtype=np.int64) for c in ("opened", "start", "end"))
    recorded = np.flatnonzero((states_key >= 0) & (opened > 0))
    recorded = recorded[np.argsort(opened[recorded], kind="stable")]
    recorded_start = opened_start[recorded] + _DAY0
    occ = pd.concat(
        [
            tables.occurrences.assign(key=own_key),
            pd.DataFrame(
                {
                    "item": states_item[recorded],
                    "occurrence": states["occurrence"].to_numpy(dtype=object)[recorded],
                    "start": recorded_start,
                    "end": np.where(opened_end[recorded] > 0, opened_end[recorded] + _DAY0, recorded_start),
                    "key": states_key[recorded],
                }
            ),
        ],
        ignore_index=True,
    )
    occ = occ.drop_duplicates("key", ignore_index=True)  # the plan's own occurrence wins over one recorded
    occ["main"] = keys.named(occ["key"].to_numpy(), MAIN)
    occ_index = pd.Index(occ["key"])

    packed = np.full((len(occ), len(STAGES)), -1, dtype=np.int64)
    rows = occ_index.get_indexer(states_key)
    found = rows >= 0
    packed[rows[found]] = states[[s.value for s in STAGES]].to_numpy(dtype=np.int64)[found]
    views = _views(plan, tables, occ, packed, as_of)

    # Per item: counts and RAG, the worst stage (done when every stage of every occurrence is finished).
    n_items, occ_item = len(items), occ["item"].to_numpy(dtype=np.int64)

    def per_item(values) -> np.ndarray:
        return np.bincount(occ_item, weights=values, minlength=n_items).astype(np.int64)

    done_in_period = views.finished & (views.finished_on >= start) & (views.finished_on <= end)
    stages_total = per_item(np.full(len(occ), len(STAGES)))
    stages_done = per_item(views.finished.sum(axis=1))
    stages_done_in_period = per_item(done_in_period.sum(axis=1))
    stages_overdue = per_item(views.overdue.sum(axis=1))
    worst = np.ones(n_items, dtype=np.int64)
    np.maximum.at(worst, occ_item, views.severity.max(axis=1, initial=1))
    rag = np.where((stages_total > 0) & (stages_done == stages_total), 0, worst)

    item_table = items[["number", "id", "short_title", "title", "kind", "window", "lead", "coordinating"]].copy()
    item_table["rag"] = pd.Categorical.from_codes(rag, dtype=RAG_DTYPE)
    item_table["rag_label"] = np.array([RAG_LABELS[r] for r in RAG_ORDER], dtype=object)[rag]
    item_table["occurrences"] = per_item(np.ones(len(occ)))
    item_table["stages_total"] = stages_total
    item_table["stages_done"] = stages_done
    item_table["stages_done_in_period"] = stages_done_in_period
    item_table["stages_overdue"] = stages_overdue

    notes = pd.DataFrame(
        {
            "id": noted["id"].to_numpy(dtype=np.int64),
            "item": notes_item,
            "key": notes_key,
            "stage": pd.Categorical(noted["stage"].to_numpy(dtype=object), dtype=STAGE_DTYPE).codes,
            "on": _ints(noted["day"]) + _DAY0,
            "actor": noted["actor"].to_numpy(dtype=object),
            "note": noted["note"].to_numpy(dtype=object),
        }
    )
    # Outcomes without indicators add nothing.
    given = states["indicators"].to_numpy(dtype=object)
    executed = np.flatnonzero((states["outcome"].to_numpy(dtype=np.int64) > 0) & (states_item >= 0) & pd.notna(given))
    indicators, totals = _indicators(plan, items, given[executed].tolist(), states_item[executed])

    invitation_rows = occ_index.get_indexer(invitations_key)
    return ReportData(
        plan=plan,
        period=period,
        as_of=as_of,
        window=window,
        events_in_period=raw.events_in_period,
        items=item_table[ITEM_COLUMNS].reset_index(drop=True),
        indicators=indicators,
        indicator_totals=totals,
        units=_units(plan, items, stages_done_in_period, stages_overdue),
        late=_late(items, views, notes, status_reasons),
        counterparts=_counterparts(plan, items, invitations, invitations_item, invitation_rows, start, end),
        notes=_notes(items, notes, start, end),
    )


def _views(plan: Plan, tables: _PlanTables, occ: pd.DataFrame, packed: np.ndarray, as_of: dt.date) -> _Views:
    n_occ, n_stages = len(occ), len(STAGES)
    item = occ["item"].to_numpy(dtype=np.int64)
    variant = np.where(occ["main"].to_numpy(), 0, 1)
    anchor = tables.offsets[item, variant, :, 0]
    working_days = tables.offsets[item, variant, :, 1]
    anchors = np.stack([occ["start"].to_numpy(np.int64), occ["end"].to_numpy(np.int64), np.full(n_occ, plan.document.issued_on.toordinal())], axis=1)
    anchor_date = np.take_along_axis(anchors, anchor, axis=1)

    # Each stage's latest status (packed, -1 for a stage with no status event: not started), unpacked.
    seen = packed >= 0
    code = np.where(seen, (packed // _CODE_SHIFT) % 16, _NOT_STARTED)
    code = np.where(code < len(STAGE_STATUSES), code, _NOT_STARTED)
    finished = (code == _DONE) | (code == _SKIPPED)
    day = np.where(seen, packed % _CODE_SHIFT, 0)
    finished_on = np.where(finished & (day > 0), day + _DAY0, 0)

    as_of_ord = as_of.toordinal()
    dates = np.concatenate([anchor_date.ravel(), finished_on.ravel(), [as_of_ord]])
    # 250 working days (the largest offset a plan may use) span about a year: twice the offset in
    # calendar days, and a margin, cover any run of holidays.
    margin = 2 * int(np.abs(tables.offsets[..., 1]).max(initial=0)) + 60
    days = _Days(working_calendar(plan), int(dates[dates > 0].min()) - margin, int(dates.max()) + margin)
    due = days.add(anchor_date.ravel(), working_days.ravel()).reshape(n_occ, n_stages)
    late = days.late(due, np.where(finished_on > 0, finished_on, as_of_ord))
    overdue = ~finished & (late > 0)

    # plan.progress._rag stage by stage: blocked, or overdue beyond the policy, is off track; overdue,
    # or not started though due within a few working days, is at risk.
    policy = plan.policy
    due_soon = (code == _NOT_STARTED) & (due >= as_of_ord) & (days.late(np.full_like(due, as_of_ord), due) <= policy.due_soon_working_days)
    severity = np.select(
        [code == _BLOCKED, overdue & (late > policy.off_track_after_working_days), overdue, due_soon], [3, 3, 2, 2], default=1
    )
    return _Views(occ, due, code, np.where(seen, packed // _ID_SHIFT, 0), finished, finished_on, late, overdue, severity)


def _late(items: pd.DataFrame, views: _Views, notes: pd.DataFrame, status_reasons: Callable[[list[int]], dict[int, str]]) -> pd.DataFrame:
    """Stages not finished and past due on as_of, with the reason people gave."""
    occ = views.occ
    row, stage = np.nonzero(views.overdue)
    item = occ["item"].to_numpy(dtype=np.int64)[row]
    table = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[item],
            "short_title": items["short_title"].to_numpy(dtype=object)[item],
            "occurrence": occ["occurrence"].to_numpy(dtype=object)[row],  # the ledger's id: main, 2023-05, 2023-08-01-dsq-singapore
            "stage": pd.Categorical.from_codes(stage, dtype=STAGE_DTYPE),
            "stage_label": np.array([STAGE_LABELS[s] for s in STAGES], dtype=object)[stage],
            "due": _dates(views.due[row, stage]),
            "working_days_late": views.late[row, stage].astype(np.int64),
            "lead": items["lead"].to_numpy(dtype=object)[item],
            "reason": _reasons(occ["key"].to_numpy()[row], stage, notes),
        }
    )
    # A blocked stage with no note: the reason recorded with its status, if any (read for those few).
    blocked = (views.code[row, stage] == _BLOCKED) & (table["reason"] == "").to_numpy()
    if blocked.any():
        ids = views.status_id[row, stage][blocked]
        recorded = status_reasons(sorted({int(i) for i in ids}))
        table.loc[blocked, "reason"] = [recorded.get(int(i), "") for i in ids]
    order = np.lexsort((stage, views.due[row, stage], table["item_number"].to_numpy()))
    return table.iloc[order][LATE_COLUMNS].reset_index(drop=True)


def _reasons(keys: np.ndarray, stages: np.ndarray, notes: pd.DataFrame) -> np.ndarray:
    """The latest note on the late stage, else the latest on its occurrence, else ''."""
    reason = np.full(len(keys), "", dtype=object)
    if not len(keys) or notes.empty:
        return reason
    ordered = notes.sort_values("id")
    n = len(STAGES)
    staged = ordered[ordered["stage"] >= 0]
    by_stage = pd.Series(staged["note"].to_numpy(), index=staged["key"].to_numpy() * n + staged["stage"].to_numpy())
    by_stage = by_stage[~by_stage.index.duplicated(keep="last")]
    by_occurrence = pd.Series(ordered["note"].to_numpy(), index=ordered["key"].to_numpy())
    by_occurrence = by_occurrence[~by_occurrence.index.duplicated(keep="last")]
    for lookup, wanted in ((by_occurrence, keys), (by_stage, keys * n + stages)):  # the stage's own note wins
        at = lookup.index.get_indexer(wanted)
        reason[at >= 0] = lookup.to_numpy()[at[at >= 0]]
    return reason


def _indicators(plan: Plan, items: pd.DataFrame, given: list, item: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The indicators of each occurrence's latest execution outcome in the window (`indicators` objects,
    with their items' positions) summed per item, and over all items."""
    catalogue = plan.indicators
    values = _indicator_values(given, [i.id for i in catalogue])
    counted = ~np.isnan(values)
    sums = np.zeros((len(items), len(catalogue)))
    given = np.zeros((len(items), len(catalogue)), dtype=np.int64)
    for n in range(len(catalogue)):
        sums[:, n] = np.bincount(item[counted[:, n]], weights=values[counted[:, n], n], minlength=len(items))
        given[:, n] = np.bincount(item[counted[:, n]], minlength=len(items))
    row, column = np.nonzero(given)  # item order, then catalogue order
    per_item = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[row],
            "indicator": np.array([i.id for i in catalogue], dtype=object)[column],
            "label": np.array([i.label for i in catalogue], dtype=object)[column],
            "unit": np.array([i.unit for i in catalogue], dtype=object)[column],
            "value": sums[row, column].astype(np.int64),
        }
    )
    totals = pd.DataFrame(
        {
            "indicator": pd.Series([i.id for i in catalogue], dtype=object),
            "label": pd.Series([i.label for i in catalogue], dtype=object),
            "unit": pd.Series([i.unit for i in catalogue], dtype=object),
            "value": sums.sum(axis=0).astype(np.int64),
            "items": (given > 0).sum(axis=0).astype(np.int64),
        }
    )
    return per_item[INDICATOR_COLUMNS], totals[INDICATOR_TOTAL_COLUMNS]


def _indicator_values(given: list, catalogue: list[str]) -> np.ndarray:
    """The `indicators` objects (parsed JSON) as a matrix rows × catalogue, NaN where not given; whole
    numbers only, as item_status counts."""
    if not given:
        return np.zeros((0, len(catalogue)))
    records = [p if isinstance(p, dict) else {} for p in given]
    values = pd.DataFrame.from_records(records, columns=catalogue).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return np.where(values == np.floor(values), values, np.nan)


def _units(plan: Plan, items: pd.DataFrame, done_in_period: np.ndarray, overdue: np.ndarray) -> pd.DataFrame:
    """Per unit: the items it leads and coordinates (plan); its led items' stages done in the period and overdue."""
    units = pd.DataFrame({"unit": [u.id for u in plan.units], "short_name": [u.short_name for u in plan.units], "name": [u.name for u in plan.units]}, dtype=object)
    index = pd.Index(units["unit"])
    lead = index.get_indexer(items["lead_id"])
    led = lead >= 0
    units["items_led"] = np.bincount(lead[led], minlength=len(units))
    coordinating = index.get_indexer(items["coordinating_ids"].explode().dropna())
    units["items_coordinated"] = np.bincount(coordinating[coordinating >= 0], minlength=len(units))
    units["stages_done"] = np.bincount(lead[led], weights=done_in_period[led], minlength=len(units)).astype(np.int64)
    units["stages_overdue"] = np.bincount(lead[led], weights=overdue[led], minlength=len(units)).astype(np.int64)
    return units[UNIT_COLUMNS]


def _counterparts(plan: Plan, items: pd.DataFrame, answers: pd.DataFrame, item: np.ndarray, occurrence_row: np.ndarray, start: int, end: int) -> pd.DataFrame:
    """Per counterpart, by latest answer on as_of: the invitations of known occurrences whose latest
    answer is dated in the period, and those still awaiting one, whenever they were sent. `item` and
    `occurrence_row` place each invitation in the plan's items and the known occurrences (-1: not)."""
    packed = answers["answer"].to_numpy(dtype=np.int64)
    answer = (packed // _CODE_SHIFT) % 16 - 8
    on = np.where(packed % _CODE_SHIFT > 0, packed % _CODE_SHIFT + _DAY0, 0)
    sent = np.isin(answer, [ANSWERS.index(a) for a in (CoordinationStatus.INVITED, *ANSWERED)])
    chosen = (occurrence_row >= 0) & (item >= 0) & (packed >= 0) & sent & (((on >= start) & (on <= end)) | (answer == _INVITED))
    code, found = pd.factorize(answers["counterpart"].to_numpy(dtype=object)[chosen])
    number, answer = items["number"].to_numpy(dtype=np.int64)[item[chosen]], answer[chosen]

    known = {c.id: c for c in plan.counterparts}
    order = {c.id: n for n, c in enumerate(plan.counterparts)}
    ranked = sorted(range(len(found)), key=lambda n: (order.get(found[n], len(order)), found[n]))
    ids = [found[n] for n in ranked]
    counts = np.zeros((len(found), len(ANSWERS)), dtype=np.int64)
    np.add.at(counts, (code, answer), 1)
    pairs = np.unique(code.astype(np.int64) * (int(number.max(initial=0)) + 1) + number)  # by counterpart, then item number
    pair_code, pair_number = np.divmod(pairs, int(number.max(initial=0)) + 1)
    listed = {n: ", ".join(map(str, pair_number[pair_code == n].tolist())) for n in range(len(found))}
    result = pd.DataFrame(
        {
            "counterpart": pd.Series(ids, dtype=object),
            "name": pd.Series([(known[c].short_name or known[c].name) if c in known else c for c in ids], dtype=object),
            "kind": pd.Categorical([known[c].kind.value if c in known else None for c in ids], dtype=COUNTERPART_KIND_DTYPE),
            "items": pd.Series([listed[n] for n in ranked], dtype=object),
        }
    )
    for column, status in (("confirmed", CoordinationStatus.CONFIRMED), ("declined", CoordinationStatus.DECLINED), ("no_answer", CoordinationStatus.NO_ANSWER), ("awaiting", CoordinationStatus.INVITED)):
        result[column] = counts[ranked, ANSWERS.index(status)] if ranked else np.zeros(0, dtype=np.int64)
    return result[COUNTERPART_COLUMNS]


def _notes(items: pd.DataFrame, notes: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """Outcome notes dated inside the period, by date."""
    chosen = notes[(notes["on"] >= start) & (notes["on"] <= end) & (notes["item"] >= 0) & (notes["stage"] >= 0)].copy()
    chosen["item_number"] = items["number"].to_numpy()[chosen["item"].to_numpy(dtype=np.int64)]
    chosen = chosen.sort_values(["on", "item_number", "id"], kind="stable")
    stage = chosen["stage"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "item_number": chosen["item_number"].to_numpy(dtype=np.int64),
            "stage": pd.Categorical.from_codes(stage, dtype=STAGE_DTYPE),
            "stage_label": np.array([STAGE_LABELS[s] for s in STAGES], dtype=object)[stage],
            "date": _dates(chosen["on"].to_numpy()),
            "actor": chosen["actor"].to_numpy(dtype=object),
            "text": chosen["note"].to_numpy(dtype=object),
        }
    )[NOTE_COLUMNS]

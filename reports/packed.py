"""Statuses and dates as the database hands them to pandas: day numbers, and each stage's or
invitation's latest event packed into one integer.

`reports.ledger_reads` has the database compute them (`packed_event`, `day_number`);
`reports.tables` takes them apart with the shifts below.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from plan.events import CoordinationStatus, StageStatus

STAGE_STATUSES = list(StageStatus)
ANSWERS = list(CoordinationStatus)

# Status codes packed with an event (below): a stage's lifecycle, then an invitation's.
_CODES = {s.value: i for i, s in enumerate(STAGE_STATUSES)} | {s.value: 8 + i for i, s in enumerate(ANSWERS)}
# The database tries them in this order: the usual latest statuses first.
_CODES = {s.value: _CODES[s.value] for s in (StageStatus.DONE, StageStatus.IN_PROGRESS, CoordinationStatus.CONFIRMED, StageStatus.SKIPPED)} | _CODES

# "The latest event" in SQL without joining back: each event is packed into one integer ordered by
# its id and carrying its status code and date, so MAX() over a group gives the latest event and
# what it says: id · 2^21 + code · 2^17 + day.
ID_SHIFT, CODE_SHIFT = 1 << 21, 1 << 17
# Dates travel as day numbers: 1 is 1/1/1900, 0 is no date; 17 bits reach 2258.
EPOCH = dt.date(1900, 1, 1)
DAY0 = EPOCH.toordinal() - 1  # ordinal = day number + DAY0


def packed_event(dialect: str, event, status, on, *, answer) -> Any:
    """An event packed into one integer (see ID_SHIFT). Only finished stages and answers (`answer`:
    True, or a condition) need their day."""
    day: sa.ColumnElement[Any] = sa.func.coalesce(day_number(dialect, on), 0)
    finished = status.in_([StageStatus.DONE.value, StageStatus.SKIPPED.value])
    if answer is not True:
        day = sa.case((finished if answer is False else sa.or_(answer, finished), day), else_=0)
    return event * ID_SHIFT + sa.case(_CODES, value=status, else_=15) * CODE_SHIFT + day


def day_number(dialect: str, value, *, text: bool = False):
    """The database computes day numbers (1 = 1/1/1900) from dates, or from ISO dates in JSON text."""
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(value) - 2415020.5, sa.Integer) + 1
    return (sa.cast(value, sa.Date) if text else value) - sa.literal(EPOCH, sa.Date) + 1

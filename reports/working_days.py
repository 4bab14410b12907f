"""Vietnamese working days on arrays of date ordinals: `WorkingCalendar`'s arithmetic, vectorised, and
the ordinals back to `datetime.date` objects for result rows."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np

from plan.calendar import WorkingCalendar


class WorkingDays:
    """`WorkingCalendar` arithmetic on arrays of date ordinals: the calendar's working days from `first`
    to `last` in a sorted array, searched as the calendar bisects its own list. Every day of that span
    has its place in the array looked up once."""

    def __init__(self, calendar: WorkingCalendar, first: int, last: int):
        ordinals = np.arange(first, last + 1, dtype=np.int64)
        working = np.array([calendar.is_working_day(dt.date.fromordinal(int(o))) for o in ordinals], dtype=bool)
        self.working, self.first = ordinals[working], first
        self.up_to = np.cumsum(working)  # working days up to each day of the span, itself included
        self.on = working.astype(np.int64)

    def _position(self, ordinals: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
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


def date_objects(ordinals: np.ndarray) -> np.ndarray:
    """`datetime.date` objects, as the rest of Kehoach writes dates (for result rows only): one object
    per distinct day."""
    ordinals = np.asarray(ordinals, dtype=np.int64)
    if not len(ordinals):
        return np.array([], dtype=object)
    first = int(ordinals.min())
    days = np.array([dt.date.fromordinal(o) for o in range(first, int(ordinals.max()) + 1)], dtype=object)
    return days[ordinals - first]

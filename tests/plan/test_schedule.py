"""Stage ordering decided without the holiday calendar agrees with the calendar, always."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings, strategies as st

from plan.calendar import WorkingCalendar
from plan.schedule import add_weekdays, surely_in_order

CALENDAR = WorkingCalendar()
dates = st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2025, 12, 31))
offsets = st.integers(min_value=-250, max_value=250)


def _by_hand(d: dt.date, n: int) -> dt.date:
    if n == 0:
        while d.weekday() >= 5:
            d += dt.timedelta(days=1)
        return d
    step = dt.timedelta(days=1 if n > 0 else -1)
    left = abs(n)
    while left:
        d += step
        if d.weekday() < 5:
            left -= 1
    return d


@given(dates, offsets)
def test_adding_weekdays_matches_counting_them_one_by_one(d, n):
    assert add_weekdays(d, n) == _by_hand(d, n)


@settings(max_examples=2000, deadline=None)
@given(dates, offsets, dates, offsets)
def test_surely_in_order_is_never_wrong_about_the_real_calendar(a1, n1, a2, n2):
    if surely_in_order(a1, n1, a2, n2):
        assert CALENDAR.add_working_days(a1, n1) <= CALENDAR.add_working_days(a2, n2)


def test_close_pairs_are_left_to_the_calendar():
    # Across Tết 2023 a week of holidays decides the order: weekdays alone cannot tell.
    assert not surely_in_order(dt.date(2023, 1, 16), 5, dt.date(2023, 1, 23), 0)
    assert surely_in_order(dt.date(2023, 5, 1), 20, dt.date(2023, 12, 31), -10)


def test_plan_check_of_the_2023_plan_needs_no_holiday_table():
    import subprocess
    import sys

    code = "import sys; from plan.load import load_plan; assert load_plan().ok; print('holidays' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"

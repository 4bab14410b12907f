"""The charts as drawn (matplotlib artists, before the PNG): Figure 1 marks every session or request
at its date, even of an item that has nothing else to show, and names each item in full."""

from __future__ import annotations

import dataclasses
import datetime as dt

import matplotlib.dates as mdates
import pandas as pd
import pytest
from test_document import make_data

from reports.charts import HELD_COLOUR, gantt_figure, render_charts
from reports.data import SESSION_COLUMNS

SESSIONS = [  # item 8 (on request): two events, the second not held yet; item 3: a two-day session
    (8, "2023-05-12-dsq-phap", dt.date(2023, 5, 12), dt.date(2023, 5, 12), True),
    (3, "2023-05-10", dt.date(2023, 5, 10), dt.date(2023, 5, 11), True),
    (8, "2023-06-16-dsq-canada", dt.date(2023, 6, 16), dt.date(2023, 6, 16), False),
]


@pytest.fixture(scope="module", name="data")
def fixture_data(plan):
    return dataclasses.replace(make_data(plan), sessions=pd.DataFrame(SESSIONS, columns=SESSION_COLUMNS))


def _markers(figure, number: int) -> list[tuple[dt.date, float, bool]]:
    """Item `number`'s session markers as (date, row, filled)."""
    ax = figure.axes[0]
    found = []
    for line in ax.get_lines():
        if line.get_gid() == f"session-{number}":
            (x,), (y,) = line.get_xdata(), line.get_ydata()
            found.append((mdates.num2date(x).date(), y, line.get_markerfacecolor() != "white"))
    return found


def test_an_on_request_item_shows_each_session_at_its_date(data):
    figure = gantt_figure(data)
    row = [item.number for item in data.plan.items].index(8)
    assert _markers(figure, 8) == [(dt.date(2023, 5, 12), row, True), (dt.date(2023, 6, 16), row, False)]
    assert [(d, filled) for d, _, filled in _markers(figure, 3)] == [(dt.date(2023, 5, 10), True)]
    # the "nothing happened" wording is not drawn over them
    assert not any("theo yêu cầu" in t.get_text() for t in figure.axes[0].texts)
    assert all(line.get_markeredgecolor() == HELD_COLOUR for line in figure.axes[0].get_lines() if (line.get_gid() or "").startswith("session-"))


def test_an_on_request_item_without_sessions_says_so(plan):
    figure = gantt_figure(make_data(plan))
    assert _markers(figure, 8) == []
    assert any(t.get_text() == "theo yêu cầu, chưa phát sinh" for t in figure.axes[0].texts)


def test_item_labels_are_whole_short_titles(data):
    figure = gantt_figure(data)
    shown = [" ".join(label.get_text().split()) for label in figure.axes[0].get_yticklabels()]
    assert shown == [f"{item.number}. {item.short_title}" for item in data.plan.items]
    assert not any("…" in label for label in shown)
    assert max(label.get_text().count("\n") for label in figure.axes[0].get_yticklabels()) == 1  # long ones on two lines


def test_both_charts_render_with_sessions(data, tmp_path):
    paths = render_charts(data, tmp_path)
    assert [p.exists() and p.stat().st_size > 0 for p in paths] == [True, True]

"""The one place that writes dates, windows and names the way a Vietnamese office reads them."""

from __future__ import annotations

import datetime as dt

from plan.model import AllYearWindow, ExpectedWindow, Item, OnRequestWindow, Plan


def short_date(d: dt.date) -> str:
    """27/04/2023"""
    return f"{d:%d/%m/%Y}"


def long_date(d: dt.date) -> str:
    """ngày 27 tháng 04 năm 2023 — Decree 30/2020 pads days below 10 and months 1 and 2 with a 0."""
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def place_and_date(place: str, d: dt.date) -> str:
    """Hà Nội, ngày 27 tháng 4 năm 2023"""
    return f"{place}, {long_date(d)}"


def window_text(plan: Plan, item: Item) -> str:
    window = item.window
    if isinstance(window, AllYearWindow):
        return window.wording or f"cả năm {plan.year}"
    if isinstance(window, OnRequestWindow):
        return window.wording or "theo yêu cầu"
    span = short_date(window.start) if window.start == window.end else f"{window.start:%d/%m}–{short_date(window.end)}"
    if isinstance(window, ExpectedWindow):
        return f"{window.wording} ({span}, tạm tính)"
    return span


def counterpart_label(plan: Plan, counterpart_id: str) -> str:
    counterpart = plan.counterpart(counterpart_id)
    return counterpart.short_name or counterpart.name

"""Working-day arithmetic for Vietnamese state agencies and the reporting periods of
Decree 09/2019/NĐ-CP (data windows and sending deadlines)."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

_SATURDAY = 5


def _day(d: date) -> date:
    # datetime is a subclass of date but never compares equal to one, so override tables
    # keyed by datetimes would silently miss.
    return d.date() if isinstance(d, datetime) else d


class WorkingCalendar:
    """Vietnamese state-agency working days: Monday–Friday, minus public holidays from the
    `holidays` package (country VN, language "vi", observed days included), with an override table."""

    def __init__(
        self,
        extra_days_off: Mapping[date, str] | None = None,
        extra_working_days: Mapping[date, str] | None = None,
    ) -> None:
        self._extra_off = {_day(d): unicodedata.normalize("NFC", n) for d, n in (extra_days_off or {}).items()}
        self._extra_work = {_day(d): unicodedata.normalize("NFC", n) for d, n in (extra_working_days or {}).items()}
        # Years are loaded lazily as one contiguous range so that a single sorted list of
        # working-day ordinals answers every query by bisection (fast for bulk scheduling).
        self._years: tuple[int, int] | None = None  # the first and last year loaded
        self._names: dict[date, str] = {}
        self._working: list[int] = []
        self._working_set: set[int] = set()

    # -- loading ------------------------------------------------------------------------------

    def _ensure(self, year: int) -> tuple[int, int]:
        """Load `year` (and any years between it and those loaded); return the first and last year loaded."""
        if self._years is not None and self._years[0] <= year <= self._years[1]:
            return self._years
        first = year if self._years is None else min(year, self._years[0])
        last = year if self._years is None else max(year, self._years[1])
        years = range(first, last + 1)
        import holidays  # ~80 ms to import: only when a date actually needs the holiday table

        official = holidays.country_holidays("VN", years=years, language="vi", observed=True)
        names = {d: unicodedata.normalize("NFC", n) for d, n in official.items()}
        names.update((d, n) for d, n in self._extra_off.items() if d.year in years)
        working = []
        for ordinal in range(date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal() + 1):
            d = date.fromordinal(ordinal)
            if d in self._extra_work or (d.weekday() < _SATURDAY and d not in names):
                working.append(ordinal)
        self._years = first, last
        self._names, self._working, self._working_set = names, working, set(working)
        return first, last

    # -- queries ------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        d = _day(d)
        self._ensure(d.year)
        return d.toordinal() in self._working_set

    def holiday_name(self, d: date) -> str | None:
        d = _day(d)
        if d in self._extra_work:  # a swapped working day is not a holiday, whatever it replaced
            return None
        self._ensure(d.year)
        return self._names.get(d)

    def next_working_day(self, d: date) -> date:
        # Civil Code art. 148: a period ending on a rest day ends on the next working day.
        return _day(d) if self.is_working_day(d) else self.add_working_days(d, 1)

    def add_working_days(self, d: date, n: int) -> date:
        if n == 0:
            return self.next_working_day(d)
        d = _day(d)
        first, last = self._ensure(d.year)
        ordinal = d.toordinal()
        while True:
            # Civil Code art. 147: the starting day itself is never counted.
            if n > 0:
                i = bisect_right(self._working, ordinal) + n - 1
                if i < len(self._working):
                    return date.fromordinal(self._working[i])
                first, last = self._ensure(last + 1)
            else:
                i = bisect_left(self._working, ordinal) + n
                if i >= 0:
                    return date.fromordinal(self._working[i])
                first, last = self._ensure(first - 1)

    def working_days_late(self, due: date, as_of: date) -> int:
        due, as_of = _day(due), _day(as_of)
        if as_of <= due:
            return 0
        self._ensure(due.year)
        self._ensure(as_of.year)
        return bisect_right(self._working, as_of.toordinal()) - bisect_right(self._working, due.toordinal())


# -- reporting periods (Decree 09/2019/NĐ-CP, Art. 12) ----------------------------------------------


class PeriodKind(StrEnum):
    """Periodic report kinds of Decree 09/2019 Art. 12 (nine-month ones are used by provinces)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SIX_MONTH = "six_month"
    NINE_MONTH = "nine_month"
    ANNUAL = "annual"


_ACCEPTED_FORMS = (
    "YYYY-MM (tháng, ví dụ 2023-05), YYYY-Qn (quý 1–4, ví dụ 2023-Q3), "
    "YYYY-H1 (6 tháng đầu năm), YYYY-9M (9 tháng đầu năm), YYYY (năm, ví dụ 2023)"
)
_PERIOD_ID = re.compile(r"([1-9][0-9]{3})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|(H1)|(9M)))?")
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
# Half-year and nine-month reports end in the sixth and ninth month (Art. 12).
_LAST_MONTH = {PeriodKind.SIX_MONTH: 6, PeriodKind.NINE_MONTH: 9, PeriodKind.ANNUAL: 12}


@dataclass(frozen=True, order=True)
class ReportingPeriod:
    """One periodic report: its id ("2023-Q3"), Vietnamese label, data window and deadline."""

    kind: PeriodKind
    year: int
    index: int | None = None  # month 1–12 for monthly, quarter 1–4 for quarterly, None otherwise

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", PeriodKind(self.kind))
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"Năm của kỳ báo cáo phải có 4 chữ số, nhận được {self.year}")
        limit = {PeriodKind.MONTHLY: 12, PeriodKind.QUARTERLY: 4}.get(self.kind)
        if limit is None and self.index is not None:
            raise ValueError(f"Kỳ báo cáo loại {self.kind} không có số thứ tự tháng/quý, nhận được {self.index}")
        if limit is not None and (self.index is None or not 1 <= self.index <= limit):
            unit = "tháng (1–12)" if self.kind is PeriodKind.MONTHLY else "quý (1–4)"
            raise ValueError(f"Kỳ báo cáo loại {self.kind} cần số thứ tự {unit}, nhận được {self.index}")

    def _number(self) -> int:
        """The month or quarter of a monthly or quarterly period (`__post_init__` requires it for those)."""
        if self.index is None:
            raise ValueError(f"Kỳ báo cáo loại {self.kind} không có số thứ tự tháng/quý")
        return self.index

    @property
    def id(self) -> str:
        match self.kind:
            case PeriodKind.MONTHLY:
                return f"{self.year}-{self.index:02d}"
            case PeriodKind.QUARTERLY:
                return f"{self.year}-Q{self.index}"
            case PeriodKind.SIX_MONTH:
                return f"{self.year}-H1"
            case PeriodKind.NINE_MONTH:
                return f"{self.year}-9M"
        return str(self.year)

    @classmethod
    def parse(cls, text: str) -> ReportingPeriod:
        match = _PERIOD_ID.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"Kỳ báo cáo không hợp lệ: {text!r}. Các dạng được chấp nhận: {_ACCEPTED_FORMS}")
        year, month, quarter, half, nine = match.groups()
        if month:
            return cls(PeriodKind.MONTHLY, int(year), int(month))
        if quarter:
            return cls(PeriodKind.QUARTERLY, int(year), int(quarter))
        if half:
            return cls(PeriodKind.SIX_MONTH, int(year))
        if nine:
            return cls(PeriodKind.NINE_MONTH, int(year))
        return cls(PeriodKind.ANNUAL, int(year))

    @property
    def label(self) -> str:
        match self.kind:
            case PeriodKind.MONTHLY:
                return f"tháng {self.index} năm {self.year}"
            case PeriodKind.QUARTERLY:
                return f"quý {_ROMAN[self._number()]} năm {self.year}"
            case PeriodKind.SIX_MONTH:
                return f"6 tháng đầu năm {self.year}"
            case PeriodKind.NINE_MONTH:
                return f"9 tháng đầu năm {self.year}"
        return f"năm {self.year}"

    def _months(self) -> tuple[int, int]:
        """The first and last month the period reports on."""
        match self.kind:
            case PeriodKind.MONTHLY:
                return self._number(), self._number()
            case PeriodKind.QUARTERLY:
                return 3 * self._number() - 2, 3 * self._number()
        return 1, _LAST_MONTH[self.kind]

    @property
    def data_window(self) -> tuple[date, date]:
        # Every window runs from the 15th of the month before its first month to the 14th of
        # its last month; multi-month reports other than quarterly start from 15/12 last year.
        first_month, last_month = self._months()
        start = date(self.year - 1, 12, 15) if first_month == 1 else date(self.year, first_month - 1, 15)
        return start, date(self.year, last_month, 14)

    @property
    def span(self) -> tuple[date, date]:
        """The months the period reports on, first day to last: what happened in them belongs to it,
        whenever it was recorded (the report knows what was recorded by the day it is made)."""
        first_month, last_month = self._months()
        following = date(self.year + 1, 1, 1) if last_month == 12 else date(self.year, last_month + 1, 1)
        return date(self.year, first_month, 1), date.fromordinal(following.toordinal() - 1)

    def sending_deadline(self, calendar: WorkingCalendar, working_days_after_cutoff: int = 1) -> date:
        # Art. 8(5): at least one working day must separate the data cut-off from sending.
        if working_days_after_cutoff < 1:
            raise ValueError(
                "Thời hạn gửi báo cáo phải sau ngày chốt số liệu ít nhất 1 ngày làm việc "
                f"(Điều 8 khoản 5 Nghị định 09/2019/NĐ-CP), nhận được {working_days_after_cutoff}"
            )
        return calendar.add_working_days(self.data_window[1], working_days_after_cutoff)


def periods_in_year(kinds: Iterable[PeriodKind], year: int) -> list[ReportingPeriod]:
    """Every period of the given kinds in `year`, by cut-off date, then in PeriodKind order."""
    order = list(PeriodKind)
    periods = []
    for kind in {PeriodKind(k) for k in kinds}:
        if kind is PeriodKind.MONTHLY:
            periods += [ReportingPeriod(kind, year, m) for m in range(1, 13)]
        elif kind is PeriodKind.QUARTERLY:
            periods += [ReportingPeriod(kind, year, q) for q in range(1, 5)]
        else:
            periods.append(ReportingPeriod(kind, year))
    return sorted(periods, key=lambda p: (p.data_window[1], order.index(p.kind)))


def latest_closed_period(kinds: Iterable[PeriodKind], as_of: date) -> ReportingPeriod:
    """The most recent period of these kinds whose data window has closed by `as_of` (what a
    scheduled report covers); at the same closing day the annual one. Before any has closed this
    year or last, the year's first period."""
    kinds = list(kinds)
    closed = [p for year in (as_of.year - 1, as_of.year) for p in periods_in_year(kinds, year) if p.data_window[1] < as_of]
    if not closed:
        return periods_in_year(kinds, as_of.year)[0]
    return max(closed, key=lambda p: (p.data_window[1], p.kind == PeriodKind.ANNUAL))

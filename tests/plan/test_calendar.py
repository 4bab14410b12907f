"""Working days (Labour Code holidays, Civil Code counting) and Decree 09/2019 reporting periods."""

import ast
import subprocess
import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given, strategies as st

from plan.calendar import PeriodKind, ReportingPeriod, WorkingCalendar, periods_in_year

ROOT = Path(__file__).resolve().parents[2]
CALENDAR_PY = ROOT / "plan" / "calendar.py"


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- the plain working-day rule -----------------------------------------------------------------


def test_weekdays_are_working_days_and_weekends_are_not(cal):
    assert cal.is_working_day(date(2023, 3, 15))  # Wednesday
    assert not cal.is_working_day(date(2023, 3, 18))  # Saturday
    assert not cal.is_working_day(date(2023, 3, 19))  # Sunday


@pytest.mark.parametrize(
    "day",
    [
        date(2023, 1, 2),  # 1/1 fell on Sunday: observed Monday (Labour Code art. 111)
        *(date(2023, 1, d) for d in range(20, 27)),  # Tết 2023
        *(date(2023, 4, 29) + timedelta(days=i) for i in range(5)),  # 29/4–3/5/2023 incl. observed 2/5, 3/5
        date(2023, 9, 1),
        date(2023, 9, 4),  # 2/9 on Saturday: observed Monday
    ],
)
def test_public_holidays_and_observed_days_of_2023_are_days_off(cal, day):
    assert not cal.is_working_day(day)


def test_working_days_agree_with_the_holidays_package_for_2022_to_2025(cal):
    official = holidays.country_holidays("VN", years=range(2022, 2026), language="vi")
    day = date(2022, 1, 1)
    while day.year < 2026:
        assert cal.is_working_day(day) == (day.weekday() < 5 and day not in official), day
        day += timedelta(days=1)


# -- add_working_days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2023, 3, 10), 1, date(2023, 3, 13)),  # Friday -> Monday
        (date(2023, 3, 13), 5, date(2023, 3, 20)),
        (date(2023, 1, 19), 1, date(2023, 1, 27)),  # over Tết 20–26/1/2023
        (date(2023, 1, 19), 2, date(2023, 1, 30)),
        (date(2023, 1, 22), 1, date(2023, 1, 27)),  # starting on a holiday
        (date(2023, 4, 28), 1, date(2023, 5, 4)),  # over 29/4–3/5/2023
        (date(2023, 8, 31), 1, date(2023, 9, 5)),  # over 1–4/9/2023
        (date(2023, 12, 29), 1, date(2024, 1, 2)),  # into the next year, over 1/1/2024
    ],
)
def test_add_working_days_forward_skips_weekends_and_holidays(cal, start, n, expected):
    assert cal.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2023, 3, 13), -1, date(2023, 3, 10)),  # Monday -> Friday
        (date(2023, 1, 27), -1, date(2023, 1, 19)),  # back over Tết
        (date(2023, 1, 30), -2, date(2023, 1, 19)),
        (date(2023, 1, 22), -1, date(2023, 1, 19)),  # starting on a holiday
        (date(2023, 5, 4), -1, date(2023, 4, 28)),  # back over 29/4–3/5
        (date(2023, 9, 5), -1, date(2023, 8, 31)),  # back over 1–4/9
        (date(2024, 1, 2), -1, date(2023, 12, 29)),  # back into the previous year
    ],
)
def test_add_working_days_backward_skips_weekends_and_holidays(cal, start, n, expected):
    assert cal.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2023, 3, 15), date(2023, 3, 15)),  # already a working day
        (date(2023, 3, 11), date(2023, 3, 13)),  # Saturday
        (date(2023, 1, 22), date(2023, 1, 27)),  # Tết
        (date(2023, 9, 2), date(2023, 9, 5)),  # National Day, then its observed Monday
    ],
)
def test_zero_working_days_rolls_forward_to_the_next_working_day(cal, start, expected):
    assert cal.add_working_days(start, 0) == expected
    assert cal.next_working_day(start) == expected


def test_years_are_loaded_backwards_as_well_as_forwards():
    fresh = WorkingCalendar()
    assert fresh.add_working_days(date(2025, 1, 2), -1) == date(2024, 12, 31)
    assert fresh.add_working_days(date(2024, 1, 2), -1) == date(2023, 12, 29)
    assert fresh.add_working_days(date(2022, 12, 30), 300).year == 2024
    assert not fresh.is_working_day(date(2023, 1, 23))


def _brute_force_add(cal, start, n):
    day, step, left = start, (1 if n > 0 else -1), abs(n)
    while left:
        day += timedelta(days=step)
        left -= cal.is_working_day(day)
    return day


@given(
    start=st.dates(min_value=date(2022, 1, 1), max_value=date(2025, 12, 31)),
    n=st.integers(min_value=-60, max_value=60).filter(bool),
)
def test_add_working_days_matches_counting_day_by_day(cal, start, n):
    result = cal.add_working_days(start, n)
    assert cal.is_working_day(result)
    assert result == _brute_force_add(cal, start, n)


@given(
    start=st.dates(min_value=date(2022, 1, 1), max_value=date(2025, 12, 31)),
    n=st.integers(min_value=1, max_value=60),
)
def test_adding_n_working_days_makes_it_exactly_n_working_days_late(cal, start, n):
    assert cal.working_days_late(start, cal.add_working_days(start, n)) == n


# -- working_days_late --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "as_of", "late"),
    [
        (date(2023, 1, 19), date(2023, 1, 19), 0),  # on the day
        (date(2023, 1, 19), date(2023, 1, 10), 0),  # early
        (date(2023, 1, 19), date(2023, 1, 26), 0),  # only Tết days have passed
        (date(2023, 1, 19), date(2023, 1, 27), 1),
        (date(2023, 1, 18), date(2023, 1, 30), 3),  # 19/1, 27/1, 30/1
        (date(2023, 3, 10), date(2023, 3, 12), 0),  # only a weekend has passed
        (date(2023, 3, 10), date(2023, 3, 17), 5),
    ],
)
def test_working_days_late_counts_working_days_after_the_due_date(cal, due, as_of, late):
    assert cal.working_days_late(due, as_of) == late


# -- overrides and names ------------------------------------------------------------------------


def test_extra_working_saturday_counts_as_a_working_day():
    # 2024: 29/4 was given off in exchange for working Saturday 4/5; `holidays` only knows the day off.
    swapped = WorkingCalendar(extra_working_days={date(2024, 5, 4): "Làm bù cho ngày 29/4/2024"})
    assert WorkingCalendar().add_working_days(date(2024, 5, 3), 1) == date(2024, 5, 6)
    assert swapped.is_working_day(date(2024, 5, 4))
    assert swapped.add_working_days(date(2024, 5, 3), 1) == date(2024, 5, 4)
    assert swapped.working_days_late(date(2024, 5, 3), date(2024, 5, 6)) == 2
    assert swapped.holiday_name(date(2024, 5, 4)) is None


def test_extra_working_day_wins_over_an_extra_day_off():
    both = WorkingCalendar(
        extra_days_off={date(2025, 4, 26): "Nghỉ"}, extra_working_days={date(2025, 4, 26): "Làm bù"}
    )
    assert both.is_working_day(date(2025, 4, 26))


def test_extra_day_off_is_not_a_working_day_and_has_its_name():
    name = "Nghỉ theo quyết định của UBND thành phố"
    cal = WorkingCalendar(extra_days_off={date(2023, 3, 15): unicodedata.normalize("NFD", name)})
    assert not cal.is_working_day(date(2023, 3, 15))
    assert cal.add_working_days(date(2023, 3, 14), 1) == date(2023, 3, 16)
    assert cal.holiday_name(date(2023, 3, 15)) == name  # stored in NFC whatever it was given in


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2023, 1, 1), "Tết Dương lịch"),
        (date(2023, 1, 22), "Tết Nguyên Đán"),
        (date(2023, 1, 23), "Mùng hai Tết Nguyên Đán"),
        (date(2023, 4, 29), "Ngày Giỗ Tổ Hùng Vương"),
        (date(2023, 4, 30), "Ngày Chiến thắng"),
        (date(2023, 5, 1), "Ngày Quốc tế Lao động"),
        (date(2023, 9, 2), "Quốc khánh"),
    ],
)
def test_holiday_name_is_vietnamese_in_nfc(cal, day, name):
    assert cal.holiday_name(day) == name
    assert unicodedata.is_normalized("NFC", cal.holiday_name(day))


def test_observed_day_is_named_as_a_day_in_lieu(cal):
    assert "nghỉ bù" in cal.holiday_name(date(2023, 5, 2))


def test_ordinary_days_and_weekends_have_no_holiday_name(cal):
    assert cal.holiday_name(date(2023, 3, 15)) is None
    assert cal.holiday_name(date(2023, 3, 18)) is None


# -- reporting periods: Decree 09/2019 Art. 12 ----------------------------------------------------


@pytest.mark.parametrize(
    ("period", "window"),
    [
        (ReportingPeriod(PeriodKind.MONTHLY, 2023, 1), (date(2022, 12, 15), date(2023, 1, 14))),
        (ReportingPeriod(PeriodKind.MONTHLY, 2023, 5), (date(2023, 4, 15), date(2023, 5, 14))),
        (ReportingPeriod(PeriodKind.MONTHLY, 2023, 12), (date(2023, 11, 15), date(2023, 12, 14))),
        (ReportingPeriod(PeriodKind.QUARTERLY, 2023, 1), (date(2022, 12, 15), date(2023, 3, 14))),
        (ReportingPeriod(PeriodKind.QUARTERLY, 2023, 2), (date(2023, 3, 15), date(2023, 6, 14))),
        (ReportingPeriod(PeriodKind.QUARTERLY, 2023, 3), (date(2023, 6, 15), date(2023, 9, 14))),
        (ReportingPeriod(PeriodKind.QUARTERLY, 2023, 4), (date(2023, 9, 15), date(2023, 12, 14))),
        (ReportingPeriod(PeriodKind.SIX_MONTH, 2023), (date(2022, 12, 15), date(2023, 6, 14))),
        (ReportingPeriod(PeriodKind.NINE_MONTH, 2023), (date(2022, 12, 15), date(2023, 9, 14))),
        (ReportingPeriod(PeriodKind.ANNUAL, 2023), (date(2022, 12, 15), date(2023, 12, 14))),
    ],
    ids=lambda v: v.id if isinstance(v, ReportingPeriod) else "",
)
def test_data_window_follows_decree_09_article_12(period, window):
    assert period.data_window == window


@pytest.mark.parametrize("kind", [PeriodKind.MONTHLY, PeriodKind.QUARTERLY])
def test_monthly_and_quarterly_windows_tile_the_reporting_year_without_gaps(kind):
    windows = [p.data_window for p in periods_in_year([kind], 2024)]
    assert windows[0][0] == date(2023, 12, 15)
    assert windows[-1][1] == date(2024, 12, 14)
    for (_, end), (start, _) in zip(windows, windows[1:]):
        assert start == end + timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "period", "label"),
    [
        ("2023-05", ReportingPeriod(PeriodKind.MONTHLY, 2023, 5), "tháng 5 năm 2023"),
        ("2023-Q3", ReportingPeriod(PeriodKind.QUARTERLY, 2023, 3), "quý III năm 2023"),
        ("2023-H1", ReportingPeriod(PeriodKind.SIX_MONTH, 2023), "6 tháng đầu năm 2023"),
        ("2023-9M", ReportingPeriod(PeriodKind.NINE_MONTH, 2023), "9 tháng đầu năm 2023"),
        ("2023", ReportingPeriod(PeriodKind.ANNUAL, 2023), "năm 2023"),
    ],
)
def test_period_id_parse_and_vietnamese_label(text, period, label):
    assert ReportingPeriod.parse(text) == period
    assert period.id == text
    assert period.label == label
    assert unicodedata.is_normalized("NFC", period.label)


def test_quarter_labels_use_roman_numerals():
    labels = [p.label for p in periods_in_year([PeriodKind.QUARTERLY], 2024)]
    assert labels == ["quý I năm 2024", "quý II năm 2024", "quý III năm 2024", "quý IV năm 2024"]


@st.composite
def reporting_periods(draw):
    kind = draw(st.sampled_from(list(PeriodKind)))
    year = draw(st.integers(min_value=1000, max_value=9999))
    index = {PeriodKind.MONTHLY: 12, PeriodKind.QUARTERLY: 4}.get(kind)
    return ReportingPeriod(kind, year, None if index is None else draw(st.integers(1, index)))


@given(reporting_periods())
def test_parse_is_the_inverse_of_id(period):
    assert ReportingPeriod.parse(period.id) == period


@pytest.mark.parametrize(
    "text",
    ["2023-Q5", "2023-Q0", "abc", "", "2023-13", "2023-00", "2023-5", "23-05", "2023-H2", "2023-", "2023-05-01",
     "0999", "２０２３"],
)
def test_bad_period_strings_are_refused_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match="Kỳ báo cáo không hợp lệ") as refused:
        ReportingPeriod.parse(text)
    message = str(refused.value)
    assert repr(text) in message
    for form in ("YYYY-MM", "YYYY-Qn", "YYYY-H1", "YYYY-9M", "YYYY"):
        assert form in message


@pytest.mark.parametrize(
    ("kind", "index"),
    [
        (PeriodKind.MONTHLY, None),
        (PeriodKind.MONTHLY, 13),
        (PeriodKind.QUARTERLY, 0),
        (PeriodKind.QUARTERLY, 5),
        (PeriodKind.SIX_MONTH, 1),
        (PeriodKind.ANNUAL, 12),
    ],
)
def test_period_with_an_impossible_index_is_refused(kind, index):
    with pytest.raises(ValueError):
        ReportingPeriod(kind, 2023, index)


# -- sending deadlines -----------------------------------------------------------------------------


def test_sending_deadline_is_the_working_day_after_the_cutoff(cal):
    assert ReportingPeriod(PeriodKind.MONTHLY, 2023, 6).sending_deadline(cal) == date(2023, 6, 15)  # Wed -> Thu


def test_sending_deadline_skips_weekends(cal):
    # cut-off 14/1/2023 is a Saturday
    assert ReportingPeriod(PeriodKind.MONTHLY, 2023, 1).sending_deadline(cal) == date(2023, 1, 16)


def test_sending_deadline_skips_holidays(cal):
    # 16, 17, 18, 19 January, then Tết 20–26/1/2023
    assert ReportingPeriod(PeriodKind.MONTHLY, 2023, 1).sending_deadline(cal, 5) == date(2023, 1, 27)
    # cut-off 14/2/2024 is the fifth day of Tết itself
    assert ReportingPeriod(PeriodKind.MONTHLY, 2024, 2).sending_deadline(cal) == date(2024, 2, 15)


def test_sending_deadline_needs_at_least_one_working_day_after_cutoff(cal):
    with pytest.raises(ValueError, match="ít nhất 1 ngày làm việc"):
        ReportingPeriod(PeriodKind.ANNUAL, 2023).sending_deadline(cal, 0)


# -- periods_in_year -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        (PeriodKind.MONTHLY, 12),
        (PeriodKind.QUARTERLY, 4),
        (PeriodKind.SIX_MONTH, 1),
        (PeriodKind.NINE_MONTH, 1),
        (PeriodKind.ANNUAL, 1),
    ],
)
def test_periods_in_year_counts_each_kind(kind, count):
    periods = periods_in_year([kind], 2023)
    assert len(periods) == count
    assert {p.kind for p in periods} == {kind}
    assert {p.year for p in periods} == {2023}


def test_periods_in_year_sorts_by_cutoff_then_kind():
    periods = periods_in_year(list(PeriodKind), 2023)
    assert len(periods) == 19
    ends = [p.data_window[1] for p in periods]
    assert ends == sorted(ends)
    june = [p.id for p in periods if p.data_window[1] == date(2023, 6, 14)]
    december = [p.id for p in periods if p.data_window[1] == date(2023, 12, 14)]
    assert june == ["2023-06", "2023-Q2", "2023-H1"]
    assert december == ["2023-12", "2023-Q4", "2023"]


def test_periods_in_year_ignores_repeated_kinds_and_accepts_none():
    assert len(periods_in_year([PeriodKind.MONTHLY, PeriodKind.MONTHLY], 2023)) == 12
    assert periods_in_year([], 2023) == []


# -- module hygiene --------------------------------------------------------------------------------


def test_calendar_module_imports_only_the_standard_library_and_holidays():
    tree = ast.parse(CALENDAR_PY.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - set(sys.stdlib_module_names) == {"holidays"}


def test_loading_the_calendar_module_does_not_load_prefect():
    # Loaded from its file so that whatever plan/__init__.py imports does not count against it.
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('kehoach_calendar', {str(CALENDAR_PY)!r})\n"
        "module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module.WorkingCalendar().add_working_days(module.date(2023, 1, 19), 1)\n"
        "sys.exit('prefect' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize(
    "period, first, last",
    [
        ("2023", date(2023, 1, 1), date(2023, 12, 31)),
        ("2023-H1", date(2023, 1, 1), date(2023, 6, 30)),
        ("2023-9M", date(2023, 1, 1), date(2023, 9, 30)),
        ("2023-Q3", date(2023, 7, 1), date(2023, 9, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-12", date(2023, 12, 1), date(2023, 12, 31)),
    ],
)
def test_a_period_spans_the_months_it_reports_on_while_its_data_window_stays_decree_09s(period, first, last):
    chosen = ReportingPeriod.parse(period)
    assert chosen.span == (first, last)
    assert chosen.data_window[1].day == 14, "the cut-off still sets when the report is due"

"""The report's annex as an XLSX workbook (openpyxl): one sheet a table, raw values (numbers stay
numbers, dates dates), in Vietnamese only: the contract's codes (item and counterpart kinds,
occurrence ids) are shown by their labels.

Each sheet opens with its title rows (the department, the table's title, the period and its data
window), then the header row, frozen above the data.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

from plan.model import ITEM_KIND_LABELS
from plan.text import short_date
from reports.content import frame_records, items_text
from reports.data import ReportData
from reports.layout import ANNEX_TABLES, TABLES_BY_KEY, TableSpec
from reports.narrative import as_date, clean_text, occurrence_label

COUNTERPART_KIND_LABELS = {"embassy": "Đại sứ quán", "delegation": "Phái đoàn", "partner": "Đối tác"}
SHEET_ORDER = ANNEX_TABLES[:2] + ("indicator_totals",) + ANNEX_TABLES[2:]
HEADER_ROW = 5  # rows 1-3: department, title, period; row 4 empty
MIN_WIDTH, MAX_WIDTH = 8, 50  # column widths, in characters


def _xlsx_value(column: str, value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if column == "kind":  # an item's kind or a counterpart's
        text = str(value)
        item_kinds = {kind.value: label for kind, label in ITEM_KIND_LABELS.items()}
        return item_kinds.get(text) or COUNTERPART_KIND_LABELS.get(text, text)
    if column == "occurrence":  # "main" is the item's own window: no occurrence to name
        return occurrence_label(value) or None
    if column in ("due", "date"):
        return as_date(value)
    if hasattr(value, "item") and not isinstance(value, (str, list, tuple)):  # numpy scalars
        value = value.item()
    if column == "items" and not isinstance(value, int):  # a counterpart's item numbers, not a count
        return items_text(value)
    if isinstance(value, str) or not isinstance(value, (int, float, dt.date)):
        return clean_text(value)
    return value


def period_line(data: ReportData) -> str:
    """"Kỳ báo cáo: năm 2023 — số liệu từ 01/01/2023 đến 31/12/2023, tình hình đến ngày 31/12/2023"."""
    first, last = data.window[0], min(data.window[1], data.as_of)
    return f"Kỳ báo cáo: {data.period.label} — số liệu từ {short_date(first)} đến {short_date(last)}, tình hình đến ngày {short_date(data.as_of)}"


def title_lines(data: ReportData, spec: TableSpec) -> tuple[str, str, str]:
    """The sheet's title rows: the department, the table's title, the period."""
    title = spec.title
    if spec.key == "counterparts":  # the answers of each counterpart, declines included: for the Department only
        title = "Tình hình mời phối hợp các đối tác nước ngoài (tài liệu nội bộ, không gửi kèm báo cáo)"
    return clean_text(data.plan.department.name), title, period_line(data)


def _width(header: str, values: list[Any]) -> float:
    """A column's width in characters: its longest value or header word, within MIN_WIDTH..MAX_WIDTH
    (longer text wraps)."""
    shown = [short_date(v) if isinstance(v, dt.date) else str(v) for v in values if v is not None]
    longest = max([len(w) for w in header.split()] + [len(s) for s in shown] + [0])
    return min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)


def render_xlsx(data: ReportData, path: Path) -> Path:
    """The annex tables as sheets: title rows, the header row (frozen), raw values."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    frames = {
        "items": data.items,
        "indicators": data.indicators,
        "indicator_totals": data.indicator_totals,
        "units": data.units,
        "late": data.late,
        "counterparts": data.counterparts,
    }
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for key in SHEET_ORDER:
        spec = TABLES_BY_KEY[key]
        sheet = workbook.create_sheet(spec.sheet)
        columns = [column for column, _ in spec.xlsx]
        # On one line each, running on over the empty cells beside them however narrow the table.
        for row, (text, bold) in enumerate(zip(title_lines(data, spec), (True, True, False)), 1):
            cell = sheet.cell(row=row, column=1, value=text)
            cell.font = Font(bold=bold, italic=not bold, size=12 if row == 2 else 11)
        rows = [[_xlsx_value(column, record.get(column)) for column in columns] for record in frame_records(frames[key])]
        for index, (_column, header) in enumerate(spec.xlsx, 1):
            cell = sheet.cell(row=HEADER_ROW, column=index, value=header)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = border
        for values in rows:
            sheet.append(values)
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1):
            for cell in row:
                cell.border = border
                cell.alignment = Alignment(vertical="top", wrap_text=True)
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text that starts with "=" stays text, never a formula
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"
        widths = [_width(header, [r[index] for r in rows]) for index, (_column, header) in enumerate(spec.xlsx)]
        for index, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        # the header row as tall as its longest wrapped heading (15 points a line)
        lines = max(math.ceil((len(header) + 2) / width) for (_column, header), width in zip(spec.xlsx, widths))
        sheet.row_dimensions[HEADER_ROW].height = 15 * lines
        sheet.freeze_panes = f"A{HEADER_ROW + 1}"
        sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    workbook.save(path)
    return path

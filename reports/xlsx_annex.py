"""The report's annex as an XLSX workbook (openpyxl): one sheet a table, raw values, Vietnamese headers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from plan.model import ITEM_KIND_LABELS
from reports.content import frame_records, items_text
from reports.data import ReportData
from reports.layout import ANNEX_TABLES, TABLES_BY_KEY
from reports.narrative import as_date, clean_text

COUNTERPART_KIND_LABELS = {"embassy": "Đại sứ quán", "delegation": "Phái đoàn", "partner": "Đối tác"}


def _xlsx_value(column: str, value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if column == "kind":  # an item's kind or a counterpart's
        text = str(value)
        item_kinds = {kind.value: label for kind, label in ITEM_KIND_LABELS.items()}
        return item_kinds.get(text) or COUNTERPART_KIND_LABELS.get(text, text)
    if column in ("due", "date"):
        return as_date(value)
    if hasattr(value, "item") and not isinstance(value, (str, list, tuple)):  # numpy scalars
        value = value.item()
    if column == "items" and not isinstance(value, int):  # a counterpart's item numbers, not a count
        return items_text(value)
    if isinstance(value, str) or not isinstance(value, (int, float, dt.date)):
        return clean_text(value)
    return value


def render_xlsx(data: ReportData, path: Path) -> Path:
    """The annex tables as sheets: raw values (numbers stay numbers), Vietnamese headers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    frames = {
        "items": data.items,
        "indicators": data.indicators,
        "indicator_totals": data.indicator_totals,
        "units": data.units,
        "late": data.late,
        "counterparts": data.counterparts,
    }
    for key in ANNEX_TABLES[:2] + ("indicator_totals",) + ANNEX_TABLES[2:]:
        spec = TABLES_BY_KEY[key]
        sheet = workbook.create_sheet(spec.sheet)
        sheet.append([header for _, header in spec.xlsx])
        for record in frame_records(frames[key]):
            sheet.append([_xlsx_value(column, record.get(column)) for column, _ in spec.xlsx])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text that starts with "=" stays text, never a formula
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for index, (_column, header) in enumerate(spec.xlsx, 1):
            longest = max([len(header)] + [len(str(c.value or "")) for c in sheet[get_column_letter(index)][1:]])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 60)
        sheet.freeze_panes = "A2"
    workbook.save(path)
    return path


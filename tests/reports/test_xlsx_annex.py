"""The XLSX annex read back with openpyxl: Vietnamese only (no contract code in any cell), each sheet
with its title rows, a frozen header row, widths that fit and wrapped text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from openpyxl import load_workbook
from test_document import make_data

from plan.model import ITEM_KIND_LABELS, Stage
from plan.progress import Rag
from reports.layout import TABLES_BY_KEY
from reports.xlsx_annex import HEADER_ROW, MAX_WIDTH, SHEET_ORDER, render_xlsx


@pytest.fixture(scope="module", name="data")
def fixture_data(plan):
    return make_data(plan)


@pytest.fixture(scope="module", name="workbook")
def fixture_workbook(data, tmp_path_factory):
    return load_workbook(render_xlsx(data, tmp_path_factory.mktemp("xlsx") / "phu-luc.xlsx"))


def _codes(data) -> set[str]:
    """Every code of the contract that is not Vietnamese: stages, statuses, kinds, indicator, unit
    and counterpart ids, the item's own occurrence."""
    plan = data.plan
    codes = {s.value for s in Stage} | {r.value for r in Rag} | {k.value for k in ITEM_KIND_LABELS}
    codes |= {"embassy", "delegation", "partner", "main"}
    codes |= {i.id for i in plan.indicators} | {u.id for u in plan.units} | {c.id for c in plan.counterparts} | {i.id for i in plan.items}
    return codes


def test_no_cell_holds_a_code_of_the_contract(workbook, data):
    codes = _codes(data)
    assert {"articles_translated", "execution", "on_track", "coordination"} <= codes
    found = [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and any(word in codes for word in re.split(r"[\s,;()]+", cell.value))
    ]
    assert found == []


def test_each_sheet_opens_with_the_department_its_title_and_the_period(workbook):
    assert workbook.sheetnames == [TABLES_BY_KEY[k].sheet for k in SHEET_ORDER]
    for key in SHEET_ORDER:
        sheet = workbook[TABLES_BY_KEY[key].sheet]
        assert sheet["A1"].value == "Sở Văn hóa và Thể thao thành phố Hà Nội"
        assert sheet["A2"].value == TABLES_BY_KEY[key].title and sheet["A2"].font.bold
        assert sheet["A3"].value == "Kỳ báo cáo: 6 tháng đầu năm 2023 — số liệu từ 15/12/2022 đến 14/06/2023, tình hình đến ngày 20/06/2023"
        assert [c.value for c in sheet[HEADER_ROW]] == [header for _, header in TABLES_BY_KEY[key].xlsx]
        assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"  # the header row stays in view


def test_labels_in_place_of_codes(workbook):
    late = workbook["Chậm tiến độ"]
    headers = [c.value for c in late[HEADER_ROW]]
    rows = [dict(zip(headers, (c.value for c in row))) for row in late.iter_rows(min_row=HEADER_ROW + 1)]
    assert [(r["Đợt"], r["Bước"]) for r in rows] == [("tháng 5/2023", "Báo cáo"), (None, "Phối hợp")]
    assert [r["Hạn"].date() if isinstance(r["Hạn"], dt.datetime) else r["Hạn"] for r in rows] == [dt.date(2023, 6, 7), dt.date(2023, 5, 30)]
    items = workbook["Nội dung"]
    kinds = [row[3].value for row in items.iter_rows(min_row=HEADER_ROW + 1)]
    assert len(kinds) == 9 and set(kinds) <= set(ITEM_KIND_LABELS.values())
    totals = workbook["Tổng hợp chỉ tiêu"]
    assert totals.cell(row=HEADER_ROW + 1, column=1).value == "Số tin, bài được dịch"


def test_columns_are_as_wide_as_their_words_and_text_wraps(workbook):
    for sheet in workbook:
        for index, header in enumerate(sheet[HEADER_ROW], 1):
            letter = header.column_letter
            width = sheet.column_dimensions[letter].width
            longest_word = max(len(w) for w in str(header.value).split())
            assert longest_word < width <= MAX_WIDTH, (sheet.title, header.value, width)
            data = [sheet.cell(row=r, column=index) for r in range(HEADER_ROW + 1, sheet.max_row + 1)]
            assert all(cell.alignment.wrap_text for cell in data), (sheet.title, header.value)
    late = workbook["Chậm tiến độ"]
    assert late.column_dimensions["E"].width >= len("30/05/2023")  # the deadline, whole

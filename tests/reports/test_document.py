"""The report as PDF, DOCX and XLSX: read back the files and find the same content in each.

The PDF checks read it with poppler's pdftotext/pdffonts/pdfinfo (Debian package poppler-utils) and
are skipped, saying so, where those are missing.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from docx import Document

from plan.calendar import ReportingPeriod
from plan.load import load_plan
from plan.model import Plan, Signer
from reports.content import number_symbol, report_context, signer_lines
from reports.data import (
    COUNTERPART_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_TOTAL_COLUMNS,
    ITEM_COLUMNS,
    LATE_COLUMNS,
    NOTE_COLUMNS,
    OCCURRENCE_COLUMNS,
    UNIT_COLUMNS,
    ReportData,
)
from reports.document import render_report
from reports.docx_template import build_docx_template
from reports.layout import DOCX_TEMPLATE, TABLES_BY_KEY
from reports.narrative import ASSESSMENT_HEADINGS, NO_EVENTS, SECTION_HEADINGS, clean_text
from reports.placeholders import placeholders_in
from reports.xlsx_annex import HEADER_ROW

H1 = ReportingPeriod.parse("2023-H1")
AS_OF = dt.date(2023, 6, 20)
# A note as a user may type or paste it: markup, XML specials, Word's vertical tab and a form feed.
NASTY_NOTE = "Đã dịch <b>x</b> & kiểm tra a < b\x0bdòng mới\x0ctrang mới"
NASTY_SHOWN = "Đã dịch <b>x</b> & kiểm tra a < b dòng mới trang mới"
NASTY_REASON = "=HYPERLINK(\"http://x.example\") <script>alert(1)</script> & chờ\x0bkinh phí"

needs_poppler = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdfinfo", "pdffonts")),
    reason="poppler-utils (pdftotext, pdfinfo, pdffonts) is not installed: apt-get install poppler-utils",
)


@pytest.fixture(scope="module", name="plan")
def fixture_plan() -> Plan:
    result = load_plan()
    assert result.plan is not None
    return result.plan


def _items(plan: Plan) -> pd.DataFrame:
    rows = []
    state = {  # number: (rag, done, done in period, overdue, occurrences)
        1: ("at_risk", 3, 3, 1, 3),
        5: ("off_track", 1, 1, 1, 1),
        6: ("done", 4, 4, 0, 1),
        7: ("done", 4, 4, 0, 1),
        8: ("on_track", 0, 0, 0, 0),
    }
    labels = {"done": "Hoàn thành", "on_track": "Đúng tiến độ", "at_risk": "Có nguy cơ chậm", "off_track": "Chậm tiến độ"}
    for item in plan.items:
        rag, done, in_period, overdue, occurrences = state.get(item.number, ("on_track", 1, 1, 0, 1))
        rows.append(
            {
                "number": item.number,
                "id": item.id,
                "short_title": item.short_title,
                "title": item.title,
                "kind": item.kind.value,
                "window": "năm 2023",
                "lead": plan.party_name(item.lead, short=True),
                "coordinating": ", ".join(plan.party_name(c, short=True) for c in item.coordinating),
                "rag": rag,
                "rag_label": labels[rag],
                "occurrences": occurrences,
                "stages_total": 4 * occurrences,
                "stages_done": done,
                "stages_done_in_period": in_period,
                "stages_overdue": overdue,
                "prepared": done > 0,
                "lead_name": plan.party_name(item.lead),
                "coordinating_names": ", ".join(plan.party_name(c) for c in item.coordinating),
            }
        )
    frame = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    frame["kind"] = frame["kind"].astype("category")
    frame["rag"] = frame["rag"].astype("category")
    return frame


INDICATORS = [
    (1, "articles_translated", "Số tin, bài được dịch", "tin, bài", 18),
    (1, "articles_published", "Số tin, bài đăng trên Cổng thông tin đối ngoại", "tin, bài", 17),
    (6, "participants", "Số lượt người tham gia", "lượt người", 600),
    (6, "partner_countries", "Số quốc gia đối tác tham gia", "quốc gia", 2),
    (7, "events_held", "Số sự kiện, chương trình đã tổ chức", "sự kiện", 1),
    (7, "participants", "Số lượt người tham gia", "lượt người", 25000),
    (7, "partner_countries", "Số quốc gia đối tác tham gia", "quốc gia", 20),
    (6, "funding_spent", "Kinh phí đã sử dụng", "triệu đồng", 120),
]


def make_data(plan: Plan, *, empty: bool = False) -> ReportData:
    if empty:
        frames = {
            "items": _items(plan).assign(stages_done=0, stages_done_in_period=0, stages_overdue=0, rag="on_track", rag_label="Đúng tiến độ"),
            **{name: pd.DataFrame(columns=cols) for name, cols in (
                ("indicators", INDICATOR_COLUMNS), ("indicator_totals", INDICATOR_TOTAL_COLUMNS), ("late", LATE_COLUMNS),
                ("counterparts", COUNTERPART_COLUMNS), ("notes", NOTE_COLUMNS))},
        }
    else:
        indicators = pd.DataFrame(INDICATORS, columns=INDICATOR_COLUMNS)
        totals = indicators.groupby(["indicator", "label", "unit"], as_index=False, sort=False).agg(
            value=("value", "sum"), items=("item_number", "nunique")
        )
        frames = {
            "items": _items(plan),
            "indicators": indicators,
            "indicator_totals": totals[INDICATOR_TOTAL_COLUMNS],
            "late": pd.DataFrame(
                [
                    (1, "Dịch thuật tin, bài đối ngoại", "2023-05", "reporting", "Báo cáo", dt.date(2023, 6, 7), 9, "TTTTTL", None),
                    (5, "Đề án phát triển công nghiệp văn hoá", "main", "coordination", "Phối hợp", dt.date(2023, 5, 30), 14, "QLDS", NASTY_REASON),
                ],
                columns=LATE_COLUMNS,
            ),
            "counterparts": pd.DataFrame(
                [
                    ("dsq-phap", "ĐSQ Pháp", "embassy", "6, 9", 1, 0, 0, 1),
                    ("phai-doan-eu", "Phái đoàn EU", "delegation", "7", 1, 0, 0, 0),
                    ("dsq-canada", "ĐSQ Canada", "embassy", "9", 0, 1, 0, 0),
                ],
                columns=COUNTERPART_COLUMNS,
            ),
            # Items 6 and 7 held, with their figures (what section II words); item 1's months not yet.
            "occurrences": pd.DataFrame(
                [
                    (6, "main", dt.date(2023, 4, 13), dt.date(2023, 4, 15), dt.date(2023, 4, 13), True, dt.date(2023, 4, 15), True,
                     {"participants": 600, "partner_countries": 2, "funding_spent": 120}),
                    (7, "main", dt.date(2023, 5, 12), dt.date(2023, 5, 14), dt.date(2023, 5, 12), True, dt.date(2023, 5, 14), True,
                     {"events_held": 1, "participants": 25000, "partner_countries": 20}),
                ],
                columns=OCCURRENCE_COLUMNS,
            ),
            "notes": pd.DataFrame(
                [
                    (1, "execution", "Triển khai", dt.date(2023, 6, 2), "ttttl", NASTY_NOTE),
                    (6, "execution", "Triển khai", dt.date(2023, 4, 15), "vp", "Văn phòng Sở phối hợp đón tiếp đoàn địa phương Pháp."),
                ],
                columns=NOTE_COLUMNS,
            ),
        }
    units = pd.DataFrame(
        [(u.id, u.short_name, u.name, 1, 1, 0 if empty else 2, 0 if empty else 1) for u in plan.units], columns=UNIT_COLUMNS
    )
    return ReportData(
        plan=plan,
        period=H1,
        as_of=AS_OF,
        window=H1.span,
        events_in_period=0 if empty else 42,
        units=units,
        **frames,
    )


@pytest.fixture(scope="module", name="data")
def fixture_data(plan) -> ReportData:
    return make_data(plan)


@pytest.fixture(scope="module", name="files")
def fixture_files(data, tmp_path_factory):
    return render_report(data, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module", name="empty_files")
def fixture_empty_files(plan, tmp_path_factory):
    return render_report(make_data(plan, empty=True), tmp_path_factory.mktemp("empty"), number=7)


def pdf_text(path: Path, *pages: int, layout: bool = False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else [])
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    text = subprocess.run([*args, str(path), "-"], check=True, capture_output=True, text=True).stdout
    return unicodedata.normalize("NFC", text)


def docx_text(path: Path) -> str:
    document = Document(str(path))
    lines = [p.text for p in document.paragraphs]

    def cells(tables):
        for table in tables:
            for row in table.rows:
                for cell in row.cells:
                    yield from (p.text for p in cell.paragraphs)
                    yield from cells(cell.tables)

    lines += list(cells(document.tables))
    return "\n".join(lines)


def squash(text: str) -> str:
    return " ".join(text.split())


# Strings every rendering of the full report must show (PDF and DOCX alike).
KEY_STRINGS = [
    "UBND THÀNH PHỐ HÀ NỘI",
    "SỞ VĂN HÓA VÀ THỂ THAO",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "/BC-SVHTT",
    "Hà Nội, ngày 20 tháng 6 năm 2023",
    "BÁO CÁO",
    "6 tháng đầu năm 2023",
    "Kính gửi:",
    "Ủy ban nhân dân thành phố Hà Nội (qua Sở Thông tin và Truyền thông Hà Nội)",
    "Ban Tuyên giáo Thành ủy Hà Nội.",
    *SECTION_HEADINGS[:3],
    "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ 6 THÁNG CUỐI NĂM 2023",
    SECTION_HEADINGS[4],
    *ASSESSMENT_HEADINGS,
    "thu hút 25.600 lượt người tham gia",  # 600 + 25 000 across items 6 and 7
    "25.600",
    "sự kiện được tổ chức tại Phố đi bộ hồ Hoàn Kiếm, Hà Nội",
    "Tổng kinh phí đã sử dụng để thực hiện Kế hoạch 6 tháng đầu năm 2023 là 120 triệu đồng.",
    "Nơi nhận:",
    "- Như trên;",  # the bodies written to (Decree 30/2020, box 9b)
    "- Ban Giám đốc Sở;",
    "- Lưu: VT, VP.",
    "GIÁM ĐỐC",
    "Đỗ Đình Hồng",
    "Phụ lục",
    NASTY_SHOWN,
    "<script>alert(1)</script> & chờ kinh phí",
]


# --- the content -----------------------------------------------------------------------------


def test_number_is_blank_for_the_records_office_or_zero_padded(plan):
    assert number_symbol(plan, None) == "\u00a0" * 7 + "/BC-SVHTT"
    assert number_symbol(plan, 5) == "05/BC-SVHTT"
    assert number_symbol(plan, "125") == "125/BC-SVHTT"


def test_signer_lines_follow_the_authority(plan):
    assert signer_lines(plan, plan.document.signer) == ["GIÁM ĐỐC"]
    assert signer_lines(plan, Signer(authority="KT.", title="Phó Giám đốc", name="A")) == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    assert signer_lines(plan, Signer(authority="Q.", title="Giám đốc", name="A")) == ["Q. GIÁM ĐỐC"]
    assert signer_lines(plan, Signer(authority="TL. Giám đốc", title="Chánh Văn phòng", name="A")) == ["TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG"]


def test_context_routes_recipients_and_keeps_copies_for_the_drafting_unit(data):
    context = report_context(data, number="12")
    assert context["number_line"] == "Số: 12/BC-SVHTT"
    assert context["recipients"] == [
        "- Ủy ban nhân dân thành phố Hà Nội (qua Sở Thông tin và Truyền thông Hà Nội);",
        "- Ban Tuyên giáo Thành ủy Hà Nội.",
    ]
    # Nơi nhận: the bodies written to are "Như trên", then the directors, then the file copy
    assert context["distribution"] == ["- Như trên;", "- Ban Giám đốc Sở;", "- Lưu: VT, VP."]
    assert context["tables"]["items"].total[6] == "16/40"  # stages done / planned, summed over the items
    # Made on 20/6, after H1's sending day (the working day after the 14/6 cut-off): dated that day.
    assert context["date"] == AS_OF and context["place_date"] == "Hà Nội, ngày 20 tháng 6 năm 2023"
    assert [s["heading"] for s in context["sections"]][:3] == list(SECTION_HEADINGS[:3])


def test_table_1_drops_zero_rows_and_marks_a_distinct_figure(data):
    import dataclasses

    zero = pd.DataFrame([("trainees", "Số học viên", "người", 0, 0)], columns=INDICATOR_TOTAL_COLUMNS)
    totals = pd.concat([data.indicator_totals, zero], ignore_index=True)
    rows = report_context(dataclasses.replace(data, indicator_totals=totals), number="12")["tables"]["indicator_totals"].rows
    labels = [r[1] for r in rows]
    assert "Số học viên" not in labels and all(r[3] != "0" for r in rows)
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]  # numbered without gaps
    assert "Số quốc gia đối tác tham gia (tại sự kiện đông nhất)" in labels  # the largest at one event, not a sum
    assert "Số lượt người tham gia" in labels


def test_the_annex_late_table_leaves_a_missing_reason_to_the_drafter(data):
    late = report_context(data, number="12")["tables"]["late"]
    assert "Số ngày làm việc chậm" in [c.header for c in late.columns]
    reasons = {r[0].split(".")[0]: r[-1] for r in late.rows}
    assert reasons["1"] == "[Cần bổ sung: nguyên nhân chậm tiến độ của nội dung 1]"  # not "Chưa báo cáo"
    assert reasons["5"].startswith("=HYPERLINK")


def test_every_placeholder_in_the_annex_is_listed(data, plan):
    import dataclasses

    row = {c: None for c in LATE_COLUMNS} | {
        "item_number": 6, "short_title": plan.item(6).short_title, "occurrence": "main", "stage": "reporting",
        "stage_label": "Báo cáo", "due": dt.date(2023, 4, 20), "working_days_late": 30, "lead": "UBND TP.", "reason": None,
    }  # fmt: skip
    late = pd.concat([data.late, pd.DataFrame([row], columns=LATE_COLUMNS)], ignore_index=True)
    context = report_context(dataclasses.replace(data, late=late), number="12")
    annex = [p for r in context["tables"]["late"].rows for p in placeholders_in(r[-1])]
    assert "nguyên nhân chậm tiến độ của nội dung 6" in annex
    assert set(annex) <= set(context["placeholders"])


def test_a_date_given_by_the_drafter_dates_the_document_and_the_annex(data):
    import dataclasses

    context = report_context(dataclasses.replace(data, date=dt.date(2023, 6, 22)), number="12")
    assert context["place_date"] == "Hà Nội, ngày 22 tháng 6 năm 2023"
    assert "Kèm theo Báo cáo số 12/BC-SVHTT ngày 22/06/2023" in context["annex_ref"]


# --- PDF -------------------------------------------------------------------------------------


@needs_poppler
def test_pdf_has_header_number_date_sums_recipients_and_signer(files):
    text = squash(pdf_text(files.pdf))
    for expected in KEY_STRINGS:
        assert squash(expected) in text, expected
    assert "Số:" in text


@needs_poppler
def test_pdf_is_a4_with_embedded_serif_fonts_that_carry_vietnamese(files):
    info = subprocess.run(["pdfinfo", str(files.pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.2\d* x 841\.89 pts \(A4\)", info), info
    fonts = subprocess.run(["pdffonts", str(files.pdf)], check=True, capture_output=True, text=True).stdout
    names = [line.split()[0] for line in fonts.splitlines()[2:]]
    assert names and all("LiberationSerif" in n.replace("-", "") or "TimesNewRoman" in n.replace("-", "") for n in names), names


@needs_poppler
def test_pdf_numbers_pages_from_the_second_one_in_the_top_margin(files):
    first = pdf_text(files.pdf, 1, layout=True).strip().splitlines()[0]
    second = pdf_text(files.pdf, 2, layout=True).strip().splitlines()[0]
    assert first.strip() != "1" and "UBND" in first
    assert second.strip() == "2"


@needs_poppler
def test_pdf_body_lists_late_stages_with_reasons_and_the_annex_tables(files):
    text = squash(pdf_text(files.pdf))
    assert "Nội dung 5 (Đề án phát triển công nghiệp văn hoá) do Phòng Quản lý Di sản chủ trì chưa hoàn thành đúng thời hạn" in text
    assert "Nguyên nhân: =HYPERLINK" in text  # item 5's reason, as typed
    assert "[Cần bổ sung: nguyên nhân chậm tiến độ của nội dung 1]" in text  # item 1 gave none
    for key in ("items", "indicators", "units", "late", "counterparts"):
        assert squash(TABLES_BY_KEY[key].title) in text, key


# --- DOCX ------------------------------------------------------------------------------------


def test_docx_reads_back_with_the_same_content(files):
    text = squash(docx_text(files.docx))
    for expected in KEY_STRINGS:
        assert squash(expected) in text, expected
    assert "{{" not in text and "{%" not in text


def test_the_files_say_which_placeholders_are_left_and_the_docx_still_holds_them(files, data):
    """The drafter's placeholders: listed on ReportFiles, in the order the body gives them, and found
    again in the editable DOCX (highlighted runs, read back as text)."""
    assert files.placeholders, "the lesson learnt is always the drafter's"
    assert "nguyên nhân chậm tiến độ của nội dung 1" in files.placeholders
    assert "bài học kinh nghiệm rút ra trong kỳ" in files.placeholders
    # the body's placeholders, in order; the annex's late table repeats item 1's missing reason
    assert list(dict.fromkeys(placeholders_in(docx_text(files.docx)))) == list(files.placeholders)


def test_docx_page_is_a4_with_the_decree_margins_and_a_number_from_page_two(files):
    document = Document(str(files.docx))
    section = document.sections[0]
    mm = lambda length: round(length.mm)  # noqa: E731
    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert 20 <= mm(section.top_margin) <= 25 and 20 <= mm(section.bottom_margin) <= 25
    assert 30 <= mm(section.left_margin) <= 35 and 15 <= mm(section.right_margin) <= 20
    assert section.different_first_page_header_footer
    assert 'w:instr="PAGE"' in section.header._element.xml


def test_docx_carries_both_charts(files):
    document = Document(str(files.docx))
    assert len(document.inline_shapes) == 2
    with zipfile.ZipFile(files.docx) as package:
        assert len([n for n in package.namelist() if n.startswith("word/media/")]) == 2


def test_docx_template_is_what_the_generator_writes(tmp_path):
    fresh = build_docx_template(tmp_path / "bao-cao.docx")
    with zipfile.ZipFile(DOCX_TEMPLATE) as committed, zipfile.ZipFile(fresh) as generated:
        for part in ("word/document.xml", "word/styles.xml"):
            assert committed.read(part) == generated.read(part), f"{part}: run `python -m reports.docx_template` and commit"


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_sheets_match_the_tables(files, data):
    sheets = pd.read_excel(files.xlsx, sheet_name=None, header=HEADER_ROW - 1)
    assert list(sheets) == ["Nội dung", "Chỉ tiêu", "Tổng hợp chỉ tiêu", "Đơn vị", "Chậm tiến độ", "Đối tác"]
    frames = {"items": data.items, "indicators": data.indicators, "indicator_totals": data.indicator_totals, "units": data.units, "late": data.late, "counterparts": data.counterparts}
    for key, frame in frames.items():
        spec = TABLES_BY_KEY[key]
        sheet = sheets[spec.sheet].rename(columns={header: column for column, header in spec.xlsx})
        assert list(sheet.columns) == [column for column, _ in spec.xlsx]
        assert len(sheet) == len(frame), key
        for column in sheet.columns:
            if column in ("kind", "due", "occurrence") or (key, column) == ("counterparts", "items"):
                continue  # labels, dates and item lists: checked below
            # an empty text cell reads back as missing
            expected = [(clean_text(v) or None) if isinstance(v, str) else (None if pd.isna(v) else v) for v in frame[column]]
            got = [None if pd.isna(v) else v for v in sheet[column]]
            assert got == expected, (key, column)
    indicators = sheets["Chỉ tiêu"]
    totals = sheets["Tổng hợp chỉ tiêu"].set_index("Chỉ tiêu")["Kết quả"]
    assert totals["Số lượt người tham gia"] == 25600 == indicators.loc[indicators["Chỉ tiêu"] == "Số lượt người tham gia", "Kết quả"].sum()
    assert list(sheets["Chậm tiến độ"]["Hạn"].dt.date) == [dt.date(2023, 6, 7), dt.date(2023, 5, 30)]
    assert [None if pd.isna(v) else v for v in sheets["Chậm tiến độ"]["Đợt"]] == ["tháng 5/2023", None]
    assert list(sheets["Nội dung"]["Loại"])[:2] == ["Thường xuyên", "Chương trình"]
    assert list(sheets["Đối tác"]["Nội dung"]) == ["6, 9", "7", "9"]  # item numbers, as text
    assert list(sheets["Đối tác"]["Loại"]) == ["Đại sứ quán", "Phái đoàn", "Đại sứ quán"]


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text(files):
    from openpyxl import load_workbook

    sheet = load_workbook(files.xlsx)["Chậm tiến độ"]
    reason = sheet.cell(row=HEADER_ROW + 2, column=8)
    assert reason.data_type == "s" and reason.value.startswith("=HYPERLINK")
    assert "\x0b" not in reason.value


def test_xlsx_header_row_is_bold(files):
    from openpyxl import load_workbook

    workbook = load_workbook(files.xlsx)
    assert all(cell.font.bold for sheet in workbook for cell in sheet[HEADER_ROW])


# --- an empty period -------------------------------------------------------------------------


def test_empty_period_still_gives_a_valid_report_that_says_so(empty_files):
    text = squash(docx_text(empty_files.docx))
    assert NO_EVENTS in text
    assert "Số: 07/BC-SVHTT" in text
    assert "Không có số liệu trong kỳ" in text
    assert "[Cần bổ sung: kinh phí đã sử dụng trong kỳ]" in text
    assert empty_files.placeholders and "bài học kinh nghiệm rút ra trong kỳ" in empty_files.placeholders
    sheets = pd.read_excel(empty_files.xlsx, sheet_name=None, header=HEADER_ROW - 1)
    assert len(sheets["Chỉ tiêu"]) == 0 and len(sheets["Chậm tiến độ"]) == 0 and len(sheets["Nội dung"]) == 9
    assert all(path.stat().st_size > 0 for path in empty_files.charts)


@needs_poppler
def test_empty_period_pdf_says_so(empty_files):
    text = squash(pdf_text(empty_files.pdf))
    assert NO_EVENTS in text
    assert "Số: 07/BC-SVHTT" in text
    assert "Đỗ Đình Hồng" in text


# --- charts ----------------------------------------------------------------------------------


def test_stage_bars_follow_the_late_table_and_the_count_of_finished_stages(data):
    from reports.charts import STAGE_CURRENT, STAGE_DONE, STAGE_LATER, STAGE_OVERDUE, stage_bars

    plan = data.plan
    # item 5: one occurrence, 1 stage done, coordination in the late table, the rest to come
    states = [state for *_, state in stage_bars(data, plan.item(5))]
    assert states == [STAGE_DONE, STAGE_OVERDUE, STAGE_CURRENT, STAGE_LATER]
    # item 7 is done; item 8 (on request) has no window of its own
    assert {state for *_, state in stage_bars(data, plan.item(7))} == {STAGE_DONE}
    assert stage_bars(data, plan.item(8)) == []
    # bars follow one another and end on each stage's due date
    bars = stage_bars(data, plan.item(9))
    assert all(a[2] == b[1] for a, b in zip(bars, bars[1:]))


def test_charts_are_png_files_at_print_resolution(files):
    from PIL import Image

    assert [p.suffix for p in files.charts] == [".png", ".png"]
    for path in files.charts:
        with Image.open(path) as image:
            assert image.width >= 900  # 6.3 in at 150 dpi

"""How the report is laid out, per Decree 30/2020/NĐ-CP: the A4 page and its header boxes, the
template files, and the tables (one definition for the PDF, the DOCX and the XLSX annex)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
HTML_TEMPLATE = "bao-cao.html.j2"
DOCX_TEMPLATE = TEMPLATES / "bao-cao.docx"

# Decree 30/2020, Appendix I: A4; top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
PAGE_MM = {"width": 210, "height": 297, "top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_MM = PAGE_MM["width"] - PAGE_MM["left"] - PAGE_MM["right"]  # 165
HEADER_LEFT_MM = 66  # the header's left box (bodies, number); the right one takes the rest

# The annex (Phụ lục) on A4 turned sideways, so that no word, date or number of its tables breaks.
# The edge bound with the portrait pages is the landscape page's top: the wide margin goes there.
ANNEX_PAGE_MM = {"width": 297, "height": 210, "top": 30, "bottom": 15, "left": 20, "right": 20}
ANNEX_TEXT_WIDTH_MM = ANNEX_PAGE_MM["width"] - ANNEX_PAGE_MM["left"] - ANNEX_PAGE_MM["right"]  # 257
ANNEX_TEXT_HEIGHT_MM = ANNEX_PAGE_MM["height"] - ANNEX_PAGE_MM["top"] - ANNEX_PAGE_MM["bottom"]  # 165
# The charts, at the end of the annex: this wide at most, and short enough to share a page with their caption.
CHART_WIDTH_MM = 200
CHART_HEIGHT_MM = 140


# --- tables: one definition for the PDF, the DOCX and the XLSX annex ---------------------------


@dataclass(frozen=True)
class Column:
    header: str  # as printed in the PDF and the DOCX
    width_mm: float
    numeric: bool = False  # right-aligned, and on one line
    # How its cells' lines break in the PDF: "words" only between words (titles, unit names);
    # "none" never (dates; numbers always); "anywhere" as a last resort inside a word too (free text
    # such as a reason, which may hold a pasted link longer than the column).
    wrap: str = "words"

    @property
    def css_class(self) -> str:
        """The cell's classes in the HTML template."""
        if self.numeric:
            return "num keep"
        return {"none": "keep", "anywhere": "free"}.get(self.wrap, "words")


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str
    columns: tuple[Column, ...]
    sheet: str  # the XLSX sheet
    # (contract column, sheet header): what people read, in Vietnamese; the contract's codes (stage,
    # indicator, unit and counterpart ids) stay out, their labels are beside them.
    xlsx: tuple[tuple[str, str], ...]
    total: bool = False
    annex: bool = True  # on the annex's landscape pages; False: in the body, on the portrait ones

    @property
    def text_width_mm(self) -> float:
        """The width its columns share: the text width of the pages it is printed on."""
        return ANNEX_TEXT_WIDTH_MM if self.annex else TEXT_WIDTH_MM


# The body's table (indicator sums) and the annex tables. Widths add up to the text width of their
# pages: 165 mm in the body, 257 mm in the (landscape) annex. The annex's dates, unit short names
# and numbers never wrap, so their columns are as wide as "13/04–15/04/2023", "TTTTTL" and
# "Bước đã xong" need at 11 pt.
TABLES = (
    TableSpec(
        "indicator_totals",
        "Kết quả thực hiện các chỉ tiêu trong kỳ",
        (Column("TT", 10, True), Column("Chỉ tiêu", 83), Column("Đơn vị tính", 27), Column("Kết quả", 22, True), Column("Số nội dung", 23, True)),
        "Tổng hợp chỉ tiêu",
        (("label", "Chỉ tiêu"), ("unit", "Đơn vị tính"), ("value", "Kết quả"), ("items", "Số nội dung")),
        annex=False,
    ),
    TableSpec(
        "items",
        "Tình hình thực hiện các nội dung của Kế hoạch",
        (
            Column("TT", 10, True),
            Column("Nội dung", 60),
            Column("Thời gian", 40),
            Column("Chủ trì", 34),
            Column("Phối hợp", 30),
            Column("Tình trạng", 33),
            Column("Bước đã xong", 18, True),
            Column("Xong trong kỳ", 16, True),
            Column("Quá hạn", 16, True),
        ),
        "Nội dung",
        (
            ("number", "TT"),
            ("short_title", "Nội dung"),
            ("title", "Nội dung theo Kế hoạch"),
            ("kind", "Loại"),
            ("window", "Thời gian"),
            ("lead", "Chủ trì"),
            ("coordinating", "Phối hợp"),
            ("rag_label", "Tình trạng"),
            ("occurrences", "Số đợt"),
            ("stages_total", "Tổng số bước"),
            ("stages_done", "Bước đã xong"),
            ("stages_done_in_period", "Bước xong trong kỳ"),
            ("stages_overdue", "Bước quá hạn"),
        ),
        total=True,
    ),
    TableSpec(
        "indicators",
        "Kết quả các chỉ tiêu theo từng nội dung",
        (Column("Nội dung", 22, True), Column("Chỉ tiêu", 155), Column("Đơn vị tính", 45), Column("Kết quả", 35, True)),
        "Chỉ tiêu",
        (("item_number", "Nội dung"), ("label", "Chỉ tiêu"), ("unit", "Đơn vị tính"), ("value", "Kết quả")),
    ),
    TableSpec(
        "units",
        "Kết quả thực hiện theo đơn vị",
        (
            Column("Đơn vị", 97),
            Column("Nội dung chủ trì", 40, True),
            Column("Nội dung phối hợp", 40, True),
            Column("Bước đã xong", 40, True),
            Column("Bước quá hạn", 40, True),
        ),
        "Đơn vị",
        (
            ("short_name", "Tên viết tắt"),
            ("name", "Đơn vị"),
            ("items_led", "Nội dung chủ trì"),
            ("items_coordinated", "Nội dung phối hợp"),
            ("stages_done", "Bước đã xong"),
            ("stages_overdue", "Bước quá hạn"),
        ),
        total=True,
    ),
    TableSpec(
        "late",
        "Các bước công việc chậm tiến độ",
        (
            Column("Nội dung", 72),
            Column("Bước", 26),
            Column("Hạn", 26, wrap="none"),
            Column("Số ngày làm việc chậm", 22, True),
            Column("Chủ trì", 30),
            Column("Nguyên nhân", 81, wrap="anywhere"),
        ),
        "Chậm tiến độ",
        (
            ("item_number", "Nội dung"),
            ("short_title", "Tên nội dung"),
            ("occurrence", "Đợt"),
            ("stage_label", "Bước"),
            ("due", "Hạn"),
            ("working_days_late", "Số ngày làm việc chậm"),
            ("lead", "Chủ trì"),
            ("reason", "Nguyên nhân"),
        ),
    ),
    TableSpec(
        "counterparts",
        "Các cơ quan, tổ chức nước ngoài đã phối hợp, tham gia",
        (
            Column("Cơ quan, tổ chức", 150),
            Column("Nội dung", 50),
            Column("Số lượt phối hợp", 57, True),
        ),
        "Đối tác",
        (
            ("name", "Đối tác"),
            ("kind", "Loại"),
            ("items", "Nội dung"),
            ("confirmed", "Nhận lời"),
            ("declined", "Từ chối"),
            ("no_answer", "Không phản hồi"),
            ("awaiting", "Chờ trả lời"),
        ),
        total=True,
    ),
)
TABLES_BY_KEY = {t.key: t for t in TABLES}
ANNEX_TABLES = ("items", "indicators", "units", "late", "counterparts")

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


# --- tables: one definition for the PDF, the DOCX and the XLSX annex ---------------------------


@dataclass(frozen=True)
class Column:
    header: str  # as printed in the PDF and the DOCX
    width_mm: float
    numeric: bool = False


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str
    columns: tuple[Column, ...]
    sheet: str  # the XLSX sheet
    xlsx: tuple[tuple[str, str], ...]  # (contract column, sheet header)
    total: bool = False


# The body's table (indicator sums) and the annex tables. Widths add up to the 165 mm text width.
TABLES = (
    TableSpec(
        "indicator_totals",
        "Kết quả thực hiện các chỉ tiêu trong kỳ",
        (Column("TT", 10, True), Column("Chỉ tiêu", 83), Column("Đơn vị tính", 27), Column("Kết quả", 22, True), Column("Số nội dung", 23, True)),
        "Tổng hợp chỉ tiêu",
        (("indicator", "Mã chỉ tiêu"), ("label", "Chỉ tiêu"), ("unit", "Đơn vị tính"), ("value", "Kết quả"), ("items", "Số nội dung")),
    ),
    TableSpec(
        "items",
        "Tình hình thực hiện các nội dung của Kế hoạch",
        (
            Column("TT", 8, True),
            Column("Nội dung", 34),
            Column("Thời gian", 24),
            Column("Chủ trì", 18),
            Column("Phối hợp", 16),
            Column("Tình trạng", 24),
            Column("Bước đã xong", 14, True),
            Column("Xong trong kỳ", 14, True),
            Column("Quá hạn", 13, True),
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
        (Column("Nội dung", 20, True), Column("Chỉ tiêu", 95), Column("Đơn vị tính", 28), Column("Kết quả", 22, True)),
        "Chỉ tiêu",
        (("item_number", "Nội dung"), ("indicator", "Mã chỉ tiêu"), ("label", "Chỉ tiêu"), ("unit", "Đơn vị tính"), ("value", "Kết quả")),
    ),
    TableSpec(
        "units",
        "Kết quả thực hiện theo đơn vị",
        (
            Column("Đơn vị", 61),
            Column("Nội dung chủ trì", 26, True),
            Column("Nội dung phối hợp", 26, True),
            Column("Bước đã xong", 26, True),
            Column("Bước quá hạn", 26, True),
        ),
        "Đơn vị",
        (
            ("unit", "Mã đơn vị"),
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
            Column("Nội dung", 34),
            Column("Bước", 19),
            Column("Hạn", 23),
            Column("Số ngày chậm", 16, True),
            Column("Chủ trì", 20),
            Column("Nguyên nhân", 53),
        ),
        "Chậm tiến độ",
        (
            ("item_number", "Nội dung"),
            ("short_title", "Tên nội dung"),
            ("occurrence", "Đợt"),
            ("stage", "Mã bước"),
            ("stage_label", "Bước"),
            ("due", "Hạn"),
            ("working_days_late", "Số ngày làm việc chậm"),
            ("lead", "Chủ trì"),
            ("reason", "Nguyên nhân"),
        ),
    ),
    TableSpec(
        "counterparts",
        "Tình hình phối hợp với các đối tác nước ngoài",
        (
            Column("Đối tác", 55),
            Column("Nội dung", 20),
            Column("Nhận lời", 20, True),
            Column("Từ chối", 20, True),
            Column("Không phản hồi", 25, True),
            Column("Chờ trả lời", 25, True),
        ),
        "Đối tác",
        (
            ("counterpart", "Mã đối tác"),
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

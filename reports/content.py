"""The content both documents show, as text: the header boxes, the tables' rows, the recipients and
the signer block. `report_context` gathers it into the one dict the PDF and the DOCX render."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from plan.model import AllYearWindow, Counted, Item, Plan, Signer
from plan.text import place_and_date, short_date
from reports.data import ReportData
from reports.dating import report_date
from reports.layout import ANNEX_TABLES, TABLES_BY_KEY, Column
from reports.narrative import (
    ASSESSMENT_HEADINGS,
    SECTION_HEADINGS,
    Narrative,
    agency_symbol,
    build_narrative,
    clean_text,
    held_dates,
    item_numbers,
    names_none,
    number_text,
    occurrence_label,
    required_date,
    withheld_names,
)
from reports.placeholders import placeholder, placeholders_in

REPORT_TYPE = "BÁO CÁO"
REPORT_CODE = "BC"
BLANK_NUMBER = "\u00a0" * 7  # the records office writes the number in by hand
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_SUB = "Độc lập - Tự do - Hạnh phúc"

# The body's sections are the narrative's (reports.narrative); the annex, as both documents head it.
SUBHEADINGS = ASSESSMENT_HEADINGS
ANNEX_HEADING = "Phụ lục"
ANNEX_TITLE = "SỐ LIỆU KẾT QUẢ TRIỂN KHAI KẾ HOẠCH"

CHART_CAPTIONS = (
    "Tiến độ các nội dung và các bước công việc (đường nét đứt: ngày báo cáo)",
    "Tổng hợp tình trạng các nội dung và các bước công việc",
)


# --- the tables as text --------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    number: str  # "1" in the body, "I.1" in the annex
    title: str
    columns: tuple[Column, ...]
    rows: list[list[str]]
    total: list[str] | None = None


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if frame is not None and len(frame) else []


def _table_rows(data: ReportData, key: str) -> tuple[list[list[str]], list[str] | None]:
    n = number_text
    rows: list[list[str]] = []
    total = None
    if key == "indicator_totals":
        distinct = {i.id for i in data.plan.indicators if i.counted is Counted.DISTINCT}
        rows = [
            [n(i), clean_text(r["label"]) + (" (tại sự kiện đông nhất)" if r["indicator"] in distinct else ""), clean_text(r["unit"]), n(r["value"]), n(r["items"])]
            for i, r in enumerate([r for r in frame_records(data.indicator_totals) if int(r["value"])], 1)
        ]
    elif key == "items":
        plan_items = {i.number: i for i in data.plan.items}
        records = frame_records(data.items)
        rows = [
            [
                n(r["number"]),
                clean_text(r["short_title"]),
                _when(data, plan_items[int(r["number"])], r),
                clean_text(r["lead"]),
                clean_text(r["coordinating"]),
                clean_text(r["rag_label"]),
                f"{n(r['stages_done'])}/{n(r['stages_total'])}",
                n(r["stages_done_in_period"]),
                n(r["stages_overdue"]),
            ]
            for r in records
        ]
        if records:
            done = sum(int(r["stages_done"]) for r in records)
            planned = sum(int(r["stages_total"]) for r in records)
            total = ["", "Tổng cộng", "", "", "", "", f"{n(done)}/{n(planned)}"] + [
                n(sum(int(r[c]) for r in records)) for c in ("stages_done_in_period", "stages_overdue")
            ]
    elif key == "indicators":
        rows = [[n(r["item_number"]), clean_text(r["label"]), clean_text(r["unit"]), n(r["value"])] for r in frame_records(data.indicators)]
    elif key == "units":
        records = frame_records(data.units)
        columns = ("items_led", "items_coordinated", "stages_done", "stages_overdue")
        rows = [[clean_text(r["name"])] + [n(r[c]) for c in columns] for r in records]
        if records:
            total = ["Tổng cộng"] + [n(sum(int(r[c]) for r in records)) for c in columns]
    elif key == "late":
        withheld = withheld_names(data)
        rows = []
        for r in frame_records(data.late):
            where = occurrence_label(r["occurrence"])
            rows.append(
                [
                    f"{n(r['item_number'])}. {clean_text(r['short_title'])}" + (f" ({where})" if where else ""),
                    clean_text(r["stage_label"]),
                    short_date(required_date(r["due"])),
                    n(r["working_days_late"]),
                    clean_text(r["lead"]),
                    _reason(r, withheld),
                ]
            )
    elif key == "counterparts":  # leaves the Department: who took part, never who declined (see the XLSX)
        names = {c.id: c.name for c in data.plan.counterparts}
        records = [r for r in frame_records(data.counterparts) if int(r["confirmed"])]
        rows = [[clean_text(names.get(r["counterpart"], r["name"])), items_text(r["items"]), n(r["confirmed"])] for r in records]
        if records:
            total = [f"Tổng cộng: {n(len(records))} cơ quan, tổ chức", "", n(sum(int(r["confirmed"]) for r in records))]
    return rows, total


def _when(data: ReportData, item: Item, row: dict[str, Any]) -> str:
    """The item's time as the annex prints it: the dates it was held, once known (an all-year item
    keeps its year in front of its sessions' dates); else the plan's wording."""
    held, planned = held_dates(data, item), clean_text(row["window"])
    if not held:
        return planned
    return f"{planned}; {held}" if isinstance(item.window, AllYearWindow) else held


def _reason(row: dict[str, Any], withheld: list[str]) -> str:
    """The late step's reason as given, unless it names a counterpart the report must not name (or
    none was given): then the drafter's placeholder."""
    reason = clean_text(row["reason"])
    if reason and names_none(reason, withheld):
        return reason
    return placeholder(f"nguyên nhân chậm tiến độ của nội dung {int(row['item_number'])}")


def abbreviations(plan: Plan) -> str:
    """The annex's key to the short names its tables use: "Chữ viết tắt: VP: Văn phòng Sở; …"."""
    named = [(u.short_name, u.name) for u in plan.units] + [(b.short_name, b.name) for b in plan.bodies]
    pairs = [f"{short}: {name}" for short, name in named if short and short != name]
    return clean_text("Chữ viết tắt: " + "; ".join(pairs) + ".") if pairs else ""


def items_text(value: Any) -> str:
    return ", ".join(str(i) for i in item_numbers(value))


def _tables(data: ReportData) -> dict[str, Table]:
    tables = {}
    for index, key in enumerate(("indicator_totals",) + ANNEX_TABLES):
        spec = TABLES_BY_KEY[key]
        rows, total = _table_rows(data, key)
        if not rows:  # said in the widest column, so it reads on one line
            widest = max(range(len(spec.columns)), key=lambda i: spec.columns[i].width_mm)
            rows = [["Không có số liệu trong kỳ" if i == widest else "" for i in range(len(spec.columns))]]
        number = str(max(index, 1))  # "Bảng 1" in the body, "Biểu 1…5" in the annex
        tables[key] = Table(number, spec.title, spec.columns, rows, total)
    return tables



# --- the content both documents show --------------------------------------------------------


def number_symbol(plan: Plan, number: str | int | None) -> str:
    """"Số: 05/BC-SVHTT", or with the number left blank for the records office."""
    if number is None or str(number).strip() == "":
        shown = BLANK_NUMBER
    else:
        shown = str(number).strip()
        if shown.isdigit() and len(shown) < 2:
            shown = shown.zfill(2)  # Decree 30/2020: numbers below 10 get a leading zero
    return f"{shown}/{REPORT_CODE}-{agency_symbol(plan)}"


_AUTHORITY_ONLY = re.compile(r"^(TM|KT|Q|TL|TUQ)\.?$", re.IGNORECASE)


def signer_lines(plan: Plan, signer: Signer) -> list[str]:
    """The signer's authority and title lines, upper case (Decree 30/2020, box 7)."""
    title = signer.title.upper()
    authority = (signer.authority or "").strip()
    if not authority:
        return [title]
    match = _AUTHORITY_ONLY.match(authority)
    if match is None:  # already the full line, e.g. "KT. GIÁM ĐỐC"
        return [authority.upper(), title]
    code = match.group(1).upper()
    if code == "Q":
        return [f"Q. {title}"]
    if code == "TM":
        return [f"TM. {plan.department.header_name.upper()}", title]
    head = next((m.title for m in plan.directors.members if not m.title.lower().startswith("phó")), "Giám đốc")
    return [f"{code}. {head.upper()}", title]


def _recipients(plan: Plan) -> tuple[list[str], list[str]]:
    """("Kính gửi" lines, "Nơi nhận" lines) from the reporting regime: the bodies written to are
    "Như trên" in Nơi nhận (Decree 30/2020, box 9b), then the directors, then the file copy."""
    to = []
    for recipient in plan.reporting.recipients:
        name = plan.party_name(recipient.body)
        via = [plan.party_name(v) for v in recipient.via]
        to.append(name + (f" (qua {', '.join(via)})" if via else ""))
    compiler = plan.party_name(plan.reporting.compiled_by, short=True)
    return to, ["- Như trên;", f"- {plan.directors.name};", f"- Lưu: VT, {compiler}."]


def _listed(lines: list[str]) -> list[str]:
    """One recipient: "X."; several: "- X;" … "- Y." (Decree 30/2020, box 9a)."""
    if len(lines) == 1:
        return [f"{lines[0]}."]
    return [f"- {line}{'.' if i == len(lines) - 1 else ';'}" for i, line in enumerate(lines)]


def report_context(
    data: ReportData,
    *,
    number: str | int | None = None,
    signer: Signer | None = None,
    narrative: Narrative | None = None,
) -> dict[str, Any]:
    """Everything the two templates show, as text: the PDF and the DOCX render this one dict."""
    plan = data.plan
    narrative = narrative or build_narrative(data)
    signer = signer or plan.document.signer
    parent = next(b for b in plan.bodies if b.id == plan.document.parent_body)
    to, copies = _recipients(plan)
    symbol = number_symbol(plan, number)
    tables = _tables(data)
    dated = data.date or report_date(plan, data.period, data.as_of)
    return {
        "parent_header": clean_text(parent.header_name or parent.name.upper()),
        "issuer_header": clean_text(plan.department.header_name),
        "number_line": f"Số: {symbol}",
        "place_date": place_and_date(plan.document.place, dated),
        "date": dated,
        "motto": MOTTO,
        "motto_sub": MOTTO_SUB,
        "doc_type": REPORT_TYPE,
        "summary": narrative.summary,
        "recipients": _listed([clean_text(t) for t in to]),
        "intro": narrative.intro,
        "no_events": narrative.no_events,
        "sections": [
            {"heading": section.heading, "blocks": [{"text": b.text, "heading": b.heading} for b in section.blocks]}
            for section in narrative.sections
        ],
        "placeholders": list(dict.fromkeys(placeholders_in("\n".join([narrative.text(), *(" ".join(row) for t in tables.values() for row in t.rows)])))),
        "closing": narrative.closing,
        "tables": tables,
        "annex": [tables[k] for k in ANNEX_TABLES],
        "annex_ref": (
            f"(Kèm theo Báo cáo số {symbol} ngày {short_date(dated)} của {plan.department.name})"
        ),
        "distribution": [clean_text(c) for c in copies],
        "abbreviations": abbreviations(plan),
        "signer_lines": signer_lines(plan, signer),
        "signer_name": clean_text(signer.name),
        "title": f"{REPORT_TYPE} {narrative.summary}",
        "charts": [],
        "headings": SECTION_HEADINGS,
        "subheadings": SUBHEADINGS,
        "annex_heading": ANNEX_HEADING,
        "annex_title": ANNEX_TITLE,
    }

"""The report's words, pure: from a `ReportData`, the Vietnamese paragraphs of each section.

Every string that leaves this module has gone through `clean_text`, so the PDF, the DOCX and the
XLSX can put it in as plain text: no control character reaches Word's XML or the HTML parser.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from plan.calendar import PeriodKind, ReportingPeriod, periods_in_year
from plan.model import STAGE_LABELS, ItemKind, Plan, Stage
from plan.schedule import stage_due_dates, working_calendar
from plan.text import long_date, short_date
from reports.data import ReportData

NO_EVENTS = "Trong kỳ báo cáo chưa ghi nhận kết quả triển khai nào của Kế hoạch"
NO_REASON = "đơn vị chủ trì chưa báo cáo nguyên nhân"
LATE_LISTED = 3  # late stages named per item in the text

# Characters XML 1.0 forbids (Word refuses the file) plus the C1 controls, which no user means.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def clean_text(value: Any) -> str:
    """Any cell as one line of NFC text: control characters (vertical tab, form feed…) become spaces,
    runs of white space one space. Markup stays as the characters the user typed."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return _SPACES.sub(" ", _FORBIDDEN.sub(" ", text)).strip()


def number_text(value: Any) -> str:
    """12500 -> "12.500": Vietnamese documents group thousands with a dot."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    number = int(value)
    return f"{number:,}".replace(",", ".")


def as_date(value: Any) -> dt.date | None:
    """A date from a cell that may hold a date, a datetime, a pandas Timestamp or an ISO string."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def required_date(value: Any) -> dt.date:
    """`as_date` of a cell that always holds a date (`late.due`, `notes.date`); TypeError without one."""
    date = as_date(value)
    if date is None:
        raise TypeError(f"a date was expected, not {value!r}")
    return date


def item_numbers(value: Any) -> list[int]:
    """The item numbers in a cell: an int, a list, or text such as "6, 9"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, str):
        return [int(n) for n in re.findall(r"\d+", value)]
    if isinstance(value, Iterable):
        return [int(v) for v in value]
    return [int(value)]


def occurrence_label(occurrence: Any) -> str:
    """How an occurrence reads in a sentence: "" for the item's own window, "tháng 5/2023" for a
    month, "đợt ngày 01/08/2023" for a dated session or request. Takes the ledger's ids ("main",
    "2023-05", "2023-08-01-dsq-singapore") or a label already written for people (kept as it is)."""
    text = clean_text(occurrence)
    if not text or text == "main":
        return ""
    if month := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return f"tháng {int(month.group(2))}/{month.group(1)}"
    if day := re.match(r"(\d{4}-\d{2}-\d{2})(?:$|-)", text):
        return f"đợt ngày {short_date(dt.date.fromisoformat(day.group(1)))}"
    return text


def agency_symbol(plan: Plan) -> str:
    """The issuing body's part of the plan's number/symbol: "326/KH-SVHTT" -> "SVHTT"."""
    return plan.document.number_symbol.split("/", 1)[1].split("-", 1)[1]


def report_summary(data: ReportData) -> str:
    """The trích yếu: "Kết quả tổ chức triển khai … của ngành văn hoá và thể thao 6 tháng đầu năm 2023"."""
    title = data.plan.document.title
    title = re.sub(rf"\s+năm\s+{data.plan.year}\s*$", "", title)
    return clean_text(f"Kết quả {title[:1].lower()}{title[1:]} {data.period.label}")


# --- the sections ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSection:
    number: int
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Narrative:
    summary: str
    intro: str
    no_events: str | None  # the explicit sentence for a period without any event
    items: tuple[ItemSection, ...]
    achievements: tuple[str, ...]  # đã làm được
    shortcomings: tuple[str, ...]  # hạn chế, nguyên nhân
    next_tasks: tuple[str, ...]  # nhiệm vụ kỳ tới
    recommendations: tuple[str, ...]  # kiến nghị, đề xuất
    closing: str


def build_narrative(data: ReportData) -> Narrative:
    plan = data.plan
    start, end = data.window
    intro = (
        f"Thực hiện {plan.document.type} số {plan.document.number_symbol} ngày {short_date(plan.document.issued_on)} "
        f"của {plan.department.name} về {plan.document.title[:1].lower()}{plan.document.title[1:]}, "
        f"{plan.department.name} báo cáo kết quả triển khai {data.period.label} "
        f"(số liệu từ ngày {short_date(start)} đến ngày {short_date(end)}, tình hình tính đến {long_date(data.as_of)}) như sau:"
    )
    no_events = None
    if data.empty:
        no_events = (
            f"{NO_EVENTS} (không có thông tin cập nhật nào từ ngày {short_date(start)} đến ngày {short_date(end)}). "
            "Các nội dung của Kế hoạch tiếp tục được theo dõi và báo cáo ở kỳ sau."
        )
    compiler = plan.party_name(plan.reporting.compiled_by)
    closing = (
        f"Trên đây là báo cáo kết quả triển khai {plan.document.type} số {plan.document.number_symbol} "
        f"{data.period.label} của {plan.department.name}./."
    )
    return Narrative(
        summary=report_summary(data),
        intro=clean_text(intro),
        no_events=no_events,
        items=tuple(_item_sections(data)),
        achievements=tuple(clean_text(p) for p in _achievements(data)),
        shortcomings=tuple(clean_text(p) for p in _shortcomings(data)),
        next_tasks=tuple(clean_text(p) for p in _next_tasks(data, compiler)),
        recommendations=tuple(clean_text(p) for p in _recommendations(data)),
        closing=clean_text(closing),
    )


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if frame is not None and len(frame) else []


def _of_item(frame: pd.DataFrame, number: int, column: str = "item_number") -> list[dict[str, Any]]:
    return [row for row in _rows(frame) if int(row[column]) == number]


def _indicator_phrase(rows: list[dict[str, Any]]) -> str:
    return "; ".join(f"{clean_text(r['label'])}: {number_text(r['value'])} {clean_text(r['unit'])}" for r in rows)


def _item_sections(data: ReportData) -> Iterable[ItemSection]:
    counterparts = _rows(data.counterparts)
    for item in _rows(data.items):
        number = int(item["number"])
        lines = []
        who = f"Đơn vị chủ trì: {clean_text(item['lead'])}"
        if clean_text(item["coordinating"]):
            who += f"; phối hợp: {clean_text(item['coordinating'])}"
        lines.append(f"{who}. Thời gian thực hiện: {clean_text(item['window'])}.")

        progress = f"Tình hình đến ngày {short_date(data.as_of)}: {clean_text(item['rag_label']).lower()}; "
        if int(item["stages_total"]):
            progress += (
                f"đã hoàn thành {item['stages_done']}/{item['stages_total']} bước công việc"
                f" ({item['stages_done_in_period']} bước trong kỳ)"
            )
        else:
            progress += "chưa phát sinh công việc"
        if str(item["kind"]) in (ItemKind.RECURRING, ItemKind.PROGRAMME, ItemKind.ON_REQUEST) and int(item["occurrences"]) > 1:
            progress += f"; số đợt đã phát sinh: {item['occurrences']}"
        if int(item["stages_overdue"]):
            progress += f"; còn {item['stages_overdue']} bước quá hạn"
        lines.append(progress + ".")

        notes = sorted(_of_item(data.notes, number), key=lambda r: (as_date(r["date"]) or dt.date.min))
        indicators = [r for r in _of_item(data.indicators, number) if int(r["value"])]
        for note in notes:
            text = clean_text(note["text"])
            if not text:
                continue
            when = required_date(note["date"])
            stage = clean_text(note["stage_label"])
            lines.append(f"- Ngày {short_date(when)}" + (f" (bước {stage.lower()})" if stage else "") + f": {text.rstrip('.')}.")
        if indicators:
            lines.append(f"Kết quả đạt được trong kỳ: {_indicator_phrase(indicators)}.")
        if not indicators and not any(clean_text(n["text"]) for n in notes) and not int(item["stages_done_in_period"]):
            lines.append("Trong kỳ chưa ghi nhận kết quả của nội dung này.")

        engaged = [c for c in counterparts if number in item_numbers(c["items"])]
        confirmed = [clean_text(c["name"]) for c in engaged if int(c["confirmed"])]
        declined = [clean_text(c["name"]) for c in engaged if int(c["declined"])]
        if confirmed:
            lines.append(f"Đối tác nhận lời phối hợp: {', '.join(confirmed)}.")
        if declined:
            lines.append(f"Đối tác từ chối: {', '.join(declined)}.")
        yield ItemSection(
            number=number,
            heading=clean_text(f"{number}. {item['short_title']}"),
            paragraphs=tuple(clean_text(line) for line in lines),
        )


def _achievements(data: ReportData) -> Iterable[str]:
    items = _rows(data.items)
    done_in_period = sum(int(i["stages_done_in_period"]) for i in items)
    active = sum(1 for i in items if int(i["stages_done_in_period"]))
    if data.empty:
        yield f"{NO_EVENTS}, chưa có kết quả để đánh giá."
    elif done_in_period:
        yield f"Trong kỳ, các đơn vị đã hoàn thành {done_in_period} bước công việc thuộc {active}/{len(items)} nội dung của Kế hoạch."
    else:
        yield "Trong kỳ, các đơn vị chưa hoàn thành thêm bước công việc nào của Kế hoạch."
    tally = {rag: sum(1 for i in items if str(i["rag"]) == rag) for rag in ("done", "on_track", "at_risk", "off_track")}
    yield (
        f"Tính đến ngày {short_date(data.as_of)}, trong tổng số {len(items)} nội dung: {tally['done']} nội dung đã hoàn thành, "
        f"{tally['on_track']} nội dung đúng tiến độ, {tally['at_risk']} nội dung có nguy cơ chậm, "
        f"{tally['off_track']} nội dung chậm tiến độ."
    )
    totals = [r for r in _rows(data.indicator_totals) if int(r["value"])]
    if totals:
        yield f"Các chỉ tiêu chủ yếu đạt được trong kỳ: {_indicator_phrase(totals)}."
    confirmed = [clean_text(c["name"]) for c in _rows(data.counterparts) if int(c["confirmed"])]
    if confirmed:
        yield f"Có {len(confirmed)} đối tác nước ngoài nhận lời phối hợp: {', '.join(confirmed)}."


def _late_by_item(data: ReportData) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(_rows(data.late), key=lambda r: (int(r["item_number"]), as_date(r["due"]) or dt.date.min)):
        grouped.setdefault(int(row["item_number"]), []).append(row)
    return grouped


def _reasons(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(clean_text(r["reason"]).rstrip(".") for r in rows if clean_text(r["reason"])))


def _shortcomings(data: ReportData) -> Iterable[str]:
    late = _late_by_item(data)
    if late:
        total = sum(len(rows) for rows in late.values())
        yield f"Còn {total} bước công việc chậm so với thời hạn, thuộc {len(late)} nội dung:"
        for number, rows in late.items():
            stages = "; ".join(
                f"{clean_text(r['stage_label']).lower()}"
                + (f" {occurrence_label(r['occurrence'])}" if occurrence_label(r["occurrence"]) else "")
                + f" (hạn {short_date(required_date(r['due']))}, chậm {r['working_days_late']} ngày làm việc)"
                for r in rows[:LATE_LISTED]
            )
            if len(rows) > LATE_LISTED:  # a monthly item can pile up many: the annex lists them all
                stages += f" và {len(rows) - LATE_LISTED} bước khác (chi tiết tại Phụ lục)"
            reasons = _reasons(rows)
            missing = len(reasons) == 0 or any(not clean_text(r["reason"]) for r in rows)
            why = "; ".join(reasons + ([NO_REASON] if missing and reasons else [])) or NO_REASON
            yield (
                f"- Nội dung {number} ({clean_text(rows[0]['short_title'])}, chủ trì: {clean_text(rows[0]['lead'])}): "
                f"{len(rows)} bước chậm — {stages}. Nguyên nhân: {why}."
            )
    else:
        yield "Không có bước công việc nào chậm so với thời hạn."
    counterparts = _rows(data.counterparts)
    declined = [c for c in counterparts if int(c["declined"])]
    silent = [c for c in counterparts if int(c["no_answer"])]
    if declined:
        yield "Một số đối tác từ chối lời mời phối hợp: " + ", ".join(_with_items(c) for c in declined) + "."
    if silent:
        yield "Một số đối tác không phản hồi lời mời: " + ", ".join(_with_items(c) for c in silent) + "."


def _with_items(counterpart: dict[str, Any]) -> str:
    numbers = item_numbers(counterpart["items"])
    name = clean_text(counterpart["name"])
    return f"{name} (nội dung {', '.join(map(str, numbers))})" if numbers else name


def _next_period_end(data: ReportData) -> dt.date:
    """The cut-off of the next report in the plan's regime (the same kind next year if none is left)."""
    kinds = [PeriodKind(k) for k in data.plan.reporting.periods]
    end = data.window[1]
    following = [p for p in periods_in_year(kinds, end.year) + periods_in_year(kinds, end.year + 1) if p.data_window[1] > end]
    if following:
        return following[0].data_window[1]
    return ReportingPeriod(data.period.kind, data.period.year + 1, data.period.index).data_window[1]


def _next_tasks(data: ReportData, compiler: str) -> Iterable[str]:
    plan = data.plan
    next_end = _next_period_end(data)
    calendar = working_calendar(plan)
    items = {int(i["number"]): i for i in _rows(data.items)}
    late = _late_by_item(data)
    yield f"Trong kỳ tới (đến ngày {short_date(next_end)}), tập trung thực hiện các nhiệm vụ sau:"
    for item in plan.items:
        row = items.get(item.number)
        if row is not None and str(row["rag"]) == "done":
            continue
        tasks = []
        if item.number in late:
            rows = late[item.number]
            if len(rows) <= 3:
                tasks.append(
                    "khẩn trương hoàn thành các bước còn chậm ("
                    + ", ".join(
                        clean_text(r["stage_label"]).lower()
                        + (f" {occurrence_label(r['occurrence'])}" if occurrence_label(r["occurrence"]) else "")
                        for r in rows
                    )
                    + ")"
                )
            else:
                tasks.append(f"khẩn trương hoàn thành {len(rows)} bước còn chậm")
        dues = stage_due_dates(plan, item, calendar=calendar)
        if dues:
            coming = [(stage, due) for stage, due in dues.items() if data.as_of < due <= next_end]
            if coming:
                tasks.append("; ".join(f"{STAGE_LABELS[s].lower()} trước ngày {short_date(d)}" for s, d in coming))
            elif dues[Stage.REPORTING] > next_end:
                tasks.append("tiếp tục triển khai theo Kế hoạch")
        elif item.kind is ItemKind.ON_REQUEST:
            tasks.append("chủ động phối hợp tổ chức khi có yêu cầu của phía bạn")
        if tasks:
            lead = plan.party_name(item.lead, short=True)
            yield f"- Nội dung {item.number} ({item.short_title}, chủ trì: {lead}): {'; '.join(tasks)}."
    yield f"- {compiler} tổng hợp kết quả, báo cáo kỳ tiếp theo đúng thời hạn."


def _recommendations(data: ReportData) -> Iterable[str]:
    plan = data.plan
    recipients = ", ".join(plan.party_name(r.body) for r in plan.reporting.recipients)
    late = _late_by_item(data)
    off_track = [i for i in _rows(data.items) if str(i["rag"]) == "off_track"]
    if not off_track:
        yield "Không có kiến nghị, đề xuất phát sinh trong kỳ."
        return
    for item in off_track:
        number = int(item["number"])
        reasons = _reasons(late.get(number, []))
        yield (
            f"- Nội dung {number} ({clean_text(item['short_title'])}) chậm tiến độ"
            + (f", nguyên nhân: {'; '.join(reasons)}" if reasons else "")
            + "."
        )
    numbers = ", ".join(str(int(i["number"])) for i in off_track)
    yield (
        f"Đề nghị {recipients} quan tâm, chỉ đạo, tạo điều kiện để {plan.department.name} "
        f"tháo gỡ vướng mắc, hoàn thành các nội dung {numbers} trong kỳ tới."
    )

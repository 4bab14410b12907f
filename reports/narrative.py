"""The report's words, pure: from a `ReportData`, the Vietnamese paragraphs of each section, in the
order Vietnamese offices write a "Báo cáo kết quả thực hiện kế hoạch": the opening that cites the
plan and what it implements; I. Công tác chỉ đạo, triển khai; II. Kết quả thực hiện (per item, in
sentences: what, when, where, with whom, the results); III. Đánh giá chung (ưu điểm; tồn tại, hạn chế
và nguyên nhân; bài học kinh nghiệm); IV. Phương hướng, nhiệm vụ of the next period; V. Đề xuất, kiến
nghị (with the funding used). Step counts and RAG stay in the annex.

The body names no counterpart as declining or silent (the report leaves the Department): it says
how many invitations went unanswered, never whose. Where the ledger holds no text the drafter must
write (a cause, a lesson), a visible placeholder stands (`reports.placeholders`).

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

from plan.calendar import PeriodKind
from plan.model import STAGE_LABELS, Counted, ExactWindow, Item, ItemKind, Plan, Stage
from plan.schedule import stage_due_dates, working_calendar
from plan.text import short_date
from reports.data import ReportData
from reports.placeholders import placeholder

NO_EVENTS = "Trong kỳ báo cáo chưa ghi nhận kết quả triển khai nào của Kế hoạch"
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

SECTION_HEADINGS = (
    "I. CÔNG TÁC CHỈ ĐẠO, TRIỂN KHAI",
    "II. KẾT QUẢ THỰC HIỆN",
    "III. ĐÁNH GIÁ CHUNG",
    "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ",
    "V. ĐỀ XUẤT, KIẾN NGHỊ",
)
ASSESSMENT_HEADINGS = ("1. Ưu điểm", "2. Tồn tại, hạn chế và nguyên nhân", "3. Bài học kinh nghiệm")


@dataclass(frozen=True)
class Block:
    """A paragraph of the body, or a heading inside a section ("1. Dịch thuật tin, bài đối ngoại")."""

    text: str
    heading: bool = False


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Narrative:
    summary: str
    intro: str
    no_events: str | None  # the explicit sentence for a period without any event
    sections: tuple[Section, ...]
    closing: str

    def text(self) -> str:
        """The whole body as plain text, one paragraph a line (for placeholders and tests)."""
        lines = [self.summary, self.intro, self.no_events or ""]
        for section in self.sections:
            lines += [section.heading, *(b.text for b in section.blocks)]
        return "\n".join([*lines, self.closing])


def build_narrative(data: ReportData) -> Narrative:
    plan = data.plan
    no_events = None
    if data.empty:
        start, end = data.window
        no_events = (
            f"{NO_EVENTS} (không có thông tin cập nhật nào từ ngày {prose_date(start)} đến ngày {prose_date(min(end, data.as_of))}). "
            "Các nội dung của Kế hoạch tiếp tục được theo dõi và báo cáo ở kỳ sau."
        )
    closing = (
        f"Trên đây là báo cáo kết quả thực hiện {plan.document.type} số {plan.document.number_symbol} "
        f"{data.period.label} của {plan.department.name}./."
    )
    sections = (
        Section(SECTION_HEADINGS[0], _blocks(_direction(data))),
        Section(SECTION_HEADINGS[1], tuple(_results(data))),
        Section(SECTION_HEADINGS[2], tuple(_assessment(data))),
        Section(f"{SECTION_HEADINGS[3]} {_next_label(data).upper()}", _blocks(_next_tasks(data))),
        Section(SECTION_HEADINGS[4], _blocks(_proposals(data))),
    )
    return Narrative(
        summary=report_summary(data),
        intro=clean_text(_opening(data)),
        no_events=no_events,
        sections=sections,
        closing=clean_text(closing),
    )


def _blocks(lines: Iterable[str]) -> tuple[Block, ...]:
    return tuple(Block(clean_text(line)) for line in lines if clean_text(line))


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if frame is not None and len(frame) else []


def _of_item(frame: pd.DataFrame, number: int, column: str = "item_number") -> list[dict[str, Any]]:
    return [row for row in _rows(frame) if int(row[column]) == number]


def joined(parts: Iterable[str]) -> str:
    """"a", "a và b", "a, b và c"."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} và {parts[-1]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def prose_date(d: dt.date) -> str:
    """"27/4/2023", "07/9/2015": dates in the report's sentences as the plan writes them."""
    return f"{d.day:02d}/{d.month}/{d.year}"


def day_span(first: dt.date, last: dt.date) -> str:
    """"ngày 28/10/2023", "từ ngày 12 đến ngày 14/5/2023", "từ ngày 30/4 đến ngày 02/5/2023"."""
    if first == last:
        return f"ngày {prose_date(first)}"
    if (first.year, first.month) == (last.year, last.month):
        return f"từ ngày {first.day:02d} đến ngày {prose_date(last)}"
    if first.year == last.year:
        return f"từ ngày {first.day:02d}/{first.month} đến ngày {prose_date(last)}"
    return f"từ ngày {prose_date(first)} đến ngày {prose_date(last)}"


def _bases(plan: Plan, kinds: tuple[str, ...] | None = None, exclude: tuple[str, ...] = ()) -> list[str]:
    return [
        clean_text(f"{b.kind} số {b.number} ngày {prose_date(b.date)} của {b.issuer} {b.subject}")
        for b in plan.legal_bases
        if (kinds is None or b.kind in kinds) and b.kind not in exclude
    ]


def _opening(data: ReportData) -> str:
    """The plan the report answers for, and the plans it implements."""
    plan = data.plan
    implements = _bases(plan, kinds=(plan.document.type,))
    cited = (
        f"{plan.document.type} số {plan.document.number_symbol} ngày {prose_date(plan.document.issued_on)} của {plan.department.name} "
        f"về {_lower_first(clean_text(plan.document.title))}"
    )
    if implements:
        cited += f" (triển khai {joined(implements)})"
    return f"Thực hiện {cited}, Sở báo cáo kết quả thực hiện {data.period.label} (tình hình đến ngày {prose_date(data.as_of)}) như sau:"


def _led_here(plan: Plan, item: Item) -> bool:
    """Whether a unit of the Department leads the item (not the city, which the Department only helps)."""
    return any(u.id == item.lead for u in plan.units)


def _direction(data: ReportData) -> Iterable[str]:
    plan = data.plan
    recipients = joined(
        plan.party_name(r.body) + (f" qua {joined([plan.party_name(v) for v in r.via])}" if r.via else "") for r in plan.reporting.recipients
    )
    bases = _bases(plan, exclude=(plan.document.type,))
    yield (
        (f"Căn cứ {'; '.join(bases)}, ngày" if bases else "Ngày")
        + f" {prose_date(plan.document.issued_on)}, Sở ban hành {plan.document.type} số "
        f"{plan.document.number_symbol} gồm {len(plan.items)} nội dung; phân công {len(plan.units)} phòng, đơn vị thuộc Sở "
        f"({_unit_names(plan)}) chủ trì, phối hợp thực hiện; giao {plan.party_name(plan.reporting.compiled_by)} theo dõi, "
        f"tổng hợp, báo cáo {recipients} {plan.reporting.wording or 'theo định kỳ'}."
    )
    own = [i for i in plan.items if _led_here(plan, i)]
    rows = {int(r["number"]): r for r in _rows(data.items)}
    prepared = sum(1 for i in own if i.number in rows and bool(rows[i.number]["prepared"]))
    if own:
        yield f"Các phòng, đơn vị được giao chủ trì đã xây dựng kế hoạch chi tiết, hoàn thành công tác chuẩn bị đối với {prepared}/{len(own)} nội dung do Sở chủ trì."
    yield placeholder("các văn bản chỉ đạo, hướng dẫn khác của Sở trong kỳ (nếu có)")


def _unit_names(plan: Plan) -> str:
    return joined([u.name for u in plan.units])


# --- II. results, item by item ---------------------------------------------------------------------


def _catalogue(plan: Plan) -> dict[str, Any]:
    return {i.id: i for i in plan.indicators}


def results_sentence(plan: Plan, values: dict[str, Any], *, funding: bool = False) -> str:
    """The indicators given, as the report words them: "dịch 174 tin, bài; đăng 164 tin, bài …"."""
    catalogue = _catalogue(plan)
    parts = []
    for ident, indicator in catalogue.items():  # catalogue order
        value = values.get(ident)
        if value is None or (isinstance(value, float) and math.isnan(value)) or int(value) <= 0:
            continue
        if (indicator.counted is Counted.FUNDING) != funding:
            continue
        parts.append(clean_text(indicator.sentence(int(value), number_text(value))))
    return "; ".join(parts)


def _dates(item: Item, row: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    """When an occurrence took place: the day the unit gave, else the plan's or the request's dates when
    they are exact (an expected or all-year window has no date of its own)."""
    held, start, end = as_date(row["held_on"]), as_date(row["start"]), as_date(row["end"])
    main = row["occurrence"] == "main"
    exact = not main or isinstance(item.window, ExactWindow)
    if exact and start and end and (held is None or start <= held <= end):
        return start, end
    if held is not None:
        return held, held
    return None


def held_dates(data: ReportData, item: Item) -> str:
    """When the item's dated occurrences in the period took place, as the annex prints them
    ("28/10/2023", "01/08/2023; 21/09/2023", "12/05–14/05/2023"); "" when none was dated."""
    spans = []
    for row in _of_item(data.occurrences, item.number):
        if not bool(row["in_period"]) or re.fullmatch(r"\d{4}-\d{2}", str(row["occurrence"])):
            continue
        dates = _dates(item, row)
        if dates:
            first, last = dates
            spans.append(short_date(first) if first == last else f"{first:%d/%m}–{short_date(last)}")
    return "; ".join(dict.fromkeys(spans))


def partners_text(names: list[str]) -> str:
    """Embassies said once: "Đại sứ quán các nước Australia, Italia và Nhật Bản tại Việt Nam"; other
    bodies by their names."""
    prefix, suffix = "Đại sứ quán ", " tại Việt Nam"
    embassies = [n[len(prefix) : -len(suffix)] for n in names if n.startswith(prefix) and n.endswith(suffix)]
    others = [n for n in names if not (n.startswith(prefix) and n.endswith(suffix))]
    grouped = []
    if len(embassies) > 1:
        grouped.append(f"Đại sứ quán các nước {joined(embassies)} tại Việt Nam")
    elif embassies:
        grouped.append(f"{prefix}{embassies[0]}{suffix}")
    return joined(others + grouped)


def _requester(plan: Plan, occurrence: str) -> str:
    for counterpart in plan.counterparts:
        if occurrence.endswith(f"-{counterpart.id}"):
            return counterpart.name
    return ""


def _confirmed(data: ReportData, number: int) -> list[str]:
    names = {c.id: c.name for c in data.plan.counterparts}
    return [names.get(c["counterpart"], clean_text(c["name"])) for c in _rows(data.counterparts) if int(c["confirmed"]) and number in item_numbers(c["items"])]


def _who(data: ReportData, item: Item, row: dict[str, Any]) -> str:
    plan = data.plan
    lead, coordinating = clean_text(row["lead_name"]), clean_text(row["coordinating_names"])
    activity = clean_text(item.activity) or _lower_first(clean_text(item.title)).rstrip(".")
    if any(u.id == item.lead for u in plan.units):
        return f"{lead} chủ trì" + (f", phối hợp với {joined(coordinating.split(', '))}" if coordinating else "") + f" {activity}."
    doers = joined(coordinating.split(", ")) if coordinating else plan.department.name
    return f"{doers} phối hợp với {lead} {activity}."


def _item_blocks(data: ReportData, item: Item, row: dict[str, Any]) -> list[str]:
    plan = data.plan
    number = item.number
    lines = [_who(data, item, row)]
    doer = clean_text(row["lead_name"]) if _led_here(plan, item) else (joined(clean_text(row["coordinating_names"]).split(", ")) or "Sở")
    occurrences = [o for o in _of_item(data.occurrences, number) if bool(o["in_period"])]
    months = [o for o in occurrences if re.fullmatch(r"\d{4}-\d{2}", str(o["occurrence"]))]
    results: list[str] = []
    if months:  # followed month by month: one sentence for the period
        totals: dict[str, int] = {}
        distinct = {i.id for i in plan.indicators if i.counted is Counted.DISTINCT}
        for o in months:
            for key, value in (o["indicators"] or {}).items():
                # the same country in two months is one: the largest figure, as reports.tables counts it
                totals[key] = max(totals.get(key, 0), int(value)) if key in distinct else totals.get(key, 0) + int(value)
        first, last = min(str(o["occurrence"]) for o in months), max(str(o["occurrence"]) for o in months)
        span = f"tháng {int(first[5:])}" + (f" đến tháng {int(last[5:])}/{last[:4]}" if first != last else f"/{first[:4]}")
        said = results_sentence(plan, totals)
        if said:
            results.append(f"Từ {span}, {doer} đã {said}.")
    named = f"{clean_text(item.activity)} {clean_text(item.title)}"
    confirmed = [c for c in _confirmed(data, number) if c not in named]  # a host the activity names is not "phối hợp"
    for o in occurrences:
        if o in months:
            continue
        said = results_sentence(plan, o["indicators"] or {})
        dates = _dates(item, o)
        occurrence = str(o["occurrence"])
        if dates is None:
            if said:
                results.append(f"Trong {data.period.label}, {doer} đã {said}.")
            continue
        when = _capital(day_span(*dates))
        requester = _requester(plan, occurrence)
        where = f" tại {clean_text(item.venue)}" if occurrence == "main" and clean_text(getattr(item, "venue", None)) else ""
        if requester:
            results.append(f"{when}, theo đề nghị của {requester}, {doer} đã " + (f"{said}." if said else "phối hợp tổ chức sự kiện."))
        elif item.kind is ItemKind.EVENT:
            sentence = f"{when}, sự kiện được tổ chức{where}"
            if confirmed:
                sentence += f" với sự phối hợp của {partners_text(confirmed)}"
            results.append(sentence + (f"; {said}." if said else "."))
        else:
            results.append(f"{when}{where}, {doer} đã " + (f"{said}." if said else "tổ chức thực hiện."))
    withheld = withheld_names(data)
    # A closing note on an item followed by months or sessions ("Tổng hợp theo từng tháng.") says
    # nothing of its own: the months' and sessions' results are written above.
    umbrella = {as_date(o["executed_on"]) for o in occurrences if o["occurrence"] == "main" and not (o["indicators"] or {})} if len(occurrences) > 1 else set()
    for note in sorted(_of_item(data.notes, number), key=lambda r: (as_date(r["date"]) or dt.date.min)):
        text = clean_text(note["text"])
        if text and str(note["stage"]) == Stage.EXECUTION.value and names_none(text, withheld) and as_date(note["date"]) not in umbrella:
            results.append(_capital(text.rstrip(".")) + ".")
    lines += results
    rag = str(row["rag"])
    if rag == "done" and not results:
        lines.append(placeholder(f"kết quả cụ thể của nội dung {number} trong {data.period.label}"))
    elif rag != "done":
        late = int(row["stages_overdue"]) and _led_here(plan, item)  # the city's own item: not the Department's to call late
        state = "chưa hoàn thành, còn chậm so với thời hạn (nêu tại mục III)" if late else "đang được tiếp tục triển khai"
        lines.append(f"Đến ngày {prose_date(data.as_of)}, nội dung {state}.")
    return lines


def _results(data: ReportData) -> Iterable[Block]:
    items = {int(r["number"]): r for r in _rows(data.items)}
    for item in data.plan.items:
        row = items.get(item.number)
        if row is None:
            continue
        yield Block(clean_text(f"{item.number}. {item.short_title}"), heading=True)
        yield from _blocks(_item_blocks(data, item, row))


# --- III. assessment -------------------------------------------------------------------------------


def _partners(data: ReportData) -> list[str]:
    """The counterparts that took part in the period, each once (full names, in plan order)."""
    names = {c.id: c.name for c in data.plan.counterparts}
    return [names.get(c["counterpart"], clean_text(c["name"])) for c in _rows(data.counterparts) if int(c["confirmed"])]


def _achievements(data: ReportData) -> Iterable[str]:
    items = _rows(data.items)
    if data.empty:
        yield f"{NO_EVENTS}, chưa có kết quả để đánh giá."
        return
    done = sum(1 for i in items if str(i["rag"]) == "done")
    going = sum(1 for i in items if str(i["rag"]) == "on_track")
    yield (
        f"Các phòng, đơn vị thuộc Sở đã chủ động triển khai các nhiệm vụ được giao. Đến ngày {prose_date(data.as_of)}, "
        f"{done}/{len(items)} nội dung của Kế hoạch đã hoàn thành" + (f", {going} nội dung đang triển khai đúng tiến độ" if going else "") + "."
    )
    totals = {r["indicator"]: r["value"] for r in _rows(data.indicator_totals) if _catalogue(data.plan)[r["indicator"]].counted is Counted.SUM}
    said = results_sentence(data.plan, totals)
    if said:
        yield f"Trong {data.period.label}, các đơn vị đã {said}."
    partners = _partners(data)
    if partners:
        yield (
            f"Sở đã phối hợp trực tiếp với {len(partners)} cơ quan đại diện nước ngoài, tổ chức quốc tế tại Việt Nam "
            f"({partners_text(partners)}) trong tổ chức các hoạt động, góp phần quảng bá hình ảnh Thủ đô Hà Nội với bạn bè quốc tế."
        )


def _late_by_item(data: ReportData) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(_rows(data.late), key=lambda r: (int(r["item_number"]), as_date(r["due"]) or dt.date.min)):
        grouped.setdefault(int(row["item_number"]), []).append(row)
    return grouped


def withheld_names(data: ReportData) -> list[str]:
    """The names (full and short) of the counterparts that only declined or did not answer in the
    period: the body never names them, not even in a note or a reason a unit wrote."""
    known = {c.id: c for c in data.plan.counterparts}
    names: list[str] = []
    for row in _rows(data.counterparts):
        if int(row["confirmed"]) or not (int(row["declined"]) or int(row["no_answer"])):
            continue
        counterpart = known.get(row["counterpart"])
        names += [clean_text(row["name"]), *([counterpart.name, counterpart.short_name or ""] if counterpart else [])]
    return [n for n in dict.fromkeys(names) if n]


def names_none(text: str, withheld: Iterable[str]) -> bool:
    folded = text.casefold()
    return not any(name.casefold() in folded for name in withheld)


def _reasons(rows: list[dict[str, Any]], withheld: Iterable[str] = ()) -> list[str]:
    """The reasons given, each once; one that names a counterpart the body must not name is left to the
    drafter (the placeholder stands instead)."""
    withheld = list(withheld)
    reasons = (clean_text(r["reason"]).rstrip(".") for r in rows if clean_text(r["reason"]))
    return list(dict.fromkeys(r for r in reasons if names_none(r, withheld)))


def occurrence_words(occurrence: Any) -> str:
    """`occurrence_label` with the dates as the sentences write them ("đợt ngày 10/8/2023")."""
    text = clean_text(occurrence)
    if day := re.match(r"(\d{4}-\d{2}-\d{2})(?:$|-)", text):
        return f"đợt ngày {prose_date(dt.date.fromisoformat(day.group(1)))}"
    return occurrence_label(occurrence)


def _stage_text(row: dict[str, Any]) -> str:
    where = occurrence_words(row["occurrence"])
    return f"khâu {clean_text(row['stage_label']).lower()}" + (f" {where}" if where else "") + f" (hạn {prose_date(required_date(row['due']))})"


def _shortcomings(data: ReportData) -> Iterable[str]:
    plan = data.plan
    names = {i.number: i for i in plan.items}
    late = _late_by_item(data)
    withheld = withheld_names(data)
    said = False
    for number, rows in late.items():
        item = names.get(number)
        if item is not None and not _led_here(plan, item):
            continue  # the city leads it: the Department does not report its superior late
        lead = plan.party_name(item.lead) if item else clean_text(rows[0]["lead"])
        stages = "; ".join(_stage_text(r) for r in rows[:LATE_LISTED])
        if len(rows) > LATE_LISTED:
            stages += f" và {len(rows) - LATE_LISTED} khâu khác (chi tiết tại Phụ lục)"
        reasons = _reasons(rows, withheld)
        why = f"Nguyên nhân: {'; '.join(reasons)}." if reasons else placeholder(f"nguyên nhân chậm tiến độ của nội dung {number}")
        yield (
            f"Nội dung {number} ({clean_text(rows[0]['short_title'])}) do {lead} chủ trì chưa hoàn thành đúng thời hạn: {stages}. {why}"
        )
        said = True
    finished_late = sorted({int(r["item_number"]) for r in _rows(data.finished_late)} - set(late))
    finished_late = [n for n in finished_late if n in names and _led_here(plan, names[n])]
    if finished_late:
        titles = joined(f"{_lower_first(clean_text(names[n].short_title))} (nội dung {n})" for n in finished_late)
        yield f"Một số nhiệm vụ hoàn thành chậm so với thời hạn đề ra: {titles}. " + placeholder("nguyên nhân hoàn thành chậm")
        said = True
    counterparts = _rows(data.counterparts)
    declined = sum(int(c["declined"]) for c in counterparts)
    silent = sum(int(c["no_answer"]) for c in counterparts)
    if declined or silent:  # how many, never whose, and no cause the ledger does not give
        yield "Một số cơ quan đại diện nước ngoài được mời chưa thể tham gia phối hợp tổ chức các hoạt động."
        said = True
    if not said:
        yield "Các nội dung được triển khai đúng thời hạn; không có tồn tại, hạn chế phát sinh trong kỳ."


def _assessment(data: ReportData) -> Iterable[Block]:
    yield Block(ASSESSMENT_HEADINGS[0], heading=True)
    yield from _blocks(_achievements(data))
    yield Block(ASSESSMENT_HEADINGS[1], heading=True)
    yield from _blocks(_shortcomings(data))
    yield Block(ASSESSMENT_HEADINGS[2], heading=True)
    yield Block(placeholder("bài học kinh nghiệm rút ra trong kỳ"))


# --- IV. the next period -------------------------------------------------------------------------


def _next_label(data: ReportData) -> str:
    period = data.period
    match period.kind:
        case PeriodKind.ANNUAL:
            return f"năm {period.year + 1}"
        case PeriodKind.SIX_MONTH:
            return f"6 tháng cuối năm {period.year}"
        case PeriodKind.NINE_MONTH:
            return f"3 tháng cuối năm {period.year}"
        case PeriodKind.QUARTERLY:
            index = period.index or 1
            return f"quý {['I', 'II', 'III', 'IV'][index]} năm {period.year}" if index < 4 else f"quý I năm {period.year + 1}"
    index = period.index or 1
    return f"tháng {index + 1} năm {period.year}" if index < 12 else f"tháng 1 năm {period.year + 1}"


def _next_tasks(data: ReportData) -> Iterable[str]:
    plan = data.plan
    items = {int(i["number"]): i for i in _rows(data.items)}
    late = _late_by_item(data)
    plan_ends = data.window[1] >= dt.date(plan.year, 12, 31)
    calendar = working_calendar(plan)
    for item in plan.items:
        row = items.get(item.number)
        if row is None or str(row["rag"]) == "done" or not _led_here(plan, item):
            continue
        lead = plan.party_name(item.lead)
        if item.number in late:
            yield f"- {lead} khẩn trương hoàn thành nội dung {item.number} ({item.short_title}) còn chậm so với thời hạn."
            continue
        if plan_ends:
            continue
        dues = stage_due_dates(plan, item, calendar=calendar) or {}  # None: on request, no dates of its own
        coming = [(stage, due) for stage, due in dues.items() if data.as_of < due <= dt.date(plan.year, 12, 31)]
        if coming:
            stages = "; ".join(f"{STAGE_LABELS[s].lower()} trước ngày {prose_date(d)}" for s, d in coming)
            yield f"- {lead} tiếp tục triển khai nội dung {item.number} ({item.short_title}): {stages}."
        elif item.kind is ItemKind.ON_REQUEST:
            yield f"- {lead} chủ động phối hợp tổ chức nội dung {item.number} ({item.short_title}) khi có đề nghị của phía bạn."
    compiler = plan.party_name(plan.reporting.compiled_by)
    if plan_ends:
        yield (
            f"- {compiler} tham mưu xây dựng kế hoạch tổ chức triển khai hoạt động thông tin, tuyên truyền đối ngoại "
            f"của ngành văn hoá và thể thao năm {plan.year + 1}."
        )
    else:
        yield f"- {compiler} theo dõi, tổng hợp kết quả, báo cáo kỳ tiếp theo đúng thời hạn."
    yield placeholder(f"nhiệm vụ trọng tâm {_next_label(data)} theo chỉ đạo của cấp trên (nếu có)")


# --- V. proposals, and the funding ----------------------------------------------------------------


def _funding(data: ReportData) -> Iterable[str]:
    plan = data.plan
    funding_ids = [i.id for i in plan.indicators if i.counted is Counted.FUNDING]
    source = _lower_first(clean_text(plan.funding.source))
    if not funding_ids:
        yield f"Về kinh phí: kinh phí thực hiện Kế hoạch được bảo đảm từ {source}. " + placeholder("kinh phí đã sử dụng trong kỳ")
        return
    spent = {int(r["item_number"]): int(r["value"]) for r in _rows(data.indicators) if r["indicator"] in funding_ids}
    total = sum(spent.values())
    done_without = [int(r["number"]) for r in _rows(data.items) if str(r["rag"]) == "done" and int(r["number"]) not in spent]
    text = f"Về kinh phí: kinh phí thực hiện Kế hoạch được bảo đảm từ {source}."
    if total:
        unit = next(i.unit for i in plan.indicators if i.counted is Counted.FUNDING)
        text += f" Tổng kinh phí đã sử dụng để thực hiện Kế hoạch {data.period.label} là {number_text(total)} {unit}."
    if done_without or not total:
        missing = ", ".join(map(str, done_without))
        text += " " + placeholder("kinh phí đã sử dụng" + (f" của nội dung {missing}" if missing else " trong kỳ"))
    yield text


def _proposals(data: ReportData) -> Iterable[str]:
    plan = data.plan
    yield from _funding(data)
    # What to ask of the superiors is the drafter's to write: the ledger knows what is late, not what
    # the Department needs to finish it.
    yield placeholder(f"đề xuất, kiến nghị với {joined(plan.party_name(r.body) for r in plan.reporting.recipients)} (nếu có)")

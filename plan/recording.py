"""Turning what people say into ledger events: a stage outcome, a request for an on-request item.

Pure: validates against the plan and the current state and returns the events to append in one
transaction, or raises `InputError` with every problem in the user's terms (nothing is written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from plan.events import Event, EventKind, NewEvent
from plan.lifecycle import IllegalTransition
from plan.model import Item, Plan, Stage
from plan.nfc import nfc
from plan.occurrences import Occurrence, accepts_requests, item_occurrences, occurrence_id
from plan.outcomes import outcome_model, outcome_payload, validate_outcome
from plan.progress import OccurrenceState, fold, outcome_events

STAGE_NAMES = {stage.value: stage for stage in Stage} | {
    "chuan-bi": Stage.PREPARATION,
    "phoi-hop": Stage.COORDINATION,
    "trien-khai": Stage.EXECUTION,
    "bao-cao": Stage.REPORTING,
}


class InputError(ValueError):
    """Input refused; `problems` are lines like 'field: what is wrong — cần: what is expected'."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def find_item(plan: Plan, key: str | int) -> Item:
    try:
        return plan.item(key)
    except KeyError:
        known = ", ".join(f"{i.number} ({i.id})" for i in plan.items[:12])
        raise InputError([f"nội dung: không có nội dung «{key}» — cần: số thứ tự hoặc mã, ví dụ {known}"]) from None


def find_stage(name: str) -> Stage:
    try:
        return STAGE_NAMES[name.strip().lower()]
    except KeyError:
        raise InputError([f"bước: không có bước «{name}» — cần: preparation, coordination, execution hoặc reporting"]) from None


def find_occurrence(plan: Plan, item: Item, events: Sequence[Event | NewEvent], occurrence: str | None, as_of: dt.date) -> Occurrence:
    known = item_occurrences(plan, item, events, as_of)
    if occurrence is None:
        if len(known) == 1:
            return known[0]
        main = [o for o in known if o.is_main]
        if main:
            return main[0]
        if not known:
            raise InputError([f"đợt: nội dung {item.number} chưa có đợt nào — cần: ghi nhận yêu cầu trước bằng `kehoach request {item.number} …`"])
        raise InputError([f"đợt: nội dung {item.number} có {len(known)} đợt — cần: --occurrence, một trong: {', '.join(o.id for o in known)}"])
    for candidate in known:
        if candidate.id == occurrence:
            return candidate
    listed = ", ".join(o.id for o in known) or "(chưa có)"
    raise InputError([f"đợt: nội dung {item.number} không có đợt «{occurrence}» — cần: một trong: {listed}"])


def outcome_record(
    plan: Plan,
    item: Item,
    stage: Stage,
    data: dict[str, Any],
    events: Sequence[Event | NewEvent],
    *,
    on: dt.date,
    actor: str,
    occurrence: str | None = None,
    counterpart: str | None = None,
) -> tuple[Occurrence, list[NewEvent]]:
    """Validate a stage outcome and return the events that record it (the outcome and its status changes)."""
    target = find_occurrence(plan, item, events, occurrence, on)
    data = dict(data)
    if stage is Stage.COORDINATION:
        counterpart = counterpart or data.get("counterpart")
        if not counterpart:
            raise InputError([f"counterpart: bước phối hợp cần ghi rõ đối tác — cần: --counterpart, một trong: {', '.join(target.counterparts) or '(đợt này không có đối tác)'}"])
        if counterpart not in target.counterparts:
            raise InputError([f"counterpart: «{counterpart}» không phải đối tác của đợt «{target.id}» — cần: một trong: {', '.join(target.counterparts) or '(không có)'}"])
        data["counterpart"] = counterpart
    elif counterpart:
        raise InputError([f"counterpart: chỉ dùng cho bước coordination, không dùng cho bước {stage.value}"])
    outcome, problems = validate_outcome(outcome_model(plan, item, stage), data)
    if outcome is None:  # refused: the problems say why
        raise InputError(problems)
    state = fold(e for e in events if e.item == item.id).get((item.id, target.id), OccurrenceState())
    try:
        recorded = outcome_events(plan, item, target, stage, outcome_payload(outcome), state, on=on, actor=actor)
    except IllegalTransition as exc:
        raise InputError([f"{stage.value}: {exc}"]) from None
    return target, recorded


TITLE_MAX = 200  # a request's title: an event's name, one line


def request_record(
    plan: Plan,
    item: Item,
    *,
    start: dt.date,
    end: dt.date | None = None,
    counterpart: str | None = None,
    title: str | None = None,
    on: dt.date,
    actor: str,
) -> NewEvent:
    """A request (on-request item) or a scheduled session (programme item) as its own occurrence."""
    problems = []
    if not accepts_requests(item):
        problems.append(f"nội dung: nội dung {item.number} ({item.kind.value}) không nhận yêu cầu — cần: nội dung loại on_request hoặc programme")
    if counterpart is not None and counterpart not in {c.id for c in plan.counterparts}:
        problems.append(f"counterpart: không có đối tác «{counterpart}» — cần: một trong: {', '.join(c.id for c in plan.counterparts)}")
    if title is not None and len(title.strip()) > TITLE_MAX:
        problems.append(f"title: tên dài {len(title.strip())} ký tự — cần: tối đa {TITLE_MAX} ký tự")
    if title is not None and any(ord(c) < 32 or ord(c) == 127 for c in title):
        problems.append("title: tên có ký tự xuống dòng hoặc ký tự điều khiển — cần: một dòng chữ")
    if end is not None and end < start:
        problems.append(f"until: ngày kết thúc {end:%d/%m/%Y} trước ngày {start:%d/%m/%Y}")
    if not (dt.date(plan.year, 1, 1) <= start <= dt.date(plan.year + 1, 3, 31)):
        problems.append(f"date: {start:%d/%m/%Y} nằm ngoài năm kế hoạch {plan.year}")
    if problems:
        raise InputError(problems)
    ident = occurrence_id(start, counterpart)
    return NewEvent(
        key=f"{plan.id}/{item.id}/{ident}/request",
        item=item.id,
        kind=EventKind.OCCURRENCE_OPENED,
        occurrence=ident,
        counterpart=counterpart,
        payload={
            "start": start.isoformat(),
            "end": (end or start).isoformat(),
            "counterparts": [counterpart] if counterpart else [],
            "title": nfc(title.strip()) if title else None,
        },
        actor=actor,
        effective_date=on,
    )

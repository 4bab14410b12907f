"""What the ledger records: events, their kinds and the status lifecycles they move through.

An event is a fact with an author and a time; current state is derived from events, never stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAIN = "main"
"""The occurrence of an item that has one window (an event, the year's programme)."""

SYSTEM_ACTOR = "kehoach"


class EventKind(StrEnum):
    OCCURRENCE_OPENED = "occurrence_opened"  # a request (item 8) or a session of a programme
    STAGE_STATUS = "stage_status"  # a stage moved in its lifecycle
    COUNTERPART_STATUS = "counterpart_status"  # an invitation moved in its lifecycle
    OUTCOME = "outcome"  # what a person reported for a stage (indicators, answers, links)
    OVERDUE = "overdue"  # a stage was first seen past its due date


class StageStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"


class CoordinationStatus(StrEnum):
    TO_INVITE = "to_invite"
    INVITED = "invited"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"


STAGE_STATUS_LABELS = {
    StageStatus.NOT_STARTED: "Chưa bắt đầu",
    StageStatus.IN_PROGRESS: "Đang thực hiện",
    StageStatus.DONE: "Hoàn thành",
    StageStatus.SKIPPED: "Không áp dụng",
    StageStatus.BLOCKED: "Vướng mắc",
}

COORDINATION_STATUS_LABELS = {
    CoordinationStatus.TO_INVITE: "Chưa mời",
    CoordinationStatus.INVITED: "Đã mời",
    CoordinationStatus.CONFIRMED: "Nhận lời",
    CoordinationStatus.DECLINED: "Từ chối",
    CoordinationStatus.NO_ANSWER: "Không phản hồi",
}

TERMINAL_STAGE = frozenset({StageStatus.DONE, StageStatus.SKIPPED})
ANSWERED = frozenset({CoordinationStatus.CONFIRMED, CoordinationStatus.DECLINED, CoordinationStatus.NO_ANSWER})


@dataclass(frozen=True)
class NewEvent:
    """An event to append. `key` makes appending idempotent: a key is recorded at most once."""

    key: str
    item: str
    kind: EventKind
    occurrence: str = MAIN
    stage: str | None = None
    counterpart: str | None = None
    status: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    actor: str = SYSTEM_ACTOR
    effective_date: dt.date | None = None


@dataclass(frozen=True)
class Event(NewEvent):
    """A recorded event."""

    id: int = 0
    plan_id: str = ""
    plan_hash: str = ""
    recorded_at: dt.datetime | None = None


@dataclass(frozen=True)
class PlanRef:
    """Which plan (and which version of it) an event belongs to."""

    plan_id: str
    plan_hash: str


def plan_ref(plan) -> PlanRef:
    """The plan's id and a hash of its normalized content (reformatting the file changes nothing)."""
    digest = hashlib.sha256(plan.model_dump_json().encode("utf-8")).hexdigest()[:16]
    return PlanRef(plan.id, digest)


def content_key(*parts: Any) -> str:
    """A short, stable digest of arbitrary JSON-able parts, for idempotency keys of people's input."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

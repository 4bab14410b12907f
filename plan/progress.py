"""Decisions, pure: from the plan, the ledger's events and a date, what is due, what is late, what the
flows record next, and each item's RAG status (on track, at risk, off track, done)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from plan.calendar import WorkingCalendar
from plan.events import (
    ANSWERED,
    TERMINAL_STAGE,
    CoordinationStatus,
    Event,
    EventKind,
    NewEvent,
    StageStatus,
    content_key,
)
from plan.lifecycle import check_transition, path_to
from plan.model import Item, Plan, Stage
from plan.occurrences import Occurrence, item_occurrences
from plan.schedule import stage_due_dates, working_calendar


class Rag(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    DONE = "done"


RAG_LABELS = {Rag.ON_TRACK: "Đúng tiến độ", Rag.AT_RISK: "Có nguy cơ chậm", Rag.OFF_TRACK: "Chậm tiến độ", Rag.DONE: "Hoàn thành"}
RAG_ORDER = [Rag.DONE, Rag.ON_TRACK, Rag.AT_RISK, Rag.OFF_TRACK]  # from best to worst: reports list items in this order


# --- state folded from events ----------------------------------------------------------------


@dataclass
class OccurrenceState:
    """Where one occurrence of an item stands, derived from its events."""

    stages: dict[Stage, StageStatus] = field(default_factory=dict)
    stage_changes: dict[Stage, int] = field(default_factory=dict)
    stage_dates: dict[Stage, dt.date | None] = field(default_factory=dict)  # when the current status was reached
    counterparts: dict[str, CoordinationStatus] = field(default_factory=dict)
    counterpart_changes: dict[str, int] = field(default_factory=dict)
    outcomes: dict[Stage, list[Event | NewEvent]] = field(default_factory=dict)
    overdue_flagged: set[Stage] = field(default_factory=set)

    def stage(self, stage: Stage) -> StageStatus:
        return self.stages.get(stage, StageStatus.NOT_STARTED)

    def counterpart(self, counterpart: str) -> CoordinationStatus:
        return self.counterparts.get(counterpart, CoordinationStatus.TO_INVITE)

    def latest_outcome(self, stage: Stage) -> dict[str, Any] | None:
        found = self.outcomes.get(stage)
        return found[-1].payload if found else None

    def apply(self, event: Event | NewEvent) -> None:
        stage = Stage(event.stage) if event.stage else None
        if event.kind == EventKind.STAGE_STATUS and stage is not None:
            self.stages[stage] = StageStatus(_status_of(event))
            self.stage_changes[stage] = self.stage_changes.get(stage, 0) + 1
            self.stage_dates[stage] = event.effective_date
        elif event.kind == EventKind.COUNTERPART_STATUS and event.counterpart:
            self.counterparts[event.counterpart] = CoordinationStatus(_status_of(event))
            self.counterpart_changes[event.counterpart] = self.counterpart_changes.get(event.counterpart, 0) + 1
        elif event.kind == EventKind.OUTCOME and stage is not None:
            self.outcomes.setdefault(stage, []).append(event)
        elif event.kind == EventKind.OVERDUE and stage is not None:
            self.overdue_flagged.add(stage)


def _status_of(event: Event | NewEvent) -> str:
    """The status a status event sets (every stage and counterpart status event has one)."""
    if event.status is None:
        raise ValueError(f"sự kiện {event.key} ({event.kind}) không có trạng thái")
    return event.status


def fold(events: Iterable[Event | NewEvent]) -> dict[tuple[str, str], OccurrenceState]:
    """Current state of every (item, occurrence) from its events, in the order they were recorded."""
    states: dict[tuple[str, str], OccurrenceState] = {}
    for event in events:
        states.setdefault((event.item, event.occurrence), OccurrenceState()).apply(event)
    return states


# --- when stages open and are due ------------------------------------------------------------


@dataclass(frozen=True)
class StageWindow:
    opens: dt.date
    due: dt.date


def stage_windows(plan: Plan, item: Item, occurrence: Occurrence, calendar: WorkingCalendar) -> dict[Stage, StageWindow]:
    """When each stage of an occurrence opens and when it is due.

    Preparation and coordination open as soon as the occurrence is known; execution opens on its
    first day and reporting on its last. A stage never opens after it is due.
    """
    dues = stage_due_dates(plan, item, calendar=calendar, occurrence=None if occurrence.is_main else occurrence.span)
    if dues is None:  # cannot happen: an item without dates has no main occurrence, and the others have their span
        raise ValueError(f"nội dung {item.id}: đợt {occurrence.id} không có thời hạn")
    opens = {
        Stage.PREPARATION: occurrence.known_since,
        Stage.COORDINATION: occurrence.known_since,
        Stage.EXECUTION: occurrence.start,
        Stage.REPORTING: occurrence.end,
    }
    return {stage: StageWindow(min(opens[stage], dues[stage]), dues[stage]) for stage in Stage}


# --- what a flow records ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What a stage task decided, for its summary."""

    stage: Stage
    status: StageStatus
    due: dt.date
    working_days_late: int
    events: list[NewEvent]
    note: str


def too_late_to_invite(occurrence: Occurrence, as_of: dt.date, executed: bool) -> bool:
    """Whether inviting a counterpart to the occurrence is pointless: the event has begun, or its
    execution is recorded already."""
    return executed or as_of >= occurrence.start


def event_over(occurrence: Occurrence, as_of: dt.date, executed: bool) -> bool:
    """Whether the occurrence's event has taken place: its last day has passed, or its execution is
    recorded. From then on nothing is asked of anyone about its preparation or its counterparts."""
    return executed or as_of > occurrence.end


def _event_day(occurrence: Occurrence, state: OccurrenceState, as_of: dt.date) -> dt.date:
    """The day the occurrence's event was over: the day its execution was recorded, else its last day."""
    days = [as_of, occurrence.end]
    if state.stage(Stage.EXECUTION) in TERMINAL_STAGE and state.stage_dates.get(Stage.EXECUTION):
        days.append(state.stage_dates[Stage.EXECUTION])  # type: ignore[arg-type]
    return min(days)


def stage_step(
    plan: Plan,
    item: Item,
    occurrence: Occurrence,
    stage: Stage,
    state: OccurrenceState,
    as_of: dt.date,
    calendar: WorkingCalendar,
    *,
    counterpart: str | None = None,
) -> Step:
    """The events a flow records for one stage (or one counterpart of the coordination stage) on `as_of`.

    Deterministic: the same plan, state and date give the same events with the same keys, so a rerun
    records nothing new. `state` is updated with the events, so steps can be chained.
    """
    window = stage_windows(plan, item, occurrence, calendar)[stage]
    events: list[NewEvent] = []
    keys = _Keys(plan.id, item.id, occurrence.id, stage)

    def move(target: StageStatus, reason: str, on: dt.date = as_of) -> None:
        for status in path_to(state.stage(stage), target):
            event = NewEvent(
                key=keys.for_status(state.stage_changes.get(stage, 0), status),
                item=item.id,
                kind=EventKind.STAGE_STATUS,
                occurrence=occurrence.id,
                stage=stage.value,
                status=status.value,
                payload={"reason": reason},
                effective_date=on,
            )
            state.apply(event)
            events.append(event)

    def answer(cp: str, target: CoordinationStatus, reason: str) -> None:
        for status in path_to(state.counterpart(cp), target):
            event = NewEvent(
                key=keys.for_counterpart(cp, state.counterpart_changes.get(cp, 0), status),
                item=item.id,
                kind=EventKind.COUNTERPART_STATUS,
                occurrence=occurrence.id,
                stage=stage.value,
                counterpart=cp,
                status=status.value,
                payload={"reason": reason},
                effective_date=as_of,
            )
            state.apply(event)
            events.append(event)

    note = ""
    is_open = as_of >= window.opens
    executed = state.stage(Stage.EXECUTION) in TERMINAL_STAGE
    if state.stage(stage) in TERMINAL_STAGE:
        note = "đã xong"
    elif not is_open:
        note = f"mở từ {window.opens:%d/%m/%Y}"
    elif stage is Stage.COORDINATION and counterpart is None and not occurrence.counterparts:
        move(StageStatus.SKIPPED, "không có đối tác cần phối hợp")
        note = "không áp dụng: không có đối tác"
    elif stage is Stage.COORDINATION and counterpart is None and event_over(occurrence, as_of, executed):
        # The event has taken place: its coordination ended with it (a counterpart never invited
        # stays "not invited"), dated the day it was over, not the day a run first noticed.
        move(StageStatus.DONE, "sự kiện đã diễn ra", on=_event_day(occurrence, state, as_of))
        note = "sự kiện đã diễn ra"
    else:
        if state.stage(stage) is StageStatus.NOT_STARTED:
            move(StageStatus.IN_PROGRESS, "đến thời điểm thực hiện")
        if stage is Stage.COORDINATION and counterpart is not None:
            if state.counterpart(counterpart) is CoordinationStatus.TO_INVITE and not too_late_to_invite(occurrence, as_of, executed):
                answer(counterpart, CoordinationStatus.INVITED, "gửi thư mời")
            if as_of > window.due and state.counterpart(counterpart) is CoordinationStatus.INVITED:
                answer(counterpart, CoordinationStatus.NO_ANSWER, "quá hạn phối hợp, chưa có phản hồi")
            note = state.counterpart(counterpart).value
        if stage is Stage.COORDINATION and occurrence.counterparts and all(state.counterpart(c) in ANSWERED for c in occurrence.counterparts):
            if state.stage(stage) not in TERMINAL_STAGE:
                move(StageStatus.DONE, "mọi đối tác đã trả lời")
    late = calendar.working_days_late(window.due, as_of) if state.stage(stage) not in TERMINAL_STAGE else 0
    if late > 0 and stage not in state.overdue_flagged and (counterpart is None or stage is not Stage.COORDINATION):
        event = NewEvent(
            key=keys.for_overdue(),
            item=item.id,
            kind=EventKind.OVERDUE,
            occurrence=occurrence.id,
            stage=stage.value,
            payload={"due": window.due.isoformat(), "working_days_late": late},
            effective_date=as_of,
        )
        state.apply(event)
        events.append(event)
    return Step(stage, state.stage(stage), window.due, late, events, note or state.stage(stage).value)


def outcome_events(
    plan: Plan,
    item: Item,
    occurrence: Occurrence,
    stage: Stage,
    outcome: dict[str, Any],
    state: OccurrenceState,
    *,
    on: dt.date,
    actor: str,
) -> list[NewEvent]:
    """The events that record what a person reported for a stage (a form or `kehoach record`).

    The outcome itself, then the status changes it implies. Raises IllegalTransition (nothing is
    recorded) when the report contradicts the lifecycle, e.g. "blocked" on a finished stage.
    """
    state = deepcopy(state)
    keys = _Keys(plan.id, item.id, occurrence.id, stage)
    counterpart = outcome.get("counterpart") if stage is Stage.COORDINATION else None
    events: list[NewEvent] = [
        NewEvent(
            key=keys.for_outcome(content_key(outcome, on.isoformat())),
            item=item.id,
            kind=EventKind.OUTCOME,
            occurrence=occurrence.id,
            stage=stage.value,
            counterpart=counterpart,
            payload=outcome,
            actor=actor,
            effective_date=on,
        )
    ]

    def step(kind: EventKind, target, current, changes: int, cp: str | None = None) -> None:
        path = path_to(current, target)
        for status in path:
            key = keys.for_counterpart(cp, changes, status) if cp else keys.for_status(changes, status)
            event = NewEvent(
                key=key,
                item=item.id,
                kind=kind,
                occurrence=occurrence.id,
                stage=stage.value,
                counterpart=cp,
                status=status.value,
                payload={"reason": "báo cáo của đơn vị"},
                actor=actor,
                effective_date=on,
            )
            state.apply(event)
            events.append(event)
            changes += 1

    if counterpart is not None:
        target = CoordinationStatus(outcome["answer"])
        current = state.counterpart(counterpart)
        if current != target:
            if current in (CoordinationStatus.CONFIRMED, CoordinationStatus.DECLINED):
                check_transition(current, target)
            step(EventKind.COUNTERPART_STATUS, target, current, state.counterpart_changes.get(counterpart, 0), counterpart)
        if state.stage(stage) is StageStatus.NOT_STARTED:
            step(EventKind.STAGE_STATUS, StageStatus.IN_PROGRESS, state.stage(stage), state.stage_changes.get(stage, 0))
        if all(state.counterpart(c) in ANSWERED for c in occurrence.counterparts) and state.stage(stage) not in TERMINAL_STAGE:
            step(EventKind.STAGE_STATUS, StageStatus.DONE, state.stage(stage), state.stage_changes.get(stage, 0))
    else:
        stage_target = StageStatus(outcome.get("result", StageStatus.DONE.value))
        stage_current = state.stage(stage)
        if stage_current in TERMINAL_STAGE and stage_target != stage_current:
            check_transition(stage_current, stage_target)
        step(EventKind.STAGE_STATUS, stage_target, stage_current, state.stage_changes.get(stage, 0))
    return events


@dataclass(frozen=True)
class _Keys:
    """Idempotency keys: the same decision on the same state always gets the same key."""

    plan_id: str
    item: str
    occurrence: str
    stage: Stage

    @property
    def base(self) -> str:
        return f"{self.plan_id}/{self.item}/{self.occurrence}/{self.stage.value}"

    def for_status(self, changes: int, status: StageStatus) -> str:
        return f"{self.base}/status/{changes}/{status.value}"

    def for_counterpart(self, counterpart: str, changes: int, status: CoordinationStatus) -> str:
        return f"{self.base}/{counterpart}/{changes}/{status.value}"

    def for_overdue(self) -> str:
        return f"{self.base}/overdue"

    def for_outcome(self, digest: str) -> str:
        return f"{self.base}/outcome/{digest}"


# --- status of items -------------------------------------------------------------------------


@dataclass(frozen=True)
class StageView:
    occurrence: Occurrence
    stage: Stage
    status: StageStatus
    opens: dt.date
    due: dt.date
    working_days_late: int  # open stages: days past due as of the date; finished: how late they finished
    finished_on: dt.date | None
    counterparts: dict[str, CoordinationStatus]
    outcome: dict[str, Any] | None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STAGE

    @property
    def overdue(self) -> bool:
        return not self.finished and self.working_days_late > 0


@dataclass(frozen=True)
class ItemStatus:
    item: Item
    as_of: dt.date
    rag: Rag
    occurrences: list[Occurrence]
    stages: list[StageView]
    indicators: dict[str, int]
    reasons: list[str]

    @property
    def overdue(self) -> list[StageView]:
        return [s for s in self.stages if s.overdue]

    @property
    def next_due(self) -> StageView | None:
        upcoming = [s for s in self.stages if not s.finished and s.due >= self.as_of]
        return min(upcoming, key=lambda s: s.due, default=None)

    @property
    def declined(self) -> list[tuple[Occurrence, str]]:
        return [
            (s.occurrence, cp)
            for s in self.stages
            if s.stage is Stage.COORDINATION
            for cp, status in s.counterparts.items()
            if status is CoordinationStatus.DECLINED
        ]

    @property
    def counts(self) -> dict[StageStatus, int]:
        counts = {status: 0 for status in StageStatus}
        for view in self.stages:
            counts[view.status] += 1
        return counts


def item_status(
    plan: Plan, item: Item, events: Sequence[Event | NewEvent], as_of: dt.date, calendar: WorkingCalendar | None = None
) -> ItemStatus:
    """Where an item stands on `as_of`: every known occurrence's stages, indicators and its RAG."""
    calendar = calendar or working_calendar(plan)
    events = [e for e in events if e.item == item.id and (e.effective_date is None or e.effective_date <= as_of)]
    states = fold(events)
    occurrences = item_occurrences(plan, item, events, as_of)
    views: list[StageView] = []
    indicators: dict[str, int] = {}
    for occurrence in occurrences:
        state = states.get((item.id, occurrence.id), OccurrenceState())
        for stage, window in stage_windows(plan, item, occurrence, calendar).items():
            status = state.stage(stage)
            finished_on = state.stage_dates.get(stage) if status in TERMINAL_STAGE else None
            late = calendar.working_days_late(window.due, finished_on or as_of)
            views.append(
                StageView(
                    occurrence,
                    stage,
                    status,
                    window.opens,
                    window.due,
                    late,
                    finished_on,
                    {cp: state.counterpart(cp) for cp in occurrence.counterparts} if stage is Stage.COORDINATION else {},
                    state.latest_outcome(stage),
                )
            )
        execution = state.latest_outcome(Stage.EXECUTION)
        for key, value in ((execution or {}).get("indicators") or {}).items():
            if isinstance(value, int):
                indicators[key] = indicators.get(key, 0) + value
    rag, reasons = _rag(plan, views, as_of, calendar)
    return ItemStatus(item, as_of, rag, occurrences, views, indicators, reasons)


def plan_status(plan: Plan, events: list[Event], as_of: dt.date) -> list[ItemStatus]:
    calendar = working_calendar(plan)
    by_item: dict[str, list[Event]] = {}
    for event in events:
        by_item.setdefault(event.item, []).append(event)
    return [item_status(plan, item, by_item.get(item.id, []), as_of, calendar) for item in plan.items]


def _rag(plan: Plan, views: list[StageView], as_of: dt.date, calendar: WorkingCalendar) -> tuple[Rag, list[str]]:
    policy = plan.policy
    if views and all(v.finished for v in views):
        return Rag.DONE, []
    rag, reasons = Rag.ON_TRACK, []

    def worse(candidate: Rag, reason: str) -> None:
        nonlocal rag
        reasons.append(reason)
        if RAG_ORDER.index(candidate) > RAG_ORDER.index(rag):
            rag = candidate

    for view in views:
        where = _where(view)
        if view.status is StageStatus.BLOCKED:
            worse(Rag.OFF_TRACK, f"{where}: vướng mắc")
        elif view.overdue and view.working_days_late > policy.off_track_after_working_days:
            worse(Rag.OFF_TRACK, f"{where}: quá hạn {view.working_days_late} ngày làm việc")
        elif view.overdue:
            worse(Rag.AT_RISK, f"{where}: quá hạn {view.working_days_late} ngày làm việc")
        elif (
            view.status is StageStatus.NOT_STARTED
            and view.due >= as_of
            and calendar.working_days_late(as_of, view.due) <= policy.due_soon_working_days
        ):
            worse(Rag.AT_RISK, f"{where}: đến hạn {view.due:%d/%m/%Y} mà chưa bắt đầu")
    return rag, reasons


def _where(view: StageView) -> str:
    from plan.model import STAGE_LABELS

    occurrence = "" if view.occurrence.is_main else f" ({view.occurrence.title or view.occurrence.id})"
    return f"{STAGE_LABELS[view.stage]}{occurrence}"

"""What the forms do, without HTTP: open the stage a link names, record what a unit sends through
the code path of `kehoach record` (plan/recording.py), and list what a unit must report now.

The web application (kehoach/forms/app.py) only reads requests and renders pages; every decision
about who may answer what, and what gets recorded, is here or below it in plan/ and notifications/.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kehoach.settings import Settings
from notifications.digest import HORIZON_DAYS, StageEntry, unit_digest
from notifications.form_links import FormGrant, LinkRefused, TodoGrant, answering_units, may_answer, read_form, read_todo
from plan.calendar import WorkingCalendar
from plan.events import CoordinationStatus, Event, NewEvent, PlanRef, plan_ref
from plan.ledger import Ledger, LedgerError
from plan.load import load_plan
from plan.model import Item, Plan, Stage
from plan.occurrences import Occurrence
from plan.outcomes import Outcome, outcome_model
from plan.progress import OccurrenceState, StageView, fold, item_status
from plan.recording import InputError, find_occurrence, find_stage, outcome_record
from plan.schedule import working_calendar

log = logging.getLogger("kehoach.forms")

Resume = Callable[[Plan, str, str, Stage, dict[str, Any]], tuple[list[str], list[str]]]
REPORTER_MAX = 120  # characters of the name a person types ("Người báo cáo")
_WAITING = (CoordinationStatus.TO_INVITE, CoordinationStatus.INVITED)


class Refused(Exception):
    """A link that opens nothing: `status` is the HTTP status (403 refused, 410 expired, 404 gone)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class StageForm:
    """One stage of one occurrence (and counterpart) as its link opens it."""

    grant: FormGrant
    plan: Plan
    ref: PlanRef
    item: Item
    occurrence: Occurrence
    stage: Stage
    model: type[Outcome]
    view: StageView | None  # the stage's status and due date today
    recorded: Event | NewEvent | None  # the latest outcome recorded for it (for this counterpart)
    events: list[Event]  # the item's events

    @property
    def counterpart(self) -> str | None:
        return self.grant.counterpart


@dataclass
class Submitted:
    """What became of a form sent: `recorded` events, or `unchanged` (the same outcome is recorded
    already), or refused with `problems`, or `needs_correction` (another outcome is recorded and the
    sender did not say this one corrects it)."""

    recorded: list[Event] = field(default_factory=list)
    unchanged: bool = False
    needs_correction: bool = False
    problems: list[str] = field(default_factory=list)
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class TodoLine:
    """One thing a unit must report: a stage (with one link, or one per counterpart awaited)."""

    item: Item
    view: StageView
    unit: str
    kind: str  # overdue | due | awaiting
    links: tuple[tuple[str | None, FormGrant], ...]  # (counterpart or None, the grant its link carries)
    working_days: int  # overdue: late by; due: left


@dataclass
class TodoList:
    unit: str | None
    as_of: dt.date
    overdue: list[TodoLine]
    due: list[TodoLine]
    awaiting: list[TodoLine]

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.due or self.awaiting)


class Desk:
    """The plan, the ledger and the clock the forms use, opened once per process."""

    def __init__(self, settings: Settings, *, today: Callable[[], dt.date] | None = None, resume: Resume | None = None) -> None:
        if not settings.forms_secret:
            raise ValueError("KEHOACH_FORMS_SECRET is not set")
        self.settings = settings
        self.secret: str = settings.forms_secret
        self._today = today
        self._resume = resume
        self._ledger: Ledger | None = None
        self._lock = threading.Lock()

    # -- the world ---------------------------------------------------------------------------

    def today(self) -> dt.date:
        if self._today is not None:
            return self._today()
        from flows.resources import today

        return today()

    def plan(self) -> tuple[Plan, PlanRef]:
        path = self.settings.plan_path.resolve()
        return _load(str(path), path.stat().st_mtime_ns)

    def ledger(self) -> Ledger:
        with self._lock:
            if self._ledger is None:
                if not self.settings.database_url:
                    self.settings.home.mkdir(parents=True, exist_ok=True)
                self._ledger = Ledger(self.settings.ledger_url)
            return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.dispose()
            self._ledger = None

    # -- a stage's form ----------------------------------------------------------------------

    def open_form(self, token: str) -> StageForm:
        """The stage a link names, or Refused: tampered, signed with a rotated secret, expired, for
        another plan, or for a stage the link's unit does not report."""
        try:
            grant = read_form(token, self.secret, self.settings.forms_link_days)
        except LinkRefused as exc:
            raise Refused(410 if exc.expired else 403, str(exc)) from None
        plan, ref = self.plan()
        if grant.plan_id != plan.id:
            raise Refused(403, "đường dẫn này thuộc một kế hoạch khác")
        try:
            item = plan.item(grant.item)
            stage = find_stage(grant.stage)
        except (KeyError, InputError):
            raise Refused(404, "kế hoạch không còn nội dung hoặc bước mà đường dẫn này trỏ tới") from None
        if not may_answer(plan, item, grant.unit):
            raise Refused(403, "đơn vị của đường dẫn này không báo cáo nội dung này")
        events = self.ledger().events(plan.id, item=item.id)
        today = self.today()
        try:
            occurrence = find_occurrence(plan, item, events, grant.occurrence, today)
        except InputError:
            raise Refused(404, "đợt mà đường dẫn này trỏ tới không có trong sổ theo dõi") from None
        if stage is Stage.COORDINATION:
            if not grant.counterpart or grant.counterpart not in occurrence.counterparts:
                raise Refused(403, "đường dẫn này không trỏ tới một đối tác của đợt")
        elif grant.counterpart:
            raise Refused(403, "đường dẫn không hợp lệ")
        status = item_status(plan, item, events, today, _calendar(plan))
        view = next((v for v in status.stages if v.occurrence.id == occurrence.id and v.stage is stage), None)
        state = fold(events).get((item.id, occurrence.id), OccurrenceState())
        outcomes = state.outcomes.get(stage, [])
        if stage is Stage.COORDINATION:
            outcomes = [e for e in outcomes if e.counterpart == grant.counterpart]
        return StageForm(grant, plan, ref, item, occurrence, stage, outcome_model(plan, item, stage), view, outcomes[-1] if outcomes else None, events)

    def submit(self, form: StageForm, data: dict[str, Any], *, reporter: str, address: str, correction: bool) -> Submitted:
        """Record an outcome sent through a form, as `kehoach record` records it (plan/recording.py),
        then hand it to the runs waiting for it. The same outcome twice records nothing; a different
        one over a recorded outcome needs `correction`."""
        reporter = " ".join(reporter.split())
        problems = _reporter_problems(reporter)
        plan, item, stage = form.plan, form.item, form.stage
        unit = plan.unit(form.grant.unit)
        actor = f"{reporter} — {unit.short_name} ({unit.id}), biểu mẫu, từ {address or 'không rõ địa chỉ'}"
        try:
            target, produced = outcome_record(
                plan, item, stage, data, form.events,
                on=self.today(), actor=actor, occurrence=form.occurrence.id, counterpart=form.counterpart,
            )
        except InputError as exc:
            return Submitted(problems=problems + exc.problems)
        if problems:
            return Submitted(problems=problems)
        payload = produced[0].payload
        if form.recorded is not None and form.recorded.payload == payload:
            return Submitted(unchanged=True, payload=payload)
        if form.recorded is not None and not correction:
            return Submitted(needs_correction=True, payload=payload)
        written = self.ledger().append(form.ref, produced)
        if not written:
            return Submitted(unchanged=True, payload=payload)
        return Submitted(recorded=written, payload=payload)

    def resume(self, form: StageForm, payload: dict[str, Any]) -> None:
        """Resume the Prefect runs suspended for this stage (a server configured); failures are
        logged, the outcome stays recorded."""
        if self._resume is None and not self.settings.has_server:
            return
        where = f"ND {form.item.number} {form.stage.value} {form.occurrence.id}"
        try:
            if self._resume is not None:
                resumed, failed = self._resume(form.plan, form.item.id, form.occurrence.id, form.stage, payload)
            else:
                resumed, failed = self._resume_on_server(form, payload)
        except Exception:  # noqa: BLE001 - the outcome is recorded; the run can be resumed by `kehoach record` or the UI
            log.exception("Không tiếp tục được các lượt chạy đang chờ %s (kết quả đã được ghi vào sổ)", where)
            return
        for run_id in resumed:
            log.info("Đã tiếp tục lượt chạy đang chờ %s: %s", where, run_id)
        for reason in failed:
            log.warning("Không tiếp tục được lượt chạy %s (kết quả đã được ghi vào sổ): %s", where, reason)

    def _resume_on_server(self, form: StageForm, payload: dict[str, Any]) -> tuple[list[str], list[str]]:
        """flows.resume on the server these settings name: not whatever Prefect's process-wide
        settings say (the app may be given Settings that are not the process's environment)."""
        from flows.resume import resume_waiting_runs_on

        return resume_waiting_runs_on(
            self.settings.prefect_api_url, self.settings.prefect_api_auth, form.plan, form.item.id, form.occurrence.id, form.stage, payload
        )

    # -- a unit's page -----------------------------------------------------------------------

    def open_todo(self, token: str) -> tuple[TodoGrant, Plan]:
        try:
            grant = read_todo(token, self.secret, self.settings.forms_link_days)
        except LinkRefused as exc:
            raise Refused(410 if exc.expired else 403, str(exc)) from None
        plan, _ = self.plan()
        if grant.plan_id != plan.id:
            raise Refused(403, "đường dẫn này thuộc một kế hoạch khác")
        if grant.unit is not None and grant.unit not in {u.id for u in plan.units}:
            raise Refused(403, "đơn vị của đường dẫn này không có trong kế hoạch")
        return grant, plan

    def todo(self, grant: TodoGrant, plan: Plan) -> TodoList:
        """What the unit (or, for the directors, every unit) must report now: overdue stages, stages
        due within the digest's horizon, answers awaited from counterparts — the digest's lists
        (notifications/digest.py), narrowed to the stages the unit reports."""
        as_of = self.today()
        calendar = _calendar(plan)
        units = [grant.unit] if grant.unit else [u.id for u in plan.units]
        items = [i for i in plan.items if any(u in answering_units(plan, i) for u in units)]
        by_item: dict[str, list[Event]] = {}
        wanted = {i.id for i in items}
        for event in self.ledger().events(plan.id):
            if event.item in wanted:
                by_item.setdefault(event.item, []).append(event)
        statuses = [item_status(plan, i, by_item.get(i.id, []), as_of, calendar) for i in items]
        result = TodoList(grant.unit, as_of, [], [], [])
        shown: set[tuple[str, str, str, str]] = set()
        for unit in units:
            digest = unit_digest(plan, [s for s in statuses if may_answer(plan, s.item, unit)], unit, as_of, calendar=calendar)
            for entry in digest.overdue:
                result.overdue.append(_line(plan, entry, unit, "overdue", entry.working_days_late, shown))
            for entry in digest.due_soon:
                result.due.append(_line(plan, entry, unit, "due", entry.working_days_left, shown))
            for awaited in digest.awaiting:
                key = (unit, awaited.item.id, awaited.occurrence.id, awaited.counterpart.id)
                if key in shown:
                    continue
                shown.add(key)
                status = next(s for s in statuses if s.item.id == awaited.item.id)
                view = next(v for v in status.stages if v.occurrence.id == awaited.occurrence.id and v.stage is Stage.COORDINATION)
                grant_ = FormGrant(plan.id, unit, awaited.item.id, awaited.occurrence.id, Stage.COORDINATION.value, awaited.counterpart.id)
                result.awaiting.append(TodoLine(awaited.item, view, unit, "awaiting", ((awaited.counterpart.id, grant_),), 0))
        return result


def _line(plan: Plan, entry: StageEntry, unit: str, kind: str, days: int, shown: set[tuple[str, str, str, str]]) -> TodoLine:
    view = entry.view
    base = (plan.id, unit, entry.item.id, view.occurrence.id, view.stage.value)
    links: tuple[tuple[str | None, FormGrant], ...]
    if view.stage is Stage.COORDINATION:
        waiting = [cp for cp, answer in view.counterparts.items() if answer in _WAITING]
        for cp in waiting:
            shown.add((unit, entry.item.id, view.occurrence.id, cp))
        links = tuple((cp, FormGrant(*base, counterpart=cp)) for cp in waiting)
    else:
        links = ((None, FormGrant(*base)),)
    return TodoLine(entry.item, view, unit, kind, links, days)


def _reporter_problems(name: str) -> list[str]:
    if not name:
        return ["reporter: chưa ghi tên người báo cáo — cần: họ và tên người điền biểu mẫu"]
    if len(name) > REPORTER_MAX:
        return [f"reporter: tên dài {len(name)} ký tự — cần: tối đa {REPORTER_MAX} ký tự"]
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return ["reporter: tên có ký tự điều khiển — cần: một dòng chữ"]
    return []


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> tuple[Plan, PlanRef]:
    """The plan and its reference, once per file version (hashing a 2,000-item plan takes a while)."""
    result = load_plan(path)
    if not result.ok or result.plan is None:
        raise LedgerError("Kế hoạch không hợp lệ: " + "; ".join(p.render() for p in result.errors[:3]))
    return result.plan, plan_ref(result.plan)


_calendars: dict[int, tuple[Plan, WorkingCalendar]] = {}


def _calendar(plan: Plan) -> WorkingCalendar:
    """The plan's working calendar, once per plan object (plans are not hashable)."""
    found = _calendars.get(id(plan))
    if found is None or found[0] is not plan:
        if len(_calendars) > 8:
            _calendars.clear()
        found = _calendars[id(plan)] = (plan, working_calendar(plan))
    return found[1]


__all__ = ["HORIZON_DAYS", "Desk", "Refused", "StageForm", "Submitted", "TodoList", "TodoLine"]

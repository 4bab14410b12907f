"""The weekly digests, pure: for each unit, what it leads and coordinates, what falls due, what is late,
what was done and which answers are awaited; for the directors, each item's RAG and what needs a decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum

from notifications.form_links import FormLinks
from notifications.mail import Address, Mail, MailKind, mail_key
from notifications.render import render_html, render_text
from plan.calendar import WorkingCalendar
from plan.events import CoordinationStatus, StageStatus
from plan.model import Counterpart, Item, Plan, Role, Stage, Unit
from plan.occurrences import Occurrence
from plan.progress import ItemStatus, Rag, StageView, event_over
from plan.schedule import working_calendar

HORIZON_DAYS = 14
"""A digest lists what falls due in the next two weeks (calendar days)."""

PERIOD_DAYS = 7
"""By default a digest covers what was done in the week before it."""

_ROLE_ORDER = [Role.LEAD, Role.COORDINATE, Role.SUPPORT]


# --- shared pieces ---------------------------------------------------------------------------


def unit_role(item: Item, unit_id: str) -> Role | None:
    """The unit's role in an item: lead, coordinating or supporting (the strongest if listed twice)."""
    if item.lead == unit_id:
        return Role.LEAD
    if unit_id in item.coordinating:
        return Role.COORDINATE
    if unit_id in item.supporting:
        return Role.SUPPORT
    return None


def applicable(view: StageView) -> bool:
    """Whether a stage is real work: the coordination stage of an occurrence without counterparts is
    skipped by the flows, so it is neither due nor late whatever the ledger says yet."""
    return not (view.stage is Stage.COORDINATION and not view.occurrence.counterparts)


def executed_occurrences(status: ItemStatus) -> set[str]:
    """The occurrences of an item whose execution is recorded."""
    return {v.occurrence.id for v in status.stages if v.stage is Stage.EXECUTION and v.finished}


def moot(view: StageView, as_of: dt.date, executed: set[str]) -> bool:
    """Whether nobody is to be asked about a stage any more: the coordination with counterparts of an
    occurrence whose event has taken place (its last day passed, or its execution recorded). The
    other stages are still reported (what was prepared and held feeds the report)."""
    return view.stage is Stage.COORDINATION and event_over(view.occurrence, as_of, view.occurrence.id in executed)


def reports(plan: Plan, item: Item, unit_id: str) -> bool:
    """Whether the unit reports the item's stages: its lead, or, when the lead is outside the
    Department (item 6 is led by the city), each coordinating unit (as `coordination.responsible`)."""
    if item.lead == unit_id:
        return True
    return unit_id in item.coordinating and not any(u.id == item.lead for u in plan.units)


def compiler(plan: Plan) -> Unit | None:
    """The unit that compiles the plan's results (Văn phòng Sở): where units send what they report
    when there is no form, and where replies to Kehoach's mail go."""
    return next((u for u in plan.units if u.id == plan.reporting.compiled_by), None)


def reply_to(plan: Plan) -> tuple[Address, ...]:
    unit = compiler(plan)
    return tuple(Address(str(email), unit.name) for email in unit.emails) if unit else ()


def iso_week(day: dt.date) -> str:
    """2023-W52 — the period in a digest's idempotency key."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_label(day: dt.date) -> str:
    """tuần 52/2023 (ISO week, ISO year)."""
    year, week, _ = day.isocalendar()
    return f"tuần {week}/{year}"


def week_end(day: dt.date) -> dt.date:
    """The Sunday of `day`'s ISO week."""
    return day + dt.timedelta(days=6 - day.weekday())


@dataclass(frozen=True)
class ItemRole:
    """An item as one unit sees it: its status and the unit's role in it."""

    status: ItemStatus
    role: Role

    @property
    def item(self) -> Item:
        return self.status.item


@dataclass(frozen=True)
class StageEntry:
    """One stage of one occurrence in a digest list, with the reader's role in its item."""

    item: Item
    view: StageView
    role: Role | None = None
    working_days_left: int = 0  # due-soon entries: working days from the digest's date to the due date
    reports: bool = False  # the reader reports this stage (it gets a link to the stage's form)

    @property
    def stage(self) -> Stage:
        return self.view.stage

    @property
    def occurrence(self) -> Occurrence:
        return self.view.occurrence

    @property
    def due(self) -> dt.date:
        return self.view.due

    @property
    def working_days_late(self) -> int:
        return self.view.working_days_late

    @property
    def note(self) -> str | None:
        """What the unit wrote with the stage's latest outcome, if anything."""
        note = (self.view.outcome or {}).get("note")
        return str(note) if note else None

    @property
    def unanswered(self) -> list[str]:
        """Counterparts of a coordination stage not invited yet or not answering yet."""
        waiting = (CoordinationStatus.TO_INVITE, CoordinationStatus.INVITED)
        return [cp for cp, answer in self.view.counterparts.items() if answer in waiting]

    @property
    def indicators(self) -> dict[str, int]:
        """The numbers reported with the stage, in the item's order of indicators."""
        found = (self.view.outcome or {}).get("indicators") or {}
        order = {key: i for i, key in enumerate(self.item.indicators)}
        numbers = [(k, v) for k, v in found.items() if isinstance(v, int) and not isinstance(v, bool)]
        return dict(sorted(numbers, key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


@dataclass(frozen=True)
class Awaiting:
    """An invitation sent to a counterpart and not answered yet."""

    item: Item
    occurrence: Occurrence
    counterpart: Counterpart
    due: dt.date  # the coordination stage's due date: the answer is expected by then
    role: Role | None = None
    reports: bool = False  # the reader records the answer (it gets a link to the form)


# --- the unit digest -------------------------------------------------------------------------


@dataclass(frozen=True)
class Todo:
    """One line of "Việc cần làm": a stage the unit reports (for coordination, one counterpart's answer)."""

    entry: StageEntry
    counterpart: Counterpart | None = None

    @property
    def item(self) -> Item:
        return self.entry.item

    @property
    def view(self) -> StageView:
        return self.entry.view

    @property
    def late(self) -> int:
        return self.entry.working_days_late if self.entry.view.overdue else 0


def todo_lines(entries: list[StageEntry], plan: Plan) -> list[Todo]:
    """The stages as lines to act on: a coordination stage gives one line per counterpart whose answer
    is awaited (each has its own form), any other stage one line."""
    lines: list[Todo] = []
    for entry in entries:
        waiting = entry.unanswered if entry.stage is Stage.COORDINATION else []
        if waiting:
            lines.extend(Todo(entry, plan.counterpart(cp)) for cp in waiting)
        else:
            lines.append(Todo(entry))
    return lines


@dataclass(frozen=True)
class UnitDigest:
    unit: Unit
    as_of: dt.date
    since: dt.date
    leads: list[ItemRole]
    coordinates: list[ItemRole]  # coordinated or supported
    due_soon: list[StageEntry]  # stages the unit reports, due in the next 14 days
    overdue: list[StageEntry]  # stages the unit reports, past due
    done_since: list[StageEntry]
    awaiting: list[Awaiting]
    # Items the unit coordinates (their lead reports them): the lead's stages late or due soon, for
    # information. A supporting unit gets none of these: it helps, it is not chased.
    partners: list[StageEntry] = field(default_factory=list)
    todo: list[Todo] = field(default_factory=list)  # this week: overdue and due by Sunday, each with its form
    later: list[Todo] = field(default_factory=list)  # due after this week, within the 14 days

    @property
    def week_end(self) -> dt.date:
        """The Sunday ending the digest's ISO week ("tuần này")."""
        return week_end(self.as_of)

    @property
    def awaiting_unlisted(self) -> list[Awaiting]:
        """The awaited answers not already a line of what to do this week or later."""
        listed = {(t.item.id, t.view.occurrence.id, t.counterpart.id) for t in (*self.todo, *self.later) if t.counterpart}
        return [a for a in self.awaiting if (a.item.id, a.occurrence.id, a.counterpart.id) not in listed]

    @property
    def supports(self) -> list[ItemRole]:
        return [r for r in self.coordinates if r.role is Role.SUPPORT]

    @property
    def coordinates_only(self) -> list[ItemRole]:
        return [r for r in self.coordinates if r.role is not Role.SUPPORT]

    @property
    def until(self) -> dt.date:
        return self.as_of + dt.timedelta(days=HORIZON_DAYS)

    @property
    def first_day(self) -> dt.date:
        """The first day of the period covered by `done_since` (`since` itself is excluded)."""
        return self.since + dt.timedelta(days=1)

    @property
    def week(self) -> str:
        return week_label(self.as_of)

    @property
    def awaiting_by_occurrence(self) -> list[tuple[Item, Occurrence, dt.date, list[Counterpart]]]:
        """The awaited answers not already a line of what to do, grouped per occurrence: one entry per
        event, however many embassies."""
        groups: dict[tuple[str, str], tuple[Item, Occurrence, dt.date, list[Counterpart]]] = {}
        for a in self.awaiting_unlisted:
            groups.setdefault((a.item.id, a.occurrence.id), (a.item, a.occurrence, a.due, []))[3].append(a.counterpart)
        return list(groups.values())

    @property
    def is_quiet(self) -> bool:
        """Nothing due, late, done or awaited: the digest only lists the unit's items."""
        return not (self.due_soon or self.overdue or self.done_since or self.awaiting)


def unit_digest(
    plan: Plan,
    statuses: list[ItemStatus],
    unit_id: str,
    as_of: dt.date,
    since: dt.date | None = None,
    *,
    calendar: WorkingCalendar | None = None,
) -> UnitDigest:
    """What one unit needs to know on `as_of`, from the items' statuses on that date.

    Of the stages the unit reports (`reports`): due soon, unfinished stages due from `as_of` to
    `as_of` + 14 days and not late yet (a stage due today is listed, with 0 working days left);
    overdue, unfinished stages past due, counted in working days; what to do this week (overdue, or
    due by Sunday) and later. The preparation and coordination of an occurrence already held are
    asked of nobody. Partners: the same, for items the unit coordinates and does not report. Done:
    stages finished in (since, as_of]. Awaiting: counterparts invited and not answered, for the items
    the unit leads or coordinates.
    """
    calendar = calendar or working_calendar(plan)
    since = since if since is not None else as_of - dt.timedelta(days=PERIOD_DAYS)
    unit = plan.unit(unit_id)
    until = as_of + dt.timedelta(days=HORIZON_DAYS)
    leads: list[ItemRole] = []
    coordinates: list[ItemRole] = []
    due_soon: list[StageEntry] = []
    overdue: list[StageEntry] = []
    done: list[StageEntry] = []
    awaiting: list[Awaiting] = []
    partners: list[StageEntry] = []
    for status in statuses:
        item = status.item
        role = unit_role(item, unit_id)
        if role is None:
            continue
        (leads if role is Role.LEAD else coordinates).append(ItemRole(status, role))
        own = reports(plan, item, unit_id)
        executed = executed_occurrences(status)
        for view in status.stages:
            if not applicable(view):
                continue
            if view.finished:
                if view.status is StageStatus.DONE and view.finished_on is not None and since < view.finished_on <= as_of:
                    done.append(StageEntry(item, view, role, reports=own))
                continue
            if moot(view, as_of, executed):
                continue
            late = calendar.working_days_late(view.due, as_of)
            if late > 0:
                entry = StageEntry(item, _late_view(view, late), role, reports=own)
            elif view.due <= until:
                entry = StageEntry(item, view, role, calendar.working_days_late(as_of, view.due), reports=own)
            else:
                entry = None
            if entry is not None and own:
                (overdue if late > 0 else due_soon).append(entry)
            elif entry is not None and role is Role.COORDINATE:
                partners.append(entry)
            if view.stage is Stage.COORDINATION and role is not Role.SUPPORT:
                awaiting.extend(_awaiting(plan, item, view, role, own))
    coordinates.sort(key=lambda r: (_ROLE_ORDER.index(r.role), r.item.number))
    due_soon.sort(key=lambda e: (e.due, e.item.number, list(Stage).index(e.stage)))
    overdue.sort(key=lambda e: (-e.working_days_late, e.item.number, e.occurrence.start, list(Stage).index(e.stage)))
    partners.sort(key=lambda e: (e.due, e.item.number, e.occurrence.start, list(Stage).index(e.stage)))
    done.sort(key=lambda e: (e.view.finished_on, e.item.number, e.occurrence.start, list(Stage).index(e.stage)))
    awaiting.sort(key=lambda a: (a.due, a.item.number, a.occurrence.start, a.occurrence.id, a.occurrence.counterparts.index(a.counterpart.id)))
    sunday = week_end(as_of)
    todo = todo_lines(overdue + [e for e in due_soon if e.due <= sunday], plan)
    later = todo_lines([e for e in due_soon if e.due > sunday], plan)
    return UnitDigest(unit, as_of, since, leads, coordinates, due_soon, overdue, done, awaiting, partners, todo, later)


def _late_view(view: StageView, late: int) -> StageView:
    """The view with its lateness as of the digest's date (statuses may have been computed earlier)."""
    return view if view.working_days_late == late else replace(view, working_days_late=late)


def _awaiting(plan: Plan, item: Item, view: StageView, role: Role | None, own: bool = False) -> list[Awaiting]:
    return [
        Awaiting(item, view.occurrence, plan.counterpart(cp), view.due, role, own)
        for cp, answer in view.counterparts.items()
        if answer is CoordinationStatus.INVITED
    ]


# --- the directors' overview -----------------------------------------------------------------


class DecisionKind(StrEnum):
    BLOCKED = "blocked"  # a unit reported it cannot go on
    OVERDUE = "overdue"  # late beyond the plan's threshold
    DECLINED = "declined"  # a counterpart declined the invitation
    NO_ANSWER = "no_answer"  # a counterpart never answered by the coordination due date


DECISION_LABELS = {
    DecisionKind.BLOCKED: "Vướng mắc",
    DecisionKind.OVERDUE: "Quá hạn",
    DecisionKind.DECLINED: "Đối tác từ chối",
    DecisionKind.NO_ANSWER: "Đối tác không phản hồi",
}


@dataclass(frozen=True)
class Decision:
    """One thing the directors are asked to decide on."""

    kind: DecisionKind
    item: Item
    view: StageView
    counterpart: Counterpart | None = None
    note: str | None = None  # what the unit or the counterpart wrote

    @property
    def stage(self) -> Stage:
        return self.view.stage

    @property
    def occurrence(self) -> Occurrence:
        return self.view.occurrence

    @property
    def working_days_late(self) -> int:
        return self.view.working_days_late


@dataclass(frozen=True)
class ItemLine:
    """One row of the directors' overview."""

    status: ItemStatus
    lead: str  # the lead's name
    decisions: list[Decision] = field(default_factory=list)

    @property
    def item(self) -> Item:
        return self.status.item

    @property
    def rag(self) -> Rag:
        return self.status.rag

    @property
    def reasons(self) -> list[str]:
        return self.status.reasons

    @property
    def needs_decision(self) -> bool:
        return self.rag is Rag.OFF_TRACK or bool(self.decisions)


@dataclass(frozen=True)
class DirectorsDigest:
    as_of: dt.date
    since: dt.date
    items: list[ItemLine]  # every item, in plan order, with its RAG and reasons
    done_since: list[StageEntry]

    @property
    def first_day(self) -> dt.date:
        return self.since + dt.timedelta(days=1)

    @property
    def week(self) -> str:
        return week_label(self.as_of)

    @property
    def needs_decision(self) -> list[ItemLine]:
        """Items off track or with a blocked stage, a stage late beyond the threshold, or a counterpart
        who declined or never answered (while the occurrence has still to be held)."""
        return [line for line in self.items if line.needs_decision]

    @property
    def tally(self) -> dict[Rag, int]:
        return {rag: sum(1 for line in self.items if line.rag is rag) for rag in (Rag.OFF_TRACK, Rag.AT_RISK, Rag.ON_TRACK, Rag.DONE)}


def directors_digest(
    plan: Plan,
    statuses: list[ItemStatus],
    as_of: dt.date,
    since: dt.date | None = None,
    *,
    calendar: WorkingCalendar | None = None,
) -> DirectorsDigest:
    calendar = calendar or working_calendar(plan)
    since = since if since is not None else as_of - dt.timedelta(days=PERIOD_DAYS)
    threshold = plan.policy.off_track_after_working_days
    lines: list[ItemLine] = []
    done: list[StageEntry] = []
    for status in statuses:
        item = status.item
        decisions: list[Decision] = []
        executed = {v.occurrence.id for v in status.stages if v.stage is Stage.EXECUTION and v.finished}
        for view in status.stages:
            if not applicable(view):
                continue
            if view.finished:
                if view.status is StageStatus.DONE and view.finished_on is not None and since < view.finished_on <= as_of:
                    done.append(StageEntry(item, view))
                continue
            if moot(view, as_of, executed):
                continue
            late = calendar.working_days_late(view.due, as_of)
            view = _late_view(view, late)
            if view.status is StageStatus.BLOCKED:
                decisions.append(Decision(DecisionKind.BLOCKED, item, view, note=_note(view)))
            elif late > threshold:
                decisions.append(Decision(DecisionKind.OVERDUE, item, view, note=_note(view)))
        for view in status.stages:
            # An answer that no longer matters once the occurrence has been held.
            if view.stage is not Stage.COORDINATION or view.occurrence.id in executed:
                continue
            for cp, answer in view.counterparts.items():
                kind = {CoordinationStatus.DECLINED: DecisionKind.DECLINED, CoordinationStatus.NO_ANSWER: DecisionKind.NO_ANSWER}.get(answer)
                if kind is not None:
                    outcome = view.outcome or {}
                    note = outcome.get("note") if outcome.get("counterpart") == cp else None
                    decisions.append(Decision(kind, item, view, plan.counterpart(cp), str(note) if note else None))
        lines.append(ItemLine(status, plan.party_name(item.lead), decisions))
    done.sort(key=lambda e: (e.view.finished_on, e.item.number, e.occurrence.start, list(Stage).index(e.stage)))
    return DirectorsDigest(as_of, since, lines, done)


def _note(view: StageView) -> str | None:
    note = (view.outcome or {}).get("note")
    return str(note) if note else None


# --- the mails -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailLinks:
    """The links in one recipient's mail: to the form of each stage it reports and to its page of
    what to do. Without forms configured (`links` is None) every link is None, and the mail says
    instead whom to send results to (`contact`, the compiling unit)."""

    links: FormLinks | None
    unit: str | None  # the unit answering; None: the directors (their page lists every unit)
    contact: Unit | None = None

    def stage(self, item: Item, occurrence: Occurrence, stage: Stage | str, counterpart: Counterpart | str | None = None) -> str | None:
        if self.links is None or self.unit is None:
            return None
        cp = counterpart.id if isinstance(counterpart, Counterpart) else counterpart
        return self.links.form(self.unit, item.id, occurrence.id, Stage(stage).value, cp)

    def todo(self) -> str | None:
        return self.links.todo(self.unit) if self.links is not None else None

    @property
    def valid_until(self) -> dt.date | None:
        return self.links.valid_until if self.links is not None else None


def plan_label(plan: Plan) -> str:
    """Kế hoạch 326/KH-SVHTT"""
    return f"{plan.document.type} {plan.document.number_symbol}"


def digest_subject(plan: Plan, as_of: dt.date, recipient_name: str) -> str:
    """[Kehoach] Tổng hợp tuần 52/2023 — Văn phòng Sở — Kế hoạch 326/KH-SVHTT"""
    return f"[Kehoach] Tổng hợp {week_label(as_of)} — {recipient_name} — {plan_label(plan)}"


def digest_mails(
    plan: Plan, statuses: list[ItemStatus], as_of: dt.date, since: dt.date | None = None, *, links: FormLinks | None = None
) -> list[Mail]:
    """One digest per unit that has an address, then the directors' overview; keyed by ISO week, so a
    week's digest is queued once however often this runs in that week. With `links`, each stage a
    unit reports carries a link to its form, and each digest a link to the unit's page of what to do
    (the directors': every unit's). Replies go to the compiling unit."""
    contact = compiler(plan)
    since = since if since is not None else as_of - dt.timedelta(days=PERIOD_DAYS)
    calendar = working_calendar(plan)
    week = iso_week(as_of)
    mails: list[Mail] = []
    for unit in plan.units:
        if not unit.emails:
            continue
        digest = unit_digest(plan, statuses, unit.id, as_of, since, calendar=calendar)
        context = {"plan": plan, "digest": digest, "link": MailLinks(links, unit.id, contact)}
        mails.append(
            Mail(
                key=mail_key(MailKind.DIGEST, unit.id, plan.id, week),
                kind=MailKind.DIGEST,
                to=tuple(Address(email, unit.name) for email in unit.emails),
                subject=digest_subject(plan, as_of, unit.name),
                html=render_html("digest", **context),
                text=render_text("digest", **context),
                reply_to=reply_to(plan),
            )
        )
    directors = plan.directors
    if directors.emails:
        overview = directors_digest(plan, statuses, as_of, since, calendar=calendar)
        context = {"plan": plan, "digest": overview, "decision_labels": DECISION_LABELS, "link": MailLinks(links, None, contact)}
        mails.append(
            Mail(
                key=mail_key(MailKind.DIRECTORS, directors.id, plan.id, week),
                kind=MailKind.DIRECTORS,
                to=tuple(Address(email, directors.name) for email in directors.emails),
                subject=digest_subject(plan, as_of, directors.name),
                html=render_html("directors", **context),
                text=render_text("directors", **context),
                reply_to=reply_to(plan),
            )
        )
    return mails

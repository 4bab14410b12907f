"""Which coordination mails are due on a date, pure: invitations to counterparts, reminders before a stage
is due, overdue notices, and escalations to the directors. Keys make each mail once-only in the outbox,
so deciding again on a later date queues nothing new."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from notifications.digest import MailLinks, applicable, compiler, executed_occurrences, moot, reply_to
from notifications.form_links import FormLinks
from notifications.mail import Address, Mail, MailKind, mail_key
from notifications.render import render_html, render_text
from plan.calendar import WorkingCalendar
from plan.events import CoordinationStatus
from plan.model import STAGE_LABELS, Counterpart, CounterpartKind, Item, Plan, Role, Stage, Unit
from plan.progress import ItemStatus, StageView, too_late_to_invite
from plan.schedule import working_calendar
from plan.text import short_date

BILINGUAL = frozenset({CounterpartKind.EMBASSY, CounterpartKind.DELEGATION})
"""Counterparts whose invitation carries an English version after the Vietnamese one."""

_NOT_ANSWERED = (CoordinationStatus.TO_INVITE, CoordinationStatus.INVITED)


@dataclass(frozen=True)
class Recipients:
    """Who gets a stage mail: `key` names the recipient in the mail's idempotency key."""

    key: str
    to: tuple[Unit, ...]
    cc: tuple[Unit, ...]
    role: Role


def responsible(plan: Plan, item: Item) -> list[Recipients]:
    """The lead unit, with the coordinating units in copy; when the lead is outside the Department
    (item 6 is led by the city), each coordinating unit instead, on its own."""
    units = {u.id: u for u in plan.units}
    coordinating = tuple(units[c] for c in item.coordinating if c in units)
    if item.lead in units:
        return [Recipients(item.lead, (units[item.lead],), coordinating, Role.LEAD)]
    return [Recipients(u.id, (u,), (), Role.COORDINATE) for u in coordinating]


def coordination_mails(
    plan: Plan, statuses: list[ItemStatus], as_of: dt.date, *, calendar: WorkingCalendar | None = None, links: FormLinks | None = None
) -> list[Mail]:
    """The mails due on `as_of` for the given items' statuses (computed on `as_of`).

    - an invitation to each counterpart not answered yet of an occurrence whose coordination stage is
      open, until the occurrence starts or its execution is recorded (one per counterpart and
      occurrence, whatever the date);
    - a reminder when an unfinished stage is due within `policy.remind_before_working_days` working days;
    - an overdue notice when an unfinished stage is past due;
    - an escalation to the directors when it is late by more than `policy.off_track_after_working_days`;
    - none of these for the preparation or coordination of an occurrence whose event has taken place.

    With `links`, reminders and overdue notices carry the link to the stage's form (coordination: one
    per counterpart awaited); without, they say whom to send the result to.
    """
    return [make() for _, make in _due(plan, statuses, as_of, calendar or working_calendar(plan), links)]


def coordination_keys(plan: Plan, statuses: list[ItemStatus], as_of: dt.date, *, calendar: WorkingCalendar | None = None) -> set[str]:
    """The outbox keys of the mails `coordination_mails` would give, without writing any of them."""
    return {key for key, _ in _due(plan, statuses, as_of, calendar or working_calendar(plan))}


def _due(
    plan: Plan, statuses: list[ItemStatus], as_of: dt.date, calendar: WorkingCalendar, links: FormLinks | None = None
) -> Iterator[tuple[str, Callable[[], Mail]]]:
    """Each mail due: its key, and how to write it."""
    policy = plan.policy
    for status in statuses:
        item = status.item
        executed = executed_occurrences(status)
        for view in status.stages:
            if view.finished or not applicable(view) or moot(view, as_of, executed):
                continue
            if view.stage is Stage.COORDINATION:
                yield from _invitations(plan, item, view, as_of, view.occurrence.id in executed)
            late = calendar.working_days_late(view.due, as_of)
            if late == 0:
                left = calendar.working_days_late(as_of, view.due)  # working days in (as_of, due]
                if as_of <= view.due and left <= policy.remind_before_working_days:
                    yield from _stage_mails(plan, status, view, as_of, MailKind.REMINDER, left=left, links=links)
            else:
                yield from _stage_mails(plan, status, view, as_of, MailKind.OVERDUE, late=late, links=links)
                if late > policy.off_track_after_working_days and plan.directors.emails:
                    key = mail_key(MailKind.ESCALATION, plan.directors.id, item.id, view.occurrence.id, view.stage.value)
                    yield key, functools.partial(_escalation, plan, status, view, as_of, late, links)


# --- invitations -----------------------------------------------------------------------------


def event_title(item: Item, view: StageView) -> str:
    """What the counterpart is invited to: the occurrence's own title (an anniversary, a course), else
    the item's short title."""
    return view.occurrence.title if not view.occurrence.is_main and view.occurrence.title else item.short_title


def _invitations(plan: Plan, item: Item, view: StageView, as_of: dt.date, executed: bool = False) -> Iterator[tuple[str, Callable[[], Mail]]]:
    # An invitation is pointless once the occurrence has begun or been held (plan.progress records
    # no "invited" then either); before the stage opens it is early.
    if as_of < view.opens or too_late_to_invite(view.occurrence, as_of, executed):
        return
    for cp, answer in view.counterparts.items():
        if answer not in _NOT_ANSWERED:
            continue
        counterpart = plan.counterpart(cp)
        if not counterpart.contacts:
            continue  # nobody to write to; the unit sees the counterpart as unanswered in its digest
        key = mail_key(MailKind.INVITATION, counterpart.id, item.id, view.occurrence.id)
        yield key, functools.partial(invitation_mail, plan, item, view, counterpart, as_of)


def invitation_mail(plan: Plan, item: Item, view: StageView, counterpart: Counterpart, as_of: dt.date) -> Mail:
    title = event_title(item, view)
    contacts = responsible(plan, item)
    contact_units = [u for r in contacts for u in r.to]
    bilingual = counterpart.kind in BILINGUAL
    context = {
        "plan": plan,
        "item": item,
        "view": view,
        "occurrence": view.occurrence,
        "counterpart": counterpart,
        "title": title,
        "bilingual": bilingual,
        "expected": view.occurrence.is_main and item.window.precision == "expected",
        "reply_by": view.due if view.due >= as_of else None,
        "contact_units": contact_units,
        "as_of": as_of,
    }
    subject = f"{plan.department.name} — Thư mời phối hợp: “{title}”"
    if bilingual:
        subject += f" / Invitation to cooperate: “{title}”"
    return Mail(
        key=mail_key(MailKind.INVITATION, counterpart.id, item.id, view.occurrence.id),
        kind=MailKind.INVITATION,
        to=tuple(Address(c.email, c.name or counterpart.name) for c in counterpart.contacts),
        cc=_addresses(contact_units),
        subject=subject,
        html=render_html("invitation", **context),
        text=render_text("invitation", **context),
    )


# --- reminders, overdue notices, escalations -------------------------------------------------


def _where(view: StageView) -> str:
    occurrence = "" if view.occurrence.is_main else f" ({view.occurrence.title or view.occurrence.id})"
    return f"{STAGE_LABELS[view.stage]}{occurrence}"


def _stage_mails(
    plan: Plan, status: ItemStatus, view: StageView, as_of: dt.date, kind: MailKind, *, left: int = 0, late: int = 0,
    links: FormLinks | None = None,
) -> Iterator[tuple[str, Callable[[], Mail]]]:
    item = status.item
    for recipients in responsible(plan, item):
        to, cc = _addresses(recipients.to), _addresses(recipients.cc)
        if not to:
            to, cc = cc, ()
        if not to:
            continue
        key = mail_key(kind, recipients.key, item.id, view.occurrence.id, view.stage.value)
        yield key, functools.partial(_stage_mail, plan, status, view, as_of, kind, key, recipients, to, cc, left, late, links)


def _stage_mail(
    plan: Plan, status: ItemStatus, view: StageView, as_of: dt.date, kind: MailKind, key: str, recipients: Any,
    to: tuple[Address, ...], cc: tuple[Address, ...], left: int, late: int, links: FormLinks | None = None,
) -> Mail:
    item = status.item
    if kind is MailKind.REMINDER:
        when = "hôm nay" if view.due == as_of else f"{short_date(view.due)}"
        subject = f"[Kehoach] Nhắc việc: {_where(view)} — ND {item.number} {item.short_title} — hạn {when}"
    else:
        subject = f"[Kehoach] Quá hạn: {_where(view)} — ND {item.number} {item.short_title} (hạn {short_date(view.due)})"
    context = _stage_context(plan, status, view, as_of, left=left, late=late)
    # The link is the recipient's: the unit that reports the stage (those in copy see the same mail).
    context.update(unit=recipients.to[0], role=recipients.role, link=MailLinks(links, recipients.to[0].id, compiler(plan)))
    template = "reminder" if kind is MailKind.REMINDER else "overdue"
    return Mail(
        key=key,
        kind=kind,
        to=to,
        cc=cc,
        subject=subject,
        html=render_html(template, **context),
        text=render_text(template, **context),
        reply_to=reply_to(plan),
    )


def _escalation(plan: Plan, status: ItemStatus, view: StageView, as_of: dt.date, late: int, links: FormLinks | None = None) -> Mail:
    directors = plan.directors
    item = status.item
    units = [u for r in responsible(plan, item) for u in (*r.to, *r.cc)]
    context = _stage_context(plan, status, view, as_of, late=late)
    context["link"] = MailLinks(links, None, compiler(plan))
    return Mail(
        key=mail_key(MailKind.ESCALATION, directors.id, item.id, view.occurrence.id, view.stage.value),
        kind=MailKind.ESCALATION,
        to=tuple(Address(email, directors.name) for email in directors.emails),
        cc=_addresses(units),
        subject=f"[Kehoach] Báo cáo Ban Giám đốc: ND {item.number} {item.short_title} — {_where(view)} quá hạn {late} ngày làm việc",
        html=render_html("escalation", **context),
        text=render_text("escalation", **context),
        reply_to=reply_to(plan),
    )


def _stage_context(plan: Plan, status: ItemStatus, view: StageView, as_of: dt.date, *, left: int = 0, late: int = 0) -> dict:
    item = status.item
    return {
        "plan": plan,
        "status": status,
        "item": item,
        "view": view,
        "as_of": as_of,
        "left": left,
        "late": late,
        "lead": plan.party_name(item.lead),
        "lead_is_unit": any(u.id == item.lead for u in plan.units),
        "coordinating": [plan.party_name(c) for c in item.coordinating],
        "unanswered": [cp for cp, answer in view.counterparts.items() if answer in _NOT_ANSWERED],
        "policy": plan.policy,
    }


def _addresses(units) -> tuple[Address, ...]:
    seen: dict[str, Address] = {}
    for unit in units:
        for email in unit.emails:
            seen.setdefault(str(email), Address(str(email), unit.name))
    return tuple(seen.values())

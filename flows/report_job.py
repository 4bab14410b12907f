"""The upward report's steps, without Prefect: aggregate the ledger for a period, write the files,
queue the mails. The `upward-report` flow (flows/report.py) runs each step as a task; `kehoach
report` with no server configured runs them here, in its own process, without Prefect's start-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows import resources
from flows.delivery import Delivery, deliver_once, queue_mail
from notifications.report_mail import report_mails
from plan.calendar import PeriodKind, ReportingPeriod, latest_closed_period
from plan.model import Plan
from reports.data import ReportData
from reports.document import ReportFiles


@dataclass(frozen=True)
class ReportRun:
    """What a report run made: the period, the files written, the mails sent."""

    period: str
    files: ReportFiles
    sent: tuple[str, ...]
    events_in_period: int


def the_period(plan: Plan, period: str | None, as_of: dt.date) -> ReportingPeriod:
    """The period asked for, else the latest whose data window has closed (what a schedule reports)."""
    return ReportingPeriod.parse(period) if period else latest_closed_period([PeriodKind(k) for k in plan.reporting.periods], as_of)


def aggregate_step(plan_path: str, period_id: str, as_of: dt.date) -> ReportData:
    from reports.aggregate import aggregate

    plan, _ = resources.load(plan_path)
    return aggregate(plan, resources.ledger(), ReportingPeriod.parse(period_id), as_of)


def render_step(data: ReportData, out_dir: str, number: str | None) -> ReportFiles:
    from reports.document import render_report

    return render_report(data, Path(out_dir), number=number)


def mail_step(plan: Plan, period: ReportingPeriod, files: ReportFiles) -> list[str]:
    """Queue the report's mail to each recipient; the keys newly queued."""
    return queue_mail(plan.id, report_mails(plan, period, (files.pdf, files.docx, files.xlsx)))


def out_dir(period: ReportingPeriod) -> str:
    return str(resources.settings().reports_dir / period.id)


def _no_artifacts(plan: Plan, period: ReportingPeriod, as_of: dt.date, data: ReportData, files: ReportFiles) -> None:
    return None


@dataclass(frozen=True)
class Steps:
    """How each step runs: plain calls in a command's own process; the flow gives its tasks, its
    deliver task and its artifacts."""

    aggregate: Callable[[str, str, dt.date], ReportData] = aggregate_step
    render: Callable[[ReportData, str, str | None], ReportFiles] = render_step
    deliver: Callable[[Any], Delivery] = deliver_once
    publish: Callable[[Plan, ReportingPeriod, dt.date, ReportData, ReportFiles], None] = _no_artifacts


def make_report(
    period: str | None = None, as_of: dt.date | None = None, plan_path: str | None = None, number: str | None = None,
    send: bool = True, logger: Any = None, steps: Steps = Steps(),
) -> ReportRun:
    """The whole report: in this process with the plain steps (mail delivered once), or as the
    `upward-report` flow with its tasks."""
    as_of = as_of or resources.today()
    path = str(resources.plan_path(plan_path))
    plan, _ = resources.load(path)
    chosen = the_period(plan, period, as_of)
    data = steps.aggregate(path, chosen.id, as_of)
    files = steps.render(data, out_dir(chosen), number)
    steps.publish(plan, chosen, as_of, data, files)
    sent: tuple[str, ...] = ()
    if send:
        mail_step(plan, chosen, files)
        sent = steps.deliver(logger).sent
    return ReportRun(period=chosen.id, files=files, sent=sent, events_in_period=data.events_in_period)

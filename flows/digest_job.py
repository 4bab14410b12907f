"""The week's digests, without Prefect: each unit's digest and the directors' overview, queued in
the outbox. The `unit-digest` flow (flows/digest.py) runs this as a flow run; `kehoach digest` with
no server configured runs it here, in its own process, without Prefect's start-up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flows import resources
from flows.delivery import Delivery, deliver_once, queue_mail
from notifications.digest import digest_mails
from plan.progress import plan_status


@dataclass(frozen=True)
class DigestRun:
    """The digests queued today (their outbox keys) and what the delivery after them did."""

    queued: tuple[str, ...]
    delivery: Delivery


def queue_digests(as_of: dt.date, unit: str | None, plan_path: str | None) -> tuple[str, list[str]]:
    """Queue the week's digests (one unit's, if asked): the plan id and the keys newly queued."""
    plan, _ = resources.load(plan_path)
    statuses = plan_status(plan, resources.ledger().events(plan.id), as_of)
    mails = digest_mails(plan, statuses, as_of, links=resources.form_links(plan))
    if unit is not None:
        mails = [m for m in mails if f"/{unit}/" in m.key]
    return plan.id, queue_mail(plan.id, mails)


def make_digests(as_of: dt.date | None = None, unit: str | None = None, plan_path: str | None = None, logger: Any = None) -> DigestRun:
    """The week's digests in this process, as the flow makes them, mail delivered once."""
    _, queued = queue_digests(as_of or resources.today(), unit, plan_path)
    return DigestRun(queued=tuple(queued), delivery=deliver_once(logger))

"""The deliver task the flows share: flows/delivery.py's `deliver`, retried by Prefect."""

from __future__ import annotations

from typing import Any

from prefect import task

from flows import resources
from flows.delivery import Delivery, checked, deliver
from notifications.outbox import Outbox

deliver_task = task(name="deliver-mail", retries=2, retry_delay_seconds=[60, 300])(deliver)


def deliver_and_check(logger: Any) -> Delivery:
    """Deliver what is due; a permanent refusal fails the run. Under a command a person waits for,
    once: the outbox's schedule and `kehoach outbox retry` do the retrying."""
    if resources.interactive():
        return checked(deliver_task.with_options(retries=0)(retry_here=False), logger)
    return checked(deliver_task(), logger)


def deliver_if_due(logger: Any) -> Delivery:
    """`deliver_and_check` when the outbox holds mail due now; else nothing, and no task run (an
    item's run on a morning with a thousand items would otherwise add one that sends nothing)."""
    if not Outbox(resources.ledger()).due():
        return Delivery()
    return deliver_and_check(logger)

"""The deliver task the flows share: flows/delivery.py's `deliver`, retried by Prefect."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import task

from flows import resources
from flows.delivery import Delivery, checked, deliver
from notifications.outbox import Outbox

_PLAN_RUN_DELIVERS = threading.Event()  # process-wide: the items' own runs execute in threads of their own

deliver_task = task(name="deliver-mail", retries=2, retry_delay_seconds=[60, 300])(deliver)


def deliver_and_check(logger: Any) -> Delivery:
    """Deliver what is due; a permanent refusal fails the run. Under a command a person waits for,
    once: the outbox's schedule and `kehoach outbox retry` do the retrying."""
    if resources.interactive():
        return checked(deliver_task.with_options(retries=0)(retry_here=False), logger)
    return checked(deliver_task(), logger)


@contextmanager
def delivered_by_the_plan_run() -> Iterator[None]:
    """While the plan-run runs its items in this process, they queue their mail and leave delivering
    it to the plan-run, which delivers once they have all settled, the same morning: a thousand
    items would otherwise be a thousand deliveries, each a task run. An item's run elsewhere (resumed
    on a worker, started by hand) delivers its own."""
    _PLAN_RUN_DELIVERS.set()
    try:
        yield
    finally:
        _PLAN_RUN_DELIVERS.clear()


def deliver_if_due(logger: Any) -> Delivery:
    """`deliver_and_check` when the outbox holds mail due now and no plan-run in this process will
    deliver it; else nothing, and no task run."""
    if _PLAN_RUN_DELIVERS.is_set() or not Outbox(resources.ledger()).due():
        return Delivery()
    return deliver_and_check(logger)

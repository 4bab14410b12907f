"""The automation that marks a flow run Crashed when its heartbeats stop (Prefect's zombie detection).

Workers started by `kehoach serve` run flows with PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30: a run whose
machine dies stops beating, and after HEARTBEAT_WITHIN the server marks it Crashed, wherever the
worker was. A run that ends, or suspends to wait for a unit's outcome, stops beating too, but sends
its state first: those states are expected events and close the window.

    python -m kehoach.stack.automations      # create it if missing (kehoach serve does this at start)
"""

from __future__ import annotations

import datetime as dt
import sys

from kehoach.stack.layout import HEARTBEAT_FREQUENCY

HEARTBEAT_WITHIN = dt.timedelta(seconds=3 * HEARTBEAT_FREQUENCY)
NAME = "kehoach: lượt chạy mất tín hiệu → Crashed"
ENDING_STATES = ("Completed", "Failed", "Cancelled", "Crashed", "Suspended", "Paused", "Cancelling")


def zombie_automation(within: dt.timedelta = HEARTBEAT_WITHIN, name: str = NAME, match: dict[str, str | list[str]] | None = None):
    """The automation: `within` without a heartbeat or an ending state -> Crashed. `match` narrows the
    flow runs it watches (the default: every flow run of the server); tests use a shorter window."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    seconds = int(within.total_seconds())
    return Automation(
        name=name,
        description=f"Lượt chạy không gửi tín hiệu (heartbeat) trong {seconds} giây: máy hoặc worker đã dừng đột ngột.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{state}" for state in ENDING_STATES)},
            match=ResourceSpecification(match or {"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=within,
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message=f"Mất tín hiệu (heartbeat) {seconds} giây: tiến trình của lượt chạy đã dừng đột ngột.")],
    )


def ensure_zombie_automation() -> bool:
    """Create the automation unless one of that name exists. True if it was created now."""
    from prefect.automations import Automation
    from prefect.exceptions import ObjectNotFound

    try:
        Automation.read(name=NAME)  # type: ignore[unused-coroutine]  # sync here: Prefect types both calling conventions
        return False
    except (ObjectNotFound, ValueError):
        zombie_automation().create()
        return True


if __name__ == "__main__":
    created = ensure_zombie_automation()
    print(f"{'Đã tạo' if created else 'Đã có'} automation «{NAME}»")
    sys.exit(0)

"""What every flow needs from the outside world: the plan, the ledger, today's date, readable names.

Kept free of Prefect so the command line can share it; the flows import Prefect themselves.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from plan.events import PlanRef, plan_ref
from plan.ledger import Ledger
from plan.load import default_plan_path, load_plan
from plan.model import Item, Plan

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class PlanInvalid(RuntimeError):
    """The plan a flow was given does not pass `kehoach plan check`."""


def today() -> dt.date:
    """Today in Hanoi: a run at 06:30 Hanoi time belongs to that day, whatever the server's zone."""
    return dt.datetime.now(TIMEZONE).date()


def plan_path(path: str | None) -> Path:
    return Path(path).resolve() if path else default_plan_path().resolve()


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Plan:
    result = load_plan(path)
    if not result.ok:
        raise PlanInvalid("; ".join(p.render() for p in result.errors[:5]))
    return result.plan


def load(path: str | None) -> tuple[Plan, PlanRef]:
    """The plan at `path` (default: $KEHOACH_PLAN or the 2023 plan), loaded once per process and version."""
    resolved = plan_path(path)
    plan = _load(str(resolved), resolved.stat().st_mtime_ns)
    return plan, plan_ref(plan)


_LEDGERS: dict[tuple[str | None, str | None], Ledger] = {}


def ledger() -> Ledger:
    """One ledger (and connection pool) per process and configuration."""
    key = (os.environ.get("KEHOACH_DATABASE_URL"), os.environ.get("KEHOACH_HOME"))
    if key not in _LEDGERS:
        _LEDGERS[key] = Ledger()
    return _LEDGERS[key]


def reset() -> None:
    """Forget cached plans and close ledgers (tests switch KEHOACH_HOME between cases)."""
    for opened in _LEDGERS.values():
        opened.dispose()
    _LEDGERS.clear()
    _load.cache_clear()


def item_tags(plan: Plan, item: Item) -> list[str]:
    return [f"plan:{plan.id}", f"item:{item.number}", f"lead:{item.lead}"]


def item_run_name(plan: Plan, item: Item, as_of: dt.date) -> str:
    lead = plan.party_name(item.lead, short=True)
    return f"ND {item.number} · {item.short_title} · {lead} · {as_of:%d/%m/%Y}"

"""The plan a command uses when none is named: KEHOACH_PLAN, else the 2023 plan shipped in plan/plans/.

Read here on its own so that the plan commands (`kehoach plan check` above all, which editors and
hooks run on every save) do not pay for the whole settings object (pydantic-settings costs ~60 ms
to import). The one other module that reads the environment; `Settings.plan` follows the same rule
(`chosen_plan`), so both readings agree.
"""

from __future__ import annotations

import os
from pathlib import Path

from plan.load import DEFAULT_PLAN

PLAN_VARIABLE = "KEHOACH_PLAN"


def chosen_plan(value: object) -> Path | None:
    """A plan path as given (blank means none); `~` expanded."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return Path(str(value).strip()).expanduser()


def plan_from_environment() -> Path:
    return chosen_plan(os.environ.get(PLAN_VARIABLE)) or DEFAULT_PLAN

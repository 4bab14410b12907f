"""Shared by the decision tests: the shipped 2023 plan and its working calendar."""

from __future__ import annotations

import pytest

from plan.calendar import WorkingCalendar
from plan.load import load_plan
from plan.model import Plan
from plan.schedule import working_calendar


@pytest.fixture(scope="session")
def plan() -> Plan:
    result = load_plan()
    assert result.plan is not None, [p.render() for p in result.problems]
    return result.plan


@pytest.fixture(scope="session")
def cal(plan: Plan) -> WorkingCalendar:
    return working_calendar(plan)

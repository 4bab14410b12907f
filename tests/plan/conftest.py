"""Shared by the plan tests: the shipped 2023 plan and its working calendar, and empty ledger databases
(SQLite; PostgreSQL too when KEHOACH_TEST_POSTGRES_URL names a database the tests may create schemas in)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from plan.calendar import WorkingCalendar
from plan.load import load_plan
from plan.model import Plan
from plan.schedule import working_calendar

POSTGRES_URL = os.environ.get("KEHOACH_TEST_POSTGRES_URL", "").strip()


@pytest.fixture(scope="session")
def plan() -> Plan:
    result = load_plan()
    assert result.plan is not None, [p.render() for p in result.problems]
    return result.plan


@pytest.fixture(scope="session")
def cal(plan: Plan) -> WorkingCalendar:
    return working_calendar(plan)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.skipif(not POSTGRES_URL, reason="KEHOACH_TEST_POSTGRES_URL is not set")),
    ]
)
def database_url(request, tmp_path) -> str:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema dropped after the test."""
    if request.param == "sqlite":
        yield sa.URL.create("sqlite", database=str(tmp_path / "ledger.sqlite")).render_as_string()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()

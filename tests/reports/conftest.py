"""Fixtures shared by the aggregation tests: the 2023 plan, and empty ledgers on SQLite and, when
KEHOACH_TEST_POSTGRES_URL is set, on PostgreSQL (a fresh schema each, dropped at the end)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from plan.load import load_plan

POSTGRES_URL = os.environ.get("KEHOACH_TEST_POSTGRES_URL", "").strip()


@pytest.fixture(scope="module", name="plan")
def fixture_plan():
    result = load_plan()
    assert result.plan is not None, [p.render() for p in result.problems]
    return result.plan


@pytest.fixture(
    scope="module",
    name="database_url",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not POSTGRES_URL, reason="KEHOACH_TEST_POSTGRES_URL is not set"))],
)
def fixture_database_url(request, tmp_path_factory):
    """Makes empty databases: SQLite files, or fresh PostgreSQL schemas dropped at the end."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("ledgers")
        yield lambda name: sa.URL.create("sqlite", database=str(folder / f"{name}.sqlite")).render_as_string()
        return
    admin = sa.create_engine(POSTGRES_URL)
    schemas = []

    def make(name: str) -> str:
        schema = f"t_{name}_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        return make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)

    yield make
    with admin.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()

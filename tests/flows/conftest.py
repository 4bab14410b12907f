"""Flow tests share one Prefect test harness (a temporary API and database) for the session."""

from __future__ import annotations

import pytest

from flows import runtime
from plan.load import DEFAULT_PLAN, load_plan


@pytest.fixture(name="prefect_api", scope="session")
def fixture_prefect_api(tmp_path_factory):
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, PREFECT_LOGGING_LEVEL, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    results = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(results), PREFECT_LOGGING_LEVEL: "WARNING"}):
        with prefect_test_harness(server_startup_timeout=60):
            yield


@pytest.fixture(name="kehoach_home")
def fixture_kehoach_home(tmp_path, monkeypatch):
    """A fresh ledger for each test."""
    monkeypatch.setenv("KEHOACH_HOME", str(tmp_path / "kehoach"))
    monkeypatch.delenv("KEHOACH_DATABASE_URL", raising=False)
    runtime.reset()
    yield tmp_path / "kehoach"
    runtime.reset()


@pytest.fixture(name="plan", scope="session")
def fixture_plan():
    return load_plan(DEFAULT_PLAN).plan


@pytest.fixture(name="smtp")
def fixture_smtp(smtp_server, monkeypatch):
    """The flows' mail goes to the SMTP server of tests/conftest.py (plain, on 127.0.0.1)."""
    monkeypatch.setenv("KEHOACH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KEHOACH_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("KEHOACH_SMTP_SECURITY", "none")
    monkeypatch.setenv("KEHOACH_MAIL_FROM", "kehoach@svhtt.hanoi.example")
    monkeypatch.setenv("KEHOACH_MAIL_FROM_NAME", "Kehoach — Sở Văn hóa và Thể thao Hà Nội")
    for name in ("KEHOACH_SMTP_USER", "KEHOACH_SMTP_PASSWORD", "KEHOACH_SMTP_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    return smtp_server


@pytest.fixture(name="team_stack", scope="session")
def fixture_team_stack(tmp_path_factory):
    """One `kehoach serve` (SQLite, basic auth on) shared by the tests that only use it."""
    from stack import served_stack

    with served_stack(tmp_path_factory.mktemp("team-stack")) as stack:
        yield stack

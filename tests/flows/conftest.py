"""Flow tests share one Prefect test harness (a temporary API and database) for the session."""

from __future__ import annotations

import pytest

from flows import runtime


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

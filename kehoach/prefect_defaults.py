"""Prefect's settings for a `kehoach` command, put in the environment before Prefect is imported
(Prefect reads its settings once). The user's own values win.

This and kehoach/settings.py are the only modules that touch os.environ (tests/test_layering.py).
"""

from __future__ import annotations

import os

from kehoach.settings import Settings


def quiet() -> None:
    """Warnings only, no analytics, no print capture; on the embedded default, no run logs or event
    feed written to the API: nobody reads them there, and on the ephemeral API's one SQLite file
    they contend with the run's own writes ("database is locked" retries). Nothing of Prefect's on
    the terminal: the command says what happened in its own words, and a failure reaches the user
    through the command line's error boundary (kehoach/cli/boundary.py), not as Prefect's traceback."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED", "false")


def use_api(url: str) -> None:
    """Use the API at `url`: the one the command started for itself (kehoach/embedded_api.py)."""
    os.environ["PREFECT_API_URL"] = url


def use_server(settings: Settings) -> None:
    """Use the server of `settings` (found in serve.env when not in the environment)."""
    quiet()
    if settings.prefect_api_url:
        os.environ["PREFECT_API_URL"] = settings.prefect_api_url
    if settings.prefect_api_auth:
        os.environ["PREFECT_API_AUTH_STRING"] = settings.prefect_api_auth

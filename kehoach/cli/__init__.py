"""The `kehoach` command line.

Plan commands (check, show, schema, calendar) import only `plan/` and stay fast; commands that run
flows import Prefect when they are called, never at start-up. Every command reads the settings
once (kehoach/settings.py) and passes them on.
"""

from __future__ import annotations


def main() -> None:
    from kehoach.cli.app import main as run

    run()

"""The main job, `kehoach run`: the whole plan for one date on the embedded default.

Prefect's ephemeral API (nothing to start by hand), the SQLite ledger under KEHOACH_HOME, progress
as each item finishes, then the status table.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from plan.model import Plan
from plan.scenario import Scenario

EXIT_OK, EXIT_INVALID = 0, 2


def _quiet_prefect() -> None:
    # Set before Prefect is imported: its settings are read once. The user's own values win.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    # The ephemeral API keeps its state in one SQLite file. Two background writers nobody reads in
    # this mode, run logs and the event feed, contend with the run's own writes and cause
    # "database is locked" retries; this command prints its own progress instead.
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED", "false")


def run_plan(plan: Plan, path: Path, as_of: dt.date | None, scenario: Scenario | None, console) -> int:
    from flows import runtime
    from flows.views import status_table
    from plan.events import plan_ref
    from plan.ledger import LedgerError
    from plan.progress import RAG_LABELS, plan_status
    from plan.recording import InputError
    from plan.scenario import scenario_events

    as_of = as_of or runtime.today()
    try:
        ledger = runtime.ledger()
        if scenario is not None:
            events = scenario_events(plan, scenario, ledger.events(plan.id), as_of, actor="kịch bản")
            written = ledger.append(plan_ref(plan), events)
            console.print(f"[bold]{scenario.label}[/bold]: {len(written)} sự kiện mới từ kịch bản (đến {as_of:%d/%m/%Y}).")
    except InputError as exc:
        for problem in exc.problems:
            console.print(f"[red]lỗi[/red]: {problem}", highlight=False)
        return EXIT_INVALID
    except LedgerError as exc:
        console.print(f"[red]lỗi[/red]: {exc}", highlight=False)
        return EXIT_INVALID

    console.print(f"Chạy {plan.document.type} số {plan.document.number_symbol}, ngày xét {as_of:%d/%m/%Y} (Prefect, máy chủ tạm)…")
    _quiet_prefect()
    from flows import plan_run as plan_run_module

    def show(done: int, total: int, result: dict) -> None:
        item = plan.item(result["id"])
        console.print(f"  [{done}/{total}] ND {item.number} {item.short_title}: {RAG_LABELS[_rag(result)]}", highlight=False)

    plan_run_module.progress_listeners.append(show)
    try:
        plan_run_module.plan_run(as_of=as_of, plan_path=str(path.resolve()))
    finally:
        plan_run_module.progress_listeners.remove(show)
    statuses = plan_status(plan, ledger.events(plan.id), as_of)
    console.print(status_table(plan, statuses, as_of))
    console.print(f"Sổ theo dõi: {ledger.display_url}", highlight=False)
    return EXIT_OK


def _rag(result: dict):
    from plan.progress import Rag

    return Rag(result["rag"])

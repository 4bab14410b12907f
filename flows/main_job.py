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


def run_plan(plan: Plan, path: Path, as_of: dt.date | None, scenario: Scenario | None, console, *, items_only: bool = False) -> int:
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
    if items_only:
        return EXIT_OK
    code = run_digest(plan, path, as_of, None, console)
    if code != EXIT_OK:
        return code
    return run_report(plan, path, str(as_of.year), as_of, None, True, console)


def run_report(plan: Plan, path: Path, period: str | None, as_of: dt.date | None, number: str | None, send: bool, console) -> int:
    """The periodic report: files written, mail queued; says where they are."""
    _quiet_prefect()
    from flows import runtime
    from flows.mail import MailNotDelivered
    from flows.report import upward_report

    as_of = as_of or runtime.today()
    try:
        result = upward_report(period=period, as_of=as_of, plan_path=str(path.resolve()), number=number, send=send)
    except MailNotDelivered as exc:
        console.print(f"[red]Báo cáo đã lập nhưng thư bị từ chối[/red]: {exc}", highlight=False)
        return 1
    files = result["files"]
    console.print(f"Báo cáo kỳ {result['period']} ({result['events_in_period']} sự kiện trong kỳ):", highlight=False)
    for kind in ("pdf", "docx", "xlsx"):
        console.print(f"  {kind.upper()}: {files[kind]}", highlight=False)
    if send:
        console.print(f"  Đã gửi {len(result['sent'])} thư cho nơi nhận (xem `kehoach outbox`).", highlight=False)
    return EXIT_OK


def run_digest(plan: Plan, path: Path, as_of: dt.date | None, unit: str | None, console) -> int:
    """The week's digests through the outbox; says where they went."""
    _quiet_prefect()
    from flows import runtime
    from notifications.settings import MailSettingsError

    as_of = as_of or runtime.today()
    try:
        from flows.mail import home, mail_settings
        from notifications.transport import transport_from_settings

        settings = mail_settings()
        transport_from_settings(settings, home()).close()  # refuse bad settings before any run starts
    except MailSettingsError as exc:
        console.print(f"[red]lỗi[/red]: {exc}", highlight=False)
        return EXIT_INVALID
    _quiet_prefect()
    from flows.mail import MailNotDelivered, unit_digest

    try:
        summary = unit_digest(as_of=as_of, unit=unit, plan_path=str(path.resolve()))
    except MailNotDelivered as exc:
        console.print(f"[red]Thư bị từ chối[/red]: {exc}", highlight=False)
        return 1
    where = f"máy chủ SMTP {settings.smtp_host}" if settings.smtp_configured else f"maildir {home() / 'maildir'} (mở bằng Thunderbird, mutt hoặc đọc tệp .eml trong new/)"
    console.print(
        f"Thư tổng hợp ngày {as_of:%d/%m/%Y}: {len(summary['queued'])} thư mới, {len(summary['sent'])} thư đã gửi tới {where}"
        + (f"; {len(summary['retry'])} thư chờ gửi lại (xem `kehoach outbox`)." if summary["retry"] else "."),
        highlight=False,
    )
    return EXIT_OK


def deliver_now(console, *, include_permanent: bool = False) -> int:
    """`kehoach outbox retry`: failed mail due now, sent now (no Prefect needed)."""
    _quiet_prefect()
    from flows import runtime
    from flows.mail import home, mail_settings, sender
    from notifications.outbox import Outbox
    from notifications.settings import MailSettingsError
    from notifications.transport import transport_from_settings

    try:
        settings = mail_settings()
    except MailSettingsError as exc:
        console.print(f"[red]lỗi[/red]: {exc}", highlight=False)
        return EXIT_INVALID
    outbox = Outbox(runtime.ledger())
    try:
        transport = transport_from_settings(settings, home())
    except MailSettingsError as exc:
        console.print(f"[red]lỗi[/red]: {exc}", highlight=False)
        return EXIT_INVALID
    reset = outbox.retry_now(include_permanent=include_permanent)
    try:
        report = outbox.deliver(transport, sender(settings))
    finally:
        transport.close()
    console.print(f"Thử lại {reset} thư; đã gửi {len(report.sent)}, còn lỗi tạm thời {len(report.retry)}, bị từ chối {len(report.permanent)}.", highlight=False)
    for key, error in {**report.retry, **report.permanent}.items():
        console.print(f"  {key}: {error}", highlight=False)
    return EXIT_OK if not report.retry and not report.permanent else 1


def _rag(result: dict):
    from plan.progress import Rag

    return Rag(result["rag"])

"""`kehoach run`, the main job: the whole plan for one date on the embedded default.

Prefect's ephemeral API (nothing to start by hand), the SQLite ledger under KEHOACH_HOME, progress
as each item finishes, then the status table, the week's digests and the annual report.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kehoach.cli import inputs
from kehoach.cli.errors import EXIT_INVALID, EXIT_OK
from kehoach.embedded_api import embedded_api
from kehoach.settings import Settings

if TYPE_CHECKING:
    from plan.model import Plan
    from plan.scenario import Scenario


@click.command("run")
@inputs.PLAN_OPTION
@click.option("--as-of", "as_of", callback=inputs.date_option, metavar="DATE", help="Ngày xét, NNNN-TT-NN (mặc định: hôm nay, giờ Hà Nội).")
@click.option("--scenario", "scenario_file", type=click.Path(path_type=Path), help="Kịch bản kết quả (ví dụ dữ liệu mẫu năm 2023) ghi vào sổ trước khi chạy.")
@click.option("--items-only", is_flag=True, help="Chỉ chạy các nội dung: không gửi thư tổng hợp, không lập báo cáo năm.")
@inputs.FORCE_OPTION
def run_command(plan_file: Path | None, as_of: dt.date | None, scenario_file: Path | None, items_only: bool, force: bool) -> None:
    """Chạy toàn bộ kế hoạch trên Prefect (máy chủ tạm, không cần khởi động gì) và in bảng trạng thái."""
    settings = inputs.settings()

    plan = inputs.valid_plan(plan_file, quiet=True)
    as_of = inputs.within_plan(plan, as_of, "--as-of", force)
    scenario = None
    if scenario_file is not None:
        from plan.scenario import load_scenario

        scenario, problems = load_scenario(scenario_file)
        if scenario is None:
            for problem in problems:
                click.echo(problem.render(), err=True)
            click.echo(f"Kịch bản không hợp lệ: {len(problems)} lỗi.", err=True)
            sys.exit(EXIT_INVALID)
    path = inputs.plan_path(plan_file)
    sys.exit(run_plan(settings, plan, path, as_of, scenario, inputs.console(), items_only=items_only))


def run_plan(
    settings: Settings, plan: Plan, path: Path, as_of: dt.date | None, scenario: Scenario | None, console: Any, *, items_only: bool = False
) -> int:
    from flows import resources
    from kehoach.cli.mail_commands import run_digest
    from kehoach.cli.report_command import run_report
    from kehoach.cli.tables import status_table
    from plan.events import plan_ref
    from plan.progress import plan_status
    from plan.recording import InputError
    from plan.scenario import scenario_events

    ledger = inputs.open_ledger(settings)
    as_of = as_of or resources.today()
    try:
        if scenario is not None:
            events = scenario_events(plan, scenario, ledger.events(plan.id), as_of, actor="kịch bản")
            written = ledger.append(plan_ref(plan), events)
            console.print(f"[bold]{scenario.label}[/bold]: {len(written)} sự kiện mới từ kịch bản (đến {as_of:%d/%m/%Y}).")
    except InputError as exc:
        for problem in exc.problems:
            console.print(f"[red]lỗi[/red]: {problem}", highlight=False)
        return EXIT_INVALID

    where = "máy chủ Prefect của nhóm" if settings.has_server else "máy chủ Prefect tạm"
    console.print(f"Chạy {plan.document.type} số {plan.document.number_symbol}, ngày xét {as_of:%d/%m/%Y} ({where})…")
    with embedded_api(settings):
        _run_items(plan, path, as_of, console)
        statuses = plan_status(plan, ledger.events(plan.id), as_of)
        console.print(status_table(plan, statuses, as_of))
        console.print(f"Sổ theo dõi: {ledger.display_url}", highlight=False)
        if items_only:
            return EXIT_OK
        code = run_digest(settings, path, as_of, None, console)
        if code != EXIT_OK:
            return code
        return run_report(settings, path, str(as_of.year), as_of, None, True, console)


def _run_items(plan: Plan, path: Path, as_of: dt.date, console: Any) -> None:
    """The plan-run flow, its progress printed as each item finishes."""
    from flows import dispatch
    from flows.dispatch import ItemRun
    from flows.plan_run import plan_run
    from plan.progress import RAG_LABELS, Rag

    def show(done: int, total: int, result: ItemRun) -> None:
        item = plan.item(result.id)
        how = RAG_LABELS[Rag(result.rag)] if result.rag else result.state
        if result.state == dispatch.NO_WORK:
            how += " (không có việc hôm nay)"
        console.print(f"  [{done}/{total}] ND {item.number} {item.short_title}: {how}", highlight=False)

    dispatch.progress_listeners.append(show)
    try:
        plan_run(as_of=as_of, plan_path=str(path.resolve()))
    finally:
        dispatch.progress_listeners.remove(show)

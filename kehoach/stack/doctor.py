"""`kehoach doctor`: is the team stack healthy, and which runs did a crash leave behind?

A worker killed mid-run (machine restart, out of memory, SIGKILL) leaves its flow runs "Running" or
"Pending" for ever: nothing is left to report their end. The doctor finds them (how it tells is
in flows/orphans.py: certain when the run's worker is this machine's and its process is gone).

`--fix` marks them Crashed, so that they stop counting as running and can be run again; content
items are idempotent (stage results are in the ledger under unique keys), so running the plan again
redoes nothing that was recorded. Across machines, the heartbeat automation that `kehoach serve`
installs (kehoach/stack/automations.py) marks such runs Crashed by itself.

`examine` and `mark_crashed` do the I/O; `check` is the command.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.orphans import ACTIVE_STATES, Orphan, RunInfo, find_orphans, pid_alive, run_info, this_host_worker_prefix
from kehoach import prefect_defaults
from kehoach.exit_codes import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from kehoach.settings import Settings
from kehoach.stack.layout import ENV_FILE, POOL

# -- I/O: the Prefect API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Examination:
    api_url: str
    pool_exists: bool
    workers: dict[str, str]  # name -> status
    active: list[RunInfo]
    suspended: int
    orphans: list[Orphan]


def examine(client: Any, now: dt.datetime | None = None) -> Examination:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateName, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound

    now = now or dt.datetime.now(dt.UTC)
    try:
        client.read_work_pool(POOL)
        pool_exists = True
        workers = {w.name: w.status.value if w.status else "?" for w in client.read_workers_for_work_pool(POOL)}
    except ObjectNotFound:
        pool_exists, workers = False, {}
    runs = _all_runs(client, FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(s) for s in ACTIVE_STATES]))))
    suspended = _all_runs(client, FlowRunFilter(state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Suspended"]))))
    flow_ids = {r.flow_id for r in runs}
    flow_names = {flow_id: client.read_flow(flow_id).name for flow_id in flow_ids}
    active = [run_info(r, flow_names) for r in runs]
    online = {name for name, status in workers.items() if status == "ONLINE"}
    orphans = find_orphans(active, now=now, online_workers=online, pid_alive=pid_alive, local_prefix=this_host_worker_prefix())
    return Examination(
        api_url=str(client.api_url), pool_exists=pool_exists, workers=workers, active=active,
        suspended=len(suspended), orphans=orphans,
    )


def _all_runs(client: Any, flow_run_filter: Any, page: int = 200) -> list[Any]:
    """Every flow run matching the filter (the API gives at most 200 at a time)."""
    found: list[Any] = []
    while True:
        batch = client.read_flow_runs(flow_run_filter=flow_run_filter, limit=page, offset=len(found))
        found.extend(batch)
        if len(batch) < page:
            return found


def mark_crashed(client: Any, orphans: Iterable[Orphan]) -> list[str]:
    """Set each orphan Crashed (forced: the run cannot report it itself). Returns the ids marked."""
    from prefect.states import Crashed

    marked = []
    for orphan in orphans:
        message = f"kehoach doctor: {orphan.reason}; đánh dấu Crashed để chạy lại"
        client.set_flow_run_state(orphan.run.id, Crashed(message=message), force=True)
        marked.append(orphan.run.id)
    return marked


# -- the command ------------------------------------------------------------------------------------

EXIT_HEALTHY, EXIT_PROBLEMS, EXIT_NOT_CONFIGURED = EXIT_OK, EXIT_FAILED, EXIT_INVALID


def server_settings(home: Path) -> dict[str, str]:
    """PREFECT_API_URL/PREFECT_API_AUTH_STRING from KEHOACH_HOME/serve.env, which `kehoach serve` writes."""
    try:
        text = (home / ENV_FILE).read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            if key in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING"):
                found[key] = value
    return found


def check(console: Any, settings: Settings, fix: bool = False) -> int:
    """The doctor's examination, printed; the exit code. Uses the server of `settings`, else the
    one whose serve.env is in KEHOACH_HOME."""
    if not settings.has_server:
        settings = settings.with_server(server_settings(settings.home))
    if not settings.has_server:
        console.print(
            "Chưa có máy chủ Prefect để kiểm tra: chạy [bold]kehoach serve[/bold], hoặc đặt PREFECT_API_URL "
            "(và PREFECT_API_AUTH_STRING), ví dụ [bold]. .kehoach/serve.env[/bold].", highlight=False,
        )
        return EXIT_NOT_CONFIGURED
    api_url = settings.prefect_api_url
    prefect_defaults.use_server(settings)
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    problems = 0
    try:
        with get_client(sync_client=True) as client:
            found = examine(client)
            marked = mark_crashed(client, [o for o in found.orphans if o.certain]) if fix else []
    except PrefectHTTPStatusError as exc:
        status = exc.response.status_code
        why = "sai hoặc thiếu mật khẩu (PREFECT_API_AUTH_STRING)" if status == 401 else f"HTTP {status}"
        console.print(f"[red]lỗi[/red]: máy chủ {api_url} từ chối: {why}", highlight=False)
        return EXIT_PROBLEMS
    except (httpx.HTTPError, OSError) as exc:
        console.print(f"[red]lỗi[/red]: không kết nối được máy chủ {api_url}: {exc}", highlight=False)
        return EXIT_PROBLEMS

    console.print(f"Máy chủ Prefect: {found.api_url} — trả lời, đăng nhập được.", highlight=False)
    if not found.pool_exists:
        problems += 1
        console.print(f"[red]lỗi[/red]: chưa có work pool «{POOL}» (kehoach serve tạo nó)", highlight=False)
    online = sorted(n for n, s in found.workers.items() if s == "ONLINE")
    if found.pool_exists and not online:
        problems += 1
        console.print(f"[red]lỗi[/red]: không có worker nào trực tuyến trong work pool «{POOL}»: các lượt chạy sẽ không bắt đầu", highlight=False)
    elif online:
        console.print(f"Worker trực tuyến: {', '.join(online)}", highlight=False)
    console.print(f"Đang chạy/chờ khởi động: {len(found.active)}; đang chờ đơn vị nhập kết quả (Suspended): {found.suspended}", highlight=False)

    problems += _check_ledger(console, settings)

    if found.orphans:
        console.print(f"[red]Lượt chạy bị bỏ dở sau sự cố: {len(found.orphans)}[/red]", highlight=False)
        for orphan in found.orphans:
            run = orphan.run
            sure = "chắc chắn" if orphan.certain else "có thể"
            done = " → đã đánh dấu Crashed" if run.id in marked else ""
            console.print(f"  {run.flow} «{run.name}» ({run.state_name}, {run.id}): {orphan.reason} ({sure}){done}", highlight=False)
        if not fix:
            console.print("Chạy [bold]kehoach doctor --fix[/bold] để đánh dấu Crashed, rồi chạy lại kế hoạch "
                          "([bold]prefect deployment run plan-run/plan-run[/bold]); các bước đã ghi sổ không làm lại.", highlight=False)
        elif any(not o.certain for o in found.orphans):
            console.print("Các lượt «có thể» không bị đánh dấu: kiểm tra worker trên máy của chúng trước.", highlight=False)
    else:
        console.print("Không có lượt chạy nào bị bỏ dở.", highlight=False)
    unfixed = [o for o in found.orphans if o.run.id not in marked]
    return EXIT_PROBLEMS if problems or unfixed else EXIT_HEALTHY


def _check_ledger(console: Any, settings: Settings) -> int:
    from flows import resources
    from notifications.outbox import Outbox
    from plan.ledger import LedgerError

    resources.use(settings)
    try:
        counts = Outbox(resources.ledger()).counts()
    except LedgerError as exc:
        console.print(f"[red]lỗi[/red]: sổ: {exc}", highlight=False)
        return 1
    console.print(f"Sổ: đọc được. Hộp thư đi: {counts.get('sent', 0)} đã gửi, {counts.get('queued', 0)} chờ gửi, "
                  f"{counts.get('failed', 0)} lỗi.", highlight=False)
    if counts.get("failed", 0):
        console.print("[yellow]cảnh báo[/yellow]: có thư lỗi — xem [bold]kehoach outbox --status failed[/bold]", highlight=False)
    return 0

"""`kehoach doctor`: is the team stack healthy, and which runs did a crash leave behind?

A worker killed mid-run (machine restart, out of memory, SIGKILL) leaves its flow runs "Running" or
"Pending" for ever: nothing is left to report their end. The doctor finds them:

- the run's worker (its `prefect.worker.name` label) is one of this machine's (`kehoach-<host>-N`)
  and the run's process (its infrastructure pid) is gone: certain;
- the run's worker is not online any more: probable (the worker may be on another machine);
- a run "Pending" for longer than PENDING_STUCK with no process: submitted by a worker that died.

`--fix` marks them Crashed, so that they stop counting as running and can be run again; content
items are idempotent (stage results are in the ledger under unique keys), so running the plan again
redoes nothing that was recorded. Across machines, the heartbeat automation that `kehoach serve`
installs (flows/automations.py) marks such runs Crashed by itself.

`classify` decides from plain data (tested without a server); `examine` and `mark_crashed` do the I/O.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flows.team_stack import POOL

WORKER_LABEL = "prefect.worker.name"
PENDING_STUCK = dt.timedelta(minutes=10)
ACTIVE_STATES = ("RUNNING", "PENDING", "CANCELLING")


@dataclass(frozen=True)
class RunInfo:
    """What the doctor needs of a flow run."""

    id: str
    name: str
    flow: str
    state: str  # StateType value
    state_name: str
    since: dt.datetime | None
    pid: int | None
    worker: str | None


@dataclass(frozen=True)
class Orphan:
    run: RunInfo
    reason: str
    certain: bool


def this_host_worker_prefix(host: str | None = None) -> str:
    return f"kehoach-{host or socket.gethostname()}-"


def classify(
    run: RunInfo,
    *,
    now: dt.datetime,
    online_workers: set[str],
    pid_alive: Callable[[int], bool],
    local_prefix: str,
) -> Orphan | None:
    """Why `run` looks abandoned by a crash, or None when it looks alive."""
    local = bool(run.worker and run.worker.startswith(local_prefix))
    if local and run.pid is not None and not pid_alive(run.pid):
        return Orphan(run, f"tiến trình {run.pid} của {run.worker} không còn", certain=True)
    if run.worker and run.worker not in online_workers:
        return Orphan(run, f"worker {run.worker} không còn trực tuyến", certain=local)
    if run.state == "PENDING" and run.pid is None and run.since is not None and now - run.since > PENDING_STUCK:
        minutes = int((now - run.since).total_seconds() // 60)
        return Orphan(run, f"chờ khởi động {minutes} phút mà chưa có tiến trình", certain=False)
    return None


def find_orphans(runs: Iterable[RunInfo], **kwargs: Any) -> list[Orphan]:
    return [o for o in (classify(run, **kwargs) for run in runs) if o is not None]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie process has ended; only its parent has not collected it yet
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


# -- I/O: the Prefect API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Examination:
    api_url: str
    pool_exists: bool
    workers: dict[str, str]  # name -> status
    active: list[RunInfo]
    suspended: int
    orphans: list[Orphan]


def _run_info(run: Any, flow_names: Mapping[Any, str]) -> RunInfo:
    state = run.state
    pid = None
    if run.infrastructure_pid:
        tail = str(run.infrastructure_pid).rsplit(":", 1)[-1]
        pid = int(tail) if tail.isdigit() else None
    labels = dict(run.labels or {})
    return RunInfo(
        id=str(run.id),
        name=run.name,
        flow=flow_names.get(run.flow_id, "?"),
        state=state.type.value if state else "?",
        state_name=state.name if state else "?",
        since=state.timestamp if state else None,
        pid=pid,
        worker=labels.get(WORKER_LABEL),
    )


def examine(client: Any, now: dt.datetime | None = None) -> Examination:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateName, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound

    now = now or dt.datetime.now(dt.timezone.utc)
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
    active = [_run_info(r, flow_names) for r in runs]
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

EXIT_HEALTHY, EXIT_PROBLEMS, EXIT_NOT_CONFIGURED = 0, 1, 2


def server_settings(env: Mapping[str, str]) -> dict[str, str]:
    """PREFECT_API_URL/PREFECT_API_AUTH_STRING from the environment, else from KEHOACH_HOME/serve.env."""
    import shlex
    from pathlib import Path

    from flows.team_stack import ENV_FILE

    if env.get("PREFECT_API_URL"):
        return {}
    path = Path(env.get("KEHOACH_HOME", "").strip() or ".kehoach").expanduser() / ENV_FILE
    try:
        text = path.read_text(encoding="utf-8")
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


def check(console: Any, fix: bool = False) -> int:
    from flows.main_job import _quiet_prefect

    os.environ.update(server_settings(os.environ))
    if not os.environ.get("PREFECT_API_URL"):
        console.print(
            "Chưa có máy chủ Prefect để kiểm tra: chạy [bold]kehoach serve[/bold], hoặc đặt PREFECT_API_URL "
            "(và PREFECT_API_AUTH_STRING), ví dụ [bold]. .kehoach/serve.env[/bold].", highlight=False,
        )
        return EXIT_NOT_CONFIGURED
    _quiet_prefect()
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
        console.print(f"[red]lỗi[/red]: máy chủ {os.environ['PREFECT_API_URL']} từ chối: {why}", highlight=False)
        return EXIT_PROBLEMS
    except (httpx.HTTPError, OSError) as exc:
        console.print(f"[red]lỗi[/red]: không kết nối được máy chủ {os.environ['PREFECT_API_URL']}: {exc}", highlight=False)
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

    problems += _check_ledger(console)

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


def _check_ledger(console: Any) -> int:
    from flows import runtime
    from notifications.outbox import Outbox
    from plan.ledger import LedgerError

    try:
        counts = Outbox(runtime.ledger()).counts()
    except LedgerError as exc:
        console.print(f"[red]lỗi[/red]: sổ: {exc}", highlight=False)
        return 1
    console.print(f"Sổ: đọc được. Hộp thư đi: {counts.get('sent', 0)} đã gửi, {counts.get('queued', 0)} chờ gửi, "
                  f"{counts.get('failed', 0)} lỗi.", highlight=False)
    if counts.get("failed", 0):
        console.print("[yellow]cảnh báo[/yellow]: có thư lỗi — xem [bold]kehoach outbox --status failed[/bold]", highlight=False)
    return 0

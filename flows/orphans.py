"""Runs a crash left behind: a worker killed mid-run (machine restart, out of memory, SIGKILL)
leaves its flow runs "Running" or "Pending" for ever, since nothing is left to report their end.

- the run's worker (its `prefect.worker.name` label) is one of this machine's (`kehoach-<host>-N`)
  and the run's process (its infrastructure pid) is gone: certain;
- the run's worker is not online any more: probable (the worker may be on another machine);
- a run "Pending" for longer than PENDING_STUCK with no process: submitted by a worker that died.

`classify` decides from plain data (tested without a server). `kehoach doctor` lists and marks
them; `plan-run` marks its own item runs in the certain case (flows/dispatch.py).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WORKER_LABEL = "prefect.worker.name"
PENDING_STUCK = dt.timedelta(minutes=10)
ACTIVE_STATES = ("RUNNING", "PENDING", "CANCELLING")


@dataclass(frozen=True)
class RunInfo:
    """What is needed of a flow run to tell whether a crash abandoned it."""

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


def worker_name(number: int, host: str | None = None) -> str:
    """`kehoach-<host>-N`: the name `kehoach serve` gives this machine's workers."""
    return f"{this_host_worker_prefix(host)}{number}"


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


def run_info(run: Any, flow_names: Mapping[Any, str]) -> RunInfo:
    """A Prefect flow run (as the client reads it) as the plain data `classify` takes."""
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

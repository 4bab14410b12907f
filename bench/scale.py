"""Benchmark: a generated plan of 1,000 items through the deployed `plan-run` under `kehoach serve`,
on PostgreSQL and on SQLite, one after the other in one invocation.

    pip install -e '.[test,bench]'      # and Debian's postgresql (initdb, pg_ctl), as .ci/run installs
    python bench/scale.py               # 1,000 items, as of 2023-05-15, PostgreSQL then SQLite
    python bench/scale.py --items 100 --backends postgresql --keep /tmp/scale   # smaller, keep logs
    python bench/scale.py --day typical  # an ordinary morning: the first day from 15/06 with ≤ 20 items with work,
                                         # after a past replayed in-process (bench/history.py)

For each backend: a fresh stack (`kehoach serve --workers 2 --worker-limit 4` on 127.0.0.1, via
tests/stack.py's `served_stack`; for PostgreSQL a throwaway cluster from `postgres_cluster`, with
the ledger in database `kehoach_scale` and Prefect's in `kehoach_scale_prefect`; for SQLite both
are files under the stack's KEHOACH_HOME). `plan-run/plan-run` is started through the API with the
generated plan and the date, as `prefect deployment run` does, and the clock runs from that call
until the plan-run's state is final. Then:

- flow runs by final state, from the server (the plan-run; the waiting runs of the items that wait, created from
  the content-item deployment, on the workers on SQLite and in the plan-run's process on
  PostgreSQL; the other items, subflows of the plan-run); failed = Failed + Crashed + Cancelled;
- lock errors: log records of the server, the workers and the flow runs they started (all in
  KEHOACH_HOME/logs) that mention "database is locked", "deadlock detected", a lock timeout or a
  serialization failure (PREFECT_SERVER_LOG_RETRYABLE_ERRORS=true, so requests the server refused
  with 503 for the client to retry are logged too; uvicorn's copy of such a record is not counted
  twice);
- peak RSS: the sum over the process tree of `kehoach serve` (server, workers, every flow-run
  process), and for PostgreSQL over the cluster's processes, sampled every 50 ms;
- CPU seconds: the server, the workers with every flow-run process they started, PostgreSQL;
- the ledger's events for the plan, and the machine's load averages before and after;
- per item run on a worker (SQLite), the median seconds of each phase, from the workers' logs (handed to a
  process, the process started, the flow began, suspending, ended): where a waiting item's time goes.

The date: 15/05/2023 on an empty ledger is the first working day after the generated plan's
all-year items (600 of 1,000) reach their preparation deadline (issued 27/04 + 10 working days), so
that day every one of them, and the events due within the reminder horizon, waits for a unit's
outcome — the heaviest kind of morning, with a real mix of items that suspend (each in its own run)
and items with nothing to wait for (on-request items with no request yet, events later in
the year). It is also the day the end-to-end test uses on the 2023 plan.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
import history  # noqa: E402
from generate import generate_plan  # noqa: E402
from stack import create_database, free_port, served_stack  # noqa: E402

DEFAULT_AS_OF = "2023-05-15"
SAMPLE_SECONDS = 0.2  # every 50 ms would cost ~8 % of a core walking /proc, on a 2-core machine
LOCK_PATTERNS = {
    "database is locked": re.compile(r"database is locked", re.IGNORECASE),
    "deadlock detected": re.compile(r"deadlock detected", re.IGNORECASE),
    "lock timeout": re.compile(r"lock timeout|LockNotAvailable|could not obtain lock", re.IGNORECASE),
    "serialization failure": re.compile(r"could not serialize access", re.IGNORECASE),
}
RECORD = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| (\w+)\s*\| ([^ ]+) - (.*)$")
FAILED = ("FAILED", "CRASHED", "CANCELLED")
# served_stack's test settings, put back to what `kehoach serve` runs with (Prefect's defaults: workers
# ask for work every 10 s and beat every 30 s, not every 1 s and 5 s); the scheduler stays off, so
# that no scheduled run joins in. The server logs the requests it refuses for the client to retry.
STACK_ENV = {
    "PREFECT_WORKER_QUERY_SECONDS": "10",
    "PREFECT_WORKER_HEARTBEAT_SECONDS": "30",
    "PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true",
}


# -- measuring ------------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Peak RSS, summed over each root's process tree, every SAMPLE_SECONDS."""

    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.peaks = {name: 0 for name in roots}
        self.peak_total = 0
        self.peak_processes = 0
        self.halt = threading.Event()

    def run(self) -> None:
        processes: dict[int, psutil.Process] = {}
        while not self.halt.is_set():
            total, count = 0, 0
            for name, pid in self.roots.items():
                try:
                    root = processes.setdefault(pid, psutil.Process(pid))
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                rss = 0
                for process in tree:
                    with contextlib.suppress(psutil.Error):
                        rss += process.memory_info().rss
                        count += 1
                self.peaks[name] = max(self.peaks[name], rss)
                total += rss
            self.peak_total = max(self.peak_total, total)
            self.peak_processes = max(self.peak_processes, count)
            self.halt.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self.halt.set()
        self.join()


def cpu_of(process: psutil.Process, with_children: bool = True) -> float:
    """CPU seconds of a live process, and of the children it has reaped."""
    with contextlib.suppress(psutil.Error):
        t = process.cpu_times()
        return t.user + t.system + ((t.children_user + t.children_system) if with_children else 0.0)
    return 0.0


def stack_cpu(serve_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server and of the workers (with the flow-run processes they reaped and
    those still running), from the processes `kehoach serve` started."""
    found = {"server": 0.0, "workers and flow runs": 0.0}
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(serve_pid).children():
            line = " ".join(child.cmdline())
            if " server start" in line:
                found["server"] += cpu_of(child)
            elif " worker start" in line:
                found["workers and flow runs"] += cpu_of(child) + sum(cpu_of(p) for p in child.children(recursive=True))
    return found


def count_lock_errors(logs: Path) -> tuple[int, dict[str, int]]:
    """Lock errors in the logs of the server, the workers and the flow runs (a log record is a
    `HH:MM:SS.fff | LEVEL | logger - message` line with its traceback): each incident once, by file,
    logger and message. Left out as copies of an incident counted by its own record: uvicorn's
    record of a request the server refused with 503, and the orchestration's "error during state
    validation" that precedes the refused request's or the failed service task's record."""
    kinds: Counter[str] = Counter()
    for log in sorted(logs.glob("*.log")):
        for (_level, logger, message), text in _records(log):
            if logger == "uvicorn.error" or message.startswith("Encountered error during state validation"):
                continue
            for name, pattern in LOCK_PATTERNS.items():
                if pattern.search(text):
                    kinds[f"{name}: {log.name}: {logger}: {_shorten(message)}"] += 1
                    break
    return sum(kinds.values()), dict(kinds.most_common())


def postgres_lock_errors(log: Path) -> dict[str, int]:
    """ERROR lines of PostgreSQL's own log that are lock errors (deadlocks, lock timeouts, serialization)."""
    kinds: Counter[str] = Counter()
    with contextlib.suppress(OSError):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if "ERROR:" in line:
                for name, pattern in LOCK_PATTERNS.items():
                    if pattern.search(line):
                        kinds[f"{name}: PostgreSQL log"] += 1
    return dict(kinds)


ITEM_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) \| \w+\s*\| (?:prefect\.flow_runs\.worker - )?Flow run '([^']+)'(?: - )?(.*)$")
ITEM_MARKS = (  # what a worker's log says of a flow run, in order, and the name of the moment
    ("submitted to infrastructure", "handed over"),
    ("Running 1 deployment pull step", "process started"),
    ("Beginning flow run", "flow began"),
    ("Suspending flow run", "suspending"),
    ("Finished in state", "ended"),
)


def item_run_phases(logs: Path) -> dict[str, float]:
    """Median seconds of each phase of the item runs the workers ran, from their log lines: handed to
    a process → the process runs the pull step (Python start, importing Prefect) → the flow begins
    (loading the flow and the plan, the Running state) → it suspends (the stages) → it has ended."""
    moments: dict[str, dict[str, dt.datetime]] = {}
    for log in sorted(logs.glob("worker-*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            match = ITEM_LINE.match(line)
            if match is None or not match.group(2).startswith("ND "):
                continue
            at, name, rest = dt.datetime.strptime(match.group(1), "%H:%M:%S.%f"), match.group(2), match.group(3)
            for mark, moment in ITEM_MARKS:
                if mark in rest:
                    moments.setdefault(name, {}).setdefault(moment, at)
                    break
    names = [moment for _mark, moment in ITEM_MARKS]
    phases = {}
    for begin, end in [*zip(names, names[1:]), (names[0], names[-1])]:
        spans = sorted((m[end] - m[begin]).total_seconds() for m in moments.values() if begin in m and end in m and m[end] >= m[begin])
        if spans:
            phases[f"{begin} → {end}"] = round(spans[len(spans) // 2], 1)
    return phases


def error_records(logs: Path) -> dict[str, int]:
    """Every ERROR or CRITICAL record of the stack's logs, by file, logger and message (for the JSON)."""
    kinds: Counter[str] = Counter()
    for log in sorted(logs.glob("*.log")):
        for (level, logger, message), _text in _records(log):
            if level in ("ERROR", "CRITICAL") and logger != "uvicorn.error":
                kinds[f"{log.name}: {logger}: {_shorten(message)}"] += 1
    return dict(kinds.most_common())


def _records(log: Path):
    header, body = None, []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = RECORD.match(line)
        if match:
            if header is not None:
                yield header, "\n".join(body)
            header, body = match.groups(), [line]
        elif header is not None:
            body.append(line)
    if header is not None:
        yield header, "\n".join(body)


def _shorten(message: str) -> str:
    message = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", message)
    message = re.sub(r"\[\s*\d+ms\]", "[…ms]", message)
    message = re.sub(r"'[^']*'", "'…'", message)
    return message[:100]


def flow_runs_by_state(client) -> tuple[dict[str, int], dict[str, int]]:
    """Every flow run on the server by "TYPE (name)", and item runs by where they ran."""
    states: Counter[str] = Counter()
    where: Counter[str] = Counter()
    offset = 0
    while True:
        page = client.read_flow_runs(limit=200, offset=offset)
        for run in page:
            state = f"{run.state.type.value} ({run.state.name})" if run.state else "no state"
            states[state] += 1
            if run.name.startswith("ND "):
                kind = "waiting run (from the deployment)" if run.deployment_id else "subflow of the plan-run"
                where[f"{kind}: {state}"] += 1
        if len(page) < 200:
            return dict(sorted(states.items())), dict(sorted(where.items()))
        offset += 200


# -- PostgreSQL -----------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres(folder: Path):
    """A throwaway cluster on a free loopback port, like tests/stack.py's `postgres_cluster`, but
    with the durability of the SQLite side: fsync and full-page writes on, commits not waiting for
    their WAL flush (synchronous_commit=off, as SQLite's WAL with synchronous=NORMAL, which Prefect
    and the ledger use). Yields (admin URL, postmaster pid); stopped by its data directory."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()])
    if not found:
        raise SystemExit("PostgreSQL is not installed (/usr/lib/postgresql/*/bin): apt-get install postgresql")
    pg_bin = found[-1].parent
    as_postgres = (lambda args: ["runuser", "-u", "postgres", "--", *args]) if os.geteuid() == 0 else (lambda args: args)
    folder.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    subprocess.run(as_postgres([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                "--no-locale"]), check=True, capture_output=True, timeout=300)
    port = free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n"
                   "synchronous_commit = off\nmax_connections = 200\n")

    def ctl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), *args]), capture_output=True, text=True,
                              timeout=300, check=False)

    started = ctl("-l", str(folder / "server.log"), "-w", "start")
    if started.returncode != 0:
        raise SystemExit(f"pg_ctl start: {started.stdout}{started.stderr}")
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pid
    finally:
        ctl("-m", "fast", "-w", "stop")


# -- one backend ------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    items: int
    as_of: str
    workers: int
    worker_limit: int
    engine_command: bool = False
    wall_seconds: float = 0.0
    plan_run_state: str = ""
    flow_runs: int = 0
    runs_by_state: dict[str, int] = field(default_factory=dict)
    item_runs: dict[str, int] = field(default_factory=dict)
    failed_runs: int = 0
    lock_errors: int = 0
    lock_error_kinds: dict[str, int] = field(default_factory=dict)
    error_records: dict[str, int] = field(default_factory=dict)
    item_run_phases: dict[str, float] = field(default_factory=dict)  # medians, seconds
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    peak_processes: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    ledger_events: int = 0
    items_with_work: int = 0
    prefect_rows_added: dict[str, int] = field(default_factory=dict)  # table -> rows added by the plan-run
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)
    started: str = ""
    logs: str = ""


def set_engine_command(client) -> None:
    """The experiment behind --engine-command: the pool's default command becomes `<this python> -m
    prefect.engine`. Prefect 3.9's process worker then starts that one process per flow run; without a
    command it starts its workspace supervisor, which imports Prefect, prepares the workspace and
    execs the engine, which imports Prefect again."""
    from prefect.client.schemas.actions import WorkPoolUpdate

    pool = client.read_work_pool("kehoach")
    template = pool.base_job_template
    template["variables"]["properties"]["command"]["default"] = f"{sys.executable} -m prefect.engine"
    client.update_work_pool("kehoach", WorkPoolUpdate(base_job_template=template))


def sa_url(admin_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def prefect_rows(url: str) -> dict[str, int]:
    """Rows in each table of Prefect's database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql+asyncpg", "postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar() or 0) for name in names}
    finally:
        engine.dispose()


@dataclass
class Past:
    """The replayed past a typical day starts from."""

    plan: object
    history: object
    items_with_work: int


def run_backend(backend: str, plan_file: Path, plan_id: str, options, root: Path, past: Past | None = None) -> Result:
    result = Result(backend, options.items, options.as_of, options.workers, options.worker_limit, options.engine_command)
    home = root / backend
    with contextlib.ExitStack() as stack:
        database_url, pg, admin_url = None, None, ""
        if backend == "postgresql":
            admin_url, pid = stack.enter_context(postgres(home / "pg"))
            database_url = create_database(admin_url, "kehoach_scale")
            pg = psutil.Process(pid)
        served = stack.enter_context(
            served_stack(home, database_url=database_url, workers=options.workers, worker_limit=options.worker_limit, extra_env=STACK_ENV)
        )
        result.logs = str(served.kehoach_home / "logs")
        if past is not None:
            with served.ledger() as ledger:
                history.write(past.plan, ledger, past.history)
            result.items_with_work = past.items_with_work
        prefect_db = (
            sa_url(admin_url, "kehoach_scale_prefect") if backend == "postgresql"
            else f"sqlite:///{served.kehoach_home / 'prefect' / 'prefect.db'}"
        )
        rows_before = prefect_rows(prefect_db)
        if options.engine_command:
            with served.client() as client:
                set_engine_command(client)
        roots = {"kehoach serve": served.serve.process.pid}
        if pg is not None:
            roots["postgresql"] = pg.pid
        cpu_before = stack_cpu(served.serve.process.pid)
        pg_cpu_before = cpu_of(pg) if pg is not None else 0.0
        sampler = Sampler(roots)
        sampler.start()
        try:
            result.load_before = [round(x, 2) for x in os.getloadavg()]
            result.started = dt.datetime.now().isoformat(timespec="seconds")
            with served.client() as client:
                from prefect.deployments import run_deployment

                began = time.perf_counter()
                run = run_deployment("plan-run/plan-run", parameters={"as_of": options.as_of, "plan_path": str(plan_file)},
                                     timeout=0, as_subflow=False)
                shown, printed = None, 0.0
                while True:
                    state = client.read_flow_run(run.id).state
                    if state is not None and state.is_final():
                        break
                    elapsed = time.perf_counter() - began
                    if elapsed > options.timeout:
                        raise SystemExit(f"{backend}: plan-run {run.id} not final after {options.timeout:.0f} s "
                                         f"({state.name if state else None}); logs in {result.logs}")
                    if state is not None and (state.name != shown or elapsed - printed >= 60):
                        print(f"  {backend}: plan-run {state.name} at {elapsed:.0f} s, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
                        shown, printed = state.name, elapsed
                    time.sleep(1)
                result.wall_seconds = time.perf_counter() - began
                result.plan_run_state = state.name
                result.load_after = [round(x, 2) for x in os.getloadavg()]
                result.runs_by_state, result.item_runs = flow_runs_by_state(client)
        finally:
            sampler.stop()
        rows_after = prefect_rows(prefect_db)
        result.prefect_rows_added = {t: rows_after[t] - rows_before.get(t, 0) for t in rows_after if rows_after[t] != rows_before.get(t, 0)}
        cpu_after = stack_cpu(served.serve.process.pid)
        result.cpu_seconds = {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_after}
        if pg is not None:
            result.cpu_seconds["postgresql"] = round(cpu_of(pg) - pg_cpu_before, 1)
        result.peak_rss_mib = {name: round(peak / 2**20) for name, peak in sampler.peaks.items()}
        result.peak_rss_mib["total"] = round(sampler.peak_total / 2**20)
        result.peak_processes = sampler.peak_processes
        result.flow_runs = sum(result.runs_by_state.values())
        result.failed_runs = sum(n for state, n in result.runs_by_state.items() if state.split()[0] in FAILED)
        with served.ledger() as ledger:
            result.ledger_events = len(ledger.events(plan_id))
    # The logs are complete once the stack has stopped.
    result.lock_errors, result.lock_error_kinds = count_lock_errors(Path(result.logs))
    if backend == "postgresql":
        in_postgres = postgres_lock_errors(home / "pg" / "server.log")
        result.lock_errors += sum(in_postgres.values())
        result.lock_error_kinds.update(in_postgres)
    result.error_records = error_records(Path(result.logs))
    result.item_run_phases = item_run_phases(Path(result.logs))
    result.items_with_work = items_with_work(Path(result.logs)) or result.items_with_work
    return result


def items_with_work(logs: Path) -> int:
    """How many items the plan-run found work for, from its log line "N/M nội dung có việc hôm nay"."""
    for log in sorted(logs.glob("worker-*.log")):
        found = re.search(r"(\d+)/\d+ nội dung có việc hôm nay", log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return int(found.group(1))
    return 0


# -- the report -------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    rows = [
        (
            "| backend | wall, trigger → plan-run final | failed runs (of all flow runs) | item runs: waiting runs suspended / "
            "subflows completed | lock errors | peak RSS of the stack | CPU s: server / workers and runs / PostgreSQL | "
            "ledger events | items with work | rows added to Prefect's database (flow_run / task_run / all) | load average before → after |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        suspended = sum(n for k, n in r.item_runs.items() if k.startswith("waiting run") and "PAUSED" in k)
        others = sum(n for k, n in r.item_runs.items() if k.startswith("waiting run") and "PAUSED" not in k)
        here = sum(n for k, n in r.item_runs.items() if k.startswith("subflow") and "COMPLETED" in k)
        rss = f"{r.peak_rss_mib['total']:,} MiB"
        if "postgresql" in r.peak_rss_mib:
            rss += f" ({r.peak_rss_mib['kehoach serve']:,} + PostgreSQL {r.peak_rss_mib['postgresql']:,})"
        cpu = " / ".join(f"{r.cpu_seconds[k]:,.0f}" if k in r.cpu_seconds else "–" for k in ("server", "workers and flow runs", "postgresql"))
        items = f"{suspended} / {here}" + (f" (+{others} waiting runs not suspended)" if others else "")
        rows.append(
            f"| {r.backend} | {_duration(r.wall_seconds)} (plan-run {r.plan_run_state}) | {r.failed_runs} ({r.flow_runs:,}) | {items} | "
            f"{r.lock_errors} | {rss} | {cpu} | {r.ledger_events:,} | {r.items_with_work or '–'} | "
            f"{r.prefect_rows_added.get('flow_run', 0):,} / {r.prefect_rows_added.get('task_run', 0):,} / {sum(r.prefect_rows_added.values()):,} | "
            f"{' '.join(map(str, r.load_before))} → {' '.join(map(str, r.load_after))} |"
        )
    return "\n".join(rows)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds:.0f} s ({seconds / 60:.1f} min)"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("KEHOACH_BENCH_COMMIT", "unknown commit")
    return head + (" with uncommitted changes" if dirty else "")


def _interrupted(signum: int, _frame) -> None:
    """Say so, then unwind: the stack and the cluster are stopped on the way out."""
    name = signal.Signals(signum).name
    print(f"bench/scale.py: {name} received at {dt.datetime.now():%H:%M:%S}; stopping the stack", file=sys.stderr, flush=True)
    raise KeyboardInterrupt(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--day", choices=["worst", "typical"], default="worst",
                        help="worst: --as-of on an empty ledger; typical: the first day from 15/06 with at most 20 items with work, after a replayed past")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-limit", type=int, default=4, help="flow runs at a time per worker (the plan-run takes one)")
    parser.add_argument("--backends", default="postgresql,sqlite", help="comma-separated, in order: postgresql, sqlite")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds to wait for each plan-run")
    parser.add_argument("--engine-command", action="store_true",
                        help="experiment: set the work pool's command to `python -m prefect.engine` (one process per flow run)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="keep the plan, logs and databases under this directory")
    options = parser.parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)
    backends = [b.strip() for b in options.backends.split(",") if b.strip()]
    if unknown := set(backends) - {"postgresql", "sqlite"}:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    with contextlib.ExitStack() as cleanup:
        if options.keep:
            root = options.keep.resolve()
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="kehoach-scale-")))
        # The PostgreSQL cluster runs as the postgres user, which must reach its data directory.
        os.chmod(root, 0o755)
        plan_file = root / f"plan-{options.items}.yaml"
        plan_file.write_text(generate_plan(options.items, options.units), encoding="utf-8")
        plan_id = f"generated-{options.items}-{options.units}"
        past = None
        if options.day == "typical":
            from plan.load import load_plan

            plan = load_plan(plan_file).plan
            began = time.perf_counter()
            day, count, replayed = history.typical_day(plan, dt.date(plan.year, 6, 15), 20)
            options.as_of = day.isoformat()
            past = Past(plan, replayed, count)
            print(f"typical day {day}: {count} items with work; past replayed in {time.perf_counter() - began:.0f} s "
                  f"({len(replayed.events):,} events, {len(replayed.mails):,} mails)", file=sys.stderr)
        results = []
        for backend in backends:
            print(f"{backend}: {options.items} items as of {options.as_of}, {options.workers} workers × limit {options.worker_limit}", file=sys.stderr)
            result = run_backend(backend, plan_file, plan_id, options, root, past)
            print(json.dumps(asdict(result), ensure_ascii=False, indent=1), file=sys.stderr)
            results.append(result)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB, CPython {platform.python_version()}"
    variant = "; work pool command `python -m prefect.engine`" if options.engine_command else ""
    print(f"{options.items} items ({options.units} units), as of {options.as_of}; kehoach serve --workers {options.workers} "
          f"--worker-limit {options.worker_limit}{variant}; {machine}; {_commit()}")
    print(table(results))
    if options.json:
        options.json.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

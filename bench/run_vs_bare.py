"""Benchmark: `kehoach run` on the 2023 plan against a bare Prefect script with the same runs.

    python bench/run_vs_bare.py            # needs the bench extra: pip install -e '.[bench]'

Both run as fresh processes on Prefect's ephemeral API, each with its own empty PREFECT_HOME and
KEHOACH_HOME. The bare script makes exactly as many flow runs and task runs as `kehoach run` made
(counted in its Prefect database) and does nothing else. Reported: wall time of each and their
ratio, peak RSS of the whole process tree (sampled every 50 ms), and the "database is locked" errors
the server logged and retried (PREFECT_SERVER_LOG_RETRYABLE_ERRORS=true).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from statistics import median

import psutil

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"

BARE = textwrap.dedent(
    """
    import sys
    from prefect import flow, task

    @task
    def step(i: int) -> int:
        return i

    @flow
    def child(n: int) -> int:
        return sum(step(i) for i in range(n))

    @flow
    def parent(tasks_per_child: list[int]) -> int:
        return sum(child(n) for n in tasks_per_child)

    if __name__ == "__main__":
        parent([int(n) for n in sys.argv[1].split(",")])
    """
)


def measure(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall time, peak RSS of the process and all its descendants, and its stderr."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = psutil.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [proc, *proc.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - began
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"{args} exited {proc.returncode}:\n{stderr[-3000:]}")
    return wall, peak, stderr


def fresh_env(tmp: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KEHOACH_"))}
    (tmp / name / "prefect").mkdir(parents=True)
    env.update(
        PREFECT_HOME=str(tmp / name / "prefect"),
        KEHOACH_HOME=str(tmp / name / "kehoach"),
        PREFECT_SERVER_LOG_RETRYABLE_ERRORS="true",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        # The bare script gets the start-up time kehoach gives itself (kehoach/embedded_api.py):
        # with Prefect's 20 s a fresh database on a slow machine fails before anything is measured.
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
    )
    return env


def run_counts(prefect_home: Path) -> tuple[int, list[int]]:
    """Flow runs, and task runs per child flow run, from an ephemeral Prefect database."""
    with sqlite3.connect(prefect_home / "prefect.db") as db:
        flows = db.execute("select count(*) from flow_run").fetchone()[0]
        per_child = [
            n
            for (n,) in db.execute(
                "select count(t.id) from flow_run f left join task_run t on t.flow_run_id = f.id "
                "where f.parent_task_run_id is not null group by f.id"
            )
        ]
    return flows, per_child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", default="2023-12-31")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    options = parser.parse_args()
    ours, bare = [], []
    locked = lambda text: text.count("database is locked")  # noqa: E731
    for round_ in range(options.rounds):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            env = fresh_env(tmp, "kehoach")
            # --items-only: the digests and the annual report that `kehoach run` ends with have no bare equivalent.
            kehoach = [sys.executable, "-m", "kehoach.cli", "run", "--items-only", "--as-of", options.as_of, "--scenario", str(SAMPLE)]
            wall, rss, err = measure(kehoach, env)
            ours.append((wall, rss, locked(err)))
            flows, per_child = run_counts(Path(env["PREFECT_HOME"]))
            script = tmp / "bare.py"
            script.write_text(BARE, encoding="utf-8")
            # The same Prefect settings `kehoach run` chooses for itself (kehoach/prefect_defaults.py), so the
            # ratio measures Kehoach's own cost, not a difference in configuration.
            bare_env = fresh_env(tmp, "bare") | {
                "PREFECT_LOGGING_TO_API_ENABLED": "false",
                "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
            }
            wall, rss, err = measure([sys.executable, str(script), ",".join(map(str, per_child))], bare_env)
            bare.append((wall, rss, locked(err)))
            bare_flows, bare_per_child = run_counts(Path(bare_env["PREFECT_HOME"]))
            assert (bare_flows, sorted(bare_per_child)) == (flows, sorted(per_child)), (
                f"the bare script must make the same runs: {(bare_flows, sorted(bare_per_child))} vs {(flows, sorted(per_child))}"
            )
        print(f"round {round_ + 1}: kehoach {ours[-1][0]:.1f} s, bare {bare[-1][0]:.1f} s", file=sys.stderr)
    print(f"runs: {flows} flow runs, {sum(per_child)} task runs (as of {options.as_of}); {options.rounds} rounds, medians")
    print("| run | wall (s) | peak RSS, process tree (MiB) | 'database is locked' retried (all rounds) |")
    print("|---|---|---|---|")
    for name, rows in (("kehoach run", ours), ("bare Prefect script", bare)):
        print(f"| {name} | {median(r[0] for r in rows):.1f} | {median(r[1] for r in rows) / 2**20:.0f} | {sum(r[2] for r in rows)} |")
    print(f"ratio kehoach / bare (medians): {median(r[0] for r in ours) / median(r[0] for r in bare):.2f} (target ≤ 1.15)")


if __name__ == "__main__":
    main()

"""Benchmark: `kehoach plan check` on the 2023 plan and on a generated plan (2,000 items, 60 units).

    python bench/plan_check.py            # 5 runs each, prints median wall time and the import check

Each run is a fresh process, as a user runs it. The import check runs `python -X importtime` on the
same command and lists any Prefect module it loaded (there must be none).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_plan  # noqa: E402


def wall_times(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(args, capture_output=True)
        times.append(time.perf_counter() - began)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr.decode()}")
    return times


def prefect_modules(args: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", *args[1:]], capture_output=True, text=True)
    modules = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return [m for m in modules if m.split(".")[0] == "prefect"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--units", type=int, default=60)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / f"plan-{options.items}.yaml"
        generated.write_text(generate_plan(options.items, options.units), encoding="utf-8")
        cases = [
            ("2023 plan (9 items, 7 units)", [sys.executable, "-m", "kehoach.cli", "plan", "check"], 0.3),
            (f"generated ({options.items} items, {options.units} units)", [sys.executable, "-m", "kehoach.cli", "plan", "check", str(generated)], 2.0),
        ]
        print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, runs: {options.runs}")
        print("| plan | median (s) | min (s) | max (s) | target (s) | Prefect modules imported |")
        print("|---|---|---|---|---|---|")
        for name, args, target in cases:
            times = wall_times(args, options.runs)
            loaded = prefect_modules(args)
            print(
                f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} | < {target} | "
                f"{len(loaded)}{' (' + ', '.join(loaded[:3]) + ')' if loaded else ''} |"
            )


if __name__ == "__main__":
    main()

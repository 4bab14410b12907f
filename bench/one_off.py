"""Benchmark: one-off commands with no server configured, against the same work done in-process.

    python bench/one_off.py [--rounds 5]

A ledger holding the sample year is built once in a temporary KEHOACH_HOME. Then, in alternating
pairs (so a drifting machine affects both alike), a fresh process each time:

- `kehoach report --period 2023 --as-of 2023-12-31 --no-send` against bench/report.py's render (the
  same aggregation and files, no command line, no Prefect);
- `kehoach digest --as-of 2023-12-31` (to the maildir) against bench/digest.py's steps for the 2023
  plan (statuses, digest mails, queue and deliver to a maildir) in a bare script.

Prints the medians and the median of the pairwise ratios (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plan.events import plan_ref
from plan.ledger import Ledger
from plan.load import load_plan
from plan.scenario import load_scenario, scenario_events

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"
KEHOACH = str(Path(sys.executable).parent / "kehoach")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import RENDER  # noqa: E402

DIGEST = """
import datetime as dt, sys
from pathlib import Path
from notifications.digest import digest_mails
from notifications.maildir import MaildirTransport
from notifications.outbox import Outbox
from notifications.settings import MailSettings
from plan.ledger import Ledger
from plan.load import load_plan
from plan.progress import plan_status
plan = load_plan().plan
ledger = Ledger(sys.argv[1])
as_of = dt.date(2023, 12, 31)
outbox = Outbox(ledger)
outbox.queue(plan.id, digest_mails(plan, plan_status(plan, ledger.events(plan.id), as_of), as_of))
outbox.deliver(MaildirTransport(Path(sys.argv[2])), MailSettings().sender)
"""


def _timed(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    plan = load_plan().plan
    scenario, _ = load_scenario(SAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.sqlite"
        with Ledger(f"sqlite:///{base}") as ledger:
            ledger.append(plan_ref(plan), scenario_events(plan, scenario, [], dt.date(2023, 12, 31), actor="kịch bản"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHOACH_", "PREFECT_"))}
        rows = []
        for label, command, yardstick in (
            ("kehoach report (annual, --no-send)", ["report", "--period", "2023", "--as-of", "2023-12-31", "--no-send"], RENDER),
            ("kehoach digest (maildir)", ["digest", "--as-of", "2023-12-31"], DIGEST),
        ):
            ours, bare, ratios = [], [], []
            for round_ in range(options.rounds):
                home = Path(tmp) / f"{label[8:14]}-{round_}"
                home.mkdir()
                for name in ("a", "b"):  # a fresh copy of the ledger each: the digest queues its mails
                    (home / name).mkdir()
                    (home / name / "ledger.sqlite").write_bytes(base.read_bytes())
                a = _timed([KEHOACH, *command], {**env, "KEHOACH_HOME": str(home / "a")})
                b = _timed([sys.executable, "-c", yardstick, f"sqlite:///{home / 'b' / 'ledger.sqlite'}", str(home / "b" / "out")], env)
                ours.append(a)
                bare.append(b)
                ratios.append(a / b)
            rows.append((label, statistics.median(ours), statistics.median(bare), statistics.median(ratios), min(ratios), max(ratios)))
    print(f"{options.rounds} alternating pairs, fresh processes; load average {os.getloadavg()[0]:.1f}")
    print("| command | median (s) | same work in-process, median (s) | ratio, median of pairs (min–max) | target |")
    print("|---|---|---|---|---|")
    for label, a, b, ratio, low, high in rows:
        print(f"| {label} | {a:.2f} | {b:.2f} | {ratio:.2f} ({low:.2f}–{high:.2f}) | ≤ 1.3 |")


if __name__ == "__main__":
    main()

"""Benchmark: the full annual report of the 2023 plan (aggregation, PDF, DOCX, XLSX, charts).

    python bench/report.py

A ledger holding the sample year (plan/scenarios/…sample.yaml) is built once; then a fresh Python
process aggregates it and renders every file, 5 times (imports of pandas, WeasyPrint, matplotlib
and python-docx included, as for a user running `kehoach report`). Prefect is not involved.
"""

from __future__ import annotations

import datetime as dt
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

RENDER = """
import datetime as dt, sys
from pathlib import Path
from plan.calendar import ReportingPeriod
from plan.ledger import Ledger
from plan.load import load_plan
from reports.aggregate import aggregate
from reports.document import render_report
plan = load_plan().plan
ledger = Ledger(sys.argv[1])
data = aggregate(plan, ledger, ReportingPeriod.parse("2023"), dt.date(2023, 12, 31))
files = render_report(data, Path(sys.argv[2]))
assert files.pdf.exists() and files.docx.exists() and files.xlsx.exists()
"""


def main() -> None:
    plan = load_plan().plan
    scenario, _ = load_scenario(SAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/ledger.sqlite"
        ledger = Ledger(url)
        ledger.append(plan_ref(plan), scenario_events(plan, scenario, [], dt.date(2023, 12, 31), actor="kịch bản"))
        events = ledger.count(plan.id)
        ledger.dispose()
        times = []
        for run in range(5):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", RENDER, url, f"{tmp}/out{run}"], check=True, cwd=ROOT)
            times.append(time.perf_counter() - began)
        pages = subprocess.run(["pdfinfo", next(Path(f"{tmp}/out0").glob("*.pdf"))], capture_output=True, text=True).stdout
    print(f"2023 plan, sample year ({events} events), annual report; 5 fresh processes")
    print("| step | median (s) | min (s) | max (s) | target (s) |")
    print("|---|---|---|---|---|")
    print(f"| aggregate + PDF + DOCX + XLSX + 2 charts | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | < 5 |")
    for line in pages.splitlines():
        if line.startswith("Pages:"):
            print(f"PDF {line.lower()}")


if __name__ == "__main__":
    main()

"""Benchmark: the units' forms (kehoach/forms/) — opening a form and sending it, measured in the
server's process, against a generated plan of 2,000 items with a ledger of background events.

    python bench/forms.py            # --submissions 1000 --items 2000 --units 60 --events 100000

The application is called in-process through Starlette's TestClient (no network, no browser): each
timing covers the request through the whole application — reading the signed link, the plan (loaded
once per file version), the item's events and status from the SQLite ledger, the form drawn from the
outcome model, rendering; for a POST, validation and recording through plan/recording.py — plus the
TestClient's own overhead, so the figures overstate the server's time slightly. No Prefect server is
configured: the resume of waiting runs, which happens after the answer is sent, is not measured.

Each of the `--submissions` rounds opens one item's execution form (GET) and sends it (POST, with
indicators and a note, "Sửa kết quả đã báo cáo" ticked, so it records even where the background
ledger already holds an outcome), on distinct items in turn.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402
from aggregate import bench_plan, generate_events, load_events  # noqa: E402

from kehoach.forms.app import create_app, csrf_token  # noqa: E402
from kehoach.settings import Settings  # noqa: E402
from notifications.form_links import FormGrant, answering_units, sign  # noqa: E402
from plan.events import EventKind  # noqa: E402
from plan.ledger import Ledger  # noqa: E402
from plan.occurrences import item_occurrences  # noqa: E402

AS_OF = dt.date(2023, 11, 15)
SECRET = "bench-forms-secret-0123456789"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--events", type=int, default=100_000)
    options = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from starlette.testclient import TestClient

    started = time.perf_counter()
    plan = bench_plan(options.items, options.units)
    with tempfile.TemporaryDirectory(prefix="kehoach-bench-forms-") as folder:
        root = Path(folder)
        plan_file = root / "plan.yaml"
        plan_file.write_text(yaml.safe_dump(plan.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False), encoding="utf-8")
        settings = Settings.from_mapping({
            "KEHOACH_HOME": str(root / "home"), "KEHOACH_PLAN": str(plan_file),
            "KEHOACH_FORMS_SECRET": SECRET, "KEHOACH_FORMS_URL": "http://testserver",
        })
        settings.home.mkdir(parents=True)
        ledger = Ledger(settings.ledger_url)
        load_events(ledger, plan, generate_events(plan, options.events))
        ledger.dispose()
        setup = time.perf_counter() - started

        targets = [
            (unit, item) for item in plan.items
            for unit in answering_units(plan, item)[:1]
            if any(o.is_main for o in item_occurrences(plan, item, [], AS_OF))
        ]
        app = create_app(settings, today=lambda: AS_OF)
        t0 = time.perf_counter()
        gets: list[float] = []
        posts: list[float] = []
        codes: dict[int, int] = {}
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            startup = time.perf_counter() - t0
            # The application loads and hashes the plan when it starts (its lifespan), not on the first link.
            for n in range(options.submissions):
                unit, item = targets[n % len(targets)]
                token = sign(FormGrant(plan.id, unit, item.id, "main", "execution"), SECRET)
                path = f"/bieu-mau/{token}"
                t0 = time.perf_counter()
                page = client.get(path)
                gets.append((time.perf_counter() - t0) * 1000)
                assert page.status_code == 200, (page.status_code, page.text[:500])
                body = {"csrf": csrf_token(SECRET, token), "result": "done", "held_on": "2023-11-10", "note": f"Lần gửi {n}",
                        "reporter": "Người đo hiệu năng", "correction": "1"}
                body.update({f"indicators.{i}": str(10 + n) for i in item.indicators})
                t0 = time.perf_counter()
                sent = client.post(path, data=body)
                posts.append((time.perf_counter() - t0) * 1000)
                codes[sent.status_code] = codes.get(sent.status_code, 0) + 1
            recorded = sum(1 for e in app.state.desk.ledger().events(plan.id, kinds=[EventKind.OUTCOME]) if e.actor.startswith("Người đo hiệu năng"))

    print(f"forms: {options.items} items, {options.units} units, {options.events:,} background events, {options.submissions} submissions "
          f"on {len(set(t[1].id for t in targets[:options.submissions]))} items (setup {setup:.1f} s)")
    print(f"  application start (plan loaded and hashed): {startup:.2f} s")
    print(f"  machine: {os.cpu_count()} cores, {platform.machine()}, CPython {platform.python_version()}")
    print(f"  GET  /bieu-mau/<token>: median {statistics.median(gets):.1f} ms, p95 {pct(gets, 0.95):.1f} ms, max {max(gets):.1f} ms")
    print(f"  POST /bieu-mau/<token>: median {statistics.median(posts):.1f} ms, p95 {pct(posts, 0.95):.1f} ms, max {max(posts):.1f} ms")
    print(f"  POST answers: {dict(sorted(codes.items()))} (303: recorded, then the confirmation); outcomes recorded by the forms: {recorded}")
    target = 200.0
    ok = statistics.median(gets) < target and statistics.median(posts) < target and pct(gets, 0.95) < target and pct(posts, 0.95) < target
    print(f"  target < {target:.0f} ms (median and p95): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()

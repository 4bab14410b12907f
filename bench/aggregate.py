"""Benchmark: `reports.aggregate.aggregate` over a generated ledger of 1,000,000 events (9,000 items, 60 units).

    python bench/aggregate.py                     # generate into a temp dir, time the annual report
    python bench/aggregate.py --keep /tmp/agg.sqlite   # keep (or reuse) the ledger file
    python bench/aggregate.py --url postgresql+psycopg://user@127.0.0.1/db   # the same on PostgreSQL

The plan comes from `bench/generate.py` (its all-year "recurring" items are made monthly, like item 1 of
the 2023 plan, so that months are occurrences too). The events are a made-up year of execution, in
date order as a real ledger fills: every occurrence (a month, a programme session, an on-request event)
goes through its four stages, some late, stuck or blocked, invitations answered or not, execution
outcomes with indicators (some corrected later) and notes. They are bulk-inserted with Core
`insert()` over batches of dicts — not `Ledger.append`, which is one statement per event — so the
ledger's states (plan/ledger.py: each occurrence's latest stage statuses, invitations' answers,
outcome notes, events per day), which `append` keeps in the transaction of each event, are then
derived with `rebuild_states`, the fold migration 4 runs on an existing ledger, in the same
transaction as the load. Loading is not timed; the time is `aggregate()` from the database to the
report tables, median of the runs. "Of which reading" is one run of the SQL part alone (queries and
columns into frames). The load average (1 min) before and after the runs is printed: the machine is
shared, and the figures move with it.

Measured on the development VM (x86_64, 2 vCPUs shared with other work, CPython 3.11.7, SQLite
3.40.1), annual report 2023, as of 14/12/2023:

| database | load average | aggregate median (s) | min (s) | max (s) | of which reading (s) | target (s) |
|---|---|---|---|---|---|---|
| SQLite, temp file (generated and loaded in 59 s, then timed) | 1.2 | 0.643 | 0.625 | 0.726 | 0.400 | < 1 |
| SQLite, `--keep` file, 3 invocations of 5 runs | 0.5–0.8 | 0.581, 0.545, 0.578 | 0.557, 0.534, 0.552 | 0.884, 0.618, 0.661 | 0.372, 0.353, 0.367 | < 1 |
| PostgreSQL 15 on the same VM (`--url`), 3 invocations of 5 runs | 0.8–0.9 | 0.481, 0.503, 0.499 | 0.460, 0.483, 0.485 | 0.613, 0.630, 0.586 | 0.254, 0.260, 0.257 | < 1 |
| SQLite while other benchmarks ran (note 1) | 3.2, 3.5–4.1, 3.8, 6.1 | 0.743, 2.694, 0.591, 0.888 | 0.682, 0.911, 0.561, 0.809 | 0.766, 2.893, 0.730, 1.074 | 0.440, 1.408, 0.381, 0.435 | < 1 |
| PostgreSQL while other benchmarks ran (note 2) | 3.6, 3.4 | 0.613, 1.248 | 0.578, 0.650 | 0.753, 1.690 | 0.266, 0.419 | < 1 |

Notes: (1) 4 invocations, the last on a temp file; (2) the second is the invocation that loaded it
(1M inserts just made, autovacuum due).

So on a quiet machine the target is met with room on both databases; on this shared VM, when other
work takes the two cores, a run can exceed it.

Before the states (the figures of the previous version of this benchmark: the same generated ledger,
the same machine): 2.60 s on SQLite (min 2.59, max 2.67), 2.22 s on PostgreSQL (min 2.18, max 2.22);
a GROUP BY over ~620,000 status events, payload rows read through the JSON functions and one more
scan for the event count.

Tables: items 9,000, indicators 22,686, indicator_totals 10, units 60, late 34,730, counterparts 40,
notes 26,825; 957,365 events in the period — the same as before the states existed, and the same
report tables (compared frame by frame with the previous implementation's on this ledger, and in
tests/reports/test_aggregate_states.py against grouping the events, on SQLite and PostgreSQL).

Where the time goes now (one run, phases timed apart, medians of 5, quiet machine, SQLite /
PostgreSQL): the occurrences' and invitations' states as of the report date, decided in SQL and read
as one joined text per column, 0.32 / 0.23 s (on SQLite ~0.22 s of it is the query over 86,326
occurrence rows: the CASEs, then joining the columns; ~0.04 s parsing the indicators' JSON); the
outcome notes 0.04 / 0.03 s; the events in the period from `event_days` 0.001 s; the plan's lookup
tables 0.10 s, built in a thread while the database works; pandas and numpy 0.18 / 0.20 s (of
which the indicators into a matrix, pandas' from_records, ~0.05 s). None of the 86,326 occurrences
needed the events (each stage changed at most twice). The 2023 plan with its sample year aggregates
in ~15 ms; `python bench/report.py` (the full annual report) still 3.23 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_plan  # noqa: E402

from plan.calendar import ReportingPeriod  # noqa: E402
from plan.events import EventKind, plan_ref  # noqa: E402
from plan.ledger import Ledger  # noqa: E402
from plan.ledger_states import rebuild_states  # noqa: E402
from plan.ledger_tables import events_table  # noqa: E402
from plan.load import load_plan_text  # noqa: E402
from plan.model import ItemKind, Plan  # noqa: E402
from plan.occurrences import item_occurrences, occurrence_id  # noqa: E402

D = dt.date
UTC = dt.UTC
LEDGER_END = D(2023, 12, 31)  # nothing is recorded after this day
TARGET_SECONDS = 1.0
BATCH = 20_000

# The generated "recurring" items follow their work month by month, like item 1 of the 2023 plan.
_MONTHLY = [
    "recurrence: monthly",
    "occurrence_stages:",
    "  preparation: {anchor: start, working_days: 0}",
    "  coordination: {anchor: start, working_days: 0}",
    "  execution: {anchor: end, working_days: 0}",
    "  reporting: {anchor: end, working_days: 5}",
]


def bench_plan(items: int, units: int) -> Plan:
    text = generate_plan(items, units)
    text = re.sub(r"(?m)^( +)kind: recurring\n", lambda m: m.group(0) + "".join(f"{m.group(1)}{line}\n" for line in _MONTHLY), text)
    result = load_plan_text(text, "<generated>")
    if result.plan is None:
        raise SystemExit("generated plan refused:\n" + "\n".join(p.render() for p in result.problems[:20]))
    return result.plan


# -- events ----------------------------------------------------------------------------------------


class _Gen:
    """Builds event rows as tuples (date, seq, item, occurrence, stage, counterpart, kind, status, payload, actor, key)."""

    def __init__(self, plan: Plan, seed: int):
        self.plan = plan
        self.rng = random.Random(seed)
        self.seq = 0
        self.indicators = {i.id: i for i in plan.indicators}

    def _row(self, rows, on, item, occ, kind, *, stage=None, counterpart=None, status=None, payload=None, actor="kehoach", key):
        self.seq += 1
        rows.append((on, self.seq, item, occ, stage, counterpart, kind, status, payload or {}, actor, key))

    def occurrence(self, item, occ: str, start: D, end: D, known: D, counterparts: tuple[str, ...], opened: dict | None) -> list[tuple]:
        rng, rows = self.rng, []
        base = f"{self.plan.id}/{item.id}/{occ}"
        person = f"nguoi-dung-{rng.randint(1, 400)}"
        if opened is not None:
            self._row(rows, known, item.id, occ, EventKind.OCCURRENCE_OPENED.value, counterpart=opened.get("cp"), payload=opened["payload"], actor=person, key=f"{base}/request")
        all_year = (end - start).days > 200
        planned = {
            "preparation": (known + dt.timedelta(days=rng.randint(5, 25))) if all_year else start - dt.timedelta(days=rng.randint(3, 12)),
            "coordination": (known + dt.timedelta(days=rng.randint(10, 35))) if all_year else start - dt.timedelta(days=rng.randint(0, 5)),
            "execution": end - dt.timedelta(days=rng.randint(14, 20)) if all_year else end + dt.timedelta(days=rng.randint(0, 2)),
            "reporting": end - dt.timedelta(days=rng.randint(5, 12)) if all_year else end + dt.timedelta(days=rng.randint(2, 8)),
        }
        for stage, when in planned.items():
            when = max(when, known)
            fate = rng.random()
            if fate < 0.55:
                pass  # on time
            elif fate < 0.80:
                when += dt.timedelta(days=rng.randint(1, 10))
            elif fate < 0.90:
                when += dt.timedelta(days=rng.randint(10, 60))
            changes = 0

            def status(value, on, *, stage=stage):
                nonlocal changes
                key = f"{base}/{stage}/status/{changes}/{value}"
                self._row(rows, on, item.id, occ, EventKind.STAGE_STATUS.value, stage=stage, status=value, payload={"reason": "báo cáo của đơn vị"}, actor=person, key=key)
                changes += 1

            def outcome(payload, on, cp=None, *, stage=stage):
                key = f"{base}/{stage}/outcome/{self.seq}"
                self._row(rows, on, item.id, occ, EventKind.OUTCOME.value, stage=stage, counterpart=cp, payload=payload, actor=person, key=key)

            if stage == "coordination" and not counterparts:
                if known <= LEDGER_END:
                    status("skipped", known)
                continue
            began = max(known, when - dt.timedelta(days=rng.randint(0, 10)))
            if began > LEDGER_END:
                continue
            status("in_progress", began)
            if fate >= 0.97:  # blocked, with the reason in the outcome's note
                outcome({"result": "blocked", "note": f"Vướng mắc: chưa bố trí được kinh phí cho đợt {occ}."}, began)
                status("blocked", began)
                continue
            if fate >= 0.90 or when > LEDGER_END:  # stuck: never finished; the flows flagged it
                overdue_on = when + dt.timedelta(days=rng.randint(1, 5))
                if overdue_on <= LEDGER_END:
                    self._row(rows, overdue_on, item.id, occ, EventKind.OVERDUE.value, stage=stage, payload={"due": when.isoformat(), "working_days_late": 1}, key=f"{base}/{stage}/overdue")
                continue
            if stage == "coordination":
                answers = 0
                for cp in counterparts:
                    invited_key = f"{base}/{stage}/{cp}/0/invited"
                    self._row(rows, began, item.id, occ, EventKind.COUNTERPART_STATUS.value, stage=stage, counterpart=cp, status="invited", payload={"reason": "gửi thư mời"}, key=invited_key)
                    pick = rng.random()
                    answer = "confirmed" if pick < 0.75 else "declined" if pick < 0.85 else "no_answer" if pick < 0.95 else None
                    if answer is None:
                        continue
                    answered_on = min(when, began + dt.timedelta(days=rng.randint(1, 15)))
                    note = {"note": "Trùng lịch công tác của Đại sứ quán."} if answer == "declined" and rng.random() < 0.5 else {}
                    outcome({"counterpart": cp, "answer": answer, **note}, answered_on, cp)
                    answered_key = f"{base}/{stage}/{cp}/1/{answer}"
                    self._row(
                        rows, answered_on, item.id, occ, EventKind.COUNTERPART_STATUS.value,
                        stage=stage, counterpart=cp, status=answer, payload={"reason": "báo cáo của đơn vị"}, actor=person, key=answered_key,
                    )
                    answers += 1
                if answers == len(counterparts):
                    status("done", when)
                continue
            if stage == "execution":
                values = {i: rng.randint(1, 500) for i in item.indicators}
                payload = {"result": "done", "held_on": when.isoformat(), "indicators": values}
                if rng.random() < 0.15:
                    payload["note"] = f"Đã tổ chức {item.short_title.lower()}, đợt {occ}."
                outcome(payload, when)
                status("done", when)
                if rng.random() < 0.10:  # a correction a few days later replaces the figures
                    fixed = when + dt.timedelta(days=rng.randint(1, 6))
                    if fixed <= LEDGER_END:
                        outcome({**payload, "indicators": {i: v + rng.randint(0, 20) for i, v in values.items()}, "note": "Điều chỉnh số liệu."}, fixed)
                continue
            if stage == "preparation":
                outcome({"result": "done", "detailed_plan_approved": True, "budget_allocated": rng.random() < 0.8}, when)
            else:
                outcome({"result": "done", "submitted_on": when.isoformat()}, when)
            status("done", when)
        return rows

    def item(self, item, sessions: int) -> list[list[tuple]]:
        plan, rng = self.plan, self.rng
        found = []
        for occ in item_occurrences(plan, item, [], LEDGER_END):
            found.append(self.occurrence(item, occ.id, occ.start, occ.end, occ.known_since, occ.counterparts, None))
        if item.kind in (ItemKind.PROGRAMME, ItemKind.ON_REQUEST):
            days = sorted(rng.sample(range(plan.document.issued_on.toordinal(), D(plan.year, 12, 20).toordinal()), k=sessions))
            for ordinal in days:
                start = D.fromordinal(ordinal)
                end = start + dt.timedelta(days=rng.randint(0, 2))
                known = max(plan.document.issued_on, start - dt.timedelta(days=rng.randint(15, 45)))
                if item.kind is ItemKind.ON_REQUEST and item.counterparts:
                    cp = rng.choice(item.counterparts)
                    occ, cps = occurrence_id(start, cp), (cp,)
                else:
                    cp, occ, cps = None, occurrence_id(start), ()
                payload = {"start": start.isoformat(), "end": end.isoformat(), "counterparts": list(cps), "title": f"Đợt {start:%d/%m}"}
                found.append(self.occurrence(item, occ, start, end, known, cps, {"cp": cp, "payload": payload}))
        return found


def generate_events(plan: Plan, total: int, sessions: int = 18, seed: int = 2023) -> list[tuple]:
    """About `total` events (exactly, unless the plan yields fewer), whole occurrences in random order, then sorted by date."""
    gen = _Gen(plan, seed)
    occurrences = [occ for item in plan.items for occ in gen.item(item, sessions)]
    gen.rng.shuffle(occurrences)
    rows: list[tuple] = []
    for occ in occurrences:
        rows.extend(occ[: total - len(rows)])  # a prefix of an occurrence is still a legal history
        if len(rows) >= total:
            break
    rows.sort(key=lambda r: (r[0], r[1]))  # as the ledger fills: by day, each occurrence's events in order
    return rows


def load_events(ledger: Ledger, plan: Plan, rows: list[tuple]) -> None:
    ref = plan_ref(plan)
    midday = dt.time(9, 0, tzinfo=UTC)
    with ledger.transaction(write=True) as conn:
        for begin in range(0, len(rows), BATCH):
            batch = [
                {
                    "plan_id": ref.plan_id,
                    "plan_hash": ref.plan_hash,
                    "item": item,
                    "occurrence": occ,
                    "stage": stage,
                    "counterpart": cp,
                    "kind": kind,
                    "status": status,
                    "payload": payload,
                    "actor": actor,
                    "recorded_at": dt.datetime.combine(on, midday),
                    "effective_date": on,
                    "idempotency_key": key,
                }
                for on, _seq, item, occ, stage, cp, kind, status, payload, actor, key in rows[begin : begin + BATCH]
            ]
            conn.execute(events_table.insert(), batch)
        # The bulk insert bypassed `Ledger.append`, which keeps the states beside the events: derive
        # them as migration 4 does for an existing ledger, in the same transaction.
        rebuild_states(conn)


# -- the benchmark ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=9000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--period", default="2023")
    parser.add_argument("--runs", type=int, default=3)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", type=Path, help="SQLite file to keep the ledger in (reused when it already holds the events)")
    where.add_argument("--url", help="another database, e.g. postgresql+psycopg://user@host/db (empty, or holding these events)")
    options = parser.parse_args()

    import reports.aggregate as aggregation
    from reports.ledger_reads import read_ledger

    with tempfile.TemporaryDirectory() as tmp:
        url = options.url or f"sqlite:///{options.keep or Path(tmp) / 'ledger.sqlite'}"
        began = time.perf_counter()
        plan = bench_plan(options.items, options.units)
        plan_seconds = time.perf_counter() - began
        ledger = Ledger(url)
        began = time.perf_counter()
        generated = 0.0
        if ledger.count(plan.id) != options.events:
            if ledger.count():
                raise SystemExit(f"{ledger.display_url} holds other events: empty it first")
            rows = generate_events(plan, options.events)
            generated = time.perf_counter() - began
            load_events(ledger, plan, rows)
            del rows
        load_seconds = time.perf_counter() - began
        events = ledger.count(plan.id)
        period = ReportingPeriod.parse(options.period)

        times, data = [], None
        load_before = os.getloadavg()[0]
        for _ in range(options.runs):
            began = time.perf_counter()
            data = aggregation.aggregate(plan, ledger, period)
            times.append(time.perf_counter() - began)
        # Where the time goes: the reads (SQL, rows into frames) against the whole.
        window = period.data_window
        with ledger.transaction(write=False, snapshot=True) as conn:
            began = time.perf_counter()
            read_ledger(conn, plan, window[1], window)
            read_seconds = time.perf_counter() - began
        load_after = os.getloadavg()[0]
        backend = ledger.engine.dialect.name
        ledger.dispose()

    median = statistics.median(times)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
        f"{backend}, runs: {options.runs}, period: {period.id} ({period.label}), as of {data.as_of:%d/%m/%Y}, "
        f"load average (1 min) {load_before:.1f} before the runs, {load_after:.1f} after"
    )
    print()
    print("| events | items | units | plan generated (s, not counted) | ledger generated + loaded (s, not counted) | aggregate median (s) | min (s) | max (s) | of which reading (s) | target (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {events:,} | {len(plan.items):,} | {len(plan.units)} | {plan_seconds:.1f} | {load_seconds:.1f} (generation {generated:.1f}) "
        f"| {median:.3f} | {min(times):.3f} | {max(times):.3f} | {read_seconds:.3f} | < {TARGET_SECONDS:g} |"
    )
    print()
    print("| table | rows |")
    print("|---|---|")
    for name in ("items", "indicators", "indicator_totals", "units", "late", "counterparts", "notes"):
        print(f"| {name} | {len(getattr(data, name)):,} |")
    print(f"| (events in period) | {data.events_in_period:,} |")
    if median >= TARGET_SECONDS:
        print(f"\nslower than the {TARGET_SECONDS:g} s target", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Which items have work on a date (plan/workload.py): running only those, day by day through a whole
year, gives exactly the ledger and the outbox of running every item every day.

The content-item run is replayed without Prefect, step for step as flows/content_item.py takes it:
each stage reads the item's events again, decides (plan.progress.stage_step) and records, keys
unique; then the item's coordination mails are queued, keys unique. The sample scenario's outcomes
are recorded on their days, as people would.
"""

from __future__ import annotations

import datetime as dt
import sys
from copy import deepcopy
from pathlib import Path

import pytest

from notifications.coordination import coordination_keys
from plan.awaiting import occurrence_steps
from plan.calendar import WorkingCalendar
from plan.events import NewEvent
from plan.load import DEFAULT_PLAN, load_plan, load_plan_text
from plan.model import Item, Plan, Stage
from plan.occurrences import item_occurrences
from plan.progress import OccurrenceState, fold, item_status, stage_step
from plan.scenario import load_scenario, scenario_events
from plan.schedule import working_calendar
from plan.workload import work_today

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"
sys.path.insert(0, str(ROOT / "bench"))


class Books:
    """A ledger and an outbox reduced to what the comparison needs: keys kept once, in order."""

    def __init__(self) -> None:
        self.events: dict[str, NewEvent] = {}
        self.outbox: set[str] = set()

    def item_events(self, item: Item) -> list[NewEvent]:
        return [e for e in self.events.values() if e.item == item.id]

    def append(self, events: list[NewEvent]) -> int:
        new = [e for e in events if e.key not in self.events]
        self.events.update((e.key, e) for e in new)
        return len(new)


def _run_item(plan: Plan, item: Item, books: Books, as_of: dt.date, calendar: WorkingCalendar) -> None:
    """What a content-item run does on `as_of`, without Prefect. Checked on the way: the steps that
    record are the ones the run predicts from the occurrence's state before any of them
    (plan.awaiting.occurrence_steps), since only those run as tasks."""
    for occurrence in item_occurrences(plan, item, books.item_events(item), as_of):
        if occurrence.known_since > as_of:
            continue
        before = fold([e for e in books.item_events(item) if e.occurrence == occurrence.id]).get((item.id, occurrence.id), OccurrenceState())
        predicted = [(s, cp) for s, cp, step in occurrence_steps(plan, item, occurrence, deepcopy(before), as_of, calendar) if step.events]
        recorded = []
        for stage in Stage:
            counterparts = list(occurrence.counterparts) if stage is Stage.COORDINATION else []
            for counterpart in [*counterparts, None]:
                events = [e for e in books.item_events(item) if e.occurrence == occurrence.id]
                state = fold(events).get((item.id, occurrence.id), OccurrenceState())
                if books.append(stage_step(plan, item, occurrence, stage, state, as_of, calendar, counterpart=counterpart).events):
                    recorded.append((stage, counterpart))
        assert recorded == predicted, f"{item.id} {occurrence.id} {as_of}: recorded {recorded}, predicted {predicted}"
    status = item_status(plan, item, books.item_events(item), as_of, calendar)  # type: ignore[arg-type]
    books.outbox |= coordination_keys(plan, [status], as_of, calendar=calendar)


def _new_mails(plan: Plan, books: Books, day: dt.date, calendar: WorkingCalendar):
    """How many of the mails an item's status calls for are not in the outbox yet (flows/dispatch.py asks the same)."""
    return lambda status: len(coordination_keys(plan, [status], day, calendar=calendar) - books.outbox)


def _year(plan: Plan, scenario, *, only_with_work: bool) -> tuple[Books, int]:
    """Every day from the plan's issue to the year's end: the scenario's entries of the day, then the
    plan-run. Returns the books and how many item runs were made."""
    calendar = working_calendar(plan)
    books = Books()
    runs = 0
    day = plan.document.issued_on
    previous = dt.date.min
    while day <= dt.date(plan.year, 12, 31):
        if scenario is not None:
            today = scenario.model_copy(update={"entries": [e for e in scenario.entries if previous < e.on <= day]})
            previous = day
            books.append(scenario_events(plan, today, list(books.events.values()), day, actor="kịch bản"))  # type: ignore[arg-type]
        for item in plan.items:
            if only_with_work:
                work = work_today(plan, item, books.item_events(item), day, calendar, _new_mails(plan, books, day, calendar))
                if not work.needs_run(can_wait=False):
                    continue
            _run_item(plan, item, books, day, calendar)
            runs += 1
        day += dt.timedelta(days=1)
    return books, runs


def _same(old: Books, new: Books) -> None:
    assert list(new.events) == list(old.events), "the same events, recorded in the same order"
    for key, event in old.events.items():
        assert new.events[key] == event
    assert new.outbox == old.outbox


def test_the_sample_year_day_by_day_gives_the_same_ledger_and_outbox_with_fewer_runs():
    plan = load_plan(DEFAULT_PLAN).plan
    scenario, problems = load_scenario(SAMPLE)
    assert scenario is not None, problems
    old, every = _year(plan, scenario, only_with_work=False)
    new, fewer = _year(plan, scenario, only_with_work=True)
    _same(old, new)
    print(f"sample year: {len(old.events)} events, {len(old.outbox)} mails; {fewer} item runs instead of {every}")
    assert len(old.events) >= 240 and len(old.outbox) > 30, "a year with real work in it"
    assert fewer < every / 3, f"{fewer} item runs instead of {every}"


def test_a_generated_plan_day_by_day_gives_the_same_ledger_and_outbox():
    from generate import generate_plan

    result = load_plan_text(generate_plan(items=24, units=8, counterparts=6, seed=7), "generated.yaml")
    assert result.ok and result.plan is not None, [p.render() for p in result.errors[:3]]
    old, every = _year(result.plan, None, only_with_work=False)
    new, fewer = _year(result.plan, None, only_with_work=True)
    _same(old, new)
    print(f"generated plan: {len(old.events)} events, {len(old.outbox)} mails; {fewer} item runs instead of {every}")
    assert len(old.events) > 100 and fewer < every / 3


def test_an_item_with_everything_recorded_has_no_work():
    plan = load_plan(DEFAULT_PLAN).plan
    calendar = working_calendar(plan)
    item = plan.item("7")
    books = Books()
    day = dt.date(2023, 5, 2)
    _run_item(plan, item, books, day, calendar)
    work = work_today(plan, item, books.item_events(item), day, calendar, _new_mails(plan, books, day, calendar))
    assert (work.steps, work.mails) == (0, 0) and not work.needs_run(can_wait=False)
    assert isinstance(work.status.stages[0].stage, Stage)
    later = work_today(plan, item, books.item_events(item), dt.date(2023, 5, 16), calendar)
    assert later.steps > 0, "a day later a stage falls due: the item has work again"


@pytest.mark.parametrize("waits", [True, False])
def test_an_item_waiting_for_a_unit_needs_a_run_only_where_runs_can_wait(waits):
    from plan.workload import Work

    plan = load_plan(DEFAULT_PLAN).plan
    status = item_status(plan, plan.item("7"), [], dt.date(2023, 5, 2))
    work = Work(status=status, steps=0, waits=waits, mails=0)
    assert work.needs_run(can_wait=True) is waits
    assert work.needs_run(can_wait=False) is False

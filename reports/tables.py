"""The report's tables built from what was read: pandas and numpy join the ledger's rows
(`reports.ledger_reads`) to the stage due dates, counted in Vietnamese working days with vectorised
arithmetic (`reports.working_days`), and derive what `plan.progress.item_status` derives (the
reference): stages done and overdue, each item's RAG, the late list with its reasons, the units and
the counterparts. No Python loop runs over events; the loops here run over the plan's units and
indicators to build lookup tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan.calendar import ReportingPeriod
from plan.events import ANSWERED, MAIN, CoordinationStatus, StageStatus
from plan.model import STAGE_LABELS, Counted, CounterpartKind, Plan, Stage
from plan.progress import RAG_LABELS, RAG_ORDER
from plan.schedule import working_calendar
from reports.data import (
    COUNTERPART_COLUMNS,
    FINISHED_LATE_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_TOTAL_COLUMNS,
    ITEM_COLUMNS,
    LATE_COLUMNS,
    NOTE_COLUMNS,
    OCCURRENCE_COLUMNS,
    UNIT_COLUMNS,
    ReportData,
)
from reports.ledger_reads import LedgerRows
from reports.packed import ANSWERS, CODE_SHIFT, DAY0, ID_SHIFT, STAGE_STATUSES
from reports.plan_tables import PlanTables, plan_tables
from reports.sql_frames import ints_or_zero
from reports.working_days import WorkingDays, date_objects

STAGES = list(Stage)

RAG_DTYPE = pd.CategoricalDtype([r.value for r in RAG_ORDER])
STAGE_DTYPE = pd.CategoricalDtype([s.value for s in Stage], ordered=True)
COUNTERPART_KIND_DTYPE = pd.CategoricalDtype([k.value for k in CounterpartKind])

_DONE, _SKIPPED, _BLOCKED, _NOT_STARTED = (STAGE_STATUSES.index(s) for s in (StageStatus.DONE, StageStatus.SKIPPED, StageStatus.BLOCKED, StageStatus.NOT_STARTED))
_INVITED = ANSWERS.index(CoordinationStatus.INVITED)


class _OccurrenceKeys:
    """(item position, occurrence name) pairs as integers that compare equal when the pairs do: item
    position × number of names + name code, the names of several columns coded all at once; -1 when
    the item is unknown."""

    def __init__(self, *pairs: tuple[np.ndarray, pd.Series]):
        names = [occurrences.to_numpy(dtype=object) for _, occurrences in pairs]
        codes, uniques = pd.factorize(np.concatenate(names))
        self.names = pd.Index(uniques, dtype=object)
        self.size, self.keys, begin = max(len(self.names), 1), [], 0
        for (items, _), column in zip(pairs, names):
            code = codes[begin : begin + len(column)]
            begin += len(column)
            self.keys.append(np.where((items >= 0) & (code >= 0), items * self.size + code, -1))

    def named(self, keys: np.ndarray, name: str) -> np.ndarray:
        """Which keys (all known) are of an occurrence with this name."""
        code = self.names.get_loc(name) if name in self.names else -1
        return keys % self.size == code


@dataclass
class _Views:
    """Every stage of every known occurrence (arrays shaped occurrences × stages), as item_status sees them."""

    occ: pd.DataFrame  # item (position), occurrence, start, end, main, key
    due: np.ndarray
    code: np.ndarray  # position in StageStatus
    status_id: np.ndarray  # id of the latest status event, 0 when none
    finished: np.ndarray
    finished_on: np.ndarray  # ordinal, 0 when not finished or undated
    late: np.ndarray  # working days late: open stages on as_of, finished ones when they finished
    overdue: np.ndarray
    severity: np.ndarray  # 1 on track, 2 at risk, 3 off track: positions in RAG_ORDER


def build_tables(
    plan: Plan,
    period: ReportingPeriod,
    as_of: dt.date,
    window: tuple[dt.date, dt.date],
    in_period: tuple[dt.date, dt.date],
    raw: LedgerRows,
    status_reasons: Callable[[list[int]], dict[int, str]],
    tables: PlanTables | None = None,
    held_on: Callable[[list[int]], dict[int, dt.date]] | None = None,
) -> ReportData:
    """The report's tables from the ledger's rows (`raw`) and the plan's lookup tables (built here when
    not given); `status_reasons` reads the reasons recorded with some status events."""
    tables = tables or plan_tables(plan, as_of)
    items = tables.items
    item_ids = pd.Index(items["id"])
    start, end = in_period[0].toordinal(), in_period[1].toordinal()

    states, invitations, noted = raw.occurrences, raw.invitations, raw.notes
    states_item, invitations_item, notes_item = (item_ids.get_indexer(frame["item"].to_numpy(dtype=object)) for frame in (states, invitations, noted))
    keys = _OccurrenceKeys(
        (tables.occurrences["item"].to_numpy(), tables.occurrences["occurrence"]),
        (states_item, states["occurrence"]),
        (invitations_item, invitations["occurrence"]),
        (notes_item, noted["occurrence"]),
    )
    own_key, states_key, invitations_key, notes_key = keys.keys

    # Occurrences as item_occurrences lists them: the plan's, then the sessions and requests opened by
    # as_of, in the order they were opened.
    opened, opened_start, opened_end = (states[c].to_numpy(dtype=np.int64) for c in ("opened", "start", "end"))
    recorded = np.flatnonzero((states_key >= 0) & (opened > 0))
    recorded = recorded[np.argsort(opened[recorded], kind="stable")]
    recorded_start = opened_start[recorded] + DAY0
    occ = pd.concat(
        [
            tables.occurrences.assign(key=own_key),
            pd.DataFrame(
                {
                    "item": states_item[recorded],
                    "occurrence": states["occurrence"].to_numpy(dtype=object)[recorded],
                    "start": recorded_start,
                    "end": np.where(opened_end[recorded] > 0, opened_end[recorded] + DAY0, recorded_start),
                    "key": states_key[recorded],
                }
            ),
        ],
        ignore_index=True,
    )
    occ = occ.drop_duplicates("key", ignore_index=True)  # the plan's own occurrence wins over one recorded
    occ["main"] = keys.named(occ["key"].to_numpy(), MAIN)
    occ_index = pd.Index(occ["key"])

    packed = np.full((len(occ), len(STAGES)), -1, dtype=np.int64)
    rows = occ_index.get_indexer(states_key)
    found = rows >= 0
    packed[rows[found]] = states[[s.value for s in STAGES]].to_numpy(dtype=np.int64)[found]
    views = _views(plan, tables, occ, packed, as_of)

    # Per item: counts and RAG, the worst stage (done when every stage of every occurrence is finished).
    n_items, occ_item = len(items), occ["item"].to_numpy(dtype=np.int64)

    def per_item(values) -> np.ndarray:
        return np.bincount(occ_item, weights=values, minlength=n_items).astype(np.int64)

    done_in_period = views.finished & (views.finished_on >= start) & (views.finished_on <= end)
    stages_total = per_item(np.full(len(occ), len(STAGES)))
    stages_done = per_item(views.finished.sum(axis=1))
    stages_done_in_period = per_item(done_in_period.sum(axis=1))
    stages_overdue = per_item(views.overdue.sum(axis=1))
    worst = np.ones(n_items, dtype=np.int64)
    np.maximum.at(worst, occ_item, views.severity.max(axis=1, initial=1))
    rag = np.where((stages_total > 0) & (stages_done == stages_total), 0, worst)

    item_table = items[["number", "id", "short_title", "title", "kind", "window", "lead", "coordinating"]].copy()
    item_table["rag"] = pd.Categorical.from_codes(rag, dtype=RAG_DTYPE)
    item_table["rag_label"] = np.array([RAG_LABELS[r] for r in RAG_ORDER], dtype=object)[rag]
    item_table["occurrences"] = per_item(np.ones(len(occ)))
    item_table["stages_total"] = stages_total
    item_table["stages_done"] = stages_done
    item_table["stages_done_in_period"] = stages_done_in_period
    item_table["stages_overdue"] = stages_overdue
    prepared = views.finished[:, STAGES.index(Stage.PREPARATION)].astype(np.int64)
    item_table["prepared"] = per_item(prepared) > 0
    item_table["lead_name"] = items["lead_name"].to_numpy(dtype=object)
    item_table["coordinating_names"] = items["coordinating_names"].to_numpy(dtype=object)

    notes = pd.DataFrame(
        {
            "id": noted["id"].to_numpy(dtype=np.int64),
            "item": notes_item,
            "key": notes_key,
            "stage": pd.Categorical(noted["stage"].to_numpy(dtype=object), dtype=STAGE_DTYPE).codes,
            "on": ints_or_zero(noted["day"]) + DAY0,
            "actor": noted["actor"].to_numpy(dtype=object),
            "note": noted["note"].to_numpy(dtype=object),
        }
    )
    # Outcomes without indicators add nothing.
    given = states["indicators"].to_numpy(dtype=object)
    executed = np.flatnonzero((states["outcome"].to_numpy(dtype=np.int64) > 0) & (states_item >= 0) & pd.notna(given))
    indicators, totals = _indicators(plan, items, given[executed].tolist(), states_item[executed])

    invitation_rows = occ_index.get_indexer(invitations_key)
    outcome = np.zeros(len(occ), dtype=np.int64)
    outcome[rows[found]] = states["outcome"].to_numpy(dtype=np.int64)[found]
    given_by_occ = np.full(len(occ), None, dtype=object)
    given_by_occ[rows[found]] = states["indicators"].to_numpy(dtype=object)[found]
    return ReportData(
        plan=plan,
        period=period,
        as_of=as_of,
        window=window,
        events_in_period=raw.events_in_period,
        items=item_table[ITEM_COLUMNS].reset_index(drop=True),
        indicators=indicators,
        indicator_totals=totals,
        units=_units(plan, items, stages_done_in_period, stages_overdue),
        late=_late(items, views, notes, status_reasons),
        counterparts=_counterparts(plan, items, invitations, invitations_item, invitation_rows, start, end),
        notes=_notes(items, notes, start, end),
        occurrences=_occurrences(items, views, outcome, given_by_occ, held_on or (lambda ids: {}), start, end),
        finished_late=_finished_late(items, views, start, end),
    )


def _occurrences(
    items: pd.DataFrame, views: _Views, outcome: np.ndarray, given: np.ndarray, held_on: Callable[[list[int]], dict[int, dt.date]], start: int, end: int
) -> pd.DataFrame:
    """Every known occurrence with its dates, its execution and that execution's indicators."""
    occ = views.occ
    execution = STAGES.index(Stage.EXECUTION)
    item = occ["item"].to_numpy(dtype=np.int64)
    executed = views.code[:, execution] == _DONE
    executed_on = views.finished_on[:, execution]
    days = held_on(sorted({int(i) for i in outcome[outcome > 0]}))
    held = [days.get(int(i)) if i > 0 else None for i in outcome]
    in_period = (outcome > 0) | (executed & (executed_on >= start) & (executed_on <= end))
    table = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[item],
            "occurrence": occ["occurrence"].to_numpy(dtype=object),
            "start": date_objects(occ["start"].to_numpy(dtype=np.int64)),
            "end": date_objects(occ["end"].to_numpy(dtype=np.int64)),
            "held_on": pd.Series(held, dtype=object),
            "executed": executed,
            "executed_on": pd.Series([dt.date.fromordinal(int(d)) if d > 0 else None for d in executed_on], dtype=object),
            "in_period": in_period,
            "indicators": pd.Series([g if isinstance(g, dict) else None for g in given], dtype=object),
        }
    )
    order = np.lexsort((occ["start"].to_numpy(dtype=np.int64), table["item_number"].to_numpy()))
    return table.iloc[order][OCCURRENCE_COLUMNS].reset_index(drop=True)


def _finished_late(items: pd.DataFrame, views: _Views, start: int, end: int) -> pd.DataFrame:
    """Stages finished in the period after their due date (late completions)."""
    occ = views.occ
    late = views.finished & (views.code == _DONE) & (views.late > 0) & (views.finished_on >= start) & (views.finished_on <= end)
    row, stage = np.nonzero(late)
    item = occ["item"].to_numpy(dtype=np.int64)[row]
    table = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[item],
            "short_title": items["short_title"].to_numpy(dtype=object)[item],
            "occurrence": occ["occurrence"].to_numpy(dtype=object)[row],
            "stage": pd.Categorical.from_codes(stage, dtype=STAGE_DTYPE),
            "stage_label": np.array([STAGE_LABELS[s] for s in STAGES], dtype=object)[stage],
            "due": date_objects(views.due[row, stage]),
            "finished_on": date_objects(views.finished_on[row, stage]),
            "working_days_late": views.late[row, stage].astype(np.int64),
            "lead": items["lead_name"].to_numpy(dtype=object)[item],
        }
    )
    order = np.lexsort((stage, views.due[row, stage], table["item_number"].to_numpy()))
    return table.iloc[order][FINISHED_LATE_COLUMNS].reset_index(drop=True)


def _views(plan: Plan, tables: PlanTables, occ: pd.DataFrame, packed: np.ndarray, as_of: dt.date) -> _Views:
    n_occ, n_stages = len(occ), len(STAGES)
    item = occ["item"].to_numpy(dtype=np.int64)
    variant = np.where(occ["main"].to_numpy(), 0, 1)
    anchor = tables.offsets[item, variant, :, 0]
    working_days = tables.offsets[item, variant, :, 1]
    anchors = np.stack([occ["start"].to_numpy(np.int64), occ["end"].to_numpy(np.int64), np.full(n_occ, plan.document.issued_on.toordinal())], axis=1)
    anchor_date = np.take_along_axis(anchors, anchor, axis=1)

    # Each stage's latest status (packed, -1 for a stage with no status event: not started), unpacked.
    seen = packed >= 0
    code = np.where(seen, (packed // CODE_SHIFT) % 16, _NOT_STARTED)
    code = np.where(code < len(STAGE_STATUSES), code, _NOT_STARTED)
    finished = (code == _DONE) | (code == _SKIPPED)
    day = np.where(seen, packed % CODE_SHIFT, 0)
    finished_on = np.where(finished & (day > 0), day + DAY0, 0)

    as_of_ord = as_of.toordinal()
    dates = np.concatenate([anchor_date.ravel(), finished_on.ravel(), [as_of_ord]])
    # 250 working days (the largest offset a plan may use) span about a year: twice the offset in
    # calendar days, and a margin, cover any run of holidays.
    margin = 2 * int(np.abs(tables.offsets[..., 1]).max(initial=0)) + 60
    days = WorkingDays(working_calendar(plan), int(dates[dates > 0].min()) - margin, int(dates.max()) + margin)
    due = days.add(anchor_date.ravel(), working_days.ravel()).reshape(n_occ, n_stages)
    late = days.late(due, np.where(finished_on > 0, finished_on, as_of_ord))
    overdue = ~finished & (late > 0)

    # plan.progress._rag stage by stage: blocked, or overdue beyond the policy, is off track; overdue,
    # or not started though due within a few working days, is at risk.
    policy = plan.policy
    due_soon = (code == _NOT_STARTED) & (due >= as_of_ord) & (days.late(np.full_like(due, as_of_ord), due) <= policy.due_soon_working_days)
    severity = np.select(
        [code == _BLOCKED, overdue & (late > policy.off_track_after_working_days), overdue, due_soon], [3, 3, 2, 2], default=1
    )
    return _Views(occ, due, code, np.where(seen, packed // ID_SHIFT, 0), finished, finished_on, late, overdue, severity)


def _late(items: pd.DataFrame, views: _Views, notes: pd.DataFrame, status_reasons: Callable[[list[int]], dict[int, str]]) -> pd.DataFrame:
    """Stages not finished and past due on as_of, with the reason people gave."""
    occ = views.occ
    row, stage = np.nonzero(views.overdue)
    item = occ["item"].to_numpy(dtype=np.int64)[row]
    table = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[item],
            "short_title": items["short_title"].to_numpy(dtype=object)[item],
            "occurrence": occ["occurrence"].to_numpy(dtype=object)[row],  # the ledger's id: main, 2023-05, 2023-08-01-dsq-singapore
            "stage": pd.Categorical.from_codes(stage, dtype=STAGE_DTYPE),
            "stage_label": np.array([STAGE_LABELS[s] for s in STAGES], dtype=object)[stage],
            "due": date_objects(views.due[row, stage]),
            "working_days_late": views.late[row, stage].astype(np.int64),
            "lead": items["lead"].to_numpy(dtype=object)[item],
            "reason": _reasons(occ["key"].to_numpy()[row], stage, notes),
        }
    )
    # A blocked stage with no note: the reason recorded with its status, if any (read for those few).
    blocked = (views.code[row, stage] == _BLOCKED) & (table["reason"] == "").to_numpy()
    if blocked.any():
        ids = views.status_id[row, stage][blocked]
        recorded = status_reasons(sorted({int(i) for i in ids}))
        table.loc[blocked, "reason"] = [recorded.get(int(i), "") for i in ids]
    order = np.lexsort((stage, views.due[row, stage], table["item_number"].to_numpy()))
    return table.iloc[order][LATE_COLUMNS].reset_index(drop=True)


def _reasons(keys: np.ndarray, stages: np.ndarray, notes: pd.DataFrame) -> np.ndarray:
    """The latest note on the late stage, else the latest on its occurrence, else ''."""
    reason = np.full(len(keys), "", dtype=object)
    if not len(keys) or notes.empty:
        return reason
    ordered = notes.sort_values("id")
    n = len(STAGES)
    staged = ordered[ordered["stage"] >= 0]
    by_stage = pd.Series(staged["note"].to_numpy(), index=staged["key"].to_numpy() * n + staged["stage"].to_numpy())
    by_stage = by_stage[~by_stage.index.duplicated(keep="last")]
    by_occurrence = pd.Series(ordered["note"].to_numpy(), index=ordered["key"].to_numpy())
    by_occurrence = by_occurrence[~by_occurrence.index.duplicated(keep="last")]
    for lookup, wanted in ((by_occurrence, keys), (by_stage, keys * n + stages)):  # the stage's own note wins
        at = lookup.index.get_indexer(wanted)
        reason[at >= 0] = lookup.to_numpy()[at[at >= 0]]
    return reason


def _indicators(plan: Plan, items: pd.DataFrame, given: list, item: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The indicators of each occurrence's latest execution outcome in the window (`indicators` objects,
    with their items' positions) summed per item, and over all items."""
    catalogue = plan.indicators
    values = _indicator_values(given, [i.id for i in catalogue])
    counted = ~np.isnan(values)
    sums = np.zeros((len(items), len(catalogue)))
    given_count = np.zeros((len(items), len(catalogue)), dtype=np.int64)  # per item and indicator
    distinct = np.array([i.counted is Counted.DISTINCT for i in catalogue], dtype=bool)
    for n in range(len(catalogue)):
        chosen = counted[:, n]
        given_count[:, n] = np.bincount(item[chosen], minlength=len(items))
        if distinct[n]:  # the same country or embassy at two events is one: the largest figure, never a sum
            np.maximum.at(sums[:, n], item[chosen], values[chosen, n])
        else:
            sums[:, n] = np.bincount(item[chosen], weights=values[chosen, n], minlength=len(items))
    row, column = np.nonzero(given_count)  # item order, then catalogue order
    per_item = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[row],
            "indicator": np.array([i.id for i in catalogue], dtype=object)[column],
            "label": np.array([i.label for i in catalogue], dtype=object)[column],
            "unit": np.array([i.unit for i in catalogue], dtype=object)[column],
            "value": sums[row, column].astype(np.int64),
        }
    )
    totals = pd.DataFrame(
        {
            "indicator": pd.Series([i.id for i in catalogue], dtype=object),
            "label": pd.Series([i.label for i in catalogue], dtype=object),
            "unit": pd.Series([i.unit for i in catalogue], dtype=object),
            "value": np.where(distinct, sums.max(axis=0, initial=0), sums.sum(axis=0)).astype(np.int64),
            "items": (given_count > 0).sum(axis=0).astype(np.int64),
        }
    )
    return per_item[INDICATOR_COLUMNS], totals[INDICATOR_TOTAL_COLUMNS]


def _indicator_values(given: list, catalogue: list[str]) -> np.ndarray:
    """The `indicators` objects (parsed JSON) as a matrix rows × catalogue, NaN where not given; whole
    numbers only, as item_status counts."""
    if not given:
        return np.zeros((0, len(catalogue)))
    records = [p if isinstance(p, dict) else {} for p in given]
    values = pd.DataFrame.from_records(records, columns=catalogue).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return np.where(values == np.floor(values), values, np.nan)


def _units(plan: Plan, items: pd.DataFrame, done_in_period: np.ndarray, overdue: np.ndarray) -> pd.DataFrame:
    """Per unit: the items it leads and coordinates (plan); its led items' stages done in the period and overdue."""
    units = pd.DataFrame({"unit": [u.id for u in plan.units], "short_name": [u.short_name for u in plan.units], "name": [u.name for u in plan.units]}, dtype=object)
    index = pd.Index(units["unit"])
    lead = index.get_indexer(items["lead_id"])
    led = lead >= 0
    units["items_led"] = np.bincount(lead[led], minlength=len(units))
    coordinating = index.get_indexer(items["coordinating_ids"].explode().dropna())
    units["items_coordinated"] = np.bincount(coordinating[coordinating >= 0], minlength=len(units))
    units["stages_done"] = np.bincount(lead[led], weights=done_in_period[led], minlength=len(units)).astype(np.int64)
    units["stages_overdue"] = np.bincount(lead[led], weights=overdue[led], minlength=len(units)).astype(np.int64)
    return units[UNIT_COLUMNS]


def _counterparts(plan: Plan, items: pd.DataFrame, answers: pd.DataFrame, item: np.ndarray, occurrence_row: np.ndarray, start: int, end: int) -> pd.DataFrame:
    """Per counterpart, by latest answer on as_of: the invitations of known occurrences whose latest
    answer is dated in the period, and those still awaiting one, whenever they were sent. `item` and
    `occurrence_row` place each invitation in the plan's items and the known occurrences (-1: not)."""
    packed = answers["answer"].to_numpy(dtype=np.int64)
    answer = (packed // CODE_SHIFT) % 16 - 8
    on = np.where(packed % CODE_SHIFT > 0, packed % CODE_SHIFT + DAY0, 0)
    sent = np.isin(answer, [ANSWERS.index(a) for a in (CoordinationStatus.INVITED, *ANSWERED)])
    chosen = (occurrence_row >= 0) & (item >= 0) & (packed >= 0) & sent & (((on >= start) & (on <= end)) | (answer == _INVITED))
    code, found = pd.factorize(answers["counterpart"].to_numpy(dtype=object)[chosen])
    number, answer = items["number"].to_numpy(dtype=np.int64)[item[chosen]], answer[chosen]

    known = {c.id: c for c in plan.counterparts}
    order = {c.id: n for n, c in enumerate(plan.counterparts)}
    ranked = sorted(range(len(found)), key=lambda n: (order.get(found[n], len(order)), found[n]))
    ids = [found[n] for n in ranked]
    counts = np.zeros((len(found), len(ANSWERS)), dtype=np.int64)
    np.add.at(counts, (code, answer), 1)
    pairs = np.unique(code.astype(np.int64) * (int(number.max(initial=0)) + 1) + number)  # by counterpart, then item number
    pair_code, pair_number = np.divmod(pairs, int(number.max(initial=0)) + 1)
    listed = {n: ", ".join(map(str, pair_number[pair_code == n].tolist())) for n in range(len(found))}
    result = pd.DataFrame(
        {
            "counterpart": pd.Series(ids, dtype=object),
            "name": pd.Series([(known[c].short_name or known[c].name) if c in known else c for c in ids], dtype=object),
            "kind": pd.Categorical([known[c].kind.value if c in known else None for c in ids], dtype=COUNTERPART_KIND_DTYPE),
            "items": pd.Series([listed[n] for n in ranked], dtype=object),
        }
    )
    answer_columns = (
        ("confirmed", CoordinationStatus.CONFIRMED),
        ("declined", CoordinationStatus.DECLINED),
        ("no_answer", CoordinationStatus.NO_ANSWER),
        ("awaiting", CoordinationStatus.INVITED),
    )
    for column, status in answer_columns:
        result[column] = counts[ranked, ANSWERS.index(status)] if ranked else np.zeros(0, dtype=np.int64)
    return result[COUNTERPART_COLUMNS]


def _notes(items: pd.DataFrame, notes: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """Outcome notes dated inside the period, by date."""
    chosen = notes[(notes["on"] >= start) & (notes["on"] <= end) & (notes["item"] >= 0) & (notes["stage"] >= 0)].copy()
    chosen["item_number"] = items["number"].to_numpy()[chosen["item"].to_numpy(dtype=np.int64)]
    chosen = chosen.sort_values(["on", "item_number", "id"], kind="stable")
    stage = chosen["stage"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "item_number": chosen["item_number"].to_numpy(dtype=np.int64),
            "stage": pd.Categorical.from_codes(stage, dtype=STAGE_DTYPE),
            "stage_label": np.array([STAGE_LABELS[s] for s in STAGES], dtype=object)[stage],
            "date": date_objects(chosen["on"].to_numpy()),
            "actor": chosen["actor"].to_numpy(dtype=object),
            "text": chosen["note"].to_numpy(dtype=object),
        }
    )[NOTE_COLUMNS]

"""The plan as lookup tables for the aggregation: one row per item, every item's stage offsets at
once, the plan's own occurrences. Built from the plan alone (no database), so `reports.aggregate`
builds them in a thread while the database works."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan.events import MAIN
from plan.model import Anchor, Body, Department, Directors, ItemKind, Plan, Stage, Unit
from plan.occurrences import item_occurrences
from plan.schedule import item_span
from plan.text import window_text

STAGES = list(Stage)
KIND_DTYPE = pd.CategoricalDtype([k.value for k in ItemKind])
_ANCHORS = {Anchor.START: 0, Anchor.END: 1, Anchor.ISSUED: 2}


@dataclass
class PlanTables:
    items: pd.DataFrame  # one row per item, in plan order (row = item position)
    offsets: np.ndarray  # [item, 0 own window | 1 an occurrence, stage] -> (anchor code, working days)
    occurrences: pd.DataFrame  # the plan's own occurrences (main, months): item, occurrence, start, end


def plan_tables(plan: Plan, as_of: dt.date) -> PlanTables:
    named: tuple[Unit | Body | Directors | Department, ...] = (*plan.units, *plan.bodies, plan.directors, plan.department)
    names = {p.id: (getattr(p, "short_name", None) or p.name) for p in named}
    full = {p.id: p.name for p in named}
    rows, occurrences = [], []
    months: dict[tuple[dt.date, dt.date], list] = {}  # monthly items with the same window share their months
    for position, item in enumerate(plan.items):
        rows.append(
            (
                item.number,
                item.id,
                item.short_title,
                item.title,
                item.kind.value,
                window_text(plan, item),
                names.get(item.lead, item.lead),
                ", ".join(names.get(u, u) for u in item.coordinating),
                item.lead,
                tuple(item.coordinating),
                full.get(item.lead, item.lead),
                ", ".join(full.get(u, u) for u in item.coordinating),
            )
        )
        span = item_span(plan, item)
        if span is None:
            continue
        if item.recurrence:
            if span not in months:
                months[span] = [(o.id, o.start.toordinal(), o.end.toordinal()) for o in item_occurrences(plan, item, [], as_of)]
            occurrences += [(position, *month) for month in months[span]]
        else:
            occurrences.append((position, MAIN, span[0].toordinal(), span[1].toordinal()))
    items = pd.DataFrame(rows, columns=["number", "id", "short_title", "title", "kind", "window", "lead", "coordinating", "lead_id", "coordinating_ids", "lead_name", "coordinating_names"])
    items["kind"] = items["kind"].astype(KIND_DTYPE)
    occ = pd.DataFrame(occurrences, columns=["item", "occurrence", "start", "end"]).astype({"occurrence": object})
    return PlanTables(items, offset_table(plan), occ)


def offset_table(plan: Plan) -> np.ndarray:
    """[item, 0 own window | 1 an occurrence, stage] -> (anchor code, working days): `Plan.offset` for
    every item at once, each distinct offset read once (tests/reports check it against Plan.offset)."""
    names = [s.value for s in STAGES]
    defaults = [getattr(plan.stage_defaults, n) for n in names]
    offsets = []  # item by item: its own window's stages, then an occurrence's
    for item in plan.items:
        own = [getattr(item.stages, n) or d for n, d in zip(names, defaults)]
        # An occurrence: its own offsets, else the plan's defaults, but a request keeps the item's.
        fallback = own if item.kind is ItemKind.ON_REQUEST else defaults
        given = item.occurrence_stages
        offsets += own
        offsets += fallback if given is None else [getattr(given, n) or f for n, f in zip(names, fallback)]
    if not offsets:
        return np.zeros((0, 2, len(STAGES), 2), dtype=np.int64)
    _, first, inverse = np.unique(np.fromiter(map(id, offsets), dtype=np.int64, count=len(offsets)), return_index=True, return_inverse=True)
    distinct = [offsets[i] for i in first]  # None: the rules make sure there is one
    anchors = pd.Index(list(_ANCHORS), dtype=object).get_indexer([Anchor.ISSUED if o is None else o.anchor for o in distinct])
    codes = np.stack([np.array(list(_ANCHORS.values()), dtype=np.int64)[anchors], np.array([0 if o is None else o.working_days for o in distinct], dtype=np.int64)], axis=1)
    return codes[inverse.ravel()].reshape(len(plan.items), 2, len(STAGES), 2)

"""How item runs are named and tagged in the Prefect UI: `ND 7 · Ngôi làng Châu Âu · VP · 15/05/2023`,
tags `plan:…`, `item:…`, `lead:…` (the resume of a waiting run finds it by them)."""

from __future__ import annotations

import datetime as dt

from plan.model import Item, Plan


def item_tags(plan: Plan, item: Item) -> list[str]:
    return [f"plan:{plan.id}", f"item:{item.number}", f"lead:{item.lead}"]


def item_run_name(plan: Plan, item: Item, as_of: dt.date) -> str:
    lead = plan.party_name(item.lead, short=True)
    return f"ND {item.number} · {item.short_title} · {lead} · {as_of:%d/%m/%Y}"

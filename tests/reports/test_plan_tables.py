"""The plan as the aggregation's lookup tables: every item's stage offsets at once, against
`Plan.offset` (the reference)."""

from __future__ import annotations

from plan.model import Anchor, ItemKind, Stage, StageOffset, StageOffsets
from reports.plan_tables import offset_table


def test_the_offset_table_is_plan_offset_for_every_item_stage_and_occurrence(plan):
    """The aggregation reads every item's stage offsets at once; Plan.offset stays the reference."""
    defaults = plan.stage_defaults
    some = StageOffsets(preparation=StageOffset(anchor=Anchor.START, working_days=-7), reporting=StageOffset(anchor=Anchor.END, working_days=9))
    variants = [
        item.model_copy(update={"id": f"{item.id}-{n}", "kind": kind, "stages": stages, "occurrence_stages": occurrence_stages})
        for item in plan.items[:3]
        for n, (kind, stages, occurrence_stages) in enumerate(
            (kind, stages, occurrence_stages)
            for kind in ItemKind
            for stages in (item.stages, StageOffsets(), some)
            for occurrence_stages in (None, StageOffsets(), some, defaults)
        )
    ]
    for checked in (plan, plan.model_copy(update={"items": [*plan.items, *variants]})):
        table = offset_table(checked)
        anchors = {Anchor.START: 0, Anchor.END: 1, Anchor.ISSUED: 2}
        for position, item in enumerate(checked.items):
            for variant, occurrence in enumerate((False, True)):
                for s, stage in enumerate(Stage):
                    offset = checked.offset(item, stage, occurrence=occurrence)
                    expected = (anchors[offset.anchor], offset.working_days) if offset else (2, 0)
                    assert tuple(table[position, variant, s]) == expected, (item.id, stage, occurrence)

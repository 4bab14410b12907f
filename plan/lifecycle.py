"""Which status changes are allowed: a stage's lifecycle and an invitation's."""

from __future__ import annotations

from collections import deque
from typing import TypeVar

from plan.events import (
    COORDINATION_STATUS_LABELS,
    STAGE_STATUS_LABELS,
    CoordinationStatus,
    StageStatus,
)

S = TypeVar("S", StageStatus, CoordinationStatus)

# not_started → in_progress → done | skipped | blocked; blocked work can resume or be dropped.
STAGE_TRANSITIONS: dict[StageStatus, frozenset[StageStatus]] = {
    StageStatus.NOT_STARTED: frozenset({StageStatus.IN_PROGRESS, StageStatus.SKIPPED, StageStatus.BLOCKED}),
    StageStatus.IN_PROGRESS: frozenset({StageStatus.DONE, StageStatus.SKIPPED, StageStatus.BLOCKED}),
    StageStatus.BLOCKED: frozenset({StageStatus.IN_PROGRESS, StageStatus.SKIPPED}),
    StageStatus.DONE: frozenset(),
    StageStatus.SKIPPED: frozenset(),
}

# to_invite → invited → confirmed | declined | no_answer; a late answer after no_answer still counts.
COORDINATION_TRANSITIONS: dict[CoordinationStatus, frozenset[CoordinationStatus]] = {
    CoordinationStatus.TO_INVITE: frozenset({CoordinationStatus.INVITED}),
    CoordinationStatus.INVITED: frozenset({CoordinationStatus.CONFIRMED, CoordinationStatus.DECLINED, CoordinationStatus.NO_ANSWER}),
    CoordinationStatus.NO_ANSWER: frozenset({CoordinationStatus.CONFIRMED, CoordinationStatus.DECLINED}),
    CoordinationStatus.CONFIRMED: frozenset(),
    CoordinationStatus.DECLINED: frozenset(),
}


class IllegalTransition(ValueError):
    """A status change the lifecycle does not allow; the message is for the person who asked."""


def path_to(current: S, target: S) -> list[S]:
    """The statuses to pass through, in order, to go from `current` to `target` (empty if already there).

    Recording "done" on a stage nobody started passes through "in_progress", so the ledger keeps a
    lifecycle that is always legal.
    """
    if current == target:
        return []
    table, labels = _table(current)
    previous: dict[S, S] = {}
    queue = deque([current])
    while queue:
        status = queue.popleft()
        for following in sorted(table[status]):
            if following in previous or following == current:
                continue
            previous[following] = status
            if following == target:
                steps = [target]
                while previous[steps[-1]] != current:
                    steps.append(previous[steps[-1]])
                return steps[::-1]
            queue.append(following)
    raise IllegalTransition(f"không thể chuyển từ «{labels[current]}» sang «{labels[target]}»")


def check_transition(current: S, target: S) -> None:
    """Refuse a single step that the lifecycle does not allow."""
    table, labels = _table(current)
    if target not in table[current]:
        allowed = ", ".join(labels[s] for s in sorted(table[current])) or "không có (trạng thái cuối)"
        raise IllegalTransition(f"không thể chuyển từ «{labels[current]}» sang «{labels[target]}» (được phép: {allowed})")


def _table(status):
    if isinstance(status, StageStatus):
        return STAGE_TRANSITIONS, STAGE_STATUS_LABELS
    return COORDINATION_TRANSITIONS, COORDINATION_STATUS_LABELS

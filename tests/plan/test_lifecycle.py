"""The two lifecycles: a stage's (not_started → in_progress → done | skipped | blocked) and an
invitation's (to_invite → invited → confirmed | declined | no_answer). Every step is checked against
the tables written out here by hand from the issue, not against the module's own tables."""

from __future__ import annotations

from collections import deque
from itertools import product

import pytest

from plan.events import COORDINATION_STATUS_LABELS, STAGE_STATUS_LABELS, CoordinationStatus as C, StageStatus as S
from plan.lifecycle import COORDINATION_TRANSITIONS, STAGE_TRANSITIONS, IllegalTransition, check_transition, path_to

# The lifecycles as the issue states them; blocked work can resume or be dropped, and a late answer
# after "no answer" still counts.
EXPECTED_STAGE = {
    S.NOT_STARTED: {S.IN_PROGRESS, S.SKIPPED, S.BLOCKED},
    S.IN_PROGRESS: {S.DONE, S.SKIPPED, S.BLOCKED},
    S.BLOCKED: {S.IN_PROGRESS, S.SKIPPED},
    S.DONE: set(),
    S.SKIPPED: set(),
}
EXPECTED_COORDINATION = {
    C.TO_INVITE: {C.INVITED},
    C.INVITED: {C.CONFIRMED, C.DECLINED, C.NO_ANSWER},
    C.NO_ANSWER: {C.CONFIRMED, C.DECLINED},
    C.CONFIRMED: set(),
    C.DECLINED: set(),
}
TABLES = {"stage": (EXPECTED_STAGE, STAGE_STATUS_LABELS), "coordination": (EXPECTED_COORDINATION, COORDINATION_STATUS_LABELS)}


def _pairs(allowed: bool):
    for name, (table, _) in TABLES.items():
        for current, target in product(table, repeat=2):
            if current != target and (target in table[current]) is allowed:
                yield pytest.param(name, current, target, id=f"{name}:{current.value}->{target.value}")


ALLOWED = list(_pairs(True))
REFUSED = list(_pairs(False))


def _shortest(table, current, target) -> int | None:
    """Length of the shortest legal path, by a breadth-first search written independently."""
    seen, queue = {current: 0}, deque([current])
    while queue:
        status = queue.popleft()
        for following in table[status]:
            if following not in seen:
                seen[following] = seen[status] + 1
                queue.append(following)
    return seen.get(target)


def test_the_module_tables_are_the_lifecycles_of_the_issue():
    assert {k: set(v) for k, v in STAGE_TRANSITIONS.items()} == EXPECTED_STAGE
    assert {k: set(v) for k, v in COORDINATION_TRANSITIONS.items()} == EXPECTED_COORDINATION


def test_there_are_as_many_allowed_steps_as_the_tables_list():
    assert len(ALLOWED) == sum(len(v) for v in EXPECTED_STAGE.values()) + sum(len(v) for v in EXPECTED_COORDINATION.values()) == 14


@pytest.mark.parametrize(("table", "current", "target"), ALLOWED)
def test_an_allowed_step_is_accepted(table, current, target):
    check_transition(current, target)  # no exception
    assert path_to(current, target) == [target]


@pytest.mark.parametrize(("table", "current", "target"), REFUSED)
def test_a_disallowed_step_is_refused_in_vietnamese(table, current, target):
    labels = TABLES[table][1]
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, target)
    message = str(caught.value)
    assert message.startswith("không thể chuyển từ")
    assert f"«{labels[current]}»" in message and f"«{labels[target]}»" in message
    # The person is told what is possible instead, or that the status is final.
    allowed = TABLES[table][0][current]
    if allowed:
        assert all(labels[s] in message for s in allowed)
    else:
        assert "trạng thái cuối" in message


def test_illegal_transition_is_a_value_error_for_callers_that_catch_those():
    with pytest.raises(ValueError):
        check_transition(S.DONE, S.BLOCKED)


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        (S.NOT_STARTED, S.DONE, [S.IN_PROGRESS, S.DONE]),
        (S.BLOCKED, S.DONE, [S.IN_PROGRESS, S.DONE]),
        (S.NOT_STARTED, S.BLOCKED, [S.BLOCKED]),
        (S.NOT_STARTED, S.SKIPPED, [S.SKIPPED]),
        (S.IN_PROGRESS, S.IN_PROGRESS, []),
        (C.TO_INVITE, C.CONFIRMED, [C.INVITED, C.CONFIRMED]),
        (C.TO_INVITE, C.NO_ANSWER, [C.INVITED, C.NO_ANSWER]),
        (C.NO_ANSWER, C.DECLINED, [C.DECLINED]),
        (C.CONFIRMED, C.CONFIRMED, []),
    ],
    ids=lambda v: v.value if hasattr(v, "value") else None,
)
def test_path_to_passes_through_the_statuses_people_skip(current, target, path):
    assert path_to(current, target) == path


@pytest.mark.parametrize(
    ("table", "current", "target"),
    [pytest.param(name, a, b, id=f"{name}:{a.value}->{b.value}") for name, (t, _) in TABLES.items() for a, b in product(t, repeat=2)],
)
def test_path_to_is_the_shortest_legal_path_or_refused(table, current, target):
    transitions = TABLES[table][0]
    shortest = _shortest(transitions, current, target) if current != target else 0
    if shortest is None:
        with pytest.raises(IllegalTransition, match="không thể chuyển từ"):
            path_to(current, target)
        return
    path = path_to(current, target)
    assert len(path) == shortest
    previous = current
    for status in path:
        check_transition(previous, status)  # every step on the way is legal
        previous = status
    assert previous == target


@pytest.mark.parametrize("terminal", [S.DONE, S.SKIPPED, C.CONFIRMED, C.DECLINED], ids=lambda s: s.value)
def test_nothing_leaves_a_terminal_status(terminal):
    others = [s for s in type(terminal) if s != terminal]
    for other in others:
        with pytest.raises(IllegalTransition):
            path_to(terminal, other)
        with pytest.raises(IllegalTransition):
            check_transition(terminal, other)


def test_nothing_goes_back_to_the_first_status():
    for status in S:
        if status is not S.NOT_STARTED:
            with pytest.raises(IllegalTransition):
                path_to(status, S.NOT_STARTED)
    for status in C:
        if status is not C.TO_INVITE:
            with pytest.raises(IllegalTransition):
                path_to(status, C.TO_INVITE)

"""A scenario file: dated outcomes and requests replayed into the ledger, e.g. a sample year for a demo.

Loaded like a plan file (located errors, never a traceback) and turned into events with the same code
as `kehoach record` and `kehoach request`, so a scenario is exactly what people could have typed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationError

from plan.events import Event, NewEvent
from plan.load import _locate_validation_errors, _read_text, parse_yaml
from plan.model import Plan, Text
from plan.problems import Location, Problem, Severity, format_path
from plan.recording import InputError, find_item, find_stage, outcome_record, request_record

SCENARIOS_DIR = Path(__file__).parent / "scenarios"


def _as_text(value: Any) -> Any:
    # An occurrence named by its date (2023-08-10) arrives from YAML as a date.
    return value.isoformat() if isinstance(value, dt.date) else value


OccurrenceName = Annotated[str, BeforeValidator(_as_text)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutcomeEntry(_Entry):
    on: dt.date = Field(description="Ngày đơn vị báo kết quả")
    item: str | int = Field(description="Số thứ tự hoặc mã nội dung")
    stage: str = Field(description="preparation, coordination, execution hoặc reporting")
    occurrence: OccurrenceName | None = Field(None, description="Đợt (mặc định: đợt chính hoặc đợt duy nhất)")
    occurrences: list[OccurrenceName] | None = Field(None, description="Cùng kết quả cho nhiều đợt (ví dụ các tháng)")
    counterpart: str | None = Field(None, description="Đối tác, cho bước coordination")
    set: dict[str, Any] = Field(default_factory=dict, description="Các trường của kết quả")
    by: Text | None = Field(None, description="Người báo")


class RequestEntry(_Entry):
    on: dt.date = Field(description="Ngày nhận yêu cầu")
    request: str | int = Field(description="Số thứ tự hoặc mã nội dung theo yêu cầu")
    counterpart: str | None = None
    date: dt.date = Field(description="Ngày tổ chức")
    until: dt.date | None = None
    title: Text | None = None
    by: Text | None = None


# The tags appear in validation error locations; they must not be field names (a request entry has a
# `request` field), or a problem would be placed at that field instead of the one that is wrong.
_OUTCOME_TAG, _REQUEST_TAG = "outcome-entry", "request-entry"


def _entry_kind(value: Any) -> str:
    # Anything but a mapping is refused as an outcome entry ("cần một nhóm trường"), never as a
    # missing tag, which would name this function to the user.
    is_request = isinstance(value, RequestEntry) or (isinstance(value, dict) and "request" in value)
    return _REQUEST_TAG if is_request else _OUTCOME_TAG


Entry = Annotated[
    Annotated[OutcomeEntry, Tag(_OUTCOME_TAG)] | Annotated[RequestEntry, Tag(_REQUEST_TAG)], Discriminator(_entry_kind)
]


class Scenario(_Entry):
    plan: str = Field(description="Mã kế hoạch mà kịch bản áp dụng")
    label: Text = Field(description="Nhãn hiển thị, ví dụ: DỮ LIỆU MẪU")
    note: Text | None = None
    entries: list[Entry] = Field(default_factory=list)


def load_scenario(path: str | Path) -> tuple[Scenario | None, list[Problem]]:
    source = str(path)
    text, problem = _read_text(Path(path), source)
    if problem is not None:
        return None, [problem]
    data, positions, problems = parse_yaml(text, source)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(Severity.ERROR, Location(source, 1, 1), "", "kịch bản phải là một nhóm trường (plan, label, entries)", "")]
    try:
        return Scenario.model_validate(data), []
    except ValidationError as exc:
        return None, _unknown_keys_in_scenario_terms(exc, _locate_validation_errors(exc, data, positions, source))


def _unknown_keys_in_scenario_terms(exc: ValidationError, problems: list[Problem]) -> list[Problem]:
    """The shared wording looks unknown keys up in the plan's schema ("không có trong mẫu kế hoạch",
    with nothing listed); say instead which keys the scenario allows there."""
    allowed: dict[str, tuple[str, list[str]]] = {}
    for err in exc.errors(include_url=False):
        if err["type"] != "extra_forbidden":
            continue
        loc = err["loc"]
        entry_models: dict[str | int, type[BaseModel]] = {_OUTCOME_TAG: OutcomeEntry, _REQUEST_TAG: RequestEntry}
        model = entry_models.get(loc[-2], Scenario) if len(loc) > 1 else Scenario
        path = format_path([part for part in loc if part not in (_OUTCOME_TAG, _REQUEST_TAG)])
        allowed[path] = (str(loc[-1]), sorted(model.model_fields))
    reworded = []
    for problem in problems:
        if problem.path in allowed:
            name, fields = allowed[problem.path]
            guess = difflib.get_close_matches(name, fields, n=1)
            hint = f" (có phải là «{guess[0]}»?)" if guess else ""
            problem = dataclasses.replace(problem, message=f"trường «{name}» không có trong mẫu kịch bản{hint}", expected="một trong: " + ", ".join(fields))
        reworded.append(problem)
    return reworded


def scenario_events(
    plan: Plan, scenario: Scenario, ledger_events: list[Event], as_of: dt.date, *, actor: str
) -> list[NewEvent]:
    """The events of every entry dated on or before `as_of`, in date order, each on the state left by
    the ones before it. Raises InputError naming the entry when one is refused."""
    if scenario.plan != plan.id:
        raise InputError([f"plan: kịch bản dành cho kế hoạch «{scenario.plan}», không phải «{plan.id}»"])
    known: list[Event | NewEvent] = list(ledger_events)
    new: list[NewEvent] = []
    ordered = sorted(enumerate(scenario.entries), key=lambda pair: (pair[1].on, pair[0]))
    for index, entry in ordered:
        if entry.on > as_of:
            continue
        who = f"{actor}: {entry.by}" if entry.by else actor
        try:
            if isinstance(entry, RequestEntry):
                item = find_item(plan, entry.request)
                produced = [
                    request_record(plan, item, start=entry.date, end=entry.until, counterpart=entry.counterpart, title=entry.title, on=entry.on, actor=who)
                ]
            else:
                item = find_item(plan, entry.item)
                stage = find_stage(entry.stage)
                produced = []
                occurrences: Sequence[str | None] = entry.occurrences or [entry.occurrence]
                for occurrence in occurrences:
                    _, events = outcome_record(
                        plan, item, stage, entry.set, [*known, *produced], on=entry.on, actor=who, occurrence=occurrence, counterpart=entry.counterpart
                    )
                    produced.extend(events)
        except InputError as exc:
            raise InputError([f"entries[{index}] ({entry.on:%d/%m/%Y}): {p}" for p in exc.problems]) from None
        fresh = {e.key for e in known}
        produced = [e for e in produced if e.key not in fresh]
        known.extend(produced)
        new.extend(produced)
    return new

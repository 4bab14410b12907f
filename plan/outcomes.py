"""What a unit reports for each stage, as typed forms (Vietnamese labels): the same models back the
Prefect UI's "Resume" form, `kehoach record` and the scenario file."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, create_model
from pydantic_core import ErrorDetails

from plan.model import Item, Plan, Stage, Text

Result = Literal["done", "blocked", "skipped"]
_DONE: Result = "done"
RESULT_FIELD = Field(
    _DONE,
    title="Kết quả",
    description="done: hoàn thành; blocked: vướng mắc (ghi rõ lý do); skipped: không thực hiện (ghi rõ lý do)",
)
NOTE_FIELD = Field(None, title="Ghi chú", description="Kết quả, lý do vướng mắc hoặc đề xuất", max_length=4000)


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Kết quả")


class PreparationOutcome(Outcome):
    """Chuẩn bị: kế hoạch chi tiết, kinh phí, địa điểm."""

    model_config = ConfigDict(title="Kết quả bước Chuẩn bị")
    result: Result = RESULT_FIELD
    detailed_plan_approved: bool = Field(False, title="Kế hoạch chi tiết đã được phê duyệt")
    budget_allocated: bool = Field(False, title="Kinh phí đã được bố trí")
    venue_confirmed: bool = Field(False, title="Địa điểm đã được xác nhận")
    note: Text | None = NOTE_FIELD


class CounterpartAnswer(Outcome):
    """Phối hợp: câu trả lời của một đối tác (Đại sứ quán, Phái đoàn EU…) cho thư mời."""

    model_config = ConfigDict(title="Trả lời của đối tác")
    counterpart: str = Field(title="Đối tác", description="Mã đối tác trong kế hoạch, ví dụ dsq-phap")
    answer: Literal["confirmed", "declined", "no_answer"] = Field(
        title="Trả lời", description="confirmed: nhận lời; declined: từ chối; no_answer: không phản hồi"
    )
    contact: Text | None = Field(None, title="Người liên hệ")
    note: Text | None = NOTE_FIELD


class ReportOutcome(Outcome):
    """Báo cáo: báo cáo kết quả đã gửi."""

    model_config = ConfigDict(title="Kết quả bước Báo cáo")
    result: Result = RESULT_FIELD
    submitted_on: dt.date | None = Field(None, title="Ngày gửi báo cáo")
    document_number: Text | None = Field(None, title="Số, ký hiệu văn bản báo cáo", description="Ví dụ: 125/BC-SVHTT")
    link: HttpUrl | None = Field(None, title="Đường dẫn tới báo cáo")
    note: Text | None = NOTE_FIELD


@functools.lru_cache(maxsize=256)
def _execution_model(indicators: tuple[tuple[str, str, str], ...], name: str) -> type[Outcome]:
    fields: dict[str, Any] = {
        ident: (int | None, Field(None, ge=0, le=10_000_000, title=label, description=f"Đơn vị tính: {unit}"))
        for ident, label, unit in indicators
    }
    indicator_model = create_model(f"{name}Indicators", __base__=Outcome, **fields)
    indicator_model.model_config["title"] = "Chỉ tiêu"
    model = create_model(
        name,
        __base__=Outcome,
        result=(Result, RESULT_FIELD),
        held_on=(dt.date | None, Field(None, title="Ngày thực hiện")),
        indicators=(indicator_model, Field(default_factory=indicator_model, title="Chỉ tiêu")),
        note=(Text | None, NOTE_FIELD),
    )
    model.model_config["title"] = "Kết quả bước Triển khai"
    return model


def outcome_model(plan: Plan, item: Item, stage: Stage) -> type[Outcome]:
    """The form for a stage of an item; execution asks for exactly the item's indicators."""
    if stage is Stage.PREPARATION:
        return PreparationOutcome
    if stage is Stage.COORDINATION:
        return CounterpartAnswer
    if stage is Stage.REPORTING:
        return ReportOutcome
    catalogue = {i.id: i for i in plan.indicators}
    indicators = tuple((i, catalogue[i].label, catalogue[i].unit) for i in item.indicators if i in catalogue)
    return _execution_model(indicators, f"ExecutionOutcome_{item.id.replace('-', '_')}")


def outcome_payload(outcome: BaseModel) -> dict[str, Any]:
    """What the ledger stores: JSON values, empty fields left out, indicators only where given."""
    data = outcome.model_dump(mode="json", exclude_none=True)
    if "indicators" in data:
        data["indicators"] = {k: v for k, v in data["indicators"].items() if v is not None}
    return data


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs from the command line into nested data (`indicators.participants=120`)."""
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"«{pair}» không có dạng khóa=giá trị")
        target = data
        *parents, leaf = key.strip().split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ValueError(f"«{key}»: «{parent}» vừa là giá trị vừa là nhóm")
        target[leaf] = value
    return data


def validate_outcome(model: type[Outcome], data: dict[str, Any]) -> tuple[BaseModel | None, list[str]]:
    """A validated outcome, or the problems as 'field: reason' lines in plain words."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "(kết quả)"
            message, expected = _describe(err, model)
            problems.append(f"{where}: {message}" + (f" — cần: {expected}" if expected else ""))
        return None, problems


def _describe(err: ErrorDetails, model: type[Outcome]) -> tuple[str, str]:
    from plan.messages import describe_validation_error

    if err["type"] == "extra_forbidden":
        allowed = sorted(model.model_fields)
        if "indicators" in model.model_fields and len(err["loc"]) > 1:
            indicators = model.model_fields["indicators"].annotation  # the execution form's indicator model
            if isinstance(indicators, type) and issubclass(indicators, BaseModel):
                allowed = sorted(indicators.model_fields)
        return f"trường «{err['loc'][-1]}» không có trong mẫu", "một trong: " + ", ".join(allowed)
    if err["type"] == "missing":
        return f"thiếu trường bắt buộc «{err['loc'][-1]}»", ""
    # A location outside the plan schema, so that no plan-field description is borrowed.
    return describe_validation_error({**err, "loc": ("~outcome",)})

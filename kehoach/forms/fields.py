"""The HTML form of a stage, drawn from its pydantic outcome model (plan/outcomes.py: the same
model as `kehoach record` and the Prefect Resume form), and the form's body turned back into the
data that model validates.

One field of the model is one input: a choice (Literal) is a set of radio buttons labelled from the
field's description ("done: hoàn thành; blocked: …"), a bool a checkbox, an int a number, a date a
date, a URL a url, `note` a text area, other text a line; a nested model (the execution form's
indicators) is a fieldset whose inputs are named `indicators.<id>`, as `kehoach record --set` names
them. Nothing typed is interpreted here: empty inputs are left out and the model decides.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, HttpUrl
from pydantic.fields import FieldInfo

FIXED = frozenset({"counterpart"})
"""Fields the link decides (the counterpart of a coordination answer): shown, never typed."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass
class FormField:
    name: str  # the input's name: `result`, `indicators.participants`
    label: str
    kind: str  # radio | checkbox | number | date | url | textarea | text | group
    help: str = ""
    required: bool = False
    choices: list[Choice] = field(default_factory=list)
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    children: list[FormField] = field(default_factory=list)
    value: str = ""  # what the input shows (typed, recorded, or the model's default)
    checked: bool = False
    error: str = ""

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")

    @property
    def has_error(self) -> bool:
        """An error on this field or on one inside it (an indicator of the group "Chỉ tiêu")."""
        return bool(self.error) or any(child.has_error for child in self.children)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None was allowed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], optional
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation, False


def _choices(annotation: Any, description: str | None) -> list[Choice]:
    """A Literal's values, labelled from the field's description `value: label; value: label`."""
    labels: dict[str, str] = {}
    for part in (description or "").split(";"):
        value, sep, label = part.partition(":")
        if sep:
            labels[value.strip()] = label.strip()
    return [Choice(str(v), capital(labels.get(str(v), str(v)))) for v in typing.get_args(annotation)]


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _bounds(info: FieldInfo) -> tuple[int | None, int | None, int | None]:
    low = high = length = None
    for meta in info.metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
        length = getattr(meta, "max_length", None) if getattr(meta, "max_length", None) is not None else length
    return low, high, length


def form_fields(model: type[BaseModel], prefix: str = "") -> list[FormField]:
    """The inputs of a model, in the model's order (the fixed ones left out)."""
    found: list[FormField] = []
    for name, info in model.model_fields.items():
        if not prefix and name in FIXED:
            continue
        annotation, optional = _unwrap(info.annotation)
        full = f"{prefix}{name}"
        label = info.title or name
        help_text = info.description or ""
        required = info.is_required()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.append(FormField(full, label, "group", children=form_fields(annotation, f"{full}.")))
            continue
        low, high, length = _bounds(info)
        if typing.get_origin(annotation) is Literal:
            default = info.default if isinstance(info.default, str) else ""
            found.append(FormField(full, label, "radio", required=required, choices=_choices(annotation, info.description), value=default))
            continue
        if annotation is bool:
            found.append(FormField(full, label, "checkbox", help=help_text, checked=bool(info.default)))
            continue
        if annotation is int:
            found.append(FormField(full, label, "number", help=help_text, required=required and not optional, minimum=low, maximum=high))
            continue
        if annotation is dt.date:
            found.append(FormField(full, label, "date", help=help_text, required=required and not optional))
            continue
        if annotation is HttpUrl:
            found.append(FormField(full, label, "url", help=help_text, required=required and not optional))
            continue
        kind = "textarea" if name == "note" else "text"
        found.append(FormField(full, label, kind, help=help_text, required=required and not optional, max_length=length))
    return found


def walk(fields: list[FormField]) -> list[FormField]:
    """Every input, the groups' children in place of the groups."""
    out: list[FormField] = []
    for f in fields:
        out.extend(walk(f.children) if f.kind == "group" else [f])
    return out


def data_from_form(fields: list[FormField], body: Mapping[str, str]) -> dict[str, Any]:
    """The form's body as the model's data: nested by the dots in the names, empty inputs left out,
    an unchecked checkbox false."""
    data: dict[str, Any] = {}
    for f in walk(fields):
        if f.kind == "checkbox":
            value: Any = f.name in body
        else:
            raw = (body.get(f.name) or "").strip()
            if not raw:
                continue
            value = raw
        target = data
        *parents, leaf = f.name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return data


def fill(fields: list[FormField], values: Mapping[str, Any], *, typed: bool) -> None:
    """Show values in the inputs: a recorded outcome (nested data) or, `typed`, the body of the form
    as it was sent (kept when it is refused)."""
    for f in walk(fields):
        if typed:
            if f.kind == "checkbox":
                f.checked = f.name in values
            else:
                f.value = str(values.get(f.name, ""))
            continue
        found: Any = values
        for part in f.name.split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        if f.kind == "checkbox":
            f.checked = bool(found)
        elif found is not None:
            f.value = str(found)


def place_errors(fields: list[FormField], problems: list[str]) -> list[str]:
    """Put each problem ('indicators.participants: … — cần: …', as plan/outcomes.py words them)
    beside its input; the problems that name no input are returned, for the top of the form."""
    by_name = {f.name: f for f in walk(fields)}
    left: list[str] = []
    for problem in problems:
        where, sep, what = problem.partition(": ")
        target = by_name.get(where.strip()) if sep else None
        if target is None:
            left.append(problem)
        else:
            what = capital(what.strip())
            target.error = f"{target.error} {what}" if target.error else what
    return left


def shown_value(fields: list[FormField], outcome: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A recorded outcome as label/value lines, in the form's order and words."""
    lines: list[tuple[str, str]] = []
    for f in walk(fields):
        found: Any = outcome
        for part in f.name.split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        if found is None or found == "":
            continue
        if f.kind == "checkbox":
            text = "có" if found else "không"
        elif f.kind == "radio":
            text = next((c.label for c in f.choices if c.value == str(found)), str(found))
        elif f.kind == "date":
            try:
                text = dt.date.fromisoformat(str(found)).strftime("%d/%m/%Y")
            except ValueError:
                text = str(found)
        else:
            text = str(found)
        lines.append((f.label, text))
    return lines

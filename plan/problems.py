"""A problem found in a plan file: where it is, which field, what is wrong and what is expected."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


SEVERITY_LABELS = {Severity.ERROR: "lỗi", Severity.WARNING: "cảnh báo"}


@dataclass(frozen=True)
class Location:
    file: str
    line: int  # 1-based; 0 when the problem is about the file as a whole
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    severity: Severity
    location: Location | None
    path: str  # the field path as a user reads it: items[6].window.end
    message: str
    expected: str = ""
    path_parts: tuple[str | int, ...] = field(default=(), compare=False)

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field_ = f"{self.path}: " if self.path else ""
        wanted = f" — cần: {self.expected}" if self.expected else ""
        return f"{where}{SEVERITY_LABELS[self.severity]}: {field_}{self.message}{wanted}"


def format_path(parts: tuple[str | int, ...] | list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def at(severity: Severity, parts: tuple[str | int, ...], message: str, expected: str = "") -> Problem:
    """A problem found on a valid model, to be located in the file by its path."""
    return Problem(severity, None, format_path(parts), message, expected, parts)

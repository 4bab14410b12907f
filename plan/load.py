"""Read a plan file into a `Plan`, or into a list of located problems that say what to fix.

Every problem names file:line:column, the field path, what is wrong and what is expected. Nothing
here raises for bad input: a broken file yields problems, never a traceback.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from plan.messages import describe_validation_error, describe_yaml_error, suggest_field
from plan.model import Plan
from plan.problems import Location, Problem, Severity, format_path

PLANS_DIR = Path(__file__).parent / "plans"
DEFAULT_PLAN = PLANS_DIR / "hanoi-svhtt-ttdn-2023.yaml"
MAX_BYTES = 20 * 1024 * 1024
# Without aliases a file holds fewer values than characters; beyond this, aliases are nested to blow up.
EXTRA_VALUES = 100_000

Path_ = tuple[str | int, ...]

try:  # the C loader is ~10x faster on large plans; the pure one gives the same nodes and marks
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


@dataclass
class Positions:
    """Where each value (and each mapping key) of the document starts, by field path."""

    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: Path_, *, key: bool = False) -> tuple[int, int] | None:
        """The position of `path`, or of its nearest ancestor that exists in the file."""
        table = self.keys if key else self.values
        for n in range(len(path), -1, -1):
            prefix = path[:n]
            if prefix in table:
                return table[prefix]
            if key and prefix in self.values:
                return self.values[prefix]
        return None


@dataclass
class LoadResult:
    source: str
    plan: Plan | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.errors


def load_plan(path: str | os.PathLike[str] | None = None, *, display_name: str | None = None) -> LoadResult:
    """Load and check a plan file: YAML, schema and the rules beyond the schema.

    `display_name` is how problems name the file (the CLI shows paths relative to the cwd).
    """
    from plan.rules import check_rules

    file = Path(path) if path is not None else DEFAULT_PLAN
    source = display_name or str(file)
    text, problem = _read_text(file, source)
    if problem is not None:
        return LoadResult(source, None, [problem])
    return load_plan_text(text, source, check_rules)


def load_plan_text(text: str, source: str = "<plan>", rules=None) -> LoadResult:
    if rules is None:
        from plan.rules import check_rules as rules
    if not text.strip():
        return LoadResult(source, None, [_error(source, 1, 1, "", "tệp trống", "một kế hoạch YAML bắt đầu bằng 'id:', 'year:', 'document:'…")])
    data, positions, problems = parse_yaml(text, source)
    if problems and data is None:
        return LoadResult(source, None, problems)
    # Problems such as a duplicated key or an unknown tag do not stop the document from being built:
    # go on, so that every problem in the file is reported at once.
    if not isinstance(data, dict):
        line, column = positions.of(()) or (1, 1)
        return LoadResult(
            source,
            None,
            problems + [_error(source, line, column, "", f"nội dung gốc là {_kind_of(data)}", "một ánh xạ (mapping) các trường như 'id:', 'year:', 'items:'")],
        )
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        return LoadResult(source, None, _merge(problems, _locate_validation_errors(exc, data, positions, source)))
    located = list(dict.fromkeys(_locate(p, positions, source) for p in rules(plan)))
    located = _merge(problems, located)
    located.sort(key=lambda p: (p.severity is not Severity.ERROR, *_place(p)))
    return LoadResult(source, plan, located)


def _merge(first: list[Problem], then: list[Problem]) -> list[Problem]:
    """Both lists by position; a later problem at the same place and field as an earlier one (the
    value of an unknown tag, read as empty) is a consequence of it and is left out."""
    places = {(*_place(p), p.path) for p in first}
    merged = first + [p for p in then if (*_place(p), p.path) not in places]
    merged.sort(key=_place)
    return merged


def _place(problem: Problem) -> tuple[int, int]:
    """The line and column of a problem; every problem here has been located in the file."""
    if problem.location is None:
        raise ValueError(f"vấn đề chưa được định vị trong tệp: {problem.render()}")
    return problem.location.line, problem.location.column


# --- reading --------------------------------------------------------------------------------


def _read_text(file: Path, source: str) -> tuple[str, Problem | None]:
    try:
        if file.is_dir():
            return "", _error(source, 0, 0, "", "đây là một thư mục, không phải tệp kế hoạch", "đường dẫn tới một tệp .yaml")
        if not stat.S_ISREG(file.stat().st_mode):  # before opening: opening a FIFO blocks
            return "", _error(source, 0, 0, "", "không phải tệp thường (thiết bị, ống dẫn hoặc socket)", "đường dẫn tới một tệp .yaml")
        with file.open("rb") as opened:
            # A FIFO, a device (/dev/zero) or a socket would block or never end: regular files only,
            # and never more than MAX_BYTES + 1 read into memory.
            if not stat.S_ISREG(os.fstat(opened.fileno()).st_mode):
                return "", _error(source, 0, 0, "", "không phải tệp thường (thiết bị, ống dẫn hoặc socket)", "đường dẫn tới một tệp .yaml")
            raw = opened.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return "", _error(source, 0, 0, "", "không tìm thấy tệp", "đường dẫn tới một tệp kế hoạch .yaml có thật")
    except PermissionError:
        return "", _error(source, 0, 0, "", "không có quyền đọc tệp", "một tệp mà người dùng hiện tại đọc được")
    except OSError as exc:
        return "", _error(source, 0, 0, "", f"không đọc được tệp ({exc.strerror or exc})", "một tệp kế hoạch đọc được")
    if len(raw) > MAX_BYTES:
        return "", _error(source, 0, 0, "", f"tệp quá lớn (hơn {MAX_BYTES // 1024 // 1024} MiB)", f"tệp kế hoạch nhỏ hơn {MAX_BYTES // 1024 // 1024} MiB")
    if b"\x00" in raw:
        before = raw[: raw.index(b"\x00")]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        return "", _error(source, line, column, "", "tệp nhị phân (có byte NUL), không phải văn bản", "một tệp văn bản YAML mã hóa UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        return "", _error(
            source,
            line,
            column,
            "",
            f"byte 0x{raw[exc.start]:02x} không hợp lệ trong UTF-8 (tệp có thể được lưu bằng Windows-1258 hoặc TCVN3)",
            "lưu lại tệp với mã hóa UTF-8",
        )
    return unicodedata.normalize("NFC", text), None


# --- YAML with positions ----------------------------------------------------------------------


def parse_yaml(text: str, source: str) -> tuple[Any, Positions, list[Problem]]:
    """YAML text -> plain data, the position of every value and key, and located problems."""
    positions = Positions()
    problems: list[Problem] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        message, expected = describe_yaml_error(exc)
        line, column, message, expected = _syntax_error_place(exc, text, message, expected)
        return None, positions, [_error(source, line, column, "", message, expected)]
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        mark = getattr(exc, "mark", None)
        position = getattr(exc, "position", None)  # a reader error: the offending character's index
        if mark is not None and hasattr(mark, "line"):
            line, column = mark.line + 1, mark.column + 1
        elif isinstance(position, int):
            # libyaml (the C loader) counts bytes of the UTF-8 text, not characters.
            before = text.encode("utf-8")[:position].decode("utf-8", errors="ignore")
            line = before.count("\n") + 1
            column = len(before) - (before.rfind("\n") + 1) + 1
        else:
            line, column = 1, 1
        message, expected = describe_yaml_error(exc)
        return None, positions, [_error(source, line, column, "", message, expected)]
    finally:
        loader.dispose()
    if node is None:
        return None, positions, [_error(source, 1, 1, "", "tệp không có nội dung YAML (chỉ có chú thích)", "một kế hoạch YAML")]
    try:
        data = _build(node, (), loader, positions, problems, source, limit=len(text) + EXTRA_VALUES)
    except RecursionError:
        line, column = positions.values[max(positions.values, key=len)]
        return None, positions, [_error(source, line, column, "", "các mức lồng nhau quá sâu", "một kế hoạch với vài mức thụt lề, ngoặc [ ] { } lồng nhau vừa phải")]
    except _TooManyValues as exc:
        line, column = exc.args[0]
        message = f"tệp mở rộng ra hơn {len(text) + EXTRA_VALUES} giá trị (bí danh *alias lồng nhau?)"
        return None, positions, [_error(source, line, column, "", message, "một kế hoạch không dùng bí danh lồng nhau nhiều lần")]
    return data, positions, problems


class _TooManyValues(Exception):
    pass


_OPENERS = ("while scanning a quoted scalar", "while scanning a double-quoted scalar", "while parsing a flow sequence", "while parsing a flow mapping")


def _syntax_error_place(exc: yaml.MarkedYAMLError, text: str, message: str, expected: str) -> tuple[int, int, str, str]:
    """Where to point for a YAML syntax error: where the parser gave up, unless that is only where
    an unclosed quote or bracket opened lines above ran into something; then at the opening."""
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return 1, 1, message, expected
    opened = exc.context_mark
    if opened is not None and opened.line < mark.line and str(exc.context or "").startswith(_OPENERS):
        return opened.line + 1, opened.column + 1, f"{message} (mở ở dòng {opened.line + 1}, chưa đóng đến dòng {mark.line + 1})", expected
    quote = _runaway_quote(text, mark.line)
    if quote is not None:
        return (
            quote.start_mark.line + 1,
            quote.start_mark.column + 1,
            f"lỗi cú pháp YAML: chuỗi mở bằng dấu nháy {quote.style} ở đây kéo dài tới dòng {quote.end_mark.line + 1} (thiếu dấu nháy đóng?)",
            "đóng dấu nháy trên cùng dòng; văn bản nhiều dòng viết sau '>-'",
        )
    return mark.line + 1, mark.column + 1, message, expected


def _runaway_quote(text: str, error_line: int) -> yaml.ScalarToken | None:
    """A quoted string that spans lines and ends on the line where parsing failed: most likely its
    closing quote is missing and it swallowed the lines up to the next quote character."""
    scanner = _Loader(text)
    found = None
    try:
        while (token := scanner.get_token()) is not None and token.start_mark.line <= error_line:
            if isinstance(token, yaml.ScalarToken) and token.style in ("'", '"'):
                spans = token.end_mark.line > token.start_mark.line
                found = token if spans and token.end_mark.line == error_line else None
    except yaml.YAMLError:
        pass
    finally:
        scanner.dispose()
    return found


def _build(node: yaml.Node, path: Path_, loader, positions: Positions, problems: list[Problem], source: str, inside: frozenset[int] = frozenset(), limit: int = EXTRA_VALUES) -> Any:
    here = (node.start_mark.line + 1, node.start_mark.column + 1)
    if id(node) in inside:  # "&a [*a]": an alias to a collection that contains it
        problems.append(_error(source, *here, format_path(path), "&anchor chứa bí danh (*alias) của chính nó, thành vòng lặp vô tận", "một &anchor không nhắc lại chính nó bên trong"))
        return None
    positions.values.setdefault(path, here)
    if len(positions.values) > limit:
        raise _TooManyValues(here)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        inside = inside | {id(node)}
    if isinstance(node, yaml.MappingNode):
        try:
            loader.flatten_mapping(node)  # resolves "<<" merge keys
        except yaml.MarkedYAMLError as exc:
            problems.append(_error(source, exc.problem_mark.line + 1, exc.problem_mark.column + 1, format_path(path), *describe_yaml_error(exc)))
            # Keep the mapping's other fields, so that they are checked and not reported missing.
            node.value = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, loader, problems, source) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                problems.append(
                    _error(source, key_node.start_mark.line + 1, key_node.start_mark.column + 1, format_path(path), "khóa không phải là một tên trường", "tên trường dạng chữ, ví dụ 'title:'")
                )
                continue
            key = str(key)
            child = (*path, key)
            if key in result:
                first = positions.keys.get(child, (0, 0))
                problems.append(
                    _error(
                        source,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        format_path(child),
                        f"trường «{key}» được khai báo hai lần (lần đầu ở dòng {first[0]})",
                        "mỗi trường chỉ khai báo một lần",
                    )
                )
                continue
            positions.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, child, loader, positions, problems, source, inside, limit)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, (*path, i), loader, positions, problems, source, inside, limit) for i, child in enumerate(node.value)]
    return _scalar(node, path, loader, problems, source)


_BOOL_TAG = "tag:yaml.org,2002:bool"


def _scalar(node: yaml.Node, path: Path_, loader, problems: list[Problem], source: str) -> Any:
    # YAML 1.1 reads on/off/yes/no (and NO, Norway's code) as booleans; people mean the words.
    # Only true/false are booleans here, as in YAML 1.2.
    if node.tag == _BOOL_TAG and node.value.lower() not in ("true", "false"):
        return node.value
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problems.append(_error(source, node.start_mark.line + 1, node.start_mark.column + 1, format_path(path), *describe_yaml_error(exc)))
        return None
    except (ValueError, OverflowError):
        # A value YAML recognises but cannot build, such as the date 2023-02-30: keep the text and
        # let the schema say which field wanted what.
        return node.value


# --- locating problems ------------------------------------------------------------------------


def _locate_validation_errors(exc: ValidationError, data: Any, positions: Positions, source: str) -> list[Problem]:
    problems = []
    seen = set()
    errors = exc.errors(include_url=False)
    # "leed: x" gives "missing lead" and "unknown leed (lead?)": the second says it all, at the typo.
    misspelt = {(err["loc"][:-1], suggest_field(err["loc"])) for err in errors if err["type"] == "extra_forbidden"}
    for err in errors:
        if err["type"] == "missing" and (err["loc"][:-1], err["loc"][-1]) in misspelt:
            continue
        path, is_key = _data_path(err, data)
        message, expected = describe_validation_error(err)
        line, column = positions.of(path, key=is_key) or (1, 1)
        problem = Problem(Severity.ERROR, Location(source, line, column), format_path(path), message, expected)
        if problem not in seen:
            seen.add(problem)
            problems.append(problem)
    problems.sort(key=_place)
    return problems


def _data_path(err: Mapping[str, Any], data: Any) -> tuple[Path_, bool]:
    """The pydantic location mapped onto the document, dropping union tags pydantic inserts."""
    path: list[str | int] = []
    current = data
    loc = list(err["loc"])
    for i, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif i == len(loc) - 1 and isinstance(current, dict) and isinstance(part, str):
            # A field that is missing or not allowed: name it, point at its mapping.
            path.append(part)
            return tuple(path), err["type"] in {"extra_forbidden", "missing"}
        else:
            continue  # a union member or tag name, not a key in the file
    if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        path.append(str((err.get("ctx") or {}).get("discriminator", "")).strip("'"))
    # A missing field is placed at the key of the mapping that lacks it ("document:"), not at the
    # mapping's first field.
    return tuple(path), err["type"] in {"extra_forbidden", "missing", "union_tag_not_found"}


def _locate(problem: Problem, positions: Positions, source: str) -> Problem:
    path = problem.path_parts or ()
    line, column = positions.of(path) or (1, 1)
    return Problem(problem.severity, Location(source, line, column), problem.path or format_path(path), problem.message, problem.expected)


def _error(source: str, line: int, column: int, path: str, message: str, expected: str) -> Problem:
    return Problem(Severity.ERROR, Location(source, line, column), path, message, expected)


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "một danh sách"
    if isinstance(value, str):
        return "một chuỗi văn bản"
    return f"một giá trị {type(value).__name__}"

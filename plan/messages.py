"""Plain-words (Vietnamese) explanations of YAML and schema errors for people who edit plan files."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

import yaml

DATE_EXPECTED = "ngày dạng NNNN-TT-NN, ví dụ 2023-04-27"

# libyaml and PyYAML describe syntax problems in English; these are the ones plan authors meet.
_YAML_PROBLEMS: list[tuple[str, str, str]] = [
    ("found character '\\t' that cannot start any token", "có ký tự Tab", "thụt lề bằng dấu cách, không dùng phím Tab"),
    ("found a tab character", "có ký tự Tab", "thụt lề bằng dấu cách, không dùng phím Tab"),
    ("mapping values are not allowed", "dấu ':' ở chỗ không được phép (dòng thụt lề sai, hoặc giá trị có ': ')", "thụt lề bằng các trường cùng cấp; giá trị có dấu ':' thì đặt trong dấu nháy \"…\""),
    ("could not find expected ':'", "thiếu dấu ':' sau tên trường", "dạng 'tên_trường: giá trị'"),
    ("did not find expected key", "thụt lề không khớp với các dòng phía trên", "các trường cùng cấp thụt lề bằng nhau"),
    ("did not find expected '-' indicator", "thụt lề của danh sách không khớp", "mỗi phần tử danh sách bắt đầu bằng '- ' cùng một cột"),
    ("expected <block end>", "thụt lề không khớp với các dòng phía trên", "các trường cùng cấp thụt lề bằng nhau"),
    ("did not find expected node content", "thiếu giá trị", "một giá trị sau dấu ':' hoặc '-'"),
    ("found unexpected end of stream", "tệp kết thúc khi dấu nháy hoặc ngoặc chưa được đóng", "đóng dấu nháy \" hoặc ngoặc ], }"),
    ("found undefined alias", "bí danh (*alias) chưa được định nghĩa", "một &anchor được khai báo trước"),
    ("found unhashable key", "khóa không hợp lệ", "tên trường dạng chữ"),
    ("found duplicate anchor", "&anchor bị khai báo lặp", "mỗi &anchor một tên riêng"),
    ("could not determine a constructor for the tag", "thẻ YAML (tag '!…') không được hỗ trợ", "giá trị thường, không có thẻ '!'"),
    ("expected a single document", "tệp có nhiều tài liệu YAML (ngăn bởi '---')", "một kế hoạch trong một tệp"),
    ("but found another document", "tệp có nhiều tài liệu YAML (ngăn bởi '---')", "một kế hoạch trong một tệp"),
    ("unacceptable character", "có ký tự điều khiển không in được", "chỉ văn bản thường (xóa ký tự lạ)"),
    ("expected ',' or ']'", "danh sách trong ngoặc [ ] chưa đúng", "các phần tử cách nhau bởi ',' và đóng bằng ']'"),
    ("expected ',' or '}'", "ánh xạ trong ngoặc { } chưa đúng", "các cặp 'khóa: giá trị' cách nhau bởi ',' và đóng bằng '}'"),
    ("found unknown escape character", "chuỗi trong dấu nháy kép có ký tự thoát '\\' không hợp lệ", "dùng dấu nháy đơn '…' hoặc viết '\\\\'"),
    ("expected alphabetic or numeric character", "tên &anchor hoặc *alias không hợp lệ", "chữ hoặc số sau '&' hoặc '*'"),
    ("found character '@' that cannot start any token", "giá trị bắt đầu bằng '@'", "đặt giá trị trong dấu nháy \"…\""),
    ("found character '`' that cannot start any token", "giá trị bắt đầu bằng '`'", "đặt giá trị trong dấu nháy \"…\""),
    ("for merging", "khóa gộp '<<' không trỏ tới một nhóm trường", "'<<: *tên_anchor' với &tên_anchor đặt trên một nhóm trường"),
    ("while parsing a block collection", "thụt lề của danh sách không khớp", "mỗi phần tử danh sách bắt đầu bằng '- ' cùng một cột"),
]


def describe_yaml_error(exc: yaml.YAMLError) -> tuple[str, str]:
    text = " ".join(str(getattr(exc, a, "") or "") for a in ("problem", "context")) or str(exc)
    if isinstance(exc, yaml.reader.ReaderError):
        text = "unacceptable character"
    for needle, message, expected in _YAML_PROBLEMS:
        if needle in text:
            return f"lỗi cú pháp YAML: {message}", expected
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"lỗi cú pháp YAML ({problem})", "cú pháp YAML hợp lệ"


def describe_validation_error(err: Mapping[str, Any]) -> tuple[str, str]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = err["loc"]
    name = loc[-1] if loc else ""
    value = _show(err.get("input"))
    field = _schema_at(loc)
    described = field.get("description", "") if field else ""
    if kind == "missing":
        return f"thiếu trường bắt buộc «{name}»", described or "giá trị cho trường này"
    if kind == "extra_forbidden":
        allowed = sorted(_schema_at(loc[:-1]).get("properties", {}))
        guess = suggest_field(loc)
        hint = f" (có phải là «{guess}»?)" if guess else ""
        return f"trường «{name}» không có trong mẫu kế hoạch{hint}", "một trong: " + ", ".join(allowed)
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_past", "date_future"}:
        return f"{value} không phải là một ngày có thật", DATE_EXPECTED
    if kind in {"string_type"}:
        return f"cần văn bản, nhận được {value}", described or "một chuỗi văn bản"
    if kind == "string_too_short":
        return "văn bản trống", described or "một chuỗi văn bản không rỗng"
    if kind == "string_too_long":
        return f"{value} dài quá {ctx.get('max_length')} ký tự", f"tối đa {ctx.get('max_length')} ký tự"
    if kind == "string_pattern_mismatch":
        return f"{value} không đúng định dạng", described or f"khớp mẫu {ctx.get('pattern')}"
    if kind in {"int_type", "int_parsing", "int_from_float", "finite_number"}:
        return f"cần một số nguyên, nhận được {value}", described or "một số nguyên"
    if kind in {"bool_type", "bool_parsing"}:
        return f"cần true hoặc false, nhận được {value}", "true hoặc false"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bound = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}[kind]
        return f"giá trị {value} nằm ngoài giới hạn", f"một số {sign} {bound}"
    if kind == "list_type":
        return f"cần một danh sách, nhận được {value}", "danh sách dạng '- …' trên từng dòng, hoặc [a, b]"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"cần một nhóm trường (ánh xạ), nhận được {value}", described or "các dòng 'tên_trường: giá trị' thụt lề bên dưới"
    if kind == "too_long":
        unit = "ký tự" if isinstance(err.get("input"), str) else "phần tử"
        return f"dài quá {ctx.get('max_length')} {unit} (có {ctx.get('actual_length')})", f"tối đa {ctx.get('max_length')} {unit}"
    if kind in {"url_scheme", "url_parsing", "url_type", "url_syntax_violation", "url_too_long"}:
        return f"{value} không phải địa chỉ web dùng được", "một địa chỉ bắt đầu bằng https:// hoặc http://"
    if kind in {"float_type", "float_parsing"}:
        return f"cần một số, nhận được {value}", described or "một số"
    if kind in {"too_short"}:
        return f"danh sách cần ít nhất {ctx.get('min_length')} phần tử", described or f"ít nhất {ctx.get('min_length')} phần tử"
    if kind in {"enum", "literal_error"}:
        return f"{value} không phải giá trị được phép", f"một trong: {str(ctx.get('expected')).replace(' or ', ', ')}"
    if kind == "union_tag_invalid":
        return f"«{ctx.get('tag')}» không phải giá trị được phép", f"một trong: {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"thiếu trường bắt buộc «{ctx.get('discriminator', '').strip(chr(39))}»", "exact, expected, all_year hoặc on_request"
    if kind == "value_error" and "email" in str(err.get("msg", "")):
        return f"{value} không phải địa chỉ thư điện tử hợp lệ", "dạng ten@mien.vn"
    if kind == "value_error" and (ctx.get("error") is not None):
        return f"{value} không hợp lệ: {ctx.get('error')}", described
    if kind == "end_before_start":
        return err["msg"], "ngày kết thúc bằng hoặc sau ngày bắt đầu"
    return f"{err.get('msg')} (giá trị: {value})", described


def suggest_field(loc: tuple[Any, ...]) -> str | None:
    """For an unknown field at `loc`, the allowed field it is most likely a typo of."""
    allowed = sorted(_schema_at(loc[:-1]).get("properties", {}))
    guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if loc else []
    return guess[0] if guess else None


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "một nhóm trường"
    if isinstance(value, list):
        return "một danh sách"
    if value is None:
        return "giá trị rỗng"
    text = str(value)
    return f"«{text[:57] + '…' if len(text) > 60 else text}»"


@functools.cache
def _schema() -> dict[str, Any]:
    from plan.model import Plan

    return Plan.model_json_schema()


def _schema_at(loc: tuple[Any, ...]) -> dict[str, Any]:
    """The JSON Schema node for a pydantic location, to borrow its description and field names."""
    schema = _schema()
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            # Keep the field's own (Vietnamese) description, never the class docstring (English,
            # for developers) that the $ref'd definition carries.
            own = {"description": node["description"]} if "description" in node else {}
            while "$ref" in node:
                node = defs[node["$ref"].rsplit("/", 1)[-1]]
            node = {**{k: v for k, v in node.items() if k != "description"}, **own}
        if "anyOf" in node:  # Optional[X]: look inside X
            inner = [n for n in node["anyOf"] if n.get("type") != "null"]
            if len(inner) == 1:
                return {**resolve(inner[0]), **{k: v for k, v in node.items() if k == "description"}}
        return node

    node = resolve(schema)
    for part in loc:
        if isinstance(part, int):
            node = resolve(node.get("items", {}))
        elif part in node.get("properties", {}):
            node = resolve(node["properties"][part])
        elif "discriminator" in node and part in node["discriminator"].get("mapping", {}):
            node = resolve({"$ref": node["discriminator"]["mapping"][part]})
        elif "oneOf" in node:
            continue
        else:
            return {}
    return node

"""`kehoach plan check` on broken plan files: exit 2, located problems, all at once, never a traceback.

Every case is the shipped 2023 plan with one small, readable edit. The expected line is computed
from the edited text (the one line holding a marker), so the cases survive edits to the plan.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from plan.load import DEFAULT_PLAN, load_plan_text

ROOT = Path(__file__).resolve().parents[2]
PLAN = DEFAULT_PLAN.read_text(encoding="utf-8")
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): lỗi: ", re.MULTILINE)


# --- small, readable edits -------------------------------------------------------------------


def replace(old: str, new: str, text: str = PLAN) -> str:
    """`text` with the one occurrence of `old` replaced (fails loudly if the anchor is not unique)."""
    assert text.count(old) == 1, f"anchor {old!r} occurs {text.count(old)} times in the plan"
    return text.replace(old, new)


def replace_in(section: str, old: str, new: str, text: str = PLAN) -> str:
    """`text` with the first `old` after the (unique) `section` line, e.g. "\nstage_defaults:", replaced."""
    start = _unique_index(section, text)
    i = text.index(old, start)
    return text[:i] + new + text[i + len(old) :]


def insert_after(anchor: str, lines: str, text: str = PLAN) -> str:
    """`text` with `lines` inserted after the (unique) line that contains `anchor`."""
    index = text.index("\n", _unique_index(anchor, text)) + 1
    return text[:index] + lines + text[index:]


def cut(start: str, end: str, text: str = PLAN) -> str:
    """`text` without the span from `start` (included) to `end` (kept)."""
    i = _unique_index(start, text)
    return text[:i] + text[text.index(end, i) :]


def _unique_index(anchor: str, text: str) -> int:
    assert text.count(anchor) == 1, f"anchor {anchor!r} occurs {text.count(anchor)} times in the plan"
    return text.index(anchor)


def line_of(text: str, marker: str) -> int:
    """The 1-based number of the one line that contains `marker`."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, f"marker {marker!r} is on lines {lines}, expected exactly one"
    return lines[0]


# An item appended after item 9: valid on its own, so a case can give it one defect.
def extra_item(number: int, id_: str) -> str:
    return (
        f"\n  - number: {number}  # nội dung thêm\n"
        f"    id: {id_}  # mã nội dung thêm\n"
        "    title: Nội dung thêm để kiểm tra\n"
        "    short_title: Nội dung thêm\n"
        "    kind: on_request\n"
        "    window: {precision: on_request}\n"
        "    lead: van-phong\n"
        "    supporting: [khtc]\n"
    )


def append_item(number: int, id_: str) -> str:
    anchor = "\n\n# Section IV.1"
    return replace(anchor, extra_item(number, id_) + anchor)


# --- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    text: str | bytes
    marker: str | None  # the line the first error must point at; None: the first line of the file
    expect: tuple[str, ...]  # each must appear in stderr

    @property
    def line(self) -> int:
        if self.marker is None:
            return 1
        text = self.text if isinstance(self.text, str) else self.text.decode("utf-8", errors="replace")
        return line_of(text, self.marker)


def case(id_: str, text: str | bytes, marker: str | None, *expect: str) -> Case:
    return Case(id_, text, marker, expect)


CP1258_HA_NOI = b"H\xe0 N\xf4\xf2i"  # «Hà Nội» as Windows-1258 stores it: ô + combining dot below
ALIAS_BOMB = "x-bom:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefgh", "bcdefghi")
)
DEEP = 600  # libyaml allows 1000 levels; Python's default recursion limit is 1000 frames
ROOT_LIST = "".join(PLAN.splitlines(keepends=True)[:9]) + "- id: hanoi-svhtt-ttdn-2023\n- year: 2023\n"

CASES = [
    # -- YAML syntax ------------------------------------------------------------------------------
    case("yaml-unclosed-quote", replace("  place: Hà Nội", '  place: "Hà Nội'), 'place: "Hà Nội', "dấu nháy"),
    case("yaml-unclosed-quote-at-eof", replace('"Lưu: VT, ĐN"}', '"Lưu: VT, ĐN}'), '"Lưu: VT, ĐN}', "dấu nháy"),
    case(
        "yaml-unclosed-bracket",
        replace("indicators: [articles_translated, articles_published, funding_spent]", "indicators: [articles_translated, articles_published, funding_spent"),
        "indicators: [articles_translated, articles_published, funding_spent",
        "ngoặc [ ]",
    ),
    case(
        "yaml-unclosed-brace",
        replace_in("\nstage_defaults:", "preparation: {anchor: start, working_days: -10}", "preparation: {anchor: start, working_days: -10  # thiếu ngoặc"),
        "# thiếu ngoặc",
        "ngoặc { }",
    ),
    case("yaml-tab-indentation", replace("  type_code: KH", "\ttype_code: KH"), "\ttype_code: KH", "Tab"),
    case("yaml-indent-too-deep", replace("  type_code: KH", "   type_code: KH"), "   type_code: KH", "thụt lề"),
    case("yaml-indent-too-shallow", replace("    name: Văn phòng Sở", "   name: Văn phòng Sở"), "   name: Văn phòng Sở", "thụt lề"),
    case("yaml-duplicate-key", insert_after("  place: Hà Nội", "  place: Hà Nội (lần hai)\n"), "(lần hai)", "document.place", "hai lần"),
    case("yaml-unknown-tag", replace("  place: Hà Nội", "  place: !!python/object:os.system Hà Nội"), "!!python/object", "document.place", "thẻ YAML"),
    case("yaml-multiple-documents", PLAN + "---\nid: ke-hoach-thu-hai\n", "---", "nhiều tài liệu YAML"),
    case("yaml-recursive-alias", insert_after("    lead: qltdtt", "    note: &vong [*vong]\n"), "&vong", "items[1].note", "vòng lặp"),
    case("yaml-alias-bomb", insert_after("year: 2023", ALIAS_BOMB), "a: &a [x", "bí danh"),
    case("yaml-nested-too-deep", replace("  place: Hà Nội", "  place: " + "[" * DEEP + "]" * DEEP), "place: [[[", "lồng nhau quá sâu"),
    case("yaml-bad-merge-key", replace("    stages: *all-year-stages\n\n  - number: 3", "    stages:\n      <<: 5  # gộp sai\n\n  - number: 3"), "# gộp sai", "items[1].stages", "'<<'"),
    case("yaml-undefined-alias", replace("      - *theo-chi-dao\n\n  - id: tcpc", "      - *theo-chi-dao-2\n\n  - id: tcpc"), "*theo-chi-dao-2", "bí danh"),
    # -- the file as a whole ------------------------------------------------------------------------
    case("file-empty", "", None, "tệp trống"),
    case("file-comments-only", "# Kế hoạch năm 2024: chưa soạn.\n# (còn trống)\n", None, "chỉ có chú thích"),
    case("file-root-is-a-list", ROOT_LIST, "- id: hanoi-svhtt-ttdn-2023", "danh sách", "ánh xạ"),
    case(
        "file-windows-1258",
        PLAN.encode().replace("  place: Hà Nội".encode(), b"  place: " + CP1258_HA_NOI),
        "  place: H",
        "UTF-8",
        "Windows-1258",
    ),
    case("file-latin-1", insert_after("id: hanoi-svhtt-ttdn-2023", "# ghi chú: café\n").encode().replace("café".encode(), b"caf\xe9"), "# ghi ch", "0xe9", "UTF-8"),
    case("file-nul-bytes", replace("  place: Hà Nội", "  place: Hà\x00Nội").encode(), "place: Hà", "NUL"),
    # -- schema: fields and types ---------------------------------------------------------------------
    case("unknown-key-did-you-mean", replace("    lead: qltdtt", "    leed: qltdtt"), "leed: qltdtt", "items[1].leed", "«lead»"),
    case("unknown-top-level-key", replace("year: 2023\n", "yaer: 2023\n"), "yaer: 2023", "yaer", "«year»"),
    case("string-where-list", replace("indicators: [courses_held, trainees, funding_spent]", "indicators: courses_held"), "indicators: courses_held", "items[2].indicators", "cần một danh sách"),
    case("list-where-string", replace("  place: Hà Nội", "  place: [Hà Nội]"), "place: [Hà Nội]", "document.place", "cần văn bản"),
    case("number-where-date", replace("  issued_on: 2023-04-27", "  issued_on: 20230427"), "issued_on: 20230427", "document.issued_on", "ngày"),
    case("missing-lead", cut("    lead: tcpc\n", "    supporting: [khtc]"), "- number: 3", "items[2].lead", "thiếu trường bắt buộc «lead»"),
    case("empty-item", replace("items:\n  - number: 1", "items:\n  -  # trống\n  - number: 1"), "# trống", "items[0]", "cần một nhóm trường"),
    case("empty-lead", replace("    lead: qltdtt", "    lead:  # chưa điền"), "chưa điền", "items[1].lead", "giá trị rỗng"),
    case("missing-number-symbol", cut("  number_symbol: 326/KH-SVHTT\n", "  issued_on:"), "document:", "document.number_symbol", "thiếu trường bắt buộc"),
    case("end-before-start", replace("start: 2023-05-12, end: 2023-05-14", "start: 2023-05-12, end: 2023-05-02"), "end: 2023-05-02", "items[6].window.end", "trước ngày bắt đầu"),
    case("impossible-date", replace("      start: 2023-10-21", "      start: 2023-02-30"), "start: 2023-02-30", "items[8].window.start", "2023-02-30", "không phải là một ngày có thật"),
    case("wrong-precision-tag", replace("{precision: exact, start: 2023-05-12", "{precision: exakt, start: 2023-05-12"), "precision: exakt", "items[6].window.precision", "«exakt»", "'exact'"),
    case("bad-id-uppercase", replace("  - id: qlnt", "  - id: QLNT"), "id: QLNT", "units[1].id", "«QLNT» không đúng định dạng", "chữ thường"),
    case("bad-id-spaces", replace("id: hanoi-svhtt-ttdn-2023", "id: ha noi 2023"), "id: ha noi 2023", "«ha noi 2023» không đúng định dạng"),
    case("bad-email", replace("emails: [qlnt@svhtt.hanoi.example]", "emails: [qlnt at svhtt.hanoi.example]"), "qlnt at svhtt", "units[1].emails[0]", "thư điện tử"),
    case("bad-number-symbol", replace("  number_symbol: 326/KH-SVHTT", "  number_symbol: 326-KH-SVHTT"), "326-KH-SVHTT", "document.number_symbol", "không đúng định dạng", "326/KH-SVHTT"),
    case(
        "offset-out-of-range",
        replace_in("\nstage_defaults:", "reporting: {anchor: end, working_days: 5}", "reporting: {anchor: end, working_days: 500}"),
        "working_days: 500",
        "stage_defaults.reporting.working_days",
        "≤ 250",
    ),
    case(
        "unknown-anchor",
        replace_in("\nstage_defaults:", "reporting: {anchor: end, working_days: 5}", "reporting: {anchor: finish, working_days: 5}"),
        "anchor: finish",
        "stage_defaults.reporting.anchor",
        "finish",
    ),
    case("no-items", cut("  - number: 1\n", "\n# Section IV.1", replace("\nitems:\n", "\nitems: []  # chưa có nội dung\n")), "chưa có nội dung", "items", "ít nhất 1"),
    # -- rules: references, leads, dates ------------------------------------------------------------
    case(
        "two-leads",
        replace("      - role: coordinate\n        items: [de-an-cong-nghiep-van-hoa]", "      - role: lead\n        items: [de-an-cong-nghiep-van-hoa]  # nhầm"),
        "# nhầm",
        "units[1].duties[0].items[0]",
        "hai đơn vị chủ trì",
    ),
    case(
        "unknown-coordinating-unit",
        replace("    coordinating: [van-phong]\n    supporting: [khtc]\n    indicators: [articles", "    coordinating: [van-phong, phong-bao-chi]\n    supporting: [khtc]\n    indicators: [articles"),
        "phong-bao-chi",
        "items[0].coordinating[1]",
        "«phong-bao-chi»",
        "van-phong",
    ),
    case("unknown-counterpart", replace("counterparts: [phai-doan-eu]", "counterparts: [dsq-duc]"), "dsq-duc", "items[6].counterparts[0]", "không có đối tác mã «dsq-duc»", "dsq-phap"),
    case(
        "unknown-indicator",
        replace("indicators: [courses_held, trainees, funding_spent]", "indicators: [courses_held, trainee, funding_spent]"),
        "trainee,",
        "items[2].indicators[1]",
        "không có chỉ tiêu mã «trainee»",
    ),
    case(
        "unknown-item-in-duty",
        replace("items: [co-dong-truc-quan]", "items: [co-dong-truc-quan-2023]"),
        "co-dong-truc-quan-2023",
        "units[6].duties[0].items[0]",
        "không có nội dung mã «co-dong-truc-quan-2023»",
    ),
    case("unknown-lead", replace("    lead: qltdtt", "    lead: phong-the-thao"), "phong-the-thao", "items[1].lead", "«phong-the-thao»"),
    case(
        "lead-also-coordinating",
        replace("    lead: qlds\n    coordinating: [qlnt]", "    lead: qlds\n    coordinating: [qlnt, qlds]"),
        "[qlnt, qlds]",
        "items[4].coordinating",
        "cũng được ghi là phối hợp",
    ),
    case("duplicate-item-id", append_item(10, "giao-luu-the-thao"), "# mã nội dung thêm", "items[9].id", "«giao-luu-the-thao» bị trùng"),
    case("duplicate-unit-id", replace("  - id: qltdtt", "  - id: qlds  # trùng"), "# trùng", "units[4].id", "«qlds» bị trùng"),
    case("duplicate-item-number", replace("  - number: 9", "  - number: 8  # trùng"), "# trùng", "items[8].number", "số thứ tự 8 bị trùng"),
    case("window-outside-plan-year", replace("start: 2023-05-12, end: 2023-05-14", "start: 2024-05-12, end: 2024-05-14"), "start: 2024-05-12", "items[6].window", "nằm ngoài năm kế hoạch 2023"),
    case(
        "on-request-with-exact-window",
        replace("{precision: on_request, wording: theo yêu cầu của phía bạn}", "{precision: exact, start: 2023-06-01, end: 2023-06-02}"),
        "start: 2023-06-01",
        "items[7].window.precision",
        "on_request",
    ),
    case("event-without-date", replace("{precision: exact, start: 2023-04-13, end: 2023-04-15}", "{precision: all_year}"), "precision: all_year}", "items[5].window.precision", "sự kiện"),
    case("unit-without-duties", cut("    duties:\n      # Section IV: \"Phối hợp hướng dẫn", "\n\n  - id: ttttl"), "  - id: khtc", "units[5]", "«khtc» không có nhiệm vụ nào"),
    case(
        "reporting-before-execution",
        replace_in("\nstage_defaults:", "reporting: {anchor: end, working_days: 5}", "reporting: {anchor: end, working_days: -3}  # trước execution"),
        "# trước execution",
        "stage_defaults.reporting",
        "«reporting»",
        "«execution»",
    ),
    case("issuer-not-department", replace("  issuer: svhtt", "  issuer: ban-giam-doc"), "issuer: ban-giam-doc", "document.issuer", "svhtt"),
    case("unknown-report-recipient", replace("    - body: ban-tuyen-giao-thanh-uy", "    - body: ban-tuyen-giao"), "- body: ban-tuyen-giao", "reporting.recipients[1].body", "«ban-tuyen-giao»"),
]


# --- running the checker ---------------------------------------------------------------------


def check(path: Path) -> subprocess.CompletedProcess[str]:
    """`kehoach plan check PATH` as a real process, so a traceback would really show."""
    return subprocess.run(
        [sys.executable, "-m", "kehoach.cli", "plan", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "ke-hoach.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# What libyaml, PyYAML and pydantic say, or a class docstring: a plan author must never see it.
UNTRANSLATED = ("Input should", "Field required", "Value error", "while parsing", "while scanning", "but found", "could not", "section II", "A content item")


def assert_rejected(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert "Kế hoạch không hợp lệ" in result.stderr
    for english in UNTRANSLATED:
        assert english not in result.stderr, result.stderr


def test_the_shipped_plan_is_valid(tmp_path):
    """The base every case edits must pass, or each case would test nothing."""
    result = check(write(tmp_path, PLAN))
    assert result.returncode == 0, result.stderr
    assert " lỗi: " not in result.stderr


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_broken_plan_is_rejected_with_a_located_problem(c: Case, tmp_path):
    path = write(tmp_path, c.text)
    result = check(path)
    assert_rejected(result)
    first = ERROR_LINE.match(result.stderr)
    assert first is not None, f"stderr does not start with a located error:\n{result.stderr}"
    assert Path(first["file"]).resolve() == path.resolve(), result.stderr
    assert int(first["line"]) == c.line, f"first error should be on line {c.line}:\n{result.stderr}"
    first_line = result.stderr[first.start() :].splitlines()[0]
    assert " — cần: " in first_line, first_line
    for words in c.expect:
        assert words in result.stderr, f"{words!r} not in:\n{result.stderr}"


def test_a_directory_is_not_a_plan(tmp_path):
    result = check(tmp_path)
    assert_rejected(result)
    assert result.stderr.startswith(f"{tmp_path}: lỗi: "), result.stderr
    assert "thư mục" in result.stderr


def test_a_missing_file_is_named(tmp_path):
    missing = tmp_path / "khong-co.yaml"
    result = check(missing)
    assert_rejected(result)
    assert result.stderr.startswith(f"{missing}: lỗi: "), result.stderr
    assert "không tìm thấy tệp" in result.stderr


TWO_ERRORS = [
    # (edit, marker of the first error, marker of the second)
    pytest.param(
        replace("emails: [qlnt@svhtt.hanoi.example]", "emails: [qlnt at svhtt.hanoi.example]",
                replace("start: 2023-05-12, end: 2023-05-14", "start: 2023-05-12, end: 2023-05-02")),
        "qlnt at svhtt", "end: 2023-05-02", id="two-schema-errors",
    ),
    pytest.param(
        replace("counterparts: [phai-doan-eu]", "counterparts: [dsq-duc]",
                replace("indicators: [courses_held, trainees, funding_spent]", "indicators: [courses_held, trainee, funding_spent]")),
        "trainee,", "dsq-duc", id="two-rule-errors",
    ),
    pytest.param(
        insert_after("  place: Hà Nội", "  place: Hà Nội (lần hai)\n",
                     replace("emails: [qlnt@svhtt.hanoi.example]", "emails: [qlnt at svhtt.hanoi.example]")),
        "(lần hai)", "qlnt at svhtt", id="duplicate-key-and-schema-error",
    ),
    pytest.param(
        replace("  - id: qlnt", "  - id: QLNT", replace("    lead: qltdtt", "    leed: qltdtt")),
        "id: QLNT", "leed: qltdtt", id="bad-id-and-unknown-key",
    ),
]


@pytest.mark.parametrize(("text", "first", "second"), TWO_ERRORS)
def test_all_problems_are_reported_at_once(text, first, second, tmp_path):
    path = write(tmp_path, text)
    result = check(path)
    assert_rejected(result)
    lines = [int(m["line"]) for m in ERROR_LINE.finditer(result.stderr)]
    assert line_of(text, first) in lines and line_of(text, second) in lines, result.stderr
    assert lines[0] == line_of(text, first), result.stderr


def test_there_are_enough_cases():
    assert len(CASES) + len(TWO_ERRORS) + 2 >= 32
    assert len({c.id for c in CASES}) == len(CASES)


# --- property: no edit makes the loader raise -------------------------------------------------

PLAN_LINES = PLAN.splitlines(keepends=True)


@st.composite
def mutated_plans(draw) -> str:
    text = PLAN
    kind = draw(st.sampled_from(["delete-line", "duplicate-line", "insert-chars", "truncate"]))
    if kind == "delete-line":
        n = draw(st.integers(0, len(PLAN_LINES) - 1))
        text = "".join(PLAN_LINES[:n] + PLAN_LINES[n + 1 :])
    elif kind == "duplicate-line":
        n = draw(st.integers(0, len(PLAN_LINES) - 1))
        text = "".join(PLAN_LINES[: n + 1] + PLAN_LINES[n:])
    elif kind == "insert-chars":
        offset = draw(st.integers(0, len(PLAN)))
        junk = draw(
            st.text(
                st.one_of(
                    st.characters(codec="utf-8"),
                    st.characters(min_codepoint=0, max_codepoint=0x1F),
                    st.sampled_from(list(":-[]{}&*!|>'\"#%@`\t\n ,?")),
                ),
                min_size=1,
                max_size=8,
            )
        )
        text = PLAN[:offset] + junk + PLAN[offset:]
    else:
        raw = PLAN.encode("utf-8")
        cut_at = draw(st.integers(0, len(raw)))
        text = raw[:cut_at].decode("utf-8", errors="ignore")
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_plans())
def test_random_edits_never_raise(text):
    result = load_plan_text(text, "x.yaml")
    if result.ok:
        assert result.plan is not None
        return
    assert result.errors, "not a valid plan, yet no error"
    for problem in result.errors:
        assert problem.location is not None and problem.location.line >= 1, problem
        assert problem.location.file == "x.yaml"
        assert problem.message


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "ke-hoach.yaml"
    os.mkfifo(fifo)
    result = check(fifo)  # would block for ever if the file were opened
    assert_rejected(result)
    assert result.stderr.startswith(f"{fifo}: lỗi: ") and "không phải tệp thường" in result.stderr


def test_an_endless_device_is_refused_without_reading_it():
    result = check(Path("/dev/zero"))
    assert_rejected(result)
    assert "không phải tệp thường" in result.stderr


def test_a_file_over_the_limit_is_refused_having_read_no_more_than_the_limit(tmp_path, monkeypatch):
    import plan.load as load

    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * 4096 + b"\n")
    monkeypatch.setattr(load, "MAX_BYTES", 1024)
    text, problem = load._read_text(big, str(big))
    assert text == "" and problem is not None and "tệp quá lớn" in problem.render()


def test_a_control_byte_is_located_at_its_own_line_and_column(tmp_path):
    path = tmp_path / "ke-hoach.yaml"
    path.write_text(PLAN.replace("  type: Kế hoạch", "  type: \"Kế\x07 hoạch\"", 1), encoding="utf-8")
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if "\x07" in text)
    result = check(path)
    assert_rejected(result)
    assert result.stderr.startswith(f"{path}:{line}:"), result.stderr
    assert not result.stderr.startswith(f"{path}:1:1:")


def test_a_nul_byte_is_located_at_its_column(tmp_path):
    path = tmp_path / "ke-hoach.yaml"
    path.write_bytes(PLAN.replace("  type: Kế hoạch", "  type: Kế\x00 hoạch", 1).encode("utf-8"))
    result = check(path)
    assert_rejected(result)
    assert f"{path}:14:11:" in result.stderr and "NUL" in result.stderr, result.stderr


def test_a_text_field_has_a_length_limit(tmp_path):
    path = tmp_path / "ke-hoach.yaml"
    path.write_text(PLAN.replace("  type: Kế hoạch", "  type: " + "x" * 6000, 1), encoding="utf-8")
    result = check(path)
    assert_rejected(result)
    assert "document.type" in result.stderr and "tối đa 5000 ký tự" in result.stderr, result.stderr

"""The report's life in the ledger (drafts, returns, approvals), and the approval's decisions, on
SQLite and PostgreSQL (KEHOACH_TEST_POSTGRES_URL)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
import sqlalchemy as sa

from plan.events import EventKind, NewEvent, PlanRef
from plan.ledger import SCHEMA_VERSION, Ledger
from plan.report_approval import ApprovalRefused, decide, parse_number
from plan.report_book import ReportBook, StoredFile

UTC = dt.UTC
REF = PlanRef("hanoi-svhtt-ttdn-2023", "0123456789abcdef")
NOW = dt.datetime(2023, 12, 15, 1, 0, tzinfo=UTC)
AS_OF = dt.date(2023, 12, 15)


@pytest.fixture
def book(database_url):
    with Ledger(database_url, clock=lambda: NOW) as ledger:
        yield ReportBook(ledger, clock=lambda: NOW)


def _files(tmp_path, version: int) -> tuple[StoredFile, ...]:
    found = []
    for kind in ("pdf", "docx", "xlsx"):
        path = tmp_path / f"v{version}" / f"bao-cao.{kind}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(f"{kind} {version}".encode())
        found.append(StoredFile.of(path, kind))
    return tuple(found)


def test_drafts_are_numbered_per_period_and_read_back_with_their_files_and_placeholders(book, tmp_path):
    asks = unicodedata.normalize("NFD", "nguyên nhân chậm tiến độ của nội dung 5")
    first = book.record_draft(REF.plan_id, "2023", AS_OF, _files(tmp_path, 1), (asks,), "Văn phòng")
    second = book.record_draft(REF.plan_id, "2023", AS_OF, _files(tmp_path, 2), (), "Văn phòng")
    other = book.record_draft(REF.plan_id, "2023-H1", dt.date(2023, 6, 15), _files(tmp_path, 3), (), "Văn phòng")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    drafts = book.drafts(REF.plan_id, "2023")
    assert [d.version for d in drafts] == [1, 2]
    assert drafts[0].placeholders == (unicodedata.normalize("NFC", asks),)
    assert drafts[0].made_at == NOW and drafts[0].as_of == AS_OF
    assert drafts[0].file("pdf") == first.file("pdf") and drafts[0].file("pdf").unchanged()
    assert book.latest_draft(REF.plan_id, "2023") == second
    assert book.latest_draft(REF.plan_id, "2023-Q3") is None


def test_a_return_and_approvals_are_kept_in_order_and_the_latest_approval_is_in_force(book, tmp_path):
    draft = book.record_draft(REF.plan_id, "2023", AS_OF, _files(tmp_path, 1), (), "Văn phòng")
    returned = book.record_return(draft, "Phó Giám đốc", "Bổ sung số liệu nội dung 7")
    assert book.approval(REF.plan_id, "2023") is None
    pdf = draft.file("pdf")
    first = book.record_approval(
        draft, number="125", number_symbol="125/BC-SVHTT", signed_on=dt.date(2023, 12, 18), signer="Đỗ Đình Hồng", by="Văn phòng", sent_pdf=pdf
    )
    second = book.record_approval(
        draft, number="126", number_symbol="126/BC-SVHTT", signed_on=dt.date(2023, 12, 19), signer="Đỗ Đình Hồng", by="Văn phòng",
        sent_pdf=pdf, signed_pdf=pdf, replaces=first.id,
    )
    reviews = book.reviews(REF.plan_id, "2023")
    assert [r.decision for r in reviews] == ["returned", "approved", "approved"]
    assert reviews[0] == returned and reviews[0].comments == "Bổ sung số liệu nội dung 7"
    assert book.approval(REF.plan_id, "2023") == second
    assert second.replaces == first.id and second.signed_pdf == pdf and second.sent_pdf == pdf and second.draft_version == 1


def test_events_recorded_after_a_draft_and_dated_within_it_are_counted(book, tmp_path):
    ledger = book.ledger
    ledger.append(REF, [NewEvent(key="a", item="i", kind=EventKind.OVERDUE, effective_date=dt.date(2023, 12, 1))])
    draft = book.record_draft(REF.plan_id, "2023", AS_OF, _files(tmp_path, 1), (), "Văn phòng")
    assert book.events_since(draft) == 0
    ledger.append(REF, [NewEvent(key="b", item="i", kind=EventKind.OVERDUE, effective_date=dt.date(2024, 1, 2))])
    assert book.events_since(draft) == 0, "dated after the draft's day: the draft still stands"
    ledger.append(REF, [NewEvent(key="c", item="i", kind=EventKind.OVERDUE, effective_date=dt.date(2023, 12, 10))])
    assert book.events_since(draft) == 1


def test_the_report_tables_come_with_the_schema(database_url):
    with Ledger(database_url) as ledger, ledger.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert {"report_drafts", "report_reviews"} <= names
        assert conn.exec_driver_sql("SELECT version FROM kehoach_schema").scalar() == SCHEMA_VERSION


# -- deciding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("given, expected", [("125", "125"), (" 0125 ", "125"), ("125/BC-SVHTT", "125"), ("125/bc-svhtt", "125")])
def test_a_number_is_the_records_office_number(given, expected):
    assert parse_number(given, "/BC-SVHTT") == expected


@pytest.mark.parametrize("given", ["", "  ", None, "abc", "0", "12a", "125/KH-SVHTT", "-3", "1234567"])
def test_anything_else_is_refused_naming_the_number(given):
    with pytest.raises(ApprovalRefused) as refused:
        parse_number(given, "/BC-SVHTT")
    assert refused.value.field == "number" and "ví dụ 125" in refused.value.expected


def test_approval_needs_a_draft_without_placeholders_or_a_signed_pdf_without_any(book, tmp_path):
    with pytest.raises(ApprovalRefused, match="chưa có dự thảo"):
        decide("năm 2023", None, None, "125")
    draft = book.record_draft(REF.plan_id, "2023", AS_OF, _files(tmp_path, 1), ("nguyên nhân chậm",), "Văn phòng")
    with pytest.raises(ApprovalRefused, match="còn 1 chỗ cần bổ sung: nguyên nhân chậm"):
        decide("năm 2023", draft, None, "125")
    with pytest.raises(ApprovalRefused, match="bản đã ký vẫn còn chỗ cần bổ sung: bài học"):
        decide("năm 2023", draft, None, "125", read_signed=lambda: ["bài học"])
    assert decide("năm 2023", draft, None, "125", read_signed=lambda: []).existing is None


def test_a_draft_the_ledger_has_moved_past_is_not_rendered_again_as_approved(book, tmp_path):
    draft = book.record_draft(REF.plan_id, "2023", AS_OF, _files(tmp_path, 1), (), "Văn phòng")
    with pytest.raises(ApprovalRefused, match="ghi thêm 2 sự kiện"):
        decide("năm 2023", draft, None, "125", changed_since=lambda d: 2)
    assert decide("năm 2023", draft, None, "125", read_signed=lambda: [], changed_since=lambda d: 2).number == "125"


def test_the_same_approval_again_is_a_repeat_another_number_needs_replace(book, tmp_path):
    draft = book.record_draft(REF.plan_id, "2023", AS_OF, _files(tmp_path, 1), (), "Văn phòng")
    approval = book.record_approval(
        draft, number="125", number_symbol="125/BC-SVHTT", signed_on=dt.date(2023, 12, 18), signer="A", by="B", sent_pdf=draft.file("pdf")
    )
    unread = []
    assert decide("năm 2023", draft, approval, "125", read_signed=lambda: unread.append(1) or []).existing == approval
    assert not unread, "a repeat does not read the signed file again"
    with pytest.raises(ApprovalRefused) as refused:
        decide("năm 2023", draft, approval, "126")
    assert "đã được duyệt với số 125/BC-SVHTT (ký ngày 18/12/2023)" in str(refused.value) and "--replace" in str(refused.value)
    again = decide("năm 2023", draft, approval, "126", replace=True)
    assert again.existing is None and again.replaces == approval

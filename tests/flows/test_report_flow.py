"""The upward report on the sample year: a draft (files, numbers, the notice to the compiling unit)
that reaches no recipient; once approved, exactly one mail per recipient, with the approved PDF and
the annex and never the DOCX; the same approval again sends nothing, a correction sends again."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from flows import resources
from plan.events import EventKind, plan_ref
from plan.report_approval import ApprovalRefused
from plan.report_book import ReportBook, StoredFile
from plan.scenario import load_scenario, scenario_events

SAMPLE = Path(__file__).resolve().parents[2] / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"
YEAR_END = dt.date(2023, 12, 31)
SIGNED_ON = dt.date(2023, 12, 20)


def _participants_in_window(events, window) -> int:
    """Independently of reports/: the latest execution outcome per occurrence dated in the window."""
    latest = {}
    for event in events:
        if event.kind == EventKind.OUTCOME and event.stage == "execution" and window[0] <= event.effective_date <= window[1]:
            latest[(event.item, event.occurrence)] = event
    return sum(e.payload.get("indicators", {}).get("participants", 0) for e in latest.values())


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _sample(plan) -> None:
    scenario, _ = load_scenario(SAMPLE)
    resources.ledger().append(plan_ref(plan), scenario_events(plan, scenario, [], YEAR_END, actor="kịch bản"))


def _recipients(plan) -> set[str]:
    bodies = {b.id: b for b in plan.bodies}
    return {str(e) for r in plan.reporting.recipients for e in bodies[r.body].emails}


def _to(received) -> list[str]:
    return [r.message["To"].addresses[0].addr_spec for r in received]


def _signed_pdf(path: Path, text: str) -> Path:
    from weasyprint import HTML

    HTML(string=f"<p>Số: 125/BC-SVHTT</p><p>{text}</p>").write_pdf(path)
    return path


def test_the_annual_draft_is_written_recorded_and_told_to_the_compiling_unit_only(prefect_api, kehoach_home, plan, smtp):
    from flows.report import upward_report

    _sample(plan)
    result = upward_report(period="2023", as_of=YEAR_END)
    files = {"pdf": result.files.pdf, "docx": result.files.docx, "xlsx": result.files.xlsx}
    assert all(f.exists() and f.stat().st_size > 0 for f in files.values())
    if shutil.which("pdftotext"):
        text = _pdf_text(files["pdf"])
        # The whole year, by the day things happened: item 2's 1,200 participants, recorded on 15/12
        # (after Decree 09's 14/12 cut-off), count in the annual report.
        participants = _participants_in_window(resources.ledger().events(plan.id), (dt.date(2023, 1, 1), dt.date(2023, 12, 31)))
        assert participants == 44100
        assert "44.100" in text  # Vietnamese thousands separator
        assert "/BC-SVHTT" in text and "Đỗ Đình Hồng" in text
    draft = ReportBook(resources.ledger()).latest_draft(plan.id, "2023")
    assert draft is not None and draft.version == 1 and draft.as_of == YEAR_END
    assert {f.kind: Path(f.path) for f in draft.files} == {k: f.resolve() for k, f in files.items()}
    compiler = plan.unit(plan.reporting.compiled_by)
    received = smtp.handler.received
    assert _to(received) == [str(e) for e in compiler.emails], "the draft goes to the compiling unit, to no recipient"
    notice = received[0].message
    assert [p.get_filename() for p in notice.iter_attachments()] == [files["pdf"].name]
    assert "kehoach report approve --period 2023" in notice.get_body(("plain",)).get_content()
    again = upward_report(period="2023", as_of=YEAR_END)
    assert again.draft == draft and len(smtp.handler.received) == 1, "the same draft is neither made nor told twice"


def test_only_an_approval_sends_the_report_once_per_recipient_and_a_correction_again(kehoach_home, plan, smtp, tmp_path):
    from flows.report_job import approve_report, make_report

    _sample(plan)
    run = make_report(period="2023", as_of=YEAR_END)
    assert not set(_to(smtp.handler.received)) & _recipients(plan), "a draft alone reaches no recipient"
    before = len(smtp.handler.received)

    # The draft holds the drafter's placeholders: it is approved with the signed PDF made from it.
    signed = _signed_pdf(tmp_path / "bao-cao-da-ky.pdf", "Hà Nội, ngày 20 tháng 12 năm 2023")
    done = approve_report("2023", "125", signed=signed, signed_on=SIGNED_ON, by="Văn phòng")
    mails = smtp.handler.received[before:]
    assert sorted(_to(mails)) == sorted(_recipients(plan)) and not done.repeated
    for received in mails:
        message = received.message
        subject = str(message["Subject"])
        assert subject.startswith("V/v báo cáo kết quả thực hiện Kế hoạch số 326/KH-SVHTT") and "125/BC-SVHTT" in subject
        names = [p.get_filename() for p in message.iter_attachments()]
        assert [Path(n).suffix for n in names] == [".pdf"], "only the signed PDF leaves: no DOCX, no internal XLSX"
        body = message.get_body(("plain",)).get_content()
        assert body.startswith("Kính gửi:") and "Báo cáo số 125/BC-SVHTT ngày 20/12/2023" in body
        compiler = plan.unit(plan.reporting.compiled_by)
        assert [a.addr_spec for a in message["Reply-To"].addresses] == [str(e) for e in compiler.emails]
        assert message["From"].addresses[0].display_name == plan.department.name
        html = message.get_body(("html",)).get_content()
        for text in (subject, body, html, message["From"].addresses[0].display_name):  # the address is the configured mailbox
            assert "kehoach" not in text.lower() and "prefect" not in text.lower()
    ubnd = next(m.message for m in mails if m.message["To"].addresses[0].addr_spec == "vanthu@ubnd.hanoi.example")
    assert "(qua Sở Thông tin và Truyền thông Hà Nội)" in ubnd.get_body(("plain",)).get_content()
    assert "vanthu@stttt.hanoi.example" in {a.addr_spec for a in ubnd["Cc"].addresses}
    if shutil.which("pdftotext"):
        pdf = next(p for p in mails[0].message.iter_attachments() if p.get_filename().endswith(".pdf"))
        sent = kehoach_home / "sent.pdf"
        sent.write_bytes(pdf.get_content())
        text = _pdf_text(sent)
        assert "Số: 125/BC-SVHTT" in text and "ngày 20 tháng 12 năm 2023" in text
    assert run.files.pdf.read_bytes() != done.attachments[0].read_bytes(), "the draft itself is left as it was"

    again = approve_report("2023", "125", signed=signed, signed_on=SIGNED_ON, by="Văn phòng")
    assert again.repeated and again.queued == () and len(smtp.handler.received) == before + 2, "the same approval sends nothing again"

    with pytest.raises(ApprovalRefused, match="đã được duyệt với số 125/BC-SVHTT"):
        approve_report("2023", "126", signed=signed, signed_on=SIGNED_ON)
    corrected = approve_report("2023", "126", signed=signed, signed_on=SIGNED_ON, replace=True)
    assert corrected.approval.replaces == done.approval.id
    assert sorted(_to(smtp.handler.received[before + 2 :])) == sorted(_recipients(plan)), "a correction goes to each recipient again"
    assert "126/BC-SVHTT" in str(smtp.handler.received[-1].message["Subject"])


def test_a_draft_with_placeholders_is_approved_only_with_a_signed_pdf_that_has_none(kehoach_home, plan, smtp, tmp_path):
    from flows.report_job import approve_report, make_report

    _sample(plan)
    run = make_report(period="2023", as_of=YEAR_END, send=False)
    reports = ReportBook(resources.ledger())
    files = tuple(StoredFile.of(p, k) for k, p in (("pdf", run.files.pdf), ("docx", run.files.docx), ("xlsx", run.files.xlsx)))
    reports.record_draft(plan.id, "2023", YEAR_END, files, ("nguyên nhân chậm tiến độ của nội dung 5",), "Văn phòng")

    with pytest.raises(ApprovalRefused, match="còn 1 chỗ cần bổ sung: nguyên nhân chậm tiến độ của nội dung 5") as refused:
        approve_report("2023", "125")
    assert refused.value.field == "period"
    still = _signed_pdf(tmp_path / "con-thieu.pdf", "Nguyên nhân: [Cần bổ sung: nguyên nhân chậm tiến độ của nội dung 5]")
    with pytest.raises(ApprovalRefused, match="bản đã ký vẫn còn chỗ cần bổ sung"):
        approve_report("2023", "125", signed=still)
    not_pdf = tmp_path / "ban-ky.pdf"
    not_pdf.write_text("không phải PDF", encoding="utf-8")
    with pytest.raises(ApprovalRefused, match="không phải tệp PDF") as refused:
        approve_report("2023", "125", signed=not_pdf)
    assert refused.value.field == "signed"
    assert reports.approval(plan.id, "2023") is None and not smtp.handler.received, "nothing recorded, nothing sent"

    signed = _signed_pdf(tmp_path / "ban-da-ky.pdf", "Nguyên nhân: thời tiết.")
    done = approve_report("2023", "125", signed=signed, signed_on=SIGNED_ON, signer="Đỗ Đình Hồng")
    assert done.approval.signed_pdf == StoredFile.of(signed, "pdf")
    for received in smtp.handler.received:
        attached = {p.get_filename(): p.get_content() for p in received.message.iter_attachments()}
        assert attached["ban-da-ky.pdf"] == signed.read_bytes() and not any(n.endswith(".docx") for n in attached)
        assert "bản đã ký" in received.message.get_body(("plain",)).get_content()


def test_approval_is_refused_without_a_draft_or_a_number(kehoach_home, plan, smtp):
    from flows.report_job import approve_report

    with pytest.raises(ApprovalRefused, match="chưa có dự thảo báo cáo năm 2023"):
        approve_report("2023", "125")
    with pytest.raises(ApprovalRefused, match="chưa có số văn bản"):
        approve_report("2023", " ")
    assert not smtp.handler.received


def test_the_recipients_mail_cannot_be_made_from_a_draft(kehoach_home, plan, tmp_path):
    from notifications.report_mail import NotApproved, approved_report_mails
    from plan.calendar import ReportingPeriod
    from plan.report_book import Review

    returned = Review(id=1, plan_id=plan.id, period="2023", draft_version=1, decision="returned", decided_by="A", decided_at=dt.datetime.now(dt.UTC))
    with pytest.raises(NotApproved):
        approved_report_mails(plan, ReportingPeriod.parse("2023"), returned, (tmp_path / "a.pdf",))
    approved = Review(
        id=2, plan_id=plan.id, period="2023", draft_version=1, decision="approved", decided_by="A", decided_at=dt.datetime.now(dt.UTC),
        number="125", number_symbol="125/BC-SVHTT", signed_on=SIGNED_ON,
    )
    for working_copy in ("a.docx", "a.xlsx"):
        with pytest.raises(NotApproved, match="chỉ gửi bản PDF"):
            approved_report_mails(plan, ReportingPeriod.parse("2023"), approved, (tmp_path / "a.pdf", tmp_path / working_copy))


def test_a_period_without_events_still_gives_a_report_that_says_so(prefect_api, kehoach_home, plan, tmp_path):
    from flows.report import upward_report

    result = upward_report(period="2023-Q1", as_of=dt.date(2023, 3, 31), send=False)
    assert result.events_in_period == 0 and result.sent == ()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", result.files.pdf, "-"], capture_output=True, text=True, check=True).stdout
        assert "chưa ghi nhận" in text

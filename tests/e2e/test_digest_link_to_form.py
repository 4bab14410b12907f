"""From the digest in a unit's mailbox to the form, in a real browser (issue 13 §4), without a Prefect
server: what `kehoach digest` does on a machine with no server configured.

The ledger holds the sample year's outcomes up to Thursday 10/08/2023; the forms' application is
served by uvicorn on 127.0.0.1 (started and stopped by this test, through its handle) and its
address is KEHOACH_FORMS_URL, so the digest job writes real unit digests with a link per stage into
the maildir. From Phòng TCPC's digest the test takes the link to the execution stage of the training
course held on 10/08 (due 11/08), opens it in Debian's Chromium (Playwright) the next day, fills it
wrongly (a negative number, words in a number field), sees the errors beside the fields, fills it
rightly with a note holding markup, sends it and sees the confirmation. The ledger then has that
outcome once, and once still after the form is sent again. A tampered link, an expired one and
another unit's link to the same stage each open a page that says so (403, 410, 403). The next
week's digest and the annual report show the note as the characters typed: escaped in the mail's
HTML, literal in its text part and in the report's PDF.

Screenshots are kept in the test's tmp dir (printed; $KEHOACH_TEST_ARTIFACTS/<test> when set) and the
last three are copied to pytest's base tmp dir, `digest-link-to-form-screenshots/`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import html
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote

import pytest
from stack import free_port, on_uvicorn

from flows import resources
from flows.digest_job import make_digests
from flows.report_job import make_report
from kehoach.forms.app import create_app
from kehoach.settings import Settings
from notifications.form_links import FormGrant, LinkRefused, read_form, sign
from plan.events import EventKind, plan_ref
from plan.load import DEFAULT_PLAN, load_plan
from plan.scenario import load_scenario, scenario_events

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"
SECRET = "e2e-digest-link-secret-0123456789"
DIGEST_DAY = dt.date(2023, 8, 10)  # Thursday: the course is held today, its execution is due tomorrow
FORM_DAY = dt.date(2023, 8, 11)  # the unit opens its mail the next day
NEXT_DIGEST_DAY = dt.date(2023, 8, 17)
UNIT, OTHER_UNIT = "tcpc", "ttttl"
ITEM, OCCURRENCE, STAGE = "tap-huan-thong-tin-doi-ngoai", "2023-08-10", "execution"
NOTE = "<b>đậm</b><script>alert(1)</script>"
REPORTER = "Trần Văn Minh"
CHROMIUM = os.environ.get("KEHOACH_CHROMIUM", "/usr/bin/chromium")  # as conftest.py: Debian's, never downloaded
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 30_000


# -- the world: settings, ledger, the forms served ------------------------------------------------------


@pytest.fixture(name="settings")
def fixture_settings(tmp_path, monkeypatch) -> Iterator[Settings]:
    """KEHOACH_HOME in tmp, forms configured at a free port on 127.0.0.1, no Prefect server, no SMTP
    (the mail goes to the maildir); the ledger holds the sample year up to the digest's day."""
    port = free_port()
    env = {"KEHOACH_HOME": str(tmp_path / "home"), "KEHOACH_FORMS_SECRET": SECRET, "KEHOACH_FORMS_URL": f"http://127.0.0.1:{port}"}
    for name in ("PREFECT_API_URL", "KEHOACH_DATABASE_URL", "KEHOACH_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_mapping(env)
    assert not settings.has_server and settings.has_forms
    resources.use(settings, interactive=True)
    plan = load_plan(DEFAULT_PLAN).plan
    assert plan is not None
    scenario, problems = load_scenario(SCENARIO)
    assert scenario is not None, problems
    ledger = resources.ledger()
    assert ledger.append(plan_ref(plan), scenario_events(plan, scenario, [], DIGEST_DAY, actor="kịch bản"))
    try:
        yield settings
    finally:
        resources.reset()


@pytest.fixture(name="served")
def fixture_served(settings: Settings):
    """The forms' application on uvicorn, in a thread of this process, at KEHOACH_FORMS_URL; the
    date it sees is FORM_DAY. Stopped through the server's handle."""
    assert settings.forms_url is not None
    port = int(settings.forms_url.rsplit(":", 1)[1])
    app = create_app(settings, today=lambda: FORM_DAY)
    with on_uvicorn(app, port, timeout=30, log_level="warning"):
        yield app


# -- reading the mail -----------------------------------------------------------------------------------


def _mails(maildir: Path) -> list[EmailMessage]:
    found = []
    for path in sorted((maildir / "new").iterdir()):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def _digest_of(maildir: Path, address: str, subject_part: str) -> EmailMessage:
    mine = [m for m in _mails(maildir) if address in str(m["To"]) and subject_part in str(m["Subject"])]
    assert len(mine) == 1, f"{len(mine)} digests to {address} with «{subject_part}»: {[str(m['Subject']) for m in _mails(maildir)]}"
    return mine[0]


def _parts(message: EmailMessage) -> tuple[str, str]:
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None, "a digest has an HTML and a text part"
    return html_part.get_content(), text_part.get_content()


def _form_links(text: str, base: str) -> list[str]:
    return sorted(set(re.findall(re.escape(base) + r"/bieu-mau/[A-Za-z0-9_.%-]+", text)))


def _grant(link: str) -> FormGrant | None:
    try:
        return read_form(unquote(link.rsplit("/", 1)[1]), SECRET)
    except LinkRefused:
        return None


def _tampered(link: str) -> str:
    """The link with one character of its token's signature flipped."""
    head, token = link.rsplit("/", 1)
    at = len(token) - 5
    return f"{head}/{token[:at]}{'A' if token[at] != 'A' else 'B'}{token[at + 1:]}"


@contextlib.contextmanager
def _signed_days_ago(days: int) -> Iterator[None]:
    """itsdangerous stamps a token with the time it is signed: sign as if `days` ago."""
    from itsdangerous.timed import TimestampSigner

    real = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: int(time.time()) - days * 86_400  # type: ignore[method-assign]
    try:
        yield
    finally:
        TimestampSigner.get_timestamp = real  # type: ignore[method-assign]


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- the test --------------------------------------------------------------------------------------------


def test_a_unit_follows_its_digest_link_to_the_form_and_the_note_stays_text(settings, served, screenshots, tmp_path, tmp_path_factory):
    from playwright import sync_api

    expect = sync_api.expect
    app = served
    base = settings.forms_url
    assert base is not None
    ledger = resources.ledger()
    plan = load_plan(DEFAULT_PLAN).plan
    assert plan is not None

    def outcomes() -> list:
        return [e for e in ledger.events(plan.id, item=ITEM) if e.kind == EventKind.OUTCOME and e.occurrence == OCCURRENCE and e.stage == STAGE]

    # The week's digests, in this process, into the maildir.
    run = make_digests(as_of=DIGEST_DAY)
    assert run.queued and len(run.delivery.sent) == len(run.queued)
    maildir = settings.maildir
    unit = plan.unit(UNIT)
    digest = _digest_of(maildir, unit.emails[0], "tuần 32/2023")
    digest_html, digest_text = _parts(digest)
    html_links, text_links = _form_links(html.unescape(digest_html), base), _form_links(digest_text, base)
    assert html_links and set(html_links) == set(text_links), "the HTML and text parts carry the same form links"
    granted = {link: _grant(link) for link in html_links}
    assert all(g is not None and g.unit == UNIT and g.plan_id == plan.id for g in granted.values()), granted
    wanted = [link for link, g in granted.items() if g and (g.item, g.occurrence, g.stage) == (ITEM, OCCURRENCE, STAGE)]
    assert len(wanted) == 1, f"one link to {ITEM} {OCCURRENCE} {STAGE} in {unit.short_name}'s digest: {granted}"
    link = wanted[0]
    assert "việc cần làm tuần này" in digest_text.lower() and "kehoach record" not in digest_text and "Prefect" not in digest_text
    assert not outcomes()

    other = sign(FormGrant(plan.id, OTHER_UNIT, ITEM, OCCURRENCE, STAGE), SECRET)
    with _signed_days_ago(settings.forms_link_days + 1):
        expired = sign(FormGrant(plan.id, UNIT, ITEM, OCCURRENCE, STAGE), SECRET)
    refused_links = {
        "tampered": (_tampered(link), 403, "Đường dẫn không dùng được", "không hợp lệ"),
        "expired": (f"{base}/bieu-mau/{expired}", 410, "Đường dẫn đã hết hạn", "hết hạn"),
        "other-unit": (f"{base}/bieu-mau/{other}", 403, "Đường dẫn không dùng được", "không báo cáo nội dung này"),
    }
    blocked: list[str] = []

    def only_the_forms(route) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    shots: list[Path] = []

    def shot(page, name: str) -> None:
        path = screenshots / f"{len(shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    dialogs: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # JavaScript on: were the note's <script> ever put into a page as markup, it would run.
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
            context.set_default_timeout(TIMEOUT_MS)
            context.route("**/*", only_the_forms)
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            response = page.goto(link)
            assert response is not None and response.status == 200
            expect(page.get_by_role("heading", name="Báo cáo bước Triển khai")).to_be_visible()
            expect(page.locator(".about")).to_contain_text("11/08/2023")  # the due date
            shot(page, "form")

            # Wrongly: a negative number, words in a number field.
            page.get_by_label("Số khóa tập huấn, bồi dưỡng").fill("-1")
            page.get_by_label("Số học viên").fill("một trăm năm mươi")
            page.get_by_label("Ghi chú").fill(NOTE)
            page.get_by_label("Người báo cáo").fill(REPORTER)
            page.get_by_role("button", name="Gửi kết quả").click()
            expect(page.get_by_role("alert")).to_contain_text("Kết quả chưa được ghi")
            courses_error = page.locator("#f-indicators-courses-held-error")
            trainees_error = page.locator("#f-indicators-trainees-error")
            expect(courses_error).to_be_visible()
            expect(trainees_error).to_be_visible()
            # Beside its field, in Vietnamese (a letter only Vietnamese writes), what was typed kept.
            for error in (courses_error, trainees_error):
                assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", error.inner_text().lower()), error.inner_text()
            assert page.locator(".field:has(#f-indicators-courses-held) #f-indicators-courses-held-error").count() == 1
            expect(page.get_by_label("Số học viên")).to_have_value("một trăm năm mươi")
            expect(page.get_by_label("Ghi chú")).to_have_value(NOTE)
            assert not outcomes(), "a refused form records nothing"
            shot(page, "errors")

            # Rightly.
            page.get_by_label("Hoàn thành").check()
            page.get_by_label("Ngày thực hiện").fill("2023-08-10")
            page.get_by_label("Số khóa tập huấn, bồi dưỡng").fill("1")
            page.get_by_label("Số học viên").fill("150")
            page.get_by_label("Kinh phí đã sử dụng").fill("65")
            page.get_by_role("button", name="Gửi kết quả").click()
            expect(page.get_by_role("status")).to_contain_text("Đã ghi nhận kết quả")
            recorded = page.locator(".recorded")
            expect(recorded).to_contain_text(NOTE)  # shown as the characters typed
            expect(recorded).to_contain_text(REPORTER)
            assert page.locator(".recorded b, .recorded script").count() == 0, "the note became markup"
            shot(page, "recorded")
            assert len(outcomes()) == 1

            # The same form again: nothing recorded twice.
            page.goto(link)
            page.get_by_label("Người báo cáo").fill(REPORTER)
            page.get_by_role("button", name="Gửi kết quả").click()
            expect(page.get_by_role("status")).to_contain_text("đã được ghi nhận từ trước")
            assert len(outcomes()) == 1

            # Links that open nothing, each with a page that says why.
            for name, (bad, status, title, why) in refused_links.items():
                response = page.goto(bad)
                assert response is not None and response.status == status, (name, response and response.status)
                expect(page.get_by_role("heading", name=title)).to_be_visible()
                expect(page.get_by_role("alert")).to_contain_text(why)
                expect(page.locator("form")).to_have_count(0)
                shot(page, f"refused-{name}")
            context.close()
        finally:
            browser.close()
    assert not blocked, blocked
    assert not dialogs, f"a script ran in the form: {dialogs}"

    [outcome] = outcomes()
    assert outcome.payload["note"] == NOTE
    assert outcome.payload["indicators"] == {"courses_held": 1, "trainees": 150, "funding_spent": 65}
    assert outcome.payload["result"] == "done" and outcome.effective_date == FORM_DAY
    assert outcome.actor.startswith(f"{REPORTER} — {unit.short_name} ({UNIT}), biểu mẫu, từ 127.0.0.1")
    assert outcome.id in {e.id for e in app.state.desk.ledger().events(plan.id, item=ITEM)}  # the server's ledger is this one

    # The next week's digest: the note is in it, as text.
    run = make_digests(as_of=NEXT_DIGEST_DAY)
    assert run.queued
    later_html, later_text = _parts(_digest_of(maildir, unit.emails[0], "tuần 33/2023"))
    assert html.escape(NOTE, quote=False) in later_html, "the note, escaped, in the digest's HTML"
    assert "<script>alert(1)" not in later_html and "<b>đậm</b>" not in later_html
    assert NOTE in later_text, "the note, literal, in the digest's text part"
    for message in _mails(maildir):  # and wherever else it is shown (the directors' overview)
        shown_html, _ = _parts(message)
        assert "<script>alert(1)" not in shown_html, message["Subject"]

    # The annual report: the note's characters in the PDF's text, as typed.
    report = make_report(period="2023", as_of=dt.date(2023, 12, 31), send=False)
    assert report.files.pdf.is_file()
    pdf_text = _one_line(_pdf_text(report.files.pdf))
    assert NOTE in pdf_text, f"the note is not in the report's text: …{pdf_text[pdf_text.find('tập huấn'):][:400]}…"

    kept = tmp_path_factory.getbasetemp() / "digest-link-to-form-screenshots"
    kept.mkdir(exist_ok=True)
    for path in shots[-3:]:
        shutil.copy2(path, kept / path.name)
    print(f"last screenshots also in {kept}")
    assert [p.name for p in shots] == [
        "01-form.png", "02-errors.png", "03-recorded.png", "04-refused-tampered.png", "05-refused-expired.png", "06-refused-other-unit.png",
    ]

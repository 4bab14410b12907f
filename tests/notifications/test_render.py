"""Mail bodies: what people typed is escaped, the HTML survives a mail client, the text has no markup,
and everything is in Unicode NFC."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import unicodedata

import pytest
from jinja2 import UndefinedError
from markupsafe import escape

from notifications.coordination import coordination_mails
from notifications.digest import digest_mails
from notifications.mail import MailKind
from notifications.render import ENV, TEMPLATES, english_date, number, render_html, render_text
from plan.load import load_plan
from plan.model import Plan, Stage
from plan.occurrences import item_occurrences
from plan.progress import OccurrenceState, fold, outcome_events, plan_status

D = dt.date
TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")


@pytest.fixture(name="plan", scope="module")
def plan_fixture() -> Plan:
    result = load_plan()
    assert result.plan is not None
    return result.plan


def _outcome(plan: Plan, number: int, stage: Stage, payload: dict, on: D, events: list) -> list:
    item = plan.item(number)
    occurrence = item_occurrences(plan, item, events, on)[0]
    state = fold(events).get((item.id, occurrence.id), OccurrenceState())
    return outcome_events(plan, item, occurrence, stage, payload, state, on=on, actor="t")


def _every_kind_of_mail(plan: Plan) -> list:
    """Digests, directors' overview, invitations (bilingual), reminders, overdue notices, escalations."""
    events = _outcome(plan, 7, Stage.PREPARATION, {"result": "done", "note": "Đã duyệt kế hoạch chi tiết."}, D(2023, 4, 25), [])
    events += _outcome(plan, 9, Stage.COORDINATION, {"counterpart": "dsq-canada", "answer": "declined", "note": "Trùng lịch."}, D(2023, 5, 2), events)
    mails = []
    for as_of in (D(2023, 4, 27), D(2023, 5, 15)):
        statuses = plan_status(plan, events, as_of)
        mails += digest_mails(plan, statuses, as_of) + coordination_mails(plan, statuses, as_of)
    assert {m.kind for m in mails} >= {MailKind.DIGEST, MailKind.DIRECTORS, MailKind.INVITATION, MailKind.REMINDER, MailKind.OVERDUE, MailKind.ESCALATION}
    return mails


@pytest.fixture(name="mails", scope="module")
def mails_fixture(plan: Plan) -> list:
    return _every_kind_of_mail(plan)


# -- escaping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["<script>alert(1)</script>", "<b>x</b>"])
def test_a_note_typed_by_a_unit_appears_as_text_in_the_digest(plan, note):
    events = _outcome(plan, 7, Stage.EXECUTION, {"result": "done", "note": note}, D(2023, 5, 14), [])
    mails = digest_mails(plan, plan_status(plan, events, D(2023, 5, 15)), D(2023, 5, 15))
    van_phong = next(m for m in mails if m.key.startswith("digest/van-phong/"))
    assert note not in van_phong.html
    assert str(escape(note)) in van_phong.html
    assert note in van_phong.text  # plain text shows exactly what was typed


def test_a_counterparts_note_is_escaped_in_the_directors_overview(plan):
    events = _outcome(plan, 9, Stage.COORDINATION, {"counterpart": "dsq-canada", "answer": "declined", "note": "<img src=x onerror=alert(1)>"}, D(2023, 10, 13), [])
    overview = next(m for m in digest_mails(plan, plan_status(plan, events, D(2023, 10, 16)), D(2023, 10, 16)) if m.kind is MailKind.DIRECTORS)
    assert "<img" not in overview.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in overview.html


def test_names_and_titles_from_the_plan_file_are_escaped(plan):
    items = [i.model_copy(update={"short_title": "Làng <i>Châu Âu</i>"}) if i.number == 7 else i for i in plan.items]
    counterparts = [c.model_copy(update={"name": "Phái đoàn <b>EU</b>"}) if c.id == "phai-doan-eu" else c for c in plan.counterparts]
    hostile = plan.model_copy(update={"items": items, "counterparts": counterparts})
    hostile.__dict__.pop("items_by_id", None)  # the copy must not use the original's cached lookup
    statuses = plan_status(hostile, [], D(2023, 4, 27))
    mails = digest_mails(hostile, statuses, D(2023, 4, 27)) + coordination_mails(hostile, statuses, D(2023, 4, 27))
    invitation = next(m for m in mails if m.kind is MailKind.INVITATION and "phai-doan-eu" in m.key)
    assert "<b>EU</b>" not in invitation.html and "Phái đoàn &lt;b&gt;EU&lt;/b&gt;" in invitation.html
    assert "<i>" not in invitation.html and "Làng &lt;i&gt;Châu Âu&lt;/i&gt;" in invitation.html
    for mail in mails:
        assert "<i>Châu Âu</i>" not in mail.html


def test_a_multi_line_note_keeps_its_lines_in_html(plan):
    events = _outcome(plan, 7, Stage.EXECUTION, {"result": "done", "note": "Dòng một\nDòng <hai>"}, D(2023, 5, 14), [])
    mail = next(m for m in digest_mails(plan, plan_status(plan, events, D(2023, 5, 15)), D(2023, 5, 15)) if "/van-phong/" in m.key)
    assert "Dòng một<br>Dòng &lt;hai&gt;" in mail.html


# -- mail-client-safe HTML --------------------------------------------------------------------------


def test_html_is_self_contained_inline_styled_and_on_one_line(mails):
    for mail in mails:
        html = mail.html
        assert html.startswith("<!DOCTYPE html>")
        assert html.count("\n") == 1 and html.endswith("\n"), mail.key  # the transport turns newlines into <br>
        for forbidden in ("<style", "<script", "<link", "<img", "<pre", "<textarea", "src=", "http://", "https://", "class="):
            assert forbidden not in html.lower(), (mail.key, forbidden)
        assert "max-width:680px" in html
        assert 'name="viewport"' in html


def test_html_is_well_nested(mails):
    from html.parser import HTMLParser

    void = {"meta", "br", "img", "hr", "input", "link"}

    class Checker(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag not in void:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
            self.stack.pop()

    for mail in mails:
        checker = Checker()
        checker.feed(mail.html)
        assert checker.stack == [], mail.key


def test_every_rag_shows_its_label_and_colour(plan):
    events = _outcome(plan, 7, Stage.PREPARATION, {"result": "done"}, D(2023, 4, 25), [])
    overview = next(m for m in digest_mails(plan, plan_status(plan, events, D(2023, 5, 8)), D(2023, 5, 8)) if m.kind is MailKind.DIRECTORS)
    assert "Có nguy cơ chậm" in overview.html and "Đúng tiến độ" in overview.html and "Hoàn thành" in overview.html
    assert "background-color:#f5b000" in overview.html  # amber badge for "at risk"


# -- text parts -------------------------------------------------------------------------------------


def test_text_parts_have_no_markup(mails):
    for mail in mails:
        assert not TAG.search(mail.text), (mail.key, TAG.search(mail.text))
        assert "&lt;" not in mail.text and "&amp;" not in mail.text
        assert "\n\n\n" not in mail.text


def test_text_and_html_say_the_same_things(plan):
    statuses = plan_status(plan, [], D(2023, 5, 8))
    for mail in digest_mails(plan, statuses, D(2023, 5, 8)) + coordination_mails(plan, statuses, D(2023, 5, 8)):
        for fact in re.findall(r"\d{2}/\d{2}/\d{4}", mail.text):
            assert fact in mail.html, (mail.key, fact)


# -- Unicode ----------------------------------------------------------------------------------------


def test_mails_are_in_nfc_even_when_a_note_is_not(plan):
    decomposed = unicodedata.normalize("NFD", "Đã dịch xong, chờ Giám đốc duyệt")
    events = _outcome(plan, 7, Stage.EXECUTION, {"result": "done", "note": decomposed}, D(2023, 5, 14), [])
    mail = next(m for m in digest_mails(plan, plan_status(plan, events, D(2023, 5, 15)), D(2023, 5, 15)) if "/van-phong/" in m.key)
    for part in (mail.subject, mail.html, mail.text):
        assert unicodedata.is_normalized("NFC", part)
    assert "Đã dịch xong, chờ Giám đốc duyệt" in mail.text


def test_every_mail_is_nfc(mails):
    for mail in mails:
        assert all(unicodedata.is_normalized("NFC", part) for part in (mail.subject, mail.html, mail.text)), mail.key


def test_templates_are_stored_in_nfc():
    paths = sorted(TEMPLATES.iterdir())
    assert {p.suffix for p in paths} == {".html", ".txt"}
    for path in paths:
        assert unicodedata.is_normalized("NFC", path.read_text(encoding="utf-8")), path.name


# -- the environment --------------------------------------------------------------------------------


def test_html_templates_autoescape_and_text_templates_do_not():
    assert ENV.get_template("digest.html").environment.autoescape("digest.html") is True
    assert ENV.autoescape("digest.txt") is False


def test_a_missing_value_is_an_error_not_an_empty_string():
    with pytest.raises(UndefinedError):
        render_html("reminder")
    with pytest.raises(UndefinedError):
        render_text("digest")


def test_english_dates_and_vietnamese_numbers():
    assert english_date(D(2023, 10, 21)) == "21 October 2023"
    assert number(15000) == "15.000"
    assert number(600) == "600"


def test_mail_content_never_imports_prefect():
    code = (
        "import sys, notifications.digest, notifications.coordination, notifications.render; "
        "bad = sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')); "
        "print(*bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- links to the forms, and mail to units without tools ---------------------------------------------

SECRET = "s" * 32
BASE = "https://kehoach.svhtt.hanoi.example"


def _links(plan: Plan):
    from notifications.form_links import FormLinks

    return FormLinks(BASE, SECRET, plan.id, 45, D(2023, 10, 16))


def _linked_mails(plan: Plan, links) -> list:
    events = _outcome(plan, 7, Stage.PREPARATION, {"result": "done"}, D(2023, 4, 25), [])
    mails = []
    for as_of in (D(2023, 4, 27), D(2023, 5, 8), D(2023, 10, 16)):
        statuses = plan_status(plan, events, as_of)
        mails += digest_mails(plan, statuses, as_of, links=links) + coordination_mails(plan, statuses, as_of, links=links)
    return mails


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_each_stage_a_unit_reports_carries_a_link_to_its_form(plan):
    from notifications.form_links import FormGrant, read_form, read_todo

    mails = _linked_mails(plan, _links(plan))
    # 16/10: Văn phòng Sở must record Belgium's answer (item 9's coordination, due that day).
    digest = next(m for m in mails if m.key.startswith("digest/van-phong/") and m.key.endswith("W42"))
    grants = [read_form(h.rsplit("/", 1)[1], SECRET) for h in _hrefs(digest.html) if "/bieu-mau/" in h]
    assert FormGrant(plan.id, "van-phong", "giao-luu-van-hoa-quoc-te", "main", "coordination", "dsq-bi") in grants
    assert {g.unit for g in grants} == {"van-phong"}
    page = [h for h in _hrefs(digest.html) if "/viec-can-lam/" in h]
    assert [read_todo(p.rsplit("/", 1)[1], SECRET).unit for p in page] == ["van-phong"]
    assert digest.html.index("Việc cần làm tuần này") < digest.html.index("/bieu-mau/")
    for href in _hrefs(digest.html):
        assert href in digest.text  # the text part carries the same links
    # A reminder: the link of the stage it is about, for the unit it is sent to.
    reminder = next(m for m in mails if m.key == "reminder/van-phong/ngoi-lang-chau-au/main/coordination")
    assert [read_form(h.rsplit("/", 1)[1], SECRET) for h in _hrefs(reminder.html)] == [
        FormGrant(plan.id, "van-phong", "ngoi-lang-chau-au", "main", "coordination", "phai-doan-eu")
    ]
    # An overdue notice of a non-coordination stage: one link, no counterpart.
    overdue = next(m for m in mails if m.key == "overdue/ttttl/dich-thuat-tin-bai/2023-04/execution")
    assert [read_form(h.rsplit("/", 1)[1], SECRET) for h in _hrefs(overdue.html)] == [
        FormGrant(plan.id, "ttttl", "dich-thuat-tin-bai", "2023-04", "execution", None)
    ]
    # The directors: the page of every unit.
    directors = next(m for m in mails if m.kind is MailKind.DIRECTORS)
    assert [read_todo(h.rsplit("/", 1)[1], SECRET).unit for h in _hrefs(directors.html)] == [None]


def test_without_forms_no_link_and_the_compiling_unit_to_send_to(plan):
    mails = _linked_mails(plan, None)
    for mail in mails:
        assert "/bieu-mau/" not in mail.html + mail.text and "/viec-can-lam/" not in mail.html + mail.text
    digest = next(m for m in mails if m.key.startswith("digest/ttttl/") and m.key.endswith("W19"))
    assert "gửi về Văn phòng Sở (vanphong@svhtt.hanoi.example), đơn vị tổng hợp" in digest.text
    overdue = next(m for m in mails if m.key == "overdue/ttttl/dich-thuat-tin-bai/2023-04/execution")
    assert "gửi về Văn phòng Sở (vanphong@svhtt.hanoi.example)" in overdue.text


@pytest.mark.parametrize("linked", [False, True])
def test_no_command_line_and_no_prefect_in_mail_to_units_or_directors(plan, linked):
    mails = _linked_mails(plan, _links(plan) if linked else None) + _every_kind_of_mail(plan)
    for mail in mails:
        for body in (mail.text, mail.html):
            assert not re.search(r"kehoach (record|run|serve|digest|report|plan|approve)|«kehoach", body), mail.key  # "Kehoach", the name, is fine
            assert "prefect" not in body.lower(), mail.key


def test_no_command_line_nor_prefect_in_the_templates_and_mail_code():
    from pathlib import Path

    sources = [p for p in TEMPLATES.iterdir() if not p.name.startswith("report_draft")]
    sources += [Path(__file__).parents[2] / "notifications" / name for name in ("digest.py", "coordination.py")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "kehoach record" not in text and "giao diện Prefect" not in text and "Prefect UI" not in text, path.name


def test_reply_to_is_the_compiling_unit(plan):
    for mail in _linked_mails(plan, _links(plan)):
        if mail.kind is MailKind.INVITATION:
            continue
        assert [a.email for a in mail.reply_to] == ["vanphong@svhtt.hanoi.example"], mail.key


def test_linked_html_stays_well_formed_and_links_only_to_the_forms(plan):
    for mail in _linked_mails(plan, _links(plan)):
        html = mail.html
        assert html.count("\n") == 1
        for href in _hrefs(html):
            assert href.startswith(BASE + "/"), (mail.key, href)
        assert html.count("http://") + html.count("https://") == len(_hrefs(html)), mail.key


@pytest.mark.parametrize("note", ["<script>alert(1)</script>", "<b>x</b> & co"])
def test_a_note_typed_by_a_unit_is_text_in_a_linked_digest_too(plan, note):
    # Item 1's April execution is late for Trung tâm Thông tin Triển lãm, with a note of its own.
    item = plan.item(1)
    april = next(o for o in item_occurrences(plan, item, [], D(2023, 5, 5)) if o.id == "2023-04")
    events = outcome_events(plan, item, april, Stage.EXECUTION, {"result": "blocked", "note": note}, OccurrenceState(), on=D(2023, 5, 5), actor="t")
    mails = digest_mails(plan, plan_status(plan, events, D(2023, 5, 8)), D(2023, 5, 8), links=_links(plan))
    ttttl = next(m for m in mails if m.key.startswith("digest/ttttl/"))
    assert note not in ttttl.html
    assert str(escape(note)) in ttttl.html
    assert note in ttttl.text

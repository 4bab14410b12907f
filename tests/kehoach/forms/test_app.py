"""The forms behind the links (kehoach/forms/app.py) through Starlette's TestClient: who may open
and record what, CSRF, the headers, errors beside the field, idempotent submissions, corrections,
escaping, and the resume of waiting runs."""

from __future__ import annotations

import re

import pytest
from formkit import AS_OF, PLAN_ID, SECRET, Forms, Resumed, make_settings
from starlette.testclient import TestClient

from kehoach.forms.app import SECURITY_HEADERS, create_app, csrf_token
from notifications.form_links import FormGrant, TodoGrant, sign
from plan.events import EventKind


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the form carries its CSRF token"
    return found.group(1)


def _post(forms: Forms, link: str, data: dict[str, str], **headers: str):
    page = forms.client.get(link)
    assert page.status_code == 200, page.text
    return forms.client.post(link, data={"csrf": _csrf(page.text), **data}, headers=headers)


def _outcomes(forms: Forms, item: str = "ngoi-lang-chau-au"):
    return [e for e in forms.ledger().events(PLAN_ID, item=item) if e.kind == EventKind.OUTCOME]


PREPARATION = {"result": "done", "detailed_plan_approved": "1", "venue_confirmed": "1", "note": "Đã duyệt", "reporter": "Nguyễn Thị Lan"}


# -- the form --------------------------------------------------------------------------------------


def test_the_execution_form_asks_exactly_the_items_indicators(forms: Forms, plan2023):
    page = forms.client.get(forms.link(stage="execution"))
    assert page.status_code == 200
    asked = set(re.findall(r'name="indicators\.([a-z_]+)"', page.text))
    assert asked == set(plan2023.item("ngoi-lang-chau-au").indicators)
    for shown in ("Ngôi làng Châu Âu", "Triển khai", "Hạn", "15/05/2023", "Người báo cáo"):
        assert shown in page.text


def test_a_form_records_once_through_the_record_path_and_resumes_the_waiting_run(forms: Forms):
    link = forms.link()
    answer = _post(forms, link, PREPARATION)
    assert answer.status_code == 200 and "Đã ghi nhận kết quả" in answer.text
    recorded = _outcomes(forms)
    assert len(recorded) == 1
    outcome = recorded[0]
    assert outcome.payload == {"result": "done", "detailed_plan_approved": True, "budget_allocated": False, "venue_confirmed": True, "note": "Đã duyệt"}
    assert outcome.effective_date == AS_OF
    assert outcome.actor.startswith("Nguyễn Thị Lan — VP (van-phong), biểu mẫu, từ ")
    assert "testclient" in outcome.actor  # the client's address
    statuses = [e.status for e in forms.ledger().events(PLAN_ID, item="ngoi-lang-chau-au") if e.kind == EventKind.STAGE_STATUS]
    assert statuses[-1] == "done"
    assert forms.resumed.calls == [("ngoi-lang-chau-au", "main", outcome.stage, outcome.payload)]
    # What is recorded shows above the form, with who answered.
    page = forms.client.get(link)
    assert "Đã báo cáo" in page.text and "Nguyễn Thị Lan" in page.text


def test_the_same_values_twice_record_nothing_twice(forms: Forms):
    link = forms.link()
    _post(forms, link, PREPARATION)
    before = forms.ledger().count(PLAN_ID)
    again = _post(forms, link, PREPARATION)
    assert again.status_code == 200 and "đã được ghi nhận từ trước" in again.text
    assert forms.ledger().count(PLAN_ID) == before
    assert len(_outcomes(forms)) == 1
    assert len(forms.resumed.calls) == 1


def test_changing_a_recorded_outcome_needs_the_correction_box_then_records_a_new_outcome(forms: Forms):
    link = forms.link()
    _post(forms, link, PREPARATION)
    changed = {**PREPARATION, "budget_allocated": "1", "note": "Đã bố trí kinh phí"}
    refused = _post(forms, link, changed)
    assert refused.status_code == 200 and "Sửa kết quả đã báo cáo" in refused.text and "đánh dấu ô" in refused.text
    assert 'value="Đã bố trí kinh phí"' in refused.text or "Đã bố trí kinh phí</textarea>" in refused.text  # what was typed is kept
    assert len(_outcomes(forms)) == 1
    corrected = _post(forms, link, {**changed, "correction": "1"})
    assert "Đã ghi nhận kết quả" in corrected.text
    outcomes = _outcomes(forms)
    assert len(outcomes) == 2 and outcomes[-1].payload["budget_allocated"] is True
    assert len(forms.resumed.calls) == 2


def test_validation_errors_come_back_beside_the_field_in_vietnamese_keeping_what_was_typed(forms: Forms):
    link = forms.link(stage="execution")
    answer = _post(forms, link, {"result": "done", "indicators.participants": "nhiều lắm", "indicators.events_held": "2", "note": "ghi chú", "reporter": ""})
    assert answer.status_code == 422
    text = answer.text
    field = re.search(r'<input id="f-indicators-participants"[^>]*>\s*<p class="error" id="f-indicators-participants-error">([^<]+)</p>', text)
    assert field, text
    assert 'value="nhiều lắm"' in text and 'value="2"' in text and "ghi chú</textarea>" in text
    assert re.search(r'id="f-reporter-error">[^<]*tên người báo cáo', text)
    assert "Kết quả chưa được ghi" in text
    assert _outcomes(forms) == []
    assert forms.resumed.calls == []


def test_an_error_only_in_an_indicator_still_says_above_the_form_that_nothing_was_recorded(forms: Forms):
    link = forms.link(stage="execution")
    answer = _post(forms, link, {"result": "done", "indicators.participants": "-5", "reporter": "Nguyễn Thị Lan"})
    assert answer.status_code == 422
    assert 'id="f-indicators-participants-error"' in answer.text
    assert "Kết quả chưa được ghi" in answer.text
    assert _outcomes(forms) == []


def test_html_typed_in_a_note_is_shown_as_text(forms: Forms):
    link = forms.link()
    note = '<script>alert("x")</script><b>đậm</b>'
    _post(forms, link, {**PREPARATION, "note": note, "reporter": "<i>Lan</i>"})
    assert _outcomes(forms)[0].payload["note"] == note
    page = forms.client.get(link).text
    assert "<script>alert" not in page and "<b>đậm" not in page and "<i>Lan" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;đậm&lt;/b&gt;" in page
    assert "&lt;i&gt;Lan&lt;/i&gt;" in page


def test_a_resume_that_fails_is_logged_and_the_outcome_stays_recorded(tmp_path, caplog):
    resumed = Resumed(fail=True)
    app = create_app(make_settings(tmp_path), today=lambda: AS_OF, resume=resumed)
    with TestClient(app, base_url="http://testserver") as client:
        forms = Forms(client, app.state.desk.settings, resumed)
        answer = _post(forms, forms.link(), PREPARATION)
        assert "Đã ghi nhận kết quả" in answer.text
        assert len(_outcomes(forms)) == 1
    assert len(resumed.calls) == 1
    assert any("Không tiếp tục được" in r.getMessage() for r in caplog.records)


def test_a_coordination_link_records_that_counterparts_answer(forms: Forms):
    link = forms.link(stage="coordination", counterpart="phai-doan-eu")
    page = forms.client.get(link)
    assert page.status_code == 200 and "Phái đoàn" in page.text and 'name="counterpart"' not in page.text
    answer = _post(forms, link, {"answer": "confirmed", "contact": "Ms. Anna", "reporter": "Trần Văn Minh"})
    assert "Đã ghi nhận kết quả" in answer.text, answer.text
    outcome = _outcomes(forms)[0]
    assert outcome.counterpart == "phai-doan-eu" and outcome.payload["answer"] == "confirmed"


# -- who may answer what ---------------------------------------------------------------------------


def test_a_tampered_link_is_refused_with_403_and_no_trace(forms: Forms):
    link = forms.link()
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    for response in (forms.client.get(tampered), forms.client.post(tampered, data={"csrf": "x", **PREPARATION})):
        assert response.status_code == 403
        assert "Đường dẫn không dùng được" in response.text and "Traceback" not in response.text
    assert _outcomes(forms) == []


def test_an_expired_link_is_refused_with_410(tmp_path, monkeypatch):
    import time

    import itsdangerous.timed

    app = create_app(make_settings(tmp_path, KEHOACH_FORMS_LINK_DAYS="1"), today=lambda: AS_OF, resume=Resumed())
    now = time.time()
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed.time, "time", lambda: now - 2 * 86_400)  # signed two days ago
        token = sign(FormGrant(PLAN_ID, "van-phong", "ngoi-lang-chau-au", "main", "preparation"), SECRET)
    with TestClient(app) as client:
        response = client.get(f"/bieu-mau/{token}")
        assert response.status_code == 410 and "hết hạn" in response.text and "Traceback" not in response.text
        fresh = sign(FormGrant(PLAN_ID, "van-phong", "ngoi-lang-chau-au", "main", "preparation"), SECRET)
        assert client.get(f"/bieu-mau/{fresh}").status_code == 200


def test_another_units_link_can_neither_read_nor_record_the_stage(forms: Forms):
    # qlnt coordinates item 7 but does not report it: the lead (van-phong) does.
    link = forms.link(unit="qlnt")
    assert forms.client.get(link).status_code == 403
    good = forms.client.get(forms.link()).text
    answer = forms.client.post(link, data={"csrf": _csrf(good), **PREPARATION})
    assert answer.status_code == 403
    assert _outcomes(forms) == []


def test_a_link_signed_before_the_secret_was_rotated_is_refused(forms: Forms):
    old = forms.link(secret="the-previous-secret-now-rotated")
    assert forms.client.get(old).status_code == 403


def test_a_page_token_never_opens_a_form_nor_the_reverse(forms: Forms):
    todo_token = forms.todo().rsplit("/", 1)[1]
    assert forms.client.get(f"/bieu-mau/{todo_token}").status_code == 403
    form_token = forms.link().rsplit("/", 1)[1]
    assert forms.client.get(f"/viec-can-lam/{form_token}").status_code == 403


def test_a_link_for_another_plan_is_refused(forms: Forms):
    token = sign(FormGrant("another-plan", "van-phong", "ngoi-lang-chau-au", "main", "preparation"), SECRET)
    assert forms.client.get(f"/bieu-mau/{token}").status_code == 403


# -- CSRF and headers ------------------------------------------------------------------------------


def test_a_post_without_the_forms_token_is_refused(forms: Forms):
    link = forms.link()
    for data in ({**PREPARATION}, {**PREPARATION, "csrf": csrf_token("another-secret-of-16+", link.rsplit("/", 1)[1])}):
        response = forms.client.post(link, data=data)
        assert response.status_code == 403 and "Biểu mẫu đã cũ" in response.text
    assert _outcomes(forms) == []


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
def test_a_post_from_another_site_is_refused_even_with_the_token(forms: Forms, headers):
    response = _post(forms, forms.link(), PREPARATION, **headers)
    assert response.status_code == 403
    assert _outcomes(forms) == []


def test_a_post_from_the_forms_own_origin_is_taken(forms: Forms):
    response = _post(forms, forms.link(), PREPARATION, Origin="http://testserver", **{"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200 and len(_outcomes(forms)) == 1


@pytest.mark.parametrize("path", ["form", "todo", "refused", "missing", "css"])
def test_every_response_sends_the_security_headers(forms: Forms, path):
    url = {"form": forms.link(), "todo": forms.todo(), "refused": "/bieu-mau/nonsense", "missing": "/khong-co", "css": "/tinh/forms.css"}[path]
    response = forms.client.get(url)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    if path in ("form", "todo"):
        assert "<script" not in response.text and " style=" not in response.text  # nothing inline for the CSP to refuse


# -- Việc cần làm ----------------------------------------------------------------------------------


def test_a_units_page_lists_what_it_must_report_with_links_that_open(forms: Forms):
    page = forms.client.get(forms.todo("van-phong"))
    assert page.status_code == 200 and "Việc cần làm" in page.text
    links = re.findall(r'href="(http://testserver/bieu-mau/[^"]+)"', page.text)
    assert links, page.text
    assert "ND 7" in page.text
    for link in links:
        opened = forms.client.get(link.removeprefix("http://testserver"))
        assert opened.status_code == 200, link
    # qlds leads item 5 only; it sees none of Văn phòng's stages.
    other = forms.client.get(forms.todo("qlds")).text
    assert "ND 7." not in other


def test_the_directors_page_lists_every_unit(forms: Forms):
    page = forms.client.get(forms.todo(None))
    assert page.status_code == 200 and "Tất cả các đơn vị" in page.text
    assert "VP" in page.text


def test_a_todo_link_for_a_unit_not_in_the_plan_is_refused(forms: Forms):
    token = sign(TodoGrant(PLAN_ID, "khong-co"), SECRET)
    assert forms.client.get(f"/viec-can-lam/{token}").status_code == 403

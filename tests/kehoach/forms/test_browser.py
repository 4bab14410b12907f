"""The form in a real browser: Debian's Chromium driven by Playwright, against the application
served by uvicorn on 127.0.0.1 (started and stopped by this test, through its server handle).

A unit opens the link from its mail on a phone-sized screen, fills the execution form wrongly (a
number that is not one, no name), sees what is wrong beside each field with what it typed kept,
fills it rightly, sends it, and sees the confirmation; the ledger has the outcome once and the
waiting run was resumed with it. Screenshots are kept in the test's tmp dir (printed).
"""

from __future__ import annotations

import os

import pytest
from formkit import AS_OF, PLAN_ID, Resumed, make_settings
from stack import free_port, on_uvicorn

from kehoach.forms.app import create_app
from notifications.form_links import FormGrant, form_url, sign
from plan.events import EventKind

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 30_000


@pytest.fixture(name="served")
def fixture_served(tmp_path):
    """The application on uvicorn in a thread of this process; stopped through its handle."""
    port = free_port()
    settings = make_settings(tmp_path, KEHOACH_FORMS_URL=f"http://127.0.0.1:{port}")
    resumed = Resumed()
    app = create_app(settings, today=lambda: AS_OF, resume=resumed)
    with on_uvicorn(app, port, timeout=20, log_level="warning"):
        yield settings, app, resumed


def test_a_unit_fills_the_form_wrongly_then_rightly_on_a_phone(served, tmp_path):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    settings, app, resumed = served
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nforms screenshots: {shots}")
    link = form_url(settings.forms_url, sign(FormGrant(PLAN_ID, "van-phong", "ngoi-lang-chau-au", "main", "execution"), settings.forms_secret))
    origin = settings.forms_url
    blocked: list[str] = []

    def only_the_forms(route) -> None:
        if route.request.url.startswith(origin + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", java_script_enabled=False)
            context.set_default_timeout(TIMEOUT_MS)
            context.route("**/*", only_the_forms)
            page = context.new_page()
            page.goto(link)
            expect = sync_api.expect
            expect(page.get_by_role("heading", name="Báo cáo bước Triển khai")).to_be_visible()
            expect(page.get_by_text("Ngôi làng Châu Âu").first).to_be_visible()
            page.screenshot(path=str(shots / "01-form.png"), full_page=True)

            # Wrongly: a number that is not one, and no name.
            page.get_by_label("Số lượt người tham gia").fill("khoảng một nghìn")
            page.get_by_label("Số sự kiện, chương trình đã tổ chức").fill("1")
            page.get_by_label("Ghi chú").fill("<b>Đông vui</b> & an toàn")
            page.get_by_role("button", name="Gửi kết quả").click()
            expect(page.get_by_role("alert")).to_contain_text("Kết quả chưa được ghi")
            expect(page.locator("#f-indicators-participants-error")).to_be_visible()
            expect(page.locator("#f-reporter-error")).to_contain_text("tên người báo cáo")
            expect(page.get_by_label("Số lượt người tham gia")).to_have_value("khoảng một nghìn")
            expect(page.get_by_label("Ghi chú")).to_have_value("<b>Đông vui</b> & an toàn")
            page.screenshot(path=str(shots / "02-errors.png"), full_page=True)

            # Rightly.
            page.get_by_label("Số lượt người tham gia").fill("12000")
            page.get_by_label("Người báo cáo").fill("Nguyễn Thị Lan")
            page.get_by_role("button", name="Gửi kết quả").click()
            expect(page.get_by_role("status")).to_contain_text("Đã ghi nhận kết quả")
            expect(page.locator(".recorded")).to_contain_text("12000")
            expect(page.locator(".recorded")).to_contain_text("<b>Đông vui</b> & an toàn")  # shown as text
            page.screenshot(path=str(shots / "03-recorded.png"), full_page=True)
            context.close()
        finally:
            browser.close()

    outcomes = [e for e in app.state.desk.ledger().events(PLAN_ID, item="ngoi-lang-chau-au") if e.kind == EventKind.OUTCOME]
    assert len(outcomes) == 1
    assert outcomes[0].payload["indicators"] == {"events_held": 1, "participants": 12000}
    assert outcomes[0].actor.startswith("Nguyễn Thị Lan — VP (van-phong), biểu mẫu, từ 127.0.0.1")
    assert [(c[0], c[1], c[2].value) for c in resumed.calls] == [("ngoi-lang-chau-au", "main", "execution")]
    assert resumed.calls[0][3] == outcomes[0].payload
    assert not blocked, blocked
    assert sorted(p.name for p in shots.iterdir()) == ["01-form.png", "02-errors.png", "03-recorded.png"]

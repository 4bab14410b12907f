"""The web forms behind the links in the mail (Starlette, Jinja2, plain HTML that works without
JavaScript and on a phone, in Vietnamese):

- GET/POST /bieu-mau/{token}: the form of one stage of one occurrence (and counterpart), drawn from
  the stage's outcome model; what is sent is recorded as `kehoach record` records it, then the
  Prefect runs waiting for it are resumed (after the answer is sent; failures are logged).
- GET /viec-can-lam/{token}: what a unit must report now, each line with its form's link; the
  directors' link lists every unit.

Who may answer what is the signed link (notifications/form_links.py): no login, no cookie. A POST
carries a token derived from the link and the server's secret (a hidden field), and a POST whose
Origin is another site's, or that the browser marks cross-site (Sec-Fetch-Site), is refused. Every
response carries the security headers below; Jinja2 escapes everything shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kehoach.forms.desk import Desk, Refused, Resume, StageForm, Submitted
from kehoach.forms.fields import FormField, capital, data_from_form, fill, form_fields, place_errors, shown_value
from kehoach.settings import Settings
from notifications.form_links import form_url, sign, todo_url
from plan.events import COORDINATION_STATUS_LABELS, STAGE_STATUS_LABELS
from plan.ledger import LedgerError
from plan.model import STAGE_LABELS
from plan.text import counterpart_label, short_date, window_text

log = logging.getLogger("kehoach.forms")

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link's token is in the URL
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
MAX_BODY = 64 * 1024  # bytes of a form's body: a note is at most 4,000 characters


class SecurityHeaders:
    """Every response, errors and the stylesheet included, carries SECURITY_HEADERS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(secret: str, link_token: str) -> str:
    """The hidden field of a form: bound to its link and the server's secret."""
    return hmac.new(secret.encode(), b"kehoach-form-post\0" + link_token.encode(), hashlib.sha256).hexdigest()


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = short_date
    return env


def create_app(settings: Settings, *, today: Any = None, resume: Resume | None = None) -> Starlette:
    """The application for these settings (KEHOACH_FORMS_SECRET must be set). `today` and `resume`
    replace the clock and the resuming of Prefect runs (tests, benchmarks)."""
    desk = Desk(settings, today=today, resume=resume)
    templates = _templates()
    allowed_origins = {_origin(settings.forms_url)} if settings.forms_url else set()

    def page(name: str, status: int = 200, background: BackgroundTask | None = None, **context: Any) -> HTMLResponse:
        html = templates.get_template(name).render(stage_labels=STAGE_LABELS, **context)
        return HTMLResponse(html, status_code=status, background=background)

    def refused(exc: Refused) -> HTMLResponse:
        titles = {403: "Đường dẫn không dùng được", 404: "Không tìm thấy", 410: "Đường dẫn đã hết hạn"}
        return page("refused.html", exc.status, title=titles.get(exc.status, "Không mở được"), message=exc.message, expired=exc.status == 410)

    def form_page(request: Request, token: str, form: StageForm, fields: list[FormField], *, status: int = 200, problems: list[str] | None = None,
                  reporter: str = "", reporter_error: str = "", correction: bool = False, needs_correction: bool = False, done: str | None = None) -> HTMLResponse:
        plan, view = form.plan, form.view
        recorded = form.recorded
        return page(
            "form.html",
            status,
            plan=plan,
            form=form,
            item=form.item,
            window=window_text(plan, form.item),
            lead=plan.party_name(form.item.lead),
            unit=plan.unit(form.grant.unit),
            stage_label=STAGE_LABELS[form.stage],
            occurrence=form.occurrence,
            counterpart=counterpart_label(plan, form.counterpart) if form.counterpart else None,
            view=view,
            status_label=STAGE_STATUS_LABELS[view.status] if view else "",
            answer_label=COORDINATION_STATUS_LABELS[view.counterparts[form.counterpart]] if view and form.counterpart in (view.counterparts or {}) else "",
            today=desk.today(),
            recorded=recorded,
            recorded_lines=shown_value(form_fields(form.model), recorded.payload) if recorded else [],
            recorded_on=getattr(recorded, "effective_date", None) if recorded else None,
            fields=fields,
            problems=problems or [],
            reporter=reporter,
            reporter_error=reporter_error,
            correction=correction,
            needs_correction=needs_correction,
            done=done,
            csrf=csrf_token(desk.secret, token),
            action=str(request.url.path),
        )

    async def form_get(request: Request) -> Response:
        token = request.path_params["token"]
        form = desk.open_form(token)
        fields = form_fields(form.model)
        if form.recorded is not None:
            fill(fields, form.recorded.payload, typed=False)
        done = request.query_params.get("ket-qua")
        return form_page(request, token, form, fields, done=done if done in ("da-ghi", "khong-doi") else None)

    async def form_post(request: Request) -> Response:
        token = request.path_params["token"]
        form = desk.open_form(token)  # a refused link records nothing, whatever it sends
        if not _same_site(request, allowed_origins):
            raise Refused(403, "biểu mẫu được gửi từ một trang khác; hãy mở lại đường dẫn trong thư và gửi từ đó")
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            raise Refused(413, "nội dung gửi quá dài")
        body = await request.form(max_files=0, max_fields=200)
        values = {k: v for k, v in body.items() if isinstance(v, str)}
        if not hmac.compare_digest(values.get("csrf", ""), csrf_token(desk.secret, token)):
            raise Refused(403, "biểu mẫu đã cũ hoặc không được gửi từ trang này; hãy mở lại đường dẫn trong thư")
        fields = form_fields(form.model)
        data = data_from_form(fields, values)
        reporter = values.get("reporter", "")
        correction = "correction" in values
        address = request.client.host if request.client else ""
        result: Submitted = desk.submit(form, data, reporter=reporter, address=address, correction=correction)
        if result.problems or result.needs_correction:
            fill(fields, values, typed=True)
            left = place_errors(fields, result.problems)
            reporter_error = " ".join(capital(p.partition(": ")[2]) for p in left if p.startswith("reporter: "))
            left = [p for p in left if not p.startswith("reporter: ")]
            return form_page(request, token, form, fields, status=200 if result.needs_correction and not result.problems else 422, problems=left,
                             reporter=reporter, reporter_error=reporter_error, correction=correction, needs_correction=result.needs_correction)
        if result.unchanged:
            return RedirectResponse(f"{request.url.path}?ket-qua=khong-doi", status_code=303)
        task = BackgroundTask(desk.resume, form, result.payload or {}) if result.recorded else None
        return RedirectResponse(f"{request.url.path}?ket-qua=da-ghi", status_code=303, background=task)

    async def todo_get(request: Request) -> Response:
        grant, plan = desk.open_todo(request.path_params["token"])
        todo = desk.todo(grant, plan)
        base = settings.forms_url or str(request.base_url).rstrip("/")
        secret = desk.secret

        def link(g) -> str:
            return form_url(base, sign(g, secret))

        return page(
            "todo.html",
            plan=plan,
            todo=todo,
            unit=plan.unit(grant.unit) if grant.unit else None,
            directors=plan.directors.name,
            link=link,
            unit_name=lambda uid: plan.unit(uid).short_name,
            counterpart_name=lambda cp: counterpart_label(plan, cp),
            today=todo.as_of,
            horizon=todo.as_of + dt.timedelta(days=14),
        )

    async def stylesheet(request: Request) -> Response:
        return FileResponse(HERE / "static" / "forms.css", media_type="text/css")

    async def home(request: Request) -> Response:
        return page("refused.html", 404, title="Kehoach — biểu mẫu báo cáo",
                    message="Hãy mở đường dẫn trong thư của Kehoach: mỗi đường dẫn mở biểu mẫu của một việc, hoặc danh sách việc cần làm của đơn vị.",
                    expired=False)

    async def on_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return refused(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return page("refused.html", 405, title="Không thực hiện được", message="thao tác này không dùng được ở đây", expired=False)
        return page("refused.html", exc.status_code, title="Không tìm thấy", message="không có trang này; hãy mở đường dẫn trong thư", expired=False)

    async def on_ledger(request: Request, exc: Exception) -> Response:
        log.error("Sổ theo dõi không dùng được: %s", exc)
        return page("refused.html", 503, title="Tạm thời không dùng được",
                    message="không đọc hoặc ghi được sổ theo dõi; chưa có gì được ghi. Xin thử lại sau ít phút.", expired=False)

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("Lỗi không lường trước khi xử lý %s %s", request.method, request.url.path)
        return page("refused.html", 500, title="Có lỗi", message="máy chủ gặp lỗi không lường trước; quản trị viên đã được ghi nhật ký. Xin thử lại sau.", expired=False)

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/bieu-mau/{token}", form_get, methods=["GET"]),
            Route("/bieu-mau/{token}", form_post, methods=["POST"]),
            Route("/viec-can-lam/{token}", todo_get, methods=["GET"]),
            Route("/tinh/forms.css", stylesheet, methods=["GET"]),
        ],
        exception_handlers={Refused: on_refused, HTTPException: on_http, LedgerError: on_ledger, Exception: on_error},
        lifespan=_lifespan(desk),
    )
    app.add_middleware(SecurityHeaders)
    app.state.desk = desk
    return app


def _lifespan(desk: Desk) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            desk.plan()  # loaded and hashed before the first link is opened (seconds for 2,000 items)
        except Exception:  # noqa: BLE001 - the pages say what is wrong; the log says why
            log.exception("Không đọc được kế hoạch %s", desk.settings.plan_path)
        try:
            yield
        finally:
            desk.close()

    return lifespan


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_site(request: Request, allowed: set[str]) -> bool:
    """A POST from one of our own pages: not marked cross-site or same-site by the browser, and its
    Origin (when the browser sends a real one) this server's own address or KEHOACH_FORMS_URL's."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Our pages send no referrer (the link's token is in the URL), so the browser sends
        # "Origin: null" with their forms; Sec-Fetch-Site and the form's token decide then.
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}".lower()
    return origin.lower() in allowed | {own}


__all__ = ["SECURITY_HEADERS", "create_app", "csrf_token", "todo_url"]

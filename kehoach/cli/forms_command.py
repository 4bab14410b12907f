"""`kehoach forms`: the web forms behind the links in the mail, on uvicorn (kehoach/forms/)."""

from __future__ import annotations

import click

from kehoach.cli import inputs
from kehoach.cli.errors import UserError

DEFAULT_PORT = 8765


@click.command("forms")
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ nghe. Chỉ đổi khi đã có HTTPS phía trước (xem README).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Cổng của biểu mẫu.")
def forms_command(host: str, port: int) -> None:
    """Chạy biểu mẫu báo cáo cho các đơn vị (đường dẫn trong thư); cần KEHOACH_FORMS_SECRET."""
    settings = inputs.settings()
    if not settings.forms_secret:
        raise UserError(
            "chưa có KEHOACH_FORMS_SECRET (chuỗi bí mật ký các đường dẫn trong thư, ít nhất 16 ký tự), ví dụ:\n"
            "  export KEHOACH_FORMS_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\n"
            "kehoach serve tự tạo chuỗi này trong serve.env."
        )
    import uvicorn

    from kehoach.forms.app import create_app

    app = create_app(settings)
    shown = settings.forms_url or f"http://{host}:{port}"
    click.echo(f"Biểu mẫu: {shown} (nghe tại {host}:{port}; Ctrl-C để dừng)")
    if not settings.forms_url:
        click.echo("  KEHOACH_FORMS_URL chưa đặt: thư sẽ không có đường dẫn tới biểu mẫu.", err=True)
    # Behind the TLS proxy on this machine, uvicorn takes the client's address from X-Forwarded-For
    # (it trusts 127.0.0.1 only, its default).
    uvicorn.run(app, host=host, port=port, proxy_headers=True, server_header=False, log_level="info")

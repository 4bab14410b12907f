"""`kehoach serve` and `kehoach doctor`: a team's stack on one machine, and its check after a crash."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kehoach.cli import inputs
from kehoach.cli.errors import EXIT_FAILED, UserError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ nghe của máy chủ Prefect (API và giao diện). Chỉ đổi khi đã có HTTPS phía trước (xem README).")
@click.option("--port", default=4200, show_default=True, type=click.IntRange(1, 65535), help="Cổng của máy chủ Prefect.")
@click.option("--workers", default=1, show_default=True, type=int, help="Số worker chạy các lượt của work pool kehoach trên máy này.")
@click.option("--worker-limit", default=4, show_default=True, type=int, help="Số lượt chạy cùng lúc tối đa của mỗi worker.")
@click.option("--forms-port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="Cổng của biểu mẫu báo cáo cho các đơn vị (kehoach forms).")
@click.option("--no-deploy", is_flag=True, help="Không chạy lại prefect deploy --all (giữ các deployment đang có).")
def serve_command(host: str, port: int, workers: int, worker_limit: int, forms_port: int, no_deploy: bool) -> None:
    """Chạy cho cả nhóm: máy chủ Prefect (có mật khẩu), work pool, các deployment và worker; Ctrl-C để dừng."""
    from kehoach.settings import read_environment
    from kehoach.stack import serve
    from kehoach.stack.layout import StackError, find_project, layout

    settings = inputs.settings()
    project = find_project(Path.cwd())
    if project is None:
        raise UserError("Không tìm thấy prefect.yaml: chạy kehoach serve từ thư mục mã nguồn Kehoach")
    try:
        stack = layout(settings, read_environment(), host=host, port=port, workers=workers, worker_limit=worker_limit,
                       project=project, stored_auth=serve.stored_auth(settings.home),
                       forms_port=forms_port, stored_forms_secret=serve.stored_forms_secret(settings.home))
        code = serve.serve(stack, lambda line: click.echo(line), setup=not no_deploy)
    except StackError as exc:
        raise UserError(str(exc)) from None
    except serve.ServeFailed as exc:
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(code)


@click.command("doctor")
@click.option("--fix", is_flag=True, help="Đánh dấu Crashed các lượt chạy chắc chắn đã mất tiến trình, để chạy lại được.")
def doctor_command(fix: bool) -> None:
    """Kiểm tra máy chủ Prefect, worker, sổ và hộp thư đi; tìm lượt chạy bị bỏ dở sau sự cố."""
    from kehoach.stack.doctor import check

    sys.exit(check(inputs.console(), inputs.settings(), fix=fix))

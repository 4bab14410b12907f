"""The `kehoach` command line.

Plan commands (check, show, schema, calendar) import only `plan/` and stay fast; commands that run
flows import Prefect when they are called, never at start-up.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from plan.load import LoadResult, default_plan_path, load_plan
from plan.model import Plan

EXIT_INVALID = 2

PLAN_ARG = click.argument("plan_file", metavar="[PLAN]", required=False, type=click.Path(path_type=Path))


class UserError(click.ClickException):
    """Bad input from the user: a message in their terms and exit code 2, no traceback."""

    exit_code = EXIT_INVALID

    def show(self, file=None) -> None:
        click.echo(f"kehoach: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kehoach")
def cli() -> None:
    """Kehoach — kế hoạch như mã nguồn: kiểm tra, xem và chạy một kế hoạch công tác."""


@cli.group("plan")
def plan_group() -> None:
    """Kiểm tra và xem tệp kế hoạch (mặc định: kế hoạch 326/KH-SVHTT năm 2023, hoặc $KEHOACH_PLAN)."""


@plan_group.command("check")
@PLAN_ARG
def plan_check(plan_file: Path | None) -> None:
    """Kiểm tra tệp kế hoạch: cú pháp YAML, mẫu (schema) và các quy tắc; thoát 0 nếu hợp lệ, 2 nếu không."""
    result = _load(plan_file)
    _print_problems(result)
    if not result.ok:
        click.echo(f"Kế hoạch không hợp lệ: {_count(result)}.", err=True)
        sys.exit(EXIT_INVALID)
    plan = result.plan
    click.echo(
        f"Hợp lệ: {plan.document.type} số {plan.document.number_symbol} — {len(plan.items)} nội dung, "
        f"{len(plan.units)} đơn vị, {len(plan.counterparts)} đối tác; {_count(result)}."
    )


@plan_group.command("show")
@PLAN_ARG
@click.option("--json", "as_json", is_flag=True, help="In kế hoạch đã chuẩn hóa dạng JSON (cho các script).")
def plan_show(plan_file: Path | None, as_json: bool) -> None:
    """Bảng các nội dung: đơn vị chủ trì, phối hợp, thời gian, đối tác."""
    plan = _valid_plan(plan_file, quiet=as_json)
    if as_json:
        click.echo(plan.model_dump_json(indent=2))
        return
    from flows.views import plan_table

    _console().print(plan_table(plan))


@plan_group.command("schema")
def plan_schema() -> None:
    """In JSON Schema của tệp kế hoạch (để trình soạn thảo gợi ý và kiểm tra)."""
    from plan.schema import schema_json

    click.echo(schema_json(), nl=False)


@plan_group.command("calendar")
@PLAN_ARG
@click.option("--unit", "unit", metavar="U", help="Chỉ các nội dung mà đơn vị U (mã, ví dụ van-phong) tham gia.")
@click.option("--ics", "ics_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path), help="Ghi thêm tệp iCalendar (.ics) để nhập vào Outlook hoặc Google Calendar.")
def plan_calendar(plan_file: Path | None, unit: str | None, ics_file: Path | None) -> None:
    """Hạn của từng bước (chuẩn bị, phối hợp, triển khai, báo cáo), tính theo ngày làm việc."""
    from plan.schedule import plan_deadlines

    plan = _valid_plan(plan_file)
    if unit is not None and unit not in {u.id for u in plan.units}:
        raise UserError(f"không có đơn vị «{unit}» trong kế hoạch — cần một mã trong: {', '.join(u.id for u in plan.units)}")
    deadlines = plan_deadlines(plan, unit=unit)
    from flows.views import calendar_table

    _console().print(calendar_table(plan, deadlines, unit=unit))
    if ics_file is not None:
        from plan.ics import deadlines_to_ics

        try:
            ics_file.write_bytes(deadlines_to_ics(plan, deadlines, unit=unit))
        except OSError as exc:
            raise UserError(f"không ghi được {ics_file}: {exc.strerror or exc}") from None
        click.echo(f"Đã ghi {len(deadlines)} hạn vào {ics_file}")


# --- running the plan and recording what people report ---------------------------------------


def _date(ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"«{value}» không phải ngày dạng NNNN-TT-NN (ví dụ 2023-12-31)") from None


@cli.command("run")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Tệp kế hoạch (mặc định: kế hoạch 2023).")
@click.option("--as-of", "as_of", callback=_date, metavar="DATE", help="Ngày xét, NNNN-TT-NN (mặc định: hôm nay, giờ Hà Nội).")
@click.option("--scenario", "scenario_file", type=click.Path(path_type=Path), help="Kịch bản kết quả (ví dụ dữ liệu mẫu năm 2023) ghi vào sổ trước khi chạy.")
@click.option("--items-only", is_flag=True, help="Chỉ chạy các nội dung: không gửi thư tổng hợp, không lập báo cáo năm.")
def run_command(plan_file: Path | None, as_of: dt.date | None, scenario_file: Path | None, items_only: bool) -> None:
    """Chạy toàn bộ kế hoạch trên Prefect (máy chủ tạm, không cần khởi động gì) và in bảng trạng thái."""
    from flows.main_job import run_plan

    plan = _valid_plan(plan_file, quiet=True)
    scenario = None
    if scenario_file is not None:
        from plan.scenario import load_scenario

        scenario, problems = load_scenario(scenario_file)
        if scenario is None:
            for problem in problems:
                click.echo(problem.render(), err=True)
            click.echo(f"Kịch bản không hợp lệ: {len(problems)} lỗi.", err=True)
            sys.exit(EXIT_INVALID)
    path = plan_file if plan_file is not None else default_plan_path()
    sys.exit(run_plan(plan, Path(path), as_of, scenario, _console(), items_only=items_only))


@cli.command("record")
@click.argument("item")
@click.argument("stage")
@click.option("--occurrence", help="Đợt (tháng 2023-05, ngày của một yêu cầu…); mặc định đợt chính.")
@click.option("--counterpart", help="Đối tác trả lời (bước coordination).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Một trường của kết quả, ví dụ indicators.participants=120.")
@click.option("--note", help="Ghi chú.")
@click.option("--on", "on", callback=_date, metavar="DATE", help="Ngày báo kết quả (mặc định: hôm nay).")
@click.option("--by", "by", help="Người báo (mặc định: $KEHOACH_USER hoặc tên đăng nhập).")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Tệp kế hoạch.")
def record_command(item, stage, occurrence, counterpart, pairs, note, on, by, plan_file) -> None:
    """Ghi kết quả một bước: ITEM (số hoặc mã nội dung), STAGE (preparation, coordination, execution, reporting)."""
    from flows import people
    from flows.runtime import ledger, today
    from plan.events import plan_ref
    from plan.outcomes import parse_assignments

    plan = _valid_plan(plan_file, quiet=True)
    try:
        data = parse_assignments(list(pairs))
    except ValueError as exc:
        raise UserError(f"--set: {exc}") from None
    if note:
        data["note"] = note
    book = _open_ledger(ledger)
    try:
        item_id, the_stage, occurrence_id, produced = people.record(
            plan,
            book.events(plan.id),
            item_key=item,
            stage_name=stage,
            data=data,
            on=on or today(),
            actor=people.actor_name(by),
            occurrence=occurrence,
            counterpart=counterpart,
        )
    except people.InputError as exc:
        raise UserError("kết quả không được ghi:\n  " + "\n  ".join(exc.problems)) from None
    written = _append(book, plan_ref(plan), produced)
    outcome = produced[0].payload
    click.echo(f"Đã ghi {people.describe(the_stage, occurrence_id)} của nội dung {plan.item(item_id).number}: {len(written)} sự kiện mới.")
    resumed, failed = people.resume_waiting_runs(plan, item_id, occurrence_id, the_stage, outcome)
    for run_id in resumed:
        click.echo(f"Đã tiếp tục lượt chạy đang chờ: {run_id}")
    for reason in failed:
        click.echo(f"Không tiếp tục được lượt chạy {reason} (kết quả đã được ghi vào sổ).", err=True)


@cli.command("request")
@click.argument("item")
@click.option("--counterpart", help="Đối tác đề nghị (ví dụ dsq-nhat-ban).")
@click.option("--date", "start", callback=_date, required=True, metavar="DATE", help="Ngày tổ chức.")
@click.option("--until", callback=_date, metavar="DATE", help="Ngày kết thúc, nếu kéo dài nhiều ngày.")
@click.option("--title", help="Tên sự kiện hoặc khóa học.")
@click.option("--on", "on", callback=_date, metavar="DATE", help="Ngày nhận yêu cầu (mặc định: hôm nay).")
@click.option("--by", "by", help="Người ghi.")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Tệp kế hoạch.")
def request_command(item, counterpart, start, until, title, on, by, plan_file) -> None:
    """Ghi một yêu cầu (nội dung theo yêu cầu, ví dụ ND 8) hoặc một đợt của chương trình: một đợt mới."""
    from flows import people
    from flows.runtime import ledger, today
    from plan.events import plan_ref

    plan = _valid_plan(plan_file, quiet=True)
    try:
        event = people.request(plan, item_key=item, start=start, until=until, counterpart=counterpart, title=title, on=on or today(), actor=people.actor_name(by))
    except people.InputError as exc:
        raise UserError("yêu cầu không được ghi:\n  " + "\n  ".join(exc.problems)) from None
    written = _append(_open_ledger(ledger), plan_ref(plan), [event])
    state = "đã ghi" if written else "đã có từ trước, không ghi lại"
    click.echo(f"Đợt «{event.occurrence}» của nội dung {plan.item(event.item).number}: {state}.")


def _append(book, ref, events):
    from plan.ledger import LedgerError

    try:
        return book.append(ref, events)
    except LedgerError as exc:
        raise UserError(f"không ghi được vào sổ (chưa có gì được ghi): {exc}") from None


@cli.command("digest")
@click.option("--as-of", "as_of", callback=_date, metavar="DATE", help="Ngày xét (mặc định: hôm nay, giờ Hà Nội).")
@click.option("--unit", help="Chỉ thư cho một đơn vị (mã, ví dụ van-phong).")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Tệp kế hoạch.")
def digest_command(as_of, unit, plan_file) -> None:
    """Gửi thư tổng hợp tuần cho các đơn vị và Ban Giám đốc (qua hộp thư đi; mặc định vào maildir)."""
    from flows.main_job import run_digest

    plan = _valid_plan(plan_file, quiet=True)
    if unit is not None and unit not in {u.id for u in plan.units} | {plan.directors.id}:
        raise UserError(f"không có đơn vị «{unit}» — cần một mã trong: {', '.join(u.id for u in plan.units)}, {plan.directors.id}")
    path = plan_file if plan_file is not None else default_plan_path()
    sys.exit(run_digest(plan, Path(path), as_of, unit, _console()))


@cli.command("report")
@click.option("--period", metavar="KỲ", help="2023-H1 (6 tháng), 2023-9M (9 tháng), 2023 (năm), 2023-Q3 (quý), 2023-05 (tháng); mặc định kỳ gần nhất đã chốt số liệu.")
@click.option("--as-of", "as_of", callback=_date, metavar="DATE", help="Ngày báo cáo (mặc định: hôm nay, giờ Hà Nội).")
@click.option("--number", metavar="SỐ", help="Số văn bản (mặc định để trống cho văn thư điền).")
@click.option("--no-send", is_flag=True, help="Chỉ lập tệp, không gửi thư cho nơi nhận.")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Tệp kế hoạch.")
def report_command(period, as_of, number, no_send, plan_file) -> None:
    """Lập báo cáo định kỳ gửi cấp trên (PDF, DOCX, XLSX, biểu đồ) và gửi qua hộp thư đi."""
    from flows.main_job import run_report
    from plan.calendar import ReportingPeriod

    plan = _valid_plan(plan_file, quiet=True)
    if period is not None:
        try:
            ReportingPeriod.parse(period)
        except ValueError as exc:
            raise UserError(f"--period: {exc}") from None
    path = plan_file if plan_file is not None else default_plan_path()
    sys.exit(run_report(plan, Path(path), period, as_of, number, not no_send, _console()))


@cli.group("outbox", invoke_without_command=True)
@click.option("--status", type=click.Choice(["queued", "sending", "sent", "failed"]), help="Chỉ thư ở trạng thái này.")
@click.pass_context
def outbox_group(ctx, status) -> None:
    """Hộp thư đi: mọi thư đã xếp hàng, đã gửi hoặc lỗi (số lần thử, lỗi gần nhất, lần thử tới)."""
    if ctx.invoked_subcommand is not None:
        return
    from flows.runtime import ledger
    from flows.views import outbox_table
    from notifications.outbox import Outbox

    entries = Outbox(_open_ledger(ledger)).entries(status)
    _console().print(outbox_table(entries))


@outbox_group.command("retry")
@click.option("--include-permanent", is_flag=True, help="Thử lại cả thư đã bị từ chối hẳn (ví dụ sau khi sửa địa chỉ).")
def outbox_retry(include_permanent: bool) -> None:
    """Thử gửi lại ngay các thư lỗi, không chờ lịch thử lại."""
    from flows.main_job import deliver_now

    sys.exit(deliver_now(_console(), include_permanent=include_permanent))


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ nghe của máy chủ Prefect (API và giao diện). Chỉ đổi khi đã có HTTPS phía trước (xem README).")
@click.option("--port", default=4200, show_default=True, type=click.IntRange(1, 65535), help="Cổng của máy chủ Prefect.")
@click.option("--workers", default=1, show_default=True, type=int, help="Số worker chạy các lượt của work pool kehoach trên máy này.")
@click.option("--worker-limit", default=4, show_default=True, type=int, help="Số lượt chạy cùng lúc tối đa của mỗi worker.")
@click.option("--no-deploy", is_flag=True, help="Không chạy lại prefect deploy --all (giữ các deployment đang có).")
def serve_command(host: str, port: int, workers: int, worker_limit: int, no_deploy: bool) -> None:
    """Chạy cho cả nhóm: máy chủ Prefect (có mật khẩu), work pool, các deployment và worker; Ctrl-C để dừng."""
    from flows import serve
    from flows.team_stack import StackError, find_project, layout

    project = find_project(Path.cwd())
    if project is None:
        raise UserError("Không tìm thấy prefect.yaml: chạy kehoach serve từ thư mục mã nguồn Kehoach")
    try:
        home = Path(os.environ.get("KEHOACH_HOME", "").strip() or ".kehoach").expanduser().resolve()
        stack = layout(os.environ, host=host, port=port, workers=workers, worker_limit=worker_limit,
                       project=project, stored_auth=serve.stored_auth(home))
        code = serve.serve(stack, lambda line: click.echo(line), setup=not no_deploy)
    except StackError as exc:
        raise UserError(str(exc)) from None
    except serve.ServeFailed as exc:
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)


@cli.command("doctor")
@click.option("--fix", is_flag=True, help="Đánh dấu Crashed các lượt chạy chắc chắn đã mất tiến trình, để chạy lại được.")
def doctor_command(fix: bool) -> None:
    """Kiểm tra máy chủ Prefect, worker, sổ và hộp thư đi; tìm lượt chạy bị bỏ dở sau sự cố."""
    from flows.doctor import check

    sys.exit(check(_console(), fix=fix))


def _open_ledger(ledger_factory):
    from plan.ledger import LedgerError

    try:
        return ledger_factory()
    except LedgerError as exc:
        raise UserError(str(exc)) from None


# --- helpers ---------------------------------------------------------------------------------


def _load(plan_file: Path | None) -> LoadResult:
    path = plan_file if plan_file is not None else default_plan_path()
    return load_plan(path, display_name=_display_path(str(path)))


def _valid_plan(plan_file: Path | None, *, quiet: bool = False) -> Plan:
    result = _load(plan_file)
    if not result.ok:
        _print_problems(result)
        click.echo(f"Kế hoạch không hợp lệ: {_count(result)}.", err=True)
        sys.exit(EXIT_INVALID)
    if not quiet:
        _print_problems(result)
    return result.plan


def _print_problems(result: LoadResult) -> None:
    for problem in result.problems:
        click.echo(problem.render(), err=True)


def _count(result: LoadResult) -> str:
    return f"{len(result.errors)} lỗi, {len(result.warnings)} cảnh báo"


def _display_path(source: str) -> str:
    """Paths under the current directory are shown relative, as compilers do."""
    try:
        relative = os.path.relpath(source)
    except ValueError:
        return source
    return relative if not relative.startswith("..") else source


def _console():
    from rich.console import Console

    # Piped into a file or a mail, a table wider than rich's 80-column default reads better than
    # one squeezed to it; a terminal (or $COLUMNS) decides for itself.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 140
    return Console(width=width)


def main() -> None:
    try:
        cli.main(prog_name="kehoach", standalone_mode=True)
    except BrokenPipeError:  # `kehoach plan show --json | head`
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    main()

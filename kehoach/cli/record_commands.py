"""`kehoach record` and `kehoach request`: what units report, written to the ledger in one
transaction, then handed to any flow run that is waiting for it."""

from __future__ import annotations

import click

from kehoach.cli import inputs
from kehoach.cli.errors import UserError
from plan.model import STAGE_LABELS, Stage


@click.command("record")
@click.argument("item")
@click.argument("stage")
@click.option("--occurrence", help="Đợt (tháng 2023-05, ngày của một yêu cầu…); mặc định đợt chính.")
@click.option("--counterpart", help="Đối tác trả lời (bước coordination).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Một trường của kết quả, ví dụ indicators.participants=120.")
@click.option("--note", help="Ghi chú.")
@click.option("--on", "on", callback=inputs.date_option, metavar="DATE", help="Ngày báo kết quả (mặc định: hôm nay).")
@click.option("--by", "by", callback=inputs.person_option, help="Người báo (mặc định: $KEHOACH_USER hoặc tên đăng nhập).")
@inputs.PLAN_OPTION
@inputs.FORCE_OPTION
def record_command(item, stage, occurrence, counterpart, pairs, note, on, by, plan_file, force) -> None:
    """Ghi kết quả một bước: ITEM (số hoặc mã nội dung), STAGE (preparation, coordination, execution, reporting)."""
    from plan.events import plan_ref
    from plan.outcomes import parse_assignments
    from plan.recording import InputError, find_item, find_stage, outcome_record

    settings = inputs.settings()
    plan = inputs.valid_plan(plan_file, quiet=True)
    try:
        data = parse_assignments(list(pairs))
    except ValueError as exc:
        raise UserError(f"--set: {exc}") from None
    if note:
        data["note"] = note
    on = inputs.within_plan(plan, on, "--on", force)
    book = inputs.open_ledger(settings)
    try:
        the_item = find_item(plan, item)
        the_stage = find_stage(stage)
        target, produced = outcome_record(
            plan, the_item, the_stage, data, book.events(plan.id),
            on=on, actor=by or settings.actor, occurrence=occurrence, counterpart=counterpart,
        )
    except InputError as exc:
        raise UserError("kết quả không được ghi:\n  " + "\n  ".join(exc.problems)) from None
    written = book.append(plan_ref(plan), produced)
    click.echo(f"Đã ghi {_describe(the_stage, target.id)} của nội dung {the_item.number}: {len(written)} sự kiện mới.")
    if not settings.has_server:
        return  # the embedded default has no runs that outlive a command
    from flows.resume import resume_waiting_runs

    resumed, failed = resume_waiting_runs(plan, the_item.id, target.id, the_stage, produced[0].payload)
    for run_id in resumed:
        click.echo(f"Đã tiếp tục lượt chạy đang chờ: {run_id}")
    for reason in failed:
        click.echo(f"Không tiếp tục được lượt chạy {reason} (kết quả đã được ghi vào sổ).", err=True)


@click.command("request")
@click.argument("item")
@click.option("--counterpart", help="Đối tác đề nghị (ví dụ dsq-nhat-ban).")
@click.option("--date", "start", callback=inputs.date_option, required=True, metavar="DATE", help="Ngày tổ chức.")
@click.option("--until", callback=inputs.date_option, metavar="DATE", help="Ngày kết thúc, nếu kéo dài nhiều ngày.")
@click.option("--title", help="Tên sự kiện hoặc khóa học.")
@click.option("--on", "on", callback=inputs.date_option, metavar="DATE", help="Ngày nhận yêu cầu (mặc định: hôm nay).")
@click.option("--by", "by", callback=inputs.person_option, help="Người ghi.")
@inputs.PLAN_OPTION
@inputs.FORCE_OPTION
def request_command(item, counterpart, start, until, title, on, by, plan_file, force) -> None:
    """Ghi một yêu cầu (nội dung theo yêu cầu, ví dụ ND 8) hoặc một đợt của chương trình: một đợt mới."""
    from plan.events import plan_ref
    from plan.recording import InputError, find_item, request_record

    settings = inputs.settings()
    plan = inputs.valid_plan(plan_file, quiet=True)
    on = inputs.within_plan(plan, on, "--on", force)
    inputs.within_plan(plan, start, "--date", force)
    if until is not None:
        inputs.within_plan(plan, until, "--until", force)
    try:
        event = request_record(
            plan, find_item(plan, item), start=start, end=until, counterpart=counterpart, title=title,
            on=on, actor=by or settings.actor,
        )
    except InputError as exc:
        raise UserError("yêu cầu không được ghi:\n  " + "\n  ".join(exc.problems)) from None
    written = inputs.open_ledger(settings).append(plan_ref(plan), [event])
    state = "đã ghi" if written else "đã có từ trước, không ghi lại"
    click.echo(f"Đợt «{event.occurrence}» của nội dung {plan.item(event.item).number}: {state}.")


def _describe(stage: Stage, occurrence: str) -> str:
    where = "" if occurrence == "main" else f", đợt {occurrence}"
    return f"bước {STAGE_LABELS[stage]}{where}"

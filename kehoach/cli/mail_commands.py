"""`kehoach digest` and `kehoach outbox [retry]`: the week's digests, and the mail waiting to go."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from kehoach.cli import inputs
from kehoach.cli.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, UserError
from kehoach.embedded_api import embedded_api
from kehoach.settings import Settings


@click.command("digest")
@click.option("--as-of", "as_of", callback=inputs.date_option, metavar="DATE", help="Ngày xét (mặc định: hôm nay, giờ Hà Nội).")
@click.option("--unit", help="Chỉ thư cho một đơn vị (mã, ví dụ van-phong).")
@inputs.PLAN_OPTION
@inputs.FORCE_OPTION
def digest_command(as_of, unit, plan_file, force) -> None:
    """Gửi thư tổng hợp tuần cho các đơn vị và Ban Giám đốc (qua hộp thư đi; mặc định vào maildir)."""

    settings = inputs.settings()
    plan = inputs.valid_plan(plan_file, quiet=True)
    as_of = inputs.within_plan(plan, as_of, "--as-of", force)
    if unit is not None and unit not in {u.id for u in plan.units} | {plan.directors.id}:
        raise UserError(f"không có đơn vị «{unit}» — cần một mã trong: {', '.join(u.id for u in plan.units)}, {plan.directors.id}")
    sys.exit(run_digest(settings, inputs.plan_path(plan_file), as_of, unit, inputs.console()))


def run_digest(settings: Settings, path: Path, as_of: dt.date | None, unit: str | None, console: Any) -> int:
    """The week's digests through the outbox; says where they went."""
    from flows import resources
    from notifications.settings import MailSettingsError
    from notifications.transport import transport_from_settings

    inputs.open_ledger(settings)  # a ledger that cannot be opened is told before any run starts
    as_of = as_of or resources.today()
    try:
        transport_from_settings(settings.mail, settings.home).close()  # refuse bad settings before any run starts
    except MailSettingsError as exc:
        console.print(f"[red]lỗi[/red]: {exc}", highlight=False)
        return EXIT_INVALID
    from flows.delivery import MailNotDelivered

    try:
        if settings.has_server:  # a flow run on the team's server, visible in its UI
            with embedded_api(settings):
                from flows.digest import unit_digest

                run = unit_digest(as_of=as_of, unit=unit, plan_path=str(path.resolve()))
        else:  # the same steps in this process: no Prefect start-up for a one-off command
            from flows.digest_job import make_digests

            run = make_digests(as_of=as_of, unit=unit, plan_path=str(path.resolve()))
    except MailNotDelivered as exc:
        console.print(f"[red]Thư bị từ chối[/red]: {exc}", highlight=False)
        return EXIT_FAILED
    mail = settings.mail
    where = f"máy chủ SMTP {mail.smtp_host}" if mail.smtp_configured else f"maildir {settings.maildir} (mở bằng Thunderbird, mutt hoặc đọc tệp .eml trong new/)"
    console.print(
        f"Thư tổng hợp ngày {as_of:%d/%m/%Y}: {len(run.queued)} thư mới, {len(run.delivery.sent)} thư đã gửi tới {where}.",
        highlight=False,
    )
    return undelivered(console)


def undelivered(console: Any) -> int:
    """Mail still waiting in the outbox after a delivery, told with when it will be tried again: exit 1
    when there is any (the command did not get everything out), else 0."""
    from flows import resources
    from notifications.outbox import Outbox

    failed = Outbox(resources.ledger()).entries("failed")
    if not failed:
        return EXIT_OK
    console.print(f"[red]{len(failed)} thư chưa gửi được[/red] (vẫn nằm trong hộp thư đi, không mất; xem kehoach outbox --status failed):", highlight=False)
    by_reason: dict[tuple[str, str], int] = {}
    for entry in failed:
        if entry.permanent:
            when = "sửa nguyên nhân rồi chạy kehoach outbox retry --include-permanent"
        elif entry.next_attempt_at:
            when = f"tự thử lại lúc {entry.next_attempt_at.astimezone(resources.TIMEZONE):%H:%M ngày %d/%m}, hoặc gửi ngay: kehoach outbox retry"
        else:
            when = "gửi ngay: kehoach outbox retry"
        reason = (entry.last_error or "lỗi không rõ", when)
        by_reason[reason] = by_reason.get(reason, 0) + 1
    for (error, when), count in by_reason.items():
        console.print(f"  {count} thư: {error} — {when}", highlight=False)
    return EXIT_FAILED


@click.group("outbox", invoke_without_command=True)
@click.option("--status", type=click.Choice(["queued", "sending", "sent", "failed"]), help="Chỉ thư ở trạng thái này.")
@click.pass_context
def outbox_group(ctx, status) -> None:
    """Hộp thư đi: mọi thư đã xếp hàng, đã gửi hoặc lỗi (số lần thử, lỗi gần nhất, lần thử tới)."""
    if ctx.invoked_subcommand is not None:
        return
    from kehoach.cli.tables import outbox_table
    from notifications.outbox import Outbox

    entries = Outbox(inputs.open_ledger(inputs.settings())).entries(status)
    inputs.console().print(outbox_table(entries))


@outbox_group.command("retry")
@click.option("--include-permanent", is_flag=True, help="Thử lại cả thư đã bị từ chối hẳn (ví dụ sau khi sửa địa chỉ).")
def outbox_retry(include_permanent: bool) -> None:
    """Thử gửi lại ngay các thư lỗi, không chờ lịch thử lại."""
    sys.exit(deliver_now(inputs.settings(), inputs.console(), include_permanent=include_permanent))


def deliver_now(settings: Settings, console: Any, *, include_permanent: bool = False) -> int:
    """Failed mail due now, sent now (no Prefect needed)."""
    from notifications.outbox import Outbox
    from notifications.settings import MailSettingsError
    from notifications.transport import transport_from_settings

    outbox = Outbox(inputs.open_ledger(settings))
    try:
        transport = transport_from_settings(settings.mail, settings.home)
    except MailSettingsError as exc:
        console.print(f"[red]lỗi[/red]: {exc}", highlight=False)
        return EXIT_INVALID
    reset = outbox.retry_now(include_permanent=include_permanent)
    try:
        report = outbox.deliver(transport, settings.mail.sender)
    finally:
        transport.close()
    console.print(f"Thử lại {reset} thư; đã gửi {len(report.sent)}, còn lỗi tạm thời {len(report.retry)}, bị từ chối {len(report.permanent)}.", highlight=False)
    refused = 0 if include_permanent else len([e for e in outbox.entries("failed") if e.permanent])
    if refused:
        console.print(f"{refused} thư bị máy chủ từ chối hẳn không được thử lại: sửa nguyên nhân (xem kehoach outbox --status failed) "
                      "rồi chạy kehoach outbox retry --include-permanent", highlight=False)
    for key, error in {**report.retry, **report.permanent}.items():
        console.print(f"  {key}: {error}", highlight=False)
    return EXIT_OK if not report.retry and not report.permanent and not refused else EXIT_FAILED

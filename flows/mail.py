"""Mail from flows: queue in the outbox, then deliver; the `unit-digest` flow.

Everything is queued before anything is sent, so a crash or an SMTP outage loses nothing: the next
run (or `kehoach outbox retry`) sends what is still due, each key at most once.

    python -m flows.mail 2023-10-16          # this week's digests, to the maildir by default
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows import runtime
from notifications.mail import Address, Mail
from plan.progress import plan_status


class MailNotDelivered(RuntimeError):
    """Some mail was refused for good (a 5xx answer, a bad certificate): the run fails with the reason."""


def mail_settings():
    """Settings from the environment; in a deployment the SMTP password may come from a Prefect
    Secret block named by KEHOACH_SMTP_PASSWORD_BLOCK (the password itself never leaves the block)."""
    from notifications.settings import MailSettings

    settings = MailSettings()
    block = os.environ.get("KEHOACH_SMTP_PASSWORD_BLOCK")
    if block and settings.smtp_password is None:
        from prefect.blocks.system import Secret
        from pydantic import SecretStr

        settings = settings.model_copy(update={"smtp_password": SecretStr(Secret.load(block).get())})
    return settings


def home() -> Path:
    return Path(os.environ.get("KEHOACH_HOME") or ".kehoach").resolve()


def sender(settings) -> Address:
    return Address(settings.mail_from, settings.mail_from_name)


def queue_mail(plan_id: str, mails: list[Mail]) -> list[str]:
    from notifications.outbox import Outbox

    return Outbox(runtime.ledger()).queue(plan_id, mails)


@task(name="deliver-mail", retries=2, retry_delay_seconds=[60, 300])
def deliver_task(limit: int | None = None) -> dict[str, Any]:
    """Send every due mail. Temporary failures make the task retry after the outbox's backoff (1 and
    5 minutes); what is still undelivered stays queued for the next run. Permanent failures are
    reported, not retried."""
    from notifications.outbox import Outbox
    from notifications.transport import transport_from_settings

    settings = mail_settings()
    transport = transport_from_settings(settings, home())
    try:
        report = Outbox(runtime.ledger()).deliver(transport, sender(settings), limit=limit)
    finally:
        transport.close()
    summary = {
        "sent": list(report.sent),
        "retry": {key: error for key, error in report.retry.items()},
        "permanent": {key: error for key, error in report.permanent.items()},
        "transport": type(transport).__name__,
    }
    if report.retry and not report.sent and not report.permanent:
        raise RuntimeError(f"{len(report.retry)} thư chưa gửi được, sẽ thử lại: {next(iter(report.retry.values()))}")
    return summary


def deliver_and_check(logger) -> dict[str, Any]:
    summary = deliver_task()
    for key, error in summary["permanent"].items():
        logger.error("Thư %s bị từ chối: %s", key, error)
    if summary["permanent"]:
        raise MailNotDelivered("; ".join(f"{k}: {e}" for k, e in summary["permanent"].items()))
    return summary


@flow(name="unit-digest", flow_run_name="Thư tổng hợp {as_of}", log_prints=False)
def unit_digest(as_of: dt.date | None = None, unit: str | None = None, plan_path: str | None = None) -> dict[str, Any]:
    """Thư tổng hợp hằng tuần cho từng đơn vị và cho Ban Giám đốc, qua hộp thư đi (outbox).

    unit: chỉ gửi cho một đơn vị (mã, ví dụ van-phong); mặc định mọi đơn vị và Ban Giám đốc.
    """
    from notifications.digest import digest_mails

    logger = get_run_logger()
    as_of = as_of or runtime.today()
    plan, _ = runtime.load(plan_path)
    statuses = plan_status(plan, runtime.ledger().events(plan.id), as_of)
    mails = digest_mails(plan, statuses, as_of)
    if unit is not None:
        mails = [m for m in mails if f"/{unit}/" in m.key]
    queued = queue_mail(plan.id, mails)
    summary = deliver_and_check(logger)
    create_markdown_artifact(
        key=f"unit-digest-{plan.id}".replace("_", "-")[:64],
        markdown="\n".join(
            [f"# Thư tổng hợp ngày {as_of:%d/%m/%Y}", "", f"- Thư mới vào hộp thư đi: {len(queued)}", f"- Đã gửi: {len(summary['sent'])}", f"- Chờ gửi lại: {len(summary['retry'])}"]
        ),
        description="Thư tổng hợp hằng tuần",
    )
    return {"queued": queued, **summary}


if __name__ == "__main__":
    unit_digest(dt.date.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else None)

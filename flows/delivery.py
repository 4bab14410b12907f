"""Mail from a run: queue in the outbox, then deliver, with the settings' transport. No Prefect here:
`kehoach digest` and `kehoach report` with no server configured deliver through these functions
directly; the flows wrap `deliver` in a task (flows/mail_task.py).

Everything is queued before anything is sent, so a crash or an SMTP outage loses nothing: the next
run (or `kehoach outbox retry`) sends what is still due, each key at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flows import resources
from notifications.mail import Mail
from notifications.outbox import Outbox
from notifications.settings import MailSettings
from notifications.transport import transport_from_settings


class MailNotDelivered(RuntimeError):
    """Some mail was refused for good (a 5xx answer, a bad certificate): the run fails with the reason."""


class MailToRetry(RuntimeError):
    """Nothing could be sent and everything may go later: raised so that the deliver task retries."""


@dataclass(frozen=True)
class Delivery:
    """What one delivery sent, what waits to be tried again, what was refused for good (key → reason)."""

    sent: tuple[str, ...] = ()
    retry: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)
    transport: str = ""


def mail_settings() -> MailSettings:
    """The mail settings; in a deployment the SMTP password may come from a Prefect Secret block
    named by KEHOACH_SMTP_PASSWORD_BLOCK (the password itself never leaves the block)."""
    settings = resources.settings()
    mail = settings.mail
    if settings.smtp_password_block and mail.smtp_password is None:
        from prefect.blocks.system import Secret

        secret: Secret = Secret.load(settings.smtp_password_block)  # type: ignore[assignment]  # sync here (sync_compatible)
        mail = mail.with_password(secret.get())
    return mail


def queue_mail(plan_id: str, mails: list[Mail]) -> list[str]:
    return Outbox(resources.ledger()).queue(plan_id, mails)


def deliver(limit: int | None = None, retry_here: bool = True) -> Delivery:
    """Send every due mail. With `retry_here`, a delivery that sent nothing and may succeed later
    raises MailToRetry (the deliver task then tries again after 1 and 5 minutes); what is still
    undelivered stays queued for the next run. Permanent failures are reported, not retried."""
    mail = mail_settings()
    transport = transport_from_settings(mail, resources.settings().home)
    try:
        report = Outbox(resources.ledger()).deliver(transport, mail.sender, limit=limit)
    finally:
        transport.close()
    delivery = Delivery(
        sent=tuple(report.sent), retry=dict(report.retry), permanent=dict(report.permanent), transport=type(transport).__name__
    )
    if retry_here and report.retry and not report.sent and not report.permanent:
        raise MailToRetry(f"{len(report.retry)} thư chưa gửi được, sẽ thử lại: {next(iter(report.retry.values()))}")
    return delivery


def checked(delivery: Delivery, logger: Any) -> Delivery:
    """The delivery, its failures logged; a permanent refusal raises MailNotDelivered."""
    for key, error in delivery.retry.items():
        logger.warning("Thư %s chưa gửi được, sẽ thử lại: %s", key, error)
    for key, error in delivery.permanent.items():
        logger.error("Thư %s bị từ chối: %s", key, error)
    if delivery.permanent:
        raise MailNotDelivered("; ".join(f"{k}: {e}" for k, e in delivery.permanent.items()))
    return delivery


def deliver_once(logger: Any = None) -> Delivery:
    """Deliver what is due, once (a person is waiting): the outbox's schedule and `kehoach outbox
    retry` do the retrying."""
    return checked(deliver(retry_here=False), logger or logging.getLogger("kehoach"))

"""Sending one mail: yagmail over SMTP (`notifications.smtp`), or a maildir under KEHOACH_HOME when no
SMTP is configured (`notifications.maildir`). Both send the MIME message `notifications.message`
builds, and fail with `notifications.sending.DeliveryError`; `transport_from_settings` chooses.
"""

from __future__ import annotations

from pathlib import Path

from notifications.maildir import MaildirTransport
from notifications.sending import DeliveryError, Refused, Transport
from notifications.settings import MailSettings
from notifications.smtp import SmtpTransport

# The transports and what they promise, where the outbox and the flows have been importing them.
__all__ = ["transport_from_settings", "DeliveryError", "MaildirTransport", "Refused", "SmtpTransport", "Transport"]


def transport_from_settings(settings: MailSettings, home: Path) -> SmtpTransport | MaildirTransport:
    """SMTP when KEHOACH_SMTP_HOST is set, else the maildir in KEHOACH_HOME/maildir."""
    if settings.smtp_configured:
        return SmtpTransport(settings)
    return MaildirTransport(Path(home) / "maildir")


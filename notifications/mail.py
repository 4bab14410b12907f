"""A mail as Kehoach means it, before any transport: who, what, and the key that makes it unique."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class MailKind(StrEnum):
    DRAFT = "draft"  # a report's draft, to the compiling unit: review, sign, approve
    DIGEST = "digest"  # weekly status digest of one unit
    DIRECTORS = "directors"  # overview for the directors (Ban Giám đốc)
    INVITATION = "invitation"  # letter inviting a counterpart to coordinate
    REMINDER = "reminder"  # a stage falls due soon
    OVERDUE = "overdue"  # a stage is past its due date
    ESCALATION = "escalation"  # overdue past the plan's threshold: to the directors
    REPORT = "report"  # the periodic report sent upward


@dataclass(frozen=True)
class Address:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Mail:
    """One mail to queue. `key` is its idempotency key: a key is queued once and sent at most once."""

    key: str
    kind: MailKind
    to: tuple[Address, ...]
    subject: str
    html: str
    text: str
    cc: tuple[Address, ...] = ()
    attachments: tuple[Path, ...] = field(default=())
    # Where answers go (an official mail: the compiling unit), and the sender's name shown instead
    # of the configured one (KEHOACH_MAIL_FROM_NAME); the sender's address stays the configured one.
    reply_to: tuple[Address, ...] = ()
    sender_name: str | None = None

    def sender(self, configured: Address) -> Address:
        """The From address of this mail: the configured one, under this mail's name if it has one."""
        return Address(configured.email, self.sender_name) if self.sender_name else configured

    @property
    def message_id(self) -> str:
        """A Message-ID derived from the key: a resent copy is recognisably the same mail."""
        digest = hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:32]
        return f"<{digest}@kehoach>"


def mail_key(kind: MailKind, recipient: str, *parts: object) -> str:
    """kind/recipient/item/occurrence/period… — the outbox's idempotency key."""
    return "/".join([kind.value, recipient, *(str(p) for p in parts if p is not None)])

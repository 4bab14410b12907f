"""The outbox: every mail is queued in the ledger's database before anything is sent.

queued → sending → sent | failed. A key is queued once and sent at most once by the outbox: each
due entry is claimed with a conditional UPDATE (only one deliverer wins it), sent outside any
transaction, then marked sent or failed in its own short transaction. A temporary failure is
retried with backoff (1, 5, 15, 60 minutes, then every 4 hours) by the next delivery; a permanent
one waits for `retry_now(include_permanent=True)`. Nothing queued is ever dropped.

The one case that can send a mail twice: a process that dies between the server accepting the
mail and the row being marked sent leaves it "sending"; after 15 minutes it is due again. The copy
carries the same Message-ID, so mail readers can tell it is the same mail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from notifications.mail import Address, Mail, MailKind
from notifications.sending import DeliveryError, Transport
from plan.ledger import Ledger
from plan.ledger_tables import outbox_files_table, outbox_table
from plan.nfc import nfc

log = logging.getLogger(__name__)

UTC = dt.UTC

# A claim older than this is taken for a crash mid-send (an SMTP send gives up long before).
STALE_CLAIM = dt.timedelta(minutes=15)
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(minutes=60),
    dt.timedelta(hours=4),
)


# Typed as the dialects' own INSERTs (each has ON CONFLICT), not the common base (which has not).
_INSERTS: dict[str, Callable[[sa.Table], sqlite.Insert | postgresql.Insert]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 5, 15, 60 minutes, then 4 hours."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    kind: str
    to: tuple[Address, ...]
    subject: str
    status: str
    attempts: int
    last_error: str | None
    permanent: bool
    next_attempt_at: dt.datetime | None
    queued_at: dt.datetime
    sent_at: dt.datetime | None
    plan_id: str = ""
    cc: tuple[Address, ...] = ()


@dataclass
class DeliveryReport:
    """What one delivery did: keys sent, keys to retry and permanently failed keys with their errors.
    `warnings`: keys sent while the server refused some of their recipients."""

    sent: list[str] = field(default_factory=list)
    retry: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.retry and not self.permanent


class Outbox:
    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    # -- queueing ----------------------------------------------------------------------------------

    def queue(self, plan_id: str, mails: Sequence[Mail], now: dt.datetime | None = None) -> list[str]:
        """Queue the mails in one transaction; keys already in the outbox are left as they are.
        Returns the keys newly queued."""
        if not mails:
            return []
        now = _aware(now)
        insert = _INSERTS[self.ledger.engine.dialect.name]  # ON CONFLICT DO NOTHING, as the ledger's appends
        queued: list[str] = []
        seen: set[str] = set()
        with self.ledger.transaction(write=True) as conn:
            for mail in mails:
                row = _row(plan_id, mail, now)
                if row["idempotency_key"] in seen:
                    continue
                seen.add(row["idempotency_key"])
                row["attachments"] = [self._freeze(conn, insert, Path(p)) for p in mail.attachments]
                stmt = (
                    insert(outbox_table)
                    .values(**row)
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(outbox_table.c.id)
                )
                if conn.execute(stmt).scalar_one_or_none() is not None:
                    queued.append(row["idempotency_key"])
        return queued

    @staticmethod
    def _freeze(conn: Any, insert: Callable[[sa.Table], Any], path: Path) -> dict[str, Any]:
        """The file's bytes as they are now, kept in the outbox (once per content)."""
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        conn.execute(
            insert(outbox_files_table).values(sha256=digest, content=content, size=len(content)).on_conflict_do_nothing(index_elements=["sha256"])
        )
        return {"name": path.name, "sha256": digest, "size": len(content)}

    @contextlib.contextmanager
    def _attachments(self, row: Any) -> Iterator[tuple[Path, ...]]:
        """The attachments of an outbox row as files, exactly as they were queued: written to a
        temporary folder under their own names for the transport, removed after sending. A row
        queued before attachments were frozen (file paths) gives its paths as they are."""
        listed = row["attachments"] or []
        frozen = [a for a in listed if isinstance(a, dict)]
        if not frozen:
            yield tuple(Path(p) for p in listed)
            return
        with self.ledger.transaction(write=False) as conn:
            query = sa.select(outbox_files_table.c.sha256, outbox_files_table.c.content).where(
                outbox_files_table.c.sha256.in_({a["sha256"] for a in frozen})
            )
            contents = {digest: bytes(content) for digest, content in conn.execute(query)}
        with tempfile.TemporaryDirectory(prefix="kehoach-attachments-") as folder:
            paths = []
            for number, attachment in enumerate(frozen):
                content = contents.get(attachment["sha256"])
                if content is None or hashlib.sha256(content).hexdigest() != attachment["sha256"]:
                    raise DeliveryError(f"Tệp đính kèm {attachment['name']} không còn nguyên trong hộp thư đi", permanent=True)
                target = Path(folder) / str(number) / attachment["name"]
                target.parent.mkdir()
                target.write_bytes(content)
                paths.append(target)
            yield tuple(paths)

    # -- delivering --------------------------------------------------------------------------------

    def deliver(
        self,
        transport: Transport,
        sender: Address,
        now: dt.datetime | None = None,
        limit: int | None = None,
    ) -> DeliveryReport:
        """Send every due entry (queued; failed, temporary and past its next attempt; or claimed
        more than 15 minutes ago), oldest first, at most `limit`."""
        fixed = _aware(now) if now is not None else None
        clock = (lambda: fixed) if fixed is not None else _utc_now
        report = DeliveryReport()
        t = outbox_table
        query = sa.select(t.c.id).where(_due(clock())).order_by(t.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.ledger.transaction(write=False) as conn:
            ids = list(conn.execute(query).scalars())

        down: DeliveryError | None = None  # the server could not be reached: the rest fail alike
        for entry_id in ids:
            claimed_at = clock()
            row = self._claim(entry_id, claimed_at)
            if row is None:
                continue  # another deliverer took it, or it is no longer due
            key = row["idempotency_key"]
            if down is not None:
                self._failed(entry_id, claimed_at, row["attempts"], down, clock())
                _record(report, key, down)
                continue
            try:
                with self._attachments(row) as attachments:
                    mail = _mail(row, attachments)
                    refused = transport.send(mail, mail.sender(sender))
            except DeliveryError as exc:
                self._failed(entry_id, claimed_at, row["attempts"], exc, clock())
                _record(report, key, exc)
                log.warning("Thư %s chưa gửi được%s: %s", key, " (hẳn)" if exc.permanent else "", exc)
                if exc.connection:
                    down = exc
                continue
            except Exception as exc:
                # A bug, not a delivery problem; the entry must not stay "sending" for 15 minutes.
                error = DeliveryError(f"Lỗi khi gửi thư: {type(exc).__name__}: {exc}")
                self._failed(entry_id, claimed_at, row["attempts"], error, clock())
                raise
            warning = None
            if refused:
                warning = "Máy chủ thư từ chối một số người nhận: " + "; ".join(
                    f"{addr}: {code} {reply}" for addr, (code, reply) in refused.items()
                )
                report.warnings[key] = warning
            self._sent(entry_id, claimed_at, row["attempts"], warning, clock())
            report.sent.append(key)
            log.info("Đã gửi thư %s", key)
        return report

    def _claim(self, entry_id: int, now: dt.datetime) -> Any:
        t = outbox_table
        with self.ledger.transaction(write=True) as conn:
            claimed = conn.execute(
                t.update()
                .where(t.c.id == entry_id, _due(now))
                .values(status=OutboxStatus.SENDING.value, claimed_at=now)
            ).rowcount
            if claimed != 1:
                return None
            return conn.execute(sa.select(t).where(t.c.id == entry_id)).mappings().one()

    def _sent(self, entry_id: int, claimed_at: dt.datetime, attempts: int, warning: str | None, now: dt.datetime) -> None:
        self._finish(
            entry_id,
            claimed_at,
            status=OutboxStatus.SENT.value,
            attempts=attempts + 1,
            last_error=warning,
            permanent=False,
            next_attempt_at=None,
            sent_at=now,
        )

    def _failed(self, entry_id: int, claimed_at: dt.datetime, attempts: int, error: DeliveryError, now: dt.datetime) -> None:
        attempts += 1
        self._finish(
            entry_id,
            claimed_at,
            status=OutboxStatus.FAILED.value,
            attempts=attempts,
            last_error=str(error),
            permanent=error.permanent,
            next_attempt_at=None if error.permanent else now + backoff(attempts),
        )

    def _finish(self, entry_id: int, claimed_at: dt.datetime, **values: Any) -> None:
        t = outbox_table
        with self.ledger.transaction(write=True) as conn:
            done = conn.execute(
                t.update()
                .where(t.c.id == entry_id, t.c.status == OutboxStatus.SENDING.value, t.c.claimed_at == claimed_at)
                .values(claimed_at=None, **values)
            ).rowcount
        if done != 1:
            # Claimed again meanwhile (this send took longer than STALE_CLAIM): the newer claim decides.
            log.warning("Thư số %s đã được một lần gửi khác nhận; không ghi đè trạng thái %s", entry_id, values["status"])

    # -- reading and retrying ----------------------------------------------------------------------

    def entries(self, status: str | None = None, *, plan_id: str | None = None) -> list[OutboxEntry]:
        """The entries, oldest first, narrowed by status and plan."""
        t = outbox_table
        query = sa.select(t).order_by(t.c.id)
        if status is not None:
            query = query.where(t.c.status == OutboxStatus(status).value)
        if plan_id is not None:
            query = query.where(t.c.plan_id == nfc(plan_id))
        with self.ledger.transaction(write=False) as conn:
            return [_entry(row) for row in conn.execute(query).mappings()]

    def keys(self, plan_id: str) -> set[str]:
        """Every key queued for the plan, whatever its status."""
        t = outbox_table
        with self.ledger.transaction(write=False) as conn:
            return set(conn.execute(sa.select(t.c.idempotency_key).where(t.c.plan_id == nfc(plan_id))).scalars())

    def due(self, now: dt.datetime | None = None) -> int:
        """How many entries `deliver` would try now: 0 means a delivery would open no connection."""
        query = sa.select(sa.func.count()).select_from(outbox_table).where(_due(_aware(now)))
        with self.ledger.transaction(write=False) as conn:
            return int(conn.execute(query).scalar_one())

    def counts(self) -> dict[str, int]:
        """How many entries are in each status (every status present, 0 when none)."""
        t = outbox_table
        query = sa.select(t.c.status, sa.func.count()).group_by(t.c.status)
        with self.ledger.transaction(write=False) as conn:
            found = {status: int(n) for status, n in conn.execute(query)}
        return {s.value: found.pop(s.value, 0) for s in OutboxStatus} | found

    def retry_now(self, include_permanent: bool = False, now: dt.datetime | None = None) -> int:
        """Make failed entries due now (permanent failures too, if asked). Returns how many."""
        now = _aware(now)
        t = outbox_table
        condition = t.c.status == OutboxStatus.FAILED.value
        if not include_permanent:
            condition = sa.and_(condition, t.c.permanent == sa.false())
        with self.ledger.transaction(write=True) as conn:
            return conn.execute(t.update().where(condition).values(next_attempt_at=now, permanent=False)).rowcount


# -- rows ------------------------------------------------------------------------------------------


def _due(now: dt.datetime):
    t = outbox_table
    return sa.or_(
        t.c.status == OutboxStatus.QUEUED.value,
        sa.and_(
            t.c.status == OutboxStatus.FAILED.value,
            t.c.permanent == sa.false(),
            sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now),
        ),
        sa.and_(t.c.status == OutboxStatus.SENDING.value, t.c.claimed_at <= now - STALE_CLAIM),
    )


def _row(plan_id: str, mail: Mail, now: dt.datetime) -> dict[str, Any]:
    return {
        "idempotency_key": nfc(mail.key),
        "plan_id": nfc(plan_id),
        "kind": MailKind(mail.kind).value,
        "recipients": _recipients(mail),
        "subject": nfc(mail.subject),
        "html": nfc(mail.html),
        "text": nfc(mail.text),
        "attachments": [],  # frozen by Outbox.queue
        "status": OutboxStatus.QUEUED.value,
        "attempts": 0,
        "last_error": None,
        "permanent": False,
        "next_attempt_at": None,
        "queued_at": now,
        "claimed_at": None,
        "sent_at": None,
    }


def _recipients(mail: Mail) -> dict[str, Any]:
    """To and Cc; Reply-To and the sender's name too when the mail has its own (an official mail)."""
    found: dict[str, Any] = {"to": [[a.email, nfc(a.name)] for a in mail.to], "cc": [[a.email, nfc(a.name)] for a in mail.cc]}
    if mail.reply_to:
        found["reply_to"] = [[a.email, nfc(a.name)] for a in mail.reply_to]
    if mail.sender_name:
        found["sender_name"] = nfc(mail.sender_name)
    return found


def _addresses(pairs: Any) -> tuple[Address, ...]:
    return tuple(Address(email, name or "") for email, name in pairs or ())


def _mail(row: Any, attachments: tuple[Path, ...]) -> Mail:
    recipients = row["recipients"] or {}
    return Mail(
        key=row["idempotency_key"],
        kind=MailKind(row["kind"]),
        to=_addresses(recipients.get("to")),
        cc=_addresses(recipients.get("cc")),
        subject=row["subject"],
        html=row["html"],
        text=row["text"],
        attachments=attachments,
        reply_to=_addresses(recipients.get("reply_to")),
        sender_name=recipients.get("sender_name") or None,
    )


def _entry(row: Any) -> OutboxEntry:
    recipients = row["recipients"] or {}
    return OutboxEntry(
        key=row["idempotency_key"],
        kind=row["kind"],
        to=_addresses(recipients.get("to")),
        subject=row["subject"],
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        permanent=bool(row["permanent"]),
        next_attempt_at=row["next_attempt_at"],
        queued_at=row["queued_at"],
        sent_at=row["sent_at"],
        plan_id=row["plan_id"],
        cc=_addresses(recipients.get("cc")),
    )


def _record(report: DeliveryReport, key: str, error: DeliveryError) -> None:
    (report.permanent if error.permanent else report.retry)[key] = str(error)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _aware(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return _utc_now()
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: the outbox only takes aware datetimes")
    return now.astimezone(UTC)

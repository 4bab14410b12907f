"""The outbox against a real SMTP server: queued once, sent once, faults kept with their errors and
retried with backoff until delivered exactly once; permanent failures wait for a person."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from notifications.mail import Address
from notifications.maildir import MaildirTransport
from notifications.outbox import STALE_CLAIM, Outbox, backoff
from notifications.sending import DeliveryError
from notifications.smtp import SmtpTransport
from plan.ledger_tables import outbox_files_table, outbox_table

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
PLAN = "KH-2026"


def deliver(outbox: Outbox, server, sender, now: dt.datetime, **settings):
    with SmtpTransport(server.settings(**settings)) as transport:
        return outbox.deliver(transport, sender, now=now)


def only(outbox: Outbox):
    (entry,) = outbox.entries()
    return entry


def test_queue_twice_is_one_entry(ledger, mail) -> None:
    outbox = Outbox(ledger)
    m = mail(1)
    assert outbox.queue(PLAN, [m, m], now=T0) == [m.key]
    assert outbox.queue(PLAN, [m, mail(2)], now=T0) == [mail(2).key]
    assert [e.key for e in outbox.entries()] == [m.key, mail(2).key]
    entry = outbox.entries("queued")[0]
    assert entry.status == "queued" and entry.attempts == 0 and entry.queued_at == T0
    assert entry.to == m.to and entry.subject == m.subject and entry.plan_id == PLAN
    assert outbox.counts() == {"queued": 2, "sending": 0, "sent": 0, "failed": 0}


def test_deliver_twice_sends_once(ledger, smtp_server, mail, sender) -> None:
    outbox = Outbox(ledger)
    mails = [mail(n) for n in (1, 2)]
    outbox.queue(PLAN, mails, now=T0)

    report = deliver(outbox, smtp_server, sender, T0)
    assert report.sent == [m.key for m in mails] and report.ok
    assert deliver(outbox, smtp_server, sender, T0 + dt.timedelta(days=1)).sent == []
    outbox.queue(PLAN, mails, now=T0)  # queued again by a later run: still sent already
    assert deliver(outbox, smtp_server, sender, T0 + dt.timedelta(days=2)).sent == []

    assert len(smtp_server.received) == 2
    assert [r.message["Message-ID"] for r in smtp_server.received] == [m.message_id for m in mails]
    assert all(e.status == "sent" and e.attempts == 1 and e.sent_at == T0 and e.last_error is None for e in outbox.entries())


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (("data", "421 4.3.2 Service not available, closing channel"), "421"),
        (("data", "451 4.3.0 Try again later"), "451"),
        (("rcpt", "451 4.3.0 Greylisted"), "451"),
        (("data", "DROP"), "kết nối bị ngắt"),
    ],
    ids=["421", "451-data", "451-rcpt", "dropped-mid-data"],
)
def test_temporary_fault_is_kept_then_delivered_exactly_once(ledger, smtp_server, mail, sender, fault, words) -> None:
    outbox = Outbox(ledger)
    m = mail(1)
    outbox.queue(PLAN, [m], now=T0)
    where, reply = fault
    if where == "data":
        smtp_server.handler.fail_data(reply, times=None)
    else:
        smtp_server.handler.fail_rcpt(m.to[0].email, reply, times=None)

    report = deliver(outbox, smtp_server, sender, T0)
    assert report.sent == [] and list(report.retry) == [m.key] and words in report.retry[m.key]
    entry = only(outbox)
    assert entry.status == "failed" and not entry.permanent and entry.attempts == 1
    assert words in entry.last_error and entry.next_attempt_at == T0 + dt.timedelta(minutes=1)

    # Not due yet: nothing is tried.
    assert deliver(outbox, smtp_server, sender, T0 + dt.timedelta(seconds=30)).retry == {}
    # Still failing at the next attempt: the wait grows.
    report = deliver(outbox, smtp_server, sender, T0 + dt.timedelta(minutes=1))
    assert list(report.retry) == [m.key]
    assert only(outbox).attempts == 2 and only(outbox).next_attempt_at == T0 + dt.timedelta(minutes=6)

    smtp_server.handler.clear_faults()
    later = T0 + dt.timedelta(minutes=6)
    assert deliver(outbox, smtp_server, sender, later).sent == [m.key]
    assert deliver(outbox, smtp_server, sender, later + dt.timedelta(days=1)).sent == []
    assert len(smtp_server.received) == 1
    entry = only(outbox)
    assert entry.status == "sent" and entry.attempts == 3 and entry.sent_at == later and entry.last_error is None


def test_connection_refused_keeps_every_mail_then_delivers(ledger, start_smtp, mail, sender) -> None:
    outbox = Outbox(ledger)
    mails = [mail(n) for n in (1, 2, 3)]
    outbox.queue(PLAN, mails, now=T0)
    server = start_smtp()
    server.controller.stop()

    report = deliver(outbox, server, sender, T0)
    assert set(report.retry) == {m.key for m in mails}
    for entry in outbox.entries():
        assert entry.status == "failed" and not entry.permanent and entry.attempts == 1
        assert "từ chối kết nối" in entry.last_error
        assert entry.next_attempt_at == T0 + dt.timedelta(minutes=1)

    server = start_smtp(port=server.port)  # the server is back, on the same port
    report = deliver(outbox, server, sender, T0 + dt.timedelta(minutes=1))
    assert report.sent == [m.key for m in mails]
    assert len(server.received) == 3


def test_permanent_failure_is_not_retried(ledger, smtp_server, mail, sender) -> None:
    outbox = Outbox(ledger)
    bad, good = mail(1), mail(2)
    outbox.queue(PLAN, [bad, good], now=T0)
    smtp_server.handler.fail_rcpt(bad.to[0].email, "550 5.1.1 <phong1@sovhtt.hanoi.gov.vn>: No such user", times=None)

    report = deliver(outbox, smtp_server, sender, T0)
    assert report.sent == [good.key] and list(report.permanent) == [bad.key] and report.retry == {}
    assert "550 5.1.1" in report.permanent[bad.key] and "No such user" in report.permanent[bad.key]
    (entry,) = outbox.entries("failed")
    assert entry.permanent and entry.next_attempt_at is None and "No such user" in entry.last_error

    # Never again by itself, nor by a plain retry.
    assert deliver(outbox, smtp_server, sender, T0 + dt.timedelta(days=30)).permanent == {}
    assert outbox.retry_now(now=T0) == 0
    assert only_failed(outbox).attempts == 1

    # Fixed (the address now exists), retried on purpose: sent.
    smtp_server.handler.clear_faults()
    assert outbox.retry_now(include_permanent=True, now=T0 + dt.timedelta(days=30)) == 1
    assert deliver(outbox, smtp_server, sender, T0 + dt.timedelta(days=30)).sent == [bad.key]
    assert len(smtp_server.received) == 2


def only_failed(outbox: Outbox):
    (entry,) = outbox.entries("failed")
    return entry


def test_retry_now_makes_temporary_failures_due(ledger, smtp_server, mail, sender) -> None:
    outbox = Outbox(ledger)
    outbox.queue(PLAN, [mail(1)], now=T0)
    smtp_server.handler.fail_data("451 4.3.0 Try again later")
    deliver(outbox, smtp_server, sender, T0)
    assert deliver(outbox, smtp_server, sender, T0 + dt.timedelta(seconds=10)).sent == []
    assert outbox.retry_now(now=T0 + dt.timedelta(seconds=10)) == 1
    assert deliver(outbox, smtp_server, sender, T0 + dt.timedelta(seconds=10)).sent == [mail(1).key]


def test_backoff() -> None:
    assert [backoff(n) for n in range(1, 8)] == [
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=15),
        dt.timedelta(minutes=60),
        dt.timedelta(hours=4),
        dt.timedelta(hours=4),
        dt.timedelta(hours=4),
    ]


def test_a_claim_is_taken_once_and_a_stale_one_again(ledger, mail, sender, tmp_path: Path) -> None:
    outbox = Outbox(ledger)
    outbox.queue(PLAN, [mail(1)], now=T0)
    (entry_id,) = _ids(ledger)
    assert outbox._claim(entry_id, T0) is not None
    assert outbox._claim(entry_id, T0) is None  # the second deliverer gets nothing
    assert outbox.entries("sending")[0].key == mail(1).key

    transport = MaildirTransport(tmp_path / "maildir")
    # A crash mid-send leaves it "sending": not due while the claim is fresh, due once it is stale.
    assert outbox.deliver(transport, sender, now=T0 + STALE_CLAIM - dt.timedelta(seconds=1)).sent == []
    assert outbox.deliver(transport, sender, now=T0 + STALE_CLAIM).sent == [mail(1).key]


def test_concurrent_deliverers_send_each_mail_once(ledger, smtp_server, mail, sender) -> None:
    outbox = Outbox(ledger)
    mails = [mail(n) for n in range(1, 9)]
    outbox.queue(PLAN, mails, now=T0)
    reports = []

    def run() -> None:
        with SmtpTransport(smtp_server.settings()) as transport:
            reports.append(Outbox(ledger).deliver(transport, sender, now=T0))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = [key for report in reports for key in report.sent]
    assert sorted(sent) == sorted(m.key for m in mails)
    assert sorted(r.message["Message-ID"] for r in smtp_server.received) == sorted(m.message_id for m in mails)


def test_maildir_delivery_through_the_outbox(ledger, mail, sender, tmp_path: Path) -> None:
    outbox = Outbox(ledger)
    outbox.queue(PLAN, [mail(1), mail(2)], now=T0)
    with MaildirTransport(tmp_path / "maildir") as transport:
        assert len(outbox.deliver(transport, sender).sent) == 2
        assert outbox.deliver(transport, sender).sent == []
    assert len(list((tmp_path / "maildir" / "new").iterdir())) == 2


def test_attachments_are_frozen_when_queued(ledger, smtp_server, mail, sender, tmp_path: Path, monkeypatch) -> None:
    """What was queued is what goes out: the report rewritten (another number), moved or deleted
    after queueing changes nothing in the mail; the same file sent to two bodies is kept once."""
    report = tmp_path / "Báo cáo.pdf"
    report.write_bytes(b"%PDF-1.4 So: 11/BC-SVHTT\n")
    monkeypatch.chdir(tmp_path)
    outbox = Outbox(ledger)
    outbox.queue(PLAN, [mail(1, attachments=(Path("Báo cáo.pdf"),)), mail(2, attachments=(Path("Báo cáo.pdf"),))], now=T0)
    report.write_bytes(b"%PDF-1.4 So: 22/BC-SVHTT\n")  # `kehoach report --number 22` wrote the same file again
    monkeypatch.chdir("/")
    assert deliver(outbox, smtp_server, sender, T0).sent == [mail(1).key, mail(2).key]
    report.unlink()
    for received in smtp_server.received:
        (part,) = received.message.iter_attachments()
        assert part.get_filename() == "Báo cáo.pdf"
        assert part.get_content() == b"%PDF-1.4 So: 11/BC-SVHTT\n"
    with ledger.transaction(write=False) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox_files_table)).scalar() == 1


def test_a_failed_mail_sent_later_still_carries_what_was_queued(ledger, start_smtp, mail, sender, tmp_path: Path) -> None:
    report = tmp_path / "bao-cao.pdf"
    report.write_bytes(b"first")
    outbox = Outbox(ledger)
    outbox.queue(PLAN, [mail(1, attachments=(report,))], now=T0)
    server = start_smtp()
    server.handler.fail_data("451 try later")
    assert deliver(outbox, server, sender, T0).retry
    report.write_bytes(b"second")
    assert deliver(outbox, server, sender, T0 + dt.timedelta(minutes=2)).sent == [mail(1).key]
    (part,) = server.received[0].message.iter_attachments()
    assert part.get_content() == b"first"


def test_a_missing_attachment_is_refused_when_queued_and_nothing_is_queued(ledger, mail, tmp_path: Path) -> None:
    outbox = Outbox(ledger)
    with pytest.raises(FileNotFoundError):
        outbox.queue(PLAN, [mail(1), mail(2, attachments=(tmp_path / "gone.pdf",))], now=T0)
    assert outbox.entries() == []


def test_password_never_stored_nor_logged(ledger, start_smtp, authenticator, mail, sender, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    password = "s3cret-Ledger-pw"
    server = start_smtp(authenticator=authenticator("kehoach", "the-right-one"), auth_require_tls=False)
    outbox = Outbox(ledger)
    outbox.queue(PLAN, [mail(1), mail(2)], now=T0)

    report = deliver(outbox, server, sender, T0, smtp_user="kehoach", smtp_password=password)
    assert set(report.permanent) == {mail(1).key, mail(2).key}
    for entry in outbox.entries():
        assert entry.permanent and "535" in entry.last_error and password not in entry.last_error
    with ledger.transaction(write=False) as conn:
        rows = [str(tuple(row)) for row in conn.execute(sa.select(outbox_table))]
    assert rows and not any(password in row for row in rows)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]  # not the test server's log
    assert ours and not any(password in line for line in ours)
    assert len(server.handler.sessions) == 0  # one login refused, the second mail not even tried


def test_an_unexpected_error_does_not_leave_the_mail_sending(ledger, mail, sender) -> None:
    class Broken:
        def send(self, mail, sender):
            raise RuntimeError("bug")

        def close(self):
            pass

    outbox = Outbox(ledger)
    outbox.queue(PLAN, [mail(1)], now=T0)
    with pytest.raises(RuntimeError):
        outbox.deliver(Broken(), sender, now=T0)
    entry = only(outbox)
    assert entry.status == "failed" and not entry.permanent and "RuntimeError: bug" in entry.last_error


def test_refused_recipients_are_noted_on_a_sent_mail(ledger, smtp_server, mail, sender) -> None:
    outbox = Outbox(ledger)
    m = mail(1, cc=(Address("nobody@sovhtt.hanoi.gov.vn"),))
    outbox.queue(PLAN, [m], now=T0)
    smtp_server.handler.fail_rcpt("nobody@sovhtt.hanoi.gov.vn", "550 5.1.1 No such user")
    report = deliver(outbox, smtp_server, sender, T0)
    assert report.sent == [m.key] and "nobody@sovhtt.hanoi.gov.vn" in report.warnings[m.key]
    entry = only(outbox)
    assert entry.status == "sent" and "nobody@sovhtt.hanoi.gov.vn" in entry.last_error


def test_delivery_error_is_what_transports_raise() -> None:
    error = DeliveryError("x", permanent=True)
    assert error.permanent and not error.connection and error.message == "x"


def _ids(ledger) -> list[int]:
    with ledger.transaction(write=False) as conn:
        return list(conn.execute(sa.select(outbox_table.c.id).order_by(outbox_table.c.id)).scalars())

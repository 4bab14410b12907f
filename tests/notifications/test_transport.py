"""The transports against a real SMTP server (aiosmtpd on 127.0.0.1): the message as received,
faults mapped to temporary or permanent errors, STARTTLS and implicit TLS, the maildir, settings."""

from __future__ import annotations

import email
import email.policy
import logging
import mailbox
import time
from pathlib import Path

import pytest

from notifications.mail import Address
from notifications.maildir import MaildirTransport
from notifications.message import build_message
from notifications.sending import DeliveryError
from notifications.settings import MailSettings, MailSettingsError
from notifications.smtp import SmtpTransport
from notifications.transport import transport_from_settings

PASSWORD = "hunter2-Secret-pw"


def parsed(message: str | bytes) -> email.message.EmailMessage:
    if isinstance(message, bytes):
        return email.message_from_bytes(message, policy=email.policy.default)
    return email.message_from_string(message, policy=email.policy.default)


def check_message(msg, mail, sender) -> None:
    """What every Kehoach mail looks like to a reader, whichever way it travelled."""
    assert msg["Subject"] == mail.subject
    assert msg["From"].addresses[0].display_name == sender.name
    assert msg["From"].addresses[0].addr_spec == sender.email
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [(a.name, a.email) for a in mail.to]
    if mail.cc:
        assert [(a.display_name, a.addr_spec) for a in msg["Cc"].addresses] == [(a.name, a.email) for a in mail.cc]
    assert msg["Message-ID"] == mail.message_id
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"].datetime.tzinfo is not None

    alternative = next(p for p in msg.walk() if p.get_content_type() == "multipart/alternative")
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain in list(alternative.walk()) and html in list(alternative.walk())
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert plain.get_content() == mail.text  # the readable text, not yagmail's copy of the HTML
    assert html.get_content() == mail.html  # the HTML as written: no <br>, no <div> wrapper
    assert "<br>" not in html.get_content()


# -- the message -----------------------------------------------------------------------------------


def test_message_fixes_what_yagmail_gets_wrong(mail, sender, tmp_path: Path) -> None:
    report = tmp_path / "Báo cáo tháng 5.pdf"
    report.write_bytes(b"%PDF-1.4\n%kehoach\n")
    invite = tmp_path / "Lịch họp.ics"
    invite.write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    m = mail(
        1,
        to=(Address("a@sovhtt.hanoi.gov.vn", "Nguyễn Văn Ánh — Phòng Quản lý Di sản văn hóa"), Address("b@x.vn", 'Trần "Bình"')),
        cc=(Address("gd@sovhtt.hanoi.gov.vn", "Ban Giám đốc Sở"),),
        attachments=(report, invite),
    )
    recipients, message = build_message(m, sender)

    assert recipients == ["a@sovhtt.hanoi.gov.vn", "b@x.vn", "gd@sovhtt.hanoi.gov.vn"]
    assert message.isascii()
    msg = parsed(message)
    check_message(msg, m, sender)
    attachments = {part.get_filename(): part for part in msg.iter_attachments()}
    assert set(attachments) == {"Báo cáo tháng 5.pdf", "Lịch họp.ics"}
    assert attachments["Báo cáo tháng 5.pdf"].get_content() == report.read_bytes()
    assert attachments["Lịch họp.ics"].get_content_type() == "text/calendar"
    assert all(part.get_content_disposition() == "attachment" for part in attachments.values())


def test_a_mail_that_cannot_be_built_is_a_permanent_failure(mail, sender, tmp_path: Path, smtp_server) -> None:
    missing = mail(1, attachments=(tmp_path / "không có.pdf",))
    with SmtpTransport(smtp_server.settings()) as transport, pytest.raises(DeliveryError) as caught:
        transport.send(missing, sender)
    assert caught.value.permanent and "không có.pdf" in str(caught.value)
    assert smtp_server.received == []


# -- SMTP ------------------------------------------------------------------------------------------


def test_smtp_delivers_the_message_over_one_connection(smtp_server, mail, sender) -> None:
    mails = [mail(n, cc=(Address("gd@sovhtt.hanoi.gov.vn", "Ban Giám đốc"),)) for n in (1, 2, 3)]
    with SmtpTransport(smtp_server.settings()) as transport:
        for m in mails:
            assert transport.send(m, sender) == {}

    assert len(smtp_server.received) == 3
    assert len(smtp_server.handler.sessions) == 1  # one connection, reused
    for got, m in zip(smtp_server.received, mails):
        assert got.mail_from == sender.email
        assert got.rcpt_tos == [m.to[0].email, "gd@sovhtt.hanoi.gov.vn"]
        check_message(got.message, m, sender)


def test_smtp_reconnects_after_the_server_closed_an_idle_connection(smtp_server, mail, sender) -> None:
    with SmtpTransport(smtp_server.settings()) as transport:
        transport.send(mail(1), sender)
        transport._yag.smtp.sock.close()  # as a server timing out an idle client would
        started = time.monotonic()
        transport.send(mail(2), sender)
        assert time.monotonic() - started < 2  # no yagmail retry sleeps
    assert len(smtp_server.received) == 2


def test_connection_refused_is_temporary(smtp_server, mail, sender) -> None:
    smtp_server.controller.stop()  # nothing listens on the port any more
    with SmtpTransport(smtp_server.settings()) as transport, pytest.raises(DeliveryError) as caught:
        transport.send(mail(1), sender)
    assert not caught.value.permanent and caught.value.connection
    assert "từ chối kết nối" in str(caught.value) and f"127.0.0.1:{smtp_server.port}" in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "permanent", "words"),
    [
        (("data", "421 4.3.2 Service shutting down"), False, "421"),
        (("data", "451 4.3.0 Try again later"), False, "451"),
        (("data", "550 5.7.1 Message rejected as spam"), True, "550"),
        (("rcpt", "450 4.2.1 Mailbox busy"), False, "450"),
        (("rcpt", "550 5.1.1 No such user"), True, "550 5.1.1 No such user"),
        (("data", "DROP"), False, "kết nối bị ngắt"),
    ],
    ids=["421-data", "451-data", "550-data", "450-rcpt", "550-rcpt", "dropped-mid-data"],
)
def test_server_faults_are_classified(smtp_server, mail, sender, fault, permanent, words) -> None:
    m = mail(1)
    where, reply = fault
    if where == "data":
        smtp_server.handler.fail_data(reply)
    else:
        smtp_server.handler.fail_rcpt(m.to[0].email, reply)
    with SmtpTransport(smtp_server.settings()) as transport:
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            transport.send(m, sender)
        assert time.monotonic() - started < 2  # a dropped connection fails at once, no yagmail sleeps
        assert caught.value.permanent is permanent
        assert not caught.value.connection
        assert words in str(caught.value)
        # The same transport goes on: the next mail is sent (after a drop, over a new connection).
        transport.send(m, sender)
    assert len(smtp_server.received) == 1


def test_some_recipients_refused_is_sent_with_the_refusals(smtp_server, mail, sender) -> None:
    m = mail(1, cc=(Address("nobody@sovhtt.hanoi.gov.vn", "Không ai"),))
    smtp_server.handler.fail_rcpt("nobody@sovhtt.hanoi.gov.vn", "550 5.1.1 No such user")
    with SmtpTransport(smtp_server.settings()) as transport:
        refused = transport.send(m, sender)
    assert refused == {"nobody@sovhtt.hanoi.gov.vn": (550, "5.1.1 No such user")}
    assert [r.rcpt_tos for r in smtp_server.received] == [[m.to[0].email]]


def test_recipients_refused_mixed_codes_is_temporary(smtp_server, mail, sender) -> None:
    m = mail(1, cc=(Address("busy@sovhtt.hanoi.gov.vn"),))
    smtp_server.handler.fail_rcpt(m.to[0].email, "550 5.1.1 No such user")
    smtp_server.handler.fail_rcpt("busy@sovhtt.hanoi.gov.vn", "451 4.2.0 Busy")
    with SmtpTransport(smtp_server.settings()) as transport, pytest.raises(DeliveryError) as caught:
        transport.send(m, sender)
    assert not caught.value.permanent


def test_yagmail_silent_false_is_a_failure(smtp_server, mail, sender, monkeypatch) -> None:
    # yagmail's _attempt_send returns False (the mail left in `unsent`) when the connection drops
    # on all three tries; Kehoach's connection class makes drops surface at once, so this is only
    # reachable by simulating yagmail's answer.
    transport = SmtpTransport(smtp_server.settings())
    transport.send(mail(1), sender)

    def silent_failure(recipients, message):
        transport._yag.unsent.append((recipients, message))
        return False

    monkeypatch.setattr(transport._yag, "_attempt_send", silent_failure)
    with pytest.raises(DeliveryError) as caught:
        transport.send(mail(2), sender)
    assert not caught.value.permanent and "kết nối bị ngắt" in str(caught.value)
    assert transport._yag.unsent == []
    transport.close()


def test_server_requiring_starttls_refuses_plain_mail(start_smtp, certificates, mail, sender) -> None:
    server = start_smtp(tls_context=certificates.server_context(), require_starttls=True)
    with SmtpTransport(server.settings(smtp_security="none")) as transport, pytest.raises(DeliveryError) as caught:
        transport.send(mail(1), sender)
    assert caught.value.permanent and "530" in str(caught.value)


# -- TLS -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_the_ca_file(start_smtp, certificates, mail, sender, security) -> None:
    if security == "starttls":
        server = start_smtp(tls_context=certificates.server_context(), require_starttls=True)
    else:
        server = start_smtp(ssl_context=certificates.server_context())
    settings = server.settings(smtp_security=security, smtp_ca_file=str(certificates.ca_file))
    with SmtpTransport(settings) as transport:
        transport.send(mail(1), sender)
    assert len(server.received) == 1
    check_message(server.received[0].message, mail(1), sender)


@pytest.mark.parametrize("security", ["starttls", "tls"])
@pytest.mark.parametrize("ca", ["other", "system"])
def test_a_certificate_not_signed_by_the_ca_is_refused(start_smtp, certificates, mail, sender, security, ca) -> None:
    if security == "starttls":
        server = start_smtp(tls_context=certificates.server_context(), require_starttls=True)
    else:
        server = start_smtp(ssl_context=certificates.server_context())
    ca_file = str(certificates.other_ca_file) if ca == "other" else None
    with SmtpTransport(server.settings(smtp_security=security, smtp_ca_file=ca_file)) as transport:
        with pytest.raises(DeliveryError) as caught:
            transport.send(mail(1), sender)
    assert caught.value.permanent and caught.value.connection
    assert "không được tin cậy" in str(caught.value)
    assert server.received == []


def test_implicit_tls_against_a_plain_server_is_a_configuration_error(smtp_server, certificates, mail, sender) -> None:
    settings = smtp_server.settings(smtp_security="tls", smtp_ca_file=str(certificates.ca_file))
    with SmtpTransport(settings) as transport, pytest.raises(DeliveryError) as caught:
        transport.send(mail(1), sender)
    assert caught.value.permanent and "KEHOACH_SMTP_SECURITY" in str(caught.value)


# -- login and secrets -----------------------------------------------------------------------------


def test_login_and_the_password_never_shows(start_smtp, authenticator, mail, sender, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    # The test server's own log (aiosmtpd's "mail.log") shows what it received, password included;
    # Kehoach's side is every other logger.
    ours = lambda: "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))  # noqa: E731
    server = start_smtp(authenticator=authenticator("kehoach", PASSWORD), auth_require_tls=False)

    with SmtpTransport(server.settings(smtp_user="kehoach", smtp_password=PASSWORD)) as transport:
        transport.send(mail(1), sender)
    assert len(server.received) == 1

    # A wrong password, and a server that repeats it in its reply.
    wrong = "wrong-" + PASSWORD
    settings = server.settings(smtp_user="kehoach", smtp_password=wrong)
    with SmtpTransport(settings) as transport, pytest.raises(DeliveryError) as caught:
        transport.send(mail(2), sender)
    error = caught.value
    assert error.permanent and error.connection and "535" in str(error)
    assert "***" in str(error)
    for secret in (PASSWORD, wrong):
        assert secret not in str(error) and secret not in repr(error)
        assert secret not in ours()
        assert secret not in repr(settings) and secret not in str(settings)
    assert error.__cause__ is None and error.__suppress_context__


def test_user_without_password_is_a_settings_error(smtp_server) -> None:
    with pytest.raises(MailSettingsError, match="KEHOACH_SMTP_PASSWORD"):
        SmtpTransport(smtp_server.settings(smtp_user="kehoach"))


# -- maildir ---------------------------------------------------------------------------------------


def test_maildir_holds_the_same_message(tmp_path: Path, smtp_server, mail, sender) -> None:
    m = mail(1, cc=(Address("gd@sovhtt.hanoi.gov.vn", "Ban Giám đốc"),))
    transport = transport_from_settings(MailSettings(), tmp_path)
    assert isinstance(transport, MaildirTransport) and transport.directory == tmp_path / "maildir"
    with transport:
        assert transport.send(m, sender) == {}
    files = list((tmp_path / "maildir" / "new").iterdir())
    assert len(files) == 1
    stored = parsed(files[0].read_bytes())
    check_message(stored, m, sender)
    assert len(mailbox.Maildir(str(tmp_path / "maildir"), create=False)) == 1

    with SmtpTransport(smtp_server.settings()) as smtp:
        smtp.send(m, sender)
    sent = smtp_server.received[0].message

    def shape(msg):
        return [(p.get_content_type(), p.get_content_charset()) for p in msg.walk()]

    assert shape(stored) == shape(sent)
    for header in ("Subject", "From", "To", "Cc", "Message-ID"):
        assert str(stored[header]) == str(sent[header])


def test_maildir_in_a_home_that_does_not_exist_yet_is_created(tmp_path: Path, mail, sender) -> None:
    home = tmp_path / "fresh" / "kehoach"  # a worker on a fresh machine: KEHOACH_HOME not made yet
    with transport_from_settings(MailSettings(), home) as transport:
        assert transport.send(mail(1), sender) == {}
    assert len(mailbox.Maildir(str(home / "maildir"), create=False)) == 1


# -- settings --------------------------------------------------------------------------------------


def test_settings_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    for name, value in {
        "KEHOACH_SMTP_HOST": "mail.hanoi.gov.vn",
        "KEHOACH_SMTP_PORT": "2525",
        "KEHOACH_SMTP_USER": "kehoach",
        "KEHOACH_SMTP_PASSWORD": PASSWORD,
        "KEHOACH_SMTP_SECURITY": "TLS",
        "KEHOACH_SMTP_CA_FILE": str(ca),
        "KEHOACH_MAIL_FROM": "kehoach@sovhtt.hanoi.gov.vn",
    }.items():
        monkeypatch.setenv(name, value)
    settings = MailSettings()
    assert settings.smtp_configured and settings.port == 2525 and settings.smtp_security == "tls"
    assert settings.smtp_password.get_secret_value() == PASSWORD
    assert settings.sender == Address("kehoach@sovhtt.hanoi.gov.vn", "Kehoach — Sở Văn hóa và Thể thao Hà Nội")
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert isinstance(transport_from_settings(settings, tmp_path), SmtpTransport)
    assert settings.with_password("other").smtp_password.get_secret_value() == "other"


def test_defaults_mean_maildir(monkeypatch) -> None:
    monkeypatch.setenv("KEHOACH_SMTP_HOST", "")  # set but blank is not set
    settings = MailSettings()
    assert not settings.smtp_configured
    assert settings.smtp_security == "starttls" and settings.port == 587
    assert settings.mail_from == "kehoach@localhost"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("KEHOACH_SMTP_SECURITY", "foo", "KEHOACH_SMTP_SECURITY=«foo» không hợp lệ: cần một trong: none, starttls, tls"),
        ("KEHOACH_SMTP_PORT", "abc", "KEHOACH_SMTP_PORT=«abc» không hợp lệ: cần một số cổng từ 1 đến 65535"),
        ("KEHOACH_SMTP_PORT", "70000", "KEHOACH_SMTP_PORT"),
        ("KEHOACH_SMTP_TIMEOUT", "0", "KEHOACH_SMTP_TIMEOUT"),
        ("KEHOACH_SMTP_CA_FILE", "/không/có/ca.pem", "KEHOACH_SMTP_CA_FILE"),
        ("KEHOACH_MAIL_FROM", "Kehoach <k@x.vn>", "KEHOACH_MAIL_FROM"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch, variable, value, words) -> None:
    monkeypatch.setenv("KEHOACH_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv(variable, value)
    with pytest.raises(MailSettingsError) as caught:
        MailSettings()
    assert words in str(caught.value)
    assert PASSWORD not in str(caught.value)

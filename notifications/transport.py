"""Sending one mail: yagmail over SMTP, or a maildir under KEHOACH_HOME when no SMTP is configured.

Both transports send the message `build_message` makes: yagmail's own MIME message (structure,
Date, Message-ID, attachments), with what yagmail gets wrong put right:

* yagmail turns every newline of an HTML string into `<br>` and wraps it in a `<div>`; the text/html
  part is replaced by the mail's HTML as written.
* yagmail's text/plain part is a copy of the HTML (tags, `<br>` and all); it is replaced by `mail.text`.
* With `{email: name}` recipients yagmail writes only the names into To/Cc; the headers are
  rewritten as `Name <email>`, names RFC 2047-encoded (one encoded word per name, which every mail
  reader and Python's own parser decode without inserting spaces into Vietnamese words).
* Attachments yagmail gives no Content-Disposition (anything not application/*, e.g. .ics, .png)
  get `attachment; filename*=…` so readers show them as files with their Vietnamese names.

Errors come out as `DeliveryError`, temporary (4xx, connection refused, timeouts, dropped
connections) or permanent (5xx, certificate not trusted, mail that cannot be built), in words
safe to store and show: the SMTP password never appears in them.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import logging
import mailbox
import smtplib
import socket
import ssl
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol

import yagmail

from notifications.mail import Address, Mail
from notifications.settings import MailSettings, MailSettingsError

log = logging.getLogger(__name__)

# Mail headers carry Hanoi time (Vietnam keeps no daylight saving time).
_HANOI = dt.timezone(dt.timedelta(hours=7), "ICT")

Refused = dict[str, tuple[int, str]]
"""Recipients the server refused while accepting the mail for the others: {address: (code, reply)}."""


class DeliveryError(Exception):
    """A mail not delivered. `permanent`: retrying will not help (5xx, untrusted certificate, a mail
    that cannot be built). `connection`: it failed while reaching the server (connect, TLS, login),
    so every other mail would fail the same way now. The message is safe to store and show."""

    def __init__(self, message: str, *, permanent: bool = False, connection: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.connection = connection

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class Transport(Protocol):
    def send(self, mail: Mail, sender: Address) -> Refused: ...

    def close(self) -> None: ...


# -- the message -----------------------------------------------------------------------------------


def build_message(mail: Mail, sender: Address) -> tuple[list[str], str]:
    """The recipients (To, then Cc) and the MIME message to send, as an ASCII string with \\n line ends.

    Raises ValueError (a mail without recipients, an address that cannot be sent to) or
    FileNotFoundError (an attachment that is not a file)."""
    if not mail.to:
        raise ValueError("thư không có người nhận")
    for address in (sender, *mail.to, *mail.cc):
        if not address.email or not address.email.isascii() or any(c in address.email for c in " \r\n<>,"):
            raise ValueError(f"địa chỉ thư không dùng được: «{address.email}»")
    missing = [str(p) for p in mail.attachments if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"không có tệp đính kèm {', '.join(missing)}")

    # Constructing yagmail's client does not connect; it is used here only to build the message.
    # A {email: name} user gives yagmail the From address without its "@gmail.com" completion.
    builder = yagmail.SMTP(user={sender.email: sender.name or sender.email}, smtp_skip_login=True, soft_email_validation=False)
    builder.set_logging(None)  # yagmail puts a stderr handler on its logger; records still propagate
    try:
        recipients, raw = builder.prepare_send(
            to=[a.email for a in mail.to],
            cc=[a.email for a in mail.cc] or None,
            subject=_one_line(mail.subject),
            contents=None,  # the bodies are set below: yagmail's would be HTML with <br> for text
            attachments=[str(p) for p in mail.attachments] or None,
            headers={"Date": format_datetime(dt.datetime.now(_HANOI)), "Auto-Submitted": "auto-generated"},
            prettify_html=False,
            message_id=mail.message_id,
        )
    finally:
        builder.is_closed = True  # nothing to close; keeps yagmail's __del__ from trying

    # yagmail builds with the compat32 API; mend the message in the same API.
    msg = email.message_from_string(raw)
    # Folded here, into encoded words of at most 75 characters (compat32's as_string, as yagmail
    # calls it, does not fold, and leaves the whole subject in one long encoded word).
    msg.replace_header("Subject", Header(_one_line(mail.subject), "utf-8", header_name="Subject").encode(maxlinelen=78))
    msg.replace_header("From", _address_list([sender]))
    msg.replace_header("To", _address_list(mail.to))
    if mail.cc:
        msg.replace_header("Cc", _address_list(mail.cc))

    # yagmail's tree: mixed[alternative[text/plain, related[text/html]], attachments…]
    alternative = msg.get_payload()[0]
    related = alternative.get_payload()[1] if alternative.is_multipart() else None
    if related is None or alternative.get_content_type() != "multipart/alternative" or related.get_content_type() != "multipart/related":
        raise RuntimeError("yagmail built a message of an unexpected shape")  # a yagmail upgrade
    alternative.get_payload()[0] = MIMEText(mail.text, "plain", "utf-8")
    related.get_payload()[0] = MIMEText(mail.html, "html", "utf-8")

    for part in msg.get_payload()[1:]:
        if part.get("Content-Disposition") is None:
            filename = part.get_filename()
            if filename:
                part.add_header("Content-Disposition", "attachment", filename=filename)
            else:
                part.add_header("Content-Disposition", "attachment")

    text = msg.as_string()  # compat32 folds nothing here; the headers set above come folded
    if not text.isascii():  # smtplib sends str messages as ASCII
        raise ValueError("thư có ký tự không mã hoá được")
    return _unique(recipients), text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _address_list(addresses) -> str:
    # One address a line. formataddr gives each non-ASCII name one RFC 2047 encoded word: a name
    # split over several encoded words comes back from Python's address parser with a space
    # inserted at the split (e.g. "Di s ản"), so a long name stays one (long) encoded word.
    return ",\n ".join(formataddr((_one_line(a.name), a.email), charset="utf-8") for a in addresses)


def _unique(addresses: list[str]) -> list[str]:
    """Each recipient once (an address in both To and Cc gets one copy)."""
    seen: set[str] = set()
    unique = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def _built(mail: Mail, sender: Address) -> tuple[list[str], str]:
    try:
        return build_message(mail, sender)
    except (ValueError, OSError, TypeError, yagmail.YagAddressError) as exc:
        raise DeliveryError(f"Không tạo được thư: {exc}", permanent=True) from None


# -- SMTP ------------------------------------------------------------------------------------------


class _Dropped(smtplib.SMTPException):
    """The server closed the connection during the send. Deliberately not SMTPServerDisconnected:
    yagmail's `_attempt_send` would catch that, reconnect and retry, sleeping 3 + 6 + 9 s, and
    return False; the outbox retries on the next run instead (with backoff)."""


class _SMTP(smtplib.SMTP):
    def sendmail(self, *args, **kwargs):
        try:
            return super().sendmail(*args, **kwargs)
        except smtplib.SMTPServerDisconnected as exc:
            raise _Dropped(str(exc) or "Connection unexpectedly closed") from None


class _SMTP_SSL(smtplib.SMTP_SSL):
    def sendmail(self, *args, **kwargs):
        try:
            return super().sendmail(*args, **kwargs)
        except smtplib.SMTPServerDisconnected as exc:
            raise _Dropped(str(exc) or "Connection unexpectedly closed") from None

    def _get_socket(self, host, port, timeout):
        # smtplib leaves the plain socket open when the TLS handshake fails (an untrusted certificate).
        sock = smtplib.SMTP._get_socket(self, host, port, timeout)
        try:
            return self.context.wrap_socket(sock, server_hostname=self._host)
        except BaseException:
            sock.close()
            raise


class _Yagmail(yagmail.SMTP):
    """yagmail's client with three corrections, all through its own extension points:
    the SMTP classes (a dropped connection surfaces at once, see _Dropped); the login name
    (yagmail logs in as, and sends MAIL FROM, one `user`, completed with "@gmail.com" when it has no
    "@"; here MAIL FROM is the sender's address and the login is KEHOACH_SMTP_USER as given);
    and no keyring or password prompt, ever."""

    login_user: str | None = None

    @property
    def connection(self):
        return _SMTP_SSL if self.ssl else _SMTP

    def _login(self, password):
        envelope_from = self.user
        self.user = self.login_user or envelope_from
        try:
            super()._login(password)
        finally:
            self.user = envelope_from

    @staticmethod
    def handle_password(user: str, password: str | None) -> str:
        if password is None:
            raise MailSettingsError("KEHOACH_SMTP_USER đã đặt nhưng chưa có mật khẩu (KEHOACH_SMTP_PASSWORD)")
        return password


class SmtpTransport:
    """Mail over SMTP with yagmail: one connection, opened on the first mail and reused."""

    def __init__(self, settings: MailSettings):
        if not settings.smtp_host:
            raise MailSettingsError("KEHOACH_SMTP_HOST chưa đặt: không có máy chủ SMTP để gửi thư")
        if settings.smtp_user and settings.smtp_password is None:
            raise MailSettingsError("KEHOACH_SMTP_USER đã đặt nhưng chưa có mật khẩu (KEHOACH_SMTP_PASSWORD)")
        self.settings = settings
        self._yag: _Yagmail | None = None
        self._secrets = _secret_forms(settings)

    @property
    def description(self) -> str:
        return self.settings.describe()

    def __repr__(self) -> str:
        return f"SmtpTransport({self.description})"

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sending -----------------------------------------------------------------------------------

    def send(self, mail: Mail, sender: Address) -> Refused:
        """Send one mail; returns the recipients refused while others accepted it (usually {}).
        Raises DeliveryError."""
        recipients, message = _built(mail, sender)
        yag = self._connected()
        yag.user = sender.email  # the envelope sender (MAIL FROM); the login name is kept apart
        try:
            # yagmail's own send step: Client.send is prepare_send followed by _attempt_send; the
            # message is prepared by build_message, so the second half is called directly.
            result = yag._attempt_send(recipients, message)
        except Exception as exc:
            error = self._error(exc, connecting=False)
            # After a refusal smtplib has reset the session and the connection serves the next mail;
            # after anything else (or 421, the server closing) its state is unknown: start afresh.
            refusal = isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException))
            if not refusal or getattr(exc, "smtp_code", None) == 421:
                self._disconnect()
            raise error from None
        if result is False or yag.unsent:
            # yagmail's silent failure: the connection dropped on every attempt, the mail is in `unsent`.
            yag.unsent.clear()
            self._disconnect()
            raise DeliveryError(f"Mất kết nối tới máy chủ thư {self._where()} (kết nối bị ngắt)")
        refused = {addr: (int(code), _text(reply)) for addr, (code, reply) in (result or {}).items()}
        return refused

    def close(self) -> None:
        yag, self._yag = self._yag, None
        if yag is None:
            return
        yag.is_closed = True
        smtp, yag.smtp = yag.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    # -- the connection ----------------------------------------------------------------------------

    def _connected(self) -> _Yagmail:
        yag = self._yag
        if yag is not None and yag.smtp is not None and not yag.is_closed:
            try:
                # A connection the server closed while idle would cost yagmail's sleeping retries.
                if yag.smtp.noop()[0] == 250:
                    return yag
            except (smtplib.SMTPException, OSError):
                pass
            self._disconnect()
        if yag is None:
            yag = self._yag = self._client()
        log.debug("Kết nối tới máy chủ thư %s", self.description)
        try:
            yag.login()
        except MailSettingsError:
            raise
        except Exception as exc:
            self._disconnect()
            raise self._error(exc, connecting=True) from None
        return yag

    def _client(self) -> _Yagmail:
        s = self.settings
        options: dict = {"timeout": s.smtp_timeout}
        context = self._context() if s.smtp_security != "none" else None
        if s.smtp_security == "tls":
            options.update(smtp_ssl=True, smtp_starttls=False, context=context)
        elif s.smtp_security == "starttls":
            options.update(smtp_ssl=False, smtp_starttls={"context": context})
        else:
            options.update(smtp_ssl=False, smtp_starttls=False)
        yag = _Yagmail(
            user=s.mail_from,  # replaced by each mail's sender before sending
            password=s.smtp_password.get_secret_value() if s.smtp_password is not None else None,
            host=s.smtp_host,
            port=s.port,
            smtp_skip_login=not s.smtp_user,
            soft_email_validation=False,
            **options,
        )
        yag.set_logging(None)  # no stderr handler of its own; its records propagate to ours
        yag.login_user = s.smtp_user
        return yag

    def _context(self) -> ssl.SSLContext:
        ca_file = self.settings.smtp_ca_file
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (ssl.SSLError, OSError) as exc:
            raise DeliveryError(
                f"Không đọc được chứng chỉ CA trong KEHOACH_SMTP_CA_FILE={ca_file}: {getattr(exc, 'reason', None) or exc}",
                permanent=True,
                connection=True,
            ) from None

    def _disconnect(self) -> None:
        yag = self._yag
        if yag is None:
            return
        smtp, yag.smtp = yag.smtp, None
        yag.is_closed = True
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    # -- errors ------------------------------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.port}"

    def _error(self, exc: BaseException, *, connecting: bool) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        permanent, reason = _classify(exc, self._where(), self.settings)
        return DeliveryError(self._scrub(reason), permanent=permanent, connection=connecting)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _classify(exc: BaseException, where: str, settings: MailSettings) -> tuple[bool, str]:
    """(permanent, reason in Vietnamese) for an exception raised while connecting or sending."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or "không xác minh được"
        hint = (
            f"kiểm tra KEHOACH_SMTP_CA_FILE={settings.smtp_ca_file}"
            if settings.smtp_ca_file
            else "nếu máy chủ dùng chứng chỉ của CA riêng, đặt KEHOACH_SMTP_CA_FILE"
        )
        return True, f"Chứng chỉ TLS của máy chủ thư {where} không được tin cậy ({detail}); {hint}"
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return False, f"Kết nối TLS tới máy chủ thư {where} bị ngắt"
    if isinstance(exc, ssl.SSLError):
        return True, (
            f"Không thiết lập được TLS với máy chủ thư {where} ({exc.reason or exc}); "
            f"kiểm tra KEHOACH_SMTP_SECURITY={settings.smtp_security} và cổng"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        if "STARTTLS" in str(exc):
            return True, f"Máy chủ thư {where} không hỗ trợ STARTTLS; kiểm tra KEHOACH_SMTP_SECURITY và cổng"
        if "AUTH" in str(exc):
            return True, f"Máy chủ thư {where} không cho đăng nhập (AUTH) trên kết nối này; kiểm tra KEHOACH_SMTP_SECURITY và KEHOACH_SMTP_USER"
        return True, f"Máy chủ thư {where} không hỗ trợ lệnh cần dùng ({exc})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [int(code) for code, _ in exc.recipients.values()]
        details = "; ".join(f"{addr}: {code} {_text(reply)}" for addr, (code, reply) in exc.recipients.items())
        permanent = bool(codes) and all(500 <= c < 600 for c in codes)
        return permanent, f"Máy chủ thư từ chối người nhận ({details})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _by_code(exc.smtp_code), (
            f"Máy chủ thư {where} từ chối đăng nhập ({exc.smtp_code} {_text(exc.smtp_error)}); "
            "kiểm tra KEHOACH_SMTP_USER và mật khẩu"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        what = {
            smtplib.SMTPSenderRefused: "từ chối địa chỉ người gửi",
            smtplib.SMTPDataError: "từ chối nội dung thư",
            smtplib.SMTPConnectError: "từ chối kết nối",
            smtplib.SMTPHeloError: "từ chối lời chào HELO/EHLO",
        }.get(type(exc), "trả lời lỗi")
        return _by_code(exc.smtp_code), f"Máy chủ thư {where} {what} ({exc.smtp_code} {_text(exc.smtp_error)})"
    if isinstance(exc, (_Dropped, smtplib.SMTPServerDisconnected)):
        return False, f"Mất kết nối tới máy chủ thư {where} (kết nối bị ngắt)"
    if isinstance(exc, ConnectionRefusedError):
        return False, f"Máy chủ thư {where} từ chối kết nối (không có dịch vụ SMTP ở cổng này, hoặc máy chủ chưa chạy)"
    if isinstance(exc, TimeoutError):
        return False, f"Hết thời gian chờ máy chủ thư {where} ({settings.smtp_timeout:g} giây)"
    if isinstance(exc, socket.gaierror):
        return False, f"Không tìm thấy máy chủ thư {settings.smtp_host} ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return False, f"Lỗi kết nối tới máy chủ thư {where}: {exc.strerror or exc}"
    if isinstance(exc, smtplib.SMTPException):
        return False, f"Lỗi SMTP với máy chủ thư {where}: {exc}"
    return False, f"Lỗi khi gửi thư qua {where}: {type(exc).__name__}: {exc}"


def _by_code(code: int) -> bool:
    """Permanent? 5xx is, 4xx (and anything odd, like smtplib's -1) is not."""
    return 500 <= int(code) < 600


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _secret_forms(settings: MailSettings) -> list[str]:
    """The password as it could appear in a server's reply: as is, and base64 as AUTH sends it."""
    if settings.smtp_password is None:
        return []
    password = settings.smtp_password.get_secret_value()
    if not password:
        return []
    user = settings.smtp_user or ""
    forms = {
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
    }
    return sorted(forms, key=len, reverse=True)


# -- maildir ---------------------------------------------------------------------------------------


class MaildirTransport:
    """Mail into a maildir (new/ holds one file per mail, readable by any mail reader): the default
    when no SMTP server is configured, so the embedded setup works anywhere."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._box: mailbox.Maildir | None = None

    @property
    def description(self) -> str:
        return f"maildir {self.directory}"

    def __repr__(self) -> str:
        return f"MaildirTransport({str(self.directory)!r})"

    def __enter__(self) -> MaildirTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, mail: Mail, sender: Address) -> Refused:
        _, message = _built(mail, sender)
        try:
            if self._box is None:
                # Maildir creates its own folder but not the ones above it (a fresh KEHOACH_HOME).
                self.directory.parent.mkdir(parents=True, exist_ok=True)
                self._box = mailbox.Maildir(str(self.directory), create=True)
            self._box.add(message.encode("ascii"))
        except OSError as exc:
            raise DeliveryError(f"Không ghi được thư vào {self.directory}: {exc.strerror or exc}") from None
        return {}

    def close(self) -> None:
        if self._box is not None:
            self._box.close()
            self._box = None


def transport_from_settings(settings: MailSettings, home: Path) -> SmtpTransport | MaildirTransport:
    """SMTP when KEHOACH_SMTP_HOST is set, else the maildir in KEHOACH_HOME/maildir."""
    if settings.smtp_configured:
        return SmtpTransport(settings)
    return MaildirTransport(Path(home) / "maildir")


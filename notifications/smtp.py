"""Mail over SMTP with yagmail: one connection, opened on the first mail and reused, and yagmail's own
send step called directly on the message `notifications.message` builds.

Errors come out as `DeliveryError`, temporary (4xx, connection refused, timeouts, dropped
connections) or permanent (5xx, certificate not trusted, mail that cannot be built), in words
safe to store and show: the SMTP password never appears in them.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl

import yagmail

from notifications.mail import Address, Mail
from notifications.message import deliverable
from notifications.sending import Closing, DeliveryError, Refused
from notifications.settings import MailSettings, MailSettingsError

log = logging.getLogger(__name__)


class _Dropped(smtplib.SMTPException):
    """The server closed the connection during the send. Deliberately not SMTPServerDisconnected:
    yagmail's `_attempt_send` would catch that, reconnect and retry, sleeping 3 + 6 + 9 s, and
    return False; the outbox retries on the next run instead (with backoff)."""


class _SurfacesDrops:
    """`sendmail` raising _Dropped where smtplib raises SMTPServerDisconnected."""

    def sendmail(self, *args, **kwargs):
        try:
            return super().sendmail(*args, **kwargs)
        except smtplib.SMTPServerDisconnected as exc:
            raise _Dropped(str(exc) or "Connection unexpectedly closed") from None


class _SMTP(_SurfacesDrops, smtplib.SMTP):
    pass


class _SMTP_SSL(_SurfacesDrops, smtplib.SMTP_SSL):
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


class SmtpTransport(Closing):
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

    # -- sending -----------------------------------------------------------------------------------

    def send(self, mail: Mail, sender: Address) -> Refused:
        """Send one mail; returns the recipients refused while others accepted it (usually {}).
        Raises DeliveryError."""
        recipients, message = deliverable(mail, sender)
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

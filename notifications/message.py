"""The MIME message of one mail: yagmail's own (structure, Date, Message-ID, attachments), with what
yagmail gets wrong put right:

* yagmail turns every newline of an HTML string into `<br>` and wraps it in a `<div>`; the text/html
  part is replaced by the mail's HTML as written.
* yagmail's text/plain part is a copy of the HTML (tags, `<br>` and all); it is replaced by `mail.text`.
* With `{email: name}` recipients yagmail writes only the names into To/Cc; the headers are
  rewritten as `Name <email>`, names RFC 2047-encoded (one encoded word per name, which every mail
  reader and Python's own parser decode without inserting spaces into Vietnamese words).
* Attachments yagmail gives no Content-Disposition (anything not application/*, e.g. .ics, .png)
  get `attachment; filename*=…` so readers show them as files with their Vietnamese names.
"""

from __future__ import annotations

import datetime as dt
import email
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import cast

import yagmail

from notifications.mail import Address, Mail
from notifications.sending import DeliveryError

# Mail headers carry Hanoi time (Vietnam keeps no daylight saving time).
_HANOI = dt.timezone(dt.timedelta(hours=7), "ICT")


_UNEXPECTED_SHAPE = "yagmail built a message of an unexpected shape"  # a yagmail upgrade


def _parts(message: Message) -> list[Message]:
    """The parts of a multipart message: get_payload's own list, so that a part set in it replaces
    the message's (get_payload is typed for every kind of message: a string, a list, bytes)."""
    payload = message.get_payload()
    if not message.is_multipart() or not isinstance(payload, list) or not all(isinstance(p, Message) for p in payload):
        raise RuntimeError(_UNEXPECTED_SHAPE)
    return cast(list[Message], payload)


def build_message(mail: Mail, sender: Address) -> tuple[list[str], str]:
    """The recipients (To, then Cc) and the MIME message to send, as an ASCII string with \\n line ends.

    Raises ValueError (a mail without recipients, an address that cannot be sent to) or
    FileNotFoundError (an attachment that is not a file)."""
    if not mail.to:
        raise ValueError("thư không có người nhận")
    for address in (sender, *mail.to, *mail.cc, *mail.reply_to):
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
            message_id=_message_id(mail, sender),
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
    if mail.reply_to:
        msg["Reply-To"] = _address_list(mail.reply_to)

    # yagmail's tree: mixed[alternative[text/plain, related[text/html]], attachments…]
    parts = _parts(msg)
    alternative = parts[0]
    related = _parts(alternative)[1] if alternative.is_multipart() else None
    if related is None or alternative.get_content_type() != "multipart/alternative" or related.get_content_type() != "multipart/related":
        raise RuntimeError(_UNEXPECTED_SHAPE)
    _parts(alternative)[0] = MIMEText(mail.text, "plain", "utf-8")
    _parts(related)[0] = MIMEText(mail.html, "html", "utf-8")

    for part in parts[1:]:
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


def _message_id(mail: Mail, sender: Address) -> str:
    """The mail's Message-ID; an official mail's (its own sender name) under the sender's domain,
    which names the department, not the tool."""
    if not mail.sender_name:
        return mail.message_id
    return mail.message_id.replace("@kehoach>", f"@{sender.email.rpartition('@')[2]}>")


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


def deliverable(mail: Mail, sender: Address) -> tuple[list[str], str]:
    """`build_message`, a mail that cannot be built failing as a permanent DeliveryError."""
    try:
        return build_message(mail, sender)
    except (ValueError, OSError, TypeError, yagmail.YagAddressError) as exc:
        raise DeliveryError(f"Không tạo được thư: {exc}", permanent=True) from None

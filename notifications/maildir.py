"""Mail into a maildir under KEHOACH_HOME: the default when no SMTP server is configured."""

from __future__ import annotations

import mailbox
from pathlib import Path

from notifications.mail import Address, Mail
from notifications.message import deliverable
from notifications.sending import Closing, DeliveryError, Refused


class MaildirTransport(Closing):
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

    def send(self, mail: Mail, sender: Address) -> Refused:
        _, message = deliverable(mail, sender)
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

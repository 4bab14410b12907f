"""What sending one mail promises, whichever way it travels: a `Transport` sends it and says which
recipients the server refused while accepting it for the others, or fails with a `DeliveryError`.
"""

from __future__ import annotations

from typing import Protocol, Self

from notifications.mail import Address, Mail

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


class Closing:
    """`with transport:` closes it at the end (each transport has its own `close`)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""Shared test fixtures: a real SMTP server (aiosmtpd on 127.0.0.1) that records what it receives
and can be told to fail; one Prefect test harness (a temporary API and database) for the session; a
fresh KEHOACH_HOME per test; the 2023 plan; one `kehoach serve` for the tests that only use it."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from notifications.settings import MailSettings
from plan.load import DEFAULT_PLAN, load_plan


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    session: int

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


@dataclass
class RecordingHandler:
    """aiosmtpd handler: records each accepted message; queued faults answer RCPT or DATA instead."""

    DROP = "DROP"  # a fault reply meaning: close the connection instead of answering

    received: list[Received] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)
    _rcpt_faults: dict[str, list[list]] = field(default_factory=dict)
    _data_faults: list[list] = field(default_factory=list)

    def fail_rcpt(self, address: str, reply: str, times: int | None = 1) -> None:
        """Answer RCPT TO:<address> with `reply` the next `times` times (None: always)."""
        self._rcpt_faults.setdefault(address.lower(), []).append([reply, times])

    def fail_data(self, reply: str, times: int | None = 1) -> None:
        """Answer the next `times` DATA commands (None: all) with `reply`, or drop the connection (DROP)."""
        self._data_faults.append([reply, times])

    def clear_faults(self) -> None:
        self._rcpt_faults.clear()
        self._data_faults.clear()

    @staticmethod
    def _next(queue: list[list]) -> str | None:
        if not queue:
            return None
        reply, times = queue[0]
        if times is not None:
            queue[0][1] -= 1
            if queue[0][1] <= 0:
                queue.pop(0)
        return reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.sessions.add(id(session))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._next(self._rcpt_faults.get(address.lower(), []))
        if reply == self.DROP:
            server.transport.close()
            return "421 closing"
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self._next(self._data_faults)
        if reply == self.DROP:
            # The whole message arrived but no reply ever comes: the client sees the connection
            # drop while it waits for the end of DATA.
            server.transport.close()
            return "250 OK"
        if reply is not None:
            return reply
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, id(session)))
        return "250 OK"


@dataclass
class SmtpServer:
    handler: RecordingHandler
    port: int
    controller: Controller

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def settings(self, **overrides) -> MailSettings:
        values = dict(smtp_host="127.0.0.1", smtp_port=self.port, smtp_security="none", smtp_timeout=5)
        values.update(overrides)
        return MailSettings(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]



@pytest.fixture
def start_smtp() -> Iterator:
    """start_smtp(port=..., ssl_context=..., **aiosmtpd SMTP parameters) → a running SmtpServer; all stopped after."""
    controllers: list[Controller] = []

    def start(*, port: int | None = None, ssl_context: ssl.SSLContext | None = None, **smtp_parameters) -> SmtpServer:
        handler = RecordingHandler()
        port = port or free_port()
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            ssl_context=ssl_context,
            server_hostname="localhost",
            ready_timeout=10,
            **smtp_parameters,
        )
        controller.start()
        controllers.append(controller)
        return SmtpServer(handler, port, controller)

    yield start
    for controller in controllers:
        if controller._thread is not None:  # not already stopped by the test
            controller.stop()


@pytest.fixture
def smtp_server(start_smtp) -> SmtpServer:
    return start_smtp()


@pytest.fixture(name="prefect_api", scope="session")
def fixture_prefect_api(tmp_path_factory):
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, PREFECT_LOGGING_LEVEL, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    results = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(results), PREFECT_LOGGING_LEVEL: "WARNING"}):
        with prefect_test_harness(server_startup_timeout=60):
            yield


@pytest.fixture(name="kehoach_home")
def fixture_kehoach_home(tmp_path, monkeypatch):
    """A fresh ledger for each test."""
    monkeypatch.setenv("KEHOACH_HOME", str(tmp_path / "kehoach"))
    monkeypatch.delenv("KEHOACH_DATABASE_URL", raising=False)
    from flows import resources

    resources.reset()
    yield tmp_path / "kehoach"
    resources.reset()


@pytest.fixture(name="plan", scope="session")
def fixture_plan():
    return load_plan(DEFAULT_PLAN).plan


@pytest.fixture(name="smtp")
def fixture_smtp(smtp_server, monkeypatch):
    """The flows' mail goes to the SMTP server of tests/conftest.py (plain, on 127.0.0.1)."""
    monkeypatch.setenv("KEHOACH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KEHOACH_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("KEHOACH_SMTP_SECURITY", "none")
    monkeypatch.setenv("KEHOACH_MAIL_FROM", "kehoach@svhtt.hanoi.example")
    monkeypatch.setenv("KEHOACH_MAIL_FROM_NAME", "Kehoach — Sở Văn hóa và Thể thao Hà Nội")
    for name in ("KEHOACH_SMTP_USER", "KEHOACH_SMTP_PASSWORD", "KEHOACH_SMTP_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    from flows import resources

    resources.reset()  # the flows read the settings again, with this server
    return smtp_server


@pytest.fixture(name="team_stack", scope="session")
def fixture_team_stack(tmp_path_factory):
    """One `kehoach serve` (SQLite, basic auth on) shared by the tests that only use it."""
    from stack import served_stack

    with served_stack(tmp_path_factory.mktemp("team-stack")) as stack:
        yield stack

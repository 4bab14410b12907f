"""Fixtures of the browser tests: a PostgreSQL database of their own, `kehoach serve` on it, and
Debian's Chromium driven by Playwright, shut off from everything but the stack on 127.0.0.1.

The tests of the served stack need KEHOACH_TEST_POSTGRES_URL (a cluster on loopback, as .ci/run
starts one); every test needs the `playwright`
package (the `test` extra) and Debian's chromium at /usr/bin/chromium (or KEHOACH_CHROMIUM); skips
with the reason otherwise. Playwright never downloads a browser here: it drives that executable.

Screenshots go to $KEHOACH_TEST_ARTIFACTS/<test name>/ when that variable is set, else to the
test's tmp_path/screenshots; the directory is printed, and named in every failure message. On a
failure the last page is kept as `failure.png` with a Playwright trace (`trace.zip`, open it with
`playwright show-trace`) beside it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from stack import (
    ServedStack,
    alive,
    command_line,
    create_database,
    descendants,
    drop_databases,
    send,
    served_stack,
)

CHROMIUM = os.environ.get("KEHOACH_CHROMIUM", "/usr/bin/chromium")
# No outside connections (the machine's network is closed, and that is watched): no background
# networking, no component updates or sync, no QUIC; the host resolver answers nothing but loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1440, "height": 1000}
# Generous: CI shares two cores between the browser, the server, PostgreSQL and the flow runs.
ACTION_TIMEOUT_MS = 60_000

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
        shots = getattr(item, "_e2e_screenshots", None)
        if shots is not None:
            report.sections.append(("e2e screenshots", f"screenshots, failure.png and trace.zip: {shots}"))


@pytest.fixture(autouse=True)
def _prerequisites(request) -> None:
    """Skip before anything starts when the browser, or PostgreSQL for a test of the served stack, is missing."""
    if "postgres_url" in request.fixturenames and not os.environ.get("KEHOACH_TEST_POSTGRES_URL"):
        pytest.skip("KEHOACH_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL cluster and sets it)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium; KEHOACH_CHROMIUM names another)")


# -- where screenshots go -------------------------------------------------------------------------------


@pytest.fixture(name="screenshots")
def fixture_screenshots(request, tmp_path) -> Path:
    base = os.environ.get("KEHOACH_TEST_ARTIFACTS")
    if base:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        directory = Path(base).resolve() / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}-{stamp}"
    else:
        directory = tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    request.node._e2e_screenshots = directory
    print(f"\ne2e screenshots: {directory}")
    return directory


# -- PostgreSQL and the stack ---------------------------------------------------------------------------


@pytest.fixture(name="postgres_url")
def fixture_postgres_url() -> str:
    return os.environ["KEHOACH_TEST_POSTGRES_URL"]


@pytest.fixture(name="ledger_database")
def fixture_ledger_database(postgres_url: str) -> Iterator[str]:
    """A new database for the ledger; `kehoach serve` puts Prefect's next to it (`<name>_prefect`).
    Both are dropped at the end."""
    name = f"kehoach_e2e_{secrets.token_hex(4)}"
    url = create_database(postgres_url, name)
    try:
        yield url
    finally:
        drop_databases(postgres_url, name, f"{name}_prefect")


@pytest.fixture(name="stack")
def fixture_stack(tmp_path, ledger_database: str) -> Iterator[ServedStack]:
    with served_stack(tmp_path / "stack", database_url=ledger_database, workers=1) as stack:
        yield stack


# -- the browser ------------------------------------------------------------------------------------------


@dataclass
class Browser:
    """One Chromium page on the stack's UI, and the screenshots it took."""

    page: object  # playwright.sync_api.Page
    origin: str
    screenshots: Path
    taken: list[Path] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    timings: list[tuple[str, float]] = field(default_factory=list)
    _since: float = field(default_factory=time.monotonic)

    def shot(self, name: str, full_page: bool = True, locator=None) -> Path:
        """A screenshot named `NN-name.png`, numbered in the order taken; also times the step before it."""
        path = self.screenshots / f"{len(self.taken) + 1:02d}-{name}.png"
        if locator is not None:
            locator.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        self.lap(name)
        return path

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.timings.append((name, now - self._since))
        self._since = now

    def timing_summary(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings)

    def where(self) -> str:
        """For failure messages: the page and the screenshots so far."""
        return f"(page {self.page.url}; screenshots in {self.screenshots})"


def _playwright_processes() -> list[int]:
    """The Playwright driver(s) this test process started, and everything below them (Chromium)."""
    own = [pid for pid in descendants(os.getpid()) if "playwright" in command_line(pid) and "driver" in command_line(pid)]
    found = set(own)
    for pid in own:
        found.update(descendants(pid))
    return sorted(found)


@pytest.fixture(name="browser")
def fixture_browser(request, stack: ServedStack, screenshots: Path, tmp_path) -> Iterator[Browser]:
    from playwright import sync_api

    sync_api.expect.set_options(timeout=ACTION_TIMEOUT_MS)
    origin = stack.ui_url.rstrip("/")
    blocked: list[str] = []

    def only_the_stack(route) -> None:
        url = route.request.url
        if url == origin or url.startswith((origin + "/", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("blockedbyclient")

    started: set[int] = set()
    with sync_api.sync_playwright() as playwright:
        started.update(_playwright_processes())
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a new, empty profile
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            timezone_id="Asia/Ho_Chi_Minh",
            service_workers="block",
        )
        started.update(_playwright_processes())
        try:
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            context.route("**/*", only_the_stack)
            context.tracing.start(snapshots=True)  # DOM snapshots per action; the screenshots are ours
            page = context.pages[0] if context.pages else context.new_page()
            browser = Browser(page=page, origin=origin, screenshots=screenshots, blocked=blocked)
            yield browser
            failed = request.node.stash.get(_FAILED, False)
            if failed:
                try:
                    page.screenshot(path=str(screenshots / "failure.png"), full_page=True)
                finally:
                    context.tracing.stop(path=str(screenshots / "trace.zip"))
            else:
                context.tracing.stop()
        finally:
            started.update(_playwright_processes())
            context.close()
    # Playwright stops Chromium and its driver on the way out; anything left is stopped by its pid.
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [f"{pid} {command_line(pid)[:120]}" for pid in sorted(started) if alive(pid)]
    for pid in started:
        if alive(pid):
            send(pid, signal.SIGKILL)
    if blocked:
        print(f"e2e: the browser was kept from {len(blocked)} request(s) off 127.0.0.1, e.g. {sorted(set(blocked))[:3]}")
    assert not left, f"Chromium or the Playwright driver outlived the browser context: {left}"

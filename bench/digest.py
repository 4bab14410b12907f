"""Benchmark: weekly digests for a generated plan of 2,000 items and 60 units.

    pip install -e '.[test]' && python bench/digest.py

Times, each the median of 3 rounds: item statuses from the ledger (plan.progress.plan_status), the
digest content and its HTML + text rendering for every unit and the directors, and delivery of all
digests through the outbox to a local SMTP server (aiosmtpd on 127.0.0.1, started and stopped here).
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_plan  # noqa: E402

from notifications.digest import digest_mails  # noqa: E402
from notifications.outbox import Outbox  # noqa: E402
from notifications.settings import MailSettings  # noqa: E402
from notifications.smtp import SmtpTransport  # noqa: E402
from plan.events import plan_ref  # noqa: E402
from plan.ledger import Ledger  # noqa: E402
from plan.load import load_plan_text  # noqa: E402
from plan.progress import plan_status  # noqa: E402


class Counter:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--as-of", default="2023-10-16")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    as_of = dt.date.fromisoformat(options.as_of)
    result = load_plan_text(generate_plan(options.items, options.units), "generated.yaml")
    assert result.ok, [p.render() for p in result.errors[:3]]
    plan = result.plan
    timings: dict[str, list[float]] = {"statuses": [], "digests": [], "delivery": []}
    handler = Counter()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for _ in range(options.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                ledger = Ledger(f"sqlite:///{tmp}/ledger.sqlite")
                ledger.append(plan_ref(plan), [])
                began = time.perf_counter()
                statuses = plan_status(plan, ledger.events(plan.id), as_of)
                timings["statuses"].append(time.perf_counter() - began)
                began = time.perf_counter()
                mails = digest_mails(plan, statuses, as_of)
                timings["digests"].append(time.perf_counter() - began)
                settings = MailSettings(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_security="none")
                outbox = Outbox(ledger)
                began = time.perf_counter()
                outbox.queue(plan.id, mails)
                with SmtpTransport(settings) as transport:
                    report = outbox.deliver(transport, settings.sender)
                timings["delivery"].append(time.perf_counter() - began)
                assert len(report.sent) == len(mails), report
                ledger.dispose()
    finally:
        controller.stop()
    size = sum(len(m.html) + len(m.text) for m in mails) / len(mails)
    print(f"plan: {options.items} items, {options.units} units; {len(mails)} digests (avg {size / 1024:.0f} KiB html+text); as of {as_of}; {options.rounds} rounds, medians")
    print("| step | median (s) |")
    print("|---|---|")
    print(f"| item statuses (plan_status) | {statistics.median(timings['statuses']):.2f} |")
    print(f"| digest content + HTML/text rendering, all units | {statistics.median(timings['digests']):.2f} |")
    print(f"| queue + deliver to local SMTP (aiosmtpd) | {statistics.median(timings['delivery']):.2f} |")
    print(f"SMTP server received {handler.messages} messages over all rounds")


if __name__ == "__main__":
    main()

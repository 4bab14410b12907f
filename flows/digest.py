"""The `unit-digest` flow: each unit's weekly digest and the directors' overview, through the outbox.

    python -m flows.digest 2023-10-16          # this week's digests, to the maildir by default
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows import resources
from flows.delivery import Delivery, deliver_and_check, queue_mail
from notifications.digest import digest_mails
from plan.progress import plan_status


@dataclass(frozen=True)
class DigestRun:
    """The digests queued today (their outbox keys) and what the delivery after them did."""

    queued: tuple[str, ...]
    delivery: Delivery


@flow(name="unit-digest", flow_run_name="Thư tổng hợp {as_of}", log_prints=False)
def unit_digest(as_of: dt.date | None = None, unit: str | None = None, plan_path: str | None = None) -> DigestRun:
    """Thư tổng hợp hằng tuần cho từng đơn vị và cho Ban Giám đốc, qua hộp thư đi (outbox).

    unit: chỉ gửi cho một đơn vị (mã, ví dụ van-phong); mặc định mọi đơn vị và Ban Giám đốc.
    """
    logger = get_run_logger()
    as_of = as_of or resources.today()
    plan, _ = resources.load(plan_path)
    statuses = plan_status(plan, resources.ledger().events(plan.id), as_of)
    mails = digest_mails(plan, statuses, as_of)
    if unit is not None:
        mails = [m for m in mails if f"/{unit}/" in m.key]
    queued = queue_mail(plan.id, mails)
    delivery = deliver_and_check(logger)
    create_markdown_artifact(
        key=f"unit-digest-{plan.id}".replace("_", "-")[:64],
        markdown="\n".join(
            [
                f"# Thư tổng hợp ngày {as_of:%d/%m/%Y}",
                "",
                f"- Thư mới vào hộp thư đi: {len(queued)}",
                f"- Đã gửi: {len(delivery.sent)}",
                f"- Chờ gửi lại: {len(delivery.retry)}",
            ]
        ),
        description="Thư tổng hợp hằng tuần",
    )
    return DigestRun(queued=tuple(queued), delivery=delivery)


if __name__ == "__main__":
    unit_digest(dt.date.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else None)

"""The `unit-digest` flow: each unit's weekly digest and the directors' overview, through the outbox.

    python -m flows.digest 2023-10-16          # this week's digests, to the maildir by default
"""

from __future__ import annotations

import datetime as dt
import sys

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows import resources
from flows.digest_job import DigestRun, queue_digests
from flows.mail_task import deliver_and_check


@flow(name="unit-digest", flow_run_name="Thư tổng hợp {as_of}", log_prints=False)
def unit_digest(as_of: dt.date | None = None, unit: str | None = None, plan_path: str | None = None) -> DigestRun:
    """Thư tổng hợp hằng tuần cho từng đơn vị và cho Ban Giám đốc, qua hộp thư đi (outbox).

    unit: chỉ gửi cho một đơn vị (mã, ví dụ van-phong); mặc định mọi đơn vị và Ban Giám đốc.
    """
    logger = get_run_logger()
    as_of = as_of or resources.today()
    plan_id, queued = queue_digests(as_of, unit, plan_path)
    delivery = deliver_and_check(logger)
    create_markdown_artifact(
        key=f"unit-digest-{plan_id}".replace("_", "-")[:64],
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

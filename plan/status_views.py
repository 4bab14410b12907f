"""The plan's status as rows and as markdown: one table, shown by the CLI and published as artifacts."""

from __future__ import annotations

import datetime as dt

from plan.events import STAGE_STATUS_LABELS, StageStatus
from plan.model import STAGE_LABELS, Plan
from plan.progress import RAG_LABELS, ItemStatus
from plan.text import counterpart_label, short_date

RAG_MARKS = {"done": "✅", "on_track": "🟢", "at_risk": "🟠", "off_track": "🔴"}


def status_rows(plan: Plan, statuses: list[ItemStatus]) -> list[dict[str, str | int]]:
    rows: list[dict[str, str | int]] = []
    for status in statuses:
        item = status.item
        counts = status.counts
        finished = counts[StageStatus.DONE] + counts[StageStatus.SKIPPED]
        next_due = status.next_due
        rows.append(
            {
                "ND": item.number,
                "Nội dung": item.short_title,
                "Chủ trì": plan.party_name(item.lead, short=True),
                "Trạng thái": RAG_LABELS[status.rag],
                "Bước xong": f"{finished}/{len(status.stages)}",
                "Quá hạn": ", ".join(_late(v) for v in status.overdue) or "—",
                "Hạn tiếp theo": f"{STAGE_LABELS[next_due.stage]} {short_date(next_due.due)}" if next_due else "—",
                "Đối tác từ chối": ", ".join(counterpart_label(plan, cp) for _, cp in status.declined) or "—",
            }
        )
    return rows


def status_markdown(plan: Plan, statuses: list[ItemStatus], as_of: dt.date) -> str:
    tally = {rag: sum(1 for s in statuses if s.rag == rag) for rag in RAG_LABELS}
    lines = [
        f"# Tình hình thực hiện {plan.document.type} số {plan.document.number_symbol}",
        "",
        f"Ngày xét: **{short_date(as_of)}** — "
        + ", ".join(f"{RAG_MARKS[rag.value]} {label}: {tally[rag]}" for rag, label in RAG_LABELS.items()),
        "",
        "| ND | Nội dung | Chủ trì | Trạng thái | Bước xong | Quá hạn | Hạn tiếp theo |",
        "|---:|---|---|---|---|---|---|",
    ]
    for status, row in zip(statuses, status_rows(plan, statuses)):
        lines.append(
            f"| {row['ND']} | {_cell(row['Nội dung'])} | {_cell(row['Chủ trì'])} | {RAG_MARKS[status.rag.value]} {row['Trạng thái']} "
            f"| {row['Bước xong']} | {_cell(row['Quá hạn'])} | {_cell(row['Hạn tiếp theo'])} |"
        )
    reasons = [(s, r) for s in statuses for r in s.reasons if s.rag.value in ("at_risk", "off_track")]
    if reasons:
        lines += ["", "## Cần chú ý", ""]
        lines += [f"- ND {s.item.number} ({_cell(s.item.short_title)}): {_cell(r)}" for s, r in reasons]
    return "\n".join(lines) + "\n"


def stage_label(status: StageStatus) -> str:
    return STAGE_STATUS_LABELS[status]


def _late(view) -> str:
    where = "" if view.occurrence.is_main else f" {view.occurrence.title or view.occurrence.id}"
    return f"{STAGE_LABELS[view.stage]}{where} ({view.working_days_late} ngày)"


def _cell(text: str | int) -> str:
    """Text from people (titles, notes) cannot break the markdown table."""
    return str(text).replace("|", "\\|").replace("\n", " ")

"""Terminal views of a plan (rich tables) for the `kehoach` command line."""

from __future__ import annotations

from rich.table import Table

from plan.model import ITEM_KIND_LABELS, STAGE_LABELS, Plan
from plan.schedule import Deadline, item_parties, stage_due_dates
from plan.text import counterpart_label, short_date, window_text


def plan_table(plan: Plan) -> Table:
    doc = plan.document
    table = Table(
        title=f"{doc.type} số {doc.number_symbol} ngày {short_date(doc.issued_on)} — {plan.department.name}",
        caption=f"{len(plan.items)} nội dung · {len(plan.units)} đơn vị · {len(plan.counterparts)} đối tác",
        show_lines=True,
    )
    table.add_column("ND", justify="right", no_wrap=True)
    table.add_column("Nội dung", ratio=3, min_width=24)
    table.add_column("Loại", no_wrap=True)
    table.add_column("Thời gian", ratio=2, min_width=12)
    table.add_column("Chủ trì", ratio=1, min_width=8)
    table.add_column("Phối hợp", ratio=1, min_width=8)
    table.add_column("Đối tác", ratio=2, min_width=10)
    for item in plan.items:
        table.add_row(
            str(item.number),
            f"[bold]{_escape(item.short_title)}[/bold]\n{_escape(item.title)}",
            ITEM_KIND_LABELS[item.kind],
            _escape(window_text(plan, item)) + (f"\n{_escape(item.venue)}" if item.venue else ""),
            _escape(plan.party_name(item.lead, short=True)),
            _escape(", ".join(plan.party_name(u, short=True) for u in item.coordinating)) or "—",
            _escape(", ".join(counterpart_label(plan, c) for c in item.counterparts)) or "—",
        )
    return table


def calendar_table(plan: Plan, deadlines: list[Deadline], *, unit: str | None = None) -> Table:
    who = f" — {plan.party_name(unit)}" if unit else ""
    table = Table(title=f"Hạn các bước, {plan.document.type} số {plan.document.number_symbol}{who}")
    table.add_column("Hạn", no_wrap=True)
    table.add_column("ND", justify="right")
    table.add_column("Nội dung")
    table.add_column("Bước", no_wrap=True)
    table.add_column("Chủ trì")
    table.add_column("Vai trò" if unit else "Phối hợp")
    for deadline in deadlines:
        item = deadline.item
        table.add_row(
            f"{short_date(deadline.due)} ({_weekday(deadline.due)})",
            str(item.number),
            _escape(item.short_title),
            STAGE_LABELS[deadline.stage],
            _escape(plan.party_name(item.lead, short=True)),
            _role(item, unit) if unit else (_escape(", ".join(plan.party_name(u, short=True) for u in item.coordinating)) or "—"),
        )
    undated = [i for i in plan.items if stage_due_dates(plan, i) is None and (unit is None or unit in item_parties(i))]
    for item in undated:
        table.add_row("theo yêu cầu", str(item.number), _escape(item.short_title), "—", _escape(plan.party_name(item.lead, short=True)), _role(item, unit) if unit else "—")
    return table


def _role(item, unit: str) -> str:
    if item.lead == unit:
        return "Chủ trì"
    if unit in item.coordinating:
        return "Phối hợp"
    return "Hỗ trợ"


_WEEKDAYS = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"]


def _weekday(d) -> str:
    return _WEEKDAYS[d.weekday()]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def status_table(plan: Plan, statuses, as_of) -> Table:
    from plan.status_views import RAG_MARKS, status_rows

    table = Table(title=f"Tình hình thực hiện {plan.document.type} số {plan.document.number_symbol} — ngày {short_date(as_of)}")
    rows = status_rows(plan, statuses)
    for column in rows[0] if rows else []:
        table.add_column(column, justify="right" if column == "ND" else "left")
    for status, row in zip(statuses, rows):
        values = [_escape(str(v)) for v in row.values()]
        values[3] = f"{RAG_MARKS[status.rag.value]} {values[3]}"
        table.add_row(*values)
    return table


def outbox_table(entries) -> Table:
    from flows.resources import TIMEZONE

    table = Table(title=f"Hộp thư đi — {len(entries)} thư")
    for column in ("Trạng thái", "Loại", "Gửi tới", "Tiêu đề", "Lần thử", "Lỗi gần nhất", "Thử lại lúc"):
        table.add_column(column)
    labels = {"queued": "chờ gửi", "sending": "đang gửi", "sent": "đã gửi", "failed": "lỗi"}
    for entry in entries:
        status = labels.get(entry.status, entry.status) + (" (hẳn)" if entry.permanent else "")
        to = ", ".join(a.email if hasattr(a, "email") else str(a) for a in entry.to)
        retry_at = (
            f"{entry.next_attempt_at.astimezone(TIMEZONE):%H:%M %d/%m}" if entry.next_attempt_at and entry.status == "failed" and not entry.permanent else "—"
        )
        table.add_row(status, entry.kind, _escape(to), _escape(entry.subject), str(entry.attempts), _escape(entry.last_error or "—"), retry_at)
    return table

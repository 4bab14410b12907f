"""Checks beyond the schema: references resolve, one lead per item, ids unique, dates make sense.

Pure: a `Plan` in, problems with field paths out; `plan.load` places them in the file.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator

from plan.model import Anchor, Item, ItemKind, Plan, Precision, Role, Stage
from plan.problems import Problem, Severity, at
from plan.schedule import HOLIDAY_SLACK, item_span, surely_in_order, working_calendar

E, W = Severity.ERROR, Severity.WARNING


def check_rules(plan: Plan) -> list[Problem]:
    problems: list[Problem] = []
    for rule in (_unique_ids, _references, _leads, _duties_agree, _every_unit_has_a_duty, _kinds_and_windows, _stage_order, _reachable):
        problems.extend(rule(plan))
    return problems


def _ids(plan: Plan) -> dict[str, set[str]]:
    parties = {u.id for u in plan.units} | {b.id for b in plan.bodies} | {plan.directors.id, plan.department.id}
    return {
        "party": parties,
        "unit": {u.id for u in plan.units},
        "body": {b.id for b in plan.bodies},
        "item": {i.id for i in plan.items},
        "counterpart": {c.id for c in plan.counterparts},
        "indicator": {i.id for i in plan.indicators},
    }


def _choices(ids: set[str], limit: int = 8) -> str:
    shown = sorted(ids)
    more = f", … ({len(shown) - limit} mã khác)" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more if shown else "(danh sách đang trống)"


_PathAndId = tuple[tuple[str | int, ...], str]  # where an id is declared (a path in the plan), and the id


def _unique_ids(plan: Plan) -> Iterator[Problem]:
    # Units, bodies, the directors and the department share one namespace: a lead may be any of them.
    seen: dict[str, tuple] = {}
    parties: list[_PathAndId] = [(("department", "id"), plan.department.id), (("directors", "id"), plan.directors.id)]
    parties += [(("units", i, "id"), u.id) for i, u in enumerate(plan.units)]
    parties += [(("bodies", i, "id"), b.id) for i, b in enumerate(plan.bodies)]
    groups: dict[str, list[_PathAndId]] = {
        "đơn vị/cơ quan": parties,
        "nội dung": [(("items", i, "id"), it.id) for i, it in enumerate(plan.items)],
        "đối tác": [(("counterparts", i, "id"), c.id) for i, c in enumerate(plan.counterparts)],
        "chỉ tiêu": [(("indicators", i, "id"), c.id) for i, c in enumerate(plan.indicators)],
    }
    for label, entries in groups.items():
        seen = {}
        for path, value in entries:
            if value in seen:
                yield at(E, path, f"mã {label} «{value}» bị trùng (đã dùng ở {_show(seen[value])})", "mỗi mã là duy nhất")
            else:
                seen[value] = path
    numbers: dict[int, int] = {}
    for i, item in enumerate(plan.items):
        if item.number in numbers:
            yield at(E, ("items", i, "number"), f"số thứ tự {item.number} bị trùng với items[{numbers[item.number]}]", "mỗi nội dung một số thứ tự riêng")
        numbers.setdefault(item.number, i)
    expected = set(range(1, len(plan.items) + 1))
    if set(numbers) != expected and len(numbers) == len(plan.items):
        yield at(W, ("items",), f"số thứ tự các nội dung không liên tục: {sorted(numbers)}", f"1 đến {len(plan.items)} như mục II")


def _show(path: tuple) -> str:
    from plan.problems import format_path

    return format_path(path)


def _references(plan: Plan) -> Iterator[Problem]:
    ids = _ids(plan)

    def ref(path: tuple, value: str | None, kind: str, what: str) -> Iterator[Problem]:
        if value is not None and value not in ids[kind]:
            yield at(E, path, f"không có {what} mã «{value}»", f"mã một {what} đã khai báo: {_choices(ids[kind])}")

    yield from ref(("document", "parent_body"), plan.document.parent_body, "body", "cơ quan trong 'bodies'")
    if plan.document.issuer != plan.department.id:
        yield at(E, ("document", "issuer"), f"cơ quan ban hành «{plan.document.issuer}» không phải là 'department'", f"«{plan.department.id}»")
    for i, item in enumerate(plan.items):
        base = ("items", i)
        yield from ref((*base, "lead"), item.lead, "party", "đơn vị hoặc cơ quan")
        for field, kind, what in (
            ("coordinating", "unit", "đơn vị của Sở"),
            ("supporting", "unit", "đơn vị của Sở"),
            ("counterparts", "counterpart", "đối tác"),
            ("indicators", "indicator", "chỉ tiêu"),
        ):
            values = getattr(item, field)
            for j, value in enumerate(values):
                yield from ref((*base, field, j), value, kind, what)
            for value, count in Counter(values).items():
                if count > 1:
                    yield at(W, (*base, field), f"«{value}» được ghi {count} lần", "mỗi mã một lần")
    for u, unit in enumerate(plan.units):
        for d, duty in enumerate(unit.duties):
            for j, item_id in enumerate(duty.items):
                yield from ref(("units", u, "duties", d, "items", j), item_id, "item", "nội dung")
            if duty.directed_by is not None and duty.directed_by != plan.directors.id:
                yield at(E, ("units", u, "duties", d, "directed_by"), f"«{duty.directed_by}» không phải Ban Giám đốc", f"«{plan.directors.id}»")
    yield from ref(("reporting", "compiled_by"), plan.reporting.compiled_by, "unit", "đơn vị của Sở")
    for r, recipient in enumerate(plan.reporting.recipients):
        yield from ref(("reporting", "recipients", r, "body"), recipient.body, "body", "cơ quan trong 'bodies'")
        for v, via in enumerate(recipient.via):
            yield from ref(("reporting", "recipients", r, "via", v), via, "body", "cơ quan trong 'bodies'")
    for n, entry in enumerate(plan.distribution):
        yield from ref(("distribution", n, "ref"), entry.ref, "party", "đơn vị hoặc cơ quan")


def _leads(plan: Plan) -> Iterator[Problem]:
    """Exactly one lead per item: the item's `lead`, and no unit's duty claiming another lead."""
    units = {u.id for u in plan.units}
    parties = _ids(plan)["party"]
    first = _first_items(plan)
    for i, item in enumerate(plan.items):
        for both in sorted(set(item.coordinating) & set(item.supporting)):
            yield at(W, ("items", i, "supporting"), f"«{both}» vừa phối hợp vừa hỗ trợ", "mỗi đơn vị một vai trò trong một nội dung")
        if item.lead not in parties:
            continue  # an unknown lead (a typo) is reported by _references; its consequences would be noise
        if item.lead in item.coordinating:
            yield at(E, ("items", i, "coordinating"), f"đơn vị chủ trì «{item.lead}» cũng được ghi là phối hợp", "đơn vị chủ trì không nằm trong danh sách phối hợp")
        if item.lead not in units and item.kind is not ItemKind.ON_REQUEST and not item.coordinating:
            yield at(E, ("items", i, "coordinating"), "nội dung do cơ quan bên ngoài chủ trì nhưng không có đơn vị nào của Sở phối hợp", "ít nhất một đơn vị phối hợp")
    for u, unit in enumerate(plan.units):
        for d, duty in enumerate(unit.duties):
            if duty.role is not Role.LEAD:
                continue
            for j, item_id in enumerate(_duty_items(plan, duty)):
                claimed = first.get(item_id)
                if claimed is not None and claimed.lead in parties and claimed.lead != unit.id:
                    yield at(
                        E,
                        ("units", u, "duties", d, "items", j) if not duty.all_items else ("units", u, "duties", d, "all_items"),
                        f"hai đơn vị chủ trì nội dung {claimed.number}: «{claimed.lead}» (theo items) và «{unit.id}» (theo nhiệm vụ này)",
                        "mỗi nội dung đúng một đơn vị chủ trì",
                    )


def _duties_agree(plan: Plan) -> Iterator[Problem]:
    """Section II (items) and section IV (duties) say the same thing about who does what."""
    claimed: dict[tuple[str, str], set[Role]] = defaultdict(set)
    first = _first_items(plan)
    for u, unit in enumerate(plan.units):
        for d, duty in enumerate(unit.duties):
            for j, item_id in enumerate(_duty_items(plan, duty)):
                claimed[(unit.id, item_id)].add(duty.role)
                item = first.get(item_id)
                if item is None or duty.role is Role.LEAD:
                    continue
                listed = item.coordinating if duty.role is Role.COORDINATE else item.supporting
                if unit.id not in listed and unit.id != item.lead:
                    field = "coordinating" if duty.role is Role.COORDINATE else "supporting"
                    path = ("units", u, "duties", d, "all_items" if duty.all_items else "items") + (() if duty.all_items else (j,))
                    yield at(
                        E,
                        path,
                        f"nhiệm vụ ghi «{unit.id}» {duty.role.value} nội dung {item.number} nhưng items[{_position(plan, item)}].{field} không có đơn vị này",
                        f"thêm «{unit.id}» vào {field} của nội dung {item.number}, hoặc sửa nhiệm vụ",
                    )
    for i, item in enumerate(plan.items):
        expectations = [(item.lead, Role.LEAD, "lead")] if item.lead in {u.id for u in plan.units} else []
        expectations += [(c, Role.COORDINATE, "coordinating") for c in item.coordinating]
        expectations += [(s, Role.SUPPORT, "supporting") for s in item.supporting]
        for unit_id, role, field in expectations:
            if role not in claimed.get((unit_id, item.id), set()):
                yield at(W, ("items", i, field), f"«{unit_id}» là {role.value} của nội dung {item.number} nhưng không có nhiệm vụ tương ứng trong units", "một nhiệm vụ ở mục IV cho đơn vị này")


def _every_unit_has_a_duty(plan: Plan) -> Iterator[Problem]:
    for u, unit in enumerate(plan.units):
        if not unit.duties:
            yield at(E, ("units", u, "duties") if "duties" in unit.model_fields_set else ("units", u), f"đơn vị «{unit.id}» không có nhiệm vụ nào", "ít nhất một nhiệm vụ theo mục IV")


def _kinds_and_windows(plan: Plan) -> Iterator[Problem]:
    year_start, year_end = dt.date(plan.year, 1, 1), dt.date(plan.year, 12, 31)
    for i, item in enumerate(plan.items):
        precision = Precision(item.window.precision)
        on_request = item.kind is ItemKind.ON_REQUEST
        if on_request != (precision is Precision.ON_REQUEST):
            yield at(E, ("items", i, "window", "precision"), f"nội dung loại «{item.kind.value}» có thời gian «{precision.value}»", "kind on_request đi với window.precision on_request, và ngược lại")
        if item.kind is ItemKind.EVENT and precision not in (Precision.EXACT, Precision.EXPECTED):
            yield at(E, ("items", i, "window", "precision"), "sự kiện phải có thời gian cụ thể hoặc dự kiến", "exact hoặc expected")
        span = item_span(plan, item)
        if span is None:
            continue
        start, end = span
        if end < year_start or start > year_end:
            yield at(E, ("items", i, "window"), f"thời gian {start:%d/%m/%Y}–{end:%d/%m/%Y} nằm ngoài năm kế hoạch {plan.year}", f"trong hoặc giao với năm {plan.year}")
        elif end < plan.document.issued_on:
            yield at(
                W,
                ("items", i, "window", "end"),
                f"nội dung {item.number} đã kết thúc ({end:%d/%m/%Y}) trước ngày ban hành kế hoạch ({plan.document.issued_on:%d/%m/%Y})",
                "ghi nhận kết quả đã thực hiện, không cần lập lịch",
            )


def _stage_order(plan: Plan) -> Iterator[Problem]:
    """Stage due dates come in order, for the item's own window and for its occurrences.

    Most pairs are decided by the offsets alone (see schedule.surely_in_order); the holiday calendar
    is loaded only for the pairs that are close.
    """
    calendar = None
    slack = HOLIDAY_SLACK + len(plan.calendar.days_off) if not plan.calendar.working_days else None
    issued = plan.document.issued_on
    reported: set[tuple] = set()
    for i, item in enumerate(plan.items):
        missing = [s for s in Stage if plan.offset(item, s) is None]
        for stage in missing:
            yield at(E, ("items", i, "stages"), f"bước «{stage.value}» không có thời hạn", f"khai báo stage_defaults.{stage.value} hoặc items[{i}].stages.{stage.value}")
        if missing:
            continue
        span = item_span(plan, item)
        checks = [(span, False)] if span is not None else []
        if span is None or item.recurrence or item.occurrence_stages is not None or item.kind is ItemKind.PROGRAMME:
            checks.append(((issued, issued), True))  # one occurrence on a single day
        for (start, end), occurrence in checks:
            anchors = {Anchor.START: start, Anchor.END: end, Anchor.ISSUED: issued}
            found = {s: plan.offset(item, s, occurrence=occurrence) for s in Stage}
            gaps = [s for s in Stage if found[s] is None]
            for stage in gaps:
                if ("missing", i, stage) not in reported:
                    reported.add(("missing", i, stage))
                    yield at(
                        E,
                        ("items", i),
                        f"các đợt của nội dung {item.number}: bước «{stage.value}» không có thời hạn",
                        f"khai báo stage_defaults.{stage.value} hoặc items[{i}].occurrence_stages.{stage.value}",
                    )
            if gaps:
                continue
            offsets = {s: o for s, o in found.items() if o is not None}  # all of them: no gaps
            ordered = list(Stage)
            for before, after in zip(ordered, ordered[1:]):
                o1, o2 = offsets[before], offsets[after]
                a1, a2 = anchors[o1.anchor], anchors[o2.anchor]
                if slack is not None and surely_in_order(a1, o1.working_days, a2, o2.working_days, slack):
                    continue
                calendar = calendar or working_calendar(plan)
                d1, d2 = calendar.add_working_days(a1, o1.working_days), calendar.add_working_days(a2, o2.working_days)
                if d2 >= d1:
                    continue
                field: tuple[str | int, ...]
                if occurrence and item.occurrence_stages is not None and item.occurrence_stages.get(after) is not None:
                    field = ("items", i, "occurrence_stages", after.value)
                elif item.stages.get(after) is not None and not (occurrence and item.kind is not ItemKind.ON_REQUEST):
                    field = ("items", i, "stages", after.value)
                else:
                    field = ("stage_defaults", after.value)
                what = "mỗi đợt của " if occurrence and span is not None else ""
                message = f"{what}nội dung {item.number}: hạn bước «{after.value}» ({d2:%d/%m/%Y}) trước hạn bước «{before.value}» ({d1:%d/%m/%Y})"
                if (field, before) not in reported:
                    reported.add((field, before))
                    yield at(E, field, message, "thời hạn các bước theo thứ tự chuẩn bị → phối hợp → triển khai → báo cáo")


def _reachable(plan: Plan) -> Iterator[Problem]:
    for u, unit in enumerate(plan.units):
        if not unit.emails:
            yield at(W, ("units", u), f"đơn vị «{unit.id}» chưa có địa chỉ thư", "ít nhất một địa chỉ trong emails để nhận thư tổng hợp")
    used = {c for item in plan.items for c in item.counterparts}
    for c, counterpart in enumerate(plan.counterparts):
        if counterpart.id in used and not counterpart.contacts:
            yield at(W, ("counterparts", c), f"đối tác «{counterpart.id}» chưa có người liên hệ", "ít nhất một liên hệ có email để gửi thư mời")


def _position(plan: Plan, item: Item) -> int:
    return next(n for n, candidate in enumerate(plan.items) if candidate is item)


def _duty_items(plan: Plan, duty) -> list[str]:
    return [i.id for i in plan.items] if duty.all_items else list(duty.items)


def _first_items(plan: Plan) -> dict[str, Item]:
    """Items by id, the first one winning as for a duplicated key: with a duplicated id (reported by
    _unique_ids) the rules judge the item the reader meets first, not a later copy."""
    index: dict[str, Item] = {}
    for item in plan.items:
        index.setdefault(item.id, item)
    return index

"""The report's Vietnamese paragraphs (reports.narrative), in the standard structure: the opening citing
the plan and the plans it implements, I. Công tác chỉ đạo, triển khai; II. Kết quả thực hiện; III. Đánh giá
chung; IV. Phương hướng, nhiệm vụ; V. Đề xuất, kiến nghị.

Two sources: hand-made tables that follow the ReportData contract (for the cases the sample lacks),
and the sample year (plan/scenarios/…sample.yaml) replayed into a SQLite ledger and aggregated, which
is what a real report reads. A bare scenario ledger has no automatic skips (the flows record those),
so items without counterparts show their coordination as late there.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from plan.calendar import ReportingPeriod
from plan.events import plan_ref
from plan.ledger import Ledger
from plan.load import load_plan
from plan.model import Counted, Plan
from plan.scenario import SCENARIOS_DIR, load_scenario, scenario_events
from reports.aggregate import aggregate
from reports.data import (
    COUNTERPART_COLUMNS,
    FINISHED_LATE_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_TOTAL_COLUMNS,
    ITEM_COLUMNS,
    LATE_COLUMNS,
    NOTE_COLUMNS,
    OCCURRENCE_COLUMNS,
    UNIT_COLUMNS,
    ReportData,
)
from reports.dating import report_date
from reports.narrative import (
    ASSESSMENT_HEADINGS,
    NO_EVENTS,
    SECTION_HEADINGS,
    Narrative,
    build_narrative,
    clean_text,
    item_numbers,
    number_text,
    occurrence_label,
    partners_text,
    prose_date,
    report_summary,
)
from reports.placeholders import OPEN, placeholders_in
from reports.plan_tables import plan_tables
from reports.tables import _indicators

D = dt.date
H1 = ReportingPeriod.parse("2023-H1")
YEAR = ReportingPeriod.parse("2023")
AS_OF = D(2023, 6, 16)
SAMPLE = SCENARIOS_DIR / "hanoi-svhtt-ttdn-2023.sample.yaml"


@pytest.fixture(scope="module", name="plan")
def fixture_plan() -> Plan:
    result = load_plan()
    assert result.plan is not None
    return result.plan


# --- hand-made tables ------------------------------------------------------------------------


def item_row(plan: Plan, number: int, rag: str = "on_track", **counts) -> dict:
    item = plan.item(number)
    labels = {"done": "Hoàn thành", "on_track": "Đúng tiến độ", "at_risk": "Có nguy cơ chậm", "off_track": "Chậm tiến độ"}
    row = {
        "number": number,
        "id": item.id,
        "short_title": item.short_title,
        "title": item.title,
        "kind": item.kind.value,
        "window": "năm 2023",
        "lead": plan.party_name(item.lead, short=True),
        "coordinating": ", ".join(plan.party_name(c, short=True) for c in item.coordinating),
        "rag": rag,
        "rag_label": labels[rag],
        "occurrences": 1,
        "stages_total": 4,
        "stages_done": 0,
        "stages_done_in_period": 0,
        "stages_overdue": 0,
        "prepared": False,
        "lead_name": plan.party_name(item.lead),
        "coordinating_names": ", ".join(plan.party_name(c) for c in item.coordinating),
    }
    row.update(counts)
    return row


def occurrence(number: int, name: str, start: D, end: D, held: D | None = None, **indicators) -> dict:
    return {
        "item_number": number, "occurrence": name, "start": start, "end": end, "held_on": held,
        "executed": True, "executed_on": end, "in_period": True, "indicators": indicators,
    }  # fmt: skip


def indicator(plan: Plan, number: int, ident: str, value: int) -> dict:
    found = next(i for i in plan.indicators if i.id == ident)
    return {"item_number": number, "indicator": ident, "label": found.label, "unit": found.unit, "value": value}


def late_row(number: int, stage: str, due: D, reason: str | None, occurrence: str = "main") -> dict:
    labels = {"preparation": "Chuẩn bị", "coordination": "Phối hợp", "execution": "Triển khai", "reporting": "Báo cáo"}
    return {
        "item_number": number, "short_title": f"Nội dung {number}", "occurrence": occurrence, "stage": stage,
        "stage_label": labels[stage], "due": due, "working_days_late": 7, "lead": "X", "reason": reason,
    }  # fmt: skip


def finished_late_row(plan: Plan, number: int, stage: str, due: D, finished: D, occurrence: str = "main") -> dict:
    return {
        "item_number": number, "short_title": plan.item(number).short_title, "occurrence": occurrence, "stage": stage,
        "stage_label": stage.capitalize(), "due": due, "finished_on": finished, "working_days_late": 3,
        "lead": plan.party_name(plan.item(number).lead, short=True),
    }  # fmt: skip


def counterpart_row(ident: str, name: str, items: str, confirmed=0, declined=0, no_answer=0) -> dict:
    return {
        "counterpart": ident, "name": name, "kind": "embassy", "items": items,
        "confirmed": confirmed, "declined": declined, "no_answer": no_answer, "awaiting": 0,
    }  # fmt: skip


def make_data(
    plan: Plan, *, period=H1, as_of=AS_OF, events: int = 10, items=(), indicators=(), late=(), counterparts=(), notes=(), occurrences=(), finished_late=()
) -> ReportData:
    """ReportData as `aggregate` gives it; totals follow the catalogue's `counted` (distinct: the largest)."""
    frame = pd.DataFrame(list(indicators), columns=INDICATOR_COLUMNS)
    distinct = {i.id for i in plan.indicators if i.counted is Counted.DISTINCT}
    totals = pd.DataFrame(
        [
            {
                "indicator": i.id, "label": i.label, "unit": i.unit,
                "value": int(rows["value"].max() if i.id in distinct else rows["value"].sum()) if len(rows) else 0,
                "items": rows["item_number"].nunique(),
            }
            for i in plan.indicators
            for rows in [frame[frame["indicator"] == i.id]]
        ],
        columns=INDICATOR_TOTAL_COLUMNS,
    )  # fmt: skip
    return ReportData(
        plan=plan,
        period=period,
        as_of=as_of,
        window=period.span,
        events_in_period=events,
        items=pd.DataFrame(list(items) or [item_row(plan, i.number) for i in plan.items], columns=ITEM_COLUMNS),
        indicators=frame,
        indicator_totals=totals,
        units=pd.DataFrame(columns=UNIT_COLUMNS),
        late=pd.DataFrame(list(late), columns=LATE_COLUMNS),
        counterparts=pd.DataFrame(list(counterparts), columns=COUNTERPART_COLUMNS),
        notes=pd.DataFrame(list(notes), columns=NOTE_COLUMNS),
        occurrences=pd.DataFrame(list(occurrences), columns=OCCURRENCE_COLUMNS),
        finished_late=pd.DataFrame(list(finished_late), columns=FINISHED_LATE_COLUMNS),
    )


def section(narrative: Narrative, numeral: str) -> list[str]:
    """The blocks of the section whose heading starts with `numeral` ("III.")."""
    found = next(s for s in narrative.sections if s.heading.startswith(f"{numeral} "))
    return [b.text for b in found.blocks]


def item_blocks(narrative: Narrative, number: int) -> str:
    """Section II's paragraphs about one item, after its heading up to the next item's."""
    blocks = next(s for s in narrative.sections if s.heading.startswith("II. ")).blocks
    start = next(i for i, b in enumerate(blocks) if b.heading and b.text.startswith(f"{number}. "))
    end = next((i for i, b in enumerate(blocks) if b.heading and i > start), len(blocks))
    return "\n".join(b.text for b in blocks[start + 1 : end])


def all_text(narrative: Narrative) -> list[str]:
    texts = [narrative.summary, narrative.intro, narrative.closing, narrative.no_events or ""]
    for s in narrative.sections:
        texts += [s.heading, *(b.text for b in s.blocks)]
    return texts


# --- the sample year, from a real ledger -------------------------------------------------------


@pytest.fixture(scope="module", name="ledger")
def fixture_ledger(plan, tmp_path_factory):
    scenario, problems = load_scenario(SAMPLE)
    assert scenario is not None, [p.render() for p in problems]
    url = sa.URL.create("sqlite", database=str(tmp_path_factory.mktemp("narrative") / "sample.sqlite")).render_as_string()
    with Ledger(url) as ledger:
        ledger.append(plan_ref(plan), scenario_events(plan, scenario, [], D(2023, 12, 31), actor="kịch bản"))
        yield ledger


@pytest.fixture(scope="module", name="year")
def fixture_year(plan, ledger) -> Narrative:
    """The annual report made on 5/1/2024, after the year ends."""
    return build_narrative(aggregate(plan, ledger, YEAR, D(2024, 1, 5)))


# --- text helpers ----------------------------------------------------------------------------


def test_clean_text_turns_word_breaking_characters_into_spaces_and_keeps_markup_as_typed():
    typed = "A\x0bB\x0cC\x00D\x07E <b>x</b> & < \ufffe\n\t end  "
    assert clean_text(typed) == "A B C D E <b>x</b> & < end"


def test_clean_text_stores_nfc_and_reads_missing_cells_as_empty():
    decomposed = unicodedata.normalize("NFD", "Hoàn thành")
    assert clean_text(decomposed) == unicodedata.normalize("NFC", "Hoàn thành")
    assert clean_text(None) == clean_text(float("nan")) == clean_text(pd.NA) == ""


def test_numbers_group_thousands_with_a_dot():
    assert [number_text(v) for v in (0, 999, 25600, 1234567)] == ["0", "999", "25.600", "1.234.567"]


@pytest.mark.parametrize(
    ("occurrence", "label"),
    [
        ("main", ""),
        ("", ""),
        (None, ""),
        ("2023-05", "tháng 5/2023"),
        ("2023-08-01-dsq-singapore", "đợt ngày 01/08/2023"),
        ("2023-08-10", "đợt ngày 10/08/2023"),
        ("tháng 4/2023", "tháng 4/2023"),  # already a label
    ],
)
def test_occurrences_read_as_months_or_dated_sessions(occurrence, label):
    assert occurrence_label(occurrence) == label


@pytest.mark.parametrize(("cell", "numbers"), [(7, [7]), ("6, 9", [6, 9]), ([8, 9], [8, 9]), (None, [])])
def test_item_numbers_accept_an_int_a_list_or_text(cell, numbers):
    assert item_numbers(cell) == numbers


# --- the structure ----------------------------------------------------------------------------


def test_summary_names_the_work_and_the_period(plan):
    summary = report_summary(make_data(plan))
    assert summary.startswith("Kết quả tổ chức triển khai hoạt động thông tin, tuyên truyền đối ngoại")
    assert summary.endswith("6 tháng đầu năm 2023")
    assert "năm 2023 6 tháng" not in summary


def test_five_sections_in_order_and_three_assessment_subheadings(plan):
    narrative = build_narrative(make_data(plan))
    assert [s.heading for s in narrative.sections] == [
        "I. CÔNG TÁC CHỈ ĐẠO, TRIỂN KHAI",
        "II. KẾT QUẢ THỰC HIỆN",
        "III. ĐÁNH GIÁ CHUNG",
        "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ 6 THÁNG CUỐI NĂM 2023",
        "V. ĐỀ XUẤT, KIẾN NGHỊ",
    ]
    assessment = next(s for s in narrative.sections if s.heading == SECTION_HEADINGS[2])
    assert [b.text for b in assessment.blocks if b.heading] == [
        "1. Ưu điểm",
        "2. Tồn tại, hạn chế và nguyên nhân",
        "3. Bài học kinh nghiệm",
    ]
    assert assessment.blocks[0].text == ASSESSMENT_HEADINGS[0]  # the section opens with its first subheading
    results = next(s for s in narrative.sections if s.heading == SECTION_HEADINGS[1])
    assert [b.text for b in results.blocks if b.heading] == [f"{i.number}. {i.short_title}" for i in plan.items]


def test_the_annual_report_looks_ahead_to_the_next_year(plan, year):
    assert year.sections[3].heading == "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2024"
    tasks = "\n".join(section(year, "IV."))
    assert "xây dựng kế hoạch tổ chức triển khai hoạt động thông tin, tuyên truyền đối ngoại của ngành văn hoá và thể thao năm 2024" in tasks
    assert "- Văn phòng Sở tham mưu xây dựng kế hoạch tổ chức triển khai" in tasks and "tổng kết" not in tasks
    assert "[Cần bổ sung: nhiệm vụ trọng tâm năm 2024" in tasks
    quarter = build_narrative(make_data(plan, period=ReportingPeriod.parse("2023-Q4"), as_of=D(2023, 12, 20)))
    assert quarter.sections[3].heading == "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ QUÝ I NĂM 2024"


def test_prose_dates_pad_the_day_not_the_month():
    assert [prose_date(d) for d in (D(2023, 4, 27), D(2015, 9, 7), D(2023, 12, 31), D(2024, 1, 5))] == ["27/4/2023", "07/9/2015", "31/12/2023", "05/1/2024"]


def test_the_opening_cites_the_plan_and_the_plans_it_implements_the_other_bases_open_section_i(plan):
    narrative = build_narrative(make_data(plan))
    intro, direction = narrative.intro, section(narrative, "I.")
    implemented = [b for b in plan.legal_bases if b.kind == plan.document.type]
    others = [b for b in plan.legal_bases if b.kind != plan.document.type]
    assert implemented and others, "the 2023 plan implements plans and has other legal bases"
    assert intro.startswith("Thực hiện Kế hoạch số 326/KH-SVHTT ngày 27/4/2023 của Sở Văn hóa và Thể thao thành phố Hà Nội về ")
    for basis in implemented:  # the plans it implements, after the plan itself
        cited = f"{basis.kind} số {basis.number} ngày {prose_date(basis.date)}"
        assert cited in intro, cited
        assert intro.index("326/KH-SVHTT") < intro.index(cited)
        assert cited not in direction[0]
    for basis in others:  # the other legal bases: section I, before the plan was issued
        cited = f"{basis.kind} số {basis.number} ngày {prose_date(basis.date)}"
        assert basis.number not in intro, cited
        assert cited in direction[0], cited
        assert direction[0].index(cited) < direction[0].index("Sở ban hành Kế hoạch số 326/KH-SVHTT")
    assert "Nghị định số 72/2015/NĐ-CP ngày 07/9/2015" in direction[0] and "07/09/2015" not in direction[0]
    assert direction[0].startswith("Căn cứ ")
    assert f", ngày 27/4/2023, Sở ban hành Kế hoạch số 326/KH-SVHTT gồm {len(plan.items)} nội dung;" in direction[0]
    assert intro.endswith(", Sở báo cáo kết quả thực hiện 6 tháng đầu năm 2023 (tình hình đến ngày 16/6/2023) như sau:")
    assert "đã ban hành" not in intro and "27/04/2023" not in intro


def test_direction_says_how_many_of_the_departments_own_items_were_prepared(plan):
    own = [i.number for i in plan.items if any(u.id == i.lead for u in plan.units)]
    assert 6 not in own and len(own) == len(plan.items) - 1  # item 6 is the city's
    rows = [item_row(plan, i.number, prepared=i.number in (1, 6, 7)) for i in plan.items]
    direction = section(build_narrative(make_data(plan, items=rows)), "I.")
    assert "Kế hoạch số 326/KH-SVHTT" in direction[0] and f"gồm {len(plan.items)} nội dung" in direction[0]
    # the city's item 6, prepared or not, is not the Department's to count
    assert direction[1] == (
        f"Các phòng, đơn vị được giao chủ trì đã xây dựng kế hoạch chi tiết, hoàn thành công tác chuẩn bị đối với 2/{len(own)} nội dung do Sở chủ trì."
    )
    assert direction[-1].startswith(OPEN)


# --- II. results --------------------------------------------------------------------------------


def test_item_results_use_the_indicator_phrases_and_the_lead_units_full_name(plan, year):
    translations = item_blocks(year, 1)
    assert translations.startswith("Trung tâm Thông tin Triển lãm chủ trì, phối hợp với Văn phòng Sở duy trì, nâng cao chất lượng")
    # 3 months × 18 and 5 months × 24, worded by the catalogue's phrases
    # each result says who did it: the lead unit
    assert (
        "Từ tháng 4 đến tháng 11/2023, Trung tâm Thông tin Triển lãm đã dịch 174 tin, bài; đăng 164 tin, bài trên Cổng thông tin đối ngoại của Thành phố."
        in translations
    )
    assert "Số tin, bài được dịch" not in translations  # the label is for the annex
    # the closing note on the item's own window says nothing the months do not
    assert "Tổng hợp theo từng tháng" not in translations
    sports = item_blocks(year, 2)
    assert "Phòng Quản lý Thể dục Thể thao chủ trì tổ chức các chương trình giao lưu về thể thao" in sports
    assert "Trong năm 2023, Phòng Quản lý Thể dục Thể thao đã tổ chức 3 sự kiện, chương trình;" in sports
    assert "Từ ngày 10 đến ngày 11/8/2023, Phòng Tổ chức Pháp chế đã tổ chức 1 khóa tập huấn, bồi dưỡng; có 150 học viên tham dự." in item_blocks(year, 3)
    # item 6 is led outside the Department: the Department's unit coordinates, and its results are the coordinating unit's
    assert item_blocks(year, 6).startswith("Văn phòng Sở phối hợp với Ủy ban nhân dân thành phố Hà Nội tổ chức Hội nghị")
    month = occurrence(6, "2023-04", D(2023, 4, 1), D(2023, 4, 30), participants=600)
    city = item_blocks(build_narrative(make_data(plan, occurrences=[month])), 6)
    assert "Từ tháng 4/2023, Văn phòng Sở đã thu hút 600 lượt người tham gia." in city
    assert "Ủy ban nhân dân thành phố Hà Nội đã" not in city


def test_no_short_names_anywhere_in_the_body(plan, year):
    body = year.text()
    short = {u.short_name for u in plan.units if u.short_name} | {"UBND TP."}
    assert {"TTTTTL", "QLTDTT", "VP"} <= short
    for name in short:
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", body), name
    # the hand-made tables give short names in `lead` and the late table: the body still writes full ones
    data = make_data(plan, late=[late_row(4, "coordination", D(2023, 5, 30), None)])
    text = build_narrative(data).text()
    assert "Nội dung 4 (Nội dung 4) do Trung tâm Thông tin Triển lãm chủ trì" in text
    for name in short:
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text), name


def test_a_held_event_reads_the_day_it_was_held_not_the_expected_window(plan, year):
    # Item 9 is planned "dự kiến vào cuối tháng 10" (21–31/10): it was held on 28/10.
    event = item_blocks(year, 9)
    assert "Ngày 28/10/2023, sự kiện được tổ chức tại Phố đi bộ hồ Hoàn Kiếm, Hà Nội" in event
    assert "dự kiến" not in event and "21/10" not in event and "cuối tháng 10" not in event
    # Confirmed partners are named with the event, embassies grouped; the one that declined is not.
    assert (
        "với sự phối hợp của Đại sứ quán các nước Australia, Italia, Malaysia, Vương quốc Hà Lan, Pháp, Singapore và Nhật Bản tại Việt Nam;"
        in event
    )
    assert "Canada" not in event and event.count("Đại sứ quán") == 1
    assert "thu hút 15.000 lượt người tham gia" in event
    # Hand-made: a dated event without held_on keeps the plan's exact dates; with one in an expected window, that day.
    data = make_data(plan, occurrences=[occurrence(9, "main", D(2023, 10, 21), D(2023, 10, 31), D(2023, 10, 27), participants=10)])
    assert "Ngày 27/10/2023, sự kiện được tổ chức" in item_blocks(build_narrative(data), 9)


def test_the_host_an_item_names_is_not_listed_as_its_partner(plan, year):
    """Item 7 supports the EU Delegation's own event: the Delegation is named once, as the host."""
    village = item_blocks(year, 7)
    host = "Phái đoàn Liên minh Châu Âu tại Việt Nam"
    assert f"hỗ trợ {host} tổ chức sự kiện" in village
    assert village.count(host) == 1 and "với sự phối hợp của" not in village
    assert "Từ ngày 12 đến ngày 14/5/2023, sự kiện được tổ chức tại Phố đi bộ hồ Hoàn Kiếm, Hà Nội;" in village


def test_partners_are_named_with_embassies_grouped():
    eu, au, it = "Phái đoàn Liên minh Châu Âu tại Việt Nam", "Đại sứ quán Australia tại Việt Nam", "Đại sứ quán Italia tại Việt Nam"
    assert partners_text([au]) == au
    assert partners_text([au, it]) == "Đại sứ quán các nước Australia và Italia tại Việt Nam"
    assert partners_text([au, eu, it]) == f"{eu} và Đại sứ quán các nước Australia và Italia tại Việt Nam"
    assert partners_text([eu]) == eu and partners_text([]) == ""


def test_an_on_request_item_gives_each_held_occurrence_with_its_date_and_requester(plan, year):
    requested = item_blocks(year, 8)
    singapore = (
        "Ngày 01/8/2023, theo đề nghị của Đại sứ quán Singapore tại Việt Nam, Văn phòng Sở đã tổ chức 1 sự kiện, chương trình; "
        "thu hút 800 lượt người tham gia"
    )
    japan = (
        "Ngày 21/9/2023, theo đề nghị của Đại sứ quán Nhật Bản tại Việt Nam, Văn phòng Sở đã tổ chức 1 sự kiện, chương trình; "
        "thu hút 1.500 lượt người tham gia"
    )
    assert singapore in requested and japan in requested
    assert requested.index(singapore) < requested.index(japan)
    # In the half-year (to 30/6) neither was held yet: the item goes on.
    data = make_data(plan)
    assert "theo đề nghị" not in item_blocks(build_narrative(data), 8)
    assert "Đến ngày 16/6/2023, nội dung đang được tiếp tục triển khai." in item_blocks(build_narrative(data), 8)


def test_a_done_item_without_any_result_asks_the_drafter(plan):
    rows = [item_row(plan, i.number, "done" if i.number == 7 else "on_track") for i in plan.items]
    text = item_blocks(build_narrative(make_data(plan, items=rows)), 7)
    assert "[Cần bổ sung: kết quả cụ thể của nội dung 7 trong 6 tháng đầu năm 2023]" in text


def test_results_dated_after_the_decree_09_cut_off_count_in_the_annual_report(plan, ledger, year):
    """Items 2 and 4 recorded the year's results on 15/12, the day after Decree 09's 14/12 cut-off."""
    assert "thu hút 1.200 lượt người tham gia; có sự tham gia của đại diện 6 quốc gia" in item_blocks(year, 2)
    assert "thực hiện 450 sản phẩm cổ động trực quan (pano, áp phích, băng rôn)" in item_blocks(year, 4)
    achievements = "\n".join(section(year, "III."))
    assert "thu hút 44.100 lượt người tham gia" in achievements  # 42.900 + item 2's 1.200
    # A report made on 14/12 does not know them yet.
    early = build_narrative(aggregate(plan, ledger, YEAR, D(2023, 12, 14)))
    assert "1.200 lượt người" not in early.text() and "450 sản phẩm" not in early.text()


# --- distinct indicators -----------------------------------------------------------------------


def test_distinct_indicators_are_never_summed_over_events_in_the_tables(plan):
    items = plan_tables(plan, D(2023, 12, 31)).items
    position = {int(n): p for p, n in enumerate(items["number"])}
    given = [
        {"events_held": 1, "participants": 800, "embassies_engaged": 1},
        {"events_held": 1, "participants": 1500, "embassies_engaged": 1},
        {"participants": 15000, "partner_countries": 7, "embassies_engaged": 7},
        {"participants": 25000, "partner_countries": 20, "embassies_engaged": 18},
    ]
    per_item, totals = _indicators(plan, items, given, np.array([position[8], position[8], position[9], position[7]]))
    values = per_item.set_index(["item_number", "indicator"])["value"]
    assert values[(8, "embassies_engaged")] == 1  # the largest figure, never 1 + 1
    assert values[(8, "participants")] == 2300
    total = totals.set_index("indicator")["value"]
    assert total["embassies_engaged"] == 18 and total["partner_countries"] == 20  # not 27, not 27
    assert total["participants"] == 800 + 1500 + 15000 + 25000
    assert totals.set_index("indicator")["items"]["embassies_engaged"] == 3


def test_distinct_indicators_are_never_summed_in_the_text(plan, year):
    text = year.text()
    # countries 6 + 2 + 20 + 7 = 35 and embassies 18 + 1 + 1 + 7 = 27 would be sums
    assert "35 quốc gia" not in text and "27 cơ quan" not in text
    achievements = "\n".join(section(year, "III."))
    assert "Sở đã phối hợp trực tiếp với" in achievements
    assert "quốc gia" not in achievements.split("Sở đã phối hợp trực tiếp với")[0]  # the overall sentence sums only summable figures
    # A monthly item: the same 3 countries in April and May are 3, while the articles add up.
    months = [
        occurrence(1, "2023-04", D(2023, 4, 1), D(2023, 4, 30), articles_translated=10, partner_countries=3),
        occurrence(1, "2023-05", D(2023, 5, 1), D(2023, 5, 31), articles_translated=12, partner_countries=3),
    ]
    monthly = item_blocks(build_narrative(make_data(plan, occurrences=months)), 1)
    assert "Từ tháng 4 đến tháng 5/2023, Trung tâm Thông tin Triển lãm đã dịch 22 tin, bài; có sự tham gia của đại diện 3 quốc gia." in monthly


# --- III. assessment ---------------------------------------------------------------------------


DECLINED = "Một số cơ quan đại diện nước ngoài được mời chưa thể tham gia phối hợp tổ chức các hoạt động."


def test_declined_and_unanswered_counterparts_are_neither_counted_nor_named(plan, year):
    """The sample: Canada declines item 9. The body never names it, in section III not at all, and
    says that some invitations were not taken up without counting them."""
    canada = plan.counterpart("dsq-canada")
    names = [canada.name, canada.short_name or canada.name, "Canada"]
    assessment = "\n".join(section(year, "III."))
    for name in names:
        assert name not in assessment, name
    assert DECLINED in section(year, "III.")
    assert "lượt mời" not in year.text()
    partners = next(t for t in section(year, "III.") if t.startswith("Sở đã phối hợp trực tiếp với "))
    assert partners.startswith("Sở đã phối hợp trực tiếp với 8 cơ quan đại diện nước ngoài, tổ chức quốc tế tại Việt Nam (")
    assert partners.endswith(") trong tổ chức các hoạt động, góp phần quảng bá hình ảnh Thủ đô Hà Nội với bạn bè quốc tế.")
    assert "Đại sứ quán các nước Australia, Italia, Malaysia, Vương quốc Hà Lan, Pháp, Singapore và Nhật Bản tại Việt Nam" in partners
    body = year.text()
    for name in names:
        for word in ("từ chối", "không phản hồi"):
            for match in re.finditer(word, body):
                assert name not in body[max(0, match.start() - 200) : match.end() + 200], (name, word)


def test_a_reason_or_note_naming_a_declined_counterpart_is_left_to_the_drafter(plan):
    rows = [item_row(plan, i.number, "off_track" if i.number == 9 else "on_track", stages_overdue=1 if i.number == 9 else 0) for i in plan.items]
    data = make_data(
        plan,
        items=rows,
        late=[late_row(9, "coordination", D(2023, 10, 16), "Đại sứ quán Canada tại Việt Nam từ chối do trùng lịch")],
        counterparts=[
            counterpart_row("dsq-canada", "ĐSQ Canada", "9", declined=1),
            counterpart_row("dsq-bi", "ĐSQ Bỉ", "9", no_answer=1),
            counterpart_row("dsq-phap", "ĐSQ Pháp", "9", confirmed=1),
        ],
        notes=[
            {"item_number": 9, "stage": "execution", "stage_label": "Triển khai", "date": D(2023, 6, 1), "actor": "vp", "text": "ĐSQ Bỉ không phản hồi thư mời."},
            {"item_number": 9, "stage": "execution", "stage_label": "Triển khai", "date": D(2023, 6, 2), "actor": "vp", "text": "Đã thuê sân khấu."},
        ],
    )
    narrative = build_narrative(data)
    body = narrative.text()
    for name in ("Canada", "Bỉ"):
        assert name not in body, name
    assert "Đã thuê sân khấu." in item_blocks(narrative, 9)  # other notes stay
    assert "[Cần bổ sung: nguyên nhân chậm tiến độ của nội dung 9]" in body
    assert DECLINED in section(narrative, "III.")  # one declined, one silent: said once, not counted
    assert "lượt mời" not in body
    assert "Đại sứ quán Pháp tại Việt Nam" in body  # a partner that took part is named


def test_a_late_item_gives_its_reason_or_a_placeholder(plan):
    late = [
        late_row(5, "coordination", D(2023, 5, 30), "Chưa bố trí được kinh phí."),
        late_row(1, "reporting", D(2023, 6, 7), None, occurrence="2023-05"),
    ]
    shortcomings = section(build_narrative(make_data(plan, late=late)), "III.")
    first = next(t for t in shortcomings if t.startswith("Nội dung 1 "))
    fifth = next(t for t in shortcomings if t.startswith("Nội dung 5 "))
    assert shortcomings.index(first) < shortcomings.index(fifth)
    assert "Trung tâm Thông tin Triển lãm chủ trì chưa hoàn thành đúng thời hạn: khâu báo cáo tháng 5/2023 (hạn 07/6/2023)" in first
    assert first.endswith("[Cần bổ sung: nguyên nhân chậm tiến độ của nội dung 1]")
    assert "Nguyên nhân" not in first and "bước" not in first
    assert fifth.endswith("Nguyên nhân: Chưa bố trí được kinh phí.")
    assert OPEN not in fifth


def test_many_late_stages_of_one_item_are_named_up_to_three_and_counted(plan):
    late = [late_row(1, "coordination", D(2023, m, 3), "", occurrence=f"2023-{m:02d}") for m in range(4, 12)]
    line = next(t for t in section(build_narrative(make_data(plan, late=late)), "III.") if t.startswith("Nội dung 1 "))
    assert "khâu phối hợp tháng 4/2023 (hạn 03/4/2023)" in line and "tháng 6/2023" in line and "tháng 7/2023" not in line
    assert "và 5 khâu khác (chi tiết tại Phụ lục)" in line and "bước" not in line


def test_the_citys_item_is_never_reported_late_by_the_department(plan):
    """Item 6 is led by the city: the Department does not report its superior late, in progress or finished."""
    late = [late_row(6, "coordination", D(2023, 3, 30), None), late_row(5, "coordination", D(2023, 5, 30), "Chưa bố trí được kinh phí.")]
    finished = [finished_late_row(plan, 6, "reporting", D(2023, 4, 20), D(2023, 4, 25))]
    shortcomings = "\n".join(section(build_narrative(make_data(plan, late=late, finished_late=finished)), "III."))
    assert "Nội dung 5 (" in shortcomings
    assert "Nội dung 6" not in shortcomings and "nội dung 6" not in shortcomings and "Ủy ban nhân dân" not in shortcomings


def test_late_completions_are_named_by_task_without_counts_or_working_days(plan):
    finished = [
        finished_late_row(plan, 1, "reporting", D(2023, 5, 5), D(2023, 5, 10), occurrence="2023-04"),
        finished_late_row(plan, 1, "reporting", D(2023, 6, 7), D(2023, 6, 9), occurrence="2023-05"),
        finished_late_row(plan, 7, "coordination", D(2023, 4, 28), D(2023, 5, 3)),
        finished_late_row(plan, 6, "reporting", D(2023, 4, 20), D(2023, 4, 25)),  # the city's: not said
    ]
    shortcomings = section(build_narrative(make_data(plan, finished_late=finished)), "III.")
    line = next(t for t in shortcomings if t.startswith("Một số nhiệm vụ hoàn thành chậm"))
    assert line == (
        "Một số nhiệm vụ hoàn thành chậm so với thời hạn đề ra: dịch thuật tin, bài đối ngoại (nội dung 1) và "
        f"{plan.item(7).short_title[:1].lower()}{plan.item(7).short_title[1:]} (nội dung 7). [Cần bổ sung: nguyên nhân hoàn thành chậm]"
    )
    assert not re.search(r"ngày làm việc|bước|khâu|\d+ lần", line)
    # an item still late is reported once, as late, not again as finished late
    still = section(build_narrative(make_data(plan, late=[late_row(1, "reporting", D(2023, 6, 7), None, occurrence="2023-06")], finished_late=finished[:1])), "III.")
    assert not any(t.startswith("Một số nhiệm vụ hoàn thành chậm") for t in still)


def test_the_citys_late_item_is_not_pointed_to_section_iii_nor_told_to_hurry(plan, year):
    assert "Nội dung 6" not in "\n".join(section(year, "III."))
    assert "(nêu tại mục III)" not in item_blocks(year, 6)
    assert not any(t.startswith("- Ủy ban nhân dân thành phố Hà Nội") for t in section(year, "IV."))


def test_every_date_in_a_sentence_is_a_prose_date(plan, year):
    padded_month = re.compile(r"\b\d{1,2}/0\d/\d{4}\b")  # 10/08/2023: the annex's form, not the sentences'
    quiet = build_narrative(make_data(plan, events=0))  # the no-events sentence
    first_quarter = build_narrative(make_data(plan, period=ReportingPeriod.parse("2023-Q1"), as_of=D(2023, 4, 5)))  # IV's coming dues
    found = {
        name: [m.group() for text in all_text(narrative) for m in padded_month.finditer(text)]
        for name, narrative in (("year", year), ("quiet", quiet), ("first_quarter", first_quarter))
    }
    assert found == {"year": [], "quiet": [], "first_quarter": []}


def test_nothing_late_is_said_plainly(plan):
    shortcomings = section(build_narrative(make_data(plan)), "III.")
    assert "Các nội dung được triển khai đúng thời hạn; không có tồn tại, hạn chế phát sinh trong kỳ." in shortcomings


def test_lessons_learnt_are_the_drafters(plan, year):
    for narrative in (build_narrative(make_data(plan)), year):
        blocks = section(narrative, "III.")
        after = blocks[blocks.index("3. Bài học kinh nghiệm") + 1 :]
        assert after == ["[Cần bổ sung: bài học kinh nghiệm rút ra trong kỳ]"]


# --- V. funding and proposals ------------------------------------------------------------------


def test_funding_sums_the_funding_indicator_against_the_plans_source(plan, year):
    proposals = section(year, "V.")
    assert proposals[0].startswith(f"Về kinh phí: kinh phí thực hiện Kế hoạch được bảo đảm từ {clean_text(plan.funding.source)[:1].lower()}")
    # 3 × 12 + 5 × 10 (item 1), 180, 65, 310, 120, 250, 95 + 110, 420: eight items
    assert proposals[0].endswith(" Tổng kinh phí đã sử dụng để thực hiện Kế hoạch năm 2023 là 1.636 triệu đồng.")
    assert "các đơn vị báo cáo" not in proposals[0] and "cho 8 nội dung" not in proposals[0]
    assert "triệu đồng kinh phí" not in item_blocks(year, 7)  # money is said once, in section V


def test_a_done_item_without_funding_gets_a_placeholder(plan):
    rows = [item_row(plan, i.number, "done" if i.number in (6, 7) else "on_track") for i in plan.items]
    data = make_data(plan, items=rows, indicators=[indicator(plan, 6, "funding_spent", 120), indicator(plan, 7, "participants", 25000)])
    funding = section(build_narrative(data), "V.")[0]
    assert "Tổng kinh phí đã sử dụng để thực hiện Kế hoạch 6 tháng đầu năm 2023 là 120 triệu đồng." in funding
    assert funding.endswith("[Cần bổ sung: kinh phí đã sử dụng của nội dung 7]")
    nothing = section(build_narrative(make_data(plan)), "V.")[0]
    assert nothing.endswith("[Cần bổ sung: kinh phí đã sử dụng trong kỳ]")


PROPOSALS = "[Cần bổ sung: đề xuất, kiến nghị với Ủy ban nhân dân thành phố Hà Nội và Ban Tuyên giáo Thành ủy Hà Nội (nếu có)]"


def test_proposals_are_left_to_the_drafter_a_placeholder_no_invented_request(plan, year):
    """The ledger knows what is late, not what the Department needs to finish it: V is the funding,
    then the drafter's placeholder naming the bodies written to, whatever is off track."""
    rows = [item_row(plan, i.number, "off_track" if i.number == 5 else "on_track", stages_overdue=int(i.number == 5)) for i in plan.items]
    late = [late_row(5, "coordination", D(2023, 5, 30), "Chưa bố trí được kinh phí.")]
    for narrative in (build_narrative(make_data(plan)), build_narrative(make_data(plan, items=rows, late=late)), year):
        proposals = section(narrative, "V.")
        assert len(proposals) == 2 and proposals[0].startswith("Về kinh phí:")
        assert proposals[-1] == PROPOSALS
        assert not any(t.startswith("Đề nghị") or "quan tâm, chỉ đạo" in t or "hoàn thành nội dung" in t for t in proposals)


# --- the document's date -------------------------------------------------------------------------


def test_report_date_is_the_sending_day_for_an_early_report_else_the_next_working_day(plan):
    # H1: cut-off Wednesday 14/6/2023, sent 2 working days later (the plan's regime): Friday 16/6.
    assert report_date(plan, H1, D(2023, 6, 12)) == D(2023, 6, 16)
    assert report_date(plan, H1, D(2023, 6, 16)) == D(2023, 6, 16)
    assert report_date(plan, H1, D(2023, 6, 18)) == D(2023, 6, 19)  # made on a Sunday: Monday
    assert report_date(plan, H1, D(2023, 6, 20)) == D(2023, 6, 20)  # a working day: that day
    # The annual report made on Sunday 31/12/2023: Monday 1/1/2024 is New Year's Day.
    assert report_date(plan, YEAR, D(2023, 12, 31)) == D(2024, 1, 2)
    assert report_date(plan, H1, D(2023, 6, 18), given=D(2023, 6, 17)) == D(2023, 6, 17)  # the drafter's date wins


# --- the text as text ------------------------------------------------------------------------------


def test_a_period_without_events_says_so(plan):
    narrative = build_narrative(make_data(plan, events=0))
    assert narrative.no_events is not None and narrative.no_events.startswith(NO_EVENTS)
    # the period's months, up to the report (the date format: test_every_date_in_a_sentence_is_a_prose_date)
    assert re.search(r"từ ngày 01/0?1/2023 đến ngày 16/0?6/2023", narrative.no_events)
    assert section(narrative, "III.")[1].startswith(NO_EVENTS)
    assert len([b for b in narrative.sections[1].blocks if b.heading]) == len(plan.items)  # every item is still reported


def test_notes_with_markup_and_control_characters_come_out_as_one_line_of_text(plan):
    note = {"item_number": 3, "stage": "execution", "stage_label": "Triển khai", "date": pd.Timestamp("2023-06-01"), "actor": "tcpc", "text": "Lớp <b>x</b> & <i>\x0bngày 2\x0c</i>"}
    assert "Lớp <b>x</b> & <i> ngày 2 </i>." in item_blocks(build_narrative(make_data(plan, notes=[note])), 3).splitlines()


def test_every_sentence_is_nfc_without_control_characters(plan, year):
    nasty = unicodedata.normalize("NFD", "Thiếu người\x0c dịch\x0b")
    data = make_data(
        plan,
        late=[{**late_row(1, "reporting", D(2023, 6, 7), nasty, occurrence="2023-05"), "short_title": "Dịch thuật\x0b tin"}],
        notes=[{"item_number": 7, "stage": "execution", "stage_label": "Triển khai", "date": D(2023, 5, 14), "actor": "vp", "text": nasty}],
        occurrences=[occurrence(7, "main", D(2023, 5, 12), D(2023, 5, 14), D(2023, 5, 12), participants=25000)],
    )
    for narrative in (build_narrative(data), year):
        for text in all_text(narrative):
            assert text == unicodedata.normalize("NFC", text)
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in text), repr(text)
    assert "Nguyên nhân: Thiếu người dịch." in build_narrative(data).text()


def test_the_placeholders_are_found_in_the_text(plan, year):
    late = [late_row(1, "reporting", D(2023, 6, 7), None, occurrence="2023-05")]
    narrative = build_narrative(make_data(plan, late=late))
    found = placeholders_in(narrative.text())
    assert found == [
        "các văn bản chỉ đạo, hướng dẫn khác của Sở trong kỳ (nếu có)",
        "nguyên nhân chậm tiến độ của nội dung 1",
        "bài học kinh nghiệm rút ra trong kỳ",
        "nhiệm vụ trọng tâm 6 tháng cuối năm 2023 theo chỉ đạo của cấp trên (nếu có)",
        "kinh phí đã sử dụng trong kỳ",
        "đề xuất, kiến nghị với Ủy ban nhân dân thành phố Hà Nội và Ban Tuyên giáo Thành ủy Hà Nội (nếu có)",
    ]
    for text in (narrative.text(), year.text()):
        assert len(placeholders_in(text)) == text.count(OPEN)


def test_the_report_made_later_is_dated_later_but_counts_the_same_year(plan, ledger):
    """What happened in 2023 belongs to the 2023 report whenever it is made (known up to as_of)."""
    made = {day: aggregate(plan, ledger, YEAR, day) for day in (D(2023, 12, 31), D(2024, 1, 20))}
    assert made[D(2023, 12, 31)].window == made[D(2024, 1, 20)].window == (D(2023, 1, 1), D(2023, 12, 31))
    sentences = {day: "\n".join(section(build_narrative(data), "II.")) for day, data in made.items()}
    assert sentences[D(2023, 12, 31)].replace("31/12/2023", "X") == sentences[D(2024, 1, 20)].replace("20/1/2024", "X")

"""The report's Vietnamese paragraphs, from hand-made tables that follow the ReportData contract."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pandas as pd
import pytest

from plan.calendar import ReportingPeriod
from plan.load import load_plan
from plan.model import Plan
from reports.data import (
    COUNTERPART_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_TOTAL_COLUMNS,
    ITEM_COLUMNS,
    LATE_COLUMNS,
    NOTE_COLUMNS,
    UNIT_COLUMNS,
    ReportData,
)
from reports.narrative import (
    NO_EVENTS,
    NO_REASON,
    build_narrative,
    clean_text,
    item_numbers,
    number_text,
    occurrence_label,
    report_summary,
)

H1 = ReportingPeriod.parse("2023-H1")
AS_OF = dt.date(2023, 6, 16)


@pytest.fixture(scope="module", name="plan")
def fixture_plan() -> Plan:
    result = load_plan()
    assert result.plan is not None
    return result.plan


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
    }
    row.update(counts)
    return row


def make_data(plan: Plan, *, events: int = 10, items=(), indicators=(), late=(), counterparts=(), notes=()) -> ReportData:
    indicator_frame = pd.DataFrame(list(indicators), columns=INDICATOR_COLUMNS)
    totals = (
        indicator_frame.groupby(["indicator", "label", "unit"], as_index=False).agg(
            value=("value", "sum"), items=("item_number", "nunique")
        )
        if len(indicator_frame)
        else pd.DataFrame(columns=INDICATOR_TOTAL_COLUMNS)
    )
    return ReportData(
        plan=plan,
        period=H1,
        as_of=AS_OF,
        window=H1.data_window,
        events_in_period=events,
        items=pd.DataFrame(list(items) or [item_row(plan, i.number) for i in plan.items], columns=ITEM_COLUMNS),
        indicators=indicator_frame,
        indicator_totals=totals[INDICATOR_TOTAL_COLUMNS],
        units=pd.DataFrame(columns=UNIT_COLUMNS),
        late=pd.DataFrame(list(late), columns=LATE_COLUMNS),
        counterparts=pd.DataFrame(list(counterparts), columns=COUNTERPART_COLUMNS),
        notes=pd.DataFrame(list(notes), columns=NOTE_COLUMNS),
    )


def all_text(narrative) -> list[str]:
    texts = [narrative.summary, narrative.intro, narrative.closing, narrative.no_events or ""]
    texts += [s.heading for s in narrative.items] + [p for s in narrative.items for p in s.paragraphs]
    texts += [*narrative.achievements, *narrative.shortcomings, *narrative.next_tasks, *narrative.recommendations]
    return texts


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


# --- the sections ----------------------------------------------------------------------------


def test_summary_names_the_work_and_the_period(plan):
    summary = report_summary(make_data(plan))
    assert summary.startswith("Kết quả tổ chức triển khai hoạt động thông tin, tuyên truyền đối ngoại")
    assert summary.endswith("6 tháng đầu năm 2023")
    assert "năm 2023 6 tháng" not in summary


def test_intro_cites_the_plan_and_the_data_window(plan):
    intro = build_narrative(make_data(plan)).intro
    assert "Kế hoạch số 326/KH-SVHTT ngày 27/04/2023" in intro
    assert "từ ngày 15/12/2022 đến ngày 14/06/2023" in intro


def test_item_results_give_what_was_done_indicators_with_units_and_partners(plan):
    data = make_data(
        plan,
        items=[item_row(plan, i.number, "done" if i.number == 7 else "on_track", stages_done=4 if i.number == 7 else 0, stages_done_in_period=4 if i.number == 7 else 0) for i in plan.items],
        indicators=[
            {"item_number": 7, "indicator": "participants", "label": "Số lượt người tham gia", "unit": "lượt người", "value": 25000},
            {"item_number": 7, "indicator": "events_held", "label": "Số sự kiện, chương trình đã tổ chức", "unit": "sự kiện", "value": 1},
        ],
        counterparts=[
            {"counterpart": "phai-doan-eu", "name": "Phái đoàn EU", "kind": "delegation", "items": "7", "confirmed": 1, "declined": 0, "no_answer": 0, "awaiting": 0}
        ],
        notes=[{"item_number": 7, "stage": "execution", "stage_label": "Triển khai", "date": dt.date(2023, 5, 14), "actor": "vp", "text": "Tổ chức 3 ngày tại phố đi bộ."}],
    )
    section = next(s for s in build_narrative(data).items if s.number == 7)
    text = "\n".join(section.paragraphs)
    assert section.heading == "7. Ngôi làng Châu Âu"
    assert "Đơn vị chủ trì: VP; phối hợp: QLNT." in text
    assert "- Ngày 14/05/2023 (bước triển khai): Tổ chức 3 ngày tại phố đi bộ." in text
    assert "Số lượt người tham gia: 25.000 lượt người" in text
    assert "Số sự kiện, chương trình đã tổ chức: 1 sự kiện" in text
    assert "Đối tác nhận lời phối hợp: Phái đoàn EU." in text
    quiet = next(s for s in build_narrative(data).items if s.number == 2)
    assert "Trong kỳ chưa ghi nhận kết quả của nội dung này." in quiet.paragraphs


def test_achievements_sum_the_period_and_count_items_by_status(plan):
    rows = [item_row(plan, i.number) for i in plan.items]
    rows[5] = item_row(plan, 6, "done", stages_done=4, stages_done_in_period=4)
    rows[6] = item_row(plan, 7, "done", stages_done=4, stages_done_in_period=3)
    rows[0] = item_row(plan, 1, "off_track", stages_done=1, stages_done_in_period=1, stages_overdue=2)
    data = make_data(
        plan,
        items=rows,
        indicators=[
            {"item_number": 6, "indicator": "participants", "label": "Số lượt người tham gia", "unit": "lượt người", "value": 600},
            {"item_number": 7, "indicator": "participants", "label": "Số lượt người tham gia", "unit": "lượt người", "value": 25000},
        ],
    )
    achievements = build_narrative(data).achievements
    assert achievements[0] == "Trong kỳ, các đơn vị đã hoàn thành 8 bước công việc thuộc 3/9 nội dung của Kế hoạch."
    assert "2 nội dung đã hoàn thành, 6 nội dung đúng tiến độ, 0 nội dung có nguy cơ chậm, 1 nội dung chậm tiến độ" in achievements[1]
    assert "Số lượt người tham gia: 25.600 lượt người" in achievements[2]


def test_shortcomings_give_late_stages_with_reasons_and_declined_invitations(plan):
    late = [
        {
            "item_number": 5, "short_title": "Đề án phát triển công nghiệp văn hoá", "occurrence": "main", "stage": "coordination", "stage_label": "Phối hợp",
            "due": dt.date(2023, 5, 30), "working_days_late": 13, "lead": "QLDS", "reason": "Chưa bố trí được kinh phí",
        },
        {
            "item_number": 1, "short_title": "Dịch thuật tin, bài đối ngoại", "occurrence": "2023-05", "stage": "reporting", "stage_label": "Báo cáo",
            "due": dt.date(2023, 6, 7), "working_days_late": 7, "lead": "TTTTTL", "reason": None,
        },
    ]
    counterparts = [
        {"counterpart": "dsq-canada", "name": "ĐSQ Canada", "kind": "embassy", "items": "9", "confirmed": 0, "declined": 1, "no_answer": 0, "awaiting": 0},
        {"counterpart": "dsq-bi", "name": "ĐSQ Bỉ", "kind": "embassy", "items": "9", "confirmed": 0, "declined": 0, "no_answer": 1, "awaiting": 0},
    ]
    shortcomings = build_narrative(make_data(plan, late=late, counterparts=counterparts)).shortcomings
    text = "\n".join(shortcomings)
    assert shortcomings[0] == "Còn 2 bước công việc chậm so với thời hạn, thuộc 2 nội dung:"
    assert "báo cáo tháng 5/2023 (hạn 07/06/2023, chậm 7 ngày làm việc)" in text
    assert f"Nguyên nhân: {NO_REASON}." in text
    assert "Nguyên nhân: Chưa bố trí được kinh phí." in text
    assert text.index("Nội dung 1 ") < text.index("Nội dung 5 ")
    assert "từ chối lời mời phối hợp: ĐSQ Canada (nội dung 9)" in text
    assert "không phản hồi lời mời: ĐSQ Bỉ (nội dung 9)" in text


def test_many_late_stages_of_one_item_are_named_up_to_three_and_counted(plan):
    late = [
        {
            "item_number": 1, "short_title": "Dịch thuật tin, bài đối ngoại", "occurrence": f"2023-{m:02d}", "stage": "coordination", "stage_label": "Phối hợp",
            "due": dt.date(2023, m, 3), "working_days_late": 100 - m, "lead": "TTTTTL", "reason": "",
        }
        for m in range(4, 12)
    ]
    line = build_narrative(make_data(plan, late=late)).shortcomings[1]
    assert line.startswith("- Nội dung 1 (Dịch thuật tin, bài đối ngoại, chủ trì: TTTTTL): 8 bước chậm — phối hợp tháng 4/2023")
    assert "phối hợp tháng 6/2023" in line and "tháng 7/2023" not in line
    assert "và 5 bước khác (chi tiết tại Phụ lục)" in line


def test_no_late_stage_is_said_plainly(plan):
    assert build_narrative(make_data(plan)).shortcomings == ("Không có bước công việc nào chậm so với thời hạn.",)


def test_next_tasks_list_stages_due_before_the_next_cut_off_and_skip_finished_items(plan):
    rows = [item_row(plan, i.number, "done" if i.number in (6, 7) else "on_track") for i in plan.items]
    tasks = "\n".join(build_narrative(make_data(plan, items=rows)).next_tasks)
    assert "đến ngày 14/12/2023" in tasks  # the annual report follows the half-year one
    assert "Nội dung 9 (Giao lưu văn hoá quốc tế, chủ trì: VP)" in tasks
    assert "triển khai trước ngày 31/10/2023" in tasks
    assert "Nội dung 8 (Kỷ niệm 50 năm quan hệ ngoại giao, chủ trì: VP): chủ động phối hợp tổ chức khi có yêu cầu" in tasks
    assert "Nội dung 6 " not in tasks and "Nội dung 7 " not in tasks
    assert tasks.rstrip().endswith("Văn phòng Sở tổng hợp kết quả, báo cáo kỳ tiếp theo đúng thời hạn.")


def test_recommendations_are_made_for_off_track_items_only(plan):
    calm = build_narrative(make_data(plan)).recommendations
    assert calm == ("Không có kiến nghị, đề xuất phát sinh trong kỳ.",)
    rows = [item_row(plan, i.number, "off_track" if i.number == 5 else "on_track") for i in plan.items]
    late = [
        {
            "item_number": 5, "short_title": "Đề án phát triển công nghiệp văn hoá", "occurrence": "main", "stage": "coordination", "stage_label": "Phối hợp",
            "due": dt.date(2023, 5, 30), "working_days_late": 13, "lead": "QLDS", "reason": "Chưa bố trí được kinh phí",
        }
    ]
    recommendations = build_narrative(make_data(plan, items=rows, late=late)).recommendations
    assert recommendations[0] == "- Nội dung 5 (Đề án phát triển công nghiệp văn hoá) chậm tiến độ, nguyên nhân: Chưa bố trí được kinh phí."
    assert recommendations[1].startswith("Đề nghị Ủy ban nhân dân thành phố Hà Nội, Ban Tuyên giáo Thành ủy Hà Nội quan tâm, chỉ đạo")
    assert recommendations[1].endswith("hoàn thành các nội dung 5 trong kỳ tới.")


def test_a_period_without_events_says_so(plan):
    narrative = build_narrative(make_data(plan, events=0))
    assert narrative.no_events is not None and narrative.no_events.startswith(NO_EVENTS)
    assert "từ ngày 15/12/2022 đến ngày 14/06/2023" in narrative.no_events
    assert narrative.achievements[0].startswith("Trong kỳ báo cáo chưa ghi nhận kết quả")
    assert len(narrative.items) == len(plan.items)  # every item is still reported


def test_notes_with_markup_and_control_characters_come_out_as_one_line_of_text(plan):
    note = {"item_number": 3, "stage": "execution", "stage_label": "Triển khai", "date": pd.Timestamp("2023-06-01"), "actor": "tcpc", "text": "Lớp <b>x</b> & <i>\x0bngày 2\x0c</i>"}
    section = next(s for s in build_narrative(make_data(plan, notes=[note])).items if s.number == 3)
    assert "- Ngày 01/06/2023 (bước triển khai): Lớp <b>x</b> & <i> ngày 2 </i>." in section.paragraphs


def test_every_sentence_is_nfc_without_control_characters(plan):
    late = [
        {
            "item_number": 1, "short_title": "Dịch thuật\x0b tin", "occurrence": "2023-05", "stage": "reporting", "stage_label": "Báo cáo",
            "due": dt.date(2023, 6, 7), "working_days_late": 7, "lead": "TTTTTL", "reason": unicodedata.normalize("NFD", "Thiếu người\x0c dịch"),
        }
    ]
    for text in all_text(build_narrative(make_data(plan, late=late))):
        assert text == unicodedata.normalize("NFC", text)
        assert not any(ord(ch) < 32 for ch in text), repr(text)

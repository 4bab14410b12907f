"""The shipped 2023 plan (326/KH-SVHTT) says what the seed document says."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest

from plan.load import DEFAULT_PLAN, load_plan
from plan.model import Plan, Role
from plan.problems import Severity

# Written by hand from section IV of the seed (Tổ chức thực hiện), item by item of section II:
# (lead, coordinating units). Item 6 is led outside the Department: it only coordinates.
SECTION_IV = {
    1: ("ttttl", {"van-phong"}),  # TT Thông tin Triển lãm chủ trì "Dịch thuật…", Văn phòng phối hợp
    2: ("qltdtt", set()),  # Phòng QL TDTT chủ trì giao lưu thể thao
    3: ("tcpc", set()),  # Phòng TCPC chủ trì tập huấn
    4: ("ttttl", set()),  # TT Thông tin Triển lãm chủ trì trang trí, cổ động trực quan
    5: ("qlds", {"qlnt"}),  # Phòng QL Di sản chủ trì; Phòng QL nghệ thuật phối hợp
    6: ("ubnd-tp-ha-noi", {"van-phong"}),  # Văn phòng "Phối hợp tổ chức Hội nghị…"
    7: ("van-phong", {"qlnt"}),  # Ngôi làng Châu Âu
    8: ("van-phong", {"qlnt"}),  # 50 năm quan hệ ngoại giao, theo yêu cầu
    9: ("van-phong", {"qlnt"}),  # Giao lưu văn hoá quốc tế
}
UNIT_NAMES = {
    "van-phong": "Văn phòng Sở",
    "qlnt": "Phòng Quản lý nghệ thuật",
    "qlds": "Phòng Quản lý Di sản",
    "tcpc": "Phòng Tổ chức Pháp chế",
    "qltdtt": "Phòng Quản lý Thể dục Thể thao",
    "khtc": "Phòng Kế hoạch Tài chính",
    "ttttl": "Trung tâm Thông tin Triển lãm",
}


@pytest.fixture(name="result", scope="module")
def fixture_result():
    return load_plan(DEFAULT_PLAN)


@pytest.fixture(name="plan", scope="module")
def fixture_plan(result) -> Plan:
    assert result.ok, [p.render() for p in result.errors]
    return result.plan


def test_the_2023_plan_loads_and_passes_with_only_the_item_6_warning(result):
    assert result.errors == []
    assert [(w.path, "trước ngày ban hành" in w.message) for w in result.warnings] == [("items[5].window.end", True)]


def test_document_header_is_the_seeds(plan):
    doc = plan.document
    assert doc.number_symbol == "326/KH-SVHTT"
    assert (doc.type, doc.type_code) == ("Kế hoạch", "KH")
    assert doc.issued_on == dt.date(2023, 4, 27)
    assert doc.place == "Hà Nội"
    assert plan.party_name(doc.issuer) == "Sở Văn hóa và Thể thao thành phố Hà Nội"
    assert plan.party_name(doc.parent_body) == "Ủy ban nhân dân thành phố Hà Nội"
    assert doc.title.startswith("Tổ chức triển khai hoạt động thông tin, tuyên truyền đối ngoại")
    assert (doc.signer.title, doc.signer.name) == ("Giám đốc", "Đỗ Đình Hồng")


def test_legal_bases_purposes_requirements_and_funding(plan):
    assert [b.number for b in plan.legal_bases] == [
        "72/2015/NĐ-CP",
        "22/2016/TT-BTTTT",
        "5740/BTTTT-TTĐN",
        "101/KH-UBND",
        "02-KH/BCĐCTTTĐN",
    ]
    assert plan.legal_bases[0].date == dt.date(2015, 9, 7)
    assert plan.legal_bases[3].date == dt.date(2023, 3, 23)
    assert len(plan.purposes) == 3 and len(plan.requirements) == 3
    assert "ngân sách Thành phố" in plan.funding.text


def test_seven_units_of_the_department(plan):
    assert {u.id: u.name for u in plan.units} == UNIT_NAMES
    for unit in plan.units:
        assert unit.emails and all(str(e).endswith(".example") for e in unit.emails)


@pytest.mark.parametrize("number", sorted(SECTION_IV))
def test_leads_and_coordinating_units_match_section_iv(plan, number):
    item = plan.item(number)
    lead, coordinating = SECTION_IV[number]
    assert item.lead == lead
    assert set(item.coordinating) == coordinating
    assert item.supporting == ["khtc"], "Phòng Kế hoạch Tài chính supports every item on funding"


def test_unit_duties_name_the_same_leads_as_the_items(plan):
    leads_from_duties = {
        item_id: unit.id for unit in plan.units for duty in unit.duties if duty.role is Role.LEAD for item_id in duty.items
    }
    assert leads_from_duties == {item.id: item.lead for item in plan.items if item.lead in UNIT_NAMES}


def test_general_duties_by_direction_of_the_directors(plan):
    directed = {unit.id for unit in plan.units for duty in unit.duties if duty.directed_by == plan.directors.id}
    assert directed == {"qlnt", "qlds", "tcpc", "qltdtt", "ttttl"}
    finance = [d for d in plan.unit("khtc").duties]
    assert len(finance) == 1 and finance[0].all_items and finance[0].role is Role.SUPPORT


def test_windows_and_their_precision(plan):
    assert plan.item(6).window.precision == "exact"
    assert (plan.item(6).window.start, plan.item(6).window.end) == (dt.date(2023, 4, 13), dt.date(2023, 4, 15))
    assert (plan.item(7).window.start, plan.item(7).window.end) == (dt.date(2023, 5, 12), dt.date(2023, 5, 14))
    nine = plan.item(9).window
    assert nine.precision == "expected" and nine.wording == "dự kiến vào cuối tháng 10/2023"
    assert nine.start.month == nine.end.month == 10
    assert plan.item(8).window.precision == "on_request"
    assert {plan.item(n).window.precision for n in (1, 2, 3, 4, 5)} == {"all_year"}
    assert plan.item(7).venue == plan.item(9).venue == "Phố đi bộ hồ Hoàn Kiếm, Hà Nội"


def test_item_kinds(plan):
    kinds = {item.number: item.kind.value for item in plan.items}
    assert kinds == {1: "recurring", 2: "programme", 3: "programme", 4: "programme", 5: "research", 6: "event", 7: "event", 8: "on_request", 9: "event"}


def test_counterparts_of_the_dated_events(plan):
    assert plan.item(7).counterparts == ["phai-doan-eu"]
    assert plan.counterpart("phai-doan-eu").kind.value == "delegation"
    embassies = {c.id for c in plan.counterparts if c.kind.value == "embassy"}
    assert set(plan.item(8).counterparts) == embassies
    # Item 8 is about 50th anniversaries in 2023: every candidate embassy's relations date from 1973.
    assert {plan.counterpart(c).relations_established.year for c in plan.item(8).counterparts} == {1973}


def test_reporting_regime_and_distribution_list(plan):
    reporting = plan.reporting
    assert reporting.compiled_by == "van-phong"
    assert [(r.body, r.via) for r in reporting.recipients] == [
        ("ubnd-tp-ha-noi", ["so-tttt-ha-noi"]),
        ("ban-tuyen-giao-thanh-uy", []),
    ]
    assert reporting.periods == ["six_month", "annual"]
    assert reporting.wording == "theo định kỳ"
    assert [e.text for e in plan.distribution] == [
        "UBND TP. Hà Nội",
        "Ban Tuyên giáo Thành ủy Hà Nội",
        "Sở Thông tin và Truyền thông Hà Nội",
        "Ban GD Sở",
        "Các đơn vị theo phân công",
        "CVP Sở",
        "Lưu: VT, ĐN",
    ]


def test_the_seeds_typos_are_fixed_in_the_file():
    text = DEFAULT_PLAN.read_text(encoding="utf-8")
    data_lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    body = "\n".join(data_lines)
    assert "Công thông tin" not in body and "Cổng thông tin đối ngoại" in body
    assert "cô đọng" not in body and "cổ động trực quan" in body


def test_every_text_in_the_plan_is_nfc(plan):
    dumped = json.dumps(plan.model_dump(mode="json"), ensure_ascii=False)
    assert unicodedata.is_normalized("NFC", dumped)
    assert unicodedata.is_normalized("NFC", DEFAULT_PLAN.read_text(encoding="utf-8"))


def test_stage_due_dates_of_item_7_skip_weekends_and_holidays(plan):
    from plan.schedule import stage_due_dates

    dues = stage_due_dates(plan, plan.item(7))
    # 12/5/2023 minus 10 working days crosses 1/5, 2/5 and 3/5 (holidays) and two weekends.
    assert dues["preparation"] == dt.date(2023, 4, 25)
    assert dues["coordination"] == dt.date(2023, 5, 5)
    # Ends Sunday 14/5: due the next working day (Civil Code art. 148), report five working days later.
    assert dues["execution"] == dt.date(2023, 5, 15)
    assert dues["reporting"] == dt.date(2023, 5, 19)


def test_warnings_are_warnings(result):
    assert all(p.severity is Severity.WARNING for p in result.problems)

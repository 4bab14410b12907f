"""The plan as data: one pydantic definition for the plan file, its JSON Schema and everything downstream.

Field names are English identifiers; descriptions (shown by editors through the JSON Schema) are Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import functools
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from plan.nfc import nfc

TEXT_MAX = 5000  # characters: a paragraph of a plan (the longest in the 2023 plan has 378)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX), AfterValidator(nfc)]
"""Non-empty human text, at most TEXT_MAX characters, stored in Unicode NFC (a user may paste
decomposed Vietnamese)."""

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$", max_length=64),
    Field(description="Mã: chữ thường không dấu, số, '-' hoặc '_' (ví dụ: van-phong)"),
]
"""A slug referenced from elsewhere in the file."""

Email = Annotated[EmailStr, Field(description="Địa chỉ thư điện tử")]


class PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- document header ------------------------------------------------------------------------


class Signer(PlanModel):
    authority: Text | None = Field(
        None, description="Thẩm quyền ký: TM., KT., Q., TL., TUQ. (để trống khi người đứng đầu ký)"
    )
    title: Text = Field(description="Chức vụ người ký, ví dụ: Giám đốc")
    name: Text = Field(description="Họ và tên người ký")


class Document(PlanModel):
    type: Text = Field(description="Tên loại văn bản, ví dụ: Kế hoạch")
    type_code: Annotated[str, StringConstraints(pattern=r"^[A-ZĐ][A-Za-zĐđ]*$")] = Field(
        description="Chữ viết tắt tên loại văn bản theo Nghị định 30/2020, ví dụ: KH"
    )
    number_symbol: Annotated[
        str, StringConstraints(pattern=r"^\d{2,}/[A-ZĐ][A-Za-zĐđ]*-[A-ZĐ0-9]+(?:-[A-ZĐ0-9]+)*$")
    ] = Field(description="Số, ký hiệu văn bản, ví dụ: 326/KH-SVHTT (số nhỏ hơn 10 thêm số 0 phía trước)")
    issued_on: dt.date = Field(description="Ngày ban hành")
    place: Text = Field(description="Địa danh ghi trên văn bản, ví dụ: Hà Nội")
    issuer: Id = Field(description="Cơ quan ban hành: mã trong 'department'")
    parent_body: Id = Field(description="Cơ quan chủ quản trực tiếp: mã trong 'bodies'")
    title: Text = Field(description="Trích yếu nội dung")
    signer: Signer


class LegalBasis(PlanModel):
    kind: Text = Field(description="Loại văn bản: Nghị định, Thông tư, Công văn, Kế hoạch…")
    number: Text = Field(description="Số, ký hiệu, ví dụ: 72/2015/NĐ-CP")
    date: dt.date = Field(description="Ngày ban hành")
    issuer: Text = Field(description="Cơ quan ban hành")
    subject: Text = Field(description="Trích yếu")
    note: Text | None = Field(None, description="Ghi chú của người soạn tệp kế hoạch")


class Funding(PlanModel):
    source: Text = Field(description="Nguồn kinh phí")
    text: Text = Field(description="Nội dung mục Kinh phí thực hiện")


# --- who -------------------------------------------------------------------------------------


class Department(PlanModel):
    id: Id
    name: Text = Field(description="Tên đầy đủ")
    short_name: Text = Field(description="Tên viết tắt")
    header_name: Text = Field(description="Tên ghi ở phần đầu văn bản (chữ in hoa)")


class Body(PlanModel):
    """An external body: the parent body, recipients of reports, a host the Department supports."""

    id: Id
    name: Text = Field(description="Tên đầy đủ")
    short_name: Text | None = Field(None, description="Tên viết tắt")
    header_name: Text | None = Field(None, description="Tên ghi ở phần đầu văn bản khi là cơ quan chủ quản")
    emails: list[Email] = Field(default_factory=list)


class Role(StrEnum):
    LEAD = "lead"
    COORDINATE = "coordinate"
    SUPPORT = "support"


ROLE_LABELS = {Role.LEAD: "Chủ trì", Role.COORDINATE: "Phối hợp", Role.SUPPORT: "Hỗ trợ"}


class Duty(PlanModel):
    """One duty of a unit from section IV (Tổ chức thực hiện)."""

    role: Role = Field(description="Vai trò: lead (chủ trì), coordinate (phối hợp), support (hỗ trợ)")
    items: list[Id] = Field(
        default_factory=list,
        description="Các nội dung (mã mục) mà nhiệm vụ này gắn với; để trống cho nhiệm vụ chung",
    )
    all_items: bool = Field(False, description="true khi nhiệm vụ gắn với mọi nội dung của kế hoạch")
    directed_by: Id | None = Field(None, description="Mã của Ban Giám đốc khi nhiệm vụ là 'theo chỉ đạo của Ban Giám đốc'")
    text: Text = Field(description="Nội dung nhiệm vụ như trong kế hoạch")


class Unit(PlanModel):
    """A unit of the Department (Văn phòng Sở, Phòng …, Trung tâm …)."""

    id: Id
    name: Text = Field(description="Tên đầy đủ")
    short_name: Text = Field(description="Tên viết tắt")
    emails: list[Email] = Field(default_factory=list, description="Địa chỉ nhận thư của đơn vị")
    duties: list[Duty] = Field(default_factory=list, description="Nhiệm vụ theo mục IV")


class Member(PlanModel):
    title: Text = Field(description="Chức vụ")
    name: Text = Field(description="Họ và tên")


class Directors(PlanModel):
    """Ban Giám đốc: overview, escalation, signature."""

    id: Id
    name: Text
    emails: list[Email] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list)


class CounterpartKind(StrEnum):
    EMBASSY = "embassy"
    DELEGATION = "delegation"
    PARTNER = "partner"


class Contact(PlanModel):
    name: Text | None = None
    role: Text | None = None
    email: Email


class Counterpart(PlanModel):
    """An external partner the Department coordinates with (embassy, EU Delegation, partner)."""

    id: Id
    name: Text = Field(description="Tên tiếng Việt")
    short_name: Text | None = Field(None, description="Tên ngắn dùng trong bảng, ví dụ: ĐSQ Pháp")
    name_en: Text | None = Field(None, description="Tên tiếng Anh (cho thư mời gửi Đại sứ quán)")
    kind: CounterpartKind
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None, description="Mã quốc gia ISO 3166-1 alpha-2"
    )
    relations_established: dt.date | None = Field(
        None, description="Ngày thiết lập quan hệ ngoại giao với Việt Nam (cho các lễ kỷ niệm)"
    )
    contacts: list[Contact] = Field(default_factory=list)


class Counted(StrEnum):
    """How an indicator adds up over the events of a period."""

    SUM = "sum"  # articles, participants: the events' figures add up
    DISTINCT = "distinct"  # countries, partner bodies: the same one at two events is one; never summed
    FUNDING = "funding"  # money spent (đồng): summed, reported against the plan's funding section


class Indicator(PlanModel):
    id: Id
    label: Text = Field(description="Tên chỉ tiêu, ví dụ: Số tin, bài được dịch")
    unit: Text = Field(description="Đơn vị tính, ví dụ: tin, bài")
    counted: Counted = Field(
        Counted.SUM,
        description="Cách cộng qua các sự kiện: sum (cộng dồn), distinct (quốc gia, cơ quan: không cộng dồn), funding (kinh phí, đồng)",
    )
    phrase: Text | None = Field(
        None,
        description="Câu kết quả trong báo cáo, {n} là số liệu, ví dụ: dịch {n} tin, bài",
    )

    def sentence(self, value: int, number_text: str) -> str:
        """The result as the report words it: "dịch 174 tin, bài", else "số tin, bài được dịch: 174 tin, bài"."""
        if self.phrase and "{n}" in self.phrase:
            return self.phrase.replace("{n}", number_text)
        return f"{self.label[:1].lower()}{self.label[1:]}: {number_text} {self.unit}"


# --- when ------------------------------------------------------------------------------------


class Precision(StrEnum):
    EXACT = "exact"
    EXPECTED = "expected"
    ALL_YEAR = "all_year"
    ON_REQUEST = "on_request"


def _end_not_before_start(end: dt.date, info: ValidationInfo) -> dt.date:
    start = info.data.get("start")
    if isinstance(start, dt.date) and end < start:
        raise PydanticCustomError(
            "end_before_start",
            "ngày kết thúc {end} trước ngày bắt đầu {start}",
            {"end": end.isoformat(), "start": start.isoformat()},
        )
    return end


class ExactWindow(PlanModel):
    precision: Literal["exact"]
    start: dt.date
    end: dt.date

    _check_end = field_validator("end")(_end_not_before_start)


class ExpectedWindow(PlanModel):
    """A tentative range, e.g. "dự kiến vào cuối tháng 10/2023"; the original wording is kept."""

    precision: Literal["expected"]
    start: dt.date
    end: dt.date
    wording: Text = Field(description="Cách ghi trong kế hoạch, ví dụ: dự kiến vào cuối tháng 10/2023")

    _check_end = field_validator("end")(_end_not_before_start)


class AllYearWindow(PlanModel):
    precision: Literal["all_year"]
    wording: Text | None = None


class OnRequestWindow(PlanModel):
    precision: Literal["on_request"]
    wording: Text | None = None


Window = Annotated[
    ExactWindow | ExpectedWindow | AllYearWindow | OnRequestWindow,
    Field(discriminator="precision", description="Thời gian thực hiện và độ chính xác của nó"),
]


class Stage(StrEnum):
    PREPARATION = "preparation"
    COORDINATION = "coordination"
    EXECUTION = "execution"
    REPORTING = "reporting"


STAGE_LABELS = {
    Stage.PREPARATION: "Chuẩn bị",
    Stage.COORDINATION: "Phối hợp với đối tác",
    Stage.EXECUTION: "Triển khai",
    Stage.REPORTING: "Báo cáo",
}


class Anchor(StrEnum):
    START = "start"
    END = "end"
    ISSUED = "issued"


class StageOffset(PlanModel):
    """A stage is due `working_days` Vietnamese working days from an anchor (negative: before it)."""

    anchor: Anchor = Field(description="Mốc: start (ngày bắt đầu), end (ngày kết thúc), issued (ngày ban hành kế hoạch)")
    working_days: int = Field(ge=-250, le=250, description="Số ngày làm việc tính từ mốc (âm: trước mốc)")


class StageOffsets(PlanModel):
    preparation: StageOffset | None = None
    coordination: StageOffset | None = None
    execution: StageOffset | None = None
    reporting: StageOffset | None = None

    def get(self, stage: Stage) -> StageOffset | None:
        return getattr(self, stage.value)


class ItemKind(StrEnum):
    RECURRING = "recurring"
    PROGRAMME = "programme"
    EVENT = "event"
    ON_REQUEST = "on_request"
    RESEARCH = "research"


ITEM_KIND_LABELS = {
    ItemKind.RECURRING: "Thường xuyên",
    ItemKind.PROGRAMME: "Chương trình",
    ItemKind.EVENT: "Sự kiện",
    ItemKind.ON_REQUEST: "Theo yêu cầu",
    ItemKind.RESEARCH: "Nghiên cứu",
}


class Item(PlanModel):
    """A content item of section II (Nội dung)."""

    number: int = Field(ge=1, description="Số thứ tự trong mục II")
    id: Id
    title: Text = Field(description="Nội dung như trong kế hoạch")
    short_title: Text = Field(description="Tên ngắn của nội dung, dùng cho tên lượt chạy, lịch và thư")
    activity: Text | None = Field(
        None,
        description="Việc làm, như báo cáo viết sau tên đơn vị chủ trì (chữ thường, không dấu chấm), ví dụ: tổ chức các chương trình giao lưu về thể thao",
    )
    kind: ItemKind = Field(
        description="recurring (thường xuyên), programme (chương trình nhiều đợt), event (sự kiện), "
        "on_request (theo yêu cầu), research (nghiên cứu, đề xuất)"
    )
    window: Window
    venue: Text | None = Field(None, description="Địa điểm")
    lead: Id = Field(description="Đơn vị chủ trì: mã một đơn vị của Sở, hoặc một cơ quan bên ngoài khi Sở chỉ phối hợp")
    coordinating: list[Id] = Field(default_factory=list, description="Các đơn vị phối hợp")
    supporting: list[Id] = Field(default_factory=list, description="Các đơn vị hỗ trợ (ví dụ: kinh phí)")
    counterparts: list[Id] = Field(default_factory=list, description="Đối tác bên ngoài: Đại sứ quán, Phái đoàn EU…")
    indicators: list[Id] = Field(default_factory=list, description="Các chỉ tiêu phải báo cáo")
    stages: StageOffsets = Field(
        default_factory=StageOffsets, description="Thời hạn các bước, ghi đè mặc định 'stage_defaults'"
    )
    recurrence: Literal["monthly"] | None = Field(
        None, description="Nội dung thường xuyên lặp lại theo kỳ: monthly (mỗi tháng một đợt, ví dụ tin, bài dịch của tháng)"
    )
    occurrence_stages: StageOffsets | None = Field(
        None,
        description="Thời hạn các bước của từng đợt (tháng, khóa tập huấn, sự kiện theo yêu cầu); mặc định 'stage_defaults'",
    )
    note: Text | None = None


# --- reporting and distribution --------------------------------------------------------------


class Recipient(PlanModel):
    body: Id = Field(description="Nơi nhận báo cáo: mã trong 'bodies'")
    via: list[Id] = Field(default_factory=list, description="Gửi qua (cơ quan trung gian)")


PeriodKindName = Literal["monthly", "quarterly", "six_month", "nine_month", "annual"]


class Reporting(PlanModel):
    """The duty to report upward (chế độ báo cáo)."""

    compiled_by: Id = Field(description="Đơn vị tổng hợp, báo cáo")
    recipients: list[Recipient] = Field(min_length=1)
    periods: list[PeriodKindName] = Field(
        min_length=1, description="Kỳ báo cáo theo Nghị định 09/2019: monthly, quarterly, six_month, nine_month, annual"
    )
    send_working_days_after_cutoff: int = Field(
        2, ge=1, le=30, description="Số ngày làm việc sau ngày chốt số liệu để gửi báo cáo (tối thiểu 1)"
    )
    wording: Text | None = Field(None, description="Cách ghi trong kế hoạch, ví dụ: theo định kỳ")


class DistributionEntry(PlanModel):
    text: Text = Field(description="Dòng trong 'Nơi nhận' như trên văn bản")
    ref: Id | None = Field(None, description="Mã đơn vị, cơ quan hoặc Ban Giám đốc tương ứng (nếu có)")


# --- calendar overrides ----------------------------------------------------------------------


class SpecialDay(PlanModel):
    date: dt.date
    name: Text


class CalendarOverrides(PlanModel):
    """Swapped days decided each year (the `holidays` package stops knowing them after 2024)."""

    days_off: list[SpecialDay] = Field(default_factory=list, description="Ngày nghỉ thêm (nghỉ bù, hoán đổi)")
    working_days: list[SpecialDay] = Field(default_factory=list, description="Ngày làm việc bù (thường là thứ Bảy)")


class Policy(PlanModel):
    """When an item is at risk or off track, and when people are reminded (in working days)."""

    due_soon_working_days: int = Field(
        3, ge=0, le=60, description="Bước chưa bắt đầu mà còn từ chừng này ngày làm việc trở xuống là 'có nguy cơ chậm'"
    )
    off_track_after_working_days: int = Field(
        5, ge=0, le=120, description="Quá hạn quá chừng này ngày làm việc là 'chậm tiến độ' và báo cáo Ban Giám đốc"
    )
    remind_before_working_days: int = Field(3, ge=0, le=60, description="Nhắc việc trước hạn chừng này ngày làm việc")


# --- the plan --------------------------------------------------------------------------------


class Plan(PlanModel):
    """Một kế hoạch: văn bản, đơn vị, đối tác, nội dung và chế độ báo cáo."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Kehoach plan",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    id: Id = Field(description="Mã của kế hoạch, ví dụ: hanoi-svhtt-ttdn-2023")
    year: int = Field(ge=2000, le=2100, description="Năm kế hoạch")
    document: Document
    legal_bases: list[LegalBasis] = Field(default_factory=list, description="Căn cứ")
    purposes: list[Text] = Field(min_length=1, description="Mục đích")
    requirements: list[Text] = Field(default_factory=list, description="Yêu cầu")
    funding: Funding
    department: Department
    directors: Directors
    units: list[Unit] = Field(min_length=1)
    bodies: list[Body] = Field(default_factory=list, description="Cơ quan bên ngoài Sở")
    counterparts: list[Counterpart] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    stage_defaults: StageOffsets = Field(description="Thời hạn mặc định của các bước cho mọi nội dung")
    items: list[Item] = Field(min_length=1)
    reporting: Reporting
    distribution: list[DistributionEntry] = Field(min_length=1, description="Nơi nhận")
    closing: Text | None = Field(None, description="Đoạn kết của kế hoạch")
    calendar: CalendarOverrides = Field(default_factory=CalendarOverrides)
    policy: Policy = Field(default_factory=Policy, description="Ngưỡng cảnh báo tiến độ và nhắc việc")

    # -- lookups used downstream; the rules guarantee references resolve in a valid plan --

    @functools.cached_property
    def items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def item(self, key: str | int) -> Item:
        """An item by number ("7", 7) or id."""
        if isinstance(key, str) and key in self.items_by_id:
            return self.items_by_id[key]
        for item in self.items:
            if str(item.number) == str(key):
                return item
        raise KeyError(key)

    def unit(self, unit_id: str) -> Unit:
        return next(u for u in self.units if u.id == unit_id)

    def party_name(self, ref: str, *, short: bool = False) -> str:
        """The name of a unit, body, the directors or the department by id."""
        parties: tuple[Unit | Body | Directors | Department, ...] = (*self.units, *self.bodies, self.directors, self.department)
        for party in parties:
            if party.id == ref:
                return (getattr(party, "short_name", None) if short else None) or party.name
        raise KeyError(ref)

    def counterpart(self, counterpart_id: str) -> Counterpart:
        return next(c for c in self.counterparts if c.id == counterpart_id)

    def offset(self, item: Item, stage: Stage, *, occurrence: bool = False) -> StageOffset | None:
        """A stage's offset for the item's own window, or (occurrence=True) for one of its occurrences."""
        if occurrence and item.occurrence_stages is not None and item.occurrence_stages.get(stage) is not None:
            return item.occurrence_stages.get(stage)
        if occurrence and item.kind is not ItemKind.ON_REQUEST:
            return self.stage_defaults.get(stage)
        return item.stages.get(stage) or self.stage_defaults.get(stage)

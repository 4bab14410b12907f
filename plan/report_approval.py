"""Whether a report may be approved, decided from what the ledger holds and what the approver gives:
no I/O here (the signed PDF's text is read by the caller).

A report goes to the recipients only once approved; an approval takes the latest draft of the
period, the number the records office gave it, and leaves no placeholder in what is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from plan.model import Text
from plan.report_book import Draft, Review

_NUMBER = re.compile(r"\d{1,6}")


class ApprovalRefused(ValueError):
    """Why the report cannot be approved: the field, the problem, what is expected."""

    def __init__(self, field: str, problem: str, expected: str = ""):
        self.field = field
        self.problem = problem
        self.expected = expected
        super().__init__(self.render())

    def render(self, field: str | None = None) -> str:
        """`--number: … — cần: …`, the field named as the caller's user knows it."""
        name = self.field if field is None else field
        return f"{name}: {self.problem}" + (f" — cần: {self.expected}" if self.expected else "")


@dataclass(frozen=True)
class Decision:
    """What to do: `existing` set means the very approval was recorded already (nothing new is
    recorded or sent); otherwise record a new approval of `draft`, replacing `replaces` if set."""

    draft: Draft
    number: str
    existing: Review | None = None
    replaces: Review | None = None


def parse_number(text: str | None, suffix: str) -> str:
    """The number of the document as the records office gives it ("125", or "125/BC-SVHTT" with
    the report's own symbol), without leading zeros."""
    given = (text or "").strip()
    if not given:
        raise ApprovalRefused("number", "chưa có số văn bản", f"số do văn thư cấp, ví dụ 125 (hoặc 125{suffix})")
    digits = given[: -len(suffix)] if suffix and given.upper().endswith(suffix.upper()) else given
    if not _NUMBER.fullmatch(digits) or int(digits) == 0:
        raise ApprovalRefused("number", f"«{given}» không phải số văn bản", f"một số dương do văn thư cấp, ví dụ 125 (hoặc 125{suffix})")
    return str(int(digits))


def decide(
    period_label: str,
    draft: Draft | None,
    approval: Review | None,
    number: str,
    *,
    replace: bool = False,
    read_signed: Callable[[], list[str]] | None = None,
    changed_since: Callable[[Draft], int] | None = None,
) -> Decision:
    """Approve the latest draft, repeat an approval already recorded, or refuse (ApprovalRefused).

    `number` is parsed already (parse_number). `read_signed`, when a signed PDF is given: what its
    text still asks for (placeholders), read only if the approval is a new one. `changed_since`:
    how many events the ledger took, dated within the draft, since it was made; a draft rendered
    again with its number must come out the same, so without a signed PDF it must be none."""
    if draft is None:
        raise ApprovalRefused("period", f"chưa có dự thảo báo cáo {period_label}", "lập dự thảo trước (kehoach report --period …)")
    if approval is not None and not replace:
        if approval.number == number:
            return Decision(draft=draft, number=number, existing=approval)
        signed = f" (ký ngày {approval.signed_on:%d/%m/%Y})" if approval.signed_on else ""
        raise ApprovalRefused(
            "number",
            f"báo cáo {period_label} đã được duyệt với số {approval.number_symbol or approval.number}{signed}",
            "đúng số đã duyệt; muốn đính chính thì thêm --replace (báo cáo được gửi lại)",
        )
    if read_signed is not None:
        left = read_signed()
        if left:
            raise ApprovalRefused("signed", "bản đã ký vẫn còn chỗ cần bổ sung: " + "; ".join(left[:5]), "bản đã ký đầy đủ nội dung")
        return Decision(draft=draft, number=number, replaces=approval if replace else None)
    if draft.placeholders:
        raise ApprovalRefused(
            "period",
            f"dự thảo lần {draft.version} còn {len(draft.placeholders)} chỗ cần bổ sung: " + "; ".join(draft.placeholders[:5]),
            "bổ sung trong bản DOCX, trình ký rồi duyệt kèm bản đã ký (--signed TỆP.pdf)",
        )
    changed = changed_since(draft) if changed_since is not None else 0
    if changed:
        raise ApprovalRefused(
            "period",
            f"sổ theo dõi đã ghi thêm {changed} sự kiện trong kỳ sau khi lập dự thảo lần {draft.version}",
            "lập dự thảo mới (kehoach report --period …) rồi duyệt lại, hoặc duyệt kèm bản đã ký (--signed TỆP.pdf)",
        )
    return Decision(draft=draft, number=number, replaces=approval if replace else None)


class ApprovalInput(BaseModel):
    """Duyệt báo cáo: duyệt (kèm số văn bản do văn thư cấp) hoặc trả lại dự thảo kèm ý kiến."""

    model_config = ConfigDict(extra="forbid", title="Duyệt báo cáo")
    decision: Literal["approve", "return"] = Field(
        "approve", title="Quyết định", description="approve: duyệt và gửi nơi nhận; return: trả lại dự thảo kèm ý kiến (lập dự thảo mới)"
    )
    number: Text | None = Field(None, title="Số văn bản", description="Số do văn thư cấp, ví dụ 125")
    signed_on: dt.date | None = Field(None, title="Ngày ký", description="Mặc định: hôm nay")
    signer: Text | None = Field(None, title="Người ký", description="Mặc định: người ký ghi trong kế hoạch")
    signed_pdf: Text | None = Field(None, title="Bản đã ký (PDF)", description="Đường dẫn tới tệp PDF đã ký, trên máy chạy báo cáo")
    comments: Text | None = Field(None, title="Ý kiến", description="Khi trả lại: nội dung cần sửa", max_length=4000)
    by: Text | None = Field(None, title="Người duyệt")
    replace: bool = Field(False, title="Đính chính", description="Thay bản đã duyệt trước bằng số mới và gửi lại")

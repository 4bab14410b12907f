"""What the drafter must write: where the ledger holds no text a report needs (a cause, an
assessment, a lesson), the draft carries a visible placeholder instead of an invented sentence.

A placeholder reads "[Cần bổ sung: nguyên nhân chậm tiến độ của nội dung 5]". The drafter replaces
each one in the DOCX before the report is signed; a report whose text still holds one cannot be
approved (`placeholders_in` finds them, in the draft's text or in the signed PDF's).
"""

from __future__ import annotations

import re
import unicodedata

OPEN = "[Cần bổ sung: "
CLOSE = "]"
_FOUND = re.compile(re.escape(OPEN.strip()) + r"\s*([^\]]*)" + re.escape(CLOSE))


def placeholder(what: str) -> str:
    """The visible placeholder asking the drafter for `what` ("nguyên nhân chậm tiến độ…")."""
    return f"{OPEN}{unicodedata.normalize('NFC', what).strip()}{CLOSE}"


def placeholders_in(text: str) -> list[str]:
    """What each placeholder left in `text` asks for, in order (text extracted from a PDF or a DOCX
    may break a line inside one: white space is folded first)."""
    folded = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or ""))
    return [m.group(1).strip() for m in _FOUND.finditer(folded)]

"""Unicode NFC, the one form Kehoach keeps text in: a user may paste decomposed Vietnamese
("Hà Nội" as a + combining grave), which must compare, index and print as the composed one."""

from __future__ import annotations

import unicodedata
from typing import Any, overload


@overload
def nfc(value: str) -> str: ...
@overload
def nfc(value: Any) -> Any: ...
def nfc(value: Any) -> Any:
    """Text in NFC, through dicts, lists and tuples (as lists); anything else unchanged."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nfc(v) for v in value]
    return value

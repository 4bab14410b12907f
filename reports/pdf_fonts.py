"""The report's typeface, shipped with the package: Liberation Serif 2 (metric twin of Times New Roman,
with the Vietnamese letters; SIL Open Font License, `fonts/LICENSE`) in `reports/fonts/`.

The PDF loads these four files by their file URLs (`@font-face`) under a family name of its own, so
what the page shows never depends on the fonts of the machine; a file missing or unreadable stops
the report with `ReportFontError` instead of a silent fallback to another serif (whose wider letters
wrap the header lines and break words in the tables). The charts draw with the same files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path(__file__).parent / "fonts"
FONT_FAMILY = "Liberation Serif VN"  # the PDF's only family: no system font answers to it
FONT_NAME = "Liberation Serif"  # the family the files say they are (the charts use it)
VIETNAMESE_PROBE = "ạẫỡư"  # letters a font without Vietnamese lacks


@dataclass(frozen=True)
class FontFace:
    file: str
    weight: str  # CSS font-weight
    style: str  # CSS font-style

    @property
    def path(self) -> Path:
        return FONT_DIR / self.file

    @property
    def url(self) -> str:
        return self.path.resolve().as_uri()


FACES = (
    FontFace("LiberationSerif-Regular.ttf", "normal", "normal"),
    FontFace("LiberationSerif-Bold.ttf", "bold", "normal"),
    FontFace("LiberationSerif-Italic.ttf", "normal", "italic"),
    FontFace("LiberationSerif-BoldItalic.ttf", "bold", "italic"),
)

_REINSTALL = (
    "Cài lại gói kehoach (pip install --force-reinstall kehoach, hoặc pip install -e . trong thư mục mã nguồn) "
    "hoặc chép lại tệp này từ gói Debian fonts-liberation2 (/usr/share/fonts/truetype/liberation2/) vào {folder}."
)


class ReportFontError(RuntimeError):
    """A shipped font file is missing or cannot be read: the report is not made with another font."""

    def __init__(self, path: Path, problem: str):
        self.path = path
        super().__init__(
            f"Không tạo được báo cáo PDF: {problem}: {path} (phông chữ Liberation Serif 2 đi kèm gói kehoach). "
            + _REINSTALL.format(folder=path.parent)
        )


def check_fonts() -> tuple[FontFace, ...]:
    """The four faces, each file present, a TrueType font of the Liberation Serif family with the
    Vietnamese letters; raises `ReportFontError` naming the first file that is not."""
    from fontTools.ttLib import TTFont, TTLibError  # WeasyPrint's own dependency

    for face in FACES:
        path = face.path
        if not path.is_file():
            raise ReportFontError(path, "thiếu tệp phông chữ")
        try:
            with TTFont(path, lazy=True) as font:
                family = font["name"].getDebugName(1)
                cmap = font.getBestCmap() or {}
        except (OSError, TTLibError, KeyError, AssertionError, ValueError) as error:
            raise ReportFontError(path, f"không đọc được tệp phông chữ ({error.__class__.__name__}: {error})") from error
        if family != FONT_NAME:
            raise ReportFontError(path, f"tệp không phải phông Liberation Serif (họ phông: {family!r})")
        if any(ord(letter) not in cmap for letter in VIETNAMESE_PROBE):
            raise ReportFontError(path, "tệp phông chữ thiếu chữ tiếng Việt (cần Liberation Serif bản 2)")
    return FACES


class _FontFaceFailures(logging.Handler):
    """WeasyPrint's word for an @font-face it could not load (it then falls back quietly)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Font-face") and "cannot be loaded" in message:
            self.messages.append(message)


@contextmanager
def font_faces_loaded() -> Iterator[None]:
    """Around a WeasyPrint rendering: raises `ReportFontError` if it could not load a shipped face."""
    handler = _FontFaceFailures()
    logger = logging.getLogger("weasyprint")
    level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:  # heard even where warnings are silenced
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    if handler.messages:
        raise ReportFontError(FONT_DIR, f"WeasyPrint không nạp được phông chữ ({'; '.join(handler.messages)}) trong thư mục")

"""The text of a PDF (a draft, or the signed scan of a report), to find placeholders left in it."""

from __future__ import annotations

from pathlib import Path


class NotAPdf(ValueError):
    """The file cannot be read as a PDF: why, in plain words."""


def pdf_text(path: Path) -> str:
    """Every page's extractable text (a scan without a text layer gives little or none)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    path = Path(path)
    if not path.is_file():
        raise NotAPdf(f"không có tệp {path}")
    try:
        with path.open("rb") as stream:
            if not stream.read(1024).lstrip().startswith(b"%PDF-"):
                raise NotAPdf(f"{path.name} không phải tệp PDF")
            stream.seek(0)
            reader = PdfReader(stream)
            if reader.is_encrypted:
                raise NotAPdf(f"{path.name} được đặt mật khẩu, không đọc được nội dung")
            return "\n".join(page.extract_text() or "" for page in reader.pages)
    except NotAPdf:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise NotAPdf(f"{path.name} không đọc được như một tệp PDF ({type(exc).__name__})") from None

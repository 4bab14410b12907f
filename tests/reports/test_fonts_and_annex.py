"""The report's typeface and its annex pages: the shipped Liberation Serif 2 and nothing else, a clear
error instead of another font, and annex tables whose dates, numbers and unit names never break.

Read back with poppler's pdftotext/pdffonts (Debian package poppler-utils); skipped, saying so,
where those are missing.
"""

from __future__ import annotations

import fnmatch
import logging
import pickle
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from test_document import make_data, needs_poppler, pdf_text

from reports import pdf_fonts
from reports.content import report_context
from reports.layout import TABLES
from reports.narrative import clean_text
from reports.pdf_file import render_pdf
from reports.pdf_fonts import FACES, FONT_DIR, ReportFontError, check_fonts, font_faces_loaded

REPO = Path(__file__).resolve().parents[2]

# Renders the pickled ReportData's PDF in a process of its own (the fonts fontconfig sees are read
# once per process).
RENDER_PDF = """
import pickle, sys
from pathlib import Path
from reports.content import report_context
from reports.pdf_file import render_pdf
data = pickle.loads(Path(sys.argv[1]).read_bytes())
render_pdf(report_context(data), Path(sys.argv[2]))
"""


@pytest.fixture(scope="module", name="data")
def fixture_data(plan):
    return make_data(plan)


def _fontless_environment(tmp_path: Path) -> dict[str, str]:
    """An environment in which fontconfig knows no font at all: its configuration names one empty folder."""
    empty, cache = tmp_path / "no-fonts", tmp_path / "fontconfig-cache"
    empty.mkdir()
    cache.mkdir()
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{empty}</dir><cachedir>{cache}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FONTCONFIG_FILE": str(config), "PYTHONPATH": str(REPO)}


# --- the files and the package ---------------------------------------------------------------


def test_the_four_shipped_faces_are_liberation_serif_2_with_vietnamese_letters():
    assert [face.path.name for face in check_fonts()] == [
        "LiberationSerif-Regular.ttf",
        "LiberationSerif-Bold.ttf",
        "LiberationSerif-Italic.ttf",
        "LiberationSerif-BoldItalic.ttf",
    ]
    assert "SIL Open Font License" in (FONT_DIR / "LICENSE").read_text(encoding="utf-8")


def test_every_file_of_the_fonts_folder_is_package_data():
    """`pip install .` (not editable) ships only what pyproject's package-data names."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["reports"]
    shipped = sorted(p.relative_to(FONT_DIR.parent).as_posix() for p in FONT_DIR.iterdir())
    assert len(shipped) == 5
    for name in shipped:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), (name, patterns)


# --- no other font, and a clear error ----------------------------------------------------------


def test_a_missing_font_file_stops_the_pdf_with_a_vietnamese_error(data, tmp_path, monkeypatch):
    folder = tmp_path / "fonts"
    folder.mkdir()
    for face in FACES[:-1]:
        shutil.copy(face.path, folder / face.file)
    monkeypatch.setattr(pdf_fonts, "FONT_DIR", folder)
    with pytest.raises(ReportFontError) as raised:
        render_pdf(report_context(data), tmp_path / "bao-cao.pdf")
    message = str(raised.value)
    assert "thiếu tệp phông chữ" in message and str(folder / "LiberationSerif-BoldItalic.ttf") in message
    assert "Cài lại gói kehoach" in message and "fonts-liberation2" in message
    assert not (tmp_path / "bao-cao.pdf").exists()


def test_a_font_file_that_is_not_a_font_stops_the_pdf(data, tmp_path, monkeypatch):
    folder = tmp_path / "fonts"
    folder.mkdir()
    for face in FACES:
        shutil.copy(face.path, folder / face.file)
    (folder / "LiberationSerif-Bold.ttf").write_bytes(b"<html>404 Not Found</html>")
    monkeypatch.setattr(pdf_fonts, "FONT_DIR", folder)
    with pytest.raises(ReportFontError, match="không đọc được tệp phông chữ .*LiberationSerif-Bold.ttf"):
        render_pdf(report_context(data), tmp_path / "bao-cao.pdf")


def test_a_font_face_weasyprint_cannot_load_is_an_error_not_a_fallback(tmp_path):
    from weasyprint import HTML

    missing = (tmp_path / "gone.ttf").as_uri()
    html = f'<style>@font-face {{ font-family: "X"; src: url("{missing}"); }} p {{ font-family: "X"; }}</style><p>Chữ</p>'
    with pytest.raises(ReportFontError, match="WeasyPrint không nạp được phông chữ"):
        with font_faces_loaded():
            HTML(string=html).write_pdf(tmp_path / "x.pdf")


def test_font_faces_loaded_hears_weasyprint_where_warnings_are_silenced():
    logger = logging.getLogger("weasyprint")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with pytest.raises(ReportFontError):
            with font_faces_loaded():
                logger.warning("Font-face %r cannot be loaded", "X")
        assert logger.level == logging.ERROR
    finally:
        logger.setLevel(before)


@needs_poppler
@pytest.mark.skipif(not shutil.which("fc-list"), reason="fontconfig's fc-list is not installed: apt-get install fontconfig")
def test_pdf_embeds_the_shipped_font_on_a_machine_without_any_font(data, tmp_path):
    env = _fontless_environment(tmp_path)
    seen = subprocess.run(["fc-list"], env=env, check=True, capture_output=True, text=True).stdout
    assert seen.strip() == "", f"fontconfig still sees fonts: {seen[:200]}"
    pickled = tmp_path / "data.pickle"
    pickled.write_bytes(pickle.dumps(data))
    pdf = tmp_path / "bao-cao.pdf"
    subprocess.run([sys.executable, "-c", RENDER_PDF, str(pickled), str(pdf)], env=env, cwd=tmp_path, check=True, timeout=300)

    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    names = [line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]]
    assert len(names) == 4 and all("LiberationSerif" in name.replace("-", "") for name in names), names
    assert all(" yes " in line for line in fonts.splitlines()[2:])  # embedded
    # Liberation Serif's widths: each header line on one line, as the decree lays it out.
    first_page = pdf_text(pdf, 1, layout=True).splitlines()
    for line in ("UBND THÀNH PHỐ HÀ NỘI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SỞ VĂN HÓA VÀ THỂ THAO", "Độc lập - Tự do - Hạnh phúc"):
        assert any(line in shown for shown in first_page), (line, first_page[:8])


# --- the annex -----------------------------------------------------------------------------


def test_table_columns_share_the_text_width_of_their_pages():
    for spec in TABLES:
        assert sum(c.width_mm for c in spec.columns) == pytest.approx(spec.text_width_mm), spec.key


@needs_poppler
def test_annex_pages_are_landscape_a4(data, tmp_path):
    pdf = render_pdf(report_context(data), tmp_path / "bao-cao.pdf")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True, text=True).stdout
    sizes = [line.split(":", 1)[1].split("pts")[0].split() for line in info.splitlines() if line.startswith("Page") and "size:" in line]
    shapes = ["portrait" if float(w) < float(h) else "landscape" for w, _, h in sizes]
    first_annex = shapes.index("landscape")
    assert first_annex > 0 and set(shapes[first_annex:]) == {"landscape"}, shapes
    assert "Phụ lục" in pdf_text(pdf, first_annex + 1)
    assert "Phụ lục" not in pdf_text(pdf, first_annex)


def _annex_text(pdf: Path) -> str:
    """The annex pages' text, laid out as printed (pdftotext -layout), pages apart by form feeds."""
    pages = pdf_text(pdf, layout=True).split("\f")
    first = next(i for i, page in enumerate(pages) if "SỐ LIỆU KẾT QUẢ TRIỂN KHAI KẾ HOẠCH" in page)
    return "\f".join(pages[first:])


@needs_poppler
def test_annex_never_breaks_a_date_a_number_or_a_unit_name(data, tmp_path):
    pdf = render_pdf(report_context(data), tmp_path / "bao-cao.pdf")
    tokens = set(_annex_text(pdf).split())
    for due in data.late["due"]:  # table I.4's deadlines
        assert due.strftime("%d/%m/%Y") in tokens, due
    # the units' short names in tables I.1 (lead, coordinating) and I.4 (lead)
    names = {clean_text(n) for n in [*data.items["lead"], *data.late["lead"]]}
    names |= {clean_text(n) for joined in data.items["coordinating"] for n in str(joined).split(", ") if n}
    assert {"TTTTTL", "QLTDTT", "QLDS", "VP"} <= names
    for name in names:
        assert all(word in tokens for word in name.split()), name
    for value in data.indicators["value"]:  # table I.2's results, with the thousands point
        assert f"{int(value):,}".replace(",", ".") in tokens, value
    for row in data.items.itertuples():  # table I.1's stage counts
        assert f"{row.stages_done}/{row.stages_total}" in tokens, row.number


def test_docx_annex_is_a_landscape_section_with_the_charts_after_its_tables(data, tmp_path):
    from docx import Document
    from docx.enum.section import WD_ORIENT

    from reports.document import render_report

    files = render_report(data, tmp_path)
    document = Document(str(files.docx))
    body, annex = document.sections
    assert body.orientation == WD_ORIENT.PORTRAIT and annex.orientation == WD_ORIENT.LANDSCAPE
    assert (round(annex.page_width.mm), round(annex.page_height.mm)) == (297, 210)
    usable = annex.page_width.mm - annex.left_margin.mm - annex.right_margin.mm
    for table in document.tables[-5:]:  # the annex tables fit the landscape text width
        assert sum(column.width.mm for column in table.columns) == pytest.approx(usable, abs=0.5)
    # the charts' pictures come after the last annex table, in the body's order
    xml = document.element.body.xml
    assert xml.rindex("<w:tbl>") < xml.index("<pic:pic") and len(document.inline_shapes) == 2
    assert all(shape.width.mm <= 200.5 for shape in document.inline_shapes)

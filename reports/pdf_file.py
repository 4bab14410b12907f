"""The report as a PDF: the content in Jinja2 HTML (`templates/bao-cao.html.j2`), laid out by WeasyPrint
with the shipped fonts (`reports.pdf_fonts`) and no other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from reports.layout import ANNEX_PAGE_MM, CHART_HEIGHT_MM, CHART_WIDTH_MM, HEADER_LEFT_MM, HTML_TEMPLATE, PAGE_MM, TEMPLATES
from reports.pdf_fonts import FACES, FONT_FAMILY, check_fonts, font_faces_loaded
from reports.placeholders import CLOSE, OPEN


def render_html(context: dict[str, Any]) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["uri"] = lambda p: Path(p).resolve().as_uri()
    env.filters["marked"] = marked
    return env.get_template(HTML_TEMPLATE).render(
        page=PAGE_MM,
        annex_page=ANNEX_PAGE_MM,
        header_left_mm=HEADER_LEFT_MM,
        chart_width_mm=CHART_WIDTH_MM,
        chart_height_mm=CHART_HEIGHT_MM,
        font_family=FONT_FAMILY,
        font_faces=FACES,
        **context,
    )


def marked(text: str) -> Markup:
    """The paragraph escaped, each drafter's placeholder highlighted (<mark>), so none is missed."""
    html = str(escape(text))
    opening, closing = str(escape(OPEN)), str(escape(CLOSE))
    parts, rest = [], html
    while opening in rest:
        before, _, after = rest.partition(opening)
        inside, found, rest = after.partition(closing)
        parts += [before, f"<mark>{opening}{inside}{closing if found else ''}</mark>"]
    return Markup("".join(parts) + rest)


def render_pdf(context: dict[str, Any], path: Path) -> Path:
    """The PDF at `path`; raises `reports.pdf_fonts.ReportFontError` when a shipped font is missing or
    cannot be loaded."""
    from weasyprint import HTML  # heavy import: only when a PDF is made
    from weasyprint.text.fonts import FontConfiguration

    check_fonts()
    fonts = FontConfiguration()
    with font_faces_loaded():
        HTML(string=render_html(context), base_url=str(TEMPLATES)).write_pdf(path, font_config=fonts)
    return path

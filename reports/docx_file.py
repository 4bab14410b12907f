"""The report as an editable DOCX: the content filled into the committed docxtpl template
(`templates/bao-cao.docx`, written by `reports.docx_template`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.layout import CHART_HEIGHT_MM, CHART_WIDTH_MM, DOCX_TEMPLATE
from reports.placeholders import CLOSE, OPEN


def chart_width_mm(path: Path) -> float:
    """How wide a chart is shown: CHART_WIDTH_MM, narrower when that would make it taller than
    CHART_HEIGHT_MM (a plan with many items), as in the PDF."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as image:
        width, height = image.size
    return min(CHART_WIDTH_MM, CHART_HEIGHT_MM * width / height)


def render_docx(context: dict[str, Any], path: Path) -> Path:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage, RichText

    template = DocxTemplate(DOCX_TEMPLATE)
    docx_context = dict(context)
    docx_context["charts"] = [
        {"image": InlineImage(template, str(c["path"]), width=Mm(chart_width_mm(c["path"]))), "caption": c["caption"]}
        for c in context["charts"]
    ]
    docx_context["sections"] = [
        {"heading": section["heading"], "blocks": [{**block, "rich": _rich(RichText, block["text"])} for block in section["blocks"]]}
        for section in context["sections"]
    ]
    # autoescape: a note with "<", "&" or markup stays text instead of breaking Word's XML.
    template.render(docx_context, autoescape=True)
    template.save(path)
    return path


def _rich(rich_text: Any, text: str) -> Any:
    """A paragraph as docxtpl RichText, each drafter's placeholder highlighted in yellow."""
    rich = rich_text()
    rest = text
    while OPEN in rest:
        before, _, after = rest.partition(OPEN)
        inside, found, rest = after.partition(CLOSE)
        if before:
            rich.add(before)
        rich.add(f"{OPEN}{inside}{CLOSE if found else ''}", highlight="yellow")
    if rest:
        rich.add(rest)
    return rich

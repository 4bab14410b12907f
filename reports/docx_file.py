"""The report as an editable DOCX: the content filled into the committed docxtpl template
(`templates/bao-cao.docx`, written by `reports.docx_template`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.layout import DOCX_TEMPLATE, TEXT_WIDTH_MM
from reports.placeholders import CLOSE, OPEN


def render_docx(context: dict[str, Any], path: Path) -> Path:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage, RichText

    template = DocxTemplate(DOCX_TEMPLATE)
    docx_context = dict(context)
    docx_context["charts"] = [
        {"image": InlineImage(template, str(c["path"]), width=Mm(TEXT_WIDTH_MM - 5)), "caption": c["caption"]}
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

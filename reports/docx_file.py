"""The report as an editable DOCX: the content filled into the committed docxtpl template
(`templates/bao-cao.docx`, written by `reports.docx_template`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.layout import DOCX_TEMPLATE, TEXT_WIDTH_MM


def render_docx(context: dict[str, Any], path: Path) -> Path:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    template = DocxTemplate(DOCX_TEMPLATE)
    docx_context = dict(context)
    docx_context["charts"] = [
        {"image": InlineImage(template, str(c["path"]), width=Mm(TEXT_WIDTH_MM - 5)), "caption": c["caption"]}
        for c in context["charts"]
    ]
    # autoescape: a note with "<", "&" or markup stays text instead of breaking Word's XML.
    template.render(docx_context, autoescape=True)
    template.save(path)
    return path

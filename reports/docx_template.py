"""The DOCX template, generated with python-docx and committed, so that a records office can restyle
it in Word: page setup, header boxes, body loops, annex tables, signer block, as docxtpl tags over the
content of `reports.content.report_context`; the annex and the charts on landscape pages of their own
section. `python -m reports.docx_template` rewrites it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reports.content import ANNEX_HEADING, ANNEX_TITLE
from reports.layout import ANNEX_PAGE_MM, ANNEX_TABLES, DOCX_TEMPLATE, HEADER_LEFT_MM, PAGE_MM, TABLES_BY_KEY, TEXT_WIDTH_MM, TableSpec

FONT = "Times New Roman"  # on Word machines; LibreOffice falls back to its metric twin, Liberation Serif (the PDF ships that)


def build_docx_template(path: Path = DOCX_TEMPLATE) -> Path:
    """Write the docxtpl template: page setup, header boxes, body loops, annex tables, signer block."""
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    center, justify, left = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.LEFT
    doc = Document()
    props = doc.core_properties
    props.author, props.comments, props.title, props.subject, props.keywords = "", "", "Báo cáo", "", ""
    props.last_modified_by = ""
    props.created = props.modified = dt.datetime(2023, 1, 1)

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM["width"]), Mm(PAGE_MM["height"])
    section.top_margin, section.bottom_margin = Mm(PAGE_MM["top"]), Mm(PAGE_MM["bottom"])
    section.left_margin, section.right_margin = Mm(PAGE_MM["left"]), Mm(PAGE_MM["right"])
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    section.different_first_page_header_footer = True  # page 1 carries no number

    def fonts(element, size: float | None = None) -> None:
        rpr = element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = OxmlElement("w:rFonts")
            rpr.insert(0, rfonts)
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            rfonts.set(qn(attr), FONT)

    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    fonts(normal.element)
    normal.paragraph_format.space_before, normal.paragraph_format.space_after = Pt(0), Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "vi-VN")
    normal.element.get_or_add_rPr().append(lang)

    def para(container, text: str = "", *, size: float = 14, bold=False, italic=False, align=center,
             indent_mm: float | None = None, before: float = 0, after: float = 0, spacing: float = 1.0, keep=False):
        p = container.add_paragraph()
        fmt = p.paragraph_format
        fmt.alignment, fmt.space_before, fmt.space_after, fmt.line_spacing = align, Pt(before), Pt(after), spacing
        if indent_mm is not None:
            fmt.first_line_indent = Mm(indent_mm)
        fmt.keep_with_next = keep
        if text:
            run = p.add_run(text)
            run.font.size, run.bold, run.italic = Pt(size), bold, italic
        return p

    def body(container, text: str):
        return para(container, text, align=justify, indent_mm=12.7, after=6, spacing=1.15)

    def heading(container, text: str):
        return para(container, text, bold=True, align=justify, indent_mm=12.7, before=6, after=6, keep=True)

    def tag(container, text: str):  # a docxtpl paragraph tag: the whole paragraph is replaced
        return para(container, text, align=left)

    def rule(container, width_mm: float, column_mm: float, before: float = 1):
        p = para(container, before=before)
        p.paragraph_format.left_indent = p.paragraph_format.right_indent = Mm((column_mm - width_mm) / 2)
        ppr = p._p.get_or_add_pPr()
        border = OxmlElement("w:pBdr")
        top = OxmlElement("w:top")
        for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
            top.set(qn(key), value)
        border.append(top)
        ppr.append(border)
        run = p.add_run()
        run.font.size = Pt(2)
        return p

    def widths(table, mm: list[float], margin_mm: float = 0) -> None:
        table.autofit = False
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        tbl_pr = table._tbl.tblPr
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        tbl_pr.append(layout)
        margins = OxmlElement("w:tblCellMar")  # Word's default 1.9 mm a side wraps the header boxes
        for side in ("left", "right"):
            edge = OxmlElement(f"w:{side}")
            edge.set(qn("w:w"), str(round(margin_mm * 56.7)))  # twentieths of a point
            edge.set(qn("w:type"), "dxa")
            margins.append(edge)
        tbl_pr.append(margins)
        for row in table.rows:
            for cell, width in zip(row.cells, mm):
                cell.width = Mm(width)
        for column, width in zip(table.columns, mm):
            column.width = Mm(width)

    def cell_text(cell, text: str, *, size=12, bold=False, italic=False, align=center):
        p = cell.paragraphs[0]
        p.paragraph_format.alignment = align
        if text:
            run = p.add_run(text)
            run.font.size, run.bold, run.italic = Pt(size), bold, italic
        return p

    # page number: centred in the top margin, from page 2 on (Decree 30/2020)
    header = section.header.paragraphs[0]
    header.paragraph_format.alignment = center
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "26")
    rpr.append(size)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    header._p.append(field)

    # boxes 1-4: bodies and number on the left, national motto and place/date on the right
    left_mm, right_mm = HEADER_LEFT_MM, TEXT_WIDTH_MM - HEADER_LEFT_MM
    boxes = doc.add_table(rows=2, cols=2)
    widths(boxes, [left_mm, right_mm])
    (a, b), (c, d) = boxes.rows[0].cells, boxes.rows[1].cells
    cell_text(a, "{{ parent_header }}", size=13)
    para(a, "{{ issuer_header }}", size=13, bold=True)
    rule(a, 22, left_mm)
    cell_text(b, "{{ motto }}", size=12, bold=True)
    para(b, "{{ motto_sub }}", size=13, bold=True)
    rule(b, 56, right_mm)  # as long as "Độc lập - Tự do - Hạnh phúc" at 13 pt bold
    cell_text(c, "{{ number_line }}", size=13).paragraph_format.space_before = Pt(6)
    cell_text(d, "{{ place_date }}", size=14, italic=True).paragraph_format.space_before = Pt(6)

    # box 5a: type and summary; 9a: Kính gửi
    para(doc, "{{ doc_type }}", bold=True, before=18)
    para(doc, "{{ summary }}", bold=True)
    rule(doc, 55, TEXT_WIDTH_MM, before=2).paragraph_format.space_after = Pt(10)
    to = doc.add_table(rows=1, cols=2)
    widths(to, [45, TEXT_WIDTH_MM - 45])
    label = cell_text(to.cell(0, 0), "Kính gửi:", size=14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    label.paragraph_format.right_indent = Mm(2)
    to.cell(0, 1).paragraphs[0].add_run("{%p for line in recipients %}")
    line = para(to.cell(0, 1), "{{ line }}", align=left)
    line.paragraph_format.left_indent, line.paragraph_format.first_line_indent = Mm(4), Mm(-4)  # wrapped lines hang
    tag(to.cell(0, 1), "{%p endfor %}")
    gap = para(doc)
    gap.paragraph_format.line_spacing = Pt(8)

    body(doc, "{{ intro }}")
    tag(doc, "{%p if no_events %}")
    body(doc, "{{ no_events }}")
    tag(doc, "{%p endif %}")

    def data_table(spec: TableSpec, caption: str, size: float = 12) -> None:
        key = spec.key
        para(doc, caption, bold=True, before=6, after=3, keep=True)
        table = doc.add_table(rows=7 if spec.total else 4, cols=len(spec.columns))
        table.style = doc.styles["Table Grid"]
        widths(table, [c.width_mm for c in spec.columns], margin_mm=1)
        head = table.rows[0]
        tr_pr = head._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        tr_pr.append(repeat)
        for cell, column in zip(head.cells, spec.columns):
            cell_text(cell, column.header, size=size, bold=True)
        cell_text(table.rows[1].cells[0], f"{{%tr for row in tables['{key}'].rows %}}", size=size)
        for i, (cell, column) in enumerate(zip(table.rows[2].cells, spec.columns)):
            cell_text(cell, f"{{{{ row[{i}] }}}}", size=size, align=WD_ALIGN_PARAGRAPH.RIGHT if column.numeric else left)
        cell_text(table.rows[3].cells[0], "{%tr endfor %}", size=size)
        if spec.total:
            cell_text(table.rows[4].cells[0], f"{{%tr if tables['{key}'].total %}}", size=size)
            for i, (cell, column) in enumerate(zip(table.rows[5].cells, spec.columns)):
                cell_text(cell, f"{{{{ tables['{key}'].total[{i}] }}}}", size=size, bold=True,
                          align=WD_ALIGN_PARAGRAPH.RIGHT if column.numeric else left)
            cell_text(table.rows[6].cells[0], "{%tr endif %}", size=size)
        para(doc, after=3)

    tag(doc, "{%p for section in sections %}")
    heading(doc, "{{ section.heading }}")
    tag(doc, "{%p for block in section.blocks %}")
    tag(doc, "{%p if block.heading %}")
    heading(doc, "{{ block.text }}")
    tag(doc, "{%p else %}")
    body(doc, "{{r block.rich }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if loop.index == 2 %}")
    data_table(TABLES_BY_KEY["indicator_totals"], "Bảng {{ tables['indicator_totals'].number }}. {{ tables['indicator_totals'].title }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    body(doc, "{{ closing }}").paragraph_format.keep_with_next = True

    # boxes 7 and 9b: "Nơi nhận" on the left, level with the signer's title on the right
    sign = doc.add_table(rows=1, cols=2)
    widths(sign, [80, TEXT_WIDTH_MM - 80])
    keep = OxmlElement("w:cantSplit")  # the signer block never breaks across pages
    sign.rows[0]._tr.get_or_add_trPr().append(keep)
    left_cell, right_cell = sign.rows[0].cells
    cell_text(left_cell, "Nơi nhận:", size=12, bold=True, italic=True, align=left).paragraph_format.space_before = Pt(12)
    tag(left_cell, "{%p for line in distribution %}")
    para(left_cell, "{{ line }}", size=11, align=left)
    tag(left_cell, "{%p endfor %}")
    right_cell.paragraphs[0].add_run("{%p for line in signer_lines %}")
    para(right_cell, "{{ line }}", bold=True)
    tag(right_cell, "{%p endfor %}")
    right_cell.paragraphs[1].paragraph_format.space_before = Pt(12)
    for _ in range(4):
        para(right_cell)
    para(right_cell, "{{ signer_name }}", bold=True)

    # the annex, on landscape pages of its own section (its page numbers follow on), then the charts
    annex = doc.add_section(WD_SECTION.NEW_PAGE)
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Mm(ANNEX_PAGE_MM["width"]), Mm(ANNEX_PAGE_MM["height"])
    annex.top_margin, annex.bottom_margin = Mm(ANNEX_PAGE_MM["top"]), Mm(ANNEX_PAGE_MM["bottom"])
    annex.left_margin, annex.right_margin = Mm(ANNEX_PAGE_MM["left"]), Mm(ANNEX_PAGE_MM["right"])
    annex.different_first_page_header_footer = False  # numbered from its first page on
    para(doc, ANNEX_HEADING, bold=True)
    para(doc, ANNEX_TITLE, bold=True)
    para(doc, "{{ annex_ref }}", italic=True, after=6)
    para(doc, "{{ abbreviations }}", size=11, align=justify, after=6)
    for key in ANNEX_TABLES:
        data_table(TABLES_BY_KEY[key], f"Biểu {{{{ tables['{key}'].number }}}}. {{{{ tables['{key}'].title }}}}", size=11)
    tag(doc, "{%p for chart in charts %}")
    para(doc, "{{ chart.image }}", before=6, keep=True)
    para(doc, "Hình {{ loop.index }}. {{ chart.caption }}", size=12, italic=True, after=6)
    tag(doc, "{%p endfor %}")

    # python-docx starts every document with one empty paragraph: drop it
    first_body = doc.element.body[0]
    if first_body.tag == qn("w:p") and not "".join(first_body.itertext()):
        doc.element.body.remove(first_body)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))  # python-docx is typed for str paths and streams
    return path


if __name__ == "__main__":
    print(build_docx_template())

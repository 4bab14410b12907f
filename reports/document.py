"""The report as documents, one content in three files: a PDF (`reports.pdf_file`: Jinja2 HTML ->
WeasyPrint), an editable DOCX (`reports.docx_file`: docxtpl, from `templates/bao-cao.docx`, which
`reports.docx_template` generates) and an XLSX annex of the tables (`reports.xlsx_annex`: openpyxl),
laid out per Decree 30/2020/NĐ-CP (`reports.layout`: A4, margins, sizes, header boxes; the content,
"Nơi nhận" and the signer block in `reports.content`).

`render_report` is the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plan.model import Signer
from reports.content import CHART_CAPTIONS, report_context
from reports.data import ReportData
from reports.docx_file import render_docx
from reports.pdf_file import render_pdf
from reports.xlsx_annex import render_xlsx


@dataclass(frozen=True)
class ReportFiles:
    pdf: Path
    docx: Path
    xlsx: Path
    charts: list[Path] = field(default_factory=list)
    # What the drafter must still write (reports.placeholders): the draft cannot be approved until
    # none is left.
    placeholders: tuple[str, ...] = ()


def render_report(
    data: ReportData,
    out_dir: Path,
    *,
    number: str | int | None = None,
    signer: Signer | None = None,
) -> ReportFiles:
    """The report for one period as PDF, DOCX and XLSX (plus the chart PNGs) in `out_dir`."""
    from reports.charts import render_charts

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-{data.plan.id}-{data.period.id}"
    charts = render_charts(data, out_dir, stem)
    context = report_context(data, number=number, signer=signer)
    context["charts"] = [{"path": p, "caption": c} for p, c in zip(charts, CHART_CAPTIONS)]
    pdf = render_pdf(context, out_dir / f"{stem}.pdf")
    docx = render_docx(context, out_dir / f"{stem}.docx")
    xlsx = render_xlsx(data, out_dir / f"{stem}.xlsx")
    return ReportFiles(pdf=pdf, docx=docx, xlsx=xlsx, charts=charts, placeholders=tuple(context["placeholders"]))

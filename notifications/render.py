"""Mail bodies from Jinja2 templates: HTML (autoescaped, inline styles, tables) and plain text.

Text typed by people (titles, notes, names) is escaped in HTML. The HTML comes out on one line: the
transport turns newlines into line breaks, so a template's layout must not depend on them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from plan.events import COORDINATION_STATUS_LABELS, STAGE_STATUS_LABELS
from plan.model import ROLE_LABELS, STAGE_LABELS, Precision
from plan.progress import RAG_LABELS, Rag
from plan.text import counterpart_label, long_date, short_date, window_text

TEMPLATES = Path(__file__).parent / "templates"

# Text and background colours of the RAG badges: readable on white, distinct without colour vision
# (each badge also carries its label).
RAG_COLOURS = {
    Rag.OFF_TRACK: ("#ffffff", "#b42318"),
    Rag.AT_RISK: ("#1f1300", "#f5b000"),
    Rag.ON_TRACK: ("#ffffff", "#1f7a3d"),
    Rag.DONE: ("#ffffff", "#475467"),
}

_EN_MONTHS = (
    "January February March April May June July August September October November December".split()
)


def english_date(day: dt.date) -> str:
    """21 October 2023 — for the English part of letters to embassies (never ambiguous d/m vs m/d)."""
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def number(value: int) -> str:
    """15.000 — Vietnamese thousands separator."""
    return f"{value:,}".replace(",", ".")


def occurrence_label(occurrence) -> str:
    """'' for an item's own window, else the occurrence's title (tháng 7/2023, a course, an event)."""
    return "" if occurrence.is_main else (occurrence.title or occurrence.id)


def indicator_text(plan, key: str, value: int) -> str:
    """Số lượt người tham gia: 15.000 lượt người (the key itself when the plan does not define it)."""
    found = next((i for i in plan.indicators if i.id == key), None)
    return f"{found.label}: {number(value)} {found.unit}" if found else f"{key}: {number(value)}"


def counterpart_names(ids, plan) -> str:
    return ", ".join(counterpart_label(plan, c) for c in ids)


def _lines(text: object) -> Markup:
    """A person's multi-line note in HTML: escaped, its line breaks kept as <br>."""
    parts = str(text).splitlines() or [""]
    return Markup("<br>").join(escape(part) for part in parts)


def _rag_style(rag: Rag | str) -> str:
    fg, bg = RAG_COLOURS[Rag(rag)]
    return f"color:{fg};background-color:{bg};"


def _make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        short_date=short_date,
        long_date=long_date,
        english_date=english_date,
        number=number,
        lines=_lines,
        rag_style=_rag_style,
        rag_label=lambda rag: RAG_LABELS[Rag(rag)],
        stage_label=lambda stage: STAGE_LABELS[stage],
        status_label=lambda status: STAGE_STATUS_LABELS[status],
        answer_label=lambda answer: COORDINATION_STATUS_LABELS[answer],
        role_label=lambda role: ROLE_LABELS[role] if role is not None else "",
        occurrence_label=occurrence_label,
        counterpart_names=counterpart_names,
    )
    env.globals.update(
        window_text=window_text,
        counterpart_label=counterpart_label,
        indicator_text=indicator_text,
        rag_colours=RAG_COLOURS,
        Precision=Precision,
    )
    return env


ENV = _make_environment()

_NEWLINES = re.compile(r"\s*\n\s*")


def render_html(name: str, **context: object) -> str:
    """`templates/<name>.html`, on one line, in NFC."""
    html = ENV.get_template(f"{name}.html").render(**context)
    return unicodedata.normalize("NFC", _NEWLINES.sub(" ", html).strip()) + "\n"


def render_text(name: str, **context: object) -> str:
    """`templates/<name>.txt`, in NFC, with no run of more than one blank line."""
    text = ENV.get_template(f"{name}.txt").render(**context)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return unicodedata.normalize("NFC", text.strip()) + "\n"

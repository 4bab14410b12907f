"""The report's two charts (matplotlib, Agg): a Gantt timeline of the items with stage status, each
session or request held, and the report date; and a roll-up of items and stages by status. PNG files,
shown after the annex tables of the PDF and the DOCX, in the shipped fonts (`reports.pdf_fonts`)."""

from __future__ import annotations

import datetime as dt
import functools
import textwrap
import threading
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before any pyplot import: no display, no GUI toolkit, same output everywhere

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402  (no pyplot: no global figure state)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from plan.calendar import WorkingCalendar  # noqa: E402
from plan.model import Item, Stage  # noqa: E402
from plan.progress import RAG_LABELS, Rag  # noqa: E402
from plan.schedule import item_span, stage_due_dates, working_calendar  # noqa: E402
from plan.text import short_date  # noqa: E402
from reports.data import ReportData  # noqa: E402
from reports.layout import CHART_WIDTH_MM  # noqa: E402
from reports.narrative import as_date, clean_text  # noqa: E402
from reports.pdf_fonts import FACES, FONT_NAME  # noqa: E402

DPI = 150
WIDTH_IN = CHART_WIDTH_MM / 25.4  # as wide as the annex shows them: the fonts print at their size
LABEL_CHARS = 30  # an item's label wraps onto a second line past this many characters

# Liberation Serif 2 (metric twin of Times New Roman), shipped with the package, and DejaVu (shipped
# with matplotlib) both carry precomposed Vietnamese; matplotlib falls back glyph by glyph along this list.
FONT_FAMILIES = (FONT_NAME, "DejaVu Serif")
FONT_RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "svg.fonttype": "none",
}

RAG_COLOURS = {Rag.DONE: "#1b5e20", Rag.ON_TRACK: "#66bb6a", Rag.AT_RISK: "#f9a825", Rag.OFF_TRACK: "#c62828"}

# What a stage of an item's own window looks like on the report date. The contract gives overdue
# stages one by one (the late table); a stage past due and not in it was finished or skipped.
STAGE_DONE, STAGE_OVERDUE, STAGE_CURRENT, STAGE_LATER = "Đã xong", "Quá hạn", "Trong thời hạn", "Chưa đến hạn"
STAGE_COLOURS = {STAGE_DONE: "#2e7d32", STAGE_OVERDUE: "#c62828", STAGE_CURRENT: "#42a5f5", STAGE_LATER: "#b0bec5"}


@functools.cache
def _font_rc() -> dict:
    """The chart fonts: the shipped Liberation Serif 2 files, then those of FONT_FAMILIES that have
    Vietnamese letters. Forgets "Liberation Serif" files without them (Debian's fonts-liberation 1.07
    sits beside fonts-liberation2 under the same family name, and matplotlib may pick the old one)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for face in FACES:
        if face.path.is_file():  # the PDF, drawn next, says what is missing
            font_manager.fontManager.addfont(str(face.path))

    def vietnamese(path: str) -> bool:
        try:
            return 0x1EA1 in FT2Font(path).get_charmap()  # ạ
        except (OSError, RuntimeError):
            return False

    manager = font_manager.fontManager
    manager.ttflist = [f for f in manager.ttflist if f.name != "Liberation Serif" or vietnamese(f.fname)]
    cached = getattr(manager, "_findfont_cached", None)  # lookups made before the filter
    if cached is not None:
        cached.cache_clear()
    present = {f.name for f in manager.ttflist}
    families = [f for f in FONT_FAMILIES if f in present] or ["serif"]
    return {**FONT_RC, "font.family": families}


_RC_LOCK = threading.Lock()  # rc_context changes matplotlib's global settings while a chart is drawn


def render_charts(data: ReportData, out_dir: Path, stem: str = "bieu-do") -> list[Path]:
    """Both charts as PNG files in `out_dir`: [timeline, status roll-up]."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [gantt_chart(data, out_dir / f"{stem}-tien-do.png"), status_chart(data, out_dir / f"{stem}-tinh-trang.png")]


def _label(number: int, title: str, width: int = LABEL_CHARS) -> str:
    """"8. Kỷ niệm 50 năm quan hệ ngoại giao" whole, on two lines when long (never cut short)."""
    return textwrap.fill(f"{number}. {clean_text(title)}", width=width, break_long_words=False, break_on_hyphens=False)


def session_points(data: ReportData, number: int) -> list[tuple[dt.date, dt.date, bool]]:
    """An item's sessions and requests known on the report date, as (start, end, held)."""
    sessions = data.sessions
    if sessions is None or not len(sessions):
        return []
    points = []
    for row in sessions[sessions["item_number"].astype(int) == number].itertuples():
        start = as_date(row.start)
        if start is not None:
            points.append((start, as_date(row.end) or start, bool(row.held)))
    return points


def _stage_states(data: ReportData) -> dict[tuple[int, str], list[tuple[str, dt.date | None]]]:
    """Per (item, occurrence) the overdue stages and their due dates, from the late table (None: no date;
    such a stage gets no point on the chart)."""
    late: dict[tuple[int, str], list[tuple[str, dt.date | None]]] = {}
    for row in data.late.to_dict("records") if len(data.late) else []:
        key = (int(row["item_number"]), clean_text(row["occurrence"]) or "main")
        late.setdefault(key, []).append((clean_text(row["stage"]), as_date(row["due"])))
    return late


def stage_bars(
    data: ReportData,
    item: Item,
    *,
    calendar: WorkingCalendar | None = None,
    late: dict[tuple[int, str], list[tuple[str, dt.date | None]]] | None = None,
) -> list[tuple[Stage, dt.date, dt.date, str]]:
    """The item's own stages as (stage, start, due, state) bars, each from the previous stage's due date.

    The late table names the overdue stages. With one occurrence the other finished stages
    (`stages_done` of them) are the earliest ones; with several (months, sessions) the count mixes
    them, so a stage past due and not in the late table was finished or skipped.
    """
    plan = data.plan
    dues = stage_due_dates(plan, item, calendar=calendar or working_calendar(plan))
    if not dues:
        return []
    late = _stage_states(data) if late is None else late
    overdue = {stage for stage, _ in late.get((item.number, "main"), [])}
    row: dict[str, Any] = next((r for r in data.items.to_dict("records") if int(r["number"]) == item.number), {}) if len(data.items) else {}
    span = item_span(plan, item)
    previous = min(dues[Stage.PREPARATION] - dt.timedelta(days=14), span[0] if span else dues[Stage.PREPARATION])
    if item.window.precision == "all_year" and span:
        previous = max(span[0], min(plan.document.issued_on, dues[Stage.PREPARATION]))
    single = int(row.get("occurrences", 1) or 0) <= 1
    remaining = int(row.get("stages_done", 0) or 0)
    bars = []
    for stage in Stage:
        due = dues[stage]
        if str(row.get("rag")) == Rag.DONE:
            state = STAGE_DONE
        elif stage.value in overdue:
            state = STAGE_OVERDUE
        elif single and remaining > 0:
            state, remaining = STAGE_DONE, remaining - 1
        elif due < data.as_of:
            state = STAGE_OVERDUE if single else STAGE_DONE
        elif previous <= data.as_of:
            state = STAGE_CURRENT
        else:
            state = STAGE_LATER
        bars.append((stage, min(previous, due), due, state))
        previous = due
    return bars


HELD_COLOUR = "#1565c0"  # a session or request held (its execution finished); hollow: not yet


def gantt_chart(data: ReportData, path: Path) -> Path:
    """Figure 1 as a PNG at `path`."""
    with _RC_LOCK, matplotlib.rc_context(_font_rc()):
        fig = gantt_figure(data)
        fig.savefig(path, dpi=DPI)
    return path


def gantt_figure(data: ReportData) -> Figure:
    """The items' timeline: each item's window and stages, the months' and sessions' overdue stages,
    each session or request at its date (on-request items have nothing else), the report date."""
    plan = data.plan
    calendar = working_calendar(plan)
    items = {int(r["number"]): r for r in data.items.to_dict("records")} if len(data.items) else {}
    late = _stage_states(data)
    year_start, year_end = dt.date(plan.year, 1, 1), dt.date(plan.year, 12, 31)
    rows = plan.items
    labels = [_label(i.number, i.short_title) for i in rows]
    lines = sum(label.count("\n") + 1 for label in labels)
    fig = Figure(figsize=(WIDTH_IN, 0.25 * len(rows) + 0.12 * lines + 1.4), dpi=DPI)
    ax = fig.subplots()
    lo, hi = year_start, year_end
    ax.axvspan(*(mdates.date2num(d) for d in data.window), color="#fff8e1", zorder=0)
    for y, item in enumerate(rows):
        span = item_span(plan, item)
        if span is not None:
            ax.broken_barh(
                [(mdates.date2num(span[0]), (span[1] - span[0]).days + 1)],
                (y - 0.36, 0.72),
                facecolors="none",
                edgecolors="#546e7a",
                linewidth=0.6,
                zorder=2,
            )
        bars = stage_bars(data, item, calendar=calendar, late=late)
        for _, start, due, state in bars:
            ax.broken_barh(
                [(mdates.date2num(start), max((due - start).days, 2))],
                (y - 0.22, 0.44),
                facecolors=STAGE_COLOURS[state],
                edgecolors="white",
                linewidth=0.4,
                zorder=3,
            )
        if bars:
            lo, hi = min(lo, bars[0][1]), max(hi, bars[-1][2])
        # Occurrences outside the item's own window: the overdue stages of a month, a session or a
        # request (late table), and each session or request at its date.
        overdue = [due for (number, occurrence), stages in late.items() if number == item.number and occurrence != "main" for _, due in stages if due is not None]
        for due in overdue:
            ax.plot(mdates.date2num(due), y, marker="o", markersize=4, color=STAGE_COLOURS[STAGE_OVERDUE], zorder=4, linestyle="none")
        sessions = session_points(data, item.number)
        for start, end, held in sessions:
            if end > start:  # a session of several days: its days, then its marker
                ax.plot([mdates.date2num(start), mdates.date2num(end)], [y, y], color=HELD_COLOUR, linewidth=1.2, zorder=4, solid_capstyle="butt")
            ax.plot(
                mdates.date2num(start),
                y,
                marker="D",
                markersize=5,
                markeredgecolor=HELD_COLOUR,
                markerfacecolor=HELD_COLOUR if held else "white",
                zorder=5,
                linestyle="none",
                gid=f"session-{item.number}",
            )
            if span is None:  # an on-request item shows nothing else: say when
                ax.annotate(start.strftime("%d/%m"), (mdates.date2num(start), y), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=6, color=HELD_COLOUR)
        for when in overdue + [s[0] for s in sessions] + [s[1] for s in sessions]:
            lo, hi = min(lo, when), max(hi, when)
        if span is None and not sessions and not overdue:
            count = int(items.get(item.number, {}).get("occurrences", 0) or 0)
            wording = f"theo yêu cầu: {count} đợt đã phát sinh" if count else "theo yêu cầu, chưa phát sinh"
            ax.text(mdates.date2num(year_start) + 3, y, wording, va="center", fontsize=7, color="#546e7a")
    ax.axvline(mdates.date2num(data.as_of), color="#0d47a1", linewidth=1.2, linestyle="--", zorder=6)
    ax.text(
        mdates.date2num(data.as_of),
        -0.75,
        f" Ngày báo cáo {short_date(data.as_of)}",
        color="#0d47a1",
        fontsize=7,
        va="bottom",
        ha="left" if data.as_of <= dt.date(plan.year, 9, 1) else "right",
    )
    ax.set_yticks(range(len(rows)), labels)
    ax.tick_params(axis="y", labelsize=7.5)
    ax.set_ylim(len(rows) - 0.5, -0.9)
    ax.set_xlim(mdates.date2num(lo - dt.timedelta(days=3)), mdates.date2num(hi + dt.timedelta(days=3)))
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(
            lambda x, _: (lambda d: f"T{d.month}" if d.year == plan.year else f"T{d.month}/{d.year % 100:02d}")(mdates.num2date(x))
        )
    )
    ax.set_xlabel(f"Tháng (năm {plan.year})", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", color="#eceff1", linewidth=0.6, zorder=1)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"Tiến độ các nội dung của Kế hoạch (kỳ báo cáo: {data.period.label})", loc="left")
    handles: list[Artist] = [Patch(facecolor=STAGE_COLOURS[s], label=f"Bước {s.lower()}") for s in STAGE_COLOURS]
    handles += [
        Patch(facecolor="none", edgecolor="#546e7a", label="Thời gian thực hiện"),
        Patch(facecolor="#fff8e1", label="Thời gian chốt số liệu"),
        Line2D([], [], marker="D", color=HELD_COLOUR, linestyle="none", markersize=4, label="Đợt đã tổ chức (theo yêu cầu, theo đợt)"),
        Line2D([], [], marker="D", color=HELD_COLOUR, markerfacecolor="white", linestyle="none", markersize=4, label="Đợt chưa tổ chức xong"),
        Line2D([], [], marker="o", color=STAGE_COLOURS[STAGE_OVERDUE], linestyle="none", markersize=4, label="Bước quá hạn của một đợt"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.4, -0.09), ncol=4, fontsize=6.5, frameon=False)
    fig.tight_layout()
    return fig


def status_chart(data: ReportData, path: Path) -> Path:
    items = data.items.sort_values("number") if len(data.items) else data.items
    with _RC_LOCK, matplotlib.rc_context(_font_rc()):
        wrapped = sum(_label(int(n), t).count("\n") for n, t in zip(items["number"], items["short_title"])) if len(items) else 0
        fig = Figure(figsize=(WIDTH_IN, 0.22 * max(len(items), 4) + 0.12 * wrapped + 1.2), dpi=DPI)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
        rags = [Rag.DONE, Rag.ON_TRACK, Rag.AT_RISK, Rag.OFF_TRACK]
        counts = [int((items["rag"].astype(str) == rag.value).sum()) if len(items) else 0 for rag in rags]
        bars = left.barh([RAG_LABELS[r] for r in rags], counts, color=[RAG_COLOURS[r] for r in rags])
        left.bar_label(bars, padding=2, fontsize=7)
        left.invert_yaxis()
        left.set_title("Nội dung theo tình trạng", loc="left")
        left.set_xlabel("Số nội dung")
        left.set_xlim(0, max(counts + [1]) * 1.25)
        left.xaxis.get_major_locator().set_params(integer=True)

        labels = [_label(int(n), t) for n, t in zip(items["number"], items["short_title"])] if len(items) else []
        done = items["stages_done"].astype(int).tolist() if len(items) else []
        overdue = items["stages_overdue"].astype(int).tolist() if len(items) else []
        rest = [max(int(t) - d - o, 0) for t, d, o in zip(items["stages_total"], done, overdue)] if len(items) else []
        right.barh(labels, done, color=STAGE_COLOURS[STAGE_DONE], label="Đã xong")
        right.barh(labels, overdue, left=done, color=STAGE_COLOURS[STAGE_OVERDUE], label="Quá hạn")
        right.barh(labels, rest, left=[d + o for d, o in zip(done, overdue)], color=STAGE_COLOURS[STAGE_LATER], label="Còn lại")
        right.invert_yaxis()
        right.set_title("Bước công việc theo nội dung", loc="left")
        right.set_xlabel("Số bước")
        right.xaxis.get_major_locator().set_params(integer=True)
        right.legend(loc="lower right", fontsize=6.5, frameon=False)
        for ax in (left, right):
            ax.tick_params(labelsize=7)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
    return path

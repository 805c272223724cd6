"""Charts for the Word report, drawn with matplotlib's Agg canvas and returned as PNG bytes.

The figures are built on a `Figure` with its own Agg canvas: no display, no pyplot state and
no global backend switch, so drawing is safe inside the CLI and in tests. The report stage
prepares the numbers and the Vietnamese labels; this module only draws them."""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from pipeline.base.text import vn_number, vn_number_apart

DPI = 150
CM = 1 / 2.54
GREEN, RED, GREY, BLUE = "#2E7D32", "#C62828", "#9E9E9E", "#1F4E79"
CAP = 150.0  # bars stop at 150 % of the target; the label still gives the real value
# Times New Roman on the officer's Windows PC, its metric twin on Linux, else matplotlib's own.
SERIF_FONTS = ("Times New Roman", "Liberation Serif", "DejaVu Serif")
VIETNAMESE_PROBE = "ệươỹẫ"


@lru_cache(maxsize=1)
def font_family() -> str:
    """The first installed font of SERIF_FONTS that has the Vietnamese letters. Asking
    matplotlib for a missing family, or drawing with a font that lacks a glyph, prints
    warnings on the officer's console."""
    from matplotlib.ft2font import FT2Font

    for name in SERIF_FONTS:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
            charmap = FT2Font(path).get_charmap()
        except (ValueError, OSError, RuntimeError):
            continue
        # Old Liberation (1.x) has no Vietnamese letters with two marks.
        if all(ord(c) in charmap for c in VIETNAMESE_PROBE):
            return name
    return "DejaVu Sans"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", bbox_inches="tight", pad_inches=0.04)
    return buf.getvalue()


def _style():
    return rc_context({"font.family": font_family(), "font.size": 8, "axes.titlesize": 8.5,
                       "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none"})


def attainment_chart(bars: list[dict], width_cm: float = 16.0) -> bytes:
    """Horizontal bars, one per indicator: the value as a percentage of its target (100 =
    target met; for "reduce to" targets the ratio is inverted, so longer is always better).
    Each bar: {"label", "percent" (None = no data), "met" (bool), "undecided" (bool: grey, the
    units not yet reported could still turn the verdict), "text"}."""
    n = max(len(bars), 1)
    with _style():
        height = 1.8 + 0.62 * n
        fig = Figure(figsize=(width_cm * CM, height * CM))
        ax = fig.add_axes((0.42, 1.3 / height, 0.56, 1 - 1.45 / height))
        ys = list(range(n))
        for y, b in zip(ys, bars):
            pct = b.get("percent")
            if pct is None:
                ax.text(1, y, "chưa có số liệu", va="center", ha="left", color=GREY, fontsize=7, style="italic")
                continue
            shown = max(0.0, min(pct, CAP))
            # Grey-safe: a met target is a solid bar, a missed one a pale hatched bar, an undecided
            # one a plain grey bar, so the three differ on a monochrome printer too.
            if b.get("met"):
                ax.barh(y, shown, height=0.62, color=GREEN, alpha=0.85)
            elif b.get("undecided"):
                ax.barh(y, shown, height=0.62, color=GREY, alpha=0.85)
            else:
                ax.barh(y, shown, height=0.62, facecolor="#FDECEA", edgecolor=RED, hatch="////", lw=0.8)
            ax.text(shown + 2, y, b.get("text", ""), va="center", ha="left", fontsize=6.5)
        ax.axvline(100, color="black", lw=0.8, ls="--")
        ax.set_yticks(ys, ["\n".join(textwrap.wrap(b["label"], 44)[:2]) for b in bars], fontsize=6.5,
                      linespacing=0.95)
        ax.invert_yaxis()
        ax.set_xlim(0, CAP + 45)
        ax.set_xticks([0, 25, 50, 75, 100, 125, 150])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{vn_number(x, 0)}%"))
        ax.set_xlabel("Mức đạt so với mục tiêu (100% = đạt mục tiêu)")
        ax.set_ylim(n - 0.4, -0.6)
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=GREEN, alpha=0.85, label="Đạt mục tiêu"),
                   Patch(facecolor="#FDECEA", edgecolor=RED, hatch="////", label="Chưa đạt")]
        if any(b.get("undecided") for b in bars):
            handles.append(Patch(facecolor=GREY, alpha=0.85, label="Chưa đủ số liệu để đánh giá"))
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(handles), fontsize=6.5,
                  frameon=False)
        return _png(fig)


def trend_chart(series: list[dict], years: list[int], width_cm: float = 16.0, columns: int = 3) -> bytes:
    """Small multiples, one line per indicator over the years, with its targets dashed.
    Each series: {"title", "unit", "values": {year: value or None}, "targets": {year: value},
    "breaks": [years from which the series counts other units], "labels": {year: the value as
    printed, with its source mark}, "marks": {year: "(p)" (the lead office's figure) or "(t)"
    (provisional)}}. A point of another source than its neighbour is drawn hollow and joined to
    it by a dotted line only: a change of source is not a change of the figure."""
    rows = max(1, -(-len(series) // columns))
    with _style():
        fig = Figure(figsize=(width_cm * CM, rows * 5.6 * CM))
        fig.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.08, wspace=0.38, hspace=0.75)
        for i, s in enumerate(series):
            ax = fig.add_subplot(rows, columns, i + 1)
            pts = [(y, s["values"].get(y)) for y in years]
            pts = [(y, v) for y, v in pts if v is not None]
            if pts:
                marks = s.get("marks") or {}
                # A series break (the units counted changed, 2025): the line stops and restarts.
                for part in _segments(pts, s.get("breaks") or []):
                    _plot_part(ax, part, marks)
                for b in s.get("breaks") or []:
                    if years[0] < b <= years[-1]:
                        ax.axvline(b - 0.5, color=GREY, lw=0.8, ls=":")
                        ax.text(b - 0.45, 1, "đổi đơn vị", transform=ax.get_xaxis_transform(), fontsize=5.5,
                                va="top", ha="left", color=GREY)
                last_y, last_v = pts[-1]
                # never reads as the nearer target when it is not (99,497 beside 99,5)
                nearest = next((tv for _, tv in sorted(s.get("targets", {}).items())), None)
                label = (s.get("labels") or {}).get(last_y) or vn_number_apart(last_v, nearest)
                ax.annotate(label, (last_y, last_v), textcoords="offset points", xytext=(0, 5),
                            ha="center", fontsize=6.5, color=BLUE)
            for n, (ty, tv) in enumerate(sorted(s.get("targets", {}).items())):
                # The nearer target in red, written at the left; the later one grey, at the right,
                # so that two close targets (99,5 and 100) do not print over each other.
                colour = RED if n == 0 else GREY
                ax.axhline(tv, color=colour, lw=0.9, ls="--" if n == 0 else ":")  # told apart in grey too
                ax.text(years[0] if n == 0 else years[-1], tv, f"Mục tiêu {ty}: {vn_number(tv)}", fontsize=6, va="bottom",
                        ha="left" if n == 0 else "right", color=colour)
            lines = textwrap.wrap(s["title"], 30)
            if len(lines) > 3:
                lines = lines[:3]
                lines[-1] = lines[-1].rstrip(" ,.") + "…"
            ax.set_title("\n".join(lines), loc="left")
            ax.set_xlim(years[0] - 0.4, years[-1] + 0.4)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(len(years), 6)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(x)}"))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: vn_number(x, 1)))
            ax.tick_params(labelsize=6.5)
            ax.set_ylabel(s.get("unit", ""), fontsize=6.5)
            ax.margins(y=0.25)
        return _png(fig)


def _plot_part(ax, part: list[tuple[int, float]], marks: dict) -> None:
    """One series segment: solid between points of one source, dotted across a change of
    source; a point that is not the communes' full sum (the office's, a provisional one) hollow."""
    for (y0, v0), (y1, v1) in zip(part, part[1:]):
        same = marks.get(y0, "") == marks.get(y1, "")
        ax.plot([y0, y1], [v0, v1], color=BLUE, lw=1.6 if same else 0.9, ls="-" if same else ":")
    for y, v in part:
        hollow = bool(marks.get(y))
        ax.plot([y], [v], color=BLUE, marker="s" if marks.get(y) == "(p)" else "o", ms=3.8,
                markerfacecolor="white" if hollow else BLUE, lw=0)


def _segments(points: list[tuple[int, float]], breaks: list[int]) -> list[list[tuple[int, float]]]:
    """The points split where a new series starts: no line joins 34 communes to 8."""
    out: list[list[tuple[int, float]]] = [[]]
    for y, v in points:
        if out[-1] and any(out[-1][-1][0] < b <= y for b in breaks):
            out.append([])
        out[-1].append((y, v))
    return [p for p in out if p]

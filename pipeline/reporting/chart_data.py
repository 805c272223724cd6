"""The numbers and labels of the report's charts (pipeline.reporting.charts draws them)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.base.fsutil import atomic_write
from pipeline.merge.result import MergeResult, Verdict
from pipeline.reporting.words import figure_text, indicator_info, num_text, is_strict, tt_labels, table_unit, verdict_of

# Indicators drawn in the trend chart; settings.yaml may list others under report.trend_indicators.
TREND_INDICATORS = ("ct02", "ct03b", "ct04b", "ct05a", "ct14", "ct18")

# --- charts ----------------------------------------------------------------------------------
def _compact(v: float, row) -> str:
    """The value as its bar's label, rounded once and never reading as one of its targets when
    it is not (99,49652 beside 99,5: "99,497%")."""
    unit = {"per_100000_children": "/100.000"}.get(row.kind, row.unit)
    return f"{figure_text(row, v)}{unit if unit in ('%', '‰', '/100.000') else ''}"


def attainment_bars(result: MergeResult, info: dict | None = None) -> list[dict]:
    """The bars of the attainment chart: value as % of the target of reference (inverted for
    "reduce to" targets, so that 100 always means met). CT13 (year-over-year) is left out."""
    year = int(result.year)
    rows = [r for r in result.indicators or [] if r.kind != "yoy_change"]
    tts = tt_labels(result.indicators or [])
    bars = []
    for r in rows:
        ty = r.reference_year
        if ty is None:
            continue
        target, value = r.targets[ty], r.value
        strict = is_strict((info or {}).get(r.code, {}).get("strict", False), ty)
        name = re.sub(r"^(Tỷ lệ|Tỷ suất) ", "", r.name)
        label = f"CT{tts[r.code]}. {name[:1].upper()}{name[1:]}"
        label = label if len(label) <= 86 else label[:84].rstrip() + "…"
        bar = {"label": label, "percent": None, "met": False, "undecided": False, "text": ""}
        if value is not None:
            if isinstance(target, dict):
                by = r.by_type or {}
                pairs = [(by[k]["value"], t) for k, t in target.items() if k in by and by[k].get("value") is not None]
                pct = min((_attainment(v, t, r.direction) for v, t in pairs), default=None)
                tt = "/".join(num_text(t) for t in target.values() if t is not None)
            else:
                pct, tt = _attainment(value, target, r.direction), num_text(target)
            shown = _compact(value, r)
            op = ("<" if strict else "≤") if r.direction == "at_most" else ""
            v = verdict_of(r, ty)
            now = r.years.get(str(year))
            mark = now.mark if now is not None else ""
            bar.update(percent=pct, met=v == Verdict.MET, undecided=v == Verdict.UNDECIDED,
                       text=f"{shown}{mark} (mục tiêu {op}{tt})")
        bars.append(bar)
    return bars


def _attainment(v: float, t: float, direction: str) -> float:
    if direction == "at_least":
        return 100.0 if t == 0 else v / t * 100
    return 150.0 if v <= 0 else t / v * 100


def trend_series(result: MergeResult, codes: list[str] | tuple[str, ...], baseline_year: int) -> tuple[list[dict], list[int]]:
    year = int(result.year)
    years = list(range(baseline_year, year + 1))
    tts = tt_labels(result.indicators or [])
    by_code = {r.code: r for r in result.indicators or []}
    series = []
    for c in codes:
        r = by_code.get(c)
        if r is None:
            continue
        figures = {int(y): f for y, f in (r.years or {}).items()}
        targets = {y: t for y, t in (r.targets or {}).items() if isinstance(t, (int, float))}
        series.append({"title": f"CT{tts[c]}. {r.name}", "unit": table_unit(r),
                       "values": {y: f.value for y, f in figures.items()},
                       "labels": {y: figure_text(r, f.value) + f.mark for y, f in figures.items() if f.value is not None},
                       "marks": {y: f.mark.strip() for y, f in figures.items() if f.mark},
                       "targets": targets, "breaks": [int(y) for y in r.series_breaks or []]})
    return series, years


def write_charts(ws, result: MergeResult) -> dict:
    """Draw the year's charts (PNG, where the layout puts them); a chart with nothing to show
    is skipped."""
    from pipeline.reporting import charts

    files = ws.layout(int(result.year))
    info = {r.code: indicator_info(ws.catalogue, r.code) for r in result.indicators or []}
    out: dict[str, Path | None] = {"targets": None, "trend": None}
    bars = attainment_bars(result, info)
    if any(b["percent"] is not None for b in bars):
        out["targets"] = atomic_write(files.target_chart, charts.attainment_chart(bars))
    codes = ((ws.settings.get("report") or {}).get("trend_indicators")) or TREND_INDICATORS
    series, years = trend_series(result, list(codes), ws.catalogue.baseline_year)
    if any(sum(v is not None for v in s["values"].values()) >= 2 for s in series):
        out["trend"] = atomic_write(files.trend_chart, charts.trend_chart(series, years))
    return out

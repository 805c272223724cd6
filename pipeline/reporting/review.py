"""The mid-term (2025) and final (2030) review: every year since the baseline against the
target of the review year, as Phụ lục IV and the body's sơ kết paragraph print it.

Each year's cell is that year's own figure as merge stored it (`IndicatorResult.years`): its
value, its source and its verdict against the review year's target, judged then from the exact
counts and the bounds. Nothing is judged again here: a cell is marked, never re-weighed."""

from __future__ import annotations

from pipeline.merge.result import OFFICE, SOURCE_MARK_NOTES, IndicatorResult, MergeResult, Verdict, YearFigure
from pipeline.reporting.words import (DASH, fall_text, figure_text, format_target, in_units, is_strict, lower_first,
                                      table_target, table_unit, table_value, target_words, year_source)

REVIEWS = {2025: ("sơ kết", "5 năm"), 2030: ("tổng kết", "10 năm")}
# The marks of a review cell beside the source marks (SOURCE_MARKS), explained in the note.
VERDICT_MARKS = {Verdict.NOT_MET: "*", Verdict.UNDECIDED: "?"}
NEW_SERIES = "‖ "


def review_context(result: MergeResult, tts: dict, info: dict, cat) -> dict | None:
    """Phụ lục IV and the sơ kết paragraph, or None outside a review year."""
    year = int(result.year)
    if year not in REVIEWS:
        return None
    kind, span = REVIEWS[year]
    ty = str(year)
    years = list(range(cat.baseline_year, year + 1))
    decimals = 2 if len(years) <= 6 else 1  # ten year columns leave room for one decimal
    rows = result.indicators or []
    out_rows, lines = [], []
    for g in sorted({r.goal for r in rows}):
        out_rows.append({"group": True, "text": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": ")})
        for r in (r for r in rows if r.goal == g):
            out_rows.append(_row(r, tts[r.code], info[r.code], years, decimals, ty))
            if (r.targets or {}).get(ty) is not None and r.verdict_for(ty) == Verdict.NOT_MET:
                lines.append(_line(r, tts[r.code], info[r.code], years, year))
    counts = result.verdict_counts(ty)
    title = f"{kind.capitalize()} {span} thực hiện Chương trình ({cat.baseline_year}-{year})"
    return {"kind": kind, "span": span, "start": cat.baseline_year, "end": year, "target_year": ty, "years": years,
            "rows": out_rows, "title": title, "summary": _summary(result, tts, counts, span, cat, lines),
            "lines": lines, "note": _note(rows, ty)}


def review_cell(r: IndicatorResult, fig: YearFigure | None, ty: str, decimals: int = 2) -> str:
    """One year's figure as the review prints it: the value apart from the targets, its source
    mark, the mark of its verdict against the review year's target as merge judged it ("*" not
    met, "?" not enough data to judge) and "‖" where a share of units starts a new series."""
    if fig is None or fig.value is None:
        return DASH
    cell = table_value(fig.value, r.kind, decimals, r.target_numbers) + fig.mark
    if (r.targets or {}).get(ty) is not None:
        cell += VERDICT_MARKS.get(fig.verdict_for(ty), "")
    return (NEW_SERIES if fig.new_series else "") + cell


def _row(r: IndicatorResult, tt: str, i: dict, years: list[int], decimals: int, ty: str) -> dict:
    target = (r.targets or {}).get(ty)
    cells = [review_cell(r, r.years.get(str(y)), ty, decimals) for y in years]
    return {"group": False, "tt": tt, "name": r.name, "unit": table_unit(r), "cells": cells,
            "target": table_target(target, r.kind, r.direction, i["strict"], i["yearly_fall"], ty)}


def _line(r: IndicatorResult, tt: str, i: dict, years: list[int], year: int) -> str:
    """The sentence on an indicator that misses the review year's target: where it started, where it is."""
    ty = str(year)
    target = r.targets[ty]
    # A share of units counts other units after a series break: start there.
    start = max((int(y) for y in r.series_breaks or [] if int(y) <= year), default=years[0])
    first = next((r.years[str(y)] for y in years
                  if y >= start and r.years.get(str(y)) is not None and r.years[str(y)].value is not None), None)

    def said(fig: YearFigure) -> str:
        value = (table_value(fig.value, r.kind).lower() + "%" if r.kind == "yoy_change"
                 else in_units(r, figure_text(r, fig.value)))
        source = year_source(fig) if fig.source == OFFICE or fig.provisional else ""
        return f"{value} (năm {fig.year}" + (f", {source}" if source else "") + ")"

    since = f"từ {said(first)} đến " if first and first.year != year else ""
    tw = (fall_text(i["yearly_fall"], target) if r.kind == "yoy_change" else
          format_target(target, r.kind, r.unit, r.direction, is_strict(i["strict"], ty))
          if not isinstance(target, dict) else target_words(target, r.kind, r.unit,
                                                              r.direction, is_strict(i["strict"], ty)))
    now = r.years.get(ty)
    return f"Chỉ tiêu {tt} ({lower_first(r.name)}): {since}{said(now)}, chưa đạt mục tiêu ({tw})."


def _summary(result: MergeResult, tts: dict, counts, span: str, cat, lines: list[str]) -> str:
    """The review's count of indicators met and missed (merge's verdicts against the review
    year's targets, provisional ones counted), and the series that start anew after a break."""
    year = int(result.year)
    provisional = counts.provisional
    met_provisional = [c for c in provisional if c in counts.met]
    summary = (f"Qua {span} thực hiện Chương trình ({cat.baseline_year}-{year}), so với mục tiêu năm {year}: "
               f"đạt {len(counts.met)}/{counts.judged} nội dung chỉ tiêu"
               + (f" ({len(met_provisional)} tạm tính)" if met_provisional else "")
               + f", chưa đạt {len(counts.not_met)}"
               + (f" ({len(provisional) - len(met_provisional)} tạm tính)" if len(provisional) > len(met_provisional)
                  else "")
               + (f", chưa đủ số liệu để đánh giá {len(counts.undecided)}" if counts.undecided else "")
               + (f", chưa áp dụng mục tiêu {len(counts.not_yet)}" if counts.not_yet else "")
               + f", chưa có số liệu {len(counts.no_data)}.")
    if provisional:
        summary += (f" Các đánh giá tạm tính dựa trên số liệu của các xã đã báo cáo năm {year} (ghi «(t)» tại "
                    f"Phụ lục IV).")
    rows = result.indicators or []
    broken = sorted({tts[r.code] for r in rows if any(int(y) <= year for y in r.series_breaks or [])}, key=_tt_key)
    if broken:
        first = min(int(y) for r in rows for y in r.series_breaks or [])
        summary += (f" Chỉ tiêu {', '.join(broken)} (tỷ lệ xã đạt tiêu chí): từ năm {first} tính "
                    f"trên các đơn vị sau sắp xếp, là chuỗi số liệu mới, không so sánh với các năm trước.")
    if lines:
        summary += " Các chỉ tiêu chưa đạt:"
    return summary


def _note(rows: list[IndicatorResult], ty: str) -> str:
    """The table's note: every mark the cells carry."""
    marks = [f"«–» là năm chưa có số liệu tổng hợp", f"dấu * là chưa đạt mục tiêu năm {ty}"]
    cells = [f for r in rows for f in r.years.values()]
    if any(f.verdict_for(ty) == Verdict.UNDECIDED for f in cells):
        marks.append("dấu ? là chưa đủ số liệu để đánh giá (các xã chưa báo cáo có thể làm thay đổi kết quả)")
    if any(f.mark == " (p)" for f in cells):
        marks.append(SOURCE_MARK_NOTES["office"])
    if any(f.mark == " (t)" for f in cells):
        marks.append(SOURCE_MARK_NOTES["provisional"])
    if any(f.new_series for f in cells):
        marks.append("«‖» trước số liệu: từ năm đó tính trên các xã sau sắp xếp đơn vị hành chính, là chuỗi số "
                     "liệu mới, không so sánh với các năm trước")
    return "Ghi chú: " + "; ".join(marks) + ". Số liệu mỗi năm là số báo cáo năm đó đã dùng."


def _tt_key(tt: str) -> tuple:
    digits = "".join(ch for ch in tt if ch.isdigit())
    return int(digits or 0), tt

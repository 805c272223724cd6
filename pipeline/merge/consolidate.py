"""The consolidated workbook the officer reads and forwards, and the long-format CSV for
other systems (DHIS2-style: one value per data element, period and organisation unit).

Every string from a unit is written with write_string (never a formula or link); the CSV
neutralises text that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from pipeline.config.roster import communes_word, roster_words
from pipeline.merge.result import (OFFICE, SOURCE_MARK_NOTES, SOURCE_MARKS, IndicatorResult, MergeResult, Verdict,
                                   YearFigure)
from pipeline.base.outputs import write_output
from pipeline.base.printing import set_print, wrapped_height
from pipeline.base.text import vn_number_apart

GREEN, RED, GREY, YELLOW = "#C6EFCE", "#FFC7CE", "#EDEDED", "#FFEB9C"
STATUS_COLOURS = {Verdict.MET: GREEN, Verdict.NOT_MET: RED, Verdict.UNDECIDED: YELLOW, Verdict.NO_DATA: GREY,
                  Verdict.NO_TARGET: "#FFFFFF", Verdict.NOT_YET: "#FFFFFF"}
# A mark beside the colour, so that a status survives a monochrome printer.
STATUS_MARKS = {Verdict.MET: "✓", Verdict.NOT_MET: "✗"}
RANK_LIMIT = 50
_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def write_consolidated(ws, result: MergeResult, path: Path) -> Path:
    year = result.year
    settings = ws.for_year(year).settings  # from 2025 on, the reorganised issuer and area
    area = settings.get("area") or "huyện"
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    wb.set_properties({"title": f"Tổng hợp kết quả thực hiện Chương trình hành động vì trẻ em năm {year}",
                       "author": settings["issuer"]})
    base = {"font_name": "Times New Roman", "font_size": 11, "valign": "top", "border": 1, "text_wrap": True}
    f = {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_name": "Times New Roman"}),
        "note": wb.add_format({"italic": True, "font_name": "Times New Roman"}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center", "valign": "vcenter"}),
        "cell": wb.add_format(base),
        "num": _number_formats(wb, base),
        "group": wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"}),
        "total": _number_formats(wb, {**base, "bold": True}),
    }
    status = {k.value: wb.add_format({**base, "bg_color": v, "align": "center"}) for k, v in STATUS_COLOURS.items()}
    unit_fmt = {k.value: _number_formats(wb, {**base, "bg_color": v}, STATUS_MARKS.get(k, ""))
                for k, v in STATUS_COLOURS.items()}
    # A unit's value that misses its target by less than the shown digits gets more of them.
    unit_fmt["apart"] = {(k.value, d): wb.add_format({**base, "bg_color": v, "num_format": "#,##0." + "0" * d
                                                     + (f' "{STATUS_MARKS[k]}"' if k in STATUS_MARKS else "")})
                         for k, v in STATUS_COLOURS.items() for d in range(3, 7)}
    f["shown"] = _shown_formats(wb, base)
    # A year's figure in Xu hướng with its source mark after it, the number staying a number.
    f["marked"] = {(num, mark): wb.add_format({**base, "num_format": num + (f' "{mark.strip()}"' if mark else "")})
                   for num in ["#,##0", "#,##0.0#"] + ["#,##0." + "0" * d for d in range(3, 7)]
                   for mark in ("", SOURCE_MARKS[OFFICE], SOURCE_MARKS["provisional"])}

    cat = ws.catalogue
    targets = {r.code: {y: cat.indicator(r.code).target_text(y) for y in ("2025", "2030")}
               for r in result.indicators}
    _summary(wb, f, status, result, targets)
    for goal, goal_name in sorted(cat.goals.items()):
        _goal_sheet(wb, f, unit_fmt, result, goal, goal_name, area)
    _trend_sheet(wb, f, result, cat.baseline_year, area, targets)
    _ranking_sheet(wb, f, result)
    _budget_sheet(wb, f, result, ws.catalogue)
    _coverage_sheet(wb, f, result)
    wb.close()
    return write_output(ws, year, path, buf.getvalue()).path


def _number_formats(wb, props: dict, mark: str = "") -> tuple:
    """A whole-number and a decimal variant of one cell format: "#,##0.##" alone would show a
    whole 30 as "30," in Vietnamese Excel. A mark (✓, ✗) is shown after the number."""
    after = f' "{mark}"' if mark else ""
    return (wb.add_format({**props, "num_format": "#,##0" + after}),
            wb.add_format({**props, "num_format": "#,##0.0#" + after}))


def _marked(verdict: Verdict) -> str:
    """A verdict as a word and a mark: "Đạt ✓", "Chưa đạt ✗"."""
    return f"{verdict.label} {STATUS_MARKS[verdict]}" if verdict in STATUS_MARKS else verdict.label


def _shown_formats(wb, props: dict) -> dict[int, object]:
    """A format per number of decimals, for a value shown beside its target."""
    return {d: wb.add_format({**props, "num_format": "#,##0" + ("." + "0" * d if d else "")}) for d in range(7)}


def _decimals_apart(v, target) -> int | None:
    """The decimals (more than 2) at which `v` no longer reads as equal to `target` (one number
    or several) when it differs (99,49652 beside 99,5: "99,497"), or None when two decimals are
    enough."""
    s = vn_number_apart(v, target)
    d = len(s.split(",")[1]) if "," in s else 0
    return d if d > 2 else None


def _beside(f, v, targets, fmt=None):
    """The format of an indicator's figure shown beside its targets (the one rule of
    pipeline.base.text.decimals_apart): two decimals, more when fewer would make it read as
    one of them (91,9976 beside 92: "91,998", never "92,0")."""
    d = _decimals_apart(v, targets) if isinstance(v, float) and targets else None
    return f["shown"][d] if d else (fmt or f["num"])


def _with_source(f, v, r: IndicatorResult, fig: YearFigure | None):
    """A year's figure apart from its targets, its source mark after it ("91,998 (p)")."""
    d = _decimals_apart(v, r.target_numbers) if isinstance(v, float) else None
    num = ("#,##0." + "0" * d) if d else "#,##0" if isinstance(v, (int, float)) and float(v).is_integer() else "#,##0.0#"
    return f["marked"][(num, fig.mark if fig else "")]


def _year_figures(r: IndicatorResult) -> tuple[YearFigure | None, YearFigure | None]:
    return r.previous, r.years.get(str(r.year))


def _pick(fmt, v):
    """The variant of a pair of number formats that suits the value."""
    if not isinstance(fmt, tuple):
        return fmt
    return fmt[0] if isinstance(v, (int, float)) and float(v).is_integer() else fmt[1]


def _write(sheet, r, c, v, fmt):
    fmt = _pick(fmt, v)
    if v is None or v == "":
        sheet.write_blank(r, c, None, fmt)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        sheet.write_number(r, c, v, fmt)
    else:
        sheet.write_string(r, c, str(v), fmt)


def _summary(wb, f, status, result, targets: dict) -> None:
    year = result.year
    sh = wb.add_worksheet("Tổng hợp")
    sh.write_string(0, 0, f"KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU VỀ TRẺ EM NĂM {year}", f["title"])
    cov = result.coverage
    cw = communes_word(result.unit_types.values())
    sh.write_string(1, 0, f"Số liệu của {cov['communes_reported']}/{cov['communes_expected']} {cw} đã gửi "
                          f"báo cáo hợp lệ. Tỷ lệ = tổng tử số ÷ tổng mẫu số của các đơn vị có báo cáo. Mỗi số ghi "
                          f"nguồn ở cột bên cạnh: tổng hợp từ các {cw}, tạm tính trên các {cw} đã báo cáo, hoặc số "
                          f"của phòng chủ trì." + _imported_note(result), f["note"])
    heads = ["TT", "Chỉ tiêu", "Nội dung", "ĐVT", "Mục tiêu 2025", "Mục tiêu 2030", f"Năm {year - 1}",
             f"Nguồn năm {year - 1}", f"Năm {year}", f"Nguồn năm {year}", "Tử số", "Mẫu số", f"Số {cw} báo cáo",
             "Đánh giá 2025", "Đánh giá 2030", "Lộ trình", "Ghi chú"]
    widths = [5, 9, 55, 10, 13, 13, 10, 18, 10, 18, 11, 11, 11, 13, 13, 16, 40]
    for c, (h, w) in enumerate(zip(heads, widths)):
        sh.write_string(3, c, h, f["head"])
        sh.set_column(c, c, w)
    for n, r in enumerate(result.indicators, start=1):
        row = 3 + n
        before, now = _year_figures(r)
        notes, track = _summary_notes(r, cw), _track_text(r)
        values = [n, f"CT{r.chi_tieu}", roster_words(r.name, result.unit_types.values()), r.unit,
                  targets[r.code]["2025"], targets[r.code]["2030"], before.value if before else None,
                  before.source_label if before else "", r.value, now.source_label if now else "", r.numerator,
                  r.denominator, f"{r.units_reported}/{r.units_expected}"]
        for c, v in enumerate(values):
            fmt = f["num"] if isinstance(v, float) else f["cell"]
            _write(sh, row, c, v, _beside(f, v, r.target_numbers, fmt) if c in (6, 8) else fmt)
        for c, y in ((13, "2025"), (14, "2030")):
            v = r.verdict_for(y)
            sh.write_string(row, c, _marked(v), status[v.value])
        sh.write_string(row, 15, track, f["cell"])
        sh.write_string(row, 16, "; ".join(notes), f["cell"])
        sh.set_row(row, wrapped_height([(r.name, 55), ("; ".join(notes), 40), (track, 16),
                                        (targets[r.code]["2025"], 13), (targets[r.code]["2030"], 13),
                                        (values[7], 18), (values[9], 18)]))
    sh.freeze_panes(4, 3)
    sh.autofilter(3, 0, 3 + len(result.indicators), len(heads) - 1)
    sh.set_row(3, wrapped_height(zip(heads, widths)))
    set_print(sh, widths, (3, 3))


def _track_text(r: IndicatorResult) -> str:
    """The path's verdict; across a series break the path is not judged, and says why."""
    track = next((t["label"] for t in (r.track.get("2025"), r.track.get("2030")) if t), "")
    breaks = [int(y) for y in r.series_breaks or [] if int(y) <= r.year]
    if not track and breaks:
        return f"Không đánh giá: chuỗi số liệu mới từ năm {max(breaks)}"
    return track


def _summary_notes(r: IndicatorResult, cw: str) -> list[str]:
    """The row's notes: coverage, bounds, the other source's figure, each figure apart from the
    targets it stands beside."""
    notes = []
    targets = r.target_numbers
    if r.partial:
        notes.append(f"Chưa đủ: thiếu {len(r.missing_units)} {cw}")
    if r.bounds:
        b = r.bounds
        notes.append(f"{b.missing} {cw} chưa có báo cáo hợp lệ: tỷ lệ từ {vn_number_apart(b.low, targets)}% đến "
                     f"{vn_number_apart(b.high, targets)}%")
    off = r.office
    if r.source == OFFICE and r.communes_value is not None and r.kind != "yoy_change":
        notes.append(f"Tổng hợp từ {r.units_reported} {cw}: {vn_number_apart(r.communes_value, targets)} {r.unit}")
    elif off and off.value is not None and (off.differs or r.partial) and r.kind != "yoy_change":
        notes.append(f"{r.lead_office_name} báo {vn_number_apart(off.value, targets)} {r.unit}"
                     + (f", lệch so với tổng các {cw}" if off.differs else ""))
    before, now = _year_figures(r)
    if before and now and before.value is not None and now.value is not None and before.source != now.source:
        notes.append(f"Năm {before.year} và năm {now.year} khác nguồn số liệu")
    if r.comparison and r.comparison.series_break:
        notes.append(f"Năm {r.year - 1} tính trên các đơn vị trước sắp xếp: chuỗi số liệu mới, không so sánh")
    return notes


def _imported_note(result: MergeResult) -> str:
    """Figures typed in from earlier records (treem import-history) rather than sent on a form."""
    if not result.imported_units:
        return ""
    names = ", ".join(result.unit_names.get(u, u) for u in result.imported_units)
    return (f" Số liệu của {len(result.imported_units)} đơn vị được nhập từ số liệu lịch sử (treem import-history), "
            f"không qua biểu mẫu: {names}.")


def _goal_sheet(wb, f, unit_fmt, result, goal: int, goal_name: str, area: str) -> None:
    inds = [r for r in result.indicators if r.goal == goal]
    sh = wb.add_worksheet(f"Mục tiêu {goal}")
    sh.write_string(0, 0, f"Mục tiêu {goal}: {goal_name} - số liệu từng đơn vị năm {result.year}", f["title"])
    sh.write_string(1, 0, "✓ (nền xanh) = đạt mục tiêu 2025 của đơn vị, ✗ (nền đỏ) = chưa đạt.", f["note"])
    heads = ["Mã", "Đơn vị", "Loại"] + [f"CT{r.chi_tieu} {r.code} ({r.unit})" for r in inds]
    for c, h in enumerate(heads):
        sh.write_string(3, c, h, f["head"])
    sh.set_column(0, 0, 9)
    sh.set_column(1, 1, 30)
    sh.set_column(2, 2, 9)
    sh.set_column(3, 2 + len(inds), 13)
    sh.set_row(3, 45)
    units = [u for u, t in result.unit_types.items() if t in ("xa", "thi_tran")]
    row = 4
    for u in units:
        vals = result.units.get(u, {})
        st = result.unit_verdicts.get(u, {})
        sh.write_string(row, 0, u, f["cell"])
        sh.write_string(row, 1, result.unit_names.get(u, u), f["cell"])
        sh.write_string(row, 2, "Thị trấn" if result.unit_types[u] == "thi_tran" else "Xã", f["cell"])
        for c, r in enumerate(inds, start=3):
            code = st.get(r.code, {}).get("2025", Verdict.NO_DATA).value
            v, t = vals.get(r.code), r.targets["2025"]
            t = t.get(result.unit_areas.get(u, result.unit_types[u])) if isinstance(t, dict) else t
            d = _decimals_apart(v, t) if isinstance(v, float) and isinstance(t, (int, float)) else None
            _write(sh, row, c, v, unit_fmt["apart"][(code, d)] if d else unit_fmt.get(code, f["num"]))
        row += 1
    sh.write_string(row, 1, f"Toàn {area}", f["group"])
    sh.write_blank(row, 0, None, f["group"])
    sh.write_blank(row, 2, None, f["group"])
    for c, r in enumerate(inds, start=3):
        _write(sh, row, c, r.value, _beside(f, r.value, r.target_numbers, f["total"]))
    sh.write_string(row + 1, 1, "Nguồn số liệu toàn " + area, f["cell"])
    for c, r in enumerate(inds, start=3):
        now = r.years.get(str(r.year))
        sh.write_string(row + 1, c, now.source_label if now else "", f["cell"])
    sh.set_row(row + 1, 45)
    sh.freeze_panes(4, 2)
    sh.autofilter(3, 0, row - 1, len(heads) - 1)
    set_print(sh, [9, 30, 9] + [13] * len(inds), (3, 3))


def _trend_sheet(wb, f, result, baseline_year: int, area: str, targets: dict) -> None:
    """District values by year beside the target lines, each year's with its source (the year's
    own report's figure), and one native line chart per indicator."""
    year = result.year
    years = list(range(baseline_year, max(year, 2030) + 1))
    sh = wb.add_worksheet("Xu hướng")
    sh.write_string(0, 0, f"Giá trị toàn {area} qua các năm so với mục tiêu", f["title"])
    marks = {f.mark for r in result.indicators for f in r.years.values() if f.value is not None and f.mark}
    said = [note for key, note in SOURCE_MARK_NOTES.items() if SOURCE_MARKS[key] in marks]
    sh.write_string(1, 0, "Mỗi năm là số báo cáo năm đó đã dùng" + (
        ", sau số là nguồn: không đánh dấu là tổng hợp từ các xã; " + "; ".join(said) if said else "") + ".",
        f["note"])
    sh.write_string(2, 0, "Chỉ tiêu", f["head"])
    sh.write_string(2, 1, "Dòng", f["head"])
    for c, y in enumerate(years, start=2):
        sh.write_number(2, c, y, f["head"])
    sh.set_column(0, 0, 40)
    sh.set_column(1, 1, 18)
    row = 3
    for n, r in enumerate(result.indicators):
        lines, labels = _trend_lines(r, years, targets[r.code])
        first = row
        name = f"CT{r.chi_tieu} {roster_words(r.name, result.unit_types.values())}"
        for label, vals in lines:
            sh.write_string(row, 0, name, f["cell"])
            sh.set_row(row, wrapped_height([(name, 40), (label, 18)]))
            sh.write_string(row, 1, label, f["cell"])
            actual = label.startswith("Thực hiện")
            for c, (y, v) in enumerate(zip(years, vals), start=2):
                _write(sh, row, c, v, _with_source(f, v, r, r.years.get(str(y))) if actual else f["num"])
            row += 1
        sh.insert_chart(xl_rowcol_to_cell(3 + (n // 2) * 15, 4 + len(years) + (n % 2) * 9),
                        _trend_chart(wb, r, first, lines, labels, years))
    sh.freeze_panes(3, 2)
    # On paper, the table; the charts beside it are for the screen (the report prints them).
    sh.print_area(0, 0, row - 1, 1 + len(years))
    set_print(sh, [40, 18] + [9] * len(years), (2, 2))


def _trend_lines(r: IndicatorResult, years: list[int], targets: dict) -> tuple[list, list]:
    """The rows of one indicator: its values (two rows across a series break, never one joined
    line) and its target lines named as the plan writes them; and each value row's point labels
    with their source marks."""
    breaks = r.series_breaks or []
    cuts = [years[0]] + [b for b in breaks if years[0] < b <= years[-1]] + [years[-1] + 1]
    lines, labels = [], []
    for a, b in zip(cuts, cuts[1:]):
        figs = [r.years.get(str(y)) if a <= y < b else None for y in years]
        lines.append(("Thực hiện" if len(cuts) == 2 else f"Thực hiện {a}-{b - 1}",
                      [fg.value if fg else None for fg in figs]))
        labels.append([{"value": vn_number_apart(fg.value, r.target_numbers) + fg.mark}
                       if fg and fg.value is not None else {"delete": True} for fg in figs])
    for ty in ("2025", "2030"):
        t = r.targets[ty]
        if isinstance(t, (int, float)):
            lines.append((f"Mục tiêu {ty} ({targets[ty][:1].lower()}{targets[ty][1:]})", [t] * len(years)))
    return lines, labels


def _trend_chart(wb, r: IndicatorResult, first: int, lines: list, labels: list, years: list[int]):
    chart = wb.add_chart({"type": "line"})
    for i, (label, _) in enumerate(lines):
        actual = label.startswith("Thực hiện")
        chart.add_series({
            "name": ["Xu hướng", first + i, 1], "categories": ["Xu hướng", 2, 2, 2, 1 + len(years)],
            "values": ["Xu hướng", first + i, 2, first + i, 1 + len(years)],
            # Grey-safe: each line has its own marker and dash, and the actual values carry labels
            # with their source marks.
            "marker": ({"type": "circle", "size": 6} if actual
                       else {"type": "square" if "2025" in label else "triangle", "size": 4}),
            **({"data_labels": {"value": True, "position": "above", "font": {"size": 7}, "custom": labels[i]}}
               if actual else {}),
            "line": {"width": 2.25} if actual else {"dash_type": "dash", "width": 1.25},
        })
    chart.set_title({"name": f"CT{r.chi_tieu} ({r.code}): {r.name}"[:120], "name_font": {"size": 10, "bold": True}})
    chart.set_y_axis({"name": r.unit})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 520, "height": 280})
    return chart


def _ranking_sheet(wb, f, result) -> None:
    """Units ranked on each indicator (best first), with a bar chart each; a very large roster
    shows its top and bottom units."""
    sh = wb.add_worksheet("Xếp hạng")
    sh.write_string(0, 0, "Xếp hạng các đơn vị theo từng chỉ tiêu (đơn vị tốt nhất ở đầu)", f["title"])
    col = 0
    charted = 0
    breaks: list[int] = []
    for r in result.indicators:
        per = [(u, v[r.code]) for u, v in result.units.items() if r.code in v]
        if len(per) < 2 or r.kind == "share_of_communes":
            continue
        per.sort(key=lambda kv: kv[1], reverse=r.direction == "at_least")
        if len(per) > RANK_LIMIT:
            per = per[:RANK_LIMIT // 2] + per[-RANK_LIMIT // 2:]
        sh.write_string(2, col, f"CT{r.chi_tieu} {r.code}", f["head"])
        sh.write_string(2, col + 1, r.unit, f["head"])
        sh.set_column(col, col, 26)
        sh.set_column(col + 1, col + 1, 9)
        for i, (u, v) in enumerate(per, start=3):
            sh.write_string(i, col, result.unit_names.get(u, u), f["cell"])
            sh.write_number(i, col + 1, v, _pick(f["num"], v))
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": r.name[:80], "categories": ["Xếp hạng", 3, col, 2 + len(per), col],
                          "values": ["Xếp hạng", 3, col + 1, 2 + len(per), col + 1], "fill": {"color": "#4472C4"}})
        chart.set_title({"name": f"CT{r.chi_tieu} ({r.code}) {r.unit}", "name_font": {"size": 10}})
        chart.set_y_axis({"reverse": True, "num_font": {"size": 8}})
        chart.set_legend({"none": True})
        chart.set_size({"width": 420, "height": max(240, 14 * len(per))})
        charts_row = 3 + RANK_LIMIT + 3 + (charted // 3) * max(18, len(per))
        sh.insert_chart(charts_row, (charted % 3) * 6, chart)
        if charted % 6 == 0 and charted:
            breaks.append(charts_row)  # two rows of charts a page, none cut in half
        charted += 1
        col += 3
    if charted:
        # On paper, the charts (each shows its ranking); the tables above are for sorting on screen.
        first = 3 + RANK_LIMIT + 3
        last = charts_row + max(18, len(per), (max(240, 14 * len(per)) + 19) // 20)
        sh.print_area(first, 0, last, 17)
        sh.set_h_pagebreaks(breaks)
        set_print(sh, [26, 9, 8.43] * 6)
    else:
        set_print(sh, [26, 9, 8.43] * max(1, col // 3), (2, 2))


def _budget_sheet(wb, f, result, catalogue) -> None:
    b = result.budget
    sources = catalogue.budget_sources
    sh = wb.add_worksheet("Kinh phí")
    sh.write_string(0, 0, f"KINH PHÍ THỰC HIỆN CHƯƠNG TRÌNH NĂM {result.year} (triệu đồng)", f["title"])
    sh.write_string(1, 0, "Dành cho Phòng Tài chính - Kế hoạch: dự toán và thực hiện theo đơn vị và theo nguồn.", f["note"])
    sh.write_string(3, 0, "Mã", f["head"])
    sh.write_string(3, 1, "Đơn vị", f["head"])
    sh.set_column(0, 0, 10)
    sh.set_column(1, 1, 34)
    for i, s in enumerate(sources):
        sh.merge_range(2, 2 + 2 * i, 2, 3 + 2 * i, s["name"], f["head"])
        sh.write_string(3, 2 + 2 * i, "Dự toán", f["head"])
        sh.write_string(3, 3 + 2 * i, "Thực hiện", f["head"])
    last = 2 + 2 * len(sources)
    sh.write_string(3, last, "Tổng dự toán", f["head"])
    sh.write_string(3, last + 1, "Tổng thực hiện", f["head"])
    sh.set_column(2, last + 1, 13)
    row = 4
    for u, by_src in b["by_unit"].items():
        sh.write_string(row, 0, u, f["cell"])
        sh.write_string(row, 1, result.unit_names.get(u, u), f["cell"])
        for i, s in enumerate(sources):
            v = by_src.get(s["code"], {})
            _write(sh, row, 2 + 2 * i, v.get("planned"), f["num"])
            _write(sh, row, 3 + 2 * i, v.get("spent"), f["num"])
        planned = "+".join(xl_rowcol_to_cell(row, 2 + 2 * i) for i in range(len(sources)))
        spent = "+".join(xl_rowcol_to_cell(row, 3 + 2 * i) for i in range(len(sources)))
        for c, cells, part in ((last, planned, "planned"), (last + 1, spent, "spent")):
            cached = sum((by_src.get(s["code"], {}).get(part) or 0) for s in sources)
            sh.write_formula(row, c, f"=N({cells.replace('+', ')+N(')})", _pick(f["num"], cached), cached)
        row += 1
    sh.write_string(row, 1, "Tổng cộng", f["group"])
    sh.write_blank(row, 0, None, f["group"])
    for c in range(2, last + 2):
        top, bottom = xl_rowcol_to_cell(4, c), xl_rowcol_to_cell(max(row - 1, 4), c)
        cached = (b["by_source"][sources[(c - 2) // 2]["code"]]["planned" if c % 2 == 0 else "spent"]
                  if c < last else b["total"]["planned" if c == last else "spent"])
        sh.write_formula(row, c, f"=SUM({top}:{bottom})", _pick(f["total"], cached), cached)
    sh.freeze_panes(4, 2)
    sh.set_row(2, wrapped_height((s["name"], 26) for s in sources))
    set_print(sh, [10, 34] + [13] * last, (2, 3))


def _coverage_sheet(wb, f, result) -> None:
    sh = wb.add_worksheet("Độ bao phủ")
    sh.write_string(0, 0, "Số đơn vị báo cáo từng chỉ tiêu và các đơn vị còn thiếu", f["title"])
    heads = ["Chỉ tiêu", "Nội dung", "Đã báo cáo", "Phải báo cáo", "Đơn vị chưa có số liệu"]
    for c, (h, w) in enumerate(zip(heads, (10, 55, 11, 11, 80))):
        sh.write_string(2, c, h, f["head"])
        sh.set_column(c, c, w)
    for i, r in enumerate(result.indicators, start=3):
        missing = ", ".join(result.unit_names.get(u, u) for u in r.missing_units)
        for c, v in enumerate([f"CT{r.chi_tieu} {r.code}", r.name, r.units_reported,
                               r.units_expected, missing]):
            _write(sh, i, c, v, f["cell"])
        sh.set_row(i, wrapped_height([(r.name, 55), (missing, 80)]))
    sh.freeze_panes(3, 0)
    set_print(sh, (10, 55, 11, 11, 80), (2, 2))


def csv_safe(value) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab/CR) gets a
    leading apostrophe. Numbers are written as numbers."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(round(value, 6)) if isinstance(value, float) else str(value)
    s = str(value)
    return "'" + s if s.startswith(_CSV_RISKY) else s


def write_long_csv(ws, result: MergeResult, path: Path) -> Path:
    """dataelement, period, orgunit, value, numerator, denominator, comment, source: the district
    row (orgunit = the district's code; source "communes" or "office", whose figure it is, the
    other one said in the comment), the lead office's own figure where it gave one (orgunit =
    the office, source "office"), and one row per unit and indicator (source "unit")."""
    district = str(ws.settings.get("district_code") or "district")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["dataelement", "period", "orgunit", "value", "numerator", "denominator", "comment", "source"])
    period = str(result.year)
    for r in result.indicators:
        comment = [f"chưa đủ đơn vị ({r.units_reported}/{r.units_expected})"] if r.partial else []
        if r.source == OFFICE and r.communes_value is not None:
            comment.append(f"số của {r.lead_office_name}; tổng các xã {csv_safe(r.communes_value)}")
        w.writerow([csv_safe(x) for x in (r.code, period, district, r.value, r.numerator, r.denominator,
                                          "; ".join(comment), r.source)])
        off = r.office
        if off is not None and off.value is not None:
            w.writerow([csv_safe(x) for x in (r.code, period, off.unit, off.value, off.numerator, off.denominator,
                                              f"số {r.lead_office_name} báo cáo cho toàn địa bàn", OFFICE)])
    counts = result.unit_counts
    imported = set(result.imported_units)
    for u, vals in result.units.items():
        comment = "nhập từ số liệu lịch sử" if u in imported else ""
        for code, v in vals.items():
            num, den = counts.get(u, {}).get(code, (None, None))
            w.writerow([csv_safe(x) for x in (code, period, u, v, num, den, comment, "unit")])
    return write_output(ws, result.year, path, buf.getvalue().encode("utf-8-sig")).path

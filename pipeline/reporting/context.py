"""The template's context: plain strings, numbers and lists of dicts, built in one pure
function (`build_context`) from the merge result."""

from __future__ import annotations

import re
from datetime import date as Date

from pipeline.config.catalogue import COMMUNE_TYPES
from pipeline.merge.result import IndicatorResult, MergeResult, Verdict
from pipeline.merge.merger import judge, reference_year
from pipeline.reporting.quality import names_text, quality_context
from pipeline.reporting.words import (DASH, NO_DATA, fall_text, indicator_info, lower_first, num_text, is_strict,
                                      target_words, tt_labels, date_text, default_reference_year, format_target,
                                      format_value, phrase_indicator, table_target, table_unit, table_value,
                                      verdict_of)

REVIEWS = {2025: ("sơ kết", "5 năm"), 2030: ("tổng kết", "10 năm")}
UNIT_TABLE_LIMIT = 300
# The template's narrative sections -> the catalogue's narrative field the offices write each in.
NARRATIVES = {"direction": "narr_direction", "communication": "narr_communication",
              "results_narratives": "narr_results", "limitations": "narr_limitations",
              "next_year_plans": "narr_next_year", "recommendations": "narr_recommendations"}

# --- the context -----------------------------------------------------------------------------
def communes_word(unit_types: dict) -> str:
    types = set(unit_types.values())
    return "xã, thị trấn" if "thi_tran" in types or not types else "xã"


def _offices_part(cov: dict) -> str:
    """" và 9/11 phòng, ban, ngành, đoàn thể", or nothing where the roster has no office (from 2025)."""
    expected = cov.get("expected", 0) - cov.get("communes_expected", 0)
    if expected <= 0:
        return ""
    return f" và {cov.get('reported', 0) - cov.get('communes_reported', 0)}/{expected} phòng, ban, ngành, đoàn thể"


def _paragraphs(text: str) -> list[str]:
    lines = [ln.strip() for ln in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return [ln for ln in lines if ln]


def _narratives(result: MergeResult, field: str) -> list[dict]:
    out = []
    for n in result.narratives or []:
        if n.get("field") != field:
            continue
        paras = _paragraphs(n.get("text", ""))
        if not paras:
            continue
        first = re.sub(r"^[-+•]\s+", "", paras[0])
        out.append({"unit": n.get("unit_name") or n.get("unit", ""), "first": first, "rest": paras[1:]})
    return out


def _status_label(row: IndicatorResult, ty: str | None) -> str:
    """The verdict's label for a table; a verdict on fewer than all communes is "(tạm tính)"."""
    v = verdict_of(row, ty)
    return v.label + (" (tạm tính)" if row.provisional and v.judged else "")


def _count_of(fields: dict | None, result: MergeResult, field: str | None) -> float | None:
    if not fields or not field:
        return None
    communes = {u for u, t in (result.unit_types or {}).items() if t in COMMUNE_TYPES}
    nums = [v.get(field) for u, v in fields.items() if u in communes]
    nums = [x for x in nums if isinstance(x, (int, float))]
    return sum(nums) if nums else None


def build_context(ws, result: MergeResult, *, date: Date | None = None, quality: dict | None = None,
                  fields: dict | None = None, charts: dict | None = None) -> dict:
    """Everything the template asks for, as plain strings, numbers and lists of dicts.

    Pure: reads only what is passed (the workspace's settings and catalogue, the merge
    result, the data-quality summary from `data_quality`, the year's unit fields from the
    store and the chart file paths)."""
    s, cat = ws.settings, ws.catalogue
    year = int(result.year)
    rows = result.indicators or []
    unit_types = result.unit_types or {}
    cw = communes_word(unit_types)
    area = s.get("area") or "huyện"
    tts = tt_labels(rows)
    info = {r.code: indicator_info(cat, r.code) for r in rows}
    cov = result.coverage or {}
    phrases = _phrases(result, rows, info, fields, cw, area)
    verdicts = _by_verdict(rows, year)
    not_met, no_data = verdicts[Verdict.NOT_MET], verdicts[Verdict.NO_DATA]

    ctx = {
        **_document_context(s, cat, year, date),
        "communes_word": cw,
        "area": area,
        "units_text": _units_text(unit_types),
        "population": _population(result, cat),
        "population_note": _population_note(result, cw),
        **{key: _narratives(result, field) for key, field in NARRATIVES.items()},
        "results_intro": _results_intro(cov, cw, area),
        "results_summary": _results_summary(rows, verdicts, cw),
        "goals": _goals(rows, phrases, cat),
        "shortfalls": _shortfalls(not_met, no_data, quality),
        "shortfall_lines": _shortfall_lines(not_met, no_data, tts, info, year),
        "budget": _budget(result),
        "annex1": _annex1(rows, tts, info, year, cat, cov.get("communes_reported")),
        "coverage_text": (f"Số liệu của {cov.get('communes_reported', 0)}/{cov.get('communes_expected', 0)} {cw} "
                          f"có báo cáo hợp lệ."),
        "chart_targets": str((charts or {}).get("targets") or ""),
        "chart_trend": str((charts or {}).get("trend") or ""),
        "review": _review(rows, tts, info, year, cat),
    }
    ctx["unit_rows"], ctx["district_row"], ctx["unit_rows_note"] = _unit_table(result, rows, year, cw, ws.layout(year).consolidated.name)
    ctx["quality"] = quality_context(quality, result, rows, tts, cw)
    return ctx


def _document_context(s, cat, year: int, date: Date | None) -> dict:
    """The document's frame from the settings: years, issuer, place and date, recipients, signer."""
    signer = s.get("signer") or {}
    return {
        "year": year, "year_prev": year - 1, "next_year": year + 1, "ref_year": default_reference_year(year),
        "baseline_year": cat.baseline_year,
        "issuer": s.get("issuer", ""), "issuer_short": s.get("issuer_short", ""),
        "issuer_header": list(s.get("issuer_header") or []), "document_code": s.get("document_code", "BC-UBND"),
        "place": s.get("place", ""), "date_text": date_text(date, year),
        "date_short": date.strftime("%d/%m/%Y") if date else "……",
        "programme": cat.programme, "recipient": s.get("recipient", ""),
        "recipients": list(s.get("recipients") or []), "coordinator_short": s.get("coordinator_short", ""),
        "signer": {"on_behalf": signer.get("on_behalf", ""), "deputy": signer.get("deputy") or "",
                   "title": signer.get("title", ""), "name": signer.get("name", "")},
    }


def _phrases(result: MergeResult, rows: list[IndicatorResult], info: dict, fields: dict | None, cw: str,
             area: str) -> dict[str, str]:
    """Indicator code -> the sentence that states its result in the report's body."""
    year, cov = int(result.year), result.coverage or {}
    phrases = {}
    for r in rows:
        i = info[r.code]
        phrases[r.code] = phrase_indicator(
            r, year, strict=i["strict"], yearly_fall=i["yearly_fall"], count_unit=i["count_unit"],
            count=_count_of(fields, result, i["numerator"]) if r.kind == "yoy_change" else None,
            communes_word=cw, reporting_units=cov.get("communes_reported"), area=area)
    return phrases


def _goals(rows: list[IndicatorResult], phrases: dict[str, str], cat) -> list[dict]:
    """The body's results, goal by goal: one entry per chỉ tiêu joining its indicators' sentences."""
    goals = []
    for g in sorted({r.goal for r in rows}):
        items, by_ct = [], {}
        for r in rows:
            if r.goal == g:
                by_ct.setdefault(r.chi_tieu, []).append(phrases[r.code])
        for n, texts in by_ct.items():
            items.append({"label": f"Chỉ tiêu {n}", "text": " ".join(texts)})
        goals.append({"number": g, "title": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": "), "entries": items})
    return goals


def _by_verdict(rows: list[IndicatorResult], year: int) -> dict:
    """Verdict -> the indicators with that verdict against their reference year's target, and
    "provisional" -> those judged on fewer than all communes."""
    codes = [(r, verdict_of(r, reference_year(year, r.targets or {}))) for r in rows]
    out = {v: [r for r, c in codes if c == v] for v in (Verdict.MET, Verdict.NOT_MET, Verdict.NO_DATA,
                                                       Verdict.UNDECIDED, Verdict.NOT_YET)}
    out["provisional"] = [r for r, c in codes if c.judged and r.provisional]
    return out


def _results_intro(cov: dict, cw: str, area: str) -> str:
    return (
        f"Số liệu tổng hợp từ báo cáo hợp lệ của {cov.get('communes_reported', 0)}/"
        f"{cov.get('communes_expected', 0)} {cw}{_offices_part(cov)}; tỷ lệ của toàn {area} tính bằng tổng tử số chia tổng mẫu số của các đơn vị có báo cáo; tỷ lệ {cw} đạt tiêu chí (chỉ tiêu 1, "
        f"21) tính trên tất cả các {cw}. Mức tăng, giảm so với năm trước tính trên cùng các đơn vị có báo cáo cả "
        f"hai năm.")


def _results_summary(rows: list[IndicatorResult], verdicts: dict, cw: str) -> str:
    """How many indicators met, missed or could not be judged against the plan's targets."""
    n_ct = len({r.chi_tieu for r in rows})
    provisional = verdicts["provisional"]
    summary_more = "".join(
        f", {label} {len(group)}" for label, group in (("chưa đủ số liệu để đánh giá", verdicts[Verdict.UNDECIDED]),
                                                       ("chưa áp dụng mục tiêu", verdicts[Verdict.NOT_YET])) if group)
    provisional_note = (f"; {len(provisional)} đánh giá là tạm tính vì chưa đủ số liệu của các {cw}"
                        if provisional else "")
    return (f"Trong {len(rows)} nội dung của {n_ct} chỉ tiêu, so với mục tiêu của Kế hoạch: đạt "
            f"{len(verdicts[Verdict.MET])}, chưa đạt {len(verdicts[Verdict.NOT_MET])}{summary_more}, chưa có số liệu "
            f"{len(verdicts[Verdict.NO_DATA])}{provisional_note} (chi tiết tại Phụ lục I; "
            f"số liệu từng {cw.split(',')[0]} tại Phụ lục II).")


def _units_text(unit_types: dict) -> str:
    xa = sum(t == "xa" for t in unit_types.values())
    tt = sum(t == "thi_tran" for t in unit_types.values())
    if not xa + tt:
        return "các đơn vị hành chính cấp xã"
    if not tt:
        return f"{xa} xã"
    return f"{xa + tt} đơn vị hành chính cấp xã ({xa} xã, {tt} thị trấn)"


def _population(result: MergeResult, cat) -> list[dict]:
    pop = result.population or {}
    out = []
    for code, p in pop.items():
        unit = cat.field(code).unit if cat.has_field(code) else ""
        v = p.get("value")
        out.append({"label": p.get("label", code), "value": f"{num_text(v, 0)} {unit}".strip() if v is not None else NO_DATA,
                    "end": ";"})
    if out:
        out[-1]["end"] = "."
    return out


def _population_note(result: MergeResult, cw: str) -> str:
    pop = result.population or {}
    cov = result.coverage or {}
    expected = cov.get("communes_expected") or 0
    reported = max((p.get("units_reported") or 0 for p in pop.values()), default=0)
    if expected and reported < expected:
        return f"(Số liệu tổng hợp từ báo cáo của {reported}/{expected} {cw}; số liệu đầy đủ sẽ cao hơn.)"
    return ""


def _shortfalls(not_met, no_data, quality) -> str:
    parts = []
    if not_met:
        parts.append(f"Còn {len(not_met)} nội dung chỉ tiêu chưa đạt mục tiêu"
                     + (f" và {len(no_data)} nội dung chưa có số liệu để đánh giá" if no_data else "") + ":")
    elif no_data:
        parts.append(f"Các chỉ tiêu có số liệu đều đạt mục tiêu; còn {len(no_data)} nội dung chưa có số liệu để "
                     f"đánh giá:")
    else:
        parts.append("Các chỉ tiêu đều đạt mục tiêu của Kế hoạch.")
    c = (quality or {}).get("counts") or {}
    gaps = [f"{c[k]} đơn vị {label}" for k, label in (("missing", "chưa gửi báo cáo"),
                                                       ("rejected", "có lỗi phải gửi lại"),
                                                       ("late", "gửi muộn")) if c.get(k)]
    if gaps:
        parts.insert(0, f"Công tác báo cáo, thống kê còn hạn chế: {', '.join(gaps)}.")
    return " ".join(parts)


def _shortfall_lines(not_met, no_data, tts, info, year) -> list[str]:
    lines = []
    for r in not_met:
        ty = reference_year(year, r.targets or {})
        i = info[r.code]
        target = r.targets[ty]
        if r.kind == "yoy_change":
            now, goal = table_value(r.value, r.kind).lower() + "% so với năm trước", fall_text(i["yearly_fall"], target)
        elif isinstance(target, dict):
            now = format_value(r.value, r.kind, r.unit)
            goal = target_words(target, r.kind, r.unit, r.direction, is_strict(i["strict"], ty))
        else:
            now = format_value(r.value, r.kind, r.unit, target)
            goal = format_target(target, r.kind, r.unit, r.direction, is_strict(i["strict"], ty))
        lines.append(f"Chỉ tiêu {tts[r.code]} ({lower_first(r.name)}): {now}; mục tiêu năm {ty}: {goal};")
    for r in no_data:
        lines.append(f"Chỉ tiêu {tts[r.code]} ({lower_first(r.name)}): {NO_DATA};")
    if lines:
        lines[-1] = lines[-1][:-1] + "."
    return lines


def _budget(result: MergeResult) -> dict:
    b = result.budget or {}
    total = b.get("total") or {}
    n = b.get("units_reported") or 0
    if not n:
        return {"summary": f"Chưa có số liệu kinh phí: chưa đơn vị nào báo cáo kinh phí thực hiện năm "
                           f"{result.year}.", "lines": []}
    planned, spent = total.get("planned") or 0, total.get("spent") or 0
    rate = f" (đạt {num_text(spent / planned * 100)}% dự toán)" if planned else ""
    summary = (f"Tổng kinh phí thực hiện Chương trình năm {result.year} (tổng hợp từ báo cáo của {n} đơn vị): "
               f"dự toán {num_text(planned)} triệu đồng, thực hiện {num_text(spent)} triệu đồng{rate}. Trong đó:")
    lines = []
    sources = [x for x in (b.get("by_source") or {}).values() if (x.get("planned") or x.get("spent"))]
    for i, x in enumerate(sources):
        end = ";" if i < len(sources) - 1 else "."
        lines.append(f"{x['name']}: dự toán {num_text(x.get('planned') or 0)} triệu đồng, thực hiện "
                     f"{num_text(x.get('spent') or 0)} triệu đồng{end}")
    if not lines:
        summary = summary.removesuffix(" Trong đó:")
    return {"summary": summary, "lines": lines}


def _annex1(rows, tts, info, year, cat, reporting_units=None) -> list[dict]:
    out = []
    for g in sorted({r.goal for r in rows}):
        out.append({"group": True, "text": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": ")})
        for r in (r for r in rows if r.goal == g):
            i = info[r.code]
            ty = reference_year(year, r.targets or {})
            notes = []
            if ty and ty != default_reference_year(year):
                notes.append(f"So với mục tiêu năm {ty}")
            if r.kind == "yoy_change" and r.numerator is not None and r.denominator is not None:
                notes.append(f"{num_text(r.numerator, 0)} {i['count_unit']} (năm trước {num_text(r.denominator, 0)})"
                             .replace("  ", " "))
            if r.provisional:
                notes.append(f"Tạm tính: số liệu của {r.units_reported}/{r.units_expected} đơn vị")
            elif (r.partial and r.source != "office" and not r.bounds
                    and (reporting_units is None or r.units_reported < reporting_units)):
                notes.append(f"Số liệu của {r.units_reported}/{r.units_expected} đơn vị")
            if r.bounds:
                b = r.bounds
                notes.append(f"{b.missing} đơn vị chưa báo cáo: từ {num_text(b.low)} đến {num_text(b.high)}")
            if r.source == "office":
                why = " (thiếu số liệu xã)" if r.source_reason == "incomplete" else ""
                notes.append(f"Theo số của {r.lead_office_name}{why}"
                             + (f"; tổng các xã {num_text(r.communes_value)}" if r.communes_value is not None
                                else ""))
            off = r.office
            if off and off.differs and r.source != "office":
                notes.append(f"{r.lead_office_name} báo {num_text(off.value)}, lệch tổng các xã")
            t = (r.track or {}).get(ty) if ty else None
            if isinstance(t, dict) and t.get("label"):
                notes.append(t["label"])
            if year in (int(y) for y in r.series_breaks or []):
                notes.append("Năm trước tính trên các đơn vị trước sắp xếp: chuỗi số liệu mới, không so sánh")
            tg = r.targets or {}
            out.append({
                "group": False, "tt": tts[r.code], "name": r.name, "unit": table_unit(r),
                "t2025": table_target(tg.get("2025"), r.kind, r.direction, i["strict"], i["yearly_fall"],
                                      "2025"),
                "t2030": table_target(tg.get("2030"), r.kind, r.direction, i["strict"], i["yearly_fall"],
                                      "2030"),
                "prev": table_value((r.previous or {}).get("value"), r.kind),
                "value": table_value(r.value, r.kind, target=tg.get(ty) if ty else None),
                "status": _status_label(r, ty), "note": "; ".join(notes),
            })
    return out


def _unit_cell(v, kind, verdict: Verdict | None, target=None) -> str:
    """A value with "*" when it misses its target."""
    if v is None:
        return "Chưa báo cáo" if kind == "share_of_communes" else DASH
    if kind == "share_of_communes":
        return "Có" if v else "Không"
    text = table_value(v, kind, target=target)
    return text + ("*" if verdict == Verdict.NOT_MET else "")


def _unit_table(result: MergeResult, rows: list[IndicatorResult], year: int, cw: str,
                workbook: str) -> tuple[list[dict], dict, str]:
    names = result.unit_names or {}
    values = result.units or {}
    status = result.unit_verdicts or {}
    communes = [u for u, t in (result.unit_types or {}).items() if t in COMMUNE_TYPES]
    out, silent = [], []
    for n, u in enumerate(communes, start=1):
        vals, st = values.get(u) or {}, status.get(u) or {}
        v = {}
        for r in rows:
            ty = reference_year(year, r.targets or {})
            v[r.code] = _unit_cell(vals.get(r.code), r.kind, (st.get(r.code) or {}).get(ty or ""))
        if not vals:
            silent.append(names.get(u, u))
        out.append({"tt": n, "name": names.get(u, u), "v": v})
    district = {}
    for r in rows:
        ty = reference_year(year, r.targets or {})
        if r.kind == "share_of_communes" and r.value is not None:
            district[r.code] = f"{num_text(r.numerator or 0, 0)}/{num_text(r.denominator or 0, 0)}"
        else:
            district[r.code] = _unit_cell(r.value, r.kind, verdict_of(r, ty),
                                             (r.targets or {}).get(ty) if ty else None)
    note = f"Chưa có số liệu hợp lệ của {len(silent)} {cw}: {names_text(silent)}." if silent else ""
    if len(out) > UNIT_TABLE_LIMIT:
        # A province or national roster: the Word appendix shows the first units only; the
        # consolidated workbook has them all.
        note = (note + " " if note else "") + (f"Bảng nêu {UNIT_TABLE_LIMIT}/{len(out)} đơn vị; số liệu của tất cả "
                                              f"các đơn vị trong tệp {workbook}.")
        out = out[:UNIT_TABLE_LIMIT]
    return out, district, note


def _review(rows, tts, info, year, cat) -> dict | None:
    """Mid-term (2025) and final (2030) review: every year since the baseline against the
    target of the review year."""
    if year not in REVIEWS:
        return None
    kind, span = REVIEWS[year]
    ty = str(year)
    years = list(range(cat.baseline_year, year + 1))
    decimals = 2 if len(years) <= 6 else 1  # ten year columns leave room for one decimal
    out_rows, lines = [], []
    counts = {Verdict.MET: 0, Verdict.NOT_MET: 0, Verdict.UNDECIDED: 0, Verdict.NO_DATA: 0}
    for g in sorted({r.goal for r in rows}):
        out_rows.append({"group": True, "text": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": ")})
        for r in (r for r in rows if r.goal == g):
            ind = next((x for x in cat.indicators if x.code == r.code), None)
            out_rows.append(_review_row(r, tts[r.code], info[r.code], ind, years, decimals, ty))
            code = r.verdict_for(ty)
            if (r.targets or {}).get(ty) is None:
                continue
            # Not yet judged (a target set for later years only) counts with those without data.
            counts[next((v for v in (Verdict.MET, Verdict.NOT_MET, Verdict.UNDECIDED) if code == v),
                        Verdict.NO_DATA)] += 1
            if code == Verdict.NOT_MET:
                lines.append(_review_line(r, tts[r.code], info[r.code], years, year))
    title = f"{kind.capitalize()} {span} thực hiện Chương trình ({cat.baseline_year}-{year})"
    return {"kind": kind, "span": span, "start": cat.baseline_year, "end": year, "target_year": ty, "years": years,
            "rows": out_rows, "title": title, "summary": _review_summary(rows, tts, counts, span, cat, year, lines),
            "lines": lines}


def _review_row(r: IndicatorResult, tt: str, i: dict, ind, years: list[int], decimals: int, ty: str) -> dict:
    """An indicator's row of the review table: its value every year, "*" where it misses the
    review year's target."""
    target = (r.targets or {}).get(ty)
    hist = {int(k): v for k, v in (r.history or {}).items()}
    cells = []
    for y in years:
        v = hist.get(y)
        cell = table_value(v, r.kind, decimals)
        if (v is not None and isinstance(target, (int, float)) and ind is not None
                and judge(ind, v, target, ty) == Verdict.NOT_MET):
            cell += "*"
        cells.append(cell)
    return {"group": False, "tt": tt, "name": r.name, "unit": table_unit(r),
            "cells": cells, "target": table_target(target, r.kind, r.direction, i["strict"], i["yearly_fall"], ty)}


def _review_line(r: IndicatorResult, tt: str, i: dict, years: list[int], year: int) -> str:
    """The sentence on an indicator that misses the review year's target: where it started, where it is."""
    ty = str(year)
    target = r.targets[ty]
    hist = {int(k): v for k, v in (r.history or {}).items()}
    # A share of units counts other units after a series break: start there.
    start = max((int(y) for y in r.series_breaks or [] if int(y) <= year), default=years[0])
    first = next(((y, hist[y]) for y in years if y >= start and hist.get(y) is not None), None)
    since = (f"từ {format_value(first[1], r.kind, r.unit)} (năm {first[0]}) đến "
             if first and first[0] != year else "")
    tw = (fall_text(i["yearly_fall"], target) if r.kind == "yoy_change" else
          format_target(target, r.kind, r.unit, r.direction, is_strict(i["strict"], ty))
          if not isinstance(target, dict) else target_words(target, r.kind, r.unit,
                                                              r.direction, is_strict(i["strict"], ty)))
    now = (table_value(r.value, r.kind).lower() + "%" if r.kind == "yoy_change"
           else format_value(r.value, r.kind, r.unit))
    return (f"Chỉ tiêu {tt} ({lower_first(r.name)}): {since}{now} (năm {year}), "
            f"chưa đạt mục tiêu ({tw}).")


def _review_summary(rows, tts, counts: dict, span: str, cat, year: int, lines: list[str]) -> str:
    """The review's count of indicators met and missed, and the series that start anew after a break."""
    met, not_met = counts[Verdict.MET], counts[Verdict.NOT_MET]
    undecided, no_data = counts[Verdict.UNDECIDED], counts[Verdict.NO_DATA]
    total = met + not_met + undecided + no_data
    summary = (f"Qua {span} thực hiện Chương trình ({cat.baseline_year}-{year}), so với mục tiêu năm {year}: "
               f"đạt {met}/{total} nội dung chỉ tiêu, chưa đạt {not_met}"
               + (f", chưa đủ số liệu để đánh giá {undecided}" if undecided else "")
               + f", chưa có số liệu {no_data}.")
    broken = sorted({tts[r.code] for r in rows if any(int(y) <= year for y in r.series_breaks or [])})
    if broken:
        first = min(int(y) for r in rows for y in r.series_breaks or [])
        summary += (f" Chỉ tiêu {', '.join(broken)} (tỷ lệ xã đạt tiêu chí): từ năm {first} tính "
                    f"trên các đơn vị sau sắp xếp, là chuỗi số liệu mới, không so sánh với các năm trước.")
    if lines:
        summary += " Các chỉ tiêu chưa đạt:"
    return summary

"""The template's context: plain strings, numbers and lists of dicts, built in one pure
function (`build_context`) from the merge result. Verdicts, their counts, the reference year
and each figure's source are merge's, read from its result; the review is pipeline.reporting.review."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date as Date

from pipeline.config.catalogue import COMMUNE_TYPES
from pipeline.config.roster import communes_word
from pipeline.merge.result import OFFICE, SOURCE_MARK_NOTES, SOURCE_MARKS, IndicatorResult, MergeResult, Verdict
from pipeline.reporting.quality import names_text, quality_context
from pipeline.reporting.review import review_context
from pipeline.reporting.words import (DASH, NO_DATA, PROVISIONAL, fall_text, figure_cell, figure_text, in_units,
                                      indicator_info, lower_first, num_text, is_strict, target_words, tt_labels,
                                      date_text, format_target, phrase_indicator, table_target, table_unit,
                                      table_value, verdict_of)

UNIT_TABLE_LIMIT = 300
# The offices' narratives: what each did (its direction, communication and results, said together
# in one entry per office), then the report's own sections, each from one narrative field.
WORK_FIELDS = ("narr_direction", "narr_communication", "narr_results")
NARRATIVES = {"limitations": "narr_limitations", "next_year_plans": "narr_next_year",
              "recommendations": "narr_recommendations"}

# --- the context -----------------------------------------------------------------------------
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


def _work(result: MergeResult) -> list[dict]:
    """Each office's account of its work (direction, communication, results) in one entry:
    an office is named once, not once per heading."""
    by_office: dict[str, list[str]] = {}
    for n in result.narratives or []:
        if n.get("field") in WORK_FIELDS:
            paras = [re.sub(r"^[-+•]\s+", "", p) for p in _paragraphs(n.get("text", ""))]
            by_office.setdefault(n.get("unit_name") or n.get("unit", ""), []).extend(
                (n["field"], p) for p in paras)
    out = []
    for unit, parts in by_office.items():
        texts = [p for _, p in sorted(parts, key=lambda fp: WORK_FIELDS.index(fp[0]))]
        out.append({"unit": unit, "first": " ".join(t if t.endswith((".", ";", ":")) else t + "." for t in texts[:3]),
                    "rest": texts[3:]})
    return out


def _placeholders(result: MergeResult) -> dict[str, str]:
    """What a section says when no narrative came: who should have written it only where the
    roster has such units (from 2025 there are no district offices)."""
    cov = result.coverage or {}
    offices = cov.get("expected", 0) > cov.get("communes_expected", 0)
    who = " chưa nhận được báo cáo của các phòng, ban, ngành" if offices else ""
    return {key: (f"(Nội dung {what} cần được bổ sung trước khi ban hành" + (f":{who}" if who else "") + ".)")
            for key, what in (("work", "công tác chỉ đạo, điều hành, truyền thông"),
                              ("limitations", "tồn tại, hạn chế và nguyên nhân"),
                              ("next_year_plans", "phương hướng, nhiệm vụ năm tới"),
                              ("recommendations", "kiến nghị, đề xuất"))}


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
    cw = communes_word(unit_types.values())
    area = s.get("area") or "huyện"
    tts = tt_labels(rows)
    info = {r.code: indicator_info(cat, r.code) for r in rows}
    cov = result.coverage or {}
    phrases = _phrases(result, rows, info, fields, cw, area)
    counts = result.verdict_counts()
    by_code = {r.code: r for r in rows}
    not_met, no_data = [by_code[c] for c in counts.not_met], [by_code[c] for c in counts.no_data]

    ctx = {
        **_document_context(s, cat, result, date),
        "communes_word": cw,
        "area": area,
        "units_text": _units_text(unit_types),
        "population": _population(result, cat),
        "population_note": _population_note(result, cw),
        "work": _work(result),
        **{key: _narratives(result, field) for key, field in NARRATIVES.items()},
        "placeholders": _placeholders(result),
        "results_intro": _results_intro(result, rows, tts, cw, area),
        "results_summary": _results_summary(rows, counts, cw),
        "goals": _goals(rows, phrases, cat),
        "shortfalls": _shortfalls(not_met, no_data, quality),
        "shortfall_lines": _shortfall_lines(not_met, no_data, tts, info, cw, cov.get("communes_reported")),
        "budget": _budget(result),
        "annex1": _annex1(rows, tts, info, result, cat, cw),
        "coverage_text": _coverage_text(result, rows, cw),
        "chart_targets": str((charts or {}).get("targets") or ""),
        "chart_trend": str((charts or {}).get("trend") or ""),
        "review": review_context(result, tts, info, cat),
    }
    ctx["unit_rows"], ctx["district_row"], ctx["unit_rows_note"] = _unit_table(result, rows, cw,
                                                                               ws.layout(year).consolidated.name)
    ctx["marks"] = _marks(result, ctx["district_row"].values(), cw, area)
    ctx["quality"] = quality_context(quality, result, rows, tts, cw)
    return ctx


def _document_context(s, cat, result: MergeResult, date: Date | None) -> dict:
    """The document's frame from the settings: years, issuer, place and date, recipients, signer."""
    signer = s.get("signer") or {}
    year = int(result.year)
    return {
        "year": year, "year_prev": year - 1, "next_year": year + 1, "ref_year": result.reference_year or "",
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
    cov = result.coverage or {}
    compared = compared_units(rows)
    phrases = {}
    for r in rows:
        i = info[r.code]
        phrases[r.code] = phrase_indicator(
            r, strict=i["strict"], yearly_fall=i["yearly_fall"], count_unit=i["count_unit"],
            count=_count_of(fields, result, i["numerator"]) if r.kind == "yoy_change" else None,
            communes_word=cw, reporting_units=cov.get("communes_reported"), area=area, names=result.unit_names,
            compared=compared)
    return phrases


def compared_units(rows: list[IndicatorResult]) -> int | None:
    """The number of communes most of the year's changes are computed on (said once)."""
    counts = Counter(r.comparison.units for r in rows if r.comparison and r.comparison.change is not None)
    return counts.most_common(1)[0][0] if counts else None


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


def _results_intro(result: MergeResult, rows: list[IndicatorResult], tts: dict, cw: str, area: str) -> str:
    """Said once for every indicator below: whose the figures are and on how many communes
    (which are the lead offices' and why, which are provisional), and what is compared."""
    cov = result.coverage or {}
    n, m = cov.get("communes_reported", 0), cov.get("communes_expected", 0)
    names = result.unit_names or {}
    silent = [names.get(u, u) for u in cov.get("missing") or [] if (result.unit_types or {}).get(u) in COMMUNE_TYPES]
    text = (f"Số liệu tổng hợp từ báo cáo hợp lệ của {n}/{m} {cw}"
            + (f" (chưa có: {names_text(silent)})" if silent else "") + f"{_offices_part(cov)}. Tỷ lệ của toàn "
            f"{area} tính bằng tổng tử số chia tổng mẫu số của các đơn vị có báo cáo; tỷ lệ {cw} đạt tiêu chí (chỉ "
            f"tiêu 1, 21) tính trên tất cả các {cw}.")
    office = [r for r in rows if r.source == OFFICE and r.value is not None]
    if office:
        why = [r for r in office if r.source_reason == "incomplete"]
        text += (f" Số liệu toàn {area} của chỉ tiêu {_tt_list(office, tts)} là số do phòng chủ trì báo cáo cho toàn "
                 f"{area} (ghi «số của …», kèm số tổng hợp từ các {cw} đã báo cáo)"
                 + (f", vì mới có {n}/{m} {cw} báo cáo" if len(why) == len(office) else "") + ".")
    provisional = [r for r in rows if r.provisional]
    rates = [r for r in rows if r.value is not None and r.source != OFFICE and r.kind != "share_of_communes"]
    if provisional:
        which = ("" if len(provisional) == len(rates) else f" của chỉ tiêu {_tt_list(provisional, tts)}")
        text += (f" {'Các chỉ tiêu còn lại' if office else 'Các chỉ tiêu'} tính trên các {cw} đã báo cáo; đánh giá"
                 f"{which} là {PROVISIONAL} (các {cw} chưa báo cáo có thể làm thay đổi kết quả; ghi «{PROVISIONAL}»"
                 f" sau đánh giá).")
    compared = compared_units(rows)
    text += (f" Mức tăng, giảm so với năm trước tính trên cùng các {cw} có báo cáo cả hai năm"
             + (f" ({compared} {cw}, trừ khi ghi khác)" if compared else "")
             + (f"; số liệu năm {int(result.year) - 1} của mỗi {cw.split(',')[0]} là số liệu của các đơn vị cũ hợp "
                f"thành cộng lại" if any(r.comparison and r.comparison.carried for r in rows) else "")
             + f"; «số đã báo cáo» là số liệu báo cáo năm trước đã dùng.")
    return text


def _printed_marks(figures) -> set[str]:
    """The source marks among `figures` (year figures) that have a value: "(p)", "(t)"."""
    return {f.mark.strip() for f in figures if f is not None and f.value is not None and f.mark}


def _coverage_text(result: MergeResult, rows: list[IndicatorResult], cw: str) -> str:
    """Phụ lục I's note: coverage, and what the marks its cells carry mean (only those printed)."""
    cov = result.coverage or {}
    year = int(result.year)
    marks = _printed_marks(f for r in rows for f in (r.previous, r.years.get(str(year))))
    text = f"Số liệu của {cov.get('communes_reported', 0)}/{cov.get('communes_expected', 0)} {cw} có báo cáo hợp lệ."
    if marks:
        said = [note for key, note in SOURCE_MARK_NOTES.items() if SOURCE_MARKS[key].strip() in marks]
        text += (f" Số không đánh dấu là tổng hợp từ các {cw}; " + "; ".join(said) + f"; hai năm khác dấu là khác "
                 f"nguồn số liệu, không so sánh trực tiếp (mức tăng, giảm nêu tại phần II tính trên cùng các {cw} có "
                 f"báo cáo cả hai năm).")
    return text


def _marks(result: MergeResult, district_cells, cw: str, area: str) -> dict[str, str]:
    """What the source marks of the charts and of Phụ lục II's district row mean, said only for
    the marks they carry (no office is named where the roster has none)."""
    year = int(result.year)
    rows = result.indicators or []
    now = _printed_marks(r.years.get(str(year)) for r in rows if r.kind != "yoy_change")
    ever = _printed_marks(f for r in rows for f in r.years.values())
    district = {m for m in ("(p)", "(t)") if any(str(c).endswith(m) for c in district_cells)}
    words = {"(t)": f"«(t)»: tạm tính trên số liệu của các {cw} đã báo cáo", "(p)": "«(p)»: số của phòng chủ trì"}
    points = {"(t)": "«(t)» tạm tính (hình tròn)", "(p)": "«(p)» số của phòng chủ trì (hình vuông)"}
    return {"targets": "".join(f"; {words[m]}" for m in ("(t)", "(p)") if m in now),
            "trend": ("; điểm rỗng: " + " hoặc ".join(points[m] for m in ("(p)", "(t)") if m in ever)
                      + ", nối với năm khác nguồn bằng đường chấm") if ever else "",
            "district": (f"; dòng «Toàn {area}»: " + ", ".join(words[m].replace("»: ", "» là ", 1)
                                                              for m in ("(p)", "(t)") if m in district)) if district
            else ""}


def _tt_list(rows: list[IndicatorResult], tts: dict) -> str:
    return ", ".join(tts[r.code] for r in rows)


def _results_summary(rows: list[IndicatorResult], counts, cw: str) -> str:
    """How many indicators met, missed or could not be judged against the plan's targets (merge's count)."""
    n_ct = len({r.chi_tieu for r in rows})
    provisional = counts.provisional
    summary_more = "".join(
        f", {label} {len(group)}" for label, group in (("chưa đủ số liệu để đánh giá", counts.undecided),
                                                       ("chưa áp dụng mục tiêu", counts.not_yet)) if group)
    provisional_note = (f"; {len(provisional)} đánh giá là tạm tính vì chưa đủ số liệu của các {cw}"
                        if provisional else "")
    return (f"Trong {len(rows)} nội dung của {n_ct} chỉ tiêu, so với mục tiêu của Kế hoạch: đạt "
            f"{len(counts.met)}, chưa đạt {len(counts.not_met)}{summary_more}, chưa có số liệu "
            f"{len(counts.no_data)}{provisional_note} (chi tiết tại Phụ lục I; "
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


def _shortfall_lines(not_met, no_data, tts, info, cw: str, reporting: int | None = None) -> list[str]:
    lines = []
    for r in not_met:
        ty = r.reference_year
        i = info[r.code]
        target = r.targets[ty]
        if r.kind == "yoy_change":
            now, goal = table_value(r.value, r.kind).lower() + "% so với năm trước", fall_text(i["yearly_fall"], target)
        else:
            now = in_units(r, figure_text(r, r.value))
            goal = (target_words(target, r.kind, r.unit, r.direction, is_strict(i["strict"], ty))
                    if isinstance(target, dict) else
                    format_target(target, r.kind, r.unit, r.direction, is_strict(i["strict"], ty)))
        if r.source == OFFICE:
            now += f" (số của {r.lead_office_name or r.lead_office})"
        elif r.provisional:
            now += f" ({PROVISIONAL})" if r.units_reported == reporting else \
                f" ({PROVISIONAL} trên số liệu của {r.units_reported}/{r.units_expected} {cw})"
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


def _annex1(rows, tts, info, result: MergeResult, cat, cw: str) -> list[dict]:
    """Phụ lục I: every indicator's targets, last year's figure and this year's, each with its
    source mark, the verdict, and the notes that say what the figures are."""
    out = []
    year = int(result.year)
    for g in sorted({r.goal for r in rows}):
        out.append({"group": True, "text": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": ")})
        for r in (r for r in rows if r.goal == g):
            i = info[r.code]
            ty = r.reference_year
            tg = r.targets or {}
            out.append({
                "group": False, "tt": tts[r.code], "name": r.name, "unit": table_unit(r),
                "t2025": table_target(tg.get("2025"), r.kind, r.direction, i["strict"], i["yearly_fall"], "2025"),
                "t2030": table_target(tg.get("2030"), r.kind, r.direction, i["strict"], i["yearly_fall"], "2030"),
                "prev": figure_cell(r, r.previous), "value": figure_cell(r, r.years.get(str(year))),
                "status": _status_label(r, ty), "note": "; ".join(_annex1_notes(r, i, result, cw)),
            })
    return out


def _annex1_notes(r: IndicatorResult, i: dict, result: MergeResult, cw: str) -> list[str]:
    """A row's notes, short (the marks of the figures and the table's note say the rest): each
    figure named with what it is and rounded apart from the targets."""
    notes = []
    ty, year = r.reference_year, int(result.year)
    reporting = (result.coverage or {}).get("communes_reported")
    if ty and ty != result.reference_year:
        notes.append(f"So với mục tiêu năm {ty}")
    if r.kind == "yoy_change" and r.numerator is not None and r.denominator is not None:
        notes.append(f"{num_text(r.numerator, 0)} {i['count_unit']} (năm trước {num_text(r.denominator, 0)})"
                     .replace("  ", " ") + ("" if r.whole_area or not r.partial else
                                           f" trên cùng {r.units_reported} {cw} có báo cáo cả hai năm"))
    if r.partial and r.source != OFFICE and not r.bounds and (reporting is None or r.units_reported < reporting):
        notes.append(f"Số liệu của {r.units_reported}/{r.units_expected} {cw}")
    if r.bounds:
        b = r.bounds
        notes.append(f"{b.missing} {cw} chưa có báo cáo hợp lệ: từ {figure_text(r, b.low)} đến {figure_text(r, b.high)}")
    if r.source == OFFICE and r.communes_value is not None:
        cv = r.communes_value
        said = table_value(cv, r.kind).lower() + "%" if r.kind == "yoy_change" else figure_text(r, cv, (r.value,))
        notes.append(f"Tổng hợp từ {r.units_reported} {cw}: {said}")
    off = r.office
    if off and off.differs and r.source != OFFICE:
        notes.append(f"{r.lead_office_name} báo {figure_text(r, off.value, (r.value,))}, lệch tổng các {cw}")
    t = (r.track or {}).get(ty) if ty else None
    if isinstance(t, dict) and t.get("label"):
        notes.append(t["label"])
    if year in (int(y) for y in r.series_breaks or []):
        notes.append("Năm trước tính trên các đơn vị trước sắp xếp: chuỗi số liệu mới, không so sánh")
    return notes


def _unit_cell(r: IndicatorResult, v, verdict: Verdict | None, target=None) -> str:
    """A value with "*" when it misses its target."""
    if v is None:
        return "Chưa báo cáo" if r.kind == "share_of_communes" else DASH
    if r.kind == "share_of_communes":
        return "Có" if v else "Không"
    text = table_value(v, r.kind, target=[target] if isinstance(target, (int, float)) else r.target_numbers)
    return text + ("*" if verdict == Verdict.NOT_MET else "")


def _unit_table(result: MergeResult, rows: list[IndicatorResult], cw: str,
                workbook: str) -> tuple[list[dict], dict, str]:
    names = result.unit_names or {}
    values = result.units or {}
    status = result.unit_verdicts or {}
    areas = result.unit_areas or {}
    communes = [u for u, t in (result.unit_types or {}).items() if t in COMMUNE_TYPES]
    out, silent = [], []
    for n, u in enumerate(communes, start=1):
        vals, st = values.get(u) or {}, status.get(u) or {}
        v = {}
        for r in rows:
            t = (r.targets or {}).get(r.reference_year or "")
            own = t.get(areas.get(u, "")) if isinstance(t, dict) else t
            v[r.code] = _unit_cell(r, vals.get(r.code), (st.get(r.code) or {}).get(r.reference_year or ""), own)
        if not vals:
            silent.append(names.get(u, u))
        out.append({"tt": n, "name": names.get(u, u), "v": v})
    district = {}
    for r in rows:
        if r.kind == "share_of_communes" and r.value is not None:
            district[r.code] = f"{num_text(r.numerator or 0, 0)}/{num_text(r.denominator or 0, 0)}"
        else:
            now = r.years.get(str(result.year))
            district[r.code] = _unit_cell(r, r.value, verdict_of(r, r.reference_year)) + (now.mark if now else "")
    note = f"Chưa có số liệu hợp lệ của {len(silent)} {cw}: {names_text(silent)}." if silent else ""
    if len(out) > UNIT_TABLE_LIMIT:
        # A province or national roster: the Word appendix shows the first units only; the
        # consolidated workbook has them all.
        note = (note + " " if note else "") + (f"Bảng nêu {UNIT_TABLE_LIMIT}/{len(out)} đơn vị; số liệu của tất cả "
                                              f"các đơn vị trong tệp {workbook}.")
        out = out[:UNIT_TABLE_LIMIT]
    return out, district, note

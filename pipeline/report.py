"""Stage 4: the district's annual report in Word, in the form of Nghị định 30/2020/NĐ-CP
(Phụ lục I), with its appendices (indicator table, per-unit table, data quality and, in the
review years 2025 and 2030, every year against the targets).

Data flows one way: the stored merge result (plus, for the data-quality appendix, what the
store says about submissions and problems) -> `build_context`, a plain dict of strings,
numbers and lists -> the docxtpl template templates/docx/bao_cao.docx, which holds the
words and the layout and which the officer edits in Word.

Unit text never becomes template code: Jinja parses only the template; every string of the
context reaches the XML escaped, cleaned of characters XML cannot hold, and guarded against
docxtpl's own post-processing (see `_safe`)."""

from __future__ import annotations

import io
import re
import tempfile
import unicodedata
from datetime import date as Date
from pathlib import Path

from pipeline.catalogue import COMMUNE_TYPES, UNIT_TYPE_WORDS, indicator_label, meets
from pipeline.errors import TreemError
from pipeline.fsutil import atomic_write
from pipeline.merge import reference_year
from pipeline.text import vn_number

REPORT_TEMPLATE = "docx/bao_cao.docx"
NO_DATA = "chưa có số liệu"
DASH = "–"
REVIEWS = {2025: ("sơ kết", "5 năm"), 2030: ("tổng kết", "10 năm")}
TYPE_PLACES = {"xa": "khu vực nông thôn (xã)", "thi_tran": "khu vực thành thị (thị trấn)"}
# Indicators drawn in the trend chart; settings.yaml may list others under report.trend_indicators.
TREND_INDICATORS = ("ct02", "ct03b", "ct04b", "ct05a", "ct14", "ct18")
UNIT_TABLE_LIMIT = 300
PROBLEM_LIMIT = 60
MIN_YEAR_TWIPS = 850  # 1,5 cm: "95,67*" on one line
NAMES_LIMIT = 12


class ReportError(TreemError):
    """The report cannot be written (no merge yet, a broken template, a file locked, no PDF)."""


# --- numbers and targets in words ------------------------------------------------------------
def _num(x: float, decimals: int = 2) -> str:
    x = float(x)
    if abs(x) < 0.5 * 10 ** -decimals:
        x = 0.0
    return vn_number(round(x, decimals), decimals)


def _shown(value: float, target=None) -> str:
    """Up to 2 decimals; more when rounding would make a miss look equal to its target
    ("98,7%, chưa đạt (98,7%)")."""
    d = 2
    s = _num(value, d)
    if isinstance(target, (int, float)) and abs(value - target) > 1e-9:
        while d < 4 and s == _num(target, d):
            d += 1
            s = _num(value, d)
    return s


def format_value(value: float, kind: str, unit: str, target=None) -> str:
    """96.2 -> "96,2%"; 3.2 (‰) -> "3,2‰"; 20 per 100,000 -> "20 trẻ em/100.000 trẻ em"."""
    s = _shown(value, target)
    if kind == "per_100000_children":
        return f"{s} trẻ em/100.000 trẻ em"
    if unit in ("%", "‰"):
        return s + unit
    if unit.startswith("/"):
        return s + unit
    return f"{s} {unit}".strip()


def format_target(target: float, kind: str, unit: str, direction: str, strict: bool) -> str:
    """The target as the plan words it: "95%", "dưới 2,5‰", "không quá 17%"."""
    v = format_value(target, kind, unit)
    if direction == "at_most":
        return ("dưới " if strict else "không quá ") + v
    return v


def default_reference_year(year: int) -> str:
    return "2025" if year <= 2025 else "2030"


def _meets(value: float, target: float, direction: str, strict: bool) -> bool:
    return meets(round(value, 6), target, direction, strict)


def _is_met(row: dict, ty: str, value, target, strict: bool) -> bool:
    code = (row.get("status_code") or {}).get(ty)
    if code in ("dat", "chua_dat"):
        return code == "dat"
    return _meets(value, target, row.get("direction", "at_least"), strict)


def _fall_text(yearly_fall: dict | None, target) -> str:
    if yearly_fall and yearly_fall.get("min") is not None and yearly_fall.get("max") is not None:
        return f"giảm {_num(yearly_fall['min'])}-{_num(yearly_fall['max'])}%/năm"
    if isinstance(target, (int, float)):
        return f"giảm ít nhất {_num(abs(target))}%/năm"
    return "giảm hằng năm"


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s


def _units_list(items: list[dict], kind: str, unit: str) -> str:
    """"Xã A (99%), Xã B (98,5%)"; rates per 100,000 as bare numbers, the sentence says the unit."""
    def short(v):
        return _num(v) if kind == "per_100000_children" else format_value(v, kind, unit)

    return ", ".join(f"{u['name']} ({short(u['value'])})" for u in items)


# --- one indicator in words ------------------------------------------------------------------
def phrase_indicator(row: dict, year: int, *, strict: bool = False, yearly_fall: dict | None = None,
                     count: float | None = None, count_unit: str = "", communes_word: str = "xã, thị trấn",
                     reporting_units: int | None = None) -> str:
    """The paragraph of one indicator, from the numbers of its merge row: value, target and
    status, change from last year, track, coverage, best and worst units.

    `strict`, `yearly_fall` and `count_unit` come from the catalogue; `count` is this year's
    total count for a year-over-year indicator (CT13) when last year's is missing. Partial
    coverage is mentioned when fewer units than `reporting_units` (the communes that sent a
    valid report at all, said once in the report) gave this indicator; None: always."""
    kind = row.get("kind", "percentage")
    if kind == "yoy_change":
        return _phrase_yoy(row, year, yearly_fall, count, count_unit, communes_word, reporting_units)
    if kind == "share_of_communes":
        return _phrase_share(row, year, strict, communes_word, reporting_units)
    name, unit, direction = row["name"], row.get("unit", "%"), row.get("direction", "at_least")
    targets = row.get("targets") or {}
    ty = reference_year(year, targets)
    target = targets.get(ty) if ty else None
    value = row.get("value")
    if value is None:
        tail = f" (mục tiêu năm {ty}: {_target_words(target, kind, unit, direction, strict)})" if ty else ""
        return f"{name}: {NO_DATA}{tail}."
    source = ""
    if row.get("source") == "office":
        source = f" (theo số liệu của {row.get('lead_office_name') or row.get('lead_office')})"
    if isinstance(target, dict):
        text = _phrase_by_type(row, ty, target, strict) + source + "."
    else:
        prev = (row.get("previous") or {}).get("value")
        prev_year = (row.get("previous") or {}).get("year", year - 1)
        shown = format_value(value, kind, unit, target)
        if direction == "at_least":
            verb = f"đạt {shown}"
        elif prev is None:
            verb = f"là {shown}"
        elif abs(value - prev) < 1e-9:
            verb = f"giữ ở mức {shown}"
        else:
            verb = f"{'giảm xuống' if value < prev else 'tăng lên'} {shown}"
        text = f"{name} {verb}{source}"
        if target is not None:
            text += ", " + _assessment(row, ty, value, target, strict) + _track(row, ty, year)
        if prev is not None:
            text += "; " + _change(value, prev, prev_year, kind, unit, direction)
        text += "."
    return (text + _coverage(row, communes_word, reporting_units) + _office_note(row, communes_word)
            + _extremes(row))


def _target_words(target, kind, unit, direction, strict) -> str:
    if isinstance(target, dict):
        return ", ".join(f"{format_target(v, kind, unit, direction, strict)} đối với {UNIT_TYPE_WORDS.get(k, k)}"
                         for k, v in target.items())
    return format_target(target, kind, unit, direction, strict)


def _assessment(row, ty, value, target, strict) -> str:
    direction = row.get("direction", "at_least")
    word = "chỉ tiêu" if direction == "at_least" else "mục tiêu"
    tp = format_target(target, row.get("kind", "percentage"), row.get("unit", "%"), direction, strict)
    if not _is_met(row, ty, value, target, strict):
        return f"chưa đạt {word} năm {ty} ({tp})"
    if direction == "at_least" and round(value, 6) > target:
        return f"vượt {word} năm {ty} ({tp})"
    return f"đạt {word} năm {ty} ({tp})"


def _track(row, ty, year) -> str:
    t = (row.get("track") or {}).get(ty)
    if not isinstance(t, dict) or t.get("on_track") is None:
        return ""
    if t["on_track"]:
        return ", đúng lộ trình"
    expected = format_value(t["expected"], row.get("kind", "percentage"), row.get("unit", "%"))
    return f", chậm so với lộ trình (mức theo lộ trình năm {year}: {expected})"


def _change(value, prev, prev_year, kind, unit, direction) -> str:
    if direction == "at_most":
        return f"năm {prev_year} là {format_value(prev, kind, unit)}"
    d = value - prev
    if abs(d) < 0.005:
        return f"bằng năm {prev_year}"
    delta = f"{_num(abs(d))} điểm phần trăm" if unit == "%" else format_value(abs(d), kind, unit)
    return f"{'tăng' if d > 0 else 'giảm'} {delta} so với năm {prev_year} ({format_value(prev, kind, unit)})"


def _coverage(row, communes_word, reporting_units=None) -> str:
    if not row.get("partial") or row.get("source") == "office":
        return ""
    if reporting_units is not None and row["units_reported"] >= reporting_units:
        return ""
    return f" Số liệu của {row['units_reported']}/{row['units_expected']} {communes_word}."


def _office_note(row, communes_word) -> str:
    off = row.get("office") or {}
    if off.get("differs") and off.get("value") is not None:
        who = row.get("lead_office_name") or off.get("unit")
        v = format_value(off["value"], row.get("kind", "percentage"), row.get("unit", "%"))
        return f" Số liệu do {who} báo cáo là {v}, chênh lệch so với tổng hợp từ các {communes_word}, cần rà soát."
    return ""


def _extremes(row) -> str:
    best, worst = row.get("best_units") or [], row.get("worst_units") or []
    if not best or not worst or best[0]["value"] == worst[0]["value"]:
        return ""
    kind, unit = row.get("kind", "percentage"), row.get("unit", "%")
    hi, lo = ("Cao nhất", "thấp nhất") if row.get("direction", "at_least") == "at_least" else ("Thấp nhất", "cao nhất")
    return f" {hi}: {_units_list(best, kind, unit)}; {lo}: {_units_list(worst, kind, unit)}."


def _phrase_by_type(row, ty, target: dict, strict) -> str:
    """CT4 overweight/obesity: one target for rural communes (xã), another for towns."""
    kind, unit, direction = row.get("kind", "percentage"), row.get("unit", "%"), row.get("direction", "at_most")
    by_type = row.get("by_type") or {}
    parts = []
    for t, tv in target.items():
        if t not in by_type or tv is None:
            continue
        v = (by_type.get(t) or {}).get("value")
        place, tp = TYPE_PLACES.get(t, t), format_target(tv, kind, unit, direction, strict)
        if v is None:
            parts.append(f"{place} {NO_DATA} (mục tiêu năm {ty}: {tp})")
        else:
            ok = _meets(v, tv, direction, strict)
            parts.append(f"{place} {format_value(v, kind, unit, tv)}, {'đạt' if ok else 'chưa đạt'} "
                         f"mục tiêu năm {ty} ({tp})")
    text = f"{row['name']} chung toàn huyện là {format_value(row['value'], kind, unit)}"
    return text + (": " + "; ".join(parts) if parts else "")


def _share_predicate(name: str) -> str | None:
    s = name[len("Tỷ lệ "):] if name.startswith("Tỷ lệ ") else None
    if s is None:
        return None
    for w in ("xã, phường, thị trấn ", "xã, thị trấn ", "xã "):
        if s.startswith(w):
            return s[len(w):]
    return None


def _phrase_share(row, year, strict, communes_word, reporting_units=None) -> str:
    """CT1/CT21: how many communes meet a yes/no criterion."""
    name, kind, unit = row["name"], row.get("kind"), row.get("unit", "%")
    value = row.get("value")
    targets = row.get("targets") or {}
    ty = reference_year(year, targets)
    target = targets.get(ty) if ty else None
    if value is None or row.get("denominator") is None:
        return f"{name}: {NO_DATA}."
    yes, reported, expected = int(row.get("numerator") or 0), int(row["denominator"]), int(row.get("units_expected") or 0)
    pred = _share_predicate(name)
    shown = format_value(value, kind, unit, target)
    if pred is None:
        text = f"{name}: {yes}/{reported} {communes_word} ({shown})"
    elif reported < expected and (reporting_units is None or reported < reporting_units):
        text = f"Trong {reported} {communes_word} có số liệu, có {yes}/{reported} {communes_word} {pred} ({shown})"
    else:
        text = f"Có {yes}/{reported} {communes_word} {pred} ({shown})"
    if isinstance(target, (int, float)):
        text += ", " + _assessment(row, ty, value, target, strict) + _track(row, ty, year)
    prev = (row.get("previous") or {}).get("value")
    if prev is not None:
        text += "; " + _change(value, prev, (row.get("previous") or {}).get("year", year - 1), kind, unit, "at_least")
    text += "."
    if reported < expected and (reporting_units is None or reported < reporting_units):
        text += f" Còn {expected - reported} {communes_word} chưa có số liệu."
    return text


def _phrase_yoy(row, year, yearly_fall, count, count_unit, communes_word, reporting_units=None) -> str:
    """CT13: the number of child marriages falls 1-2% a year, so it needs last year's count."""
    name = row["name"]
    subject = name
    for prefix in ("Mức thay đổi ", "Mức giảm "):
        if subject.startswith(prefix):
            subject = subject[len(prefix):]
    subject = subject.removesuffix(" so với năm trước")
    subject_cap = subject[:1].upper() + subject[1:]
    targets = row.get("targets") or {}
    ty = reference_year(year, targets)
    target = targets.get(ty) if ty else None
    goal = f"mức {_fall_text(yearly_fall, target)}"
    unit = f" {count_unit}" if count_unit else ""
    prev_year = (row.get("previous") or {}).get("year", year - 1)
    value, cur, prev = row.get("value"), row.get("numerator"), row.get("denominator")
    if value is not None and cur is not None and prev is not None:
        moved = ("không thay đổi" if abs(value) < 0.005 else
                 f"{'giảm' if value < 0 else 'tăng'} {_num(abs(value))}%")
        met = _is_met(row, ty, value, target, False) if isinstance(target, (int, float)) else None
        text = (f"Năm {year}, {subject} là {_num(cur, 0)}{unit} (năm {prev_year}: {_num(prev, 0)}{unit}); "
                f"{subject} {moved} so với năm trước")
        if met is not None:
            text += f", {'đạt' if met else 'chưa đạt'} {goal}"
        text += "."
        if row.get("partial") and (reporting_units is None or row["units_reported"] < reporting_units):
            text += f" Số liệu của {row['units_reported']}/{row['units_expected']} {communes_word} có báo cáo cả hai năm."
        return text
    if cur is not None and prev == 0:
        return (f"Năm {year}, {subject} là {_num(cur, 0)}{unit}; năm {prev_year} không có nên không tính được "
                f"mức thay đổi so với năm trước (mục tiêu: {goal}).")
    if count is not None:
        return (f"Năm {year}, {subject} là {_num(count, 0)}{unit}; chưa có số liệu năm {prev_year} để tính mức "
                f"thay đổi so với năm trước (mục tiêu: {goal}).")
    return f"{subject_cap}: {NO_DATA} (mục tiêu: {goal})."


# --- cells of the tables ---------------------------------------------------------------------
def table_value(value, kind: str, decimals: int = 2, target=None) -> str:
    """A value for a table cell; beside a target, with enough decimals never to look equal to
    it when it is not (99,496 against 99,5, not "99,5 Chưa đạt")."""
    if value is None:
        return DASH
    if kind == "yoy_change":
        return "0" if abs(value) < 0.005 else f"{'Giảm' if value < 0 else 'Tăng'} {_num(abs(value), decimals)}"
    return _shown(value, target) if isinstance(target, (int, float)) else _num(value, decimals)


def table_target(target, kind: str, direction: str, strict: bool, yearly_fall=None) -> str:
    if target is None:
        return DASH
    if kind == "yoy_change":
        return _fall_text(yearly_fall, target)[:1].upper() + _fall_text(yearly_fall, target)[1:]
    if isinstance(target, dict):
        text = "; ".join(f"{'dưới' if strict else 'tối đa'} {_num(v)} ({UNIT_TYPE_WORDS.get(k, k)})"
                         for k, v in target.items() if v is not None)
        return text[:1].upper() + text[1:]
    if direction == "at_most":
        return f"{'Dưới' if strict else 'Tối đa'} {_num(target)}"
    return _num(target)


def table_unit(row: dict) -> str:
    if row.get("kind") == "per_100000_children":
        return "Trẻ em/ 100.000 trẻ em"
    return row.get("unit", "")


def date_text(d: Date | None, year: int) -> str:
    """"ngày 05 tháng 01 năm 2026" (day < 10 and months 1-2 zero-padded), or dots for the
    officer to fill in by hand."""
    if d is None:
        return f"ngày …… tháng …… năm {year}"
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


# --- the context -----------------------------------------------------------------------------
def _ind_info(cat, code: str) -> dict:
    try:
        ind = cat.indicator(code)
    except StopIteration:
        return {"strict": False, "yearly_fall": None, "numerator": None, "count_unit": ""}
    unit = cat.field(ind.numerator).unit if cat.has_field(ind.numerator) else ""
    return {"strict": ind.strict, "yearly_fall": ind.yearly_fall, "numerator": ind.numerator, "count_unit": unit}


def communes_word(unit_types: dict) -> str:
    types = set(unit_types.values())
    return "xã, thị trấn" if "thi_tran" in types or not types else "xã"


def _tt_labels(rows: list[dict]) -> dict[str, str]:
    """"3a", "3b", "3c" for the sub-indicators of one chỉ tiêu; "1" for a single one."""
    per: dict[int, list[str]] = {}
    for r in rows:
        per.setdefault(r["chi_tieu"], []).append(r["code"])
    out = {}
    for n, codes in per.items():
        for i, c in enumerate(codes):
            out[c] = str(n) if len(codes) == 1 else f"{n}{'abcdefghij'[i] if i < 10 else i}"
    return out


def _paragraphs(text: str) -> list[str]:
    lines = [ln.strip() for ln in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return [ln for ln in lines if ln]


def _narratives(result: dict, field: str) -> list[dict]:
    out = []
    for n in result.get("narratives") or []:
        if n.get("field") != field:
            continue
        paras = _paragraphs(n.get("text", ""))
        if not paras:
            continue
        first = re.sub(r"^[-+•]\s+", "", paras[0])
        out.append({"unit": n.get("unit_name") or n.get("unit", ""), "first": first, "rest": paras[1:]})
    return out


def _status_label(row: dict, ty: str | None) -> str:
    if ty is None:
        return "Không có chỉ tiêu"
    return (row.get("status") or {}).get(ty) or NO_DATA.capitalize()


def _count_of(fields: dict | None, result: dict, field: str | None) -> float | None:
    if not fields or not field:
        return None
    communes = {u for u, t in (result.get("unit_types") or {}).items() if t in COMMUNE_TYPES}
    nums = [v.get(field) for u, v in fields.items() if u in communes]
    nums = [x for x in nums if isinstance(x, (int, float))]
    return sum(nums) if nums else None


def build_context(ws, result: dict, *, date: Date | None = None, quality: dict | None = None,
                  fields: dict | None = None, charts: dict | None = None) -> dict:
    """Everything the template asks for, as plain strings, numbers and lists of dicts.

    Pure: reads only what is passed (the workspace's settings and catalogue, the merge
    result, the data-quality summary from `data_quality`, the year's unit fields from the
    store and the chart file paths)."""
    s, cat = ws.settings, ws.catalogue
    year = int(result["year"])
    rows = result.get("indicators") or []
    unit_types = result.get("unit_types") or {}
    cw = communes_word(unit_types)
    ref = default_reference_year(year)
    tts = _tt_labels(rows)
    info = {r["code"]: _ind_info(cat, r["code"]) for r in rows}
    signer = s.get("signer") or {}
    cov = result.get("coverage") or {}

    phrases = {}
    for r in rows:
        i = info[r["code"]]
        phrases[r["code"]] = phrase_indicator(
            r, year, strict=i["strict"], yearly_fall=i["yearly_fall"], count_unit=i["count_unit"],
            count=_count_of(fields, result, i["numerator"]) if r.get("kind") == "yoy_change" else None,
            communes_word=cw, reporting_units=cov.get("communes_reported"))

    goals = []
    for g in sorted({r["goal"] for r in rows}):
        items, by_ct = [], {}
        for r in rows:
            if r["goal"] == g:
                by_ct.setdefault(r["chi_tieu"], []).append(phrases[r["code"]])
        for n, texts in by_ct.items():
            items.append({"label": f"Chỉ tiêu {n}", "text": " ".join(texts)})
        goals.append({"number": g, "title": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": "), "entries": items})

    statuses = [(r, reference_year(year, r.get("targets") or {})) for r in rows]
    codes = [(r, (r.get("status_code") or {}).get(ty) if ty else "khong_co_chi_tieu") for r, ty in statuses]
    met = [r for r, c in codes if c == "dat"]
    not_met = [r for r, c in codes if c == "chua_dat"]
    no_data = [r for r, c in codes if c == "chua_co_so_lieu"]
    n_ct = len({r["chi_tieu"] for r in rows})

    ctx = {
        "year": year, "year_prev": year - 1, "next_year": year + 1, "ref_year": ref,
        "baseline_year": cat.baseline_year,
        "issuer": s.get("issuer", ""), "issuer_short": s.get("issuer_short", ""),
        "issuer_header": list(s.get("issuer_header") or []), "document_code": s.get("document_code", "BC-UBND"),
        "place": s.get("place", ""), "date_text": date_text(date, year),
        "date_short": date.strftime("%d/%m/%Y") if date else "……",
        "programme": cat.programme, "recipient": s.get("recipient", ""),
        "recipients": list(s.get("recipients") or []), "coordinator_short": s.get("coordinator_short", ""),
        "signer": {"on_behalf": signer.get("on_behalf", ""), "deputy": signer.get("deputy") or "",
                   "title": signer.get("title", ""), "name": signer.get("name", "")},
        "communes_word": cw,
        "units_text": _units_text(unit_types),
        "population": _population(result, cat),
        "population_note": _population_note(result, cw),
        "direction": _narratives(result, "narr_direction"),
        "communication": _narratives(result, "narr_communication"),
        "results_narratives": _narratives(result, "narr_results"),
        "limitations": _narratives(result, "narr_limitations"),
        "next_year_plans": _narratives(result, "narr_next_year"),
        "recommendations": _narratives(result, "narr_recommendations"),
        "results_intro": (
            f"Số liệu tổng hợp từ báo cáo hợp lệ của {cov.get('communes_reported', 0)}/"
            f"{cov.get('communes_expected', 0)} {cw} và {cov.get('reported', 0) - cov.get('communes_reported', 0)}/"
            f"{cov.get('expected', 0) - cov.get('communes_expected', 0)} phòng, ban, ngành, đoàn thể; tỷ lệ của toàn "
            f"huyện tính bằng tổng tử số chia tổng mẫu số của các đơn vị có báo cáo."),
        "results_summary": (
            f"Trong {len(rows)} nội dung của {n_ct} chỉ tiêu, so với mục tiêu của Kế hoạch: đạt {len(met)}, chưa đạt "
            f"{len(not_met)}, chưa có số liệu {len(no_data)} (chi tiết tại Phụ lục I; số liệu từng "
            f"{cw.split(',')[0]} tại Phụ lục II)."),
        "goals": goals,
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
    ctx["unit_rows"], ctx["district_row"], ctx["unit_rows_note"] = _unit_table(result, rows, year, cw)
    ctx["quality"] = _quality_context(quality, result, rows, tts, cw)
    return ctx


def _units_text(unit_types: dict) -> str:
    xa = sum(t == "xa" for t in unit_types.values())
    tt = sum(t == "thi_tran" for t in unit_types.values())
    if not xa + tt:
        return "các đơn vị hành chính cấp xã"
    if not tt:
        return f"{xa} xã"
    return f"{xa + tt} đơn vị hành chính cấp xã ({xa} xã, {tt} thị trấn)"


def _population(result: dict, cat) -> list[dict]:
    pop = result.get("population") or {}
    out = []
    for code, p in pop.items():
        unit = cat.field(code).unit if cat.has_field(code) else ""
        v = p.get("value")
        out.append({"label": p.get("label", code), "value": f"{_num(v, 0)} {unit}".strip() if v is not None else NO_DATA,
                    "end": ";"})
    if out:
        out[-1]["end"] = "."
    return out


def _population_note(result: dict, cw: str) -> str:
    pop = result.get("population") or {}
    cov = result.get("coverage") or {}
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
        ty = reference_year(year, r.get("targets") or {})
        i = info[r["code"]]
        target = r["targets"][ty]
        if r.get("kind") == "yoy_change":
            now, goal = table_value(r["value"], r["kind"]).lower() + "% so với năm trước", _fall_text(i["yearly_fall"], target)
        elif isinstance(target, dict):
            now = format_value(r["value"], r["kind"], r.get("unit", "%"))
            goal = _target_words(target, r["kind"], r.get("unit", "%"), r["direction"], i["strict"])
        else:
            now = format_value(r["value"], r["kind"], r.get("unit", "%"), target)
            goal = format_target(target, r["kind"], r.get("unit", "%"), r["direction"], i["strict"])
        lines.append(f"Chỉ tiêu {tts[r['code']]} ({_lower_first(r['name'])}): {now}; mục tiêu năm {ty}: {goal};")
    for r in no_data:
        lines.append(f"Chỉ tiêu {tts[r['code']]} ({_lower_first(r['name'])}): {NO_DATA};")
    if lines:
        lines[-1] = lines[-1][:-1] + "."
    return lines


def _budget(result: dict) -> dict:
    b = result.get("budget") or {}
    total = b.get("total") or {}
    n = b.get("units_reported") or 0
    if not n:
        return {"summary": f"Chưa có số liệu kinh phí: chưa đơn vị nào báo cáo kinh phí thực hiện năm "
                           f"{result['year']}.", "lines": []}
    planned, spent = total.get("planned") or 0, total.get("spent") or 0
    rate = f" (đạt {_num(spent / planned * 100)}% dự toán)" if planned else ""
    summary = (f"Tổng kinh phí thực hiện Chương trình năm {result['year']} (tổng hợp từ báo cáo của {n} đơn vị): "
               f"dự toán {_num(planned)} triệu đồng, thực hiện {_num(spent)} triệu đồng{rate}. Trong đó:")
    lines = []
    sources = [x for x in (b.get("by_source") or {}).values() if (x.get("planned") or x.get("spent"))]
    for i, x in enumerate(sources):
        end = ";" if i < len(sources) - 1 else "."
        lines.append(f"{x['name']}: dự toán {_num(x.get('planned') or 0)} triệu đồng, thực hiện "
                     f"{_num(x.get('spent') or 0)} triệu đồng{end}")
    if not lines:
        summary = summary.removesuffix(" Trong đó:")
    return {"summary": summary, "lines": lines}


def _annex1(rows, tts, info, year, cat, reporting_units=None) -> list[dict]:
    out = []
    for g in sorted({r["goal"] for r in rows}):
        out.append({"group": True, "text": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": ")})
        for r in (r for r in rows if r["goal"] == g):
            i = info[r["code"]]
            ty = reference_year(year, r.get("targets") or {})
            notes = []
            if ty and ty != default_reference_year(year):
                notes.append(f"So với mục tiêu năm {ty}")
            if r.get("kind") == "yoy_change" and r.get("numerator") is not None and r.get("denominator") is not None:
                notes.append(f"{_num(r['numerator'], 0)} {i['count_unit']} (năm trước {_num(r['denominator'], 0)})"
                             .replace("  ", " "))
            if (r.get("partial") and r.get("source") != "office"
                    and (reporting_units is None or r["units_reported"] < reporting_units)):
                notes.append(f"Số liệu của {r['units_reported']}/{r['units_expected']} đơn vị")
            if r.get("source") == "office":
                notes.append(f"Theo số của {r.get('lead_office_name')}")
            off = r.get("office") or {}
            if off.get("differs"):
                notes.append(f"{r.get('lead_office_name')} báo {_num(off['value'])}, lệch tổng các xã")
            t = (r.get("track") or {}).get(ty) if ty else None
            if isinstance(t, dict) and t.get("label"):
                notes.append(t["label"])
            tg = r.get("targets") or {}
            out.append({
                "group": False, "tt": tts[r["code"]], "name": r["name"], "unit": table_unit(r),
                "t2025": table_target(tg.get("2025"), r.get("kind"), r.get("direction"), i["strict"], i["yearly_fall"]),
                "t2030": table_target(tg.get("2030"), r.get("kind"), r.get("direction"), i["strict"], i["yearly_fall"]),
                "prev": table_value((r.get("previous") or {}).get("value"), r.get("kind")),
                "value": table_value(r.get("value"), r.get("kind"), target=tg.get(ty) if ty else None),
                "status": _status_label(r, ty), "note": "; ".join(notes),
            })
    return out


def _unit_cell(v, kind, status_label, target=None) -> str:
    if v is None:
        return DASH
    if kind == "share_of_communes":
        return "Có" if v else "Không"
    text = table_value(v, kind, target=target)
    return text + ("*" if status_label == "Chưa đạt" else "")


def _unit_table(result: dict, rows: list[dict], year: int, cw: str) -> tuple[list[dict], dict, str]:
    names = result.get("unit_names") or {}
    values = result.get("units") or {}
    status = result.get("unit_status") or {}
    communes = [u for u, t in (result.get("unit_types") or {}).items() if t in COMMUNE_TYPES]
    out, silent = [], []
    for n, u in enumerate(communes, start=1):
        vals, st = values.get(u) or {}, status.get(u) or {}
        v = {}
        for r in rows:
            ty = reference_year(year, r.get("targets") or {})
            v[r["code"]] = _unit_cell(vals.get(r["code"]), r.get("kind"), (st.get(r["code"]) or {}).get(ty or ""))
        if not vals:
            silent.append(names.get(u, u))
        out.append({"tt": n, "name": names.get(u, u), "v": v})
    district = {}
    for r in rows:
        ty = reference_year(year, r.get("targets") or {})
        label = _status_label(r, ty)
        if r.get("kind") == "share_of_communes" and r.get("value") is not None:
            district[r["code"]] = f"{_num(r['numerator'] or 0, 0)}/{_num(r['denominator'] or 0, 0)}"
        else:
            district[r["code"]] = _unit_cell(r.get("value"), r.get("kind"), label,
                                             (r.get("targets") or {}).get(ty) if ty else None)
    note = f"Chưa có số liệu hợp lệ của {len(silent)} {cw}: {_names(silent)}." if silent else ""
    if len(out) > UNIT_TABLE_LIMIT:
        # A province or national roster: the Word appendix shows the first units only; the
        # consolidated workbook has them all.
        note = (note + " " if note else "") + (f"Bảng nêu {UNIT_TABLE_LIMIT}/{len(out)} đơn vị; số liệu của tất cả "
                                              f"các đơn vị trong tệp tong_hop_{year}.xlsx.")
        out = out[:UNIT_TABLE_LIMIT]
    return out, district, note


def _names(items: list[str]) -> str:
    more = f" và {len(items) - NAMES_LIMIT} đơn vị khác" if len(items) > NAMES_LIMIT else ""
    return ", ".join(items[:NAMES_LIMIT]) + more


def _quality_context(quality: dict | None, result: dict, rows: list[dict], tts: dict, cw: str) -> dict:
    q = dict(quality or {})
    names = result.get("unit_names") or {}
    communes = [u for u, t in (result.get("unit_types") or {}).items() if t in COMMUNE_TYPES]
    silent = set((result.get("coverage") or {}).get("missing") or []) & set(communes)
    gaps = []
    if silent:
        gaps.append(f"{len(silent)} {cw} chưa có báo cáo hợp lệ nên thiếu số liệu ở mọi chỉ tiêu: "
                    f"{_names([names.get(u, u) for u in communes if u in silent])}.")
    for r in rows:
        if r.get("value") is None:
            gaps.append(f"Chỉ tiêu {tts[r['code']]} ({_lower_first(r['name'])}): {NO_DATA}.")
        elif r.get("partial") and r.get("source") != "office":
            extra = [names.get(u, u) for u in r.get("missing_units") or [] if u not in silent]
            if extra:
                gaps.append(f"Chỉ tiêu {tts[r['code']]}: có số liệu của {r['units_reported']}/{r['units_expected']} "
                            f"{cw}; ngoài các đơn vị trên, còn thiếu: {_names(extra)}.")
    doubts = []
    for d in result.get("office_differences") or []:
        row = next((r for r in rows if r["code"] == d.get("indicator")), None)
        if row is None:
            continue
        doubts.append(f"Chỉ tiêu {tts[row['code']]}: {row.get('lead_office_name') or d.get('unit')} báo cáo "
                      f"{_num(d['value'])}, tổng hợp từ các {cw} là {_num(row['value']) if row.get('value') is not None else NO_DATA}"
                      f" (chênh lệch {_num(abs(d.get('difference') or 0))}).")
    if q.get("problems_total"):
        doubts.append(f"Còn {q['problems_total']} lỗi, cảnh báo trong các báo cáo đang dùng (lỗi phải sửa, cảnh báo "
                      f"cần đơn vị giải thích), liệt kê ở bảng dưới.")
    if not doubts:
        doubts.append("Không có số liệu nghi vấn hoặc vấn đề còn tồn tại.")
    q.setdefault("summary", "Chưa có thông tin thu nhận báo cáo.")
    q.setdefault("units", [])
    q.setdefault("problems", [])
    q.setdefault("footer", "")
    q["gaps"], q["doubts"] = gaps, doubts
    return q


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
    met = not_met = no_data = 0
    for g in sorted({r["goal"] for r in rows}):
        out_rows.append({"group": True, "text": f"Mục tiêu {g}: {cat.goals.get(g, '')}".rstrip(": ")})
        for r in (r for r in rows if r["goal"] == g):
            i = info[r["code"]]
            target = (r.get("targets") or {}).get(ty)
            hist = {int(k): v for k, v in (r.get("history") or {}).items()}
            cells = []
            for y in years:
                v = hist.get(y)
                cell = table_value(v, r.get("kind"), decimals)
                if v is not None and isinstance(target, (int, float)) and not _meets(v, target, r["direction"], i["strict"]):
                    cell += "*"
                cells.append(cell)
            out_rows.append({"group": False, "tt": tts[r["code"]], "name": r["name"], "unit": table_unit(r),
                             "cells": cells, "target": table_target(target, r.get("kind"), r.get("direction"),
                                                                     i["strict"], i["yearly_fall"])})
            code = (r.get("status_code") or {}).get(ty)
            if target is None:
                continue
            if code == "dat":
                met += 1
            elif code == "chua_dat":
                not_met += 1
                first = next(((y, hist[y]) for y in years if hist.get(y) is not None), None)
                since = (f"từ {format_value(first[1], r['kind'], r.get('unit', '%'))} (năm {first[0]}) đến "
                         if first and first[0] != year else "")
                tw = (_fall_text(i["yearly_fall"], target) if r.get("kind") == "yoy_change" else
                      format_target(target, r["kind"], r.get("unit", "%"), r["direction"], i["strict"])
                      if not isinstance(target, dict) else _target_words(target, r["kind"], r.get("unit", "%"),
                                                                          r["direction"], i["strict"]))
                now = (table_value(r["value"], r["kind"]).lower() + "%" if r.get("kind") == "yoy_change"
                       else format_value(r["value"], r["kind"], r.get("unit", "%")))
                lines.append(f"Chỉ tiêu {tts[r['code']]} ({_lower_first(r['name'])}): {since}{now} (năm {year}), "
                             f"chưa đạt mục tiêu ({tw}).")
            else:
                no_data += 1
    total = met + not_met + no_data
    title = f"{kind.capitalize()} {span} thực hiện Chương trình ({cat.baseline_year}-{year})"
    summary = (f"Qua {span} thực hiện Chương trình ({cat.baseline_year}-{year}), so với mục tiêu năm {year}: "
               f"đạt {met}/{total} nội dung chỉ tiêu, chưa đạt {not_met}, chưa có số liệu {no_data}.")
    if lines:
        summary += " Các chỉ tiêu chưa đạt:"
    return {"kind": kind, "span": span, "start": cat.baseline_year, "end": year, "target_year": ty, "years": years,
            "rows": out_rows, "title": title, "summary": summary, "lines": lines}


# --- charts ----------------------------------------------------------------------------------
def _compact(v: float, row: dict) -> str:
    unit = {"per_100000_children": "/100.000"}.get(row.get("kind"), row.get("unit", ""))
    return f"{_num(v)}{unit if unit in ('%', '‰', '/100.000') else ''}"


def attainment_bars(result: dict, info: dict | None = None) -> list[dict]:
    """The bars of the attainment chart: value as % of the target of reference (inverted for
    "reduce to" targets, so that 100 always means met). CT13 (year-over-year) is left out."""
    year = int(result["year"])
    rows = [r for r in result.get("indicators") or [] if r.get("kind") != "yoy_change"]
    tts = _tt_labels(result.get("indicators") or [])
    bars = []
    for r in rows:
        ty = reference_year(year, r.get("targets") or {})
        if ty is None:
            continue
        target, value = r["targets"][ty], r.get("value")
        strict = (info or {}).get(r["code"], {}).get("strict", False)
        name = re.sub(r"^(Tỷ lệ|Tỷ suất) ", "", r["name"])
        label = f"CT{tts[r['code']]}. {name[:1].upper()}{name[1:]}"
        label = label if len(label) <= 86 else label[:84].rstrip() + "…"
        bar = {"label": label, "percent": None, "met": False, "text": ""}
        if value is not None:
            if isinstance(target, dict):
                by = r.get("by_type") or {}
                pairs = [(by[k]["value"], t) for k, t in target.items() if k in by and by[k].get("value") is not None]
                pct = min((_attainment(v, t, r["direction"]) for v, t in pairs), default=None)
                tt = "/".join(_num(t) for t in target.values() if t is not None)
            else:
                pct, tt = _attainment(value, target, r["direction"]), _num(target)
            op = ("<" if strict else "≤") if r["direction"] == "at_most" else ""
            bar.update(percent=pct, met=(r.get("status_code") or {}).get(ty) == "dat",
                       text=f"{_compact(value, r)} (MT {op}{tt})")
        bars.append(bar)
    return bars


def _attainment(v: float, t: float, direction: str) -> float:
    if direction == "at_least":
        return 100.0 if t == 0 else v / t * 100
    return 150.0 if v <= 0 else t / v * 100


def trend_series(result: dict, codes: list[str] | tuple[str, ...], baseline_year: int) -> tuple[list[dict], list[int]]:
    year = int(result["year"])
    years = list(range(baseline_year, year + 1))
    tts = _tt_labels(result.get("indicators") or [])
    by_code = {r["code"]: r for r in result.get("indicators") or []}
    series = []
    for c in codes:
        r = by_code.get(c)
        if r is None:
            continue
        values = {int(k): v for k, v in (r.get("history") or {}).items()}
        targets = {y: t for y, t in (r.get("targets") or {}).items() if isinstance(t, (int, float))}
        series.append({"title": f"CT{tts[c]}. {r['name']}", "unit": table_unit(r), "values": values,
                       "targets": targets})
    return series, years


def write_charts(ws, result: dict, folder: Path) -> dict:
    """Draw the charts into `folder` (PNG); a chart with nothing to show is skipped."""
    from pipeline import charts

    year = int(result["year"])
    info = {r["code"]: _ind_info(ws.catalogue, r["code"]) for r in result.get("indicators") or []}
    out: dict[str, Path | None] = {"targets": None, "trend": None}
    bars = attainment_bars(result, info)
    if any(b["percent"] is not None for b in bars):
        out["targets"] = atomic_write(folder / f"bieu_do_muc_tieu_{year}.png", charts.attainment_chart(bars))
    codes = ((ws.settings.get("report") or {}).get("trend_indicators")) or TREND_INDICATORS
    series, years = trend_series(result, list(codes), ws.catalogue.baseline_year)
    if any(sum(v is not None for v in s["values"].values()) >= 2 for s in series):
        out["trend"] = atomic_write(folder / f"bieu_do_xu_huong_{year}.png", charts.trend_chart(series, years))
    return out


# --- data quality (read from the store) ------------------------------------------------------
def data_quality(ws, store, year: int) -> dict:
    """Who reported, who was on time, which problems are still open, as plain rows."""
    from pipeline.feedback import SEVERITY_LABELS, STATUS_LABELS, unit_rows

    subs, issues = store.submissions(year), store.issues_for_year(year)
    rows = unit_rows(ws, year, subs, issues)
    fields = {f.code: f for f in ws.catalogue.fields}
    units, problems = [], []
    for n, r in enumerate(rows, start=1):
        s = r["submission"]
        note = []
        if r["versions"] > 1:
            note.append(f"Đã gửi {r['versions']} bản")
        units.append({
            "tt": n, "name": r["name"], "status": STATUS_LABELS.get(r["status"], r["status"]),
            "received": _vn_date(r["received_at"]), "on_time": {True: "Có", False: "Không"}.get(r["on_time"], ""),
            "errors": r["errors"] or "", "warnings": r["warnings"] or "", "note": "; ".join(note),
        })
        if s is None:
            continue
        for i in issues.get(s.id, []):
            if i["code"] == "late-submission":
                continue  # timeliness is the table's own column
            problems.append({"unit": r["name"], "topic": _topic(fields.get(i.get("field") or "")),
                             # the cell, for report templates made before the indicator column
                             "cell": "!".join(x for x in (i.get("sheet"), i.get("cell")) if x),
                             "severity": SEVERITY_LABELS.get(i["severity"], ""), "message": i["message"],
                             "_error": i["severity"] == "error"})
    problems.sort(key=lambda p: not p["_error"])
    if len(units) > UNIT_TABLE_LIMIT:
        # At province or national scale, list the units that need attention first.
        order = {STATUS_LABELS["missing"]: 0, STATUS_LABELS["rejected"]: 1}
        units = sorted(units, key=lambda u: order.get(u["status"], 2))[:UNIT_TABLE_LIMIT]
    total = len(problems)
    problems = [{k: v for k, v in p.items() if k != "_error"} | {"tt": n}
                for n, p in enumerate(problems[:PROBLEM_LIMIT], start=1)]
    counts = {
        "expected": len(rows), "received": sum(r["status"] != "missing" for r in rows),
        "valid": sum(r["status"] in ("accepted", "accepted_with_warnings") for r in rows),
        "rejected": sum(r["status"] == "rejected" for r in rows),
        "on_time": sum(r["on_time"] is True for r in rows), "late": sum(r["on_time"] is False for r in rows),
        "missing": sum(r["status"] == "missing" for r in rows),
    }
    summary = (f"Phải báo cáo: {counts['expected']} đơn vị; đã gửi: {counts['received']}; hợp lệ: {counts['valid']}; "
               f"có lỗi phải gửi lại: {counts['rejected']}; gửi đúng hạn ({ws.settings.deadline(year):%d/%m/%Y}): "
               f"{counts['on_time']}; gửi muộn: {counts['late']}; chưa gửi: {counts['missing']}.")
    keeper = ws.settings.get("coordinator") or "đơn vị tổng hợp"
    footer = (f"Danh sách đầy đủ các lỗi, cảnh báo (đến từng ô của biểu mẫu) và các tệp đã nhận: tệp "
              f"kiem_tra_so_lieu_{year}.xlsx, lưu tại {keeper}.")
    if total > PROBLEM_LIMIT:
        footer = f"Bảng trên nêu {PROBLEM_LIMIT}/{total} vấn đề (lỗi trước, cảnh báo sau). " + footer
    if len(rows) > UNIT_TABLE_LIMIT:
        footer = (f"Bảng đơn vị nêu {UNIT_TABLE_LIMIT}/{len(rows)} đơn vị, các đơn vị chưa gửi hoặc có lỗi trước. "
                  + footer)
    collected = [s.collected_at for s in subs if s.collected_at]
    return {"summary": summary, "units": units, "problems": problems, "problems_total": total,
            "counts": counts, "footer": footer, "last_collected": max(collected, default="")}


def _topic(f) -> str:
    """Which part of the report a problem concerns, for a reader of the report (the cell is in
    the validation workbook): "CT4", "Số liệu chung", "Kinh phí", "Báo cáo"; "" for the file."""
    if f is None:
        return ""
    if f.chi_tieu:
        return f"CT{f.chi_tieu}"
    return {"budget": "Kinh phí", "narrative": "Báo cáo"}.get(f.section, "Số liệu chung")


def _vn_date(iso: str) -> str:
    if not iso:
        return ""
    try:
        return Date.fromisoformat(iso[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return iso


# --- rendering -------------------------------------------------------------------------------
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean_text(s: str) -> str:
    """Text XML can hold: NFC, line ends as \\n, no control characters."""
    s = unicodedata.normalize("NFC", s).replace("\r\n", "\n").replace("\r", "\n")
    return _XML_ILLEGAL.sub("", s)


def _safe(value):
    """Every string escaped for XML here, once (autoescape leaves Markup alone). docxtpl
    rewrites "{_{", "}_}", "{_%" and "%_}" in the rendered XML (its escape for literal tags),
    so an underscore next to a brace is written as a character reference it cannot see."""
    from markupsafe import Markup, escape

    if isinstance(value, str):
        s = str(escape(clean_text(value)))
        return Markup(s.replace("{_", "{&#95;").replace("_}", "&#95;}"))
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    return value


def template_problems(template: Path, context: dict) -> list[str]:
    """Names the template asks for that the context lacks (an officer's edit gone wrong)."""
    from docxtpl import DocxTemplate

    return sorted(DocxTemplate(str(template)).get_undeclared_template_variables(context=context))


def render_docx(template: Path, context: dict, image_width_mm: float = 160) -> bytes:
    """Fill the template. Jinja sees only the template's own tags; the context's strings are
    data (escaped), never template source. Chart paths become inline images."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        tpl = DocxTemplate(str(template))
        tpl.init_docx()
    except Exception as e:  # noqa: BLE001 - a damaged or non-Word file: say which
        raise ReportError(f"Không mở được mẫu báo cáo {template}: {e}. Lấy lại mẫu gốc bằng cách xóa tệp này "
                          f"(treem dùng mẫu có sẵn) hoặc chạy treem init ở thư mục mới.") from e
    ctx = _safe(context)
    for key in ("chart_targets", "chart_trend"):
        path = context.get(key)
        ctx[key] = InlineImage(tpl, str(path), width=Mm(image_width_mm)) if path else ""
    env = SandboxedEnvironment(autoescape=True)
    try:
        tpl.render(ctx, jinja_env=env, autoescape=True)
    except TemplateError as e:
        where = f" (dòng {e.lineno})" if getattr(e, "lineno", None) else ""
        raise ReportError(f"Mẫu báo cáo {template} có thẻ sai{where}: {e}. Sửa thẻ trong Word "
                          f"(giữ nguyên dạng {{{{ ... }}}} và {{% ... %}}) rồi chạy lại.") from e
    _fit_year_columns(tpl.docx)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def _fit_year_columns(doc) -> None:
    """The review table repeats one column per year ({%tc for %}): give the year columns the
    width the fixed columns leave, and make the goal rows span the whole table."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section = doc.sections[-1]
    total = int((section.page_width - section.left_margin - section.right_margin) / 635)  # EMU -> twips
    for tbl in doc.element.body.iter(qn("w:tbl")):
        cap = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
        if cap is None or cap.get(qn("w:val")) != "treem:year-columns":
            continue
        trs = tbl.findall(qn("w:tr"))
        if not trs:
            continue
        head = trs[0].findall(qn("w:tc"))
        texts = ["".join(t.text or "" for t in tc.iter(qn("w:t"))).strip() for tc in head]
        is_year = [bool(re.fullmatch(r"\d{4}", t)) for t in texts]
        fixed = {}
        for i, (tc, y) in enumerate(zip(head, is_year)):
            w = tc.find(f"{qn('w:tcPr')}/{qn('w:tcW')}")
            if not y and w is not None:
                fixed[i] = int(w.get(qn("w:w")))
        n_years = sum(is_year) or 1
        each = (total - sum(fixed.values())) // n_years
        if each < MIN_YEAR_TWIPS and fixed:
            # Many years: narrow the widest fixed column (the indicator's name), not below 5 cm.
            widest = max(fixed, key=fixed.get)
            give = min(fixed[widest] - 2835, (MIN_YEAR_TWIPS - each) * n_years)
            fixed[widest] -= max(0, give)
            each = (total - sum(fixed.values())) // n_years
        col_w = [each if y else fixed.get(i, each) for i, y in enumerate(is_year)]
        grid = tbl.find(qn("w:tblGrid"))
        for g in list(grid):
            grid.remove(g)
        for w in col_w:
            g = OxmlElement("w:gridCol")
            g.set(qn("w:w"), str(w))
            grid.append(g)
        for tr in trs:
            tcs = tr.findall(qn("w:tc"))
            for i, tc in enumerate(tcs):
                tcpr = tc.get_or_add_tcPr()
                span = tcpr.find(qn("w:gridSpan"))
                if len(tcs) == 1 and len(col_w) > 1:
                    if span is None:
                        span = OxmlElement("w:gridSpan")
                        tcpr.insert(1 if tcpr.find(qn("w:tcW")) is not None else 0, span)
                    span.set(qn("w:val"), str(len(col_w)))
                    width = sum(col_w)
                else:
                    width = col_w[i] if i < len(col_w) else each
                tcw = tcpr.find(qn("w:tcW"))
                if tcw is None:
                    tcw = OxmlElement("w:tcW")
                    tcpr.insert(0, tcw)
                tcw.set(qn("w:w"), str(width))
                tcw.set(qn("w:type"), "dxa")


# --- the stage -------------------------------------------------------------------------------
def _warnings(result: dict, quality: dict, rows: list[dict], cw: str) -> list[str]:
    out = []
    cov = result.get("coverage") or {}
    if cov.get("communes_reported", 0) < cov.get("communes_expected", 0):
        out.append(f"Mới có số liệu hợp lệ của {cov['communes_reported']}/{cov['communes_expected']} {cw}; "
                   f"các tỷ lệ tính trên các đơn vị đã báo cáo (xem Phụ lục III).")
    missing = [indicator_label(r["code"]) for r in rows if r.get("value") is None]
    if missing:
        out.append(f"{len(missing)} chỉ tiêu chưa có số liệu, báo cáo ghi «{NO_DATA}»: {', '.join(missing)}.")
    fields = {n.get("field") for n in result.get("narratives") or []}
    lacking = [label for f, label in (("narr_direction", "chỉ đạo, điều hành"), ("narr_communication", "truyền thông"),
                                      ("narr_limitations", "tồn tại, hạn chế"), ("narr_next_year", "phương hướng"),
                                      ("narr_recommendations", "kiến nghị")) if f not in fields]
    if lacking:
        out.append(f"Chưa có nội dung của các phòng, ngành cho các mục: {', '.join(lacking)}; báo cáo để câu ghi chú "
                   f"cần bổ sung, sửa trực tiếp trong Word.")
    merged_at, collected = result.get("merged_at") or "", quality.get("last_collected") or ""
    if merged_at and collected and collected > merged_at:
        out.append(f"Có tệp được thu nhận sau lần tổng hợp gần nhất ({merged_at.replace('T', ' ')}); chạy "
                   f"«treem merge --year {result['year']}» rồi viết lại báo cáo để dùng số liệu mới.")
    return out


# Districts (cấp huyện) ceased to exist on 1 July 2025 (Nghị quyết 1686/NQ-UBTVQH15).
LAST_DISTRICT_YEAR = 2024


def _settings_warnings(settings, year: int) -> list[str]:
    """A report from 2025 on cannot come from a district: say so if settings.yaml still names one."""
    issuer = str(settings.get("issuer") or "")
    if year > LAST_DISTRICT_YEAR and "huyện" in issuer.lower():
        return [f"Từ 01/7/2025 không còn cấp huyện, nhưng settings.yaml vẫn ghi cơ quan ban hành «{issuer}»; sửa "
                f"issuer, issuer_header, signer, recipient và recipients trong settings.yaml của thư mục làm việc "
                f"rồi viết lại báo cáo."]
    return []


def report(ws, year: int, pdf: bool = False, date: Date | None = None) -> dict:
    """Write output/YEAR/bao_cao_YEAR.docx (and .pdf) from the year's stored merge.
    Returns {"year", "docx", "pdf", "charts", "warnings"}."""
    from pipeline.merge import load
    from pipeline.store import Store

    result = load(ws, year)
    if result is None:
        raise ReportError(f"Chưa có số liệu tổng hợp năm {year}. Chạy «treem merge --year {year}» trước, rồi chạy "
                          f"lại «treem report --year {year}».")
    template = ws.template(REPORT_TEMPLATE)
    folder = ws.output(year)
    with ws.lock("treem report"):
        with Store(ws.db_path) as store:
            quality = data_quality(ws, store, year)
            fields = store.merged_fields(year)
        charts = write_charts(ws, result, folder / "bieu_do")
        context = build_context(ws, result, date=date, quality=quality, fields=fields, charts=charts)
        warnings = _warnings(result, quality, result.get("indicators") or [], context["communes_word"])
        warnings += _settings_warnings(ws.settings, year)
        unknown = template_problems(template, context)
        if unknown:
            warnings.append(f"Mẫu báo cáo {template.name} dùng tên không có trong số liệu (để trống): "
                            f"{', '.join(unknown)}.")
        data = render_docx(template, context)
        docx = _write(folder / f"bao_cao_{year}.docx", data)
        pdf_path = _pdf(ws, docx) if pdf else None
    return {"year": year, "docx": str(docx), "pdf": str(pdf_path) if pdf_path else None,
            "charts": [str(p) for p in charts.values() if p], "warnings": warnings}


def _write(path: Path, data: bytes) -> Path:
    try:
        return atomic_write(path, data)
    except OSError as e:
        raise ReportError(f"Không ghi được {path}: {e.strerror or e}. Nếu tệp đang mở trong Word, đóng tệp rồi chạy "
                          f"lại.") from e


def _pdf(ws, docx: Path) -> Path:
    from pipeline.office import OfficeError, convert

    try:
        with tempfile.TemporaryDirectory(prefix="treem-pdf-") as tmp:
            produced = convert(docx, "pdf", Path(tmp))
            return _write(docx.with_suffix(".pdf"), produced.read_bytes())
    except OfficeError as e:
        try:
            where = docx.resolve().relative_to(ws.root)
        except ValueError:
            where = docx
        raise ReportError(f"Đã ghi báo cáo Word {where}, nhưng không tạo được bản PDF: {e}") from e

"""Figures into words: one indicator's paragraph, values and targets for the tables.
Every number is rounded once, half away from zero, at the precision shown (pipeline.base.text);
verdicts are read from the merge result, never judged here."""

from __future__ import annotations

from datetime import date as Date
from fractions import Fraction

from pipeline.merge.result import VERDICT_LABELS, IndicatorResult, Verdict

from pipeline.merge.merger import reference_year
from pipeline.base.text import decimals_apart, round_half_away, vn_number, vn_number_apart

NO_DATA = "chưa có số liệu"
DASH = "–"
# Areas, not unit types: from 2025 a xã formed around a former town is an urban area (roster "area").
TYPE_PLACES = {"xa": "khu vực nông thôn", "thi_tran": "khu vực thành thị"}
AREA_WORDS = {"xa": "nông thôn", "thi_tran": "thành thị"}

# --- numbers and targets in words ------------------------------------------------------------
def num_text(x: float, decimals: int = 2) -> str:
    """Rounded once, half away from zero (pipeline.base.text.vn_number)."""
    return vn_number(float(x), decimals)


def _shown(value: float, target=None) -> str:
    """Up to 2 decimals; more when rounding would make a value read as its target (or as any
    of several numbers it stands beside) when it is not ("99,497%, chưa đạt mục tiêu (99,5%)")."""
    if target is not None:
        return vn_number_apart(float(value), target)
    return num_text(value)


def _reference_target(row: IndicatorResult):
    """The number the row is judged against this year (None for targets by area or none)."""
    t = (row.targets or {}).get(row.reference_year) if row.reference_year else None
    return t if isinstance(t, (int, float)) else None


def is_strict(strict, ty) -> bool:
    """`strict` as the catalogue gives it to the report: one flag, or one per target year."""
    return bool(strict.get(str(ty), False)) if isinstance(strict, dict) else bool(strict)


def _bare(row: IndicatorResult) -> bool:
    """A rate whose name already says "trên 100.000 trẻ em" or "trên 1.000 trẻ đẻ sống": its
    numbers go without the unit."""
    return ((row.kind == "per_100000_children" and "100.000" in row.name)
            or (row.kind == "per_1000_live_births" and "1.000" in row.name))


def format_value(value: float, kind: str, unit: str, target=None, bare: bool = False,
                 places: int | None = None) -> str:
    """96.2 -> "96,2%"; 3.2 (‰) -> "3,2‰"; 20 per 100,000 -> "20 trẻ em/100.000 trẻ em" (or
    "20" when the sentence already names the unit). `target`: one number or several the value
    must not read as; `places`: exactly that many decimals (trailing zeros dropped)."""
    s = vn_number(float(value), places) if places is not None else _shown(value, target)
    if bare:
        return s
    if kind == "per_100000_children":
        return f"{s} trẻ em/100.000 trẻ em"
    if unit in ("%", "‰"):
        return s + unit
    if unit.startswith("/"):
        return s + unit
    return f"{s} {unit}".strip()


def format_target(target: float, kind: str, unit: str, direction: str, strict: bool, bare: bool = False) -> str:
    """The target as the plan words it: "95%", "dưới 2,5‰", "không quá 17%"."""
    v = format_value(target, kind, unit, bare=bare)
    if direction == "at_most":
        return ("dưới " if strict else "không quá ") + v
    return v


def default_reference_year(year: int) -> str:
    return "2025" if year <= 2025 else "2030"


def verdict_of(row: IndicatorResult, ty: str | None) -> Verdict:
    """The merge's verdict of a row against the target of `ty` (never judged again here)."""
    return row.verdict_for(ty)


def fall_text(yearly_fall: dict | None, target) -> str:
    if yearly_fall and yearly_fall.get("min") is not None and yearly_fall.get("max") is not None:
        return f"giảm {num_text(yearly_fall['min'])}-{num_text(yearly_fall['max'])}%/năm"
    if isinstance(target, (int, float)):
        return f"giảm ít nhất {num_text(abs(target))}%/năm"
    return "giảm hằng năm"


def lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s


def _units_list(items: list[dict], kind: str, unit: str) -> str:
    """"Xã A (99%), Xã B (98,5%)"; rates per 100,000 as bare numbers, the sentence says the unit."""
    def short(v):
        return num_text(v) if kind == "per_100000_children" else format_value(v, kind, unit)

    return ", ".join(f"{u['name']} ({short(u['value'])})" for u in items)


def provisional_words(row: IndicatorResult, communes_word: str) -> str:
    """What a verdict on fewer than all communes is: "tạm tính trên số liệu của 32/34 xã, thị trấn"."""
    return f"tạm tính trên số liệu của {row.units_reported}/{row.units_expected} {communes_word}"


# --- one indicator in words ------------------------------------------------------------------
def phrase_indicator(row: IndicatorResult, year: int, *, strict=False, yearly_fall: dict | None = None,
                     count: float | None = None, count_unit: str = "", communes_word: str = "xã, thị trấn",
                     reporting_units: int | None = None, area: str = "huyện") -> str:
    """The paragraph of one indicator, from the numbers of its merge row: value, target and
    verdict, change from last year (like for like), track, coverage, the lead office's
    figure, best and worst units.

    `strict` (one flag or one per target year), `yearly_fall` and `count_unit` come from the
    catalogue; `count` is this year's total count for a year-over-year indicator (CT13) when
    last year's is missing. Partial coverage is mentioned when fewer units than
    `reporting_units` (the communes that sent a valid report at all, said once in the report)
    gave this indicator; None: always. A verdict on fewer than all communes always says so.
    `area` names the whole the report covers ("huyện"; from 2025 the settings say, e.g. "địa bàn")."""
    kind = row.kind
    if kind == "yoy_change":
        return _phrase_yoy(row, year, yearly_fall, count, count_unit, communes_word, reporting_units, area)
    if kind == "share_of_communes":
        return _phrase_share(row, year, strict, communes_word, reporting_units)
    name, unit, direction = row.name, row.unit, row.direction
    targets = row.targets or {}
    ty = reference_year(year, targets)
    target = targets.get(ty) if ty else None
    value = row.value
    bare = _bare(row)
    if value is None:
        tail = (f" (mục tiêu năm {ty}: {target_words(target, kind, unit, direction, is_strict(strict, ty), bare)})"
                if ty else "")
        return f"{name}: {NO_DATA}{tail}."
    source = ""
    if row.source == "office":
        source = f" (theo số liệu của {row.lead_office_name or row.lead_office})"
    if isinstance(target, dict):
        text = _phrase_by_type(row, ty, target, is_strict(strict, ty), area) + source
        if row.provisional:
            text += f", {provisional_words(row, communes_word)}"
        text += "."
    else:
        shown = format_value(value, kind, unit, target, bare=bare)
        verb = f"đạt {shown}" if direction == "at_least" else f"là {shown}"
        text = f"{name} {verb}{source}"
        if target is not None:
            text += ", " + _assessment(row, ty, target, is_strict(strict, ty), communes_word) + _track(row, ty, year)
        change = _change(row, communes_word)
        if change:
            text += "; " + change
        text += "."
    coverage = "" if row.provisional else _coverage(row, communes_word, reporting_units)
    return text + coverage + _office_note(row, communes_word, area) + _extremes(row)


def target_words(target, kind, unit, direction, strict, bare: bool = False) -> str:
    if isinstance(target, dict):
        return ", ".join(f"{format_target(v, kind, unit, direction, strict)} đối với {AREA_WORDS.get(k, k)}"
                         for k, v in target.items())
    return format_target(target, kind, unit, direction, strict, bare)


def _assessment(row, ty, target, strict, communes_word="xã, thị trấn") -> str:
    """"đạt / vượt / chưa đạt mục tiêu năm 2025 (95%)", from the merge's verdict."""
    direction = row.direction
    tp = format_target(target, row.kind, row.unit, direction, strict, _bare(row))
    v = verdict_of(row, ty)
    tail = f", {provisional_words(row, communes_word)}" if row.provisional else ""
    if v == Verdict.NOT_MET:
        return f"chưa đạt mục tiêu năm {ty} ({tp}){tail}"
    if v == Verdict.MET:
        value = row.value
        above = direction == "at_least" and value is not None and value != target
        return f"{'vượt' if above else 'đạt'} mục tiêu năm {ty} ({tp}){tail}"
    return f"{VERDICT_LABELS[v].lower()} so với mục tiêu năm {ty} ({tp})"


def _track(row, ty, year) -> str:
    t = (row.track or {}).get(ty)
    if not isinstance(t, dict) or "expected" not in t:
        return ""
    expected = format_value(t["expected"], row.kind, row.unit, bare=_bare(row))
    if t.get("on_track") is None:
        return f", chưa đủ số liệu để đánh giá so với lộ trình (mức theo lộ trình năm {year}: {expected})"
    if t["on_track"]:
        return ", đúng lộ trình"
    return f", chậm so với lộ trình (mức theo lộ trình năm {year}: {expected})"


def _delta(d, kind: str, unit: str, bare: bool, places: int | None = None) -> str:
    """A change, rounded once, never reading as zero when it is not; with `places`, the exact
    difference of two figures shown at that many decimals."""
    s = vn_number(abs(float(d)), places) if places is not None else vn_number_apart(abs(d), 0)
    if unit == "%":
        return f"{s} điểm phần trăm"
    if bare:
        return s
    if kind == "per_100000_children":
        return f"{s} trẻ em/100.000 trẻ em"
    return s + unit if unit in ("‰",) or unit.startswith("/") else f"{s} {unit}".strip()


def _change(row: IndicatorResult, communes_word: str) -> str:
    """The change from last year, like for like (merge's "comparison"): on the units that
    reported in both years, saying so when they are fewer than the roster; last year's
    reported figure quoted beside it when it covered other units. A series break (the units
    counted changed) is said, never turned into a change."""
    kind, unit, bare = row.kind, row.unit, _bare(row)
    prev = row.previous or {}
    c = row.comparison
    if c is None:  # a row from before like-for-like comparisons: last year's figure only
        if prev.get("value") is None:
            return ""
        return f"năm {prev.get('year')} là {format_value(prev['value'], kind, unit, bare=bare)}"
    py = c.year
    reported = c.previous_reported
    if c.series_break:
        if reported is None:
            return ""
        return (f"không so sánh với năm {py} ({format_value(reported, kind, unit, bare=bare)}) vì số đơn vị cấp xã "
                f"đã thay đổi sau sắp xếp đơn vị hành chính")
    if c.change is None:
        if reported is None:
            return ""
        return f"năm {py} là {format_value(reported, kind, unit, bare=bare)}"
    now, before = c.value, c.previous
    # Both years at the same decimals, each apart from the other and from the target, and the
    # change as the difference of the two figures printed: a reader can check it.
    target = _reference_target(row)
    places = max(decimals_apart(now, (before, target)), decimals_apart(before, (now, target)))
    step = round_half_away(now, places) - round_half_away(before, places)
    same_units = c.units == c.units_expected and c.previous_units_reported in (None, c.units)
    if step == 0:
        moved = f"bằng năm {py}"
    else:
        moved = f"{'tăng' if step > 0 else 'giảm'} {_delta(step, kind, unit, bare, places)} so với năm {py}"
    if same_units:
        return f"{moved} ({format_value(before, kind, unit, bare=bare, places=places)})"
    text = (f"{moved} trên cùng {c.units} {communes_word} có báo cáo cả hai năm (năm {py}: "
            f"{format_value(before, kind, unit, bare=bare, places=places)}, năm {py + 1}: "
            f"{format_value(now, kind, unit, bare=bare, places=places)})")
    units = c.previous_units_reported
    if reported is not None and units != c.units:
        of = f" của {units} {communes_word}" if units else ""
        text += f"; số liệu năm {py} đã báo cáo{of}: {format_value(reported, kind, unit, bare=bare)}"
    left = c.left_out or []
    if left:
        text += (f"; không so sánh {len(left)} {communes_word} hình thành sau sắp xếp mà có đơn vị cũ chưa báo cáo "
                 f"năm {py}")
    return text


def _coverage(row, communes_word, reporting_units=None) -> str:
    if not row.partial or row.source == "office":
        return ""
    if reporting_units is not None and row.units_reported >= reporting_units:
        return ""
    return f" Số liệu của {row.units_reported}/{row.units_expected} {communes_word}."


def _office_note(row, communes_word, area="huyện") -> str:
    """The lead office's district-wide figure: quoted whenever the communes' coverage is
    incomplete or the two differ, saying which one is the district value and why."""
    off = row.office
    if off is None or off.value is None:
        return ""
    who = row.lead_office_name or off.unit
    kind, unit, bare = row.kind, row.unit, _bare(row)
    cv = row.communes_value
    target = _reference_target(row)
    # Each figure apart from the other and from the target: a miss never reads as either.
    v = format_value(off.value, kind, unit, (cv, target), bare=bare)
    n, total = row.units_reported, row.units_expected
    reason = row.source_reason
    if row.source == "office" and cv is not None:
        why = (f"vì mới có {n}/{total} {communes_word} báo cáo" if reason == "incomplete"
               else "theo danh mục chỉ tiêu")
        return (f" Số liệu của {area} là số do {who} báo cáo cho toàn {area} ({v}), {why}; tổng hợp từ {n} "
                f"{communes_word} là {format_value(cv, kind, unit, (off.value, target), bare=bare)}.")
    if row.source == "communes" and (off.differs or row.partial):
        return (f" Số liệu do {who} báo cáo cho toàn {area} là {v}" +
                (f", khác với số tổng hợp từ các {communes_word}." if off.differs
                 else f"; số liệu của {area} là tổng hợp từ các {communes_word} (theo danh mục chỉ tiêu)."))
    return ""


def _extremes(row) -> str:
    best, worst = row.best_units or [], row.worst_units or []
    if not best or not worst or best[0]["value"] == worst[0]["value"]:
        return ""
    kind, unit = row.kind, row.unit
    hi, lo = ("Cao nhất", "thấp nhất") if row.direction == "at_least" else ("Thấp nhất", "cao nhất")
    return f" {hi}: {_units_list(best, kind, unit)}; {lo}: {_units_list(worst, kind, unit)}."


def _phrase_by_type(row, ty, target: dict, strict, area="huyện") -> str:
    """CT4c obesity: one target for rural areas, another for urban ones (merge judged each)."""
    kind, unit, direction = row.kind, row.unit, row.direction
    by_type = row.by_type or {}
    parts = []
    for t, tv in target.items():
        if t not in by_type or tv is None:
            continue
        part = by_type.get(t) or {}
        v = part.get("value")
        place, tp = TYPE_PLACES.get(t, t), format_target(tv, kind, unit, direction, strict)
        if v is None:
            parts.append(f"{place} {NO_DATA} (mục tiêu năm {ty}: {tp})")
        else:
            word = {Verdict.MET: "đạt", Verdict.NOT_MET: "chưa đạt"}.get((part.get("verdicts") or {}).get(ty))
            parts.append(f"{place} {format_value(v, kind, unit, tv)}, " +
                         (f"{word} mục tiêu năm {ty} ({tp})" if word else f"mục tiêu năm {ty}: {tp}"))
    text = f"{row.name} chung toàn {area} là {format_value(row.value, kind, unit)}"
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
    """CT1/CT21: how many communes of the roster meet a yes/no criterion. Communes that have
    not reported are "chưa báo cáo"; when they could turn the verdict, the verdict is
    "chưa đủ số liệu để đánh giá", with both bounds."""
    name, kind, unit = row.name, row.kind, row.unit
    value = row.value
    targets = row.targets or {}
    ty = reference_year(year, targets)
    target = targets.get(ty) if ty else None
    if value is None or row.denominator is None:
        return f"{name}: {NO_DATA}."
    yes, total = int(row.numerator or 0), int(row.denominator)
    reported = int(row.units_reported or total)
    missing = total - reported
    pred = _share_predicate(name)
    shown = format_value(value, kind, unit, target)
    if pred is None:
        text = f"{name}: {yes}/{total} {communes_word} ({shown})"
    else:
        text = f"Có {yes}/{total} {communes_word} {pred} ({shown})"
    if missing > 0:
        text += f", {missing} {communes_word} chưa báo cáo"
    if isinstance(target, (int, float)):
        v = verdict_of(row, ty)
        tp = format_target(target, kind, unit, row.direction, is_strict(strict, ty))
        bounds = row.bounds
        if v == Verdict.UNDECIDED and bounds:
            text += (f"; chưa đủ số liệu để đánh giá so với mục tiêu năm {ty} ({tp}): tỷ lệ sẽ từ "
                     f"{format_value(bounds.low, kind, unit, target)} (nếu các {communes_word} chưa báo cáo đều "
                     f"không đạt) đến {format_value(bounds.high, kind, unit, target)} (nếu đều đạt)")
        else:
            text += ", " + _assessment(row, ty, target, is_strict(strict, ty), communes_word) + _track(row, ty, year)
    change = _change(row, communes_word)
    if change:
        text += "; " + change
    return text + "."


def _moved(current, previous) -> str:
    """"giảm 1,64%" from two counts, rounded once from the exact change."""
    if not previous:
        return "không tính được mức thay đổi"
    d = (Fraction(current) - Fraction(previous)) / Fraction(previous) * 100
    s = vn_number_apart(abs(float(d)), 0)
    return "không thay đổi" if s == "0" else f"{'giảm' if d < 0 else 'tăng'} {s}%"


def _phrase_yoy(row, year, yearly_fall, count, count_unit, communes_word, reporting_units=None,
                area="huyện") -> str:
    """CT13: the number of child marriages falls 1-2% a year (2025-2030), so it needs last
    year's count. Both years' totals are quoted with their coverage; the change is computed on
    the communes that reported both years."""
    name = row.name
    subject = name
    for prefix in ("Mức thay đổi ", "Mức giảm "):
        if subject.startswith(prefix):
            subject = subject[len(prefix):]
    subject = subject.removesuffix(" so với năm trước")
    subject_cap = subject[:1].upper() + subject[1:]
    targets = row.targets or {}
    ty = reference_year(year, targets)
    target = targets.get(ty) if ty else None
    goal = f"mức {fall_text(yearly_fall, target)}"
    unit = f" {count_unit}" if count_unit else ""
    prev_year = (row.previous or {}).get("year", year - 1)
    value, cur, prev = row.value, row.numerator, row.denominator
    v = verdict_of(row, ty)
    judged = (f", {'đạt' if v == Verdict.MET else 'chưa đạt'} {goal}" if v.judged else
              f" (mục tiêu {goal} áp dụng từ năm {(yearly_fall or {}).get('from')})"
              if v == Verdict.NOT_YET and (yearly_fall or {}).get("from") else "")
    if v.judged and row.partial and row.source != "office":  # a verdict on some communes only
        judged += f" ({provisional_words(row, communes_word)})"
    totals = row.totals or {}
    tc, tp, tm = totals.get("current") or {}, totals.get("previous") or {}, totals.get("matched") or {}
    if value is not None and cur is not None and prev is not None:
        moved = ("không thay đổi" if vn_number_apart(abs(value), 0) == "0" else
                 f"{'giảm' if value < 0 else 'tăng'} {vn_number_apart(abs(value), 0)}%")
        complete = (not totals or tc.get("units") == tc.get("units_expected") == tm.get("units")
                    == tp.get("units") == tp.get("units_expected"))
        if complete:
            text = (f"Năm {year}, {subject} là {num_text(cur, 0)}{unit} (năm {prev_year}: {num_text(prev, 0)}{unit}); "
                    f"{subject} {moved} so với năm trước{judged}.")
            if row.partial and (reporting_units is None or row.units_reported < reporting_units):
                text += (f" Số liệu của {row.units_reported}/{row.units_expected} {communes_word} có báo cáo "
                         f"cả hai năm.")
            return text
        text = (f"Năm {year}, {subject} là {num_text(tc['value'], 0)}{unit} (số liệu của {tc['units']}/"
                f"{tc['units_expected']} {communes_word}); năm {prev_year}: {num_text(tp['value'], 0)}{unit} (số liệu "
                f"của {tp['units']}/{tp['units_expected']} {communes_word}). Trên cùng {tm['units']} "
                f"{communes_word} có báo cáo cả hai năm: {num_text(tm['current'], 0)}{unit} so với "
                f"{num_text(tm['previous'], 0)}{unit}, {_moved(tm['current'], tm['previous'])}")
        if row.source == "office":
            who = row.lead_office_name or row.lead_office
            return (text + f". Số liệu của {area} là số do {who} báo cáo cho toàn {area}: {num_text(cur, 0)}{unit} so với "
                           f"{num_text(prev, 0)}{unit} năm {prev_year}, {moved}{judged}.")
        return text + f"{judged}."
    if cur is not None and prev == 0:
        return (f"Năm {year}, {subject} là {num_text(cur, 0)}{unit}; năm {prev_year} không có nên không tính được "
                f"mức thay đổi so với năm trước (mục tiêu: {goal}).")
    if count is not None:
        return (f"Năm {year}, {subject} là {num_text(count, 0)}{unit}; chưa có số liệu năm {prev_year} để tính mức "
                f"thay đổi so với năm trước (mục tiêu: {goal}).")
    return f"{subject_cap}: {NO_DATA} (mục tiêu: {goal})."


# --- cells of the tables ---------------------------------------------------------------------
def table_value(value, kind: str, decimals: int = 2, target=None) -> str:
    """A value for a table cell; beside a target, with enough decimals never to look equal to
    it when it is not (99,496 against 99,5, not "99,5 Chưa đạt")."""
    if value is None:
        return DASH
    if kind == "yoy_change":
        s = vn_number_apart(abs(value), 0, decimals)
        return "0" if s == "0" else f"{'Giảm' if value < 0 else 'Tăng'} {s}"
    return _shown(value, target) if isinstance(target, (int, float)) else num_text(value, decimals)


def table_target(target, kind: str, direction: str, strict, yearly_fall=None, year: str | None = None) -> str:
    """A target for a table cell; `strict` is one flag or one per target year (`year`)."""
    strict = is_strict(strict, year)
    if target is None:
        return DASH
    if kind == "yoy_change":
        return fall_text(yearly_fall, target)[:1].upper() + fall_text(yearly_fall, target)[1:]
    if isinstance(target, dict):
        text = "; ".join(f"{'dưới' if strict else 'tối đa'} {num_text(v)} ({AREA_WORDS.get(k, k)})"
                         for k, v in target.items() if v is not None)
        return text[:1].upper() + text[1:]
    if direction == "at_most":
        return f"{'Dưới' if strict else 'Tối đa'} {num_text(target)}"
    return num_text(target)


def table_unit(row: IndicatorResult) -> str:
    if row.kind == "per_100000_children":
        return "Trẻ em/ 100.000 trẻ em"
    return row.unit


def date_text(d: Date | None, year: int) -> str:
    """"ngày 05 tháng 01 năm 2026" (day < 10 and months 1-2 zero-padded), or dots for the
    officer to fill in by hand."""
    if d is None:
        return f"ngày …… tháng …… năm {year}"
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def indicator_info(cat, code: str) -> dict:
    try:
        ind = cat.indicator(code)
    except StopIteration:
        return {"strict": False, "yearly_fall": None, "numerator": None, "count_unit": ""}
    unit = cat.field(ind.numerator).unit if cat.has_field(ind.numerator) else ""
    return {"strict": {str(y): ind.is_strict(y) for y in (2025, 2030)}, "yearly_fall": ind.yearly_fall,
            "numerator": ind.numerator, "count_unit": unit}


def tt_labels(rows: list[dict]) -> dict[str, str]:
    """"3a", "3b", "3c" for the sub-indicators of one chỉ tiêu; "1" for a single one."""
    per: dict[int, list[str]] = {}
    for r in rows:
        per.setdefault(r.chi_tieu, []).append(r.code)
    out = {}
    for n, codes in per.items():
        for i, c in enumerate(codes):
            out[c] = str(n) if len(codes) == 1 else f"{n}{'abcdefghij'[i] if i < 10 else i}"
    return out

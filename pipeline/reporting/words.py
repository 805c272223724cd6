"""Figures into words: one indicator's paragraph, values and targets for the tables.

Every number is rounded once, half away from zero, at the precision shown (pipeline.base.text),
and a figure is never rounded into one of its targets (nor into another figure it stands
beside): `figure_text` is the one rule, here and in every table. Every figure says whose it
is: the sum over every commune goes unmarked (the report says so once, at the head of its
results), a rate on the communes that reported is «tạm tính», and the lead office's figure
names the office. Verdicts, reference years and sources are read from the merge result, never
worked out again here."""

from __future__ import annotations

from datetime import date as Date
from fractions import Fraction

from pipeline.config.catalogue import AREA_WORDS, target_text
from pipeline.config.roster import communes_word as roster_communes_word
from pipeline.merge.result import OFFICE, VERDICT_LABELS, IndicatorResult, Verdict, YearFigure
from pipeline.base.text import decimals_apart, round_half_away, vn_number, vn_number_apart

NO_DATA = "chưa có số liệu"
DASH = "–"
# Areas, not unit types: from 2025 a xã formed around a former town is an urban area (roster "area").
TYPE_PLACES = {"xa": "khu vực nông thôn", "thi_tran": "khu vực thành thị"}
PROVISIONAL = "tạm tính"


# --- numbers and targets in words ------------------------------------------------------------
def num_text(x: float, decimals: int = 2) -> str:
    """Rounded once, half away from zero (pipeline.base.text.vn_number)."""
    return vn_number(float(x), decimals)


def figure_text(row: IndicatorResult, value: float, also=(), decimals: int = 2) -> str:
    """An indicator's figure as printed anywhere beside its targets: `decimals` (2) decimals,
    more when fewer would make it read as one of its targets, of either year or area, or as one
    of the figures `also` it stands beside (91,9976 beside 92: "91,998", never "92")."""
    return vn_number_apart(float(value), list(row.target_numbers) + [a for a in also if a is not None], decimals)


def _shown(value: float, target=None) -> str:
    """Up to 2 decimals; more when rounding would make a value read as its target (or as any
    of several numbers it stands beside) when it is not ("99,497%, chưa đạt mục tiêu (99,5%)")."""
    if target is not None:
        return vn_number_apart(float(value), target)
    return num_text(value)


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
    return with_unit(s, kind, unit, bare)


def with_unit(s: str, kind: str, unit: str, bare: bool = False) -> str:
    if bare:
        return s
    if kind == "per_100000_children":
        return f"{s} trẻ em/100.000 trẻ em"
    if unit in ("%", "‰") or unit.startswith("/"):
        return s + unit
    return f"{s} {unit}".strip()


def in_units(row: IndicatorResult, s: str) -> str:
    """A number text of `row` with its unit, unless the indicator's name says it."""
    return with_unit(s, row.kind, row.unit, _bare(row))


def _value(row: IndicatorResult, value: float, also=(), places: int | None = None) -> str:
    """A figure of `row` in a sentence, with its unit unless the name says it."""
    s = vn_number(float(value), places) if places is not None else figure_text(row, value, also)
    return with_unit(s, row.kind, row.unit, _bare(row))


def format_target(target: float, kind: str, unit: str, direction: str, strict: bool, bare: bool = False) -> str:
    """The target as the plan words it: "95%", "dưới 2,5‰", "không quá 17%"."""
    v = format_value(target, kind, unit, bare=bare)
    if direction == "at_most":
        return ("dưới " if strict else "không quá ") + v
    return v


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


def _units_list(row: IndicatorResult, items: list[dict]) -> str:
    """"Xã A (99%), Xã B (98,5%)"; rates per 100,000 as bare numbers, the sentence says the unit."""
    def short(v):
        s = figure_text(row, v)
        return s if row.kind == "per_100000_children" else with_unit(s, row.kind, row.unit)

    return ", ".join(f"{u['name']} ({short(u['value'])})" for u in items)


def provisional_words(row: IndicatorResult, communes_word: str) -> str:
    """What a verdict on fewer than all communes is: "tạm tính trên số liệu của 32/34 xã, thị trấn"."""
    return f"tạm tính trên số liệu của {row.units_reported}/{row.units_expected} {communes_word}"


def _provisional_tail(row: IndicatorResult, communes_word: str, reporting_units: int | None) -> str:
    """", tạm tính" after a provisional verdict; with its coverage when it is not the report's
    (said once, at the head of the results) or when no report coverage is known."""
    if not row.provisional:
        return ""
    if reporting_units is not None and row.units_reported == reporting_units:
        return f", {PROVISIONAL}"
    return f", {provisional_words(row, communes_word)}"


def year_source(fig: YearFigure, area: str = "huyện") -> str:
    """Whose a year's figure is, in a sentence: "số của Phòng Y tế", "tổng hợp từ 30/34 xã, thị
    trấn" (a sum over some communes) or "" (the sum over every commune)."""
    if fig.source == OFFICE:
        return f"số của {fig.source_name or 'phòng chủ trì'} cho toàn {area}"
    if fig.units_reported < fig.units_expected:
        words = roster_communes_word(fig.commune_types)
        return (f"{PROVISIONAL} trên số liệu của " if fig.provisional else "tổng hợp từ ") + \
            f"{fig.units_reported}/{fig.units_expected} {words}"
    return ""


# --- one indicator in words ------------------------------------------------------------------
def phrase_indicator(row: IndicatorResult, year: int | None = None, *, strict=False, yearly_fall: dict | None = None,
                     count: float | None = None, count_unit: str = "", communes_word: str = "xã, thị trấn",
                     reporting_units: int | None = None, area: str = "huyện", names: dict | None = None,
                     compared: int | None = None) -> str:
    """The paragraph of one indicator, from the numbers of its merge row: value and its source,
    target and verdict, change from last year (like for like) and last year's figure with its
    source, track, the lead office's figure, best and worst units.

    `strict` (one flag or one per target year), `yearly_fall` and `count_unit` come from the
    catalogue; `count` is this year's total count for a year-over-year indicator (CT13) when
    last year's is missing. `reporting_units`: the communes that sent a valid report at all,
    said once at the head of the results: coverage is repeated only where it differs, and a
    provisional verdict then says «tạm tính» alone. `area` names the whole the report covers
    ("huyện"; from 2025 the settings say, e.g. "địa bàn"); `names`: unit code -> name; `compared`:
    the communes most changes are computed on, said once at the head of the results."""
    kind = row.kind
    if kind == "yoy_change":
        return _phrase_yoy(row, yearly_fall, count, count_unit, communes_word, reporting_units, area)
    if kind == "share_of_communes":
        return _phrase_share(row, strict, communes_word, reporting_units, area, compared)
    ty = row.reference_year
    target = (row.targets or {}).get(ty) if ty else None
    if row.value is None:
        words = target_words(target, kind, row.unit, row.direction, is_strict(strict, ty), _bare(row)) if ty else ""
        tail = f" (mục tiêu năm {ty}: {words})" if ty else ""
        return f"{row.name}: {NO_DATA}{tail}."
    places = _sentence_places(row)
    change = _change(row, communes_word, area, names, places, compared)
    if isinstance(target, dict):
        text = _phrase_by_type(row, ty, target, is_strict(strict, ty), area, communes_word, places)
        text += _provisional_tail(row, communes_word, reporting_units)
    else:
        shown = _value(row, row.value, places=places)
        text = f"{row.name} {'đạt' if row.direction == 'at_least' else 'là'} {shown}"
        text += _own_source(row, communes_word, places)
        if target is not None:
            text += (", " + _assessment(row, ty, target, is_strict(strict, ty), communes_word, reporting_units)
                     + _track(row, ty))
    text += ("; " + change if change else "") + "."
    coverage = "" if row.provisional else _coverage(row, communes_word, reporting_units)
    return text + coverage + _office_note(row, communes_word, area) + _extremes(row)


def _own_source(row: IndicatorResult, communes_word: str, places: int | None = None) -> str:
    """" (số của Phòng Y tế; tổng hợp từ 32 xã, thị trấn: 7,68%)" beside a figure that is the
    lead office's; nothing beside the communes' sum (the report says whose it is once)."""
    if row.source != OFFICE:
        return ""
    who = row.lead_office_name or row.lead_office
    if row.communes_value is None:
        return f" (số của {who})"
    cv = _value(row, row.communes_value, also=(row.value,), places=places)
    return f" (số của {who}; tổng hợp từ {row.units_reported} {communes_word}: {cv})"


def target_words(target, kind, unit, direction, strict, bare: bool = False) -> str:
    if isinstance(target, dict):
        return ", ".join(f"{format_target(v, kind, unit, direction, strict)} đối với {AREA_WORDS.get(k, k)}"
                         for k, v in target.items())
    return format_target(target, kind, unit, direction, strict, bare)


def _assessment(row, ty, target, strict, communes_word="xã, thị trấn", reporting_units=None) -> str:
    """"đạt / vượt / chưa đạt mục tiêu năm 2025 (95%)", from the merge's verdict."""
    direction = row.direction
    tp = format_target(target, row.kind, row.unit, direction, strict, _bare(row))
    v = verdict_of(row, ty)
    tail = _provisional_tail(row, communes_word, reporting_units)
    if v == Verdict.NOT_MET:
        return f"chưa đạt mục tiêu năm {ty} ({tp}){tail}"
    if v == Verdict.MET:
        value = row.value
        above = direction == "at_least" and value is not None and value != target
        return f"{'vượt' if above else 'đạt'} mục tiêu năm {ty} ({tp}){tail}"
    return f"{VERDICT_LABELS[v].lower()} so với mục tiêu năm {ty} ({tp})"


def _track(row, ty) -> str:
    t = (row.track or {}).get(ty)
    if not isinstance(t, dict) or t.get("expected") is None:
        return ""
    expected = _value(row, t["expected"], also=(row.value,))
    if t.get("on_track") is None:
        return f", chưa đủ số liệu để đánh giá so với lộ trình (mức theo lộ trình năm {row.year}: {expected})"
    if t["on_track"]:
        return ", đúng lộ trình"
    return f", chậm so với lộ trình (mức theo lộ trình năm {row.year}: {expected})"


def _delta(d, kind: str, unit: str, bare: bool, places: int | None = None) -> str:
    """A change, rounded once, never reading as zero when it is not; with `places`, the exact
    difference of two figures shown at that many decimals."""
    s = vn_number(abs(float(d)), places) if places is not None else vn_number_apart(abs(d), 0)
    if unit == "%":
        return f"{s} điểm phần trăm"
    return with_unit(s, kind, unit, bare)


def _places(row: IndicatorResult, *figures) -> int:
    """The decimals that print each of `figures` apart from the others and from the targets."""
    figures = [f for f in figures if f is not None]
    return max((decimals_apart(f, [g for g in figures if g != f] + list(row.target_numbers)) for f in figures),
               default=2)


def _sentence_places(row: IndicatorResult) -> int:
    """One precision for every figure of an indicator's sentence, so that one figure never
    reads two ways in it («89,98%» and «(89,985%)»): the fewest decimals (at least 2) that
    print its figures apart from each other and from the targets."""
    c = row.comparison
    figures = [row.value, row.communes_value if row.source == OFFICE else None]
    if c is not None and c.change is not None and not c.series_break:
        figures += [c.value, c.previous]
    return _places(row, *figures)


def _change(row: IndicatorResult, communes_word: str, area: str = "huyện", names: dict | None = None,
            places: int | None = None, compared: int | None = None) -> str:
    """The change from last year, like for like (merge's "comparison"), its figures at the
    sentence's `places`. On the communes that reported in both years (saying so when they are
    fewer than the roster; after the 2025 reorganisation last year's figures are the old units'
    added up); last year's figure as its report printed it, with its source, beside it when it
    is another one. `compared`: the number of communes most comparisons are on, said once at the
    head of the results. A series break is said, never turned into a change."""
    c, prev = row.comparison, row.previous
    reported = prev.value if prev is not None else None
    if c is None:  # a row from before like-for-like comparisons: last year's figure only
        return f"năm {row.year - 1} là {_value(row, reported, also=(row.value,))}" if reported is not None else ""
    py = c.year
    if c.series_break:
        if reported is None:
            return ""
        return (f"không so sánh với năm {py} ({_value(row, reported, also=(row.value,))}"
                f"{_source_aside(prev, area)}) vì số đơn vị cấp xã đã thay đổi sau sắp xếp đơn vị hành chính")
    if c.change is None:
        return (f"năm {py} là {_value(row, reported, also=(row.value,))}{_source_aside(prev, area)}"
                if reported is not None else "")
    now, before = c.value, c.previous
    places = places if places is not None else _places(row, now, before)
    step = round_half_away(now, places) - round_half_away(before, places)
    moved = (f"bằng năm {py}" if step == 0 else
             f"{'tăng' if step > 0 else 'giảm'} {_delta(step, row.kind, row.unit, _bare(row), places)} so với năm {py}")
    before_text = _value(row, before, places=places)
    printed = now in (row.value if row.source != OFFICE else None, row.communes_value if row.source == OFFICE else None)
    if (printed and row.source != OFFICE and c.units == c.units_expected and not c.carried and prev is not None
            and prev.source != OFFICE and prev.units_reported == c.units):
        return f"{moved} ({before_text})"
    # After a reorganisation last year's figure on this year's communes is the old units' added up
    # (the head of the results says so once).
    on = (f"trên cùng các {communes_word}" if compared == c.units else
          f"trên cùng {c.units} {communes_word} có báo cáo cả hai năm")
    said = [before_text if printed else f"năm {py}: {before_text}, năm {py + 1}: {_value(row, now, places=places)}"]
    if reported is not None and (prev.source == OFFICE or prev.units_reported != c.units or c.carried):
        said.append(f"số đã báo cáo năm {py}: {_value(row, reported, also=(before, now))}{_source_aside(prev, area)}")
    text = f"{moved} {on} ({'; '.join(said)})"
    if c.left_out:
        left = [(names or {}).get(u, u) for u in c.left_out]
        text += f"; không so sánh {', '.join(left)} (hình thành sau sắp xếp, có đơn vị cũ chưa báo cáo năm {py})"
    return text


def _source_aside(fig: YearFigure | None, area: str) -> str:
    said = year_source(fig, area) if fig is not None else ""
    return f", {said}" if said else ""


def _coverage(row, communes_word, reporting_units=None) -> str:
    if not row.partial or row.source == OFFICE:
        return ""
    if reporting_units is not None and row.units_reported >= reporting_units:
        return ""
    return f" Số liệu của {row.units_reported}/{row.units_expected} {communes_word}."


def _office_note(row, communes_word, area="huyện") -> str:
    """The lead office's own figure beside the communes' sum that is the district value, when
    the two differ beyond the tolerance, or the communes are incomplete (by the catalogue, the
    communes' sum stands)."""
    off = row.office
    if off is None or off.value is None or row.source == OFFICE:
        return ""
    who = row.lead_office_name or off.unit
    v = _value(row, off.value, also=(row.communes_value,))
    if off.differs:
        return f" Số liệu do {who} báo cáo cho toàn {area} là {v}, khác với số tổng hợp từ các {communes_word}."
    if row.partial:
        return (f" Số liệu do {who} báo cáo cho toàn {area} là {v}; số liệu của {area} là tổng hợp từ các "
                f"{communes_word} (theo danh mục chỉ tiêu).")
    return ""


def _extremes(row) -> str:
    best, worst = row.best_units or [], row.worst_units or []
    if not best or not worst or best[0]["value"] == worst[0]["value"]:
        return ""
    hi, lo = ("Cao nhất", "thấp nhất") if row.direction == "at_least" else ("Thấp nhất", "cao nhất")
    return f" {hi}: {_units_list(row, best)}; {lo}: {_units_list(row, worst)}."


def _phrase_by_type(row, ty, target: dict, strict, area="huyện", communes_word="xã, thị trấn",
                    places: int | None = None) -> str:
    """CT4c obesity: one target for rural areas, another for urban ones (merge judged each, on
    the communes of each area that reported: their figures are the communes', whoever gave
    the overall one)."""
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
            continue
        word = {Verdict.MET: "đạt", Verdict.NOT_MET: "chưa đạt"}.get((part.get("verdicts") or {}).get(ty))
        parts.append(f"{place} {_value(row, v)}, " +
                     (f"{word} mục tiêu năm {ty} ({tp})" if word else f"mục tiêu năm {ty}: {tp}"))
    text = (f"{row.name} chung toàn {area} là {_value(row, row.value, places=places)}"
            + _own_source(row, communes_word, places))
    if not parts:
        return text
    reported = sum((p or {}).get("units_reported") or 0 for p in by_type.values())
    expected = sum((p or {}).get("units_expected") or 0 for p in by_type.values())
    if row.source == OFFICE and expected and reported < expected:
        return text + (f"; theo khu vực (tổng hợp từ {reported}/{expected} {communes_word} đã báo cáo): "
                       + "; ".join(parts))
    return text + ": " + "; ".join(parts)


def _share_predicate(name: str) -> str | None:
    s = name[len("Tỷ lệ "):] if name.startswith("Tỷ lệ ") else None
    if s is None:
        return None
    for w in ("xã, phường, thị trấn ", "xã, thị trấn ", "xã "):
        if s.startswith(w):
            return s[len(w):]
    return None


def _phrase_share(row, strict, communes_word, reporting_units=None, area="huyện", compared=None) -> str:
    """CT1/CT21: how many communes of the roster meet a yes/no criterion. Communes without a
    valid report are said so; when they could turn the verdict, the verdict is "chưa đủ số
    liệu để đánh giá", with both bounds."""
    name, kind, unit = row.name, row.kind, row.unit
    value = row.value
    ty = row.reference_year
    target = (row.targets or {}).get(ty) if ty else None
    if value is None or row.denominator is None:
        return f"{name}: {NO_DATA}."
    yes, total = int(row.numerator or 0), int(row.denominator)
    reported = int(row.units_reported or total)
    missing = total - reported
    pred = _share_predicate(name)
    shown = _value(row, value, places=_sentence_places(row))
    if pred is None:
        text = f"{name}: {yes}/{total} {communes_word} ({shown})"
    else:
        text = f"Có {yes}/{total} {communes_word} {pred} ({shown})"
    if missing > 0:
        text += f", {missing} {communes_word} chưa có báo cáo hợp lệ"
    if isinstance(target, (int, float)):
        v = verdict_of(row, ty)
        tp = format_target(target, kind, unit, row.direction, is_strict(strict, ty))
        bounds = row.bounds
        if v == Verdict.UNDECIDED and bounds:
            text += (f"; chưa đủ số liệu để đánh giá so với mục tiêu năm {ty} ({tp}): tỷ lệ sẽ từ "
                     f"{_value(row, bounds.low)} (nếu các {communes_word} chưa báo cáo đều "
                     f"không đạt) đến {_value(row, bounds.high)} (nếu đều đạt)")
        else:
            text += ", " + _assessment(row, ty, target, is_strict(strict, ty), communes_word) + _track(row, ty)
    change = _change(row, communes_word, area, places=_sentence_places(row), compared=compared)
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


def _count_source(year_totals: dict, fig: YearFigure | None, communes_word: str, area: str, office: str = "",
                  unit: str = "") -> str:
    """Whose a year's CT13 count is: "" over every commune, the office's (with the communes'
    sum beside it), or "số liệu của 6/8 xã"."""
    if year_totals.get("whole_source") == OFFICE:
        who = fig.source_name if fig is not None and fig.source == OFFICE and fig.source_name else office
        communes = (f"; tổng hợp từ {year_totals['units']}/{year_totals['units_expected']} {communes_word}: "
                    f"{num_text(year_totals['value'], 0)}{unit}" if year_totals.get("value") is not None else "")
        return f" (số của {who or 'phòng chủ trì'} cho toàn {area}{communes})"
    if year_totals.get("units") != year_totals.get("units_expected"):
        return f" (số liệu của {year_totals.get('units')}/{year_totals.get('units_expected')} {communes_word})"
    return ""


def _phrase_yoy(row, yearly_fall, count, count_unit, communes_word, reporting_units=None, area="huyện") -> str:
    """CT13: the number of child marriages falls 1-2% a year (2025-2030), so it needs last
    year's count. Over the whole area both years when both counts cover it (every commune, or
    the lead office's count); else on the communes that reported both years, provisionally,
    with both years' totals quoted with their coverage."""
    year = row.year
    subject = row.name
    for prefix in ("Mức thay đổi ", "Mức giảm "):
        if subject.startswith(prefix):
            subject = subject[len(prefix):]
    subject = subject.removesuffix(" so với năm trước")
    ty = row.reference_year
    target = (row.targets or {}).get(ty) if ty else None
    goal = f"mức {fall_text(yearly_fall, target)}"
    unit = f" {count_unit}" if count_unit else ""
    prev = row.previous
    prev_word = roster_communes_word(prev.commune_types) if prev is not None and prev.commune_types else communes_word
    value, cur, before = row.value, row.numerator, row.denominator
    v = verdict_of(row, ty)
    judged = (f", {'đạt' if v == Verdict.MET else 'chưa đạt'} {goal}" if v.judged else
              f" (mục tiêu {goal} áp dụng từ năm {(yearly_fall or {}).get('from')})"
              if v == Verdict.NOT_YET and (yearly_fall or {}).get("from") else "")
    if v.judged and row.provisional:
        judged += f" ({_provisional_tail(row, communes_word, reporting_units)[2:]})"
    totals = row.totals or {}
    tc, tp, tm = totals.get("current") or {}, totals.get("previous") or {}, totals.get("matched") or {}
    if value is not None and cur is not None and before is not None:
        moved = ("không thay đổi" if vn_number_apart(abs(value), 0) == "0" else
                 f"{'giảm' if value < 0 else 'tăng'} {vn_number_apart(abs(value), 0)}%")
        if row.whole_area or not totals:
            now_src = _count_source(tc, None, communes_word, area, row.lead_office_name, unit)
            before_src = _count_source(tp, prev, prev_word, area, unit=unit)
            said = (f"{num_text(cur, 0)}{unit} (năm {year - 1}: {num_text(before, 0)}{unit})" if not now_src + before_src
                    else f"{num_text(cur, 0)}{unit}{now_src}, năm {year - 1} là {num_text(before, 0)}{unit}{before_src}")
            return f"Năm {year}, {subject} là {said}; {subject} {moved} so với năm trước{judged}."
        last = tp.get("whole") if tp.get("whole") is not None else tp.get("value")
        last_source = _count_source(tp, prev, prev_word, area, unit=unit) if tp.get("whole") is not None else (
            f" (số liệu của {tp.get('units')}/{tp.get('units_expected')} {prev_word})")
        text = (f"Năm {year}, {subject} là {num_text(tc['value'], 0)}{unit} (số liệu của {tc['units']}/"
                f"{tc['units_expected']} {communes_word}); năm {year - 1}: {num_text(last, 0)}{unit}{last_source}. "
                f"Trên cùng {tm['units']} {communes_word} có báo cáo cả hai năm: {num_text(tm['current'], 0)}{unit} so "
                f"với {num_text(tm['previous'], 0)}{unit}, {_moved(tm['current'], tm['previous'])}")
        if row.source == OFFICE:
            who = row.lead_office_name or row.lead_office
            return (text + f". Số liệu của {area} là số do {who} báo cáo cho toàn {area}: {num_text(cur, 0)}{unit} so "
                           f"với {num_text(before, 0)}{unit} năm {year - 1}, {moved}{judged}.")
        if v == Verdict.UNDECIDED:
            return (text + f"; chưa đủ số liệu để đánh giá so với {goal}: tổng số của hai năm ({num_text(tc['value'], 0)}"
                           f" so với {num_text(last, 0)}{unit}) {_moved(tc['value'], last)}, các {communes_word} chưa "
                           f"báo cáo có thể làm thay đổi kết quả.")
        return text + f"{judged}."
    if cur is not None and before == 0:
        return (f"Năm {year}, {subject} là {num_text(cur, 0)}{unit}; năm {year - 1} không có nên không tính được "
                f"mức thay đổi so với năm trước (mục tiêu: {goal}).")
    if count is not None:
        return (f"Năm {year}, {subject} là {num_text(count, 0)}{unit}; chưa có số liệu năm {year - 1} để tính mức "
                f"thay đổi so với năm trước (mục tiêu: {goal}).")
    return f"{subject[:1].upper()}{subject[1:]}: {NO_DATA} (mục tiêu: {goal})."


# --- cells of the tables ---------------------------------------------------------------------
def table_value(value, kind: str, decimals: int = 2, target=None) -> str:
    """A value for a table cell; beside a target (one number or several), with enough decimals
    never to look equal to it when it is not (99,496 against 99,5, not "99,5 Chưa đạt")."""
    if value is None:
        return DASH
    if kind == "yoy_change":
        s = vn_number_apart(abs(value), 0, decimals)
        return "0" if s == "0" else f"{'Giảm' if value < 0 else 'Tăng'} {s}"
    if target is None or target == []:
        return num_text(value, decimals)
    return vn_number_apart(float(value), target, decimals)


def figure_cell(row: IndicatorResult, fig: YearFigure | None, decimals: int = 2) -> str:
    """A year's figure of `row` for a table cell: apart from the row's targets, with its source
    mark ("(p)": the lead office's, "(t)": provisional; the table's note says so)."""
    if fig is None or fig.value is None:
        return DASH
    return table_value(fig.value, row.kind, decimals, row.target_numbers) + fig.mark


def table_target(target, kind: str, direction: str, strict, yearly_fall=None, year: str | None = None) -> str:
    """A target for a table cell, as the plan writes it (pipeline.config.catalogue.target_text)."""
    if target is None:
        return DASH
    return target_text(target, direction, is_strict(strict, year), yearly_fall if kind == "yoy_change" else None)


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

"""Stage 3: the district's figures. Units report counts; the district value of every
indicator is Σ numerators ÷ Σ denominators × factor over the units that reported both,
never a mean of percentages. Each value is judged against the 2025 and 2030 targets and
against the straight path from the 2021 baseline to each target.

Values are kept exact (never rounded here): display rounds them once, at the precision it
shows. Verdicts are judged once, here, from the exact counts, and are `Verdict` members;
their Vietnamese labels live in `VERDICT_LABELS` beside the enum and only ever reach a reader.

The result of `merge` and `load` is one typed object, a `MergeResult` holding an
`IndicatorResult` per indicator (with its `Comparison`, `Bounds` and `OfficeFigure`); each
field is explained where it is declared, in merge_result.py. The store keeps its `to_dict()` as
JSON and `load` reads it back with `MergeResult.from_dict`; the workbook, the report, the CLI and
`--json` read the same object."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from pipeline.config.catalogue import COMMUNE_TYPES, TARGET_YEARS, Catalogue, Indicator, meets
from pipeline.config.roster import roster_words
from pipeline.store.history import carry_forward, incomplete_successors, predecessors
from pipeline.merge.result import (COMMUNES, OFFICE, TRACK_LABELS, Bounds, Comparison, IndicatorResult, MergeResult,
                                   OfficeFigure, Verdict, YearFigure, reference_year)
from pipeline.store.db import Store
from pipeline.store.submissions import counted_values


@dataclass
class Aggregate:
    value: float | None
    numerator: float | None
    denominator: float | None
    units: list[str]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def exact_value(ind: Indicator, numerator, denominator) -> Fraction | None:
    """The indicator's value from its counts, exactly: numerator ÷ denominator × factor; for a
    year-over-year indicator (CT13) the % change from last year's count (the denominator)."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    n, d = Fraction(numerator), Fraction(denominator)
    if ind.kind == "yoy_change":
        return (n - d) / d * 100
    return n / d * _decimal(ind.factor)


def aggregate(ind: Indicator, values: dict[str, dict], units: list[str],
              previous: dict[str, dict] | None = None) -> Aggregate:
    """The indicator over `units` (codes), summing counts. A blank is "not reported" and
    leaves the unit out of both sums; a 0 is a value. For a share of units (CT1, CT21) the
    numerator counts the units answering yes and the denominator the units that answered."""
    num = den = 0.0
    used = []
    for u in units:
        v = values.get(u, {})
        n = v.get(ind.numerator)
        if not _number(n):
            continue
        if ind.kind == "share_of_communes":
            num, den = num + (1 if n else 0), den + 1
        elif ind.kind == "yoy_change":
            p = (previous or {}).get(u, {}).get(ind.numerator)
            if not _number(p):
                continue
            num, den = num + n, den + p
        else:
            d = v.get(ind.denominator)
            if not _number(d):
                continue
            num, den = num + n, den + d
        used.append(u)
    if not used:
        return Aggregate(None, None, None, [])
    exact = exact_value(ind, num, den)
    return Aggregate(None if exact is None else float(exact), num, den, used)


@functools.lru_cache(maxsize=1024)
def _decimal(x: float) -> Fraction:
    """A factor or a target as the decimal people wrote (2.5 is 5/2, not the nearest binary
    fraction); the catalogue holds few of them, so each is made once."""
    return Fraction(repr(float(x)))


def _exact_target(target) -> Fraction:
    return _decimal(target)


def judge(ind: Indicator, value: Fraction | float | None, target, year: int | str | None = None) -> Verdict:
    """The verdict of an exact value against one target (no rounding: 99.49652 misses 99.5)."""
    if target is None:
        return Verdict.NO_TARGET
    if value is None:
        return Verdict.NO_DATA
    v = value if isinstance(value, Fraction) else Fraction(repr(float(value)))
    return Verdict.MET if meets(v, _exact_target(target), ind.direction, ind.is_strict(year)) else Verdict.NOT_MET


def judge_bounds(ind: Indicator, low: Fraction, high: Fraction, target, year) -> Verdict:
    """A share of units with some units missing: decided only when the missing units, all
    yes or all no, cannot change the verdict."""
    a, b = judge(ind, low, target, year), judge(ind, high, target, year)
    return a if a == b else Verdict.UNDECIDED


def expected_on_path(baseline: float, target: float, baseline_year: int, target_year: int, year: int) -> float:
    """The straight path from the baseline year's value to the target."""
    return baseline + (target - baseline) * (year - baseline_year) / (target_year - baseline_year)


@dataclass
class _YearInputs:
    """What every indicator of the year is computed from (`Merger._read_year`)."""
    units: list            # the roster's units in force this year
    communes: list
    offices: list
    values: dict           # unit code -> field -> value, this year's accepted submissions
    last_values: dict      # the same for last year, as reported
    previous: dict         # last year's values carried across the roster changes
    gaps: dict             # new units some of whose predecessors did not report last year
    history: dict          # indicator -> year -> YearFigure, earlier merged years
    prev_communes: list[str]
    breaks: list[int]      # years from which a share of units is a new series
    names: dict[str, str]  # unit code -> name, this year's and last year's units
    carried: bool = False  # this year's communes are not last year's: last year's counts are re-keyed

    @property
    def commune_codes(self) -> list[str]:
        return [u.code for u in self.communes]


@dataclass
class _UnitFigures:
    """Each commune's values, counts and verdicts, unit code -> indicator code -> ..."""
    values: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    verdicts: dict = field(default_factory=dict)


class Merger:
    def __init__(self, ws, year: int, store: Store):
        self.ws, self.year, self.store = ws, year, store
        self.cat: Catalogue = ws.catalogue
        self.roster = ws.roster
        self.tolerance = ws.settings.check("office_tolerance_percent")

    def run(self) -> MergeResult:
        data = self._read_year()
        indicators, figures = [], _UnitFigures()
        commune_types = sorted({u.type for u in data.communes})
        for ind in self.cat.indicators:
            row = self._indicator(ind, data)
            per_unit = self._unit_figures(ind, data, figures)
            row.best_units, row.worst_units = _ranked(ind, per_unit, data.names)
            own = YearFigure.of(row, commune_types=commune_types,
                                new_series=self.year in data.breaks and ind.kind == "share_of_communes",
                                count=_whole_count(row))
            row.years = {str(y): f for y, f in sorted({**data.history.get(ind.code, {}), self.year: own}.items())}
            indicators.append(row)
        result = self._result(data, indicators, figures)
        self._save(result, data.values)
        return result

    def _read_year(self) -> _YearInputs:
        """Everything the year's figures are computed from, read from the roster and the store once."""
        year = self.year
        units = self.roster.for_year(year)
        last_values = counted_values(self.store, year - 1)
        names = {u.code: u.name for u in units}
        for u in self.roster.for_year(year - 1):
            names.setdefault(u.code, u.name)
        return _YearInputs(
            units=units, communes=[u for u in units if u.is_commune], offices=[u for u in units if not u.is_commune],
            values=counted_values(self.store, year), last_values=last_values,
            previous=carry_forward(last_values, self.cat, self.roster, year - 1, year),
            gaps=incomplete_successors(last_values, self.roster, year - 1, year),
            history=self._history(),
            prev_communes=[u.code for u in self.roster.for_year(year - 1) if u.is_commune],
            breaks=self._count_breaks(), names=names, carried=self._carried(units))

    def _carried(self, units: list) -> bool:
        """Whether last year's figures reach this year's communes re-keyed: some commune of this
        year carries on other units than itself (the 2025 reorganisation)."""
        groups = predecessors(self.roster, self.year - 1, self.year)
        return any(groups.get(u.code, [u.code]) != [u.code] for u in units if u.is_commune)

    def _indicator(self, ind: Indicator, data: _YearInputs) -> IndicatorResult:
        """One indicator's district figure, its verdicts, its path and its comparison with last year
        (the per-unit rankings and the years' figures are added by `run`)."""
        year, values, previous, codes = self.year, data.values, data.previous, data.commune_codes
        agg = aggregate(ind, values, codes, previous)
        office = self._office(ind, values, previous, agg)
        expected = len(data.communes)
        prev = data.history.get(ind.code, {}).get(year - 1)
        source, reason = self._source(ind, agg, office, expected)
        numerator, denominator, bounds, bounds_exact = self._figure(ind, agg, office, source, expected)
        totals = (self._totals(ind, values, data.last_values, codes, data.prev_communes, agg)
                  if ind.kind == "yoy_change" else None)
        whole = _whole_area(ind, totals, prev) if totals is not None else None
        if whole is not None:  # CT13 over the whole area both years: no sample of communes
            numerator, denominator, source, reason = whole
        exact = exact_value(ind, numerator, denominator)
        # CT13 over the whole area: the communes that gave this year's count, no sample
        reporting = ([u for u in codes if _number(values.get(u, {}).get(ind.numerator))] if whole is not None
                     else agg.units)
        partial = 0 < len(reporting) < expected
        targets = {str(y): ind.targets.get(str(y)) for y in TARGET_YEARS}
        by_type, by_type_exact = self._by_type(ind, values, data.communes, previous)
        for t, part in by_type.items():
            part["verdicts"] = {str(y): judge(ind, by_type_exact[t], ind.target_for(y, t), y) for y in TARGET_YEARS}
        value = None if exact is None else float(exact)
        # A rate on the communes that reported is provisional; so is a verdict that rests on the
        # communes' figures by area (CT4c) when some did not report, whoever gave the overall figure.
        by_area = any(isinstance(t, dict) for t in targets.values())
        provisional = bool(partial and exact is not None and ind.kind != "share_of_communes"
                           and (source == COMMUNES or by_area))
        verdicts = self._verdicts(ind, exact, bounds_exact, by_type_exact)
        if partial and totals is not None and whole is None:
            verdicts = _against_totals(ind, verdicts, totals)
        return IndicatorResult(
            code=ind.code, chi_tieu=ind.chi_tieu, goal=ind.goal, kind=ind.kind, unit=ind.unit,
            name=roster_words(ind.name, {u.type for u in data.communes}),
            direction=ind.direction, year=year, value=value, numerator=numerator, denominator=denominator,
            source=source, source_reason=reason, communes_value=agg.value, authority=ind.authority,
            units_reported=len(reporting), units_expected=expected, missing_units=_missing(codes, reporting),
            partial=partial,
            provisional=provisional,
            targets=targets, reference_year=reference_year(year, targets),
            verdicts=verdicts, bounds=bounds,
            track={str(y): self._track(ind, value, ind.targets.get(str(y)), y, data, bounds)
                   for y in TARGET_YEARS},
            comparison=self._comparison(ind, values, previous, agg, expected, data, prev),
            totals=totals, whole_area=whole is not None,
            series_breaks=data.breaks if ind.kind == "share_of_communes" else [],
            by_type=by_type, office=office,
            lead_office=ind.lead_office, lead_office_name=data.names.get(ind.lead_office, ind.lead_office),
            note=ind.note,
        )

    @staticmethod
    def _figure(ind: Indicator, agg: Aggregate, office: OfficeFigure | None, source: str,
                expected: int) -> tuple[float | None, float | None, Bounds | None, tuple | None]:
        """The counts the district value is computed from (the communes' or the lead office's),
        and for a share of units with units missing, the bounds (as floats and exactly)."""
        if ind.kind == "share_of_communes":
            # Counted over every unit of the roster: a unit that has not reported is not a "no".
            numerator = agg.numerator
            denominator = float(expected) if agg.units else None
            missing = expected - len(agg.units)
            if agg.units and missing:
                low = exact_value(ind, numerator, expected)
                high = exact_value(ind, numerator + missing, expected)
                return numerator, denominator, Bounds(float(low), float(high), missing), (low, high)
            return numerator, denominator, None, None
        if source == "communes":
            return agg.numerator, agg.denominator, None, None
        return office.numerator, office.denominator, None, None

    def _unit_figures(self, ind: Indicator, data: _YearInputs, figures: _UnitFigures) -> dict[str, float]:
        """Each commune's own value, counts and verdicts of the indicator, added to `figures`;
        returns the values (commune code -> value) of the communes that reported it."""
        per_unit = {}
        for u in data.communes:
            a = aggregate(ind, data.values, [u.code], data.previous)
            if a.value is None:
                continue
            per_unit[u.code] = a.value
            figures.values.setdefault(u.code, {})[ind.code] = a.value
            figures.counts.setdefault(u.code, {})[ind.code] = [a.numerator, a.denominator]
            ex = exact_value(ind, a.numerator, a.denominator)
            figures.verdicts.setdefault(u.code, {})[ind.code] = {
                str(y): (Verdict.NOT_YET if ind.kind == "yoy_change" and not ind.judged_in(self.year)
                         else judge(ind, ex, ind.target_for(y, u.target_area), y))
                for y in TARGET_YEARS}
        return per_unit

    def _result(self, data: _YearInputs, indicators: list[IndicatorResult], figures: _UnitFigures) -> MergeResult:
        """The indicators' figures with the units', the population, budget, narratives and coverage."""
        values, units = data.values, data.units
        return MergeResult(
            year=self.year, reference_year=reference_year(self.year, {str(y): 0 for y in TARGET_YEARS}),
            indicators=indicators, units=figures.values, unit_counts=figures.counts,
            unit_verdicts=figures.verdicts, unit_names=data.names, unit_types={u.code: u.type for u in units},
            unit_areas={u.code: u.target_area for u in data.communes},
            population=self._population(values, data.commune_codes),
            budget=self._budget(values, units),
            narratives=self._narratives(values, data.offices),
            coverage=self._coverage(units, values),
            office_differences=[asdict(r.office) | {"indicator": r.code, "name": r.name}
                                for r in indicators if r.office and r.office.differs],
            carry_gaps=data.gaps,
            imported_units=sorted(s.unit for s in self.store.submissions(self.year)
                                  if s.identity_source == "imported" and s.unit in values),
        )

    def _source(self, ind: Indicator, agg: Aggregate, office: OfficeFigure | None, expected: int) -> tuple[str, str]:
        """Whose figure is the district value, and why (catalogue `authority`)."""
        has_office = bool(office and office.value is not None)
        if ind.kind == "share_of_communes" or not has_office:
            return "communes", ("all_reported" if len(agg.units) == expected else "incomplete")
        if agg.value is None:
            return "office", "no_communes"
        if ind.authority == "lead_office":
            return "office", "authority"
        if ind.authority == "communes":
            return "communes", ("all_reported" if len(agg.units) == expected else "authority")
        if len(agg.units) < expected:
            return "office", "incomplete"
        return "communes", "all_reported"

    def _verdicts(self, ind: Indicator, exact, bounds, by_type_exact: dict) -> dict[str, Verdict]:
        out = {}
        for y in TARGET_YEARS:
            t = ind.targets.get(str(y))
            if t is not None and ind.kind == "yoy_change" and not ind.judged_in(self.year):
                out[str(y)] = Verdict.NOT_YET
            elif isinstance(t, dict):
                # Targets by area (CT4c): the district meets it when every area that reported
                # meets its own target.
                per = [judge(ind, by_type_exact.get(k), v, y) for k, v in t.items() if k in by_type_exact]
                per = [p for p in per if p != Verdict.NO_DATA]
                out[str(y)] = (Verdict.NO_DATA if not per else
                               Verdict.MET if all(p == Verdict.MET for p in per) else Verdict.NOT_MET)
            elif bounds is not None and t is not None:
                out[str(y)] = judge_bounds(ind, bounds[0], bounds[1], t, y)
            else:
                out[str(y)] = judge(ind, exact, t, y)
        return out

    def _comparison(self, ind: Indicator, values, previous, agg: Aggregate, expected: int, data: _YearInputs,
                    prev: YearFigure | None) -> Comparison | None:
        """The change from last year, like for like: both years over the same units, those
        that reported the indicator in both years (last year's figures carried across the
        roster changes; a new unit some of whose predecessors did not report is left out).
        Last year's figure as its report printed it is `IndicatorResult.previous`.

        None for a year-over-year indicator (CT13 is a comparison already)."""
        if ind.kind == "yoy_change":
            return None
        series_break = self.year in data.breaks and ind.kind == "share_of_communes"
        base = Comparison(year=self.year - 1, units_expected=expected,
                          previous_reported=prev.value if prev else None,
                          previous_units_reported=prev.units_reported if prev else None, series_break=series_break,
                          left_out=sorted(u for u in data.gaps if u in agg.units), carried=data.carried)
        if series_break or not agg.units:
            return base
        matched = [u for u in agg.units if aggregate(ind, previous, [u]).units]
        if not matched:
            return base
        now, before = aggregate(ind, values, matched), aggregate(ind, previous, matched)
        a = exact_value(ind, now.numerator, now.denominator)
        b = exact_value(ind, before.numerator, before.denominator)
        base.units, base.value, base.previous = len(matched), now.value, before.value
        base.change = float(a - b) if a is not None and b is not None else None
        base.numerator, base.denominator = now.numerator, now.denominator
        base.previous_numerator, base.previous_denominator = before.numerator, before.denominator
        return base

    def _totals(self, ind: Indicator, values, last_values, communes: list[str], prev_communes: list[str],
                agg: Aggregate) -> dict:
        """CT13's counts: each year's total over the communes that reported it, its count over
        the whole area ("whole": every commune, or the lead office's district-wide count; None
        when neither) and the matched totals the change is computed on."""
        def total(vals, codes):
            nums = [vals[u][ind.numerator] for u in codes if _number(vals.get(u, {}).get(ind.numerator))]
            out = {"value": sum(nums) if nums else None, "units": len(nums), "units_expected": len(codes)}
            return out | dict(zip(("whole", "whole_source"), self._whole_count(ind, vals, out)))

        return {"current": {"year": self.year, **total(values, communes)},
                "previous": {"year": self.year - 1, **total(last_values, prev_communes)},
                "matched": {"units": len(agg.units), "current": agg.numerator, "previous": agg.denominator}}

    @staticmethod
    def _whole_count(ind: Indicator, values, communes: dict) -> tuple[float | None, str | None]:
        """A year's count over the whole area and whose it is, by the catalogue's authority: the
        communes' sum when all reported, else the lead office's own count."""
        office = next((values[c][ind.numerator] for c in (ind.lead_office, ind.co_lead)
                       if c and _number(values.get(c, {}).get(ind.numerator))), None)
        complete = communes["units"] == communes["units_expected"] and communes["value"] is not None
        if office is not None and (ind.authority == "lead_office" or (not complete and ind.authority != "communes")):
            return office, OFFICE
        return (communes["value"], COMMUNES) if complete else (None, None)

    def _count_breaks(self) -> list[int]:
        """Years from which the communes counted are other units than the year before (the
        2025 reorganisation: 34 communes became 8): a share of units is a new series there."""
        out = []
        for y in range(self.cat.baseline_year + 1, self.year + 1):
            before = [u.code for u in self.roster.for_year(y - 1) if u.is_commune]
            after = {u.code for u in self.roster.for_year(y) if u.is_commune}
            mapping = self.roster.mapping(y - 1, y)
            if len(before) != len(after) or any(mapping.get(c) != c for c in before):
                out.append(y)
        return out

    def _office(self, ind: Indicator, values, previous, agg: Aggregate) -> OfficeFigure | None:
        """The lead office's own district-wide figure, kept beside the commune sum. "differs"
        flags a gap beyond the tolerance; it never decides whether the figure is quoted."""
        for code in (ind.lead_office, ind.co_lead):
            if code and code in values and ind.kind != "share_of_communes":
                a = aggregate(ind, values, [code], previous)
                if a.value is None:
                    continue
                differs = None
                diff = None
                if agg.value is not None:
                    diff = a.value - agg.value
                    base = abs(agg.value) or 1.0
                    # A gap of one or two cases in a rare event is chance, not a discrepancy.
                    cases = abs((a.numerator or 0) - (agg.numerator or 0))
                    differs = abs(a.value - agg.value) / base * 100 > self.tolerance and cases > 2
                return OfficeFigure(unit=code, value=a.value, numerator=a.numerator, denominator=a.denominator,
                                    difference=diff, differs=differs)
        return None

    def _by_type(self, ind: Indicator, values, communes, previous) -> tuple[dict, dict]:
        """The indicator per area (rural xã, urban thị trấn: `Unit.target_area`)."""
        out, exact = {}, {}
        for t in sorted({u.target_area for u in communes}):
            codes = [u.code for u in communes if u.target_area == t]
            a = aggregate(ind, values, codes, previous)
            out[t] = {"value": a.value, "numerator": a.numerator, "denominator": a.denominator,
                      "units_reported": len(a.units), "units_expected": len(codes)}
            exact[t] = exact_value(ind, a.numerator, a.denominator)
        return out, exact

    def _track(self, ind: Indicator, value, target, target_year: int, data: _YearInputs,
               bounds: Bounds | None = None) -> dict | None:
        """Where the value stands against the straight path from the baseline to the target;
        a share of units with units missing is on or off the path only if its bounds agree.
        Never across a series break: a path from the 34 old units' figure says nothing of 8."""
        base_year = self.cat.baseline_year
        if (value is None or not isinstance(target, (int, float)) or not base_year < self.year < target_year
                or ind.kind == "yoy_change"):
            return None
        if ind.kind == "share_of_communes" and any(base_year < b <= self.year for b in data.breaks):
            return None
        baseline = data.history.get(ind.code, {}).get(base_year)
        if baseline is None or baseline.value is None:
            return None
        expected = expected_on_path(baseline.value, target, base_year, target_year, self.year)

        def on_path(v: float) -> bool:
            return v >= expected if ind.direction == "at_least" else v <= expected

        ok = on_path(value)
        if bounds is not None and on_path(bounds.low) != on_path(bounds.high):
            ok = None
        return {"expected": expected, "on_track": ok, "label": TRACK_LABELS[ok]}

    def _history(self) -> dict[str, dict[int, YearFigure]]:
        """indicator -> year -> its figure as that year's merge made it, for every merged year
        before this one (stored beside the district row; from the stored result for a year
        merged before the figures were stored so)."""
        out: dict[str, dict[int, YearFigure]] = {}
        for y in self.store.merged_years():
            if y >= self.year:
                continue
            rows = [r for r in self.store.merged(y) if r["scope"] == "district"]
            if rows and all("figure" in r["detail"] for r in rows):
                for r in rows:
                    out.setdefault(r["indicator"], {})[y] = YearFigure.from_dict(r["detail"]["figure"])
                continue
            stored = MergeResult.from_dict(self.store.merge_summary(y))
            types = sorted({t for t in stored.unit_types.values() if t in COMMUNE_TYPES})
            for r in stored.indicators:
                own = r.years.get(str(y))
                out.setdefault(r.code, {})[y] = (own if own is not None and own.units_expected
                                                 else YearFigure.of(r, commune_types=types))
        return out

    def _population(self, values, communes) -> dict:
        fields = [f for f in self.cat.fields if f.section == "data" and f.chi_tieu is None and f.is_number]
        out = {}
        for f in fields:
            nums = [values[u][f.code] for u in communes if isinstance(values.get(u, {}).get(f.code), (int, float))]
            out[f.code] = {"label": f.label, "value": sum(nums) if nums else None, "units_reported": len(nums)}
        return out

    def _budget(self, values, units) -> dict:
        sources = self.cat.budget_sources
        by_unit, by_source = {}, {s["code"]: {"name": s["name"], "planned": 0.0, "spent": 0.0} for s in sources}
        for u in units:
            v = values.get(u.code)
            if not v:
                continue
            row = {}
            for s in sources:
                p, sp = v.get(f"budget_{s['code']}_planned"), v.get(f"budget_{s['code']}_spent")
                if isinstance(p, (int, float)) or isinstance(sp, (int, float)):
                    row[s["code"]] = {"planned": p, "spent": sp}
                    by_source[s["code"]]["planned"] += p or 0
                    by_source[s["code"]]["spent"] += sp or 0
            if row:
                by_unit[u.code] = row
        total = {"planned": sum(s["planned"] for s in by_source.values()),
                 "spent": sum(s["spent"] for s in by_source.values())}
        return {"by_unit": by_unit, "by_source": by_source, "total": total, "units_reported": len(by_unit)}

    def _narratives(self, values, offices) -> list[dict]:
        out = []
        for n in self.cat.narratives:
            for u in offices:
                text = values.get(u.code, {}).get(n["code"])
                if isinstance(text, str) and text.strip():
                    out.append({"field": n["code"], "heading": n["name"], "unit": u.code, "unit_name": u.name,
                                "text": text.strip()})
        return out

    def _coverage(self, units, values) -> dict:
        expected = [u.code for u in units]
        reported = [c for c in expected if c in values]
        return {"expected": len(expected), "reported": len(reported),
                "missing": [c for c in expected if c not in values],
                "communes_expected": sum(u.is_commune for u in units),
                "communes_reported": sum(u.is_commune and u.code in values for u in units)}

    def _save(self, result: MergeResult, values: dict) -> None:
        rows = [{"scope": "district", "indicator": r.code, "value": r.value, "numerator": r.numerator,
                 "denominator": r.denominator, "units_reported": r.units_reported,
                 "detail": {"figure": r.years[str(self.year)].to_dict()}}
                for r in result.indicators]
        for u, vals in result.units.items():
            rows += [{"scope": u, "indicator": code, "value": v} for code, v in vals.items()]
        fields = [{"unit": u, "field": f, "value": v if isinstance(v, (int, float)) else None,
                   "text": v if isinstance(v, str) else None} for u, vals in values.items() for f, v in vals.items()]
        self.store.save_merge(self.year, rows, fields, result.to_dict())


def _whole_count(row: IndicatorResult) -> float | None:
    """CT13: the year's count over the whole area, which next year's change starts from."""
    return ((row.totals or {}).get("current") or {}).get("whole") if row.kind == "yoy_change" else None


def _whole_area(ind: Indicator, totals: dict, prev: YearFigure | None) -> tuple | None:
    """CT13 over the whole area in both years, when both counts cover it: this year's (every
    commune, or the lead office's) against last year's as its report counted it. Then the
    change needs no sample of communes: (numerator, denominator, source, reason), else None."""
    cur, before = totals["current"], totals["previous"]
    if prev is not None and prev.count is not None:  # last year's count as its report used it
        before["whole"], before["whole_source"] = prev.count, prev.source
    if cur.get("whole") is None or not before.get("whole"):
        return None
    source = cur["whole_source"]
    reason = "all_reported" if source == COMMUNES else ("authority" if ind.authority == "lead_office" else "incomplete")
    return cur["whole"], before["whole"], source, reason


def _against_totals(ind: Indicator, verdicts: dict, totals: dict) -> dict:
    """CT13 judged on the communes that reported both years: when the totals quoted beside it
    (this year's over the communes that reported, last year's as reported) move the other way,
    the silent communes decide it, so it is undecided: never «Đạt» beside figures that rose."""
    cur, before = totals["current"], totals["previous"]
    last = before.get("whole") or before.get("value")
    if cur.get("value") is None or not last:
        return verdicts
    change = exact_value(ind, cur["value"], last)
    out = dict(verdicts)
    for y, v in verdicts.items():
        if v.judged and judge(ind, change, ind.targets.get(y), y) != v:
            out[y] = Verdict.UNDECIDED
    return out


def _missing(expected: list[str], reported: list[str]) -> list[str]:
    have = set(reported)
    return [c for c in expected if c not in have]


def _ranked(ind: Indicator, per_unit: dict[str, float], names: dict, n: int = 3) -> tuple[list, list]:
    """Up to n units at each end. Units tied with the next one are left out rather than
    picked at random: when 31 communes are at 100%, naming three of them says nothing."""
    if ind.kind in ("share_of_communes",) or len(per_unit) < 2:
        return [], []
    order = sorted(per_unit.items(), key=lambda kv: kv[1], reverse=ind.direction == "at_least")
    k = min(n, len(order) // 2)

    def end(items: list) -> list:
        chosen = items[:k]
        while chosen and len(items) > len(chosen) and items[len(chosen)][1] == chosen[-1][1]:
            chosen = [kv for kv in chosen if kv[1] != chosen[-1][1]]
        return [{"unit": u, "name": names.get(u, u), "value": v} for u, v in chosen]

    return end(order), end(list(reversed(order)))


def merge(ws, year: int, progress: Callable[[int], None] | None = None, force: bool = False) -> MergeResult:
    """Compute and store the year's figures, then write the consolidated workbook and the
    long-format CSV (through the output guard: an edited file is kept, see outputs.py).
    Returns the result with the paths written in `outputs`, the guard's lines in
    `output_messages`."""
    from pipeline.merge.consolidate import write_consolidated, write_long_csv
    from pipeline.base.outputs import session

    with ws.lock("treem merge"), Store(ws.db_path) as store, session(ws, year, force) as guard:
        result = Merger(ws, year, store).run()
        if progress:
            progress(1)
        files = ws.layout(year)
        outputs = {"workbook": write_consolidated(ws, result, files.consolidated),
                   "csv": write_long_csv(ws, result, files.long_csv)}
        if progress:
            progress(1)
    result.outputs = {k: str(v) for k, v in outputs.items()}
    result.output_messages = guard.messages
    return result


def load(ws, year: int) -> MergeResult | None:
    """The stored result of the last merge of `year`, or None."""
    if not Path(ws.db_path).exists():
        return None
    with Store(ws.db_path) as store:
        stored = store.merge_summary(year)
    return None if stored is None else MergeResult.from_dict(stored)


def json_summary(result: MergeResult) -> dict:
    """What `treem merge --json` prints, plain data: {"year", "reference_year", "counts" (indicators
    by verdict against their target of reference, and how many of those judged are provisional),
    "indicators": [{"code", "chi_tieu", "name", "value" (exact), "numerator", "denominator",
    "source" ("communes" or "office": whose `value` is), "source_reason", "communes_value" (the
    commune sum), "office" (the lead office's own figure: {"unit", "value", "numerator",
    "denominator", "difference", "differs"} or None), "units_reported", "units_expected", "partial",
    "provisional", "reference_year", "verdict" (the `Verdict` value for reference_year), "verdicts"
    (target year -> value), "labels" (target year -> label), "track", "bounds", "comparison",
    "previous" (last year's figure as its report printed it, with its source)}], "units",
    "coverage", "office_differences", "carry_gaps", "outputs", "output_messages"}."""
    keys = ("code", "chi_tieu", "name", "value", "numerator", "denominator", "source", "source_reason",
            "communes_value", "office", "units_reported", "units_expected", "partial", "provisional",
            "reference_year", "verdict", "verdicts", "labels", "track", "bounds", "comparison")
    indicators = []
    for r in result.indicators:
        d = r.to_dict()
        previous = r.previous
        indicators.append({k: d[k] for k in keys} | {"previous": previous.to_dict() if previous else None})
    return {
        "year": result.year,
        "reference_year": result.reference_year,
        "counts": result.verdict_counts().to_dict(),
        "indicators": indicators,
        "units": result.units,
        "coverage": result.coverage,
        "office_differences": result.office_differences,
        "carry_gaps": result.carry_gaps,
        "outputs": result.outputs,
        "output_messages": result.output_messages,
    }

"""Stage 3: the district's figures. Units report counts; the district value of every
indicator is Σ numerators ÷ Σ denominators × factor over the units that reported both,
never a mean of percentages. Each value is judged against the 2025 and 2030 targets and
against the straight path from the 2021 baseline to each target."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.catalogue import Catalogue, Indicator
from pipeline.history import carry_forward
from pipeline.store import Store

STATUS_LABELS = {"dat": "Đạt", "chua_dat": "Chưa đạt", "chua_co_so_lieu": "Chưa có số liệu",
                 "khong_co_chi_tieu": "Không có chỉ tiêu"}
TRACK_LABELS = {True: "Đúng lộ trình", False: "Chậm so với lộ trình", None: ""}
TARGET_YEARS = (2025, 2030)


@dataclass
class Aggregate:
    value: float | None
    numerator: float | None
    denominator: float | None
    units: list[str]


def aggregate(ind: Indicator, values: dict[str, dict], units: list[str],
              previous: dict[str, dict] | None = None) -> Aggregate:
    """The indicator over `units` (codes), summing counts. A blank is "not reported" and
    leaves the unit out of both sums; a 0 is a value."""
    num = den = 0.0
    used = []
    for u in units:
        v = values.get(u, {})
        n = v.get(ind.numerator)
        if not isinstance(n, (int, float)):
            continue
        if ind.kind == "share_of_communes":
            num, den = num + (1 if n else 0), den + 1
        elif ind.kind == "yoy_change":
            p = (previous or {}).get(u, {}).get(ind.numerator)
            if not isinstance(p, (int, float)):
                continue
            num, den = num + n, den + p
        else:
            d = v.get(ind.denominator)
            if not isinstance(d, (int, float)):
                continue
            num, den = num + n, den + d
        used.append(u)
    if not used:
        return Aggregate(None, None, None, [])
    if ind.kind == "yoy_change":
        value = (num - den) / den * 100 if den > 0 else None
    else:
        value = num / den * ind.factor if den > 0 else None
    return Aggregate(value, num, den, used)


def reference_year(year: int, targets: dict) -> str | None:
    """The target a year is judged against: the next target year that has a target (2025
    until 2025, then 2030), else the last one the plan set (CT19 has only 2025)."""
    have = sorted((y for y, t in (targets or {}).items() if t is not None), key=int)
    if not have:
        return None
    later = [y for y in have if int(y) >= year]
    return later[0] if later else have[-1]


def judge(ind: Indicator, value: float | None, target: float | None) -> str:
    if target is None:
        return "khong_co_chi_tieu"
    if value is None:
        return "chua_co_so_lieu"
    return "dat" if ind.meets(round(value, 6), target) else "chua_dat"


def expected_on_path(baseline: float, target: float, baseline_year: int, target_year: int, year: int) -> float:
    """The straight path from the baseline year's value to the target."""
    return baseline + (target - baseline) * (year - baseline_year) / (target_year - baseline_year)


class Merger:
    def __init__(self, ws, year: int, store: Store):
        self.ws, self.year, self.store = ws, year, store
        self.cat: Catalogue = ws.catalogue
        self.roster = ws.roster
        self.tolerance = float((ws.settings.get("checks") or {}).get("office_tolerance_percent", 5))

    def run(self) -> dict:
        cat, year = self.cat, self.year
        units = self.roster.for_year(year)
        communes = [u for u in units if u.is_commune]
        offices = [u for u in units if not u.is_commune]
        values = self.store.accepted_values(year)
        previous = carry_forward(self.store.accepted_values(year - 1), cat, self.roster, year - 1, year)
        history = self._history()
        commune_codes = [u.code for u in communes]
        names = {u.code: u.name for u in units}
        indicators, unit_values, unit_status, unit_counts = [], {}, {}, {}
        for ind in cat.indicators:
            agg = aggregate(ind, values, commune_codes, previous)
            source = "communes"
            office = self._office(ind, values, previous, agg)
            if agg.value is None and office and office["value"] is not None:
                source = "office"
            value = agg.value if source == "communes" else office["value"]
            row = {
                "code": ind.code, "chi_tieu": ind.chi_tieu, "goal": ind.goal, "name": ind.name, "kind": ind.kind,
                "unit": ind.unit, "direction": ind.direction, "value": _round(value),
                "numerator": agg.numerator if source == "communes" else office["numerator"],
                "denominator": agg.denominator if source == "communes" else office["denominator"],
                "source": source, "units_reported": len(agg.units), "units_expected": len(communes),
                "missing_units": _missing(commune_codes, agg.units),
                "targets": {str(y): ind.targets.get(str(y)) for y in TARGET_YEARS},
                "lead_office": ind.lead_office, "lead_office_name": names.get(ind.lead_office, ind.lead_office),
                "office": office, "note": ind.note,
            }
            row["partial"] = 0 < row["units_reported"] < row["units_expected"]
            row["by_type"] = self._by_type(ind, values, communes, previous)
            row["status"], row["status_code"], row["track"] = self._status(ind, row, history)
            prev_value = history.get(ind.code, {}).get(year - 1)
            row["previous"] = {"year": year - 1, "value": prev_value}
            row["change"] = _round(value - prev_value) if value is not None and prev_value is not None else None
            per_unit = {}
            for u in communes:
                a = aggregate(ind, values, [u.code], previous)
                if a.value is not None:
                    per_unit[u.code] = _round(a.value)
                    unit_values.setdefault(u.code, {})[ind.code] = _round(a.value)
                    unit_counts.setdefault(u.code, {})[ind.code] = (a.numerator, a.denominator)
                    unit_status.setdefault(u.code, {})[ind.code] = {
                        str(y): STATUS_LABELS[judge(ind, a.value, ind.target_for(y, u.type))] for y in TARGET_YEARS}
            row["best_units"], row["worst_units"] = _ranked(ind, per_unit, names)
            row["history"] = {str(y): v for y, v in sorted({**history.get(ind.code, {}), year: row["value"]}.items())}
            indicators.append(row)
        result = {
            "year": year, "indicators": indicators, "units": unit_values, "unit_status": unit_status,
            "unit_counts": unit_counts,
            "unit_names": names, "unit_types": {u.code: u.type for u in units},
            "population": self._population(values, commune_codes),
            "budget": self._budget(values, units),
            "narratives": self._narratives(values, offices),
            "coverage": self._coverage(units, values),
            "office_differences": [r["office"] | {"indicator": r["code"], "name": r["name"]}
                                   for r in indicators if r["office"] and r["office"].get("differs")],
        }
        self._save(result, values)
        return result

    def _office(self, ind: Indicator, values, previous, agg: Aggregate) -> dict | None:
        """The lead office's own district-wide figure, kept beside the commune sum."""
        for code in (ind.lead_office, ind.co_lead):
            if code and code in values and ind.kind != "share_of_communes":
                a = aggregate(ind, values, [code], previous)
                if a.value is None:
                    continue
                differs = None
                diff = None
                if agg.value is not None:
                    diff = _round(a.value - agg.value)
                    base = abs(agg.value) or 1.0
                    # A gap of one or two cases in a rare event is chance, not a discrepancy.
                    cases = abs((a.numerator or 0) - (agg.numerator or 0))
                    differs = abs(a.value - agg.value) / base * 100 > self.tolerance and cases > 2
                return {"unit": code, "value": _round(a.value), "numerator": a.numerator,
                        "denominator": a.denominator, "difference": diff, "differs": differs}
        return None

    def _by_type(self, ind: Indicator, values, communes, previous) -> dict:
        out = {}
        for t in sorted({u.type for u in communes}):
            a = aggregate(ind, values, [u.code for u in communes if u.type == t], previous)
            out[t] = {"value": _round(a.value), "numerator": a.numerator, "denominator": a.denominator,
                      "units_reported": len(a.units)}
        return out

    def _status(self, ind: Indicator, row: dict, history: dict) -> tuple[dict, dict, dict]:
        labels, codes, track = {}, {}, {}
        for y in TARGET_YEARS:
            t = ind.targets.get(str(y))
            if isinstance(t, dict):
                # Targets by unit type (CT4 obesity): the district meets it when every type of
                # unit that reported meets its own target.
                per = [judge(ind, row["by_type"][k]["value"], v) for k, v in t.items() if k in row["by_type"]]
                per = [p for p in per if p != "chua_co_so_lieu"]
                code = ("chua_co_so_lieu" if not per else "dat" if all(p == "dat" for p in per) else "chua_dat")
            else:
                code = judge(ind, row["value"], t)
            codes[str(y)], labels[str(y)] = code, STATUS_LABELS[code]
            track[str(y)] = self._track(ind, row["value"], t, y, history)
        return labels, codes, track

    def _track(self, ind: Indicator, value, target, target_year: int, history: dict) -> dict | None:
        base_year = self.cat.baseline_year
        if (value is None or not isinstance(target, (int, float)) or not base_year < self.year < target_year
                or ind.kind == "yoy_change"):
            return None
        baseline = history.get(ind.code, {}).get(base_year)
        if baseline is None:
            return None
        expected = expected_on_path(baseline, target, base_year, target_year, self.year)
        ok = value >= expected if ind.direction == "at_least" else value <= expected
        return {"expected": _round(expected), "on_track": ok, "label": TRACK_LABELS[ok]}

    def _history(self) -> dict[str, dict[int, float | None]]:
        """indicator -> year -> district value for every merged year before this one."""
        out: dict[str, dict[int, float | None]] = {}
        for y in self.store.merged_years():
            if y >= self.year:
                continue
            for r in self.store.merged(y):
                if r["scope"] == "district":
                    out.setdefault(r["indicator"], {})[y] = r["value"]
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

    def _save(self, result: dict, values: dict) -> None:
        rows = [{"scope": "district", "indicator": r["code"], "value": r["value"], "numerator": r["numerator"],
                 "denominator": r["denominator"], "units_reported": r["units_reported"]}
                for r in result["indicators"]]
        for u, vals in result["units"].items():
            rows += [{"scope": u, "indicator": code, "value": v} for code, v in vals.items()]
        fields = [{"unit": u, "field": f, "value": v if isinstance(v, (int, float)) else None,
                   "text": v if isinstance(v, str) else None} for u, vals in values.items() for f, v in vals.items()]
        self.store.save_merge(self.year, rows, fields, result)


def _missing(expected: list[str], reported: list[str]) -> list[str]:
    have = set(reported)
    return [c for c in expected if c not in have]


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


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


def merge(ws, year: int, progress: Callable[[int], None] | None = None, force: bool = False) -> dict:
    """Compute and store the year's figures, then write the consolidated workbook and the
    long-format CSV (through the output guard: an edited file is kept, see outputs.py).
    Returns the result with the paths written under "outputs", the guard's lines under
    "output_messages"."""
    from pipeline.consolidate import write_consolidated, write_long_csv
    from pipeline.outputs import session

    with ws.lock("treem merge"), Store(ws.db_path) as store, session(ws, year, force) as guard:
        result = Merger(ws, year, store).run()
        if progress:
            progress(1)
        folder = ws.output(year)
        outputs = {"workbook": write_consolidated(ws, result, folder / f"tong_hop_{year}.xlsx"),
                   "csv": write_long_csv(ws, result, folder / f"du_lieu_{year}.csv")}
        if progress:
            progress(1)
    result["outputs"] = {k: str(v) for k, v in outputs.items()}
    result["output_messages"] = guard.messages
    return result


def load(ws, year: int) -> dict | None:
    """The stored result of the last merge of `year`, or None."""
    if not Path(ws.db_path).exists():
        return None
    with Store(ws.db_path) as store:
        return store.merge_summary(year)


def json_summary(result: dict) -> dict:
    """The shape scripts rely on (see `treem merge --json`)."""
    return {
        "year": result["year"],
        "indicators": [{k: r[k] for k in ("code", "chi_tieu", "name", "value", "numerator", "denominator",
                                          "units_reported", "units_expected", "partial", "status", "track",
                                          "source")} for r in result["indicators"]],
        "units": result["units"],
        "coverage": result["coverage"],
        "office_differences": result["office_differences"],
        "outputs": result.get("outputs", {}),
    }

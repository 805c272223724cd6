"""The typed result of merging: one `MergeResult` holding an `IndicatorResult` per indicator
(with its `Comparison`, `Bounds`, `OfficeFigure` and a `YearFigure` for every year since the
baseline), and the `Verdict` of each value against a target, its Vietnamese label beside it. Each field is explained where it is declared. `merge`
makes it, the store keeps its `to_dict()` as JSON, `load` reads it back with `from_dict`; the
workbook, the report, the CLI, `--json`, the API and the desk read the same object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum

from pipeline.config.catalogue import TARGET_YEARS
from pipeline.config.roster import communes_word


class Verdict(str, Enum):
    """How an indicator stands against one target. The value is what is stored and compared."""
    MET = "dat"
    NOT_MET = "chua_dat"
    # Share of units: the units that have not reported could still turn the verdict.
    UNDECIDED = "chua_du_so_lieu"
    NO_DATA = "chua_co_so_lieu"
    NO_TARGET = "khong_co_chi_tieu"
    # A target set for later years only (CT13: 2025-2030): the change is reported, not judged.
    NOT_YET = "chua_ap_dung"

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self]

    @property
    def judged(self) -> bool:
        return self in (Verdict.MET, Verdict.NOT_MET)


VERDICT_LABELS = {
    Verdict.MET: "Đạt", Verdict.NOT_MET: "Chưa đạt", Verdict.UNDECIDED: "Chưa đủ số liệu để đánh giá",
    Verdict.NO_DATA: "Chưa có số liệu", Verdict.NO_TARGET: "Không có chỉ tiêu", Verdict.NOT_YET: "Chưa áp dụng",
}
STATUS_LABELS = {v.value: label for v, label in VERDICT_LABELS.items()}
# Whose a figure is: the sum over the communes (all of them, or those that reported), or the
# lead office's own district-wide figure.
COMMUNES, OFFICE = "communes", "office"
SOURCE_LABELS = {COMMUNES: "Tổng hợp từ các xã", OFFICE: "Số của phòng chủ trì"}
# A figure's source marked in a table cell, explained in the table's note (`SOURCE_MARK_NOTES`).
SOURCE_MARKS = {OFFICE: " (p)", "provisional": " (t)"}
SOURCE_MARK_NOTES = {OFFICE: "«(p)»: số do phòng chủ trì báo cáo cho toàn địa bàn",
                     "provisional": "«(t)»: tạm tính trên số liệu của các xã đã báo cáo"}


@dataclass
class Comparison:
    """The change from last year, like for like: both years over the communes that reported
    the indicator in both (last year's figures carried across roster changes; see
    `Merger._comparison`)."""
    year: int                                  # last year
    units: int = 0                             # communes that reported the indicator in both years
    units_expected: int = 0                    # communes of the roster this year
    value: float | None = None                 # this year, on those communes (exact)
    previous: float | None = None              # last year, on the same communes (exact)
    change: float | None = None                # value - previous, exact (points for a percentage)
    numerator: float | None = None
    denominator: float | None = None
    previous_numerator: float | None = None
    previous_denominator: float | None = None
    previous_reported: float | None = None     # last year's district figure as it was reported
    previous_units_reported: int | None = None  # ... and how many communes it covered
    series_break: bool = False                 # the units counted changed (2025): no change computed
    left_out: list[str] = field(default_factory=list)  # new communes not compared: a predecessor was silent
    carried: bool = False                      # last year's counts are the old units' re-keyed to this
                                               # year's communes (the 2025 reorganisation)


@dataclass
class OfficeFigure:
    """The lead office's own district-wide figure, kept beside the commune sum."""
    unit: str
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    difference: float | None = None            # office - communes (exact)
    differs: bool | None = None                # beyond the settings' tolerance (a flag only)


@dataclass
class Bounds:
    """A share of units with communes missing: the share if they all said no, or all yes."""
    low: float
    high: float
    missing: int


@dataclass
class YearFigure:
    """An indicator's district figure of one year, as that year's merge made it and its report
    printed it: later years quote it with the source it had then, and judge nothing again."""
    year: int
    value: float | None = None
    source: str = COMMUNES                     # COMMUNES or OFFICE: whose figure `value` is
    source_name: str = ""                      # the lead office's name when the source is OFFICE
    units_reported: int = 0                    # communes that gave the indicator that year
    units_expected: int = 0                    # communes of that year's roster
    commune_types: list[str] = field(default_factory=list)  # "xa", "thi_tran": that year's roster
    partial: bool = False
    provisional: bool = False                  # judged on fewer than all communes
    communes_value: float | None = None        # the commune sum (over those that reported)
    office_value: float | None = None          # the lead office's figure, when it gave one
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # target year -> verdict, as judged then
    bounds: Bounds | None = None
    new_series: bool = False                   # a share of units counting other units from this year
    count: float | None = None                 # CT13: the year's count over the whole area (every
                                               # commune, or the lead office's), None when partial

    def verdict_for(self, year: str | int) -> Verdict:
        return self.verdicts.get(str(year), Verdict.NO_DATA)

    @property
    def source_label(self) -> str:
        """Whose the figure is, for a table: "Số của Phòng Y tế", "Tổng hợp 34/34 xã, thị trấn",
        "Tạm tính trên 6/8 xã" ("" when there is no figure)."""
        if self.value is None:
            return ""
        if self.source == OFFICE:
            return f"Số của {self.source_name or 'phòng chủ trì'}"
        cov = f"{self.units_reported}/{self.units_expected} {communes_word(self.commune_types)}"
        return f"Tạm tính trên {cov}" if self.provisional else f"Tổng hợp {cov}"

    @property
    def mark(self) -> str:
        """The figure's source as a table cell's mark (`SOURCE_MARKS`): the lead office's, or a
        rate on some communes only; none for the sum over every commune."""
        if self.value is None:
            return ""
        return SOURCE_MARKS[OFFICE] if self.source == OFFICE else SOURCE_MARKS["provisional"] if self.provisional else ""

    @classmethod
    def of(cls, row: IndicatorResult, **more) -> YearFigure:
        """The figure of `row`'s own year (`more`: commune_types, new_series, count)."""
        office = row.office.value if row.office else None
        return cls(year=row.year, value=row.value, source=row.source,
                   source_name=row.lead_office_name if row.source == OFFICE else "",
                   units_reported=row.units_reported, units_expected=row.units_expected, partial=row.partial,
                   provisional=row.provisional, communes_value=row.communes_value, office_value=office,
                   verdicts=dict(row.verdicts), bounds=row.bounds, **more)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verdicts"] = {y: Verdict(v).value for y, v in self.verdicts.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> YearFigure:
        d = {k: v for k, v in d.items() if k in _YEAR_FIELDS}
        d["verdicts"] = {y: Verdict(v) for y, v in (d.get("verdicts") or {}).items()}
        if d.get("bounds") is not None:
            d["bounds"] = Bounds(**d["bounds"])
        return cls(**d)


@dataclass
class IndicatorResult:
    """One indicator of one year. Values are exact, never rounded (display rounds once);
    verdicts are `Verdict` members judged here once, from the exact counts."""
    code: str                                  # "ct05a"
    chi_tieu: int = 0                          # the plan's indicator number (5)
    goal: int = 0                              # the plan's goal (1-4)
    name: str = ""
    kind: str = "percentage"                   # percentage, per_1000_live_births, per_100000_children,
                                               # share_of_communes, yoy_change
    unit: str = "%"                            # "%", "‰", "/100.000 trẻ em"
    direction: str = "at_least"                # at_least / at_most
    year: int = 0                              # the year of the figures
    value: float | None = None                 # the district value; None when nothing to compute
    numerator: float | None = None             # for a share of units: communes answering yes
    denominator: float | None = None           # for a share of units: every commune of the roster
    source: str = "communes"                   # "communes" or "office": whose figure `value` is
    source_reason: str = ""                    # all_reported, authority, incomplete, no_communes
    communes_value: float | None = None        # the commune sum, kept beside an office figure
    authority: str = "auto"                    # the catalogue's: communes, lead_office, auto
    units_reported: int = 0                    # communes that gave the indicator
    units_expected: int = 0                    # communes of the roster
    missing_units: list[str] = field(default_factory=list)
    partial: bool = False                      # fewer communes than the roster
    provisional: bool = False                  # a rate on fewer than all communes is the district value
    targets: dict = field(default_factory=dict)  # "2025"/"2030" -> number, {area: number} (CT4c) or None
    reference_year: str | None = None          # the target year the report judges against
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # target year -> verdict
    bounds: Bounds | None = None
    track: dict = field(default_factory=dict)  # target year -> {"expected", "on_track", "label"} or None
    comparison: Comparison | None = None       # None for CT13 (a comparison already)
    totals: dict | None = None                 # CT13: {"current", "previous", "matched"} counts and coverage
    whole_area: bool = False                   # CT13: both years' counts cover the whole area (no sample)
    series_breaks: list[int] = field(default_factory=list)  # years from which a share counts other units
    by_type: dict = field(default_factory=dict)  # area -> {"value", "numerator", "denominator",
                                                 # "units_reported", "verdicts": {year: Verdict}}
    office: OfficeFigure | None = None
    best_units: list[dict] = field(default_factory=list)   # [{"unit", "name", "value"}]
    worst_units: list[dict] = field(default_factory=list)
    years: dict[str, YearFigure] = field(default_factory=dict)  # every merged year since the baseline, to
                                                                # this one: value, source, verdicts then
    lead_office: str = ""
    lead_office_name: str = ""
    note: str = ""

    def verdict_for(self, year: str | int | None) -> Verdict:
        """The verdict against one target year's target."""
        if year is None:
            return Verdict.NO_TARGET
        return self.verdicts.get(str(year), Verdict.NO_DATA)

    @property
    def verdict(self) -> Verdict:
        """The verdict against the target of reference (`reference_year`)."""
        return self.verdict_for(self.reference_year)

    @property
    def previous(self) -> YearFigure | None:
        """Last year's figure as last year's report printed it (value, source, coverage)."""
        return self.years.get(str(self.year - 1))

    @property
    def history(self) -> dict[str, float | None]:
        """Year -> district value, from the baseline to this year."""
        return {y: f.value for y, f in self.years.items()}

    @property
    def target_numbers(self) -> list[float]:
        """Every number this indicator's targets name (both target years, each area's): a
        figure printed beside them is never rounded into one of them."""
        out = []
        for t in (self.targets or {}).values():
            for x in (t.values() if isinstance(t, dict) else [t]):
                if isinstance(x, (int, float)) and not isinstance(x, bool):
                    out.append(x)
        return out

    @property
    def change(self) -> float | None:
        """The like-for-like change from last year (None across a series break)."""
        return self.comparison.change if self.comparison else None

    def to_dict(self) -> dict:
        """Plain JSON-able data: verdicts as their values ("dat"), labels beside them."""
        d = asdict(self)
        d["verdicts"] = {y: v.value for y, v in self.verdicts.items()}
        d["verdict"] = self.verdict.value
        d["labels"] = {y: v.label for y, v in self.verdicts.items()}
        for part in d["by_type"].values():
            part["verdicts"] = {y: Verdict(v).value for y, v in (part.get("verdicts") or {}).items()}
        d["years"] = {y: f.to_dict() for y, f in self.years.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> IndicatorResult:
        # "status_code": what results stored before the typed result called the verdicts
        verdicts = d.get("verdicts") or d.get("status_code") or {}
        old_history = d.get("history") or {}  # results stored before the years' figures
        d = {k: v for k, v in d.items() if k in _INDICATOR_FIELDS}
        d["years"] = ({y: YearFigure.from_dict(f) for y, f in d["years"].items()} if d.get("years") else
                      {str(y): YearFigure(year=int(y), value=v) for y, v in old_history.items()})
        d["verdicts"] = {y: Verdict(v) for y, v in verdicts.items()}
        d["by_type"] = {t: {**p, "verdicts": {y: Verdict(v) for y, v in (p.get("verdicts") or {}).items()}}
                        for t, p in (d.get("by_type") or {}).items()}
        if d.get("bounds") is not None:
            d["bounds"] = Bounds(**d["bounds"])
        if d.get("comparison") is not None:
            d["comparison"] = Comparison(**d["comparison"])
        if d.get("office") is not None:
            d["office"] = OfficeFigure(**d["office"])
        return cls(**d)


@dataclass
class VerdictCounts:
    """How many indicators stand how against their targets: the one count the report, the
    review, the CLI and the desk print. `provisional`: judged (met or not) on fewer than all
    communes; `not_yet`: a target set for later years only (CT13 before 2025)."""
    met: list[str] = field(default_factory=list)
    not_met: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    no_data: list[str] = field(default_factory=list)
    not_yet: list[str] = field(default_factory=list)
    provisional: list[str] = field(default_factory=list)

    @property
    def judged(self) -> int:
        """Indicators with a target to judge against (every list but `provisional`)."""
        return len(self.met) + len(self.not_met) + len(self.undecided) + len(self.no_data) + len(self.not_yet)

    def of(self, verdict: Verdict) -> list[str]:
        return {Verdict.MET: self.met, Verdict.NOT_MET: self.not_met, Verdict.UNDECIDED: self.undecided,
                Verdict.NO_DATA: self.no_data, Verdict.NOT_YET: self.not_yet}.get(verdict, [])

    def to_dict(self) -> dict:
        return {k: len(v) for k, v in asdict(self).items()}


@dataclass
class MergeResult:
    """What `merge` returns and `load` reads back: the district's figures of one year."""
    year: int
    reference_year: str | None = None                # the target year the year's report judges against
    indicators: list[IndicatorResult] = field(default_factory=list)
    units: dict[str, dict[str, float]] = field(default_factory=dict)       # unit -> indicator -> exact value
    unit_counts: dict[str, dict[str, list]] = field(default_factory=dict)  # unit -> indicator -> [num, den]
    unit_verdicts: dict[str, dict[str, dict[str, Verdict]]] = field(default_factory=dict)
    #                                         unit -> indicator -> target year -> verdict (its own target)
    unit_names: dict[str, str] = field(default_factory=dict)
    unit_types: dict[str, str] = field(default_factory=dict)
    unit_areas: dict[str, str] = field(default_factory=dict)  # commune -> area whose CT4c target applies
    population: dict = field(default_factory=dict)   # field -> {"label", "value", "units_reported"}
    budget: dict = field(default_factory=dict)       # {"by_unit", "by_source", "total", "units_reported"}
    narratives: list[dict] = field(default_factory=list)  # [{"field", "heading", "unit", "unit_name", "text"}]
    coverage: dict = field(default_factory=dict)     # {"expected", "reported", "missing", "communes_expected",
                                                     #  "communes_reported"}
    office_differences: list[dict] = field(default_factory=list)
    carry_gaps: dict[str, list[str]] = field(default_factory=dict)  # new unit -> predecessors silent last year
    imported_units: list[str] = field(default_factory=list)  # units whose figures came by import-history
    merged_at: str = ""                              # when it was stored (`load`)
    outputs: dict[str, str] = field(default_factory=dict)  # files written (`merge`)
    output_messages: list[str] = field(default_factory=list)  # the output guard's lines (`merge`)

    def indicator(self, code: str) -> IndicatorResult:
        return next(r for r in self.indicators if r.code == code)

    def verdict_counts(self, target_year: str | None = None) -> VerdictCounts:
        """The indicators by verdict: against each one's own target of reference, or against
        `target_year`'s targets (the review), leaving out those without a target then."""
        counts = VerdictCounts()
        for r in self.indicators:
            ty = target_year if target_year is not None else r.reference_year
            if ty is None or (r.targets or {}).get(str(ty)) is None:
                continue
            v = r.verdict_for(ty)
            counts.of(v).append(r.code)
            if v.judged and r.provisional:
                counts.provisional.append(r.code)
        return counts

    @property
    def communes(self) -> list[str]:
        """The communes of the year's roster, in roster order."""
        return [u for u, t in self.unit_types.items() if t in ("xa", "thi_tran")]

    def to_dict(self) -> dict:
        """Plain JSON-able data (what the store keeps). The per-unit tables are already plain
        and are shared, not copied: at 10,000 units a deep copy cost more than the merge."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["indicators"] = [r.to_dict() for r in self.indicators]
        d["unit_verdicts"] = {u: {c: {y: Verdict(v).value for y, v in ys.items()} for c, ys in per.items()}
                              for u, per in self.unit_verdicts.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> MergeResult:
        d = {k: v for k, v in d.items() if k in _RESULT_FIELDS}
        if d.get("reference_year") is None:  # stored before the result carried it
            d["reference_year"] = reference_year(int(d["year"]), {str(y): 0 for y in TARGET_YEARS})
        d["indicators"] = [IndicatorResult.from_dict(r) for r in d.get("indicators") or []]
        for r in d["indicators"]:
            r.year = r.year or int(d["year"])
        d["unit_verdicts"] = {u: {c: {y: Verdict(v) for y, v in ys.items()} for c, ys in per.items()}
                              for u, per in (d.get("unit_verdicts") or {}).items()}
        return cls(**d)


def reference_year(year: int, targets: dict) -> str | None:
    """The target a year is judged against: the next target year that has a target (2025
    until 2025, then 2030), else the last one the plan set (CT19 has only 2025). Merge applies
    it once and the result carries it (`IndicatorResult.reference_year`,
    `MergeResult.reference_year`); nothing later works it out again."""
    have = sorted((y for y, t in (targets or {}).items() if t is not None), key=int)
    if not have:
        return None
    later = [y for y in have if int(y) >= year]
    return later[0] if later else have[-1]


# None: a share of units whose missing units could put it either side of the path.
TRACK_LABELS = {True: "Đúng lộ trình", False: "Chậm so với lộ trình", None: "Chưa đủ số liệu đánh giá lộ trình"}
_INDICATOR_FIELDS = {f.name for f in fields(IndicatorResult)}
_YEAR_FIELDS = {f.name for f in fields(YearFigure)}
_RESULT_FIELDS = {f.name for f in fields(MergeResult)}

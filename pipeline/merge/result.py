"""The typed result of merging: one `MergeResult` holding an `IndicatorResult` per indicator
(with its `Comparison`, `Bounds` and `OfficeFigure`), and the `Verdict` of each value against a
target, its Vietnamese label beside it. Each field is explained where it is declared. `merge`
makes it, the store keeps its `to_dict()` as JSON, `load` reads it back with `from_dict`; the
workbook, the report, the CLI, `--json`, the API and the desk read the same object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum


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
    previous: dict = field(default_factory=dict)  # {"year", "value", "units_reported"}: last year's figure
    comparison: Comparison | None = None       # None for CT13 (a comparison already)
    totals: dict | None = None                 # CT13: {"current", "previous", "matched"} counts and coverage
    series_breaks: list[int] = field(default_factory=list)  # years from which a share counts other units
    by_type: dict = field(default_factory=dict)  # area -> {"value", "numerator", "denominator",
                                                 # "units_reported", "verdicts": {year: Verdict}}
    office: OfficeFigure | None = None
    best_units: list[dict] = field(default_factory=list)   # [{"unit", "name", "value"}]
    worst_units: list[dict] = field(default_factory=list)
    history: dict[str, float | None] = field(default_factory=dict)  # year -> district value, to this year
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
        return d

    @classmethod
    def from_dict(cls, d: dict) -> IndicatorResult:
        # "status_code": what results stored before the typed result called the verdicts
        verdicts = d.get("verdicts") or d.get("status_code") or {}
        d = {k: v for k, v in d.items() if k in _INDICATOR_FIELDS}
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
class MergeResult:
    """What `merge` returns and `load` reads back: the district's figures of one year."""
    year: int
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
        d["indicators"] = [IndicatorResult.from_dict(r) for r in d.get("indicators") or []]
        d["unit_verdicts"] = {u: {c: {y: Verdict(v) for y, v in ys.items()} for c, ys in per.items()}
                              for u, per in (d.get("unit_verdicts") or {}).items()}
        return cls(**d)


# None: a share of units whose missing units could put it either side of the path.
TRACK_LABELS = {True: "Đúng lộ trình", False: "Chậm so với lộ trình", None: "Chưa đủ số liệu đánh giá lộ trình"}
_INDICATOR_FIELDS = {f.name for f in fields(IndicatorResult)}
_RESULT_FIELDS = {f.name for f in fields(MergeResult)}

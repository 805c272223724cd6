"""Every year's figures as pandas DataFrames, for the analyst: the province statistician in
Jupyter, an evaluator in R (through `treem export --format csv`), anyone with a pivot table.

A thin layer over what the CLI itself reads: the store (submissions, values, problems) and
merge's stored result (district figures). Nothing here writes to the workspace.

    >>> from pipeline import open_workspace
    >>> ws = open_workspace(demo_root)            # the folder `treem demo --year 2025` made
    >>> ws.years()
    [2021, 2022, 2023, 2024, 2025]

The examples in this module run on that demo workspace (tests/test_api.py runs them).
pandas is imported here, so only by whoever asks for a DataFrame: the commands of the annual
cycle never load it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.base.problems import Severity
from pipeline.merge import merger as merge
from pipeline.merge.result import STATUS_LABELS as VERDICT_LABELS
from pipeline.store.history import carry_forward, carried_groups
from pipeline.config.roster import reference_date
from pipeline.store import submissions as seen
from pipeline.store.db import Store
from pipeline.forms.contract import note_name
from pipeline.config.workspace import Workspace

# Column -> dtype of each table. Counts are nullable integers and figures nullable floats, so
# that a blank stays <NA> and is never mistaken for 0; codes are categories.
VALUES = {"year": "Int64", "unit": "category", "unit_name": "string", "unit_type": "category",
          "field": "category", "value": "Float64", "text": "string", "source_cell": "string",
          "submission": "string", "excluded": "boolean"}
INDICATORS = {"year": "Int64", "code": "category", "chi_tieu": "Int64", "name": "string", "unit_of_measure": "string",
              "value": "Float64", "numerator": "Float64", "denominator": "Float64", "units_reported": "Int64",
              "units_expected": "Int64", "verdict_2025": "category", "verdict_2030": "category", "source": "category",
              "communes_value": "Float64", "office_value": "Float64", "provisional": "boolean"}
UNIT_INDICATORS = {"year": "Int64", "unit": "category", "unit_name": "string", "unit_type": "category",
                   "code": "category", "chi_tieu": "Int64", "name": "string", "value": "Float64",
                   "numerator": "Float64", "denominator": "Float64"}
SUBMISSIONS = {"year": "Int64", "path": "string", "sha256": "string", "unit": "category", "unit_name": "string",
               "status": "category", "identity_source": "category", "received": "datetime64[s]",
               "saved": "datetime64[s]", "on_time": "boolean", "errors": "Int64", "warnings": "Int64"}
PROBLEMS = {"year": "Int64", "path": "string", "sha256": "string", "unit": "category", "code": "category",
            "severity": "category", "sheet": "string", "cell": "string", "field": "category", "message": "string",
            "rule": "category"}


def open_workspace(root: str | Path = ".") -> WorkspaceData:
    """The figures of the workspace folder `root` (the folder holding treem.sqlite).

    >>> open_workspace(demo_root).root.name
    'treem-demo'
    """
    ws = Workspace(root)
    ws.require()
    return WorkspaceData(ws)


class WorkspaceData:
    """Read-only tables of one workspace. Every method returns a new DataFrame."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    @property
    def root(self) -> Path:
        return self.ws.root

    def years(self) -> list[int]:
        """The years anything was received for."""
        if not self.ws.db_path.exists():
            return []
        with Store(self.ws.db_path) as store:
            return store.submission_years()

    def _years(self, years) -> list[int]:
        if years is None:
            return self.years()
        if isinstance(years, int):
            return [years]
        return sorted({int(y) for y in years})

    # ------------------------------------------------------------------ values
    def values(self, years=None, roster_of: int | None = None) -> pd.DataFrame:
        """One row per unit, field and year: what each unit's current accepted file says, the
        figures merge adds up. Every field the unit had to report has a row; a blank cell is
        <NA> in `value`, never 0. `text` holds texts (narratives, explanations); yes/no
        answers are 1/0 in `value`. `source_cell` is where the number was typed ("Số
        liệu!F12"), `submission` the file's SHA-256 (the key of `submissions()`).
        `excluded` is True for a value merge left out: the officer accepted the file despite
        its errors (`treem accept`), and the fields those errors point at do not count.

        roster_of=YEAR re-keys earlier years to the units in force in YEAR with the rule
        merge uses for last year's values (history.carry_forward over the values merge
        counts, store.submissions.counted_values): the counts of communes merged into one are
        summed when every one of them reported the field (budgets: when any did), so a commune
        that sent nothing, or whose value was left out, leaves the sum <NA>; their yes/no
        answers and texts, and the cell and file of a sum, are <NA>.

        >>> v = ws.values(years=[2024])
        >>> str(v["value"].dtype), str(v["unit"].dtype)
        ('Float64', 'category')
        >>> thinh = v[(v.unit == "15736") & (v.field == "children_total")]
        >>> thinh[["unit_name", "source_cell"]].values.tolist()
        [['Xã Xuân Thịnh', 'Số liệu!F6']]

        After the 2025 reorganisation Xã Triệu Sơn (15664) took over five communes; in the
        roster of 2025 its 2024 count of children is theirs added up:

        >>> old = v[v.unit.isin(["15664", "15691", "15700", "15703", "15706"])
        ...         & (v.field == "children_total")]["value"].sum()
        >>> new = ws.values(years=[2024], roster_of=2025)
        >>> row = new[(new.unit == "15664") & (new.field == "children_total")]
        >>> row["unit_name"].item(), bool(row["value"].item() == old), bool(row["source_cell"].isna().item())
        ('Xã Triệu Sơn', True, True)
        """
        rows: list[dict] = []
        cat, roster = self.ws.catalogue, self.ws.roster
        if not self.ws.db_path.exists():
            return _frame(rows, VALUES)
        with Store(self.ws.db_path) as store:
            for year in self._years(years):
                current = seen.current(store, year)
                cells = store.values([s.id for s in current.values()])
                left_out = seen.left_out(store, year, current)
                on = reference_date(year)
                own: dict[str, list[dict]] = {}
                for code, sub in current.items():
                    unit = roster.get(code, on)
                    stored = cells[sub.id]
                    fields = [f.code for f in cat.fields_for(unit.type, unit.code)] if unit else []
                    extra = [f for f in stored if f not in fields]  # explanations beside a field
                    out = left_out.get(code, set())
                    own[code] = [_value_row(year, code, f, stored.get(f), sub.sha256) | {"excluded": f in out}
                                 for f in fields + extra]
                if roster_of is None or roster_of == year:
                    for code, unit_rows in own.items():
                        rows += _named(unit_rows, roster.get(code, on))
                    continue
                rows += self._mapped(year, roster_of, own, seen.counted_values(store, year))
        return _frame(rows, VALUES)

    def _mapped(self, year: int, to_year: int, own: dict, counted: dict) -> list[dict]:
        """`own` (unit -> its rows) re-keyed to the units of to_year through carry_forward, over
        the values merge counts (`counted`: what an officer's accept left out is not there)."""
        cat, roster = self.ws.catalogue, self.ws.roster
        carried = carry_forward(counted, cat, roster, year, to_year)
        out = []
        on, then = reference_date(year), reference_date(to_year)
        for new, olds in carried_groups(counted, roster, year, to_year).items():
            unit = roster.get(new, then) or roster.get(new, on)
            numbers = carried.get(new, {})
            if len(olds) == 1:
                unit_rows = [r | {"unit": new, "value": numbers.get(r["field"]),
                                  "excluded": r["excluded"] and r["field"] not in numbers} for r in own[olds[0]]]
            else:
                fields = list(dict.fromkeys(r["field"] for o in olds for r in own.get(o, []) if r["text"] is None
                                            and not r["field"].startswith(note_name(""))))
                unit_rows = [{"year": year, "unit": new, "field": f, "value": numbers.get(f), "text": None,
                              "source_cell": None, "submission": None, "excluded": False} for f in fields]
            out += _named(unit_rows, unit)
        return out

    # -------------------------------------------------------------- indicators
    def indicators(self, years=None) -> pd.DataFrame:
        """The district figure of every indicator and merged year, as `treem merge` stored
        it: Σ numerators ÷ Σ denominators × factor over the units that reported. A verdict
        is a code: dat, chua_dat, chua_co_so_lieu (no figure), khong_co_chi_tieu (no target).

        >>> ind = ws.indicators(years=[2024]).set_index("code")
        >>> ct01 = ind.loc["ct01"]
        >>> print(ct01.numerator, ct01.denominator, ct01.units_reported, ct01.units_expected)
        32.0 34.0 34 34
        >>> str(ind["units_reported"].dtype), str(ind["verdict_2025"].dtype)
        ('Int64', 'category')
        """
        rows = []
        for year in self._years(years):
            figures = merged_figures(self.ws, year)
            if figures is not None:
                rows += [{"year": year, **r} for r in figures["district"]]
        return _frame(rows, INDICATORS)

    def unit_indicators(self, years=None) -> pd.DataFrame:
        """Each commune's own value of every indicator and merged year (units × indicators
        × years, the pivot-ready table of the export), with the counts it was computed from.

        >>> u = ws.unit_indicators(years=[2023])
        >>> row = u[(u.unit == "15700") & (u.code == "ct16")]
        >>> bool(round(row["numerator"].item() / row["denominator"].item() * 100, 4) == row["value"].item())
        True
        """
        rows = []
        roster, cat = self.ws.roster, self.ws.catalogue
        known = {i.code: i for i in cat.indicators}
        for year in self._years(years):
            figures = merged_figures(self.ws, year)
            if figures is None:
                continue
            on = reference_date(year)
            for r in figures["units"]:
                unit, ind = roster.get(r["unit"], on), known.get(r["code"])
                rows.append({"year": year, **r, "unit_name": unit.name if unit else None,
                             "unit_type": unit.type if unit else None,
                             "chi_tieu": ind.chi_tieu if ind else None, "name": ind.name if ind else None})
        return _frame(rows, UNIT_INDICATORS)

    # ------------------------------------------------------------- submissions
    def submissions(self, year=None) -> pd.DataFrame:
        """Every file received for `year` (all years when None), superseded and rejected ones
        included, with its problems counted by severity.

        >>> s = ws.submissions(2025)
        >>> s[s.path == "cong-van-scan.pdf"][["status", "errors", "warnings"]].values.tolist()
        [['rejected', 1, 0]]
        >>> str(s["received"].dtype)
        'datetime64[s]'
        """
        rows = []
        if self.ws.db_path.exists():
            with Store(self.ws.db_path) as store:
                for y in self._years(year):
                    on = reference_date(y)
                    issues = store.issues_for_year(y)
                    for s in seen.for_year(store, y):
                        unit = self.ws.roster.get(s.unit, on) if s.unit else None
                        found = issues.get(s.id, [])
                        rows.append({"year": y, "path": s.path, "sha256": s.sha256, "unit": s.unit,
                                     "unit_name": unit.name if unit else None, "status": s.status.value,
                                     "identity_source": s.identity_source, "received": s.received_at,
                                     "saved": s.saved_at, "on_time": s.on_time,
                                     "errors": sum(i.severity is Severity.ERROR for i in found),
                                     "warnings": sum(i.severity is Severity.WARNING for i in found)})
        return _frame(rows, SUBMISSIONS)

    def problems(self, year=None) -> pd.DataFrame:
        """Every problem found in the files of `year` (all years when None): its stable code,
        severity, where (sheet, cell, field) and the Vietnamese message the unit read.

        >>> p = ws.problems(2025)
        >>> p[p.unit == "15766"][["code", "severity"]].values.tolist()
        [['cross-field-rule', 'error']]
        """
        rows = []
        if self.ws.db_path.exists():
            with Store(self.ws.db_path) as store:
                for y in self._years(year):
                    issues = store.issues_for_year(y)
                    for s in seen.for_year(store, y):
                        rows += [{"year": y, "path": s.path, "sha256": s.sha256, "unit": s.unit, **i.to_dict()}
                                 for i in issues.get(s.id, [])]
        return _frame(rows, PROBLEMS)



def merged_figures(ws: Workspace, year: int) -> dict | None:
    """The year's stored merge result as plain rows: "district" (one per indicator) and
    "units" (one per commune and indicator). The one place that reads merge's result."""
    result = merge.load(ws, year)
    if result is None:
        return None
    district = [{"code": r.code, "chi_tieu": r.chi_tieu, "name": r.name, "unit_of_measure": r.unit,
                 "value": r.value, "numerator": r.numerator, "denominator": r.denominator,
                 "units_reported": r.units_reported, "units_expected": r.units_expected,
                 "verdict_2025": r.verdict_for("2025").value, "verdict_2030": r.verdict_for("2030").value,
                 "source": r.source, "communes_value": r.communes_value,
                 "office_value": r.office.value if r.office else None, "provisional": r.provisional}
                for r in result.indicators]
    counts = result.unit_counts
    units = [{"unit": u, "code": code, "value": v,
              "numerator": (counts.get(u, {}).get(code) or (None, None))[0],
              "denominator": (counts.get(u, {}).get(code) or (None, None))[1]}
             for u, vals in result.units.items() for code, v in vals.items()]
    return {"district": district, "units": units}


def _value_row(year: int, unit: str, field: str, stored: dict | None, sha256: str) -> dict:
    if stored is None:  # a blank cell is not stored: it is "not reported"
        return {"year": year, "unit": unit, "field": field, "value": None, "text": None, "source_cell": None,
                "submission": sha256}
    cell = f"{stored['sheet']}!{stored['cell']}" if stored.get("sheet") and stored.get("cell") else None
    return {"year": year, "unit": unit, "field": field, "value": stored["value"], "text": stored["text"],
            "source_cell": cell, "submission": sha256}


def _named(rows: list[dict], unit) -> list[dict]:
    name, kind = (unit.name, unit.type) if unit else (None, None)
    return [r | {"unit_name": name, "unit_type": kind} for r in rows]


def _frame(rows: list[dict], schema: dict[str, str]) -> pd.DataFrame:
    """rows as a DataFrame with exactly the schema's columns and dtypes (also when empty)."""
    df = pd.DataFrame(rows, columns=list(schema))
    for col, dtype in schema.items():
        if dtype.startswith("datetime"):
            df[col] = pd.to_datetime(df[col], format="ISO8601").astype(dtype)
        elif dtype == "category":
            df[col] = df[col].astype("string").astype("category")
        else:
            df[col] = df[col].astype(dtype)
    return df

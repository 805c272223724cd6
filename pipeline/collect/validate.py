"""Stage 2b: judge one reading against the catalogue. Problems are data: each has a stable
kebab-case code, a severity, the sheet and cell, and a Vietnamese message for the unit; every
code, with its message and hint, is a row of `pipeline.base.problems`.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.config.catalogue import UNIT_TYPE_WORDS, Catalogue, Field, Indicator
from pipeline.collect.ingest import RawCell, Reading, split_ref
from pipeline.base.problems import ERROR, WARNING, ValidationIssue, issue
from pipeline.config.roster import Roster, Unit
from pipeline.store.status import Status, judged
from pipeline.forms.contract import FORM_ID, LAYOUT, PROP_FORM, PROP_HASH, PROP_UNIT, PROP_VERSION, PROP_YEAR, note_name
from pipeline.base.text import UNPRINTABLE, col_letters, fix_text, nfc, parse_number, parse_yes_no, vn_number

_SHOWN = 40


@dataclass
class Identity:
    unit: Unit | None
    year: int | None
    source: str | None
    template_version: str | None = None


@dataclass
class Checked:
    """A reading judged: who sent it, the parsed values, and the problems."""

    identity: Identity
    values: list[dict] = field(default_factory=list)
    issues: list[ValidationIssue] = field(default_factory=list)

    @property
    def status(self) -> Status:
        """Accepted or not, by the one accepted rule."""
        return judged(self.identity.unit is not None, (i.severity for i in self.issues))


def shown(value) -> str:
    """A cell value as the unit typed it, cut short: messages quote one cell, never more.
    Control characters become spaces (a message is one readable line, and Excel cannot
    store most of them). Numbers are written the Vietnamese way."""
    if isinstance(value, float) and value == value and abs(value) < 1e15:
        value = vn_number(value)
    s = UNPRINTABLE.sub(" ", nfc(str(value)))
    return s if len(s) <= _SHOWN else s[:_SHOWN] + "…"


class Validator:
    def __init__(self, catalogue: Catalogue, roster: Roster, settings, year: int, sheet_names: dict,
                 previous: dict[str, dict] | None = None):
        self.cat, self.roster, self.settings, self.year = catalogue, roster, settings, year
        self.sheet_names = sheet_names
        self.previous = previous or {}
        self.reference = settings.deadline(year)
        self.jump = settings.check("yoy_change_percent")
        self.small_den = settings.check("small_denominator_per_100000")
        self.by_numerator = {i.numerator: i for i in catalogue.indicators}

    # --- identity ---
    def identify(self, r: Reading) -> tuple[Identity, list[ValidationIssue]]:
        issues: list[ValidationIssue] = []
        sources = [("metadata", r.props), ("metadata", r.meta)]
        found = [(src, d) for src, d in sources if d.get(PROP_UNIT)]
        if len(found) == 2 and (found[0][1].get(PROP_UNIT), found[0][1].get(PROP_YEAR)) != (
                found[1][1].get(PROP_UNIT), found[1][1].get(PROP_YEAR)):
            issues.append(issue("identity-conflict"))
        if found:
            meta = found[0][1]
            year = _int(meta.get(PROP_YEAR))
            unit = self.roster.get(meta[PROP_UNIT], self.reference)
            if unit is None:
                unit = self._unit_any_time(meta[PROP_UNIT], year)
            version = meta.get(PROP_VERSION)
            if unit is None:
                issues.append(issue("unknown-unit", "code", code=shown(meta[PROP_UNIT]), year=self.year))
            if meta.get(PROP_FORM) not in (None, FORM_ID):
                issues.append(issue("unknown-unit", "other-form"))
            if year is not None and year != self.year:
                issues.append(issue("wrong-year", found=year, year=self.year))
            if version and _version_key(version) < _version_key(self.cat.version):
                issues.append(issue("template-outdated", version=version, current=self.cat.version))
            elif meta.get(PROP_HASH) and meta.get(PROP_HASH) != self.cat.hash and version == self.cat.version:
                issues.append(issue("template-outdated", "catalogue-changed"))
            named = self._unit_from_filename(r.path) if unit else None
            if named is not None and named.code != unit.code:
                issues.append(issue("identity-mismatch", named=named.name, unit=unit.name))
            return Identity(unit, year or self.year, "metadata", version), issues
        unit, source = self._identify_by_content(r)
        if unit is None:
            issues.append(issue("unknown-unit"))
            return Identity(None, None, None), issues
        issues.append(issue("identity-from-content" if source == "content" else "identity-from-filename",
                            unit=unit.name))
        return Identity(unit, self.year, source), issues

    def _unit_any_time(self, code: str, year: int | None) -> Unit | None:
        """A template of another year names a unit that may no longer be in force."""
        if year is None:
            return None
        return self.roster.get(code, self.settings.deadline(year)) if year != self.year else None

    def _identify_by_content(self, r: Reading) -> tuple[Unit | None, str | None]:
        for text in r.hints:
            text = fix_text(text)[0]  # a name pasted from an old TCVN3/VNI file still matches
            m = re.search(r"\(mã\s+([\w-]+)\)", text)
            if m:
                unit = self.roster.get(m.group(1), self.reference)
                if unit:
                    return unit, "content"
            m = re.search(r"Đơn vị:\s*([^(\-–]+)", text)
            if m:
                unit = self.roster.match(m.group(1).strip(), self.reference)
                if unit:
                    return unit, "content"
        unit = self._unit_from_filename(r.path)
        return (unit, "filename") if unit else (None, None)

    def _unit_from_filename(self, path: str) -> Unit | None:
        return unit_named_in(self.roster, path, self.year, self.reference)

    # --- the whole file ---
    def check(self, r: Reading) -> Checked:
        identity, issues = self.identify(r)
        out = Checked(identity, issues=issues)
        out.issues += self._file_issues(r)
        if identity.unit is None:
            return out
        unit = identity.unit
        fields = self.cat.fields_for(unit.type, unit.code)
        shifted = self._shifted_rows(r, fields)
        out.issues += shifted.pop("issues")
        # On shifted rows every formula is "elsewhere" too: rows-shifted already says why.
        out.issues += [i for i in self._structure(r, fields)
                       if not (i.code == "formula-overwritten" and i.sheet in {r.cells[c].sheet for c in shifted})]
        parsed: dict[str, float | None] = {}
        for f in fields:
            cell = None if f.code in shifted else r.cells.get(f.code)
            value, text, problems = self._field(f, cell)
            note = r.cells.get(note_name(f.code))
            if note is not None and note.value not in (None, "") and str(note.value).strip():
                problems = [self._explained(f, cell, i, note.value) if i.code == "required-missing" else i
                            for i in problems]
            out.issues += problems
            if cell is not None and (value is not None or text):
                out.values.append({"field": f.code, "value": value, "text": text, "sheet": cell.sheet,
                                   "cell": cell.cell})
            parsed[f.code] = value
            if note is not None and note.value not in (None, ""):
                note_text, enc = fix_text(str(note.value))
                out.values.append({"field": note_name(f.code), "value": None, "text": note_text,
                                   "sheet": note.sheet, "cell": note.cell})
        if not out.values and any(r.cells.get(f.code) is not None for f in fields):
            out.issues = [i for i in out.issues if i.code != "required-missing"]
            out.issues.append(issue("blank-form"))
            return out
        out.issues += self._rules(r, fields, parsed)
        out.issues += self._plausibility(unit, r, fields, parsed)
        return out

    @staticmethod
    def _explained(f: Field, cell: RawCell | None, missing: ValidationIssue, note) -> ValidationIssue:
        """A required value left blank with its reason in «Giải thích»: not reported, said so."""
        reason = shown(fix_text(str(note))[0].strip())
        where = f"Ô {cell.cell} («{f.label}»)" if cell is not None else f"«{f.label}»"
        return issue("explained-blank", where=where, reason=reason, sheet=missing.sheet, cell=missing.cell,
                     field=missing.field)

    def _shifted_rows(self, r: Reading, fields: list[Field]) -> dict:
        """Names whose row no longer carries their field code: a row deleted or inserted by a
        program that did not move the names. Their values belong to other rows, so they are
        not read; one message per sheet says why."""
        known = {f.code for f in self.cat.fields}
        bad: dict[str, list[tuple[Field, str]]] = {}
        for f in fields:
            cell = r.cells.get(f.code)
            if cell is None or cell.row_codes is None or f.code in cell.row_codes:
                continue
            others = [c for c in cell.row_codes if c in known]
            if others or not cell.row_codes:
                bad.setdefault(cell.sheet, []).append((f, others[0] if others else ""))
        issues = []
        for sheet, items in bad.items():
            f, other = items[0]
            cell = r.cells[f.code]
            seen = f"dòng của ô {cell.cell} ghi mã «{other}»" if other else f"dòng của ô {cell.cell} không còn mã"
            issues.append(issue("rows-shifted", count=len(items), label=f.label, seen=seen, sheet=sheet,
                                cell=cell.cell, field=f.code))
        out = {f.code: True for items in bad.values() for f, _ in items}
        out["issues"] = issues
        return out

    def _file_issues(self, r: Reading) -> list[ValidationIssue]:
        out = []
        if r.kind == "xls":
            out.append(issue("legacy-xls"))
        if r.has_macros:
            out.append(issue("macros-ignored"))
        if r.external_links:
            out.append(issue("external-links"))
        if r.embedded_objects:
            out.append(issue("embedded-content"))
        return out

    def _structure(self, r: Reading, fields: list[Field]) -> list[ValidationIssue]:
        out = []
        if r.located_by == "codes" and r.kind != "xls":  # a .xls keeps no names: legacy-xls says so
            out.append(issue("names-missing"))
        present = set(r.sheets)
        sections = {f.section for f in fields}
        missing_sheets = set()
        for section in sorted(sections):
            name = self.sheet_names[section]
            if name not in present and not any(c.sheet == name for c in r.cells.values()):
                if not any(r.cells.get(f.code) for f in fields if f.section == section):
                    missing_sheets.add(section)
                    out.append(issue("missing-sheet", sheet=name))
        broken = set(r.broken_names)
        for f in fields:
            if f.section in missing_sheets or f.code in r.cells:
                continue
            if f.code in broken:
                out.append(issue("name-broken", label=f.label, sheet=self.sheet_names[f.section], field=f.code))
            elif f.required:
                out.append(issue("missing-name", label=f.label, sheet=self.sheet_names[f.section], field=f.code))
        # Values found by their codes were pasted without the form: there were never
        # formulas beside them to overwrite.
        if r.formulas is not None and r.located_by == "names":
            out += self._formulas(r, fields)
        return out

    def _formulas(self, r: Reading, fields: list[Field]) -> list[ValidationIssue]:
        """The template's own formulas (rates, self-checks, totals) must still be there; a unit
        that typed over them has likely typed a percentage or hidden a warning. Counted per
        row, right of the input cell, so that a column the unit inserted moves nothing."""
        out = []
        per_row: dict[str, dict[int, list[int]]] = {}
        for sheet, refs in r.formulas.items():
            rows = per_row.setdefault(sheet, {})
            for ref in refs:
                pos = split_ref(ref)
                if pos:
                    rows.setdefault(pos[0], []).append(pos[1])
        for f in fields:
            cell = r.cells.get(f.code)
            if cell is None or f.section == "narrative" or cell.sheet not in r.formulas:
                continue
            lay = LAYOUT[f.section]
            row, col = split_ref(cell.cell)
            expected = [("check", lay["check"] - lay["input"])]
            ind = self.by_numerator.get(f.code)
            if f.section == "data" and ind is not None and ind.kind != "share_of_communes":
                expected.insert(0, ("rate", lay["rate"] - lay["input"]))
            found = sum(c > col for c in per_row.get(cell.sheet, {}).get(row, []))
            if found >= len(expected):
                continue
            for what, offset in expected:
                ref = _ref(row, col + offset)
                if ref not in r.formulas[cell.sheet]:
                    label = "tỷ lệ" if what == "rate" else "tự kiểm tra"
                    out.append(issue("formula-overwritten", what=label, ref=ref, label=f.label, sheet=cell.sheet,
                                     cell=ref, field=f.code))
        return out

    def _field(self, f: Field, cell: RawCell | None) -> tuple[float | None, str | None, list[ValidationIssue]]:
        if cell is None:
            return None, None, []
        at = {"sheet": cell.sheet, "cell": cell.cell, "field": f.code}
        where = f"Ô {cell.cell} («{f.label}»)"
        issues = []
        raw = cell.value
        if cell.formula and raw in (None, ""):
            return None, None, issues + [issue("formula-in-input", where=where, **at)]
        if cell.formula and raw not in (None, ""):
            issues.append(issue("formula-in-input", "with-value", severity=WARNING, where=where, shown=shown(raw),
                                **at))
        if f.type == "text":
            if raw is None or raw == "":
                return None, None, issues
            # Narratives keep their line breaks: the report makes paragraphs of them.
            text, enc = fix_text(str(raw), keep_newlines=True) if isinstance(raw, str) else (nfc(str(raw)), None)
            if enc:
                issues.append(issue("legacy-encoding", where=where, encoding=enc.upper(), **at))
            return None, text, issues
        if f.type == "yes_no":
            yn = parse_yes_no(raw)
            if yn is None:
                if f.required:
                    issues.append(self._required(f, where, at))
                return None, None, issues
            if yn is not True and yn is not False:
                issues.append(issue("type-error", "yes-no", where=where, shown=shown(raw), **at))
                return None, None, issues
            return (1.0 if yn else 0.0), None, issues
        p = parse_number(raw)
        if p.status == "blank":
            if f.required:
                issues.append(self._required(f, where, at))
            return None, None, issues
        if p.status == "ambiguous":
            issues.append(issue("ambiguous-number", where=where, shown=shown(raw), **at))
            return None, None, issues
        if p.status == "invalid":
            said_none = isinstance(raw, str) and nfc(raw).lower().rstrip(".") in ("không", "không có", "khong", "ko", "k")
            issues.append(issue("type-error", "said-none" if said_none else None, where=where, shown=shown(raw), **at))
            return None, None, issues
        value = p.value
        if p.note == "percent-sign":
            issues.append(issue("percent-sign", severity=ERROR if f.type == "integer" else WARNING, where=where,
                                shown=shown(raw), **at))
            if f.type == "integer":
                return None, None, issues
        elif p.note == "text-number":
            issues.append(issue("number-as-text", where=where, shown=shown(raw), value=vn_number(value), **at))
        if f.type == "integer" and _probable_thousands(raw):
            issues.append(issue("probable-thousands", where=where, value=vn_number(value, 3),
                                meant=vn_number(round(value * 1000)), **at))
        elif f.type == "integer" and not float(value).is_integer():
            issues.append(issue("decimal-in-count", where=where, value=vn_number(value), **at))
        if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
            issues.append(issue("out-of-range", where=where, value=vn_number(value), low=vn_number(f.min),
                                high=vn_number(f.max), **at))
        return value, None, issues

    @staticmethod
    def _required(f: Field, where: str, at: dict) -> ValidationIssue:
        return issue("required-missing", where=where, **at)

    def _rules(self, r: Reading, fields: list[Field], parsed: dict) -> list[ValidationIssue]:
        out = []
        codes = {f.code for f in fields}
        for rule in self.cat.rules_for(codes):
            if rule.check(parsed) is False:
                first = r.cells.get(rule.fields[0])
                detail = ", ".join(f"{self.cat.field(n).label}: {vn_number(parsed[n])}" for n in rule.fields)
                out.append(issue("cross-field-rule", severity=rule.severity, says=rule.message, detail=detail,
                                 sheet=first.sheet if first else None, cell=first.cell if first else None,
                                 field=rule.fields[0], rule=rule.code))
        return out

    def _plausibility(self, unit: Unit, r: Reading, fields: list[Field], parsed: dict) -> list[ValidationIssue]:
        out = []
        prev = self.previous.get(unit.code) or {}
        for f in fields:
            v, p = parsed.get(f.code), prev.get(f.code)
            # Budgets move with each year's allocation; a jump there is not a data problem.
            if (f.section != "data" or f.type not in ("integer", "decimal") or v is None
                    or not isinstance(p, (int, float)) or p < 20):
                continue
            change = (v - p) / p * 100
            if abs(change) > self.jump:
                cell = r.cells[f.code]
                note = r.cells.get(note_name(f.code))
                explained = note is not None and note.value not in (None, "")
                out.append(issue("large-change", "explained" if explained else None, label=f.label,
                                 value=vn_number(v), previous=vn_number(p), direction="tăng" if change > 0 else "giảm",
                                 change=vn_number(abs(change), 0), sheet=cell.sheet, cell=cell.cell, field=f.code))
        for ind in self.cat.indicators:
            if ind.kind != "per_100000_children":
                continue
            den, num = parsed.get(ind.denominator), parsed.get(ind.numerator)
            if den is not None and num and 0 < den < self.small_den:
                cell = r.cells.get(ind.numerator)
                out.append(issue("small-denominator", indicator=ind.name, denominator=vn_number(den),
                                 step=vn_number(ind.factor / den, 0), sheet=cell.sheet if cell else None,
                                 cell=cell.cell if cell else None, field=ind.numerator))
        return out


def unit_named_in(roster: Roster, path: str | Path, year: int, on: date) -> Unit | None:
    """The unit a file name names, by code ("2024_15700_…") or by name ("Xa Dan Luc bao cao")."""
    stem = Path(path).stem
    for token in re.split(r"[_\s]+", stem):
        if token and token != str(year):
            unit = roster.get(token, on)
            if unit:
                return unit
    words = re.sub(r"[_\-.]+", " ", stem)
    words = re.sub(r"\b(19|20)\d\d\b|\d+|bao cao|báo cáo|bieu mau|biểu mẫu|tre em|trẻ em|ban|bản|sua|sửa|v\d+",
                   " ", words, flags=re.I)
    return roster.match(words.strip(), on)


def outliers(cat: Catalogue, by_unit: dict[str, dict], z_limit: float = 3.5, min_units: int = 5,
             min_median_count: float = 10, types: dict[str, str] | None = None) -> dict[str, list[ValidationIssue]]:
    """Median-based z-scores (Iglewicz and Hoaglin) of each unit's rate among all units: robust
    to the very outliers it looks for, unlike mean and standard deviation. Rare events (a
    median of fewer than 10 cases per unit) are left out: there a rate of 0 is chance. Where
    the plan sets targets by unit type (CT4 obesity: xã 5%, thị trấn 10%), and `types` says
    each unit's, a unit is compared with units of its own type."""
    out: dict[str, list[ValidationIssue]] = {}
    for ind in cat.indicators:
        if ind.kind in ("share_of_communes", "yoy_change") or not ind.denominator:
            continue
        numerator, denominator, factor = ind.numerator, ind.denominator, ind.factor
        by_type = types is not None and any(isinstance(t, dict) for t in ind.targets.values())
        groups: dict[str | None, tuple[dict, list]] = {}
        for u, vals in by_unit.items():
            num, den = vals.get(numerator), vals.get(denominator)
            if num is not None and den:
                rates, counts = groups.setdefault(types.get(u) if by_type else None, ({}, []))
                rates[u] = num / den * factor
                counts.append(num)
        for group, (rates, counts) in groups.items():
            peers = f"các {UNIT_TYPE_WORDS.get(group, 'đơn vị')} khác" if group else "các đơn vị khác"
            for u, found in _far_from_median(ind, rates, counts, z_limit, min_units, min_median_count, peers):
                out.setdefault(u, []).append(found)
    return out


def _far_from_median(ind: Indicator, rates: dict[str, float], counts: list[float], z_limit: float, min_units: int,
                     min_median_count: float, peers: str):
    if len(rates) < min_units or statistics.median(counts) < min_median_count:
        return
    med = statistics.median(rates.values())
    # Floor the spread at 2% of the median: when units cluster tightly (99.5% birth
    # registration everywhere) a 0.3-point gap is not worth a unit's time.
    mad = max(statistics.median(abs(r - med) for r in rates.values()), 0.02 * abs(med))
    if mad == 0:
        return
    for u, r in rates.items():
        if abs(0.6745 * (r - med) / mad) > z_limit:
            yield u, issue("outlier", indicator=ind.name, rate=f"{vn_number(r, 1)}{_unit_suffix(ind)}", peers=peers,
                           median=f"{vn_number(med, 1)}{_unit_suffix(ind)}", field=ind.numerator)


def _unit_suffix(ind: Indicator) -> str:
    return ind.unit if ind.unit in ("%", "‰") else " " + ind.unit


def _ref(row: int, col: int) -> str:
    return f"{col_letters(col)}{row + 1}"


def _probable_thousands(raw) -> bool:
    """A number stored with exactly three decimals (1.234): what English-locale Excel makes of
    "1.234" typed the Vietnamese way, meaning 1234."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 1 <= raw < 1000:
        return False
    thousandths = raw * 1000
    return abs(thousandths - round(thousandths)) < 1e-6 and round(thousandths) % 10 != 0


def _int(v) -> int | None:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def _version_key(v: str) -> tuple:
    """"2024.1" < "2024.10"; numeric parts compare as numbers, others as text."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", str(v)))

"""The catalogue: what units report (fields), what the district computes (indicators), and the
cross-field rules. Loaded from YAML the district officer edits; nothing here is hard-coded."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from pipeline.base.fsutil import read_yaml
from pipeline.base.errors import ConfigError
from pipeline.base.problems import Severity

FIELD_TYPES = ("integer", "decimal", "yes_no", "text")
UNIT_TYPES = ("xa", "thi_tran", "phong", "to_chuc")
COMMUNE_TYPES = ("xa", "thi_tran")
KINDS = {
    "percentage": "Tỷ lệ (%)",
    "per_1000_live_births": "Tỷ suất trên 1.000 trẻ đẻ sống",
    "per_100000_children": "Tỷ suất trên 100.000 trẻ em",
    "share_of_communes": "Tỷ lệ xã, thị trấn",
    "yoy_change": "Mức thay đổi so với năm trước",
}
DIRECTIONS = ("at_least", "at_most")
AUTHORITIES = ("communes", "lead_office", "auto")
TARGET_YEARS = (2025, 2030)  # the plan's two target years; targets are keyed by their text

# A field code is also an Excel defined name: it must never look like a cell reference
# (ct3 is column CT, row 3), so codes need an underscore and start with a letter.
_CODE_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
_CHI_TIEU_PREFIX = re.compile(r"^ct(\d\d)_")


def default_catalogue_path() -> Path:
    return Path(__file__).parent / "defaults" / "catalogue.yaml"


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    type: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    required: bool = False
    units: tuple[str, ...] = COMMUNE_TYPES
    section: str = "data"

    @cached_property
    def chi_tieu(self) -> int | None:
        """The plan's indicator number this field belongs to (from its ctNN_ prefix), or None
        for the shared population figures."""
        m = _CHI_TIEU_PREFIX.match(self.code)
        return int(m.group(1)) if m else None

    @property
    def is_number(self) -> bool:
        return self.type in ("integer", "decimal")

    def to_dict(self) -> dict:
        return {
            "code": self.code, "label": self.label, "type": self.type, "unit": self.unit,
            "min": self.min, "max": self.max, "required": self.required,
            "units": list(self.units), "section": self.section, "chi_tieu": self.chi_tieu,
        }


@dataclass(frozen=True)
class Indicator:
    code: str
    chi_tieu: int
    goal: int
    name: str
    kind: str
    factor: float
    unit: str
    numerator: str
    denominator: str | None
    direction: str
    strict: bool
    targets: dict
    lead_office: str
    co_lead: str | None = None
    note: str = ""
    yearly_fall: dict | None = None
    # Per target year when the plan words the years differently (CT4b: "xuống 17%" in 2025,
    # "dưới 15%" in 2030); `strict` is then the strictness of years not listed.
    strict_by_year: dict = field(default_factory=dict)
    # Whose figure is the district value: "communes" (their sum), "lead_office" (its own
    # district-wide figure) or "auto" (the communes when all reported, else the office's).
    authority: str = "auto"
    # The plan's own words for the target, quoted.
    plan: str = ""

    def target_for(self, year: int | str, unit_type: str | None = None) -> float | None:
        """The target for a target year; for unit-type targets (CT4 obesity) the given type's,
        or None when no type is given."""
        t = self.targets.get(str(year))
        if isinstance(t, dict):
            return t.get(unit_type) if unit_type else None
        return t

    def has_target(self, year: int | str) -> bool:
        return self.targets.get(str(year)) is not None

    def is_strict(self, year: int | str | None = None) -> bool:
        """Whether the target of `year` is "dưới X" (strictly below)."""
        return bool(self.strict_by_year.get(str(year), self.strict)) if year is not None else self.strict

    def meets(self, value: float, target: float, year: int | str | None = None) -> bool:
        return meets(value, target, self.direction, self.is_strict(year))

    def target_text(self, year: int | str) -> str:
        """The target of `year` for a table cell, as the plan writes it: "≥ 95", "Dưới 2,5",
        "Tối đa 17", "Giảm 1-2%/năm", "Dưới 5 (nông thôn); dưới 10 (thành thị)"; "" for none."""
        return target_text(self.targets.get(str(year)), self.direction, self.is_strict(year),
                           self.yearly_fall if self.kind == "yoy_change" else None)

    def judged_in(self, year: int) -> bool:
        """Whether a year's value is judged at all: a year-over-year target (CT13) applies only
        in the years the plan gives ("giai đoạn từ năm 2025 đến năm 2030")."""
        span = self.yearly_fall or {}
        start, end = span.get("from"), span.get("to")
        return not ((start is not None and year < int(start)) or (end is not None and year > int(end)))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.numerator, self.denominator) if f)

    def to_dict(self) -> dict:
        return {
            "code": self.code, "chi_tieu": self.chi_tieu, "goal": self.goal, "name": self.name,
            "kind": self.kind, "factor": self.factor, "unit": self.unit,
            "numerator": self.numerator, "denominator": self.denominator,
            "direction": self.direction, "strict": self.strict,
            "targets": {str(y): self.targets.get(str(y)) for y in TARGET_YEARS},
            "lead_office": self.lead_office, "co_lead": self.co_lead, "note": self.note,
            "yearly_fall": self.yearly_fall, "strict_by_year": dict(self.strict_by_year),
            "authority": self.authority, "plan": self.plan,
        }


def meets(value: float, target: float, direction: str, strict: bool) -> bool:
    """At least the target, or at most it ("dưới": strictly below)."""
    if direction == "at_least":
        return value >= target
    return value < target if strict else value <= target


def indicator_number(code: str) -> str:
    """An indicator's number as the plan writes it: "ct02" -> "2", "ct11a" -> "11a"."""
    m = re.fullmatch(r"ct0*(\d+)([a-z]*)", code)
    return f"{m.group(1)}{m.group(2)}" if m else code


def indicator_label(code: str) -> str:
    """How the plan names an indicator to its reader: "Chỉ tiêu 12", "Chỉ tiêu 4a"."""
    return f"Chỉ tiêu {indicator_number(code)}"


_TOKEN_RE = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([a-z][a-z0-9_]*)|([-+*()]))")


@dataclass(frozen=True)
class Expr:
    """A rule side: field codes and numbers joined by + - * and parentheses. The same text is
    a valid Excel formula because every field code is also a defined name."""

    text: str
    names: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Expr:
        text = str(text).strip()
        pos, names, tokens = 0, [], []
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                raise ConfigError(f"Biểu thức quy tắc không hợp lệ: «{text}».")
            number, name, op = m.groups()
            tokens.append(number or name or op)
            if name:
                names.append(name)
            pos = m.end()
        if "**" in "".join(tokens):
            raise ConfigError(f"Biểu thức quy tắc không hợp lệ: «{text}».")
        expr = cls(text, tuple(dict.fromkeys(names)))
        try:
            expr.evaluate({n: 1.0 for n in names})
        except (SyntaxError, ZeroDivisionError, TypeError) as e:
            raise ConfigError(f"Biểu thức quy tắc không hợp lệ: «{text}».") from e
        return expr

    def evaluate(self, values: dict[str, float | None]) -> float | None:
        """None when any field is missing (DHIS2's SKIP_IF_ANY_VALUE_MISSING)."""
        env = {}
        for n in self.names:
            v = values.get(n)
            if v is None:
                return None
            env[n] = float(v)
        # Safe: parse() accepted only numbers, field codes, + - * and parentheses.
        return float(eval(self._code, {"__builtins__": {}}, env))  # noqa: S307

    @cached_property
    def _code(self):
        return compile(self.text, "<rule>", "eval")

    def __reduce__(self):
        # Compiled code cannot be pickled; workers started by spawn (as on Windows) get the
        # catalogue pickled, so send the text and compile again there.
        return (Expr, (self.text, self.names))


OPERATORS = {
    "<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b, "==": lambda a, b: abs(a - b) < 1e-9, "!=": lambda a, b: abs(a - b) >= 1e-9,
}
EXCEL_OPERATORS = {"<=": "<=", "<": "<", ">=": ">=", ">": ">", "==": "=", "!=": "<>"}


@dataclass(frozen=True)
class Rule:
    code: str
    left: Expr
    op: str
    right: Expr
    severity: Severity  # ERROR or WARNING
    message: str

    @cached_property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.left.names + self.right.names))

    def check(self, values: dict[str, float | None]) -> bool | None:
        """True when the rule holds, False when breached, None when a side is missing."""
        a, b = self.left.evaluate(values), self.right.evaluate(values)
        if a is None or b is None:
            return None
        return OPERATORS[self.op](a, b)

    def excel_guard(self) -> str:
        """An Excel condition that is TRUE when every field of the rule holds a number."""
        return "AND(" + ",".join(f"ISNUMBER({n})" for n in self.fields) + ")"

    def excel_breach(self) -> str:
        """An Excel condition that is TRUE when the rule is breached (evaluate under the guard)."""
        return f"NOT(({self.left.text}){EXCEL_OPERATORS[self.op]}({self.right.text}))"

    def to_dict(self) -> dict:
        return {"code": self.code, "left": self.left.text, "op": self.op, "right": self.right.text,
                "severity": self.severity.value, "message": self.message}


@dataclass
class Catalogue:
    version: str
    programme: str
    baseline_year: int
    goals: dict[int, str]
    fields: list[Field]
    indicators: list[Indicator]
    rules: list[Rule]
    budget_sources: list[dict]
    narratives: list[dict]
    hash: str = ""
    _by_code: dict[str, Field] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._by_code = {f.code: f for f in self.fields}

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        path = Path(path or default_catalogue_path())
        try:
            raw = read_yaml(path)
        except OSError as e:
            raise ConfigError(f"Không đọc được danh mục chỉ tiêu {path.name}: {e}") from e
        except UnicodeDecodeError:
            raise ConfigError(f"Danh mục chỉ tiêu {path.name}: tệp không lưu theo bảng mã UTF-8; hãy lưu lại với "
                              "bảng mã UTF-8.") from None
        except yaml.YAMLError as e:
            # PyYAML's own text is English and spans several lines: say where, in one line.
            mark = getattr(e, "problem_mark", None)
            line = f" (dòng {mark.line + 1})" if mark is not None else ""
            raise ConfigError(f"Danh mục chỉ tiêu {path.name}: sai cú pháp YAML{line}; kiểm tra thụt lề và dấu "
                              "nháy.") from e
        return cls.from_dict(raw, source=path.name)

    @classmethod
    def from_dict(cls, raw: dict, source: str = "catalogue") -> Catalogue:
        if not isinstance(raw, dict):
            raise ConfigError(f"Danh mục {source} không đúng cấu trúc (cần các mục fields, indicators, rules).")
        try:
            fields = [_field(d) for d in raw["fields"]]
            budget_sources = list(raw.get("budget_sources") or [])
            narratives = list(raw.get("narratives") or [])
            fields += _budget_fields(budget_sources) + _narrative_fields(narratives)
            indicators = [_indicator(d) for d in raw["indicators"]]
            rules = [_rule(d) for d in raw.get("rules") or []] + _budget_rules(budget_sources)
            goals = {int(g["number"]): str(g["name"]) for g in raw.get("goals") or []}
            cat = cls(
                version=str(raw.get("version", "1")), programme=str(raw.get("programme", "")),
                baseline_year=int(raw.get("baseline_year", 2021)), goals=goals, fields=fields,
                indicators=indicators, rules=rules, budget_sources=budget_sources, narratives=narratives,
            )
        except ConfigError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"Danh mục {source} thiếu hoặc sai mục {e}.") from e
        cat._check(source)
        canonical = json.dumps(cat.to_dict(), ensure_ascii=False, sort_keys=True)
        cat.hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
        return cat

    def _check(self, source: str) -> None:
        seen: set[str] = set()
        for f in self.fields:
            if _OOXML_ESCAPE_LIKE.search(f.code):
                raise ConfigError(f"Danh mục {source}: mã «{f.code}» chứa «_x» và chữ số thập lục phân, bị LibreOffice "
                                  "đọc nhầm thành ký tự đặc biệt; hãy đổi mã (ví dụ bỏ dấu gạch dưới trước chữ x).")
            if f.code in seen:
                raise ConfigError(f"Danh mục {source}: mã số liệu «{f.code}» bị trùng.")
            seen.add(f.code)
        ind_codes = [i.code for i in self.indicators]
        if len(set(ind_codes)) != len(ind_codes):
            raise ConfigError(f"Danh mục {source}: mã chỉ tiêu bị trùng.")
        for i in self.indicators:
            for ref in i.fields:
                if ref not in self._by_code:
                    raise ConfigError(f"Danh mục {source}: chỉ tiêu {i.code} dùng số liệu «{ref}» chưa khai báo.")
            if i.goal not in self.goals:
                raise ConfigError(f"Danh mục {source}: chỉ tiêu {i.code} thuộc mục tiêu {i.goal} chưa khai báo.")
        for r in self.rules:
            for ref in r.fields:
                if ref not in self._by_code:
                    raise ConfigError(f"Danh mục {source}: quy tắc {r.code} dùng số liệu «{ref}» chưa khai báo.")

    # --- look-ups ---
    def field(self, code: str) -> Field:
        return self._by_code[code]

    def has_field(self, code: str) -> bool:
        return code in self._by_code

    def indicator(self, code: str) -> Indicator:
        return next(i for i in self.indicators if i.code == code)

    def led_by(self, unit_code: str) -> list[Indicator]:
        return [i for i in self.indicators if unit_code in (i.lead_office, i.co_lead)]

    def fields_for(self, unit_type: str, unit_code: str = "") -> list[Field]:
        """The fields a unit reports, in catalogue order. Communes report their own counts;
        an office reports the district-wide counts of the indicators it leads (a cross-check of
        the commune sums); offices and organisations also write narratives; everyone reports
        the budget."""
        if unit_type in COMMUNE_TYPES:
            wanted = {f.code for f in self.fields if f.section == "data" and unit_type in f.units}
        else:
            wanted = {c for i in self.led_by(unit_code) for c in i.fields}
            wanted = {c for c in wanted if self._by_code[c].type != "yes_no"}
            wanted |= {f.code for f in self.fields if f.section == "narrative"}
        wanted |= {f.code for f in self.fields if f.section == "budget"}
        return [f for f in self.fields if f.code in wanted]

    def rules_for(self, codes: set[str]) -> list[Rule]:
        return [r for r in self.rules if set(r.fields) <= codes]

    @property
    def chi_tieu_numbers(self) -> list[int]:
        return sorted({i.chi_tieu for i in self.indicators})

    def to_dict(self) -> dict:
        return {
            "version": self.version, "programme": self.programme, "baseline_year": self.baseline_year,
            "goals": [{"number": n, "name": g} for n, g in sorted(self.goals.items())],
            "fields": [f.to_dict() for f in self.fields],
            "indicators": [i.to_dict() for i in self.indicators],
            "rules": [r.to_dict() for r in self.rules],
        }


def _num(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"Giá trị «{v}» phải là số.")
    return v


# Keys that may be written empty (null) on purpose.
_NULLABLE = frozenset({"min", "max", "unit", "units", "denominator", "co_lead", "note", "yearly_fall", "targets",
                       "section", "required", "strict", "plan"})


def _stray_keys(d: dict, what: str) -> None:
    """In a one-line YAML entry an unquoted comma ends the value: `label: được cân, đo`
    gives the label "được cân" and an empty key "đo". Say so instead of losing the words."""
    stray = [k for k, v in d.items() if v is None and k not in _NULLABLE]
    if stray:
        raise ConfigError(f"{what}: mục «{stray[0]}» không có giá trị; nếu nội dung có dấu phẩy, đặt cả nội dung "
                          "trong dấu nháy kép, ví dụ label: \"Số trẻ em được cân, đo\".")


# LibreOffice reads "_x" and one to four hex digits followed by "_" as an escaped character
# ("budget_xa_hoi" came back as "budget" + newline + "hoi"), so codes must not contain it.
_OOXML_ESCAPE_LIKE = re.compile(r"_x[0-9a-f]{1,4}_")


def _field(d: dict) -> Field:
    code = str(d["code"])
    _stray_keys(d, f"Số liệu {code}")
    if not _CODE_RE.match(code):
        raise ConfigError(
            f"Mã số liệu «{code}» không hợp lệ: chỉ dùng chữ thường không dấu, chữ số và dấu gạch dưới, "
            "bắt đầu bằng chữ và có ít nhất một dấu gạch dưới (để không trùng địa chỉ ô Excel)."
        )
    if d["type"] not in FIELD_TYPES:
        raise ConfigError(f"Số liệu {code}: kiểu «{d['type']}» không hợp lệ (integer, decimal, yes_no, text).")
    units = tuple(d.get("units") or COMMUNE_TYPES)
    bad = [u for u in units if u not in UNIT_TYPES]
    if bad:
        raise ConfigError(f"Số liệu {code}: loại đơn vị «{bad[0]}» không hợp lệ.")
    return Field(code=code, label=str(d["label"]), type=d["type"], unit=str(d.get("unit", "")),
                 min=_num(d.get("min")), max=_num(d.get("max")), required=bool(d.get("required", False)),
                 units=units, section=d.get("section", "data"))


def _budget_fields(sources: list[dict]) -> list[Field]:
    out = []
    for s in sources:
        for part, label in (("planned", "Dự toán"), ("spent", "Thực hiện")):
            out.append(Field(code=f"budget_{s['code']}_{part}", label=f"{label}: {s['name']}", type="decimal",
                             unit="triệu đồng", min=0, max=1_000_000, required=False, units=UNIT_TYPES,
                             section="budget"))
    return out


def _budget_rules(sources: list[dict]) -> list[Rule]:
    return [
        Rule(code=f"budget-{s['code'].replace('_', '-')}-spent-le-planned",
             left=Expr.parse(f"budget_{s['code']}_spent"), op="<=", right=Expr.parse(f"budget_{s['code']}_planned"),
             severity=Severity.WARNING, message=f"Kinh phí thực hiện vượt dự toán ({s['name']}); đề nghị giải thích.")
        for s in sources
    ]


def _narrative_fields(narratives: list[dict]) -> list[Field]:
    return [Field(code=n["code"], label=n["name"], type="text", unit="", required=False,
                  units=("phong", "to_chuc"), section="narrative") for n in narratives]


def _indicator(d: dict) -> Indicator:
    code = str(d["code"])
    _stray_keys(d, f"Chỉ tiêu {code}")
    if d["kind"] not in KINDS:
        raise ConfigError(f"Chỉ tiêu {code}: loại «{d['kind']}» không hợp lệ ({', '.join(KINDS)}).")
    if d["direction"] not in DIRECTIONS:
        raise ConfigError(f"Chỉ tiêu {code}: hướng «{d['direction']}» phải là at_least hoặc at_most.")
    if d.get("authority", "auto") not in AUTHORITIES:
        raise ConfigError(f"Chỉ tiêu {code}: authority «{d['authority']}» phải là communes, lead_office hoặc auto.")
    strict = d.get("strict", False)
    by_year = {}
    if isinstance(strict, dict):
        by_year = {str(k): bool(v) for k, v in strict.items()}
        strict = False
    targets = {}
    for year in map(str, TARGET_YEARS):
        t = (d.get("targets") or {}).get(year, (d.get("targets") or {}).get(int(year)))
        if isinstance(t, dict):
            t = {str(k): _num(v) for k, v in t.items()}
        else:
            t = _num(t)
        targets[year] = t
    return Indicator(
        code=code, chi_tieu=int(d["chi_tieu"]), goal=int(d["goal"]), name=str(d["name"]), kind=d["kind"],
        factor=float(d["factor"]), unit=str(d.get("unit", "%")), numerator=d["numerator"],
        denominator=d.get("denominator"), direction=d["direction"], strict=bool(strict),
        targets=targets, lead_office=str(d["lead_office"]), co_lead=d.get("co_lead"),
        note=str(d.get("note", "")), yearly_fall=d.get("yearly_fall"), strict_by_year=by_year,
        authority=str(d.get("authority", "auto")), plan=str(d.get("plan") or ""),
    )


def _rule(d: dict) -> Rule:
    _stray_keys(d, f"Quy tắc {d['code']}")
    if d["op"] not in OPERATORS:
        raise ConfigError(f"Quy tắc {d['code']}: phép so sánh «{d['op']}» không hợp lệ.")
    severity = next((s for s in (Severity.ERROR, Severity.WARNING) if s.value == d["severity"]), None)
    if severity is None:
        raise ConfigError(f"Quy tắc {d['code']}: mức độ phải là error hoặc warning.")
    return Rule(code=str(d["code"]), left=Expr.parse(d["left"]), op=d["op"], right=Expr.parse(d["right"]),
                severity=severity, message=str(d["message"]))


UNIT_TYPE_WORDS = {"xa": "xã", "thi_tran": "thị trấn", "phong": "phòng", "to_chuc": "tổ chức"}
# Targets by area (CT4 obesity) name the area, not the unit type: from 2025 a xã formed around a
# former town is urban (roster "area").
AREA_WORDS = {"xa": "nông thôn", "thi_tran": "thành thị"}


def target_text(target, direction: str | None = None, strict: bool = False, yearly_fall: dict | None = None) -> str:
    """A target for a table cell, as the plan writes it: at least 95 -> "≥ 95"; at most ("giảm
    xuống") 17 -> "Tối đa 17", strictly below 2,5 -> "Dưới 2,5"; a yearly fall (CT13) -> "Giảm
    1-2%/năm"; by area (CT4 obesity) -> "Dưới 5 (nông thôn); dưới 10 (thành thị)"; "" for none.
    Without a direction, the bare numbers (a form's cell beside its own words): "5 (xã); 10 (thị trấn)"."""
    from pipeline.base.text import vn_number

    if target is None:
        return ""
    if direction is None:
        if isinstance(target, dict):
            return "; ".join(f"{vn_number(v)} ({UNIT_TYPE_WORDS.get(k, k)})" for k, v in target.items())
        return vn_number(target)
    if yearly_fall and yearly_fall.get("min") is not None and yearly_fall.get("max") is not None:
        return f"Giảm {vn_number(yearly_fall['min'])}-{vn_number(yearly_fall['max'])}%/năm"

    def one(v) -> str:
        if direction == "at_most":
            return f"{'Dưới' if strict else 'Tối đa'} {vn_number(v)}"
        return f"≥ {vn_number(v)}"

    if isinstance(target, dict):
        text = "; ".join(f"{one(v)} ({AREA_WORDS.get(k, k)})" for k, v in target.items() if v is not None)
        return text[:1] + text[1:].replace("Dưới", "dưới").replace("Tối đa", "tối đa")
    return one(target)
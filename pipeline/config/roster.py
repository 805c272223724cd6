"""The roster of reporting units (communes, district offices, organisations) as dated data.

A unit is keyed by code *and* validity period: statistics codes are reused after mergers
(15754 was Xã Thọ Cường until 2025-06-30, then Xã Thọ Ngọc). Successor links keep old→new
mappings so that trends stay comparable across reforms."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from pipeline.base.fsutil import read_yaml
from pipeline.base.errors import ConfigError
from pipeline.base.text import canonical_name, nfc, slugify, strip_accents

UNIT_TYPES = ("thi_tran", "xa", "phong", "to_chuc")
TYPE_LABELS = {"xa": "Xã", "thi_tran": "Thị trấn", "phong": "Phòng, ban", "to_chuc": "Tổ chức, đoàn thể"}


def communes_word(types) -> str:
    """The communes of a roster as a report names them: "xã, thị trấn" while it has towns,
    "xã" where it has none (from 2025). `types`: the roster's unit types (any iterable)."""
    types = set(types)
    return "xã, thị trấn" if "thi_tran" in types or not types else "xã"


def roster_words(text: str, types) -> str:
    """A catalogue text ("Tỷ lệ xã, thị trấn đạt …") in the words of the roster in force: no
    thị trấn where the roster has none."""
    word = communes_word(types)
    return text if word == "xã, thị trấn" else text.replace("xã, thị trấn", word).replace("Xã, thị trấn", "Xã")
DEFAULT_REFERENCE = (11, 20)  # 20 November: the report deadline (plan section VI)

_REQUIRED_KEYS = ("code", "name", "type")
_KNOWN_KEYS = frozenset(
    {"code", "name", "type", "valid_from", "valid_to", "aliases", "successor", "contact", "note", "area",
     "area_note"}
)
_CONTACT_KEYS = ("person", "phone", "email")


def default_roster_path() -> Path:
    return Path(__file__).parent / "defaults" / "roster.yaml"


def reference_date(year: int, reference: tuple[int, int] = DEFAULT_REFERENCE) -> date:
    """The day a reporting year is judged on (the 20 November deadline by default)."""
    month, day = reference
    return date(year, month, day)


@dataclass(frozen=True)
class Contact:
    person: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    type: str
    valid_from: date | None = None  # None: since the programme started
    valid_to: date | None = None    # None: still in force; otherwise the last day in force
    aliases: tuple[str, ...] = ()
    successor: str | None = None
    contact: Contact = field(default_factory=Contact)
    note: str = ""
    # The urban/rural area a commune's targets by area use (CT4c): "thi_tran" (thành thị) or
    # "xa" (nông thôn); None: its own type. A commune formed in 2025 from a town and villages
    # is a xã, yet its area is roster data, with `area_note` saying how it was decided.
    area: str | None = None
    area_note: str = ""

    @property
    def target_area(self) -> str:
        """The unit type whose target applies where targets differ by area."""
        return self.area or self.type

    @property
    def is_commune(self) -> bool:
        return self.type in ("xa", "thi_tran")

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]

    @property
    def slug(self) -> str:
        """File-name form of the name. Not unique across periods (old and new Xã Đồng Tiến
        share it): combine with the year when naming files."""
        return slugify(self.name)

    def in_force(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)

    def overlaps(self, other: Unit) -> bool:
        starts_before_other_ends = self.valid_from is None or other.valid_to is None or self.valid_from <= other.valid_to
        other_starts_before_end = other.valid_from is None or self.valid_to is None or other.valid_from <= self.valid_to
        return starts_before_other_ends and other_starts_before_end

    @cached_property
    def keys(self) -> frozenset[str]:
        """Canonical names this unit answers to (name and aliases)."""
        return frozenset(canonical_name(n) for n in (self.name, *self.aliases))

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "type": self.type,
            "type_label": self.type_label,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "aliases": list(self.aliases),
            "successor": self.successor, "area": self.target_area, "area_note": self.area_note,
            "contact": {"person": self.contact.person, "phone": self.contact.phone, "email": self.contact.email},
        }


def to_dict(unit: Unit) -> dict:
    return unit.to_dict()


def _sort_key(unit: Unit, position: int) -> tuple:
    """Communes by code, then offices, then organisations, each in file order."""
    if unit.is_commune:
        return (0, int(unit.code) if unit.code.isdigit() else 0, unit.code, position)
    return (1 if unit.type == "phong" else 2, 0, "", position)


class Roster:
    def __init__(self, units: tuple[Unit, ...]):
        self._units = tuple(units)
        # Look-ups by code are constant-time: a national roster has some 10,000 units.
        self._by_code: dict[str, list[Unit]] = {}
        for unit in self._units:
            self._by_code.setdefault(unit.code, []).append(unit)

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_units(cls, units: list[Unit] | tuple[Unit, ...]) -> Roster:
        """A roster from Unit objects, checked like a file (ConfigError if inconsistent)."""
        _check_roster(tuple(units), where="")
        return cls(tuple(units))

    @classmethod
    def load(cls, path: Path | str | None = None) -> Roster:
        """Read and check a roster YAML file (the packaged default when path is None)."""
        path = Path(path) if path is not None else default_roster_path()
        where = f"Danh sách đơn vị {path}: "
        try:
            data = read_yaml(path)
        except FileNotFoundError:
            raise ConfigError(f"Không tìm thấy tệp danh sách đơn vị {path}.") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{where}tệp không lưu theo bảng mã UTF-8; hãy lưu lại với bảng mã UTF-8.") from None
        except OSError as e:
            raise ConfigError(f"Không đọc được tệp danh sách đơn vị {path}: {e}") from e
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f" (dòng {mark.line + 1})" if mark is not None else ""
            raise ConfigError(f"{where}sai cú pháp YAML{line}; kiểm tra thụt lề và dấu nháy.") from e
        if not isinstance(data, dict) or not isinstance(data.get("units"), list):
            raise ConfigError(f"{where}thiếu mục «units:» chứa danh sách các đơn vị.")
        units = tuple(_unit_from_dict(raw, i, where) for i, raw in enumerate(data["units"], start=1))
        _check_roster(units, where)
        return cls(units)

    # ---------------------------------------------------------------- queries

    @property
    def units(self) -> tuple[Unit, ...]:
        """All units of every period, in file order."""
        return self._units

    def in_force(self, on: date) -> list[Unit]:
        """Units in force on a day: communes (thị trấn and xã) by code, then offices, then
        organisations in file order."""
        chosen = [(u, i) for i, u in enumerate(self._units) if u.in_force(on)]
        return [u for u, i in sorted(chosen, key=lambda pair: _sort_key(*pair))]

    def for_year(self, year: int, reference: tuple[int, int] = DEFAULT_REFERENCE) -> list[Unit]:
        """Units expected to report for a year: those in force on its reference day."""
        return self.in_force(reference_date(year, reference))

    def get(self, code: str, on: date) -> Unit | None:
        """The unit holding a code on a day (codes are reused, so the day matters)."""
        for unit in self._by_code.get(_clean_code(code), ()):
            if unit.in_force(on):
                return unit
        return None

    def match(self, text: str | int | float | None, on: date) -> Unit | None:
        """The unit in force on a day that a free-text name or code refers to: code first
        (case-insensitive), then name/aliases by canonical_name, then, for text typed without
        diacritics ("xa dan luc") and only if exactly one unit fits, the names folded to
        ASCII. None if unknown or ambiguous: "Thọ Tần" does not match "Thọ Tân"."""
        if text is None:
            return None
        raw = _clean_code(text)
        if not raw:
            return None
        codes, keys, folded_keys = self._name_index
        by_code = [u for u in codes.get(raw.casefold(), ()) if u.in_force(on)]
        if len(by_code) == 1:
            return by_code[0]
        key = canonical_name(raw)
        if not key:
            return None
        exact = [u for u in keys.get(key, ()) if u.in_force(on)]
        if exact:
            return exact[0] if len(exact) == 1 else None
        folded = strip_accents(key)
        if folded != key:
            return None  # typed with other diacritics: a different name, not a missing accent
        loose = [u for u in folded_keys.get(folded, ()) if u.in_force(on)]
        return loose[0] if len(loose) == 1 else None

    @cached_property
    def _name_index(self) -> tuple[dict, dict, dict]:
        """Code, canonical name and accent-free name -> units, built once: matching a file
        name must not scan a national roster for every file."""
        codes: dict[str, list[Unit]] = {}
        keys: dict[str, list[Unit]] = {}
        folded: dict[str, list[Unit]] = {}
        for u in self._units:
            codes.setdefault(u.code.casefold(), []).append(u)
            unit_keys = u.keys
            for k in unit_keys:
                keys.setdefault(k, []).append(u)
            for k in {strip_accents(k) for k in unit_keys}:
                folded.setdefault(k, []).append(u)
        return codes, keys, folded

    def successor_on(self, code: str, from_date: date, to: date | int) -> Unit | None:
        """Follow successor links from the unit holding `code` on from_date to the unit in
        force on `to` (a date, or a year meaning its reference day). Xuân Thịnh (2024) ->
        Xuân Lộc -> Xã Thọ Phú (2025). The unit itself if still in force; None if it ended
        without a successor or `to` lies before it."""
        target = reference_date(to) if isinstance(to, int) else to
        unit = self.get(code, from_date)
        seen: set[tuple[str, date | None]] = set()
        while unit is not None and not unit.in_force(target):
            if unit.valid_from is not None and target < unit.valid_from:
                return None  # successor links only run forward in time
            if unit.successor is None or unit.valid_to is None or (unit.code, unit.valid_from) in seen:
                return None
            seen.add((unit.code, unit.valid_from))
            unit = self.get(unit.successor, unit.valid_to + timedelta(days=1))
        return unit

    def mapping(self, from_year: int, to_year: int) -> dict[str, str]:
        """Old code -> code of the unit that carries it on in to_year, for every unit in force
        in from_year (identity for units still in force). Units that ended without a
        successor (the district offices in 2025) are left out."""
        start = reference_date(from_year)
        out = {}
        for unit in self.for_year(from_year):
            heir = self.successor_on(unit.code, start, to_year)
            if heir is not None:
                out[unit.code] = heir.code
        return out

    def __len__(self) -> int:
        return len(self._units)

    def __iter__(self):
        return iter(self._units)


# -------------------------------------------------------------------- reading and checking


def _clean_code(value: object) -> str:
    """A code as typed: 15700, 15700.0 (Excel number) or " 15700 " all give "15700"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _label(raw: dict, index: int) -> str:
    code = raw.get("code") if isinstance(raw, dict) else None
    name = raw.get("name") if isinstance(raw, dict) else None
    if code is not None and name:
        return f"đơn vị {code} ({name})"
    if code is not None:
        return f"đơn vị {code}"
    return f"đơn vị thứ {index}"


def _date(value: object, what: str, label: str, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"{where}{label}: {what} «{value}» không phải ngày hợp lệ; viết dạng NĂM-THÁNG-NGÀY, ví dụ 2025-06-30."
        ) from None


def _text(value: object, what: str, label: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        hint = " (đặt số điện thoại trong dấu nháy kép để giữ số 0 ở đầu)" if what == "phone" else ""
        raise ConfigError(f"{where}{label}: trường «{what}» phải là chữ, đặt trong dấu nháy kép{hint}.")
    return nfc(value)


def _unit_from_dict(raw: object, index: int, where: str) -> Unit:
    label = _label(raw, index)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}{label} không đúng cấu trúc (mỗi đơn vị là một khối «- code: …»).")
    for key in _REQUIRED_KEYS:
        if raw.get(key) in (None, ""):
            raise ConfigError(f"{where}{label}: thiếu trường bắt buộc «{key}».")
    unknown = sorted(str(k) for k in raw if k not in _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}{label}: trường «{', '.join(unknown)}» không hợp lệ; các trường được dùng: "
            f"{', '.join(sorted(_KNOWN_KEYS))}."
        )
    code = raw["code"]
    if isinstance(code, bool) or not isinstance(code, (str, int)):
        raise ConfigError(f"{where}{label}: mã đơn vị phải là chữ hoặc số.")
    utype = str(raw["type"]).strip()
    if utype not in UNIT_TYPES:
        raise ConfigError(
            f"{where}{label}: loại đơn vị «{utype}» không hợp lệ; chỉ dùng: xa (xã), thi_tran (thị trấn), "
            f"phong (phòng, ban), to_chuc (tổ chức, đoàn thể)."
        )
    aliases = raw.get("aliases") or []
    if isinstance(aliases, str):
        aliases = [aliases]
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConfigError(f"{where}{label}: «aliases» phải là danh sách tên, ví dụ [\"Xã Văn Sơn\"].")
    contact = raw.get("contact") or {}
    if not isinstance(contact, dict):
        raise ConfigError(f"{where}{label}: «contact» phải có dạng {{person: \"\", phone: \"\", email: \"\"}}.")
    bad_contact = sorted(str(k) for k in contact if k not in _CONTACT_KEYS)
    if bad_contact:
        raise ConfigError(f"{where}{label}: trong «contact» chỉ dùng person, phone, email (gặp «{', '.join(bad_contact)}»).")
    successor = raw.get("successor")
    area = raw.get("area")
    if area not in (None, "", "xa", "thi_tran"):
        raise ConfigError(f"{where}{label}: «area» chỉ dùng xa (nông thôn) hoặc thi_tran (thành thị).")
    return Unit(
        code=str(code).strip(),
        name=_text(raw["name"], "name", label, where),
        type=utype,
        valid_from=_date(raw.get("valid_from"), "valid_from", label, where),
        valid_to=_date(raw.get("valid_to"), "valid_to", label, where),
        aliases=tuple(nfc(a) for a in aliases if a.strip()),
        successor=None if successor in (None, "") else str(successor).strip(),
        contact=Contact(*(_text(contact.get(k), k, label, where) for k in _CONTACT_KEYS)),
        note=_text(raw.get("note"), "note", label, where),
        area=area or None, area_note=_text(raw.get("area_note"), "area_note", label, where),
    )


def _check_roster(units: tuple[Unit, ...], where: str) -> None:
    """Consistency across units: dates in order, no code held twice at once, successors
    that exist on the day after the unit ends. Two units may share a name (communes of
    different districts do): match() then answers None rather than guess."""
    for unit in units:
        label = f"đơn vị {unit.code} ({unit.name})"
        if unit.type not in UNIT_TYPES:
            raise ConfigError(f"{where}{label}: loại đơn vị «{unit.type}» không hợp lệ.")
        if unit.valid_from and unit.valid_to and unit.valid_from > unit.valid_to:
            raise ConfigError(f"{where}{label}: valid_from ({unit.valid_from}) sau valid_to ({unit.valid_to}).")
        if unit.successor is not None and unit.valid_to is None:
            raise ConfigError(
                f"{where}{label}: có đơn vị kế thừa «{unit.successor}» nhưng chưa ghi valid_to (ngày kết thúc)."
            )
    by_code: dict[str, list[Unit]] = {}
    for unit in units:
        by_code.setdefault(unit.code, []).append(unit)
    for same_code in by_code.values():
        for i, a in enumerate(same_code):
            for b in same_code[i + 1:]:
                if a.overlaps(b):
                    raise ConfigError(
                        f"{where}mã {a.code} bị trùng: «{a.name}» và «{b.name}» có thời gian hiệu lực chồng lên "
                        f"nhau; sửa valid_from/valid_to để hai giai đoạn nối tiếp nhau."
                    )
    for unit in units:
        if unit.successor is None:
            continue
        day_after = unit.valid_to + timedelta(days=1)
        if not any(u.in_force(day_after) for u in by_code.get(unit.successor, ())):
            raise ConfigError(
                f"{where}đơn vị {unit.code} ({unit.name}): đơn vị kế thừa «{unit.successor}» không có trong danh sách "
                f"hoặc không có hiệu lực vào ngày {day_after:%d/%m/%Y}."
            )

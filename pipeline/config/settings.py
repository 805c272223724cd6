"""Settings of the consolidating office (issuer, signer, recipient, deadline), as YAML data.
A workspace file overrides the built-in defaults key by key.

The officer edits settings.yaml in Notepad, which may save it as UTF-8 (with or without a
BOM), UTF-16 ("Unicode") or Windows-1258 ("ANSI" on a Vietnamese Windows): all are read.
`check_settings` returns every problem at once, each a Vietnamese line with its line number
and a fix; loading settings with problems raises one ConfigError listing them all, never a
traceback."""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import yaml

from pipeline.base.errors import ConfigError

DEFAULT_DEADLINE = (20, 11)  # day, month: 20 November (plan section VI)
# From reporting year 2025 on, the settings of the section below replace those of the same
# name: children's affairs moved to the health sector on 1 March 2025 and districts ceased on
# 1 July 2025, so communes report to the province (see docs/huong_dan.md).
REORGANISED_FROM = 2025
REORGANISED_SECTION = "from_2025"
# Keys of a per-year deadline mapping that stand for "every other year".
_OTHER_YEARS = ("mac_dinh", "default")


def default_settings_path() -> Path:
    return Path(__file__).parent / "defaults" / "settings.yaml"


@functools.lru_cache(maxsize=1)
def _default_checks() -> dict:
    return dict(_read(default_settings_path())["checks"])


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class SettingsProblem:
    """One problem in a settings file: where, and what to do about it (Vietnamese)."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{Path(self.path).name}, dòng {self.line}" if self.line else Path(self.path).name
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "message": self.message, "text": str(self)}


@dataclass
class Settings:
    data: dict

    @classmethod
    def load(cls, override: Path | None = None) -> Settings:
        data = _read(default_settings_path())
        if override is not None and Path(override).exists():
            problems = check_settings(Path(override))
            if problems:
                raise ConfigError("Tệp thông số có lỗi, sửa rồi chạy lại (kiểm tra: treem check-settings):\n"
                                  + "\n".join(f"  - {p}" for p in problems))
            data = _deep_merge(data, _read(Path(override)))
        return cls(data)

    def for_year(self, year: int) -> Settings:
        """The settings in force for `year`: from 2025 on, with the from_2025 section applied."""
        section = self.data.get(REORGANISED_SECTION)
        if year < REORGANISED_FROM or not isinstance(section, dict):
            return self
        return Settings(_deep_merge(self.data, section))

    def __getitem__(self, key):
        return self.data[key]

    def get(self, key, default=None):
        return self.data.get(key, default)

    def deadline(self, year: int) -> date:
        """The deadline of `year`: `deadline` is one date for every year ("20/11") or a
        mapping year -> date, with "mac_dinh" for the other years."""
        raw = deadline_value(self.data.get("deadline"), year)
        day_month, problem = parse_day_month(raw)
        if problem:
            raise ConfigError(f"settings.yaml, hạn nộp năm {year}: {problem}")
        return date(year, day_month[1], day_month[0])

    def check(self, name: str) -> float:
        """A threshold of the checks (`checks:` in settings.yaml), the only way code reads one.
        Its one default is declared in pipeline/defaults/settings.yaml, which every workspace's
        file overrides key by key; settings made in code without it fall back to the same."""
        value = (self.data.get("checks") or {}).get(name)
        return float(_default_checks()[name] if value is None else value)


# What still names the district level or the labour-and-social-affairs sector.
_DISTRICT_WORDS = re.compile(r"\bhuyện\b|lao động\s*-\s*thương binh|LĐTBXH|LĐ-TB&XH|TB&XH", re.IGNORECASE)
_WHO = {"issuer": "cơ quan ban hành", "issuer_short": "tên viết tắt", "issuer_header": "phần đầu văn bản",
        "coordinator": "nơi nhận biểu mẫu", "recipient": "nơi nhận báo cáo", "recipients": "danh sách nơi nhận",
        "signer": "người ký"}


def reorganisation_warnings(settings: Settings, year: int) -> list[str]:
    """One line, from 2025 on, when the settings in force still name a district issuer,
    district office or recipient (or the labour-and-social-affairs sector)."""
    if year < REORGANISED_FROM:
        return []
    found = []
    for key, what in _WHO.items():
        value = settings.get(key)
        texts = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
        hit = next((str(t) for t in texts if t and _DISTRICT_WORDS.search(str(t))), None)
        if hit:
            found.append(f"{what} «{hit.rstrip(';')}»")
    if not found:
        return []
    return [f"Từ 01/7/2025 không còn cấp huyện và từ 01/3/2025 công tác trẻ em do ngành y tế quản lý, nhưng thông số "
            f"năm {year} vẫn ghi {'; '.join(found)}. Sửa mục {REORGANISED_SECTION} trong settings.yaml của thư mục "
            f"làm việc (xã gửi báo cáo về tỉnh), rồi chạy lại."]


def deadline_value(value, year: int):
    """The raw deadline setting that applies to `year`."""
    if isinstance(value, dict):
        for key in (year, str(year)):
            if key in value:
                return value[key]
        for key in _OTHER_YEARS:
            if key in value:
                return value[key]
        return None
    return value


def parse_day_month(value) -> tuple[tuple[int, int] | None, str | None]:
    """((day, month), None) or (None, a Vietnamese problem). Accepted: 20/11, 20/11/2024,
    20-11, 2024-11-20 (and a YAML date); "11-20", the old month-day form, still reads as
    20 November. A form that could be either day-month or month-day (10-11) is refused."""
    if value is None or value == "":
        return DEFAULT_DEADLINE, None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return (value.day, value.month), None
    text = str(value).strip()
    fix = "ghi dạng ngày/tháng, ví dụ 20/11 hoặc 20/11/2024."
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if m:
        day, month = int(m.group(3)), int(m.group(2))
    else:
        m = re.fullmatch(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{4}))?", text)
        if not m:
            return None, f"«{text}» không phải ngày; {fix}"
        a, sep, b = int(m.group(1)), m.group(2), int(m.group(3))
        if sep == "-" and m.group(4) is None and a <= 12 < b:
            day, month = b, a  # the old "11-20" (month-day)
        elif sep == "-" and m.group(4) is None and a <= 12 and b <= 12 and a != b:
            return None, f"«{text}» có thể là ngày {a} tháng {b} hoặc ngày {b} tháng {a}; {fix}"
        else:
            day, month = a, b
    try:
        date(2024, month, day)  # a leap year: 29/02 is a date
    except ValueError:
        return None, f"«{text}» không phải ngày có thật; {fix}"
    return (day, month), None


# --- reading ---------------------------------------------------------------------------------
def decode_text(raw: bytes) -> tuple[str, str]:
    """(text, encoding) of a text file Notepad saved: UTF-8 with or without BOM, UTF-16 (BOM
    or not), or Windows-1258. Returned in NFC (Windows-1258 spells accents as combining
    marks)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return unicodedata.normalize("NFC", raw[3:].decode("utf-8", "replace")), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return unicodedata.normalize("NFC", raw.decode("utf-16", "replace")), "utf-16"
    if len(raw) >= 4 and raw.count(b"\x00") >= len(raw) // 4:
        enc = "utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be"
        return unicodedata.normalize("NFC", raw.decode(enc, "replace")), enc
    try:
        return unicodedata.normalize("NFC", raw.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        return unicodedata.normalize("NFC", raw.decode("cp1258", "replace")), "cp1258"


def read_settings_text(path: Path) -> str:
    return decode_text(Path(path).read_bytes())[0]


def _loader():
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> dict:
    try:
        data = yaml.load(read_settings_text(path), Loader=_loader()) or {}  # noqa: S506 — a safe loader
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"Không đọc được tệp thông số {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"Tệp thông số {path} không đúng cấu trúc.")
    return data


_SYNTAX_FIX = ("kiểm tra dòng này và dòng trên: sau dấu hai chấm phải có một dấu cách, thụt lề bằng dấu cách (không "
               "dùng phím Tab) và thẳng hàng với các dòng cùng cấp, dấu ngoặc kép mở thì phải đóng; giá trị có dấu "
               "hai chấm hay bắt đầu bằng dấu - thì đặt trong ngoặc kép.")
_TEXT_KEYS = ("province", "district", "district_code", "area", "place", "issuer", "issuer_short", "document_code",
              "coordinator", "coordinator_short", "recipient", "template_password")


def check_settings(path: Path | str, text: str | None = None) -> list[SettingsProblem]:
    """Every problem of a settings file at once: it cannot be read, a YAML syntax error (one
    line, with the line number and a fix), a value of the wrong kind, a deadline that is not a
    date. An empty list means the file is fine."""
    path = Path(path)
    p = str(path)
    if text is None:
        try:
            text = read_settings_text(path)
        except OSError as e:
            return [SettingsProblem(p, None, f"không đọc được tệp ({e.strerror or e}).")]
    if "\t" in text:
        line = text[:text.index("\t")].count("\n") + 1
        tab_problem = SettingsProblem(p, line, "có ký tự Tab; thụt lề bằng dấu cách (phím cách), không dùng Tab.")
    else:
        tab_problem = None
    try:
        node = yaml.compose(text, Loader=_loader())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        if tab_problem:
            return [tab_problem]
        return [SettingsProblem(p, line, f"sai cú pháp ({_yaml_problem(e)}); {_SYNTAX_FIX}")]
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        return [SettingsProblem(p, node.start_mark.line + 1, "tệp phải là danh sách các mục dạng «tên: giá trị».")]
    data = yaml.load(text, Loader=_loader()) or {}  # noqa: S506 — a safe loader
    lines = {k.value: (k.start_mark.line + 1, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    problems: list[SettingsProblem] = []

    problems += _value_problems(p, data, lines)
    section = data.get(REORGANISED_SECTION)
    if section is not None:
        node_of = lines.get(REORGANISED_SECTION, (None, None))
        if not isinstance(section, dict) or not isinstance(node_of[1], yaml.MappingNode):
            problems.append(SettingsProblem(p, node_of[0], f"mục «{REORGANISED_SECTION}» phải gồm các mục con dạng "
                                                           "«tên: giá trị», thụt lề hai dấu cách."))
        else:
            inner = {k.value: (k.start_mark.line + 1, v) for k, v in node_of[1].value if isinstance(k, yaml.ScalarNode)}
            problems += _value_problems(p, section, inner, f"{REORGANISED_SECTION}: ")
    if "deadline" in data:
        problems += _deadline_problems(p, data["deadline"], lines["deadline"])
    if tab_problem:
        problems.insert(0, tab_problem)
    return sorted(problems, key=lambda x: (x.line or 0))


def _value_problems(p: str, data: dict, lines: dict, prefix: str = "") -> list[SettingsProblem]:
    """Values of the wrong kind: a list that is not a list of lines, a section that is not a
    mapping, a threshold that is not a number."""
    problems: list[SettingsProblem] = []

    def line_of(key):
        return lines.get(key, (None, None))[0]

    for key in _TEXT_KEYS:
        if key in data and data[key] is not None and not isinstance(data[key], (str, int)):
            problems.append(SettingsProblem(p, line_of(key), f"{prefix}mục «{key}» phải là một dòng chữ."))
    for key in ("issuer_header", "recipients"):
        if key in data and not (isinstance(data[key], list) and all(isinstance(x, (str, int)) for x in data[key])):
            problems.append(SettingsProblem(p, line_of(key), f"{prefix}mục «{key}» phải là danh sách, mỗi dòng bắt "
                                                             "đầu bằng «- » (gạch ngang và dấu cách); dòng có dấu hai "
                                                             "chấm thì đặt trong ngoặc kép."))
    for key in ("signer", "contact", "checks"):
        if key in data and not isinstance(data[key], dict):
            problems.append(SettingsProblem(p, line_of(key), f"{prefix}mục «{key}» phải gồm các mục con dạng «tên: "
                                                             "giá trị», thụt lề hai dấu cách."))
    node = lines.get("checks", (None, None))[1]
    if isinstance(data.get("checks"), dict):
        sub = {k.value: k.start_mark.line + 1 for k, _ in node.value} if isinstance(node, yaml.MappingNode) else {}
        for k, v in data["checks"].items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                problems.append(SettingsProblem(p, sub.get(k, line_of("checks")),
                                                f"{prefix}ngưỡng «{k}» phải là một số (ví dụ 50), không phải «{v}»."))
    return problems


def _deadline_problems(p: str, value, where: tuple) -> list[SettingsProblem]:
    line, node = where
    out = []
    if isinstance(value, dict):
        keys = {str(k.value): k.start_mark.line + 1 for k, _ in node.value} if isinstance(node, yaml.MappingNode) else {}
        for key, v in value.items():
            at = keys.get(str(key), line)
            if str(key) not in _OTHER_YEARS and not (re.fullmatch(r"\d{4}", str(key))):
                out.append(SettingsProblem(p, at, f"hạn nộp: «{key}» không phải một năm; ghi năm (ví dụ 2025: 15/12) "
                                                  "hoặc mac_dinh: 20/11 cho các năm khác."))
                continue
            _, problem = parse_day_month(v)
            if problem:
                out.append(SettingsProblem(p, at, f"hạn nộp năm {key}: {problem}"))
            elif str(key).isdigit() and _year_of(v) not in (None, int(key)):
                out.append(SettingsProblem(p, at, f"hạn nộp năm {key} ghi năm {_year_of(v)}; sửa cho đúng năm {key}."))
        return out
    _, problem = parse_day_month(value)
    if problem:
        out.append(SettingsProblem(p, line, f"hạn nộp: {problem}"))
    return out


def _year_of(value) -> int | None:
    if isinstance(value, (date, datetime)):
        return value.year
    m = re.search(r"(\d{4})", str(value))
    return int(m.group(1)) if m else None


_YAML_PROBLEMS = {
    "mapping values are not allowed": "dấu hai chấm đặt sai chỗ hoặc thụt lề không thẳng hàng",
    "could not find expected ':'": "thiếu dấu hai chấm",
    "found character '\\t' that cannot start any token": "có ký tự Tab",
    "found unexpected end of stream": "ngoặc kép chưa đóng",
    "found undefined alias": "dấu * đặt sai chỗ",
    "expected <block end>, but found '<block mapping start>'": "thụt lề không thẳng hàng",
    "expected <block end>, but found '<block sequence start>'": "thụt lề không thẳng hàng",
    "expected <block end>, but found '<scalar>'": "thụt lề không thẳng hàng",
    "expected <block end>, but found '-'": "dòng gạch đầu dòng thụt lề không thẳng hàng",
    "did not find expected key": "thụt lề không thẳng hàng",
    "did not find expected '-' indicator": "dòng gạch đầu dòng thụt lề không thẳng hàng",
}


def _yaml_problem(e: yaml.YAMLError) -> str:
    problem = str(getattr(e, "problem", "") or "")
    for k, v in _YAML_PROBLEMS.items():
        if problem.startswith(k):
            return v
    return "không đọc được cấu trúc"

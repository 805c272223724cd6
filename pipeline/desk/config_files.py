"""Cài đặt: the settings and unit contacts as forms, checked with Vietnamese messages and
written back into the workspace's own YAML files with their comments kept (ruamel.yaml
round trip). The file is checked by the same loader the commands use before it replaces
the old one."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pipeline.base.errors import ConfigError, TreemError
from pipeline.base.fsutil import atomic_write
from pipeline.config.workspace import init_workspace

PHONE = re.compile(r"^[0-9 +().-]{0,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# (form field, path in settings.yaml, label, required)
SETTINGS_FIELDS = [
    ("issuer", ("issuer",), "Cơ quan ban hành", True),
    ("issuer_short", ("issuer_short",), "Tên viết tắt của cơ quan ban hành", True),
    ("issuer_header", ("issuer_header",), "Phần đầu văn bản (mỗi dòng một dòng)", True),
    ("place", ("place",), "Địa danh ghi ở dòng ngày tháng", True),
    ("document_code", ("document_code",), "Ký hiệu văn bản", True),
    ("signer_on_behalf", ("signer", "on_behalf"), "Thẩm quyền ký (TM.)", False),
    ("signer_deputy", ("signer", "deputy"), "Ký thay (KT.), để trống nếu Chủ tịch ký", False),
    ("signer_title", ("signer", "title"), "Chức vụ người ký", True),
    ("signer_name", ("signer", "name"), "Họ tên người ký", True),
    ("recipient", ("recipient",), "Cơ quan nhận báo cáo", True),
    ("recipients", ("recipients",), "Nơi nhận (mỗi dòng một nơi)", True),
    ("deadline", ("deadline",), "Hạn nộp hằng năm (ngày/tháng, ví dụ 20/11)", True),
    ("contact_person", ("contact", "person"), "Người đầu mối tại phòng", False),
    ("contact_phone", ("contact", "phone"), "Điện thoại đầu mối", False),
    ("contact_email", ("contact", "email"), "Thư điện tử đầu mối", False),
]
LINES = {"issuer_header", "recipients"}


def _yaml() -> YAML:
    y = YAML()  # round trip: comments, order and quoting kept
    y.preserve_quotes = True
    y.width = 4096
    return y


def _own_file(root: Path, name: str) -> Path:
    """The workspace's own copy (made from the defaults if the officer never ran init)."""
    path = root / name
    if not path.exists():
        init_workspace(root)
    return path


def _get(data, keys):
    for k in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(k)
    return data


def settings_section(year: int) -> str | None:
    """The section of settings.yaml whose values are in force in `year`: None for the top
    level (before 2025), the from_2025 section from 2025 on (settings.Settings.for_year)."""
    from pipeline.config.settings import REORGANISED_FROM, REORGANISED_SECTION

    return REORGANISED_SECTION if year >= REORGANISED_FROM else None


def settings_form(settings, year: int) -> dict:
    """The values in force in `year` (`settings` is Workspace.for_year(year).settings), as the
    form shows them. The deadline is the one of that year when it is set year by year."""
    from pipeline.config.settings import deadline_value

    out = {}
    for name, keys, _, _ in SETTINGS_FIELDS:
        v = _get(settings.data, keys)
        if name == "deadline":
            v = deadline_value(v, year)
        out[name] = "\n".join(str(x) for x in v) if name in LINES and isinstance(v, list) else ("" if v is None else str(v))
    return out


def check_settings(form: dict) -> tuple[dict, list[str]]:
    """Clean values and every problem at once, in Vietnamese."""
    values, problems = {}, []
    for name, _, label, required in SETTINGS_FIELDS:
        raw = str(form.get(name, "") or "").replace("\r\n", "\n").strip()
        if name in LINES:
            value = [line.strip() for line in raw.split("\n") if line.strip()]
            if required and not value:
                problems.append(f"«{label}» cần ít nhất một dòng.")
        else:
            value = " ".join(raw.split())
            if required and not value:
                problems.append(f"«{label}» không được để trống.")
        values[name] = value
    d = values["deadline"]
    if d:
        from pipeline.config.settings import parse_day_month

        day_month, problem = parse_day_month(d)
        if problem:
            problems.append(f"«Hạn nộp»: {problem}")
        else:
            values["deadline"] = f"{day_month[0]:02d}/{day_month[1]:02d}"
    if not PHONE.match(values["contact_phone"]):
        problems.append(f"«Điện thoại đầu mối» «{values['contact_phone']}» chỉ gồm chữ số, dấu cách, +, -, ().")
    if values["contact_email"] and not EMAIL.match(values["contact_email"]):
        problems.append(f"«Thư điện tử đầu mối» «{values['contact_email']}» không đúng dạng, ví dụ ten@example.vn.")
    return values, problems


def _set(doc: CommentedMap, keys: tuple, value) -> None:
    for k in keys[:-1]:
        if not isinstance(doc.get(k), dict):
            doc[k] = CommentedMap()
        doc = doc[k]
    old = doc.get(keys[-1])
    if isinstance(value, list) and isinstance(old, CommentedSeq):
        old[:] = value  # the same sequence keeps its comments
    elif isinstance(value, list):
        doc[keys[-1]] = CommentedSeq(value)
    else:
        doc[keys[-1]] = value


def save_settings(root: Path, values: dict, year: int) -> Path:
    """Write the form into the part of settings.yaml in force in `year`: the top level before
    2025, the from_2025 section from 2025 on (made if the file has none; its comments kept).
    The deadline is read from the top level in every year, so it is written there: into the
    year's own line when the file sets the deadline year by year."""
    from pipeline.config.settings import read_settings_text

    path = _own_file(root, "settings.yaml")
    y = _yaml()
    doc = y.load(read_settings_text(path)) or CommentedMap()  # Notepad may have saved it as UTF-16
    section = settings_section(year)
    target = doc
    if section is not None:
        if not isinstance(doc.get(section), dict):
            doc[section] = CommentedMap()
        target = doc[section]
    for name, keys, _, _ in SETTINGS_FIELDS:
        if name == "deadline":
            _set_deadline(doc, year, values[name])
        else:
            _set(target, keys, values[name])
    _replace_checked(path, y, doc, _checked_settings)
    return path


def _set_deadline(doc: CommentedMap, year: int, value: str) -> None:
    by_year = doc.get("deadline")
    if not isinstance(by_year, dict):
        doc["deadline"] = value
        return
    key = next((k for k in by_year if str(k) == str(year)), year)
    by_year[key] = value


def _checked_settings(path: Path) -> None:
    """The same check every command makes at its start: all problems at once."""
    from pipeline.config.settings import check_settings

    problems = check_settings(path)
    if problems:
        raise ConfigError("; ".join(p.message for p in problems))


def check_contacts(rows: list[dict]) -> list[str]:
    problems = []
    for r in rows:
        if not PHONE.match(r["phone"]):
            problems.append(f"{r['name']}: điện thoại «{r['phone']}» chỉ gồm chữ số, dấu cách, +, -, ().")
        if r["email"] and not EMAIL.match(r["email"]):
            problems.append(f"{r['name']}: thư điện tử «{r['email']}» không đúng dạng, ví dụ ten@example.vn.")
    return problems


def save_contacts(root: Path, units: list, rows: list[dict]) -> Path:
    """Write the contacts of these units (Unit objects, matched by code and period, since codes
    are reused) into roster.yaml."""
    from pipeline.config.roster import Roster

    path = _own_file(root, "roster.yaml")
    y = _yaml()
    doc = y.load(path.read_text(encoding="utf-8"))
    wanted = {(u.code, u.valid_from, u.valid_to): r for u, r in zip(units, rows)}
    for entry in doc.get("units") or []:
        key = (str(entry.get("code")), _day(entry.get("valid_from")), _day(entry.get("valid_to")))
        r = wanted.get(key)
        if r is None:
            continue
        contact = entry.get("contact")
        if not isinstance(contact, dict):
            contact = entry["contact"] = CommentedMap()
            contact.fa.set_flow_style()
        for k in ("person", "phone", "email"):
            contact[k] = r[k]
    _replace_checked(path, y, doc, Roster.load)
    return path


def _day(v) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def _replace_checked(path: Path, y: YAML, doc, loader) -> None:
    buf = io.StringIO()
    y.dump(doc, buf)
    text = buf.getvalue()
    trial = path.with_name(f".{path.name}.kiem-tra")
    trial.write_text(text, encoding="utf-8")
    try:
        loader(trial)
    except TreemError as e:
        raise ConfigError(f"Chưa lưu: sau khi sửa, {path.name} không đọc được ({e}).") from e
    finally:
        trial.unlink(missing_ok=True)
    atomic_write(path, text.encode("utf-8"))

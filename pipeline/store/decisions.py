"""Decisions the officer takes and the tool records: accepting a unit's latest submission
despite its errors (only the offending values are left out), undoing that, and setting the
date a file was really received (a file saved from Zalo or webmail carries the download
time).

Decisions live in the store's append-only audit log, with time and note, and nowhere else:
what they change (a submission counted, a received date) is derived from the log, so
re-running collect never loses them, and nothing is ever erased (an undo is one more entry)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipeline.base.errors import TreemError
from pipeline.base.problems import Severity, ValidationIssue
from pipeline.store.db import Store
from pipeline.store.status import Status, lateness, rejudge

# What each decision is called for the officer (the codes are the audit log's actions). The
# latest decision of a kind for a submission or a file stands.
DECISION_ACTIONS = ("accept", "accept-undone", "received-set")
DECISION_LABELS = {
    "accept": "Chấp nhận báo cáo có lỗi",
    "accept-undone": "Bỏ chấp nhận",
    "received-set": "Sửa ngày nhận",
}


class DecisionError(TreemError):
    """A decision that cannot be taken (no such unit or file, nothing to accept)."""


_DAY = re.compile(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*|\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*")


def received_date(text: str) -> datetime:
    """The day a file was really received, as the officer types it: 18/11/2024 (also with . or
    -) or 2024-11-18. A day that does not exist is refused in Vietnamese (a day still to come is
    refused by set_received)."""
    m = _DAY.fullmatch(text or "")
    try:
        if m and m.group(1):
            return datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m:
            return datetime(int(m.group(4)), int(m.group(5)), int(m.group(6)))
    except ValueError:
        pass
    raise DecisionError(f"Ngày «{(text or '').strip()}» không đúng; ghi ngày/tháng/năm, ví dụ 18/11/2024.")


@dataclass
class Decision:
    """One recorded decision."""

    year: int
    action: str            # accept, accept-undone, received-set
    at: str                # when it was taken (ISO)
    note: str
    unit: str | None = None
    file: str | None = None
    submission_id: int | None = None
    received_at: str | None = None  # received-set: the date set (ISO)
    left_out: list[str] | None = None  # accept: the fields whose values are not counted
    message: str = ""      # one Vietnamese line saying what it means

    @property
    def label(self) -> str:
        return DECISION_LABELS[self.action]

    def to_dict(self) -> dict:
        return {"year": self.year, "action": self.action, "label": self.label, "at": self.at, "note": self.note,
                "unit": self.unit, "file": self.file, "submission_id": self.submission_id,
                "received_at": self.received_at, "left_out": self.left_out, "message": self.message}


def _from_row(row: dict) -> Decision:
    d = json.loads(row.get("detail") or "{}")
    dec = Decision(year=row["year"], action=row["action"], at=row["at"], note=d.get("note") or "", unit=row["unit"],
                   file=d.get("file"), submission_id=row["submission_id"], received_at=d.get("when"),
                   left_out=d.get("left_out"))
    dec.message = describe(dec)
    return dec


def describe(d: Decision) -> str:
    at = _vn_moment(d.at)
    why = f" Lý do: {d.note}" if d.note else ""
    if d.action == "accept":
        left = f"; không tính {len(d.left_out)} số liệu có lỗi" if d.left_out else ""
        return f"{at}: chấp nhận báo cáo của {d.unit or ''} dù còn lỗi{left}.{why}"
    if d.action == "accept-undone":
        return f"{at}: bỏ chấp nhận báo cáo có lỗi của {d.unit or ''}.{why}"
    when = _vn_moment(d.received_at, with_time=False)
    return f"{at}: ngày nhận tệp {d.file} sửa thành {when}.{why}"


def _vn_moment(iso: str | None, with_time: bool = True) -> str:
    if not iso:
        return ""
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return t.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def officer_accepted(store: Store, year: int) -> dict[int, dict]:
    """submission -> the decision that accepts it despite its errors (not undone since)."""
    out: dict[int, dict] = {}
    for r in store.log_entries(year, ("accept", "accept-undone")):
        if r["submission_id"] is None:
            continue
        if r["action"] == "accept":
            out[r["submission_id"]] = r
        else:
            out.pop(r["submission_id"], None)
    return out


def left_out_fields(issues: list[ValidationIssue]) -> list[str]:
    """What accepting a file despite its errors leaves out: the fields its errors point at."""
    return sorted({i.field for i in issues if i.severity is Severity.ERROR and i.field})


def received_overrides(store: Store, year: int) -> dict[str, dict]:
    """The officer's received dates, by file path below the inbox and by content hash:
    {"path:<path>" or "sha:<sha256>": {"when": iso, "note": ...}}; the latest stands."""
    out: dict[str, dict] = {}
    for r in store.log_entries(year, ("received-set",)):
        d = json.loads(r["detail"] or "{}")
        for key in (f"path:{d.get('file')}", f"sha:{d.get('sha256')}"):
            if not key.endswith(":None"):
                out[key] = d
    return out


def _latest(store: Store, year: int, unit: str):
    subs = [s for s in store.submissions(year) if s.unit == unit and s.status != Status.SUPERSEDED]
    return subs[-1] if subs else None


def _unit_code(ws, year: int, unit: str) -> str:
    on = ws.settings.deadline(year)
    found = ws.roster.get(unit, on) or ws.roster.match(unit, on)
    if found is None:
        raise DecisionError(f"Không có đơn vị «{unit}» trong danh sách đơn vị năm {year}; ghi mã đơn vị (xem: treem "
                            f"units --year {year}).")
    return found.code


def accept(ws, year: int, unit: str, note: str) -> Decision:
    """Accept the unit's latest submission despite its errors: it is counted, without the
    values its errors point at."""
    if not (note or "").strip():
        raise DecisionError("Ghi lý do chấp nhận (--note \"…\"): lý do được lưu cùng quyết định.")
    code = _unit_code(ws, year, unit)
    with ws.lock("treem accept"), Store(ws.db_path) as store:
        sub = _latest(store, year, code)
        if sub is None:
            raise DecisionError(f"Đơn vị {code} chưa gửi báo cáo năm {year}; không có gì để chấp nhận.")
        if sub.id in officer_accepted(store, year):
            raise DecisionError(f"Báo cáo mới nhất của đơn vị {code} ({sub.path}) đã được chấp nhận trước đó.")
        if sub.status != Status.REJECTED:
            raise DecisionError(f"Báo cáo mới nhất của đơn vị {code} ({sub.path}) đã hợp lệ; không cần chấp nhận.")
        left_out = left_out_fields(store.issues(sub.id))
        row = store.decide(year, code, "accept", sub.id, {"note": note.strip(), "file": sub.path, "left_out": left_out})
    return _from_row(row)


def undo_accept(ws, year: int, unit: str, note: str = "") -> Decision:
    code = _unit_code(ws, year, unit)
    with ws.lock("treem accept --undo"), Store(ws.db_path) as store:
        accepted = officer_accepted(store, year)
        sub = _latest(store, year, code)
        if sub is None or sub.id not in accepted:
            raise DecisionError(f"Báo cáo của đơn vị {code} năm {year} chưa được chấp nhận theo quyết định; không có gì "
                                "để bỏ.")
        row = store.decide(year, code, "accept-undone", sub.id, {"note": (note or "").strip(), "file": sub.path})
    return _from_row(row)


def set_received(ws, year: int, file: str, when: datetime | date, note: str) -> Decision:
    """Set the date a file of input/YEAR/ was really received (a name or a path below the inbox,
    as collect and status show it). A file already collected gets its timeliness corrected at
    once; one not yet collected gets it when collect reads it."""
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    if when.date() > date.today():
        raise DecisionError(f"Ngày nhận {when:%d/%m/%Y} chưa tới; ghi ngày đã thật sự nhận tệp.")
    inbox = ws.inbox(year)
    with ws.lock("treem received"), Store(ws.db_path) as store:
        subs = store.submissions(year)
        wanted = str(file).replace("\\", "/")
        try:
            wanted = Path(wanted).resolve().relative_to(inbox.resolve()).as_posix() if Path(wanted).is_absolute() \
                else wanted
        except ValueError:
            pass
        matches = [s for s in subs if wanted in s.paths or wanted == s.path]
        if not matches:
            matches = [s for s in subs if any(Path(p).name == Path(wanted).name for p in s.paths)]
        sha = None
        on_disk = inbox / wanted
        if not matches and on_disk.is_file():
            sha = hashlib.sha256(on_disk.read_bytes()).hexdigest()
            matches = [s for s in subs if s.sha256 == sha]
        if len(matches) > 1:
            names = ", ".join(sorted({p for s in matches for p in s.paths}))
            raise DecisionError(f"Có nhiều tệp tên «{file}» ({names}); ghi cả đường dẫn trong input/{year}/.")
        if not matches and not on_disk.is_file():
            raise DecisionError(f"Không có tệp «{file}» trong input/{year}/ hay trong các tệp đã thu nhận; ghi tên tệp "
                                f"như «treem collect» hoặc «treem status» hiển thị.")
        sub = matches[0] if matches else None
        detail = {"note": (note or "").strip(), "file": sub.path if sub else wanted,
                  "sha256": sub.sha256 if sub else sha, "when": when.isoformat(timespec="seconds")}
        row = store.decide(year, sub.unit if sub else None, "received-set", sub.id if sub else None, detail)
        if sub is not None:
            apply_received(store, ws.settings.deadline(year), sub.id, when)
    return _from_row(row)


def apply_received(store: Store, deadline: date, submission_id: int, when: datetime) -> None:
    """What a received date decides: the file's timeliness, its late-submission problem and
    so its status."""
    late = lateness(deadline, when.date())
    with store.transaction():
        store.set_received(submission_id, when.isoformat(timespec="seconds"), late is None, late)
        rejudge(store, [submission_id])


def decisions(ws, year: int) -> list[Decision]:
    """Every decision of the year, oldest first (undone ones too: the log keeps everything)."""
    if not ws.db_path.exists():
        return []
    with Store(ws.db_path) as store:
        return [_from_row(r) for r in store.log_entries(year, DECISION_ACTIONS)]


def unit_notes(store: Store, year: int) -> dict[str, list[str]]:
    """unit -> short Vietnamese notes on the decisions that stand for its current submission
    (for the report's table of units, Phụ lục III)."""
    out: dict[str, list[str]] = {}
    current = {s.unit: s for s in store.submissions(year) if s.unit and s.status != Status.SUPERSEDED}
    accepted = officer_accepted(store, year)
    received: dict[int, dict] = {}
    for r in store.log_entries(year, ("received-set",)):
        if r["submission_id"] is not None:
            received[r["submission_id"]] = r
    for unit, s in current.items():
        notes = []
        if s.id in accepted:
            d = _from_row(accepted[s.id])
            left = f", không tính {len(d.left_out)} số liệu có lỗi" if d.left_out else ""
            notes.append(f"Chấp nhận dù còn lỗi ngày {_vn_moment(d.at, with_time=False)}{left}"
                         + (f" ({d.note})" if d.note else ""))
        if s.id in received:
            d = _from_row(received[s.id])
            notes.append(f"Ngày nhận theo xác nhận của cán bộ: {_vn_moment(d.received_at, with_time=False)}"
                         + (f" ({d.note})" if d.note else ""))
        if notes:
            out[unit] = notes
    return out

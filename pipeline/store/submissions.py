"""Where each unit stands for a year: the statuses of a submitted file (with their Vietnamese
labels beside them), the rule that accepts a file, one row per unit, and the counts every
summary shows. The collect result, the validation report, `treem status`, the report's
data-quality appendix, the export and the desk all read them from here."""

from __future__ import annotations

from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Iterable

from pipeline.base.problems import ERROR


class Status(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
    REJECTED = "rejected"
    # Rejected by the checks, accepted anyway by the officer (decisions.accept): stored as
    # REJECTED, shown and merged as this, without its offending values.
    ACCEPTED_BY_OFFICER = "accepted_by_officer"
    SUPERSEDED = "superseded"  # an older version of a unit's file
    MISSING = "missing"        # a unit that sent nothing (a row, never a stored file)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.ACCEPTED: "Hợp lệ",
    Status.ACCEPTED_WITH_WARNINGS: "Hợp lệ, có cảnh báo",
    Status.REJECTED: "Có lỗi, phải gửi lại",
    Status.ACCEPTED_BY_OFFICER: "Có lỗi, đã chấp nhận theo quyết định",
    Status.SUPERSEDED: "Đã thay bằng bản mới hơn",
    Status.MISSING: "Chưa gửi",
}
# The statuses whose values count towards the district's figures.
ACCEPTED = frozenset({Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS, Status.ACCEPTED_BY_OFFICER})
# What the store may hold; the others are derived when read.
STORED = (Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS, Status.REJECTED, Status.SUPERSEDED)
# The units to chase: nothing sent, or a file with errors.
TO_CHASE = frozenset({Status.MISSING, Status.REJECTED})


def judged(identified: bool, severities: Iterable[str]) -> Status:
    """The accepted rule, the only one: a file from a known unit with no error is accepted,
    with warnings if it has any problem at all; anything else is rejected."""
    severities = list(severities)
    if not identified or ERROR in severities:
        return Status.REJECTED
    return Status.ACCEPTED_WITH_WARNINGS if severities else Status.ACCEPTED


def status_of(checked) -> Status:
    """The status of a file validate has judged (a validate.Checked)."""
    return judged(checked.identity.unit is not None, (i.severity for i in checked.issues))


def counts(statuses: Iterable[str], every: bool = False) -> dict[str, int]:
    """How many of each status; with `every`, each status is there, if only as 0."""
    found = Counter(str(s) for s in statuses)
    if every:
        return {s.value: found.get(s.value, 0) for s in Status}
    return dict(found)


def unit_rows(ws, year: int, subs: list, issues: dict) -> list[dict]:
    """One row per expected unit (and per unexpected unit that sent something): its current
    submission, counts of problems, and status, from the year's submissions and problems."""
    latest: dict[str, object] = {}
    versions: dict[str, int] = {}
    for s in subs:
        if not s.unit:
            continue
        versions[s.unit] = versions.get(s.unit, 0) + 1
        if s.status != Status.SUPERSEDED:
            latest[s.unit] = s
    units = ws.roster.for_year(year)
    known = {u.code for u in units}
    rows = []
    for u in units + [ws.roster.get(c, ws.settings.deadline(year)) for c in latest if c not in known]:
        if u is None:
            continue
        s = latest.get(u.code)
        its = issues.get(s.id, []) if s else []
        rows.append({
            "unit": u.code, "name": u.name, "type": u.type_label, "contact": u.contact,
            "status": s.status if s else Status.MISSING.value, "path": s.path if s else "",
            "received_at": s.received_at if s else "", "on_time": s.on_time if s else None,
            "errors": sum(i["severity"] == "error" for i in its),
            "warnings": sum(i["severity"] == "warning" for i in its),
            "versions": versions.get(u.code, 0), "submission": s,
        })
    return rows


def row_counts(rows: list[dict]) -> dict[str, int]:
    """The counts every summary of the units shows, from `unit_rows`."""
    by_status = counts((r["status"] for r in rows), every=True)
    return {
        "expected": len(rows), "received": len(rows) - by_status[Status.MISSING],
        "valid": sum(by_status[s] for s in ACCEPTED), "rejected": by_status[Status.REJECTED],
        "on_time": sum(r["on_time"] is True for r in rows), "late": sum(r["on_time"] is False for r in rows),
        "missing": by_status[Status.MISSING], "by_status": by_status,
    }


def status(ws, year: int, today=None) -> dict:
    """Completeness and timeliness: who was expected, who sent what, who to chase, and the
    officer's decisions."""
    from pipeline.store.decisions import decisions
    from pipeline.store.db import Store

    today = today or date.today()
    deadline = ws.settings.deadline(year)
    with Store(ws.db_path) as store:
        rows = unit_rows(ws, year, store.submissions(year), store.issues_for_year(year))
    c = row_counts(rows)
    chase = [r for r in rows if r["status"] in TO_CHASE]
    return {
        "year": year, "deadline": deadline.isoformat(), "today": today.isoformat(),
        "days_left": (deadline - today).days,
        "expected": c["expected"], "received": c["received"],
        "valid": c["valid"], "with_errors": c["rejected"],
        "on_time": c["on_time"], "late": c["late"],
        "missing": [r["unit"] for r in rows if r["status"] == Status.MISSING],
        "reporting_rate": round(100 * c["valid"] / c["expected"], 1) if c["expected"] else None,
        "decisions": [d.to_dict() for d in decisions(ws, year)],
        "chase": [{"unit": r["unit"], "name": r["name"], "status": r["status"],
                   "status_label": STATUS_LABELS[r["status"]],
                   "person": r["contact"].person, "phone": r["contact"].phone, "email": r["contact"].email}
                  for r in chase],
    }

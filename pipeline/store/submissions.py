"""Where each unit stands for a year, as the officer sees it: the submissions with the officer's
decisions applied, the version of each unit that counts and its values, one `UnitRow` per unit,
the `UnitCounts` every summary shows and the `YearStatus` of `treem status`. The collect result,
the validation report, `treem status`, the report's data-quality appendix, merge, the export and
the desk all read them from here (the statuses and their rules are in status.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipeline.base.problems import Severity, ValidationIssue
from pipeline.config.roster import Contact
from pipeline.store.db import Store, SubmissionRecord
from pipeline.store.decisions import Decision, decisions, left_out_fields, officer_accepted
from pipeline.store.status import ACCEPTED, TO_CHASE, Status, counts


def for_year(store: Store, year: int) -> list[SubmissionRecord]:
    """The year's submissions as the officer sees them: a rejected file the officer accepted
    (decisions.accept) is ACCEPTED_BY_OFFICER."""
    subs = store.submissions(year)
    accepted = officer_accepted(store, year)
    for s in subs:
        if s.status == Status.REJECTED and s.id in accepted and s.unit:
            s.status = Status.ACCEPTED_BY_OFFICER
    return subs


def current(store: Store, year: int) -> dict[str, SubmissionRecord]:
    """unit -> its version that counts: accepted (by the checks or the officer), not superseded."""
    return {s.unit: s for s in for_year(store, year) if s.unit and s.status in ACCEPTED}


def left_out(store: Store, year: int, cur: dict | None = None) -> dict[str, set[str]]:
    """unit -> the fields merge leaves out of its version that counts: of a version the officer
    accepted despite errors, the fields its errors point at (the one rule, for merge and the API)."""
    cur = current(store, year) if cur is None else cur
    return {unit: set(left_out_fields(store.issues(s.id))) for unit, s in cur.items()
            if s.status == Status.ACCEPTED_BY_OFFICER}


def counted_values(store: Store, year: int) -> dict[str, dict[str, float | str | None]]:
    """unit -> field -> value (number, or text for text fields) of the versions that count,
    as merge counts them: of a version the officer accepted despite errors, the values its
    errors point at are left out (`left_out`)."""
    cur = current(store, year)
    vals = store.field_values([s.id for s in cur.values()])
    for unit, fields in left_out(store, year, cur).items():
        for f in fields:
            vals[cur[unit].id].pop(f, None)
    return {unit: vals[s.id] for unit, s in cur.items()}


@dataclass
class UnitRow:
    """Where one unit stands: its version that counts (the latest not superseded, if any), the
    problems of that version counted by severity, and how many versions it sent."""

    unit: str
    name: str
    type: str  # the unit type's Vietnamese label
    contact: Contact
    status: Status  # MISSING when it sent nothing
    path: str = ""
    received_at: str = ""
    on_time: bool | None = None
    errors: int = 0
    warnings: int = 0
    versions: int = 0
    submission: SubmissionRecord | None = None


def unit_rows(ws, year: int, subs: list[SubmissionRecord], issues: dict[int, list[ValidationIssue]]) -> list[UnitRow]:
    """One row per expected unit (and per unexpected unit that sent something): its current
    submission, counts of problems, and status, from the year's submissions and problems."""
    latest: dict[str, SubmissionRecord] = {}
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
        row = UnitRow(u.code, u.name, u.type_label, u.contact, Status.MISSING, versions=versions.get(u.code, 0))
        s = latest.get(u.code)
        if s is not None:
            its = issues.get(s.id, [])
            row.status, row.path, row.received_at, row.on_time, row.submission = (
                s.status, s.path, s.received_at, s.on_time, s)
            row.errors = sum(i.severity is Severity.ERROR for i in its)
            row.warnings = sum(i.severity is Severity.WARNING for i in its)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class UnitCounts:
    """The counts every summary of the units shows."""

    expected: int
    received: int
    valid: int      # counted: accepted by the checks or by the officer
    rejected: int
    on_time: int
    late: int
    missing: int
    by_status: dict[Status, int]  # every status, if only as 0

    def to_dict(self) -> dict:
        """The counts alone, as the report's data-quality appendix holds them."""
        return {"expected": self.expected, "received": self.received, "valid": self.valid,
                "rejected": self.rejected, "on_time": self.on_time, "late": self.late, "missing": self.missing}


def row_counts(rows: list[UnitRow]) -> UnitCounts:
    """The counts every summary of the units shows, from `unit_rows`."""
    by_status = {Status(k): n for k, n in counts((r.status for r in rows), every=True).items()}
    return UnitCounts(
        expected=len(rows), received=len(rows) - by_status[Status.MISSING],
        valid=sum(by_status[s] for s in ACCEPTED), rejected=by_status[Status.REJECTED],
        on_time=sum(r.on_time is True for r in rows), late=sum(r.on_time is False for r in rows),
        missing=by_status[Status.MISSING], by_status=by_status)


@dataclass
class YearStatus:
    """Completeness and timeliness of a year on a given day (`treem status`, the desk's
    overview): who was expected, who sent what, who to chase, and the officer's decisions."""

    year: int
    deadline: date
    today: date
    expected: int
    received: int
    valid: int
    with_errors: int
    on_time: int
    late: int
    missing: list[str] = field(default_factory=list)  # the units that sent nothing
    decisions: list[Decision] = field(default_factory=list)
    chase: list[UnitRow] = field(default_factory=list)  # the units to chase (status in TO_CHASE)

    @property
    def days_left(self) -> int:
        return (self.deadline - self.today).days

    @property
    def reporting_rate(self) -> float | None:
        """The share of expected units whose figures count, in per cent."""
        return round(100 * self.valid / self.expected, 1) if self.expected else None

    def to_dict(self) -> dict:
        return {
            "year": self.year, "deadline": self.deadline.isoformat(), "today": self.today.isoformat(),
            "days_left": self.days_left, "expected": self.expected, "received": self.received,
            "valid": self.valid, "with_errors": self.with_errors, "on_time": self.on_time, "late": self.late,
            "missing": self.missing, "reporting_rate": self.reporting_rate,
            "decisions": [d.to_dict() for d in self.decisions],
            "chase": [{"unit": r.unit, "name": r.name, "status": r.status.value, "status_label": r.status.label,
                       "person": r.contact.person, "phone": r.contact.phone, "email": r.contact.email}
                      for r in self.chase],
        }


def status(ws, year: int, today=None) -> YearStatus:
    """Completeness and timeliness: who was expected, who sent what, who to chase, and the
    officer's decisions."""
    with Store(ws.db_path) as store:
        rows = unit_rows(ws, year, for_year(store, year), store.issues_for_year(year))
    c = row_counts(rows)
    return YearStatus(
        year=year, deadline=ws.settings.deadline(year), today=today or date.today(),
        expected=c.expected, received=c.received, valid=c.valid, with_errors=c.rejected,
        on_time=c.on_time, late=c.late, missing=[r.unit for r in rows if r.status is Status.MISSING],
        decisions=decisions(ws, year), chase=[r for r in rows if r.status in TO_CHASE])

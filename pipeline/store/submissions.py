"""Where each unit stands for a year, as the officer sees it: the submissions with the officer's
decisions applied, the version of each unit that counts and its values, one row per unit, and
the counts every summary shows. The collect result, the validation report, `treem status`, the
report's data-quality appendix, merge, the export and the desk all read them from here (the
statuses and their rules are in status.py)."""

from __future__ import annotations

from datetime import date

from pipeline.base.problems import Severity
from pipeline.store.db import Store, SubmissionRecord
from pipeline.store.decisions import decisions, left_out_fields, officer_accepted
from pipeline.store.status import ACCEPTED, STATUS_LABELS, TO_CHASE, Status, counts


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


def counted_values(store: Store, year: int) -> dict[str, dict[str, float | str | None]]:
    """unit -> field -> value (number, or text for text fields) of the versions that count,
    as merge counts them: of a version the officer accepted despite errors, the values its
    errors point at are left out."""
    cur = current(store, year)
    vals = store.field_values([s.id for s in cur.values()])
    for s in cur.values():
        if s.status == Status.ACCEPTED_BY_OFFICER:
            for f in left_out_fields(store.issues(s.id)):
                vals[s.id].pop(f, None)
    return {unit: vals[s.id] for unit, s in cur.items()}


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
            "errors": sum(i["severity"] == Severity.ERROR for i in its),
            "warnings": sum(i["severity"] == Severity.WARNING for i in its),
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
    today = today or date.today()
    deadline = ws.settings.deadline(year)
    with Store(ws.db_path) as store:
        rows = unit_rows(ws, year, for_year(store, year), store.issues_for_year(year))
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

"""Where a received file stands: its status (with the Vietnamese label beside it) and the rules
that decide it. The one rule that accepts a file (`judged`), the one timeliness rule
(`lateness`), and the rule that makes a unit's latest version current (`supersede_older`).
The store keeps what these rules decide; it decides nothing itself."""

from __future__ import annotations

from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Iterable

from pipeline.base.problems import Severity, ValidationIssue, issue


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


def judged(identified: bool, severities: Iterable[Severity]) -> Status:
    """The accepted rule, the only one: a file from a known unit with no error is accepted,
    with warnings if it has any problem at all; anything else is rejected."""
    severities = list(severities)
    if not identified or Severity.ERROR in severities:
        return Status.REJECTED
    return Status.ACCEPTED_WITH_WARNINGS if severities else Status.ACCEPTED


def lateness(deadline: date, received: date) -> ValidationIssue | None:
    """The timeliness rule, the only one: a file received after the deadline's day is late
    (the problem says by how many days); on the day itself it is on time."""
    if received <= deadline:
        return None
    days = (received - deadline).days
    return issue("late-submission", received=f"{received:%d/%m/%Y}", deadline=f"{deadline:%d/%m/%Y}", days=days)


def counts(statuses: Iterable[str], every: bool = False) -> dict[str, int]:
    """How many of each status; with `every`, each status is there, if only as 0."""
    found = Counter(str(s) for s in statuses)
    if every:
        return {s.value: found.get(s.value, 0) for s in Status}
    return dict(found)


def store_submission(store, rec, values: list[dict], issues: list[ValidationIssue]) -> int:
    """Store one file with its values and problems and make the unit's latest version
    current: one transaction."""
    with store.transaction():
        sid = store.add_submission(rec, values, issues)
        if rec.unit:
            supersede_older(store, rec.year, rec.unit)
    return sid


def supersede_older(store, year: int, unit: str) -> None:
    """The latest version of a unit (by the save time recorded in the workbook, then the file's
    time, then the order received) is current; every older one becomes superseded, and what
    changed between two accepted versions is written to the audit log."""
    versions = store.versions(year, unit)
    if not versions:
        return
    latest = max(versions, key=lambda v: (v.saved_at or "", v.received_at, v.id))
    for v in versions:
        if v.id != latest.id and v.status != Status.SUPERSEDED:
            store.set_status(v.id, Status.SUPERSEDED, audit={"by": latest.id, "was": v.status.value})
            if v.status in ACCEPTED and latest.status in ACCEPTED:
                store.log_value_changes(year, unit, v.id, latest.id)


def rejudge(store, submission_ids: Iterable[int]) -> None:
    """An accepted submission's status again after its problems changed (a received date
    corrected, outliers found), by the one accepted rule."""
    for sid in submission_ids:
        if store.stored_status(sid) in (Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS):
            store.set_status(sid, judged(True, store.severities(sid)))

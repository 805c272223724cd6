"""The embedded SQLite store: submissions, values with their source cells, problems, merged
figures and an append-only audit log. The only module that speaks SQL.

Each submitted file is written whole or not at all (a few files share one transaction), so an
interrupted run leaves either the whole file or none of it; re-running finishes the job."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.base.problems import Severity, ValidationIssue
from pipeline.store.status import STORED, Status

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    archived TEXT,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    saved_at TEXT,
    collected_at TEXT NOT NULL,
    unit TEXT,
    identity_source TEXT,
    template_version TEXT,
    status TEXT NOT NULL CHECK (status IN ({stored})),
    on_time INTEGER,
    UNIQUE (year, sha256)
);
CREATE INDEX IF NOT EXISTS submissions_unit ON submissions (year, unit);
CREATE TABLE IF NOT EXISTS submission_paths (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    path TEXT NOT NULL,
    PRIMARY KEY (submission_id, path)
);
CREATE TABLE IF NOT EXISTS submission_values (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    field TEXT NOT NULL,
    value REAL,
    text TEXT,
    sheet TEXT,
    cell TEXT,
    PRIMARY KEY (submission_id, field)
);
CREATE TABLE IF NOT EXISTS issues (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    sheet TEXT,
    cell TEXT,
    field TEXT,
    message TEXT NOT NULL,
    rule TEXT,
    PRIMARY KEY (submission_id, seq)
);
CREATE TABLE IF NOT EXISTS merged (
    year INTEGER NOT NULL,
    scope TEXT NOT NULL,
    indicator TEXT NOT NULL,
    value REAL,
    numerator REAL,
    denominator REAL,
    units_reported INTEGER,
    detail TEXT,
    PRIMARY KEY (year, scope, indicator)
);
CREATE TABLE IF NOT EXISTS merged_fields (
    year INTEGER NOT NULL,
    unit TEXT NOT NULL,
    field TEXT NOT NULL,
    value REAL,
    text TEXT,
    PRIMARY KEY (year, unit, field)
);
CREATE TABLE IF NOT EXISTS merge_runs (
    year INTEGER PRIMARY KEY,
    merged_at TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    year INTEGER,
    unit TEXT,
    action TEXT NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    submission_id INTEGER,
    detail TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""

SCHEMA = SCHEMA.replace("{stored}", ",".join(f"'{s.value}'" for s in STORED))

_ISSUE_COLUMNS = "submission_id, seq, code, severity, sheet, cell, field, message, rule"
_INSERT_ISSUE = f"INSERT INTO issues ({_ISSUE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"


def _issue_row(submission_id: int, seq: int, i: ValidationIssue) -> tuple:
    return (submission_id, seq, i.code, i.severity.value, i.sheet, i.cell, i.field, i.message, i.rule)


# A stored problem's columns in the order of ValidationIssue's fields: ValidationIssue(*row)
# (its severity the enum again). A year of a national roster has hundreds of thousands.
_ISSUE_FIELDS = "code, severity, message, sheet, cell, field, rule"


def now_iso() -> str:
    return datetime.now().isoformat(timespec="seconds")


@dataclass
class SubmissionRecord:
    """One received file as stored."""

    year: int
    sha256: str
    path: str
    size: int
    received_at: str
    status: Status
    unit: str | None = None
    saved_at: str | None = None
    identity_source: str | None = None
    template_version: str | None = None
    archived: str | None = None
    on_time: bool | None = None
    collected_at: str = ""
    id: int | None = None
    paths: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.status = Status(self.status)


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        # Stores made before issues kept the breached rule's code get the column now.
        if "rule" not in {r["name"] for r in self.db.execute("PRAGMA table_info(issues)")}:
            self.db.execute("ALTER TABLE issues ADD COLUMN rule TEXT")
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self):
        """All or nothing. Inside another transaction it is a savepoint: it can fail alone,
        and the outer one commits everything at once (cheaper than a commit per file)."""
        if self.db.in_transaction:
            self.db.execute("SAVEPOINT part")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK TO part")
                self.db.execute("RELEASE part")
                raise
            self.db.execute("RELEASE part")
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- submissions ---
    def known_hashes(self, year: int) -> dict[str, int]:
        rows = self.db.execute("SELECT sha256, id FROM submissions WHERE year=?", (year,))
        return {r["sha256"]: r["id"] for r in rows}

    def add_path(self, submission_id: int, path: str) -> bool:
        """Record another name under which already-stored content arrived."""
        cur = self.db.execute("INSERT OR IGNORE INTO submission_paths VALUES (?, ?)", (submission_id, path))
        return cur.rowcount > 0

    def add_submission(self, rec: SubmissionRecord, values: list[dict], issues: list[ValidationIssue]) -> int:
        """Store one file with its values and problems (status.store_submission also makes the
        unit's latest version current). One transaction."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO submissions (year, sha256, path, archived, size, received_at, saved_at, collected_at,"
                " unit, identity_source, template_version, status, on_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (rec.year, rec.sha256, rec.path, rec.archived, rec.size, rec.received_at, rec.saved_at,
                 rec.collected_at or now_iso(), rec.unit, rec.identity_source, rec.template_version, rec.status.value,
                 None if rec.on_time is None else int(rec.on_time)),
            )
            sid = cur.lastrowid
            db.execute("INSERT INTO submission_paths VALUES (?, ?)", (sid, rec.path))
            db.executemany(
                "INSERT INTO submission_values VALUES (?,?,?,?,?,?)",
                [(sid, v["field"], v.get("value"), v.get("text"), v.get("sheet"), v.get("cell")) for v in values],
            )
            db.executemany(_INSERT_ISSUE, [_issue_row(sid, n, i) for n, i in enumerate(issues)])
            self._audit(db, rec.year, rec.unit, "received", submission_id=sid,
                        detail={"path": rec.path, "sha256": rec.sha256, "status": rec.status.value})
        rec.id = sid
        return sid

    def versions(self, year: int, unit: str) -> list[SubmissionRecord]:
        """Every stored version of a unit's file for a year, in the order received (read by the
        index on year and unit: collect asks this after storing each file)."""
        return self.submissions(year, unit)

    def stored_status(self, submission_id: int) -> Status | None:
        row = self.db.execute("SELECT status FROM submissions WHERE id=?", (submission_id,)).fetchone()
        return None if row is None else Status(row[0])

    def severities(self, submission_id: int) -> list[Severity]:
        return [Severity(r[0])
                for r in self.db.execute("SELECT severity FROM issues WHERE submission_id=?", (submission_id,))]

    def set_status(self, submission_id: int, status: Status, audit: dict | None = None) -> None:
        """Record a status decided by the rules of status.py; `audit` logs it (a version superseded)."""
        with self.transaction() as db:
            row = db.execute("SELECT year, unit, status FROM submissions WHERE id=?", (submission_id,)).fetchone()
            if row is None or row["status"] == status.value:
                return
            db.execute("UPDATE submissions SET status=? WHERE id=?", (status.value, submission_id))
            if audit is not None:
                self._audit(db, row["year"], row["unit"], status.value, submission_id=submission_id, detail=audit)

    def log_value_changes(self, year: int, unit: str, old_id: int, new_id: int) -> None:
        """Write to the audit log every value that differs between two versions of a unit's file."""
        db = self.db
        old = {r["field"]: r for r in db.execute("SELECT * FROM submission_values WHERE submission_id=?", (old_id,))}
        new = {r["field"]: r for r in db.execute("SELECT * FROM submission_values WHERE submission_id=?", (new_id,))}
        for f in sorted(set(old) | set(new)):
            a, b = old.get(f), new.get(f)
            va = None if a is None else (a["value"] if a["value"] is not None else a["text"])
            vb = None if b is None else (b["value"] if b["value"] is not None else b["text"])
            if va != vb:
                self._audit(db, year, unit, "value-changed", field=f, old=va, new=vb, submission_id=new_id)

    @staticmethod
    def _audit(db, year, unit, action, field=None, old=None, new=None, submission_id=None, detail=None) -> None:
        db.execute(
            "INSERT INTO audit (at, year, unit, action, field, old_value, new_value, submission_id, detail)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (now_iso(), year, unit, action, field, None if old is None else str(old),
             None if new is None else str(new), submission_id,
             None if detail is None else json.dumps(detail, ensure_ascii=False)),
        )

    def log(self, action: str, year: int | None = None, unit: str | None = None, **detail) -> None:
        with self.transaction() as db:
            self._audit(db, year, unit, action, detail=detail or None)

    def submissions(self, year: int, unit: str | None = None) -> list[SubmissionRecord]:
        """Every stored file of a year (of one unit, when given), in the order received."""
        where, args = ("s.year=?", (year,)) if unit is None else ("s.year=? AND s.unit=?", (year, unit))
        paths: dict[int, list[str]] = {}
        for r in self.db.execute(
            "SELECT p.submission_id, p.path FROM submission_paths p JOIN submissions s ON s.id=p.submission_id"
            f" WHERE {where} ORDER BY p.path", args
        ):
            paths.setdefault(r[0], []).append(r[1])
        out = []
        for r in self.db.execute(f"SELECT * FROM submissions s WHERE {where} ORDER BY id", args):
            d = dict(r)
            d["on_time"] = None if d["on_time"] is None else bool(d["on_time"])
            out.append(SubmissionRecord(**d, paths=paths.get(r["id"], [])))
        return out

    # --- officer decisions (kept in the audit log only: decisions.py says what they mean) ---
    def decide(self, year: int, unit: str | None, action: str, submission_id: int | None, detail: dict) -> dict:
        """Log one decision; returns its row."""
        with self.transaction() as db:
            self._audit(db, year, unit, action, submission_id=submission_id, detail=detail)
            row = db.execute("SELECT * FROM audit WHERE id=last_insert_rowid()").fetchone()
        return dict(row)

    def log_entries(self, year: int, actions: tuple[str, ...]) -> list[dict]:
        """The year's audit-log entries of these actions, oldest first."""
        marks = ",".join("?" * len(actions))
        return [dict(r) for r in self.db.execute(
            f"SELECT * FROM audit WHERE year=? AND action IN ({marks}) ORDER BY id", (year, *actions))]

    def set_received(self, submission_id: int, received_at: str, on_time: bool,
                     late: ValidationIssue | None) -> None:
        """Correct a stored file's received date, its timeliness and its late-submission problem
        (the decision itself is in the audit log; status.rejudge re-derives the status)."""
        with self.transaction() as db:
            db.execute("UPDATE submissions SET received_at=?, on_time=? WHERE id=?",
                       (received_at, int(on_time), submission_id))
            db.execute("DELETE FROM issues WHERE submission_id=? AND code='late-submission'", (submission_id,))
            if late is not None:
                start = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM issues WHERE submission_id=?",
                                   (submission_id,)).fetchone()[0]
                db.execute(_INSERT_ISSUE, _issue_row(submission_id, start, late))

    def issues(self, submission_id: int) -> list[ValidationIssue]:
        """The problems of a stored file, in the order found."""
        cur = self.db.cursor()
        cur.row_factory = None
        return [ValidationIssue(*r) for r in cur.execute(
            f"SELECT {_ISSUE_FIELDS} FROM issues WHERE submission_id=? ORDER BY seq", (submission_id,))]

    def issues_for_year(self, year: int) -> dict[int, list[ValidationIssue]]:
        """submission -> its problems in the order found, for every file of the year."""
        out: dict[int, list[ValidationIssue]] = {}
        cur = self.db.cursor()
        cur.row_factory = None
        for sid, *r in cur.execute(
            f"SELECT i.submission_id, {_ISSUE_FIELDS} FROM issues i JOIN submissions s ON s.id=i.submission_id"
            " WHERE s.year=? ORDER BY i.submission_id, i.seq", (year,)
        ):
            out.setdefault(sid, []).append(ValidationIssue(*r))
        return out

    def replace_issues(self, year: int, code: str, by_submission: dict[int, list[ValidationIssue]]) -> set[int]:
        """Replace the year's problems of one code computed across units (outliers); returns
        the submissions whose problems changed (their status is re-derived by status.rejudge)."""
        with self.transaction() as db:
            touched = {r[0] for r in db.execute(
                "SELECT i.submission_id FROM issues i JOIN submissions s ON s.id=i.submission_id"
                " WHERE s.year=? AND i.code=?", (year, code))}
            db.execute("DELETE FROM issues WHERE code=? AND submission_id IN (SELECT id FROM submissions"
                       " WHERE year=?)", (code, year))
            for sid, issues in by_submission.items():
                start = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM issues WHERE submission_id=?",
                                   (sid,)).fetchone()[0]
                db.executemany(_INSERT_ISSUE, [_issue_row(sid, start + n, i) for n, i in enumerate(issues)])
                touched.add(sid)
        return touched

    def submission_years(self) -> list[int]:
        """The years anything was received for, oldest first."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT year FROM submissions ORDER BY year")]

    def values(self, submission_ids: list[int]) -> dict[int, dict[str, dict]]:
        """submission -> field -> {field, value, text, sheet, cell}."""
        out: dict[int, dict[str, dict]] = {i: {} for i in submission_ids}
        for sid, name, value, text, sheet, cell in self._value_rows("field, value, text, sheet, cell", submission_ids):
            out[sid][name] = {"submission_id": sid, "field": name, "value": value, "text": text,
                              "sheet": sheet, "cell": cell}
        return out

    def field_values(self, submission_ids: list[int]) -> dict[int, dict[str, float | str | None]]:
        """submission -> field -> its number, or its text where it has none: the values alone,
        one small dict per file (a national roster's half a million values as dicts of all
        their columns took 300 MB)."""
        out: dict[int, dict[str, float | str | None]] = {i: {} for i in submission_ids}
        names: dict[str, str] = {}  # one string per field code, not one per value
        for sid, name, value, text in self._value_rows("field, value, text", submission_ids):
            out[sid][names.setdefault(name, name)] = value if value is not None else text
        return out

    def numbers(self, submission_ids: list[int]) -> dict[int, dict[str, float]]:
        """submission -> field -> number: the numeric values alone, for checks across units."""
        out: dict[int, dict[str, float]] = {i: {} for i in submission_ids}
        for sid, name, value in self._value_rows("field, value", submission_ids, "value IS NOT NULL"):
            out[sid][name] = value
        return out

    def _value_rows(self, columns: str, submission_ids: list[int], condition: str = "1"):
        """(submission_id, *columns) of the values of these submissions. Read as plain tuples, in
        chunks (SQLite caps the parameters of one statement), since a national roster has
        half a million values."""
        cur = self.db.cursor()
        cur.row_factory = None
        for start in range(0, len(submission_ids), 900):
            chunk = submission_ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            yield from cur.execute(f"SELECT submission_id, {columns} FROM submission_values"
                                   f" WHERE {condition} AND submission_id IN ({marks})", chunk)

    def audit(self, year: int | None = None, last: int | None = None) -> list[dict]:
        """The audit log in order; with `last`, only the latest so many entries."""
        q, args = "SELECT * FROM audit", ()
        if year is not None:
            q, args = q + " WHERE year=?", (year,)
        if last is not None:
            rows = [dict(r) for r in self.db.execute(q + " ORDER BY id DESC LIMIT ?", (*args, last))]
            return rows[::-1]
        return [dict(r) for r in self.db.execute(q + " ORDER BY id", args)]

    # --- merged figures ---
    def save_merge(self, year: int, rows: list[dict], unit_fields: list[dict], summary: dict) -> None:
        """Replace the year's merged figures at once."""
        with self.transaction() as db:
            db.execute("DELETE FROM merged WHERE year=?", (year,))
            db.execute("DELETE FROM merged_fields WHERE year=?", (year,))
            db.executemany(
                "INSERT INTO merged VALUES (?,?,?,?,?,?,?,?)",
                [(year, r["scope"], r["indicator"], r.get("value"), r.get("numerator"), r.get("denominator"),
                  r.get("units_reported"), json.dumps(r.get("detail") or {}, ensure_ascii=False)) for r in rows],
            )
            db.executemany(
                "INSERT INTO merged_fields VALUES (?,?,?,?,?)",
                [(year, r["unit"], r["field"], r.get("value"), r.get("text")) for r in unit_fields],
            )
            db.execute("INSERT OR REPLACE INTO merge_runs VALUES (?,?,?)",
                       (year, now_iso(), json.dumps(summary, ensure_ascii=False)))
            self._audit(db, year, None, "merged", detail={"rows": len(rows)})

    def merged(self, year: int) -> list[dict]:
        out = []
        for r in self.db.execute("SELECT * FROM merged WHERE year=?", (year,)):
            d = dict(r)
            d["detail"] = json.loads(d["detail"] or "{}")
            out.append(d)
        return out

    def merged_fields(self, year: int) -> dict[str, dict[str, float | str | None]]:
        out: dict[str, dict] = {}
        for r in self.db.execute("SELECT unit, field, value, text FROM merged_fields WHERE year=?", (year,)):
            out.setdefault(r["unit"], {})[r["field"]] = r["value"] if r["value"] is not None else r["text"]
        return out

    def merge_summary(self, year: int) -> dict | None:
        r = self.db.execute("SELECT summary, merged_at FROM merge_runs WHERE year=?", (year,)).fetchone()
        return None if r is None else {**json.loads(r["summary"]), "merged_at": r["merged_at"]}

    def merged_years(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT year FROM merge_runs ORDER BY year")]


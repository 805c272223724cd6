"""Where each unit stands: the statuses and their labels, the one accepted rule, and no status
written as a bare string anywhere else in the package."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import VIETNAMESE
from pipeline.base.problems import ERROR, WARNING
from pipeline.store.db import SCHEMA
from pipeline.store.status import ACCEPTED, STATUS_LABELS, STORED, Status, counts, judged

PACKAGE = Path(__file__).parent.parent / "pipeline"


def test_every_status_has_one_vietnamese_label():
    assert set(STATUS_LABELS) == set(Status)
    assert all(VIETNAMESE.search(s.label) for s in Status)
    assert len(set(STATUS_LABELS.values())) == len(Status)


def test_the_accepted_rule():
    assert judged(True, []) == Status.ACCEPTED
    assert judged(True, [WARNING, WARNING]) == Status.ACCEPTED_WITH_WARNINGS
    assert judged(True, [WARNING, ERROR]) == Status.REJECTED
    assert judged(False, []) == Status.REJECTED  # nobody to credit the figures to
    assert ACCEPTED == {Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS, Status.ACCEPTED_BY_OFFICER}


def test_counts_name_every_status_when_asked():
    assert counts(["accepted", "rejected", "accepted"]) == {"accepted": 2, "rejected": 1}
    assert counts(["missing"], every=True) == {s.value: int(s == Status.MISSING) for s in Status}


def test_the_store_holds_the_stored_statuses():
    (check,) = re.findall(r"CHECK \(status IN \(([^)]*)\)\)", SCHEMA)
    assert check.replace("'", "").split(",") == [s.value for s in STORED]


# The same words used for something else.
NOT_STATUSES = {
    ("db.py", "superseded"),  # the audit log's action when a version is replaced
    ("db.py", "rejected"),  # a comment
    ("api.py", "rejected"),  # a docstring's example of a DataFrame
    ("context.py", "rejected"), ("submissions.py", "rejected"),  # a key of UnitCounts.to_dict
}


def test_no_status_is_written_as_a_bare_string_outside_the_module():
    values = "|".join(re.escape(s.value) for s in Status if s != Status.MISSING)  # "missing" is a common word
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name != "status.py":
            found |= {(path.name, v) for v in re.findall(rf"[\"']({values})[\"']", path.read_text(encoding="utf-8"))}
    assert found - NOT_STATUSES == set()


def test_storing_a_file_reads_only_its_units_versions(tmp_path, monkeypatch):
    """Collect makes each unit's latest file current as it stores it: that reads the unit's
    own versions, not the whole year's files (10,000 files would be 50 million rows read)."""
    from pipeline.store.db import Store, SubmissionRecord
    from pipeline.store.status import store_submission

    def rec(unit: str, n: int) -> SubmissionRecord:
        return SubmissionRecord(year=2024, sha256=f"{unit}-{n}", path=f"{unit}_{n}.xlsx", size=1,
                                received_at=f"2024-11-1{n}T09:00:00", status=Status.ACCEPTED, unit=unit,
                                saved_at=f"2024-11-1{n}T08:00:00", collected_at="now")

    with Store(tmp_path / "treem.sqlite") as store:
        for u in ("15700", "15703", "15706"):
            store_submission(store, rec(u, 1), [{"field": "children_total", "value": 1}], [])
        asked = []
        whole_year = Store.submissions
        monkeypatch.setattr(Store, "submissions", lambda self, year, unit=None: asked.append(unit) or
                            whole_year(self, year, unit))
        store_submission(store, rec("15703", 2), [{"field": "children_total", "value": 2}], [])
        assert asked == ["15703"]
        versions = store.versions(2024, "15703")
        assert [(v.path, v.status, v.paths) for v in versions] == [
            ("15703_1.xlsx", Status.SUPERSEDED, ["15703_1.xlsx"]), ("15703_2.xlsx", Status.ACCEPTED, ["15703_2.xlsx"])]
        assert versions == [s for s in whole_year(store, 2024) if s.unit == "15703"]

"""The typed result of collecting: one `CollectResult` holding a `FileOutcome` per stored file
(its `Status` and its problems), the `SkippedFile`s left in the inbox, and the `CollectOutputs`
written (the validation report and a `FeedbackCopy` per unit told to check or fix its file).
`collect` makes it; the CLI's text and `--json` (its `to_dict()`) and the desk read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.base.problems import SkippedFile, ValidationIssue
from pipeline.store.db import SubmissionRecord
from pipeline.store.status import Status, counts


@dataclass
class FileOutcome:
    """One stored file of the year as the officer sees it (decisions applied): where it came
    from, who sent it, how it stands and what was found in it."""

    path: str                     # below the inbox, as first received
    paths: list[str]              # every name the same content came under
    sha256: str
    unit: str | None              # None: the sender could not be told
    status: Status
    received_at: str
    saved_at: str | None          # when the unit's Excel saved it, from the workbook
    on_time: bool | None
    identity_source: str | None   # how the sender was told: "metadata", "content", "filename", "imported"
    issues: list[ValidationIssue] = field(default_factory=list)

    @classmethod
    def of(cls, s: SubmissionRecord, issues: list[ValidationIssue]) -> FileOutcome:
        return cls(s.path, s.paths, s.sha256, s.unit, s.status, s.received_at, s.saved_at, s.on_time,
                   s.identity_source, issues)

    def to_dict(self) -> dict:
        return {"path": self.path, "paths": self.paths, "sha256": self.sha256, "unit": self.unit,
                "status": self.status.value, "received_at": self.received_at, "saved_at": self.saved_at,
                "on_time": self.on_time, "identity_source": self.identity_source,
                "issues": [i.to_dict() for i in self.issues]}


@dataclass(frozen=True)
class FeedbackCopy:
    """A unit's own workbook sent back with its problems marked, and the status of the version
    it was made from (REJECTED: the unit must fix and resend; otherwise warnings to check)."""

    unit: str
    path: Path
    status: Status


@dataclass
class CollectOutputs:
    """What collecting wrote: the validation report, the feedback copies (None when not asked
    for) and the output guard's lines (an edited file kept)."""

    validation_report: Path
    feedback: list[FeedbackCopy] | None = None
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out: dict = {"validation_report": str(self.validation_report)}
        if self.feedback is not None:
            out["feedback"] = [str(f.path) for f in self.feedback]
        out["messages"] = [str(m) for m in self.messages]
        return out


@dataclass
class CollectResult:
    year: int
    submissions: list[FileOutcome] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # the units that sent nothing
    skipped: list[SkippedFile] = field(default_factory=list)
    new_files: int = 0
    outputs: CollectOutputs | None = None
    warnings: list[str] = field(default_factory=list)  # settings that no longer fit the year

    def to_dict(self) -> dict:
        return {"year": self.year, "submissions": [s.to_dict() for s in self.submissions], "missing": self.missing,
                "skipped": [k.to_dict() for k in self.skipped], "new_files": self.new_files,
                "warnings": self.warnings, "outputs": self.outputs.to_dict() if self.outputs else {},
                "counts": self.counts()}

    def counts(self) -> dict[str, int]:
        """How many stored files of each status, and how many units sent nothing ("missing")."""
        return counts(s.status for s in self.submissions) | {Status.MISSING.value: len(self.missing)}

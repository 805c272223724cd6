"""Stage 2: collect whatever is in the shared folder, read and validate it, store it, and
write the validation report and each unit's feedback workbook.

The inbox is never modified: every file read is copied into the archive under its content
hash, so no version is lost. Files are parsed in worker processes with a memory limit and a
time limit, because a hostile file can crash a native parser; one bad file only ever costs
its own result."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from pipeline.base.errors import UnreadableFile
from pipeline.base.fsutil import sha256_file
from pipeline.base.problems import ERROR, SkippedFile, ValidationIssue, issue, skipped_file
from pipeline.collect.result import CollectResult, FileOutcome
from pipeline.store.history import previous_values
from pipeline.collect.ingest import FormSpec, read
from pipeline.base.library_internals import pool_processes
from pipeline.collect.precheck import Limits
from pipeline.store.db import Store, SubmissionRecord, now_iso
from pipeline.store.decisions import received_overrides
from pipeline.store.status import Status, lateness, rejudge, store_submission
from pipeline.store.submissions import current as current_versions, for_year
from pipeline.forms.contract import load_wording, note_name
from pipeline.base.workers import exit_with_parent, mp_context
from pipeline.config.workspace import WORKBOOK_WORDING
from pipeline.collect.validate import Checked, Identity, Validator, outliers, unit_named_in

# Partial downloads and office lock files are not submissions.
_IN_PROGRESS_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download", ".opdownload")
_SETTLE_SECONDS = 2.0
_SYSTEM_FILES = {"desktop.ini", "thumbs.db", ".ds_store", ".gitkeep"}
MEMORY_LIMIT = 1536 * 1024 * 1024
FILE_TIMEOUT = 30.0
BATCH = 8
# Excel on Windows locks a workbook it has open: reading it fails until the officer closes it.
LOCKED_MESSAGE = skipped_file("unreadable-file", "").message


@dataclass
class InboxFile:
    path: Path
    relative: str
    size: int
    mtime: float
    listed_at: float = 0.0


def scan_inbox(inbox: Path, settle: bool = True) -> tuple[list[InboxFile], list[SkippedFile]]:
    """Every regular file below the inbox, sorted; what is not taken is said, never dropped
    silently. Symbolic links are never followed out of the inbox. Without `settle`, files
    written moments ago are not looked at twice (for a quick count)."""
    files, skipped = [], []
    if not inbox.exists():
        return files, skipped
    root = inbox.resolve()
    now = time.time()
    for dirpath, dirnames, filenames in os.walk(inbox, followlinks=False):
        dirnames.sort()
        for name in list(dirnames):
            d = Path(dirpath) / name
            if d.is_symlink() and _link_target(d, root) == "outside":
                skipped.append(skipped_file("link-outside-inbox", _shown_path(d, inbox), "folder"))
        for name in sorted(filenames):
            p = Path(dirpath) / name
            rel = _shown_path(p, inbox)
            if name.lower() in _SYSTEM_FILES:
                continue  # written by Windows or macOS into any folder: not a submission
            if name.startswith("~$") or name.startswith(".~lock."):
                skipped.append(skipped_file("office-lock-file", rel))
                continue
            if name.lower().endswith(_IN_PROGRESS_SUFFIXES):
                skipped.append(skipped_file("file-in-progress", rel))
                continue
            if p.is_symlink():
                where = _link_target(p, root)
                if where == "outside":
                    skipped.append(skipped_file("link-outside-inbox", rel))
                    continue
                if where == "broken":
                    skipped.append(skipped_file("broken-link", rel))
                    continue
            try:
                st = p.stat()
            except OSError:
                skipped.append(skipped_file("unreadable-file", rel))
                continue
            if not p.is_file():
                continue
            files.append(InboxFile(p, rel, st.st_size, st.st_mtime, now))
    # A file written in the last moments may still be arriving: look once more after a
    # short pause and leave any that changed for the next run.
    fresh = [f for f in files if now - f.mtime < _SETTLE_SECONDS] if settle else []
    if fresh:
        time.sleep(0.5)
        for f in fresh:
            try:
                st = f.path.stat()
                changed = (st.st_size, st.st_mtime) != (f.size, f.mtime)
            except OSError:
                changed = True
            if changed:
                files.remove(f)
                skipped.append(_arriving(f))
    return files, skipped


def _link_target(p: Path, root: Path) -> str:
    """Where a symbolic link leads: "inside" the inbox, "outside" it, or "broken" (nowhere,
    or round in a loop)."""
    try:
        target = p.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a loop, before Python 3.13
        return "broken"
    return "inside" if target.is_relative_to(root) else "outside"


def _shown_path(p: Path, inbox: Path) -> str:
    """The file's path below the inbox as text that can be stored and printed: a name that is
    not valid Unicode (bytes from another code page) keeps its readable part."""
    return os.fsencode(p.relative_to(inbox)).decode("utf-8", "replace")


def _arriving(f: InboxFile) -> SkippedFile:
    return skipped_file("file-in-progress", f.relative, "arriving")


# What reading a file that is only partly written looks like.
_PARTIAL_FILE_CODES = frozenset({"empty-file", "truncated-file", "not-a-workbook", "unreadable-workbook"})


def _changed_while_read(f: InboxFile, res: FileResult) -> bool:
    """Whether the file moved under us: it changed after it was listed, or it was written
    moments ago and reads as cut short. Such a file is left for the next run instead of being
    stored half-read. (What is stored, archived and hashed is always the one copy of the bytes
    that was read.)"""
    try:
        st = f.path.stat()
    except OSError:
        return True
    if (st.st_size, st.st_mtime) != (f.size, f.mtime):
        return True
    return (res.outcome == "unreadable" and res.problem.code in _PARTIAL_FILE_CODES
            and f.listed_at - f.mtime < _SETTLE_SECONDS)


# --- worker side ---
@dataclass
class FileResult:
    """What a worker made of one file. `outcome` is "ok" (read and judged: `checked`),
    "unreadable" (`problem` says why), "known" (the same bytes are stored already) or "gone"
    (the file could not be opened in the inbox). `sha256` is None when the file could not be
    read at all."""

    outcome: str
    path: str
    sha256: str | None
    saved_at: str | None = None
    kind: str | None = None
    checked: Checked | None = None
    problem: ValidationIssue | None = None


def _refused(path: str, sha: str | None, code: str, variant: str | None = None, **values) -> FileResult:
    return FileResult("unreadable", path, sha, problem=issue(code, variant, severity=ERROR, **values))


_validator: Validator | None = None
_spec: FormSpec | None = None
_archive_root: Path | None = None
_known: frozenset[str] = frozenset()


def _init_worker(catalogue, roster, settings, year, sheet_names, previous, memory_limit, archive_root,
                 known=frozenset()) -> None:
    global _validator, _spec, _archive_root, _known
    _archive_root, _known = archive_root, known
    exit_with_parent()
    if memory_limit:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        except (ImportError, ValueError, OSError):
            pass  # not on this platform: the precheck limits still apply
    _validator = Validator(catalogue, roster, settings, year, sheet_names, previous)
    names = {f.code for f in catalogue.fields} | {note_name(f.code) for f in catalogue.fields}
    _spec = FormSpec(frozenset(names))


def _load(path: Path, limit: int) -> tuple[bytes | None, str]:
    """The file's bytes and their SHA-256, read once. A file larger than `limit` is only
    hashed (its bytes are None): precheck refuses it by its size."""
    with open(path, "rb") as fh:
        # At most the limit, and no more than the file holds (a large read buffer costs).
        data = fh.read(min(os.fstat(fh.fileno()).st_size, limit) + 1)
        h = hashlib.sha256(data)
        if len(data) <= limit:
            return data, h.hexdigest()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return None, h.hexdigest()


def _work(jobs: list[str]) -> list[FileResult]:
    """Hash, archive, read and validate files; runs in a worker process."""
    out = []
    limits = Limits()
    for p in jobs:
        path = Path(p)
        try:
            data, sha = _load(path, limits.max_file_bytes)
        except OSError:
            out.append(FileResult("gone", p, None))
            continue
        if sha in _known:
            out.append(FileResult("known", p, sha))
            continue
        try:
            archive_copy(_archive_root, path, sha, data)
        except OSError:
            pass  # the main process notices the missing copy and says so
        try:
            reading = read(path, _spec, limits, data)
            checked = _validator.check(reading)
            out.append(FileResult("ok", p, sha, reading.saved_at, reading.kind, checked))
        except UnreadableFile as e:  # its message was built from the problem table
            out.append(FileResult("unreadable", p, sha, problem=ValidationIssue(e.code, ERROR, str(e))))
        except MemoryError:
            out.append(_refused(p, sha, "too-much-memory"))
        except Exception as e:  # noqa: BLE001 — one strange file must never stop the others
            out.append(_refused(p, sha, "unreadable-workbook", "reader-error", error=type(e).__name__))
    return out


class _Pool:
    """Worker processes that are replaced when a native parser kills one. Batches whose
    worker died are retried file by file, so only the culprit is lost."""

    def __init__(self, initargs, workers: int):
        self.initargs, self.workers = initargs, workers
        self.pool = self._new()

    def _new(self):
        return ProcessPoolExecutor(self.workers, mp_context=mp_context(), initializer=_init_worker,
                                   initargs=self.initargs)

    def run(self, batches: list[list[str]], on_results: Callable[[list[FileResult]], None]) -> None:
        """Read every batch; `on_results` gets the results of each batch as it is done (or of
        one file the pool gave up on)."""
        pending = {}
        queue = list(reversed(batches))
        retry_single: list[str] = []
        # After a worker died, files go one at a time: when a pool breaks with several files
        # in it, nobody can tell which one killed it, and an innocent file must not be blamed.
        serial = False
        while queue or pending:
            while queue and len(pending) < (1 if serial else self.workers * 4):
                batch = queue.pop()
                pending[self.pool.submit(_work, batch)] = (batch, time.monotonic())
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                batch, _ = pending.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool:
                    broken = True
                    self._requeue(batch, queue, on_results, retry_single)
                else:
                    on_results(results)
            stuck = [f for f, (b, t0) in pending.items() if time.monotonic() - t0 > FILE_TIMEOUT * len(b)]
            if stuck or broken:
                for fut, (batch, _) in list(pending.items()):
                    pending.pop(fut)
                    if fut in stuck and len(batch) == 1:
                        on_results([_refused(batch[0], None, "read-timeout")])
                    else:
                        self._requeue(batch, queue, on_results, retry_single)
                self._restart()
                serial = True

    @staticmethod
    def _requeue(batch, queue, on_results, retry_single) -> None:
        if len(batch) == 1:
            if batch[0] in retry_single:
                on_results([_refused(batch[0], None, "reader-crashed")])
                return
            retry_single.append(batch[0])
        queue.extend([p] for p in batch)

    def _restart(self) -> None:
        self.kill()
        self.pool = self._new()

    def kill(self) -> None:
        for proc in pool_processes(self.pool):
            proc.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


# --- main side ---
def collect(ws, year: int, progress: Callable[[int], None] | None = None, workers: int | None = None,
            feedback: bool = True, force: bool = False) -> CollectResult:
    """Read every new file of input/YEAR, store it, and rewrite the year's reports. Running it
    again on the same inbox changes nothing; a new file adds a version."""
    from pipeline.collect.feedback import write_outputs
    from pipeline.config.settings import reorganisation_warnings

    ws = ws.for_year(year)
    result = CollectResult(year)
    result.warnings = reorganisation_warnings(ws.settings, year)
    files, result.skipped = scan_inbox(ws.inbox(year))
    with ws.lock("treem collect"), Store(ws.db_path) as store:
        settler = _Settler(ws, store, year, files, result, progress)
        if settler.by_path:
            _read_in_workers(ws, store, year, settler, workers)
        _cross_unit_checks(store, ws.catalogue, ws.roster, ws.settings, year, settler.numbers)
        subs, issues = for_year(store, year), store.issues_for_year(year)
        current = {s.unit for s in subs if s.unit and s.status != Status.SUPERSEDED}
        result.missing = [u.code for u in ws.roster.for_year(year) if u.code not in current]
        result.submissions = [FileOutcome.of(s, issues.get(s.id, [])) for s in subs]
        result.outputs = write_outputs(ws, year, result, subs, issues, feedback=feedback, force=force)
    return result


class _Settler:
    """Stores the workers' results in the order the files arrived (then by name), whatever
    order the workers finish in: the same inbox always gives the same store."""

    def __init__(self, ws, store: Store, year: int, files: list[InboxFile], result: CollectResult, progress):
        self.ws, self.store, self.year, self.result, self.progress = ws, store, year, result, progress
        self.deadline = ws.settings.deadline(year)
        self.known = store.known_hashes(year)
        self.received_dates = received_overrides(store, year)  # the officer's corrections (treem received)
        order = sorted(files, key=lambda f: (f.mtime, str(f.path)))
        self.by_path = {str(f.path): f for f in order}
        self.position = {p: n for n, p in enumerate(self.by_path)}
        self.waiting: dict[int, FileResult] = {}
        self.stored: dict[str, int] = {}  # content stored in this run -> its submission
        self.numbers: dict[int, dict[str, float]] = {}  # its numbers, for the checks across units
        self.next_up = 0

    def on_results(self, results: list[FileResult]) -> None:
        for res in results:
            self.waiting[self.position[res.path]] = res
        with self.store.transaction():  # a batch of files at a time: each whole or not at all
            while self.next_up in self.waiting:
                self.settle(self.waiting.pop(self.next_up))
                self.next_up += 1

    def settle(self, res: FileResult) -> None:
        f, what, sha = self.by_path[res.path], res.outcome, res.sha256
        result, store = self.result, self.store
        if sha is None and what != "gone":  # the reader never came back: hash it here
            try:
                sha = sha256_file(f.path)
            except OSError:
                what = "gone"
        if what == "gone":
            result.skipped.append(skipped_file("unreadable-file", f.relative))
        elif sha in self.known:  # stored by an earlier run (told by the worker, or found just now)
            store.add_path(self.known[sha], f.relative)
        elif sha in self.stored:  # the same content twice in this run: stored once, both names kept
            store.add_path(self.stored[sha], f.relative)
        elif _changed_while_read(f, res):
            result.skipped.append(_arriving(f))
            _archive_path(self.ws.archive, f.path, sha).unlink(missing_ok=True)  # half a file
            result.new_files += 1
        else:
            self.stored[sha] = sid = _store_one(self.ws, store, self.year, self.deadline, f, sha, res,
                                                self.received_dates)
            if what == "ok":
                self.numbers[sid] = {v["field"]: v["value"] for v in res.checked.values if v["value"] is not None}
            result.new_files += 1
        if self.progress:
            self.progress(1)


def _read_in_workers(ws, store: Store, year: int, settler: _Settler, workers: int | None) -> None:
    cat, roster, settings = ws.catalogue, ws.roster, ws.settings
    previous = previous_values(store, cat, roster, year)
    sheet_names = load_wording(ws.template(WORKBOOK_WORDING))["sheets"]
    initargs = (cat, roster, settings, year, sheet_names, previous, MEMORY_LIMIT, ws.archive,
                frozenset(settler.known))
    jobs = list(settler.by_path)
    workers = workers or max(1, min(os.cpu_count() or 1, 4, len(jobs)))
    # Files go to the workers (and into the store) a few at a time; a district's few
    # dozen go in small batches, so that the work is shared evenly.
    size = max(1, min(BATCH, len(jobs) // (8 * workers)))
    batches = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    pool = _Pool(initargs, workers)
    try:
        pool.run(batches, settler.on_results)
    except BaseException:
        pool.kill()  # a worker may be stuck in a file: do not wait for it
        raise
    pool.close()


def _store_one(ws, store: Store, year: int, deadline: date, f: InboxFile, sha: str, res: FileResult,
               received_dates: dict | None = None) -> int:
    archived = archive_copy(ws.archive, f.path, sha)  # normally already there, written by the worker
    # The file's time stands for its arrival, unless the officer said when it really came.
    said = (received_dates or {}).get(f"sha:{sha}") or (received_dates or {}).get(f"path:{f.relative}")
    received = datetime.fromisoformat(said["when"]) if said else datetime.fromtimestamp(f.mtime)
    rec = SubmissionRecord(year=year, sha256=sha, path=f.relative, size=f.size,
                           received_at=received.isoformat(timespec="seconds"), status=Status.REJECTED,
                           archived=str(archived.relative_to(ws.root)), collected_at=now_iso())
    late = lateness(deadline, received.date())
    rec.on_time = late is None
    if res.outcome == "unreadable":
        checked = Checked(Identity(None, None, None), issues=[res.problem])
        unit = _unit_from_name(ws, year, f.path)
        rec.unit = unit.code if unit else None
        rec.identity_source = "filename" if unit else None
    else:
        checked = res.checked
        rec.saved_at = _iso(res.saved_at)
        unit = checked.identity.unit
        rec.unit = unit.code if unit else None
        rec.identity_source = checked.identity.source
        rec.template_version = checked.identity.template_version
        if late is not None:
            checked.issues.append(late)
    rec.status = checked.status
    return store_submission(store, rec, checked.values, checked.issues)


def _unit_from_name(ws, year: int, path: Path):
    """Who sent an unreadable file, from its name only, so that the feedback reaches them."""
    return unit_named_in(ws.roster, path, year, ws.settings.deadline(year))


def _iso(saved_at: str | None) -> str | None:
    if not saved_at:
        return None
    try:
        return datetime.fromisoformat(saved_at.replace("Z", "+00:00")).astimezone().replace(tzinfo=None) \
            .isoformat(timespec="seconds")
    except ValueError:
        return None


def _archive_path(root: Path, src: Path, sha: str) -> Path:
    ext = "".join(c for c in src.suffix.lower() if c.isalnum() or c == ".")[:6] or ".bin"
    return root / sha[:2] / f"{sha}{ext}"


def archive_copy(root: Path, src: Path, sha: str, data: bytes | None = None) -> Path:
    """A copy under its content hash (of `data`, the bytes read, when given): the officer may
    clean the inbox, nothing is lost."""
    dst = _archive_path(root, src, sha)
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        if data is None:
            shutil.copyfile(src, tmp)
        else:
            tmp.write_bytes(data)
        os.replace(tmp, dst)
    return dst


def _cross_unit_checks(store: Store, cat, roster, settings, year: int, numbers: dict[int, dict[str, float]]) -> None:
    """Outliers among the current versions of all units; `numbers` holds those already at
    hand (read in this run), the others come from the store."""
    current = current_versions(store, year)
    numbers = {**numbers, **store.numbers([s.id for s in current.values() if s.id not in numbers])}
    by_unit = {u: numbers[s.id] for u, s in current.items()}
    on = settings.deadline(year)
    types = {u: unit.type for u in current if (unit := roster.get(u, on)) is not None}
    z = settings.check("outlier_z")
    found = outliers(cat, by_unit, z, types=types)
    with store.transaction():
        touched = store.replace_issues(year, "outlier", {current[u].id: issues for u, issues in found.items()})
        rejudge(store, touched)


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
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from pipeline.errors import UnreadableFile
from pipeline.history import previous_values
from pipeline.ingest import FormSpec, read
from pipeline.precheck import Limits
from pipeline.store import Store, SubmissionRecord, now_iso
from pipeline.template import load_wording, note_name
from pipeline.workspace import WORKBOOK_WORDING
from pipeline.validate import (Checked, Identity, ValidationIssue, Validator, late_issue, outliers,
                               unit_named_in)

# Partial downloads and office lock files are not submissions.
_IN_PROGRESS_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download", ".opdownload")
_SETTLE_SECONDS = 2.0
_SYSTEM_FILES = {"desktop.ini", "thumbs.db", ".ds_store", ".gitkeep"}
MEMORY_LIMIT = 1536 * 1024 * 1024
FILE_TIMEOUT = 30.0
BATCH = 8


@dataclass
class InboxFile:
    path: Path
    relative: str
    size: int
    mtime: float
    listed_at: float = 0.0


@dataclass
class CollectResult:
    year: int
    submissions: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    new_files: int = 0
    outputs: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"year": self.year, "submissions": self.submissions, "missing": self.missing,
                "skipped": self.skipped, "new_files": self.new_files,
                "outputs": {k: (str(v) if not isinstance(v, list) else [str(x) for x in v])
                            for k, v in self.outputs.items()},
                "counts": self.counts()}

    def counts(self) -> dict:
        c: dict[str, int] = {}
        for s in self.submissions:
            c[s["status"]] = c.get(s["status"], 0) + 1
        c["missing"] = len(self.missing)
        return c


def scan_inbox(inbox: Path, settle: bool = True) -> tuple[list[InboxFile], list[dict]]:
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
                skipped.append({"path": _shown_path(d, inbox), "code": "link-outside-inbox",
                                "message": "Lối tắt tới thư mục ngoài thư mục nhận tệp nên không được đọc; đề nghị "
                                           "chép chính các tệp vào thư mục."})
        for name in sorted(filenames):
            p = Path(dirpath) / name
            rel = _shown_path(p, inbox)
            if name.lower() in _SYSTEM_FILES:
                continue  # written by Windows or macOS into any folder: not a submission
            if name.startswith("~$") or name.startswith(".~lock."):
                skipped.append({"path": rel, "code": "office-lock-file",
                                "message": "Tệp khóa tạm của Excel/LibreOffice (không phải bài nộp), bỏ qua."})
                continue
            if name.lower().endswith(_IN_PROGRESS_SUFFIXES):
                skipped.append({"path": rel, "code": "file-in-progress",
                                "message": "Tệp đang tải về chưa xong, bỏ qua; chạy lại sau khi tải xong."})
                continue
            if p.is_symlink():
                where = _link_target(p, root)
                if where == "outside":
                    skipped.append({"path": rel, "code": "link-outside-inbox",
                                    "message": "Lối tắt trỏ ra ngoài thư mục nhận tệp nên không được đọc; đề nghị "
                                               "chép chính tệp vào thư mục."})
                    continue
                if where == "broken":
                    skipped.append({"path": rel, "code": "broken-link",
                                    "message": "Lối tắt hỏng (không trỏ tới tệp nào hoặc trỏ vòng) nên không được "
                                               "đọc; đề nghị chép chính tệp vào thư mục."})
                    continue
            try:
                st = p.stat()
            except OSError:
                skipped.append({"path": rel, "code": "unreadable-file", "message": "Không đọc được tệp (quyền truy cập)."})
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


def _arriving(f: InboxFile) -> dict:
    return {"path": f.relative, "code": "file-in-progress",
            "message": "Tệp đang được chép vào thư mục, bỏ qua lần này; chạy lại sau ít phút."}


# What reading a file that is only partly written looks like.
_PARTIAL_FILE_CODES = frozenset({"empty-file", "truncated-file", "not-a-workbook", "unreadable-workbook"})


def _changed_while_read(f: InboxFile, sha: str, res: tuple) -> bool:
    """Whether the file moved under us: it changed after it was listed and hashed, the bytes
    read are not the bytes hashed, or it was written moments ago and reads as cut short. Such
    a file is left for the next run instead of being stored half-read."""
    try:
        st = f.path.stat()
    except OSError:
        return True
    if (st.st_size, st.st_mtime) != (f.size, f.mtime):
        return True
    if res[0] == "ok":
        return res[5] != sha
    return res[2] in _PARTIAL_FILE_CODES and f.listed_at - f.mtime < _SETTLE_SECONDS


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- worker side ---
_validator: Validator | None = None
_spec: FormSpec | None = None
_archive_root: Path | None = None


def _init_worker(catalogue, roster, settings, year, sheet_names, previous, memory_limit, archive_root) -> None:
    global _validator, _spec, _archive_root
    _archive_root = archive_root
    _exit_with_parent()
    if memory_limit:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        except (ImportError, ValueError, OSError):
            pass  # not on this platform: the precheck limits still apply
    _validator = Validator(catalogue, roster, settings, year, sheet_names, previous)
    names = {f.code for f in catalogue.fields} | {note_name(f.code) for f in catalogue.fields}
    _spec = FormSpec(frozenset(names))


def _exit_with_parent() -> None:
    """A worker whose collect run was killed has nothing left to do: it leaves too, instead of
    waiting forever for work that will never come."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="treem-parent-watch", daemon=True).start()


def _work(jobs: list[tuple[str, str]]) -> list[tuple]:
    """Archive, read and validate (path, sha256) jobs; runs in a worker process."""
    out = []
    for p, sha in jobs:
        try:
            _archive(_archive_root, Path(p), sha)
        except OSError:
            pass  # the main process notices the missing copy and says so
        try:
            reading = read(Path(p), _spec, Limits())
            checked = _validator.check(reading)
            out.append(("ok", p, reading.saved_at, reading.kind, checked, reading.sha256))
        except UnreadableFile as e:
            out.append(("unreadable", p, e.code, str(e)))
        except MemoryError:
            out.append(("unreadable", p, "too-much-memory", "Tệp cần quá nhiều bộ nhớ để đọc (có thể là tệp độc hại "
                                                            "hoặc quá lớn); đề nghị đơn vị gửi lại đúng biểu mẫu."))
        except Exception as e:  # noqa: BLE001 — one strange file must never stop the others
            out.append(("unreadable", p, "unreadable-workbook",
                        f"Không đọc được tệp ({type(e).__name__}); đề nghị đơn vị mở bằng Excel, lưu dạng .xlsx rồi "
                        "gửi lại."))
    return out


class _Pool:
    """Worker processes that are replaced when a native parser kills one. Batches whose
    worker died are retried file by file, so only the culprit is lost."""

    def __init__(self, initargs, workers: int):
        self.initargs, self.workers = initargs, workers
        self.pool = self._new()

    def _new(self):
        return ProcessPoolExecutor(self.workers, initializer=_init_worker, initargs=self.initargs)

    def run(self, batches: list[list[str]], on_result: Callable[[tuple], None]) -> None:
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
                    for res in fut.result():
                        on_result(res)
                except BrokenProcessPool:
                    broken = True
                    self._requeue(batch, queue, on_result, retry_single)
            stuck = [f for f, (b, t0) in pending.items() if time.monotonic() - t0 > FILE_TIMEOUT * len(b)]
            if stuck or broken:
                for fut, (batch, _) in list(pending.items()):
                    pending.pop(fut)
                    if fut in stuck and len(batch) == 1:
                        on_result(("unreadable", batch[0][0], "read-timeout",
                                   "Đọc tệp quá lâu nên đã dừng (có thể là tệp độc hại hoặc hỏng); đề nghị đơn vị "
                                   "gửi lại đúng biểu mẫu."))
                    else:
                        self._requeue(batch, queue, on_result, retry_single)
                self._restart()
                serial = True

    @staticmethod
    def _requeue(batch, queue, on_result, retry_single) -> None:
        if len(batch) == 1:
            if batch[0] in retry_single:
                on_result(("unreadable", batch[0][0], "reader-crashed",
                           "Tệp làm chương trình đọc bị dừng đột ngột (có thể là tệp độc hại hoặc hỏng); đề nghị đơn "
                           "vị mở bằng Excel, lưu dạng .xlsx rồi gửi lại."))
                return
            retry_single.append(batch[0])
        queue.extend([p] for p in batch)

    def _restart(self) -> None:
        for proc in list(getattr(self.pool, "_processes", {}).values()):
            proc.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new()

    def close(self) -> None:
        self.pool.shutdown(wait=True)


# --- main side ---
def collect(ws, year: int, progress: Callable[[int], None] | None = None, workers: int | None = None,
            feedback: bool = True) -> CollectResult:
    """Read every new file of input/YEAR, store it, and rewrite the year's reports. Running it
    again on the same inbox changes nothing; a new file adds a version."""
    from pipeline.feedback import write_outputs

    inbox = ws.inbox(year)
    result = CollectResult(year)
    files, result.skipped = scan_inbox(inbox)
    cat, roster, settings = ws.catalogue, ws.roster, ws.settings
    deadline = settings.deadline(year)
    with ws.lock("treem collect"), Store(ws.db_path) as store:
        known = store.known_hashes(year)
        new: dict[str, InboxFile] = {}
        hashes: dict[str, str] = {}
        seen: dict[str, str] = {}
        twins: list[tuple[str, str]] = []
        for f in files:
            try:
                sha = _sha256(f.path)
            except OSError:
                result.skipped.append({"path": f.relative, "code": "unreadable-file",
                                       "message": "Không đọc được tệp (quyền truy cập hoặc tệp bị khóa)."})
                continue
            if sha in known:
                store.add_path(known[sha], f.relative)
                if progress:
                    progress(1)
                continue
            if sha in seen:
                # Same content twice in this run: stored once, the second name recorded after.
                twins.append((seen[sha], f.relative))
                if progress:
                    progress(1)
                continue
            seen[sha] = str(f.path)
            hashes[str(f.path)] = sha
            new[str(f.path)] = f
        result.new_files = len(new)
        if new:
            previous = previous_values(store, cat, roster, year)
            sheet_names = load_wording(ws.template(WORKBOOK_WORDING))["sheets"]
            initargs = (cat, roster, settings, year, sheet_names, previous, MEMORY_LIMIT, ws.archive)
            order = [(p, hashes[p]) for p in sorted(new, key=lambda p: (new[p].mtime, p))]
            batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
            pool = _Pool(initargs, workers or max(1, min(os.cpu_count() or 1, 4, len(batches))))

            def on_result(res: tuple) -> None:
                f = new[res[1]]
                if _changed_while_read(f, hashes[res[1]], res):
                    result.skipped.append(_arriving(f))
                    _archive_path(ws.archive, f.path, hashes[res[1]]).unlink(missing_ok=True)  # half a file
                else:
                    _store_one(ws, store, year, deadline, f, hashes[res[1]], res)
                if progress:
                    progress(1)

            try:
                pool.run(batches, on_result)
            finally:
                pool.close()
        known = store.known_hashes(year)
        for first, relative in twins:
            if hashes[first] in known:
                store.add_path(known[hashes[first]], relative)
            else:  # its twin was still arriving: both are read next time
                result.skipped.append({"path": relative, "code": "file-in-progress",
                                       "message": "Tệp trùng nội dung với một tệp đang được chép vào thư mục, bỏ "
                                                  "qua lần này; chạy lại sau ít phút."})
        _cross_unit_checks(store, cat, settings, year)
        missing = ws.roster.for_year(year)
        current = {s.unit for s in store.submissions(year) if s.unit and s.status != "superseded"}
        result.missing = [u.code for u in missing if u.code not in current]
        result.submissions = submission_dicts(store, year)
        result.outputs = write_outputs(ws, store, year, result, feedback=feedback)
    return result


def _store_one(ws, store: Store, year: int, deadline: date, f: InboxFile, sha: str, res: tuple) -> None:
    archived = _archive(ws.archive, f.path, sha)  # normally already there, written by the worker
    received = datetime.fromtimestamp(f.mtime)
    rec = SubmissionRecord(year=year, sha256=sha, path=f.relative, size=f.size,
                           received_at=received.isoformat(timespec="seconds"), status="rejected",
                           archived=str(archived.relative_to(ws.root)), collected_at=now_iso(),
                           on_time=received.date() <= deadline)
    if res[0] == "unreadable":
        _, _, code, message = res
        issues = [ValidationIssue(code, "error", message)]
        identity = Identity(None, None, None)
        checked = Checked(identity, issues=issues)
        unit = _unit_from_name(ws, year, f.path)
        rec.unit = unit.code if unit else None
        rec.identity_source = "filename" if unit else None
    else:
        saved_at, kind, checked = res[2:5]
        rec.saved_at = _iso(saved_at)
        unit = checked.identity.unit
        rec.unit = unit.code if unit else None
        rec.identity_source = checked.identity.source
        rec.template_version = checked.identity.template_version
        if not rec.on_time:
            checked.issues.append(late_issue(deadline, received.date()))
    rec.status = checked.status
    store.add_submission(rec, checked.values, [i.to_dict() for i in checked.issues])


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


def _archive(root: Path, src: Path, sha: str) -> Path:
    """A copy under its content hash: the officer may clean the inbox, nothing is lost."""
    dst = _archive_path(root, src, sha)
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    return dst


def _cross_unit_checks(store: Store, cat, settings, year: int) -> None:
    current = store.current_submissions(year)
    values = store.values([s.id for s in current.values()])
    by_unit = {u: {f: v["value"] for f, v in values[s.id].items()} for u, s in current.items()}
    z = float((settings.get("checks") or {}).get("outlier_z", 3.5))
    found = outliers(cat, by_unit, z)
    store.replace_issues(year, "outlier", {current[u].id: [i.to_dict() for i in issues] for u, issues in found.items()})


def submission_dicts(store: Store, year: int) -> list[dict]:
    issues = store.issues_for_year(year)
    out = []
    for s in store.submissions(year):
        out.append({"path": s.path, "paths": s.paths, "sha256": s.sha256, "unit": s.unit, "status": s.status,
                    "received_at": s.received_at, "saved_at": s.saved_at, "on_time": s.on_time,
                    "identity_source": s.identity_source, "issues": issues.get(s.id, [])})
    return out

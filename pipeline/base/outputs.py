"""The guard for every file the tool writes into output/YEAR/: an output the officer edited
(the report in Word, a workbook in Excel) is never overwritten.

Each written file's SHA-256 (with its size and modification time, so that an unchanged
file is not read again) is recorded in a small manifest, output/YEAR/.treem-outputs.json.
The manifest lives beside the outputs rather than in the store because outputs exist before
the store does (`generate` runs before the first `collect`), and because the question it
answers ("is this file still the one we wrote?") is about that folder alone: copy or move
the folder and the answer travels with it.

Writing again:
- the file is as we left it (or absent): it is replaced;
- it differs (edited): it is kept, and the new one goes beside it with a version suffix
  (bao_cao_2024_v2.docx), said in one Vietnamese line;
- with force: the edited file is first copied into output/YEAR/cu/, then replaced;
- it exists but was never recorded (written before this guard existed): it is copied into
  cu/ and replaced, since nobody can tell whether it was edited.

A derived file (the PDF of the report) records the hash of its source; when the source
changes and the derived file is not made again, it is removed with a message
(`stale_derived`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.base.fsutil import atomic_write, sha256_file

# A pending write whose bytes are not known beforehand (forms rendered by worker processes):
# whatever a killed run left there is its own.
ANY = "*"


@dataclass
class Written:
    """What writing one output did."""

    path: Path                 # the file actually written
    requested: Path            # the file the tool meant to write
    kept_edited: bool = False  # the requested file had been edited and was left as it was
    backup: Path | None = None  # where the replaced file was copied (under output/YEAR/cu/)
    message: str = ""          # one Vietnamese line for the officer, empty when nothing to say

    def to_dict(self) -> dict:
        return {"path": str(self.path), "requested": str(self.requested), "kept_edited": self.kept_edited,
                "backup": None if self.backup is None else str(self.backup), "message": self.message}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OutputGuard:
    """The manifest of one year's output folder, loaded once for many writes (a district's
    forms are dozens, a province's thousands). Callers hold the workspace lock."""

    def __init__(self, ws, year: int, force: bool = False):
        self.ws, self.year, self.force = ws, year, force
        files = ws.layout(year)  # the workspace's layout names the folders (config/layout.py)
        self.folder, self.path, self.backups = files.output, files.outputs_manifest, files.backups
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8")).get("files", {})
        except (OSError, ValueError, AttributeError):
            self.entries = {}
        self.dirty = False
        self.written: list[Written] = []
        self.messages: list[str] = []
        self._folders: dict[Path, str] = {}  # each folder resolved once: a year has thousands of forms
        self._root = self._resolve(self.folder)

    def _resolve(self, path: Path) -> str:
        """`str(path.resolve())`, resolving each folder once."""
        if path.name in ("", ".", "..") or os.path.islink(path):
            return str(path.resolve())
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = str(path.parent.resolve())
        return os.path.join(folder, path.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.save()

    def key(self, path: Path) -> str:
        """The manifest's key of `path`: relative to the output folder when inside it."""
        resolved = self._resolve(Path(path))
        inside = os.path.normcase(resolved)
        root = os.path.normcase(self._root)
        if inside == root:
            return "."
        if inside.startswith(root.rstrip(os.sep) + os.sep):
            return resolved[len(root.rstrip(os.sep)) + 1:].replace(os.sep, "/")
        return Path(resolved).as_posix()

    def _shown(self, path: Path) -> str:
        try:
            return Path(path).resolve().relative_to(self.ws.root).as_posix()
        except ValueError:
            return str(path)

    def state(self, path: Path) -> str:
        """"absent", "ours" (as written), "edited" (differs from what was written) or
        "unknown" (exists, never recorded)."""
        path = Path(path)
        try:
            st = path.stat()
        except OSError:
            return "absent"
        entry = self.entries.get(self.key(path))
        if entry is None:
            return "unknown"
        if entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            return "ours"
        # "pending": the bytes a run was writing when it was killed, before it could record them.
        if entry.get("pending") == ANY:
            return "ours"
        return "ours" if sha256_file(path) in (entry.get("sha256"), entry.get("pending")) else "edited"

    def plan(self, path: Path) -> Written:
        """Where a new version of `path` goes, and what happens to the file there (backups
        are made here). Write the bytes to `.path`, then `record` it."""
        path = Path(path)
        state = self.state(path)
        if state in ("absent", "ours"):
            return Written(path, path)
        if state == "unknown" or self.force:
            backup = self._backup(path)
            why = ("đã được sửa sau lần ghi trước" if state == "edited"
                   else "có sẵn từ trước (chương trình chưa ghi nhận)")
            return Written(path, path, backup=backup,
                           message=f"Tệp {self._shown(path)} {why}: đã lưu bản đó vào {self._shown(backup)} rồi ghi "
                                   f"bản mới.")
        n = 2
        while True:
            candidate = path.with_name(f"{path.stem}_v{n}{path.suffix}")
            if self.state(candidate) in ("absent", "ours"):
                break
            n += 1
        return Written(candidate, path, kept_edited=True,
                       message=f"Tệp {self._shown(path)} đã được sửa sau lần ghi trước nên được giữ nguyên; bản mới "
                               f"ghi vào {self._shown(candidate)} (thêm --force để thay, bản đã sửa sẽ được lưu vào "
                               f"{self._shown(self.backups)}/).")

    def _backup(self, path: Path) -> Path:
        folder = self.backups
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        dst = folder / f"{path.stem}_{stamp}{path.suffix}"
        n = 2
        while dst.exists():
            dst = folder / f"{path.stem}_{stamp}_{n}{path.suffix}"
            n += 1
        shutil.copy2(path, dst)
        return dst

    def record(self, path: Path, sha256: str, source: Path | None = None) -> None:
        path = Path(path)
        st = path.stat()
        entry = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                 "written_at": datetime.now().isoformat(timespec="seconds")}
        if source is not None:
            entry["source"] = self.key(source)
            entry["source_sha256"] = self.entries.get(self.key(source), {}).get("sha256")
        self.entries[self.key(path)] = entry
        self.dirty = True

    def expect(self, paths_and_hashes: list[tuple[Path, str]]) -> None:
        """Say, before writing, which bytes are about to go where (saved at once): a run killed
        after writing a file but before recording it leaves a file still known as ours."""
        for path, sha in paths_and_hashes:
            key = self.key(path)
            self.entries[key] = {**self.entries.get(key, {}), "pending": sha}
        self.dirty = True
        self.save()

    def write(self, path: Path, data: bytes, source: Path | None = None, durable: bool = True) -> Written:
        w = self.plan(path)
        sha = sha256_bytes(data)
        self.expect([(w.path, sha)])
        atomic_write(w.path, data, durable=durable)
        self.record(w.path, sha, source)
        self.note(w)
        return w

    def note(self, w: Written) -> None:
        self.written.append(w)
        if w.message:
            self.messages.append(w.message)

    def remove(self, path: Path) -> str:
        """Remove an output that no longer belongs (a unit's old feedback copy). An edited one
        is moved into cu/ instead. Returns a message, or "" when it was ours."""
        path = Path(path)
        state = self.state(path)
        if state == "absent":
            return ""
        message = ""
        if state in ("edited", "unknown"):
            backup = self._backup(path)
            message = f"Tệp {self._shown(path)} không còn cần nữa; bản đã sửa được lưu vào {self._shown(backup)}."
        path.unlink(missing_ok=True)
        if self.entries.pop(self.key(path), None) is not None:
            self.dirty = True
        return message

    def stale_derived(self) -> list[str]:
        """Remove every derived file whose source changed since it was made (a PDF older than
        its .docx); one message for each."""
        out = []
        for key, entry in list(self.entries.items()):
            src = entry.get("source")
            if not src:
                continue
            derived, source = self.folder / key, self.folder / src
            try:
                current = sha256_file(source)
            except OSError:
                current = None
            if current == entry.get("source_sha256") or not derived.exists():
                if not derived.exists():
                    self.entries.pop(key)
                    self.dirty = True
                continue
            derived.unlink()
            self.entries.pop(key)
            self.dirty = True
            why = "đã được sửa" if current and current != self.entries.get(src, {}).get("sha256") else "đã được ghi lại"
            if current is None:
                why = "không còn"
            out.append(f"Đã xóa {self._shown(derived)} vì {self._shown(source)} {why} sau khi tạo bản đó; tạo lại "
                       f"bằng «treem report --year {self.year} --pdf» hoặc xuất PDF từ Word.")
        return out

    def save(self) -> None:
        if not self.dirty:
            return
        data = {"note": "Mã băm các tệp treem đã ghi; đừng sửa tệp này.", "files": dict(sorted(self.entries.items()))}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"), durable=False)
        self.dirty = False


_SESSION: ContextVar[OutputGuard | None] = ContextVar("treem_output_session", default=None)


@contextmanager
def session(ws, year: int, force: bool = False):
    """One guard for every output a command writes: the manifest is read and saved once, and
    the command collects the messages of all its writes from `guard.messages`."""
    guard = OutputGuard(ws, year, force)
    token = _SESSION.set(guard)
    try:
        yield guard
    finally:
        _SESSION.reset(token)
        guard.save()


def write_output(ws, year: int, path: Path, data: bytes, force: bool = False, source: Path | None = None) -> Written:
    """Write one output through the guard (see the module's docstring). Inside a `session`
    for the same folder, that session's guard (and its force) is used."""
    guard = _SESSION.get()
    if guard is not None and guard.ws.root == ws.root and guard.year == year:
        return guard.write(Path(path), data, source)
    with OutputGuard(ws, year, force) as guard:
        return guard.write(Path(path), data, source)


def remove_output(ws, year: int, path: Path) -> str:
    guard = _SESSION.get()
    if guard is not None and guard.ws.root == ws.root and guard.year == year:
        message = guard.remove(Path(path))
        if message:
            guard.messages.append(message)
        return message
    with OutputGuard(ws, year) as guard:
        return guard.remove(Path(path))


def remove_stale_derived(ws, year: int) -> list[str]:
    guard = _SESSION.get()
    if guard is not None and guard.ws.root == ws.root and guard.year == year:
        return guard.stale_derived()
    with OutputGuard(ws, year) as guard:
        return guard.stale_derived()


def file_sha256(path: Path) -> str:
    return sha256_file(Path(path))


__all__ = ["Written", "OutputGuard", "session", "write_output", "remove_output", "remove_stale_derived", "sha256_bytes", "file_sha256"]

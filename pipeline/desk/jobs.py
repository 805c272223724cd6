"""Long work (generate, collect, merge, report) run one at a time in a background thread, with
progress the page polls. The work itself is the library's: each stage function takes the
workspace lock as it does for the CLI, so a CLI run and the desk never write at once."""

from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Callable

from pipeline.base.errors import TreemError, WorkspaceError
from pipeline.config import layout
from pipeline.config.workspace import lock_owner

WAIT_STEP = 0.5


def lock_holder(root: Path) -> str | None:
    """Who holds the workspace lock right now (the text the holder wrote), or None when it
    is free. Looks without keeping the lock."""
    path = Path(root) / layout.LOCK
    if not path.exists():
        return None
    with open(path, "a+") as fh:
        try:
            if os.name == "nt":
                import msvcrt
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        except OSError:
            return lock_owner(path)
    return None


@dataclass
class Job:
    id: int
    kind: str
    label: str
    state: str = "queued"  # queued, waiting (for another treem), running, done, failed
    done: int = 0
    total: int = 0
    message: str = ""
    result: dict = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label, "state": self.state, "done": self.done,
                "total": self.total, "message": self.message, "result": self.result,
                "seconds": round((self.finished or time.monotonic()) - self.started, 2) if self.started else 0}

    @property
    def active(self) -> bool:
        return self.state in ("queued", "waiting", "running")


class JobRunner:
    """One worker thread; jobs run in the order asked. `work(job, tick)` returns the dict the
    page shows; a TreemError's message (Vietnamese, the CLI's own) is shown as is."""

    def __init__(self, root: Path, after: Callable[[], None] | None = None):
        self.root = Path(root)
        self.after = after
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._queue: Queue = Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="treem-ui-jobs", daemon=True)
        self._thread.start()

    def submit(self, kind: str, label: str, work: Callable[[Job, Callable[[int], None]], dict],
               total: int = 0) -> Job:
        with self._lock:
            job = Job(next(self._ids), kind, label, total=total)
            self.jobs[job.id] = job
        self._queue.put((job, work))
        return job

    def pending(self, kind: str) -> Job | None:
        """A job of this kind that has not started yet (a new upload joins it)."""
        with self._lock:
            return next((j for j in self.jobs.values() if j.kind == kind and j.state == "queued"), None)

    def current(self) -> Job | None:
        with self._lock:
            return next((j for j in self.jobs.values() if j.active), None)

    def last(self, kind: str) -> Job | None:
        with self._lock:
            done = [j for j in self.jobs.values() if j.kind == kind]
            return done[-1] if done else None

    def _loop(self) -> None:
        while True:
            job, work = self._queue.get()
            self._run(job, work)

    def _run(self, job: Job, work) -> None:
        job.started = time.monotonic()

        def tick(n: int = 1) -> None:
            job.done += n

        while True:
            holder = lock_holder(self.root)
            if holder:
                job.state = "waiting"
                job.message = f"Đang chờ: một lệnh treem khác đang chạy trên thư mục này ({holder})."
                time.sleep(WAIT_STEP)
                continue
            job.state, job.message, job.done = "running", "", 0
            try:
                result = work(job, tick) or {}
                if self.after:
                    try:
                        self.after()  # the pages' reads, refreshed before the page is told
                    except Exception:  # noqa: BLE001 — the pages will read it themselves
                        traceback.print_exc()
                job.result, job.state = result, "done"
            except WorkspaceError as e:
                if lock_holder(self.root):  # another run took the lock first: wait for it
                    continue
                job.state, job.message = "failed", str(e)
            except TreemError as e:
                job.state, job.message = "failed", str(e)
            except PermissionError as e:
                job.state = "failed"
                job.message = (f"Không ghi được {e.filename or 'tệp'}: tệp đang mở trong Excel/Word hoặc không có "
                               "quyền ghi; đóng tệp rồi chạy lại.")
            except OSError as e:
                job.state, job.message = "failed", f"Lỗi đọc/ghi tệp {e.filename or ''}: {e.strerror or e}."
            except Exception as e:  # noqa: BLE001 — the page must say something, the server must live
                traceback.print_exc()
                job.state, job.message = "failed", f"Lỗi không lường trước: {type(e).__name__}: {e}"
            break
        job.finished = time.monotonic()

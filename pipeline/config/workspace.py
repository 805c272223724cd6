"""A workspace is the officer's folder: editable copies of catalogue, roster and settings,
the shared inbox (input/YEAR), the outputs (output/YEAR) and the store. Whatever the
workspace does not define falls back to the built-in defaults."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from pipeline.config.catalogue import Catalogue, default_catalogue_path
from pipeline.base.errors import WorkspaceError
from pipeline.config import layout
from pipeline.config.layout import YearLayout
from pipeline.config.roster import Roster, default_roster_path
from pipeline.config.settings import Settings, default_settings_path

# The Word report and the workbook's wording: beside the package in a source checkout, inside
# it in an installed wheel (the Windows bundle puts them there).
_PACKAGE = Path(__file__).resolve().parent.parent  # the pipeline package
REPO_TEMPLATES = next((p for p in (_PACKAGE.parent / "templates", _PACKAGE / "templates") if p.is_dir()),
                      _PACKAGE.parent / "templates")
REPORT_TEMPLATE = "docx/bao_cao.docx"
WORKBOOK_WORDING = "xlsx/workbook.yaml"

# Lock files this process holds. A forked child (a collect worker) gets a copy of each, and
# a lock held through that copy would outlive a killed run and block every later one.
_HELD: set = set()


def _drop_inherited_locks() -> None:
    for fh in list(_HELD):
        try:
            fh.close()  # closing the child's copy leaves the parent's lock in place
        except OSError:
            pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


class Workspace:
    def __init__(self, root: Path | str = "."):
        self.root = Path(root).resolve()

    def layout(self, year: int) -> YearLayout:
        """The folders and files of one year (config/layout.py names them all)."""
        return YearLayout(self.root, year)

    def _own_or_default(self, name: str, default: Path) -> Path:
        own = self.root / name
        return own if own.exists() else default

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue.load(self._own_or_default(layout.CATALOGUE, default_catalogue_path()))

    @cached_property
    def roster(self) -> Roster:
        return Roster.load(self._own_or_default(layout.ROSTER, default_roster_path()))

    @cached_property
    def settings(self) -> Settings:
        return Settings.load(self.root / layout.SETTINGS)

    def for_year(self, year: int) -> Workspace:
        """The same workspace with the settings in force in `year` (from 2025 on, the
        reorganised issuer, signer and recipients: settings.Settings.for_year)."""
        view = Workspace(self.root)
        view.__dict__.update({k: v for k, v in self.__dict__.items() if k in ("catalogue", "roster")})
        view.__dict__["settings"] = self.settings.for_year(year)
        return view

    def template(self, relative: str) -> Path:
        """A document template: the workspace's own copy if the officer made one."""
        own = self.root / layout.TEMPLATES / relative
        path = own if own.exists() else REPO_TEMPLATES / relative
        if not path.exists():
            raise WorkspaceError(f"Không tìm thấy mẫu {relative} (đã tìm trong {own.parent} và {path.parent}).")
        return path

    def require(self) -> None:
        """Commands that read what earlier steps left (collect, status, merge, report) need a
        real workspace: a mistyped folder must not quietly become an empty second one."""
        markers = (layout.SETTINGS, layout.ROSTER, layout.CATALOGUE, layout.DATABASE, layout.INPUT)
        if not self.root.is_dir() or not any((self.root / m).exists() for m in markers):
            raise WorkspaceError(
                f"Thư mục {self.root} chưa phải thư mục làm việc của treem (không có input/, settings.yaml hay "
                "treem.sqlite); kiểm tra lại --workspace, hoặc tạo mới bằng «treem init THƯ_MỤC».")

    def inbox(self, year: int) -> Path:
        return self.layout(year).inbox

    def output(self, year: int) -> Path:
        return self.layout(year).output

    @property
    def db_path(self) -> Path:
        return self.root / layout.DATABASE

    @property
    def archive(self) -> Path:
        return self.root / layout.ARCHIVE

    @property
    def lock_path(self) -> Path:
        return self.root / layout.LOCK

    @contextmanager
    def lock(self, what: str, wait: float = 0.0):
        """One writer at a time per workspace. A second run waits up to `wait` seconds, then
        stops with a clear message instead of corrupting the store."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.lock_path
        fh = open(path, "a+")
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    _lock_file(fh)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        raise WorkspaceError(
                            f"Một lệnh treem khác đang chạy trên thư mục {self.root} "
                            f"({lock_owner(path)}); đợi lệnh đó xong rồi chạy lại «{what}»."
                        ) from None
                    time.sleep(0.2)
            _HELD.add(fh)
            fh.seek(0)
            fh.truncate()
            fh.write(f"{what} (pid {os.getpid()})")
            fh.flush()
            yield
        finally:
            _HELD.discard(fh)
            fh.close()


def _lock_file(fh) -> None:
    if os.name == "nt":
        import msvcrt
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def lock_owner(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "không rõ"
    except OSError:
        return "không rõ"


def init_workspace(root: Path | str) -> tuple[Workspace, list[Path]]:
    """Create a workspace with editable copies of the defaults. Never overwrites an existing
    file, so running it twice is harmless."""
    ws = Workspace(root)
    ws.root.mkdir(parents=True, exist_ok=True)
    written = []
    copies = {
        layout.CATALOGUE: default_catalogue_path(),
        layout.ROSTER: default_roster_path(),
        layout.SETTINGS: default_settings_path(),
        f"{layout.TEMPLATES}/{REPORT_TEMPLATE}": REPO_TEMPLATES / REPORT_TEMPLATE,
        f"{layout.TEMPLATES}/{WORKBOOK_WORDING}": REPO_TEMPLATES / WORKBOOK_WORDING,
    }
    for name, src in copies.items():
        dst = ws.root / name
        if not dst.exists() and src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            written.append(dst)
    for d in (layout.INPUT, layout.OUTPUT):
        (ws.root / d).mkdir(exist_ok=True)
    return ws, written

"""The tool as it runs on the officer's Windows PC, tested here on Linux: output in any code page,
worker processes started by spawn, a workbook locked by Excel, short paths, LibreOffice under
C:\\Program Files, and every POSIX-only call behind a platform check tried on both branches."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import pipeline.collect.run as collect_mod
import pipeline.reporting.libreoffice as libreoffice
import pipeline.base.workers as workers
from conftest import COMMUNE_VALUES, YEAR, fill, inbox_copy
from pipeline.base.problems import SkippedFile
from pipeline.collect.run import LOCKED_MESSAGE
from pipeline.config.layout import feedback_name, form_name
from pipeline.config.roster import Unit
from pipeline.config.workspace import init_workspace

TREEM = [sys.executable, "-m", "pipeline"]


# --- output in whatever encoding the console or the redirection has ---------------------------

@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_redirected_output_in_an_ansi_code_page_is_utf8_without_traceback(tmp_path, encoding):
    ws, _ = init_workspace(tmp_path / "ws")
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    # `units` prints Vietnamese on stdout; an unknown unit prints a Vietnamese error on stderr.
    ok = subprocess.run(TREEM + ["units", "--year", "2024", "-w", str(ws.root)], env=env, capture_output=True)
    bad = subprocess.run(TREEM + ["generate", "--year", "2024", "--unit", "KHÔNG-CÓ", "-w", str(ws.root)], env=env,
                         capture_output=True)
    assert ok.returncode == 0, ok.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in ok.stderr + bad.stderr
    assert "Năm 2024: 45 đơn vị" in ok.stdout.decode("utf-8")  # real UTF-8, not '?' or a crash
    assert "Xã Thọ Vực" in ok.stdout.decode("utf-8")
    assert bad.returncode == 1
    assert "Lỗi: Không có đơn vị mã KHÔNG-CÓ trong danh sách" in bad.stderr.decode("utf-8")


# --- worker processes started by spawn -------------------------------------------------------

def test_start_method_follows_the_environment(monkeypatch):
    monkeypatch.setenv(workers.START_METHOD_ENV, "spawn")
    assert workers.start_method() == "spawn"
    assert workers.mp_context().get_start_method() == "spawn"
    monkeypatch.setenv(workers.START_METHOD_ENV, "no-such-method")  # ignored, not an error
    monkeypatch.setattr(sys, "platform", "win32")
    assert workers.start_method() == "spawn"  # Windows has nothing else
    monkeypatch.delenv(workers.START_METHOD_ENV)
    monkeypatch.setattr(sys, "platform", "linux")
    assert workers.start_method() == "fork"


def test_collect_with_spawned_workers_reads_every_file(monkeypatch, workspace, templates, tmp_path):
    monkeypatch.setenv(workers.START_METHOD_ENV, "spawn")
    codes = sorted(c for c in templates if c.isdigit())[:3]
    for code in codes:
        inbox_copy(workspace, fill(templates[code], tmp_path / f"{code}.xlsx", COMMUNE_VALUES), f"{code}.xlsx")
    result = collect_mod.collect(workspace, YEAR, workers=2, feedback=False)
    assert sorted(s.unit for s in result.submissions) == codes
    assert all(s.status == "accepted" for s in result.submissions)


# --- a workbook locked by Excel ----------------------------------------------------------------

def _as_unprivileged_user() -> list[str] | None:
    """A command prefix that drops root, whose permission checks chmod 000 would not stop."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if setpriv else None


@pytest.mark.skipif(os.name != "posix", reason="chmod 000 stands for Excel's lock only on POSIX")
def test_a_file_that_cannot_be_opened_is_skipped_and_the_others_are_read(templates):
    prefix = _as_unprivileged_user()
    if prefix is None:
        pytest.skip("running as root without setpriv: chmod 000 does not stop root")
    # Below /tmp, not pytest's private folder: the unprivileged user must reach it.
    root = Path(tempfile.mkdtemp(prefix="treem-locked-"))
    try:
        root.chmod(0o755)
        ws, _ = init_workspace(root / "ws")
        codes = sorted(c for c in templates if c.isdigit())[:3]
        for code in codes:
            inbox_copy(ws, fill(templates[code], root / f"{code}.xlsx", COMMUNE_VALUES), f"{code}.xlsx")
        locked = ws.inbox(YEAR) / f"{codes[1]}.xlsx"
        locked.chmod(0)
        for p in [ws.root, *ws.root.rglob("*")]:
            os.chown(p, 65534, 65534) if os.geteuid() == 0 else None
        env = {**os.environ, "HOME": str(ws.root), "PYTHONIOENCODING": "cp1252"}
        if prefix:
            # Dropped to another user, multiprocessing's spawned resource tracker cannot start
            # here (the interpreter lives under root's home), so this run forks; the spawn run
            # of the suite covers reading in spawned workers.
            env[workers.START_METHOD_ENV] = "fork"
        res = subprocess.run(prefix + TREEM + ["collect", "--year", str(YEAR), "-w", str(ws.root)], env=env,
                             capture_output=True, cwd=Path(__file__).parent.parent)
        out = res.stdout.decode("utf-8")
        assert res.returncode == 0, out + res.stderr.decode("utf-8", "replace")
        assert f"bỏ qua {codes[1]}.xlsx: {LOCKED_MESSAGE}" in out
        assert "hợp lệ 2," in out  # the two readable files were read and accepted
        assert LOCKED_MESSAGE == "tệp đang mở trong Excel hoặc không đọc được; đóng tệp rồi chạy lại."
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_file_excel_holds_open_is_reported_by_the_worker(monkeypatch, tmp_path):
    # Windows raises PermissionError on opening a workbook Excel has open.
    def locked(path, limit):
        raise PermissionError(13, "The process cannot access the file because it is being used by another process")

    monkeypatch.setattr(collect_mod, "_load", locked)
    collect_mod._archive_root = tmp_path
    assert collect_mod._work([str(tmp_path / "a.xlsx")]) == [collect_mod.FileResult("gone", str(tmp_path / "a.xlsx"), None)]


# --- short paths ---------------------------------------------------------------------------------

def test_written_paths_stay_under_200_characters_below_the_workspace(workspace, templates, tmp_path):
    long_unit = Unit(code="X" * 80, name="Hội Bảo trợ người tàn tật và trẻ em mồ côi " * 6, type="to_chuc")
    assert len(f"output/{YEAR}/bieu_mau/{form_name(YEAR, long_unit)}") < 200
    assert len(f"output/{YEAR}/phan_hoi/{feedback_name(YEAR, long_unit.code, long_unit.name)}") < 200
    # A real run: a deep file name in the inbox still archives under its hash.
    code = next(c for c in templates if c.isdigit())
    deep = "Thư mục Zalo của cán bộ/" * 4 + "Báo cáo trẻ em năm 2024 - " * 6 + ".xlsx"
    inbox_copy(workspace, fill(templates[code], tmp_path / "x.xlsx", COMMUNE_VALUES), deep)
    collect_mod.collect(workspace, YEAR, feedback=True)
    written = [p for p in workspace.root.rglob("*") if p.is_file() and "input" not in p.parts]
    assert written
    too_long = [str(p.relative_to(workspace.root)) for p in written if len(str(p.relative_to(workspace.root))) >= 200]
    assert too_long == []


# --- LibreOffice under C:\Program Files ---------------------------------------------------------

def test_soffice_is_found_in_the_windows_install_folders(monkeypatch, tmp_path):
    base = tmp_path / "Program Files"
    exe = base / "LibreOffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"MZ")
    monkeypatch.delenv("TREEM_SOFFICE", raising=False)
    monkeypatch.setattr(libreoffice.shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("ProgramFiles", str(base))
    real_isfile = os.path.isfile
    monkeypatch.setattr(libreoffice.os.path, "isfile",
                        lambda p: real_isfile(p) and str(p).startswith(str(tmp_path)))  # not this machine's own
    assert libreoffice.find_soffice() == str(exe)
    monkeypatch.setattr(sys, "platform", "linux")  # the Windows folders are looked at only on Windows
    assert libreoffice.find_soffice() is None


def test_treem_soffice_points_at_a_portable_install(monkeypatch, tmp_path):
    exe = tmp_path / "LibreOfficePortable" / "App" / "libreoffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"MZ")
    monkeypatch.setenv("TREEM_SOFFICE", str(exe))
    assert libreoffice.find_soffice() == str(exe)
    monkeypatch.setenv("TREEM_SOFFICE", str(tmp_path / "missing.exe"))  # a wrong setting falls back
    assert libreoffice.find_soffice() != str(tmp_path / "missing.exe")


# --- POSIX-only calls behind platform checks, both branches --------------------------------------

class _Proc:
    pid = 4242

    def __init__(self):
        self.killed = False

    def kill(self):
        self.killed = True

    def wait(self, timeout=None):
        return 0


def test_a_hung_libreoffice_is_killed_with_taskkill_on_windows(monkeypatch):
    calls = []
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(libreoffice.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(libreoffice.os, "killpg", lambda *a: pytest.fail("killpg on Windows"), raising=False)
    proc = _Proc()
    libreoffice._kill_tree(proc)
    assert calls == [["taskkill", "/T", "/F", "/PID", "4242"]] and proc.killed


def test_a_hung_libreoffice_is_killed_by_process_group_elsewhere(monkeypatch):
    groups = []
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(libreoffice.subprocess, "run", lambda *a, **kw: pytest.fail("taskkill on Linux"))
    monkeypatch.setattr(libreoffice.os, "killpg", lambda pid, sig: groups.append(pid), raising=False)
    proc = _Proc()
    libreoffice._kill_tree(proc)
    assert groups == [4242] and proc.killed


def test_worker_memory_limit_is_skipped_where_resource_is_missing(monkeypatch, workspace):
    import builtins

    real_import = builtins.__import__

    def no_resource(name, *args, **kwargs):
        if name == "resource":
            raise ImportError("No module named 'resource'")  # as on Windows
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_resource)
    monkeypatch.setattr(collect_mod, "exit_with_parent", lambda: None)
    collect_mod._init_worker(workspace.catalogue, workspace.roster, workspace.settings, YEAR, {}, {}, 1 << 40,
                             workspace.archive)
    assert collect_mod._validator is not None


def test_no_module_uses_posix_only_calls_without_a_platform_check():
    """/proc, fork and POSIX signals appear only on lines guarded by a platform check (the test
    above and its pair exercise both branches of each)."""
    pkg = Path(__file__).parent.parent / "pipeline"
    allowed = {
        ("libreoffice.py", "os.killpg(proc.pid, signal.SIGKILL)"),  # under `if sys.platform == "win32": … else:`
        ("workspace.py", 'if hasattr(os, "register_at_fork"):'),
        ("workspace.py", "os.register_at_fork(after_in_child=_drop_inherited_locks)"),
        ("collect.py", "import resource"),  # inside try/except ImportError
        ("collect.py", "resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))"),
        ("workspace.py", "import fcntl"),  # under `if os.name == "nt": msvcrt … else:`
        ("workspace.py", "fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)"),
    }
    found = set()
    for path in pkg.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            code = line.split("#", 1)[0].strip()
            if any(k in code for k in ("/proc", "os.fork", "killpg", "SIGKILL", "SIGTERM", "SIGALRM", "signal.alarm",
                                       "register_at_fork", "resource", "os.getuid", "os.geteuid", "fcntl")):
                found.add((path.name, code))
    assert found - allowed == set()


def test_workspace_lock_uses_msvcrt_on_windows(monkeypatch, tmp_path):
    import types

    from pipeline.config import workspace as ws_mod

    calls = []
    fake = types.SimpleNamespace(LK_NBLCK=2, locking=lambda fd, mode, n: calls.append((mode, n)))
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(ws_mod.os, "name", "nt")
    with open(tmp_path / "lock", "w+") as fh:
        ws_mod._lock_file(fh)
    assert calls == [(2, 1)]
    monkeypatch.undo()
    with open(tmp_path / "lock", "w+") as fh:  # and flock elsewhere
        ws_mod._lock_file(fh)


def test_a_file_whose_details_cannot_be_read_is_left_for_the_next_run(monkeypatch, tmp_path):
    # Windows refuses even to list the details of some files a program holds open.
    (tmp_path / "a.xlsx").write_bytes(b"PK")
    (tmp_path / "b.xlsx").write_bytes(b"PK")
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        if self.name == "b.xlsx" and kwargs.get("follow_symlinks", True):
            raise PermissionError(13, "The process cannot access the file")
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    files, skipped = collect_mod.scan_inbox(tmp_path, settle=False)
    assert [f.relative for f in files] == ["a.xlsx"]
    assert skipped == [SkippedFile("b.xlsx", "unreadable-file", LOCKED_MESSAGE)]

"""Run LibreOffice headless to convert files (report -> PDF, workbook re-saves).

LibreOffice is optional: only the PDF step and a few tests need it, so every
entry point degrades to a Vietnamese LibreOfficeError instead of a traceback.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline.base.errors import TreemError

__all__ = ["LibreOfficeError", "find_soffice", "available", "convert"]


class LibreOfficeError(TreemError):
    """LibreOffice is missing, hung, or produced no output."""


# An explicit export filter matters for same-format re-saves: without it,
# "--convert-to xlsx" on an .xlsx may pick a different filter than the one a
# unit's Calc uses when the officer presses "Keep current format".
_FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "docx": "docx:MS Word 2007 XML",
    "pdf": "pdf",
}

_MISSING = (
    "Chưa cài LibreOffice nên không chuyển được sang PDF; cài LibreOffice rồi chạy "
    "lại (https://vi.libreoffice.org), hoặc mở báo cáo .docx bằng Word và tự lưu "
    "thành PDF."
)


def find_soffice() -> str | None:
    """Path of the LibreOffice executable, or None."""
    # TREEM_SOFFICE lets an officer point at a portable install without PATH edits.
    env = os.environ.get("TREEM_SOFFICE")
    if env and Path(env).is_file():
        return env
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    candidates = ["/usr/lib/libreoffice/program/soffice"]
    candidates += sorted(glob.glob("/opt/libreoffice*/program/soffice"), reverse=True)
    candidates.append("/Applications/LibreOffice.app/Contents/MacOS/soffice")
    if sys.platform == "win32":
        for var in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432"):
            base = os.environ.get(var)
            if base:
                candidates.append(os.path.join(base, "LibreOffice", "program", "soffice.exe"))
        candidates += [
            r"C:\Program Files\LibreOffice\program\soffice.exe",
            r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
        ]
    for cand in candidates:
        if os.path.isfile(cand):
            return cand
    return None


def available() -> bool:
    return find_soffice() is not None


def _kill_tree(proc: subprocess.Popen) -> None:
    # soffice is a launcher (shell script -> oosplash -> soffice.bin); killing
    # only the launcher would leave soffice.bin running and holding the profile.
    try:
        if sys.platform == "win32":
            subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                           capture_output=True, check=False)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.kill()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass


def _stop(proc: subprocess.Popen) -> None:
    """A conversion that hangs: kill it whole, and close the pipes communicate() left open."""
    _kill_tree(proc)
    proc.stdout.close()
    proc.stderr.close()


def convert(src: Path, fmt: str, outdir: Path, timeout: float = 120) -> Path:
    """Convert *src* with LibreOffice; return outdir/<stem>.<ext>.

    fmt is an extension ("pdf", "xlsx", "xls", "docx") or a raw
    "ext:Filter Name" string.  An existing file at the target is replaced.
    """
    src = Path(src)
    outdir = Path(outdir)
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError(_MISSING)
    if not src.is_file():
        raise LibreOfficeError(f"Không tìm thấy tệp cần chuyển đổi: {src}")
    target_arg = _FILTERS.get(fmt.lower(), fmt)
    ext = target_arg.split(":", 1)[0].lower()

    with tempfile.TemporaryDirectory(prefix="treem-lo-") as tmp:
        tmp = Path(tmp)
        # A private profile per run: LibreOffice allows one instance per
        # profile, so a shared one makes a second run (or the officer's open
        # Calc window) silently swallow our request and exit 0 with no file.
        profile = (tmp / "profile").resolve().as_uri()
        # Output goes to a fresh dir so an xlsx->xlsx re-save never overwrites
        # its own source mid-read, and so "did it write anything" is unambiguous.
        work = tmp / "out"
        work.mkdir()
        cmd = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
               "--nolockcheck", "--nodefault", "--convert-to", target_arg,
               "--outdir", str(work), str(src.resolve())]
        popen_kw: dict = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        if sys.platform == "win32":
            popen_kw["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            popen_kw["start_new_session"] = True  # own group, so we can kill it whole
        proc = subprocess.Popen(cmd, **popen_kw)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise LibreOfficeError(
                f"LibreOffice không trả lời sau {timeout:.0f} giây khi chuyển "
                f"{src.name} sang {ext}; đóng các cửa sổ LibreOffice đang treo rồi chạy lại."
            ) from None

        produced = work / f"{src.stem}.{ext}"
        if not produced.is_file():
            # soffice exits 0 even when the filter failed; stderr is the only clue.
            detail = (err or out or b"").decode("utf-8", "replace").strip()[-500:]
            raise LibreOfficeError(
                f"LibreOffice không tạo được tệp {ext} từ {src.name} "
                f"(mã thoát {proc.returncode}). {detail}".strip()
            )
        outdir.mkdir(parents=True, exist_ok=True)
        dest = outdir / produced.name
        # shutil.move, not rename: the temp dir may be on another filesystem.
        if dest.exists():
            dest.unlink()
        shutil.move(str(produced), str(dest))
        return dest

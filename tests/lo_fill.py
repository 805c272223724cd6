"""Fill a workbook's named input cells through LibreOffice, as a unit's Calc would.

Two faces:

* Script, run by a python that can ``import uno`` (on Debian/Ubuntu the system
  ``/usr/bin/python3`` with ``python3-uno``; NOT the project venv)::

      python3 tests/lo_fill.py SRC.xlsx DST.xlsx values.json [--recalc] [--soffice PATH]

  values.json maps workbook-level defined names to numbers or strings.

* Importable helper for tests (runs under the venv, shells out to the UNO
  python).  ``tests/`` is not a package, so import it by path::

      import importlib.util, pathlib
      _p = pathlib.Path(__file__).with_name("lo_fill.py")
      _spec = importlib.util.spec_from_file_location("lo_fill", _p)
      lo_fill = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(lo_fill)
      lo_fill.fill(src, dst, {"ct02_served": 12})   # raises lo_fill.UnoUnavailable -> skip

This file must import nothing outside the standard library at module level:
the UNO python has none of the venv's packages.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve()


class UnoUnavailable(RuntimeError):
    """No LibreOffice or no python with the uno module: tests should skip."""


# --------------------------------------------------------------------------
# Importable side (venv)
# --------------------------------------------------------------------------

def _find_soffice() -> str | None:
    try:  # prefer the project's lookup so tests exercise the same path
        from pipeline.reporting.libreoffice import find_soffice
        return find_soffice()
    except ImportError:
        pass
    for name in ("soffice", "libreoffice"):
        if shutil.which(name):
            return shutil.which(name)
    for cand in ["/usr/lib/libreoffice/program/soffice",
                 *sorted(glob.glob("/opt/libreoffice*/program/soffice"), reverse=True)]:
        if os.path.isfile(cand):
            return cand
    return None


@functools.lru_cache(maxsize=None)
def uno_python() -> str | None:
    """A python executable that can ``import uno``, or None."""
    cands = [os.environ.get("TREEM_UNO_PYTHON", "")]
    cands += ["/usr/bin/python3", *sorted(glob.glob("/usr/bin/python3.[0-9]*"), reverse=True),
              "/usr/local/bin/python3"]
    # Official LibreOffice builds (Windows, /opt tarballs, macOS) bundle their own python.
    soffice = _find_soffice()
    if soffice:
        prog = Path(soffice).resolve().parent
        cands += [str(prog / "python"), str(prog / "python.exe"),
                  str(prog.parent / "Resources" / "python")]
    seen = set()
    for c in cands:
        if not c or c in seen or not os.path.isfile(c) or c.endswith("-config"):
            continue
        seen.add(c)
        try:
            r = subprocess.run([c, "-c", "import uno"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return c
    return None


def fill(src, dst, values: dict, recalc: bool = False, timeout: float = 120) -> Path:
    """Write *values* into the named cells of *src* via LibreOffice, save as *dst* (xlsx)."""
    soffice = _find_soffice()
    if soffice is None:
        raise UnoUnavailable("LibreOffice (soffice) chưa được cài")
    py = uno_python()
    if py is None:
        raise UnoUnavailable("không có python nào import được uno (cài python3-uno)")
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="treem-fill-") as tmp:
        vj = Path(tmp) / "values.json"
        vj.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
        cmd = [py, str(HERE), str(Path(src).resolve()), str(dst.resolve()), str(vj),
               "--soffice", soffice, "--timeout", str(max(timeout - 10, 10))]
        if recalc:
            cmd.append("--recalc")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGTERM first: the script turns it into SystemExit and kills its soffice.
            proc.terminate()
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            raise RuntimeError(f"lo_fill timed out after {timeout}s") from None
    if proc.returncode != 0 or not dst.is_file():
        raise RuntimeError(
            f"lo_fill failed (rc={proc.returncode}):\n{out.decode(errors='replace')}"
            f"\n{err.decode(errors='replace')}")
    return dst


# --------------------------------------------------------------------------
# Script side (UNO python)
# --------------------------------------------------------------------------

def _start_soffice(soffice: str, profile_dir: str, pipe: str) -> subprocess.Popen:
    args = [soffice, f"-env:UserInstallation={Path(profile_dir).resolve().as_uri()}",
            "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
            "--nolockcheck", f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"]
    kw: dict = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if sys.platform == "win32":
        kw["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kw["start_new_session"] = True  # soffice forks soffice.bin: kill the group
    return subprocess.Popen(args, **kw)


def _kill_soffice(proc: subprocess.Popen) -> None:
    try:
        if sys.platform == "win32":
            subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)], capture_output=True)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _connect(pipe: str, proc: subprocess.Popen, deadline: float):
    import uno
    from com.sun.star.connection import NoConnectException

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    while True:
        try:
            ctx = resolver.resolve(url)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            # On a fresh profile the first start takes several seconds; on
            # slow machines the first-start of soffice.bin can exceed 10 s.
            if time.monotonic() > deadline:
                raise RuntimeError("could not connect to soffice within the deadline")
            if proc.poll() is not None and proc.returncode != 0:
                raise RuntimeError(f"soffice exited early with rc={proc.returncode}")
            time.sleep(0.3)


def _props(**kw):
    from com.sun.star.beans import PropertyValue
    out = []
    for k, v in kw.items():
        p = PropertyValue()
        p.Name, p.Value = k, v
        out.append(p)
    return tuple(out)


def _fill_doc(doc, values: dict) -> None:
    names = doc.NamedRanges
    for name, value in values.items():
        if not names.hasByName(name):
            raise KeyError(f"defined name {name!r} not in workbook")
        rng = names.getByName(name).getReferredCells()
        if rng is None:
            raise KeyError(f"defined name {name!r} does not refer to cells")
        cell = rng.getCellByPosition(0, 0)
        sheet = rng.getSpreadsheet()
        # LibreOffice 7.4's API writes even into locked cells of a protected
        # sheet, so this is belt and braces for versions that enforce it.
        # protect("") re-applies the options the xlsx had (checked in tests).
        was_protected = sheet.isProtected()
        if was_protected:
            sheet.unprotect("")  # raises IllegalArgumentException if a password is set
        try:
            if isinstance(value, bool) or value is None:
                raise TypeError(f"{name}: only numbers and strings are supported, got {value!r}")
            if isinstance(value, (int, float)):
                cell.setValue(float(value))
            else:
                cell.setString(str(value))
        finally:
            if was_protected:
                sheet.protect("")


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("values")
    ap.add_argument("--recalc", action="store_true", help="doc.calculateAll() before saving")
    ap.add_argument("--soffice", default=None)
    ap.add_argument("--timeout", type=float, default=110, help="overall deadline, seconds")
    ap.add_argument("--connect-timeout", type=float, default=30)
    a = ap.parse_args(argv)

    import uno  # noqa: F401  (fail early, with a clear message, under the wrong python)

    soffice = a.soffice or _find_soffice()
    if not soffice:
        print("soffice not found", file=sys.stderr)
        return 2
    values = json.loads(Path(a.values).read_text(encoding="utf-8"))
    start = time.monotonic()
    # SIGTERM (from fill()'s timeout) must still run the finally that kills soffice.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # uno's pipe connector has a short name limit; keep it short and unique.
    pipe = "treem" + uuid.uuid4().hex[:12]
    profile = tempfile.mkdtemp(prefix="treem-uno-")
    proc = _start_soffice(soffice, profile, pipe)
    desktop = doc = None
    try:
        desktop = _connect(pipe, proc, start + a.connect_timeout)
        doc = desktop.loadComponentFromURL(Path(a.src).resolve().as_uri(), "_blank", 0,
                                           _props(Hidden=True))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not load {a.src}")
        _fill_doc(doc, values)
        if a.recalc:
            doc.calculateAll()
        doc.storeToURL(Path(a.dst).resolve().as_uri(),
                       _props(FilterName="Calc MS Excel 2007 XML", Overwrite=True))
        return 0
    finally:
        try:
            if doc is not None:
                doc.close(True)
        except Exception:
            pass
        try:
            if desktop is not None:
                desktop.terminate()  # clean exit; the kill below is the safety net
        except Exception:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        _kill_soffice(proc)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Build the offline install for the officer's Windows PC: one zip with treem's wheel, every
dependency's wheel for Windows x64 and Python 3.11, 3.12 and 3.13, and two batch files.

    python tools/windows_bundle.py            # writes dist/treem-windows-x64-<version>.zip

Run it on a machine with internet (PyPI); the PC it is unpacked on needs none. On that PC:
double-click cai_dat.bat once (it makes a private Python environment with whichever Python
3.11+ the `py` launcher finds, installs from the wheels in the zip with --no-index, and creates
the workspace folder lam_viec), then double-click treem.bat: the desk (treem ui) opens in the
browser, and a command window in the workspace has `treem` ready to type.

The dependencies are read from pyproject.toml, never listed here.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")
PLATFORM = "win_amd64"
WORKSPACE = "lam_viec"

# Batch files are read by cmd.exe in the console's code page: chcp 65001 first makes it UTF-8,
# so the Vietnamese messages show. Lines end in CRLF (cmd misreads labels otherwise).
CAI_DAT = r"""@echo off
chcp 65001 >nul
setlocal
cd /d "%~dp0"
echo Cài đặt treem (không cần mạng)...
set "PY="
for %%V in ({versions}) do (
  if not defined PY (
    py -%%V -c "import sys" >nul 2>&1 && set "PY=py -%%V"
  )
)
if not defined PY (
  echo Không tìm thấy Python {lowest} trở lên. Cài Python từ python.org, đánh dấu "Add python.exe to PATH", rồi nhấp đúp lại cai_dat.bat.
  pause
  exit /b 1
)
echo Dùng %PY%
if not exist ".venv\Scripts\python.exe" (
  %PY% -m venv .venv || goto loi
)
".venv\Scripts\python.exe" -m pip install --no-index --find-links "%~dp0wheels" --upgrade treem || goto loi
if not exist "{workspace}\settings.yaml" (
  ".venv\Scripts\treem.exe" init "%~dp0{workspace}" || goto loi
)
echo.
echo Đã cài xong. Thư mục làm việc: %~dp0{workspace}
echo Nhấp đúp treem.bat để mở cửa sổ lệnh và gõ lệnh treem.
pause
exit /b 0
:loi
echo.
echo Cài đặt không thành công (xem thông báo ở trên). Chụp màn hình này gửi người hỗ trợ.
pause
exit /b 1
"""

TREEM_BAT = r"""@echo off
chcp 65001 >nul
set "PATH=%~dp0.venv\Scripts;%PATH%"
set "PYTHONUTF8=1"
if not exist "%~dp0.venv\Scripts\treem.exe" (
  echo Chưa cài đặt: nhấp đúp cai_dat.bat trước.
  pause
  exit /b 1
)
cd /d "%~dp0{workspace}"
rem The desk (treem ui) opens in the browser from its own minimised window; this one takes commands.
start "treem ui" /min treem ui --workspace "%CD%"
echo Thư mục làm việc: %CD%
echo Bàn làm việc đang mở trên trình duyệt (cửa sổ «treem ui» thu nhỏ; đóng cửa sổ đó để tắt trang).
echo Gõ lệnh, ví dụ: treem generate --year 2024   (xem mọi lệnh: treem --help)
cmd /k
"""


def dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The project's runtime requirements, as pyproject.toml states them."""
    with open(pyproject, "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def project_version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    with open(pyproject, "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def requirement_name(req: str) -> str:
    """The normalised distribution name of a requirement ("XlsxWriter>=3.2" -> "xlsxwriter")."""
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req).group(1)).lower()


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def cai_dat_bat(pythons: tuple[str, ...] = PYTHONS) -> bytes:
    """The installer: the newest of `pythons` that `py` finds makes the environment."""
    versions = " ".join(sorted(pythons, key=lambda v: tuple(map(int, v.split("."))), reverse=True))
    return _crlf(CAI_DAT.format(versions=versions, lowest=pythons[0], workspace=WORKSPACE))


def treem_bat() -> bytes:
    return _crlf(TREEM_BAT.format(workspace=WORKSPACE))


def _source_copy(dest: Path) -> Path:
    """The project as the wheel is built from it: the package with the templates inside it (an
    installed package has no checkout around it), in a fresh folder so that no stale build/
    folder of the checkout slips old files into the wheel."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "pipeline", dest / "pipeline", ignore=skip)
    shutil.copytree(ROOT / "templates", dest / "pipeline" / "templates", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def project_wheel(dest: Path) -> Path:
    """treem's own wheel, built into `dest`."""
    with tempfile.TemporaryDirectory(prefix="treem-src-") as src:
        _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(_source_copy(Path(src))))
    return next(dest.glob("treem-*.whl"))


def build(out_dir: Path, pythons: tuple[str, ...] = PYTHONS) -> Path:
    """Download and pack everything; return the zip's path."""
    version = project_version()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="treem-bundle-") as tmp:
        wheels = Path(tmp) / "wheels"
        wheels.mkdir()
        project_wheel(wheels)
        for py in pythons:
            _pip("download", "--quiet", "--only-binary=:all:", "--platform", PLATFORM, "--python-version", py,
                 "--implementation", "cp", "--dest", str(wheels), *dependencies())
        target = out_dir / f"treem-windows-x64-{version}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for whl in sorted(wheels.glob("*.whl")):
                zf.write(whl, f"treem/wheels/{whl.name}")
            zf.writestr("treem/cai_dat.bat", cai_dat_bat(pythons))
            zf.writestr("treem/treem.bat", treem_bat())
    return target


def check_offline_install(bundle: Path, pythons: tuple[str, ...] = PYTHONS) -> dict[str, list[str]]:
    """Resolve `treem` and everything it needs from the bundle's wheels alone, for Windows x64
    and each Python, as cai_dat.bat will (pip --no-index --find-links); return the wheels each
    version takes. Raises CalledProcessError when some requirement has no wheel there."""
    chosen = {}
    with tempfile.TemporaryDirectory(prefix="treem-bundle-check-") as tmp:
        with zipfile.ZipFile(bundle) as zf:
            zf.extractall(tmp)
        wheels = Path(tmp) / "treem" / "wheels"
        for py in pythons:
            dest = Path(tmp) / f"python-{py}"
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-index", "--find-links",
                            str(wheels), "--only-binary=:all:", "--platform", PLATFORM, "--python-version", py,
                            "--implementation", "cp", "--dest", str(dest), "treem"], check=True)
            chosen[py] = sorted(p.name for p in dest.glob("*.whl"))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the zip (default: dist/)")
    args = parser.parse_args(argv)
    if shutil.which("py") is None and sys.platform == "win32":
        print("note: the `py` launcher is not on this PC; the zip is for other PCs anyway", file=sys.stderr)
    bundle = build(args.out)
    chosen = check_offline_install(bundle)
    for py, names in chosen.items():
        print(f"Python {py}: {len(names)} wheels install offline")
    print(bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The offline install for Windows: a zip with treem's wheel, a Windows x64 wheel of every
dependency for Python 3.11, 3.12 and 3.13, and the two batch files an officer double-clicks.

Building it downloads about 110 MB from PyPI, so that test runs when TREEM_BUNDLE_TEST=1 (a
step of .ci/run); the batch files are checked on every run."""

from __future__ import annotations

import os
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import load_helper

ROOT = Path(__file__).parent.parent
bundle = load_helper("windows_bundle", "../tools/windows_bundle.py")


def test_dependencies_come_from_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        declared = tomllib.load(fh)["project"]["dependencies"]
    assert bundle.dependencies() == declared
    assert bundle.requirement_name("XlsxWriter>=3.2") == "xlsxwriter"
    assert bundle.requirement_name("python_calamine>=0.3") == "python-calamine"


def test_cai_dat_finds_any_python_and_installs_offline():
    text = bundle.cai_dat_bat().decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # cmd.exe wants CRLF
    assert text.startswith("@echo off\r\nchcp 65001")  # UTF-8, so the Vietnamese shows
    assert "for %%V in (3.13 3.12 3.11) do" in text  # the newest Python the launcher finds
    assert 'py -%%V -m venv' not in text and "%PY% -m venv .venv" in text
    assert '--no-index --find-links "%~dp0wheels"' in text
    assert 'treem.exe" init "%~dp0lam_viec"' in text
    assert "Không tìm thấy Python 3.11 trở lên" in text


def test_treem_bat_opens_a_window_in_the_workspace_with_treem_on_path():
    text = bundle.treem_bat().decode("utf-8")
    assert 'set "PATH=%~dp0.venv\\Scripts;%PATH%"' in text
    assert 'cd /d "%~dp0lam_viec"' in text
    assert text.rstrip().endswith("cmd /k")  # the window stays open for typing
    # ... and the desk opens in the browser from its own window, on the same workspace.
    assert 'start "treem ui" /min treem ui --workspace "%CD%"' in text
    assert text.index('cd /d "%~dp0lam_viec"') < text.index("treem ui")


def test_the_installed_wheel_carries_its_templates_and_makes_a_workspace(tmp_path):
    """On the officer's PC there is no checkout around the package: `treem init` must find the
    Word report and the workbook's wording inside the installed wheel."""
    import subprocess
    import sys

    wheel = bundle.project_wheel(tmp_path / "wheel")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"pipeline/templates/docx/bao_cao.docx", "pipeline/templates/xlsx/workbook.yaml",
            "pipeline/config/defaults/catalogue.yaml"} <= names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True)
    code = (f"import sys; sys.path.insert(0, {str(target)!r}); import pipeline; "
            f"assert pipeline.__file__.startswith({str(target)!r}), pipeline.__file__; "
            "from pipeline.config.workspace import init_workspace; from pipeline.forms.writer import generate; "
            f"ws, _ = init_workspace({str(tmp_path / 'lam_viec')!r}); print(len(generate(ws, 2024).files))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "45"
    assert (tmp_path / "lam_viec" / "templates" / "docx" / "bao_cao.docx").is_file()


@pytest.mark.skipif(os.environ.get("TREEM_BUNDLE_TEST") != "1",
                    reason="downloads about 110 MB from PyPI; .ci/run runs it with TREEM_BUNDLE_TEST=1")
def test_the_bundle_installs_every_dependency_on_windows_for_each_python(tmp_path):
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import canonicalize_name, parse_wheel_filename

    zip_path = bundle.build(tmp_path)
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    assert "treem/cai_dat.bat" in names and "treem/treem.bat" in names
    assert any(re.fullmatch(r"treem/wheels/treem-[\d.]+-py3-none-any\.whl", n) for n in names)

    chosen = bundle.check_offline_install(zip_path)  # pip --no-index from the zip's wheels alone
    assert set(chosen) == {"3.11", "3.12", "3.13"}
    for py, wheels in chosen.items():
        major, minor = map(int, py.split("."))
        windows = {*cpython_tags((major, minor), platforms=["win_amd64"]),
                   *compatible_tags((major, minor), f"cp{major}{minor}", platforms=["win_amd64"])}
        found = {}
        for whl in wheels:
            name, _, _, tags = parse_wheel_filename(whl)
            assert tags & windows, (py, whl)  # every wheel it takes runs on Windows x64 with this Python
            found[canonicalize_name(name)] = whl
        for req in bundle.dependencies():
            assert bundle.requirement_name(req) in found, (py, req)
        assert "treem" in found

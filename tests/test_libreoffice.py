"""LibreOffice as a real spreadsheet client: round trips, UNO fill, docx -> PDF.

These tests pin down what a unit's LibreOffice does to our generated
workbooks, so the intake side can be written against observed behaviour.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from pipeline.reporting import libreoffice
from pipeline.reporting.libreoffice import LibreOfficeError, convert
from conftest import load_helper

if not libreoffice.available():
    pytest.skip("LibreOffice chưa được cài: cần soffice trong PATH "
                "(apt-get install libreoffice-calc libreoffice-writer python3-uno)",
                allow_module_level=True)

openpyxl = pytest.importorskip("openpyxl")
xlsxwriter = pytest.importorskip("xlsxwriter")

lo_fill = load_helper("lo_fill", "lo_fill.py")

TITLE = "Báo cáo kết quả thực hiện Chương trình hành động vì trẻ em"


def _timed(label, fn, *args, **kw):
    t0 = time.perf_counter()
    try:
        return fn(*args, **kw)
    finally:
        # visible with -s / -rP; the budget for the whole module is ~60 s
        print(f"[lo-timing] {label}: {time.perf_counter() - t0:.2f}s")


def _make_xlsx(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("CT02")
    unlocked = wb.add_format({"locked": False})
    ws.write("A2", "Số trẻ em được phục vụ")
    ws.write_number("B2", 0, unlocked)
    ws.write_formula("C2", "=B2*2", None, 0)
    ws.write("A3", "Có tổ chức diễn đàn trẻ em")
    ws.write_blank("B3", None, unlocked)
    ws.data_validation("B2", {
        "validate": "integer", "criteria": ">=", "value": 0,
        "input_title": "Nhập số", "input_message": "Số nguyên không âm",
        "error_title": "Sai dữ liệu", "error_message": "Phải là số nguyên ≥ 0"})
    ws.data_validation("B3", {"validate": "list", "source": ["Có", "Không"]})
    ws.protect()  # no password
    wb.define_name("ct02_served", "=CT02!$B$2")
    wb.define_name("ct02_forum", "=CT02!$B$3")
    wb.set_custom_property("treem_unit", "15700")
    wb.set_custom_property("treem_year", 2024)
    meta = wb.add_worksheet("_meta")
    meta.write("A1", "schema")
    meta.write("B1", 3)
    meta.very_hidden()
    wb.close()
    return path


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    return _make_xlsx(tmp_path_factory.mktemp("orig") / "ct02_15700.xlsx")


@pytest.fixture(scope="module")
def resaved(original, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("resaved")
    return _timed("convert xlsx->xlsx", convert, original, "xlsx", out)


def _props(wb) -> dict:
    return {p.name: p.value for p in wb.custom_doc_props.props}


def _validations(ws) -> dict:
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


def test_resave_xlsx_keeps_names_props_protection(original, resaved):
    assert resaved.name == original.name and resaved.parent != original.parent
    assert original.is_file()  # source untouched

    wb = openpyxl.load_workbook(resaved)
    # Defined names: workbook-level, same target, in LibreOffice's "$" form.
    assert wb.defined_names["ct02_served"].attr_text == "CT02!$B$2"
    assert wb.defined_names["ct02_served"].localSheetId is None
    assert wb.defined_names["ct02_forum"].attr_text == "CT02!$B$3"

    # Custom properties: the string survives as a string; LibreOffice stores
    # every number as a double, so the integer 2024 comes back as 2024.0
    # (openpyxl FloatProperty).  Readers must accept float-valued integers.
    props = _props(wb)
    assert props["treem_unit"] == "15700" and isinstance(props["treem_unit"], str)
    assert props["treem_year"] == 2024 and isinstance(props["treem_year"], float)

    # Sheet states: LibreOffice has no "very hidden"; it writes "hidden",
    # which any officer can unhide from the sheet tab menu.
    ws = wb["CT02"]
    assert ws.sheet_state == "visible"
    assert wb["_meta"].sheet_state == "hidden"
    assert wb["_meta"]["B1"].value == 3

    # Protection and its option flags survive; no password appears.
    assert ws.protection.sheet is True
    assert not ws.protection.password
    assert ws.protection.formatCells is True and ws.protection.insertRows is True
    assert ws["B2"].protection.locked is False
    assert ws["B3"].protection.locked is False
    assert ws["A2"].protection.locked is True

    # Data validations survive with their messages; the list validation gains
    # operator="between" (meaningless for lists, harmless).
    dvs = _validations(ws)
    assert set(dvs) == {"B2", "B3"}
    b2, b3 = dvs["B2"], dvs["B3"]
    assert (b2.type, b2.operator, b2.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert b2.showErrorMessage and b2.error == "Phải là số nguyên ≥ 0"
    assert b2.prompt == "Số nguyên không âm"
    assert b3.type == "list" and b3.formula1 == '"Có,Không"'
    assert b3.operator == "between"


def test_convert_to_xls_is_ole(resaved, tmp_path):
    xls = _timed("convert xlsx->xls", convert, resaved, "xls", tmp_path)
    assert xls == tmp_path / (resaved.stem + ".xls")
    assert xls.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")


def test_fill_through_uno(original, tmp_path):
    dst = tmp_path / "filled.xlsx"
    try:
        _timed("lo_fill (UNO)", lo_fill.fill, original, dst,
               {"ct02_served": 12, "ct02_forum": "Có"}, recalc=True)
    except lo_fill.UnoUnavailable as exc:
        pytest.skip(f"không chạy được UNO: {exc}")

    wb = openpyxl.load_workbook(dst)
    ws = wb["CT02"]
    assert ws["B2"].value == 12
    assert ws["B3"].value == "Có"
    # unprotect("")/protect("") in lo_fill keeps the original option flags.
    assert ws.protection.sheet is True
    assert not ws.protection.password
    assert ws.protection.formatCells is True and ws.protection.insertRows is True
    assert ws.protection.objects is True and ws.protection.scenarios is True
    assert ws["B2"].protection.locked is False
    assert wb.defined_names["ct02_served"].attr_text == "CT02!$B$2"
    assert wb.defined_names["ct02_forum"].attr_text == "CT02!$B$3"
    assert set(_validations(ws)) == {"B2", "B3"}
    assert _props(wb)["treem_unit"] == "15700"
    # --recalc: the cached formula result is fresh.
    assert openpyxl.load_workbook(dst, data_only=True)["CT02"]["C2"].value == 24


def test_docx_to_pdf_keeps_vietnamese(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_heading(TITLE, level=1)
    d.add_paragraph("Xã Hòa Bình, năm 2024: 1.234 trẻ em được hỗ trợ.")
    src = tmp_path / "bao_cao.docx"
    d.save(src)

    pdf = _timed("convert docx->pdf", convert, src, "pdf", tmp_path / "pdf")
    assert pdf.name == "bao_cao.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext không có: chỉ kiểm tra được tệp PDF đã tạo")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
                          capture_output=True, check=True).stdout.decode("utf-8")
    # The heading wraps across lines; compare NFC, whitespace-collapsed.
    flat = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))
    assert TITLE in flat
    assert "Xã Hòa Bình" in flat


def test_missing_libreoffice_is_vietnamese(monkeypatch, tmp_path):
    src = tmp_path / "x.docx"
    src.write_bytes(b"")
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    assert libreoffice.available() is False
    with pytest.raises(LibreOfficeError) as ei:
        convert(src, "pdf", tmp_path)
    msg = str(ei.value)
    assert "Chưa cài LibreOffice" in msg and "PDF" in msg


@pytest.mark.skipif(sys.platform == "win32", reason="fake soffice is a shell script")
def test_hung_soffice_is_killed_and_reported(monkeypatch, tmp_path):
    # A launcher that forks a long-lived child, like soffice -> soffice.bin.
    fake = tmp_path / "soffice"
    pidfile = tmp_path / "child.pid"
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pidfile}\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: str(fake))
    src = tmp_path / "x.docx"
    src.write_bytes(b"")
    t0 = time.perf_counter()
    with pytest.raises(LibreOfficeError, match="không trả lời"):
        convert(src, "pdf", tmp_path / "out", timeout=1)
    assert time.perf_counter() - t0 < 15
    child = int(pidfile.read_text())
    assert _dead(child), "the launcher's child must die with its process group"


def _dead(pid: int, wait: float = 5.0) -> bool:
    # Gone, or a zombie awaiting a reaper (containers may lack a reaping init).
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        status = Path(f"/proc/{pid}/status")
        if status.exists() and re.search(r"^State:\s+Z", status.read_text(), re.M):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="fake soffice is a shell script")
def test_soffice_writing_nothing_is_reported(monkeypatch, tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: str(fake))
    src = tmp_path / "x.docx"
    src.write_bytes(b"")
    with pytest.raises(LibreOfficeError, match="không tạo được") as ei:
        convert(src, "pdf", tmp_path / "out")
    assert "could not be loaded" in str(ei.value)

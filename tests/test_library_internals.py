"""What pipeline/base/library_internals.py relies on inside XlsxWriter, openpyxl and
concurrent.futures. A failure here means a new version of that library changed it: fix the
wrapper (and the version bound in pyproject.toml), not this test."""

from __future__ import annotations

import inspect
import io
import zipfile
from concurrent.futures import ProcessPoolExecutor

import openpyxl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipeline.base.library_internals import pool_processes, skip_formula_rewriting, worksheet_cells
from pipeline.base.workers import mp_context


def test_xlsxwriter_still_prepares_each_formula_through_the_method_we_replace():
    assert list(inspect.signature(Worksheet._prepare_formula).parameters) == [
        "self", "formula", "expand_future_functions"], "XlsxWriter changed Worksheet._prepare_formula"
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    skip_formula_rewriting(ws)
    seen = []
    plain = ws._prepare_formula
    ws._prepare_formula = lambda formula, expand_future_functions=False: seen.append(formula) or plain(formula)
    ws.write_formula(0, 0, "=IF(ISBLANK(B1),1,2)")
    wb.close()
    assert seen == ["=IF(ISBLANK(B1),1,2)"], "XlsxWriter no longer calls Worksheet._prepare_formula"
    sheet = zipfile.ZipFile(buf).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>IF(ISBLANK(B1),1,2)</f>" in sheet


def test_openpyxl_still_keeps_a_sheets_cells_in_a_private_dict():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["C3"] = 1, "=A1*2"
    assert {c.coordinate for c in worksheet_cells(ws)} == {"A1", "C3"}, "openpyxl changed Worksheet._cells"
    assert ws.max_row == 3  # and no empty cell was made on the way


def test_a_process_pool_still_lists_its_processes():
    with ProcessPoolExecutor(1, mp_context=mp_context()) as pool:
        assert pool.submit(abs, -1).result() == 1
        processes = pool_processes(pool)
        assert len(processes) == 1, "concurrent.futures changed ProcessPoolExecutor._processes"
        assert all(callable(p.kill) and p.is_alive() for p in processes)

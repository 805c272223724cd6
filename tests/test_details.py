"""Small behaviours a user relies on, each found by reading the outputs as an officer would."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from click.testing import CliRunner

from conftest import COMMUNE_VALUES, fill, inbox_copy
from pipeline.catalogue import Catalogue
from pipeline.cli import cli
from pipeline.collect import collect
from pipeline.merge import _ranked
from pipeline.precheck import precheck
from pipeline.report import table_value
from pipeline.text import vn_number_apart


def test_a_value_never_looks_equal_to_the_target_it_misses():
    assert vn_number_apart(99.496, 99.5) == "99,496"
    assert vn_number_apart(99.5, 99.5) == "99,5"
    assert vn_number_apart(96.2, 95) == "96,2"
    assert table_value(99.496, "percentage", target=99.5) == "99,496"


def test_tied_units_are_not_picked_at_random():
    ct07 = Catalogue.load().indicator("ct07")  # at least: highest is best
    best, worst = _ranked(ct07, {"a": 66.67, "b": 100, "c": 100, "d": 100, "e": 100, "f": 100}, {})
    assert best == [] and [w["unit"] for w in worst] == ["a"]


def test_a_zip_holding_the_workbook_says_so(tmp_path, templates):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(templates["15718"], "2024_15718_thi-tran-nua.xlsx")
    path = tmp_path / "Thi tran Nua.zip"
    path.write_bytes(buf.getvalue())
    try:
        precheck(path)
    except Exception as e:  # noqa: BLE001
        assert e.code == "not-a-workbook" and "có chứa tệp Excel" in str(e)
    else:
        raise AssertionError("a zip was accepted as a workbook")


def test_system_files_in_the_inbox_are_not_submissions(workspace, templates, tmp_path):
    inbox_copy(workspace, fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES), "a.xlsx")
    (workspace.inbox(2024) / "desktop.ini").write_text("[.ShellClassInfo]\n")
    (workspace.inbox(2024) / "Thumbs.db").write_bytes(b"\0" * 64)
    result = collect(workspace, 2024)
    assert [s["path"] for s in result.submissions] == ["a.xlsx"] and result.skipped == []


def test_words_for_none_in_a_count_get_a_hint_and_a_formula_without_value_is_named(workspace, templates, tmp_path):
    filled = fill(templates["15700"], tmp_path / "a.xlsx", {**COMMUNE_VALUES, "ct09_abused": "Không có"})
    wb = openpyxl.load_workbook(filled)
    (sheet, ref), = wb.defined_names["ct11_injured"].destinations
    wb[sheet][ref] = "=1+2"  # saved by a program that does not calculate: no value stored
    wb.save(filled)
    inbox_copy(workspace, filled, "a.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    messages = {i["field"]: (i["code"], i["message"]) for i in sub["issues"]}
    assert messages["ct09_abused"][0] == "type-error" and "nhập 0" in messages["ct09_abused"][1]
    assert messages["ct11_injured"][0] == "formula-in-input" and "chưa có giá trị" in messages["ct11_injured"][1]


def test_commands_that_read_a_workspace_refuse_a_folder_that_is_not_one(tmp_path):
    for command in (["collect"], ["status"], ["merge"], ["report"]):
        res = CliRunner().invoke(cli, [*command, "--year", "2024", "-w", str(tmp_path / "khong-co")])
        assert res.exit_code == 1 and "chưa phải thư mục làm việc" in res.output
    assert not (tmp_path / "khong-co").exists()

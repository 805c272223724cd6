"""Speed never changes the answers: the fast reader (precheck + XML + calamine) and the
openpyxl reference give the same values and the same problems on the same files."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import COMMUNE_VALUES, YEAR, fill
from pipeline.collect import ingest
from pipeline.reporting import libreoffice
from pipeline.collect.run import _init_worker
from pipeline.collect.ingest import read
from reference_reader import read_reference
from pipeline.forms.contract import load_wording


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    """The collect worker's validator and form spec for 2024."""
    import pipeline.collect.run as collect

    from pipeline.config.workspace import init_workspace

    ws, _ = init_workspace(tmp_path_factory.mktemp("fast") / "ws")
    sheets = load_wording(ws.template("xlsx/workbook.yaml"))["sheets"]
    _init_worker(ws.catalogue, ws.roster, ws.settings, YEAR, sheets, {}, 0, tmp_path_factory.mktemp("arch"))
    return collect._validator, collect._spec


def variants(templates: dict, tmp: Path) -> dict[str, Path]:
    """Files filled the ways units fill them."""
    v = dict(COMMUNE_VALUES)
    out = {
        "clean": fill(templates["15700"], tmp / "clean.xlsx", v),
        "text numbers": fill(templates["15703"], tmp / "text.xlsx", {**v, "children_total": "5.000", "children_u1":
                                                                       " 300 ", "budget_ns_dia_phuong_spent": "110,5"}),
        "problems": fill(templates["15706"], tmp / "bad.xlsx", {**v, "ct02_served": 9999, "children_u5": "1,500",
                                                                "ct01_child_friendly": "có lẽ", "ct09_abused": -1}),
        "blanks": fill(templates["15709"], tmp / "blank.xlsx", {"children_total": 0, "children_u1": None}),
        "office narratives": fill(templates["P-LDTBXH"], tmp / "office.xlsx", {
            "narr_direction": "Dòng 1 & <w:p> {{ x }}\nDòng 2 =HYPERLINK(\"http://x\",\"y\")",
            "narr_limitations": "B¶o vÖ trÎ em",  # TCVN3
            "ct08_special": 2100, "children_total": 54000}),
        "town": fill(templates["15664"], tmp / "town.xlsx", {**v, "ct04_obese": 130}),
    }
    wb = openpyxl.load_workbook(out["clean"])
    wb["Số liệu"].insert_cols(7)
    (sheet, ref), = wb.defined_names["ct05_u1_vaccinated"].destinations
    wb[sheet][ref] = "=280+10"  # a formula in an input cell
    wb.save(tmp / "edited.xlsx")
    out["edited with a formula"] = tmp / "edited.xlsx"
    return out


def same(validator, path: Path) -> None:
    check, spec = validator
    fast, ref = check.check(read(path, spec)), check.check(read_reference(path, spec))
    assert fast.values == ref.values
    assert [i.to_dict() for i in fast.issues] == [i.to_dict() for i in ref.issues]


def test_same_values_and_problems(validator, templates, tmp_path):
    files = variants(templates, tmp_path)
    for name, path in files.items():
        same(validator, path)
    # The variants do exercise the checks: the bad file has problems, the clean one none.
    check, spec = validator
    assert check.check(read(files["clean"], spec)).issues == []
    codes = {i.code for i in check.check(read(files["problems"], spec)).issues}
    assert {"cross-field-rule", "ambiguous-number", "type-error", "out-of-range"} <= codes


def _rewrite_cells(src: Path, dest: Path, cells: dict[str, str]) -> Path:
    """Replace cells of the data sheet by raw XML, as other spreadsheet programs write them."""
    with zipfile.ZipFile(src) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    name = "xl/worksheets/sheet2.xml"
    xml = parts[name].decode()
    for ref, raw in cells.items():
        xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', raw, xml, count=1, flags=re.S)
        assert n == 1, ref
    parts[name] = xml.encode()
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for part, data in parts.items():
            zout.writestr(part, data)
    return dest


def test_cells_other_programs_write_read_the_same_both_ways(validator, templates, tmp_path):
    """Inline strings, booleans, error values, formulas with text results, an empty <v/>: the
    fast reader and openpyxl agree on each; so they do when a cell's body spans several lines
    (the sheet then goes to calamine)."""
    filled = fill(templates["15700"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    path = _rewrite_cells(filled, tmp_path / "others.xlsx", {
        "F6": '<c r="F6" s="5" t="inlineStr"><is><t>5000</t></is></c>',
        "F7": '<c r="F7" s="5" t="b"><v>1</v></c>',
        "F8": '<c r="F8" s="5" t="e"><v>#DIV/0!</v></c>',
        "F9": '<c r="F9" s="5" t="str"><f>"25"&amp;"00"</f><v>2500</v></c>',
        "F10": '<c r="F10" s="5"><v/></c>',
    })
    same(validator, path)
    cells = read(path, validator[1]).cells
    assert [cells[f].value for f in ("children_total", "children_u1", "children_u5", "children_age5")] == [
        "5000", True, "#DIV/0!", None]
    assert cells["children_0_8"].formula and cells["children_0_8"].value == "2500"
    spread = _rewrite_cells(filled, tmp_path / "spread.xlsx", {"F11": '<c r="F11" s="5">\n  <v>3000</v>\n</c>'})
    same(validator, spread)
    assert read(spread, validator[1]).cells["children_7plus"].value == 3000


def test_the_fast_path_does_not_parse_plain_files_twice(validator, templates, tmp_path, monkeypatch):
    """A form whose names survived is read from its XML; calamine is only the fallback."""
    path = fill(templates["15700"], tmp_path / "clean.xlsx", COMMUNE_VALUES)

    def no_calamine(*args, **kwargs):
        raise AssertionError("calamine was used")

    monkeypatch.setattr(ingest.python_calamine.CalamineWorkbook, "from_filelike", no_calamine)
    reading = read(path, validator[1])
    assert reading.cells["children_total"].value == 5000
    assert reading.cells["ct01_child_friendly"].value == "Có"


def test_libreoffice_saved_files_agree(validator, templates, tmp_path):
    if not libreoffice.available():
        pytest.skip("LibreOffice chưa được cài: không có tệp do LibreOffice lưu để so sánh.")
    filled = fill(templates["15700"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    resaved = libreoffice.convert(filled, "xlsx", tmp_path / "lo")
    same(validator, resaved)
    assert validator[0].check(read(resaved, validator[1])).values  # values were found

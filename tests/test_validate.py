"""Validate: a unit's file judged against the catalogue (identity, structure, values, rules,
plausibility), and the checks across units (median-based outliers, with hand-made distributions)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipeline.config.catalogue import Catalogue
from pipeline.collect.validate import outliers

CAT = Catalogue.load()


def units_with_rates(rates: list[float], den: int = 1000) -> dict[str, dict]:
    """Units whose CT5a rate (under-1 vaccination) is each given percentage."""
    return {f"u{i}": {"ct05_u1_vaccinated": round(r * den / 100), "children_u1": den} for i, r in enumerate(rates)}


def flagged(by_unit: dict) -> dict[str, list[str]]:
    return {u: [i.field for i in issues] for u, issues in outliers(CAT, by_unit).items()}


def test_a_unit_far_from_the_others_is_flagged_once():
    by_unit = units_with_rates([94, 95, 96, 95, 94, 96, 95, 60])
    assert flagged(by_unit) == {"u7": ["ct05_u1_vaccinated"]}
    (issue,) = outliers(CAT, by_unit)["u7"]
    assert issue.severity == "warning" and issue.code == "outlier"
    assert "60%" in issue.message and "trung vị 95%" in issue.message


def test_a_tight_cluster_flags_nobody():
    # Birth registration near 99.5% everywhere: a 0.3-point gap is not an outlier.
    assert flagged(units_with_rates([99.5, 99.4, 99.6, 99.5, 99.8, 99.2, 99.5, 99.5])) == {}


def test_rare_events_are_not_judged():
    # Child abuse: 0, 1 or 2 cases per commune; a rate of 0 is chance, not a data problem.
    by_unit = {f"u{i}": {"ct09_abused": n, "children_total": 1500} for i, n in enumerate([0, 1, 0, 2, 1, 0, 6, 1])}
    assert flagged(by_unit) == {}


def test_too_few_units_to_compare():
    assert flagged(units_with_rates([95, 96, 40, 95])) == {}


def test_towns_are_compared_with_towns_where_the_plan_sets_them_their_own_target():
    """CT4 obesity: the plan allows xã under 5% and thị trấn under 10%, so towns near 9% are not
    odd among communes near 3%; a town at 20% is odd among towns."""
    communes = {f"x{i}": {"ct04_obese": n, "ct04_measured": 1000} for i, n in enumerate([30, 32, 28, 31, 29, 30])}
    towns = {f"t{i}": {"ct04_obese": n, "ct04_measured": 1000} for i, n in enumerate([90, 88, 92, 91, 89])}
    types = {**{u: "xa" for u in communes}, **{u: "thi_tran" for u in towns}}
    assert set(flagged({**communes, **towns})) == set(towns)  # all lumped together
    assert outliers(CAT, {**communes, **towns}, types=types) == {}
    towns["t5"], towns["t6"] = {"ct04_obese": 200, "ct04_measured": 1000}, {"ct04_obese": 90, "ct04_measured": 1000}
    types["t5"] = types["t6"] = "thi_tran"
    found = outliers(CAT, {**communes, **towns}, types=types)
    assert list(found) == ["t5"]
    assert "so với các thị trấn khác (trung vị 9%)" in found["t5"][0].message


def test_an_inserted_column_is_not_an_overwritten_formula(workspace, templates, tmp_path):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect.run import collect

    filled = fill(templates["15700"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    wb["Số liệu"].insert_cols(7)  # a column between "Năm 2024" and "Tỷ lệ": formulas move right
    wb.save(filled)
    inbox_copy(workspace, filled, "them-cot.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert [i.code for i in sub.issues] == []
    assert sub.status == "accepted"


def test_a_typed_over_self_check_is_reported_at_its_cell(workspace, templates, tmp_path):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect.run import collect

    filled = fill(templates["15700"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    (sheet, ref), = wb.defined_names["ct02_served"].destinations
    row = wb[sheet][ref].row
    wb[sheet].cell(row, 7).value = 92  # the unit typed its own rate over the formula (column G)
    wb.save(filled)
    inbox_copy(workspace, filled, "go-de.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert [(i.code, i.cell) for i in sub.issues] == [("formula-overwritten", f"G{row}")]


def test_a_row_deleted_by_a_tool_that_keeps_the_names_is_refused_once(workspace, templates, tmp_path):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect.run import collect

    filled = fill(templates["15748"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    wb["Kinh phí"].delete_rows(5)  # openpyxl leaves the names where they were: values shift up
    wb.save(filled)
    inbox_copy(workspace, filled, "xoa-dong.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert sub.status == "rejected"
    assert [i.code for i in sub.issues] == ["rows-shifted"]
    assert "Kinh phí" in sub.issues[0].message and "biểu mẫu gốc" in sub.issues[0].message


def test_a_file_named_after_another_unit_is_flagged(workspace, templates, tmp_path):
    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect.run import collect

    filled = fill(templates["15709"], tmp_path / "x.xlsx", COMMUNE_VALUES)  # Xã An Nông's template
    inbox_copy(workspace, filled, "Xa Van Son bao cao tre em 2024.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert sub.unit == "15709"
    (issue,) = sub.issues
    assert issue.code == "identity-mismatch" and "Xã Vân Sơn" in issue.message


def _as_older_form(wb) -> None:
    """A form made before the field code moved to the hidden column: the code in column B."""
    from pipeline.forms.contract import LAYOUT, LEGACY_CODE_COLUMN

    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            if len(row) > LAYOUT["data"]["code"] and row[LAYOUT["data"]["code"]].value:
                row[LEGACY_CODE_COLUMN].value = row[LAYOUT["data"]["code"]].value
                row[LAYOUT["data"]["code"]].value = None


@pytest.mark.parametrize("older", [False, True], ids=["hidden-code-column", "code-in-column-b"])
def test_a_deleted_row_is_caught_by_the_code_column_of_new_and_older_forms(workspace, templates, tmp_path, older):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect.run import collect

    filled = fill(templates["15748"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    if older:
        _as_older_form(wb)
    wb.save(tmp_path / "intact.xlsx")
    wb["Số liệu"].delete_rows(8)  # the names stay where they were: values shift up
    wb.save(filled)
    inbox_copy(workspace, tmp_path / "intact.xlsx", "nguyen-ven.xlsx")
    inbox_copy(workspace, filled, "xoa-dong.xlsx")
    subs = {s.path: s for s in collect(workspace, 2024, feedback=False).submissions}
    assert subs["nguyen-ven.xlsx"].issues == []
    assert [i.code for i in subs["xoa-dong.xlsx"].issues] == ["rows-shifted"]
    assert "Số liệu" in subs["xoa-dong.xlsx"].issues[0].message


# --- Problems a unit's file can carry, each made the way it happens ------------------------


def _collected(workspace, path: Path, name: str) -> dict:
    from conftest import inbox_copy
    from pipeline.collect.run import collect

    inbox_copy(workspace, path, name)
    (sub,) = collect(workspace, 2024).submissions
    return sub


def _with_members(src: Path, dest: Path, extra: dict[str, bytes]) -> Path:
    """The workbook with zip members added, as another program would leave them."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        for name, data in extra.items():
            zout.writestr(name, data)
    return dest


def _filled(templates, tmp_path: Path, unit: str = "15700", **changes) -> Path:
    from conftest import COMMUNE_VALUES, fill

    return fill(templates[unit], tmp_path / "filled.xlsx", {**COMMUNE_VALUES, **changes})


def test_a_link_to_another_workbook_is_read_with_a_warning(workspace, templates, tmp_path):
    link = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
    path = _with_members(_filled(templates, tmp_path), tmp_path / "link.xlsx",
                         {"xl/externalLinks/externalLink1.xml": link})
    sub = _collected(workspace, path, "lien-ket.xlsx")
    assert (sub.status, [i.code for i in sub.issues]) == ("accepted_with_warnings", ["external-links"])
    assert "nhập số trực tiếp" in sub.issues[0].message


def test_an_activex_control_is_ignored_with_a_warning(workspace, templates, tmp_path):
    ax = b'<?xml version="1.0"?><ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX"/>'
    path = _with_members(_filled(templates, tmp_path), tmp_path / "ax.xlsx",
                         {"xl/activeX/activeX1.xml": ax, "xl/activeX/activeX1.bin": b"\x00" * 64})
    sub = _collected(workspace, path, "activex.xlsx")
    assert (sub.status, [i.code for i in sub.issues]) == ("accepted_with_warnings", ["embedded-content"])


def test_a_legacy_xls_is_read_with_a_warning(workspace, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Số liệu")
    sheet.write(0, 0, "Đơn vị: Xã Vân Sơn (mã 15700)")
    book.save(str(tmp_path / "cu.xls"))
    sub = _collected(workspace, tmp_path / "cu.xls", "15700_cu.xls")
    assert sub.unit == "15700"
    assert "legacy-xls" in [i.code for i in sub.issues]
    assert [i.severity for i in sub.issues if i.code == "legacy-xls"] == ["warning"]


def _set_identity(path: Path, props: dict | None = None, meta: dict | None = None) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for p in wb.custom_doc_props.props:
        if p.name in (props or {}):
            p.value = props[p.name]
    for row in wb["_meta"].iter_rows():
        if row[0].value in (meta or {}):
            row[1].value = meta[row[0].value]
    wb.save(path)


def test_properties_and_meta_sheet_that_disagree_are_a_warning(workspace, templates, tmp_path):
    path = _filled(templates, tmp_path)
    _set_identity(path, meta={"treem_unit": "15709"})  # the hidden sheet says Xã An Nông
    sub = _collected(workspace, path, "15700.xlsx")
    assert sub.unit == "15700"  # the document properties win
    assert [i.code for i in sub.issues] == ["identity-conflict"]


def test_a_form_of_an_older_version_is_read_with_a_warning(workspace, templates, tmp_path):
    path = _filled(templates, tmp_path)
    _set_identity(path, props={"treem_template_version": "2000.1"}, meta={"treem_template_version": "2000.1"})
    sub = _collected(workspace, path, "15700.xlsx")
    assert (sub.status, [i.code for i in sub.issues]) == ("accepted_with_warnings", ["template-outdated"])
    assert "phiên bản 2000.1" in sub.issues[0].message


def test_a_deleted_input_name_and_a_broken_one_are_errors(workspace, templates, tmp_path):
    import openpyxl

    path = _filled(templates, tmp_path)
    wb = openpyxl.load_workbook(path)
    del wb.defined_names["ct02_served"]
    wb.defined_names["ct04_measured"].attr_text = "#REF!"
    wb.save(path)
    sub = _collected(workspace, path, "15700.xlsx")
    assert sub.status == "rejected"
    found = {i.field: i.code for i in sub.issues if i.code in ("missing-name", "name-broken")}
    assert found == {"ct02_served": "missing-name", "ct04_measured": "name-broken"}


def test_a_large_change_from_last_year_is_a_warning(workspace, templates, tmp_path):
    from conftest import COMMUNE_VALUES, store_values

    store_values(workspace, 2023, "15700", {**COMMUNE_VALUES, "ct02_served": 1000})
    sub = _collected(workspace, _filled(templates, tmp_path), "15700.xlsx")  # 2,300 this year
    (change,) = [i for i in sub.issues if i.code == "large-change"]
    assert change.field == "ct02_served" and change.severity == "warning"
    assert "2.300 so với 1.000 năm trước (tăng 130%)" in change.message


def test_a_rate_on_few_children_is_a_warning(workspace, templates, tmp_path):
    path = _filled(templates, tmp_path, children_total=400, ct11_injured=2)
    sub = _collected(workspace, path, "15700.xlsx")
    small = [i for i in sub.issues if i.code == "small-denominator"]
    assert [i.field for i in small] == ["ct11_injured"]
    assert "tính trên 400 trẻ em" in small[0].message and "250 điểm" in small[0].message


def test_words_for_none_in_a_count_get_a_hint_and_a_formula_without_value_is_named(workspace, templates, tmp_path):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect.run import collect

    filled = fill(templates["15700"], tmp_path / "a.xlsx", {**COMMUNE_VALUES, "ct09_abused": "Không có"})
    wb = openpyxl.load_workbook(filled)
    (sheet, ref), = wb.defined_names["ct11_injured"].destinations
    wb[sheet][ref] = "=1+2"  # saved by a program that does not calculate: no value stored
    wb.save(filled)
    inbox_copy(workspace, filled, "a.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    messages = {i.field: (i.code, i.message) for i in sub.issues}
    assert messages["ct09_abused"][0] == "type-error" and "nhập 0" in messages["ct09_abused"][1]
    assert messages["ct11_injured"][0] == "formula-in-input" and "chưa có giá trị" in messages["ct11_injured"][1]

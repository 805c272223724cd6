"""Plausibility checks across units: median-based outliers, with hand-made distributions."""

from __future__ import annotations

import pytest

from pipeline.catalogue import Catalogue
from pipeline.validate import outliers

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
    from pipeline.collect import collect

    filled = fill(templates["15700"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    wb["Số liệu"].insert_cols(7)  # a column between "Năm 2024" and "Tỷ lệ": formulas move right
    wb.save(filled)
    inbox_copy(workspace, filled, "them-cot.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert [i["code"] for i in sub["issues"]] == []
    assert sub["status"] == "accepted"


def test_a_typed_over_self_check_is_reported_at_its_cell(workspace, templates, tmp_path):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect import collect

    filled = fill(templates["15700"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    (sheet, ref), = wb.defined_names["ct02_served"].destinations
    row = wb[sheet][ref].row
    wb[sheet].cell(row, 7).value = 92  # the unit typed its own rate over the formula (column G)
    wb.save(filled)
    inbox_copy(workspace, filled, "go-de.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert [(i["code"], i["cell"]) for i in sub["issues"]] == [("formula-overwritten", f"G{row}")]


def test_a_row_deleted_by_a_tool_that_keeps_the_names_is_refused_once(workspace, templates, tmp_path):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect import collect

    filled = fill(templates["15748"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    wb["Kinh phí"].delete_rows(5)  # openpyxl leaves the names where they were: values shift up
    wb.save(filled)
    inbox_copy(workspace, filled, "xoa-dong.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert sub["status"] == "rejected"
    assert [i["code"] for i in sub["issues"]] == ["rows-shifted"]
    assert "Kinh phí" in sub["issues"][0]["message"] and "biểu mẫu gốc" in sub["issues"][0]["message"]


def test_a_file_named_after_another_unit_is_flagged(workspace, templates, tmp_path):
    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect import collect

    filled = fill(templates["15709"], tmp_path / "x.xlsx", COMMUNE_VALUES)  # Xã An Nông's template
    inbox_copy(workspace, filled, "Xa Van Son bao cao tre em 2024.xlsx")
    (sub,) = collect(workspace, 2024).submissions
    assert sub["unit"] == "15709"
    (issue,) = sub["issues"]
    assert issue["code"] == "identity-mismatch" and "Xã Vân Sơn" in issue["message"]


def _as_older_form(wb) -> None:
    """A form made before the field code moved to the hidden column: the code in column B."""
    from pipeline.template import LAYOUT, LEGACY_CODE_COLUMN

    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            if len(row) > LAYOUT["data"]["code"] and row[LAYOUT["data"]["code"]].value:
                row[LEGACY_CODE_COLUMN].value = row[LAYOUT["data"]["code"]].value
                row[LAYOUT["data"]["code"]].value = None


@pytest.mark.parametrize("older", [False, True], ids=["hidden-code-column", "code-in-column-b"])
def test_a_deleted_row_is_caught_by_the_code_column_of_new_and_older_forms(workspace, templates, tmp_path, older):
    import openpyxl

    from conftest import COMMUNE_VALUES, fill, inbox_copy
    from pipeline.collect import collect

    filled = fill(templates["15748"], tmp_path / "filled.xlsx", COMMUNE_VALUES)
    wb = openpyxl.load_workbook(filled)
    if older:
        _as_older_form(wb)
    wb.save(tmp_path / "intact.xlsx")
    wb["Số liệu"].delete_rows(8)  # the names stay where they were: values shift up
    wb.save(filled)
    inbox_copy(workspace, tmp_path / "intact.xlsx", "nguyen-ven.xlsx")
    inbox_copy(workspace, filled, "xoa-dong.xlsx")
    subs = {s["path"]: s for s in collect(workspace, 2024, feedback=False).submissions}
    assert subs["nguyen-ven.xlsx"]["issues"] == []
    assert [i["code"] for i in subs["xoa-dong.xlsx"]["issues"]] == ["rows-shifted"]
    assert "Số liệu" in subs["xoa-dong.xlsx"]["issues"][0]["message"]

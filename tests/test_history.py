"""Last year's values reach next year's templates, across the 2025 roster change too."""

from __future__ import annotations

import openpyxl

from conftest import store_values
from pipeline.forms.writer import LAYOUT, generate
from pipeline.store.submissions import counted_values


def previous_cell(path, field: str):
    """The "last year" cell on the row of `field`'s input cell."""
    wb = openpyxl.load_workbook(path)
    (sheet, ref), = wb.defined_names[field].destinations
    row = wb[sheet][ref].row
    return wb[sheet].cell(row, LAYOUT["data"]["prev"] + 1).value


def test_last_year_prefills_the_template(workspace):
    store_values(workspace, 2023, "15700", {"children_total": 5123, "ct01_child_friendly": 1.0})
    files = {f.unit: f.path for f in generate(workspace, 2024, ["15700", "15703"]).files}
    assert previous_cell(files["15700"], "children_total") == 5123
    assert previous_cell(files["15700"], "ct01_child_friendly") == "Có"
    assert previous_cell(files["15703"], "children_total") is None  # sent nothing last year


def test_across_the_2025_reform_new_communes_see_their_predecessors_summed(workspace):
    # Xã Triệu Sơn (15664, from 1 July 2025) = TT Triệu Sơn + Minh Sơn + Dân Lực + Dân Lý + Dân Quyền.
    parts = {"15664": 9000, "15691": 4000, "15700": 5000, "15703": 3000, "15706": 2500}
    for code, n in parts.items():
        store_values(workspace, 2024, code, {"children_total": n, "ct01_child_friendly": 1.0})
    files = {f.unit: f.path for f in generate(workspace, 2025, ["15664"]).files}
    assert previous_cell(files["15664"], "children_total") == 23500
    # Five yes/no answers cannot be combined into one.
    assert previous_cell(files["15664"], "ct01_child_friendly") is None


def test_a_new_commune_with_a_predecessor_that_sent_nothing_gets_no_last_year(workspace):
    # Xã Triệu Sơn (15664) = five old units; Dân Quyền (15706) sent nothing in 2024. Four of five
    # is not the new commune: its "last year" stays empty rather than 19.000 of the 21.500 children.
    parts = {"15664": 9000, "15691": 4000, "15700": 5000, "15703": 3000}
    for code, n in parts.items():
        store_values(workspace, 2024, code, {"children_total": n})
    files = {f.unit: f.path for f in generate(workspace, 2025, ["15664"]).files}
    assert previous_cell(files["15664"], "children_total") is None
    from pipeline.store.history import incomplete_successors
    from pipeline.store.db import Store

    with Store(workspace.db_path) as store:
        values = counted_values(store, 2024)
    assert incomplete_successors(values, workspace.roster, 2024, 2025) == {"15664": ["15706"]}

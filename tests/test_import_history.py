"""History before the tool: a district starting in 2024 enters 2021-2023 (and a district row)
through the import workbook; CT13, last year's column and the 2025 mid-term table fill up."""

from __future__ import annotations

import csv
import json

import openpyxl
from click.testing import CliRunner
from docx import Document

from conftest import COMMUNE_VALUES, store_values
from pipeline.cli import cli
from pipeline.analysis.import_history import DATA_SHEET, DISTRICT, import_history, write_template
from pipeline.merge.merger import merge
from pipeline.reporting.report import report
from pipeline.reporting.context import build_context
from pipeline.store.db import Store
from pipeline.store.submissions import counted_values

NEW_COMMUNES = ["15664", "15667", "15754", "15763", "15682", "15766", "15715", "15724"]


def _fill_history(path, years_values: dict[int, dict], district: dict | None = None, bad: dict | None = None):
    wb = openpyxl.load_workbook(path)
    sh = wb[DATA_SHEET]
    codes = [c.value for c in sh[2]]
    for row in sh.iter_rows(min_row=3):
        year, unit = row[0].value, row[1].value
        values = district if unit == DISTRICT else years_values.get(year)
        if bad and (year, unit) == bad["at"]:
            values = {**values, **bad["values"]}
        for cell, code in zip(row, codes):
            if values and code in values:
                cell.value = values[code]
    wb.save(path)


def test_imported_history_completes_ct13_and_the_mid_term_table(workspace, tmp_path):
    res = CliRunner().invoke(cli, ["import-history", "--template", str(tmp_path / "ls.xlsx"), "--workspace",
                                   str(workspace.root)])
    assert res.exit_code == 0, res.output
    path = tmp_path / "ls.xlsx"
    # The template covers 2021-2023 by default; 2024 is added as a copied row would be.
    write_template(workspace, path, years=[2021, 2022, 2023, 2024])
    per_year = {y: dict(COMMUNE_VALUES, ct13_child_marriages=6 - (y - 2021), ct05_u1_vaccinated=270 + 5 * (y - 2021))
                for y in (2021, 2022, 2023, 2024)}
    # Text numbers the Vietnamese way pass through the same reading as a form.
    per_year[2023]["children_total"] = "5.000"
    _fill_history(path, per_year, bad={"at": (2022, "15700"), "values": {"ct05_u1_vaccinated": 900}})
    workspace.db_path.touch()
    res = CliRunner().invoke(cli, ["import-history", str(path), "--workspace", str(workspace.root), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["merged"] == [2021, 2022, 2023, 2024]
    rejected = [s for s in out["stored"] if s["status"] == "rejected"]
    assert [(s["year"], s["unit"]) for s in rejected] == [(2022, "15700")]  # 900 vaccinated of 300 under-1s
    assert rejected[0]["issues"][0]["code"] == "cross-field-rule"
    with Store(workspace.db_path) as store:
        assert counted_values(store, 2023)["15700"]["children_total"] == 5000
        assert sum(a["action"] == "history-imported" for a in store.audit(2021)) == 34
    # Importing the same file again adds nothing.
    again = import_history(workspace, path, merge_years=False)
    assert again.stored == []

    # 2025: the eight new communes report through the store.
    for u in NEW_COMMUNES:
        store_values(workspace, 2025, u, {k: v for k, v in COMMUNE_VALUES.items()
                                          if isinstance(v, (int, float))} | {"ct13_child_marriages": 2})
    result = merge(workspace, 2025)
    ct13 = result.indicator("ct13")
    assert ct13.value is not None
    assert [ct13.history.get(str(y)) is not None for y in range(2021, 2026)] == [False, True, True, True, True]
    # 2024 → 2025: 34 communes × 3 marriages → 8 × 2.
    assert abs(ct13.value - (16 - 102) / 102 * 100) < 1e-9
    ctx = build_context(workspace, result)
    review = ctx["review"]
    rows = [r for r in review["rows"] if not r["group"]]
    vacc = next(r for r in rows if "tiêm chủng" in r["name"].lower() and "dưới 1 tuổi" in r["name"].lower())
    assert all(c for c in vacc["cells"]), vacc["cells"]
    marriages = next(r for r in rows if "tảo hôn" in r["name"].lower())
    assert marriages["cells"][0] == "–" and all(c.startswith("Giảm") for c in marriages["cells"][1:])
    # Every output that uses it says so.
    written = report(workspace, 2024)
    text = "\n".join(p.text for p in Document(written.docx).paragraphs)
    text += "\n".join(c.text for t in Document(written.docx).tables for r in t.rows for c in r.cells)
    assert "nhập từ số liệu lịch sử" in text and "Số liệu nhập từ lịch sử" in text
    # ... and so do the consolidated workbook and the CSV of a year made of imported figures.
    merged = merge(workspace, 2023)
    assert len(merged.imported_units) == 34
    summary = openpyxl.load_workbook(merged.outputs["workbook"])["Tổng hợp"]["A2"].value
    assert "34 đơn vị được nhập từ số liệu lịch sử (treem import-history)" in summary
    with open(merged.outputs["csv"], encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if r["orgunit"] == "15700"]
    assert rows and {r["comment"] for r in rows} == {"nhập từ số liệu lịch sử"}
    # A year sent on forms says nothing of the kind.
    assert merge(workspace, 2025).imported_units == []


def test_a_district_row_stands_in_for_missing_communes(workspace, tmp_path):
    path = write_template(workspace, tmp_path / "ls.xlsx", years=[2023])
    _fill_history(path, {}, district={"ct13_child_marriages": 40, "ct09_abused": 12, "children_total": 150000})
    import_history(workspace, path)
    with Store(workspace.db_path) as store:
        led = counted_values(store, 2023)
    assert led["P-LDTBXH"]["ct09_abused"] == 12
    merged = merge(workspace, 2023)
    ct9 = merged.indicator("ct09")
    assert ct9.source == "office" and ct9.numerator == 12

"""Blanks and slips as units really send them: a blank explained in «Giải thích», a form sent
back untouched, 1.234 typed in an English-locale Excel."""

from __future__ import annotations

import openpyxl
from docx import Document

from conftest import COMMUNE_VALUES, YEAR, fill
from pipeline.collect.run import collect
from pipeline.merge.merger import merge
from pipeline.reporting.report import report
from pipeline.store.db import Store
from pipeline.store.submissions import counted_values
from pipeline.forms.contract import note_name


def _only(ws):
    with Store(ws.db_path) as store:
        (s,) = [s for s in store.submissions(YEAR) if s.status != "superseded"]
        return s, store.issues(s.id), counted_values(store, YEAR).get(s.unit)


def test_a_blank_explained_in_giai_thich_is_a_warning_and_not_reported(workspace, templates):
    values = {k: v for k, v in COMMUNE_VALUES.items() if k != "ct09_abused"}
    values[note_name("ct09_abused")] = "Công an xã chưa cung cấp số liệu"
    fill(templates["15700"], workspace.inbox(YEAR) / "dan_luc.xlsx", values)
    collect(workspace, YEAR, workers=1)
    s, issues, accepted = _only(workspace)
    assert s.status == "accepted_with_warnings"
    (blank,) = [i for i in issues if i.field == "ct09_abused"]
    assert blank.code == "explained-blank" and blank.severity == "warning"
    assert blank.message.endswith("chưa có số liệu: Công an xã chưa cung cấp số liệu")
    assert "ct09_abused" not in accepted and accepted["ct10_child_labour"] == 30
    merged = merge(workspace, YEAR)
    ct9 = merged.indicator("ct09")
    assert ct9.units_reported == 0 and ct9.value is None
    wb = openpyxl.load_workbook(workspace.output(YEAR) / f"kiem_tra_so_lieu_{YEAR}.xlsx")
    detail = list(wb["Chi tiết lỗi"].iter_rows(values_only=True))
    content = detail[0].index("Nội dung")
    assert any("Công an xã chưa cung cấp số liệu" in str(r[content]) for r in detail[1:])
    doc = Document(report(workspace, YEAR).docx)
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert any("chưa có số liệu: Công an xã chưa cung cấp số liệu" in c for c in cells)


def test_a_blank_without_explanation_is_still_an_error(workspace, templates):
    values = {k: v for k, v in COMMUNE_VALUES.items() if k != "ct09_abused"}
    fill(templates["15700"], workspace.inbox(YEAR) / "dan_luc.xlsx", values)
    collect(workspace, YEAR, workers=1)
    s, issues, _ = _only(workspace)
    assert s.status == "rejected"
    assert [i.code for i in issues if i.field == "ct09_abused"] == ["required-missing"]


def test_a_form_returned_blank_is_one_error(workspace, templates):
    fill(templates["15700"], workspace.inbox(YEAR) / "dan_luc.xlsx", {})
    collect(workspace, YEAR, workers=1)
    s, issues, _ = _only(workspace)
    assert s.status == "rejected"
    assert [i.code for i in issues if i.code != "late-submission"] == ["blank-form"]
    assert "biểu mẫu chưa được điền" in issues[0].message.lower()


def test_a_number_with_three_decimals_in_a_count_asks_whether_thousands_were_meant(workspace, templates):
    fill(templates["15700"], workspace.inbox(YEAR) / "dan_luc.xlsx", dict(COMMUNE_VALUES, children_u5=1.234,
                                                                           ct04_measured=1.5))
    collect(workspace, YEAR, workers=1)
    _, issues, _ = _only(workspace)
    codes = {(i.field, i.code): i for i in issues}
    assert "1,234 không phải số nguyên; có phải 1.234?" in codes["children_u5", "probable-thousands"].message
    assert ("children_u5", "decimal-in-count") not in codes
    assert ("ct04_measured", "decimal-in-count") in codes  # 1,5 is no slip of thousands
    assert ("ct04_measured", "probable-thousands") not in codes

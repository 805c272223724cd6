"""The officer's decisions: accepting a unit despite one typo, correcting a received date.
Recorded in the audit log, seen in status, the validation workbook and the report, kept
across re-runs of collect."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document

from conftest import COMMUNE_VALUES, YEAR, fill, set_received
from pipeline.cli import cli
from pipeline.collect.run import collect
from pipeline.store.decisions import decisions, undo_accept
from pipeline.merge.merger import merge
from pipeline.reporting.report import report
from pipeline.store.db import Store
from pipeline.store.status import Status
from pipeline.store.submissions import counted_values, current


def _invoke(ws, *args):
    return CliRunner().invoke(cli, [*args, "--workspace", str(ws.root)])


def _commune_values(store, year, unit):
    return counted_values(store, year).get(unit)


def test_accept_despite_one_typo_counts_everything_else_and_survives_collect(workspace, templates):
    # Xã Dân Lực types "2,5" children under 1 vaccinated: one error, the whole commune rejected.
    fill(templates["15700"], workspace.inbox(YEAR) / "dan_luc.xlsx", dict(COMMUNE_VALUES, ct05_u1_vaccinated="2,5"))
    set_received(workspace.inbox(YEAR) / "dan_luc.xlsx", datetime(YEAR, 11, 15, 9))
    fill(templates["15703"], workspace.inbox(YEAR) / "dan_ly.xlsx", COMMUNE_VALUES)
    set_received(workspace.inbox(YEAR) / "dan_ly.xlsx", datetime(YEAR, 11, 15, 9))
    collect(workspace, YEAR, workers=1)
    with Store(workspace.db_path) as store:
        assert "15700" not in counted_values(store, YEAR)

    res = _invoke(workspace, "accept", "15700", "--year", str(YEAR), "--note", "Xã xác nhận qua điện thoại")
    assert res.exit_code == 0, res.output
    assert "Xã xác nhận qua điện thoại" in res.output
    with Store(workspace.db_path) as store:
        values = _commune_values(store, YEAR, "15700")
        assert "ct05_u1_vaccinated" not in values  # the offending value is left out
        assert values["children_u1"] == COMMUNE_VALUES["children_u1"] and len(values) > 40
        log = [a for a in store.audit(YEAR) if a["action"] == "accept"]
        assert len(log) == 1 and json.loads(log[0]["detail"])["note"] == "Xã xác nhận qua điện thoại"

    # A second collect (a late file arrives) keeps the decision.
    fill(templates["15706"], workspace.inbox(YEAR) / "dan_quyen.xlsx", COMMUNE_VALUES)
    again = collect(workspace, YEAR, workers=1)
    with Store(workspace.db_path) as store:
        assert "ct05_u1_vaccinated" not in _commune_values(store, YEAR, "15700")
    # The unit's copy says its file was accepted, not that it must send it again.
    (copy,) = [f for f in again.outputs.feedback if f.unit == "15700"]
    assert copy.status is Status.ACCEPTED_BY_OFFICER
    told = openpyxl.load_workbook(copy.path).worksheets[0].cell(2, 1).value
    assert "đã được chấp nhận" in told and "rồi gửi lại" not in told
    merged = merge(workspace, YEAR)
        # Two communes count for vaccination under 1, all three for the rest.
    assert merged.indicator("ct05a").units_reported == 2 and merged.indicator("ct05b").units_reported == 3
    st = _invoke(workspace, "status", "--year", str(YEAR))
    assert "Quyết định đã ghi:" in st.output and "Xã xác nhận qua điện thoại" in st.output
    wb = openpyxl.load_workbook(workspace.output(YEAR) / f"kiem_tra_so_lieu_{YEAR}.xlsx")
    rows = [[c for c in r if c] for r in wb["Quyết định"].iter_rows(values_only=True)]
    assert any("Xã xác nhận qua điện thoại" in r for r in rows)
    status = {r[1]: r[4] for r in wb["Tổng hợp"].iter_rows(min_row=5, values_only=True)}
    assert status["15700"] == "Có lỗi, đã chấp nhận theo quyết định"
    # Its summary line counts as merge counts: the accepted commune is among the valid ones.
    assert "hợp lệ: 3 (trong đó 1 có lỗi nhưng đã chấp nhận theo quyết định); có lỗi: 0" in wb["Tổng hợp"]["A2"].value
    written = report(workspace, YEAR)
    text = "\n".join(c.text for t in Document(written.docx).tables for r in t.rows for c in r.cells)
    assert "Chấp nhận dù còn lỗi" in text and "Xã xác nhận qua điện thoại" in text

    # Undo: one more entry, the unit is out again; nothing erased from the log.
    undo_accept(workspace, YEAR, "15700", "Xã sẽ gửi lại")
    with Store(workspace.db_path) as store:
        assert "15700" not in counted_values(store, YEAR)
    assert [d.action for d in decisions(workspace, YEAR)] == ["accept", "accept-undone"]
    res = _invoke(workspace, "accept", "15700", "--year", str(YEAR), "--undo")
    assert res.exit_code != 0 and "chưa được chấp nhận" in res.output


def test_accept_needs_a_reason_and_something_to_accept(workspace, templates):
    fill(templates["15703"], workspace.inbox(YEAR) / "dan_ly.xlsx", COMMUNE_VALUES)
    collect(workspace, YEAR, workers=1)
    res = _invoke(workspace, "accept", "15703", "--year", str(YEAR), "--note", "x")
    assert res.exit_code != 0 and "đã hợp lệ" in res.output
    res = _invoke(workspace, "accept", "15700", "--year", str(YEAR))
    assert res.exit_code != 0 and "lý do" in res.output


def test_received_date_set_by_the_officer_survives_a_second_collect(workspace, templates):
    # Downloaded from Zalo on 25/11: the file's time says late; it came on 18/11.
    path = fill(templates["15703"], workspace.inbox(YEAR) / "Zalo" / "2024_15703_xa-dan-ly.xlsx", COMMUNE_VALUES)
    set_received(path, datetime(YEAR, 11, 25, 16))
    collect(workspace, YEAR, workers=1)
    with Store(workspace.db_path) as store:
        s = current(store, YEAR)["15703"]
        assert s.on_time is False and any(i.code == "late-submission" for i in store.issues(s.id))
    res = _invoke(workspace, "received", "2024_15703_xa-dan-ly.xlsx", "--year", str(YEAR), "--date", "18/11/2024",
                  "--note", "nhận qua Zalo")
    assert res.exit_code == 0, res.output
    assert "18/11/2024" in res.output and "nhận qua Zalo" in res.output
    for _ in range(2):  # and again after collect runs once more
        with Store(workspace.db_path) as store:
            s = current(store, YEAR)["15703"]
            assert s.on_time is True and s.received_at.startswith(f"{YEAR}-11-18")
            assert not any(i.code == "late-submission" for i in store.issues(s.id))
            assert s.status == "accepted"
        collect(workspace, YEAR, workers=1)
    st = json.loads(_invoke(workspace, "status", "--year", str(YEAR), "--json").output)
    assert st["late"] == 0 and st["decisions"][0]["note"] == "nhận qua Zalo"


def test_received_date_set_before_the_file_is_collected(workspace, templates):
    path = fill(templates["15703"], workspace.inbox(YEAR) / "dan_ly.xlsx", COMMUNE_VALUES)
    set_received(path, datetime(YEAR, 11, 28, 8))
    workspace.db_path.parent.mkdir(exist_ok=True)
    res = _invoke(workspace, "received", "dan_ly.xlsx", "--year", str(YEAR), "--date", "19/11/2024", "--note",
                  "thư điện tử ngày 19/11")
    assert res.exit_code == 0, res.output
    collect(workspace, YEAR, workers=1)
    with Store(workspace.db_path) as store:
        s = current(store, YEAR)["15703"]
        assert s.on_time is True and s.received_at.startswith(f"{YEAR}-11-19")
    res = _invoke(workspace, "received", "khong-co.xlsx", "--year", str(YEAR), "--date", "19/11/2024")
    assert res.exit_code != 0 and "Không có tệp" in res.output
    res = _invoke(workspace, "received", "dan_ly.xlsx", "--year", str(YEAR), "--date", "31/11/2024")
    assert res.exit_code != 0 and "18/11/2024" in res.output


def test_a_received_date_in_the_future_is_refused(workspace):
    from datetime import date, timedelta

    from pipeline.store.decisions import DecisionError, set_received as received

    with pytest.raises(DecisionError, match="chưa tới"):
        received(workspace, YEAR, "a.xlsx", date.today() + timedelta(days=1), "gõ nhầm năm")
    assert decisions(workspace, YEAR) == []

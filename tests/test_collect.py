"""Collect what units send back, as they really send it.

Real workbooks made from the generated templates, filled the way units fill them (typed
into the named cells with openpyxl, or through LibreOffice), dropped into a workspace's
input/2024/, then `collect(ws, 2024)`. Each test says what the officer relies on."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import pipeline.collect.run as collect_mod
from conftest import COMMUNE_VALUES, VIETNAMESE, YEAR, fill, inbox_copy, load_helper, set_received
from pipeline.cli import cli
from pipeline.demo import set_saved_time
from pipeline.collect.run import collect
from pipeline.collect.feedback import FEEDBACK_SHEET
from pipeline.collect.result import FileOutcome
from pipeline.base.problems import ValidationIssue
from pipeline.config.layout import feedback_name
from pipeline.base.workers import start_method
from pipeline.store.db import Store
from pipeline.store.status import Status
from pipeline.store.submissions import counted_values, status as year_status
from pipeline.forms.writer import generate
from pipeline.config.workspace import init_workspace
from pipeline.base.text import encode_tcvn3

HERE = Path(__file__).parent
STATUSES = {"accepted", "accepted_with_warnings", "rejected", "superseded"}


corpus = load_helper("hostile_make_corpus", "hostile/make_corpus.py")
lo_fill = load_helper("lo_fill", "lo_fill.py")


# --- helpers ----------------------------------------------------------------------------------


def submit(ws, templates, tmp_path, unit: str, values: dict, name: str, saved_at: datetime | None = None,
           **kw) -> Path:
    """Fill the unit's template with `values` and drop it into the inbox as `name`."""
    filled = fill(templates[unit], tmp_path / "filled" / name, values)
    if saved_at is not None:
        saved_time(filled, saved_at)
    return inbox_copy(ws, filled, name, **kw)


def saved_time(path: Path, when: datetime) -> None:
    set_saved_time(path, when)


def run(ws) -> dict[str, FileOutcome]:
    """Collect and return the submissions by file name."""
    return {s.path: s for s in collect(ws, YEAR).submissions}


def codes(sub: FileOutcome, severity: str | None = None) -> list[str]:
    return [i.code for i in sub.issues if severity in (None, i.severity)]


def at(sub: FileOutcome, field: str) -> list[str]:
    return [i.code for i in sub.issues if i.field == field]


def one(sub: FileOutcome, code: str) -> ValidationIssue:
    found = [i for i in sub.issues if i.code == code]
    assert len(found) == 1, (code, sub.issues)
    return found[0]


def values_of(ws, path: str) -> dict:
    with Store(ws.db_path) as store:
        sid = next(s.id for s in store.submissions(YEAR) if s.path == path)
        return store.values([sid])[sid]


def cell_of(template: Path, name: str) -> tuple[str, str]:
    wb = openpyxl.load_workbook(template)
    (sheet, ref), = wb.defined_names[name].destinations
    return sheet, ref.replace("$", "")


def tree_hash(folder: Path) -> dict[str, tuple[str, float]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def paste_workbook(path: Path, values: dict, head: str | None) -> Path:
    """What a unit does when it copies its figures into a new workbook: no names, no
    metadata, but the code column beside the values (and maybe the unit line on top)."""
    wb = openpyxl.Workbook()
    data, budget = wb.active, wb.create_sheet("Sheet2")
    data.title = "Sheet1"
    if head:
        data["A2"] = head
    data.append([])
    data["A4"], data["B4"], data["C4"], data["F4"] = "TT", "Mã", "Nội dung", "Năm 2024"
    for n, (code, value) in enumerate(values.items(), start=1):
        sheet = budget if code.startswith("budget_") else data
        r = sheet.max_row + 1
        sheet.cell(r, 1, n)
        sheet.cell(r, 2, code)
        sheet.cell(r, 6, value)
    wb.save(path)
    return path


# --- a clean file, and rows inserted above --------------------------------------------------------


def test_clean_commune_is_accepted_with_its_values(workspace, templates, tmp_path):
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "dan_luc.xlsx")
    sub = run(workspace)["dan_luc.xlsx"]
    assert (sub.unit, sub.status, sub.issues) == ("15700", "accepted", [])
    assert sub.identity_source == "metadata" and sub.on_time is True
    vals = values_of(workspace, "dan_luc.xlsx")
    assert vals["children_total"]["value"] == 5000 and vals["children_total"]["cell"] == "F6"
    assert vals["ct01_child_friendly"]["value"] == 1.0   # "Có"
    assert vals["ct21_play_spot"]["value"] == 0.0        # "Không"
    assert vals["ct11_injury_deaths"]["value"] == 0.0    # a 0 is a value
    assert "ct12_disaster_affected" in vals and len(vals) == len(COMMUNE_VALUES)


def _insert_rows_like_excel(src: Path, dst: Path, sheet: str, at_row: int, n: int) -> Path:
    """openpyxl moves the cells but not the names; Excel moves both, so move them here."""
    wb = openpyxl.load_workbook(src)
    wb[sheet].insert_rows(at_row, n)
    for name, dn in wb.defined_names.items():
        (s, ref), = dn.destinations
        col, row = re.match(r"\$([A-Z]+)\$(\d+)", ref).groups()
        if s == sheet and int(row) >= at_row:
            dn.attr_text = f"'{s}'!${col}${int(row) + n}"
    wb.save(dst)
    return dst


def test_values_read_by_name_after_rows_inserted_above(workspace, templates, tmp_path):
    filled = fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES)
    moved = _insert_rows_like_excel(filled, tmp_path / "b.xlsx", "Số liệu", 5, 2)
    inbox_copy(workspace, moved, "dan_luc_them_dong.xlsx")
    sub = run(workspace)["dan_luc_them_dong.xlsx"]
    assert sub.status == "accepted", sub.issues  # no formula reported overwritten either
    vals = values_of(workspace, "dan_luc_them_dong.xlsx")
    assert vals["children_total"]["cell"] == "F8" and vals["children_total"]["value"] == 5000
    assert {k: v["value"] for k, v in vals.items() if k == "ct02_served"} == {"ct02_served": 2300}


# A LibreOffice run that inserts three rows above the data, as a unit would to add its own
# heading lines, then types the values (lo_fill does the typing).
_INSERT_SCRIPT = r'''
import sys
sys.path.insert(0, sys.argv.pop(1))
import lo_fill
_fill = lo_fill._fill_doc
def insert_then_fill(doc, values):
    sheet = doc.Sheets.getByName("Số liệu")
    sheet.unprotect("")
    sheet.Rows.insertByIndex(4, 3)
    sheet.protect("")
    _fill(doc, values)
lo_fill._fill_doc = insert_then_fill
sys.exit(lo_fill.main(sys.argv[1:]))
'''


def test_libreoffice_filled_file_with_inserted_rows(workspace, templates, tmp_path):
    py, soffice = lo_fill.uno_python(), lo_fill._find_soffice()
    if py is None or soffice is None:
        pytest.skip("không có LibreOffice với python uno")
    script, values = tmp_path / "insert.py", tmp_path / "values.json"
    script.write_text(_INSERT_SCRIPT, encoding="utf-8")
    values.write_text(json.dumps(COMMUNE_VALUES, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "lo.xlsx"
    proc = subprocess.run([py, str(script), str(HERE), str(templates["15703"]), str(out), str(values),
                           "--soffice", soffice], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    inbox_copy(workspace, out, "dan_ly_libreoffice.xlsx")
    sub = run(workspace)["dan_ly_libreoffice.xlsx"]
    assert (sub.unit, sub.status) == ("15703", "accepted"), sub.issues
    vals = values_of(workspace, "dan_ly_libreoffice.xlsx")
    assert vals["children_total"]["cell"] == "F9"       # was F6, three rows inserted above
    assert vals["ct24_participating"]["value"] == 700
    assert vals["ct01_child_friendly"]["value"] == 1.0
    assert vals["budget_ns_dia_phuong_spent"]["value"] == 110 and vals["budget_ns_dia_phuong_spent"]["cell"] == "F6"


# --- numbers and text as people type them ---------------------------------------------------------


def test_numbers_typed_as_text(workspace, templates, tmp_path):
    typed = dict(COMMUNE_VALUES, children_total="5.000", ct23_aware="4\u00a0200", ct02_served="2,5",
                 ct05_u1_vaccinated="95%", ct22_consulted="1,300")
    submit(workspace, templates, tmp_path, "15700", typed, "dan_luc.xlsx")
    sub = run(workspace)["dan_luc.xlsx"]
    assert sub.status == "rejected"
    assert at(sub, "children_total") == ["number-as-text"]      # "5.000" is five thousand
    assert at(sub, "ct23_aware") == ["number-as-text"]          # NBSP as thousands separator
    assert "decimal-in-count" in at(sub, "ct02_served")         # 2,5 children
    assert at(sub, "ct05_u1_vaccinated") == ["percent-sign"]    # a rate typed for a count
    assert at(sub, "ct22_consulted") == ["ambiguous-number"]    # 1,300 or 1.3?
    assert sorted(codes(sub, "error")) == ["ambiguous-number", "decimal-in-count", "percent-sign"]
    vals = values_of(workspace, "dan_luc.xlsx")
    assert vals["children_total"]["value"] == 5000 and vals["ct23_aware"]["value"] == 4200
    assert "ct22_consulted" not in vals and "ct05_u1_vaccinated" not in vals  # never guessed
    amb = one(sub, "ambiguous-number")
    assert (amb.sheet, amb.cell) == cell_of(templates["15700"], "ct22_consulted")
    assert "«1,300»" in amb.message and "hai cách" in amb.message
    assert "«95%»" in one(sub, "percent-sign").message
    assert "2,5 không phải số nguyên" in one(sub, "decimal-in-count").message


def test_tcvn3_narrative_is_converted(workspace, templates, tmp_path):
    text = "Đã tổ chức tháng hành động vì trẻ em tại các xã, thị trấn."
    health = {k: v for k, v in COMMUNE_VALUES.items() if k in openpyxl.load_workbook(templates["P-YT"]).defined_names}
    assert len(health) == 14 + 2
    submit(workspace, templates, tmp_path, "P-YT", dict(health, narr_direction=encode_tcvn3(text)), "yte.xlsx")
    sub = run(workspace)["yte.xlsx"]
    assert (sub.unit, sub.status) == ("P-YT", "accepted_with_warnings")
    issue = one(sub, "legacy-encoding")
    assert (issue.field, issue.sheet, issue.cell) == ("narr_direction", "Báo cáo", "F5")
    assert "TCVN3" in issue.message
    assert values_of(workspace, "yte.xlsx")["narr_direction"]["text"] == text


def test_blank_is_missing_zero_is_a_value(workspace, templates, tmp_path):
    blank = {k: v for k, v in COMMUNE_VALUES.items() if k != "ct09_abused"}
    submit(workspace, templates, tmp_path, "15700", blank, "trong.xlsx")
    submit(workspace, templates, tmp_path, "15703", dict(COMMUNE_VALUES, ct09_abused=0), "khong.xlsx")
    subs = run(workspace)
    missing = subs["trong.xlsx"]
    assert missing.status == "rejected" and codes(missing, "error") == ["required-missing"]
    issue = one(missing, "required-missing")
    assert (issue.field, issue.cell) == ("ct09_abused", "F43")
    assert "nhập 0" in issue.message
    assert subs["khong.xlsx"].status == "accepted"
    assert values_of(workspace, "khong.xlsx")["ct09_abused"]["value"] == 0.0


# --- who sent it ------------------------------------------------------------------------------


def test_template_of_another_year(workspace, templates, tmp_path):
    old = generate(workspace, 2023, ["15700"]).files[0].path
    filled = fill(old, tmp_path / "2023.xlsx", COMMUNE_VALUES)
    inbox_copy(workspace, filled, "dan_luc_2023.xlsx")
    sub = run(workspace)["dan_luc_2023.xlsx"]
    assert (sub.unit, sub.status) == ("15700", "rejected")
    assert codes(sub, "error") == ["wrong-year"]
    assert "năm 2023, không phải năm 2024" in one(sub, "wrong-year").message


def test_unknown_unit_code_in_the_metadata(workspace, templates, tmp_path):
    wb = openpyxl.load_workbook(fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES))
    for p in wb.custom_doc_props.props:
        if p.name == "treem_unit":
            p.value = "99999"
    for row in wb["_meta"].iter_rows():
        if row[0].value == "treem_unit":
            row[1].value = "99999"
    wb.save(tmp_path / "b.xlsx")
    inbox_copy(workspace, tmp_path / "b.xlsx", "la.xlsx")
    sub = run(workspace)["la.xlsx"]
    assert (sub.unit, sub.status) == (None, "rejected")
    assert codes(sub) == ["unknown-unit"]
    assert "«99999»" in one(sub, "unknown-unit").message


def test_values_pasted_into_a_new_workbook(workspace, tmp_path):
    path = paste_workbook(tmp_path / "x.xlsx", COMMUNE_VALUES, "Đơn vị: Xã Dân Lực (mã 15700) - Năm báo cáo: 2024")
    inbox_copy(workspace, path, "so_lieu_dan_luc.xlsx")
    sub = run(workspace)["so_lieu_dan_luc.xlsx"]
    assert (sub.unit, sub.status, sub.identity_source) == ("15700", "accepted_with_warnings", "content")
    assert sorted(codes(sub)) == ["identity-from-content", "names-missing"]
    assert "Xã Dân Lực theo nội dung trang tính" in one(sub, "identity-from-content").message
    vals = values_of(workspace, "so_lieu_dan_luc.xlsx")
    assert {k: v["value"] for k, v in vals.items() if k in ("children_total", "ct24_participating",
                                                           "budget_ns_dia_phuong_planned")} == {
        "children_total": 5000, "ct24_participating": 700, "budget_ns_dia_phuong_planned": 120}
    assert vals["children_total"]["sheet"] == "Sheet1" and vals["children_total"]["cell"] == "F5"


def test_identity_from_the_file_name_only(workspace, tmp_path):
    path = paste_workbook(tmp_path / "x.xlsx", COMMUNE_VALUES, head=None)
    inbox_copy(workspace, path, "Bao cao xa Dan Luc 2024.xlsx")
    sub = run(workspace)["Bao cao xa Dan Luc 2024.xlsx"]
    assert (sub.unit, sub.identity_source) == ("15700", "filename")
    assert "theo tên tệp" in one(sub, "identity-from-filename").message
    assert values_of(workspace, "Bao cao xa Dan Luc 2024.xlsx")["children_total"]["value"] == 5000


def test_nothing_says_who_sent_it(workspace, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["Số trẻ em", 5000])
    wb.save(tmp_path / "x.xlsx")
    inbox_copy(workspace, tmp_path / "x.xlsx", "so_lieu.xlsx")
    sub = run(workspace)["so_lieu.xlsx"]
    assert (sub.unit, sub.status) == (None, "rejected")
    assert codes(sub) == ["unknown-unit"]
    assert "Không xác định được đơn vị gửi tệp" in sub.issues[0].message


# --- structure --------------------------------------------------------------------------------


def test_overwritten_formula(workspace, templates, tmp_path):
    wb = openpyxl.load_workbook(fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES))
    wb["Số liệu"]["G19"] = 92  # the rate of CT2, typed over its formula
    wb.save(tmp_path / "b.xlsx")
    inbox_copy(workspace, tmp_path / "b.xlsx", "ghi_de.xlsx")
    sub = run(workspace)["ghi_de.xlsx"]
    assert sub.status == "accepted_with_warnings"
    issue = one(sub, "formula-overwritten")
    assert (issue.sheet, issue.cell, issue.field) == ("Số liệu", "G19", "ct02_served")
    assert "tỷ lệ" in issue.message


@pytest.mark.parametrize("how", ["excel", "dangling"])
def test_deleted_sheet(workspace, templates, tmp_path, how):
    wb = openpyxl.load_workbook(fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES))
    del wb["Kinh phí"]
    if how == "excel":  # Excel turns the names into #REF!; openpyxl leaves them pointing at nothing
        for name, dn in wb.defined_names.items():
            if "Kinh phí" in dn.attr_text:
                dn.attr_text = "#REF!" + dn.attr_text.split("!")[1]
    wb.save(tmp_path / "b.xlsx")
    inbox_copy(workspace, tmp_path / "b.xlsx", "xoa_trang.xlsx")
    sub = run(workspace)["xoa_trang.xlsx"]
    assert sub.status == "rejected"
    assert codes(sub, "error") == ["missing-sheet"]
    assert one(sub, "missing-sheet").sheet == "Kinh phí"
    assert values_of(workspace, "xoa_trang.xlsx")["children_total"]["value"] == 5000  # the rest is read


def test_cross_field_rule(workspace, templates, tmp_path):
    submit(workspace, templates, tmp_path, "15700", dict(COMMUNE_VALUES, ct04_underweight=1500), "dan_luc.xlsx")
    sub = run(workspace)["dan_luc.xlsx"]
    assert sub.status == "rejected"
    issue = one(sub, "cross-field-rule")
    assert issue.rule == "ct04-underweight-le-den"
    assert (issue.sheet, issue.cell, issue.field) == ("Số liệu", "F26", "ct04_underweight")
    assert issue.message.startswith("Số trẻ suy dinh dưỡng thể nhẹ cân không thể vượt số trẻ được cân, đo.")
    assert ": 1.500" in issue.message and ": 1.400" in issue.message


# --- versions, idempotence ----------------------------------------------------------------------


def test_later_saved_version_wins(workspace, templates, tmp_path):
    old = dict(COMMUNE_VALUES)
    new = dict(COMMUNE_VALUES, ct02_served=2310, children_total=5010)
    # The newer file arrives first; the older one is forwarded again later.
    submit(workspace, templates, tmp_path, "15700", new, "ban_sua.xlsx", saved_at=datetime(2024, 11, 12, 8, 0),
           when=datetime(2024, 11, 13, 9, 0))
    submit(workspace, templates, tmp_path, "15700", old, "ban_dau.xlsx", saved_at=datetime(2024, 11, 10, 8, 0),
           when=datetime(2024, 11, 14, 9, 0))
    subs = run(workspace)
    assert subs["ban_sua.xlsx"].status == "accepted"
    assert subs["ban_dau.xlsx"].status == "superseded"
    assert subs["ban_sua.xlsx"].saved_at == datetime(2024, 11, 12, 8, 0).isoformat()
    with Store(workspace.db_path) as store:
        assert counted_values(store, YEAR)["15700"]["ct02_served"] == 2310
        changed = {(a["field"], a["old_value"], a["new_value"]) for a in store.audit(YEAR)
                   if a["action"] == "value-changed"}
    assert changed == {("ct02_served", "2300.0", "2310.0"), ("children_total", "5000.0", "5010.0")}


def test_collecting_twice_changes_nothing_and_a_new_file_adds_a_version(workspace, templates, tmp_path):
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "dan_luc.xlsx")
    submit(workspace, templates, tmp_path, "15703", dict(COMMUNE_VALUES, ct09_abused=None), "dan_ly.xlsx",
           saved_at=datetime(2024, 11, 14, 16, 0))
    first = collect(workspace, YEAR)
    with Store(workspace.db_path) as store:
        audit = len(store.audit())
    again = collect(workspace, YEAR)
    assert again.new_files == 0 and first.new_files == 2
    assert again.submissions == first.submissions and again.missing == first.missing
    with Store(workspace.db_path) as store:
        assert len(store.audit()) == audit

    submit(workspace, templates, tmp_path, "15703", COMMUNE_VALUES, "dan_ly_sua.xlsx",
           saved_at=datetime(2024, 11, 16, 8, 0), when=datetime(2024, 11, 16, 9, 0))
    third = collect(workspace, YEAR)
    assert third.new_files == 1
    status = {s.path: s.status for s in third.submissions}
    assert status == {"dan_luc.xlsx": "accepted", "dan_ly.xlsx": "superseded", "dan_ly_sua.xlsx": "accepted"}
    assert len(third.missing) == 45 - 2


def _slow_for(real, name: str):
    def read(path, *a, **kw):
        if Path(path).name == name:
            time.sleep(1.5)  # this worker finishes long after the other
        return real(path, *a, **kw)
    return read


@pytest.mark.skipif(start_method() != "fork", reason="the slow reader is patched in this process and reaches the "
                                                     "workers only when they are forked")
def test_the_same_inbox_gives_the_same_store_whichever_worker_finishes_first(templates, tmp_path, monkeypatch):
    """Files are stored in the order they arrived (then by name), not in the order the workers
    finish: two versions saved at the same moment, or two copies of one file, always end the
    same way. A copy under another name is stored once, under the name that came first."""
    def state(workers: int, slow: str | None) -> list[tuple]:
        ws, _ = init_workspace(tmp_path / f"ws{workers}{slow}")
        same_time = datetime(2024, 11, 14, 16, 0)
        submit(ws, templates, tmp_path, "15700", COMMUNE_VALUES, "a_dan_luc.xlsx", saved_at=same_time,
               when=datetime(2024, 11, 15, 8, 0))
        submit(ws, templates, tmp_path, "15700", dict(COMMUNE_VALUES, ct02_served=2310), "b_dan_luc_sua.xlsx",
               saved_at=same_time, when=datetime(2024, 11, 15, 8, 0))
        first = submit(ws, templates, tmp_path, "15703", COMMUNE_VALUES, "c_dan_ly.xlsx",
                       when=datetime(2024, 11, 15, 9, 0))
        inbox_copy(ws, first, "d_dan_ly_ban_sao.xlsx", when=datetime(2024, 11, 15, 10, 0))
        with monkeypatch.context() as m:
            if slow:
                m.setattr(collect_mod, "read", _slow_for(collect_mod.read, slow))
            collect(ws, YEAR, workers=workers)
        with Store(ws.db_path) as store:
            return [(s.id, s.path, s.paths, s.unit, s.status) for s in store.submissions(YEAR)]

    calm = state(1, None)
    assert calm == [(1, "a_dan_luc.xlsx", ["a_dan_luc.xlsx"], "15700", "superseded"),
                    (2, "b_dan_luc_sua.xlsx", ["b_dan_luc_sua.xlsx"], "15700", "accepted"),
                    (3, "c_dan_ly.xlsx", ["c_dan_ly.xlsx", "d_dan_ly_ban_sao.xlsx"], "15703", "accepted")]
    assert state(2, "a_dan_luc.xlsx") == calm
    assert state(2, "c_dan_ly.xlsx") == calm


# --- hostile files ----------------------------------------------------------------------------


def test_hostile_corpus_costs_only_its_own_files(workspace, templates, tmp_path):
    inbox = workspace.inbox(YEAR)
    made = corpus.make_corpus(inbox)
    for p in made.values():
        set_received(p, datetime(2024, 11, 15, 8, 0))
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "dan_luc.xlsx")
    submit(workspace, templates, tmp_path, "15664", COMMUNE_VALUES, "tt_trieu_son.xlsx")
    before = tree_hash(inbox)

    result = collect(workspace, YEAR)

    assert tree_hash(inbox) == before  # the inbox is never modified
    by_file = {p: s for s in result.submissions for p in s.paths}
    assert by_file["dan_luc.xlsx"].status == by_file["tt_trieu_son.xlsx"].status == "accepted"
    assert sorted(result.counts()) == ["accepted", "missing", "rejected"]
    for name, path in made.items():
        case = corpus.CASES[name]
        sub = by_file[path.name]
        expected = "unknown-unit" if case.expect == "ok" else case.expect  # readable, but not our form
        errors = [i for i in sub.issues if i.severity == "error"]
        assert sub.status == "rejected", name
        assert [i.code for i in errors] == [expected], name
        assert VIETNAMESE.search(errors[0].message), name
    with Store(workspace.db_path) as store:
        current = counted_values(store, YEAR)
        subs = store.submissions(YEAR)
    assert set(current) == {"15700", "15664"}
    assert current["15664"]["ct04_obese"] == 50
    # The archive holds every file under its content hash.
    archived = {p.stem: p for p in workspace.archive.rglob("*") if p.is_file()}
    for rel, (sha, _) in before.items():
        assert sha in archived, rel
        assert hashlib.sha256(archived[sha].read_bytes()).hexdigest() == sha
    assert all((workspace.root / s.archived).is_file() for s in subs)


@pytest.mark.skipif(start_method() != "fork",
                    reason="the crashing reader is patched in this process and reaches the workers only when they "
                           "are forked")
def test_a_file_that_kills_its_reader_costs_only_itself(workspace, templates, tmp_path, monkeypatch):
    real_read = collect_mod.read

    def crashing_read(path, *a, **kw):  # a native parser aborting the worker process
        if "crash" in Path(path).name:
            os._exit(134)
        return real_read(path, *a, **kw)

    monkeypatch.setattr(collect_mod, "read", crashing_read)  # workers are forked: they inherit it
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "a_dan_luc.xlsx")
    submit(workspace, templates, tmp_path, "15706", COMMUNE_VALUES, "b_15706_crash.xlsx")
    submit(workspace, templates, tmp_path, "15703", COMMUNE_VALUES, "c_dan_ly.xlsx")
    result = collect(workspace, YEAR, workers=1)
    subs = {s.path: s for s in result.submissions}
    assert subs["a_dan_luc.xlsx"].status == subs["c_dan_ly.xlsx"].status == "accepted"
    crashed = subs["b_15706_crash.xlsx"]
    assert (crashed.status, crashed.unit, codes(crashed)) == ("rejected", "15706", ["reader-crashed"])


def test_store_made_before_rules_were_kept(workspace, templates, tmp_path):
    # A store from the first release: its issues table has no rule column.
    with Store(workspace.db_path) as store:
        store.db.executescript("DROP TABLE issues; CREATE TABLE issues (submission_id INTEGER NOT NULL, seq INTEGER "
                               "NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL, sheet TEXT, cell TEXT, field "
                               "TEXT, message TEXT NOT NULL, PRIMARY KEY (submission_id, seq));")
    submit(workspace, templates, tmp_path, "15700", dict(COMMUNE_VALUES, ct06_hiv_infected=3), "dan_luc.xlsx")
    sub = run(workspace)["dan_luc.xlsx"]
    assert one(sub, "cross-field-rule").rule == "ct06-le-den"  # 3 infected of 2 exposed


# --- what goes back ---------------------------------------------------------------------------


def _as_xlsm(src: Path, dst: Path) -> Path:
    with zipfile.ZipFile(src) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    dst.write_bytes(corpus.zip_bytes(corpus._macro_members(corpus.Base(src.read_bytes(), members))))
    return dst


def test_feedback_workbook_marks_the_problem_cell(workspace, templates, tmp_path):
    filled = fill(templates["15700"], tmp_path / "a.xlsx", dict(COMMUNE_VALUES, ct04_underweight=1500))
    inbox_copy(workspace, _as_xlsm(filled, tmp_path / "b.xlsm"), "dan_luc.xlsm")
    result = collect(workspace, YEAR)
    sub, = result.submissions
    assert sorted(codes(sub)) == ["cross-field-rule", "macros-ignored"]
    path = workspace.output(YEAR) / "phan_hoi" / feedback_name(YEAR, "15700", "Xã Dân Lực")
    assert [(f.unit, f.path, f.status) for f in result.outputs.feedback] == [("15700", path, Status.REJECTED)]

    with zipfile.ZipFile(path) as zf:
        assert not [n for n in zf.namelist() if "vba" in n.lower()]
        assert b"macroEnabled" not in zf.read("[Content_Types].xml")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == FEEDBACK_SHEET
    listed = [[c.value for c in row] for row in wb[FEEDBACK_SHEET].iter_rows(min_row=5)]
    assert listed[0][:5] == [1, "Lỗi", "Số liệu mâu thuẫn nhau", "Số liệu", "F26"]   # errors first
    assert listed[0][5] == one(sub, "cross-field-rule").message
    assert listed[1][1] == "Cảnh báo" and "macro" in listed[1][5]
    # The English code is there for scripts, in a hidden column that does not print.
    assert [r[6] for r in listed] == ["cross-field-rule", "macros-ignored"]
    assert wb[FEEDBACK_SHEET].column_dimensions["G"].hidden
    cell = wb["Số liệu"]["F26"]
    assert cell.value == 1500 and cell.fill.fgColor.rgb.endswith("FF9999")
    assert "Số trẻ suy dinh dưỡng thể nhẹ cân không thể vượt" in cell.comment.text
    # The rest of the unit's workbook is intact: names, values, identity.
    template = openpyxl.load_workbook(templates["15700"])
    assert set(wb.defined_names) == set(template.defined_names)
    assert wb["Số liệu"]["F6"].value == 5000 and wb["Số liệu"]["F6"].comment is None
    assert wb["_meta"].sheet_state == "veryHidden"
    assert {p.name: p.value for p in wb.custom_doc_props.props}["treem_unit"] == "15700"


def test_a_unit_with_nothing_to_fix_in_its_file_gets_no_copy(workspace, templates, tmp_path):
    """Sent late: the validation report says so; a marked copy would mark nothing."""
    late = datetime(2024, 11, 25, 9, 0)
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "dan_luc.xlsx", when=late)
    submit(workspace, templates, tmp_path, "15703", dict(COMMUNE_VALUES, ct04_underweight=1500), "dan_ly.xlsx",
           when=late)
    result = collect(workspace, YEAR)
    subs = {s.path: s for s in result.submissions}
    assert codes(subs["dan_luc.xlsx"]) == ["late-submission"]
    assert sorted(codes(subs["dan_ly.xlsx"])) == ["cross-field-rule", "late-submission"]
    assert [f.path.name for f in result.outputs.feedback] == [feedback_name(YEAR, "15703", "Xã Dân Lý")]


def test_many_copies_are_made_on_every_core_and_each_marks_its_own_problem(workspace, templates, tmp_path):
    communes = [c for c in templates if c.isdigit()][:20]
    for n, code in enumerate(communes):
        submit(workspace, templates, tmp_path, code, dict(COMMUNE_VALUES, ct04_underweight=1500 + n), f"{code}.xlsx")
    result = collect(workspace, YEAR)
    assert len(result.outputs.feedback) == len(communes)
    for path in (f.path for f in result.outputs.feedback):
        code = path.name.split("_")[1]
        wb = openpyxl.load_workbook(path)
        (first,) = [[c.value for c in row] for row in wb[FEEDBACK_SHEET].iter_rows(min_row=5)]
        assert first[:5] == [1, "Lỗi", "Số liệu mâu thuẫn nhau", "Số liệu", "F26"]
        assert wb["Số liệu"]["F26"].value == 1500 + communes.index(code)


def test_validation_report(workspace, templates, tmp_path):
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "dan_luc.xlsx")
    submit(workspace, templates, tmp_path, "15703", dict(COMMUNE_VALUES, ct04_underweight=1500), "dan_ly.xlsx")
    result = collect(workspace, YEAR)
    report = result.outputs.validation_report
    assert report == workspace.output(YEAR) / "kiem_tra_so_lieu_2024.xlsx"
    wb = openpyxl.load_workbook(report)
    assert wb.sheetnames == ["Tổng hợp", "Chi tiết lỗi", "Tệp đã nhận"]
    summary = [[c.value for c in r] for r in wb["Tổng hợp"].iter_rows(min_row=5)]
    assert len(summary) == 45
    status = {r[1]: r[4] for r in summary}
    assert status["15700"] == "Hợp lệ" and status["15703"] == "Có lỗi, phải gửi lại" and status["15664"] == "Chưa gửi"
    received = next(r[9] for r in wb["Tổng hợp"].iter_rows(min_row=5) if r[1].value == "15700")
    assert received.value == datetime(2024, 11, 15, 9, 0)  # a date the sheet can sort, shown 15/11/2024 09:00
    assert received.number_format == "dd/mm/yyyy hh:mm"
    detail = [[c.value for c in r] for r in wb["Chi tiết lỗi"].iter_rows(min_row=2)]
    assert [(r[0], r[3], r[4], r[5], r[6], r[9], r[10]) for r in detail] == [
        ("15703", "Số liệu", "F26", "Chỉ tiêu 4", "Số liệu mâu thuẫn nhau", "cross-field-rule", "ct04_underweight")]
    sheet = wb["Chi tiết lỗi"]
    # The English codes are kept for scripts, out of sight and off paper.
    assert sheet.column_dimensions["J"].hidden and sheet.column_dimensions["K"].hidden
    assert not sheet.column_dimensions["I"].hidden
    files = sorted(r[0].value for r in wb["Tệp đã nhận"].iter_rows(min_row=2))
    assert files == ["dan_luc.xlsx", "dan_ly.xlsx"]


# --- the command line ---------------------------------------------------------------------------


def test_collect_json_is_the_librarys_result(workspace, templates, tmp_path):
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "dan_luc.xlsx")
    submit(workspace, templates, tmp_path, "15703", dict(COMMUNE_VALUES, children_total="1,234"), "dan_ly.xlsx")
    res = CliRunner().invoke(cli, ["collect", "--year", "2024", "--json", "-w", str(workspace.root)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    lib = json.loads(json.dumps(collect(workspace, YEAR).to_dict(), default=str))
    assert set(data) == set(lib) >= {"year", "submissions", "missing"}
    assert data["submissions"] == lib["submissions"] and data["missing"] == lib["missing"]
    assert data["counts"] == lib["counts"] == {"accepted": 1, "rejected": 1, "missing": 43}
    for s in data["submissions"]:
        assert {"path", "sha256", "unit", "status", "issues"} <= set(s)
        assert s["status"] in STATUSES and re.fullmatch(r"[0-9a-f]{64}", s["sha256"])
        for i in s["issues"]:
            assert {"code", "severity", "sheet", "cell", "field", "message"} <= set(i)
    bad, = [s for s in data["submissions"] if s["status"] == "rejected"]
    assert [(i["code"], i["cell"]) for i in bad["issues"]] == [("ambiguous-number", "F6")]


def test_status_json_counts(workspace, templates, tmp_path):
    submit(workspace, templates, tmp_path, "15700", COMMUNE_VALUES, "a.xlsx")
    submit(workspace, templates, tmp_path, "15703", COMMUNE_VALUES, "b.xlsx", when=datetime(2024, 11, 25, 9, 0))
    submit(workspace, templates, tmp_path, "15706", dict(COMMUNE_VALUES, ct09_abused=None), "c.xlsx")
    collect(workspace, YEAR)
    res = CliRunner().invoke(cli, ["status", "--year", "2024", "--json", "-w", str(workspace.root)])
    assert res.exit_code == 0, res.output
    st = json.loads(res.stdout)
    assert (st["expected"], st["received"], st["valid"], st["with_errors"]) == (45, 3, 2, 1)
    assert (st["on_time"], st["late"]) == (2, 1)
    assert st["reporting_rate"] == 4.4  # 2 valid of 45
    assert len(st["missing"]) == 42 and "15700" not in st["missing"]
    assert {c["unit"] for c in st["chase"]} == set(st["missing"]) | {"15706"}
    assert st["deadline"] == "2024-11-20"
    assert st == json.loads(json.dumps(year_status(workspace, YEAR).to_dict()))  # --json is the library's result


def test_collect_lists_the_feedback_copies_to_resend_first(workspace, templates, tmp_path):
    """The officer reads which copies ask for a file again (its version was rejected) and which
    only ask to check a warning: told by the status of the version each copy was made from."""
    submit(workspace, templates, tmp_path, "15700", dict(COMMUNE_VALUES, children_total="5.000"), "dan_luc.xlsx")
    submit(workspace, templates, tmp_path, "15703", dict(COMMUNE_VALUES, ct04_underweight=1500), "dan_ly.xlsx")
    res = CliRunner().invoke(cli, ["collect", "--year", "2024", "-w", str(workspace.root)])
    assert res.exit_code == 0, res.output
    lines = [line.strip() for line in res.output.splitlines()]
    at = lines.index("Tệp phản hồi gửi lại đơn vị (2), trong output/2024/phan_hoi/:")
    assert lines[at + 1:at + 3] == [f"{feedback_name(YEAR, '15703', 'Xã Dân Lý')}  (có lỗi, phải gửi lại)",
                                    f"{feedback_name(YEAR, '15700', 'Xã Dân Lực')}  (chỉ có cảnh báo)"]


def _marks_on(sheet, ref: str) -> list[tuple]:
    """The always-true conditional formats feedback put on a cell: (before every format of the
    form's own, stops the rest, colour)."""
    rules = [(cf, r) for cf in sheet.conditional_formatting for r in cf.rules]
    first_of_form = min(r.priority for _, r in rules if r.formula != ["TRUE"])
    return [(r.priority < first_of_form, r.stopIfTrue, r.dxf.fill.fgColor.rgb[-6:]) for cf, r in rules
            if ref in cf.sqref and r.formula == ["TRUE"]]


def test_a_corrected_feedback_copy_sent_back_gets_one_fresh_sheet_and_no_stale_marks(workspace, templates, tmp_path):
    """The unit fixes one of two errors in the copy it was sent and sends that copy back."""
    first = fill(templates["15700"], tmp_path / "a.xlsx", dict(COMMUNE_VALUES, ct04_underweight=1500, ct09_abused=2.5),
                 saved_at=datetime(YEAR, 11, 10, 9))
    inbox_copy(workspace, first, "dan_luc.xlsx")
    collect(workspace, YEAR)
    sent = workspace.output(YEAR) / "phan_hoi" / feedback_name(YEAR, "15700", "Xã Dân Lực")
    wb = openpyxl.load_workbook(sent)
    assert wb[FEEDBACK_SHEET]["A2"].value.startswith("Tệp có 2 lỗi")
    rows = list(wb[FEEDBACK_SHEET].iter_rows(min_row=4, values_only=True))
    content, cell = rows[0].index("Nội dung cần sửa"), rows[0].index("Ô")
    abused = next(r for r in rows[1:] if "không phải số nguyên" in (r[content] or ""))
    abused_cell = abused[cell]
    # The form's own conditional format (orange when the self-check speaks) would paint over
    # the red mark: the mark comes first and stops it.
    assert _marks_on(wb["Số liệu"], abused_cell) == [(True, True, "FF9999")]
    assert _marks_on(wb["Số liệu"], "F26") == [(True, True, "FF9999")]

    corrected = fill(sent, tmp_path / "dan_luc_da_sua.xlsx", {"ct04_underweight": 100},
                     saved_at=datetime(YEAR, 11, 12, 9))
    inbox_copy(workspace, corrected, "dan_luc_da_sua.xlsx", when=datetime(YEAR, 11, 16, 9))
    result = collect(workspace, YEAR)
    current = [s for s in result.submissions if s.status != "superseded"]
    assert [s.path for s in current] == ["dan_luc_da_sua.xlsx"]
    assert codes(current[0]) == ["decimal-in-count"]

    wb = openpyxl.load_workbook(sent)
    feedback_sheets = [n for n in wb.sheetnames if n.startswith(FEEDBACK_SHEET)]
    assert feedback_sheets == [FEEDBACK_SHEET] and wb.sheetnames[0] == FEEDBACK_SHEET
    assert wb[FEEDBACK_SHEET]["A2"].value.startswith("Tệp có 1 lỗi")
    assert len([r for r in wb[FEEDBACK_SHEET].iter_rows(min_row=5, values_only=True) if r[0]]) == 1
    fixed = wb["Số liệu"]["F26"]
    assert fixed.value == 100 and fixed.comment is None
    assert fixed.fill.fgColor.rgb.endswith("FFF2CC")  # the template's input colour again, not red
    still = wb["Số liệu"][abused_cell]
    assert still.fill.fgColor.rgb.endswith("FF9999") and still.comment.text.count("không phải số nguyên") == 1
    assert _marks_on(wb["Số liệu"], abused_cell) == [(True, True, "FF9999")] and _marks_on(wb["Số liệu"], "F26") == []
    assert any(r.formula != ["TRUE"] for cf in wb["Số liệu"].conditional_formatting for r in cf.rules)  # the form's
    assert sum(n == "_treem_phan_hoi" for n in wb.sheetnames) == 1


def test_a_workbook_whose_structure_is_broken_is_refused_with_its_reason(workspace, templates, tmp_path):
    src = fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES)
    broken = tmp_path / "b.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data[: len(data) // 2] if info.filename == "xl/workbook.xml" else data)
    inbox_copy(workspace, broken, "15700.xlsx")
    sub = run(workspace)["15700.xlsx"]
    assert (sub.unit, sub.status, codes(sub)) == ("15700", "rejected", ["unreadable-workbook"])
    assert "cấu trúc của bảng tính bị hỏng" in sub.issues[0].message


def test_a_worker_reads_and_judges_a_file_without_loading_the_form_writer(workspace, templates, tmp_path):
    """A spawned worker (as on Windows) starts from nothing: what it imports to read and judge a
    file is all it has. The form's contract lives in pipeline.forms.contract, so XlsxWriter, Jinja and
    the writer stay out."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from pipeline.forms.contract import load_wording

    from pipeline.config.workspace import WORKBOOK_WORDING

    path = fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES)
    sheet_names = load_wording(workspace.template(WORKBOOK_WORDING))["sheets"]
    initargs = (workspace.catalogue, workspace.roster, workspace.settings, YEAR, sheet_names, {}, 0,
                tmp_path / "archive", frozenset())
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=collect_mod._init_worker,
                             initargs=initargs) as pool:
        (result,) = pool.submit(collect_mod._work, [str(path)]).result()
        loaded = set(pool.submit(eval, "sorted(__import__('sys').modules)").result())
    assert (result.outcome, result.checked.identity.unit.code, result.checked.status) == ("ok", "15700", "accepted")
    assert {"pipeline.collect.ingest", "pipeline.collect.validate", "pipeline.forms.contract"} <= loaded  # the scan itself works
    assert {"xlsxwriter", "jinja2", "pipeline.forms.writer", "openpyxl", "pandas"} & loaded == set()


def test_system_files_in_the_inbox_are_not_submissions(workspace, templates, tmp_path):
    inbox_copy(workspace, fill(templates["15700"], tmp_path / "a.xlsx", COMMUNE_VALUES), "a.xlsx")
    (workspace.inbox(2024) / "desktop.ini").write_text("[.ShellClassInfo]\n")
    (workspace.inbox(2024) / "Thumbs.db").write_bytes(b"\0" * 64)
    result = collect(workspace, 2024)
    assert [s.path for s in result.submissions] == ["a.xlsx"] and result.skipped == []

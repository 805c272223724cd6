"""Forms stamped from their shape (pipeline/forms/stamp.py) are the forms the TemplateWriter
writes: the same parts inside the zip, the same cells, formulas, validations, protection,
names, identity and print set-up as openpyxl sees them, and the same readings and verdicts
from the collect stage, for communes, towns, offices and organisations of the 2024 and 2025
rosters, with and without last year's values."""

from __future__ import annotations

import dataclasses
import io
import math
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest

from conftest import COMMUNE_VALUES, fill
from pipeline.collect.ingest import FormSpec, read
from pipeline.collect.validate import Validator
from pipeline.config.workspace import WORKBOOK_WORDING, Workspace
from pipeline.forms.contract import load_wording, note_name
from pipeline.forms.stamp import Stamper
from pipeline.forms.writer import TemplateWriter

SHARED_STRINGS, SHEETS, DATA_SHEET = "xl/sharedStrings.xml", "xl/worksheets/", "xl/worksheets/sheet2.xml"


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace(Path(__file__).parent)  # no workspace files: the built-in defaults


class Counting(TemplateWriter):
    """The writer, counting the forms it writes for the stamp (fallbacks and shapes)."""

    calls = 0

    def render(self, unit, previous=None, shown=None):
        self.calls += 1
        return super().render(unit, previous, shown)


def _writer(ws: Workspace, year: int, wording: dict | None = None) -> Counting:
    w = ws.for_year(year)
    return Counting(w.catalogue, w.settings, wording or load_wording(w.template(WORKBOOK_WORDING)), year)


def _previous(ws: Workspace, unit, yes_no: bool) -> dict:
    """Last year's values of every field of the unit: whole numbers, decimals and zeros, and
    the yes/no answers (1 and 0) when `yes_no`."""
    out, answers = {}, [1.0, 0.0] * 10  # yes, no, yes...
    for n, f in enumerate(ws.catalogue.fields_for(unit.type, unit.code)):
        if f.type == "yes_no" and yes_no:
            out[f.code] = answers.pop(0)
        elif f.is_number:
            out[f.code] = [1234, 0, 56.25, 7.0, 1e-3][n % 5]
    return out


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None  # every part inflates and matches its CRC
        return {i.filename: z.read(i) for i in z.infolist()}


@pytest.mark.parametrize("year", [2024, 2025])
def test_every_unit_gets_the_writers_form_part_for_part(ws, year):
    writer = _writer(ws, year)
    stamper = Stamper(writer)
    units = ws.for_year(year).roster.for_year(year)
    kinds = {(u.type, u.target_area) for u in units}  # 2025: communes only, some held to a town's targets
    assert kinds >= ({("xa", "xa"), ("thi_tran", "thi_tran"), ("phong", "phong"), ("to_chuc", "to_chuc")}
                     if year == 2024 else {("xa", "xa"), ("xa", "thi_tran")})
    for unit in units:
        for previous in ({}, _previous(ws, unit, yes_no=False)):
            stamped = stamper.render(unit, previous)
            calls = writer.calls
            assert _parts(stamped) == _parts(writer.render(unit, previous)), (unit.code, bool(previous))
            writer.calls = calls
    # Every unit was stamped: the writer only built the shapes.
    assert stamper.enabled and all(s.stampable for s in stamper.shapes.values())
    assert writer.calls == len(stamper.shapes) < len(units)


def _view(wb: openpyxl.Workbook) -> dict:
    """What openpyxl sees of a workbook: sheets, cells with their styles, formulas,
    validations, protection, conditional formats, merged cells, sizes, print set-up, names
    and document properties."""
    core = wb.properties
    view = {"sheets": [(s.title, s.sheet_state) for s in wb.worksheets], "active": wb.active.title,
            "names": {n: d.attr_text for n, d in wb.defined_names.items()},
            "custom": {p.name: p.value for p in wb.custom_doc_props.props},
            "core": (core.title, core.subject, core.creator, core.description, core.created)}
    for s in wb.worksheets:
        view[s.title] = {
            "cells": {c.coordinate: (c.value, c.data_type, c.number_format, *map(repr, (c.font, c.fill, c.border,
                                     c.alignment, c.protection))) for row in s.iter_rows() for c in row},
            "validations": [(str(v.sqref), v.type, v.operator, v.formula1, v.formula2, v.allow_blank, v.prompt,
                             v.promptTitle, v.error, v.errorTitle) for v in s.data_validations.dataValidation],
            "protection": s.protection, "conditional": [(str(r.sqref), [(x.type, x.formula, x.dxf) for x in r.rules])
                                                       for r in s.conditional_formatting],
            "merged": sorted(str(m) for m in s.merged_cells.ranges), "freeze": s.freeze_panes,
            "columns": {k: (d.width, d.hidden) for k, d in s.column_dimensions.items()},
            "rows": {k: (d.height, d.hidden) for k, d in s.row_dimensions.items()},
            "print": (s.page_setup, s.print_options, s.page_margins, s.print_title_rows, s.oddFooter.left.text,
                      s.oddFooter.right.text, s.sheet_properties.pageSetUpPr, s.sheet_view.showGridLines),
        }
    return view


def _reading(path: Path, ws: Workspace, year: int) -> tuple[dict, object]:
    """What the collect stage reads from a file and what it makes of it."""
    cat = ws.catalogue
    spec = FormSpec(frozenset({f.code for f in cat.fields} | {note_name(f.code) for f in cat.fields}))
    reading = read(path, spec)
    sheets = load_wording(ws.template(WORKBOOK_WORDING))["sheets"]
    checked = Validator(cat, ws.for_year(year).roster, ws.settings, year, sheets).check(reading)
    seen = dataclasses.asdict(reading)
    del seen["path"], seen["size"]  # the files differ in name and in how their parts are compressed
    return seen, (checked.identity, checked.values, [dataclasses.astuple(i) for i in checked.issues])


# Communes and a town of 2024, an office, an organisation; in 2025 a commune formed of
# communes and one formed from a town (held to the targets of a town); with no values from
# last year, with counts only, with counts and yes/no answers (offices answer none).
SAMPLE = [(2024, "15700", "none"), (2024, "15700", "yes_no"), (2024, "15664", "numbers"), (2024, "P-YT", "none"),
          (2024, "P-YT", "numbers"), (2024, "HDTN", "numbers"), (2025, "15754", "yes_no"), (2025, "15664", "none"),
          (2025, "15664", "numbers")]


@pytest.mark.parametrize("year,code,previous", SAMPLE)
def test_readers_and_openpyxl_see_the_same_forms(ws, tmp_path, year, code, previous):
    writer = _writer(ws, year)
    stamper = Stamper(writer)
    unit = {u.code: u for u in ws.for_year(year).roster.for_year(year)}[code]
    prev = {} if previous == "none" else _previous(ws, unit, yes_no=previous == "yes_no")
    old, new = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    old.write_bytes(writer.render(unit, prev))
    calls = writer.calls
    new.write_bytes(stamper.render(unit, prev))
    assert writer.calls == calls + 1  # the shape only: the form itself was stamped
    assert _view(openpyxl.load_workbook(new)) == _view(openpyxl.load_workbook(old))
    assert _reading(new, ws, year) == _reading(old, ws, year)
    if unit.is_commune:  # and once filled in and saved
        values = {k: v for k, v in COMMUNE_VALUES.items() if k in {f.code for f in ws.catalogue.fields_for(
            unit.type, unit.code)}}
        saved = datetime(year, 11, 10, 8, 0, tzinfo=timezone.utc)
        filled_old = fill(old, tmp_path / "f_old.xlsx", values, saved)
        filled_new = fill(new, tmp_path / "f_new.xlsx", values, saved)
        assert _reading(filled_new, ws, year) == _reading(filled_old, ws, year)


def test_last_years_yes_no_answer_reads_the_same(ws):
    """«Có»/«Không» from last year go after the shape's shared strings, where XlsxWriter
    puts them among the others: only the shared strings and the sheets' references into them
    differ inside the zip, and the cells read the same."""
    writer = _writer(ws, 2024)
    stamper = Stamper(writer)
    unit = {u.code: u for u in ws.roster.for_year(2024)}["15700"]
    prev = _previous(ws, unit, yes_no=True)
    assert {prev["ct01_child_friendly"], prev["ct21_play_spot"]} == {0.0, 1.0}
    old, new = _parts(writer.render(unit, prev)), _parts(stamper.render(unit, prev))
    assert {k for k in old if old[k] != new[k]} - {SHARED_STRINGS} <= {k for k in old if k.startswith(SHEETS)}
    assert old[SHARED_STRINGS] != new[SHARED_STRINGS] and old[DATA_SHEET] != new[DATA_SHEET]
    wb = openpyxl.load_workbook(io.BytesIO(stamper.render(unit, prev)))
    shown = {}
    for name in ("ct01_child_friendly", "ct21_play_spot", "children_total"):
        (sheet, ref), = wb.defined_names[name].destinations
        shown[name] = wb[sheet][ref.replace("$", "").replace("F", "E")].value
    assert shown == {n: {0.0: "Không", 1.0: "Có"}.get(prev[n], prev[n]) for n in shown}


def test_names_that_need_escaping_are_stamped(ws):
    writer = _writer(ws, 2024)
    stamper = Stamper(writer)
    unit = dataclasses.replace(ws.roster.for_year(2024)[0], name='Xã A & B <"Mới"> _x', code="15664")
    stamped = stamper.render(unit, {})
    assert writer.calls == 1 and _parts(stamped) == _parts(writer.render(unit, {}))
    assert openpyxl.load_workbook(io.BytesIO(stamped))["_meta"]["B3"].value == 'Xã A & B <"Mới"> _x'


@pytest.mark.parametrize("case", ["leading space", "control character", "escape-like", "not a number", "wording"])
def test_what_a_stamp_would_not_reproduce_is_written_by_the_writer(ws, case):
    """XlsxWriter writes these differently from a plain replacement: the writer writes them."""
    wording = load_wording(ws.template(WORKBOOK_WORDING))
    if case == "wording":
        wording["instructions"][0]["lines"][0] = "{{ unit_name | upper }} (mã {{ unit_code }})."
    writer = _writer(ws, 2024, wording)
    stamper = Stamper(writer)
    unit = ws.roster.for_year(2024)[0]
    name = {"leading space": " " + unit.name, "control character": unit.name + "\x07 mới",
            "escape-like": unit.name + " _x0041_"}.get(case, unit.name)
    unit = dataclasses.replace(unit, name=name)
    prev = {"children_total": math.nan} if case == "not a number" else {}
    if case == "not a number":
        with pytest.raises(TypeError):  # as the writer itself refuses it
            stamper.render(unit, prev)
        return
    assert stamper.render(unit, prev) == writer.render(unit, prev)
    assert stamper.enabled == (case != "wording")


def test_a_stamped_form_with_last_years_values_through_libreoffice(workspace, tmp_path):
    """A form whose rows were stamped with last year's values (counts and a yes/no answer),
    typed into through LibreOffice's UNO, saved there and collected: accepted, with what was
    typed, and last year's values still beside the inputs."""
    from conftest import YEAR, inbox_copy, load_helper, store_values
    from pipeline.collect.run import collect
    from pipeline.forms.writer import generate
    from pipeline.reporting import libreoffice
    from pipeline.store.db import Store

    if not libreoffice.available():
        pytest.skip("LibreOffice chưa được cài")
    lo_fill = load_helper("lo_fill", "lo_fill.py")
    last_year = {k: (1.0 if v == "Có" else 0.0 if v == "Không" else v) for k, v in COMMUNE_VALUES.items()}
    last_year["children_total"] = 4900
    store_values(workspace, YEAR - 1, "15700", last_year)
    form, = (f.path for f in generate(workspace, YEAR, ["15700"]).files)
    typed = tmp_path / "dan_luc.xlsx"
    try:
        lo_fill.fill(form, typed, COMMUNE_VALUES)
    except lo_fill.UnoUnavailable as e:
        pytest.skip(f"không chạy được UNO: {e}")
    wb = openpyxl.load_workbook(typed)
    beside = {}
    for name in ("children_total", "ct01_child_friendly", "ct21_play_spot", "budget_ns_dia_phuong_spent"):
        (sheet, ref), = wb.defined_names[name].destinations
        beside[name] = wb[sheet][ref.replace("$", "").replace("F", "E")].value
    assert beside == {"children_total": 4900, "ct01_child_friendly": "Có", "ct21_play_spot": "Không",
                      "budget_ns_dia_phuong_spent": 110}
    inbox_copy(workspace, typed, typed.name)
    sub, = collect(workspace, YEAR).submissions
    assert (sub.unit, sub.status) == ("15700", "accepted"), sub.issues
    with Store(workspace.db_path) as store:
        sid, = (s.id for s in store.submissions(YEAR))
        stored = {k: v["value"] for k, v in store.values([sid])[sid].items()}
    assert stored == {k: (1.0 if v == "Có" else 0.0 if v == "Không" else v) for k, v in COMMUNE_VALUES.items()}

"""The generated workbooks, read back as a unit's Excel (and LibreOffice) sees them.

Every workbook is protected, every input cell is unlocked, validated and named after its
field code, the unit's identity is stored twice, the rate and self-check formulas are
there, each unit gets only its own fields and the plan's targets, and generating twice
gives byte-identical files."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.reporting import libreoffice
from pipeline.cli import cli
from pipeline.collect.ingest import FormSpec, read
from pipeline.config.roster import Roster
from pipeline.forms.writer import LAYOUT, generate, load_wording, note_name
from pipeline.collect.validate import Validator
from pipeline.config.workspace import Workspace
from conftest import VIETNAMESE, load_helper

YEAR = 2024
SHEETS = {"instructions": "Hướng dẫn", "data": "Số liệu", "budget": "Kinh phí", "narrative": "Báo cáo"}

lo_fill = load_helper("lo_fill", "lo_fill.py")

needs_office = pytest.mark.skipif(not libreoffice.available(), reason="LibreOffice chưa được cài")


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace(Path(__file__).parent)  # no workspace files: the built-in defaults


@pytest.fixture(scope="module")
def books(templates) -> dict[str, openpyxl.Workbook]:
    return {code: openpyxl.load_workbook(path) for code, path in templates.items()}


@pytest.fixture(scope="module")
def units(ws) -> dict:
    return {u.code: u for u in ws.roster.for_year(YEAR)}


def _dest(wb, name: str) -> tuple[str, str]:
    (sheet, ref), = wb.defined_names[name].destinations
    return sheet, ref.replace("$", "")


def _row_of(wb, code: str) -> tuple:
    """The cells of a field's row on its sheet, 0-based as in LAYOUT."""
    sheet, ref = _dest(wb, code)
    return wb[sheet][int(re.sub(r"\D", "", ref))]


# --- protection, names, validations ------------------------------------------------------------


def test_every_sheet_is_protected_without_password(books):
    assert len(books) == 45
    for code, wb in books.items():
        for sheet in wb.worksheets:
            assert sheet.protection.sheet is True, (code, sheet.title)
            assert not sheet.protection.password, (code, sheet.title)


def test_every_input_is_named_unlocked_and_validated(books, ws, units):
    cat = ws.catalogue
    for code, wb in books.items():
        unit = units[code]
        fields = cat.fields_for(unit.type, unit.code)
        for f in fields:
            assert wb.defined_names[f.code].localSheetId is None  # workbook-level
            sheet, ref = _dest(wb, f.code)
            assert sheet == SHEETS[f.section] and ref[0] == "F", (code, f.code)
            assert wb[sheet][ref].protection.locked is False, (code, f.code)
            dvs = [dv for dv in wb[sheet].data_validations.dataValidation if ref in dv.sqref]
            assert len(dvs) == 1, (code, f.code)
            dv = dvs[0]
            assert dv.showErrorMessage and VIETNAMESE.search(dv.error) and VIETNAMESE.search(dv.errorTitle)
            if f.type == "yes_no":
                assert (dv.type, dv.formula1) == ("list", '"Có,Không"')
            elif f.type == "text":
                assert dv.type == "textLength"
            else:
                assert dv.type == ("whole" if f.type == "integer" else "decimal")
                assert (float(dv.formula1), float(dv.formula2)) == (f.min, f.max)
                # A whole number shows as 5.000, never "5.000," (what "#,##0.##" does).
                expected = "#,##0" if f.type == "integer" else "#,##0.0#"
                assert wb[sheet][ref].number_format == expected, (code, f.code)
            assert dv.showInputMessage and VIETNAMESE.search(dv.prompt), (code, f.code)
        # Nothing else can be typed into: the unlocked cells are exactly the named ones
        # (inputs and their explanation cells).
        named = {_dest(wb, n) for n in wb.defined_names}
        unlocked = {(s.title, c.coordinate) for s in wb.worksheets for row in s.iter_rows() for c in row
                    if c.protection.locked is False}
        assert unlocked == named, code
        notes = {n for n in wb.defined_names if n.startswith("note_")}
        assert notes == {note_name(f.code) for f in fields if f.section in ("data", "budget")}


def test_integer_validation_message_gives_the_range(books):
    wb = books["15700"]
    sheet, ref = _dest(wb, "children_total")
    dv, = [dv for dv in wb[sheet].data_validations.dataValidation if ref in dv.sqref]
    assert dv.error == ("Nhập số nguyên từ 0 đến 200.000. Để trống nếu chưa có số liệu; nhập 0 nếu bằng không.")
    assert dv.prompt.startswith("Tổng số trẻ em (dưới 16 tuổi) (trẻ em).")


# --- identity ---------------------------------------------------------------------------------


def test_identity_is_stored_twice(books, ws):
    cat = ws.catalogue
    for code, wb in books.items():
        props = {p.name: p.value for p in wb.custom_doc_props.props}
        assert props["treem_unit"] == code
        assert props["treem_year"] == YEAR and isinstance(props["treem_year"], int)
        assert props["treem_template_version"] == cat.version == "2024.1"
        assert props["treem_catalogue_hash"] == cat.hash
        meta = wb["_meta"]
        assert meta.sheet_state == "veryHidden"
        rows = {r[0].value: r[1].value for r in meta.iter_rows()}
        assert rows["treem_unit"] == code and rows["treem_year"] == "2024"
        assert rows["treem_template_version"] == cat.version and rows["treem_catalogue_hash"] == cat.hash
        assert rows["treem_form"] == props["treem_form"] == "treem-ctxhtre"
        assert wb.sheetnames[-1] == "_meta"


def test_sheet_head_names_the_unit(books):
    wb = books["15718"]
    assert wb["Số liệu"]["A2"].value == "Đơn vị: Thị trấn Nưa (mã 15718) - Năm báo cáo: 2024"


# --- formulas ---------------------------------------------------------------------------------


def test_rate_and_self_check_formulas(books, ws, units):
    cat = ws.catalogue
    lay = LAYOUT["data"]
    by_numerator = {i.numerator: i for i in cat.indicators}
    for code in ("15700", "15664", "P-YT", "P-LDTBXH"):
        wb, unit = books[code], units[code]
        for f in cat.fields_for(unit.type, unit.code):
            if f.section == "narrative":
                continue
            row = _row_of(wb, f.code)
            check = row[LAYOUT[f.section]["check"]].value
            assert isinstance(check, str) and check.startswith("="), (code, f.code)
            if f.required:
                assert "Chưa nhập số liệu bắt buộc" in check
            ind = by_numerator.get(f.code)
            if f.section == "data" and ind is not None and ind.kind not in ("share_of_communes",):
                rate = row[lay["rate"]].value
                assert isinstance(rate, str) and rate.startswith("=IF("), (code, f.code)
                if ind.denominator:
                    assert f"/{ind.denominator}*{int(ind.factor)}" in rate
    # The CT3 rate is per 1,000 live births; the self-check carries the plan's cross-check.
    wb = books["15700"]
    row = _row_of(wb, "ct03_deaths_u1")
    assert row[lay["rate"]].value == ('=IF(AND(ISNUMBER(F22),ISNUMBER(live_births)),'
                                      'IF(live_births>0,F22/live_births*1000,""),"")')
    assert "Số trẻ dưới 1 tuổi tử vong nằm trong số trẻ dưới 5 tuổi tử vong" in row[lay["check"]].value
    # Budget totals add the four sources.
    totals = [r[LAYOUT["budget"]["input"]].value for r in wb["Kinh phí"].iter_rows()
              if r[0].value in ("Tổng dự toán", "Tổng thực hiện")]
    assert totals == ["=N(budget_ns_dia_phuong_planned)+N(budget_ct_muc_tieu_planned)+N(budget_vien_tro_planned)"
                      "+N(budget_cong_dong_planned)",
                      "=N(budget_ns_dia_phuong_spent)+N(budget_ct_muc_tieu_spent)+N(budget_vien_tro_spent)"
                      "+N(budget_cong_dong_spent)"]


# --- each unit its own fields -----------------------------------------------------------------


def _input_names(wb) -> set[str]:
    return {n for n in wb.defined_names if not n.startswith("note_")}


def test_each_unit_gets_only_its_fields(books, ws, units):
    cat = ws.catalogue
    for code, wb in books.items():
        unit = units[code]
        assert _input_names(wb) == {f.code for f in cat.fields_for(unit.type, unit.code)}, code
    assert books["15700"].sheetnames == ["Hướng dẫn", "Số liệu", "Kinh phí", "_meta"]
    assert books["P-YT"].sheetnames == ["Hướng dẫn", "Số liệu", "Kinh phí", "Báo cáo", "_meta"]
    for org in ("MTTQ", "HDTN", "HLHPN", "HBTNTT", "P-TCKH"):
        assert books[org].sheetnames == ["Hướng dẫn", "Kinh phí", "Báo cáo", "_meta"], org


def test_health_office_fields(books):
    data = {n for n in _input_names(books["P-YT"]) if not n.startswith(("budget_", "narr_"))}
    # Indicators 3, 4, 5, 6: counts and their denominators; no commune-only yes/no.
    assert data == {"live_births", "ct03_deaths_neonatal", "ct03_deaths_u1", "ct03_deaths_u5",
                    "ct04_measured", "ct04_underweight", "ct04_stunted", "ct04_obese",
                    "children_u1", "ct05_u1_vaccinated", "children_u5", "ct05_u5_vaccinated",
                    "ct06_hiv_exposed", "ct06_hiv_infected"}
    assert len(_input_names(books["P-YT"])) == 14 + 8 + 6
    narr = _row_of(books["P-YT"], "narr_results")
    assert narr[2].value == "Kết quả thực hiện các chỉ tiêu được giao chủ trì (chỉ tiêu 3, 4, 5, 6)"


def test_commune_has_no_narrative_and_the_yes_no_rows(books):
    names = _input_names(books["15700"])
    assert "ct01_child_friendly" in names and "ct21_play_spot" in names
    assert not any(n.startswith("narr_") for n in names)
    assert len(names) == 49 + 8


# --- targets ----------------------------------------------------------------------------------


def _targets(wb, code: str) -> tuple:
    row = _row_of(wb, code)
    return row[LAYOUT["data"]["t2025"]].value, row[LAYOUT["data"]["t2030"]].value


def test_targets_shown_are_the_plans(books):
    xa, tt = books["15700"], books["15664"]
    assert _targets(xa, "ct04_obese") == (5, 5)           # rural: below 5%
    assert _targets(tt, "ct04_obese") == (10, 10)         # urban: below 10%
    assert _targets(books["P-YT"], "ct04_obese") == ("5 (xã); 10 (thị trấn)",) * 2
    assert _targets(xa, "ct03_deaths_neonatal") == (2.5, 2)
    assert _targets(xa, "ct03_deaths_u1") == (12.5, 10)
    assert _targets(xa, "ct03_deaths_u5") == (18.5, 15)
    assert _targets(xa, "ct19_psych_support") == (95, "")  # no 2030 target
    assert _targets(xa, "ct05_u5_vaccinated") == ("", 97)  # no 2025 target
    assert _targets(xa, "ct01_child_friendly") == (95, 100)
    assert _targets(xa, "children_total") == ("", "")      # a denominator has no target
    # The plan's words by year: CT4b falls "xuống 17%" by 2025 and "dưới 15%" by 2030.
    row = _row_of(xa, "ct04_stunted")
    assert (row[LAYOUT["data"]["t2025"]].number_format, row[LAYOUT["data"]["t2030"]].number_format) == (
        '"Tối đa "General', '"Dưới "General')


def test_a_new_commune_is_held_to_the_target_of_its_area(workspace):
    """From 2025, Xã Triệu Sơn took in the old town and counts as urban for CT4c (roster
    `area`): its form shows the urban target, as merge judges it; Xã Thọ Bình stays rural."""
    from pipeline.forms.writer import generate

    files = {f.unit: f.path for f in generate(workspace, 2025, ["15664", "15667"]).files}
    assert _targets(openpyxl.load_workbook(files["15664"]), "ct04_obese") == (10, 10)
    assert _targets(openpyxl.load_workbook(files["15667"]), "ct04_obese") == (5, 5)


# --- determinism ------------------------------------------------------------------------------


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.xlsx"))}


def test_generating_twice_is_byte_identical(templates, workspace):
    first = _hashes(next(iter(templates.values())).parent.parent)
    generate(workspace, YEAR)
    second = _hashes(workspace.output(YEAR))
    assert len(first) == 46  # 45 workbooks and the distribution list
    assert second == first
    generate(workspace, YEAR, ["15700"])
    assert _hashes(workspace.output(YEAR)) == first


# --- CLI --------------------------------------------------------------------------------------


def test_generate_json_lists_every_unit(workspace):
    runner = CliRunner()
    res = runner.invoke(cli, ["generate", "--year", "2024", "--json", "-w", str(workspace.root)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["year"] == 2024 and data["count"] == len(data["files"]) == 45
    roster = Roster.load()
    types = [roster.get(f["unit"], workspace.settings.deadline(2024)).type for f in data["files"]]
    assert (types.count("xa") + types.count("thi_tran"), types.count("phong"), types.count("to_chuc")) == (34, 7, 4)
    assert all(Path(f["path"]).is_file() for f in data["files"])
    assert Path(data["distribution_list"]).is_file()

    res = runner.invoke(cli, ["generate", "--year", "2025", "--json", "-w", str(workspace.root)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["count"] == 8
    assert sorted(f["unit"] for f in data["files"]) == ["15664", "15667", "15682", "15715", "15724", "15754",
                                                        "15763", "15766"]
    names = {f["unit"]: f["name"] for f in data["files"]}
    assert names["15754"] == "Xã Thọ Ngọc"  # the code Thọ Cường had until mid-2025


# --- through LibreOffice ----------------------------------------------------------------------


@needs_office
def test_identity_survives_a_libreoffice_resave(templates, ws, tmp_path):
    resaved = libreoffice.convert(templates["15718"], "xlsx", tmp_path)
    # What LibreOffice did to it: veryHidden became hidden, the integer year a float.
    wb = openpyxl.load_workbook(resaved)
    assert wb["_meta"].sheet_state == "hidden"
    year_prop = {p.name: p.value for p in wb.custom_doc_props.props}["treem_year"]
    assert year_prop == 2024 and isinstance(year_prop, float)

    cat = ws.catalogue
    spec = FormSpec(frozenset({f.code for f in cat.fields} | {note_name(f.code) for f in cat.fields}))
    reading = read(resaved, spec)
    sheets = load_wording(ws.template("xlsx/workbook.yaml"))["sheets"]
    identity, issues = Validator(cat, ws.roster, ws.settings, YEAR, sheets).identify(reading)
    assert (identity.unit.code, identity.year, identity.source) == ("15718", 2024, "metadata")
    assert identity.template_version == "2024.1"
    assert issues == []  # no identity-conflict between the float property and _meta
    assert reading.located_by == "names" and len(reading.cells) == len(wb.defined_names)


@needs_office
def test_self_check_and_rate_computed_by_libreoffice(templates, tmp_path):
    dst = tmp_path / "dan_luc.xlsx"
    values = {"children_u1": 300, "ct05_u1_vaccinated": 330,        # numerator above denominator
              "children_u5": 1500, "ct05_u5_vaccinated": 1450,
              "children_0_8": 2500, "ct02_served": 2.5,              # a decimal in a count
              # Numbers as text, the Vietnamese way: the form reads them as collect does.
              "children_total": "5.000", "ct04_measured": "1,5", "ct04_underweight": "abc",
              "budget_ns_dia_phuong_planned": "12,5"}
    try:
        lo_fill.fill(templates["15700"], dst, values, recalc=True)
    except lo_fill.UnoUnavailable as e:
        pytest.skip(f"không chạy được UNO: {e}")
    wb = openpyxl.load_workbook(dst, data_only=True)
    lay = LAYOUT["data"]

    def row(code):
        return _row_of(wb, code)

    r = row("ct05_u1_vaccinated")
    assert r[lay["input"]].value == 330
    assert r[lay["rate"]].value == pytest.approx(110.0)          # 330 / 300 × 100
    assert r[lay["check"]].value.strip() == ("Số trẻ dưới 1 tuổi tiêm chủng đầy đủ không thể vượt số trẻ em "
                                             "dưới 1 tuổi.")
    r = row("ct05_u5_vaccinated")
    assert r[lay["rate"]].value == pytest.approx(96.6667, abs=1e-4)  # 1450 / 1500 × 100
    assert not r[lay["check"]].value                                 # all is well
    r = row("ct02_served")
    assert r[lay["rate"]].value == pytest.approx(0.1)                # 2.5 / 2500 × 100
    assert r[lay["check"]].value == "Phải là số nguyên; "
    assert row("children_total")[lay["check"]].value in (None, "")   # "5.000" is 5000, as collect reads it
    assert row("ct04_measured")[lay["check"]].value == "Phải là số nguyên; "  # "1,5" is 1,5: not a count
    assert row("ct04_underweight")[lay["check"]].value == "Phải nhập số; "
    assert row("children_age5")[lay["check"]].value == "Chưa nhập số liệu bắt buộc; "
    assert row("budget_ns_dia_phuong_planned")[LAYOUT["budget"]["check"]].value in (None, "")  # "12,5" million
    assert row("children_u1")[lay["check"]].value in (None, "")      # 300 ≤ 1500: rule holds


def test_a_long_label_gets_a_row_tall_enough_for_all_its_lines(books):
    """A row keeps its height when its label wraps: without room the label's second line would
    hide under the next row (LibreOffice and Excel do not grow it on their own)."""
    wb = books["15700"]
    sheet, ref = _dest(wb, "ct01_child_friendly")  # an 86-character label: two lines
    long_row = wb[sheet].row_dimensions[int(ref[1:])].height
    sheet, ref = _dest(wb, "children_u1")  # a short label keeps the default height
    assert long_row is not None and long_row >= 2 * 15
    assert wb[sheet].row_dimensions[int(ref[1:])].height in (None, 15, 15.75)


# --- what the officer and the unit see ------------------------------------------------------------


def test_the_ma_column_shows_the_indicator_number_and_hides_the_field_code(books, ws):
    cat = ws.catalogue
    by_numerator = {i.numerator: i for i in cat.indicators}
    wb = books["15700"]
    seen = {}
    for f in cat.fields_for("xa", "15700"):
        row = _row_of(wb, f.code)
        lay = LAYOUT[f.section]
        shown = row[lay["number"]].value
        assert shown == (f"CT{int(by_numerator[f.code].code[2:4])}{by_numerator[f.code].code[4:]}"
                         if f.code in by_numerator else None), f.code
        assert row[lay["code"]].value == f.code  # for the readers, out of sight
        letter = openpyxl.utils.get_column_letter(lay["code"] + 1)
        assert wb[row[0].parent.title].column_dimensions[letter].hidden, (f.section, letter)
        seen[f.code] = shown
    assert seen["ct02_served"] == "CT2" and seen["ct11_injured"] == "CT11a" and seen["children_total"] is None
    # No English field code is visible anywhere a unit looks.
    codes = {f.code for f in cat.fields}
    for sheet in wb.worksheets:
        if sheet.sheet_state != "visible":
            continue
        hidden = {c for c, d in sheet.column_dimensions.items() if d.hidden}
        visible = {c.value for row in sheet.iter_rows() for c in row
                   if isinstance(c.value, str) and c.column_letter not in hidden}
        assert not visible & codes, sheet.title


def test_a_blank_form_is_yellow_and_only_a_flagged_value_turns_orange(books):
    sheet = books["15700"]["Số liệu"]
    (rule_range, rules), = [(str(k.sqref), v) for k, v in sheet.conditional_formatting._cf_rules.items()]
    (rule,) = rules
    assert rule_range.startswith("F")
    # Orange needs both a message from the self-check and a value in the cell itself.
    assert rule.formula == ["AND(LEN($J5)>0,LEN($F5)>0)"]
    inp = sheet["F6"]
    assert inp.fill.fgColor.rgb.endswith("FFF2CC")  # the yellow of the instructions

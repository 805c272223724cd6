"""The district's annual report in Word (Nghị định 30/2020/NĐ-CP, Phụ lục I).

The report built once for the module the way the officer gets it: templates generated,
filled by a few communes and two offices (one late, one with hostile text), dropped into
the inbox, collected, merged, then `report`. Last year's figures go straight into the store
(collect is tested elsewhere) so that the trend, the change from last year and CT13's
year-over-year fall have something to work on. The sentences are tested as pure functions
on hand-worked numbers."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document
from docx.shared import Mm
from docxtpl import DocxTemplate
from lxml import etree

import pipeline.reporting.libreoffice as libreoffice
from conftest import COMMUNE_VALUES, VIETNAMESE, YEAR, fill, set_received
from pipeline.base.problems import ERROR, WARNING, ValidationIssue
from pipeline.cli import cli
from pipeline.collect.run import collect
from pipeline.merge.result import (Bounds, Comparison, IndicatorResult, MergeResult, OfficeFigure, Verdict, YearFigure,
                                   reference_year)
from pipeline.merge.merger import load, merge
from pipeline.reporting.report import _settings_warnings, report
from pipeline.reporting.context import build_context
from pipeline.reporting.docx import ReportError, clean_text, render_docx
from pipeline.reporting.quality import data_quality
from pipeline.reporting.words import date_text, format_target, format_value, phrase_indicator
from pipeline.config.settings import Settings
from pipeline.store.db import Store, SubmissionRecord
from pipeline.base.text import vn_number
from pipeline.config.workspace import REPO_TEMPLATES, Workspace, init_workspace

HOSTILE = '<w:p> & {{ x }} {% raw %} =HYPERLINK("http://x","y")'
COMMUNES = ["15664", "15667", "15670", "15673", "15676", "15679", "15682", "15685"]
TEMPLATE = REPO_TEMPLATES / "docx" / "bao_cao.docx"


# --- the report, built once ------------------------------------------------------------------
def _put(ws, year: int, unit: str, values: dict) -> None:
    with Store(ws.db_path) as store:
        rec = SubmissionRecord(year=year, sha256=f"{year}-{unit}", path=f"{unit}.xlsx", size=1,
                               received_at=f"{year}-11-10T09:00:00", status="accepted", unit=unit,
                               saved_at=f"{year}-11-10T08:00:00", collected_at=f"{year}-11-10T09:00:00")
        store.add_submission(rec, [{"field": k, "value": v if isinstance(v, (int, float)) else None,
                                    "text": v if isinstance(v, str) else None} for k, v in values.items()], [])


def _names(path: Path) -> set[str]:
    return set(openpyxl.load_workbook(path).defined_names.keys())


@pytest.fixture(scope="module")
def built(tmp_path_factory, templates):
    ws, _ = init_workspace(tmp_path_factory.mktemp("report") / "ws")
    # 2023, straight into the store: 6 communes, 2 more child marriages each than in 2024.
    for i, u in enumerate(COMMUNES[:6]):
        last = {k: v for k, v in COMMUNE_VALUES.items()}
        last.update(ct13_child_marriages=i % 3 + 2, ct05_u1_vaccinated=270, ct01_child_friendly="Có")
        _put(ws, YEAR - 1, u, last)
    merge(ws, YEAR - 1)
    # 2024, through the inbox: 8 communes (one late), two offices with narratives.
    for i, u in enumerate(COMMUNES):
        v = dict(COMMUNE_VALUES, ct13_child_marriages=i % 3, ct05_u1_vaccinated=280 + 2 * i,
                 ct01_child_friendly="Có" if i % 4 else "Không", ct03_deaths_neonatal=i % 3)
        dest = fill(templates[u], ws.inbox(YEAR) / f"{u}.xlsx", v, saved_at=datetime(YEAR, 11, 10))
        set_received(dest, datetime(YEAR, 11, 25 if i == 7 else 15, 9))
    offices = {
        "P-YT": {"narr_direction": f"Ban hành Kế hoạch số 12/KH-PYT. {HOSTILE}",
                 "narr_limitations": "Thiếu cán bộ chuyên trách."},
        "P-GDDT": {"narr_communication": "Tổ chức 25 buổi truyền thông về quyền trẻ em.",
                   "narr_recommendations": "Đề nghị tỉnh hỗ trợ kinh phí phòng tư vấn tâm lý."},
    }
    for code, texts in offices.items():
        names = _names(templates[code])
        v = {k: val * 8 for k, val in COMMUNE_VALUES.items() if k in names and isinstance(val, int)}
        dest = fill(templates[code], ws.inbox(YEAR) / f"{code}.xlsx", {**v, **texts}, saved_at=datetime(YEAR, 11, 10))
        set_received(dest, datetime(YEAR, 11, 15, 9))
    collect(ws, YEAR, workers=1, feedback=False)
    merge(ws, YEAR)
    written = report(ws, YEAR, date=date(2026, 1, 5))
    return ws, written


@pytest.fixture(scope="module")
def doc(built):
    return Document(built[1].docx)


def _text(document) -> str:
    """Every paragraph of the body, its tables and headers, one per line."""
    parts = [p.text for p in document.paragraphs]
    for t in document.tables:
        for row in t.rows:
            for cell in row.cells:
                parts += [p.text for p in cell.paragraphs]
    return "\n".join(parts)


def _indicator_table(document):
    for t in document.tables:
        head = [c.text for c in t.rows[0].cells]
        if head[:3] == ["TT", "Chỉ tiêu", "ĐVT"] and "Đánh giá" in head:
            return t
    raise AssertionError("no indicator table")


# --- form (NĐ 30/2020) -----------------------------------------------------------------------
def test_page_is_a4_with_the_decree_margins(doc):
    first = doc.sections[0]
    assert (round(first.page_width.mm), round(first.page_height.mm)) == (210, 297)
    for s in doc.sections:
        assert sorted((round(s.page_width.mm), round(s.page_height.mm))) == [210, 297]
        assert 20 <= s.top_margin.mm <= 25 and 20 <= s.bottom_margin.mm <= 25
        assert 30 <= s.left_margin.mm <= 35 and 15 <= s.right_margin.mm <= 20
    assert doc.sections[-1].page_width > doc.sections[-1].page_height  # the appendices are landscape


def test_body_is_times_new_roman_13_14_justified_with_first_line_indent(doc):
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and 13 <= normal.font.size.pt <= 14
    fonts = normal.element.rPr.rFonts
    assert {fonts.get(f"{{{fonts.nsmap['w']}}}{k}") for k in ("ascii", "hAnsi", "eastAsia", "cs")} == {"Times New Roman"}
    assert normal.paragraph_format.alignment == 3  # justify
    assert abs(normal.paragraph_format.first_line_indent.cm - 1.27) < 0.01
    named = {r.font.name for p in doc.paragraphs for r in p.runs} - {None}
    assert named <= {"Times New Roman"}


def test_two_column_header(doc):
    head = doc.tables[0]
    left, right = (c.text for c in head.rows[0].cells)
    assert left.split("\n")[:2] == ["ỦY BAN NHÂN DÂN", "HUYỆN TRIỆU SƠN"]
    assert right.split("\n")[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert re.fullmatch(r"Số:\s+/BC-UBND", head.rows[1].cells[0].text)
    date_par = head.rows[1].cells[1].paragraphs[0]
    assert date_par.text == "Triệu Sơn, ngày 05 tháng 01 năm 2026"
    assert all(r.italic for r in date_par.runs if r.text.strip())
    lines = [p for p in head.rows[0].cells[0].paragraphs + head.rows[0].cells[1].paragraphs if p.text]
    assert all(r.bold for p in lines for r in p.runs if r.text.strip())
    national = head.rows[0].cells[1].paragraphs[0]
    assert 12 <= national.runs[0].font.size.pt <= 13
    # the short rules under the issuer and under the motto
    borders = head._tbl.xpath(".//w:pPr/w:pBdr/w:bottom")
    assert len(borders) == 2


def test_title_subject_and_page_numbers(doc):
    texts = [p.text for p in doc.paragraphs]
    title = doc.paragraphs[texts.index("BÁO CÁO")]
    subject = doc.paragraphs[texts.index("Kết quả thực hiện Chương trình hành động vì trẻ em năm 2024")]
    for p in (title, subject):
        assert p.alignment == 1 or p.style.paragraph_format.alignment == 1  # centred
        assert all(r.bold for r in p.runs if r.text.strip())
    first = doc.sections[0]
    assert first.different_first_page_header_footer
    assert not "".join(p.text for p in first.first_page_header.paragraphs).strip()
    header_xml = etree.tostring(first.header._element).decode()
    assert "PAGE" in header_xml and 'w:jc w:val="center"' in header_xml


def test_signer_and_recipients_from_settings(doc):
    sign = next(t for t in doc.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    left, right = sign.rows[0].cells
    signer = [p.text for p in right.paragraphs if p.text]
    assert signer == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lê Quang Trung"]
    heading = left.paragraphs[0]
    assert heading.text == "Nơi nhận:"
    assert heading.runs[0].bold and heading.runs[0].italic and heading.runs[0].font.size.pt == 12
    lines = [p for p in left.paragraphs[1:] if p.text]
    assert lines[0].text == "- Sở Lao động - TB&XH tỉnh Thanh Hóa (để b/c);"
    assert lines[-1].text == "- Lưu: VT, LĐTBXH."
    assert all(p.style.font.size.pt == 11 for p in lines)


# --- body ------------------------------------------------------------------------------------
def test_body_sections_in_order(doc):
    texts = [p.text for p in doc.paragraphs]
    heads = ["I. ĐẶC ĐIỂM TÌNH HÌNH", "II. KẾT QUẢ THỰC HIỆN",
             "1. Công tác chỉ đạo, điều hành, truyền thông, giáo dục, vận động xã hội",
             "2. Kết quả thực hiện các mục tiêu, chỉ tiêu", "3. Kinh phí thực hiện",
             "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", "V. KIẾN NGHỊ, ĐỀ XUẤT"]
    positions = [texts.index(h) for h in heads]
    assert positions == sorted(positions)


def test_population_comes_from_the_data(doc):
    text = _text(doc)
    # 8 communes of 5,000 children each
    assert "- Tổng số trẻ em (dưới 16 tuổi): 40.000 trẻ em;" in text
    assert "- Số trẻ đẻ sống trong năm: 2.480 trẻ." in text
    assert "Số liệu tổng hợp từ báo cáo của 8/34 xã, thị trấn" in text


def test_narratives_are_attributed_and_missing_ones_say_to_complete(doc):
    text = _text(doc)
    assert "- Phòng Y tế: Ban hành Kế hoạch số 12/KH-PYT." in text
    assert "- Phòng Giáo dục và Đào tạo: Tổ chức 25 buổi truyền thông về quyền trẻ em." in text
    assert "- Phòng Y tế: Thiếu cán bộ chuyên trách." in text
    # nobody wrote the next year's plans: a neutral sentence the officer replaces
    iv = text.index("IV. PHƯƠNG HƯỚNG")
    assert "cần được bổ sung" in text[iv:text.index("V. KIẾN NGHỊ")]


def test_indicator_paragraphs_from_the_numbers(built, doc):
    text = _text(doc)
    r = load(built[0], YEAR).indicator("ct05a")
    # 8 of 34 communes: (280+282+...+294) = 2296 of 8*300 children under 1 = 95,67%. Phòng Y tế
    # reported the district-wide 8*290 = 2320 of 2400 = 96,67%: with communes missing, its figure
    # is the district value (catalogue authority "auto"), and the report gives both.
    assert r.communes_value == pytest.approx(2296 / 2400 * 100, abs=1e-9)
    assert (r.value, r.source, r.source_reason) == (pytest.approx(2320 / 2400 * 100), "office", "incomplete")
    assert ("Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ 8 loại vắc xin đạt 96,67% (số của Phòng Y tế; tổng hợp "
            "từ 8 xã, thị trấn: 95,67%), vượt mục tiêu năm 2025 (95%)" in text)
    # why the office's figure: said once, at the head of the results
    assert "là số do phòng chủ trì báo cáo cho toàn huyện" in text and "vì mới có 8/34 xã, thị trấn báo cáo" in text
    # Like for like: the six communes of 2023 had 270/300 each (90%); in 2024 the same six had
    # 280+282+284+286+288+290 = 1710 of 1800 (95%).
    assert ("tăng 5 điểm phần trăm so với năm 2023 trên cùng các xã, thị trấn (năm 2023: 90%, năm 2024: 95%)" in text)
    assert "(6 xã, thị trấn, trừ khi ghi khác)" in text  # the communes compared, said once
    # CT1 over the 34 communes of the roster: 6 yes; even if the 26 silent ones said yes, 32/34
    # = 94,12% < 95%: not met either way.
    assert ("Có 6/34 xã, thị trấn đạt tiêu chuẩn phù hợp với trẻ em (17,65%), 26 xã, thị trấn chưa có báo cáo hợp lệ, "
            "chưa đạt mục tiêu năm 2025 (95%)" in text)
    # CT13: 2024 all 8 communes 0+1+2+0+1+2+0+1 = 7; 2023 six communes 2+3+4+2+3+4 = 18; the six
    # with both years had 6 in 2024. No verdict before 2025.
    assert ("- Chỉ tiêu 13: Năm 2024, số cuộc tảo hôn là 7 cuộc (số liệu của 8/34 xã, thị trấn); năm 2023: 18 cuộc "
            "(số liệu của 6/34 xã, thị trấn). Trên cùng 6 xã, thị trấn có báo cáo cả hai năm: 6 cuộc so với 18 cuộc, "
            "giảm 66,67% (mục tiêu mức giảm 1-2%/năm áp dụng từ năm 2025)." in text)


def test_budget_totals(doc):
    text = _text(doc)
    # 8 communes x 120/110 plus two offices x 960/880 (their counts are 8x a commune's)
    assert "dự toán 2.880 triệu đồng, thực hiện 2.640 triệu đồng (đạt 91,67% dự toán)" in text


# --- appendices ------------------------------------------------------------------------------
def test_appendix_one_lists_all_24_indicators_and_32_targets(doc):
    table = _indicator_table(doc)
    head = [c.text for c in table.rows[0].cells]
    assert head == ["TT", "Chỉ tiêu", "ĐVT", "Mục tiêu 2025", "Mục tiêu 2030", "Năm 2023", "Năm 2024", "Đánh giá",
                    "Ghi chú"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    targets = [r for r in rows if re.fullmatch(r"\d+[a-z]?", r[0])]
    groups = [r for r in rows if r[0].startswith("Mục tiêu")]
    assert len(targets) == 32
    assert len({re.match(r"\d+", r[0]).group() for r in targets}) == 24
    assert [g[0][:11] for g in groups] == ["Mục tiêu 1:", "Mục tiêu 2:", "Mục tiêu 3:", "Mục tiêu 4:"]
    by_tt = {r[0]: r for r in targets}
    assert by_tt["3a"][2:5] == ["‰", "Dưới 2,5", "Dưới 2"]
    assert by_tt["2"][3:5] == ["≥ 92", "≥ 97"]  # as the plan writes them
    assert by_tt["4c"][3] == "Dưới 5 (nông thôn); dưới 10 (thành thị)"
    # Each year's figure with its source: 2023 on 6 of 34 communes (provisional), 2024 Phòng Y tế's
    # district-wide figure (8 of 34 communes reported); the note says the two differ.
    assert by_tt["5a"][5:8] == ["90 (t)", "96,67 (p)", "Đạt"]
    assert "Tổng hợp từ 8 xã, thị trấn: 95,67" in by_tt["5a"][8]
    assert by_tt["5b"][6:8] == ["96,67 (p)", "Chưa đạt"] and "So với mục tiêu năm 2030" in by_tt["5b"][8]  # 97 in 2030
    assert by_tt["13"][3] == "Giảm 1-2%/năm" and by_tt["13"][6] == "Giảm 66,67 (t)"
    assert by_tt["1"][6:8] == ["17,65", "Chưa đạt"]  # 6 of the 34 communes of the roster


def test_appendix_titles_and_reference_line(doc):
    texts = [p.text for p in doc.paragraphs]
    for n in ("I", "II", "III"):
        assert f"Phụ lục {n}" in texts
    refs = [p for p in doc.paragraphs if p.text.startswith("(Kèm theo Báo cáo số")]
    assert len(refs) == 3
    for p in refs:
        assert re.fullmatch(r"\(Kèm theo Báo cáo số\s+/BC-UBND ngày 05/01/2026 của UBND huyện Triệu Sơn\)", p.text)
        assert all(r.italic for r in p.runs if r.text.strip())
    assert "Phụ lục IV" not in texts  # only in the review years


def test_appendix_two_has_every_commune(doc):
    t = next(t for t in doc.tables if [c.text for c in t.rows[0].cells][:2] == ["TT", "Đơn vị"]
             and "CT2" in t.rows[0].cells[3].text)
    rows = [[c.text for c in r.cells] for r in t.rows[1:]]
    assert len(rows) == 34 + 1 and rows[-1][1] == "Toàn huyện"
    first = rows[0]
    assert first[1] == "Thị trấn Triệu Sơn" and first[2] == "Không"  # i = 0: not child-friendly
    # a commune that sent nothing: "chưa báo cáo" for the yes/no criteria (CT1, CT21), a dash elsewhere
    assert rows[10][2] == "Chưa báo cáo" and rows[10][2:].count("Chưa báo cáo") == 2
    assert set(rows[10][2:]) == {"–", "Chưa báo cáo"}


def test_appendix_three_reports_who_sent_what(doc):
    t = next(t for t in doc.tables if [c.text for c in t.rows[0].cells][:3] == ["TT", "Đơn vị", "Tình trạng"])
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in t.rows[1:]}
    assert rows["Xã Triệu Thành"][4] == "Không"  # received 25/11, after the deadline
    assert rows["Xã Thọ Sơn"][3:5] == ["15/11/2024", "Có"]
    assert rows["Xã Bình Sơn"][2] == "Chưa gửi"
    text = _text(doc)
    assert "Phải báo cáo: 45 đơn vị; đã gửi: 10; hợp lệ: 10" in text
    assert "26 xã, thị trấn chưa có báo cáo hợp lệ nên thiếu số liệu ở mọi chỉ tiêu" in text


def test_appendix_three_names_the_indicator_of_a_problem_not_its_cell(workspace, templates):
    """The province reads the report, not the workbooks: a problem is filed under its indicator
    ("CT4"), and the full list with cells is the validation workbook, kept by the office."""
    dest = fill(templates["15700"], workspace.inbox(YEAR) / "15700.xlsx", dict(COMMUNE_VALUES, ct04_underweight=1500))
    set_received(dest, datetime(YEAR, 11, 15, 9, 0))
    collect(workspace, YEAR)
    with Store(workspace.db_path) as store:
        q = data_quality(workspace, store, YEAR)
    (problem,) = q["problems"]
    assert (problem["unit"], problem["topic"], problem["severity"]) == ("Xã Dân Lực", "CT4", "Lỗi")
    assert "lưu tại Phòng Lao động - Thương binh và Xã hội" in q["footer"] and "output/" not in q["footer"]


def test_appendix_three_summarises_many_problems_by_kind_and_lists_the_errors(workspace):
    """269 warnings are not a report to the province: by kind (and by unit in the units' table),
    with the errors listed; the full list stays in the validation workbook."""
    warning = ValidationIssue("outlier", WARNING, "Khác thường.", field="ct02_served")
    error = ValidationIssue("cross-field-rule", ERROR, "Vượt.", field="ct05_u1_vaccinated")
    units = COMMUNES + ["15688", "15691", "15700", "15703"]
    with Store(workspace.db_path) as store:
        for n, unit in enumerate(units):
            issues = [warning] * 2 + ([error] if n < 2 else [])
            rec = SubmissionRecord(year=YEAR, sha256=f"s{n}", path=f"{unit}.xlsx", size=1,
                                   received_at=f"{YEAR}-11-10T09:00:00", unit=unit, collected_at="now",
                                   status="rejected" if n < 2 else "accepted_with_warnings")
            store.add_submission(rec, [{"field": "ct02_served", "value": 1}], issues)
    with Store(workspace.db_path) as store:
        q = data_quality(workspace, store, YEAR)
    assert q["problems_total"] == 2 * 12 + 2
    assert [(k["title"], k["severity"], k["count"]) for k in q["kinds"]] == [
        ("Số liệu mâu thuẫn nhau", "Lỗi", 2), ("Khác thường so với đơn vị khác", "Cảnh báo", 24)]
    assert q["kinds"][1]["units"].startswith("12: Thị trấn Triệu Sơn, Xã Thọ Sơn, Xã Thọ Bình, Xã Thọ Tiến và 8 ")
    assert [p["severity"] for p in q["problems"]] == ["Lỗi", "Lỗi"]  # the errors, not 24 warnings
    assert "Có 26 lỗi, cảnh báo: bảng trên tổng hợp theo loại" in q["footer"]


def test_a_report_from_2025_on_says_the_district_is_gone_while_settings_name_it():
    default = Settings.load()
    assert _settings_warnings(default, 2024) == []
    (w,) = _settings_warnings(default, 2025)
    assert "Từ 01/7/2025 không còn cấp huyện" in w and "Ủy ban nhân dân huyện Triệu Sơn" in w
    # Only the issuer changed: the recipient is still the labour department, which lost children's affairs.
    (w,) = _settings_warnings(Settings({**default.data, "issuer": "Ủy ban nhân dân xã Thọ Phú"}), 2025)
    assert "Thọ Phú" not in w and "Sở Lao động - Thương binh và Xã hội tỉnh Thanh Hóa" in w
    # The defaults in force from 2025 follow the reorganisation; only the signer is unknown.
    (w,) = _settings_warnings(default.for_year(2025), 2025)
    assert w.startswith("Chưa có họ tên người ký (mục from_2025: signer: name")
    named = Settings({**default.data, "from_2025": {**default.data["from_2025"],
                                                    "signer": {**default.data["from_2025"]["signer"], "name": "Lê Văn A"}}})
    assert _settings_warnings(named.for_year(2025), 2025) == []


# --- charts ----------------------------------------------------------------------------------
def test_charts_are_png_embedded_in_the_docx(built):
    written = built[1]
    assert len(written.charts) == 2  # targets, and the trend (2023 and 2024)
    for p in written.charts:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with zipfile.ZipFile(written.docx) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert len(media) == 2


# --- template and context --------------------------------------------------------------------
def test_template_asks_for_nothing_the_context_lacks(built):
    ws = built[0]
    ctx = build_context(ws, load(ws, YEAR))
    for path in (TEMPLATE, ws.template("docx/bao_cao.docx")):
        asked = DocxTemplate(str(path)).get_undeclared_template_variables()
        assert asked <= set(ctx), asked - set(ctx)
    # per-unit columns name real indicator codes
    with zipfile.ZipFile(TEMPLATE) as z:
        xml = z.read("word/document.xml").decode()
    codes = {r.code for r in load(ws, YEAR).indicators}
    used = set(re.findall(r"(?:u\.v|district_row)\.(\w+)", xml))
    assert used and used <= codes


def test_context_is_plain_data(built):
    ctx = build_context(built[0], load(built[0], YEAR))

    def plain(v):
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        if isinstance(v, list):
            return all(plain(x) for x in v)
        return v is None or isinstance(v, (str, int, float, bool))

    assert plain(ctx)
    json.dumps(ctx, ensure_ascii=False)


def test_committed_template_matches_its_recipe(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_template", REPO_TEMPLATES / "docx" / "build_template.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rebuilt = mod.build(tmp_path / "bao_cao.docx")

    def tags(p):
        with zipfile.ZipFile(p) as z:
            xml = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode())
        return re.findall(r"\{[{%].*?[}%]\}", xml)

    assert tags(rebuilt) == tags(TEMPLATE)


# --- safe text -------------------------------------------------------------------------------
def test_hostile_narrative_appears_as_typed(built, doc):
    assert HOSTILE in _text(doc)
    with zipfile.ZipFile(built[1].docx) as z:
        etree.fromstring(z.read("word/document.xml"))  # well-formed


def test_no_unit_text_is_ever_rendered_as_a_template(built, tmp_path):
    ws = built[0]
    result = copy.deepcopy(load(ws, YEAR))
    nasty = ["{{ year }}", "{% for i in range(3) %}x{% endfor %}", "{_{ a }_}", "{_% b %_}", "<w:br/>&amp;",
             "=cmd|' /C calc'!A0", "{{ ''.__class__.__mro__ }}", "bell\x07 vt\x0b nul\x00 end"]
    result.narratives = [{"field": "narr_direction", "heading": "", "unit": "P-YT", "unit_name": "Phòng Y tế",
                             "text": t} for t in nasty]
    result.unit_names["15664"] = "Thị trấn {{ signer }} <b>"
    data = render_docx(TEMPLATE, build_context(ws, result))
    out = tmp_path / "r.docx"
    out.write_bytes(data)
    text = _text(Document(out))
    for t in nasty:
        assert clean_text(t) in text
    assert "bell vt nul end" in text
    assert "Thị trấn {{ signer }} <b>" in text
    assert "xxx" not in text


def test_the_same_report_written_an_hour_later_is_the_same_file(built, monkeypatch):
    """Word packages carry the time each part was saved; the report must not, or the output
    guard would see an unchanged report as new and drop the PDF made from it."""
    import time

    ws = built[0]
    ctx = build_context(ws, load(ws, YEAR))
    first = render_docx(TEMPLATE, ctx)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert render_docx(TEMPLATE, ctx) == first


# --- review years ----------------------------------------------------------------------------
def _as_review_year(result, year: int = 2025, years=(2021, 2023, 2024, 2025)):
    """The stored 2024 result as if it were `year`'s, every indicator's figure the same in `years`."""
    r2 = copy.deepcopy(result)
    r2.year = year
    for r in r2.indicators:
        r.year = year
        own = YearFigure.of(r, commune_types=["thi_tran", "xa"])
        r.years = ({str(y): dataclasses.replace(own, year=y) for y in years} if r.value is not None else {})
    return r2


def test_review_year_compares_every_year_since_2021(built, tmp_path):
    ws = built[0]
    ctx = build_context(ws, _as_review_year(load(ws, YEAR)))
    assert ctx["review"]["kind"] == "sơ kết" and ctx["review"]["years"] == [2021, 2022, 2023, 2024, 2025]
    out = tmp_path / "r2025.docx"
    out.write_bytes(render_docx(TEMPLATE, ctx))
    d = Document(out)
    texts = [p.text for p in d.paragraphs]
    assert "Kết quả thực hiện Chương trình hành động vì trẻ em năm 2025 và sơ kết 5 năm (2021-2025)" in texts
    assert "Phụ lục IV" in texts and any(t.startswith("4. Sơ kết 5 năm thực hiện Chương trình") for t in texts)
    table = next(t for t in d.tables if [c.text for c in t.rows[0].cells][3:8] == ["2021", "2022", "2023", "2024",
                                                                                   "2025"])
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    ct05a = next(r for r in rows if r[0] == "5a")
    assert ct05a[3:9] == ["96,67 (p)", "–", "96,67 (p)", "96,67 (p)", "96,67 (p)", "≥ 95"]
    assert sum(bool(re.fullmatch(r"\d+[a-z]?", r[0])) for r in rows) == 32
    grid = table._tbl.tblGrid.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}gridCol")
    assert len(grid) == 9 and sum(int(g.get(grid[0].tag.replace("gridCol", "w"))) for g in grid) <= Mm(253).twips


def test_the_mid_term_review_starts_a_broken_series_at_its_break(built):
    """CT1 counted 34 old communes until 2024 and 8 new ones from 2025: the review line and the
    indicator table must not set 2021 beside 2025 as one series."""
    ws = built[0]
    result = _as_review_year(load(ws, YEAR))
    ct1 = result.indicator("ct01")
    ct1.value, ct1.series_breaks = 62.5, [2025]
    ct1.verdicts = {"2025": Verdict.NOT_MET, "2030": Verdict.NOT_MET}
    ct1.years = {str(y): YearFigure(year=y, value=v, verdicts=dict(ct1.verdicts), new_series=y == 2025)
                 for y, v in ((2021, 79.41), (2024, 94.12), (2025, 62.5))}
    ctx = build_context(ws, result)
    (line,) = [ln for ln in ctx["review"]["lines"] if ln.startswith("Chỉ tiêu 1 (")]
    assert "79,41" not in line and "năm 2021" not in line and "62,5% (năm 2025)" in line
    note = next(r["note"] for r in ctx["annex1"] if not r["group"] and r["tt"] == "1")
    assert "chuỗi số liệu mới, không so sánh" in note


def test_final_review_in_2030(built, tmp_path):
    ws = built[0]
    result = load(ws, YEAR)
    for r in result.indicators:
        r.verdicts["2030"] = r.verdicts.get("2025", Verdict.NO_DATA)
    result = _as_review_year(result, 2030, range(2021, 2031))
    ctx = build_context(ws, result)
    assert (ctx["review"]["kind"], ctx["review"]["span"], ctx["review"]["target_year"]) == ("tổng kết", "10 năm", "2030")
    assert ctx["review"]["summary"].startswith("Qua 10 năm thực hiện Chương trình (2021-2030), so với mục tiêu năm 2030")
    out = tmp_path / "r2030.docx"
    out.write_bytes(render_docx(TEMPLATE, ctx))
    d = Document(out)
    assert "Kết quả thực hiện Chương trình hành động vì trẻ em năm 2030 và tổng kết 10 năm (2021-2030)" in [
        p.text for p in d.paragraphs]
    table = next(t for t in d.tables if len(t.rows[0].cells) > 3 and t.rows[0].cells[3].text == "2021")
    assert [c.text for c in table.rows[0].cells][3:14] == [str(y) for y in range(2021, 2031)] + ["Mục tiêu 2030"]
    # no review in an ordinary year, and the judged target moves to 2030 after 2025
    assert build_context(ws, load(ws, YEAR))["review"] is None
    assert reference_year(2026, {"2025": 95, "2030": 97}) == "2030"
    assert reference_year(2027, {"2025": 95, "2030": None}) == "2025"  # CT19 has only a 2025 target


# --- sentences on hand-worked numbers --------------------------------------------------------
def _typed(kw: dict) -> dict:
    """A row's fields as the merge stores them: verdict values and nested parts typed, last
    year's figure (`previous`, {"year", "value", ...}) and the years' values (`history`) as
    the year figures merge keeps, the target of reference as merge sets it."""
    kw = dict(kw)
    if "status_code" in kw:
        kw["verdicts"] = {y: Verdict(v) for y, v in kw.pop("status_code").items()}
    for key, cls in (("comparison", Comparison), ("bounds", Bounds), ("office", OfficeFigure)):
        if isinstance(kw.get(key), dict):
            kw[key] = cls(**kw[key])
    if "by_type" in kw:
        kw["by_type"] = {t: {**{k: v for k, v in part.items() if k != "status_code"},
                             "verdicts": {y: Verdict(v) for y, v in (part.get("status_code") or {}).items()}}
                         for t, part in kw["by_type"].items()}
    years = dict(kw.get("years") or {})
    for y, v in (kw.pop("history", None) or {}).items():
        years[str(y)] = YearFigure(year=int(y), value=v, units_reported=34, units_expected=34,
                                   commune_types=["thi_tran", "xa"])
    prev = kw.pop("previous", None)
    if prev:
        years[str(prev["year"])] = YearFigure(**{"units_reported": 34, "units_expected": 34,
                                                 "commune_types": ["thi_tran", "xa"], **prev})
    if years or "history" in kw:
        kw["years"] = years
    if "targets" in kw or "year" in kw:
        kw["reference_year"] = reference_year(kw.get("year", 2024), kw.get("targets") or {})
    return kw


def row(**kw) -> IndicatorResult:
    base = {"code": "ct05a", "chi_tieu": 5, "goal": 1, "name": "Tỷ lệ X", "kind": "percentage", "unit": "%",
            "direction": "at_least", "value": None, "numerator": None, "denominator": None, "source": "communes",
            "units_reported": 34, "units_expected": 34, "partial": False, "targets": {"2025": 95, "2030": 96},
            "status_code": {}, "track": {}, "previous": {"year": 2023, "value": None}, "best_units": [],
            "worst_units": [], "by_type": {}, "office": None, "lead_office_name": "Phòng Y tế", "year": 2024}
    base.update(kw)
    if "year" not in kw and kw.get("previous"):
        base["year"] = kw["previous"]["year"] + 1
    if "previous" not in kw:
        base["previous"] = {"year": base["year"] - 1, "value": None}
    return IndicatorResult(**_typed(base))


def changed(r: IndicatorResult, **kw) -> IndicatorResult:
    return dataclasses.replace(r, **_typed(kw))


def same_units(before: float, now: float, n: int = 34, **kw) -> dict:
    """A like-for-like comparison on all n communes, both years."""
    return {"year": 2023, "units": n, "units_expected": 34, "value": now, "previous": before, "change": now - before,
            "previous_reported": before, "previous_units_reported": n, "series_break": False, "left_out": [], **kw}


def test_phrase_at_least_met_and_exceeded():
    r = row(value=96.2, status_code={"2025": "dat"})
    assert phrase_indicator(r, 2024) == "Tỷ lệ X đạt 96,2%, vượt mục tiêu năm 2025 (95%)."


def test_phrase_at_least_not_met_with_change_and_track():
    r = row(value=90.5, previous={"year": 2023, "value": 89.3}, comparison=same_units(89.3, 90.5),
            status_code={"2025": "chua_dat"},
            track={"2025": {"expected": 93.5, "on_track": False, "label": "Chậm so với lộ trình"}})
    assert phrase_indicator(r, 2024) == ("Tỷ lệ X đạt 90,5%, chưa đạt mục tiêu năm 2025 (95%), chậm so với lộ trình "
                                         "(mức theo lộ trình năm 2024: 93,5%); tăng 1,2 điểm phần trăm so với năm 2023 "
                                         "(89,3%).")
    r.track = {"2025": {"expected": 90, "on_track": True, "label": "Đúng lộ trình"}}
    assert "chưa đạt mục tiêu năm 2025 (95%), đúng lộ trình;" in phrase_indicator(r, 2024)


def test_phrase_a_value_one_digit_from_its_target_never_reads_as_it():
    assert phrase_indicator(row(value=95.0, status_code={"2025": "dat"}), 2024) == (
        "Tỷ lệ X đạt 95%, đạt mục tiêu năm 2025 (95%).")
    # CT14: 19.793 of 19.893 children registered = 99,49731...%, target 99,5%: one more digit.
    r = row(value=19793 / 19893 * 100, targets={"2025": 99.5, "2030": 100}, status_code={"2025": "chua_dat"})
    assert phrase_indicator(r, 2024) == "Tỷ lệ X đạt 99,497%, chưa đạt mục tiêu năm 2025 (99,5%)."
    # Rounded once from the exact ratio: 18,83495...% is 18,83, not 18,835 -> 18,84.
    assert format_value(3767 / 20000 * 100 - 0.00005, "percentage", "%") == "18,83%"
    assert format_value(2.675, "percentage", "%") == "2,68%"  # half away from zero, not 2,67


def test_phrase_rate_rises_on_the_matched_communes_while_the_all_units_figure_falls():
    # Last year 34 communes: 290 injured of 3.400.000 child-years... in numbers: 2023 all 34
    # communes 8,54 per 100.000; this year 32 communes 9,09. On the 32 that reported both
    # years it was 9,14 last year: the rate fell by 0,05, it did not rise by 0,55.
    r = row(name="Tỷ suất trẻ em bị tai nạn thương tích trên 100.000 trẻ em", kind="per_100000_children",
            unit="/100.000 trẻ em", direction="at_most", value=9.09, targets={"2025": 20, "2030": 15},
            units_reported=32, partial=True, provisional=True, status_code={"2025": "dat"},
            previous={"year": 2023, "value": 8.54},
            comparison=same_units(9.14, 9.09, n=32, previous_reported=8.54, previous_units_reported=34))
    text = phrase_indicator(r, 2024)
    assert text == (
        "Tỷ suất trẻ em bị tai nạn thương tích trên 100.000 trẻ em là 9,09, đạt mục tiêu năm 2025 (không quá 20), "
        "tạm tính trên số liệu của 32/34 xã, thị trấn; giảm 0,05 so với năm 2023 trên cùng 32 xã, thị trấn có báo "
        "cáo cả hai năm (9,14; số đã báo cáo năm 2023: 8,54).")
    assert "tăng" not in text and "trẻ em/100.000 trẻ em" not in text  # the unit is said once, in the name


def test_a_rate_whose_name_says_its_unit_does_not_say_it_again():
    r = row(name="Tỷ suất tử vong trẻ sơ sinh trên 1.000 trẻ đẻ sống", kind="per_1000_live_births", unit="‰",
            direction="at_most", value=1.2345, targets={"2025": 2.5, "2030": 2}, status_code={"2025": "dat"},
            comparison=same_units(1.5, 1.2345))
    assert phrase_indicator(r, 2024, strict=True) == (
        "Tỷ suất tử vong trẻ sơ sinh trên 1.000 trẻ đẻ sống là 1,23, đạt mục tiêu năm 2025 (dưới 2,5); giảm 0,27 so "
        "với năm 2023 (1,5).")


def test_a_change_is_the_difference_of_the_two_figures_printed():
    # 12,955‰ -> 13,1049‰: printed 12,96 and 13,1, the change is 0,14 (13,10 - 12,96), not the
    # 0,15 the exact difference (0,1499) rounds to; a reader can check it.
    r = row(name="Tỷ suất tử vong trẻ em dưới 5 tuổi", kind="per_1000_live_births", unit="‰", direction="at_most",
            value=13.1049, targets={"2025": 18.5, "2030": 15}, status_code={"2025": "dat"},
            comparison=same_units(12.955, 13.1049))
    text = phrase_indicator(r, 2024)
    assert "tăng 0,14‰ so với năm 2023 (12,96‰)" in text and "13,1‰" in text
    # Two figures that print alike get the digits that tell them apart, and so does the change.
    r = changed(r, value=13.1049, comparison=same_units(13.1012, 13.1049))
    assert "tăng 0,004‰ so với năm 2023 (13,101‰)" in phrase_indicator(r, 2024)
    # An office figure and the communes' sum beside a target never read as the target.
    r = row(name="Tỷ lệ Y", value=99.49652, targets={"2025": 99.5, "2030": 100}, status_code={"2025": "chua_dat"},
            source="office", source_reason="incomplete", communes_value=99.4965, units_reported=32, partial=True,
            office={"unit": "P-TP", "value": 99.49652, "differs": False})
    text = phrase_indicator(r, 2024)
    assert "99,5%" not in text.replace("(99,5%)", "") and "tổng hợp từ 32 xã, thị trấn: 99,4965%" in text


def test_phrase_per_thousand_strict_below():
    r = row(name="Tỷ suất tử vong trẻ sơ sinh", kind="per_1000_live_births", unit="‰", direction="at_most",
            value=3.2, targets={"2025": 2.5, "2030": 2}, status_code={"2025": "chua_dat"},
            comparison=same_units(3.6, 3.2))
    assert phrase_indicator(r, 2024, strict=True) == (
        "Tỷ suất tử vong trẻ sơ sinh là 3,2‰, chưa đạt mục tiêu năm 2025 (dưới 2,5‰); giảm 0,4‰ so với năm 2023 "
        "(3,6‰).")
    r = changed(r, value=2.5, comparison=None)
    assert phrase_indicator(r, 2024, strict=True) == (
        "Tỷ suất tử vong trẻ sơ sinh là 2,5‰, chưa đạt mục tiêu năm 2025 (dưới 2,5‰).")
    # strictness per target year (CT4b: "xuống 17%" in 2025, "dưới 15%" in 2030)
    r = changed(r, status_code={"2025": "dat"})
    assert phrase_indicator(r, 2024, strict={"2025": False, "2030": True}).endswith(
        "đạt mục tiêu năm 2025 (không quá 2,5‰).")


def test_phrase_per_100000_children():
    r = row(name="Tỷ suất trẻ em bị tai nạn thương tích", kind="per_100000_children", unit="/100.000 trẻ em",
            direction="at_most", value=20.0, targets={"2025": 20, "2030": 15}, status_code={"2025": "dat"},
            comparison=same_units(24.5, 20.0))
    assert phrase_indicator(r, 2024) == (
        "Tỷ suất trẻ em bị tai nạn thương tích là 20 trẻ em/100.000 trẻ em, đạt mục tiêu năm 2025 "
        "(không quá 20 trẻ em/100.000 trẻ em); giảm 4,5 trẻ em/100.000 trẻ em so với năm 2023 "
        "(24,5 trẻ em/100.000 trẻ em).")


CT13 = dict(code="ct13", chi_tieu=13, name="Mức thay đổi số cuộc tảo hôn so với năm trước", kind="yoy_change",
            direction="at_most", targets={"2025": -1, "2030": -1})
FALL = {"min": 1, "max": 2, "from": 2025, "to": 2030}


def test_phrase_ct13_with_last_year():
    r = row(**CT13, value=-5.2632, numerator=36, denominator=38, status_code={"2025": "dat"},
            previous={"year": 2024, "value": None}, whole_area=True)
    assert phrase_indicator(r, 2025, yearly_fall=FALL, count_unit="cuộc") == (
        "Năm 2025, số cuộc tảo hôn là 36 cuộc (năm 2024: 38 cuộc); số cuộc tảo hôn giảm 5,26% so với năm trước, "
        "đạt mức giảm 1-2%/năm.")
    r = row(**CT13, value=5.0, numerator=42, denominator=40, status_code={"2025": "chua_dat"}, year=2025,
            whole_area=True)
    assert phrase_indicator(r, 2025, yearly_fall=FALL, count_unit="cuộc").endswith(
        "số cuộc tảo hôn tăng 5% so với năm trước, chưa đạt mức giảm 1-2%/năm.")


def test_phrase_ct13_quotes_both_totals_with_their_coverage_and_no_verdict_before_2025():
    # 2024: 32 of 34 communes, 120 marriages; 2023: 34 communes, 131. The 32 that reported both
    # years had 122 in 2023: (120 - 122) / 122 = -1,64%.
    r = row(**CT13, value=(120 - 122) / 122 * 100, numerator=120, denominator=122, units_reported=32,
            partial=True, status_code={"2025": "chua_ap_dung", "2030": "chua_ap_dung"},
            totals={"current": {"year": 2024, "value": 120, "units": 32, "units_expected": 34},
                    "previous": {"year": 2023, "value": 131, "units": 34, "units_expected": 34},
                    "matched": {"units": 32, "current": 120, "previous": 122}})
    assert phrase_indicator(r, 2024, yearly_fall=FALL, count_unit="cuộc") == (
        "Năm 2024, số cuộc tảo hôn là 120 cuộc (số liệu của 32/34 xã, thị trấn); năm 2023: 131 cuộc (số liệu của "
        "34/34 xã, thị trấn). Trên cùng 32 xã, thị trấn có báo cáo cả hai năm: 120 cuộc so với 122 cuộc, giảm "
        "1,64% (mục tiêu mức giảm 1-2%/năm áp dụng từ năm 2025).")


def test_phrase_ct13_judged_on_some_communes_says_so():
    # 2025, 6 of 8 new communes: the verdict stands on those six only.
    r = row(**CT13, value=-3.0612, numerator=95, denominator=98, units_reported=6, units_expected=8, partial=True,
            provisional=True, status_code={"2025": "dat", "2030": "dat"}, year=2025,
            totals={"current": {"year": 2025, "value": 95, "units": 6, "units_expected": 8},
                    "previous": {"year": 2024, "value": 120, "units": 8, "units_expected": 8},
                    "matched": {"units": 6, "current": 95, "previous": 98}})
    text = phrase_indicator(r, 2025, yearly_fall=FALL, count_unit="cuộc", communes_word="xã")
    assert text.endswith("giảm 3,06%, đạt mức giảm 1-2%/năm (tạm tính trên số liệu của 6/8 xã).")


def test_phrase_ct13_office_figure_is_the_district_value_beside_the_matched_communes():
    # Communes: 112 in 2024 (32/34), 131 in 2023 (34/34). The office's district-wide count (120)
    # covers the whole area as 2023's 34 communes did: 120 against 131 = -8,397%, no sample.
    r = row(**CT13, value=(120 - 131) / 131 * 100, numerator=120, denominator=131, units_reported=32, partial=True,
            source="office", lead_office_name="Phòng Văn hóa - Thông tin", whole_area=True,
            status_code={"2025": "chua_ap_dung", "2030": "chua_ap_dung"},
            totals={"current": {"year": 2024, "value": 112, "units": 32, "units_expected": 34, "whole": 120,
                                "whole_source": "office"},
                    "previous": {"year": 2023, "value": 131, "units": 34, "units_expected": 34, "whole": 131,
                                 "whole_source": "communes"},
                    "matched": {"units": 32, "current": 112, "previous": 122}})
    assert phrase_indicator(r, 2024, yearly_fall=FALL, count_unit="cuộc") == (
        "Năm 2024, số cuộc tảo hôn là 120 cuộc (số của Phòng Văn hóa - Thông tin cho toàn huyện; tổng hợp từ 32/34 "
        "xã, thị trấn: 112 cuộc), năm 2023 là 131 cuộc; số cuộc tảo hôn giảm 8,4% so với năm trước (mục tiêu mức "
        "giảm 1-2%/năm áp dụng từ năm 2025).")


def test_phrase_ct13_without_last_year():
    r = row(**CT13)
    assert phrase_indicator(r, 2024, yearly_fall=FALL, count=40, count_unit="cuộc") == (
        "Năm 2024, số cuộc tảo hôn là 40 cuộc; chưa có số liệu năm 2023 để tính mức thay đổi so với năm trước "
        "(mục tiêu: mức giảm 1-2%/năm).")
    assert phrase_indicator(r, 2024, yearly_fall=FALL) == (
        "Số cuộc tảo hôn: chưa có số liệu (mục tiêu: mức giảm 1-2%/năm).")


SHARE = dict(code="ct21", chi_tieu=21, name="Tỷ lệ xã, thị trấn có điểm văn hóa, vui chơi dành cho trẻ em",
             kind="share_of_communes", targets={"2025": 80, "2030": 95})


def test_phrase_share_of_units_decided_and_undecided_by_the_missing_units():
    r = row(**SHARE, value=30 / 34 * 100, numerator=30, denominator=34, status_code={"2025": "dat"})
    assert phrase_indicator(r, 2024) == ("Có 30/34 xã, thị trấn có điểm văn hóa, vui chơi dành cho trẻ em (88,24%), "
                                         "vượt mục tiêu năm 2025 (80%).")
    # 27 yes, 5 no, 2 not reported: 27/34 = 79,41% up to 29/34 = 85,29%: either side of 80%.
    r = changed(r, value=27 / 34 * 100, numerator=27, units_reported=32, partial=True,
             bounds={"low": 27 / 34 * 100, "high": 29 / 34 * 100, "missing": 2},
             status_code={"2025": "chua_du_so_lieu"})
    assert phrase_indicator(r, 2024) == (
        "Có 27/34 xã, thị trấn có điểm văn hóa, vui chơi dành cho trẻ em (79,41%), 2 xã, thị trấn chưa có báo cáo "
        "hợp lệ; "
        "chưa đủ số liệu để đánh giá so với mục tiêu năm 2025 (80%): tỷ lệ sẽ từ 79,41% (nếu các xã, thị trấn chưa "
        "báo cáo đều không đạt) đến 85,29% (nếu đều đạt).")
    # 28 yes: at least 28/34 = 82,35% whatever the two say: decided.
    r = changed(r, value=28 / 34 * 100, numerator=28, bounds={"low": 28 / 34 * 100, "high": 30 / 34 * 100, "missing": 2},
             status_code={"2025": "dat"})
    assert phrase_indicator(r, 2024) == (
        "Có 28/34 xã, thị trấn có điểm văn hóa, vui chơi dành cho trẻ em (82,35%), 2 xã, thị trấn chưa có báo cáo "
        "hợp lệ, vượt mục tiêu năm 2025 (80%).")


def test_phrase_series_break_is_said_not_turned_into_a_change():
    r = row(**SHARE, value=75.0, numerator=6, denominator=8, units_expected=8, units_reported=8,
            status_code={"2025": "chua_dat"}, previous={"year": 2024, "value": 85.29},
            comparison={"year": 2024, "units": 0, "units_expected": 8, "value": None, "previous": None,
                        "change": None, "previous_reported": 85.29, "previous_units_reported": 34,
                        "series_break": True, "left_out": []})
    text = phrase_indicator(r, 2025)
    assert text.endswith("; không so sánh với năm 2024 (85,29%) vì số đơn vị cấp xã đã thay đổi sau sắp xếp đơn vị "
                         "hành chính.")
    assert "điểm phần trăm" not in text


def test_phrase_partial_coverage_is_said_once_unless_lower():
    r = row(value=97.0, units_reported=30, partial=True, status_code={"2025": "dat"})
    assert phrase_indicator(r, 2024).endswith(" Số liệu của 30/34 xã, thị trấn.")
    assert "Số liệu của" not in phrase_indicator(r, 2024, reporting_units=30)  # said once in the report
    assert phrase_indicator(r, 2024, reporting_units=32).endswith(" Số liệu của 30/34 xã, thị trấn.")
    # a provisional verdict always says so, beside the verdict; its coverage only where it is not
    # the report's (said once, at the head of the results)
    r.provisional = True
    assert phrase_indicator(r, 2024, reporting_units=30) == "Tỷ lệ X đạt 97%, vượt mục tiêu năm 2025 (95%), tạm tính."
    assert phrase_indicator(r, 2024, reporting_units=32) == (
        "Tỷ lệ X đạt 97%, vượt mục tiêu năm 2025 (95%), tạm tính trên số liệu của 30/34 xã, thị trấn.")


def test_phrase_missing_data():
    assert phrase_indicator(row(), 2024) == "Tỷ lệ X: chưa có số liệu (mục tiêu năm 2025: 95%)."
    r = row(targets={"2025": None, "2030": 97})  # CT5b: only a 2030 target
    assert phrase_indicator(r, 2024) == "Tỷ lệ X: chưa có số liệu (mục tiêu năm 2030: 97%)."


def test_phrase_ct4_obesity_rural_and_urban_targets():
    r = row(code="ct04c", name="Tỷ lệ trẻ em dưới 5 tuổi béo phì", direction="at_most", value=5.1,
            targets={"2025": {"xa": 5, "thi_tran": 10}, "2030": {"xa": 5, "thi_tran": 10}},
            status_code={"2025": "chua_dat"},
            by_type={"thi_tran": {"value": 11.0, "status_code": {"2025": "chua_dat"}},
                     "xa": {"value": 4.2, "status_code": {"2025": "dat"}}})
    assert phrase_indicator(r, 2024, strict=True) == (
        "Tỷ lệ trẻ em dưới 5 tuổi béo phì chung toàn huyện là 5,1%: khu vực nông thôn 4,2%, đạt mục "
        "tiêu năm 2025 (dưới 5%); khu vực thành thị 11%, chưa đạt mục tiêu năm 2025 (dưới 10%).")


def test_phrase_best_worst_and_office_figures():
    r = row(value=96.0, status_code={"2025": "dat"}, best_units=[{"unit": "a", "name": "Xã A", "value": 99.0}],
            worst_units=[{"unit": "b", "name": "Xã B", "value": 80.5}],
            office={"unit": "P-YT", "value": 90.0, "differs": True})
    assert phrase_indicator(r, 2024).endswith(
        " Số liệu do Phòng Y tế báo cáo cho toàn huyện là 90%, khác với số tổng hợp từ các xã, thị trấn. Cao nhất: "
        "Xã A (99%); thấp nhất: Xã B (80,5%).")


def test_phrase_office_figure_used_at_partial_coverage():
    # CT20a: 31 of 48 schools in the 32 communes that reported (64,58%) against the office's
    # district-wide 34 of 52 (65,38%): the office's figure is the district value, and it meets 65%.
    r = row(code="ct20a", name="Tỷ lệ Y", value=34 / 52 * 100, numerator=34, denominator=52, source="office",
            source_reason="incomplete", communes_value=31 / 48 * 100, units_reported=32, partial=True,
            targets={"2025": 65, "2030": 75}, status_code={"2025": "dat"}, lead_office_name="Phòng GD&ĐT",
            office={"unit": "P-GDDT", "value": 34 / 52 * 100, "differs": False})
    assert phrase_indicator(r, 2024) == (
        "Tỷ lệ Y đạt 65,38% (số của Phòng GD&ĐT; tổng hợp từ 32 xã, thị trấn: 64,58%), vượt mục tiêu năm 2025 (65%).")


def test_numbers_targets_and_dates_in_vietnamese():
    assert format_value(1234567.5, "percentage", "%") == "1.234.567,5%"
    assert format_target(2.5, "per_1000_live_births", "‰", "at_most", True) == "dưới 2,5‰"
    assert format_target(17, "percentage", "%", "at_most", False) == "không quá 17%"
    assert date_text(date(2026, 1, 5), 2025) == "ngày 05 tháng 01 năm 2026"
    assert date_text(date(2024, 2, 29), 2024) == "ngày 29 tháng 02 năm 2024"
    assert date_text(date(2024, 3, 9), 2024) == "ngày 09 tháng 3 năm 2024"
    assert date_text(date(2024, 11, 25), 2024) == "ngày 25 tháng 11 năm 2024"
    assert date_text(None, 2024) == "ngày …… tháng …… năm 2024"


# --- errors, missing data, CLI ---------------------------------------------------------------
def test_no_merge_yet_is_a_clear_vietnamese_error(workspace):
    with pytest.raises(ReportError, match=r"Chưa có số liệu tổng hợp năm 2024\. Chạy «treem merge --year 2024»"):
        report(workspace, 2024)
    res = CliRunner().invoke(cli, ["report", "--year", "2024", "--workspace", str(workspace.root)])
    assert res.exit_code != 0 and "treem merge --year 2024" in res.output
    assert not workspace.db_path.exists()  # asking did not create an empty store


def test_an_empty_year_still_gives_a_report(workspace):
    merge(workspace, 2024)  # nobody sent anything
    written = report(workspace, 2024)
    text = _text(Document(written.docx))
    assert text.count("chưa có số liệu") >= 32
    assert "Chưa có số liệu kinh phí" in text
    assert written.charts == []
    (missing,) = [w for w in written.warnings if "chưa có số liệu" in w]
    # Indicators are named as the plan names them, never by their English codes.
    assert "Chỉ tiêu 12" in missing and "Chỉ tiêu 4a" in missing
    assert "ct12" not in missing and "CT12" not in missing
    res = CliRunner().invoke(cli, ["report", "--year", "2024", "--workspace", str(workspace.root)])
    assert "Chỉ tiêu 12, " in res.output and "(ct" not in res.output


def test_cli_report_json_and_help(built):
    ws = built[0]
    res = CliRunner().invoke(cli, ["report", "--year", "2024", "--workspace", str(ws.root), "--date", "2024-11-25",
                                   "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"year", "docx", "pdf", "charts", "warnings", "messages"} and out["pdf"] is None
    assert Document(out["docx"]).tables[0].rows[1].cells[1].text == "Triệu Sơn, ngày 25 tháng 11 năm 2024"
    res = CliRunner().invoke(cli, ["report", "--help"])
    assert res.exit_code == 0 and "Ví dụ:" in res.output and "--pdf" in res.output
    res = CliRunner().invoke(cli, ["report", "--year", "2024", "--workspace", str(ws.root), "--date", "25-11"])
    assert res.exit_code != 0 and "YYYY-MM-DD" in res.output
    report(ws, YEAR, date=date(2026, 1, 5))  # leave the module's report as the other tests read it


def test_pdf_without_libreoffice_says_so_and_keeps_the_docx(built, monkeypatch, tmp_path):
    ws = built[0]
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    with pytest.raises(ReportError, match="không tạo được bản PDF: Chưa cài LibreOffice"):
        report(ws, YEAR, pdf=True, date=date(2026, 1, 5))
    assert Path(built[1].docx).exists()
    res = CliRunner().invoke(cli, ["report", "--year", "2024", "--workspace", str(ws.root), "--pdf"])
    assert res.exit_code == 1 and "LibreOffice" in res.output
    report(ws, YEAR, date=date(2026, 1, 5))


@pytest.mark.skipif(not libreoffice.available() or not shutil.which("pdftotext"),
                    reason="Chưa cài LibreOffice hoặc pdftotext nên không thử được bản PDF.")
def test_pdf_through_libreoffice(built):
    ws = built[0]
    written = report(ws, YEAR, pdf=True, date=date(2026, 1, 5))
    pdf = Path(written.pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "BÁO CÁO" in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Kết quả thực hiện Chương trình hành động vì trẻ em năm 2024" in text
    assert len(VIETNAMESE.findall(text)) > 500
    assert "Phụ lục III" in text


# --- the demo report: every percentage is its counts, rounded once ---------------------------
def _candidates(ws, result: dict) -> dict[int | None, set]:
    """chỉ tiêu number -> every exact figure (a Fraction) its paragraph may print as a
    percentage, ‰ or change, computed here from the stored counts; None -> all of them."""
    from fractions import Fraction

    from pipeline.merge.merger import exact_value

    def exact(x) -> Fraction:
        return x if isinstance(x, Fraction) else Fraction(repr(float(x)))

    cat = ws.catalogue
    prev = load(ws, result.year - 1)
    prev_rows = {r.code: r for r in prev.indicators} if prev else {}
    out: dict[int | None, set] = {None: {Fraction(100)}}
    for r in result.indicators:
        ind = cat.indicator(r.code)
        mine = out.setdefault(r.chi_tieu, set())
        pairs = [(r.numerator, r.denominator)]
        c = r.comparison or Comparison(year=0)
        pairs += [(c.numerator, c.denominator), (c.previous_numerator, c.previous_denominator)]
        if r.office:
            pairs.append((r.office.numerator, r.office.denominator))
        pairs += [(t.get("numerator"), t.get("denominator")) for t in (r.by_type or {}).values()]
        counts = [tuple(v[r.code]) for u, v in result.unit_counts.items() if r.code in v]
        pairs += counts
        communes = [tuple(v[r.code]) for u, v in result.unit_counts.items()
                    if r.code in v and result.unit_types.get(u) in ("xa", "thi_tran")]
        if communes and ind.kind != "share_of_communes":
            pairs.append((sum(n for n, _ in communes), sum(d for _, d in communes)))
        if r.bounds:
            pairs.append((r.numerator + r.bounds.missing, r.denominator))
        p = prev_rows.get(r.code)
        if p:
            pairs.append((p.numerator, p.denominator))
        for n, d in pairs:
            v = exact_value(ind, n, d)
            if v is not None:
                mine.add(abs(v))  # a fall (CT13) is printed as "giảm 8,4%"
        if c.numerator is not None and c.previous_numerator is not None:
            a = exact_value(ind, c.numerator, c.denominator)
            b = exact_value(ind, c.previous_numerator, c.previous_denominator)
            if a is not None and b is not None:
                # The change is the difference of the two figures as printed beside it, at the
                # decimals they are printed with: each of them rounded once.
                mine |= {abs(Fraction(_round_once(a, k).replace(".", "").replace(",", "."))
                             - Fraction(_round_once(b, k).replace(".", "").replace(",", ".")))
                         for k in range(2, 7)}
        for t in r.targets.values():
            mine |= {exact(x) for x in (t.values() if isinstance(t, dict) else [t]) if x is not None}
        mine |= {exact(t["expected"]) for t in (r.track or {}).values() if t}
        mine |= {exact(ind.yearly_fall[k]) for k in ("min", "max")} if ind.yearly_fall else set()
        out[None] |= mine
    total = result.budget["total"]
    if total["planned"]:
        out[None].add(exact(total["spent"]) / exact(total["planned"]) * 100)
    return out


def _round_once(x, decimals: int) -> str:
    """The test's own rounding, from the exact fraction: half away from zero, Vietnamese digits."""
    from decimal import ROUND_HALF_UP, Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 60
        d = (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    whole, _, frac = f"{d:.{decimals}f}".partition(".")
    whole = f"{int(whole):,}".replace(",", ".")
    frac = frac.rstrip("0")
    return whole + ("," + frac if frac else "")


def _is_rounded_once(shown: str, candidates: set) -> bool:
    decimals = len(shown.split(",")[1]) if "," in shown else 0
    return any(_round_once(c, k) == shown for c in candidates for k in range(max(decimals, 2), 7))


def test_demo_report_prints_every_percentage_as_its_counts_rounded_once(tmp_path):
    from pipeline.demo import run_demo

    demo = run_demo(tmp_path / "demo", 2024)
    ws = Workspace(demo.workspace)
    result = load(ws, 2024)
    candidates = _candidates(ws, result)
    document = Document(demo.report.docx)
    narratives = {p.strip() for n in result.narratives for p in n["text"].splitlines() if p.strip()}
    checked, wrong = 0, []
    for p in document.paragraphs:
        if p.text.startswith("Phụ lục III"):
            break  # the problems table quotes validation messages, not figures
        if any(n in p.text for n in narratives):
            continue
        m = re.match(r"- Chỉ tiêu (\d+):", p.text)
        pool = candidates[int(m.group(1))] if m else candidates[None]
        for s in re.findall(r"(?<![\d,.])(\d{1,3}(?:\.\d{3})*(?:,\d+)?)(?: ?(?:%|‰)| điểm phần trăm)", p.text):
            checked += 1
            if not _is_rounded_once(s, pool):
                wrong.append((s, p.text[:60]))
    table = _indicator_table(document)
    names = {r.name: r for r in result.indicators}
    for row in table.rows[1:]:
        r = names.get(row.cells[1].text)
        if r is None or row.cells[2].text not in ("%", "‰"):
            continue
        for cell in row.cells[5:7]:
            s = cell.text.rstrip("*")
            if re.fullmatch(r"\d[\d.]*(,\d+)?", s):
                checked += 1
                if not _is_rounded_once(s, candidates[r.chi_tieu]):
                    wrong.append((s, r.code))
        # a value that misses its target never reads as the target
        t = r.targets.get(r.reference_year or "")
        if r.verdict == "chua_dat" and isinstance(t, (int, float)):
            assert row.cells[6].text.rstrip("*") != vn_number(t), r.code
    assert checked > 250
    assert wrong == []


def test_chart_labels_never_show_a_miss_as_its_target_and_use_no_unexplained_abbreviation():
    from pipeline.reporting.chart_data import attainment_bars, trend_series

    ct14 = row(code="ct14", chi_tieu=14, goal=2, name="Tỷ lệ trẻ em dưới 5 tuổi được đăng ký khai sinh",
               value=19793 / 19893 * 100, targets={"2025": 99.5, "2030": 100}, status_code={"2025": "chua_dat"},
               series_breaks=[])
    ct21 = row(**SHARE, goal=3, value=27 / 34 * 100, numerator=27, denominator=34, status_code={"2025": "chua_du_so_lieu"},
               series_breaks=[2025], history={"2024": 85.29, "2025": 79.41})
    bars = attainment_bars(MergeResult(year=2024, indicators=[ct14, ct21]))
    assert bars[0]["text"] == "99,497% (mục tiêu 99,5)" and bars[0]["met"] is False
    assert bars[1]["undecided"] is True and not bars[1]["met"]
    assert not any("MT" in b["text"] for b in bars)
    series, _ = trend_series(MergeResult(year=2025, indicators=[ct21]), ["ct21"], 2021)
    assert series[0]["breaks"] == [2025]
    from pipeline.reporting.charts import _segments

    assert _segments([(2023, 1.0), (2024, 2.0), (2025, 3.0)], [2025]) == [[(2023, 1.0), (2024, 2.0)], [(2025, 3.0)]]

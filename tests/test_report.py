"""Issue 5: the district's annual report in Word (Nghị định 30/2020/NĐ-CP, Phụ lục I).

The report built once for the module the way the officer gets it: templates generated,
filled by a few communes and two offices (one late, one with hostile text), dropped into
the inbox, collected, merged, then `report`. Last year's figures go straight into the store
(collect is tested elsewhere) so that the trend, the change from last year and CT13's
year-over-year fall have something to work on. The sentences are tested as pure functions
on hand-worked numbers."""

from __future__ import annotations

import copy
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

import pipeline.office as office
from conftest import COMMUNE_VALUES, VIETNAMESE, YEAR, fill, set_received
from pipeline.cli import cli
from pipeline.collect import collect
from pipeline.merge import load, merge
from pipeline.report import (ReportError, _settings_warnings, build_context, clean_text, data_quality, date_text,
                             format_target, format_value, phrase_indicator, reference_year, render_docx, report)
from pipeline.settings import Settings
from pipeline.store import Store, SubmissionRecord
from pipeline.workspace import REPO_TEMPLATES, init_workspace

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
    return Document(built[1]["docx"])


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
    heads = ["I. ĐẶC ĐIỂM TÌNH HÌNH", "II. KẾT QUẢ THỰC HIỆN", "1. Công tác chỉ đạo, điều hành",
             "2. Công tác truyền thông, giáo dục, vận động xã hội", "3. Kết quả thực hiện các mục tiêu, chỉ tiêu",
             "4. Kinh phí thực hiện", "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025",
             "V. KIẾN NGHỊ, ĐỀ XUẤT"]
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
    r = next(r for r in load(built[0], YEAR)["indicators"] if r["code"] == "ct05a")
    # (280+282+...+294) = 2296 of 8*300 children under 1
    assert r["value"] == pytest.approx(2296 / 2400 * 100, abs=1e-4)
    assert ("Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ 8 loại vắc xin đạt 95,67%, vượt chỉ tiêu năm 2025 (95%)"
            in text)
    assert "tăng 5,67 điểm phần trăm so với năm 2023 (90%)" in text  # 2023: 270/300 in six communes
    assert "Có 6/8 xã, thị trấn đạt tiêu chuẩn phù hợp với trẻ em (75%), chưa đạt chỉ tiêu năm 2025 (95%)" in text
    # CT13: the six communes with both years: 2023 had 2+3+4+2+3+4 = 18, 2024 had 0+1+2+0+1+2 = 6
    assert ("- Chỉ tiêu 13: Năm 2024, số cuộc tảo hôn là 6 cuộc (năm 2023: 18 cuộc); số cuộc tảo hôn giảm 66,67% "
            "so với năm trước, đạt mức giảm 1-2%/năm. Số liệu của 6/34 xã, thị trấn có báo cáo cả hai năm." in text)


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
    assert by_tt["4c"][3] == "Dưới 5 (xã); dưới 10 (thị trấn)"
    assert by_tt["5a"][5:8] == ["90", "95,67", "Đạt"]
    assert by_tt["5b"][6:8] == ["96,67", "Chưa đạt"] and "So với mục tiêu năm 2030" in by_tt["5b"][8]  # 97 in 2030
    assert by_tt["13"][3] == "Giảm 1-2%/năm" and by_tt["13"][6] == "Giảm 66,67"
    assert by_tt["1"][6:8] == ["75", "Chưa đạt"]


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
    assert rows[10][2:] == ["–"] * (len(first) - 2)  # a commune that sent nothing


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


def test_a_report_from_2025_on_says_the_district_is_gone_while_settings_name_it():
    default = Settings.load()
    assert _settings_warnings(default, 2024) == []
    (w,) = _settings_warnings(default, 2025)
    assert "Từ 01/7/2025 không còn cấp huyện" in w and "Ủy ban nhân dân huyện Triệu Sơn" in w
    assert _settings_warnings(Settings({**default.data, "issuer": "Ủy ban nhân dân xã Thọ Phú"}), 2025) == []


# --- charts ----------------------------------------------------------------------------------
def test_charts_are_png_embedded_in_the_docx(built):
    written = built[1]
    assert len(written["charts"]) == 2  # targets, and the trend (2023 and 2024)
    for p in written["charts"]:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with zipfile.ZipFile(written["docx"]) as z:
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
    codes = {r["code"] for r in load(ws, YEAR)["indicators"]}
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
    with zipfile.ZipFile(built[1]["docx"]) as z:
        etree.fromstring(z.read("word/document.xml"))  # well-formed


def test_no_unit_text_is_ever_rendered_as_a_template(built, tmp_path):
    ws = built[0]
    result = copy.deepcopy(load(ws, YEAR))
    nasty = ["{{ year }}", "{% for i in range(3) %}x{% endfor %}", "{_{ a }_}", "{_% b %_}", "<w:br/>&amp;",
             "=cmd|' /C calc'!A0", "{{ ''.__class__.__mro__ }}", "bell\x07 vt\x0b nul\x00 end"]
    result["narratives"] = [{"field": "narr_direction", "heading": "", "unit": "P-YT", "unit_name": "Phòng Y tế",
                             "text": t} for t in nasty]
    result["unit_names"]["15664"] = "Thị trấn {{ signer }} <b>"
    data = render_docx(TEMPLATE, build_context(ws, result))
    out = tmp_path / "r.docx"
    out.write_bytes(data)
    text = _text(Document(out))
    for t in nasty:
        assert clean_text(t) in text
    assert "bell vt nul end" in text
    assert "Thị trấn {{ signer }} <b>" in text
    assert "xxx" not in text


# --- review years ----------------------------------------------------------------------------
def _as_review_year(result: dict) -> dict:
    r2 = copy.deepcopy(result)
    r2["year"] = 2025
    for r in r2["indicators"]:
        if r["value"] is not None:
            r["history"] = {str(y): r["value"] for y in (2021, 2023, 2024, 2025)}
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
    assert "Phụ lục IV" in texts and any(t.startswith("5. Sơ kết 5 năm thực hiện Chương trình") for t in texts)
    table = next(t for t in d.tables if [c.text for c in t.rows[0].cells][3:8] == ["2021", "2022", "2023", "2024",
                                                                                   "2025"])
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    ct05a = next(r for r in rows if r[0] == "5a")
    assert ct05a[3:9] == ["95,67", "–", "95,67", "95,67", "95,67", "95"]
    assert sum(bool(re.fullmatch(r"\d+[a-z]?", r[0])) for r in rows) == 32
    grid = table._tbl.tblGrid.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}gridCol")
    assert len(grid) == 9 and sum(int(g.get(grid[0].tag.replace("gridCol", "w"))) for g in grid) <= Mm(253).twips


def test_final_review_in_2030(built, tmp_path):
    ws = built[0]
    result = _as_review_year(load(ws, YEAR))
    result["year"] = 2030
    for r in result["indicators"]:
        r["history"] = {str(y): v for y, v in zip(range(2021, 2031), [r["value"]] * 10)} if r["value"] is not None else {}
        r["status_code"]["2030"] = r["status_code"]["2025"]
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
def row(**kw) -> dict:
    base = {"code": "ct05a", "chi_tieu": 5, "goal": 1, "name": "Tỷ lệ X", "kind": "percentage", "unit": "%",
            "direction": "at_least", "value": None, "numerator": None, "denominator": None, "source": "communes",
            "units_reported": 34, "units_expected": 34, "partial": False, "targets": {"2025": 95, "2030": 96},
            "status_code": {}, "track": {}, "previous": {"year": 2023, "value": None}, "best_units": [],
            "worst_units": [], "by_type": {}, "office": None, "lead_office_name": "Phòng Y tế"}
    base.update(kw)
    return base


def test_phrase_at_least_met_and_exceeded():
    assert phrase_indicator(row(value=96.2), 2024) == "Tỷ lệ X đạt 96,2%, vượt chỉ tiêu năm 2025 (95%)."


def test_phrase_at_least_not_met_with_change_and_track():
    r = row(value=90.5, previous={"year": 2023, "value": 89.3},
            track={"2025": {"expected": 93.5, "on_track": False, "label": "Chậm so với lộ trình"}})
    assert phrase_indicator(r, 2024) == ("Tỷ lệ X đạt 90,5%, chưa đạt chỉ tiêu năm 2025 (95%), chậm so với lộ trình "
                                         "(mức theo lộ trình năm 2024: 93,5%); tăng 1,2 điểm phần trăm so với năm 2023 "
                                         "(89,3%).")
    r["track"] = {"2025": {"expected": 90, "on_track": True, "label": "Đúng lộ trình"}}
    assert "chưa đạt chỉ tiêu năm 2025 (95%), đúng lộ trình;" in phrase_indicator(r, 2024)


def test_phrase_at_least_exactly_on_target_and_rounding_never_hides_a_miss():
    assert phrase_indicator(row(value=95.0), 2024) == "Tỷ lệ X đạt 95%, đạt chỉ tiêu năm 2025 (95%)."
    r = row(value=98.699, targets={"2025": 98.7, "2030": 99.9})
    assert phrase_indicator(r, 2024) == "Tỷ lệ X đạt 98,699%, chưa đạt chỉ tiêu năm 2025 (98,7%)."


def test_phrase_per_thousand_strict_below():
    r = row(name="Tỷ suất tử vong trẻ sơ sinh", kind="per_1000_live_births", unit="‰", direction="at_most",
            value=3.2, targets={"2025": 2.5, "2030": 2}, previous={"year": 2023, "value": 3.6})
    assert phrase_indicator(r, 2024, strict=True) == (
        "Tỷ suất tử vong trẻ sơ sinh giảm xuống 3,2‰, chưa đạt mục tiêu năm 2025 (dưới 2,5‰); năm 2023 là 3,6‰.")
    # exactly on a "dưới" target is not below it
    r.update(value=2.5, previous={"year": 2023, "value": None})
    assert phrase_indicator(r, 2024, strict=True) == (
        "Tỷ suất tử vong trẻ sơ sinh là 2,5‰, chưa đạt mục tiêu năm 2025 (dưới 2,5‰).")
    assert phrase_indicator(r, 2024, strict=False).endswith("đạt mục tiêu năm 2025 (không quá 2,5‰).")


def test_phrase_per_100000_children():
    r = row(name="Tỷ suất trẻ em bị tai nạn thương tích", kind="per_100000_children", unit="/100.000 trẻ em",
            direction="at_most", value=20.0, targets={"2025": 20, "2030": 15}, previous={"year": 2023, "value": 24.5})
    assert phrase_indicator(r, 2024) == (
        "Tỷ suất trẻ em bị tai nạn thương tích giảm xuống 20 trẻ em/100.000 trẻ em, đạt mục tiêu năm 2025 "
        "(không quá 20 trẻ em/100.000 trẻ em); năm 2023 là 24,5 trẻ em/100.000 trẻ em.")


CT13 = dict(code="ct13", chi_tieu=13, name="Mức thay đổi số cuộc tảo hôn so với năm trước", kind="yoy_change",
            direction="at_most", targets={"2025": -1, "2030": -1})
FALL = {"min": 1, "max": 2, "from": 2025, "to": 2030}


def test_phrase_ct13_with_last_year():
    r = row(**CT13, value=-5.2632, numerator=36, denominator=38, status_code={"2025": "dat"})
    assert phrase_indicator(r, 2024, yearly_fall=FALL, count_unit="cuộc") == (
        "Năm 2024, số cuộc tảo hôn là 36 cuộc (năm 2023: 38 cuộc); số cuộc tảo hôn giảm 5,26% so với năm trước, "
        "đạt mức giảm 1-2%/năm.")
    r = row(**CT13, value=5.0, numerator=42, denominator=40, status_code={"2025": "chua_dat"})
    assert phrase_indicator(r, 2024, yearly_fall=FALL, count_unit="cuộc").endswith(
        "số cuộc tảo hôn tăng 5% so với năm trước, chưa đạt mức giảm 1-2%/năm.")


def test_phrase_ct13_without_last_year():
    r = row(**CT13)
    assert phrase_indicator(r, 2024, yearly_fall=FALL, count=40, count_unit="cuộc") == (
        "Năm 2024, số cuộc tảo hôn là 40 cuộc; chưa có số liệu năm 2023 để tính mức thay đổi so với năm trước "
        "(mục tiêu: mức giảm 1-2%/năm).")
    assert phrase_indicator(r, 2024, yearly_fall=FALL) == (
        "Số cuộc tảo hôn: chưa có số liệu (mục tiêu: mức giảm 1-2%/năm).")


def test_phrase_ct1_share_of_communes():
    r = row(code="ct01", chi_tieu=1, name="Tỷ lệ xã, thị trấn đạt tiêu chuẩn phù hợp với trẻ em",
            kind="share_of_communes", value=30 / 34 * 100, numerator=30, denominator=34)
    assert phrase_indicator(r, 2024) == ("Có 30/34 xã, thị trấn đạt tiêu chuẩn phù hợp với trẻ em (88,24%), chưa đạt "
                                         "chỉ tiêu năm 2025 (95%).")
    r.update(value=28 / 30 * 100, numerator=28, denominator=30, units_reported=30, partial=True)
    assert phrase_indicator(r, 2024) == (
        "Trong 30 xã, thị trấn có số liệu, có 28/30 xã, thị trấn đạt tiêu chuẩn phù hợp với trẻ em (93,33%), "
        "chưa đạt chỉ tiêu năm 2025 (95%). Còn 4 xã, thị trấn chưa có số liệu.")


def test_phrase_partial_coverage_is_said_once_unless_lower():
    r = row(value=97.0, units_reported=30, partial=True)
    assert phrase_indicator(r, 2024).endswith(" Số liệu của 30/34 xã, thị trấn.")
    assert "Số liệu của" not in phrase_indicator(r, 2024, reporting_units=30)  # said once in the report
    assert phrase_indicator(r, 2024, reporting_units=32).endswith(" Số liệu của 30/34 xã, thị trấn.")


def test_phrase_missing_data():
    assert phrase_indicator(row(), 2024) == "Tỷ lệ X: chưa có số liệu (mục tiêu năm 2025: 95%)."
    r = row(targets={"2025": None, "2030": 97})  # CT5b: only a 2030 target
    assert phrase_indicator(r, 2024) == "Tỷ lệ X: chưa có số liệu (mục tiêu năm 2030: 97%)."


def test_phrase_ct4_obesity_rural_and_urban_targets():
    r = row(code="ct04c", name="Tỷ lệ trẻ em dưới 5 tuổi thừa cân, béo phì", direction="at_most", value=5.1,
            targets={"2025": {"xa": 5, "thi_tran": 10}, "2030": {"xa": 5, "thi_tran": 10}},
            by_type={"thi_tran": {"value": 11.0}, "xa": {"value": 4.2}})
    assert phrase_indicator(r, 2024, strict=True) == (
        "Tỷ lệ trẻ em dưới 5 tuổi thừa cân, béo phì chung toàn huyện là 5,1%: khu vực nông thôn (xã) 4,2%, đạt mục "
        "tiêu năm 2025 (dưới 5%); khu vực thành thị (thị trấn) 11%, chưa đạt mục tiêu năm 2025 (dưới 10%).")


def test_phrase_best_worst_and_office_figures():
    r = row(value=96.0, best_units=[{"unit": "a", "name": "Xã A", "value": 99.0}],
            worst_units=[{"unit": "b", "name": "Xã B", "value": 80.5}],
            office={"unit": "P-YT", "value": 90.0, "differs": True})
    assert phrase_indicator(r, 2024).endswith(
        " Số liệu do Phòng Y tế báo cáo là 90%, chênh lệch so với tổng hợp từ các xã, thị trấn, cần rà soát. "
        "Cao nhất: Xã A (99%); thấp nhất: Xã B (80,5%).")
    r = row(value=96.0, source="office")
    assert phrase_indicator(r, 2024).startswith("Tỷ lệ X đạt 96% (theo số liệu của Phòng Y tế), vượt")


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
    text = _text(Document(written["docx"]))
    assert text.count("chưa có số liệu") >= 32
    assert "Chưa có số liệu kinh phí" in text
    assert written["charts"] == []
    (missing,) = [w for w in written["warnings"] if "chưa có số liệu" in w]
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
    assert set(out) == {"year", "docx", "pdf", "charts", "warnings"} and out["pdf"] is None
    assert Document(out["docx"]).tables[0].rows[1].cells[1].text == "Triệu Sơn, ngày 25 tháng 11 năm 2024"
    res = CliRunner().invoke(cli, ["report", "--help"])
    assert res.exit_code == 0 and "Ví dụ:" in res.output and "--pdf" in res.output
    res = CliRunner().invoke(cli, ["report", "--year", "2024", "--workspace", str(ws.root), "--date", "25-11"])
    assert res.exit_code != 0 and "YYYY-MM-DD" in res.output
    report(ws, YEAR, date=date(2026, 1, 5))  # leave the module's report as the other tests read it


def test_pdf_without_libreoffice_says_so_and_keeps_the_docx(built, monkeypatch, tmp_path):
    ws = built[0]
    monkeypatch.setattr(office, "find_soffice", lambda: None)
    with pytest.raises(ReportError, match="không tạo được bản PDF: Chưa cài LibreOffice"):
        report(ws, YEAR, pdf=True, date=date(2026, 1, 5))
    assert Path(built[1]["docx"]).exists()
    res = CliRunner().invoke(cli, ["report", "--year", "2024", "--workspace", str(ws.root), "--pdf"])
    assert res.exit_code == 1 and "LibreOffice" in res.output
    report(ws, YEAR, date=date(2026, 1, 5))


@pytest.mark.skipif(not office.available() or not shutil.which("pdftotext"),
                    reason="Chưa cài LibreOffice hoặc pdftotext nên không thử được bản PDF.")
def test_pdf_through_libreoffice(built):
    ws = built[0]
    written = report(ws, YEAR, pdf=True, date=date(2026, 1, 5))
    pdf = Path(written["pdf"])
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "BÁO CÁO" in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Kết quả thực hiện Chương trình hành động vì trẻ em năm 2024" in text
    assert len(VIETNAMESE.findall(text)) > 500
    assert "Phụ lục III" in text

"""Builds templates/docx/bao_cao.docx, the Word template of the district's annual report.

The .docx is the real template: the officer opens it in Word and edits the wording, the
tags ({{ ... }}, {%p ... %}, {%tr ... %}) are filled by `treem report`. This script is the
recipe it was made from, kept so that the layout can be rebuilt or reviewed as code:

    .venv/bin/python templates/docx/build_template.py

Layout (Nghị định 30/2020/NĐ-CP, Phụ lục I): A4, margins top/bottom 20 mm, left 30 mm,
right 15 mm; Times New Roman 14 pt body, justified, first-line indent 1,27 cm; two-column
header as a borderless table; page numbers centred at the top from page 2; signer block on
the right and "Nơi nhận" on the left. The appendices are a landscape section.

Every tag names a key of pipeline.reporting.report.build_context (tests check that the template asks
for nothing the context lacks).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, Twips
from docx.table import _Cell

OUT = Path(__file__).resolve().parent / "bao_cao.docx"
FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 11
INDENT = Cm(1.27)

# 1. Page geometry -------------------------------------------------------------------------
def mm_up(x: float) -> Twips:
    """Millimetres as whole twips, rounded up: Word stores twips, and 15 mm truncated to 850
    twips would be 14,99 mm, just outside the decree's range."""
    return Twips(math.ceil(x * 1440 / 25.4))


A4_W, A4_H = Mm(210), Mm(297)
TOP, BOTTOM, LEFT, RIGHT = mm_up(20), mm_up(20), mm_up(30), mm_up(15)
PORTRAIT_TEXT_CM = 21.0 - 3.0 - 1.5     # 16,5 cm of text width
LANDSCAPE_TEXT_CM = 29.7 - 3.0 - 1.5    # 25,2 cm

CENTER, JUSTIFY, LEFT_AL, RIGHT_AL = (WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY,
                                      WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT)

_PPR_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                   "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                   "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                   "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                   "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


# 2. Fonts and styles ----------------------------------------------------------------------
def set_fonts(rpr_owner) -> None:
    """Times New Roman for every script (Word picks the eastAsia/cs font for some Vietnamese
    characters otherwise), Vietnamese proofing language."""
    rpr = rpr_owner.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_owner.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for k in list(fonts.attrib):
        del fonts.attrib[k]  # drop theme fonts: they override the named ones
    for a in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(a), FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")


def style_paragraph(style, size=BODY_PT, bold=False, italic=False, align=JUSTIFY, first=INDENT, before=0,
                    after=6, keep_next=False, line=1.0) -> None:
    style.font.name = FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    style.font.color.rgb = None
    set_fonts(style.element)
    pf = style.paragraph_format
    pf.alignment = align
    pf.first_line_indent = first
    pf.left_indent = Cm(0)
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    pf.line_spacing = line
    pf.keep_with_next = keep_next
    pf.widow_control = True


def make_styles(doc) -> None:
    styles = doc.styles
    # Defaults for everything (tables, headers) first, then the named styles.
    rpr_default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    set_fonts(rpr_default)
    style_paragraph(styles["Normal"])
    style_paragraph(styles["Heading 1"], bold=True, keep_next=True, before=6)
    style_paragraph(styles["Heading 2"], bold=True, keep_next=True, before=3)
    style_paragraph(styles["Heading 3"], bold=True, italic=True, keep_next=True, before=3)
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        rpr = styles[name].element.get_or_add_rPr()
        for tag in ("w:color", "w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is not None and tag == "w:color":
                rpr.remove(el)
        styles[name].font.size = Pt(BODY_PT)
    for name, kw in {
        "Bảng": dict(size=TABLE_PT, align=LEFT_AL, first=Cm(0), after=0),
        "Bảng - số": dict(size=TABLE_PT, align=CENTER, first=Cm(0), after=0),
        "Bảng - đầu cột": dict(size=TABLE_PT, bold=True, align=CENTER, first=Cm(0), after=0),
        "Đầu văn bản": dict(size=13, align=CENTER, first=Cm(0), after=0),
        "Giữa": dict(align=CENTER, first=Cm(0), after=0),
        "Chú thích": dict(size=12, italic=True, align=CENTER, first=Cm(0), after=6),
        "Ghi chú bảng": dict(size=TABLE_PT, italic=True, align=JUSTIFY, first=Cm(0), before=3, after=0),
        "Nơi nhận": dict(size=11, align=LEFT_AL, first=Cm(0), after=0),
        "Chữ ký": dict(bold=True, align=CENTER, first=Cm(0), after=0),
        "Lệnh mẫu": dict(size=2, align=LEFT_AL, first=Cm(0), after=0),
    }.items():
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = styles["Normal"]
        style_paragraph(st, **kw)
    styles["Header"].font.name = FONT
    set_fonts(styles["Header"].element)


# 3. Small builders ------------------------------------------------------------------------
def para(container, parts, style=None, align=None, before=None, after=None, keep_next=None,
         page_break=False, first=None):
    """A paragraph from text or a list of (text, {"bold":..,"italic":..,"size":..}) parts."""
    _reuse_empty_cell(container)
    p = container.add_paragraph(style=style)
    if isinstance(parts, str):
        parts = [(parts, {})]
    for text, fmt in parts:
        r = p.add_run(text)
        if fmt.get("bold") is not None:
            r.bold = fmt["bold"]
        if fmt.get("italic") is not None:
            r.italic = fmt["italic"]
        if fmt.get("size"):
            r.font.size = Pt(fmt["size"])
    pf = p.paragraph_format
    if align is not None:
        pf.alignment = align
    if before is not None:
        pf.space_before = Pt(before)
    if after is not None:
        pf.space_after = Pt(after)
    if keep_next is not None:
        pf.keep_with_next = keep_next
    if first is not None:
        pf.first_line_indent = first
    if page_break:
        pf.page_break_before = True
    return p


def _reuse_empty_cell(container) -> None:
    """A new table cell holds one empty paragraph: drop it so the cell starts with ours."""
    if isinstance(container, _Cell) and len(container.paragraphs) == 1:
        only = container.paragraphs[0]
        if not only.runs and not only.text:
            only._p.getparent().remove(only._p)


def tag(container, text: str):
    """A paragraph holding only a {%p ... %} tag: docxtpl removes the whole paragraph."""
    return para(container, text, style="Lệnh mẫu")


def rule(container, width_cm: float, length_cm: float, after=0):
    """A short centred line (a bottom border on an empty paragraph shortened by indents)."""
    _reuse_empty_cell(container)
    p = container.add_paragraph(style="Lệnh mẫu")
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.insert_element_before(bdr, *_PPR_AFTER_PBDR)
    side = Cm(max(0.0, (width_cm - length_cm) / 2))
    pf = p.paragraph_format
    pf.left_indent = side
    pf.right_indent = side
    pf.line_spacing = Pt(2)
    pf.space_before = Pt(2)
    pf.space_after = Pt(after)
    return p


def cell_par(cell, parts, style="Bảng", **kw):
    """Write into a table cell (its first, empty paragraph is replaced)."""
    return para(cell, parts, style=style, **kw)


# Word rejects a file whose table properties are out of schema order ("unreadable content").
_TBLPR_ORDER = ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
                "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
                "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def tblpr_set(table, el) -> None:
    """Put `el` into the table's properties at its place in the schema order."""
    tblpr = table._tbl.tblPr
    old = tblpr.find(el.tag)
    if old is not None:
        tblpr.remove(old)
    name = "w:" + el.tag.split("}")[1]
    tblpr.insert_element_before(el, *_TBLPR_ORDER[_TBLPR_ORDER.index(name) + 1:])


def no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr_set(table, borders)


def widths(table, cms: list[float]) -> None:
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr_set(table, layout)
    for i, w in enumerate(cms):
        table.columns[i].width = Cm(w)
        for cell in table.columns[i].cells:
            cell.width = Cm(w)


def header_row(row) -> None:
    """Repeat the row at the top of every page; never split a row across pages."""
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    trpr.append(el)


def no_split(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))


def caption(table, text: str) -> None:
    """Alt-text title: marks a table whose year columns treem re-spaces after rendering."""
    el = OxmlElement("w:tblCaption")
    el.set(qn("w:val"), text)
    tblpr_set(table, el)


def grid_table(container, cols_cm: list[float], heads: list[str]):
    t = container.add_table(rows=1, cols=len(cols_cm))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, h in zip(t.rows[0].cells, heads):
        cell_par(cell, h, style="Bảng - đầu cột")
    header_row(t.rows[0])
    widths(t, cols_cm)
    return t


def tag_row(table, text: str) -> None:
    row = table.add_row()
    cell_par(row.cells[0], text, style="Lệnh mẫu")


def data_row(table, texts: list[str], styles: list[str] | None = None, bold=False, merge=False):
    row = table.add_row()
    no_split(row)
    cells = row.cells
    if merge:
        merged = cells[0].merge(cells[-1])
        cell_par(merged, [(texts[0], {"bold": bold})], style="Bảng")
        return row
    for i, (cell, text) in enumerate(zip(cells, texts)):
        cell_par(cell, [(text, {"bold": bold})] if bold else text, style=(styles or ["Bảng"] * len(texts))[i])
    return row


def page_field(paragraph) -> None:
    def fld(kind):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    paragraph.add_run()._r.append(fld("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    paragraph.add_run()._r.append(instr)
    paragraph.add_run()._r.append(fld("separate"))
    paragraph.add_run("2")
    paragraph.add_run()._r.append(fld("end"))


def geometry(section, landscape=False) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (A4_H, A4_W) if landscape else (A4_W, A4_H)
    section.top_margin, section.bottom_margin = TOP, BOTTOM
    section.left_margin, section.right_margin = LEFT, RIGHT
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


# 4. The document --------------------------------------------------------------------------
def narratives(doc, key: str) -> None:
    """Offices' texts, each attributed; a neutral sentence to replace when none came (the
    context words it for the roster in force: no office is named where there is none)."""
    tag(doc, f"{{%p if {key} %}}")
    tag(doc, f"{{%p for n in {key} %}}")
    para(doc, [("- ", {}), ("{{ n.unit }}", {"italic": True}), (": {{ n.first }}", {})])
    tag(doc, "{%p for t in n.rest %}")
    para(doc, "{{ t }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p else %}")
    para(doc, [(f"{{{{ placeholders.{key} }}}}", {"italic": True})])
    tag(doc, "{%p endif %}")


def header_block(doc) -> None:
    t = doc.add_table(rows=2, cols=2)
    no_borders(t)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = t.rows[0].cells
    tag(left, "{%p for line in issuer_header %}")
    cell_par(left, [("{{ line }}", {"bold": True})], style="Đầu văn bản")
    tag(left, "{%p endfor %}")
    rule(left, 6.0, 2.2, after=6)
    cell_par(right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {"bold": True, "size": 12})], style="Đầu văn bản")
    para(right, [("Độc lập - Tự do - Hạnh phúc", {"bold": True})], style="Đầu văn bản")
    rule(right, 10.5, 6.1, after=6)
    cell_par(t.rows[1].cells[0], "Số:        /{{ document_code }}", style="Đầu văn bản")
    cell_par(t.rows[1].cells[1], [("{{ place }}, {{ date_text }}", {"italic": True, "size": 14})],
             style="Đầu văn bản")
    widths(t, [6.0, 10.5])


def signature_block(doc) -> None:
    para(doc, "", after=0, keep_next=True)
    t = doc.add_table(rows=1, cols=2)
    no_borders(t)
    left, right = t.rows[0].cells
    cell_par(left, [("Nơi nhận:", {"bold": True, "italic": True, "size": 12})], style="Nơi nhận")
    tag(left, "{%p for r in recipients %}")
    para(left, "- {{ r }}", style="Nơi nhận")
    tag(left, "{%p endfor %}")
    para(left, "- Lưu: VT, {{ coordinator_short }}.", style="Nơi nhận")
    cell_par(right, "{{ signer.on_behalf }}", style="Chữ ký")
    tag(right, "{%p if signer.deputy %}")
    para(right, "{{ signer.deputy }}", style="Chữ ký")
    tag(right, "{%p endif %}")
    para(right, "{{ signer.title }}", style="Chữ ký")
    for _ in range(4):
        para(right, "", style="Chữ ký")
    para(right, "{{ signer.name }}", style="Chữ ký")
    widths(t, [7.5, 9.0])
    keep_rows_together(t)


def keep_rows_together(table) -> None:
    for row in table.rows:
        no_split(row)
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def body(doc) -> None:
    para(doc, [("BÁO CÁO", {"bold": True})], style="Giữa", before=18)
    para(doc, [("Kết quả thực hiện Chương trình hành động vì trẻ em năm {{ year }}"
                "{% if review %} và {{ review.kind }} {{ review.span }} ({{ review.start }}-{{ review.end }}){% endif %}",
                {"bold": True})], style="Giữa")
    rule(doc, PORTRAIT_TEXT_CM, 4.0, after=12)

    para(doc, "Thực hiện Kế hoạch triển khai, thực hiện {{ programme }}, {{ issuer }} báo cáo kết quả thực hiện "
              "năm {{ year }} như sau:")

    para(doc, "I. ĐẶC ĐIỂM TÌNH HÌNH", style="Heading 1")
    para(doc, "Toàn {{ area }} có {{ units_text }}. Tình hình trẻ em năm {{ year }} theo báo cáo của các "
              "{{ communes_word }}:")
    tag(doc, "{%p for p in population %}")
    para(doc, "- {{ p.label }}: {{ p.value }}{{ p.end }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if population_note %}")
    para(doc, [("{{ population_note }}", {"italic": True})])
    tag(doc, "{%p endif %}")

    para(doc, "II. KẾT QUẢ THỰC HIỆN", style="Heading 1")
    # Each office once: its direction, communication and results together.
    para(doc, "1. Công tác chỉ đạo, điều hành, truyền thông, giáo dục, vận động xã hội", style="Heading 2")
    narratives(doc, "work")

    para(doc, "2. Kết quả thực hiện các mục tiêu, chỉ tiêu", style="Heading 2")
    para(doc, "{{ results_intro }}")
    para(doc, "{{ results_summary }}")
    tag(doc, "{%p if chart_targets %}")
    para(doc, "{{ chart_targets }}", style="Giữa", keep_next=True, before=6)
    para(doc, "Biểu đồ 1. Kết quả năm {{ year }} so với mục tiêu (100% = đạt mục tiêu; "
              "thanh màu xanh: đạt, màu đỏ: chưa đạt, màu xám: chưa đủ số liệu để đánh giá; CT: chỉ tiêu; "
              "«<»: dưới, «≤»: không quá{{ marks.targets }})",
         style="Chú thích")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p for g in goals %}")
    para(doc, "2.{{ g.number }}. {{ g.title }}", style="Heading 3")
    tag(doc, "{%p for it in g.entries %}")
    para(doc, [("- ", {}), ("{{ it.label }}", {"italic": True}), (": {{ it.text }}", {})])
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if chart_trend %}")
    para(doc, "{{ chart_trend }}", style="Giữa", keep_next=True, before=6)
    para(doc, "Biểu đồ 2. Diễn biến một số chỉ tiêu chủ yếu từ năm {{ baseline_year }} đến năm {{ year }} "
              "(CT: chỉ tiêu; đường nét đứt: mục tiêu; đường chấm dọc «đổi đơn vị»: từ năm đó số đơn vị cấp xã "
              "thay đổi sau sắp xếp đơn vị hành chính, hai đoạn không so sánh với nhau{{ marks.trend }})",
         style="Chú thích")
    tag(doc, "{%p endif %}")

    para(doc, "3. Kinh phí thực hiện", style="Heading 2")
    para(doc, "{{ budget.summary }}")
    tag(doc, "{%p for line in budget.lines %}")
    para(doc, "- {{ line }}")
    tag(doc, "{%p endfor %}")

    tag(doc, "{%p if review %}")
    para(doc, "4. {{ review.title }}", style="Heading 2")
    para(doc, "{{ review.summary }}")
    tag(doc, "{%p for line in review.lines %}")
    para(doc, "- {{ line }}")
    tag(doc, "{%p endfor %}")
    para(doc, "Kết quả từng năm so với mục tiêu năm {{ review.target_year }} được trình bày tại Phụ lục IV.")
    tag(doc, "{%p endif %}")

    para(doc, "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", style="Heading 1")
    para(doc, "{{ shortfalls }}")
    tag(doc, "{%p for line in shortfall_lines %}")
    para(doc, "- {{ line }}")
    tag(doc, "{%p endfor %}")
    narratives(doc, "limitations")
    para(doc, "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM {{ next_year }}", style="Heading 1")
    narratives(doc, "next_year_plans")
    para(doc, "V. KIẾN NGHỊ, ĐỀ XUẤT", style="Heading 1")
    narratives(doc, "recommendations")
    # Keep the closing sentence with the signature: a signer block never stands alone on a page.
    para(doc, "Trên đây là báo cáo kết quả thực hiện Chương trình hành động vì trẻ em năm {{ year }} của "
              "{{ issuer }}, kính gửi {{ recipient }} tổng hợp./.", keep_next=True)


def annex_title(doc, number: str, title: str, page_break=True) -> None:
    para(doc, [(f"Phụ lục {number}", {"bold": True})], style="Giữa", page_break=page_break)
    para(doc, [(title, {"bold": True})], style="Giữa")
    para(doc, [("(Kèm theo Báo cáo số        /{{ document_code }} ngày {{ date_short }} của {{ issuer_short }})",
                {"italic": True})], style="Giữa", after=6)


def annex_indicators(doc) -> None:
    annex_title(doc, "I", "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU VỀ TRẺ EM NĂM {{ year }}", page_break=False)
    cols = [1.0, 8.2, 1.7, 1.9, 1.9, 2.1, 2.1, 1.9, 4.4]  # "98,33 (t)" on one line
    t = grid_table(doc, cols, ["TT", "Chỉ tiêu", "ĐVT", "Mục tiêu 2025", "Mục tiêu 2030", "Năm {{ year_prev }}",
                               "Năm {{ year }}", "Đánh giá", "Ghi chú"])
    tag_row(t, "{%tr for r in annex1 %}")
    tag_row(t, "{%tr if r.group %}")
    data_row(t, ["{{ r.text }}"], bold=True, merge=True)
    tag_row(t, "{%tr else %}")
    num = "Bảng - số"
    data_row(t, ["{{ r.tt }}", "{{ r.name }}", "{{ r.unit }}", "{{ r.t2025 }}", "{{ r.t2030 }}", "{{ r.prev }}",
                 "{{ r.value }}", "{{ r.status }}", "{{ r.note }}"],
             styles=[num, "Bảng", num, num, num, num, num, num, "Bảng"])
    tag_row(t, "{%tr endif %}")
    tag_row(t, "{%tr endfor %}")
    para(doc, "Ghi chú: {{ coverage_text }} «–» là chưa có số liệu. Cột «Đánh giá» so với mục tiêu năm {{ ref_year }} (chỉ tiêu "
              "chỉ có mục tiêu năm khác thì so với mục tiêu đó, ghi ở cột «Ghi chú»). Tỷ lệ của toàn {{ area }} bằng "
              "tổng tử số chia tổng mẫu số của các đơn vị có báo cáo, không lấy trung bình các tỷ lệ.",
         style="Ghi chú bảng")


UNIT_COLUMNS = [  # (code, header): the officer may change them in Word (any indicator code works)
    ("ct01", "CT1 Đạt tiêu chuẩn phù hợp với trẻ em"),
    ("ct02", "CT2 Tiếp cận dịch vụ phát triển toàn diện (%)"),
    ("ct04a", "CT4 Suy dinh dưỡng nhẹ cân (%)"),
    ("ct05a", "CT5 Tiêm chủng đầy đủ dưới 1 tuổi (%)"),
    ("ct08b", "CT8 Trẻ em có hoàn cảnh đặc biệt được trợ giúp (%)"),
    ("ct14", "CT14 Đăng ký khai sinh dưới 5 tuổi (%)"),
    ("ct16", "CT16 Trẻ 5 tuổi đi học mẫu giáo (%)"),
    ("ct18", "CT18 Hoàn thành THCS (%)"),
    ("ct21", "CT21 Có điểm vui chơi cho trẻ em"),
    ("ct22", "CT22 Trẻ em được hỏi ý kiến (%)"),
]


def annex_units(doc) -> None:
    annex_title(doc, "II", "MỘT SỐ CHỈ TIÊU CHỦ YẾU CỦA CÁC {{ communes_word | upper }} NĂM {{ year }}")
    rest = LANDSCAPE_TEXT_CM - 1.0 - 4.6
    cols = [1.0, 4.6] + [round(rest / len(UNIT_COLUMNS), 2)] * len(UNIT_COLUMNS)
    t = grid_table(doc, cols, ["TT", "Đơn vị"] + [h for _, h in UNIT_COLUMNS])
    tag_row(t, "{%tr for u in unit_rows %}")
    num = "Bảng - số"
    data_row(t, ["{{ u.tt }}", "{{ u.name }}"] + [f"{{{{ u.v.{c} }}}}" for c, _ in UNIT_COLUMNS],
             styles=[num, "Bảng"] + [num] * len(UNIT_COLUMNS))
    tag_row(t, "{%tr endfor %}")
    data_row(t, ["", "Toàn {{ area }}"] + [f"{{{{ district_row.{c} }}}}" for c, _ in UNIT_COLUMNS], bold=True,
             styles=[num, "Bảng"] + [num] * len(UNIT_COLUMNS))
    para(doc, "Ghi chú: dấu * là chưa đạt mục tiêu năm {{ ref_year }} của đơn vị; «–» là chưa có số liệu; «Chưa "
              "báo cáo»: {{ communes_word }} chưa có báo cáo hợp lệ (chưa gửi, hoặc tệp có lỗi phải gửi lại) về "
              "tiêu chí có/không (CT1, CT21){{ marks.district }}. {{ unit_rows_note }}", style="Ghi chú bảng")


def annex_quality(doc) -> None:
    annex_title(doc, "III", "TÌNH HÌNH BÁO CÁO VÀ CHẤT LƯỢNG SỐ LIỆU NĂM {{ year }}")
    para(doc, "1. Tình hình gửi báo cáo", style="Heading 2")
    para(doc, "{{ quality.summary }}")
    t = grid_table(doc, [1.0, 6.6, 4.0, 3.2, 2.4, 1.6, 2.0, 4.4],
                   ["TT", "Đơn vị", "Tình trạng", "Ngày nhận", "Đúng hạn", "Lỗi", "Cảnh báo", "Ghi chú"])
    tag_row(t, "{%tr for u in quality.units %}")
    num = "Bảng - số"
    data_row(t, ["{{ u.tt }}", "{{ u.name }}", "{{ u.status }}", "{{ u.received }}", "{{ u.on_time }}",
                 "{{ u.errors }}", "{{ u.warnings }}", "{{ u.note }}"],
             styles=[num, "Bảng", "Bảng", num, num, num, num, "Bảng"])
    tag_row(t, "{%tr endfor %}")
    para(doc, "2. Chỉ tiêu chưa đủ số liệu", style="Heading 2", before=6)
    tag(doc, "{%p for line in quality.gaps %}")
    para(doc, "- {{ line }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if not quality.gaps %}")
    para(doc, "Tất cả các chỉ tiêu đều có đủ số liệu của các đơn vị.")
    tag(doc, "{%p endif %}")
    para(doc, "3. Số liệu cần rà soát và các vấn đề chưa được khắc phục", style="Heading 2")
    tag(doc, "{%p for line in quality.doubts %}")
    para(doc, "- {{ line }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if quality.kinds %}")
    t = grid_table(doc, [1.0, 9.0, 2.2, 2.0, 11.0], ["TT", "Loại vấn đề", "Mức độ", "Số lượng", "Số đơn vị: đơn vị"])
    tag_row(t, "{%tr for k in quality.kinds %}")
    data_row(t, ["{{ k.tt }}", "{{ k.title }}", "{{ k.severity }}", "{{ k.count }}", "{{ k.units }}"],
             styles=[num, "Bảng", num, num, "Bảng"])
    tag_row(t, "{%tr endfor %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if quality.problems %}")
    tag(doc, "{%p if quality.kinds %}")
    para(doc, "Các lỗi cần xử lý:", before=6)
    tag(doc, "{%p endif %}")
    t = grid_table(doc, [1.0, 5.6, 2.6, 2.2, 13.8], ["TT", "Đơn vị", "Chỉ tiêu", "Mức độ", "Nội dung"])
    tag_row(t, "{%tr for p in quality.problems %}")
    data_row(t, ["{{ p.tt }}", "{{ p.unit }}", "{{ p.topic }}", "{{ p.severity }}", "{{ p.message }}"],
             styles=[num, "Bảng", num, num, "Bảng"])
    tag_row(t, "{%tr endfor %}")
    tag(doc, "{%p endif %}")
    para(doc, "{{ quality.footer }}", style="Ghi chú bảng")


def annex_review(doc) -> None:
    tag(doc, "{%p if review %}")
    annex_title(doc, "IV", "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU QUA CÁC NĂM {{ review.start }}-{{ review.end }} "
                           "SO VỚI MỤC TIÊU NĂM {{ review.target_year }}")
    t = doc.add_table(rows=1, cols=7)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    heads = ["TT", "Chỉ tiêu", "ĐVT", "{%tc for y in review.years %}", "{{ y }}", "{%tc endfor %}",
             "Mục tiêu {{ review.target_year }}"]
    for cell, h in zip(t.rows[0].cells, heads):
        cell_par(cell, h, style="Bảng - đầu cột")
    header_row(t.rows[0])
    row = t.add_row()
    cell_par(row.cells[0], "{%tr for r in review.rows %}", style="Lệnh mẫu")
    row = t.add_row()
    cell_par(row.cells[0], "{%tr if r.group %}", style="Lệnh mẫu")
    data_row(t, ["{{ r.text }}"], bold=True, merge=True)
    row = t.add_row()
    cell_par(row.cells[0], "{%tr else %}", style="Lệnh mẫu")
    num = "Bảng - số"
    data_row(t, ["{{ r.tt }}", "{{ r.name }}", "{{ r.unit }}", "{%tc for v in r.cells %}", "{{ v }}",
                 "{%tc endfor %}", "{{ r.target }}"], styles=[num, "Bảng", num, num, num, num, num])
    for text in ("{%tr endif %}", "{%tr endfor %}"):
        row = t.add_row()
        cell_par(row.cells[0], text, style="Lệnh mẫu")
    widths(t, [1.1, 8.0, 1.8, 0.1, 2.0, 0.1, 2.2])
    caption(t, "treem:year-columns")
    para(doc, "{{ review.note }}", style="Ghi chú bảng")
    tag(doc, "{%p endif %}")


def page_numbers(section) -> None:
    """Page number centred at the top, not on the first page."""
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    p = section.header.paragraphs[0]
    p.alignment = CENTER
    page_field(p)
    for r in p.runs:
        r.font.size = Pt(13)
        r.font.name = FONT


def build(path: Path = OUT) -> Path:
    doc = Document()
    make_styles(doc)
    props = doc.core_properties
    props.title = "Báo cáo kết quả thực hiện Chương trình hành động vì trẻ em"
    props.author = "treem"
    props.language = "vi-VN"
    props.comments = "Mẫu báo cáo của treem (docxtpl): sửa lời văn tùy ý, giữ nguyên các thẻ trong ngoặc nhọn."
    first = doc.sections[0]
    geometry(first)
    page_numbers(first)
    # python-docx starts with one empty paragraph: drop it so the header table comes first.
    body_el = doc.element.body
    for p in list(body_el.iterchildren(qn("w:p"))):
        body_el.remove(p)

    header_block(doc)
    body(doc)
    signature_block(doc)

    appx = doc.add_section(WD_SECTION.NEW_PAGE)
    geometry(appx, landscape=True)
    appx.different_first_page_header_footer = False
    annex_indicators(doc)
    annex_units(doc)
    annex_quality(doc)
    annex_review(doc)
    doc.save(path)
    return path


if __name__ == "__main__":
    out = build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"Đã tạo {out}")

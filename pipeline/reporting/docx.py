"""Writing the .docx: the template filled with the context, every string escaped.

Unit text never becomes template code: Jinja parses only the template; every string of the
context reaches the XML escaped, cleaned of characters XML cannot hold, and guarded against
docxtpl's own post-processing (see `_safe`)."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path

from pipeline.base.errors import TreemError
from pipeline.base.text import XML_ILLEGAL

MIN_YEAR_TWIPS = 850  # 1,5 cm: "95,67*" on one line


class ReportError(TreemError):
    """The report cannot be written (no merge yet, a broken template, a file locked, no PDF)."""



# --- rendering -------------------------------------------------------------------------------
_XML_ILLEGAL = XML_ILLEGAL  # one definition, in text.py


def clean_text(s: str) -> str:
    """Text XML can hold: NFC, line ends as \\n, no control characters."""
    s = unicodedata.normalize("NFC", s).replace("\r\n", "\n").replace("\r", "\n")
    return _XML_ILLEGAL.sub("", s)


def _safe(value):
    """Every string escaped for XML here, once (autoescape leaves Markup alone). docxtpl
    rewrites "{_{", "}_}", "{_%" and "%_}" in the rendered XML (its escape for literal tags),
    so an underscore next to a brace is written as a character reference it cannot see."""
    from markupsafe import Markup, escape

    if isinstance(value, str):
        s = str(escape(clean_text(value)))
        return Markup(s.replace("{_", "{&#95;").replace("_}", "&#95;}"))
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    return value


def template_problems(template: Path, context: dict) -> list[str]:
    """Names the template asks for that the context lacks (an officer's edit gone wrong)."""
    from docxtpl import DocxTemplate

    return sorted(DocxTemplate(str(template)).get_undeclared_template_variables(context=context))


def render_docx(template: Path, context: dict, image_width_mm: float = 160) -> bytes:
    """Fill the template. Jinja sees only the template's own tags; the context's strings are
    data (escaped), never template source. Chart paths become inline images."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        tpl = DocxTemplate(str(template))
        tpl.init_docx()
    except Exception as e:  # noqa: BLE001 - a damaged or non-Word file: say which
        raise ReportError(f"Không mở được mẫu báo cáo {template}: {e}. Lấy lại mẫu gốc bằng cách xóa tệp này "
                          f"(treem dùng mẫu có sẵn) hoặc chạy treem init ở thư mục mới.") from e
    ctx = _safe(context)
    for key in ("chart_targets", "chart_trend"):
        path = context.get(key)
        ctx[key] = InlineImage(tpl, str(path), width=Mm(image_width_mm)) if path else ""
    env = SandboxedEnvironment(autoescape=True)
    try:
        tpl.render(ctx, jinja_env=env, autoescape=True)
    except TemplateError as e:
        where = f" (dòng {e.lineno})" if getattr(e, "lineno", None) else ""
        raise ReportError(f"Mẫu báo cáo {template} có thẻ sai{where}: {e}. Sửa thẻ trong Word "
                          f"(giữ nguyên dạng {{{{ ... }}}} và {{% ... %}}) rồi chạy lại.") from e
    _fit_year_columns(tpl.docx)
    buf = io.BytesIO()
    tpl.save(buf)
    return _without_times(buf.getvalue())


def _without_times(data: bytes) -> bytes:
    """The same package with every member dated 1980-01-01: python-docx stamps members with the
    time of saving, so the same report written twice would differ, and the output guard would
    take an unchanged report for a new one (and drop its PDF)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _fit_year_columns(doc) -> None:
    """The review table repeats one column per year ({%tc for %}): give the year columns the
    width the fixed columns leave, and make the goal rows span the whole table."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section = doc.sections[-1]
    total = int((section.page_width - section.left_margin - section.right_margin) / 635)  # EMU -> twips
    for tbl in doc.element.body.iter(qn("w:tbl")):
        cap = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
        if cap is None or cap.get(qn("w:val")) != "treem:year-columns":
            continue
        trs = tbl.findall(qn("w:tr"))
        if not trs:
            continue
        head = trs[0].findall(qn("w:tc"))
        texts = ["".join(t.text or "" for t in tc.iter(qn("w:t"))).strip() for tc in head]
        is_year = [bool(re.fullmatch(r"\d{4}", t)) for t in texts]
        fixed = {}
        for i, (tc, y) in enumerate(zip(head, is_year)):
            w = tc.find(f"{qn('w:tcPr')}/{qn('w:tcW')}")
            if not y and w is not None:
                fixed[i] = int(w.get(qn("w:w")))
        n_years = sum(is_year) or 1
        each = (total - sum(fixed.values())) // n_years
        if each < MIN_YEAR_TWIPS and fixed:
            # Many years: narrow the widest fixed column (the indicator's name), not below 5 cm.
            widest = max(fixed, key=fixed.get)
            give = min(fixed[widest] - 2835, (MIN_YEAR_TWIPS - each) * n_years)
            fixed[widest] -= max(0, give)
            each = (total - sum(fixed.values())) // n_years
        col_w = [each if y else fixed.get(i, each) for i, y in enumerate(is_year)]
        grid = tbl.find(qn("w:tblGrid"))
        for g in list(grid):
            grid.remove(g)
        for w in col_w:
            g = OxmlElement("w:gridCol")
            g.set(qn("w:w"), str(w))
            grid.append(g)
        for tr in trs:
            tcs = tr.findall(qn("w:tc"))
            for i, tc in enumerate(tcs):
                tcpr = tc.get_or_add_tcPr()
                span = tcpr.find(qn("w:gridSpan"))
                if len(tcs) == 1 and len(col_w) > 1:
                    if span is None:
                        span = OxmlElement("w:gridSpan")
                        tcpr.insert(1 if tcpr.find(qn("w:tcW")) is not None else 0, span)
                    span.set(qn("w:val"), str(len(col_w)))
                    width = sum(col_w)
                else:
                    width = col_w[i] if i < len(col_w) else each
                tcw = tcpr.find(qn("w:tcW"))
                if tcw is None:
                    tcw = OxmlElement("w:tcW")
                    tcpr.insert(0, tcw)
                tcw.set(qn("w:w"), str(width))
                tcw.set(qn("w:type"), "dxa")

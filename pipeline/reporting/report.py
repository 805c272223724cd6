"""Stage 4: the district's annual report in Word, in the form of Nghị định 30/2020/NĐ-CP
(Phụ lục I), with its appendices (indicator table, per-unit table, data quality and, in the
review years 2025 and 2030, every year against the targets).

Data flows one way: the stored merge result (plus, for the data-quality appendix, what the
store says about submissions and problems) -> `build_context` (pipeline.reporting.context),
a plain dict of strings, numbers and lists -> the docxtpl template templates/docx/bao_cao.docx,
which holds the words and the layout and which the officer edits in Word. The parts live in
pipeline.reporting: `words` (figures into words), `context`, `quality` (the data-quality
appendix), `chart_data` and `docx` (writing the file); this module runs them."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path

from pipeline.config.catalogue import indicator_label
from pipeline.merge.result import IndicatorResult, MergeResult
from pipeline.base.outputs import remove_stale_derived, write_output
from pipeline.reporting.chart_data import write_charts
from pipeline.reporting.context import build_context
from pipeline.reporting.docx import ReportError, render_docx, template_problems
from pipeline.reporting.quality import data_quality
from pipeline.reporting.words import NO_DATA
from pipeline.config.workspace import REPORT_TEMPLATE


@dataclass
class ReportResult:
    """What `report` wrote: the Word report, its PDF when asked for, the chart images, what the
    officer should look at before signing (`warnings`) and the output guard's lines."""

    year: int
    docx: Path
    pdf: Path | None = None
    charts: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"year": self.year, "docx": str(self.docx), "pdf": str(self.pdf) if self.pdf else None,
                "charts": [str(p) for p in self.charts], "warnings": self.warnings, "messages": self.messages}


# --- the stage -------------------------------------------------------------------------------
def _warnings(result: MergeResult, quality: dict, rows: list[IndicatorResult], cw: str) -> list[str]:
    out = []
    cov = result.coverage or {}
    if cov.get("communes_reported", 0) < cov.get("communes_expected", 0):
        out.append(f"Mới có số liệu hợp lệ của {cov['communes_reported']}/{cov['communes_expected']} {cw}; "
                   f"các tỷ lệ tính trên các đơn vị đã báo cáo ghi «tạm tính», trừ khi lấy số toàn địa bàn của phòng chủ trì "
                   f"(xem Phụ lục III).")
    differ = [indicator_label(r.code) for r in rows if r.office and r.office.differs]
    if differ:
        out.append(f"Số liệu phòng chủ trì báo cáo cho toàn địa bàn khác tổng hợp từ các {cw} ở {', '.join(differ)}: "
                   f"đối chiếu với phòng chủ trì trước khi trình ký (báo cáo nêu cả hai số).")
    missing = [indicator_label(r.code) for r in rows if r.value is None]
    if missing:
        out.append(f"{len(missing)} chỉ tiêu chưa có số liệu, báo cáo ghi «{NO_DATA}»: {', '.join(missing)}.")
    fields = {n.get("field") for n in result.narratives or []}
    lacking = [label for f, label in (("narr_direction", "chỉ đạo, điều hành"), ("narr_communication", "truyền thông"),
                                      ("narr_limitations", "tồn tại, hạn chế"), ("narr_next_year", "phương hướng"),
                                      ("narr_recommendations", "kiến nghị")) if f not in fields]
    if lacking:
        out.append(f"Chưa có nội dung của các phòng, ngành cho các mục: {', '.join(lacking)}; báo cáo để câu ghi chú "
                   f"cần bổ sung, sửa trực tiếp trong Word.")
    merged_at, collected = result.merged_at or "", quality.get("last_collected") or ""
    if merged_at and collected and collected > merged_at:
        out.append(f"Có tệp được thu nhận sau lần tổng hợp gần nhất ({merged_at.replace('T', ' ')}); chạy "
                   f"«treem merge --year {result.year}» rồi viết lại báo cáo để dùng số liệu mới.")
    return out


def _settings_warnings(settings, year: int) -> list[str]:
    """A report from 2025 on cannot come from a district: say so if the settings still name one;
    and a report with no signer's name has an empty signature block."""
    from pipeline.config.settings import REORGANISED_SECTION, reorganisation_warnings

    out = reorganisation_warnings(settings, year)
    if not str((settings.get("signer") or {}).get("name") or "").strip():
        where = f"mục {REORGANISED_SECTION}: signer: name" if year >= 2025 else "mục signer: name"
        out.append(f"Chưa có họ tên người ký ({where} trong settings.yaml): báo cáo để trống dòng tên dưới chữ ký; "
                   f"ghi tên rồi viết lại báo cáo, hoặc điền trong Word.")
    return out


def report(ws, year: int, pdf: bool = False, date: Date | None = None, force: bool = False) -> ReportResult:
    """Write output/YEAR/bao_cao_YEAR.docx (and .pdf) from the year's stored merge, through the
    output guard (an edited report is kept; `force` backs it up and replaces it)."""
    from pipeline.merge.merger import load
    from pipeline.store.db import Store

    result = load(ws, year)
    if result is None:
        raise ReportError(f"Chưa có số liệu tổng hợp năm {year}. Chạy «treem merge --year {year}» trước, rồi chạy "
                          f"lại «treem report --year {year}».")
    ws = ws.for_year(year)  # from 2025 on, the reorganised issuer, signer and recipients
    template = ws.template(REPORT_TEMPLATE)
    files = ws.layout(year)
    with ws.lock("treem report"):
        with Store(ws.db_path) as store:
            quality = data_quality(ws, store, year)
            fields = store.merged_fields(year)
        charts = write_charts(ws, result)
        context = build_context(ws, result, date=date, quality=quality, fields=fields, charts=charts)
        warnings = _warnings(result, quality, result.indicators or [], context["communes_word"])
        warnings += _settings_warnings(ws.settings, year)
        unknown = template_problems(template, context)
        if unknown:
            warnings.append(f"Mẫu báo cáo {template.name} dùng tên không có trong số liệu (để trống): "
                            f"{', '.join(unknown)}.")
        data = render_docx(template, context)
        docx, messages = _write(ws, year, files.report, data, force)
        pdf_path = None
        if pdf:
            pdf_path, more = _pdf(ws, year, docx, force)
            messages += more
        messages += remove_stale_derived(ws, year)
    return ReportResult(year, docx, pdf_path, [p for p in charts.values() if p], warnings, messages)


def _write(ws, year: int, path: Path, data: bytes, force: bool = False,
           source: Path | None = None) -> tuple[Path, list[str]]:
    try:
        written = write_output(ws, year, path, data, force=force, source=source)
        return written.path, [written.message] if written.message else []
    except OSError as e:
        raise ReportError(f"Không ghi được {path}: {e.strerror or e}. Nếu tệp đang mở trong Word, đóng tệp rồi chạy "
                          f"lại.") from e


def _pdf(ws, year: int, docx: Path, force: bool = False) -> tuple[Path, list[str]]:
    from pipeline.reporting.libreoffice import LibreOfficeError, convert

    try:
        with tempfile.TemporaryDirectory(prefix="treem-pdf-") as tmp:
            produced = convert(docx, "pdf", Path(tmp))
            return _write(ws, year, docx.with_suffix(".pdf"), produced.read_bytes(), force, source=docx)
    except LibreOfficeError as e:
        try:
            where = docx.resolve().relative_to(ws.root)
        except ValueError:
            where = docx
        raise ReportError(f"Đã ghi báo cáo Word {where}, nhưng không tạo được bản PDF: {e}") from e

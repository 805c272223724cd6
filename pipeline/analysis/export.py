"""One export across years of the tables of pipeline.analysis.api, for people who work in Excel pivot
tables, Jupyter or R: an .xlsx with one sheet per table (Vietnamese column titles, the code
names in a hidden second header row, frozen header, filters) and a pivot-ready sheet of units
× indicators × years; or one CSV per table (UTF-8 with BOM, code names as headers).

Text a unit typed is written as text, never as a formula: write_string in the workbook, a
leading apostrophe in the CSV (consolidate.csv_safe)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter

from pipeline.config import layout
from pipeline.analysis.api import VERDICT_LABELS, WorkspaceData
from pipeline.merge.result import SOURCE_LABELS
from pipeline.merge.consolidate import csv_safe
from pipeline.base.errors import TreemError
from pipeline.base.fsutil import atomic_write
from pipeline.base.problems import SEVERITY_LABELS
from pipeline.config.roster import TYPE_LABELS
from pipeline.store.status import STATUS_LABELS

FORMATS = ("xlsx", "csv")

# Column titles the officer reads; the code names (the DataFrame columns) sit below them.
TITLES = {
    "year": "Năm", "unit": "Mã đơn vị", "unit_name": "Tên đơn vị", "unit_type": "Mã loại đơn vị",
    "unit_type_label": "Loại đơn vị",
    "field": "Mã số liệu", "field_label": "Số liệu", "value": "Giá trị", "text": "Nội dung (chữ)",
    "source_cell": "Ô trong biểu mẫu", "submission": "Mã tệp (SHA-256)", "code": "Mã chỉ tiêu",
    "chi_tieu": "Chỉ tiêu số", "name": "Tên chỉ tiêu", "unit_of_measure": "Đơn vị tính", "numerator": "Tử số",
    "denominator": "Mẫu số", "units_reported": "Số đơn vị có số liệu", "units_expected": "Số đơn vị phải báo cáo",
    "verdict_2025": "Mã đánh giá 2025", "verdict_2025_label": "Đánh giá so với mục tiêu 2025",
    "verdict_2030": "Mã đánh giá 2030", "verdict_2030_label": "Đánh giá so với mục tiêu 2030",
    "source": "Mã nguồn số liệu", "source_label": "Nguồn số liệu", "communes_value": "Tổng hợp từ các xã", "office_value": "Số của phòng chủ trì",
    "provisional": "Tạm tính", "excluded": "Bị loại khi tổng hợp (chấp nhận có lỗi)", "path": "Tệp", "sha256": "SHA-256", "status": "Mã tình trạng",
    "status_label": "Tình trạng",
    "identity_source": "Nhận ra đơn vị theo", "received": "Thời điểm nhận", "saved": "Thời điểm lưu tệp",
    "on_time": "Đúng hạn", "errors": "Số lỗi", "warnings": "Số cảnh báo", "severity": "Mã mức độ",
    "severity_label": "Mức độ",
    "sheet": "Trang", "cell": "Ô", "message": "Nội dung vấn đề", "rule": "Quy tắc",
}


@dataclass
class Table:
    name: str        # file name of the CSV (code)
    sheet: str       # sheet name in the workbook (Vietnamese)
    frame: pd.DataFrame


@dataclass
class ExportResult:
    years: list[int]
    format: str
    outputs: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)  # table code -> Vietnamese name

    def to_dict(self) -> dict:
        return {"years": self.years, "format": self.format, "outputs": [str(p) for p in self.outputs],
                "rows": self.rows}


def parse_years(text: str | None) -> list[int] | None:
    """"2021-2025", "2024" or "2021,2023" -> years; None -> every year (None).

    >>> parse_years("2021-2023"), parse_years("2024"), parse_years("2021, 2025")
    ([2021, 2022, 2023], [2024], [2021, 2025])
    """
    if text is None or not text.strip():
        return None
    years: set[int] = set()
    try:
        for part in text.replace(" ", "").split(","):
            lo, _, hi = part.partition("-")
            first, last = int(lo), int(hi or lo)
            if not 2000 <= first <= last <= 2100:
                raise ValueError
            years.update(range(first, last + 1))
    except ValueError:
        raise TreemError(f"Năm «{text}» không đúng dạng; ghi ví dụ 2021-2025, 2024 hoặc 2021,2023.") from None
    return sorted(years)


def tables(data: WorkspaceData, years: list[int] | None) -> list[Table]:
    """The exported tables, in sheet order."""
    fields = {f.code: f.label for f in data.ws.catalogue.fields}
    return [
        Table("chi_tieu", "Chỉ tiêu toàn huyện",
              _labelled(data.indicators(years), verdict_2025=VERDICT_LABELS, verdict_2030=VERDICT_LABELS,
                        source=SOURCE_LABELS)),
        Table("chi_tieu_don_vi", "Dữ liệu pivot", _labelled(data.unit_indicators(years), unit_type=TYPE_LABELS)),
        Table("so_lieu", "Số liệu đơn vị", _labelled(data.values(years), unit_type=TYPE_LABELS, field=fields)),
        Table("tep_nhan", "Tệp đã nhận", _labelled(data.submissions(years), status=STATUS_LABELS)),
        Table("van_de", "Lỗi và cảnh báo", _labelled(data.problems(years), severity=SEVERITY_LABELS)),
    ]


def _labelled(frame: pd.DataFrame, **labels: dict) -> pd.DataFrame:
    """A column COL_label with what the officer reads after each code column COL."""
    for col, names in labels.items():
        said = frame[col].astype("string").map(names).astype("string")
        frame.insert(frame.columns.get_loc(col) + 1, f"{col}_label", said)
    return frame


def default_path(data: WorkspaceData, years: list[int], fmt: str) -> Path:
    span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    name = f"xuat_du_lieu_{span}"
    return data.root / layout.OUTPUT / (f"{name}.xlsx" if fmt == "xlsx" else name)


def export(data: WorkspaceData, years: list[int] | None = None, fmt: str = "xlsx",
           out: Path | None = None) -> ExportResult:
    """Write the tables of `years` (every year with files when None): an .xlsx at `out`, or
    for fmt="csv" one file per table in the folder `out`."""
    if fmt not in FORMATS:
        raise TreemError(f"Định dạng «{fmt}» không hỗ trợ; chọn xlsx hoặc csv.")
    have = data.years()
    chosen = have if years is None else [y for y in years if y in have]
    if not chosen:
        asked = "" if years is None else f" các năm {years[0]}-{years[-1]}"
        raise TreemError(f"Chưa có số liệu{asked} trong thư mục làm việc; chạy treem collect và treem merge trước.")
    out = Path(out) if out else default_path(data, chosen, fmt)
    result = ExportResult(chosen, fmt)
    parts = tables(data, chosen)
    result.rows = {t.name: len(t.frame) for t in parts}
    result.sheets = {t.name: t.sheet for t in parts}
    if fmt == "xlsx":
        result.outputs = [write_workbook(parts, out, chosen)]
    else:
        result.outputs = [write_csv(t.frame, out / f"{t.name}.csv") for t in parts]
    return result


# ------------------------------------------------------------------------------ workbook


def write_workbook(parts: list[Table], path: Path, years: list[int]) -> Path:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    wb.set_properties({"title": f"Số liệu Chương trình hành động vì trẻ em {years[0]}-{years[-1]}"})
    fmt = {
        "head": wb.add_format({"bold": True, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "top", "border": 1}),
        "code": wb.add_format({"italic": True, "font_color": "#808080"}),
        "int": wb.add_format({"num_format": "0"}),
        "num": wb.add_format({"num_format": "#,##0.####"}),
        "time": wb.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
    }
    for t in parts:
        if t.name == "chi_tieu_don_vi":
            _pivot_sheet(wb, t, fmt)
        else:
            _table_sheet(wb, t, fmt)
    wb.close()
    return atomic_write(path, buf.getvalue())


def _table_sheet(wb, t: Table, fmt: dict) -> None:
    """Vietnamese titles in row 1, code names in hidden row 2, the data below; filters on
    the titles and the two header rows frozen."""
    sh = wb.add_worksheet(t.sheet)
    cols = list(t.frame.columns)
    for c, name in enumerate(cols):
        sh.write_string(0, c, TITLES.get(name, name), fmt["head"])
        sh.write_string(1, c, name, fmt["code"])
    sh.set_row(0, 45)  # titles wrap onto up to three lines
    sh.set_row(1, None, None, {"hidden": True})
    _write_rows(sh, t.frame, 2, fmt)
    last = max(len(t.frame) + 1, 1)
    sh.autofilter(0, 0, last, len(cols) - 1)
    sh.freeze_panes(2, 0)
    _widths(sh, t.frame)
    print_setup(sh, header_rows=2)


def _pivot_sheet(wb, t: Table, fmt: dict) -> None:
    """An Excel table (one header row) that a PivotTable or Power Query takes as it is."""
    sh = wb.add_worksheet(t.sheet)
    cols = list(t.frame.columns)
    _write_rows(sh, t.frame, 1, fmt)
    sh.add_table(0, 0, max(len(t.frame), 1), len(cols) - 1, {
        "name": "ChiTieuDonVi", "style": "Table Style Light 9",
        "columns": [{"header": TITLES.get(c, c)} for c in cols]})
    sh.freeze_panes(1, 0)
    _widths(sh, t.frame, title_lines=1)  # a table's header does not wrap; room for the filter button
    print_setup(sh, header_rows=1)


def print_setup(sheet, header_rows: int) -> None:
    """Landscape, one page wide, the header rows repeated on every page."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, header_rows - 1)


def _write_rows(sh, frame: pd.DataFrame, first: int, fmt: dict) -> None:
    kinds = {c: _kind(frame[c]) for c in frame.columns}
    for r, row in enumerate(frame.itertuples(index=False), start=first):
        for c, (name, v) in enumerate(zip(frame.columns, row)):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
                continue  # a blank stays blank, never 0
            kind = kinds[name]
            if kind == "time":
                sh.write_datetime(r, c, v.to_pydatetime(), fmt["time"])
            elif kind == "bool":
                sh.write_string(r, c, "Có" if v else "Không")
            elif kind == "int":
                sh.write_number(r, c, int(v), fmt["int"])
            elif kind == "num":
                sh.write_number(r, c, float(v), fmt["num"])
            else:
                sh.write_string(r, c, str(v))


def _kind(col: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(col):
        return "time"
    if pd.api.types.is_bool_dtype(col):
        return "bool"
    if pd.api.types.is_integer_dtype(col):
        return "int"
    if pd.api.types.is_float_dtype(col):
        return "num"
    return "text"


def _widths(sh, frame: pd.DataFrame, title_lines: int = 2) -> None:
    for c, name in enumerate(frame.columns):
        sample = frame[name].dropna().astype(str).head(200)
        title = len(TITLES.get(name, name)) // title_lines + (3 if title_lines == 1 else 0)
        longest = max([title, *(len(s) for s in sample)], default=8)
        sh.set_column(c, c, min(max(longest + 2, 8), 60))


# ---------------------------------------------------------------------------------- CSV


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM (Excel opens it as Unicode), code names as headers, blanks empty,
    times in ISO 8601, and text that a spreadsheet would run as a formula neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(frame.columns))
    kinds = {c: _kind(frame[c]) for c in frame.columns}
    for row in frame.itertuples(index=False):
        out = []
        for name, v in zip(frame.columns, row):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
                out.append("")
            elif kinds[name] == "time":
                out.append(v.isoformat())
            elif kinds[name] == "bool":
                out.append("true" if v else "false")
            elif kinds[name] == "int":
                out.append(str(int(v)))
            elif kinds[name] == "num":
                out.append(csv_safe(float(v)))
            else:
                out.append(csv_safe(str(v)))
        w.writerow(out)
    return atomic_write(path, buf.getvalue().encode("utf-8-sig"))

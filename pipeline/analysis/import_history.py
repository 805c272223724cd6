"""Figures of the years before the tool (a district that starts mid-programme): a workbook
that `write_template` makes, filled in by the officer, read back by `import_history`.

Each row is one unit's figures for one year, or the district's (unit «HUYEN»): district
figures are stored as what each lead office reports for the whole district, which is how
merge already uses an office's own figure when the communes' are missing. Every row goes
through the same validation as a returned form (numbers written the Vietnamese way, counts,
ranges, cross-field rules, large changes); a blank is «not reported», never an error, since
old records are often incomplete. Rows are stored as submissions marked imported
(identity_source «imported», path «TỆP (dòng N)»), each in the audit log; a unit that already
sent a form for that year keeps it. The years imported are then merged, so that CT13 and the
columns of earlier years (and the 2025 mid-term table) have their figures."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from pipeline.base.errors import TreemError
from pipeline.base.problems import ValidationIssue
from pipeline.forms.contract import FORM_ID, PROP_FORM, PROP_UNIT, PROP_YEAR, load_wording
from pipeline.collect.ingest import RawCell, Reading
from pipeline.store.db import Store, SubmissionRecord, now_iso
from pipeline.store.status import Status, store_submission
from pipeline.base.text import col_letters
from pipeline.collect.validate import Validator
from pipeline.config.workspace import WORKBOOK_WORDING

DATA_SHEET = "Số liệu"
DISTRICT = "HUYEN"  # the unit code of a row of district-wide figures
IMPORTED = "imported"  # identity_source of an imported row
_HEAD = ("nam", "ma_don_vi", "ten_don_vi")


class HistoryError(TreemError):
    """The history workbook cannot be used (not the template, no rows)."""


@dataclass
class ImportedRow:
    """One unit's figures of one year, stored from a row of the workbook, as they were judged."""

    year: int
    unit: str
    row: int  # the workbook's row
    status: Status
    issues: list[ValidationIssue] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"year": self.year, "unit": self.unit, "row": self.row, "status": self.status.value,
                "issues": [i.to_dict() for i in self.issues]}


@dataclass(frozen=True)
class SkippedRow:
    """A row of the workbook not stored, and why (in Vietnamese)."""

    row: int
    message: str

    def to_dict(self) -> dict:
        return {"row": self.row, "message": self.message}


@dataclass
class ImportResult:
    path: str
    rows: int = 0
    stored: list[ImportedRow] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": self.path, "rows": self.rows, "stored": [s.to_dict() for s in self.stored],
                "skipped": [k.to_dict() for k in self.skipped], "years": self.years, "merged": self.merged}


def _fields(ws):
    """The figures a history row can hold: numbers and yes/no answers of the data and budget
    sheets (narratives belong to the year's own report)."""
    return [f for f in ws.catalogue.fields if f.section in ("data", "budget") and f.type != "text"]


def _years_before_collecting(ws) -> list[int]:
    """The years before the first one collected through the forms (2021-2023 by default)."""
    cat = ws.catalogue
    collected: list[int] = []
    if ws.db_path.exists():
        with Store(ws.db_path) as store:
            collected = [y for y in range(cat.baseline_year, date.today().year + 1)
                         if any(s.identity_source != IMPORTED for s in store.submissions(y))]
    first = min(collected, default=cat.baseline_year + 3)
    return list(range(cat.baseline_year, max(first, cat.baseline_year + 1)))


def write_template(ws, out: Path, years: list[int] | None = None) -> Path:
    """The workbook to fill: one row per commune and year, and one district row per year, for
    the years before the first one collected (2021-2023 by default)."""
    if years is None:
        years = _years_before_collecting(ws)
    fields = _fields(ws)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "top"})
    code = wb.add_format({"border": 1, "font_color": "#808080", "font_size": 8})
    cell = wb.add_format({"border": 1})
    entry = wb.add_format({"border": 1, "bg_color": "#FFF2CC", "num_format": "#,##0.##"})
    guide = wb.add_worksheet("Hướng dẫn")
    guide.set_column(0, 0, 110)
    lines = [
        "SỐ LIỆU CÁC NĂM TRƯỚC (nhập bằng: treem import-history TỆP.xlsx)",
        "",
        "Mỗi dòng ở trang «Số liệu» là số liệu một năm của một xã (hoặc của toàn huyện: mã đơn vị HUYEN).",
        "Chỉ điền vào các ô nền vàng; số đếm ghi số nguyên (1.234 hay 1234 đều được), Có/Không ghi «Có» hoặc «Không».",
        "Ô để trống là «chưa có số liệu»; số 0 là một giá trị. Dòng nào để trống cả thì được bỏ qua.",
        "Có thể thêm dòng (chép một dòng rồi sửa năm, mã đơn vị); không sửa hai dòng đầu (tên và mã các cột).",
        "Số liệu toàn huyện (HUYEN) được dùng cho chỉ tiêu mà các xã không có số liệu, như số của phòng chủ trì.",
        "Số liệu được kiểm tra như biểu mẫu; đơn vị đã gửi biểu mẫu của năm đó thì giữ số liệu của biểu mẫu.",
        "Sau khi nhập, các năm đó được tổng hợp lại; báo cáo ghi rõ số liệu nhập từ lịch sử.",
    ]
    for n, text in enumerate(lines):
        guide.write_string(n, 0, text, head if n == 0 else None)
    sh = wb.add_worksheet(DATA_SHEET)
    labels = ["Năm", "Mã đơn vị", "Tên đơn vị"] + [f.label for f in fields]
    codes = list(_HEAD) + [f.code for f in fields]
    for c, (label, key) in enumerate(zip(labels, codes)):
        sh.write_string(0, c, label, head)
        sh.write_string(1, c, key, code)
        sh.set_column(c, c, 8 if c == 0 else 11 if c == 1 else 30 if c == 2 else 16)
    sh.set_row(0, 90)
    row = 2
    for y in years:
        units = [u for u in ws.roster.for_year(y) if u.is_commune]
        district = ws.settings.get("issuer_short") or "Toàn huyện"
        for u_code, name in [(u.code, u.name) for u in units] + [(DISTRICT, f"Toàn huyện ({district})")]:
            sh.write_number(row, 0, y, cell)
            sh.write_string(row, 1, u_code, cell)
            sh.write_string(row, 2, name, cell)
            for c in range(3, len(codes)):
                sh.write_blank(row, c, None, entry)
            row += 1
    sh.freeze_panes(2, 3)
    sh.autofilter(1, 0, max(row - 1, 2), len(codes) - 1)
    wb.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    return out


def _rows(path: Path, data: bytes) -> tuple[list[str], list[tuple[int, list]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 — any unreadable file gets one line
        raise HistoryError(f"Không mở được {path.name} như một bảng tính Excel (.xlsx); dùng tệp do «treem "
                           f"import-history --template» tạo ra.") from e
    if DATA_SHEET not in wb.sheetnames:
        raise HistoryError(f"Tệp {path.name} không có trang «{DATA_SHEET}»; dùng tệp do «treem import-history "
                           f"--template» tạo ra.")
    rows = list(wb[DATA_SHEET].iter_rows(values_only=True))
    wb.close()
    for n, r in enumerate(rows):
        if r and tuple(str(x or "").strip() for x in r[:3]) == _HEAD:
            codes = [str(x or "").strip() for x in r]
            return codes, [(n + m + 1, list(rr)) for m, rr in enumerate(rows[n + 1:], start=1)]
    raise HistoryError(f"Trang «{DATA_SHEET}» của {path.name} không còn dòng mã cột (nam, ma_don_vi, …); dùng tệp "
                       f"do «treem import-history --template» tạo ra.")


def import_history(ws, path: Path, merge_years: bool = True) -> ImportResult:
    """Validate and store every row of a filled history workbook, then merge the years it
    touched (oldest first). Importing the same file again changes nothing."""
    from pipeline.collect.run import archive_copy
    from pipeline.store.history import previous_values

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise HistoryError(f"Không đọc được {path}: {e.strerror or e}.") from e
    codes, rows = _rows(path, data)
    known_fields = {f.code: f for f in _fields(ws)}
    columns = {c: n for n, c in enumerate(codes) if c in known_fields}
    result = ImportResult(str(path))
    cat, roster, settings = ws.catalogue, ws.roster, ws.settings
    sheet_names = load_wording(ws.template(WORKBOOK_WORDING))["sheets"]
    file_sha = hashlib.sha256(data).hexdigest()
    validators: dict[int, Validator] = {}
    with ws.lock("treem import-history"), Store(ws.db_path) as store:
        archived = archive_copy(ws.archive, path, file_sha, data)
        for excel_row, values in rows:
            values = list(values) + [None] * (len(codes) - len(values))
            raw = {code: values[col] for code, col in columns.items() if values[col] not in (None, "")}
            if not raw:
                continue  # a pre-filled row left empty
            result.rows += 1
            found = _row_units(ws, excel_row, values, result)
            if found is None:
                continue
            year, units = found
            if year not in validators:
                validators[year] = Validator(cat, roster, settings, year, sheet_names,
                                             previous_values(store, cat, roster, year))
            for unit in units:
                _store_row(store, validators[year], result, path, archived.relative_to(ws.root), file_sha,
                           excel_row, year, unit, raw, columns, len(data))
        result.years = sorted({s.year for s in result.stored})
    if merge_years:
        from pipeline.merge.merger import merge

        for y in result.years:
            merge(ws, y)
            result.merged.append(y)
    return result


def _row_units(ws, excel_row: int, values: list, result: ImportResult) -> tuple[int, list] | None:
    """The year of a row and the units it stands for (every lead office's unit for the
    district's row); None, with the reason in `result.skipped`, when either is wrong."""
    cat, roster = ws.catalogue, ws.roster
    where = f"Dòng {excel_row}"
    try:
        year = int(float(str(values[0]).strip()))
    except ValueError:
        result.skipped.append(SkippedRow(excel_row, f"{where}: năm «{values[0]}» không phải một năm."))
        return None
    if not cat.baseline_year <= year < date.today().year + 1:
        result.skipped.append(SkippedRow(excel_row, f"{where}: năm {year} ngoài giai đoạn của Chương trình."))
        return None
    unit_code = str(values[1] or "").strip()
    if unit_code.upper() == DISTRICT:
        return year, [u for u in roster.for_year(year) if cat.led_by(u.code)]
    unit = roster.get(unit_code, ws.settings.deadline(year))
    if unit is None:
        result.skipped.append(SkippedRow(excel_row, f"{where}: không có đơn vị mã «{unit_code}» trong danh sách "
                                                    f"đơn vị năm {year}."))
        return None
    return year, [unit]


def _store_row(store, validator, result, path, archived, file_sha, excel_row, year, unit, raw, columns, size):
    fields = {f.code for f in validator.cat.fields_for(unit.type, unit.code)}
    mine = {k: v for k, v in raw.items() if k in fields}
    if not mine:
        return
    current = [s for s in store.submissions(year) if s.unit == unit.code and s.status != Status.SUPERSEDED]
    if any(s.identity_source != IMPORTED for s in current):
        result.skipped.append(SkippedRow(excel_row, f"Dòng {excel_row}: {unit.name} đã gửi biểu mẫu năm {year}; "
                                                    f"giữ số liệu của biểu mẫu, không nhập dòng này."))
        return
    reading = Reading(path=path.name, size=size, kind="xlsx", props={PROP_UNIT: unit.code, PROP_YEAR: str(year),
                                                                      PROP_FORM: FORM_ID},
                      sheets=list(validator.sheet_names.values()))
    for f in validator.cat.fields_for(unit.type, unit.code):
        if f.type == "text":
            continue
        ref = f"{col_letters(columns[f.code])}{excel_row}" if f.code in columns else ""
        reading.cells[f.code] = RawCell(DATA_SHEET, ref, mine.get(f.code))
    checked = validator.check(reading)
    # Old records are often incomplete: a blank is "not reported" here, never an error.
    checked.issues = [i for i in checked.issues if i.code not in ("required-missing", "blank-form", "missing-name")]
    key = hashlib.sha256(f"{file_sha}:{year}:{unit.code}:{sorted(mine.items())}".encode()).hexdigest()
    if key in store.known_hashes(year):
        return
    status = checked.status
    rec = SubmissionRecord(year=year, sha256=key, path=f"{path.name} (dòng {excel_row})", size=size,
                           received_at=datetime.now().isoformat(timespec="seconds"), status=status,
                           unit=unit.code, identity_source=IMPORTED, archived=str(archived), collected_at=now_iso())
    store_submission(store, rec, checked.values, checked.issues)
    store.log("history-imported", year, unit.code, file=path.name, row=excel_row, status=status.value)
    result.stored.append(ImportedRow(year, unit.code, excel_row, status, checked.issues))

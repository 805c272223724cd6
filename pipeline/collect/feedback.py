"""What goes back after collecting: the validation report for the officer, and for each unit
with problems a copy of its own workbook with the problem cells marked and explained.

Text from units is always written as text (never a formula or a link), and macros, external
links, hyperlinks and formulas other than the template's own are never copied into a feedback
file."""

from __future__ import annotations

import io
import os
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import xlsxwriter

from pipeline.forms.contract import NOTE_PREFIX
from pipeline.base.library_internals import worksheet_cells
from pipeline.base.outputs import remove_output, write_output
from pipeline.base.printing import set_print, wrapped_height
from pipeline.base.problems import ERROR, WARNING, SkippedFile, ValidationIssue
from pipeline.base.problems import title as problem_title
from pipeline.collect.result import CollectOutputs, FeedbackCopy
from pipeline.store.db import SubmissionRecord
from pipeline.store.status import Status
from pipeline.store.submissions import UnitRow, row_counts, unit_rows
from pipeline.base.text import XML_ILLEGAL
from pipeline.base.workers import exit_with_parent, mp_context

_FILL_COLOURS = {ERROR: "FF9999", WARNING: "FFD966"}
FEEDBACK_SHEET = "Lỗi cần sửa"
# A very hidden sheet in every feedback copy: which cells the tool coloured, and their fill
# before, so that a copy the unit sends back corrected is cleaned of our marks exactly.
MARKS_SHEET = "_treem_phan_hoi"
_FEEDBACK_TITLE = re.compile(rf"^{FEEDBACK_SHEET}\s*(\(\d+\)|\d+)?$")
_FEEDBACK_HEADING = "PHẢN HỒI KIỂM TRA SỐ LIỆU BÁO CÁO NĂM"
_COMMENT_AUTHOR = "treem"
_INPUT_FILL = "FFF2CC"  # the template's input cells, for copies made before the marks were recorded
# The functions of the template's own formulas (rates, self-checks, totals). In the copy that
# goes back to a unit, a formula calling anything else (HYPERLINK, a DDE "cmd|..." call,
# WEBSERVICE...) is replaced by the value it showed.
TEMPLATE_FUNCTIONS = frozenset({"ABS", "AND", "IF", "INT", "ISBLANK", "ISERROR", "ISNUMBER", "N", "NOT", "OR",
                                "_XLFN.NUMBERVALUE", "NUMBERVALUE"})
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
_STRING_LITERAL = re.compile(r'"[^"]*"')


def _text(cell, value) -> None:
    """Write a string that stays a string even when it begins with "=" (openpyxl would
    otherwise store it as a formula)."""
    if isinstance(value, str):
        value = XML_ILLEGAL.sub(" ", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def template_formula(formula: str) -> bool:
    """Whether a formula is one the template could have written: it calls the template's
    functions and no others (each of ours calls at least one; "=1+1" is the unit's), with no
    DDE ("|"), reference to another workbook ("[") or array constant."""
    body = _STRING_LITERAL.sub('""', formula)  # a literal may say anything
    if any(ch in body for ch in "|[{"):
        return False
    called = {name.upper() for name in _FUNCTION.findall(body)}
    return bool(called) and called <= TEMPLATE_FUNCTIONS


def _disarm(wb, source: Path) -> None:
    """The unit's workbook goes back out from the district, so nothing in it may act when
    opened: no hyperlinks, and no formula but the template's own. A formula the unit put in
    an input cell, or one calling other functions, becomes the value it showed."""
    inputs = set()
    for dn in wb.defined_names.values():
        try:
            inputs |= {(sheet, ref.replace("$", "")) for sheet, ref in dn.destinations}
        except Exception:  # noqa: BLE001 — a name that is not a plain reference
            continue
    replace = []
    for sheet in wb.worksheets:
        for cell in worksheet_cells(sheet):
            if cell.hyperlink is not None:
                cell.hyperlink = None
            if cell.data_type != "f":
                continue
            formula = cell.value if isinstance(cell.value, str) else ""
            if (sheet.title, cell.coordinate) in inputs or not template_formula(formula):
                replace.append(cell)
    if not replace:
        return
    import openpyxl

    shown = openpyxl.load_workbook(source, data_only=True, keep_links=False, rich_text=False)
    for cell in replace:
        value = shown[cell.parent.title][cell.coordinate].value
        if isinstance(value, str):
            _text(cell, value)
        else:
            cell.value = value


def write_outputs(ws, year: int, result, subs: list[SubmissionRecord], issues: dict[int, list[ValidationIssue]],
                  feedback: bool = True, force: bool = False) -> CollectOutputs:
    """The validation report and the feedback copies, from the year's submissions and problems,
    through the output guard (an edited file is kept; the guard's lines are the `messages`)."""
    from pipeline.base.outputs import session

    files = ws.layout(year)
    rows = unit_rows(ws, year, subs, issues)
    with session(ws, year, force) as guard:
        outputs = CollectOutputs(write_validation_report(ws, year, rows, subs, issues, result.skipped,
                                                         files.validation_report))
        if feedback:
            outputs.feedback = write_feedback_files(ws, year, rows, issues)
    outputs.messages = guard.messages
    return outputs


def write_validation_report(ws, year: int, rows: list[UnitRow], subs: list[SubmissionRecord],
                            issues: dict[int, list[ValidationIssue]], skipped: list[SkippedFile], path: Path) -> Path:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    table = _table_writer(wb)  # its formats first, as they always were
    title = wb.add_format({"bold": True, "font_size": 13})
    colors = {Status.ACCEPTED: "#C6EFCE", Status.ACCEPTED_WITH_WARNINGS: "#FFEB9C", Status.REJECTED: "#FFC7CE",
              Status.MISSING: "#D9D9D9", Status.SUPERSEDED: "#EDEDED", Status.ACCEPTED_BY_OFFICER: "#FCE4D6"}
    status_fmt = {k: wb.add_format({"border": 1, "bg_color": v, "text_wrap": True}) for k, v in colors.items()}
    deadline = ws.settings.deadline(year)

    sh = wb.add_worksheet("Tổng hợp")
    c = row_counts(rows)
    by_officer = c.by_status[Status.ACCEPTED_BY_OFFICER]
    sh.write_string(0, 0, f"KẾT QUẢ KIỂM TRA SỐ LIỆU BÁO CÁO NĂM {year} (hạn nộp {deadline:%d/%m/%Y})", title)
    sh.write_string(1, 0, f"Lập lúc {datetime.now():%H:%M ngày %d/%m/%Y}. Phải nộp: {c.expected}; đã gửi: {c.received}; "
                          f"hợp lệ: {c.valid}"
                          + (f" (trong đó {by_officer} có lỗi nhưng đã chấp nhận theo quyết định)" if by_officer else "")
                          + f"; có lỗi: {c.rejected}; gửi muộn: {c.late}; chưa gửi: {c.missing}.")
    table(sh, 3, ["TT", "Mã", "Đơn vị", "Loại", "Tình trạng", "Lỗi", "Cảnh báo", "Số bản đã gửi", "Tệp đang dùng",
                  "Ngày nhận", "Đúng hạn", "Người liên hệ", "Điện thoại"],
          [5, 10, 30, 16, 22, 7, 9, 9, 40, 18, 9, 22, 14],
          [[n, r.unit, r.name, r.type, r.status.label, r.errors, r.warnings, r.versions, r.path,
            _moment(r.received_at), _yes_no(r.on_time), r.contact.person, r.contact.phone]
           for n, r in enumerate(rows, start=1)])
    for n, r in enumerate(rows, start=4):  # the status column in its colour
        sh.write_string(n, 4, r.status.label, status_fmt[r.status])

    detail = _problem_rows(ws, rows, subs, issues)
    sh2 = wb.add_worksheet("Chi tiết lỗi")
    # The English problem and field codes stay in the last two columns, hidden, for scripts.
    table(sh2, 0, ["Mã ĐV", "Đơn vị", "Tệp", "Trang tính", "Ô", "Chỉ tiêu", "Vấn đề", "Mức độ", "Nội dung",
                   "Mã lỗi", "Mã số liệu"],
          [8, 20, 24, 10, 6, 11, 20, 9, 70, 20, 22], detail, hidden=(9, 10))

    _decisions_sheet(wb, table, ws, year)
    sh3 = wb.add_worksheet("Tệp đã nhận")
    files = [[s.path, "; ".join(p for p in s.paths if p != s.path), s.unit or "", s.status.label,
              _moment(s.received_at), _moment(s.saved_at), s.sha256[:16], s.archived or ""] for s in subs]
    files += [[k.path, "", "", "Không đọc: " + problem_title(k.code).lower(), "", "", "", k.message]
              for k in skipped]
    table(sh3, 0, ["Tệp", "Cùng nội dung với", "Mã ĐV", "Tình trạng", "Ngày nhận", "Lưu lúc", "Mã băm SHA-256",
                   "Bản lưu"], [40, 30, 9, 24, 18, 18, 18, 50], files)
    wb.close()
    return write_output(ws, year, path, buf.getvalue()).path


def _table_writer(wb):
    """The function that writes one table of the validation report in its formats: a header row,
    then one row per item. Columns in `hidden` keep what scripts read (the English codes) out
    of sight and off paper."""
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "vcenter"})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    when = wb.add_format({"border": 1, "valign": "top", "num_format": "dd/mm/yyyy hh:mm", "align": "left"})

    def table(sheet, r0, headers, widths, data, hidden=()):
        for c, (h, w) in enumerate(zip(headers, widths)):
            sheet.write_string(r0, c, h, head)
            sheet.set_column(c, c, w, None, {"hidden": c in hidden})
        sheet.set_row(r0, wrapped_height(zip(headers, widths)))
        for r, values in enumerate(data, start=r0 + 1):
            shown = [(v, w) for c, (v, w) in enumerate(zip(values, widths)) if c not in hidden]
            sheet.set_row(r, wrapped_height(shown))
            for c, v in enumerate(values):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    sheet.write_number(r, c, v, cell)
                elif isinstance(v, datetime):
                    sheet.write_datetime(r, c, v, when)
                else:
                    sheet.write_string(r, c, "" if v is None else str(v), cell)
        sheet.autofilter(r0, 0, r0 + max(len(data), 1), len(headers) - 1)
        sheet.freeze_panes(r0 + 1, 0)
        set_print(sheet, [w for c, w in enumerate(widths) if c not in hidden], (r0, r0))

    return table


def _problem_rows(ws, rows: list[UnitRow], subs: list[SubmissionRecord],
                  issues: dict[int, list[ValidationIssue]]) -> list[list]:
    """One row per problem of each current file, for the «Chi tiết lỗi» sheet."""
    names = {r.unit: r.name for r in rows}
    detail = []
    for s in subs:
        if s.status == Status.SUPERSEDED:
            continue
        for i in issues.get(s.id, []):
            detail.append([s.unit or "", names.get(s.unit, "(không xác định)"), s.path, i.sheet or "",
                           i.cell or "", _indicator_label(ws.catalogue, i.field), problem_title(i.code),
                           i.severity.label, i.message, i.code, i.field or ""])
    return detail


def _decisions_sheet(wb, table, ws, year: int) -> None:
    """Every officer decision of the year (accepting despite errors, received dates), with
    time and note: the validation workbook is where the officer's choices are seen."""
    from pipeline.store.decisions import decisions

    found = decisions(ws, year)
    if not found:
        return
    sh = wb.add_worksheet("Quyết định")
    table(sh, 0, ["Lúc", "Quyết định", "Mã ĐV", "Tệp", "Ngày nhận (sửa)", "Số liệu không tính", "Lý do", "Nội dung"],
          [18, 26, 9, 36, 14, 30, 40, 80],
          [[_moment(d.at), d.label, d.unit or "", d.file or "", _moment(d.received_at),
            ", ".join(d.left_out or []), d.note, d.message] for d in found])


def _indicator_label(catalogue, field: str | None) -> str:
    """Where a field belongs, as the plan names it: "Chỉ tiêu 12", "Số liệu chung" for the shared
    population figures; "" for a problem with the whole file."""
    if not field:
        return ""
    base = field.removeprefix(NOTE_PREFIX)  # the explanation cell beside a field
    if not catalogue.has_field(base):
        return ""
    f = catalogue.field(base)
    if f.chi_tieu is not None:
        return f"Chỉ tiêu {f.chi_tieu}"
    return {"budget": "Kinh phí", "narrative": "Báo cáo"}.get(f.section, "Số liệu chung")


def _moment(iso: str | None) -> datetime | str:
    """A stored time as a date the spreadsheet shows as 15/11/2024 09:00 (and can sort)."""
    try:
        return datetime.fromisoformat(iso) if iso else ""
    except ValueError:
        return iso


def _yes_no(v) -> str:
    return "" if v is None else ("Có" if v else "Không")


def write_feedback_files(ws, year: int, rows: list[UnitRow],
                         issues: dict[int, list[ValidationIssue]]) -> list[FeedbackCopy]:
    """One file per unit whose current submission has something to fix or check (see
    needs_copy); stale files from earlier runs (the unit has since sent a clean version) are
    removed. Many copies are made on all cores: each takes openpyxl a tenth of a second."""
    jobs = [(ws.root / r.submission.archived if r.submission.archived else None, issues[r.submission.id], r, year)
            for r in rows if r.submission is not None and needs_copy(issues.get(r.submission.id, []))]
    files = ws.layout(year)
    paths = [files.feedback_copy(r.unit, r.name) for _, _, r, _ in jobs]
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) >= 16 and workers > 1:
        with ProcessPoolExecutor(workers, mp_context=mp_context(), initializer=exit_with_parent) as pool:
            copies = list(pool.map(_feedback_copy, jobs, chunksize=4))
    else:
        copies = [_feedback_copy(job) for job in jobs]
    written = [FeedbackCopy(r.unit, write_output(ws, year, path, data).path, r.status)
               for path, data, (_, _, r, _) in zip(paths, copies, jobs)]
    keep = {c.path.name for c in written} | {p.name for p in paths}  # an edited copy kept beside its new one
    for old in files.feedback_copies():
        if old.name not in keep:
            remove_output(ws, year, old)
    return written


def needs_copy(issues: list[ValidationIssue]) -> bool:
    """A unit gets its file back marked when something in it must be fixed or checked: an
    error, or a warning about a field or a cell. Notices about the file as a whole (sent late,
    saved as .xls, an older template) are in the validation report; a copy would show nothing."""
    return any(i.severity is ERROR or i.field or i.cell for i in issues)


def _feedback_copy(job: tuple) -> bytes:
    source, issues, row, year = job
    try:
        return feedback_workbook(source, issues, row, year)
    except Exception:  # noqa: BLE001 — a copy that cannot be rebuilt still gets the list of problems
        return feedback_workbook(None, issues, row, year)


def feedback_workbook(source: Path | None, issues: list[ValidationIssue], row: UnitRow, year: int) -> bytes:
    """The unit's own file with a first sheet listing its problems and every problem cell
    coloured and commented. A file that cannot be opened gets the list alone."""
    import openpyxl  # here, not at the top: most runs make no copy, and it takes 0.1 s to load
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = _own_copy(source)
    own_file = wb is not None
    if wb is None:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
    sheet = wb.create_sheet(FEEDBACK_SHEET, 0)
    wb.active = 0
    for ws_ in wb.worksheets[1:]:
        ws_.sheet_view.tabSelected = False
    bold = Font(bold=True, name="Times New Roman", size=12)
    _text(sheet.cell(1, 1), f"{_FEEDBACK_HEADING} {year}: {row.name} (mã {row.unit})")
    sheet.cell(1, 1).font = Font(bold=True, name="Times New Roman", size=13)
    verdict = _verdict(issues, own_file, row.status is Status.ACCEPTED_BY_OFFICER)
    _text(sheet.cell(2, 1), verdict)
    # The last column keeps the English problem code for scripts, hidden and not printed.
    headers = ["TT", "Mức độ", "Vấn đề", "Trang tính", "Ô", "Nội dung cần sửa", "Mã lỗi"]
    widths = (5, 10, 20, 11, 6, 72, 18)
    for c, h in enumerate(headers, start=1):
        _text(sheet.cell(4, c), h)
        sheet.cell(4, c).font = bold
        sheet.cell(4, c).alignment = Alignment(wrap_text=True, vertical="top")
    for n, i in enumerate(sorted(issues, key=lambda i: i.severity is not ERROR), start=1):
        values = [n, i.severity.label, problem_title(i.code), i.sheet or "", i.cell or "", i.message, i.code]
        for c, v in enumerate(values, start=1):
            cell = sheet.cell(4 + n, c)
            _text(cell, v) if isinstance(v, str) else setattr(cell, "value", v)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(4 + n, 2).fill = PatternFill("solid", fgColor=_FILL_COLOURS.get(i.severity, "FFD966"))
        sheet.row_dimensions[4 + n].height = wrapped_height(zip(values[:-1], widths))
    for col, width in zip("ABCDEFG", widths):
        sheet.column_dimensions[col].width = width
    sheet.column_dimensions["G"].hidden = True
    sheet.cell(2, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=6)
    sheet.row_dimensions[2].height = wrapped_height([(verdict, sum(widths[:6]))])
    set_print(sheet, widths[:6], (3, 3))
    if own_file:
        _mark_cells(wb, issues)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _own_copy(source: Path | None):
    """The unit's own workbook, disarmed and cleaned of an earlier feedback, or None when it
    is not an .xlsx that openpyxl can open."""
    import openpyxl

    if source is None or source.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    try:
        # keep_vba=False drops macros; keep_links=False drops links to other files.
        wb = openpyxl.load_workbook(source, keep_vba=False, keep_links=False, rich_text=False)
    except Exception:  # noqa: BLE001 — an unreadable copy still gets the list of problems
        return None
    _disarm(wb, source)
    strip_feedback(wb)  # a feedback copy sent back corrected: our old sheet, colours and notes go
    return wb


def _verdict(issues: list[ValidationIssue], own_file: bool, accepted: bool = False) -> str:
    """The one line at the top of a feedback copy: what the unit has to do."""
    errors = sum(i.severity is ERROR for i in issues)
    if errors and accepted:
        return (f"Tệp có {errors} lỗi; báo cáo đã được chấp nhận theo quyết định của cán bộ tổng hợp, các số liệu "
                "có lỗi không được tính. Đề nghị sửa các ô có lỗi để lần sau số liệu được tính đủ.")
    if own_file:
        return (f"Tệp có {errors} lỗi: đề nghị sửa các ô tô đỏ ngay trong tệp này rồi gửi lại." if errors else
                "Số liệu đã được tiếp nhận; đề nghị xem các cảnh báo (ô tô vàng) và giải thích nếu cần.")
    if errors:
        return (f"Tệp có {errors} lỗi: đề nghị sửa theo danh sách dưới đây, điền vào biểu mẫu Excel (.xlsx) được "
                "gửi rồi gửi lại.")
    return ("Số liệu đã được tiếp nhận; đề nghị xem các cảnh báo dưới đây (tệp không ở dạng .xlsx của biểu "
            "mẫu nên không đánh dấu được từng ô).")


# The formula of the conditional format that keeps a mark above the form's own: the form has
# no always-true rule, so it tells ours apart when a copy comes back.
_MARK_FORMULA = "TRUE"


def _mark_cells(wb, issues: list[ValidationIssue]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    by_cell: dict[tuple[str, str], list[ValidationIssue]] = {}
    for i in issues:
        if i.sheet in wb.sheetnames and i.cell:
            by_cell.setdefault((i.sheet, i.cell), []).append(i)
    marks, coloured = [], {}
    for (sheet, ref), its in by_cell.items():
        try:
            cell = wb[sheet][ref]
        except (KeyError, ValueError):
            continue
        worst = ERROR if any(i.severity is ERROR for i in its) else WARNING
        before = cell.fill
        marks.append((sheet, ref, before.fill_type or "", _rgb(before.fgColor)))
        cell.fill = PatternFill("solid", fgColor=_FILL_COLOURS[worst])
        coloured.setdefault(sheet, []).append((ref, _FILL_COLOURS[worst]))
        text = "\n".join(f"{i.severity.label}: {i.message}" for i in its)
        cell.comment = Comment(XML_ILLEGAL.sub(" ", text[:2000]), _COMMENT_AUTHOR, width=320, height=140)
    for sheet, cells in coloured.items():
        _above_conditional_formats(wb[sheet], cells)
    if marks:
        record = wb.create_sheet(MARKS_SHEET)
        record.sheet_state = "veryHidden"
        for n, values in enumerate(marks, start=1):
            for c, v in enumerate(values, start=1):
                _text(record.cell(n, c), v)


def _above_conditional_formats(sheet, cells: list[tuple[str, str]]) -> None:
    """The form colours a cell orange by conditional format when its self-check speaks, and a
    conditional format paints over a cell's own fill: each mark (cell, colour) is put before
    the form's formats, first in priority (Excel) and first in the file (LibreOffice), as an
    always-true rule that stops the rest, so an error stays red."""
    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.formatting.rule import Rule
    from openpyxl.styles import PatternFill
    from openpyxl.styles.differential import DifferentialStyle

    form = [(str(cf.sqref), rule) for cf in sheet.conditional_formatting for rule in cf.rules]
    sheet.conditional_formatting = ConditionalFormattingList()
    for ref, colour in cells:
        fill = PatternFill("solid", fgColor=colour, bgColor=colour)
        sheet.conditional_formatting.add(ref, Rule(type="expression", formula=[_MARK_FORMULA],
                                                   dxf=DifferentialStyle(fill=fill), stopIfTrue=True))
    _add_in_order(sheet.conditional_formatting, form)


def _add_in_order(formats, rules: list[tuple[str, object]]) -> None:
    """Append (range, rule) pairs keeping their order of priority, numbered after what is there."""
    for sqref, rule in sorted(rules, key=lambda kv: kv[1].priority or 0):
        rule.priority = 0  # openpyxl numbers a rule only when it has none
        formats.add(sqref, rule)


def _without_our_conditional_formats(sheet) -> None:
    from openpyxl.formatting.formatting import ConditionalFormattingList

    kept = [(str(cf.sqref), rule) for cf in sheet.conditional_formatting for rule in cf.rules
            if rule.formula != [_MARK_FORMULA]]
    if len(kept) == sum(len(cf.rules) for cf in sheet.conditional_formatting):
        return
    sheet.conditional_formatting = ConditionalFormattingList()
    _add_in_order(sheet.conditional_formatting, kept)


def _rgb(color) -> str:
    rgb = getattr(color, "rgb", None)
    return rgb if isinstance(rgb, str) else ""


def is_feedback_sheet(sheet) -> bool:
    """A sheet the tool added to a feedback copy (Excel may have renamed it «Lỗi cần sửa1»)."""
    if sheet.title == MARKS_SHEET or _FEEDBACK_TITLE.match(sheet.title):
        return True
    first = sheet.cell(1, 1).value
    return isinstance(first, str) and first.startswith(_FEEDBACK_HEADING)


def strip_feedback(wb) -> None:
    """Remove what earlier feedback added to a workbook: its sheets, and on every cell it
    marked, its comment and its colour (restored from the record of marks; without one, a
    cell still in our error or warning colour gets the template's input colour back)."""
    from openpyxl.styles import PatternFill

    restored: dict[tuple[str, str], tuple[str, str]] = {}
    if MARKS_SHEET in wb.sheetnames:
        for row in wb[MARKS_SHEET].iter_rows(values_only=True):
            if row and len(row) >= 4 and row[0] and row[1]:
                restored[(str(row[0]), str(row[1]))] = (row[2] or "", row[3] or "")
    for sheet in [s for s in wb.worksheets if is_feedback_sheet(s)]:
        wb.remove(sheet)
    for sheet in wb.worksheets:
        _without_our_conditional_formats(sheet)
        for row in sheet.iter_rows():
            for cell in row:
                comment = cell.comment
                if comment is None or (comment.author or "").strip() != _COMMENT_AUTHOR:
                    continue
                cell.comment = None
                key = (sheet.title, cell.coordinate)
                if key in restored:
                    kind, rgb = restored[key]
                    cell.fill = PatternFill(kind, fgColor=rgb) if kind else PatternFill(fill_type=None)
                elif _rgb(cell.fill.fgColor)[-6:].upper() in _FILL_COLOURS.values():
                    cell.fill = PatternFill("solid", fgColor=_INPUT_FILL)
    if wb.worksheets and wb.active is None:
        wb.active = 0

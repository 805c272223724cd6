"""Stage 1: one protected, self-checking workbook per unit, written with XlsxWriter.

Every input cell has a workbook-level defined name equal to its field code, so that the
ingest stage finds values wherever rows were moved; the unit's identity is stored twice
(custom document properties and a very hidden sheet) so that it survives a re-save.

`TemplateWriter` builds each distinct form shape once; `stamp.Stamper` writes every unit's
copy from its shape (10,000 forms in seconds), and hands the writer what it cannot stamp."""

from __future__ import annotations

import functools
import hashlib
import io
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import jinja2
import xlsxwriter

from pipeline.config.catalogue import Catalogue, Field, Indicator, Rule, indicator_number, target_text
from pipeline.forms.stamp import Stamper
from pipeline.forms.contract import (FORM_ID, LAYOUT, META_SHEET, PROP_FORM, PROP_HASH, PROP_UNIT, PROP_UNIT_NAME,
                           PROP_VERSION, PROP_YEAR, load_wording, note_name)
from pipeline.base.fsutil import atomic_write
from pipeline.base.library_internals import skip_formula_rewriting
from pipeline.base.outputs import ANY, write_output
from pipeline.base.printing import set_print, wrapped_height
from pipeline.config.layout import form_name
from pipeline.config.roster import Unit
from pipeline.config.settings import Settings
from pipeline.base.workers import mp_context
from pipeline.config.workspace import WORKBOOK_WORDING
from pipeline.base.text import vn_number

HEADER_ROW = 3
# About how many characters of a label fit on one line of the label column (55 wide, Times 11).
LABEL_CHARS_PER_LINE = 72
# Below this many forms one process stamps them sooner than worker processes start.
PARALLEL_THRESHOLD = 2000


def _q(text: str) -> str:
    """A string literal inside an Excel formula."""
    return '"' + text.replace('"', '""') + '"'


@dataclass(frozen=True)
class FormFile:
    """One unit's form as written (beside an edited one, if the officer had changed it)."""

    unit: str  # the unit's code
    name: str  # the unit's name
    path: Path

    def to_dict(self) -> dict:
        return {"unit": self.unit, "name": self.name, "path": str(self.path)}


@dataclass
class GenerateResult:
    """What `generate` wrote: a `FormFile` per unit and the distribution list."""

    year: int
    files: list[FormFile] = field(default_factory=list)
    distribution_list: Path | None = None
    messages: list[str] = field(default_factory=list)  # the output guard's lines (an edited form kept)
    warnings: list[str] = field(default_factory=list)  # settings that no longer fit the year

    def to_dict(self) -> dict:
        return {
            "year": self.year, "messages": self.messages, "warnings": self.warnings,
            "files": [f.to_dict() for f in self.files],
            "distribution_list": str(self.distribution_list) if self.distribution_list else None,
            "count": len(self.files),
        }


class TemplateWriter:
    """Writes the workbook of one unit; holds what is the same for every unit of a year."""

    def __init__(self, catalogue: Catalogue, settings: Settings, wording: dict, year: int):
        self.cat, self.settings, self.w, self.year = catalogue, settings, wording, year
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
        compiled = functools.lru_cache(maxsize=None)(env.from_string)
        self._render = lambda text, **ctx: compiled(str(text)).render(**self._ctx, **ctx)
        deadline = settings.deadline(year)
        contact = settings.get("contact") or {}
        self._ctx = {
            "year": year, "programme": catalogue.programme, "deadline": deadline.strftime("%d/%m/%Y"),
            "coordinator": settings["coordinator"], "issuer_short": settings["issuer_short"],
            "contact_person": contact.get("person", ""), "contact_phone": contact.get("phone", ""),
            "contact_email": contact.get("email", ""), "version": catalogue.version,
            "catalogue_hash": catalogue.hash, "password": settings.get("template_password") or "",
        }
        self.jump = settings.check("yoy_change_percent")
        self.by_numerator: dict[str, Indicator] = {i.numerator: i for i in catalogue.indicators}
        self._formula_cache: dict[tuple, str] = {}

    # --- public ---
    def render(self, unit: Unit, previous: dict[str, float] | None = None, shown: Unit | None = None) -> bytes:
        """The workbook of `unit`. `shown`, when given, is the unit whose name and code the
        form shows instead (the stamp builds a form shape with placeholders for them)."""
        self._names: list[tuple[str, str, int, int]] = []
        self._note_cells: list[tuple[int, int]] = []
        self._prev_cells: list[tuple[str, int, int, Field]] = []
        self._shown = shown or unit
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {
            "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False,
        })
        self._properties(wb, self._shown)
        fmt = self._fmt = self._formats(wb)
        fields = self.cat.fields_for(unit.type, unit.code)
        sheets = self.w["sheets"]
        self._instructions(wb, fmt, self._shown)
        by_section = {s: [f for f in fields if f.section == s] for s in ("data", "budget", "narrative")}
        codes = {f.code for f in fields}
        rules = self.cat.rules_for(codes)
        prev = previous or {}
        if by_section["data"]:
            self._data_sheet(wb, fmt, unit, sheets["data"], by_section["data"], rules, prev)
        if by_section["budget"]:
            self._budget_sheet(wb, fmt, unit, sheets["budget"], by_section["budget"], rules, prev)
        if by_section["narrative"]:
            self._narrative_sheet(wb, fmt, unit, sheets["narrative"], by_section["narrative"])
        self._meta_sheet(wb, self._shown)
        wb.close()
        return buf.getvalue()

    def shape_key(self, unit: Unit) -> tuple:
        """Everything of a unit, besides its name and code, that `render` reads: units with
        the same key get the same workbook but for their name, code and last year's values."""
        fields = self.cat.fields_for(unit.type, unit.code)
        led = sorted({i.chi_tieu for i in self.cat.led_by(unit.code)})
        return unit.type, unit.target_area, tuple(f.code for f in fields), tuple(led)

    def render_shape(self, unit: Unit, shown: Unit) -> tuple[bytes, list[tuple[str, int, int, Field]], dict]:
        """The form of `unit` without last year's values, showing `shown`'s name and code;
        where last year's values go ((sheet, row, column, field), 0-based), and the style
        indices of a number and of a text there."""
        data = self.render(unit, {}, shown)
        styles = {"number": self._fmt["number"].xf_index, "text": self._fmt["center"].xf_index}
        return data, list(self._prev_cells), styles

    # --- parts ---
    def _properties(self, wb, unit: Unit) -> None:
        # A fixed creation time keeps the output byte-identical for the same inputs.
        wb.set_properties({
            "title": self._render(self.w["title"]), "subject": f"{unit.name} - {self.year}",
            "author": self.settings["issuer"], "company": self.settings["issuer"],
            "comments": f"{FORM_ID} {self.cat.version}", "created": datetime(self.year, 10, 1),
        })
        for key, value in (
            (PROP_FORM, FORM_ID), (PROP_UNIT, unit.code), (PROP_UNIT_NAME, unit.name),
            (PROP_YEAR, self.year), (PROP_VERSION, self.cat.version), (PROP_HASH, self.cat.hash),
        ):
            wb.set_custom_property(key, value)

    @staticmethod
    def _formats(wb) -> dict:
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "top"}
        border = {**base, "border": 1, "text_wrap": True}

        def f(**kw):
            return wb.add_format({**border, **kw})

        return {
            "title": wb.add_format({**base, "bold": True, "font_size": 14, "align": "center", "text_wrap": True}),
            "subtitle": wb.add_format({**base, "italic": True, "align": "center", "text_wrap": True}),
            "text": wb.add_format({**base, "text_wrap": True}),
            "heading": wb.add_format({**base, "bold": True, "font_color": "#1F4E79"}),
            "header": f(bold=True, align="center", valign="vcenter", bg_color="#D9E1F2"),
            "group": f(bold=True, bg_color="#EDEDED", text_wrap=False),
            "subgroup": f(bold=True, italic=True),
            "cell": f(),
            "code": f(font_color="#7F7F7F", font_size=9),
            "center": f(align="center"),
            # "#,##0.##" would show a whole 30 as "30," in Vietnamese Excel: whole numbers
            # and decimals each get their own format.
            "number": f(num_format="#,##0", align="right"),
            "rate": f(num_format="0.0#", align="right", bg_color="#F2F2F2"),
            "check": f(font_color="#C00000", font_size=10),
            "input": f(locked=False, bg_color="#FFF2CC", num_format="#,##0", align="right"),
            "input_decimal": f(locked=False, bg_color="#FFF2CC", num_format="#,##0.0#", align="right"),
            "input_text": f(locked=False, bg_color="#FFF2CC"),
            "note": f(locked=False, bg_color="#FFFBEB", font_size=10),
            "warn": wb.add_format({"bg_color": "#F8CBAD"}),
            "total": f(bold=True, num_format="#,##0.0#", align="right"),
            # Targets stay numbers; the format says which way they point.
            "target_at_least": f(num_format='"Tối thiểu "General', align="right"),
            "target_at_most": f(num_format='"Tối đa "General', align="right"),
            "target_below": f(num_format='"Dưới "General', align="right"),
            "target_fall": f(num_format='"Tăng tối đa "General"%";"Giảm ít nhất "General"%"', align="right"),
        }

    @staticmethod
    def _plain_formulas(ws) -> None:
        """Our formulas use only Excel 2007 functions: skip XlsxWriter's rewriting of them."""
        skip_formula_rewriting(ws)

    def _protect(self, ws) -> None:
        ws.protect(self.settings.get("template_password") or "", {
            "format_columns": True, "format_rows": True,
            "select_locked_cells": True, "select_unlocked_cells": True,
        })

    def _instructions(self, wb, fmt, unit: Unit) -> None:
        ws = wb.add_worksheet(self.w["sheets"]["instructions"])
        ws.hide_gridlines(2)
        set_print(ws, [3, 110], landscape=False)
        ws.set_column(0, 0, 3)
        ws.set_column(1, 1, 110, fmt["text"])
        ctx = {"unit_name": unit.name, "unit_code": unit.code}
        ws.set_row(0, 36)
        ws.write_string(0, 1, self._render(self.w["title"]), fmt["title"])
        ws.write_string(1, 1, self._render(self.w["subtitle"]), fmt["subtitle"])
        row = 3
        for block in self.w["instructions"]:
            ws.write_string(row, 1, self._render(block["heading"], **ctx), fmt["heading"])
            row += 1
            for line in block["lines"]:
                ws.write_string(row, 1, "• " + self._render(line, **ctx), fmt["text"])
                row += 1
            row += 1
        ws.write_string(row, 1, self._render(self.w["footer"]), fmt["subtitle"])
        ws.activate()
        self._protect(ws)

    def _sheet_head(self, ws, fmt, unit: Unit, headers: list, last_col: int) -> None:
        ws.merge_range(0, 0, 0, last_col, self._render(self.w["title"]), fmt["title"])
        ws.merge_range(1, 0, 1, last_col, f"Đơn vị: {unit.name} (mã {unit.code}) - Năm báo cáo: {self.year}",
                       fmt["subtitle"])
        ws.set_row(0, 34)
        ws.set_row(HEADER_ROW, 32)
        for col, h in enumerate(headers):
            ws.write_string(HEADER_ROW, col, self._render(h), fmt["header"])
        ws.freeze_panes(HEADER_ROW + 1, 3)
        # Units print the form to sign it: A4 landscape, one page wide, headers on every page.
        set_print(ws, [], (HEADER_ROW, HEADER_ROW), landscape=True)

    def _input(self, ws, fmt, row: int, col: int, f: Field) -> None:
        """The unlocked, validated, named input cell of a field."""
        kind = {"text": "input_text", "yes_no": "input_text", "decimal": "input_decimal"}.get(f.type, "input")
        ws.write_blank(row, col, None, fmt[kind])
        ws.data_validation(row, col, row, col, _validation(f))
        self._names.append((f.code, ws.get_name(), row, col))

    def _check_formula(self, f: Field, cell: str, prev_cell: str | None, rules: list[Rule]) -> str:
        """Messages for what is wrong with the row, or "" when all is well. Excel's AND does
        not short-circuit, so every test sits inside an IF that first guards its operands.
        Units of one type share their layout, so each formula is built once."""
        key = (f.code, cell, prev_cell, tuple(r.code for r in rules if r.fields[0] == f.code))
        if key not in self._formula_cache:
            self._formula_cache[key] = self._build_check_formula(f, cell, prev_cell, rules)
        return self._formula_cache[key]

    def _build_check_formula(self, f: Field, cell: str, prev_cell: str | None, rules: list[Rule]) -> str:
        c = self.w["checks"]
        num = f"ISNUMBER({cell})"
        parts = []
        if f.required:
            parts.append(_when(f"ISBLANK({cell})", None, c["required"] + "; "))
        if f.is_number:
            # Read as collect reads it: a number typed as text the Vietnamese way ("2.345",
            # "2,5", "1.234,5") is a number, whatever the locale of the Excel that shows it.
            value = f'IF({num},{cell},_xlfn.NUMBERVALUE({cell},",","."))'
            parts.append(_when(f"NOT(ISBLANK({cell}))", f"AND(NOT({num}),ISERROR({value}))", c["not_number"] + "; "))
            if f.type == "integer":
                parts.append(_when(f"AND(NOT(ISBLANK({cell})),NOT(ISERROR({value})))",
                                   f"{value}<>INT({value})", c["not_integer"] + "; "))
            if f.min is not None and f.max is not None:
                msg = f"Ngoài khoảng {vn_number(f.min)} - {vn_number(f.max)}; "
                parts.append(_when(num, f"OR({cell}<{f.min},{cell}>{f.max})", msg))
            if prev_cell:
                jump = self._render(c["jump"], jump=vn_number(self.jump))
                parts.append(_when(f"AND({num},ISNUMBER({prev_cell}),N({prev_cell})>0)",
                                   f"ABS({cell}-{prev_cell})/{prev_cell}>{self.jump / 100}", jump + "; "))
        for r in rules:
            # Each rule is shown once, on the row of the first field it names.
            if r.fields[0] == f.code:
                parts.append(_when(r.excel_guard(), r.excel_breach(), r.message + " "))
        return "=" + ("&".join(parts) if parts else '""')

    def _data_sheet(self, wb, fmt, unit, name, fields, rules, prev) -> None:
        ws = wb.add_worksheet(name)
        self._plain_formulas(ws)
        lay = LAYOUT["data"]
        for col, width in enumerate((5, 8, 54, 10, 11, 13, 10, 14, 14, 34, 26)):
            ws.set_column(col, col, width)
        ws.set_column(lay["code"], lay["code"], 24, None, {"hidden": True})
        self._sheet_head(ws, fmt, self._shown, self.w["headers"]["data"], 10)
        row = HEADER_ROW + 1
        first = row
        n = 0
        for title, subtitle, group in self._groups(fields):
            # Headers are not merged cells: the goal title runs across the empty cells beside
            # it, the indicator names wrap in the wide "Nội dung" column. (Merged cells make
            # every later openpyxl load of the file, e.g. for feedback, several times slower.)
            if title:
                ws.write_string(row, 0, title, fmt["group"])
                for col in range(1, 11):
                    ws.write_blank(row, col, None, fmt["group"])
                row += 1
            if subtitle:
                number, _, names = subtitle.partition(": ")
                _fit_lines(ws, row, subtitle)
                ws.write_string(row, 0, number.replace("Chỉ tiêu ", "CT"), fmt["subgroup"])
                ws.write_blank(row, 1, None, fmt["subgroup"])
                ws.write_string(row, 2, subtitle, fmt["subgroup"])
                for col in range(3, 11):
                    ws.write_blank(row, col, None, fmt["subgroup"])
                row += 1
            for f in group:
                n += 1
                self._data_row(ws, fmt, unit, row, n, f, rules, prev)
                row += 1
        # One validation for every explanation cell (they share it), not one each.
        (r0, c0), *others = self._note_cells
        ws.data_validation(r0, c0, r0, c0, {
            "validate": "length", "criteria": "<=", "value": 2000, "ignore_blank": True,
            "error_title": "Giải thích quá dài", "error_message": "Giải thích tối đa 2.000 ký tự.",
            "other_cells": [[r, c, r, c] for r, c in others]})
        col = xlsxwriter.utility.xl_col_to_name(lay["check"])
        inp = xlsxwriter.utility.xl_col_to_name(lay["input"])
        # Orange only for a value the self-check flags: a blank form stays yellow, as its
        # instructions say (a missing required value is named in the check column).
        ws.conditional_format(first, lay["input"], row - 1, lay["input"], {
            "type": "formula", "criteria": f"=AND(LEN(${col}{first + 1})>0,LEN(${inp}{first + 1})>0)",
            "format": fmt["warn"]})
        self._protect(ws)

    def _codes(self, ws, fmt, row: int, f: Field, lay: dict) -> None:
        """The «Mã» cell shows the indicator a row computes (CT2, CT11a) or nothing; the field
        code, which the readers check, goes into the hidden column."""
        ind = self.by_numerator.get(f.code)
        if ind is not None:
            ws.write_string(row, lay["number"], f"CT{indicator_number(ind.code)}", fmt["code"])
        else:
            ws.write_blank(row, lay["number"], None, fmt["code"])
        ws.write_string(row, lay["code"], f.code, fmt["code"])

    def _row_start(self, ws, fmt, row: int, n: int, f: Field, lay: dict, prev: dict) -> None:
        """Number, code, label, unit of measure, last year's value and the input cell."""
        ws.write_number(row, 0, n, fmt["center"])
        self._codes(ws, fmt, row, f, lay)
        ws.write_string(row, 2, f.label, fmt["cell"])
        _fit_lines(ws, row, f.label)
        ws.write_string(row, 3, f.unit, fmt["center"])
        p = prev.get(f.code)
        self._prev_cells.append((ws.get_name(), row, lay["prev"], f))
        if f.type == "yes_no" and p is not None:
            ws.write_string(row, lay["prev"], "Có" if p else "Không", fmt["center"])
        elif isinstance(p, (int, float)):
            ws.write_number(row, lay["prev"], p, fmt["number"])
        else:
            ws.write_blank(row, lay["prev"], None, fmt["number"])
        self._input(ws, fmt, row, lay["input"], f)

    def _data_row(self, ws, fmt, unit, row, n, f: Field, rules, prev) -> None:
        lay = LAYOUT["data"]
        cell = xlsxwriter.utility.xl_rowcol_to_cell(row, lay["input"])
        prev_cell = xlsxwriter.utility.xl_rowcol_to_cell(row, lay["prev"])
        self._row_start(ws, fmt, row, n, f, lay, prev)
        ind = self.by_numerator.get(f.code)
        rate, t25, t30 = "", None, None
        if ind is not None:
            rate = _rate_formula(ind, cell, prev_cell)
            t25, t30 = (_target_cell(ind, y, unit.target_area) for y in ("2025", "2030"))
        if rate:
            ws.write_formula(row, lay["rate"], rate, fmt["rate"], "")
        else:
            ws.write_blank(row, lay["rate"], None, fmt["rate"])
        for col, ty, t in ((lay["t2025"], "2025", t25), (lay["t2030"], "2030", t30)):
            if isinstance(t, (int, float)):
                ws.write_number(row, col, t, fmt[_target_format(ind, ty)])
            else:
                ws.write_string(row, col, t or "", fmt["center"])
        ws.write_formula(row, lay["check"], self._check_formula(f, cell, prev_cell, rules), fmt["check"], "")
        ws.write_blank(row, lay["note"], None, fmt["note"])
        self._note_cells.append((row, lay["note"]))
        self._names.append((note_name(f.code), ws.get_name(), row, lay["note"]))

    def _groups(self, fields: list[Field]):
        """(goal header, indicator header, fields) blocks: shared population figures first,
        then each goal and indicator of the plan in order."""
        common = [f for f in fields if f.chi_tieu is None]
        if common:
            yield self.w["population_group"], None, common
        for goal, goal_name in sorted(self.cat.goals.items()):
            goal_done = False
            for ct in self.cat.chi_tieu_numbers:
                inds = [i for i in self.cat.indicators if i.chi_tieu == ct and i.goal == goal]
                group = [f for f in fields if f.chi_tieu == ct]
                if not inds or not group:
                    continue
                title = None if goal_done else f"Mục tiêu {goal}: {goal_name}"
                goal_done = True
                names = "; ".join(i.name for i in inds)
                yield title, f"Chỉ tiêu {ct}: {names}", group

    def _budget_sheet(self, wb, fmt, unit, name, fields, rules, prev) -> None:
        ws = wb.add_worksheet(name)
        self._plain_formulas(ws)
        lay = LAYOUT["budget"]
        for col, width in enumerate((5, 8, 58, 11, 12, 13, 30, 30)):
            ws.set_column(col, col, width)
        ws.set_column(lay["code"], lay["code"], 24, None, {"hidden": True})
        self._sheet_head(ws, fmt, self._shown, self.w["headers"]["budget"], 7)
        ws.merge_range(2, 0, 2, 7, self._render(self.w["budget_intro"]), fmt["subtitle"])
        row = HEADER_ROW + 1
        for n, f in enumerate(fields, start=1):
            cell = xlsxwriter.utility.xl_rowcol_to_cell(row, lay["input"])
            self._row_start(ws, fmt, row, n, f, lay, prev)
            ws.write_formula(row, lay["check"], self._check_formula(f, cell, None, rules), fmt["check"], "")
            ws.write_blank(row, lay["note"], None, fmt["note"])
            self._names.append((note_name(f.code), ws.get_name(), row, lay["note"]))
            row += 1
        for label, suffix in (("Tổng dự toán", "_planned"), ("Tổng thực hiện", "_spent")):
            terms = "+".join(f"N({f.code})" for f in fields if f.code.endswith(suffix))
            ws.merge_range(row, 0, row, 4, label, fmt["group"])
            ws.write_formula(row, lay["input"], f"={terms}", fmt["total"], 0)
            row += 1
        self._protect(ws)

    def _narrative_sheet(self, wb, fmt, unit, name, fields) -> None:
        ws = wb.add_worksheet(name)
        lay = LAYOUT["narrative"]
        for col, width in enumerate((5, 8, 34, 1, 1, 95)):
            ws.set_column(col, col, width)
        ws.set_column(3, 4, None, None, {"hidden": True})
        ws.set_column(lay["code"], lay["code"], 24, None, {"hidden": True})
        self._sheet_head(ws, fmt, self._shown, self.w["headers"]["narrative"], 5)
        ws.merge_range(2, 0, 2, 5, self._render(self.w["narrative_intro"]), fmt["subtitle"])
        row = HEADER_ROW + 1
        led = self.cat.led_by(unit.code)
        for n, f in enumerate(fields, start=1):
            label = f.label
            if f.code == "narr_results" and led:
                label += " (chỉ tiêu " + ", ".join(sorted({str(i.chi_tieu) for i in led}, key=int)) + ")"
            ws.set_row(row, 120)
            ws.write_number(row, 0, n, fmt["center"])
            self._codes(ws, fmt, row, f, lay)
            ws.write_string(row, 2, label, fmt["cell"])
            self._input(ws, fmt, row, lay["input"], f)
            row += 1
        self._protect(ws)

    def _meta_sheet(self, wb, unit: Unit) -> None:
        ws = wb.add_worksheet(META_SHEET)
        rows = [
            (PROP_FORM, FORM_ID), (PROP_UNIT, unit.code), (PROP_UNIT_NAME, unit.name), ("treem_unit_type", unit.type),
            (PROP_YEAR, str(self.year)), (PROP_VERSION, self.cat.version), (PROP_HASH, self.cat.hash),
        ]
        for r, (k, v) in enumerate(rows):
            ws.write_string(r, 0, k)
            ws.write_string(r, 1, v)
        ws.very_hidden()
        self._protect(ws)
        for name, sheet, row, col in self._names:
            ref = xlsxwriter.utility.xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
            wb.define_name(name, f"='{sheet}'!{ref}")


def _fit_lines(ws, row: int, text: str) -> None:
    """A row keeps its height when its label wraps (neither Excel nor LibreOffice grows it):
    make room for every line."""
    lines = 1 + len(text) // LABEL_CHARS_PER_LINE
    if lines > 1:
        ws.set_row(row, 15.75 * lines)


def _when(guard: str, cond: str | None, message: str) -> str:
    if cond is None:
        return f'IF({guard},{_q(message)},"")'
    return f'IF({guard},IF({cond},{_q(message)},""),"")'


def _validation(f: Field) -> dict:
    title = "Năm báo cáo"
    blank = " Để trống nếu chưa có số liệu; nhập 0 nếu bằng không."
    if f.type == "yes_no":
        return {"validate": "list", "source": ["Có", "Không"], "input_title": "Chọn Có hoặc Không",
                "input_message": f.label[:200], "error_title": "Giá trị không hợp lệ",
                "error_message": "Chỉ chọn «Có» hoặc «Không» trong danh sách."}
    if f.type == "text":
        return {"validate": "length", "criteria": "<=", "value": 5000, "ignore_blank": True,
                "input_title": title, "input_message": f.label[:250],
                "error_title": "Nội dung quá dài", "error_message": "Mỗi ô tối đa 5.000 ký tự."}
    lo = f.min if f.min is not None else -1e15
    hi = f.max if f.max is not None else 1e15
    kind = "số nguyên" if f.type == "integer" else "số"
    limits = f" từ {vn_number(lo)} đến {vn_number(hi)}" if f.min is not None and f.max is not None else ""
    return {
        "validate": "integer" if f.type == "integer" else "decimal", "criteria": "between",
        "minimum": lo, "maximum": hi, "ignore_blank": True,
        "input_title": title[:32], "input_message": (f"{f.label} ({f.unit})."[:150] + blank)[:255],
        "error_title": "Số liệu không hợp lệ", "error_message": f"Nhập {kind}{limits}.{blank}"[:255],
    }


def _rate_formula(ind: Indicator, cell: str, prev_cell: str) -> str:
    if ind.kind == "share_of_communes":
        return ""
    if ind.kind == "yoy_change":
        return f'=IF(AND(ISNUMBER({cell}),ISNUMBER({prev_cell}),{prev_cell}>0),({cell}-{prev_cell})/{prev_cell}*100,"")'
    den = ind.denominator
    factor = int(ind.factor) if float(ind.factor).is_integer() else ind.factor
    return f'=IF(AND(ISNUMBER({cell}),ISNUMBER({den})),IF({den}>0,{cell}/{den}*{factor},""),"")'


def _target_format(ind: Indicator, year: str) -> str:
    """How the target of `year` is worded: CT4b is "không quá 17" in 2025 and "dưới 15" in 2030."""
    if ind.kind == "yoy_change":
        return "target_fall"
    if ind.direction == "at_least":
        return "target_at_least"
    return "target_below" if ind.is_strict(year) else "target_at_most"


def _target_cell(ind: Indicator, year: str, unit_type: str) -> float | str | None:
    """The target this unit is held to; an office (district figures) sees every unit type's."""
    t = ind.targets.get(year)
    if isinstance(t, dict):
        return t[unit_type] if unit_type in t else target_text(t)
    return t


# --- orchestration ---
_worker: Stamper | None = None


def _init_worker(catalogue, settings_data, wording, year) -> None:
    global _worker
    _worker = Stamper(TemplateWriter(catalogue, Settings(settings_data), wording, year))


def _render_one(job: tuple[Unit, dict, str]) -> tuple[str, str]:
    """(path written, SHA-256 of its bytes) for the output guard's manifest."""
    unit, prev, path = job
    data = _worker.render(unit, prev)
    atomic_write(Path(path), data, durable=False)  # regenerable
    return path, hashlib.sha256(data).hexdigest()


def generate(ws, year: int, unit_codes: list[str] | None = None, previous: dict | None = None,
             progress: Callable[[int], None] | None = None, workers: int | None = None,
             force: bool = False) -> GenerateResult:
    """Write the workbooks of every unit in force in `year` (or of the named units) and the
    distribution list into output/YEAR/bieu_mau/. `previous` maps unit code to last year's
    values, shown beside the input cells."""
    from pipeline.base.errors import TreemError
    from pipeline.config.settings import reorganisation_warnings

    ws = ws.for_year(year)  # from 2025 on, the forms name the reorganised recipient
    units = ws.roster.for_year(year)
    if unit_codes:
        known = {u.code: u for u in units}
        missing = [c for c in unit_codes if c not in known]
        if missing:
            raise TreemError(f"Không có đơn vị mã {', '.join(missing)} trong danh sách đơn vị năm {year}.")
        units = [known[c] for c in unit_codes]
    from pipeline.base.outputs import session

    with ws.lock("treem generate"), session(ws, year, force) as guard:
        result = _generate(ws, year, units, previous, progress, workers, guard)
    result.messages = guard.messages
    result.warnings = reorganisation_warnings(ws.settings, year)
    return result


def _generate(ws, year, units, previous, progress, workers, guard) -> GenerateResult:
    files = ws.layout(year)
    files.forms.mkdir(parents=True, exist_ok=True)
    wording = load_wording(ws.template(WORKBOOK_WORDING))
    if previous is None:
        previous = last_year_values(ws, year)
    # The guard says where each form goes (beside an edited one, or over it after a backup);
    # the workers write there and hand back the hash it records.
    planned = [guard.plan(files.form(u)) for u in units]
    guard.expect([(w.path, ANY) for w in planned])
    jobs = [(u, previous.get(u.code, {}), str(w.path)) for u, w in zip(units, planned)]
    result = GenerateResult(year)
    hashes: dict[str, str] = {}
    workers = workers or (min(os.cpu_count() or 1, 4) if len(jobs) >= PARALLEL_THRESHOLD else 1)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=mp_context(), initializer=_init_worker,
                                 initargs=(ws.catalogue, ws.settings.data, wording, year)) as pool:
            for path, sha in pool.map(_render_one, jobs, chunksize=32):
                hashes[path] = sha
                if progress:
                    progress(1)
    else:
        _init_worker(ws.catalogue, ws.settings.data, wording, year)
        for job in jobs:
            path, sha = _render_one(job)
            hashes[path] = sha
            if progress:
                progress(1)
    for w in planned:
        guard.record(w.path, hashes[str(w.path)])
        guard.note(w)
    for u, _, path in jobs:
        result.files.append(FormFile(u.code, u.name, Path(path)))
    # The list always covers every unit of the year: re-making one unit's workbook must not
    # shrink the list the officer sends from to that one unit.
    result.distribution_list = write_distribution_list(ws, year, ws.roster.for_year(year))
    return result


def last_year_values(ws, year: int) -> dict[str, dict]:
    """Last year's accepted values from the store (re-keyed across roster changes), shown
    beside this year's input cells; empty before the first collect."""
    from pipeline.store.history import previous_values
    from pipeline.store.db import Store

    if not ws.db_path.exists():
        return {}
    with Store(ws.db_path) as store:
        return previous_values(store, ws.catalogue, ws.roster, year)


def write_distribution_list(ws, year: int, units: list[Unit]) -> Path:
    deadline = ws.settings.deadline(year).strftime("%d/%m/%Y")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"Danh sách gửi biểu mẫu năm {year}", "created": datetime(year, 10, 1)})
    sh = wb.add_worksheet("Danh sách gửi")
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "vcenter"})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    sh.merge_range(0, 0, 0, 8, f"DANH SÁCH GỬI BIỂU MẪU BÁO CÁO NĂM {year} - HẠN GỬI LẠI {deadline}",
                   wb.add_format({"bold": True, "font_size": 13}))
    headers = ["TT", "Mã đơn vị", "Tên đơn vị", "Loại", "Tệp biểu mẫu", "Người liên hệ", "Điện thoại",
               "Thư điện tử", "Hạn gửi lại"]
    widths = (5, 11, 40, 16, 42, 24, 14, 26, 12)
    for c, (h, w) in enumerate(zip(headers, widths)):
        sh.write_string(2, c, h, head)
        sh.set_column(c, c, w)
    for r, u in enumerate(units, start=3):
        values = [str(r - 2), u.code, u.name, u.type_label, form_name(year, u),
                  u.contact.person, u.contact.phone, u.contact.email, deadline]
        for c, v in enumerate(values):
            sh.write_string(r, c, v or "", cell)
        sh.set_row(r, wrapped_height(zip(values, widths)))
    sh.autofilter(2, 0, 2 + len(units), 8)
    sh.freeze_panes(3, 0)
    set_print(sh, widths, (2, 2))
    wb.close()
    return write_output(ws, year, ws.layout(year).distribution_list, buf.getvalue()).path

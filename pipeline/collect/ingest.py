"""Stage 2a: read one submitted workbook into plain data. The only module that reads data out of
a unit's file.

The file is checked before any parser sees it (precheck: size, zip structure, entities,
geometry). Names, properties and formula positions come straight from the already-decompressed
XML parts; values of a form written plainly (as Excel, LibreOffice and XlsxWriter write) from
precheck's scan of its sheets, and of anything else (.xls, unusual XML) from python-calamine.
Nothing here judges the content: that is the validate stage's job."""

from __future__ import annotations

import functools
import html
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress
from operator import itemgetter
from pathlib import Path

import python_calamine
from lxml import etree

from pipeline.base.problems import unreadable
from pipeline.base.text import col_index, col_letters, xml_text
from pipeline.collect.precheck import Limits, Package, precheck
from pipeline.forms.contract import LAYOUT, LEGACY_CODE_COLUMN, META_SHEET, NOTE_PREFIX, PROP_PREFIX, PROP_UNIT, note_name

# precheck has rejected every part with a DTD or entity declaration, so nothing here can
# expand entities or reach the network; lxml is simply the fastest parser at hand.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_NS_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_REF_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
# A cell element and its body; a formula shows as <f ...> inside the body. The optional
# prefix copes with writers that qualify the main namespace (<x:c>).
# A cell whose first child is a formula (the schema puts <f> before <v> and <is>). The
# optional prefix copes with writers that qualify the main namespace (<x:c>).
_PLAIN_FORMULA_RE = re.compile(rb'<c r="([A-Z]{1,3}\d{1,7})"[^>]*><f[ >]')
_FORMULA_CELL_RE = re.compile(rb"\sr=\"([A-Z]{1,3}\d{1,7})\"[^>/]*>\s*<(?:\w+:)?f[\s>/]")
_FORMULA_START = frozenset((b"<f>", b"<f ", b"<f/"))
_CODE_LIKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


@dataclass(frozen=True)
class FormSpec:
    """What the ingest stage looks for: the named cells of the form."""

    names: frozenset[str]


@dataclass
class RawCell:
    sheet: str
    cell: str
    value: object
    formula: bool = False
    # Field codes written left of the cell on its row (the template's «Mã» column): a name
    # that no longer sits on its own row shows here. None: not looked at.
    row_codes: tuple[str, ...] | None = None


@dataclass
class Reading:
    path: str
    size: int
    kind: str
    has_macros: bool = False
    external_links: bool = False
    embedded_objects: bool = False
    props: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    meta_state: str | None = None
    saved_at: str | None = None
    sheets: list[str] = field(default_factory=list)
    sheet_states: dict[str, str] = field(default_factory=dict)
    cells: dict[str, RawCell] = field(default_factory=dict)
    broken_names: list[str] = field(default_factory=list)
    located_by: str = "names"
    formulas: dict[str, set[str]] | None = None
    hints: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=65536)
def split_ref(ref: str) -> tuple[int, int] | None:
    m = _REF_RE.match(ref.strip())
    return (int(m.group(2)) - 1, col_index(m.group(1))) if m else None


def read(path: Path, spec: FormSpec, limits: Limits = Limits(), data: bytes | None = None) -> Reading:
    """Read one file (or its bytes, `data`, already read). Raises UnreadableFile (with a
    Vietnamese reason) when it is not a workbook we can safely read."""
    pkg = precheck(path, limits, data)
    reading = _new_reading(path, pkg)
    names: dict[str, tuple[str, str]] = {}
    if pkg.kind == "xlsx":
        names, sheet_paths = _read_xml_parts(pkg, reading)
        try:
            if _read_named_cells(pkg, sheet_paths, names, spec, reading):
                return reading
        except (ValueError, IndexError, KeyError):
            pass  # something unusual in the XML: calamine reads it below
        reading.cells, reading.meta = {}, {}
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(pkg.data))
    except python_calamine.PasswordError:
        raise unreadable("encrypted-file") from None
    except Exception as e:  # calamine raises several unrelated types for damaged content
        raise unreadable("unreadable-workbook") from e
    grids = _read_grids(book, reading)
    _read_meta(grids, reading)
    _locate_cells(grids, names, spec, reading)
    if not (reading.props.get(PROP_UNIT) or reading.meta.get(PROP_UNIT)):
        _collect_hints(grids, reading)  # only needed when the identity is gone
    return reading


def _new_reading(path: Path, pkg: Package) -> Reading:
    return Reading(path=str(path), size=len(pkg.data), kind=pkg.kind, has_macros=pkg.has_macros,
                   external_links=pkg.external_links, embedded_objects=pkg.embedded_objects)


def _read_properties(parts: dict, reading: Reading) -> None:
    """The custom document properties (the identity) and when the file was last saved."""
    if "docProps/custom.xml" in parts:
        for p in _parse(parts["docProps/custom.xml"]).iter(f"{_NS_CUSTOM}property"):
            value = next((c for c in p if isinstance(c.tag, str)), None)
            if value is not None and value.text is not None:
                reading.props[p.get("name", "")] = _clean_scalar(value.text)
    if "docProps/core.xml" in parts:
        m = re.search(rb"<dcterms:modified[^>]*>([^<]+)<", parts["docProps/core.xml"])
        if m:
            reading.saved_at = m.group(1).decode("ascii", "replace").strip()


def _read_xml_parts(pkg: Package, reading: Reading) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Defined names (name -> sheet, cell), and each sheet's part, from the workbook XML."""
    parts = pkg.parts
    try:
        wb = etree.fromstring(parts["xl/workbook.xml"], _PARSER)
    except Exception as e:
        raise unreadable("unreadable-workbook", "structure") from e
    rels = {}
    if "xl/_rels/workbook.xml.rels" in parts:
        for r in _parse(parts["xl/_rels/workbook.xml.rels"]).iter(f"{_NS_PKG_REL}Relationship"):
            target = r.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            rels[r.get("Id")] = re.sub(r"[^/]+/\.\./", "", target)
    sheet_paths = {}
    for s in wb.iter(f"{_NS_MAIN}sheet"):
        name = s.get("name", "")
        reading.sheets.append(name)
        reading.sheet_states[name] = s.get("state", "visible")
        sheet_paths[name] = rels.get(s.get(f"{_NS_REL}id"))
    names: dict[str, tuple[str, str]] = {}
    local: dict[str, tuple[str, str]] = {}
    present = {s.casefold() for s in reading.sheets}
    for d in wb.iter(f"{_NS_MAIN}definedName"):
        name, text = d.get("name", ""), (d.text or "").strip()
        # Excel writes "#REF!$F$5" for a name whose sheet was deleted; other writers leave
        # the old sheet name, pointing at nothing. Either way the cell is gone.
        target = None if "#REF!" in text else _parse_name_target(text)
        if target is None or target[0].casefold() not in present:
            if "#REF!" in text or target is not None:
                reading.broken_names.append(name)
            continue
        (local if d.get("localSheetId") is not None else names).setdefault(name, target)
    for k, v in local.items():
        names.setdefault(k, v)
    _read_properties(parts, reading)
    # Formula positions matter on the sheets that hold input cells (and, without names,
    # on any sheet the values may have been pasted into).
    named_sheets = {t[0].casefold() for t in names.values()}
    reading.formulas = {}
    for name, p in sheet_paths.items():
        if names and name.casefold() not in named_sheets:
            continue
        if p in pkg.plain_cells:
            # The scan's last group is how a cell's body starts: "<f" for a formula.
            cells = pkg.plain_cells[p]
            starts = map(_FORMULA_START.__contains__, map(itemgetter(5), cells))
            reading.formulas[name] = {ref.decode() for ref in compress(map(itemgetter(0), cells), starts)}
            continue
        xml = parts.get(p or "")
        if xml is None:
            continue
        if b' r="' not in xml:
            continue  # cells without positions: formula checks are not possible here
        reading.formulas[name] = _formula_cells(xml)
    return names, sheet_paths


# --- named cells straight from the sheet XML --------------------------------------------------
# The common case: a form whose names survived, written by Excel, LibreOffice or XlsxWriter
# with every cell as <c r="A1" …> (precheck proved it for each such sheet, and kept the cells
# its scan found). Its ~100 named cells are looked up in that scan, instead of having calamine
# parse every sheet again; anything unusual goes the calamine way. An openpyxl reader is held to the
# same values in the tests (tests/reference_reader.py).
_SI_RE = re.compile(rb"<si>(.*?)</si>|<si\s*/>", re.S)
_T_RE = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_RPH_RE = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_V_RE = re.compile(rb"<v>(.*?)</v>", re.S)
_IS_RE = re.compile(rb"<is>(.*?)</is>", re.S)
_T_ATTR = re.compile(rb'\st="(\w+)"')
_S_ATTR = re.compile(rb'\ss="(\d+)"')
_NUMFMT_RE = re.compile(rb'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"')
_XF_RE = re.compile(rb"<xf\b[^>]*>")
_NUMFMT_ID = re.compile(rb'numFmtId="(\d+)"')
# Excel's built-in date and time formats.
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])


def _xml_text(raw: bytes) -> str:
    return xml_text(raw, ooxml_escapes=True)


def _rich_text(raw: bytes) -> str:
    """The text of a shared or inline string: its runs joined, phonetic guides left out."""
    if raw.startswith(b"<t>") and raw.endswith(b"</t>") and b"<" not in raw[3:-4]:
        return _xml_text(raw[3:-4])  # one plain run, the usual case
    return "".join(_xml_text(t) for t in _T_RE.findall(_RPH_RE.sub(b"", raw)))


class _SharedStrings:
    def __init__(self, xml: bytes | None):
        xml = xml or b""
        items = xml.split(b"<si>")[1:]
        # Split at each plain <si>, when that is all there is (what Excel and LibreOffice
        # write): much faster than a pattern. Each piece then ends at its </si>.
        if len(items) == xml.count(b"</si>") and b"<si/>" not in xml and b"<si " not in xml and b"<!" not in xml:
            self.items, self.split = items, True
        else:
            self.items, self.split = _SI_RE.findall(xml), False  # an empty <si/> gives b""

    def __getitem__(self, i: int) -> str:
        raw = self.items[i]
        return _rich_text(raw[:raw.find(b"</si>")] if self.split else raw)


@functools.lru_cache(maxsize=8)
def _date_styles(styles: bytes) -> frozenset[int]:
    """Indexes of the cell formats that show a number as a date (cached: units' files mostly
    share the template's styles)."""
    custom = {int(i): code for i, code in _NUMFMT_RE.findall(styles)}
    start, end = styles.find(b"<cellXfs"), styles.find(b"</cellXfs>")
    out = set()
    for n, xf in enumerate(_XF_RE.findall(styles[start:end] if start >= 0 else b"")):
        m = _NUMFMT_ID.search(xf)
        fmt = int(m.group(1)) if m else 0
        if fmt in _DATE_FORMAT_IDS or (fmt in custom and _is_date_format(custom[fmt])):
            out.add(n)
    return frozenset(out)


def _is_date_format(code: bytes) -> bool:
    text = re.sub(rb'"[^"]*"|\[[^\]]*\]|\\.', b"", html.unescape(code.decode("utf-8", "replace")).encode())
    return any(ch in text.lower() for ch in (b"d", b"m", b"y", b"h", b"s"))


def _cell_value(attrs: bytes, body: bytes | None, sst: _SharedStrings, dates: frozenset[int]):
    """A cell's value as calamine gives it: number, text, bool, date, or None."""
    if not body:
        return None
    t = _T_ATTR.search(attrs)
    if t and t.group(1) == b"inlineStr":
        m = _IS_RE.search(body)
        return _rich_text(m.group(1)) if m else ""
    v = _V_RE.search(body)
    return None if v is None else _typed_value(attrs, v.group(1), sst, dates)


def _typed_value(attrs: bytes, raw: bytes, sst: _SharedStrings, dates: frozenset[int]):
    """The value of a cell's <v> text, by the cell's type and style."""
    if not raw.strip():
        return None
    kind, is_date = _cell_kind(attrs, dates)
    if kind == b"s":
        return sst[int(raw)]
    if kind in (b"str", b"e"):
        return _xml_text(raw)
    if kind == b"b":
        return raw.strip() == b"1"
    number = float(raw)
    if is_date:
        return datetime(1899, 12, 30) + timedelta(days=number)  # Excel's serial dates
    return number


@functools.lru_cache(maxsize=4096)
def _cell_kind(attrs: bytes, dates: frozenset[int]) -> tuple[bytes, bool]:
    """A cell's type (t="s", "b"…; "n" when absent) and whether its style shows a date; cells
    share a few attribute strings, so each is looked at once."""
    t = _T_ATTR.search(attrs)
    s = _S_ATTR.search(attrs)
    return (t.group(1) if t else b"n"), bool(s and int(s.group(1)) in dates)


class _PlainSheet:
    """The cells of a sheet that precheck scanned, by reference. A cell whose body is a lone
    <v> is read from the scan; any other body is looked up whole in the XML."""

    def __init__(self, xml: bytes, cells: list[tuple[bytes, ...]], sst: _SharedStrings, dates: frozenset[int]):
        self.xml, self.sst, self.dates = xml, sst, dates
        self.cells = dict(zip(map(itemgetter(0), cells), cells))

    def value(self, ref: str, absent=None):
        cell = self.cells.get(ref.encode())
        if cell is None:
            return absent
        _, _, _, attrs, v, rest = cell
        if not rest and b"inlineStr" not in attrs:
            return _typed_value(attrs, v, self.sst, self.dates)
        pattern = rb'<c r="' + cell[0] + rb'"([^>]*?)(?:/>|>(.*?)</c>)'
        found = re.findall(pattern, self.xml, re.S)
        return _cell_value(*found[-1], self.sst, self.dates) if found else None  # the last wins, as above


def _read_named_cells(pkg: Package, sheet_paths: dict[str, str], names: dict, spec: FormSpec,
                      reading: Reading) -> bool:
    """Fill reading.cells and reading.meta from the XML when every sheet involved is plain;
    False leaves the file to calamine."""
    found = {n: names[n] for n in spec.names if n in names}
    actual = {s.casefold(): s for s in sheet_paths}
    meta = actual.get(META_SHEET)
    used = {actual.get(sheet.casefold(), sheet) for sheet, _ in found.values()} | ({meta} if meta else set())
    if not found or any(sheet_paths.get(s) not in pkg.plain_cells for s in used):
        return False
    sst = _SharedStrings(pkg.parts.get("xl/sharedStrings.xml"))
    dates = _date_styles(pkg.parts.get("xl/styles.xml", b""))
    sheets = {s: _PlainSheet(pkg.parts[sheet_paths[s]], pkg.plain_cells[sheet_paths[s]], sst, dates) for s in used}
    if meta:
        cells = sheets[meta]
        rows = sorted(int(r[1:]) for r in cells.cells if r[:1] == b"A" and r[1:].isdigit() and int(r[1:]) <= 50)
        _read_meta({meta: [[cells.value(f"A{r}"), cells.value(f"B{r}", "")] for r in rows]}, reading)
    if not (reading.props.get(PROP_UNIT) or reading.meta.get(PROP_UNIT)):
        return False  # identity gone: the hints need every sheet, calamine reads them
    for n, (sheet, ref) in found.items():
        sheet = actual.get(sheet.casefold(), sheet)
        cells = sheets[sheet]
        if n.startswith(NOTE_PREFIX):
            codes = None  # an explanation cell: its row belongs to its field
        else:
            # Where the «Mã» cell does not hold the name's code (a column inserted, or rows
            # shifted), look along the rest of the row: the validator decides which it was.
            code = cells.value(_code_ref(ref)) if _code_ref(ref) else None
            if isinstance(code, str) and code.strip() == n:
                codes = (n,)
            else:
                codes = _codes(cells.value(r) for r in _row_of(ref))
        formulas = (reading.formulas or {}).get(sheet, ())
        reading.cells[n] = RawCell(sheet, ref, cells.value(ref), ref in formulas, codes)
    return True


# The hidden column holding the field code, counted from the input cell (the same in every section).
_CODE_AFTER_INPUT = LAYOUT["data"]["code"] - LAYOUT["data"]["input"]
# In forms made before the code moved there, it was in column B, four columns left of the input.
_LEGACY_CODE_BEFORE_INPUT = LAYOUT["data"]["input"] - LEGACY_CODE_COLUMN


@functools.lru_cache(maxsize=65536)
def _code_ref(ref: str) -> str | None:
    """The template's field-code cell on the row of an input cell (in the hidden column)."""
    row, col = split_ref(ref)
    return f"{col_letters(col + _CODE_AFTER_INPUT)}{row + 1}"


def _code_columns(col: int) -> tuple[int, ...]:
    """The columns of an input cell's row where its field code may be: at most 8 to its left
    (forms made before the code moved to the hidden column) and the hidden code column, or up
    to 8 columns further right when columns were inserted after the input."""
    return (*range(max(0, col - 8), col), *range(col + _CODE_AFTER_INPUT, col + _CODE_AFTER_INPUT + 9))


@functools.lru_cache(maxsize=65536)
def _row_of(ref: str) -> tuple[str, ...]:
    """The cells of `_code_columns` on the row of a cell."""
    row, col = split_ref(ref)
    return tuple(f"{col_letters(c)}{row + 1}" for c in _code_columns(col))


def _codes(values) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if isinstance(v, str) and _CODE_LIKE.match(v.strip()))


def _formula_cells(xml: bytes) -> set[str]:
    """Positions of the cells holding a formula. The plain pattern (what Excel and LibreOffice
    write) is five times faster; it is trusted only when it found every <f> there is."""
    plain = _PLAIN_FORMULA_RE.findall(xml)
    if len(plain) == xml.count(b"<f>") + xml.count(b"<f ") and b":f" not in xml:
        return {ref.decode() for ref in plain}
    return {ref.decode() for ref in _FORMULA_CELL_RE.findall(xml)}


def _parse(xml: bytes):
    """A secondary part (relationships, properties): damaged means absent, not fatal."""
    try:
        return etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError:
        return etree.Element("empty")


@functools.lru_cache(maxsize=65536)
def _parse_name_target(text: str) -> tuple[str, str] | None:
    """"'Số liệu'!$F$12" -> ("Số liệu", "F12"); None for ranges, formulas and #REF!."""
    if "!" not in text:
        return None
    sheet, _, ref = text.rpartition("!")
    sheet = sheet.strip()
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    pos = split_ref(ref)
    if pos is None or not sheet:
        return None
    return sheet, f"{col_letters(pos[1])}{pos[0] + 1}"


def _clean_scalar(text: str) -> str:
    """LibreOffice turns an integer property into a float: "2024.0" means 2024."""
    text = text.strip()
    if re.fullmatch(r"-?\d+\.0+", text):
        return text.split(".")[0]
    return text


def _read_grids(book, reading: Reading) -> dict[str, list[list]]:
    if not reading.sheets:
        reading.sheets = list(book.sheet_names)
        for m in book.sheets_metadata:
            reading.sheet_states[m.name] = {"Visible": "visible", "Hidden": "hidden",
                                            "VeryHidden": "veryHidden"}.get(str(m.visible).split(".")[-1], "visible")
    return _Grids(book)


class _Grids(dict):
    """Sheet name -> rows of values, read from the workbook only when first asked for: most
    files need two of their four sheets."""

    def __init__(self, book):
        super().__init__()
        self.book = book
        self.names = list(book.sheet_names)

    def __missing__(self, name: str) -> list[list]:
        if name not in self.names:
            raise KeyError(name)
        try:
            grid = self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception:  # a damaged sheet must not hide the others
            grid = []
        self[name] = grid
        return grid

    def get(self, name, default=None):
        return self[name] if name in self.names else default

    def __iter__(self):
        return iter(self.names)

    def items(self):
        return ((n, self[n]) for n in self.names)

    def __contains__(self, name) -> bool:
        return name in self.names


def _cell(grids, sheet: str, row: int, col: int):
    grid = grids.get(sheet)
    if not grid or row >= len(grid) or col >= len(grid[row]):
        return None
    v = grid[row][col]
    return None if v == "" else v


def _read_meta(grids, reading: Reading) -> None:
    sheet = next((s for s in grids if s.strip().lower() == META_SHEET), None)
    if sheet is None:
        return
    reading.meta_state = reading.sheet_states.get(sheet)
    for row in grids[sheet][:50]:
        if len(row) >= 2 and isinstance(row[0], str) and row[0].startswith(PROP_PREFIX):
            v = row[1]
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            reading.meta[row[0]] = _clean_scalar(str(v))


def _locate_cells(grids, names, spec: FormSpec, reading: Reading) -> None:
    """By defined name when the names are there (robust to inserted rows and moved blocks);
    otherwise by the field codes written beside the values (data pasted into a fresh
    workbook, or a .xls that kept no names)."""
    found = {n: names[n] for n in spec.names if n in names}
    if found:
        for n, (sheet, ref) in found.items():
            row, col = split_ref(ref)
            formulas = (reading.formulas or {}).get(sheet, set())
            codes = _codes(_cell(grids, sheet, row, c) for c in _code_columns(col))
            reading.cells[n] = RawCell(sheet, ref, _cell(grids, sheet, row, col), ref in formulas, codes)
        return
    reading.located_by = "codes"
    note_after_input = LAYOUT["data"]["note"] - LAYOUT["data"]["input"]
    budget_note_after_input = LAYOUT["budget"]["note"] - LAYOUT["budget"]["input"]
    for sheet, grid in grids.items():
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if not isinstance(v, str) or not _CODE_LIKE.match(v.strip()) or v.strip() not in spec.names:
                    continue
                code = v.strip()
                if code in reading.cells:
                    continue
                # The code sits in the hidden column right of the input, or in column B (older forms).
                offset = _LEGACY_CODE_BEFORE_INPUT if c == LEGACY_CODE_COLUMN else -_CODE_AFTER_INPUT
                if c + offset < 0:
                    continue
                ref = f"{col_letters(c + offset)}{r + 1}"
                formulas = (reading.formulas or {}).get(sheet, set())
                reading.cells[code] = RawCell(sheet, ref, _cell(grids, sheet, r, c + offset), ref in formulas)
                note = note_name(code)
                if note in spec.names:
                    nc = c + offset + (budget_note_after_input if code.startswith("budget_") else note_after_input)
                    reading.cells[note] = RawCell(sheet, f"{col_letters(nc)}{r + 1}", _cell(grids, sheet, r, nc))


def _collect_hints(grids, reading: Reading) -> None:
    """Short texts near the top of each sheet that may name the unit when the metadata is gone."""
    for sheet, grid in grids.items():
        for row in grid[:6]:
            for v in row[:12]:
                if isinstance(v, str) and 3 <= len(v) <= 200:
                    reading.hints.append(v)
    reading.hints = reading.hints[:60]

"""Pre-parse safety checks for a submitted workbook.

Every submitted file is untrusted. Before any reader (calamine, openpyxl) sees a
file, `precheck` reads it once and looks only at bytes, the zip directory and
bounded, CRC-checked XML parts, so that zip bombs, entity expansion, far-away
cells and files that are not workbooks at all are rejected in milliseconds with
a stable code and one Vietnamese sentence, instead of costing gigabytes of
memory or aborting a Rust reader. See shared/notes/excel-libraries.md, section 4.

Macros, external links and embedded objects are not errors: we read only cell
values and never run or copy anything; `Package` reports them as flags.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path

from pipeline.base.errors import UnreadableFile
from pipeline.base.problems import PROBLEMS, unreadable
from pipeline.base.text import col_index, xml_text

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds a submitted workbook must stay within (a filled template is ~20 KB)."""

    max_file_bytes: int = 10 * MB
    max_members: int = 200
    max_ratio: int = 100  # per zip member over 1 MB; a good workbook stays under 10:1
    max_member_bytes: int = 20 * MB  # uncompressed, per member
    max_total_bytes: int = 50 * MB  # uncompressed, all members
    max_rows: int = 10_000
    max_cols: int = 100
    max_cells: int = 200_000  # per sheet
    max_defined_names: int = 2_000
    max_sheets: int = 50


@dataclass
class Package:
    """A submitted file that passed the checks, with what a reader needs from it."""

    path: Path
    data: bytes = field(repr=False)  # the whole file, read once
    kind: str  # "xlsx" (any OOXML workbook: .xlsx, .xlsm, .xltx) or "xls"
    parts: dict[str, bytes] = field(default_factory=dict, repr=False)  # xlsx XML parts
    has_macros: bool = False  # vbaProject.bin or a macro-enabled main part
    external_links: bool = False  # xl/externalLinks/
    embedded_objects: bool = False  # ActiveX controls, embedded files, custom ribbon
    sheet_names: tuple[str, ...] = ()  # in workbook order; xlsx only
    # Worksheets whose every cell is written <c r="A1"…>: their cells as the geometry scan found
    # them (see PLAIN_CELL), so that a reader need not scan them again.
    plain_cells: dict[str, list[tuple[bytes, ...]]] = field(default_factory=dict, repr=False)


# The codes precheck raises; their messages are rows of `pipeline.base.problems` (placeholders
# are Limits fields, sizes in MB; they never include anything from the file).
CODES = ("empty-file", "file-too-large", "not-a-workbook", "encrypted-file", "truncated-file", "too-many-parts",
         "unsafe-zip", "zip-bomb", "xml-entities", "xml-encoding", "sheet-too-large", "too-many-names",
         "too-many-sheets")
MESSAGES: dict[str, str] = {code: PROBLEMS[code].message for code in CODES}
# More precise wording for `not-a-workbook` when it is cheap to tell what the file is.
NOT_A_WORKBOOK: dict[str, str] = {kind: PROBLEMS["not-a-workbook"].text(kind)
                                  for kind in PROBLEMS["not-a-workbook"].variants}


def message(code: str, limits: Limits | None = None) -> str:
    """The Vietnamese message for `code`, with the limits it mentions filled in."""
    return PROBLEMS[code].text(**_limit_values(limits or Limits()))


def _limit_values(limits: Limits) -> dict[str, str]:
    # Vietnamese digit grouping: 10.000, 200.000.
    values = {f.name: f"{getattr(limits, f.name):,}".replace(",", ".") for f in fields(limits)}
    values["max_file_mb"] = f"{limits.max_file_bytes / MB:g}".replace(".", ",")
    return values


def _fail(code: str, limits: Limits, looks_like: str | None = None) -> UnreadableFile:
    return unreadable(code, looks_like, **_limit_values(limits))


# --- entry point ----------------------------------------------------------------------

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def precheck(path: Path, limits: Limits = Limits(), data: bytes | None = None) -> Package:
    """Read `path` once (or take its bytes, `data`, already read) and check it is a workbook
    that is safe to hand to a reader.

    Raises UnreadableFile(code, Vietnamese message). OSError (missing file, no
    permission) is a problem on our side, not the unit's, and propagates.
    """
    path = Path(path)
    if data is None:
        size = path.stat().st_size
        if size == 0:
            raise _fail("empty-file", limits)
        if size > limits.max_file_bytes:
            raise _fail("file-too-large", limits)
        with path.open("rb") as f:
            # Bounded: the file may still be growing (an e-mail being saved).
            data = f.read(limits.max_file_bytes + 1)
    if not data:
        raise _fail("empty-file", limits)
    if len(data) > limits.max_file_bytes:
        raise _fail("file-too-large", limits)

    if data.startswith(ZIP_MAGIC):
        return _check_zip(path, data, limits)
    if data.startswith(OLE_MAGIC):
        return _check_ole(path, data, limits)
    raise _fail("not-a-workbook", limits, _sniff(data))


# --- not a workbook: what does it look like? --------------------------------------------


def _sniff(data: bytes) -> str | None:
    head = data[:2048]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text" export is UTF-16
        return "text"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or head[4:12] in (b"ftypheic", b"ftypheix"):
        return "image"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in text:
            return "xml-2003"
        if b"<html" in text or b"<!doctype html" in text or b"<table" in text:
            return "html"
        return None
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as e:
            # A multi-byte character cut at the end of the sample is still text.
            if e.start < len(head) - 3:
                return None
        return "text"
    return None


# --- legacy OLE files (.xls, encrypted OOXML) --------------------------------------------


def _ole_stream(data: bytes, name: str) -> tuple[int, int] | None:
    """Find the directory entry of stream `name`: (start sector, size), or None.

    Directory entries are 128-byte records in sector-aligned sectors, so a real
    entry starts at a multiple of 128 with its name length at +64 and type 2
    (stream) at +66; matching only there avoids hits inside cell text.
    """
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    pattern = re.compile(re.escape(encoded), re.IGNORECASE)
    for m in pattern.finditer(data, 512):
        pos = m.start()
        if pos % 128 or pos + 128 > len(data):
            continue
        name_len, kind = struct.unpack_from("<HB", data, pos + 64)
        if name_len == len(encoded) and kind == 2:
            start, size = struct.unpack_from("<II", data, pos + 116)
            return start, size
    return None


def _check_ole(path: Path, data: bytes, limits: Limits) -> Package:
    if len(data) < 1024:  # header sector plus at least one directory sector
        raise _fail("truncated-file", limits)
    # Agile/standard OOXML encryption (Excel 2007+ "Encrypt with Password").
    if _ole_stream(data, "EncryptedPackage") is not None:
        raise _fail("encrypted-file", limits)
    workbook = _ole_stream(data, "Workbook") or _ole_stream(data, "Book")
    if workbook is None:
        if _ole_stream(data, "WordDocument") is not None:
            raise _fail("not-a-workbook", limits, "word")
        if _ole_stream(data, "PowerPoint Document") is not None:
            raise _fail("not-a-workbook", limits, "powerpoint")
        raise _fail("not-a-workbook", limits)
    if _xls_has_filepass(data, *workbook):
        raise _fail("encrypted-file", limits)
    return Package(path=path, data=data, kind="xls")


def _xls_has_filepass(data: bytes, start: int, size: int) -> bool:
    """Whether the Workbook stream starts BOF, FILEPASS (a password-to-open .xls)."""
    sector_shift, = struct.unpack_from("<H", data, 30)
    mini_cutoff, = struct.unpack_from("<I", data, 56)
    if size < mini_cutoff or sector_shift not in (9, 12):
        return False  # lives in the mini stream; the reader will report it
    offset = (start + 1) << sector_shift
    if offset + 8 > len(data):
        return False
    record, length = struct.unpack_from("<HH", data, offset)
    if record not in (0x0809, 0x0409, 0x0209, 0x0009):  # BOF, BIFF8..BIFF2
        return False
    following = offset + 4 + length
    if following + 2 > len(data):
        return False
    return struct.unpack_from("<H", data, following)[0] == 0x002F


# --- OOXML (zip) ----------------------------------------------------------------------

# Members read into `parts` and scanned: these suffixes, and any other member
# whose content starts like XML in some encoding (a sheet renamed image1.png
# still gets parsed if workbook.xml.rels points to it). Everything else
# (images, printer settings, vbaProject.bin) is only bounded and CRC-checked.
XML_SUFFIXES = (".xml", ".rels", ".vml")
_LOOKS_LIKE_XML = re.compile(
    rb"[ \t\r\n]*<|\xef\xbb\xbf|\xff\xfe|\xfe\xff|\x00<|\x00\x00\x00<|\x00\x00\xfe\xff"
    rb"|\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC
)
_XML_DECL = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_ASCII_COMPATIBLE = re.compile(
    rb"(?i)utf-?8|(?:us-)?ascii|iso[-_]?8859-\d{1,2}|latin-?1|(?:windows|cp)-?125\d"
)
# What zipfile raises on a damaged archive: bad offsets, sizes, headers, CRCs,
# a local header that disagrees with the central directory.
_DAMAGED = (
    zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error,
    NotImplementedError, RuntimeError, OverflowError, OSError,
)
# Below this a member cannot do harm whatever its ratio, and small repetitive
# parts (VML for many comments, runs of empty rows) do compress beyond 100:1.
_RATIO_MIN_BYTES = 1 * MB
# Encrypted (bit 0), compressed patched data (bit 5), strong encryption (bit 6).
_UNSUPPORTED_FLAGS = 0x1 | 0x20 | 0x40
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SHEET_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet[\s/>]")
_DEFINED_NAME_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?definedName[\s/>]")


def _check_zip(path: Path, data: bytes, limits: Limits) -> Package:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except _DAMAGED:
        raise _fail("truncated-file", limits) from None
    if len(infos) > limits.max_members:
        raise _fail("too-many-parts", limits)
    _check_members(infos, limits)

    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _fail("not-a-workbook", limits, _zip_looks_like(zf, names))

    parts = _read_parts(data, infos, limits)
    lower_names = [n.lower() for n in names]
    content_types = parts.get("[Content_Types].xml", b"").lower()
    package = Package(
        path=path,
        data=data,
        kind="xlsx",
        parts=parts,
        has_macros=b"macroenabled" in content_types
        or any(n.rpartition("/")[2] == "vbaproject.bin" for n in lower_names),
        external_links=any(n.startswith("xl/externallinks/") for n in lower_names),
        embedded_objects=any(
            n.startswith(("xl/activex/", "xl/embeddings/", "customui/")) for n in lower_names
        ),
    )

    for name, xml in parts.items():
        if _is_worksheet(name, xml):
            cells = _check_geometry(xml, limits)
            if cells is not None:
                package.plain_cells[name] = cells
    workbook = parts["xl/workbook.xml"]
    if len(_DEFINED_NAME_TAG.findall(workbook)) > limits.max_defined_names:
        raise _fail("too-many-names", limits)
    if len(_SHEET_TAG.findall(workbook)) > limits.max_sheets:
        raise _fail("too-many-sheets", limits)
    package.sheet_names = _sheet_names(workbook)
    return package


def _check_members(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Names, flags and declared sizes, before anything is decompressed."""
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if not _safe_member_name(name) or info.flag_bits & _UNSUPPORTED_FLAGS:
            raise _fail("unsafe-zip", limits)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _fail("unsafe-zip", limits)
        # Part names are case-insensitive (OPC); a duplicate means the checks
        # here and the reader could be looking at two different members.
        key = name.lower()
        if key in seen:
            raise _fail("unsafe-zip", limits)
        seen.add(key)

        size, packed = info.file_size, info.compress_size
        if _size_is_a_lie(info):
            raise _fail("zip-bomb", limits)
        if size > _RATIO_MIN_BYTES and size > limits.max_ratio * max(packed, 1):
            raise _fail("zip-bomb", limits)
        if size > limits.max_member_bytes:
            # Plain, well-compressing sheet data: a sheet far larger than a form.
            raise _fail("sheet-too-large" if _is_worksheet_name(name) else "zip-bomb", limits)
        total += size
        if total > limits.max_total_bytes:
            raise _fail("zip-bomb", limits)


_CONTROL_CHARS = re.compile(r"[\x00-\x1f]")


def _safe_member_name(name: str) -> bool:
    if not name or name.startswith("/") or "\\" in name or ":" in name:
        return False
    if _CONTROL_CHARS.search(name):
        return False
    return ".." not in name.split("/")


def _size_is_a_lie(info: zipfile.ZipInfo) -> bool:
    """Compressed data that cannot inflate to as little as the declared size.

    zipfile stops at the declared size and then reports a CRC error, so a bomb
    that understates its size would pass as merely damaged; deflate never
    expands input by more than about 1/8 (fixed Huffman codes), stored by 0.
    """
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size != info.file_size
    return info.compress_size > info.file_size + info.file_size // 8 + 64


def _zip_looks_like(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    if "word/document.xml" in names:
        return "word"
    if "ppt/presentation.xml" in names:
        return "powerpoint"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "mimetype" in names:
        try:
            with zf.open("mimetype") as f:
                if b"opendocument.spreadsheet" in f.read(100):
                    return "ods"
        except _DAMAGED:
            return None
    if "[Content_Types].xml" not in names:
        inner = (n.lower() for n in names)
        return "zip-of-workbooks" if any(n.endswith((".xlsx", ".xls", ".xlsm")) for n in inner) else "zip"
    return None


def _read_parts(data: bytes, infos: list[zipfile.ZipInfo], limits: Limits) -> dict[str, bytes]:
    """Read every member, bounded and CRC-checked; keep and scan the XML ones."""
    parts: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        try:
            content = _member(data, info)
        except _DAMAGED:
            raise _fail("truncated-file", limits) from None
        if len(content) > info.file_size:
            raise _fail("zip-bomb", limits)
        if len(content) < info.file_size or zlib.crc32(content) != info.CRC:
            raise _fail("truncated-file", limits)
        if not (info.filename.lower().endswith(XML_SUFFIXES) or _LOOKS_LIKE_XML.match(content)):
            continue
        _check_xml(content, limits)
        parts[info.filename] = content
    return parts


def _member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """A member's content (at most one byte more than declared) straight from the file's bytes,
    as zipfile would read it but without its per-member machinery: the local header must
    name the same member as the central directory."""
    at = info.header_offset
    header = data[at:at + 30]
    if len(header) < 30 or header[:4] != ZIP_MAGIC:
        raise zipfile.BadZipFile("bad local header")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    name = data[at + 30:at + 30 + name_length].decode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if name != info.orig_filename:
        raise zipfile.BadZipFile("local header names another member")
    start = at + 30 + name_length + extra_length
    raw = data[start:start + info.compress_size]
    if len(raw) < info.compress_size:
        raise EOFError("member cut short")
    if info.compress_type == zipfile.ZIP_STORED:
        return raw[:info.file_size + 1]
    return zlib.decompressobj(-15).decompress(raw, info.file_size + 1)


def _check_xml(content: bytes, limits: Limits) -> None:
    """Our byte scans only work on ASCII-compatible XML; Excel writes UTF-8."""
    if not content:
        return
    body = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    if not body.lstrip(b" \t\r\n").startswith(b"<"):
        raise _fail("xml-encoding", limits)  # UTF-16/32, EBCDIC, or not XML at all
    decl = _XML_DECL.match(body.lstrip(b" \t\r\n"))
    if decl and not _ASCII_COMPATIBLE.fullmatch(decl.group(1)):
        raise _fail("xml-encoding", limits)
    # `<!` never occurs in Excel's XML except comments and CDATA: skip the regex. A rare
    # character first: searching for it is much faster than for "<!" in XML.
    if b"!" in body and b"<!" in body and _DTD.search(body):
        raise _fail("xml-entities", limits)


# --- sheet geometry ----------------------------------------------------------------------

_WORKSHEET_DIRS = ("xl/worksheets/", "xl/dialogsheets/", "xl/macrosheets/")
_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"  # tags may carry any namespace prefix
# A whole attribute, so that `r="..."` inside another attribute's value (where
# even ">" is allowed) is never taken for the real one.
_ATTR = rb"""\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*')"""
# Every cell and row, with its plain r="B12" / r="12" when it has one (Excel
# always writes one): groups cell, letters, digits, row, row number.
_POSITIONED = re.compile(
    _PREFIX + rb"(?:(c)(?=[\s/>])(?:(?:" + _ATTR + rb""")*?\s+r\s*=\s*["']([A-Za-z]+)([0-9]+)["'])?"""
    rb"|(row)(?=[\s/>])(?:(?:" + _ATTR + rb""")*?\s+r\s*=\s*["']([0-9]+)["'])?)"""
)
_FAST_SCAN_MAX_TAGS = 100_000  # bounds the list findall builds (~20 MB)
# What Excel, LibreOffice and XlsxWriter write: r is the first attribute, no prefix. Groups:
# reference, column letters, row digits, the other attributes, the text of a lone <v> child,
# and otherwise how the body starts ("<f" for a formula, "<" for anything else; "" when the
# cell is empty or its body is a lone <v>).
PLAIN_CELL = re.compile(
    rb'<c r="(([A-Z]{1,3})([0-9]{1,7}))"([^>/]*)(?:/>|>(?:<v>([^<]*)</v></c>|(<f[ >/]|<)))'
)
_PLAIN_ROW = re.compile(rb'<row r="([0-9]{1,7})"')
# The end of a prefixed tag name (<x:c r=…>, </x:row>); a colon is rare in sheet data.
_PREFIXED_TAG = re.compile(rb":[A-Za-z_][\w.-]*[\s/>]")
_PLAIN_DIMENSION = re.compile(rb'<dimension ref="([A-Z0-9:$]*)"/>')
_DIMENSION = re.compile(_PREFIX + rb"dimension(?:" + _ATTR + rb""")*?\s+ref\s*=\s*["']([^"']*)["']""")
_SHEET_ELEMENT = re.compile(_PREFIX + rb"sheet((?:" + _ATTR + rb")*)\s*/?>")
_ROW_OR_CELL = re.compile(_PREFIX + rb"(row|c)((?:" + _ATTR + rb")*)\s*/?>")
_ATTRIBUTE = re.compile(rb"""([^\s=>/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CELL_REF = re.compile(rb"\$?([A-Za-z]+)\$?([0-9]+)")
_ROW_NUMBER = re.compile(rb"[0-9]+")
_CHAR_REF = re.compile(rb"&#(x?)([0-9A-Fa-f]{1,8});")


def _is_worksheet_name(name: str) -> bool:
    return name.lower().startswith(_WORKSHEET_DIRS) and name.lower().endswith(".xml")


def _is_worksheet(name: str, xml: bytes) -> bool:
    # Also any part holding sheet data, wherever workbook.xml.rels points to it.
    return _is_worksheet_name(name) or b"sheetData" in xml


def _check_geometry(xml: bytes, limits: Limits) -> list[tuple[bytes, ...]] | None:
    """Largest row and column and the cell count, from a scan of the raw bytes.

    Readers size their grids from these (one cell at XFD1048576 makes calamine
    ask for 512 GiB; openpyxl read_only trusts <dimension>), so all three count.
    Returns the cells when every one was written plainly (see PLAIN_CELL), else None.
    """
    plain = _PLAIN_DIMENSION.findall(xml)
    if len(plain) == 1 and xml.count(b"dimension") == 1:
        for corner in plain[0].split(b":"):
            _check_position(_cell_ref(corner, limits), limits)
    elif b"dimension" in xml:
        for dimension in _DIMENSION.findall(xml):
            for corner in _unescape(dimension).split(b":"):
                _check_position(_cell_ref(corner, limits), limits)
    # Rows and cells live in <sheetData>; the span from the first to the last
    # mention of it holds every sheetData element, and skips validations,
    # conditional formats and the like.
    start, end = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    if start >= 0:
        xml = xml[start:end]
    if xml.count(b"<") > _FAST_SCAN_MAX_TAGS:
        # A big sheet: count without building a list, stopping at the limit.
        _check_geometry_slowly(xml, limits)
        return None
    cells = _plain_geometry(xml, limits)
    if cells is not None:
        return cells
    found = _POSITIONED.findall(xml)
    if not found:
        return None
    cell_tags, letters, cell_rows, row_tags, row_numbers = zip(*found)
    cells = len(found) - cell_tags.count(b"")
    rows = len(found) - row_tags.count(b"")
    if cells > limits.max_cells or rows > limits.max_rows:
        raise _fail("sheet-too-large", limits)
    if letters.count(b"") != rows or row_numbers.count(b"") != cells:
        _check_geometry_slowly(xml, limits)  # some cell or row has no plain r
        return None
    # Every cell and row says plainly where it is: look at distinct values only.
    numbers = (set(cell_rows) | set(row_numbers)) - {b""}
    columns = {x.upper() for x in set(letters) - {b""}}
    if numbers:
        _check_position((max(_row(n, limits) for n in numbers), 0), limits)
    if columns:
        _check_position((0, max(_column(x, limits) for x in columns)), limits)
    return None


def _plain_geometry(xml: bytes, limits: Limits) -> list[tuple[bytes, ...]] | None:
    """The common case in one pass: every cell and row written plainly, r first. Trusted
    only when the counts prove nothing else is there (no other tag starting "<c" or "<row",
    no prefixed tag, no comment or processing instruction, no r elsewhere); None sends the
    sheet to the thorough scan."""
    # A rare character first: searching for it is much faster than for "<!" in XML.
    if (b"!" in xml and b"<!" in xml) or (b"?" in xml and b"<?" in xml) or _PREFIXED_TAG.search(xml):
        return None
    cells = PLAIN_CELL.findall(xml)
    rows = _PLAIN_ROW.findall(xml)
    if (len(cells) != xml.count(b"<c") or len(rows) != xml.count(b"<row")
            or xml.count(b" r=") != len(cells) + len(rows)):
        return None
    if len(cells) > limits.max_cells or len(rows) > limits.max_rows:
        raise _fail("sheet-too-large", limits)
    # The patterns allow at most 7 digits and 3 letters: int() and _column are safe here.
    numbers = set(rows)
    numbers.update([c[2] for c in cells])
    if numbers:
        _check_position((max(map(int, numbers)), 0), limits)
    letters = {c[1] for c in cells}
    if letters:
        _check_position((0, max(_column(x, limits) for x in letters)), limits)
    return cells


def _check_geometry_slowly(xml: bytes, limits: Limits) -> None:
    """Walk every row and cell; a cell or row without r follows the previous one."""
    row = col = cells = rows = 0
    for m in _ROW_OR_CELL.finditer(xml):
        tag = m.group(1)
        if tag == b"c":
            cells += 1
        else:
            rows += 1
        if cells > limits.max_cells or rows > limits.max_rows:
            raise _fail("sheet-too-large", limits)
        r = b""
        for attr in _ATTRIBUTE.finditer(m.group(2)):
            if attr.group(1) == b"r":
                r = _unescape(attr.group(2) if attr.group(2) is not None else attr.group(3))
        if tag == b"c":
            ref = _cell_ref(r, limits)
            if ref is None:
                col += 1
                ref = (row, col)
            col = ref[1]
            _check_position(ref, limits)
        else:
            row = _row(r, limits) if _ROW_NUMBER.fullmatch(r) else row + 1
            col = 0
            _check_position((row, 0), limits)


def _unescape(value: bytes) -> bytes:
    """Attribute value as an XML parser sees it: r="&#88;FD1" is XFD1."""
    if b"&" in value:
        value = _CHAR_REF.sub(_char, value)
    return value.strip()


def _char(m: re.Match) -> bytes:
    code = int(m.group(2), 16 if m.group(1) else 10)
    return bytes([code]) if code < 128 else b"?"  # only ASCII can make a cell reference


def _check_position(position: tuple[int, int] | None, limits: Limits) -> None:
    if position and (position[0] > limits.max_rows or position[1] > limits.max_cols):
        raise _fail("sheet-too-large", limits)


def _row(digits: bytes, limits: Limits) -> int:
    if len(digits) > 7:  # beyond row 1048576; and int() of 5000 digits raises
        raise _fail("sheet-too-large", limits)
    return int(digits)


def _column(letters: bytes, limits: Limits) -> int:
    if len(letters) > 3:  # beyond column XFD
        raise _fail("sheet-too-large", limits)
    return col_index(letters.decode("ascii")) + 1


def _cell_ref(ref: bytes, limits: Limits) -> tuple[int, int] | None:
    """(row, column) of an A1 reference such as B12 or $B$12; None if it is not one."""
    m = _CELL_REF.fullmatch(ref)
    if not m:
        return None
    return _row(m.group(2), limits), _column(m.group(1), limits)


def _sheet_names(workbook: bytes) -> tuple[str, ...]:
    """Sheet names in workbook order, from the <sheet> tags (faster than parsing)."""
    names = []
    for tag in _SHEET_ELEMENT.finditer(workbook):
        for attr in _ATTRIBUTE.finditer(tag.group(1)):
            if attr.group(1) == b"name":
                value = attr.group(2) if attr.group(2) is not None else attr.group(3)
                names.append(xml_text(value))
    return tuple(names)



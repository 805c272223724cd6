"""Recipe for the hostile corpus: odd and malicious files a unit might send back.

No binary is committed: every case is built from a small valid workbook that
this module makes with XlsxWriter (one sheet, a few numbers and Vietnamese
text, a defined name, a custom property), by rewriting zip members in Python.
Each case is a function whose docstring says what it is; `expect` is the code
`pipeline.collect.precheck` must raise, or "ok" for files it must accept.

    python tests/hostile/make_corpus.py DEST     # writes the files, prints a table

Optional packages make some cases more real: msoffcrypto-tool (a file really
encrypted the way Excel does it) and xlwt (a real .xls). Cases needing them
name the module in `requires` and are left out when it is missing; a
hand-built equivalent of each is always made.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import inspect
import io
import random
import re
import struct
import sys
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

# --- the registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One corpus file: how to build it and what precheck must say about it."""

    name: str
    filename: str
    expect: str  # an UnreadableFile code, or "ok"
    doc: str
    build: Callable[[Base], bytes]
    requires: str | None = None  # optional module the recipe imports
    attrs: dict = field(default_factory=dict)  # Package attributes expected when "ok"

    def available(self) -> bool:
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


CASES: dict[str, Case] = {}


def case(filename: str, expect: str, requires: str | None = None, **attrs):
    def register(build: Callable[[Base], bytes]) -> Callable[[Base], bytes]:
        name = build.__name__
        CASES[name] = Case(name, filename, expect, inspect.getdoc(build) or "", build, requires, attrs)
        return build

    return register


def make_corpus(dest: Path) -> dict[str, Path]:
    """Write every available case into `dest`; return case name -> file path."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    base = Base.make()
    paths: dict[str, Path] = {}
    for c in CASES.values():
        if not c.available():
            continue
        path = dest / c.filename
        path.write_bytes(c.build(base))
        paths[c.name] = path
    return paths


# --- the base workbook and zip helpers -------------------------------------------------

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
CONTENT_TYPES = "[Content_Types].xml"
CUSTOM = "docProps/custom.xml"


@dataclass(frozen=True)
class Base:
    """The valid workbook every case starts from, as bytes and as zip members."""

    data: bytes
    members: dict[str, bytes]

    @classmethod
    def make(cls) -> Base:
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"in_memory": True})
        wb.set_properties({"title": "Biểu mẫu thử", "created": dt.datetime(2024, 1, 1)})
        wb.set_custom_property("Mã đơn vị", "XA-001")
        ws = wb.add_worksheet("Biểu 1")
        ws.write_string(0, 0, "Chỉ tiêu")
        ws.write_string(0, 1, "Số liệu")
        rows = [("Số trẻ em dưới 6 tuổi", 120), ("Số trẻ em được tiêm chủng", 118), ("Số trẻ em suy dinh dưỡng", 7)]
        for r, (label, value) in enumerate(rows, start=1):
            ws.write_string(r, 0, label)
            ws.write_number(r, 1, value)
        wb.define_name("SoTreEm", "='Biểu 1'!$B$2")
        wb.close()
        data = buf.getvalue()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = {i.filename: zf.read(i) for i in zf.infolist()}
        return cls(data, members)

    def replace(self, **changes: bytes) -> dict[str, bytes]:
        """Members with some replaced; keys use __ for / (see `_key`)."""
        members = dict(self.members)
        members.update({_key(k): v for k, v in changes.items()})
        return members


def _key(name: str) -> str:
    return {"sheet": SHEET, "strings": STRINGS, "workbook": WORKBOOK, "rels": WORKBOOK_RELS,
            "content_types": CONTENT_TYPES, "custom": CUSTOM}.get(name, name)


def zip_bytes(members: dict[str, bytes] | Iterable[tuple[str, bytes]], level: int = 6) -> bytes:
    """A deflated zip of `members` (duplicates allowed when given as pairs)."""
    items = members.items() if isinstance(members, dict) else members
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is the point of one case
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
            for name, content in items:
                zf.writestr(name, content)
    return buf.getvalue()


@dataclass
class RawMember:
    """A zip member written byte by byte, so its headers can say anything."""

    name: str
    packed: bytes  # raw deflate stream (method 8) or the content (method 0)
    crc: int
    size: int
    method: int = 8
    flags: int = 0x800  # UTF-8 name
    declared_size: int | None = None  # a lie told in both local and central headers

    @classmethod
    def deflate(cls, name: str, content: bytes, **kw) -> RawMember:
        co = zlib.compressobj(6, zlib.DEFLATED, -15)
        return cls(name, co.compress(content) + co.flush(), zlib.crc32(content), len(content), **kw)


def raw_zip(members: Iterable[RawMember]) -> bytes:
    out, central, count = bytearray(), bytearray(), 0
    for m in members:
        name = m.name.encode("utf-8")
        size = m.size if m.declared_size is None else m.declared_size
        offset = len(out)
        common = (m.flags, m.method, 0, 0x21, m.crc, len(m.packed), size, len(name))  # 1980-01-01
        out += struct.pack("<IH" "HHHHIIIH" "H", 0x04034B50, 20, *common, 0) + name + m.packed
        central += struct.pack("<IHH" "HHHHIIIH" "HHHHII", 0x02014B50, 20, 20, *common, 0, 0, 0, 0, 0, offset) + name
        count += 1
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset, 0)
    return bytes(out)


def _raw_members(members: dict[str, bytes]) -> list[RawMember]:
    return [RawMember.deflate(name, content) for name, content in members.items()]


def _with_doctype(xml: bytes, dtd: bytes) -> bytes:
    """Insert a DOCTYPE right after the XML declaration."""
    decl_end = xml.index(b"?>") + 2
    return xml[:decl_end] + b"\n" + dtd + xml[decl_end:]


def _sub_once(pattern: bytes, repl: bytes | Callable[[re.Match], bytes], xml: bytes) -> bytes:
    """Replace the first match of `pattern` (DOTALL); `repl` bytes are literal."""
    new, n = re.subn(pattern, repl if callable(repl) else (lambda _: repl), xml, count=1, flags=re.DOTALL)
    assert n == 1, pattern
    return new


# --- ok: valid files under awkward names -------------------------------------------------


@case("base.xlsx", "ok", kind="xlsx")
def base(b: Base) -> bytes:
    """The valid base workbook as XlsxWriter wrote it."""
    return b.data


_VI_NAME = "Báo cáo xã Tân Hòa – quý 1 năm 2025"


@case(unicodedata.normalize("NFC", _VI_NAME) + ".xlsx", "ok")
def name_nfc(b: Base) -> bytes:
    """Vietnamese diacritics in the file name, precomposed (NFC), as Windows writes them."""
    return b.data


@case(unicodedata.normalize("NFD", _VI_NAME) + " (macOS).xlsx", "ok")
def name_nfd(b: Base) -> bytes:
    """The same name decomposed (NFD), as macOS mail clients often save it."""
    return b.data


@case("  bao cao   xa Tan Hoa  .xlsx", "ok")
def name_spaces(b: Base) -> bytes:
    """Leading, repeated and trailing spaces in the file name."""
    return b.data


def _long_name(chars: int = 200) -> str:
    stem = "Báo cáo tổng hợp trẻ em " + "x" * 300
    name = stem[: chars - len(".xlsx")] + ".xlsx"
    assert len(name) == chars and len(name.encode()) <= 255  # filesystem limit is in bytes
    return name


@case(_long_name(), "ok")
def name_long(b: Base) -> bytes:
    """A 200-character file name (with diacritics, under the 255-byte filesystem limit)."""
    return b.data


def _macro_members(b: Base) -> dict[str, bytes]:
    ct = b.members[CONTENT_TYPES]
    ct = ct.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    vba_type = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    ct = ct.replace(b"<Default ", vba_type + b"<Default ", 1)
    rels = b.members[WORKBOOK_RELS].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
        b' Target="vbaProject.bin"/></Relationships>',
    )
    fake_vba = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504) + b'Attribute VB_Name = "Module1"\r\nSub Auto_Open()\r\n'
    return b.replace(content_types=ct, rels=rels) | {"xl/vbaProject.bin": fake_vba}


@case("co_macro.xlsm", "ok", has_macros=True)
def xlsm(b: Base) -> bytes:
    """A .xlsm: macro-enabled main part and a (fake) xl/vbaProject.bin; read, never run."""
    return zip_bytes(_macro_members(b))


@case("co_macro_doi_ten.xlsx", "ok", has_macros=True)
def xlsm_renamed(b: Base) -> bytes:
    """The same .xlsm renamed .xlsx: the flag comes from the content, not the extension."""
    return zip_bytes(_macro_members(b))


@case("lien_ket_ngoai.xlsx", "ok", external_links=True)
def external_link(b: Base) -> bytes:
    """A link to another workbook (xl/externalLinks/), pointing at a local path."""
    link = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
    )
    link_rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLinkPath" Target="file:///C:/Users/Public/khac.xlsx" TargetMode="External"/></Relationships>'
    )
    return zip_bytes(b.members | {
        "xl/externalLinks/externalLink1.xml": link,
        "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
    })


@case("co_activex.xlsx", "ok", embedded_objects=True)
def activex(b: Base) -> bytes:
    """An ActiveX control part (xl/activeX/) with its binary."""
    ax = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        b'<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX"'
        b' ax:classid="{8BD21D40-EC42-11CE-9E0D-00AA006002F3}"'
        b' ax:persistence="persistStream"/>'
    )
    return zip_bytes(b.members | {"xl/activeX/activeX1.xml": ax, "xl/activeX/activeX1.bin": b"\x00" * 64})


# --- legacy .xls and encryption: OLE compound files ---------------------------------------


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (v3, 512-byte sectors) holding `streams`.

    Streams are padded with zeros to at least 4096 bytes so none lives in the
    mini stream; the directory is one sector (root + up to 3 streams), the FAT
    one sector.
    """
    assert len(streams) <= 3
    free, end, fat_sect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [fat_sect, end]
    body, entries = bytearray(), []
    order = sorted(streams, key=lambda n: (len(n), n.upper()))  # CFB name order
    for name in order:
        data = streams[name]
        padded = data + b"\x00" * (-len(data) % 512)
        padded += b"\x00" * max(0, 4096 - len(padded))
        start, count = len(fat), len(padded) // 512
        fat += [start + i + 1 for i in range(count - 1)] + [end]
        entries.append((name, 2, start, len(padded)))  # as Excel does: >= 4096, so no mini stream
        body += padded
    assert len(fat) <= 128
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, start: int, size: int, right: int, child: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        return struct.pack(
            "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, nostream, right, child, b"", 0, 0, 0, start, size
        )

    directory = entry("Root Entry", 5, end, 0, nostream, 1 if entries else nostream)
    for i, (name, kind, start, size) in enumerate(entries, start=1):
        directory += entry(name, kind, start, size, i + 1 if i < len(entries) else nostream, nostream)
    directory += b"\x00" * (512 - len(directory))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", bytes.fromhex("D0CF11E0A1B11AE1"), b"", 0x3E, 3, 0xFFFE, 9, 6, b"",
        0, 1, 1, 0, 4096, end, 0, end, 0,
    ) + struct.pack("<109I", 0, *([free] * 108))
    return header + struct.pack("<128I", *fat) + directory + bytes(body)


def _noise(n: int) -> bytes:
    """Random-looking but reproducible bytes."""
    return random.Random(n).randbytes(n)


def _biff(*records: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack("<HH", rid, len(payload)) + payload for rid, payload in records)


_BOF = (0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x2775, 0x07CD, 0, 0x0206))  # BIFF8 globals
_EOF = (0x000A, b"")


@case("cu_tu_lam.xls", "ok", kind="xls")
def xls_handmade(b: Base) -> bytes:
    """A minimal legacy .xls built by hand: OLE file whose Workbook stream is BOF, EOF."""
    return cfb({"Workbook": _biff(_BOF, _EOF)})


@case("co_mat_khau_tu_lam.xls", "encrypted-file")
def xls_encrypted_handmade(b: Base) -> bytes:
    """A .xls with "password to open", built by hand: BOF then an RC4 FILEPASS record."""
    filepass = (0x002F, struct.pack("<HHH", 1, 1, 1) + _noise(48))
    return cfb({"Workbook": _biff(_BOF, filepass, _EOF)})


def _xlwt_xls() -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Biểu 1")
    for r, (label, value) in enumerate([("Chỉ tiêu", "Số liệu"), ("Số trẻ em dưới 6 tuổi", 120)]):
        sheet.write(r, 0, label)
        sheet.write(r, 1, value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@case("cu_xlwt.xls", "ok", requires="xlwt", kind="xls")
def xls_real(b: Base) -> bytes:
    """A real legacy .xls written by xlwt (BIFF8); the reader, not precheck, opens it."""
    return _xlwt_xls()


@case("cu_doi_ten.xlsx", "ok", requires="xlwt", kind="xls")
def xls_renamed(b: Base) -> bytes:
    """The xlwt .xls renamed .xlsx: precheck goes by content, so kind is "xls"."""
    return _xlwt_xls()


@case("cu_tu_lam_doi_ten.xlsx", "ok", kind="xls")
def xls_handmade_renamed(b: Base) -> bytes:
    """The hand-built .xls renamed .xlsx (kept so the case exists without xlwt)."""
    return xls_handmade(b)


@case("co_mat_khau.xlsx", "encrypted-file", requires="msoffcrypto")
def encrypted_real(b: Base) -> bytes:
    """The base workbook really encrypted ("Encrypt with Password", agile) by msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(b.data)).encrypt("matkhau123", out)
    return out.getvalue()


@case("co_mat_khau_tu_lam.xlsx", "encrypted-file")
def encrypted_handmade(b: Base) -> bytes:
    """A hand-built OLE file with EncryptionInfo and EncryptedPackage streams (random bytes)."""
    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0"?><encryption/>'
    return cfb({"EncryptionInfo": info, "EncryptedPackage": struct.pack("<Q", 4000) + _noise(4096)})


@case("van_ban_word.xls", "not-a-workbook")
def word_ole_renamed(b: Base) -> bytes:
    """A legacy Word .doc (OLE with a WordDocument stream) renamed .xls."""
    return cfb({"WordDocument": b"\xec\xa5" + _noise(1000)})


# --- not workbooks at all -----------------------------------------------------------------


@case("rong.xlsx", "empty-file")
def empty(b: Base) -> bytes:
    """An empty file (0 bytes), e.g. an attachment that failed to save."""
    return b""


@case("qua_lon.xlsx", "file-too-large")
def too_large(b: Base) -> bytes:
    """10 MiB + 1 byte (zip magic, then zeros): rejected from its size before it is read."""
    return b"PK\x03\x04" + bytes(10 * 1024 * 1024 - 3)


@case("so_lieu.csv.xlsx", "not-a-workbook")
def csv_renamed(b: Base) -> bytes:
    """A UTF-8 CSV renamed .xlsx."""
    return "\ufeffChỉ tiêu,Số liệu\nSố trẻ em dưới 6 tuổi,120\nSố trẻ em được tiêm chủng,118\n".encode()


@case("bao_cao.pdf.xlsx", "not-a-workbook")
def pdf_renamed(b: Base) -> bytes:
    """A tiny valid-looking PDF renamed .xlsx."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


@case("bao_cao.docx.xlsx", "not-a-workbook")
def docx_renamed(b: Base) -> bytes:
    """A minimal .docx (zip without xl/workbook.xml) renamed .xlsx."""
    return zip_bytes({
        CONTENT_TYPES: b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
        b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
        'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Báo cáo</w:t></w:r></w:p>'
        "</w:body></w:document>".encode(),
    })


@case("bang_tinh_web.xls", "not-a-workbook")
def html_renamed(b: Base) -> bytes:
    """An HTML table saved as .xls, as many web systems export it."""
    return (
        '<html><head><meta charset="utf-8"></head><body><table>'
        "<tr><td>Chỉ tiêu</td><td>Số liệu</td></tr><tr><td>Số trẻ em dưới 6 tuổi</td><td>120</td></tr>"
        "</table></body></html>"
    ).encode()


@case("anh_chup.xlsx", "not-a-workbook")
def photo_renamed(b: Base) -> bytes:
    """A PNG (a photo of the paper form) renamed .xlsx."""
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sIIBBBBB", 13, b"IHDR", 1, 1, 8, 2, 0, 0, 0) + b"\x00" * 16


# --- damaged zips -----------------------------------------------------------------------


@case("cat_doi.xlsx", "truncated-file")
def truncated(b: Base) -> bytes:
    """The base workbook cut in the middle (an unfinished download): no central directory."""
    return b.data[: len(b.data) // 2]


@case("hong_du_lieu.xlsx", "truncated-file")
def corrupt_member(b: Base) -> bytes:
    """Bytes flipped inside the sheet's compressed data: a CRC or inflate error."""
    data = bytearray(b.data)
    with zipfile.ZipFile(io.BytesIO(b.data)) as zf:
        info = zf.getinfo(SHEET)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    middle = start + info.compress_size // 2
    for i in range(middle, middle + 8):
        data[i] ^= 0x55
    return bytes(data)


# --- zip tricks -----------------------------------------------------------------------------


@case("zip_slip.xlsx", "unsafe-zip")
def zip_slip(b: Base) -> bytes:
    """A member named ../evil.txt (path traversal if anything ever extracts the zip)."""
    return zip_bytes(b.members | {"../evil.txt": b"evil"})


@case("zip_tuyet_doi.xlsx", "unsafe-zip")
def zip_absolute(b: Base) -> bytes:
    """A member with an absolute path, /tmp/evil.txt."""
    return raw_zip(_raw_members(b.members | {"/tmp/evil.txt": b"evil"}))


@case("zip_gach_nguoc.xlsx", "unsafe-zip")
def zip_backslash(b: Base) -> bytes:
    """A member named ..\\evil.txt: a traversal on Windows."""
    return raw_zip(_raw_members(b.members | {"..\\evil.txt": b"evil"}))


@case("zip_trung_ten.xlsx", "unsafe-zip")
def zip_duplicate(b: Base) -> bytes:
    """Two members named xl/worksheets/sheet1.xml: checker and reader may see different ones."""
    empty_sheet = _sub_once(rb"<sheetData>.*</sheetData>", b"<sheetData/>", b.members[SHEET])
    return zip_bytes(list(b.members.items()) + [(SHEET, empty_sheet)])


@case("zip_ma_hoa.xlsx", "unsafe-zip")
def zip_encrypted_member(b: Base) -> bytes:
    """A member with the zip 'encrypted' flag (traditional PKWARE encryption)."""
    members = _raw_members(b.members)
    for m in members:
        if m.name == SHEET:
            m.flags |= 0x1
    return raw_zip(members)


@case("qua_nhieu_thanh_phan.xlsx", "too-many-parts")
def many_parts(b: Base) -> bytes:
    """10,000 real sheet parts."""
    extra = ((f"xl/worksheets/sheet{i}.xml", b.members[SHEET]) for i in range(2, 10_002))
    return zip_bytes(list(b.members.items()) + list(extra), level=1)


# --- zip bombs --------------------------------------------------------------------------------

_BOMB_BYTES = 2 * 1024**3  # 2 GiB of whitespace
_CHUNK = 1024**2


def _whitespace_sheet(b: Base, declared_size: int | None = None) -> RawMember:
    """The sheet with 2 GiB of spaces before </worksheet>, deflated in ~2 MB.

    After Z_FULL_FLUSH the compressor forgets its window, so one compressed
    1 MiB chunk of spaces can be repeated instead of deflating 2 GiB.
    """
    xml = b.members[SHEET]
    cut = xml.rindex(b"</worksheet>")
    head, tail = xml[:cut], xml[cut:]
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed_head = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    chunk = b" " * _CHUNK
    packed_chunk = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    packed_tail = co.compress(tail) + co.flush()
    count = _BOMB_BYTES // _CHUNK
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    packed = packed_head + packed_chunk * count + packed_tail
    return RawMember(SHEET, packed, crc, len(head) + _BOMB_BYTES + len(tail), declared_size=declared_size)


def _with_member(b: Base, member: RawMember) -> bytes:
    members = [member if m.name == member.name else m for m in _raw_members(b.members)]
    return raw_zip(members)


@case("bom_zip.xlsx", "zip-bomb")
def bomb_whitespace(b: Base) -> bytes:
    """Zip bomb: the sheet inflates to 2 GiB of whitespace (~2 MB on disk, ~1000:1)."""
    return _with_member(b, _whitespace_sheet(b))


@case("bom_zip_noi_doi.xlsx", "zip-bomb")
def bomb_lying_size(b: Base) -> bytes:
    """The same bomb whose local and central headers both claim the sheet is 9 KB.

    (zipfile reads sizes from the central directory only, so a lie told in the
    local header alone would not be seen by it; calamine reads both.)
    """
    return _with_member(b, _whitespace_sheet(b, declared_size=9 * 1024))


# --- XML entity attacks --------------------------------------------------------------------

_LAUGHS = b"<!DOCTYPE lolz [<!ENTITY lol \"lol\">" + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%s;" % (b"" if i == 1 else b"%d" % (i - 1))) * 10) for i in range(1, 10)
) + b"]>"


@case("bom_xml_sharedstrings.xlsx", "xml-entities")
def laughs_shared_strings(b: Base) -> bytes:
    """Billion laughs (10^9 'lol') in xl/sharedStrings.xml."""
    xml = _sub_once(rb"<t>[^<]*</t>", b"<t>&lol9;</t>", _with_doctype(b.members[STRINGS], _LAUGHS))
    return zip_bytes(b.replace(strings=xml))


@case("bom_xml_sheet.xlsx", "xml-entities")
def laughs_sheet(b: Base) -> bytes:
    """Billion laughs in a worksheet cell (calamine silently drops that cell)."""
    xml = _sub_once(rb"<v>120</v>", b"<v>&lol9;</v>", _with_doctype(b.members[SHEET], _LAUGHS))
    return zip_bytes(b.replace(sheet=xml))


@case("bom_xml_workbook.xlsx", "xml-entities")
def laughs_workbook(b: Base) -> bytes:
    """Billion laughs in xl/workbook.xml, as the defined name's formula."""
    xml = _with_doctype(b.members[WORKBOOK], _LAUGHS)
    xml = _sub_once(rb"(<definedName [^>]*>)[^<]*", lambda m: m.group(1) + b"&lol9;", xml)
    return zip_bytes(b.replace(workbook=xml))


@case("bom_xml_custom.xlsx", "xml-entities")
def laughs_custom_properties(b: Base) -> bytes:
    """Billion laughs in docProps/custom.xml (calamine ignores the part; a metadata reader does not)."""
    xml = _sub_once(rb"<vt:lpwstr>[^<]*</vt:lpwstr>", b"<vt:lpwstr>&lol9;</vt:lpwstr>",
                    _with_doctype(b.members[CUSTOM], _LAUGHS))
    return zip_bytes(b.replace(custom=xml))


@case("bom_xml_bac_hai.xlsx", "xml-entities")
def quadratic_blowup(b: Base) -> bytes:
    """Quadratic blowup: one 50,000-character entity used 50,000 times (2.5 GB of text)."""
    dtd = b'<!DOCTYPE q [<!ENTITY a "' + b"a" * 50_000 + b'">]>'
    xml = _sub_once(rb"<t>[^<]*</t>", b"<t>" + b"&a;" * 50_000 + b"</t>", _with_doctype(b.members[STRINGS], dtd))
    return zip_bytes(b.replace(strings=xml))


@case("xxe.xlsx", "xml-entities")
def xxe(b: Base) -> bytes:
    """XXE: an external entity reading file:///etc/hostname into a shared string."""
    dtd = b'<!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    xml = _sub_once(rb"<t>[^<]*</t>", b"<t>&x;</t>", _with_doctype(b.members[STRINGS], dtd))
    return zip_bytes(b.replace(strings=xml))


@case("bom_xml_utf16.xlsx", "xml-encoding")
def laughs_utf16(b: Base) -> bytes:
    """Billion laughs in sharedStrings encoded as UTF-16, where a byte search for <!DOCTYPE fails."""
    xml = _sub_once(rb"<t>[^<]*</t>", b"<t>&lol9;</t>", _with_doctype(b.members[STRINGS], _LAUGHS))
    xml = xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode("utf-8").encode("utf-16")
    return zip_bytes(b.replace(strings=xml))


@case("bom_xml_gia_anh.xlsx", "xml-entities")
def laughs_disguised(b: Base) -> bytes:
    """Billion laughs in a sheet stored as xl/media/image1.png, which workbook.xml.rels points to."""
    xml = _sub_once(rb"<v>120</v>", b"<v>&lol9;</v>", _with_doctype(b.members[SHEET], _LAUGHS))
    members = dict(b.members)
    del members[SHEET]
    members["xl/media/image1.png"] = xml
    members[WORKBOOK_RELS] = members[WORKBOOK_RELS].replace(b"worksheets/sheet1.xml", b"media/image1.png")
    return zip_bytes(members)


# --- sheet geometry and workbook size -------------------------------------------------------


@case("trieu_dong.xlsx", "sheet-too-large")
def million_rows(b: Base) -> bytes:
    """A sheet with 1,000,000 rows of one text cell (~55 MB of XML, ~5 MB on disk, 11:1), streamed into the zip."""
    xml = b.members[SHEET]
    start = xml.index(b"<sheetData>") + len(b"<sheetData>")
    end = xml.index(b"</sheetData>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, content in b.members.items():
            if name != SHEET:
                zf.writestr(name, content)
                continue
            info = zipfile.ZipInfo(SHEET)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as f:
                f.write(xml[:start].replace(b'ref="A1:B4"', b'ref="A1:B1000000"'))
                row = b'<row r="%d"><c r="A%d" t="s"><v>1</v></c></row>'
                for first in range(1, 1_000_001, 10_000):
                    f.write(b"".join(row % (i, i) for i in range(first, first + 10_000)))
                f.write(xml[end:])
    return buf.getvalue()


@case("nhieu_dong.xlsx", "sheet-too-large")
def rows_20k(b: Base) -> bytes:
    """20,000 small rows (~1 MB of XML): caught by the geometry scan, not by zip sizes."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(5, 20_005))
    xml = b.members[SHEET].replace(b"</sheetData>", rows + b"</sheetData>")
    return zip_bytes(b.replace(sheet=xml))


@case("o_xa_nhat.xlsx", "sheet-too-large")
def far_cell(b: Base) -> bytes:
    """One extra cell at XFD1048576 (file ~7 KB); <dimension> still says A1:B4."""
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    xml = b.members[SHEET].replace(b"</sheetData>", far + b"</sheetData>")
    return zip_bytes(b.replace(sheet=xml))


@case("vung_xa_nhat.xlsx", "sheet-too-large")
def far_dimension(b: Base) -> bytes:
    """Only <dimension ref="A1:XFD1048576">: readers that size their grid from it blow up."""
    xml = _sub_once(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', b.members[SHEET])
    return zip_bytes(b.replace(sheet=xml))


@case("hang_rong.xlsx", "sheet-too-large")
def wide_row_without_refs(b: Base) -> bytes:
    """A row of 500 cells with no r attribute (positions implied), so column 500."""
    row = b'<row r="5">' + b"<c><v>1</v></c>" * 500 + b"</row>"
    xml = b.members[SHEET].replace(b"</sheetData>", row + b"</sheetData>")
    return zip_bytes(b.replace(sheet=xml))


@case("muoi_nghin_trang.xlsx", "too-many-sheets")
def many_sheets(b: Base) -> bytes:
    """workbook.xml lists 10,000 sheets (all pointing at the one sheet part)."""
    sheets = b"".join(b'<sheet name="Trang %d" sheetId="%d" r:id="rIdS%d"/>' % (i, i, i) for i in range(1, 10_001))
    workbook = _sub_once(rb"<sheets>.*</sheets>", b"<sheets>" + sheets + b"</sheets>", b.members[WORKBOOK])
    rels = b"".join(
        b'<Relationship Id="rIdS%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'worksheet" Target="worksheets/sheet1.xml"/>' % i for i in range(1, 10_001)
    )
    rels = b.members[WORKBOOK_RELS].replace(b"</Relationships>", rels + b"</Relationships>")
    return zip_bytes(b.replace(workbook=workbook, rels=rels))


@case("muoi_nghin_ten.xlsx", "too-many-names")
def many_names(b: Base) -> bytes:
    """workbook.xml with 10,000 defined names."""
    names = b"".join(b"<definedName name=\"Ten%d\">'Bi\xe1\xbb\x83u 1'!$A$1</definedName>" % i for i in range(10_000))
    workbook = _sub_once(rb"<definedNames>", b"<definedNames>" + names, b.members[WORKBOOK])
    return zip_bytes(b.replace(workbook=workbook))


# --- command line ------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/hostile/make_corpus.py DEST", file=sys.stderr)
        return 2
    paths = make_corpus(Path(argv[0]))
    for name, c in CASES.items():
        where = paths[name].name if name in paths else f"(skipped: needs {c.requires})"
        print(f"{c.expect:16} {name:26} {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

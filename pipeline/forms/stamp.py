"""Forms stamped from their shape: how thousands of forms are written in seconds.

The forms of one year differ little. Every commune of one area gets the same sheets, rows,
formulas, validations, names and print set-up; what is its own is its name and code (in the
document properties, the instructions, each sheet's heading and the `_meta` sheet) and last
year's values beside the input cells. A `Stamper` has the TemplateWriter build each distinct
shape once (`TemplateWriter.shape_key`), with placeholders for the name and code and no
values from last year. Every part of that workbook that no unit changes is kept compressed
once; in the few parts that hold a unit's own text, the text around it is kept compressed
too, in pieces that end on a byte boundary (a deflate "sync flush"), and a unit's copy puts
its own text between them. Only a sheet holding last year's values is compressed again for
each unit, and only from its first such cell to its last.

Inside the zip a stamped form is what the TemplateWriter writes for the unit, part for part,
except that the words «Có»/«Không» of a yes/no value from last year go at the end of the
shared strings rather than where XlsxWriter would have put them (the cells read the same).
What the stamp could not reproduce exactly is written by the TemplateWriter itself: a name or
code with control characters or spaces at its ends, a value from last year that is not a
finite number, wording that does more with the unit's name than print it."""

from __future__ import annotations

import dataclasses
import io
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

import jinja2
from jinja2 import nodes

from pipeline.config.roster import Unit

# Placeholders for the unit's name and code in a shape (private-use characters: no name has them).
NAME, CODE = "\ue000tên\ue001", "\ue000mã\ue001"
# Where a unit's copy puts more of its own: the shared strings' counts, the strings it adds,
# the rows of a sheet that hold last year's values.
SST_TAG, SST_EXTRA, BODY = "\ue000sst\ue001", "\ue000thêm\ue001", "\ue000thân\ue001"
_TOKEN = re.compile(f"({NAME}|{CODE})")
# The parts that may hold the name and code; they are text escaped the same way.
TEXT_PARTS = ("xl/sharedStrings.xml", "docProps/core.xml", "docProps/custom.xml")
SHARED_STRINGS = "xl/sharedStrings.xml"
# What XlsxWriter would write differently around a name or code (escapes, xml:space, rich text).
_NOT_PLAIN = re.compile(r"[\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_|^\s|\s$|^<r>")
_SST_TAG = re.compile(r'<sst xmlns="([^"]*)" count="(\d+)" uniqueCount="(\d+)">')
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_YES, _NO = "Có", "Không"
# A unit's own text longer than this is compressed; shorter, it goes in as it is (a stored block).
_STORE_MAX = 512
# A unit's own rows are compressed fast (zlib's level 1: a third of the time of the default
# level, a sheet a fifth larger); what every unit shares, once, as zipfile compresses it.
_OWN_LEVEL, _SHARED_LEVEL = 1, zlib.Z_DEFAULT_COMPRESSION
_LAST_BLOCK = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15).flush()  # empty, final

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


@dataclass(frozen=True)
class Member:
    """One part of the zip: its deflated bytes, CRC and size, with the header fields of the
    shape's copy (a stamped zip is laid out as XlsxWriter lays it out)."""

    info: zipfile.ZipInfo
    crc: int
    size: int
    data: bytes

    @classmethod
    def deflate(cls, info: zipfile.ZipInfo, raw: bytes) -> Member:
        """Compressed as zipfile compresses it."""
        c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        return cls(info, zlib.crc32(raw), len(raw), c.compress(raw) + c.flush())


def _flushed(raw: bytes, level: int) -> bytes:
    """`raw` deflated on its own, ending on a byte boundary and not final: pieces made so
    follow one another in one deflate stream. A short piece is stored as it is."""
    if len(raw) <= _STORE_MAX:
        return b"\x00" + struct.pack("<HH", len(raw), 0xFFFF ^ len(raw)) + raw
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(raw) + c.flush(zlib.Z_SYNC_FLUSH)


class Spliced:
    """A part made of fixed text, compressed once, and a unit's own pieces between."""

    def __init__(self, info: zipfile.ZipInfo, pieces: list[tuple[bool, str]]):
        self.info = info
        # (placeholder, None) or (raw bytes, their deflated form)
        self.pieces = [(text, None) if own else (text.encode("utf-8"), _flushed(text.encode("utf-8"), _SHARED_LEVEL))
                       for own, text in pieces if own or text]

    def member(self, values: dict[str, str]) -> Member:
        crc, size, out = 0, 0, []
        for raw, packed in self.pieces:
            if packed is None:
                raw = values[raw].encode("utf-8")
                if not raw:
                    continue
                packed = _flushed(raw, _OWN_LEVEL)
            crc, size = zlib.crc32(raw, crc), size + len(raw)
            out.append(packed)
        out.append(_LAST_BLOCK)
        return Member(self.info, crc, size, b"".join(out))


def zip_bytes(members: list[Member]) -> bytes:
    """The zip of `members`, in order, as zipfile writes it to a seekable file."""
    out, central, offset = [], [], 0
    for m in members:
        i, name = m.info, m.info.filename.encode("ascii")
        y, mo, d, h, mi, s = i.date_time
        date, time = (y - 1980) << 9 | mo << 5 | d, h << 11 | mi << 5 | s // 2
        head = _LOCAL.pack(b"PK\x03\x04", i.extract_version, i.reserved, i.flag_bits, i.compress_type, time, date,
                           m.crc, len(m.data), m.size, len(name), 0)
        central.append(_CENTRAL.pack(b"PK\x01\x02", i.create_version, i.create_system, i.extract_version, i.reserved,
                                     i.flag_bits, i.compress_type, time, date, m.crc, len(m.data), m.size, len(name),
                                     0, 0, 0, i.internal_attr, i.external_attr, offset) + name)
        out += (head, name, m.data)
        offset += len(head) + len(name) + len(m.data)
    directory = b"".join(central)
    out += (directory, _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), offset, 0))
    return b"".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> bool:
    """Whether XlsxWriter writes `text` in a part only escaping & < > (what the stamp does)."""
    return isinstance(text, str) and not _NOT_PLAIN.search(text)


def prints_plainly(template: str, names: tuple[str, ...] = ("unit_name", "unit_code")) -> bool:
    """Whether a wording template only prints `names` as they are ({{ unit_name }}), so that
    a placeholder rendered in their place can be replaced by the unit's own afterwards."""
    tree = jinja2.Environment().parse(str(template))
    used = [n for n in tree.find_all(nodes.Name) if n.name in names]
    printed = [n for out in tree.find_all(nodes.Output) for n in out.nodes
               if isinstance(n, nodes.Name) and n.name in names]
    return len(used) == len(printed)


@dataclass(frozen=True)
class _Slot:
    """The cell of last year's value of a field, blank in the shape."""

    ref: str
    field: object


class _Sheet:
    """A sheet with cells for last year's values: its rows from the first such cell to the
    last are written again for a unit that has values there."""

    def __init__(self, info: zipfile.ZipInfo, text: str, slots: list[_Slot], blank_style: int):
        self.blank = {s.ref: f'<c r="{s.ref}" s="{blank_style}"/>' for s in slots}
        cut = sorted(((text.find(self.blank[s.ref]), s) for s in slots), key=lambda c: c[0])
        # Each cell must be there once, blank, in the shape; otherwise the shape is not stamped.
        self.ok = bool(cut) and cut[0][0] >= 0 and len({at for at, _ in cut}) == len(cut)
        cut = cut if self.ok else []
        first = start = cut[0][0] if cut else 0
        self.body: list = []  # the text between the cells, and the cells (`_Slot`)
        for at, slot in cut:
            self.body += (text[start:at], slot)
            start = at + len(self.blank[slot.ref])
        self.part = Spliced(info, [(False, text[:first]), (True, BODY), (False, text[start:])])
        self.slots = [slot for _, slot in cut]

    def member(self, cells: dict[str, str]) -> Member:
        body = "".join([cells.get(p.ref, self.blank[p.ref]) if isinstance(p, _Slot) else p for p in self.body])
        return self.part.member({BODY: body})


class Shape:
    """One form shape: its parts, compressed once, and where a unit's own text and values go."""

    def __init__(self, writer, unit: Unit):
        placeholder = dataclasses.replace(unit, name=NAME, code=CODE)
        data, prev_cells, self.styles = writer.render_shape(unit, placeholder)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            parts = {i.filename: z.read(i).decode("utf-8") for i in infos}
        self.members = [Member.deflate(i, parts[i.filename].encode("utf-8")) for i in infos]
        self.stampable = all(i.filename in TEXT_PARTS or not _TOKEN.search(parts[i.filename]) for i in infos)
        self.texts = {pos: Spliced(i, self._pieces(parts[i.filename])) for pos, i in enumerate(infos)
                      if i.filename in TEXT_PARTS}
        by_part = self._slots(parts, prev_cells)
        self.sheets = {pos: _Sheet(i, parts[i.filename], by_part[i.filename], self.styles["number"])
                       for pos, i in enumerate(infos) if i.filename in by_part}
        self.stampable &= all(s.ok for s in self.sheets.values())
        sst = parts.get(SHARED_STRINGS, "")
        tag = _SST_TAG.search(sst)
        self.stampable &= tag is not None
        self.sst = (tag.group(1), int(tag.group(2)), int(tag.group(3))) if tag else ("", 0, 0)
        entries = re.findall(r"<si>(.*?)</si>", sst, re.S)
        self.strings = {w: entries.index(f"<t>{w}</t>") for w in (_YES, _NO) if f"<t>{w}</t>" in entries}

    @staticmethod
    def _pieces(text: str) -> list[tuple[bool, str]]:
        """A text part cut at the placeholders; the shared strings also at their counts and end."""
        tag = _SST_TAG.search(text)
        if tag is not None:
            end = text.rindex("</sst>")
            return (Shape._pieces(text[:tag.start()]) + [(True, SST_TAG)] + Shape._pieces(text[tag.end():end])
                    + [(True, SST_EXTRA), (False, text[end:])])
        return [(n % 2 == 1, piece) for n, piece in enumerate(_TOKEN.split(text))]

    @staticmethod
    def _slots(parts: dict[str, str], prev_cells: list) -> dict[str, list[_Slot]]:
        """The cells for last year's values, by the part of their sheet."""
        book = ElementTree.fromstring(parts["xl/workbook.xml"])
        rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
        target = {r.get("Id"): r.get("Target") for r in rels}
        part_of = {s.get("name"): "xl/" + target[s.get(_REL_NS)] for s in book.iter(_MAIN_NS + "sheet")}
        out: dict[str, list[_Slot]] = {}
        for sheet, row, col, f in prev_cells:
            out.setdefault(part_of[sheet], []).append(_Slot(_cell_ref(row, col), f))
        return out

    def can_stamp(self, unit: Unit, prev: dict) -> bool:
        if not (self.stampable and plain(unit.name) and plain(unit.code)):
            return False
        return all(not isinstance(v, float) or math.isfinite(v) for v in prev.values())

    def stamp(self, unit: Unit, prev: dict) -> bytes:
        """The unit's workbook."""
        members = list(self.members)
        extra: list[str] = []  # strings added after the shape's (yes/no values from last year)
        used = 0  # cells added that refer to a shared string
        for pos, sheet in self.sheets.items() if prev else ():
            cells = {}
            for slot in sheet.slots:
                xml, is_text = self._value_cell(slot, prev.get(slot.field.code), extra)
                if xml is not None:
                    cells[slot.ref] = xml
                    used += is_text
            if cells:
                members[pos] = sheet.member(cells)
        ns, count, unique = self.sst
        values = {NAME: _escape(unit.name), CODE: _escape(unit.code),
                  SST_TAG: f'<sst xmlns="{ns}" count="{count + used}" uniqueCount="{unique + len(extra)}">',
                  SST_EXTRA: "".join(f"<si><t>{w}</t></si>" for w in extra)}
        for pos, part in self.texts.items():
            members[pos] = part.member(values)
        return zip_bytes(members)

    def _value_cell(self, slot: _Slot, p, extra: list[str]) -> tuple[str | None, bool]:
        """The cell of last year's value as the TemplateWriter writes it (None: left blank),
        and whether it refers to a shared string."""
        if slot.field.type == "yes_no" and p is not None:
            word = _YES if p else _NO
            if word in self.strings:
                index = self.strings[word]
            else:
                if word not in extra:
                    extra.append(word)
                index = self.sst[2] + extra.index(word)
            return f'<c r="{slot.ref}" s="{self.styles["text"]}" t="s"><v>{index}</v></c>', True
        if isinstance(p, (int, float)):
            return f'<c r="{slot.ref}" s="{self.styles["number"]}"><v>{p:.16G}</v></c>', False
        return None, False


def _cell_ref(row: int, col: int) -> str:
    name, col = "", col + 1
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return f"{name}{row + 1}"


class Stamper:
    """Writes each unit's form by stamping its shape (see the module's docstring); hands the
    TemplateWriter what a stamp would not reproduce exactly."""

    def __init__(self, writer):
        self.writer = writer
        self.shapes: dict[tuple, Shape] = {}
        blocks = writer.w["instructions"]
        wording = [b["heading"] for b in blocks] + [line for b in blocks for line in b["lines"]]
        self.enabled = all(prints_plainly(t) for t in wording)

    def render(self, unit: Unit, previous: dict | None = None) -> bytes:
        prev = previous or {}
        if not self.enabled:
            return self.writer.render(unit, prev)
        key = self.writer.shape_key(unit)
        shape = self.shapes.get(key)
        if shape is None:
            shape = self.shapes[key] = Shape(self.writer, unit)
        if not shape.can_stamp(unit, prev):
            return self.writer.render(unit, prev)
        return shape.stamp(unit, prev)

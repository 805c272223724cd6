"""Hostile input. Every workbook comes from outside by e-mail or chat app, so every
file is untrusted: nothing it holds may crash or stall a run, escape the workspace, reach the
district's outputs as a live formula, link or template code, or leak into another unit's copy.

One inbox holds the structural corpus (tests/hostile/make_corpus.py: zip bombs, entity
attacks, huge sheets, renamed files...) and the cases below, each built from a real generated
template filled the way a unit fills it. The real command line then runs collect, collect
again, merge and report on it, in subprocesses with their time and memory measured; the tests
read what they left behind.

    .venv/bin/pytest tests/test_hostile.py -s    # -s shows the figures for the README
"""

from __future__ import annotations

import csv
import functools
import hashlib
import html
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import openpyxl
import pytest

from conftest import COMMUNE_VALUES, VIETNAMESE, YEAR, corpus_copy, fill, load_helper
from pipeline.collect.feedback import FEEDBACK_SHEET, template_formula
from pipeline.store.db import Store
from pipeline.store.submissions import counted_values
from pipeline.config.workspace import Workspace, init_workspace

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links, byte file names and wait4 are POSIX")

HERE = Path(__file__).parent
REPO = HERE.parent
RECEIVED = datetime(2024, 11, 15, 9, 0)
# Budgets for the whole hostile inbox (about 80 files): the reader's own limits are 30 s and
# 1.5 GB per file, so a run that stays far below these has stopped every file in time.
RUN_SECONDS = 60
RUN_MEMORY_MB = 1024


corpus = load_helper("hostile_make_corpus", "hostile/make_corpus.py")

# What units type where a number or a narrative belongs: each as text and as a real formula.
HYPERLINK = '=HYPERLINK("http://x","bấm")'
DDE = "=cmd|' /C calc'!A0"
PAYLOADS = [HYPERLINK, DDE, "@SUM(1+1)", "+1+1", "-2+3"]
TEMPLATE_CODE = "<w:p>Tôi & bạn {{ x }} {% raw %}{{ y }}{% endraw %} {_{ z }_} </w:t></w:r></w:p>"
# A formula body from unit text must never reach an output's <f> element.
FORMULA_MARKERS = ("HYPERLINK", "cmd|", "SUM(1+1)", "1+1", "2+3", "http://x")
# A long unit text: messages may quote at most one cell, cut short.
SECRET = "BÍ MẬT " + "0123456789abcdef" * 300
SECRET_RUN = "0123456789abcdef" * 3  # more than the 40 characters a message may quote


# --- building the cases -----------------------------------------------------------------------------


@dataclass
class Ctx:
    templates: dict[str, Path]
    inbox: Path
    outside: Path
    scratch: Path


@dataclass(frozen=True)
class Case:
    """One hostile file (or link) made from a real template, and what collect must do with it."""

    name: str
    doc: str
    build: Callable[[Ctx], None]
    paths: tuple[str, ...]  # inbox-relative names it creates
    outcome: str  # a submission status, or "skipped"
    codes: tuple[str, ...] = ()  # the issue codes (sorted), or the skip code
    unit: str | None = None
    values: dict = field(default_factory=dict)  # field -> value (number) or text stored


CASES: dict[str, Case] = {}


def case(paths, outcome, codes=(), unit=None, values=None):
    paths = (paths,) if isinstance(paths, str) else tuple(paths)

    def register(build):
        CASES[build.__name__] = Case(build.__name__, (build.__doc__ or "").strip(), build, paths, outcome,
                                     tuple(sorted(codes)), unit, values or {})
        return build

    return register


@functools.lru_cache(maxsize=None)
def _names(template: Path) -> frozenset[str]:
    return frozenset(openpyxl.load_workbook(template).defined_names)


@functools.lru_cache(maxsize=None)
def _where(template: Path, name: str) -> tuple[str, str]:
    (sheet, ref), = openpyxl.load_workbook(template).defined_names[name].destinations
    return sheet, ref.replace("$", "")


def values_for(ctx: Ctx, unit: str, **over) -> dict:
    """The consistent commune figures, cut to the fields of the unit's own form."""
    names = _names(ctx.templates[unit])
    return {k: v for k, v in dict(COMMUNE_VALUES, **over).items() if k in names}


def filled(ctx: Ctx, unit: str, name: str, **over) -> Path:
    return fill(ctx.templates[unit], ctx.inbox / name, values_for(ctx, unit, **over))


def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_members(path: Path, members: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())


def _sheet_part(members: dict[str, bytes], sheet: str) -> str:
    wb, rels = members["xl/workbook.xml"].decode(), members["xl/_rels/workbook.xml.rels"].decode()
    rid = next(m.group(2) for m in re.finditer(r'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"', wb)
               if html.unescape(m.group(1)) == sheet)
    rel = next(r for r in re.findall(r"<Relationship [^>]*>", rels) if f'Id="{rid}"' in r)
    target = re.search(r'Target="([^"]+)"', rel).group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def set_cells_xml(path: Path, cells: dict[tuple[str, str], str]) -> Path:
    """Write raw cell XML, as Excel stores it: {(sheet, "F6"): '<c r="F6" ...>...</c>'} with
    "{s}" standing for the cell's own style attribute. The cell must already exist."""
    members = read_members(path)
    for (sheet, ref), xml in cells.items():
        part = _sheet_part(members, sheet)
        text = members[part].decode()
        m = re.search(r'<c r="%s"((?:\s+[\w:]+="[^"]*")*)\s*(?:/>|>.*?</c>)' % ref, text, re.S)
        assert m, (sheet, ref)
        style = re.search(r'\ss="\d+"', m.group(1))
        text = text[:m.start()] + xml.replace("{s}", style.group(0) if style else "") + text[m.end():]
        members[part] = text.encode()
    write_members(path, members)
    return path


def formula_cell(ref: str, formula: str, shown: str | float) -> str:
    """A cell holding a real formula with the value Excel last showed for it."""
    f = html.escape(formula.lstrip("="), quote=False)
    if isinstance(shown, str):
        return f'<c r="{ref}"{{s}} t="str"><f>{f}</f><v>{html.escape(shown, quote=False)}</v></c>'
    return f'<c r="{ref}"{{s}}><f>{f}</f><v>{shown}</v></c>'


def set_identity(path: Path, unit_text: str) -> None:
    """Write `unit_text` as the unit code in both places the form keeps it: the custom
    property and the hidden _meta sheet."""
    wb = openpyxl.load_workbook(path)
    for prop in wb.custom_doc_props.props:
        if prop.name == "treem_unit":
            prop.value = unit_text
    meta = wb["_meta"]
    for row in meta.iter_rows():
        if row[0].value == "treem_unit":
            row[1].value = unit_text
            row[1].data_type = "s"
    wb.save(path)


# --- controls: ordinary files that must be collected whatever else is in the inbox ------------------


@case("15664 TT Trieu Son.xlsx", "accepted", unit="15664", values={"children_total": 5000, "ct04_obese": 50})
def control_town(ctx):
    """An ordinary, clean file (control)."""
    filled(ctx, "15664", "15664 TT Trieu Son.xlsx")


@case("xa_tho_son.xlsx", "accepted", unit="15667", values={"ct02_served": 2300})
def control_commune(ctx):
    """Another ordinary, clean file (control)."""
    filled(ctx, "15667", "xa_tho_son.xlsx")


# --- file names ---------------------------------------------------------------------------------------

_NFC = unicodedata.normalize("NFC", "Báo cáo xã Thọ Bình năm 2024 (bản chính thức).xlsx")
_NFD = unicodedata.normalize("NFD", "Báo cáo xã Thọ Tiến năm 2024 – gửi lại.xlsx")
_SPACES = "  bao   cao  xa Hop Ly    ban cuoi  .xlsx"
_LONG_TEXT = "Báo cáo kết quả thực hiện Chương trình hành động vì trẻ em xã Hợp Tiến " * 4
_LONG = next(_LONG_TEXT[:n] + ".xlsx" for n in range(len(_LONG_TEXT), 0, -1)
             if len((_LONG_TEXT[:n] + ".xlsx").encode()) <= 250)
_FORMULA_NAME = "=1+1 @SUM(1+1) -2+3 +1+1 =cmd|x.xlsx"
_BAD_BYTES = b"B\xe1o c\xe1o x\xe3 Tri\xeau Th\xe0nh.xlsx"  # Latin-1/CP1258 bytes, not UTF-8


@case(_NFC, "accepted", unit="15670")
def name_nfc(ctx):
    """Vietnamese diacritics in the file name, precomposed (NFC), with brackets."""
    filled(ctx, "15670", _NFC)


@case(_NFD, "accepted", unit="15673")
def name_nfd(ctx):
    """The name decomposed (NFD), as macOS mail clients save it, with an en dash."""
    filled(ctx, "15673", _NFD)


@case(_SPACES, "accepted", unit="15676")
def name_spaces(ctx):
    """Leading, repeated and trailing spaces in the file name."""
    filled(ctx, "15676", _SPACES)


@case(_LONG, "accepted", unit="15679")
def name_long(ctx):
    """A name of 250 bytes with diacritics (the file-system limit is 255)."""
    filled(ctx, "15679", _LONG)


@case(_FORMULA_NAME, "rejected", ["cross-field-rule"], unit="15682")
def name_formula(ctx):
    """A file name that reads as formulas (=1+1, @SUM, -2+3, =cmd|): it is shown in the
    validation report, which must keep it text. The file has an error so it is listed."""
    filled(ctx, "15682", _FORMULA_NAME, ct04_underweight=1500)


@case(_BAD_BYTES.decode("utf-8", "replace"), "accepted", unit="15685")
def name_bad_bytes(ctx):
    """A name in a legacy code page (bytes that are not UTF-8), as old zip tools extract them:
    the store and the JSON output need text."""
    tmp = filled(ctx, "15685", "tam_15685.xlsx")
    try:
        os.rename(tmp, os.path.join(os.fsencode(ctx.inbox), _BAD_BYTES))
    except OSError:  # a file system that insists on Unicode names (APFS): the shown name then
        os.rename(tmp, ctx.inbox / _BAD_BYTES.decode("utf-8", "replace"))


# --- links and paths that lead out --------------------------------------------------------------------


@case("lien_ket_ra_ngoai.xlsx", "skipped", ["link-outside-inbox"])
def link_out(ctx):
    """A symbolic link to a valid workbook outside the inbox: never followed."""
    target = fill(ctx.templates["15688"], ctx.outside / "15688_ngoai.xlsx", values_for(ctx, "15688"))
    (ctx.inbox / "lien_ket_ra_ngoai.xlsx").symlink_to(target)


@case("thu_muc_ngoai", "skipped", ["link-outside-inbox"])
def link_dir_out(ctx):
    """A symbolic link to a folder outside the inbox, holding a valid workbook."""
    folder = ctx.outside / "thu_muc"
    fill(ctx.templates["15691"], folder / "15691.xlsx", values_for(ctx, "15691"))
    (ctx.inbox / "thu_muc_ngoai").symlink_to(folder, target_is_directory=True)


@case("vong_lap.xlsx", "skipped", ["broken-link"])
def link_loop(ctx):
    """A symbolic link to itself (a loop)."""
    (ctx.inbox / "vong_lap.xlsx").symlink_to("vong_lap.xlsx")


@case("mat_dich.xlsx", "skipped", ["broken-link"])
def link_dangling(ctx):
    """A symbolic link to a file that does not exist."""
    (ctx.inbox / "mat_dich.xlsx").symlink_to(ctx.outside / "khong_co.xlsx")


@case("ma_don_vi_leo_thu_muc.xlsx", "rejected", ["unknown-unit"], unit=None)
def unit_code_dotdot(ctx):
    """The unit code in the workbook's metadata is "../../x": it must never become a path."""
    set_identity(filled(ctx, "15748", "ma_don_vi_leo_thu_muc.xlsx"), "../../x")


@case("ma_don_vi_gach_cheo.xlsx", "rejected", ["unknown-unit"], unit=None)
def unit_code_slashes(ctx):
    """The unit code is "15700/../../../x\\..\\y" (slashes both ways)."""
    set_identity(filled(ctx, "15700", "ma_don_vi_gach_cheo.xlsx"), "15700/../../../x\\..\\y")


@case("15703 thanh phan zip.xlsx", "rejected", ["unsafe-zip"], unit="15703")
def zip_member_escape(ctx):
    """A real filled form with an extra zip member named ../../x.txt (zip slip)."""
    path = filled(ctx, "15703", "15703 thanh phan zip.xlsx")
    members = read_members(path)
    members["../../x.txt"] = b"x"
    write_members(path, members)


# --- formulas, typed as text and stored as real formulas ------------------------------------------------

_NUMBER_FIELDS = ["ct09_abused", "ct10_child_labour", "ct11_injured", "ct13_child_marriages", "ct06_hiv_infected"]
_NARRATIVES = ["narr_direction", "narr_communication", "narr_results", "narr_limitations", "narr_next_year",
               "narr_recommendations"]


@case("15706_cong_thuc_go_chu.xlsx", "rejected", ["type-error"] * 5, unit="15706")
def formula_text_in_numbers(ctx):
    """=HYPERLINK("http://x","bấm"), =cmd|' /C calc'!A0, @SUM(1+1), +1+1 and -2+3 typed as text
    into five number cells."""
    filled(ctx, "15706", "15706_cong_thuc_go_chu.xlsx", **dict(zip(_NUMBER_FIELDS, PAYLOADS)))


@case("15709_cong_thuc_giai_thich.xlsx", "accepted", unit="15709",
      values={f"note_{f}": p for f, p in zip(_NUMBER_FIELDS, PAYLOADS)})
def formula_text_in_notes(ctx):
    """The same five texts typed into the explanation (text) cells of a clean file: stored as
    the text the unit typed."""
    filled(ctx, "15709", "15709_cong_thuc_giai_thich.xlsx", **{f"note_{f}": p for f, p in zip(_NUMBER_FIELDS, PAYLOADS)})


@case("15712_cong_thuc_that.xlsx", "accepted_with_warnings", ["formula-in-input"] * 4, unit="15712",
      values={"ct09_abused": 2, "ct11_injured": 2, "ct13_child_marriages": 1, "ct06_hiv_infected": 0})
def formula_real_in_numbers(ctx):
    """Real formulas in four number cells: SUM(1+1), +1+1, -2+3 and a DDE call cmd|' /C calc'!A0,
    each with the value Excel showed (2, 2, 1, 0). The shown value is taken, the formula never."""
    path = filled(ctx, "15712", "15712_cong_thuc_that.xlsx")
    t = ctx.templates["15712"]
    cells = {"ct09_abused": ("@SUM(1+1)", 2), "ct11_injured": ("+1+1", 2), "ct13_child_marriages": ("-2+3", 1),
             "ct06_hiv_infected": (DDE, 0)}
    set_cells_xml(path, {_where(t, f): formula_cell(_where(t, f)[1], fx.lstrip("@"), v) for f, (fx, v) in cells.items()})


@case("15715_hyperlink_that.xlsx", "rejected", ["formula-in-input", "type-error"], unit="15715")
def formula_real_hyperlink_in_number(ctx):
    """A real =HYPERLINK("http://x","bấm") formula in a number cell (it shows "bấm")."""
    path = filled(ctx, "15715", "15715_hyperlink_that.xlsx")
    where = _where(ctx.templates["15715"], "ct10_child_labour")
    set_cells_xml(path, {where: formula_cell(where[1], HYPERLINK, "bấm")})


@case("P-YT_cong_thuc_that.xlsx", "accepted_with_warnings", ["formula-in-input"] * 5, unit="P-YT",
      values={"narr_direction": "bấm", "narr_communication": "0", "narr_results": "2",
              "narr_limitations": "2", "narr_next_year": "1"})
def formula_real_in_narratives(ctx):
    """Real formulas in five narrative cells of an office: HYPERLINK, a DDE call, SUM(1+1),
    +1+1, -2+3, with the values they showed. Only the shown text is kept."""
    path = filled(ctx, "P-YT", "P-YT_cong_thuc_that.xlsx", **{n: "x" for n in _NARRATIVES[:5]})
    t = ctx.templates["P-YT"]
    shown = ["bấm", "0", "2", "2", "1"]
    formulas = [HYPERLINK, DDE, "SUM(1+1)", "+1+1", "-2+3"]
    set_cells_xml(path, {_where(t, n): formula_cell(_where(t, n)[1], f, v)
                         for n, f, v in zip(_NARRATIVES, formulas, shown)})


@case("P-GDDT_van_ban.xlsx", "accepted", unit="P-GDDT",
      values=dict(zip(_NARRATIVES, PAYLOADS + [TEMPLATE_CODE])))
def text_in_narratives(ctx):
    """An office's narratives typed as text: the five formulas, and Word/Jinja markup
    (<w:p>, &, {{ x }}, {% raw %}, docxtpl's {_{ }_}). All must reach the report as words."""
    filled(ctx, "P-GDDT", "P-GDDT_van_ban.xlsx", **dict(zip(_NARRATIVES, PAYLOADS + [TEMPLATE_CODE])))


@case("P-TP_lien_ket.xlsx", "accepted_with_warnings", ["number-as-text"], unit="P-TP",
      values={"narr_direction": "http://x"})
def hyperlink_on_cell(ctx):
    """A narrative typed as http://x that Excel turned into a real hyperlink (a relationship
    to an external target); a number typed as text gives the file a warning, so the office
    gets its copy back."""
    path = filled(ctx, "P-TP", "P-TP_lien_ket.xlsx", narr_direction="http://x", ct14_registered="1.495")
    sheet, ref = _where(ctx.templates["P-TP"], "narr_direction")
    members = read_members(path)
    part = _sheet_part(members, sheet)
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    link = (f'<hyperlinks><hyperlink xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
            f'ref="{ref}" r:id="rIdHL1"/></hyperlinks>')
    xml = members[part].decode()
    at = xml.index("<pageMargins") if "<pageMargins" in xml else xml.index("</worksheet>")
    members[part] = (xml[:at] + link + xml[at:]).encode()
    rel = ('<Relationship Id="rIdHL1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           'hyperlink" Target="http://x" TargetMode="External"/>')
    old = members.get(rels, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="'
                            b'http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>').decode()
    members[rels] = old.replace("</Relationships>", rel + "</Relationships>").encode()
    write_members(path, members)


@case("15718_co_macro.xlsm", "rejected", ["cross-field-rule", "macros-ignored"], unit="15718")
def macro_xlsm(ctx):
    """A real form saved as .xlsm with a VBA project (Auto_Open): read, never run, never copied."""
    path = filled(ctx, "15718", "15718_co_macro.xlsm", ct04_underweight=1500)
    data = path.read_bytes()
    path.write_bytes(corpus.zip_bytes(corpus._macro_members(corpus.Base(data, read_members(path)))))


@case("15721_trang_cong_thuc.xlsx", "rejected", ["cross-field-rule"], unit="15721")
def sheet_named_as_formula(ctx):
    """The data sheet renamed "=cmd|' calc'!A0" (names follow, as in Excel): the sheet name is
    quoted in every problem of that sheet."""
    path = filled(ctx, "15721", "15721_trang_cong_thuc.xlsx", ct04_underweight=1500)
    wb = openpyxl.load_workbook(path)
    old, new = "Số liệu", "=cmd|' calc'!A0"
    wb[old].title = new
    for dn in wb.defined_names.values():
        dn.attr_text = dn.attr_text.replace(f"'{old}'!", "'" + new.replace("'", "''") + "'!")
    wb.save(path)


# --- text no sheet should hold ----------------------------------------------------------------------------


@case("15724_ky_tu_dieu_khien.xlsx", "rejected", ["type-error"], unit="15724",
      values={"note_ct09_abused": "Ghi\x07chú\x00lạ\x1b"})
def unprintable_characters(ctx):
    """Control characters (BEL, NUL, ESC) as Excel escapes them (_x0007_) in a number cell and
    in an explanation: quoted in a message and written back, where XML cannot hold them."""
    path = filled(ctx, "15724", "15724_ky_tu_dieu_khien.xlsx", note_ct09_abused="x")
    t = ctx.templates["15724"]
    (s1, r1), (s2, r2) = _where(t, "ct10_child_labour"), _where(t, "note_ct09_abused")
    set_cells_xml(path, {(s1, r1): f'<c r="{r1}"{{s}} t="inlineStr"><is><t>3_x0007_0</t></is></c>',
                         (s2, r2): f'<c r="{r2}"{{s}} t="inlineStr"><is><t>Ghi_x0007_chú_x0000_lạ_x001B_</t></is></c>'})


@case("15727_khong_huu_han.xlsx", "rejected", ["required-missing", "type-error"], unit="15727")
def non_finite_numbers(ctx):
    """<v>NaN</v> in a required count and <v>INF</v> in a budget cell (no Excel writes them; a
    hand-made file can)."""
    path = filled(ctx, "15727", "15727_khong_huu_han.xlsx")
    t = ctx.templates["15727"]
    (s1, r1), (s2, r2) = _where(t, "children_total"), _where(t, "budget_ns_dia_phuong_spent")
    set_cells_xml(path, {(s1, r1): f'<c r="{r1}"{{s}}><v>NaN</v></c>', (s2, r2): f'<c r="{r2}"{{s}}><v>INF</v></c>'})


@case("15730_bi_mat.xlsx", "rejected", ["type-error"], unit="15730", values={"note_ct10_child_labour": SECRET})
def long_text(ctx):
    """A 4,800-character text in a number cell and in an explanation: a message quotes at most
    40 characters of it."""
    filled(ctx, "15730", "15730_bi_mat.xlsx", ct10_child_labour=SECRET, note_ct10_child_labour=SECRET)


@case("ma_don_vi_dai.xlsx", "rejected", ["unknown-unit"])
def long_unit_code(ctx):
    """The same long text as the unit code in the metadata."""
    set_identity(filled(ctx, "15733", "ma_don_vi_dai.xlsx"), SECRET)


# --- privacy: three units whose copies must not meet -------------------------------------------------

PRIVATE = {"15736": 5011, "15739": 5022, "15742": 5033}


def _private_note(unit: str) -> str:
    return f"Ghi chú riêng của đơn vị {unit}"


def _private(unit: str) -> Callable[[Ctx], None]:
    def build(ctx):
        v = PRIVATE[unit]
        filled(ctx, unit, f"{unit}_rieng.xlsx", children_total=f"{v // 1000}.{v % 1000:03d}",
               note_children_total=_private_note(unit))
    build.__name__ = f"private_{unit}"
    build.__doc__ = (f"Unit {unit}: a figure typed as text ({PRIVATE[unit]:,}) and its own note; its copy back "
                     "must hold no other unit's figures or names.").replace(",", ".")
    return build


for _u, _v in PRIVATE.items():
    case(f"{_u}_rieng.xlsx", "accepted_with_warnings", ["number-as-text"], unit=_u,
         values={"children_total": _v, "note_children_total": _private_note(_u)})(_private(_u))


@case(["15745 ban 1.xlsx", "15745 ban 1 (1).xlsx"], "accepted", unit="15745")
def same_file_twice(ctx):
    """The same file saved twice under two names: one submission, both names recorded."""
    path = filled(ctx, "15745", "15745 ban 1.xlsx")
    (ctx.inbox / "15745 ban 1 (1).xlsx").write_bytes(path.read_bytes())


# --- running it ---------------------------------------------------------------------------------------


@dataclass
class Proc:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float  # the command and all its worker processes

    @property
    def crashed(self) -> bool:
        return self.returncode != 0 or "Traceback" in self.stderr


def cli(root: Path, *args: str, timeout: float = 120) -> Proc:
    """The real command line in a subprocess, with its wall time and peak memory (wait4 gives
    the largest resident size of the process and the workers it waited for)."""
    cmd = [sys.executable, "-m", "pipeline", *args, "-w", str(root)]
    out, err = io.BytesIO(), io.BytesIO()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    readers = [threading.Thread(target=lambda s=s, b=b: b.write(s.read())) for s, b in
               ((proc.stdout, out), (proc.stderr, err))]
    for t in readers:
        t.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    proc.stdout.close()
    proc.stderr.close()
    return Proc(cmd[3:], proc.returncode, out.getvalue().decode("utf-8", "replace"),
                err.getvalue().decode("utf-8", "replace"), time.monotonic() - start, usage.ru_maxrss / 1024)


@dataclass
class Run:
    ws: Workspace
    base: Path
    made: dict[str, Path]  # structural corpus case -> file
    collect: Proc
    again: Proc
    merge: Proc
    report: Proc
    result: dict  # collect --json
    outside_before: dict[str, str]
    outside_after: dict[str, str]

    @functools.cached_property
    def by_path(self) -> dict[str, dict]:
        return {p: s for s in self.result["submissions"] for p in s["paths"]}

    @functools.cached_property
    def skipped(self) -> dict[str, dict]:
        return {k["path"]: k for k in self.result["skipped"]}

    @property
    def procs(self) -> list[Proc]:
        return [self.collect, self.again, self.merge, self.report]


def _tree(folder: Path, skip: Path | None = None) -> dict[str, str]:
    """Every file and link below `folder` (links not followed): what each is."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        if skip is not None and Path(dirpath) == skip.parent:
            dirnames[:] = [d for d in dirnames if Path(dirpath) / d != skip]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = os.fsencode(p.relative_to(folder)).decode("utf-8", "replace")
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def run(templates, hostile_corpus, tmp_path_factory) -> Run:
    base = tmp_path_factory.mktemp("hostile")
    ws, _ = init_workspace(base / "a" / "b" / "ws")  # so that ../../x from output/ stays inside base
    inbox = ws.inbox(YEAR)
    ctx = Ctx(templates, inbox, base / "ngoai", base)
    ctx.outside.mkdir()
    made = corpus_copy(hostile_corpus, inbox / "tep_cau_truc")
    for c in CASES.values():
        c.build(ctx)
    when = RECEIVED.timestamp()
    for dirpath, dirnames, filenames in os.walk(inbox):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (when, when), follow_symlinks=False)
    outside_before = _tree(base, skip=ws.root)
    collect = cli(ws.root, "collect", "--year", str(YEAR), "--json")
    again = cli(ws.root, "collect", "--year", str(YEAR))
    merge = cli(ws.root, "merge", "--year", str(YEAR), "--json")
    report = cli(ws.root, "report", "--year", str(YEAR), "--json")
    result = json.loads(collect.stdout) if collect.returncode == 0 else {"submissions": [], "skipped": []}
    return Run(ws, base, made, collect, again, merge, report, result, outside_before, _tree(base, skip=ws.root))


# --- 1. every case: no crash, no hang, one clear reason, every other file collected -----------------


def test_no_command_crashed_or_hung(run):
    for p in run.procs:
        assert not p.crashed, (p.args, p.returncode, p.stderr[-2000:])
    assert run.collect.seconds < RUN_SECONDS, run.collect.seconds
    assert run.collect.max_rss_mb < RUN_MEMORY_MB, run.collect.max_rss_mb
    assert "0 tệp mới" in run.again.stdout  # nothing read twice


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_template_case(run, name):
    c = CASES[name]
    if c.outcome == "skipped":
        skip = run.skipped[c.paths[0]]
        assert (skip["code"],) == c.codes, skip
        assert VIETNAMESE.search(skip["message"]), skip
        assert not any(p.startswith(c.paths[0]) for p in run.by_path), "a skipped file was read"
        return
    sub = run.by_path[c.paths[0]]
    assert sorted(sub["paths"]) == sorted(c.paths)
    assert (sub["unit"], sub["status"]) == (c.unit, c.outcome), sub["issues"]
    assert tuple(sorted(i["code"] for i in sub["issues"])) == c.codes, sub["issues"]
    for i in sub["issues"]:
        assert VIETNAMESE.search(i["message"]), i
    if c.values:
        with Store(run.ws.db_path) as store:
            sid = next(s.id for s in store.submissions(YEAR) if s.sha256 == sub["sha256"])
            stored = store.values([sid])[sid]
        got = {k: (stored[k]["value"] if stored[k]["value"] is not None else stored[k]["text"])
               for k in c.values if k in stored}
        assert got == c.values


@pytest.mark.parametrize("name", sorted(corpus.CASES))
def test_structural_case(run, name):
    """The structural corpus in the same inbox: each refused with its own code and one
    Vietnamese sentence; the readable ones are not our form (no unit), so refused too."""
    c = corpus.CASES[name]
    if not c.available():
        pytest.skip(f"needs {c.requires}")
    sub = run.by_path["tep_cau_truc/" + run.made[name].name]
    errors = [i for i in sub["issues"] if i["severity"] == "error"]
    assert sub["status"] == "rejected"
    assert [i["code"] for i in errors] == ["unknown-unit" if c.expect == "ok" else c.expect]
    assert VIETNAMESE.search(errors[0]["message"])


def test_every_other_file_still_collected(run):
    """Whatever else was in the inbox, each file that was fine was stored, is current, and its
    figures reached the district's sums."""
    good = {c.unit for c in CASES.values() if c.outcome.startswith("accepted")}
    with Store(run.ws.db_path) as store:
        current = counted_values(store, YEAR)
        merged = store.merged_fields(YEAR)
    assert set(current) == good
    assert {u: merged[u] for u in good} == {u: current[u] for u in good}
    assert current["15664"]["children_total"] == 5000
    assert run.result["counts"]["missing"] == 45 - len({s["unit"] for s in run.result["submissions"] if s["unit"]})


def test_skipped_links_and_files_outside_are_untouched(run):
    """Nothing read or written outside the workspace, no link followed; the unit codes
    "../../x" made no path; the inbox is as the units left it."""
    assert run.outside_after == run.outside_before
    assert not list(run.base.rglob("x")) and not list(run.base.rglob("x.txt"))
    top = {p.name for p in run.ws.root.iterdir()}
    assert top <= {"input", "output", "archive", "templates", "catalogue.yaml", "roster.yaml", "settings.yaml",
                   "treem.sqlite", "treem.sqlite-wal", "treem.sqlite-shm", ".treem.lock"}
    for p in (run.ws.root / "output").rglob("*"):
        assert p.resolve().is_relative_to((run.ws.root / "output").resolve())
    assert "15688" in run.result["missing"] and "15691" in run.result["missing"]  # only reachable by the links


# --- 2. nothing injected into what the district sends on ------------------------------------------


def xlsx_findings(path: Path) -> list[str]:
    """Live content in a workbook: a formula carrying unit text, a hyperlink, an external link,
    a macro, a member path that leaves the folder."""
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name.startswith("/") or ".." in name.split("/") or "\\" in name:
                found.append(f"{path.name}: member {name}")
            if "vbaproject" in name.lower() or name.lower().startswith(("xl/externallinks/", "xl/activex/")):
                found.append(f"{path.name}: {name}")
            if name == "[Content_Types].xml" and b"macroEnabled" in data:
                found.append(f"{path.name}: macro-enabled content type")
            if name.endswith(".rels") and (b"relationships/hyperlink" in data or b'TargetMode="External"' in data):
                found.append(f"{path.name}: {name} links out")
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                text = data.decode("utf-8", "replace")
                if "<hyperlink " in text:
                    found.append(f"{path.name}: {name} has a hyperlink")
                for body in re.findall(r"<(?:\w+:)?f(?:\s[^>]*)?>(.*?)</(?:\w+:)?f>", text, re.S):
                    body = html.unescape(body)
                    if any(m in body for m in FORMULA_MARKERS):
                        found.append(f"{path.name}: {name} formula {body[:60]}")
    return found


def csv_findings(path: Path) -> list[str]:
    found = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            for v in row:
                if v[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    try:
                        float(v)
                    except ValueError:
                        found.append(f"{path.name}: {v[:40]}")
    return found


def docx_findings(path: Path) -> list[str]:
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name).decode("utf-8", "replace")
            if name.endswith(".rels") and "relationships/hyperlink" in data:
                found.append(f"{path.name}: {name} hyperlink")
            if name.startswith("word/") and name.endswith(".xml"):
                if "<w:hyperlink" in data:
                    found.append(f"{path.name}: {name} hyperlink")
                fields = re.findall(r"<w:instrText[^>]*>(.*?)</w:instrText>", data, re.S)
                fields += re.findall(r'<w:fldSimple[^>]*w:instr="([^"]*)"', data)
                for instr in fields:  # the report's own fields are PAGE and the like
                    if any(m in html.unescape(instr).upper() for m in ("HYPERLINK", "INCLUDE", "DDE", "LINK", "X }}")):
                        found.append(f"{path.name}: field {instr[:60]}")
    return found


def output_findings(ws: Workspace) -> tuple[int, list[str]]:
    """Every file the district sends on, and what is live in it."""
    files = sorted(p for p in ws.output(YEAR).rglob("*") if p.is_file() and not p.name.startswith("."))
    found = []
    for p in files:
        if p.suffix == ".xlsx":
            found += xlsx_findings(p)
        elif p.suffix == ".csv":
            found += csv_findings(p)
        elif p.suffix == ".docx":
            found += docx_findings(p)
    return len(files), found


def test_the_hostile_inputs_really_hold_formulas_and_links(run):
    """The detector below sees what the units sent: it would see it in an output too."""
    inbox = run.ws.inbox(YEAR)
    found = " ".join(xlsx_findings(inbox / "15712_cong_thuc_that.xlsx") + xlsx_findings(inbox / "P-YT_cong_thuc_that.xlsx")
                     + xlsx_findings(inbox / "P-TP_lien_ket.xlsx") + xlsx_findings(inbox / "15718_co_macro.xlsm"))
    for what in ("HYPERLINK", "cmd|", "SUM(1+1)", "+1+1", "-2+3", "has a hyperlink", "links out", "vbaProject"):
        assert what in found, what


def test_nothing_live_in_any_output(run):
    n, found = output_findings(run.ws)
    names = {p.name for p in run.ws.output(YEAR).rglob("*")}
    assert {"tong_hop_2024.xlsx", "du_lieu_2024.csv", "kiem_tra_so_lieu_2024.xlsx", f"bao_cao_{YEAR}.docx"} <= names
    assert n >= 10
    assert found == []


def test_every_output_opens(run):
    """Every workbook written opens (XML a reader accepts: no control characters left in it),
    and the Word report too."""
    import docx
    from lxml import etree

    files = sorted(p for p in run.ws.output(YEAR).rglob("*.xlsx"))
    assert len(files) >= 15
    for p in files:
        openpyxl.load_workbook(p)
        with zipfile.ZipFile(p) as zf:
            for name in zf.namelist():
                if name.endswith((".xml", ".rels")):
                    etree.fromstring(zf.read(name))  # strict XML 1.0, as Excel reads it
    docx.Document(run.ws.output(YEAR) / f"bao_cao_{YEAR}.docx")


def test_feedback_copies_keep_the_units_values_as_values(run, templates):
    """The copies going back hold what the unit saw (the shown values, the text it typed),
    keep the template's own formulas live, and drop the unit's formulas and links."""
    folder = run.ws.output(YEAR) / "phan_hoi"
    copies = {p.name.split("_")[1]: p for p in folder.glob("*_phan_hoi.xlsx")}
    assert {"15706", "15712", "15715", "p-yt", "p-tp", "15718", "15721", "15724"} <= set(copies)
    wb = openpyxl.load_workbook(copies["15712"])  # the values Excel showed, now plain numbers
    cells = {f: _where_in(wb, f) for f in ("ct09_abused", "ct11_injured", "ct13_child_marriages", "ct06_hiv_infected")}
    assert {f: (c.value, c.data_type) for f, c in cells.items()} == {
        "ct09_abused": (2, "n"), "ct11_injured": (2, "n"), "ct13_child_marriages": (1, "n"), "ct06_hiv_infected": (0, "n")}
    typed = openpyxl.load_workbook(copies["15706"])
    assert [(_where_in(typed, f).value, _where_in(typed, f).data_type) for f in _NUMBER_FIELDS] == [(p, "s") for p in PAYLOADS]
    office = openpyxl.load_workbook(copies["p-yt"])
    assert [_where_in(office, n).value for n in _NARRATIVES[:5]] == ["bấm", "0", "2", "2", "1"]
    assert _where_in(openpyxl.load_workbook(copies["p-tp"]), "narr_direction").hyperlink is None
    # The template's own formulas are still there and live.
    live = [c for ws_ in wb.worksheets for row in ws_.iter_rows() for c in row if c.data_type == "f"]
    own = openpyxl.load_workbook(templates["15712"])
    assert len(live) == sum(c.data_type == "f" for ws_ in own.worksheets for row in ws_.iter_rows() for c in row) > 50
    assert all(template_formula(c.value) for c in live)


def _where_in(wb, name):
    (sheet, ref), = wb.defined_names[name].destinations
    return wb[sheet][ref]


def test_template_formulas_are_all_kept_in_copies(templates):
    """Every formula the generator writes counts as the template's own, so a copy back keeps
    them all live (a new function in template.py must be added to TEMPLATE_FUNCTIONS)."""
    for unit in ("15664", "15700", "P-YT", "P-LDTBXH", "HLHPN"):
        members = read_members(templates[unit])
        formulas = [html.unescape(f) for name, xml in members.items() if name.startswith("xl/worksheets/")
                    for f in re.findall(r"<f>(.*?)</f>", xml.decode())]
        assert formulas and all(template_formula(f) for f in formulas), unit
    for f in PAYLOADS + ["WEBSERVICE(A1)", "'[khac.xlsx]Sheet1'!A1", "SUM({1,2})", 'IF(1,HYPERLINK("x"),0)']:
        assert not template_formula(f.lstrip("=")), f


def test_report_keeps_unit_text_as_words(run):
    """The office's narratives reach the Word report as the words typed: <w:p>, &, {{ x }},
    {% raw %} and the formulas are text, not markup, template code or fields."""
    assert not run.report.crashed, run.report.stderr[-2000:]
    import docx

    path = run.ws.output(YEAR) / f"bao_cao_{YEAR}.docx"
    text = "\n".join(p.text for p in docx.Document(path).paragraphs)
    for typed in PAYLOADS + [TEMPLATE_CODE.strip()]:
        assert typed in text, typed
    assert docx_findings(path) == []


def test_csv_neutralises_formula_text():
    from pipeline.merge.consolidate import csv_safe

    assert [csv_safe(p) for p in PAYLOADS] == ["'" + p for p in PAYLOADS]
    assert csv_safe(-2.5) == "-2.5" and csv_safe("\tx") == "'\tx" and csv_safe("Xã Thọ Sơn") == "Xã Thọ Sơn"


# --- 5. privacy -------------------------------------------------------------------------------------


def _strings(path: Path) -> str:
    """Every piece of text in a workbook: cells, comments, sheet and defined names, properties."""
    out = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                out.append(html.unescape(re.sub(r"<[^>]+>", " ", zf.read(name).decode("utf-8", "replace"))))
    return "\n".join(out)


def _problem_list(path: Path) -> str:
    """What a copy says about the unit's file: its first sheet and the comments on cells (the
    rest is the unit's own workbook)."""
    wb = openpyxl.load_workbook(path)
    out = [str(c.value) for row in wb[FEEDBACK_SHEET].iter_rows() for c in row if c.value is not None]
    out += [c.comment.text for ws_ in wb.worksheets for row in ws_.iter_rows() for c in row if c.comment]
    return "\n".join(out)


def test_messages_quote_one_cell_at_most(run):
    """A unit's long text is quoted at most 40 characters deep anywhere a person reads a
    message: the JSON and text output, the validation report, the problem list of a copy."""
    messages = [i["message"] for s in run.result["submissions"] for i in s["issues"]]
    messages += [k["message"] for k in run.result["skipped"]]
    assert max(len(m) for m in messages) < 600
    report = run.ws.output(YEAR) / "kiem_tra_so_lieu_2024.xlsx"
    lists = [_problem_list(p) for p in (run.ws.output(YEAR) / "phan_hoi").glob("*.xlsx")]
    for where in messages + [run.collect.stdout, run.collect.stderr, run.again.stdout, run.again.stderr,
                             _strings(report)] + lists:
        assert SECRET_RUN not in where
    assert any("«BÍ MẬT 0123456789abcdef" in m and m.count("0123456789abcdef") <= 3 for m in messages)


def test_a_units_copy_holds_only_its_own_data(run, templates):
    """A copy holds the unit's own form (whose wording names the district office it reports
    to), the unit's own figures and its own problems: no other unit's names or figures."""
    folder = run.ws.output(YEAR) / "phan_hoi"
    roster = {u.code: u.name for u in run.ws.roster.for_year(YEAR)}
    copies = list(folder.glob("*_phan_hoi.xlsx"))
    assert len(copies) >= 10
    for p in copies:
        text = _strings(p)
        own = next(u for u in roster if f"_{u.lower()}_" in p.name.lower())
        form = _strings(templates[own])
        others = [n for u, n in roster.items() if u != own and n not in form and n not in roster[own]]
        assert len(others) > 30
        assert [n for n in others if n in text] == [], p.name
        for u, v in PRIVATE.items():
            mark = f"{v // 1000}.{v % 1000:03d}"
            assert (mark in text, _private_note(u) in text) == ((u == own,) * 2), (p.name, u)


# --- 6. the figures for the README ------------------------------------------------------------------------

# Unit text planted to be turned live: formula-like text and real formulas (cells), Word and
# Jinja markup, a real hyperlink, a VBA project, a file name and a sheet name that read as
# formulas, unit codes and a zip member that climb out of a folder.
PLANTED = {"formula_text_in_numbers": 5, "formula_text_in_notes": 5, "formula_real_in_numbers": 4,
           "formula_real_hyperlink_in_number": 1, "formula_real_in_narratives": 5, "text_in_narratives": 6,
           "hyperlink_on_cell": 1, "macro_xlsm": 1, "name_formula": 1, "sheet_named_as_formula": 1,
           "unit_code_dotdot": 1, "unit_code_slashes": 1, "zip_member_escape": 1}


def test_summary_for_the_readme(run):
    structural = [c for c in corpus.CASES.values() if c.available()]
    controls = [n for n in CASES if n.startswith(("control_", "private_"))]  # ordinary files, for comparison
    hostile = len(structural) + len(CASES) - len(controls)
    crashes = sum(p.crashed for p in run.procs)
    reader_crashes = sum(any(i["code"] == "reader-crashed" for i in s["issues"]) for s in run.result["submissions"])
    refused = sum(s["status"] == "rejected" for s in run.result["submissions"]) + len(run.result["skipped"])
    unclear = sum(1 for s in run.result["submissions"] if s["status"] == "rejected"
                  and not all(VIETNAMESE.search(i["message"]) for i in s["issues"]))
    good = {c.unit: c for c in CASES.values() if c.outcome.startswith("accepted")}
    with Store(run.ws.db_path) as store:
        current = counted_values(store, YEAR)
        merged = store.merged_fields(YEAR)
    lost = sum(u not in current or merged.get(u) != current[u] for u in good)
    outputs, injected = output_findings(run.ws)
    print(f"\nREADME hostile: {hostile} hostile cases ({len(structural)} structural + {len(CASES) - len(controls)} "
          f"from real templates) beside {len(controls)} ordinary files; refused {refused} with a Vietnamese reason "
          f"(unclear {unclear}); crashes {crashes}; reader crashes contained {reader_crashes}; "
          f"good files collected {len(good) - lost}/{len(good)}; data lost {lost}; "
          f"{sum(PLANTED.values())} payloads planted in {len(PLANTED)} cases; outputs checked {outputs}; "
          f"injections passed {len(injected)}; collect {run.collect.seconds:.1f} s, "
          f"peak memory {run.collect.max_rss_mb:.0f} MB")
    assert set(PLANTED) <= set(CASES)
    assert (crashes, unclear, lost, len(injected)) == (0, 0, 0, 0)

"""precheck: hostile files are rejected fast with a stable code and a Vietnamese message.

The corpus is built once per session from tests/hostile/make_corpus.py; each
case says which code precheck must raise, or "ok".
"""

from __future__ import annotations

import io
import re
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from pipeline.base.errors import TreemError, UnreadableFile
from pipeline.collect.precheck import MESSAGES, NOT_A_WORKBOOK, Limits, Package, message, precheck
from conftest import VIETNAMESE, load_helper


corpus_module = load_helper("hostile_make_corpus", "hostile/make_corpus.py")
CASES = corpus_module.CASES

HOSTILE = [name for name, c in CASES.items() if c.expect != "ok"]
VALID = [name for name, c in CASES.items() if c.expect == "ok"]
ALLOWED_MESSAGES = {message(code) for code in MESSAGES} | set(NOT_A_WORKBOOK.values())
# Things that occur in the corpus files and must never reach a message.
CONTENT_MARKERS = ["lol", "hostname", "evil", "Chỉ tiêu", "Số trẻ em", "%PDF", "<", "XA-001", "Trang 1", "Ten1"]


@pytest.fixture(scope="session")
def corpus(hostile_corpus) -> dict[str, Path]:
    return hostile_corpus


def _path(corpus: dict[str, Path], name: str) -> Path:
    case = CASES[name]
    if case.requires:
        pytest.importorskip(case.requires, reason=f"the {name!r} case is built with {case.requires}")
    return corpus[name]


def _timed_precheck(path: Path, limits: Limits = Limits()) -> tuple[Package | UnreadableFile, float]:
    start = time.perf_counter()
    try:
        result: Package | UnreadableFile = precheck(path, limits)
    except UnreadableFile as e:
        result = e
    return result, time.perf_counter() - start


def _peak_memory(path: Path) -> int:
    tracemalloc.start()
    try:
        try:
            precheck(path)
        except UnreadableFile:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- hostile files --------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_is_rejected_with_its_code(corpus, name):
    path = _path(corpus, name)
    result, seconds = _timed_precheck(path)

    assert isinstance(result, UnreadableFile), f"{name}: accepted, expected {CASES[name].expect}"
    assert result.code == CASES[name].expect
    assert seconds < 2, f"{name}: {seconds:.2f} s"
    assert isinstance(result, TreemError)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_costs_little_memory(corpus, name):
    # The 2 GiB bomb, a million rows or 2.5 GB of entities must not be inflated.
    assert _peak_memory(_path(corpus, name)) < 32 * 1024 * 1024


@pytest.mark.parametrize("name", HOSTILE)
def test_message_is_vietnamese_and_never_echoes_the_file(corpus, name):
    path = _path(corpus, name)
    with pytest.raises(UnreadableFile) as excinfo:
        precheck(path)
    text = str(excinfo.value)

    assert VIETNAMESE.search(text)
    assert text in ALLOWED_MESSAGES  # fixed sentences only
    for marker in CONTENT_MARKERS:
        assert marker not in text
    assert path.stem not in text


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("pdf_renamed", "PDF"),
        ("docx_renamed", "Word"),
        ("word_ole_renamed", "Word"),
        ("csv_renamed", "CSV"),
        ("html_renamed", "HTML"),
        ("photo_renamed", "ảnh"),
    ],
)
def test_not_a_workbook_says_what_the_file_looks_like(corpus, name, words):
    with pytest.raises(UnreadableFile, match=words) as excinfo:
        precheck(corpus[name])
    assert excinfo.value.code == "not-a-workbook"


# --- valid files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", VALID)
def test_valid_file_passes(corpus, name):
    path = _path(corpus, name)
    result, seconds = _timed_precheck(path)

    assert isinstance(result, Package), f"{name}: {getattr(result, 'code', result)}"
    assert seconds < 2
    expected = {"kind": "xlsx", "has_macros": False, "external_links": False, "embedded_objects": False}
    expected |= CASES[name].attrs
    assert {attr: getattr(result, attr) for attr in expected} == expected
    assert result.path == path
    assert result.data == path.read_bytes()
    if result.kind == "xls":
        assert result.parts == {}


def test_base_workbook_parts(corpus):
    package = precheck(corpus["base"])

    assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"} <= set(
        package.parts
    )
    with zipfile.ZipFile(io.BytesIO(package.data)) as zf:
        assert package.parts["xl/worksheets/sheet1.xml"] == zf.read("xl/worksheets/sheet1.xml")
        assert set(package.parts) == set(zf.namelist())  # all XML; XlsxWriter adds no binary part
    assert package.sheet_names == ("Biểu 1",)


def test_macro_binary_is_not_kept_in_parts(corpus):
    package = precheck(corpus["xlsm"])
    assert package.has_macros
    assert "xl/vbaProject.bin" not in package.parts


def test_package_repr_does_not_dump_the_file(corpus):
    assert len(repr(precheck(corpus["base"]))) < 500


def test_base_workbook_is_fast(corpus):
    path = corpus["base"]
    precheck(path)  # warm the page cache and imports
    start = time.perf_counter()
    for _ in range(50):
        precheck(path)
    assert (time.perf_counter() - start) / 50 < 0.020


# --- limits, messages, edges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (Limits(max_file_bytes=1000), "file-too-large"),
        (Limits(max_members=5), "too-many-parts"),
        (Limits(max_rows=3), "sheet-too-large"),  # the base sheet has 4 rows
        (Limits(max_cols=1), "sheet-too-large"),
        (Limits(max_cells=7), "sheet-too-large"),  # and 8 cells
        (Limits(max_defined_names=0), "too-many-names"),
        (Limits(max_sheets=0), "too-many-sheets"),
        (Limits(max_total_bytes=1000), "zip-bomb"),
    ],
)
def test_limits_are_applied(corpus, limits, code):
    with pytest.raises(UnreadableFile) as excinfo:
        precheck(corpus["base"], limits)
    assert excinfo.value.code == code


def test_messages_are_listed_with_stable_codes():
    assert set(MESSAGES) == {
        "empty-file", "file-too-large", "not-a-workbook", "encrypted-file", "truncated-file",
        "too-many-parts", "unsafe-zip", "zip-bomb", "xml-entities", "xml-encoding",
        "sheet-too-large", "too-many-names", "too-many-sheets",
    }
    assert {c.expect for c in CASES.values()} == set(MESSAGES) | {"ok"}  # the corpus covers every code
    for text in ALLOWED_MESSAGES:
        assert VIETNAMESE.search(text) and "; đề nghị" in text and text.endswith(".")


def test_message_shows_configured_limits():
    assert "10 MB" in message("file-too-large")
    assert "10.000 dòng" in message("sheet-too-large")
    assert "2,5 MB" in message("file-too-large", Limits(max_file_bytes=5 * 1024 * 1024 // 2))


def test_missing_file_is_our_problem_not_the_units(tmp_path):
    with pytest.raises(FileNotFoundError):
        precheck(tmp_path / "khong_co.xlsx")


# --- sheet geometry and zip members, case by case ----------------------------------------

FAR = "sheet-too-large"


def _workbook_with_sheet_data(tmp_path: Path, sheet_data: str, dimension: str = "A1:B4") -> Path:
    base = corpus_module.Base.make()
    sheet = base.members["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r"<sheetData>.*</sheetData>", lambda _: f"<sheetData>{sheet_data}</sheetData>", sheet, flags=re.S)
    sheet = sheet.replace('<dimension ref="A1:B4"/>', f'<dimension ref="{dimension}"/>')
    path = tmp_path / "geometry.xlsx"
    path.write_bytes(corpus_module.zip_bytes(base.replace(sheet=sheet.encode())))
    return path


def _outcome(path: Path) -> str:
    try:
        precheck(path)
    except UnreadableFile as e:
        return e.code
    return "ok"


NS = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    ("sheet_data", "expected"),
    [
        ('<row r="1"><c r="A1"><v>1</v></c></row>', "ok"),
        ('<row r="10000"><c r="CV10000"><v>1</v></c></row>', "ok"),  # the last row and column allowed
        ('<row r="10001"><c r="A10001"><v>1</v></c></row>', FAR),
        ('<row r="2"><c r="CW2"><v>1</v></c></row>', FAR),  # column 101
        ('<row r="2"><c r="A1048576"><v>1</v></c></row>', FAR),  # a cell outside its row
        (f'<x:row {NS} r="2"><x:c r="XFD2"><x:v>1</x:v></x:c></x:row>', FAR),  # namespace prefix
        ("<row r='2'><c r='XFD2'><v>1</v></c></row>", FAR),  # single quotes
        ('<row r="2"><c s="0" t="n" r="XFD2"><v>1</v></c></row>', FAR),  # r not first
        ('<row r="2"><c t=\'x r="A2" >\' r="XFD2"><v>1</v></c></row>', FAR),  # a decoy r inside a value
        ('<row r="2"><c r="&#88;FD2"><v>1</v></c></row>', FAR),  # a character reference
        ('<row r="2"><c r="xfd2"><v>1</v></c></row>', FAR),  # lower case
        ('<row r="2"><c r="$XFD$2"><v>1</v></c></row>', FAR),
        ('<row r="2"><c r="ABCD2"><v>1</v></c></row>', FAR),  # beyond XFD
        ('<row r="2">' + "<c><v>1</v></c>" * 100 + "</row>", "ok"),  # no r: columns 1..100
        ('<row r="2">' + "<c><v>1</v></c>" * 101 + "</row>", FAR),
        ('<row r="10000"/><row><c><v>1</v></c></row>', FAR),  # a row without r follows row 10000
        ('<row r="1' + "0" * 5000 + '"/>', FAR),  # too many digits for int()
        ("<row/>" * 10_001, FAR),
    ],
)
def test_geometry(tmp_path, sheet_data, expected):
    assert _outcome(_workbook_with_sheet_data(tmp_path, sheet_data)) == expected


@pytest.mark.parametrize(
    ("dimension", "expected"), [("A1", "ok"), ("A1:CV10000", "ok"), ("A1:CW5", FAR), ("B2:A10001", FAR)]
)
def test_dimension(tmp_path, dimension, expected):
    path = _workbook_with_sheet_data(tmp_path, '<row r="1"><c r="A1"><v>1</v></c></row>', dimension)
    assert _outcome(path) == expected


@pytest.mark.parametrize("far", [False, True])
def test_big_sheet_takes_the_streaming_path(tmp_path, far):
    # ~400,000 tags: too many to list at once, so rows and cells are walked.
    rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{col}{r}"><v>1</v></c>' for col in "ABCDEFGHIJK") + "</row>"
        for r in range(1, 9_001)
    )
    if far:
        rows += '<row r="9001"><c r="A9001"/><c/><c r="CV9001"/><c/></row>'  # the last one is column 101
    path = _workbook_with_sheet_data(tmp_path, rows)
    result, seconds = _timed_precheck(path)
    assert (result.code if far else result.kind) == (FAR if far else "xlsx")
    assert seconds < 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("C:/evil.txt", "unsafe-zip"),
        ("xl/../../evil.txt", "unsafe-zip"),
        ("xl/media/../image1.png", "unsafe-zip"),
        ("XL/WORKBOOK.XML", "unsafe-zip"),  # part names are case-insensitive: a duplicate
        ("xl/media/..image1.png", "ok"),  # dots in a name are fine
    ],
)
def test_member_names(tmp_path, name, expected):
    base = corpus_module.Base.make()
    path = tmp_path / "names.xlsx"
    path.write_bytes(corpus_module.zip_bytes(base.members | {name: b"\x89PNG"}))
    assert _outcome(path) == expected


def test_stored_member_whose_size_lies(tmp_path):
    base = corpus_module.Base.make()
    members = corpus_module._raw_members(base.members)
    content = b"<x/>"
    members.append(corpus_module.RawMember("xl/extra.xml", content, zlib.crc32(content), len(content),
                                           method=0, declared_size=100_000))
    path = tmp_path / "stored.xlsx"
    path.write_bytes(corpus_module.raw_zip(members))
    assert _outcome(path) == "zip-bomb"


@pytest.mark.parametrize(("size", "expected"), [(500_000, "ok"), (3_000_000, "zip-bomb")])
def test_compression_ratio_counts_above_one_megabyte(tmp_path, size, expected):
    # Spaces deflate ~1000:1; a small part may, a 3 MB one may not.
    base = corpus_module.Base.make()
    path = tmp_path / "ratio.xlsx"
    path.write_bytes(corpus_module.zip_bytes(base.members | {"customXml/item1.xml": b"<x>" + b" " * size + b"</x>"}))
    assert _outcome(path) == expected


def test_binary_members_are_not_parts_but_disguised_xml_is(tmp_path):
    base = corpus_module.Base.make()
    path = tmp_path / "media.xlsx"
    path.write_bytes(corpus_module.zip_bytes(base.members | {
        "xl/media/image1.png": b"\x89PNG\r\n\x1a\n" + bytes(100),
        "xl/media/model.glb": b"glTF" + bytes(100),  # a suffix we have never heard of
        "xl/media/image2.png": b"  \n<worksheet/>",
    }))
    package = precheck(path)
    assert "xl/media/image1.png" not in package.parts and "xl/media/model.glb" not in package.parts
    assert package.parts["xl/media/image2.png"] == b"  \n<worksheet/>"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("UTF-8", "ok"), ("utf-8", "ok"), ("windows-1258", "ok"), ("ISO-8859-1", "ok"), ("UTF-16", "xml-encoding"),
     ("UTF-7", "xml-encoding"), ("IBM037", "xml-encoding")],
)
def test_declared_xml_encoding(tmp_path, encoding, expected):
    base = corpus_module.Base.make()
    strings = base.members["xl/sharedStrings.xml"].replace(b'encoding="UTF-8"', f'encoding="{encoding}"'.encode())
    path = tmp_path / "encoding.xlsx"
    path.write_bytes(corpus_module.zip_bytes(base.replace(strings=strings)))
    assert _outcome(path) == expected


# --- the corpus is what it claims --------------------------------------------------------


def test_bombs_are_small_on_disk_but_declare_gigabytes(corpus):
    for name, declared in [("bomb_whitespace", 2 * 1024**3), ("bomb_lying_size", 9 * 1024)]:
        path = corpus[name]
        assert path.stat().st_size < 3 * 1024 * 1024
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("xl/worksheets/sheet1.xml")
        assert declared <= info.file_size < declared + 4096


def test_big_cases_fit_under_the_file_size_limit(corpus):
    # Otherwise they would be rejected as file-too-large before the check they test.
    for name in ["million_rows", "many_parts", "many_sheets", "many_names", "far_cell"]:
        assert corpus[name].stat().st_size < Limits().max_file_bytes
    assert corpus["far_cell"].stat().st_size < 17 * 1024


def test_big_cases_build_quickly():
    base = corpus_module.Base.make()
    for name in ["million_rows", "many_sheets"]:
        start = time.perf_counter()
        CASES[name].build(base)
        assert time.perf_counter() - start < 10, name


def test_a_zip_holding_the_workbook_says_so(tmp_path, templates):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(templates["15718"], "2024_15718_thi-tran-nua.xlsx")
    path = tmp_path / "Thi tran Nua.zip"
    path.write_bytes(buf.getvalue())
    try:
        precheck(path)
    except Exception as e:  # noqa: BLE001
        assert e.code == "not-a-workbook" and "có chứa tệp Excel" in str(e)
    else:
        raise AssertionError("a zip was accepted as a workbook")

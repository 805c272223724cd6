"""On paper: every sheet of every workbook the tool writes prints on A4, one page wide, headers
repeated, sheet name and page in the footer; the demo's outputs, printed to PDF by LibreOffice,
stay within a page budget; statuses and charts can be read from a monochrome printer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from pipeline.reporting import libreoffice
from pipeline.reporting.charts import attainment_chart
from pipeline.base.printing import wrapped_height, wrapped_lines
from conftest import copy_of

YEAR = 2024


@pytest.fixture(scope="module")
def demo(demo_2024) -> Path:
    """The demo's output folder for 2024 (the 34-commune district with its mishaps)."""
    return demo_2024 / "output" / str(YEAR)


def _workbooks(out: Path) -> dict[str, Path]:
    feedback = sorted((out / "phan_hoi").glob("*.xlsx"))
    return {"tong_hop": out / f"tong_hop_{YEAR}.xlsx", "kiem_tra": out / f"kiem_tra_so_lieu_{YEAR}.xlsx",
            "phan_hoi": feedback[0], "danh_sach": out / f"danh_sach_gui_bieu_mau_{YEAR}.xlsx",
            "bieu_mau": sorted((out / "bieu_mau").glob("*.xlsx"))[0]}


def test_every_sheet_of_every_written_workbook_has_its_print_setup(demo):
    books = [*demo.glob("*.xlsx"), *(demo / "phan_hoi").glob("*.xlsx"), *(demo / "bieu_mau").glob("*.xlsx")]
    assert len(books) > 45
    for path in books:
        wb = openpyxl.load_workbook(path)
        for sheet in wb.worksheets:
            if sheet.sheet_state != "visible":
                continue
            where = (path.name, sheet.title)
            ps = sheet.page_setup
            assert int(ps.paperSize) == 9, where  # A4
            assert ps.orientation in ("portrait", "landscape"), where
            assert sheet.sheet_properties.pageSetUpPr.fitToPage and int(ps.fitToWidth or 1) == 1, where  # 1 is the default, left out
            assert int(ps.fitToHeight) == 0, where  # as many pages down as it needs
            footer = sheet.oddFooter.left.text, sheet.oddFooter.right.text
            assert footer == ("&A", "Trang &P/&N"), where
            assert sheet.page_margins.left >= 0.4 and sheet.page_margins.bottom >= 0.5, where
            if sheet.max_row > 30 and sheet.title not in ("Hướng dẫn", "Xếp hạng"):
                assert sheet.print_title_rows, where  # a long table repeats its header rows


def test_orientation_follows_the_width(demo):
    wb = openpyxl.load_workbook(demo / f"kiem_tra_so_lieu_{YEAR}.xlsx")
    assert wb["Tổng hợp"].page_setup.orientation == "landscape"  # 13 columns
    wb = openpyxl.load_workbook(_workbooks(demo)["bieu_mau"])
    assert wb["Hướng dẫn"].page_setup.orientation == "portrait"  # one column of text


def test_rows_with_wrapping_text_are_given_their_height(demo):
    wb = openpyxl.load_workbook(demo / f"tong_hop_{YEAR}.xlsx")
    for title, col, width in (("Tổng hợp", 3, 55), ("Độ bao phủ", 2, 55)):
        sheet = wb[title]
        checked = 0
        for row in sheet.iter_rows(min_row=4):
            text = row[col - 1].value
            if isinstance(text, str) and wrapped_lines(text, width) > 1:
                assert sheet.row_dimensions[row[0].row].height >= 15 * wrapped_lines(text, width), (title, row[0].row)
                checked += 1
        assert checked, title
    fb = openpyxl.load_workbook(_workbooks(demo)["phan_hoi"])["Lỗi cần sửa"]
    long = [r for r in fb.iter_rows(min_row=5) if isinstance(r[5].value, str) and len(r[5].value) > 90]
    assert long and all(fb.row_dimensions[r[0].row].height for r in long)


def test_wrapped_height_counts_lines():
    assert wrapped_height([("ngắn", 20)]) is None
    assert wrapped_lines("x" * 100, 40) == 3  # 46 characters a line
    assert wrapped_lines("một\nhai\nba", 40) == 3
    assert wrapped_height([("x" * 100, 40), ("y", 10)]) == 47


@pytest.fixture(scope="module")
def pdfs(demo, tmp_path_factory) -> dict[str, Path]:
    if not libreoffice.available() or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice and pdftotext are needed to print to PDF")
    out = tmp_path_factory.mktemp("pdf")
    # Each workbook copied first: LibreOffice writes its lock file beside the file it opens.
    return {k: libreoffice.convert(copy_of(p, out / "src"), "pdf", out / k) for k, p in _workbooks(demo).items()}


def _pages(pdf: Path) -> list[str]:
    """Each page's text."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    return text.decode("utf-8").split("\f")[:-1]


def _sheet_of(page: str) -> str:
    """The sheet a printed page belongs to, from the footer «<sheet>   Trang 3/17»."""
    footer = [line for line in page.splitlines() if "Trang " in line][-1]
    return footer.split("Trang ")[0].strip()


def test_the_demo_prints_within_its_page_budget(pdfs):
    pages = {k: _pages(p) for k, p in pdfs.items()}
    assert len(pages["tong_hop"]) <= 20
    assert len(pages["kiem_tra"]) <= 6
    assert len(pages["danh_sach"]) <= 2
    feedback_first = [p for p in pages["phan_hoi"] if _sheet_of(p) == "Lỗi cần sửa"]
    assert len(feedback_first) == 1
    assert "Nội dung cần sửa" in feedback_first[0]  # the column that matters, on the same page
    # Every page says which sheet it is and which page of how many.
    for k, ps in pages.items():
        assert all(f"Trang {n}/{len(ps)}" in p for n, p in enumerate(ps, start=1)), k


def test_each_sheet_prints_one_page_wide(demo, pdfs):
    """The last printed column's heading is on the sheet's first page beside the first one."""
    for key, path in _workbooks(demo).items():
        wb = openpyxl.load_workbook(path)
        first_page = {}
        for page in _pages(pdfs[key]):
            first_page.setdefault(_sheet_of(page), page)
        for sheet in wb.worksheets:
            if sheet.sheet_state != "visible" or not sheet.print_title_rows or sheet.title == "Xu hướng":
                continue
            head = int(sheet.print_title_rows.split(":")[-1].lstrip("$"))
            hidden = {c for c, d in sheet.column_dimensions.items() if d.hidden}
            cells = [c for c in sheet[head] if isinstance(c.value, str) and c.value.strip()
                     and c.column_letter not in hidden]
            page = " ".join(first_page[sheet.title].split())
            for cell in (cells[0], cells[-1]):
                words = cell.value.split()[0]
                assert words in page, (key, sheet.title, cell.value)


def test_statuses_read_without_colour(pdfs):
    text = "\n".join(_pages(pdfs["tong_hop"]))
    assert "Đạt ✓" in text and "Chưa đạt ✗" in text
    # The units' values on the goal sheets carry the mark beside their colour.
    assert "✗" in "\n".join(p for p in _pages(pdfs["tong_hop"]) if _sheet_of(p).startswith("Mục tiêu"))


def test_met_and_missed_bars_differ_in_grey():
    """Green and red print as nearly the same grey; a missed target is a pale hatched bar."""
    from io import BytesIO

    from PIL import Image

    def dark_share(met: bool) -> float:
        png = attainment_chart([{"label": "CT1. Chỉ tiêu", "percent": 120.0, "met": met, "text": "x"}] * 3)
        grey = Image.open(BytesIO(png)).convert("L")
        pixels = grey.tobytes()
        return sum(110 <= p < 120 for p in pixels) / len(pixels)  # the solid bar's grey

    assert dark_share(True) > 5 * dark_share(False)


def test_feedback_first_page_as_png_is_one_landscape_page(pdfs, tmp_path):
    """Looked at as the unit prints it: the first page is landscape and carries the whole list."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm is needed to look at the page")
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdfs["phan_hoi"]),
                    str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    with Image.open(png) as im:
        assert im.width > im.height

"""The desk in a real browser (Debian's chromium driven by Playwright): the officer's year,
walked as he would, and every page free of console errors."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import pytest

from conftest import COMMUNE_VALUES, YEAR, fill

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

if importlib.util.find_spec("playwright") is None:
    pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')", allow_module_level=True)
if not Path(CHROMIUM).exists():
    pytest.skip(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from pipeline.desk.server import Running  # noqa: E402

PAGES = ["/", "/bieu-mau", "/nhan-tep", "/don-vi", "/tong-hop", "/bao-cao", "/cai-dat"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 800}, locale="vi-VN")
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    pg.problems = problems
    yield pg
    context.close()


def text_of(page) -> str:
    return re.sub(r"\s+", " ", page.inner_text("main"))


def nav(page, name: str) -> None:
    page.locator("header nav").get_by_role("link", name=name, exact=True).click()


def run_job(page, button: str) -> None:
    """Press a button whose work runs in the background and wait for the page to come back."""
    with page.expect_navigation(timeout=120_000):
        page.get_by_role("button", name=button, exact=True).click()


def test_the_officers_year_in_the_browser(workspace, page, tmp_path):
    with Running(workspace.root, year=YEAR) as desk:
        page.goto(desk.url)
        assert page.url == f"{desk.base}/"  # the token went into a cookie, out of the address bar
        assert "Tạo biểu mẫu cho các đơn vị" in text_of(page)

        # Biểu mẫu: generate with a progress bar, then download one unit's form.
        nav(page, "Biểu mẫu")
        run_job(page, "Tạo biểu mẫu")
        expect(page.get_by_role("link", name="2024_15700_xa-dan-luc.xlsx")).to_be_visible()
        paste = page.locator("tr", has_text="Xã Dân Lực").locator("textarea").input_value()
        assert "Kính gửi Xã Dân Lực" in paste and "20/11/2024" in paste
        with page.expect_download() as dl:
            page.get_by_role("link", name="2024_15700_xa-dan-luc.xlsx").click()
        form = tmp_path / "form.xlsx"
        dl.value.save_as(form)
        with page.expect_download() as dl:
            page.get_by_role("link", name="2024_15682_xa-hop-thanh.xlsx").click()
        other = tmp_path / "other.xlsx"
        dl.value.save_as(other)
        with page.expect_download() as dl:
            page.get_by_role("link", name="Tải tất cả (.zip)").click()
        import zipfile
        zipped = tmp_path / "all.zip"
        dl.value.save_as(zipped)
        assert len(zipfile.ZipFile(zipped).namelist()) == len(workspace.roster.for_year(YEAR))

        # The units fill them: one right, one with more vaccinated babies than babies.
        good = fill(form, tmp_path / "Bao cao Dan Luc.xlsx", COMMUNE_VALUES)
        bad = fill(other, tmp_path / "hop thanh.xlsx", {**COMMUNE_VALUES, "ct05_u1_vaccinated": 400})

        # Nhận tệp: both at once, verdicts within seconds.
        nav(page, "Nhận tệp")
        started = time.monotonic()
        with page.expect_navigation(url=re.compile(r"moi="), timeout=60_000):
            page.set_input_files("#upload input[type=file]", [str(good), str(bad)])
        took = time.monotonic() - started
        good_row = page.locator("tr.recent", has_text="Bao cao Dan Luc.xlsx")
        bad_row = page.locator("tr.recent", has_text="hop thanh.xlsx")
        expect(good_row.locator("td.verdict")).to_have_text(re.compile("^Hợp lệ"))
        expect(bad_row.locator("td.verdict")).to_have_text("Có lỗi, phải gửi lại")
        expect(bad_row).to_contain_text("không thể vượt số trẻ em dưới 1 tuổi")
        assert "Kính gửi Xã Hợp Thành" in bad_row.locator("textarea").input_value()
        with page.expect_download() as dl:
            bad_row.get_by_role("link", name="Tệp phản hồi").click()
        assert dl.value.suggested_filename == "2024_15682_xa-hop-thanh_phan_hoi.xlsx"
        assert (workspace.inbox(YEAR) / "Bao cao Dan Luc.xlsx").read_bytes() == good.read_bytes()
        print(f"upload of two files to verdicts: {took:.2f} s")

        # Đơn vị: the broken unit's own problems.
        nav(page, "Đơn vị")
        page.get_by_role("link", name="Xã Hợp Thành").click()
        assert "Có lỗi, phải gửi lại" in text_of(page) and "không thể vượt" in text_of(page)

        # Tổng hợp: the 32 indicators against their targets, workbook and CSV to download.
        nav(page, "Tổng hợp")
        run_job(page, "Tổng hợp số liệu")
        rows = page.locator("table.indicators tbody tr")
        expect(rows).to_have_count(len(workspace.catalogue.indicators))
        expect(rows.filter(has_text="Chỉ tiêu 3b").locator("td").first).to_have_text("Chỉ tiêu 3b")
        assert "Số liệu của 1/34 xã, thị trấn" in text_of(page)
        with page.expect_download() as dl:
            page.get_by_role("link", name="Dữ liệu (.csv)").click()
        csv = (tmp_path / "d.csv")
        dl.value.save_as(csv)
        assert "15700" in csv.read_text(encoding="utf-8-sig")

        # Báo cáo: written in the background, downloaded, and it is the district's report.
        nav(page, "Báo cáo")
        page.fill("input[name=ngay]", "2024-11-25")
        run_job(page, "Viết báo cáo")
        with page.expect_download() as dl:
            page.get_by_role("link", name="Tải báo cáo (.docx)").click()
        docx = tmp_path / "bc.docx"
        dl.value.save_as(docx)
        body = re.sub(r"<[^>]+>", "", zipfile.ZipFile(docx).read("word/document.xml").decode("utf-8"))
        assert "BÁO CÁO" in body and "ngày 25 tháng 11 năm 2024" in body
        assert "Cần xem lại" in text_of(page)  # coverage: 1 of 34 communes
    assert page.problems == []


def test_accept_a_broken_unit_with_a_note(workspace, page, tmp_path):
    from pipeline.forms.writer import generate

    generate(workspace, YEAR, ["15682"])
    bad = fill(workspace.output(YEAR) / "bieu_mau" / "2024_15682_xa-hop-thanh.xlsx", workspace.inbox(YEAR) / "b.xlsx",
               {**COMMUNE_VALUES, "ct05_u1_vaccinated": 400})
    assert bad.exists()
    with Running(workspace.root, year=YEAR) as desk:
        page.goto(desk.url)
        nav(page, "Nhận tệp")
        run_job(page, "Kiểm tra lại thư mục nhận tệp")
        page.goto(f"{desk.base}/don-vi/15682")
        page.fill("form[action$='/chap-nhan'] input[name=ghi_chu]", "Đã gọi điện xác nhận: số tiêm chủng gồm trẻ nơi khác đến")
        with page.expect_navigation():
            page.get_by_role("button", name="Chấp nhận", exact=True).click()
        assert "Đã ghi quyết định" in text_of(page)
        assert "Đã gọi điện xác nhận" in text_of(page)

        # The real received date, typed as the officer writes it, whatever the browser's language.
        box = page.locator("form[action$='/ngay-nhan'] input[name=ngay]")
        assert box.get_attribute("type") in (None, "text")
        box.fill("31/11/2024")
        with page.expect_navigation():
            page.get_by_role("button", name="Ghi ngày nhận", exact=True).click()
        assert "Ngày «31/11/2024» không đúng; ghi ngày/tháng/năm, ví dụ 18/11/2024." in text_of(page)
        page.locator("form[action$='/ngay-nhan'] input[name=ngay]").fill("18/11/2024")
        page.locator("form[action$='/ngay-nhan'] input[name=ghi_chu]").fill("Nhận qua Zalo")
        with page.expect_navigation():
            page.get_by_role("button", name="Ghi ngày nhận", exact=True).click()
        assert "Đã ghi quyết định" in text_of(page) and "Sửa ngày nhận (b.xlsx): Nhận qua Zalo" in text_of(page)
        assert "nhận 18/11/2024" in text_of(page)
    assert page.problems == []


def test_settings_of_2025_in_the_browser(workspace, page):
    with Running(workspace.root, year=YEAR) as desk:
        page.goto(desk.url)
        nav(page, "Cài đặt")
        assert "đang xem và sửa các mục chung" in text_of(page)
        page.select_option("select[name=nam]", "2025")
        with page.expect_navigation():
            page.get_by_role("button", name="Chọn năm", exact=True).click()
        assert "đang xem và sửa mục «from_2025» của settings.yaml, áp dụng cho các năm báo cáo từ 2025" in text_of(page)
        assert page.locator("input[name=issuer]").input_value() == "Sở Y tế tỉnh Thanh Hóa"
        page.locator("input[name=signer_name]").fill("Trần Thị Bình")
        with page.expect_navigation():
            page.get_by_role("button", name="Lưu thông số", exact=True).click()
        assert "Đã lưu thông số vào mục «from_2025»" in text_of(page)
        assert page.locator("input[name=signer_name]").input_value() == "Trần Thị Bình"
    from pipeline.config.workspace import Workspace

    assert Workspace(workspace.root).for_year(2025).settings["signer"]["name"] == "Trần Thị Bình"
    assert page.problems == []


def test_no_page_writes_a_console_error(demo_2024, page):
    with Running(demo_2024, year=YEAR) as desk:
        page.goto(desk.url)
        for path in PAGES + ["/don-vi/15682", "/nhan-tep?trang=2", "/don-vi?tt=rejected"]:
            page.goto(desk.base + path)
            page.wait_for_load_state("networkidle")
            assert page.title().endswith("treem năm 2024"), path
        page.goto(desk.base + "/tong-hop")
        for img in page.locator("figure img").all():
            assert img.evaluate("i => i.naturalWidth") > 100
    assert page.problems == []

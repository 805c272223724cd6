"""Screenshots of every page of the desk on the demo workspace, for the README.

    python bench/ui_screenshots.py docs/ui

Needs Playwright for Python and Debian's chromium (/usr/bin/chromium)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from pipeline.demo import run_demo  # noqa: E402
from pipeline.desk.server import Running  # noqa: E402

SHOTS = [("tong_quan", "/"), ("bieu_mau", "/bieu-mau"), ("nhan_tep", "/nhan-tep"), ("don_vi", "/don-vi"),
         ("don_vi_loi", "/don-vi/15682"), ("tong_hop", "/tong-hop"), ("bao_cao", "/bao-cao"), ("cai_dat", "/cai-dat")]


def small(path: Path) -> None:
    """A palette of 96 colours: a page of text and flat colours reads the same at a third of
    the size."""
    from PIL import Image

    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=96, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/ui")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="treem-shots-") as tmp:
        ws = Path(tmp) / "demo"
        run_demo(ws, 2024)
        with Running(ws, year=2024) as desk, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1100, "height": 720})
            page.goto(desk.url)
            page.goto(desk.base + "/tong-hop")
            with page.expect_navigation(timeout=120_000):
                page.get_by_role("button", name="Tổng hợp lại", exact=True).click()  # draws the charts too
            page.goto(desk.base + "/bao-cao")
            with page.expect_navigation(timeout=120_000):
                page.get_by_role("button", name="Viết báo cáo", exact=True).click()
            for name, path in SHOTS:
                page.goto(desk.base + path)
                page.wait_for_load_state("networkidle")
                shot = out / f"{name}.png"
                page.screenshot(path=str(shot))
                small(shot)
                print(shot)
            browser.close()


if __name__ == "__main__":
    main()

"""The report's charts draw every Vietnamese letter: in the chosen serif when it has them, else
from DejaVu Sans (shipped with matplotlib), never as an empty box with a warning."""

from __future__ import annotations

import warnings

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

import pipeline.reporting.charts as charts

BARS = [{"label": "Tỷ lệ trẻ em dưới 5 tuổi được đăng ký khai sinh", "percent": None},
        {"label": "Tỷ lệ xã, phường đạt tiêu chuẩn phù hợp với trẻ em", "percent": 96.0, "met": False,
         "text": "96% (mục tiêu 100)"}]


def test_the_chosen_font_has_every_vietnamese_letter_upright_and_in_italic():
    name = charts.font_family()
    for style in ("normal", "italic"):
        path = font_manager.findfont(font_manager.FontProperties(family=name, style=style), fallback_to_default=False)
        charmap = FT2Font(path).get_charmap()
        assert [c for c in charts.VIETNAMESE_LETTERS if ord(c) not in charmap] == [], (name, style)


def test_a_font_without_the_vietnamese_letters_borrows_them_from_dejavu_sans(monkeypatch):
    """STIXGeneral (shipped with matplotlib) has no «ố» nor «ệ»: «chưa có số liệu» still draws,
    its missing letters taken from DejaVu Sans."""
    monkeypatch.setattr(charts, "font_family", lambda: "STIXGeneral")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of every glyph it cannot draw
        png = charts.attainment_chart(BARS)
        trend = charts.trend_chart([{"title": "Tỷ lệ trẻ em được tiêm chủng đầy đủ", "unit": "%",
                                     "values": {2023: 95.0, 2024: 96.5}, "targets": {2025: 98.0}}], [2023, 2024])
    assert png.startswith(b"\x89PNG") and trend.startswith(b"\x89PNG")

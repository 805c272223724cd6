"""How every sheet the tool writes prints: A4, portrait or landscape by the sheet's width, one
page wide, the header rows on every page, the sheet name and "Trang 2/5" in the footer.

Officers print on A4 monochrome lasers, mostly through LibreOffice or Excel's defaults, which
print an unset sheet at 100 % across as many pages as its columns need. Works on XlsxWriter
worksheets and on openpyxl worksheets (the feedback copies) alike.

Neither Excel nor LibreOffice makes a row taller for text that wraps when the file comes from
a program, so rows whose text wraps get their height from `wrapped_height`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

A4 = 9  # the paper-size code of A4 in both libraries
# Wider than this (in Excel's column-width characters) prints landscape: A4 portrait at 0.5"
# margins holds about 95 characters of Calibri 11 at 100 %.
PORTRAIT_MAX_WIDTH = 100
FOOTER = "&L&8&A&R&8Trang &P/&N"  # &A: the sheet's name; &P/&N: page of pages
MARGINS = {"left": 0.45, "right": 0.45, "top": 0.6, "bottom": 0.7}
LINE_POINTS = 15.0


def landscape_for(total_width: float) -> bool:
    return total_width > PORTRAIT_MAX_WIDTH


def set_print(sheet, widths: Sequence[float], header_rows: tuple[int, int] | None = None,
              landscape: bool | None = None) -> None:
    """Page set-up of one sheet. `widths` are the printed columns' widths (to choose the
    orientation); `header_rows` is (first, last), 0-based, repeated at the top of every page."""
    wide = landscape_for(sum(widths)) if landscape is None else landscape
    if hasattr(sheet, "set_paper"):  # XlsxWriter
        sheet.set_paper(A4)
        sheet.set_landscape() if wide else sheet.set_portrait()
        sheet.fit_to_pages(1, 0)
        if header_rows is not None:
            sheet.repeat_rows(*header_rows)
        sheet.set_footer(FOOTER, {"margin": 0.3})
        sheet.set_margins(**MARGINS)
        sheet.center_horizontally()
        return
    from openpyxl.worksheet.page import PageMargins  # openpyxl

    sheet.page_setup.paperSize = A4
    sheet.page_setup.orientation = "landscape" if wide else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if header_rows is not None:
        sheet.print_title_rows = f"{header_rows[0] + 1}:{header_rows[1] + 1}"
    sheet.oddFooter.left.text, sheet.oddFooter.left.size = "&A", 8
    sheet.oddFooter.right.text, sheet.oddFooter.right.size = "Trang &P/&N", 8
    sheet.page_margins = PageMargins(footer=0.3, **MARGINS)
    sheet.print_options.horizontalCentered = True


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes in a wrapping column `width` characters wide (Excel's unit),
    counting its own line breaks. An estimate on the safe side: a column of width w holds
    about 1.2 w characters of Vietnamese text in Calibri or Times New Roman 11."""
    per_line = max(1.0, width * 1.2 - 2)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def wrapped_height(cells: Iterable[tuple[object, float]], line_points: float = LINE_POINTS) -> float | None:
    """The height in points a row needs for its wrapping cells, given (value, column width)
    pairs; None when one line is enough (the row keeps its default height)."""
    lines = max((wrapped_lines(v, w) for v, w in cells if isinstance(v, str) and v), default=1)
    return round(line_points * lines + 2, 2) if lines > 1 else None

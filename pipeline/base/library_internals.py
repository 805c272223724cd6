"""The few places the tool reaches inside a library, each behind one small function here.

Each is held by tests/test_library_internals.py, which fails loudly, naming the library,
when a new version changes what the function relies on; pyproject.toml bounds the versions of
XlsxWriter and openpyxl for the same reason (concurrent.futures comes with Python)."""

from __future__ import annotations


def skip_formula_rewriting(worksheet) -> None:
    """XlsxWriter: write this sheet's formulas as given. Ours use only Excel 2007 functions, so
    XlsxWriter's rewriting of dynamic-array and future functions (some 30 regular expressions
    per formula, half the time spent on a workbook) has nothing to do. Replaces the private
    `Worksheet._prepare_formula(formula, expand_future_functions=False)`."""
    worksheet._prepare_formula = lambda formula, expand_future_functions=False: formula.lstrip("=")


def worksheet_cells(sheet) -> list:
    """openpyxl: the cells a sheet holds, from its private `_cells` dict; `iter_rows` would
    create every empty cell of the used range."""
    return list(sheet._cells.values())


def pool_processes(pool) -> list:
    """concurrent.futures: the worker processes of a ProcessPoolExecutor (its private
    `_processes`), so that one stuck in a file can be killed."""
    return list((getattr(pool, "_processes", None) or {}).values())

"""The one table of problems: every code the package raises has a severity and a Vietnamese
title, and the workbooks show the title, keeping the code in a hidden column for scripts."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import VIETNAMESE
from pipeline.problems import ERROR, PROBLEMS, SKIPPED, WARNING, Problem, title

PACKAGE = Path(__file__).parent.parent / "pipeline"
# Every way a problem code is raised in the package.
RAISED = [
    re.compile(r'ValidationIssue\(\s*"([a-z]+(?:-[a-z]+)*)"'),
    re.compile(r'UnreadableFile\(\s*"([a-z]+(?:-[a-z]+)*)"'),
    re.compile(r'_fail\(\s*"([a-z]+(?:-[a-z]+)*)"'),
    re.compile(r'"([a-z]+(?:-[a-z]+)*)" if _is_worksheet_name'),
    re.compile(r'\{"path": [^{}]*?"code": "([a-z]+(?:-[a-z]+)*)"'),  # a skipped file
    re.compile(r'\("unreadable", [^,()]+, [^,()]+, "([a-z]+(?:-[a-z]+)*)"'),
    re.compile(r'out\.append\(\("unreadable", p, sha, "([a-z]+(?:-[a-z]+)*)"'),
]


def raised_codes() -> set[str]:
    codes = set()
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in RAISED:
            codes |= set(pattern.findall(text))
        # f"identity-from-{source}": the sources are content and filename.
        if 'f"identity-from-{source}"' in text:
            codes |= {"identity-from-content", "identity-from-filename"}
    return codes


def test_every_code_raised_in_the_package_has_a_row():
    codes = raised_codes()
    assert len(codes) > 40  # the scan itself works
    assert codes - set(PROBLEMS) == set()


def test_no_row_is_left_over():
    assert set(PROBLEMS) - raised_codes() == set()


def test_rows_are_well_formed():
    for code, p in PROBLEMS.items():
        assert isinstance(p, Problem) and p.code == code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code)
        assert p.severity in (ERROR, WARNING, SKIPPED)
        assert VIETNAMESE.search(p.title) and len(p.title) <= 40, code
    assert len({p.title for p in PROBLEMS.values()}) == len(PROBLEMS)  # one title, one kind


def test_a_code_the_table_does_not_know_gets_a_vietnamese_title():
    assert title("number-as-text") == "Số nhập dạng văn bản"
    assert VIETNAMESE.search(title("from-a-newer-version"))

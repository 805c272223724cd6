"""The one table of problems: every code the package raises has its row (severity, group,
Vietnamese title, message template and hint), every row is raised somewhere and met by a test,
no other problem code is written anywhere in the package, and the manual's list (docs/huong_dan.md) is the table."""

from __future__ import annotations

import re
import string
from pathlib import Path

from conftest import VIETNAMESE
from pipeline.base.problems import (ERROR, PROBLEMS, SKIPPED, WARNING, Group, Problem, ValidationIssue, issue,
                               markdown_table, skipped_file, title, unreadable)

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "pipeline"
CODE = r'"([a-z]+(?:-[a-z0-9]+)*)"'
KEBAB = r'"([a-z]+(?:-[a-z0-9]+)+)"'  # a code of one word is not told from other words
# Every way a problem is raised in the package: the table's three constructors, collect's
# refusal of a file a worker could not read, precheck's refusal, and a choice between two codes.
RAISED = [
    re.compile(r'\b(?:issue|unreadable|skipped_file|_fail)\(\s*' + CODE),
    re.compile(r'\b_refused\([^()"]*' + CODE),
    re.compile(r'\b(?:issue|_fail)\(\s*"[^"]+" if [^,]*? else ' + CODE),
]
# Kebab-case strings in the package that are not problem codes.
OTHER_NAMES = {
    "accept-undone", "received-set", "history-imported", "value-changed",  # audit-log actions
    "check-settings", "import-history",  # CLI commands
    "content-length", "content-type",  # HTTP headers
    "grouping-or-decimal", "not-a-number", "not-finite", "text-number",  # how text.parse_number read a number
    "treem-ctxhtre",  # the form's id
    "treem-demo", "tmp-fill", "treem-parent-watch", "treem-ui-jobs", "treem-ui-watch",  # folders and threads
    "xa-dan-luc",  # a file-name slug in a docstring
    "latin-1", "utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-16-le",  # text encodings
}


def package_sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}


def raised_codes() -> set[str]:
    codes = set()
    for text in package_sources().values():
        for pattern in RAISED:
            codes |= set(pattern.findall(text))
    return codes


def test_every_code_raised_in_the_package_has_a_row():
    codes = raised_codes()
    assert len(codes) > 50  # the scan itself works
    assert codes - set(PROBLEMS) == set()


def test_no_row_is_left_over():
    assert set(PROBLEMS) - raised_codes() == set()


def test_no_problem_code_is_written_outside_the_table():
    """Any kebab-case string in the package is a code of the table, one of its variants or
    groups, or a name known not to be a problem: a new code cannot be used without its row."""
    allowed = set(PROBLEMS) | {v for p in PROBLEMS.values() for v in p.variants} | {g.value for g in Group}
    unknown = {}
    for path, text in package_sources().items():
        for name in set(re.findall(KEBAB, text)) - allowed - OTHER_NAMES:
            unknown[name] = path.relative_to(ROOT).as_posix()
    assert unknown == {}


SEVERITY_WORD = r"[\"'](?:error|warning|skipped)[\"']"
# Every way a severity could be told by its bare value instead of the Severity enum.
BARE_SEVERITY = re.compile("|".join([
    rf"[=!]=\s*{SEVERITY_WORD}", rf"{SEVERITY_WORD}\s*[=!]=",  # == "error", "warning" != x
    rf"\bin\s*[(\[{{][^)\]}}]*{SEVERITY_WORD}",  # in ("error", "warning")
    # a problem read as a dict, its severity compared: i["severity"] == …, i.get("severity") in …
    r"(?:\[\s*[\"']severity[\"']\s*\]|\.get\(\s*[\"']severity[\"']\s*\))\s*(?:[=!]=|(?:not\s+)?in\b)",
    rf"\bseverity\s*=\s*{SEVERITY_WORD}", rf"[\"']severity[\"']\s*:\s*{SEVERITY_WORD}",  # built from a bare word
]))


def test_bare_severity_finds_what_it_is_meant_to():
    for line in ['if i["severity"] == "error":', "x != 'warning'", 'k in ("error", "warning")',
                 "{% if i.severity == 'error' %}", 'i.get("severity") in bad', 'Rule(severity="warning")',
                 'd["severity"] not in allowed', 'i["severity"] == Severity.ERROR',
                 '{"message": m, "severity": "warning"}', '"skipped" == s']:
        assert BARE_SEVERITY.search(line), line
    for line in ["i.severity is ERROR", 'JSONResponse({"error": msg})', 'log_level="warning"',
                 "Severity.ERROR", '"error" if bad else "ok"', 'Severity(row["severity"])']:
        assert not BARE_SEVERITY.search(line), line


def test_no_severity_is_a_bare_string_outside_the_table():
    """Severity is the enum everywhere (code and the desk's templates): only problems.py,
    which defines it, spells its values."""
    found = [f"{path.relative_to(ROOT).as_posix()}:{n}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*")) if path.suffix in (".py", ".html") and path.name != "problems.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if BARE_SEVERITY.search(line)]
    assert found == []


def test_every_code_is_met_by_a_test():
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py")
                    if p.name != "test_problems.py")
    assert [c for c in PROBLEMS if not re.search(rf"[\"']{re.escape(c)}[\"']", tests)] == []


def _filled(template: str) -> str:
    values = {name: "X1" for _, name, _, _ in string.Formatter().parse(template) if name and name not in (
        "hint", "Hint")}
    return template, values


def test_rows_are_well_formed():
    for code, p in PROBLEMS.items():
        assert isinstance(p, Problem) and p.code == code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code)
        assert p.severity in (ERROR, WARNING, SKIPPED) and isinstance(p.group, Group)
        assert VIETNAMESE.search(p.title) and len(p.title) <= 40, code
        assert VIETNAMESE.search(p.hint) and not p.hint.endswith(" "), code
        for variant in [None, *p.variants]:
            template, values = _filled(p.variants[variant] if variant else p.message)
            text = p.text(variant, **values)
            words = re.sub(r"\{\w+\}|[\s().,:;]", "", template)  # "{says} ({detail})" is all values
            assert (VIETNAMESE.search(text) or not words) and "{" not in text and "}" not in text, (code, variant)
            if "{hint}" in template:
                assert p.hint.format(**values) in text
    assert len({p.title for p in PROBLEMS.values()}) == len(PROBLEMS)  # one title, one kind
    assert {p.group for p in PROBLEMS.values()} == set(Group)


def test_a_problem_is_built_from_its_row():
    found = issue("out-of-range", where="Ô F12 («Số trẻ em»)", value="-3", low="0", high="1.000.000",
                  sheet="Số liệu", cell="F12", field="children_total")
    assert found == ValidationIssue("out-of-range", ERROR, "Ô F12 («Số trẻ em»): -3 nằm ngoài khoảng cho phép "
                                    "0 - 1.000.000.", sheet="Số liệu", cell="F12", field="children_total")
    assert issue("percent-sign", severity=ERROR, where="Ô F9", shown="95%").severity == ERROR
    required = issue("required-missing", where="Ô F9")
    assert required.message == ("Ô F9 chưa nhập. Nếu kết quả bằng không, nhập 0; nếu chưa có số liệu, ghi lý do ở "
                                "cột «Giải thích».")  # the hint, with a capital letter after a full stop
    e = unreadable("encrypted-file")
    assert (e.code, str(e)) == ("encrypted-file", "Tệp được đặt mật khẩu nên không đọc được; đề nghị đơn vị gỡ "
                                                  "mật khẩu rồi gửi lại.")
    skipped = skipped_file("broken-link", "a.xlsx")
    assert (skipped.path, skipped.code, skipped.severity) == ("a.xlsx", "broken-link", SKIPPED)
    assert skipped.to_dict() == {"path": "a.xlsx", "code": "broken-link", "message": skipped.message}
    assert found.to_dict()["severity"] == "error" and "rule" not in found.to_dict()  # as --json prints it


def test_the_manual_lists_the_table():
    manual = (ROOT / "docs" / "huong_dan.md").read_text(encoding="utf-8")
    assert markdown_table() in manual
    checked = manual.split("### Những gì được kiểm tra")[1].split("\n## ")[0]
    assert set(re.findall(r"`([a-z]+(?:-[a-z]+)+)`", checked)) <= set(PROBLEMS)


def test_a_code_the_table_does_not_know_gets_a_vietnamese_title():
    assert title("number-as-text") == "Số nhập dạng văn bản"
    assert VIETNAMESE.search(title("from-a-newer-version"))

"""settings.yaml as an officer saves it: Notepad's encodings, typos, deadlines written his way."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.base.errors import ConfigError
from pipeline.config.settings import Settings, check_settings, parse_day_month
from pipeline.config.workspace import Workspace

SETTINGS = """# Thông số
issuer: Ủy ban nhân dân xã Triệu Sơn
place: Triệu Sơn
recipients:
  - Sở Y tế tỉnh Thanh Hóa (để b/c);
deadline: 25/11
"""


def _cp1258(text: str) -> bytes:
    """As Notepad saves "ANSI" on a Vietnamese Windows: letters with a tone mark are a base
    letter of the code page (â, ơ, ư...) followed by the tone as a combining mark."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in d if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in tones))
            out += (base + tones).encode("cp1258")
    return out


def _invoke(ws, *args):
    return CliRunner().invoke(cli, [*args, "--workspace", str(ws.root)])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1258"])
def test_settings_saved_by_notepad_in_any_encoding_are_read(workspace, encoding):
    raw = _cp1258(SETTINGS) if encoding == "cp1258" else SETTINGS.encode(encoding)
    (workspace.root / "settings.yaml").write_bytes(raw)
    s = Workspace(workspace.root).settings
    assert s["issuer"] == "Ủy ban nhân dân xã Triệu Sơn"
    assert s["recipients"] == ["Sở Y tế tỉnh Thanh Hóa (để b/c);"]
    assert s.deadline(2024) == date(2024, 11, 25)
    res = _invoke(workspace, "check-settings")
    assert res.exit_code == 0 and "không có lỗi" in res.output


@pytest.mark.parametrize("text, expected", [
    ("20/11", (20, 11)), ("20/11/2024", (20, 11)), ("20-11", (20, 11)), ("2024-11-20", (20, 11)),
    ("11-20", (20, 11)), ("5/12", (5, 12)), (date(2024, 11, 18), (18, 11)), (None, (20, 11)),
])
def test_deadline_formats(text, expected):
    assert parse_day_month(text) == (expected, None)


@pytest.mark.parametrize("text", ["10-11", "31/11", "ngày 20", "20.11.24"])
def test_a_deadline_that_is_ambiguous_or_not_a_date_is_refused(text):
    day_month, problem = parse_day_month(text)
    assert day_month is None and "20/11" in problem


def test_the_deadline_can_differ_by_year(workspace):
    (workspace.root / "settings.yaml").write_text(
        "deadline:\n  2024: 18/11/2024\n  2025: 2025-12-15\n  mac_dinh: 20-11\n", encoding="utf-8")
    s = Workspace(workspace.root).settings
    assert [s.deadline(y) for y in (2024, 2025, 2026)] == [date(2024, 11, 18), date(2025, 12, 15),
                                                            date(2026, 11, 20)]


def test_every_problem_at_once_with_line_numbers_and_no_traceback(workspace):
    (workspace.root / "settings.yaml").write_text(
        "issuer: Ủy ban nhân dân xã Triệu Sơn\n"       # 1
        "checks:\n"                                     # 2
        "  yoy_change_percent: năm mươi\n"              # 3
        "deadline:\n"                                   # 4
        "  2024: 31/11\n"                               # 5
        "  2025: 20/11/2024\n"                          # 6
        "recipients: Sở Y tế\n", encoding="utf-8")      # 7
    problems = check_settings(workspace.root / "settings.yaml")
    assert [p.line for p in problems] == [3, 5, 6, 7]
    res = _invoke(workspace, "check-settings")
    assert res.exit_code == 1 and "4 lỗi" in res.output and "dòng 5" in res.output
    assert "Traceback" not in res.output
    # The same check stops every other command before it does any work.
    res = _invoke(workspace, "status", "--year", "2024")
    assert res.exit_code != 0 and "dòng 3" in res.output and "dòng 7" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("text, line", [
    ("issuer: UBND xã\nsigner:\n  name: Lê Văn A\n   title: CHỦ TỊCH\n", 4),
    ("issuer: UBND xã\nplace: \"Triệu Sơn\nd: 1\n", None),
    ("issuer: UBND xã\n\tplace: Triệu Sơn\n", 2),
    ("issuer:UBND\nplace: a: b\n", 2),
])
def test_a_syntax_error_is_one_vietnamese_line_with_its_line_and_a_fix(workspace, text, line):
    (workspace.root / "settings.yaml").write_text(text, encoding="utf-8")
    problems = check_settings(workspace.root / "settings.yaml")
    assert len(problems) == 1
    if line:
        assert problems[0].line == line
    assert "\n" not in str(problems[0]) and ("dấu cách" in str(problems[0]) or "Tab" in str(problems[0]))
    with pytest.raises(ConfigError):
        Settings.load(workspace.root / "settings.yaml")


def test_a_recipient_line_with_a_colon_is_caught_in_the_2025_section_too(workspace):
    (workspace.root / "settings.yaml").write_text(
        "from_2025:\n  issuer: Sở Y tế tỉnh Thanh Hóa\n  recipients:\n    - Bộ Y tế;\n    - Lưu: VT.\n",
        encoding="utf-8")
    (problem,) = check_settings(workspace.root / "settings.yaml")
    assert problem.line == 3 and "from_2025" in problem.message and "ngoặc kép" in problem.message


def test_the_default_settings_have_no_problem():
    from pipeline.config.settings import default_settings_path

    assert check_settings(default_settings_path()) == []


def test_each_check_has_one_default_and_one_accessor(workspace):
    """The thresholds come from settings.yaml through Settings.check only; a workspace file that
    sets one changes that one, and settings made without any fall back to the defaults file."""
    import re
    from pathlib import Path

    assert Settings({}).check("outlier_z") == 3.5
    assert Settings({"checks": {"outlier_z": 2}}).check("yoy_change_percent") == 50
    (workspace.root / "settings.yaml").write_text("checks:\n  outlier_z: 2.5\n", encoding="utf-8")
    settings = Workspace(workspace.root).settings
    assert (settings.check("outlier_z"), settings.check("small_denominator_per_100000")) == (2.5, 1000)
    package = Path(__file__).parent.parent / "pipeline"
    readers = {p.name for p in package.rglob("*.py") if re.search(r"""get\(["']checks["']\)""", p.read_text("utf-8"))}
    assert readers == {"settings.py"}

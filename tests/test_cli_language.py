"""click speaks Vietnamese through its gettext hooks: the catalogue pipeline/locale/vi/…/treem.po
covers every message of the installed click a user can meet, each translation fills in only
what click passes it, the committed treem.mo is that catalogue compiled, the wheel carries both,
and a mistyped command line is one Vietnamese line with exit code 2."""

from __future__ import annotations

import ast
import fnmatch
import gettext
import io
import re
import string
import sys
import tomllib
from pathlib import Path

import click
import pytest

from conftest import VIETNAMESE, load_helper
from pipeline.commands.language import DOMAIN, LOCALE_DIR, speak_vietnamese

msgfmt = load_helper("msgfmt", "../tools/msgfmt.py")

ROOT = Path(__file__).parent.parent
PO = LOCALE_DIR / "vi" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
# click's errors for the programmer who declares a command wrongly: raised as TypeError or
# ValueError at import, or a repr; the officer never meets them, so they stay English.
FOR_PROGRAMMERS = {
    "Name '{name}' defined twice",
    "Boolean option {decl!r} cannot use the same flag for true/false.",
    "Could not determine name for option with declarations {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? Did you mean "
    "to pass '--{name}'?",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.",
    "Invalid start character for option ({option})",
    "Unknown color {colour!r}",
    "Unknown standard stream '{name}'",
    "Choice({choices})",
}


def messages() -> list:
    return msgfmt.read_po(PO.read_text(encoding="utf-8"))


def click_messages() -> set[str]:
    """Every message the installed click passes to gettext (the singular of a plural pair)."""
    found = {"required"}  # passed as _(extra["required"]): a variable, not a literal
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return found


def fields(text: str) -> set[str]:
    """The placeholders a message fills in: {name} (str.format) and %(name)s."""
    braces = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    return braces | set(re.findall(r"%\((\w+)\)", text))


def test_the_catalogue_covers_every_message_click_can_show():
    ours = {m.msgid for m in messages() if m.msgid}
    shown = click_messages() - FOR_PROGRAMMERS
    assert len(shown) > 50  # the scan itself works
    assert sorted(shown - ours) == []
    # The catalogue's header is the only untranslated entry; nothing is left fuzzy.
    assert [m.msgid for m in messages() if not m.translated] == []


def test_every_translation_is_vietnamese_and_fills_in_only_what_click_passes():
    for m in messages()[1:]:
        passed = fields(m.msgid) | fields(m.msgid_plural or "")
        assert list(m.msgstr) == ([0, 1] if m.msgid_plural else [0]), m.msgid  # nplurals=2
        for text in m.msgstr.values():
            assert fields(text) <= passed, (m.msgid, text)
            words = re.sub(r"\{[^}]*\}|%\(\w+\)s", "", text)
            assert VIETNAMESE.search(words) or not re.search(r"[A-Za-z]{2}", words), (m.msgid, text)


def test_the_committed_mo_is_the_catalogue_compiled():
    assert MO.read_bytes() == msgfmt.compile_mo(messages()), "run: python tools/msgfmt.py " + str(PO.relative_to(ROOT))


def test_the_compiler_reads_what_gettext_writes(tmp_path):
    po = ('# a comment\nmsgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
          '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
          'msgid "Two\\n"\n"lines"\nmsgstr "Hai\\n"\n"dòng"\n\n'
          '#, fuzzy\nmsgid "Fuzzy"\nmsgstr "Chưa chắc"\n\n'
          'msgid "Empty"\nmsgstr ""\n\n'
          'msgctxt "menu"\nmsgid "File"\nmsgstr "Tệp"\n\n'
          'msgid "{n} file"\nmsgid_plural "{n} files"\nmsgstr[0] "{n} tệp"\nmsgstr[1] "{n} tệp (nhiều)"\n')
    mo = msgfmt.compile_mo(msgfmt.read_po(po))
    t = gettext.GNUTranslations(io.BytesIO(mo))
    assert t.gettext("Two\nlines") == "Hai\ndòng"
    assert t.gettext("Fuzzy") == "Fuzzy" and t.gettext("Empty") == "Empty"
    assert t.pgettext("menu", "File") == "Tệp" and t.gettext("File") == "File"
    assert t.ngettext("{n} file", "{n} files", 1) == "{n} tệp"
    assert t.ngettext("{n} file", "{n} files", 3) == "{n} tệp (nhiều)"
    with pytest.raises(msgfmt.PoError, match="line 1"):
        msgfmt.read_po('"no keyword"\n')


def test_the_wheel_carries_the_catalogue():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["pipeline"]
    for path in (PO, MO):
        inside = path.relative_to(ROOT / "pipeline").as_posix()
        assert any(fnmatch.fnmatch(inside, p) for p in patterns), inside


@pytest.fixture
def vietnamese(monkeypatch):
    """speak_vietnamese() as main() calls it, undone afterwards."""
    monkeypatch.setenv("LANGUAGE", "en")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")  # the officer's system language does not matter
    domain = gettext.textdomain()
    speak_vietnamese()
    yield
    gettext.textdomain(domain)


def test_click_speaks_vietnamese_whatever_the_system_language(vietnamese):
    assert gettext.gettext("Usage:") == "Cách dùng:"
    assert gettext.ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 2) == \
        "(có phải một trong: {possibilities}?)"
    assert gettext.gettext("not one of click's messages") == "not one of click's messages"


# Today's one-line errors: (command line, what the officer reads on stderr).
MISTYPED = [
    (["generate", "--foo"], "Lỗi: Không có tùy chọn --foo (có phải --force?). Xem: treem generate --help"),
    (["generate", "--forse"], "Lỗi: Không có tùy chọn --forse (có phải một trong: --force, --workspace?). "
                              "Xem: treem generate --help"),
    (["--foo"], "Lỗi: Không có tùy chọn --foo. Xem: treem --help"),
    (["genrate"], "Lỗi: Không có lệnh «genrate» (có phải generate?). Xem: treem --help"),
    (["received"], "Lỗi: Thiếu tham số TỆP. Xem: treem received --help"),
    (["received", "a.xlsx"], "Lỗi: Thiếu tùy chọn --date. Xem: treem received --help"),
    (["generate", "--year"], "Lỗi: Tùy chọn --year cần một giá trị. Xem: treem --help"),
    (["generate", "--year", "abc"], "Lỗi: Giá trị của --year không hợp lệ: «abc» không phải là số. "
                                    "Xem: treem generate --help"),
    (["generate", "-y", "1999"], "Lỗi: Giá trị của --year không hợp lệ: năm 1999 nằm ngoài giai đoạn của Chương "
                                 "trình (2021-2030) và các năm sau. Xem: treem generate --help"),
    (["ui", "--port", "99999"], "Lỗi: Giá trị của --port không hợp lệ: 99999 nằm ngoài khoảng 0<=x<=65535. "
                                "Xem: treem ui --help"),
    (["generate", "--json", "thua"], "Lỗi: Thừa tham số «thua». Xem: treem generate --help"),
    (["generate", "--json=1"], "Lỗi: Tùy chọn --json không nhận giá trị. Xem: treem --help"),
]


@pytest.mark.parametrize("args,said", MISTYPED, ids=[" ".join(a) for a, _ in MISTYPED])
def test_a_mistyped_command_line_is_one_vietnamese_line(args, said, monkeypatch, capsys, tmp_path, vietnamese):
    from pipeline.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["treem", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    out, err = capsys.readouterr()
    assert (stop.value.code, out, err) == (2, "", said + "\n")


def test_treem_alone_shows_the_help(monkeypatch, capsys, vietnamese):
    from pipeline.cli import main

    monkeypatch.setattr(sys, "argv", ["treem"])
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.startswith("Cách dùng: treem [TÙY CHỌN] LỆNH [THAM SỐ]...\n") and "Lỗi" not in err

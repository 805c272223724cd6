"""Compile a gettext catalogue (.po, text) into the binary .mo that Python's gettext reads, with
the standard library only (GNU msgfmt is not on the officer's Windows, nor needed).

    python tools/msgfmt.py pipeline/locale/vi/LC_MESSAGES/treem.po     # writes treem.mo beside it

The output depends only on the .po's messages (sorted, no hash table), so a test can compile
the .po in memory and compare it with the committed .mo byte for byte. Fuzzy and untranslated
messages are left out, as GNU msgfmt does.
"""

from __future__ import annotations

import argparse
import ast
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = 0x950412DE


@dataclass
class Message:
    """One entry of a .po file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a message without plural
    msgctxt: str | None = None
    fuzzy: bool = False
    line: int = 0

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values()) and not self.fuzzy

    def key(self) -> bytes:
        """The message as the .mo file finds it: context, id and plural id."""
        text = self.msgid if self.msgid_plural is None else f"{self.msgid}\0{self.msgid_plural}"
        return (text if self.msgctxt is None else f"{self.msgctxt}\x04{text}").encode("utf-8")

    def value(self) -> bytes:
        return "\0".join(self.msgstr[i] for i in sorted(self.msgstr)).encode("utf-8")


class PoError(ValueError):
    """A line of the .po file that is not gettext's syntax."""


def _string(text: str, number: int) -> str:
    """A C-style quoted string of the .po file ("…\\n…")."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise PoError(f"line {number}: a quoted string was expected: {text}")
    return ast.literal_eval(text)  # the same escapes as C's for what a .po file holds


def read_po(text: str) -> list[Message]:
    """The messages of a .po file, in file order."""
    messages: list[Message] = []
    current, target = Message(), None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if current.msgstr and (not line or line.startswith(("#", "msgctxt ", "msgid "))):
            messages.append(current)  # a blank line, a comment or a new id ends a message
            current, target = Message(), None
        if line.startswith("#,") and "fuzzy" in line:
            current.fuzzy = True
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            if target is None:
                raise PoError(f"line {number}: a string with no keyword before it")
            rest = line
        else:
            target, _, rest = line.partition(" ")
            current.line = current.line or number
        _add(current, target, _string(rest.strip(), number), number)
    if current.line:
        messages.append(current)
    return messages


def _add(message: Message, keyword: str, value: str, number: int) -> None:
    if keyword == "msgctxt":
        message.msgctxt = (message.msgctxt or "") + value
    elif keyword == "msgid":
        message.msgid += value
    elif keyword == "msgid_plural":
        message.msgid_plural = (message.msgid_plural or "") + value
    elif keyword == "msgstr" or (keyword.startswith("msgstr[") and keyword.endswith("]") and keyword[7:-1].isdigit()):
        index = int(keyword[7:-1]) if keyword != "msgstr" else 0
        message.msgstr[index] = message.msgstr.get(index, "") + value
    else:
        raise PoError(f"line {number}: unknown keyword {keyword}")


def compile_mo(messages: list[Message]) -> bytes:
    """The .mo file of these messages (GNU format, little-endian, no hash table)."""
    catalogue = {m.key(): m.value() for m in messages if m.translated}
    keys = sorted(catalogue)
    ids = strs = b""
    offsets = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(catalogue[k])))
        ids += k + b"\0"
        strs += catalogue[k] + b"\0"
    header = 7 * 4
    ids_start = header + 16 * len(keys)
    strs_start = ids_start + len(ids)
    table_ids = b"".join(struct.pack("<2I", length, ids_start + start) for start, length, _, _ in offsets)
    table_strs = b"".join(struct.pack("<2I", length, strs_start + start) for _, _, start, length in offsets)
    return (struct.pack("<7I", MAGIC, 0, len(keys), header, header + 8 * len(keys), 0, 0)
            + table_ids + table_strs + ids + strs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("po", type=Path, help="the catalogue to compile")
    parser.add_argument("-o", "--output", type=Path, help="the .mo to write; default: beside the .po")
    args = parser.parse_args(argv)
    out = args.output or args.po.with_suffix(".mo")
    messages = read_po(args.po.read_text(encoding="utf-8"))
    out.write_bytes(compile_mo(messages))
    print(f"{out}: {sum(m.translated for m in messages)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

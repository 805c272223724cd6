"""Write docs/cli.md, the reference of every `treem` command, from the commands' own --help, as
an officer sees it in an 80-column console.

    python tools/cli_reference.py            # rewrites docs/cli.md
    python tools/cli_reference.py --check    # exit 1 when docs/cli.md is not up to date

Edit the help in pipeline/commands/ (the docstrings and options), never docs/cli.md: a test
(tests/test_cli_reference.py) renders the page in memory and fails when the two differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "cli.md"
# An 80-column console, where click leaves the last two columns free (78, as `treem … | more`).
WIDTH = 78

HEADER = """\
# Các lệnh của treem

<!-- Trang này được tạo từ chính phần hướng dẫn của các lệnh (`treem LỆNH --help`) bởi
     tools/cli_reference.py: đừng sửa tay. Sửa lời hướng dẫn trong pipeline/commands/ rồi chạy
     `python tools/cli_reference.py`; một bài kiểm tra báo lỗi khi trang này khác với lệnh. -->

Gõ `treem LỆNH --help` (hoặc `-h`) để xem đúng phần hướng dẫn dưới đây ngay trong cửa sổ
lệnh. Các lệnh theo thứ tự của một năm báo cáo:
"""


def help_text(args: list[str]) -> str:
    """What `treem ARGS --help` prints in an 80-column console."""
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="treem", terminal_width=WIDTH)
    if result.exit_code != 0:
        raise RuntimeError(f"treem {' '.join(args)} --help: exit {result.exit_code}\n{result.output}")
    return result.output


def _anchor(title: str) -> str:
    """The anchor GitHub and most Markdown viewers give a heading such as "treem check-settings"."""
    return title.lower().replace(" ", "-")


def render() -> str:
    """The whole page: a list of the commands, then each command's help, in the order they are
    registered (the order of the yearly cycle)."""
    names = list(cli.commands)
    toc = [f"- [`treem`](#treem): nhóm lệnh, chu trình hằng năm"]
    toc += [f"- [`treem {n}`](#{_anchor(f'treem {n}')}): {cli.commands[n].get_short_help_str(limit=200)}"
            for n in names]
    sections = [f"## treem\n\n```text\n{help_text([])}```\n"]
    sections += [f"## treem {n}\n\n```text\n{help_text([n])}```\n" for n in names]
    return "\n".join([HEADER, "\n".join(toc) + "\n", *sections])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare, exit 1 when docs/cli.md differs")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != page:
            print(f"{OUT} is not up to date: run python tools/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(page, encoding="utf-8", newline="\n")
    print(f"{OUT}: {len(cli.commands)} commands")
    return 0


if __name__ == "__main__":
    sys.exit(main())

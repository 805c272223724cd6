"""docs/cli.md is the commands' own --help, regenerated here and compared (as datasette checks
its cog-generated pages); every command has help with an example and a --json option, and no
English of click's is left in any help."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_helper
from pipeline.cli import cli

reference = load_helper("cli_reference", "../tools/cli_reference.py")
ROOT = Path(__file__).parent.parent
COMMANDS = list(cli.commands)
# What click says in English when its catalogue or our classes are not in use.
CLICK_ENGLISH = ["Usage:", "Options:", "Commands:", "Positional arguments", "[OPTIONS]", "COMMAND", "[ARGS]",
                 "Show this message", "Show the version", "[required]", "[default", "env var"]


def test_docs_cli_md_is_the_help_of_every_command():
    page = reference.render()
    assert [f"treem {n}" for n in COMMANDS] == [line[3:] for line in page.splitlines()
                                                if line.startswith("## treem ")]
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == page, "run: python tools/cli_reference.py"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example_and_a_json_option(name):
    text = reference.help_text([name])
    assert "\n  Ví dụ:\n" in text, name
    assert f"    treem {name}" in text.split("Ví dụ:", 1)[1], name  # an example of this very command
    assert any("--json" in p.opts for p in cli.commands[name].params), name
    assert "\n  --json " in text, name  # and the help lists it


@pytest.mark.parametrize("args", [[]] + [[n] for n in COMMANDS], ids=["treem"] + COMMANDS)
def test_no_help_keeps_clicks_english(args):
    text = reference.help_text(args)
    assert text.startswith("Cách dùng: treem ") and "\nTùy chọn:\n" in text
    assert [w for w in CLICK_ENGLISH if w in text] == []

"""How the CLI is put together: the group's module imports the commands and adds them, never the
reverse; no module takes another's underscore names; nothing patches click for the whole
process; and which commands need an existing workspace is said where they are declared."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.commands import analysis, cycle, officer
from pipeline.commands.common import TreemCommand, TreemContext

PACKAGE = Path(__file__).parent.parent / "pipeline"


def trees():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def imported(tree) -> list[tuple[str, str]]:
    """(module, name) of every `from pipeline… import name` and `import pipeline…`."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("pipeline"):
            out += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name.startswith("pipeline")]
    return out


def test_the_commands_never_import_the_group_module():
    wrong = [(path, module, name) for path, tree in trees() if path != "cli.py" and path != "__main__.py"
             for module, name in imported(tree)
             if module == "pipeline.cli" or (module == "pipeline" and name == "cli")]
    assert wrong == []


def test_no_module_imports_another_modules_underscore_names():
    wrong = [(path, module, name) for path, tree in trees() for module, name in imported(tree)
             if name.startswith("_") and not name.startswith("__")]
    assert wrong == []


def test_nothing_patches_click_for_the_whole_process():
    def rooted_in_click(node) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id == "click"

    wrong = []
    for path, tree in trees():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            wrong += [(path, node.lineno) for t in targets if isinstance(t, ast.Attribute) and rooted_in_click(t)]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
                    and node.args and rooted_in_click(node.args[0]):
                wrong.append((path, node.lineno))
    assert wrong == []
    assert click.Context.formatter_class is click.HelpFormatter  # and nothing did at run time


def test_every_command_of_the_command_modules_is_added_to_the_group():
    modules = (cycle, officer, analysis)
    for module in modules:
        declared = {v for v in vars(module).values() if isinstance(v, click.Command)}
        assert declared == set(module.COMMANDS), module.__name__  # none forgotten in COMMANDS
    assert list(cli.commands.values()) == [c for m in modules for c in m.COMMANDS]
    assert all(type(c) is TreemCommand and c.context_class is TreemContext for c in cli.commands.values())
    assert cli.context_class is TreemContext


WORKSPACE_READERS = [["collect", "-y", "2024"], ["status", "-y", "2024"], ["merge", "-y", "2024"], ["report", "-y", "2024"],
                     ["run", "-y", "2024"], ["export"], ["accept", "15664", "-y", "2024"],
                     ["received", "a.xlsx", "--date", "18/11/2024", "-y", "2024"]]


@pytest.mark.parametrize("args", WORKSPACE_READERS, ids=[a[0] for a in WORKSPACE_READERS])
def test_commands_declared_with_an_existing_workspace_refuse_a_folder_that_is_not_one(args, tmp_path):
    res = CliRunner().invoke(cli, [*args, "-w", str(tmp_path / "khong-co")])
    assert res.exit_code == 1 and "chưa phải thư mục làm việc" in res.output, res.output
    assert not (tmp_path / "khong-co").exists()


@pytest.mark.parametrize("args", [["catalogue"], ["units", "--year", "2024"], ["check-settings"]])
def test_the_others_read_the_defaults_of_any_folder(args, tmp_path):
    res = CliRunner().invoke(cli, [*args, "-w", str(tmp_path / "khong-co")])
    assert res.exit_code == 0, res.output

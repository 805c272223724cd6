"""The import rules of ARCHITECTURE.md, read from the source: every module has its place in
the flow, no module imports one from a later stage, the readers never load a writer, only the
store speaks SQL and only the CLI uses click. Imports inside functions count as well."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "pipeline"
# Each module's stage, in the order data flows (ARCHITECTURE.md draws it). A module may import
# modules of its own stage or an earlier one, never a later one.
STAGES = [
    ("foundation", {"base", "base.errors", "base.text", "base.fsutil", "base.workers", "base.library_internals", "base.printing", "base.outputs", "base.problems"}),
    ("configuration", {"config", "config.catalogue", "config.roster", "config.settings", "config.workspace", "forms", "forms.contract"}),
    ("reading", {"collect", "collect.precheck", "collect.ingest", "collect.validate"}),
    ("store", {"store", "store.db", "store.submissions", "store.decisions", "store.history"}),
    ("forms and collecting", {"forms.writer", "collect.run", "collect.feedback"}),
    ("merging", {"merge", "merge.merger", "merge.result", "merge.consolidate"}),
    ("reporting", {"reporting.report", "reporting", "reporting.chart_data", "reporting.context", "reporting.docx",
                   "reporting.quality", "reporting.words", "reporting.charts", "reporting.libreoffice"}),
    ("analysis and history", {"analysis", "analysis.api", "analysis.export", "analysis.import_history"}),
    ("front ends", {"cli", "commands", "commands.common", "commands.language", "commands.cycle", "commands.officer", "commands.analysis", "__main__", "demo", "desk", "desk.app", "desk.config_files", "desk.jobs", "desk.messages",
                    "desk.security", "desk.server", "desk.pages", "desk.views", ""}),
]
RANK = {m: n for n, (_, modules) in enumerate(STAGES) for m in modules}
READERS = {"collect.precheck", "collect.ingest", "collect.validate", "forms.contract"}
WRITERS = {"forms.writer", "collect.feedback", "merge.consolidate", "analysis.export", "reporting.docx", "reporting.charts", "base.printing"}
WRITER_LIBRARIES = {"xlsxwriter", "jinja2", "openpyxl", "docxtpl", "docx", "matplotlib", "pandas"}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def imports() -> dict[str, tuple[set[str], set[str]]]:
    """module -> (the package's modules it imports, the other top-level modules it imports)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        own, other = set(), set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" if node.module == "pipeline" else node.module for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name == "pipeline" or name.startswith("pipeline."):
                    own.add(name.removeprefix("pipeline").removeprefix("."))
                else:
                    other.add(name.split(".")[0])
        out[_name(path)] = (own, other)
    return out


def test_every_module_has_its_stage():
    found = set(imports())
    assert found - set(RANK) == set(), "place the new module in a stage here and in ARCHITECTURE.md"
    assert set(RANK) - found == set()


def test_no_module_imports_a_later_stage():
    wrong = [f"{m} ({STAGES[RANK[m]][0]}) imports {d} ({STAGES[RANK[d]][0]})"
             for m, (own, _) in imports().items() for d in own if RANK[d] > RANK[m]]
    assert wrong == []


def test_readers_never_import_writers():
    graph = imports()
    seen, todo = set(), list(READERS)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += graph[m][0]
    assert len(seen) > len(READERS)  # the walk itself works
    assert seen & WRITERS == set()
    assert {lib for m in seen for lib in graph[m][1]} & WRITER_LIBRARIES == set()


def test_only_the_store_speaks_sql_and_only_the_cli_uses_click():
    graph = imports()
    assert {m for m, (_, other) in graph.items() if "sqlite3" in other} == {"store.db"}
    assert {m for m, (_, other) in graph.items() if "click" in other} == {
        "cli", "commands.common", "commands.cycle", "commands.officer", "commands.analysis"}


MAX_FUNCTION_LINES, MAX_MODULE_LINES = 60, 700
# Still over the limits, to be split along their responsibilities (none may grow, none be added): none now.
OVERSIZED: dict[str, int] = {}


def sizes() -> dict[str, int]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            out[rel] = len(text.splitlines())
        tree = ast.parse(text)
        for parent in ast.walk(tree):
            for node in ast.iter_child_nodes(parent):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        owner = f"{parent.name}." if isinstance(parent, ast.ClassDef) else ""
                        out[f"{rel}:{owner}{node.name}"] = length
    return out


def test_no_function_over_60_lines_and_no_module_over_700():
    found = sizes()
    grown = {k: v for k, v in found.items() if v > OVERSIZED.get(k, 0)}
    assert grown == {}, "split it along its responsibilities"
    assert set(OVERSIZED) - set(found) == set(), "it is under the limit now: take it off OVERSIZED"

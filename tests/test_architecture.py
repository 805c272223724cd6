"""The rules of ARCHITECTURE.md, read from the source. The stages are the packages of
`pipeline/`, in the order ARCHITECTURE.md draws once; a module imports its own stage and earlier
ones only. No import cycles, no module takes another's underscore names, the readers never load
a writer, only the store speaks SQL and only the CLI uses click. Imports inside functions count
as well."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "pipeline"
FRONT = "front"  # the modules at the top of the package and commands/: the CLI, the demo


def stage_order() -> list[str]:
    """The stages as ARCHITECTURE.md draws them: the one line of the form `a → b → …`."""
    lines = [ln for ln in (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines() if "→" in ln]
    assert len(lines) == 1, "ARCHITECTURE.md draws the order of the stages on one line"
    return [s.strip() for s in lines[0].strip("` ").split("→")]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def stage_of(module: str) -> str:
    """A module's stage is its package; the top-level modules and commands/ are the front end."""
    head, _, rest = module.partition(".")
    is_package = bool(head) and (PACKAGE / head).is_dir()
    return head if is_package and head != "commands" else FRONT


def imports() -> dict[str, tuple[set[str], set[str], set[str]]]:
    """module -> (the package's modules it imports, the other top-level modules it imports,
    the underscore names it takes from another module of the package)."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    out = {}
    for path in PACKAGE.rglob("*.py"):
        own, other, private = set(), set(), set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "pipeline" or node.module.startswith("pipeline."):
                    base = node.module.removeprefix("pipeline").removeprefix(".")
                    for a in node.names:
                        full = f"{base}.{a.name}".strip(".")
                        own.add(full if full in modules else base)
                        if a.name.startswith("_") and full not in modules:
                            private.add(f"{base}.{a.name}")
                else:
                    other.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "pipeline" or a.name.startswith("pipeline."):
                        own.add(a.name.removeprefix("pipeline").removeprefix("."))
                    else:
                        other.add(a.name.split(".")[0])
        out[module_name(path)] = (own - {module_name(path)}, other, private)
    return out


def test_the_order_names_every_package_once():
    order = stage_order()
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} - {"commands"}
    assert order[-1] == FRONT and len(set(order)) == len(order)
    assert set(order) - {FRONT} == packages


def test_the_top_of_the_package_keeps_at_most_a_dozen_modules():
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= 12, top


def test_no_module_imports_a_later_stage():
    rank = {s: n for n, s in enumerate(stage_order())}
    wrong = [f"{m} ({stage_of(m)}) imports {d} ({stage_of(d)})"
             for m, (own, _, _) in imports().items() for d in own if rank[stage_of(d)] > rank[stage_of(m)]]
    assert wrong == []


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_import_cycles():
    assert cycles({m: own for m, (own, _, _) in imports().items()}) == []


def test_no_module_takes_another_modules_underscore_names():
    assert {m: private for m, (_, _, private) in imports().items() if private} == {}


READERS = {"collect.precheck", "collect.ingest", "collect.validate", "forms.contract"}
WRITERS = {"forms.writer", "collect.feedback", "merge.consolidate", "analysis.export", "reporting.docx",
           "reporting.charts", "base.printing"}
WRITER_LIBRARIES = {"xlsxwriter", "jinja2", "openpyxl", "docxtpl", "docx", "matplotlib", "pandas"}


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
    assert {m for m, (_, other, _) in graph.items() if "sqlite3" in other} == {"store.db"}
    clicking = {m for m, (_, other, _) in graph.items() if "click" in other}
    assert "cli" in clicking and {m for m in clicking if m != "cli" and not m.startswith("commands.")} == set()


def test_architecture_md_names_only_modules_that_exist():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`pipeline/([\w/]+\.py)`", text))
    assert named and {n for n in named if not (PACKAGE / n).exists()} == set()


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

"""Shared fixtures: a fresh workspace, generated templates, the demo workspaces, and a way to
fill a template the way a unit does (values typed into the named cells, then saved).

What is built once per run (the templates, the hostile corpus, the demos; under pytest-xdist
once for all the worker processes) is shared by many tests and must stay as built: each such
folder is checked after every test that uses it, and a test that writes takes its own copy
(`copy_of`). And a whole run of the suite must make the package raise every problem code of the
table (see the end of this file)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable

import pytest

from pipeline.base.problems import PROBLEMS, RECORD_ENV
from pipeline.demo import fill_workbook
from pipeline.store.db import Store, SubmissionRecord
from pipeline.forms.writer import generate
from pipeline.config.workspace import Workspace, init_workspace

YEAR = 2024
HERE = Path(__file__).parent
# Any Vietnamese letter with a diacritic: a message that has none is not Vietnamese.
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)


def load_helper(name: str, relative: str):
    """A helper script of tests/ (not a package) as a module, loaded once by path."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module

# A plausible, internally consistent commune (all cross-field rules hold).
COMMUNE_VALUES = dict(
    children_total=5000, children_u1=300, children_u5=1500, children_0_8=2500, children_age5=310,
    children_7plus=3000, children_11plus=1600, minors_5_17=4200, live_births=310,
    ct01_child_friendly="Có", ct02_served=2300, ct03_deaths_neonatal=1, ct03_deaths_u1=3, ct03_deaths_u5=4,
    ct04_measured=1400, ct04_underweight=100, ct04_stunted=200, ct04_obese=50, ct05_u1_vaccinated=290,
    ct05_u5_vaccinated=1450, ct06_hiv_exposed=2, ct06_hiv_infected=0, ct07_facilities=5, ct07_sanitary=5,
    ct08_special=150, ct08_special_cared=145, ct09_abused=2, ct10_child_labour=30, ct11_injured=1,
    ct11_injury_deaths=0, ct12_disaster_affected=40, ct12_disaster_assisted=40, ct13_child_marriages=2,
    ct14_registered=1495, ct15_developing=1470, ct16_age5_enrolled=308, ct17_primary_final=320,
    ct17_primary_completed=318, ct18_lower_sec_final=300, ct18_lower_sec_completed=290, ct19_schools=4,
    ct19_psych_support=3, ct20_disability_ready=3, ct20_disabled_needs=10, ct20_disabled_access=8,
    ct21_play_spot="Không", ct22_consulted=1300, ct23_aware=4200, ct24_participating=700,
    budget_ns_dia_phuong_planned=120, budget_ns_dia_phuong_spent=110,
)


def fill(template: Path, dest: Path, values: dict, saved_at: datetime | None = None) -> Path:
    """Type values into the template's named cells and save, as a unit's Excel would."""
    return fill_workbook(template, dest, values, saved_at)


def set_received(path: Path, when: datetime) -> None:
    """The file's time in the inbox stands for when it arrived."""
    ts = when.timestamp()
    os.utime(path, (ts, ts))


def store_values(ws: Workspace, year: int, unit: str, values: dict, status: str = "accepted") -> None:
    """An accepted submission of `unit` holding `values`, straight into the store: for tests of
    the stages after collect, where exactly what units reported must be stated."""
    with Store(ws.db_path) as store:
        sha = f"{year}-{unit}-{len(store.submissions(year))}"
        rec = SubmissionRecord(year=year, sha256=sha, path=f"{unit}.xlsx", size=1, received_at=f"{year}-11-10T09:00:00",
                               status=status, unit=unit, saved_at=f"{year}-11-10T08:00:00", collected_at="now")
        store.add_submission(rec, [{"field": k, "value": v} for k, v in values.items()], [])


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    ws, _ = init_workspace(tmp_path / "ws")
    return ws


@pytest.fixture
def forked_workers(monkeypatch):
    """For a test that patches a reader in this process: collect's worker processes are forked,
    so that they carry the patch, also in the run of the suite that spawns them elsewhere
    (TREEM_START_METHOD=spawn)."""
    import multiprocessing

    from pipeline.base.workers import START_METHOD_ENV

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("a reader patched in this process reaches the workers only when they are forked")
    monkeypatch.setenv(START_METHOD_ENV, "fork")


# --- built once per run, never written to ----------------------------------------------------
# fixture name -> (its folder, every file under it with its size and time of last change)
_READ_ONLY: dict[str, tuple[Path, dict]] = {}


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (st.st_size, st.st_mtime_ns)
            for p in root.rglob("*") if not p.is_dir() for st in [p.lstat()]}


@contextmanager
def _exclusive(path: Path):
    """Hold `path` locked against the other processes of the run."""
    with open(path, "a+b") as fh:
        if os.name == "nt":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def built_once(tmp_path_factory, name: str, build: Callable[[Path], object]):
    """`build(folder)` run once for the whole run, its folder registered read-only: after every
    test that uses the session fixture `name`, nothing under it may have been added, removed or
    changed. Under pytest-xdist the worker processes share it: the first builds it while the
    others wait, then they all read it. Returns (folder, what build returned, as JSON)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = tmp_path_factory.mktemp(name)
        made = json.loads(json.dumps(build(folder)))
    else:
        shared = tmp_path_factory.getbasetemp().parent  # the run's own, above each worker's
        folder, done = shared / name, shared / f"{name}.json"
        with _exclusive(shared / f"{name}.lock"):
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                done.write_text(json.dumps(build(folder)), encoding="utf-8")
        made = json.loads(done.read_text(encoding="utf-8"))
    _READ_ONLY[name] = (folder, _files(folder))
    return folder, made


def copy_of(path: Path, where: Path) -> Path:
    """A copy in `where` of a read-only folder or file (file times kept: they are the received
    dates), for a test that writes, or hands the file to LibreOffice (which puts its lock file
    beside the file it opens)."""
    where.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        return Path(shutil.copytree(path, where / path.name, symlinks=True))
    return Path(shutil.copy2(path, where / path.name))


@pytest.fixture(autouse=True)
def _read_only_folders_stay_as_built(request):
    yield
    for name in set(request.fixturenames) & set(_READ_ONLY):
        root, before = _READ_ONLY[name]
        after = _files(root)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        _READ_ONLY[name] = (root, after)  # the next test is judged on its own writes
        assert not changed, (f"this test wrote into the session's read-only fixture {name!r} ({root}): "
                             f"{changed[:10]}; a test that writes works on a copy (copy_of, {name}_copy). "
                             "Under pytest-xdist the writer may be a test running beside it in another worker.")


def _generate_templates(folder: Path) -> dict[str, str]:
    ws, _ = init_workspace(folder / "ws")
    return {f.unit: str(f.path) for f in generate(ws, YEAR).files}


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> dict[str, Path]:
    """The 2024 templates of every unit, generated once per run (read-only: copy before
    modifying)."""
    _, made = built_once(tmp_path_factory, "templates", _generate_templates)
    return {unit: Path(path) for unit, path in made.items()}


def inbox_copy(ws: Workspace, src: Path, name: str, when: datetime | None = None) -> Path:
    dst = ws.inbox(YEAR) / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    set_received(dst, when or datetime(YEAR, 11, 15, 9, 0))
    return dst


def _make_corpus(folder: Path) -> dict[str, str]:
    made = load_helper("hostile_make_corpus", "hostile/make_corpus.py").make_corpus(folder)
    return {name: str(path) for name, path in made.items()}


@pytest.fixture(scope="session")
def hostile_corpus(tmp_path_factory) -> dict[str, Path]:
    """The structural hostile corpus (tests/hostile/make_corpus.py), one file per case, built
    once per run. Read-only: a test that collects it puts `corpus_copy(...)` in its inbox."""
    _, made = built_once(tmp_path_factory, "hostile_corpus", _make_corpus)
    return {name: Path(path) for name, path in made.items()}


def corpus_copy(corpus: dict[str, Path], dest: Path) -> dict[str, Path]:
    """The corpus copied into `dest`, as make_corpus(dest) would write it."""
    dest.mkdir(parents=True, exist_ok=True)
    return {name: Path(shutil.copy2(path, dest / path.name)) for name, path in corpus.items()}


def _demo(year: int) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        from pipeline.demo import run_demo

        run_demo(folder / "treem-demo", year)
    return build


@pytest.fixture(scope="session")
def demo_2024(tmp_path_factory) -> Path:
    """The demo workspace through 2024 (2021-2023 clean, 2024 with its mishaps), made once per
    run as `treem demo` makes it. Read-only: a test that writes uses demo_2024_copy."""
    folder, _ = built_once(tmp_path_factory, "demo_2024", _demo(2024))
    return folder / "treem-demo"


@pytest.fixture
def demo_2024_copy(demo_2024, tmp_path) -> Path:
    return copy_of(demo_2024, tmp_path)


@pytest.fixture(scope="session")
def demo_2025(tmp_path_factory) -> Path:
    """The demo workspace through 2025 (2021-2024 clean, 2025 after the reorganisation with
    its mishaps), made once per run as `treem demo --year 2025` makes it. Read-only: a test
    that writes uses demo_2025_copy."""
    folder, _ = built_once(tmp_path_factory, "demo_2025", _demo(2025))
    return folder / "treem-demo"


@pytest.fixture
def demo_2025_copy(demo_2025, tmp_path) -> Path:
    return copy_of(demo_2025, tmp_path)


# --- every problem code is raised by some test ------------------------------------------------
# The package notes each problem it builds (pipeline/base/problems.py, RECORD_ENV) in a folder
# made here: this process, collect's worker processes (forked or spawned, they inherit the
# environment) and the commands tests start. At the end of a whole run of the suite, a code of
# the table that no test made the package raise fails the run.
_RECORD = pytest.StashKey[str]()
_DESELECTED = pytest.StashKey[int]()


def pytest_configure(config):
    config.stash[_DESELECTED] = 0
    if not os.environ.get(RECORD_ENV):
        os.environ[RECORD_ENV] = config.stash[_RECORD] = tempfile.mkdtemp(prefix="treem-problems-")


def pytest_unconfigure(config):
    folder = config.stash.get(_RECORD, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        del os.environ[RECORD_ENV]


def pytest_deselected(items):
    config = items[0].config if items else None
    if config is not None:
        config.stash[_DESELECTED] += len(items)


def recorded_codes(folder: str | Path) -> set[str]:
    """Every code recorded in `folder`, by every process."""
    return {line.strip() for f in Path(folder).glob("*.codes") for line in f.read_text(encoding="utf-8").splitlines()
            if line.strip()}


def _whole_suite(session) -> bool:
    """Every test of tests/ was selected and passed: no file, test or -k/-m picked out."""
    config = session.config
    if session.exitstatus != 0 or config.stash[_DESELECTED] or config.option.collectonly:
        return False
    # Under xdist the workers select; the options say what they were asked.
    if config.option.keyword or config.option.markexpr or config.getoption("deselect", None):
        return False
    for arg in config.args:
        if "::" in arg or not HERE.resolve().is_relative_to(Path(config.invocation_params.dir, arg).resolve()):
            return False
    return True


def pytest_sessionfinish(session):
    folder = session.config.stash.get(_RECORD, None)
    if not folder or not _whole_suite(session):
        return
    never = sorted(set(PROBLEMS) - recorded_codes(folder))
    if never:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", f"{len(never)} problem codes no test raised", red=True, bold=True)
            reporter.write_line("Every code of pipeline/base/problems.py must be raised by the package in some test "
                                "(a test building it by hand does not count): " + ", ".join(never), red=True)
            skipped = len(reporter.stats.get("skipped", []))
            if skipped:
                reporter.write_line(f"{skipped} tests were skipped: one of them may be the test that raises it.")


"""Shared fixtures: a fresh workspace, generated templates, and a way to fill a template the
way a unit does (values typed into the named cells, then saved)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from datetime import datetime
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> dict[str, Path]:
    """The 2024 templates of every unit, generated once per test session (read-only: copy
    before modifying)."""
    ws, _ = init_workspace(tmp_path_factory.mktemp("templates") / "ws")
    result = generate(ws, YEAR)
    return {f.unit: f.path for f in result.files}


def inbox_copy(ws: Workspace, src: Path, name: str, when: datetime | None = None) -> Path:
    dst = ws.inbox(YEAR) / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    set_received(dst, when or datetime(YEAR, 11, 15, 9, 0))
    return dst


@pytest.fixture(scope="session")
def demo_2025(tmp_path_factory) -> Path:
    """The demo workspace through 2025 (2021-2024 clean, 2025 after the reorganisation with
    its mishaps), made once per session as `treem demo --year 2025` makes it. Read-only."""
    from pipeline.demo import run_demo

    root = tmp_path_factory.mktemp("demo") / "treem-demo"
    run_demo(root, 2025)
    return root

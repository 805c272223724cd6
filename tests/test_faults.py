"""Faults and concurrency. Any run can be interrupted (a closed window, a power cut,
a task manager), files arrive while collect reads the folder, two people start the tool at
once, a reader hangs or runs out of memory. Through all of it the store stays consistent,
no half file is read, the last good outputs survive, and running again finishes the job with
exactly the result of an uninterrupted run.

The real command line runs in subprocesses and is killed with SIGKILL at random moments
(seeded, so a failure can be replayed).

    .venv/bin/pytest tests/test_faults.py -s    # -s shows the figures for the README
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

import pipeline.collect.run as collect_mod
from conftest import COMMUNE_VALUES, YEAR, fill, set_received
from pipeline.collect.run import collect
from pipeline.store.db import Store
from pipeline.config.workspace import Workspace, init_workspace
from pipeline.base.workers import start_method

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and /proc")

REPO = Path(__file__).parent.parent
RECEIVED = datetime(2024, 11, 15, 9, 0)
SEED = 8
LOCKED = "Một lệnh treem khác đang chạy"
# Filled in by the tests, printed by the last one.
TALLY = {"collect_kills": 0, "collect_interrupted": 0, "merge_kills": 0, "merge_interrupted": 0,
         "concurrent_runs": 0, "partial_files": 0, "reader_faults": 0,
         "store_damaged": 0, "results_differing": 0, "half_read": 0, "outputs_unreadable": 0, "orphans": 0}


# --- the inbox: 45 units and the usual extras -------------------------------------------------------


@pytest.fixture(scope="module")
def source(templates, tmp_path_factory) -> Path:
    """50 filled workbooks: every unit of 2024 (a third clean, a third with an error, a third
    with a warning, so collect has feedback copies to write), four second versions, one file
    sent twice, one late."""
    folder = tmp_path_factory.mktemp("faults_source")
    stamps = []
    for n, (unit, template) in enumerate(sorted(templates.items())):
        names = set(openpyxl.load_workbook(template).defined_names)
        extra = [{}, {"ct04_underweight": 1500}, {"children_total": "5.000"}][n % 3]
        values = {k: v for k, v in dict(COMMUNE_VALUES, ct09_abused=n % 7, **extra).items() if k in names}
        stamps.append((fill(template, folder / f"{unit}.xlsx", values, saved_at=RECEIVED - timedelta(days=3)),
                       RECEIVED + timedelta(minutes=n)))
    for n, unit in enumerate(("15700", "15703", "15706", "15709")):
        path = fill(templates[unit], folder / f"{unit} ban sua.xlsx", dict(COMMUNE_VALUES, ct02_served=2310 + n),
                    saved_at=RECEIVED - timedelta(days=1))
        stamps.append((path, RECEIVED + timedelta(hours=5, minutes=n)))
    shutil.copyfile(folder / "15712.xlsx", folder / "15712 (1).xlsx")
    stamps.append((folder / "15712 (1).xlsx", RECEIVED + timedelta(hours=6)))
    stamps.append((folder / "15715.xlsx", datetime(2024, 11, 25, 8, 0)))  # after the deadline
    for path, when in stamps:
        set_received(path, when)
    assert len(list(folder.iterdir())) == 50
    return folder


def new_workspace(root: Path, source: Path) -> Workspace:
    ws, _ = init_workspace(root)
    shutil.copytree(source, ws.inbox(YEAR), copy_function=shutil.copy2)
    return ws


def cli(ws: Workspace, *args: str, quiet: bool = False) -> subprocess.Popen:
    """The real command line; `quiet` for a run that will be killed (no pipes for a
    left-behind worker to hold open)."""
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args, "--year", str(YEAR), "-w", str(ws.root)],
                            stdout=out, stderr=out, cwd=REPO)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def store_state(ws: Workspace) -> dict:
    """Every submission by content hash: names, unit, status, values, problems."""
    with Store(ws.db_path) as store:
        subs = store.submissions(YEAR)
        issues = store.issues_for_year(YEAR)
        values = store.values([s.id for s in subs])
        return {s.sha256: {"path": s.path, "paths": sorted(s.paths), "unit": s.unit, "status": s.status,
                           "saved_at": s.saved_at, "received_at": s.received_at, "on_time": s.on_time,
                           "archived": s.archived, "issues": issues.get(s.id, []),
                           "values": {f: {k: v for k, v in row.items() if k != "submission_id"}
                                      for f, row in values[s.id].items()}}
                for s in subs}


def merged_state(ws: Workspace) -> tuple:
    with Store(ws.db_path) as store:
        return (sorted((r["scope"], r["indicator"], r["value"], r["numerator"], r["denominator"])
                       for r in store.merged(YEAR)), store.merged_fields(YEAR))


def stored_count(ws: Workspace) -> int:
    try:
        db = sqlite3.connect(f"file:{ws.db_path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0  # not created yet, or its tables not yet


def report_rows(path: Path) -> dict:
    """The validation report's tables, without the line that says when it was made. Problems
    and files are listed in the order they were stored, which an interruption changes: the
    rows are compared as sets."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for s in wb.worksheets:
        rows = [[c.value for c in row] for n, row in enumerate(s.iter_rows()) if (s.title, n) != ("Tổng hợp", 1)]
        out[s.title] = rows if s.title == "Tổng hợp" else sorted(rows, key=repr)
    return out


@pytest.fixture(scope="module")
def reference(source, tmp_path_factory) -> dict:
    """One uninterrupted collect and merge: what every interrupted sequence must end with."""
    ws = new_workspace(tmp_path_factory.mktemp("faults_ref") / "ws", source)
    start = time.monotonic()
    rc, out, err = finish(cli(ws, "collect", "--json"))
    collect_seconds = time.monotonic() - start
    assert rc == 0, err
    start = time.monotonic()
    rc, _, err = finish(cli(ws, "merge", "--json"))
    merge_seconds = time.monotonic() - start
    assert rc == 0, err
    state = store_state(ws)
    statuses = sorted(s["status"] for s in state.values())
    assert len(state) == 49 and statuses.count("superseded") == 4 and "rejected" in statuses
    out_dir = ws.output(YEAR)
    return {"ws": ws, "state": state, "merged": merged_state(ws), "collect_seconds": collect_seconds,
            "merge_seconds": merge_seconds, "outputs": sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*")
                                                               if p.is_file() and not p.name.startswith(".")),
            "report": report_rows(out_dir / f"kiem_tra_so_lieu_{YEAR}.xlsx"),
            "csv": (out_dir / f"du_lieu_{YEAR}.csv").read_text(encoding="utf-8-sig")}


# --- checks after every kill ---------------------------------------------------------------------


def workers_left(ws: Workspace, wait: float = 3.0) -> list[int]:
    """Processes still running for this workspace (a killed run's workers carry its command
    line), after giving them `wait` seconds to notice. Any found are then ended, so that a
    failure here does not leave them behind."""
    if not Path("/proc").is_dir():
        return []
    needle = str(ws.root).encode()
    deadline = time.monotonic() + wait
    while True:
        left = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if needle in (d / "cmdline").read_bytes():
                        left.append(int(d.name))
                except OSError:
                    pass
        if not left or time.monotonic() > deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return left
        time.sleep(0.05)


def check_store(ws: Workspace, reference: dict) -> list[str]:
    """The store after a kill: intact, and every file in it complete, exactly as the
    uninterrupted run stored it (cross-unit outliers and versions are settled at the end of a
    run, so those may still be pending)."""
    problems = []
    if not ws.db_path.exists():
        return problems
    db = sqlite3.connect(ws.db_path)
    try:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check")
        if db.execute("PRAGMA foreign_key_check").fetchall():
            problems.append("foreign_key_check")
        orphans = db.execute("SELECT COUNT(*) FROM submissions s WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE "
                             "a.submission_id=s.id AND a.action='received') OR NOT EXISTS (SELECT 1 FROM "
                             "submission_paths p WHERE p.submission_id=s.id)").fetchone()[0]
        if orphans:
            problems.append(f"{orphans} submissions without their audit or path row")
    except sqlite3.DatabaseError as e:
        return [f"store unreadable: {e}"]
    finally:
        db.close()
    ref = reference["state"]
    for sha, s in store_state(ws).items():
        r = ref.get(sha)
        if r is None:
            problems.append(f"unknown content {s['path']}")
            continue
        own = [i for i in s["issues"] if i.code != "outlier"]
        if (s["unit"], s["values"], own) != (r["unit"], r["values"], [i for i in r["issues"] if i.code != "outlier"]):
            problems.append(f"half stored: {s['path']}")
        if not set(s["paths"]) <= set(r["paths"]):
            problems.append(f"paths of {s['path']}")
    return problems


def check_outputs(ws: Workspace) -> list[str]:
    """Every output present is whole: each workbook a complete zip with a workbook part, the
    CSV with its header and last line."""
    problems = []
    for p in ws.output(YEAR).rglob("*.xlsx"):
        try:
            with zipfile.ZipFile(p) as zf:
                if zf.testzip() is not None or "xl/workbook.xml" not in zf.namelist():
                    problems.append(p.name)
        except (zipfile.BadZipFile, OSError):
            problems.append(p.name)
    for p in ws.output(YEAR).glob("*.csv"):
        text = p.read_text(encoding="utf-8-sig")
        if not text.startswith("dataelement,") or not text.endswith("\n"):
            problems.append(p.name)
    return problems


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL the command (not its workers: they must notice alone). True if it was still
    running, i.e. something was interrupted."""
    running = proc.poll() is None
    if running:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return running


# --- 3. kill collect and merge at random moments -------------------------------------------------


def test_collect_killed_at_random_moments_finishes_as_if_never_interrupted(source, reference, tmp_path):
    """Ten SIGKILLs of `treem collect --json`: two at a random delay in start-up, four while
    files are being stored (after a random share of the files still to store), four at a
    random delay while the report and the copies are written. After each: the store is intact and holds only whole files, every
    output opens, no worker is left, the lock is free. Then one more run finishes the job:
    the same submissions, statuses, values, problems and outputs as the uninterrupted run."""
    rng = random.Random(SEED)
    ws = new_workspace(tmp_path / "ws", source)
    total = len(reference["state"])
    plan = [("delay", rng.uniform(0.05, 0.3)) for _ in range(2)]
    # Small shares: files are stored a few per transaction, so each kill lands a batch or two past
    # its mark, and four kills must not use up the files still to store.
    plan += [("stored", rng.uniform(0.05, 0.3)) for _ in range(4)]
    plan += [("writing", rng.uniform(0.05, 0.5) * reference["collect_seconds"]) for _ in range(4)]
    seen = []
    for how, at in plan:
        before = stored_count(ws)
        proc = cli(ws, "collect", "--json", quiet=True)
        start = time.monotonic()
        if how == "delay":
            time.sleep(at)
        elif how == "stored":  # after a random share of the files still to store
            at = before + max(1, round(at * (total - before)))
            while proc.poll() is None and stored_count(ws) < at and time.monotonic() - start < 60:
                time.sleep(0.002)
        else:
            while proc.poll() is None and stored_count(ws) < total and time.monotonic() - start < 60:
                time.sleep(0.005)
            time.sleep(at)
        interrupted = kill(proc)
        TALLY["collect_kills"] += 1
        TALLY["collect_interrupted"] += interrupted
        left = workers_left(ws)
        TALLY["orphans"] += len(left)
        store_problems, output_problems = check_store(ws, reference), check_outputs(ws)
        TALLY["store_damaged"] += bool(store_problems)
        TALLY["outputs_unreadable"] += len(output_problems)
        seen.append((how, round(at, 2), interrupted, stored_count(ws)))
        assert (left, store_problems, output_problems) == ([], [], []), seen
    # Some kills landed while files were being stored, some after.
    assert sum(i for _, _, i, _ in seen) >= 8, seen
    assert sum(0 < n < total for *_, n in seen) >= 2, seen

    rc, out, err = finish(cli(ws, "collect", "--json"))
    assert rc == 0, err
    state = store_state(ws)
    TALLY["results_differing"] += state != reference["state"]
    assert state == reference["state"]
    out_dir = ws.output(YEAR)
    assert sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()
                  and not p.name.startswith(".")) == [o for o in reference["outputs"] if not o.startswith(
                      ("tong_hop", "du_lieu", "bao_cao"))]
    assert report_rows(out_dir / f"kiem_tra_so_lieu_{YEAR}.xlsx") == reference["report"]
    for p in out_dir.rglob("*.xlsx"):
        openpyxl.load_workbook(p)
    print(f"\ncollect kills (how, at, interrupted, stored after): {seen}")


def test_merge_killed_at_random_moments_keeps_the_last_good_outputs(reference, tmp_path):
    """Six SIGKILLs of `treem merge` at random delays, after one complete merge: the workbook
    and the CSV in output/ are always a whole version, the merged figures in the store are
    the reference figures, and one more run writes exactly the reference outputs."""
    ws = Workspace(tmp_path / "ws")
    shutil.copytree(reference["ws"].root, ws.root, symlinks=True)
    rng = random.Random(SEED + 1)
    delays = [rng.uniform(0.05, 1.0) * reference["merge_seconds"] for _ in range(6)]
    csv_path = ws.output(YEAR) / f"du_lieu_{YEAR}.csv"
    for d in delays:
        proc = cli(ws, "merge", "--json", quiet=True)
        time.sleep(d)
        interrupted = kill(proc)
        TALLY["merge_kills"] += 1
        TALLY["merge_interrupted"] += interrupted
        left = workers_left(ws)
        problems = check_outputs(ws)
        TALLY["outputs_unreadable"] += len(problems)
        TALLY["orphans"] += len(left)
        with sqlite3.connect(ws.db_path) as db:
            intact = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        TALLY["store_damaged"] += not intact
        assert (left, problems, intact) == ([], [], True)
        assert merged_state(ws) == reference["merged"]
        assert csv_path.read_text(encoding="utf-8-sig") == reference["csv"]
        openpyxl.load_workbook(ws.output(YEAR) / f"tong_hop_{YEAR}.xlsx")
    rc, _, err = finish(cli(ws, "merge", "--json"))
    assert rc == 0, err
    TALLY["results_differing"] += merged_state(ws) != reference["merged"]
    assert merged_state(ws) == reference["merged"]
    rows = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0] == "dataelement" and len(rows) > 100


# --- 4. two runs at once -------------------------------------------------------------------------------


def test_second_run_says_clearly_that_the_first_is_running(source, reference, tmp_path):
    """While one collect holds the workspace, a second collect and a merge stop at once with
    a Vietnamese message naming the running command, and a non-zero exit; the first finishes
    with the reference result."""
    ws = new_workspace(tmp_path / "ws", source)
    first = cli(ws, "collect", "--json")
    lock = ws.root / ".treem.lock"
    start = time.monotonic()
    while f"(pid {first.pid})" not in (lock.read_text(encoding="utf-8") if lock.exists() else ""):
        assert first.poll() is None and time.monotonic() - start < 30
        time.sleep(0.005)
    second, merge = cli(ws, "collect", "--json"), cli(ws, "merge", "--json")
    for proc, what in ((second, "collect"), (merge, "merge")):
        rc, out, err = finish(proc)
        TALLY["concurrent_runs"] += 1
        assert rc != 0 and out == ""
        assert LOCKED in err and f"treem collect (pid {first.pid})" in err and f"«treem {what}»" in err, err
        assert "Traceback" not in err
    assert first.poll() is None  # the refusals came while it was still working
    rc, out, err = finish(first)
    assert rc == 0, err
    assert store_state(ws) == reference["state"]


def test_two_collects_started_together(source, reference, tmp_path):
    """Two collects started at the same instant: one works, the other either waits its turn
    (if the first is done) or says why it stopped; the store ends as the reference."""
    ws = new_workspace(tmp_path / "ws", source)
    procs = [cli(ws, "collect", "--json"), cli(ws, "collect", "--json")]
    results = [finish(p) for p in procs]
    TALLY["concurrent_runs"] += 2
    assert 0 in [r[0] for r in results]
    for rc, out, err in results:
        assert "Traceback" not in err
        if rc != 0:
            assert LOCKED in err
    with sqlite3.connect(ws.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store_state(ws) == reference["state"]


# --- files still arriving ------------------------------------------------------------------------------


def test_unfinished_downloads_and_lock_files_are_left_alone(workspace, templates, tmp_path):
    """A download not finished (.part, .crdownload) and Excel's lock file (~$) are said and
    left alone; the finished file beside them is read."""
    whole = fill(templates["15700"], tmp_path / "whole.xlsx", COMMUNE_VALUES).read_bytes()
    inbox = workspace.inbox(YEAR)
    fill(templates["15703"], inbox / "15703.xlsx", COMMUNE_VALUES)
    (inbox / "15706.xlsx.part").write_bytes(whole[: len(whole) // 2])
    (inbox / "15709.xlsx.crdownload").write_bytes(whole[: len(whole) // 3])
    (inbox / "~$15703.xlsx").write_bytes(b"\x00" * 165)
    for p in inbox.iterdir():
        set_received(p, RECEIVED)
    result = collect(workspace, YEAR)
    TALLY["partial_files"] += 2
    assert {k.path: k.code for k in result.skipped} == {
        "15706.xlsx.part": "file-in-progress", "15709.xlsx.crdownload": "file-in-progress",
        "~$15703.xlsx": "office-lock-file"}
    assert [(s.path, s.status) for s in result.submissions] == [("15703.xlsx", "accepted")]
    assert not list(workspace.archive.rglob("*.part")) and not list(workspace.archive.rglob("*.crdownload"))


def _write_slowly(path: Path, data: bytes, pauses: list[float], started: threading.Event) -> None:
    """Copy `data` in len(pauses) + 1 pieces, pausing between them, as a slow download does."""
    pieces = len(pauses) + 1
    step = -(-len(data) // pieces)
    with open(path, "wb") as fh:
        for n in range(pieces):
            fh.write(data[n * step:(n + 1) * step])
            fh.flush()
            if n == 0:
                started.set()
            if n < len(pauses):
                time.sleep(pauses[n])


@pytest.mark.parametrize("pauses", [[1.2], [0.08] * 8, [0.02] * 12, [0.3, 0.3, 0.3]],
                         ids=["half-then-pause", "steady", "fast", "stop-and-go"])
def test_a_file_still_being_copied_is_never_half_read(workspace, templates, tmp_path, pauses):
    """A workbook is written piece by piece while collect reads the folder: it is either
    read whole or left with a warning for the next run, never stored half-read, and no copy
    of the half is archived. The next run, once the copy is done, reads it whole."""
    whole = fill(templates["15700"], tmp_path / "whole.xlsx", COMMUNE_VALUES).read_bytes()
    inbox = workspace.inbox(YEAR)
    set_received(fill(templates["15703"], inbox / "15703.xlsx", COMMUNE_VALUES), RECEIVED)
    started = threading.Event()
    target = inbox / "15700.xlsx"
    writer = threading.Thread(target=_write_slowly, args=(target, whole, pauses, started))
    writer.start()
    started.wait(5)
    result = collect(workspace, YEAR)
    writer.join()
    TALLY["partial_files"] += 1
    subs = {s.path: s for s in result.submissions}
    skipped = {k.path: k for k in result.skipped}
    assert subs["15703.xlsx"].status == "accepted"
    whole_sha = hashlib.sha256(whole).hexdigest()
    if "15700.xlsx" in subs:  # it had arrived whole before collect looked
        half = subs["15700.xlsx"].sha256 != whole_sha
    else:
        assert skipped["15700.xlsx"].code == "file-in-progress"
        assert "Tệp đang được chép vào thư mục" in skipped["15700.xlsx"].message
        half = False
    TALLY["half_read"] += half
    assert not half
    archived = {p.stem for p in workspace.archive.rglob("*.xlsx")}
    assert archived <= {s.sha256 for s in result.submissions}  # no copy of half a file kept
    # Later, the copy finished long ago: the next run reads it whole.
    set_received(target, RECEIVED)
    again = {s.path: s for s in collect(workspace, YEAR).submissions}
    assert (again["15700.xlsx"].status, again["15700.xlsx"].sha256) == ("accepted", whole_sha)


# --- readers that hang, run out of memory, or are killed -------------------------------------------


def _faulty_read(real):
    def read(path, *a, **kw):
        name = Path(path).name
        if "treo" in name:
            time.sleep(3600)  # a parser stuck in a loop
        if "bo_nho" in name:
            bytearray(64 << 30)  # far beyond the worker's memory limit
        if "bi_giet" in name:
            os.kill(os.getpid(), signal.SIGKILL)  # the out-of-memory killer, or a native crash
        return real(path, *a, **kw)
    return read


@pytest.mark.skipif(start_method() != "fork", reason="the faulty reader is patched in this process and reaches the workers only when they are forked")
def test_readers_that_hang_exhaust_memory_or_die_cost_only_their_file(workspace, templates, tmp_path, monkeypatch):
    """Each file has a time and a memory budget: a reader stuck in a loop is stopped, one
    that asks for too much memory fails alone, one killed outright is replaced; each such
    file is refused with one Vietnamese reason and reaches its unit; the others are read."""
    monkeypatch.setattr(collect_mod, "read", _faulty_read(collect_mod.read))
    monkeypatch.setattr(collect_mod, "FILE_TIMEOUT", 1.0)
    monkeypatch.setattr(collect_mod, "BATCH", 1)  # a stuck file is then found after one time budget
    names = {"15700": "15700_a.xlsx", "15703": "15703_treo.xlsx", "15706": "15706_bo_nho.xlsx",
             "15709": "15709_bi_giet.xlsx", "15712": "15712_b.xlsx"}
    for unit, name in names.items():
        set_received(fill(templates[unit], workspace.inbox(YEAR) / name, COMMUNE_VALUES), RECEIVED)
    start = time.monotonic()
    result = collect(workspace, YEAR, workers=2)
    elapsed = time.monotonic() - start
    TALLY["reader_faults"] += 3
    subs = {s.path: s for s in result.submissions}
    got = {n: (s.unit, s.status, [i.code for i in s.issues]) for n, s in subs.items()}
    assert got == {
        "15700_a.xlsx": ("15700", "accepted", []), "15712_b.xlsx": ("15712", "accepted", []),
        "15703_treo.xlsx": ("15703", "rejected", ["read-timeout"]),
        "15706_bo_nho.xlsx": ("15706", "rejected", ["too-much-memory"]),
        "15709_bi_giet.xlsx": ("15709", "rejected", ["reader-crashed"]),
    }
    for n in ("15703_treo.xlsx", "15706_bo_nho.xlsx", "15709_bi_giet.xlsx"):
        assert "đề nghị đơn vị" in subs[n].issues[0].message
    assert elapsed < 20
    assert workers_left(workspace, wait=1) == []


@pytest.mark.skipif(start_method() != "fork", reason="the stuck reader is patched in this process and reaches the workers only when they are forked")
def test_a_copy_of_a_stored_file_that_cannot_be_read_in_time_keeps_its_name(workspace, templates, monkeypatch):
    """A file whose reading hangs (a network share that stops answering) is hashed by the main
    process; when that content is already stored, the new name is added to it instead of a
    second copy of the same file."""
    first = fill(templates["15700"], workspace.inbox(YEAR) / "15700.xlsx", COMMUNE_VALUES)
    set_received(first, RECEIVED)
    collect(workspace, YEAR)
    shutil.copyfile(first, workspace.inbox(YEAR) / "15700_treo.xlsx")
    set_received(workspace.inbox(YEAR) / "15700_treo.xlsx", RECEIVED)
    real = collect_mod._load

    def load(path, *a):
        if "treo" in Path(path).name:
            time.sleep(3600)
        return real(path, *a)

    monkeypatch.setattr(collect_mod, "_load", load)
    monkeypatch.setattr(collect_mod, "FILE_TIMEOUT", 1.0)
    monkeypatch.setattr(collect_mod, "BATCH", 1)
    (sub,) = collect(workspace, YEAR, workers=2).submissions
    TALLY["reader_faults"] += 1
    left = workers_left(workspace, wait=1)
    TALLY["orphans"] += len(left)
    assert sub.status == "accepted" and sorted(sub.paths) == ["15700.xlsx", "15700_treo.xlsx"]
    assert left == []


# --- 6. the figures for the README ---------------------------------------------------------------------


def test_summary_for_the_readme():
    t = TALLY
    faults = t["collect_kills"] + t["merge_kills"] + t["concurrent_runs"] + t["partial_files"] + t["reader_faults"]
    print(f"\nREADME faults: {faults} faults injected: {t['collect_kills']} SIGKILLs of collect "
          f"({t['collect_interrupted']} mid-run), {t['merge_kills']} of merge ({t['merge_interrupted']} mid-run), "
          f"{t['concurrent_runs']} concurrent runs, {t['partial_files']} files still arriving "
          f"(written slowly during the run, or unfinished downloads), "
          f"{t['reader_faults']} reader faults (hang, memory, killed); store damaged {t['store_damaged']}, "
          f"results differing from an uninterrupted run {t['results_differing']}, half-read files {t['half_read']}, "
          f"unreadable outputs {t['outputs_unreadable']}, workers left behind {t['orphans']}")
    assert (t["store_damaged"], t["results_differing"], t["half_read"], t["outputs_unreadable"], t["orphans"]) == (
        0, 0, 0, 0, 0)

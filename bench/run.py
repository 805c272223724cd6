"""Benchmark: generate, fill, collect, merge and report for synthetic rosters of N units.

    python bench/run.py --units 45,166,1000,10000

Each stage runs as its own process (start-up included), sampled every 20 ms for the resident
memory of its whole process tree. The ratios are measured in the same run on the same files:
generate, collect and the cycle (collect + merge + report) ÷ the floor (unzip each returned
file and read its sheet XML, nothing else), and collect ÷ a plain openpyxl loop (load_workbook,
then read the same input cells by defined name). After the cycle, the next year's forms are
generated too: they print last year's values, which the first year's do not."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config.workspace import Workspace, init_workspace  # noqa: E402

YEAR = 2024
OPENPYXL_SAMPLE = 1000


def synthetic_roster(n: int) -> dict:
    units = []
    for i in range(n):
        units.append({"code": f"B{i:05d}", "name": f"Xã Thử Nghiệm {i}", "type": "thi_tran" if i % 15 == 0 else "xa",
                      "valid_from": None, "valid_to": None, "aliases": [], "successor": None,
                      "contact": {"person": "", "phone": "", "email": ""}})
    return {"units": units}


def commune_values(i: int) -> dict:
    rng = random.Random(i)
    pop = rng.randint(4000, 12000)
    total = round(pop * 0.26)
    u1, u5, u8 = round(pop * 0.014), round(pop * 0.072), round(pop * 0.131)
    v = {"children_total": total, "children_u1": u1, "children_u5": u5, "children_0_8": u8,
         "children_age5": round(pop * 0.0146), "children_7plus": round(pop * 0.13),
         "children_11plus": round(pop * 0.072), "minors_5_17": round(pop * 0.205), "live_births": u1 + 5}
    v.update(ct01_child_friendly="Có", ct02_served=round(u8 * 0.9), ct03_deaths_neonatal=0, ct03_deaths_u1=1,
             ct03_deaths_u5=1, ct04_measured=round(u5 * 0.95), ct04_underweight=round(u5 * 0.07),
             ct04_stunted=round(u5 * 0.15), ct04_obese=round(u5 * 0.03), ct05_u1_vaccinated=round(u1 * 0.95),
             ct05_u5_vaccinated=round(u5 * 0.96), ct06_hiv_exposed=1, ct06_hiv_infected=0, ct07_facilities=5,
             ct07_sanitary=5, ct08_special=round(total * 0.04), ct08_special_cared=round(total * 0.038),
             ct09_abused=1, ct10_child_labour=round(pop * 0.008), ct11_injured=1, ct11_injury_deaths=0,
             ct12_disaster_affected=30, ct12_disaster_assisted=30, ct13_child_marriages=2,
             ct14_registered=round(u5 * 0.995), ct15_developing=round(u5 * 0.98), ct16_age5_enrolled=round(pop * 0.0144),
             ct17_primary_final=200, ct17_primary_completed=198, ct18_lower_sec_final=180,
             ct18_lower_sec_completed=172, ct19_schools=4, ct19_psych_support=4, ct20_disability_ready=3,
             ct20_disabled_needs=10, ct20_disabled_access=8, ct21_play_spot="Có", ct22_consulted=round(pop * 0.05),
             ct23_aware=round(total * 0.86), ct24_participating=round(pop * 0.03),
             budget_ns_dia_phuong_planned=100, budget_ns_dia_phuong_spent=92.5)
    return v


_NAME_RE = re.compile(r'<definedName name="([^"]+)"[^>]*>\'?([^\'!<]+)\'?!\$([A-Z]+)\$(\d+)</definedName>')


def fill_fast(template: Path, dest: Path, values: dict) -> None:
    """Write values into the input cells' XML, as Excel stores typed numbers and text."""
    with zipfile.ZipFile(template) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    wbxml = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    sheet_file = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" (?:state="\w+" )?r:id="(rId\d+)"', wbxml):
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(rf'Target="([^"]+)"[^>]*Id="{rid}"', rels)
        sheet_file[name] = "xl/" + target.group(1)
    edits: dict[str, dict[str, object]] = {}
    for name, sheet, col, row in _NAME_RE.findall(wbxml):
        if name in values:
            edits.setdefault(sheet_file[sheet], {})[f"{col}{row}"] = values[name]
    for part, cells in edits.items():
        xml = parts[part].decode()

        def put(m):
            ref = m.group(1)
            if ref not in cells:
                return m.group(0)
            v = cells[ref]
            attrs = m.group(2)
            if isinstance(v, str):
                return f'<c r="{ref}"{attrs} t="inlineStr"><is><t>{v}</t></is></c>'
            return f'<c r="{ref}"{attrs}><v>{v}</v></c>'

        parts[part] = re.sub(r'<c r="([A-Z]+\d+)"([^>]*?)/>', put, xml).encode()
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes and their own children."""
    try:
        import resource
    except ImportError:  # Windows: no CPU times, the wall times still stand
        return 0.0
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str]) -> dict:
    """Wall seconds, CPU seconds (of the whole process tree) and peak tree RSS of a command.
    On a shared machine the CPU seconds move less with the other users' load than the wall."""
    t0, cpu0 = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()[-2000:]}")
    return {"seconds": elapsed, "cpu_seconds": _children_cpu() - cpu0, "peak_mb": peak / 2**20}


def floor(files: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of unzipping each file and reading its sheet XML."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    for f in files:
        with zipfile.ZipFile(f) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml":
                    z.read(name)
    return time.perf_counter() - t0, time.process_time() - cpu0


def openpyxl_loop(files: list[Path], names: list[str]) -> float:
    import openpyxl

    t0 = time.perf_counter()
    for f in files:
        wb = openpyxl.load_workbook(f)
        for n in names:
            if n in wb.defined_names:
                (sheet, ref), = wb.defined_names[n].destinations
                wb[sheet][ref].value
    return time.perf_counter() - t0


def run(n: int, work: Path, with_report: bool, with_next_year: bool) -> dict:
    ws_dir = work / f"n{n}"
    shutil.rmtree(ws_dir, ignore_errors=True)
    ws, _ = init_workspace(ws_dir)
    (ws.root / "roster.yaml").write_text(yaml.safe_dump(synthetic_roster(n), allow_unicode=True), encoding="utf-8")
    treem = [sys.executable, "-m", "pipeline"]
    out: dict = {"units": n, "load": [os.getloadavg()[0]]}
    out["generate"] = timed(treem + ["generate", "--year", str(YEAR), "-w", str(ws.root), "--json"])
    templates = sorted((ws.root / "output" / str(YEAR) / "bieu_mau").glob("*.xlsx"))
    inbox = ws.inbox(YEAR)
    inbox.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    received = time.mktime((YEAR, 11, 15, 9, 0, 0, 0, 0, -1))
    for i, tpl in enumerate(templates):
        dest = inbox / tpl.name
        fill_fast(tpl, dest, commune_values(i))
        os.utime(dest, (received, received))
    out["fill_seconds"] = time.perf_counter() - t0
    files = sorted(inbox.glob("*.xlsx"))
    out["collect"] = timed(treem + ["collect", "--year", str(YEAR), "-w", str(ws.root), "--json"])
    out["merge"] = timed(treem + ["merge", "--year", str(YEAR), "-w", str(ws.root), "--json"])
    if with_report:
        out["report"] = timed(treem + ["report", "--year", str(YEAR), "-w", str(ws.root), "--json"])
    if with_next_year:
        out["next_year"] = timed(treem + ["generate", "--year", str(YEAR + 1), "-w", str(ws.root), "--json"])
    out["floor_seconds"], out["floor_cpu_seconds"] = floor(files)
    sample = files[:OPENPYXL_SAMPLE]
    names = [f.code for f in Workspace(ws.root).catalogue.fields if f.section != "narrative"]
    out["openpyxl_seconds_per_file"] = openpyxl_loop(sample, names) / len(sample)
    out["openpyxl_sample"] = len(sample)
    per_file = out["collect"]["seconds"] / len(files)
    cycle = [out[s] for s in ("collect", "merge", "report") if s in out]
    out["cycle"] = {k: sum(s[k] for s in cycle) for k in ("seconds", "cpu_seconds")}
    for stage in ("generate", "collect", "cycle", "next_year"):
        if stage in out:
            out[f"{stage}_vs_floor"] = out[stage]["seconds"] / out["floor_seconds"]
            out[f"{stage}_cpu_vs_floor"] = out[stage]["cpu_seconds"] / max(out["floor_cpu_seconds"], 1e-9)
    out["openpyxl_vs_collect"] = out["openpyxl_seconds_per_file"] / per_file
    out["load"].append(os.getloadavg()[0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", default="45,166,1000", help="comma-separated roster sizes")
    ap.add_argument("--work", default=str(ROOT / "bench" / "work"), help="scratch folder (deleted per size)")
    ap.add_argument("--no-report", action="store_true", help="skip the Word report stage")
    ap.add_argument("--no-next-year", action="store_true", help="skip generating the next year's forms")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = ap.parse_args()
    work = Path(args.work)
    results = []
    for n in (int(x) for x in args.units.split(",")):
        r = run(n, work, with_report=not args.no_report, with_next_year=not args.no_next_year)
        results.append(r)
        if not args.json:
            print_run(r)
    if args.json:
        print(json.dumps(results, indent=2))


def print_run(r: dict) -> None:
    n = r["units"]
    print(f"\n== {n} units (load average at the start: {r['load'][0]:.2f}, at the end: {r['load'][1]:.2f}) ==")
    for stage in ("generate", "collect", "merge", "report", "next_year"):
        if stage in r:
            s = r[stage]
            print(f"{stage:<9} {s['seconds']:8.2f} s  {n / s['seconds']:9.1f} wb/s  {1000 * s['seconds'] / n:7.2f} ms/wb  "
                  f"peak {s['peak_mb']:7.0f} MB  cpu {s['cpu_seconds']:7.2f} s")
    print(f"cycle (collect+merge+report, start-up included): {r['cycle']['seconds']:.2f} s, "
          f"cpu {r['cycle']['cpu_seconds']:.2f} s")
    print(f"floor (unzip + read sheet XML): {r['floor_seconds']:.2f} s ({1000 * r['floor_seconds'] / n:.2f} ms/wb), "
          f"cpu {r['floor_cpu_seconds']:.2f} s")
    if n < 1000:
        print("(below about 1,000 files the ratios measure start-up: Python, imports and the workers "
              "take some 0.3 s the floor does not pay)")
    cycle = "cycle" if "report" in r else "collect + merge (no report: not the cycle)"
    for stage, label, target in (("generate", "generate", "<= 10x"), ("collect", "collect", "<= 8x"),
                                 ("cycle", cycle, "<= 6x" if "report" in r else "-"),
                                 ("next_year", "next year's generate (last year's values on the forms)", "-")):
        if f"{stage}_vs_floor" in r:
            print(f"{label} / floor = {r[f'{stage}_vs_floor']:.1f}x   (target {target}; in CPU seconds "
                  f"{r[f'{stage}_cpu_vs_floor']:.1f}x)")
    print(f"openpyxl loop / collect = {r['openpyxl_vs_collect']:.1f}x faster   (target >= 10x; openpyxl "
          f"{1000 * r['openpyxl_seconds_per_file']:.1f} ms/wb on {r['openpyxl_sample']} files)")

if __name__ == "__main__":
    main()

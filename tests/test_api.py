"""The analyst's view: the workspace's figures as typed DataFrames (pipeline.analysis.api) and
`treem export`. The DataFrames are held to what `treem merge --json` and `treem collect
--json` print, value by value, on the demo's five years."""

from __future__ import annotations

import csv
import doctest
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import pipeline.analysis.api
import pipeline.analysis.export
from pipeline import open_workspace
from pipeline.base.problems import issue
from pipeline.cli import cli
from pipeline.collect.run import collect
from pipeline.merge.result import STATUS_LABELS
from pipeline.merge.merger import merge
from conftest import COMMUNE_VALUES, fill, inbox_copy
from conftest import store_values as put
from pipeline.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
YEARS = [2021, 2022, 2023, 2024, 2025]


def invoke(*args) -> dict | str:
    res = CliRunner().invoke(cli, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return json.loads(res.output) if "--json" in args else res.output


@pytest.fixture(scope="module")
def demo(demo_2025):
    return open_workspace(demo_2025)


def same(a, b) -> bool:
    """Two figures are the same, <NA> and None included (and never 0 for a blank)."""
    if a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a)):
        return b is None or b is pd.NA or (isinstance(b, float) and math.isnan(b))
    if b is None or b is pd.NA:
        return False
    return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)


# ------------------------------------------------------------------ the docstrings' examples


@pytest.mark.parametrize("module", [pipeline.analysis.api, pipeline.analysis.export])
def test_docstring_examples_run(module, demo, demo_2025):
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, extraglobs={"ws": demo, "demo_root": demo_2025}) if t.examples]
    assert tests
    for t in tests:
        runner.run(t)
    assert runner.failures == 0 and runner.tries >= (20 if module is pipeline.analysis.api else 1)


# ------------------------------------------------------- against `treem merge --json`


def merge_json_indicators(payload: dict) -> dict[str, dict]:
    """indicator code -> the figures `treem merge --json` prints, in the DataFrame's terms.
    The one place that knows the shape of merge's JSON."""
    return {r["code"]: {"value": r["value"], "numerator": r["numerator"], "denominator": r["denominator"],
                        "units_reported": r["units_reported"], "units_expected": r["units_expected"],
                        "chi_tieu": r["chi_tieu"], "name": r["name"], "source": r["source"],
                        "verdict_2025": r["verdicts"]["2025"], "verdict_2030": r["verdicts"]["2030"]}
            for r in payload["indicators"]}


def frame_indicators(df: pd.DataFrame) -> dict[str, dict]:
    """The same from ws.indicators()."""
    out = {}
    for r in df.to_dict("records"):
        out[r["code"]] = {k: r[k] for k in ("value", "numerator", "denominator", "units_reported",
                                            "units_expected", "chi_tieu", "name", "source")}
        out[r["code"]] |= {k: r[k] for k in ("verdict_2025", "verdict_2030")}
    return out


def test_indicators_and_unit_values_match_merge_json_every_year(demo, demo_2025):
    assert demo.years() == YEARS
    all_years = demo.indicators()
    units = demo.unit_indicators()
    assert sorted(all_years["year"].unique()) == YEARS
    for year in YEARS:
        payload = invoke("merge", "--year", year, "--json", "-w", demo_2025)
        want = merge_json_indicators(payload)
        got = frame_indicators(demo.indicators(years=[year]))
        assert got.keys() == want.keys() and len(want) == 32
        for code, w in want.items():
            for k, v in w.items():
                g = got[code][k]
                assert (same(g, v) if isinstance(v, (int, float)) or v is None else g == v), (year, code, k, g, v)
        assert frame_indicators(all_years[all_years.year == year]) == got
        # each commune's own value of each indicator
        mine = units[units.year == year]
        assert {(r.unit, r.code): r.value for r in mine.itertuples()} == {
            (u, c): v for u, vals in payload["units"].items() for c, v in vals.items()}
        assert len(mine) == sum(len(v) for v in payload["units"].values()) > 0


def test_indicator_columns_have_proper_dtypes(demo):
    df = demo.indicators()
    assert {c: str(t) for c, t in df.dtypes.items()} == pipeline.analysis.api.INDICATORS
    assert set(df["verdict_2025"].cat.categories) <= set(STATUS_LABELS)
    # No commune reported: no figure, never 0.
    none = df[(df.units_reported == 0) & (df.source == "communes")]
    assert len(none) > 0 and none["value"].isna().all()


# ----------------------------------------------------- against `treem collect --json`


def test_submissions_and_problems_match_collect_json_every_year(demo, demo_2025):
    for year in YEARS:
        payload = invoke("collect", "--year", year, "--no-feedback", "--json", "-w", demo_2025)
        subs = demo.submissions(year)
        assert len(subs) == len(payload["submissions"]) > 0
        by_sha = {r["sha256"]: r for r in subs.to_dict("records")}
        for s in payload["submissions"]:
            r = by_sha[s["sha256"]]
            assert (r["path"], r["status"], r["on_time"]) == (s["path"], s["status"], s["on_time"])
            assert (r["unit"] if r["unit"] is not pd.NA else None) == s["unit"]
            assert r["received"] == pd.Timestamp(s["received_at"])
            assert r["errors"] == sum(i["severity"] == "error" for i in s["issues"])
            assert r["warnings"] == sum(i["severity"] == "warning" for i in s["issues"])
        problems = demo.problems(year)
        cols = ["sha256", "code", "severity", "sheet", "cell", "field", "message"]
        got = [tuple(None if v is pd.NA else v for v in row) for row in problems[cols].itertuples(index=False)]
        want = [(s["sha256"], *(i.get(k) for k in cols[1:])) for s in payload["submissions"] for i in s["issues"]]
        assert sorted(got, key=str) == sorted(want, key=str)
    assert len(demo.problems()) == sum(len(demo.problems(y)) for y in YEARS) > 0
    s = demo.submissions()
    assert str(s["received"].dtype) == "datetime64[s]" and str(s["errors"].dtype) == "Int64"
    assert str(s["status"].dtype) == "category"


# --------------------------------------------------------------- the 2025 reorganisation


def test_earlier_years_in_the_2025_roster_follow_merge_rule(demo):
    old = demo.values(years=[2024])
    new = demo.values(years=[2024], roster_of=2025)
    five = ["15664", "15691", "15700", "15703", "15706"]  # TT Triệu Sơn, Minh Sơn, Dân Lực, Dân Lý, Dân Quyền

    def of(df, unit, field):
        return df[(df.unit == unit) & (df.field == field)]

    for field in ("children_total", "ct16_age5_enrolled", "budget_ns_dia_phuong_planned"):
        parts = [of(old, u, field)["value"].item() for u in five]
        assert all(p is not pd.NA for p in parts), field
        row = of(new, "15664", field)
        assert len(row) == 1 and row["value"].item() == sum(parts), field
        assert row["source_cell"].isna().item() and row["submission"].isna().item()
    # Five communes' yes/no cannot be one answer: not reported, not 0.
    assert of(old, "15664", "ct01_child_friendly")["value"].notna().item()
    assert of(new, "15664", "ct01_child_friendly")["value"].isna().item()
    assert set(new.loc[new.unit_type.isin(["xa", "thi_tran"]), "unit"].astype(str)) == {
        "15664", "15667", "15682", "15715", "15724", "15754", "15763", "15766"}
    assert of(new, "15664", "children_total")["unit_name"].item() == "Xã Triệu Sơn"
    # 15754 was Xã Thọ Cường; in the 2025 roster it is Xã Thọ Ngọc (Thọ Tiến, Xuân Thọ, Thọ Cường, Thọ Ngọc).
    ngoc = ["15673", "15745", "15754", "15751"]
    assert of(new, "15754", "children_total")["value"].item() == sum(of(old, u, "children_total")["value"].item()
                                                                      for u in ngoc)
    # 2025 itself is already in its own roster: unchanged.
    a, b = demo.values(years=[2025]), demo.values(years=[2025], roster_of=2025)
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------- blank vs 0, and the export


@pytest.fixture(scope="module")
def small(tmp_path_factory, templates):
    """Two communes, one reporting 0 children born to HIV-positive mothers were infected and
    the other leaving both HIV fields blank, and an office whose narrative looks like a
    formula; collected and merged for real."""
    from pipeline.config.workspace import init_workspace

    tmp = tmp_path_factory.mktemp("small")
    ws, _ = init_workspace(tmp / "ws")
    zero = dict(COMMUNE_VALUES, ct06_hiv_exposed=2, ct06_hiv_infected=0)
    blank = {k: v for k, v in COMMUNE_VALUES.items() if not k.startswith("ct06_")}
    names = openpyxl.load_workbook(templates["P-LDTBXH"]).defined_names
    office = {k: v for k, v in COMMUNE_VALUES.items() if k in names}
    office |= {"narr_direction": '=HYPERLINK("http://x.example","bấm")', "narr_results": "@SUM(1+1)"}
    for unit, values in (("15700", zero), ("15703", blank), ("P-LDTBXH", office)):
        inbox_copy(ws, fill(templates[unit], tmp / f"{unit}.xlsx", values), f"{unit}.xlsx")
    collected = collect(ws, 2024, feedback=False)
    assert {s.unit: s.status for s in collected.submissions}.keys() == {"15700", "15703", "P-LDTBXH"}
    assert all(s.status != "rejected" for s in collected.submissions), collected.submissions
    merge(ws, 2024)
    return ws


def test_blank_stays_na_and_zero_stays_zero(small):
    ws = open_workspace(small.root)
    v = ws.values()
    infected = v[v.field == "ct06_hiv_infected"].set_index("unit")["value"]
    assert infected["15700"] == 0 and infected["15700"] is not pd.NA
    assert infected["15703"] is pd.NA
    assert v[(v.unit == "15703") & (v.field == "ct06_hiv_infected")]["submission"].notna().item()
    ct06 = ws.indicators().set_index("code").loc["ct06"]
    assert (ct06["units_reported"], ct06["numerator"], ct06["value"]) == (1, 0.0, 0.0)
    u = ws.unit_indicators()
    assert u[u.code == "ct06"]["unit"].astype(str).tolist() == ["15700"]


def test_export_workbook_layout_and_values(small, tmp_path):
    out = tmp_path / "xuat.xlsx"
    res = invoke("export", "--years", "2024", "--out", out, "--json", "-w", small.root)
    assert res["outputs"] == [str(out)] and res["years"] == [2024] and res["format"] == "xlsx"
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Chỉ tiêu toàn huyện", "Dữ liệu pivot", "Số liệu đơn vị", "Tệp đã nhận",
                             "Lỗi và cảnh báo"]
    data = open_workspace(small.root)
    frames = {"Chỉ tiêu toàn huyện": data.indicators(), "Số liệu đơn vị": data.values(),
              "Tệp đã nhận": data.submissions(), "Lỗi và cảnh báo": data.problems()}
    for name, df in frames.items():
        sh = wb[name]
        titles = [c.value for c in sh[1]]
        codes = [c.value for c in sh[2]]
        # every code column is followed by what it says in Vietnamese
        labelled = {"Số liệu đơn vị": ("unit_type", "field"),
                    "Chỉ tiêu toàn huyện": ("verdict_2025", "verdict_2030", "source"),
                    "Tệp đã nhận": ("status",), "Lỗi và cảnh báo": ("severity",)}[name]
        expected = [x for c in df.columns for x in ((c, f"{c}_label") if c in labelled else (c,))]
        assert codes == expected
        assert titles == [pipeline.analysis.export.TITLES[c] for c in codes]  # Vietnamese titles above the code names
        assert "Giá trị" in titles or "Mức độ" in titles or "Tình trạng" in titles
        assert sh.row_dimensions[2].hidden and not sh.row_dimensions[1].hidden
        assert sh.freeze_panes == "A3"
        assert sh.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(codes))}{sh.max_row}"
        assert sh.page_setup.orientation == "landscape" and sh.print_title_rows == "$1:$2"
        # one page wide (fitToWidth 1 is the default, which XlsxWriter leaves out), any number tall
        assert sh.page_setup.fitToWidth in (None, 1) and sh.page_setup.fitToHeight == 0
        assert sh.sheet_properties.pageSetUpPr.fitToPage
        assert sh.max_row - 2 == len(df)
    # Read back as an analyst would: the hidden row's code names become the columns.
    back = pd.read_excel(out, sheet_name="Số liệu đơn vị", header=1, engine="openpyxl")
    mine = data.values()
    assert list(back.columns) == ["year", "unit", "unit_name", "unit_type", "unit_type_label", "field", "field_label",
                                  "value", "text", "source_cell", "submission", "excluded"]
    assert set(back["unit_type_label"]) == {"Xã", "Phòng, ban"}
    assert back.set_index("field")["field_label"]["ct06_hiv_infected"].tolist() == [
        "Số trẻ sinh ra từ mẹ nhiễm HIV bị nhiễm HIV"] * 2
    for (_, b), (_, m) in zip(back.iterrows(), mine.iterrows()):
        assert str(b["unit"]) == m["unit"] and b["field"] == m["field"] and same(b["value"], m["value"])
    blank = back[(back.unit.astype(str) == "15703") & (back.field == "ct06_hiv_infected")]
    assert len(blank) == 1 and pd.isna(blank["value"].item())
    # Text that looks like a formula is text.
    sh = wb["Số liệu đơn vị"]
    texts = [c for row in sh.iter_rows(min_row=3) for c in row if isinstance(c.value, str) and c.value[:1] in "=@"]
    assert {c.value for c in texts} == {'=HYPERLINK("http://x.example","bấm")', "@SUM(1+1)"}
    assert all(c.data_type == "s" for c in texts)
    # The pivot-ready sheet: one Excel table, units × indicators × years.
    piv = wb["Dữ liệu pivot"]
    assert list(piv.tables) == ["ChiTieuDonVi"]
    units = data.unit_indicators()
    assert piv.tables["ChiTieuDonVi"].ref == f"A1:K{len(units) + 1}"
    assert [c.value for c in piv[1]] == ["Năm", "Mã đơn vị", "Tên đơn vị", "Mã loại đơn vị", "Loại đơn vị", "Mã chỉ tiêu",
                                         "Chỉ tiêu số", "Tên chỉ tiêu", "Giá trị", "Tử số", "Mẫu số"]
    verdicts = pd.read_excel(out, sheet_name="Chỉ tiêu toàn huyện", header=1, engine="openpyxl").set_index("code")
    assert verdicts.loc["ct06", ["verdict_2030", "verdict_2030_label"]].tolist() == ["dat", "Đạt"]
    statuses = pd.read_excel(out, sheet_name="Tệp đã nhận", header=1, engine="openpyxl")
    said = {"accepted": "Hợp lệ", "accepted_with_warnings": "Hợp lệ, có cảnh báo"}
    assert len(statuses) == 3 and all(said[c] == label for c, label in zip(statuses.status, statuses.status_label))
    assert piv.page_setup.orientation == "landscape" and piv.print_title_rows == "$1:$1"


def test_export_csv_one_file_per_table(small, tmp_path):
    res = invoke("export", "--format", "csv", "--out", tmp_path / "csv", "--json", "-w", small.root)
    names = [Path(p).name for p in res["outputs"]]
    assert names == ["chi_tieu.csv", "chi_tieu_don_vi.csv", "so_lieu.csv", "tep_nhan.csv", "van_de.csv"]
    for p in res["outputs"]:
        raw = Path(p).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
        assert len(rows) == res["rows"][Path(p).stem]
    rows = list(csv.DictReader((tmp_path / "csv" / "so_lieu.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert list(rows[0]) == ["year", "unit", "unit_name", "unit_type", "unit_type_label", "field", "field_label",
                             "value", "text", "source_cell", "submission", "excluded"]
    infected = {r["unit"]: r["value"] for r in rows if r["field"] == "ct06_hiv_infected"}
    assert infected == {"15700": "0.0", "15703": ""}
    texts = {r["field"]: r["text"] for r in rows if r["unit"] == "P-LDTBXH" and r["field"].startswith("narr_")}
    assert texts["narr_direction"] == "'=HYPERLINK(\"http://x.example\",\"bấm\")" and texts["narr_results"] == "'@SUM(1+1)"
    subs = list(csv.DictReader((tmp_path / "csv" / "tep_nhan.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", r["received"]) for r in subs)


def test_export_text_output_and_mistakes(small, tmp_path):
    out = invoke("export", "-w", small.root)
    assert out.splitlines() == [
        "Đã xuất số liệu năm 2024: Chỉ tiêu toàn huyện 32 dòng; Dữ liệu pivot 61 dòng; Số liệu đơn vị 145 dòng; "
        "Tệp đã nhận 3 dòng; Lỗi và cảnh báo 0 dòng.", "  output/xuat_du_lieu_2024.xlsx"]
    assert (small.root / "output" / "xuat_du_lieu_2024.xlsx").exists()
    for args, said in ((["--years", "20x4"], "không đúng dạng"), (["--years", "2030"], "Chưa có số liệu"),
                       (["--format", "ods"], "chọn xlsx hoặc csv")):
        res = CliRunner().invoke(cli, ["export", *args, "-w", str(small.root)])
        assert res.exit_code != 0
        assert said in res.output and "Traceback" not in res.output


# ------------------------------------------------------------------ pandas stays lazy


def test_cycle_commands_and_collect_workers_never_load_pandas(small, tmp_path):
    """`import pipeline`, status, collect (its workers are forked from this process) and
    merge leave pandas out of sys.modules; the analyst API loads it."""
    script = f"""
import sys
import pipeline
assert "pandas" not in sys.modules, "import pipeline"
from pipeline.cli import main
for args in (["status"], ["collect", "--no-feedback"], ["merge"]):
    sys.argv = ["treem", *args, "--year", "2024", "--json", "-w", {str(small.root)!r}]
    try:
        main()
    except SystemExit as e:
        assert not e.code, args
    assert "pandas" not in sys.modules, args
import pipeline.collect.run, pipeline.base.workers, pipeline.collect.precheck, pipeline.collect.ingest, pipeline.collect.validate
assert "pandas" not in sys.modules, "collect's modules"
pipeline.open_workspace({str(small.root)!r}).values()
assert "pandas" in sys.modules
print("ok")
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().endswith("ok")


# ------------------------------------------------------------------ the manual's example


def test_the_manuals_example_runs_and_prints_what_it_shows(demo_2025, tmp_path):
    text = (ROOT / "docs" / "huong_dan.md").read_text(encoding="utf-8")
    m = re.search(r"```python\n(from pipeline import open_workspace\n.*?)```\n\n```\n(.*?)```", text, re.S)
    assert m, "the manual's pandas example"
    code, shown = m.groups()
    (tmp_path / "treem-demo").symlink_to(demo_2025)
    env = dict(os.environ, MPLBACKEND="Agg")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert [line.rstrip() for line in res.stdout.splitlines()] == [line.rstrip() for line in shown.splitlines()]
    assert (tmp_path / "ct16.png").read_bytes().startswith(b"\x89PNG")


def test_2025_roster_leaves_a_sum_out_when_a_predecessor_sent_nothing(small):
    # Only Dân Lực and Dân Lý of the five communes of Xã Triệu Sơn reported in 2024.
    v = open_workspace(small.root).values(years=[2024], roster_of=2025)
    ts = v[v.unit == "15664"].set_index("field")
    # Two of five is not Xã Triệu Sơn: nothing is carried, budgets included (merge's rule).
    assert ts["value"]["children_total"] is pd.NA
    assert ts["value"]["budget_ns_dia_phuong_planned"] is pd.NA
    assert ts["unit_name"].unique().tolist() == ["Xã Triệu Sơn"]
    assert set(v["unit"].astype(str)) == {"15664", "P-LDTBXH"}


# ----------------------------------------------- what merge counted, after an accept and a merger


def test_values_flag_what_an_accept_left_out_and_carry_by_merge_rule(workspace):
    """Xã Tân Ninh (15715, from 2025) = Vân Sơn (15712), Thái Hòa (15715), Thị trấn Nưa (15718).
    In 2024 Thái Hòa's file was rejected for its count of children 0-8 and the officer accepted
    it anyway (`treem accept`): merge leaves that one value out. Hand-worked, CT2 in 2024: Vân Sơn
    900/1000, Thái Hòa 450/(left out), Nưa 880/1000 -> 1780/2000 = 89%, on 2 communes; in the 2025
    roster Xã Tân Ninh has no 2024 count of children 0-8 (one predecessor's is left out), so its
    2024 CT2 is not carried and its 2025 change is not computed."""
    from pipeline.store.db import SubmissionRecord
    from pipeline.store.decisions import accept
    from pipeline.merge.merger import json_summary

    put(workspace, 2024, "15712", {"ct02_served": 900, "children_0_8": 1000})
    put(workspace, 2024, "15718", {"ct02_served": 880, "children_0_8": 1000})
    with Store(workspace.db_path) as store:
        rec = SubmissionRecord(year=2024, sha256="thai-hoa", path="15715.xlsx", size=1,
                               received_at="2024-11-10T09:00:00", status="rejected", unit="15715",
                               saved_at="2024-11-10T08:00:00", collected_at="now")
        store.add_submission(rec, [{"field": "ct02_served", "value": 450}, {"field": "children_0_8", "value": 5}],
                             [issue("cross-field-rule", field="children_0_8", rule="R1",
                                    says="Số trẻ được tiếp cận dịch vụ không thể vượt số trẻ em từ 0 đến 8 tuổi",
                                    detail="450 > 5")])
    accept(workspace, 2024, "15715", "Xã xác nhận qua điện thoại")
    merged = json_summary(merge(workspace, 2024))
    ct02 = next(i for i in merged["indicators"] if i["code"] == "ct02")
    assert (ct02["numerator"], ct02["denominator"], ct02["units_reported"]) == (1780, 2000, 2)
    assert (ct02["source"], ct02["communes_value"], ct02["office"]) == ("communes", 89.0, None)

    data = open_workspace(workspace.root)
    v = data.values(years=[2024])
    row = v[(v.unit == "15715") & (v.field == "children_0_8")]
    assert row["value"].item() == 5 and bool(row["excluded"].item()) is True  # what the unit typed, flagged
    assert not v[(v.unit == "15715") & (v.field == "ct02_served")]["excluded"].item()
    # In the 2025 roster, merge's own rule: no sum where a predecessor's value does not count.
    new = data.values(years=[2024], roster_of=2025)
    ninh = new[(new.unit == "15715") & (new.field.isin(["children_0_8", "ct02_served"]))].set_index("field")
    assert ninh.loc["children_0_8", "value"] is pd.NA
    assert ninh.loc["ct02_served", "value"] == 900 + 450 + 880
    put(workspace, 2025, "15715", {"ct02_served": 2800, "children_0_8": 3000})
    merged25 = json_summary(merge(workspace, 2025))
    ct02 = next(i for i in merged25["indicators"] if i["code"] == "ct02")
    assert ct02["comparison"]["units"] == 0 and ct02["previous"]["value"] == 89.0
    assert ct02["previous"]["source"] == "communes" and ct02["previous"]["units_reported"] == 2
    # the indicators table says whose each figure is
    ind = data.indicators(years=[2024]).set_index("code").loc["ct02"]
    assert (ind["source"], ind["communes_value"], ind["provisional"]) == ("communes", 89.0, True)

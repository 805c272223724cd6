"""Every figure the 2024 and 2025 reports and workbooks print: its value, its source and its
rounding, against hand-worked numbers.

A workspace of the real roster (34 communes until 2024, 8 from 2025) whose units report a
handful of indicators, straight into the store, so that every figure can be worked out by hand:

- 2021-2023: all 34 communes, every commune alike.
- 2024: 30 communes (Hợp Tiến, Thọ Vực, Đồng Thắng, Khuyến Nông send nothing), and the lead
  offices' own district-wide counts, which are the district figures (catalogue authority "auto").
- 2025: the 8 new communes; Xã Thọ Bình and Xã An Nông give CT13 only.

The hand-worked figures (exact, as fractions) are in HAND below with how each was worked out;
the tests read the documents back and hold each printed figure to them."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction as F

import openpyxl
import pytest
from docx import Document

from conftest import store_values
from pipeline.config.workspace import init_workspace
from pipeline.merge.merger import json_summary, load, merge
from pipeline.reporting.chart_data import attainment_bars, trend_series
from pipeline.reporting.report import report
from pipeline.reporting.words import indicator_info

# --- the workspace -----------------------------------------------------------------------------
OLD = ["15664", "15667", "15670", "15673", "15676", "15679", "15682", "15685", "15688", "15691", "15700", "15703",
       "15706", "15709", "15712", "15715", "15718", "15721", "15724", "15727", "15730", "15733", "15736", "15739",
       "15742", "15745", "15748", "15751", "15754", "15757", "15760", "15763", "15766", "15769"]
TOWNS = {"15664", "15718"}                        # Thị trấn Triệu Sơn, Thị trấn Nưa (urban)
SILENT_2024 = {"15679", "15727", "15733", "15760"}  # Hợp Tiến, Đồng Thắng, Khuyến Nông, Thọ Vực
REPORTING_2024 = [u for u in OLD if u not in SILENT_2024]
# 2025: the new communes and what each reports (Thọ Bình 15667 and An Nông 15766 give CT13 only).
NEW = {  # code: (children 0-8, served, 7+, consulted, children, aware, measured, obese, births, deaths, marriages)
    "15664": (5000, 4700, 5000, 2100, 20000, 17400, 1000, 70, 500, 1, 20),  # Xã Triệu Sơn (urban)
    "15667": None,                                                          # Xã Thọ Bình: 11 marriages only
    "15754": (4000, 3720, 4000, 1640, 16000, 13900, 800, 32, 400, 0, 16),   # Xã Thọ Ngọc
    "15682": (4000, 3700, 4000, 1600, 16000, 13800, 800, 32, 400, 0, 20),   # Xã Hợp Tiến
    "15766": None,                                                          # Xã An Nông: 18 marriages only
    "15715": (3000, 2790, 3000, 1230, 12000, 10500, 600, 48, 300, 0, 12),   # Xã Tân Ninh (urban)
    "15724": (3000, 2760, 3000, 1200, 12000, 10300, 600, 24, 300, 0, 16),   # Xã Đồng Tiến
    "15763": (7000, 6500, 7000, 2800, 28000, 24300, 1400, 56, 700, 0, 24),  # Xã Thọ Phú
}
ONLY_CT13 = {"15667": 11, "15766": 18}
FIELDS = ("children_0_8", "ct02_served", "children_7plus", "ct22_consulted", "children_total", "ct23_aware",
          "ct04_measured", "ct04_obese", "live_births", "ct03_deaths_neonatal", "ct13_child_marriages")
LDTBXH = "Phòng Lao động - Thương binh và Xã hội"


def _old_commune(year: int, i: int, unit: str) -> dict:
    """An old commune's counts: every commune alike, bar the towns (obesity), Dân Lực (one
    neonatal death a year) and, in 2024, Thị trấn Triệu Sơn (CT22, CT23)."""
    k = year - 2021
    town = unit in TOWNS
    v = {"children_0_8": 1000, "ct02_served": [880, 890, 900, 925][k],
         "children_7plus": 1000, "ct22_consulted": [360, 370, 380, 400][k],
         "children_total": 4000, "ct23_aware": [3300, 3350, 3380, 3400][k],
         "ct04_measured": 200, "ct04_obese": 16 if town else 8,
         "live_births": 100, "ct03_deaths_neonatal": 1 if unit == "15700" else 0,
         "ct13_child_marriages": [4, 4, 3, 4][k]}
    if year == 2024 and unit == "15664":
        v |= {"ct22_consulted": 409, "children_total": 9000, "ct23_aware": 7647}
    # CT21: the first 24, 25, 23 communes of the roster have a play spot; in 2024 the first 27
    # of those that reported.
    order = REPORTING_2024.index(unit) if year == 2024 else i
    v["ct21_play_spot"] = int(order < [24, 25, 23, 27][k])
    return v


@dataclass
class Built:
    ws: object
    reports: dict        # year -> docx path
    workbooks: dict      # year -> xlsx path
    csv: dict            # year -> csv path
    json: dict           # year -> merge --json


@pytest.fixture(scope="module")
def hand(tmp_path_factory) -> Built:
    ws, _ = init_workspace(tmp_path_factory.mktemp("figures") / "ws")
    for year in (2021, 2022, 2023, 2024):
        for i, unit in enumerate(OLD):
            if year == 2024 and unit in SILENT_2024:
                continue
            store_values(ws, year, unit, _old_commune(year, i, unit))
    # The lead offices' district-wide counts, 2024 only.
    store_values(ws, 2024, "P-LDTBXH", {"children_0_8": 125000, "ct02_served": 114997, "children_7plus": 34000,
                                        "ct22_consulted": 13454, "children_total": 140000, "ct23_aware": 119700})
    store_values(ws, 2024, "P-VHTT", {"ct13_child_marriages": 136})
    store_values(ws, 2024, "P-YT", {"ct04_measured": 7000, "ct04_obese": 300})
    for unit, counts in NEW.items():
        if counts is None:
            store_values(ws, 2025, unit, {"ct13_child_marriages": ONLY_CT13[unit]})
            continue
        values = dict(zip(FIELDS, counts))
        store_values(ws, 2025, unit, values | {"ct21_play_spot": 1})
    built = Built(ws, {}, {}, {}, {})
    for year in (2021, 2022, 2023, 2024, 2025):
        result = merge(ws, year)
        built.json[year] = json.loads(json.dumps(json_summary(result)))
        built.workbooks[year], built.csv[year] = result.outputs["workbook"], result.outputs["csv"]
    for year in (2024, 2025):
        built.reports[year] = report(ws, year).docx
    return built


# --- the figures, worked out by hand --------------------------------------------------------------
# (year, indicator) -> the district figure and whose it is; "communes": the commune sum beside it;
# "n": communes that gave it. Percentages are numerator / denominator x 100.
HAND = {
    (2021, "ct02"): {"value": F(29920, 340), "source": "communes", "n": 34},           # 880 x 34 / 34.000
    (2022, "ct02"): {"value": F(30260, 340), "source": "communes", "n": 34},           # 89%
    (2023, "ct02"): {"value": F(30600, 340), "source": "communes", "n": 34},           # 90%
    (2024, "ct02"): {"value": F(11499700, 125000), "source": "office", "n": 30,        # Phòng LĐTBXH 114.997 /
                     "communes": F(2775000, 30000)},                                   # 125.000 = 91,9976%; 92,5
    (2025, "ct02"): {"value": F(2417000, 26000), "source": "communes", "n": 6},        # 24.170 / 26.000 = 92,96
    (2023, "ct22"): {"value": F(38), "source": "communes", "n": 34},
    (2024, "ct22"): {"value": F(1345400, 34000), "source": "office", "n": 30,          # 39,5706%
                     "communes": F(1200900, 30000)},                                   # 12.009 / 30.000 = 40,03
    (2025, "ct22"): {"value": F(1057000, 26000), "source": "communes", "n": 6},        # 40,6538%
    (2023, "ct23"): {"value": F(845, 10), "source": "communes", "n": 34},              # 3.380 / 4.000
    (2024, "ct23"): {"value": F(11970000, 140000), "source": "office", "n": 30,        # 85,5%
                     "communes": F(10624700, 125000)},                                 # 106.247 / 125.000 = 84,9976
    (2025, "ct23"): {"value": F(9020000, 104000), "source": "communes", "n": 6},       # 86,7308%
    (2023, "ct13"): {"value": F(-25), "source": "communes", "n": 34},                  # 102 against 136
    (2024, "ct13"): {"value": F(136 - 102, 102) * 100, "source": "office", "n": 30},   # Phòng VHTT 136: +33,33%
    (2025, "ct13"): {"value": F(137 - 136, 136) * 100, "source": "communes", "n": 8},  # 137 (8/8) vs 136: +0,7353%
    (2023, "ct04c"): {"value": F(28800, 6800), "source": "communes", "n": 34},         # 288 / 6.800 = 4,2353
    (2024, "ct04c"): {"value": F(30000, 7000), "source": "office", "n": 30,            # Phòng Y tế 4,2857
                      "communes": F(25600, 6000)},                                     # 256 / 6.000 = 4,2667
    (2025, "ct04c"): {"value": F(26200, 5200), "source": "communes", "n": 6},          # 262 / 5.200 = 5,0385
    (2023, "ct21"): {"value": F(2300, 34), "source": "communes", "n": 34},             # 67,65
    (2024, "ct21"): {"value": F(2700, 34), "source": "communes", "n": 30},             # 79,41 (79,41 - 91,18)
    (2025, "ct21"): {"value": F(600, 8), "source": "communes", "n": 6},                # 75 (75 - 100)
    (2024, "ct03a"): {"value": F(1000, 3000), "source": "communes", "n": 30},          # 1 death / 3.000 births
    (2025, "ct03a"): {"value": F(1000, 2600), "source": "communes", "n": 6},           # 1 / 2.600
}


def _round(x, decimals: int) -> str:
    """The test's own rounding, from the exact fraction: half away from zero, Vietnamese digits."""
    x = F(x)
    with localcontext() as ctx:
        ctx.prec = 60
        d = (Decimal(abs(x.numerator)) / Decimal(x.denominator)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    whole, _, frac = f"{d:.{decimals}f}".partition(".")
    s = f"{int(whole):,}".replace(",", ".") + ("," + frac.rstrip("0") if frac.rstrip("0") else "")
    return ("-" if x < 0 and s != "0" else "") + s


def _text(path) -> str:
    d = Document(path)
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def _rows(path, first: str) -> dict[str, list[str]]:
    """A Word table's rows by their first cell, the table found by its first header cell
    `first` and a year column."""
    for t in Document(path).tables:
        head = [c.text for c in t.rows[0].cells]
        if head[0] == "TT" and head[1] == first and any(re.fullmatch(r"(Năm )?20\d\d", h) for h in head):
            return {r.cells[0].text: [c.text for c in r.cells] for r in t.rows[1:]}
    raise AssertionError("no such table")


def _review(hand: Built) -> dict[str, list[str]]:
    d = Document(hand.reports[2025])
    t = next(t for t in d.tables if [c.text for c in t.rows[0].cells][3:8] == ["2021", "2022", "2023", "2024", "2025"])
    return {r.cells[0].text: [c.text for c in r.cells] for r in t.rows[1:]}


def _targets(r) -> list:
    """Every number an indicator's targets name (both years, each area's)."""
    return [x for t in r.targets.values() for x in (t.values() if isinstance(t, dict) else [t]) if x is not None]


def _sheet(hand: Built, year: int, name: str):
    return openpyxl.load_workbook(hand.workbooks[year])[name]


# --- merge stores the hand-worked figures -------------------------------------------------------
def test_merge_stores_the_hand_worked_figures(hand):
    for (year, code), want in HAND.items():
        r = load(hand.ws, year).indicator(code)
        assert r.value == pytest.approx(float(want["value"]), abs=1e-9), (year, code)
        assert r.source == want["source"], (year, code)
        if "communes" in want:
            assert r.communes_value == pytest.approx(float(want["communes"]), abs=1e-9), (year, code)
    # merge --json gives both figures of every indicator, and last year's with its source
    ct22 = next(i for i in hand.json[2024]["indicators"] if i["code"] == "ct22")
    assert ct22["communes_value"] == pytest.approx(40.03) and ct22["office"]["value"] == pytest.approx(13454 / 340)
    ct22 = next(i for i in hand.json[2025]["indicators"] if i["code"] == "ct22")
    assert (ct22["previous"]["value"], ct22["previous"]["source"]) == (pytest.approx(13454 / 340), "office")
    assert ct22["previous"]["source_name"] == LDTBXH and ct22["previous"]["units_reported"] == 30
    assert hand.json[2025]["counts"]["undecided"] == 1 and hand.json[2025]["reference_year"] == "2025"


# --- last year's figure: the one its report used, with the source it had ----------------------------
def test_last_years_figure_is_quoted_with_its_own_source(hand):
    text = _text(hand.reports[2025])
    # CT22: 39,57% was Phòng LĐTBXH's (the 30 communes had 40,03%). Like for like, on Xã Triệu
    # Sơn, Thọ Ngọc and Tân Ninh (complete in 2024): 2024 (2.009 + 1.600 + 1.200) / 12.000 =
    # 40,075% -> 2025 4.970 / 12.000 = 41,4167%: 41,42 - 40,08 = 1,34.
    assert ("Tỷ lệ trẻ em từ 7 tuổi trở lên được hỏi ý kiến về các vấn đề của trẻ em đạt 40,65%, vượt mục tiêu năm "
            "2025 (40%), tạm tính trên số liệu của 6/8 xã; tăng 1,34 điểm phần trăm so với năm 2024 trên cùng các xã "
            f"(năm 2024: 40,08%, năm 2025: 41,42%; số đã báo cáo năm 2024: 39,57%, số của {LDTBXH} cho toàn địa "
            "bàn); không so sánh Xã Hợp Tiến, Xã Đồng Tiến, Xã Thọ Phú (hình thành sau sắp xếp, có đơn vị cũ chưa "
            "báo cáo năm 2024).") in text
    assert "của 30 xã: 39,57" not in text and "39,57%" not in text.replace(f"39,57%, số của {LDTBXH}", "")
    # CT2: 91,9976% (Phòng LĐTBXH) missed 92%: never «92».
    assert f"số đã báo cáo năm 2024: 91,998%, số của {LDTBXH} cho toàn địa bàn" in text
    # Phụ lục I: last year's column with its source mark, this year's with its own.
    annex = _rows(hand.reports[2025], "Chỉ tiêu")
    assert annex["2"][5:8] == ["91,998 (p)", "92,96 (t)", "Đạt (tạm tính)"]
    assert annex["22"][5:8] == ["39,57 (p)", "40,65 (t)", "Đạt (tạm tính)"]
    assert annex["23"][5:7] == ["85,5 (p)", "86,73 (t)"]
    assert annex["13"][5:7] == ["Tăng 33,33 (p)", "Tăng 0,74"]
    # tong_hop 2025: the 2024 column and its source, apart from the target
    sh = _sheet(hand, 2025, "Tổng hợp")
    row = next(r for r in sh.iter_rows(min_row=5) if r[1].value == "CT2")
    assert (row[6].value, row[6].number_format, row[7].value) == (pytest.approx(91.9976), "#,##0.000",
                                                                   f"Số của {LDTBXH}")
    assert (row[8].value, row[9].value) == (pytest.approx(2417000 / 26000), "Tạm tính trên 6/8 xã")
    row = next(r for r in sh.iter_rows(min_row=5) if r[1].value == "CT22")
    assert (row[6].value, row[7].value) == (pytest.approx(13454 / 340), f"Số của {LDTBXH}")


def test_every_year_of_the_trend_says_whose_it_is(hand):
    sh = _sheet(hand, 2025, "Xu hướng")
    years = [c.value for c in sh[3]][2:]
    lines = {}
    for r in sh.iter_rows(min_row=4):
        lines.setdefault(r[0].value, {})[r[1].value] = dict(zip(years, r[2:]))
    ct2 = lines["CT2 Tỷ lệ trẻ em đến 8 tuổi được tiếp cận các dịch vụ hỗ trợ chăm sóc phát triển toàn diện"]
    cells = [ct2["Thực hiện"][y] for y in range(2021, 2026)]
    assert [c.value for c in cells] == pytest.approx([88, 89, 90, 91.9976, 2417000 / 26000])
    # each year with its source after it, the 2024 one apart from its target: «91,998 (p)»
    assert [c.number_format for c in cells] == ["#,##0", "#,##0", "#,##0", '#,##0.000 "(p)"', '#,##0.0# "(t)"']
    assert ct2["Mục tiêu 2025 (≥ 92)"][2021].value == 92
    ct21 = lines["CT21 Tỷ lệ xã có điểm văn hóa, vui chơi dành cho trẻ em"]
    assert set(ct21) >= {"Thực hiện 2021-2024", "Thực hiện 2025-2030"}  # a series break: two lines
    # the report's trend chart: each point labelled with its source mark
    result = load(hand.ws, 2025)
    series, _ = trend_series(result, ["ct02", "ct22"], 2021)
    assert series[0]["labels"][2024] == "91,998 (p)" and series[0]["marks"] == {2024: "(p)", 2025: "(t)"}
    assert series[1]["labels"][2024] == "39,57 (p)" and series[1]["labels"][2023] == "38"


# --- one rounding rule beside a target ------------------------------------------------------------------
def test_a_figure_beside_its_target_never_reads_as_it(hand):
    text = _text(hand.reports[2024])
    # 2024, CT2: Phòng LĐTBXH's 91,9976% misses 92%; the sentence prints all its figures at the
    # precision that keeps them apart: 3 decimals (92,5 and 90 need no more).
    assert (f"đạt 91,998% (số của {LDTBXH}; tổng hợp từ 30 xã, thị trấn: 92,5%), chưa đạt mục tiêu năm 2025 "
            "(92%), đúng lộ trình; tăng 2,5 điểm phần trăm so với năm 2023 trên cùng các xã, thị trấn (90%; số đã "
            "báo cáo năm 2023: 90%).") in text
    annex = _rows(hand.reports[2024], "Chỉ tiêu")
    assert annex["2"][6] == "91,998 (p)"
    # CT23: the communes' 84,9976% beside target 85 and the office's 85,5%.
    assert "Tổng hợp từ 30 xã, thị trấn: 84,998" in annex["23"][8]
    assert f"đạt 85,5% (số của {LDTBXH}; tổng hợp từ 30 xã, thị trấn: 84,998%)" in text
    sh = _sheet(hand, 2024, "Tổng hợp")
    row = next(r for r in sh.iter_rows(min_row=5) if r[1].value == "CT2")
    assert (row[8].value, row[8].number_format) == (pytest.approx(91.9976), "#,##0.000")
    assert "Tổng hợp từ 30 xã, thị trấn: 92,5 %" in row[16].value
    row = next(r for r in sh.iter_rows(min_row=5) if r[1].value == "CT23")
    assert "Tổng hợp từ 30 xã, thị trấn: 84,998 %" in row[16].value
    # Phụ lục IV of 2025: 2024's CT2 is 91,998, marked the office's and not met
    assert _review(hand)["2"][3:9] == ["88*", "89*", "90*", "91,998 (p)*", "92,96 (t)", "≥ 92"]
    # the attainment chart's label
    bars = attainment_bars(load(hand.ws, 2024), {r: indicator_info(hand.ws.catalogue, r) for r in ("ct02",)})
    assert next(b["text"] for b in bars if b["label"].startswith("CT2.")) == "91,998% (p) (mục tiêu 92)"


def test_every_figure_printed_is_a_figure_of_the_stored_counts_rounded_once(hand):
    """Each number with decimals in both reports is one of the figures worked out above (or a
    target, a unit's own figure from its counts, a change or a bound of them), rounded once at
    the digits shown, and never reads as a target it is not."""
    from pipeline.merge.merger import exact_value

    pool: set[F] = {abs(v["value"]) for v in HAND.values()} | {v["communes"] for v in HAND.values() if "communes" in v}
    cat = hand.ws.catalogue
    for year in (2021, 2022, 2023, 2024, 2025):
        result = load(hand.ws, year)
        for r in result.indicators:
            ind = cat.indicator(r.code)
            pairs = [(n, d) for u in result.unit_counts.values() for c, (n, d) in u.items() if c == r.code]
            pairs.append((r.numerator, r.denominator))
            if r.office:
                pairs.append((r.office.numerator, r.office.denominator))
            pairs += [(t.get("numerator"), t.get("denominator")) for t in r.by_type.values()]
            c = r.comparison
            if c and c.numerator is not None:
                pairs += [(c.numerator, c.denominator), (c.previous_numerator, c.previous_denominator)]
                a, b = exact_value(ind, c.numerator, c.denominator), exact_value(ind, c.previous_numerator,
                                                                                  c.previous_denominator)
                pool |= {abs(F(_round(a, k).replace(".", "").replace(",", "."))
                             - F(_round(b, k).replace(".", "").replace(",", "."))) for k in range(2, 5)}
            if r.bounds:
                pairs.append((r.numerator + r.bounds.missing, r.denominator))
            pool |= {abs(v) for n, d in pairs if (v := exact_value(ind, n, d)) is not None}
            pool |= {F(repr(t["expected"])) for t in r.track.values() if t}
            pool |= {F(repr(x)) for x in _targets(r)}
    checked = 0
    for year in (2024, 2025):
        text = _text(hand.reports[year])
        text = text[:text.index("\nPhụ lục III\n")] + text[text.index("\nPhụ lục IV\n"):] if year == 2025 else \
            text[:text.index("\nPhụ lục III\n")]
        for s in re.findall(r"(?<![\d,.])(\d{1,3}(?:\.\d{3})*,\d+)", text):
            checked += 1
            decimals = len(s.split(",")[1])
            assert any(_round(x, decimals) == s for x in pool), (year, s)
    assert checked > 120


# --- the mid-term review follows merge's verdicts -------------------------------------------------------
def test_the_review_marks_what_merge_judged(hand):
    rows = _review(hand)
    # CT21: 2024 on 30 of 34 communes, 27 yes: 79,41% to 91,18% against 80%: undecided, not «*».
    # 2025: 6 of 8 new communes, all yes: 75% to 100%: undecided; a new series (8 communes).
    assert rows["21"][3:9] == ["70,59*", "73,53*", "67,65*", "79,41?", "‖ 75?", "≥ 80"]
    assert rows["1"][7] == "–"  # no CT1 data at all
    # CT13: not judged before 2025; 2025 over the whole area (137 against 136): not met, not provisional
    assert rows["13"][3:8] == ["–", "0", "Giảm 25", "Tăng 33,33 (p)", "Tăng 0,74*"]
    assert rows["4c"][6:8] == ["4,29 (p)", "5,04 (t)"]
    d = Document(hand.reports[2025])
    texts = [p.text for p in d.paragraphs]
    note = next(t for t in texts if t.startswith("Ghi chú: «–» là năm chưa có số liệu tổng hợp"))
    for mark in ("dấu * là chưa đạt", "dấu ? là chưa đủ số liệu để đánh giá", "«(p)»", "«(t)»", "«‖»"):
        assert mark in note, mark
    summary = next(t for t in texts if t.startswith("Qua 5 năm thực hiện Chương trình"))
    # Against 2025's targets (30 indicators have one; CT5b and CT6 only for 2030): CT2, CT3a, CT4c,
    # CT22, CT23 met (all five provisional), CT13 not met, CT21 undecided, the 23 others without data.
    assert ("so với mục tiêu năm 2025: đạt 5/30 nội dung chỉ tiêu (5 tạm tính), chưa đạt 1, chưa đủ số liệu để đánh giá "
            "1, chưa có số liệu 23.") in summary


# --- CT13 and CT4c like for like ----------------------------------------------------------------------
def test_ct13_is_judged_over_the_whole_area_never_met_beside_a_rise(hand):
    r = load(hand.ws, 2025).indicator("ct13")
    assert (r.numerator, r.denominator, r.units_reported, r.provisional) == (137, 136, 8, False)
    assert r.verdict.label == "Chưa đạt"
    text = _text(hand.reports[2025])
    assert ("Năm 2025, số cuộc tảo hôn là 137 cuộc, năm 2024 là 136 cuộc (số của Phòng Văn hoá - Thông tin cho toàn "
            "địa bàn; tổng hợp từ 30/34 xã, thị trấn: 120 cuộc); số cuộc tảo hôn tăng 0,74% so với năm trước, chưa "
            "đạt mức giảm 1-2%/năm.") in text
    assert "Đạt (tạm tính)" not in _rows(hand.reports[2025], "Chỉ tiêu")["13"][7]


def test_ct4c_areas_are_the_communes_figures_provisional_and_compared(hand):
    r = load(hand.ws, 2024).indicator("ct04c")
    assert (r.source, r.provisional, r.verdict.label) == ("office", True, "Đạt")
    text = _text(hand.reports[2024])
    # Phòng Y tế 300 / 7.000 = 4,29% overall; by area from the 30 communes: rural 224 / 5.600 =
    # 4%, urban 32 / 400 = 8%. On the same 30 communes 2023 had 256 / 6.000 too.
    assert ("Tỷ lệ trẻ em dưới 5 tuổi béo phì chung toàn huyện là 4,29% (số của Phòng Y tế; tổng hợp từ 30 xã, thị "
            "trấn: 4,27%); theo khu vực (tổng hợp từ 30/34 xã, thị trấn đã báo cáo): khu vực nông thôn 4%, đạt mục "
            "tiêu năm 2025 (dưới 5%); khu vực thành thị 8%, đạt mục tiêu năm 2025 (dưới 10%), tạm tính; bằng năm "
            "2023 trên cùng các xã, thị trấn (4,27%; số đã báo cáo năm 2023: 4,24%).") in text
    assert _rows(hand.reports[2024], "Chỉ tiêu")["4c"][7] == "Đạt (tạm tính)"
    # 2025: on Triệu Sơn, Thọ Ngọc and Tân Ninh (150 / 2.400 = 6,25%) against their 2024 predecessors
    # (112 / 2.400 = 4,67%); the three communes with a silent predecessor are named.
    text = _text(hand.reports[2025])
    assert ("tăng 1,58 điểm phần trăm so với năm 2024 trên cùng các xã (năm 2024: 4,67%, năm 2025: 6,25%; số đã báo "
            "cáo năm 2024: 4,29%, số của Phòng Y tế cho toàn địa bàn); không so sánh Xã Hợp Tiến, Xã Đồng Tiến, Xã Thọ "
            "Phú") in text


# --- tong_hop as the plan writes it ---------------------------------------------------------------------
def test_tong_hop_targets_areas_and_path(hand):
    for year in (2024, 2025):
        sh = _sheet(hand, year, "Tổng hợp")
        rows = {r[2].value: [c.value for c in r] for r in sh.iter_rows(min_row=5) if r[1].value}
        targets = {name[:30]: (r[4], r[5]) for name, r in rows.items()}
        assert targets["Tỷ suất tử vong trẻ sơ sinh tr"] == ("Dưới 2,5", "Dưới 2")
        assert targets["Tỷ lệ trẻ em dưới 5 tuổi suy d"] in {("Dưới 9", "Dưới 6"), ("Tối đa 17", "Dưới 15")}
        assert targets["Tỷ lệ trẻ em đến 8 tuổi được t"] == ("≥ 92", "≥ 97")
        assert targets["Tỷ lệ trẻ em dưới 5 tuổi béo p"] == ("Dưới 5 (nông thôn); dưới 10 (thành thị)",) * 2
        assert targets["Mức thay đổi số cuộc tảo hôn s"] == ("Giảm 1-2%/năm",) * 2
    rows = {r[1].value: [c.value for c in r] for r in _sheet(hand, 2025, "Tổng hợp").iter_rows(min_row=5)}
    assert rows["CT21"][15] == "Không đánh giá: chuỗi số liệu mới từ năm 2025"  # no path from 34 old units
    assert load(hand.ws, 2025).indicator("ct21").track == {"2025": None, "2030": None}


# --- the words of 2025 --------------------------------------------------------------------------------
def test_2025_names_only_what_exists(hand):
    text = _text(hand.reports[2025])
    body = text[:text.index("\nPhụ lục I\n")]
    assert "Có 6/8 xã có điểm văn hóa, vui chơi dành cho trẻ em (75%), 2 xã chưa có báo cáo hợp lệ" in body
    assert "Tỷ lệ xã đạt tiêu chuẩn phù hợp với trẻ em" in text and "xã, thị trấn đạt tiêu chuẩn" not in text
    assert "phòng, ban, ngành" not in body and "chưa báo cáo," not in body
    assert "số của Phòng Văn hoá - Thông tin cho toàn địa bàn" in body  # 2024's figure keeps its source


# --- the CSV -------------------------------------------------------------------------------------------
def test_the_csv_says_whose_each_figure_is(hand):
    with open(hand.csv[2024], encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    ct22 = [r for r in rows if r["dataelement"] == "ct22" and r["orgunit"] in ("397", "P-LDTBXH")]
    assert [(r["orgunit"], r["source"]) for r in ct22] == [("397", "office"), ("P-LDTBXH", "office")]
    assert float(ct22[0]["value"]) == pytest.approx(13454 / 340) and "tổng các xã 40.03" in ct22[0]["comment"]


def _shown_in_excel(value: float, number_format: str) -> str:
    """What Excel shows for a number in one of the workbook's formats ("#,##0", "#,##0.0#",
    "#,##0.000"), marks after it dropped."""
    fmt = number_format.split(" ")[0]
    decimals = fmt.count("0", fmt.index(".")) if "." in fmt else 0
    optional = fmt.count("#", fmt.index(".")) if "." in fmt else 0
    s = _round(F(repr(value)), decimals + optional)
    shown = len(s.split(",")[1]) if "," in s else 0
    if shown < decimals:
        s += ("" if "," in s else ",") + "0" * (decimals - shown)
    return s


def test_every_figure_of_the_workbooks_is_shown_apart_from_its_targets(hand):
    """Each indicator figure of tong_hop (this year's and last year's in Tổng hợp, every year's in
    Xu hướng, the district's row of the goal sheets) shows as its stored value rounded once, and
    never as one of its targets unless it is that target."""
    checked = 0
    for year in (2024, 2025):
        result = load(hand.ws, year)
        by_name = {f"CT{r.chi_tieu} {r.name}": r for r in result.indicators}
        by_ct = {}
        for r in result.indicators:
            by_ct.setdefault(f"CT{r.chi_tieu}", []).append(r)
        wb = openpyxl.load_workbook(hand.workbooks[year])
        cells = []
        summary = list(wb["Tổng hợp"].iter_rows(min_row=5))
        for n, row in enumerate(summary):
            if row[1].value:
                r = result.indicators[n]
                cells += [(r, row[6]), (r, row[8])]
        for row in wb["Xu hướng"].iter_rows(min_row=4):
            if row[1].value and str(row[1].value).startswith("Thực hiện"):
                cells += [(by_name[row[0].value], c) for c in row[2:]]
        for goal in (1, 2, 3, 4):
            sh = wb[f"Mục tiêu {goal}"]
            heads = [c.value for c in sh[4]]
            total = next(r for r in sh.iter_rows(min_row=5) if r[1].value and str(r[1].value).startswith("Toàn"))
            for c, head in zip(total[3:], heads[3:]):
                code = head.split(" ")[1]
                cells.append((result.indicator(code), c))
        for r, cell in cells:
            if not isinstance(cell.value, (int, float)):
                continue
            checked += 1
            shown = _shown_in_excel(cell.value, cell.number_format)
            digits = len(shown.split(",")[1]) if "," in shown else 0
            assert (shown.rstrip("0").rstrip(",") if digits else shown) == _round(F(repr(float(cell.value))), digits)
            for t in _targets(r):
                if F(repr(float(cell.value))) != F(repr(float(t))):
                    assert F(shown.replace(".", "").replace(",", ".")) != F(repr(float(t))), \
                        (year, r.code, cell.coordinate, cell.value, cell.number_format, shown)
    assert checked > 60


def _apart(x: F, targets) -> str:
    """The rule, worked independently: the fewest decimals (at least 2) at which x reads
    differently from each target it differs from."""
    for d in range(2, 7):
        s = _round(x, d)
        if all(F(repr(float(t))) == x or _round(F(repr(float(t))), d) != s for t in targets):
            return s
    return _round(x, 6)


def _cell(r, year_result) -> str:
    """What a table cell should print for an indicator's figure of one year: its stored value
    apart from the targets, then its source mark."""
    x = F(repr(year_result.value))
    if r.kind == "yoy_change":
        s = _round(abs(x), 2)
        text = "0" if s == "0" else f"{'Giảm' if x < 0 else 'Tăng'} {s}"
    else:
        text = _apart(x, _targets(r))
    if year_result.source == "office":
        return text + " (p)"
    return text + (" (t)" if year_result.provisional else "")


def test_every_figure_of_the_appendix_tables_is_its_years_stored_figure_with_its_source(hand):
    """Phụ lục I (last year's and this year's columns) and Phụ lục IV (every year): each cell is
    that year's stored figure, rounded once and apart from the targets, with its source mark and,
    in the review, the mark of merge's verdict against the 2025 target."""
    checked, wrong = 0, []
    stored = {y: {r.code: r for r in load(hand.ws, y).indicators} for y in (2021, 2022, 2023, 2024, 2025)}
    tt = {}
    for year in (2024, 2025):
        annex = _rows(hand.reports[year], "Chỉ tiêu")
        codes = [r.code for r in load(hand.ws, year).indicators]
        labels = [k for k in annex if re.fullmatch(r"\d+[a-z]?", k)]
        tt = dict(zip(labels, codes))
        for label, code in tt.items():
            for column, y in ((5, year - 1), (6, year)):
                fig = stored[y][code]
                if fig.value is None:
                    continue
                checked += 1
                if annex[label][column] != _cell(stored[year][code], fig):
                    wrong.append((f"Phụ lục I {year}", label, y, annex[label][column], _cell(stored[year][code], fig)))
    review = _review(hand)
    for label, code in tt.items():
        for column, y in zip(range(3, 8), range(2021, 2026)):
            fig = stored[y][code]
            if fig.value is None:
                continue
            checked += 1
            want = _cell(stored[2025][code], fig)
            verdict = fig.verdicts.get("2025")
            if stored[2025][code].targets.get("2025") is not None:
                want += {"chua_dat": "*", "chua_du_so_lieu": "?"}.get(getattr(verdict, "value", verdict), "")
            if code in ("ct01", "ct21") and y == 2025:
                want = "‖ " + want
            if review[label][column] != want:
                wrong.append(("Phụ lục IV", label, y, review[label][column], want))
    assert checked > 40
    assert wrong == [], "\n".join(map(str, wrong))

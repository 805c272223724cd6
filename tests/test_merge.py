"""District figures against hand-worked numbers. Submissions go straight into the store
(the collect stage is tested elsewhere), so each case states exactly what units reported."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from pipeline.merge.result import Verdict

from pipeline.merge.merger import aggregate, expected_on_path, json_summary, merge
from conftest import store_values as put
from pipeline.store.db import Store


OLD_COMMUNES = ["15664", "15667", "15670", "15673", "15676", "15679", "15682", "15685", "15688", "15691", "15700",
                "15703", "15706", "15709", "15712", "15715", "15718", "15721", "15724", "15727", "15730", "15733",
                "15736", "15739", "15742", "15745", "15748", "15751", "15754", "15757", "15760", "15763", "15766",
                "15769"]


def ind(result, code: str):
    return result.indicator(code)


def labels(r) -> dict[str, str]:
    """The verdicts' labels by target year, as the officer reads them."""
    return {y: v.label for y, v in r.verdicts.items()}


def test_sums_counts_never_averages_rates(workspace):
    # Unit A: 90 of 100 children under 1 vaccinated (90%); unit B: 990 of 1000 (99%).
    # Mean of rates would be 94.5%; the district value is 1080/1100 = 98.1818...%.
    put(workspace, 2024, "15700", {"ct05_u1_vaccinated": 90, "children_u1": 100})
    put(workspace, 2024, "15703", {"ct05_u1_vaccinated": 990, "children_u1": 1000})
    r = ind(merge(workspace, 2024), "ct05a")
    assert (r.numerator, r.denominator, r.units_reported) == (1080, 1100, 2)
    assert r.value == pytest.approx(98.1818, abs=1e-4)
    assert labels(r) == {"2025": "Đạt", "2030": "Đạt"}  # >= 95 and >= 96


def test_a_blank_leaves_the_unit_out_and_a_zero_is_a_value(workspace):
    put(workspace, 2024, "15700", {"ct09_abused": 3, "children_total": 1000})
    put(workspace, 2024, "15703", {"children_total": 3000})  # numerator blank: not reported
    put(workspace, 2024, "15706", {"ct09_abused": 0, "children_total": 1000})  # 0 is a value
    r = ind(merge(workspace, 2024), "ct09")
    assert (r.numerator, r.denominator, r.units_reported) == (3, 2000, 2)
    assert r.value == pytest.approx(0.15)
    assert "15703" in r.missing_units and "15706" not in r.missing_units


def test_a_zero_denominator_gives_no_unit_value_but_counts_in_the_sums(workspace):
    # CT12: no child met a disaster in unit A (0 of 0); unit B assisted 45 of 50.
    put(workspace, 2024, "15700", {"ct12_disaster_assisted": 0, "ct12_disaster_affected": 0})
    put(workspace, 2024, "15703", {"ct12_disaster_assisted": 45, "ct12_disaster_affected": 50})
    result = merge(workspace, 2024)
    r = ind(result, "ct12")
    assert (r.numerator, r.denominator, r.value) == (45, 50, 90.0)
    assert "ct12" not in result.units.get("15700", {})
    assert result.units["15703"]["ct12"] == 90.0
    assert labels(r)["2025"] == "Chưa đạt"  # target 100%


def test_everything_zero_is_no_value_not_a_crash(workspace):
    put(workspace, 2024, "15700", {"ct12_disaster_assisted": 0, "ct12_disaster_affected": 0})
    r = ind(merge(workspace, 2024), "ct12")
    assert r.value is None and labels(r)["2025"] == "Chưa có số liệu"


def test_urban_and_rural_targets(workspace):
    # CT4 obesity: below 5% in a xã, below 10% in a thị trấn (strict: "dưới").
    put(workspace, 2024, "15664", {"ct04_obese": 8, "ct04_measured": 100})   # Thị trấn Triệu Sơn: 8% < 10
    put(workspace, 2024, "15718", {"ct04_obese": 10, "ct04_measured": 100})  # Thị trấn Nưa: exactly 10: not below
    put(workspace, 2024, "15700", {"ct04_obese": 4, "ct04_measured": 100})   # Xã Dân Lực: 4% < 5
    put(workspace, 2024, "15703", {"ct04_obese": 6, "ct04_measured": 100})   # Xã Dân Lý: 6% >= 5
    result = merge(workspace, 2024)
    st = result.unit_verdicts
    assert st["15664"]["ct04c"]["2025"] == Verdict.MET
    assert st["15718"]["ct04c"]["2025"] == Verdict.NOT_MET
    assert st["15700"]["ct04c"]["2025"] == Verdict.MET
    assert st["15703"]["ct04c"]["2025"] == Verdict.NOT_MET
    r = ind(result, "ct04c")
    assert r.by_type["thi_tran"]["value"] == pytest.approx(9.0)  # 18/200
    assert r.by_type["xa"]["value"] == pytest.approx(5.0)        # 10/200, not below 5
    assert labels(r)["2025"] == "Chưa đạt"                         # rural part fails


def test_urban_and_rural_targets_both_met(workspace):
    put(workspace, 2024, "15664", {"ct04_obese": 9, "ct04_measured": 100})
    put(workspace, 2024, "15700", {"ct04_obese": 4, "ct04_measured": 100})
    assert labels(ind(merge(workspace, 2024), "ct04c")) == {"2025": "Đạt", "2030": "Đạt"}


def test_ct13_without_and_with_previous_year(workspace):
    put(workspace, 2025, "15763", {"ct13_child_marriages": 4})
    put(workspace, 2025, "15754", {"ct13_child_marriages": 6})
    r = ind(merge(workspace, 2025), "ct13")
    assert r.value is None and labels(r)["2025"] == "Chưa có số liệu"  # no 2024 to compare with
    put(workspace, 2026, "15763", {"ct13_child_marriages": 3})
    put(workspace, 2026, "15754", {"ct13_child_marriages": 5})
    r = ind(merge(workspace, 2026), "ct13")
    # (8 - 10) / 10 = -20%: a fall of at least 1% a year is met.
    assert (r.numerator, r.denominator) == (8, 10)
    assert r.value == pytest.approx(-20.0)
    assert labels(r) == {"2025": "Đạt", "2030": "Đạt"}
    assert r.totals["current"] == {"year": 2026, "value": 8, "units": 2, "units_expected": 8, "whole": None,
                                   "whole_source": None}


def test_ct13_rising_is_not_met(workspace):
    put(workspace, 2025, "15763", {"ct13_child_marriages": 10})
    put(workspace, 2026, "15763", {"ct13_child_marriages": 10})
    merge(workspace, 2025)
    r = ind(merge(workspace, 2026), "ct13")
    assert r.value == 0 and labels(r)["2025"] == "Chưa đạt"  # no fall at all


def test_ct13_before_2025_reports_the_change_without_a_verdict(workspace):
    # The plan's 1-2% yearly fall is for 2025-2030: a 2024 change of -20% is not judged.
    put(workspace, 2023, "15700", {"ct13_child_marriages": 10})
    put(workspace, 2024, "15700", {"ct13_child_marriages": 8})
    r = ind(merge(workspace, 2024), "ct13")
    assert r.value == pytest.approx(-20.0)
    assert r.verdicts == {"2025": Verdict.NOT_YET, "2030": Verdict.NOT_YET}
    assert r.verdict == "chua_ap_dung" and labels(r)["2025"] == "Chưa áp dụng"


def test_share_of_communes_counts_over_every_unit_of_the_roster(workspace):
    # 4 of the 34 communes answered: CT1 3 yes, CT21 1 yes. Over the roster: 3/34 = 8,8235%,
    # and the 30 missing could bring it to 33/34 = 97,0588%: against 95% that is undecided.
    for code, answer in (("15700", 1), ("15703", 1), ("15706", 0), ("15709", 1)):
        put(workspace, 2024, code, {"ct01_child_friendly": answer, "ct21_play_spot": 1 - answer})
    result = merge(workspace, 2024)
    ct01, ct21 = ind(result, "ct01"), ind(result, "ct21")
    assert (ct01.numerator, ct01.denominator) == (3, 34)
    assert ct01.value == pytest.approx(300 / 34)
    assert (ct01.bounds.low, ct01.bounds.high, ct01.bounds.missing) == (pytest.approx(300 / 34),
                                                                        pytest.approx(3300 / 34), 30)
    assert ct01.verdicts["2025"] == Verdict.UNDECIDED
    assert labels(ct01)["2025"] == "Chưa đủ số liệu để đánh giá"
    # CT21: 1 + 30 = 31/34 = 91,18% at most: below 95% (2030) whatever the missing say.
    assert ct21.verdicts == {"2025": Verdict.UNDECIDED, "2030": Verdict.NOT_MET}


def test_share_of_communes_decided_when_the_missing_cannot_change_it(workspace):
    # 32 of 34 answered; 28 yes. Target 80% (2025): at least 28/34 = 82,35% -> met whatever
    # the two missing say. Target 95% (2030): at most 30/34 = 88,24% -> not met either way.
    codes = [u.code for u in workspace.roster.for_year(2024) if u.is_commune]
    for i, code in enumerate(codes[:32]):
        put(workspace, 2024, code, {"ct21_play_spot": 1 if i < 28 else 0})
    r = ind(merge(workspace, 2024), "ct21")
    assert (r.numerator, r.denominator, r.units_reported) == (28, 34, 32)
    assert r.verdicts == {"2025": Verdict.MET, "2030": Verdict.NOT_MET}
    assert r.bounds.high == pytest.approx(3000 / 34)
    # 27 yes: 27/34 = 79,41% to 29/34 = 85,29% straddles 80% -> undecided.
    put(workspace, 2024, codes[0], {"ct21_play_spot": 0})
    r = ind(merge(workspace, 2024), "ct21")
    assert r.verdicts["2025"] == Verdict.UNDECIDED


def test_a_share_of_communes_is_on_or_off_its_path_only_when_the_missing_cannot_change_it(workspace):
    # 2021: 17 of 34 communes yes (50%); the straight path to 80% in 2025 asks 72,5% in 2024.
    codes = [u.code for u in workspace.roster.for_year(2024) if u.is_commune]
    for i, code in enumerate(codes):
        put(workspace, 2021, code, {"ct21_play_spot": 1 if i < 17 else 0})
    merge(workspace, 2021)
    # 2024: 30 answered, 24 yes: between 24/34 = 70,59% and 28/34 = 82,35%, either side of 72,5%.
    for i, code in enumerate(codes[:30]):
        put(workspace, 2024, code, {"ct21_play_spot": 1 if i < 24 else 0})
    r = ind(merge(workspace, 2024), "ct21")
    assert r.track["2025"]["expected"] == pytest.approx(72.5)
    assert r.track["2025"]["on_track"] is None and r.track["2025"]["label"] == "Chưa đủ số liệu đánh giá lộ trình"
    # 26 yes: at least 26/34 = 76,47%, on the path whatever the four missing say.
    for code in codes[24:26]:
        put(workspace, 2024, code, {"ct21_play_spot": 1})
    assert ind(merge(workspace, 2024), "ct21").track["2025"]["on_track"] is True


def test_partial_coverage(workspace):
    for code in ("15700", "15703", "15706"):
        put(workspace, 2024, code, {"ct14_registered": 995, "children_u5": 1000})
    result = merge(workspace, 2024)
    r = ind(result, "ct14")
    assert (r.units_reported, r.units_expected, r.partial) == (3, 34, True)
    assert len(r.missing_units) == 31 and "15664" in r.missing_units
    assert result.coverage["communes_reported"] == 3


def test_office_figure_kept_beside_commune_sum_with_a_warning(workspace):
    put(workspace, 2024, "15700", {"ct05_u1_vaccinated": 95, "children_u1": 100})
    put(workspace, 2024, "P-YT", {"ct05_u1_vaccinated": 160, "children_u1": 200})  # 80%: far from 95%
    r = ind(merge(workspace, 2024), "ct05a")
    # 1 of 34 communes: the office's district-wide figure is the district value (authority auto).
    assert (r.value, r.source, r.source_reason) == (80.0, "office", "incomplete")
    assert r.communes_value == 95.0 and r.provisional is False
    assert r.office.unit == "P-YT" and r.office.value == 80.0 and r.office.differs is True
    # The command's warning names the indicator as the plan does, not by its code.
    from click.testing import CliRunner

    from pipeline.cli import cli

    res = CliRunner().invoke(cli, ["merge", "--year", "2024", "-w", str(workspace.root)])
    assert res.exit_code == 0, res.output
    (warning,) = [line for line in res.output.splitlines() if line.startswith("  ! ")]
    assert warning.startswith("  ! Chỉ tiêu 5a: Phòng Y tế báo 80 %, tổng các xã 95 %")
    # The report says both figures and tells the officer, not the province, to reconcile them.
    from pipeline.reporting.report import report

    warnings = report(workspace, 2024).warnings
    assert any("khác tổng hợp từ các xã, thị trấn ở Chỉ tiêu 5a" in w for w in warnings)
    assert "ct05a" not in res.output


def test_office_figure_used_when_no_commune_reported(workspace):
    put(workspace, 2024, "P-GDDT", {"ct19_psych_support": 19, "ct19_schools": 20})
    r = ind(merge(workspace, 2024), "ct19")
    assert (r.value, r.source) == (95.0, "office")
    assert labels(r)["2025"] == "Đạt" and labels(r)["2030"] == "Không có chỉ tiêu"


def test_straight_path_from_the_baseline(workspace):
    # 2021 baseline 85%, target 95% in 2025: the path expects 90% in 2023.
    assert expected_on_path(85, 95, 2021, 2025, 2023) == 90
    put(workspace, 2021, "15700", {"ct02_served": 85, "children_0_8": 100})
    merge(workspace, 2021)
    put(workspace, 2023, "15700", {"ct02_served": 89, "children_0_8": 100})
    r = ind(merge(workspace, 2023), "ct02")
    assert labels(r)["2025"] == "Chưa đạt"
    assert r.track["2025"] == {"expected": 88.5, "on_track": True, "label": "Đúng lộ trình"}  # 85+(92-85)/2
    assert r.track["2030"]["on_track"] is True  # 85 + (97-85)*2/9 = 87.67 <= 89


def test_across_the_2025_roster_change(workspace):
    # 2024: Xuân Lộc, Thọ Dân, Thọ Thế, Thọ Tân, Thọ Phú, Xuân Thịnh (via Xuân Lộc), Thọ Vực (via
    # Thọ Phú) all become Xã Thọ Phú (15763) on 1 July 2025.
    olds = {"15739": 2, "15742": 1, "15763": 3, "15748": 0, "15757": 2, "15736": 1, "15760": 1}
    for code, n in olds.items():
        put(workspace, 2024, code, {"ct13_child_marriages": n, "children_total": 1000})
    merge(workspace, 2024)
    put(workspace, 2025, "15763", {"ct13_child_marriages": 9, "children_total": 7100})
    result = merge(workspace, 2025)
    r = ind(result, "ct13")
    # 2024 sum over the predecessors: 10; 2025: 9 -> -10%.
    assert (r.numerator, r.denominator) == (9, 10)
    assert r.value == pytest.approx(-10.0)
    assert result.units["15763"]["ct13"] == pytest.approx(-10.0)
    assert r.units_expected == 8


def test_outputs_and_json_shape(workspace):
    put(workspace, 2024, "15700", {"ct05_u1_vaccinated": 90, "children_u1": 100, "narr_direction": "x"})
    put(workspace, 2024, "P-LDTBXH", {"narr_direction": "=HYPERLINK(\"http://x\",\"y\")",
                                      "budget_ns_dia_phuong_planned": 100, "budget_ns_dia_phuong_spent": 80})
    result = merge(workspace, 2024)
    out = json_summary(result)
    assert set(out) >= {"year", "indicators", "units"} and out["year"] == 2024
    first = out["indicators"][0]
    assert set(first) >= {"code", "chi_tieu", "value", "numerator", "denominator", "units_reported", "verdict",
                          "verdicts", "labels"}
    assert set(first["labels"]) == set(first["verdicts"]) == {"2025", "2030"}
    json.dumps(out)  # plain data
    assert out["units"]["15700"]["ct05a"] == 90.0
    wb = openpyxl.load_workbook(result.outputs["workbook"])
    assert wb.sheetnames[:5] == ["Tổng hợp", "Mục tiêu 1", "Mục tiêu 2", "Mục tiêu 3", "Mục tiêu 4"]
    assert {"Xu hướng", "Xếp hạng", "Kinh phí", "Độ bao phủ"} <= set(wb.sheetnames)
    summary = wb["Tổng hợp"]
    rows = [r for r in summary.iter_rows(min_row=5, values_only=True) if r[0]]
    assert len(rows) == 32
    assert wb["Xu hướng"]._charts and wb["Xếp hạng"] is not None
    budget = wb["Kinh phí"]
    assert any(c.value == "Tổng cộng" for row in budget.iter_rows() for c in row)
    # Whole numbers show as 100, fractions as 98,18: never "100," (what "#,##0.##" shows).
    shown = {(c.value, c.number_format) for s in wb.worksheets for row in s.iter_rows() for c in row
             if isinstance(c.value, (int, float)) and c.number_format != "General"}
    assert (100, "#,##0") in shown and (90, "#,##0") in shown
    # A unit's value that meets (misses) its target carries ✓ (✗) after it, for grey prints; a
    # district figure of the trend its source: (t) provisional, (p) the lead office's.
    marks = {"", ' "✓"', ' "✗"', ' "(t)"', ' "(p)"'}
    assert {f for _, f in shown} <= {base + m for base in ("#,##0", "#,##0.0#") for m in marks}
    assert any(f.endswith('"✗"') for _, f in shown)
    assert all((v == int(v)) == (not f.startswith("#,##0.0#")) for v, f in shown)
    with open(result.outputs["csv"], encoding="utf-8-sig") as fh:
        data = list(csv.DictReader(fh))
    district = [d for d in data if d["orgunit"] == "397" and d["dataelement"] == "ct05a"]
    assert district == [{"dataelement": "ct05a", "period": "2024", "orgunit": "397", "value": "90.0",
                         "numerator": "90.0", "denominator": "100.0", "comment": "chưa đủ đơn vị (1/34)",
                         "source": "communes"}]
    unit = [d for d in data if d["orgunit"] == "15700" and d["dataelement"] == "ct05a"]
    assert unit[0]["numerator"] == "90.0" and unit[0]["denominator"] == "100.0"


def test_every_year_stays_in_the_store(workspace):
    for y in (2021, 2022, 2023):
        put(workspace, y, "15700", {"ct02_served": 80 + y - 2021, "children_0_8": 100})
        merge(workspace, y)
    with Store(workspace.db_path) as store:
        assert store.merged_years() == [2021, 2022, 2023]
    r = ind(merge(workspace, 2023), "ct02")
    assert r.history == {"2021": 80.0, "2022": 81.0, "2023": 82.0}


def test_aggregate_is_pure():
    from pipeline.config.catalogue import Catalogue

    ct05a = Catalogue.load().indicator("ct05a")
    a = aggregate(ct05a, {"a": {"ct05_u1_vaccinated": 1, "children_u1": 4}, "b": {"children_u1": 4}}, ["a", "b"])
    assert (a.value, a.units) == (25.0, ["a"])


def test_a_rate_that_rises_on_the_matched_communes_while_the_all_units_figure_falls(workspace):
    # CT9 (abused children per 100 children). 2023: A 10/1000, B 10/1000, C 1/1000 -> 21/3000 = 0,7%.
    # 2024: C sends nothing; A 11/1000, B 10/1000 -> 21/2000 = 1,05%.
    # All units: 0,7 -> 1,05 (+0,35). The same two communes: 20/2000 = 1% -> 1,05% (+0,05).
    # Now the reverse, CT8b (cared for, higher is better), where the all-units figure falls:
    # 2023: A 90/100, B 90/100, C 100/100 -> 280/300 = 93,33%; 2024: A 91/100, B 92/100 -> 91,5%.
    # On A and B: 90% -> 91,5%, a rise of 1,5 points, while 93,33 -> 91,5 looks like a fall.
    last = {"15700": (90, 100), "15703": (90, 100), "15706": (100, 100)}
    for code, (n, d) in last.items():
        put(workspace, 2023, code, {"ct08_special_cared": n, "ct08_special": d})
    merge(workspace, 2023)
    put(workspace, 2024, "15700", {"ct08_special_cared": 91, "ct08_special": 100})
    put(workspace, 2024, "15703", {"ct08_special_cared": 92, "ct08_special": 100})
    r = ind(merge(workspace, 2024), "ct08b")
    assert r.value == pytest.approx(91.5) and r.previous.value == pytest.approx(280 / 3)
    c = r.comparison
    assert (c.units, c.units_expected) == (2, 34)
    assert (c.previous, c.value, c.change) == (pytest.approx(90.0), pytest.approx(91.5), pytest.approx(1.5))
    assert c.previous_reported == pytest.approx(280 / 3) and c.previous_units_reported == 3
    assert r.change == pytest.approx(1.5)  # not 91,5 - 93,33 = -1,83


def test_a_value_one_digit_from_its_target_misses_it_everywhere(workspace):
    # CT14: 19.793 of 19.893 children under 5 registered = 99,49731...%: the target is 99,5%.
    put(workspace, 2024, "15700", {"ct14_registered": 19793, "children_u5": 19893})
    result = merge(workspace, 2024)
    r = ind(result, "ct14")
    assert r.value == pytest.approx(19793 / 19893 * 100, abs=1e-12)  # exact, not stored at 4 decimals
    assert r.verdicts["2025"] == Verdict.NOT_MET
    summary = openpyxl.load_workbook(result.outputs["workbook"])["Tổng hợp"]
    cell = next(row[8] for row in summary.iter_rows(min_row=5) if row[1].value == "CT14")
    assert cell.number_format == "#,##0.000"  # 99,497 in Excel, never 99,5 beside a red "Chưa đạt"


def test_a_merged_commune_with_a_missing_predecessor_is_not_carried(workspace):
    # Xã Hợp Tiến (15682, from 1 July 2025) = Hợp Lý, Hợp Thắng, Hợp Thành, Triệu Thành, Hợp Tiến.
    # In 2024 four of the five reported: their sum is not the new commune's 2024 figure.
    for code in ("15676", "15688", "15682", "15685"):  # Hợp Lý, Hợp Thắng, Hợp Thành, Triệu Thành
        put(workspace, 2024, code, {"ct14_registered": 990, "children_u5": 1000, "ct13_child_marriages": 2})
    # Xã Tân Ninh (15715) = TT Nưa, Thái Hòa, Vân Sơn: all three reported.
    for code in ("15718", "15715", "15712"):
        put(workspace, 2024, code, {"ct14_registered": 980, "children_u5": 1000, "ct13_child_marriages": 1})
    merge(workspace, 2024)
    put(workspace, 2025, "15682", {"ct14_registered": 4990, "children_u5": 5000, "ct13_child_marriages": 5})
    put(workspace, 2025, "15715", {"ct14_registered": 2997, "children_u5": 3000, "ct13_child_marriages": 2})
    result = merge(workspace, 2025)
    assert result.carry_gaps == {"15682": ["15679"]}  # Hợp Tiến (old) sent nothing in 2024
    r = ind(result, "ct14")
    c = r.comparison
    # Only Tân Ninh is compared: 2940/3000 = 98% -> 2997/3000 = 99,9%.
    assert c.units == 1 and c.left_out == ["15682"]
    assert (c.previous, c.value) == (pytest.approx(98.0), pytest.approx(99.9))
    # CT13 likewise: only Tân Ninh's 3 -> 2 (-33,33%), not (5+2) against 8+3.
    r13 = ind(result, "ct13")
    assert (r13.numerator, r13.denominator, r13.units_reported) == (2, 3, 1)
    assert "ct13" not in result.units["15682"]
    from pipeline.reporting.context import build_context

    gaps = build_context(workspace, result)["quality"]["gaps"]
    assert ("Xã Hợp Tiến: không so sánh với năm trước vì đơn vị cũ chưa báo cáo năm 2024: Xã Hợp Tiến." in gaps)


def test_a_share_of_units_across_the_2025_reorganisation_is_a_series_break(workspace):
    codes = [u.code for u in workspace.roster.for_year(2024) if u.is_commune]
    for code in codes:  # all 34 reported, 30 with a play spot: 88,24%
        put(workspace, 2024, code, {"ct21_play_spot": 1 if code not in codes[:4] else 0})
    merge(workspace, 2024)
    for code in [u.code for u in workspace.roster.for_year(2025) if u.is_commune]:
        put(workspace, 2025, code, {"ct21_play_spot": 1 if code != "15724" else 0})  # 7 of 8
    r = ind(merge(workspace, 2025), "ct21")
    assert (r.numerator, r.denominator) == (7, 8)
    assert r.series_breaks == [2025]
    c = r.comparison
    assert c.series_break is True and c.change is None and r.change is None
    assert c.previous_reported == pytest.approx(3000 / 34)  # quoted, not compared
    # the workbook's trend table keeps the two series apart
    result = merge(workspace, 2025)
    trend = openpyxl.load_workbook(result.outputs["workbook"])["Xu hướng"]
    labels = [row[1].value for row in trend.iter_rows(min_row=4) if row[0].value and row[0].value.startswith("CT21")]
    assert labels[:2] == ["Thực hiện 2021-2024", "Thực hiện 2025-2030"]
    # a rate is not a series break: CT14 compares the new communes with their predecessors
    assert ind(merge(workspace, 2025), "ct14").series_breaks == []


def test_the_stored_result_reads_back_as_the_same_typed_result(workspace):
    from pipeline.merge.result import Bounds, Comparison, IndicatorResult, MergeResult, OfficeFigure
    from pipeline.merge.merger import load

    put(workspace, 2023, "15700", {"ct05_u1_vaccinated": 90, "children_u1": 100, "ct21_play_spot": 1})
    merge(workspace, 2023)
    put(workspace, 2024, "15700", {"ct05_u1_vaccinated": 95, "children_u1": 100, "ct21_play_spot": 1})
    put(workspace, 2024, "P-YT", {"ct05_u1_vaccinated": 190, "children_u1": 200})
    merged = merge(workspace, 2024)
    stored = load(workspace, 2024)
    assert isinstance(stored, MergeResult) and all(isinstance(r, IndicatorResult) for r in stored.indicators)
    assert stored.merged_at and not stored.outputs
    stored.merged_at, stored.outputs = merged.merged_at, merged.outputs
    assert stored == merged  # every field, nested dataclasses and Verdict members included
    r = stored.indicator("ct05a")
    assert isinstance(r.comparison, Comparison) and r.comparison.change == pytest.approx(5.0)  # 90% -> 95%
    assert isinstance(r.office, OfficeFigure) and r.verdict is Verdict.MET
    assert isinstance(stored.indicator("ct21").bounds, Bounds)
    assert all(isinstance(v, Verdict) for v in stored.unit_verdicts["15700"]["ct05a"].values())


def test_a_units_value_one_digit_from_its_target_gets_the_digit_in_the_workbook(workspace):
    # Xã Dân Lực: 9.949 of 10.000 children under 5 registered = 99,49% against 99,5% (2025):
    # two decimals suffice. Xã Dân Lý: 19.899 of 20.000 = 99,495%: "99,50" would read as met.
    put(workspace, 2024, "15700", {"ct14_registered": 9949, "children_u5": 10000})
    put(workspace, 2024, "15703", {"ct14_registered": 19899, "children_u5": 20000})
    result = merge(workspace, 2024)
    sheet = openpyxl.load_workbook(result.outputs["workbook"])["Mục tiêu 2"]
    head = [c.value for c in sheet[4]]
    col = next(i for i, h in enumerate(head) if h and h.startswith("CT14"))
    cells = {row[0].value: row[col] for row in sheet.iter_rows(min_row=5) if row[0].value in ("15700", "15703")}
    # Both miss: the mark says so beside the colour (a grey print).
    assert cells["15700"].number_format == '#,##0.0# "✗"'
    assert cells["15703"].number_format == '#,##0.000 "✗"' and cells["15703"].value == pytest.approx(99.495)


def test_tied_units_are_not_picked_at_random():
    from pipeline.config.catalogue import Catalogue
    from pipeline.merge.merger import _ranked

    ct07 = Catalogue.load().indicator("ct07")  # at least: highest is best
    best, worst = _ranked(ct07, {"a": 66.67, "b": 100, "c": 100, "d": 100, "e": 100, "f": 100}, {})
    assert best == [] and [w["unit"] for w in worst] == ["a"]


def test_ct13_sample_against_rising_totals_is_undecided(workspace):
    # Same roster both years (2025 -> 2026). 2025: Xã Triệu Sơn 10, Xã Thọ Bình 10 (2 of 8).
    # 2026: Triệu Sơn 9, Thọ Bình 9, Thọ Ngọc 20 (3 of 8). On the two with both years: 18 against
    # 20, -10%, met on the sample; the totals quoted, 38 against 20, rose: undecided, not «Đạt».
    for code in ("15664", "15667"):
        put(workspace, 2025, code, {"ct13_child_marriages": 10})
    merge(workspace, 2025)
    for code, n in (("15664", 9), ("15667", 9), ("15754", 20)):
        put(workspace, 2026, code, {"ct13_child_marriages": n})
    r = ind(merge(workspace, 2026), "ct13")
    assert (r.numerator, r.denominator, r.partial) == (18, 20, True)
    assert r.verdicts == {"2025": Verdict.UNDECIDED, "2030": Verdict.UNDECIDED}
    assert not r.whole_area and r.totals["current"]["value"] == 38


def test_ct13_over_the_whole_area_takes_the_lead_offices_count(workspace):
    # 2023: all 34 communes, 3 each (102). 2024: 30 communes (4 each, 120) and Phòng Văn hoá -
    # Thông tin's district-wide count, 110. Both years cover the whole area: 110 against 102 =
    # +7,84%, the office's, not a sample of 30 communes (120 against 90).
    for code in OLD_COMMUNES:
        put(workspace, 2023, code, {"ct13_child_marriages": 3})
    merge(workspace, 2023)
    for code in OLD_COMMUNES[:30]:
        put(workspace, 2024, code, {"ct13_child_marriages": 4})
    put(workspace, 2024, "P-VHTT", {"ct13_child_marriages": 110})
    r = ind(merge(workspace, 2024), "ct13")
    assert (r.numerator, r.denominator, r.source, r.whole_area, r.provisional) == (110, 102, "office", True, False)
    assert r.value == pytest.approx((110 - 102) / 102 * 100)
    assert (r.units_reported, r.partial) == (30, True)
    assert r.years["2024"].count == 110 and r.years["2023"].count == 102


def test_ct4c_by_area_on_some_communes_is_provisional_whoever_gave_the_overall_figure(workspace):
    # Phòng Y tế gives the district-wide figure; the areas' figures are the 2 communes' that reported.
    put(workspace, 2024, "15664", {"ct04_obese": 8, "ct04_measured": 100})  # Thị trấn Triệu Sơn
    put(workspace, 2024, "15700", {"ct04_obese": 4, "ct04_measured": 100})  # Xã Dân Lực
    put(workspace, 2024, "P-YT", {"ct04_obese": 150, "ct04_measured": 4000})
    r = ind(merge(workspace, 2024), "ct04c")
    assert (r.source, r.provisional, r.verdict) == ("office", True, Verdict.MET)
    assert r.by_type["xa"]["units_expected"] == 32 and r.by_type["thi_tran"]["units_reported"] == 1


def test_the_path_is_not_judged_across_a_series_break(workspace):
    for y in (2021, 2022, 2023, 2024):
        for code in OLD_COMMUNES:
            put(workspace, y, code, {"ct21_play_spot": 1})
        merge(workspace, y)
    for code in ("15664", "15667"):
        put(workspace, 2025, code, {"ct21_play_spot": 1})
    r = ind(merge(workspace, 2025), "ct21")
    assert r.track == {"2025": None, "2030": None} and r.years["2025"].new_series


def test_a_year_merged_before_the_figures_were_stored_is_read_from_its_stored_result(workspace):
    """Stored results of earlier versions hold no year figures: last year's is made from the
    stored result itself, with its source."""
    put(workspace, 2023, "15700", {"ct02_served": 90, "children_0_8": 100})
    put(workspace, 2023, "P-LDTBXH", {"ct02_served": 950, "children_0_8": 1000})
    result = merge(workspace, 2023)
    old = result.to_dict()
    for r in old["indicators"]:
        r.pop("years")
        r["history"] = {"2023": r["value"]}
    rows = [{"scope": "district", "indicator": r["code"], "value": r["value"]} for r in old["indicators"]]
    with Store(workspace.db_path) as store:
        store.save_merge(2023, rows, [], old)
    put(workspace, 2024, "15700", {"ct02_served": 91, "children_0_8": 100})
    r = ind(merge(workspace, 2024), "ct02")
    assert (r.previous.value, r.previous.source, r.previous.source_name) == (
        95.0, "office", "Phòng Lao động - Thương binh và Xã hội")

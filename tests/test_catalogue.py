"""The default catalogue says what the plan says: 24 indicators (32 sub-indicators), their
2025/2030 targets, who leads each, and which counts each kind of unit reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline.config.catalogue import Catalogue, Expr, default_catalogue_path
from pipeline.cli import cli
from pipeline.base.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.load()


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(default_catalogue_path().read_text(encoding="utf-8"))


def test_24_indicators_as_32_sub_indicators(cat):
    assert len(cat.indicators) == 32
    assert cat.chi_tieu_numbers == list(range(1, 25))
    assert sorted(cat.goals) == [1, 2, 3, 4]
    # Sub-indicators of the plan's II.2: CT3, CT4 have three parts; CT5, CT8, CT11, CT20 two.
    per = {n: sum(i.chi_tieu == n for i in cat.indicators) for n in cat.chi_tieu_numbers}
    assert {n: k for n, k in per.items() if k > 1} == {3: 3, 4: 3, 5: 2, 8: 2, 11: 2, 20: 2}


@pytest.mark.parametrize("code, t2025, t2030", [
    ("ct01", 95, 100), ("ct02", 92, 97),
    ("ct03a", 2.5, 2), ("ct03b", 12.5, 10), ("ct03c", 18.5, 15),   # per 1,000 live births
    ("ct04a", 9, 6), ("ct04b", 17, 15),
    ("ct05a", 95, 96), ("ct05b", None, 97),                         # under-5 part: 2030 only
    ("ct06", None, 1),                                              # 2030 only
    ("ct08a", 4, 3.5), ("ct08b", 95, 97), ("ct09", 4, 3), ("ct10", 4.5, 3.5),
    ("ct11a", 20, 15), ("ct11b", 16, 15), ("ct14", 99.5, 100), ("ct15", 98.1, 99.3),
    ("ct16", 98.5, 99.5), ("ct17", 98.7, 99.9), ("ct18", 95.8, 98.5),
    ("ct19", 95, None),                                             # 2025 only
    ("ct20a", 65, 75), ("ct20b", 80, 90), ("ct21", 80, 95), ("ct22", 40, 45), ("ct23", 85, 90), ("ct24", 40, 45),
])
def test_targets_are_the_plans(cat, code, t2025, t2030):
    ind = cat.indicator(code)
    assert ind.targets == {"2025": t2025, "2030": t2030}
    assert ind.has_target(2025) is (t2025 is not None)
    assert ind.has_target(2030) is (t2030 is not None)


def test_ct4_obesity_target_depends_on_the_unit_type(cat):
    ind = cat.indicator("ct04c")
    for year in (2025, 2030):
        assert ind.target_for(year, "xa") == 5
        assert ind.target_for(year, "thi_tran") == 10
        assert ind.target_for(year) is None  # no single district-wide number
    assert ind.direction == "at_most" and ind.strict  # "dưới 5%": 5.0 does not meet it
    assert ind.meets(4.9, 5) and not ind.meets(5.0, 5)


def test_kinds_factors_and_directions(cat):
    assert {i.kind for i in cat.indicators if i.chi_tieu == 3} == {"per_1000_live_births"}
    assert {i.factor for i in cat.indicators if i.chi_tieu == 3} == {1000}
    assert {i.factor for i in cat.indicators if i.chi_tieu == 11} == {100000}
    assert {i.code for i in cat.indicators if i.kind == "share_of_communes"} == {"ct01", "ct21"}
    assert cat.indicator("ct13").kind == "yoy_change" and cat.indicator("ct13").denominator is None
    reduce = {i.code for i in cat.indicators if i.direction == "at_most"}
    assert reduce == {"ct03a", "ct03b", "ct03c", "ct04a", "ct04b", "ct04c", "ct06", "ct08a", "ct09", "ct10",
                      "ct11a", "ct11b", "ct13"}
    # "xuống 12,5" is at most 12.5; "dưới 18,5" is strictly below.
    assert cat.indicator("ct03b").meets(12.5, 12.5) and not cat.indicator("ct03c").meets(18.5, 18.5)


def test_lead_offices_follow_section_v(cat):
    led = {}
    for i in cat.indicators:
        led.setdefault(i.lead_office, set()).add(i.chi_tieu)
    assert led == {
        "P-LDTBXH": {1, 2, 8, 9, 10, 11, 12, 22, 23, 24}, "P-YT": {3, 4, 5, 6},
        "P-GDDT": {7, 15, 16, 17, 18, 19, 20}, "P-TP": {14}, "P-VHTT": {13, 21},
    }
    assert [i.code for i in cat.led_by("CA-H")] == ["ct09"]  # co-lead
    assert cat.led_by("P-TCKH") == [] and cat.led_by("MTTQ") == []


BUDGET = ["budget_ns_dia_phuong_planned", "budget_ns_dia_phuong_spent", "budget_ct_muc_tieu_planned",
          "budget_ct_muc_tieu_spent", "budget_vien_tro_planned", "budget_vien_tro_spent",
          "budget_cong_dong_planned", "budget_cong_dong_spent"]
NARRATIVES = ["narr_direction", "narr_communication", "narr_results", "narr_limitations", "narr_next_year",
              "narr_recommendations"]


def test_health_office_reports_its_indicators_counts_only(cat):
    # Indicators 3, 4, 5, 6: numerators and denominators, in catalogue order; narratives
    # and budget as every office.
    codes = [f.code for f in cat.fields_for("phong", "P-YT")]
    assert codes == [
        "children_u1", "children_u5", "live_births",
        "ct03_deaths_neonatal", "ct03_deaths_u1", "ct03_deaths_u5",
        "ct04_measured", "ct04_underweight", "ct04_stunted", "ct04_obese",
        "ct05_u1_vaccinated", "ct05_u5_vaccinated", "ct06_hiv_exposed", "ct06_hiv_infected",
    ] + BUDGET + NARRATIVES


def test_yes_no_fields_are_for_communes_only(cat):
    # LĐTBXH leads CT1 (a commune's yes/no): the office gets no yes/no cell.
    office = {f.code for f in cat.fields_for("phong", "P-LDTBXH")}
    assert "ct01_child_friendly" not in office and "ct02_served" in office and "children_0_8" in office
    vhtt = [f.code for f in cat.fields_for("phong", "P-VHTT")]
    assert vhtt == ["ct13_child_marriages"] + BUDGET + NARRATIVES  # CT21 is yes/no


def test_communes_report_every_count_and_no_narrative(cat):
    for unit_type in ("xa", "thi_tran"):
        codes = [f.code for f in cat.fields_for(unit_type)]
        assert len(codes) == 49 + 8
        assert "ct01_child_friendly" in codes and "ct21_play_spot" in codes
        assert not any(c.startswith("narr_") for c in codes)


def test_organisations_report_budget_and_narratives_only(cat):
    assert [f.code for f in cat.fields_for("to_chuc", "HLHPN")] == BUDGET + NARRATIVES
    assert [f.code for f in cat.fields_for("phong", "P-TCKH")] == BUDGET + NARRATIVES


@pytest.mark.parametrize("code, label", [
    ("ct04_measured", "Số trẻ em dưới 5 tuổi được cân, đo"),
    ("ct04_measured", "Số trẻ em dưới 5 tuổi được cân, đo"),
    ("ct12_disaster_affected", "Số trẻ em gặp thiên tai, thảm họa"),
    ("ct12_disaster_assisted", "Số trẻ em gặp thiên tai, thảm họa được cứu trợ, hỗ trợ kịp thời"),
    ("ct21_play_spot", "Xã, thị trấn có điểm văn hóa, vui chơi dành cho trẻ em"),
])
def test_labels_with_commas_are_whole(cat, code, label):
    # The units read these labels in their workbook: a label cut at its first comma
    # ("Xã") tells them nothing.
    assert cat.field(code).label == label


def test_labels_are_distinct(cat):
    labels = [f.label for f in cat.fields]
    assert len(set(labels)) == len(labels)


def test_unquoted_comma_is_reported_not_swallowed(raw):
    raw["fields"][0] = yaml.safe_load("{code: children_total, label: Tổng số trẻ em, dưới 16 tuổi, type: integer}")
    with pytest.raises(ConfigError) as e:
        Catalogue.from_dict(raw)
    assert "«dưới 16 tuổi»" in str(e.value) and "dấu nháy kép" in str(e.value)


def test_hash_follows_the_content(raw):
    a = Catalogue.from_dict(copy.deepcopy(raw))
    assert Catalogue.from_dict(copy.deepcopy(raw)).hash == a.hash
    raw["indicators"][0]["targets"]["2025"] = 90
    assert Catalogue.from_dict(raw).hash != a.hash


def test_undeclared_field_in_a_rule_is_a_config_error(raw):
    raw["rules"].append({"code": "x", "left": "children_u1", "op": "<=", "right": "children_tota",
                         "severity": "error", "message": "m"})
    with pytest.raises(ConfigError, match="children_tota"):
        Catalogue.from_dict(raw)


def test_rule_expressions():
    e = Expr.parse("children_u5 + children_7plus")
    assert e.names == ("children_u5", "children_7plus")
    assert e.evaluate({"children_u5": 1500, "children_7plus": 3000}) == 4500
    assert e.evaluate({"children_u5": 1500}) is None  # a missing side skips the rule
    for bad in ("__import__('os')", "a_b ** 2", "children_u5 / 2"):
        with pytest.raises(ConfigError):
            Expr.parse(bad)


def test_catalogue_json(tmp_path):
    res = CliRunner().invoke(cli, ["catalogue", "--json", "-w", str(tmp_path)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"fields", "indicators", "rules"} <= set(data)
    inds = data["indicators"]
    assert len(inds) == 32
    assert sorted({i["chi_tieu"] for i in inds}) == list(range(1, 25))
    for i in inds:
        assert {"code", "chi_tieu", "name", "kind", "direction", "lead_office", "targets"} <= set(i)
        assert i["direction"] in ("at_least", "at_most")
        assert set(i["targets"]) == {"2025", "2030"}
        for t in i["targets"].values():
            assert t is None or isinstance(t, (int, float, dict))
    by_code = {i["code"]: i for i in inds}
    assert by_code["ct04c"]["targets"]["2025"] == {"xa": 5, "thi_tran": 10}
    assert by_code["ct19"]["targets"] == {"2025": 95, "2030": None}
    assert by_code["ct03a"]["targets"] == {"2025": 2.5, "2030": 2}
    assert len(data["fields"]) == 49 + 8 + 6
    assert len(data["rules"]) == 39 + 4  # the plan's cross-checks and one per budget source


def test_ct4b_is_at_most_17_in_2025_and_strictly_below_15_in_2030(cat):
    ct04b = cat.indicator("ct04b")
    # "xuống 17% vào năm 2025 và dưới 15% vào năm 2030"
    assert ct04b.meets(17.0, 17, 2025) and not ct04b.meets(17.01, 17, 2025)
    assert not ct04b.meets(15.0, 15, 2030) and ct04b.meets(14.99, 15, 2030)
    assert (ct04b.is_strict(2025), ct04b.is_strict(2030)) == (False, True)


def test_ct4c_is_obesity_as_in_the_plan(cat):
    assert cat.indicator("ct04c").name == "Tỷ lệ trẻ em dưới 5 tuổi béo phì"
    assert cat.field("ct04_obese").label == "Số trẻ dưới 5 tuổi béo phì"
    assert "thừa cân" not in cat.indicator("ct04c").name


def test_ct13_is_judged_only_in_the_plans_years(cat):
    ct13 = cat.indicator("ct13")
    assert [y for y in range(2021, 2032) if ct13.judged_in(y)] == list(range(2025, 2031))
    assert all(cat.indicator("ct02").judged_in(y) for y in range(2021, 2031))


def test_every_target_quotes_the_plan(cat):
    import re

    plan = (REPO_ROOT / "pipeline" / "config" / "defaults" / "catalogue.yaml").read_text(encoding="utf-8")
    assert plan.count(", plan: ") == 32
    for ind in cat.indicators:
        assert ind.plan, ind.code
        for t in ind.targets.values():
            for v in (t.values() if isinstance(t, dict) else [t]):
                if v is None or ind.kind == "yoy_change":
                    continue
                # the number as the plan prints it ("2,5", "99,5", "20/100.000")
                assert re.search(rf"(?<![\d,]){str(v).replace('.', ',').removesuffix(',0')}(?![\d,])", ind.plan), \
                    (ind.code, v, ind.plan)
    assert "1% đến 2% hằng năm giai đoạn từ năm 2025 đến năm 2030" in cat.indicator("ct13").plan


def test_authority_defaults_to_auto_and_is_checked(cat, raw):
    assert {i.authority for i in cat.indicators} == {"auto"}
    raw["indicators"][1]["authority"] = "lead_office"
    assert Catalogue.from_dict(copy.deepcopy(raw)).indicator("ct02").authority == "lead_office"
    raw["indicators"][1]["authority"] = "phong"
    with pytest.raises(ConfigError, match="authority"):
        Catalogue.from_dict(raw)


def test_treem_catalogue_shows_the_plans_words(tmp_path):
    res = CliRunner().invoke(cli, ["catalogue", "-w", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert ("Kế hoạch: «Giảm tỷ lệ trẻ em dưới 5 tuổi bị suy dinh dưỡng thể chiều cao theo tuổi xuống 17% vào năm "
            "2025 và dưới 15% vào năm 2030.»") in res.output
    assert res.output.count("Kế hoạch: «") == 32


def test_codes_that_libreoffice_would_mangle_are_refused():
    # LibreOffice turned the text "budget_xa_hoi_planned" into "budget\nhoi_planned" on a re-save.
    raw = yaml.safe_load(default_catalogue_path().read_text(encoding="utf-8"))
    raw["budget_sources"][0]["code"] = "xa_hoi"
    with pytest.raises(ConfigError, match="LibreOffice"):
        Catalogue.from_dict(raw)

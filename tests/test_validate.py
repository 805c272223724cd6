"""Plausibility checks across units: median-based outliers, with hand-made distributions."""

from __future__ import annotations

from pipeline.catalogue import Catalogue
from pipeline.validate import outliers

CAT = Catalogue.load()


def units_with_rates(rates: list[float], den: int = 1000) -> dict[str, dict]:
    """Units whose CT5a rate (under-1 vaccination) is each given percentage."""
    return {f"u{i}": {"ct05_u1_vaccinated": round(r * den / 100), "children_u1": den} for i, r in enumerate(rates)}


def flagged(by_unit: dict) -> dict[str, list[str]]:
    return {u: [i.field for i in issues] for u, issues in outliers(CAT, by_unit).items()}


def test_a_unit_far_from_the_others_is_flagged_once():
    by_unit = units_with_rates([94, 95, 96, 95, 94, 96, 95, 60])
    assert flagged(by_unit) == {"u7": ["ct05_u1_vaccinated"]}
    (issue,) = outliers(CAT, by_unit)["u7"]
    assert issue.severity == "warning" and issue.code == "outlier"
    assert "60%" in issue.message and "trung vị 95%" in issue.message


def test_a_tight_cluster_flags_nobody():
    # Birth registration near 99.5% everywhere: a 0.3-point gap is not an outlier.
    assert flagged(units_with_rates([99.5, 99.4, 99.6, 99.5, 99.8, 99.2, 99.5, 99.5])) == {}


def test_rare_events_are_not_judged():
    # Child abuse: 0, 1 or 2 cases per commune; a rate of 0 is chance, not a data problem.
    by_unit = {f"u{i}": {"ct09_abused": n, "children_total": 1500} for i, n in enumerate([0, 1, 0, 2, 1, 0, 6, 1])}
    assert flagged(by_unit) == {}


def test_too_few_units_to_compare():
    assert flagged(units_with_rates([95, 96, 40, 95])) == {}

"""Last year's values, carried across roster changes: they pre-fill next year's templates
and feed the year-over-year checks."""

from __future__ import annotations

from pipeline.catalogue import Catalogue
from pipeline.roster import Roster
from pipeline.store import Store


def carry_forward(values: dict[str, dict], catalogue: Catalogue, roster: Roster, from_year: int,
                  to_year: int) -> dict[str, dict[str, float]]:
    """unit -> field -> value of `from_year`, re-keyed to the units in force in `to_year`.
    Units merged into one new unit have their counts summed when every one of them reported
    the field (budgets: when any did); yes/no answers and texts of merged units cannot be
    combined and are dropped."""
    out: dict[str, dict[str, float]] = {}
    for new, olds in predecessors(values, roster, from_year, to_year).items():
        merged: dict[str, float] = {}
        for f in catalogue.fields:
            nums = [values.get(o, {}).get(f.code) for o in olds]
            if not f.is_number and len(olds) > 1:
                continue
            nums = [v for v in nums if isinstance(v, (int, float))]
            if nums and (len(nums) == len(olds) or f.section == "budget"):
                merged[f.code] = float(sum(nums))
        out[new] = merged
    return out


def predecessors(reported, roster: Roster, from_year: int, to_year: int) -> dict[str, list[str]]:
    """New unit -> the units of from_year it carries on, for every new unit that at least one
    unit in `reported` maps to. A predecessor that sent nothing is listed too: a sum without
    it is not the new unit's figure."""
    mapping = roster.mapping(from_year, to_year)
    groups: dict[str, list[str]] = {}
    for old in reported:
        groups.setdefault(mapping.get(old, old), []).append(old)
    for old, new in mapping.items():
        if new in groups and old not in groups[new]:
            groups[new].append(old)
    return groups


def previous_values(store: Store | None, catalogue: Catalogue, roster: Roster, year: int) -> dict[str, dict]:
    if store is None:
        return {}
    return carry_forward(store.accepted_values(year - 1), catalogue, roster, year - 1, year)

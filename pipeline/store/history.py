"""Last year's values, carried across roster changes: they pre-fill next year's templates
and feed the year-over-year checks."""

from __future__ import annotations

from pipeline.config.catalogue import Catalogue
from pipeline.config.roster import Roster
from pipeline.store.db import Store
from pipeline.store.submissions import counted_values


def predecessors(roster: Roster, from_year: int, to_year: int) -> dict[str, list[str]]:
    """New unit -> the units of `from_year` it carries on (itself, for a unit still in force)."""
    groups: dict[str, list[str]] = {}
    for old, new in roster.mapping(from_year, to_year).items():
        groups.setdefault(new, []).append(old)
    return groups


def incomplete_successors(values: dict[str, dict], roster: Roster, from_year: int,
                          to_year: int) -> dict[str, list[str]]:
    """New unit -> its predecessors that sent nothing in `from_year`, for the new units formed
    from several units of which some but not all reported. Their figures are not carried."""
    out = {}
    for new, olds in predecessors(roster, from_year, to_year).items():
        missing = [o for o in olds if o not in values]
        if len(olds) > 1 and missing and len(missing) < len(olds):
            out[new] = missing
    return out


def carried_groups(values: dict[str, dict], roster: Roster, from_year: int,
                   to_year: int) -> dict[str, list[str]]:
    """New unit -> every unit of `from_year` it carries on, for the new units at least one of
    whose predecessors is in `values` (a unit the roster does not know stands for itself)."""
    groups = {new: olds for new, olds in predecessors(roster, from_year, to_year).items()
              if any(o in values for o in olds)}
    mapped = {o for olds in groups.values() for o in olds}
    for old in values:
        if old not in mapped:
            groups.setdefault(old, []).append(old)
    return groups


def carry_forward(values: dict[str, dict], catalogue: Catalogue, roster: Roster, from_year: int,
                  to_year: int) -> dict[str, dict[str, float]]:
    """unit -> field -> value of `from_year`, re-keyed to the units in force in `to_year`.
    Units merged into one new unit have their counts summed, and only when every one of them
    reported (4 of 5 predecessors is not the new unit: see `incomplete_successors`); yes/no
    answers and texts of merged units cannot be combined and are dropped."""
    out: dict[str, dict[str, float]] = {}
    for new, olds in carried_groups(values, roster, from_year, to_year).items():
        if not all(o in values for o in olds):
            continue
        merged: dict[str, float] = {}
        for f in catalogue.fields:
            if not f.is_number and len(olds) > 1:
                continue
            nums = [values[o].get(f.code) for o in olds]
            nums = [v for v in nums if isinstance(v, (int, float))]
            if nums and (len(nums) == len(olds) or f.section == "budget"):
                merged[f.code] = float(sum(nums))
        out[new] = merged
    return out


def previous_values(store: Store | None, catalogue: Catalogue, roster: Roster, year: int) -> dict[str, dict]:
    if store is None:
        return {}
    return carry_forward(counted_values(store, year - 1), catalogue, roster, year - 1, year)

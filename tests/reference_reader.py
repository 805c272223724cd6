"""The openpyxl reader the fast path is held to (tests/test_fast_path.py): the same precheck,
then every cell through openpyxl, some 25 times slower than `pipeline.collect.ingest.read`."""

from __future__ import annotations

import io
from pathlib import Path

from pipeline.forms.contract import PROP_UNIT
from pipeline.collect.ingest import (FormSpec, Reading, _clean_scalar, _collect_hints, _locate_cells, _new_reading,
                             _parse_name_target, _read_meta)
from pipeline.collect.precheck import Limits, precheck


def read_reference(path: Path, spec: FormSpec, limits: Limits = Limits()) -> Reading:
    """The same reading through openpyxl, cell by cell: some 25 times slower than `read`,
    kept as the reference the fast path is tested against. The same precheck runs first."""
    import openpyxl

    pkg = precheck(path, limits)
    assert pkg.kind == "xlsx", "openpyxl reads no .xls"
    reading = _new_reading(path, pkg)
    wb = openpyxl.load_workbook(io.BytesIO(pkg.data), keep_vba=False, keep_links=False)
    cached = openpyxl.load_workbook(io.BytesIO(pkg.data), data_only=True, keep_links=False)
    reading.sheets = list(wb.sheetnames)
    reading.sheet_states = {ws.title: ws.sheet_state for ws in wb.worksheets}
    for prop in wb.custom_doc_props.props:
        reading.props[prop.name] = _clean_scalar(str(prop.value))
    if wb.properties.modified:
        reading.saved_at = wb.properties.modified.isoformat()
    reading.formulas = {ws.title: {c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"}
                        for ws in wb.worksheets}
    grids = {ws.title: [[("" if c.value is None else c.value) for c in row]
                        for row in cached[ws.title].iter_rows(min_row=1, min_col=1)] for ws in wb.worksheets}
    names: dict[str, tuple[str, str]] = {}
    for name, dn in wb.defined_names.items():
        target = _parse_name_target(dn.attr_text or "")
        if target is not None:
            names[name] = target
        elif "#REF!" in (dn.attr_text or ""):
            reading.broken_names.append(name)
    _read_meta(grids, reading)
    _locate_cells(grids, names, spec, reading)
    if not (reading.props.get(PROP_UNIT) or reading.meta.get(PROP_UNIT)):
        _collect_hints(grids, reading)
    return reading

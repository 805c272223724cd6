"""The contract between the form's writer (`template.py`) and its readers (`ingest`, `validate`,
`collect`, `import_history`, `feedback`): what a generated workbook promises about itself.

- The form's id, and the unit's identity stored twice: in custom document properties (`PROP_*`)
  and as rows of a very hidden sheet (`META_SHEET`), so that it survives a re-save.
- Where things are on each kind of sheet (`LAYOUT`), including the hidden column holding each
  row's field code, which tells a reader that a row moved.
- How cells are named: every input cell has a workbook-level defined name equal to its field
  code; the explanation beside it is `note_name(code)`.
- Where the words of the workbook come from (`load_wording`: sheet names and labels, a file
  of the workspace). What the files are called is the workspace's layout (config/layout.py).

Both sides import this module; no reader imports the writer, so reading a file never loads
XlsxWriter or Jinja."""

from __future__ import annotations

from pathlib import Path

from pipeline.base.fsutil import read_yaml

FORM_ID = "treem-ctxhtre"
META_SHEET = "_meta"
# Custom document properties that carry the identity; the same keys are rows of _meta.
PROP_PREFIX = "treem_"
PROP_FORM, PROP_UNIT, PROP_UNIT_NAME, PROP_YEAR = "treem_form", "treem_unit", "treem_unit_name", "treem_year"
PROP_VERSION, PROP_HASH = "treem_template_version", "treem_catalogue_hash"
# Column positions (0-based) on each sheet kind; the readers rely on them to find the
# formulas that must still be there next to each named input cell.
# "code" is the hidden column holding each row's field code, which the readers use to tell a
# row that moved; "number" is the visible «Mã» column, showing the plan's indicator number.
LAYOUT = {
    "data": {"number": 1, "prev": 4, "input": 5, "rate": 6, "t2025": 7, "t2030": 8, "check": 9, "note": 10,
             "code": 11},
    "budget": {"number": 1, "prev": 4, "input": 5, "check": 6, "note": 7, "code": 11},
    "narrative": {"number": 1, "input": 5, "code": 11},
}
# Forms made before the field code moved to the hidden column showed it in column B.
LEGACY_CODE_COLUMN = 1
NOTE_PREFIX = "note_"


def note_name(code: str) -> str:
    """Defined name of the explanation cell next to a field."""
    return f"{NOTE_PREFIX}{code}"


def load_wording(path: Path) -> dict:
    """The workbook's words (sheet names, headings) from the workspace's wording file."""
    return read_yaml(path)

"""Where everything lives in a workspace: every folder and file name the tool reads or writes,
here and nowhere else. Every stage and the desk ask `Workspace.layout(year)` (or the root-level
names below) for a path; none spells a name of its own.

    THƯ_MỤC/
      settings.yaml, roster.yaml, catalogue.yaml, templates/   the officer's copies
      treem.sqlite                                             the store
      archive/ab/<sha256>.xlsx                                 every file received, by content
      input/2024/                                              the shared inbox
        bo_qua/                                                files the officer set aside
      output/2024/
        bieu_mau/2024_15700_xa-dan-luc.xlsx                    the forms sent out
        danh_sach_gui_bieu_mau_2024.xlsx                       who gets which form
        kiem_tra_so_lieu_2024.xlsx                             the validation report
        phan_hoi/2024_15700_xa-dan-luc_phan_hoi.xlsx           each unit's feedback copy
        tong_hop_2024.xlsx, du_lieu_2024.csv                   the district's figures
        bieu_do/bieu_do_muc_tieu_2024.png, …                   the report's charts
        bao_cao_2024.docx, bao_cao_2024.pdf                    the report
        cu/                                                    edited files kept by --force
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.base.text import slugify

SETTINGS, ROSTER, CATALOGUE, TEMPLATES = "settings.yaml", "roster.yaml", "catalogue.yaml", "templates"
DATABASE = "treem.sqlite"
LOCK = ".treem.lock"
ARCHIVE = "archive"
INPUT, OUTPUT = "input", "output"
SET_ASIDE = "bo_qua"      # below a year's inbox: files the officer set aside, never read
BACKUPS = "cu"            # below a year's outputs: edited files kept when they were replaced
OUTPUTS_MANIFEST = ".treem-outputs.json"  # below a year's outputs: what treem wrote, by hash


def form_name(year: int, unit) -> str:
    """The name of a unit's form for a year."""
    return f"{year}_{slugify(unit.code)}_{unit.slug}.xlsx"


def feedback_name(year: int, unit_code: str, name: str) -> str:
    """The name of the copy of a unit's file sent back with its problems marked."""
    return f"{year}_{slugify(unit_code)}_{slugify(name)}_phan_hoi.xlsx"


@dataclass(frozen=True)
class YearLayout:
    """The folders and files of one year of a workspace."""

    root: Path
    year: int

    @property
    def inbox(self) -> Path:
        return self.root / INPUT / str(self.year)

    @property
    def set_aside(self) -> Path:
        return self.inbox / SET_ASIDE

    @property
    def output(self) -> Path:
        return self.root / OUTPUT / str(self.year)

    @property
    def forms(self) -> Path:
        return self.output / "bieu_mau"

    def form(self, unit) -> Path:
        return self.forms / form_name(self.year, unit)

    @property
    def forms_zip_name(self) -> str:
        return f"bieu_mau_{self.year}.zip"

    @property
    def distribution_list(self) -> Path:
        return self.output / f"danh_sach_gui_bieu_mau_{self.year}.xlsx"

    @property
    def validation_report(self) -> Path:
        return self.output / f"kiem_tra_so_lieu_{self.year}.xlsx"

    @property
    def feedback(self) -> Path:
        return self.output / "phan_hoi"

    def feedback_copy(self, unit_code: str, name: str) -> Path:
        return self.feedback / feedback_name(self.year, unit_code, name)

    def feedback_copies(self) -> list[Path]:
        """The feedback copies written so far (an edited one kept as `_v2` included)."""
        return sorted(self.feedback.glob("*_phan_hoi*.xlsx"))

    @property
    def consolidated(self) -> Path:
        return self.output / f"tong_hop_{self.year}.xlsx"

    @property
    def long_csv(self) -> Path:
        return self.output / f"du_lieu_{self.year}.csv"

    @property
    def charts(self) -> Path:
        return self.output / "bieu_do"

    @property
    def target_chart(self) -> Path:
        return self.charts / f"bieu_do_muc_tieu_{self.year}.png"

    @property
    def trend_chart(self) -> Path:
        return self.charts / f"bieu_do_xu_huong_{self.year}.png"

    @property
    def report(self) -> Path:
        return self.output / f"bao_cao_{self.year}.docx"

    @property
    def report_pdf(self) -> Path:
        return self.report.with_suffix(".pdf")

    @property
    def backups(self) -> Path:
        return self.output / BACKUPS

    @property
    def outputs_manifest(self) -> Path:
        return self.output / OUTPUTS_MANIFEST

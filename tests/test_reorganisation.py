"""The 2025 reorganisation: from 2025 on, forms and report name the province's health
department (no district level since 1 July 2025), and every step warns once when the
settings still name a district issuer, office or recipient."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner
from docx import Document

from pipeline.cli import cli
from pipeline.merge.merger import merge
from pipeline.reporting.report import report
from pipeline.forms.writer import generate


def _strings(path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for sh in wb.worksheets for row in sh.iter_rows() for c in row
                     if isinstance(c.value, str))


def test_forms_and_report_for_2025_follow_the_reorganisation_by_default(workspace):
    old = generate(workspace, 2024, ["15700"])
    assert "Phòng Lao động - Thương binh và Xã hội" in _strings(old.files[0].path)
    new = generate(workspace, 2025, ["15664"])
    text = _strings(new.files[0].path)
    assert "Gửi lại chính tệp này về Sở Y tế tỉnh Thanh Hóa" in text
    # Who sends what to whom: nothing of the district any more (the plan keeps its name).
    assert "Phòng Lao động" not in text and "UBND huyện" not in text and "Ủy ban nhân dân huyện" not in text
    assert new.warnings == [] and old.warnings == []
    merged = merge(workspace, 2025)
    # The whole is the area of the new communes, not a district: in the workbook and the report.
    wb = openpyxl.load_workbook(merged.outputs["workbook"])
    assert wb["Xu hướng"]["A1"].value == "Giá trị toàn địa bàn qua các năm so với mục tiêu"
    assert "toàn huyện" not in _strings(merged.outputs["workbook"]).lower()
    written = report(workspace, 2025)
    assert written.warnings == [] or not any("cấp huyện" in w for w in written.warnings)
    doc = Document(written.docx)
    head = "\n".join(c.text for c in doc.tables[0].rows[0].cells)
    assert "SỞ Y TẾ" in head and "HUYỆN" not in head
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "kính gửi Ủy ban nhân dân tỉnh Thanh Hóa" in body
    assert "Toàn địa bàn có 8 xã" in body and "toàn huyện" not in body.lower()
    # No office reports from 2025: the report does not count «0/0 phòng, ban, ngành».
    assert "phòng, ban, ngành, đoàn thể;" not in body and "0/0" not in body


def test_every_step_warns_once_when_settings_still_name_the_district(workspace):
    (workspace.root / "settings.yaml").write_text(
        "from_2025:\n  issuer: Ủy ban nhân dân huyện Triệu Sơn\n"
        "  coordinator: Phòng Lao động - Thương binh và Xã hội\n", encoding="utf-8")
    for args in (["generate", "--unit", "15664"], ["collect"], ["merge"], ["report"]):
        res = CliRunner().invoke(cli, [*args, "--year", "2025", "--workspace", str(workspace.root)])
        assert res.exit_code == 0, res.output
        if args[0] == "merge":
            continue
        lines = [ln for ln in res.output.splitlines() if "không còn cấp huyện" in ln]
        assert len(lines) == 1, res.output
        assert "Ủy ban nhân dân huyện Triệu Sơn" in lines[0] and "Phòng Lao động" in lines[0]
        assert "from_2025" in lines[0]
    res = CliRunner().invoke(cli, ["generate", "--unit", "15700", "--year", "2024", "--workspace", str(workspace.root)])
    assert "không còn cấp huyện" not in res.output

"""The output guard: what the officer edited in Word or Excel survives every re-run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from docx import Document

from pipeline.cli import cli
from pipeline.merge.merger import merge
from pipeline.base.outputs import file_sha256, write_output
from pipeline.reporting.report import report
from pipeline.forms.writer import generate

YEAR = 2024


def _report_cli(ws, *extra):
    return CliRunner().invoke(cli, ["report", "--year", str(YEAR), "--workspace", str(ws.root), *extra])


def _edit_docx(path, line: str) -> None:
    doc = Document(path)
    doc.add_paragraph(line)
    doc.save(path)


def test_an_edited_report_survives_report_again_and_force_backs_it_up(workspace):
    merge(workspace, YEAR)
    res = _report_cli(workspace)
    assert res.exit_code == 0, res.output
    docx = workspace.output(YEAR) / f"bao_cao_{YEAR}.docx"
    manifest = json.loads((workspace.layout(YEAR).outputs_manifest).read_text(encoding="utf-8"))
    assert manifest["files"][docx.name]["sha256"] == file_sha256(docx)

    # Unedited: written again in place, nothing to say.
    res = _report_cli(workspace)
    assert res.exit_code == 0 and "đã được sửa" not in res.output
    assert not (workspace.output(YEAR) / f"bao_cao_{YEAR}_v2.docx").exists()

    # The officer edits it in Word, then a late file arrives and he runs report again.
    _edit_docx(docx, "Lời văn cán bộ đã sửa.")
    res = _report_cli(workspace)
    assert res.exit_code == 0, res.output
    assert "Lời văn cán bộ đã sửa." in [p.text for p in Document(docx).paragraphs]
    v2 = workspace.output(YEAR) / f"bao_cao_{YEAR}_v2.docx"
    assert v2.exists() and "Lời văn cán bộ đã sửa." not in [p.text for p in Document(v2).paragraphs]
    line = [ln for ln in res.output.splitlines() if "đã được sửa" in ln]
    assert len(line) == 1 and f"bao_cao_{YEAR}_v2.docx" in line[0] and "--force" in line[0]
    # Again: the edit still stands, the unedited v2 is simply replaced (no v3).
    res = _report_cli(workspace)
    assert "Lời văn cán bộ đã sửa." in [p.text for p in Document(docx).paragraphs]
    assert not (workspace.output(YEAR) / f"bao_cao_{YEAR}_v3.docx").exists()

    # --force: the edited file goes to output/YEAR/cu/ first, then is replaced.
    res = _report_cli(workspace, "--force")
    assert res.exit_code == 0, res.output
    backups = list((workspace.output(YEAR) / "cu").glob(f"bao_cao_{YEAR}_*.docx"))
    assert len(backups) == 1
    assert "Lời văn cán bộ đã sửa." in [p.text for p in Document(backups[0]).paragraphs]
    assert "Lời văn cán bộ đã sửa." not in [p.text for p in Document(docx).paragraphs]
    assert "cu/" in res.output


def test_a_pdf_older_than_its_docx_is_removed_with_a_message(workspace):
    merge(workspace, YEAR)
    written = report(workspace, YEAR)
    docx = workspace.output(YEAR) / f"bao_cao_{YEAR}.docx"
    pdf = docx.with_suffix(".pdf")
    # As `report --pdf` records it: derived from the .docx as it was then.
    write_output(workspace, YEAR, pdf, b"%PDF-1.4 as made from the docx\n", source=docx)
    assert report(workspace, YEAR, date=None).messages == []  # same content: the PDF still matches
    assert pdf.exists()
    from datetime import date
    written = report(workspace, YEAR, date=date(2024, 11, 25))  # a different .docx
    assert not pdf.exists()
    assert any(pdf.name in m and "--pdf" in m for m in written.messages)


def test_an_edited_form_and_distribution_list_are_kept(workspace):
    generate(workspace, YEAR, ["15700"])
    form = workspace.output(YEAR) / "bieu_mau" / f"{YEAR}_15700_xa-dan-luc.xlsx"
    listing = workspace.output(YEAR) / f"danh_sach_gui_bieu_mau_{YEAR}.xlsx"
    form.write_bytes(form.read_bytes() + b"")  # untouched content: still ours
    edited = listing.read_bytes() + b"edited in Excel"
    listing.write_bytes(edited)
    again = generate(workspace, YEAR, ["15700"])
    assert listing.read_bytes() == edited
    assert again.distribution_list.name == f"danh_sach_gui_bieu_mau_{YEAR}_v2.xlsx"
    assert again.files[0].path == form
    assert len(again.messages) == 1 and listing.name in again.messages[0]
    res = CliRunner().invoke(cli, ["generate", "--year", str(YEAR), "--unit", "15700", "--workspace",
                                   str(workspace.root), "--force"])
    assert res.exit_code == 0, res.output
    assert listing.read_bytes() != edited
    assert [p.read_bytes() for p in (workspace.output(YEAR) / "cu").iterdir()] == [edited]


def test_a_file_written_before_the_guard_is_backed_up_then_replaced(workspace):
    path = workspace.output(YEAR) / f"tong_hop_{YEAR}.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"an older run's workbook")
    result = merge(workspace, YEAR)
    assert path.read_bytes() != b"an older run's workbook"
    backups = list((workspace.output(YEAR) / "cu").iterdir())
    assert [b.read_bytes() for b in backups] == [b"an older run's workbook"]
    assert len(result.output_messages) == 1 and "cu/" in result.output_messages[0]


def test_a_run_killed_between_writing_and_recording_leaves_a_file_still_its_own(workspace):
    from pipeline.base.outputs import OutputGuard, sha256_bytes

    path = workspace.output(YEAR) / f"tong_hop_{YEAR}.xlsx"
    write_output(workspace, YEAR, path, b"first run")
    guard = OutputGuard(workspace, YEAR)
    guard.expect([(path, sha256_bytes(b"second run"))])  # saved before the bytes go out
    path.write_bytes(b"second run")  # ... and the run is killed here, before `record`
    again = write_output(workspace, YEAR, path, b"third run")
    assert again.path == path and not again.kept_edited and again.backup is None and again.message == ""
    assert not (workspace.output(YEAR) / "cu").exists()
    path.write_bytes(b"edited by hand")
    assert write_output(workspace, YEAR, path, b"fourth run").kept_edited


def test_manifest_keys_follow_links_as_resolve_does(workspace, tmp_path, monkeypatch):
    """The guard resolves each folder once (thousands of forms share one); a key is still
    what resolving the whole path gives: relative inside the output folder, absolute outside,
    through linked folders and linked files alike."""
    from pipeline.base.outputs import OutputGuard

    guard = OutputGuard(workspace, YEAR)
    out = guard.folder
    (out / "bieu_mau").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "link_out").symlink_to(elsewhere)
    (out / "link_in").symlink_to(out / "bieu_mau")
    (out / "bieu_mau" / "real.xlsx").write_bytes(b"x")
    (out / "bieu_mau" / "alias.xlsx").symlink_to(elsewhere / "target.xlsx")
    monkeypatch.chdir(out)
    cases = {out / "bieu_mau" / "a.xlsx": "bieu_mau/a.xlsx", out / "link_in" / "a.xlsx": "bieu_mau/a.xlsx",
             out / "link_out" / "a.xlsx": (elsewhere / "a.xlsx").as_posix(), out / "bieu_mau" / "real.xlsx":
             "bieu_mau/real.xlsx", out / "bieu_mau" / "alias.xlsx": (elsewhere / "target.xlsx").as_posix(),
             out: ".", out / "bieu_mau" / ".." / "x.json": "x.json", Path("bieu_mau") / "b.xlsx": "bieu_mau/b.xlsx"}
    for path, key in cases.items():
        for _ in range(2):  # the second time from the folders already resolved
            assert guard.key(path) == key, path

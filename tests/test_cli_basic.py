"""The `treem` command as the officer meets it: help with an example for every command, and
a problem in the input is one Vietnamese line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json

import sys

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

COMMANDS = sorted(cli.commands)


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_group_help_shows_the_yearly_cycle():
    res = invoke("--help")
    assert res.exit_code == 0
    assert "treem generate --year 2024" in res.output and "treem collect --year 2024" in res.output


def test_the_core_commands_exist():
    assert {"init", "catalogue", "units", "generate", "collect", "status"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name):
    res = invoke(name, "--help")
    assert res.exit_code == 0, res.output
    assert "Ví dụ" in res.output, name
    assert f"treem {name}" in res.output.split("Ví dụ", 1)[1], name  # the example runs this command
    short = cli.commands[name].get_short_help_str(200)
    assert short and not short.isascii(), name  # a Vietnamese summary in the command list
    assert "[required]" not in res.output and "[default" not in res.output, name  # click's own English


def test_a_missing_required_option_is_said_in_vietnamese(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setattr(sys, "argv", ["treem", "received", "a.xlsx", "--workspace", str(tmp_path)])
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Lỗi: Thiếu tùy chọn --date" in err and "Missing" not in err


def test_unknown_unit_is_one_vietnamese_line(tmp_path):
    res = invoke("generate", "--year", "2024", "--unit", "NOPE", "--json", "-w", str(tmp_path))
    assert res.exit_code == 1
    assert res.output == "Lỗi: Không có đơn vị mã NOPE trong danh sách đơn vị năm 2024.\n"
    assert not (tmp_path / "output").exists()  # nothing half-made


def test_error_without_json_has_no_traceback(tmp_path):
    res = invoke("generate", "--year", "2024", "--unit", "15700", "--unit", "NOPE", "-w", str(tmp_path))
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    errors = [line for line in res.output.splitlines() if line.startswith("Lỗi:")]
    assert errors == ["Lỗi: Không có đơn vị mã NOPE trong danh sách đơn vị năm 2024."]
    assert res.output.endswith(errors[0] + "\n")


def test_broken_catalogue_is_reported_in_one_line(tmp_path):
    # An unclosed bracket on line 1: PyYAML's own report is English and three lines long.
    (tmp_path / "catalogue.yaml").write_text("fields: [\n", encoding="utf-8")
    res = invoke("catalogue", "-w", str(tmp_path))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output == ("Lỗi: Danh mục chỉ tiêu catalogue.yaml: sai cú pháp YAML (dòng 2); kiểm tra thụt lề "
                          "và dấu nháy.\n")


def test_catalogue_not_in_utf8_is_reported(tmp_path):
    # Saved by Notepad as "ANSI" on a Vietnamese Windows: not UTF-8.
    (tmp_path / "catalogue.yaml").write_bytes(b"programme: Ch\xfa\xf4ng tr\xecnh\n")
    res = invoke("catalogue", "--json", "-w", str(tmp_path))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output == ("Lỗi: Danh mục chỉ tiêu catalogue.yaml: tệp không lưu theo bảng mã UTF-8; hãy lưu lại "
                          "với bảng mã UTF-8.\n")


def test_unquoted_comma_in_the_catalogue_is_reported(tmp_path):
    from pipeline.config.catalogue import default_catalogue_path

    text = default_catalogue_path().read_text(encoding="utf-8")
    text = text.replace('label: "Số trẻ em dưới 5 tuổi được cân, đo"', "label: Số trẻ em dưới 5 tuổi được cân, đo")
    (tmp_path / "catalogue.yaml").write_text(text, encoding="utf-8")
    res = invoke("generate", "--year", "2024", "--json", "-w", str(tmp_path))
    assert res.exit_code == 1
    assert res.output.startswith("Lỗi: Số liệu ct04_measured: mục «đo» không có giá trị;")
    assert len(res.output.splitlines()) == 1


def test_bad_deadline_setting_is_reported(tmp_path):
    (tmp_path / "settings.yaml").write_text('deadline: "31/11"\n', encoding="utf-8")
    res = invoke("status", "--year", "2024", "-w", str(tmp_path))
    assert res.exit_code == 1
    assert res.output == ("Lỗi: Tệp thông số có lỗi, sửa rồi chạy lại (kiểm tra: treem check-settings):\n"
                          "  - settings.yaml, dòng 1: hạn nộp: «31/11» không phải ngày có thật; ghi dạng ngày/tháng, "
                          "ví dụ 20/11 hoặc 20/11/2024.\n")


def test_units_json(tmp_path):
    res = invoke("units", "--year", "2024", "--json", "-w", str(tmp_path))
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["year"] == 2024
    units = data["units"]
    assert len(units) == 45
    assert [u["type"] for u in units].count("thi_tran") == 2 and [u["type"] for u in units].count("xa") == 32
    assert units[0] == {**units[0], "code": "15664", "name": "Thị trấn Triệu Sơn", "type_label": "Thị trấn"}
    assert [u["code"] for u in units[34:41]] == ["P-LDTBXH", "P-TP", "CA-H", "P-GDDT", "P-YT", "P-VHTT", "P-TCKH"]
    assert {u["type"] for u in units[41:]} == {"to_chuc"}
    res = invoke("units", "--year", "2025", "--json", "-w", str(tmp_path))
    assert [u["name"] for u in json.loads(res.stdout)["units"]] == [
        "Xã Triệu Sơn", "Xã Thọ Bình", "Xã Hợp Tiến", "Xã Tân Ninh", "Xã Đồng Tiến", "Xã Thọ Ngọc", "Xã Thọ Phú",
        "Xã An Nông"]


def test_units_text_output(tmp_path):
    res = invoke("units", "--year", "2024", "-w", str(tmp_path))
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0] == "Năm 2024: 45 đơn vị"
    assert lines[1].split() == ["15664", "Thị", "trấn", "Thị", "trấn", "Triệu", "Sơn"]


def test_commands_that_read_a_workspace_refuse_a_folder_that_is_not_one(tmp_path):
    for command in (["collect"], ["status"], ["merge"], ["report"]):
        res = CliRunner().invoke(cli, [*command, "--year", "2024", "-w", str(tmp_path / "khong-co")])
        assert res.exit_code == 1 and "chưa phải thư mục làm việc" in res.output
    assert not (tmp_path / "khong-co").exists()

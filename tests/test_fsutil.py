"""Atomic writes and the YAML parse cache."""

from __future__ import annotations

from pipeline.base.fsutil import atomic_write, read_yaml


def test_large_yaml_is_cached_and_an_edit_is_always_seen(tmp_path):
    path = tmp_path / "roster.yaml"
    units = "".join(f"- {{code: 'B{i:05d}', name: 'Xã Thử {i}', valid_from: 2025-07-01}}\n" for i in range(6000))
    path.write_text("units:\n" + units, encoding="utf-8")
    first = read_yaml(path)
    cached = list((tmp_path / ".treem-cache").glob("roster.yaml.*.json"))
    assert len(cached) == 1
    again = read_yaml(path)
    assert again["units"][5999] == {"code": "B05999", "name": "Xã Thử 5999", "valid_from": "2025-07-01"}
    assert len(first["units"]) == len(again["units"]) == 6000
    path.write_text("units:\n" + units.replace("Xã Thử 5999", "Xã Đã Sửa"), encoding="utf-8")
    assert read_yaml(path)["units"][5999]["name"] == "Xã Đã Sửa"
    assert len(list((tmp_path / ".treem-cache").glob("roster.yaml.*.json"))) == 1  # the stale one is gone


def test_small_yaml_is_not_cached(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("deadline: '11-20'\n", encoding="utf-8")
    assert read_yaml(path) == {"deadline": "11-20"}
    assert not (tmp_path / ".treem-cache").exists()


def test_atomic_write_replaces_and_clears_leftovers_of_a_killed_write(tmp_path):
    target = tmp_path / "tong_hop_2024.xlsx"
    leftover = tmp_path / ".tong_hop_2024.xlsx.tmp"
    leftover.write_bytes(b"half")
    atomic_write(target, b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert not leftover.exists()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]

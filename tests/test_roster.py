import json
from datetime import date
from pathlib import Path

import pytest

from pipeline.base.errors import ConfigError
from pipeline.config.roster import Contact, Roster, Unit, default_roster_path, reference_date, to_dict

OLD_COMMUNES = {
    "15664": "Thị trấn Triệu Sơn", "15667": "Xã Thọ Sơn", "15670": "Xã Thọ Bình", "15673": "Xã Thọ Tiến",
    "15676": "Xã Hợp Lý", "15679": "Xã Hợp Tiến", "15682": "Xã Hợp Thành", "15685": "Xã Triệu Thành",
    "15688": "Xã Hợp Thắng", "15691": "Xã Minh Sơn", "15700": "Xã Dân Lực", "15703": "Xã Dân Lý",
    "15706": "Xã Dân Quyền", "15709": "Xã An Nông", "15712": "Xã Vân Sơn", "15715": "Xã Thái Hòa",
    "15718": "Thị trấn Nưa", "15721": "Xã Đồng Lợi", "15724": "Xã Đồng Tiến", "15727": "Xã Đồng Thắng",
    "15730": "Xã Tiến Nông", "15733": "Xã Khuyến Nông", "15736": "Xã Xuân Thịnh", "15739": "Xã Xuân Lộc",
    "15742": "Xã Thọ Dân", "15745": "Xã Xuân Thọ", "15748": "Xã Thọ Tân", "15751": "Xã Thọ Ngọc",
    "15754": "Xã Thọ Cường", "15757": "Xã Thọ Phú", "15760": "Xã Thọ Vực", "15763": "Xã Thọ Thế",
    "15766": "Xã Nông Trường", "15769": "Xã Bình Sơn",
}
NEW_COMMUNES = {
    "15664": "Xã Triệu Sơn", "15667": "Xã Thọ Bình", "15682": "Xã Hợp Tiến", "15715": "Xã Tân Ninh",
    "15724": "Xã Đồng Tiến", "15754": "Xã Thọ Ngọc", "15763": "Xã Thọ Phú", "15766": "Xã An Nông",
}
# DOMAIN.md, 2025 reform, written out by hand; Xuân Thịnh and Thọ Vực via their 2025-01 hosts.
REFORM_2025 = {
    "15664": "15664", "15691": "15664", "15700": "15664", "15703": "15664", "15706": "15664",
    "15667": "15667", "15769": "15667", "15670": "15667",
    "15673": "15754", "15745": "15754", "15754": "15754", "15751": "15754",
    "15739": "15763", "15742": "15763", "15763": "15763", "15748": "15763", "15757": "15763",
    "15736": "15763", "15760": "15763",
    "15676": "15682", "15688": "15682", "15682": "15682", "15685": "15682", "15679": "15682",
    "15730": "15766", "15733": "15766", "15766": "15766", "15709": "15766",
    "15718": "15715", "15715": "15715", "15712": "15715",
    "15721": "15724", "15727": "15724", "15724": "15724",
}
OFFICE_CODES = ["P-LDTBXH", "P-TP", "CA-H", "P-GDDT", "P-YT", "P-VHTT", "P-TCKH"]
ORG_CODES = ["MTTQ", "HDTN", "HLHPN", "HBTNTT"]


@pytest.fixture(scope="module")
def roster() -> Roster:
    return Roster.load()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def unit_yaml(code, name, type_="xa", valid_from="null", valid_to="null", successor="null", extra=""):
    return (
        f'  - code: "{code}"\n    name: "{name}"\n    type: {type_}\n    valid_from: {valid_from}\n'
        f"    valid_to: {valid_to}\n    successor: {successor}\n{extra}"
    )


# ---------------------------------------------------------------- the packaged roster

def test_default_path_is_packaged():
    assert default_roster_path().name == "roster.yaml"
    assert default_roster_path().parent.name == "defaults"
    assert Roster.load(None).units == Roster.load(default_roster_path()).units


def test_2024_has_34_communes_7_offices_4_organisations(roster):
    units = roster.for_year(2024)
    assert len(units) == 45
    communes = [u for u in units if u.is_commune]
    assert {u.code: u.name for u in communes} == OLD_COMMUNES
    assert [u.code for u in communes] == sorted(OLD_COMMUNES)  # code order, thị trấn among xã
    assert sum(u.type == "thi_tran" for u in communes) == 2
    assert [u.code for u in units[34:41]] == OFFICE_CODES
    assert [u.code for u in units[41:]] == ORG_CODES
    assert {u.type for u in units[34:41]} == {"phong"} and {u.type for u in units[41:]} == {"to_chuc"}


@pytest.mark.parametrize("year", [2021, 2022, 2023])
def test_earlier_years_have_the_same_45(roster, year):
    assert [u.code for u in roster.for_year(year)] == [u.code for u in roster.for_year(2024)]


def test_2025_has_only_the_8_new_communes(roster):
    units = roster.for_year(2025)
    assert {u.code: u.name for u in units} == NEW_COMMUNES
    assert [u.code for u in units] == sorted(NEW_COMMUNES)
    assert all(u.type == "xa" and u.valid_from == date(2025, 7, 1) and u.valid_to is None for u in units)
    assert roster.for_year(2030) == units


def test_first_half_of_2025_after_the_early_mergers(roster):
    units = roster.in_force(date(2025, 3, 1))
    assert len([u for u in units if u.is_commune]) == 32
    assert len(units) == 43
    assert roster.in_force(date(2025, 6, 30)) == units


def test_xuan_thinh_ends_on_2024_12_31(roster):
    assert roster.get("15736", date(2024, 12, 31)).name == "Xã Xuân Thịnh"
    assert roster.get("15736", date(2025, 1, 1)) is None
    assert roster.match("Xuân Thịnh", date(2024, 12, 31)).code == "15736"
    assert roster.match("Xuân Thịnh", date(2025, 1, 1)) is None
    assert roster.successor_on("15736", date(2024, 12, 31), date(2025, 1, 1)).name == "Xã Xuân Lộc"
    xuan_thinh = roster.get("15736", date(2024, 1, 1))
    assert xuan_thinh.in_force(date(2024, 12, 31)) and not xuan_thinh.in_force(date(2025, 1, 1))
    assert "Sáp nhập vào Xã Xuân Lộc" in xuan_thinh.note
    assert roster.get("15760", date(2024, 6, 1)).successor == "15757"


def test_code_15754_is_reused(roster):
    assert roster.get("15754", date(2024, 11, 20)).name == "Xã Thọ Cường"
    assert roster.get("15754", date(2025, 6, 30)).name == "Xã Thọ Cường"
    assert roster.get("15754", date(2025, 7, 1)).name == "Xã Thọ Ngọc"
    assert roster.get("15754", date(2025, 11, 20)).name == "Xã Thọ Ngọc"
    assert roster.get("99999", date(2024, 11, 20)) is None


def test_successor_chain_xuan_thinh_to_tho_phu(roster):
    heir = roster.successor_on("15736", date(2024, 6, 1), 2025)
    assert (heir.code, heir.name) == ("15763", "Xã Thọ Phú")
    assert roster.successor_on("15736", date(2024, 6, 1), date(2025, 7, 1)).code == "15763"
    # still in force: the unit itself
    assert roster.successor_on("15700", date(2022, 1, 1), 2024).name == "Xã Dân Lực"
    # offices end without a successor
    assert roster.successor_on("P-YT", date(2024, 1, 1), 2025) is None
    # no way back in time
    assert roster.successor_on("15664", date(2025, 8, 1), 2024) is None


def test_mapping_2024_to_2025(roster):
    mapping = roster.mapping(2024, 2025)
    assert mapping == REFORM_2025
    assert mapping["15736"] == "15763"  # Xuân Thịnh -> Xuân Lộc -> Thọ Phú
    assert mapping["15691"] == "15664"  # Minh Sơn -> Triệu Sơn
    assert mapping["15715"] == "15715"  # Thái Hòa -> Tân Ninh (code reused)
    assert set(mapping.values()) == set(NEW_COMMUNES)
    assert not set(OFFICE_CODES + ORG_CODES) & set(mapping)


def test_mapping_within_a_period_is_identity(roster):
    mapping = roster.mapping(2022, 2024)
    assert len(mapping) == 45
    assert all(old == new for old, new in mapping.items())
    assert roster.mapping(2025, 2030) == {c: c for c in NEW_COMMUNES}


@pytest.mark.parametrize(
    "text, on, code",
    [
        ("Văn Sơn", date(2024, 11, 20), "15712"),
        ("Xã Văn Sơn", date(2024, 11, 20), "15712"),
        ("xa dan luc", date(2024, 11, 20), "15700"),
        ("Thị trấn Nưa", date(2024, 11, 20), "15718"),
        ("TT. Nưa", date(2024, 11, 20), "15718"),
        ("15700", date(2024, 11, 20), "15700"),
        (15700, date(2024, 11, 20), "15700"),
        (15700.0, date(2024, 11, 20), "15700"),
        ("UBND xã Thái Hoà", date(2024, 11, 20), "15715"),
        ("thai hoa", date(2024, 11, 20), "15715"),
        ("THỌ CƯỜNG", date(2024, 11, 20), "15754"),
        ("Xã Hợp Tiến", date(2024, 11, 20), "15679"),
        ("Xã Hợp Tiến", date(2025, 11, 20), "15682"),
        ("Triệu Sơn", date(2024, 11, 20), "15664"),
        ("Xã Triệu Sơn", date(2025, 11, 20), "15664"),
        ("tan ninh", date(2025, 11, 20), "15715"),
        ("Phòng LĐ-TB&XH", date(2024, 11, 20), "P-LDTBXH"),
        ("Phòng LĐTBXH", date(2024, 11, 20), "P-LDTBXH"),
        ("Phòng GD&ĐT", date(2024, 11, 20), "P-GDDT"),
        ("Phòng Văn hóa - Thông tin", date(2024, 11, 20), "P-VHTT"),
        ("Công an huyện Triệu Sơn", date(2024, 11, 20), "CA-H"),
        ("Hội LHPN huyện", date(2024, 11, 20), "HLHPN"),
        ("Uỷ ban MTTQ huyện", date(2024, 11, 20), "MTTQ"),
        ("p-yt", date(2024, 11, 20), "P-YT"),
    ],
)
def test_match(roster, text, on, code):
    assert roster.match(text, on).code == code


@pytest.mark.parametrize(
    "text, on",
    [
        ("Xã Không Có", date(2024, 11, 20)),
        ("", date(2024, 11, 20)),
        (None, date(2024, 11, 20)),
        ("Thọ Cường", date(2025, 11, 20)),  # merged away
        ("Phòng Y tế", date(2025, 11, 20)),  # district level abolished
        ("Thọ Tần", date(2024, 11, 20)),     # a different name: diacritics count
    ],
)
def test_match_none(roster, text, on):
    assert roster.match(text, on) is None


def test_accent_fallback_only_when_unique():
    units = [
        Unit("1", "Xã Thọ Tân", "xa"),
        Unit("2", "Xã Thọ Tần", "xa"),
        Unit("3", "Xã Dân Lực", "xa"),
    ]
    roster = Roster.from_units(units)
    on = date(2024, 1, 1)
    assert roster.match("Thọ Tân", on).code == "1"
    assert roster.match("Thọ Tần", on).code == "2"
    assert roster.match("tho tan", on) is None  # two units fold to it: do not guess
    assert roster.match("dan luc", on).code == "3"
    assert roster.match("Dân Lục", on) is None  # other diacritics: another name


def test_unit_properties_and_dict(roster):
    unit = roster.get("15700", date(2024, 1, 1))
    assert unit.is_commune and unit.type_label == "Xã" and unit.slug == "xa-dan-luc"
    assert roster.get("15718", date(2024, 1, 1)).type_label == "Thị trấn"
    office = roster.get("P-VHTT", date(2024, 1, 1))
    assert office.name == "Phòng Văn hoá - Thông tin"
    assert not office.is_commune and office.type_label == "Phòng, ban"
    assert roster.get("HDTN", date(2024, 1, 1)).type_label == "Tổ chức, đoàn thể"
    assert unit.to_dict() == to_dict(unit) == {
        "code": "15700",
        "name": "Xã Dân Lực",
        "type": "xa",
        "type_label": "Xã",
        "valid_from": None,
        "valid_to": "2025-06-30",
        "aliases": [],
        "successor": "15664", "area": "xa", "area_note": "",
        "contact": {"person": "", "phone": "", "email": ""},
    }
    json.dumps([u.to_dict() for u in roster.units], ensure_ascii=False)


def test_packaged_roster_contents(roster):
    assert len(roster.units) == 34 + 8 + 7 + 4
    assert all(u.contact == Contact() for u in roster.units)  # the officer fills contacts
    assert all(u.code.isascii() and u.code == u.code.strip() for u in roster.units)
    van_son = roster.get("15712", date(2024, 1, 1))
    assert "Xã Văn Sơn" in van_son.aliases
    assert {"TT Nưa"} <= set(roster.get("15718", date(2024, 1, 1)).aliases)
    for unit in roster.units:
        if unit.valid_from == date(2025, 7, 1):
            assert "1686" not in unit.name and unit.note
        if unit.code in OLD_COMMUNES and unit.valid_from is None:
            assert unit.valid_to in (date(2024, 12, 31), date(2025, 6, 30))


def test_reference_date():
    assert reference_date(2024) == date(2024, 11, 20)
    assert reference_date(2025, (12, 31)) == date(2025, 12, 31)


def test_for_year_with_another_reference_day(roster):
    assert len(roster.for_year(2025, reference=(3, 1))) == 43
    assert len(roster.for_year(2024, reference=(12, 31))) == 45


# ---------------------------------------------------------------- malformed files

@pytest.mark.parametrize(
    "body, words",
    [
        (unit_yaml("1", "Xã A", type_="huyen"), ["loại đơn vị", "huyen", "xa", "thi_tran"]),
        (unit_yaml("1", "Xã A") + unit_yaml("1", "Xã B", valid_from="2020-01-01"), ["mã 1 bị trùng", "chồng lên"]),
        (unit_yaml("1", "Xã A", valid_to="2024-12-31") + unit_yaml("1", "Xã B", valid_from="2024-12-31"),
         ["mã 1 bị trùng"]),
        (unit_yaml("1", "Xã A", valid_to="2024-12-31", successor='"9"'), ["kế thừa «9»", "01/01/2025"]),
        (unit_yaml("1", "Xã A", valid_to="2024-12-31", successor='"2"')
         + unit_yaml("2", "Xã B", valid_from="2025-02-01"), ["kế thừa «2»", "không có hiệu lực"]),
        (unit_yaml("1", "Xã A", successor='"2"') + unit_yaml("2", "Xã B"), ["chưa ghi valid_to"]),
        (unit_yaml("1", "Xã A", valid_to="30/06/2025"), ["valid_to", "30/06/2025", "NĂM-THÁNG-NGÀY"]),
        (unit_yaml("1", "Xã A", valid_from="2025-07-01", valid_to="2025-06-30"), ["valid_from", "sau valid_to"]),
        ('  - code: "1"\n    type: xa\n', ["thiếu trường bắt buộc «name»"]),
        ('  - name: "Xã A"\n    type: xa\n', ["đơn vị thứ 1", "thiếu trường bắt buộc «code»"]),
        (unit_yaml("1", "Xã A", extra="    valid_too: 2025-06-30\n"), ["valid_too", "không hợp lệ"]),
        (unit_yaml("1", "Xã A", extra="    contact: {phone: 0373123456}\n"), ["phone", "dấu nháy"]),  # YAML: octal
        (unit_yaml("1", "Xã A", extra="    aliases: {a: 1}\n"), ["aliases"]),
        ("  - just a string\n", ["không đúng cấu trúc"]),
    ],
)
def test_malformed_roster_raises_config_error_in_vietnamese(tmp_path, body, words):
    path = write(tmp_path, "units:\n" + body)
    with pytest.raises(ConfigError) as info:
        Roster.load(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    "text, words",
    [
        ("", ["thiếu mục «units:»"]),
        ("units: 5\n", ["thiếu mục «units:»"]),
        ("units:\n  - code: [1\n", ["sai cú pháp YAML", "dòng"]),
    ],
)
def test_malformed_file_structure(tmp_path, text, words):
    with pytest.raises(ConfigError) as info:
        Roster.load(write(tmp_path, text))
    for word in words:
        assert word in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="Không tìm thấy tệp danh sách đơn vị"):
        Roster.load(tmp_path / "khong-co.yaml")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_bytes("units:\n  - code: 1\n    name: Xã Dân\n    type: xa\n".encode("cp1252"))
    with pytest.raises(ConfigError, match="UTF-8"):
        Roster.load(path)


def test_from_units_checks_too():
    with pytest.raises(ConfigError, match="bị trùng"):
        Roster.from_units([Unit("1", "Xã A", "xa"), Unit("1", "Xã B", "xa")])
    with pytest.raises(ConfigError, match="loại đơn vị"):
        Roster.from_units([Unit("1", "Xã A", "huyen")])


def test_minimal_file_and_code_reuse(tmp_path):
    path = write(
        tmp_path,
        "units:\n"
        + unit_yaml("100", "Xã Cũ", valid_to="2025-06-30", successor='"100"', extra="    aliases: Xã Cu Cũ\n")
        + unit_yaml("100", "Xã Mới", valid_from="2025-07-01")
        + "  - code: 200\n    name: Phòng Y tế\n    type: phong\n",
    )
    roster = Roster.load(path)
    assert roster.get("100", date(2025, 6, 30)).name == "Xã Cũ"
    assert roster.get("100", date(2025, 7, 1)).name == "Xã Mới"
    assert roster.get("100", date(2025, 6, 30)).aliases == ("Xã Cu Cũ",)
    assert roster.get("200", date(2030, 1, 1)).code == "200"  # a YAML number becomes a text code
    assert roster.mapping(2024, 2025) == {"100": "100", "200": "200"}
    assert [u.name for u in roster.in_force(date(2024, 1, 1))] == ["Xã Cũ", "Phòng Y tế"]


def test_each_commune_of_2025_carries_its_area_with_how_it_was_decided():
    roster = Roster.load()
    new = [u for u in roster.for_year(2025) if u.is_commune]
    assert len(new) == 8 and all(u.area in ("xa", "thi_tran") and u.area_note for u in new)
    urban = sorted(u.name for u in new if u.target_area == "thi_tran")
    # the two that took over a former town (thị trấn Triệu Sơn, thị trấn Nưa)
    assert urban == sorted(["Xã Triệu Sơn", "Xã Tân Ninh"])
    assert all(u.type == "xa" for u in new)
    # before 2025 the area is the unit's own type
    assert {u.target_area for u in roster.for_year(2024) if u.type == "thi_tran"} == {"thi_tran"}

import unicodedata

import pytest

from pipeline.base.text import (
    INVALID,
    TCVN3_TO_UNICODE,
    VNI_TO_UNICODE,
    ParsedNumber,
    canonical_name,
    convert_legacy,
    detect_legacy,
    encode_tcvn3,
    encode_vni,
    fix_text,
    is_vietnamese_syllable,
    legacy_encoding_for_font,
    nfc,
    parse_number,
    parse_yes_no,
    slugify,
    strip_accents,
    unify_tone_placement,
)

COMMUNES_2021 = [
    "Thị trấn Triệu Sơn", "Xã Thọ Sơn", "Xã Thọ Bình", "Xã Thọ Tiến", "Xã Hợp Lý", "Xã Hợp Tiến",
    "Xã Hợp Thành", "Xã Triệu Thành", "Xã Hợp Thắng", "Xã Minh Sơn", "Xã Dân Lực", "Xã Dân Lý",
    "Xã Dân Quyền", "Xã An Nông", "Xã Vân Sơn", "Xã Thái Hòa", "Thị trấn Nưa", "Xã Đồng Lợi",
    "Xã Đồng Tiến", "Xã Đồng Thắng", "Xã Tiến Nông", "Xã Khuyến Nông", "Xã Xuân Thịnh", "Xã Xuân Lộc",
    "Xã Thọ Dân", "Xã Xuân Thọ", "Xã Thọ Tân", "Xã Thọ Ngọc", "Xã Thọ Cường", "Xã Thọ Phú",
    "Xã Thọ Vực", "Xã Thọ Thế", "Xã Nông Trường", "Xã Bình Sơn",
]
COMMUNES_2025 = ["Xã Triệu Sơn", "Xã Thọ Bình", "Xã Thọ Ngọc", "Xã Thọ Phú", "Xã Hợp Tiến", "Xã An Nông",
                 "Xã Tân Ninh", "Xã Đồng Tiến"]
OFFICES = ["Phòng Lao động - Thương binh và Xã hội", "Phòng Tư pháp", "Công an huyện", "Phòng Giáo dục và Đào tạo",
           "Phòng Y tế", "Phòng Văn hoá - Thông tin", "Phòng Tài chính - Kế hoạch",
           "Ủy ban Mặt trận Tổ quốc Việt Nam huyện", "Huyện đoàn", "Hội Liên hiệp Phụ nữ huyện",
           "Hội Bảo trợ người tàn tật và trẻ em mồ côi huyện"]
# Sentences of the plan (lower-case start where .VnTime has no toned capital).
PLAN_SENTENCES = [
    "triển khai, thực hiện Chương trình hành động vì trẻ em huyện Triệu Sơn giai đoạn 2021-2030",
    "Đảm bảo hiệu quả, nâng cao trách nhiệm của các phòng, ngành, địa phương trong công tác bảo vệ, "
    "chăm sóc và giáo dục trẻ em trong tình hình mới.",
    "Tạo lập môi trường sống an toàn, lành mạnh và thân thiện, góp phần hoàn thành các mục tiêu "
    "của Chương trình nghị sự 2030 vì sự phát triển bền vững.",
    "Tỷ lệ xã, phường, thị trấn đạt tiêu chuẩn phù hợp với trẻ em đạt 85%",
    "giảm tỷ suất tử vong trẻ em dưới 1 tuổi xuống dưới 10‰; người đứng đầu chịu trách nhiệm",
    "quyền trẻ em, phát triển toàn diện, chăm sóc sức khỏe, dinh dưỡng, khuyến khích, nguyện vọng",
]
ENGLISH = [
    "Children's Action Programme annual report",
    "The quick brown fox jumps over the lazy dog.",
    "Total: 1,234 children (95%) - see sheet 2",
    "naïve café résumé",
    "Grüße aus München, Müller",
    "© 2024 UNICEF · 50 µg · ½ dose",
    "Señor García, Ærø, Øresund",
    "«quoted» text",
]


# ---------------------------------------------------------------- nfc, folding, slugs

def test_nfc_composes_decomposed_windows_keyboard_text():
    decomposed = unicodedata.normalize("NFD", "Xã Dân Lực")
    assert decomposed != "Xã Dân Lực"
    assert nfc(decomposed) == "Xã Dân Lực"


def test_nfc_turns_odd_spaces_into_one_plain_space():
    assert nfc("\u00a0 Xã\u00a0\u00a0Dân\tLực \u202f") == "Xã Dân Lực"
    assert nfc("Dân\u200bLực") == "Dân Lực"
    assert nfc("\ufeffThọ\u200dTân") == "ThọTân"
    assert nfc("  a \n\n  b  ") == "a b"
    assert nfc("  dòng 1 \r\n\r\n  dòng  2 ", keep_newlines=True) == "dòng 1\ndòng 2"


def test_strip_accents():
    assert strip_accents("Đồng Lợi, Thọ Cường, Khuyến Nông") == "Dong Loi, Tho Cuong, Khuyen Nong"
    assert strip_accents("ĐẠT đạt ỹ Ữ") == "DAT dat y U"


@pytest.mark.parametrize(
    "text, slug",
    [
        ("Xã Dân Lực", "xa-dan-luc"),
        ("Thị trấn Triệu Sơn", "thi-tran-trieu-son"),
        ("Phòng Lao động - Thương binh và Xã hội", "phong-lao-dong-thuong-binh-va-xa-hoi"),
        ("  Đồng   Tiến!! ", "dong-tien"),
        ("Phòng GD&ĐT", "phong-gd-dt"),
        ("???", "x"),
        ("", "x"),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_slugify_is_short_and_safe():
    slug = slugify("Hội Bảo trợ người tàn tật và trẻ em mồ côi huyện Triệu Sơn tỉnh Thanh Hóa nước Việt Nam")
    assert len(slug) <= 60
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert not slug.endswith("-")
    assert slug.startswith("hoi-bao-tro-nguoi-tan-tat")


# ---------------------------------------------------------------- canonical names

@pytest.mark.parametrize(
    "a, b",
    [
        ("Hòa", "Hoà"),
        ("Thủy", "Thuỷ"),
        ("Hóa", "Hoá"),
        ("khỏe", "khoẻ"),
        ("Xã Thái Hòa", "Thái Hoà"),
        ("UBND xã Thái Hòa", "thái hoà"),
        ("Ủy ban nhân dân xã Dân Lực", "Dân Lực"),
        ("Thị trấn Nưa", "TT Nưa"),
        ("TT. Nưa", "Nưa"),
        ("thị  trấn   Triệu  Sơn", "TT Triệu Sơn"),
        ("Phòng Văn hóa - Thông tin", "Phòng Văn hoá – Thông tin"),
        ("Xã Dân Lực", unicodedata.normalize("NFD", "xã dân lực")),
        ("Xã\u00a0Dân Lực", "Xa\u0303 Da\u0302n Lư\u0323c"),
        ("Uỷ ban MTTQ", "Ủy ban MTTQ"),
    ],
)
def test_canonical_name_equal(a, b):
    assert canonical_name(a) == canonical_name(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("Thọ Tân", "Thọ Tần"),      # different names: diacritics are kept
        ("Xã Thái Hòa", "thai hoa"),  # Roster.match falls back to folding; the key does not
        ("Xã Hợp Thắng", "Xã Hợp Thành"),
        ("Vân Sơn", "Văn Sơn"),       # an alias, not a spelling variant
    ],
)
def test_canonical_name_different(a, b):
    assert canonical_name(a) != canonical_name(b)


def test_canonical_name_values():
    assert canonical_name("UBND xã Thái Hòa") == "thái hoà"
    assert canonical_name("Xã Dân Lực") == "dân lực"
    assert canonical_name("Phòng LĐ-TB&XH") == "phòng lđ tb xh"
    assert canonical_name("xa dan luc") == "dan luc"
    assert canonical_name("Xã") == "xã"  # a prefix alone is kept, never emptied


def test_unify_tone_placement_leaves_other_words():
    assert unify_tone_placement("hoàng") == "hoàng"
    assert unify_tone_placement("thuyền") == "thuyền"
    assert unify_tone_placement("quý") == "quý"
    assert unify_tone_placement("qúy") == "quý"
    assert unify_tone_placement("Hòa") == "Hoà"


# ---------------------------------------------------------------- numbers

NUMBER_CASES = [
    # (input, value, status, note)
    (None, None, "blank", ""),
    ("", None, "blank", ""),
    ("   ", None, "blank", ""),
    ("\u00a0", None, "blank", ""),
    ("-", None, "blank", ""),
    (0, 0.0, "ok", ""),
    (0.0, 0.0, "ok", ""),
    (12, 12.0, "ok", ""),
    (2.5, 2.5, "ok", ""),
    (-3, -3.0, "ok", ""),
    (float("nan"), None, "blank", ""),
    (float("inf"), None, "invalid", "not-finite"),
    (True, None, "invalid", "boolean"),
    (False, None, "invalid", "boolean"),
    ("0", 0.0, "ok", "text-number"),
    (" 12 ", 12.0, "ok", "text-number"),
    ("1.234", 1234.0, "ok", "text-number"),
    ("1.234.567", 1234567.0, "ok", "text-number"),
    ("1.234.567,5", 1234567.5, "ok", "text-number"),
    ("2,5", 2.5, "ok", "text-number"),
    ("2.5", 2.5, "ok", "text-number"),
    ("1.5", 1.5, "ok", "text-number"),
    ("1.2345", 1.2345, "ok", "text-number"),
    ("0.500", 0.5, "ok", "text-number"),      # "0.500" cannot be a thousands group
    ("0,125", 0.125, "ok", "text-number"),
    ("1234,567", 1234.567, "ok", "text-number"),  # four digits before the comma: not grouping
    ("12,50", 12.5, "ok", "text-number"),
    (",5", 0.5, "ok", "text-number"),
    ("95%", 95.0, "ok", "percent-sign"),
    ("2,5 %", 2.5, "ok", "percent-sign"),
    ("12\u00a0345", 12345.0, "ok", "text-number"),
    ("1 234", 1234.0, "ok", "text-number"),
    ("1 234 567,5", 1234567.5, "ok", "text-number"),
    ("+4", 4.0, "ok", "text-number"),
    ("-3", -3.0, "ok", "text-number"),
    ("- 7,5", -7.5, "ok", "text-number"),
    ("1,234,567", 1234567.0, "ok", "text-number"),  # two commas: only grouping fits
    ("1,234.5", 1234.5, "ok", "text-number"),
    ("'125", 125.0, "ok", "text-number"),
    ("1E+05", 100000.0, "ok", "text-number"),
    ("1,234", None, "ambiguous", "grouping-or-decimal"),
    ("12,345", None, "ambiguous", "grouping-or-decimal"),
    ("1.234,5.6", None, "ambiguous", "separators"),
    ("1.2.3", None, "ambiguous", "separators"),
    ("5,", None, "ambiguous", "separators"),
    ("abc", None, "invalid", "not-a-number"),
    ("12 trẻ", None, "invalid", "not-a-number"),
    ("1 2", None, "invalid", "not-a-number"),
    ("%", None, "invalid", "not-a-number"),
    (".", None, "invalid", "not-a-number"),
    ("x", None, "invalid", "not-a-number"),
]


@pytest.mark.parametrize("value, expected, status, note", NUMBER_CASES)
def test_parse_number(value, expected, status, note):
    assert parse_number(value) == ParsedNumber(expected, status, note)


def test_parse_number_zero_is_a_value_not_blank():
    assert parse_number(0).ok and parse_number(0).value == 0
    assert parse_number("0").ok
    assert not parse_number("").ok


def test_parse_number_is_frozen():
    with pytest.raises(AttributeError):
        parse_number("1").value = 2


# ---------------------------------------------------------------- yes / no

@pytest.mark.parametrize("value", ["Có", "có", "CÓ", "co", "x", "X", " x ", "1", 1, 1.0, True, "yes", "đạt",
                                   "Đạt", "dat", unicodedata.normalize("NFD", "Có")])
def test_yes(value):
    assert parse_yes_no(value) is True


@pytest.mark.parametrize("value", ["Không", "không", "khong", "KHÔNG", "0", 0, False, "no", "chưa đạt",
                                   "Chưa đạt", "Không đạt", "ko"])
def test_no(value):
    assert parse_yes_no(value) is False


@pytest.mark.parametrize("value", [None, "", "   ", "-"])
def test_yes_no_blank(value):
    assert parse_yes_no(value) is None


@pytest.mark.parametrize("value", ["có lẽ", "2", 2, "?", "abc", 0.5])
def test_yes_no_invalid(value):
    assert parse_yes_no(value) == INVALID == "invalid"


# ---------------------------------------------------------------- legacy encodings

def test_tables_are_complete_and_one_to_one():
    # 12 vowels x 6 tones, minus 6 plain ASCII vowels, plus đ and 7 capitals.
    assert len(TCVN3_TO_UNICODE) == 12 * 6 - 6 + 8
    assert len(set(TCVN3_TO_UNICODE.values())) == len(TCVN3_TO_UNICODE)
    # VNI: the same 66 toned/modified vowels in both cases, plus đ/Đ.
    assert len(VNI_TO_UNICODE) == 66 * 2 + 2
    assert len(set(VNI_TO_UNICODE.values())) == len(VNI_TO_UNICODE)
    # Every code is Latin-1, as read from a cell in a legacy font.
    assert all(ord(c) < 256 for code in (*TCVN3_TO_UNICODE, *VNI_TO_UNICODE) for c in code)


@pytest.mark.parametrize(
    "legacy, unicode_text",
    [
        ("B¶o Th¾ng", "Bảo Thắng"),
        ("M\u00adêng Kh\u00ad¬ng", "Mường Khương"),
        ("B¸t X¸t", "Bát Xát"),
        ("TriÖu S¬n", "Triệu Sơn"),
        ("Thä T©n", "Thọ Tân"),
        ("§ång Lîi", "Đồng Lợi"),
        ("D©n Lùc", "Dân Lực"),
        ("Kh«ng", "Không"),
        ("trÎ em", "trẻ em"),
        ("b¸o c¸o", "báo cáo"),
        ("thùc hiÖn", "thực hiện"),
        ("ch¨m sãc", "chăm sóc"),
        ("gi¸o dôc", "giáo dục"),
        ("ng\u00adêi", "người"),
        ("¡n ¢u £m ¤ ¥n ¦u §µ", "Ăn Âu Êm Ô Ơn Ưu Đà"),
        ("tØnh Thanh Hãa", "tỉnh Thanh Hóa"),
        ("huyÖn", "huyện"),
    ],
)
def test_tcvn3_known_words(legacy, unicode_text):
    assert convert_legacy(legacy, "tcvn3") == unicode_text
    assert encode_tcvn3(unicode_text) == legacy


@pytest.mark.parametrize(
    "legacy, unicode_text",
    [
        ("Xin chaøo", "Xin chào"),
        ("Xin chaøo caùc baïn", "Xin chào các bạn"),
        ("Trieäu Sôn", "Triệu Sơn"),
        ("Ñoàng Lôïi", "Đồng Lợi"),
        ("Thoï Taân", "Thọ Tân"),
        ("ngöôøi", "người"),
        ("Khuyeán Noâng", "Khuyến Nông"),
        ("Thaùi Hoøa", "Thái Hòa"),
        ("treû em", "trẻ em"),
        ("Vieät Nam", "Việt Nam"),
        ("ÑOÀNG LÔÏI", "ĐỒNG LỢI"),
        ("THAÙI HOØA", "THÁI HÒA"),
        ("tæ, ó, ò, î", "tỉ, ĩ, ị, ỵ"),
        ("aê aè aé aú aü aë", "ă ằ ắ ẳ ẵ ặ"),
    ],
)
def test_vni_known_words(legacy, unicode_text):
    assert convert_legacy(legacy, "vni") == unicode_text
    assert encode_vni(unicode_text) == legacy


def test_vni_reads_capital_with_small_modifier():
    assert convert_legacy("Aùo", "vni") == "Áo"


def test_every_vowel_round_trips():
    vowels = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    assert convert_legacy(encode_tcvn3(vowels), "tcvn3") == vowels
    assert convert_legacy(encode_vni(vowels), "vni") == vowels
    assert convert_legacy(encode_vni(vowels.upper()), "vni") == vowels.upper()


def test_tcvn3_has_no_toned_capitals_but_vntimeh_does():
    with pytest.raises(ValueError):
        encode_tcvn3("KẾ HOẠCH")
    with pytest.raises(ValueError):
        encode_tcvn3("Ủy ban Mặt trận Tổ quốc Việt Nam huyện")
    assert convert_legacy(encode_tcvn3("ủy ban mặt trận"), "tcvn3h") == "ỦY BAN MẶT TRẬN"
    # .VnTimeH draws the lower-case codes as capitals.
    assert convert_legacy(encode_tcvn3("kế hoạch"), "tcvn3h") == "KẾ HOẠCH"
    assert convert_legacy("céng hoµ x· héi chñ nghÜa viÖt nam", "tcvn3h") == "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def test_convert_legacy_unknown_encoding():
    with pytest.raises(ValueError):
        convert_legacy("abc", "viscii")


# .VnTime has no toned capitals, so "Ủy ban …" is written in .VnTimeH or lower-cased there.
TCVN3_NAMES = [n for n in COMMUNES_2021 + COMMUNES_2025 + OFFICES if not n.startswith("Ủ")]


@pytest.mark.parametrize("name", TCVN3_NAMES)
def test_unit_names_round_trip_through_tcvn3(name):
    legacy = encode_tcvn3(name)
    assert legacy != name
    assert detect_legacy(legacy) == "tcvn3"
    assert convert_legacy(legacy, "tcvn3") == name
    assert fix_text(legacy) == (name, "tcvn3")


@pytest.mark.parametrize("name", COMMUNES_2021 + COMMUNES_2025 + OFFICES)
def test_unit_names_round_trip_through_vni(name):
    legacy = encode_vni(name)
    assert legacy != name
    assert detect_legacy(legacy) == "vni"
    assert convert_legacy(legacy, "vni") == name
    assert fix_text(legacy) == (name, "vni")


@pytest.mark.parametrize("sentence", PLAN_SENTENCES)
def test_plan_sentences_round_trip(sentence):
    for encoding, encode in (("tcvn3", encode_tcvn3), ("vni", encode_vni)):
        legacy = encode(sentence)
        assert detect_legacy(legacy) == encoding
        assert fix_text(legacy) == (sentence, encoding)


@pytest.mark.parametrize("text", COMMUNES_2021 + COMMUNES_2025 + OFFICES + PLAN_SENTENCES)
def test_no_false_positive_on_unicode_vietnamese(text):
    assert detect_legacy(text) is None
    assert detect_legacy(unicodedata.normalize("NFD", text)) is None
    assert fix_text(text) == (text, None)


@pytest.mark.parametrize("text", ENGLISH + ["", "12345", "Thai Hoa", "Xa Dan Luc"])
def test_no_false_positive_on_english_and_ascii(text):
    assert detect_legacy(text) is None


def test_latin1_only_vietnamese_is_not_mistaken_for_legacy():
    # Every letter here is Latin-1, so it could be read as legacy codes.
    for text in ["Thái Hòa", "THÁI HÒA", "Hoà Bình", "Tân Ninh", "Công an", "Tân Hòa", "chào"]:
        assert detect_legacy(text) is None, text


def test_is_vietnamese_syllable():
    for word in ["người", "khuyến", "nghiêng", "quốc", "giữa", "huỳnh", "khoẻ", "Đoàn", "ngoài", "oanh"]:
        assert is_vietnamese_syllable(word), word
    for word in ["chaưo", "traỏn", "grỹòe", "hello", "müller", "xyz", "xaõ", "ngưòi"]:
        assert not is_vietnamese_syllable(word), word


@pytest.mark.parametrize(
    "font, encoding",
    [(".VnTime", "tcvn3"), (".VnArial", "tcvn3"), (".VnTimeH", "tcvn3h"), (".VnArialH", "tcvn3h"),
     ("VNI-Times", "vni"), ("VNI-Helve", "vni"), ("Times New Roman", None), ("Arial", None), (None, None)],
)
def test_legacy_encoding_for_font(font, encoding):
    assert legacy_encoding_for_font(font) == encoding


def test_single_word_tie_is_not_guessed_but_context_decides():
    # "Chæ" is VNI "Chỉ" and TCVN3 "Chổ": both readings are Vietnamese.
    assert convert_legacy("Chæ", "vni") == "Chỉ"
    assert convert_legacy("Chæ", "tcvn3") == "Chổ"
    assert detect_legacy("Chæ") is None
    assert detect_legacy("Chæ tieâu 1: Tyû leä xaõ") == "vni"
    assert fix_text("Chæ tieâu 1: Tyû leä xaõ") == ("Chỉ tiêu 1: Tỷ lệ xã", "vni")


def test_a_value_never_looks_equal_to_the_target_it_misses():
    from pipeline.reporting.words import table_value
    from pipeline.base.text import vn_number_apart

    assert vn_number_apart(99.496, 99.5) == "99,496"
    assert vn_number_apart(99.5, 99.5) == "99,5"
    assert vn_number_apart(96.2, 95) == "96,2"
    assert table_value(99.496, "percentage", target=99.5) == "99,496"

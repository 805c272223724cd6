"""Vietnamese text and number conventions: normalisation, name keys, numbers typed into
Excel, yes/no answers, and legacy (TCVN3/ABC, VNI) encodings still found in government files."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

# --------------------------------------------------------------------------- normalisation

# Characters that look like a space (or nothing) but break matching and number parsing.
# Characters XML 1.0, so an .xlsx or a .docx, cannot hold: C0 controls except tab, line feed
# and carriage return; lone surrogates; U+FFFE and U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What does not print on one line: every C0 and C1 control as well.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ENTITY = re.compile(r"&(?:#(x?)([0-9A-Fa-f]{1,8})|(lt|gt|amp|quot|apos));")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def xml_text(raw: bytes, ooxml_escapes: bool = False) -> str:
    """The text of an XML element or attribute as bytes: the five predefined entities and
    character references resolved (an invalid reference becomes U+FFFD); with `ooxml_escapes`,
    Excel's _xHHHH_ escapes of cell text as well."""
    text = raw.decode("utf-8", "replace")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    if ooxml_escapes and "_x" in text:
        text = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _entity(m: re.Match) -> str:
    if m.group(3):
        return _PREDEFINED[m.group(3)]
    code = int(m.group(2), 16 if m.group(1) else 10)
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd"


def col_index(letters: str) -> int:
    """The 0-based column of a spreadsheet column's letters ("A" is 0, "AA" is 26)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(index: int) -> str:
    """The letters of a 0-based spreadsheet column."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_SPACE_LIKE = "\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000\u200b"
# Joiners and the byte-order mark carry no meaning inside a word: drop them.
_INVISIBLE = "\u200c\u200d\u2060\ufeff"
_SPACE_TABLE = {ord(c): " " for c in _SPACE_LIKE} | {ord(c): None for c in _INVISIBLE}


def nfc(s: str, keep_newlines: bool = False) -> str:
    """Unicode NFC with odd spaces made plain, runs of whitespace collapsed, ends stripped.
    With keep_newlines, line breaks survive (one per break) for multi-line comments."""
    s = unicodedata.normalize("NFC", str(s)).translate(_SPACE_TABLE)
    if keep_newlines:
        lines = (re.sub(r"[^\S\n]+", " ", line).strip() for line in s.replace("\r\n", "\n").split("\n"))
        return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip("\n")
    return re.sub(r"\s+", " ", s).strip()


def strip_accents(s: str) -> str:
    """ASCII-fold Vietnamese: "Đồng Lợi" -> "Dong Loi"."""
    s = str(s).replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def slugify(s: str, max_length: int = 60) -> str:
    """A file-name-safe slug of [a-z0-9-]: "Xã Dân Lực" -> "xa-dan-luc"; never empty."""
    slug = re.sub(r"[^a-z0-9]+", "-", strip_accents(nfc(s)).lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "x"


# --------------------------------------------------------------------------- name keys

# Tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters; the other marks
# (breve, circumflex, horn) belong to the letter itself.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def _split_tones(word: str) -> list[list[str]]:
    """[[letter with its non-tone marks, tone mark or ""], ...] in NFD terms."""
    groups: list[list[str]] = []
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.combining(ch) and groups:
            if ch in _TONES:
                groups[-1][1] = ch
            else:
                groups[-1][0] += ch
        else:
            groups.append([ch, ""])
    return groups


@functools.lru_cache(maxsize=1 << 16)  # syllables repeat across a roster's names
def unify_tone_placement(word: str) -> str:
    """Put the tone of a final "oa", "oe", "uy" on the second vowel (the "new" style), so that
    "hòa"/"hoà", "khỏe"/"khoẻ", "thủy"/"thuỷ" give one spelling. Other words are unchanged:
    with a final consonant ("hoàng", "thuyền") both styles already agree."""
    groups = _split_tones(word)
    if len(groups) >= 2:
        pair = (groups[-2][0] + groups[-1][0]).lower()
        if pair in ("oa", "oe", "uy") and groups[-2][1] and not groups[-1][1]:
            groups[-1][1], groups[-2][1] = groups[-2][1], ""
    return unicodedata.normalize("NFC", "".join(base + tone for base, tone in groups))


def _words_key(s: str) -> str:
    s = nfc(s).lower()
    s = re.sub(r"[^\w\s]|_", " ", s)
    return " ".join(unify_tone_placement(w) for w in s.split())


# Unit-type prefixes removed from names before matching; longest first, removed once.
_PREFIXES = sorted(
    {
        _words_key(p)
        for p in (
            "ủy ban nhân dân xã", "ủy ban nhân dân thị trấn", "ủy ban nhân dân phường", "ủy ban nhân dân",
            "ubnd xã", "ubnd thị trấn", "ubnd phường", "ubnd tt", "ubnd",
            "thị trấn", "xã", "phường", "tt",
            "ubnd xa", "ubnd thi tran", "ubnd phuong", "thi tran", "xa", "phuong",
        )
    },
    key=len,
    reverse=True,
)


def canonical_name(s: str) -> str:
    """Key for matching unit names: NFC, lower case, one tone placement, no punctuation,
    single spaces, leading unit type removed. Diacritics stay ("Thọ Tân" != "Thọ Tần").
    "UBND xã Thái Hoà" -> "thái hoà"; "TT. Nưa" -> "nưa"."""
    key = _words_key(s)
    for prefix in _PREFIXES:
        if key.startswith(prefix + " ") and len(key) > len(prefix) + 1:
            return key[len(prefix) + 1:]
    return key


# --------------------------------------------------------------------------- numbers

NumberStatus = Literal["blank", "ok", "ambiguous", "invalid"]


@dataclass(frozen=True)
class ParsedNumber:
    """A number read from a cell. value is None unless status is "ok".

    status: "blank" (nothing entered), "ok", "ambiguous" (number-like, but the separators
    allow two readings: flag it, never guess), "invalid" (not a number).
    note: "" for a real number cell; "text-number" for a number typed as text;
    "percent-sign" for text with a "%" (value is the number before the sign: "95%" -> 95);
    for ambiguous/invalid a short English reason ("grouping-or-decimal", "separators",
    "boolean", "not-a-number", "not-finite")."""

    value: float | None
    status: NumberStatus
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_BLANK_TEXTS = frozenset({"", "-", "–", "—"})
_NUMBER_CHARS = re.compile(r"[0-9.,]+")
# Patterns on the unsigned body, spaces already removed (see _parse_body).
_INT = re.compile(r"\d+")
_DOT_GROUPED = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")          # 1.234 / 1.234.567
_DOT_GROUPED_DEC = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+,\d+")  # 1.234.567,5
_COMMA_GROUPED = re.compile(r"[1-9]\d{0,2}(?:,\d{3}){2,}")      # 1,234,567 (a decimal has one comma)
_COMMA_GROUPED_DEC = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+\.\d+")  # 1,234.5
_ONE_COMMA_THREE = re.compile(r"[1-9]\d{0,2},\d{3}")            # 1,234: grouping or decimal?
_DEC_COMMA = re.compile(r"\d*,\d+")                             # 2,5 / ,5 / 1234,567
_DEC_DOT = re.compile(r"\d*\.\d+")                              # 2.5 / 1.2345 / 0.500
_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?[eE][+-]?\d+")        # 1E+05 as Excel shows it
_SPACE_GROUPED = re.compile(r"[1-9]\d{0,2}(?: \d{3})+(?:[.,]\d+)?")  # 1 234 / 12 345,5


def _parse_body(body: str) -> ParsedNumber | float:
    """Unsigned text -> float, or a ParsedNumber saying why not."""
    if " " in body:
        if not _SPACE_GROUPED.fullmatch(body):
            return ParsedNumber(None, "invalid", "not-a-number")
        body = body.replace(" ", "")
        if "," in body:
            body = body.replace(",", ".")
        return float(body)
    if _INT.fullmatch(body):
        return float(body)
    if _DOT_GROUPED.fullmatch(body):
        return float(body.replace(".", ""))
    if _DOT_GROUPED_DEC.fullmatch(body):
        return float(body.replace(".", "").replace(",", "."))
    if _COMMA_GROUPED.fullmatch(body):
        return float(body.replace(",", ""))
    if _COMMA_GROUPED_DEC.fullmatch(body):
        return float(body.replace(",", ""))
    if _ONE_COMMA_THREE.fullmatch(body):
        return ParsedNumber(None, "ambiguous", "grouping-or-decimal")
    if _DEC_COMMA.fullmatch(body):
        return float(body.replace(",", "."))
    if _DEC_DOT.fullmatch(body):
        return float(body)
    if _SCIENTIFIC.fullmatch(body):
        return float(body.replace(",", "."))
    if _NUMBER_CHARS.fullmatch(body) and re.search(r"\d", body):
        return ParsedNumber(None, "ambiguous", "separators")
    return ParsedNumber(None, "invalid", "not-a-number")


def parse_number(value: object) -> ParsedNumber:
    """Read what people type into a number cell. Vietnamese convention first ("1.234.567,5"),
    but "2.5", "2,5", "95%", "1 234", numbers stored as text are all accepted; "1,234" is
    ambiguous (thousands or decimal?) and flagged, never guessed. A 0 is a value, not blank."""
    if value is None:
        return ParsedNumber(None, "blank")
    if isinstance(value, bool):  # bool is an int subclass: a TRUE cell is not a count
        return ParsedNumber(None, "invalid", "boolean")
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isnan(number):  # some readers give NaN for an empty cell
            return ParsedNumber(None, "blank")
        if math.isinf(number):
            return ParsedNumber(None, "invalid", "not-finite")
        return ParsedNumber(number, "ok")
    if not isinstance(value, str):
        return ParsedNumber(None, "invalid", "not-a-number")

    text = nfc(value)
    if text in _BLANK_TEXTS:
        return ParsedNumber(None, "blank")
    note = "text-number"
    if text.startswith("'"):  # Excel's "store as text" prefix, when it leaks through
        text = text[1:].strip()
    if text.endswith("%"):
        text, note = text[:-1].rstrip(), "percent-sign"
    sign = 1.0
    if text[:1] in ("+", "-", "\u2212"):
        sign = -1.0 if text[0] != "+" else 1.0
        text = text[1:].lstrip()
    if not text:
        return ParsedNumber(None, "invalid", "not-a-number")
    parsed = _parse_body(text)
    if isinstance(parsed, ParsedNumber):
        return parsed
    return ParsedNumber(sign * parsed + 0.0, "ok", note)  # + 0.0 turns -0.0 into 0.0


# --------------------------------------------------------------------------- yes / no

INVALID: Literal["invalid"] = "invalid"
YesNo = bool | None | Literal["invalid"]

_YES = frozenset({"có", "co", "x", "1", "yes", "y", "đạt", "dat", "true", "✓", "✔", "đã có", "da co"})
_NO = frozenset({"không", "khong", "ko", "0", "no", "n", "chưa đạt", "chua dat", "không đạt", "khong dat",
                 "false", "chưa", "chua", "chưa có", "chua co"})


def parse_yes_no(value: object) -> YesNo:
    """True for "Có", "x", "1", "Đạt"…; False for "Không", "0", "Chưa đạt"…; None for blank;
    the string "invalid" (INVALID) for anything else. Compare with `is True` / `is False`:
    "invalid" is truthy."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        return True if value == 1 else False if value == 0 else INVALID
    text = nfc(str(value)).lower().rstrip(".")
    if text in _BLANK_TEXTS:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    return INVALID


# --------------------------------------------------------------------------- legacy encodings

# Vietnamese vowels in TCVN3 (ABC, fonts ".VnTime") and VNI-Windows, each row:
# no tone, huyền, sắc, hỏi, ngã, nặng. Both fonts put the Vietnamese glyphs on Latin-1
# code points, so the text arrives as those Latin-1 characters.
_TONE_ORDER = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_TCVN3_ROWS = {
    "a": "aµ¸¶·¹", "ă": "¨»¾¼½Æ", "â": "©ÇÊÈÉË",
    "e": "eÌÐÎÏÑ", "ê": "ªÒÕÓÔÖ", "i": "i×ÝØÜÞ",
    "o": "oßãáâä", "ô": "«åèæçé", "ơ": "¬êíëìî",
    "u": "uïóñòô", "ư": "\u00adõøö÷ù", "y": "yúýûüþ",
}
# TCVN3 has capitals only for the untoned letters; capitals with tones need the ".VnTimeH"
# fonts, which draw the lower-case codes as capitals (encoding "tcvn3h").
_TCVN3_EXTRA = {"®": "đ", "¡": "Ă", "¢": "Â", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư", "§": "Đ"}

_VNI_ROWS = {
    "a": ("a", "aø", "aù", "aû", "aõ", "aï"), "ă": ("aê", "aè", "aé", "aú", "aü", "aë"),
    "â": ("aâ", "aà", "aá", "aå", "aã", "aä"),
    "e": ("e", "eø", "eù", "eû", "eõ", "eï"), "ê": ("eâ", "eà", "eá", "eå", "eã", "eä"),
    "i": ("i", "ì", "í", "æ", "ó", "ò"),
    "o": ("o", "oø", "où", "oû", "oõ", "oï"), "ô": ("oâ", "oà", "oá", "oå", "oã", "oä"),
    "ơ": ("ô", "ôø", "ôù", "ôû", "ôõ", "ôï"),
    "u": ("u", "uø", "uù", "uû", "uõ", "uï"), "ư": ("ö", "öø", "öù", "öû", "öõ", "öï"),
    "y": ("y", "yø", "yù", "yû", "yõ", "î"),
}


def _with_tone(vowel: str, tone: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", vowel) + tone)


def _build_tcvn3() -> dict[str, str]:
    table = dict(_TCVN3_EXTRA)
    for vowel, codes in _TCVN3_ROWS.items():
        for code, tone in zip(codes, _TONE_ORDER):
            if code != vowel:
                table[code] = _with_tone(vowel, tone)
    return table


def _build_vni() -> dict[str, str]:
    table = {"ñ": "đ", "Ñ": "Đ"}
    for vowel, codes in _VNI_ROWS.items():
        for code, tone in zip(codes, _TONE_ORDER):
            uni = _with_tone(vowel, tone)
            if code != vowel:
                table[code] = uni
                table[code.upper()] = uni.upper()
    return table


TCVN3_TO_UNICODE: dict[str, str] = _build_tcvn3()
VNI_TO_UNICODE: dict[str, str] = _build_vni()  # one- and two-character sequences
_UNICODE_TO_TCVN3 = {u: c for c, u in TCVN3_TO_UNICODE.items()}
_UNICODE_TO_VNI = {u: c for c, u in VNI_TO_UNICODE.items()}
_VNI_PAIRS = {c: u for c, u in VNI_TO_UNICODE.items() if len(c) == 2}
_VNI_SINGLES = {c: u for c, u in VNI_TO_UNICODE.items() if len(c) == 1}
# Capital letter + small modifier ("Aù") occurs when people retype in VNI: read it too.
for _code, _uni in list(_VNI_PAIRS.items()):
    if _code[0].isupper() and _code[1].isupper():
        _VNI_PAIRS.setdefault(_code[0] + _code[1].lower(), _uni)

LEGACY_ENCODINGS = ("tcvn3", "tcvn3h", "vni")


def _decode_tcvn3(s: str) -> str:
    return "".join(TCVN3_TO_UNICODE.get(c, c) for c in s)


def _decode_vni(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        pair = s[i:i + 2]
        if pair in _VNI_PAIRS:
            out.append(_VNI_PAIRS[pair])
            i += 2
        else:
            out.append(_VNI_SINGLES.get(s[i], s[i]))
            i += 1
    return "".join(out)


def convert_legacy(s: str, encoding: str) -> str:
    """Convert legacy-font text to Unicode NFC. encoding: "tcvn3" (.VnTime and other ABC
    fonts), "tcvn3h" (.VnTimeH capitals fonts: same codes, drawn as capitals) or "vni"."""
    if encoding == "tcvn3":
        out = _decode_tcvn3(s)
    elif encoding == "tcvn3h":
        out = _decode_tcvn3(s).upper()
    elif encoding == "vni":
        out = _decode_vni(s)
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}; expected one of {LEGACY_ENCODINGS}")
    return unicodedata.normalize("NFC", out)


def encode_tcvn3(s: str) -> str:
    """Unicode -> TCVN3 (.VnTime). Capitals with a tone do not exist there: ValueError.
    Used to build test fixtures and to read back what a legacy file would contain."""
    out = []
    for c in unicodedata.normalize("NFC", s):
        if c in _UNICODE_TO_TCVN3:
            out.append(_UNICODE_TO_TCVN3[c])
        elif c.lower() in _UNICODE_TO_TCVN3 and not c.isascii():
            raise ValueError(f"{c!r} has no TCVN3 code in .VnTime (capitals with tones need .VnTimeH)")
        else:
            out.append(c)
    return "".join(out)


def encode_vni(s: str) -> str:
    """Unicode -> VNI-Windows (one or two characters per letter)."""
    return "".join(_UNICODE_TO_VNI.get(c, c) for c in unicodedata.normalize("NFC", s))


# Vowel clusters of Vietnamese syllables (without tone). Clusters ending in a semivowel
# ("ao", "ươi") take no final consonant. A loose "any 1-3 vowels" would accept
# mis-decodings such as "chaưo" or "traỏn".
_OPEN_NUCLEI = (
    "iêu yêu oai oay oao oeo uây uôi uya uyu ươi ươu "
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu"
).split()
_NUCLEI = "uyê iê yê oa oă oe uâ uê uô uơ uy ươ a ă â e ê i o ô ơ u ư y".split()
_SYLLABLE = re.compile(
    r"(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdđghklmnprstvx])?"
    r"(?:(?P<open>" + "|".join(_OPEN_NUCLEI) + r")|(?:" + "|".join(_NUCLEI) + r")(?:ch|nh|ng|[cmnpt])?)"
)
# Letters only Vietnamese Unicode text has (outside Latin-1), and combining marks.
_UNICODE_VIETNAMESE = re.compile(r"[ăĂđĐĩĨũŨơƠưƯ\u1ea0-\u1ef9\u0300-\u036f]")
_TOKEN_SPLIT = re.compile(r"[^A-Za-z\u00a1-\u00ff]+")


def is_vietnamese_syllable(word: str) -> bool:
    """Whether a word has the shape of one Vietnamese syllable (onset, vowels, final, at
    most one tone). Used to tell a legacy-encoded word from an accidental Latin-1 one."""
    groups = _split_tones(word.lower())
    toned = [i for i, (_, tone) in enumerate(groups) if tone]
    if len(toned) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(base for base, _ in groups))
    match = _SYLLABLE.fullmatch(bare)
    if match is None:
        return False
    # The closing semivowel of "ao", "ai", "ươi"… never carries the tone ("xão", not "xaõ").
    return not (match.group("open") and toned and toned[0] == match.end("open") - 1)


def detect_legacy(s: str) -> str | None:
    """"tcvn3", "vni" or None. A word votes for an encoding when it is not already a
    Vietnamese syllable but becomes one after decoding; the encoding needs more votes for
    than against. Text with Unicode-only Vietnamese letters, plain ASCII or ordinary
    Unicode names ("Thái Hòa") gives None, and so does a tie: a single word such as
    "Chæ" reads as VNI "Chỉ" and as TCVN3 "Chổ", so detect on as much text as you have
    (e.g. all text cells of a sheet joined by spaces). Cannot tell .VnTimeH from .VnTime:
    see legacy_encoding_for_font."""
    if not s or s.isascii() or _UNICODE_VIETNAMESE.search(s):
        return None
    votes = {"tcvn3": 0, "vni": 0}
    decoders = {"tcvn3": _decode_tcvn3, "vni": _decode_vni}
    for token in _TOKEN_SPLIT.split(s):
        # One-character tokens ("©", "·", "½") are too weak to vote.
        if len(token) < 2 or token.isascii() or is_vietnamese_syllable(token):
            continue
        for name, decode in decoders.items():
            decoded = decode(token)
            votes[name] += 1 if decoded != token and is_vietnamese_syllable(decoded) else -1
    best = max(votes, key=votes.__getitem__)
    if votes[best] <= 0 or list(votes.values()).count(votes[best]) > 1:
        return None  # no evidence, or both readings fit equally: do not guess
    return best


def legacy_encoding_for_font(font_name: str | None) -> str | None:
    """The legacy encoding a cell's font implies: ".VnTime" -> "tcvn3", ".VnTimeH" ->
    "tcvn3h", "VNI-Times" -> "vni", any Unicode font -> None."""
    name = (font_name or "").strip()
    if name.lower().startswith(".vn"):
        return "tcvn3h" if name.endswith("H") else "tcvn3"
    if name.lower().startswith("vni-") or name.lower().startswith("vni "):
        return "vni"
    return None


def fix_text(s: str, keep_newlines: bool = False) -> tuple[str, str | None]:
    """(clean NFC text, legacy encoding found or None): legacy text is converted first."""
    encoding = detect_legacy(s)
    if encoding is not None:
        s = convert_legacy(s, encoding)
    return nfc(s, keep_newlines=keep_newlines), encoding


# --------------------------------------------------------------------------- writing numbers

def round_half_away(x: float, decimals: int) -> Decimal:
    """x rounded once at `decimals`, half away from zero, from its shortest decimal form:
    2.675 -> 2.68 and -0.125 -> -0.13 (float formatting would give 2.67 and -0.12)."""
    q = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP)


def vn_number(x: float | None, decimals: int | None = None) -> str:
    """1234567.5 -> '1.234.567,5' (Vietnamese grouping and decimal comma), rounded once,
    half away from zero; trailing zeros dropped."""
    if x is None:
        return ""
    if decimals is None:
        decimals = 0 if float(x).is_integer() else 2
    d = round_half_away(x, decimals)
    if d == 0:
        d = abs(d)  # no "-0"
    s = f"{d:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")
    if "," in s:
        s = s.rstrip("0").rstrip(",")
    return s


def vn_number_apart(x: float, other, decimals: int = 2, limit: int = 6) -> str:
    """x with enough decimals never to read the same as `other` (one number, or several) when
    it differs: 99.49652 beside a target of 99.5 is "99,497", not "99,5"."""
    return vn_number(x, decimals_apart(x, other, decimals, limit))


def decimals_apart(x: float, other, decimals: int = 2, limit: int = 6) -> int:
    """The fewest decimals, from `decimals` up to `limit`, at which x reads differently from
    each number in `other` (one number or several; what is not a number is ignored) that
    it differs from."""
    others = other if isinstance(other, (tuple, list)) else (other,)
    others = [o for o in others if isinstance(o, (int, float)) and not isinstance(o, bool) and o != x]
    while decimals < limit and any(vn_number(x, decimals) == vn_number(o, decimals) for o in others):
        decimals += 1
    return decimals

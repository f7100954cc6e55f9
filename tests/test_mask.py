"""dashboard.mask: phone and ID numbers inside free text, names, phone fields.

What must be masked is masked (138****1234, 350902********1234), and numbers
that are not personal data (amounts, dates, order numbers) are left alone.
"""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import mask
from dashboard.writers.world import GIVEN_CHARS, SURNAMES


@pytest.mark.parametrize(
    "raw, shown",
    [
        # mobiles, 11 digits, with and without separators
        ("13812341234", "138****1234"),
        ("联系电话19918459245。", "联系电话199****9245。"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("电话：15012345678,请回电", "电话：150****5678,请回电"),
        # landlines written with an area code and a dash
        ("0593-1234567", "0593-***4567"),
        ("021-12345678", "021-****5678"),
        ("座机0593-7654321转分机", "座机0593-***4321转分机"),
        # resident ID numbers: 18 digits (check character may be X/x), old 15-digit form
        ("350902199001011234", "350902********1234"),
        ("35090219900101123X", "350902********123X"),
        ("身份证号35090219900101123x。", "身份证号350902********123x。"),
        ("350902900101123", "350902******123"),
    ],
)
def test_text_masks_phones_and_ids(raw, shown):
    assert mask.text(raw) == shown


def test_text_with_several_numbers_masks_each():
    raw = "当事人身份证号350921195108037029，联系电话19918459245；其子电话138-0000-1111，座机0593-2233445。"
    assert mask.text(raw) == "当事人身份证号350921********7029，联系电话199****9245；其子电话138****1111，座机0593-***3445。"
    # nothing of the original numbers survives beyond the kept prefix/suffix
    for secret in ("19510803", "1845", "0000", "223"):
        assert secret not in mask.text(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "涉案金额123456元",  # a 6-digit amount
        "20261120",  # a date written as 8 digits
        "于20261120晚发生",
        "2026-11-20 14:30",
        "2026年11月20日",
        "订单号202611201234",  # 12 digits: not a phone
        "1381234123",  # 10 digits: too short for a mobile
        "138123412345",  # 12 digits: too long for a mobile
        "12812341234",  # 11 digits but not a mobile prefix (1[3-9])
        "编号1234567890123456789",  # 19 digits: not an ID
        "塔山北路78号3单元502室",
        "",
    ],
)
def test_text_leaves_other_numbers_alone(raw):
    assert mask.text(raw) == raw


def test_text_none_is_empty():
    assert mask.text(None) == ""


@pytest.mark.parametrize(
    "raw",
    ["05931234567", "0593 1234567", "(0593)1234567"],
    ids=["no-separator", "space", "parentheses"],
)
def test_landlines_without_dash_are_masked(raw):
    out = mask.text(raw)
    assert "1234567" not in out and out.endswith("***4567")


@pytest.mark.parametrize("raw, shown", [("8613812341234", "86138****1234"), ("+86 138 1234 1234", "+86 138****1234")])
def test_mobiles_with_country_code_are_masked(raw, shown):
    assert mask.text(raw) == shown


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("张", "张"),  # a single character: nothing after the surname to hide
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        (" 李四 ", "李*"),
        ("指挥室 游军金", "指挥室 游**"),  # actor "unit name": the person only
        ("南岸社区民警 林清俊", "南岸社区民警 林**"),
        ("", ""),
        (None, ""),
    ],
)
def test_name(raw, shown):
    assert mask.name(raw) == shown


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("13812341234", "138****1234"),
        ("138-1234-1234", "138****1234"),
        ("0593-1234567", "*******4567"),
        ("123", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_field(raw, shown):
    assert mask.phone(raw) == shown


# --- real-world spellings (issue 10) ------------------------------------------------------------

ZW = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM
# Separators between digits: spaces (ASCII, ideographic, no-break, narrow no-break), dots, dashes.
SEPS = [" ", "\u3000", "\u00a0", "\u202f", ".", "．", "·", "-", "‐", "‒", "–", "—", "―", "－"]


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("电话１３８１２３４５６７８请回", "电话138****5678请回"),  # full-width digits
        ("138.1234.5678", "138****5678"),
        ("138\u30001234\u30005678", "138****5678"),
        ("138\u00a01234\u00a05678", "138****5678"),
        ("138\u200b1234\u200d5678", "138****5678"),
        ("1\u200b3\u20608\ufeff12345678", "138****5678"),
        ("1 3 8 1 2 3 4 5 6 7 8", "138****5678"),
        ("138 - 1234 - 5678", "138****5678"),
        ("138—1234—5678", "138****5678"),
        ("1３８－１２３４－５６７８", "138****5678"),
        ("①③⑧①②③④⑤⑥⑦⑧", "138****5678"),
        ("013812345678", "0138****5678"),  # a mobile dialled with the trunk 0
        ("0086 13812345678", "0086 138****5678"),
        ("编号1700 138 1234 5678", "编号1700 138****5678"),  # a number before is not glued on
        ("13812345678 2人", "138****5678 2人"),
        ("0593 123 4567", "0593 ***4567"),
        ("（0593）1234567", "（0593）***4567"),
        ("0 5 9 3 1 2 3 4 5 6 7", "0593 ***4567"),
        ("350902 19900101 1234", "350902********1234"),
        ("350902-1990-0101-123X", "350902********123X"),
        ("３５０９０２１９９００１０１１２３Ｘ", "350902********123X"),
        ("3 5 0 9 0 2 1 9 9 0 0 1 0 1 1 2 3 x", "350902********123x"),
        ("350902 900101 123", "350902******123"),
        # once a number is masked the output is the normalised text: other full-width digits turn ASCII
        ("３号楼，电话１３８１２３４５６７８", "3号楼，电话138****5678"),
    ],
)
def test_text_masks_real_world_spellings(raw, shown):
    assert mask.text(raw) == shown


@pytest.mark.parametrize(
    "raw",
    [
        "2026.11.20 14:30 金额１２３元",  # full-width amount stays as typed when nothing is masked
        "2026－11－20\u300014:30",
        "2026 11 20 14 30",
        "面积13.5平方米，共2栋",
        "订单号２０２６１１２０１２３４",
        "1 3 8 1 2 3 4 1 2 3",  # 10 spaced digits
        "没有数字的一段文字\u200b",
    ],
)
def test_text_leaves_other_spelled_numbers_alone(raw):
    assert mask.text(raw) == raw


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("张 三", "张*"),
        ("欧阳 娜娜", "欧***"),
        ("欧阳\u3000娜娜", "欧***"),
        ("张\u200b三", "张*"),
        ("张三1", "张*1"),  # a number after the name is not part of it
        ("李四 2号", "李* 2号"),
        ("张三13812345678", "张*138****5678"),
        ("民警 林 清俊", "民警 林**"),
        ("南岸社区 民警 林清俊", "南岸社区 民警 林**"),
        ("东侨城市管理局 陈科长", "东侨城市管理局 陈**"),
        ("司法所 李四", "司法所 李*"),
        ("指挥室 张", "指***"),  # one character left is no person: nothing is shown whole
        ("王所 长", "王**"),
        ("阿依古丽·买买提", "阿******"),
        ("ｚｈａｎｇ ｓａｎ", "z*******"),
    ],
)
def test_name_real_world_spellings(raw, shown):
    assert mask.name(raw) == shown


DEPARTMENTS = frozenset({"东侨物业服务中心", "城管", "国网东侨供电公司"})  # as the departments table names them


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("东侨物业服务中心", "东侨物业服务中心"),  # a department is a unit: not 东*******
        ("国网东侨供电公司", "国网东侨供电公司"),
        ("城管 李四", "城管 李*"),  # "城管" ends in no unit word: without the list 城***
        ("城管李四", "城管 李*"),
        ("城管 张", "城管 *"),  # one character after the unit: hidden, not shown whole
        ("城管\u200b 欧阳娜娜", "城管 欧***"),
        ("东侨城市管理局 陈科长", "东侨城市管理局 陈**"),  # not in the list: the unit word rule, as before
        ("张三", "张*"),
        ("指挥室 游军金", "指挥室 游**"),
        ("", ""),
        (None, ""),
    ],
)
def test_known_departments_are_not_persons(raw, shown):
    assert mask.name(raw, DEPARTMENTS) == shown
    if raw and raw.startswith(("东侨物业", "国网")):
        assert mask.name(raw) != shown  # without the list they were masked as names


@pytest.mark.parametrize(
    "raw, unit",
    [("司法所 李四", "司法所"), ("南岸社区民警 林清俊", "南岸社区民警"), ("欧阳 娜娜", ""), ("律师 王五", "律师"), ("张三", ""), (None, "")],
)
def test_unit(raw, unit):
    assert mask.unit(raw) == unit


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("１３８１２３４５６７８", "138****5678"),
        ("138\u200b1234\u200b5678", "138****5678"),
        ("+86 138-1234-1234", "138****1234"),
        ("013812341234", "138****1234"),
        ("０５９３－１２３４５６７", "*******4567"),
    ],
)
def test_phone_field_spellings(raw, shown):
    assert mask.phone(raw) == shown


def test_digit_like_characters_are_all_known():
    """mask's hand-kept list of characters that stand for digits matches this Python's Unicode."""

    missing = []
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        if unicodedata.digit(c, None) is None and not unicodedata.decomposition(c):
            continue
        n = unicodedata.normalize("NFKC", c)
        stands_for_digits = (n.isascii() and n.isdigit() and not c.isascii()) or unicodedata.digit(c, None) is not None
        if stands_for_digits and not mask._DIGITLIKE.fullmatch(c):
            missing.append(f"U+{cp:04X}")
        if mask._DIGITLIKE.fullmatch(c) and not re.fullmatch("[0-9]+", mask._ascii_digits(c)):
            missing.append(f"U+{cp:04X} maps to {mask._ascii_digits(c)!r}")
        if mask._DIGITLIKE.fullmatch(c) and len(mask._ascii_digits(c)) > 1 and not mask._TWO_DIGITS.fullmatch(c):
            missing.append(f"U+{cp:04X} gives two digits")  # the fast path counts it as one
    assert not missing


# --- properties ---------------------------------------------------------------------------------



PROPS = settings(max_examples=300, deadline=None)
digit = st.sampled_from("0123456789")
# Chinese around the numbers: ideographs and punctuation, no digits
around = st.text(alphabet=st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), st.sampled_from("，。：；！？、（）")), max_size=8)


def norm(s: str) -> str:
    """The output as a reader would take it: NFKC, zero-width characters dropped."""
    return "".join(c for c in unicodedata.normalize("NFKC", s) if c not in ZW)


def digits_of(s: str, extra: str = "") -> str:
    return "".join(c for c in norm(s) if c.isascii() and (c.isdigit() or c in extra))


@st.composite
def spelled(draw, groups: list[str]) -> str:
    """The number of ``groups`` as someone might type it: each digit perhaps full-width,
    no separators, one separator between groups or one between every digit, zero-width
    characters anywhere."""
    flat = "".join(groups)
    wide = draw(st.integers(0, 2 ** len(flat) - 1))  # bit i: digit i full-width
    chars = [({"X": "Ｘ", "x": "ｘ"}.get(c) or chr(ord(c) + 0xFEE0)) if wide >> i & 1 else c for i, c in enumerate(flat)]
    style = draw(st.sampled_from(["plain", "groups", "digits"]))
    ends = {sum(len(g) for g in groups[: i + 1]) for i in range(len(groups) - 1)}
    gaps = [i for i in range(1, len(flat)) if style == "digits" or (style == "groups" and i in ends)]
    seps = draw(st.lists(st.sampled_from(SEPS), min_size=len(gaps), max_size=len(gaps)))
    for i, sep in sorted(zip(gaps, seps), reverse=True):
        chars.insert(i, sep)
    for at, zw in draw(st.lists(st.tuples(st.integers(0, len(chars)), st.sampled_from(ZW)), max_size=4)):
        chars.insert(at, zw)
    return "".join(chars)


mobiles = st.tuples(st.sampled_from("3456789"), st.text(digit, min_size=9, max_size=9)).map(lambda t: "1" + t[0] + t[1])


@PROPS
@given(st.data(), mobiles, around, around, st.sampled_from(["", "+86", "+86 ", "86", "0086-", "0"]))
def test_property_mobiles_never_leak(data, number, before, after, cc):
    raw = before + cc + data.draw(spelled([number[:3], number[3:7], number[7:]])) + after
    out = norm(mask.text(raw))
    # exactly the kept digits are left: none of the middle four, in any spelling
    assert digits_of(out) == digits_of(cc) + number[:3] + number[7:]
    assert f"{number[:3]}****{number[7:]}" in out


areas = st.one_of(st.just("010"), st.builds(lambda d: "02" + d, digit), st.builds(lambda a, b: "0" + a + b, st.sampled_from("3456789"), st.text(digit, min_size=2, max_size=2)))


@PROPS
@given(st.data(), areas, st.sampled_from("23456789"), st.text(digit, min_size=7, max_size=7), around, around, st.sampled_from(["", "()", "（）"]))
def test_property_landlines_never_leak(data, area, first, rest, before, after, brackets):
    local = first + (rest if len(area) == 3 or data.draw(st.booleans()) else rest[:6])
    if brackets:
        raw = before + brackets[0] + area + brackets[1] + data.draw(spelled([local])) + after
    else:
        raw = before + data.draw(spelled([area, local])) + after
    out = norm(mask.text(raw))
    assert digits_of(out) == area + local[-4:]
    assert "*" * (len(local) - 4) + local[-4:] in out


check = st.sampled_from("0123456789Xx")
regions = st.builds(lambda a, b: a + b, st.sampled_from("12345678"), st.text(digit, min_size=5, max_size=5))


@PROPS
@given(st.data(), regions, st.text(digit, min_size=8, max_size=8), st.text(digit, min_size=3, max_size=3), check, around, around)
def test_property_id18_never_leaks(data, region, born, seq, chk, before, after):
    shape = data.draw(st.sampled_from([[region, born, seq + chk], [region, born[:4], born[4:], seq + chk]]))
    raw = before + data.draw(spelled(shape)) + after
    out = norm(mask.text(raw))
    shown = digits_of(out, "Xx")
    assert shown == region + seq + chk  # exactly the kept characters: no digit of the birth date, in any spelling
    assert f"{region}{'*' * 8}{seq}{chk}" in out


@PROPS
@given(st.data(), regions, st.text(digit, min_size=6, max_size=6), st.text(digit, min_size=3, max_size=3), around, around)
def test_property_id15_never_leaks(data, region, born, seq, before, after):
    raw = before + data.draw(spelled([region, born, seq])) + after
    out = norm(mask.text(raw))
    assert digits_of(out) == region + seq
    assert f"{region}{'*' * 6}{seq}" in out


@PROPS
@given(
    st.integers(2000, 2030), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), st.integers(0, 59),
    st.sampled_from(["-", ".", "/", "－"]), st.sampled_from([" ", "\u3000", "日"]), around,
)
def test_property_dates_and_times_left_alone(y, mo, d, h, mi, sep, gap, before):
    raw = f"{before}{y}{sep}{mo:02d}{sep}{d:02d}{gap}{h:02d}:{mi:02d}"
    assert mask.text(raw) == raw


UNIT_CHARS = set("".join(mask.UNIT_ENDINGS) + mask.UNIT_ENDINGS_1)
NAME_POOL = [c for c in dict.fromkeys(SURNAMES + GIVEN_CHARS + list("娜欧阳司马诸葛上官")) if c not in UNIT_CHARS]
UNITS = ["", "指挥室", "南岸社区民警", "民警", "网格员", "东侨城市管理局", "司法所", "人民调解员", "律师"]


@PROPS
@given(
    st.lists(st.sampled_from(NAME_POOL), min_size=2, max_size=4),
    st.lists(st.sampled_from(["", "", " ", "\u3000", "\u00a0", *ZW]), min_size=3, max_size=3),
    st.sampled_from(UNITS),
    st.sampled_from(["", "1", "2", " 2号", "１２", "\u30003"]),
)
def test_property_names_never_leak(chars, gaps, unit, tail):
    raw = chars[0] + "".join(g + c for g, c in zip(gaps, chars[1:])) + tail
    if unit:
        raw = f"{unit} {raw}"
    out = mask.name(raw)
    person = out[len(unit) + 1 :] if unit else out
    assert (out[: len(unit)] == unit) if unit else True
    assert person.startswith(chars[0] + "*" * (len(chars) - 1))
    assert not set(person[1:]) & (set(chars[1:]) - {chars[0]})  # no name character after the first
    assert norm(person[len(chars) :]) == norm(tail)  # the trailing number kept (normalised)

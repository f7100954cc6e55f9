"""dashboard.mask: phone and ID numbers inside free text, names, phone fields.

What must be masked is masked (138****1234, 350902********1234), and numbers
that are not personal data (amounts, dates, order numbers) are left alone.
"""

from __future__ import annotations

import pytest

from dashboard import mask


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

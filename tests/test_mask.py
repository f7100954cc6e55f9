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

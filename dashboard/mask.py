"""Masking of personal data on screen (names, phone numbers, ID numbers).

Everything a page shows that a person typed (report text, names, phones)
goes through here first: 13812341234 → 138****1234, an 18-digit ID number
keeps its first 6 and last 4 characters, 张三丰 → 张**.
"""

from __future__ import annotations

import re

# Mainland mobile numbers (11 digits starting 1[3-9]) and landlines such as
# 0593-1234567, not part of a longer run of digits.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[ -]?)?1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
# Area code 0xx(x), with or without a dash, space or brackets, then 7–8 digits.
_LANDLINE = re.compile(r"(?<!\d)(\(?0\d{2,3}\)?)[ -]?(\d{7,8})(?!\d)")
# 18-digit resident ID (last character may be X) and the old 15-digit form.
_ID18 = re.compile(r"(?<![\dXx])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dXx])")
_ID15 = re.compile(r"(?<!\d)(\d{6})(\d{6})(\d{3})(?!\d)")


def phone(s: str | None) -> str:
    """A phone number field: 13812341234 → 138****1234; other numbers keep their last 4 digits."""
    if not s:
        return ""
    digits = re.sub(r"\D", "", s)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def name(s: str | None) -> str:
    """A person's name: 张三 → 张*, 欧阳娜娜 → 欧***; names with a unit ("指挥室 张三") mask the person only."""
    if not s:
        return ""
    s = s.strip()
    if " " in s:
        head, _, person = s.rpartition(" ")
        return f"{head} {name(person)}"
    return s[0] + "*" * (len(s) - 1) if len(s) > 1 else s


def text(s: str | None) -> str:
    """Free text with every phone and ID number in it masked."""
    if not s:
        return ""
    s = _ID18.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(3)}", s)
    s = _ID15.sub(lambda m: f"{m.group(1)}{'*' * 6}{m.group(3)}", s)
    s = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", s)
    s = _LANDLINE.sub(lambda m: m.group(0)[: -len(m.group(2))] + "*" * (len(m.group(2)) - 4) + m.group(2)[-4:], s)
    return s

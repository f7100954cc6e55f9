"""Masking of personal data on screen (names, phone numbers, ID numbers).

Everything a page shows that a person typed (report text, names, phones)
goes through here first: 13812341234 → 138****1234, an 18-digit ID number
keeps its first 6 and last 4 characters, 张三丰 → 张**.

Numbers are found however they are spelled. Free text is first put into a
*view*: invisible characters (zero-width spaces and joiners, word joiner,
BOM, soft hyphen, bidi controls, variation selectors: Unicode's default
ignorable code points) are dropped, combining marks after a digit (keycaps,
underlines) are dropped, and every character that stands for a digit
(full-width １, other scripts' digits, ①, ², ⒈, ❶, 𝟏 …) becomes the ASCII
digit. Numbers are matched in the view, and when one is found the output is
the view with each number replaced by its masked canonical form
(138****5678, 350902********1234, 0593-***4567): no digit of the hidden part
survives in any spelling. Text with no personal number is returned as it
came (full-width amounts stay full-width).

Separators. Between the digits of a number there may be separator characters:
spaces (ASCII, tab, no-break, ideographic U+3000, the U+2000 family), dashes
(- ‐ ‑ ‒ – — ― − ﹣ －) and dots (. · ・ ． 。 ‧ ⋅). A number must be in
one of its usual shapes, so that separate numbers next to each other
("2026-11-20 14:30", "编号1700 138 1234 5678") are not glued into one:

- grouped: digit groups of the usual sizes with 1–3 separator characters (or
  none) at each group boundary: mobile 3-4-4 (so also 11, 3-8, 7-4), ID
  6-4-4-4 or 4-4-4-4-2 (so also 18, 6-8-4, 6-12, 14-4 …), old ID 6-6-3,
  landline area code (or the area code in brackets) then 7–8 digits (local
  part also 3-4 / 4-4, or spaced);
- spaced: exactly one separator character between every two digits
  ("1 3 8 1 2 3 4 5 6 7 8"), 1–3 at the group boundaries above.

A match never has a digit directly before or after it. Mobiles may carry
+86 / 0086 / 86 (kept as written) or a leading 0; landline area codes are the
real ones (010, 02x, 0[3-9]xx). Chinese numerals (一三八…) are not numbers here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# --- the view ------------------------------------------------------------------------------

# Unicode's Default_Ignorable_Code_Point: invisible characters that must not split a number.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# Characters other than Unicode decimal digits (which ``\d`` already matches) that stand
# for digits: their NFKC form is digits (², ①, ⑩ → 10, ㉑ → 21) or they have a digit value
# (⒈, ❶, ⓵, 🄀). Generated from unicodedata; tests/test_mask.py checks it is complete.
_DIGIT_EXTRA = (
    "\u00b2\u00b3\u00b9\u1369-\u1371\u19da\u2070\u2074-\u2079\u2080-\u2089\u2460-\u247c"
    "\u2488-\u2490\u24ea\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792\u3251-\u325f"
    "\u32b1-\u32bf\U00010a40-\U00010a43\U00010e60-\U00010e68\U00011052-\U0001105a\U0001f100-\U0001f10a"
)
_DIGITLIKE = re.compile(rf"[\d{_DIGIT_EXTRA}]")
_NONASCII_DIGIT = re.compile(rf"(?![0-9])[\d{_DIGIT_EXTRA}]")
_COMBINING_AFTER_DIGIT = re.compile(rf"(?<=[\d{_DIGIT_EXTRA}])[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
# The shortest personal number (a landline) has 10 digits; a character such as ⑩ or ㉑
# gives two, so fewer than 5 digit-like characters never hold one, nor fewer than 10
# without such a character.
_MIN_DIGITS = 10
_TWO_DIGITS = re.compile("[\u2469-\u2473\u3251-\u325f\u32b1-\u32bf]")


@lru_cache(maxsize=1024)
def _ascii_digits(c: str) -> str:
    n = unicodedata.normalize("NFKC", c)
    if n.isascii() and n.isdigit():
        return n
    d = unicodedata.digit(c, None)
    return c if d is None else str(d)


def _digit_sub(m: re.Match) -> str:
    return _ascii_digits(m.group())


def _view(s: str) -> str:
    """``s`` with invisible characters dropped and every digit-like character as ASCII digits."""
    if s.isascii():
        return s
    v = _IGNORABLE.sub("", s)
    v = _COMBINING_AFTER_DIGIT.sub("", v)
    return _NONASCII_DIGIT.sub(_digit_sub, v)


def _clean(s: str) -> str:
    """A short field (a name, a phone) normalised: NFKC, invisible characters dropped, ASCII digits."""
    return _view(unicodedata.normalize("NFKC", s))


# --- numbers in text -------------------------------------------------------------------------

_SP = " \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_DASH = r"\-\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_DOT = r".\u00b7\u2024\u2027\u2219\u22c5\u30fb\ufe52\uff0e\uff65\u3002\uff61"
_SEP_CLASS = f"[{_SP}{_DASH}{_DOT}]"
_S = _SEP_CLASS  # exactly one separator: between the digits of a spaced number
_GB = f"{_SEP_CLASS}{{1,3}}"  # a group boundary: one to three separators
_D = "[0-9]"


def _grouped(sizes: list[int], last: str = _D) -> str:
    """Contiguous digit groups of ``sizes``, a group boundary (or nothing) between them."""
    parts = [f"{_D}{{{n}}}" for n in sizes[:-1]] + [(f"{_D}{{{sizes[-1] - 1}}}" if sizes[-1] > 1 else "") + last]
    return f"(?:{_GB})?".join(parts)


def _spaced(sizes: list[int], first: list[str] | None = None, last: str = _D) -> str:
    """Digits one separator apart, ``GB`` at the group boundaries; ``first`` overrides leading digit classes."""
    n = sum(sizes)
    classes = [_D] * n
    for i, c in enumerate(first or []):
        classes[i] = c
    classes[-1] = last
    bounds = set()
    acc = 0
    for k in sizes[:-1]:
        acc += k
        bounds.add(acc)
    out = classes[0]
    for i in range(1, n):
        out += (_GB if i in bounds else _S) + classes[i]
    return out


_CHECK = "[0-9XxＸｘⅩⅹ]"  # an ID's check character
_ID18 = "|".join((_grouped([6, 4, 4, 4], _CHECK), _grouped([4, 4, 4, 4, 2], _CHECK), _spaced([6, 8, 4], last=_CHECK)))
_ID15 = "|".join((_grouped([6, 6, 3]), _spaced([6, 6, 3])))
_MOBILE_NUM = "|".join(
    (
        "1[3-9]" + _D + f"(?:{_GB})?{_D}{{4}}(?:{_GB})?{_D}{{4}}",
        _spaced([3, 4, 4], first=["1", "[3-9]"]),
    )
)
_CC = f"(?:(?:[+＋]|00)?86(?:{_GB})?|0)"
_AREA = f"0(?:10|2{_D}|[3-9]{_D}{{2}})"
_AREA_SPACED = f"0{_S}(?:1{_S}0|2{_S}{_D}|[3-9]{_S}{_D}{_S}{_D})"
_LANDLINE = (
    f"(?P<tel_head>[(（]{_AREA}[)）]{_SEP_CLASS}{{0,3}}|{_AREA}(?:{_GB})?)(?P<tel_local>{_D}{{7,8}}|{_D}{{3,4}}{_GB}{_D}{{4}}|{_D}(?:{_S}{_D}){{6,7}})"
    f"|(?P<tel_head2>{_AREA_SPACED}{_GB})(?P<tel_local2>{_D}(?:{_S}{_D}){{6,7}})"
)
# One pass; at a given position an ID is tried before a mobile before a landline.
_PERSONAL = re.compile(
    rf"(?<![0-9Xx])(?P<id18>{_ID18})(?![0-9XxＸｘ])"
    rf"|(?<![0-9])(?P<id15>{_ID15})(?![0-9])"
    rf"|(?<![0-9])(?P<cc>{_CC})?(?P<mob>{_MOBILE_NUM})(?![0-9])"
    rf"|(?<![0-9])(?:{_LANDLINE})(?![0-9])"
)
_NOT_DIGIT = re.compile(r"[^0-9]")
_INNER_SEP = re.compile(f"(?<=[0-9]){_SEP_CLASS}(?=[0-9])")
_NOT_ID_CHAR = re.compile(r"[^0-9Xx]")
_X = str.maketrans({"Ｘ": "X", "Ⅹ": "X", "ｘ": "x", "ⅹ": "x"})


def _masked(m: re.Match) -> str:
    if m.group("id18") is not None:
        d = _NOT_ID_CHAR.sub("", m.group("id18").translate(_X))
        return f"{d[:6]}{'*' * 8}{d[14:]}"
    if m.group("id15") is not None:
        d = _NOT_DIGIT.sub("", m.group("id15"))
        return f"{d[:6]}{'*' * 6}{d[12:]}"
    if m.group("mob") is not None:
        d = _NOT_DIGIT.sub("", m.group("mob"))
        return f"{m.group('cc') or ''}{d[:3]}****{d[7:]}"
    head = m.group("tel_head")
    if head is None:  # spaced: the area code's digits, then the boundary as written
        head = _INNER_SEP.sub("", m.group("tel_head2"))
    local = _NOT_DIGIT.sub("", m.group("tel_local") or m.group("tel_local2"))
    return head + "*" * (len(local) - 4) + local[-4:]


def text(s: str | None) -> str:
    """Free text with every phone and ID number in it masked, however it is spelled."""
    if not s:
        return ""
    n = len(_DIGITLIKE.findall(s))
    if n < _MIN_DIGITS and (n * 2 < _MIN_DIGITS or not _TWO_DIGITS.search(s)):
        return s  # the fast path: too few digits for a personal number
    out, n = _PERSONAL.subn(_masked, _view(s))
    return out if n else s


# --- phone fields ------------------------------------------------------------------------------


def phone(s: str | None) -> str:
    """A phone number field: 13812341234 → 138****1234; other numbers keep their last 4 digits."""
    if not s:
        return ""
    digits = _NOT_DIGIT.sub("", _clean(s))
    for cc in ("0086", "86", "0"):  # a country code or trunk 0 before a mobile
        rest = digits[len(cc):]
        if digits.startswith(cc) and len(rest) == 11 and re.fullmatch("1[3-9][0-9]{9}", rest):
            digits = rest
            break
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


# --- names ----------------------------------------------------------------------------------------

# A word before the person ("指挥室 游军金", "南岸社区民警 林清俊", "东侨城市管理局 陈科长",
# "司法所 李四") ends in one of these. A single-character ending counts only on a word of
# three or more characters, so that a surname written apart ("欧阳 娜娜") is never a unit.
UNIT_ENDINGS = (
    "中心", "社区", "民警", "辅警", "交警", "特警", "刑警", "巡警", "警官", "律师", "部门", "公司", "街道",
    "大队", "中队", "支队", "委会", "委员会", "办事处", "分局", "法院", "医院", "学校", "物业", "科室",
    "书记", "主任", "所长", "队长", "局长", "科长", "站长", "组长", "村长", "楼长", "院长", "部长", "处长",
    "干事", "专员", "科员", "网格长", "志愿者",
)
UNIT_ENDINGS_1 = "室所队局站厅办处部院组委员"
_FIRST_DIGIT = re.compile(r"\s*\d")
_SUFFIX_LETTER = re.compile(r"[^\W\d_号]")


def _is_unit(word: str) -> bool:
    return len(word) >= 2 and (word.endswith(UNIT_ENDINGS) or (len(word) >= 3 and word[-1] in UNIT_ENDINGS_1))


def _name_chars(s: str) -> list[str]:
    """The letters (CJK or other) of a name before any number in it."""
    m = _FIRST_DIGIT.search(s)
    return [c for c in (s[: m.start()] if m else s) if c.isalpha()]


def _split(s: str) -> tuple[str, str]:
    """(unit, person) of a normalised name field: the longest run of leading words that are
    units, when at least two name characters are left for the person; else ("", s)."""
    words = s.split()
    n = 0
    while n < len(words) - 1 and _is_unit(words[n]):
        n += 1
    for k in range(n, 0, -1):
        person = " ".join(words[k:])
        if len(_name_chars(person)) >= 2:
            return " ".join(words[:k]), person
    return "", " ".join(words)


def _person(p: str) -> str:
    """张三 → 张*; the name's letters after the first become *, other characters go;
    a number after the name (张三1, 李四 2号) is kept, itself masked as text."""
    m = _FIRST_DIGIT.search(p)
    head, tail = (p[: m.start()], p[m.start():]) if m else (p, "")
    chars = [c for c in head if c.isalpha()]
    shown = chars[0] + "*" * (len(chars) - 1) if chars else ""
    if tail:
        tail = _SUFFIX_LETTER.sub("*", text(tail))
    return shown + tail


@lru_cache(maxsize=64)
def _units_longest_first(units: frozenset[str]) -> tuple[str, ...]:
    cleaned = {_clean(u).strip() for u in units}
    return tuple(sorted((u for u in cleaned if len(u) >= 2), key=len, reverse=True))


def _known_unit(t: str, units: frozenset[str]) -> str | None:
    """The longest of ``units`` that ``t`` is or begins with, else None."""
    for u in _units_longest_first(units):
        if t.startswith(u):
            return u
    return None


def name(s: str | None, units: frozenset[str] = frozenset()) -> str:
    """A person's name: 张三 → 张*, 欧阳娜娜 → 欧***, 张 三 → 张*; names with a unit
    ("指挥室 张三") mask the person only.

    ``units`` are names known to be units, not persons (the ``departments``
    table: 职能部门 such as 东侨物业服务中心 or 城管): a field that is one of
    them is shown as it is, and a person after one ("城管 李四", "城管李四")
    is masked as a name (one character left: "*")."""
    if not s:
        return ""
    t = _clean(s).strip()
    if not t:
        return ""
    if units and (u := _known_unit(t, units)) is not None:
        rest = t[len(u):].strip()
        if not rest:
            return text(u)
        return f"{text(u)} {name(rest) if len(_name_chars(rest)) >= 2 else '*'}"
    unit_, person = _split(t)
    shown = _person(person)
    return f"{text(unit_)} {shown}" if unit_ else shown


def unit(s: str | None) -> str:
    """The unit before the person in a name field ("司法所 张三" → "司法所"); "" when there is none."""
    if not s:
        return ""
    return text(_split(_clean(s).strip())[0])

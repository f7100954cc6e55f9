"""The Filters URL codec: bad values become warnings and defaults, never exceptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dashboard.filters import DEFAULT_PERIOD, Catalogue, Filters, Place, decode, encode, resolve_period
from dashboard.schema import INCIDENT_CATEGORIES

TODAY = date(2026, 11, 20)
CAT = Catalogue(
    stations=(Place(1, "WLT", "五里亭派出所", None), Place(2, "CY", "慈音派出所", None)),
    communities=(Place(1, "WLT-C01", "五里亭社区", 1), Place(2, "WLT-C02", "东湖社区", 1), Place(3, "CY-C01", "慈音社区", 2)),
    grids=(Place(1, "WLT-C01-G01", "五里亭社区第1网格", 1), Place(2, "WLT-C02-G01", "东湖社区第1网格", 2), Place(3, "CY-C01-G01", "慈音社区第1网格", 3)),
)


def dec(**params):
    return decode(params, CAT, TODAY, INCIDENT_CATEGORIES)


def test_defaults():
    f, w = dec()
    assert w == []
    assert f == Filters(start=date(2026, 10, 22), end=TODAY, period=DEFAULT_PERIOD)


def test_grid_implies_community_and_station():
    f, w = dec(grid="WLT-C02-G01")
    assert w == [] and (f.station_id, f.community_id, f.grid_id) == (1, 2, 2)


@pytest.mark.parametrize(
    "params, needle",
    [
        ({"community": "NOPE"}, "未知的社区"),
        ({"grid": "abc"}, "未知的网格"),
        ({"start": "2025-13-45"}, "格式错误的日期"),
        ({"community": "' OR 1=1 --"}, "未知的社区"),
        ({"period": "forever"}, "未知的时段"),
        ({"station": "XX"}, "未知的派出所"),
        ({"community": "WLT-C01", "grid": "CY-C01-G01"}, "不属于"),
        ({"station": "CY", "community": "WLT-C01"}, "不属于"),
        ({"station": "CY", "grid": "WLT-C01-G01"}, "不属于"),
        ({"start": "2026-11-21"}, "晚于今天"),
        ({"start": "2026-11-10", "end": "2026-11-01"}, "晚于"),
        ({"start": "1900-01-01"}, "超出范围"),
        ({"period": "custom"}, "缺少"),
        ({"cat": "盗窃,飞碟"}, "未知的类别"),
        ({"community": "x" * 500}, "过长"),
    ],
)
def test_bad_values_warn_and_fall_back(params, needle):
    f, warnings = dec(**params)
    assert any(needle in w for w in warnings), warnings
    assert isinstance(f, Filters) and f.start is not None and f.end is not None


def test_a_grid_of_another_station_is_dropped():
    f, w = dec(station="CY", grid="WLT-C01-G01")
    assert (f.station_id, f.community_id, f.grid_id) == (2, None, None) and len(w) == 1


@pytest.mark.parametrize("ahead", [1, 366])
def test_an_end_date_after_today_becomes_today(ahead):
    f, w = dec(start="2026-11-10", end=(TODAY + timedelta(days=ahead)).isoformat())
    assert (f.period, f.start, f.end) == ("custom", date(2026, 11, 10), TODAY)
    assert any("晚于今天" in x for x in w)
    f, w = dec(end=(TODAY + timedelta(days=ahead)).isoformat())
    assert (f.period, f.start, f.end) == ("custom", TODAY, TODAY)


def test_messages_are_one_line():
    _, w = dec(community="a\nb\r\x00\u202ec")
    assert w == ["已忽略未知的社区 community=a b   c，显示全部社区"]


def test_injection_string_is_just_an_unknown_code():
    f, w = dec(community="' OR 1=1 --")
    assert f.community_id is None and len(w) == 1


def test_custom_period_round_trip():
    f, w = dec(start="2026-11-01", end="2026-11-10")
    assert w == [] and f.period == "custom" and (f.start, f.end) == (date(2026, 11, 1), date(2026, 11, 10))
    assert decode(encode(f, CAT), CAT, TODAY, INCIDENT_CATEGORIES)[0] == f


def test_categories_keep_known_ones():
    f, w = dec(cat="盗窃,飞碟")
    assert f.categories == ("盗窃",)


def test_encode_leaves_defaults_out_and_round_trips():
    f, _ = dec(grid="WLT-C01-G01", period="7d")
    q = encode(f, CAT)
    assert q == {"grid": "WLT-C01-G01", "community": "WLT-C01", "station": "WLT", "period": "7d"}
    assert decode(q, CAT, TODAY, INCIDENT_CATEGORIES) == (f, [])
    assert encode(dec()[0], CAT) == {}


def test_list_values_take_the_last():
    f, w = decode({"community": ["WLT-C01", "WLT-C02"]}, CAT, TODAY)
    assert f.community_id == 2 and w == []


@pytest.mark.parametrize(
    "period, start",
    [("today", date(2026, 11, 20)), ("7d", date(2026, 11, 14)), ("30d", date(2026, 10, 22)), ("month", date(2026, 11, 1)), ("quarter", date(2026, 10, 1)), ("year", date(2026, 1, 1))],
)
def test_resolve_period(period, start):
    assert resolve_period(period, TODAY) == (start, TODAY)


def test_window_is_cut_at_now():
    f = Filters(start=date(2026, 11, 20), end=date(2026, 11, 20), period="today")
    assert f.window(datetime(2026, 11, 20, 6, 30)) == (datetime(2026, 11, 19, 16), datetime(2026, 11, 20, 6, 30))
    assert Filters().window() is None

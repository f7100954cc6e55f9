"""The Filters URL codec: bad values become warnings and defaults, never exceptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dashboard import timeutil
from dashboard.db.schema import INCIDENT_CATEGORIES
from dashboard.filters import DEFAULT_PERIOD, PERIODS, Catalogue, Filters, Place, decode, encode, period_name, resolve_period
from queries.measures.windows import previous_window

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


# --- the closed calendar periods: 上周 (previous ISO week), 上月, 上季度 ---------------


@pytest.mark.parametrize(
    "today, week, month, quarter",
    [
        # Jan 1 (a Thursday in 2026): the week, month and quarter before are all last year's
        (date(2026, 1, 1), (date(2025, 12, 22), date(2025, 12, 28)), (date(2025, 12, 1), date(2025, 12, 31)), (date(2025, 10, 1), date(2025, 12, 31))),
        # a Monday: 上周 is the whole week before, not today
        (date(2026, 11, 23), (date(2026, 11, 16), date(2026, 11, 22)), (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 7, 1), date(2026, 9, 30))),
        # a Sunday: still the week before the one that ends today
        (date(2026, 11, 22), (date(2026, 11, 9), date(2026, 11, 15)), (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 7, 1), date(2026, 9, 30))),
        # quarter starts: the quarter before is the whole previous one
        (date(2026, 4, 1), (date(2026, 3, 23), date(2026, 3, 29)), (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 7, 1), (date(2026, 6, 22), date(2026, 6, 28)), (date(2026, 6, 1), date(2026, 6, 30)), (date(2026, 4, 1), date(2026, 6, 30))),
        (date(2026, 10, 1), (date(2026, 9, 21), date(2026, 9, 27)), (date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 7, 1), date(2026, 9, 30))),
        # leap years: 上月 from March is February with its 29th day; not in 2026
        (date(2028, 3, 15), (date(2028, 3, 6), date(2028, 3, 12)), (date(2028, 2, 1), date(2028, 2, 29)), (date(2027, 10, 1), date(2027, 12, 31))),
        (date(2026, 3, 1), (date(2026, 2, 16), date(2026, 2, 22)), (date(2026, 2, 1), date(2026, 2, 28)), (date(2025, 10, 1), date(2025, 12, 31))),
        # ISO week 1 of 2027 begins on Monday 2027-01-04; 上周 then is ISO week 53 of 2026
        (date(2027, 1, 4), (date(2026, 12, 28), date(2027, 1, 3)), (date(2026, 12, 1), date(2026, 12, 31)), (date(2026, 10, 1), date(2026, 12, 31))),
    ],
)
def test_closed_periods(today, week, month, quarter):
    assert resolve_period("last_week", today) == week
    assert resolve_period("last_month", today) == month
    assert resolve_period("last_quarter", today) == quarter
    s, e = week
    assert s.weekday() == 0 and e.weekday() == 6 and (e - s).days == 6 and e < today
    assert s.isocalendar()[1] == (today - timedelta(days=7)).isocalendar()[1]


@pytest.mark.parametrize("period", ["last_week", "last_month", "last_quarter"])
def test_closed_periods_round_trip_in_the_url(period):
    f, w = dec(period=period)
    assert w == [] and f.period == period and (f.start, f.end) == resolve_period(period, TODAY)
    q = encode(f, CAT)
    assert q == {"period": period}  # the code, not the dates: a link stays relative
    assert decode(q, CAT, TODAY, INCIDENT_CATEGORIES) == (f, [])
    # a link kept until next month follows the calendar
    later = date(2027, 1, 5)
    g, _ = decode(q, CAT, later, INCIDENT_CATEGORIES)
    assert (g.start, g.end) == resolve_period(period, later) != (f.start, f.end)


def test_period_names_read_well():
    assert period_name("last_month", date(2026, 10, 1), date(2026, 10, 31)) == "上月 · 2026-10"
    assert period_name("last_quarter", date(2026, 7, 1), date(2026, 9, 30)) == "上季度 · 2026年第3季度"
    assert period_name("last_week", date(2026, 11, 9), date(2026, 11, 15)) == "上周 · 11-09 至 11-15"
    assert period_name("30d", date(2026, 10, 22), date(2026, 11, 20)) == "近30天（10-22 至 11-20）"
    assert period_name("custom", date(2025, 12, 1), date(2026, 1, 15)) == "自定义（2025-12-01 至 2026-01-15）"
    assert PERIODS["last_week"] == "上周" and PERIODS["last_month"] == "上月" and PERIODS["last_quarter"] == "上季度"
    assert list(PERIODS)[-1] == "custom"  # 自定义 stays last in the selector


def test_previous_window_of_closed_periods_is_the_calendar_period_before():
    def w(s, e):
        return timeutil.day_start_utc(s), timeutil.day_start_utc(e + timedelta(days=1))

    assert previous_window(w(date(2026, 10, 1), date(2026, 10, 31)), "last_month") == w(date(2026, 9, 1), date(2026, 9, 30))
    assert previous_window(w(date(2026, 3, 1), date(2026, 3, 31)), "last_month") == w(date(2026, 2, 1), date(2026, 2, 28))
    assert previous_window(w(date(2026, 7, 1), date(2026, 9, 30)), "last_quarter") == w(date(2026, 4, 1), date(2026, 6, 30))
    assert previous_window(w(date(2026, 11, 9), date(2026, 11, 15)), "last_week") == w(date(2026, 11, 2), date(2026, 11, 8))

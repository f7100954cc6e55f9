"""警情趋势: the trend queries on the demo world agree with incidents.count (sums
over buckets, categories and weekday × hour cells), and the page renders under
many filters with the headline figure the queries give, on the session's backend."""

from __future__ import annotations

import html

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import timeutil
from dashboard.db.schema import INCIDENT_CATEGORIES
from dashboard.filters import Filters, decode
from dashboard.ui import fmt
from queries import incidents
from queries.measures import incident_stats
from tests import apptest
from tests.apptest import html_text
from tests.conftest import FIXTURE_END

PAGE = "pages/desk/trends.py"
TODAY = timeutil.local_today(FIXTURE_END)


def _filters(cat, params: dict[str, str]) -> Filters:
    """The Filters the app builds from these URL parameters (same codec)."""
    f, _ = decode(params, cat, TODAY, INCIDENT_CATEGORIES)
    return f


PERIOD_SETS = [
    {},
    {"period": "today"},
    {"period": "7d"},
    {"period": "month"},
    {"period": "quarter"},
    {"period": "year"},
    {"community": "WLT-C01"},
    {"grid": "WLT-C02-G01", "period": "quarter"},
    {"cat": "盗窃,入室盗窃", "period": "year"},
]


@pytest.mark.parametrize("params", PERIOD_SETS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
@pytest.mark.backend
def test_series_and_heat_map_sum_to_count(world, cat, params):
    f = _filters(cat, params)
    w = f.window(FIXTURE_END)
    n = incidents.count(world, f, w)
    assert n > 0  # the fixture world has incidents in every one of these views
    series = incidents.category_series(world, f, w)
    assert int(series["n"].sum()) == n
    # every bucket has every category in scope, once
    cats = f.categories or INCIDENT_CATEGORIES
    assert set(series["category"]) == set(cats)
    assert len(series) == series["bucket"].nunique() * len(cats)
    # per category, the buckets add up to incidents.by_category
    by_cat = incidents.by_category(world, f, w).set_index("category")["n"]
    got = series.groupby("category")["n"].sum()
    for c in cats:
        assert int(got[c]) == int(by_cat.get(c, 0)), c
    how = incidents.hour_of_week(world, f, w)
    assert len(how) == 168 and int(how["n"].sum()) == n
    # the comparison adds up too, for the window and for both bases
    comp = incidents.by_category_compared(world, f, w, f.period)
    assert comp.total.value == n == sum(c.value for _, c in comp.rows)
    if comp.yoy_complete:
        assert comp.total.yoy_base == incidents.count(world, f, comp.last_year)
    if comp.pop_complete:
        assert comp.total.pop_base == incidents.count(world, f, comp.previous)


@pytest.mark.backend
def test_grains_follow_the_period(world, cat):
    grains = {p: incidents.trend_grain(_filters(cat, {"period": p}).window(FIXTURE_END)) for p in ("today", "7d", "30d", "month", "quarter", "year")}
    assert grains == {"today": "hour", "7d": "day", "30d": "day", "month": "day", "quarter": "week", "year": "month"}
    f = _filters(cat, {"period": "year"})
    w = f.window(FIXTURE_END)
    n = incidents.count(world, f, w)
    for grain in ("day", "week", "month"):  # any grain over the same window, same total
        assert int(incidents.category_series(world, f, w, grain)["n"].sum()) == n
    months = incidents.category_series(world, f, w, "month")
    assert months["bucket"].nunique() == 11 and months["label"].iloc[-1] == "2026年11月（1–20日）"


@pytest.mark.backend
def test_daily_grain_matches_daily_counts(world, cat):
    f = _filters(cat, {"community": "WLT-C03"})
    w = f.window(FIXTURE_END)
    series = incidents.category_series(world, f, w, "day")
    per_day = series.groupby("bucket")["n"].sum()
    daily = incidents.daily_counts(world, f, w)
    for day, n in zip(daily["day"], daily["n"]):
        assert int(per_day[day]) == int(n), day


@pytest.mark.backend
def test_year_base_before_the_data_is_not_compared(world, cat):
    # the fixture world holds 14 months: last year's 1 Jan is before its first record
    f = _filters(cat, {"period": "year"})
    comp = incidents.by_category_compared(world, f, f.window(FIXTURE_END), f.period)
    assert comp.data_since is not None and comp.last_year[0] < comp.data_since
    assert not comp.yoy_complete and comp.total.yoy is None
    f = _filters(cat, {"period": "30d"})
    comp = incidents.by_category_compared(world, f, f.window(FIXTURE_END), f.period)
    assert comp.yoy_complete and comp.pop_complete and comp.total.yoy is not None


@pytest.mark.backend
def test_response_times_by_place_cover_the_arrivals(world, cat):
    f = _filters(cat, {"community": "WLT-C01"})
    w = f.window(FIXTURE_END)
    total = incident_stats.response_times(world, f, w)
    by_grid = incident_stats.response_times(world, f, w, by="grid")
    assert int(by_grid["n"].sum()) == int(total["n"].iloc[0])
    names = {g.name for g in cat.grids_of(f.community_id)}
    assert set(by_grid["group"]) <= names
    by_cat = incident_stats.response_times(world, f, w, by="category")
    assert int(by_cat["n"].sum()) == int(total["n"].iloc[0])


# --- the page ----------------------------------------------------------------------------


def run_page(params: dict[str, str]) -> AppTest:
    return apptest.open_page(PAGE, params)


def _tile(label: str, value: str) -> str:
    return f'<div class="jw-kpi-label">{html.escape(label)}</div><div class="jw-kpi-value">{value}</div>'


PAGE_SETS = [
    ({}, None),
    ({"community": "WLT-C01"}, None),
    ({"grid": "WLT-C02-G01"}, None),
    ({"cat": "盗窃"}, None),
    ({"period": "year"}, None),
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "abc"}, "未知的网格"),
    ({"start": "2025-13-45"}, "格式错误的日期"),
    ({"community": "' OR 1=1 --"}, "未知的社区"),
]


@pytest.mark.parametrize("params, warning", PAGE_SETS, ids=lambda p: str(p) if isinstance(p, dict) else "")
def test_page_renders_headline(app_env, world, cat, params, warning):
    at = run_page(params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    warnings = " ".join(w.value for w in at.warning)
    assert (warning in warnings) if warning else not warnings, warnings
    f = _filters(cat, params)
    w = f.window(FIXTURE_END)
    text = html_text(at)
    n = incidents.count(world, f, w)
    label = "盗窃" if f.categories == ("盗窃",) else "警情总数"
    assert _tile(label, fmt.count(n)) in text, (label, n)
    assert f"本期警情 {fmt.count(n)} 起" in text
    assert "同比" in text and "环比" in text and "到场时间" in text
    grain = incidents.GRAIN_LABELS[incidents.trend_grain(w)]
    assert f"分类警情走势 · {grain}" in text
    # the 同比 table names every category in scope
    for c in f.categories or INCIDENT_CATEGORIES:
        assert f"{c}</td>" in text, c
    if f.period == "year":
        assert "同比不可比" in text  # last year's start is before the fixture world's data
    if f.categories:
        assert "类别筛选" in text and at.query_params.get("cat") in ("盗窃", ["盗窃"])


def test_page_empty_period_shows_no_data(app_env):
    at = run_page({"period": "custom", "start": "2020-01-01", "end": "2020-01-31"})
    assert not at.exception and not at.error
    text = html_text(at)
    assert "无数据" in text and "无警情" in text and "自定义（01-01 至 01-31）" in text
    assert _tile("警情总数", "0") in text


def test_clear_category_button_drops_cat(app_env):
    at = run_page({"cat": "盗窃", "period": "7d"})
    assert not at.exception
    at.button(key="trends-clear-cat").click().run()
    assert not at.exception, at.exception
    assert at.query_params.get("cat") in (None, [], ""), at.query_params
    assert at.query_params.get("period") in ("7d", ["7d"])
    assert "警情总数" in html_text(at)


def test_significance_marks_match_the_measure(app_env, world, cat):
    at = run_page({"period": "quarter"})
    assert not at.exception
    text = "\n".join(h.proto.body for h in at.get("html"))  # each block once
    f = _filters(cat, {"period": "quarter"})
    comp = incidents.by_category_compared(world, f, f.window(FIXTURE_END), f.period)
    marks = sum(c.yoy_sig + c.pop_sig for _, c in comp.rows) + comp.total.yoy_sig + comp.total.pop_sig
    kpi_marks = comp.total.yoy_sig + comp.total.pop_sig + sum(
        comp.get(c).yoy_sig + comp.get(c).pop_sig for c in ("刑事", "电信诈骗", "盗窃", "入室盗窃", "纠纷")
    )
    assert marks > 0  # the quarter has changes the test finds significant: the marks are not all off
    assert text.count(">显著</span>") == marks + kpi_marks

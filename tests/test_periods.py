"""Partial periods marked, comparisons named, one label = one figure.

Pure helpers (no database): what a 同比/环比 compares with (``windows.basis_texts``,
carried by every Compared that ``Periods.judge`` makes), the span of a calendar
period so far ("本月 2 天"), the window in a rate's label, and the running last
bucket of a series (``plots.partial_note``, ``plots.series_line``, the wall's
columns). Then the same on the demo world: the overview's and the wall's tiles.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import timeutil
from dashboard.filters import Filters
from dashboard.ui import plots, widgets
from dashboard.wall import markup as wh
from queries import disputes, overview, wall
from queries.kpi import Kpi
from queries.measures import arithmetic, mediation, windows
from tests.conftest import FIXTURE_END

NOW = FIXTURE_END  # 2026-11-20 14:30 local
TODAY = timeutil.local_today(NOW)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return timeutil.to_utc(datetime(y, m, d, hh, mm))


# --- 本月 N 天 ------------------------------------------------------------------------------


def test_window_days_counts_local_days_today_included():
    assert windows.window_days((local(2026, 12, 1), local(2026, 12, 2, 0, 5))) == 2  # the 2nd, five minutes in
    assert windows.window_days((local(2026, 12, 1), local(2026, 12, 2))) == 1  # midnight: the 2nd has not begun
    assert windows.window_days((local(2026, 12, 1), local(2026, 12, 1))) == 0
    assert windows.window_days(overview.month_window(NOW)) == 20


@pytest.mark.parametrize(
    "period, text",
    [("month", "本月 2 天"), ("quarter", "本季度 2 天"), ("year", "本年 2 天"), ("today", None), ("30d", None), ("custom", None), (None, None)],
)
def test_span_note(period, text):
    assert windows.span_note(period, (local(2026, 12, 1), local(2026, 12, 2, 9, 0))) == text


def test_month_tiles_carry_the_day_count_from_their_window():
    now = local(2026, 12, 2, 9, 40)
    month = windows.periods(overview.month_window(now), "month", now)
    c = month.judge(3, 10, 12, None)
    assert c.span == "本月 2 天"
    snap = month.judge(3, 10, 12, None, instants=True)  # a snapshot has no span
    assert snap.span is None


# --- what 同比/环比 compare with -------------------------------------------------------------------


def test_basis_texts_by_period():
    w = (local(2026, 11, 1), NOW)
    assert windows.basis_texts("today", w) == ("对比 去年同日同一时刻", "对比 昨日同一时刻")
    assert windows.basis_texts("today", w, instants=True) == ("对比 去年同日同一时刻", "对比 昨日同一时刻")
    assert windows.basis_texts("month", w) == ("对比 去年同月同期", "对比 上月同期")
    assert windows.basis_texts("month", w, instants=True) == ("对比 去年同一时刻", "对比 上月同一时刻")
    assert windows.basis_texts("quarter", w) == ("对比 去年同季同期", "对比 上季度同期")
    seven = Filters().with_period("7d", TODAY).window(NOW)
    assert windows.basis_texts("7d", seven) == ("对比 去年同期", "对比 上一等长时段（前7天）")
    custom = (local(2026, 11, 3), local(2026, 11, 13))
    assert windows.basis_texts("custom", custom) == ("对比 去年同期", "对比 上一等长时段（前10天）")
    assert windows.basis_texts("custom", custom, instants=True) == ("对比 去年同一时刻", "对比 10天前同一时刻")


def test_the_basis_matches_the_windows_periods_builds():
    """The words follow the windows: 环比 of 7 days steps back 7 days, of today one day."""
    seven = Filters().with_period("7d", TODAY).window(NOW)
    p = windows.periods(seven, "7d", NOW)
    assert p.current[0] - p.previous[0] == timedelta(days=7)
    assert "前7天" in p.basis()[1]
    day = windows.periods(overview.today_window(NOW), "today", NOW)
    assert day.current[1] - day.previous[1] == timedelta(days=1)
    assert day.basis()[1] == "对比 昨日同一时刻"


def test_every_compared_from_periods_carries_its_basis():
    p = windows.periods(overview.today_window(NOW), "today", NOW)
    c = p.compare(lambda w: 5, None)
    assert (c.yoy_basis, c.pop_basis, c.span) == ("对比 去年同日同一时刻", "对比 昨日同一时刻", None)
    k = Kpi("x", "今日警情", "count", c)
    assert (k.yoy_basis, k.pop_basis) == (c.yoy_basis, c.pop_basis)
    # a Compared made by hand (no period) says nothing rather than something wrong
    assert arithmetic.compare(1, 2, 3).yoy_basis is None


def test_desk_tile_shows_the_basis_on_hover_and_in_its_small_line():
    tile = widgets.kpi_tile("本月办结率", "15.0%", yoy="+1.0", pop="-2.0", yoy_basis="对比 去年同月同期", pop_basis="对比 上月同期", span="本月 2 天")
    assert 'title="同比：对比 去年同月同期"' in tile and 'title="环比：对比 上月同期"' in tile
    assert '<div class="jw-kpi-basis">本月 2 天 · 对比 去年同月同期 / 上月同期</div>' in tile
    assert "jw-kpi-basis" not in widgets.kpi_tile("超期", "3", yoy="—", pop="—")


def test_wall_card_shows_the_basis():
    now = local(2026, 12, 2, 9, 40)
    p = windows.periods(overview.month_window(now), "month", now)
    c = p.judge(arithmetic.Ratio(3, 20), arithmetic.Ratio(1, 2), None, None, "rate")
    k = Kpi("closure", "本月办结率", "rate", c, c.detail)
    html = wh.kpi_cards_html([k, Kpi("found", "新发现纠纷", "count", p.judge(4, 2, None, None))])
    assert '<div class="jw-w-card-detail"><span class="jw-w-card-basis">本月 2 天</span></div>' in html  # no detail: the span alone
    assert '<div class="jw-w-card-detail">3/20<span class="jw-w-card-basis"> · 本月 2 天</span></div>' in html
    assert '同比 ↓35.0个百分点<span class="jw-w-card-basis"> · 去年同月同期</span>' in html
    assert '环比 —<span class="jw-w-card-basis"> · 上月同期</span>' in html


# --- the window in a rate's label ---------------------------------------------------------------


@pytest.mark.parametrize("period, name", [("month", "本月"), ("30d", "近30天"), ("7d", "近7天"), ("today", "今日"), ("quarter", "本季度"), ("custom", "所选时段")])
def test_period_name(period, name):
    f = Filters().with_period(period, TODAY, TODAY - timedelta(days=3), TODAY)
    assert windows.period_name(f) == name


# --- the running last bucket ------------------------------------------------------------------


def test_partial_note_only_when_the_window_runs_into_now():
    w = (local(2026, 11, 1), NOW)
    assert plots.partial_note(w, NOW, "day") == "今日截至 14:30"
    assert plots.partial_note(w, NOW, "week") == "本周截至 14:30"
    assert plots.partial_note(w, NOW, "month") == "本月截至 14:30"
    assert plots.partial_note((local(2026, 11, 1), local(2026, 11, 10)), NOW, "day") is None  # a past window is complete
    assert plots.partial_note(None, NOW) is None


def _line(note):
    fig = go.Figure()
    days = [date(2026, 11, d) for d in (17, 18, 19, 20)]
    plots.series_line(fig, days, [4, 6, 5, 1], note, name="近30天", mode="lines+markers", line=dict(color="#3fb6ff", width=3),
                      marker=dict(size=6), hovertemplate="%{x|%m-%d} 警情 %{y} 起<extra></extra>")
    return fig


def test_series_line_draws_the_last_segment_dashed_with_a_hollow_marker():
    fig = _line("今日截至 14:30")
    assert len(fig.data) == 2
    done, part = fig.data
    assert [str(x) for x in done.x] == ["2026-11-17", "2026-11-18", "2026-11-19"] and done.line.dash is None
    assert [str(x) for x in part.x] == ["2026-11-19", "2026-11-20"] and list(part.y) == [5, 1]
    assert part.line.dash == "dash" and part.line.color == "#3fb6ff"
    assert list(part.marker.symbol) == ["circle", "circle-open"]
    assert part.showlegend is False and part.legendgroup == done.legendgroup == "近30天"
    assert list(part.hoverinfo) == ["skip", "all"]
    assert "今日截至 14:30" in part.hovertemplate[1] and part.hovertemplate[1].endswith("<extra></extra>")


def test_series_line_without_a_note_is_one_solid_trace():
    fig = _line(None)
    assert len(fig.data) == 1 and fig.data[0].line.dash is None and len(fig.data[0].x) == 4


def test_stacked_series_keep_their_own_partial_stack():
    fig = go.Figure()
    x = [date(2026, 11, d) for d in (18, 19, 20)]
    for cat, y, color in (("盗窃", [3, 4, 1], "#3fb6ff"), ("纠纷", [2, 2, 1], "rgb(255,176,32)")):
        plots.series_line(fig, x, y, "今日截至 14:30", name=cat, stackgroup="one", fillcolor=color, line=dict(color=color),
                          customdata=["a", "b", "c"], hovertemplate="%{fullData.name} %{y} 起<extra></extra>")
    groups = [t.stackgroup for t in fig.data]
    assert groups == ["one", "one-partial", "one", "one-partial"]
    assert [t.fillcolor for t in fig.data if t.stackgroup == "one-partial"] == ["rgba(63,182,255,0.35)", "rgba(255,176,32,0.35)"]
    assert [list(t.customdata) for t in fig.data if t.stackgroup == "one-partial"] == [["b", "c"], ["b", "c"]]


def test_wall_columns_mark_today_and_the_running_hour():
    days = pd.DataFrame({"day": [TODAY - timedelta(days=i) for i in (2, 1, 0)], "n": [3, 4, 1], "n_last_year": [2, 2, 2]})
    p = windows.periods((timeutil.day_start_utc(TODAY - timedelta(days=2)), NOW), None, NOW)
    trend = overview.DailyTrend(days, p.judge(8, 6, None, None), p, None)
    html = wh.daily_html("近30天每日警情", trend, "起")
    cols = re.findall(r'<div class="jw-w-hour([^"]*)" title="([^"]*)"', html)
    assert [c for c, _ in cols] == ["", "", " partial"]
    assert "今日截至 14:30" in cols[-1][1]
    hourly = wh.hourly_html("警情分时走势", [1] * 24, [1] * 24, 14, "起", NOW)
    hours = re.findall(r'<div class="jw-w-hour((?: [a-z]+)?)" title', hourly)
    assert hours[14] == " partial" and hours[13] == "" and hours[15] == " future"
    assert "本小时截至 14:30" in hourly
    # a strip of a past window has no running bucket
    past = windows.periods((timeutil.day_start_utc(TODAY - timedelta(days=9)), timeutil.day_start_utc(TODAY - timedelta(days=6))), None, NOW)
    html = wh.daily_html("x", overview.DailyTrend(days, past.judge(8, 6, None, None), past, None), "起")
    assert "partial" not in html


# --- on the demo world ----------------------------------------------------------------------


@pytest.mark.backend
def test_overview_tiles_name_their_comparisons(world):
    k = {x.key: x for x in overview.kpis(world, Filters(), NOW)}
    assert (k["incidents_today"].yoy_basis, k["incidents_today"].pop_basis) == ("对比 去年同日同一时刻", "对比 昨日同一时刻")
    assert k["overdue"].pop_basis == "对比 昨日同一时刻" and k["overdue"].span is None
    assert (k["closure_month"].yoy_basis, k["closure_month"].pop_basis) == ("对比 去年同月同期", "对比 上月同期")
    assert k["closure_month"].span == k["resolution_month"].span == "本月 20 天"


@pytest.mark.backend
def test_wall_month_rates_carry_the_day_count(world):
    k = {x.key: x for x in wall.kpis(world, Filters(), NOW)}
    assert k["closure_month"].note == k["resolution_month"].note == "本月 20 天"
    assert k["incidents_today"].note is None


@pytest.mark.backend
def test_dispute_tiles_equal_the_funnel_for_the_same_window(world):
    """本月化解率 on the overview, on the wall's strip and on the wall's 矛盾纠纷 cards (the
    disputes page's tiles for 本月) count the same resolved disputes as the funnel's 化解 stage."""
    month_f = Filters().with_period("month", TODAY)
    w = month_f.window(NOW)
    fun = disputes.level_funnel(world, month_f, w)
    resolved = int(fun["resolved"].sum())
    closed = resolved + int(fun["unresolved"].sum())
    assert resolved > 0
    expected = f"{resolved}/{closed}"
    assert {k.key: k for k in overview.kpis(world, Filters(), NOW)}["resolution_month"].detail == expected
    assert {k.key: k for k in wall.kpis(world, Filters(), NOW)}["resolution_month"].detail == expected
    tiles = {k.key: k for k in disputes.kpis(world, month_f, w, NOW)}
    assert tiles["resolution"].detail == expected and tiles["resolution"].label == "本月化解率"
    for period in ("30d", "quarter", "year"):  # any window: the page's tile and its funnel agree
        f = Filters().with_period(period, TODAY)
        fw = f.window(NOW)
        fun = disputes.level_funnel(world, f, fw)
        r = mediation.resolution_rate(world, f, fw)
        assert (int(fun["resolved"].sum()), int(fun["resolved"].sum() + fun["unresolved"].sum())) == (r.numerator, r.denominator)


def test_partial_bar_marker_hatches_the_running_bucket_only():
    m = plots.partial_bar_marker(["#3fb6ff", "#3fb6ff", "#ff5a5f"], "本周截至 14:30")
    assert m["opacity"] == [1.0, 1.0, 0.5] and m["pattern"]["shape"] == ["", "", "/"] and m["line"]["width"] == [0, 0, 2]
    go.Bar(x=[1, 2, 3], y=[1, 2, 3], marker=m)  # plotly accepts it
    assert plots.partial_bar_marker(["#3fb6ff"] * 2, None) == dict(color=["#3fb6ff"] * 2)

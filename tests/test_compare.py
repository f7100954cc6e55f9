"""同比/环比 defined once (``windows.Periods``): windows, coverage and the 显著
mark, the same figures on the overview, the dispatch page, the trends page and
the wall; 处置时长 mean and median with closed-before-created tasks left out;
department names shown unmasked. Figures computed by hand, on the session's backend.

Two worlds, both tests/handmade.py (places, tasks T1–T7, disputes d1–d4) with
the incidents replaced by the ones below and a few rows of our own. "now" is
2026-11-20 06:30 UTC (Friday 14:30 local); times are UTC (local = UTC + 8 h).
All incidents are 盗窃 in grid B1.

    UTC                    n    local                 windows
    2026-11-20 02:00       3    today 10:00           今日, 近7天, 近30天
    2026-11-20 07:00       1    today 15:00           after now: nowhere
    2026-11-19 02:00       2    yesterday 10:00       今日's 环比 base (yesterday until 14:30)
    2026-11-19 08:00       4    yesterday 16:00       after yesterday's 14:30: not in it
    2026-11-13 10:00       1    11-13 18:00           not in 近7天 (from 11-14 00:00 local), in 近30天;
                                                      in the wall's old rolling 7×24 h
    2026-11-10 02:00       3    11-10 10:00           前7天 (环比 base of 近7天), 近30天
    2026-11-01 02:00      40    11-01 10:00           近30天
    2026-10-01 02:00      10    10-01 10:00           前30天 (环比 base of 近30天)
    2025-11-20 02:00       1    LY today 10:00        今日 and 近30天 last year (before 14:30)
    2025-11-20 06:55       1    LY today 14:55        after last year's 14:30: in no base
    2025-11-20 08:00       8    LY today 16:00        after last year's 14:30: in no base
    2025-11-01 02:00      20    LY 11-01 10:00        近30天 last year
    2024-06-01 00:00       1                          the feed's first record ("covered" world only)

近30天 = [2026-10-21 16:00, now): 3 + 2 + 4 + 1 + 3 + 40 = 53; last year
[2025-10-21 16:00, 2025-11-20 06:30): 1 + 20 = 21; the 30 days before
[2026-09-21 16:00, 2026-10-21 06:30): 10.

"young" world: neither the 2024 record nor the 20 of 2025-11-01: its first
incident is 2025-11-20 02:00, a year minus 4½ hours ago, as a feed that began a
year ago (the demo with --months 12).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert

from dashboard import mask
from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import departments, task_events, tasks
from dashboard.db.schema import incidents as incidents_t
from dashboard.filters import Filters
from dashboard.ui import fmt, widgets
from dashboard.ui.frame import MASKED, Personal
from dashboard.wall import markup as wh
from queries import dispatch, disputes, incidents, overview, wall
from queries.measures import arithmetic, loop, windows
from tests import apptest, conftest
from tests import handmade as H
from tests.apptest import html_text

pytestmark = pytest.mark.backend

D = H.D
NOW = H.NOW
TODAY = date(2026, 11, 20)
ALL = Filters()
P_TODAY = ALL.with_period("today", TODAY)
P_7D = ALL.with_period("7d", TODAY)
P_30D = ALL.with_period("30d", TODAY)
P_MONTH = ALL.with_period("month", TODAY)

INCIDENTS = [
    ("2026-11-20 02:00", 3), ("2026-11-20 07:00", 1), ("2026-11-19 02:00", 2), ("2026-11-19 08:00", 4),
    ("2026-11-13 10:00", 1), ("2026-11-10 02:00", 3), ("2026-11-01 02:00", 40), ("2026-10-01 02:00", 10),
    ("2025-11-20 02:00", 1), ("2025-11-20 06:55", 1), ("2025-11-20 08:00", 8), ("2025-11-01 02:00", 20),
]  # fmt: skip
FIRST = ("2024-06-01 00:00", 1)

# Tasks of our own, closed in 本月 ([2026-10-31 16:00, now)) and in 近30天, with
# the handmade ones closed there (T1 26 h, T2 72 h, T6 336 h, all by 11-03):
#   T201 A1 10 h, T202 A2 2 h, T203 B1 30 h, T204 B1 6 h,
#   T205 B1 closed 5 h before it was created: a data error, in neither mean nor median.
# Durations: 2, 6, 10, 26, 30, 72, 336 → mean 482 / 7, median (nearest rank:
# the smallest with ≥ 3.5 at or below it) the 4th = 26 h.
# 甲社区 (C1: T1, T2, T201, T202) 2, 10, 26, 72: the 2nd = 10 h (an interpolated
# median would say 18); 乙社区 (C2: T6, T203, T204) 6, 30, 336: 30 h.
TASKS = [
    (201, H.A1, "2026-11-05 00:00", "2026-11-05 10:00"),
    (202, H.A2, "2026-11-06 00:00", "2026-11-06 02:00"),
    (203, H.B1, "2026-11-07 00:00", "2026-11-08 06:00"),
    (204, H.B1, "2026-11-09 00:00", "2026-11-09 06:00"),
    (205, H.B1, "2026-11-12 05:00", "2026-11-12 00:00"),
]
CITY, CHENGGUAN = 1, 2  # handmade's 城市管理局, and a department whose name no rule takes for a unit


def _build(url: str, young: bool) -> None:
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    base = dict(category="盗窃", subtype="测试", grid_id=H.B1, h3="x", lat=26.66, lon=119.55, place="某路1号", arrived_at=None)
    rows = []
    for at, n in [x for x in INCIDENTS if x[0] != "2025-11-01 02:00"] if young else INCIDENTS + [FIRST]:
        rows += [dict(base, id=5000 + len(rows) + i, received_at=D(at)) for i in range(n)]
    tbase = dict(h3="x", category="治安隐患", urgency="一般", officer_id=1, updated_at=NOW, state="已办结")
    trows = [dict(tbase, id=i, grid_id=g, created_at=D(c), dispatched_at=D(c), closed_at=D(x)) for i, g, c, x in TASKS]
    ev = dict(officer_id=None, department_id=None, deadline_at=None, note=None)
    events = [
        dict(ev, id=1, task_id=6, seq=1, at=D("2026-10-20 00:00"), event="创建", actor="指挥室 王五", to_state="待研判"),
        dict(ev, id=2, task_id=6, seq=2, at=D("2026-10-20 01:00"), event="转派", actor="指挥室 王五", to_state="已派发", department_id=CITY),
        dict(ev, id=3, task_id=6, seq=3, at=D("2026-10-20 02:00"), event="签收", actor="城市管理局", to_state="处置中", department_id=CITY),
        dict(ev, id=4, task_id=6, seq=4, at=D("2026-11-01 00:00"), event="反馈", actor="城管 李四", to_state="已反馈", department_id=CHENGGUAN),
    ]
    with writer.begin() as conn:
        c = H._Conn(conn)
        conn.execute(delete(incidents_t))
        c.execute(insert(incidents_t), rows)
        c.execute(insert(departments), [dict(id=CHENGGUAN, name="城管", kind="城市管理")])
        c.execute(insert(tasks), trows)
        c.execute(insert(task_events), events)
    writer.dispose()


def _reader(url: str):
    return make_reader(load_settings({"DATABASE_URL": conftest.reader_url(url)}))


@pytest.fixture(scope="module")
def covered_url(scratch):
    url = scratch.new("cmp")
    _build(url, young=False)
    return url


@pytest.fixture(scope="module")
def young_url(scratch):
    url = scratch.new("cmpyoung")
    _build(url, young=True)
    return url


@pytest.fixture(scope="module")
def engine(covered_url):
    eng = _reader(covered_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def young(young_url):
    eng = _reader(young_url)
    yield eng
    eng.dispose()


# --- the windows -----------------------------------------------------------------------------


def test_periods_cut_every_window_at_the_same_local_instant():
    p = windows.periods_of(P_TODAY, NOW)
    assert p.current == (D("2026-11-19 16:00"), NOW)
    assert p.last_year == (D("2025-11-19 16:00"), D("2025-11-20 06:30"))  # the same partial day
    assert p.previous == (D("2026-11-18 16:00"), D("2026-11-19 06:30"))  # yesterday until 14:30
    assert (p.at, p.at_last_year, p.at_previous) == (NOW, D("2025-11-20 06:30"), D("2026-11-19 06:30"))
    m = windows.periods_of(P_MONTH, NOW)
    assert m.previous == (D("2026-09-30 16:00"), D("2026-10-20 06:30")) and m.at_previous == D("2026-10-20 06:30")
    d30 = windows.periods_of(P_30D, NOW)
    assert d30.current == (D("2026-10-21 16:00"), NOW) and d30.last_year == (D("2025-10-21 16:00"), D("2025-11-20 06:30"))
    assert d30.previous == (D("2026-09-21 16:00"), D("2026-10-21 06:30"))
    # a window running past now is cut at now
    assert windows.periods((D("2026-11-19 16:00"), D("2026-11-20 16:00")), "today", NOW).current == p.current


def test_coverage_rule_and_kinds():
    p = windows.periods_of(P_30D, NOW)
    since = D("2025-11-20 02:00")  # a year-old feed
    assert p.covered(since) == (False, True) and p.covered(None) == (True, True)
    assert p.covered(since, instants=True) == (True, True)  # 2025-11-20 06:30 is after the first record
    c = p.judge(53, 9, 10, since)
    assert (c.value, c.yoy_base, c.yoy, c.yoy_sig) == (53, None, None, False)  # not +488.9% 显著
    assert c.pop == pytest.approx(4.3) and c.pop_sig
    calls = []
    p.compare(lambda w: calls.append(w) or 1, since)
    assert calls == [p.current, p.previous]  # an uncovered base is not even queried
    r = arithmetic.comparison(arithmetic.Ratio(9, 10), arithmetic.Ratio(4, 5), None, "rate")
    assert (r.value, r.yoy, r.pop, r.detail, r.yoy_sig) == (0.9, pytest.approx(0.1), None, "9/10", False)
    lv = arithmetic.comparison(30.0, 20.0, 0.0, "level")
    assert lv.yoy == pytest.approx(0.5) and lv.pop is None and not lv.yoy_sig
    with pytest.raises(ValueError):
        arithmetic.comparison(1, 1, 1, "ratio")


def test_feed_starts(engine, young):
    s = windows.feed_starts(engine)
    assert s.incidents == D("2024-06-01 00:00") and s.reports == D("2026-11-19 05:00")
    assert s.tasks == D("2026-10-20 00:00") and s.disputes == D("2026-10-01 00:00") and s.patrol is None
    assert windows.feed_starts(young).incidents == D("2025-11-20 02:00") == incidents.first_received_at(young)


# --- partial today against the same partial day ---------------------------------------------


def test_partial_today_against_the_same_partial_day(engine):
    k = {x.key: x.compared for x in overview.kpis(engine, ALL, NOW)}["incidents_today"]
    # 3 today until 14:30; last year until 14:30: 1 (not the 9 after it); yesterday until 14:30: 2 (not 6)
    assert (k.value, k.yoy_base, k.pop_base) == (3, 1, 2)
    assert k.yoy == pytest.approx(2.0) and k.pop == pytest.approx(0.5) and not k.yoy_sig
    # the 30-day strip: its last day last year is cut at 14:30 too
    t = overview.incident_trend(engine, ALL, NOW)
    assert t.days["n_last_year"].iloc[-1] == 1 and t.days["n"].iloc[-1] == 3
    assert (t.total.value, t.total.yoy_base, t.total.pop_base) == (53, 21, 10)
    assert int(t.days["n"].sum()) == 53 and int(t.days["n_last_year"].sum()) == 21
    # 53 vs 21: +152.4%, p < 0.001 → 显著. The old strip counted last year's whole
    # 11-20 (1 + 1 + 8 more): 53 vs 31, +71.0%, and the trends page said +152.4%.
    assert t.total.yoy == pytest.approx(32 / 21) and t.total.yoy_sig
    assert arithmetic.poisson_p_value(53, 21) < 0.001


# --- the coverage rule on a young feed --------------------------------------------------------


def test_a_one_year_feed_shows_dash_not_a_huge_rise(young):
    t = overview.incident_trend(young, ALL, NOW)
    # counted as before: 53 against the 1 + 1 + 8 of the feed's first day, +430% 显著
    assert arithmetic.change(53, 10) == pytest.approx(4.3) and arithmetic.significant(53, 10)
    assert (t.total.value, t.total.yoy_base, t.total.yoy, t.total.yoy_sig) == (53, None, None, False)
    assert not t.yoy_covered and t.since == D("2025-11-20 02:00")
    assert t.days["n_last_year"].isna().all()  # every last-year day began before the feed
    assert t.total.pop == pytest.approx(4.3)  # the 30 days before are in the data
    comp = incidents.by_category_compared(young, P_30D, P_30D.window(NOW), "30d")
    assert comp.total == t.total and not comp.yoy_complete
    html = wh.daily_html("近30天每日警情", t, "起")
    assert "同比 —" in html and "去年同期早于数据起始" in html and "显著" not in html
    # today's base (2025-11-19 16:00 …) also begins before the feed: "—" (the old tile showed +200%)
    k = {x.key: x.compared for x in overview.kpis(young, ALL, NOW)}["incidents_today"]
    assert (k.value, k.yoy_base, k.yoy, k.pop_base) == (3, None, None, 2)


# --- the same filters, the same figures everywhere ------------------------------------------


def _comparisons(c: arithmetic.Compared) -> tuple:
    return (c.value, c.yoy_base, c.pop_base, c.yoy, c.pop, c.yoy_sig, c.pop_sig)


@pytest.mark.parametrize("eng", ["engine", "young"])
def test_every_page_agrees_for_the_same_filters(request, eng):
    e = request.getfixturevalue(eng)
    ov = {x.key: x for x in overview.kpis(e, ALL, NOW)}
    trends_today = incidents.by_category_compared(e, P_TODAY, P_TODAY.window(NOW), "today")
    trends_7d = incidents.by_category_compared(e, P_7D, P_7D.window(NOW), "7d")
    trends_30d = incidents.by_category_compared(e, P_30D, P_30D.window(NOW), "30d")
    wall_days = wall.incident_categories(e, ALL, NOW)
    # 今日警情: overview tile = trends page (今日) = the wall's 今日/昨日 columns
    assert _comparisons(ov["incidents_today"].compared) == _comparisons(trends_today.total) == _comparisons(wall_days.today.total)
    # 近7天 per category: trends page = the wall's 近7天/前7天/环比 columns
    assert [(k, _comparisons(c)) for k, c in trends_7d.rows] == [(k, _comparisons(c)) for k, c in wall_days.week.rows]
    # 近30天: the overview's legend = the wall's 30-day strip (same function) = the trends page
    assert _comparisons(overview.incident_trend(e, ALL, NOW).total) == _comparisons(trends_30d.total)
    # the dispatch page for 今日 = the overview's snapshots; for 本月 = the overview's 本月办结率
    # and the wall's 派单调度 view (``dispatch.loop_kpis`` on the month's filters)
    dp_today = {x.key: x for x in dispatch.loop_kpis(e, P_TODAY, NOW)}
    for key in ("pending", "in_progress", "overdue"):
        assert _comparisons(dp_today[key].compared) == _comparisons(ov[key].compared), key
    dp_month = {x.key: x for x in dispatch.loop_kpis(e, P_MONTH, NOW)}
    assert _comparisons(dp_month["closure"].compared) == _comparisons(ov["closure_month"].compared)
    assert dp_month["closure"].detail == ov["closure_month"].detail
    # the 矛盾纠纷 page (and the wall's 矛盾纠纷 view) for 本月 = the overview's 本月化解率
    dk = {x.key: x for x in disputes.kpis(e, P_MONTH, P_MONTH.window(NOW), NOW)}
    assert _comparisons(dk["resolution"].compared) == _comparisons(ov["resolution_month"].compared)


def test_the_wall_week_is_the_trends_pages_week(engine):
    w = wall.incident_categories(engine, ALL, NOW).week.get("盗窃")
    # 近7天 = 11-14 00:00 local until now: 3 + 2 + 4 = 9 (the 11-13 18:00 one is the day before);
    # 前7天 until 11-13 14:30 local: 3. The old rolling 7×24 h said 10 against 3 (+233.3%).
    assert (w.value, w.pop_base, w.pop) == (9, 3, pytest.approx(2.0))


# --- 处置时长: mean, median, data errors --------------------------------------------------------


def test_time_to_close_mean_median_and_data_errors(engine):
    t = loop.time_to_close(engine, ALL, H.MONTH)
    assert (t.n, t.excluded) == (7, 1)
    assert t.mean_hours == pytest.approx(482 / 7) and t.median_hours == pytest.approx(26)
    assert loop.mean_time_to_close_hours(engine, ALL, H.MONTH) == pytest.approx(482 / 7)
    by = {r["key"]: r for r in loop.time_to_close_by(engine, ALL, H.MONTH, "community").to_dict("records")}
    assert (by[H.C1]["n"], by[H.C1]["median_hours"], by[H.C1]["hours"]) == (4, pytest.approx(10), pytest.approx(110 / 4))
    assert (by[H.C2]["n"], by[H.C2]["median_hours"]) == (3, pytest.approx(30))
    empty = loop.time_to_close(engine, ALL, (D("2020-01-01"), D("2020-02-01")))
    assert (empty.n, empty.mean_hours, empty.median_hours, empty.excluded) == (0, None, None, 0)
    by_community = dispatch.loop_by(engine, ALL, H.MONTH, "community").set_index("key")
    assert by_community.loc[H.C2, "median_close_hours"] == pytest.approx(30) and by_community.loc[H.C2, "closed_in_window"] == 3
    k = {x.key: x for x in dispatch.loop_kpis(engine, P_MONTH, NOW)}["mean_close"]
    assert k.compared.value == pytest.approx(482 / 7) and k.detail == "小时 · 中位数 26.0"


# --- department names -----------------------------------------------------------------------


def test_department_names_are_units_not_persons(engine):
    units = dispatch.department_names(engine)
    assert units == frozenset({"城市管理局", "城管"})
    pm = Personal(False, units)
    assert pm.name("城市管理局") == "城市管理局"  # was 城****
    assert pm.name("城管 李四") == "城管 李*"  # was 城***
    assert pm.name("城管李四") == "城管 李*"
    assert pm.name("指挥室 王五") == "指挥室 王*" and pm.name("张警官") == "张**"  # persons stay masked
    assert MASKED.name("城市管理局") == mask.name("城市管理局") == "城****"  # without the list: as before


# --- on screen ------------------------------------------------------------------------------


@pytest.fixture
def covered_env(covered_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", conftest.reader_url(covered_url))
    if (a := conftest.audit_url(covered_url)) is not None:
        monkeypatch.setenv("DASHBOARD_AUDIT_URL", a)
    monkeypatch.setenv("DASHBOARD_NOW", NOW.isoformat())


def _tile(text: str, label: str) -> str:
    m = re.search(rf'<div class="jw-kpi[^"]*" data-kpi="{label}">.*?</div></div>', text.replace("\n", ""))
    assert m, label
    return m.group(0)


def test_the_same_figures_on_screen(covered_env, engine):
    expect = {x.key: x for x in overview.kpis(engine, ALL, NOW)}["incidents_today"].compared
    yoy, pop = widgets.change_html(expect.yoy, sig=expect.yoy_sig), widgets.change_html(expect.pop, sig=expect.pop_sig)
    assert "↑200.0%" in yoy and "↑50.0%" in pop
    at = apptest.open_page("pages/desk/overview.py")
    assert not at.exception, at.exception
    text = html_text(at)
    tile = _tile(text, "今日警情")
    assert f"同比 {yoy}" in tile and f"环比 {pop}" in tile
    assert "近30天共 53 起，去年同期 21 起，同比 " + widgets.change_html(32 / 21, sig=True) in text
    at = apptest.open_page("pages/desk/trends.py", {"period": "today"})
    assert not at.exception, at.exception
    tile = _tile(html_text(at), "警情总数")
    assert f"同比 {yoy}" in tile and f"环比 {pop}" in tile
    at = apptest.open_page("pages/wall/wall.py", {"view": "trends"})
    assert not at.exception, at.exception
    text = html_text(at)
    assert "同比 " + fmt.change_marked(32 / 21, "count", True) in text  # the 30-day strip
    row = re.search(r"<tr><td[^>]*>盗窃</td>(.*?)</tr>", text)
    assert row and [re.sub("<.*?>", "", c) for c in re.findall(r"<td.*?</td>", row.group(1))] == ["3", "2", "9", "3", "↑200.0%"]


def test_dispatch_page_notes_the_data_error_and_shows_departments(covered_env):
    at = apptest.open_page("pages/desk/dispatch.py", {"period": "month"})
    assert not at.exception, at.exception
    text = html_text(at)
    assert "数据异常：1 件办结早于创建，已排除" in text
    assert "小时 · 中位数 26.0" in text
    at = apptest.open_page("pages/desk/dispatch.py", {"task": "6"})
    assert not at.exception, at.exception
    text = html_text(at)
    assert '<span class="jw-dp-actor">城市管理局</span>' in text and '<span class="jw-dp-actor">城管 李*</span>' in text
    assert '<span class="jw-dp-actor">指挥室 王*</span>' in text and "王五" not in text and "李四" not in text


def test_thirty_days_ago_is_not_yesterday():
    # the same cut one period back: for 近30天 the snapshot's 环比 instant is 30 days back
    p = windows.periods_of(P_30D, NOW)
    assert p.at_previous == NOW - timedelta(days=30)

"""Every query function on the session's backend, against the demo world.

Exact figures are checked on the hand-built world (test_measures.py); here each
function runs under several filters and its results must agree with each other
(parts add up to wholes, narrower filters give no more than wider ones).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import timeutil
from dashboard.db.schema import INCIDENT_CATEGORIES, TASK_STATES, tasks
from dashboard.filters import Filters
from queries import dispatch, disputes, incidents, overview, patrol, places, reports
from queries._common import fetch_scalar
from queries.measures import incident_stats, loop, mediation
from tests.conftest import FIXTURE_END

pytestmark = pytest.mark.backend

NOW = FIXTURE_END
TODAY = timeutil.local_today(NOW)
MONTH = overview.month_window(NOW)
D30 = Filters().with_period("30d", TODAY)


@pytest.fixture(scope="module")
def cat(world):
    return places.catalogue(world)


@pytest.fixture(scope="module")
def filter_sets(cat):
    c = cat.communities[0]
    g = cat.grids_of(c.id)[0]
    return {
        "all": D30,
        "community": Filters(community_id=c.id).with_period("30d", TODAY),
        "grid": Filters(community_id=c.id, grid_id=g.id).with_period("7d", TODAY),
        "station": Filters(station_id=cat.stations[0].id).with_period("month", TODAY),
        "theft": Filters(categories=("盗窃", "入室盗窃")).with_period("30d", TODAY),
    }


def test_catalogue_shape(cat):
    assert len(cat.stations) == 1 and len(cat.communities) == 6
    assert 30 <= len(cat.grids) <= 50
    assert all(g.parent_id in {c.id for c in cat.communities} for g in cat.grids)


def test_grid_shapes_and_resources(world, cat, filter_sets):
    shapes = places.grid_shapes(world, Filters())
    assert len(shapes) == len(cat.grids) and shapes["area_km2"].gt(0).all()
    one = places.grid_shapes(world, filter_sets["community"])
    assert set(one["community_id"]) == {filter_sets["community"].community_id}
    res = places.grid_resources(world, Filters())
    assert len(res) == len(cat.grids) and res["workers"].sum() > 200 and (res["cameras_online"] <= res["cameras"]).all()
    assert len(places.station_header(world, Filters())) == 1


@pytest.mark.parametrize("name", ["all", "community", "grid", "station", "theft"])
def test_incident_queries_agree(world, filter_sets, name):
    f = filter_sets[name]
    w = f.window(NOW)
    n = incidents.count(world, f, w)
    assert int(incidents.daily_counts(world, f, w)["n"].sum()) == n
    assert int(incidents.by_grid(world, f, w)["n"].sum()) == n
    by_cat = incidents.by_category(world, f, w)
    assert int(by_cat["n"].sum()) == n
    assert set(by_cat["category"]) <= set(f.categories or INCIDENT_CATEGORIES)
    hot = incidents.hot_cells(world, f, w, limit=10000)
    assert int(hot["n"].sum()) == n
    if name in ("all", "theft"):
        assert n > 0


def test_narrower_filters_give_fewer(world, filter_sets):
    w = D30.window(NOW)
    assert incidents.count(world, filter_sets["community"], w) <= incidents.count(world, D30, w)
    assert incidents.count(world, filter_sets["theft"], w) < incidents.count(world, D30, w)


@pytest.mark.parametrize("name", ["all", "community", "grid"])
def test_report_queries_agree(world, filter_sets, name):
    f = filter_sets[name]
    w = f.window(NOW)
    n = reports.count(world, f, w)
    assert int(reports.daily_counts(world, f, w)["n"].sum()) == n
    assert int(reports.by_category(world, f, w)["n"].sum()) == n
    assert reports.latest_id(world) > 0


def test_dispatch_states_match_snapshots_now(world, filter_sets):
    for f in (Filters(), filter_sets["community"].places_only()):
        states = dispatch.state_counts(world, f)
        assert list(states["state"]) == list(TASK_STATES)
        by = dict(zip(states["state"], states["n"]))
        # at the world's end, the timestamp-derived snapshots equal the state column
        assert dispatch.pending_count(world, f, NOW) == by["待研判"]
        assert dispatch.in_progress_count(world, f, NOW) == by["已派发"] + by["处置中"]
    total = fetch_scalar(world, select(func.count()).select_from(tasks))
    assert int(dispatch.state_counts(world, Filters())["n"].sum()) == total


def test_measures_are_rates_in_range(world, filter_sets):
    for f in filter_sets.values():
        for fn in (loop.on_time_feedback_rate, loop.closure_rate, loop.follow_up_rate, loop.task_satisfaction_rate, mediation.resolution_rate, mediation.dispute_satisfaction_rate):
            r = fn(world, f.places_only(), MONTH)
            assert 0 <= r.numerator <= r.denominator
    all_ = Filters()
    assert loop.on_time_feedback_rate(world, all_, MONTH).value < 1.0  # some work is late in the demo
    assert 0.9 <= mediation.resolution_rate(world, all_, (MONTH[0] - timedelta(days=180), MONTH[1])).value <= 1.0
    assert loop.overdue_count(world, all_, NOW) > 0
    assert loop.mean_time_to_close_hours(world, all_, MONTH) > 0


def test_response_times_by_group(world):
    w = D30.window(NOW)
    overall = incident_stats.response_times(world, D30, w)
    assert len(overall) == 1 and 0 < overall.iloc[0]["median_min"] <= overall.iloc[0]["p90_min"]
    by_cat = incident_stats.response_times(world, D30, w, by="category")
    assert int(by_cat["n"].sum()) == int(overall.iloc[0]["n"])
    by_comm = incident_stats.response_times(world, D30, w, by="community")
    assert len(by_comm) == 6
    with pytest.raises(ValueError):
        incident_stats.response_times(world, D30, w, by="nonsense")


def test_disputes_queries(world, filter_sets):
    assert disputes.open_count(world, Filters()) >= 0
    lv = disputes.found_by_level(world, Filters(), (MONTH[0] - timedelta(days=365), MONTH[1]))
    assert set(lv["level"]) <= {1, 2, 3} and lv["n"].sum() > 0
    per_level = lv.groupby("level")["n"].sum()
    assert per_level[1] > per_level.get(3, 0)  # most disputes end at level 1


def test_patrol_queries(world, filter_sets):
    w = (NOW - timedelta(days=7), NOW)
    cells = patrol.visited_cells(world, Filters(), w)
    assert len(cells) > 10 and (cells["shifts"] <= cells["points"]).all()
    assert patrol.on_duty_count(world, Filters(), NOW) >= 0
    narrow = patrol.visited_cells(world, filter_sets["grid"], w)
    assert len(narrow) <= len(cells)


def test_overview_kpis(world, filter_sets):
    for f in filter_sets.values():
        k = overview.kpis(world, f, NOW)
        assert [x.label for x in k] == ["今日警情", "今日上报", "待派单", "处置中", "超期", "本月办结率", "本月化解率"]
        for x in k:
            if x.kind == "rate" and x.compared.value is not None:
                assert 0 <= x.compared.value <= 1
    k = {x.key: x for x in overview.kpis(world, Filters(), NOW)}
    assert k["incidents_today"].compared.value > 0 and k["incidents_today"].compared.yoy is not None
    assert k["overdue"].alarm == bool(k["overdue"].compared.value)


def test_incident_trend_has_every_day_and_last_year(world, filter_sets):
    trend = overview.incident_trend(world, Filters(), NOW)
    t = trend.days
    assert len(t) == 30 and t["day"].iloc[-1] == TODAY and t["day"].is_monotonic_increasing
    assert t["n"].sum() > 0 and t["n_last_year"].sum() > 0
    assert t["n"].sum() < t["n_last_year"].sum()  # the year-on-year decline
    # the legend's figures are the strip's sums, and the same as the trends page's for 近30天
    assert (trend.total.value, trend.total.yoy_base) == (int(t["n"].sum()), int(t["n_last_year"].sum()))
    d30 = Filters().with_period("30d", TODAY)
    assert trend.total == incidents.by_category_compared(world, d30, d30.window(NOW), "30d").total


def test_grid_density_covers_every_grid(world, cat, filter_sets):
    d = overview.grid_density(world, D30, NOW)
    assert len(d) == len(cat.grids) and int(d["n"].sum()) == incidents.count(world, D30, D30.window(NOW))
    assert (d["density"] >= 0).all() and not d["density"].isna().any()
    empty = overview.grid_density(world, Filters(start=date(2001, 1, 1), end=date(2001, 1, 2), period="custom"), NOW)
    assert int(empty["n"].sum()) == 0

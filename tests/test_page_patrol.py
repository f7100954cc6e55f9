"""巡逻覆盖 page: its query functions on the demo world (both backends) and the
page itself under AppTest, where the headline figures must be the ones the
query functions give for the same filters."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from dashboard import timeutil
from dashboard.db.schema import patrol_points
from dashboard.filters import Filters
from dashboard.ui import fmt
from queries import patrol, places
from queries._common import apply_filters, fetch_scalar
from queries.measures import hotspots
from tests import apptest
from tests.apptest import html_text
from tests.conftest import FIXTURE_END

NOW = FIXTURE_END
TODAY = timeutil.local_today(NOW)
D30 = Filters().with_period("30d", TODAY)


@pytest.fixture(scope="module")
def first(world):
    return hotspots.patrol_track_start(world)


@pytest.fixture(scope="module")
def pieces_all(world, first):
    return hotspots.coverage_pieces(world, D30, hotspots.tracked_window(D30.window(NOW), first))


@pytest.mark.backend
def test_tracks_cover_the_last_90_days(first):
    assert first is not None
    assert NOW - first < pd.Timedelta(days=91)
    w = D30.window(NOW)
    assert hotspots.tracked_window(w, first) == w  # 近30天 is fully tracked


@pytest.mark.backend
def test_minutes_are_points_times_two(world, pieces_all, first):
    w = hotspots.tracked_window(D30.window(NOW), first)
    n = fetch_scalar(world, apply_filters(select(func.count()).select_from(patrol_points), D30, time_col=patrol_points.c.at, window=w))
    assert int(pieces_all["points_all"].sum()) == n > 0
    assert (pieces_all["points_day"] + pieces_all["points_night"] == pieces_all["points_all"]).all()
    c = hotspots.summarize_coverage(pieces_all)
    assert c.patrol_minutes == n * hotspots.PATROL_POINT_MINUTES
    day, night = hotspots.summarize_coverage(pieces_all, "白"), hotspots.summarize_coverage(pieces_all, "黑")
    assert day.patrol_minutes + night.patrol_minutes == c.patrol_minutes


@pytest.mark.parametrize("shift", [None, "白", "黑"])
@pytest.mark.backend
def test_hot_set_is_the_smallest_holding_half(pieces_all, cat, shift):
    k = hotspots.shift_suffix(shift)
    station_of = {g.id: cat.by_id("community", g.parent_id).parent_id for g in cat.grids}
    df = pieces_all.assign(station=pieces_all["grid_id"].map(station_of))
    for _, s in df.groupby("station"):
        n, hot = s[f"incidents_{k}"], s[f"hot_{k}"] == 1
        total = int(n.sum())
        if not hot.any():
            continue
        assert (n[hot] >= hotspots.HOT_MIN_INCIDENTS).all()
        assert n[hot].sum() >= total * hotspots.HOT_INCIDENT_SHARE  # holds at least half
        lowest = int(n[hot].min())
        assert n[hot & (n > lowest)].sum() < total * hotspots.HOT_INCIDENT_SHARE  # the lowest level was needed
        assert not (~hot & (n >= lowest)).any()  # nothing as busy was left out


@pytest.mark.backend
def test_narrower_scopes_see_the_same_pieces(world, pieces_all, cat, first):
    w = hotspots.tracked_window(D30.window(NOW), first)
    c = cat.communities[0]
    g = cat.grids_of(c.id)[0]
    key = ["grid_id", "h3"]
    cols = [col for col in hotspots.PIECE_COLUMNS if col not in ("area_km2",)]
    for f, grid_ids in ((Filters(community_id=c.id), {x.id for x in cat.grids_of(c.id)}), (Filters(grid_id=g.id), {g.id})):
        narrow = hotspots.coverage_pieces(world, f, w)
        assert set(narrow["grid_id"]) <= grid_ids
        wide = pieces_all[pieces_all["grid_id"].isin(grid_ids)]
        pd.testing.assert_frame_equal(narrow[cols].sort_values(key).reset_index(drop=True), wide[cols].sort_values(key).reset_index(drop=True))


@pytest.mark.backend
def test_piece_areas_add_up_to_grid_areas(world, pieces_all):
    shapes = places.grid_shapes(world, Filters())
    per_grid = pieces_all.groupby("grid_id")["area_km2"].sum()
    assert per_grid.to_dict() == pytest.approx(dict(zip(shapes["grid_id"], shapes["area_km2"])))


@pytest.mark.backend
def test_shaping_functions(world, pieces_all):
    shapes = places.grid_shapes(world, Filters())
    c = hotspots.summarize_coverage(pieces_all)
    cells = patrol.map_cells(pieces_all)
    assert cells["minutes"].sum() == c.patrol_minutes
    assert cells["h3"].is_unique and int(cells["hot"].sum()) <= c.hot_cells
    assert int(cells["unreached"].sum()) <= c.unreached
    rank = patrol.grid_ranking(pieces_all, shapes)
    assert len(rank) == min(len(shapes), patrol.RANKING_LIMIT)
    assert rank["hot_cells"].sum() == c.hot_cells and rank["unreached"].sum() == c.unreached
    assert rank["unreached"].is_monotonic_decreasing
    split = patrol.shift_split(pieces_all)
    assert list(split["label"]) == ["全部", "白班", "黑班"]
    assert split["patrol_hours"].iloc[1] + split["patrol_hours"].iloc[2] == pytest.approx(split["patrol_hours"].iloc[0])


@pytest.mark.backend
def test_on_duty_and_kpis(world, first):
    od = patrol.on_duty_compared(world, D30, NOW)
    assert od.value == patrol.on_duty_count(world, Filters(), NOW)
    assert od.yoy is None  # no tracks a year ago
    wins = patrol.comparison_windows(D30.window(NOW), "30d", first)
    assert wins.current is not None and wins.previous is not None and wins.last_year is None
    now = hotspots.patrol_coverage(world, D30, wins.current)
    prev = hotspots.patrol_coverage(world, D30, wins.previous)
    tiles = patrol.kpis(now, prev, None, od)
    assert [t.label for t in tiles] == ["在岗巡逻", "巡逻时长", "热点覆盖率", "热点未覆盖", "热点巡逻占比"]
    assert tiles[2].compared.pop == pytest.approx(now.coverage.value - prev.coverage.value)


# --- the page under AppTest ------------------------------------------------------------


def open_page(params: dict[str, str]) -> AppTest:
    return apptest.open_page("pages/desk/patrol.py", params)


def headline(world, cat, f: Filters, shift: str | None = None) -> list[str]:
    """The figures the page must show for ``f``: 巡逻时长 and 热点覆盖率 (x/y)."""
    first = hotspots.patrol_track_start(world)
    c = hotspots.patrol_coverage(world, f, hotspots.tracked_window(f.window(NOW), first), shift)
    out = [f">{fmt.count(c.patrol_hours)}<", "热点覆盖率"]
    if c.hot_cells:
        out += [f">{fmt.pct(c.coverage.value)}<", f"{c.reached}/{c.hot_cells}"]
    return out


CASES = [
    ({}, None, None, None),
    ({"community": "WLT-C01"}, "community", "WLT-C01", None),
    ({"grid": "WLT-C02-G01"}, "grid", "WLT-C02-G01", None),
    ({"community": "WLT-C03", "shift": "night"}, "community", "WLT-C03", "黑"),
    ({"shift": "day", "period": "7d"}, None, None, "白"),
]


@pytest.mark.parametrize("params, level, code, shift", CASES, ids=lambda x: str(x) if isinstance(x, dict) else None)
def test_page_renders_with_headline(app_env, world, cat, params, level, code, shift):
    at = open_page(params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [w.value for w in at.warning]
    text = html_text(at)
    f = Filters().with_period(params.get("period", "30d"), TODAY)
    if level == "community":
        f = Filters(community_id=cat.by_code("community", code).id).with_period(f.period, TODAY)
    elif level == "grid":
        g = cat.by_code("grid", code)
        f = Filters(community_id=g.parent_id, grid_id=g.id).with_period(f.period, TODAY)
    for needle in headline(world, cat, f, shift):
        assert needle in text, (needle, params)
    for label in ("在岗巡逻", "巡逻时长", "热点未覆盖", "热点巡逻占比", "网格覆盖差距排名" if level != "grid" else "本网格"):
        assert label in text
    if shift:
        assert at.query_params.get("shift") in (params["shift"], [params["shift"]])


def test_empty_period_says_no_data(app_env):
    at = open_page({"period": "custom", "start": "2020-01-01", "end": "2020-01-31"})
    assert not at.exception and not at.error
    text = html_text(at)
    assert "无数据" in text and "轨迹数据仅保留近90天" in text


def test_long_period_says_tracks_are_kept_90_days(app_env, world, cat):
    at = open_page({"period": "year"})
    assert not at.exception and not at.error
    text = html_text(at)
    assert "轨迹数据仅保留近90天" in text
    for needle in headline(world, cat, Filters().with_period("year", TODAY)):
        assert needle in text


BAD = [
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "abc"}, "未知的网格"),
    ({"start": "2025-13-45"}, "格式错误的日期"),
    ({"community": "' OR 1=1 --"}, "未知的社区"),
    ({"shift": "bogus"}, "无效的班次"),
]


@pytest.mark.parametrize("params, needle", BAD, ids=[str(p) for p, _ in BAD])
def test_bad_url_values_warn_and_fall_back(app_env, world, cat, params, needle):
    at = open_page(params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert needle in " ".join(w.value for w in at.warning)
    text = html_text(at)
    for n in headline(world, cat, D30):  # the defaults: whole area, 近30天, all shifts
        assert n in text

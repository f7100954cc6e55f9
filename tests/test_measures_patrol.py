"""Patrol coverage measures (queries.measures, section "patrol coverage") against
figures computed by hand on a tiny world, on the session's backend.

The world: tests/handmade.py (station 1: grids A1, A2 in community C1, B1 in
C2) plus a second station (community C3, grid D1), GPS points and incidents
placed in known H3 cells. The window W is [2026-11-15 00:00 local, now).

Pieces (grid, cell) and what falls in them inside W:

  piece            incidents (local time)                        GPS points (shift)
  X1 = (A1, c1)    5 盗窃: 08:00, 10:00, 19:59 (白) 20:00, 03:00 (黑)  4 白 + 1 黑
  X2 = (A1, c2)    3 黑: 2 纠纷 + 1 盗窃                             none (one before W, one at now)
  X3 = (A2, c3)    2 纠纷 白 (and one at now: outside W)              2 白
  Y  = (A2, c6)    —                                                 3 白
  S  = (A2, c2)    —  (cell c2 straddles A1/A2: a separate piece)    1 黑
  X4 = (B1, c4)    1 治安 白                                          2 黑
  X5 = (B1, c5)    1 治安 黑, at W's first instant                    —
  Z  = (D1, c7)    2 盗窃 白 (station 2)                              —

Hot pieces (per station: busiest pieces, ties together, holding ≥ half; n ≥ 2):
  全部, station 1: counts 5,3,2,1,1 of 12 → X1 (0 busier < 6), X2 (5 < 6); X3 has
                   8 busier ≥ 6. Station 2: Z (2 of 2). Hot = {X1, X2, Z}.
                   (Ranked over both stations together, Z would miss: 8 busier ≥ 7.)
  白, station 1:   X1 3, X3 2, X4 1 of 6 → X1 only (X3: 3 busier, not < 3). Station 2: Z.
  黑, station 1:   X2 3, X1 2, X5 1 of 6 → X2 only. Station 2: nothing at night.
  纠纷 only:       X2 2, X3 2 of 4 → a tie: both hot.
Patrol minutes = points × 2.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import h3
import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import communities, grids, incidents, patrol_points, patrol_shifts, patrol_teams, stations
from dashboard.filters import Filters
from dashboard.geo import h3_cell
from dashboard.writers import world
from queries import patrol, places
from queries.measures import arithmetic, hotspots
from queries.measures.arithmetic import Ratio
from tests import handmade as H

pytestmark = pytest.mark.backend

NOW = H.NOW  # 2026-11-20 06:30 UTC
W = (datetime(2026, 11, 14, 16, 0), NOW)  # 2026-11-15 00:00 local .. now
A1, A2, B1, D1 = H.A1, H.A2, H.B1, 4
C3 = 3

P = {  # (lat, lon) of points placed in the grids' squares
    "c1": (26.6610, 119.5510),  # A1
    "c2": (26.6640, 119.5546),  # A1, cell straddles the A1/A2 boundary
    "c2_east": (26.6640, 119.5556),  # A2, same cell as c2
    "c3": (26.6620, 119.5580),  # A2
    "c4": (26.6615, 119.5620),  # B1
    "c5": (26.6640, 119.5640),  # B1
    "c6": (26.6645, 119.5575),  # A2
    "c7": (26.6620, 119.5675),  # D1 (station 2)
}
CELL = {k: h3_cell(*v) for k, v in P.items()}
GRID_OF = {"c1": A1, "c2": A1, "c2_east": A2, "c3": A2, "c4": B1, "c5": B1, "c6": A2, "c7": D1}


def U(s: str) -> datetime:
    """A UTC timestamp from ISO text."""
    return datetime.fromisoformat(s)


INCIDENTS = [  # (place key, category, received_at UTC)  local = UTC + 8
    ("c1", "盗窃", "2026-11-16 00:00"),  # 08:00 local: 白 (first minute of the day shift)
    ("c1", "盗窃", "2026-11-16 02:00"),  # 10:00 白
    ("c1", "盗窃", "2026-11-16 11:59"),  # 19:59 白
    ("c1", "盗窃", "2026-11-16 12:00"),  # 20:00 黑
    ("c1", "盗窃", "2026-11-16 19:00"),  # 03:00 黑
    ("c2", "纠纷", "2026-11-16 14:00"),  # 22:00 黑
    ("c2", "纠纷", "2026-11-16 14:10"),
    ("c2", "盗窃", "2026-11-16 14:30"),
    ("c3", "纠纷", "2026-11-17 02:00"),  # 10:00 白
    ("c3", "纠纷", "2026-11-17 02:10"),
    ("c3", "纠纷", "2026-11-20 06:30"),  # at now: outside the half-open window
    ("c4", "治安", "2026-11-17 03:00"),  # 11:00 白
    ("c5", "治安", "2026-11-14 16:00"),  # W's first instant, 00:00 local: 黑
    ("c7", "盗窃", "2026-11-17 01:00"),  # station 2, 09:00 白
    ("c7", "盗窃", "2026-11-17 03:00"),
    ("c3", "纠纷", "2026-11-12 02:00"),  # before W
]

SHIFTS = [  # id, team, shift, started, ended
    (10, 1, "白", "2026-11-10 00:00", "2026-11-10 12:00"),
    (11, 1, "白", "2026-11-16 00:00", "2026-11-16 12:00"),
    (12, 2, "黑", "2026-11-16 12:00", "2026-11-17 00:00"),
    (13, 1, "白", "2026-11-20 00:00", None),
]

POINTS = [  # (shift id, place key, at UTC)
    (10, "c2", "2026-11-10 01:00"),  # before W: the first stored point
    (11, "c1", "2026-11-16 00:10"),
    (11, "c1", "2026-11-16 00:12"),
    (11, "c1", "2026-11-16 00:14"),
    (11, "c1", "2026-11-16 00:16"),
    (11, "c3", "2026-11-16 01:00"),
    (11, "c3", "2026-11-16 01:02"),
    (11, "c6", "2026-11-16 02:00"),
    (11, "c6", "2026-11-16 02:02"),
    (11, "c6", "2026-11-16 02:04"),
    (12, "c1", "2026-11-16 13:00"),
    (12, "c4", "2026-11-16 14:00"),
    (12, "c4", "2026-11-16 14:02"),
    (12, "c2_east", "2026-11-16 15:00"),
    (13, "c2", "2026-11-20 06:30"),  # at now: outside the window
]


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("patrolhand")
    upgrade(make_writer(url))
    H.build(make_writer(url))
    with make_writer(url).begin() as conn:
        c = H._Conn(conn)
        c.execute(insert(stations), [dict(id=2, code="TS2", name="第二派出所", branch="测试分局", centroid_lat=26.66, centroid_lon=119.567)])
        c.execute(insert(communities), [dict(id=C3, station_id=2, code="TS2-C01", name="丙社区", centroid_lat=26.66, centroid_lon=119.567)])
        c.execute(
            insert(grids),
            [dict(id=D1, community_id=C3, code="TS2-C01-G01", name="丙社区第1网格", boundary_geojson=H._square(119.565, 26.660), area_km2=0.25, centroid_lat=26.6625, centroid_lon=119.5675, h3="x", population=100)],
        )
        c.execute(
            insert(patrol_teams),
            [dict(id=1, station_id=1, name="测试巡防队", kind="巡防队", members=6), dict(id=2, station_id=1, name="测试城市巡逻队", kind="城市巡逻队", members=8)],
        )
        c.execute(
            insert(patrol_shifts),
            [dict(id=i, team_id=t, shift=s, started_at=U(a), ended_at=U(b) if b else None, prevented=0, caught=0) for i, t, s, a, b in SHIFTS],
        )
        c.execute(
            insert(patrol_points),
            [
                dict(id=n, shift_id=s, at=U(t), lat=P[k][0], lon=P[k][1], grid_id=GRID_OF[k], h3=CELL[k])
                for n, (s, k, t) in enumerate(POINTS, start=1)
            ],
        )
        c.execute(
            insert(incidents),
            [
                dict(id=1000 + n, received_at=U(t), category=cat, subtype="其他", grid_id=GRID_OF[k], h3=CELL[k], lat=P[k][0], lon=P[k][1], place="某路")
                for n, (k, cat, t) in enumerate(INCIDENTS)
            ],
        )
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


def piece(df, key: str):
    row = df[(df["grid_id"] == GRID_OF[key]) & (df["h3"] == CELL[key])]
    assert len(row) == 1, (key, row)
    return row.iloc[0]


def test_world_cells_are_as_designed():
    singles = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    assert len({CELL[k] for k in singles}) == len(singles)  # every piece its own cell
    assert CELL["c2_east"] == CELL["c2"]  # one cell, two grids


def test_minutes_per_point_is_the_feeds_sampling_interval():
    assert hotspots.PATROL_POINT_MINUTES * 60 == world.PATROL_STEP_S


def test_pieces_counts_and_hot_flags(engine):
    df = hotspots.coverage_pieces(engine, Filters(), W)
    x1, x2, x3 = piece(df, "c1"), piece(df, "c2"), piece(df, "c3")
    y, s, x4, x5, z = piece(df, "c6"), piece(df, "c2_east"), piece(df, "c4"), piece(df, "c5"), piece(df, "c7")
    # incidents per shift's hours: the 08:00 and 19:59 ones are 白, 20:00 and 00:00 are 黑
    assert (x1.incidents_all, x1.incidents_day, x1.incidents_night) == (5, 3, 2)
    assert (x2.incidents_all, x2.incidents_day, x2.incidents_night) == (3, 0, 3)
    assert (x3.incidents_all, x3.incidents_day) == (2, 2)  # the one at now and the one before W left out
    assert (x5.incidents_all, x5.incidents_night) == (1, 1)  # the window's first instant is in
    # GPS points per shift
    assert (x1.points_all, x1.points_day, x1.points_night) == (5, 4, 1)
    assert x2.points_all == 0  # before W / at now
    assert (s.points_all, s.points_night) == (1, 1)  # same cell as X2, but in grid A2
    assert (y.points_day, x3.points_day, x4.points_night) == (3, 2, 2)
    # hot flags, worked out in the module docstring
    hot = {k: (int(r.hot_all), int(r.hot_day), int(r.hot_night)) for k, r in {"X1": x1, "X2": x2, "X3": x3, "Y": y, "S": s, "X4": x4, "X5": x5, "Z": z}.items()}
    assert hot == {
        "X1": (1, 1, 0),
        "X2": (1, 0, 1),
        "X3": (0, 0, 0),
        "Y": (0, 0, 0),
        "S": (0, 0, 0),
        "X4": (0, 0, 0),
        "X5": (0, 0, 0),
        "Z": (1, 1, 0),
    }
    assert int(df["points_all"].sum()) == 13 and int(df["incidents_all"].sum()) == 14


def test_coverage_all_shifts_whole_area(engine):
    c = hotspots.patrol_coverage(engine, Filters(), W)
    # hot {X1, X2, Z}; only X1 reached
    assert (c.hot_cells, c.reached, c.unreached) == (3, 1, 2)
    assert c.coverage == Ratio(1, 3)
    # 13 points × 2 min; 5 of them in X1
    assert c.patrol_minutes == 26 and c.hot_minutes == 10
    assert c.patrol_share == pytest.approx(10 / 26)
    assert (c.incidents, c.hot_incidents) == (14, 10)
    assert c.incident_share == pytest.approx(10 / 14)
    assert c.patrol_hours == pytest.approx(26 / 60)


def test_coverage_by_shift_station_one(engine):
    f = Filters(station_id=1)
    day = hotspots.patrol_coverage(engine, f, W, "白")
    # 白: hot {X1} reached by 4 day points; 9 day points in all
    assert (day.hot_cells, day.reached) == (1, 1) and day.coverage.value == 1.0
    assert (day.patrol_minutes, day.hot_minutes) == (18, 8)
    assert day.incident_share == pytest.approx(3 / 6)
    night = hotspots.patrol_coverage(engine, f, W, "黑")
    # 黑: hot {X2}, no night point there (the A2 point in the same cell is another piece)
    assert (night.hot_cells, night.reached, night.unreached) == (1, 0, 1)
    assert (night.patrol_minutes, night.hot_minutes) == (8, 0)
    assert night.patrol_share == 0.0 and night.incident_share == pytest.approx(3 / 6)
    both = hotspots.patrol_coverage(engine, f, W)
    assert both.coverage == Ratio(1, 2) and both.incidents == 12 and both.hot_incidents == 8


def test_ties_are_taken_together(engine):
    c = hotspots.patrol_coverage(engine, Filters(categories=("纠纷",)), W)
    # 纠纷 only: X2 2, X3 2 of 4 → both hot; X3 reached (2 points), X2 not
    assert (c.hot_cells, c.reached, c.incidents, c.hot_incidents) == (2, 1, 4, 4)
    assert c.hot_minutes == 4  # X3's two points; patrol time ignores categories
    assert c.patrol_minutes == 26


def test_hot_pieces_do_not_depend_on_scope(engine):
    a1 = hotspots.patrol_coverage(engine, Filters(grid_id=A1), W)
    # A1 holds X1 and X2 (hot by station 1's ranking); 8 incidents, all in them; 5 points, all in X1
    assert (a1.hot_cells, a1.reached, a1.incidents, a1.hot_incidents) == (2, 1, 8, 8)
    assert (a1.patrol_minutes, a1.hot_minutes) == (10, 10)
    b1 = hotspots.patrol_coverage(engine, Filters(community_id=H.C2), W)
    # B1 alone would make X4/X5 … but they have 1 incident each: no hot piece there
    assert b1.hot_cells == 0 and b1.coverage.value is None and b1.patrol_minutes == 4
    a2 = hotspots.patrol_coverage(engine, Filters(grid_id=A2), W)
    assert a2.hot_cells == 0 and a2.patrol_minutes == 12  # X3 2 + Y 3 + S 1 points
    # grids add up to the whole
    by = hotspots.coverage_by(hotspots.coverage_pieces(engine, Filters(), W), None, "grid_id").set_index("grid_id")
    assert by.loc[A1, "hot_cells"] == 2 and by.loc[D1, "hot_cells"] == 1
    assert by["patrol_minutes"].sum() == 26 and by["hot_cells"].sum() == 3


def test_piece_areas(engine):
    df = hotspots.coverage_pieces(engine, Filters(), W)
    per_grid = df.groupby("grid_id")["area_km2"].sum()
    assert per_grid.to_dict() == pytest.approx({A1: 0.25, A2: 0.25, B1: 0.5, D1: 0.25})
    # X1's cell lies mostly inside A1: its piece is most of a cell, in A1's scale
    # (the stored 0.25 km² for a square that measures ~0.277 km²)

    full = h3.cell_area(CELL["c1"], "km^2") * 0.25 / 0.2768
    assert 0.8 * full < piece(df, "c1").area_km2 < 1.02 * full
    c = hotspots.summarize_coverage(df)
    hot_area = piece(df, "c1").area_km2 + piece(df, "c2").area_km2 + piece(df, "c7").area_km2
    assert c.area_km2 == pytest.approx(1.25)
    assert c.area_share == pytest.approx(hot_area / 1.25)


def test_empty_window_gives_areas_and_no_rate(engine):
    df = hotspots.coverage_pieces(engine, Filters(), None)
    assert len(df) > 0 and int(df[["incidents_all", "points_all", "hot_all"]].to_numpy().sum()) == 0
    c = hotspots.summarize_coverage(df)
    assert c.coverage.value is None and c.patrol_share is None and c.incident_share is None
    past = hotspots.patrol_coverage(engine, Filters(), (datetime(2020, 1, 1), datetime(2020, 2, 1)))
    assert past.hot_cells == 0 and past.patrol_minutes == 0


def test_track_start_and_tracked_window(engine):
    first = hotspots.patrol_track_start(engine)
    assert first == U("2026-11-10 01:00")
    assert hotspots.tracked_window((U("2026-11-01 00:00"), NOW), first) == (first, NOW)
    assert hotspots.tracked_window(W, first) == W
    assert hotspots.tracked_window((U("2026-10-01 00:00"), U("2026-11-01 00:00")), first) is None
    assert hotspots.tracked_window(W, None) is None and hotspots.tracked_window(None, first) is None


def test_comparison_windows():
    # 30 local days ending now, tracks since 90 days: 环比 base tracked, 同比 not
    w = (U("2026-10-21 16:00"), NOW)
    wins = patrol.comparison_windows(w, "30d", NOW - timedelta(days=90))
    assert wins.current == w and not wins.clipped
    assert wins.previous == (U("2026-09-21 16:00"), NOW - timedelta(days=30)) and wins.last_year is None
    # a year-to-date window is clipped to the tracks, and then has no bases
    ytd = (U("2025-12-31 16:00"), NOW)
    wins = patrol.comparison_windows(ytd, "year", NOW - timedelta(days=90))
    assert wins.clipped and wins.current == (NOW - timedelta(days=90), NOW)
    assert wins.previous is None and wins.last_year is None
    # no tracks in the window at all
    old = patrol.comparison_windows((U("2020-01-01 00:00"), U("2020-02-01 00:00")), "custom", NOW - timedelta(days=90))
    assert old.current is None and old.previous is None and old.clipped


def test_map_cells_and_ranking(engine):
    df = hotspots.coverage_pieces(engine, Filters(), W)
    cells = patrol.map_cells(df).set_index("h3")
    # c2: X2 (hot, unreached, A1) and S (A2, 1 point): one hex, red, drilling to A1
    c2 = cells.loc[CELL["c2"]]
    assert bool(c2.hot) and bool(c2.unreached) and c2.minutes == 2 and c2.grid_id == A1
    c1 = cells.loc[CELL["c1"]]
    assert bool(c1.hot) and not bool(c1.unreached) and c1.minutes == 10 and c1.hot_incidents == 5
    assert bool(cells.loc[CELL["c7"], "unreached"]) and cells.loc[CELL["c7"], "minutes"] == 0
    assert CELL["c5"] not in cells.index  # neither patrolled nor hot
    assert set(cells.index) == {CELL[k] for k in ("c1", "c2", "c3", "c4", "c6", "c7")}

    shapes = places.grid_shapes(engine, Filters())
    rank = patrol.grid_ranking(df, shapes)
    # A1 and D1 each leave one hot piece unreached; D1's gap is wider:
    # D1 incident share 2/2 − patrol share 0 = 1.0; A1 8/8 − 10/10 = 0
    assert list(rank["grid_id"][:2]) == [D1, A1]
    d1, a1 = rank.iloc[0], rank.iloc[1]
    assert (d1.hot_cells, d1.unreached, d1.gap, d1.patrol_share) == (1, 1, 1.0, 0.0)
    assert (a1.hot_cells, a1.reached, a1.unreached, a1.incidents) == (2, 1, 1, 8)
    assert a1.gap == pytest.approx(0.0) and a1.patrol_hours == pytest.approx(10 / 60)
    rest = rank.iloc[2:]
    assert set(rest["grid_id"]) == {A2, B1} and rest["gap"].isna().all()
    assert len(patrol.grid_ranking(df, shapes, limit=3)) == 3


def test_shift_split_and_kpis(engine):
    df = hotspots.coverage_pieces(engine, Filters(station_id=1), W)
    split = patrol.shift_split(df).set_index("label")
    assert split.loc["全部", "hot_cells"] == 2 and split.loc["全部", "coverage"] == pytest.approx(0.5)
    assert split.loc["白班", "patrol_share"] == pytest.approx(8 / 18)
    assert split.loc["黑班", "unreached"] == 1 and split.loc["黑班", "patrol_share"] == 0.0
    now = hotspots.summarize_coverage(df, "黑")
    on_duty = arithmetic.Compared(2, None, None, None, None)
    tiles = {k.key: k for k in patrol.kpis(now, None, None, on_duty)}
    assert tiles["hot_coverage"].compared.value == 0.0 and tiles["hot_coverage"].detail == "0/1"
    assert tiles["hot_unreached"].compared.value == 1 and tiles["hot_unreached"].alarm
    assert tiles["patrol_hours"].compared.value == pytest.approx(8 / 60)
    assert tiles["patrol_hours"].compared.pop is None  # no base
    base = hotspots.summarize_coverage(hotspots.coverage_pieces(engine, Filters(grid_id=A1), W), "黑")
    tiles = {k.key: k for k in patrol.kpis(now, base, None, on_duty)}
    # pop of hours: (8 − 0 ... A1's night minutes 2) / 2; coverage in points: 0 − 0
    assert base.patrol_minutes == 2
    assert tiles["patrol_hours"].compared.pop == pytest.approx((8 - 2) / 2)
    assert tiles["hot_coverage"].compared.pop == pytest.approx(0.0)
    empty = {k.key: k for k in patrol.kpis(None, None, None, on_duty)}
    assert empty["hot_coverage"].compared.value is None and empty["patrol_hours"].compared.value is None
    assert empty["on_duty"].compared.value == 2


def test_counting_in_slices_changes_nothing(engine, monkeypatch):
    whole = hotspots.coverage_pieces(engine, Filters(), W)
    # one-hour slices: points at 13:00, 14:00 and 15:00 fall exactly on slice edges
    monkeypatch.setattr(hotspots, "PATROL_SLICE", timedelta(hours=1))
    for f in (Filters(), Filters(community_id=H.C1)):
        sliced = hotspots.coverage_pieces(engine, f, W)
        expected = whole[whole["grid_id"].isin(sliced["grid_id"].unique())].reset_index(drop=True)
        pd.testing.assert_frame_equal(sliced, expected)


def test_shares_are_unknown_without_hot_pieces(engine):
    b1 = hotspots.patrol_coverage(engine, Filters(grid_id=B1), W)
    assert b1.hot_cells == 0 and b1.patrol_minutes == 4 and b1.incidents == 2
    assert b1.patrol_share is None and b1.incident_share is None and b1.area_share is None

"""Patrol coverage (巡逻覆盖): hot pieces, 热点覆盖率, patrol minutes and the hot-spot shares.

"警力跟着警情走": do patrols go where (and when) the incidents are? The
definitions are in the comment below; ``queries.patrol`` shapes them for the page.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from dashboard import geo
from dashboard.db.schema import communities, grids, incidents, patrol_points, patrol_shifts
from dashboard.filters import Filters
from dashboard.geo import H3_RESOLUTION
from queries import places
from queries._common import Window, apply_filters, fetch_df, place_clause
from queries._sql import local_hour
from queries.measures.arithmetic import Ratio
from queries.measures.windows import feed_starts

# "警力跟着警情走": do patrols go where (and when) the incidents are?
#
# * Unit: a PIECE = one H3 cell (resolution 9, about 0.1 km²) inside one grid,
#   the pair (grid_id, h3) that incidents and GPS points both carry. A cell cut
#   by a grid boundary is two pieces, so every figure adds up exactly over grids
#   and a grid shows the same figures on every page and at every scope.
# * 巡逻时长 (patrol minutes) = the sum over GPS points of the minutes each
#   stands for: its shift's ``point_minutes`` (an imported track's mean
#   interval, so a device logging every 15 s is not counted eight times over),
#   else PATROL_POINT_MINUTES (2), the demo feed's interval
#   (``dashboard.writers.demo.PATROL_STEP_S`` = 120 s). Counted in SQL: GROUP BY
#   grid_id, h3 with the day and night shifts (``patrol_shifts.shift`` 白/黑)
#   as conditional sums.
# * 热点 (hot piece) belongs to a 派出所, the unit that deploys the patrols.
#   Rank the station's pieces by incidents received in the window (category
#   filter applied; for 白/黑 only incidents received in that shift's hours,
#   白 = local 08:00–20:00, 黑 = 20:00–08:00). The hot pieces are the smallest
#   set of busiest pieces holding at least half (HOT_INCIDENT_SHARE) of the
#   station's incidents, pieces with equal counts taken all together (so the
#   set never depends on an arbitrary order), and only pieces with at least
#   HOT_MIN_INCIDENTS (2) incidents: one incident is not a spot. Formally a
#   piece with n ≥ 2 incidents is hot iff the pieces strictly busier than it
#   hold less than half of the station's incidents. Ranked in SQL with window
#   functions. A community or grid view shows the station's hot pieces that
#   lie in it (a quiet grid may have none).
# * 已覆盖 (reached): a hot piece with at least one GPS point in the window from
#   the chosen shift's patrols (白/黑 = patrol_shifts.shift; 全部 = any shift).
# * 热点覆盖率 = reached hot pieces / hot pieces (Ratio; None without hot pieces).
#   热点未覆盖 = hot pieces − reached ones.
# * 热点巡逻占比 = patrol minutes in hot pieces / patrol minutes in the area,
#   read against 热点警情占比 (hot pieces' share of the area's incidents) and
#   热点面积占比 (their share of the area's km²): patrols that ignored the
#   incidents would match the area share; following them moves the patrol
#   share toward the incident share.
# * Piece areas: every grid polygon is filled with H3 resolution-11 cells
#   (about 0.002 km², by centre), counted per resolution-9 parent and scaled
#   so that a grid's pieces add up to its ``grids.area_km2``.
# * Tracks are kept about 90 days. A window is judged only from the first
#   stored GPS point on (``tracked_window``); a 同比/环比 base that starts before
#   it is unknown ("—"), by ``base_complete``.


PATROL_POINT_MINUTES = 2.0  # minutes one GPS point stands for (the feed's sampling interval)
HOT_INCIDENT_SHARE = 0.5
HOT_MIN_INCIDENTS = 2
DAY_SHIFT_HOURS = (8, 20)  # 白班: local [08:00, 20:00); 黑班: the rest
SHIFT_KEYS: dict[str | None, str] = {None: "all", "白": "day", "黑": "night"}
PIECE_AREA_RESOLUTION = 11
PIECE_COLUMNS = [
    "grid_id", "h3", "area_km2",
    "incidents_all", "incidents_day", "incidents_night",
    "hot_all", "hot_day", "hot_night",
    "points_all", "points_day", "points_night",
    "minutes_all", "minutes_day", "minutes_night",
]  # fmt: skip


def shift_suffix(shift: str | None) -> str:
    """Column suffix of a shift: None (全部) → "all", "白" → "day", "黑" → "night"."""
    if shift not in SHIFT_KEYS:
        raise ValueError(f"shift must be one of {list(SHIFT_KEYS)}")
    return SHIFT_KEYS[shift]


def _hot_flag(n, station):
    """1 when a piece with ``n`` incidents is hot within its station (see above), else 0."""
    at_least_as_busy = func.sum(n).over(partition_by=station, order_by=n.desc())  # RANGE frame: ties included
    as_busy = func.sum(n).over(partition_by=(station, n))
    total = func.sum(n).over(partition_by=station)
    return case((and_(n >= HOT_MIN_INCIDENTS, at_least_as_busy - as_busy < total * HOT_INCIDENT_SHARE), 1), else_=0)


def hot_pieces_stmt(f: Filters, window: Window):
    """Incident pieces with their hot flags. Columns: grid_id, h3, incidents_all,
    incidents_day, incidents_night, hot_all, hot_day, hot_night (0/1).

    Ranked over the whole stations the place filter touches, then narrowed to
    the filtered grids, so a grid's hot pieces do not depend on the scope.
    """
    h = local_hour(incidents.c.received_at)
    is_day = case((and_(h >= DAY_SHIFT_HOURS[0], h < DAY_SHIFT_HOURS[1]), 1), else_=0)
    stmt = select(
        communities.c.station_id,
        incidents.c.grid_id,
        incidents.c.h3,
        func.count().label("n_all"),
        func.sum(is_day).label("n_day"),
    ).select_from(incidents.join(grids, grids.c.id == incidents.c.grid_id).join(communities, communities.c.id == grids.c.community_id))
    stmt = apply_filters(stmt, f, time_col=incidents.c.received_at, window=window, category_col=incidents.c.category)
    if place_clause(grids.c.id, f) is not None:
        stations_touched = apply_filters(
            select(communities.c.station_id).select_from(grids.join(communities, communities.c.id == grids.c.community_id)),
            f,
            grid_col=grids.c.id,
        )
        stmt = stmt.where(communities.c.station_id.in_(stations_touched))
    c = stmt.group_by(communities.c.station_id, incidents.c.grid_id, incidents.c.h3).subquery("inc_pieces")
    n_night = c.c.n_all - c.c.n_day
    ranked = select(
        c.c.grid_id,
        c.c.h3,
        c.c.n_all.label("incidents_all"),
        c.c.n_day.label("incidents_day"),
        n_night.label("incidents_night"),
        _hot_flag(c.c.n_all, c.c.station_id).label("hot_all"),
        _hot_flag(c.c.n_day, c.c.station_id).label("hot_day"),
        _hot_flag(n_night, c.c.station_id).label("hot_night"),
    ).subquery("ranked")
    return apply_filters(select(ranked), f, grid_col=ranked.c.grid_id)


def patrol_pieces_stmt(f: Filters, window: Window, dialect: str | None = None):
    """GPS points per piece in the filtered grids. Columns: grid_id, h3,
    points_all, points_day (白班 shifts), points_night (黑班 shifts) and the
    patrol minutes they stand for, minutes_all/_day/_night."""
    p, s = patrol_points, patrol_shifts
    per_point = func.coalesce(s.c.point_minutes, PATROL_POINT_MINUTES)
    if dialect == "sqlite" and place_clause(p.c.grid_id, f) is None:
        # Whole area on SQLite: its planner would skip-scan the (grid_id, at)
        # index, about twice as slow as reading the time range in row order
        # through ix_patrol_points_at, which an ORDER BY at makes it use.
        rows = apply_filters(select(p.c.grid_id, p.c.h3, p.c.shift_id), f, time_col=p.c.at, window=window).order_by(p.c.at).subquery("pts")
        src, where = rows.join(s, s.c.id == rows.c.shift_id), None
        grid_col, h3_col = rows.c.grid_id, rows.c.h3
    else:
        src = p.join(s, s.c.id == p.c.shift_id)
        grid_col, h3_col, where = p.c.grid_id, p.c.h3, window
    stmt = select(
        grid_col,
        h3_col,
        func.count().label("points_all"),
        func.sum(case((s.c.shift == "白", 1), else_=0)).label("points_day"),
        func.sum(case((s.c.shift == "黑", 1), else_=0)).label("points_night"),
        func.sum(per_point).label("minutes_all"),
        func.sum(case((s.c.shift == "白", per_point), else_=0.0)).label("minutes_day"),
        func.sum(case((s.c.shift == "黑", per_point), else_=0.0)).label("minutes_night"),
    ).select_from(src)
    if where is not None:
        stmt = apply_filters(stmt, f, grid_col=p.c.grid_id, time_col=p.c.at, window=where)
    return stmt.group_by(grid_col, h3_col)


# Long windows are counted in slices of this length and summed, so that no
# single statement runs into the query time limit at district scale.
PATROL_SLICE = timedelta(days=31)


def _slices(window: Window) -> list[Window]:
    out, start = [], window[0]
    while start < window[1]:
        end = min(start + PATROL_SLICE, window[1])
        out.append((start, end))
        start = end
    return out


@functools.lru_cache(maxsize=4096)
def grid_piece_areas(boundary_geojson: str, area_km2: float) -> tuple[tuple[str, float], ...]:
    """(h3, km²) of a grid's pieces: the polygon filled with resolution-11 cells
    (by centre), counted per resolution-9 parent, scaled to ``area_km2``. A grid
    too small to hold one fine cell gives its area to the cell of its centroid."""
    fine = h3.geo_to_cells(json.loads(boundary_geojson), PIECE_AREA_RESOLUTION)
    counts = Counter(h3.cell_to_parent(c, H3_RESOLUTION) for c in fine)
    total = sum(counts.values())
    if not total:
        lat, lon = geo.polygon_centroid(boundary_geojson)
        return ((geo.h3_cell(lat, lon), float(area_km2)),)
    return tuple(sorted((cell, float(area_km2) * k / total) for cell, k in counts.items()))


def coverage_pieces(engine: Engine, f: Filters, window: Window | None) -> pd.DataFrame:
    """Everything the patrol-coverage measures need, per piece, for every shift at once.

    Grain: one row per piece (grid_id, h3) of the filtered grids that has area,
    incidents in ``window`` or GPS points in ``window``. Columns: PIECE_COLUMNS
    (area_km2 from ``grid_piece_areas``; hot_* are 0/1 by the station-level
    rule above; points_* count GPS points, minutes_* the patrol minutes they
    stand for). GROUP BY queries on incidents and
    on GPS points (the latter per PATROL_SLICE of the window, summed), merged
    here with the grids' piece areas. ``window`` None or
    empty: areas only, zero counts.
    """
    shapes = places.grid_shapes(engine, f)
    areas = pd.DataFrame(
        [(int(r.grid_id), cell, km2) for r in shapes.itertuples() for cell, km2 in grid_piece_areas(r.boundary_geojson, float(r.area_km2))],
        columns=["grid_id", "h3", "area_km2"],
    )
    inc_cols = ["grid_id", "h3", "incidents_all", "incidents_day", "incidents_night", "hot_all", "hot_day", "hot_night"]
    pt_cols = ["grid_id", "h3", "points_all", "points_day", "points_night", "minutes_all", "minutes_day", "minutes_night"]
    if window is None or window[0] >= window[1]:
        inc, pts = pd.DataFrame(columns=inc_cols), pd.DataFrame(columns=pt_cols)
    else:
        inc = fetch_df(engine, hot_pieces_stmt(f, window))
        parts = [fetch_df(engine, patrol_pieces_stmt(f, w, engine.dialect.name)) for w in _slices(window)]
        parts = [x for x in parts if not x.empty]
        pts = pd.DataFrame(columns=pt_cols)
        if parts:
            both = pd.concat(parts, ignore_index=True)
            for col in pt_cols[2:]:
                both[col] = pd.to_numeric(both[col]).astype(float if col.startswith("minutes") else int)
            pts = both.groupby(["grid_id", "h3"], as_index=False)[pt_cols[2:]].sum()
    out = areas.merge(inc, on=["grid_id", "h3"], how="outer").merge(pts, on=["grid_id", "h3"], how="outer")
    out = out.reindex(columns=PIECE_COLUMNS)
    out["area_km2"] = pd.to_numeric(out["area_km2"], errors="coerce").fillna(0.0).astype(float)
    for col in PIECE_COLUMNS[3:]:
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype(float if col.startswith("minutes") else int)
    out["grid_id"] = out["grid_id"].astype(int)
    out["h3"] = out["h3"].astype(str)
    return out.sort_values(["grid_id", "h3"]).reset_index(drop=True)


@dataclass(frozen=True)
class PatrolCoverage:
    """Patrol coverage of an area for one shift (see the definitions above)."""

    hot_cells: int
    reached: int
    incidents: int
    hot_incidents: int
    patrol_minutes: float
    hot_minutes: float
    area_km2: float
    hot_area_km2: float

    @property
    def coverage(self) -> Ratio:
        """热点覆盖率: reached hot pieces / hot pieces."""
        return Ratio(self.reached, self.hot_cells)

    @property
    def unreached(self) -> int:
        """热点未覆盖: hot pieces no patrol of the shift reached."""
        return self.hot_cells - self.reached

    @property
    def patrol_hours(self) -> float:
        return self.patrol_minutes / 60.0

    # The three shares are None without hot pieces: "0% of patrol time in hot
    # spots" would read as a failure where there is simply no hot spot.

    @property
    def patrol_share(self) -> float | None:
        """热点巡逻占比: patrol minutes in hot pieces / all patrol minutes."""
        return self.hot_minutes / self.patrol_minutes if self.hot_cells and self.patrol_minutes else None

    @property
    def incident_share(self) -> float | None:
        """热点警情占比: incidents in hot pieces / all incidents."""
        return self.hot_incidents / self.incidents if self.hot_cells and self.incidents else None

    @property
    def area_share(self) -> float | None:
        """热点面积占比: km² of hot pieces / km² of the area."""
        return self.hot_area_km2 / self.area_km2 if self.hot_cells and self.area_km2 > 0 else None


COVERAGE_FIELDS = ["hot_cells", "reached", "incidents", "hot_incidents", "patrol_minutes", "hot_minutes", "area_km2", "hot_area_km2"]


def coverage_parts(pieces: pd.DataFrame, shift: str | None = None) -> pd.DataFrame:
    """Each piece's contribution to PatrolCoverage for ``shift``.

    Grain: one row per piece. Columns: grid_id, h3, is_hot, is_reached (bool)
    and COVERAGE_FIELDS (hot_cells and reached as 0/1, minutes as float).
    """
    k = shift_suffix(shift)
    hot = pieces[f"hot_{k}"].astype(int) > 0
    points = pieces[f"points_{k}"].astype(int)
    minutes = pieces[f"minutes_{k}"].astype(float)
    reached = hot & (points > 0)
    n = pieces[f"incidents_{k}"].astype(int)
    area = pieces["area_km2"].astype(float)
    return pd.DataFrame(
        {
            "grid_id": pieces["grid_id"],
            "h3": pieces["h3"],
            "is_hot": hot,
            "is_reached": reached,
            "hot_cells": hot.astype(int),
            "reached": reached.astype(int),
            "incidents": n,
            "hot_incidents": n.where(hot, 0),
            "patrol_minutes": minutes,
            "hot_minutes": minutes.where(hot, 0.0),
            "area_km2": area,
            "hot_area_km2": area.where(hot, 0.0),
        }
    )


def coverage_by(pieces: pd.DataFrame, shift: str | None = None, by: str = "grid_id") -> pd.DataFrame:
    """PatrolCoverage's fields summed per ``by`` (a column of ``pieces``, e.g. grid_id or h3).

    Grain: one row per value of ``by`` present in ``pieces``. Columns: ``by`` and COVERAGE_FIELDS.
    """
    parts = coverage_parts(pieces, shift)
    return parts.groupby(by, as_index=False)[COVERAGE_FIELDS].sum()


def summarize_coverage(pieces: pd.DataFrame, shift: str | None = None) -> PatrolCoverage:
    """PatrolCoverage of all ``pieces`` for ``shift`` (None = 全部, "白", "黑")."""
    parts = coverage_parts(pieces, shift)
    s = parts[COVERAGE_FIELDS].sum()
    return PatrolCoverage(
        int(s["hot_cells"]),
        int(s["reached"]),
        int(s["incidents"]),
        int(s["hot_incidents"]),
        float(s["patrol_minutes"]),
        float(s["hot_minutes"]),
        float(s["area_km2"]),
        float(s["hot_area_km2"]),
    )


def patrol_coverage(engine: Engine, f: Filters, window: Window | None, shift: str | None = None) -> PatrolCoverage:
    """热点覆盖率, 热点未覆盖, 巡逻时长 and the hot-spot shares for the filtered area.

    Grain: one PatrolCoverage. ``window`` should be ``tracked_window(...)``.
    """
    return summarize_coverage(coverage_pieces(engine, f, window), shift)


def patrol_track_start(engine: Engine) -> datetime | None:
    """When the stored GPS tracks begin (the first point at all; the feed keeps ~90 days): ``feed_starts``."""
    return feed_starts(engine).patrol


def tracked_window(window: Window | None, track_start: datetime | None) -> Window | None:
    """The part of ``window`` that the stored tracks cover: from ``track_start``
    on. None when the window holds no tracked time (or there are no tracks)."""
    if window is None or track_start is None:
        return None
    start = max(window[0], track_start)
    return (start, window[1]) if start < window[1] else None

"""Patrols (巡逻): shifts and their GPS points."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from dashboard.filters import Filters
from dashboard.schema import patrol_points, patrol_shifts
from queries._common import Window, apply_filters, fetch_df, fetch_one

# A shift counts as present in an area when it sent a GPS point there this recently.
PRESENCE_WINDOW = timedelta(minutes=30)


def on_duty_count(engine: Engine, f: Filters, at: datetime) -> int:
    """Patrol shifts on duty at ``at`` with a GPS point in the filtered area in the
    half hour before it. Grain: one number."""
    pts = apply_filters(
        select(patrol_points.c.shift_id).distinct(),
        f,
        grid_col=patrol_points.c.grid_id,
        time_col=patrol_points.c.at,
        window=(at - PRESENCE_WINDOW, at + timedelta(seconds=1)),
    ).subquery()
    stmt = (
        select(func.count())
        .select_from(patrol_shifts.join(pts, pts.c.shift_id == patrol_shifts.c.id))
        .where(patrol_shifts.c.started_at <= at, or_(patrol_shifts.c.ended_at.is_(None), patrol_shifts.c.ended_at > at))
    )
    return int(fetch_one(engine, stmt)[0])


def visited_cells(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """H3 cells (res 9) patrols passed through. Grain: one row per cell.

    Columns: h3, points (GPS points in the cell), shifts (distinct shifts).
    """
    stmt = apply_filters(
        select(
            patrol_points.c.h3,
            func.count().label("points"),
            func.count(patrol_points.c.shift_id.distinct()).label("shifts"),
        ),
        f,
        grid_col=patrol_points.c.grid_id,
        time_col=patrol_points.c.at,
        window=window,
    )
    return fetch_df(engine, stmt.group_by(patrol_points.c.h3).order_by(patrol_points.c.h3))

"""Grid reports (网格上报) uploaded by grid workers."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard.filters import Filters
from dashboard.schema import reports
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import local_day


def count(engine: Engine, f: Filters, window: Window) -> int:
    """Reports uploaded in ``window``. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(reports), f, grid_col=reports.c.grid_id, time_col=reports.c.reported_at, window=window)
    return int(fetch_one(engine, stmt)[0])


def daily_counts(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Reports per local day. Grain: one row per local day with any. Columns: day (YYYY-MM-DD), n."""
    day = local_day(reports.c.reported_at).label("day")
    stmt = apply_filters(
        select(day, func.count().label("n")).select_from(reports), f, grid_col=reports.c.grid_id, time_col=reports.c.reported_at, window=window
    )
    return fetch_df(engine, stmt.group_by(day).order_by(day))


def by_category(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Reports per category. Grain: one row per category with any. Columns: category, n."""
    stmt = apply_filters(
        select(reports.c.category, func.count().label("n")).select_from(reports),
        f,
        grid_col=reports.c.grid_id,
        time_col=reports.c.reported_at,
        window=window,
    )
    return fetch_df(engine, stmt.group_by(reports.c.category).order_by(func.count().desc()))


def latest_id(engine: Engine) -> int:
    """The newest report id: a cheap change marker for live tiles. Grain: one number (0 if none)."""
    return int(fetch_one(engine, select(func.coalesce(func.max(reports.c.id), 0)))[0])

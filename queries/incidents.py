"""110 incidents (警情). ``Filters.categories`` are incident categories and apply here."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard.filters import Filters
from dashboard.schema import incidents
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import local_day


def _filtered(stmt, f: Filters, window: Window | None):  # noqa: ANN001, ANN202
    return apply_filters(
        stmt, f, grid_col=incidents.c.grid_id, time_col=incidents.c.received_at, window=window, category_col=incidents.c.category
    )


def count(engine: Engine, f: Filters, window: Window) -> int:
    """Incidents received in ``window``. Grain: one number."""
    return int(fetch_one(engine, _filtered(select(func.count()).select_from(incidents), f, window))[0])


def daily_counts(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents per local day. Grain: one row per local day that has any.

    Columns: day (text YYYY-MM-DD, Asia/Shanghai), n.
    """
    day = local_day(incidents.c.received_at).label("day")
    stmt = _filtered(select(day, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(day).order_by(day))


def by_grid(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents per grid. Grain: one row per grid with any. Columns: grid_id, n."""
    stmt = _filtered(select(incidents.c.grid_id, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(incidents.c.grid_id))


def by_category(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents per category. Grain: one row per category with any. Columns: category, n."""
    stmt = _filtered(select(incidents.c.category, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(incidents.c.category).order_by(func.count().desc()))


def hot_cells(engine: Engine, f: Filters, window: Window, limit: int = 200) -> pd.DataFrame:
    """The busiest H3 cells (res 9). Grain: one row per cell. Columns: h3, n; busiest first."""
    stmt = _filtered(select(incidents.c.h3, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(incidents.c.h3).order_by(func.count().desc(), incidents.c.h3).limit(limit))

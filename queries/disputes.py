"""Disputes (矛盾纠纷) and their three-level mediation (三级联调)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard.filters import Filters
from dashboard.schema import MEDIATION_LEVELS, disputes
from queries._common import Window, apply_filters, fetch_df, fetch_one


def open_count(engine: Engine, f: Filters) -> int:
    """Disputes still being mediated (调处中) now. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(disputes).where(disputes.c.status == "调处中"), f, grid_col=disputes.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def found_by_level(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Disputes found in ``window`` by the highest mediation level reached and status.

    Grain: one row per (level, status) with any. Columns: level, level_name, status, n.
    """
    stmt = apply_filters(
        select(disputes.c.level, disputes.c.status, func.count().label("n")).select_from(disputes),
        f,
        grid_col=disputes.c.grid_id,
        time_col=disputes.c.found_at,
        window=window,
    )
    df = fetch_df(engine, stmt.group_by(disputes.c.level, disputes.c.status).order_by(disputes.c.level, disputes.c.status))
    df.insert(1, "level_name", [MEDIATION_LEVELS.get(int(x), str(x)) for x in df["level"]])
    return df

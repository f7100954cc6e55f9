"""Incidents (警情): 到场时间 (the per-category 同比/环比 is ``queries.incidents.by_category_compared``).

* 到场时间 = arrived_at − received_at in minutes, median and p90 by the
  nearest-rank rule (the smallest value with at least p·n values at or below
  it), over incidents received in the window that have an arrival time.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Integer, literal, select
from sqlalchemy.engine import Engine

from dashboard.db.schema import communities, grids, incidents
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df
from queries._sql import minutes_between
from queries.measures.parts import nearest_rank, with_ranks

RESPONSE_GROUPS = {
    None: None,
    "category": incidents.c.category,
    "community": communities.c.name,
    # 到场时间 by grid: the same definition as by community, one level down.
    "grid": grids.c.name,
}


def response_times(engine: Engine, f: Filters, window: Window, by: str | None = None) -> pd.DataFrame:
    """到场时间 median and p90 (nearest rank), in minutes.

    Grain: one row per group (``by`` = None → one row "全部", "category", or
    "community"). Columns: group, n, median_min, p90_min. Groups with no
    arrivals are absent; with ``by=None`` and no arrivals the frame is empty.
    Ranking happens in SQL (window functions, on both backends).
    """
    if by not in RESPONSE_GROUPS:
        raise ValueError(f"by must be one of {list(RESPONSE_GROUPS)}")
    group = RESPONSE_GROUPS[by]
    group_expr = (group if group is not None else literal("全部")).label("grp")
    base = (
        select(group_expr, minutes_between(incidents.c.received_at, incidents.c.arrived_at).label("m"))
        .select_from(incidents.join(grids, grids.c.id == incidents.c.grid_id).join(communities, communities.c.id == grids.c.community_id))
        .where(incidents.c.arrived_at.is_not(None), incidents.c.arrived_at >= incidents.c.received_at)
    )
    base = apply_filters(
        base, f, grid_col=incidents.c.grid_id, time_col=incidents.c.received_at, window=window, category_col=incidents.c.category
    ).subquery("d")
    ranked = with_ranks(base, base.c.m, base.c.grp).subquery("r")
    stmt = (
        select(
            ranked.c.grp.label("group"),
            ranked.c.cnt.cast(Integer).label("n"),
            nearest_rank(ranked, ranked.c.m, 0.5).label("median_min"),
            nearest_rank(ranked, ranked.c.m, 0.9).label("p90_min"),
        )
        .group_by(ranked.c.grp, ranked.c.cnt)
        .order_by(ranked.c.grp)
    )
    df = fetch_df(engine, stmt)
    for col in ("median_min", "p90_min"):
        df[col] = df[col].astype(float)
    return df

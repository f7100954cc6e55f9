"""Incidents (警情): 到场时间 and the per-category 同比/环比 of the trends page.

* 到场时间 = arrived_at − received_at in minutes, median and p90 by the
  nearest-rank rule (the smallest value with at least p·n values at or below
  it), over incidents received in the window that have an arrival time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Integer, literal, select
from sqlalchemy.engine import Engine

from dashboard.filters import Filters
from dashboard.schema import communities, grids, incidents
from queries import incidents as inc
from queries._common import Window, apply_filters, fetch_df
from queries._sql import minutes_between
from queries.measures.arithmetic import Compared
from queries.measures.parts import nearest_rank, with_ranks
from queries.measures.windows import feed_starts, periods
from queries.vocabulary import vocabulary


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


@dataclass(frozen=True)
class CategoryComparison:
    """Incident counts per category for a window with their 同比 and 环比.

    ``rows`` holds (category, Compared) in screen order, every category in
    scope present even when zero; ``total`` compares the sums. A base that
    the data do not fully cover (``yoy_complete``/``pop_complete`` False)
    gives unknown bases, hence "—" for that change and no 显著 mark.
    """

    rows: tuple[tuple[str, Compared], ...]
    total: Compared
    window: Window
    last_year: Window
    previous: Window
    yoy_complete: bool
    pop_complete: bool
    data_since: datetime | None

    def get(self, category: str) -> Compared | None:
        return next((c for k, c in self.rows if k == category), None)

    def frame(self) -> pd.DataFrame:
        """Grain: one row per category. Columns: category, n, n_last_year,
        n_previous (None where the base is not covered), yoy, pop (None = "—"),
        yoy_sig, pop_sig."""
        cols = ["category", "n", "n_last_year", "n_previous", "yoy", "pop", "yoy_sig", "pop_sig"]
        data = [(k, c.value, c.yoy_base, c.pop_base, c.yoy, c.pop, c.yoy_sig, c.pop_sig) for k, c in self.rows]
        return pd.DataFrame(data, columns=cols).astype({"n_last_year": object, "n_previous": object, "yoy": object, "pop": object})


def by_category_compared(engine: Engine, f: Filters, window: Window, period: str | None = None) -> CategoryComparison:
    """Incidents per category in ``window`` with 同比 and 环比 by ``Periods``
    (``periods(window, period)``: windows, coverage by the incident feed's first
    record, the 显著 mark). Three GROUP BY category queries (two when a base is
    not covered) plus the feeds' first records. Grain: one Compared per category
    in scope (``incidents.categories_in_scope``) and one for the total."""
    p = periods(window, period)
    since = feed_starts(engine).incidents
    yoy_ok, pop_ok = p.covered(since)

    def counts(w: Window) -> dict[str, int]:
        df = inc.by_category(engine, f, w)
        return {str(c): int(n) for c, n in zip(df["category"], df["n"])}

    now_c = counts(p.current)
    ly_c = counts(p.last_year) if yoy_ok else {}
    prev_c = counts(p.previous) if pop_ok else {}
    known = vocabulary(engine, "incident_category").codes()
    cats = inc.categories_in_scope(f, set(now_c) | set(ly_c) | set(prev_c), known)
    rows = tuple((c, p.judge(now_c.get(c, 0), ly_c.get(c, 0), prev_c.get(c, 0), since)) for c in cats)
    total = p.judge(sum(now_c.values()), sum(ly_c.values()), sum(prev_c.values()), since)
    return CategoryComparison(rows, total, p.current, p.last_year, p.previous, yoy_ok, pop_ok, since)

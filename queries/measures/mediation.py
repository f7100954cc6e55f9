"""Disputes (矛盾纠纷) and their mediation: 化解率, 满意率, 调处中, 回访待办.

* 化解率 = disputes closed in the window as 化解 / disputes closed in the window.
* 满意率 of disputes = satisfied / visits, over follow-up visits made in the
  window (the tasks' 满意率 is ``loop.task_satisfaction_rate``: two
  populations, one formula ``Ratio``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.engine import Engine

from dashboard.db.schema import disputes, grids
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries.measures.arithmetic import Ratio
from queries.measures.parts import not_after, not_yet


def resolution_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """化解率: disputes closed in ``window`` as 化解 / disputes closed in it (``DISPUTE_RATIOS``)."""
    return _dispute_ratio(engine, f, window, "resolution")


def dispute_satisfaction_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """满意率 of disputes: satisfied / follow-up visits made in ``window`` (``DISPUTE_RATIOS``)."""
    return _dispute_ratio(engine, f, window, "satisfaction")


def _dispute_ratio(engine: Engine, f: Filters, window: Window, measure: str) -> Ratio:
    row = dispute_ratio_by(engine, f, window, measure, by=None).iloc[0]
    return Ratio(int(row["numerator"]), int(row["denominator"]))


# --- disputes page ---
# Grouped 化解率 and 满意率 of disputes (by community, grid or kind) and the two
# snapshots the 矛盾纠纷 page shows. The definitions of 化解率 and 满意率 are
# written once here as SQL pieces (numerator, population, time column);
# ``resolution_rate`` and ``dispute_satisfaction_rate`` above are
# ``dispute_ratio_by(..., by=None)``, and tests/test_measures_disputes.py
# checks that the groups add up to them.
#
# * 调处中 at an instant ``at``: found by ``at`` and not closed by ``at``.
# * 回访待办 at ``at``: closed by ``at``, not visited by ``at``, visit due
#   before ``at`` + horizon (7 days); 回访超期 = due before ``at``.

DISPUTE_RATIOS: dict[str, tuple] = {
    # name: (numerator per row, which disputes count, the time that must fall in the window)
    "resolution": (
        case((disputes.c.status == "化解", 1), else_=0),
        disputes.c.closed_at.is_not(None),
        disputes.c.closed_at,
    ),
    "satisfaction": (
        case((disputes.c.satisfied.is_(True), 1), else_=0),
        disputes.c.satisfied.is_not(None),
        disputes.c.visited_at,
    ),
}
DISPUTE_GROUPS = ("community", "grid", "kind", "level")


def dispute_ratio_by(engine: Engine, f: Filters, window: Window, measure: str = "resolution", by: str | None = "community") -> pd.DataFrame:
    """化解率 (``measure="resolution"``) or 满意率 (``"satisfaction"``) of disputes per group.

    Grain: one row per group with at least one dispute in the population
    (``by`` = "community" → community id, "grid" → grid id, "kind" → 纠纷类型,
    "level" → mediation level 1..3; None → one row, group "全部", present even when empty).
    Columns: group, numerator, denominator, rate (float; NaN when denominator is 0).
    """
    if measure not in DISPUTE_RATIOS:
        raise ValueError(f"measure must be one of {list(DISPUTE_RATIOS)}")
    if by is not None and by not in DISPUTE_GROUPS:
        raise ValueError(f"by must be one of {list(DISPUTE_GROUPS)} or None")
    numerator, population, time_col = DISPUTE_RATIOS[measure]
    source = disputes
    if by == "community":
        source = disputes.join(grids, grids.c.id == disputes.c.grid_id)
        group = grids.c.community_id
    elif by == "grid":
        group = disputes.c.grid_id
    elif by == "kind":
        group = disputes.c.kind
    elif by == "level":  # the highest mediation level reached (the 三级联调 funnel's stages)
        group = disputes.c.level
    else:
        group = literal("全部")
    stmt = (
        select(group.label("group"), func.count().label("denominator"), func.coalesce(func.sum(numerator), 0).label("numerator"))
        .select_from(source)
        .where(population)
    )
    stmt = apply_filters(stmt, f, grid_col=disputes.c.grid_id, time_col=time_col, window=window)
    if by is not None:
        stmt = stmt.group_by(group).order_by(group)
    df = fetch_df(engine, stmt)
    if by is None and df.empty:
        df = pd.DataFrame({"group": ["全部"], "denominator": [0], "numerator": [0]})
    df["numerator"] = df["numerator"].astype(int)
    df["denominator"] = df["denominator"].astype(int)
    if by in ("community", "grid", "level"):
        df["group"] = df["group"].astype(int)
    df["rate"] = [n / d if d else float("nan") for n, d in zip(df["numerator"], df["denominator"])]
    return df[["group", "numerator", "denominator", "rate"]]


def resolution_rate_by(engine: Engine, f: Filters, window: Window, by: str | None = "community") -> pd.DataFrame:
    """化解率 per group (see ``dispute_ratio_by``): resolved / closed in ``window``."""
    return dispute_ratio_by(engine, f, window, "resolution", by)


def dispute_satisfaction_rate_by(engine: Engine, f: Filters, window: Window, by: str | None = "community") -> pd.DataFrame:
    """满意率 of disputes per group (see ``dispute_ratio_by``): satisfied / visits made in ``window``."""
    return dispute_ratio_by(engine, f, window, "satisfaction", by)


def dispute_open_condition(at: datetime):
    """A dispute is 调处中 at ``at``: found by then and not closed by then."""
    return and_(disputes.c.found_at <= at, not_yet(disputes.c.closed_at, at))


def visit_pending_condition(at: datetime, horizon_days: float = 7):
    """A dispute's follow-up visit is 待办 at ``at``: closed by then, not visited by
    then, and due before ``at`` + ``horizon_days`` (0 → only the overdue ones)."""
    return and_(
        not_after(disputes.c.closed_at, at),
        disputes.c.visit_due_at.is_not(None),
        disputes.c.visit_due_at < at + timedelta(days=horizon_days),
        not_yet(disputes.c.visited_at, at),
    )


@dataclass(frozen=True)
class VisitBacklog:
    """回访待办 at an instant: ``pending`` due within the horizon (overdue included), ``overdue`` already past due."""

    pending: int
    overdue: int


def visit_backlog(engine: Engine, f: Filters, at: datetime, horizon_days: float = 7) -> VisitBacklog:
    """回访待办 and 回访超期 counts at the instant ``at``. Grain: one pair of numbers."""
    overdue = case((disputes.c.visit_due_at < at, 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(overdue), 0)).select_from(disputes).where(visit_pending_condition(at, horizon_days))
    n, late = fetch_one(engine, apply_filters(stmt, f, grid_col=disputes.c.grid_id))
    return VisitBacklog(int(n), int(late))

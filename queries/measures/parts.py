"""SQL pieces shared by the measures of several areas.

"Had happened by an instant" (``not_after``/``not_yet``), and the
nearest-rank quantile (``with_ranks`` + ``nearest_rank``): the one definition of
every median and p90 (到场时间, 处置时长).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select


def not_after(col, at: datetime):
    """``col`` had happened by ``at``."""
    return and_(col.is_not(None), col <= at)


def not_yet(col, at: datetime):
    """``col`` had not happened by ``at`` (NULL or later)."""
    return or_(col.is_(None), col > at)


def with_ranks(sub, value, group):
    """``sub``'s rows with their rank by ``value`` within ``group`` (None: all
    rows as one group) as rn (1-based) and the group's size as cnt: the input
    of ``nearest_rank``."""
    return select(
        sub,
        func.row_number().over(partition_by=group, order_by=value).label("rn"),
        func.count().over(partition_by=group).label("cnt"),
    )


def nearest_rank(ranked, value, p: float):
    """The p-quantile by the nearest-rank rule, as an aggregate over ``with_ranks``
    rows: the smallest value with at least p·n values at or below it. The one
    definition of every median and p90 here (到场时间, 处置时长), the same SQL
    on SQLite and PostgreSQL (window functions on both)."""
    return func.min(case((ranked.c.rn >= ranked.c.cnt * p, value)))

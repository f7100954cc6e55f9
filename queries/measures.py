"""Every measure of DOMAIN.md, each defined exactly once.

Pure arithmetic first (同比, 环比 and the comparison windows), then the
measures that need SQL. A measure that cannot be computed (a zero base, no
tasks due) is ``None``; the screen shows "—" for it, never ∞ or NaN.

Definitions (windows are half-open UTC intervals [start, end); "as of" means
judged at the window's end, so a past window is judged as it stood then):

* 同比 yoy = (this period − same period last year) / same period last year.
* 环比 pop = (this period − the period just before, same length) / that period.
* 按时反馈率 = tasks whose feedback deadline fell in the window and got
  feedback by the deadline / tasks whose deadline fell in the window. A task
  still without feedback when its deadline passed counts as late: a rate that
  ignored open tasks would read 100% while work piles up.
* 办结率 = tasks created in the window and closed as of its end / tasks created in it.
* 超期数 = tasks, at an instant, dispatched, past their current deadline and
  without feedback (and not closed).
* 平均处置时长 = mean hours from creation to close, over tasks closed in the window.
* 回访率 = tasks closed in the window that had their follow-up visit as of the
  window's end / tasks closed in the window.
* 满意率 = satisfied / visits, over follow-up visits made in the window
  (tasks and disputes separately: two populations, one formula ``Ratio``).
* 化解率 = disputes closed in the window as 化解 / disputes closed in the window.
* 到场时间 = arrived_at − received_at in minutes, median and p90 by the
  nearest-rank rule (the smallest value with at least p·n values at or below
  it), over incidents received in the window that have an arrival time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Integer, and_, case, func, literal, or_, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.filters import Filters
from dashboard.schema import communities, disputes, grids, incidents, tasks
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import minutes_between

# --- arithmetic ------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """A rate with its parts, so the screen can show "47/50" next to "94.0%"."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def change(current: float | None, base: float | None) -> float | None:
    """Relative change (current − base) / base: the formula of both 同比 and 环比.

    None when either side is unknown or the base is zero (no ∞, no NaN).
    """
    if current is None or base is None:
        return None
    if isinstance(current, float) and math.isnan(current) or isinstance(base, float) and math.isnan(base):
        return None
    if base == 0:
        return None
    return (current - base) / base


def last_year_window(w: Window) -> Window:
    """同比's base: the same local calendar days and times one year earlier."""
    start_local, end_local = timeutil.to_local(w[0]), timeutil.to_local(w[1])
    s = datetime.combine(timeutil.shift_year(start_local.date(), -1), start_local.time())
    e = datetime.combine(timeutil.shift_year(end_local.date(), -1), end_local.time())
    return timeutil.to_utc(s), timeutil.to_utc(e)


def previous_window(w: Window, period: str | None = None) -> Window:
    """环比's base: the period just before, of the same length.

    Calendar periods step back by calendar months (本月 1–23 Nov → 1–23 Oct,
    本季度 by three months); every other window steps back by its own length in
    whole days, so today until 14:30 compares with yesterday until 14:30.
    """
    if period in ("month", "quarter"):
        months = 1 if period == "month" else 3
        start_local, end_local = timeutil.to_local(w[0]), timeutil.to_local(w[1])
        s = datetime.combine(timeutil.shift_months(start_local.date(), -months), start_local.time())
        e = datetime.combine(timeutil.shift_months(end_local.date(), -months), end_local.time())
        return timeutil.to_utc(s), timeutil.to_utc(e)
    days = max(1, math.ceil((w[1] - w[0]) / timedelta(days=1)))
    step = timedelta(days=days)
    return w[0] - step, w[1] - step


# A 同比/环比 change of a count is marked only below this p-value. Small counts
# are never marked: with 5 events or fewer in both periods together even 5 vs 0
# gives p = 0.0625.
SIGNIFICANCE_LEVEL = 0.05
_EXACT_LIMIT = 5000


def poisson_p_value(current: int, base: int, exposure_ratio: float = 1.0) -> float | None:
    """Two-sided p-value of "the two counts come from the same Poisson rate".

    The conditional (exact) test: given n = current + base events, under the
    null hypothesis ``current`` ~ Binomial(n, q) with q = r / (1 + r), where r
    is the ratio of the current period's length to the base period's (1 for
    同比 and 环比, which compare periods of equal length). The p-value sums the
    probabilities of every outcome no more likely than the one observed. Above
    5,000 events the normal approximation with continuity correction is used.
    None when there is nothing to test (n = 0) or a count is negative.
    """
    if current is None or base is None or current < 0 or base < 0 or exposure_ratio <= 0:
        return None
    current, base = int(current), int(base)
    n = current + base
    if n == 0:
        return None
    q = exposure_ratio / (1.0 + exposure_ratio)
    if n > _EXACT_LIMIT:
        sd = math.sqrt(n * q * (1 - q))
        z = max(abs(current - n * q) - 0.5, 0.0) / sd
        return min(1.0, math.erfc(z / math.sqrt(2)))
    lq, l1q = math.log(q), math.log1p(-q)
    lfn = math.lgamma(n + 1)

    def logpmf(k: int) -> float:
        return lfn - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lq + (n - k) * l1q

    observed = logpmf(current)
    tol = observed + 1e-7  # outcomes as likely as the observed one count too (float noise)
    total = 0.0
    for k in range(n + 1):
        lp = logpmf(k)
        if lp <= tol:
            total += math.exp(lp)
    return min(1.0, total)


def significant(current: float | None, base: float | None, exposure_ratio: float = 1.0) -> bool:
    """True when a change between two event counts is unlikely to be noise (Poisson test, p < 0.05)."""
    if current is None or base is None:
        return False
    if not (float(current).is_integer() and float(base).is_integer()):
        return False
    p = poisson_p_value(int(current), int(base), exposure_ratio)
    return p is not None and p < SIGNIFICANCE_LEVEL


@dataclass(frozen=True)
class Compared:
    """A figure with its 同比 and 环比 (None = "—") and the bases they came from.

    ``yoy_sig``/``pop_sig`` mark a change of a count that a Poisson test finds
    significant (p < 0.05); small counts show their change without the mark.
    Rates never carry the mark.
    """

    value: float | None
    yoy: float | None
    pop: float | None
    yoy_base: float | None
    pop_base: float | None
    yoy_sig: bool = False
    pop_sig: bool = False


def compare(value: float | None, yoy_base: float | None, pop_base: float | None) -> Compared:
    """A count with its 同比 and 环比 and whether each change is significant."""
    return Compared(
        value,
        change(value, yoy_base),
        change(value, pop_base),
        yoy_base,
        pop_base,
        significant(value, yoy_base),
        significant(value, pop_base),
    )


# --- the dispatch loop -------------------------------------------------------------


def _not_after(col, at: datetime):  # noqa: ANN001, ANN202
    """``col`` had happened by ``at``."""
    return and_(col.is_not(None), col <= at)


def _not_yet(col, at: datetime):  # noqa: ANN001, ANN202
    """``col`` had not happened by ``at`` (NULL or later)."""
    return or_(col.is_(None), col > at)


def on_time_feedback_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """按时反馈率 over tasks whose feedback deadline fell in ``window`` (see module doc).

    Grain: one number for the filtered places. Open tasks past their deadline count as late.
    """
    on_time = case((and_(tasks.c.feedback_at.is_not(None), tasks.c.feedback_at <= tasks.c.deadline_at), 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(on_time), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.deadline_at, window=window)
    n, ok = fetch_one(engine, stmt)
    return Ratio(int(ok), int(n))


def closure_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """办结率: tasks created in ``window`` and closed by its end / tasks created in it."""
    closed = case((_not_after(tasks.c.closed_at, window[1]), 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(closed), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.created_at, window=window)
    n, done = fetch_one(engine, stmt)
    return Ratio(int(done), int(n))


def overdue_condition(at: datetime):  # noqa: ANN201
    """A task is 超期 at ``at``: dispatched, deadline passed, no feedback, not closed."""
    return and_(
        _not_after(tasks.c.dispatched_at, at),
        tasks.c.deadline_at.is_not(None),
        tasks.c.deadline_at < at,
        _not_yet(tasks.c.feedback_at, at),
        _not_yet(tasks.c.closed_at, at),
        tasks.c.created_at <= at,
    )


def overdue_count(engine: Engine, f: Filters, at: datetime) -> int:
    """超期数 at the instant ``at`` (uses each task's current deadline)."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(overdue_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def mean_time_to_close_hours(engine: Engine, f: Filters, window: Window) -> float | None:
    """平均处置时长 in hours, over tasks closed in ``window``; None when none closed."""
    stmt = select(func.avg(minutes_between(tasks.c.created_at, tasks.c.closed_at))).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.closed_at, window=window)
    minutes = fetch_one(engine, stmt)[0]
    return None if minutes is None else float(minutes) / 60.0


def follow_up_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """回访率: tasks closed in ``window`` with a follow-up visit by its end / tasks closed in it."""
    visited = case((_not_after(tasks.c.visited_at, window[1]), 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(visited), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.closed_at, window=window)
    n, v = fetch_one(engine, stmt)
    return Ratio(int(v), int(n))


def task_satisfaction_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """满意率 of tasks: satisfied / follow-up visits made in ``window``."""
    sat = case((tasks.c.satisfied.is_(True), 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(sat), 0)).select_from(tasks).where(tasks.c.satisfied.is_not(None))
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.visited_at, window=window)
    n, s = fetch_one(engine, stmt)
    return Ratio(int(s), int(n))


# --- disputes -----------------------------------------------------------------------


def resolution_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """化解率: disputes closed in ``window`` as 化解 / disputes closed in it."""
    ok = case((disputes.c.status == "化解", 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(ok), 0)).select_from(disputes).where(disputes.c.closed_at.is_not(None))
    stmt = apply_filters(stmt, f, grid_col=disputes.c.grid_id, time_col=disputes.c.closed_at, window=window)
    n, r = fetch_one(engine, stmt)
    return Ratio(int(r), int(n))


def dispute_satisfaction_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """满意率 of disputes: satisfied / follow-up visits made in ``window``."""
    sat = case((disputes.c.satisfied.is_(True), 1), else_=0)
    stmt = (
        select(func.count(), func.coalesce(func.sum(sat), 0))
        .select_from(disputes)
        .where(disputes.c.satisfied.is_not(None))
    )
    stmt = apply_filters(stmt, f, grid_col=disputes.c.grid_id, time_col=disputes.c.visited_at, window=window)
    n, s = fetch_one(engine, stmt)
    return Ratio(int(s), int(n))


# --- incidents ------------------------------------------------------------------------

RESPONSE_GROUPS = {
    None: None,
    "category": incidents.c.category,
    "community": communities.c.name,
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
    ranked = select(
        base.c.grp,
        base.c.m,
        func.row_number().over(partition_by=base.c.grp, order_by=base.c.m).label("rn"),
        func.count().over(partition_by=base.c.grp).label("n"),
    ).subquery("r")
    stmt = (
        select(
            ranked.c.grp.label("group"),
            ranked.c.n.cast(Integer).label("n"),
            func.min(case((ranked.c.rn >= ranked.c.n * 0.5, ranked.c.m))).label("median_min"),
            func.min(case((ranked.c.rn >= ranked.c.n * 0.9, ranked.c.m))).label("p90_min"),
        )
        .group_by(ranked.c.grp, ranked.c.n)
        .order_by(ranked.c.grp)
    )
    df = fetch_df(engine, stmt)
    for col in ("median_min", "p90_min"):
        df[col] = df[col].astype(float)
    return df


def point_change(current: float | None, base: float | None) -> float | None:
    """Change of a rate in percentage points (0.962 vs 0.950 → +0.012).

    Rates (办结率, 化解率…) are compared by difference, not by relative change:
    "同比上升1.2个百分点" is how a briefing states it. None when either is unknown.
    """
    if current is None or base is None:
        return None
    return current - base


def compare_rates(value: Ratio, yoy_base: Ratio, pop_base: Ratio) -> Compared:
    """A rate with its 同比/环比 as percentage-point differences."""
    v, y, p = value.value, yoy_base.value, pop_base.value
    return Compared(v, point_change(v, y), point_change(v, p), y, p)

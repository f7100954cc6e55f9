"""The dispatch loop (派单闭环): tasks from creation to feedback, close and visit.

* 按时反馈率 = tasks whose feedback deadline fell in the window and got
  feedback by the deadline / tasks whose deadline fell in the window. A task
  still without feedback when its deadline passed counts as late: a rate that
  ignored open tasks would read 100% while work piles up.
* 办结率 = tasks created in the window and closed as of its end / tasks created in it.
* 超期数 = tasks, at an instant, dispatched, past their current deadline and
  without feedback (and not closed).
* 平均处置时长 = mean hours from creation to close, over tasks closed in the
  window; 处置时长中位数 = their median (nearest rank, as 到场时间). A task
  closed before it was created is a data error: left out of both, and counted
  (``time_to_close``'s ``excluded``).
* 回访率 = tasks closed in the window that had their follow-up visit as of the
  window's end / tasks closed in the window.
* 满意率 of tasks = satisfied / visits, over follow-up visits made in the window.

Then the grouped versions (by unit or community) that the 派单 page shows;
their groups add up to the scalars (tests/test_measures_dispatch.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine

from dashboard.db.schema import communities, departments, grids, tasks
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import minutes_between
from queries.measures.arithmetic import Ratio
from queries.measures.parts import nearest_rank, not_after, not_yet, with_ranks


def on_time_feedback_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """按时反馈率 over tasks whose feedback deadline fell in ``window`` (see module doc).

    Grain: one number for the filtered places. Open tasks past their deadline count as late.
    The per-task flag is ``_on_time_flag`` (shared with ``on_time_feedback_rate_by``).
    """
    stmt = select(func.count(), func.coalesce(func.sum(_on_time_flag()), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.deadline_at, window=window)
    n, ok = fetch_one(engine, stmt)
    return Ratio(int(ok), int(n))


def closure_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """办结率: tasks created in ``window`` and closed by its end / tasks created in it."""
    stmt = select(func.count(), func.coalesce(func.sum(_closed_flag(window[1])), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.created_at, window=window)
    n, done = fetch_one(engine, stmt)
    return Ratio(int(done), int(n))


def overdue_condition(at: datetime):
    """A task is 超期 at ``at``: dispatched, deadline passed, no feedback, not closed."""
    return and_(
        not_after(tasks.c.dispatched_at, at),
        tasks.c.deadline_at.is_not(None),
        tasks.c.deadline_at < at,
        not_yet(tasks.c.feedback_at, at),
        not_yet(tasks.c.closed_at, at),
        tasks.c.created_at <= at,
    )


# --- tasks still to be dealt with at an instant -------------------------------------
#
# Two populations that both used to be called "open", and are not the same:
#
# * 未办结 (``unclosed_condition``): created and not yet closed (办结): states
#   待研判, 已派发, 处置中 and 已反馈. What is still on the dispatch page's
#   queue: a task whose feedback is in still waits for the centre to close it.
# * 在办 (``before_feedback_condition``): 待派单 or 处置中, i.e. not closed
#   and the handling unit has not reported back yet: states 待研判, 已派发,
#   处置中. The grid profile's 在办派单: work the grid is still waiting for.
#
# 未办结 = 在办 + the tasks with feedback given and not yet closed (已反馈).
# All are judged from the timestamps at ``at``, like the snapshots 待派单,
# 处置中 and 超期, so they answer "now" and any 同比/环比 instant alike.


def pending_condition(at: datetime):
    """待派单 at ``at``: created, not yet dispatched or transferred, not closed."""
    return and_(tasks.c.created_at <= at, not_yet(tasks.c.dispatched_at, at), not_yet(tasks.c.closed_at, at))


def in_progress_condition(at: datetime):
    """处置中 at ``at``: dispatched, no feedback yet, not closed (已派发 and 处置中 states)."""
    return and_(not_after(tasks.c.dispatched_at, at), not_yet(tasks.c.feedback_at, at), not_yet(tasks.c.closed_at, at))


def unclosed_condition(at: datetime):
    """未办结 at ``at``: created by then and not closed by then (states 待研判 to
    已反馈: feedback given but not yet closed still counts). The dispatch queue."""
    return and_(tasks.c.created_at <= at, not_yet(tasks.c.closed_at, at))


def before_feedback_condition(at: datetime):
    """在办 at ``at``: 待派单 or 处置中 (``pending_condition`` or
    ``in_progress_condition``): not closed and no feedback from the handling
    unit yet (states 待研判, 已派发, 处置中; 已反馈 is out). The grid profile's 在办派单."""
    return or_(pending_condition(at), in_progress_condition(at))


def overdue_count(engine: Engine, f: Filters, at: datetime) -> int:
    """超期数 at the instant ``at`` (uses each task's current deadline)."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(overdue_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


@dataclass(frozen=True)
class CloseTimes:
    """平均处置时长 and 处置时长中位数 over the tasks closed in a window.

    ``n`` counts the durations used; ``excluded`` the tasks closed in the window
    whose close time lies before their creation (a data error: left out of the
    mean and the median, and shown as such)."""

    n: int
    mean_hours: float | None
    median_hours: float | None
    excluded: int


def _close_valid():
    """A task's time to close is usable: closed at or after its creation."""
    return tasks.c.closed_at >= tasks.c.created_at


def _close_durations(f: Filters, window: Window):
    """Subquery "d" (column m: minutes from creation to close) of the tasks closed
    in ``window`` with a usable duration: the population of both 处置时长 figures."""
    return apply_filters(
        select(_close_minutes().label("m")).select_from(tasks).where(_close_valid()),
        f, grid_col=tasks.c.grid_id, time_col=tasks.c.closed_at, window=window,
    ).subquery("d")


def time_to_close(engine: Engine, f: Filters, window: Window) -> CloseTimes:
    """平均处置时长 (mean) and 处置时长中位数 (median, nearest rank) in hours over
    tasks closed in ``window``, and how many were left out for closing before
    they were created. Two statements (the ranked durations; the errors).
    Grain: one CloseTimes (hours None when no valid task closed)."""
    d = _close_durations(f, window)
    r = with_ranks(d, d.c.m, None).subquery("r")
    n, mean_m, median_m = fetch_one(engine, select(func.count(), func.avg(r.c.m), nearest_rank(r, r.c.m, 0.5)).select_from(r))
    bad = apply_filters(
        select(func.count()).select_from(tasks).where(tasks.c.closed_at < tasks.c.created_at),
        f, grid_col=tasks.c.grid_id, time_col=tasks.c.closed_at, window=window,
    )
    excluded = fetch_one(engine, bad)[0]
    hours = lambda m: None if m is None else float(m) / 60.0  # noqa: E731
    return CloseTimes(int(n), hours(mean_m), hours(median_m), int(excluded))


def mean_time_to_close_hours(engine: Engine, f: Filters, window: Window) -> float | None:
    """平均处置时长 in hours alone (``time_to_close``'s mean, without ranking: a
    comparison base); None when no task closed."""
    d = _close_durations(f, window)
    minutes = fetch_one(engine, select(func.avg(d.c.m)))[0]
    return None if minutes is None else float(minutes) / 60.0


def follow_up_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """回访率: tasks closed in ``window`` with a follow-up visit by its end / tasks closed in it."""
    visited = case((not_after(tasks.c.visited_at, window[1]), 1), else_=0)
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


# --- dispatch page ---
# Grouped versions of 按时反馈率, 办结率 and 平均处置时长 (by the task's current
# assignee unit, or by community). The per-task expressions below are the ones
# the scalar measures above use (same time column, same window, same filters);
# only the GROUP BY is added, so summing the groups
# gives the scalar's numerator and denominator (tests/test_measures_dispatch.py
# checks this on the demo world).

LOOP_GROUPS = ("department", "community")
UNIT_OFFICER = 0  # group key of tasks held by a community officer (社区民警)
UNIT_NONE = -1  # group key of tasks not yet dispatched (未派发)


def _on_time_flag():
    """1 for a task that got its feedback by its deadline, else 0 (按时反馈率's numerator)."""
    return case((and_(tasks.c.feedback_at.is_not(None), tasks.c.feedback_at <= tasks.c.deadline_at), 1), else_=0)


def _closed_flag(end: datetime):
    """1 for a task closed by ``end`` (办结率's numerator, judged at the window's end), else 0."""
    return case((not_after(tasks.c.closed_at, end), 1), else_=0)


def _close_minutes():
    """Minutes from creation to close (平均处置时长 before the division by 60)."""
    return minutes_between(tasks.c.created_at, tasks.c.closed_at)


def _group_key(by: str):
    """Per-task group key, from the tasks table alone (so the scan stays on tasks).

    "department": the unit holding the task now (after any 转派): the
    department's id, UNIT_OFFICER for the community officer, UNIT_NONE for a
    task not dispatched yet. "community": the community of the task's grid.
    """
    if by == "community":
        return select(grids.c.community_id).where(grids.c.id == tasks.c.grid_id).correlate(tasks).scalar_subquery()
    if by == "department":
        return case(
            (tasks.c.department_id.is_not(None), tasks.c.department_id),
            (tasks.c.officer_id.is_not(None), UNIT_OFFICER),
            else_=UNIT_NONE,
        )
    raise ValueError(f"by must be one of {LOOP_GROUPS}")


def _grouped(engine: Engine, f: Filters, window: Window, by: str, time_col, aggregates, where=None, ranked: bool = False) -> pd.DataFrame:
    """Aggregate per group over the tasks whose ``time_col`` falls in ``window``
    (the scalar measure's population and filters), then name the groups.

    ``aggregates(t)`` gives the labelled aggregate columns over subquery "t"
    (one row per task: key plus the per-task values; with ``ranked`` also rn
    and cnt, each task's rank by minutes to close within its group, for
    ``nearest_rank``). ``where`` narrows the tasks first. Columns of the
    result: key (int), group (name), then the aggregates; ordered by key.
    """
    values = {"ok": _on_time_flag(), "done": _closed_flag(window[1]), "m": _close_minutes()}
    inner = select(_group_key(by).label("key"), *(v.label(k) for k, v in values.items())).select_from(tasks)
    if where is not None:
        inner = inner.where(where)
    t = apply_filters(inner, f, grid_col=tasks.c.grid_id, time_col=time_col, window=window).subquery("t")
    if ranked:
        t = with_ranks(t, t.c.m, t.c.key).subquery("tr")
    agg = select(t.c.key, *aggregates(t)).group_by(t.c.key).subquery("agg")
    if by == "community":
        label, frm = communities.c.name, agg.outerjoin(communities, communities.c.id == agg.c.key)
    else:
        label = case((agg.c.key == UNIT_OFFICER, "社区民警"), (agg.c.key == UNIT_NONE, "未派发"), else_=departments.c.name)
        frm = agg.outerjoin(departments, departments.c.id == agg.c.key)
    cols = [c for c in agg.c if c.name != "key"]
    df = fetch_df(engine, select(agg.c.key, label.label("group"), *cols).select_from(frm).order_by(agg.c.key))
    df["key"] = df["key"].astype(int)
    return df


def on_time_feedback_rate_by(engine: Engine, f: Filters, window: Window, by: str = "department") -> pd.DataFrame:
    """按时反馈率 per group: ``on_time_feedback_rate`` computed within each group.

    Grain: one row per group with at least one task whose feedback deadline fell
    in ``window``. Columns: key (int: a department id, UNIT_OFFICER or
    UNIT_NONE; or a community id), group (name), due (denominator), on_time
    (numerator), rate (on_time / due). Ordered by key.
    """
    df = _grouped(engine, f, window, by, tasks.c.deadline_at, lambda t: [func.count().label("due"), func.coalesce(func.sum(t.c.ok), 0).label("on_time")])
    df = df.astype({"due": int, "on_time": int})
    df["rate"] = df["on_time"] / df["due"]
    return df


def on_time_feedback_counts(window: Window, key, from_=tasks, where=None):
    """按时反馈率's parts per ``key`` (a per-task expression over ``from_``, e.g. the
    reporter of the task's report for 量化考核): a SELECT of key, due (tasks whose
    feedback deadline fell in ``window``) and on_time (of those, feedback by the
    deadline), grouped by key; the same population and flag as
    ``on_time_feedback_rate``, with the places left to the caller (``where``)."""
    stmt = (
        select(key.label("key"), func.count().label("due"), func.coalesce(func.sum(_on_time_flag()), 0).label("on_time"))
        .select_from(from_)
        .where(tasks.c.deadline_at >= window[0], tasks.c.deadline_at < window[1])
    )
    if where is not None:
        stmt = stmt.where(where)
    return stmt.group_by(key)


def closure_rate_by(engine: Engine, f: Filters, window: Window, by: str = "department") -> pd.DataFrame:
    """办结率 per group: ``closure_rate`` computed within each group.

    Grain: one row per group with at least one task created in ``window``.
    Columns: key, group, created (denominator), closed (numerator: closed by
    the window's end), rate. Ordered by key.
    """
    df = _grouped(engine, f, window, by, tasks.c.created_at, lambda t: [func.count().label("created"), func.coalesce(func.sum(t.c.done), 0).label("closed")])
    df = df.astype({"created": int, "closed": int})
    df["rate"] = df["closed"] / df["created"]
    return df


def time_to_close_by(engine: Engine, f: Filters, window: Window, by: str = "department") -> pd.DataFrame:
    """平均处置时长 and 处置时长中位数 per group: ``time_to_close`` within each group.

    Grain: one row per group with at least one task closed in ``window`` at or
    after its creation (closed-before-created tasks are left out, as in the
    scalar). Columns: key, group, n (durations used), hours (mean hours from
    creation to close), median_hours (nearest rank). Ordered by key.
    """
    df = _grouped(
        engine, f, window, by, tasks.c.closed_at,
        lambda t: [func.count().label("n"), func.avg(t.c.m).label("minutes"), nearest_rank(t, t.c.m, 0.5).label("median_minutes")],
        where=_close_valid(), ranked=True,
    )
    df = df.astype({"n": int})
    df["hours"] = df.pop("minutes").astype(float) / 60.0
    df["median_hours"] = df.pop("median_minutes").astype(float) / 60.0
    return df

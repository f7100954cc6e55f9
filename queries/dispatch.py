"""Dispatch tasks (派单) and their state, as of any instant.

States at an instant are derived from the task's timestamps, so the same
function answers "now" and the snapshot instants of 同比/环比
(``windows.Periods.at_last_year`` / ``at_previous``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.engine import Engine

from dashboard import station, timeutil
from dashboard.db.schema import TASK_STATES, communities, departments, grids, officers, reports, task_events, tasks
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries.kpi import Kpi
from queries.measures import arithmetic, loop, windows


def pending_count(engine: Engine, f: Filters, at: datetime) -> int:
    """Tasks waiting to be dispatched (待派单) at ``at``. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(loop.pending_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def in_progress_count(engine: Engine, f: Filters, at: datetime) -> int:
    """Tasks dispatched and awaiting feedback (处置中) at ``at``. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(loop.in_progress_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def department_names(engine: Engine) -> frozenset[str]:
    """The names of the 职能部门 (table ``departments``): units, not persons, so
    ``mask.name`` shows them as they are. Grain: every department's name."""
    df = fetch_df(engine, select(departments.c.name).order_by(departments.c.name))
    return frozenset(str(n) for n in df["name"] if isinstance(n, str) and n.strip())


def latest_event_id(engine: Engine) -> int:
    """The newest task event id (max ``task_events.id``): a cheap change marker for
    live tiles; every change to a task writes an event. Grain: one number (0 if none)."""
    return int(fetch_one(engine, select(func.coalesce(func.max(task_events.c.id), 0)))[0])


def state_counts(engine: Engine, f: Filters, window: Window | None = None) -> pd.DataFrame:
    """Tasks by their current state, in loop order.

    With ``window`` only the tasks created in it (half-open, UTC) are counted,
    each by its state now; without it, every task in the filtered places.
    Grain: one row per state in TASK_STATES (zero where none). Columns: state,
    n, share (n / all the tasks counted; None when there are none).
    """
    stmt = apply_filters(
        select(tasks.c.state, func.count().label("n")).select_from(tasks),
        f,
        grid_col=tasks.c.grid_id,
        time_col=tasks.c.created_at if window is not None else None,
        window=window,
    )
    df = fetch_df(engine, stmt.group_by(tasks.c.state))
    counts = dict(zip(df["state"], df["n"])) if len(df) else {}
    n = [int(counts.get(s, 0)) for s in TASK_STATES]
    total = sum(n)
    return pd.DataFrame({"state": list(TASK_STATES), "n": n, "share": [k / total if total else None for k in n]}).astype({"share": object})


def task_history(engine: Engine, task_id: int) -> pd.DataFrame:
    """The whole event log of one task, oldest first.

    Grain: one row per task event. Columns: seq, at (naive UTC), event,
    actor, to_state, officer (name or None), department (name or None),
    deadline_at, note. Empty when the task does not exist.
    """
    stmt = (
        select(
            task_events.c.seq,
            task_events.c.at,
            task_events.c.event,
            task_events.c.actor,
            task_events.c.to_state,
            officers.c.name.label("officer"),
            departments.c.name.label("department"),
            task_events.c.deadline_at,
            task_events.c.note,
        )
        .select_from(
            task_events.outerjoin(officers, officers.c.id == task_events.c.officer_id).outerjoin(
                departments, departments.c.id == task_events.c.department_id
            )
        )
        .where(task_events.c.task_id == task_id)
        .order_by(task_events.c.seq)
    )
    return fetch_df(engine, stmt)


# --- the dispatch page (派单队列) ---------------------------------------------------------
#
# The queue holds the tasks 未办结 at an instant ``at`` (``loop.unclosed_condition``:
# created by ``at`` and not closed by then, states 待研判, 已派发, 处置中 or
# 已反馈). Closed (已办结) and visited (已回访) tasks are out of the queue.

UNCLOSED_STATES = TASK_STATES[:4]  # 待研判 已派发 处置中 已反馈
# Queue phases, in screen order: overdue first, then waiting for feedback
# (soonest deadline first), then waiting to be dispatched (oldest first), then
# feedback given and waiting to be closed (oldest feedback first).
PHASE_OVERDUE, PHASE_RUNNING, PHASE_PENDING, PHASE_FEEDBACK = 0, 1, 2, 3


def unclosed_count(engine: Engine, f: Filters, at: datetime) -> int:
    """Tasks 未办结 (``loop.unclosed_condition``) at ``at`` in the filtered places. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(loop.unclosed_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def _state_at(at: datetime):
    """The task's state at ``at``: the to_state of its last event by then (the
    stored state when the task has no event log)."""
    last = (
        select(task_events.c.to_state)
        .where(task_events.c.task_id == tasks.c.id, task_events.c.at <= at)
        .order_by(task_events.c.seq.desc())
        .limit(1)
        .correlate(tasks)
        .scalar_subquery()
    )
    return func.coalesce(last, tasks.c.state)


URGENCY_RANK = {"特急": 0, "紧急": 1, "一般": 2}  # a task without an urgency ranks with 一般


def urgency_rank(col):
    """特急 0, 紧急 1, anything else (一般, NULL) 2: the order of urgency as SQL."""
    return case(*((col == u, r) for u, r in URGENCY_RANK.items() if r < 2), else_=2)


def unclosed_tasks(
    engine: Engine, f: Filters, at: datetime, limit: int = 500, overdue_since: datetime | None = None, responsible: int | None = None,
    urgency_first: bool = False,
) -> pd.DataFrame:
    """The tasks 未办结 (``loop.unclosed_condition``) at ``at`` in the filtered places (categories and period do
    not apply: the queue is what is still on the table), overdue first.

    Grain: one row per task 未办结, at most ``limit`` rows, in queue order: phase
    (PHASE_OVERDUE, PHASE_RUNNING, PHASE_PENDING, PHASE_FEEDBACK), then within
    a phase by deadline (overdue and running), creation (pending) or feedback
    time, then id.
    Columns: id, created_at, state (at ``at``, from the event log), category,
    urgency, community_id, community, grid_id, grid, officer (the assigned
    community officer's name, unmasked) or department (the assigned
    department's name), deadline_at, dispatched_at, feedback_at (naive UTC),
    transfer_count (转派 so far), overdue (bool, ``loop.overdue_condition``),
    phase, minutes_left (deadline − at in minutes, negative when past; NaN
    without a deadline). Assignee, deadline and transfer count are the task's
    current ones, as in ``loop.overdue_count``.

    ``overdue_since`` keeps only the tasks that became overdue after that
    instant (overdue at ``at``, deadline later than ``overdue_since``): the
    wall's "newly overdue" alarms. ``responsible`` keeps only the overdue tasks
    of one row of ``overdue_by(..., "department")``: a department id,
    OFFICERS_KEY or UNASSIGNED_KEY.

    ``urgency_first`` (the wall's queue, cut to the rows that fit): the overdue
    tasks first, most overdue first, then the others by urgency (特急, 紧急,
    一般: ``URGENCY_RANK``) and only then in phase order, so what the cut
    hides is never more overdue or more urgent than what is shown.
    """
    overdue = loop.overdue_condition(at)
    pending = or_(tasks.c.dispatched_at.is_(None), tasks.c.dispatched_at > at)
    answered = and_(tasks.c.feedback_at.is_not(None), tasks.c.feedback_at <= at)
    phase = case((overdue, PHASE_OVERDUE), (pending, PHASE_PENDING), (answered, PHASE_FEEDBACK), else_=PHASE_RUNNING)
    sort_at = case((overdue, tasks.c.deadline_at), (pending, tasks.c.created_at), (answered, tasks.c.feedback_at), else_=tasks.c.deadline_at)
    # ``urgency_first``: overdue rows 0, the others their urgency's rank + 1 (a
    # constant 0 otherwise, selected but never ordered by)
    rank = case((overdue, 0), else_=urgency_rank(tasks.c.urgency) + 1) if urgency_first else literal(0)
    # First the unclosed tasks from ``tasks`` alone (one scan, ordered and cut to
    # ``limit``), then their names: joining first made SQLite walk every task
    # through the grid index.
    q = apply_filters(
        select(
            tasks.c.id,
            tasks.c.grid_id,
            tasks.c.officer_id,
            tasks.c.department_id,
            case((overdue, 1), else_=0).label("overdue"),
            phase.label("phase"),
            rank.label("rank"),
            case((sort_at.is_(None), 1), else_=0).label("no_sort_at"),
            sort_at.label("sort_at"),
        ).where(loop.unclosed_condition(at)),
        f,
        grid_col=tasks.c.grid_id,
    )
    if overdue_since is not None:
        q = q.where(overdue, tasks.c.deadline_at > overdue_since)
    if responsible is not None:
        q = q.where(overdue, _responsible(responsible))
    first = [rank] if urgency_first else []
    q = q.order_by(*first, phase, case((sort_at.is_(None), 1), else_=0), sort_at, tasks.c.id).limit(limit).subquery("q")
    stmt = (
        select(
            tasks.c.id,
            tasks.c.created_at,
            _state_at(at).label("state"),
            tasks.c.category,
            tasks.c.urgency,
            communities.c.id.label("community_id"),
            communities.c.name.label("community"),
            grids.c.id.label("grid_id"),
            grids.c.name.label("grid"),
            officers.c.name.label("officer"),
            departments.c.name.label("department"),
            tasks.c.deadline_at,
            tasks.c.dispatched_at,
            tasks.c.feedback_at,
            tasks.c.transfer_count,
            q.c.overdue,
            q.c.phase,
        )
        .select_from(
            q.join(tasks, tasks.c.id == q.c.id)
            .join(grids, grids.c.id == q.c.grid_id)
            .join(communities, communities.c.id == grids.c.community_id)
            .outerjoin(officers, officers.c.id == q.c.officer_id)
            .outerjoin(departments, departments.c.id == q.c.department_id)
        )
        .order_by(*([q.c.rank] if urgency_first else []), q.c.phase, q.c.no_sort_at, q.c.sort_at, q.c.id)
    )
    df = fetch_df(engine, stmt)
    for col in ("created_at", "deadline_at", "dispatched_at", "feedback_at"):
        df[col] = pd.to_datetime(df[col])
    df["transfer_count"] = df["transfer_count"].astype(int)
    df["overdue"] = df["overdue"].astype(int).astype(bool)
    df["phase"] = df["phase"].astype(int)
    df["minutes_left"] = (df["deadline_at"] - pd.Timestamp(at)).dt.total_seconds() / 60.0
    return df


# overdue_by(..., "department"): tasks a community officer holds (no department),
# and tasks nobody holds, each as one row beside the departments.
OFFICERS_KEY, UNASSIGNED_KEY = -1, -2
OVERDUE_BY = ("grid", "community", "department")


def _responsible(key: int):
    if key == OFFICERS_KEY:
        return and_(tasks.c.department_id.is_(None), tasks.c.officer_id.is_not(None))
    if key == UNASSIGNED_KEY:
        return and_(tasks.c.department_id.is_(None), tasks.c.officer_id.is_(None))
    return tasks.c.department_id == key


def overdue_by(engine: Engine, f: Filters, at: datetime, by: str = "grid") -> pd.DataFrame:
    """Where the overdue work is, and who holds it: the tasks 超期 at ``at``
    (``loop.overdue_condition``) in the filtered places, per grid,
    community or responsible unit (a department; 社区民警 for the tasks an
    officer holds; 未指派 for neither).

    Grain: one row per group with any overdue task, most overdue tasks first.
    Columns: key (grid, community or department id; OFFICERS_KEY /
    UNASSIGNED_KEY), group (its name), overdue (the count; they add up to
    ``loop.overdue_count``), this_week (of those, the ones whose deadline
    passed this local week, from Monday 00:00), oldest_deadline (naive UTC),
    max_days (days past the oldest deadline at ``at``).
    """
    if by not in OVERDUE_BY:
        raise ValueError(f"by must be one of {OVERDUE_BY}, got {by!r}")
    today = timeutil.local_today(at)
    week = timeutil.day_start_utc(today - timedelta(days=today.weekday()))
    overdue = loop.overdue_condition(at)
    if by == "department":
        # grouped by plain columns (a CASE of literals in GROUP BY would be two
        # different bound expressions on PostgreSQL); the officers' and the
        # unassigned rows are folded together below
        held = tasks.c.officer_id.is_not(None).label("held")
        keys = [tasks.c.department_id.label("key"), departments.c.name.label("group"), held]
        src = tasks.outerjoin(departments, departments.c.id == tasks.c.department_id)
    elif by == "grid":
        keys = [grids.c.id.label("key"), grids.c.name.label("group")]
        src = tasks.join(grids, grids.c.id == tasks.c.grid_id)
    else:
        keys = [communities.c.id.label("key"), communities.c.name.label("group")]
        src = tasks.join(grids, grids.c.id == tasks.c.grid_id).join(communities, communities.c.id == grids.c.community_id)
    stmt = apply_filters(
        select(
            *keys,
            func.count().label("overdue"),
            func.sum(case((tasks.c.deadline_at >= week, 1), else_=0)).label("this_week"),
            func.min(tasks.c.deadline_at).label("oldest_deadline"),
        )
        .select_from(src)
        .where(overdue),
        f,
        grid_col=tasks.c.grid_id,
    ).group_by(*keys)
    df = fetch_df(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=["key", "group", "overdue", "this_week", "oldest_deadline", "max_days"])
    if by == "department":
        none = df["key"].isna()
        held = df["held"].astype(bool)
        df.loc[none & held, ["key", "group"]] = [OFFICERS_KEY, "社区民警"]
        df.loc[none & ~held, ["key", "group"]] = [UNASSIGNED_KEY, "未指派"]
        df = df.groupby(["key", "group"], as_index=False).agg(overdue=("overdue", "sum"), this_week=("this_week", "sum"), oldest_deadline=("oldest_deadline", "min"))
    df["key"] = df["key"].astype(int)
    df["overdue"] = df["overdue"].astype(int)
    df["this_week"] = df["this_week"].astype(int)
    df["oldest_deadline"] = pd.to_datetime(df["oldest_deadline"])
    df["max_days"] = (pd.Timestamp(at) - df["oldest_deadline"]).dt.total_seconds() / 86400.0
    return df.sort_values(["overdue", "max_days", "group"], ascending=[False, False, True]).reset_index(drop=True)


@dataclass(frozen=True)
class TaskDetail:
    """One task as the detail view shows it (names unmasked: the page masks)."""

    id: int
    created_at: datetime
    state: str
    category: str
    urgency: str
    community_id: int
    community: str
    grid_id: int
    grid: str
    officer: str | None
    department: str | None
    dispatched_at: datetime | None
    deadline_at: datetime | None
    feedback_at: datetime | None
    closed_at: datetime | None
    visited_at: datetime | None
    satisfied: bool | None
    transfer_count: int
    report_id: int | None
    reported_at: datetime | None
    place: str | None
    report_text: str | None
    overdue: bool | None = None  # 超期 at the ``at`` given to task_detail (None without one)


def task_detail(engine: Engine, task_id: int, at: datetime | None = None) -> TaskDetail | None:
    """One task with its place, current assignee and the report it came from.

    Grain: one task (None when no task has this id). State, assignee and times
    are the stored current ones; ``overdue`` is ``loop.overdue_condition(at)``
    when ``at`` is given.
    """
    flag = case((loop.overdue_condition(at), 1), else_=0) if at is not None else None
    stmt = (
        select(
            *([flag.label("overdue")] if flag is not None else []),
            tasks.c.id,
            tasks.c.created_at,
            tasks.c.state,
            tasks.c.category,
            tasks.c.urgency,
            communities.c.id.label("community_id"),
            communities.c.name.label("community"),
            grids.c.id.label("grid_id"),
            grids.c.name.label("grid"),
            officers.c.name.label("officer"),
            departments.c.name.label("department"),
            tasks.c.dispatched_at,
            tasks.c.deadline_at,
            tasks.c.feedback_at,
            tasks.c.closed_at,
            tasks.c.visited_at,
            tasks.c.satisfied,
            tasks.c.transfer_count,
            tasks.c.report_id,
            reports.c.reported_at,
            reports.c.place,
            reports.c.text.label("report_text"),
        )
        .select_from(
            tasks.join(grids, grids.c.id == tasks.c.grid_id)
            .join(communities, communities.c.id == grids.c.community_id)
            .outerjoin(officers, officers.c.id == tasks.c.officer_id)
            .outerjoin(departments, departments.c.id == tasks.c.department_id)
            .outerjoin(reports, reports.c.id == tasks.c.report_id)
        )
        .where(tasks.c.id == task_id)
    )
    df = fetch_df(engine, stmt)
    if df.empty:
        return None
    row = df.iloc[0].to_dict()
    clean = {k: (None if _missing(v) else v) for k, v in row.items()}
    for k in ("id", "community_id", "grid_id", "transfer_count"):
        clean[k] = int(clean[k])
    if clean["report_id"] is not None:
        clean["report_id"] = int(clean["report_id"])
    for k in ("satisfied", "overdue"):
        if clean.get(k) is not None:
            clean[k] = bool(clean[k])
    for k in ("created_at", "dispatched_at", "deadline_at", "feedback_at", "closed_at", "visited_at", "reported_at"):
        if clean[k] is not None:
            clean[k] = pd.Timestamp(clean[k]).to_pydatetime()
    return TaskDetail(**clean)


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def loop_by(engine: Engine, f: Filters, window: Window, by: str = "department") -> pd.DataFrame:
    """按时反馈率, 办结率, 平均处置时长 and 处置时长中位数 side by side per group
    (``by`` is "department": the unit holding the task now, or "community").

    Grain: one row per group that has any of the three populations in
    ``window``. Columns: key, group, due, on_time, on_time_rate, created,
    closed, closure_rate, closed_in_window (tasks closed in the window with a
    usable duration), mean_close_hours, median_close_hours (rates and hours
    NaN where a group has no such tasks). Ordered by the number of tasks
    created, then due, descending. Each part is ``measures.*_by``.
    """
    a = loop.on_time_feedback_rate_by(engine, f, window, by).rename(columns={"rate": "on_time_rate"})
    b = loop.closure_rate_by(engine, f, window, by).rename(columns={"rate": "closure_rate"})
    c = loop.time_to_close_by(engine, f, window, by).rename(
        columns={"n": "closed_in_window", "hours": "mean_close_hours", "median_hours": "median_close_hours"}
    )
    out = a.merge(b, on=["key", "group"], how="outer").merge(c, on=["key", "group"], how="outer")
    for col in ("due", "on_time", "created", "closed", "closed_in_window"):
        out[col] = out[col].fillna(0).astype(int)
    for col in ("on_time_rate", "closure_rate", "mean_close_hours", "median_close_hours"):
        out[col] = out[col].astype(float)
    out["key"] = out["key"].astype(int)
    cols = [
        "key", "group", "due", "on_time", "on_time_rate", "created", "closed", "closure_rate",
        "closed_in_window", "mean_close_hours", "median_close_hours",
    ]  # fmt: skip
    return out.sort_values(["created", "due", "key"], ascending=[False, False, True], ignore_index=True)[cols]


SNAPSHOTS = ("now", "last_year", "previous")


def snapshot_counts(engine: Engine, f: Filters, periods: windows.Periods) -> pd.DataFrame:
    """待派单, 处置中 and 超期 at the snapshot instants of ``periods``: now
    (``at``), the same local instant one year earlier (同比's base,
    ``at_last_year``) and ``at_previous`` (环比's base: yesterday for 今日, the
    same instant last month for 本月), in one pass over the tasks: each count
    uses the very condition of ``pending_count``, ``in_progress_count`` and
    ``loop.overdue_count``. Coverage is ``snapshots_compared``'s.

    Grain: one row per instant, in the order now, last_year, previous.
    Columns: instant (SNAPSHOTS), at (naive UTC), pending, in_progress, overdue (ints).
    """
    p = periods
    instants = dict(zip(SNAPSHOTS, (p.at, p.at_last_year, p.at_previous)))
    conditions = {"pending": loop.pending_condition, "in_progress": loop.in_progress_condition, "overdue": loop.overdue_condition}
    cols = [
        func.coalesce(func.sum(case((cond(t), 1), else_=0)), 0).label(f"{name}__{key}")
        for key, t in instants.items()
        for name, cond in conditions.items()
    ]
    # Only a task not closed by the earliest instant can count anywhere (a plain
    # scan: a condition on created_at would make SQLite walk the whole index).
    earliest = min(instants.values())
    stmt = select(*cols).select_from(tasks).where(or_(tasks.c.closed_at.is_(None), tasks.c.closed_at > earliest))
    row = dict(zip([c.name for c in cols], fetch_one(engine, apply_filters(stmt, f, grid_col=tasks.c.grid_id))))
    return pd.DataFrame(
        [{"instant": key, "at": t, **{name: int(row[f"{name}__{key}"]) for name in conditions}} for key, t in instants.items()]
    )


def snapshots_compared(engine: Engine, f: Filters, periods: windows.Periods, since: datetime | None) -> dict[str, arithmetic.Compared]:
    """待派单, 处置中, 超期 (``snapshot_counts``) each as a Compared by
    ``periods.judge`` (``since``: the tasks' first record, ``feed_starts``).
    Grain: one Compared per name."""
    snaps = snapshot_counts(engine, f, periods).set_index("instant")
    return {
        name: periods.judge(*(int(snaps.at[k, name]) for k in SNAPSHOTS), since, instants=True)
        for name in ("pending", "in_progress", "overdue")
    }


def loop_kpis(engine: Engine, f: Filters, now: datetime) -> list[Kpi]:
    """The six tiles of the dispatch page at ``now`` for the filter's period.

    Grain: one ``Kpi`` per tile, in screen order: 待派单,
    处置中, 超期 (snapshots at ``now``: ``snapshots_compared``), 按时反馈率,
    办结率 (rates over the period, by percentage points) and 平均处置时长 (kind
    "hours": mean hours, relative change, never marked 显著; its detail gives
    the median, 处置时长中位数). Every 同比/环比 by ``windows.periods_of(f,
    now)`` with the tasks' first record as coverage. The rates' labels carry the
    period (``windows.period_name``: 近30天办结率, 本月按时反馈率). Categories in ``f`` do not
    apply (they are incident categories).
    """
    places = f.places_only()
    p = windows.periods_of(f, now)
    since = windows.feed_starts(engine).tasks
    snaps = snapshots_compared(engine, places, p, since)

    def rated(fn) -> arithmetic.Compared:
        return p.compare(lambda w: fn(engine, places, w), since, "rate")

    on_time, closure = rated(loop.on_time_feedback_rate), rated(loop.closure_rate)
    times = loop.time_to_close(engine, places, p.current)
    mean_close = p.compare(lambda w: loop.mean_time_to_close_hours(engine, places, w), since, "level", value=times.mean_hours)
    median = "—" if times.median_hours is None else f"{times.median_hours:.1f}"
    name = windows.period_name(f)  # the rates' labels name their window: 近30天办结率 ≠ 本月办结率
    return [
        Kpi("pending", "待派单", "count", snaps["pending"]),
        Kpi("in_progress", "处置中", "count", snaps["in_progress"]),
        Kpi("overdue", "超期", "count", snaps["overdue"], alarm=bool(snaps["overdue"].value)),
        Kpi("on_time", f"{name}按时反馈率", "rate", on_time, on_time.detail, alarm=on_time.ratio.below(station.current().targets.feedback_on_time), higher_is_better=True),
        Kpi("closure", f"{name}办结率", "rate", closure, closure.detail, higher_is_better=True),
        Kpi("mean_close", "平均处置时长", "hours", mean_close, f"小时 · 中位数 {median}", higher_is_better=False),
    ]

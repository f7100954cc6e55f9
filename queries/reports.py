"""Grid reports (网格上报) uploaded by grid workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import communities, departments, grid_workers, grids, officers, reports, tasks
from dashboard.filters import Filters
from queries import dispatch
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import local_day
from queries.kpi import Kpi
from queries.measures import grid_reports, loop, windows


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


# --- the 网格上报 page ----------------------------------------------------------------

URGENT = ("紧急", "特急")


def urgent_count(engine: Engine, f: Filters, window: Window) -> int:
    """Reports marked 紧急 or 特急 uploaded in ``window``. Grain: one number."""
    stmt = select(func.count()).select_from(reports).where(reports.c.urgency.in_(URGENT))
    stmt = apply_filters(stmt, f, grid_col=reports.c.grid_id, time_col=reports.c.reported_at, window=window)
    return int(fetch_one(engine, stmt)[0])


def newest_task_of_report():
    """Join condition picking a report's newest task (highest id): one task per report."""
    t2 = tasks.alias("t2")
    return ~select(t2.c.id).where(t2.c.report_id == tasks.c.report_id, t2.c.id > tasks.c.id).exists()


LATEST_COLUMNS = [
    "id", "reported_at", "category", "urgency", "community", "grid", "community_id", "grid_id",
    "place", "text", "reporter", "reporter_kind", "task_id", "task_state",
]


def latest(
    engine: Engine,
    f: Filters,
    window: Window,
    categories: tuple[str, ...] | None = None,
    urgencies: tuple[str, ...] | None = None,
    limit: int = 200,
) -> pd.DataFrame:
    """The newest reports in the filtered places and ``window``, newest first.

    ``categories`` (REPORT_CATEGORIES) and ``urgencies`` (URGENCIES) narrow the
    list; None or empty means all. ``f.categories`` (incident categories) do
    not apply to reports.

    Grain: one row per report, at most ``limit`` rows. Columns: id,
    reported_at (naive UTC), category, urgency, community, grid (names),
    community_id, grid_id, place, text (raw: mask before showing), reporter
    (grid worker's raw name, None when unknown), reporter_kind
    (grid_workers.kind), task_id and task_state (the report's newest task; None
    when no task was made).
    """
    if window is None:
        return pd.DataFrame(columns=LATEST_COLUMNS)
    inner = select(
        reports.c.id, reports.c.reported_at, reports.c.category, reports.c.urgency, reports.c.grid_id,
        reports.c.place, reports.c.text, reports.c.reporter_id,
    )
    inner = apply_filters(inner, f, grid_col=reports.c.grid_id, time_col=reports.c.reported_at, window=window)
    if categories:
        inner = inner.where(reports.c.category.in_(list(categories)))
    if urgencies:
        inner = inner.where(reports.c.urgency.in_(list(urgencies)))
    r = inner.order_by(reports.c.reported_at.desc(), reports.c.id.desc()).limit(int(limit)).subquery("r")
    stmt = (
        select(
            r.c.id, r.c.reported_at, r.c.category, r.c.urgency,
            communities.c.name.label("community"), grids.c.name.label("grid"),
            grids.c.community_id, r.c.grid_id, r.c.place, r.c.text,
            grid_workers.c.name.label("reporter"), grid_workers.c.kind.label("reporter_kind"),
            tasks.c.id.label("task_id"), tasks.c.state.label("task_state"),
        )
        .select_from(
            r.join(grids, grids.c.id == r.c.grid_id)
            .join(communities, communities.c.id == grids.c.community_id)
            .outerjoin(grid_workers, grid_workers.c.id == r.c.reporter_id)
            .outerjoin(tasks, and_(tasks.c.report_id == r.c.id, newest_task_of_report()))
        )
        .order_by(r.c.reported_at.desc(), r.c.id.desc())
    )
    df = fetch_df(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=LATEST_COLUMNS)
    df["task_id"] = df["task_id"].astype("Int64")
    return df[LATEST_COLUMNS]


@dataclass(frozen=True)
class ReportDetail:
    """One report with its place, reporter and its (newest) task's current state.

    Names are raw: the page masks them. Task fields are None when no task was
    made from the report. ``overdue`` is the task's 超期 state at the ``at`` the
    detail was asked for (``loop.overdue_condition``).
    """

    id: int
    reported_at: datetime
    category: str
    urgency: str
    place: str
    text: str
    source: str
    grid_id: int
    grid: str
    community_id: int
    community: str
    reporter: str | None
    reporter_kind: str | None
    task_id: int | None
    task_state: str | None
    task_created_at: datetime | None
    dispatched_at: datetime | None
    deadline_at: datetime | None
    feedback_at: datetime | None
    closed_at: datetime | None
    officer: str | None
    department: str | None
    transfer_count: int | None
    overdue: bool

    @property
    def assignee(self) -> str | None:
        """The current assignee: the community officer or the department (never both)."""
        return self.officer or self.department


def detail(engine: Engine, report_id: int, at: datetime | None = None) -> ReportDetail | None:
    """One report by id, with its newest task; None when there is no such report.

    Grain: one report. ``at`` (naive UTC, default now) is the instant the
    task's 超期 flag is judged at.
    """
    at = at or timeutil.utcnow()
    stmt = (
        select(
            reports.c.id, reports.c.reported_at, reports.c.category, reports.c.urgency, reports.c.place,
            reports.c.text, reports.c.source, reports.c.grid_id, grids.c.name.label("grid"),
            grids.c.community_id, communities.c.name.label("community"),
            grid_workers.c.name.label("reporter"), grid_workers.c.kind.label("reporter_kind"),
            tasks.c.id.label("task_id"), tasks.c.state.label("task_state"),
            tasks.c.created_at.label("task_created_at"), tasks.c.dispatched_at, tasks.c.deadline_at,
            tasks.c.feedback_at, tasks.c.closed_at,
            officers.c.name.label("officer"), departments.c.name.label("department"),
            tasks.c.transfer_count,
            case((loop.overdue_condition(at), 1), else_=0).label("overdue"),
        )
        .select_from(
            reports.join(grids, grids.c.id == reports.c.grid_id)
            .join(communities, communities.c.id == grids.c.community_id)
            .outerjoin(grid_workers, grid_workers.c.id == reports.c.reporter_id)
            .outerjoin(tasks, and_(tasks.c.report_id == reports.c.id, newest_task_of_report()))
            .outerjoin(officers, officers.c.id == tasks.c.officer_id)
            .outerjoin(departments, departments.c.id == tasks.c.department_id)
        )
        .where(reports.c.id == int(report_id))
    )
    df = fetch_df(engine, stmt)
    if df.empty:
        return None
    row = df.iloc[0].to_dict()

    def val(v):  # pandas NaN/NaT/numpy scalars → plain Python
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        if isinstance(v, pd.Timestamp):
            return v.to_pydatetime()
        return v.item() if hasattr(v, "item") else v

    row = {k: val(v) for k, v in row.items()}
    for k in ("id", "grid_id", "community_id", "task_id", "transfer_count"):
        row[k] = None if row[k] is None else int(row[k])
    row["overdue"] = bool(row["overdue"]) and row["task_id"] is not None
    return ReportDetail(**row)


def kpis(engine: Engine, f: Filters, now: datetime) -> list[Kpi]:
    """The 网格上报 page's tiles for the filtered places and period.

    Grain: one ``Kpi`` per tile, in screen order: 上报总数, 紧急/特急,
    已派单占比 (``grid_reports.dispatched_share``), 待派单 (now). Every 同比/环比 by
    ``windows.periods_of(f, now)``: counts and the share over the period (the
    reports' first record as coverage), 待派单 a snapshot at ``now`` against the
    same instant last year and one period back (the tasks' first record).
    """
    p = windows.periods_of(f, now)
    since = windows.feed_starts(engine)
    pf = f.places_only()

    def counted(fn):
        return p.compare(lambda w: fn(engine, pf, w), since.reports)

    share = p.compare(lambda w: grid_reports.dispatched_share(engine, pf, w), since.reports, "rate")
    pending = p.compare_at(lambda t: dispatch.pending_count(engine, pf, t), since.tasks)
    return [
        Kpi("reports_total", "上报总数", "count", counted(count), higher_is_better=None),
        Kpi("reports_urgent", "紧急/特急", "count", counted(urgent_count)),
        Kpi("dispatched_share", "已派单占比", "rate", share, share.detail, higher_is_better=True),
        Kpi("pending_now", "待派单（当前）", "count", pending),
    ]

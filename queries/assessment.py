"""量化考核: the monthly assessment of grid workers (the rules and the score are in
``queries.measures.assessment``; 按时反馈 is ``queries.measures.loop``'s).

The filter's places choose the workers, by their own grid (``grid_workers.grid_id``,
within ``Filters.scope``); a worker's figures are all their own records of the month,
wherever they were made. The filter's period and categories do not apply: the
window is the calendar month picked (local time of the station).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import base_records, communities, disputes, grid_workers, grids, reports, task_events, tasks
from dashboard.filters import Filters
from queries._common import Window, fetch_df, place_clause
from queries.measures import assessment as am
from queries.measures import loop

MONTHS_OFFERED = 12  # whole months the page offers, newest first

COLUMNS = [
    "worker_id", "name", "kind", "active", "grid_id", "grid", "community_id", "community",
    "base_records", *am.KIND_COLUMNS.values(), "reports", "hazards", "disputes_found", "disputes_resolved",
    "duplicates", "rejected", "feedback_due", "on_time", "on_time_rate", "resolved_share", "score", "rank", "peers",
]


def month_window(month: date) -> Window:
    """The calendar month of ``month`` (any day of it) as a half-open UTC interval."""
    first = month.replace(day=1)
    return timeutil.day_start_utc(first), timeutil.day_start_utc(timeutil.shift_months(first, 1))


def recent_months(today: date, n: int = MONTHS_OFFERED) -> list[date]:
    """The first days of the ``n`` whole months before ``today``'s, newest first
    (the first is the default: 上月)."""
    first = today.replace(day=1)
    return [timeutil.shift_months(first, -i) for i in range(1, n + 1)]


def _scoped_workers(f: Filters):
    """The ids of the workers the filter chooses (their own grid in its places and scope)."""
    stmt = select(grid_workers.c.id)
    cond = place_clause(grid_workers.c.grid_id, f)
    return stmt if cond is None else stmt.where(cond)


def _in(col, window: Window):
    return and_(col >= window[0], col < window[1])


def monthly(engine: Engine, f: Filters, month: date) -> pd.DataFrame:
    """Every worker's month (``queries.measures.assessment`` defines each figure).

    Grain: one row per worker of the filter's places who is active or has any figure in
    the month. Columns: ``COLUMNS`` (base_0.. = base records by kind, in
    ``BASE_RECORD_KINDS`` order; reports = all their reports of the month; on_time_rate
    = on_time / feedback_due and resolved_share = disputes_resolved / disputes_found,
    NaN without cases; rank = by score within the community, peers = the
    community's number of workers listed). Ordered by community, rank, worker.
    Names as stored: the page masks them. Six statements.
    """
    window = month_window(month)
    mine = _scoped_workers(f)
    people = select(
        grid_workers.c.id.label("worker_id"), grid_workers.c.name, grid_workers.c.kind, grid_workers.c.active,
        grid_workers.c.grid_id, grids.c.name.label("grid"), grids.c.community_id, communities.c.name.label("community"),
    ).select_from(grid_workers.join(grids, grids.c.id == grid_workers.c.grid_id).join(communities, communities.c.id == grids.c.community_id))
    if (cond := place_clause(grid_workers.c.grid_id, f)) is not None:
        people = people.where(cond)
    df = fetch_df(engine, people.order_by(grids.c.community_id, grid_workers.c.id))
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    df = df.set_index("worker_id", drop=False)

    base = fetch_df(
        engine,
        select(base_records.c.collector_id.label("worker_id"), base_records.c.kind, func.count().label("n"))
        .where(_in(base_records.c.collected_at, window), base_records.c.collector_id.in_(mine))
        .group_by(base_records.c.collector_id, base_records.c.kind),
    )
    for kind, col in am.KIND_COLUMNS.items():
        got = base[base["kind"] == kind].set_index("worker_id")["n"] if not base.empty else pd.Series(dtype=int)
        df[col] = got.reindex(df.index).fillna(0).astype(int)
    df["base_records"] = base.groupby("worker_id")["n"].sum().reindex(df.index).fillna(0).astype(int) if not base.empty else 0

    # Reports: the month's reports of the cells the workers reported in, and the day before
    # (a report early on the 1st can repeat one of the 31st).
    cells = select(reports.c.h3).where(reports.c.reporter_id.in_(mine), _in(reports.c.reported_at, window)).distinct()
    lead = timedelta(hours=am.DUPLICATE_HOURS)
    rp = fetch_df(
        engine,
        select(reports.c.id, reports.c.reporter_id, reports.c.category, reports.c.h3, reports.c.reported_at).where(
            reports.c.reported_at >= window[0] - lead, reports.c.reported_at < window[1], reports.c.h3.in_(cells)
        ),
    )
    if not rp.empty:
        rp["dup"] = am.duplicate_flags(rp)
        rp["haz"] = [am.is_hazard(c) for c in rp["category"]]
        t = pd.to_datetime(rp["reported_at"])
        own = rp[(t >= window[0]) & rp["reporter_id"].notna()]
        own = own.assign(reporter_id=own["reporter_id"].astype(int))
        own = own[own["reporter_id"].isin(df.index)]
        g = own.groupby("reporter_id")
        df["reports"] = g.size().reindex(df.index).fillna(0).astype(int)
        df["hazards"] = g["haz"].sum().reindex(df.index).fillna(0).astype(int)
        df["duplicates"] = g["dup"].sum().reindex(df.index).fillna(0).astype(int)
    else:
        df["reports"] = df["hazards"] = df["duplicates"] = 0

    resolved = case((and_(disputes.c.status == am.RESOLVED_STATUS, disputes.c.closed_at < window[1]), 1), else_=0)
    dp = fetch_df(
        engine,
        select(reports.c.reporter_id.label("worker_id"), func.count().label("found"), func.coalesce(func.sum(resolved), 0).label("resolved"))
        .select_from(disputes.join(reports, reports.c.id == disputes.c.report_id))
        .where(_in(disputes.c.found_at, window), reports.c.reporter_id.in_(mine))
        .group_by(reports.c.reporter_id),
    ).set_index("worker_id")
    df["disputes_found"] = dp["found"].reindex(df.index).fillna(0).astype(int) if not dp.empty else 0
    df["disputes_resolved"] = dp["resolved"].reindex(df.index).fillna(0).astype(int) if not dp.empty else 0

    sent = exists().where(task_events.c.task_id == tasks.c.id, task_events.c.event.in_(("派发", "转派")))
    rj = fetch_df(
        engine,
        select(reports.c.reporter_id.label("worker_id"), func.count().label("n"))
        .select_from(tasks.join(reports, reports.c.id == tasks.c.report_id))
        .where(_in(tasks.c.closed_at, window), tasks.c.dispatched_at.is_(None), ~sent, reports.c.reporter_id.in_(mine))
        .group_by(reports.c.reporter_id),
    ).set_index("worker_id")
    df["rejected"] = rj["n"].reindex(df.index).fillna(0).astype(int) if not rj.empty else 0

    fb = fetch_df(
        engine,
        loop.on_time_feedback_counts(
            window, reports.c.reporter_id, from_=tasks.join(reports, reports.c.id == tasks.c.report_id), where=reports.c.reporter_id.in_(mine)
        ),
    ).set_index("key")
    df["feedback_due"] = fb["due"].reindex(df.index).fillna(0).astype(int) if not fb.empty else 0
    df["on_time"] = fb["on_time"].reindex(df.index).fillna(0).astype(int) if not fb.empty else 0

    return _finish(df)


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """Rates, score, ranks; drop inactive workers without any figure; order."""
    df = df.reset_index(drop=True)
    df["active"] = df["active"].astype(bool)
    counts = list(am.COUNT_COLUMNS) + ["reports"]
    busy = df[counts].sum(axis=1) > 0
    df = df[df["active"] | busy].reset_index(drop=True)
    df["on_time_rate"] = (df["on_time"] / df["feedback_due"].where(df["feedback_due"] > 0)).astype(float)
    df["resolved_share"] = (df["disputes_resolved"] / df["disputes_found"].where(df["disputes_found"] > 0)).astype(float)
    df["score"] = am.scores(df)
    df["rank"] = am.ranks(df["score"], df["community_id"])
    df["peers"] = df.groupby("community_id")["worker_id"].transform("size").astype(int)
    df = df.sort_values(["community_id", "rank", "worker_id"], kind="stable").reset_index(drop=True)
    return df[COLUMNS]


def kind_names() -> dict[str, str]:
    """base_0.. → 标准地址, 实有人口 … (the columns by kind, in the schema's order)."""
    return {col: kind for kind, col in am.KIND_COLUMNS.items()}


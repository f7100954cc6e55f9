"""Dispatch tasks (派单) and their state, as of any instant.

States at an instant are derived from the task's timestamps, so the same
function answers "now" and "this time yesterday" (for 同比/环比).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from dashboard.filters import Filters
from dashboard.schema import TASK_STATES, tasks
from queries._common import apply_filters, fetch_df, fetch_one


def pending_condition(at: datetime):  # noqa: ANN201
    """待派单 at ``at``: created, not yet dispatched or transferred, not closed."""
    return and_(
        tasks.c.created_at <= at,
        or_(tasks.c.dispatched_at.is_(None), tasks.c.dispatched_at > at),
        or_(tasks.c.closed_at.is_(None), tasks.c.closed_at > at),
    )


def in_progress_condition(at: datetime):  # noqa: ANN201
    """处置中 at ``at``: dispatched, no feedback yet, not closed (已派发 and 处置中 states)."""
    return and_(
        tasks.c.dispatched_at.is_not(None),
        tasks.c.dispatched_at <= at,
        or_(tasks.c.feedback_at.is_(None), tasks.c.feedback_at > at),
        or_(tasks.c.closed_at.is_(None), tasks.c.closed_at > at),
    )


def pending_count(engine: Engine, f: Filters, at: datetime) -> int:
    """Tasks waiting to be dispatched (待派单) at ``at``. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(pending_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def in_progress_count(engine: Engine, f: Filters, at: datetime) -> int:
    """Tasks dispatched and awaiting feedback (处置中) at ``at``. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(in_progress_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def state_counts(engine: Engine, f: Filters) -> pd.DataFrame:
    """Tasks by their current state, in loop order.

    Grain: one row per state in TASK_STATES (zero where none). Columns: state, n.
    """
    stmt = apply_filters(select(tasks.c.state, func.count().label("n")).select_from(tasks), f, grid_col=tasks.c.grid_id)
    df = fetch_df(engine, stmt.group_by(tasks.c.state))
    counts = dict(zip(df["state"], df["n"])) if len(df) else {}
    return pd.DataFrame({"state": list(TASK_STATES), "n": [int(counts.get(s, 0)) for s in TASK_STATES]})

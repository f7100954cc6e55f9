"""Grid reports (网格上报): 已派单占比."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard.db.schema import reports, tasks
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_one
from queries.measures.arithmetic import Ratio
from queries.measures.parts import not_after


def dispatched_share(engine: Engine, f: Filters, window: Window) -> Ratio:
    """已派单占比: reports uploaded in ``window`` whose task had been dispatched or
    transferred (``tasks.dispatched_at``) by the window's end / reports uploaded in it.

    Grain: one number for the filtered places (the report's grid). A report
    with no task yet, or whose task is still 待研判, counts as not dispatched;
    a report with several tasks counts once. Judged at the window's end, like
    办结率, so a past period (同比/环比 bases) reads as it stood then.
    """
    done = select(tasks.c.id).where(tasks.c.report_id == reports.c.id, not_after(tasks.c.dispatched_at, window[1])).exists()
    base = apply_filters(select(func.count()).select_from(reports), f, grid_col=reports.c.grid_id, time_col=reports.c.reported_at, window=window)
    # Two counts, the second a semi-join (not a per-row EXISTS in a SUM): a year of a
    # district's reports stays well under a second on PostgreSQL.
    n, d = fetch_one(engine, select(base.scalar_subquery(), base.where(done).scalar_subquery()))
    return Ratio(int(d), int(n))

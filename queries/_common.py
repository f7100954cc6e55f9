"""What every query module shares: the one Filters -> WHERE helper, and running
a statement with errors translated into ``dashboard.db.database.DataError``."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Select, and_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import ColumnElement

from dashboard.db.database import translate_error
from dashboard.db.schema import communities, grids
from dashboard.filters import Filters

Window = tuple[datetime, datetime]  # half-open [start, end), naive UTC


def place_clause(grid_col: ColumnElement, f: Filters) -> ColumnElement | None:
    """The place part of a Filters as a condition on a ``grid_id`` column.

    The narrowest level wins (grid, then community, then station); the
    hierarchy lives in ``grids``/``communities`` so writers only store grid_id.
    The signed-in person's scope (``Filters.scope``) is ANDed on top, whatever
    the place filter says.
    """
    cond = None
    if f.grid_id is not None:
        cond = grid_col == f.grid_id
    elif f.community_id is not None:
        cond = grid_col.in_(select(grids.c.id).where(grids.c.community_id == f.community_id))
    elif f.station_id is not None:
        cond = grid_col.in_(
            select(grids.c.id)
            .join(communities, communities.c.id == grids.c.community_id)
            .where(communities.c.station_id == f.station_id)
        )
    if f.scope is not None:
        scoped = grid_col.in_(select(grids.c.id).where(grids.c.community_id.in_(f.scope)))
        cond = scoped if cond is None else and_(cond, scoped)
    return cond


def apply_filters(
    stmt: Select,
    f: Filters,
    *,
    grid_col: ColumnElement | None = None,
    time_col: ColumnElement | None = None,
    window: Window | None = None,
    category_col: ColumnElement | None = None,
) -> Select:
    """AND the filter's conditions onto ``stmt``.

    ``window`` (UTC, half-open) applies to ``time_col``; pass it explicitly
    (usually ``f.window(now)``) so comparisons can reuse the same filters with
    a shifted window. Categories apply only where the table has them.
    """
    if grid_col is not None and (cond := place_clause(grid_col, f)) is not None:
        stmt = stmt.where(cond)
    if time_col is not None and window is not None:
        stmt = stmt.where(time_col >= window[0], time_col < window[1])
    if category_col is not None and f.categories:
        stmt = stmt.where(category_col.in_(f.categories))
    return stmt


def fetch_df(engine: Engine, stmt: Select) -> pd.DataFrame:
    """Run a SELECT and return its rows as a DataFrame; errors become DataError."""
    try:
        with engine.connect() as conn:
            result = conn.execute(stmt)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except SQLAlchemyError as exc:
        raise translate_error(exc, str(engine.url)) from exc


def fetch_one(engine: Engine, stmt: Select) -> tuple:
    """Run a SELECT that returns exactly one row."""
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(stmt).one())
    except SQLAlchemyError as exc:
        raise translate_error(exc, str(engine.url)) from exc


def fetch_scalar(engine: Engine, stmt: Select):
    try:
        with engine.connect() as conn:
            return conn.execute(stmt).scalar()
    except SQLAlchemyError as exc:
        raise translate_error(exc, str(engine.url)) from exc

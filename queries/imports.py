"""What was imported, and the rows the place figures cannot hold.

Rows a station brought whose point lies in no grid (``outside``) or that
could not be placed at all (``unlocated``) are kept in ``import_rows``, not in
the live tables: every figure by place counts the live rows only, and the
pages that count by place say beside them how many fell outside (辖区外).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from dashboard.db.schema import import_batches, import_rows, stations
from dashboard.filters import Filters
from queries._common import fetch_df

KIND_ZH = {"places": "地块", "incidents": "警情", "reports": "网格上报", "disputes": "矛盾纠纷", "gps": "巡逻轨迹"}


@dataclass(frozen=True)
class Outside:
    """Rows of one kind, in the window, kept but not placed in any grid."""

    outside: int  # located, in no grid
    unlocated: int  # no usable point and no grid named

    @property
    def total(self) -> int:
        return self.outside + self.unlocated


def batches(engine: Engine, limit: int = 200) -> pd.DataFrame:
    """Import batches, newest first. Grain: one row per batch."""
    b = import_batches
    stmt = select(
        b.c.id, b.c.kind, b.c.source_system, b.c.file_name, b.c.station_code, b.c.started_at, b.c.finished_at, b.c.status,
        b.c.rows_read, b.c.inserted, b.c.updated, b.c.unchanged, b.c.duplicate, b.c.rejected, b.c.outside, b.c.unlocated,
    ).order_by(b.c.id.desc()).limit(limit)
    return fetch_df(engine, stmt)


def outside_rows(engine: Engine, f: Filters, kind: str, window: tuple[datetime, datetime] | None) -> Outside:
    """How many ``kind`` rows in ``window`` were kept outside every grid.

    Only for the whole jurisdiction (or one station): a row in no grid is in
    no community either, so a community or grid filter counts none. A
    station's rows are those of batches loaded for it (or for no station in
    particular, when the database holds one station). A source row loaded in
    several batches counts once (its newest batch), and not at all once a
    later batch placed it in a grid.
    """
    if f.community_id is not None or f.grid_id is not None or f.scope is not None:
        return Outside(0, 0)
    ir, b = import_rows, import_batches
    newest = (
        select(ir.c.source_id, func.max(ir.c.id).label("last"))
        .join(b, b.c.id == ir.c.batch_id)
        .where(b.c.kind == kind, b.c.status == "done")
        .group_by(b.c.source_system, ir.c.source_id)
        .subquery()
    )
    stmt = (
        select(ir.c.status, func.count())
        .join(newest, newest.c.last == ir.c.id)
        .join(b, b.c.id == ir.c.batch_id)
        .where(ir.c.status.in_(("outside", "unlocated")))
        .group_by(ir.c.status)
    )
    if window is not None:
        stmt = stmt.where(ir.c.at >= window[0], ir.c.at < window[1])
    if f.categories:
        stmt = stmt.where(ir.c.category.in_(f.categories))
    if f.station_id is not None:
        code = select(stations.c.code).where(stations.c.id == f.station_id).scalar_subquery()
        only_one = select(func.count()).select_from(stations).scalar_subquery() == 1
        stmt = stmt.where(or_(b.c.station_code == code, and_(b.c.station_code.is_(None), only_one)))
    df = fetch_df(engine, stmt)
    got = {r[0]: int(r[1]) for r in df.itertuples(index=False)}
    return Outside(got.get("outside", 0), got.get("unlocated", 0))


__all__ = ["KIND_ZH", "Outside", "batches", "outside_rows"]

"""Places: stations, communities, grids (the hierarchy every filter follows)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from dashboard.db.schema import cameras, communities, grid_workers, grids, stations
from dashboard.filters import Catalogue, Filters, Place
from queries._common import apply_filters, fetch_df


def catalogue(engine: Engine) -> Catalogue:
    """All stations, communities and grids as ``Place`` tuples ordered by code.

    Grain: one Place per row of each table. Used to build the filter bar and to
    validate URL parameters.
    """
    st = fetch_df(engine, select(stations.c.id, stations.c.code, stations.c.name).order_by(stations.c.code))
    cm = fetch_df(
        engine,
        select(communities.c.id, communities.c.code, communities.c.name, communities.c.station_id).order_by(communities.c.code),
    )
    gr = fetch_df(engine, select(grids.c.id, grids.c.code, grids.c.name, grids.c.community_id).order_by(grids.c.code))
    return Catalogue(
        stations=tuple(Place(int(r.id), r.code, r.name, None) for r in st.itertuples()),
        communities=tuple(Place(int(r.id), r.code, r.name, int(r.station_id)) for r in cm.itertuples()),
        grids=tuple(Place(int(r.id), r.code, r.name, int(r.community_id)) for r in gr.itertuples()),
    )


def station_header(engine: Engine, f: Filters) -> pd.DataFrame:
    """Stations in scope. Grain: one row per station. Columns: id, code, name, branch."""
    stmt = select(stations.c.id, stations.c.code, stations.c.name, stations.c.branch).order_by(stations.c.code)
    if f.station_id is not None:
        stmt = stmt.where(stations.c.id == f.station_id)
    return fetch_df(engine, stmt)


def grid_shapes(engine: Engine, f: Filters) -> pd.DataFrame:
    """Grids in scope with their geometry.

    Grain: one row per grid. Columns: grid_id, code, name, community_id,
    community, station_id, boundary_geojson (GeoJSON Polygon or MultiPolygon text,
    holes allowed: draw it with ``maps.polygons``), area_km2,
    centroid_lat, centroid_lon, population.
    """
    stmt = select(
        grids.c.id.label("grid_id"),
        grids.c.code,
        grids.c.name,
        grids.c.community_id,
        communities.c.name.label("community"),
        communities.c.station_id,
        grids.c.boundary_geojson,
        grids.c.area_km2,
        grids.c.centroid_lat,
        grids.c.centroid_lon,
        grids.c.population,
    ).select_from(grids.join(communities, communities.c.id == grids.c.community_id))
    stmt = apply_filters(stmt, f, grid_col=grids.c.id).order_by(grids.c.code)
    return fetch_df(engine, stmt)


def grid_resources(engine: Engine, f: Filters) -> pd.DataFrame:
    """People and cameras per grid.

    Grain: one row per grid in scope. Columns: grid_id, workers (active grid
    workers), cameras, cameras_online.
    """
    w = (
        select(grid_workers.c.grid_id, func.count().label("workers"))
        .where(grid_workers.c.active.is_(True))
        .group_by(grid_workers.c.grid_id)
        .subquery()
    )
    c = (
        select(
            cameras.c.grid_id,
            func.count().label("cameras"),
            func.sum(case((cameras.c.online.is_(True), 1), else_=0)).label("cameras_online"),
        )
        .group_by(cameras.c.grid_id)
        .subquery()
    )
    stmt = (
        select(
            grids.c.id.label("grid_id"),
            func.coalesce(w.c.workers, 0).label("workers"),
            func.coalesce(c.c.cameras, 0).label("cameras"),
            func.coalesce(c.c.cameras_online, 0).label("cameras_online"),
        )
        .select_from(grids.outerjoin(w, w.c.grid_id == grids.c.id).outerjoin(c, c.c.grid_id == grids.c.id))
        .order_by(grids.c.id)
    )
    return fetch_df(engine, apply_filters(stmt, f, grid_col=grids.c.id))

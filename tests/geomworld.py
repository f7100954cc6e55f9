"""Worlds with real-shaped geometry, built through ``dashboard.db.schema`` tables.

``shaped(engine)``: tests/handmade.py (its events unchanged) with its three
grids rewritten. Unit D = 0.01°, origin (X0, Y0):

* A1 (甲社区, HOST): a MultiPolygon, the square [0, 3D]² with the hole
  [D, 2D]², plus the island [5D, 6D] × [0, D];
* A2 (乙社区, ENCLAVE): the square [D, 2D]², the hole's very coordinates;
* B1 (乙社区, NEIGHBOUR): [3D, 4D] × [0, 3D], sharing the host's east edge.

A2 moves to 乙社区, so that 甲社区 alone is the host: its hole is empty on a map
narrowed to 甲社区, and its label must avoid the hole.

``tiling(engine, n, per_community)``: one station of n × n square grids
(0.004° each) and no events, grouped into communities of
``per_community`` = (columns, rows) grids, for the 20–400 area checks.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from dashboard import geo
from dashboard.db.schema import communities, grids, patrol_points, patrol_shifts, patrol_teams, stations
from tests import handmade as H

X0, Y0, D = 119.55, 26.66, 0.01


def x(k: float) -> float:
    return X0 + k * D


def y(k: float) -> float:
    return Y0 + k * D


def sq(i0: float, j0: float, i1: float, j1: float, cw: bool = False) -> list[list[float]]:
    """The ring of the box [i0, i1] × [j0, j1] (in D), counter-clockwise unless ``cw``."""
    ring = [[x(i0), y(j0)], [x(i1), y(j0)], [x(i1), y(j1)], [x(i0), y(j1)], [x(i0), y(j0)]]
    return ring[::-1] if cw else ring


HOST = {"type": "MultiPolygon", "coordinates": [[sq(0, 0, 3, 3), sq(1, 1, 2, 2, cw=True)], [sq(5, 0, 6, 1)]]}
ENCLAVE = {"type": "Polygon", "coordinates": [sq(1, 1, 2, 2)]}
NEIGHBOUR = {"type": "Polygon", "coordinates": [sq(3, 0, 4, 3)]}
SHAPES = {H.A1: HOST, H.A2: ENCLAVE, H.B1: NEIGHBOUR}
COMMUNITY_OF = {H.A1: H.C1, H.A2: H.C2, H.B1: H.C2}
NAMES = {H.A1: "甲社区第1网格", H.A2: "乙社区飞地网格", H.B1: "乙社区第1网格"}
CODES = {H.A1: "TST-C01-G01", H.A2: "TST-C01-G02", H.B1: "TST-C02-G01"}  # handmade's codes, unchanged


def _grid_values(geometry: dict) -> dict:
    text = json.dumps(geometry, separators=(",", ":"))
    lat, lon = geo.geometry_centroid(text)
    return dict(boundary_geojson=text, area_km2=geo.geometry_area_km2(text), centroid_lat=lat, centroid_lon=lon, h3=geo.h3_cell(*geo.label_point(text)))


def _patrol(conn, points: list[tuple[float, float, int]]) -> None:
    """One team on duty since 08:00 local today, a GPS point every 2 minutes at ``points`` (lat, lon, grid_id)."""
    conn.execute(insert(patrol_teams), [dict(id=1, station_id=1, community_id=None, name="第一巡防队", kind="巡防队", members=4)])
    start = H.NOW.replace(hour=0, minute=0)  # 08:00 Asia/Shanghai
    conn.execute(insert(patrol_shifts), [dict(id=1, team_id=1, shift="白", started_at=start, ended_at=None, prevented=0, caught=0)])
    conn.execute(
        insert(patrol_points),
        [dict(id=k + 1, shift_id=1, at=start + timedelta(minutes=2 * k), lat=la, lon=lo, grid_id=g, h3=geo.h3_cell(la, lo)) for k, (la, lo, g) in enumerate(points)],
    )


def shaped(engine: Engine) -> None:
    """The hand-built world with the shapes above (the schema must exist), and a
    patrol track through the host's ring, its island and the enclave."""
    H.build(engine)
    with engine.begin() as conn:
        for gid, geometry in SHAPES.items():
            conn.execute(update(grids).where(grids.c.id == gid).values(community_id=COMMUNITY_OF[gid], name=NAMES[gid], **_grid_values(geometry)))
        track = [(y(0.5), x(0.5 + 0.1 * k), H.A1) for k in range(20)] + [(y(1.5), x(1.5), H.A2)] * 5 + [(y(0.5), x(5.5), H.A1)] * 5
        _patrol(conn, track)


TILE = 0.004


def tiling(engine: Engine, n: int = 20, per_community: tuple[int, int] = (5, 4)) -> None:
    """One station (TIL) of n × n grids, communities of per_community grids (cols, rows)."""
    cw, ch = per_community
    ncx = (n + cw - 1) // cw
    with engine.begin() as conn:
        conn.execute(insert(stations), [dict(id=1, code="TIL", name="瓦片派出所", branch="测试分局", centroid_lat=Y0, centroid_lon=X0)])
        comms, rows = {}, []
        for i in range(n):
            for j in range(n):
                cid = (j // ch) * ncx + (i // cw) + 1
                comms.setdefault(cid, dict(id=cid, station_id=1, code=f"TIL-C{cid:03d}", name=f"第{cid}社区", centroid_lat=Y0, centroid_lon=X0))
                x0, y0 = X0 + i * TILE, Y0 + j * TILE
                ring = [[x0, y0], [x0 + TILE, y0], [x0 + TILE, y0 + TILE], [x0, y0 + TILE], [x0, y0]]
                gid = len(rows) + 1
                rows.append(
                    dict(
                        id=gid, community_id=cid, code=f"TIL-C{cid:03d}-G{gid:03d}", name=f"第{gid}网格", population=100,
                        **_grid_values({"type": "Polygon", "coordinates": [ring]}),
                    )
                )
        conn.execute(insert(communities), list(comms.values()))
        conn.execute(insert(grids), rows)
        _patrol(conn, [(Y0 + 0.5 * TILE, X0 + (k + 0.5) * TILE, k * n + 1) for k in range(n)])

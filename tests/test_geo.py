"""Geometry helpers: H3 cells, areas, centroids, and the grid locator's one-grid-per-point rule."""

from __future__ import annotations

import json

import h3
import numpy as np
import pytest

from dashboard.geo import (
    GridLocator,
    h3_cell,
    h3_cells,
    point_in_geometry,
    polygon_area_km2,
    polygon_centroid,
    polygon_geojson,
    ring_area_km2,
)
from dashboard.schema import H3_RESOLUTION


def _lattice(nx: int, ny: int, seed: int = 3, jitter: float = 0.2, x0: float = 119.5, y0: float = 26.6, d: float = 0.005):
    """A jittered nx × ny lattice of quads sharing their vertices: (id, geojson) rows."""
    rng = np.random.default_rng(seed)
    I, J = np.meshgrid(np.arange(nx + 1), np.arange(ny + 1), indexing="ij")
    interior_x = (I > 0) & (I < nx)
    interior_y = (J > 0) & (J < ny)
    vx = x0 + (I + rng.uniform(-jitter, jitter, I.shape) * interior_x) * d
    vy = y0 + (J + rng.uniform(-jitter, jitter, I.shape) * interior_y) * d
    rows = []
    for i in range(nx):
        for j in range(ny):
            ring = [(vx[i, j], vy[i, j]), (vx[i + 1, j], vy[i + 1, j]), (vx[i + 1, j + 1], vy[i + 1, j + 1]), (vx[i, j + 1], vy[i, j + 1])]
            rows.append((len(rows) + 1, polygon_geojson(ring)))
    return rows, vx, vy


def test_h3_cell_is_h3_v4_at_schema_resolution():
    lat, lon = 26.6612, 119.5523
    assert h3_cell(lat, lon) == h3.latlng_to_cell(lat, lon, H3_RESOLUTION)
    assert h3.get_resolution(h3_cell(lat, lon)) == 9
    assert h3_cells(np.array([lat, 26.7]), np.array([lon, 119.6])) == [h3_cell(lat, lon), h3_cell(26.7, 119.6)]


def test_area_and_centroid_of_a_rectangle():
    # 0.01° × 0.01° at the equator: (111.195 km × 0.01)² ≈ 1.2364 km².
    ring = [(0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01)]
    assert ring_area_km2(ring) == pytest.approx(1.2364, rel=1e-3)
    assert ring_area_km2(list(reversed(ring))) == pytest.approx(ring_area_km2(ring))
    # At 60° N the same box is half as wide.
    north = [(x, y + 60) for x, y in ring]
    assert ring_area_km2(north) == pytest.approx(1.2364 / 2, rel=2e-3)
    lat, lon = polygon_centroid(ring)
    assert (lat, lon) == (pytest.approx(0.005), pytest.approx(0.005))
    assert polygon_area_km2(polygon_geojson(ring)) == pytest.approx(ring_area_km2(ring))


def test_geojson_is_a_closed_polygon():
    g = json.loads(polygon_geojson([(1, 2), (3, 2), (3, 4)]))
    assert g["type"] == "Polygon"
    ring = g["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 4


def test_hole_is_outside():
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    geo = {"type": "Polygon", "coordinates": [outer, hole]}
    assert point_in_geometry(geo, lat=2, lon=2)
    assert not point_in_geometry(geo, lat=5, lon=5)
    assert polygon_area_km2(geo) == pytest.approx(ring_area_km2(outer) - ring_area_km2(hole), rel=1e-3)
    loc = GridLocator([(7, geo)])
    assert loc.locate(2, 2) == 7 and loc.locate(5, 5) is None


def test_locator_one_grid_per_point_and_none_outside():
    rows, vx, vy = _lattice(6, 4)
    loc = GridLocator(rows)
    rng = np.random.default_rng(0)
    lon = rng.uniform(vx.min(), vx.max(), 3000)
    lat = rng.uniform(vy.min(), vy.max(), 3000)
    many = loc.locate_many(lat, lon)
    for a, b, m in zip(lat.tolist(), lon.tolist(), many.tolist()):
        holders = [gid for gid, geo in rows if point_in_geometry(geo, a, b)]
        assert len(holders) == 1
        assert loc.locate(a, b) == holders[0] == m
    assert loc.locate(vy.min() - 0.01, vx.min()) is None
    assert loc.locate_many([vy.max() + 1], [vx.max() + 1]).tolist() == [-1]


def test_points_on_shared_edges_and_vertices_belong_to_exactly_one_grid():
    rows, vx, vy = _lattice(5, 5, seed=9)
    loc = GridLocator(rows)
    pts = []
    # Interior lattice vertices and points along interior edges (exact vertex coordinates and
    # convex combinations of them).
    for i in range(1, 5):
        for j in range(1, 5):
            pts.append((vy[i, j], vx[i, j]))
            for t in (0.25, 0.5, 0.75):
                pts.append((vy[i, j] + t * (vy[i + 1, j] - vy[i, j]), vx[i, j] + t * (vx[i + 1, j] - vx[i, j])))
                pts.append((vy[i, j] + t * (vy[i, j + 1] - vy[i, j]), vx[i, j] + t * (vx[i, j + 1] - vx[i, j])))
    lat = np.array([p[0] for p in pts])
    lon = np.array([p[1] for p in pts])
    many = loc.locate_many(lat, lon)
    for (a, b), m in zip(pts, many.tolist()):
        holders = [gid for gid, geo in rows if point_in_geometry(geo, a, b)]
        assert len(holders) == 1, (a, b, holders)
        assert loc.locate(a, b) == holders[0] == m


def test_locator_tiling_area():
    rows, vx, vy = _lattice(4, 3, seed=5)
    total = sum(polygon_area_km2(g) for _, g in rows)
    box = [(vx.min(), vy.min()), (vx.max(), vy.min()), (vx.max(), vy.max()), (vx.min(), vy.max())]
    assert total == pytest.approx(ring_area_km2(box), rel=1e-3)

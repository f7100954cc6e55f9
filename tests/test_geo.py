"""Geometry helpers: H3 cells, areas, centroids, label points, and the grid locator's
one-grid-per-point rule, on quads and on real-shaped geometry (MultiPolygons, holes,
an enclave filling a hole, an island part)."""

from __future__ import annotations

import json
import math

import h3
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from dashboard.geo import (
    H3_RESOLUTION,
    GridLocator,
    geometry_area_km2,
    geometry_centroid,
    h3_cell,
    h3_cells,
    label_anchor,
    label_point,
    point_in_geometry,
    polygon_area_km2,
    polygon_centroid,
    polygon_geojson,
    ring_area_km2,
    to_geojson,
    to_shape,
    union_label_anchor,
)
from tests.geomworld import ENCLAVE, HOST, NEIGHBOUR, D
from tests.geomworld import sq as _sq
from tests.geomworld import x as _x
from tests.geomworld import y as _y


def _lattice(nx: int, ny: int, seed: int = 3, jitter: float = 0.2, x0: float = 119.5, y0: float = 26.6, d: float = 0.005):
    """A jittered nx × ny lattice of quads sharing their vertices: (id, geojson) rows."""
    rng = np.random.default_rng(seed)
    I, J = np.meshgrid(np.arange(nx + 1), np.arange(ny + 1), indexing="ij")  # noqa: E741 - the lattice indices, named as in the maths
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


# --- real-shaped geometry: a MultiPolygon with a hole and an island, an enclave in the hole ---
#
# tests/geomworld.py: HOST, the square [0, 3D]² with the hole [D, 2D]², plus the
# island [5D, 6D] × [0, D]; ENCLAVE, the square [D, 2D]², the hole's very
# coordinates; NEIGHBOUR, [3D, 4D] × [0, 3D], sharing the host's east edge.

WGS84_A, WGS84_F = 6378137.0, 1 / 298.257223563


def _q(lat_deg: float) -> float:
    """Snyder's q(φ) for the WGS84 ellipsoid: the area of a lat/lon box is
    b²·Δλ·(q(φ2) − q(φ1))/2 (Map Projections: A Working Manual, eq. 3-12)."""
    e2 = WGS84_F * (2 - WGS84_F)
    e = math.sqrt(e2)
    s = math.sin(math.radians(lat_deg))
    return (1 - e2) * (s / (1 - e2 * s * s) - math.log((1 - e * s) / (1 + e * s)) / (2 * e))


def _box_km2(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    """Exact area of a lat/lon box on the WGS84 ellipsoid (edges along parallels), km²."""
    return WGS84_A**2 * math.radians(lon1 - lon0) * (_q(lat1) - _q(lat0)) / 2 / 1e6


def _box_by_index(i0, j0, i1, j1) -> float:
    return _box_km2(_x(i0), _y(j0), _x(i1), _y(j1))


def _along_parallels(geojson: dict) -> dict:
    """The same geometry with edges cut every 0.0005°, so that geodesic edges
    follow the parallels of the exact box formula."""
    return json.loads(to_geojson(shapely.segmentize(to_shape(geojson), 0.0005)))


def test_geometry_area_sums_parts_and_subtracts_holes():
    want = _box_by_index(0, 0, 3, 3) - _box_by_index(1, 1, 2, 2) + _box_by_index(5, 0, 6, 1)
    assert geometry_area_km2(_along_parallels(HOST)) == pytest.approx(want, rel=1e-7)
    # unsegmented: geodesic edges, still within 1e-6 at this size
    assert geometry_area_km2(HOST) == pytest.approx(want, rel=1e-6)
    assert geometry_area_km2(json.dumps(ENCLAVE)) == pytest.approx(_box_by_index(1, 1, 2, 2), rel=1e-6)
    # the host and its enclave make the full square plus the island
    assert geometry_area_km2(HOST) + geometry_area_km2(ENCLAVE) == pytest.approx(_box_by_index(0, 0, 3, 3) + _box_by_index(5, 0, 6, 1), rel=1e-6)
    # a Feature, a shapely geometry, and clockwise outer rings give the same
    assert geometry_area_km2({"type": "Feature", "properties": {}, "geometry": HOST}) == pytest.approx(geometry_area_km2(HOST))
    assert geometry_area_km2(to_shape(HOST)) == pytest.approx(geometry_area_km2(HOST))
    cw = {"type": "Polygon", "coordinates": [_sq(0, 0, 3, 3, cw=True), _sq(1, 1, 2, 2)]}
    assert geometry_area_km2(cw) == pytest.approx(_box_by_index(0, 0, 3, 3) - _box_by_index(1, 1, 2, 2), rel=1e-6)
    # the ring helpers (a sphere) agree to the sphere/ellipsoid difference (< 0.5 %)
    assert polygon_area_km2(HOST) == pytest.approx(geometry_area_km2(HOST), rel=5e-3)


def test_geometry_area_is_exact_for_a_city_district():
    # About Shanghai's Pudong (~1,200 km² box here), where a flat local projection drifts.
    district = json.loads(to_geojson(shapely.segmentize(box(121.45, 30.85, 121.85, 31.15), 0.001)))
    assert geometry_area_km2(district) == pytest.approx(_box_km2(121.45, 30.85, 121.85, 31.15), rel=1e-6)
    parts = {"type": "MultiPolygon", "coordinates": [district["coordinates"], json.loads(to_geojson(shapely.segmentize(box(121.9, 31.0, 122.0, 31.1), 0.001)))["coordinates"]]}
    assert geometry_area_km2(parts) == pytest.approx(_box_km2(121.45, 30.85, 121.85, 31.15) + _box_km2(121.9, 31.0, 122.0, 31.1), rel=1e-6)


def _cea_centroid(boxes: list[tuple[float, float, float, float, int]]) -> tuple[float, float]:
    """Hand centroid of lat/lon boxes (lon0, lat0, lon1, lat1, +1 part / −1 hole) on
    the sphere: a box's area is ∝ Δlon·Δsin(lat), its centre lon the mid lon and its
    centre in sin(lat) the mid sin (in an equal-area cylindrical frame boxes are rectangles)."""
    w = [sign * (x1 - x0) * (math.sin(math.radians(y1)) - math.sin(math.radians(y0))) for x0, y0, x1, y1, sign in boxes]
    cx = sum(wi * (b[0] + b[2]) / 2 for wi, b in zip(w, boxes)) / sum(w)
    cs = sum(wi * (math.sin(math.radians(b[1])) + math.sin(math.radians(b[3]))) / 2 for wi, b in zip(w, boxes)) / sum(w)
    return math.degrees(math.asin(cs)), cx


def test_geometry_centroid_is_area_weighted_over_parts_minus_holes():
    lat, lon = geometry_centroid(HOST)
    want = _cea_centroid([(_x(0), _y(0), _x(3), _y(3), 1), (_x(1), _y(1), _x(2), _y(2), -1), (_x(5), _y(0), _x(6), _y(1), 1)])
    assert (lat, lon) == (pytest.approx(want[0], abs=1e-9), pytest.approx(want[1], abs=1e-9))
    # near enough to the flat figure: (8·1.5 + 1·5.5)/9 D east, (8·1.5 + 1·0.5)/9 D north
    assert lon == pytest.approx(_x(17.5 / 9), abs=1e-6) and lat == pytest.approx(_y(12.5 / 9), abs=1e-5)
    # polygon_centroid of a geometry is the same (it used to take the first ring only)
    assert polygon_centroid(json.dumps(HOST)) == (pytest.approx(lat), pytest.approx(lon))
    assert geometry_centroid(ENCLAVE) == (pytest.approx(_cea_centroid([(_x(1), _y(1), _x(2), _y(2), 1)])[0], abs=1e-9), pytest.approx(_x(1.5), abs=1e-9))


def test_label_point_is_inside_away_from_holes_in_the_largest_part():
    host = to_shape(HOST)
    lat, lon, radius = label_anchor(HOST)
    assert (lat, lon) == label_point(HOST)
    assert host.contains(Point(lon, lat)) and not to_shape(ENCLAVE).covers(Point(lon, lat))
    assert host.geoms[0].contains(Point(lon, lat))  # the big part, not the island
    # On the ground a D × D box is wx km wide and wy km tall (wx < wy at 26.7° N).
    # The pole of inaccessibility of the ring is in a corner: the circle touching two
    # outer edges and the hole's corner, (wx − r)² + (wy − r)² = r².
    wx, wy = _ground(D)
    r = (wx + wy) - math.sqrt(2 * wx * wy)
    assert radius == pytest.approx(r, rel=2e-3)
    corners = [(_y(j0) + sj * _lat_deg(r), _x(i0) + si * _lon_deg(r)) for i0, si in ((0, 1), (3, -1)) for j0, sj in ((0, 1), (3, -1))]
    assert min(math.hypot((lat - cy) / _lat_deg(1), (lon - cx) / _lon_deg(1)) for cy, cx in corners) < 0.005 * wx
    # the centroid, by contrast, lies in the hole
    assert not host.contains(Point(geometry_centroid(HOST)[::-1]))
    # a plain box: on its north-south midline, half its width of room
    lat, lon, radius = label_anchor(json.dumps(ENCLAVE))
    assert lon == pytest.approx(_x(1.5), abs=2e-3 * D)
    assert _y(1) + _lat_deg(wx / 2) * 0.998 <= lat <= _y(2) - _lat_deg(wx / 2) * 0.998
    assert radius == pytest.approx(wx / 2, rel=2e-3)


def _ground(deg: float) -> tuple[float, float]:
    """(east-west, north-south) km of a deg × deg box around the host (sphere, R = 6371.0088)."""
    return math.radians(deg) * 6371.0088 * math.cos(math.radians(_y(1.5))), math.radians(deg) * 6371.0088


def _lat_deg(km: float) -> float:
    return math.degrees(km / 6371.0088)


def _lon_deg(km: float) -> float:
    return math.degrees(km / (6371.0088 * math.cos(math.radians(_y(1.5)))))


def test_label_point_of_a_union_and_of_a_c_shape():
    # host + enclave: the full box (the hole filled): the label on its midline
    lat, lon, radius = union_label_anchor([json.dumps(HOST), json.dumps(ENCLAVE)])
    wx, _ = _ground(3 * D)
    assert lon == pytest.approx(_x(1.5), abs=2e-3 * D) and _y(0) + _lat_deg(wx / 2) * 0.998 <= lat <= _y(3) - _lat_deg(wx / 2) * 0.998
    assert radius == pytest.approx(wx / 2, rel=2e-3)
    # a C of three grids: the mean of their centres is outside the C, the label inside
    c_grids = [{"type": "Polygon", "coordinates": [_sq(*b)]} for b in [(0, 0, 3, 1), (0, 1, 1, 2), (0, 2, 3, 3)]]
    mean_lat = float(np.mean([geometry_centroid(g)[0] for g in c_grids]))
    mean_lon = float(np.mean([geometry_centroid(g)[1] for g in c_grids]))
    c_shape = shapely.union_all([to_shape(g) for g in c_grids])
    assert not c_shape.contains(Point(mean_lon, mean_lat))
    lat, lon, _ = union_label_anchor(c_grids)
    assert c_shape.contains(Point(lon, lat))


def test_label_point_falls_back_inside_odd_geometry():
    # a bow-tie (invalid): made valid, the label inside one of its triangles
    bow = {"type": "Polygon", "coordinates": [[[_x(0), _y(0)], [_x(2), _y(2)], [_x(2), _y(0)], [_x(0), _y(2)], [_x(0), _y(0)]]]}
    lat, lon = label_point(bow)
    assert shapely.make_valid(to_shape(bow)).contains(Point(lon, lat))
    assert geometry_area_km2(bow) == pytest.approx(_box_by_index(0, 0, 2, 2) / 2, rel=1e-3)
    # a sliver a few metres wide is still labelled inside
    sliver = {"type": "Polygon", "coordinates": [[[_x(0), _y(0)], [_x(3), _y(0)], [_x(3), _y(0.002)], [_x(0), _y(0.001)], [_x(0), _y(0)]]]}
    lat, lon = label_point(sliver)
    assert to_shape(sliver).contains(Point(lon, lat))
    with pytest.raises(ValueError):
        to_shape({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})


def test_to_geojson_round_trips_and_orients_rings():
    text = to_geojson(to_shape(HOST))
    g = json.loads(text)
    assert g["type"] == "MultiPolygon" and len(g["coordinates"]) == 2 and len(g["coordinates"][0]) == 2
    assert to_shape(text).equals(to_shape(HOST))
    for part in g["coordinates"]:
        outer = shapely.LinearRing(part[0])
        assert outer.is_ccw and all(not shapely.LinearRing(h).is_ccw for h in part[1:])


HOST_ID, ENCLAVE_ID, NEIGHBOUR_ID = 5, 9, 2  # not in geometric order: the lowest id must not matter


def _world_locator() -> GridLocator:
    return GridLocator([(HOST_ID, json.dumps(HOST)), (ENCLAVE_ID, json.dumps(ENCLAVE)), (NEIGHBOUR_ID, json.dumps(NEIGHBOUR))])


def test_locator_hole_enclave_and_island():
    loc = _world_locator()
    rows = [(HOST_ID, HOST), (ENCLAVE_ID, ENCLAVE), (NEIGHBOUR_ID, NEIGHBOUR)]
    cases = {
        (_y(1.5), _x(1.5)): ENCLAVE_ID,  # in the hole: the enclave
        (_y(1.3), _x(1.8)): ENCLAVE_ID,
        (_y(0.5), _x(0.5)): HOST_ID,  # in the ring
        (_y(2.5), _x(1.5)): HOST_ID,
        (_y(0.5), _x(5.5)): HOST_ID,  # on the island
        (_y(1.5), _x(3.5)): NEIGHBOUR_ID,
        (_y(0.5), _x(4.5)): None,  # the sea between the neighbour and the island
        (_y(1.5), _x(7.0)): None,
    }
    for (lat, lon), want in cases.items():
        assert loc.locate(lat, lon) == want, (lat, lon)
        assert [gid for gid, g in rows if point_in_geometry(g, lat, lon)] == ([want] if want else [])
    lats = [k[0] for k in cases]
    lons = [k[1] for k in cases]
    assert loc.locate_many(lats, lons).tolist() == [w if w else -1 for w in cases.values()]


def test_points_on_the_hole_enclave_boundary_belong_to_exactly_one_grid():
    loc = _world_locator()
    rows = [(HOST_ID, HOST), (ENCLAVE_ID, ENCLAVE), (NEIGHBOUR_ID, NEIGHBOUR)]
    pts = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):  # along the hole's four edges and its corners
        pts += [(_y(1), _x(1 + t)), (_y(2), _x(1 + t)), (_y(1 + t), _x(1)), (_y(1 + t), _x(2))]
    for t in (0.1, 0.5, 0.9):  # the host/neighbour edge
        pts.append((_y(3 * t), _x(3)))
    lats = np.array([p[0] for p in pts])
    lons = np.array([p[1] for p in pts])
    many = loc.locate_many(lats, lons)
    for (lat, lon), m in zip(pts, many.tolist()):
        holders = [gid for gid, g in rows if point_in_geometry(g, lat, lon)]
        assert len(holders) == 1, (lat, lon, holders)
        assert loc.locate(lat, lon) == holders[0] == m


def test_locate_and_locate_many_agree_with_shapely_on_real_shapes():
    loc = _world_locator()
    shapes = {HOST_ID: to_shape(HOST), ENCLAVE_ID: to_shape(ENCLAVE), NEIGHBOUR_ID: to_shape(NEIGHBOUR)}
    rng = np.random.default_rng(4)
    lon = rng.uniform(_x(-0.5), _x(6.5), 4000)
    lat = rng.uniform(_y(-0.5), _y(3.5), 4000)
    many = loc.locate_many(lat, lon).tolist()
    for a, b, m in zip(lat.tolist(), lon.tolist(), many):
        one = loc.locate(a, b)
        assert (one if one is not None else -1) == m
        inside = [gid for gid, sh in shapes.items() if sh.contains(Point(b, a))]
        assert (inside[0] if inside else -1) == m  # random points: none on a boundary
    assert {HOST_ID, ENCLAVE_ID, NEIGHBOUR_ID, -1} == set(many)

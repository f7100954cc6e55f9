"""Small geometry helpers: H3 cells, polygon area and centroid, and which grid holds a point.

Grids are stored as GeoJSON Polygon geometry text (lon/lat, WGS84) in
``grids.boundary_geojson``. Station-sized areas are a few kilometres across, so
a local equirectangular projection (x = lon * cos(lat0), y = lat) is accurate
to well under 0.1 % for areas and centroids; no projection library is needed.

``GridLocator`` answers "which grid is this point in?" for the demo generator
and the simulator. Point-in-polygon is the even-odd ray cast with half-open
edges; every edge is evaluated with its end points in a canonical order, so two
grids that share an edge compute exactly the same crossing and a point lying on
that edge belongs to exactly one of them (the grid to its east, or to its north
on an east-west edge). Among overlapping grids (which a clean tiling does not
have) the one with the lowest id wins, so the answer is always deterministic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

import h3
import numpy as np

from dashboard.schema import H3_RESOLUTION

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG = math.pi / 180.0 * EARTH_RADIUS_KM  # ~111.2 km per degree of latitude

Ring = Sequence[Sequence[float]]  # [(lon, lat), ...]


# --- H3 -------------------------------------------------------------------------


def h3_cell(lat: float, lon: float) -> str:
    """The H3 cell (resolution ``schema.H3_RESOLUTION``) holding the point."""
    return h3.latlng_to_cell(float(lat), float(lon), H3_RESOLUTION)


def h3_cells(lats: Iterable[float], lons: Iterable[float]) -> list[str]:
    """``h3_cell`` for many points (plain lists or numpy arrays)."""
    la = lats.tolist() if isinstance(lats, np.ndarray) else list(lats)
    lo = lons.tolist() if isinstance(lons, np.ndarray) else list(lons)
    f = h3.latlng_to_cell
    return [f(a, b, H3_RESOLUTION) for a, b in zip(la, lo)]


# --- polygons ---------------------------------------------------------------------


def close_ring(ring: Ring) -> list[list[float]]:
    pts = [[float(x), float(y)] for x, y in ring]
    if pts and pts[0] != pts[-1]:
        pts.append(list(pts[0]))
    return pts


def polygon_geojson(ring: Ring) -> str:
    """GeoJSON Polygon geometry text for one outer ring of (lon, lat) points."""
    return json.dumps({"type": "Polygon", "coordinates": [close_ring(ring)]}, separators=(",", ":"))


def parse_rings(geojson: str | dict) -> list[list[tuple[float, float]]]:
    """All rings (outer and holes, of every part) of a Polygon or MultiPolygon geometry.

    Accepts a geometry, a Feature, or their JSON text.
    """
    g = json.loads(geojson) if isinstance(geojson, str) else geojson
    if g.get("type") == "Feature":
        g = g["geometry"]
    kind = g.get("type")
    if kind == "Polygon":
        polys = [g["coordinates"]]
    elif kind == "MultiPolygon":
        polys = g["coordinates"]
    else:
        raise ValueError(f"expected a Polygon or MultiPolygon geometry, got {kind!r}")
    return [[(float(p[0]), float(p[1])) for p in ring] for poly in polys for ring in poly]


def _projected(ring: Ring, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray([(p[0], p[1]) for p in ring], dtype=float)
    if len(a) and (a[0] != a[-1]).any():
        a = np.vstack([a, a[:1]])
    k = math.cos(math.radians(lat0)) * KM_PER_DEG
    return a[:, 0] * k, a[:, 1] * KM_PER_DEG


def _signed_area(x: np.ndarray, y: np.ndarray) -> float:
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def ring_area_km2(ring: Ring) -> float:
    """Area (km², always positive) of one ring of (lon, lat) points."""
    if len(ring) < 3:
        return 0.0
    lat0 = float(np.mean([p[1] for p in ring]))
    x, y = _projected(ring, lat0)
    return abs(_signed_area(x, y))


def polygon_area_km2(geometry: str | dict | Ring) -> float:
    """Area in km² of a ring of (lon, lat) points or a (Multi)Polygon geometry (holes subtracted)."""
    if isinstance(geometry, (str, dict)):
        g = json.loads(geometry) if isinstance(geometry, str) else geometry
        if g.get("type") == "Feature":
            g = g["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        total = 0.0
        for poly in polys:
            total += ring_area_km2(poly[0]) - sum(ring_area_km2(h) for h in poly[1:])
        return total
    return ring_area_km2(geometry)


def ring_centroid(ring: Ring) -> tuple[float, float]:
    """Area-weighted centroid (lat, lon) of one ring of (lon, lat) points."""
    lat0 = float(np.mean([p[1] for p in ring]))
    x, y = _projected(ring, lat0)
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    a = 0.5 * float(np.sum(cross))
    if abs(a) < 1e-15:
        return float(np.mean(y[:-1]) / KM_PER_DEG), float(np.mean(x[:-1]) / (math.cos(math.radians(lat0)) * KM_PER_DEG))
    cx = float(np.sum((x[:-1] + x[1:]) * cross)) / (6.0 * a)
    cy = float(np.sum((y[:-1] + y[1:]) * cross)) / (6.0 * a)
    return cy / KM_PER_DEG, cx / (math.cos(math.radians(lat0)) * KM_PER_DEG)


def polygon_centroid(geometry: str | dict | Ring) -> tuple[float, float]:
    """Centroid (lat, lon) of a ring or of a geometry's first outer ring."""
    if isinstance(geometry, (str, dict)):
        return ring_centroid(parse_rings(geometry)[0])
    return ring_centroid(geometry)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# --- point in polygon -----------------------------------------------------------------


def _canonical_edges(rings: list[list[tuple[float, float]]]) -> np.ndarray:
    """Edges as rows (x1, y1, x2, y2) with (y1, x1) < (y2, x2); horizontal edges dropped.

    The canonical order makes the crossing abscissa identical, bit for bit, in
    the two polygons that share an edge (they walk it in opposite directions).
    """
    out: list[tuple[float, float, float, float]] = []
    for ring in rings:
        pts = list(ring)
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts = pts[:-1]
        n = len(pts)
        for i in range(n):
            x1, y1 = pts[i]
            x2, y2 = pts[(i + 1) % n]
            if y1 == y2:
                continue  # a horizontal edge never counts as crossed with half-open rules
            if (y2, x2) < (y1, x1):
                x1, y1, x2, y2 = x2, y2, x1, y1
            out.append((x1, y1, x2, y2))
    return np.asarray(out, dtype=float).reshape(-1, 4)


def _inside_scalar(edges: np.ndarray, x: float, y: float) -> bool:
    inside = False
    for x1, y1, x2, y2 in edges.tolist():
        # y1 < y2 always (canonical, no horizontals): half-open in y.
        if (y1 > y) != (y2 > y):
            xint = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < xint:
                inside = not inside
    return inside


def _inside_many(edges: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(x), dtype=bool)
    for x1, y1, x2, y2 in edges.tolist():
        m = (y1 > y) != (y2 > y)
        if not m.any():
            continue
        # Same expression, same order as _inside_scalar: identical IEEE results.
        xint = x1 + (y[m] - y1) * (x2 - x1) / (y2 - y1)
        hit = np.zeros(len(x), dtype=bool)
        hit[m] = x[m] < xint
        inside ^= hit
    return inside


def point_in_geometry(geojson: str | dict, lat: float, lon: float) -> bool:
    """Is (lat, lon) inside the (Multi)Polygon (even-odd rule, half-open edges)?"""
    return _inside_scalar(_canonical_edges(parse_rings(geojson)), float(lon), float(lat))


class GridLocator:
    """Maps a point to the one grid whose boundary contains it.

    Built from ``(grid_id, boundary_geojson)`` rows. ``locate`` answers one point
    (bucket index, then bounding boxes, then a ray cast); ``locate_many`` answers
    arrays of points with numpy. Both give the same answer for the same point.
    """

    def __init__(self, grids: Iterable[tuple[int, str | dict]]):
        rows = sorted(((int(gid), geo) for gid, geo in grids), key=lambda r: r[0])
        self.ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        self._edges: list[np.ndarray] = []
        boxes = []
        for _, geo in rows:
            rings = parse_rings(geo)
            xs = [p[0] for r in rings for p in r]
            ys = [p[1] for r in rings for p in r]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
            self._edges.append(_canonical_edges(rings))
        self.boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)  # minx, miny, maxx, maxy
        self._build_buckets()

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_connection(cls, conn, where=None) -> "GridLocator":  # noqa: ANN001
        """Load every grid (or those matching ``where``) through an SQLAlchemy connection."""
        from sqlalchemy import select

        from dashboard.schema import grids

        q = select(grids.c.id, grids.c.boundary_geojson).order_by(grids.c.id)
        if where is not None:
            q = q.where(where)
        return cls(conn.execute(q).all())

    def _build_buckets(self) -> None:
        self._buckets: dict[tuple[int, int], tuple[int, ...]] = {}
        if not len(self.ids):
            self._bx0 = self._by0 = 0.0
            self._bw = self._bh = 1.0
            return
        b = self.boxes
        self._bx0, self._by0 = float(b[:, 0].min()), float(b[:, 1].min())
        self._bw = max(float(np.median(b[:, 2] - b[:, 0])), 1e-9)
        self._bh = max(float(np.median(b[:, 3] - b[:, 1])), 1e-9)
        lists: dict[tuple[int, int], list[int]] = {}
        for k, (x0, y0, x1, y1) in enumerate(b.tolist()):
            for ix in range(self._bucket_x(x0), self._bucket_x(x1) + 1):
                for iy in range(self._bucket_y(y0), self._bucket_y(y1) + 1):
                    lists.setdefault((ix, iy), []).append(k)
        self._buckets = {key: tuple(v) for key, v in lists.items()}  # k ascending = id ascending

    def _bucket_x(self, x: float) -> int:
        return math.floor((x - self._bx0) / self._bw)

    def _bucket_y(self, y: float) -> int:
        return math.floor((y - self._by0) / self._bh)

    def locate(self, lat: float, lon: float) -> int | None:
        """The id of the grid containing (lat, lon), or None outside every grid."""
        x, y = float(lon), float(lat)
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        for k in self._buckets.get((self._bucket_x(x), self._bucket_y(y)), ()):
            x0, y0, x1, y1 = self.boxes[k]
            if x0 <= x <= x1 and y0 <= y <= y1 and _inside_scalar(self._edges[k], x, y):
                return int(self.ids[k])
        return None

    def locate_many(self, lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray) -> np.ndarray:
        """Grid ids for arrays of points (int64; -1 where a point is in no grid)."""
        y = np.asarray(lats, dtype=float)
        x = np.asarray(lons, dtype=float)
        out = np.full(len(x), -1, dtype=np.int64)
        if not len(x) or not len(self.ids):
            return out
        order = np.argsort(x, kind="stable")
        xs, ys = x[order], y[order]
        found = np.full(len(x), -1, dtype=np.int64)
        for k in range(len(self.ids)):  # id ascending: the lowest id wins, as in locate()
            x0, y0, x1, y1 = self.boxes[k].tolist()
            lo = int(np.searchsorted(xs, x0, side="left"))
            hi = int(np.searchsorted(xs, x1, side="right"))
            if lo >= hi:
                continue
            seg = slice(lo, hi)
            cand = (found[seg] < 0) & (ys[seg] >= y0) & (ys[seg] <= y1)
            if not cand.any():
                continue
            idx = np.nonzero(cand)[0] + lo
            inside = _inside_many(self._edges[k], xs[idx], ys[idx])
            found[idx[inside]] = self.ids[k]
        out[order] = found
        return out

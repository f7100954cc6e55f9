"""Geometry helpers: H3 cells, areas, centroids, label points, and which grid holds a point.

Grids are stored as GeoJSON geometry text (lon/lat, WGS84) in
``grids.boundary_geojson``: a Polygon or a MultiPolygon, with holes (an enclave
grid fills another grid's hole; a grid may have islands). Two families of helpers:

* the ring helpers (``ring_area_km2``, ``ring_centroid``, ``polygon_area_km2``)
  the demo generator uses on its quadrilaterals: a local equirectangular
  projection (x = lon * cos(lat0), y = lat) on a sphere, accurate to well under
  0.1 % for station-sized areas;
* the whole-geometry helpers (``to_shape``, ``to_geojson``, ``geometry_area_km2``,
  ``geometry_centroid``, ``label_point``, ``label_anchor``) for real imported
  geometry of any size up to a city district (Shanghai's Pudong, ~1,400 km²):
  every part, holes subtracted, through shapely. Areas are geodesic on the
  WGS84 ellipsoid (``pyproj.Geod.geometry_area_perimeter``); centroids and label
  points are computed in a Lambert cylindrical equal-area frame whose standard
  parallel is the geometry's middle latitude (x = R·Δlon·cos lat0,
  y = R·(sin lat − sin lat0)/cos lat0, in km): equal-area, so a centroid is the
  true area-weighted one, and undistorted at lat0, so the pole of
  inaccessibility is not pulled east-west (scale error 0.2 % at ±0.25° from lat0).

``GridLocator`` answers "which grid is this point in?" for the demo generator
and the simulator. Point-in-polygon is the even-odd ray cast with half-open
edges over every ring of every part; every edge is evaluated with its end
points in a canonical order, so two grids that share an edge (two neighbours,
or a hole's ring and the enclave that fills it) compute exactly the same
crossing and a point lying on that edge belongs to exactly one of them (the
grid to its east, or to its north on an east-west edge). Among overlapping
grids (which a clean tiling does not have) the one with the lowest id wins, so
the answer is always deterministic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

import h3
import numpy as np
import pyproj
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEG = math.pi / 180.0 * EARTH_RADIUS_KM  # ~111.2 km per degree of latitude

Ring = Sequence[Sequence[float]]  # [(lon, lat), ...]


# --- H3 -------------------------------------------------------------------------


H3_RESOLUTION = 9  # about 0.1 km² a cell, edge about 174 m: every located row's ``h3`` column


def h3_cell(lat: float, lon: float) -> str:
    """The H3 cell (resolution ``H3_RESOLUTION``) holding the point."""
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
    """Centroid (lat, lon) of a ring, or of a whole geometry (``geometry_centroid``:
    every part, area-weighted, holes subtracted)."""
    if isinstance(geometry, (str, dict, BaseGeometry)):
        return geometry_centroid(geometry)
    return ring_centroid(geometry)


# --- whole geometry (shapely) ----------------------------------------------------------

GEOD = pyproj.Geod(ellps="WGS84")
Geometry = str | dict | BaseGeometry  # GeoJSON text, a GeoJSON dict (geometry or Feature), or shapely


def to_shape(geojson: Geometry) -> Polygon | MultiPolygon:
    """The shapely Polygon or MultiPolygon of a GeoJSON geometry or Feature (text or
    dict); a shapely geometry is returned as it is. Anything else: ValueError."""
    if isinstance(geojson, BaseGeometry):
        g = geojson
    else:
        d = json.loads(geojson) if isinstance(geojson, str) else geojson
        if not isinstance(d, dict):
            raise ValueError("expected a GeoJSON geometry")
        if d.get("type") == "Feature":
            d = d.get("geometry") or {}
        if d.get("type") not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"expected a Polygon or MultiPolygon geometry, got {d.get('type')!r}")
        g = shape(d)
    if g.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"expected a Polygon or MultiPolygon geometry, got {g.geom_type!r}")
    return g


def to_geojson(geom: BaseGeometry) -> str:
    """Compact GeoJSON geometry text of a shapely geometry, rings oriented as
    RFC 7946 asks (outer rings counter-clockwise, holes clockwise)."""
    return shapely.to_geojson(shapely.orient_polygons(geom))


def _polygonal(geojson: Geometry) -> list[Polygon]:
    """The non-empty polygons of a geometry, made valid first (a self-touching
    or bow-tie ring becomes the polygons it encloses)."""
    g = to_shape(geojson)
    if not g.is_valid:
        g = shapely.make_valid(g)
    return _polygons_of(g)


def _polygons_of(g: BaseGeometry) -> list[Polygon]:
    return [p for p in shapely.get_parts(g).tolist() if isinstance(p, Polygon) and not p.is_empty]


def geometry_area_km2(geojson: Geometry) -> float:
    """Area in km² on the WGS84 ellipsoid (geodesic, ``pyproj.Geod``): every part
    of a MultiPolygon summed, holes subtracted. Exact for any size, a city
    district included."""
    total = 0.0
    for part in _polygonal(geojson):
        a, _ = GEOD.geometry_area_perimeter(orient(part, 1.0))  # outer CCW (+), holes CW (−)
        total += abs(a)
    return total / 1e6


class _Frame:
    """Lambert cylindrical equal-area projection in km, standard parallel lat0
    (see the module's docstring): x = R·Δlon·cos lat0, y = R·(sin lat − sin lat0)/cos lat0."""

    def __init__(self, lat0: float, lon0: float):
        self.lon0, self.phi0 = lon0, math.radians(lat0)
        self.c = math.cos(self.phi0)
        self.s = math.sin(self.phi0)

    @classmethod
    def around(cls, geoms: Sequence[BaseGeometry]) -> "_Frame":
        b = np.asarray([g.bounds for g in geoms], dtype=float)
        return cls((b[:, 1].min() + b[:, 3].max()) / 2, (b[:, 0].min() + b[:, 2].max()) / 2)

    def fwd(self, xy: np.ndarray) -> np.ndarray:
        x = EARTH_RADIUS_KM * np.radians(xy[:, 0] - self.lon0) * self.c
        y = EARTH_RADIUS_KM * (np.sin(np.radians(xy[:, 1])) - self.s) / self.c
        return np.column_stack([x, y])

    def inv(self, xy: np.ndarray) -> np.ndarray:
        lon = self.lon0 + np.degrees(xy[:, 0] / (EARTH_RADIUS_KM * self.c))
        lat = np.degrees(np.arcsin(np.clip(xy[:, 1] * self.c / EARTH_RADIUS_KM + self.s, -1.0, 1.0)))
        return np.column_stack([lon, lat])

    def project(self, g: BaseGeometry) -> BaseGeometry:
        return shapely.transform(g, self.fwd)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self.inv(np.asarray([[x, y]], dtype=float))[0]
        return float(lon), float(lat)


def geometry_centroid(geojson: Geometry) -> tuple[float, float]:
    """Centroid (lat, lon): area-weighted over every part, holes subtracted
    (computed in the equal-area frame of the module's docstring). It may lie
    outside the geometry (a ring, an island group): put labels at ``label_point``."""
    parts = _polygonal(geojson)
    if not parts:
        raise ValueError("empty geometry")
    frame = _Frame.around(parts)
    g = frame.project(MultiPolygon(parts) if len(parts) > 1 else parts[0])
    c = g.centroid if g.area > 0 else g.envelope.centroid
    lon, lat = frame.lonlat(c.x, c.y)
    return lat, lon


def label_anchor(geojson: Geometry) -> tuple[float, float, float]:
    """(lat, lon, radius_km): ``label_point`` and the radius of the largest circle
    around it that lies inside the geometry (how much room a label has there)."""
    return _label_anchor(_text(geojson))


def _text(geojson: Geometry) -> str:
    """The cache key of a geometry: its GeoJSON text."""
    if isinstance(geojson, str):
        return geojson
    return json.dumps(shapely.geometry.mapping(geojson) if isinstance(geojson, BaseGeometry) else geojson, separators=(",", ":"))


# Maps label the same grids on every run (the wall every 30 s): the parts and
# anchors are cached, bounded, and shared by all sessions (shapely geometries
# are immutable). Keys are the geometry texts the database returned.


@lru_cache(maxsize=8192)
def _parts(text: str) -> tuple[Polygon, ...]:
    return tuple(_polygonal(text))


@lru_cache(maxsize=8192)
def _label_anchor(text: str) -> tuple[float, float, float]:
    return _anchor_of(list(_parts(text)))


def _anchor_of(parts: list[Polygon]) -> tuple[float, float, float]:
    """The pole of inaccessibility of the largest part (by area), computed in the
    local equal-area frame with a tolerance of 1/1000 of that part's larger
    side; the part's representative point if that fails or falls outside."""
    if not parts:
        raise ValueError("empty geometry")
    frame = _Frame.around(parts)
    projected = [frame.project(p) for p in parts]
    k = max(range(len(parts)), key=lambda i: projected[i].area)
    part, part_p = parts[k], projected[k]
    x0, y0, x1, y1 = part_p.bounds
    tol = max(x1 - x0, y1 - y0) / 1000.0
    try:
        circle = shapely.maximum_inscribed_circle(part_p, tol if tol > 0 else None)
        cx, cy = circle.coords[0]
        radius = float(circle.length)
        lon, lat = frame.lonlat(cx, cy)
        if part_p.contains(Point(cx, cy)) and part.contains(Point(lon, lat)):
            return lat, lon, radius
    except GEOSException:
        pass
    rp = part.representative_point()
    return float(rp.y), float(rp.x), float(part_p.boundary.distance(frame.project(rp)))


def label_point(geojson: Geometry) -> tuple[float, float]:
    """(lat, lon) of a point inside the geometry where its label goes: the pole of
    inaccessibility (the centre of the largest inscribed circle, ``shapely``'s
    polylabel) of its largest part, computed in a locally undistorted frame;
    the part's representative point as the fallback."""
    lat, lon, _ = label_anchor(geojson)
    return lat, lon


def area_shape(geojsons: Iterable[Geometry]) -> Polygon | MultiPolygon:
    """The area several geometries make together (a community's grids, a station's
    communities), or one geometry's own: valid, parts dissolved where they touch."""
    return _area_shape(tuple(_text(g) for g in geojsons))


@lru_cache(maxsize=1024)
def _area_shape(texts: tuple[str, ...]) -> Polygon | MultiPolygon:
    parts = [p for t in texts for p in _parts(t)]
    if not parts:
        raise ValueError("empty geometry")
    if len(texts) == 1:
        return parts[0] if len(parts) == 1 else MultiPolygon(parts)
    u = shapely.union_all(parts)
    polys = _polygons_of(u)
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def union_label_anchor(geojsons: Iterable[Geometry]) -> tuple[float, float, float]:
    """``label_anchor`` of the union of several geometries (a community's grids,
    a station's communities): the label sits inside the whole they make, not at
    the mean of their centres (which can fall in a hole or outside a C-shape)."""
    return _union_label_anchor(tuple(_text(g) for g in geojsons))


@lru_cache(maxsize=1024)
def _union_label_anchor(texts: tuple[str, ...]) -> tuple[float, float, float]:
    return _anchor_of(_polygons_of(_area_shape(texts)))


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

"""Declared source coordinate systems to WGS84 lon/lat, for the data importer.

A station's own places (GeoJSON, KML, Shapefile) and records (CSV, Excel) may
be in WGS84, CGCS2000, a projected grid (UTM, CGCS2000 Gauss-Kruger) or one of
China's offset systems (GCJ-02 from AMap/Tencent, BD-09 from Baidu). The
operator *declares* which; this module never guesses. A guess that is wrong
by a zone, a datum or an offset system still yields plausible-looking points
(GCJ-02 read as WGS84 is a few hundred metres out, a Gauss-Kruger zone out is
hundreds of kilometres), so the map would show incidents on the wrong street
with nothing to say so. A declaration can be checked and argued about; a
guess cannot. `looks_like_degrees` exists only so the importer can *warn*
when the numbers do not fit the declaration.

Accuracy (measured by tests/test_crs.py, 2,000 random points over China plus
the reverse direction):

* EPSG codes go through PROJ (pyproj) with the network switched off: only
  the transformations bundled with pyproj are used, never a grid fetched from
  cdn.proj.org. Projection maths is exact to well under a millimetre. Datum
  shifts are as good as PROJ's best offline transformation (NAD83 -> WGS84,
  for instance, is EPSG's 4 m null transformation).
* CGCS2000 (EPSG:4490 and its Gauss-Kruger grids) is taken as WGS84, as PROJ
  does ("ballpark" offset of zero). The frames coincided at epoch 2000.0;
  CGCS2000 stays fixed to it while WGS84 follows the plates, so they now
  differ by China's drift since then, a few centimetres a year (of the order
  of a metre by the mid-2020s, not measured here): below what a
  command-room map can show, but not survey grade.
* CRSs on China's legacy datums (Beijing 1954, Xian 1980, New Beijing) and
  any other CRS whose best offline transformation is a ballpark are refused:
  PROJ would apply no datum shift at all and the points would be tens of
  metres or more out without a word. Such data must be converted with the
  local survey parameters first.
* GCJ-02 and BD-09 inverses are iterated until a step changes less than
  1e-9 degrees (0.1 mm). Round trips WGS84 -> GCJ-02/BD-09 -> WGS84 and the
  reverse, over 200,000 random points in lon 73-135, lat 18-53, stay within
  1e-8 m for GCJ-02 and 2e-7 m for BD-09 (float rounding); the test asserts
  under 1 mm on 2,000 points. That is the accuracy of our inverse of the
  published formulas; how far those formulas are from what AMap's and
  Baidu's servers do is not something an offline test can measure.
"""

from __future__ import annotations

import copy
import functools
import numbers
import re
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyproj
import pyproj.network
from pyproj.aoi import AreaOfInterest
from pyproj.exceptions import CRSError
from pyproj.transformer import Transformer, TransformerGroup

# Police networks are offline: never let PROJ reach for cdn.proj.org. This
# forces it off for every PROJ context created from now on, whatever the
# PROJ_NETWORK environment variable or proj.ini say.
pyproj.network.set_network_enabled(False)

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
GCJ02 = "GCJ-02"
BD09 = "BD-09"

__all__ = [
    "BD09",
    "CGCS2000",
    "GCJ02",
    "WGS84",
    "CrsError",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "looks_like_degrees",
    "parse_crs",
    "to_wgs84",
    "transform_geometry",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]


class CrsError(ValueError):
    """A declared coordinate system we cannot (or will not) convert from.

    The message is bilingual, Chinese first, for the operator's screen.
    """


# Aliases, compared after removing spaces, '_' and '-' and casefolding.
_ALIASES: dict[str, str] = {
    "wgs84": WGS84,
    "wgs1984": WGS84,
    "4326": WGS84,
    "cgcs2000": CGCS2000,
    "4490": CGCS2000,
    "gcj02": GCJ02,
    "gcj": GCJ02,
    "火星坐标": GCJ02,
    "火星坐标系": GCJ02,
    "amap": GCJ02,
    "高德": GCJ02,
    "高德地图": GCJ02,
    "tencent": GCJ02,
    "腾讯": GCJ02,
    "腾讯地图": GCJ02,
    "bd09": BD09,
    "baidu": BD09,
    "百度": BD09,
    "百度地图": BD09,
}

# Geographic CRSs of China's pre-2008 national datums. PROJ has no general
# offline transformation from them to WGS84 (only a few regional ones for
# Beijing 1954 and a zero "ballpark" shift elsewhere).
_LEGACY_CHINA = {4214: "Beijing 1954", 4610: "Xian 1980", 4555: "New Beijing"}

_EPSG = re.compile(r"(?:epsg:+)?(\d{1,6})")


def _unknown(text: object) -> CrsError:
    return CrsError(
        f"未知坐标系 {text!r}，请填写 WGS84、CGCS2000、GCJ-02、BD-09 或 EPSG:编号 / "
        f"unknown coordinate system {text!r}; declare WGS84, CGCS2000, GCJ-02, "
        "BD-09 or EPSG:<code>"
    )


def parse_crs(text: str) -> str:
    """Normalise a declared CRS name to its canonical key, or raise CrsError.

    Returns "EPSG:<n>" for WGS84 (EPSG:4326), CGCS2000 (EPSG:4490) and any 2D
    geographic or projected EPSG CRS that PROJ can take to WGS84 offline
    without a ballpark datum shift; "GCJ-02" or "BD-09" for China's offset
    systems. Case, spaces, '_' and '-' are ignored. Geocentric, 3D, vertical,
    compound and engineering CRSs are refused, as are the legacy Chinese
    datums (see the module docstring).
    """
    if not isinstance(text, str):
        raise _unknown(text)
    compact = re.sub(r"\s+", "", text).casefold()
    key = re.sub(r"[_\-]+", "", compact)
    if key in _ALIASES:
        return _ALIASES[key]
    match = _EPSG.fullmatch(compact)
    if match is None:
        raise _unknown(text)
    code = f"EPSG:{int(match.group(1))}"
    _check_epsg(code)
    return code


@functools.lru_cache(maxsize=256)
def _check_epsg(code: str) -> None:
    """Raise CrsError unless `code` is a 2D CRS we convert honestly."""
    try:
        crs = pyproj.CRS.from_user_input(code)
    except CRSError:
        raise _unknown(code) from None
    name = crs.name
    if not (crs.is_geographic or crs.is_projected) or len(crs.axis_info) != 2:
        raise CrsError(
            f"坐标系 {code}（{name}）不是二维平面或经纬度坐标系，无法导入 / "
            f"{code} ({name}) is not a 2D geographic or projected CRS"
        )
    geodetic = crs.geodetic_crs.to_epsg() if crs.geodetic_crs else None
    if geodetic == 4490 or geodetic == 4326:
        return
    if geodetic in _LEGACY_CHINA or _best_is_ballpark(crs):
        datum = _LEGACY_CHINA.get(geodetic or 0) or crs.datum.name
        raise CrsError(
            f"坐标系 {code}（{name}）基于 {datum} 基准，离线没有到 WGS84 的基准转换参数，"
            "直接换算可能偏差数十米以上；请先用本地七参数在 GIS 中转为 CGCS2000 或 WGS84 / "
            f"{code} ({name}) is on the {datum} datum, which has no offline "
            "transformation to WGS84; converting would silently be tens of metres "
            "or more out. Convert it with the local survey parameters first"
        )


def _best_is_ballpark(crs: pyproj.CRS) -> bool:
    area = crs.area_of_use
    aoi = AreaOfInterest(*area.bounds) if area is not None else None
    with warnings.catch_warnings():
        # "Best transformation is not available due to missing Grid": we
        # judge what is available offline, which is exactly the point.
        warnings.simplefilter("ignore", UserWarning)
        group = TransformerGroup(crs, WGS84, always_xy=True, area_of_interest=aoi)
    return not group.transformers or "ballpark" in group.transformers[0].description.casefold()


@functools.lru_cache(maxsize=64)
def _transformer(code: str) -> Transformer:
    # Transformer is thread-safe since pyproj 3.1 (one PROJ object per thread).
    return Transformer.from_crs(code, WGS84, always_xy=True)


def _as_float(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xs = np.array(x, dtype=float)
    ys = np.array(y, dtype=float)
    if xs.shape != ys.shape:
        raise ValueError(
            f"x 与 y 数量不一致 {xs.shape} / {ys.shape} / x and y differ in shape"
        )
    return xs, ys


def to_wgs84(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
             crs: str) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) in WGS84 for x (easting or longitude), y (northing or latitude).

    `crs` is anything `parse_crs` accepts. Always x first, as in GeoJSON, also
    for CRSs whose official axis order is north-first (EPSG:4490, the
    CGCS2000 Gauss-Kruger grids, where Chinese surveyors call the northing
    "X"). NaN (or inf) in gives NaN out, never an exception; a point the
    projection cannot invert comes out as NaN too, never as inf. A point far
    outside the CRS's zone may still come out finite (a transverse Mercator
    inverse extrapolates), so the importer should check the result.
    """
    key = parse_crs(crs)
    xs, ys = _as_float(x, y)
    if key == GCJ02:
        lon, lat = gcj02_to_wgs84(xs, ys)
    elif key == BD09:
        lon, lat = bd09_to_wgs84(xs, ys)
    elif key == WGS84:
        lon, lat = xs, ys
    else:
        tx, ty = _transformer(key).transform(xs.ravel(), ys.ravel())
        lon = np.asarray(tx, dtype=float).reshape(xs.shape)
        lat = np.asarray(ty, dtype=float).reshape(xs.shape)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    lon[bad] = np.nan
    lat[bad] = np.nan
    return lon, lat


def looks_like_degrees(x: Sequence[float] | np.ndarray,
                       y: Sequence[float] | np.ndarray) -> bool:
    """True when every finite x is in [-180, 180] and every finite y in [-90, 90].

    For warnings only ("projected CRS declared, but these look like
    degrees", or the reverse). False when there is no finite value at all.
    """
    xs, ys = _as_float(x, y)
    xs = xs[np.isfinite(xs)]
    ys = ys[np.isfinite(ys)]
    if xs.size == 0 and ys.size == 0:
        return False
    return bool(np.all(np.abs(xs) <= 180.0) and np.all(np.abs(ys) <= 90.0))


# --- GCJ-02 and BD-09 -------------------------------------------------------
#
# WGS84 -> GCJ-02 is the formula leaked as the Android/iOS "eviltransform"
# (Krasovsky 1940 ellipsoid, a = 6378245 m); GCJ-02 -> BD-09 is Baidu's
# published one. Neither has a closed-form inverse; we iterate.

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-9
_MAX_ITER = 30


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The rough box every GCJ-02 implementation uses (NaN counts as outside)."""
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84, in degrees, at WGS84 (lon, lat); no box rule."""
    x = lon - 105.0
    y = lat - 35.0
    waves = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    d_lat = (waves + 20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)
             + 160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y / 30.0 * np.pi)) * 2.0 / 3.0
    d_lat += -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lon = (waves + 20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)
             + 150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    d_lon += 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    rad = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (magic * sqrt_magic) * np.pi)
    d_lon = d_lon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> GCJ-02. Points outside the China box (lon 72.004-137.8347,
    lat 0.8293-55.8271) are returned unchanged, as every GCJ-02 user does."""
    lon, lat = _as_float(lon, lat)
    inside = _in_china(lon, lat)
    out_lon, out_lat = lon.copy(), lat.copy()
    d_lon, d_lat = _gcj_offset(lon[inside], lat[inside])
    out_lon[inside] += d_lon
    out_lat[inside] += d_lat
    return out_lon, out_lat


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> WGS84 by fixed-point iteration w <- g - offset(w).

    Over China the offset changes by under 0.007 degrees per degree (only at
    the sqrt cusp on 105 E is it steeper, and there it is tiny), so each step
    gains over two digits: three or four steps reach a change below 1e-9
    degrees (0.1 mm), where we stop; 30 at most. Points outside the China box (lon 72.004-137.8347, lat
    0.8293-55.8271) are returned unchanged, like the forward direction. Within
    a kilometre of the box edge (no Chinese city is) a point can map to a
    WGS84 point just outside the box, where the forward is the identity.
    """
    lon, lat = _as_float(lon, lat)
    inside = _in_china(lon, lat)
    g_lon, g_lat = lon[inside], lat[inside]
    d_lon, d_lat = _gcj_offset(g_lon, g_lat)
    w_lon, w_lat = g_lon - d_lon, g_lat - d_lat
    for _ in range(_MAX_ITER):
        d_lon, d_lat = _gcj_offset(w_lon, w_lat)
        n_lon, n_lat = g_lon - d_lon, g_lat - d_lat
        change = max(np.max(np.abs(n_lon - w_lon), initial=0.0),
                     np.max(np.abs(n_lat - w_lat), initial=0.0))
        w_lon, w_lat = n_lon, n_lat
        if change < _TOL_DEG:
            break
    out_lon, out_lat = lon.copy(), lat.copy()
    out_lon[inside] = w_lon
    out_lat[inside] = w_lat
    return out_lon, out_lat


def _bd_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):  # inf in: NaN out, quietly
        z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
        theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
        return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> BD-09 (Baidu's formula, applied everywhere: it has no box)."""
    return _bd_forward(*_as_float(lon, lat))


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> GCJ-02: the usual approximate inverse, then refined by
    fixed-point iteration g <- g + (bd - forward(g)) to a change below 1e-9
    degrees (at most 30 steps)."""
    b_lon, b_lat = _as_float(lon, lat)
    x, y = b_lon - 0.0065, b_lat - 0.006
    with np.errstate(invalid="ignore"):
        z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
        g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    finite = np.isfinite(g_lon) & np.isfinite(g_lat)
    for _ in range(_MAX_ITER):
        f_lon, f_lat = _bd_forward(g_lon, g_lat)
        s_lon, s_lat = b_lon - f_lon, b_lat - f_lat
        g_lon, g_lat = g_lon + s_lon, g_lat + s_lat
        change = max(np.max(np.abs(s_lon[finite]), initial=0.0),
                     np.max(np.abs(s_lat[finite]), initial=0.0))
        if change < _TOL_DEG:
            break
    return g_lon, g_lat


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> GCJ-02 (box rule) -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> GCJ-02 -> WGS84 (box rule on the GCJ-02 point)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# --- GeoJSON geometries -------------------------------------------------------

_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
          "Polygon": 2, "MultiPolygon": 3}


def transform_geometry(geometry: dict[str, Any], crs: str) -> dict[str, Any]:
    """A new GeoJSON geometry with every position converted to WGS84 lon/lat.

    Handles Point, MultiPoint, LineString, MultiLineString, Polygon,
    MultiPolygon and GeometryCollection; the structure (rings, holes, parts)
    is kept. Z (and any further ordinate) is dropped. All positions go
    through `to_wgs84` in one vectorised call. For EPSG:4326 the values are
    copied untouched. A "bbox" member is dropped, since it would be stale.
    Raises CrsError for the CRS, ValueError for a malformed geometry.
    """
    key = parse_crs(crs)
    xs: list[float] = []
    ys: list[float] = []
    _collect(geometry, xs, ys)
    if key == WGS84:
        lon, lat = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    else:
        lon, lat = to_wgs84(xs, ys, key)
    return _rebuild(geometry, iter(zip(lon.tolist(), lat.tolist())))


def _bad(geometry: object) -> ValueError:
    text = repr(geometry)
    if len(text) > 80:
        text = text[:77] + "..."
    return ValueError(f"无法识别的几何对象 {text} / malformed GeoJSON geometry {text}")


def _collect(geometry: Any, xs: list[float], ys: list[float]) -> None:
    if not isinstance(geometry, dict):
        raise _bad(geometry)
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        parts = geometry.get("geometries")
        if not isinstance(parts, list):
            raise _bad(geometry)
        for part in parts:
            _collect(part, xs, ys)
        return
    if kind not in _DEPTH or "coordinates" not in geometry:
        raise _bad(geometry)
    for position in _positions(geometry["coordinates"], _DEPTH[kind], geometry):
        xs.append(position[0])
        ys.append(position[1])


def _positions(value: Any, depth: int, geometry: Any) -> Iterator[Any]:
    if depth == 0:
        if (not isinstance(value, (list, tuple)) or len(value) < 2
                or not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                           for v in value[:2])):
            raise _bad(geometry)
        yield value
        return
    if not isinstance(value, (list, tuple)):
        raise _bad(geometry)
    for item in value:
        yield from _positions(item, depth - 1, geometry)


def _rebuild(geometry: dict[str, Any], converted: Iterator[tuple[float, float]]) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in geometry.items()
           if k not in ("coordinates", "geometries", "bbox")}
    if geometry["type"] == "GeometryCollection":
        out["geometries"] = [_rebuild(part, converted) for part in geometry["geometries"]]
    else:
        out["coordinates"] = _shape(geometry["coordinates"], _DEPTH[geometry["type"]], converted)
    return out


def _shape(value: Any, depth: int, converted: Iterator[tuple[float, float]]) -> Any:
    if depth == 0:
        return list(next(converted))
    return [_shape(item, depth - 1, converted) for item in value]


def is_geographic(crs: str) -> bool:
    """Is a ``parse_crs`` result in degrees? GCJ-02 and BD-09 are; projected EPSG codes are not.

    The importer uses it with ``looks_like_degrees`` to refuse a batch whose
    values do not fit the declared system (metres declared as degrees, or the
    other way round) before anything is written.
    """
    if crs in (GCJ02, BD09):
        return True
    return bool(pyproj.CRS.from_user_input(crs).is_geographic)


def check_declared(x, y, crs: str, what: str = "坐标") -> None:  # sequences or arrays
    """Raise CrsError when the values plainly do not fit the declared system:
    metres declared as degrees, or degrees declared as a projected system (the
    classic mistake). Points at (0, 0), an export's "no position", are ignored."""
    xs, ys = _as_float(x, y)
    keep = np.isfinite(xs) & np.isfinite(ys) & ((xs != 0) | (ys != 0))
    xs, ys = xs[keep], ys[keep]
    if not len(xs):
        return
    degrees = looks_like_degrees(xs, ys)
    if is_geographic(crs) and not degrees:
        raise CrsError(
            f"声明的坐标系 {crs} 是经纬度，但{what}像是米（例 {xs[0]:.1f}, {ys[0]:.1f}）；请声明投影坐标系，例如 UTM 的 EPSG:326xx 或高斯-克吕格的 EPSG:45xx"
            f" / declared {crs} is in degrees but the values look like metres"
        )
    if not is_geographic(crs) and degrees:
        raise CrsError(
            f"声明的坐标系 {crs} 是投影坐标（米），但{what}像是经纬度（例 {xs[0]:.5f}, {ys[0]:.5f}）；请声明 EPSG:4326、GCJ-02 或 BD-09"
            f" / declared {crs} is projected but the values look like degrees"
        )

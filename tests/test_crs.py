"""dashboard.crs: declared CRS names, PROJ conversions, GCJ-02/BD-09 and GeoJSON.

Fast and offline: no database, no network (the module switches PROJ's
network off, which one test checks).
"""

from __future__ import annotations

import copy
import math
import threading

import numpy as np
import pyproj
import pyproj.network
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import crs
from dashboard.crs import CrsError, is_geographic, parse_crs, to_wgs84

EARTH_R = 6371008.8  # mean Earth radius, metres


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_R * np.arcsin(np.sqrt(a))


def china_grid(n: int = 2000, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(73.0, 135.0, n), rng.uniform(18.0, 53.0, n)


# --- parse_crs ------------------------------------------------------------------

@pytest.mark.parametrize("text, key", [
    ("WGS84", "EPSG:4326"), ("wgs 84", "EPSG:4326"), ("WGS-84", "EPSG:4326"),
    ("EPSG:4326", "EPSG:4326"), ("epsg:4326", "EPSG:4326"), (" 4326 ", "EPSG:4326"),
    ("EPSG: 4326", "EPSG:4326"),
    ("CGCS2000", "EPSG:4490"), ("cgcs 2000", "EPSG:4490"), ("EPSG:4490", "EPSG:4490"),
    ("EPSG:32610", "EPSG:32610"), ("32610", "EPSG:32610"), ("EPSG:26910", "EPSG:26910"),
    ("EPSG:4513", "EPSG:4513"), ("EPSG:4549", "EPSG:4549"), ("EPSG:4554", "EPSG:4554"),
    ("EPSG:3857", "EPSG:3857"),
    ("GCJ-02", "GCJ-02"), ("gcj02", "GCJ-02"), ("GCJ_02", "GCJ-02"), ("gcj", "GCJ-02"),
    ("火星坐标", "GCJ-02"), ("AMap", "GCJ-02"), ("高德", "GCJ-02"),
    ("Tencent", "GCJ-02"), ("腾讯", "GCJ-02"),
    ("BD-09", "BD-09"), ("bd09", "BD-09"), ("Baidu", "BD-09"), ("百度", "BD-09"),
])
def test_parse_crs_aliases(text: str, key: str) -> None:
    assert parse_crs(text) == key


@pytest.mark.parametrize("text", [
    "EPSG:99999",  # no such code
    "EPSG:4978",  # WGS 84 geocentric
    "EPSG:4979",  # WGS 84 geographic 3D
    "EPSG:4480",  # CGCS2000 geographic 3D
    "EPSG:5773",  # EGM96 height (vertical)
    "EPSG:9705",  # WGS 84 + MSL height (compound)
    "ESRI:102100", "OGC:CRS84", "+proj=longlat", "UTM 50N", "mars", "", "   ",
    "EPSG:", "EPSG:43.26", "EPSG:-4326",
])
def test_parse_crs_refuses(text: str) -> None:
    with pytest.raises(CrsError):
        parse_crs(text)


@pytest.mark.parametrize("text", [
    "EPSG:2383",  # Xian 1980 / 3-degree Gauss-Kruger CM 114E
    "EPSG:4610",  # Xian 1980
    "EPSG:2436",  # Beijing 1954 / 3-degree Gauss-Kruger CM 117E
    "EPSG:4214",  # Beijing 1954
])
def test_parse_crs_refuses_legacy_chinese_datums(text: str) -> None:
    # PROJ would take these to WGS84 with no datum shift at all.
    with pytest.raises(CrsError, match="datum"):
        parse_crs(text)


def test_crs_error_is_bilingual_chinese_first() -> None:
    with pytest.raises(CrsError) as caught:
        parse_crs("EPSG:99999")
    message = str(caught.value)
    assert message.startswith("未知坐标系 'EPSG:99999'")
    assert "/ unknown coordinate system 'EPSG:99999'" in message
    assert isinstance(caught.value, ValueError)


def test_parse_crs_refuses_non_strings() -> None:
    for value in (None, 4326, b"EPSG:4326"):
        with pytest.raises(CrsError):
            parse_crs(value)  # type: ignore[arg-type]


def test_network_is_off() -> None:
    assert not pyproj.network.is_network_enabled()
    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(pyproj.network.is_network_enabled()))
    worker.start()
    worker.join()
    assert seen == [False]


# --- EPSG through PROJ ------------------------------------------------------------

def test_utm_10n_vancouver() -> None:
    x, y = [491285.2], [5458543.1]
    lon, lat = to_wgs84(x, y, "EPSG:32610")
    # Computed once with PROJ 9 (pyproj 3.7) and kept: downtown Vancouver.
    assert lon[0] == pytest.approx(-123.1198203, abs=1e-7)
    assert lat[0] == pytest.approx(49.2795807, abs=1e-7)
    back = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32610", always_xy=True)
    bx, by = back.transform(lon, lat)
    assert bx[0] == pytest.approx(x[0], abs=1e-3)
    assert by[0] == pytest.approx(y[0], abs=1e-3)


def test_nad83_utm_10n_is_accepted_and_close_to_wgs84() -> None:
    lon, lat = to_wgs84([491285.2], [5458543.1], "EPSG:26910")
    wlon, wlat = to_wgs84([491285.2], [5458543.1], "EPSG:32610")
    assert haversine_m(lon, lat, wlon, wlat)[0] < 5.0


def test_gauss_kruger_cm_120e_round_trip() -> None:
    # West Lake, Hangzhou. CGCS2000 / 3-degree GK CM 120E; easting first
    # although EPSG's axis order (and Chinese survey usage) is X = north.
    easting, northing = 514436.5361851634, 3347836.5560459327
    lon, lat = to_wgs84([easting], [northing], "EPSG:4549")
    assert lon[0] == pytest.approx(120.15, abs=1e-8)
    assert lat[0] == pytest.approx(30.25, abs=1e-8)
    back = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    bx, by = back.transform(lon, lat)
    assert bx[0] == pytest.approx(easting, abs=1e-3)
    assert by[0] == pytest.approx(northing, abs=1e-3)


def test_gauss_kruger_zoned_keeps_the_zone_prefix() -> None:
    # EPSG:4513 is zone 25 (CM 75E): false easting 25,500,000. Kashgar.
    lon, lat = to_wgs84([25585190.703419365], [4371151.249466125], "EPSG:4513")
    assert lon[0] == pytest.approx(75.99, abs=1e-8)
    assert lat[0] == pytest.approx(39.47, abs=1e-8)


def test_cgcs2000_geographic_is_wgs84() -> None:
    lon, lat = to_wgs84([116.391305, 87.6], [39.907388, 43.8], "CGCS2000")
    np.testing.assert_allclose(lon, [116.391305, 87.6], atol=1e-12)
    np.testing.assert_allclose(lat, [39.907388, 43.8], atol=1e-12)


def test_wgs84_is_returned_as_is() -> None:
    lon, lat = to_wgs84([116.4, 1000.0], [39.9, -5.0], "WGS84")
    assert lon.tolist() == [116.4, 1000.0]
    assert lat.tolist() == [39.9, -5.0]


@pytest.mark.parametrize("name", ["WGS84", "CGCS2000", "EPSG:32610", "EPSG:4549", "GCJ-02", "BD-09"])
def test_nan_passthrough(name: str) -> None:
    x = [np.nan, 116.4, None, np.inf]
    y = [39.9, np.nan, 39.9, 39.9]
    lon, lat = to_wgs84(x, y, name)
    assert lon.dtype == float and lat.dtype == float
    assert np.isnan(lon).all() and np.isnan(lat).all()


def test_vectorised_shapes() -> None:
    lon, lat = to_wgs84(np.full((3, 2), 491285.2), np.full((3, 2), 5458543.1), "EPSG:32610")
    assert lon.shape == lat.shape == (3, 2)
    lon, lat = to_wgs84([], [], "EPSG:32610")
    assert lon.shape == (0,)
    with pytest.raises(ValueError):
        to_wgs84([1.0, 2.0], [1.0], "EPSG:32610")


def test_transformers_are_cached() -> None:
    to_wgs84([491285.2], [5458543.1], "EPSG:32610")
    before = crs._transformer.cache_info().hits
    to_wgs84([491285.2], [5458543.1], "EPSG:32610")
    assert crs._transformer.cache_info().hits == before + 1


# --- GCJ-02 / BD-09 -----------------------------------------------------------------

def test_gcj02_tiananmen() -> None:
    # Tiananmen, WGS84 (116.391305, 39.907388). The GCJ-02 value the brief
    # gave, about (116.397540, 39.908790); the formula itself gives
    # (116.3975462, 39.9087893), 0.53 m from it.
    lon, lat = crs.wgs84_to_gcj02([116.391305], [39.907388])
    assert haversine_m(lon, lat, 116.397540, 39.908790)[0] < 2.0
    assert lon[0] == pytest.approx(116.3975462, abs=1e-7)
    assert lat[0] == pytest.approx(39.9087893, abs=1e-7)


@pytest.mark.parametrize("wgs, gcj", [
    # Published test vectors of googollee/eviltransform (python/test.py),
    # (lon, lat): Shanghai, Shenzhen, Beijing.
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
])
def test_gcj02_published_vectors(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = crs.wgs84_to_gcj02([wgs[0]], [wgs[1]])
    assert lon[0] == pytest.approx(gcj[0], abs=1e-7)
    assert lat[0] == pytest.approx(gcj[1], abs=1e-7)
    back = crs.gcj02_to_wgs84(np.array([gcj[0]]), np.array([gcj[1]]))
    assert haversine_m(back[0], back[1], wgs[0], wgs[1])[0] < 0.01


def test_gcj02_round_trip_over_china() -> None:
    lon, lat = china_grid()
    there = crs.wgs84_to_gcj02(lon, lat)
    offset = haversine_m(lon, lat, *there)
    assert offset.min() > 1.0 and offset.max() < 1000.0  # it does move points
    back = crs.gcj02_to_wgs84(*there)
    assert haversine_m(lon, lat, *back).max() < 1e-3  # measured: ~1e-8 m
    # And the other way: a GCJ-02 point's WGS84 preimage maps back onto it.
    pre = crs.gcj02_to_wgs84(lon, lat)
    assert haversine_m(lon, lat, *crs.wgs84_to_gcj02(*pre)).max() < 1e-3


def test_gcj02_round_trip_on_the_105e_cusp() -> None:
    # The formula has sqrt(|lon - 105|) terms: infinitely steep on 105 E.
    lon = np.concatenate([[105.0, 105.0 + 1e-13, 105.0 - 1e-15], np.linspace(104.99, 105.01, 2001)])
    lat = np.full_like(lon, 30.0)
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert haversine_m(lon, lat, *back).max() < 1e-3


def test_bd09_round_trip_over_china() -> None:
    lon, lat = china_grid(seed=7)
    there = crs.wgs84_to_bd09(lon, lat)
    assert haversine_m(lon, lat, *there).min() > 1.0
    back = crs.bd09_to_wgs84(*there)
    assert haversine_m(lon, lat, *back).max() < 1e-3  # measured: ~2e-7 m
    pre = crs.bd09_to_wgs84(lon, lat)
    assert haversine_m(lon, lat, *crs.wgs84_to_bd09(*pre)).max() < 1e-3
    g = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(lon, lat))
    assert haversine_m(lon, lat, *g).max() < 1e-3


def test_bd09_is_better_than_the_one_step_inverse() -> None:
    # The usual closed-form BD-09 -> GCJ-02 is a few decimetres out at most;
    # the iteration must do better than that, not merely as well.
    lon, lat = china_grid(seed=11)
    bd_lon, bd_lat = crs.gcj02_to_bd09(lon, lat)
    x, y = bd_lon - 0.0065, bd_lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * crs._X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * crs._X_PI)
    one_step = haversine_m(lon, lat, z * np.cos(theta), z * np.sin(theta)).max()
    iterated = haversine_m(lon, lat, *crs.bd09_to_gcj02(bd_lon, bd_lat)).max()
    assert iterated < one_step / 1000


def test_to_wgs84_offset_systems_match_the_functions() -> None:
    lon, lat = china_grid(50, seed=3)
    np.testing.assert_array_equal(to_wgs84(lon, lat, "高德")[0], crs.gcj02_to_wgs84(lon, lat)[0])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "百度")[1], crs.bd09_to_wgs84(lon, lat)[1])


def test_gcj02_outside_china_unchanged() -> None:
    # London, New York, Sydney, Tokyo (139.7 E is east of the box), Moscow.
    lon = np.array([-0.1276, -74.006, 151.2093, 139.6917, 37.6173])
    lat = np.array([51.5072, 40.7128, -33.8688, 35.6895, 55.7558])
    for convert in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84):
        out_lon, out_lat = convert(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)
    # Inputs are not modified in place.
    assert lon[0] == -0.1276


def test_gcj02_functions_keep_nan_and_mix() -> None:
    lon = np.array([116.391305, np.nan, -0.1276])
    lat = np.array([39.907388, 39.9, 51.5072])
    out_lon, out_lat = crs.wgs84_to_gcj02(lon, lat)
    assert out_lon[0] != lon[0] and np.isnan(out_lon[1]) and out_lon[2] == lon[2]
    back_lon, back_lat = crs.gcj02_to_wgs84(out_lon, out_lat)
    assert back_lon[0] == pytest.approx(lon[0], abs=1e-10)
    assert np.isnan(back_lon[1]) and back_lon[2] == lon[2]


@settings(max_examples=200, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(18.0, 53.0))
def test_offset_round_trips_property(lon: float, lat: float) -> None:
    for forward, inverse in ((crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
                             (crs.wgs84_to_bd09, crs.bd09_to_wgs84)):
        back = inverse(*forward([lon], [lat]))
        assert haversine_m(lon, lat, *back)[0] < 1e-3


# --- looks_like_degrees --------------------------------------------------------------

def test_looks_like_degrees() -> None:
    assert crs.looks_like_degrees([116.39, -123.1], [39.9, 49.3])
    assert crs.looks_like_degrees([180.0, np.nan], [-90.0, 10.0])
    assert not crs.looks_like_degrees([491234.5], [5457890.1])
    assert not crs.looks_like_degrees([116.39, 491234.5], [39.9, 39.9])
    assert not crs.looks_like_degrees([39.9], [116.39])  # lat/lon swapped
    assert not crs.looks_like_degrees([np.nan], [np.nan])
    assert not crs.looks_like_degrees([], [])


# --- transform_geometry ----------------------------------------------------------------

def _gk(lon: float, lat: float) -> list[float]:
    fwd = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    x, y = fwd.transform(lon, lat)
    return [x, y, 12.5]  # with a Z, to be dropped


def _multipolygon_gk() -> dict:
    outer = [_gk(120.10, 30.20), _gk(120.20, 30.20), _gk(120.20, 30.30),
             _gk(120.10, 30.30), _gk(120.10, 30.20)]
    hole = [_gk(120.14, 30.24), _gk(120.14, 30.26), _gk(120.16, 30.26), _gk(120.14, 30.24)]
    island = [_gk(120.30, 30.40), _gk(120.31, 30.40), _gk(120.31, 30.41), _gk(120.30, 30.40)]
    return {"type": "MultiPolygon", "coordinates": [[outer, hole], [island]],
            "bbox": [0, 0, 1, 1]}


def test_transform_geometry_multipolygon_with_hole() -> None:
    geometry = _multipolygon_gk()
    original = copy.deepcopy(geometry)
    out = crs.transform_geometry(geometry, "EPSG:4549")
    assert geometry == original  # input untouched
    assert out["type"] == "MultiPolygon" and "bbox" not in out
    assert [len(ring) for poly in out["coordinates"] for ring in poly] == [5, 4, 4]
    assert [len(poly) for poly in out["coordinates"]] == [2, 1]
    for poly_in, poly_out in zip(geometry["coordinates"], out["coordinates"]):
        for ring_in, ring_out in zip(poly_in, poly_out):
            for (x, y, _z), position in zip(ring_in, ring_out):
                assert len(position) == 2
                lon, lat = to_wgs84([x], [y], "EPSG:4549")
                assert position == [lon[0], lat[0]]
    assert out["coordinates"][0][0][0] == pytest.approx([120.10, 30.20], abs=1e-8)
    assert out["coordinates"][0][1][2] == pytest.approx([120.16, 30.26], abs=1e-8)
    assert out["coordinates"][0][0][-1] == out["coordinates"][0][0][0]  # still closed


def test_transform_geometry_all_kinds() -> None:
    p = [491285.2, 5458543.1]
    q = [491385.2, 5458643.1]
    geometry = {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": p},
        {"type": "MultiPoint", "coordinates": [p, q]},
        {"type": "LineString", "coordinates": [p, q]},
        {"type": "MultiLineString", "coordinates": [[p, q], [q, p]]},
        {"type": "Polygon", "coordinates": [[p, q, [491385.2, 5458543.1], p]]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": q}]},
    ]}
    out = crs.transform_geometry(geometry, "EPSG:32610")
    kinds = [g["type"] for g in out["geometries"]]
    assert kinds == ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                     "GeometryCollection"]
    point = out["geometries"][0]["coordinates"]
    assert point == pytest.approx([-123.1198203, 49.2795807], abs=1e-7)
    assert out["geometries"][3]["coordinates"][1][1] == point
    assert out["geometries"][5]["geometries"][0]["coordinates"] == \
        out["geometries"][1]["coordinates"][1]


def test_transform_geometry_wgs84_is_a_deep_copy() -> None:
    geometry = {"type": "Polygon", "coordinates": [[[116.0, 39.0], [117, 39.0], [117, 40.0],
                                                    [116.0, 39.0]]]}
    out = crs.transform_geometry(geometry, "WGS84")
    assert out == geometry
    assert out is not geometry and out["coordinates"][0] is not geometry["coordinates"][0]
    out["coordinates"][0][0][0] = 0.0
    assert geometry["coordinates"][0][0][0] == 116.0
    with_z = crs.transform_geometry({"type": "Point", "coordinates": [116.0, 39.0, 50.0]}, "EPSG:4326")
    assert with_z == {"type": "Point", "coordinates": [116.0, 39.0]}


def test_transform_geometry_offset_system() -> None:
    out = crs.transform_geometry({"type": "Point", "coordinates": [116.3975462, 39.9087893]}, "GCJ-02")
    assert out["coordinates"] == pytest.approx([116.391305, 39.907388], abs=1e-6)


@pytest.mark.parametrize("bad", [
    None, [], {"type": "Circle", "coordinates": [0, 0]}, {"type": "Point"},
    {"type": "Point", "coordinates": [1.0]}, {"type": "Point", "coordinates": ["1", "2"]},
    {"type": "LineString", "coordinates": [1.0, 2.0]},
    {"type": "GeometryCollection", "geometries": None},
])
def test_transform_geometry_malformed(bad: object) -> None:
    with pytest.raises(ValueError) as caught:
        crs.transform_geometry(bad, "EPSG:32610")  # type: ignore[arg-type]
    assert not isinstance(caught.value, CrsError)


def test_transform_geometry_unknown_crs() -> None:
    with pytest.raises(CrsError):
        crs.transform_geometry({"type": "Point", "coordinates": [0.0, 0.0]}, "EPSG:99999")


def test_haversine_helper() -> None:
    # One degree of latitude on the mean sphere.
    assert haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(math.pi * EARTH_R / 180, rel=1e-12)


def test_is_geographic():
    assert is_geographic("EPSG:4326") and is_geographic("EPSG:4490") and is_geographic("GCJ-02") and is_geographic("BD-09")
    assert not is_geographic("EPSG:32610") and not is_geographic("EPSG:4549")

"""Real-shaped geometry on every map: MultiPolygons, holes, an enclave, an island.

The world is tests/geomworld.py's ``shaped`` (tests/handmade.py with its three
grids rewritten: A1 a MultiPolygon with a hole and an island, A2 the enclave
filling the hole, B1 a neighbour), on the session's backend. Checked: the layer
builders carry every part and hole, the pydeck JSON each page sends does too
(AppTest), every desk page and every wall view renders on that world, labels
sit inside their area (not at the mean of grid centres), and with 400 grids
labels are sized, thinned and never overlap. A browser test checks that the
hole is drawn empty.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import shapely
from PIL import Image
from shapely.geometry import Point

from dashboard import geo
from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.ui import maps
from dashboard.wall import rotation
from tests import conftest
from tests import geomworld as G
from tests import handmade as H
from tests.apptest import open_page
from tests.browser import Browser, require_chromium, streamlit_server

HOST_S, ENCLAVE_S, NEIGHBOUR_S = (geo.to_shape(g) for g in (G.HOST, G.ENCLAVE, G.NEIGHBOUR))
ALL_PARTS_BOX = (G.x(0), G.y(0), G.x(6), G.y(3))  # lon0, lat0, lon1, lat1 of every part


@pytest.fixture(scope="module")
def shaped_url(scratch) -> str:
    url = scratch.new("shaped")
    writer = make_writer(url)
    upgrade(writer)
    G.shaped(writer)
    writer.dispose()
    return url


@pytest.fixture
def shaped_env(shaped_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", conftest.reader_url(shaped_url))
    monkeypatch.setenv("DASHBOARD_NOW", H.NOW.isoformat())


@pytest.fixture(scope="module")
def tiled_url(scratch) -> str:
    """400 grids (20 × 20) in 20 communities of 5 × 4 grids."""
    url = scratch.new("tiled")
    writer = make_writer(url)
    upgrade(writer)
    G.tiling(writer, 20, (5, 4))
    writer.dispose()
    return url


@pytest.fixture
def tiled_env(tiled_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", conftest.reader_url(tiled_url))
    monkeypatch.setenv("DASHBOARD_NOW", H.NOW.isoformat())


def decks(at) -> list[dict]:
    return [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]


def layer(spec: dict, layer_id: str) -> dict:
    found = [x for x in spec["layers"] if x["id"] == layer_id]
    assert found, (layer_id, [x["id"] for x in spec["layers"]])
    return found[0]


def same_ring(a: list, b: list) -> bool:
    return [[float(p[0]), float(p[1])] for p in a] == [[float(p[0]), float(p[1])] for p in b]


def assert_parts_and_holes(rows: list[dict], by: str = "grid_id") -> None:
    """The rows of a grid layer: the host twice (ring with its hole, the island),
    the enclave and the neighbour once, each with its own coordinates."""
    host = [r for r in rows if r.get(by) == H.A1]
    assert len(host) == 2
    (ring,) = [r for r in host if len(r["polygon"]) == 2]
    (island,) = [r for r in host if len(r["polygon"]) == 1]
    assert same_ring(ring["polygon"][0], G.HOST["coordinates"][0][0]) and same_ring(ring["polygon"][1], G.HOST["coordinates"][0][1])
    assert same_ring(island["polygon"][0], G.HOST["coordinates"][1][0])
    # both parts carry the same data (tooltip, fill, ids): only the polygon differs
    assert {k: v for k, v in ring.items() if k != "polygon"} == {k: v for k, v in island.items() if k != "polygon"}
    for gid, g in ((H.A2, G.ENCLAVE), (H.B1, G.NEIGHBOUR)):
        (row,) = [r for r in rows if r.get(by) == gid]
        assert len(row["polygon"]) == 1 and same_ring(row["polygon"][0], g["coordinates"][0])


def assert_view_fits(view: dict, box: tuple[float, float, float, float], width_px: int, height_px: int) -> None:
    """The initial view is centred on ``box`` and holds all of it in width × height."""
    lon0, lat0, lon1, lat1 = box
    assert view["longitude"] == pytest.approx((lon0 + lon1) / 2) and view["latitude"] == pytest.approx((lat0 + lat1) / 2)
    world = 512 * 2 ** view["zoom"]
    merc = lambda lat: math.asinh(math.tan(math.radians(lat))) / (2 * math.pi) * world  # noqa: E731
    assert (lon1 - lon0) / 360 * world <= width_px and merc(lat1) - merc(lat0) <= height_px


# --- the builders ---------------------------------------------------------------------------


def _shapes_frame(geoms: dict[int, dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(grid_id=gid, name=G.NAMES[gid], community_id=G.COMMUNITY_OF[gid], community=f"社区{G.COMMUNITY_OF[gid]}", station_id=1, boundary_geojson=json.dumps(g))
            for gid, g in geoms.items()
        ]
    )


def test_polygons_keep_every_part_and_hole():
    parts = maps.polygons(json.dumps(G.HOST))
    assert len(parts) == 2 and [len(p) for p in parts] == [2, 1]
    assert maps.polygons({"type": "Feature", "geometry": G.ENCLAVE, "properties": {}}) == [G.ENCLAVE["coordinates"]]
    assert maps.rings([json.dumps(G.HOST), json.dumps(G.NEIGHBOUR)]) == [G.HOST["coordinates"][0][0], G.HOST["coordinates"][1][0], G.NEIGHBOUR["coordinates"][0]]
    with pytest.raises(ValueError):
        maps.polygons({"type": "Point", "coordinates": [1, 2]})


def test_layer_builders_carry_every_part_and_hole():
    shapes = _shapes_frame(G.SHAPES)
    outline = maps.grid_outline_layer(shapes, extra=[{"title": n} for n in shapes["name"]])
    assert_parts_and_holes(outline.data)
    assert all(r["title"] == G.NAMES[r["grid_id"]] for r in outline.data)
    rows = maps.part_rows(shapes["boundary_geojson"], [{"grid_id": g, "fill": [g, 0, 0, 99]} for g in shapes["grid_id"]])
    assert_parts_and_holes(rows)
    assert [r["fill"][0] for r in rows] == [H.A1, H.A1, H.A2, H.B1]
    rows[0]["grid_id"] = -1  # each part is its own record (patrol.py updates them one by one)
    assert rows[1]["grid_id"] == H.A1
    view = maps.view_state(maps.rings(shapes["boundary_geojson"]), 980, 560)
    assert_view_fits(json.loads(maps.deck([outline], view, tiles=None).to_json())["initialViewState"], ALL_PARTS_BOX, 980, 560)


def test_community_labels_sit_inside_the_union_of_their_grids():
    shapes = _shapes_frame(G.SHAPES)
    view = maps.view_state(maps.rings(shapes["boundary_geojson"]), 980, 560)
    recs = {r["label"]: r for r in maps.community_label_layer(shapes, view).data}
    assert set(recs) == {"社区1", "社区2"}
    p1 = Point(recs["社区1"]["centroid_lon"], recs["社区1"]["centroid_lat"])
    assert HOST_S.contains(p1) and not ENCLAVE_S.covers(p1)  # in the host's ring, never in its hole
    c2 = shapely.union_all([ENCLAVE_S, NEIGHBOUR_S])
    p2 = Point(recs["社区2"]["centroid_lon"], recs["社区2"]["centroid_lat"])
    assert c2.contains(p2)
    # the old rule, the mean of the grids' centres, put 社区2's label in 社区1's ring
    mean = Point((geo.geometry_centroid(G.ENCLAVE)[1] + geo.geometry_centroid(G.NEIGHBOUR)[1]) / 2, (geo.geometry_centroid(G.ENCLAVE)[0] + geo.geometry_centroid(G.NEIGHBOUR)[0]) / 2)
    assert not c2.covers(mean) and HOST_S.contains(mean)
    # the station label (several stations) is inside the union of every grid
    two = shapes.assign(station_id=[1, 2, 2])
    (st,) = maps.place_label_layers(two, {1: "一所", 2: "二所"}, view)
    assert {r["label"] for r in st.data} == {"一所", "二所"}
    for r in st.data:
        area = HOST_S if r["label"] == "一所" else c2
        assert area.contains(Point(r["centroid_lon"], r["centroid_lat"]))
    assert maps.place_label_layers(shapes, {1: "一所"}, view, narrowed=True) == []


# --- label rule: size, room, overlap ------------------------------------------------------------


def _em(text: str) -> float:
    return sum(1.0 if ord(c) >= 0x2E80 else 0.6 for c in text)


def _label_boxes(records: list[dict], zoom: float) -> list[tuple[float, float, float, float]]:
    """Screen boxes (x0, y0, x1, y1 px at ``zoom``) of label records: text plus padding."""
    world = 512 * 2**zoom
    out = []
    for r in records:
        x = (r["centroid_lon"] + 180) / 360 * world
        y = -math.asinh(math.tan(math.radians(r["centroid_lat"]))) / (2 * math.pi) * world
        hw, hh = (_em(r["label"]) * r["size"] + 2 * maps.LABEL_PADDING_PX[0]) / 2, (r["size"] + 2 * maps.LABEL_PADDING_PX[1]) / 2
        out.append((x - hw, y - hh, x + hw, y + hh))
    return out


def _overlaps(boxes) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[:i]) if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]


def _box_inside(record: dict, zoom: float, area) -> bool:
    """The label's box, back in lon/lat, lies inside ``area``."""
    x0, y0, x1, y1 = _label_boxes([record], zoom)[0]
    world = 512 * 2**zoom

    def lonlat(x: float, y: float) -> tuple[float, float]:
        return x / world * 360 - 180, math.degrees(math.atan(math.sinh(-y / world * 2 * math.pi)))

    return area.contains(shapely.box(*lonlat(x0, y1), *lonlat(x1, y0)))


def test_fit_label_size_takes_the_largest_size_that_fits_or_none():
    # "甲社区" at 17 px: a box 3·17 + 12 = 63 by 17 + 6 = 23 px: half-diagonal 33.5 px
    assert maps.fit_label_size("甲社区", 34, 17) == 17
    assert maps.fit_label_size("甲社区", 33, 17) == 16
    assert maps.fit_label_size("甲社区", 24.1, 17) == 11  # 45 × 17: half-diagonal 24.05
    assert maps.fit_label_size("甲社区", 24.0, 17) is None
    assert maps.fit_label_size("A1", 100, 12) == 12  # never above the nominal size


def _varied_tiling(n: int = 20) -> pd.DataFrame:
    """n × n grids whose columns and rows widen geometrically (×1.25 a step, 1 to
    ~70 units): 400 areas of very different sizes, each its own community."""
    w = [0.0015 * 1.25**i for i in range(n)]
    xs = [G.X0 + sum(w[:i]) for i in range(n + 1)]
    ys = [G.Y0 + sum(w[:j]) for j in range(n + 1)]
    rows = []
    for i in range(n):
        for j in range(n):
            ring = [[xs[i], ys[j]], [xs[i + 1], ys[j]], [xs[i + 1], ys[j + 1]], [xs[i], ys[j + 1]], [xs[i], ys[j]]]
            gid = len(rows) + 1
            rows.append(dict(grid_id=gid, name=f"第{gid}网格", community_id=gid, community=f"第{gid}社区", station_id=1, boundary_geojson=json.dumps({"type": "Polygon", "coordinates": [ring]})))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("width_px, height_px", [(1000, 540), (760, 520), (1920, 1080)])
def test_400_areas_get_sized_thinned_labels_that_never_overlap(width_px, height_px):
    shapes = _varied_tiling()
    view = maps.view_state(maps.rings(shapes["boundary_geojson"]), width_px, height_px)
    zoom = float(view.zoom)
    recs = maps.grid_label_layer(shapes, view, size=14).data  # 400 poles of inaccessibility (cached afterwards)
    by_name = {r["name"]: r for r in shapes.to_dict("records")}
    # some but not all: the big areas hold a label, the small ones not
    assert 0 < len(recs) < len(shapes) / 2, len(recs)
    assert not _overlaps(_label_boxes(recs, zoom))
    for r in recs:
        assert maps.LABEL_MIN_PX <= r["size"] <= 14
        assert _box_inside(r, zoom, geo.to_shape(by_name[r["label"]]["boundary_geojson"])), r
    # the rule, checked independently: an area is labelled exactly when a label at the
    # smallest size fits inside it at its anchor (the areas are disjoint: no overlaps to
    # drop), and at the largest size that fits, up to the nominal one
    for name, row in by_name.items():
        area = geo.to_shape(row["boundary_geojson"])
        lat, lon, _ = geo.label_anchor(row["boundary_geojson"])
        fits = lambda s: _box_inside({"label": name, "centroid_lat": lat, "centroid_lon": lon, "size": s}, zoom, area)  # noqa: E731
        rec = next((r for r in recs if r["label"] == name), None)
        assert (rec is not None) == fits(maps.LABEL_MIN_PX), name
        if rec is not None and rec["size"] < 14:
            assert not fits(rec["size"] + 1), rec


def test_400_one_grid_communities_do_not_make_a_label_soup():
    shapes = _varied_tiling().assign(community_id=1, community="唯一社区")
    view = maps.view_state(maps.rings(shapes["boundary_geojson"]), 1000, 540)
    (one,) = maps.place_label_layers(shapes, {1: "所"}, view)
    assert len(one.data) == 1 and one.data[0]["size"] == 17  # one community: one label
    # 400 communities of one uniform small grid each: none has room at the station's view
    uniform = pd.DataFrame(
        [
            dict(grid_id=k, name=f"g{k}", community_id=k, community=f"第{k}社区", station_id=1,
                 boundary_geojson=json.dumps({"type": "Polygon", "coordinates": [[[a, b], [a + 0.004, b], [a + 0.004, b + 0.004], [a, b + 0.004], [a, b]]]}))
            for k, (a, b) in enumerate(((G.X0 + i * 0.004, G.Y0 + j * 0.004) for i in range(20) for j in range(20)), start=1)
        ]
    )
    view = maps.view_state(maps.rings(uniform["boundary_geojson"]), 1000, 540)
    (soup,) = maps.place_label_layers(uniform, {1: "所"}, view)
    assert soup.data == []
    # zoomed to a few of them (the grid page's view of one grid), their labels fit
    near = maps.view_state(maps.rings(uniform["boundary_geojson"][:1]), 720, 400, max_zoom=17)
    recs = maps.community_label_layer(uniform, near).data
    assert len(recs) == len(uniform) and not _overlaps(_label_boxes(recs, float(near.zoom)))


# --- the pages on the shaped world (AppTest) ----------------------------------------------------------


def test_overview_map_sends_every_part_and_hole(shaped_env):
    at = open_page("pages/desk/overview.py")
    assert not at.exception, at.exception
    (spec,) = decks(at)
    assert_parts_and_holes(layer(spec, "grid-density")["data"])
    assert_view_fits(spec["initialViewState"], ALL_PARTS_BOX, 980, 560)
    labels = {r["label"]: r for r in layer(spec, "community-labels")["data"]}
    p = Point(labels["甲社区"]["centroid_lon"], labels["甲社区"]["centroid_lat"])
    assert HOST_S.contains(p) and not ENCLAVE_S.covers(p)
    assert shapely.union_all([ENCLAVE_S, NEIGHBOUR_S]).contains(Point(labels["乙社区"]["centroid_lon"], labels["乙社区"]["centroid_lat"]))


def test_overview_narrowed_to_the_host_community_draws_its_hole_and_island(shaped_env):
    at = open_page("pages/desk/overview.py", {"community": "TST-C01"})
    assert not at.exception, at.exception
    (spec,) = decks(at)
    rows = layer(spec, "grid-density")["data"]
    assert [len(r["polygon"]) for r in rows] == [2, 1] and {r["grid_id"] for r in rows} == {H.A1}
    assert_view_fits(spec["initialViewState"], ALL_PARTS_BOX, 980, 560)  # the island is in view


def test_grid_profile_of_the_host_draws_it_whole_with_its_neighbours(shaped_env):
    at = open_page("pages/desk/grid.py", {"grid": G.CODES[H.A1]})
    assert not at.exception, at.exception
    (spec,) = decks(at)
    me = layer(spec, "grid-self")["data"]
    assert [len(r["polygon"]) for r in me] == [2, 1] and all(r["title"] == G.NAMES[H.A1] for r in me)
    assert_view_fits(spec["initialViewState"], ALL_PARTS_BOX, 720, 400)
    near = layer(spec, "grid-neighbours")["data"]
    assert {r["grid_id"] for r in near} == {H.A2, H.B1}
    assert all(r["title"] == G.NAMES[r["grid_id"]] and r["line2"] == "点击查看该网格" for r in near)  # tooltip on every part
    shapes = {H.A2: ENCLAVE_S, H.B1: NEIGHBOUR_S}
    names = {v: k for k, v in G.NAMES.items()}
    for r in layer(spec, "neighbour-labels")["data"]:
        assert shapes[names[r["label"]]].contains(Point(r["centroid_lon"], r["centroid_lat"]))


def test_grid_ranking_map_and_the_enclave_profile(shaped_env):
    at = open_page("pages/desk/grid.py")
    assert not at.exception, at.exception
    (spec,) = decks(at)
    assert_parts_and_holes(layer(spec, "rank-grids")["data"])
    at = open_page("pages/desk/grid.py", {"grid": G.CODES[H.A2]})
    assert not at.exception, at.exception
    (spec,) = decks(at)
    (me,) = layer(spec, "grid-self")["data"]
    assert same_ring(me["polygon"][0], G.ENCLAVE["coordinates"][0])
    host = [r for r in layer(spec, "grid-neighbours")["data"] if r["grid_id"] == H.A1]
    assert [len(r["polygon"]) for r in host] == [2, 1]  # the host around it, hole and island


def test_patrol_map_draws_every_part(shaped_env):
    at = open_page("pages/desk/patrol.py")
    assert not at.exception, at.exception
    (spec,) = decks(at)
    assert_parts_and_holes(layer(spec, "grid-outline")["data"])


DESK = [
    ("overview", {}), ("overview", {"community": "TST-C02"}), ("overview", {"grid": G.CODES[H.A1]}),
    ("reports", {}), ("dispatch", {}), ("patrol", {}), ("patrol", {"community": "TST-C01"}), ("trends", {}), ("disputes", {}),
    ("grid", {}), ("grid", {"grid": G.CODES[H.A1]}), ("grid", {"grid": G.CODES[H.A2]}), ("grid", {"grid": G.CODES[H.B1]}), ("audit", {}),
]


@pytest.mark.parametrize("page, params", DESK, ids=lambda v: v if isinstance(v, str) else "&".join(f"{k}={x}" for k, x in v.items()) or "-")
def test_every_desk_page_renders_on_real_shapes(shaped_env, page, params):
    at = open_page(f"pages/desk/{page}.py", params)
    assert not at.exception, at.exception
    for spec in decks(at):
        for lyr in spec["layers"]:
            if lyr["@@type"] == "PolygonLayer":
                assert all(isinstance(r["polygon"][0][0], list) for r in lyr["data"])  # rings of points, not bare rings


@pytest.mark.parametrize("view", list(rotation.VIEWS))
def test_every_wall_view_renders_on_real_shapes(shaped_env, view):
    at = open_page("pages/wall/wall.py", {"view": view})
    assert not at.exception, at.exception
    (spec,) = decks(at)  # the one map stays mounted on every view
    assert_parts_and_holes(layer(spec, "grid-outline")["data"])
    assert_view_fits(spec["initialViewState"], ALL_PARTS_BOX, 1000, 540)


# --- 400 grids through the pages ----------------------------------------------------------------------


@pytest.mark.parametrize("page, layer_id, width_px, height_px", [("pages/desk/overview.py", "grid-density", 980, 560), ("pages/wall/wall.py", "grid-outline", 1000, 540), ("pages/desk/patrol.py", "grid-outline", 1000, 620)])
def test_400_grids_on_the_maps_with_legible_community_labels(tiled_env, page, layer_id, width_px, height_px):
    at = open_page(page)
    assert not at.exception, at.exception
    (spec,) = decks(at)
    assert len(layer(spec, layer_id)["data"]) == 400
    recs = layer(spec, "community-labels")["data"]
    zoom = spec["initialViewState"]["zoom"]
    assert len(recs) == 20 and not _overlaps(_label_boxes(recs, zoom))  # 20 communities of 5 × 4 grids: each has room
    assert all(maps.LABEL_MIN_PX <= r["size"] <= 17 for r in recs)


# --- in a browser: the hole is drawn empty ----------------------------------------------------------------


@pytest.mark.browser
def test_the_hole_is_drawn_empty(shaped_url, chromium):
    """The overview narrowed to 甲社区 (the host alone, the enclave belongs to 乙社区):
    a pixel in the hole shows the bare background, like the sea around the island,
    while the ring around it is filled."""
    require_chromium()

    env = {"DATABASE_URL": conftest.reader_url(shaped_url), "DASHBOARD_NOW": H.NOW.isoformat()}
    with streamlit_server(env) as base:
        b = Browser(chromium)
        try:
            b.page.goto(f"{base}/overview?community=TST-C01")
            b.page.wait_for_selector("canvas", timeout=60_000)
            b.settle()
            canvas = b.page.locator("canvas").first
            b.map_drawn(canvas)
            box = canvas.bounding_box()
            assert box
            path = b.screenshot("geometry-hole-overview")

            img = Image.open(path).convert("RGB")
            view = maps.view_state(maps.rings([json.dumps(G.HOST)]), width_px=980, height_px=560)
            world = 512 * 2 ** float(view.zoom)

            def px(lon: float, lat: float) -> tuple[int, int]:
                mx = lambda lo: (lo + 180) / 360 * world  # noqa: E731
                my = lambda la: -math.asinh(math.tan(math.radians(la))) / (2 * math.pi) * world  # noqa: E731
                return (round(box["x"] + box["width"] / 2 + mx(lon) - mx(view.longitude)), round(box["y"] + box["height"] / 2 + my(lat) - my(view.latitude)))

            def rgb(k_lon: float, k_lat: float) -> tuple[int, int, int]:
                return img.getpixel(px(G.x(k_lon), G.y(k_lat)))

            hole, sea = rgb(1.5, 1.5), rgb(4.0, 0.5)
            ring = [rgb(1.5, 0.5), rgb(1.5, 2.5), rgb(0.5, 1.5), rgb(2.5, 1.5)]
            island = rgb(5.5, 0.5)
            diff = lambda a, b: sum(abs(p - q) for p, q in zip(a, b))  # noqa: E731
            assert diff(hole, sea) <= 6, (hole, sea)
            assert all(diff(r, sea) > 12 for r in ring), (ring, sea)
            assert diff(island, sea) > 12 and diff(island, ring[0]) <= 6, (island, ring, sea)
            assert b.console_errors == [], b.console_errors
        finally:
            b.close()

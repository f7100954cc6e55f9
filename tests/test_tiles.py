"""The optional intranet base map (DASHBOARD_TILE_URL): settings and their
validation, the tiles maps.deck lays under every map, a clear message instead
of a blank page for a bad setting, and in a browser: tiles fetched from a
local tile server and drawn on the desk map and the wall, nothing else asked
of any other host."""

from __future__ import annotations

import json
import math
import re
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pydeck as pdk
import pytest

from dashboard.config import TileSource, load_settings
from dashboard.ui import maps, widgets
from tests.apptest import open_page
from tests.browser import Browser, require_chromium, streamlit_server
from tests.conftest import FIXTURE_END

TEMPLATE = "http://tiles.test:8080/{z}/{x}/{y}.png"

# --- settings ------------------------------------------------------------------------


def test_no_tile_url_means_no_base_map():
    assert load_settings({}).tiles is None
    assert load_settings({"DASHBOARD_TILE_URL": "  "}).tiles is None


def test_tile_settings_are_read():
    t = load_settings({"DASHBOARD_TILE_URL": f" {TEMPLATE} "}).tiles
    assert t == TileSource(url=TEMPLATE, max_zoom=18, brightness=0.4)
    t = load_settings(
        {"DASHBOARD_TILE_URL": "https://gis.local/tms/{z}/{x}/{-y}.jpg?style=dark", "DASHBOARD_TILE_MAX_ZOOM": "16", "DASHBOARD_TILE_BRIGHTNESS": "1"}
    ).tiles
    assert t == TileSource(url="https://gis.local/tms/{z}/{x}/{-y}.jpg?style=dark", max_zoom=16, brightness=1.0)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DASHBOARD_TILE_URL": "ftp://tiles.intranet/{z}/{x}/{y}.png"}, "DASHBOARD_TILE_URL must be an http:// or https:// URL"),
        ({"DASHBOARD_TILE_URL": "tiles.intranet/{z}/{x}/{y}.png"}, "DASHBOARD_TILE_URL must be an http:// or https:// URL"),
        ({"DASHBOARD_TILE_URL": "http:///{z}/{x}/{y}.png"}, "DASHBOARD_TILE_URL must be an http:// or https:// URL"),
        ({"DASHBOARD_TILE_URL": "http://tiles.intranet/{x}/{y}.png"}, r"\{z\} missing"),
        ({"DASHBOARD_TILE_URL": "http://tiles.intranet/{z}/{x}.png"}, r"\{y\} missing"),
        ({"DASHBOARD_TILE_URL": "http://tiles.intranet/{z}/{y}/{x }.png"}, "must not contain spaces"),
        ({"DASHBOARD_TILE_URL": 'http://tiles.intranet/{z}/{x}/{y}.png"'}, "must not contain spaces, quotes"),
        ({"DASHBOARD_TILE_URL": "http://[::1/{z}/{x}/{y}.png"}, "DASHBOARD_TILE_URL is not a valid URL"),
        ({"DASHBOARD_TILE_URL": TEMPLATE, "DASHBOARD_TILE_MAX_ZOOM": "abc"}, "DASHBOARD_TILE_MAX_ZOOM must be a whole number from 0 to 24"),
        ({"DASHBOARD_TILE_URL": TEMPLATE, "DASHBOARD_TILE_MAX_ZOOM": "25"}, "DASHBOARD_TILE_MAX_ZOOM must be a whole number from 0 to 24"),
        ({"DASHBOARD_TILE_URL": TEMPLATE, "DASHBOARD_TILE_MAX_ZOOM": "-1"}, "DASHBOARD_TILE_MAX_ZOOM must be a whole number from 0 to 24"),
        ({"DASHBOARD_TILE_URL": TEMPLATE, "DASHBOARD_TILE_BRIGHTNESS": "0"}, "DASHBOARD_TILE_BRIGHTNESS must be a number from 0.1 to 1"),
        ({"DASHBOARD_TILE_URL": TEMPLATE, "DASHBOARD_TILE_BRIGHTNESS": "1.5"}, "DASHBOARD_TILE_BRIGHTNESS must be a number from 0.1 to 1"),
        ({"DASHBOARD_TILE_URL": TEMPLATE, "DASHBOARD_TILE_BRIGHTNESS": "nan"}, "DASHBOARD_TILE_BRIGHTNESS must be a number from 0.1 to 1"),
        ({"DASHBOARD_TILE_URL": TEMPLATE, "DASHBOARD_TILE_BRIGHTNESS": "dim"}, "DASHBOARD_TILE_BRIGHTNESS must be a number from 0.1 to 1"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_tile_settings_are_clear_errors(env, message):
    with pytest.raises(SystemExit, match=message):
        load_settings(env)


# --- the tiles under a deck ------------------------------------------------------------


def _slippy_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The OpenStreetMap wiki's formula for the tile holding (lon, lat)."""
    n = 2**z
    r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)


def test_tile_url_and_bounds():
    assert maps.tile_url(TEMPLATE, 3, 5, 4) == "http://tiles.test:8080/4/3/5.png"
    assert maps.tile_url("http://t/{z}/{x}/{-y}.png", 3, 5, 4) == "http://t/4/3/10.png"  # TMS: 2**4 - 1 - 5
    w, s, e, n = maps._tile_bounds(0, 0, 1)  # the north-west quarter of the world
    assert (w, s, e) == (-180.0, 0.0, 0.0) and n == pytest.approx(85.0511, abs=1e-4)
    # the tile holding a point, by an independent formula, has bounds around it
    x, y = _slippy_tile(119.55, 26.66, 14)
    w, s, e, n = maps._tile_bounds(x, y, 14)
    assert w <= 119.55 < e and s <= 26.66 < n


SQUARE = [[[119.50, 26.62], [119.60, 26.62], [119.60, 26.70], [119.50, 26.70], [119.50, 26.62]]]


def _base(d: pdk.Deck) -> list[dict]:
    return [layer for layer in json.loads(d.to_json())["layers"] if layer["id"].startswith("base-map-")]


def test_deck_has_no_tiles_without_the_setting(monkeypatch):
    monkeypatch.delenv("DASHBOARD_TILE_URL", raising=False)
    view = maps.view_state(SQUARE, 1100, 560)
    d = maps.deck([maps.label_layer([], "labels")], view)
    text = d.to_json()
    assert "BitmapLayer" not in text and "TileLayer" not in text and "base-map" not in text
    assert [layer["id"] for layer in json.loads(text)["layers"]] == ["labels"]


def test_deck_lays_tiles_under_the_layers(monkeypatch):
    monkeypatch.setenv("DASHBOARD_TILE_URL", TEMPLATE)
    view = maps.view_state(SQUARE, 1100, 560)
    layers = json.loads(maps.deck([maps.label_layer([], "labels")], view).to_json())["layers"]
    ids = [layer["id"] for layer in layers]
    assert ids[-1] == "labels" and all(i.startswith("base-map-") for i in ids[:-1])
    fine = round(view.zoom + 1)
    tiles = {}
    for layer in layers[:-1]:
        assert layer["@@type"] == "BitmapLayer" and layer["pickable"] is False
        assert layer["tintColor"] == [102, 102, 102]  # brightness 0.4
        z, x, y = map(int, layer["id"].split("-")[2:])
        assert layer["image"] == f"http://tiles.test:8080/{z}/{x}/{y}.png"  # a URL, not an "@@=" expression
        tiles[(z, x, y)] = layer["bounds"]
    assert {z for z, _, _ in tiles} == {fine - 3, fine}
    assert layers[0]["id"].startswith(f"base-map-{fine - 3}-")  # the coarse level lies under the fine one
    # the fine tiles hold the view's centre (independent formula) and cover the whole square
    assert (fine, *_slippy_tile(view.longitude, view.latitude, fine)) in tiles
    fine_bounds = [b for (z, _, _), b in tiles.items() if z == fine]
    assert min(b[0] for b in fine_bounds) < 119.50 and max(b[2] for b in fine_bounds) > 119.60
    assert min(b[1] for b in fine_bounds) < 26.62 and max(b[3] for b in fine_bounds) > 26.70
    # and not the whole world: a bounded number of requests
    assert len(tiles) <= 120


@pytest.mark.parametrize(
    "template, first",
    [
        # pydeck reads a bare string as JavaScript, and one ending in .png without a
        # dotted host name as a local image file to embed: the URL must arrive as is
        ("http://tileserver/{z}/{x}/{y}.png", "http://tileserver/15/"),
        ("http://10.1.2.3:8080/{z}/{x}/{y}", "http://10.1.2.3:8080/15/"),
        ("https://gis.local/wmts?z={z}&x={x}&y={-y}&style=dark", "https://gis.local/wmts?z=15&x="),
    ],
)
def test_any_tile_url_arrives_as_a_plain_url(template, first):
    view = pdk.ViewState(longitude=119.55, latitude=26.66, zoom=14)
    images = [layer["image"] for layer in _base(maps.deck([], view, tiles=TileSource(template)))]
    assert images and all("@@" not in i for i in images)
    assert any(i.startswith(first) for i in images), images[:3]


def test_max_zoom_caps_the_tile_level():
    view = pdk.ViewState(longitude=119.55, latitude=26.66, zoom=16.6)
    levels = {int(layer["id"].split("-")[2]) for layer in _base(maps.deck([], view, tiles=TileSource(TEMPLATE, max_zoom=15)))}
    assert levels == {12, 15}
    levels = {int(layer["id"].split("-")[2]) for layer in _base(maps.deck([], view, tiles=TileSource(TEMPLATE)))}
    assert levels == {15, 18}


# --- the pages -------------------------------------------------------------------------

MAP_PAGES = [
    ("pages/desk/overview.py", {}),
    ("pages/desk/patrol.py", {}),
    ("pages/desk/grid.py", {}),
    ("pages/desk/grid.py", {"grid": "WLT-C01-G03"}),
    ("pages/wall/wall.py", {}),
    ("pages/wall/wall.py", {"view": "patrol"}),
]


@pytest.mark.parametrize("page, params", MAP_PAGES, ids=lambda v: v if isinstance(v, str) else "&".join(f"{k}={x}" for k, x in v.items()))
def test_every_map_gets_the_base_map(app_env, monkeypatch, page, params):
    monkeypatch.setenv("DASHBOARD_TILE_URL", TEMPLATE)
    at = open_page(page, params)
    assert not at.exception, at.exception
    charts = at.get("deck_gl_json_chart")
    assert charts, "no map on the page"
    for chart in charts:
        layers = json.loads(chart.proto.json)["layers"]
        base = [i for i, layer in enumerate(layers) if layer["id"].startswith("base-map-")]
        assert base and base == list(range(len(base))) and len(base) < len(layers), "tiles first, under the page's layers"
        assert all(layers[i]["image"].startswith("http://tiles.test:8080/") for i in base)


@pytest.mark.parametrize("page", ["pages/desk/overview.py", "pages/wall/wall.py"])
def test_bad_tile_url_is_a_clear_message_not_a_blank_page(app_env, monkeypatch, page):
    monkeypatch.setenv("DASHBOARD_TILE_URL", "tiles.intranet/{z}/{x}/{y}.png")
    at = open_page(page)
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    # the message is Markdown-escaped (it quotes the setting's value): "DASHBOARD\_TILE\_URL"
    assert len(errors) == 1 and "看板配置有误" in errors[0] and widgets.md_escape("DASHBOARD_TILE_URL") in errors[0], errors


# --- in a browser: a local tile server ------------------------------------------------

TILE_RGB = (40, 220, 120)
BRIGHTNESS = 0.8  # the browser test also sets this, so the drawn colour is TILE_RGB * tint


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour 8-bit RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = (b"\x00" + bytes(rgb) * width) * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _pixels(png: bytes) -> list[tuple[int, int, int]]:
    """RGB of every pixel of a non-interlaced 8-bit RGB or RGBA PNG (as Chromium writes them)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw, stride, out, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for r in range(height):
        f, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1 : (r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        out += [tuple(line[i : i + 3]) for i in range(0, stride, bpp)]
        prev = line
    return out


class TileServer:
    """http.server on 127.0.0.1 answering /{z}/{x}/{y}.png with one solid-colour
    tile (CORS allowed, never cached, so every tile the browser wants is counted)."""

    def __init__(self) -> None:
        tile = _png(256, 256, TILE_RGB)
        self.hits: list[str] = []
        self.misses: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if re.fullmatch(r"/\d+/\d+/\d+\.png", self.path):
                    server.hits.append(self.path)
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(tile)))
                    self.send_header("Access-Control-Allow-Origin", "*")
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    self.wfile.write(tile)
                else:
                    server.misses.append(self.path)
                    self.send_error(404)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def tile_server():
    ts = TileServer()
    yield ts
    ts.close()


def _tile_coloured_pixels(b: Browser) -> int:
    """Pixels of the drawn map (a screenshot of the deck.gl canvas) in the tinted tile colour."""
    tint = round(255 * BRIGHTNESS) / 255
    want = [round(c * tint) for c in TILE_RGB]
    shot = b.page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.screenshot()
    return sum(1 for p in _pixels(shot) if all(abs(p[i] - want[i]) <= 8 for i in range(3)))


@pytest.mark.browser
def test_tiles_from_the_intranet_server_on_a_desk_map_and_the_wall(world_reader_url, tile_server, chromium):
    require_chromium()

    env = {
        "DATABASE_URL": world_reader_url,
        "DASHBOARD_NOW": FIXTURE_END.isoformat(),
        "DASHBOARD_TILE_URL": tile_server.url,
        "DASHBOARD_TILE_BRIGHTNESS": str(BRIGHTNESS),
    }
    with streamlit_server(env) as base:
        b = Browser(chromium)
        try:
            for path, name in (("/overview", "tiles-overview"), ("/?wall=1", "tiles-wall")):
                before = len(tile_server.hits)
                b.page.goto(base + path)
                b.page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
                b.settle()
                coloured = 0
                for _ in range(10):  # deck.gl draws each tile once it has arrived
                    b.page.wait_for_timeout(1000)
                    coloured = _tile_coloured_pixels(b)
                    if coloured > 2000:
                        break
                b.screenshot(name)
                assert len(tile_server.hits) > before, f"{path}: no tile request reached the tile server"
                assert coloured > 2000, f"{path}: the map shows {coloured} pixels in the tile colour"
            assert tile_server.misses == [], tile_server.misses
            assert all(int(p.split("/")[1]) <= 18 for p in tile_server.hits)
            assert b.external == [], b.external
            assert b.console_errors == [], b.console_errors
        finally:
            b.close()

"""The imported world (tests/test_imported_world.py: MultiPolygon grids with a
hole and an enclave, English and 60-character categories, rows outside every
grid) in a real browser: every desk page and every wall view draws without an
exception or a traceback on screen, without a request leaving the machine or a
console error; the maps have their deck.gl canvas, and the deck the page was
sent holds grid A as it was imported (two parts: the square with its hole, and
the island) beside the enclave that fills the hole. One server for the module.

Screenshots of the overview and of every wall view go to a temporary folder
(printed; run with -s to see where)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select

from dashboard.db import schema
from dashboard.wall import rotation
from tests.browser import Browser, require_chromium, streamlit_server
from tests.conftest import audit_url
from tests.test_imported_world import NOW, build_world
from tests.test_load import X0, Y0, D

pytestmark = pytest.mark.browser

# desk page → (its URL, the deck.gl maps it draws on this world: patrol has no tracks, so no map)
DESK = {
    "overview": ("/overview?period=30d", 1),
    "reports": ("/reports?period=30d", 0),
    "dispatch": ("/dispatch?period=30d", 0),
    "patrol": ("/patrol?period=30d", 0),
    "trends": ("/trends?period=30d", 0),
    "disputes": ("/disputes?period=30d", 0),
    "grid": ("/grid?period=30d", 1),
    "grid-profile": ("/grid?period=30d&grid=G-A", 1),
}
BROKEN = ("Traceback", "本栏暂不可用", "数据源暂不可用", "Error", "error:")
HOLE = (X0 + 0.003, Y0 + 0.003, X0 + 0.007, Y0 + 0.007)  # lon/lat box of grid A's hole (= grid B)
ISLAND = (X0 - 0.02, Y0, X0 - 0.015, Y0 + 0.005)
SQUARE = (X0, Y0, X0 + D, Y0 + D)


@pytest.fixture(scope="module")
def world(scratch, tmp_path_factory):
    require_chromium()
    return build_world(scratch, tmp_path_factory.mktemp("imported-browser"))


@pytest.fixture(scope="module")
def grid_ids(world) -> dict[str, int]:
    engine = create_engine(world.url)
    try:
        with engine.connect() as c:
            return {code: int(i) for i, code in c.execute(select(schema.grids.c.id, schema.grids.c.code))}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def server(world):
    env = {"DATABASE_URL": world.url, "DASHBOARD_NOW": NOW.isoformat()}
    if (a := audit_url(world.url)) is not None:
        env["DASHBOARD_AUDIT_URL"] = a
    with streamlit_server(env) as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium):
    b = Browser(chromium)
    b.frames = []  # what the server sent over the websocket since the last page was opened
    b.page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: b.frames.append(payload)))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = tmp_path_factory.mktemp("imported-shots")
    print(f"\nscreenshots: {path}")
    return path


def _open(b: Browser, url: str, maps: int, hidden: bool = False) -> str:
    """Open ``url`` on a fresh websocket, wait until the script settles and the
    maps are drawn (``hidden``: in the page but not shown); the text on screen."""
    b.frames.clear()
    b.page.goto(url)
    b.page.wait_for_selector('[data-testid="stMain"]', timeout=60_000)
    b.settle()
    if maps:
        b.page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000, state="attached" if hidden else "visible")
        if not hidden:
            b.map_drawn()
    assert b.page.locator('[data-testid="stException"]').count() == 0
    text = b.page.inner_text("body")
    assert not [w for w in BROKEN if w in text], text[:3000]
    return text


def decks(frames: list) -> list[dict]:
    """The pydeck specs in the websocket messages (a deck's JSON is a string field of its message)."""
    out = []
    for fr in frames:
        raw = fr if isinstance(fr, str) else bytes(fr).decode("utf-8", errors="replace")
        i = raw.find('{\n  "initialViewState"')
        while i >= 0:
            spec, end = json.JSONDecoder().raw_decode(raw, i)
            out.append(spec)
            i = raw.find('{\n  "initialViewState"', end)
    return out


def _box(ring: list) -> tuple[float, ...]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _same(a: tuple, b: tuple) -> bool:
    return all(abs(x - y) < 1e-6 for x, y in zip(a, b))


def polygon_rows(specs: list[dict]) -> list[dict]:
    """Every row of every PolygonLayer in ``specs`` (each has "polygon": [outer, hole, ...])."""
    return [r for s in specs for lay in s.get("layers", []) if lay.get("@@type") == "PolygonLayer"
            for r in (lay.get("data") or []) if isinstance(r, dict) and "polygon" in r]


def assert_grids_drawn(specs: list[dict], ids: dict[str, int]) -> None:
    """The polygon layers hold grid A as two parts (the square with its hole,
    the island) and the enclave B that fills the hole, and every grid with a
    shape (``ids``: grid code → id)."""
    rows = polygon_rows(specs)
    drawn = {r.get("grid_id") for r in rows}
    assert {ids[c] for c in ("G-A", "G-B", "G-C", "G-E", "G-F", "G-G")} <= drawn, drawn
    a = [r["polygon"] for r in rows if r.get("grid_id") == ids["G-A"]]
    parts = {len(p) for p in a}
    assert parts == {1, 2}, a  # one part with a hole, one without
    with_hole = next(p for p in a if len(p) == 2)
    assert _same(_box(with_hole[0]), SQUARE) and _same(_box(with_hole[1]), HOLE)
    island = next(p for p in a if len(p) == 1)
    assert _same(_box(island[0]), ISLAND)
    b = [r["polygon"] for r in rows if r.get("grid_id") == ids["G-B"]]
    assert b and all(_same(_box(p[0]), HOLE) for p in b)


@pytest.mark.parametrize("page", list(DESK))
def test_desk_page_in_a_browser(server, browser, shots, grid_ids, page):
    url, maps = DESK[page]
    text = _open(browser, server + url, maps)
    assert "湖滨派出所" in text
    assert browser.page.locator('[data-testid="stDeckGlJsonChart"] canvas').count() >= maps
    if page == "grid-profile":  # grid A alone, still with its hole and its island
        rows = polygon_rows(decks(browser.frames))
        parts = [r["polygon"] for r in rows if len(r["polygon"]) == 2 and _same(_box(r["polygon"][1]), HOLE)]
        assert parts and any(len(r["polygon"]) == 1 and _same(_box(r["polygon"][0]), ISLAND) for r in rows), rows[:3]
    elif maps:
        assert_grids_drawn(decks(browser.frames), grid_ids)
    if page == "overview":
        assert "辖区外" in text and "无法定位" in text
        browser.page.screenshot(path=str(shots / "overview.png"))
        note = browser.page.get_by_text("辖区外", exact=False).first
        note.scroll_into_view_if_needed()
        assert note.is_visible()
        browser.page.screenshot(path=str(shots / "overview-note.png"))
    assert browser.external == [], browser.external
    assert browser.console_errors == [], browser.console_errors


@pytest.mark.parametrize("view", list(rotation.VIEWS))
def test_wall_view_in_a_browser(server, browser, shots, grid_ids, view):
    shown = view in rotation.MAP_VIEWS  # the views with a map; the others keep it mounted, hidden
    text = _open(browser, f"{server}/wall?view={view}", 1, hidden=not shown)
    assert browser.page.locator(f'.jw-w-head[data-view="{view}"]').count() == 1
    # the wall's one map stays mounted on every view (hidden on those without a map)
    canvas = browser.page.locator('.st-key-wall-map [data-testid="stDeckGlJsonChart"] canvas')
    assert canvas.count() == 1 and canvas.is_visible() == shown
    assert_grids_drawn(decks(browser.frames), grid_ids)
    assert "另有" in text and "未计入各网格" in text
    if shown:  # the map, with the line about rows outside above it, ends inside the main region
        main = browser.page.locator(".st-key-wall-main").bounding_box()
        box = canvas.bounding_box()
        assert box and main and box["y"] + box["height"] <= main["y"] + main["height"] + 1, (box, main)
    browser.page.screenshot(path=str(shots / f"wall-{view}.png"))
    assert browser.external == [], browser.external
    assert browser.console_errors == [], browser.console_errors

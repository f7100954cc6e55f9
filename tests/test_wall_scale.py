"""The LED wall at a larger type scale reflows instead of clipping; the wide and
the one-grid layouts use the screen; the desk's KPI tiles fit a 1366×768 laptop.

Measured from the DOM in headless chromium (one server, one browser, one page
per screen size for the whole module): for every view at ``?scale=`` 1, 1.5 and
2, at 1920×1080 and at 3840×2160 (device scale factor 2), every KPI tile's and
card's label and figure are visible, inside their tile and the screen and not
cut (``scrollWidth <= clientWidth + 1``); the header's station, scope, view
name, date and clock do not overlap; every list item passed lies inside its
list, uncut, as many as the row budget (``dashboard.wall.layout``) the server
gave for that scale. Screenshots of each view at scale 2 (1920×1080):
tests/artifacts/wall-scale2-<view>.png.
"""

from __future__ import annotations

import json

import pytest

from dashboard.wall import layout as wl
from dashboard.wall import rotation
from tests.apptest import open_page
from tests.browser import (
    ARTIFACTS,
    LOCAL_HOSTS,
)

SCREEN = [pytest.mark.browser]
# Every scale on a 1920x1080 screen; a 4K screen (device pixel ratio 2) lays out the same
# 1920x1080 CSS pixels, so it is tried once, at the scale a 4K wall would use.
CASES = [("1", 1920, 1080, 1), ("1.5", 1920, 1080, 1), ("2", 1920, 1080, 1), ("2", 3840, 2160, 2)]
GRID = "WLT-C01-G03"


# --- the arithmetic (no browser) ----------------------------------------------------------


def test_scale_1_keeps_the_measured_budgets_and_larger_scales_get_fewer_rows():
    one = wl.layout(1)
    assert (one.list_rows, one.patrol_rows, one.table_rows, one.category_rows) == (7, 14, 4, 8)
    assert (one.head_vh, one.kpi_vh, one.main_vh, one.foot_vh, one.kpi_cols) == (6, 14, 55, 20, 8)
    prev = one
    for s in (1.25, 1.5, 2, 2.5, 3):
        lay = wl.layout(s)
        assert lay.head_vh + lay.kpi_vh + lay.main_vh + lay.foot_vh <= wl.REGIONS_VH + 1e-9
        assert lay.kpi_cols * lay.kpi_rows >= wl.KPI_TILES
        for budget in ("list_rows", "patrol_rows", "table_rows", "category_rows", "card_rows"):
            assert 1 <= getattr(lay, budget) <= getattr(prev, budget), (s, budget)
        prev = lay
    assert wl.layout(2).list_rows < one.list_rows and wl.layout(1.5).kpi_cols == 4
    # a wide wall keeps the tiles in one row: the media query gives the main region the difference
    css = wl.layout(2).css_vars()
    assert "--ws: 2;" in css and "@media (min-aspect-ratio: 3/1)" in css and "--jw-kpi-cols: 8" in css
    assert "@media" not in one.css_vars()


def test_map_labels_grow_with_the_scale(app_env):
    """The wall's map TextLayer sizes (community names) multiply by ?scale=."""
    def sizes(params: dict) -> list[int]:
        at = open_page("pages/wall/wall.py", {"view": "overview", **params})
        assert not at.exception, at.exception
        decks = [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]
        labels = [layer for d in decks for layer in d["layers"] if layer.get("id") == "community-labels"]
        assert labels, "no community labels on the wall's map"
        return [r["size"] for layer in labels for r in layer["data"]]

    one, two = sizes({}), sizes({"scale": "2"})
    assert one and two and max(one) <= 17 < max(two) <= 34


# --- the browser --------------------------------------------------------------------------


class Screens:
    """The session's chromium; one context and page per (width, height, device scale factor) for the module."""

    def __init__(self, chromium):
        self.browser = chromium
        self.contexts: list = []
        self.pages: dict[tuple, object] = {}
        self.external: list[str] = []

    def page(self, width: int, height: int, dsf: int):
        key = (width, height, dsf)
        if key not in self.pages:
            ctx = self.browser.new_context(viewport={"width": width // dsf, "height": height // dsf}, device_scale_factor=dsf)
            self.contexts.append(ctx)
            page = ctx.new_page()
            page.on("request", lambda r: self.external.append(r.url) if not r.url.startswith(("data:", "blob:"))
                    and r.url.split("/")[2].split(":")[0] not in LOCAL_HOSTS else None)
            self.pages[key] = page
        return self.pages[key]

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture(scope="module")
def screens(chromium):
    s = Screens(chromium)
    try:
        yield s
    finally:
        s.close()


READY = """([view, scale, map]) => {
  const h = document.querySelector('.jw-w-head');
  if (!h || h.dataset.view !== view) return false;
  if (getComputedStyle(document.documentElement).getPropertyValue('--ws').trim() !== scale) return false;
  if (document.querySelectorAll('.jw-w-kpi').length !== 8 || document.querySelector('.jw-w-wait')) return false;
  if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')) return false;
  if (map) {  // deck.gl sizes its canvas after the first frame; until then it is the default 300x150
    const c = document.querySelector('.st-key-wall-map canvas'), m = document.querySelector('.st-key-wall-map');
    if (!c || c.getBoundingClientRect().width < 0.9 * m.getBoundingClientRect().width) return false;
  }
  const main = document.querySelector('.st-key-wall-main');
  if (!main || main.querySelectorAll('.jw-w-tile').length < 2 || !document.querySelector('.st-key-wall-trend .jw-w-tile')) return false;
  return document.fonts.status === 'loaded';
}"""

MEASURE = """() => {
  const iw = innerWidth, ih = innerHeight;
  const box = el => { const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, r: r.right, b: r.bottom, w: r.width, h: r.height}; };
  const inside = (a, o) => a.x >= o.x - 0.5 && a.y >= o.y - 0.5 && a.r <= o.r + 0.5 && a.b <= o.b + 0.5;
  const screen = {x: 0, y: 0, r: iw, b: ih};
  const shown = el => { const s = getComputedStyle(el); return s.display !== 'none' && s.visibility !== 'hidden' && el.getBoundingClientRect().width > 0; };
  const bad = [];
  // every KPI tile of the strip and every KPI card of a view: label and figure whole
  const tiles = [...document.querySelectorAll('.jw-w-kpi, .jw-w-card')];
  for (const t of tiles) {
    const tb = box(t);
    if (!inside(tb, screen)) bad.push(`tile ${t.dataset.kpi} outside the screen`);
    for (const part of ['label', 'value']) {
      const el = t.querySelector(`.jw-w-kpi-${part}, .jw-w-card-${part}`);
      const name = `${t.className.split(' ')[0]} ${t.dataset.kpi} ${part}`;
      if (!el || !shown(el)) { bad.push(name + ' not shown'); continue; }
      const b = box(el);
      if (b.h < 4 || !el.innerText.trim()) bad.push(name + ' empty');
      if (!inside(b, tb)) bad.push(`${name} outside its tile`);
      if (!inside(b, screen)) bad.push(`${name} outside the screen`);
      if (el.scrollWidth > el.clientWidth + 1) bad.push(`${name} cut: ${el.scrollWidth} > ${el.clientWidth} "${el.innerText}"`);
    }
  }
  // the header: its main items whole, inside the header and the screen, no two overlapping
  const head = box(document.querySelector('.st-key-wall-head'));
  const items = ['.jw-w-station', '.jw-w-scope', '.jw-w-view', '.jw-w-mark', '.jw-w-date', '.jw-w-time', '.jw-w-rot']
    .flatMap(s => [...document.querySelectorAll(s)]).filter(shown);
  for (const el of items) {
    const b = box(el), c = el.className;
    if (!inside(b, head) || !inside(b, screen)) bad.push(`header ${c} outside the header or the screen`);
    if (['jw-w-station', 'jw-w-view', 'jw-w-date', 'jw-w-time'].includes(c) && el.scrollWidth > el.clientWidth + 1) bad.push(`header ${c} cut`);
  }
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    const a = items[i], c = items[j];
    if (a.contains(c) || c.contains(a)) continue;
    const p = box(a), q = box(c);
    if (Math.min(p.r, q.r) - Math.max(p.x, q.x) > 0.5 && Math.min(p.b, q.b) - Math.max(p.y, q.y) > 0.5) bad.push(`header ${a.className} overlaps ${c.className}`);
  }
  for (const el of ['.jw-w-station', '.jw-w-view', '.jw-w-date', '.jw-w-time'].map(s => document.querySelector(s)))
    if (!el || !shown(el)) bad.push('header item missing');
  // the regions inside the screen
  for (const s of ['.st-key-wall-head', '.st-key-wall-kpi', '.st-key-wall-main', '.st-key-wall-trend']) {
    const el = document.querySelector(s);
    if (!el || !inside(box(el), screen)) bad.push(`${s} outside the screen`);
  }
  // lists: every item passed inside its list and the screen, uncut; the footer says as many
  const lists = [...document.querySelectorAll('.jw-w-tile > ul')].map(ul => {
    const u = box(ul), foot = ul.parentElement.querySelector(':scope > .jw-w-more');
    const lis = [...ul.children];
    for (const li of lis) {
      const b = box(li);
      if (b.h < 1 || !inside(b, u) || !inside(b, screen)) bad.push(`${ul.parentElement.className}: item outside its list`);
      if (li.scrollHeight > li.clientHeight + 1) bad.push(`${ul.parentElement.className}: item cut (${li.scrollHeight} > ${li.clientHeight})`);
    }
    if (!foot || box(foot).b > ih + 0.5 || +foot.dataset.shown !== lis.length) bad.push(`${ul.parentElement.className}: footer missing, off screen or wrong`);
    return {tile: ul.parentElement.className, rows: +ul.dataset.rows, cols: ul.className.includes('cols2') ? 2 : 1, items: lis.length};
  });
  const cards = [...document.querySelectorAll('.jw-w-cards')].map(c => {
    const foot = c.nextElementSibling && c.nextElementSibling.classList.contains('jw-w-more') ? +c.nextElementSibling.dataset.shown : c.children.length;
    if (foot !== c.children.length) bad.push('cards footer wrong');
    return c.children.length;
  });
  const se = document.scrollingElement;
  if (se.scrollWidth > iw || se.scrollHeight > ih) bad.push(`the page scrolls ${se.scrollWidth}x${se.scrollHeight}`);
  if (document.querySelector('[data-testid="stException"]')) bad.push('a traceback');
  return {bad, kpis: document.querySelectorAll('.jw-w-kpi').length, lists, cards};
}"""


def _open(page, base: str, view: str, scale: str, extra: str = "") -> None:
    page.goto(f"{base}/wall?view={view}&scale={scale}{extra}")
    has_map = view in rotation.MAP_VIEWS or "grid=" in extra and view in ("reports", "dispatch")
    page.wait_for_function(READY, arg=[view, scale, has_map], timeout=60_000, polling=200)


@pytest.mark.parametrize("scale, width, height, dsf", CASES, ids=[f"{s}-{w}x{h}" for s, w, h, _ in CASES])
@pytest.mark.parametrize("view", list(rotation.VIEWS))
@pytest.mark.browser
def test_every_view_reflows_at_a_larger_scale(server, screens, view, scale, width, height, dsf):
    page = screens.page(width, height, dsf)
    _open(page, server, view, scale)
    g = page.evaluate(MEASURE)
    assert g["bad"] == [], (view, scale, width, g["bad"])
    assert g["kpis"] == 8
    lay = wl.layout(float(scale))
    for lst in g["lists"]:
        # the row budget the server gave is the one for this scale, and it is filled (the world is busy)
        assert lst["rows"] == lay.list_rows * lst["cols"], lst
        assert 0 < lst["items"] <= lst["rows"], lst
    if view in ("overview", "reports", "dispatch", "patrol", "disputes"):
        assert g["lists"], view
    if width == 1920 and scale == "2":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"wall-scale2-{view}.png"))
    assert screens.external == [], screens.external


WIDE = """() => {
  const c = document.querySelector('.st-key-wall-map canvas'), m = document.querySelector('.st-key-wall-map');
  const main = document.querySelector('.st-key-wall-main').getBoundingClientRect();
  const t = m.querySelector('.jw-w-title').getBoundingClientRect();
  const r = c.getBoundingClientRect();
  return {iw: innerWidth, w: r.width, h: r.height, room: main.bottom - t.bottom, top: r.top, bottom: r.bottom, mainBottom: main.bottom};
}"""


@pytest.mark.parametrize("view", ["overview", "patrol"])
@pytest.mark.parametrize("scale", ["1", "2"])
@pytest.mark.browser
def test_the_map_takes_its_share_of_a_spliced_5760_wall(server, screens, view, scale):
    page = screens.page(5760, 1080, 1)
    _open(page, server, view, scale)
    g = page.evaluate(MEASURE)
    assert g["bad"] == [], g["bad"]
    m = page.evaluate(WIDE)
    assert m["w"] >= m["iw"] / 3, m  # a proportionate share of the width
    assert m["h"] >= 0.9 * m["room"] and m["bottom"] <= m["mainBottom"] + 0.5, m  # and the main region's height
    if scale == "1":
        page.screenshot(path=str(ARTIFACTS / f"wall-scale-5760-{view}.png"))


COVER = """() => {
  const main = document.querySelector('.st-key-wall-main').getBoundingClientRect();
  const cols = [...document.querySelectorAll('.st-key-wall-main [data-testid="stColumn"]')].filter(c => getComputedStyle(c).display !== 'none');
  const leaves = 'li, .jw-w-panel, .jw-w-trend, .jw-w-cards, canvas, .jw-w-none';
  return {width: main.width, cols: cols.map(c => {
    const r = c.getBoundingClientRect();
    const bottoms = [...c.querySelectorAll(leaves)].map(el => el.getBoundingClientRect()).filter(b => b.height > 0).map(b => b.bottom);
    return {w: r.width, filled: bottoms.length ? (Math.max(...bottoms) - r.top) / r.height : 0};
  })};
}"""


@pytest.mark.parametrize("view", list(rotation.VIEWS))
@pytest.mark.browser
def test_a_wall_narrowed_to_one_grid_leaves_no_empty_half(server, screens, view):
    """?grid=: the main row's columns cover its width, and no column wider than a
    third of it stays (nearly) empty: a one-grid queue of one task no longer
    leaves half the screen blank (网格上报 and 派单调度 show the grid's map)."""
    page = screens.page(1920, 1080, 1)
    _open(page, server, view, "1", f"&grid={GRID}")
    g = page.evaluate(MEASURE)
    assert g["bad"] == [], g["bad"]
    c = page.evaluate(COVER)
    assert sum(col["w"] for col in c["cols"]) >= 0.95 * c["width"], c
    empty = sum(col["w"] for col in c["cols"] if col["filled"] < 0.3)
    assert empty < c["width"] / 3, c
    page.screenshot(path=str(ARTIFACTS / f"wall-grid-{view}.png"))


DESK = """() => {
  const bad = [], r = el => el.getBoundingClientRect();
  const tiles = [...document.querySelectorAll('.jw-kpi')];
  for (const t of tiles) {
    const tb = r(t), name = t.dataset.kpi;
    if (tb.left < -0.5 || tb.right > innerWidth + 0.5) bad.push(`${name} outside the page`);
    for (const part of ['.jw-kpi-label', '.jw-kpi-value']) {
      const el = t.querySelector(part);
      if (!el || r(el).height < 4) { bad.push(`${name} ${part} not shown`); continue; }
      if (el.scrollWidth > el.clientWidth + 1) bad.push(`${name} ${part} cut: ${el.scrollWidth} > ${el.clientWidth}`);
    }
    for (const el of t.querySelectorAll('*')) {  // nothing spills out of its tile
      const b = r(el);
      if (b.width && (b.left < tb.left - 0.5 || b.right > tb.right + 0.5 || b.top < tb.top - 0.5 || b.bottom > tb.bottom + 0.5))
        bad.push(`${name} ${el.className} spills out`);
    }
  }
  return {n: tiles.length, bad};
}"""


@pytest.mark.parametrize("path", ["overview", "reports", "dispatch", "patrol", "trends", "disputes", f"grid?grid={GRID}"])
@pytest.mark.browser
def test_desk_kpi_tiles_fit_a_1366_laptop(server, screens, path):
    page = screens.page(1366, 768, 1)
    page.goto(f"{server}/{path}")
    page.wait_for_selector(".jw-kpi", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && document.fonts.status === 'loaded'",
                           timeout=60_000, polling=200)
    g = page.evaluate(DESK)
    assert g["n"] >= 4 and g["bad"] == [], g
    if path == "overview":
        page.screenshot(path=str(ARTIFACTS / "desk-overview-1366x768.png"))


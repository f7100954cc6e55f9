"""The LED wall in a real browser: it fills 1920×1080, 3840×2160 (device scale
factor 2) and 5760×1080 without scrolling, every KPI tile and the trend strip
inside the viewport, the clock ticks, no console errors and nothing fetched from
another host; and a report written by another process shows on the wall, without
a reload, within 5 s. Screenshots go to tests/artifacts/wall-*.png."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from dashboard import mask, timeutil
from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.wall import rotation
from dashboard.writers.demo import generate
from dashboard.writers.simulate import Simulator
from queries import reports
from tests.browser import Browser, require_chromium, streamlit_server
from tests.conftest import FIXTURE_END, reader_url
from tests.zh import english_on

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080, 1), (3840, 2160, 2), (5760, 1080, 1)]
REGIONS = (".st-key-wall-head", ".st-key-wall-kpi", ".st-key-wall-main", ".st-key-wall-trend")


@pytest.fixture(scope="module")
def server(world_reader_url):
    require_chromium()
    # alarms over six hours: the fixture world then has some to flash at FIXTURE_END
    env = {"DATABASE_URL": world_reader_url, "DASHBOARD_NOW": FIXTURE_END.isoformat(), "DASHBOARD_ALARM_SECONDS": str(6 * 3600)}
    with streamlit_server(env) as base:
        yield base


def _open_wall(b: Browser, url: str) -> None:
    b.page.goto(url)
    b.page.wait_for_selector(".jw-w-kpi", timeout=60_000)
    b.page.wait_for_selector(".jw-w-feed", timeout=30_000)
    b.page.wait_for_selector(".jw-w-queue", timeout=30_000)
    b.page.wait_for_selector(".jw-w-trends", timeout=30_000)
    b.page.wait_for_selector(".st-key-wall-map canvas", timeout=30_000)
    b.settle()
    b.map_drawn(b.page.locator(".st-key-wall-map canvas"))


GEOMETRY = """() => {
  const se = document.scrollingElement, main = document.querySelector('[data-testid="stMain"]');
  const box = s => { const el = document.querySelector(s); if (!el) return null; const r = el.getBoundingClientRect();
                     return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const visible = s => { const el = document.querySelector(s); return !!el && el.getBoundingClientRect().height > 0
                         && getComputedStyle(el).display !== 'none'; };
  return {
    iw: innerWidth, ih: innerHeight,
    doc: {sw: se.scrollWidth, sh: se.scrollHeight},
    main: {sw: main.scrollWidth, sh: main.scrollHeight, cw: main.clientWidth, ch: main.clientHeight},
    kpis: [...document.querySelectorAll('.jw-w-kpi')].map(el => { const r = el.getBoundingClientRect();
           return {x: r.x, y: r.y, w: r.width, h: r.height, label: el.querySelector('.jw-w-kpi-label').innerText}; }),
    regions: %s.map(box),
    chrome: ['header[data-testid="stHeader"]', '[data-testid="stSidebar"]', '[data-testid="stToolbar"]',
             '[data-testid="stPageLink"]', '[data-testid="stSelectbox"]'].filter(visible),
    overflowing: [...document.querySelectorAll('.jw-w-kpi-value')].filter(el => el.scrollWidth > el.clientWidth + 1).length,
  };
}"""


@pytest.mark.parametrize("width, height, dsf", SIZES, ids=[f"{w}x{h}" for w, h, _ in SIZES])
def test_wall_fits_the_screen(server, chromium, width, height, dsf):
    b = Browser(chromium, width // dsf, height // dsf, dsf)
    try:
        _open_wall(b, f"{server}/?wall=1&community=WLT-C02" if width == 5760 else f"{server}/?wall=1")
        page = b.page
        assert "/wall" in page.url
        if width == 5760:
            assert "community=WLT-C02" in page.url  # the redirect keeps the filters in the address
        g = page.evaluate(GEOMETRY % list(REGIONS))
        iw, ih = g["iw"], g["ih"]
        assert (iw, ih) == (width // dsf, height // dsf)
        assert g["doc"]["sh"] <= ih and g["doc"]["sw"] <= iw, g["doc"]
        assert g["main"]["sh"] <= g["main"]["ch"] and g["main"]["sw"] <= g["main"]["cw"], g["main"]
        assert [k["label"] for k in g["kpis"]] == ["今日警情", "今日上报", "待派单", "处置中", "超期", "本月办结率", "本月化解率", "在岗巡逻"]
        for k in g["kpis"]:
            assert k["x"] >= 0 and k["y"] >= 0 and k["x"] + k["w"] <= iw + 0.5 and k["y"] + k["h"] <= ih + 0.5, k
        for sel, r in zip(REGIONS, g["regions"]):
            assert r and r["h"] > 0 and r["y"] >= 0 and r["y"] + r["h"] <= ih + 0.5 and r["x"] + r["w"] <= iw + 0.5, (sel, r)
        assert g["chrome"] == [], g["chrome"]
        assert g["overflowing"] == 0  # no KPI figure cut off
        assert page.locator(".jw-w-report").count() >= 5 and page.locator(".jw-w-task").count() >= 5
        assert page.locator('[data-testid="stException"]').count() == 0
        if width == 1920:
            first = page.locator(".jw-w-time").inner_text()
            # the clock ticks: waited for (a few seconds at most), not slept
            page.wait_for_function("(first) => document.querySelector('.jw-w-time').innerText !== first", arg=first, timeout=10_000)
        b.screenshot(f"wall-{width}x{height}")
        assert b.external == [], b.external
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


def test_a_new_report_shows_on_the_wall_without_a_reload(scratch, chromium):
    """A live world (real "now"): another writer adds a report; the open wall shows it
    without a reload. How soon is bench/wall_latency.py's figure, not this test's."""
    url = scratch.new("wall_live")
    writer = make_writer(url)
    generate(writer, scale="station", seed=3, months=1)
    with streamlit_server({"DATABASE_URL": reader_url(url), "DASHBOARD_NOW": ""}) as base:
        b = Browser(chromium)
        try:
            _open_wall(b, f"{base}/?wall=1")
            navigations = []
            b.page.on("framenavigated", lambda fr: navigations.append(fr.url) if fr == b.page.main_frame else None)
            rid = Simulator(writer, seed=5, patrol=False).new_report(timeutil.utcnow())
            item = b.page.locator(f'.jw-w-report[data-report-id="{rid}"]')
            item.wait_for(timeout=60_000)
            reader = make_reader(load_settings({"DATABASE_URL": url}))
            detail = reports.detail(reader, rid)
            reader.dispose()
            assert item.locator(".jw-w-text").inner_text() == mask.text(detail.text)
            assert b.page.locator(".jw-w-report").first.get_attribute("data-report-id") == str(rid)
            assert navigations == []  # no reload
            assert b.console_errors == [], b.console_errors
            assert b.external == [], b.external
        finally:
            b.close()
    writer.dispose()


VIEW_GEOMETRY = """() => {
  const se = document.scrollingElement, ih = innerHeight, iw = innerWidth;
  const inside = el => { const r = el.getBoundingClientRect(); return r.x >= 0 && r.y >= 0 && r.right <= iw + 0.5 && r.bottom <= ih + 0.5; };
  const alarm = document.querySelector('.st-key-wall-alarm');
  return {
    view: document.querySelector('.jw-w-head')?.dataset.view,
    scroll: [se.scrollWidth - iw, se.scrollHeight - ih],
    kpisInside: [...document.querySelectorAll('.jw-w-kpi')].every(inside),
    kpis: document.querySelectorAll('.jw-w-kpi').length,
    alarm: alarm ? {inside: inside(alarm), anim: getComputedStyle(alarm).animationName, n: +alarm.querySelector('.jw-w-alarm').dataset.alarms} : null,
    flashing: [...document.querySelectorAll('.flash')].map(el => getComputedStyle(el).animationName),
    stale: document.querySelectorAll('.jw-w-stale').length,
  };
}"""


def _view_now(page) -> str:
    return page.evaluate("() => document.querySelector('.jw-w-head')?.dataset.view || ''")


def test_every_view_fits_the_rotation_switches_in_place_and_the_wall_reloads_itself(server, chromium):
    b = Browser(chromium, 1920, 1080, 1)
    flashing = []
    try:
        for view in rotation.VIEWS:
            b.page.goto(f"{server}/wall?view={view}")
            b.page.wait_for_selector(f'.jw-w-head[data-view="{view}"]', timeout=60_000)
            b.page.wait_for_selector(".jw-w-kpi", timeout=30_000)
            b.drawn()
            b.page.wait_for_selector(".st-key-wall-alarm .jw-w-alarm", timeout=30_000)  # drawn by its own fragment
            if view == "reports" and not flashing:  # rows are marked on the feed's next poll (2 s)
                b.page.wait_for_selector(".flash", timeout=8_000)
            g = b.page.evaluate(VIEW_GEOMETRY)
            assert g["view"] == view and g["scroll"] == [0, 0], g
            assert g["kpis"] == 8 and g["kpisInside"], g
            assert g["stale"] == 0, g
            assert b.page.locator('[data-testid="stException"]').count() == 0
            assert english_on(b.page) == [], view  # no English on an unattended screen (tests/zh.py)
            # alarms (six hours of them at FIXTURE_END) flash in a bar inside the screen
            assert g["alarm"] and g["alarm"]["inside"] and g["alarm"]["anim"] == "jw-w-pulse-bar" and g["alarm"]["n"] >= 1, g
            assert set(g["flashing"]) <= {"jw-w-pulse"}, g
            flashing += g["flashing"]
            b.screenshot(f"wall-view-{view}-1920x1080")
        assert flashing, "no alarmed report or task row flashed on any view"
        # acknowledging clears the bar
        b.page.get_by_role("button", name="已知悉").click()
        b.page.wait_for_selector(".st-key-wall-alarm", state="detached", timeout=10_000)
        assert b.page.locator(".flash").count() == 0 or b.page.wait_for_selector(".flash", state="detached", timeout=10_000) is None

        # rotation: two views of 10 s each, switched in place (no navigation), filters
        # kept; then the daily self-reload (set to fire 30 s from now) comes back to
        # the same URL, and the rotation goes on. 30 s leaves a loaded machine time to
        # open the wall first: a reload time already past when the wall starts is tomorrow's.

        reload_wait = 30
        reload_at = timeutil.to_local(timeutil.utcnow() + timedelta(seconds=reload_wait))
        reload_by = time.monotonic() + reload_wait + 20
        b.page.goto(f"{server}/?wall=1&community=WLT-C02&rotate=overview:10,dispatch:10&reload={reload_at:%H:%M:%S}")
        b.page.wait_for_selector(".jw-w-kpi", timeout=60_000)
        b.settle()
        url = b.page.url
        assert "community=WLT-C02" in url and "rotate=" in url
        events = []
        b.page.on("framenavigated", lambda fr: events.append(("nav", fr.url)) if fr == b.page.main_frame else None)
        b.page.on("load", lambda: events.append(("load", b.page.url)))
        seen = [_view_now(b.page)]
        t0 = time.monotonic()
        while len(seen) < 2 and time.monotonic() - t0 < 15:
            b.page.wait_for_timeout(250)
            v = _view_now(b.page)
            if v and v != seen[-1]:
                seen.append(v)
        assert sorted(seen) == ["dispatch", "overview"], seen
        assert events == [], events  # switched in place
        assert "东湖社区" in b.page.locator(".jw-w-scope").inner_text()
        while not any(k == "load" for k, _ in events) and time.monotonic() < reload_by:
            b.page.wait_for_timeout(250)
        assert ("load", url) in events, events  # reloaded itself, same address
        b.page.wait_for_selector(".jw-w-kpi", timeout=60_000)
        assert _view_now(b.page) in ("overview", "dispatch") and "东湖社区" in b.page.locator(".jw-w-scope").inner_text()
        assert b.page.locator('[data-testid="stException"]').count() == 0
        assert b.console_errors == [], b.console_errors
        assert b.external == [], b.external
    finally:
        b.close()


LIST_GEOMETRY = """() => {
  const ih = innerHeight, iw = innerWidth;
  const r = el => el.getBoundingClientRect();
  return [...document.querySelectorAll('.jw-w-tile > ul')].map(ul => {
    const u = r(ul), foot = ul.parentElement.querySelector(':scope > .jw-w-more');
    const items = [...ul.children];
    return {
      tile: ul.parentElement.className, rows: +ul.dataset.rows, items: items.length,
      shown: foot ? +foot.dataset.shown : null, foot: foot ? (() => { const f = r(foot); return f.height > 0 && f.bottom <= ih + 0.5 && f.top >= u.bottom - 0.5; })() : false,
      outside: items.filter(li => { const b = r(li); return b.height < 1 || b.top < u.top - 0.5 || b.bottom > u.bottom + 0.5
                                    || b.left < u.left - 0.5 || b.right > u.right + 0.5 || b.bottom > ih + 0.5 || b.right > iw + 0.5; }).length,
      clipped: items.filter(li => li.scrollHeight > li.clientHeight + 1).length,
    };
  });
}"""


@pytest.mark.parametrize("scale", ["1", "1.5"])
def test_every_list_row_passed_is_on_screen(server, chromium, scale):
    """The row budget is the rows on screen: every item of every wall list lies
    inside its list and the viewport, the footer "另 N 件未显示" under it (so its
    figure is true); at scale 1 no item is clipped inside its row either."""
    b = Browser(chromium, 1920, 1080, 1)
    try:
        for view in ("overview", "reports", "dispatch", "patrol", "disputes"):
            b.page.goto(f"{server}/wall?view={view}&scale={scale}")
            b.page.wait_for_selector(f'.jw-w-head[data-view="{view}"]', timeout=60_000)
            b.page.wait_for_selector(".jw-w-more", timeout=30_000)
            b.settle()
            lists = b.page.evaluate(LIST_GEOMETRY)
            assert lists, view
            for g in lists:
                assert g["items"] == g["shown"] and 0 < g["items"] <= g["rows"], (view, g)
                assert g["outside"] == 0 and g["foot"], (view, g)
                if scale == "1":
                    assert g["clipped"] == 0, (view, g)
            b.screenshot(f"wall-lists-{view}-scale{scale}")
    finally:
        b.close()

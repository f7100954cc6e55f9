"""The LED wall in a real browser: it fills 1920×1080, 3840×2160 (device scale
factor 2) and 5760×1080 without scrolling, every KPI tile and the trend strip
inside the viewport, the clock ticks, no console errors and nothing fetched from
another host; and a report written by another process shows on the wall, without
a reload, within 5 s. Screenshots go to tests/artifacts/wall-*.png."""

from __future__ import annotations

import time

import pytest

from tests.browser import Browser, require_chromium, streamlit_server
from tests.conftest import FIXTURE_END

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080, 1), (3840, 2160, 2), (5760, 1080, 1)]
REGIONS = (".st-key-wall-head", ".st-key-wall-kpi", ".st-key-wall-main", ".st-key-wall-trend")


@pytest.fixture(scope="module")
def pw():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def server(world_url):
    require_chromium()
    with streamlit_server({"DATABASE_URL": world_url, "DASHBOARD_NOW": FIXTURE_END.isoformat()}) as base:
        yield base


def _open_wall(b: Browser, url: str) -> None:
    b.page.goto(url)
    b.page.wait_for_selector(".jw-w-kpi", timeout=60_000)
    b.page.wait_for_selector(".jw-w-feed", timeout=30_000)
    b.page.wait_for_selector(".jw-w-queue", timeout=30_000)
    b.page.wait_for_selector(".jw-w-trends", timeout=30_000)
    b.page.wait_for_selector(".st-key-wall-map canvas", timeout=30_000)
    b.settle()
    b.page.wait_for_timeout(1500)  # deck.gl draws after the script settles


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
def test_wall_fits_the_screen(server, pw, width, height, dsf):
    b = Browser(pw, width // dsf, height // dsf, dsf)
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
            page.wait_for_timeout(2500)
            assert page.locator(".jw-w-time").inner_text() != first, "the clock does not tick"
        b.screenshot(f"wall-{width}x{height}")
        assert b.external == [], b.external
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


def test_a_new_report_shows_on_the_wall_within_5s(scratch, pw):
    """A live world (real "now"): another writer adds a report; the open wall shows it without a reload."""
    from dashboard import mask, timeutil
    from dashboard.config import load_settings
    from dashboard.database import make_reader, make_writer
    from dashboard.demo import generate
    from dashboard.simulate import Simulator
    from queries import reports

    url = scratch.new("wall_live")
    writer = make_writer(url)
    generate(writer, scale="station", seed=3, months=1)
    with streamlit_server({"DATABASE_URL": url, "DASHBOARD_NOW": ""}) as base:
        b = Browser(pw)
        try:
            _open_wall(b, f"{base}/?wall=1")
            navigations = []
            b.page.on("framenavigated", lambda fr: navigations.append(fr.url) if fr == b.page.main_frame else None)
            rid = Simulator(writer, seed=5, patrol=False).new_report(timeutil.utcnow())
            t0 = time.monotonic()
            item = b.page.locator(f'.jw-w-report[data-report-id="{rid}"]')
            item.wait_for(timeout=5_000)
            latency = time.monotonic() - t0
            print(f"report #{rid} on the wall after {latency:.2f} s")
            assert latency < 5.0
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

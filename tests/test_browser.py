"""What only a browser shows: a deep link as the very first request to a fresh
server gets the whole frame, the overview draws its tiles, map and chart at
1920×1080, every page draws with no English on it, no console errors, and no
request leaves the machine."""

from __future__ import annotations

from urllib.parse import unquote_plus

import pytest

from dashboard.ui import nav
from tests.browser import Browser, streamlit_server
from tests.conftest import FIXTURE_END
from tests.zh import english_on

pytestmark = pytest.mark.browser


def _check_overview(b: Browser) -> None:
    page = b.page
    page.wait_for_selector(".jw-kpi", timeout=60_000)
    b.settle()
    assert page.locator(".jw-kpi").count() == 7
    labels = page.locator(".jw-kpi-label").all_inner_texts()
    assert labels == ["今日警情", "今日上报", "待派单", "处置中", "超期", "本月办结率", "本月化解率"]
    # the frame ran: its filter bar is there
    assert page.get_by_text("社区", exact=True).count() >= 1
    # the map (deck.gl canvas) and the trend chart (plotly) are drawn
    page.wait_for_selector("canvas", timeout=30_000)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    # every tile is inside the viewport width (nothing clipped off to the right)
    vw = page.viewport_size["width"]
    for box in (page.locator(".jw-kpi").nth(i).bounding_box() for i in range(7)):
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= vw + 1


def test_deep_link_first_request_gets_frame_and_overview(world_reader_url, chromium):
    # A server of its own: the shared one has seen other requests.
    env = {"DATABASE_URL": world_reader_url, "DASHBOARD_NOW": FIXTURE_END.isoformat()}
    with streamlit_server(env) as server:
        _deep_link(chromium, server)


def _deep_link(chromium, server: str) -> None:
    b = Browser(chromium)
    try:
        # The very first request this fresh server sees is a deep link with filters.
        b.page.goto(f"{server}/overview?community=WLT-C02&period=7d")
        _check_overview(b)
        assert "community=WLT-C02" in b.page.url and "period=7d" in b.page.url
        b.screenshot("overview-deeplink-1920x1080")
        assert b.external == [], b.external
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


def test_overview_at_1920x1080_and_bad_param_warning(server, chromium):
    b = Browser(chromium)
    try:
        b.page.goto(f"{server}/")
        _check_overview(b)
        b.screenshot("overview-1920x1080")
        b.page.goto(f"{server}/?community=NOPE")
        b.page.wait_for_selector('[data-testid="stAlert"]', timeout=60_000)
        b.settle()
        assert "未知的社区" in b.page.locator('[data-testid="stAlert"]').first.inner_text()
        assert "community=NOPE" not in b.page.url
        b.screenshot("overview-bad-param")
        assert b.external == [], b.external
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


# --- every page, the menu, the back button, drill-down by clicking -----------------------


# What each page draws once it is done: (css selector, how many at least).
PAGE_PARTS = {
    "overview": ["canvas", ".js-plotly-plot"],
    "reports": [".js-plotly-plot", '[data-testid="stDataFrame"]'],
    "dispatch": [".js-plotly-plot", '[data-testid="stDataFrame"]'],
    "patrol": ["canvas", '[data-testid="stDataFrame"]'],
    "trends": [".js-plotly-plot"],
    "disputes": [".js-plotly-plot"],
    "grid": ["canvas", ".js-plotly-plot"],
    "warning": ['[data-headline="warning"]', ".jw-empty"],  # the demo world raises no warning
    "assessment": ['[data-headline="assessment"]', ".js-plotly-plot", '[data-testid="stDataFrame"]'],
    "briefing": [".jw-brief-summary", ".js-plotly-plot", '[data-testid="stDataFrame"]', ".jw-brief-map img"],
}
PAGE_QUERY = {"grid": "?grid=WLT-C02-G01"}


def _open(b: Browser, url: str) -> None:
    b.page.goto(url)
    b.page.wait_for_selector(".jw-header", timeout=60_000)
    b.settle()


@pytest.mark.parametrize("spec", nav.PAGES, ids=[p.key for p in nav.PAGES])
def test_every_page_at_1920x1080(server, chromium, spec):
    b = Browser(chromium)
    try:
        _open(b, f"{server}/{spec.url_path}{PAGE_QUERY.get(spec.key, '')}")
        for sel in PAGE_PARTS[spec.key]:
            b.page.wait_for_selector(sel, timeout=30_000)
        b.drawn()
        assert b.page.locator('[data-testid="stException"]').count() == 0
        b.page.mouse.move(1, 1)  # hover nothing
        assert english_on(b.page) == []  # no English a person can see (tests/zh.py)
        # the frame ran on this page: header, menu and filter bar
        assert b.page.locator('[data-testid="stPageLink"]').count() == len(nav.PAGES)
        assert b.page.get_by_text("社区", exact=True).count() >= 1
        b.screenshot(f"page-{spec.key}-1920x1080")
        assert b.external == [], b.external
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


def test_menu_keeps_filters_and_back_button_restores_them(server, chromium):
    b = Browser(chromium)
    try:
        _open(b, f"{server}/overview?community=WLT-C02&period=7d")
        b.page.locator('[data-testid="stPageLink"] a', has_text="警情趋势").click()
        b.page.wait_for_url("**/trends?*", timeout=30_000)
        b.settle()
        assert "community=WLT-C02" in b.page.url and "period=7d" in b.page.url
        # change the period on the trends page, then go back: the overview's filters return
        b.page.goto(f"{server}/trends?community=WLT-C03")
        b.page.wait_for_selector(".jw-header", timeout=60_000)
        b.settle()
        b.page.go_back()
        b.page.wait_for_url("**/trends?*community=WLT-C02*", timeout=30_000)
        b.settle()
        assert "period=7d" in b.page.url
        selects = b.page.locator('[data-testid="stSelectbox"]').all_inner_texts()
        assert any("东湖社区" in s or "WLT-C02" in s for s in selects) or b.page.get_by_text("东湖社区").count() >= 1, selects
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


def test_clicking_the_overview_map_drills_down(server, chromium):
    b = Browser(chromium)
    try:
        _open(b, f"{server}/overview")
        canvas = b.page.locator("canvas").first
        b.map_drawn(canvas)
        box = canvas.bounding_box()
        assert box
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        b.page.mouse.click(x, y)
        b.page.wait_for_url("**community=*", timeout=30_000)
        b.settle()
        assert "grid=" not in b.page.url
        b.map_drawn()
        box = b.page.locator("canvas").first.bounding_box()
        b.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        b.page.wait_for_url("**grid=*", timeout=30_000)
        b.map_drawn()
        box = b.page.locator("canvas").first.bounding_box()
        b.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        b.page.wait_for_url("**/grid?*", timeout=30_000)
        b.settle()
        assert "grid=" in b.page.url
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


# --- the back button undoes a drill -------------------------------------------------------

_SETTLED_URL = """([has, hasnot]) => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  const url = decodeURIComponent(location.href);
  return has.every(s => url.includes(s)) && hasnot.every(s => !url.includes(s));
}"""


def _wait_url(b: Browser, has: list[str], hasnot: list[str]) -> None:
    b.page.wait_for_function(_SETTLED_URL, arg=[has, hasnot], timeout=60_000, polling=100)
    b.settle()


def _pick(b: Browser, label: str, option: str) -> None:
    b.page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    b.page.locator('[role="option"]').filter(has_text=option).first.click()


def test_back_button_undoes_each_drill(server, chromium):
    """Community, then grid, by the dropdowns: Back returns to the community, Back
    again to 全辖区. On 网格上报 a bar click puts its category in the URL and a row
    opens the detail; Back undoes each."""
    b = Browser(chromium)
    try:
        _open(b, f"{server}/overview")
        _pick(b, "社区", "东湖社区")
        _wait_url(b, ["community=WLT-C02"], ["grid="])
        _pick(b, "网格", "第1网格")
        _wait_url(b, ["community=WLT-C02", "grid=WLT-C02-G01"], [])
        assert "第1网格" in b.page.locator(".jw-header").inner_text()
        b.page.go_back()
        _wait_url(b, ["community=WLT-C02"], ["grid="])
        head = b.page.locator(".jw-header").inner_text()
        assert "东湖社区" in head and "第1网格" not in head
        b.page.go_back()
        _wait_url(b, ["/overview"], ["community=", "grid="])
        assert "全辖区" in b.page.locator(".jw-header").inner_text()

        _open(b, f"{server}/reports")
        b.page.wait_for_selector(".js-plotly-plot .bars .point path", timeout=30_000)
        bars = b.page.locator(".js-plotly-plot .bars .point path")
        bb = bars.nth(bars.count() - 1).bounding_box()  # the largest category, drawn on top
        b.page.mouse.click(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2)
        _wait_url(b, ["rcat="], [])
        picked = unquote_plus(b.page.url.split("rcat=")[1].split("&")[0])
        assert picked and picked in b.page.locator('[data-testid="stMultiSelect"]').first.inner_text()
        b.page.go_back()
        _wait_url(b, ["/reports"], ["rcat="])
        grid_el = b.page.locator('[data-testid="stDataFrame"]').last
        gb = grid_el.bounding_box()
        grid_el.hover()
        b.page.mouse.click(gb["x"] + 18, gb["y"] + 35 + 17)
        _wait_url(b, ["report="], [])
        assert b.page.get_by_text("关闭详情").count() >= 1
        b.page.go_back()
        _wait_url(b, ["/reports"], ["report="])
        assert b.page.get_by_text("关闭详情").count() == 0
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()

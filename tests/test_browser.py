"""What only a browser shows: a deep link as the very first request to a fresh
server gets the whole frame, the overview draws its tiles, map and chart at
1920×1080, no console errors, and no request leaves the machine."""

from __future__ import annotations

import pytest

from tests.browser import Browser, require_chromium, streamlit_server
from tests.conftest import FIXTURE_END

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(world_url):
    require_chromium()
    with streamlit_server({"DATABASE_URL": world_url, "DASHBOARD_NOW": FIXTURE_END.isoformat()}) as base:
        yield base


@pytest.fixture(scope="module")
def pw():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


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


def test_deep_link_first_request_gets_frame_and_overview(server, pw):
    b = Browser(pw)
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


def test_overview_at_1920x1080_and_bad_param_warning(server, pw):
    b = Browser(pw)
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

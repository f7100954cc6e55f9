"""In a browser: the overview's 30-day line and the trends page's stacked areas draw
today (so far) apart: a dashed last segment, a hollow marker and "今日截至 14:30"
beside it. Screenshots in tests/artifacts/periods-*.png."""

from __future__ import annotations

import pytest

from tests.browser import Browser, require_chromium, streamlit_server
from tests.conftest import FIXTURE_END

pytestmark = pytest.mark.browser

NOTE = "今日截至 14:30"  # FIXTURE_END is 14:30 in Asia/Shanghai


@pytest.fixture(scope="module")
def server(world_reader_url):
    require_chromium()
    with streamlit_server({"DATABASE_URL": world_reader_url, "DASHBOARD_NOW": FIXTURE_END.isoformat()}) as base:
        yield base


@pytest.fixture(scope="module")
def pw():
    require_chromium()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional: a browser test skips with a reason without playwright

    with sync_playwright() as p:
        yield p


def dashed_lines(b: Browser) -> int:
    return b.page.locator('.js-plotly-plot .scatterlayer path.js-line[style*="stroke-dasharray"]').count()


def test_overview_trend_draws_today_dashed_and_hollow(server, pw):
    b = Browser(pw)
    try:
        b.page.goto(f"{server}/overview")
        b.page.wait_for_selector(".js-plotly-plot .annotation-text", timeout=60_000)
        b.settle()
        notes = b.page.locator(".js-plotly-plot .annotation-text").evaluate_all("els => els.map(e => e.textContent)")
        assert NOTE in notes, notes
        assert dashed_lines(b) == 2  # 去年同期 (dashed throughout) and today's segment
        assert b.page.locator(".js-plotly-plot path.point").count() >= 29  # the solid line's markers and today's hollow one
        assert "本月 20 天" in " ".join(b.page.locator(".jw-kpi-basis").all_inner_texts())
        b.page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        b.screenshot("periods-overview")
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


def test_trends_stack_draws_today_dashed(server, pw):
    b = Browser(pw)
    try:
        b.page.goto(f"{server}/trends")
        b.page.wait_for_selector(".js-plotly-plot .annotation-text", timeout=60_000)
        b.settle()
        assert NOTE in b.page.locator(".js-plotly-plot .annotation-text").evaluate_all("els => els.map(e => e.textContent)")
        assert dashed_lines(b) >= 3  # one dashed last segment per category
        b.screenshot("periods-trends")
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()

"""In a browser: the overview's 30-day line and the trends page's stacked areas draw
today (so far) apart: a dashed last segment, a hollow marker and "今日截至 14:30"
beside it. Screenshots in tests/artifacts/periods-*.png."""

from __future__ import annotations

import pytest

from tests.browser import Browser

pytestmark = pytest.mark.browser

NOTE = "今日截至 14:30"  # FIXTURE_END is 14:30 in Asia/Shanghai


def dashed_lines(b: Browser) -> int:
    return b.page.locator('.js-plotly-plot .scatterlayer path.js-line[style*="stroke-dasharray"]').count()


def _chart_with_note(chromium, server: str, path: str, shot: str, check) -> None:
    """Open ``path``, wait for a plotly chart's annotations, settle; the note of today
    is among them, ``check(b)`` holds, a screenshot, no console errors."""
    b = Browser(chromium)
    try:
        b.page.goto(f"{server}/{path}")
        b.page.wait_for_selector(".js-plotly-plot .annotation-text", timeout=60_000)
        b.settle()
        notes = b.page.locator(".js-plotly-plot .annotation-text").evaluate_all("els => els.map(e => e.textContent)")
        assert NOTE in notes, notes
        check(b)
        b.screenshot(shot)
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()


def test_overview_trend_draws_today_dashed_and_hollow(server, chromium):
    def check(b: Browser) -> None:
        assert dashed_lines(b) == 2  # 去年同期 (dashed throughout) and today's segment
        assert b.page.locator(".js-plotly-plot path.point").count() >= 29  # the solid line's markers and today's hollow one
        assert "本月 20 天" in " ".join(b.page.locator(".jw-kpi-basis").all_inner_texts())
        b.page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()

    _chart_with_note(chromium, server, "overview", "periods-overview", check)


def test_trends_stack_draws_today_dashed(server, chromium):
    def check(b: Browser) -> None:
        assert dashed_lines(b) >= 3  # one dashed last segment per category

    _chart_with_note(chromium, server, "trends", "periods-trends", check)

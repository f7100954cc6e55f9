"""Outages in a real browser, on the session's backend (SQLite: the file made
unreadable; PostgreSQL: a TCP proxy cut; see tests/outage.py).

* The database goes away under an open wall: every tile keeps its last data
  under a red "数据更新于 HH:MM:SS，已中断 N 秒" banner (the map, which refreshes
  every 30 s, included), no traceback; when it is back every banner is gone
  within 10 s, without a reload.
* The Streamlit server is killed and a new one started on the same port: the
  open wall shows a red bar instead of Streamlit's dialog, then comes back by
  itself with the same URL, filters and type size.
* A wall and a desk page opened while the database is down show a red message
  and come up by themselves (the wall within 10 s of the database's return).

Screenshots: tests/artifacts/wall-outage-*.png.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from dashboard.wall import rotation
from tests.browser import (
    Browser,
    StreamlitServer,
    free_port,
    streamlit_server,
)
from tests.conftest import FIXTURE_END
from tests.outage import Outage

pytestmark = [pytest.mark.backend, pytest.mark.browser]

STALE = re.compile(r"^数据更新于 \d\d:\d\d:\d\d，已中断 \d+ 秒$")
BACK_WITHIN_S = 10  # the issue: "returns to normal by itself within 10 s of the database coming back"
# The wall's URL parameters that must survive a server restart; add the view
# rotation's parameter here when the wall has one.
WALL_PARAMS = {"community": "WLT-C02", "scale": "1.2"}

SNAPSHOT = """() => ({
  kpis: [...document.querySelectorAll('.jw-w-kpi')].map(e => e.dataset.kpi + '=' + e.dataset.value),
  feed: [...document.querySelectorAll('.jw-w-report')].map(e => e.dataset.reportId),
  queue: [...document.querySelectorAll('.jw-w-task')].map(e => e.dataset.taskId),
  banners: [...document.querySelectorAll('.jw-w-stale, .jw-w-stale-inline')].map(e => e.innerText.trim()),
  exceptions: document.querySelectorAll('[data-testid="stException"]').length,
  text: document.body.innerText,
})"""
HEALTHY = """() => !document.querySelector('.jw-w-stale, .jw-w-stale-inline')
  && document.querySelectorAll('.jw-w-kpi').length === 8
  && !!document.querySelector('.jw-w-report') && !!document.querySelector('.jw-w-task')"""
CONNECTION_BAR = "() => getComputedStyle(document.querySelector('.stApp'), '::before').content"



def _env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "DASHBOARD_NOW": FIXTURE_END.isoformat()}


def _open_wall(b: Browser, url: str) -> None:
    b.page.goto(url)
    for sel in (".jw-w-kpi", ".jw-w-feed", ".jw-w-queue", ".jw-w-trends", ".st-key-wall-map canvas"):
        b.page.wait_for_selector(sel, timeout=60_000)
    b.settle()


def _navigations(page) -> list[str]:
    """URLs the main frame navigates to from now on (a reload would be one)."""
    seen: list[str] = []
    page.on("framenavigated", lambda fr: seen.append(fr.url) if fr == page.main_frame else None)
    return seen


def _no_traceback(snap: dict) -> None:
    assert snap["exceptions"] == 0
    assert "Traceback" not in snap["text"] and 'File "' not in snap["text"]


def test_wall_keeps_its_last_data_through_a_database_outage(world_reader_url, chromium):
    with Outage(world_reader_url) as outage, streamlit_server(_env(outage.url)) as base:
        b = Browser(chromium)
        try:
            _open_wall(b, f"{base}/?wall=1")
            page = b.page
            navigations = _navigations(page)
            before = page.evaluate(SNAPSHOT)
            assert len(before["kpis"]) == 8 and before["feed"] and before["queue"] and before["banners"] == []
            outage.cut()
            # KPI strip, feed and queue poll every 2-3 s; the map only every 30 s:
            # wait for its banner too, so the recovery below has a slow tile to clear.
            page.wait_for_function(
                "() => document.querySelectorAll('.jw-w-stale').length >= 3 && document.querySelector('.jw-w-stale-inline')",
                timeout=45_000,
            )
            during = page.evaluate(SNAPSHOT)
            assert all(STALE.match(t) for t in during["banners"]), during["banners"]
            assert (during["kpis"], during["feed"], during["queue"]) == (before["kpis"], before["feed"], before["queue"])
            _no_traceback(during)
            b.screenshot("wall-outage-database")

            outage.restore()
            t0 = time.monotonic()
            page.wait_for_function(HEALTHY, timeout=BACK_WITHIN_S * 1000)
            print(f"{outage.how}: every banner gone {time.monotonic() - t0:.1f} s after the database came back")
            b.settle()
            after = page.evaluate(SNAPSHOT)
            assert page.evaluate(HEALTHY), after["banners"]
            _no_traceback(after)
            assert navigations == []  # no reload
            assert b.console_errors == [], b.console_errors
        finally:
            b.close()


def test_wall_comes_back_with_its_view_after_a_server_restart(world_reader_url, chromium):
    # a rotation too: the view on screen is the one the wall clock says, before and after
    params = {**WALL_PARAMS, "rotate": "overview:3000,dispatch:600"}
    steps, _ = rotation.parse_rotate(params["rotate"])
    server = StreamlitServer(_env(world_reader_url), port=free_port())
    base = server.start()
    b = Browser(chromium)
    try:
        b.page.goto(f"{base}/?wall=1&{urlencode(params)}")
        b.page.wait_for_selector(".jw-w-kpi", timeout=60_000)
        b.page.wait_for_selector(".jw-w-rot", timeout=30_000)
        b.settle()
        page = b.page

        def view() -> tuple:
            params = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
            size = page.evaluate("() => getComputedStyle(document.documentElement).getPropertyValue('--ws').trim()")
            return urlparse(page.url).path, params, page.locator(".jw-w-scope").inner_text(), size

        def on_screen_is_the_rotations() -> bool:
            for _ in range(3):  # a switch may fall between the two reads
                expected = rotation.position(steps, "overview", time.time()).view
                if page.evaluate("() => document.querySelector('.jw-w-head').dataset.view") == expected:
                    return True
                page.wait_for_timeout(1500)
            return False

        shown = view()
        assert shown[0] == "/wall" and shown[1] == params and "东湖社区" in shown[2] and shown[3] == "1.2", shown
        assert on_screen_is_the_rotations()
        navigations = _navigations(page)

        server.stop(kill=True)
        page.wait_for_function(f"() => ({CONNECTION_BAR})().includes('连接已中断')", timeout=10_000)
        page.wait_for_timeout(8000)  # Streamlit opens its "Connection error" dialog after 6 failed pings
        dialog = page.locator('[data-testid="stDialog"]')
        assert dialog.count() == 0 or not dialog.is_visible()
        assert page.locator(".jw-w-kpi").count() == 8  # the last screen stays
        b.screenshot("wall-outage-server")

        server.start()
        t0 = time.monotonic()
        page.wait_for_function(
            "() => document.querySelector('.stApp').dataset.testConnectionState === 'CONNECTED'"
            " && document.querySelectorAll('.jw-w-kpi').length === 8",
            timeout=30_000,
        )
        # A session on the new server runs the wall: the clock ticks again.
        first = page.locator(".jw-w-time").inner_text()
        page.wait_for_function(f"() => document.querySelector('.jw-w-time').innerText !== {first!r}", timeout=20_000)
        print(f"wall live again {time.monotonic() - t0:.1f} s after the new server started")
        b.settle()
        assert view() == shown
        assert on_screen_is_the_rotations() and page.locator(".jw-w-rot").count() == 1
        assert page.evaluate(CONNECTION_BAR) == "none"
        assert navigations == []  # reconnected in place, no reload
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        b.close()
        server.stop()


def test_pages_opened_during_an_outage_come_up_by_themselves(world_reader_url, chromium):
    with Outage(world_reader_url) as outage:
        outage.cut()
        with streamlit_server(_env(outage.url)) as base:
            b = Browser(chromium)
            try:
                wall = b.page
                wall.goto(f"{base}/?wall=1&community=WLT-C02")
                wall.wait_for_selector(".jw-w-down", timeout=60_000)
                desk = b.ctx.new_page()
                desk.goto(f"{base}/overview")
                desk.wait_for_selector('[data-testid="stAlert"]', timeout=60_000)
                b.settle()
                walled, desked = _navigations(wall), _navigations(desk)
                down = wall.locator(".jw-w-down").inner_text()
                assert "数据源中断" in down and "自动重试" in down
                age = int(re.search(r"已中断 (\d+) 秒", down).group(1))
                assert "自动重试" in desk.locator('[data-testid="stMain"]').inner_text()
                for p in (wall, desk):
                    assert p.locator('[data-testid="stException"]').count() == 0
                    assert "Traceback" not in p.locator("body").inner_text()
                # the message is redrawn by the retrying fragment: its age moves on
                wall.wait_for_function(
                    f"() => +(document.querySelector('.jw-w-down').innerText.match(/已中断 (\\d+) 秒/) || [0, 0])[1] > {age}",
                    timeout=15_000,
                )
                b.screenshot("wall-outage-first-load")

                outage.restore()
                t0 = time.monotonic()
                wall.wait_for_function(
                    "() => document.querySelectorAll('.jw-w-kpi').length === 8 && !document.querySelector('.jw-w-down')",
                    timeout=BACK_WITHIN_S * 1000,
                )
                wall_up = time.monotonic() - t0
                # The desk page promises to retry by itself (every RETRY_EVERY_S); the issue's
                # 10 s is the wall's. It reruns at the same moment as the wall, on the same server.
                desk.wait_for_function(
                    "() => !!document.querySelector('.jw-kpi') && !document.querySelector('[data-testid=\"stAlert\"]')",
                    timeout=2 * BACK_WITHIN_S * 1000,
                )
                print(f"{outage.how}: wall up {wall_up:.1f} s, desk page {time.monotonic() - t0:.1f} s after the database came back")
                assert "东湖社区" in wall.locator(".jw-w-scope").inner_text()
                assert walled == [] and desked == []  # no reload
            finally:
                b.close()

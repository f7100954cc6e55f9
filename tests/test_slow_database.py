"""The wall under a slow database: tiles do not wait on each other's queries,
and (in the browser) the clock and the banners' ages run on whatever the
server does. The desk's retry after a timed-out query is in test_sections.py.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import threading
import time
from datetime import datetime

import psycopg
import pytest
from sqlalchemy.engine import make_url

from dashboard.db.database import DataError, QueryTimeout
from dashboard.ui import frame, recovery, tiles
from queries import wall as wall_queries
from tests.apptest import html_text, open_page
from tests.browser import Browser, StreamlitServer, require_chromium, streamlit_server
from tests.conftest import FIXTURE_END, audit_url

WALL = "pages/wall/wall.py"


def _now() -> datetime:
    return datetime(2026, 11, 20, 6, 30)


# --- the machinery --------------------------------------------------------------------


def test_a_slow_job_does_not_hold_the_step_and_its_result_comes_later():
    gate = threading.Event()
    t = tiles.Tile()
    t.step(lambda: 1, lambda: gate.wait(10) and "data", every_s=0, wait_s=0.05, now_real=_now)
    assert t.job is not None and not t.has_data  # returned while the load still runs
    job = t.job
    t.step(lambda: 2, lambda: "other", every_s=0, wait_s=0.0, now_real=_now)
    assert t.job is job  # at most one job in flight
    gate.set()
    job.result(5)
    t.step(lambda: 1, lambda: "x", every_s=60, wait_s=0.0, now_real=_now)
    assert t.has_data and t.data == "data" and t.marker == 1 and t.ok_at == _now() and t.error is None


def test_same_marker_keeps_the_data_and_an_error_keeps_it_too():
    t = tiles.Tile()
    loads = []

    def load(v):
        loads.append(v)
        return v

    t.step(lambda: 7, lambda: load("a"), every_s=0, wait_s=5, now_real=_now)
    t.step(lambda: 7, lambda: load("b"), every_s=0, wait_s=5, now_real=_now)
    assert t.data == "a" and loads == ["a"]  # the marker did not change: nothing loaded

    def broken():
        raise DataError("gone", "数据库无法连接")

    t.step(broken, lambda: load("c"), every_s=0, wait_s=5, now_real=_now)
    assert isinstance(t.error, DataError) and t.data == "a"
    t.step(lambda: 8, lambda: load("d"), every_s=0, wait_s=5, now_real=_now)
    assert t.error is None and t.data == "d"


def test_the_run_budget_bounds_waiting_for_first_data():
    b = tiles.WaitBudget(1.0)
    assert b.take(1.5) == 1.0
    b.spent(0.7)
    assert b.take(1.5) == pytest.approx(0.3)
    b.spent(5)
    assert b.take(1.5) == 0.0


# --- the wall in AppTest ----------------------------------------------------------------


@pytest.mark.backend
def test_a_tile_with_a_hung_query_does_not_hold_the_others(app_env, monkeypatch):
    """The trend strip's query hangs; the KPI strip, the feed and the queue still
    show their data, the strip says 数据加载中, and fills in once the query returns."""
    gate = threading.Event()
    real = wall_queries.hourly

    def hung(*a, **k):
        gate.wait(60)
        return real(*a, **k)

    monkeypatch.setattr(wall_queries, "hourly", hung)
    try:
        at = open_page(WALL, {"view": "overview"})
        assert not at.exception
        text = html_text(at)
        assert 'data-kpi="incidents_today"' in text or "jw-w-kpis" in text
        assert re.search(r'data-report-id="\d+"', text)  # the feed
        trend = re.search(r'<div class="jw-w-tile jw-w-tile-trend">(.*?)</div>', text, re.S)
        assert trend and "数据加载中" in trend.group(1)
    finally:
        gate.set()
    # The released query finishes in the background; the strip takes its result
    # on a later run (waited for, not timed: a busy machine may need longer).
    deadline = time.monotonic() + 60
    while True:
        at.run()
        trend = re.search(r'<div class="jw-w-tile jw-w-tile-trend">(.*)', html_text(at), re.S).group(1)
        if "警情分时走势" in trend or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "警情分时走势" in trend and "数据加载中" not in trend[:200]


# --- the clock in the browser --------------------------------------------------------------


@pytest.mark.browser
def test_the_wall_clock_runs_while_the_server_is_stopped(world_reader_url, chromium):
    """SIGSTOP the Streamlit server (the worst a slow database can do to it): the
    clock in the browser keeps running, second by second."""


    require_chromium()
    server = StreamlitServer({"DATABASE_URL": world_reader_url, "DASHBOARD_NOW": ""})
    base = server.start()
    try:
        b = Browser(chromium)
        try:
            b.page.goto(f"{base}/wall")
            b.page.wait_for_selector(".jw-w-time", timeout=60_000)
            b.settle()
            os.kill(server.proc.pid, signal.SIGSTOP)
            try:
                # Waited for, not slept: three different clock readings while the server is stopped.
                seen = b.page.wait_for_function(
                    """() => { const s = (window.__jwSeen = window.__jwSeen || new Set());
                              s.add(document.querySelector('.jw-w-time').innerText);
                              return s.size >= 3 ? [...s] : false; }""",
                    polling=250, timeout=15_000,
                ).json_value()
                assert len(seen) >= 3, f"the clock stood still while the server was stopped: {seen}"
            finally:
                os.kill(server.proc.pid, signal.SIGCONT)
        finally:
            b.close()
    finally:
        server.stop()


# --- the desk: a timed-out query blanks its own part only, and the page retries ------------


def _timeout(*a, **k):
    raise QueryTimeout("statement timeout", "查询超时：数据库繁忙或筛选范围过大，已取消本次查询。请缩小时段或稍后重试。")


@pytest.mark.parametrize(
    "page, broken, still_there",
    [
        ("pages/desk/overview.py", ("queries.overview", "period_trend"), ["今日警情", "网格警情密度"]),
        ("pages/desk/dispatch.py", ("queries.dispatch", "loop_by"), ["未办结任务", "本时段新建任务的当前状态"]),
        ("pages/desk/disputes.py", ("queries.disputes", "rates_by_place"), ["纠纷类型 × 调处级别", "回访待办"]),
        ("pages/desk/reports.py", ("queries.reports", "by_category"), ["上报总数", "最新"]),
        ("pages/desk/trends.py", ("queries.incidents", "hour_of_week"), ["分类警情走势", "同比 · 环比"]),
        ("pages/desk/grid.py", ("queries.grid_profile", "grid_ranking"), []),
    ],
)
@pytest.mark.backend
def test_a_timed_out_query_blanks_its_own_part_and_the_page_retries(app_env, monkeypatch, page, broken, still_there):
    frame._cached_live.clear()
    frame._cached_history.clear()
    mod = importlib.import_module(broken[0])
    real = getattr(mod, broken[1])
    monkeypatch.setattr(mod, broken[1], _timeout)
    at = open_page(page)
    assert not at.exception
    assert any("查询超时" in e.value for e in at.error), [e.value for e in at.error]
    text = html_text(at)
    for part in still_there:
        assert part in text, f"{part} went missing with the timed-out part"
    assert any("自动重试" in c.value for c in at.caption)
    ss = at.session_state
    assert ss["_jw_once_later"] == ss["_jw_run_at"]  # recovery.retry_later is on the page
    # the database answers again: the rerun the page asked for draws everything
    monkeypatch.setattr(mod, broken[1], real)
    at.run()
    assert not at.exception and not any("查询超时" in e.value for e in at.error)


def test_retry_later_reruns_only_after_its_interval():
    t = 1000.0
    assert not recovery.retry_due(t, t)
    assert not recovery.retry_due(t, t + recovery.RETRY_SLOW_S - 1)
    assert recovery.retry_due(t, t + recovery.RETRY_SLOW_S)


@pytest.mark.browser
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="a real lock on a PostgreSQL table")
@pytest.mark.backend
def test_desk_page_opened_during_a_slow_query_recovers_by_itself(world_url, world_reader_url, chromium):
    """PostgreSQL: another session holds a lock on ``tasks``, so the overview's
    KPI query runs into its time limit (查询超时) while the map and the trend
    draw; the lock goes, and the KPIs appear without a reload."""


    require_chromium()
    u = make_url(world_url)
    env = {"DATABASE_URL": world_reader_url, "DASHBOARD_NOW": FIXTURE_END.isoformat(), "DASHBOARD_QUERY_TIMEOUT": "2"}
    if a := audit_url(world_reader_url):
        env["DASHBOARD_AUDIT_URL"] = a
    locker = psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, dbname=u.database)
    with streamlit_server(env) as base:
        b = Browser(chromium)
        try:
            locker.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
            b.page.goto(f"{base}/overview?community=WLT-C02")
            b.page.get_by_text("查询超时").first.wait_for(timeout=60_000)
            b.page.wait_for_selector("canvas", timeout=60_000)  # the map drew anyway
            assert b.page.locator(".jw-kpi").count() == 0
            b.screenshot("desk-slow-query")
            locker.rollback()  # the lock goes
            b.page.wait_for_selector(".jw-kpi", timeout=40_000)  # RETRY_SLOW_S and a query later
            # the tiles draw mid-run; the last run's message goes when that run ends (Streamlit
            # clears stale elements then): under load that can be a moment after the tiles
            b.page.get_by_text("查询超时").first.wait_for(state="detached", timeout=30_000)
            assert b.page.get_by_text("查询超时").count() == 0
            assert b.page.locator('[data-testid="stException"]').count() == 0
        finally:
            locker.close()
            b.close()

"""Outages without a browser, on the session's backend.

Engine level: the SQLite reader notices a file made unreadable (and moved
away), fails cleanly, and reads the file again once it is back, or the new
file generated over it; the PostgreSQL reader fails fast through a cut proxy
and recovers once it is restored, and a hung network (the proxy keeps the
sockets but forwards nothing) ends in an error instead of blocking for ever.
AppTest: a wall opened during an outage shows a red wall-styled message (no
traceback, no button), a wall that showed data keeps it through a full rerun
during an outage, a desk page says it retries (whether the frame's check or
the page's own queries found the outage); all come up once the database is
back. (The fragments that retry on their own are exercised in a browser:
tests/test_outage_browser.py.)
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dashboard.config import load_settings
from dashboard.db.database import WATCHDOG, DatabaseUnavailable, last_failure, make_reader, make_writer, reachable, sqlite_file_id
from dashboard.ui import frame
from dashboard.ui.frame import RETRY_EVERY_S
from queries._common import fetch_scalar
from tests.apptest import html_text, open_page
from tests.conftest import FIXTURE_END, backend_name
from tests.outage import Outage
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.backend

WALL = "pages/wall/wall.py"
STALE = re.compile(r"数据更新于 \d\d:\d\d:\d\d，已中断 (?:<span[^>]*>)?\d+(?:</span>)? 秒")
pg_only = pytest.mark.skipif(backend_name() != "postgresql", reason="PostgreSQL through a TCP proxy")


def bounded(fn, seconds: float = 30):
    """Run ``fn()`` in a thread: its result, or the exception it raised. Fails the
    test if it has not returned after ``seconds``: "it does not hang"."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - the caller re-raises it in the test thread
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still blocked after {seconds} s"
    return out.get("error", out.get("value"))


# --- SQLite: the checkout check ----------------------------------------------------------


def _sqlite_db(path: Path, rows: int) -> None:
    w = make_writer(f"sqlite:///{path}")
    with w.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        for i in range(rows):
            c.execute(text("INSERT INTO t VALUES (:i)"), {"i": i})
    w.dispose()


def test_sqlite_file_id_follows_the_path(tmp_path):
    p = tmp_path / "a.sqlite"
    _sqlite_db(p, 1)
    first = sqlite_file_id(p)
    assert first is not None and sqlite_file_id(p) == first
    os.rename(p, tmp_path / "b.sqlite")
    assert sqlite_file_id(p) is None
    _sqlite_db(p, 1)  # a new file at the same path
    assert sqlite_file_id(p) not in (None, first)


def test_sqlite_reader_notices_an_unreadable_file_and_recovers(tmp_path):
    path = tmp_path / "db.sqlite"
    _sqlite_db(path, 1)
    eng = make_reader(load_settings({"DATABASE_URL": f"sqlite:///{path}"}))
    count = text("SELECT count(*) FROM t")
    assert fetch_scalar(eng, count) == 1 and last_failure(eng) is None  # a pooled connection is open now
    # Made unreadable: chmod 000 stops a non-root reader, but CI runs as root and
    # root reads through it, so the file is moved away as well. The pooled
    # connection would go on reading the moved file (its inode) unnoticed.
    os.chmod(path, 0)
    os.rename(path, tmp_path / "away.sqlite")
    try:
        for _ in range(2):  # and stays failed, cleanly
            with pytest.raises(DatabaseUnavailable):
                fetch_scalar(eng, count)
        assert last_failure(eng) is not None and not reachable(eng)
    finally:
        os.rename(tmp_path / "away.sqlite", path)
        os.chmod(path, 0o644)
    assert fetch_scalar(eng, count) == 1 and reachable(eng)
    # A new database written over the path (a new demo) is picked up.
    _sqlite_db(tmp_path / "new.sqlite", 3)
    os.replace(tmp_path / "new.sqlite", path)
    assert fetch_scalar(eng, count) == 3
    eng.dispose()


# --- PostgreSQL through a proxy ----------------------------------------------------------


def _proxied(url: str, proxy: TcpProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@pg_only
def test_pg_reader_fails_fast_through_a_cut_proxy_and_recovers(world_reader_url):
    with TcpProxy(make_url(world_reader_url).port or 5432) as proxy:
        eng = make_reader(load_settings({"DATABASE_URL": _proxied(world_reader_url, proxy)}))
        one = text("SELECT count(*) FROM stations")
        assert fetch_scalar(eng, one) == 1 and proxy.live == 1
        proxy.cut()
        for _ in range(2):
            err = bounded(lambda: fetch_scalar(eng, one))
            assert isinstance(err, DatabaseUnavailable), err
        assert last_failure(eng) is not None and not reachable(eng)
        assert proxy.refused >= 2  # it tried to reconnect, and was refused
        proxy.restore()
        assert fetch_scalar(eng, one) == 1
        assert proxy.accepted >= 2  # through a new connection
        eng.dispose()


@pg_only
def test_pg_reader_does_not_hang_on_a_silent_network(world_reader_url):
    """The proxy keeps the sockets but forwards nothing: statement_timeout cannot
    fire (the server never sees the statement) and the kernel sees its packets
    acknowledged; the watchdog shuts the socket after the deadline."""
    with TcpProxy(make_url(world_reader_url).port or 5432) as proxy:
        env = {"DATABASE_URL": _proxied(world_reader_url, proxy), "DASHBOARD_QUERY_TIMEOUT": "1", "DASHBOARD_CONNECT_TIMEOUT": "1"}
        eng = make_reader(load_settings(env))
        assert fetch_scalar(eng, text("SELECT 1")) == 1
        fired = WATCHDOG.fired
        try:
            # an idle pooled connection: the checkout's ping hangs
            proxy.hang()
            err = bounded(lambda: fetch_scalar(eng, text("SELECT 2")))
            assert isinstance(err, DatabaseUnavailable), err
            proxy.restore()
            assert fetch_scalar(eng, text("SELECT 3")) == 3
            # a statement under way when the network goes silent
            timer = threading.Timer(0.3, proxy.hang)
            timer.start()
            err = bounded(lambda: fetch_scalar(eng, text("SELECT 4 FROM pg_sleep(0.6)")))
            timer.join()
            assert isinstance(err, DatabaseUnavailable), err
            assert WATCHDOG.fired >= fired + 2
        finally:
            proxy.restore()
        assert fetch_scalar(eng, text("SELECT 5")) == 5
        eng.dispose()


# --- pages (AppTest) -------------------------------------------------------------------------


@pytest.fixture
def outage(world_reader_url, monkeypatch):
    """The session's world behind an Outage; the app (AppTest) reads through it."""
    with Outage(world_reader_url) as o:
        monkeypatch.setenv("DATABASE_URL", o.url)
        monkeypatch.setenv("DASHBOARD_NOW", FIXTURE_END.isoformat())
        frame._health.clear()  # another test's healthy verdict (kept 10 s) must not hide the outage
        yield o


def _feed_ids(text_: str) -> list[str]:
    return re.findall(r'data-report-id="(\d+)"', re.search(r'<ul class="jw-w-feed[^>]*>.*?</ul>', text_, re.S).group(0))


def test_wall_opened_during_an_outage_shows_a_red_message(outage):
    outage.cut()
    at = open_page(WALL, {"community": "WLT-C02"})
    assert not at.exception, at.exception
    page = html_text(at)
    assert 'class="jw-w-down"' in page and "数据源中断" in page
    assert re.search(r"\d\d:\d\d:\d\d 起无法取得数据，已中断 (?:<span[^>]*>)?\d+(?:</span>)? 秒", page)
    assert f"每 {RETRY_EVERY_S} 秒自动重试" in page
    assert "jw-w-kpis" not in page and "Traceback" not in page
    assert not at.button and not at.error  # nothing to click, no desk-style box on the wall
    outage.restore()
    at.run()
    page = html_text(at)
    assert not at.exception and "jw-w-down" not in page
    assert "jw-w-kpis" in page and "东湖社区" in page


def test_a_wall_that_showed_data_keeps_it_through_a_full_rerun(outage):
    at = open_page(WALL, {})
    ids = _feed_ids(html_text(at))
    outage.cut()
    at.run()  # a full rerun (e.g. a reconnecting browser) while the database is down
    assert not at.exception, at.exception
    page = html_text(at)
    assert "jw-w-down" not in page and "jw-w-kpis" in page
    assert STALE.search(page) and _feed_ids(page) == ids
    outage.restore()
    at.run()
    page = html_text(at)
    assert not STALE.search(page) and _feed_ids(page) == ids


def test_desk_page_opened_during_an_outage_says_it_retries(outage):
    outage.cut()
    at = open_page("pages/desk/overview.py", {})
    assert not at.exception, at.exception
    assert at.error and "数据库" in at.error[0].value
    assert f"页面每 {RETRY_EVERY_S} 秒自动重试" in html_text(at)
    outage.restore()
    at.run()
    assert not at.exception and not at.error
    assert "jw-kpi" in html_text(at)


def test_desk_page_whose_queries_lose_the_database_says_it_retries(outage):
    at = open_page("pages/desk/overview.py", {})
    assert not at.error
    outage.cut()
    frame._cached_live.clear()  # the page's figures, not their cached copies
    frame._cached_history.clear()
    at.run()  # the frame's health check is cached (10 s): the page's own queries fail
    assert not at.exception, at.exception
    assert at.error and "数据库无法连接" in at.error[0].value and "页面将自动重试" in at.error[0].value
    outage.restore()
    at.run()
    assert not at.exception and not at.error

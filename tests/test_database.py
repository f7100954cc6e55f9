"""Database behaviour: WAL, read-only reader, time limits, and clear messages for an
unreachable, empty or outdated database (nothing written)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from dashboard.config import load_settings
from dashboard.db import database
from dashboard.db.database import DatabaseCorrupt, DatabaseEmpty, DatabaseUnavailable, QueryTimeout, SchemaOutdated, make_reader, make_writer
from dashboard.db.health import check_database
from dashboard.db.migrate import upgrade
from queries._common import fetch_scalar
from tests.browser import ROOT
from tests.conftest import backend_name, reader_url

pytestmark = pytest.mark.backend


def reader(url: str, timeout: float = 8):
    s = load_settings({"DATABASE_URL": url, "DASHBOARD_QUERY_TIMEOUT": str(timeout)})
    return make_reader(s), s


def test_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    path = tmp_path / "gone.sqlite"
    eng, s = reader(f"sqlite:///{path}")
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, DatabaseEmpty)
    assert "python -m dashboard.demo" in h.error.en and "演示数据" in h.error.zh
    assert not path.exists()


def test_empty_database(scratch):
    url = scratch.new("empty")
    with make_writer(url).connect():  # an existing database without tables
        pass
    eng, s = reader(reader_url(url))
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, DatabaseEmpty)
    assert "数据库为空" in h.error.zh


def test_schema_without_data(scratch):
    url = scratch.new("nodata")
    upgrade(make_writer(url))
    eng, s = reader(reader_url(url))
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, DatabaseEmpty) and h.revision is not None


def test_old_schema_version(scratch):
    url = scratch.new("old")
    w = make_writer(url)
    upgrade(w)
    with w.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    eng, s = reader(reader_url(url))
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, SchemaOutdated)
    assert "0000" in h.error.zh and "python -m dashboard.migrate" in h.error.en


def test_unreachable_postgres_fails_with_a_message():
    """How fast it fails is bench/timeouts.py's figure."""
    eng, s = reader("postgresql+psycopg://postgres@127.0.0.1:5999/nowhere")
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, DatabaseUnavailable)
    assert "数据库无法连接" in h.error.zh and "127.0.0.1:5999" in h.error.en


def test_reader_cannot_write(scratch):
    url = scratch.new("ro")
    upgrade(make_writer(url))
    eng, _ = reader(reader_url(url))
    with pytest.raises(Exception):
        with eng.begin() as c:
            c.execute(text("INSERT INTO departments (id, name, kind) VALUES (1, 'x', 'y')"))


@pytest.mark.skipif(backend_name() != "sqlite", reason="SQLite journal mode")
def test_sqlite_writer_uses_wal(scratch):
    url = scratch.new("wal")
    w = make_writer(url)
    upgrade(w)
    with w.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_slow_query_times_out_with_a_clear_message(scratch):
    """The time limit cuts a query that would run far longer (seconds on either
    backend); how soon after the limit is bench/timeouts.py's figure."""
    url = scratch.new("slow")
    upgrade(make_writer(url))
    eng, _ = reader(reader_url(url), timeout=0.3)
    if backend_name() == "sqlite":
        slow = text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c")
    else:
        slow = text("SELECT pg_sleep(3)")
    with pytest.raises(QueryTimeout) as exc:
        fetch_scalar(eng, slow)
    assert "查询超时" in exc.value.zh
    # the connection is usable again afterwards
    assert fetch_scalar(eng, text("SELECT 1")) == 1


def test_reader_survives_many_threads(world_url):
    """Threads that come and go, all querying one reader (Streamlit runs every
    rerun in a thread of its own): no error, no crash. In a child process, so
    a segmentation fault (SQLite under SingletonThreadPool) fails this test
    instead of ending the suite."""


    out = subprocess.run(
        [sys.executable, "-m", "tests.hammer", world_url, "3", "16"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, f"reader failed under threads (exit {out.returncode}): {out.stdout[-2000:]}{out.stderr[-2000:]}"
    assert "errors=0" in out.stdout


def test_reader_pool_is_a_queue_pool(world):
    """The pool that hands a connection to one thread at a time, on both backends."""
    assert isinstance(world.pool, QueuePool)


@pytest.mark.skipif(backend_name() != "sqlite", reason="an SQLite file")
def test_a_corrupted_file_is_reported_as_damaged_not_unreachable(tmp_path):
    # Garbage of its own, not a copy of the session's world: reading that file
    # with a plain open() and closing it would drop this process's POSIX locks
    # on it (SQLite's documented hazard), and another process could then
    # delete the -shm file under the session's open connections.
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00garbage" * 4096)
    eng, s = reader(f"sqlite:///{path}")
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, DatabaseCorrupt), h.error
    assert "损坏" in h.error.zh and "备份" in h.error.zh


def test_database_errors_are_logged_once_a_minute(caplog, monkeypatch):
    """Every data-source error reaches the server log; during an outage the same
    message from every tile is logged once per minute, with its repeat count."""

    monkeypatch.setattr(database, "_logged", {})
    eng, _ = reader("postgresql+psycopg://postgres@127.0.0.1:5999/nowhere")
    with caplog.at_level(logging.WARNING, logger="jwrh.database"):
        for _ in range(3):
            with pytest.raises(DatabaseUnavailable):
                fetch_scalar(eng, text("SELECT 1"))
    lines = [r for r in caplog.records if r.name == "jwrh.database"]
    assert len(lines) == 1 and "5999" in lines[0].getMessage()
    key = next(iter(database._logged))
    t, n = database._logged[key]
    assert n == 2
    database._logged[key] = (t - database.LOG_REPEAT_S - 1, n)  # a minute later
    with caplog.at_level(logging.WARNING, logger="jwrh.database"):
        with pytest.raises(DatabaseUnavailable):
            fetch_scalar(eng, text("SELECT 1"))
    lines = [r for r in caplog.records if r.name == "jwrh.database"]
    assert len(lines) == 2 and "repeated 2 times" in lines[1].getMessage()

"""Read-only, enforced by the database itself (issue: a session default that one
``SET`` undoes is not read-only).

SQLite: the reader opens the file ``mode=ro`` with ``query_only`` and an
authorizer that allows reading only, so ATTACH (which opens or creates a
second, writable file) and VACUUM INTO (which writes a copy anywhere) are
refused as well as every write. PostgreSQL: ``python -m dashboard.roles``
makes a reader role with SELECT only, and the dashboard refuses to run its
reader as a role that can write (a superuser, say) unless told so.
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dashboard.config import load_settings
from dashboard.db import roles
from dashboard.db.database import ReaderCanWrite, WriteRefused, make_reader, make_writer
from dashboard.db.health import check_database
from queries._common import fetch_df, fetch_scalar
from tests.browser import ROOT
from tests.conftest import backend_name, reader_url

pytestmark = pytest.mark.backend

sqlite_only = pytest.mark.skipif(backend_name() != "sqlite", reason="SQLite reader")
pg_only = pytest.mark.skipif(backend_name() != "postgresql", reason="PostgreSQL roles")


def _reader(url: str, **env: str):
    s = load_settings({"DATABASE_URL": url, **env})
    return make_reader(s), s


@sqlite_only
@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO departments (id, name, kind) VALUES (999, 'x', 'y')",
        "UPDATE stations SET name = 'x'",
        "DELETE FROM reports",
        "CREATE TEMP TABLE t (x)",
        "PRAGMA query_only = 0",
        "PRAGMA writable_schema = 1",
        "DROP TABLE reports",
    ],
)
def test_sqlite_reader_refuses_every_write(world_url, statement):
    eng, _ = _reader(world_url)
    with pytest.raises(WriteRefused) as err:
        fetch_scalar(eng, text(statement))
    assert "只读" in err.value.zh
    assert fetch_scalar(eng, text("SELECT count(*) FROM stations")) >= 1  # and reads on


@sqlite_only
@pytest.mark.parametrize("statement", ["ATTACH DATABASE '{p}' AS evil", "VACUUM INTO '{p}'"])
def test_sqlite_reader_writes_no_file_anywhere(world_url, tmp_path, statement):
    """On a plain mode=ro connection both of these create a file (checked on main before the fix)."""
    target = tmp_path / "evil.sqlite"
    eng, _ = _reader(world_url)
    with pytest.raises(WriteRefused):
        fetch_scalar(eng, text(statement.format(p=target)))
    assert not target.exists()


@sqlite_only
def test_sqlite_reader_still_inspects_and_checks_health(world_url):
    eng, s = _reader(world_url)
    assert check_database(eng, s).ok  # the inspector's pragmas are allowed
    assert len(fetch_df(eng, text("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT n FROM c"))) == 5


@pg_only
def test_pg_superuser_reader_is_refused_unless_allowed(world_url):
    assert make_url(world_url).username == "postgres"  # the suite's own admin account
    eng, s = _reader(world_url)
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, ReaderCanWrite)
    assert "superuser" in h.error.en and "权限过大" in h.error.zh
    eng, s = _reader(world_url, DASHBOARD_ALLOW_WRITABLE_READER="1")
    assert check_database(eng, s).ok


@pg_only
def test_pg_writer_role_is_refused_as_reader(world_url):
    url = make_url(reader_url(world_url)).set(username="jwrh_writer").render_as_string(hide_password=False)
    eng, s = _reader(url)
    h = check_database(eng, s)
    assert not h.ok and isinstance(h.error, ReaderCanWrite) and "may write tables" in h.error.en


@pg_only
def test_pg_reader_role_reads_and_passes_the_check(world_reader_url):
    eng, s = _reader(world_reader_url)
    assert check_database(eng, s).ok
    assert fetch_scalar(eng, text("SELECT count(*) FROM reports")) > 0


@pg_only
@pytest.mark.parametrize(
    "statements",
    [
        # the session default undone, then a write: the grant still says no
        ["SET default_transaction_read_only = off", "SET transaction_read_only = off", "INSERT INTO departments (id, name, kind) VALUES (999, 'x', 'y')"],
        ["SET default_transaction_read_only = off", "SET transaction_read_only = off", "UPDATE stations SET name = 'x'"],
        ["SET default_transaction_read_only = off", "SET transaction_read_only = off", "DELETE FROM task_events"],
        ["SET default_transaction_read_only = off", "SET transaction_read_only = off", "CREATE TABLE evil (x int)"],
        # a file on the database host
        ["COPY (SELECT 1) TO '/tmp/jwrh-evil.txt'"],
        ["SET ROLE postgres"],
    ],
    ids=["insert", "update", "delete", "create", "copy-to-file", "set-role"],
)
def test_pg_reader_role_cannot_write_even_after_set(world_reader_url, statements):
    u = make_url(world_reader_url)
    with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            for st in statements:
                conn.execute(st)


@pg_only
def test_pg_writer_role_writes_data_but_not_accounts_or_audit(world_url):
    u = make_url(reader_url(world_url))
    with psycopg.connect(host=u.host, port=u.port or 5432, user="jwrh_writer", dbname=u.database) as conn:
        conn.execute("UPDATE stations SET name = name")  # a data table: allowed
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE alembic_version SET version_num = version_num")


@pg_only
def test_roles_check_command(world_url):
    def check(url: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dashboard.roles", "--check"], cwd=ROOT, env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url},
            capture_output=True, text=True, timeout=60,
        )

    ok = check(reader_url(world_url))
    assert ok.returncode == 0 and "can only read" in ok.stdout
    bad = check(world_url)
    assert bad.returncode == 1 and "superuser" in bad.stdout


@pg_only
def test_roles_refuses_an_unsafe_name(world_url):
    with pytest.raises(ValueError):
        roles.RoleNames(reader='x"; DROP TABLE reports; --')
    engine = make_writer(world_url)
    with pytest.raises(ValueError):
        roles.apply(engine, roles.RoleNames(reader="Robert'); --"))
    engine.dispose()

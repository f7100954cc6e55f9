"""Engines, and errors that say what is wrong (the health check is ``dashboard.db.health``).

Two kinds of engine:

* the **reader** used by the dashboard: every statement has a time limit
  (``statement_timeout`` on PostgreSQL, a progress handler on SQLite), an
  SQLite file is opened read-only (``mode=ro``: a plain connect to a moved
  file would silently create an empty database), PostgreSQL connects with a
  short ``connect_timeout`` so an unreachable host cannot block a tile;
  both recover by themselves when the database comes back (see "outages");
* the **writer** used by migrations, the demo generator and the simulator.

SQLite runs in WAL mode with a busy timeout because other systems write to the
same database while the dashboard reads.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    DisconnectionError,
    InvalidatePoolError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from dashboard.config import Settings, load_settings
from dashboard.timeutil import SQLITE_LOCAL_FUNCTION, sqlite_local_text, utcnow

SQLITE_BUSY_TIMEOUT_MS = 5000
# The reader's pool: every live tile of every session checks out a connection
# for one query at a time, so a few are enough for many screens; a checkout
# that waits longer than the query time limit is reported as a timeout.
READER_POOL_SIZE = 8
READER_POOL_OVERFLOW = 8


# --- errors -----------------------------------------------------------------


class DataError(Exception):
    """A problem with the data source, with a message for the screen (zh) and the log (en)."""

    zh: str = "数据暂不可用"

    def __init__(self, en: str, zh: str | None = None):
        super().__init__(en)
        self.en = en
        if zh is not None:
            self.zh = zh


class DatabaseUnavailable(DataError):
    zh = "数据库无法连接"


class DatabaseEmpty(DataError):
    zh = "数据库为空"


class SchemaOutdated(DataError):
    zh = "数据库结构版本过旧"


class QueryTimeout(DataError):
    zh = "查询超时"


class DatabaseCorrupt(DataError):
    zh = "数据库文件已损坏"


class WriteRefused(DataError):
    """The database refused a write on the reader: never expected (the dashboard
    only reads), so a bug or an attack; logged."""

    zh = "只读连接拒绝了写操作"


class ReaderCanWrite(DataError):
    """The reader's database account could change data: the dashboard refuses it."""

    zh = "数据库账号权限过大"


class DatabaseVanished(DataError):
    """The embedded SQLite file that this dashboard has read is gone or empty
    now (a backup or restore gone wrong): an outage, never a first run."""

    zh = "数据库文件已不存在"


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


LOG = logging.getLogger("jwrh.database")
# A library's logger: silent unless the server configures "jwrh" (config.configure_logging),
# so the command-line tools print their one line of error, not a log record too.
logging.getLogger("jwrh").addHandler(logging.NullHandler())
LOG_REPEAT_S = 60.0  # the same error is logged at most once a minute (with the number of repeats)
_logged: dict[str, tuple[float, int]] = {}
_logged_lock = threading.Lock()


def log_error(err: DataError) -> None:
    """Log a data-source error on the server. During an outage every tile of
    every session fails every few seconds: each distinct message is logged once
    per LOG_REPEAT_S, then with the count of repeats since (the table is bounded)."""
    now = time.monotonic()
    key = f"{type(err).__name__}: {err.en}"
    with _logged_lock:
        last, repeats = _logged.get(key, (None, 0))
        if last is not None and now - last < LOG_REPEAT_S:
            _logged[key] = (last, repeats + 1)
            return
        if len(_logged) > 256:
            _logged.clear()
        _logged[key] = (now, 0)
    LOG.warning("%s%s", key, f" (repeated {repeats} times in the last minute)" if repeats else "")


def translate_error(exc: BaseException, url: str | None = None) -> DataError:
    """Turn a driver or SQLAlchemy error into a DataError with plain messages
    (and log it on the server: ``log_error``)."""
    if isinstance(exc, DataError):
        return exc
    err = _translate(exc, url)
    log_error(err)
    return err


def _translate(exc: BaseException, url: str | None) -> DataError:
    where = f" ({describe_url(url)})" if url else ""
    msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    low = msg.lower()
    if isinstance(exc, PoolTimeout):
        return QueryTimeout(
            f"every connection of the reader's pool was busy{where}: {msg}",
            "查询超时：数据库繁忙，连接全部占用，已取消本次查询。页面将自动重试。",
        )
    if "statement timeout" in low or "interrupted" in low or "querycanceled" in type(getattr(exc, "orig", exc)).__name__.lower():
        return QueryTimeout(
            f"query took too long and was cancelled{where}: {msg}",
            "查询超时：数据库繁忙或筛选范围过大，已取消本次查询。请缩小时段或稍后重试。",
        )
    if "file is not a database" in low or "malformed" in low or "database corruption" in low:
        return DatabaseCorrupt(
            f"the database file{where} is damaged: {msg}",
            "数据库文件已损坏：无法读取。请管理员从备份恢复数据库文件，恢复后页面将自动显示。",
        )
    if "not authorized" in low or "authorization denied" in low or "read-only transaction" in low or "attempt to write a readonly" in low:
        return WriteRefused(
            f"the read-only reader{where} was refused a statement: {msg}",
            "只读连接拒绝了一次写操作（已记入服务器日志）：看板只读取数据。",
        )
    if "no such table" in low or "does not exist" in low and "relation" in low:
        return SchemaOutdated(
            f"database{where} lacks a table the dashboard needs: {msg}; run `python -m dashboard.migrate`",
            "数据库缺少所需的数据表：请先执行数据库迁移（python -m dashboard.migrate）。",
        )
    return DatabaseUnavailable(
        f"cannot reach the database{where}: {msg}",
        "数据库无法连接：正在等待恢复，页面将自动重试。请检查数据库服务或 DATABASE_URL 设置。",
    )


# --- engines ----------------------------------------------------------------


def sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


# --- the embedded file's history ---------------------------------------------
#
# The first-run demo is written only on a path that never held a database.
# Once the dashboard has read a database at the embedded path it leaves a
# marker beside it (PATH.held), and the process remembers it too (in case the
# folder is read-only): a file that disappears or turns up empty there later
# is an outage (DatabaseVanished), not a first run, until someone deletes the
# marker or asks for a new demo explicitly.

_HELD: set[Path] = set()
_HELD_LOCK = threading.Lock()


def held_marker(path: Path) -> Path:
    return path.with_name(path.name + ".held")


def mark_held(url: str) -> None:
    """Remember (in the process and beside the file) that ``url`` held a database."""
    path = sqlite_file(url)
    if path is None:
        return
    path = path.resolve()
    with _HELD_LOCK:
        if path in _HELD:
            return
        _HELD.add(path)
    marker = held_marker(path)
    if not marker.exists():
        try:
            marker.write_text(
                f"{utcnow().isoformat()}Z: the dashboard read a database at {path.name}.\n"
                "While this file exists the dashboard treats a missing or empty database here as an outage\n"
                "and never writes a new demo world over it. Delete this file to allow a new first-run demo.\n",
                encoding="utf-8",
            )
        except OSError:
            pass  # a read-only folder: the process still remembers


def was_held(url: str) -> bool:
    path = sqlite_file(url)
    if path is None:
        return False
    path = path.resolve()
    return path in _HELD or held_marker(path).exists()


def forget_held(url: str) -> None:
    """An explicit request for a new demo at ``url``: drop the marker."""
    path = sqlite_file(url)
    if path is None:
        return
    path = path.resolve()
    with _HELD_LOCK:
        _HELD.discard(path)
    held_marker(path).unlink(missing_ok=True)


def vanished(url: str, error: DataError | None) -> DataError | None:
    """``error`` as the reader should report it: an empty or missing database at
    a path that held one is DatabaseVanished."""
    if isinstance(error, DatabaseEmpty) and was_held(url):
        path = sqlite_file(url)
        return DatabaseVanished(
            f"the database at {path} that this dashboard read before is missing or empty now ({error}); "
            f"restore the file, or delete {held_marker(path) if path else 'the .held marker'} to allow a new demo",
            "数据库文件已不存在或已被清空（此前在此位置读到过数据库）：可能是备份或恢复出错。"
            "请管理员恢复数据库文件；看板不会在此位置自动生成新的演示数据。",
        )
    return error


# What a reader connection may do on SQLite. ``mode=ro`` alone is not enough:
# ``ATTACH 'file'`` opens (and creates) a second, writable database and
# ``VACUUM INTO 'file'`` writes a copy anywhere the server may write, both on
# a read-only connection. The authorizer allows reading and nothing else.
_SQLITE_READ_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
    sqlite3.SQLITE_TRANSACTION,  # BEGIN/COMMIT around reads
}
# Introspection pragmas SQLAlchemy's inspector uses: their argument is a
# table or index name, they never change anything.
_SQLITE_INSPECT_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"}


def sqlite_read_only_authorizer(action: int, arg1, arg2, db, trigger) -> int:
    """``sqlite3.Connection.set_authorizer`` callback: reads only, in ``main``."""
    if action == sqlite3.SQLITE_READ:
        return sqlite3.SQLITE_OK if db in ("main", None) else sqlite3.SQLITE_DENY
    if action in _SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = str(arg1).lower()
        if name in _SQLITE_INSPECT_PRAGMAS or (name in ("query_only", "read_uncommitted") and arg2 is None):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _install_sqlite_pragmas(engine: Engine, *, timeout_s: float | None, wal: bool, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):
        # Local time in a zone with daylight saving (queries._sql); deterministic, so
        # SQLite may use it in indexes and fold repeated calls.
        dbapi_conn.create_function(SQLITE_LOCAL_FUNCTION, 2, sqlite_local_text, deterministic=True)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        if read_only:
            cur.execute("PRAGMA query_only = ON")
        cur.close()
        if read_only:  # last: the pragmas above are set by us, before it
            dbapi_conn.set_authorizer(sqlite_read_only_authorizer)
        if timeout_s is not None:
            state = {"deadline": None}
            record.info["query_deadline"] = state

            def _progress() -> int:
                d = state["deadline"]
                return 1 if d is not None and time.monotonic() > d else 0

            dbapi_conn.set_progress_handler(_progress, 20000)

    if timeout_s is not None:

        @event.listens_for(engine, "before_cursor_execute")
        def _arm(conn, cursor, statement, parameters, context, executemany):
            state = conn.info.get("query_deadline")
            if state is not None:
                state["deadline"] = time.monotonic() + timeout_s


# --- outages ----------------------------------------------------------------
#
# PostgreSQL: every checkout pings the pooled connection first (as
# ``pool_pre_ping`` would), so one cut by a restart or a network failure is
# replaced, or the checkout fails fast with ``connect_timeout``: a DataError,
# the tile's red banner. The next checkout after the server is back succeeds.
# A network that swallows packets is worse: the server never sees the
# statement, so ``statement_timeout`` cannot fire, and the session's script
# thread (every tile of a wall) would wait for ever. TCP keepalives and
# ``tcp_user_timeout`` catch a peer that vanished (host down, cable cut) when
# the kernel sees no acknowledgements; a middlebox that acknowledges but
# forwards nothing is caught by ``Watchdog``, which shuts the socket of a
# ping or statement that outlived its deadline, so the driver fails at once
# with "server closed the connection" and the pool reconnects.
#
# SQLite: an open connection keeps reading the file (inode) it opened, even
# after that file was moved away, deleted, made unreadable or replaced, and a
# ping on it succeeds. So each connection remembers the (device, inode) of the
# file it opened, and every checkout compares it with what the path names now;
# a difference raises DisconnectionError, the pool reconnects, and the new
# connection either fails cleanly (file gone or unreadable: DataError) or
# reads the file now at the path (restored, or a new demo generated over it).
# The check is one stat() and one access() per checkout (see bench/outage.py).

PG_KEEPALIVE_ARGS = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3}
WATCHDOG_GRACE_S = 2.0  # a statement's client-side deadline is the server's statement_timeout plus this


class Watchdog:
    """One daemon thread that shuts the socket of a DB-API connection whose
    ping or statement has outlived its deadline (see "outages" above)."""

    TICK_S = 0.25

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, weakref.ref]] = {}
        self._thread: threading.Thread | None = None
        self.fired = 0  # sockets shut, ever (for tests and logs)

    def arm(self, dbapi_conn, seconds: float) -> None:
        with self._lock:
            self._armed[id(dbapi_conn)] = (time.monotonic() + seconds, weakref.ref(dbapi_conn))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="jwrh-db-watchdog", daemon=True)
                self._thread.start()

    def disarm(self, dbapi_conn) -> None:
        with self._lock:
            self._armed.pop(id(dbapi_conn), None)

    @contextmanager
    def armed(self, dbapi_conn, seconds: float):
        self.arm(dbapi_conn, seconds)
        try:
            yield
        finally:
            self.disarm(dbapi_conn)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            now = time.monotonic()
            with self._lock:  # disarm() waits: a finished statement's socket is never shut
                for key, (deadline, ref) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[key]
                        conn = ref()
                        if conn is not None and _shut_socket(conn):
                            self.fired += 1


def _shut_socket(dbapi_conn) -> bool:
    """Shut down the connection's socket: a thread blocked on it wakes with EOF."""
    try:
        fd = dbapi_conn.fileno()
        dup = socket.socket(fileno=os.dup(fd))
    except Exception:  # noqa: BLE001 - already closed: nothing to wake
        return False
    try:
        dup.shutdown(socket.SHUT_RDWR)
        return True
    except OSError:
        return False
    finally:
        dup.close()


WATCHDOG = Watchdog()


def _install_pg_guards(engine: Engine, *, statement_s: float, ping_s: float, watchdog: Watchdog = WATCHDOG) -> None:
    """Ping on checkout and bound every ping, statement and reset by ``watchdog``."""
    fresh = "jw_fresh"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):
        record.info[fresh] = True  # just connected: no need to ping

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, proxy):
        if record.info.pop(fresh, False):
            return
        try:
            with watchdog.armed(dbapi_conn, ping_s):
                cur = dbapi_conn.cursor()
                try:
                    cur.execute(";")  # what SQLAlchemy's pre-ping sends on psycopg
                finally:
                    cur.close()
        except Exception as exc:
            raise InvalidatePoolError(f"ping failed: {exc}") from exc

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(conn, cursor, statement, parameters, context, executemany):
        watchdog.arm(conn.connection.dbapi_connection, statement_s)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(conn, cursor, statement, parameters, context, executemany):
        watchdog.disarm(conn.connection.dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def _disarm_on_error(ctx):
        if ctx.connection is not None and ctx.connection.connection.dbapi_connection is not None:
            watchdog.disarm(ctx.connection.connection.dbapi_connection)

    @event.listens_for(engine, "reset")
    def _arm_reset(dbapi_conn, record, reset_state):
        watchdog.arm(dbapi_conn, ping_s)  # the rollback on return to the pool

    @event.listens_for(engine, "checkin")
    def _disarm_reset(dbapi_conn, record):
        if dbapi_conn is not None:
            watchdog.disarm(dbapi_conn)


def sqlite_file_id(path: Path | str) -> tuple[int, int] | None:
    """(device, inode) of the readable file at ``path``; None when it is gone or unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.access(path, os.R_OK):
        return None
    return (st.st_dev, st.st_ino)


class _SqliteFileConnection(sqlite3.Connection):
    """An sqlite3 connection that knows which file it opened (``sqlite_file_id``)."""

    file_id: tuple[int, int] | None = None


def _install_sqlite_file_check(engine: Engine, path: Path) -> None:
    @event.listens_for(engine, "checkout")
    def _same_file(dbapi_conn, record, proxy):
        if sqlite_file_id(path) != getattr(dbapi_conn, "file_id", None):
            raise DisconnectionError(f"SQLite file {path} was moved, deleted, replaced or made unreadable")


# When did a reader last fail to reach its database? Live pages use it to
# redraw everything once the database is back (``frame``): a tile that
# refreshes every minute would otherwise keep its red banner that long.
_LAST_FAILURE: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def _install_failure_clock(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _failed(ctx):
        # Only a connection that could not be had or was lost: a query that
        # timed out or is wrong is that query's problem, not an outage.
        if ctx.connection is None or ctx.is_disconnect:
            _LAST_FAILURE[engine] = time.monotonic()


def last_failure(engine: Engine) -> float | None:
    """``time.monotonic()`` of the reader's last failure to get or keep a
    connection; None if it never failed."""
    return _LAST_FAILURE.get(engine)


def reachable(engine: Engine) -> bool:
    """Can the reader check out a connection and run a trivial statement right now?"""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except (SQLAlchemyError, OSError, sqlite3.Error):
        return False


def make_reader(settings: Settings | None = None) -> Engine:
    """Engine for the dashboard: read-only where the backend allows, every query
    time-limited, recovering by itself after an outage (see "outages" above)."""
    s = settings or load_settings()
    url = s.database_url
    path = sqlite_file(url)
    if path is not None:
        uri = f"file:{path}?mode=ro"

        def _creator() -> sqlite3.Connection:
            # The file's identity is taken before connecting: if the file is
            # swapped in between, the next checkout sees a difference and
            # reconnects (taken after, the swap could go unnoticed).
            seen = sqlite_file_id(path)
            conn = sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, factory=_SqliteFileConnection
            )
            conn.file_id = seen
            return conn

        # poolclass must be named: with a creator and no file name in the URL,
        # SQLAlchemy takes the database for ":memory:" and picks
        # SingletonThreadPool, which closes a connection another thread is
        # still using when threads come and go (Streamlit runs each rerun in a
        # thread of its own): the server died with a segmentation fault under
        # a few browser sessions. QueuePool hands each connection to one
        # thread at a time (check_same_thread=False lets it move between them).
        engine = create_engine(
            "sqlite://",
            creator=_creator,
            poolclass=QueuePool,
            pool_size=READER_POOL_SIZE,
            max_overflow=READER_POOL_OVERFLOW,
            pool_timeout=s.query_timeout_s,
            pool_pre_ping=True,
        )
        _install_sqlite_pragmas(engine, timeout_s=s.query_timeout_s, wal=False, read_only=True)
        _install_sqlite_file_check(engine, path)
        _install_failure_clock(engine)
        return engine
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        ms = int(s.query_timeout_s * 1000)
        engine = create_engine(
            url,
            pool_pre_ping=False,  # _install_pg_guards pings, under the watchdog
            pool_size=READER_POOL_SIZE,
            max_overflow=READER_POOL_OVERFLOW,
            pool_timeout=s.query_timeout_s,
            connect_args={
                "connect_timeout": s.connect_timeout_s,
                "options": f"-c statement_timeout={ms} -c default_transaction_read_only=on",
                "application_name": "jwrh-dashboard",
                **PG_KEEPALIVE_ARGS,
                # sent data unacknowledged this long: the peer is gone
                "tcp_user_timeout": ms + int(WATCHDOG_GRACE_S * 1000),
            },
        )
        _install_pg_guards(engine, statement_s=s.query_timeout_s + WATCHDOG_GRACE_S, ping_s=s.connect_timeout_s + WATCHDOG_GRACE_S)
        _install_failure_clock(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True)
    _install_failure_clock(engine)
    return engine


def make_writer(url: str | None = None) -> Engine:
    """Engine for migrations, the demo generator and the simulator (no time limit)."""
    url = url or load_settings().database_url
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        _install_sqlite_pragmas(engine, timeout_s=None, wal=True)
        return engine
    if make_url(url).get_backend_name() == "postgresql":
        return create_engine(url, connect_args={"connect_timeout": 5, "application_name": "jwrh-writer"})
    return create_engine(url)


# --- privileges ------------------------------------------------------------
#
# The reader's read-only must be the database's own rule, not a session
# default (``default_transaction_read_only`` is undone by one ``SET``). On
# PostgreSQL the dashboard therefore looks at what its role could do, with
# every role it may SET ROLE to: a superuser, membership of the roles that
# write server files or run programs, CREATE on the schema, or INSERT,
# UPDATE, DELETE or TRUNCATE on any table makes it refuse to start, unless
# DASHBOARD_ALLOW_WRITABLE_READER=1 says the operator knows (development).
# ``python -m dashboard.roles`` creates a reader role that passes.

_PG_ROLES_OF_ME = """
SELECT r.oid, r.rolname, r.rolsuper FROM pg_roles r
WHERE r.rolname = current_user OR pg_has_role(current_user, r.oid, 'MEMBER')
"""
_PG_WRITABLE_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND has_table_privilege(CAST(:role AS oid), c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
ORDER BY c.relname
"""
_PG_SCHEMA_CREATE = "SELECT has_schema_privilege(CAST(:role AS oid), current_schema(), 'CREATE')"
_PG_DANGEROUS_ROLES = ("pg_write_server_files", "pg_execute_server_program", "pg_write_all_data")


def reader_write_powers(conn) -> list[str]:  # a SQLAlchemy Connection
    """What the connection's role (or a role it may become) could change; empty
    when it can only read. PostgreSQL only; SQLite readers are read-only by
    ``mode=ro`` and the authorizer."""
    if conn.dialect.name != "postgresql":
        return []
    powers: list[str] = []
    roles = conn.execute(text(_PG_ROLES_OF_ME)).all()
    if supers := [name for _, name, superuser in roles if superuser]:
        return [f"role {', '.join(supers)} is a superuser"]  # can do anything: the rest adds nothing
    for oid, name, _ in roles:
        if name in _PG_DANGEROUS_ROLES:
            powers.append(f"member of {name}")
        tables = [r[0] for r in conn.execute(text(_PG_WRITABLE_TABLES), {"role": oid})]
        if tables:
            shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
            powers.append(f"role {name} may write tables {shown}")
        if conn.execute(text(_PG_SCHEMA_CREATE), {"role": oid}).scalar():
            powers.append(f"role {name} may create tables in the schema")
    return powers


def run_command(body, url: str, engine: Engine, usage_errors: tuple[type[BaseException], ...] = (ValueError,)) -> int:
    """Run a command-line tool's ``body()`` (returns an exit status or None):
    a usage error exits 2, a data-source error 1, each with one clear line on
    stderr and no traceback; the engine is disposed of either way."""
    try:
        return body() or 0
    except usage_errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"error: {exc.en}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the command line gets one clear line
        print(f"error: {translate_error(exc, url).en}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()

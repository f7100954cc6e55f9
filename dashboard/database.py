"""Engines and the database's health, with errors that say what is wrong.

Two kinds of engine:

* the **reader** used by the dashboard: every statement has a time limit
  (``statement_timeout`` on PostgreSQL, a progress handler on SQLite), an
  SQLite file is opened read-only (``mode=ro``: a plain connect to a moved
  file would silently create an empty database), PostgreSQL connects with a
  short ``connect_timeout`` so an unreachable host cannot block a tile;
* the **writer** used by migrations, the demo generator and the simulator.

SQLite runs in WAL mode with a busy timeout because other systems write to the
same database while the dashboard reads.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dashboard.config import Settings, load_settings

SQLITE_BUSY_TIMEOUT_MS = 5000


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


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def translate_error(exc: BaseException, url: str | None = None) -> DataError:
    """Turn a driver or SQLAlchemy error into a DataError with plain messages."""
    if isinstance(exc, DataError):
        return exc
    where = f" ({describe_url(url)})" if url else ""
    msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    low = msg.lower()
    if "statement timeout" in low or "interrupted" in low or "querycanceled" in type(getattr(exc, "orig", exc)).__name__.lower():
        return QueryTimeout(
            f"query took too long and was cancelled{where}: {msg}",
            "查询超时：数据库繁忙或筛选范围过大，已取消本次查询。请缩小时段或稍后重试。",
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


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _install_sqlite_pragmas(engine: Engine, *, timeout_s: float | None, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()
        if timeout_s is not None:
            state = {"deadline": None}
            record.info["query_deadline"] = state

            def _progress() -> int:
                d = state["deadline"]
                return 1 if d is not None and time.monotonic() > d else 0

            dbapi_conn.set_progress_handler(_progress, 20000)

    if timeout_s is not None:

        @event.listens_for(engine, "before_cursor_execute")
        def _arm(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            state = conn.info.get("query_deadline")
            if state is not None:
                state["deadline"] = time.monotonic() + timeout_s


def make_reader(settings: Settings | None = None) -> Engine:
    """Engine for the dashboard: read-only where the backend allows, every query time-limited."""
    s = settings or load_settings()
    url = s.database_url
    path = _sqlite_path(url)
    if path is not None:
        uri = f"file:{path}?mode=ro"

        def _creator() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)

        engine = create_engine("sqlite://", creator=_creator, pool_pre_ping=True)
        _install_sqlite_pragmas(engine, timeout_s=s.query_timeout_s, wal=False)
        return engine
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        ms = int(s.query_timeout_s * 1000)
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            connect_args={
                "connect_timeout": s.connect_timeout_s,
                "options": f"-c statement_timeout={ms} -c default_transaction_read_only=on",
                "application_name": "jwrh-dashboard",
            },
        )
    return create_engine(url, pool_pre_ping=True)


def make_writer(url: str | None = None) -> Engine:
    """Engine for migrations, the demo generator and the simulator (no time limit)."""
    url = url or load_settings().database_url
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        _install_sqlite_pragmas(engine, timeout_s=None, wal=True)
        return engine
    if make_url(url).get_backend_name() == "postgresql":
        return create_engine(url, connect_args={"connect_timeout": 5, "application_name": "jwrh-writer"})
    return create_engine(url)


# --- health -------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    ok: bool
    error: DataError | None = None
    revision: str | None = None


def check_database(engine: Engine, settings: Settings | None = None) -> Health:
    """Is the database reachable, at the current schema version, and not empty?

    Reads only; never creates or writes anything.
    """
    from dashboard.migrate import head_revision  # local: alembic is heavy to import

    s = settings or load_settings()
    path = _sqlite_path(s.database_url)
    if path is not None and not path.exists():
        return Health(
            False,
            DatabaseEmpty(
                f"SQLite file {path} does not exist; run `python -m dashboard.demo` to create demo data",
                "数据库文件不存在：请先运行 python -m dashboard.demo 生成演示数据，或设置 DATABASE_URL。",
            ),
        )
    head = head_revision()
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            if "alembic_version" not in names:
                if names:
                    return Health(
                        False,
                        SchemaOutdated(
                            "database has tables but no alembic_version; it was not created by this dashboard's migrations",
                            "数据库结构无法识别（缺少版本表）：请确认 DATABASE_URL 指向本系统的数据库。",
                        ),
                    )
                return Health(
                    False,
                    DatabaseEmpty(
                        f"database {describe_url(s.database_url)} is empty; run `python -m dashboard.demo` or `python -m dashboard.migrate`",
                        "数据库为空：请先执行 python -m dashboard.demo 生成演示数据，或导入业务数据。",
                    ),
                )
            rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if rev != head:
                return Health(
                    False,
                    SchemaOutdated(
                        f"database schema is at revision {rev}, the dashboard needs {head}; run `python -m dashboard.migrate`",
                        f"数据库结构版本过旧（当前 {rev}，需要 {head}）：请执行 python -m dashboard.migrate 升级后刷新页面。",
                    ),
                    revision=rev,
                )
            from dashboard.schema import stations

            if conn.execute(select(stations.c.id).limit(1)).first() is None:
                return Health(
                    False,
                    DatabaseEmpty(
                        "database has the schema but no stations; run `python -m dashboard.demo` or load data",
                        "数据库中还没有辖区数据：请先生成演示数据（python -m dashboard.demo）或导入业务数据。",
                    ),
                    revision=rev,
                )
            return Health(True, revision=rev)
    except (SQLAlchemyError, DBAPIError, OSError, sqlite3.Error) as exc:
        return Health(False, translate_error(exc, s.database_url))

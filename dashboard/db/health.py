"""The database's health: reachable, at the schema's head revision, not empty,
and (for the dashboard's reader) unable to write. Reads only."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dashboard.config import Settings, load_settings
from dashboard.db.database import DatabaseEmpty, DataError, ReaderCanWrite, SchemaOutdated, describe_url, reader_write_powers, sqlite_file, translate_error
from dashboard.db.migrate import head_revision
from dashboard.db.schema import stations


@dataclass(frozen=True)
class Health:
    ok: bool
    error: DataError | None = None
    revision: str | None = None


def check_database(engine: Engine, settings: Settings | None = None, *, reader: bool = True) -> Health:
    """Is the database reachable, at the current schema version, and not empty?
    For the dashboard's ``reader``, also: can its account only read (a writer
    such as the simulator passes ``reader=False``)?

    Reads only; never creates or writes anything.
    """
    s = settings or load_settings()
    path = sqlite_file(s.database_url)
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
            if reader and not s.allow_writable_reader and (powers := reader_write_powers(conn)):
                return Health(
                    False,
                    ReaderCanWrite(
                        f"the dashboard's database account {describe_url(s.database_url)} can write ({'; '.join(powers)}); "
                        "give it a read-only role (python -m dashboard.roles) or set DASHBOARD_ALLOW_WRITABLE_READER=1",
                        "数据库账号权限过大，看板拒绝以可写账号运行：请管理员为看板配置只读账号"
                        "（python -m dashboard.roles），或在开发环境设置 DASHBOARD_ALLOW_WRITABLE_READER=1。",
                    ),
                )
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

"""The audit trail's writer: who opened which personal data, when and from where.

``audit_log`` is append-only on both backends (triggers refuse UPDATE and
DELETE, see migration 0002). The dashboard writes to it through an engine of
its own that can do nothing else:

* PostgreSQL: ``DASHBOARD_AUDIT_URL``, the audit role of
  ``python -m dashboard.roles`` (INSERT into ``audit_log`` only). Without it
  the dashboard tries its reader, which (as a proper read-only role) is
  refused: then nothing is unmasked. No trail, no full names.
* SQLite: the same file opened for writing, with an authorizer that allows
  one thing, INSERT into ``audit_log``.

A write that fails raises ``DataError``; the caller then shows the data masked.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from dashboard import timeutil
from dashboard.config import Settings
from dashboard.db.database import SQLITE_BUSY_TIMEOUT_MS, DataError, translate_error
from dashboard.db.schema import audit_log

DETAIL_MAX = 500
# What the screen says when an entry could not be written (and so nothing is unmasked).
REFUSED_ZH = "审计记录无法写入，按规定不能显示明文。请联系管理员检查审计配置（DASHBOARD_AUDIT_URL）。"


class AuditUnavailable(DataError):
    zh = "审计记录无法写入"


def _insert_audit_only(action: int, arg1, arg2, db, trigger) -> int:
    if action == sqlite3.SQLITE_INSERT and arg1 == "audit_log" and db in ("main", None):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_TRANSACTION:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg1 == "read_uncommitted" and arg2 is None:
        return sqlite3.SQLITE_OK  # SQLAlchemy reads it once per connection (isolation level)
    return sqlite3.SQLITE_DENY


def make_audit_writer(settings: Settings) -> Engine:
    """The engine that writes the trail (see the module docstring)."""
    url = settings.audit_url or settings.database_url
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        path = u.database

        def _creator() -> sqlite3.Connection:
            conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            conn.set_authorizer(_insert_audit_only)
            return conn

        return create_engine("sqlite://", creator=_creator, poolclass=QueuePool, pool_size=2, max_overflow=2)
    if u.get_backend_name() == "postgresql":
        return create_engine(
            url,
            pool_size=2,
            max_overflow=2,
            pool_pre_ping=True,
            connect_args={
                "connect_timeout": settings.connect_timeout_s,
                "options": f"-c statement_timeout={int(settings.query_timeout_s * 1000)}",
                "application_name": "jwrh-audit",
            },
        )
    return create_engine(url)


def record(
    engine: Engine,
    *,
    username: str,
    role: str | None,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: str | None = None,
    client: str | None = None,
) -> None:
    """Append one entry; raises ``AuditUnavailable`` when it cannot be written."""
    row = {
        "at": timeutil.utcnow(),
        "username": username[:64],
        "role": role,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id)[:64],
        "detail": None if detail is None else detail[:DETAIL_MAX],
        "client": None if client is None else client[:128],
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(audit_log).values(**row))  # no RETURNING: see schema.audit_log
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        err = translate_error(exc, str(engine.url))
        raise AuditUnavailable(
            f"audit entry not written ({action} {object_type} {object_id} by {username}): {err.en}",
            REFUSED_ZH,
        ) from exc

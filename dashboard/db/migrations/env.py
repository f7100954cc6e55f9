"""Alembic environment: runs against a connection handed in by dashboard.migrate,
or against DATABASE_URL (the embedded SQLite file by default) from the command line."""

from __future__ import annotations

from alembic import context

from dashboard.config import load_settings
from dashboard.db.database import make_writer
from dashboard.db.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_writer(url)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run against a database")
run_migrations_online()

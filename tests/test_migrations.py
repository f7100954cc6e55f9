"""The Alembic migrations and the Table definitions in dashboard/schema.py agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dashboard.database import make_writer
from dashboard.migrate import downgrade, head_revision, upgrade
from dashboard.schema import ACCOUNT_TABLES, ALL_TABLES, META_TABLES, metadata


def test_upgrade_matches_schema_and_downgrades(scratch):
    url = scratch.new("mig")
    engine = make_writer(url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], diff
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
        names = set(inspect(conn).get_table_names())
    assert {t.name for t in ALL_TABLES} <= names
    assert set(metadata.tables) == {t.name for t in ALL_TABLES + META_TABLES + ACCOUNT_TABLES}
    downgrade(engine, "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(engine)  # and back up again
    engine.dispose()

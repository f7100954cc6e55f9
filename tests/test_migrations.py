"""The Alembic migrations and the Table definitions in dashboard/db/schema.py agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from dashboard.db.database import make_writer
from dashboard.db.migrate import downgrade, head_revision, upgrade
from dashboard.db.schema import ACCOUNT_TABLES, ALL_TABLES, IMPORT_TABLES, META_TABLES, metadata

pytestmark = pytest.mark.backend


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
    assert set(metadata.tables) == {t.name for t in ALL_TABLES + META_TABLES + IMPORT_TABLES + ACCOUNT_TABLES}
    downgrade(engine, "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(engine)  # and back up again
    engine.dispose()


def test_upgrade_keeps_the_rows_of_an_older_database(scratch):
    """0003 copies tables on SQLite to widen their columns: rows that others
    reference survive, foreign keys hold, and enforcement is back on after."""
    engine = make_writer(scratch.new("mig-rows"))
    upgrade(engine, "0002")
    with engine.begin() as c:
        c.execute(text("INSERT INTO stations VALUES (1, 'S', 's', 'b', 26.6, 119.5)"))
        c.execute(text("INSERT INTO communities VALUES (1, 1, 'C', 'c', 26.6, 119.5)"))
        c.execute(text("INSERT INTO grids (id, community_id, code, name, boundary_geojson, area_km2, centroid_lat, centroid_lon, h3) VALUES (1, 1, 'G', 'g', '{}', 1, 26.6, 119.5, 'x')"))
        c.execute(text("INSERT INTO reports (id, reported_at, grid_id, h3, lat, lon, place, category, urgency, text) VALUES (1, '2026-01-01 00:00:00', 1, 'x', 26.6, 119.5, 'p', '求助', '一般', 't')"))
    upgrade(engine)
    long_name = "A category name from a station's own export, sixty chars long"[:60]
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM reports")).scalar() == 1
        c.execute(text("UPDATE reports SET category = :c"), {"c": long_name})
        assert c.execute(text("SELECT category FROM reports")).scalar() == long_name
        if c.dialect.name == "sqlite":
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()

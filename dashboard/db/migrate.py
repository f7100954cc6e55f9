"""Schema migrations: ``python -m dashboard.migrate`` upgrades DATABASE_URL to head.

The same as ``alembic upgrade head`` with the repository's ``alembic.ini``.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from dashboard.config import load_settings
from dashboard.db.database import describe_url, make_writer, translate_error

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations must have one head, found {heads}"
    return heads[0]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` (a writer) to ``revision``."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step, revision: str) -> None:  # alembic.command.upgrade/downgrade
    """Run one Alembic command in one transaction.

    SQLite changes a column by copying its table (Alembic's batch mode), and
    dropping the old copy of a table that others reference fails while foreign
    keys are enforced. So on SQLite enforcement is off for the migration (the
    pragma only takes effect outside a transaction), the keys are checked
    before the commit, and enforcement is back on for the connection's next
    user.
    """
    cfg = alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            conn.commit()  # end the transaction SQLAlchemy began for the pragma
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration to {revision} would break foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                conn.rollback()  # nothing open after a commit; after a failure, nothing kept
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
                conn.commit()


def main(argv: list[str] | None = None) -> int:
    url = load_settings().database_url
    try:
        upgrade(make_writer(url))
    except Exception as exc:  # noqa: BLE001 - the command line gets one clear line
        print(f"error: {translate_error(exc, url).en}", file=sys.stderr)
        return 1
    print(f"database {describe_url(url)} is at revision {head_revision()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

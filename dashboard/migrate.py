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
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def main(argv: list[str] | None = None) -> int:
    from dashboard.database import describe_url, make_writer, translate_error
    from dashboard.config import load_settings

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

"""Test fixtures: one real database per test session, on the backend CI asks for.

With ``DATABASE_URL`` unset the suite runs on SQLite files in a temporary
folder; with ``DATABASE_URL=postgresql+psycopg://...`` it creates a database of
its own on that server (``<name>_t<pid>``) and drops it at the end, so the
named database itself is never touched. CI runs the suite once each way.

Which tests run on PostgreSQL: the SQLite pass runs every test; the PostgreSQL
pass runs only the tests marked ``backend`` (``pytestmark`` for a module, the
decorator for single tests) and deselects the rest. The rule: a test is
``backend`` when SQL runs and the answer it checks could change with the
dialect: the query functions and measures, the engines and their time limits,
outages, slow and vanished databases, migrations, the loader and importer,
roles, sign-in and the audit trail, read-only, injection, and the writers (the
demo generator, the simulator). Everything else runs on SQLite only: pure code
(filters, geo, CRS, mask, labels, the wall's layout and rotation), AppTest page
rendering (the page reads the demo world through query functions whose answers
the ``backend`` tests check on both backends; the render itself does not depend
on the dialect) and the browser tests of what the screen shows. A page test
that compares its figures with a query is screen; a test that calls the query
functions on the world itself is ``backend``.

Demo worlds come from tests/worlds.py: generated once into a SQLite file in
``~/.cache/jwrh-tests`` (keyed by the generator's source) and copied into the
session's scratch database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dashboard import station
from dashboard.config import load_settings
from dashboard.db import roles
from dashboard.db.database import make_reader, make_writer
from dashboard.wall import acks
from queries import places
from tests import worlds
from tests.browser import launched_chromium, require_chromium, streamlit_server

# The station's settings (dashboard.station) are the defaults in every test, and
# in every server a test starts, whatever station.toml a developer's checkout
# holds; ``station_settings`` below gives one test its own file.
os.environ["DASHBOARD_STATION_FILE"] = os.devnull

# The fixed end of the fixture world: the tests' "now" (naive UTC).
FIXTURE_END = datetime(2026, 11, 20, 6, 30)  # 14:30 in Asia/Shanghai
FIXTURE_SEED = 11


def _target_url() -> str:
    return os.environ.get("DATABASE_URL", "").strip()


def backend_name() -> str:
    url = _target_url()
    return make_url(url).get_backend_name() if url else "sqlite"


class ScratchDatabases:
    """Makes fresh, empty databases on the session's backend and removes them afterwards."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.base = _target_url()
        self.made: list[str] = []

    def new(self, label: str = "db") -> str:
        if not self.base or make_url(self.base).get_backend_name() == "sqlite":
            return f"sqlite:///{self.tmp / f'{label}-{uuid.uuid4().hex[:8]}.sqlite'}"
        u = make_url(self.base)
        name = f"jwrh_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}".lower()
        admin = create_engine(u, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # name is ours, not user input
        admin.dispose()
        self.made.append(name)
        return u.set(database=name).render_as_string(hide_password=False)

    def cleanup(self) -> None:
        if not self.made:
            return
        admin = create_engine(make_url(self.base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.made:
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabases]:
    s = ScratchDatabases(tmp_path_factory.mktemp("databases"))
    yield s
    s.cleanup()


@pytest.fixture(scope="session")
def world_url(scratch: ScratchDatabases) -> str:
    """The demo world at station scale (fixed seed and end), copied once per session from the cache."""
    return worlds.world(scratch, "world", scale="station", seed=FIXTURE_SEED, end=FIXTURE_END, months=14)


def reader_url(url: str) -> str:
    """The URL the dashboard reads ``url``'s database with: on PostgreSQL the
    read-only role of ``python -m dashboard.roles`` (created or updated on that
    database here; the dashboard refuses a role that can write), on SQLite the
    file itself (the reader opens it read-only)."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return url

    admin = make_writer(url)
    try:
        roles.apply(admin, log=lambda _msg: None)
    finally:
        admin.dispose()
    return u.set(username=roles.RoleNames.reader, password=None).render_as_string(hide_password=False)


def audit_url(url: str) -> str | None:
    """DASHBOARD_AUDIT_URL for ``url``'s database: the audit role on PostgreSQL
    (``reader_url`` made it), None on SQLite (the file itself)."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return None

    return u.set(username=roles.RoleNames.audit, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def world_reader_url(world_url: str) -> str:
    """The demo world as the dashboard reads it (read-only role on PostgreSQL)."""
    return reader_url(world_url)


@pytest.fixture(scope="session")
def world(world_reader_url: str):
    """A reader engine on the session's demo world."""

    engine = make_reader(load_settings({"DATABASE_URL": world_reader_url}))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def cat(world):
    """The demo world's catalogue of stations, communities and grids."""
    return places.catalogue(world)


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium for the session (one per xdist worker); a test opens its
    own context and page in it with ``tests.browser.Browser(chromium)``."""
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def server(world_reader_url: str) -> Iterator[str]:
    """The dashboard serving the session's demo world read-only, clock at FIXTURE_END; its base URL."""
    require_chromium()
    env = {"DATABASE_URL": world_reader_url, "DASHBOARD_NOW": FIXTURE_END.isoformat()}
    if (a := audit_url(world_reader_url)) is not None:
        env["DASHBOARD_AUDIT_URL"] = a
    with streamlit_server(env) as base:
        yield base


@pytest.fixture
def app_env(world_reader_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the app (run in AppTest) at the session's demo world, clock frozen at FIXTURE_END."""
    monkeypatch.setenv("DATABASE_URL", world_reader_url)
    if (a := audit_url(world_reader_url)) is not None:
        monkeypatch.setenv("DASHBOARD_AUDIT_URL", a)
    monkeypatch.setenv("DASHBOARD_NOW", FIXTURE_END.isoformat())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass keeps the ``backend`` tests only (see the module's docstring);
    the others ran in the SQLite pass and are deselected here, said in the header."""
    if backend_name() == "sqlite":
        return
    keep = [i for i in items if i.get_closest_marker("backend") is not None]
    dropped = [i for i in items if i.get_closest_marker("backend") is None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    if backend_name() == "sqlite":
        return "backend: sqlite (every test)"
    return f"backend: {backend_name()} (only tests marked `backend`; the others run in the SQLite pass and are deselected)"


@pytest.fixture
def station_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``station_settings(toml_text)``: this test's station file (read afresh);
    the defaults come back afterwards."""
    def use(text: str):
        path = tmp_path / "station.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("DASHBOARD_STATION_FILE", str(path))
        station.current.cache_clear()
        return station.current()

    yield use
    monkeypatch.setenv("DASHBOARD_STATION_FILE", os.devnull)
    station.current.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_acknowledgements() -> Iterator[None]:
    """Wall alarm acknowledgements are shared by every session of a process
    (dashboard.wall.acks): each test starts with none."""
    acks.BOOK.clear()
    yield
    acks.BOOK.clear()

"""Demo worlds for the tests, generated once and kept on disk.

``dashboard.writers.demo.generate`` is deterministic (same scale, seed, end and months:
the same rows), so a world the tests need is generated into a SQLite file under
``$XDG_CACHE_HOME/jwrh-tests`` (``~/.cache/jwrh-tests`` by default) the first
time, and copied from there afterwards. The file's name holds a hash of the
generator's source: ``dashboard/writers/demo.py`` and every ``dashboard`` module it
imports, transitively, the migrations, this file, and the numpy and SQLAlchemy
versions (numpy's random streams are part of the world), so an edit to any of
them builds the world anew; ``rm -rf ~/.cache/jwrh-tests`` does the same. Files
of other sources that no session used for two days are removed.

A file lock (``fcntl``) makes concurrent builders (pytest-xdist workers, two
checkouts) wait for the one that builds; the file appears atomically.

On PostgreSQL the world is generated into the scratch database: copying the
cached SQLite file's rows in (``copy_into``: schema by the migrations, rows by
``COPY`` in dependency order, sequences reset, statistics refreshed) gives the
very same rows (same fingerprint as tests/test_demo.py computes) but is no
faster: measured 8.4 s against 8.3 s for the 14-month station world, because
the generator itself writes with ``COPY``. ``copy_into`` stays for the SQLite
copy and for that comparison; ``PG_FROM_CACHE`` switches the PostgreSQL pass to it.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import os
import sqlite3
import time
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy
import sqlalchemy
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from dashboard.db import schema
from dashboard.db.database import make_writer
from dashboard.db.migrate import alembic_config, upgrade
from dashboard.writers import demo
from dashboard.writers.bulk import bulk_insert, reset_sequences
from dashboard.writers.demo import generate

ROOT = Path(__file__).resolve().parent.parent
PG_FROM_CACHE = False  # see the module's docstring: generating on PostgreSQL is as fast


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jwrh-tests"


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    for cand in (ROOT.joinpath(*parts).with_suffix(".py"), ROOT.joinpath(*parts, "__init__.py")):
        if cand.is_file():
            return cand
    return None


def _dashboard_imports(path: Path) -> set[str]:
    """The ``dashboard`` modules ``path`` imports (at any level of the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == "dashboard")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "dashboard":
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)  # ``from dashboard import demo``
    return names


@cache
def source_files() -> tuple[Path, ...]:
    """``dashboard.demo`` and the ``dashboard`` modules it needs, transitively, and the migrations."""
    seen: set[Path] = set()
    todo = [Path(demo.__file__).resolve()]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for name in _dashboard_imports(p):
            f = _module_file(name)
            if f is not None:
                todo.append(f.resolve())
    for pkg in ("dashboard",):
        for init in (ROOT / pkg).rglob("__init__.py"):
            seen.add(init.resolve())

    scripts = Path(alembic_config().get_main_option("script_location"))
    seen.update(p.resolve() for p in scripts.rglob("*.py"))
    seen.update(p.resolve() for p in scripts.rglob("*.mako"))
    seen.add(Path(__file__).resolve())
    return tuple(sorted(seen))


@cache
def source_key() -> str:
    h = hashlib.sha256(f"numpy={numpy.__version__} sqlalchemy={sqlalchemy.__version__} sqlite={sqlite3.sqlite_version}".encode())
    for p in source_files():
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def cached_sqlite(*, scale: str, seed: int, end: datetime, months: int) -> Path:
    """The path of the cached SQLite file of this world, generated first if absent."""
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    stem = f"world-{scale}-s{seed}-{end:%Y%m%dT%H%M}-m{months}-{source_key()}"
    path = d / f"{stem}.sqlite"
    if path.exists():
        os.utime(path)  # in use: kept by _prune
        return path
    with open(d / f"{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building it: wait for it
        if path.exists():
            return path

        tmp = d / f"{stem}.{os.getpid()}.building"
        for leftover in d.glob(f"{tmp.name}*"):
            leftover.unlink()
        engine = make_writer(f"sqlite:///{tmp}")
        try:
            generate(engine, scale=scale, seed=seed, end=end, months=months)
        finally:
            engine.dispose()
        con = sqlite3.connect(tmp)
        try:  # one self-contained file: fold the WAL in
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("PRAGMA journal_mode = DELETE")
        finally:
            con.close()
        os.replace(tmp, path)
        _prune(d, keep=path)
    return path


def _prune(d: Path, keep: Path, days: float = 2) -> None:
    """Remove the worlds of other sources that no session used for ``days``."""
    old = time.time() - days * 86400
    for f in d.glob("world-*.sqlite"):
        if f != keep and f.stat().st_mtime < old:
            f.unlink(missing_ok=True)
            (d / f"{f.stem}.lock").unlink(missing_ok=True)


def copy_into(src: Path, url: str) -> None:
    """Copy the world in the SQLite file ``src`` into the empty database at ``url``."""
    if make_url(url).get_backend_name() == "sqlite":
        dst = sqlite3.connect(make_url(url).database)
        s = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            s.backup(dst)
        finally:
            s.close()
            dst.close()
        return


    writer = make_writer(url)
    reader = create_engine(f"sqlite:///file:{src}?mode=ro&uri=true")
    try:
        upgrade(writer)
        demo._delete_all(writer)  # whatever the migrations seeded: the world brings its own
        mine = set(schema.ALL_TABLES + schema.META_TABLES + schema.IMPORT_TABLES)
        tables = [t for t in schema.metadata.sorted_tables if t in mine]  # parents first
        with writer.begin() as out, reader.connect() as inp:
            for t in tables:
                cols = [c.name for c in t.columns]
                rows = inp.execute(t.select().order_by(*t.primary_key.columns)).tuples()
                bulk_insert(out, t, cols, rows)
            reset_sequences(out, tables)
        demo._analyze(writer)
    finally:
        reader.dispose()
        writer.dispose()


def world(scratch, label: str, *, scale: str, seed: int, end: datetime, months: int) -> str:  # conftest's ScratchDatabases
    """A new scratch database on the session's backend holding this demo world; its URL."""
    url = scratch.new(label)
    if make_url(url).get_backend_name() != "sqlite" and not PG_FROM_CACHE:

        writer = make_writer(url)
        try:
            generate(writer, scale=scale, seed=seed, end=end, months=months)
        finally:
            writer.dispose()
        return url
    copy_into(cached_sqlite(scale=scale, seed=seed, end=end, months=months), url)
    return url

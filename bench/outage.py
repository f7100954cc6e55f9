"""Benchmark: what the reader's outage guards cost per checkout.

    python bench/outage.py [--n 5000]                    # SQLite (a small temp file)
    DATABASE_URL=postgresql+psycopg://... python bench/outage.py

The wall's tiles check out a connection for every marker poll, so the guards
run a few times a second per open wall. This times ``--n`` rounds of "check
out, ``SELECT 1``, check in" with the dashboard's reader against the same
engine without the guard (SQLite: the reader minus the file check;
PostgreSQL: the previous set-up, SQLAlchemy's ``pool_pre_ping`` and no
watchdog), alternating the two in blocks so both see the same machine load,
and prints the median and p95 microseconds of each and of the bare SQLite file
check (one ``stat`` and one ``access``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from dashboard.config import load_settings
from dashboard.db import database
from dashboard.db.database import describe_url, make_reader, make_writer, sqlite_file_id

BLOCK = 250


def _unguarded(settings):
    """The reader as it was before the outage guards."""
    path = database.sqlite_file(settings.database_url)
    if path is not None:
        saved = database._install_sqlite_file_check
        database._install_sqlite_file_check = lambda engine, path: None
        try:
            return make_reader(settings)
        finally:
            database._install_sqlite_file_check = saved
    ms = int(settings.query_timeout_s * 1000)
    return create_engine(
        settings.database_url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={
            "connect_timeout": settings.connect_timeout_s,
            "options": f"-c statement_timeout={ms} -c default_transaction_read_only=on",
            "application_name": "jwrh-bench",
        },
    )


def _round(engine) -> float:
    t = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar()
    return (time.perf_counter() - t) * 1e6


def _stats(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs):8.1f} µs   p95 {xs[int(len(xs) * 0.95)]:8.1f} µs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()

    url = os.environ.get("DATABASE_URL", "").strip()
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "bench.sqlite"
        w = make_writer(f"sqlite:///{path}")
        with w.begin() as c:
            c.execute(text("CREATE TABLE t (x INTEGER)"))
        w.dispose()
        url = f"sqlite:///{path}"
    settings = load_settings({**os.environ, "DATABASE_URL": url})
    print(f"database: {describe_url(url)}, {args.n} rounds of check out + SELECT 1 + check in")

    guarded, plain = make_reader(settings), _unguarded(settings)
    times: dict[str, list[float]] = {"guarded": [], "plain": []}
    for eng in (guarded, plain):  # warm the pools
        for _ in range(20):
            _round(eng)
    done = 0
    while done < args.n:
        k = min(BLOCK, args.n - done)
        for name, eng in (("guarded", guarded), ("plain", plain)):
            for _ in range(k):
                times[name].append(_round(eng))
        done += k
    label = "reader (file check)" if database.sqlite_file(url) else "reader (ping under watchdog)"
    other = "without the check" if database.sqlite_file(url) else "pool_pre_ping, no watchdog"
    print(f"  {label:32s} {_stats(times['guarded'])}")
    print(f"  {other:32s} {_stats(times['plain'])}")
    print(f"  overhead (medians)               {statistics.median(times['guarded']) - statistics.median(times['plain']):8.1f} µs")
    path = database.sqlite_file(url)
    if path is not None:
        checks = []
        for _ in range(args.n):
            t = time.perf_counter()
            sqlite_file_id(path)
            checks.append((time.perf_counter() - t) * 1e6)
        print(f"  sqlite_file_id alone             {_stats(checks)}")
    guarded.dispose()
    plain.dispose()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()

"""Benchmark: how soon the dashboard gives up on a database that cannot answer.

    python bench/timeouts.py [--n 5] [--url DATABASE_URL] [--limit 0.3]

Two figures, each measured ``--n`` times (median and max printed):

  unreachable  ``check_database`` on a PostgreSQL port nobody listens on
               (127.0.0.1:5999) until it reports 数据库无法连接
               (tests/test_database.py checks the message; the promise is a
               few seconds, well under the 10 s a desk user waits)
  time limit   a query that would run for seconds, on a reader with
               ``DASHBOARD_QUERY_TIMEOUT=--limit``, until ``QueryTimeout``
               (the promise: shortly after the limit, under 2.5 s)

Without ``--url`` the slow query runs on a temporary SQLite file (a recursive
count to 10^8); with a PostgreSQL ``--url`` it is ``pg_sleep(3)``. Nothing is
written to ``--url`` but the migrations' schema if it is empty.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from dashboard.config import load_settings
from dashboard.db.database import QueryTimeout, make_reader, make_writer
from dashboard.db.health import check_database
from dashboard.db.migrate import upgrade
from queries._common import fetch_scalar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--url", default=None)
    ap.add_argument("--limit", type=float, default=0.3)
    args = ap.parse_args()



    def reader(url: str, timeout: float):
        s = load_settings({"DATABASE_URL": url, "DASHBOARD_QUERY_TIMEOUT": str(timeout), "DASHBOARD_ALLOW_WRITABLE_READER": "1"})
        return make_reader(s), s

    def report(name: str, times: list[float]) -> None:
        print(f"{name:12s} " + " ".join(f"{t:.2f}" for t in times) + f"   median {statistics.median(times):.2f} s, max {max(times):.2f} s")

    unreachable = []
    for _ in range(args.n):
        eng, s = reader("postgresql+psycopg://postgres@127.0.0.1:5999/nowhere", 8)
        t = time.monotonic()
        h = check_database(eng, s)
        unreachable.append(time.monotonic() - t)
        eng.dispose()
        assert not h.ok, "something answers on 127.0.0.1:5999"
    report("unreachable", unreachable)

    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-timeouts-')) / 'slow.sqlite'}"
    upgrade(make_writer(url))
    if make_url(url).get_backend_name() == "sqlite":
        slow = text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c")
    else:
        slow = text("SELECT pg_sleep(3)")
    limited = []
    eng, _ = reader(url, args.limit)
    for _ in range(args.n):
        t = time.monotonic()
        try:
            fetch_scalar(eng, slow)
        except QueryTimeout:
            limited.append(time.monotonic() - t)
        else:
            print("the slow query finished within its limit: no figure")
            return 1
    eng.dispose()
    report("time limit", limited)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: each page's server time, uncached and cached, through AppTest.

    DATABASE_URL=... python bench/pages.py [--repeat 3] [--query "community=WLT-C01"]

For every page in ``dashboard.ui.nav.PAGES`` (the grid profile opens the busiest
grid of the first community, since a grid page without a grid is a list):
clears Streamlit's caches, runs the page once in AppTest (cold: every query
runs) and then again (warm: cached), and prints the AppTest wall time of both
runs and the time spent inside query functions on the cold run (measured by
wrapping the frame's query runner). Repeats ``--repeat`` times and prints
medians. Uses the newest incident as "now" unless DASHBOARD_NOW is set.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import streamlit as st
from streamlit import logger
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from dashboard.config import load_settings  # noqa: E402
from dashboard.db.database import describe_url, make_reader  # noqa: E402
from dashboard.db.health import check_database  # noqa: E402
from dashboard.db.schema import communities, grids, incidents  # noqa: E402
from dashboard.ui import frame, nav  # noqa: E402

QUERY_MS: list[float] = []
_orig_run = frame._run


def _timed_run(engine, fn_path, args):
    t = time.perf_counter()
    try:
        return _orig_run(engine, fn_path, args)
    finally:
        QUERY_MS.append((time.perf_counter() - t) * 1000)


frame._run = _timed_run


def _quiet() -> None:
    logger.set_log_level("error")
    logging.disable(logging.WARNING)  # AppTest's bare-mode chatter


def busiest_grid_code(engine) -> str:
    with engine.connect() as c:
        first_comm = c.execute(select(communities.c.id).order_by(communities.c.code).limit(1)).scalar()
        row = c.execute(
            select(grids.c.code)
            .select_from(incidents.join(grids, grids.c.id == incidents.c.grid_id))
            .where(grids.c.community_id == first_comm)
            .group_by(grids.c.code)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar()
    return row


def run_page(spec, params: dict[str, str]) -> tuple[float, float, float, bool]:

    st.cache_data.clear()
    QUERY_MS.clear()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(spec.path)
    t = time.perf_counter()
    at.run()
    cold = (time.perf_counter() - t) * 1000
    query = sum(QUERY_MS)
    t = time.perf_counter()
    at.run()
    warm = (time.perf_counter() - t) * 1000
    return cold, query, warm, bool(at.exception)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--query", default="", help='extra URL parameters for every page, e.g. "community=WLT-C01&period=7d"')
    args = ap.parse_args()
    _quiet()
    settings = load_settings()
    engine = make_reader(settings)
    health = check_database(engine, settings)
    if not health.ok:
        print(f"error: {health.error.en}", file=sys.stderr)
        return 1
    if not os.environ.get("DASHBOARD_NOW"):
        with engine.connect() as c:
            os.environ["DASHBOARD_NOW"] = c.execute(select(func.max(incidents.c.received_at))).scalar().isoformat()
    extra = dict(p.split("=", 1) for p in args.query.split("&") if "=" in p)
    grid_code = busiest_grid_code(engine)
    print(f"database: {describe_url(settings.database_url)}; now = {os.environ['DASHBOARD_NOW']} UTC; extra params: {extra or '-'}")
    print(f"median of {args.repeat} runs per page (AppTest, in-process)\n")
    print(f"{'page':<22} {'cold run ms':>12} {'queries ms':>12} {'warm run ms':>12}")
    for spec in nav.PAGES:
        params = dict(extra)
        if spec.key == "grid":
            params["grid"] = grid_code
        runs = [run_page(spec, params) for _ in range(args.repeat)]
        cold, query, warm = (statistics.median(r[i] for r in runs) for i in range(3))
        flag = "  (exception!)" if any(r[3] for r in runs) else ""
        label = f"{spec.title} ({spec.key})"
        print(f"{label:<22} {cold:>12.0f} {query:>12.0f} {warm:>12.0f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

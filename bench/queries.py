"""Benchmark: every public query function under random filters.

    DATABASE_URL=... python bench/queries.py [--runs 50] [--seed 1]

Runs each function in ``queries.*`` (found by introspection, so new ones are
included automatically) under ``--runs`` random filters (community, grid,
period, categories) on the database DATABASE_URL names (use the district-scale
demo world: ``python -m dashboard.demo --scale district``) and prints the
median and p95 wall time in milliseconds per function. Caches are not involved:
this is the uncached query time the dashboard pays on a cache miss.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from dashboard.db import schema
from queries import places
from queries.measures import windows

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from dashboard import timeutil
from dashboard.config import load_settings
from dashboard.db.database import describe_url, make_reader
from dashboard.db.health import check_database
from dashboard.db.schema import INCIDENT_CATEGORIES, incidents
from dashboard.filters import PERIODS, Filters

MODULES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "queries").glob("*.py") if not p.stem.startswith("_"))


def query_functions():
    """(name, function) for every public function taking an engine first."""
    for mod_name in MODULES:
        mod = importlib.import_module(f"queries.{mod_name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != mod.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] == "engine":
                yield f"{mod_name}.{name}", fn


# Id parameters are filled with a random existing id of their table.
ID_TABLES = {"task_id": "tasks", "report_id": "reports", "dispute_id": "disputes", "incident_id": "incidents"}
ID_MAX: dict[str, int] = {}
ID_RNG = random.Random(7)


def call(fn, engine, f: Filters, now: datetime):
    kwargs = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.name == "f":
            kwargs["f"] = f
        elif p.name == "window":
            kwargs["window"] = f.window(now)
        elif p.name in ("at", "now"):
            kwargs[p.name] = now
        elif p.name in ID_TABLES:
            kwargs[p.name] = ID_RNG.randint(1, max(1, ID_MAX[p.name]))
        elif p.name == "grid_id":
            kwargs[p.name] = f.grid_id or ID_RNG.randint(1, max(1, ID_MAX["grid_id"]))
        elif p.name == "window_s":  # the wall's alarm window
            kwargs[p.name] = 300
        elif p.name == "periods":  # a comparison's windows (queries.measures.windows.Periods)

            kwargs[p.name] = windows.periods_of(f, now)
        elif p.name == "since":  # a feed's first record
            kwargs[p.name] = None
        elif p.name == "rows":  # a wall list's row budget
            kwargs[p.name] = 8
        elif p.name == "source":  # warning.daily_counts: a source table
            kwargs[p.name] = "incidents"
        elif p.name == "first_day":  # warning.daily_counts: the first local day counted
            kwargs[p.name] = timeutil.local_today(now) - timedelta(days=98)
        elif p.name == "kind":  # imports.outside_rows: a record kind; vocabulary: a vocabulary kind
            kwargs[p.name] = "incidents" if fn.__name__ == "outside_rows" else "incident_category"
        elif p.name == "month":  # assessment.monthly: a calendar month (the last whole one)
            kwargs[p.name] = (timeutil.local_today(now).replace(day=1) - timedelta(days=1)).replace(day=1)
        elif p.default is inspect.Parameter.empty:
            raise TypeError(f"don't know how to fill {p.name} of {fn.__name__}")
    return fn(engine, **kwargs)


def random_filters(rng: random.Random, cat, today) -> Filters:
    station = community = grid = None
    r = rng.random()
    if r < 0.2:
        pass
    elif r < 0.4:
        station = rng.choice(cat.stations).id
    elif r < 0.7:
        c = rng.choice(cat.communities)
        community, station = c.id, c.parent_id
    else:
        g = rng.choice(cat.grids)
        grid, community = g.id, g.parent_id
    period = rng.choice([p for p in PERIODS if p != "custom"] + ["custom"])
    start = end = None
    if period == "custom":
        end = today - timedelta(days=rng.randint(0, 300))
        start = end - timedelta(days=rng.randint(0, 120))
    cats = tuple(rng.sample(INCIDENT_CATEGORIES, rng.randint(1, 3))) if rng.random() < 0.25 else None
    return Filters(station_id=station, community_id=community, grid_id=grid, categories=cats).with_period(period, today, start, end)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="", help="substring of function names to run")
    args = ap.parse_args()
    settings = load_settings()
    engine = make_reader(settings)
    health = check_database(engine, settings)
    if not health.ok:
        print(f"error: {health.error.en}", file=sys.stderr)
        return 1

    cat = places.catalogue(engine)
    with engine.connect() as c:
        newest = c.execute(select(func.max(incidents.c.received_at))).scalar()
        n_inc = c.execute(select(func.count()).select_from(incidents)).scalar()

        for param, table in {**ID_TABLES, "grid_id": "grids"}.items():
            t = schema.metadata.tables[table]
            ID_MAX[param] = int(c.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar())
    now = settings.now_override or newest or timeutil.utcnow()
    today = timeutil.local_today(now)
    rng = random.Random(args.seed)
    filters = [random_filters(rng, cat, today) for _ in range(args.runs)]
    print(f"database: {describe_url(settings.database_url)}")
    print(f"world: {len(cat.stations)} stations, {len(cat.communities)} communities, {len(cat.grids)} grids, {n_inc:,} incidents; now = {now:%Y-%m-%d %H:%M} UTC")
    print(f"{args.runs} random filters per function\n")
    print(f"{'function':<42} {'median ms':>10} {'p95 ms':>10} {'max ms':>10}")
    worst = []
    for name, fn in query_functions():
        if args.only and args.only not in name:
            continue
        times = []
        for f in filters:
            t = time.perf_counter()
            call(fn, engine, f, now)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        worst.append((p95, name))
        print(f"{name:<42} {statistics.median(times):>10.1f} {p95:>10.1f} {times[-1]:>10.1f}")
    worst.sort(reverse=True)
    print(f"\nslowest p95: {', '.join(f'{n} {t:.0f} ms' for t, n in worst[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

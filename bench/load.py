"""Benchmark: the record importer (``python -m dashboard.load incidents``) on a large CSV.

    python bench/load.py [--rows 1000000] [--url sqlite:///…|postgresql+psycopg://…/<scratch>] [--profile out.prof]

Generates its own data: a station's places (a 10×10 tiling of square grids
near lon 119.5, lat 26.6, in 10 communities) as GeoJSON, and a CSV of
``--rows`` incidents (id, time over ~18 months, one of 12 categories, a place
text, lon/lat in EPSG:4326; ~1% of the points outside every grid, ~0.1% of
the times malformed). The CSV is written streaming and cached by its
parameters in the temp directory, so a re-run reuses it.

Then loads it into a fresh database (SQLite file by default; on PostgreSQL the
named scratch database is dropped and created again), twice: the first run
inserts, the second is the idempotent re-import (every row unchanged). Prints
rows read / inserted / rejected / outside, wall time, rows per second, the
process's peak RSS (``ru_maxrss``) and its RSS sampled from /proc/self/status
at 10%, 50% and 100% of each run, and a table with one line per phase.
Nothing timing-related is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from dashboard.db import schema
from dashboard.db.database import describe_url, make_writer
from dashboard.db.migrate import upgrade
from dashboard.writers.load.mapping import parse_mapping
from dashboard.writers.load.places import load_places
from dashboard.writers.load.records import load_records

FORMAT_VERSION = 1  # bump when the generated data changes, so the cache is not reused
CACHE = Path(tempfile.gettempdir()) / "jwrh-bench-load"
STATION = "BENCH"
LON0, LAT0, CELL, N = 119.5, 26.6, 0.005, 10  # 10×10 grids of 0.005° (~500 m)
CATEGORIES = ["刑事", "治安", "盗窃", "电信诈骗", "交通", "纠纷", "求助", "火灾", "噪音", "走失", "斗殴", "其他"]
START = datetime(2025, 1, 1)
SPAN_S = int((datetime(2026, 7, 1) - START).total_seconds())  # 18 months
BAD_TIMES = ["2025/13/45 25:61", "未知", "2025-02-30 10:00:00", "", "yesterday 3pm"]
HEADER = ["警情编号", "报警时间", "警情类别", "发案地点", "经度", "纬度"]
MAPPING_DOC = {
    "source": {"system": "bench", "timezone": "Asia/Shanghai", "crs": "EPSG:4326", "encoding": "utf-8"},
    "fields": {
        "id": "警情编号",
        "received_at": {"column": "报警时间", "format": ["%Y-%m-%d %H:%M:%S"]},
        "category": "警情类别",
        "place": "发案地点",
        "x": "经度",
        "y": "纬度",
    },
}


# --- memory -----------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class RssSampler(threading.Thread):
    """Samples VmRSS every ``interval`` seconds; ``window()`` gives the peak since the last call."""

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = 0.0
        self.samples: list[tuple[float, float]] = []  # (monotonic, MB)
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        while not self._halt.is_set():
            mb = rss_mb()
            with self._lock:
                self.peak = max(self.peak, mb)
                self.samples.append((time.monotonic(), mb))
            self._halt.wait(self.interval)

    def window(self) -> float:
        mb = rss_mb()
        with self._lock:
            peak, self.peak = max(self.peak, mb), mb
        return peak

    def stop(self) -> None:
        self._halt.set()
        self.join()


# --- data -------------------------------------------------------------------------


def write_places(path: Path) -> None:
    feats = []
    for row in range(N):
        for col in range(N):
            # rounded, so neighbours share their edges exactly (0.6 + 5 * 0.005 + 0.005 != 0.6 + 6 * 0.005 in floats: a sliver gap)
            x0, y0 = round(LON0 + col * CELL, 6), round(LAT0 + row * CELL, 6)
            x1, y1 = round(LON0 + (col + 1) * CELL, 6), round(LAT0 + (row + 1) * CELL, 6)
            ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
            feats.append(
                {
                    "type": "Feature",
                    "properties": {"code": f"G{row:02d}{col:02d}", "name": f"第{row + 1}社区第{col + 1}网格", "community": f"第{row + 1}社区"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")


def csv_path(rows: int, seed: int) -> Path:
    return CACHE / f"incidents-v{FORMAT_VERSION}-n{rows}-s{seed}.csv"


def write_incidents(path: Path, rows: int, seed: int) -> dict[str, int]:
    """Stream ``rows`` incidents to ``path`` (via a temporary file, renamed at the end)."""
    rng = random.Random(seed)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    made = {"outside": 0, "bad_time": 0}
    width, height = N * CELL, N * CELL
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        buf: list[list[str]] = []
        for i in range(rows):
            r = rng.random()
            if r < 0.001:
                when = rng.choice(BAD_TIMES)
                made["bad_time"] += 1
            else:
                when = (START + timedelta(seconds=rng.randrange(SPAN_S))).strftime("%Y-%m-%d %H:%M:%S")
            if 0.001 <= r < 0.011:  # ~1% east of the station, in no grid (a valid time, so staged as outside)
                lon, lat = LON0 + width + 0.01 + rng.random() * 0.05, LAT0 + rng.random() * height
                made["outside"] += 1
            else:
                lon, lat = LON0 + rng.random() * width, LAT0 + rng.random() * height
            buf.append([f"J{seed:02d}{i:010d}", when, CATEGORIES[int(rng.random() * len(CATEGORIES))], f"鼓山镇{rng.randrange(1, 400)}路{rng.randrange(1, 200)}号", f"{lon:.6f}", f"{lat:.6f}"])
            if len(buf) >= 10_000:
                w.writerows(buf)
                buf.clear()
        w.writerows(buf)
    tmp.replace(path)
    return made


# --- database ---------------------------------------------------------------------


def fresh_database(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if not u.database:
            sys.exit("error: --url must name an SQLite file")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(u.database + suffix).unlink(missing_ok=True)
        return
    if u.get_backend_name() != "postgresql":
        sys.exit(f"error: unsupported backend {u.get_backend_name()}")
    name = u.database
    if not name or name in ("postgres", "template0", "template1"):
        sys.exit(f"error: --url must name a scratch database, dropped and created again (got {name!r})")
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))  # name checked above; ours
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def database_mb(engine) -> float | None:
    with engine.connect() as c:
        if c.dialect.name == "postgresql":
            return c.execute(text("SELECT pg_database_size(current_database())")).scalar() / 2**20
        db = engine.url.database
    return sum(Path(db + s).stat().st_size for s in ("", "-wal") if Path(db + s).exists()) / 2**20


# --- runs -------------------------------------------------------------------------


class Checkpoints:
    """The ``progress`` callback: RSS and elapsed time when 10%, 50% and 100% of the rows are read."""

    MARKS = (0.10, 0.50, 1.00)

    def __init__(self, t0: float):
        self.t0 = t0
        self.seen: list[tuple[float, int, float, float]] = []  # (mark, rows, seconds, RSS MB)
        self.first: float | None = None  # seconds until the first chunk was through

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic() - self.t0
        if self.first is None:
            self.first = now
        if not total:
            return
        while len(self.seen) < len(self.MARKS) and done >= self.MARKS[len(self.seen)] * total:
            self.seen.append((self.MARKS[len(self.seen)], done, now, rss_mb()))


def run_import(engine, path: Path, mapping, sampler: RssSampler, label: str, chunk: int, profile: Path | None):
    sampler.window()
    before = rss_mb()
    t0 = time.monotonic()
    cp = Checkpoints(t0)
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    s = load_records(engine, "incidents", path, mapping, station_code=STATION, chunk_size=chunk, progress=cp)
    if prof:
        prof.disable()
    wall = time.monotonic() - t0
    peak = sampler.window()
    c = s.counts
    print(f"\n[{label}] batch {s.batch_id}: read {s.rows_read:,} in {wall:.1f} s = {s.rows_read / wall:,.0f} rows/s (summary.seconds {s.seconds})")
    print(f"  inserted {c['inserted']:,} · updated {c['updated']:,} · unchanged {c['unchanged']:,} · duplicate {c['duplicate']:,} · rejected {c['rejected']:,} · outside {c['outside']:,} · unlocated {c['unlocated']:,}")
    print(f"  first chunk through after {cp.first or 0:.1f} s (hashing and counting the file, reading the grids)")
    for mark, done, sec, mb in cp.seen:
        print(f"  {mark:>4.0%}  {done:>10,} rows  {sec:7.1f} s  RSS {mb:7.1f} MB")
    print(f"  RSS before {before:.1f} MB, sampled peak during {peak:.1f} MB, after {rss_mb():.1f} MB; ru_maxrss so far {maxrss_mb():.1f} MB")
    if s.reasons:
        print("  rejected by reason: " + ", ".join(f"{k} {v:,}" for k, v in sorted(s.reasons.items(), key=lambda kv: -kv[1])))
    for n in s.notes:
        print(f"  note: {n}")
    if prof:
        prof.dump_stats(profile)
        print(f"\n  cProfile of {label} written to {profile}; top 25 by cumulative time:")
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        print("\n".join("  " + ln for ln in out.getvalue().splitlines() if ln.strip()))
    return s, wall, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--url", default=f"sqlite:///{CACHE / 'bench-load.sqlite'}", help="SQLite file (removed first) or a PostgreSQL scratch database (dropped and created)")
    ap.add_argument("--chunk", type=int, default=5000, help="load_records chunk_size")
    ap.add_argument("--profile", type=Path, help="cProfile the first import and write its stats here")
    ap.add_argument("--no-reimport", action="store_true", help="skip the second (idempotent) run")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # a log file sees each run as it ends
    CACHE.mkdir(parents=True, exist_ok=True)
    sampler = RssSampler()
    sampler.start()
    phases: list[tuple[str, float, int | None, float]] = []  # (phase, seconds, rows, peak RSS MB)

    path = csv_path(args.rows, args.seed)
    t = time.monotonic()
    if path.exists():
        print(f"CSV: reusing {path} ({path.stat().st_size / 2**20:,.1f} MB)")
        phases.append(("generate CSV (cached)", time.monotonic() - t, None, sampler.window()))
    else:
        made = write_incidents(path, args.rows, args.seed)
        sec = time.monotonic() - t
        print(f"CSV: wrote {args.rows:,} rows to {path} ({path.stat().st_size / 2**20:,.1f} MB) in {sec:.1f} s; {made['outside']:,} outside, {made['bad_time']:,} malformed times")
        phases.append(("generate CSV", sec, args.rows, sampler.window()))
    places = CACHE / "places-v2.geojson"
    write_places(places)

    print(f"database: {describe_url(args.url)}")
    t = time.monotonic()
    fresh_database(args.url)
    engine = make_writer(args.url)
    upgrade(engine)
    phases.append(("fresh database + migrate", time.monotonic() - t, None, sampler.window()))

    t = time.monotonic()
    ps = load_places(engine, places, station=STATION, station_name="基准派出所", crs="EPSG:4326", name_field="name", code_field="code", community_field="community")
    phases.append(("places (100 grids)", time.monotonic() - t, ps.features, sampler.window()))
    print(f"places: {ps.grids['inserted']} grids, {ps.communities['inserted']} communities in {ps.seconds:.2f} s; reported overlaps {len(ps.of('overlap'))}, gaps {len(ps.of('gap'))}")

    mapping = parse_mapping(MAPPING_DOC, "incidents", json.dumps(MAPPING_DOC, ensure_ascii=False))
    s1, wall1, peak1 = run_import(engine, path, mapping, sampler, "import", args.chunk, args.profile)
    phases.append(("import (new file)", wall1, s1.rows_read, peak1))
    if not args.no_reimport:
        s2, wall2, peak2 = run_import(engine, path, mapping, sampler, "re-import", args.chunk, None)
        phases.append(("re-import (all unchanged)", wall2, s2.rows_read, peak2))
        if s2.counts["unchanged"] != s1.loaded:
            print(f"  NOTE: re-import left {s2.counts['unchanged']:,} unchanged, but the first run loaded {s1.loaded:,}")

    with engine.connect() as c:
        n_inc = c.execute(select(func.count()).select_from(schema.incidents)).scalar()
        n_stage = c.execute(select(func.count()).select_from(schema.import_rows)).scalar()
    size = database_mb(engine)
    engine.dispose()
    sampler.stop()
    print(f"\ndatabase now: {n_inc:,} incidents, {n_stage:,} staged import_rows, {size:,.0f} MB")
    print(f"ru_maxrss (whole process): {maxrss_mb():.1f} MB; RSS samples {len(sampler.samples)}, min {min(m for _, m in sampler.samples):.1f} MB, max {max(m for _, m in sampler.samples):.1f} MB")
    print(f"\n{'phase':<28} {'seconds':>9} {'rows':>11} {'rows/s':>10} {'peak RSS MB':>12}")
    for name, sec, rows, peak in phases:
        rate = f"{rows / sec:,.0f}" if rows and sec > 0 else "—"
        print(f"{name:<28} {sec:>9.1f} {(f'{rows:,}' if rows else '—'):>11} {rate:>10} {peak:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

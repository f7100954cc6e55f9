"""Backtest of the early warning (预警): synthetic outbreaks injected into a demo world's counts.

    DATABASE_URL=... python -P bench/warning_backtest.py [--trials 300] [--sizes 3,5,8,12] [--days 150] [--seed 1]

Reads the incidents per grid × category × local day once (``queries.warning.daily_counts``,
the page's own SQL) and injects into that per-day count table, not into the
database (much faster, and the SQL is tested on its own in tests/test_warning.py).
Every judgement uses ``queries.measures.warning`` as the page does: the same
windows, guard band, count models, minimum count and Benjamini–Hochberg over
every grid × category × (本周, 今日) test of the day.

* Evaluation days: the last ``--days`` whole local days before the world's end
  whose baseline lies inside the data. The detector runs once per day, at the
  end of the day (a full 今日).
* False alarms: on the untouched counts, each (grid, category, window) that
  warns on a day and did not warn the day before is one alarm; per grid per
  year = alarms / grids / (days / 365). The demo world has no planted outbreak,
  so every alarm there is false.
* Outbreaks: ``--trials`` per size k: a random grid, a random incident category
  and a random start day; k extra incidents spread uniformly at random over the
  7 days from the start. Detected when that grid × category warns (本周 or 今日)
  on one of those 7 days; delay = days from the outbreak's start to the end of
  the first day it warns (1 = flagged at the end of its first day).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta

import numpy as np

from dashboard import timeutil
from dashboard.config import load_settings
from dashboard.db.database import describe_url, make_reader
from dashboard.filters import Filters
from queries import places
from queries import warning as wq
from queries.measures import warning as wm
from queries.measures import windows

HISTORY_DAYS = 7 * (wm.BASELINE_WEEKS + wm.GUARD_WEEKS + 1)  # a window and its baseline


class Counts:
    """Incidents per (grid, category) and local day, as arrays over ``first``.. ``last``."""

    def __init__(self, engine, now) -> None:
        today = timeutil.local_today(now)
        started = windows.feed_starts(engine).incidents
        self.first = timeutil.to_local(started).date()
        self.last = today - timedelta(days=1)  # the last whole day
        df = wq.daily_counts(engine, "incidents", Filters(), self.first, now)
        self.grids = [int(g) for g in places.grid_shapes(engine, Filters())["grid_id"]]
        self.cats = sorted(set(df["category"]))
        n = (self.last - self.first).days + 1
        self.a = np.zeros((len(self.grids), len(self.cats), n), dtype=np.int64)
        gi = {g: i for i, g in enumerate(self.grids)}
        ci = {c: i for i, c in enumerate(self.cats)}
        for r in df.itertuples(index=False):
            d = (r.day - self.first).days
            if 0 <= d < n and int(r.grid_id) in gi:
                self.a[gi[int(r.grid_id)], ci[r.category], d] += int(r.n)

    def index(self, day: date) -> int:
        return (day - self.first).days


def cell_checks(series: np.ndarray, counts: Counts, day: date, g: int, c: str) -> list[wm.Check]:
    """本周 and 今日 of one cell at the end of ``day`` (arrays by day)."""
    t = counts.index(day)
    weeks = wm.baseline_weeks(day)
    w0 = counts.index(weeks[0].first)
    base = series[w0 : w0 + 7 * len(weeks)]
    weekly = base.reshape(len(weeks), 7).sum(axis=1)
    out = []
    for scope, n, sample, span in (
        ("week", int(series[t - 6 : t + 1].sum()), weekly, len(weeks)),
        ("today", int(series[t]), base, len(base)),
    ):
        out.append(wm.check("incidents", g, c, scope, n, wm.Sample.of([int(x) for x in sample]), span))
    return out


def day_checks(counts: Counts, day: date) -> dict[tuple[int, int], list[wm.Check]]:
    return {
        (gi, ci): cell_checks(counts.a[gi, ci], counts, day, g, c)
        for gi, g in enumerate(counts.grids)
        for ci, c in enumerate(counts.cats)
    }


def warned(checks: dict[tuple[int, int], list[wm.Check]]) -> set[tuple[int, int, str]]:
    keys = [(k, t.scope) for k, ts in checks.items() for t in ts]
    judged = wm.fdr([t for ts in checks.values() for t in ts])
    return {(k[0], k[1], scope) for (k, scope), t in zip(keys, judged) if t.warn}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=300, help="outbreaks per size")
    ap.add_argument("--sizes", default="3,5,8,12", help="extra incidents per outbreak week")
    ap.add_argument("--days", type=int, default=150, help="evaluation days (the last whole days)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    settings = load_settings()
    engine = make_reader(settings)
    t0 = time.perf_counter()
    now = settings.now_override or timeutil.utcnow()
    counts = Counts(engine, now)
    first_eval = max(counts.first + timedelta(days=HISTORY_DAYS), counts.last - timedelta(days=args.days - 1))
    days = [first_eval + timedelta(days=i) for i in range((counts.last - first_eval).days + 1)]
    print(f"database: {describe_url(settings.database_url)}")
    print(
        f"world: {len(counts.grids)} grids, {len(counts.cats)} incident categories, {int(counts.a.sum()):,} incidents "
        f"{counts.first} .. {counts.last}; {len(days)} evaluation days {days[0]} .. {days[-1]}"
    )
    print(f"rule: baseline {wm.BASELINE_WEEKS} weeks after a guard of {wm.GUARD_WEEKS}, min count {wm.MIN_COUNT}, BH q ≤ {wm.FDR_Q}")

    base = {d: day_checks(counts, d) for d in days}
    base_warned = {d: warned(base[d]) for d in days}
    alarms = sum(len(base_warned[d] - base_warned.get(d - timedelta(days=1), set())) for d in days)
    warn_days = sum(len(v) for v in base_warned.values())
    per_grid_year = alarms / len(counts.grids) / (len(days) / 365)
    print(f"\nno outbreak: {alarms} alarms ({warn_days} warning-days) in {len(days)} days → {per_grid_year:.3f} false alarms per grid per year")

    rng = random.Random(args.seed)
    starts = days[: len(days) - 6]
    print(f"\n{'extra/week':>10} {'trials':>7} {'detected':>9} {'rate':>7} {'median delay d':>15} {'mean baseline/wk':>17}")
    for k in (int(x) for x in args.sizes.split(",")):
        hit, delays, means = 0, [], []
        for _ in range(args.trials):
            gi, ci, s = rng.randrange(len(counts.grids)), rng.randrange(len(counts.cats)), rng.choice(starts)
            series = counts.a[gi, ci].copy()
            for _ in range(k):
                series[counts.index(s) + rng.randrange(7)] += 1
            g, c = counts.grids[gi], counts.cats[ci]
            for off in range(7):
                d = s + timedelta(days=off)
                checks = dict(base[d])
                checks[(gi, ci)] = cell_checks(series, counts, d, g, c)
                if off == 0:
                    means.append(checks[(gi, ci)][0].mean)
                if any((gi, ci, sc) in warned(checks) for sc in wm.SCOPES):
                    hit += 1
                    delays.append(off + 1)
                    break
        med = f"{statistics.median(delays):.1f}" if delays else "—"
        print(f"{k:>10} {args.trials:>7} {hit:>9} {hit / args.trials:>7.1%} {med:>15} {statistics.mean(means):>17.2f}")
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

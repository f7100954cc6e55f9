"""Benchmark: time from a grid report being written to it showing on the wall.

    python bench/wall_latency.py [--n 20] [--url DATABASE_URL]

Without ``--url`` it writes a one-month station demo world into a temporary
SQLite file (with ``--url`` it WRITES new reports into that database). It starts
the dashboard (``python -m dashboard.serve``) on a free port, opens ``/?wall=1``
in headless Debian chromium, then ``--n`` times writes one report through the
simulator from this process and measures until that report's item is in the
wall's feed (no reload). Prints each latency and the median, p90 and max.
Reports are spaced by an irregular interval so the wall's 2 s polling phase
is sampled fairly.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dashboard import timeutil
from dashboard.db.database import make_writer
from dashboard.writers.demo import generate
from dashboard.writers.simulate import Simulator
from tests.browser import Browser, streamlit_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--url", default="", help="database to write reports into (default: a temporary demo world)")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional: a browser test skips with a reason without playwright


    url = args.url
    if not url:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='jw-latency-')) / 'world.sqlite'}"
        print(f"writing a one-month demo world into {url}")
        generate(make_writer(url), scale="station", seed=3, months=1)
    writer = make_writer(url)
    sim = Simulator(writer, seed=int(time.time()) % 10_000, patrol=False)
    rng = random.Random(1)
    latencies: list[float] = []
    with streamlit_server({"DATABASE_URL": url, "DASHBOARD_NOW": ""}) as base, sync_playwright() as pw:
        b = Browser(pw)
        try:
            b.page.goto(f"{base}/?wall=1")
            b.page.wait_for_selector(".jw-w-report", timeout=120_000)
            b.page.wait_for_timeout(3000)
            for i in range(args.n):
                b.page.wait_for_timeout(int(rng.uniform(1.0, 3.5) * 1000))
                rid = sim.new_report(timeutil.utcnow())
                t0 = time.monotonic()
                b.page.locator(f'.jw-w-report[data-report-id="{rid}"]').wait_for(timeout=30_000)
                latencies.append(time.monotonic() - t0)
                print(f"{i + 1:>3}  report #{rid}  {latencies[-1]:.2f} s")
            if b.console_errors:
                print("console errors:", b.console_errors)
            if b.external:
                print("requests off the machine:", b.external)
        finally:
            b.close()
    writer.dispose()
    s = sorted(latencies)
    p90 = s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]
    print(f"\n{len(s)} reports: median {statistics.median(s):.2f} s, p90 {p90:.2f} s, max {s[-1]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

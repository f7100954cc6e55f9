"""Wall soak: run the LED wall in headless Chromium with view rotation and the live
simulator for N minutes; print the server's RSS and the browser's JS heap over time.

    .venv/bin/python bench/wall_soak.py --minutes 60
    .venv/bin/python bench/wall_soak.py --minutes 60 --url postgresql+psycopg://postgres@127.0.0.1:5432/soak

Without --url it builds a one-month demo world in a temporary SQLite file (so
"now" is real and the simulator writes into today). With --url the database
must already hold a demo world (``python -m dashboard.demo``); the simulator
writes into it. The server is ``python -m dashboard.serve --simulate SPEED``
(the README's run command); the wall is opened once, never reloaded
(the nightly self-reload is switched off for the run), and rotates through
every view.

Each sample: minutes since start, the view on screen, the Streamlit server's
RSS and the simulator's RSS (MB, from /proc), the page's JS heap after a forced
garbage collection and its DOM node count (Chrome DevTools Protocol), the
newest report id (the simulator is writing), tracebacks on the page. A
flat server RSS and JS heap after warm-up is the pass mark; this is a
measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.schema import reports
from dashboard.writers.demo import generate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ROTATE = "overview:60,reports:30,dispatch:30,patrol:30,trends:30,disputes:30"


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    except OSError:
        return []
    return [int(x) for x in out.split()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--every", type=float, default=60, help="seconds between samples")
    ap.add_argument("--url", default="", help="database with a demo world (default: a temporary SQLite one)")
    ap.add_argument("--rotate", default=ROTATE)
    ap.add_argument("--speed", type=float, default=20, help="simulator speed (x real rates)")
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wall-soak-"))
    url = args.url
    if not url:

        url = f"sqlite:///{tmp / 'soak.sqlite'}"
        t0 = time.monotonic()
        w = make_writer(url)
        generate(w, scale="station", seed=7, months=1)
        w.dispose()
        print(f"demo world (station, 1 month) in {time.monotonic() - t0:.0f} s: {url}", flush=True)



    reader = make_reader(load_settings({"DATABASE_URL": url}))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DASHBOARD_NOW": "", "DASHBOARD_WALL_RELOAD_AT": "off"}
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard.serve", "--simulate", f"{args.speed:g}",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        print("server did not start; log:", (tmp / "server.log").read_text()[-2000:])
        return 1

    def server_pids() -> tuple[int, int | None]:
        """(streamlit server, simulator) pids: serve execs streamlit in-process and starts the simulator as a child."""
        kids = children(server.pid)
        return server.pid, (kids[0] if kids else None)

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional: a browser test skips with a reason without playwright

    w, h = (int(x) for x in args.size.split("x"))
    profile = tempfile.mkdtemp(prefix="soak-chromium-")
    rows = []
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, viewport={"width": w, "height": h},
                args=["--disable-gpu", "--no-sandbox", "--disable-background-networking", "--disable-component-update"],
            )
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            navigations = []
            page.on("framenavigated", lambda fr: navigations.append(fr.url) if fr == page.main_frame else None)
            page.goto(f"{base}/?wall=1&rotate={args.rotate}")
            page.wait_for_selector(".jw-w-kpi", timeout=120_000)
            page.wait_for_timeout(3000)
            navigations.clear()  # the "/?wall=1" → "/wall" redirect and URL tidy-up are not reloads
            cdp = ctx.new_cdp_session(page)
            cdp.send("Performance.enable")
            start = time.monotonic()
            end = start + args.minutes * 60
            print(f"wall {base}/?wall=1&rotate={args.rotate} at {args.size}; sampling every {args.every:g} s for {args.minutes:g} min", flush=True)
            print(f"{'min':>6} {'view':<9} {'server MB':>9} {'sim MB':>7} {'JS heap MB':>10} {'DOM nodes':>9} {'report id':>9} {'errors':>6}", flush=True)
            next_at = start
            while True:
                now = time.monotonic()
                if now >= next_at:
                    cdp.send("HeapProfiler.collectGarbage")
                    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                    srv, sim = server_pids()
                    view = page.evaluate("() => document.querySelector('.jw-w-head')?.dataset.view || '?'")
                    errors = page.locator('[data-testid="stException"]').count()
                    with reader.connect() as conn:
                        newest = conn.execute(select(func.max(reports.c.id))).scalar() or 0
                    row = ((now - start) / 60, view, rss_mb(srv), rss_mb(sim) if sim else float("nan"),
                           metrics.get("JSHeapUsedSize", 0) / 2**20, int(metrics.get("Nodes", 0)), int(newest), errors)
                    rows.append(row)
                    print(f"{row[0]:6.1f} {row[1]:<9} {row[2]:9.1f} {row[3]:7.1f} {row[4]:10.1f} {row[5]:9d} {row[6]:9d} {row[7]:6d}", flush=True)
                    next_at += args.every
                if now >= end:
                    break
                page.wait_for_timeout(min(1000, max(50, (next_at - time.monotonic()) * 1000)))
            ctx.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        reader.dispose()
        shutil.rmtree(profile, ignore_errors=True)
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        warm = rows[min(len(rows) - 1, 5)]
        print(
            f"\nserver RSS {first[2]:.1f} MB at start, {warm[2]:.1f} MB at {warm[0]:.0f} min, {last[2]:.1f} MB at {last[0]:.0f} min; "
            f"JS heap {first[4]:.1f} / {warm[4]:.1f} / {last[4]:.1f} MB; DOM nodes {first[5]} / {warm[5]} / {last[5]}; "
            f"reports written {last[6] - first[6]}; page navigations after load {len(navigations)}; tracebacks seen {sum(r[7] for r in rows)}"
        )
        print("per view, first and last sample (JS heap MB, DOM nodes):")
        for v in sorted({r[1] for r in rows}):
            vr = [r for r in rows if r[1] == v]
            print(f"  {v:<9} {vr[0][0]:5.1f} min: {vr[0][4]:6.1f} MB {vr[0][5]:6d}   {vr[-1][0]:5.1f} min: {vr[-1][4]:6.1f} MB {vr[-1][5]:6d}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: drill steps on the desk pages, from the input event to settled pixels.

    python bench/drill.py [--n 3] [--url DATABASE_URL] [--months 2]

Without ``--url`` it writes a station demo world (``--months`` of data) into a
temporary SQLite file. It starts the dashboard (``python -m dashboard.serve``)
on a free port, opens headless Debian chromium at 1920×1080 and, ``--n`` times,
walks these steps, timing each from just before the input event until the page
has settled with the new content: Streamlit's status widget absent and the
step's expected content present (checked in the page by ``wait_for_function``,
no fixed sleeps inside a measurement):

  community   pick a community in the 社区 dropdown (header names it)
  grid        pick a grid in the 网格 dropdown (header names it)
  back-grid   browser Back (grid= leaves the URL)
  back-comm   browser Back (header says 全辖区 again)
  map         click the middle of the overview map (URL gets community=)
  back-map    browser Back (全辖区)
  bar         on 网格上报, click the biggest category bar (URL gets rcat=)
  back-bar    browser Back (rcat= gone)
  detail      click the first row of 最新上报 (the report's detail opens)
  back-detail browser Back (the detail closes)

A step whose expected content never comes within 60 s is printed as a timeout
(for example Back before the back button undid a drill). Prints every time and
then median and max per step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.writers.demo import generate
from queries import places
from tests.browser import Browser, streamlit_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTLED = """([kind, arg]) => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const head = document.querySelector('.jw-header');
  const url = decodeURIComponent(location.href);
  if (kind === 'header') return !!head && head.innerText.includes(arg);
  if (kind === 'url') return url.includes(arg);
  if (kind === 'nourl') return !url.includes(arg);
  if (kind === 'multiselect') {
    const m = document.querySelector('[data-testid="stMultiSelect"]');
    return !!m && m.innerText.includes(arg);
  }
  if (kind === 'text') return document.body.innerText.includes(arg);
  if (kind === 'notext') return !document.body.innerText.includes(arg);
  return false;
}"""


class Walk:
    def __init__(self, b, base: str) -> None:
        self.b = b
        self.page = b.page
        self.base = base
        self.times: dict[str, list[float]] = {}
        self.failed: dict[str, int] = {}

    def measure(self, name: str, act, kind: str, arg: str, timeout: float = 60.0) -> bool:
        t0 = time.monotonic()
        act()
        try:
            self.page.wait_for_function(SETTLED, arg=[kind, arg], timeout=timeout * 1000, polling=50)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: report, go on
            self.failed[name] = self.failed.get(name, 0) + 1
            print(f"  {name:<12} timeout ({kind} {arg!r} after {timeout:.0f} s; url {self.page.url})", flush=True)
            return False
        dt = time.monotonic() - t0
        self.times.setdefault(name, []).append(dt)
        print(f"  {name:<12} {dt:6.2f} s", flush=True)
        return True

    def pick(self, label: str, option: str):
        """An action: open the selectbox labelled ``label`` and choose ``option``."""
        box = self.page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
        box.click()
        opt = self.page.locator('[role="option"]').filter(has_text=option).first
        opt.wait_for(timeout=10_000)
        return opt.click

    def open(self, path: str, kind: str, arg: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_function(SETTLED, arg=[kind, arg], timeout=120_000, polling=100)
        self.b.settle()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--url", default="", help="database to read (default: a temporary demo world)")
    ap.add_argument("--months", type=int, default=2)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional: a browser test skips with a reason without playwright


    url = args.url
    if not url:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='jw-drill-')) / 'world.sqlite'}"
        t = time.monotonic()
        generate(make_writer(url), scale="station", seed=5, months=args.months)
        print(f"wrote a {args.months}-month demo world into {url} in {time.monotonic() - t:.0f} s")

    os.environ["DATABASE_URL"] = url
    cat = places.catalogue(make_reader(load_settings()))
    comm = cat.communities[1]
    grid = cat.grids_of(comm.id)[0]
    print(f"drilling to {comm.name} ({comm.code}) and {grid.name} ({grid.code})")

    with streamlit_server({"DATABASE_URL": url, "DASHBOARD_NOW": ""}) as base, sync_playwright() as pw:
        b = Browser(pw)
        w = Walk(b, base)
        page = b.page
        try:
            w.open("/overview", "header", "全辖区")
            for i in range(args.n):
                print(f"round {i + 1}", flush=True)
                if "全辖区" not in page.locator(".jw-header").inner_text():
                    w.open("/overview", "header", "全辖区")
                w.measure("community", w.pick("社区", comm.name), "header", comm.name)
                w.measure("grid", w.pick("网格", grid.name), "header", grid.name)
                ok = w.measure("back-grid", page.go_back, "nourl", "grid=")
                if ok:
                    w.measure("back-comm", page.go_back, "header", "全辖区")
                w.open("/overview", "header", "全辖区")
                canvas = page.locator("canvas").first
                page.wait_for_timeout(1500)  # deck.gl draws after the script settles (not measured)
                box = canvas.bounding_box()
                if box and w.measure("map", lambda: page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), "url", "community="):
                    w.measure("back-map", page.go_back, "header", "全辖区")
                w.open("/reports", "text", "分类统计")
                page.wait_for_selector(".js-plotly-plot .bars .point", timeout=30_000)
                bars = page.locator(".js-plotly-plot .bars .point path")
                bb = bars.nth(bars.count() - 1).bounding_box()
                if bb:
                    if w.measure("bar", lambda: page.mouse.click(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2), "url", "rcat="):
                        w.measure("back-bar", page.go_back, "nourl", "rcat=")
                    b.settle()
                grid_el = page.locator('[data-testid="stDataFrame"]').first
                gb = grid_el.bounding_box()
                if gb:
                    grid_el.hover()
                    if w.measure("detail", lambda: page.mouse.click(gb["x"] + 18, gb["y"] + 35 + 17), "text", "关闭详情"):
                        w.measure("back-detail", page.go_back, "notext", "关闭详情")
                w.open("/overview", "header", "全辖区")
            b.screenshot("bench-drill-last")
            if b.console_errors:
                print("console errors:", b.console_errors)
        finally:
            b.close()
    print("\nstep          n   median    max   timeouts")
    for name in ("community", "grid", "back-grid", "back-comm", "map", "back-map", "bar", "back-bar", "detail", "back-detail"):
        ts = w.times.get(name, [])
        med = f"{statistics.median(ts):6.2f} s" if ts else "     —  "
        mx = f"{max(ts):6.2f} s" if ts else "    —  "
        print(f"{name:<12} {len(ts):>2}  {med} {mx}   {w.failed.get(name, 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Load benchmark: one dashboard server under many browser sessions (issue 10).

    python bench/sessions.py --sessions N --minutes M [--walls W] [--database-url URL] [--simulate SPEED]
                             [--size WxH] [--nice N] [--animate] [--seed N]
    python bench/sessions.py --sessions 20 --minutes 10
    python bench/sessions.py --sessions 20 --minutes 10 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/jwrh_bench_sessions

What it runs:

* the database: without ``--database-url`` the demo world (``python -m
  dashboard.demo --scale station --seed 7``, 18 months ending now) in a
  temporary SQLite file; with it, a PostgreSQL database of that name that the
  bench CREATES, fills with the same world and DROPS at the end (it refuses a
  database that already exists, so it never touches anyone's data);
* ONE dashboard server (``python -m dashboard.serve``, as tests/browser.py's
  StreamlitServer starts it) and the live simulator (``python -m
  dashboard.simulate --speed SPEED``, default 10; ``--simulate 0``: none)
  writing into the same database;
* N headless Chromium sessions in ONE browser process, one context each,
  opened one after the other within ~20 s. W of them (default N/3) are walls:
  every third a plain ``/wall`` (综合态势, the report feed always on screen),
  the others ``/wall?rotate=all:30`` (all six views in turn, 30 s each). The
  rest are desk sessions: each navigates through the desk pages (总览, 网格上报,
  派单队列, 巡逻覆盖, 警情趋势, 矛盾纠纷, 网格画像 ``?grid=CODE``) in a
  shuffled order, some with ``?community=CODE`` and/or ``?period=7d`` from the
  catalogue, waits until the page has settled and stays 20-40 s;
* every 15-25 s the bench writes one grid report itself (with its task and
  创建 event, through ``dashboard.writers.simulate.Simulator.new_report``, as
  bench/wall_latency.py does) and measures when it shows on the walls.

Every 30 s it prints one line, at the end a summary; the figures:

* ``srv MB`` / ``srv CPU``: the Streamlit server process's resident memory
  (VmRSS from /proc/PID/status) and CPU time over the last 30 s as a share of
  ONE core (from /proc/PID/stat: 200 % is both cores of this machine). The
  simulator is a separate process and not counted.
* ``chr MB`` / ``chr CPU``: the load generator itself, Chromium (every
  chromium process under this one): proportional set size (PSS from
  /proc/PID/smaps_rollup, shared pages divided among the processes, so the
  figure adds up; the summary also gives the plain sum of RSS) and CPU
  share of one core.
* ``host`` / ``load``: how busy the whole machine was (share of all cores
  from /proc/stat, 100 % = every core busy) and its 1-minute load average:
  other work on the machine competes with the server too.
* ``feed``: walls whose current view shows the report feed (overview or
  reports, from ``data-view`` in the wall's header) out of all walls.
* ``pages`` / ``ready``: desk page loads finished in the interval and their
  median ready time: from ``goto`` until Streamlit's running indicator was
  last seen before a quiet 1.5 s.
* ``delay``: the wall's update delay: for every bench report and every wall
  that showed the feed when it was written, the time until that report's id
  (``.jw-w-report[data-report-id]``) was in the wall's DOM (sampled every
  100 ms inside the page, so up to 0.1 s late). Median and max of the
  interval; the summary gives median, p90 and max of the run. A wall that
  rotated off the feed before the report showed is not counted ("left the
  feed"); one that kept the feed for 30 s without the report is a ``miss``.
* ``errors``: problems seen in the interval, each also printed at once with
  its session and the moment the page saw it: the server process exiting
  (its exit code or signal; the run stops there), the simulator exiting, a
  Streamlit exception on a page (``stException``), the connection to the
  server lost (Streamlit's connection state: the wall's red reconnect bar,
  Streamlit's "Connection error" dialog), a red stale banner on a wall tile
  (``.jw-w-stale``, e.g. "数据更新于 HH:MM:SS，已中断 N 秒"; the amber
  "数据库响应缓慢" line of a tile waiting on a slow query is a note), the wall's
  数据源中断 screen, an error message on a desk page (``st.error``, e.g. a
  query timeout), the Streamlit app gone from a page (a blank screen after
  a frontend error), a frozen wall (its clock, a 1 s fragment, has not moved
  for 20 s while the page itself kept running), page errors and console
  errors, HTTP responses >= 400 and failed requests, a crashed renderer, a
  wall that did not come up, a desk page that did not settle within 60 s
  (with what the page showed then). Notes, not errors: amber warnings
  (``st.warning``), reports missed by a wall (counted in the summary) and
  pages whose own 100 ms timer stood still for 5 s or more (Chromium
  starved: the load generator, not the server).

At the end: the summary (with each wall's state: view, age of its clock,
connection state), the server log's warning and error lines and its first
traceback (the log is kept when the exit status is 1), the simulator's
error lines. Exit status 0 when the server stayed up and no session saw an
error, 1 otherwise, 2 for a refused setup, 130 on Ctrl-C; the server, the
simulator, Chromium, the scratch database and temporary files are removed
in every case.

The load generator's own cost: ``--size`` sets every page's viewport
(default 1920x1080; the server's work does not depend on it, Chromium's
does). The bench process, Playwright's driver and Chromium run at
``--nice 10`` (not the server or the simulator): a command room's screens
each have a machine of their own, here they share two cores with the
server, which should not lose them to the browser. The pages' CSS
animations are off unless ``--animate``: a wall's pulsing alarm rows cost
Chromium about three times the CPU of a still wall (software rendering)
and the server nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from dashboard import timeutil
from dashboard.db import roles
from dashboard.db.database import make_writer
from dashboard.db.schema import communities, grids
from dashboard.writers.simulate import Simulator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, is_benign_console  # noqa: E402

STATUS_EVERY_S = 30
REPORT_EVERY_S = (15.0, 25.0)  # the bench's own reports: irregular, so the wall's 2 s polling phase is sampled fairly
DELAY_WINDOW_S = 30.0  # a report not on a wall that kept the feed this long is a miss
DESK_STAY_S = (20.0, 40.0)
SETTLE_TIMEOUT_S = 60.0
SETTLE_QUIET_S = 1.5
WALL_FIRST_LOAD_S = 120.0
DESK_PATHS = ("overview", "reports", "dispatch", "patrol", "trends", "disputes", "grid")
FEED_VIEWS = ("overview", "reports")
ROTATING_WALL = "/wall?rotate=all:30"
PLAIN_WALL = "/wall"
MAX_PRINTED_PROBLEMS = 60
FROZEN_S = 20  # a wall whose clock (a 1 s fragment) has not moved this long while its page ran is frozen
STALL_S = 5  # a page whose own 100 ms timer did not run for this long was starved (a note)
EVALUATE_TIMEOUT_S = 10

# Runs in every page before Streamlit's own scripts (and again after each
# navigation): every 100 ms it notes the first time each report id is in the
# feed, the intervals in which the wall's header named a feed view, and the
# moments a problem appeared on the screen (one event per appearance). The
# bench drains the events every 2 s.
PAGE_WATCH_JS = """
(() => {
  if (window.__jwBench) return;
  const FEED = new Set(%(feed_views)s);
  const B = window.__jwBench = {seen: {}, feed: [], events: [], seq: 0, on: {}, connected: false, view: null, lastScan: Date.now()};
  const event = (kind, detail) => { B.events.push([++B.seq, Date.now(), kind, detail || '']); if (B.events.length > 500) B.events.shift(); };
  const edge = (kind, on, detail) => { if (on && !B.on[kind]) event(kind, detail()); B.on[kind] = on; };
  const text = (el) => (el && (el.innerText || el.textContent) || '').trim().replace(/\\s+/g, ' ').slice(0, 240);
  const scan = () => {
    const now = Date.now();
    const gap = now - B.lastScan;
    B.lastScan = now;
    if (gap > %(stall_ms)d) {
      event('note: renderer stalled', 'the page ran no script for ' + (gap / 1000).toFixed(0) + ' s (Chromium starved or busy)');
      if (B.clockAt) B.clockAt = now;  // what the clock did meanwhile cannot be told
    }
    for (const el of document.querySelectorAll('.jw-w-report[data-report-id]')) {
      const id = el.dataset.reportId;
      if (!(id in B.seen)) B.seen[id] = now;
    }
    const head = document.querySelector('.jw-w-head');
    B.view = head ? head.dataset.view : null;
    const feedOn = !!head && FEED.has(B.view);
    const last = B.feed[B.feed.length - 1];
    if (feedOn && !(last && last[1] === null)) {
      if (last && now - last[1] < 1500) last[1] = null;  // a view switch's rerun: one interval
      else { B.feed.push([now, null]); if (B.feed.length > 100) B.feed.shift(); }
    } else if (!feedOn && last && last[1] === null) last[1] = now;
    const app = document.querySelector('.stApp');
    const state = app && app.dataset.testConnectionState;
    if (state === 'CONNECTED') B.connected = true;
    edge('connection lost', B.connected && !!state && state !== 'CONNECTED', () => 'connection state ' + state);
    edge('app gone', B.connected && !app, () => 'the Streamlit app is no longer in the page (blank screen)');
    const dialog = document.querySelector('[data-testid="stDialog"]');
    edge('dialog', !!dialog, () => text(dialog));
    const exc = document.querySelector('[data-testid="stException"]');
    edge('exception', !!exc, () => text(exc));
    const stale = document.querySelector('.jw-w-stale:not(.jw-w-slow), .jw-w-stale-inline');
    edge('stale banner', !!stale, () => text(stale));
    const slow = document.querySelector('.jw-w-slow');
    edge('note: slow database', !!slow, () => text(slow));
    const down = document.querySelector('.jw-w-down');
    edge('data source down', !!down, () => text(down));
    const err = document.querySelector('[data-testid="stAlertContentError"]');
    edge('error message', !!err, () => text(err));
    const clock = document.querySelector('.jw-w-time');
    if (clock) {
      const c = clock.dataset.clock;
      if (c !== B.clock) { B.clock = c; B.clockAt = now; }
      edge('wall frozen', now - B.clockAt > %(frozen_ms)d, () => 'the clock has stood at ' + c + ' for ' + Math.round((now - B.clockAt) / 1000) + ' s while the page was running');
    }
    const warn = document.querySelector('[data-testid="stAlertContentWarning"], .jw-w-warn');
    edge('note: warning', !!warn, () => text(warn));
  };
  setInterval(scan, 100);
})();
""" % {"feed_views": list(FEED_VIEWS), "frozen_ms": FROZEN_S * 1000, "stall_ms": STALL_S * 1000}

# Added to every page unless --animate: CSS animations off. The wall's alarm
# rows and bar pulse their background colour, which makes Chromium repaint
# that page 60 times a second in software (no GPU here): a cost of the load
# generator, not of the server, whose work and DOM stay the same.
NO_ANIMATION_JS = """
(() => {
  const style = () => { const el = document.createElement('style');
    el.textContent = '*, *::before, *::after { animation: none !important; transition: none !important; }';
    document.documentElement.appendChild(el); };
  if (document.documentElement) style(); else document.addEventListener('DOMContentLoaded', style);
})();
"""

WALL_STATE_JS = """() => { const B = window.__jwBench; if (!B) return null; const app = document.querySelector('.stApp');
  return {view: B.view, clock_age: B.clockAt ? (Date.now() - B.clockAt) / 1000 : null,
          state: app && app.dataset.testConnectionState, reports: Object.keys(B.seen).length}; }"""
PAGE_STATE_JS = """() => { const app = document.querySelector('.stApp');
  return 'connection ' + (app ? app.dataset.testConnectionState : 'no app')
    + ', running indicator ' + (document.querySelector('[data-testid="stStatusWidget"]') ? 'on' : 'off')
    + ', skeletons ' + document.querySelectorAll('[data-testid="stSkeleton"]').length
    + ', elements ' + document.querySelectorAll('[data-testid="stElementContainer"]').length; }"""
# Events after the given sequence number (of this document: timeOrigin tells documents apart).
DRAIN_JS = """([origin, after]) => { const B = window.__jwBench; if (!B) return null;
  const from = origin === performance.timeOrigin ? after : 0;
  return {origin: performance.timeOrigin, events: B.events.filter((e) => e[0] > from)}; }"""
SEEN_JS = """(ids) => { const B = window.__jwBench; if (!B) return null;
  return {seen: ids.map((i) => B.seen[String(i)] ?? null), feed: B.feed.slice(), origin: performance.timeOrigin}; }"""
BUSY_JS = """() => !!document.querySelector('[data-testid="stApp"]')
  && !document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')"""


# --- /proc --------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(parent pid, CPU ticks user+system, start time) from /proc/PID/stat."""
    try:
        s = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = s[s.rfind(")") + 2:].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[19])


def _status_kb(pid: int, key: str, file: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (st := _stat(int(d))) is not None:
            parents[int(d)] = st[0]
    out, frontier = [], {root}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier}
        out.extend(frontier)
    return out


def _is_chromium(pid: int) -> bool:
    try:
        return "chromium" in os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False


class CpuMeter:
    """CPU share of one core of a set of processes between two calls."""

    def __init__(self) -> None:
        self.last: dict[tuple[int, int], int] = {}
        self.at = time.monotonic()

    def sample(self, pids: list[int]) -> float:
        now, ticks, used = time.monotonic(), {}, 0
        for pid in pids:
            st = _stat(pid)
            if st is None:
                continue
            key = (pid, st[2])
            ticks[key] = st[1]
            used += st[1] - self.last.get(key, 0)  # a process born since the last call: all its time
        dt = now - self.at
        first = not self.last
        self.last, self.at = ticks, now
        return float("nan") if first or dt <= 0 else 100.0 * used / CLK_TCK / dt


class HostMeter:
    """Busy share of the whole machine (all cores) between two calls, from /proc/stat."""

    def __init__(self) -> None:
        self.last: tuple[int, int] | None = None

    def sample(self) -> float:
        try:
            f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError):
            return float("nan")
        total, idle = sum(f[:8]), f[3] + f[4]
        last, self.last = self.last, (total, idle)
        if last is None or total == last[0]:
            return float("nan")
        return 100.0 * (1 - (idle - last[1]) / (total - last[0]))


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


# --- bookkeeping --------------------------------------------------------------------


@dataclass
class Problem:
    at: float  # seconds since the sessions started
    who: str
    kind: str
    detail: str


@dataclass
class Session:
    label: str
    kind: str  # "wall" or "desk"
    path: str
    ctx: object = None
    page: object = None
    navigating: bool = True
    origin: float | None = None  # performance.timeOrigin of the document last drained
    seen_seq: int = 0  # its last event taken
    ready: bool = False
    loads: list[tuple[str, float]] = field(default_factory=list)  # (desk path, ready seconds)


@dataclass
class Report:
    rid: int
    written_ms: float  # epoch ms right after the commit (the page's Date.now() is on the same clock)
    due: float  # time.monotonic() when its window is over


class Run:
    """Everything the tasks share and the summary reads."""

    def __init__(self, args: argparse.Namespace, backend: str):
        self.args = args
        self.backend = backend
        self.t0 = time.monotonic()
        self.t0_epoch = time.time()  # the same instant on the pages' clock (Date.now())
        self.stop = asyncio.Event()
        self.interrupted = False
        self.crash: str | None = None
        self.crash_at: float | None = None
        self.problems: list[Problem] = []
        self.notes: Counter[str] = Counter()
        self.printed: Counter[tuple] = Counter()  # problems by (session, kind, start of the text)
        self.lines_printed = 0
        self.sessions: list[Session] = []
        self.reports: list[Report] = []
        self.pending: list[Report] = []
        self.delays: list[float] = []
        self.misses = 0
        self.left_feed = 0
        self.reloaded = 0
        self.unmeasured = 0
        self.srv_rss_last = self.srv_rss_max = 0.0
        self.samples: list[dict] = []
        self.loads: list[float] = []  # every desk page's ready time, in order
        self.chromium_pids: dict[int, int] = {}  # pid -> start time, to end leftovers safely
        self.rss_sum_max = 0.0
        self.wall_states: list[tuple[str, dict | None]] = []  # at the end of the run
        self.mark_problems = 0
        self.mark_delays = 0
        self.mark_misses = 0
        self.mark_loads = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def problem(self, who: str, kind: str, detail: str = "", at: float | None = None) -> None:
        """Record (and print) one problem; ``at``: when it was seen, if not now (seconds into the run)."""
        if self.stop.is_set() and kind != "server exited":
            return  # the run is ending: pages going away are not findings
        if kind.startswith("note: "):
            self.notes[f"{kind[6:]}: {detail[:160]}"] += 1
            return
        p = Problem(self.elapsed() if at is None else at, who, kind, " ".join(detail.split())[:300])
        self.problems.append(p)
        key = (who, kind, p.detail[:60])
        self.printed[key] += 1
        if self.printed[key] <= 2 and self.lines_printed < MAX_PRINTED_PROBLEMS:
            self.lines_printed += 1
            again = " (again: from now on only counted)" if self.printed[key] == 2 else ""
            print(f"! {p.at:6.1f} s  {who:<8} {kind}: {p.detail}{again}", flush=True)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")


# --- the sessions -------------------------------------------------------------------


def watch(run: Run, s: Session) -> None:
    """Playwright's page events as problems."""
    page = s.page

    def on_console(msg) -> None:
        if msg.type == "error":
            url = (msg.location or {}).get("url", "")
            if not is_benign_console(msg.text, url):
                run.problem(s.label, "console error", f"{msg.text} @ {url}")

    def on_response(resp) -> None:
        if resp.status >= 400 and not is_benign_console(str(resp.status), resp.url):
            run.problem(s.label, "http", f"{resp.status} {resp.url}")

    def on_failed(req) -> None:
        failure = req.failure or ""
        if "ERR_ABORTED" not in failure:  # requests cut short by a navigation
            run.problem(s.label, "http", f"{failure} {req.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: run.problem(s.label, "page error", str(exc)))
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.on("crash", lambda _p: run.problem(s.label, "page crashed", "renderer process gone"))


async def evaluate(page, js: str, arg=None, timeout: float = EVALUATE_TIMEOUT_S):
    """page.evaluate with a time limit (a starved renderer must not stall the bench); None when it fails."""
    try:
        return await asyncio.wait_for(page.evaluate(js, arg), timeout)
    except Exception:  # noqa: BLE001 - a page between documents, or busy
        return None


async def drain(run: Run, s: Session) -> None:
    """The page's new events as problems. Nothing is taken out of the page, so
    a call that times out loses nothing: the next one asks again."""
    if s.page is None:
        return
    got = await evaluate(s.page, DRAIN_JS, [s.origin, s.seen_seq])
    if not got:
        return
    if got["origin"] != s.origin:  # a new document
        s.origin, s.seen_seq = got["origin"], 0
    for seq, at_ms, kind, detail in got["events"]:
        if seq > s.seen_seq:
            s.seen_seq = seq
            run.problem(s.label, kind, detail, at=at_ms / 1000 - run.t0_epoch)


async def settle(page, since: float, timeout: float = SETTLE_TIMEOUT_S) -> float:
    """Like tests/browser.Browser.settle: wait until the script has not been running
    for SETTLE_QUIET_S; return when it was last seen running, in seconds after
    ``since`` (the ready time)."""
    start = time.monotonic()
    quiet = None
    while time.monotonic() - start < timeout:
        idle = await evaluate(page, BUSY_JS, timeout=5)  # None: the document is being replaced, or busy
        now = time.monotonic()
        if not idle:
            quiet = None
        elif quiet is None:
            quiet = now
        elif now - quiet >= SETTLE_QUIET_S:
            return quiet - since
        await asyncio.sleep(0.25)
    raise TimeoutError


async def open_session(run: Run, browser, base: str, s: Session) -> None:
    w, h = (int(x) for x in run.args.size.split("x"))
    s.ctx = await browser.new_context(viewport={"width": w, "height": h})
    await s.ctx.add_init_script(script=PAGE_WATCH_JS)
    if not run.args.animate:
        await s.ctx.add_init_script(script=NO_ANIMATION_JS)
    s.page = await s.ctx.new_page()
    watch(run, s)


async def wall_session(run: Run, base: str, s: Session) -> None:
    t = time.monotonic()
    try:
        await s.page.goto(base + s.path, timeout=WALL_FIRST_LOAD_S * 1000)
        await s.page.wait_for_selector(".jw-w-kpi", timeout=WALL_FIRST_LOAD_S * 1000)
        s.ready = True
        s.loads.append(("wall", time.monotonic() - t))
    except Exception as exc:  # noqa: BLE001 - every failure is reported as a problem
        run.problem(s.label, "wall did not come up", f"{base + s.path}: {str(exc).splitlines()[0]}")
    finally:
        s.navigating = False


async def desk_session(run: Run, base: str, s: Session, rng: random.Random, communities: list[str], grids: list[str]) -> None:
    order: list[str] = []
    while not run.stop.is_set():
        if not order:
            order = list(DESK_PATHS)
            rng.shuffle(order)
        path = order.pop()
        params = []
        if path == "grid":
            params.append(f"grid={rng.choice(grids)}")
        else:
            u = rng.random()
            if u < 0.35 and communities:
                params.append(f"community={rng.choice(communities)}")
            if 0.25 <= u < 0.5:
                params.append("period=7d")
        s.path = f"/{path}" + ("?" + "&".join(params) if params else "")
        await drain(run, s)  # the old document's last events
        s.navigating = True
        t = time.monotonic()
        try:
            await s.page.goto(base + s.path, wait_until="commit", timeout=SETTLE_TIMEOUT_S * 1000)
            ready = await settle(s.page, since=t)
            s.loads.append((path, ready))
            run.loads.append(ready)
            s.ready = True
        except TimeoutError:
            state = await evaluate(s.page, PAGE_STATE_JS, timeout=5) or "no answer from the page"
            run.problem(s.label, "page did not settle", f"{s.path} still running after {SETTLE_TIMEOUT_S:.0f} s ({state})")
        except Exception as exc:  # noqa: BLE001 - every failure is reported as a problem
            if run.stop.is_set():
                return
            run.problem(s.label, "navigation failed", f"{s.path}: {str(exc).splitlines()[0]}")
        finally:
            s.navigating = False
        stay = rng.uniform(*DESK_STAY_S) - (time.monotonic() - t)
        try:
            await asyncio.wait_for(run.stop.wait(), timeout=max(5.0, stay))
        except asyncio.TimeoutError:
            pass


async def collector(run: Run) -> None:
    while not run.stop.is_set():
        await asyncio.sleep(2)
        await asyncio.gather(*(drain(run, s) for s in run.sessions if s.page is not None and not s.navigating))


# --- the wall's update delay --------------------------------------------------------


async def report_writer(run: Run, url: str) -> None:
    writer = make_writer(url)
    sim = await asyncio.to_thread(Simulator, writer, seed=int(time.time()) % 10_000 + 17, patrol=False)  # it reads the places

    def write() -> tuple[int, float]:
        rid = sim.new_report(timeutil.utcnow())
        return rid, time.time() * 1000

    rng = random.Random(run.args.seed + 1)
    end = run.t0 + run.args.minutes * 60 - DELAY_WINDOW_S - 1  # every report gets its full window
    # Start 10 s in, once every wall has come up (or failed to), or a minute in if one is up by then.
    walls = [s for s in run.sessions if s.kind == "wall"]
    while not run.stop.is_set() and (time.monotonic() - run.t0 < 10 or any(s.navigating for s in walls)):
        if time.monotonic() - run.t0 > 60 and any(s.ready for s in walls):
            break
        await asyncio.sleep(0.5)
    print(f"  {run.elapsed():6.1f} s  bench reports start ({sum(s.ready for s in walls)} of {len(walls)} walls up)", flush=True)
    try:
        while not run.stop.is_set() and time.monotonic() < end:
            try:
                rid, at = await asyncio.to_thread(write)
            except Exception as exc:  # noqa: BLE001 - every failure is reported as a problem
                run.problem("bench", "report write failed", f"{type(exc).__name__}: {exc}")
            else:
                r = Report(rid, at, time.monotonic() + DELAY_WINDOW_S + 1)
                run.reports.append(r)
                run.pending.append(r)
            try:
                await asyncio.wait_for(run.stop.wait(), timeout=rng.uniform(*REPORT_EVERY_S))
            except asyncio.TimeoutError:
                pass
    finally:
        writer.dispose()


def _judge(r: Report, seen: float | None, feed: list, origin: float) -> str | float:
    """One wall's delay for one report (seconds) or why there is none."""
    if origin > r.written_ms:
        return "reloaded"
    t = r.written_ms
    interval = next((iv for iv in feed if iv[0] <= t and (iv[1] is None or iv[1] >= t)), None)
    if interval is None:
        return "no feed"  # the wall was not showing the feed: not expected to see it
    end = interval[1]
    if seen is not None and (end is None or seen <= end):
        delay = max(0.0, seen - t) / 1000
        return delay if delay <= DELAY_WINDOW_S else "miss"
    if end is not None and end < t + DELAY_WINDOW_S * 1000:
        return "left feed"
    return "miss"


async def judge_due(run: Run, force: bool = False) -> None:
    now = time.monotonic()
    due = [r for r in run.pending if force or r.due <= now]
    if not due:
        return
    walls = [s for s in run.sessions if s.kind == "wall" and s.page is not None and s.ready]
    ids = [r.rid for r in due]

    async def one(s: Session) -> dict | None:
        return await evaluate(s.page, SEEN_JS, ids)

    got = await asyncio.gather(*(one(s) for s in walls))
    for i, r in enumerate(due):
        if force and r.due > now:
            continue  # its window is not over: not judged
        for s, g in zip(walls, got):
            if g is None:
                run.unmeasured += 1  # the page did not answer in time
                continue
            verdict = _judge(r, g["seen"][i], g["feed"], g["origin"])
            if isinstance(verdict, float):
                run.delays.append(verdict)
            elif verdict == "miss":
                run.misses += 1
                run.problem(s.label, "note: report missed", f"#{r.rid} not on the wall {DELAY_WINDOW_S:.0f} s after it was written")
            elif verdict == "left feed":
                run.left_feed += 1
            elif verdict == "reloaded":
                run.reloaded += 1
        run.pending.remove(r)


async def delay_judge(run: Run) -> None:
    while not run.stop.is_set():
        await asyncio.sleep(1)
        await judge_due(run)


# --- the server, the status line ----------------------------------------------------


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name} (exit code {code})"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


async def server_watch(run: Run, server: StreamlitServer, sim: subprocess.Popen | None) -> None:
    rss_at = 0.0
    while not run.stop.is_set():
        if time.monotonic() - rss_at >= 2:  # the server's memory every 2 s: known up to a crash
            rss_at = time.monotonic()
            if (kb := _status_kb(server.proc.pid, "VmRSS")) > 0:
                run.srv_rss_last, run.srv_rss_max = kb / 1024, max(run.srv_rss_max, kb / 1024)
        code = server.proc.poll()
        if code is not None and not run.interrupted:
            run.crash_at = run.elapsed()
            run.crash = f"server exited after {run.crash_at:.0f} s of sessions: {describe_exit(code)}"
            print(f"!! {run.elapsed():6.1f} s  SERVER EXITED: {describe_exit(code)}", flush=True)
            run.problem("server", "server exited", describe_exit(code))
            run.stop.set()
            return
        if sim is not None and sim.poll() is not None and not run.interrupted:
            run.problem("sim", "simulator exited", describe_exit(sim.returncode))
            sim = None
        await asyncio.sleep(0.25)


HEADER = (f"{'time':>6} {'srv MB':>7} {'srv CPU':>7} {'chr MB':>7} {'chr CPU':>7} {'host':>5} {'load':>5} "
          f"{'feed':>5} {'pages':>5} {'ready':>6} {'reports':>7} {'delay':>11} {'miss':>4} {'errors':>6}")


async def status(run: Run, server_pid: int) -> None:
    srv_cpu, chr_cpu, host = CpuMeter(), CpuMeter(), HostMeter()
    me = os.getpid()

    def sample() -> dict:
        chrome = [p for p in _descendants(me) if p != server_pid and _is_chromium(p)]
        for p in chrome:
            if (st := _stat(p)) is not None:
                run.chromium_pids[p] = st[2]
        rss_sum = sum(_status_kb(p, "VmRSS") for p in chrome) / 1024
        run.rss_sum_max = max(run.rss_sum_max, rss_sum)
        return {
            "t": run.elapsed(),
            "srv_mb": _status_kb(server_pid, "VmRSS") / 1024,
            "srv_cpu": srv_cpu.sample([server_pid]),
            "chr_mb": sum(_status_kb(p, "Pss", "smaps_rollup") for p in chrome) / 1024,
            "chr_cpu": chr_cpu.sample(chrome),
            "chr_n": len(chrome),
            "load": loadavg(),
            "host": host.sample(),
        }

    sample()  # CPU baselines
    print(HEADER, flush=True)
    last = time.monotonic()
    while True:
        try:
            await asyncio.wait_for(run.stop.wait(), timeout=STATUS_EVERY_S - (time.monotonic() - last))
            if run.crash or run.interrupted or time.monotonic() - last < 5:
                return
            # the end of the run: one last line for the last part-interval
        except asyncio.TimeoutError:
            pass
        last = time.monotonic()
        row = await asyncio.to_thread(sample)
        run.samples.append(row)
        walls = [s for s in run.sessions if s.kind == "wall" and s.page is not None]
        views = await asyncio.gather(*(_view(s) for s in walls))
        new_loads = run.loads[run.mark_loads:]
        run.mark_loads = len(run.loads)
        d = run.delays[run.mark_delays:]
        run.mark_delays = len(run.delays)
        m = run.misses - run.mark_misses
        run.mark_misses = run.misses
        errors = len(run.problems) - run.mark_problems
        run.mark_problems = len(run.problems)
        delay = f"{statistics.median(d):5.2f}/{max(d):5.2f}" if d else "-"
        ready = f"{statistics.median(new_loads):6.2f}" if new_loads else "-"
        print(
            f"{row['t']:6.0f} {row['srv_mb']:7.0f} {row['srv_cpu']:6.0f}% {row['chr_mb']:7.0f} {row['chr_cpu']:6.0f}% {row['host']:4.0f}% {row['load']:5.2f} "
            f"{sum(v in FEED_VIEWS for v in views):>2}/{len(walls):<2} {len(new_loads):>5} {ready:>6} {len(run.reports):>7} {delay:>11} {m:>4} {errors:>6}",
            flush=True,
        )
        if run.stop.is_set():
            return


async def _wall_state(s: Session) -> tuple[str, dict | None]:
    return s.label, await evaluate(s.page, WALL_STATE_JS)


async def _view(s: Session) -> str | None:
    return await evaluate(s.page, "() => window.__jwBench && window.__jwBench.view", timeout=5)


# --- the run ------------------------------------------------------------------------


async def guarded(run: Run, name: str, coro) -> None:
    """A task of the bench: a failure of the bench itself is reported, not swallowed."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is reported as a problem
        if not run.stop.is_set():
            run.problem(name, "bench failure", f"{type(exc).__name__}: {exc}")


async def run_sessions(run: Run, base: str, url: str, server: StreamlitServer, sim: subprocess.Popen | None) -> None:
    from playwright.async_api import async_playwright  # noqa: PLC0415 - optional: a browser test skips with a reason without playwright


    eng = make_writer(url)
    with eng.connect() as conn:
        community_codes = list(conn.execute(select(communities.c.code).order_by(communities.c.code)).scalars())
        grid_codes = list(conn.execute(select(grids.c.code).order_by(grids.c.code)).scalars())
    eng.dispose()

    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if not run.interrupted:
            print("\ninterrupted: stopping", flush=True)
        run.interrupted = True
        run.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    def on_loop_error(loop, context) -> None:
        if not run.stop.is_set():  # after the end (Ctrl-C stops Playwright's driver too) it is noise
            loop.default_exception_handler(context)

    loop.set_exception_handler(on_loop_error)

    args = run.args
    rng = random.Random(args.seed)
    for i in range(args.sessions):
        if i < args.walls:
            path = PLAIN_WALL if i % 3 == 0 else ROTATING_WALL
            run.sessions.append(Session(f"wall-{i + 1}", "wall", path))
        else:
            run.sessions.append(Session(f"desk-{i + 1 - args.walls}", "desk", ""))

    tasks: list[asyncio.Task] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            print(f"{args.sessions} sessions ({args.walls} walls: {sum(s.path == PLAIN_WALL for s in run.sessions)} plain {PLAIN_WALL}, "
                  f"the others {ROTATING_WALL}; {args.sessions - args.walls} desk) for {args.minutes:g} min on {run.backend}"
                  + (f", simulator x{args.simulate:g}" if sim else ", no simulator"), flush=True)
            run.t0, run.t0_epoch = time.monotonic(), time.time()
            status_task = asyncio.create_task(guarded(run, "status", status(run, server.proc.pid)))
            tasks += [status_task] + [asyncio.create_task(guarded(run, name, f)) for name, f in (
                ("server watch", server_watch(run, server, sim)), ("collector", collector(run)),
                ("report writer", report_writer(run, url)), ("delay judge", delay_judge(run)))]
            gap = min(1.5, 20.0 / max(1, args.sessions))
            for s in run.sessions:
                if run.stop.is_set():
                    break
                await open_session(run, browser, base, s)
                if s.kind == "wall":
                    tasks.append(asyncio.create_task(guarded(run, s.label, wall_session(run, base, s))))
                else:
                    tasks.append(asyncio.create_task(guarded(run, s.label, desk_session(run, base, s, random.Random(rng.random()), community_codes, grid_codes))))
                try:
                    await asyncio.wait_for(run.stop.wait(), timeout=gap)
                except asyncio.TimeoutError:
                    pass
            try:
                await asyncio.wait_for(run.stop.wait(), timeout=max(0.0, run.t0 + args.minutes * 60 - time.monotonic()))
            except asyncio.TimeoutError:
                pass
            if not run.stop.is_set():  # the normal end: the last events and delays, then the last status line
                await asyncio.gather(*(drain(run, s) for s in run.sessions if s.page is not None and not s.navigating))
                await judge_due(run, force=True)
                run.wall_states = await asyncio.gather(*(_wall_state(s) for s in run.sessions if s.kind == "wall" and s.page is not None))
                for s in run.sessions:
                    if s.kind == "wall" and s.navigating:
                        state = await evaluate(s.page, PAGE_STATE_JS, timeout=5) or "no answer from the page"
                        run.problem(s.label, "wall did not come up", f"{s.path} not up at the end of the run ({state})")
                run.stop.set()
                await asyncio.wait([status_task], timeout=20)
        finally:
            run.stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await asyncio.wait_for(browser.close(), timeout=30)
            except Exception:  # noqa: BLE001 - the driver may be gone already (Ctrl-C)
                pass


def summary(run: Run, server_log: str | None, sim_log: Path | None) -> None:
    a = run.args
    print(f"\n== {a.sessions} sessions ({a.walls} walls, {a.sessions - a.walls} desk), {run.elapsed() / 60:.1f} of {a.minutes:g} min, "
          f"{run.backend}" + (f", simulator x{a.simulate:g}" if a.simulate else "") + (" (interrupted)" if run.interrupted else ""))
    print("server: " + (f"CRASHED: {run.crash}" if run.crash else "up to the end")
          + (f"; RSS every 2 s: max {run.srv_rss_max:.0f} MB, last {run.srv_rss_last:.0f} MB" if run.srv_rss_max > 0 and (run.crash or not run.samples) else ""))
    rows = run.samples
    if rows:
        cpu = [r["srv_cpu"] for r in rows]
        print(f"server RSS MB: first {rows[0]['srv_mb']:.0f}, max {max(r['srv_mb'] for r in rows):.0f}, last {rows[-1]['srv_mb']:.0f}; "
              f"CPU % of one core per {STATUS_EVERY_S} s: mean {statistics.mean(cpu):.0f}, max {max(cpu):.0f}")
        ccpu = [r["chr_cpu"] for r in rows]
        print(f"chromium ({max(r['chr_n'] for r in rows)} processes): PSS MB max {max(r['chr_mb'] for r in rows):.0f}, last {rows[-1]['chr_mb']:.0f} "
              f"(sum of RSS max {run.rss_sum_max:.0f}); CPU % of one core: mean {statistics.mean(ccpu):.0f}, max {max(ccpu):.0f}; "
              f"machine busy (all {os.cpu_count()} cores) mean {statistics.mean(r['host'] for r in rows):.0f} %, load average max {max(r['load'] for r in rows):.2f}")
    d = run.delays
    if d:
        print(f"wall update delay: {len(d)} measurements ({len(run.reports)} reports x the walls showing the feed): median {statistics.median(d):.2f} s, "
              f"p90 {pct(d, 0.9):.2f} s, max {max(d):.2f} s; misses (not shown within {DELAY_WINDOW_S:.0f} s) {run.misses}; "
              f"left the feed before it showed {run.left_feed}" + (f"; wall reloaded {run.reloaded}" if run.reloaded else "")
              + (f"; wall page did not answer {run.unmeasured}" if run.unmeasured else ""))
    else:
        print(f"wall update delay: no measurement ({len(run.reports)} reports written, misses {run.misses})")
    loads: dict[str, list[float]] = {}
    for s in (s for s in run.sessions if s.kind == "desk"):
        for path, r in s.loads:
            loads.setdefault(path, []).append(r)
    if loads:
        allr = [r for v in loads.values() for r in v]
        print(f"desk page ready time: {len(allr)} loads, median {statistics.median(allr):.2f} s, p90 {pct(allr, 0.9):.2f} s, max {max(allr):.2f} s; "
              + ", ".join(f"{p} {statistics.median(v):.1f}/{max(v):.1f}" for p, v in sorted(loads.items())) + " (median/max s)")
    walls_up = sum(s.ready for s in run.sessions if s.kind == "wall")
    up = [r for s in run.sessions if s.kind == "wall" for _p, r in s.loads]
    print(f"walls up: {walls_up} of {a.walls}" + (f" (first KPI strip after median {statistics.median(up):.1f} s, max {max(up):.1f} s)" if up else "")
          + (": at the end " if run.wall_states else "") + "; ".join(
        f"{label} {st['view']}, clock {st['clock_age']:.0f} s old, {st['state']}, {st['reports']} report ids seen" if st and st["clock_age"] is not None
        else f"{label} no clock" for label, st in run.wall_states))
    kinds = Counter(p.kind for p in run.problems)
    print(f"errors: {len(run.problems)}" + (" (" + ", ".join(f"{k} {n}" for k, n in kinds.most_common()) + ")" if kinds else ""))
    if run.crash_at is not None:  # the server's exit is noticed within 0.25 s; pages may see it first
        before = [p for p in run.problems if p.at < run.crash_at - 1 and p.kind != "server exited"]
        print(f"  of which before the crash (more than 1 s before it was noticed): {len(before)}")
    by = Counter((p.kind, p.detail[:120]) for p in run.problems)
    for (k, dtl), n in by.most_common(8):
        first = next(p for p in run.problems if p.kind == k and p.detail[:120] == dtl)
        print(f"  {n:>3} x {k}: {dtl}  (first at {first.at:.0f} s, {first.who})")
    if run.notes:
        print("notes: " + "; ".join(f"{n} x {k}" for k, n in run.notes.most_common(6)))
    for name, path, words in (("server log", server_log, ("Traceback", "Error", "ERROR", "WARNING", "Warning", "Exception", "egmentation")),
                              ("simulator log", sim_log, ("error", "Error", "locked", "Traceback", "retry"))):
        if not path or not Path(path).exists():
            continue
        lines = [ln.rstrip() for ln in Path(path).read_text(errors="replace").splitlines() if any(w in ln for w in words)]
        if lines:
            uniq = list(dict.fromkeys(ln[:200] for ln in lines))
            print(f"{name}: {len(lines)} warning/error lines, e.g.")
            for ln in uniq[:6]:
                print("   " + ln)
    if server_log and Path(server_log).exists():
        text = Path(server_log).read_text(errors="replace").splitlines()
        start = next((i for i, ln in enumerate(text) if ln.startswith("Traceback")), None)
        if start is not None:
            end = next((i for i in range(start + 1, len(text)) if text[i] and not text[i].startswith((" ", "Traceback", "During", "The above"))), len(text) - 1)
            print("server log, first traceback:")
            for ln in text[start:end + 1][-40:]:
                print("   " + ln[:220])
        if run.crash:
            print("server log, last lines:")
            for ln in text[-15:]:
                print("   " + ln[:220])


# --- setup and cleanup --------------------------------------------------------------


def create_pg(url: str) -> None:
    u = make_url(url)
    name = u.database
    if not name or name in ("postgres", "template0", "template1"):
        sys.exit(f"error: --database-url must name a scratch database (got {name!r})")
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                sys.exit(f"error: database {name!r} already exists; the bench creates and drops its own scratch database: name a new one or drop it")
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def drop_pg(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": u.database})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}"'))
        print(f"dropped scratch database {u.database}", flush=True)
    finally:
        admin.dispose()


def end_leftovers(pids: dict[int, int]) -> None:
    """SIGKILL chromium processes of this run that outlived the browser (same pid and start time)."""
    for pid, started in pids.items():
        st = _stat(pid)
        if st is not None and st[2] == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, required=True, help="browser sessions (walls + desk)")
    ap.add_argument("--minutes", type=float, required=True, help="run length from the first session on")
    ap.add_argument("--walls", type=int, default=None, help="how many of the sessions are walls (default: a third, at least one)")
    ap.add_argument("--database-url", default="", help="a PostgreSQL database to CREATE, fill with the demo world and DROP (default: SQLite in a temp file)")
    ap.add_argument("--simulate", type=float, default=10.0, metavar="SPEED", help="live simulator speed (default 10; 0: no simulator)")
    ap.add_argument("--size", default="1920x1080", help="every page's viewport, WIDTHxHEIGHT (default 1920x1080)")
    ap.add_argument("--nice", type=int, default=10, help="niceness of the load generator (this process and Chromium; default 10, 0: none)")
    ap.add_argument("--animate", action="store_true", help="keep the pages' CSS animations (default: off, see NO_ANIMATION_JS)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the sessions' choices of page, filter and stay")
    args = ap.parse_args()
    if args.sessions < 1 or args.minutes <= 0 or args.simulate < 0:
        ap.error("--sessions must be at least 1, --minutes and --simulate positive")
    if not re.fullmatch(r"\d{3,5}x\d{3,5}", args.size):
        ap.error("--size wants WIDTHxHEIGHT, e.g. 1920x1080")
    if args.walls is None:
        args.walls = max(1, args.sessions // 3)
    if not 0 <= args.nice <= 19:
        ap.error("--nice must be between 0 and 19")
    if not 0 <= args.walls <= args.sessions:
        ap.error("--walls must be between 0 and --sessions")
    if args.database_url and not args.database_url.startswith("postgresql"):
        ap.error("--database-url must be a PostgreSQL URL (without it the bench uses a temporary SQLite file)")

    tmp = Path(tempfile.mkdtemp(prefix="jw-sessions-"))
    url, created_pg = args.database_url, False
    server: StreamlitServer | None = None
    sim: subprocess.Popen | None = None
    sim_log = tmp / "simulate.log"
    run: Run | None = None
    status_code = 1
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM during setup: clean up as for Ctrl-C
    try:
        if url:
            create_pg(url)
            created_pg = True
            backend = "PostgreSQL " + url.rsplit("/", 1)[-1]
        else:
            url = f"sqlite:///{tmp / 'world.sqlite'}"
            backend = "SQLite"
        t = time.monotonic()
        env = {**os.environ, "DATABASE_URL": url}
        demo = subprocess.run([sys.executable, "-m", "dashboard.demo", "--scale", "station", "--seed", "7"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if demo.returncode != 0:
            print("demo world failed:", demo.stdout[-1500:], demo.stderr[-1500:])
            return 2
        print(f"demo world (station, seed 7, 18 months) in {time.monotonic() - t:.0f} s -> {backend}", flush=True)

        server_env = {"DATABASE_URL": url, "DASHBOARD_NOW": "", "DASHBOARD_WALL_RELOAD_AT": "off"}
        if url.startswith("postgresql"):
            # As a station runs it: the dashboard reads through the read-only role and
            # writes its audit trail through the audit role (python -m dashboard.roles);
            # the simulator and this bench write as the owner.


            owner = make_writer(url)
            roles.apply(owner, log=lambda _m: None)
            owner.dispose()
            u = make_url(url)
            server_env["DATABASE_URL"] = u.set(username=roles.RoleNames.reader, password=None).render_as_string(hide_password=False)
            server_env["DASHBOARD_AUDIT_URL"] = u.set(username=roles.RoleNames.audit, password=None).render_as_string(hide_password=False)
        server = StreamlitServer(server_env)
        base = server.start(timeout=90)
        print(f"server {base} pid {server.proc.pid}, log {server.log}", flush=True)
        if args.simulate:
            sim = subprocess.Popen([sys.executable, "-m", "dashboard.simulate", "--speed", f"{args.simulate:g}"],
                                   cwd=ROOT, env=env, stdout=open(sim_log, "w"), stderr=subprocess.STDOUT)
        run = Run(args, backend)
        if args.nice:
            os.nice(args.nice)  # from here on: this process, Playwright's driver and Chromium, not the server or the simulator
        asyncio.run(run_sessions(run, base, url, server, sim))
        status_code = 130 if run.interrupted else (1 if run.crash or run.problems else 0)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        status_code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if sim is not None and sim.poll() is None:
                sim.terminate()
                try:
                    sim.wait(10)
                except subprocess.TimeoutExpired:
                    sim.kill()
            if server is not None:
                server.stop()
            if run is not None:
                end_leftovers(run.chromium_pids)
                summary(run, server.log if server else None, sim_log)
            if created_pg:
                try:
                    drop_pg(url)
                except Exception as exc:  # noqa: BLE001 - reported; the exit status says so
                    print(f"could not drop the scratch database: {exc}", flush=True)
                    status_code = status_code or 1
        finally:
            if server is not None and server.log and Path(server.log).exists():
                if status_code == 1:  # kept for a look
                    print(f"server log kept: {server.log}")
                else:
                    Path(server.log).unlink()
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"exit status {status_code}")
    return status_code


if __name__ == "__main__":
    sys.exit(main())

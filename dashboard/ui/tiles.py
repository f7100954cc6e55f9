"""Live tiles that never wait on each other: their queries run off the script thread.

Streamlit runs every fragment of a session in that session's one script
thread, one after the other. A wall tile that queried the database itself
would hold all the others (and the clock) for as long as its query took: 5–8
s each when the database is slow, so the clock stopped for 20 s and the red
banners' ages froze. Here a tile hands its work (poll the change marker, load
when it changed) to a shared, bounded pool of threads and draws what it has:

* ``Tile.step`` starts the work when it is due (at most one job per tile in
  flight, so a hung database cannot pile work up), waits a little for it
  (``wait_s``: a fast database answers within it and the tile is as fresh as
  before), and otherwise returns at once with the last good data;
* the job's result is taken by the next step after it finished: new data, the
  same marker (nothing to load), or the error, kept for the banner;
* the pool (``POOL_WORKERS`` threads for the whole server) is about the size
  of the reader's connection pool, so jobs wait for a thread rather than for
  a connection.

No Streamlit here: ``pages/wall/wall.py`` keeps one ``Tile`` per tile in the
session state and draws it; tests drive ``Tile`` directly.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

POOL_WORKERS = 16
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
SAME = object()  # a job's answer when the marker did not change: keep the data


def pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_WORKERS, thread_name_prefix="jwrh-tile")
        return _pool


@dataclass
class Tile:
    """One live tile's state: last good data, its marker and time, the job in flight."""

    data: Any = None
    has_data: bool = False
    marker: Any = None
    ok_at: datetime | None = None  # real UTC time of the last good answer
    error: BaseException | None = None  # the last job's error, None after a good answer
    job: Future | None = None
    job_started: float | None = None  # time.monotonic()
    next_due: float = 0.0  # time.monotonic() of the next poll
    run: Any = None  # the page's full run this tile last stepped in (the caller's)
    logged: BaseException | None = None  # the last error the caller logged (each once)

    def busy_s(self, now_mono: float | None = None) -> float:
        """How long the job in flight has been running (0 when none)."""
        if self.job is None or self.job_started is None:
            return 0.0
        return (now_mono or time.monotonic()) - self.job_started

    def step(
        self,
        marker: Callable[[], Any],
        load: Callable[[], Any],
        *,
        every_s: float,
        wait_s: float,
        now_real: Callable[[], datetime],
    ) -> None:
        """Start the work if due, wait up to ``wait_s`` for it, take its result if done."""
        mono = time.monotonic()
        if self.job is None and mono >= self.next_due:
            prev, have = self.marker, self.has_data

            def work() -> tuple[Any, Any]:
                m = marker()
                if have and m == prev:
                    return m, SAME
                return m, load()

            self.job = pool().submit(work)
            self.job_started = mono
            self.next_due = mono + every_s
        if self.job is None:
            return
        try:
            m, data = self.job.result(timeout=max(wait_s, 0.0))
        except FutureTimeout:
            return  # still running: draw the last data
        except BaseException as exc:  # noqa: BLE001 - the tile shows it; the caller logs bugs
            self.job = None
            self.error = exc
            return
        self.job = None
        if data is not SAME:
            self.data = data
            self.has_data = True
        self.marker = m
        self.ok_at = now_real()
        self.error = None


class WaitBudget:
    """How long one full run of the page may wait, in all, for tiles that have
    nothing to show yet (their first data): a slow database delays the first
    picture by at most ``total_s``, not by the sum of every tile's query."""

    def __init__(self, total_s: float):
        self.left = total_s

    def take(self, want_s: float) -> float:
        return max(0.0, min(want_s, self.left))

    def spent(self, seconds: float) -> None:
        self.left = max(0.0, self.left - seconds)

"""The wall's live tiles: each tile's queries run in the background
(``dashboard.ui.tiles``), so a slow query holds its own tile only, never the
clock or the other tiles. A tile waits a moment for fresh data (TICK_WAIT_S;
FIRST_WAIT_S out of the run's budget when it has none yet) and otherwise
draws what it has, under a red banner with the age of its data when the
database failed, an amber one when it is slow, never a traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import streamlit as st

from dashboard import timeutil
from dashboard.db.database import DataError
from dashboard.ui import recovery, tiles

LOG = logging.getLogger("jwrh.wall")

TICK_WAIT_S = 0.25
FIRST_WAIT_S = 1.5
RUN_WAIT_BUDGET_S = 3.0
SLOW_S = 4.0  # a job running longer than this: say the data is waiting on the database
BUG_BANNER = '<div class="jw-w-stale">本栏暂不可用（程序错误，已记入日志）</div>'


def tile(key: str) -> tiles.Tile:
    """This session's state of tile ``key`` (a fixed set of keys: nothing grows)."""
    reg = st.session_state.setdefault("_wall_tiles", {})
    t = reg.get(key)
    if not isinstance(t, tiles.Tile):
        t = reg[key] = tiles.Tile()
    return t


def _budget() -> tiles.WaitBudget:
    ss = st.session_state
    run = recovery.run_id()
    b = ss.get("_wall_budget")
    if b is None or b[0] != run:
        b = ss["_wall_budget"] = (run, tiles.WaitBudget(RUN_WAIT_BUDGET_S))
    return b[1]


def step(key: str, marker: Callable[[], Any], load: Callable[[], Any], every_s: float, wait_s: float = TICK_WAIT_S) -> tiles.Tile:
    """Advance tile ``key`` (see dashboard.ui.tiles); errors that are bugs are logged once."""
    t = tile(key)
    run = recovery.run_id()
    if t.run != run:  # a full run (a new view, a reload): poll now
        t.run = run
        t.next_due = 0.0
    if not t.has_data:
        budget = _budget()
        t0 = time.monotonic()
        t.step(marker, load, every_s=every_s, wait_s=budget.take(FIRST_WAIT_S), now_real=timeutil.utcnow)
        budget.spent(time.monotonic() - t0)
    else:
        t.step(marker, load, every_s=every_s, wait_s=wait_s, now_real=timeutil.utcnow)
    if t.error is not None and not isinstance(t.error, DataError) and t.logged is not t.error:
        t.logged = t.error
        LOG.error("wall tile %s failed", key, exc_info=t.error)
    return t


def age_html(since: datetime) -> str:
    """Seconds since ``since`` (real UTC), counted on by the browser (assets/wall-clock.js)."""
    real = timeutil.utcnow()
    ms = int(since.replace(tzinfo=timezone.utc).timestamp() * 1000)
    return f'<span class="jw-w-age" data-jw-since-ms="{ms}">{max(0, int((real - since).total_seconds()))}</span>'


def banner_html(t: tiles.Tile) -> str:
    """The red (failed) or amber (waiting on a slow database) line over a tile, or nothing."""
    if t.error is not None and not isinstance(t.error, DataError):
        return BUG_BANNER
    if t.error is not None:
        if t.ok_at is not None:
            return f'<div class="jw-w-stale">{stale_text(t.ok_at)}</div>'
        return '<div class="jw-w-stale">数据源暂不可用，正在重试</div>'
    if t.has_data and t.ok_at is not None and t.busy_s() > SLOW_S:
        return f'<div class="jw-w-stale jw-w-slow">数据库响应缓慢 · 数据更新于 {timeutil.fmt_local(t.ok_at, timeutil.CLOCK_S)}（{age_html(t.ok_at)} 秒前）</div>'
    return ""


def live(key: str, marker: Callable[[], Any], load: Callable[[], Any], render: Callable[[Any], str], every_s: float) -> None:
    """One live tile: poll ``marker()`` every ``every_s`` seconds and ``load()``
    when it changed (or on the first run), both in the background; draw
    ``render(data)`` as one HTML block. On DataError keep the last good data
    under a red banner "数据更新于 …，已中断 N 秒"; any other error (a bug) is
    logged and keeps the last data too, under its own banner: the wall never
    shows a traceback."""
    _draw(key, step(key, marker, load, every_s), render)


def follow(key: str, source: str, render: Callable[[Any], str]) -> None:
    """A tile drawn from another live tile's data (``source``, stepped earlier in
    the same run of the view): one query serves several panels, which show the
    source's data, its banner and its waiting alike."""
    _draw(key, tile(source), render)


def _draw(key: str, t: tiles.Tile, render: Callable[[Any], str]) -> None:
    body = '<div class="jw-w-wait">数据加载中…</div>'
    banner = banner_html(t)
    if t.has_data:
        try:
            body = render(t.data)
        except Exception:
            LOG.exception("wall tile %s failed to render", key)
            banner = BUG_BANNER
    st.html(f'<div class="jw-w-tile jw-w-tile-{key}">{banner}{body}</div>')


def stale_text(ok_at: datetime) -> str:
    """The red banner's words: when the data on screen was last good and how long
    ago (the seconds run on in the browser)."""
    return f"数据更新于 {timeutil.fmt_local(ok_at, timeutil.CLOCK_S)}，已中断 {age_html(ok_at)} 秒"


def every(seconds: int, at: datetime) -> int:
    """A marker part that changes every ``seconds`` of wall time."""
    return int(at.timestamp()) // seconds

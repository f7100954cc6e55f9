"""Retrying what failed, without the user: once per run of a page, a fragment
that reruns it when the database is back (``rerun_when_back``) or after a
query timed out (``retry_later``). ``widgets.data_error`` arms them under a
desk page's error box; the frame and the wall arm them too."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from dashboard.db.database import last_failure, reachable
from dashboard.ui import tiles

RECOVERY_EVERY_S = 3  # a page that lost the database while it ran checks this often whether it is back
RUN_AT = "_jw_run_at"  # time.monotonic() when this session's last full run began
_PROBE = "_jw_probe"  # a background reachable() check (rerun_when_back)
CONTEXT = "_jw_context"  # the frame's Context of this run (frame.context)


RETRY_SLOW_S = 10  # a desk page whose query timed out reruns after this (the database is busy: not sooner)


def run_id() -> float | None:
    """Identifies this session's current full run (its start, ``time.monotonic()``):
    state kept per run (a wall tile's poll, a wait budget) compares it."""
    return st.session_state.get(RUN_AT)


def once_per_run(name: str, fragment: Callable[[], None]) -> None:
    """Call ``fragment`` at most once in this run of the page (several parts may
    fail at once; one retry is enough)."""
    ss = st.session_state
    key = f"_jw_once_{name}"
    if ss.get(key) != ss.get(RUN_AT):
        ss[key] = ss.get(RUN_AT)
        fragment()


@st.fragment(run_every=RETRY_SLOW_S)
def retry_later() -> None:
    """Draws nothing. Reruns the page RETRY_SLOW_S seconds after the run that
    drew it (a part of it timed out); the parts that succeeded come from the cache."""
    if retry_due(st.session_state.get(RUN_AT, 0.0), time.monotonic()):
        st.rerun()


def retry_due(run_at: float, now: float) -> bool:
    """Has the page waited RETRY_SLOW_S since the run that armed the retry?
    (The fragment's first tick comes RETRY_SLOW_S after the run, give or take.)"""
    return now - run_at >= RETRY_SLOW_S - 0.5


@st.fragment(run_every=RECOVERY_EVERY_S)
def rerun_when_back() -> None:
    """Draws nothing. When the reader has lost the database since this run began
    (``database.last_failure``) and reaches it now, rerun the whole page. The
    wall has one always (tiles that refresh every 30 or 60 s then drop their
    red banners with the others); ``widgets.data_error`` adds one under a desk
    page's "数据库无法连接" box. A query that is merely wrong is never retried."""
    ss = st.session_state
    ctx = ss.get(CONTEXT)
    if ctx is None:
        return
    failed = last_failure(ctx.engine)
    if failed is None or failed <= ss.get(RUN_AT, 0.0):
        return
    # The probe runs in the background: on a hung network it could take its
    # whole time limit, and this session's tiles must not wait for it.
    probe = ss.get(_PROBE)
    if probe is None or (probe.done() and probe.exception() is None and not probe.result()):
        ss[_PROBE] = tiles.pool().submit(reachable, ctx.engine)
        return
    if probe.done():
        ss.pop(_PROBE, None)
        if probe.exception() is None and probe.result():
            st.rerun()

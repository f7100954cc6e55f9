"""The LED wall's views and their rotation (``?rotate=overview:60,dispatch:30``).

A wall shows one view at a time under its fixed header and KPI strip. ``view=``
pins one view; ``rotate=`` cycles through several, each for its own dwell time
in seconds. The position in the cycle is a function of the wall clock (Unix
time modulo the cycle's length), not of when the page was opened, so a wall
that reloads, reconnects to a restarted server or is opened on a second screen
shows the same view at the same moment: nothing about rotation is kept in the
session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time

from dashboard import timeutil

# key -> title, in the order the issue lists them (and the order of a bare "rotate=all").
VIEWS: dict[str, str] = {
    "overview": "综合态势",
    "reports": "网格上报",
    "dispatch": "派单调度",
    "patrol": "巡逻防控",
    "trends": "警情态势",
    "disputes": "矛盾纠纷",
    "warning": "网格预警",  # the early warning (queries.warning): not in the first list, last in rotate=all
}
# The views whose main row shows the map (the others keep it mounted, hidden); narrowed to
# one grid, 网格上报 and 派单调度 show it too (pages/wall/wall.py ``narrowed``).
MAP_VIEWS = ("overview", "patrol", "warning")
DEFAULT_VIEW = "overview"
DEFAULT_DWELL_S = 60
MIN_DWELL_S, MAX_DWELL_S = 10, 3600
MAX_STEPS = 24


@dataclass(frozen=True)
class Step:
    view: str
    dwell_s: int


@dataclass(frozen=True)
class Position:
    """Where a schedule is at one instant: the step shown, its index, and the
    seconds left before the next view (None when nothing rotates)."""

    view: str
    index: int
    steps: int
    left_s: int | None
    next_view: str | None


def parse_view(raw: str | None) -> tuple[str, str | None]:
    """``view=`` → (view key, warning or None); unknown → the default view."""
    if raw in (None, ""):
        return DEFAULT_VIEW, None
    key = str(raw).strip().lower()
    if key in VIEWS:
        return key, None
    return DEFAULT_VIEW, f"已忽略未知的大屏视图 view={str(raw)[:20]}（可选：{'、'.join(VIEWS)}）"


def parse_rotate(raw: str | None) -> tuple[list[Step], list[str]]:
    """``rotate=overview:60,dispatch:30`` → steps and warnings about the parts
    that were dropped. A view without a dwell gets DEFAULT_DWELL_S; ``all`` means
    every view at the default dwell (``all:45`` at 45 s). Dwell times are whole
    seconds in MIN_DWELL_S..MAX_DWELL_S. Fewer than two usable steps means no
    rotation (the one step, if any, is then simply the view shown)."""
    if raw in (None, ""):
        return [], []
    steps: list[Step] = []
    bad: list[str] = []
    for part in str(raw)[:400].split(","):
        part = part.strip()
        if not part:
            continue
        name, _, dwell_raw = part.partition(":")
        name = name.strip().lower()
        dwell_raw = dwell_raw.strip()
        if dwell_raw:
            # isascii: "²⁰" and "①" are isdigit() but not int()-able
            if not (dwell_raw.isascii() and dwell_raw.isdigit()) or not MIN_DWELL_S <= int(dwell_raw) <= MAX_DWELL_S:
                bad.append(part[:24])
                continue
            dwell = int(dwell_raw)
        else:
            dwell = DEFAULT_DWELL_S
        if name == "all":
            steps.extend(Step(v, dwell) for v in VIEWS)
        elif name in VIEWS:
            steps.append(Step(name, dwell))
        else:
            bad.append(part[:24])
    steps = steps[:MAX_STEPS]
    warnings = []
    if bad:
        warnings.append(
            f"已忽略无效的轮播项 {'、'.join(bad)}（格式 视图:秒，视图为 {'、'.join(VIEWS)}，停留 {MIN_DWELL_S}–{MAX_DWELL_S} 秒）"
        )
    return steps, warnings


def position(steps: list[Step], fallback: str, at_epoch_s: float) -> Position:
    """The step shown at ``at_epoch_s`` (Unix seconds). Without rotation (fewer
    than two steps) the one step's view, or ``fallback``."""
    if len(steps) < 2:
        view = steps[0].view if steps else fallback
        return Position(view, 0, 1, None, None)
    cycle = sum(s.dwell_s for s in steps)
    t = int(at_epoch_s) % cycle
    for i, s in enumerate(steps):
        if t < s.dwell_s:
            return Position(s.view, i, len(steps), s.dwell_s - t, steps[(i + 1) % len(steps)].view)
        t -= s.dwell_s
    raise AssertionError("unreachable: t < cycle")


def next_reload(opened: datetime, at: dt_time | None) -> datetime | None:
    """The first instant (naive UTC) after ``opened`` (naive UTC) whose local
    time of day (the station's zone) is ``at``: when a wall opened then reloads
    itself. None when ``at`` is None (never)."""
    if at is None:
        return None
    local = timeutil.to_local(opened)
    candidate = local.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return timeutil.to_utc(candidate)

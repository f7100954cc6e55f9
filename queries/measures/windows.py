"""The windows of 同比 and 环比, defined once, and the coverage rule.

Windows are half-open UTC intervals [start, end); "as of" means judged at the
window's end, so a past window is judged as it stood then. Every 同比/环比
(every tile, legend, table and wall view) comes from ``Periods``: its windows,
its coverage rule (a base that begins before the measure's table has any
record is "—", ``feed_starts``/``base_complete``) and its 显著 mark (by
``arithmetic.comparison``). Also the words for them (``basis_texts``,
``span_note``, ``period_name``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import disputes, incidents, patrol_points, reports, tasks
from dashboard.filters import PERIODS, Filters
from queries._common import Window, fetch_one
from queries.measures.arithmetic import Compared, comparison


def last_year_window(w: Window) -> Window:
    """同比's base: the same local calendar days and times one year earlier."""
    start_local, end_local = timeutil.to_local(w[0]), timeutil.to_local(w[1])
    s = datetime.combine(timeutil.shift_year(start_local.date(), -1), start_local.time())
    e = datetime.combine(timeutil.shift_year(end_local.date(), -1), end_local.time())
    return timeutil.to_utc(s), timeutil.to_utc(e)


# The periods whose 环比 steps back by calendar months, and by how many.
CALENDAR_STEP_MONTHS = {"month": 1, "last_month": 1, "quarter": 3, "last_quarter": 3, "last_year": 12}


def previous_window(w: Window, period: str | None = None) -> Window:
    """环比's base: the period just before, of the same length.

    Calendar periods step back by calendar months (本月 1–23 Nov → 1–23 Oct,
    本季度 by three months; 上月 November → October, 上季度 Q3 → Q2, 上年 2025 → 2024); every
    other window steps back by its own length in whole days, so today until
    14:30 compares with yesterday until 14:30 (and 上周 with the week before).
    """
    months = CALENDAR_STEP_MONTHS.get(period or "")
    if months:
        start_local, end_local = timeutil.to_local(w[0]), timeutil.to_local(w[1])
        s = datetime.combine(timeutil.shift_months(start_local.date(), -months), start_local.time())
        e = datetime.combine(timeutil.shift_months(end_local.date(), -months), end_local.time())
        return timeutil.to_utc(s), timeutil.to_utc(e)
    days = max(1, math.ceil((w[1] - w[0]) / timedelta(days=1)))
    step = timedelta(days=days)
    return w[0] - step, w[1] - step


# --- comparisons: 同比 and 环比, defined once ------------------------------------------
#
# Every 同比/环比 on the desk pages and on the wall comes from ``Periods``:
#
# * current   = the period's window, cut at now when the period contains now
#               (today so far, this month so far, the last 30 days until now);
# * last_year = the same local days and times one year earlier
#               (``last_year_window``): a partial today is compared with the
#               same partial day last year, never with the whole of that day;
# * previous  = the period just before, of the same length and cut the same
#               way (``previous_window``: today until 14:30 → yesterday until
#               14:30, 本月 1–20 Nov 14:30 → 1–20 Oct 14:30).
#
# A snapshot (待派单, 调处中… at an instant) is compared at ``at`` (now), at the
# same local instant last year and at ``at`` moved back as far as the previous
# window is (yesterday for 今日, the same instant last month for 本月).
#
# Coverage: a base window (or instant) that begins before the first record of
# the measure's own table (``feed_starts``) was counted short (a feed that
# began a year ago has no "same 30 days last year"; counted anyway, 518
# incidents against the 9 of its first hours read as +5656%), so that change
# is unknown: "—", like a zero base. ``base_complete`` is the rule.
#
# Kinds (``comparison``):
# * "count": events counted; relative change, with the Poisson 显著 mark (the
#   test allows for base windows of another length, e.g. a month of 28 days);
# * "rate": a Ratio (or a share in 0..1); change in percentage points, no mark;
# * "level": a mean, a median, hours, a roster; relative change, no mark.


def base_complete(base: Window, data_since: datetime | None) -> bool:
    """A 同比/环比 base is usable only when the data reach back to its start.

    ``data_since`` is when the measure's table begins (its first record). A base
    window that starts earlier would be counted short (a year-to-date compared
    with a last year that is only half in the database would read as a rise),
    so its change is unknown ("—"), like a zero base. None = unknown: complete.
    """
    return data_since is None or base[0] >= data_since


def last_year_instant(at: datetime) -> datetime:
    """The same local date and time one year before ``at`` (29 Feb → 28 Feb)."""
    return last_year_window((at, at))[0]


def _length(w: Window) -> float:
    return max(0.0, (w[1] - w[0]).total_seconds())


_UNSET = object()


@dataclass(frozen=True)
class Periods:
    """The three windows of a 同比/环比 and the snapshot instants (see the section comment).

    Build it with ``periods`` or ``periods_of``; every comparison on screen goes
    through ``compare``/``compare_at`` (a measure per window or instant) or
    ``judge`` (figures fetched together in one statement).
    """

    current: Window
    last_year: Window
    previous: Window
    at: datetime  # the instant snapshots are taken at (now)
    period: str | None = None  # "today", "month", "quarter"… (a Filters period) or None

    def basis(self, instants: bool = False) -> tuple[str, str]:
        """(同比, 环比) in words: what this period's comparisons compare with (``basis_texts``)."""
        return basis_texts(self.period, self.current, instants)

    @property
    def span(self) -> str | None:
        """"本月 2 天" for a calendar period so far (``span_note``), else None."""
        return span_note(self.period, self.current)

    @property
    def at_last_year(self) -> datetime:
        """The snapshot's 同比 instant: the same local instant one year earlier."""
        return last_year_instant(self.at)

    @property
    def at_previous(self) -> datetime:
        """The snapshot's 环比 instant: ``at`` moved back as far as ``previous`` is."""
        return self.at - (self.current[1] - self.previous[1])

    def covered(self, since: datetime | None, instants: bool = False) -> tuple[bool, bool]:
        """(同比 base covered, 环比 base covered) by a table whose first record is ``since``."""
        if instants:
            return base_complete((self.at_last_year, self.at_last_year), since), base_complete((self.at_previous, self.at_previous), since)
        return base_complete(self.last_year, since), base_complete(self.previous, since)

    def judge(
        self, value: Any, yoy_base: Any, pop_base: Any, since: datetime | None, kind: str = "count", instants: bool = False
    ) -> Compared:
        """Figures already measured (current, last year, previous) as a Compared:
        a base not covered by the table (``since``) becomes unknown ("—")."""
        yoy_ok, pop_ok = self.covered(since, instants)
        cur = _length(self.current)
        ly, prev = _length(self.last_year), _length(self.previous)
        yoy_x = cur / ly if (cur and ly and not instants) else 1.0
        pop_x = cur / prev if (cur and prev and not instants) else 1.0
        out = comparison(value, yoy_base if yoy_ok else None, pop_base if pop_ok else None, kind, yoy_x, pop_x)
        yoy_text, pop_text = self.basis(instants)
        return replace(out, yoy_basis=yoy_text, pop_basis=pop_text, span=None if instants else self.span)

    def compare(self, measure: Callable[[Window], Any], since: datetime | None, kind: str = "count", value: Any = _UNSET) -> Compared:
        """``measure(window)`` over the current window and both bases; a base not
        covered is not measured at all. ``value``: the current figure, when the
        caller has it already."""
        yoy_ok, pop_ok = self.covered(since)
        now = measure(self.current) if value is _UNSET else value
        ly = measure(self.last_year) if yoy_ok else None
        prev = measure(self.previous) if pop_ok else None
        return self.judge(now, ly, prev, since, kind)

    def compare_at(self, measure: Callable[[datetime], Any], since: datetime | None, kind: str = "count", value: Any = _UNSET) -> Compared:
        """A snapshot: ``measure(instant)`` at ``at``, ``at_last_year`` and ``at_previous``."""
        yoy_ok, pop_ok = self.covered(since, instants=True)
        now = measure(self.at) if value is _UNSET else value
        ly = measure(self.at_last_year) if yoy_ok else None
        prev = measure(self.at_previous) if pop_ok else None
        return self.judge(now, ly, prev, since, kind, instants=True)


# Calendar periods (a Filters period) and the name of their span so far.
CALENDAR_SPANS = {"month": "本月", "quarter": "本季度", "year": "本年"}
_CALENDAR_BASIS = {
    # period: (同比 of a window, 环比 of a window, 环比 of a snapshot instant)
    "month": ("去年同月同期", "上月同期", "上月同一时刻"),
    "quarter": ("去年同季同期", "上季度同期", "上季度同一时刻"),
    # whole periods that ended: 上月 November → November last year / October
    "last_month": ("去年同月", "前一个月", "一个月前同一时刻"),
    "last_quarter": ("去年同季度", "前一个季度", "三个月前同一时刻"),
    "last_year": ("前一年", "前一年", "一年前同一时刻"),
}


def period_name(f: Filters) -> str:
    """The window a figure of ``f``'s period covers, as a label prefix: 本月,
    近30天, 今日… (``dashboard.filters.PERIODS``); a custom period is 所选时段
    (its dates are in the page's period label). Every rate label (办结率,
    化解率, 按时反馈率…) carries it: 本月办结率 and 近30天办结率 are not the same figure."""
    if f.period == "custom" or f.period not in PERIODS:
        return "所选时段"
    return PERIODS[f.period]


def window_days(window: Window) -> int:
    """Local calendar days the window touches (today so far counts as one); 0 when empty."""
    if window[1] <= window[0]:
        return 0
    first = timeutil.to_local(window[0]).date()
    last = timeutil.to_local(window[1] - timedelta(microseconds=1)).date()
    return (last - first).days + 1


def span_note(period: str | None, window: Window) -> str | None:
    """"本月 2 天": a calendar period so far (本月, 本季度, 本年) with the local days
    it has run, today included, so a rate on the 2nd of the month reads as two
    days' worth. Shown always (not only while the month is young): the day
    count is the window's own, ``window_days``. None for other periods."""
    name = CALENDAR_SPANS.get(period or "")
    return None if name is None else f"{name} {window_days(window)} 天"


def basis_texts(period: str | None, window: Window, instants: bool = False) -> tuple[str, str]:
    """What 同比 and 环比 compare with, in words, for a period (as ``Periods``
    builds their windows: ``last_year_window``, ``previous_window``).

    ``instants``: a snapshot (待派单… at an instant) rather than a count over
    the window. Today: 去年同日同一时刻 / 昨日同一时刻; 本月: 去年同月同期 /
    上月同期 (a snapshot: 去年同一时刻 / 上月同一时刻); 本季度 likewise; 上月:
    去年同月 / 前一个月 (上季度, 上年 likewise: their ``previous_window`` steps by
    calendar months);
    every other window (近7天, 近30天, 本年, a custom period):
    去年同期 / 上一等长时段（前 N 天）."""
    if period == "today":
        return "对比 去年同日同一时刻", "对比 昨日同一时刻"
    if period in _CALENDAR_BASIS:
        yoy, pop, pop_at = _CALENDAR_BASIS[period]
        return ("对比 去年同一时刻", f"对比 {pop_at}") if instants else (f"对比 {yoy}", f"对比 {pop}")
    days = max(1, math.ceil((window[1] - window[0]) / timedelta(days=1)))
    if instants:
        return "对比 去年同一时刻", f"对比 {days}天前同一时刻"
    return "对比 去年同期", f"对比 上一等长时段（前{days}天）"


def periods(window: Window, period: str | None = None, at: datetime | None = None) -> Periods:
    """The comparison windows of ``window`` (a period called ``period``: "today",
    "month", "quarter"… or None), snapshots at ``at`` (default: the window's
    end). The window is cut at ``at`` when it runs past it."""
    if at is not None and window[1] > at:
        window = (window[0], max(window[0], at))
    return Periods(window, last_year_window(window), previous_window(window, period), window[1] if at is None else at, period)


def periods_of(f: Filters, now: datetime) -> Periods:
    """``periods`` of a Filters' period at ``now`` (today's when it has no dates)."""
    w = f.window(now)
    if w is None:
        w, period = (timeutil.day_start_utc(timeutil.local_today(now)), now), "today"
    else:
        period = f.period
    return periods(w, period, now)


@dataclass(frozen=True)
class FeedStarts:
    """When each table's records begin (naive UTC; None = no record yet): the
    ``since`` of the coverage rule for the measures on that table. Over the whole
    database: a feed is a system, not a place (a quiet grid is normal)."""

    incidents: datetime | None  # first incidents.received_at
    reports: datetime | None  # first reports.reported_at
    tasks: datetime | None  # first tasks.created_at
    disputes: datetime | None  # first disputes.found_at
    patrol: datetime | None  # first patrol_points.at


def feed_starts(engine: Engine) -> FeedStarts:
    """The first record of every table a 同比/环比 is taken on, in one statement
    (each a MIN over an indexed time column). Grain: one FeedStarts."""
    cols = (incidents.c.received_at, reports.c.reported_at, tasks.c.created_at, disputes.c.found_at, patrol_points.c.at)
    row = fetch_one(engine, select(*(select(func.min(c)).scalar_subquery() for c in cols)))
    return FeedStarts(*(None if v is None or pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in row))

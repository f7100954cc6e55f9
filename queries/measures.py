"""Every measure of DOMAIN.md, each defined exactly once.

Pure arithmetic first (同比, 环比 and the comparison windows), then the
measures that need SQL. A measure that cannot be computed (a zero base, no
tasks due) is ``None``; the screen shows "—" for it, never ∞ or NaN.

Definitions (windows are half-open UTC intervals [start, end); "as of" means
judged at the window's end, so a past window is judged as it stood then):

* 同比 yoy = (this period − same period last year) / same period last year.
* 环比 pop = (this period − the period just before, same length) / that period.
  Both, everywhere (every tile, legend, table and wall view), come from
  ``Periods`` (section "comparisons" below): its windows, its coverage rule
  (a base that begins before the measure's table has any record is "—") and
  its 显著 mark.
* 按时反馈率 = tasks whose feedback deadline fell in the window and got
  feedback by the deadline / tasks whose deadline fell in the window. A task
  still without feedback when its deadline passed counts as late: a rate that
  ignored open tasks would read 100% while work piles up.
* 办结率 = tasks created in the window and closed as of its end / tasks created in it.
* 超期数 = tasks, at an instant, dispatched, past their current deadline and
  without feedback (and not closed).
* 平均处置时长 = mean hours from creation to close, over tasks closed in the
  window; 处置时长中位数 = their median (nearest rank, as 到场时间). A task
  closed before it was created is a data error: left out of both, and counted
  (``time_to_close``'s ``excluded``).
* 回访率 = tasks closed in the window that had their follow-up visit as of the
  window's end / tasks closed in the window.
* 满意率 = satisfied / visits, over follow-up visits made in the window
  (tasks and disputes separately: two populations, one formula ``Ratio``).
* 化解率 = disputes closed in the window as 化解 / disputes closed in the window.
* 到场时间 = arrived_at − received_at in minutes, median and p90 by the
  nearest-rank rule (the smallest value with at least p·n values at or below
  it), over incidents received in the window that have an arrival time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable

import pandas as pd
from sqlalchemy import Integer, and_, case, func, literal, or_, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import communities, disputes, grids, incidents, tasks
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import minutes_between

# --- arithmetic ------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """A rate with its parts, so the screen can show "47/50" next to "94.0%"."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def below(self, target: float | None) -> bool:
        """Short of a target (the station's, ``dashboard.station.Targets``);
        never when there is no target or nothing to rate."""
        return target is not None and self.value is not None and self.value < target


def change(current: float | None, base: float | None) -> float | None:
    """Relative change (current − base) / base: the formula of both 同比 and 环比.

    None when either side is unknown or the base is zero (no ∞, no NaN).
    """
    if current is None or base is None:
        return None
    if isinstance(current, float) and math.isnan(current) or isinstance(base, float) and math.isnan(base):
        return None
    if base == 0:
        return None
    return (current - base) / base


def last_year_window(w: Window) -> Window:
    """同比's base: the same local calendar days and times one year earlier."""
    start_local, end_local = timeutil.to_local(w[0]), timeutil.to_local(w[1])
    s = datetime.combine(timeutil.shift_year(start_local.date(), -1), start_local.time())
    e = datetime.combine(timeutil.shift_year(end_local.date(), -1), end_local.time())
    return timeutil.to_utc(s), timeutil.to_utc(e)


def previous_window(w: Window, period: str | None = None) -> Window:
    """环比's base: the period just before, of the same length.

    Calendar periods step back by calendar months (本月 1–23 Nov → 1–23 Oct,
    本季度 by three months; 上月 November → October, 上季度 Q3 → Q2); every
    other window steps back by its own length in whole days, so today until
    14:30 compares with yesterday until 14:30 (and 上周 with the week before).
    """
    if period in ("month", "quarter", "last_month", "last_quarter"):
        months = 1 if period in ("month", "last_month") else 3
        start_local, end_local = timeutil.to_local(w[0]), timeutil.to_local(w[1])
        s = datetime.combine(timeutil.shift_months(start_local.date(), -months), start_local.time())
        e = datetime.combine(timeutil.shift_months(end_local.date(), -months), end_local.time())
        return timeutil.to_utc(s), timeutil.to_utc(e)
    days = max(1, math.ceil((w[1] - w[0]) / timedelta(days=1)))
    step = timedelta(days=days)
    return w[0] - step, w[1] - step


# A 同比/环比 change of a count is marked only below this p-value. Small counts
# are never marked: with 5 events or fewer in both periods together even 5 vs 0
# gives p = 0.0625.
SIGNIFICANCE_LEVEL = 0.05
_EXACT_LIMIT = 5000


def poisson_p_value(current: int, base: int, exposure_ratio: float = 1.0) -> float | None:
    """Two-sided p-value of "the two counts come from the same Poisson rate".

    The conditional (exact) test: given n = current + base events, under the
    null hypothesis ``current`` ~ Binomial(n, q) with q = r / (1 + r), where r
    is the ratio of the current period's length to the base period's (1 for
    同比 and 环比, which compare periods of equal length). The p-value sums the
    probabilities of every outcome no more likely than the one observed. Above
    5,000 events the normal approximation with continuity correction is used.
    None when there is nothing to test (n = 0) or a count is negative.
    """
    if current is None or base is None or current < 0 or base < 0 or exposure_ratio <= 0:
        return None
    current, base = int(current), int(base)
    n = current + base
    if n == 0:
        return None
    q = exposure_ratio / (1.0 + exposure_ratio)
    if n > _EXACT_LIMIT:
        sd = math.sqrt(n * q * (1 - q))
        z = max(abs(current - n * q) - 0.5, 0.0) / sd
        return min(1.0, math.erfc(z / math.sqrt(2)))
    lq, l1q = math.log(q), math.log1p(-q)
    lfn = math.lgamma(n + 1)

    def logpmf(k: int) -> float:
        return lfn - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lq + (n - k) * l1q

    observed = logpmf(current)
    tol = observed + 1e-7  # outcomes as likely as the observed one count too (float noise)
    total = 0.0
    for k in range(n + 1):
        lp = logpmf(k)
        if lp <= tol:
            total += math.exp(lp)
    return min(1.0, total)


def significant(current: float | None, base: float | None, exposure_ratio: float = 1.0) -> bool:
    """True when a change between two event counts is unlikely to be noise (Poisson test, p < 0.05)."""
    if current is None or base is None:
        return False
    if not (float(current).is_integer() and float(base).is_integer()):
        return False
    p = poisson_p_value(int(current), int(base), exposure_ratio)
    return p is not None and p < SIGNIFICANCE_LEVEL


@dataclass(frozen=True)
class Compared:
    """A figure with its 同比 and 环比 (None = "—") and the bases they came from.

    ``yoy_sig``/``pop_sig`` mark a change of a count that a Poisson test finds
    significant (p < 0.05); small counts show their change without the mark.
    Rates and levels never carry the mark. ``ratio`` is a rate's current
    numerator and denominator (for "47/50"), None for other kinds.
    """

    value: float | None
    yoy: float | None
    pop: float | None
    yoy_base: float | None
    pop_base: float | None
    yoy_sig: bool = False
    pop_sig: bool = False
    ratio: Ratio | None = None
    # What the 同比/环比 compare with, in words ("对比 去年同日同一时刻"), and the
    # span of a calendar period so far ("本月 2 天"): set by ``Periods.judge``
    # (``basis_texts``, ``span_note``); None where the figure was not compared there.
    yoy_basis: str | None = None
    pop_basis: str | None = None
    span: str | None = None

    @property
    def detail(self) -> str | None:
        """A rate's "numerator/denominator", None for other kinds."""
        return None if self.ratio is None else f"{self.ratio.numerator}/{self.ratio.denominator}"


def point_change(current: float | None, base: float | None) -> float | None:
    """Change of a rate in percentage points (0.962 vs 0.950 → +0.012).

    Rates (办结率, 化解率…) are compared by difference, not by relative change:
    "同比上升1.2个百分点" is how a briefing states it. None when either is unknown.
    """
    if current is None or base is None:
        return None
    return current - base


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

COMPARISON_KINDS = ("count", "rate", "level")


def _rate_value(x: Ratio | float | None) -> float | None:
    return x.value if isinstance(x, Ratio) else x


def comparison(
    value: float | Ratio | None,
    yoy_base: float | Ratio | None,
    pop_base: float | Ratio | None,
    kind: str = "count",
    yoy_exposure: float = 1.0,
    pop_exposure: float = 1.0,
) -> Compared:
    """The arithmetic of every 同比/环比: ``value`` against its two bases (None = unknown).

    ``kind`` is one of COMPARISON_KINDS (see the section comment); the
    exposures are the current window's length over each base's, for the
    significance test of counts.
    """
    if kind == "rate":
        v, y, p = _rate_value(value), _rate_value(yoy_base), _rate_value(pop_base)
        return Compared(v, point_change(v, y), point_change(v, p), y, p, ratio=value if isinstance(value, Ratio) else None)
    if kind == "level":
        return Compared(value, change(value, yoy_base), change(value, pop_base), yoy_base, pop_base)
    if kind == "count":
        return Compared(
            value,
            change(value, yoy_base),
            change(value, pop_base),
            yoy_base,
            pop_base,
            significant(value, yoy_base, yoy_exposure),
            significant(value, pop_base, pop_exposure),
        )
    raise ValueError(f"kind must be one of {COMPARISON_KINDS}")


def compare(value: float | None, yoy_base: float | None, pop_base: float | None) -> Compared:
    """A count with its 同比 and 环比 and whether each change is significant (``comparison``)."""
    return comparison(value, yoy_base, pop_base, "count")


def compare_rates(value: Ratio, yoy_base: Ratio | None, pop_base: Ratio | None) -> Compared:
    """A rate with its 同比/环比 as percentage-point differences (``comparison``)."""
    return comparison(value, yoy_base, pop_base, "rate")


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
}


def period_name(f: Filters) -> str:
    """The window a figure of ``f``'s period covers, as a label prefix: 本月,
    近30天, 今日… (``dashboard.filters.PERIODS``); a custom period is 所选时段
    (its dates are in the page's period label). Every rate label (办结率,
    化解率, 按时反馈率…) carries it: 本月办结率 and 近30天办结率 are not the same figure."""
    from dashboard.filters import PERIODS

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
    上月同期 (a snapshot: 去年同一时刻 / 上月同一时刻); 本季度 likewise;
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
    from dashboard.db.schema import patrol_points, reports

    cols = (incidents.c.received_at, reports.c.reported_at, tasks.c.created_at, disputes.c.found_at, patrol_points.c.at)
    row = fetch_one(engine, select(*(select(func.min(c)).scalar_subquery() for c in cols)))
    return FeedStarts(*(None if v is None or pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in row))


# --- the dispatch loop -------------------------------------------------------------


def _not_after(col, at: datetime):  # noqa: ANN001, ANN202
    """``col`` had happened by ``at``."""
    return and_(col.is_not(None), col <= at)


def _not_yet(col, at: datetime):  # noqa: ANN001, ANN202
    """``col`` had not happened by ``at`` (NULL or later)."""
    return or_(col.is_(None), col > at)


def on_time_feedback_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """按时反馈率 over tasks whose feedback deadline fell in ``window`` (see module doc).

    Grain: one number for the filtered places. Open tasks past their deadline count as late.
    The per-task flag is ``_on_time_flag`` (shared with ``on_time_feedback_rate_by``).
    """
    stmt = select(func.count(), func.coalesce(func.sum(_on_time_flag()), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.deadline_at, window=window)
    n, ok = fetch_one(engine, stmt)
    return Ratio(int(ok), int(n))


def closure_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """办结率: tasks created in ``window`` and closed by its end / tasks created in it."""
    stmt = select(func.count(), func.coalesce(func.sum(_closed_flag(window[1])), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.created_at, window=window)
    n, done = fetch_one(engine, stmt)
    return Ratio(int(done), int(n))


def overdue_condition(at: datetime):  # noqa: ANN201
    """A task is 超期 at ``at``: dispatched, deadline passed, no feedback, not closed."""
    return and_(
        _not_after(tasks.c.dispatched_at, at),
        tasks.c.deadline_at.is_not(None),
        tasks.c.deadline_at < at,
        _not_yet(tasks.c.feedback_at, at),
        _not_yet(tasks.c.closed_at, at),
        tasks.c.created_at <= at,
    )


def overdue_count(engine: Engine, f: Filters, at: datetime) -> int:
    """超期数 at the instant ``at`` (uses each task's current deadline)."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(overdue_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def _ranked(sub, value, group):  # noqa: ANN001, ANN202
    """``sub``'s rows with their rank by ``value`` within ``group`` (None: all
    rows as one group) as rn (1-based) and the group's size as cnt: the input
    of ``_nearest_rank``."""
    return select(
        sub,
        func.row_number().over(partition_by=group, order_by=value).label("rn"),
        func.count().over(partition_by=group).label("cnt"),
    )


def _nearest_rank(ranked, value, p: float):  # noqa: ANN001, ANN202
    """The p-quantile by the nearest-rank rule, as an aggregate over ``_ranked``
    rows: the smallest value with at least p·n values at or below it. The one
    definition of every median and p90 here (到场时间, 处置时长), the same SQL
    on SQLite and PostgreSQL (window functions on both)."""
    return func.min(case((ranked.c.rn >= ranked.c.cnt * p, value)))


@dataclass(frozen=True)
class CloseTimes:
    """平均处置时长 and 处置时长中位数 over the tasks closed in a window.

    ``n`` counts the durations used; ``excluded`` the tasks closed in the window
    whose close time lies before their creation (a data error: left out of the
    mean and the median, and shown as such)."""

    n: int
    mean_hours: float | None
    median_hours: float | None
    excluded: int


def _close_valid():  # noqa: ANN202
    """A task's time to close is usable: closed at or after its creation."""
    return tasks.c.closed_at >= tasks.c.created_at


def _close_durations(f: Filters, window: Window):  # noqa: ANN202
    """Subquery "d" (column m: minutes from creation to close) of the tasks closed
    in ``window`` with a usable duration: the population of both 处置时长 figures."""
    return apply_filters(
        select(_close_minutes().label("m")).select_from(tasks).where(_close_valid()),
        f, grid_col=tasks.c.grid_id, time_col=tasks.c.closed_at, window=window,
    ).subquery("d")


def time_to_close(engine: Engine, f: Filters, window: Window) -> CloseTimes:
    """平均处置时长 (mean) and 处置时长中位数 (median, nearest rank) in hours over
    tasks closed in ``window``, and how many were left out for closing before
    they were created. Two statements (the ranked durations; the errors).
    Grain: one CloseTimes (hours None when no valid task closed)."""
    d = _close_durations(f, window)
    r = _ranked(d, d.c.m, None).subquery("r")
    n, mean_m, median_m = fetch_one(engine, select(func.count(), func.avg(r.c.m), _nearest_rank(r, r.c.m, 0.5)).select_from(r))
    bad = apply_filters(
        select(func.count()).select_from(tasks).where(tasks.c.closed_at < tasks.c.created_at),
        f, grid_col=tasks.c.grid_id, time_col=tasks.c.closed_at, window=window,
    )
    excluded = fetch_one(engine, bad)[0]
    hours = lambda m: None if m is None else float(m) / 60.0  # noqa: E731
    return CloseTimes(int(n), hours(mean_m), hours(median_m), int(excluded))


def mean_time_to_close_hours(engine: Engine, f: Filters, window: Window) -> float | None:
    """平均处置时长 in hours alone (``time_to_close``'s mean, without ranking: a
    comparison base); None when no task closed."""
    d = _close_durations(f, window)
    minutes = fetch_one(engine, select(func.avg(d.c.m)))[0]
    return None if minutes is None else float(minutes) / 60.0


def follow_up_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """回访率: tasks closed in ``window`` with a follow-up visit by its end / tasks closed in it."""
    visited = case((_not_after(tasks.c.visited_at, window[1]), 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(visited), 0)).select_from(tasks)
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.closed_at, window=window)
    n, v = fetch_one(engine, stmt)
    return Ratio(int(v), int(n))


def task_satisfaction_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """满意率 of tasks: satisfied / follow-up visits made in ``window``."""
    sat = case((tasks.c.satisfied.is_(True), 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(sat), 0)).select_from(tasks).where(tasks.c.satisfied.is_not(None))
    stmt = apply_filters(stmt, f, grid_col=tasks.c.grid_id, time_col=tasks.c.visited_at, window=window)
    n, s = fetch_one(engine, stmt)
    return Ratio(int(s), int(n))


# --- disputes -----------------------------------------------------------------------


def resolution_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """化解率: disputes closed in ``window`` as 化解 / disputes closed in it (``DISPUTE_RATIOS``)."""
    return _dispute_ratio(engine, f, window, "resolution")


def dispute_satisfaction_rate(engine: Engine, f: Filters, window: Window) -> Ratio:
    """满意率 of disputes: satisfied / follow-up visits made in ``window`` (``DISPUTE_RATIOS``)."""
    return _dispute_ratio(engine, f, window, "satisfaction")


def _dispute_ratio(engine: Engine, f: Filters, window: Window, measure: str) -> Ratio:
    row = dispute_ratio_by(engine, f, window, measure, by=None).iloc[0]
    return Ratio(int(row["numerator"]), int(row["denominator"]))


# --- incidents ------------------------------------------------------------------------

RESPONSE_GROUPS = {
    None: None,
    "category": incidents.c.category,
    "community": communities.c.name,
}


def response_times(engine: Engine, f: Filters, window: Window, by: str | None = None) -> pd.DataFrame:
    """到场时间 median and p90 (nearest rank), in minutes.

    Grain: one row per group (``by`` = None → one row "全部", "category", or
    "community"). Columns: group, n, median_min, p90_min. Groups with no
    arrivals are absent; with ``by=None`` and no arrivals the frame is empty.
    Ranking happens in SQL (window functions, on both backends).
    """
    if by not in RESPONSE_GROUPS:
        raise ValueError(f"by must be one of {list(RESPONSE_GROUPS)}")
    group = RESPONSE_GROUPS[by]
    group_expr = (group if group is not None else literal("全部")).label("grp")
    base = (
        select(group_expr, minutes_between(incidents.c.received_at, incidents.c.arrived_at).label("m"))
        .select_from(incidents.join(grids, grids.c.id == incidents.c.grid_id).join(communities, communities.c.id == grids.c.community_id))
        .where(incidents.c.arrived_at.is_not(None), incidents.c.arrived_at >= incidents.c.received_at)
    )
    base = apply_filters(
        base, f, grid_col=incidents.c.grid_id, time_col=incidents.c.received_at, window=window, category_col=incidents.c.category
    ).subquery("d")
    ranked = _ranked(base, base.c.m, base.c.grp).subquery("r")
    stmt = (
        select(
            ranked.c.grp.label("group"),
            ranked.c.cnt.cast(Integer).label("n"),
            _nearest_rank(ranked, ranked.c.m, 0.5).label("median_min"),
            _nearest_rank(ranked, ranked.c.m, 0.9).label("p90_min"),
        )
        .group_by(ranked.c.grp, ranked.c.cnt)
        .order_by(ranked.c.grp)
    )
    df = fetch_df(engine, stmt)
    for col in ("median_min", "p90_min"):
        df[col] = df[col].astype(float)
    return df


# --- reports (网格上报) ---

from dashboard.db.schema import reports as _reports  # noqa: E402


def dispatched_share(engine: Engine, f: Filters, window: Window) -> Ratio:
    """已派单占比: reports uploaded in ``window`` whose task had been dispatched or
    transferred (``tasks.dispatched_at``) by the window's end / reports uploaded in it.

    Grain: one number for the filtered places (the report's grid). A report
    with no task yet, or whose task is still 待研判, counts as not dispatched;
    a report with several tasks counts once. Judged at the window's end, like
    办结率, so a past period (同比/环比 bases) reads as it stood then.
    """
    done = select(tasks.c.id).where(tasks.c.report_id == _reports.c.id, _not_after(tasks.c.dispatched_at, window[1])).exists()
    base = apply_filters(select(func.count()).select_from(_reports), f, grid_col=_reports.c.grid_id, time_col=_reports.c.reported_at, window=window)
    # Two counts, the second a semi-join (not a per-row EXISTS in a SUM): a year of a
    # district's reports stays well under a second on PostgreSQL.
    n, d = fetch_one(engine, select(base.scalar_subquery(), base.where(done).scalar_subquery()))
    return Ratio(int(d), int(n))


# --- disputes page ---
# Grouped 化解率 and 满意率 of disputes (by community, grid or kind) and the two
# snapshots the 矛盾纠纷 page shows. The definitions of 化解率 and 满意率 are
# written once here as SQL pieces (numerator, population, time column);
# ``resolution_rate`` and ``dispute_satisfaction_rate`` above are
# ``dispute_ratio_by(..., by=None)``, and tests/test_measures_disputes.py
# checks that the groups add up to them.
#
# * 调处中 at an instant ``at``: found by ``at`` and not closed by ``at``.
# * 回访待办 at ``at``: closed by ``at``, not visited by ``at``, visit due
#   before ``at`` + horizon (7 days); 回访超期 = due before ``at``.

DISPUTE_RATIOS: dict[str, tuple] = {
    # name: (numerator per row, which disputes count, the time that must fall in the window)
    "resolution": (
        case((disputes.c.status == "化解", 1), else_=0),
        disputes.c.closed_at.is_not(None),
        disputes.c.closed_at,
    ),
    "satisfaction": (
        case((disputes.c.satisfied.is_(True), 1), else_=0),
        disputes.c.satisfied.is_not(None),
        disputes.c.visited_at,
    ),
}
DISPUTE_GROUPS = ("community", "grid", "kind", "level")


def dispute_ratio_by(engine: Engine, f: Filters, window: Window, measure: str = "resolution", by: str | None = "community") -> pd.DataFrame:
    """化解率 (``measure="resolution"``) or 满意率 (``"satisfaction"``) of disputes per group.

    Grain: one row per group with at least one dispute in the population
    (``by`` = "community" → community id, "grid" → grid id, "kind" → 纠纷类型,
    "level" → mediation level 1..3; None → one row, group "全部", present even when empty).
    Columns: group, numerator, denominator, rate (float; NaN when denominator is 0).
    """
    if measure not in DISPUTE_RATIOS:
        raise ValueError(f"measure must be one of {list(DISPUTE_RATIOS)}")
    if by is not None and by not in DISPUTE_GROUPS:
        raise ValueError(f"by must be one of {list(DISPUTE_GROUPS)} or None")
    numerator, population, time_col = DISPUTE_RATIOS[measure]
    source = disputes
    if by == "community":
        source = disputes.join(grids, grids.c.id == disputes.c.grid_id)
        group = grids.c.community_id
    elif by == "grid":
        group = disputes.c.grid_id
    elif by == "kind":
        group = disputes.c.kind
    elif by == "level":  # the highest mediation level reached (the 三级联调 funnel's stages)
        group = disputes.c.level
    else:
        group = literal("全部")
    stmt = (
        select(group.label("group"), func.count().label("denominator"), func.coalesce(func.sum(numerator), 0).label("numerator"))
        .select_from(source)
        .where(population)
    )
    stmt = apply_filters(stmt, f, grid_col=disputes.c.grid_id, time_col=time_col, window=window)
    if by is not None:
        stmt = stmt.group_by(group).order_by(group)
    df = fetch_df(engine, stmt)
    if by is None and df.empty:
        df = pd.DataFrame({"group": ["全部"], "denominator": [0], "numerator": [0]})
    df["numerator"] = df["numerator"].astype(int)
    df["denominator"] = df["denominator"].astype(int)
    if by in ("community", "grid", "level"):
        df["group"] = df["group"].astype(int)
    df["rate"] = [n / d if d else float("nan") for n, d in zip(df["numerator"], df["denominator"])]
    return df[["group", "numerator", "denominator", "rate"]]


def resolution_rate_by(engine: Engine, f: Filters, window: Window, by: str | None = "community") -> pd.DataFrame:
    """化解率 per group (see ``dispute_ratio_by``): resolved / closed in ``window``."""
    return dispute_ratio_by(engine, f, window, "resolution", by)


def dispute_satisfaction_rate_by(engine: Engine, f: Filters, window: Window, by: str | None = "community") -> pd.DataFrame:
    """满意率 of disputes per group (see ``dispute_ratio_by``): satisfied / visits made in ``window``."""
    return dispute_ratio_by(engine, f, window, "satisfaction", by)


def dispute_open_condition(at: datetime):  # noqa: ANN201
    """A dispute is 调处中 at ``at``: found by then and not closed by then."""
    return and_(disputes.c.found_at <= at, _not_yet(disputes.c.closed_at, at))


def visit_pending_condition(at: datetime, horizon_days: float = 7):  # noqa: ANN201
    """A dispute's follow-up visit is 待办 at ``at``: closed by then, not visited by
    then, and due before ``at`` + ``horizon_days`` (0 → only the overdue ones)."""
    return and_(
        _not_after(disputes.c.closed_at, at),
        disputes.c.visit_due_at.is_not(None),
        disputes.c.visit_due_at < at + timedelta(days=horizon_days),
        _not_yet(disputes.c.visited_at, at),
    )


@dataclass(frozen=True)
class VisitBacklog:
    """回访待办 at an instant: ``pending`` due within the horizon (overdue included), ``overdue`` already past due."""

    pending: int
    overdue: int


def visit_backlog(engine: Engine, f: Filters, at: datetime, horizon_days: float = 7) -> VisitBacklog:
    """回访待办 and 回访超期 counts at the instant ``at``. Grain: one pair of numbers."""
    overdue = case((disputes.c.visit_due_at < at, 1), else_=0)
    stmt = select(func.count(), func.coalesce(func.sum(overdue), 0)).select_from(disputes).where(visit_pending_condition(at, horizon_days))
    n, late = fetch_one(engine, apply_filters(stmt, f, grid_col=disputes.c.grid_id))
    return VisitBacklog(int(n), int(late))


# --- grid profile ---
# 网格画像: a grid's incidents, reports and disputes against its OWN baseline.
#
# * Buckets are whole local days (the station's zone). For a period of up to 182
#   days the chart shows ACTIVITY_WEEKS (26) weeks of 7 days ending on the
#   period's last day (the newest week ends today when the period does); for a
#   period of 183..371 days, the weeks covering it; beyond that, calendar
#   months (the first and last month clipped to the period).
# * Baseline = mean count per bucket over the BASELINE_WEEKS (52) weeks (or
#   BASELINE_MONTHS (12) months) just before the first bucket shown. Buckets
#   that begin before the source's first record (the first day the table has
#   any row at all) are left out: "no data yet" is not "a quiet week". No
#   usable bucket → no baseline.
# * Band = mean ± BAND_K (2)·√mean, the Poisson spread (a count's variance
#   equals its mean), low end floored at 0.
# * A bucket is 高于基线 when its count > mean + 2·√mean AND ≥ MIN_ABOVE_COUNT
#   (3): with a mean near 0 the band is near 0 and a single event would
#   otherwise raise an alarm.

from collections.abc import Sequence as _Sequence  # noqa: E402
from datetime import date as _date  # noqa: E402

ACTIVITY_WEEKS = 26
BASELINE_WEEKS = 52
BASELINE_MONTHS = 12
WEEKLY_MAX_DAYS = 371  # 53 weeks: longer periods are shown by month
BAND_K = 2.0
MIN_ABOVE_COUNT = 3


@dataclass(frozen=True)
class Bucket:
    """Local days ``first``..``last`` (both inclusive) of one bar."""

    first: _date
    last: _date


def _month_start(d: _date) -> _date:
    return d.replace(day=1)


def _month_end(d: _date) -> _date:
    return timeutil.shift_months(_month_start(d), 1) - timedelta(days=1)


def activity_buckets(first_day: _date, last_day: _date) -> tuple[str, list[Bucket], list[Bucket]]:
    """(unit "week"|"month", buckets shown, baseline buckets) for the local days
    ``first_day``..``last_day`` of a period (see the section comment). Oldest first."""
    if last_day < first_day:
        first_day = last_day
    span = (last_day - first_day).days + 1
    if span <= WEEKLY_MAX_DAYS:
        n = ACTIVITY_WEEKS if span <= 182 else math.ceil(span / 7)
        ends = [last_day - timedelta(days=7 * i) for i in range(n + BASELINE_WEEKS - 1, -1, -1)]
        buckets = [Bucket(e - timedelta(days=6), e) for e in ends]
        return "week", buckets[BASELINE_WEEKS:], buckets[:BASELINE_WEEKS]
    shown = []
    m = _month_start(first_day)
    while m <= last_day:
        shown.append(Bucket(max(m, first_day), min(_month_end(m), last_day)))
        m = timeutil.shift_months(m, 1)
    base_first = timeutil.shift_months(_month_start(first_day), -BASELINE_MONTHS)
    base = [Bucket(timeutil.shift_months(base_first, i), _month_end(timeutil.shift_months(base_first, i))) for i in range(BASELINE_MONTHS)]
    return "month", shown, base


def bucket_totals(daily: pd.DataFrame, buckets: _Sequence[Bucket]) -> list[int]:
    """Sum a per-day frame (columns day: datetime.date, n) into ``buckets`` (contiguous, oldest first)."""
    if not buckets:
        return []
    totals = [0] * len(buckets)
    if daily is None or daily.empty:
        return totals
    firsts = pd.Series([pd.Timestamp(b.first) for b in buckets])
    lasts = [pd.Timestamp(b.last) for b in buckets]
    days = pd.to_datetime(pd.Series(list(daily["day"])))
    idx = firsts.searchsorted(days, side="right") - 1
    ok = (idx >= 0) & pd.Series([i >= 0 and d <= lasts[i] for i, d in zip(idx, days)]).to_numpy()
    sums = pd.Series(daily["n"].astype(int).to_numpy()[ok]).groupby(idx[ok]).sum()
    for i, v in sums.items():
        totals[int(i)] = int(v)
    return totals


@dataclass(frozen=True)
class Baseline:
    """A grid's own normal: mean count per bucket and the Poisson band around it.

    All None (and ``buckets`` 0) when no reference bucket had data to judge by.
    """

    mean: float | None
    low: float | None
    high: float | None
    buckets: int


def poisson_baseline(counts: _Sequence[int], k: float = BAND_K) -> Baseline:
    """Mean of ``counts`` with the band mean ± k·√mean (low end ≥ 0)."""
    if not counts:
        return Baseline(None, None, None, 0)
    mean = sum(int(c) for c in counts) / len(counts)
    half = k * math.sqrt(mean)
    return Baseline(mean, max(0.0, mean - half), mean + half, len(counts))


def bucket_baseline(counts: _Sequence[int], buckets: _Sequence[Bucket], data_start: _date | None, k: float = BAND_K) -> Baseline:
    """``poisson_baseline`` over the reference buckets that begin on or after
    ``data_start`` (the source's first day with any row; None = no rows at all)."""
    if data_start is None:
        return Baseline(None, None, None, 0)
    return poisson_baseline([int(c) for c, b in zip(counts, buckets) if b.first >= data_start], k)


def above_band(count: int | None, baseline: Baseline) -> bool:
    """高于基线: above mean + k·√mean and at least MIN_ABOVE_COUNT events."""
    if count is None or baseline.high is None:
        return False
    return count > baseline.high and count >= MIN_ABOVE_COUNT


# --- dispatch page ---
# Grouped versions of 按时反馈率, 办结率 and 平均处置时长 (by the task's current
# assignee unit, or by community). The per-task expressions below are the ones
# the scalar measures above use (same time column, same window, same filters);
# only the GROUP BY is added, so summing the groups
# gives the scalar's numerator and denominator (tests/test_measures_dispatch.py
# checks this on the demo world).

from dashboard.db.schema import departments as _departments  # noqa: E402 (appended section)

LOOP_GROUPS = ("department", "community")
UNIT_OFFICER = 0  # group key of tasks held by a community officer (社区民警)
UNIT_NONE = -1  # group key of tasks not yet dispatched (未派发)


def _on_time_flag():  # noqa: ANN202
    """1 for a task that got its feedback by its deadline, else 0 (按时反馈率's numerator)."""
    return case((and_(tasks.c.feedback_at.is_not(None), tasks.c.feedback_at <= tasks.c.deadline_at), 1), else_=0)


def _closed_flag(end: datetime):  # noqa: ANN202
    """1 for a task closed by ``end`` (办结率's numerator, judged at the window's end), else 0."""
    return case((_not_after(tasks.c.closed_at, end), 1), else_=0)


def _close_minutes():  # noqa: ANN202
    """Minutes from creation to close (平均处置时长 before the division by 60)."""
    return minutes_between(tasks.c.created_at, tasks.c.closed_at)


def _group_key(by: str):  # noqa: ANN202
    """Per-task group key, from the tasks table alone (so the scan stays on tasks).

    "department": the unit holding the task now (after any 转派): the
    department's id, UNIT_OFFICER for the community officer, UNIT_NONE for a
    task not dispatched yet. "community": the community of the task's grid.
    """
    if by == "community":
        return select(grids.c.community_id).where(grids.c.id == tasks.c.grid_id).correlate(tasks).scalar_subquery()
    if by == "department":
        return case(
            (tasks.c.department_id.is_not(None), tasks.c.department_id),
            (tasks.c.officer_id.is_not(None), UNIT_OFFICER),
            else_=UNIT_NONE,
        )
    raise ValueError(f"by must be one of {LOOP_GROUPS}")


def _grouped(engine: Engine, f: Filters, window: Window, by: str, time_col, aggregates, where=None, ranked: bool = False) -> pd.DataFrame:  # noqa: ANN001
    """Aggregate per group over the tasks whose ``time_col`` falls in ``window``
    (the scalar measure's population and filters), then name the groups.

    ``aggregates(t)`` gives the labelled aggregate columns over subquery "t"
    (one row per task: key plus the per-task values; with ``ranked`` also rn
    and cnt, each task's rank by minutes to close within its group, for
    ``_nearest_rank``). ``where`` narrows the tasks first. Columns of the
    result: key (int), group (name), then the aggregates; ordered by key.
    """
    values = {"ok": _on_time_flag(), "done": _closed_flag(window[1]), "m": _close_minutes()}
    inner = select(_group_key(by).label("key"), *(v.label(k) for k, v in values.items())).select_from(tasks)
    if where is not None:
        inner = inner.where(where)
    t = apply_filters(inner, f, grid_col=tasks.c.grid_id, time_col=time_col, window=window).subquery("t")
    if ranked:
        t = _ranked(t, t.c.m, t.c.key).subquery("tr")
    agg = select(t.c.key, *aggregates(t)).group_by(t.c.key).subquery("agg")
    if by == "community":
        label, frm = communities.c.name, agg.outerjoin(communities, communities.c.id == agg.c.key)
    else:
        label = case((agg.c.key == UNIT_OFFICER, "社区民警"), (agg.c.key == UNIT_NONE, "未派发"), else_=_departments.c.name)
        frm = agg.outerjoin(_departments, _departments.c.id == agg.c.key)
    cols = [c for c in agg.c if c.name != "key"]
    df = fetch_df(engine, select(agg.c.key, label.label("group"), *cols).select_from(frm).order_by(agg.c.key))
    df["key"] = df["key"].astype(int)
    return df


def on_time_feedback_rate_by(engine: Engine, f: Filters, window: Window, by: str = "department") -> pd.DataFrame:
    """按时反馈率 per group: ``on_time_feedback_rate`` computed within each group.

    Grain: one row per group with at least one task whose feedback deadline fell
    in ``window``. Columns: key (int: a department id, UNIT_OFFICER or
    UNIT_NONE; or a community id), group (name), due (denominator), on_time
    (numerator), rate (on_time / due). Ordered by key.
    """
    df = _grouped(engine, f, window, by, tasks.c.deadline_at, lambda t: [func.count().label("due"), func.coalesce(func.sum(t.c.ok), 0).label("on_time")])
    df = df.astype({"due": int, "on_time": int})
    df["rate"] = df["on_time"] / df["due"]
    return df


def closure_rate_by(engine: Engine, f: Filters, window: Window, by: str = "department") -> pd.DataFrame:
    """办结率 per group: ``closure_rate`` computed within each group.

    Grain: one row per group with at least one task created in ``window``.
    Columns: key, group, created (denominator), closed (numerator: closed by
    the window's end), rate. Ordered by key.
    """
    df = _grouped(engine, f, window, by, tasks.c.created_at, lambda t: [func.count().label("created"), func.coalesce(func.sum(t.c.done), 0).label("closed")])
    df = df.astype({"created": int, "closed": int})
    df["rate"] = df["closed"] / df["created"]
    return df


def time_to_close_by(engine: Engine, f: Filters, window: Window, by: str = "department") -> pd.DataFrame:
    """平均处置时长 and 处置时长中位数 per group: ``time_to_close`` within each group.

    Grain: one row per group with at least one task closed in ``window`` at or
    after its creation (closed-before-created tasks are left out, as in the
    scalar). Columns: key, group, n (durations used), hours (mean hours from
    creation to close), median_hours (nearest rank). Ordered by key.
    """
    df = _grouped(
        engine, f, window, by, tasks.c.closed_at,
        lambda t: [func.count().label("n"), func.avg(t.c.m).label("minutes"), _nearest_rank(t, t.c.m, 0.5).label("median_minutes")],
        where=_close_valid(), ranked=True,
    )
    df = df.astype({"n": int})
    df["hours"] = df.pop("minutes").astype(float) / 60.0
    df["median_hours"] = df.pop("median_minutes").astype(float) / 60.0
    return df


# --- trends page (警情趋势) ---

# 到场时间 by grid: the same definition as by community, one level down.
RESPONSE_GROUPS["grid"] = grids.c.name


@dataclass(frozen=True)
class CategoryComparison:
    """Incident counts per category for a window with their 同比 and 环比.

    ``rows`` holds (category, Compared) in screen order, every category in
    scope present even when zero; ``total`` compares the sums. A base that
    the data do not fully cover (``yoy_complete``/``pop_complete`` False)
    gives unknown bases, hence "—" for that change and no 显著 mark.
    """

    rows: tuple[tuple[str, Compared], ...]
    total: Compared
    window: Window
    last_year: Window
    previous: Window
    yoy_complete: bool
    pop_complete: bool
    data_since: datetime | None

    def get(self, category: str) -> Compared | None:
        return next((c for k, c in self.rows if k == category), None)

    def frame(self) -> pd.DataFrame:
        """Grain: one row per category. Columns: category, n, n_last_year,
        n_previous (None where the base is not covered), yoy, pop (None = "—"),
        yoy_sig, pop_sig."""
        cols = ["category", "n", "n_last_year", "n_previous", "yoy", "pop", "yoy_sig", "pop_sig"]
        data = [(k, c.value, c.yoy_base, c.pop_base, c.yoy, c.pop, c.yoy_sig, c.pop_sig) for k, c in self.rows]
        return pd.DataFrame(data, columns=cols).astype({"n_last_year": object, "n_previous": object, "yoy": object, "pop": object})


def by_category_compared(engine: Engine, f: Filters, window: Window, period: str | None = None) -> CategoryComparison:
    """Incidents per category in ``window`` with 同比 and 环比 by ``Periods``
    (``periods(window, period)``: windows, coverage by the incident feed's first
    record, the 显著 mark). Three GROUP BY category queries (two when a base is
    not covered) plus the feeds' first records. Grain: one Compared per category
    in scope (``incidents.categories_in_scope``) and one for the total."""
    from queries import (
        incidents as inc,  # here, so measures never needs incidents at import
    )
    from queries.vocabulary import vocabulary

    p = periods(window, period)
    since = feed_starts(engine).incidents
    yoy_ok, pop_ok = p.covered(since)

    def counts(w: Window) -> dict[str, int]:
        df = inc.by_category(engine, f, w)
        return {str(c): int(n) for c, n in zip(df["category"], df["n"])}

    now_c = counts(p.current)
    ly_c = counts(p.last_year) if yoy_ok else {}
    prev_c = counts(p.previous) if pop_ok else {}
    known = vocabulary(engine, "incident_category").codes()
    cats = inc.categories_in_scope(f, set(now_c) | set(ly_c) | set(prev_c), known)
    rows = tuple((c, p.judge(now_c.get(c, 0), ly_c.get(c, 0), prev_c.get(c, 0), since)) for c in cats)
    total = p.judge(sum(now_c.values()), sum(ly_c.values()), sum(prev_c.values()), since)
    return CategoryComparison(rows, total, p.current, p.last_year, p.previous, yoy_ok, pop_ok, since)


# --- patrol coverage (巡逻覆盖) ---
# "警力跟着警情走": do patrols go where (and when) the incidents are?
#
# * Unit: a PIECE = one H3 cell (resolution 9, about 0.1 km²) inside one grid,
#   the pair (grid_id, h3) that incidents and GPS points both carry. A cell cut
#   by a grid boundary is two pieces, so every figure adds up exactly over grids
#   and a grid shows the same figures on every page and at every scope.
# * 巡逻时长 (patrol minutes) = the sum over GPS points of the minutes each
#   stands for: its shift's ``point_minutes`` (an imported track's mean
#   interval, so a device logging every 15 s is not counted eight times over),
#   else PATROL_POINT_MINUTES (2), the demo feed's interval
#   (``dashboard.writers.demo.PATROL_STEP_S`` = 120 s). Counted in SQL: GROUP BY
#   grid_id, h3 with the day and night shifts (``patrol_shifts.shift`` 白/黑)
#   as conditional sums.
# * 热点 (hot piece) belongs to a 派出所, the unit that deploys the patrols.
#   Rank the station's pieces by incidents received in the window (category
#   filter applied; for 白/黑 only incidents received in that shift's hours,
#   白 = local 08:00–20:00, 黑 = 20:00–08:00). The hot pieces are the smallest
#   set of busiest pieces holding at least half (HOT_INCIDENT_SHARE) of the
#   station's incidents, pieces with equal counts taken all together (so the
#   set never depends on an arbitrary order), and only pieces with at least
#   HOT_MIN_INCIDENTS (2) incidents: one incident is not a spot. Formally a
#   piece with n ≥ 2 incidents is hot iff the pieces strictly busier than it
#   hold less than half of the station's incidents. Ranked in SQL with window
#   functions. A community or grid view shows the station's hot pieces that
#   lie in it (a quiet grid may have none).
# * 已覆盖 (reached): a hot piece with at least one GPS point in the window from
#   the chosen shift's patrols (白/黑 = patrol_shifts.shift; 全部 = any shift).
# * 热点覆盖率 = reached hot pieces / hot pieces (Ratio; None without hot pieces).
#   热点未覆盖 = hot pieces − reached ones.
# * 热点巡逻占比 = patrol minutes in hot pieces / patrol minutes in the area,
#   read against 热点警情占比 (hot pieces' share of the area's incidents) and
#   热点面积占比 (their share of the area's km²): patrols that ignored the
#   incidents would match the area share; following them moves the patrol
#   share toward the incident share.
# * Piece areas: every grid polygon is filled with H3 resolution-11 cells
#   (about 0.002 km², by centre), counted per resolution-9 parent and scaled
#   so that a grid's pieces add up to its ``grids.area_km2``.
# * Tracks are kept about 90 days. A window is judged only from the first
#   stored GPS point on (``tracked_window``); a 同比/环比 base that starts before
#   it is unknown ("—"), by ``base_complete``.

import functools as _functools  # noqa: E402
import json as _json  # noqa: E402
from collections import Counter as _Counter  # noqa: E402

import h3 as _h3  # noqa: E402

from dashboard.db.schema import patrol_points as _patrol_points  # noqa: E402
from dashboard.db.schema import patrol_shifts as _patrol_shifts  # noqa: E402
from dashboard.geo import H3_RESOLUTION as _H3_RES  # noqa: E402
from queries._common import place_clause as _place_clause  # noqa: E402
from queries._sql import local_hour as _local_hour  # noqa: E402

PATROL_POINT_MINUTES = 2.0  # minutes one GPS point stands for (the feed's sampling interval)
HOT_INCIDENT_SHARE = 0.5
HOT_MIN_INCIDENTS = 2
DAY_SHIFT_HOURS = (8, 20)  # 白班: local [08:00, 20:00); 黑班: the rest
SHIFT_KEYS: dict[str | None, str] = {None: "all", "白": "day", "黑": "night"}
PIECE_AREA_RESOLUTION = 11
PIECE_COLUMNS = [
    "grid_id", "h3", "area_km2",
    "incidents_all", "incidents_day", "incidents_night",
    "hot_all", "hot_day", "hot_night",
    "points_all", "points_day", "points_night",
    "minutes_all", "minutes_day", "minutes_night",
]  # fmt: skip


def shift_suffix(shift: str | None) -> str:
    """Column suffix of a shift: None (全部) → "all", "白" → "day", "黑" → "night"."""
    if shift not in SHIFT_KEYS:
        raise ValueError(f"shift must be one of {list(SHIFT_KEYS)}")
    return SHIFT_KEYS[shift]


def _hot_flag(n, station):  # noqa: ANN001, ANN202
    """1 when a piece with ``n`` incidents is hot within its station (see above), else 0."""
    at_least_as_busy = func.sum(n).over(partition_by=station, order_by=n.desc())  # RANGE frame: ties included
    as_busy = func.sum(n).over(partition_by=(station, n))
    total = func.sum(n).over(partition_by=station)
    return case((and_(n >= HOT_MIN_INCIDENTS, at_least_as_busy - as_busy < total * HOT_INCIDENT_SHARE), 1), else_=0)


def hot_pieces_stmt(f: Filters, window: Window):  # noqa: ANN201
    """Incident pieces with their hot flags. Columns: grid_id, h3, incidents_all,
    incidents_day, incidents_night, hot_all, hot_day, hot_night (0/1).

    Ranked over the whole stations the place filter touches, then narrowed to
    the filtered grids, so a grid's hot pieces do not depend on the scope.
    """
    h = _local_hour(incidents.c.received_at)
    is_day = case((and_(h >= DAY_SHIFT_HOURS[0], h < DAY_SHIFT_HOURS[1]), 1), else_=0)
    stmt = select(
        communities.c.station_id,
        incidents.c.grid_id,
        incidents.c.h3,
        func.count().label("n_all"),
        func.sum(is_day).label("n_day"),
    ).select_from(incidents.join(grids, grids.c.id == incidents.c.grid_id).join(communities, communities.c.id == grids.c.community_id))
    stmt = apply_filters(stmt, f, time_col=incidents.c.received_at, window=window, category_col=incidents.c.category)
    if _place_clause(grids.c.id, f) is not None:
        stations_touched = apply_filters(
            select(communities.c.station_id).select_from(grids.join(communities, communities.c.id == grids.c.community_id)),
            f,
            grid_col=grids.c.id,
        )
        stmt = stmt.where(communities.c.station_id.in_(stations_touched))
    c = stmt.group_by(communities.c.station_id, incidents.c.grid_id, incidents.c.h3).subquery("inc_pieces")
    n_night = c.c.n_all - c.c.n_day
    ranked = select(
        c.c.grid_id,
        c.c.h3,
        c.c.n_all.label("incidents_all"),
        c.c.n_day.label("incidents_day"),
        n_night.label("incidents_night"),
        _hot_flag(c.c.n_all, c.c.station_id).label("hot_all"),
        _hot_flag(c.c.n_day, c.c.station_id).label("hot_day"),
        _hot_flag(n_night, c.c.station_id).label("hot_night"),
    ).subquery("ranked")
    return apply_filters(select(ranked), f, grid_col=ranked.c.grid_id)


def patrol_pieces_stmt(f: Filters, window: Window, dialect: str | None = None):  # noqa: ANN201
    """GPS points per piece in the filtered grids. Columns: grid_id, h3,
    points_all, points_day (白班 shifts), points_night (黑班 shifts) and the
    patrol minutes they stand for, minutes_all/_day/_night."""
    p, s = _patrol_points, _patrol_shifts
    per_point = func.coalesce(s.c.point_minutes, PATROL_POINT_MINUTES)
    if dialect == "sqlite" and _place_clause(p.c.grid_id, f) is None:
        # Whole area on SQLite: its planner would skip-scan the (grid_id, at)
        # index, about twice as slow as reading the time range in row order
        # through ix_patrol_points_at, which an ORDER BY at makes it use.
        rows = apply_filters(select(p.c.grid_id, p.c.h3, p.c.shift_id), f, time_col=p.c.at, window=window).order_by(p.c.at).subquery("pts")
        src, where = rows.join(s, s.c.id == rows.c.shift_id), None
        grid_col, h3_col = rows.c.grid_id, rows.c.h3
    else:
        src = p.join(s, s.c.id == p.c.shift_id)
        grid_col, h3_col, where = p.c.grid_id, p.c.h3, window
    stmt = select(
        grid_col,
        h3_col,
        func.count().label("points_all"),
        func.sum(case((s.c.shift == "白", 1), else_=0)).label("points_day"),
        func.sum(case((s.c.shift == "黑", 1), else_=0)).label("points_night"),
        func.sum(per_point).label("minutes_all"),
        func.sum(case((s.c.shift == "白", per_point), else_=0.0)).label("minutes_day"),
        func.sum(case((s.c.shift == "黑", per_point), else_=0.0)).label("minutes_night"),
    ).select_from(src)
    if where is not None:
        stmt = apply_filters(stmt, f, grid_col=p.c.grid_id, time_col=p.c.at, window=where)
    return stmt.group_by(grid_col, h3_col)


# Long windows are counted in slices of this length and summed, so that no
# single statement runs into the query time limit at district scale.
PATROL_SLICE = timedelta(days=31)


def _slices(window: Window) -> list[Window]:
    out, start = [], window[0]
    while start < window[1]:
        end = min(start + PATROL_SLICE, window[1])
        out.append((start, end))
        start = end
    return out


@_functools.lru_cache(maxsize=4096)
def grid_piece_areas(boundary_geojson: str, area_km2: float) -> tuple[tuple[str, float], ...]:
    """(h3, km²) of a grid's pieces: the polygon filled with resolution-11 cells
    (by centre), counted per resolution-9 parent, scaled to ``area_km2``. A grid
    too small to hold one fine cell gives its area to the cell of its centroid."""
    from dashboard import geo

    fine = _h3.geo_to_cells(_json.loads(boundary_geojson), PIECE_AREA_RESOLUTION)
    counts = _Counter(_h3.cell_to_parent(c, _H3_RES) for c in fine)
    total = sum(counts.values())
    if not total:
        lat, lon = geo.polygon_centroid(boundary_geojson)
        return ((geo.h3_cell(lat, lon), float(area_km2)),)
    return tuple(sorted((cell, float(area_km2) * k / total) for cell, k in counts.items()))


def coverage_pieces(engine: Engine, f: Filters, window: Window | None) -> pd.DataFrame:
    """Everything the patrol-coverage measures need, per piece, for every shift at once.

    Grain: one row per piece (grid_id, h3) of the filtered grids that has area,
    incidents in ``window`` or GPS points in ``window``. Columns: PIECE_COLUMNS
    (area_km2 from ``grid_piece_areas``; hot_* are 0/1 by the station-level
    rule above; points_* count GPS points, minutes_* the patrol minutes they
    stand for). GROUP BY queries on incidents and
    on GPS points (the latter per PATROL_SLICE of the window, summed), merged
    here with the grids' piece areas. ``window`` None or
    empty: areas only, zero counts.
    """
    from queries import places  # here, so measures never needs places at import

    shapes = places.grid_shapes(engine, f)
    areas = pd.DataFrame(
        [(int(r.grid_id), cell, km2) for r in shapes.itertuples() for cell, km2 in grid_piece_areas(r.boundary_geojson, float(r.area_km2))],
        columns=["grid_id", "h3", "area_km2"],
    )
    inc_cols = ["grid_id", "h3", "incidents_all", "incidents_day", "incidents_night", "hot_all", "hot_day", "hot_night"]
    pt_cols = ["grid_id", "h3", "points_all", "points_day", "points_night", "minutes_all", "minutes_day", "minutes_night"]
    if window is None or window[0] >= window[1]:
        inc, pts = pd.DataFrame(columns=inc_cols), pd.DataFrame(columns=pt_cols)
    else:
        inc = fetch_df(engine, hot_pieces_stmt(f, window))
        parts = [fetch_df(engine, patrol_pieces_stmt(f, w, engine.dialect.name)) for w in _slices(window)]
        parts = [x for x in parts if not x.empty]
        pts = pd.DataFrame(columns=pt_cols)
        if parts:
            both = pd.concat(parts, ignore_index=True)
            for col in pt_cols[2:]:
                both[col] = pd.to_numeric(both[col]).astype(float if col.startswith("minutes") else int)
            pts = both.groupby(["grid_id", "h3"], as_index=False)[pt_cols[2:]].sum()
    out = areas.merge(inc, on=["grid_id", "h3"], how="outer").merge(pts, on=["grid_id", "h3"], how="outer")
    out = out.reindex(columns=PIECE_COLUMNS)
    out["area_km2"] = pd.to_numeric(out["area_km2"], errors="coerce").fillna(0.0).astype(float)
    for col in PIECE_COLUMNS[3:]:
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype(float if col.startswith("minutes") else int)
    out["grid_id"] = out["grid_id"].astype(int)
    out["h3"] = out["h3"].astype(str)
    return out.sort_values(["grid_id", "h3"]).reset_index(drop=True)


@dataclass(frozen=True)
class PatrolCoverage:
    """Patrol coverage of an area for one shift (see the definitions above)."""

    hot_cells: int
    reached: int
    incidents: int
    hot_incidents: int
    patrol_minutes: float
    hot_minutes: float
    area_km2: float
    hot_area_km2: float

    @property
    def coverage(self) -> Ratio:
        """热点覆盖率: reached hot pieces / hot pieces."""
        return Ratio(self.reached, self.hot_cells)

    @property
    def unreached(self) -> int:
        """热点未覆盖: hot pieces no patrol of the shift reached."""
        return self.hot_cells - self.reached

    @property
    def patrol_hours(self) -> float:
        return self.patrol_minutes / 60.0

    # The three shares are None without hot pieces: "0% of patrol time in hot
    # spots" would read as a failure where there is simply no hot spot.

    @property
    def patrol_share(self) -> float | None:
        """热点巡逻占比: patrol minutes in hot pieces / all patrol minutes."""
        return self.hot_minutes / self.patrol_minutes if self.hot_cells and self.patrol_minutes else None

    @property
    def incident_share(self) -> float | None:
        """热点警情占比: incidents in hot pieces / all incidents."""
        return self.hot_incidents / self.incidents if self.hot_cells and self.incidents else None

    @property
    def area_share(self) -> float | None:
        """热点面积占比: km² of hot pieces / km² of the area."""
        return self.hot_area_km2 / self.area_km2 if self.hot_cells and self.area_km2 > 0 else None


COVERAGE_FIELDS = ["hot_cells", "reached", "incidents", "hot_incidents", "patrol_minutes", "hot_minutes", "area_km2", "hot_area_km2"]


def coverage_parts(pieces: pd.DataFrame, shift: str | None = None) -> pd.DataFrame:
    """Each piece's contribution to PatrolCoverage for ``shift``.

    Grain: one row per piece. Columns: grid_id, h3, is_hot, is_reached (bool)
    and COVERAGE_FIELDS (hot_cells and reached as 0/1, minutes as float).
    """
    k = shift_suffix(shift)
    hot = pieces[f"hot_{k}"].astype(int) > 0
    points = pieces[f"points_{k}"].astype(int)
    minutes = pieces[f"minutes_{k}"].astype(float)
    reached = hot & (points > 0)
    n = pieces[f"incidents_{k}"].astype(int)
    area = pieces["area_km2"].astype(float)
    return pd.DataFrame(
        {
            "grid_id": pieces["grid_id"],
            "h3": pieces["h3"],
            "is_hot": hot,
            "is_reached": reached,
            "hot_cells": hot.astype(int),
            "reached": reached.astype(int),
            "incidents": n,
            "hot_incidents": n.where(hot, 0),
            "patrol_minutes": minutes,
            "hot_minutes": minutes.where(hot, 0.0),
            "area_km2": area,
            "hot_area_km2": area.where(hot, 0.0),
        }
    )


def coverage_by(pieces: pd.DataFrame, shift: str | None = None, by: str = "grid_id") -> pd.DataFrame:
    """PatrolCoverage's fields summed per ``by`` (a column of ``pieces``, e.g. grid_id or h3).

    Grain: one row per value of ``by`` present in ``pieces``. Columns: ``by`` and COVERAGE_FIELDS.
    """
    parts = coverage_parts(pieces, shift)
    return parts.groupby(by, as_index=False)[COVERAGE_FIELDS].sum()


def summarize_coverage(pieces: pd.DataFrame, shift: str | None = None) -> PatrolCoverage:
    """PatrolCoverage of all ``pieces`` for ``shift`` (None = 全部, "白", "黑")."""
    parts = coverage_parts(pieces, shift)
    s = parts[COVERAGE_FIELDS].sum()
    return PatrolCoverage(
        int(s["hot_cells"]),
        int(s["reached"]),
        int(s["incidents"]),
        int(s["hot_incidents"]),
        float(s["patrol_minutes"]),
        float(s["hot_minutes"]),
        float(s["area_km2"]),
        float(s["hot_area_km2"]),
    )


def patrol_coverage(engine: Engine, f: Filters, window: Window | None, shift: str | None = None) -> PatrolCoverage:
    """热点覆盖率, 热点未覆盖, 巡逻时长 and the hot-spot shares for the filtered area.

    Grain: one PatrolCoverage. ``window`` should be ``tracked_window(...)``.
    """
    return summarize_coverage(coverage_pieces(engine, f, window), shift)


def patrol_track_start(engine: Engine) -> datetime | None:
    """When the stored GPS tracks begin (the first point at all; the feed keeps ~90 days): ``feed_starts``."""
    return feed_starts(engine).patrol


def tracked_window(window: Window | None, track_start: datetime | None) -> Window | None:
    """The part of ``window`` that the stored tracks cover: from ``track_start``
    on. None when the window holds no tracked time (or there are no tracks)."""
    if window is None or track_start is None:
        return None
    start = max(window[0], track_start)
    return (start, window[1]) if start < window[1] else None

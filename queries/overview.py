"""The 总览 overview: today's KPI tiles with 同比/环比, grid density, 30-day trend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.filters import Filters
from queries import dispatch, incidents, places, reports
from queries._common import Window
from queries.kpi import Kpi
from queries.measures import arithmetic, loop, mediation, windows


def today_window(now: datetime) -> Window:
    """Today so far, local: [00:00 today, now)."""
    return timeutil.day_start_utc(timeutil.local_today(now)), now


def month_window(now: datetime) -> Window:
    """This month so far, local: [1st 00:00, now)."""
    return timeutil.day_start_utc(timeutil.local_today(now).replace(day=1)), now


def kpis(engine: Engine, f: Filters, now: datetime | None = None) -> list[Kpi]:
    """The seven overview tiles for the filtered places at ``now`` (naive UTC).

    Grain: one Kpi per tile, in screen order: 今日警情, 今日上报, 待派单, 处置中,
    超期, 本月办结率, 本月化解率. Every 同比/环比 by ``windows.Periods``: counts
    of today so far compare with the same hours of yesterday (环比) and of the
    same day last year (同比); snapshots (待派单, 处置中, 超期) with the same
    instant yesterday and last year; rates with the same days and hours of
    last month and of the same month last year. A base before the first record
    of the measure's table is "—". Incident categories in ``f`` apply to 今日警情 only.
    """
    now = now or timeutil.utcnow()
    day = windows.periods(today_window(now), "today", now)
    month = windows.periods(month_window(now), "month", now)
    since = windows.feed_starts(engine)
    places_only = f.places_only()
    snaps = dispatch.snapshots_compared(engine, places_only, day, since.tasks)
    closure = month.compare(lambda w: loop.closure_rate(engine, places_only, w), since.tasks, "rate")
    resolution = month.compare(lambda w: mediation.resolution_rate(engine, places_only, w), since.disputes, "rate")
    return [
        Kpi("incidents_today", "今日警情", "count", day.compare(lambda w: incidents.count(engine, f, w), since.incidents)),
        Kpi("reports_today", "今日上报", "count", day.compare(lambda w: reports.count(engine, places_only, w), since.reports), higher_is_better=None),
        Kpi("pending", "待派单", "count", snaps["pending"]),
        Kpi("in_progress", "处置中", "count", snaps["in_progress"]),
        Kpi("overdue", "超期", "count", snaps["overdue"], alarm=bool(snaps["overdue"].value)),
        Kpi("closure_month", "本月办结率", "rate", closure, closure.detail, higher_is_better=True),
        Kpi("resolution_month", "本月化解率", "rate", resolution, resolution.detail, higher_is_better=True),
    ]


@dataclass(frozen=True)
class DailyTrend:
    """A daily strip of the last days with its 同比 (and 环比) by ``windows.Periods``.

    ``days``: one row per local day, all days present. Columns: day
    (datetime.date), n (today so far for the last day), n_last_year (the same
    calendar day one year earlier, the last one cut at the same local instant;
    None where that day began before the feed's first record). ``total``: the
    whole window's count against the same window last year and the days
    before (None = "—", with the 显著 mark); ``since``: the feed's first record.
    """

    days: pd.DataFrame
    total: arithmetic.Compared
    periods: windows.Periods
    since: datetime | None

    @property
    def yoy_covered(self) -> bool:
        return self.periods.covered(self.since)[0]


def incident_trend(engine: Engine, f: Filters, now: datetime | None = None, days: int = 30) -> DailyTrend:
    """Incidents per local day over the last ``days`` days (today included, so far)
    against the same days one year earlier (``DailyTrend``). Incident categories apply."""
    return _daily_trend(incidents.daily_counts, incidents.count, "incidents", engine, f, now, days)


def period_trend(engine: Engine, f: Filters, now: datetime | None = None) -> DailyTrend:
    """Incidents per local day over the filter's period (its first to last day,
    the current day so far) against the same days one year earlier, with the
    period's own 环比 (``windows.previous_window``: 上月 → the month before).
    Without dates in ``f``, the last 30 days. Incident categories apply."""
    if f.start is None or f.end is None:
        return incident_trend(engine, f, now)
    return _daily_trend(incidents.daily_counts, incidents.count, "incidents", engine, f, now, span=(f.start, f.end), period=f.period)


def report_trend(engine: Engine, f: Filters, now: datetime | None = None, days: int = 30) -> DailyTrend:
    """Grid reports per local day, as ``incident_trend``."""
    return _daily_trend(reports.daily_counts, reports.count, "reports", engine, f, now, days)


def _daily_trend(
    counter: Callable[[Engine, Filters, Window], pd.DataFrame],
    total: Callable[[Engine, Filters, Window], int],
    feed: str,
    engine: Engine,
    f: Filters,
    now: datetime | None = None,
    days: int = 30,
    span: tuple[date, date] | None = None,
    period: str | None = None,
) -> DailyTrend:
    """``counter`` (a ``daily_counts``: columns day "YYYY-MM-DD", n) over the last
    ``days`` local days (today so far), or over the local days ``span`` (first,
    last; inclusive, cut at now) compared as ``period``, and over
    ``Periods.last_year`` of that window; ``total`` (a ``count``) for the
    previous window. Coverage by the first record of ``feed`` (a FeedStarts field)."""
    now = now or timeutil.utcnow()
    if span is None:
        last = timeutil.local_today(now)
        first = last - timedelta(days=days - 1)
    else:
        first, last = span
        days = (last - first).days + 1
    end = min(timeutil.day_start_utc(last + timedelta(days=1)), now)
    p = windows.periods((timeutil.day_start_utc(first), max(end, timeutil.day_start_utc(first))), period, now)
    since = getattr(windows.feed_starts(engine), feed)
    yoy_ok, pop_ok = p.covered(since)
    this = counter(engine, f, p.current)
    before = counter(engine, f, p.last_year)
    this_map = {date.fromisoformat(d): int(n) for d, n in zip(this["day"], this["n"])}
    before_map = {date.fromisoformat(d): int(n) for d, n in zip(before["day"], before["n"])}
    rows = []
    for i in range(days):
        d = first + timedelta(days=i)
        ly = timeutil.shift_year(d, -1)
        covered = windows.base_complete((timeutil.day_start_utc(ly), timeutil.day_start_utc(ly)), since)
        rows.append({"day": d, "n": this_map.get(d, 0), "n_last_year": before_map.get(ly, 0) if covered else None})
    frame = pd.DataFrame(rows, columns=["day", "n", "n_last_year"]).astype({"n_last_year": object})
    n_now = sum(this_map.values())
    n_ly = sum(before_map.values())
    n_prev = total(engine, f, p.previous) if pop_ok else None
    return DailyTrend(frame, p.judge(n_now, n_ly, n_prev, since), p, since)


def grid_density(engine: Engine, f: Filters, now: datetime | None = None) -> pd.DataFrame:
    """Incident density per grid for the filter's period.

    Grain: one row per grid in scope (grids without incidents have n = 0).
    Columns: those of ``places.grid_shapes`` plus n (incidents) and density
    (incidents per km²).
    """
    window = f.window(now)
    shapes = places.grid_shapes(engine, f)
    counts = incidents.by_grid(engine, f, window) if window else pd.DataFrame(columns=["grid_id", "n"])
    out = shapes.merge(counts, on="grid_id", how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    out["density"] = out["n"] / out["area_km2"].where(out["area_km2"] > 0)
    out["density"] = out["density"].fillna(0.0)
    return out

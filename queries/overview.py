"""The 总览 overview: today's KPI tiles with 同比/环比, grid density, 30-day trend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.filters import Filters
from queries import dispatch, incidents, measures, places, reports
from queries._common import Window


@dataclass(frozen=True)
class Kpi:
    """One tile: a figure, how it compares, and whether it is bad news.

    ``kind`` is "count" (同比/环比 are relative changes) or "rate" (value in
    0..1, 同比/环比 are percentage-point differences). ``detail`` is e.g.
    "47/50" for a rate. ``alarm`` marks a figure the wall shows in red.
    """

    key: str
    label: str
    kind: str
    compared: measures.Compared
    detail: str | None = None
    alarm: bool = False
    # True: up is good news (rates); False: up is bad (incidents, backlog);
    # None: neither (more reports means more eyes, not more trouble).
    higher_is_better: bool | None = False


def today_window(now: datetime) -> Window:
    """Today so far, local: [00:00 today, now)."""
    return timeutil.day_start_utc(timeutil.local_today(now)), now


def month_window(now: datetime) -> Window:
    """This month so far, local: [1st 00:00, now)."""
    return timeutil.day_start_utc(timeutil.local_today(now).replace(day=1)), now


def _last_year_instant(at: datetime) -> datetime:
    local = timeutil.to_local(at)
    return timeutil.to_utc(datetime.combine(timeutil.shift_year(local.date(), -1), local.time()))


def _counted(fn: Callable[[Engine, Filters, Window], int], engine: Engine, f: Filters, w: Window) -> measures.Compared:
    return measures.compare(
        fn(engine, f, w),
        fn(engine, f, measures.last_year_window(w)),
        fn(engine, f, measures.previous_window(w, "today")),
    )


def _snapshot(fn: Callable[[Engine, Filters, datetime], int], engine: Engine, f: Filters, at: datetime) -> measures.Compared:
    return measures.compare(fn(engine, f, at), fn(engine, f, _last_year_instant(at)), fn(engine, f, at - timedelta(days=1)))


def _rated(fn: Callable[[Engine, Filters, Window], measures.Ratio], engine: Engine, f: Filters, w: Window) -> tuple[measures.Compared, str]:
    now_r = fn(engine, f, w)
    compared = measures.compare_rates(now_r, fn(engine, f, measures.last_year_window(w)), fn(engine, f, measures.previous_window(w, "month")))
    return compared, f"{now_r.numerator}/{now_r.denominator}"


def kpis(engine: Engine, f: Filters, now: datetime | None = None) -> list[Kpi]:
    """The seven overview tiles for the filtered places at ``now`` (naive UTC).

    Grain: one Kpi per tile, in screen order: 今日警情, 今日上报, 待派单, 处置中,
    超期, 本月办结率, 本月化解率. Counts of today compare with the same hours of
    yesterday (环比) and of the same day last year (同比); snapshots (待派单,
    处置中, 超期) with the same instant yesterday and last year; rates with
    the same days of last month and of the same month last year.
    Incident categories in ``f`` apply to 今日警情 only.
    """
    now = now or timeutil.utcnow()
    today = today_window(now)
    month = month_window(now)
    places_only = f.places_only()
    closure, closure_detail = _rated(measures.closure_rate, engine, places_only, month)
    resolution, resolution_detail = _rated(measures.resolution_rate, engine, places_only, month)
    overdue = _snapshot(measures.overdue_count, engine, places_only, now)
    return [
        Kpi("incidents_today", "今日警情", "count", _counted(incidents.count, engine, f, today)),
        Kpi("reports_today", "今日上报", "count", _counted(reports.count, engine, places_only, today), higher_is_better=None),
        Kpi("pending", "待派单", "count", _snapshot(dispatch.pending_count, engine, places_only, now)),
        Kpi("in_progress", "处置中", "count", _snapshot(dispatch.in_progress_count, engine, places_only, now)),
        Kpi("overdue", "超期", "count", overdue, alarm=bool(overdue.value)),
        Kpi("closure_month", "本月办结率", "rate", closure, closure_detail, higher_is_better=True),
        Kpi("resolution_month", "本月化解率", "rate", resolution, resolution_detail, higher_is_better=True),
    ]


def incident_trend(engine: Engine, f: Filters, now: datetime | None = None, days: int = 30) -> pd.DataFrame:
    """Incidents per local day over the last ``days`` days (today included, so far)
    and on the same calendar days one year earlier.

    Grain: one row per day, all days present (zeros filled). Columns: day
    (datetime.date), n, n_last_year.
    """
    return _daily_trend(incidents.daily_counts, engine, f, now, days)


def report_trend(engine: Engine, f: Filters, now: datetime | None = None, days: int = 30) -> pd.DataFrame:
    """Grid reports per local day, as ``incident_trend``. Columns: day, n, n_last_year."""
    return _daily_trend(reports.daily_counts, engine, f, now, days)


def _daily_trend(
    counter: Callable[[Engine, Filters, Window], pd.DataFrame], engine: Engine, f: Filters, now: datetime | None = None, days: int = 30
) -> pd.DataFrame:
    """``counter`` (a ``daily_counts``: columns day "YYYY-MM-DD", n) over the last
    ``days`` local days (today so far) and over the same calendar days one year
    earlier. Grain: one row per day, all days present (zeros filled). Columns:
    day (datetime.date), n, n_last_year."""
    now = now or timeutil.utcnow()
    last = timeutil.local_today(now)
    first = last - timedelta(days=days - 1)
    w = (timeutil.day_start_utc(first), now)
    this = counter(engine, f, w)
    before = counter(engine, f, (timeutil.day_start_utc(timeutil.shift_year(first, -1)), timeutil.day_start_utc(timeutil.shift_year(last, -1) + timedelta(days=1))))
    this_map = {date.fromisoformat(d): int(n) for d, n in zip(this["day"], this["n"])}
    before_map = {date.fromisoformat(d): int(n) for d, n in zip(before["day"], before["n"])}
    rows = []
    for i in range(days):
        d = first + timedelta(days=i)
        rows.append({"day": d, "n": this_map.get(d, 0), "n_last_year": before_map.get(timeutil.shift_year(d, -1), 0)})
    return pd.DataFrame(rows, columns=["day", "n", "n_last_year"])


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

"""110 incidents (警情). ``Filters.categories`` are incident categories and apply here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import incidents
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import local_day, local_hour, local_weekday
from queries.measures import windows
from queries.measures.arithmetic import Compared
from queries.vocabulary import vocabulary


def _filtered(stmt, f: Filters, window: Window | None):
    return apply_filters(
        stmt, f, grid_col=incidents.c.grid_id, time_col=incidents.c.received_at, window=window, category_col=incidents.c.category
    )


def count(engine: Engine, f: Filters, window: Window) -> int:
    """Incidents received in ``window``. Grain: one number."""
    return int(fetch_one(engine, _filtered(select(func.count()).select_from(incidents), f, window))[0])


def daily_counts(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents per local day. Grain: one row per local day that has any.

    Columns: day (text YYYY-MM-DD, the station's zone), n.
    """
    day = local_day(incidents.c.received_at).label("day")
    stmt = _filtered(select(day, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(day).order_by(day))


def by_grid(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents per grid. Grain: one row per grid with any. Columns: grid_id, n."""
    stmt = _filtered(select(incidents.c.grid_id, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(incidents.c.grid_id))


def by_category(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents per category. Grain: one row per category with any. Columns: category, n."""
    stmt = _filtered(select(incidents.c.category, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(incidents.c.category).order_by(func.count().desc()))


def hot_cells(engine: Engine, f: Filters, window: Window, limit: int = 200) -> pd.DataFrame:
    """The busiest H3 cells (res 9). Grain: one row per cell. Columns: h3, n; busiest first."""
    stmt = _filtered(select(incidents.c.h3, func.count().label("n")).select_from(incidents), f, window)
    return fetch_df(engine, stmt.group_by(incidents.c.h3).order_by(func.count().desc(), incidents.c.h3).limit(limit))


# --- trends page (警情趋势) ---



# Time grains of the trend chart, with the words the screen uses for them.
GRAIN_LABELS = {"hour": "按小时", "day": "按日", "week": "按周", "month": "按月"}
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _local_days(window: Window) -> list[date]:
    """The local calendar days a half-open UTC window touches, in order."""
    if window[1] <= window[0]:
        return []
    first = timeutil.to_local(window[0]).date()
    last = timeutil.to_local(window[1] - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def trend_grain(window: Window) -> str:
    """The grain that fits a window: "hour" for one day or less (今日), "day" up to
    31 local days, "week" up to 184 (six months), "month" beyond."""
    if window[1] - window[0] <= timedelta(days=1):
        return "hour"
    days = len(_local_days(window))
    if days <= 31:
        return "day"
    if days <= 184:
        return "week"
    return "month"


def categories_in_scope(f: Filters, present: object = (), known: tuple[str, ...] = ()) -> list[str]:
    """The categories a page shows, each even when zero: the filter's, else the
    station's vocabulary (``queries.vocabulary``, passed as ``known``) followed by
    any other category found in ``present`` (another system writes incidents; its
    new categories must not vanish)."""
    if f.categories:
        return list(f.categories)
    extra = sorted({str(c) for c in present} - set(known))
    return list(known) + extra


def _bucket_start(day: date, grain: str, first: date) -> date:
    if grain == "week":
        start = day - timedelta(days=day.weekday())  # Monday
    elif grain == "month":
        start = day.replace(day=1)
    else:
        start = day
    return max(start, first)  # the first bucket is cut at the window's first day


def _bucket_label(start: datetime, end_incl: date, grain: str, full_month: bool) -> str:
    if grain == "hour":
        return f"{start:%m-%d %H}时"
    if grain == "day":
        return f"{start:%m-%d}"
    if grain == "week":
        return f"{start:%m-%d}至{end_incl:%m-%d}"
    return f"{start:%Y年%m月}" if full_month else f"{start:%Y年%m月}（{start.day}–{end_incl.day}日）"


def category_series(engine: Engine, f: Filters, window: Window, grain: str | None = None) -> pd.DataFrame:
    """Incidents per time bucket and category, for the trend chart.

    ``grain`` is "hour", "day", "week" (Monday to Sunday) or "month", local
    time; None picks ``trend_grain(window)``. SQL counts per local day (and
    hour) and category; days are then summed into weeks or months (at most a
    few thousand rows). The first and last buckets are cut at the window's
    ends, so a week or month may be partial (its label says which days).

    Grain: one row per bucket × category, every bucket in the window and every
    category in scope present (zeros filled). Columns: bucket (local start,
    pandas Timestamp), label (text for the screen), category, n.
    """
    grain = grain or trend_grain(window)
    if grain not in GRAIN_LABELS:
        raise ValueError(f"grain must be one of {list(GRAIN_LABELS)}")
    day = local_day(incidents.c.received_at).label("day")
    keys = [day, local_hour(incidents.c.received_at).label("hour")] if grain == "hour" else [day]
    stmt = _filtered(select(*keys, incidents.c.category, func.count().label("n")).select_from(incidents), f, window)
    df = fetch_df(engine, stmt.group_by(*keys, incidents.c.category))
    days = _local_days(window)
    cats = categories_in_scope(f, df["category"].unique() if len(df) else (), vocabulary(engine, "incident_category").codes())
    cols = ["bucket", "label", "category", "n"]
    if not days:
        return pd.DataFrame(columns=cols)
    first, last = days[0], days[-1]
    if grain == "hour":
        start_h = timeutil.to_local(window[0]).replace(minute=0, second=0, microsecond=0)
        end_local = timeutil.to_local(window[1])
        starts = []
        t = start_h
        while t < end_local:
            starts.append(t)
            t += timedelta(hours=1)
        labels = {s: _bucket_label(s, s.date(), grain, True) for s in starts}
        buckets = [datetime.combine(date.fromisoformat(d), datetime.min.time()) + timedelta(hours=int(h)) for d, h in zip(df["day"], df["hour"])]
    else:
        starts_d = sorted({_bucket_start(d, grain, first) for d in days})
        ends = [*(s - timedelta(days=1) for s in starts_d[1:]), last]
        starts = [datetime.combine(s, datetime.min.time()) for s in starts_d]
        labels = {}
        for s, e in zip(starts, ends):
            full = grain == "month" and s.day == 1 and (e + timedelta(days=1)).day == 1
            labels[s] = _bucket_label(s, e, grain, full)
        buckets = [datetime.combine(_bucket_start(date.fromisoformat(d), grain, first), datetime.min.time()) for d in df["day"]]
    counts: dict[tuple[datetime, str], int] = {}
    for b, c, n in zip(buckets, df["category"], df["n"]):
        counts[(b, c)] = counts.get((b, c), 0) + int(n)
    rows = [(pd.Timestamp(s), labels[s], c, counts.get((s, c), 0)) for s in starts for c in cats]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype(int)
    return out


def hour_of_week(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents by local weekday and hour of day (GROUP BY in SQL).

    Grain: 168 rows, one per weekday × hour, zeros filled. Columns: weekday
    (0 = 周一 … 6 = 周日, the station's zone), hour (0–23, local), n.
    """
    dow = local_weekday(incidents.c.received_at).label("dow")  # 0 = Sunday in SQL
    hour = local_hour(incidents.c.received_at).label("hour")
    stmt = _filtered(select(dow, hour, func.count().label("n")).select_from(incidents), f, window)
    df = fetch_df(engine, stmt.group_by(dow, hour))
    counts = {((int(d) + 6) % 7, int(h)): int(n) for d, h, n in zip(df["dow"], df["hour"], df["n"])}
    rows = [(wd, h, counts.get((wd, h), 0)) for wd in range(7) for h in range(24)]
    return pd.DataFrame(rows, columns=["weekday", "hour", "n"])


def first_received_at(engine: Engine) -> datetime | None:
    """When the incident feed begins: the earliest received_at of any incident,
    all places and categories (naive UTC), or None when there are none.
    A comparison base that starts earlier is not fully covered by the data
    (``windows.feed_starts``, the one place the first records are read)."""
    return windows.feed_starts(engine).incidents


def latest_id(engine: Engine) -> int:
    """The newest incident id: a cheap change marker for live tiles. Grain: one number (0 if none)."""
    return int(fetch_one(engine, select(func.coalesce(func.max(incidents.c.id), 0)))[0])


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
    p = windows.periods(window, period)
    since = windows.feed_starts(engine).incidents
    yoy_ok, pop_ok = p.covered(since)

    def counts(w: Window) -> dict[str, int]:
        df = by_category(engine, f, w)
        return {str(c): int(n) for c, n in zip(df["category"], df["n"])}

    now_c = counts(p.current)
    ly_c = counts(p.last_year) if yoy_ok else {}
    prev_c = counts(p.previous) if pop_ok else {}
    known = vocabulary(engine, "incident_category").codes()
    cats = categories_in_scope(f, set(now_c) | set(ly_c) | set(prev_c), known)
    rows = tuple((c, p.judge(now_c.get(c, 0), ly_c.get(c, 0), prev_c.get(c, 0), since)) for c in cats)
    total = p.judge(sum(now_c.values()), sum(ly_c.values()), sum(prev_c.values()), since)
    return CategoryComparison(rows, total, p.current, p.last_year, p.previous, yoy_ok, pop_ok, since)

"""What the LED wall (pages/wall/wall.py) shows: its KPI strip, today's incident
points for the map and the hourly trend strip.

The figures reuse the scalar definitions (``measures``, ``dispatch``,
``incidents``, ``reports``, ``patrol``): the wall never has a number of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import incidents as incidents_t
from dashboard.db.schema import reports as reports_t
from dashboard.filters import Filters
from queries import dispatch, disputes, incidents, patrol, reports
from queries._common import Window, apply_filters, fetch_df
from queries._sql import local_hour
from queries.measures import loop, mediation, windows
from queries.overview import month_window, today_window


@dataclass(frozen=True)
class WallKpi:
    """One tile of the wall's strip: ``value`` is a count, or a rate in 0..1
    (``kind`` "rate", None when the base is zero); ``detail`` e.g. "47/50"."""

    key: str
    label: str
    kind: str
    value: float | None
    detail: str | None = None
    alarm: bool = False
    note: str | None = None  # the tile's small line: "本月 2 天" for the 本月 rates (``windows.span_note``)


WALL_KPI_LABELS = ("今日警情", "今日上报", "待派单", "处置中", "超期", "本月办结率", "本月化解率", "在岗巡逻")


def kpis(engine: Engine, f: Filters, at: datetime) -> list[WallKpi]:
    """The wall's eight tiles at ``at`` (naive UTC) for the filtered places, in
    screen order (``WALL_KPI_LABELS``): 今日警情 (``incidents.count`` today so
    far, incident categories of ``f`` apply), 今日上报 (``reports.count``),
    待派单 / 处置中 (``dispatch`` snapshots), 超期 (``loop.overdue_count``,
    alarm when > 0), 本月办结率 (``loop.closure_rate``), 本月化解率
    (``mediation.resolution_rate``), both over this month so far, and 在岗巡逻
    (``patrol.on_duty_count``). Period filters do not apply: the wall is today.
    The two 本月 rates carry the month's day count as ``note`` ("本月 2 天",
    ``windows.span_note`` of the same window).
    Grain: one WallKpi per tile; no comparisons (the wall is read from afar).
    """
    today = today_window(at)
    month = month_window(at)
    pf = f.places_only()
    overdue = loop.overdue_count(engine, pf, at)
    closure = loop.closure_rate(engine, pf, month)
    resolution = mediation.resolution_rate(engine, pf, month)
    span = windows.span_note("month", month)
    return [
        WallKpi("incidents_today", "今日警情", "count", incidents.count(engine, f, today)),
        WallKpi("reports_today", "今日上报", "count", reports.count(engine, pf, today)),
        WallKpi("pending", "待派单", "count", dispatch.pending_count(engine, pf, at)),
        WallKpi("in_progress", "处置中", "count", dispatch.in_progress_count(engine, pf, at)),
        WallKpi("overdue", "超期", "count", overdue, alarm=overdue > 0),
        WallKpi("closure_month", "本月办结率", "rate", closure.value, f"{closure.numerator}/{closure.denominator}", note=span),
        WallKpi("resolution_month", "本月化解率", "rate", resolution.value, f"{resolution.numerator}/{resolution.denominator}", note=span),
        WallKpi("on_duty", "在岗巡逻", "count", patrol.on_duty_count(engine, pf, at)),
    ]


@dataclass(frozen=True)
class CategoryDays:
    """The 警情态势 view's category table: today so far and 近7天 (the desk's
    period "7d": six days and today so far), each against yesterday until the
    same time / the 7 days before, cut the same way (环比), by
    ``incidents.by_category_compared``: the trends page's figures for those periods."""

    today: incidents.CategoryComparison
    week: incidents.CategoryComparison


def incident_categories(engine: Engine, f: Filters, at: datetime) -> CategoryDays:
    """Incidents per category today and over 近7天 with their 环比 (and 同比) at
    ``at``, for the filtered places and categories. Grain: one CategoryDays."""
    today = timeutil.local_today(at)
    out = []
    for period in ("today", "7d"):
        pf = f.with_period(period, today)
        out.append(incidents.by_category_compared(engine, pf, pf.window(at), period))
    return CategoryDays(*out)


POINT_COLUMNS = ["id", "received_at", "category", "lat", "lon", "grid_id"]


def incident_points(engine: Engine, f: Filters, window: Window, limit: int = 2000) -> pd.DataFrame:
    """110 incidents received in ``window`` with their location, newest first
    (incident categories of ``f`` apply). Grain: one row per incident, at most
    ``limit``. Columns: id, received_at (naive UTC), category, lat, lon, grid_id."""
    stmt = apply_filters(
        select(incidents_t.c.id, incidents_t.c.received_at, incidents_t.c.category, incidents_t.c.lat, incidents_t.c.lon, incidents_t.c.grid_id),
        f,
        grid_col=incidents_t.c.grid_id,
        time_col=incidents_t.c.received_at,
        window=window,
        category_col=incidents_t.c.category,
    )
    df = fetch_df(engine, stmt.order_by(incidents_t.c.received_at.desc(), incidents_t.c.id.desc()).limit(int(limit)))
    return df if not df.empty else pd.DataFrame(columns=POINT_COLUMNS)


def _by_hour(engine: Engine, table, time_col, f: Filters, window: Window, category_col=None) -> dict[int, int]:
    hour = local_hour(time_col).label("hour")
    stmt = apply_filters(
        select(hour, func.count().label("n")).select_from(table), f, grid_col=table.c.grid_id, time_col=time_col, window=window, category_col=category_col
    )
    df = fetch_df(engine, stmt.group_by(hour))
    return {int(h): int(n) for h, n in zip(df["hour"], df["n"])} if len(df) else {}


HOURLY_COLUMNS = ["hour", "incidents", "incidents_yesterday", "reports", "reports_yesterday"]


def hourly(engine: Engine, f: Filters, at: datetime) -> pd.DataFrame:
    """Today's incidents and reports per local hour so far, beside the whole of
    yesterday's (incident categories of ``f`` apply to incidents).

    Grain: one row per local hour 0..23 (zeros filled; today's hours after
    ``at`` are 0). Columns: hour, incidents, incidents_yesterday, reports,
    reports_yesterday.
    """
    today = today_window(at)
    yesterday = (today[0] - timedelta(days=1), today[0])
    pf = f.places_only()
    inc = _by_hour(engine, incidents_t, incidents_t.c.received_at, f, today, incidents_t.c.category)
    inc_y = _by_hour(engine, incidents_t, incidents_t.c.received_at, f, yesterday, incidents_t.c.category)
    rep = _by_hour(engine, reports_t, reports_t.c.reported_at, pf, today)
    rep_y = _by_hour(engine, reports_t, reports_t.c.reported_at, pf, yesterday)
    rows = [(h, inc.get(h, 0), inc_y.get(h, 0), rep.get(h, 0), rep_y.get(h, 0)) for h in range(24)]
    return pd.DataFrame(rows, columns=HOURLY_COLUMNS)


def local_hour_of(at: datetime) -> int:
    """The local hour (the station's zone) of a naive UTC instant."""
    return timeutil.to_local(at).hour


# --- feed health -------------------------------------------------------------------


@dataclass(frozen=True)
class FeedTimes:
    """When each upstream feed last delivered (naive UTC; None = never)."""

    last_report_at: datetime | None  # 网格通: newest grid report
    last_incident_at: datetime | None  # 110: newest incident received


def feed_times(engine: Engine, at: datetime) -> FeedTimes:
    """The newest grid report and 110 incident at or before ``at``, over the whole
    database: a feed is a system, not a place (a quiet grid is normal, a quiet
    feed is not). Grain: one row. Both lookups use the time indexes."""
    stmt = select(
        select(func.max(reports_t.c.reported_at)).where(reports_t.c.reported_at <= at).scalar_subquery(),
        select(func.max(incidents_t.c.received_at)).where(incidents_t.c.received_at <= at).scalar_subquery(),
    )
    df = fetch_df(engine, stmt)
    last_r, last_i = (None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in df.iloc[0])
    return FeedTimes(last_r, last_i)


@dataclass(frozen=True)
class QuietFeed:
    feed: str  # the feed's name on screen
    since: datetime | None  # its last delivery (None = never delivered)
    minutes: int | None  # silent this long at the instant judged (None = never delivered)


def quiet_feeds(times: FeedTimes, at: datetime, reports_limit_min: int, incidents_limit_min: int) -> list[QuietFeed]:
    """The feeds silent for longer than their limit at ``at``, in screen order.

    "Gone quiet" (an upstream system is probably down) is a third state, not to be
    confused with 无数据 (nothing matches the filter) or with the database being
    unreachable. A feed that never delivered anything counts as quiet.
    """
    out = []
    for name, last, limit in (("网格通上报", times.last_report_at, reports_limit_min), ("110警情", times.last_incident_at, incidents_limit_min)):
        if last is None:
            out.append(QuietFeed(name, None, None))
            continue
        minutes = int((at - last).total_seconds() // 60)
        if minutes > limit:
            out.append(QuietFeed(name, last, minutes))
    return out


# --- alarms ------------------------------------------------------------------------

ALARM_COLUMNS = ["key", "kind", "id", "at", "category", "urgency", "community", "grid", "officer", "department"]


def alarms(engine: Engine, f: Filters, at: datetime, window_s: int, limit: int = 20) -> pd.DataFrame:
    """What the wall flashes at ``at``: grid reports marked 紧急/特急
    (``reports.URGENT``) uploaded in the last ``window_s`` seconds, and tasks that
    became 超期 in that time (deadline passed within the window and still overdue
    at ``at``, by ``loop.overdue_condition``). Filtered places apply.

    Grain: one row per alarm, newest first, at most ``limit`` of each kind.
    Columns: key ("report:ID" / "task:ID", stable across polls), kind ("report" |
    "overdue"), id, at (upload time or deadline, naive UTC), category, urgency,
    community, grid, officer (the overdue task's community officer, raw: mask
    before showing) and department (None for reports).
    """
    since = at - timedelta(seconds=window_s)
    pf = f.places_only()
    urgent = reports.latest(engine, pf, (since, at + timedelta(seconds=1)), urgencies=reports.URGENT, limit=limit)
    rows = [
        {
            "key": f"report:{int(r.id)}", "kind": "report", "id": int(r.id), "at": r.reported_at,
            "category": r.category, "urgency": r.urgency, "community": r.community, "grid": r.grid, "officer": None, "department": None,
        }
        for r in urgent.itertuples()
    ]
    overdue = dispatch.unclosed_tasks(engine, pf, at, limit=limit, overdue_since=since)
    for r in overdue.itertuples():
        rows.append(
            {
                "key": f"task:{int(r.id)}", "kind": "overdue", "id": int(r.id), "at": r.deadline_at,
                "category": r.category, "urgency": r.urgency, "community": r.community, "grid": r.grid,
                "officer": r.officer, "department": r.department,
            }
        )
    df = pd.DataFrame(rows, columns=ALARM_COLUMNS)
    if not df.empty:
        df["at"] = pd.to_datetime(df["at"])
        df = df.sort_values(["at", "key"], ascending=False, kind="stable").reset_index(drop=True)
    return df


# --- the wall's lists, cut to their row budget -----------------------------------------
#
# A list on the wall shows at most the rows its view has room for (the page's
# row budget, which the HTML lays out as exactly that many rows, assets/wall.css),
# and says how many it holds: ``total`` is a COUNT with the list's own definition,
# never the length of the cut frame. Each list is ordered so that what the cut
# hides is the least urgent. A KPI tile and the list beside it take their figure
# from the same function (the queue's 超期 and the strip's 超期 are both
# ``loop.overdue_count``; the 回访 list and the 回访待办 card both
# ``mediation.visit_backlog``; the incident list and 今日警情 both ``incidents.count``).

FEED_DAYS = 30  # the report feed looks back this far (it is never empty at dawn)


@dataclass(frozen=True)
class WallList:
    """``rows``: at most the budget, in screen order; ``total``: how many the list
    holds at ``at`` (naive UTC) by the list's definition; ``hidden`` = the rest."""

    rows: pd.DataFrame
    total: int
    at: datetime

    @property
    def shown(self) -> int:
        return len(self.rows)

    @property
    def hidden(self) -> int:
        return max(0, self.total - len(self.rows))


@dataclass(frozen=True)
class QueueList(WallList):
    """派单队列: the tasks 未办结 (``total`` = ``dispatch.unclosed_count``) and how many
    of them are 超期 (``overdue`` = ``loop.overdue_count``, the strip's 超期)."""

    overdue: int = 0


def queue(engine: Engine, f: Filters, at: datetime, rows: int) -> QueueList:
    """The tasks 未办结 at ``at`` in the filtered places, overdue first (most overdue
    first), then by urgency, then in queue order (``dispatch.unclosed_tasks`` with
    ``urgency_first``), at most ``rows``. Grain: one QueueList."""
    pf = f.places_only()
    df = dispatch.unclosed_tasks(engine, pf, at, limit=rows, urgency_first=True)
    return QueueList(df, dispatch.unclosed_count(engine, pf, at), at, loop.overdue_count(engine, pf, at))


@dataclass(frozen=True)
class FeedList(WallList):
    """最新网格上报: ``total`` = the reports in the feed's window (``feed_window``);
    ``today`` = today's reports (``reports.count``, the strip's 今日上报);
    ``urgent_today`` = today's 紧急/特急 (``reports.urgent_count``)."""

    today: int = 0
    urgent_today: int = 0


def feed_window(at: datetime) -> Window:
    """The feed's window: the last FEED_DAYS days up to a minute past ``at``."""
    return (at - timedelta(days=FEED_DAYS), at + timedelta(minutes=1))


def feed(engine: Engine, f: Filters, at: datetime, rows: int) -> FeedList:
    """The newest reports (``reports.latest``, newest first) in the feed's window,
    at most ``rows``, with the window's and today's counts. Grain: one FeedList."""
    pf = f.places_only()
    window = feed_window(at)
    today = today_window(at)
    df = reports.latest(engine, pf, window, limit=rows)
    return FeedList(df, reports.count(engine, pf, window), at, reports.count(engine, pf, today), reports.urgent_count(engine, pf, today))


@dataclass(frozen=True)
class VisitList(WallList):
    """回访待办: ``total`` = due within 7 days (overdue included), ``overdue`` =
    already past due, both ``mediation.visit_backlog`` (the 回访待办 card's)."""

    overdue: int = 0


VISIT_HORIZON_DAYS = 7


def visits(engine: Engine, f: Filters, at: datetime, rows: int) -> VisitList:
    """The follow-up visits to make at ``at`` (``disputes.visits_due``): the overdue
    ones longest overdue first, then the upcoming ones soonest first, at most
    ``rows`` in all. Grain: one VisitList."""
    pf = f.places_only()
    df = disputes.visits_due(engine, pf, at, VISIT_HORIZON_DAYS, limit=rows, most_overdue_first=True).head(rows).reset_index(drop=True)
    backlog = mediation.visit_backlog(engine, pf, at, VISIT_HORIZON_DAYS)
    return VisitList(df, backlog.pending, at, backlog.overdue)


def incidents_today(engine: Engine, f: Filters, at: datetime, rows: int) -> WallList:
    """Today's 110 incidents so far (``incident_points``, newest first), at most
    ``rows``; ``total`` = ``incidents.count`` today (the strip's 今日警情; incident
    categories of ``f`` apply). Grain: one WallList."""
    today = today_window(at)
    return WallList(incident_points(engine, f, today, limit=rows), incidents.count(engine, f, today), at)


def on_duty(engine: Engine, f: Filters, at: datetime, rows: int) -> WallList:
    """The patrols on duty at ``at`` (``patrol.live_positions``, by team name), at
    most ``rows``; ``total`` = ``patrol.on_duty_count`` (the strip's 在岗巡逻).
    Grain: one WallList."""
    pf = f.places_only()
    return WallList(patrol.live_positions(engine, pf, at).head(rows).reset_index(drop=True), patrol.on_duty_count(engine, pf, at), at)

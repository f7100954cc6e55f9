"""网格画像 grid profile: one grid on one page, and the ranking of grids to pick from.

The static profile (boundary, people, cameras, compounds, 一标三实) takes a
``grid_id``; the figures over time take the page's ``Filters`` (whose
``grid_id`` is the grid) so they also work for a wider scope. Names and phones
are returned as stored: the page masks them (``dashboard.mask``).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import (
    BASE_RECORD_KINDS,
    GRID_WORKER_KINDS,
    base_records,
    communities,
    departments,
    disputes,
    grid_workers,
    grids,
    incidents,
    reports,
    stations,
    tasks,
)
from dashboard.db.schema import cameras as cameras_t
from dashboard.db.schema import compounds as compounds_t
from dashboard.db.schema import officers as officers_t
from dashboard.filters import Filters
from queries import disputes as disputes_q
from queries import incidents as incidents_q
from queries import places
from queries import reports as reports_q
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries._sql import local_day
from queries.kpi import Kpi
from queries.measures import arithmetic, baseline, loop, windows

# --- the static profile -----------------------------------------------------------------


def grid_card(engine: Engine, grid_id: int) -> pd.DataFrame:
    """The grid's identity and size.

    Grain: one row (empty when the grid does not exist). Columns: grid_id,
    code, name, community_id, community, station, boundary_geojson, area_km2,
    centroid_lat, centroid_lon, population, compounds, households, buildings,
    population_density (人口密度: population / area_km2, people per km²; None
    without an area).
    """
    def agg(expr):
        return select(expr).where(compounds_t.c.grid_id == grids.c.id).scalar_subquery()

    stmt = (
        select(
            grids.c.id.label("grid_id"),
            grids.c.code,
            grids.c.name,
            grids.c.community_id,
            communities.c.name.label("community"),
            stations.c.name.label("station"),
            grids.c.boundary_geojson,
            grids.c.area_km2,
            grids.c.centroid_lat,
            grids.c.centroid_lon,
            grids.c.population,
            agg(func.count()).label("compounds"),
            agg(func.coalesce(func.sum(compounds_t.c.households), 0)).label("households"),
            agg(func.coalesce(func.sum(compounds_t.c.buildings), 0)).label("buildings"),
        )
        .select_from(grids.join(communities, communities.c.id == grids.c.community_id).join(stations, stations.c.id == communities.c.station_id))
        .where(grids.c.id == grid_id)
    )
    df = fetch_df(engine, stmt)
    df["population_density"] = [population_density(p, a) for p, a in zip(df["population"], df["area_km2"])]
    return df.astype({"population_density": object})


def population_density(population: float | None, area_km2: float | None) -> float | None:
    """人口密度: people per km² (None when the area is unknown or zero)."""
    if population is None or area_km2 is None or pd.isna(population) or pd.isna(area_km2) or float(area_km2) <= 0:
        return None
    return float(population) / float(area_km2)


def neighbours(engine: Engine, grid_id: int) -> pd.DataFrame:
    """Grids around the grid (to draw faintly): every other grid whose centroid lies
    within a box of ±max(0.01°, 2.5·√area/111 km) around its centroid (about three
    grid widths; grids tile the area, so these are its neighbours and theirs).

    Grain: one row per nearby grid. Columns: grid_id, code, name, community,
    boundary_geojson, centroid_lat, centroid_lon.
    """
    me = fetch_df(engine, select(grids.c.centroid_lat, grids.c.centroid_lon, grids.c.area_km2).where(grids.c.id == grid_id))
    cols = ["grid_id", "code", "name", "community", "boundary_geojson", "centroid_lat", "centroid_lon"]
    if me.empty:
        return pd.DataFrame(columns=cols)
    lat, lon, area = (float(me.iloc[0][c]) for c in ("centroid_lat", "centroid_lon", "area_km2"))
    half_lat = max(0.01, 2.5 * math.sqrt(max(area, 0.0)) / 111.0)
    half_lon = half_lat / max(math.cos(math.radians(lat)), 0.1)
    stmt = (
        select(
            grids.c.id.label("grid_id"),
            grids.c.code,
            grids.c.name,
            communities.c.name.label("community"),
            grids.c.boundary_geojson,
            grids.c.centroid_lat,
            grids.c.centroid_lon,
        )
        .select_from(grids.join(communities, communities.c.id == grids.c.community_id))
        .where(
            grids.c.id != grid_id,
            grids.c.centroid_lat.between(lat - half_lat, lat + half_lat),
            grids.c.centroid_lon.between(lon - half_lon, lon + half_lon),
        )
        .order_by(grids.c.code)
    )
    return fetch_df(engine, stmt)


def officers(engine: Engine, grid_id: int) -> pd.DataFrame:
    """The grid's community police: officers whose community is the grid's (社区民警 and 辅警).

    Grain: one row per officer, 民警 first. Columns: officer_id, name, badge, role, phone.
    """
    community = select(grids.c.community_id).where(grids.c.id == grid_id).scalar_subquery()
    stmt = (
        select(officers_t.c.id.label("officer_id"), officers_t.c.name, officers_t.c.badge, officers_t.c.role, officers_t.c.phone)
        .where(officers_t.c.community_id == community)
        .order_by(case((officers_t.c.role == "民警", 0), else_=1), officers_t.c.id)
    )
    return fetch_df(engine, stmt)


def workers(engine: Engine, grid_id: int) -> pd.DataFrame:
    """Grid forces (网格力量) of the grid.

    Grain: one row per grid worker; active first, then by kind in
    GRID_WORKER_KINDS order, then id. Columns: worker_id, name, kind, phone, active.
    """
    order = case({k: i for i, k in enumerate(GRID_WORKER_KINDS)}, value=grid_workers.c.kind, else_=len(GRID_WORKER_KINDS))
    stmt = (
        select(grid_workers.c.id.label("worker_id"), grid_workers.c.name, grid_workers.c.kind, grid_workers.c.phone, grid_workers.c.active)
        .where(grid_workers.c.grid_id == grid_id)
        .order_by(grid_workers.c.active.desc(), order, grid_workers.c.id)
    )
    df = fetch_df(engine, stmt)
    df["active"] = df["active"].astype(bool)
    return df


def worker_kinds(engine: Engine, grid_id: int) -> pd.DataFrame:
    """Grid workers by kind.

    Grain: one row per kind of GRID_WORKER_KINDS (in that order, zeros kept),
    plus any other kind found. Columns: kind, total, active.
    """
    stmt = (
        select(
            grid_workers.c.kind,
            func.count().label("total"),
            func.coalesce(func.sum(case((grid_workers.c.active.is_(True), 1), else_=0)), 0).label("active"),
        )
        .where(grid_workers.c.grid_id == grid_id)
        .group_by(grid_workers.c.kind)
    )
    df = fetch_df(engine, stmt)
    got = {r.kind: (int(r.total), int(r.active)) for r in df.itertuples()}
    kinds = list(GRID_WORKER_KINDS) + sorted(k for k in got if k not in GRID_WORKER_KINDS)
    return pd.DataFrame(
        {"kind": kinds, "total": [got.get(k, (0, 0))[0] for k in kinds], "active": [got.get(k, (0, 0))[1] for k in kinds]}
    )


def cameras(engine: Engine, grid_id: int) -> pd.DataFrame:
    """Cameras (视频监控点位) of the grid.

    Grain: one row per camera; offline first. Columns: camera_id, name, kind,
    lat, lon, online (bool), last_seen_at (naive UTC or None).
    """
    stmt = (
        select(
            cameras_t.c.id.label("camera_id"),
            cameras_t.c.name,
            cameras_t.c.kind,
            cameras_t.c.lat,
            cameras_t.c.lon,
            cameras_t.c.online,
            cameras_t.c.last_seen_at,
        )
        .where(cameras_t.c.grid_id == grid_id)
        .order_by(cameras_t.c.online, cameras_t.c.id)
    )
    df = fetch_df(engine, stmt)
    df["online"] = df["online"].astype(bool)
    return df


def compounds(engine: Engine, grid_id: int) -> pd.DataFrame:
    """Residential compounds (小区) of the grid.

    Grain: one row per compound, biggest first. Columns: compound_id, name,
    households, buildings, lat, lon.
    """
    stmt = (
        select(
            compounds_t.c.id.label("compound_id"),
            compounds_t.c.name,
            compounds_t.c.households,
            compounds_t.c.buildings,
            compounds_t.c.lat,
            compounds_t.c.lon,
        )
        .where(compounds_t.c.grid_id == grid_id)
        .order_by(compounds_t.c.households.desc(), compounds_t.c.id)
    )
    return fetch_df(engine, stmt)


def base_counts(engine: Engine, grid_id: int) -> pd.DataFrame:
    """一标三实 base data collected in the grid, all time.

    Grain: one row per kind of BASE_RECORD_KINDS (标准地址, 实有人口, 实有房屋,
    实有单位; zeros kept), in that order. Columns: kind, n.
    """
    stmt = (
        select(base_records.c.kind, func.count().label("n"))
        .where(base_records.c.grid_id == grid_id)
        .group_by(base_records.c.kind)
    )
    df = fetch_df(engine, stmt)
    got = {r.kind: int(r.n) for r in df.itertuples()}
    return pd.DataFrame({"kind": list(BASE_RECORD_KINDS), "n": [got.get(k, 0) for k in BASE_RECORD_KINDS]})


# --- counts over time --------------------------------------------------------------------


def before_feedback_count(engine: Engine, f: Filters, at: datetime) -> int:
    """在办派单 at the instant ``at`` (``loop.before_feedback_condition``: 待派单 or
    处置中; not the dispatch queue's 未办结). Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(tasks).where(loop.before_feedback_condition(at)), f, grid_col=tasks.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def camera_online(engine: Engine, f: Filters) -> arithmetic.Ratio:
    """摄像头在线率 now: cameras online / cameras, in the places of ``f``. Grain: one ratio."""
    res = places.grid_resources(engine, f.places_only())
    return arithmetic.Ratio(int(res["cameras_online"].sum()), int(res["cameras"].sum()))


def kpis(engine: Engine, f: Filters, now: datetime) -> list[Kpi]:
    """The grid's six tiles for the filter's period and places.

    Grain: one Kpi per tile, in screen order: 警情, 上报, 纠纷 (counts in the
    period), 在办派单 and 超期 (snapshots at ``now``), 摄像头在线率 (now; no
    history, so no 同比/环比). Every 同比/环比 by ``windows.periods_of(f,
    now)``, each with its own table's first record as coverage (显著 from
    the Poisson test). Incident categories in ``f`` apply to 警情 only.
    """
    p = windows.periods_of(f, now)
    since = windows.feed_starts(engine)
    po = f.places_only()

    def counted(fn, ff: Filters, first: datetime | None) -> arithmetic.Compared:
        return p.compare(lambda w: fn(engine, ff, w), first)

    def snapshot(fn) -> arithmetic.Compared:
        return p.compare_at(lambda t: fn(engine, po, t), since.tasks)

    overdue = snapshot(loop.overdue_count)
    cam = camera_online(engine, f)
    return [
        Kpi("incidents", "警情", "count", counted(incidents_q.count, f, since.incidents)),
        Kpi("reports", "上报", "count", counted(reports_q.count, po, since.reports), higher_is_better=None),
        Kpi("disputes", "纠纷", "count", counted(disputes_q.found_count, po, since.disputes)),
        Kpi("before_feedback", "在办派单", "count", snapshot(before_feedback_count)),
        Kpi("overdue", "超期", "count", overdue, alarm=bool(overdue.value)),
        Kpi(
            "cameras_online",
            "摄像头在线率",
            "rate",
            arithmetic.comparison(cam, None, None, "rate"),
            f"{cam.numerator}/{cam.denominator}",
            higher_is_better=True,
        ),
    ]


ACTIVITY_SOURCES = ("incidents", "reports", "disputes")
ACTIVITY_LABELS = {"incidents": "警情", "reports": "上报", "disputes": "纠纷"}
_SOURCE_COLS = {
    "incidents": (incidents.c.received_at, incidents.c.grid_id, incidents.c.category),
    "reports": (reports.c.reported_at, reports.c.grid_id, None),
    "disputes": (disputes.c.found_at, disputes.c.grid_id, None),
}


def _daily(engine: Engine, source: str, f: Filters, window: Window) -> pd.DataFrame:
    time_col, grid_col, cat_col = _SOURCE_COLS[source]
    day = local_day(time_col).label("day")
    stmt = apply_filters(
        select(day, func.count().label("n")).select_from(time_col.table),
        f,
        grid_col=grid_col,
        time_col=time_col,
        window=window,
        category_col=cat_col,
    )
    df = fetch_df(engine, stmt.group_by(day))
    df["day"] = [date.fromisoformat(d) for d in df["day"]]
    return df


def _data_start(engine: Engine, source: str) -> date | None:
    """Local day of the source table's first row (any place): where its history begins."""
    first = fetch_one(engine, select(func.min(_SOURCE_COLS[source][0])))[0]
    return None if first is None else timeutil.to_local(first).date()


def activity(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Incidents, reports and disputes per week (or month) against the scope's own
    baseline: buckets, baseline and band as defined in ``measures`` (section
    "grid profile"); the period is the local days of ``window``, and counting
    stops at the window's end (now, for a period ending today).

    Grain: one row per (source, bucket shown), sources in ACTIVITY_SOURCES order,
    oldest bucket first. Columns: source, label (警情/上报/纠纷), unit
    (week/month), first, last (local dates, inclusive), n, mean, low, high
    (None without a baseline), baseline_buckets, above (bool).
    """
    start, end = window
    first_day = timeutil.to_local(start).date()
    last_day = timeutil.to_local(max(start, end - timedelta(microseconds=1))).date()
    unit, shown, base = baseline.activity_buckets(first_day, last_day)
    span = (timeutil.day_start_utc(base[0].first), min(end, timeutil.day_start_utc(shown[-1].last + timedelta(days=1))))
    rows = []
    for source in ACTIVITY_SOURCES:
        daily = _daily(engine, source, f, span)
        totals = baseline.bucket_totals(daily, base + shown)
        b = baseline.bucket_baseline(totals[: len(base)], base, _data_start(engine, source))
        for bucket, n in zip(shown, totals[len(base) :]):
            rows.append(
                {
                    "source": source,
                    "label": ACTIVITY_LABELS[source],
                    "unit": unit,
                    "first": bucket.first,
                    "last": bucket.last,
                    "n": int(n),
                    "mean": b.mean,
                    "low": b.low,
                    "high": b.high,
                    "baseline_buckets": b.buckets,
                    "above": baseline.above_band(int(n), b),
                }
            )
    return pd.DataFrame(
        rows, columns=["source", "label", "unit", "first", "last", "n", "mean", "low", "high", "baseline_buckets", "above"]
    )


# --- lists --------------------------------------------------------------------------------


def before_feedback_tasks(engine: Engine, f: Filters, now: datetime, limit: int = 200) -> pd.DataFrame:
    """Tasks 在办 at ``now`` (``loop.before_feedback_condition``) in the places of ``f``: overdue
    first, then by deadline (none last), then newest.

    Grain: one row per task, at most ``limit``. Columns: task_id, created_at,
    category, urgency, state, officer (name or None), department (name or None),
    deadline_at (naive UTC or None), overdue (bool, ``loop.overdue_condition``).
    """
    overdue = case((loop.overdue_condition(now), 1), else_=0).label("overdue")
    stmt = (
        select(
            tasks.c.id.label("task_id"),
            tasks.c.created_at,
            tasks.c.category,
            tasks.c.urgency,
            tasks.c.state,
            officers_t.c.name.label("officer"),
            departments.c.name.label("department"),
            tasks.c.deadline_at,
            overdue,
        )
        .select_from(
            tasks.outerjoin(officers_t, officers_t.c.id == tasks.c.officer_id).outerjoin(
                departments, departments.c.id == tasks.c.department_id
            )
        )
        .where(loop.before_feedback_condition(now))
    )
    stmt = apply_filters(stmt, f.places_only(), grid_col=tasks.c.grid_id)
    stmt = stmt.order_by(
        overdue.desc(), case((tasks.c.deadline_at.is_(None), 1), else_=0), tasks.c.deadline_at, tasks.c.id.desc()
    ).limit(limit)
    df = fetch_df(engine, stmt)
    df["overdue"] = df["overdue"].astype(bool)
    return df


def latest_reports(engine: Engine, f: Filters, window: Window, limit: int = 50) -> pd.DataFrame:
    """The newest grid reports in ``window`` in the places of ``f``.

    Grain: one row per report, newest first, at most ``limit``. Columns:
    report_id, reported_at (naive UTC), category, urgency, place, text, reporter
    (grid worker's name or None), task_state (the state of the report's newest
    task, as ``reports.latest`` has it; None when no task was made).
    """
    stmt = (
        select(
            reports.c.id.label("report_id"),
            reports.c.reported_at,
            reports.c.category,
            reports.c.urgency,
            reports.c.place,
            reports.c.text,
            grid_workers.c.name.label("reporter"),
            tasks.c.state.label("task_state"),
        )
        .select_from(
            reports.outerjoin(grid_workers, grid_workers.c.id == reports.c.reporter_id).outerjoin(
                tasks, and_(tasks.c.report_id == reports.c.id, reports_q.newest_task_of_report())
            )
        )
    )
    stmt = apply_filters(stmt, f.places_only(), grid_col=reports.c.grid_id, time_col=reports.c.reported_at, window=window)
    return fetch_df(engine, stmt.order_by(reports.c.reported_at.desc(), reports.c.id.desc()).limit(limit))


def grid_ranking(engine: Engine, f: Filters, window: Window, now: datetime) -> pd.DataFrame:
    """The grids in scope ranked by incidents in ``window`` (then reports, then code).

    Grain: one row per grid in the places of ``f`` (grids without any have
    zeros). Columns: rank, grid_id, code, name, community, population,
    area_km2, incidents (categories of ``f`` apply), reports, disputes (found
    in ``window``), before_feedback (在办 at ``now``), overdue (超期 at ``now``).
    """
    po = f.places_only()

    def per_grid(table, grid_col, label, *, time_col=None, cat_col=None, where=None):
        stmt = select(grid_col.label("grid_id"), func.count().label(label)).select_from(table)
        if where is not None:
            stmt = stmt.where(where)
        ff = f if cat_col is not None else po
        stmt = apply_filters(stmt, ff, grid_col=grid_col, time_col=time_col, window=window if time_col is not None else None, category_col=cat_col)
        return stmt.group_by(grid_col).subquery(label)

    subs = [
        per_grid(incidents, incidents.c.grid_id, "incidents", time_col=incidents.c.received_at, cat_col=incidents.c.category),
        per_grid(reports, reports.c.grid_id, "reports", time_col=reports.c.reported_at),
        per_grid(disputes, disputes.c.grid_id, "disputes", time_col=disputes.c.found_at),
    ]
    # Grouped by ``grid_id + 0``: on SQLite a plain ``GROUP BY grid_id`` walks the
    # (grid_id, created_at) index and fetches every row by rowid, ten times slower
    # at district scale than one scan of the table (no index helps "not closed yet").
    task_grid = (tasks.c.grid_id + 0).label("grid_id")
    t = select(
        task_grid,
        func.sum(case((loop.before_feedback_condition(now), 1), else_=0)).label("before_feedback"),
        func.sum(case((loop.overdue_condition(now), 1), else_=0)).label("overdue"),
    ).where(or_(tasks.c.closed_at.is_(None), tasks.c.closed_at > now))
    t = apply_filters(t, po, grid_col=tasks.c.grid_id).group_by(task_grid).subquery("t")
    src = grids.join(communities, communities.c.id == grids.c.community_id)
    for s in subs:
        src = src.outerjoin(s, s.c.grid_id == grids.c.id)
    src = src.outerjoin(t, t.c.grid_id == grids.c.id)
    counts = [func.coalesce(s.c[s.name], 0).label(s.name) for s in subs]
    stmt = select(
        grids.c.id.label("grid_id"),
        grids.c.code,
        grids.c.name,
        communities.c.name.label("community"),
        grids.c.population,
        grids.c.area_km2,
        *counts,
        func.coalesce(t.c.before_feedback, 0).label("before_feedback"),
        func.coalesce(t.c.overdue, 0).label("overdue"),
    ).select_from(src)
    stmt = apply_filters(stmt, po, grid_col=grids.c.id).order_by(counts[0].desc(), counts[1].desc(), grids.c.code)
    df = fetch_df(engine, stmt)
    for c in ("incidents", "reports", "disputes", "before_feedback", "overdue", "population"):
        df[c] = df[c].astype(int)
    df.insert(0, "rank", range(1, len(df) + 1))
    return df

"""指挥大屏: the LED wall of the command room (``/wall``, or ``/?wall=1``).

One fixed layout that fills the screen without scrolling (sizes in vh/vw, see
assets/wall.css): a header with the station and a live clock, the KPI strip,
the newest grid reports (left), the grid map with today's incidents and the
live patrol positions (centre), the dispatch queue with its countdowns
(right) and the hourly trend strip (bottom). No widgets, no menu: the wall is
never touched. Filters come from the URL only (``community``, ``grid``, ``cat``;
the wall always shows today); ``scale=1.5`` multiplies the type size.

Live tiles are ``st.fragment(run_every=...)``: each polls a cheap change
marker (``reports.latest_id``, ``dispatch.latest_event_id``, or the clock for
figures that move with time) and re-queries only when it changed; the last
result is kept per tile in ``st.session_state``. A failing query leaves the
last good data on screen under a red banner with its age.

"Now" on the wall (``wall_now``) is the current time, not the frame's cached
``ctx.now``: ``timeutil.utcnow()``, or with DASHBOARD_NOW set, that instant
plus the time elapsed since the session's first run (so a frozen world still
has a ticking clock and countdowns).
"""

from __future__ import annotations

import html
import time
from datetime import datetime, timedelta
from typing import Any, Callable

import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboard import fmt, maps, mask, timeutil
from dashboard.config import PROJECT_ROOT
from dashboard.database import DataError
from dashboard.frame import context
from queries import dispatch, measures, patrol, places, reports, wall

CSS_PATH = PROJECT_ROOT / "assets" / "wall.css"
FEED_ROWS = 12
QUEUE_ROWS = 10
AMBER_MINUTES = 120  # a deadline closer than this is shown amber
KPI_EVERY_S, FEED_EVERY_S, QUEUE_EVERY_S, MAP_EVERY_S, TREND_EVERY_S = 3, 2, 3, 30, 60
# Figures that move with time alone (today's counts, overdue, patrol presence)
# are re-queried at least this often even when no marker changed.
KPI_REFRESH_S, QUEUE_REFRESH_S = 30, 60
WEEKDAYS = "一二三四五六日"

ctx = context()
f = ctx.filters
e = html.escape


def wall_now() -> datetime:
    """The current instant (naive UTC) for live tiles; see the module docstring."""
    override = ctx.settings.now_override
    if override is None:
        return timeutil.utcnow().replace(microsecond=0)
    t0 = st.session_state.setdefault("_wall_t0", time.monotonic())
    return (override + timedelta(seconds=time.monotonic() - t0)).replace(microsecond=0)


def scale_param() -> tuple[float, str | None]:
    """``?scale=`` (type size factor, 0.5–3); a bad value gives 1 and a warning."""
    raw = st.query_params.get("scale")
    if raw in (None, ""):
        return 1.0, None
    try:
        v = float(str(raw)[:8])
    except ValueError:
        v = float("nan")
    if not 0.5 <= v <= 3:
        return 1.0, f"已忽略无效的字号倍数 scale={str(raw)[:12]}（应为 0.5–3）"
    return v, None


# --- the live-tile machinery ---------------------------------------------------------


def live(key: str, marker: Callable[[], Any], load: Callable[[], Any], render: Callable[[Any], str]) -> None:
    """One live tile: poll ``marker()``; call ``load()`` when it changed (or on the
    first run); draw ``render(data)`` as one HTML block. On DataError keep the
    last good data and add a red banner "数据更新于 …，已中断 N 秒"."""
    box = st.session_state.setdefault("_wall_tiles", {}).setdefault(key, {})
    real = timeutil.utcnow()
    try:
        m = marker()
        if "data" not in box or box.get("marker") != m:
            box["data"] = load()
            box["marker"] = m
        box["ok_at"] = real
        box["failed"] = False
    except DataError:
        box["failed"] = True
    body = render(box["data"]) if "data" in box else '<div class="jw-w-wait">数据加载中…</div>'
    banner = ""
    if box.get("failed"):
        if "ok_at" in box:
            gap = int((real - box["ok_at"]).total_seconds())
            banner = f'<div class="jw-w-stale">数据更新于 {timeutil.fmt_local(box["ok_at"], "%H:%M:%S")}，已中断 {gap} 秒</div>'
        else:
            banner = '<div class="jw-w-stale">数据源暂不可用，正在重试</div>'
    st.html(f'<div class="jw-w-tile jw-w-tile-{key}">{banner}{body}</div>')


def every(seconds: int, at: datetime) -> int:
    """A marker part that changes every ``seconds`` of wall time."""
    return int(at.timestamp()) // seconds


# --- header and clock ------------------------------------------------------------------


def station_title() -> str:
    names = [p.name for p in ctx.catalogue.stations]
    station = "、".join(names) if len(names) <= 2 else f"{len(names)}个派出所"
    return f"{station} · 综合指挥室"


@st.fragment(run_every=1)
def clock() -> None:
    local = timeutil.to_local(wall_now())
    st.html(
        f'<div class="jw-w-clock"><span class="jw-w-date">{local:%Y-%m-%d} 星期{WEEKDAYS[local.weekday()]}</span>'
        f'<span class="jw-w-time" data-clock="{local:%H:%M:%S}">{local:%H:%M:%S}</span></div>'
    )


# --- feed health: "the feed has gone quiet" ---------------------------------------------

QUIET_EVERY_S = 15


def quiet_text(q: wall.QuietFeed) -> str:
    if q.since is None:
        return f"{q.feed}无数据接入"
    span = f"{q.minutes // 60}小时{q.minutes % 60}分" if q.minutes >= 60 else f"{q.minutes}分钟"
    when = timeutil.fmt_local(q.since, "%m-%d %H:%M")
    return f"{q.feed}已静默{span}（末条 {when}）"


@st.fragment(run_every=QUIET_EVERY_S)
def feed_watch() -> None:
    """Amber banner naming each upstream feed that has gone quiet and since when.
    A database error draws nothing here: the tiles say the database is down."""
    now = wall_now()
    try:
        times = wall.feed_times(ctx.engine, now)
    except DataError:
        return
    quiet = wall.quiet_feeds(times, now, ctx.settings.quiet_reports_min, ctx.settings.quiet_incidents_min)
    if quiet:
        chips = "".join(f'<span class="jw-w-quiet-chip">{e(quiet_text(q))}</span>' for q in quiet)
        st.html(f'<div class="jw-w-quiet" title="上游系统可能中断，请核查">{chips}</div>')


# --- KPI strip -------------------------------------------------------------------------


def kpi_html(data: tuple[datetime, list[wall.WallKpi]]) -> str:
    at, kpis = data
    tiles = []
    for k in kpis:
        value = fmt.pct(k.value) if k.kind == "rate" else fmt.count(k.value)
        detail = f'<div class="jw-w-kpi-detail">{e(k.detail)}</div>' if k.detail else ""
        tiles.append(
            f'<div class="jw-w-kpi{" alarm" if k.alarm else ""}" data-kpi="{e(k.key)}" data-value="{e(value)}">'
            f'<div class="jw-w-kpi-label">{e(k.label)}</div><div class="jw-w-kpi-value">{e(value)}</div>{detail}</div>'
        )
    return f'<div class="jw-w-kpis" data-at="{at.isoformat()}">' + "".join(tiles) + "</div>"


@st.fragment(run_every=KPI_EVERY_S)
def kpi_strip() -> None:
    now = wall_now()
    live(
        "kpi",
        lambda: (reports.latest_id(ctx.engine), dispatch.latest_event_id(ctx.engine), every(KPI_REFRESH_S, now)),
        lambda: (now, wall.kpis(ctx.engine, f, now)),
        kpi_html,
    )


# --- report feed -----------------------------------------------------------------------


def feed_html(df: pd.DataFrame) -> str:
    if df.empty:
        return '<div class="jw-w-title">最新网格上报</div><div class="jw-w-none">今日暂无上报</div>'
    items = []
    for r in df.itertuples():
        urgent = r.urgency in reports.URGENT
        badge = f'<span class="jw-w-urg">{e(r.urgency)}</span>' if urgent else ""
        items.append(
            f'<li class="jw-w-report{" urgent" if urgent else ""}" data-report-id="{int(r.id)}">'
            f'<div class="jw-w-report-head"><span class="jw-w-hhmm">{timeutil.fmt_local(r.reported_at, "%H:%M")}</span>'
            f'<span class="jw-w-cat">{e(r.category)}</span>{badge}'
            f'<span class="jw-w-place">{e(r.community)} · {e(r.grid)}</span></div>'
            f'<div class="jw-w-text">{e(mask.text(r.text))}</div></li>'
        )
    return '<div class="jw-w-title">最新网格上报</div><ul class="jw-w-feed">' + "".join(items) + "</ul>"


def load_feed(now: datetime) -> pd.DataFrame:
    return reports.latest(ctx.engine, f.places_only(), (now - timedelta(days=30), now + timedelta(minutes=1)), limit=FEED_ROWS)


@st.fragment(run_every=FEED_EVERY_S)
def feed() -> None:
    now = wall_now()
    live("feed", lambda: reports.latest_id(ctx.engine), lambda: load_feed(now), feed_html)


# --- dispatch queue --------------------------------------------------------------------


def left_text(minutes: float) -> str:
    """A countdown: 剩 2时05分 / 剩 42分08秒 / 超期 1时12分."""
    secs = int(abs(minutes) * 60)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    if h >= 24:
        span = f"{h // 24}天{h % 24}时"
    elif h:
        span = f"{h}时{m:02d}分"
    else:
        span = f"{m}分{s:02d}秒"
    return ("超期 " if minutes < 0 else "剩 ") + span


def queue_html(data: tuple[pd.DataFrame, int]) -> str:
    df, n_open, n_overdue = data
    now = wall_now()
    rows = []
    for r in df.head(QUEUE_ROWS).itertuples():
        if pd.notna(r.deadline_at):
            minutes = (r.deadline_at.to_pydatetime() - now).total_seconds() / 60
            level = "red" if minutes < 0 else "amber" if minutes < AMBER_MINUTES else "ok"
            count = left_text(minutes)
        else:
            waited = (now - r.created_at.to_pydatetime()).total_seconds() / 60
            level, count = "wait", "已等 " + left_text(waited)[2:]
        who = mask.name(r.officer) if isinstance(r.officer, str) and r.officer else (r.department if isinstance(r.department, str) else "")
        rows.append(
            f'<li class="jw-w-task {level}" data-task-id="{int(r.id)}" data-phase="{int(r.phase)}">'
            f'<div class="jw-w-task-head"><span class="jw-w-cat">{e(r.category)}</span>'
            f'<span class="jw-w-state">{e(r.state)}</span><span class="jw-w-left">{e(count)}</span></div>'
            f'<div class="jw-w-task-sub">{e(r.community)} · {e(r.grid)}<span class="jw-w-who">{e(who or "待派单")}</span></div></li>'
        )
    head = f'<div class="jw-w-title">派单队列<span>未办结 {n_open} 件 · 超期 {n_overdue} 件</span></div>'
    if not rows:
        return head + '<div class="jw-w-none">暂无未办结工单</div>'
    return head + '<ul class="jw-w-queue">' + "".join(rows) + "</ul>"


@st.fragment(run_every=QUEUE_EVERY_S)
def queue() -> None:
    now = wall_now()
    pf = f.places_only()
    live(
        "queue",
        lambda: (dispatch.latest_event_id(ctx.engine), every(QUEUE_REFRESH_S, now)),
        lambda: (
            dispatch.open_tasks(ctx.engine, pf, now, limit=QUEUE_ROWS),
            dispatch.open_count(ctx.engine, pf, now),
            measures.overdue_count(ctx.engine, pf, now),
        ),
        queue_html,
    )


# --- map -------------------------------------------------------------------------------

INCIDENT_COLOR = [255, 90, 95, 220]
PATROL_COLOR = [61, 220, 132, 255]


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def _shapes(_engine, db_key: str, f_places) -> pd.DataFrame:  # noqa: ANN001
    return places.grid_shapes(_engine, f_places)


def draw_map(data: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    shapes, points, patrols = data
    layers = [maps.grid_outline_layer(shapes, pickable=False, fill=[20, 40, 80, 60])]
    layers += maps.place_label_layers(shapes, {p.id: p.name for p in ctx.catalogue.stations}, narrowed=f.grid_id is not None)
    if len(points):
        layers.append(
            pdk.Layer(
                "ScatterplotLayer", id="incidents-today", data=points[["lat", "lon", "category"]].to_dict("records"),
                get_position=["lon", "lat"], get_fill_color=INCIDENT_COLOR, get_radius=45, radius_min_pixels=5, radius_max_pixels=14,
                stroked=True, get_line_color=[255, 255, 255, 200], line_width_min_pixels=1,
            )
        )
    if len(patrols):
        layers.append(
            pdk.Layer(
                "ScatterplotLayer", id="patrols-live", data=patrols[["lat", "lon", "team"]].to_dict("records"),
                get_position=["lon", "lat"], get_fill_color=PATROL_COLOR, get_radius=70, radius_min_pixels=8, radius_max_pixels=18,
                stroked=True, get_line_color=[10, 16, 32, 255], line_width_min_pixels=3,
            )
        )
    view = maps.view_state(maps.rings(shapes["boundary_geojson"]), width_px=1000, height_px=540)
    st.pydeck_chart(maps.deck(layers, view), height=540, key="wall-deck")


@st.fragment(run_every=MAP_EVERY_S)
def grid_map() -> None:
    now = wall_now()
    key = "map"
    box = st.session_state.setdefault("_wall_tiles", {}).setdefault(key, {})
    real = timeutil.utcnow()
    try:
        shapes = _shapes(ctx.engine, ctx.db_key, f.places_only())
        points = wall.incident_points(ctx.engine, f, wall.today_window(now))
        patrols = patrol.live_positions(ctx.engine, f.places_only(), now)
        box.update(data=(shapes, points, patrols), ok_at=real, failed=False)
    except DataError:
        box["failed"] = True
    data = box.get("data")
    if data is not None:
        shapes, points, patrols = data
        stale = ""
        if box.get("failed"):
            stale = f'<span class="jw-w-stale-inline">数据更新于 {timeutil.fmt_local(box["ok_at"], "%H:%M:%S")}，已中断 {int((real - box["ok_at"]).total_seconds())} 秒</span>'
        st.html(
            f'<div class="jw-w-title">{e(ctx.scope_label())} · 今日警情与巡逻力量{stale}'
            f'<span><i class="jw-w-dot inc"></i>今日警情 {len(points)} 起　<i class="jw-w-dot pat"></i>在岗巡逻 {len(patrols)} 组</span></div>'
        )
        if shapes.empty:
            st.html('<div class="jw-w-none">筛选范围内没有网格</div>')
        else:
            draw_map(data)
    else:
        st.html('<div class="jw-w-stale">数据源暂不可用，正在重试</div>')


# --- trend strip -----------------------------------------------------------------------


def bars_html(title: str, today: list[int], yesterday: list[int], hour_now: int, unit: str) -> str:
    top = max(max(today), max(yesterday), 1)
    cols = []
    for h in range(24):
        t = 100 * today[h] / top
        y = 100 * yesterday[h] / top
        future = " future" if h > hour_now else ""
        label = f"{h:02d}" if h % 3 == 0 else ""
        cols.append(
            f'<div class="jw-w-hour{future}" title="{h:02d}时 今日 {today[h]} {unit} / 昨日 {yesterday[h]} {unit}">'
            f'<div class="jw-w-bars"><div class="jw-w-bar y" style="height:{y:.1f}%"></div>'
            f'<div class="jw-w-bar t" style="height:{t:.1f}%"></div></div><div class="jw-w-hl">{label}</div></div>'
        )
    return (
        f'<div class="jw-w-trend"><div class="jw-w-title">{e(title)}<span>今日 {sum(today)} {unit} · 昨日全天 {sum(yesterday)} {unit}'
        '　<i class="jw-w-key t"></i>今日 <i class="jw-w-key y"></i>昨日</span></div>'
        f'<div class="jw-w-hours">{"".join(cols)}</div></div>'
    )


def trend_html(data: tuple[datetime, pd.DataFrame]) -> str:
    at, df = data
    hour_now = wall.local_hour_of(at)
    return (
        '<div class="jw-w-trends">'
        + bars_html("警情分时走势 · 今日与昨日", df["incidents"].tolist(), df["incidents_yesterday"].tolist(), hour_now, "起")
        + bars_html("网格上报分时走势 · 今日与昨日", df["reports"].tolist(), df["reports_yesterday"].tolist(), hour_now, "条")
        + "</div>"
    )


@st.fragment(run_every=TREND_EVERY_S)
def trends() -> None:
    now = wall_now()
    live("trend", lambda: (reports.latest_id(ctx.engine), every(TREND_EVERY_S, now)), lambda: (now, wall.hourly(ctx.engine, f, now)), trend_html)


# --- the page --------------------------------------------------------------------------

scale, scale_warning = scale_param()
st.html(f"<style>{CSS_PATH.read_text(encoding='utf-8')}\n:root {{ --ws: {scale:g}; }}</style>")
warnings = list(st.session_state.get("_jw_wall_warnings") or [])
if scale_warning:
    warnings.append(scale_warning)

with st.container(key="wall-head", horizontal=True):
    note = f'<div class="jw-w-warn">{e("；".join(warnings))}</div>' if warnings else ""
    st.html(
        f'<div class="jw-w-head"><span class="jw-w-station">{e(station_title())}</span>'
        f'<span class="jw-w-scope">{e(ctx.scope_label())} · 警网融合指挥大屏</span>{note}</div>'
    )
    feed_watch()
    clock()
with st.container(key="wall-kpi"):
    kpi_strip()
with st.container(key="wall-main"):
    left, centre, right = st.columns([1.05, 1.9, 1.05], gap="small")
    with left:
        with st.container(key="wall-feed"):
            feed()
    with centre:
        with st.container(key="wall-map"):
            grid_map()
    with right:
        with st.container(key="wall-queue"):
            queue()
with st.container(key="wall-trend"):
    trends()

"""指挥大屏: the LED wall of the command room (``/wall``, or ``/?wall=1``).

A fixed frame that fills the screen without scrolling (sizes in vh/vw, see
assets/wall.css): a header with the station, the view's name and a live clock,
the KPI strip, and below it one of the wall's views (``dashboard.wall.rotation``):
综合态势 (report feed, map with today's incidents and live patrols, dispatch
queue, hourly strips), 网格上报, 派单调度, 巡逻防控, 警情态势, 矛盾纠纷, 网格预警. No
widgets but the alarm's 已知悉 button: the wall is never touched. Parameters
come from the URL only (decoded once into ``dashboard.wall.params.WallParams``):

- filters ``community``, ``grid``, ``cat`` (the wall always shows today);
- ``view=dispatch`` pins one view; ``rotate=overview:60,dispatch:30`` cycles,
  each view for its own seconds, in step with the wall clock (so a reload or a
  server restart comes back to the same place in the cycle);
- ``scale=1.5`` multiplies the type size; ``sound=1`` chimes on a new alarm;
  ``reload=04:00`` / ``reload=off`` overrides DASHBOARD_WALL_RELOAD_AT.

Live tiles are ``st.fragment(run_every=...)``: each polls a cheap change
marker (``reports.latest_id``, ``dispatch.latest_event_id``, or the clock for
figures that move with time) and re-queries only when it changed; the last
result is kept per tile in ``st.session_state`` (a fixed set of keys: nothing
grows). A failing query leaves the last good data on screen under a red banner
with its age. Alarms (a new 紧急/特急 report, a task just gone 超期) flash in a
bar at the foot of the screen and on their rows for DASHBOARD_ALARM_SECONDS or
until 已知悉 is pressed.

"Now" on the wall (``wall_now``) is the current time, not the frame's cached
``ctx.now``: ``timeutil.utcnow()``, or with DASHBOARD_NOW set, that instant
plus the time elapsed since the session's first run (so a frozen world still
has a ticking clock and countdowns).
"""

from __future__ import annotations

import html
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import h3
import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboard import mask, station, timeutil
from dashboard.config import PROJECT_ROOT
from dashboard.ui import fmt, frame, maps, widgets
from dashboard.ui.frame import context
from dashboard.ui.palette import GREEN, RED, rgba
from dashboard.wall import acks, params, rotation, sound
from dashboard.wall import layout as wl
from dashboard.wall import markup as wh
from dashboard.wall.live import every, follow, live, stale_text, step
from queries import dispatch, disputes, imports, incidents, overview, patrol, places, reports, wall, warning
from queries.measures import warning as wm

CSS_PATH = PROJECT_ROOT / "assets" / "wall.css"
KPI_EVERY_S, FEED_EVERY_S, QUEUE_EVERY_S, MAP_EVERY_S, TREND_EVERY_S = 3, 2, 3, 30, 60
MAP_WAIT_S = 1.0  # the map redraws every 30 s: worth waiting a little longer for
SIDE_EVERY_S, ALARM_EVERY_S = 10, 2
# Figures that move with time alone (today's counts, overdue, patrol presence)
# are re-queried at least this often even when no marker changed.
KPI_REFRESH_S, QUEUE_REFRESH_S, ALARM_REFRESH_S, SIDE_REFRESH_S = 30, 60, 10, 120
WEEKDAYS = "一二三四五六日"
RELOAD_JS = "<script>window.location.reload()</script>"

LOG = logging.getLogger("jwrh.wall")
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


# Row budgets: each list is laid out as exactly this many rows per column
# (dashboard.wall.markup.list_open), so the rows passed are the rows on screen and
# the footer's "另 N 件未显示" is true. At scale 1, 7 rows of a feed or queue
# item (two lines) fill the 55vh main region under its title and footer
# (measured at 1920×1080: tests/test_wall_browser.py); a larger ?scale= reflows
# (dashboard.wall.layout): the KPI strip wraps to two rows, the main region is
# shorter and every budget is the rows that fit it at that type size
# (tests/test_wall_scale.py).
PARAMS, PARAM_WARNINGS = params.decode(st.query_params.to_dict(), ctx.settings)
SCALE = PARAMS.scale
LAYOUT = wl.layout(SCALE)
FEED_ROWS = LAYOUT.list_rows
QUEUE_ROWS = LAYOUT.list_rows
LIST_ROWS = LAYOUT.list_rows  # the 回访 and 今日110警情 lists in the side columns
PATROL_ROWS = LAYOUT.patrol_rows  # table rows of 在岗巡逻力量 in a main-region column
TABLE_ROWS = LAYOUT.table_rows  # rows of a table in the foot strip
CATEGORY_ROWS = LAYOUT.category_rows  # rows of the 警情分类 table (the 本月纠纷类型 bars: one more)
BIG_TYPE = LAYOUT.kpi_cols < wl.KPI_TILES  # the strip in two rows: side panels get more width


# --- header and clock ------------------------------------------------------------------


def station_title() -> str:
    names = [p.name for p in ctx.catalogue.stations]
    station = "、".join(names) if len(names) <= 2 else f"{len(names)}个派出所"
    return f"{station} · 综合指挥室"


def reload_due() -> bool:
    """True once the wall's daily self-reload instant (after this session opened) has passed."""
    opened = st.session_state.setdefault("_wall_opened", timeutil.utcnow())
    due = rotation.next_reload(opened, PARAMS.reload_at)
    if due is None or timeutil.utcnow() < due:
        return False
    last = st.session_state.get("_wall_reload_sent")
    if last is not None and time.monotonic() - last < 60:  # sent; give the browser a minute
        return False
    st.session_state["_wall_reload_sent"] = time.monotonic()
    return True


def fmt_left(seconds: int) -> str:
    """Time left on a view: "18秒", "4分05秒"."""
    return f"{seconds}秒" if seconds < 60 else f"{seconds // 60}分{seconds % 60:02d}秒"


@st.fragment(run_every=1)
def clock() -> None:
    """The clock, and the wall's sense of time: switches the view when the
    rotation says so (a full rerun), and reloads the page at the daily instant."""
    pos = PARAMS.position(time.time())
    if pos.view != VIEW:
        st.rerun()
    if reload_due():
        st.html(RELOAD_JS, unsafe_allow_javascript=True)
    local = timeutil.to_local(wall_now())
    chip = ""
    if pos.left_s is not None:
        chip = (
            f'<span class="jw-w-rot" data-view="{pos.view}" data-left="{pos.left_s}" title="下一屏 {e(rotation.VIEWS[pos.next_view])}">'
            f"{pos.index + 1}/{pos.steps} · {fmt_left(pos.left_s)}</span>"
        )
    wall_ms = int(wall_now().replace(tzinfo=timezone.utc).timestamp() * 1000)
    real_ms = int(time.time() * 1000)
    offset_ms = int((local - wall_now()).total_seconds() * 1000)  # the station's zone, now
    # The browser keeps the time running from these (assets/wall-clock.js).
    st.html(
        f'<div class="jw-w-clock" data-jw-wall-ms="{wall_ms}" data-jw-real-ms="{real_ms}" data-jw-offset-ms="{offset_ms}">{chip}'
        f'<span class="jw-w-date">{local:%Y-%m-%d} 星期{WEEKDAYS[local.weekday()]}</span>'
        f'<span class="jw-w-time" data-clock="{local:%H:%M:%S}">{local:%H:%M:%S}</span></div>'
    )


# --- feed health: "the feed has gone quiet" ---------------------------------------------

QUIET_EVERY_S = 15


def quiet_text(q: wall.QuietFeed) -> str:
    if q.since is None:
        return f"{q.feed}无数据接入"
    span = f"{q.minutes // 60}小时{q.minutes % 60}分" if q.minutes >= 60 else f"{q.minutes}分钟"
    when = timeutil.fmt_local(q.since, timeutil.SHORT)
    return f"{q.feed}已静默{span}（末条 {when}）"


@st.fragment(run_every=QUIET_EVERY_S)
def feed_watch() -> None:
    """Amber banner naming each upstream feed that has gone quiet and since when.
    A database error draws nothing here: the tiles say the database is down."""
    now = wall_now()
    t = step("quiet", lambda: every(QUIET_EVERY_S, now), lambda: wall.feed_times(ctx.engine, now), QUIET_EVERY_S)
    if not t.has_data:
        return
    quiet = wall.quiet_feeds(t.data, now, ctx.settings.quiet_reports_min, ctx.settings.quiet_incidents_min)
    if quiet:
        chips = "".join(f'<span class="jw-w-quiet-chip">{e(quiet_text(q))}</span>' for q in quiet)
        st.html(f'<div class="jw-w-quiet" title="上游系统可能中断，请核查">{chips}</div>')


# --- KPI strip -------------------------------------------------------------------------


def kpi_html(data: tuple[datetime, list[wall.WallKpi]]) -> str:
    at, kpis = data
    cards = []
    for k in kpis:
        value = fmt.pct(k.value) if k.kind == "rate" else fmt.count(k.value)
        detail = f'<div class="jw-w-kpi-detail">{e(k.detail)}</div>' if k.detail else ""
        note = f'<div class="jw-w-kpi-note">{e(k.note)}</div>' if k.note else ""
        cards.append(
            f'<div class="jw-w-kpi{" alarm" if k.alarm else ""}" data-kpi="{e(k.key)}" data-value="{e(value)}" style="{wh.fit_style(k.label, value)}">'
            f'<div class="jw-w-kpi-label">{e(k.label)}</div><div class="jw-w-kpi-value">{e(value)}</div>{detail}{note}</div>'
        )
    return f'<div class="jw-w-kpis" data-at="{at.isoformat()}">' + "".join(cards) + "</div>"


@st.fragment(run_every=KPI_EVERY_S)
def kpi_strip() -> None:
    now = wall_now()
    live(
        "kpi",
        lambda: (reports.latest_id(ctx.engine), dispatch.latest_event_id(ctx.engine), incidents.latest_id(ctx.engine), every(KPI_REFRESH_S, now)),
        lambda: (now, wall.kpis(ctx.engine, f, now)),
        kpi_html,
        every_s=KPI_EVERY_S,
    )


# --- report feed -----------------------------------------------------------------------


def flashing() -> set[str]:
    """Keys of the alarms flashing now (set by the alarm tile)."""
    return st.session_state.get("_wall_flashing") or set()


@st.fragment(run_every=FEED_EVERY_S)
def feed(rows: int = FEED_ROWS, cols: int = 1) -> None:
    now = wall_now()
    live(
        "feed" if cols == 1 else "feed2",
        lambda: (reports.latest_id(ctx.engine), every(QUEUE_REFRESH_S, now)),  # the window moves with time
        lambda: wall.feed(ctx.engine, f, now, rows),
        lambda lst: wh.feed_html(lst, rows=rows, flashing=flashing(), cols=cols),
        every_s=FEED_EVERY_S,
    )


# --- dispatch queue --------------------------------------------------------------------


@st.fragment(run_every=QUEUE_EVERY_S)
def queue(rows: int = QUEUE_ROWS, cols: int = 1) -> None:
    now = wall_now()
    live(
        "queue" if cols == 1 else "queue2",
        lambda: (dispatch.latest_event_id(ctx.engine), every(QUEUE_REFRESH_S, now)),
        lambda: wall.queue(ctx.engine, f, now, rows),
        lambda lst: wh.queue_html(lst, wall_now(), rows=rows, flashing=flashing(), cols=cols),
        every_s=QUEUE_EVERY_S,
    )


# --- map -------------------------------------------------------------------------------

INCIDENT_COLOR = rgba(RED, 220)
PATROL_COLOR = rgba(GREEN)


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def _shapes(_engine, db_key: str, f_places) -> pd.DataFrame:
    return places.grid_shapes(_engine, f_places)


def point_layers(points: pd.DataFrame, patrols: pd.DataFrame) -> list[pdk.Layer]:
    layers = []
    if len(points):
        layers.append(
            pdk.Layer(
                "ScatterplotLayer", id="incidents-today", data=points[["lat", "lon", "category"]].to_dict("records"),
                get_position=["lon", "lat"], get_fill_color=INCIDENT_COLOR, get_radius=45, radius_min_pixels=5 * SCALE, radius_max_pixels=14 * SCALE,
                stroked=True, get_line_color=[255, 255, 255, 200], line_width_min_pixels=1,
            )
        )
    if len(patrols):
        layers.append(
            pdk.Layer(
                "ScatterplotLayer", id="patrols-live", data=patrols[["lat", "lon", "team"]].to_dict("records"),
                get_position=["lon", "lat"], get_fill_color=PATROL_COLOR, get_radius=70, radius_min_pixels=8 * SCALE, radius_max_pixels=18 * SCALE,
                stroked=True, get_line_color=[10, 16, 32, 255], line_width_min_pixels=3,
            )
        )
    return layers


MAP_SHARE = 1.9 / 4.0  # the map column's share of the width (view_overview, view_patrol)
LABEL_PX = 17  # community / station names on the map at scale 1


def map_px() -> tuple[int, int]:
    """The map canvas in CSS px on a 1080 px tall 16:9 screen (1920×1080, 4K at
    device scale factor 2), at this scale: the view is fitted to it (its height
    is the CSS's --jw-map-h; a wider screen shows more around it)."""
    return int(1920 * MAP_SHARE - 20), int(LAYOUT.map_vh * 10.8)


def draw_map(shapes: pd.DataFrame, extra: list[pdk.Layer]) -> None:
    w, h = map_px()
    view = maps.view_state(maps.rings(shapes["boundary_geojson"]), width_px=w, height_px=h)
    layers = [maps.grid_outline_layer(shapes, pickable=False, fill=[20, 40, 80, 60])]
    # the labels grow with ?scale= like all the wall's type (each still fitted inside its area)
    layers += maps.place_label_layers(shapes, {p.id: p.name for p in ctx.catalogue.stations}, view, narrowed=f.grid_id is not None,
                                      size=round(LABEL_PX * SCALE))
    st.pydeck_chart(maps.deck(layers + extra, view), height=h, key="wall-deck")


def map_tile(key: str, load: Callable[[datetime], tuple], caption: Callable[[tuple], str], layers: Callable[[tuple], list]) -> None:
    """A live map: ``load(now)`` → data (``today_map_load``'s four first), in the
    background; the last good data stays on a failure with the age of the data in
    the title. Today's imported incidents in no grid are said under the title."""
    now = wall_now()
    t = step(key, lambda: every(MAP_EVERY_S, now), lambda: load(now), MAP_EVERY_S, wait_s=MAP_WAIT_S)
    if not t.has_data:
        st.html('<div class="jw-w-stale">数据源暂不可用，正在重试</div>' if t.error is not None else '<div class="jw-w-wait">数据加载中…</div>')
        return
    data = t.data
    stale = ""
    if t.error is not None and t.ok_at is not None:
        stale = f'<span class="jw-w-stale-inline">{stale_text(t.ok_at)}</span>'
    st.html(f'<div class="jw-w-title">{caption(data)}{stale}</div>' + wh.outside_html(data[3], "起", "今日警情"))
    if data[0].empty:
        st.html('<div class="jw-w-none">筛选范围内没有网格</div>')
    else:
        draw_map(data[0], layers(data))


def legend_dots(points: pd.DataFrame, patrols: pd.DataFrame) -> str:
    return f'<span><i class="jw-w-dot inc"></i>今日警情 {len(points)} 起　<i class="jw-w-dot pat"></i>在岗巡逻 {len(patrols)} 组</span>'


def today_map_load(now: datetime) -> tuple:
    return (
        _shapes(ctx.engine, ctx.db_key, f.places_only()),
        wall.incident_points(ctx.engine, f, wall.today_window(now)),
        patrol.live_positions(ctx.engine, f.places_only(), now),
        imports.outside_rows(ctx.engine, f, "incidents", wall.today_window(now)),
    )


HEX_COLOR = [64, 156, 255]


def patrol_map_load(now: datetime) -> tuple:
    return today_map_load(now) + (patrol.visited_cells(ctx.engine, f.places_only(), wall.today_window(now)), now)


def patrol_layers(d: tuple) -> list:
    cells = d[4]
    out = []
    if len(cells):
        scale, days = maps.PATROL_FIXES, maps.window_days(wall.today_window(d[5]))
        data = [{"h3": h, "a": int(60 + 160 * scale.position(maps.per_km2_day(p, h3.cell_area(h, "km^2"), days)) ** 0.5)} for h, p in zip(cells["h3"], cells["points"])]
        out.append(
            pdk.Layer("H3HexagonLayer", id="patrol-cells", data=data, get_hexagon="h3", extruded=False, stroked=False,
                      get_fill_color=f"[{HEX_COLOR[0]}, {HEX_COLOR[1]}, {HEX_COLOR[2]}, a]", pickable=False)
        )
    return out + point_layers(d[1], d[2])


@st.fragment(run_every=MAP_EVERY_S)
def grid_map(mode: str) -> None:
    """The wall's one map, kept mounted in the same place on every view: deck.gl
    leaks detached DOM nodes and listeners each time a map is unmounted (measured:
    +300 nodes a minute when rotating between a map view and one without), so
    views without a map keep it hidden (mode "off": outlines only, no queries; the
    column is hidden by CSS) and the map views change its layers.

    "today": today's incidents and live patrols; "patrol": the same over today's
    patrol track cells."""
    if mode == "off":
        st.html('<div class="jw-w-map-off"></div>')
        try:
            shapes = _shapes(ctx.engine, ctx.db_key, f.places_only())
        except Exception:  # noqa: BLE001 - hidden: nothing to say; the visible tiles say it
            return
        if not shapes.empty:
            draw_map(shapes, [])
        return
    if mode == "patrol":
        map_tile(
            "pmap", patrol_map_load,
            lambda d: f'{e(ctx.scope_label())} · 今日巡逻轨迹覆盖<span>覆盖 {len(d[4])} 个街区单元　' + legend_dots(d[1], d[2])[6:],
            patrol_layers,
        )
        return
    map_tile(
        "map", today_map_load,
        lambda d: f"{e(ctx.scope_label())} · 今日警情与巡逻力量" + legend_dots(d[1], d[2]),
        lambda d: point_layers(d[1], d[2]),
    )


# --- trend strip -----------------------------------------------------------------------


def trend_html(data: tuple[datetime, pd.DataFrame]) -> str:
    at, df = data
    hour_now = wall.local_hour_of(at)
    return (
        '<div class="jw-w-trends">'
        + wh.hourly_html("警情分时走势 · 今日与昨日", df["incidents"].tolist(), df["incidents_yesterday"].tolist(), hour_now, "起", at)
        + wh.hourly_html("网格上报分时走势 · 今日与昨日", df["reports"].tolist(), df["reports_yesterday"].tolist(), hour_now, "条", at)
        + "</div>"
    )


@st.fragment(run_every=SIDE_EVERY_S)  # polls every TREND_EVERY_S
def trends() -> None:
    now = wall_now()
    live("trend", lambda: (reports.latest_id(ctx.engine), every(TREND_EVERY_S, now)), lambda: (now, wall.hourly(ctx.engine, f, now)), trend_html, every_s=TREND_EVERY_S)


# --- alarms ----------------------------------------------------------------------------


def _forget_older(seen: dict[str, datetime], real: datetime, seconds: int) -> None:
    """Drop the entries older than ``seconds``: the alarm bookkeeping stays bounded."""
    for k in [k for k, at in seen.items() if real - at > timedelta(seconds=seconds)]:
        del seen[k]


def _acknowledge(keys: tuple[str, ...]) -> None:
    """已知悉 on this screen silences the alarms on every screen of this server
    (dashboard.wall.acks), and is written to the audit trail."""
    who = ctx.identity.username if ctx.identity else "-"
    acks.BOOK.acknowledge(ctx.db_key, keys, timeutil.utcnow(), who)
    frame.write_audit(ctx.identity, "wall_ack", "alarm", keys[0] if len(keys) == 1 else None, ",".join(keys))


@st.fragment(run_every=ALARM_EVERY_S)
def alarms() -> None:
    """A new 紧急/特急 report or a task just gone 超期 flashes (here, in a bar at the
    foot of the screen, and on its row) for ALARM_S seconds or until 已知悉."""
    now = wall_now()
    t = step(
        "alarm",
        lambda: (reports.latest_id(ctx.engine), dispatch.latest_event_id(ctx.engine), every(ALARM_REFRESH_S, now)),
        lambda: wall.alarms(ctx.engine, f, now, ALARM_S),
        ALARM_EVERY_S,
    )
    if not t.has_data:  # a database error: the tiles say so; keep the last alarms
        return
    df = t.data
    df = df[df["at"] > pd.Timestamp(now - timedelta(seconds=ALARM_S))]
    real = timeutil.utcnow()
    # Acknowledged here or on another screen: an acknowledgement outlives its alarm, then goes.
    acked = acks.BOOK.acknowledged(ctx.db_key, real, timedelta(seconds=2 * ALARM_S))
    active = df[~df["key"].isin(list(acked))]
    st.session_state["_wall_flashing"] = set(active["key"])
    if active.empty:
        return
    with st.container(key="wall-alarm", horizontal=True):
        st.html(wh.alarm_html(active))
        st.button("已知悉", key="wall-ack", on_click=_acknowledge, args=(tuple(active["key"]),))
    if PARAMS.sound:
        heard = st.session_state.setdefault("_wall_heard", {})
        _forget_older(heard, real, 2 * ALARM_S)
        fresh = [k for k in active["key"] if k not in heard]
        if fresh:
            heard.update({k: real for k in fresh})
            st.session_state["_wall_chime_until"] = real + timedelta(seconds=4)
        if real < st.session_state.get("_wall_chime_until", real):
            with st.container(key="wall-sound"):
                st.audio(sound.chime(), format="audio/wav", autoplay=True)


# --- side panels of the other views ----------------------------------------------------


def month_filters() -> Any:
    """The filtered places over this month so far (环比: last month, 同比: last year)."""
    return f.places_only().with_period("month", timeutil.local_today(wall_now()))


@st.fragment(run_every=SIDE_EVERY_S)
def report_categories() -> None:
    now = wall_now()
    today = wall.today_window(now)
    yday = (today[0] - timedelta(days=1), today[1] - timedelta(days=1))

    def load() -> tuple:
        pf = f.places_only()
        return (
            reports.by_category(ctx.engine, pf, today),
            reports.by_category(ctx.engine, pf, yday),
            reports.urgent_count(ctx.engine, pf, today),
            imports.outside_rows(ctx.engine, pf, "reports", today),
            reports.count(ctx.engine, pf, today),  # the strip's 今日上报
        )

    def render(d: tuple) -> str:
        t, y, urgent, away, n_today = d
        before = dict(zip(y["category"], y["n"]))
        rows = [(c, float(n), f"{int(n)}（昨 {int(before.get(c, 0))}）") for c, n in zip(t["category"], t["n"])]
        head = wh.title("今日上报分类", f"共 {fmt.count(n_today)} 条 · 紧急·特急 {fmt.count(urgent)} 条 · 括号内为昨日同时段") + wh.outside_html(away, "条", "今日上报")
        return wh.hbars_html(head, rows) if rows else head + wh.none("今日暂无上报")

    live("rcat", lambda: (reports.latest_id(ctx.engine), every(SIDE_REFRESH_S, now)), load, render, every_s=SIDE_EVERY_S)


@st.fragment(run_every=SIDE_EVERY_S)  # polls every TREND_EVERY_S
def report_trend() -> None:
    now = wall_now()

    def render(d: tuple) -> str:
        at, hourly, daily = d
        return (
            '<div class="jw-w-trends">'
            + wh.hourly_html("网格上报分时走势 · 今日与昨日", hourly["reports"].tolist(), hourly["reports_yesterday"].tolist(), wall.local_hour_of(at), "条", at)
            + wh.daily_html("近30天每日上报", daily, "条")
            + "</div>"
        )

    live(
        "rtrend",
        lambda: (reports.latest_id(ctx.engine), every(TREND_EVERY_S, now)),
        lambda: (now, wall.hourly(ctx.engine, f, now), overview.report_trend(ctx.engine, f.places_only(), now)),
        render,
        every_s=TREND_EVERY_S,
    )


def _hours(v: float | None) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):.1f}"


@st.fragment(run_every=SIDE_EVERY_S)
def dispatch_side() -> None:
    now = wall_now()
    mf = month_filters()
    live(
        "dside",
        lambda: (dispatch.latest_event_id(ctx.engine), every(SIDE_REFRESH_S, now)),
        lambda: dispatch.loop_kpis(ctx.engine, mf, now),
        lambda k: wh.title("本月派单闭环", "同比 去年同期 · 环比 上月") + wh.kpi_cards_html(k, columns=2, rows=LAYOUT.card_rows),
        every_s=SIDE_EVERY_S,
    )


@st.fragment(run_every=SIDE_EVERY_S)  # polls every TREND_EVERY_S
def dispatch_tables() -> None:
    now = wall_now()
    month = month_filters().window(now)

    def table(df: pd.DataFrame, what: str, away: str = "") -> str:
        # the worst on-time rate first: a cut hides the groups that answer on time
        total = len(df)  # loop_by is not cut: one row per group
        df = df.sort_values(["on_time_rate", "created"], ascending=[True, False], na_position="last", kind="stable").head(TABLE_ROWS)
        rows = [[g, fmt.count(c), fmt.pct(r1), fmt.pct(r2), _hours(h), _hours(m)] for g, c, r1, r2, h, m in
                zip(df["group"], df["created"], df["on_time_rate"], df["closure_rate"], df["mean_close_hours"], df["median_close_hours"])]
        bad = [[False, False, pd.notna(r1) and r1 < 0.9, False, False, False] for r1 in df["on_time_rate"]]
        head = wh.title(f"本月闭环 · 按{what}", f"{wh.cut_span(total, len(df), '个')} · 按时反馈率由低到高 · 处置时长单位小时") + away
        return wh.table_html(head, [what, "派单", "按时反馈率", "办结率", "平均处置", "中位处置"], rows, bad=bad)

    live(
        "dtables",
        lambda: (dispatch.latest_event_id(ctx.engine), every(SIDE_REFRESH_S, now)),
        lambda: (
            dispatch.loop_by(ctx.engine, f.places_only(), month, by="community"),
            dispatch.loop_by(ctx.engine, f.places_only(), month, by="department"),
            imports.outside_rows(ctx.engine, f.places_only(), "reports", month),
        ),
        lambda d: '<div class="jw-w-trends">' + table(d[0], "社区", wh.outside_html(d[2], "条", "本月上报（未建派单）")) + table(d[1], "部门") + "</div>",
        every_s=TREND_EVERY_S,
    )


@st.fragment(run_every=SIDE_EVERY_S)
def patrol_side() -> None:
    now = wall_now()

    def render(lst: wall.WallList) -> str:
        df = lst.rows
        head = wh.title("在岗巡逻力量", f"{fmt.count(lst.total)} 组 · 末次定位")
        if df.empty and not lst.total:
            return head + wh.none("当前无在岗巡逻")
        rows = [[t, k, f"{s}班", timeutil.fmt_local(a.to_pydatetime() if hasattr(a, "to_pydatetime") else a, timeutil.CLOCK)]
                for t, k, s, a in zip(df["team"], df["kind"], df["shift"], df["at"])]
        return wh.table_html(head, ["队组", "类别", "班次", "定位"], rows, num_from=3, foot=wh.more_html(lst, "组", "按队组名排序在后"))

    live("pside", lambda: every(SIDE_EVERY_S * 3, now), lambda: wall.on_duty(ctx.engine, f, now, PATROL_ROWS), render, every_s=SIDE_EVERY_S)


@st.fragment(run_every=SIDE_EVERY_S)  # polls every TREND_EVERY_S
def incident_month() -> None:
    now = wall_now()
    live(
        "itrend",
        lambda: every(TREND_EVERY_S * 5, now),
        lambda: overview.incident_trend(ctx.engine, f, now),
        lambda df: wh.daily_html("近30天每日警情", df, "起"),
        every_s=TREND_EVERY_S,
    )


@st.fragment(run_every=SIDE_EVERY_S)
def incident_categories() -> None:
    now = wall_now()

    def render(d: wall.CategoryDays, away) -> str:  # queries.imports.Outside
        rows, bad = [], []
        day, week = dict(d.today.rows), dict(d.week.rows)
        cats = [c for c, w in d.week.rows if w.value or w.pop_base or day[c].value or day[c].pop_base]
        cats.sort(key=lambda c: -(week[c].value or 0))  # stable: ties keep the trends page's order
        for c in cats[:CATEGORY_ROWS]:
            t, w = day[c], week[c]
            rows.append([c, fmt.count(t.value), fmt.count(t.pop_base), fmt.count(w.value), fmt.count(w.pop_base),
                         fmt.change_marked(w.pop, "count", w.pop_sig)])
            bad.append([False] * 5 + [w.pop is not None and w.pop > 0 and w.pop_sig])
        head = wh.title("警情分类", f"{wh.cut_span(len(cats), len(rows), '类')} · 近7天多者在前 · 今日/昨日同时段 · 近7天/前7天同时段")
        head += wh.outside_html(away, "起", "近7天警情")
        return wh.table_html(head, ["类别", "今日", "昨日", "近7天", "前7天", "环比"], rows, bad=bad) if rows else head + wh.none("近14天无警情")

    def load() -> tuple:
        return wall.incident_categories(ctx.engine, f, now), imports.outside_rows(ctx.engine, f, "incidents", d7.window(now))

    d7 = f.with_period("7d", timeutil.local_today(now))
    live("icat", lambda: every(SIDE_REFRESH_S, now), load, lambda d: render(*d), every_s=SIDE_EVERY_S)


@st.fragment(run_every=SIDE_EVERY_S)

def _targets_note() -> str:
    """化解率、满意率目标 95% — or the station's own targets."""
    t = station.current().targets
    if t.resolution == t.satisfaction:
        return f"化解率、满意率目标 {fmt.target(t.resolution)}"
    return f"化解率目标 {fmt.target(t.resolution)} · 满意率目标 {fmt.target(t.satisfaction)}"

def dispute_cards() -> None:
    now = wall_now()
    mf = month_filters()
    live(
        "dcards",
        lambda: every(SIDE_REFRESH_S, now),
        lambda: disputes.kpis(ctx.engine, mf, mf.window(now), now),
        lambda k: wh.title("本月矛盾纠纷", _targets_note()) + wh.kpi_cards_html(k, columns=2, rows=LAYOUT.card_rows),
        every_s=SIDE_EVERY_S,
    )


@st.fragment(run_every=SIDE_EVERY_S)
def dispute_kinds() -> None:
    now = wall_now()
    mf = month_filters()

    def render(df: pd.DataFrame) -> str:
        if df.empty:
            return wh.title("本月纠纷类型") + wh.none("本月暂无纠纷")
        kinds = disputes.kind_totals(df)  # most first
        rows = [(r.kind, float(r.n), f"{r.n}" + (f"（三级 {r.escalated}）" if r.escalated else "")) for r in kinds.itertuples()]
        return wh.hbars_html(wh.title("本月纠纷类型", f"{wh.cut_span(len(rows), CATEGORY_ROWS + 1, '类')} · 多者在前 · 括号内为升至三级调处"), rows[:CATEGORY_ROWS + 1])

    live("dkinds", lambda: every(SIDE_REFRESH_S, now), lambda: disputes.by_kind_level(ctx.engine, mf, mf.window(now)), render, every_s=SIDE_EVERY_S)


@st.fragment(run_every=SIDE_EVERY_S)
def dispute_visits() -> None:
    """回访待办: the overdue visits longest overdue first, then the ones due within
    7 days; the header's 超期 and the card's are one query (``mediation.visit_backlog``)."""
    now = wall_now()

    def render(lst: wall.VisitList) -> str:
        head = wh.title("回访待办", f"超期 {fmt.count(lst.overdue)} 件 · 7天内到期 {fmt.count(lst.total - lst.overdue)} 件")
        if lst.rows.empty and not lst.total:
            return head + wh.none("暂无待回访纠纷")
        items = []
        for r in lst.rows.head(LIST_ROWS).itertuples():
            left = wh.left_text((r.visit_due_at.to_pydatetime() - wall_now()).total_seconds() / 60)
            items.append(
                f'<li class="jw-w-task {"red" if r.overdue else "ok"}" data-dispute-id="{int(r.id)}"><div class="jw-w-task-head"><span class="jw-w-cat">{e(r.kind)}</span>'
                f'<span class="jw-w-left">{e(left)}</span></div>'
                f'<div class="jw-w-task-sub">{e(r.community)} · {e(r.grid)}<span class="jw-w-who">{e(mask.text(r.summary or ""))}</span></div></li>'
            )
        return head + wh.list_open("queue", LIST_ROWS, 1) + "".join(items) + "</ul>" + wh.more_html(lst, "件", "超期较短或到期较晚")

    live("dvisits", lambda: every(SIDE_REFRESH_S, now), lambda: wall.visits(ctx.engine, f, now, LIST_ROWS), render, every_s=SIDE_EVERY_S)


@st.fragment(run_every=SIDE_EVERY_S)  # polls every TREND_EVERY_S
def dispute_places() -> None:
    now = wall_now()
    mf = month_filters()
    by = "grid" if f.community_id is not None or f.grid_id is not None else "community"
    what = "网格" if by == "grid" else "社区"

    def render(df: pd.DataFrame, away) -> str:  # queries.imports.Outside
        df = df[df["found"] + df["closed"] > 0]
        total = len(df)  # rates_by_place is not cut: one row per place
        df = df.sort_values(["resolution_rate", "found"], ascending=[True, False], na_position="last").head(TABLE_ROWS)
        rows = [[n, fmt.count(fd), fmt.pct(rr), fmt.pct(sr)] for n, fd, rr, sr in zip(df["name"], df["found"], df["resolution_rate"], df["satisfaction_rate"])]
        t = station.current().targets
        bad = [[False, False, pd.notna(rr) and rr < t.resolution, pd.notna(sr) and sr < t.satisfaction] for rr, sr in zip(df["resolution_rate"], df["satisfaction_rate"])]
        head = wh.title(f"本月各{what} · 化解率由低到高", f"{wh.cut_span(total, len(df), '个')} · {_targets_note()}")
        return wh.table_html(head + wh.outside_html(away, "起", "本月纠纷"), [what, "新发现", "化解率", "满意率"], rows, bad=bad)

    def load() -> tuple:
        return disputes.rates_by_place(ctx.engine, mf, mf.window(now), by=by), imports.outside_rows(ctx.engine, mf, "disputes", mf.window(now))

    live("dplaces", lambda: every(SIDE_REFRESH_S, now), load, lambda d: render(*d), every_s=TREND_EVERY_S)


@st.fragment(run_every=SIDE_EVERY_S)
def warning_list() -> None:
    """网格预警: the early warning's list at the wall's now (``warning.run``), smallest
    p first; a warning acknowledged on the desk shows as 已确认."""
    now = wall_now()
    rows = QUEUE_ROWS

    def render(run: warning.Run) -> str:
        df = run.warnings
        lst = wall.WallList(df.head(rows), len(df), now)
        head = wh.title("网格预警", f"{wh.cut_span(len(df), lst.shown, '项')} · 本周与今日高于本网格基线 · 最显著者在前")
        if df.empty:
            return head + wh.none(f"当前无预警 · 共检验 {fmt.count(run.tests)} 项（{fmt.count(run.grids)} 个网格）")
        items = []
        for r in lst.rows.itertuples():
            acked = r.acked_at is not None and not pd.isna(r.acked_at)
            noun = warning.SOURCE_NOUNS[r.source]
            what = r.category if r.source == "incidents" else f"上报·{r.category}"
            items.append(
                f'<li class="jw-w-task {"wait" if acked else "red"}" data-warning="{e(r.key)}"><div class="jw-w-task-head">'
                f'<span class="jw-w-cat">{e(r.grid)} · {e(what)}</span>'
                f'<span class="jw-w-left">{e(r.scope_label)} {int(r.count)} {noun} / 基线 {r.mean:.1f}</span></div>'
                f'<div class="jw-w-task-sub">{e(r.community)} · {wm.p_text(r.p)}<span class="jw-w-who">{"已确认" if acked else "待确认"}</span></div></li>'
            )
        return head + wh.list_open("queue", rows, 1) + "".join(items) + "</ul>" + wh.more_html(lst, "项", "显著性较低")

    live("wwarn", lambda: every(SIDE_REFRESH_S, now), lambda: warning.run(ctx.engine, f, now), render, every_s=SIDE_EVERY_S)


@st.fragment(run_every=SIDE_EVERY_S)
def warning_side() -> None:
    """预警 by category (incidents and reports apart), from the list's run."""

    def render(run: warning.Run) -> str:
        df = run.warnings
        head = wh.title("预警类别", f"共检验 {fmt.count(run.tests)} 项 · 错误发现率 5%")
        if df.empty:
            return head + wh.none("当前无预警")
        what = [c if s == "incidents" else f"上报·{c}" for s, c in zip(df["source"], df["category"])]
        counts = pd.Series(what).value_counts()
        bars = [(str(c), float(n), f"{int(n)} 项") for c, n in counts.head(CATEGORY_ROWS).items()]
        return wh.hbars_html(head, bars)

    follow("wwside", "wwarn", render)  # the list's run: one early warning for the view


@st.fragment(run_every=SIDE_EVERY_S)
def warning_grid() -> None:
    """One grid: its week, category by category, against its own baseline (warning or not), from the list's run."""

    def render(run: warning.Run) -> str:
        df = run.grid_checks
        head = wh.title("本网格本周 · 各类别与基线", f"{wh.cut_span(len(df), min(len(df), TABLE_ROWS * 2), '项')} · 最显著者在前")
        if df.empty:
            return head + wh.none("本网格近12周无可比的警情与上报")
        df = df.head(TABLE_ROWS * 2)
        rows = [[f"{lab}·{c}", fmt.count(n), f"{m:.1f}", wm.p_text(p)] for lab, c, n, m, p in zip(df["source_label"], df["category"], df["count"], df["mean"], df["p"])]
        bad = [[False, bool(w), False, bool(w)] for w in df["warn"]]
        return wh.table_html(head, ["类别", "本周", "基线", "显著性"], rows, bad=bad)

    follow("wwgrid", "wwarn", render)


# --- the views -------------------------------------------------------------------------

HIDDEN = 0.001  # the weight of the map column on views without a map (CSS hides it)


@st.fragment(run_every=SIDE_EVERY_S)
def incident_list() -> None:
    """今日110警情, newest first; the header's count is the strip's 今日警情 (``incidents.count``)."""
    now = wall_now()

    def render(lst: wall.WallList) -> str:
        head = wh.title("今日110警情", f"共 {fmt.count(lst.total)} 起 · 最新在前")
        if lst.rows.empty and not lst.total:
            return head + wh.none("今日暂无警情")
        items = []
        for r in lst.rows.head(LIST_ROWS).itertuples():
            grid = ctx.catalogue.by_id("grid", int(r.grid_id))
            items.append(
                f'<li class="jw-w-task red" data-incident-id="{int(r.id)}"><div class="jw-w-task-head">'
                f'<span class="jw-w-hhmm">{timeutil.fmt_local(r.received_at.to_pydatetime(), timeutil.CLOCK)}</span>'
                f'<span class="jw-w-cat">{e(r.category)}</span></div>'
                f'<div class="jw-w-task-sub">{e(grid.name if grid else "")}</div></li>'
            )
        return head + wh.list_open("queue", LIST_ROWS, 1) + "".join(items) + "</ul>" + wh.more_html(lst, "起", "较早的警情")

    live(
        "ilist",
        lambda: (incidents.latest_id(ctx.engine), every(SIDE_REFRESH_S, now)),
        lambda: wall.incidents_today(ctx.engine, f, now, LIST_ROWS),
        render,
        every_s=SIDE_EVERY_S,
    )


def main_row(weights: list[float], panels: list[tuple[str, Callable[[], None]]], map_mode: str) -> None:
    """The main region: columns of panels with the map always in the second
    column (hidden when ``map_mode`` is "off"), so the map stays mounted across
    views (see ``grid_map``). ``panels`` fill the other columns in order."""
    with st.container(key="wall-main"):
        cols = st.columns(weights, gap="small")
        others = iter(panels)
        for i, col in enumerate(cols):
            with col:
                if i == 1:
                    with st.container(key="wall-map"):
                        grid_map(map_mode)
                    continue
                key, draw = next(others)
                with st.container(key=key):
                    draw()


def view_overview() -> None:
    main_row([1.05, 1.9, 1.05], [("wall-feed", feed), ("wall-queue", queue)], "today")
    with st.container(key="wall-trend"):
        trends()


def narrowed() -> bool:
    """The wall narrowed to one grid (``?grid=``): its lists are short (a few open
    tasks, a day's reports), so the two-column lists of 网格上报 and 派单调度 give
    half their width to the grid's map (otherwise half the screen stays empty).
    A community keeps the two columns: its lists fill them."""
    return f.grid_id is not None


def view_reports() -> None:
    if narrowed():
        main_row([1.05, 1.9, 1.05], [("wall-feed", feed), ("wall-side", report_categories)], "today")
    else:
        main_row([2.1, HIDDEN, 1], [("wall-feed", lambda: feed(rows=FEED_ROWS * 2, cols=2)), ("wall-side", report_categories)], "off")
    with st.container(key="wall-trend"):
        report_trend()


def view_dispatch() -> None:
    if narrowed():
        main_row([1.05, 1.9, 1.05], [("wall-queue", queue), ("wall-side", dispatch_side)], "today")
    else:
        main_row([2.1, HIDDEN, 1], [("wall-queue", lambda: queue(rows=QUEUE_ROWS * 2, cols=2)), ("wall-side", dispatch_side)], "off")
    with st.container(key="wall-trend"):
        dispatch_tables()


def view_patrol() -> None:
    # at a larger type the side tables need the width more than the map (which is height-bound)
    main_row([1.3, 1.4, 1.3] if BIG_TYPE else [1, 1.9, 1.05], [("wall-side", patrol_side), ("wall-side2", incident_list)], "patrol")
    with st.container(key="wall-trend"):
        trends()


def view_trends() -> None:
    main_row([1.1, HIDDEN, 1.4] if BIG_TYPE else [1.5, HIDDEN, 1], [("wall-side", incident_month), ("wall-side2", incident_categories)], "off")
    with st.container(key="wall-trend"):
        trends()


def view_disputes() -> None:
    main_row([1.1, HIDDEN, 1.1, 1], [("wall-side", dispute_cards), ("wall-side2", dispute_kinds), ("wall-side3", dispute_visits)], "off")
    with st.container(key="wall-trend"):
        dispute_places()


def view_warning() -> None:
    # the map of today's incidents and patrols beside the list: where a warned grid's week is going on;
    # one grid (a few warnings at most): its categories' week against the baseline, warning or not
    if narrowed():
        main_row([1.05, 1.9, 1.05], [("wall-queue", warning_list), ("wall-side", warning_grid)], "today")
    else:
        main_row([1.05, 1.9, 1.05], [("wall-queue", warning_list), ("wall-side", warning_side)], "today")
    with st.container(key="wall-trend"):
        trends()


VIEW_PAGES: dict[str, Callable[[], None]] = {
    "overview": view_overview,
    "reports": view_reports,
    "dispatch": view_dispatch,
    "patrol": view_patrol,
    "trends": view_trends,
    "disputes": view_disputes,
    "warning": view_warning,
}
assert list(VIEW_PAGES) == list(rotation.VIEWS)

# --- the page --------------------------------------------------------------------------

VIEW = PARAMS.position(time.time()).view
ALARM_S = ctx.settings.alarm_seconds

st.html(f"<style>{CSS_PATH.read_text(encoding='utf-8')}\n{LAYOUT.css_vars()}</style>")
widgets.load_script(frame.WALL_CLOCK_JS)
warnings = list(st.session_state.get("_jw_wall_warnings") or [])
warnings += PARAM_WARNINGS

with st.container(key="wall-head", horizontal=True):
    note = f'<div class="jw-w-warn">{e("；".join(warnings))}</div>' if warnings else ""
    marks = "".join(f'<span class="jw-w-mark">{e(m)}</span>' for m in ctx.marks())
    st.html(
        f'<div class="jw-w-head" data-view="{VIEW}"><span class="jw-w-station">{e(station_title())}</span>{marks}'
        f'<span class="jw-w-scope"><span class="jw-w-scope-name">{e(ctx.scope_label())}</span>&nbsp;·&nbsp;<b class="jw-w-view">{e(rotation.VIEWS[VIEW])}</b></span>{note}</div>'
    )
    feed_watch()
    clock()
with st.container(key="wall-kpi"):
    kpi_strip()
with st.container(key="wall-view"):
    VIEW_PAGES[VIEW]()
alarms()

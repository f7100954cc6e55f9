"""巡逻覆盖 patrol coverage: do patrols follow the incidents (警力跟着警情走)?

KPI tiles (在岗巡逻 now, 巡逻时长, 热点覆盖率, 热点未覆盖, 热点巡逻占比), a
shift selector (全部 / 白班 / 黑班, kept in the URL as ``?shift=all|day|night``),
the map (grid outlines, the H3 cells patrols passed coloured by patrol
minutes, incident hot spots outlined, hot spots no patrol reached filled red),
the day/night split of patrol time in hot spots against their share of
incidents and of area, and the grids ranked by the gap.

Definitions live in ``queries.measures.hotspots``: hot
pieces per 派出所 (the busiest H3 cells holding half of the station's
incidents), reached = at least one GPS point of the shift, patrol minutes =
GPS points × 2 minutes. GPS tracks are kept about 90 days; a period reaching
further back is measured from the first stored point and the page says so.

Drill-down: a click on the map goes whole area → community → grid → the grid
profile page; a click on a table row goes to that grid (on a grid, to its
profile).
"""

from __future__ import annotations

import html

import h3
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import streamlit as st

from dashboard import timeutil
from dashboard.ui import fmt, maps, plots, widgets
from dashboard.ui.frame import cached, context, drill, selection_key
from dashboard.ui.palette import ACCENT, AMBER, MUTED, RED, rgba
from queries import imports, patrol, places
from queries.measures import hotspots

SHIFTS = {"all": None, "day": "白", "night": "黑"}  # URL value → patrol_shifts.shift
SHIFT_NAMES = {"all": "全部", "day": "白班（08–20时）", "night": "黑班（20–08时）"}
MAP_HEIGHT = 450
# Patrol minutes per km² per day on a fixed police-blue scale (maps.PATROL_MINUTES).


ctx = context()
f = ctx.filters
e = html.escape


def shift_selector() -> str:
    """全部 / 白班 / 黑班, kept in the URL as ``?shift=all|day|night``.

    Not ``bind="query-params"``: that would put the Chinese label in the URL.
    The URL seeds the radio when it changes (a fresh session, a pasted link, a
    drill-down, the back button); the radio writes its choice back. A bad
    value gives a warning and 全部.
    """
    ss = st.session_state
    raw = st.query_params.get("shift")
    if raw not in (None, "", *SHIFTS):
        st.warning(f"已忽略无效的班次 shift={widgets.md_escape(str(raw)[:32])}，显示全部班次", icon="⚠️")
        raw = None
    from_url = raw or "all"
    if ss.get("_jw_patrol_shift_url") != from_url or ss.get("jw_patrol_shift") not in SHIFTS:
        ss["jw_patrol_shift"] = from_url
    picked = st.radio("班次", list(SHIFTS), format_func=SHIFT_NAMES.get, horizontal=True, key="jw_patrol_shift", label_visibility="collapsed")
    picked = picked if picked in SHIFTS else "all"
    if picked == "all":
        if "shift" in st.query_params:
            del st.query_params["shift"]
    elif st.query_params.get("shift") != picked:
        st.query_params["shift"] = picked
    ss["_jw_patrol_shift_url"] = picked
    return picked


def shift_params(key: str) -> dict[str, str]:
    return {} if key == "all" else {"shift": key}


def go_to_grid_ladder(grid_id: int, key: str) -> None:
    """Map click: whole area → community, community → grid, grid → grid profile."""
    g = ctx.catalogue.by_id("grid", int(grid_id))
    if g is None:
        return
    if f.grid_id is not None:
        drill("grid", grid_id=g.id)
    elif f.community_id is not None:
        drill(None, grid_id=g.id, params=shift_params(key))
    else:
        drill(None, community_id=g.parent_id, params=shift_params(key))


def place_labels(shapes: pd.DataFrame, view: pdk.ViewState) -> list[pdk.Layer]:
    """Station names over several stations, community names within one, none inside a community."""
    names = {p.id: p.name for p in ctx.catalogue.stations}
    return maps.place_label_layers(shapes, names, view, narrowed=f.community_id is not None or f.grid_id is not None)


def coverage_map(shapes: pd.DataFrame, cells: pd.DataFrame, key: str, days: float) -> None:
    names = dict(zip(shapes["grid_id"].astype(int), shapes["name"]))
    comms = dict(zip(shapes["grid_id"].astype(int), shapes["community"]))
    outline = maps.grid_outline_layer(shapes, fill=[20, 40, 80, 30])
    # One tooltip template for every layer; deck.gl inserts values as text, so
    # each record carries plain "title", "line1" and "line2".
    for d in outline.data:
        d.update(title=d["name"], line1=d["community"], line2="")
    scale = maps.PATROL_MINUTES
    visited, hot = [], []
    for r in cells.itertuples():
        gid = int(r.grid_id)
        where = f"{names.get(gid, '')} · {comms.get(gid, '')}"
        minutes = f"巡逻 {fmt.minutes(r.minutes) if r.minutes else '0分钟'}"
        if r.minutes > 0:
            rate = maps.per_km2_day(r.minutes, h3.cell_area(r.h3, "km^2"), days)
            visited.append(
                {"hex": r.h3, "grid_id": gid, "fill": scale.color(rate), "title": where, "line1": f"{minutes} · 警情 {int(r.incidents)} 起", "line2": f"{maps.rate_text(rate)} {scale.unit}"}
            )
        if r.hot:
            hot.append(
                {
                    "hex": r.h3,
                    "grid_id": gid,
                    "line": rgba(RED) if r.unreached else rgba(AMBER),
                    "fill": rgba(RED, 170) if r.unreached else rgba(AMBER, 28),  # not 0: deck.gl does not pick transparent pixels
                    "title": "热点 · 巡逻未覆盖" if r.unreached else "热点 · 已覆盖",
                    "line1": where,
                    "line2": f"热点警情 {int(r.hot_incidents)} 起 · {minutes}",
                }
            )
    layers = [
        outline,
        pdk.Layer(
            "H3HexagonLayer",
            id="patrol-cells",
            data=visited,
            get_hexagon="hex",
            get_fill_color="fill",
            filled=True,
            stroked=False,
            extruded=False,
            pickable=True,
            auto_highlight=True,
        ),
        pdk.Layer(
            "H3HexagonLayer",
            id="hot-cells",
            data=hot,
            get_hexagon="hex",
            get_fill_color="fill",
            get_line_color="line",
            filled=True,
            stroked=True,
            extruded=False,
            line_width_min_pixels=3,
            pickable=True,
            auto_highlight=True,
        ),
    ]
    # Fit the grids and the hexagons drawn over them (a grid's cells reach past its edge).
    fit = maps.rings(shapes["boundary_geojson"]) + [[[lon, lat] for lat, lon in h3.cell_to_boundary(c)] for c in cells["h3"]]
    view = maps.view_state(fit, width_px=1000, height_px=MAP_HEIGHT)
    layers += place_labels(shapes, view)
    deck = maps.deck(layers, view, tooltip={"html": "<b>{title}</b><div>{line1}</div><div>{line2}</div>", "style": {"fontSize": "16px"}})
    event = st.pydeck_chart(deck, height=MAP_HEIGHT, on_select="rerun", selection_mode="single-object", key=selection_key("patrol-map"))
    objects = (event.selection or {}).get("objects", {}) if event else {}
    for layer_id in ("hot-cells", "patrol-cells", "grid-outline"):
        picked = objects.get(layer_id) or []
        if picked and picked[0].get("grid_id") is not None:
            go_to_grid_ladder(int(picked[0]["grid_id"]), key)
    st.html(
        f'<div class="jw-legend">{scale.legend_html()}'
        '<span><span class="jw-swatch jw-hot-ok"></span>热点（已覆盖）</span>'
        '<span><span class="jw-swatch jw-hot-miss"></span>热点（巡逻未覆盖）</span></div>'
    )


def split_chart(split: pd.DataFrame) -> None:
    """Per shift: hot spots' share of area, of patrol time and of incidents."""
    labels = [f"<b>{r.label}</b><br><span style='font-size:13px'>未覆盖 {r.unreached}/{r.hot_cells}</span>" for r in split.itertuples()]
    fig = go.Figure()
    for col, name, color in (("area_share", "面积占比", MUTED), ("patrol_share", "巡逻时间占比", ACCENT), ("incident_share", "警情占比", AMBER)):
        vals = [None if v is None or pd.isna(v) else float(v) * 100 for v in split[col]]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=vals,
                name=name,
                orientation="h",
                marker_color=color,
                text=[fmt.pct(None if v is None else v / 100, 0) for v in vals],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{y}} 热点{name} %{{x:.1f}}%<extra></extra>",
            )
        )
    plots.style(fig, height=205)
    if not int(split["hot_cells"].max()):
        fig.add_annotation(x=50, y=labels[1], text="本时段未形成热点", showarrow=False, font=dict(size=18, color=MUTED))
    fig.update_layout(barmode="group", bargap=0.25, margin=dict(l=10, r=40, t=36, b=10), legend=dict(traceorder="reversed"))
    fig.update_xaxes(range=[0, 105], ticksuffix="%", dtick=25)
    fig.update_yaxes(autorange="reversed")
    plots.show(fig, key="patrol-split")


def ranking_table(rank: pd.DataFrame, key: str, total_grids: int) -> None:
    def pct(x) -> str:
        return "—" if x is None or pd.isna(x) else f"{x * 100:.0f}%"

    def points(x) -> str:
        return "—" if x is None or pd.isna(x) else f"{x * 100:.0f}"

    view = pd.DataFrame(
        {
            "网格": rank["name"],
            **({"社区": rank["community"]} if f.community_id is None and f.grid_id is None else {}),
            "热点": rank["hot_cells"],
            "未覆盖": rank["unreached"],
            "热点警情占比": rank["incident_share"].map(pct),
            "热点巡逻占比": rank["patrol_share"].map(pct),
            "覆盖差距": rank["gap"].map(points),
            "巡逻时长": rank["patrol_hours"],
        }
    )
    pct_col = lambda label, help_: st.column_config.TextColumn(label, help=help_)  # noqa: E731
    row = widgets.table(
        view,
        name="patrol-rank",
        file_name="巡逻覆盖排名",
        sort_keys={"热点警情占比": rank["incident_share"], "热点巡逻占比": rank["patrol_share"], "覆盖差距": rank["gap"]},
        select_key=selection_key("patrol-rank"),
        width="stretch",
        height=min(245, 38 + 35 * max(len(view), 1)),
        column_config={
            "网格": st.column_config.TextColumn("网格"),
            "社区": st.column_config.TextColumn("社区", width="small"),
            "热点": st.column_config.NumberColumn("热点", help="本网格内的热点单元数", format="%d"),
            "未覆盖": st.column_config.NumberColumn("未覆盖", help="时段内该班次巡逻未到过的热点单元", format="%d"),
            "热点警情占比": pct_col("警情占比", "热点警情占比：本网格警情中发生在热点单元的比例"),
            "热点巡逻占比": pct_col("巡逻占比", "热点巡逻占比：本网格巡逻时间中花在热点单元的比例"),
            "覆盖差距": st.column_config.TextColumn("覆盖差距（百分点）", help="覆盖差距 = 热点警情占比 − 热点巡逻占比（百分点）：越大越说明巡逻没有跟上警情；无热点为“—”"),
            "巡逻时长": st.column_config.NumberColumn("巡逻时长（小时）", help="时段内该班次在本网格的巡逻时长，单位小时", format="%.0f"),
        },
    )
    if row is not None:
        gid = int(rank.iloc[row]["grid_id"])
        if f.grid_id is not None:
            drill("grid", grid_id=gid)
        drill(None, grid_id=gid, params=shift_params(key))
    if total_grids > len(rank):
        st.caption(f"共 {total_grids} 个网格，按覆盖差距列出前 {len(rank)} 个")


def notes(wins: patrol.PatrolWindows, now: hotspots.PatrolCoverage | None) -> list[str]:
    """Plain statements about what the figures cover (tracks, bases, hot spots, categories)."""
    out = []
    first = timeutil.fmt_local(wins.track_start, timeutil.DAY) if wins.track_start else None
    if wins.clipped and wins.current is not None:
        days = (wins.current[1] - wins.current[0]).total_seconds() / 86400
        out.append(f"轨迹数据仅保留近90天：本时段的巡逻与热点按 {first} 起有轨迹的约 {days:.0f} 天统计")
    elif wins.current is not None:
        if wins.last_year is None:
            out.append("轨迹数据仅保留近90天：同比无去年同期轨迹，显示“—”")
        if wins.previous is None:
            out.append("环比的上一周期轨迹不全，显示“—”")
    if now is not None and now.hot_cells == 0:
        out.append(f"本时段警情分散（每个单元不足{hotspots.HOT_MIN_INCIDENTS}起或未达集中标准），未形成热点" if now.incidents else "本时段无警情，未形成热点")
    if f.categories:
        out.append("热点按所选警情类别（" + "、".join(f.categories) + "）计算")
    return out


top_left, top_right = st.columns([1.1, 2.9], vertical_alignment="center")
with top_left:
    key = shift_selector()
shift = SHIFTS[key]
w = f.window(ctx.now)
loaded = False  # the coverage pieces every part below is drawn from
with widgets.section():
    first = cached(ctx, hotspots.patrol_track_start, live=False)
    wins = patrol.comparison_windows(w, f.period, first)

    def coverage(win):
        return None if win is None else cached(ctx, hotspots.coverage_pieces, f, win, live=False)

    pieces, pieces_prev, pieces_ly = coverage(wins.current), coverage(wins.previous), coverage(wins.last_year)
    summary = lambda p: None if p is None else hotspots.summarize_coverage(p, shift)  # noqa: E731
    on_duty = cached(ctx, patrol.on_duty_compared, f, ctx.now)
    current = summary(pieces)
    widgets.kpi_row(patrol.kpis(current, summary(pieces_prev), summary(pieces_ly), on_duty, w, f.period))
    with top_right:
        lines = notes(wins, current)
        if lines:
            st.html('<div class="jw-note">' + "；".join(e(x) for x in lines) + "</div>")
    loaded = True

if not loaded:
    pass  # the section said why; the page retries by itself
elif w is None or w[0] >= w[1]:
    widgets.empty_state(f"时段“{ctx.period_label()}”尚无数据")
elif pieces is None:
    since = f"（现存最早 {timeutil.fmt_local(first, timeutil.DAY)}）" if first else "（数据库中没有巡逻轨迹）"
    widgets.empty_state(f"时段“{ctx.period_label()}”内无巡逻轨迹：轨迹数据仅保留近90天{since}")
else:
    shapes = None
    with widgets.section():
        shapes = cached(ctx, places.grid_shapes, f, live=False)
    if shapes is not None and shapes.empty:
        widgets.empty_state(f"筛选条件“{ctx.scope_label()}”下没有网格")
    elif shapes is not None:
        left, right = st.columns([1.3, 1], gap="medium")
        with left, widgets.section():
            span = ctx.period_label()
            if wins.clipped:
                span = f"有轨迹的 {timeutil.fmt_local(wins.current[0], timeutil.MONTH_DAY)} 至 {timeutil.fmt_local(wins.current[1], timeutil.MONTH_DAY)}"
            widgets.panel_title(f"巡逻轨迹与警情热点 · {SHIFT_NAMES[key]} · {span}")
            cells = patrol.map_cells(pieces, shift)
            if cells.empty:
                st.html(f'<div class="jw-note">“{e(ctx.scope_label())}”在本时段内没有{e(SHIFT_NAMES[key])}巡逻轨迹和警情热点</div>')
            coverage_map(shapes, cells, key, maps.window_days(wins.current))
            widgets.outside_caption(cached(ctx, imports.outside_rows, f, "incidents", wins.current, live=False), "起警情", "未计入热点")
            widgets.outside_caption(cached(ctx, imports.outside_rows, f.places_only(), "gps", wins.current, live=False), "个巡逻定位点", "未计入巡逻覆盖")
            st.html(
                '<div class="jw-note">热点：本派出所警情最集中的H3单元（每个约0.1平方公里，按网格切分），'
                "从多到少累计达全所警情一半（同数并列计入，每个至少2起）；白班/黑班的热点按08–20时/20–08时的警情计。"
                f"覆盖：时段内有该班次巡逻轨迹点经过。巡逻时长 = 轨迹点数 × 每点代表的分钟数（该班次轨迹的平均定位间隔；演示数据为 {hotspots.PATROL_POINT_MINUTES:g} 分钟）。</div>"
            )
        with right, widgets.section():
            widgets.panel_title("警力跟着警情走 · 热点的面积、巡逻时间与警情占比")
            split = patrol.shift_split(pieces)
            split_chart(split)
            widgets.panel_title("网格覆盖差距排名 · 点击行进入网格" if f.grid_id is None else "本网格 · 点击行查看网格画像")
            rank = patrol.grid_ranking(pieces, shapes, shift)
            ranking_table(rank, key, len(shapes))
            if f.grid_id is not None and st.button("查看网格画像 →", key="patrol-grid-profile"):
                drill("grid", grid_id=f.grid_id)

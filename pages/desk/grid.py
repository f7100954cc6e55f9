"""网格画像 grid profile: one grid on one page.

Without a grid in the filter bar: the grids in scope ranked by incidents in the
period (click a row or a grid on the map to open it). With a grid: its KPI
tiles, boundary with cameras and compounds, community police and grid forces,
一标三实 base data, incidents/reports/disputes per week against its own
baseline, its open tasks and latest reports (click to open them on their page).
"""

from __future__ import annotations

import html
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import mask, timeutil
from dashboard.ui import fmt, maps, plots, widgets
from dashboard.ui.frame import cached, context, drill, personal, selection_key
from dashboard.ui.palette import ACCENT, AMBER, GREEN, GUIDE, MUTED, RED, TEXT, rgba
from queries import grid_profile as gp
from queries import imports, places
from queries import warning as warning_q
from queries.measures import baseline

ctx = context()
f = ctx.filters
window = f.window(ctx.now) or (ctx.now, ctx.now)
PERIOD = ctx.period_label()
SCOPE = ctx.scope_label()
E = html.escape

ONLINE = rgba(GREEN, 235)
OFFLINE = rgba(RED, 245)
COMPOUND = rgba(AMBER, 230)


def _selected(event, layer_id: str | None = None) -> dict | None:
    """The clicked object of a pydeck selection (optionally only from ``layer_id``)."""
    try:
        objects = event.selection["objects"]
    except (AttributeError, KeyError, TypeError):
        return None
    for lid, objs in (objects or {}).items():
        if objs and (layer_id is None or lid == layer_id):
            return objs[0]
    return None


# One tooltip for every layer of a map. Streamlit fills a tooltip's {field}
# placeholders with the record's values HTML-escaped (measured in 1.67, where
# ``st.pydeck_chart`` does the filling, not deck.gl), so the records carry plain
# text (names as stored) and the markup lives in the template alone: a record
# holding markup would show its tags literally, escaped a second time.
TOOLTIP = {"html": "<b>{title}</b><div>{line1}</div><div>{line2}</div><div>{line3}</div>"}


def tip(title: str, line1: str = "", line2: str = "", line3: str = "") -> dict[str, str]:
    """The tooltip fields of one record (every record needs all of them: a field
    a record lacks would show as a literal ``{name}``)."""
    return {"title": str(title), "line1": str(line1), "line2": str(line2), "line3": str(line3)}


def _stat(label: str, value: str, unit: str = "", alarm: bool = False) -> str:
    cls = "jw-gp-stat alarm" if alarm else "jw-gp-stat"
    return f'<div class="{cls}"><div class="jw-gp-stat-label">{E(label)}</div><div class="jw-gp-stat-value">{E(value)}<small>{E(unit)}</small></div></div>'


# --- no grid selected: the ranking ------------------------------------------------------


def ranking_map(df: pd.DataFrame, shapes: pd.DataFrame) -> None:
    data = shapes.merge(df[["grid_id", "incidents", "reports"]], on="grid_id", how="left").fillna({"incidents": 0, "reports": 0})
    scale, days = maps.INCIDENT_DENSITY, maps.window_days(window)
    recs = []
    for r in data.itertuples():
        rate = maps.per_km2_day(r.incidents, r.area_km2, days)
        recs.append(
            {
                "grid_id": int(r.grid_id),
                "fill": scale.color(rate),
                **tip(r.name, r.community, f"警情 {int(r.incidents)} 起 · 上报 {int(r.reports)} 件", f"{maps.rate_text(rate)} {scale.unit} · 点击查看画像"),
            }
        )
    layer = maps.shaded_grid_layer(maps.part_rows(data["boundary_geojson"], recs), "rank-grids")
    view = maps.view_state(maps.rings(data["boundary_geojson"]), 760, 520)
    labels = maps.place_label_layers(data, {p.id: p.name for p in ctx.catalogue.stations}, view, size=15)
    deck = maps.deck([layer, *labels], view, TOOLTIP)
    event = st.pydeck_chart(deck, height=540, key=selection_key("gp-rank-map"), on_select="rerun", selection_mode="single-object")
    if (obj := _selected(event, "rank-grids")) and obj.get("grid_id"):
        drill(None, grid_id=int(obj["grid_id"]))
    st.html(f'<div class="jw-legend">{scale.legend_html()}<span>· {E(PERIOD)}，固定色阶；点击网格进入其画像</span></div>')


def ranking_view() -> None:
    df = cached(ctx, gp.grid_ranking, f, window, ctx.now, live=False)
    st.html(
        '<div class="jw-gp-pick">请选择一个网格<span>点击下表中的一行或右侧地图上的网格，'
        "或在上方“网格”筛选中选择，即可查看该网格的画像。</span></div>"
    )
    if df.empty:
        widgets.empty_state(f"筛选条件“{SCOPE}”下没有网格")
        return
    totals = {c: int(df[c].sum()) for c in ("incidents", "reports", "disputes", "before_feedback", "overdue")}
    st.html(
        f'<div class="jw-gp-summary" data-headline="ranking">“{E(SCOPE)}” · {E(PERIOD)}：共 <b>{len(df)}</b> 个网格，'
        f'警情 <b data-kpi="警情合计">{fmt.count(totals["incidents"])}</b> 起，上报 <b>{fmt.count(totals["reports"])}</b> 件，'
        f'纠纷 <b>{fmt.count(totals["disputes"])}</b> 起；当前在办派单 <b>{fmt.count(totals["before_feedback"])}</b> 件，'
        f'其中超期 <b class="{"jw-target-miss" if totals["overdue"] else ""}">{fmt.count(totals["overdue"])}</b> 件</div>'
    )
    for kind, ff, noun in (("incidents", f, "起警情"), ("reports", f.places_only(), "件网格上报"), ("disputes", f.places_only(), "起矛盾纠纷")):
        widgets.outside_caption(cached(ctx, imports.outside_rows, ff, kind, window, live=False), noun)
    if totals["incidents"] + totals["reports"] + totals["disputes"] == 0:
        widgets.empty_state(f"“{SCOPE}”在时段 {PERIOD} 内无警情、上报和纠纷（下表计数均为 0，仍可点击网格查看画像）")
    left, right = st.columns([1.35, 1], gap="medium")
    with left:
        widgets.panel_title(f"网格排名 · 按{PERIOD}警情数")
        table = df.rename(
            columns={
                "rank": "排名",
                "name": "网格",
                "community": "社区",
                "population": "人口",
                "area_km2": "面积",
                "incidents": "警情",
                "reports": "上报",
                "disputes": "纠纷",
                "before_feedback": "在办派单",
                "overdue": "超期",
            }
        )
        cols = ["排名", "网格", "社区", "人口", "面积", "警情", "上报", "纠纷", "在办派单", "超期"]
        row = widgets.table(
            table[cols].reset_index(drop=True),
            name="gp-ranking",
            file_name="网格排名",
            search=True,
            select_key=selection_key("gp-ranking"),
            height=540,
            column_config={
                "排名": st.column_config.NumberColumn("排名", width="small"),
                "网格": st.column_config.TextColumn("网格", width="medium"),
                "人口": st.column_config.NumberColumn("人口", format="%d"),
                "面积": st.column_config.NumberColumn("面积（km²）", format="%.2f"),
                "警情": st.column_config.ProgressColumn("警情", format="%d", min_value=0, max_value=max(1, int(df["incidents"].max()))),
                "上报": st.column_config.NumberColumn("上报", format="%d"),
                "纠纷": st.column_config.NumberColumn("纠纷", format="%d"),
                "在办派单": st.column_config.NumberColumn("在办派单", format="%d"),
                "超期": st.column_config.NumberColumn("超期", format="%d"),
            },
        )
        if row is not None and row < len(df):
            drill(None, grid_id=int(df.iloc[row]["grid_id"]))
    with right, widgets.section():
        widgets.panel_title("网格分布 · 点击进入")
        shapes = cached(ctx, places.grid_shapes, f.places_only(), live=False)
        if shapes.empty:
            widgets.empty_state(f"筛选条件“{SCOPE}”下没有网格边界")
        else:
            ranking_map(df, shapes)


# --- one grid ----------------------------------------------------------------------------


def grid_map(card: pd.Series, near: pd.DataFrame, cams: pd.DataFrame, comps: pd.DataFrame) -> None:
    view = maps.view_state(maps.rings([card["boundary_geojson"]]), 720, 400, max_zoom=17)
    layers: list[pdk.Layer] = []
    if not near.empty:
        nb = maps.grid_outline_layer(near, layer_id="grid-neighbours", fill=[20, 40, 80, 25], extra=[tip(r.name, r.community, "点击查看该网格") for r in near.itertuples()])
        nb.get_line_color = [140, 160, 200, 90]
        layers += [nb, maps.grid_label_layer(near, view, "neighbour-labels", 12)]
        layers[-1].get_color = [170, 185, 215, 150]
    layers.append(
        pdk.Layer(
            "PolygonLayer",
            id="grid-self",
            data=maps.part_rows([card["boundary_geojson"]], [tip(card["name"], card["community"])]),
            get_polygon="polygon",
            get_fill_color=rgba(ACCENT, 45),
            get_line_color=rgba(ACCENT),
            line_width_min_pixels=3,
            stroked=True,
            filled=True,
            pickable=True,
        )
    )
    labels: tuple[pdk.Layer, ...] = ()
    if not comps.empty:
        recs = [
            {
                "centroid_lon": float(r.lon),
                "centroid_lat": float(r.lat),
                "label": r.name,
                **tip(r.name, f"小区 · {int(r.households):,} 户 · {int(r.buildings)} 栋"),
            }
            for r in comps.itertuples()
        ]
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="compounds",
                data=recs,
                get_position=["centroid_lon", "centroid_lat"],
                get_fill_color=COMPOUND,
                get_line_color=[10, 16, 32, 255],
                stroked=True,
                line_width_min_pixels=2,
                get_radius=9,
                radius_units='"pixels"',
                pickable=True,
            )
        )
        # Labels cycle above/below their point, by latitude, so that compounds that
        # lie close together do not print their names on top of each other.
        offsets = ([0, -20], [0, 20], [0, -42], [0, 42])
        for k, rec in enumerate(sorted(recs, key=lambda r: (r["centroid_lat"], r["centroid_lon"]))):
            rec["offset"] = offsets[k % len(offsets)]
        labels = (
            pdk.Layer(
                "TextLayer",
                id="compound-labels",
                data=recs,
                get_position=["centroid_lon", "centroid_lat"],
                get_text="label",
                get_size=14,
                get_color=[255, 226, 170, 240],
                get_pixel_offset="offset",
                character_set='"auto"',
                font_family=maps.LABEL_FONT,
                font_weight=700,
                background=True,
                get_background_color=[10, 16, 32, 190],
                background_padding=[5, 2],
            ),
        )
    if not cams.empty:
        recs = [
            {
                "lon": float(r.lon),
                "lat": float(r.lat),
                "color": ONLINE if r.online else OFFLINE,
                **tip(
                    r.name,
                    f"{r.kind} · {'在线' if r.online else '离线'}",
                    f"最近在线 {timeutil.fmt_local(r.last_seen_at, timeutil.SHORT) if pd.notna(r.last_seen_at) else '—'}",
                ),
            }
            for r in cams.itertuples()
        ]
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="cameras",
                data=recs,
                get_position=["lon", "lat"],
                get_fill_color="color",
                get_line_color=[10, 16, 32, 255],
                stroked=True,
                line_width_min_pixels=1,
                get_radius=6,
                radius_units='"pixels"',
                pickable=True,
            )
        )
    layers += list(labels)  # names on top of the camera dots
    deck = maps.deck(layers, view, TOOLTIP)
    event = st.pydeck_chart(deck, height=500, key=selection_key("gp-map"), on_select="rerun", selection_mode="single-object")
    if (obj := _selected(event, "grid-neighbours")) and obj.get("grid_id"):
        drill(None, grid_id=int(obj["grid_id"]))
    n_on = int(cams["online"].sum()) if not cams.empty else 0
    n_off = len(cams) - n_on
    sw = '<span class="jw-swatch" style="background: rgba({},{},{},1)"></span>'
    st.html(
        '<div class="jw-legend">'
        f"<span>{sw.format(*ONLINE[:3])}摄像头在线 {n_on}</span>"
        f"<span>{sw.format(*OFFLINE[:3])}离线 {n_off}</span>"
        f"<span>{sw.format(*COMPOUND[:3])}小区 {len(comps)}</span>"
        '<span><span class="jw-swatch" style="border:2px solid #3fb6ff"></span>本网格</span>'
        "<span>灰色为周边网格，点击可切换</span></div>"
    )


def profile_panel(card: pd.Series, gid: int) -> None:
    base = cached(ctx, gp.base_counts, gid, live=False)
    area = float(card["area_km2"] or 0)
    pop = int(card["population"] or 0)
    widgets.panel_title("基础信息 · 一标三实")
    stats = [
        _stat("人口", fmt.count(pop), "人"),
        _stat("面积", f"{area:.2f}", "km²"),
        _stat("人口密度", fmt.count(card["population_density"]), "人/km²"),
        _stat("小区", fmt.count(int(card["compounds"])), "个"),
        _stat("户数", fmt.count(int(card["households"])), "户"),
        _stat("楼栋", fmt.count(int(card["buildings"])), "栋"),
    ]
    units = {"标准地址": "条", "实有人口": "人", "实有房屋": "套", "实有单位": "家"}
    stats += [_stat(r.kind, fmt.count(int(r.n)), units.get(r.kind, "")) for r in base.itertuples()]
    st.html('<div class="jw-gp-stats">' + "".join(stats) + "</div>")

    offs = cached(ctx, gp.officers, gid, live=False)
    widgets.panel_title("社区民警 · 网格力量")
    pm = personal("grid", gid, "社区民警和网格力量的姓名、电话")
    if offs.empty:
        st.html('<div class="jw-note">该社区未登记社区民警</div>')
    else:
        items = "".join(
            f'<span class="jw-gp-person"><em>{"社区民警" if r.role == "民警" else E(r.role)}</em>{E(pm.name(r.name))}'
            f"<small>{E(pm.phone(r.phone))}</small></span>"
            for r in offs.itertuples()
        )
        st.html(f'<div class="jw-gp-people">{items}</div>')
    kinds = cached(ctx, gp.worker_kinds, gid, live=False)
    total, active = int(kinds["total"].sum()), int(kinds["active"].sum())
    chips = "".join(f'<span class="jw-gp-chip">{E(r.kind)} <b>{int(r.active)}</b></span>' for r in kinds.itertuples() if r.total > 0)
    st.html(f'<div class="jw-gp-kinds"><span class="jw-gp-kinds-total">网格力量 {total} 人 · 在岗 {active} 人</span>{chips}</div>')
    wk = cached(ctx, gp.workers, gid, live=False)
    if wk.empty:
        st.html('<div class="jw-note">该网格未登记网格力量</div>')
    else:
        table = pd.DataFrame(
            {
                "姓名": [pm.name(x) for x in wk["name"]],
                "类别": wk["kind"],
                "电话": [pm.phone(x) for x in wk["phone"]],
                "在岗": wk["active"],
            }
        )
        widgets.table(
            table,
            name="gp-workers",
            file_name="网格力量",
            height=min(40 + 36 * len(table), 220),
            column_config={"在岗": st.column_config.CheckboxColumn("在岗", width="small")},
        )


def activity_chart(act: pd.DataFrame) -> None:
    unit = act["unit"].iloc[0]
    unit_zh = "周" if unit == "week" else "月"
    base_len = f"前{baseline.BASELINE_WEEKS}周" if unit == "week" else f"前{baseline.BASELINE_MONTHS}个月"
    sources = list(dict.fromkeys(act["source"]))
    note = plots.partial_note(window, ctx.now, unit)  # the last week/month still running: drawn apart
    fig = make_subplots(rows=len(sources), cols=1, shared_xaxes=True, vertical_spacing=0.07)
    for i, src in enumerate(sources, start=1):
        d = act[act["source"] == src]
        x = [pd.Timestamp(a) + (pd.Timestamp(b) - pd.Timestamp(a)) / 2 for a, b in zip(d["first"], d["last"])]  # mid-bucket
        label = d["label"].iloc[0]
        span_txt = [f"{a:%m-%d}至{b:%m-%d}" if unit == "week" else f"{a:%Y-%m}" for a, b in zip(d["first"], d["last"])]
        colors = [RED if a else plots.COLORS[i - 1] for a in d["above"]]
        if note and span_txt:
            span_txt[-1] = f"{span_txt[-1]}（{note}）"
        fig.add_trace(
            go.Bar(
                x=x, y=d["n"], marker=plots.partial_bar_marker(colors, note), name=label, showlegend=False,
                customdata=span_txt, hovertemplate=f"%{{customdata}} {label} %{{y}}<extra></extra>",
            ),
            row=i, col=1,
        )
        # shapes after the bars: plotly skips subplots that have no trace yet
        if d["mean"].notna().any():
            mean, low, high = float(d["mean"].iloc[0]), float(d["low"].iloc[0]), float(d["high"].iloc[0])
            fig.add_hrect(y0=low, y1=high, fillcolor="rgba(142,160,196,0.20)", line_width=0, layer="below", row=i, col=1)
            fig.add_hline(
                y=mean, line=dict(color=GUIDE, width=2, dash="dash"), row=i, col=1,
                annotation_text=f"基线 {mean:.1f}（正常 ≤{high:.1f}）", annotation_position="top left",
                annotation_font=dict(size=13, color=TEXT), annotation_bgcolor="rgba(10,16,32,0.75)",
            )
        fig.update_yaxes(title_text=label, rangemode="tozero", row=i, col=1, title_font=dict(size=15))
    if unit == "week" and len(act):
        start_local = timeutil.to_local(window[0]).date()
        first_shown = act["first"].min()
        if start_local > first_shown:
            for i in range(1, len(sources) + 1):
                label_args = dict(annotation_text="所选时段", annotation_position="top right", annotation_font=dict(size=13, color=MUTED)) if i == 1 else {}
                fig.add_vrect(
                    x0=pd.Timestamp(start_local) - timedelta(days=0.5), x1=pd.Timestamp(act["last"].max()) + timedelta(days=0.5),
                    fillcolor="rgba(63,182,255,0.10)", line_width=0, layer="below", row=i, col=1, **label_args,
                )
    plots.style(fig, height=200 * len(sources) + 20, legend=False)
    fig.update_layout(bargap=0.15)
    fig.update_xaxes(tickformat="%m-%d" if unit == "week" else "%Y-%m")
    plots.show(fig, key="gp-activity")
    alerts = []
    for src in sources:
        d = act[(act["source"] == src) & act["above"]]
        if len(d):
            when = "、".join(f"{a:%m-%d}至{b:%m-%d}" if unit == "week" else f"{a:%Y-%m}" for a, b in zip(d["first"], d["last"]))
            alerts.append(f'<span class="jw-target-miss">{E(d["label"].iloc[0])} {len(d)} {unit_zh}高于基线：{E(when)}</span>')
    no_base = [act[act["source"] == s]["label"].iloc[0] for s in sources if act[act["source"] == s]["mean"].isna().all()]
    notes = alerts or [f"<span>所示各{unit_zh}均未高于基线</span>"]
    if no_base:
        notes.append(f"<span>{E('、'.join(no_base))}无基线（{base_len}无数据）</span>")
    st.html(
        f'<div class="jw-legend">{"；".join(notes)}</div>'
        f'<div class="jw-legend">每根柱为一{unit_zh}（最后一{unit_zh}截至所选时段末日）；虚线 = 基线（{base_len}平均每{unit_zh}）；'
        f"灰带 = 正常范围 均值±2√均值；红柱 = 高于基线：超过 均值+2√均值 且至少 {baseline.MIN_ABOVE_COUNT} 起</div>"
    )


def warnings_panel() -> None:
    """The grid's early warnings (预警, this week and today), small; acknowledged on the 预警 page."""
    w = cached(ctx, warning_q.warnings, f, ctx.now.replace(second=0, microsecond=0), live=False)  # as the 预警 page judges it
    if w.empty:
        st.html('<div class="jw-legend" data-warnings="0">预警：本网格本周及今日无预警（与本网格自身基线对比）</div>')
        return
    items = "".join(
        f'<li class="jw-target-miss">{E(r.reason)}{"" if pd.isna(r.acked_at) else f"（已确认：{E(str(r.acked_by))}）"}</li>' for r in w.itertuples()
    )
    st.html(f'<div class="jw-legend" data-warnings="{len(w)}">预警 {len(w)} 项（在“预警”页确认）：<ul>{items}</ul></div>')


def tasks_panel(gid_filters) -> None:
    widgets.panel_title("在办派单 · 点击查看处置详情")
    tk = cached(ctx, gp.before_feedback_tasks, gid_filters, ctx.now)
    if tk.empty:
        widgets.empty_state("该网格当前没有在办派单（待研判、已派发、处置中）")
        return
    assignee = [
        (f"社区民警 {mask.name(o)}" if isinstance(o, str) and o else (d if isinstance(d, str) and d else "未指派"))
        for o, d in zip(tk["officer"], tk["department"])
    ]
    table = pd.DataFrame(
        {
            "派单号": tk["task_id"].astype(int),
            "类别": tk["category"],
            "紧急": tk["urgency"],
            "状态": tk["state"],
            "承办": assignee,
            "反馈期限": [timeutil.fmt_local(t, timeutil.SHORT) if pd.notna(t) else "—" for t in pd.to_datetime(tk["deadline_at"])],
            "超期": ["超期" if o else "" for o in tk["overdue"]],
        }
    )
    row = widgets.table(
        table,
        name="gp-tasks",
        file_name="网格派单",
        style=lambda v: v.style.apply(lambda r: [f"color: {RED}; font-weight: 600" if r["超期"] else "" for _ in r], axis=1),
        sort_keys={"反馈期限": pd.to_datetime(tk["deadline_at"])},
        search=len(table) > 15,
        select_key=selection_key("gp-tasks"),
        height=min(40 + 36 * len(table), 420),
        column_config={"派单号": st.column_config.NumberColumn("派单号", format="%d", width="small")},
    )
    n_over = int(tk["overdue"].sum())
    st.html(f'<div class="jw-legend">共 {len(tk)} 件{"（仅显示前 200 件）" if len(tk) >= 200 else ""}，其中超期 <span class="{"jw-target-miss" if n_over else ""}">{n_over}</span> 件（红色）</div>')
    if row is not None and row < len(tk):
        drill("dispatch", params={"task": str(int(tk.iloc[row]["task_id"]))})


def reports_panel(gid_filters) -> None:
    widgets.panel_title(f"最新上报 · {PERIOD} · 点击查看详情")
    rp = cached(ctx, gp.latest_reports, gid_filters, window, live=False)
    if rp.empty:
        widgets.empty_state(f"该网格在时段 {PERIOD} 内没有网格上报")
        return
    table = pd.DataFrame(
        {
            "时间": [timeutil.fmt_local(t, timeutil.SHORT) for t in pd.to_datetime(rp["reported_at"])],
            "类别": rp["category"],
            "紧急": rp["urgency"],
            "内容": [mask.text(t)[:60] for t in rp["text"]],
            "上报人": [mask.name(n) if isinstance(n, str) else "—" for n in rp["reporter"]],
            "派单": [s if isinstance(s, str) else "未派单" for s in rp["task_state"]],
        }
    )
    row = widgets.table(
        table,
        name="gp-reports",
        file_name="网格最新上报",
        sort_keys={"时间": pd.to_datetime(rp["reported_at"])},
        search=len(table) > 15,
        select_key=selection_key("gp-reports"),
        height=min(40 + 36 * len(table), 420),
        column_config={"内容": st.column_config.TextColumn("内容", width="large")},
    )
    if row is not None and row < len(rp):
        drill("reports", params={"report": str(int(rp.iloc[row]["report_id"]))})


def profile_view(gid: int) -> None:
    cards = cached(ctx, gp.grid_card, gid, live=False)
    if cards.empty:
        widgets.empty_state(f"网格编号 {gid} 不存在（可能已被撤并），请在上方重新选择网格")
        return
    card = cards.iloc[0]
    st.html(
        f'<div class="jw-gp-title" data-grid="{E(card["code"])}"><b>{E(card["name"])}</b>'
        f'<span>{E(card["code"])} · {E(card["community"])} · {E(card["station"])} · {E(PERIOD)}</span></div>'
    )
    with widgets.section():
        widgets.kpi_row(cached(ctx, gp.kpis, f, ctx.now))
    left, right = st.columns([1.3, 1], gap="medium")
    with left, widgets.section():
        widgets.panel_title("网格边界 · 视频监控点位 · 小区")
        near = cached(ctx, gp.neighbours, gid, live=False)
        cams = cached(ctx, gp.cameras, gid)
        comps = cached(ctx, gp.compounds, gid, live=False)
        grid_map(card, near, cams, comps)
    with right, widgets.section():
        profile_panel(card, gid)

    with widgets.section():
        act = cached(ctx, gp.activity, f, window, live=False)
        unit_zh = "周" if len(act) and act["unit"].iloc[0] == "week" else "月"
        widgets.panel_title(f"警情 · 上报 · 纠纷 按{unit_zh}走势 · 与本网格自身基线对比")
        if act.empty or (int(act["n"].sum()) == 0 and act["mean"].isna().all()):
            widgets.empty_state(f"该网格在时段 {PERIOD} 及之前的对比期内无警情、上报和纠纷")
        else:
            activity_chart(act)
        warnings_panel()

    a, b = st.columns([1, 1.15], gap="medium")
    with a, widgets.section():
        tasks_panel(f)
    with b, widgets.section():
        reports_panel(f)


with widgets.section():
    if f.grid_id is None:
        ranking_view()
    else:
        profile_view(f.grid_id)

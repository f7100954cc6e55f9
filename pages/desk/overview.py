"""总览 overview: today's KPI tiles (fixed: today and this month, whatever the
period filter says, and titled so), the grid map shaded by incident density and
the daily incident trend, both over the filter's period."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import timeutil
from dashboard.filters import PERIODS
from dashboard.ui import fmt, maps, plots, widgets
from dashboard.ui.frame import cached, context, drill, selection_key
from dashboard.ui.palette import ACCENT, GRID, MUTED, PANEL, TEXT
from queries import imports, overview

ctx = context()
f = ctx.filters

def _drill_to(obj: dict) -> None:
    """Click on a grid: several stations → its station; one station → its community;
    a community → the grid; a grid → its profile."""
    grid_id, community_id, station_id = obj.get("grid_id"), obj.get("community_id"), obj.get("station_id")
    if grid_id is None:
        return
    if f.station_id is None and len(ctx.catalogue.stations) > 1 and station_id is not None:
        drill(None, station_id=int(station_id))
    elif f.grid_id is not None:
        drill("grid", grid_id=int(grid_id))
    elif f.community_id is not None:
        drill(None, grid_id=int(grid_id))
    else:
        drill(None, community_id=int(community_id))


def density_map(df: pd.DataFrame, days: float) -> None:
    """Grids shaded by incidents per km² per day on the fixed scale
    (``maps.INCIDENT_DENSITY``): a grid's colour depends on its own rate only."""
    scale = maps.INCIDENT_DENSITY
    recs = []
    for r in df.itertuples():
        rate = maps.per_km2_day(r.n, r.area_km2, days)
        recs.append(
            {
                "grid_id": int(r.grid_id),
                "community_id": int(r.community_id),
                "station_id": int(r.station_id),
                "name": r.name,
                "community": r.community,
                "n": int(r.n),
                "rate": maps.rate_text(rate),
                "fill": scale.color(rate),
            }
        )
    view = maps.view_state(maps.rings(df["boundary_geojson"]), width_px=980, height_px=560)
    layers = [
        maps.shaded_grid_layer(maps.part_rows(df["boundary_geojson"], recs), "grid-density"),
        *maps.place_label_layers(df, {p.id: p.name for p in ctx.catalogue.stations}, view, narrowed=f.grid_id is not None),
    ]
    deck = maps.deck(
        layers,
        view,
        tooltip={"html": "<b>{name}</b><br/>{community}<br/>警情 {n} 起 · {rate} " + scale.unit},
    )
    event = st.pydeck_chart(deck, height=560, key=selection_key("overview-map"), on_select="rerun", selection_mode="single-object")
    picked = (event.selection.get("objects") or {}).get("grid-density") if event else None
    if picked:
        _drill_to(picked[0])
    st.html(
        f'<div class="jw-legend">{scale.legend_html()}<span>· 固定色阶，按 {maps.rate_text(days)} 天折算</span>'
        "<span>· 点击网格逐级下钻：派出所 → 社区 → 网格 → 网格画像</span></div>"
    )


def trend_chart(trend: overview.DailyTrend, name: str) -> None:
    """The period's days against last year; a running last day drawn apart (``plots.series_line``)."""
    df = trend.days
    note = plots.partial_note(trend.periods.current, trend.periods.at, "day")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=df["day"], y=df["n_last_year"], name="去年同期", mode="lines",
            line=dict(color=MUTED, width=2, dash="dash"),
            hovertemplate="%{x|%m-%d} 去年同期 %{y} 起<extra></extra>",
        )
    )
    plots.series_line(
        fig, df["day"], df["n"], note, name=name, mode="lines+markers",
        line=dict(color=ACCENT, width=3), marker=dict(size=6),
        hovertemplate="%{x|%m-%d} 警情 %{y} 起<extra></extra>",
    )
    if len(df):
        plots.annotate_partial(fig, df["day"].iloc[-1], int(df["n"].iloc[-1]), note)
    fig.update_layout(
        template="plotly_dark",
        height=560,
        margin=dict(l=10, r=10, t=10, b=10),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(17,26,46,0.6)",
        font=dict(size=16, family="Noto Sans CJK SC, sans-serif"),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=16)),
        xaxis=dict(tickformat="%m-%d", gridcolor=GRID),
        yaxis=dict(title="警情（起）", gridcolor=GRID, rangemode="tozero"),
        hovermode="x unified",
        hoverlabel=dict(font=dict(size=15, family="Noto Sans CJK SC, sans-serif", color=TEXT), bgcolor=PANEL, bordercolor=ACCENT),
    )
    plots.show(fig, key="overview-trend")


# Panels that answer "now" stay fixed and say so; the others follow the period.
FIXED_TITLE = "实时指标 · 今日与本月，不随时段变化"
with widgets.section():
    widgets.panel_title(FIXED_TITLE, "今日警情、今日上报为今日0时至今；待派单、处置中、超期为此刻；办结率、化解率为本月1日至今。上方“时段”筛选只作用于下方的密度图和走势图")
    widgets.kpi_row(cached(ctx, overview.kpis, f, ctx.now))
left, right = st.columns([1.25, 1], gap="medium")
with left, widgets.section():
    widgets.panel_title(f"网格警情密度 · {ctx.period_label()}")
    dens = cached(ctx, overview.grid_density, f, ctx.now, live=False)
    if dens.empty:
        widgets.empty_state(f"筛选条件“{ctx.scope_label()}”下没有网格")
    else:
        if int(dens["n"].sum()) == 0:
            st.caption(f"“{widgets.md_escape(ctx.scope_label())}” 在 {ctx.period_label()} 内无警情")
        density_map(dens, maps.window_days(f.window(ctx.now)))
    widgets.outside_caption(cached(ctx, imports.outside_rows, f, "incidents", f.window(ctx.now), live=False), "起警情")
with right, widgets.section():
    name = PERIODS.get(f.period, "本时段")
    widgets.panel_title(f"警情走势 · {ctx.period_label()} · 与去年同期对比")
    trend = cached(ctx, overview.period_trend, f, ctx.now, live=False)
    t = trend.total
    if not t.value and not t.yoy_base:
        widgets.empty_state(f"“{ctx.scope_label()}” {ctx.period_label()}及去年同期均无警情")
    else:
        trend_chart(trend, name)
        last = f"去年同期 {fmt.count(t.yoy_base)} 起" if trend.yoy_covered else f"去年同期早于数据起始 {timeutil.fmt_local(trend.since, timeutil.DAY)}，不可比"
        st.html(
            f'<div class="jw-legend" data-total="{int(t.value or 0)}">{name}共 {fmt.count(t.value)} 起，{last}，'
            f"同比 {widgets.change_html(t.yoy, sig=t.yoy_sig)}，环比 {widgets.change_html(t.pop, sig=t.pop_sig)}</div>"
        )

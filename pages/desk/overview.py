"""总览 overview: today's KPI tiles, the grid map shaded by incident density, the 30-day trend."""

from __future__ import annotations

import json
import math

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import streamlit as st

from dashboard import fmt, ui
from dashboard.database import DataError
from dashboard.frame import cached, context
from queries import overview, places

ctx = context()
f = ctx.filters

def _view_state(df: pd.DataFrame, width_px: int = 1100, height_px: int = 560) -> pdk.ViewState:
    """Centre and zoom that fit every grid of ``df``."""
    lons, lats = [], []
    for g in df["boundary_geojson"]:
        ring = json.loads(g)["coordinates"][0]
        lons += [p[0] for p in ring]
        lats += [p[1] for p in ring]
    lon_span = max(max(lons) - min(lons), 1e-3)
    lat_span = max(max(lats) - min(lats), 1e-3)
    # deck.gl's world is 512 px wide at zoom 0; Mercator stretches latitude by 1/cos(lat).
    stretch = 1 / math.cos(math.radians((max(lats) + min(lats)) / 2))
    zoom = math.log2(min(width_px * 360 / (512 * lon_span * 1.1), height_px * 360 / (512 * lat_span * stretch * 1.1)))
    return pdk.ViewState(
        longitude=(max(lons) + min(lons)) / 2, latitude=(max(lats) + min(lats)) / 2, zoom=min(zoom, 16), pitch=0, bearing=0
    )


def density_map(df: pd.DataFrame) -> None:
    top = float(df["density"].quantile(0.95)) if len(df) else 0.0
    rows = []
    for r in df.itertuples():
        t = (r.density / top) if top > 0 else 0.0
        rows.append(
            {
                "polygon": json.loads(r.boundary_geojson)["coordinates"][0],
                "name": r.name,
                "community": r.community,
                "n": int(r.n),
                "density": f"{r.density:.1f}",
                "fill": ui.ramp_color(t),
            }
        )
    # Community labels at the mean of their grids' centroids.
    labels = (
        df.groupby("community", as_index=False)[["centroid_lon", "centroid_lat"]].mean().rename(columns={"community": "label"})
    )
    layers = [
        pdk.Layer(
            "PolygonLayer",
            id="grid-density",
            data=rows,
            get_polygon="polygon",
            get_fill_color="fill",
            get_line_color=[200, 220, 255, 140],
            line_width_min_pixels=1,
            stroked=True,
            filled=True,
            pickable=True,
            auto_highlight=True,
        ),
        pdk.Layer(
            "TextLayer",
            id="community-labels",
            data=labels.to_dict("records"),
            get_position=["centroid_lon", "centroid_lat"],
            get_text="label",
            get_size=17,
            get_color=[235, 242, 255, 235],
            character_set='"auto"',
            font_family='"Noto Sans CJK SC"',
            font_weight=700,
            background=True,
            get_background_color=[10, 16, 32, 170],
            background_padding=[6, 3],
        ),
    ]
    deck = pdk.Deck(
        layers=layers,
        initial_view_state=_view_state(df),
        map_provider=None,
        tooltip={"html": "<b>{name}</b><br/>{community}<br/>警情 {n} 起 · 每平方公里 {density} 起"},
    )
    st.pydeck_chart(deck, height=560, key="overview-map")
    ramp = "".join(
        f'<span><span class="jw-swatch" style="background: rgba({c[0]},{c[1]},{c[2]},0.9)"></span>{lbl}</span>'
        for c, lbl in zip([ui.ramp_color(x) for x in (0, 0.33, 0.66, 1.0)], ["少", "", "", f"多（≥{top:.0f} 起/km²）"])
    )
    st.html(f'<div class="jw-legend">警情密度：{ramp}</div>')


def trend_chart(df: pd.DataFrame) -> None:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=df["day"], y=df["n_last_year"], name="去年同期", mode="lines",
            line=dict(color="#8ea0c4", width=2, dash="dash"),
            hovertemplate="%{x|%m-%d} 去年同期 %{y} 起<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=df["day"], y=df["n"], name="近30天", mode="lines+markers",
            line=dict(color="#3fb6ff", width=3), marker=dict(size=6),
            hovertemplate="%{x|%m-%d} 警情 %{y} 起<extra></extra>",
        )
    )
    fig.update_layout(
        template="plotly_dark",
        height=560,
        margin=dict(l=10, r=10, t=10, b=10),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(17,26,46,0.6)",
        font=dict(size=16, family="Noto Sans CJK SC, sans-serif"),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=16)),
        xaxis=dict(tickformat="%m-%d", gridcolor="#22314f"),
        yaxis=dict(title="警情（起）", gridcolor="#22314f", rangemode="tozero"),
        hovermode="x unified",
    )
    st.plotly_chart(fig, theme=None, key="overview-trend", config={"displayModeBar": False})


try:
    kpis = cached(ctx, overview.kpis, f, ctx.now)
    ui.kpi_row(kpis)
    left, right = st.columns([1.25, 1], gap="medium")
    with left:
        ui.panel_title(f"网格警情密度 · {ctx.period_label()}")
        dens = cached(ctx, overview.grid_density, f, ctx.now, live=False)
        if dens.empty:
            ui.empty_state(f"筛选条件“{ctx.scope_label()}”下没有网格")
        else:
            if int(dens["n"].sum()) == 0:
                st.caption(f"“{ctx.scope_label()}” 在 {ctx.period_label()} 内无警情")
            density_map(dens)
    with right:
        ui.panel_title("近30天警情走势 · 与去年同期对比")
        trend = cached(ctx, overview.incident_trend, f, ctx.now, live=False)
        if int(trend["n"].sum()) == 0 and int(trend["n_last_year"].sum()) == 0:
            ui.empty_state(f"“{ctx.scope_label()}” 近30天及去年同期均无警情")
        else:
            trend_chart(trend)
            this, last = int(trend["n"].sum()), int(trend["n_last_year"].sum())
            from queries.measures import change

            st.html(
                f'<div class="jw-legend">近30天共 {fmt.count(this)} 起，去年同期 {fmt.count(last)} 起，'
                f"同比 {fmt.change(change(this, last))}</div>"
            )
except DataError as err:
    ui.data_error(err)

"""警情趋势 incident trends: counts by category over the chosen period with 同比/环比
(significance-marked), the hour-of-week pattern and 到场时间 by category and place.

Clicks drill down: a category bar narrows the page to that category (``?cat=``),
a community bar to that community, a grid bar to that grid (then its profile).
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import timeutil
from dashboard.ui import fmt, plots, widgets
from dashboard.ui.frame import cached, context, drill, selection_key
from dashboard.ui.palette import ACCENT, AMBER, MUTED, PANEL_DARK, RAMP, TEXT
from queries import imports, incidents
from queries.kpi import Kpi
from queries.measures import incident_stats
from queries.vocabulary import vocabulary

ctx = context()
f = ctx.filters

VOCAB = cached(ctx, vocabulary, "incident_category", live=False)  # the station's categories, order, colours, key ones
CAT_COLORS = VOCAB.colours(plots.COLORS)
NEUTRAL = {"求助"}  # more calls for help is not bad news by itself
TOP_PLACES = 20  # bars in the response-time-by-place chart
HEAT_SCALE = [[i / (len(RAMP) - 1), f"rgb({r},{g},{b})"] for i, (r, g, b, _a) in enumerate(RAMP)]
X_FORMATS = {  # tick and hover formats of the trend chart's time axis, per grain
    "hour": ("%H时", "%m-%d %H时"),
    "day": ("%m-%d", "%Y-%m-%d"),
    "week": ("%m-%d", "%Y年第%V周"),
    "month": ("%Y-%m", "%Y年%m月"),
}


def _color(cat: str) -> str:
    return CAT_COLORS.get(cat, MUTED)


def _higher_is_better(cat: str) -> bool | None:
    return None if cat in NEUTRAL else False


def _days(w: tuple[datetime, datetime]) -> str:
    """A window as local dates, both inclusive: "2025-11-01 至 2025-11-25"."""
    if w[1] <= w[0]:
        return "—"
    first = timeutil.to_local(w[0]).date()
    last = timeutil.to_local(w[1] - timedelta(microseconds=1)).date()
    return f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"


def _cat_label() -> str:
    return "、".join(f.categories) if f.categories else ""


def _scope_text() -> str:
    cat = f"（类别：{_cat_label()}）" if f.categories else ""
    return f"“{ctx.scope_label()}”{cat} 在 {ctx.period_label()}"


def _picked(event, field: str = "customdata") -> object | None:
    """The clicked point's ``customdata`` (or another field) from a plotly selection."""
    points = (event.selection.get("points") or []) if event else []
    if not points:
        return None
    v = points[0].get(field)
    if isinstance(v, (list, tuple)):
        v = v[0] if v else None
    return v


def _drill_categories(cats: tuple[str, ...] | None) -> None:
    """Reload this page with the category filter (``?cat=``) set to ``cats``. Never returns."""
    drill(None, categories=cats)


def _drill_category(cat: object) -> None:
    if isinstance(cat, str) and cat and (not f.categories or tuple(f.categories) != (cat,)):
        _drill_categories((cat,))


def category_bar(comp: incidents.CategoryComparison) -> None:
    """本期 / 去年同期 / 上期 per category, horizontal; a click narrows to that category."""
    df = comp.frame()
    cats = list(df["category"])
    shown = [plots.esc(c) for c in cats]  # drawn escaped; a click maps back through the raw customdata
    fig = go.Figure()
    for col, name, color, opacity in (
        ("n_last_year", "去年同期", MUTED, 0.55),
        ("n_previous", "上期", "#5b6b8c", 0.75),
    ):
        vals = [None if pd.isna(v) else int(v) for v in df[col]]
        if all(v is None for v in vals):
            continue
        fig.add_trace(
            go.Bar(
                y=shown, x=vals, name=name, orientation="h", marker=dict(color=color, opacity=opacity),
                customdata=cats, hovertemplate="%{y} " + name + " %{x} 起<extra></extra>",
            )
        )
    fig.add_trace(
        go.Bar(
            y=shown, x=[int(v) for v in df["n"]], name="本期", orientation="h",
            marker=dict(color=[_color(c) for c in cats]), customdata=cats,
            text=[fmt.count(v) for v in df["n"]], textposition="outside", cliponaxis=False, textfont=dict(size=15), constraintext="none",
            hovertemplate="%{y} 本期 %{x} 起（点击查看该类别）<extra></extra>",
        )
    )
    plots.style(fig, height=max(240, 46 * len(cats) + 90))
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05, legend=dict(traceorder="reversed"), margin=dict(r=70))
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=16))
    fig.update_xaxes(title=None, rangemode="tozero")
    event = plots.show(fig, key=selection_key("trends-cat"), on_select="rerun")
    _drill_category(_picked(event))


def comparison_table(comp: incidents.CategoryComparison) -> None:
    """Counts with 同比/环比 per category; a change is marked 显著 only when the Poisson test says so."""
    e = html.escape
    head = "".join(f"<th>{h}</th>" for h in ("类别", "本期", "去年同期", "同比", "上期", "环比"))
    body = []
    for cat, c in comp.rows:
        hib = _higher_is_better(cat)
        body.append(
            "<tr>"
            f'<td><span class="jw-swatch" style="background:{_color(cat)}"></span>{e(cat)}</td>'
            f"<td class=\"num\">{fmt.count(c.value)}</td>"
            f"<td class=\"num\">{fmt.count(c.yoy_base)}</td>"
            f"<td>{widgets.change_html(c.yoy, 'count', hib, c.yoy_sig)}</td>"
            f"<td class=\"num\">{fmt.count(c.pop_base)}</td>"
            f"<td>{widgets.change_html(c.pop, 'count', hib, c.pop_sig)}</td>"
            "</tr>"
        )
    t = comp.total
    body.append(
        '<tr class="jw-total"><td>合计</td>'
        f'<td class="num">{fmt.count(t.value)}</td><td class="num">{fmt.count(t.yoy_base)}</td>'
        f"<td>{widgets.change_html(t.yoy, 'count', False, t.yoy_sig)}</td>"
        f'<td class="num">{fmt.count(t.pop_base)}</td>'
        f"<td>{widgets.change_html(t.pop, 'count', False, t.pop_sig)}</td></tr>"
    )
    st.html(f'<table class="jw-trend-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')
    notes = [f"去年同期 {_days(comp.last_year)}", f"上期 {_days(comp.previous)}"]
    since = f"{timeutil.fmt_local(comp.data_since, timeutil.DAY)}" if comp.data_since else "—"
    if not comp.yoy_complete:
        notes.append(f"去年同期早于数据起始 {since}，同比不可比（—）")
    if not comp.pop_complete:
        notes.append(f"上期早于数据起始 {since}，环比不可比（—）")
    notes.append("“显著”：泊松检验表明随机波动造成该变化的概率低于5%；起数少时只显示变化、不标显著")
    st.html('<div class="jw-legend">' + " · ".join(e(n) for n in notes) + "</div>")


def trend_chart(series: pd.DataFrame, grain: str, note: str | None = None) -> None:
    """Stacked areas per category over time; with ``note`` (``plots.partial_note``)
    the last bucket is the running one (today, this week…), drawn apart."""
    tick, hover = X_FORMATS[grain]
    few = series["bucket"].nunique() < 3
    fig = go.Figure()
    totals = series.groupby("bucket", sort=True).agg(n=("n", "sum"), label=("label", "first")).reset_index()
    if note and len(totals):  # the running bucket's hover says so
        totals.loc[totals.index[-1], "label"] = f"{totals['label'].iloc[-1]}（{note}）"
    fig.add_trace(  # hover only: the bucket's own label (a cut week or month says which days) and its total
        go.Scatter(
            x=totals["bucket"], y=totals["n"], name="合计", mode="lines", line=dict(width=0), showlegend=False,
            customdata=totals["label"], hovertemplate="%{customdata}　合计 %{y} 起<extra></extra>",
        )
    )
    for cat, part in series.groupby("category", sort=False):
        plots.series_line(
            fig, part["bucket"], part["n"], note, name=plots.esc(cat), mode="lines+markers" if few else "lines",
            stackgroup="one", line=dict(width=1.2, color=_color(cat)), fillcolor=_color(cat),
            customdata=part["label"], hovertemplate="%{fullData.name} %{y} 起<extra></extra>",
        )
    if len(totals):
        plots.annotate_partial(fig, totals["bucket"].iloc[-1], int(totals["n"].iloc[-1]), note)
    plots.style(fig, height=470)
    fig.update_layout(
        hovermode="x unified",
        legend=dict(font=dict(size=14)),
        # a unified hover box takes the (transparent) paper colour: give it the panel's
        hoverlabel=dict(bgcolor=PANEL_DARK, bordercolor=ACCENT, font=dict(color=TEXT)),
    )
    fig.update_xaxes(tickformat=tick, hoverformat=hover)
    if grain == "week":  # ticks on the buckets' own starts (Mondays), not plotly's Sundays
        starts = sorted(series["bucket"].unique())
        step = 1 if len(starts) <= 14 else 2
        fig.update_xaxes(tickmode="array", tickvals=starts[::step], ticktext=[f"{pd.Timestamp(t):%m-%d}" for t in starts[::step]])
    fig.update_yaxes(title="警情（起）", rangemode="tozero")
    plots.show(fig, key="trends-series")


def heat_map(how: pd.DataFrame) -> None:
    """7 weekdays × 24 local hours."""
    z = how.pivot(index="weekday", columns="hour", values="n").reindex(index=range(7), columns=range(24)).fillna(0)
    fig = go.Figure(
        go.Heatmap(
            z=z.values, x=[f"{h}时" for h in range(24)], y=list(incidents.WEEKDAY_LABELS),
            colorscale=HEAT_SCALE, xgap=2, ygap=2, zmin=0,
            colorbar=dict(title="起", thickness=14, tick0=0, dtick=max(1, math.ceil(float(z.values.max()) / 5))),
            hovertemplate="%{y} %{x}：%{z} 起<extra></extra>",
        )
    )
    plots.style(fig, height=380, legend=False)
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=16), gridcolor="rgba(0,0,0,0)")
    fig.update_xaxes(tickfont=dict(size=13), gridcolor="rgba(0,0,0,0)", dtick=2)
    plots.show(fig, key="trends-heat")


P90_HELP = "第90百分位的到场用时，九成有到场记录的警情在此时间内到场"
P90_TITLE = f"中位数：一半警情在此时间内到场；九成用时：{P90_HELP}"


def response_bars(df: pd.DataFrame, key: str, height: int) -> object:
    """Median and p90 到场时间 per group (horizontal bars, slowest p90 first)."""
    groups = list(df["group"])
    shown = [plots.esc(g) for g in groups]  # drawn escaped; a click maps back through the raw customdata
    fig = go.Figure()
    for col, name, color in (("median_min", "中位数", ACCENT), ("p90_min", "九成用时", AMBER)):
        vals = [None if pd.isna(v) else round(float(v), 1) for v in df[col]]
        fig.add_trace(
            go.Bar(
                y=shown, x=vals, name=name, orientation="h", marker=dict(color=color), customdata=groups,
                text=[fmt.minutes(v) if v is not None else "" for v in vals], textposition="outside", cliponaxis=False,
                textfont=dict(size=14), constraintext="none",
                hovertext=[f"{int(n)} 起有到场记录" for n in df["n"]],
                hovertemplate="%{y} " + name + " %{x} 分钟 · %{hovertext}<extra></extra>",
            )
        )
    plots.style(fig, height=height)
    fig.update_layout(barmode="group", bargap=0.3, margin=dict(r=80))
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=15))
    fig.update_xaxes(title="分钟", rangemode="tozero")
    return plots.show(fig, key=selection_key(key), on_select="rerun")


def response_by_category(comp: incidents.CategoryComparison, w) -> None:
    rt = cached(ctx, incident_stats.response_times, f, w, "category", live=False)
    cats = [c for c, _ in comp.rows]
    df = pd.DataFrame({"group": cats}).merge(rt, on="group", how="left")
    df["n"] = df["n"].fillna(0).astype(int)
    if int(df["n"].sum()) == 0:
        widgets.empty_state(f"{_scope_text()} 内无到场记录")
        return
    event = response_bars(df, "trends-rt-cat", max(240, 40 * len(df) + 90))
    _drill_category(_picked(event))


def response_by_place(w) -> None:
    """By community for the whole area or a station; by grid once a community is chosen."""
    by = "community" if f.community_id is None else "grid"
    rt = cached(ctx, incident_stats.response_times, f, w, by, live=False)
    if rt.empty:
        widgets.empty_state(f"{_scope_text()} 内无到场记录")
        return
    total = len(rt)
    rt = rt.sort_values(["p90_min", "median_min"], ascending=False).head(TOP_PLACES)
    event = response_bars(rt, f"trends-rt-{by}", max(240, 40 * len(rt) + 90))
    if total > TOP_PLACES:
        st.caption(f"共 {total} 个{'社区' if by == 'community' else '网格'}，显示九成用时最慢的 {TOP_PLACES} 个（九成用时：{P90_HELP}）")
    name = _picked(event)
    if not isinstance(name, str):
        return
    cat = ctx.catalogue
    if by == "community":
        hits = [c for c in cat.communities_of(f.station_id) if c.name == name]
        if len(hits) == 1:
            drill(None, community_id=hits[0].id)
    else:
        hits = [g for g in cat.grids_of(f.community_id) if g.name == name]
        if len(hits) == 1:
            drill("grid" if f.grid_id is not None else None, grid_id=hits[0].id)


def kpis(comp: incidents.CategoryComparison) -> list[Kpi]:
    """警情总数 and the key categories (or the filter's categories) with 同比/环比."""
    shown = list(f.categories) if f.categories else [c for c in VOCAB.key_codes() if comp.get(c) is not None]
    tiles = []
    if not f.categories or len(f.categories) > 1:
        tiles.append(Kpi("total", "警情总数" if not f.categories else "所选类别合计", "count", comp.total))
    for c in shown[:6]:
        tiles.append(Kpi(f"cat-{c}", c, "count", comp.get(c), higher_is_better=_higher_is_better(c)))
    return tiles


def category_filter_bar() -> None:
    """The page's category filter (``?cat=``) with a way back to all categories."""
    if not f.categories:
        return
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.html(f'<div class="jw-note">类别筛选：<b>{html.escape(_cat_label())}</b>（点击类别柱可切换）</div>')
    if right.button("清除类别筛选", key="trends-clear-cat", width="stretch"):
        _drill_categories(None)


w = f.window(ctx.now)
if w is None:
    widgets.empty_state("未选择时段")
    st.stop()
category_filter_bar()
comp = None  # the by-category comparison several parts share: without it they wait for the retry
with widgets.section():
    comp = cached(ctx, incidents.by_category_compared, f, w, f.period, live=False)
    widgets.kpi_row(kpis(comp), columns=6)
with widgets.section():
    widgets.outside_caption(cached(ctx, imports.outside_rows, f, "incidents", w, live=False), "起警情")
if comp is not None and not comp.total.value:
    widgets.empty_state(f"{_scope_text()} 内无警情")
    with st.columns([1, 1.2])[0]:
        comparison_table(comp)
    st.stop()
grain = incidents.trend_grain(w)
left, right = st.columns([1.45, 1], gap="medium")
with left, widgets.section():
    widgets.panel_title(f"分类警情走势 · {incidents.GRAIN_LABELS[grain]} · {ctx.period_label()}")
    series = cached(ctx, incidents.category_series, f, w, grain, live=False)
    trend_chart(series, grain, plots.partial_note(w, ctx.now, grain))
    total = f"本期警情 {fmt.count(comp.total.value)} 起 · " if comp is not None else ""
    st.html(
        f'<div class="jw-legend">{total}粒度{incidents.GRAIN_LABELS[grain]}'
        "（今日按小时，31天内按日，6个月内按周，更长按月；首尾周/月可能不完整）</div>"
    )
if comp is not None:
    with right, widgets.section():
        widgets.panel_title("分类对比 · 本期 / 去年同期 / 上期（点击类别下钻）")
        category_bar(comp)
left, right = st.columns([1, 1.2], gap="medium")
if comp is not None:
    with left, widgets.section():
        widgets.panel_title("同比 · 环比（按类别）")
        comparison_table(comp)
with right, widgets.section():
    widgets.panel_title("警情时段分布 · 星期 × 小时（北京时间）")
    heat_map(cached(ctx, incidents.hour_of_week, f, w, live=False))
left, right = st.columns([1, 1], gap="medium")
if comp is not None:
    with left, widgets.section():
        widgets.panel_title("到场时间 · 按类别（中位数 / 九成用时，点击类别下钻）", title=P90_TITLE)
        response_by_category(comp, w)
with right, widgets.section():
    level = "社区" if f.community_id is None else "网格"
    widgets.panel_title(f"到场时间 · 按{level}（中位数 / 九成用时，点击{level}下钻）", title=P90_TITLE)
    response_by_place(w)

"""The briefing's charts as plotly figures: the 领导汇报 page draws them (dark, through
``dashboard.ui.plots``), the files embed the very same figures restyled for paper
(``paper``) and exported as SVG by kaleido (``export.chart_svgs``).

Colours keep the screens' meaning (``dashboard.ui.palette``): the figure in
blue, the base period in grey, a target in red.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from dashboard.ui import fmt
from dashboard.ui.palette import ACCENT, AMBER, GREEN, MUTED, RED
from queries import patrol
from queries.briefing import SHIFTS, Briefing

FONT = "Noto Sans CJK SC, sans-serif"
PAPER_TEXT = "#1d2433"
PAPER_GRID = "#d5dae3"
PAPER_BASE = "#8a94a6"  # the base period on white paper (MUTED is for the dark screen)


def _esc(text: object) -> str:
    """A name that is not ours as plotly text (plotly reads HTML in every string it draws)."""
    return html.escape(str(text), quote=False)


def trend(b: Briefing) -> go.Figure:
    """Incidents per day of the period against the same days last year."""
    df = b.trend.days
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=df["day"], y=df["n_last_year"], name="去年同期", mode="lines", line=dict(color=MUTED, width=2, dash="dash")))
    fig.add_trace(go.Scatter(x=df["day"], y=df["n"], name="本期", mode="lines+markers", line=dict(color=ACCENT, width=3), marker=dict(size=5)))
    fig.update_layout(xaxis=dict(tickformat="%m-%d"), yaxis=dict(title="警情（起）", rangemode="tozero"), hovermode="x unified")
    return fig


def categories(b: Briefing) -> go.Figure:
    """Incidents per category, this period against the base the movers use
    (last year's where the data cover it, else the previous period's, else none)."""
    base = {"yoy": ("n_last_year", "去年同期"), "pop": ("n_previous", "上期")}.get(b.movers.basis)
    df = b.categories.frame()
    shown = df["n"] > 0
    if base:
        shown |= pd.to_numeric(df[base[0]]).fillna(0) > 0
    df = df[shown].sort_values("n")
    names = [_esc(c) for c in df["category"]]
    fig = go.Figure()
    if base:
        fig.add_trace(go.Bar(y=names, x=df[base[0]], name=base[1], orientation="h", marker_color=MUTED))
    fig.add_trace(go.Bar(y=names, x=df["n"], name="本期", orientation="h", marker_color=ACCENT, text=df["n"], textposition="outside"))
    fig.update_layout(barmode="group", xaxis=dict(title="警情（起）"), height=max(320, 34 * len(df) + 120))
    return fig


def _rate_bars(names: list[str], series: tuple[tuple[object, str, str], ...]) -> go.Figure:
    """Grouped bars of rates (0..1) per place: ``series`` is (values, name, colour)."""
    fig = go.Figure()
    for values, name, colour in series:
        vals = [None if v is None or v != v else float(v) for v in values]  # NaN: nothing to rate
        fig.add_trace(go.Bar(x=names, y=vals, name=name, marker_color=colour, text=[fmt.pct(v) for v in vals], textposition="outside"))
    fig.update_layout(barmode="group", yaxis=dict(tickformat=".0%", range=[0, 1.12]))
    return fig


def loop_by_community(b: Briefing) -> go.Figure:
    """按时反馈率 and 办结率 per community."""
    df = b.loop_by_community
    return _rate_bars([_esc(g) for g in df["group"]], ((df["on_time_rate"], "按时反馈率", ACCENT), (df["closure_rate"], "办结率", GREEN)))


def disputes(b: Briefing) -> go.Figure:
    """化解率 and 满意率 per community against the station's targets."""
    df = b.disputes_by_community
    fig = _rate_bars([_esc(n) for n in df["name"]], ((df["resolution_rate"], "化解率", GREEN), (df["satisfaction_rate"], "满意率", ACCENT)))
    t = b.targets.resolution
    line = dict(color=RED, width=2, dash="dash")
    fig.add_hline(y=t, line=line)
    # named in the legend: a label on the line would sit on the last bars' figures
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line, name=f"目标 {fmt.target(t)}", hoverinfo="skip"))
    return fig


def patrol_shifts(b: Briefing) -> go.Figure:
    """热点覆盖率 and 热点巡逻占比 for all day, the day shift and the night shift."""
    def values(key: str) -> list[float | None]:
        return [next(k for k in b.patrol[s] if k.key == key).compared.value for s in SHIFTS]

    names = [patrol.SHIFT_LABELS[s] for s in SHIFTS]
    return _rate_bars(names, ((values("hot_coverage"), "热点覆盖率", ACCENT), (values("hot_patrol_share"), "热点巡逻占比", AMBER)))


# (key, title, builder, height on paper in px at 96 dpi): the order of the document
CHARTS = (
    ("trend", "警情走势 · 与去年同期对比", trend, 300),
    ("categories", "警情分类 · 本期与对比期", categories, None),
    ("loop", "派单闭环 · 各社区按时反馈率与办结率", loop_by_community, 300),
    ("disputes", "矛盾纠纷 · 各社区化解率、满意率与目标", disputes, 300),
    ("patrol", "巡逻覆盖 · 白班与黑班", patrol_shifts, 280),
)
PAPER_WIDTH = 680  # px: the text width of A4 portrait at the document's margins


def figures(b: Briefing) -> dict[str, go.Figure]:
    return {key: build(b) for key, _title, build, _h in CHARTS}


def paper(fig: go.Figure, height: int | None = None) -> go.Figure:
    """The figure restyled for white paper (a copy)."""
    out = go.Figure(fig)
    out.update_layout(
        template="plotly_white",
        width=PAPER_WIDTH,
        height=height or fig.layout.height or 320,
        margin=dict(l=10, r=10, t=30, b=10),
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=dict(size=13, family=FONT, color=PAPER_TEXT),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    out.update_xaxes(gridcolor=PAPER_GRID)
    out.update_yaxes(gridcolor=PAPER_GRID)
    for tr in out.data:
        if getattr(tr, "line", None) is not None and tr.line.color == MUTED:
            tr.line.color = PAPER_BASE
        if getattr(tr, "marker", None) is not None and getattr(tr.marker, "color", None) == MUTED:
            tr.marker.color = PAPER_BASE
    return out

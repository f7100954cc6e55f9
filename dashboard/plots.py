"""Shared plotly look: dark, large type, Chinese font, no mode bar.

``style(fig)`` applies the house layout; ``show(fig, key)`` draws it with
Streamlit's theme off (so the template applies) and returns the selection
state when ``on_select`` is given. ``esc(text)`` makes a string that is not
ours safe to draw.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
import streamlit as st

FONT = "Noto Sans CJK SC, sans-serif"
GRID = "#22314f"
COLORS = ["#3fb6ff", "#ffb020", "#3ddc84", "#ff5a5f", "#b48cff", "#2ad4c8", "#ff8ad8", "#c8d64a", "#8ea0c4", "#ff9b57"]


def esc(text: object) -> str:
    """A string that is not ours (a place name, a category, a department…) as
    plotly text. Plotly reads its own HTML in every string it draws (tick labels
    of categorical axes, legend entries, hover labels, annotations, bar texts):
    ``<b>``, ``<br>``, ``<span style=…>`` (any size or colour) and ``<a href=…>``
    (a live link), and it decodes entities; escaping ``&``, ``<`` and ``>`` shows
    the string as it is (plotly does not decode ``&quot;``, so quotes stay).

    Escape what is drawn, not what a click maps back: keep the raw values in
    ``customdata`` for drill-downs, and put data into hover texts through
    ``%{y}``/``%{customdata[i]}``/``%{fullData.name}`` of escaped values, never by
    pasting it into a ``hovertemplate`` (where ``%{…}`` in a name would be read
    as a placeholder)."""
    return html.escape(str(text), quote=False)


def style(fig: go.Figure, height: int = 460, legend: bool = True) -> go.Figure:
    fig.update_layout(
        template="plotly_dark",
        height=height,
        margin=dict(l=10, r=10, t=30 if legend else 10, b=10),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(17,26,46,0.6)",
        font=dict(size=16, family=FONT),
        colorway=COLORS,
        showlegend=legend,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=15)),
        hoverlabel=dict(font=dict(size=15, family=FONT, color="#e8eefc"), bgcolor="#16213a", bordercolor="#3fb6ff"),
    )
    fig.update_xaxes(gridcolor=GRID)
    fig.update_yaxes(gridcolor=GRID)
    return fig


def show(fig: go.Figure, key: str, on_select: str = "ignore", selection_mode: Any = ("points",)) -> Any:
    """Draw ``fig``; with ``on_select="rerun"`` return the PlotlyState of the click.
    Every chart of the desk goes through here: plotly's mode bar (its tooltips are
    English: "Download plot as a png", "Zoom", "Autoscale"…) is never shown."""
    return st.plotly_chart(
        fig, theme=None, key=key, config={"displayModeBar": False}, on_select=on_select, selection_mode=selection_mode
    )

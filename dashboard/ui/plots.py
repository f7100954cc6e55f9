"""Shared plotly look: dark, large type, Chinese font, no mode bar.

``style(fig)`` applies the house layout; ``show(fig, key)`` draws it with
Streamlit's theme off (so the template applies) and returns the selection
state when ``on_select`` is given. ``esc(text)`` makes a string that is not
ours safe to draw. ``partial_note``/``series_line``/``annotate_partial`` draw
a series whose last bucket is still running (today so far) apart.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from dashboard import timeutil
from dashboard.ui.palette import ACCENT, GRID, MUTED, PANEL, SERIES, TEXT

FONT = "Noto Sans CJK SC, sans-serif"
COLORS = list(SERIES)


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
        hoverlabel=dict(font=dict(size=15, family=FONT, color=TEXT), bgcolor=PANEL, bordercolor=ACCENT),
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


# --- a last bucket that is still running -----------------------------------------------
#
# Today's count at 09:40 is a third of a day, not a collapse. Every time series whose
# last bucket is the current one (today on a daily line, this week or this month on a
# coarser one, this hour on today's hourly strip) draws it apart: the line up to the
# last finished bucket solid, the segment into the running one dashed, its marker
# hollow, with "今日截至 HH:MM" (local time of the ``now`` the figures were taken at)
# on hover and beside the point. ``partial_note`` decides (for the desk and the wall
# alike), ``series_line`` draws a trace that way, ``annotate_partial`` writes the note.

BUCKET_NOW = {"hour": "本小时", "day": "今日", "week": "本周", "month": "本月", "quarter": "本季度"}


def partial_note(window: tuple[datetime, datetime] | None, now: datetime, grain: str = "day") -> str | None:
    """"今日截至 14:30" when the series' window runs into ``now`` (so its last
    bucket, of ``grain``, is unfinished), else None (a window that ended in the
    past is complete). ``now`` is naive UTC; the time shown is local."""
    if window is None or window[1] < now or window[1] <= window[0]:
        return None
    return f"{BUCKET_NOW.get(grain, '本期')}截至 {timeutil.fmt_local(now, timeutil.CLOCK)}"


def _faded(color: str, alpha: float) -> str:
    """``color`` ("#rrggbb" or "rgb(…)") at ``alpha``, for a partial bucket's fill."""
    if color.startswith("#") and len(color) == 7:
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},{alpha})"
    if color.startswith("rgb(") and color.endswith(")"):
        return f"rgba({color[4:-1]},{alpha})"
    return color


def series_line(fig: go.Figure, x: Sequence[Any], y: Sequence[Any], note: str | None, **trace: Any) -> None:
    """Add a line (``go.Scatter`` keyword arguments in ``trace``: name, line,
    marker, mode, hovertemplate, customdata, stackgroup, fillcolor…) to ``fig``.

    With ``note`` (``partial_note``) and at least two points the last point is
    the running bucket: two traces, the finished part (solid, as asked) and the
    last segment (dashed, ending in a hollow marker, hover "… · 今日截至 HH:MM",
    no legend entry of its own: it shares the solid one's legend group). A
    stacked trace's last segment goes in a stack group of its own
    ("<group>-partial"), fed the same order of traces, so it joins the finished
    part exactly and its fill is fainter."""
    x, y = list(x), list(y)
    if note is None or len(x) < 2:
        fig.add_trace(go.Scatter(x=x, y=y, **trace))
        return
    name = trace.get("name")
    group = trace.pop("legendgroup", None) or name
    custom = trace.pop("customdata", None)
    custom = list(custom) if custom is not None else None
    hover = trace.get("hovertemplate")
    line = dict(trace.get("line") or {})
    color = line.get("color")
    done = dict(trace, legendgroup=group)
    fig.add_trace(go.Scatter(x=x[:-1], y=y[:-1], customdata=custom[:-1] if custom else None, **done))
    part = dict(trace, legendgroup=group, showlegend=False, mode="lines+markers")
    part["line"] = dict(line, dash="dash")
    marker = dict(trace.get("marker") or {})
    size = marker.get("size", 6)
    part["marker"] = dict(
        marker, symbol=["circle", "circle-open"], size=[0, max(10, size + 4)],
        line=dict(width=2, color=color) if color else dict(width=2), color=color,
    )
    if trace.get("stackgroup"):
        part["stackgroup"] = f"{trace['stackgroup']}-partial"
        if trace.get("fillcolor"):
            part["fillcolor"] = _faded(trace["fillcolor"], 0.35)
    # the segment's first point repeats the finished part's last one: no second hover there
    part["hoverinfo"] = ["skip", "all"]
    if hover:
        head, sep, extra = hover.partition("<extra>")
        part["hovertemplate"] = ["", f"{head}（{esc(note)}）{sep}{extra}"]
    else:
        part["hovertext"] = ["", note]
    fig.add_trace(go.Scatter(x=x[-2:], y=y[-2:], customdata=custom[-2:] if custom else None, **part))


def annotate_partial(fig: go.Figure, x: Any, y: Any, note: str | None) -> None:
    """The note beside the running bucket's point (top of a stack, or the line's end)."""
    if note is None:
        return
    fig.add_annotation(
        x=x, y=y, text=esc(note), showarrow=True, arrowhead=0, arrowwidth=1, arrowcolor=MUTED,
        ax=-30, ay=-34, xanchor="right", font=dict(size=13, color=TEXT), bgcolor="rgba(10,16,32,0.75)",
    )


def partial_bar_marker(colors: Sequence[str], note: str | None) -> dict[str, Any]:
    """A bar trace's ``marker``: with ``note`` the last bar (the running bucket,
    e.g. this week so far) is hatched, faint and outlined, the others as given."""
    colors = list(colors)
    if note is None or not colors:
        return dict(color=colors)
    n = len(colors)
    return dict(
        color=colors, opacity=[1.0] * (n - 1) + [0.5],
        pattern=dict(shape=[""] * (n - 1) + ["/"], fgcolor=TEXT, size=8),
        line=dict(width=[0] * (n - 1) + [2], color=colors),
    )

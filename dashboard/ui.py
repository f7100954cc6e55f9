"""Shared UI pieces: theme, KPI tiles, empty states, error banners."""

from __future__ import annotations

import html
from pathlib import Path

import streamlit as st

from dashboard import fmt
from dashboard.config import PROJECT_ROOT
from dashboard.database import DataError

CSS_PATH = PROJECT_ROOT / "assets" / "style.css"

# Density ramp for maps (plasma-like, no muddy middle on a dark background):
# deep blue (quiet) → purple → rose → orange → yellow (busy). RGBA.
RAMP = [
    (35, 30, 140, 165),
    (106, 20, 168, 175),
    (177, 42, 144, 185),
    (225, 100, 98, 195),
    (252, 166, 54, 205),
    (240, 230, 60, 215),
]


@st.cache_data(show_spinner=False)
def _css(path: str, mtime: float) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_css() -> None:
    st.html(f"<style>{_css(str(CSS_PATH), CSS_PATH.stat().st_mtime)}</style>")


def _cmp_class(x: float | None, higher_is_better: bool | None) -> str:
    """Colour of a change: green when good news, red when bad, plain when neither."""
    if x is None or round(x * 100, 1) == 0 or higher_is_better is None:
        return "jw-flat"
    up = x > 0
    good = up == higher_is_better
    return ("jw-up-" if up else "jw-down-") + ("good" if good else "bad")


def kpi_tile(label: str, value: str, *, yoy: str, yoy_cls: str, pop: str, pop_cls: str, detail: str | None = None, alarm: bool = False) -> str:
    """HTML of one KPI tile (escaped)."""
    e = html.escape
    det = f'<span class="jw-kpi-detail">{e(detail)}</span>' if detail else ""
    return (
        f'<div class="jw-kpi{" alarm" if alarm else ""}" data-kpi="{e(label)}">'
        f'<div class="jw-kpi-label">{e(label)}</div>'
        f'<div class="jw-kpi-value">{e(value)}{det}</div>'
        f'<div class="jw-kpi-cmp">同比 <span class="{yoy_cls}">{e(yoy)}</span></div>'
        f'<div class="jw-kpi-cmp">环比 <span class="{pop_cls}">{e(pop)}</span></div>'
        "</div>"
    )


def kpi_row(kpis) -> None:  # noqa: ANN001 - list[queries.overview.Kpi]
    tiles = []
    for k in kpis:
        c = k.compared
        value = fmt.pct(c.value) if k.kind == "rate" else fmt.count(c.value)
        tiles.append(
            kpi_tile(
                k.label,
                value,
                yoy=fmt.change(c.yoy, k.kind),
                yoy_cls=_cmp_class(c.yoy, k.higher_is_better),
                pop=fmt.change(c.pop, k.kind),
                pop_cls=_cmp_class(c.pop, k.higher_is_better),
                detail=k.detail,
                alarm=k.alarm,
            )
        )
    st.html('<div class="jw-kpi-row">' + "".join(tiles) + "</div>")


def header(title: str, subtitle: str) -> None:
    st.html(
        f'<div class="jw-header"><span class="jw-title">{html.escape(title)}</span>'
        f'<span class="jw-sub">{html.escape(subtitle)}</span></div>'
    )


def panel_title(text: str) -> None:
    st.html(f'<div class="jw-panel-title">{html.escape(text)}</div>')


def empty_state(reason: str) -> None:
    """无数据, with the filter that caused it."""
    st.html(f'<div class="jw-empty"><b>无数据</b>{html.escape(reason)}</div>')


def data_error(err: DataError) -> None:
    """A data-source problem, in Chinese, without a traceback."""
    st.error(err.zh, icon="⚠️")


def ramp_color(t: float) -> list[int]:
    """Colour for t in [0, 1] on the density ramp."""
    t = min(max(t, 0.0), 1.0)
    i = min(int(t * (len(RAMP) - 1)), len(RAMP) - 2)
    frac = t * (len(RAMP) - 1) - i
    a, b = RAMP[i], RAMP[i + 1]
    return [int(round(a[j] + (b[j] - a[j]) * frac)) for j in range(4)]

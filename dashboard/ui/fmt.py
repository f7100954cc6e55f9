"""Numbers and changes formatted the Chinese way, for the screen.

Unknown values (a zero base, nothing due) are shown as "—", never ∞ or NaN.
"""

from __future__ import annotations

import math

DASH = "—"


def _unknown(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def count(n: float | None) -> str:
    """1234 → "1,234"; 12345 → "1.23万"; 123456789 → "1.23亿"."""
    if _unknown(n):
        return DASH
    n = float(n)
    if abs(n) >= 1e8:
        return f"{n / 1e8:.2f}亿"
    if abs(n) >= 1e4:
        return f"{n / 1e4:.2f}万"
    return f"{int(round(n)):,}"


def pct(x: float | None, digits: int = 1) -> str:
    """0.9623 → "96.2%"."""
    return DASH if _unknown(x) else f"{x * 100:.{digits}f}%"


def target(x: float) -> str:
    """A target share as the station wrote it: 0.95 → "95%", 0.925 → "92.5%"."""
    return f"{round(x * 100, 4):g}%"


def kpi_value(kind: str, x: float | None) -> str:
    """A tile's figure: a rate as "96.2%", hours (平均处置时长) with one decimal
    ("56.7"), every other kind as ``count``."""
    if kind == "rate":
        return pct(x)
    if kind == "hours":
        return DASH if _unknown(x) else f"{x:.1f}"
    return count(x)


def change(x: float | None, kind: str = "count") -> str:
    """A 同比/环比 value: relative for counts ("↑12.5%"), points for rates ("↑1.2个百分点")."""
    if _unknown(x):
        return DASH
    if kind == "rate":
        v = x * 100
        if round(v, 1) == 0:
            return "持平"
        return f"{'↑' if v > 0 else '↓'}{abs(v):.1f}个百分点"
    v = x * 100
    if round(v, 1) == 0:
        return "持平"
    return f"{'↑' if v > 0 else '↓'}{abs(v):.1f}%"


def change_marked(x: float | None, kind: str = "count", sig: bool = False) -> str:
    """``change`` for tables and tooltips: "↑35.0%（显著）" when a Poisson test says so."""
    out = change(x, kind)
    return f"{out}（显著）" if sig and not _unknown(x) else out


def minutes(m: float | None) -> str:
    """Minutes as "8.5分钟" or "1.2小时"."""
    if _unknown(m):
        return DASH
    return f"{m:.1f}分钟" if m < 90 else f"{m / 60:.1f}小时"

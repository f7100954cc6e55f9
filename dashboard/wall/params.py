"""The wall's own URL parameters, decoded once into a frozen ``WallParams``.

The way ``dashboard.filters.decode`` reads the filters: a plain mapping in
(``st.query_params.to_dict()``), a value and the warnings about what was
ignored out, nothing lost and nothing raised. The filters themselves
(``community``, ``grid``, ``cat``) are the frame's; these are the wall's:

- ``view=dispatch`` pins one view; ``rotate=overview:60,dispatch:30`` cycles
  (``dashboard.wall.rotation``);
- ``scale=1.5`` multiplies the type size (0.5–3);
- ``sound=1`` chimes on a new alarm (default: DASHBOARD_ALARM_SOUND);
- ``reload=04:00`` / ``reload=off`` overrides DASHBOARD_WALL_RELOAD_AT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time as dt_time

from dashboard.config import Settings, parse_time_of_day
from dashboard.wall import rotation

MIN_SCALE, MAX_SCALE = 0.5, 3.0


@dataclass(frozen=True)
class WallParams:
    scale: float = 1.0
    pinned: str = rotation.DEFAULT_VIEW
    steps: tuple[rotation.Step, ...] = ()
    reload_at: dt_time | None = None
    sound: bool = False

    def position(self, at_epoch_s: float) -> rotation.Position:
        """The view the wall shows at ``at_epoch_s`` (``rotation.position``)."""
        return rotation.position(list(self.steps), self.pinned, at_epoch_s)


def _scale(raw: str | None) -> tuple[float, str | None]:
    if raw in (None, ""):
        return 1.0, None
    try:
        v = float(str(raw)[:8])
    except ValueError:
        v = float("nan")
    if not MIN_SCALE <= v <= MAX_SCALE:
        return 1.0, f"已忽略无效的字号倍数 scale={str(raw)[:12]}（应为 0.5–3）"
    return v, None


def _reload(raw: str | None, default: dt_time | None) -> tuple[dt_time | None, str | None]:
    if raw in (None, ""):
        return default, None
    try:
        return parse_time_of_day(str(raw)[:8]), None
    except ValueError:
        return default, f"已忽略无效的自动刷新时间 reload={str(raw)[:12]}（应为 时:分 或 off）"


def _sound(raw: str | None, default: bool) -> bool:
    return default if raw in (None, "") else str(raw) not in ("0", "off", "false", "no")


def decode(query: Mapping[str, str], settings: Settings) -> tuple[WallParams, list[str]]:
    """The wall's parameters from the URL, with a warning (in Chinese) for each
    value that was ignored; the settings give the defaults."""
    scale, scale_warning = _scale(query.get("scale"))
    pinned, view_warning = rotation.parse_view(query.get("view"))
    steps, rotate_warnings = rotation.parse_rotate(query.get("rotate"))
    reload_at, reload_warning = _reload(query.get("reload"), settings.wall_reload_at)
    params = WallParams(scale, pinned, tuple(steps), reload_at, _sound(query.get("sound"), settings.alarm_sound))
    warnings = [w for w in (scale_warning, view_warning, reload_warning) if w] + list(rotate_warnings)
    return params, warnings

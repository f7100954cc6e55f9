"""The one palette of the screens (dark background, seen from metres away).
The CSS in ``assets/style.css`` names the same colours (``--jw-red`` …).

Meaning is fixed: red is bad or alarming (超期, 未化解, 特急), amber is a warning
or waiting (待研判, 紧急, 升级), green is done or good (已办结, 化解, 在线),
the accent blue is the figure itself or "in progress"."""

from __future__ import annotations

ACCENT = "#3fb6ff"  # the figure; in progress
AMBER = "#ffb020"  # waiting, a warning
GREEN = "#3ddc84"  # done, good
RED = "#ff5a5f"  # bad, an alarm
VIOLET = "#b48cff"  # a fourth state (已反馈)
MUTED = "#8ea0c4"  # secondary lines, the previous period
TEXT = "#e8eefc"  # text on the dark background
GUIDE = "#c3cfe8"  # a reference line (a baseline's mean)
GRID = "#22314f"  # chart grid lines
PANEL = "#16213a"  # a hover label's background
PANEL_DARK = "#111a2e"
RED_DEEP = "#c8373c"  # under white text (a table cell): the red, dark enough to read
AMBER_DEEP = "#b97b06"
WHITE = "#ffffff"

# Chart series in order (categories without a colour of their own in the vocabulary).
SERIES = (ACCENT, AMBER, GREEN, RED, VIOLET, "#2ad4c8", "#ff8ad8", "#c8d64a", MUTED, "#ff9b57")

# Density ramp for maps (plasma-like, no muddy middle on a dark background):
# deep blue (quiet) → purple → rose → orange → yellow (busy). RGBA.
RAMP = (
    (35, 30, 140, 165),
    (106, 20, 168, 175),
    (177, 42, 144, 185),
    (225, 100, 98, 195),
    (252, 166, 54, 205),
    (240, 230, 60, 215),
)

# Patrol minutes on a police-blue ramp (dark navy → cyan), so the amber and red
# hot-spot outlines stay readable on top of it.
PATROL_RAMP = ((28, 46, 96, 150), (34, 92, 170, 175), (40, 150, 225, 200), (110, 220, 255, 220))


def rgba(hex_colour: str, alpha: int = 255) -> list[int]:
    """``"#ff5a5f"`` → ``[255, 90, 95, alpha]`` (pydeck's colour form)."""
    h = hex_colour.lstrip("#")
    return [int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha]

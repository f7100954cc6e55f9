"""The grid map as a static SVG for paper: each grid shaded by incident density
on the desk's fixed scale (``maps.INCIDENT_DENSITY``, as 总览's map), the grids
under early warning outlined in red and numbered, drawn from the boundaries
alone (no tiles: nothing is fetched, and the WebGL map cannot be printed).

Lon/lat are projected equirectangularly about the area's mean latitude, which
for a station's few kilometres is true to shape; holes and MultiPolygons are
drawn with the even-odd rule.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from dashboard import geo
from dashboard.ui import maps

WIDTH, HEIGHT = 680, 460  # px: the document's text width
WARN = "#d0021b"  # the warned grids' outline: a deep red that stands out on the density ramp
PAD = 12


def _project(lons: list[float], lats: list[float]):
    lat0 = math.radians(sum(lats) / len(lats))
    k = math.cos(lat0)
    x0, x1 = min(lons) * k, max(lons) * k
    y0, y1 = min(lats), max(lats)
    scale = min((WIDTH - 2 * PAD) / max(x1 - x0, 1e-9), (HEIGHT - 2 * PAD) / max(y1 - y0, 1e-9))
    ox = PAD + ((WIDTH - 2 * PAD) - (x1 - x0) * scale) / 2
    oy = PAD + ((HEIGHT - 2 * PAD) - (y1 - y0) * scale) / 2

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return ox + (lon * k - x0) * scale, oy + (y1 - lat) * scale

    return xy


def density_svg(density: pd.DataFrame, days: float, warned: set[int] | frozenset[int] = frozenset()) -> str:
    """``overview.grid_density`` rows as an SVG document (text); ``warned``: grid ids under warning."""
    if density.empty:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="60"><text x="10" y="35" font-size="14">无网格</text></svg>'
    shapes = [(r, maps.polygons(r.boundary_geojson)) for r in density.itertuples()]
    lons = [p[0] for _, parts in shapes for part in parts for p in part[0]]
    lats = [p[1] for _, parts in shapes for part in parts for p in part[0]]
    xy = _project(lons, lats)
    scale = maps.INCIDENT_DENSITY
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Noto Sans CJK SC, sans-serif">']
    labels, outlines = [], []
    for r, parts in shapes:
        rate = maps.per_km2_day(r.n, r.area_km2, days)
        c = scale.color(rate)
        d = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (xy(lon, lat) for lon, lat in ring)) + " Z" for part in parts for ring in part)
        out.append(
            f'<path d="{d}" fill="rgb({c[0]},{c[1]},{c[2]})" fill-opacity="0.85" fill-rule="evenodd" stroke="#ffffff" stroke-width="0.8">'
            f"<title>{html.escape(str(r.name))}</title></path>"
        )
        if int(r.grid_id) in warned:  # drawn last, over the neighbours' white edges
            outlines.append(f'<path d="{d}" fill="none" fill-rule="evenodd" stroke="{WARN}" stroke-width="3.5" stroke-linejoin="round"/>')
            lat, lon = geo.label_point(r.boundary_geojson)
            x, y = xy(lon, lat)
            name = html.escape(str(r.name))
            w = 12 * len(str(r.name)) + 8  # CJK glyphs are one em wide
            labels.append(
                f'<rect x="{x - w / 2:.1f}" y="{y - 10:.1f}" width="{w}" height="18" rx="3" fill="#ffffff" fill-opacity="0.9"/>'
                f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="12" font-weight="bold" text-anchor="middle" fill="#1d2433">{name}</text>'
            )
    out += outlines
    out += labels
    out.append("</svg>")
    return "".join(out)


def legend_html(days: float) -> str:
    """The map's legend as HTML for paper: the scale's swatches and the red outline."""
    items = "".join(
        f'<span class="sw" style="background:rgb({c[0]},{c[1]},{c[2]})"></span>{html.escape(t)} ' for c, t in maps.INCIDENT_DENSITY.legend_items()
    )
    s = maps.INCIDENT_DENSITY
    return (
        f'<div class="legend">{s.label}（{s.unit}，按 {maps.rate_text(days)} 天折算）：{items}'
        f'<span class="sw warn"></span>红框：预警网格</div>'
    )

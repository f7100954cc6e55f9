"""Shared pydeck pieces: offline decks (``map_provider=None``, no ``map_style``:
nothing leaves the machine), the view that fits a set of grids, grid outline
and community label layers, and the optional intranet base map.

Pages build their own data layers and pass them to ``deck`` with these.

Geometry is drawn whole: a grid's boundary may be a Polygon or a MultiPolygon
with holes. deck.gl's PolygonLayer takes one polygon per row as a list of
rings (outer first, then its holes, whose outlines it strokes too), so a
MultiPolygon becomes one row per part, every row carrying the same grid_id,
name, tooltip fields and fill (``polygons``, ``part_rows``); views fit every
part (``rings``).

Labels (``area_label_records``) sit at the pole of inaccessibility of their
area (``geo.label_anchor``: a grid's own geometry; a community's or a
station's the union of its grids), never at the mean of grid centres, and are
sized for the map's initial view: the label's box (its text plus the
background's padding) must lie inside its area at that zoom (holes and
neighbours excluded): at once if it fits the largest inscribed circle, else
by testing the box against the geometry. Each label takes the largest font
size from its nominal size down to ``LABEL_MIN_PX`` that fits; an area too
small to hold even that gets no label at all (its tooltip still names it).
Boxes inside disjoint areas cannot overlap; a last greedy pass (roomiest
first) drops any label whose box would overlap one already placed, for areas
that overlap. With 400 small grids on one map this leaves few or no labels,
never a heap of them. The rule is applied to the initial view only: deck.gl
draws text in pixels, so zooming in spreads the labels apart (none are
added), zooming out may bring them closer.

The base map (``DASHBOARD_TILE_URL``, an XYZ template) is drawn as one
BitmapLayer per tile, the tiles chosen here for the deck's initial view.
deck.gl's own TileLayer cannot be used: it needs a ``renderSubLayers``
function, and the JSON that ``st.pydeck_chart`` sends is converted by
@deck.gl/json, whose ``"@@="`` expressions may not call functions or
construct layers (Streamlit 1.67's converter rejects call expressions), so
no BitmapLayer can be made per tile in the browser. The TerrainLayer, which
tiles by itself, decodes in a loaders.gl worker fetched from a CDN. Tiles
are therefore listed up front: the view's zoom level over a box larger than
any of our maps, on top of a level three steps coarser over four times that
box, so panning and zooming out stay covered (zooming in magnifies them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import pydeck as pdk
import shapely
from shapely.geometry.base import BaseGeometry

from dashboard import geo
from dashboard.config import TileSource, load_settings
from dashboard.ui.palette import PATROL_RAMP, RAMP

# --- fixed colour scales: a grid's colour depends on its own rate only ---------------
#
# Every shaded map colours a place by a rate per km² per day (a count over the
# place's area and the window's length), on a scale fixed per measure: the same
# rate gets the same colour whatever else is on the map, so one grid alone, or
# the busiest of a quiet month, is not "maximum" unless its rate is. The
# breakpoints were read off the demo world (station scale, 14 months): over 30
# days, grids' incidents per km² per day run 0–5.7 (median 1.1, p90 2.3,
# p95 3.6); over a year 0.2–5.9; patrol minutes per km² per day in visited H3
# cells 22–1,840 for one day (median 160, p90 520) and 0.5–400 over a year
# (median 65); the wall's GPS fixes per km² today 11–920 (median 80, p90 260,
# about half the minutes: the demo counts 2 minutes per fix). The top break is where the
# ramp ends; anything above it has the top colour.



@dataclass(frozen=True)
class RateScale:
    """A fixed colour scale for one measure, in ``unit`` (per km² per day).

    ``breaks`` ascend from 0; the colour runs along ``ramp`` linearly between
    consecutive breaks (each break at an equal step of the ramp), so the
    legend's swatches at the breaks are exactly the colours on the map."""

    label: str
    unit: str
    breaks: tuple[float, ...]
    ramp: tuple[tuple[int, int, int, int], ...]

    def position(self, rate: float | None) -> float:
        """Where ``rate`` lies on the ramp, 0..1 (None or negative → 0)."""
        b = self.breaks
        if rate is None or not rate > b[0]:  # also NaN
            return 0.0
        if rate >= b[-1]:
            return 1.0
        i = next(k for k in range(len(b) - 1) if rate < b[k + 1])
        return (i + (rate - b[i]) / (b[i + 1] - b[i])) / (len(b) - 1)

    def color(self, rate: float | None) -> list[int]:
        """[r, g, b, a] for ``rate``."""
        return ramp_at(self.ramp, self.position(rate))

    def legend_items(self) -> list[tuple[list[int], str]]:
        """(colour, number) at each break, the last as "≥N"."""
        out = []
        for k, v in enumerate(self.breaks):
            num = rate_text(v)
            out.append((self.color(v), f"≥{num}" if k == len(self.breaks) - 1 else num))
        return out

    def legend_html(self) -> str:
        """The legend: the measure, a swatch per break with its number, the unit."""
        sw = "".join(
            f'<span class="jw-scale-step" data-break="{b}" style="margin-right:.45rem"><span class="jw-swatch" style="background: rgba({c[0]},{c[1]},{c[2]},0.9)"></span>{t}</span>'
            for (c, t), b in zip(self.legend_items(), self.breaks)
        )
        return f'<span class="jw-scale" data-unit="{self.unit}">{self.label}（{self.unit}）：{sw}</span>'


def ramp_at(ramp: tuple[tuple[int, int, int, int], ...] | list, t: float) -> list[int]:
    """Colour at t in [0, 1] along ``ramp`` (RGBA stops at equal steps)."""
    t = min(max(t, 0.0), 1.0)
    i = min(int(t * (len(ramp) - 1)), len(ramp) - 2)
    frac = t * (len(ramp) - 1) - i
    a, b = ramp[i], ramp[i + 1]
    return [int(round(a[j] + (b[j] - a[j]) * frac)) for j in range(4)]


def rate_text(v: float) -> str:
    """A rate as the legend and tooltips write it: 0, 0.5, 1, 2.4, 50, 1,200."""
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.0f}"
    return f"{v:.1f}".rstrip("0").rstrip(".") if v else "0"


# One scale per measure, in one place.
INCIDENT_DENSITY = RateScale("警情密度", "起/km²·日", (0.0, 0.5, 1.0, 2.0, 4.0), tuple(RAMP))
PATROL_MINUTES = RateScale("巡逻强度", "分钟/km²·日", (0.0, 50.0, 100.0, 200.0, 400.0), PATROL_RAMP)
PATROL_FIXES = RateScale("巡逻定位点密度", "个/km²·日", (0.0, 25.0, 50.0, 100.0, 200.0), PATROL_RAMP)


def window_days(window: tuple[datetime, datetime] | None) -> float:
    """The window's length in days, the denominator of every "per day" rate. A
    window shorter than a day (today until 00:30) counts as one whole day, so a
    day's first hours are not blown up to a daily rate."""
    if window is None:
        return 1.0
    return max(1.0, (window[1] - window[0]) / timedelta(days=1))


def per_km2_day(count: float, area_km2: float | None, days: float) -> float:
    """``count`` per km² per day (0 for a place without an area)."""
    if not area_km2 or area_km2 <= 0 or days <= 0 or not count:
        return 0.0
    return float(count) / float(area_km2) / float(days)


LABEL_FONT = '"Noto Sans CJK SC"'  # quoted: pydeck reads bare strings as JavaScript
LABEL_MIN_PX = 11  # the smallest label text drawn (px); an area with less room gets none
LABEL_PADDING_PX = (6, 3)  # the label background's padding, x and y (each side)

Polygon = list[list[list[float]]]  # deck.gl's polygon: rings [outer, hole, ...] of [lon, lat]


def polygons(geojson: str | dict) -> list[Polygon]:
    """Every part of a GeoJSON Polygon or MultiPolygon (geometry or Feature, text
    or dict) as deck.gl polygons: one list of rings [outer, hole1, ...] per part."""
    g = json.loads(geojson) if isinstance(geojson, str) else geojson
    if g.get("type") == "Feature":
        g = g["geometry"]
    if g["type"] == "Polygon":
        parts = [g["coordinates"]]
    elif g["type"] == "MultiPolygon":
        parts = g["coordinates"]
    else:
        raise ValueError(f"expected a Polygon or MultiPolygon geometry, got {g['type']!r}")
    return [[[[float(p[0]), float(p[1])] for p in ring] for ring in part] for part in parts if part and part[0]]


def rings(geojson_texts: Iterable[str]) -> list[list[list[float]]]:
    """The outer ring ([[lon, lat], ...]) of every part of every geometry: what a
    view must fit (holes lie inside their outer ring)."""
    return [part[0] for g in geojson_texts for part in polygons(g)]


def part_rows(geojson_texts: Iterable[str], records: Iterable[dict]) -> list[dict]:
    """PolygonLayer rows: for each geometry and its record, one row per part
    ("polygon": [outer, hole, ...]) carrying a copy of the record (grid_id,
    names, tooltip fields, fill), so every part draws, picks and tells alike."""
    return [{**rec, "polygon": part} for g, rec in zip(geojson_texts, records) for part in polygons(g)]


def view_state(polygons: Iterable[list[list[float]]], width_px: int = 1100, height_px: int = 560, max_zoom: float = 16) -> pdk.ViewState:
    """Centre and zoom that fit every ring of ``polygons`` into width × height pixels."""
    lons, lats = [], []
    for ring in polygons:
        lons += [p[0] for p in ring]
        lats += [p[1] for p in ring]
    if not lons:
        return pdk.ViewState(longitude=119.55, latitude=26.66, zoom=12, pitch=0, bearing=0)
    lon_span = max(max(lons) - min(lons), 1e-3)
    lat_span = max(max(lats) - min(lats), 1e-3)
    # deck.gl's world is 512 px wide at zoom 0; Mercator stretches latitude by 1/cos(lat).
    stretch = 1 / math.cos(math.radians((max(lats) + min(lats)) / 2))
    zoom = math.log2(min(width_px * 360 / (512 * lon_span * 1.1), height_px * 360 / (512 * lat_span * stretch * 1.1)))
    return pdk.ViewState(
        longitude=(max(lons) + min(lons)) / 2, latitude=(max(lats) + min(lats)) / 2, zoom=min(zoom, max_zoom), pitch=0, bearing=0
    )


def grid_outline_layer(
    shapes: pd.DataFrame, layer_id: str = "grid-outline", pickable: bool = True, fill: list[int] | None = None, extra: Iterable[dict] | None = None
) -> pdk.Layer:
    """Grid boundaries from ``places.grid_shapes`` rows (grid_id, name, community,
    boundary_geojson), every part and hole; ``extra``: more fields per grid (one
    dict per row of ``shapes``, e.g. tooltip fields), copied into each part's row."""
    base = [{"grid_id": int(r.grid_id), "name": r.name, "community": r.community} for r in shapes.itertuples()]
    if extra is not None:
        base = [{**b, **x} for b, x in zip(base, extra)]
    data = part_rows(shapes["boundary_geojson"], base)
    return pdk.Layer(
        "PolygonLayer",
        id=layer_id,
        data=data,
        get_polygon="polygon",
        get_fill_color=fill or [20, 40, 80, 40],
        get_line_color=[200, 220, 255, 150],
        line_width_min_pixels=1,
        stroked=True,
        filled=True,
        pickable=pickable,
        auto_highlight=pickable,
    )


def shaded_grid_layer(rows: list[dict], layer_id: str) -> pdk.Layer:
    """Clickable grids each filled with its own colour: rows (``part_rows``) carry
    "polygon" (one part: [outer, hole, ...]) and "fill" ([r, g, b, a]) plus
    whatever the tooltip and the click handler read."""
    return pdk.Layer(
        "PolygonLayer",
        id=layer_id,
        data=rows,
        get_polygon="polygon",
        get_fill_color="fill",
        get_line_color=[200, 220, 255, 140],
        line_width_min_pixels=1,
        stroked=True,
        filled=True,
        pickable=True,
        auto_highlight=True,
    )


def _text_em(text: str) -> float:
    """The width of ``text`` in em: CJK (and full-width) characters 1, others 0.6."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in text)


def _px_per_km(zoom: float, lat: float) -> float:
    """Screen pixels per km in a deck.gl (Web Mercator) view at ``zoom`` and latitude ``lat``."""
    return 512.0 * 2.0**zoom / (360.0 * geo.KM_PER_DEG * math.cos(math.radians(lat)))


def _box_px(text: str, size: float) -> tuple[float, float]:
    """Width and height (px) of a label's box: its text plus the background's padding."""
    return _text_em(text) * size + 2 * LABEL_PADDING_PX[0], size + 2 * LABEL_PADDING_PX[1]


def fit_label_size(text: str, room_px: float, size: int, min_size: int = LABEL_MIN_PX, box_fits: Callable[[float, float], bool] | None = None) -> int | None:
    """The largest font size from ``size`` down to ``min_size`` whose label box
    lies inside a circle of radius ``room_px`` or, failing that, for which
    ``box_fits(width_px, height_px)`` says the box lies inside the area; None if none does."""
    for s in range(int(size), int(min_size) - 1, -1):
        w, h = _box_px(text, s)
        if (w / 2) ** 2 + (h / 2) ** 2 <= room_px**2 or (box_fits is not None and box_fits(w, h)):
            return s
    return None


def _box_fits_area(area: BaseGeometry, lat: float, lon: float, zoom: float) -> Callable[[float, float], bool]:
    """Does a box of w × h px centred at (lat, lon) lie inside ``area`` at ``zoom``?"""
    deg_per_px = 360.0 / (512.0 * 2.0**zoom)  # longitude; latitude shrinks by cos(lat) (Mercator)
    k = math.cos(math.radians(lat))

    def fits(w: float, h: float) -> bool:
        dx, dy = w / 2 * deg_per_px, h / 2 * deg_per_px * k
        return bool(area.contains(shapely.box(lon - dx, lat - dy, lon + dx, lat + dy)))

    return fits


Anchor = tuple[float, float, float]  # geo.label_anchor: lat, lon, radius_km


def area_label_records(items: Iterable[tuple[str, Anchor, BaseGeometry | None]], view: pdk.ViewState, size: int, min_size: int = LABEL_MIN_PX) -> list[dict]:
    """Label records (label, centroid_lon, centroid_lat, size) for ``(text,
    geo.label_anchor, area)`` items by the rule in this module's docstring for
    the initial ``view``: sized to fit inside the area (``area`` None: inside
    the anchor's circle), left out where none fits, never overlapping."""
    zoom = float(view.zoom if view.zoom is not None else 12)
    cands = []
    for text, (lat, lon, radius_km), area in items:
        room = radius_km * _px_per_km(zoom, lat)
        box_fits = _box_fits_area(area, lat, lon, zoom) if area is not None else None
        s = fit_label_size(str(text), room, size, min_size, box_fits)
        if s is not None:
            cands.append((room, str(text), lat, lon, s))
    cands.sort(key=lambda c: -c[0])
    # screen position (px) at the view's zoom: deck.gl's world is 512 px wide at zoom 0
    world = 512.0 * 2.0**zoom
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for _, text, lat, lon, s in cands:
        x = (lon + 180.0) / 360.0 * world
        y = (1.0 - math.asinh(math.tan(math.radians(max(min(lat, 85.0511), -85.0511)))) / math.pi) / 2.0 * world
        w, h = _box_px(text, s)
        hw, hh = w / 2, h / 2
        if any(abs(x - ox) < hw + ow and abs(y - oy) < hh + oh for ox, oy, ow, oh in placed):
            continue
        placed.append((x, y, hw, hh))
        out.append({"label": text, "centroid_lon": lon, "centroid_lat": lat, "size": s})
    return out


def _group_items(shapes: pd.DataFrame, key: str, names: dict | None = None) -> list[tuple[str, Anchor, BaseGeometry]]:
    """(name, anchor, area) per value of ``key`` in ``shapes``: the area is the union of its grids."""
    out = []
    for k, grp in shapes.groupby(key, sort=True):
        name = names.get(k) if names is not None else grp["community"].iloc[0]
        if name is None:
            continue
        texts = tuple(grp["boundary_geojson"])
        out.append((name, geo.union_label_anchor(texts), geo.area_shape(texts)))
    return out


def community_label_layer(shapes: pd.DataFrame, view: pdk.ViewState, size: int = 17) -> pdk.Layer:
    """Community names, each inside the union of its grids (Chinese, offline font),
    sized and thinned for ``view`` (the rule in this module's docstring)."""
    key = "community_id" if "community_id" in shapes.columns else "community"
    return label_layer(area_label_records(_group_items(shapes, key), view, size), "community-labels", size)


def grid_label_layer(shapes: pd.DataFrame, view: pdk.ViewState, layer_id: str = "grid-labels", size: int = 12) -> pdk.Layer:
    """Grid names, each at its grid's ``geo.label_anchor``, sized and thinned for ``view``."""
    items = [(r.name, geo.label_anchor(r.boundary_geojson), geo.area_shape([r.boundary_geojson])) for r in shapes.itertuples()]
    return label_layer(area_label_records(items, view, size), layer_id, size)


def place_label_layers(shapes: pd.DataFrame, station_names: dict[int, str], view: pdk.ViewState, narrowed: bool = False, size: int = 17) -> list[pdk.Layer]:
    """Labels that fit the scope: station names when several stations are shown
    (community names would crowd the map), community names within one station,
    none once the view is narrowed to a community or grid (``narrowed``); each
    inside its area and sized for ``view``, at most ``size`` px (stations one more)."""
    if narrowed or shapes.empty:
        return []
    if shapes["station_id"].nunique() > 1:
        recs = area_label_records(_group_items(shapes, "station_id", station_names), view, size + 1)
        return [label_layer(recs, "station-labels", size + 1)]
    return [community_label_layer(shapes, view, size)]


def label_layer(records: list[dict], layer_id: str, size: int = 15) -> pdk.Layer:
    """Text labels; records need label, centroid_lon, centroid_lat, and may carry
    their own "size" (px; ``area_label_records`` sets it), else ``size``."""
    sized = bool(records) and all("size" in r for r in records)
    return pdk.Layer(
        "TextLayer",
        id=layer_id,
        data=records,
        get_position=["centroid_lon", "centroid_lat"],
        get_text="label",
        get_size="size" if sized else size,
        get_color=[235, 242, 255, 235],
        character_set='"auto"',
        font_family=LABEL_FONT,
        font_weight=700,
        background=True,
        get_background_color=[10, 16, 32, 170],
        background_padding=list(LABEL_PADDING_PX),
    )


# Base map tiles cover a box of this many CSS pixels around the view's centre
# (every map on the desk pages and the wall is smaller), and a level
# COARSE_STEPS coarser covers COARSE_BOX times that box.
TILE_BOX_PX = (1600, 1000)
COARSE_STEPS = 3
COARSE_BOX = 4
_USE_SETTINGS = object()


def _tile_range(lon: float, lat: float, zoom: float, level: int, box_px: tuple[float, float]) -> tuple[range, range]:
    """Columns and rows of the XYZ tiles at ``level`` that cover box_px (CSS px)
    around (lon, lat) in a deck.gl view at ``zoom`` (deck.gl's world is 512 px at zoom 0)."""
    n = 2**level
    lat = max(min(lat, 85.0511), -85.0511)
    fx = (lon + 180.0) / 360.0
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0
    world_px = 512.0 * 2.0**zoom
    hx, hy = box_px[0] / 2 / world_px, box_px[1] / 2 / world_px
    cols = range(max(0, math.floor((fx - hx) * n)), min(n - 1, math.floor((fx + hx) * n)) + 1)
    rows = range(max(0, math.floor((fy - hy) * n)), min(n - 1, math.floor((fy + hy) * n)) + 1)
    return cols, rows


def _tile_bounds(x: int, y: int, z: int) -> list[float]:
    """[west, south, east, north] of XYZ tile (x, y, z) in degrees."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return [x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)]


def tile_url(template: str, x: int, y: int, z: int) -> str:
    """The URL of one tile: {z}, {x}, {y} (or {-y}, the TMS row) filled in."""
    return (
        template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{-y}", str(2**z - 1 - y)).replace("{y}", str(y))
    )


def base_map_layers(tiles: TileSource, view: pdk.ViewState) -> list[pdk.Layer]:
    """The base map for ``view``: one BitmapLayer per tile, coarse level first.

    The level is deck.gl TileLayer's choice for 256 px tiles (the view's zoom
    + 1, rounded), capped at the server's max zoom (tiles are then magnified).
    """
    if view.zoom is None or view.longitude is None or view.latitude is None:
        return []
    lon, lat, zoom = float(view.longitude), float(view.latitude), float(view.zoom)
    fine = max(0, min(tiles.max_zoom, round(zoom + 1)))
    coarse = max(0, fine - COARSE_STEPS)
    tint = [round(255 * tiles.brightness)] * 3
    layers = []
    plan = [(coarse, (TILE_BOX_PX[0] * COARSE_BOX, TILE_BOX_PX[1] * COARSE_BOX))] if coarse < fine else []
    for level, box in plan + [(fine, TILE_BOX_PX)]:
        cols, rows = _tile_range(lon, lat, zoom, level, box)
        for x in cols:
            for y in rows:
                layers.append(
                    pdk.Layer(
                        "BitmapLayer",
                        id=f"base-map-{level}-{x}-{y}",
                        data=None,
                        # quoted: pydeck would read a bare string as JavaScript
                        # (or, for some URLs, as a local image file to embed)
                        image=f'"{tile_url(tiles.url, x, y, level)}"',
                        bounds=_tile_bounds(x, y, level),
                        tint_color=tint,
                        pickable=False,
                    )
                )
    return layers


def deck(layers: list[pdk.Layer], view: pdk.ViewState, tooltip: dict | None = None, tiles: TileSource | None = _USE_SETTINGS) -> pdk.Deck:  # type: ignore[assignment]
    """An offline deck: no base map provider and no map style (so no request
    out). With a tile server configured (``tiles``, by default the settings'
    ``DASHBOARD_TILE_URL``) its tiles lie under ``layers``."""
    if tiles is _USE_SETTINGS:
        tiles = load_settings().tiles
    if tiles is not None:
        layers = [*base_map_layers(tiles, view), *layers]
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, tooltip=tooltip or False)

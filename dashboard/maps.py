"""Shared pydeck pieces: offline decks (``map_provider=None``, no ``map_style``:
nothing leaves the machine), the view that fits a set of grids, grid outline
and community label layers, and the optional intranet base map.

Pages build their own data layers and pass them to ``deck`` with these.

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
from collections.abc import Iterable

import pandas as pd
import pydeck as pdk

from dashboard.config import TileSource, load_settings

LABEL_FONT = '"Noto Sans CJK SC"'  # quoted: pydeck reads bare strings as JavaScript


def rings(geojson_texts: Iterable[str]) -> list[list[list[float]]]:
    """Outer rings ([[lon, lat], ...]) of GeoJSON Polygon texts."""
    return [json.loads(g)["coordinates"][0] for g in geojson_texts]


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


def grid_outline_layer(shapes: pd.DataFrame, layer_id: str = "grid-outline", pickable: bool = True, fill: list[int] | None = None) -> pdk.Layer:
    """Grid boundaries from ``places.grid_shapes`` rows (grid_id, name, community, boundary_geojson)."""
    data = [
        {"polygon": ring, "grid_id": int(r.grid_id), "name": r.name, "community": r.community}
        for ring, r in zip(rings(shapes["boundary_geojson"]), shapes.itertuples())
    ]
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
    """Clickable grids each filled with its own colour: rows carry "polygon"
    (an outer ring) and "fill" ([r, g, b, a]) plus whatever the tooltip and the
    click handler read."""
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


def community_label_layer(shapes: pd.DataFrame, size: int = 17) -> pdk.Layer:
    """Community names at the mean of their grids' centroids (Chinese, offline font)."""
    labels = shapes.groupby("community", as_index=False)[["centroid_lon", "centroid_lat"]].mean()
    return label_layer(labels.rename(columns={"community": "label"}).to_dict("records"), "community-labels", size)


def place_label_layers(shapes: pd.DataFrame, station_names: dict[int, str], narrowed: bool = False) -> list[pdk.Layer]:
    """Labels that fit the scope: station names when several stations are shown
    (community names would crowd the map), community names within one station,
    none once the view is narrowed to a community or grid (``narrowed``)."""
    if narrowed or shapes.empty:
        return []
    if shapes["station_id"].nunique() > 1:
        labels = shapes.groupby("station_id", as_index=False)[["centroid_lon", "centroid_lat"]].mean()
        labels["label"] = labels["station_id"].map(station_names)
        return [label_layer(labels.to_dict("records"), "station-labels", 18)]
    return [community_label_layer(shapes)]


def label_layer(records: list[dict], layer_id: str, size: int = 15) -> pdk.Layer:
    """Text labels; records need label, centroid_lon, centroid_lat."""
    return pdk.Layer(
        "TextLayer",
        id=layer_id,
        data=records,
        get_position=["centroid_lon", "centroid_lat"],
        get_text="label",
        get_size=size,
        get_color=[235, 242, 255, 235],
        character_set='"auto"',
        font_family=LABEL_FONT,
        font_weight=700,
        background=True,
        get_background_color=[10, 16, 32, 170],
        background_padding=[6, 3],
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

"""Shared pydeck pieces: offline decks (``map_provider=None``, no ``map_style``:
nothing leaves the machine), the view that fits a set of grids, grid outline
and community label layers.

Pages build their own data layers and pass them to ``deck`` with these.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import pandas as pd
import pydeck as pdk

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


def deck(layers: list[pdk.Layer], view: pdk.ViewState, tooltip: dict | None = None) -> pdk.Deck:
    """An offline deck: no base map provider and no map style (so no request out)."""
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, tooltip=tooltip or False)

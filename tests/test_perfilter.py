"""The period filter applies to what its label claims: on the overview the density
map and the trend follow the period and equal the query functions' results for
that window; the KPI row, which answers "now", says it does not follow it. Map
colours come from fixed scales per measure (per km² per day)."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime

import h3
import pytest

from dashboard.filters import Filters, resolve_period
from dashboard.ui import maps
from queries import overview, places
from tests.apptest import html_text, open_page
from tests.conftest import FIXTURE_END

OVERVIEW = "pages/desk/overview.py"
TODAY = date(2026, 11, 20)  # FIXTURE_END's local day


def _deck(at) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert charts, "the overview drew no map"
    return json.loads(charts[0].proto.json)


def _map_counts(at) -> dict[int, int]:
    layer = next(lay for lay in _deck(at)["layers"] if lay["id"] == "grid-density")
    return {int(r["grid_id"]): int(r["n"]) for r in layer["data"]}


def _trend_total(at) -> int:

    m = re.search(r'data-total="(\d+)"', html_text(at))
    assert m, "no trend total on the page"
    return int(m.group(1))


def _expected(world, f: Filters) -> tuple[dict[int, int], int]:
    d = overview.grid_density(world, f, FIXTURE_END)
    return dict(zip(d["grid_id"].astype(int), d["n"].astype(int))), int(overview.period_trend(world, f, FIXTURE_END).total.value)


@pytest.fixture(scope="module")
def default_page(world_reader_url):
    os.environ["DATABASE_URL"] = world_reader_url
    os.environ["DASHBOARD_NOW"] = FIXTURE_END.isoformat()
    return open_page(OVERVIEW)


CASES = [
    ({"period": "custom", "start": "2026-11-01", "end": "2026-11-30"}, Filters(start=date(2026, 11, 1), end=TODAY, period="custom")),
    ({"period": "last_month"}, Filters(start=date(2026, 10, 1), end=date(2026, 10, 31), period="last_month")),
    ({"period": "last_week"}, Filters(start=date(2026, 11, 9), end=date(2026, 11, 15), period="last_week")),
]


@pytest.mark.parametrize("params, expected", CASES, ids=[c[0]["period"] for c in CASES])
def test_overview_panels_follow_the_period(app_env, monkeypatch, world, default_page, params, expected):
    monkeypatch.setenv("DASHBOARD_NOW", FIXTURE_END.isoformat())
    assert (expected.start, expected.end) == ((expected.start, expected.end) if expected.period == "custom" else resolve_period(expected.period, TODAY))
    at = open_page(OVERVIEW, params)
    assert not at.exception, at.exception
    # 11-30 is after the fixture's today: the one warning says it became today
    assert all("晚于今天" in w.value for w in at.warning), [w.value for w in at.warning]
    counts, total = _expected(world, expected)
    # the period-following panels equal the queries for that window ...
    assert _map_counts(at) == counts
    assert _trend_total(at) == total == sum(counts.values())
    # ... and differ from the default (近30天)
    assert _map_counts(at) != _map_counts(default_page)
    assert _trend_total(at) != _trend_total(default_page)
    text = html_text(at)
    trend_days = (expected.end - expected.start).days + 1
    chart = at.get("plotly_chart")[0]
    fig = json.loads(chart.proto.spec)
    # one point per day of the period (a running last day is its own dashed trace)
    days = {x for tr in fig["data"][1:] for x in tr["x"]}
    assert len(days) == trend_days
    # the fixed panel says it is fixed, with the same tiles as the default page
    assert "不随时段变化" in text
    assert [k for k in ("今日警情", "本月办结率") if k in text] == ["今日警情", "本月办结率"]
    kpi = lambda t: [line for line in t.splitlines() if 'class="jw-kpi' in line]  # noqa: E731
    assert kpi(text) and kpi(text) == kpi(html_text(default_page))


def test_default_page_titles(default_page):
    text = html_text(default_page)
    assert "实时指标 · 今日与本月，不随时段变化" in text
    assert "网格警情密度 · 近30天（10-22 至 11-20）" in text
    assert "警情走势 · 近30天（10-22 至 11-20）" in text


# --- fixed colour scales ----------------------------------------------------------------


@pytest.mark.parametrize("scale", [maps.INCIDENT_DENSITY, maps.PATROL_MINUTES, maps.PATROL_FIXES], ids=lambda s: s.unit)
def test_colour_of_a_rate_does_not_depend_on_the_other_grids(scale):
    rate = scale.breaks[1] * 1.3
    alone = [scale.color(r) for r in [rate]]
    fifty = [scale.color(r) for r in [rate] + [scale.breaks[-1] * k / 10 for k in range(49)]]
    assert alone[0] == fifty[0]
    # one grid alone is not the top colour unless its rate is
    assert alone[0] != scale.color(scale.breaks[-1]) and alone[0] != scale.ramp[-1]
    assert scale.color(scale.breaks[-1] * 5) == list(scale.ramp[-1])
    assert scale.color(0) == list(scale.ramp[0]) == scale.color(None) == scale.color(float("nan"))
    # monotone along the ramp
    pos = [scale.position(scale.breaks[-1] * k / 20) for k in range(21)]
    assert pos == sorted(pos) and pos[0] == 0 and pos[-1] == 1


def test_overview_map_colours_one_grid_alone_by_its_rate(app_env, monkeypatch, world):
    """A grid narrowed to alone keeps the colour it has among all grids."""
    monkeypatch.setenv("DASHBOARD_NOW", FIXTURE_END.isoformat())
    all_grids = open_page(OVERVIEW)
    fills = {int(r["grid_id"]): r["fill"] for r in next(lay for lay in _deck(all_grids)["layers"] if lay["id"] == "grid-density")["data"]}
    quiet = min(fills, key=lambda g: maps.INCIDENT_DENSITY.ramp.index(tuple(fills[g])) if tuple(fills[g]) in maps.INCIDENT_DENSITY.ramp else 99)

    code = next(g.code for g in places.catalogue(world).grids if g.id == quiet)
    alone = open_page(OVERVIEW, {"grid": code})
    rows = next(lay for lay in _deck(alone)["layers"] if lay["id"] == "grid-density")["data"]
    assert {int(r["grid_id"]) for r in rows} == {quiet}
    assert rows[0]["fill"] == fills[quiet]
    assert rows[0]["fill"] != list(maps.INCIDENT_DENSITY.ramp[-1]) or float(rows[0]["rate"]) >= maps.INCIDENT_DENSITY.breaks[-1]


def test_rate_per_km2_per_day():
    w = (datetime(2026, 11, 1), datetime(2026, 11, 11))
    assert maps.window_days(w) == 10
    assert maps.window_days((datetime(2026, 11, 1), datetime(2026, 11, 1, 0, 30))) == 1  # a short window counts a day
    assert maps.per_km2_day(20, 0.5, 10) == 4.0
    assert maps.per_km2_day(5, 0, 10) == 0.0 and maps.per_km2_day(5, None, 10) == 0.0
    assert maps.INCIDENT_DENSITY.color(maps.per_km2_day(20, 0.5, 10)) == list(maps.INCIDENT_DENSITY.ramp[-1])
    assert maps.INCIDENT_DENSITY.color(maps.per_km2_day(2, 0.5, 10)) == maps.INCIDENT_DENSITY.color(0.4)


def test_legend_lists_the_breakpoints_with_units():
    h = maps.INCIDENT_DENSITY.legend_html()
    for text in ("0", "0.5", "1", "2", "≥4", "起/km²·日", "警情密度"):
        assert text in h
    assert [t for _c, t in maps.INCIDENT_DENSITY.legend_items()] == ["0", "0.5", "1", "2", "≥4"]
    assert [t for _c, t in maps.PATROL_MINUTES.legend_items()] == ["0", "50", "100", "200", "≥400"]
    assert "分钟/km²·日" in maps.PATROL_MINUTES.legend_html()
    # each swatch is the colour the map gives that rate
    for c, b in zip([c for c, _t in maps.INCIDENT_DENSITY.legend_items()], maps.INCIDENT_DENSITY.breaks):
        assert c == maps.INCIDENT_DENSITY.color(b)


def test_overview_legend_on_the_page(default_page):
    text = html_text(default_page)
    assert "警情密度（起/km²·日）" in text and "≥4" in text and "0.5" in text


def test_patrol_map_cells_on_the_fixed_scale(app_env, monkeypatch):
    """The patrol page colours each visited cell by its own minutes per km² per day."""
    monkeypatch.setenv("DASHBOARD_NOW", FIXTURE_END.isoformat())
    at = open_page("pages/desk/patrol.py", {"period": "7d"})
    assert not at.exception, at.exception
    deck = _deck(at)
    cells = next(lay for lay in deck["layers"] if lay["id"] == "patrol-cells")["data"]
    assert cells
    scale = maps.PATROL_MINUTES
    for c in cells[:50]:
        rate = float(c["line2"].split()[0].replace(",", ""))
        assert c["line2"].endswith(scale.unit)
        # the colour is the scale's for the cell's own rate (shown rounded: a few units off at most)
        assert max(abs(a - b) for a, b in zip(c["fill"], scale.color(rate))) <= 4, (c, scale.color(rate))
        assert h3.is_valid_cell(c["hex"])
    assert len({tuple(c["fill"]) for c in cells}) > 1
    assert "巡逻强度（分钟/km²·日）" in html_text(at) and "≥400" in html_text(at)


def test_grid_ranking_map_legend_has_the_numbers(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_NOW", FIXTURE_END.isoformat())
    at = open_page("pages/desk/grid.py", {"period": "last_month"})
    assert not at.exception, at.exception
    text = html_text(at)
    assert "警情密度（起/km²·日）" in text and "≥4" in text and "上月 · 2026-10" in text

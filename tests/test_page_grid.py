"""The 网格画像 page: its query functions on the demo world (session backend) and
the page under AppTest (no grid → the ranking; one grid → the profile; an empty
period; bad URL values). Exact figures on a hand-built world: test_measures_grid.py."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from dashboard import mask, timeutil
from dashboard.db.schema import INCIDENT_CATEGORIES, base_records, compounds
from dashboard.filters import Filters, decode
from dashboard.ui import fmt
from queries import disputes, incidents, places, reports
from queries import grid_profile as gp
from queries._common import fetch_scalar
from queries.measures import baseline, loop, windows
from tests import apptest
from tests.apptest import html_text
from tests.conftest import FIXTURE_END

NOW = FIXTURE_END
TODAY = timeutil.local_today(NOW)
PAGE = "pages/desk/grid.py"
GRID = "WLT-C02-G01"


@pytest.fixture(scope="module")
def gid(cat):
    return cat.by_code("grid", GRID).id


def _filters(cat, params: dict[str, str]) -> Filters:
    """The Filters the frame builds from these URL parameters."""
    f, _ = decode(params, cat, TODAY, INCIDENT_CATEGORIES)
    return f


# --- queries on the demo world -------------------------------------------------------------


@pytest.mark.backend
def test_static_profile_of_one_grid(world, cat, gid):
    card = gp.grid_card(world, gid)
    assert len(card) == 1 and card.iloc[0]["code"] == GRID and card.iloc[0]["community_id"] == cat.by_id("grid", gid).parent_id
    households = fetch_scalar(world, select(func.coalesce(func.sum(compounds.c.households), 0)).where(compounds.c.grid_id == gid))
    assert int(card.iloc[0]["households"]) == int(households)
    assert int(card.iloc[0]["compounds"]) == len(gp.compounds(world, gid))

    base = gp.base_counts(world, gid)
    assert list(base["kind"]) == ["标准地址", "实有人口", "实有房屋", "实有单位"]
    assert int(base["n"].sum()) == int(fetch_scalar(world, select(func.count()).select_from(base_records).where(base_records.c.grid_id == gid)))
    assert int(base["n"].sum()) > 0

    wk = gp.workers(world, gid)
    kinds = gp.worker_kinds(world, gid)
    assert len(kinds) >= 14 and int(kinds["total"].sum()) == len(wk) > 0
    res = places.grid_resources(world, Filters(grid_id=gid)).iloc[0]
    assert int(kinds["active"].sum()) == int(wk["active"].sum()) == int(res["workers"])

    cams = gp.cameras(world, gid)
    assert len(cams) == int(res["cameras"]) and int(cams["online"].sum()) == int(res["cameras_online"])

    offs = gp.officers(world, gid)
    assert len(offs) >= 1 and offs.iloc[0]["role"] == "民警" and (offs["role"] == "民警").sum() == 1

    near = gp.neighbours(world, gid)
    assert len(near) >= 3 and gid not in set(near["grid_id"])


@pytest.mark.backend
def test_unknown_grid_gives_empty_profile(world):
    assert gp.grid_card(world, 987654).empty and gp.neighbours(world, 987654).empty
    assert gp.workers(world, 987654).empty and gp.cameras(world, 987654).empty and gp.officers(world, 987654).empty
    assert int(gp.base_counts(world, 987654)["n"].sum()) == 0 and int(gp.worker_kinds(world, 987654)["total"].sum()) == 0


@pytest.mark.parametrize("params", [{}, {"community": "WLT-C01"}, {"period": "7d", "cat": "盗窃,入室盗窃"}], ids=["all", "community", "theft7d"])
@pytest.mark.backend
def test_ranking_adds_up(world, cat, params):
    f = _filters(cat, params)
    w = f.window(NOW)
    df = gp.grid_ranking(world, f, w, NOW)
    assert len(df) == len(cat.grids_of(f.community_id))
    po = f.places_only()
    assert int(df["incidents"].sum()) == incidents.count(world, f, w)
    assert int(df["reports"].sum()) == reports.count(world, po, w)
    assert int(df["disputes"].sum()) == disputes.found_count(world, po, w)
    assert int(df["before_feedback"].sum()) == gp.before_feedback_count(world, po, NOW)
    assert int(df["overdue"].sum()) == loop.overdue_count(world, po, NOW)
    assert list(df["incidents"]) == sorted(df["incidents"], reverse=True) and list(df["rank"]) == list(range(1, len(df) + 1))


@pytest.mark.backend
def test_kpis_match_their_counts(world, cat, gid):
    f = _filters(cat, {"grid": GRID})
    w = f.window(NOW)
    k = {x.key: x for x in gp.kpis(world, f, NOW)}
    assert list(k) == ["incidents", "reports", "disputes", "before_feedback", "overdue", "cameras_online"]
    inc = k["incidents"].compared
    assert inc.value == incidents.count(world, f, w)
    assert inc.yoy_base == incidents.count(world, f, windows.last_year_window(w))
    assert inc.pop_base == incidents.count(world, f, windows.previous_window(w, f.period))
    assert k["reports"].compared.value == reports.count(world, f.places_only(), w)
    assert k["before_feedback"].compared.value == gp.before_feedback_count(world, f, NOW)
    assert k["overdue"].compared.value == loop.overdue_count(world, f, NOW)
    res = places.grid_resources(world, Filters(grid_id=gid)).iloc[0]
    assert k["cameras_online"].detail == f"{int(res['cameras_online'])}/{int(res['cameras'])}"


@pytest.mark.backend
def test_activity_agrees_with_counts(world, cat, gid):
    f = _filters(cat, {"grid": GRID})
    w = f.window(NOW)
    act = gp.activity(world, f, w)
    assert len(act) == 3 * 26 and set(act["source"]) == set(gp.ACTIVITY_SOURCES)
    inc = act[act["source"] == "incidents"]
    last = inc.iloc[-1]
    assert last["last"] == TODAY and last["first"] == TODAY - timedelta(days=6)
    assert int(last["n"]) == incidents.count(world, f, (timeutil.day_start_utc(last["first"]), NOW))
    first = inc.iloc[0]
    assert int(inc["n"].sum()) == incidents.count(world, f, (timeutil.day_start_utc(first["first"]), NOW))
    # the baseline is the mean over the usable weeks before the first one shown
    _, shown, base = baseline.activity_buckets(first["first"] + timedelta(days=25 * 7), TODAY)
    assert shown[0].first == first["first"]
    nb = int(inc["baseline_buckets"].iloc[0])
    assert 0 < nb <= 52
    used = base[-nb:]
    n_base = incidents.count(world, f, (timeutil.day_start_utc(used[0].first), timeutil.day_start_utc(used[-1].last + timedelta(days=1))))
    assert float(inc["mean"].iloc[0]) == pytest.approx(n_base / nb)
    b = baseline.Baseline(float(inc["mean"].iloc[0]), float(inc["low"].iloc[0]), float(inc["high"].iloc[0]), nb)
    assert b.high == pytest.approx(b.mean + 2 * math.sqrt(b.mean))
    assert list(inc["above"]) == [baseline.above_band(int(n), b) for n in inc["n"]]


@pytest.mark.backend
def test_lists(world, cat, gid):
    f = _filters(cat, {"grid": GRID, "period": "quarter"})
    w = f.window(NOW)
    tk = gp.before_feedback_tasks(world, Filters(community_id=f.community_id), NOW, limit=100000)
    assert len(tk) == gp.before_feedback_count(world, Filters(community_id=f.community_id), NOW) > 0
    assert int(tk["overdue"].sum()) == loop.overdue_count(world, Filters(community_id=f.community_id), NOW)
    assert list(tk["overdue"]) == sorted(tk["overdue"], reverse=True)
    rp = gp.latest_reports(world, f, w, limit=20)
    assert 0 < len(rp) <= 20
    assert rp["reported_at"].is_monotonic_decreasing
    assert (rp["reported_at"] >= w[0]).all() and (rp["reported_at"] < w[1]).all()
    assert len(gp.latest_reports(world, f, w, limit=100000)) == reports.count(world, f.places_only(), w)


# --- the page under AppTest ----------------------------------------------------------------


def open_page(params: dict[str, str]) -> AppTest:
    return apptest.open_page(PAGE, params)


def _ranking_headline(world, cat, params) -> tuple[str, int]:
    f = _filters(cat, params)
    df = gp.grid_ranking(world, f, f.window(NOW), NOW)
    return f'data-kpi="警情合计">{fmt.count(int(df["incidents"].sum()))}<', len(df)


@pytest.mark.parametrize("params", [{}, {"community": "WLT-C01"}], ids=["all", "community"])
def test_page_without_grid_shows_the_ranking(app_env, world, cat, params):
    at = open_page(params)
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    text = html_text(at)
    assert "请选择一个网格" in text
    needle, n = _ranking_headline(world, cat, params)
    assert needle in text, text[-3000:]
    assert f"共 <b>{n}</b> 个网格" in text
    table = at.dataframe[0].value
    assert len(table) == n and list(table.columns[:3]) == ["排名", "网格", "社区"]


def test_page_with_grid_shows_the_profile(app_env, world, cat, gid):
    at = open_page({"grid": GRID})
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    text = html_text(at)
    assert "请选择一个网格" not in text
    assert f'data-grid="{GRID}"' in text and cat.by_id("grid", gid).name in text
    f = _filters(cat, {"grid": GRID})
    k = {x.key: x for x in gp.kpis(world, f, NOW)}
    value = fmt.count(k["incidents"].compared.value)
    assert f'data-kpi="警情"><div class="jw-kpi-label">警情</div><div class="jw-kpi-value">{value}<' in text
    for label in ("上报", "纠纷", "在办派单", "超期", "摄像头在线率", "同比", "环比", "一标三实", "实有人口", "社区民警"):
        assert label in text, label
    base = gp.base_counts(world, gid).set_index("kind")["n"]
    assert fmt.count(int(base["实有人口"])) in text
    density = fmt.count(gp.grid_card(world, gid).iloc[0]["population_density"])
    assert f'人口密度</div><div class="jw-gp-stat-value">{density}<small>人/km²' in text
    # people are masked everywhere: tiles, tables
    offs = gp.officers(world, gid)
    wk = gp.workers(world, gid)
    shown = text + "\n".join(d.value.to_csv() for d in at.dataframe)
    for name, phone in list(zip(offs["name"], offs["phone"])) + list(zip(wk["name"], wk["phone"])):
        assert phone not in shown and mask.phone(phone) in shown
        if len(name) > 1:
            assert name not in shown
    assert mask.name(offs.iloc[0]["name"]) in text
    # the weekly chart is drawn
    assert len(at.get("plotly_chart")) == 1


def test_page_grid_with_long_period_by_month(app_env):
    at = open_page({"grid": GRID, "start": "2025-09-01", "end": "2026-11-20"})
    assert not at.exception, at.exception
    assert not at.warning
    text = html_text(at)
    assert "按月走势" in text and f'data-grid="{GRID}"' in text


@pytest.mark.parametrize("params", [{}, {"grid": GRID}], ids=["all", "grid"])
def test_page_empty_period_says_no_data(app_env, params):
    at = open_page({**params, "period": "custom", "start": "2020-01-01", "end": "2020-01-31"})
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    text = html_text(at)
    assert "无数据" in text and "01-01 至 01-31" in text  # names the period that caused it


BAD = [
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "abc"}, "未知的网格"),
    ({"start": "2025-13-45"}, "格式错误的日期"),
    ({"community": "' OR 1=1 --"}, "未知的社区"),
]


@pytest.mark.parametrize("params, needle", BAD, ids=[str(p) for p, _ in BAD])
def test_page_bad_url_values_warn_and_show_the_ranking(app_env, world, cat, params, needle):
    at = open_page(params)
    assert not at.exception, at.exception
    assert needle in " ".join(w.value for w in at.warning)
    text = html_text(at)
    assert "请选择一个网格" in text
    headline, _ = _ranking_headline(world, cat, {})  # bad values fall back to the defaults
    assert headline in text

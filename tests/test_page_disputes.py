"""The 矛盾纠纷 page: its query functions on the demo world (parts add up to the
wholes, grouped rates equal the scalar measures) and the page under AppTest
with several filters, bad URL values and the ``?dispute=`` parameter."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import mask, timeutil
from dashboard.db.schema import INCIDENT_CATEGORIES
from dashboard.filters import Filters, decode
from dashboard.ui import fmt
from queries import disputes
from queries.measures import arithmetic, mediation, windows
from tests import apptest
from tests.apptest import html_text
from tests.conftest import FIXTURE_END

NOW = FIXTURE_END
TODAY = timeutil.local_today(NOW)
PAGE = "pages/desk/disputes.py"


@pytest.fixture(scope="module")
def filter_sets(cat):
    c = cat.communities[0]
    g = cat.grids_of(c.id)[0]
    return {
        "all": Filters().with_period("30d", TODAY),
        "year": Filters().with_period("year", TODAY),
        "community": Filters(community_id=c.id).with_period("quarter", TODAY),
        "grid": Filters(community_id=c.id, grid_id=g.id).with_period("year", TODAY),
        "empty": Filters().with_period("custom", TODAY, TODAY.replace(year=2020, month=1, day=1), TODAY.replace(year=2020, month=1, day=31)),
    }


# --- query functions on the demo world ---------------------------------------------------------


@pytest.mark.backend
def test_kind_level_and_funnel_add_up(world, filter_sets):
    for name, f in filter_sets.items():
        w = f.window(NOW)
        found = disputes.found_count(world, f, w)
        kl = disputes.by_kind_level(world, f, w)
        assert int(kl["n"].sum()) == found, name
        assert set(kl["level"]) <= {1, 2, 3} and set(kl["status"]) <= {"调处中", "化解", "未化解"}
        fun = disputes.level_funnel(world, f, w).set_index("level")
        for lv in (1, 2, 3):
            row = fun.loc[lv]
            assert row["reached"] == row["resolved"] + row["unresolved"] + row["open"] + row["escalated"], (name, lv)
        # the funnel's 化解 stage is the 化解率 tile's numerator, 化解 + 未化解 its denominator
        res = mediation.resolution_rate(world, f, w)
        assert (int(fun["resolved"].sum()), int(fun["resolved"].sum() + fun["unresolved"].sum())) == (res.numerator, res.denominator), name
        if name == "empty":
            assert found == 0 and kl.empty


@pytest.mark.backend
def test_most_disputes_are_resolved_at_levels_one_and_two(world, filter_sets):
    fun = disputes.level_funnel(world, filter_sets["year"], filter_sets["year"].window(NOW))
    low = disputes.grassroots_resolution(fun)
    assert low.denominator == int(fun["resolved"].sum()) > 100
    assert low.numerator == int(fun.loc[fun["level"] <= 2, "resolved"].sum())
    assert low.value >= 0.85  # 矛盾不上交


@pytest.mark.backend
def test_grouped_rates_equal_the_scalar_measures(world, filter_sets):
    for name, f in filter_sets.items():
        w = f.window(NOW)
        for measure, scalar in (("resolution", mediation.resolution_rate), ("satisfaction", mediation.dispute_satisfaction_rate)):
            whole = scalar(world, f, w)
            for by in (None, *mediation.DISPUTE_GROUPS):
                parts = mediation.dispute_ratio_by(world, f, w, measure, by)
                assert arithmetic.Ratio(int(parts["numerator"].sum()), int(parts["denominator"].sum())) == whole, (name, measure, by)
        by = "community" if f.community_id is None else "grid"
        rates = disputes.rates_by_place(world, f, w, by)
        res, sat = mediation.resolution_rate(world, f, w), mediation.dispute_satisfaction_rate(world, f, w)
        assert (int(rates["resolved"].sum()), int(rates["closed"].sum())) == (res.numerator, res.denominator), name
        assert (int(rates["satisfied"].sum()), int(rates["visits"].sum())) == (sat.numerator, sat.denominator), name
        assert int(rates["found"].sum()) == disputes.found_count(world, f, w)
        assert (rates["resolved"] <= rates["closed"]).all() and (rates["satisfied"] <= rates["visits"]).all()
    assert len(disputes.rates_by_place(world, filter_sets["all"], filter_sets["all"].window(NOW), "community")) == 6


@pytest.mark.backend
def test_open_at_matches_status_at_the_worlds_end(world, filter_sets):
    for f in filter_sets.values():
        assert disputes.open_at(world, f, NOW) == disputes.open_count(world, f)
    assert disputes.open_at(world, Filters(), NOW) > 0


@pytest.mark.backend
def test_escalated_list(world, filter_sets):
    f = filter_sets["year"]
    w = f.window(NOW)
    df = disputes.escalated(world, f, w, limit=25)
    total = disputes.escalated_count(world, f, w)
    assert len(df) == min(25, total) and total > 0
    assert df["found_at"].is_monotonic_decreasing
    assert (df["found_at"] >= w[0]).all() and (df["found_at"] < w[1]).all()
    assert all(s.count("→") >= 2 for s in df["steps"])  # three levels tried
    one = disputes.detail(world, int(df["id"].iloc[0]))
    assert one is not None and int(one.dispute["level"]) == 3 and one.steps["level"].tolist()[-1] == 3


@pytest.mark.backend
def test_visits_due_agree_with_the_backlog(world, filter_sets):
    for name in ("all", "community", "grid"):
        f = filter_sets[name]
        backlog = mediation.visit_backlog(world, f, NOW)
        due = disputes.visits_due(world, f, NOW, 7, 1000)
        assert len(due) == backlog.pending and int(due["overdue"].sum()) == backlog.overdue, name
        n_late = backlog.overdue
        assert due["overdue"].tolist() == [True] * n_late + [False] * (len(due) - n_late)  # overdue first
        assert (due["visit_due_at"] < NOW + timedelta(days=7)).all()
    assert mediation.visit_backlog(world, Filters(), NOW).pending > 0


@pytest.mark.backend
def test_detail_and_missing(world):
    d = disputes.detail(world, 1)
    assert d is not None and d.dispute["id"] == 1 and len(d.steps) == int(d.dispute["level"])
    assert disputes.detail(world, 999999999) is None


# --- the page under AppTest ---------------------------------------------------------------------


def open_page(params: dict[str, str]) -> AppTest:
    return apptest.open_page(PAGE, params)


def tile_value(text: str, label: str) -> str:
    m = re.search(rf'data-kpi="{re.escape(label)}">.*?<div class="jw-kpi-value">([^<]*)<', text)
    assert m, f"tile {label} not found"
    return m.group(1)


CASES = [
    ({}, None),
    ({"community": "WLT-C01"}, None),
    ({"grid": "WLT-C02-G01"}, None),
    ({"period": "custom", "start": "2020-01-01", "end": "2020-01-31"}, None),
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "abc"}, "未知的网格"),
    ({"start": "2025-13-45"}, "格式错误的日期"),
    ({"community": "' OR 1=1 --"}, "未知的社区"),
    ({"dispute": "abc"}, "无效的纠纷编号"),
    ({"dispute": "999999999"}, "不存在"),
    ({"dispute": "999999999999"}, "已忽略无效的纠纷编号"),
]


@pytest.mark.parametrize("params, warning", CASES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) if isinstance(p, dict) else str(p))
def test_page_renders_with_its_headline(app_env, world, cat, params, warning):
    at = open_page(params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    warnings = " ".join(w.value for w in at.warning)
    if warning is None:
        assert not warnings, warnings
    else:
        assert warning in warnings, warnings
    text = html_text(at)
    f, _ = decode({k: v for k, v in params.items() if k != "dispute"}, cat, TODAY, INCIDENT_CATEGORIES)
    w = f.window(NOW)
    assert tile_value(text, "新发现纠纷") == fmt.count(disputes.found_count(world, f, w))
    res = mediation.resolution_rate(world, f, w)
    assert tile_value(text, f"{windows.period_name(f)}化解率") == fmt.pct(res.value)
    for label in ("调处中", "满意率", "升级至三级", "回访待办", "同比", "环比"):
        assert label in text
    if params.get("period") == "custom":
        assert "无数据" in text
    else:
        assert ("达标" in text) and "三级联调漏斗" in text
        # the funnel's legend states the query's 基层化解占比, not a share of its own
        low = disputes.grassroots_resolution(disputes.level_funnel(world, f.places_only(), w))
        if low.denominator:
            assert f"本期化解 {low.denominator} 起" in text and f"化解 {low.numerator} 起，占已化解 {fmt.pct(low.value)}" in text


def test_dispute_detail_page(app_env, world):
    esc = disputes.escalated(world, Filters(), (NOW - timedelta(days=365), NOW), limit=1)
    did = int(esc["id"].iloc[0])
    d = disputes.detail(world, did)
    at = open_page({"dispute": str(did), "community": "WLT-C01"})
    assert not at.exception, at.exception
    assert not at.warning, [w.value for w in at.warning]
    text = html_text(at)
    assert f"纠纷 #{did}" in text and mask.text(d.dispute["summary"]) in text
    assert "调处经过" in text and 'data-kpi="新发现纠纷"' not in text  # the detail replaces the overview
    steps = at.dataframe[0].value
    assert len(steps) == len(d.steps) == 3
    for raw, masked in zip(d.steps["mediator"], steps["mediator"]):
        assert masked == mask.name(raw) and masked != raw  # names are masked
    assert any(b.label == "← 返回纠纷总览" for b in at.button)

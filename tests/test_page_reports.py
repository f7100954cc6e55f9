"""网格上报 page: its query functions on the demo world (session backend) and the
page itself through AppTest under several filters, bad URL values and the
?report= detail (masked text, the task's event history)."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import and_, func, select
from streamlit.testing.v1 import AppTest

from dashboard import mask, timeutil
from dashboard.db.schema import REPORT_CATEGORIES, TASK_STATES, URGENCIES, tasks
from dashboard.db.schema import reports as reports_t
from dashboard.filters import Filters
from dashboard.ui import fmt
from queries import dispatch, reports
from queries._common import fetch_one
from queries.measures import grid_reports, windows
from tests import apptest
from tests.apptest import html_text
from tests.conftest import FIXTURE_END

NOW = FIXTURE_END
TODAY = timeutil.local_today(NOW)
PAGE = "pages/desk/reports.py"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID18 = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")


def _filters(cat, params: dict[str, str]) -> Filters:
    """The Filters the app builds from these (valid) URL values."""
    f = Filters()
    if "community" in params:
        f = Filters(community_id=cat.by_code("community", params["community"]).id)
    if "grid" in params:
        g = cat.by_code("grid", params["grid"])
        f = Filters(community_id=g.parent_id, grid_id=g.id)
    period = params.get("period", "30d")
    start = date.fromisoformat(params["start"]) if "start" in params else None
    end = date.fromisoformat(params["end"]) if "end" in params else None
    return f.with_period(period, TODAY, start, end)


# --- the query functions on the demo world ------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"community": "WLT-C01"}, {"grid": "WLT-C02-G01", "period": "7d"}, {"period": "quarter"}], ids=str)
@pytest.mark.backend
def test_latest_agrees_with_counts(world, cat, params):
    f = _filters(cat, params)
    w = f.window(NOW)
    n = reports.count(world, f, w)
    df = reports.latest(world, f, w)
    assert list(df.columns) == reports.LATEST_COLUMNS
    assert len(df) == min(200, n) and n > 0
    times = df["reported_at"].tolist()
    assert times == sorted(times, reverse=True) and times[0] < w[1] and times[-1] >= w[0]
    assert df["id"].is_unique  # one row per report even where a report has several tasks
    if f.grid_id is not None:
        assert set(df["grid_id"]) == {f.grid_id}
    elif f.community_id is not None:
        assert set(df["community_id"]) == {f.community_id}
    assert set(df["task_state"].dropna()) <= set(TASK_STATES)
    assert set(df["category"]) <= set(REPORT_CATEGORIES) and set(df["urgency"]) <= set(URGENCIES)
    everything = reports.latest(world, f, w, limit=10**6)
    assert len(everything) == n
    # page-local narrowing: categories and urgencies partition the whole list
    by_cat = reports.by_category(world, f, w)
    for c, k in zip(by_cat["category"], by_cat["n"]):
        assert len(reports.latest(world, f, w, categories=(c,), limit=10**6)) == k
    urgent = reports.latest(world, f, w, urgencies=reports.URGENT, limit=10**6)
    assert len(urgent) == reports.urgent_count(world, f, w)
    assert set(urgent["urgency"]) <= set(reports.URGENT)
    both = reports.latest(world, f, w, categories=("矛盾纠纷", "治安隐患"), urgencies=("特急",), limit=10**6)
    assert set(both["category"]) <= {"矛盾纠纷", "治安隐患"} and set(both["urgency"]) <= {"特急"}


@pytest.mark.backend
def test_dispatched_share_agrees_with_a_plain_join(world, cat):
    for params in ({}, {"community": "WLT-C03"}, {"period": "7d"}):
        f = _filters(cat, params)
        w = f.window(NOW)
        r = grid_reports.dispatched_share(world, f.places_only(), w)
        assert r.denominator == reports.count(world, f, w) and 0 < r.numerator <= r.denominator
        # the same figure by another route: distinct reports joined to a dispatched task
        stmt = select(func.count(func.distinct(reports_t.c.id))).select_from(
            reports_t.join(tasks, and_(tasks.c.report_id == reports_t.c.id, tasks.c.dispatched_at.is_not(None), tasks.c.dispatched_at <= w[1]))
        ).where(reports_t.c.reported_at >= w[0], reports_t.c.reported_at < w[1])
        if f.community_id is not None:
            grids_of = [g.id for g in cat.grids_of(f.community_id)]
            stmt = stmt.where(reports_t.c.grid_id.in_(grids_of))
        assert r.numerator == int(fetch_one(world, stmt)[0])


@pytest.mark.backend
def test_detail_matches_latest_rows(world, cat):
    f = _filters(cat, {})
    df = reports.latest(world, f, f.window(NOW), limit=40)
    for row in df.head(40).itertuples():
        d = reports.detail(world, int(row.id), NOW)
        assert (d.id, d.category, d.urgency, d.community, d.grid, d.text) == (row.id, row.category, row.urgency, row.community, row.grid, row.text)
        assert d.reported_at == pd.Timestamp(row.reported_at).to_pydatetime()
        if pd.isna(row.task_id):
            assert d.task_id is None
        else:
            assert (d.task_id, d.task_state) == (int(row.task_id), row.task_state)
            assert d.task_state == "待研判" or d.assignee is not None
    assert reports.detail(world, 999_999_999, NOW) is None


@pytest.mark.backend
def test_page_kpis_match_their_parts(world, cat):
    f = _filters(cat, {"community": "WLT-C01"})
    w = f.window(NOW)
    k = {x.key: x for x in reports.kpis(world, f, NOW)}
    assert k["reports_total"].compared.value == reports.count(world, f, w)
    assert k["reports_total"].compared.pop_base == reports.count(world, f, windows.previous_window(w, "30d"))
    assert k["reports_urgent"].compared.value == reports.urgent_count(world, f, w)
    share = grid_reports.dispatched_share(world, f.places_only(), w)
    assert k["dispatched_share"].compared.value == share.value and k["dispatched_share"].detail == f"{share.numerator}/{share.denominator}"
    assert k["pending_now"].compared.value == dispatch.pending_count(world, f.places_only(), NOW)


# --- the page through AppTest ----------------------------------------------------------------


def open_page(params: dict[str, str]) -> AppTest:
    return apptest.open_page(PAGE, params)


def tile_value(text: str, label: str) -> str:
    m = re.search(rf'data-kpi="{re.escape(label)}">.*?<div class="jw-kpi-value">([^<]*)<', text)
    assert m, f"no tile {label}"
    return m.group(1)


def shown_cells(at: AppTest) -> list[str]:
    out = []
    for d in at.dataframe:
        v = d.value
        v = v.data if hasattr(v, "data") else v  # a Styler
        out += [str(x) for x in v.to_numpy().ravel()]
    return out


def assert_masked(at: AppTest) -> None:
    """No full mobile or ID number anywhere on screen."""
    for s in [html_text(at), *shown_cells(at)]:
        assert not MOBILE.search(s), MOBILE.search(s).group(0)
        assert not ID18.search(s), ID18.search(s).group(0)


CASES = [
    ({}, None),
    ({"community": "WLT-C01"}, None),
    ({"grid": "WLT-C02-G01"}, None),
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "abc"}, "未知的网格"),
    ({"start": "2025-13-45"}, "格式错误的日期"),
    ({"community": "' OR 1=1 --"}, "未知的社区"),
    ({"report": "abc"}, "已忽略无效的上报编号"),
]


@pytest.mark.parametrize("params, warning", CASES, ids=[str(p) for p, _ in CASES])
def test_page_renders(app_env, cat, world, params, warning):
    at = open_page(params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    warnings = " ".join(w.value for w in at.warning)
    assert (warning in warnings) if warning else not warnings, warnings
    good = {k: v for k, v in params.items() if warning is None}
    f = _filters(cat, good)
    w = f.window(NOW)
    text = html_text(at)
    # the headline figures, as the query functions give them
    assert tile_value(text, "上报总数") == fmt.count(reports.count(world, f, w))
    assert tile_value(text, "紧急/特急") == fmt.count(reports.urgent_count(world, f, w))
    share = grid_reports.dispatched_share(world, f.places_only(), w)
    assert f"{share.numerator}/{share.denominator}" in text
    assert "同比" in text and "环比" in text
    # the table: the newest reports in that place and period, newest first, local time
    latest = reports.latest(world, f, w)
    table = at.dataframe[0].value
    table = table.data if hasattr(table, "data") else table
    assert len(table) == len(latest)
    assert table["时间"].iloc[0] == timeutil.fmt_local(pd.Timestamp(latest["reported_at"].iloc[0]).to_pydatetime(), "%m-%d %H:%M")
    # community and grid per row (the grid without its community's name: 南岸社区第5网格 → 第5网格)
    assert (table["社区"] + table["网格"]).tolist() == latest["grid"].tolist()
    assert table["社区"].tolist() == latest["community"].tolist()
    marked = table[table["紧急程度"].str.contains("特急|紧急")]
    assert len(marked) == int(latest["urgency"].isin(reports.URGENT).sum())
    assert_masked(at)


def test_empty_period_shows_no_data(app_env):
    at = open_page({"period": "custom", "start": "2020-01-01", "end": "2020-01-31"})
    assert not at.exception and not at.error
    text = html_text(at)
    assert "无数据" in text and "2020-01-01" in text
    assert tile_value(text, "上报总数") == "0"
    assert len(at.dataframe) == 0


def test_urgency_multiselect_narrows_the_table(app_env, world, cat):
    at = open_page({"community": "WLT-C01"})
    at.multiselect(key="rp_urg").select("特急").run()
    assert not at.exception
    f = _filters(cat, {"community": "WLT-C01"})
    want = reports.latest(world, f, f.window(NOW), urgencies=("特急",))
    table = at.dataframe[0].value
    table = table.data if hasattr(table, "data") else table
    assert len(table) == len(want) > 0 and set(table["紧急程度"]) == {"●● 特急"}


def test_missing_report_says_so(app_env):
    at = open_page({"report": "999999999"})
    assert not at.exception
    assert any("999999999" in w.value and "不存在" in w.value for w in at.warning)
    assert "上报总数" in html_text(at)  # the rest of the page still renders


@pytest.fixture(scope="module")
def report_with_history(world, cat):
    """A report of the default period whose text holds a phone number and whose task has several events."""
    f = _filters(cat, {})
    df = reports.latest(world, f, f.window(NOW), limit=10**6)
    for row in df.itertuples():
        if MOBILE.search(row.text) and not pd.isna(row.task_id):
            hist = dispatch.task_history(world, int(row.task_id))
            if len(hist) >= 4 and hist["note"].notna().any():
                return row, hist
    pytest.fail("no report with a phone number and a long task history in the demo world")


def test_report_detail(app_env, world, report_with_history):
    row, hist = report_with_history
    at = open_page({"report": str(row.id)})
    assert not at.exception, at.exception
    assert not at.warning, [w.value for w in at.warning]
    text = html_text(at)
    d = reports.detail(world, int(row.id), NOW)
    assert f"上报 #{row.id}" in text
    assert mask.text(d.text) in text and d.text not in text  # the phone number masked
    phone = MOBILE.search(d.text).group(0)
    assert phone[:3] + "****" + phone[-4:] in text
    assert timeutil.fmt_local(d.reported_at, "%Y-%m-%d %H:%M") in text
    assert d.community in text and d.grid in text and d.category in text and d.urgency in text
    if d.reporter:
        assert mask.name(d.reporter) in text and d.reporter_kind in text
    assert f"派单 #{d.task_id}" in text and d.task_state in text
    assert timeutil.fmt_local(d.deadline_at, "%Y-%m-%d %H:%M") in text
    # the whole event history, in order, actors masked
    assert f"处置过程（{len(hist)} 步）" in text
    history = text[text.index("jw-rp-history"):]
    positions = [history.index(f'<span class="jw-rp-time">{timeutil.fmt_local(pd.Timestamp(t).to_pydatetime(), "%Y-%m-%d %H:%M")}</span>') for t in hist["at"]]
    assert positions == sorted(positions)
    for r in hist.itertuples():
        assert r.event in history and mask.name(r.actor) in history
        if isinstance(r.note, str):
            assert mask.text(r.note) in history
    assert_masked(at)
    assert at.button(key="rp_close")  # the way back

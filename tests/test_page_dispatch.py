"""The 派单队列 page: its query functions on the demo world (session backend) and
the page itself under AppTest (filters, an empty period, bad URL values, bad and
valid ``?task=`` ids). Exact figures on a hand-built world: test_measures_dispatch.py."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from dashboard import mask, timeutil
from dashboard.db.schema import INCIDENT_CATEGORIES, task_events, tasks
from dashboard.filters import Filters, decode
from dashboard.ui import fmt
from queries import dispatch, places
from queries._common import fetch_df, fetch_scalar
from queries.measures import loop, windows
from tests import apptest
from tests.apptest import html_text
from tests.conftest import FIXTURE_END

NOW = FIXTURE_END
TODAY = timeutil.local_today(NOW)
PAGE = "pages/desk/dispatch.py"
QUEUE_LIMIT = 500  # the page's row limit


@pytest.fixture(scope="module")
def place_filters(cat):
    c = cat.communities[0]
    return {"all": Filters(), "community": Filters(community_id=c.id), "grid": Filters(community_id=c.id, grid_id=cat.grids_of(c.id)[0].id)}


# --- queries on the demo world ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["all", "community", "grid"])
@pytest.mark.backend
def test_open_tasks_overdue_first_and_consistent(world, place_filters, name):
    f = place_filters[name]
    df = dispatch.unclosed_tasks(world, f, NOW, limit=100000)
    assert len(df) == dispatch.unclosed_count(world, f, NOW)
    assert set(df["state"]) <= set(dispatch.UNCLOSED_STATES)
    # overdue first, then phases in screen order; the overdue ones match the measure
    assert list(df["phase"]) == sorted(df["phase"])
    assert list(df["overdue"]) == sorted(df["overdue"], reverse=True)
    assert int(df["overdue"].sum()) == loop.overdue_count(world, f, NOW)
    late = df[df["overdue"]]
    assert (late["minutes_left"] < 0).all() and late["deadline_at"].is_monotonic_increasing
    running = df[df["phase"] == dispatch.PHASE_RUNNING]
    assert (running["minutes_left"] >= 0).all() and running["deadline_at"].is_monotonic_increasing
    # every open task is still open by the stored state too (the world is consistent at its end)
    stored = fetch_df(world, select(tasks.c.id, tasks.c.state).where(tasks.c.id.in_([int(i) for i in df["id"]])))
    assert dict(zip(stored["id"], stored["state"])) == dict(zip(df["id"], df["state"]))
    # places
    if f.grid_id is not None:
        assert set(df["grid_id"]) <= {f.grid_id}
    if f.community_id is not None:
        assert set(df["community_id"]) <= {f.community_id}
    # assignee: an officer or a department, never both; pending ones have neither
    assert not (df["officer"].notna() & df["department"].notna()).any()
    pend = df[df["phase"] == dispatch.PHASE_PENDING]
    assert pend["officer"].isna().all() and pend["department"].isna().all()
    if name == "all":
        assert len(late) > 0 and len(running) > 0


@pytest.mark.backend
def test_open_tasks_transfer_counts_match_the_event_log(world):
    df = dispatch.unclosed_tasks(world, Filters(), NOW, limit=100000)
    ids = [int(i) for i in df["id"]]
    ev = fetch_df(
        world,
        select(task_events.c.task_id, func.count().label("n"))
        .where(task_events.c.event == "转派", task_events.c.task_id.in_(ids))
        .group_by(task_events.c.task_id),
    )
    from_log = dict(zip(ev["task_id"].astype(int), ev["n"].astype(int)))
    assert {int(i): int(n) for i, n in zip(df["id"], df["transfer_count"])} == {i: from_log.get(i, 0) for i in ids}
    assert (df["transfer_count"] >= 2).any()  # the demo world has twice-transferred open tasks
    # a department holds every transferred task
    assert df.loc[df["transfer_count"] > 0, "department"].notna().all()


@pytest.mark.backend
def test_snapshot_counts_equal_the_single_counts(world, place_filters):
    for f in place_filters.values():
        for r in dispatch.snapshot_counts(world, f, windows.periods_of(f.with_period("month", TODAY), NOW)).to_dict("records"):
            at = r["at"]
            assert r["pending"] == dispatch.pending_count(world, f, at)
            assert r["in_progress"] == dispatch.in_progress_count(world, f, at)
            assert r["overdue"] == loop.overdue_count(world, f, at)
    now = dispatch.snapshot_counts(world, Filters(), windows.periods_of(Filters(), NOW)).iloc[0]
    assert now["in_progress"] > 0 and now["overdue"] > 0


@pytest.mark.backend
def test_open_tasks_limit_keeps_the_overdue(world):
    n_late = loop.overdue_count(world, Filters(), NOW)
    top = dispatch.unclosed_tasks(world, Filters(), NOW, limit=n_late)
    assert len(top) == n_late and top["overdue"].all()


@pytest.mark.backend
def test_state_counts_of_the_period_and_loop_by(world, place_filters):
    for f in place_filters.values():
        w = f.with_period("30d", TODAY).window(NOW)
        states = dispatch.state_counts(world, f, w)
        assert list(states["state"]) == ["待研判", "已派发", "处置中", "已反馈", "已办结", "已回访"]
        created = loop.closure_rate(world, f, w)
        assert int(states["n"].sum()) == created.denominator
        assert int(states.loc[states["state"].isin(["已办结", "已回访"]), "n"].sum()) >= created.numerator
        for by in ("department", "community"):
            lb = dispatch.loop_by(world, f, w, by)
            assert int(lb["created"].sum()) == created.denominator and int(lb["closed"].sum()) == created.numerator
            due = loop.on_time_feedback_rate(world, f, w)
            assert (int(lb["on_time"].sum()), int(lb["due"].sum())) == (due.numerator, due.denominator)
            assert lb["key"].is_unique
    assert dispatch.state_counts(world, Filters(), (pd.Timestamp("2020-01-01").to_pydatetime(), pd.Timestamp("2020-02-01").to_pydatetime()))["n"].sum() == 0


@pytest.mark.backend
def test_task_detail_and_history_on_the_world(world):
    df = dispatch.unclosed_tasks(world, Filters(), NOW, limit=100000)
    tid = int(df.loc[df["transfer_count"] >= 2, "id"].iloc[0])
    d = dispatch.task_detail(world, tid, NOW)
    row = df.set_index("id").loc[tid]
    assert (d.state, d.transfer_count, d.department, d.overdue) == (row["state"], 2, row["department"], bool(row["overdue"]))
    assert d.report_text and d.report_id
    h = dispatch.task_history(world, tid)
    assert list(h["seq"]) == list(range(1, len(h) + 1)) and list(h["event"]).count("转派") == 2
    assert h["at"].is_monotonic_increasing
    top = fetch_scalar(world, select(func.max(tasks.c.id)))
    assert dispatch.task_detail(world, int(top) + 1) is None


# --- the page ----------------------------------------------------------------------------------


def open_page(params: dict[str, str]) -> AppTest:
    return apptest.open_page(PAGE, params)


def page_filters(cat, params: dict[str, str]) -> Filters:
    """The Filters the frame decodes from these URL parameters."""
    return decode(params, cat, TODAY, INCIDENT_CATEGORIES)[0]


def expected_headlines(world, f: Filters) -> list[str]:
    places_only = f.places_only()
    n_open = dispatch.unclosed_count(world, places_only, NOW)
    kpis = {k.key: k for k in dispatch.loop_kpis(world, f, NOW)}
    n_late = int(kpis["overdue"].compared.value)
    out = [
        f"未办结任务 · 共 {fmt.count(n_open)} 件 · 超期 {fmt.count(n_late)} 件",
        f'data-kpi="待派单"><div class="jw-kpi-label">待派单</div><div class="jw-kpi-value">{fmt.count(kpis["pending"].compared.value)}<',
        f'<div class="jw-kpi-value">{fmt.count(kpis["in_progress"].compared.value)}<',
        f'<div class="jw-kpi-value">{fmt.count(n_late)}<',
        f'<div class="jw-kpi-value">{fmt.pct(kpis["on_time"].compared.value)}<span class="jw-kpi-detail">{kpis["on_time"].detail}</span>',
        f'<div class="jw-kpi-value">{fmt.pct(kpis["closure"].compared.value)}<span class="jw-kpi-detail">{kpis["closure"].detail}</span>',
    ]
    hours = kpis["mean_close"].compared.value
    out.append(f'<div class="jw-kpi-value">{"—" if hours is None else f"{hours:.1f}"}<span class="jw-kpi-detail">{kpis["mean_close"].detail}</span>')
    if n_late:
        out.append('<div class="jw-kpi alarm" data-kpi="超期">')
    return out


PAGE_CASES = [
    ({}, None),
    ({"community": "WLT-C01"}, None),
    ({"grid": "WLT-C02-G01"}, None),
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "abc"}, "未知的网格"),
    ({"start": "2025-13-45"}, "格式错误的日期"),
    ({"community": "' OR 1=1 --"}, "未知的社区"),
    ({"task": "abc"}, "无效的派单编号"),
]


@pytest.mark.parametrize("params, warning", PAGE_CASES, ids=[str(p) or "all" for p, _ in PAGE_CASES])
def test_page_renders_headline_figures(app_env, world, cat, params, warning):
    at = open_page(params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    warnings = " ".join(w.value for w in at.warning)
    assert (warning in warnings) if warning else not warnings, warnings
    text = html_text(at)
    f = page_filters(cat, {k: v for k, v in params.items() if k != "task"})
    for needle in expected_headlines(world, f):
        assert needle in text, needle
    assert "综合指挥室" in text and "同比" in text and "环比" in text
    for s in ("按承办单位", "按社区"):
        assert s in text
    raw = dispatch.unclosed_tasks(world, f.places_only(), NOW, limit=QUEUE_LIMIT)
    if raw.empty:  # e.g. a grid with nothing open at the world's end
        assert "当前没有未办结的任务" in text
        return
    # the queue table: overdue rows first, marked; names masked
    queue = next(d.value for d in at.dataframe if "编号" in d.value.columns)
    n_late = loop.overdue_count(world, f.places_only(), NOW)
    assert list(queue.columns[:3]) == ["编号", "状态", "时限"]
    assert list(queue["编号"]) == list(raw["id"])
    assert queue["时限"].head(n_late).str.startswith("超期 ").all()
    assert not queue["时限"].iloc[n_late:].str.startswith("超期").any()
    officers = set(raw["officer"].dropna())
    assert not any(o in " ".join(queue["承办"]) for o in officers)
    assert {f"社区民警 {mask.name(o)}" for o in officers} <= set(queue["承办"])
    twice = (raw["transfer_count"] >= 2).to_numpy()
    assert (queue.loc[twice, "转派"] == "转派×2").all() and (queue.loc[~twice, "转派"] != "转派×2").all()
    if not f.grid_id:
        assert officers and n_late > 0 and twice.any()


def test_empty_period_shows_no_data(app_env, world, cat):
    params = {"period": "custom", "start": "2020-01-01", "end": "2020-01-31"}
    at = open_page(params)
    assert not at.exception and not at.error and not at.warning
    text = html_text(at)
    assert "无数据" in text and "没有新建任务" in text and "01-01 至 01-31" in text
    assert "没有到期、新建或办结的任务" in text
    f = page_filters(cat, params)
    for needle in expected_headlines(world, f):  # the queue is "now": still there
        assert needle in text, needle
    assert "按时反馈率" in text and '<div class="jw-kpi-value">—<span class="jw-kpi-detail">0/0</span>' in text


def test_unknown_task_id_says_so(app_env):
    at = open_page({"task": "999999999"})
    assert not at.exception and not at.error
    assert any("没有编号为 999999999 的派单任务" in w.value for w in at.warning)
    assert any(b.label == "← 返回派单队列" for b in at.button)


def test_task_view_shows_its_history_masked(app_env, world):
    df = dispatch.unclosed_tasks(world, Filters(), NOW, limit=100000)
    tid = int(df.loc[df["transfer_count"] >= 2, "id"].iloc[0])
    hist = dispatch.task_history(world, tid)
    detail = dispatch.task_detail(world, tid, NOW)
    at = open_page({"task": str(tid)})
    assert not at.exception and not at.error and not at.warning
    text = html_text(at)
    assert f"任务 #{tid} · {detail.category}" in text and "转派×2" in text
    assert f"流转记录（{len(hist)} 条）" in text
    for r in hist.itertuples():
        assert f'<span class="jw-dp-time">{timeutil.fmt_local(r.at.to_pydatetime(), "%Y-%m-%d %H:%M")}</span><span class="jw-dp-ev">{r.event}</span>' in text
        assert mask.name(r.actor) in text
        person = r.actor.rpartition(" ")[2]
        assert f" {person}<" not in text  # the full name never appears
        if isinstance(r.note, str) and r.note:
            assert mask.text(r.note) in text
    assert mask.text(detail.report_text) in text
    if detail.overdue:
        assert '<span class="jw-dp-tag jw-dp-red">超期 ' in text
    # the way back drops ?task= and shows the queue
    at.button(key="dp-back-top").click().run()
    assert not at.exception
    assert "task" not in at.query_params
    assert "未办结任务 · 共" in html_text(at)


# --- 本周超期: overdue by grid, community and responsible unit ---------------------------------


def _holder(officer, department) -> str:
    return department if pd.notna(department) else ("社区民警" if pd.notna(officer) else "未指派")


@pytest.mark.parametrize("name", ["all", "community"])
@pytest.mark.parametrize("by", dispatch.OVERDUE_BY)
@pytest.mark.backend
def test_overdue_by_adds_up_to_the_overdue_count_and_matches_the_queue(world, place_filters, by, name):
    f = place_filters[name]
    od = dispatch.overdue_by(world, f, NOW, by)
    n = loop.overdue_count(world, f, NOW)
    assert n > 0 and int(od["overdue"].sum()) == n
    assert list(od["overdue"]) == sorted(od["overdue"], reverse=True)
    # the same tasks, grouped by the test from the queue's own rows
    late = dispatch.unclosed_tasks(world, f, NOW, limit=100000)
    late = late[late["overdue"]].copy()
    late["holder"] = [_holder(o, d) for o, d in zip(late["officer"], late["department"])]
    col = {"grid": "grid", "community": "community", "department": "holder"}[by]
    monday = timeutil.day_start_utc(TODAY - timedelta(days=TODAY.weekday()))
    want = {g: (len(x), int((x["deadline_at"] >= monday).sum()), (NOW - x["deadline_at"].min()).total_seconds() / 86400) for g, x in late.groupby(col)}
    got = {r.group: (r.overdue, r.this_week, r.max_days) for r in od.itertuples()}
    assert set(got) == set(want)
    for g, (cnt, week, days) in want.items():
        assert got[g][:2] == (cnt, week) and got[g][2] == pytest.approx(days), g
    assert 0 < int(od["this_week"].sum()) <= n  # the demo world's week holds some
    if by == "department":
        assert "社区民警" in got and (len(got) > 2 or name != "all")
        for r in od.itertuples():  # one click: that unit's overdue list
            tasks_of = dispatch.unclosed_tasks(world, f, NOW, 100000, None, int(r.key))
            assert set(tasks_of["id"]) == set(late.loc[late["holder"] == r.group, "id"]) and tasks_of["overdue"].all()


def test_overdue_panel_and_a_units_overdue_list_on_the_page(app_env, world):
    at = open_page({})
    assert not at.exception and not at.error
    text = html_text(at)
    n = loop.overdue_count(world, Filters(), NOW)
    assert f"本周超期 · 按网格 · 此刻超期 {fmt.count(n)} 件" in text
    panel = next(d.value for d in at.dataframe if "本周到期" in d.value.columns)
    od = dispatch.overdue_by(world, Filters(), NOW, "grid")
    assert list(panel["超期"]) == list(od["overdue"]) and int(panel["超期"].sum()) == n
    # grid names repeat across communities: each row says whose grid it is
    cat = places.catalogue(world)
    assert list(panel["社区"]) == [cat.by_id("community", cat.by_id("grid", int(k)).parent_id).name for k in od["key"]]
    assert not panel[["社区", "网格"]].duplicated().any()
    at = open_page({"held_by": "officers"})
    assert not at.exception and not at.error and not at.warning
    dept = dispatch.overdue_by(world, Filters(), NOW, "department").set_index("group")
    assert f"社区民警 · 此刻超期 {fmt.count(int(dept.loc['社区民警', 'overdue']))} 件" in html_text(at)
    listed = next(d.value for d in at.dataframe if "编号" in d.value.columns)
    want = dispatch.unclosed_tasks(world, Filters(), NOW, 100000, None, dispatch.OFFICERS_KEY)
    assert list(listed["编号"]) == list(want["id"]) and listed["时限"].str.startswith("超期 ").all()
    at = open_page({"held_by": "'; DROP TABLE tasks; --"})
    assert not at.exception and any("已忽略无效的承办单位" in w.value for w in at.warning)

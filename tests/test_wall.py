"""The LED wall (pages/wall/wall.py) and its queries, on the session's backend.

Queries: ``patrol.live_positions``, ``dispatch.latest_event_id`` and
``queries.wall`` against independent computations on the demo world.
AppTest: the wall renders for all places, one community, one grid and bad URL
values without exception; its KPI strip equals the query functions at the
instant the strip was drawn (``data-at``); the feed shows the newest reports,
masked; the queue puts overdue tasks first; a failing query keeps the last
data under a red banner.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import mask, timeutil
from dashboard.config import load_settings
from dashboard.db.database import DataError
from dashboard.db.schema import INCIDENT_CATEGORIES, grids, patrol_points, patrol_shifts, task_events
from dashboard.db.schema import incidents as inc_t
from dashboard.db.schema import reports as rep_t
from dashboard.filters import Filters, decode
from dashboard.ui import fmt
from queries import dispatch, incidents, patrol, reports, wall
from queries.measures import loop, mediation
from queries.overview import month_window, today_window
from tests.apptest import _walk, html_text, open_page
from tests.conftest import FIXTURE_END

WALL = "pages/wall/wall.py"


def _community(cat, code: str = "WLT-C02") -> Filters:
    return Filters(community_id=cat.by_code("community", code).id)


# --- queries ---------------------------------------------------------------------------


@pytest.mark.backend
def test_latest_event_id_is_the_newest_event(world):
    with world.connect() as conn:
        top = conn.execute(select(task_events.c.id).order_by(task_events.c.id.desc()).limit(1)).scalar()
    assert top and dispatch.latest_event_id(world) == top


@pytest.mark.parametrize("scope", ["all", "community"])
@pytest.mark.backend
def test_live_positions_one_latest_point_per_on_duty_shift(world, cat, scope):
    f = Filters() if scope == "all" else _community(cat)
    at = FIXTURE_END
    df = patrol.live_positions(world, f, at)
    assert list(df.columns) == patrol.LIVE_COLUMNS
    assert len(df) == patrol.on_duty_count(world, f, at) > 0
    assert df["shift_id"].is_unique
    allowed = None
    if f.community_id is not None:
        with world.connect() as conn:
            allowed = {r[0] for r in conn.execute(select(grids.c.id).where(grids.c.community_id == f.community_id))}
    with world.connect() as conn:
        for r in df.itertuples():
            assert at - patrol.PRESENCE_WINDOW <= r.at.to_pydatetime() <= at
            shift = conn.execute(select(patrol_shifts.c.started_at, patrol_shifts.c.ended_at).where(patrol_shifts.c.id == r.shift_id)).one()
            assert shift.started_at <= at and (shift.ended_at is None or shift.ended_at > at)
            q = select(func.max(patrol_points.c.at)).where(
                patrol_points.c.shift_id == r.shift_id, patrol_points.c.at >= at - patrol.PRESENCE_WINDOW, patrol_points.c.at <= at
            )
            if allowed is not None:
                q = q.where(patrol_points.c.grid_id.in_(allowed))
                assert r.grid_id in allowed
            assert conn.execute(q).scalar() == r.at.to_pydatetime()
            assert r.team and r.shift in ("白", "黑")


@pytest.mark.backend
def test_live_positions_none_long_before_the_tracks(world):
    assert patrol.live_positions(world, Filters(), datetime(2001, 1, 1)).empty


@pytest.mark.backend
def test_hourly_and_points_add_up_to_the_counts(world, cat):
    for f in (Filters(), _community(cat)):
        at = FIXTURE_END
        today = today_window(at)
        yesterday = (today[0] - timedelta(days=1), today[0])
        df = wall.hourly(world, f, at)
        assert list(df["hour"]) == list(range(24))
        assert df["incidents"].sum() == incidents.count(world, f, today)
        assert df["incidents_yesterday"].sum() == incidents.count(world, f, yesterday)
        assert df["reports"].sum() == reports.count(world, f, today)
        assert df["reports_yesterday"].sum() == reports.count(world, f, yesterday)
        assert df.loc[df["hour"] > timeutil.to_local(at).hour, "incidents"].sum() == 0
        pts = wall.incident_points(world, f, today)
        assert len(pts) == incidents.count(world, f, today)
        assert pts["received_at"].is_monotonic_decreasing


# --- AppTest -----------------------------------------------------------------------------


def _kpis(text: str) -> tuple[datetime, dict[str, str]]:
    at = re.search(r'class="jw-w-kpis" data-at="([^"]+)"', text)
    assert at, "no KPI strip"
    values = dict(re.findall(r'data-kpi="([a-z_]+)" data-value="([^"]*)"', text))
    return datetime.fromisoformat(at.group(1)), values


def _expected(world, f: Filters, at: datetime) -> dict[str, str]:
    pf = f.places_only()
    today, month = today_window(at), month_window(at)
    return {
        "incidents_today": fmt.count(incidents.count(world, f, today)),
        "reports_today": fmt.count(reports.count(world, pf, today)),
        "pending": fmt.count(dispatch.pending_count(world, pf, at)),
        "in_progress": fmt.count(dispatch.in_progress_count(world, pf, at)),
        "overdue": fmt.count(loop.overdue_count(world, pf, at)),
        "closure_month": fmt.pct(loop.closure_rate(world, pf, month).value),
        "resolution_month": fmt.pct(mediation.resolution_rate(world, pf, month).value),
        "on_duty": fmt.count(patrol.on_duty_count(world, pf, at)),
    }


PARAMS = [{}, {"community": "WLT-C02"}, {"grid": "WLT-C02-G01"}, {"community": "WLT-C03", "cat": "盗窃,纠纷"}]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
def test_wall_renders_and_kpis_equal_the_queries(app_env, world, cat, params):
    started = time.monotonic()
    at = open_page(WALL, params)
    elapsed = timedelta(seconds=time.monotonic() - started)
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    text = html_text(at)
    assert "综合指挥室" in text and "jw-w-time" in text
    # no desk chrome: no filter bar, no page menu
    assert not at.selectbox and "stPageLink" not in str(at.main)
    assert "jw-w-warn" not in text
    drawn_at, values = _kpis(text)
    # DASHBOARD_NOW plus the time elapsed in the session, never more than this run lasted
    assert FIXTURE_END <= drawn_at <= FIXTURE_END + elapsed + timedelta(seconds=1)
    f, _ = decode(params, cat, timeutil.local_today(drawn_at), INCIDENT_CATEGORIES)
    assert values == _expected(world, f, drawn_at)
    assert list(values) == ["incidents_today", "reports_today", "pending", "in_progress", "overdue", "closure_month", "resolution_month", "on_duty"]
    for k, v in params.items():
        assert at.query_params.get(k) in (v, [v])


def test_wall_through_the_root_url_keeps_the_filters(app_env):
    at = open_page(None, {"wall": "1", "community": "WLT-C02"})
    assert not at.exception, at.exception
    text = html_text(at)
    assert "jw-w-kpis" in text and "东湖社区" in text
    assert at.query_params.get("community") in ("WLT-C02", ["WLT-C02"])
    assert "wall" not in at.query_params


BAD = [
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "' OR 1=1 --"}, "未知的网格"),
    ({"scale": "huge"}, "字号倍数"),
    ({"scale": "9"}, "字号倍数"),
    ({"cat": "飞碟"}, "未知的类别"),
    ({"community": "x" * 200}, "过长"),
]


@pytest.mark.parametrize("params, needle", BAD, ids=[k for k, _ in (next(iter(p.items())) for p, _ in BAD)])
def test_wall_bad_url_values_warn_in_one_line(app_env, params, needle):
    at = open_page(WALL, params)
    assert not at.exception, at.exception
    text = html_text(at)
    warn = re.search(r'<div class="jw-w-warn">([^<]*)</div>', text)
    assert warn and needle in warn.group(1), text[:400]
    assert "jw-w-kpis" in text and "jw-w-feed" in text


def _all_html(at) -> str:
    """Every block's text, including the style-only st.html Streamlit puts outside the main area."""
    return "\n".join(_walk(root) for root in at._tree.children.values())


def test_scale_param_sets_the_type_size(app_env):
    assert "--ws: 1.5;" in _all_html(open_page(WALL, {"scale": "1.5"}))
    assert "--ws: 1;" in _all_html(open_page(WALL, {}))


def test_feed_shows_the_newest_reports_masked(app_env, world, cat):
    at = open_page(WALL, {"community": "WLT-C02"})
    text = html_text(at)
    drawn_at, _ = _kpis(text)
    f = _community(cat)
    rows = int(re.search(r'<ul class="jw-w-feed[^"]*" data-rows="(\d+)"', text).group(1))  # the overview's row budget
    newest = reports.latest(world, f, (drawn_at - timedelta(days=30), drawn_at + timedelta(minutes=1)), limit=rows)
    assert len(newest) == rows == 7
    feed_html = re.search(r'<ul class="jw-w-feed[^>]*>.*?</ul>', text, re.S).group(0)
    shown = [int(x) for x in re.findall(r'data-report-id="(\d+)"', feed_html)]
    assert shown == [int(i) for i in newest["id"]]
    masked_any = False
    for r in newest.itertuples():
        assert mask.text(r.text).replace("&", "&amp;") in text
        if mask.text(r.text) != r.text:
            masked_any = True
            assert r.text not in text
        assert f"{timeutil.fmt_local(r.reported_at, '%H:%M')}</span>" in text
        urgent = re.search(rf'<li class="jw-w-report( urgent)?" data-report-id="{int(r.id)}"', text)
        assert urgent and bool(urgent.group(1)) == (r.urgency in ("紧急", "特急"))
    # The fixture world (fixed seed and end) has phone numbers in 东湖社区's newest reports:
    # the masking above was exercised, not skipped.
    assert masked_any


def test_queue_puts_overdue_first_with_countdowns(app_env, world):
    at = open_page(WALL, {})
    text = html_text(at)
    drawn_at, values = _kpis(text)
    assert int(values["overdue"]) > 0  # the fixture world has overdue tasks at its end
    queue_html = re.search(r'<ul class="jw-w-queue[^>]*>.*?</ul>', text, re.S).group(0)
    tasks = re.findall(r'<li class="jw-w-task (\w+)(?: flash)?" data-task-id="(\d+)" data-phase="(\d)">', queue_html)
    assert len(tasks) == 7  # the overview's row budget
    late = [int(p) == dispatch.PHASE_OVERDUE for _, _, p in tasks]
    assert late[0] and late == sorted(late, reverse=True)  # the overdue ones first (the order: tests/test_wall_lists.py)
    expected = wall.queue(world, Filters(), drawn_at, 7).rows
    assert [int(t) for _, t, _ in tasks] == [int(i) for i in expected["id"]]
    for (level, _, phase), row in zip(tasks, expected.itertuples()):
        if int(phase) == dispatch.PHASE_OVERDUE:
            assert level == "red"
        if isinstance(row.officer, str) and row.officer:
            assert mask.name(row.officer) in queue_html and row.officer not in queue_html
        elif isinstance(row.department, str):
            assert row.department in queue_html
    assert "超期 " in text
    assert f"超期 {values['overdue']} 件" in text


def test_a_failing_query_keeps_the_last_data_with_a_banner(app_env, monkeypatch):
    at = open_page(WALL, {})
    first = html_text(at)
    ids = re.findall(r'data-report-id="(\d+)"', re.search(r'<ul class="jw-w-feed[^>]*>.*?</ul>', first, re.S).group(0))
    assert ids and "已中断" not in first

    def broken(engine):
        raise DataError("database gone", "数据库无法连接")

    monkeypatch.setattr(reports, "latest_id", broken)
    monkeypatch.setattr(dispatch, "latest_event_id", broken)
    at.run()
    assert not at.exception, at.exception
    text = html_text(at)
    assert re.search(r"数据更新于 \d\d:\d\d:\d\d，已中断 (?:<span[^>]*>)?\d+(?:</span>)? 秒", text)
    assert re.findall(r'data-report-id="(\d+)"', re.search(r'<ul class="jw-w-feed[^>]*>.*?</ul>', text, re.S).group(0)) == ids  # the last good feed stays
    assert "jw-w-kpis" in text and "Traceback" not in text


# --- "the feed has gone quiet" -------------------------------------------------------------


@pytest.mark.backend
def test_feed_times_are_the_newest_rows_at_or_before_the_instant(world):
    at = FIXTURE_END - timedelta(hours=5)
    with world.connect() as conn:
        r = conn.execute(select(func.max(rep_t.c.reported_at)).where(rep_t.c.reported_at <= at)).scalar()
        i = conn.execute(select(func.max(inc_t.c.received_at)).where(inc_t.c.received_at <= at)).scalar()
    got = wall.feed_times(world, at)
    assert (got.last_report_at, got.last_incident_at) == (r, i)
    assert got.last_report_at <= at and got.last_incident_at <= at


def test_quiet_feeds_rule():
    at = datetime(2026, 11, 20, 6, 30)
    t = wall.FeedTimes(last_report_at=at - timedelta(minutes=361), last_incident_at=at - timedelta(minutes=240))
    quiet = wall.quiet_feeds(t, at, 360, 240)
    # reports: 361 min > 360 → quiet; incidents: exactly 240 min is not more than 240 → not quiet
    assert [(q.feed, q.minutes, q.since) for q in quiet] == [("网格通上报", 361, at - timedelta(minutes=361))]
    assert wall.quiet_feeds(wall.FeedTimes(None, at), at, 360, 240) == [wall.QuietFeed("网格通上报", None, None)]
    assert wall.quiet_feeds(wall.FeedTimes(at, at), at, 1, 1) == []


def test_wall_names_a_quiet_feed_and_since_when(app_env, monkeypatch):
    # The world ends at FIXTURE_END: a day later both feeds have been silent for 24 h or more.
    monkeypatch.setenv("DASHBOARD_NOW", (FIXTURE_END + timedelta(days=1)).isoformat())
    text = html_text(open_page(WALL, {}))
    assert "网格通上报已静默" in text and "110警情已静默" in text
    assert re.search(r"网格通上报已静默2\d小时\d+分（末条 11-20 \d\d:\d\d）", text), text[:2000]


def test_wall_without_quiet_feeds_shows_no_banner(app_env):
    at = open_page(WALL, {})
    assert not at.exception
    assert "已静默" not in html_text(at)


def test_quiet_limits_are_configurable(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_QUIET_REPORTS_MIN", "1")
    monkeypatch.setenv("DASHBOARD_QUIET_INCIDENTS_MIN", "100000")
    text = html_text(open_page(WALL, {}))
    assert "网格通上报已静默" in text and "110警情已静默" not in text


@pytest.mark.parametrize("raw", ["abc", "0", "-5", "1.5"])
def test_bad_quiet_limit_is_a_clear_error(raw):
    with pytest.raises(SystemExit, match="DASHBOARD_QUIET_REPORTS_MIN must be a positive whole number"):
        load_settings({"DASHBOARD_QUIET_REPORTS_MIN": raw})
    assert load_settings({}).quiet_reports_min == 360 and load_settings({"DASHBOARD_QUIET_INCIDENTS_MIN": "30"}).quiet_incidents_min == 30

"""The wall's views, their rotation, its alarms and its daily self-reload.

Pure parts (``dashboard.wall.rotation``, ``dashboard.wall.markup``) directly; the
``queries.wall.alarms`` query against SQL written here; the page in AppTest on
the demo world (clock frozen at FIXTURE_END).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from datetime import time as dt_time

import pandas as pd
import pytest
from sqlalchemy import func, or_, select

from dashboard import mask, timeutil
from dashboard.config import load_settings, parse_time_of_day
from dashboard.db.schema import audit_log
from dashboard.db.schema import incidents as incidents_t
from dashboard.db.schema import reports as reports_t
from dashboard.db.schema import tasks as tasks_t
from dashboard.filters import Filters
from dashboard.wall import markup as wh
from dashboard.wall import rotation
from queries import disputes, incidents, reports, wall
from tests.apptest import html_text, open_page
from tests.conftest import FIXTURE_END

WALL = "pages/wall/wall.py"


# --- rotation ----------------------------------------------------------------------------


def test_rotate_parses_views_and_dwell_times():
    steps, warnings = rotation.parse_rotate("overview:60, dispatch:30,patrol")
    assert steps == [rotation.Step("overview", 60), rotation.Step("dispatch", 30), rotation.Step("patrol", rotation.DEFAULT_DWELL_S)]
    assert warnings == []
    steps, _ = rotation.parse_rotate("all:45")
    assert [s.view for s in steps] == list(rotation.VIEWS) and {s.dwell_s for s in steps} == {45}


@pytest.mark.parametrize("raw", ["nope:30", "overview:5", "overview:abc", "overview:99999", "dispatch:-3"])
def test_rotate_drops_bad_items_with_a_warning(raw):
    steps, warnings = rotation.parse_rotate(f"trends:20,{raw}")
    assert steps == [rotation.Step("trends", 20)]
    assert len(warnings) == 1 and "已忽略无效的轮播项" in warnings[0]


def test_position_follows_the_clock_with_per_view_dwell():
    steps = [rotation.Step("overview", 60), rotation.Step("dispatch", 30), rotation.Step("patrol", 30)]
    cycle = 120 * 1000  # a multiple of the cycle: position 0
    assert rotation.position(steps, "overview", cycle) == rotation.Position("overview", 0, 3, 60, "dispatch")
    assert rotation.position(steps, "overview", cycle + 59.9).view == "overview"
    assert rotation.position(steps, "overview", cycle + 60) == rotation.Position("dispatch", 1, 3, 30, "patrol")
    assert rotation.position(steps, "overview", cycle + 89).left_s == 1
    assert rotation.position(steps, "overview", cycle + 90).view == "patrol"
    assert rotation.position(steps, "overview", cycle + 120).view == "overview"  # wraps
    # the share of time each view gets is its dwell
    seen = [rotation.position(steps, "overview", cycle + t).view for t in range(120)]
    assert seen.count("overview") == 60 and seen.count("dispatch") == 30 and seen.count("patrol") == 30


def test_no_rotation_means_the_pinned_view():
    assert rotation.position([], "trends", 12345).view == "trends"
    assert rotation.position([rotation.Step("patrol", 30)], "trends", 12345) == rotation.Position("patrol", 0, 1, None, None)
    assert rotation.parse_view("DISPATCH") == ("dispatch", None)
    view, warning = rotation.parse_view("nope")
    assert view == rotation.DEFAULT_VIEW and "view=nope" in warning


def test_next_reload_is_the_next_local_time_after_opening():
    at = dt_time(4, 0)
    opened = datetime(2026, 11, 25, 10, 0)  # 18:00 local
    assert rotation.next_reload(opened, at) == datetime(2026, 11, 25, 20, 0)  # 04:00 local next day
    opened = datetime(2026, 11, 25, 19, 30)  # 03:30 local on the 26th
    assert rotation.next_reload(opened, at) == datetime(2026, 11, 25, 20, 0)  # half an hour later
    assert rotation.next_reload(datetime(2026, 11, 25, 20, 0), at) == datetime(2026, 11, 26, 20, 0)  # just reloaded: tomorrow
    assert rotation.next_reload(opened, None) is None


def test_reload_and_alarm_settings():
    s = load_settings({})
    assert s.wall_reload_at == dt_time(4, 0) and s.alarm_seconds == 300 and s.alarm_sound is False
    s = load_settings({"DASHBOARD_WALL_RELOAD_AT": "off", "DASHBOARD_ALARM_SECONDS": "60", "DASHBOARD_ALARM_SOUND": "1"})
    assert s.wall_reload_at is None and s.alarm_seconds == 60 and s.alarm_sound is True
    assert parse_time_of_day("03:15:30") == dt_time(3, 15, 30)
    for bad in ("25:00", "3", "aa:bb", "03:60"):
        with pytest.raises(ValueError):
            parse_time_of_day(bad)
    with pytest.raises(SystemExit, match="DASHBOARD_WALL_RELOAD_AT"):
        load_settings({"DASHBOARD_WALL_RELOAD_AT": "later"})
    with pytest.raises(SystemExit, match="DASHBOARD_ALARM_SECONDS"):
        load_settings({"DASHBOARD_ALARM_SECONDS": "0"})


# --- alarms ------------------------------------------------------------------------------


def _expected_alarms(world, at: datetime, since: datetime) -> set[str]:
    urgent = select(reports_t.c.id).where(
        reports_t.c.urgency.in_(reports.URGENT), reports_t.c.reported_at >= since, reports_t.c.reported_at < at + timedelta(seconds=1)
    )
    overdue = select(tasks_t.c.id).where(
        tasks_t.c.created_at <= at,
        tasks_t.c.dispatched_at <= at,
        tasks_t.c.deadline_at > since,
        tasks_t.c.deadline_at < at,
        or_(tasks_t.c.feedback_at.is_(None), tasks_t.c.feedback_at > at),
        or_(tasks_t.c.closed_at.is_(None), tasks_t.c.closed_at > at),
    )
    with world.connect() as conn:
        keys = {f"report:{i}" for i in conn.execute(urgent).scalars()}
        keys |= {f"task:{i}" for i in conn.execute(overdue).scalars()}
    return keys


@pytest.mark.parametrize("hours", [6, 48])
@pytest.mark.backend
def test_alarms_are_new_urgent_reports_and_newly_overdue_tasks(world, hours):
    since = FIXTURE_END - timedelta(hours=hours)
    df = wall.alarms(world, Filters(), FIXTURE_END, hours * 3600, limit=1000)
    expected = _expected_alarms(world, FIXTURE_END, since)
    assert expected, "the fixture world should have alarms in this window"
    assert set(df["key"]) == expected
    assert list(df["at"]) == sorted(df["at"], reverse=True)
    assert ((df["kind"] == "report") == df["key"].str.startswith("report:")).all()
    assert (df.loc[df["kind"] == "report", "urgency"].isin(reports.URGENT)).all()
    assert (pd.to_datetime(df["at"]) > since).all() and (pd.to_datetime(df["at"]) <= FIXTURE_END).all()


@pytest.mark.backend
def test_alarms_respect_the_place_filter(world, cat):
    c = cat.by_code("community", "WLT-C02")
    every = wall.alarms(world, Filters(), FIXTURE_END, 48 * 3600, limit=1000)
    mine = wall.alarms(world, Filters(community_id=c.id), FIXTURE_END, 48 * 3600, limit=1000)
    assert set(mine["key"]) == set(every.loc[every["community"] == c.name, "key"])


def test_alarm_text_names_the_place_and_masks_the_officer():
    row = pd.DataFrame([
        {"key": "task:7", "kind": "overdue", "id": 7, "at": datetime(2026, 11, 20, 5, 40), "category": "设施损坏", "urgency": "一般",
         "community": "北岸社区", "grid": "北岸社区第5网格", "officer": "张三丰", "department": None},
        {"key": "report:9", "kind": "report", "id": 9, "at": datetime(2026, 11, 20, 6, 2), "category": "消防隐患", "urgency": "特急",
         "community": "东湖社区", "grid": "东湖社区第3网格", "officer": None, "department": None},
    ])
    out = wh.alarm_html(row)
    assert "13:40 工单超期 · 设施损坏 · 北岸社区第5网格 · " + mask.name("张三丰") in out and "张三丰" not in out
    assert "14:02 特急上报 · 消防隐患 · 东湖社区第3网格" in out
    assert 'data-alarms="2"' in out


# --- the page ------------------------------------------------------------------------------

VIEW_MARKS = {
    "overview": ["最新网格上报", "派单队列", "今日警情与巡逻力量", "警情分时走势"],
    "reports": ["最新网格上报", "今日上报分类", "近30天每日上报"],
    "dispatch": ["派单队列", "本月派单闭环", "本月闭环 · 按社区", "本月闭环 · 按部门"],
    "patrol": ["今日巡逻轨迹覆盖", "在岗巡逻力量", "警情分时走势"],
    "trends": ["近30天每日警情", "警情分类", "网格上报分时走势"],
    "disputes": ["本月矛盾纠纷", "本月纠纷类型", "回访待办", "化解率由低到高"],
    "warning": ["网格预警", "预警类别", "当前无预警 · 共检验", "警情分时走势"],  # the fixture world raises none
}


@pytest.mark.parametrize("view", list(rotation.VIEWS))
def test_every_view_renders_its_panels(app_env, view):
    at = open_page(WALL, {"view": view})
    assert not at.exception, at.exception
    text = html_text(at)
    assert f'data-view="{view}"' in text and rotation.VIEWS[view] in text
    for mark in VIEW_MARKS[view]:
        assert mark in text, (view, mark)
    assert "jw-w-kpis" in text  # the KPI strip is on every view
    assert "Traceback" not in text and "本栏暂不可用" not in text and "数据源暂不可用" not in text


def test_dispute_kinds_panel_shows_the_query_totals(app_env, world):
    """本月纠纷类型: each kind's count and its level-3 disputes as ``disputes.kind_totals``
    gives them (most first), the page adding nothing up itself."""
    mf = Filters().with_period("month", timeutil.local_today(FIXTURE_END))
    kinds = disputes.kind_totals(disputes.by_kind_level(world, mf, mf.window(FIXTURE_END)))
    assert not kinds.empty and int(kinds["escalated"].sum()) > 0
    at = open_page(WALL, {"view": "disputes"})
    assert not at.exception, at.exception
    text = html_text(at)
    shown = re.findall(r'<span class="jw-w-hbar-label">([^<]*)</span><span class="jw-w-hbar-track"><i[^>]*></i></span><span class="jw-w-hbar-fig">([^<]*)</span>',
                       text.split("本月纠纷类型", 1)[1].split("</div></div>", 1)[0])
    want = [(r.kind, f"{r.n}（三级 {r.escalated}）" if r.escalated else f"{r.n}") for r in kinds.itertuples()]
    assert shown and shown == want[: len(shown)]


def test_rotation_shows_the_view_the_clock_says(app_env):
    params = {"rotate": "dispatch:3600,patrol:3600"}
    steps, _ = rotation.parse_rotate(params["rotate"])
    for _ in range(3):  # retry if the run straddled a switch (once an hour)
        before = rotation.position(steps, "overview", time.time()).view
        at = open_page(WALL, params)
        after = rotation.position(steps, "overview", time.time()).view
        if before == after:
            break
    assert not at.exception
    text = html_text(at)
    assert f'data-view="{after}"' in text
    chip = re.search(r'class="jw-w-rot" data-view="(\w+)" data-left="(\d+)"', text)
    assert chip and chip.group(1) == after and 0 < int(chip.group(2)) <= 3600


def test_bad_wall_parameters_are_named_and_ignored(app_env):
    at = open_page(WALL, {"view": "nope", "rotate": "overview:60,bogus:5", "reload": "soon"})
    assert not at.exception
    text = html_text(at)
    assert "已忽略未知的大屏视图 view=nope" in text and "已忽略无效的轮播项 bogus:5" in text and "reload=soon" in text
    assert 'data-view="overview"' in text  # rotate has one usable step: no rotation


def test_alarms_flash_until_acknowledged(app_env, monkeypatch, world):
    monkeypatch.setenv("DASHBOARD_ALARM_SECONDS", str(48 * 3600))
    at = open_page(WALL, {"view": "overview"})
    assert not at.exception
    text = html_text(at)
    m = re.search(r'class="jw-w-alarm" data-alarms="(\d+)"', text)
    assert m, "the fixture world has alarms within 48 hours"
    # the wall's "now" is FIXTURE_END plus the seconds since the session began: allow a margin
    expected = wall.alarms(world, Filters(), FIXTURE_END + timedelta(seconds=120), 48 * 3600 + 120, limit=1000)
    assert 1 <= int(m.group(1)) <= len(expected)
    # alarmed rows on screen flash (the feed is drawn before the alarm tile on the
    # first run; the next run marks them)
    at.run()
    text = html_text(at)
    flashing = set(re.findall(r'class="jw-w-(?:report|task)[^"]* flash" data-(report|task)-id="(\d+)"', text))
    alarm_keys = set(re.findall(r'data-alarm="(\w+:\d+)"', text))
    assert flashing, "some alarmed report or task is on screen"
    assert all(f"{'report' if k == 'report' else 'task'}:{i}" in set(expected["key"]) for k, i in flashing)
    assert alarm_keys <= set(expected["key"])
    ack = at.button(key="wall-ack")
    ack.click().run()
    assert not at.exception
    text = html_text(at)
    assert 'class="jw-w-alarm"' not in text
    at.run()
    assert " flash\"" not in html_text(at)


def test_an_acknowledgement_on_one_screen_silences_every_screen(app_env, monkeypatch, world):
    """已知悉 on one wall: another wall already open stops flashing at its next
    tick, and a wall opened afterwards does not raise the alarm again."""
    monkeypatch.setenv("DASHBOARD_ALARM_SECONDS", str(48 * 3600))
    first = open_page(WALL, {"view": "overview"})
    other = open_page(WALL, {"view": "dispatch"})
    assert 'class="jw-w-alarm"' in html_text(first) and 'class="jw-w-alarm"' in html_text(other)
    first.button(key="wall-ack").click().run()
    assert not first.exception and 'class="jw-w-alarm"' not in html_text(first)
    other.run()
    assert 'class="jw-w-alarm"' not in html_text(other)
    later = open_page(WALL, {"view": "reports"})
    assert not later.exception and 'class="jw-w-alarm"' not in html_text(later)
    # and the audit trail says who acknowledged what


    with world.connect() as c:
        rows = c.execute(select(audit_log.c.username, audit_log.c.detail).where(audit_log.c.action == "wall_ack")).all()
    assert rows and all(r.detail for r in rows)


def test_sound_plays_only_when_asked(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_ALARM_SECONDS", str(48 * 3600))
    quiet = open_page(WALL, {})
    assert not quiet.exception and len(quiet.get("audio")) == 0
    loud = open_page(WALL, {"sound": "1"})
    assert not loud.exception
    audio = loud.get("audio")
    assert len(audio) == 1 and audio[0].proto.autoplay


def test_the_wall_reloads_itself_at_the_set_time(app_env):
    soon = timeutil.to_local(timeutil.utcnow() + timedelta(seconds=2)).replace(microsecond=0)
    at = open_page(WALL, {"reload": f"{soon:%H:%M:%S}"})
    assert not at.exception
    assert "location.reload()" not in html_text(at)
    # wait until the wall's clock has passed the set time (a condition, not a fixed sleep)
    while timeutil.to_local(timeutil.utcnow()) <= soon:
        time.sleep(0.05)
    at.run()
    assert "location.reload()" in html_text(at)
    at.run()  # sent once, not every second
    assert "location.reload()" not in html_text(at)


@pytest.mark.backend
def test_incident_marker_is_the_newest_incident(world):
    with world.connect() as conn:
        assert incidents.latest_id(world) == conn.execute(select(func.max(incidents_t.c.id))).scalar() > 0

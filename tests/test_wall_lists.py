"""The wall's cut lists (issue 12): every list that shows fewer rows than it holds
says so, hides the least urgent, and agrees with the tile beside it.

On the session's demo world (clock frozen at FIXTURE_END), in AppTest: for each
list (派单队列, 最新网格上报, 回访待办, 今日110警情, 在岗巡逻力量) the footer's
figures (``data-total``/``data-shown``/``data-hidden``) equal a COUNT written
here in SQL at the list's own instant (``data-at``), the rows on screen are the
budget, and no hidden row is more overdue (or more urgent, or newer for a feed)
than a shown one; each KPI tile or card equals the header of its list.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import and_, func, or_, select

from dashboard import timeutil
from dashboard.db.schema import disputes as disputes_t
from dashboard.db.schema import grids as grids_t
from dashboard.db.schema import incidents as incidents_t
from dashboard.db.schema import patrol_points, patrol_shifts
from dashboard.db.schema import reports as reports_t
from dashboard.db.schema import tasks as tasks_t
from dashboard.filters import Filters
from dashboard.ui import fmt
from queries import dispatch
from queries.overview import month_window
from tests.apptest import html_text, open_page
from tests.conftest import FIXTURE_END

WALL = "pages/wall/wall.py"
URGENCY_RANK = {"特急": 0, "紧急": 1}  # anything else (一般, none) ranks 2


# --- reading the page --------------------------------------------------------------------


def _block(text: str, tile: str) -> str:
    """The first st.html body of tile ``tile`` (each body is one line of html_text)."""
    for line in text.splitlines():
        if f'class="jw-w-tile jw-w-tile-{tile}"' in line:
            return line
    raise AssertionError(f"no tile {tile} on the page")


def _aside(block: str, title: str) -> str:
    m = re.search(rf'<div class="jw-w-title">{re.escape(title)}<span>(.*?)</span></div>', block)
    assert m, (title, block[:300])
    return m.group(1)


def _foot(block: str) -> dict:
    m = re.search(r'<div class="jw-w-more[^"]*" data-total="(\d+)" data-shown="(\d+)" data-hidden="(\d+)" data-at="([^"]+)">([^<]*)</div>', block)
    assert m, block[-400:]
    return {"total": int(m.group(1)), "shown": int(m.group(2)), "hidden": int(m.group(3)), "at": datetime.fromisoformat(m.group(4)), "text": m.group(5)}


def _ids(block: str, attr: str) -> list[int]:
    ul = re.search(r'<ul class="jw-w-\w+ cols\d" data-rows="(\d+)"[^>]*>(.*?)</ul>', block)
    assert ul, block[:300]
    return [int(i) for i in re.findall(rf'data-{attr}-id="(\d+)"', ul.group(2))]


def _rows(block: str) -> int:
    return int(re.search(r'<ul class="jw-w-\w+ cols\d" data-rows="(\d+)"', block).group(1))


def _kpi(text: str, key: str) -> str:
    m = re.search(rf'data-kpi="{key}" data-value="([^"]*)"', text)
    assert m, key
    return m.group(1)


def _check_foot(block: str, attr: str, expected_total: int) -> tuple[dict, list[int]]:
    """The footer says the truth: total = the COUNT, shown = the rows drawn = min(total, budget)."""
    foot, ids = _foot(block), _ids(block, attr)
    assert foot["total"] == expected_total
    assert foot["shown"] == len(ids) == min(expected_total, _rows(block))
    assert foot["hidden"] == expected_total - len(ids)
    if foot["hidden"]:
        assert f"另 {fmt.count(foot['hidden'])} " in foot["text"] and "未显示" in foot["text"]
    else:
        assert "已全部显示" in foot["text"]
    return foot, ids


def _places(cat, params: dict):
    """The grid ids a URL's place filter means (None: all)."""
    if "community" in params:
        c = cat.by_code("community", params["community"])
        return select(grids_t.c.id).where(grids_t.c.community_id == c.id)
    return None


def _where_place(stmt, col, places):
    return stmt if places is None else stmt.where(col.in_(places))


def _not_by(col, at: datetime):
    return or_(col.is_(None), col > at)


PLACES = [{}, {"community": "WLT-C02"}]
PLACE_IDS = ["all", "community=WLT-C02"]


# --- 派单队列 --------------------------------------------------------------------------------


def _open_tasks(world, at: datetime, places) -> list[dict]:
    """Every open task at ``at`` (created by then, not closed by then) with its 超期
    (dispatched, deadline passed, no feedback by then), written here."""
    stmt = select(tasks_t.c.id, tasks_t.c.urgency, tasks_t.c.deadline_at, tasks_t.c.dispatched_at, tasks_t.c.feedback_at).where(
        tasks_t.c.created_at <= at, _not_by(tasks_t.c.closed_at, at)
    )
    with world.connect() as conn:
        rows = conn.execute(_where_place(stmt, tasks_t.c.grid_id, places)).all()
    out = []
    for r in rows:
        late = (r.dispatched_at is not None and r.dispatched_at <= at and r.deadline_at is not None and r.deadline_at < at
                and (r.feedback_at is None or r.feedback_at > at))
        out.append({"id": r.id, "overdue": late, "urgency": r.urgency, "deadline": r.deadline_at})
    return out


def _task_key(t: dict) -> tuple:
    """How urgent a task is, smaller first: overdue (longest overdue first), then 特急, 紧急, 一般."""
    if t["overdue"]:
        return (0, t["deadline"].timestamp())
    return (1 + URGENCY_RANK.get(t["urgency"], 2), 0.0)


@pytest.mark.parametrize("view, tile", [("overview", "queue"), ("dispatch", "queue2")])
@pytest.mark.parametrize("params", PLACES, ids=PLACE_IDS)
def test_queue_says_what_it_hides_and_hides_the_least_urgent(app_env, world, cat, view, tile, params):
    at = open_page(WALL, {"view": view, **params})
    assert not at.exception, at.exception
    text = html_text(at)
    block = _block(text, tile)
    when = _foot(block)["at"]
    every = _open_tasks(world, when, _places(cat, params))
    foot, ids = _check_foot(block, "task", len(every))
    n_late = sum(t["overdue"] for t in every)
    assert f"未办结 {fmt.count(len(every))} 件 · 超期 {fmt.count(n_late)} 件" in _aside(block, "派单队列")
    # the tile 超期 and the queue's header: one measure (the strip is drawn a moment
    # earlier; the frozen world has no deadline in between, checked here)
    kpi_at = datetime.fromisoformat(re.search(r'class="jw-w-kpis" data-at="([^"]+)"', text).group(1))
    assert sum(t["overdue"] for t in _open_tasks(world, kpi_at, _places(cat, params))) == n_late
    assert _kpi(text, "overdue") == fmt.count(n_late)
    if view == "dispatch":  # and the 本月派单闭环 card 超期 beside the queue (the same loop.overdue_condition)
        card = re.search(r'data-kpi="overdue"><div class="jw-w-card-label">超期</div><div class="jw-w-card-value">([^<]*)</div>', text)
        assert card and card.group(1) == fmt.count(n_late)
    by_id = {t["id"]: t for t in every}
    shown = [by_id[i] for i in ids]
    hidden = [t for t in every if t["id"] not in set(ids)]
    # screen order is urgency order, and nothing hidden outranks anything shown
    assert [_task_key(t) for t in shown] == sorted(_task_key(t) for t in shown)
    if hidden:
        assert max(_task_key(t) for t in shown) <= min(_task_key(t) for t in hidden)
    assert foot["hidden"] == len(hidden)


def test_the_queue_of_the_fixture_world_is_cut_past_its_overdue_tasks(app_env, world):
    """The order test above means something: on the dispatch view the queue holds
    more than its budget and the cut falls after the overdue tasks, among
    tasks of different urgency."""
    at = open_page(WALL, {"view": "dispatch"})
    block = _block(html_text(at), "queue2")
    foot = _foot(block)
    every = _open_tasks(world, foot["at"], None)
    late = [t for t in every if t["overdue"]]
    assert foot["hidden"] > 0 and 0 < len(late) < foot["shown"]
    assert len({URGENCY_RANK.get(t["urgency"], 2) for t in every if not t["overdue"]}) == 3  # urgency decides the rest


# --- 回访待办 -------------------------------------------------------------------------------


def _visits(world, at: datetime, places) -> list[dict]:
    """Every visit 待办 at ``at`` (closed by then, not visited by then, due within 7 days), written here."""
    stmt = select(disputes_t.c.id, disputes_t.c.visit_due_at).where(
        disputes_t.c.closed_at.is_not(None), disputes_t.c.closed_at <= at,
        disputes_t.c.visit_due_at.is_not(None), disputes_t.c.visit_due_at < at + timedelta(days=7),
        _not_by(disputes_t.c.visited_at, at),
    )
    with world.connect() as conn:
        rows = conn.execute(_where_place(stmt, disputes_t.c.grid_id, places)).all()
    return [{"id": r.id, "due": r.visit_due_at, "overdue": r.visit_due_at < at} for r in rows]


@pytest.mark.parametrize("params", PLACES, ids=PLACE_IDS)
def test_visits_show_the_most_overdue_and_agree_with_the_card(app_env, world, cat, params):
    at = open_page(WALL, {"view": "disputes", **params})
    assert not at.exception, at.exception
    text = html_text(at)
    block = _block(text, "dvisits")
    when = _foot(block)["at"]
    every = _visits(world, when, _places(cat, params))
    foot, ids = _check_foot(block, "dispute", len(every))
    n_late = sum(v["overdue"] for v in every)
    assert f"超期 {fmt.count(n_late)} 件 · 7天内到期 {fmt.count(len(every) - n_late)} 件" in _aside(block, "回访待办")
    # the 回访待办 card beside it: the same total and the same 超期
    card = re.search(r'data-kpi="visits"><div class="jw-w-card-label">回访待办</div><div class="jw-w-card-value">([^<]*)</div>'
                     r'<div class="jw-w-card-detail">超期 (\d+)</div>', text)
    assert card, "no 回访待办 card"
    assert card.group(1) == fmt.count(len(every)) and int(card.group(2)) == n_late
    # longest overdue first, then the upcoming ones soonest first; nothing hidden is more overdue
    key = {v["id"]: (0 if v["overdue"] else 1, v["due"]) for v in every}
    shown = [key[i] for i in ids]
    assert shown == sorted(shown)
    hidden = [k for i, k in key.items() if i not in set(ids)]
    if hidden:
        assert max(shown) <= min(hidden)
    assert foot["hidden"] == len(hidden)


@pytest.mark.backend
def test_the_fixture_world_hides_overdue_visits(world):
    """The visit order test bites: the world's overdue visits outnumber the list's rows (7)."""
    assert sum(v["overdue"] for v in _visits(world, FIXTURE_END, None)) > 7


# --- 最新网格上报 ------------------------------------------------------------------------------


@pytest.mark.parametrize("view, tile", [("overview", "feed"), ("reports", "feed2")])
def test_feed_says_how_many_it_holds_newest_first(app_env, world, view, tile):
    at = open_page(WALL, {"view": view})
    assert not at.exception, at.exception
    text = html_text(at)
    block = _block(text, tile)
    when = _foot(block)["at"]
    window = and_(reports_t.c.reported_at >= when - timedelta(days=30), reports_t.c.reported_at < when + timedelta(minutes=1))
    day0 = timeutil.day_start_utc(timeutil.local_today(when))
    today = and_(reports_t.c.reported_at >= day0, reports_t.c.reported_at < when)
    with world.connect() as conn:
        total = conn.execute(select(func.count()).select_from(reports_t).where(window)).scalar()
        n_today = conn.execute(select(func.count()).select_from(reports_t).where(today)).scalar()
        n_urgent = conn.execute(select(func.count()).select_from(reports_t).where(today, reports_t.c.urgency.in_(("紧急", "特急")))).scalar()
        _, ids = _check_foot(block, "report", total)
        oldest_shown = conn.execute(select(func.min(reports_t.c.reported_at)).where(reports_t.c.id.in_(ids))).scalar()
        newest_hidden = conn.execute(select(func.max(reports_t.c.reported_at)).where(window, reports_t.c.id.not_in(ids))).scalar()
    assert newest_hidden is None or newest_hidden <= oldest_shown
    assert f"今日 {fmt.count(n_today)} 条（紧急·特急 {fmt.count(n_urgent)}）· 近30天 {fmt.count(total)} 条" in _aside(block, "最新网格上报")
    assert _kpi(text, "reports_today") == fmt.count(n_today)  # the tile 今日上报 and the feed's 今日
    if view == "reports":
        assert f"共 {fmt.count(n_today)} 条" in _aside(_block(text, "rcat"), "今日上报分类")


# --- 巡逻防控: 今日110警情 and 在岗巡逻力量 ----------------------------------------------------------


def test_patrol_view_lists_agree_with_the_tiles(app_env, world):
    at = open_page(WALL, {"view": "patrol"})
    assert not at.exception, at.exception
    text = html_text(at)
    block = _block(text, "ilist")
    when = _foot(block)["at"]
    day0 = timeutil.day_start_utc(timeutil.local_today(when))
    today = and_(incidents_t.c.received_at >= day0, incidents_t.c.received_at < when)
    with world.connect() as conn:
        n_inc = conn.execute(select(func.count()).select_from(incidents_t).where(today)).scalar()
        _, ids = _check_foot(block, "incident", n_inc)
        oldest_shown = conn.execute(select(func.min(incidents_t.c.received_at)).where(incidents_t.c.id.in_(ids))).scalar()
        newest_hidden = conn.execute(select(func.max(incidents_t.c.received_at)).where(today, incidents_t.c.id.not_in(ids))).scalar()
    assert newest_hidden is None or newest_hidden <= oldest_shown
    assert f"共 {fmt.count(n_inc)} 起" in _aside(block, "今日110警情")
    assert _kpi(text, "incidents_today") == fmt.count(n_inc)

    side = _block(text, "pside")
    foot = _foot(side)
    at_p = foot["at"]
    seen = select(patrol_points.c.shift_id).where(patrol_points.c.at >= at_p - timedelta(minutes=30), patrol_points.c.at < at_p + timedelta(seconds=1))
    on = select(func.count()).select_from(patrol_shifts).where(
        patrol_shifts.c.id.in_(seen), patrol_shifts.c.started_at <= at_p, _not_by(patrol_shifts.c.ended_at, at_p)
    )
    with world.connect() as conn:
        n_on = conn.execute(on).scalar()
    drawn = len(re.findall(r"<tr><td", side))
    assert foot["total"] == n_on and foot["shown"] == drawn and foot["hidden"] == n_on - drawn
    assert f"{fmt.count(n_on)} 组" in _aside(side, "在岗巡逻力量")
    assert _kpi(text, "on_duty") == fmt.count(n_on)


# --- the short tables at the foot -----------------------------------------------------------


def test_foot_tables_say_how_many_rows_they_hold(app_env, world):
    """本月闭环 · 按社区/部门 and 本月各社区: "共 N 个，另 M 个未显示" with N the groups
    of the month, and the groups shown are the worst (lowest rate first)."""

    at = open_page(WALL, {"view": "dispatch"})
    assert not at.exception, at.exception
    text = html_text(at)
    block = _block(text, "dtables")
    when = _foot(_block(text, "queue2"))["at"]
    month = month_window(when)
    cuts = re.findall(r'<b class="jw-w-cut" data-total="(\d+)" data-shown="(\d+)" data-hidden="(\d+)">([^<]*)</b>', block)
    assert len(cuts) == 2
    for (total, shown, hidden, words), by in zip(cuts, ("community", "department")):
        full = dispatch.loop_by(world, Filters(), month, by=by)
        assert int(total) == len(full) and int(shown) + int(hidden) == len(full)
        assert int(shown) == min(len(full), 4)
        if int(hidden):
            assert f"另 {hidden} 个未显示" in words
        # the groups shown have the lowest on-time rates
        rates = full["on_time_rate"].fillna(2.0).sort_values().tolist()
        table = block.split(f"按{'社区' if by == 'community' else '部门'}")[1].split("</table>")[0]
        names = re.findall(r"<tr><td class=\"\">([^<]*)</td>", table)
        shown_rates = sorted(full.set_index("group").loc[names, "on_time_rate"].fillna(2.0).tolist())
        assert shown_rates == rates[: len(names)]

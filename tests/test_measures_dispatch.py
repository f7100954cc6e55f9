"""The dispatch page's measures and queries against figures computed by hand.

The tiny world is tests/handmade.py (T1–T7, unchanged) plus four tasks of our
own (T101–T104) and a second department, in a scratch database of this module.
Window MONTH = [1 Nov 00:00 local, now) = [2026-10-31 16:00, 2026-11-20 06:30) UTC.

    task  grid/community  holder (key)        created    deadline   feedback    closed
    T1    A1 / C1         社区民警 (0)         11-02      11-03 ok   11-02 20:00 11-03 02:00 (26 h)
    T2    A1 / C1         社区民警 (0)         11-05      11-06      11-07 late  11-08 (72 h)
    T3    A1 / C1         社区民警 (0)         11-10      11-11      —           —
    T4    A1 / C1         社区民警 (0)         11-19      11-25      —           —
    T5    A1 / C1         未派发 (-1)          11-20 06:00 —         —           —
    T6    B1 / C2         城市管理局 (1)       10-20      11-02      11-01 ok    11-03 (336 h)
    T7    A2 / C1         社区民警 (0)         11-12      11-13      11-12 ok    11-20 07:00 (after now)
    T101  B1 / C2         市场监管局 (2), 2×转派 11-15    11-16      11-15 ok    11-15 18:00 (18 h)
    T102  B1 / C2         市场监管局 (2)       11-16      11-17      11-18 late  —
    T103  A2 / C1         城市管理局 (1), 1×转派 11-18    11-19 01:00 —          —
    T104  B1 / C2         市场监管局 (2)       10-30      10-31 00:00 10-30 ok   11-01 00:00 (48 h)
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import departments, task_events, tasks
from dashboard.filters import Filters
from queries import dispatch, places
from queries.measures import loop, windows
from queries.measures.arithmetic import Ratio
from tests import handmade as H
from tests.conftest import FIXTURE_END

pytestmark = pytest.mark.backend

ALL = Filters()
C1 = Filters(community_id=H.C1)
C2 = Filters(community_id=H.C2)
D = H.D
OFFICER, NONE, CITY, MARKET = loop.UNIT_OFFICER, loop.UNIT_NONE, 1, 2


def _add_rows(engine) -> None:
    base = dict(h3="x", category="违章搭建", urgency="一般", officer_id=None, updated_at=H.NOW)
    rows = [
        dict(id=101, grid_id=H.B1, department_id=MARKET, created_at=D("2026-11-15 00:00"), state="已办结", dispatched_at=D("2026-11-15 01:00"), deadline_at=D("2026-11-16 01:00"), feedback_at=D("2026-11-15 12:00"), closed_at=D("2026-11-15 18:00"), transfer_count=2),
        dict(id=102, grid_id=H.B1, department_id=MARKET, created_at=D("2026-11-16 00:00"), state="已反馈", dispatched_at=D("2026-11-16 02:00"), deadline_at=D("2026-11-17 02:00"), feedback_at=D("2026-11-18 02:00"), transfer_count=1),
        dict(id=103, grid_id=H.A2, department_id=CITY, created_at=D("2026-11-18 00:00"), state="处置中", dispatched_at=D("2026-11-18 01:00"), deadline_at=D("2026-11-19 01:00"), transfer_count=1),
        dict(id=104, grid_id=H.B1, department_id=MARKET, created_at=D("2026-10-30 00:00"), state="已办结", dispatched_at=D("2026-10-30 01:00"), deadline_at=D("2026-10-31 00:00"), feedback_at=D("2026-10-30 12:00"), closed_at=D("2026-11-01 00:00"), transfer_count=1),
    ]
    ev = dict(officer_id=None, department_id=None, deadline_at=None, note=None)
    events = [
        dict(ev, id=1, task_id=103, seq=1, at=D("2026-11-18 00:00"), event="创建", actor="指挥室 王五", to_state="待研判", note="网格上报：违章搭建"),
        dict(ev, id=2, task_id=103, seq=2, at=D("2026-11-18 01:00"), event="转派", actor="指挥室 王五", to_state="已派发", department_id=CITY, deadline_at=D("2026-11-19 01:00"), note="联系电话13912345678"),
        dict(ev, id=3, task_id=103, seq=3, at=D("2026-11-18 02:00"), event="签收", actor="城市管理局 赵六", to_state="处置中", department_id=CITY),
    ]
    with engine.begin() as conn:
        c = H._Conn(conn)
        c.execute(insert(departments), [dict(id=MARKET, name="市场监管局", kind="市场监督")])
        c.execute(insert(tasks), [{**base, **r} for r in rows])
        c.execute(insert(task_events), events)


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("handdp")
    upgrade(make_writer(url))
    H.build(make_writer(url))
    _add_rows(make_writer(url))
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


def _by_key(df: pd.DataFrame) -> dict:
    return {int(k): r for k, r in zip(df["key"], df.to_dict("records"))}


# --- grouped measures, by hand ---------------------------------------------------------------


def test_scalars_of_the_tiny_world(engine):
    # deadlines in the month: T1 T2 T3 T6 T7 T101 T102 T103; on time: T1 T6 T7 T101
    assert loop.on_time_feedback_rate(engine, ALL, H.MONTH) == Ratio(4, 8)
    # created in the month: T1 T2 T3 T4 T5 T7 T101 T102 T103; closed by now: T1 T2 T101
    assert loop.closure_rate(engine, ALL, H.MONTH) == Ratio(3, 9)
    # closed in the month: T1 26 h, T2 72 h, T6 336 h, T101 18 h, T104 48 h
    assert loop.mean_time_to_close_hours(engine, ALL, H.MONTH) == pytest.approx((26 + 72 + 336 + 18 + 48) / 5)


def test_on_time_feedback_rate_by_department_and_community(engine):
    d = _by_key(loop.on_time_feedback_rate_by(engine, ALL, H.MONTH, "department"))
    assert set(d) == {OFFICER, CITY, MARKET}  # T5 (未派发) has no deadline
    assert (d[OFFICER]["group"], d[OFFICER]["due"], d[OFFICER]["on_time"]) == ("社区民警", 4, 2)  # T1 T7 of T1 T2 T3 T7
    assert (d[CITY]["group"], d[CITY]["due"], d[CITY]["on_time"]) == ("城市管理局", 2, 1)  # T6 of T6 T103
    assert (d[MARKET]["group"], d[MARKET]["due"], d[MARKET]["on_time"]) == ("市场监管局", 2, 1)  # T101 of T101 T102
    assert d[CITY]["rate"] == pytest.approx(0.5)
    c = _by_key(loop.on_time_feedback_rate_by(engine, ALL, H.MONTH, "community"))
    assert (c[H.C1]["group"], c[H.C1]["due"], c[H.C1]["on_time"]) == ("甲社区", 5, 2)  # T1 T2 T3 T7 T103
    assert (c[H.C2]["group"], c[H.C2]["due"], c[H.C2]["on_time"]) == ("乙社区", 3, 2)  # T6 T101 T102
    # place filters apply as in the scalar measure
    only_c2 = _by_key(loop.on_time_feedback_rate_by(engine, C2, H.MONTH, "department"))
    assert {k: (r["due"], r["on_time"]) for k, r in only_c2.items()} == {CITY: (1, 1), MARKET: (2, 1)}


def test_closure_rate_by_department_and_community(engine):
    d = _by_key(loop.closure_rate_by(engine, ALL, H.MONTH, "department"))
    assert {k: (r["created"], r["closed"]) for k, r in d.items()} == {
        OFFICER: (5, 2),  # T1 T2 T3 T4 T7; closed T1 T2 (T7 closes after the window)
        NONE: (1, 0),  # T5, not dispatched
        CITY: (1, 0),  # T103
        MARKET: (2, 1),  # T101 T102; closed T101
    }
    assert d[NONE]["group"] == "未派发" and d[MARKET]["rate"] == pytest.approx(0.5)
    c = _by_key(loop.closure_rate_by(engine, ALL, H.MONTH, "community"))
    assert {k: (r["created"], r["closed"]) for k, r in c.items()} == {H.C1: (7, 2), H.C2: (2, 1)}


def test_time_to_close_by_department_and_community(engine):
    d = _by_key(loop.time_to_close_by(engine, ALL, H.MONTH, "department"))
    assert {k: r["n"] for k, r in d.items()} == {OFFICER: 2, CITY: 1, MARKET: 2}
    assert d[OFFICER]["hours"] == pytest.approx((26 + 72) / 2)
    assert d[CITY]["hours"] == pytest.approx(336)
    assert d[MARKET]["hours"] == pytest.approx((18 + 48) / 2)
    # medians by the nearest rank: 26 h of (26, 72); 18 h of (18, 48)
    assert (d[OFFICER]["median_hours"], d[CITY]["median_hours"], d[MARKET]["median_hours"]) == (pytest.approx(26), pytest.approx(336), pytest.approx(18))
    c = _by_key(loop.time_to_close_by(engine, ALL, H.MONTH, "community"))
    assert c[H.C1]["hours"] == pytest.approx(49) and c[H.C1]["n"] == 2
    assert c[H.C2]["hours"] == pytest.approx((336 + 18 + 48) / 3) and c[H.C2]["n"] == 3
    assert c[H.C2]["median_hours"] == pytest.approx(48)  # 18, 48, 336: the 2nd


def test_grouped_measures_empty_window_and_bad_group(engine):
    empty = (D("2020-01-01"), D("2020-02-01"))
    for fn in (loop.on_time_feedback_rate_by, loop.closure_rate_by, loop.time_to_close_by):
        assert fn(engine, ALL, empty, "community").empty
    assert dispatch.loop_by(engine, ALL, empty, "department").empty
    with pytest.raises(ValueError):
        loop.closure_rate_by(engine, ALL, H.MONTH, "grid")


def test_loop_by_puts_the_three_side_by_side(engine):
    df = dispatch.loop_by(engine, ALL, H.MONTH, "department")
    d = _by_key(df)
    assert list(df["key"]) == [OFFICER, MARKET, CITY, NONE]  # by tasks created, then due: 5, 2 (due 2), 1 (due 2), 1 (due 0)
    none = d[NONE]
    assert (none["group"], none["due"], none["created"], none["closed"], none["closed_in_window"]) == ("未派发", 0, 1, 0, 0)
    assert pd.isna(none["on_time_rate"]) and pd.isna(none["mean_close_hours"]) and none["closure_rate"] == 0
    city = d[CITY]
    assert (city["due"], city["on_time"], city["created"], city["closed_in_window"]) == (2, 1, 1, 1)
    assert city["mean_close_hours"] == pytest.approx(336)


# --- the queue, the snapshot tiles and one task, by hand ------------------------------------------


def test_open_tasks_queue_order(engine):
    df = dispatch.unclosed_tasks(engine, ALL, H.NOW)
    # open now: T3 T103 overdue (deadlines 11-11, 11-19); T4 running; T5 pending; T7 T102 feedback given (11-12, 11-18)
    assert list(df["id"]) == [3, 103, 4, 5, 7, 102]
    assert list(df["overdue"]) == [True, True, False, False, False, False]
    assert list(df["phase"]) == [0, 0, 1, 2, 3, 3]
    assert dispatch.unclosed_count(engine, ALL, H.NOW) == 6
    r = df.set_index("id")
    assert r.loc[3, "minutes_left"] == pytest.approx(-(9 * 1440 + 5 * 60 + 30))  # 11-11 01:00 → 11-20 06:30
    assert r.loc[4, "minutes_left"] == pytest.approx(4 * 1440 + 17 * 60 + 30)  # 11-20 06:30 → 11-25 00:00
    assert pd.isna(r.loc[5, "minutes_left"])
    assert r.loc[103, "department"] == "城市管理局" and pd.isna(r.loc[103, "officer"])
    assert r.loc[4, "officer"] == "张警官" and r.loc[103, "transfer_count"] == 1
    assert (r.loc[103, "community"], r.loc[103, "grid"]) == ("甲社区", "甲社区第2网格")
    # state from the event log where there is one (T103), else the stored state
    assert r.loc[103, "state"] == "处置中" and r.loc[7, "state"] == "已反馈" and r.loc[5, "state"] == "待研判"
    assert int(df["overdue"].sum()) == loop.overdue_count(engine, ALL, H.NOW)
    # places and limit
    assert list(dispatch.unclosed_tasks(engine, C2, H.NOW)["id"]) == [102]
    assert list(dispatch.unclosed_tasks(engine, ALL, H.NOW, limit=2)["id"]) == [3, 103]


def test_open_tasks_in_the_past(engine):
    at = D("2026-11-18 01:30")  # T103 transferred, not yet signed for
    df = dispatch.unclosed_tasks(engine, ALL, at).set_index("id")
    # open then: T3 (overdue), T4? created 11-19: no; T7 (closed after), T102 (no feedback yet, deadline 11-17 02:00: overdue), T103
    assert sorted(df.index) == [3, 7, 102, 103]
    assert df.loc[103, "state"] == "已派发" and df.loc[103, "phase"] == dispatch.PHASE_RUNNING
    assert bool(df.loc[102, "overdue"]) and bool(df.loc[3, "overdue"])
    assert dispatch.unclosed_count(engine, ALL, at) == 4


def test_state_counts_with_and_without_window(engine):
    df = dispatch.state_counts(engine, ALL, H.MONTH)
    assert dict(zip(df.state, df.n)) == {"待研判": 1, "已派发": 1, "处置中": 2, "已反馈": 2, "已办结": 1, "已回访": 2}
    old = dispatch.state_counts(engine, ALL)  # every task, as before
    assert dict(zip(old.state, old.n)) == {"待研判": 1, "已派发": 1, "处置中": 2, "已反馈": 2, "已办结": 3, "已回访": 2}
    # each state's share of the tasks counted (the page's labels): 9 in the month, 11 in all
    assert df["share"].tolist() == [pytest.approx(k / 9) for k in (1, 1, 2, 2, 1, 2)]
    assert dict(zip(old.state, old.share))["已办结"] == pytest.approx(3 / 11)
    none = dispatch.state_counts(engine, ALL, (D("2020-01-01"), D("2020-02-01")))
    assert none["n"].sum() == 0 and none["share"].tolist() == [None] * len(none)


def test_snapshot_counts_by_hand(engine):
    today = windows.periods((D("2026-11-19 16:00"), H.NOW), "today", H.NOW)
    df = dispatch.snapshot_counts(engine, ALL, today)
    assert list(df["instant"]) == ["now", "last_year", "previous"]
    assert list(df["at"]) == [H.NOW, D("2025-11-20 06:30"), D("2026-11-19 06:30")]
    # now: pending T5; in progress T3 T4 T103; overdue T3 T103
    # yesterday 06:30: nothing pending (T4 dispatched at 01:00); in progress T3 T4 T103; overdue T3 T103 (T102 answered 11-18)
    rows = {r["instant"]: (r["pending"], r["in_progress"], r["overdue"]) for r in df.to_dict("records")}
    assert rows == {"now": (1, 3, 2), "previous": (0, 3, 2), "last_year": (0, 0, 0)}
    assert dispatch.snapshot_counts(engine, C2, today)["overdue"].tolist() == [0, 0, 0]
    # the same instant last year is before the first task (T6, 2026-10-20 00:00): "—", not a zero base
    c = dispatch.snapshots_compared(engine, ALL, today, windows.feed_starts(engine).tasks)
    assert (c["in_progress"].value, c["in_progress"].yoy_base, c["in_progress"].pop_base, c["in_progress"].pop) == (3, None, 3, 0.0)


def test_loop_kpis_by_hand(engine):
    f = Filters().with_period("month", date(2026, 11, 20))
    assert f.window(H.NOW) == H.MONTH
    k = {x.key: x for x in dispatch.loop_kpis(engine, f, H.NOW)}
    assert [x.label for x in k.values()] == ["待派单", "处置中", "超期", "本月按时反馈率", "本月办结率", "平均处置时长"]
    # snapshots: now vs the same instant last month, 10-20 06:30 (本月's 环比 window ends there):
    # pending T5 vs none; in progress T3 T4 T103 vs T6 (dispatched 10-20 01:00); overdue T3 T103 vs none
    assert (k["pending"].compared.value, k["pending"].compared.pop_base, k["pending"].compared.pop) == (1, 0, None)
    assert (k["in_progress"].compared.value, k["in_progress"].compared.pop_base, k["in_progress"].compared.pop) == (3, 1, 2.0)
    assert (k["overdue"].compared.value, k["overdue"].compared.pop_base, k["overdue"].alarm) == (2, 0, True)
    # the tasks begin 2026-10-20 00:00 (T6): a year ago is not in the data ("—")
    assert all(k[x].compared.yoy_base is None and k[x].compared.yoy is None for x in k)
    assert k["on_time"].detail == "4/8" and k["on_time"].compared.value == pytest.approx(0.5)
    # 环比 window of the rates: 1–20 Oct 14:30 local = [09-30 16:00, 10-20 06:30), which
    # begins before the first task: unknown, not the 0/1 that was counted before
    assert k["closure"].detail == "3/9" and k["closure"].compared.pop is None and k["closure"].compared.pop_base is None
    # mean of T1 26 h, T2 72 h, T6 336 h, T101 18 h, T104 48 h = 100 h; median (nearest rank, 3rd of 5) = 48 h
    assert k["mean_close"].kind == "hours" and k["mean_close"].compared.value == pytest.approx(100)
    assert k["mean_close"].detail == "小时 · 中位数 48.0"


def test_task_detail(engine):
    t = dispatch.task_detail(engine, 103, H.NOW)
    assert (t.id, t.state, t.department, t.officer, t.transfer_count, t.overdue) == (103, "处置中", "城市管理局", None, 1, True)
    assert (t.community, t.grid, t.report_id, t.report_text) == ("甲社区", "甲社区第2网格", None, None)
    assert t.deadline_at == D("2026-11-19 01:00") and t.closed_at is None
    t1 = dispatch.task_detail(engine, 1)
    assert t1.overdue is None and t1.satisfied is True and t1.officer == "张警官" and t1.report_id is None
    assert dispatch.task_detail(engine, 4, H.NOW).overdue is False
    assert dispatch.task_detail(engine, 999999) is None
    h = dispatch.task_history(engine, 103)
    assert list(h["event"]) == ["创建", "转派", "签收"] and list(h["department"].fillna("")) == ["", "城市管理局", "城市管理局"]


# --- grouped = scalar on the demo world ---------------------------------------------------------


@pytest.mark.parametrize("by", ["department", "community"])
def test_groups_add_up_to_the_scalar_measures_on_the_demo_world(world, by):
    cat = places.catalogue(world)
    w = (datetime(2026, 8, 1), FIXTURE_END)
    for f in (Filters(), Filters(community_id=cat.communities[1].id)):
        a = loop.on_time_feedback_rate_by(world, f, w, by)
        assert Ratio(int(a["on_time"].sum()), int(a["due"].sum())) == loop.on_time_feedback_rate(world, f, w)
        b = loop.closure_rate_by(world, f, w, by)
        assert Ratio(int(b["closed"].sum()), int(b["created"].sum())) == loop.closure_rate(world, f, w)
        c = loop.time_to_close_by(world, f, w, by)
        assert (c["hours"] * c["n"]).sum() / c["n"].sum() == pytest.approx(loop.mean_time_to_close_hours(world, f, w), rel=1e-9)
        assert len(a) > 1 if f == Filters() or by == "department" else len(a) == 1

"""已派单占比 (grid_reports.dispatched_share), the 网格上报 tiles and the page's report
queries against figures computed by hand on a tiny world, on the session's backend.

The world is tests/handmade.py (reports 1–5, none with a task) plus the rows
below. "now" is 2026-11-20 06:30 UTC (14:30 local). The page's period is 近7天:

  W (this period)   = [2026-11-13 16:00, 2026-11-20 06:30)   14 Nov 00:00 local .. now
  P (环比, 7 days)   = [2026-11-06 16:00, 2026-11-13 06:30)
  Y (同比)           = [2025-11-13 16:00, 2025-11-20 06:30)

Reports added (grid, reported_at UTC, urgency; its tasks: dispatched_at):

  101 A1 2026-11-15 00:00 紧急   T101 dispatched 11-15 02:00            → dispatched
  102 A1 2026-11-16 00:00 一般   T102 never dispatched (待研判)          → not
  103 A2 2026-11-17 00:00 一般   no task                                → not
  104 A2 2026-11-18 00:00 特急   T104 dispatched 11-20 07:00 (after now) → not (yet)
  105 A1 2026-11-19 00:00 一般   T105 dispatched 11-19 02:00, and a newer
                                 T115 never dispatched                  → dispatched, counted once
  106 B1 2026-11-14 00:00 特急   T106 transferred 11-14 03:00 (dept)     → dispatched
  107 A1 2026-11-08 00:00 紧急   T107 dispatched 11-08 01:00            (P) → dispatched
  108 A2 2026-11-10 00:00 一般   T108 dispatched 11-14 00:00            (P) → not as of P's end
  109 A2 2026-11-13 06:30 一般   T109 dispatched 11-13 07:00            exactly P's end: in neither P nor W
  110 B1 2026-11-06 16:00 一般   T110 dispatched 11-06 17:00            exactly P's start: in P → dispatched
  111 A1 2025-11-15 00:00 一般   T111 dispatched 2025-11-15 01:00       (Y) → dispatched
  112 B1 2025-11-16 00:00 一般   no task                                (Y) → not
  113 B1 2025-01-01 00:00 一般   no task: the reports table's first record, in no window (Y is covered)

Handmade reports in W: 1, 2 (A1), 4, 5 (B1), without tasks (not dispatched);
report 3 comes after now.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import grid_workers, reports, task_events, tasks
from dashboard.filters import Filters
from queries import reports as rq
from queries.measures import grid_reports, windows
from queries.measures.arithmetic import Ratio
from tests import handmade as H

pytestmark = pytest.mark.backend

D = H.D
NOW = H.NOW
WEEK = Filters().with_period("7d", date(2026, 11, 20))
W = (D("2026-11-13 16:00"), NOW)
P = (D("2026-11-06 16:00"), D("2026-11-13 06:30"))
Y = (D("2025-11-13 16:00"), D("2025-11-20 06:30"))
SECRET_PHONE, SECRET_ID = "13812345678", "350902199001011234"


def _add_rows(engine) -> None:
    rbase = dict(h3="x", lat=26.66, lon=119.55, place="某路2号", category="治安隐患", reporter_id=None, text="测试")
    rows = [
        (101, "2026-11-15 00:00", H.A1, "紧急", "消防隐患", 1, f"楼道堆放杂物，反映人电话{SECRET_PHONE}，身份证{SECRET_ID}。"),
        (102, "2026-11-16 00:00", H.A1, "一般", "噪音扰民", None, "测试"),
        (103, "2026-11-17 00:00", H.A2, "一般", "设施损坏", None, "测试"),
        (104, "2026-11-18 00:00", H.A2, "特急", "治安隐患", None, "测试"),
        (105, "2026-11-19 00:00", H.A1, "一般", "矛盾纠纷", None, "测试"),
        (106, "2026-11-14 00:00", H.B1, "特急", "电诈线索", None, "测试"),
        (107, "2026-11-08 00:00", H.A1, "紧急", "治安隐患", None, "测试"),
        (108, "2026-11-10 00:00", H.A2, "一般", "治安隐患", None, "测试"),
        (109, "2026-11-13 06:30", H.A2, "一般", "治安隐患", None, "测试"),
        (110, "2026-11-06 16:00", H.B1, "一般", "治安隐患", None, "测试"),
        (111, "2025-11-15 00:00", H.A1, "一般", "治安隐患", None, "测试"),
        (112, "2025-11-16 00:00", H.B1, "一般", "治安隐患", None, "测试"),
        (113, "2025-01-01 00:00", H.B1, "一般", "治安隐患", None, "测试"),
    ]
    tbase = dict(h3="x", category="治安隐患", urgency="一般", officer_id=1, department_id=None, deadline_at=None, transfer_count=0, updated_at=NOW)
    trows = [
        # id, report, grid, created, state, dispatched
        (101, 101, H.A1, "2026-11-15 01:00", "处置中", "2026-11-15 02:00"),
        (102, 102, H.A1, "2026-11-16 01:00", "待研判", None),
        (104, 104, H.A2, "2026-11-18 01:00", "已派发", "2026-11-20 07:00"),
        (105, 105, H.A1, "2026-11-19 01:00", "已办结", "2026-11-19 02:00"),
        (115, 105, H.A1, "2026-11-19 03:00", "待研判", None),
        (106, 106, H.B1, "2026-11-14 01:00", "处置中", "2026-11-14 03:00"),
        (107, 107, H.A1, "2026-11-08 00:30", "已派发", "2026-11-08 01:00"),
        (108, 108, H.A2, "2026-11-10 00:30", "已派发", "2026-11-14 00:00"),
        (109, 109, H.A2, "2026-11-13 06:45", "已派发", "2026-11-13 07:00"),
        (110, 110, H.B1, "2026-11-06 16:30", "已派发", "2026-11-06 17:00"),
        (111, 111, H.A1, "2025-11-15 00:30", "已派发", "2025-11-15 01:00"),
    ]
    with engine.begin() as conn:
        c = H._Conn(conn)
        c.execute(insert(grid_workers), [dict(id=1, grid_id=H.A1, name="陈小明", kind="楼栋长", phone="13900001111")])
        c.execute(
            insert(reports),
            [{**rbase, "id": i, "reported_at": D(t), "grid_id": g, "urgency": u, "category": cat, "reporter_id": who, "text": txt} for i, t, g, u, cat, who, txt in rows],
        )
        out = []
        for tid, rid, g, created, state, disp in trows:
            row = {**tbase, "id": tid, "report_id": rid, "grid_id": g, "created_at": D(created), "state": state, "dispatched_at": D(disp) if disp else None}
            if disp:
                row["deadline_at"] = D("2026-11-16 02:00") if tid == 101 else D("2026-11-30 00:00")
            if tid == 105:
                row.update(feedback_at=D("2026-11-19 05:00"), closed_at=D("2026-11-19 06:00"))
            if tid == 106:
                row.update(officer_id=None, department_id=1, transfer_count=1)
            out.append(row)
        c.execute(insert(tasks), out)
        c.execute(
            insert(task_events),
            [
                dict(id=1, task_id=101, seq=1, at=D("2026-11-15 01:00"), event="创建", actor="指挥室 王五", to_state="待研判", officer_id=None, department_id=None, deadline_at=None, note=None),
                dict(id=2, task_id=101, seq=2, at=D("2026-11-15 02:00"), event="派发", actor="指挥室 王五", to_state="已派发", officer_id=1, department_id=None, deadline_at=D("2026-11-16 02:00"), note="请回电13900002222"),
            ],
        )


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("handrep")
    upgrade(make_writer(url))
    H.build(make_writer(url))
    _add_rows(make_writer(url))
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


def test_the_windows_are_the_ones_computed_by_hand():
    assert WEEK.window(NOW) == W
    assert windows.previous_window(W, "7d") == P  # 6.6 days, rounded up to 7
    assert windows.last_year_window(W) == Y


@pytest.mark.parametrize(
    "f, window, expected",
    [
        # W: reports 1, 2, 4, 5, 101–106 = 10; dispatched by now: 101, 105 (once), 106 = 3
        (Filters(), W, Ratio(3, 10)),
        # community C1 = grids A1, A2: 1, 2, 101–105 = 7; dispatched 101, 105
        (Filters(community_id=H.C1), W, Ratio(2, 7)),
        # grid B1: 4, 5, 106; dispatched 106 (transferred to a department)
        (Filters(grid_id=H.B1), W, Ratio(1, 3)),
        # grid A2: 103 (no task), 104 (dispatched only after now)
        (Filters(grid_id=H.A2), W, Ratio(0, 2)),
        # P: 107, 108, 110 (109 sits on P's exclusive end); 108 dispatched only after P's end
        (Filters(), P, Ratio(2, 3)),
        (Filters(community_id=H.C1), P, Ratio(1, 2)),
        # Y: 111 dispatched, 112 without a task
        (Filters(), Y, Ratio(1, 2)),
        (Filters(grid_id=H.B1), Y, Ratio(0, 1)),
        # the month so far: 1, 2, 4, 5, 101–110 = 14; as of now 108 and 109 are dispatched too:
        # 101, 105, 106, 107, 108, 109, 110 = 7
        (Filters(), H.MONTH, Ratio(7, 14)),
        # nothing reported
        (Filters(), (D("2020-01-01 00:00"), D("2020-02-01 00:00")), Ratio(0, 0)),
    ],
)
def test_dispatched_share_by_hand(engine, f, window, expected):
    assert grid_reports.dispatched_share(engine, f, window) == expected


def test_dispatched_share_ignores_incident_categories(engine):
    # the shared filter bar's categories are 110 incident categories: never applied to reports
    assert grid_reports.dispatched_share(engine, Filters(categories=("盗窃",)), W) == Ratio(3, 10)


def test_page_tiles_by_hand(engine):
    tiles = {k.key: k for k in rq.kpis(engine, WEEK, NOW)}
    assert [k.label for k in rq.kpis(engine, WEEK, NOW)] == ["上报总数", "紧急/特急", "已派单占比", "待派单（当前）"]

    total = tiles["reports_total"].compared
    # W 10, Y 2 (111, 112), P 3 (107, 108, 110)
    assert (total.value, total.yoy_base, total.pop_base) == (10, 2, 3)
    assert total.yoy == pytest.approx(4.0) and total.pop == pytest.approx(7 / 3)
    # Poisson, q = 1/2: 10 vs 2 → p = 2·(1+12+66)/4096 = 0.0386 (显著); 10 vs 3 → p = 2·(1+13+78+286)/8192 = 0.092
    assert total.yoy_sig and not total.pop_sig

    urgent = tiles["reports_urgent"].compared
    # W: 101 紧急, 104 特急, 106 特急; Y: none; P: 107 紧急
    assert (urgent.value, urgent.yoy_base, urgent.pop_base) == (3, 0, 1)
    assert urgent.yoy is None and urgent.pop == pytest.approx(2.0)

    share = tiles["dispatched_share"]
    assert share.kind == "rate" and share.detail == "3/10"
    # 3/10 vs Y 1/2 and P 2/3, as percentage points
    assert share.compared.value == pytest.approx(0.3)
    assert share.compared.yoy == pytest.approx(0.3 - 0.5)
    assert share.compared.pop == pytest.approx(0.3 - 2 / 3)

    pending = tiles["pending_now"].compared
    # now: handmade task 5, T102, T104 (dispatched only at 07:00), T115 = 4
    # one period back (P's end, 11-13 06:30): T108 (created 11-10, dispatched 11-14) = 1;
    # T109 comes at 06:45, T107 and T110 were dispatched, the handmade T3 on 11-10
    # a year ago (after the first task, T111 created 2025-11-15): T111 was dispatched → 0
    assert (pending.value, pending.pop_base, pending.yoy_base) == (4, 1, 0)
    assert pending.pop == pytest.approx(3.0) and pending.yoy is None


def test_latest_newest_first_with_page_filters(engine):
    df = rq.latest(engine, Filters(), W)
    assert df["id"].tolist() == [2, 1, 5, 4, 105, 104, 103, 102, 101, 106]
    assert list(df.columns) == rq.LATEST_COLUMNS
    row105 = df.set_index("id").loc[105]
    assert row105["task_id"] == 115 and row105["task_state"] == "待研判"  # the newest of its two tasks
    row101 = df.set_index("id").loc[101]
    assert (row101["reporter"], row101["reporter_kind"], row101["community"], row101["grid"]) == ("陈小明", "楼栋长", "甲社区", "甲社区第1网格")
    assert pd.isna(df.set_index("id").loc[103, "task_state"]) and pd.isna(df.set_index("id").loc[103, "task_id"])  # no task
    assert rq.latest(engine, Filters(), W, urgencies=("紧急", "特急"))["id"].tolist() == [104, 101, 106]
    assert rq.latest(engine, Filters(), W, categories=("消防隐患", "电诈线索"))["id"].tolist() == [101, 106]
    assert rq.latest(engine, Filters(), W, categories=("消防隐患",), urgencies=("特急",)).empty
    assert rq.latest(engine, Filters(), W, limit=3)["id"].tolist() == [2, 1, 5]
    assert rq.latest(engine, Filters(community_id=H.C1), W)["id"].tolist() == [2, 1, 105, 104, 103, 102, 101]
    assert rq.latest(engine, Filters(), P)["id"].tolist() == [108, 107, 110]
    empty = rq.latest(engine, Filters(), (D("2020-01-01 00:00"), D("2020-02-01 00:00")))
    assert empty.empty and list(empty.columns) == rq.LATEST_COLUMNS


def test_urgent_count(engine):
    assert rq.urgent_count(engine, Filters(), W) == 3
    assert rq.urgent_count(engine, Filters(grid_id=H.B1), W) == 1
    assert rq.urgent_count(engine, Filters(), P) == 1


def test_detail(engine):
    d = rq.detail(engine, 101, NOW)
    assert (d.id, d.category, d.urgency, d.community, d.grid, d.reporter, d.reporter_kind) == (101, "消防隐患", "紧急", "甲社区", "甲社区第1网格", "陈小明", "楼栋长")
    assert SECRET_PHONE in d.text  # raw here: the page masks it
    assert (d.task_id, d.task_state, d.officer, d.department, d.assignee) == (101, "处置中", "张警官", None, "张警官")
    assert d.reported_at == D("2026-11-15 00:00") and d.deadline_at == D("2026-11-16 02:00")
    assert d.overdue  # deadline 16 Nov passed, no feedback
    transferred = rq.detail(engine, 106, NOW)
    assert (transferred.assignee, transferred.transfer_count, transferred.overdue) == ("城市管理局", 1, False)
    two_tasks = rq.detail(engine, 105, NOW)
    assert (two_tasks.task_id, two_tasks.task_state) == (115, "待研判")
    untasked = rq.detail(engine, 103, NOW)
    assert untasked.task_id is None and untasked.task_state is None and untasked.assignee is None and not untasked.overdue
    assert rq.detail(engine, 999_999_999, NOW) is None

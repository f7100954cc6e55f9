"""A tiny hand-built world whose measures are computed by hand in the tests.

One station, two communities (C1 with grids A1 and A2; C2 with grid B1).
"now" is 2026-11-20 06:30 UTC (14:30 Asia/Shanghai). The month window used by
the tests is [2026-11-01 00:00 local, now).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from dashboard.db.schema import (
    base_records,
    communities,
    departments,
    disputes,
    grid_workers,
    grids,
    incidents,
    officers,
    reports,
    stations,
    task_events,
    tasks,
)

NOW = datetime(2026, 11, 20, 6, 30)
MONTH = (datetime(2026, 10, 31, 16, 0), NOW)  # 1 Nov 00:00 local .. now
A1, A2, B1 = 1, 2, 3
C1, C2 = 1, 2


def D(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _square(lon: float, lat: float) -> str:
    d = 0.005
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


class _Conn:
    """Fills the columns a row leaves out with NULL so executemany gets uniform rows."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, stmt, rows):
        cols = [c.name for c in stmt.table.columns if c.server_default is None]
        keys = set().union(*rows)
        full = [{**{k: None for k in cols if k not in keys or k not in r}, **r} for r in rows]
        return self.conn.execute(stmt, full)


def build(engine: Engine) -> None:
    with engine.begin() as conn:
        c = _Conn(conn)
        c.execute(insert(stations), [dict(id=1, code="TST", name="测试派出所", branch="测试分局", centroid_lat=26.66, centroid_lon=119.55)])
        c.execute(
            insert(communities),
            [
                dict(id=C1, station_id=1, code="TST-C01", name="甲社区", centroid_lat=26.66, centroid_lon=119.55),
                dict(id=C2, station_id=1, code="TST-C02", name="乙社区", centroid_lat=26.66, centroid_lon=119.56),
            ],
        )
        c.execute(
            insert(grids),
            [
                dict(id=A1, community_id=C1, code="TST-C01-G01", name="甲社区第1网格", boundary_geojson=_square(119.550, 26.660), area_km2=0.25, centroid_lat=26.6625, centroid_lon=119.5525, h3="x", population=100),
                dict(id=A2, community_id=C1, code="TST-C01-G02", name="甲社区第2网格", boundary_geojson=_square(119.555, 26.660), area_km2=0.25, centroid_lat=26.6625, centroid_lon=119.5575, h3="x", population=100),
                dict(id=B1, community_id=C2, code="TST-C02-G01", name="乙社区第1网格", boundary_geojson=_square(119.560, 26.660), area_km2=0.5, centroid_lat=26.6625, centroid_lon=119.5625, h3="x", population=100),
            ],
        )
        c.execute(insert(officers), [dict(id=1, station_id=1, community_id=C1, name="张警官", badge="001", role="民警", phone="13800000000")])
        c.execute(insert(departments), [dict(id=1, name="城市管理局", kind="城市管理")])
        c.execute(
            insert(reports),
            [
                dict(id=i, reported_at=t, grid_id=g, h3="x", lat=26.66, lon=119.55, place="某路1号", category="治安隐患", urgency="一般", text="测试")
                for i, t, g in [
                    (1, D("2026-11-19 16:30"), A1),  # today 00:30 local
                    (2, D("2026-11-20 06:00"), A1),  # today 14:00 local
                    (3, D("2026-11-20 07:00"), B1),  # after now: not counted today
                    (4, D("2026-11-19 05:00"), B1),  # yesterday 13:00 local (before 14:30)
                    (5, D("2026-11-19 07:00"), B1),  # yesterday 15:00 local (after 14:30)
                ]
            ],
        )
        base = dict(h3="x", category="治安隐患", urgency="一般", officer_id=1, updated_at=NOW)
        rows = [
            dict(id=1, grid_id=A1, created_at=D("2026-11-02 00:00"), state="已回访", dispatched_at=D("2026-11-02 01:00"), deadline_at=D("2026-11-03 01:00"), feedback_at=D("2026-11-02 20:00"), closed_at=D("2026-11-03 02:00"), visited_at=D("2026-11-04 00:00"), satisfied=True),
            dict(id=2, grid_id=A1, created_at=D("2026-11-05 00:00"), state="已回访", dispatched_at=D("2026-11-05 01:00"), deadline_at=D("2026-11-06 01:00"), feedback_at=D("2026-11-07 00:00"), closed_at=D("2026-11-08 00:00"), visited_at=D("2026-11-09 00:00"), satisfied=False),
            dict(id=3, grid_id=A1, created_at=D("2026-11-10 00:00"), state="处置中", dispatched_at=D("2026-11-10 01:00"), deadline_at=D("2026-11-11 01:00")),
            dict(id=4, grid_id=A1, created_at=D("2026-11-19 00:00"), state="已派发", dispatched_at=D("2026-11-19 01:00"), deadline_at=D("2026-11-25 00:00")),
            dict(id=5, grid_id=A1, created_at=D("2026-11-20 06:00"), state="待研判", officer_id=None),
            dict(id=6, grid_id=B1, created_at=D("2026-10-20 00:00"), state="已办结", dispatched_at=D("2026-10-20 01:00"), deadline_at=D("2026-11-02 00:00"), feedback_at=D("2026-11-01 00:00"), closed_at=D("2026-11-03 00:00"), officer_id=None, department_id=1),
            dict(id=7, grid_id=A2, created_at=D("2026-11-12 00:00"), state="已反馈", dispatched_at=D("2026-11-12 01:00"), deadline_at=D("2026-11-13 00:00"), feedback_at=D("2026-11-12 10:00"), closed_at=D("2026-11-20 07:00")),
        ]
        c.execute(insert(tasks), [{**base, **r} for r in rows])
        dbase = dict(h3="x", kind="邻里纠纷", parties=2, summary="测试", level=1)
        c.execute(
            insert(disputes),
            [
                {**dbase, "id": 1, "grid_id": A1, "found_at": D("2026-11-01 00:00"), "status": "化解", "closed_at": D("2026-11-05 00:00"), "visited_at": D("2026-11-12 00:00"), "satisfied": True},
                {**dbase, "id": 2, "grid_id": A2, "found_at": D("2026-11-02 00:00"), "status": "未化解", "closed_at": D("2026-11-06 00:00"), "level": 3},
                {**dbase, "id": 3, "grid_id": B1, "found_at": D("2026-10-01 00:00"), "status": "化解", "closed_at": D("2026-10-15 00:00"), "visited_at": D("2026-11-03 00:00"), "satisfied": True},
                {**dbase, "id": 4, "grid_id": B1, "found_at": D("2026-11-15 00:00"), "status": "调处中"},
            ],
        )
        ibase = dict(h3="x", lat=26.66, lon=119.55, place="某路", subtype="其他")
        inc = []
        rid = 0
        for cat, grid, mins in [("盗窃", A1, [5, 10, 15, 20]), ("求助", A2, [3, None]), ("治安", B1, [7, 9, 30])]:
            for m in mins:
                rid += 1
                rec = D("2026-11-10 02:00")
                arr = None if m is None else datetime.fromtimestamp(rec.timestamp() + m * 60)
                inc.append({**ibase, "id": rid, "received_at": rec, "arrived_at": arr, "category": cat, "grid_id": grid})
        # one incident last year on the same day, one outside every window
        inc.append({**ibase, "id": 100, "received_at": D("2025-11-10 02:00"), "arrived_at": None, "category": "盗窃", "grid_id": A1})
        c.execute(insert(incidents), inc)


# --- 量化考核: grid workers and their October 2026 -----------------------------------------
#
# ``build_assessment`` adds, on top of ``build``, seven grid workers and their records of
# October 2026 (local; OCTOBER below is its UTC window) with the figures each should get,
# computed by hand in tests/test_measures_assessment.py. Nothing here touches the rows of
# ``build`` (their reports have no reporter, their tasks and disputes no report).

OCTOBER = (datetime(2026, 9, 30, 16, 0), datetime(2026, 10, 31, 16, 0))
W1, W2, W3, W4, W5, W6, W7 = 11, 12, 13, 14, 15, 16, 17


def build_assessment(engine: Engine) -> None:
    with engine.begin() as conn:
        c = _Conn(conn)
        c.execute(
            insert(grid_workers),
            [
                dict(id=W1, grid_id=A1, name="王小明", kind="网格员", phone="13911112222", active=True),
                dict(id=W2, grid_id=A2, name="李红", kind="楼栋长", phone="13911113333", active=True),
                dict(id=W3, grid_id=A1, name="赵一", kind="网格员", phone="13911114444", active=True),  # nothing this month
                dict(id=W4, grid_id=A2, name="钱二", kind="义警", phone="13911115555", active=False),  # inactive, nothing: not listed
                dict(id=W5, grid_id=B1, name="孙三", kind="网格长", phone="13911116666", active=True),
                dict(id=W6, grid_id=B1, name="周四", kind="信息员", phone="13911117777", active=False),  # inactive with a record: listed
                dict(id=W7, grid_id=B1, name="吴五", kind="信息员", phone="13911118888", active=True),
            ],
        )
        br = []

        def rec(worker, kind, at, n=1, grid=A1):
            for _ in range(n):
                br.append(dict(id=len(br) + 1, grid_id=grid, h3="x", kind=kind, collected_at=at, collector_id=worker))
        rec(W1, "标准地址", D("2026-10-05 02:00"), 3)
        rec(W1, "实有人口", D("2026-10-10 02:00"), 2)
        rec(W1, "实有房屋", D("2026-09-30 16:00"))  # 10-01 00:00 local: in October
        rec(W1, "实有房屋", D("2026-09-30 15:00"))  # 09-30 23:00 local: before it
        rec(W2, "实有人口", D("2026-10-20 02:00"), 400, A2)  # 40 points, capped at 30
        rec(W5, "实有单位", D("2026-10-11 02:00"), 10, B1)
        rec(W5, "实有单位", D("2026-10-31 16:00"), 1, B1)  # 11-01 00:00 local: after it
        rec(W6, "标准地址", D("2026-10-15 02:00"), 1, B1)
        rec(W7, "标准地址", D("2026-10-16 02:00"), 1, B1)
        rec(None, "标准地址", D("2026-10-16 02:00"), 1, B1)  # no collector
        c.execute(insert(base_records), br)

        rp = dict(lat=26.66, lon=119.55, place="某路2号", urgency="一般", text="测试上报")
        c.execute(
            insert(reports),
            [
                {**rp, "id": i, "reporter_id": w, "category": cat, "h3": h, "reported_at": D(t), "grid_id": g}
                for i, w, cat, h, t, g in [
                    (101, W1, "治安隐患", "h1", "2026-10-03 02:00", A1),
                    (102, W2, "治安隐患", "h1", "2026-10-03 20:00", A1),  # 18 h after 101, same cell and category: duplicate
                    (103, W1, "消防隐患", "h1", "2026-10-04 21:00", A1),
                    (104, W1, "消防隐患", "h1", "2026-10-05 22:00", A1),  # 25 h after 103: not a duplicate
                    (105, W1, "矛盾纠纷", "h2", "2026-10-06 00:00", A1),
                    (106, W1, "矛盾纠纷", "h2", "2026-10-08 00:00", A1),  # 48 h after 105
                    (107, W5, "矛盾纠纷", "h3", "2026-10-10 00:00", B1),
                    (108, W5, "噪音扰民", "h3", "2026-09-30 10:00", B1),  # 09-30 18:00 local: before October
                    (109, W5, "噪音扰民", "h3", "2026-09-30 17:00", B1),  # 10-01 01:00 local, 7 h after 108: duplicate
                    (110, W5, "治安隐患", "h4", "2026-10-12 00:00", B1),
                    (111, W2, "违章搭建", "h5", "2026-10-12 00:00", A2),
                    (112, W2, "违章搭建", "h5", "2026-10-12 00:00", A2),  # same instant as 111, higher id: duplicate
                    (113, W1, "其他", "h6", "2026-10-31 17:00", A1),  # 11-01 01:00 local: after October
                    (114, W5, "安全隐患", "h7", "2026-10-20 00:00", B1),  # the station's own hazard category
                ]
            ],
        )
        tb = dict(h3="x", category="治安隐患", urgency="一般", updated_at=NOW)
        rows = [
            # (id, report, grid, created, state, dispatched, deadline, feedback, closed)
            (101, 101, A1, "2026-10-03 03:00", "已办结", "2026-10-03 04:00", "2026-10-04 00:00", "2026-10-03 12:00", "2026-10-03 20:00"),  # on time
            (102, 103, A1, "2026-10-04 22:00", "已办结", "2026-10-04 23:00", "2026-10-06 00:00", "2026-10-07 00:00", "2026-10-07 10:00"),  # late
            (103, 105, A1, "2026-10-06 01:00", "处置中", "2026-10-06 02:00", "2026-10-30 00:00", None, None),  # open past its deadline: late
            (104, 102, A1, "2026-10-03 21:00", "处置中", "2026-10-03 22:00", "2026-11-05 00:00", None, None),  # due in November
            (105, 108, B1, "2026-09-30 10:30", "已办结", "2026-09-30 10:45", "2026-09-30 15:00", "2026-09-30 14:00", "2026-10-01 00:00"),  # due in September
            (106, 109, B1, "2026-09-30 18:00", "已办结", "2026-09-30 19:00", "2026-10-15 00:00", "2026-10-14 00:00", "2026-10-14 05:00"),  # on time
            (107, 110, B1, "2026-10-12 01:00", "已办结", None, None, None, "2026-10-12 03:00"),  # closed, never sent: 不予受理
            (108, 104, A1, "2026-10-05 23:00", "已办结", None, None, None, "2026-11-02 00:00"),  # never sent, closed in November
            (109, 106, A1, "2026-10-08 00:30", "已办结", "2026-10-08 01:00", "2026-10-09 00:00", "2026-10-09 00:00", "2026-10-09 03:00"),  # on time (at the deadline)
            (110, 111, A2, "2026-10-12 01:00", "已办结", None, None, None, "2026-10-13 00:00"),  # no dispatched_at, but a 转派 event: not rejected
        ]
        c.execute(
            insert(tasks),
            [
                {**tb, "id": i, "report_id": r, "grid_id": g, "created_at": D(cr), "state": st,
                 "dispatched_at": D(ds) if ds else None, "deadline_at": D(dl) if dl else None,
                 "feedback_at": D(fb) if fb else None, "closed_at": D(cl) if cl else None}
                for i, r, g, cr, st, ds, dl, fb, cl in rows
            ],
        )
        c.execute(
            insert(task_events),
            [
                dict(id=101, task_id=109, seq=1, at=D("2026-10-08 01:00"), event="派发", actor="指挥室", to_state="已派发"),
                dict(id=102, task_id=110, seq=1, at=D("2026-10-12 02:00"), event="转派", actor="指挥室", to_state="已派发"),
            ],
        )
        db = dict(h3="x", kind="邻里纠纷", parties=2, summary="测试", level=1)
        c.execute(
            insert(disputes),
            [
                {**db, "id": 101, "report_id": 105, "grid_id": A1, "found_at": D("2026-10-06 01:00"), "status": "化解", "closed_at": D("2026-10-20 00:00")},
                {**db, "id": 102, "report_id": 106, "grid_id": A1, "found_at": D("2026-10-08 01:00"), "status": "化解", "closed_at": D("2026-11-03 00:00")},  # resolved after October
                {**db, "id": 103, "report_id": 107, "grid_id": B1, "found_at": D("2026-10-10 01:00"), "status": "调处中"},
            ],
        )

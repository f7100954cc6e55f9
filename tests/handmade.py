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

from dashboard.db.schema import communities, departments, disputes, grids, incidents, officers, reports, stations, tasks

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

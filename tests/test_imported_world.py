"""Every desk page and every wall view on a station's own data, loaded with
``python -m dashboard.load``: MultiPolygon places with a hole and an enclave,
English and 60-character categories, incidents outside every grid, reports
whose export has no urgency, tasks without officers, one imported patrol track, no cameras,
no grid workers. No exception, no traceback, and the rows outside every grid
counted where the figures are by place."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from shapely.geometry import Point, shape
from shapely.ops import unary_union
from shapely.validation import make_valid

from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.wall import rotation
from dashboard.writers.load.mapping import load_mapping, parse_mapping
from dashboard.writers.load.places import load_places
from dashboard.writers.load.records import load_records
from tests.apptest import html_text, open_page
from tests.conftest import audit_url, reader_url
from tests.test_load import EXAMPLES, LONG_CATEGORY, X0, Y0, D, _features

pytestmark = pytest.mark.backend

NOW = datetime(2026, 11, 20, 6, 30)  # UTC
PAGES = ["overview", "reports", "dispatch", "patrol", "trends", "disputes", "grid", "warning", "assessment", "briefing"]
CATEGORIES = ["Theft from Vehicle", LONG_CATEGORY, "盗窃", "治安", "电信诈骗"]
FAR = (X0 + 10 * D, Y0 + D / 2)  # east of every grid
GPS_START = NOW - timedelta(hours=3)  # the imported patrol track: a fix every 2 minutes since, across grid C


def _local_midnight(d: date) -> datetime:
    """00:00 Asia/Shanghai on ``d``, as naive UTC."""
    return datetime(d.year, d.month, d.day) - timedelta(hours=8)


# The windows the figures use at NOW (14:30 local on 2026-11-20), written out by hand.
WINDOWS = {
    "30d": (_local_midnight(date(2026, 10, 22)), NOW),  # the desk's 近30天: 29 days and today so far
    "today": (_local_midnight(date(2026, 11, 20)), NOW),
    "7d": (_local_midnight(date(2026, 11, 14)), NOW),
    "month": (_local_midnight(date(2026, 11, 1)), NOW),
    "tracked": (GPS_START, NOW),  # the patrol page's window: the stored tracks begin then
}


@dataclass
class World:
    """The imported world's database and, per kind, each source row's event time
    (naive UTC) and where the test itself puts it: "in" a grid, "outside", "unlocated"."""

    url: str
    rows: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)

    def away(self, kind: str, window: str) -> tuple[int, int]:
        """(outside, unlocated) rows of ``kind`` in the named window."""
        a, b = WINDOWS[window]
        where = [w for at, w in self.rows[kind] if a <= at < b]
        return where.count("outside"), where.count("unlocated")


def _grids_union():
    return unary_union([make_valid(shape(ft["geometry"])) for ft in _features() if ft["geometry"]])


def _where(union, x: str, y: str) -> str:
    """The test's own placing of a source row's point (the file's text, as the loader reads it)."""
    if not x or not y:
        return "unlocated"
    return "in" if union.covers(Point(float(x), float(y))) else "outside"


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _point(rng: random.Random) -> tuple[float, float]:
    return X0 - 0.02 + rng.random() * (4 * D + 0.03), Y0 + rng.random() * 3 * D  # some fall in no grid


@pytest.fixture(scope="module")
def imported(scratch, tmp_path_factory) -> World:
    return build_world(scratch, tmp_path_factory.mktemp("imported"))


def build_world(scratch, tmp) -> World:  # conftest's ScratchDatabases, a Path
    """The imported world in a new scratch database, its files written under ``tmp``."""
    union = _grids_union()
    url = scratch.new("imported")
    engine = make_writer(url)
    upgrade(engine)
    places = tmp / "grids.geojson"
    places.write_text(json.dumps({"type": "FeatureCollection", "features": _features()}, ensure_ascii=False), encoding="utf-8")
    load_places(engine, places, station="IMP", station_name="湖滨派出所", crs="EPSG:4326", name_field="name", code_field="code", community_field="community")
    rng = random.Random(11)
    inc = []
    for i in range(400):
        x, y = _point(rng)
        t = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 45)) + timedelta(hours=8)
        inc.append({"id": f"JJ{i:05d}", "time": t.strftime("%Y-%m-%d %H:%M:%S"), "cat": rng.choice(CATEGORIES), "x": f"{x:.6f}", "y": f"{y:.6f}", "place": f"湖滨路{i}号"})
    # today, for the wall: three far outside, two with no point; one with no point 20 days ago
    for i, (minutes, xy) in enumerate([(10, FAR), (20, FAR), (30, FAR), (40, None), (50, None), (20 * 24 * 60, None)]):
        t = NOW - timedelta(minutes=minutes) + timedelta(hours=8)
        x, y = (f"{xy[0]:.6f}", f"{xy[1]:.6f}") if xy else ("", "")
        inc.append({"id": f"JX{i:03d}", "time": t.strftime("%Y-%m-%d %H:%M:%S"), "cat": "盗窃", "x": x, "y": y, "place": "湖滨路外"})
    (tmp / "inc.csv").write_bytes(_csv(inc))
    m = parse_mapping({"source": {"system": "110", "crs": "EPSG:4326"}, "fields": {"id": "id", "received_at": "time", "category": "cat", "x": "x", "y": "y", "place": "place"}}, "incidents")
    s = load_records(engine, "incidents", tmp / "inc.csv", m)
    assert s.counts["outside"] > 0 and s.counts["inserted"] > 100
    rep = []
    states = ["待处理", "已派遣", "处理中", "已反馈", "已办结"]
    for i in range(120):
        x, y = _point(rng)
        t = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 40)) + timedelta(hours=8)
        st = rng.choice(states)
        done = st == "已办结"
        rep.append({
            "事件编号": f"SJ{i:05d}", "上报时间": t.strftime("%Y-%m-%d %H:%M:%S"), "事件类型": rng.choice(["安全隐患", "消防安全", "Broken streetlight", "纠纷"]),
            "事件描述": "楼道堆放杂物", "事发地址": f"湖滨路{i}号", "经度": f"{x:.6f}", "纬度": f"{y:.6f}", "网格编码": "",
            "处置状态": st, "承办部门": rng.choice(["", "城管执法中队", "社区居委会"]) if st != "待处理" else "",
            "派遣时间": (t + timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M:%S") if st != "待处理" else "",
            "反馈时间": (t + timedelta(hours=30)).strftime("%Y-%m-%d %H:%M:%S") if st in ("已反馈", "已办结") else "",
            "办结时间": (t + timedelta(hours=50)).strftime("%Y-%m-%d %H:%M:%S") if done else "",
            "回访结果": rng.choice(["满意", "不满意", ""]) if done else "",
        })
    for i, (minutes, xy) in enumerate([(15, FAR), (25, FAR), (35, None)]):  # today: two outside, one with no point and no grid
        t = NOW - timedelta(minutes=minutes) + timedelta(hours=8)
        rep.append({**rep[0], "事件编号": f"SX{i:03d}", "上报时间": t.strftime("%Y-%m-%d %H:%M:%S"), "经度": f"{xy[0]:.6f}" if xy else "", "纬度": f"{xy[1]:.6f}" if xy else "",
                    "处置状态": "待处理", "承办部门": "", "派遣时间": "", "反馈时间": "", "办结时间": "", "回访结果": ""})
    (tmp / "rep.csv").write_bytes(_csv(rep))
    fields = {
        "id": "事件编号", "reported_at": "上报时间", "category": {"column": "事件类型", "map": {"安全隐患": "治安隐患", "消防安全": "消防隐患", "纠纷": "矛盾纠纷"}},
        "text": "事件描述", "place": "事发地址", "x": "经度", "y": "纬度", "grid": "网格编码",
        "state": {"column": "处置状态", "map": {"待处理": "待研判", "已派遣": "已派发", "处理中": "处置中", "已反馈": "已反馈", "已办结": "已办结"}, "unmapped": "reject"},
        "department": "承办部门", "dispatched_at": "派遣时间", "feedback_at": "反馈时间", "closed_at": "办结时间",
        "satisfied": {"column": "回访结果", "map": {"满意": "是", "不满意": "否"}, "unmapped": "null"},
    }
    m = parse_mapping({"source": {"system": "网格通", "crs": "EPSG:4326"}, "fields": fields, "deadline_rules": [{"working_days": 10}]}, "reports")
    load_records(engine, "reports", tmp / "rep.csv", m)
    dis = []
    for i in range(30):
        t = NOW - timedelta(days=rng.randint(0, 60))
        status = rng.choice(["已化解", "调处中", "未化解"])
        dis.append({"台账编号": f"TZ{i}", "排查日期": t.strftime("%Y-%m-%d"), "纠纷类型": rng.choice(["邻里纠纷", "Parking dispute", "物业纠纷"]), "化解情况": status,
                    "调处层级": rng.choice(["网格员", "社区民警", "司法所"]), "当事人数": "2", "简要情况": "停车", "办结日期": (t + timedelta(days=3)).strftime("%Y-%m-%d") if status != "调处中" else "",
                    "所属网格": rng.choice(["东湖网格", "南岸网格", "北山网格"])})
    # no grid named (three this month), and a grid that does not exist (last month, within 近30天)
    for i, (day, grid) in enumerate([("2026-11-05", ""), ("2026-11-18", ""), ("2026-11-20", ""), ("2026-10-25", "西湖网格")]):
        dis.append({**dis[0], "台账编号": f"TX{i}", "排查日期": day, "化解情况": "调处中", "办结日期": "", "所属网格": grid})
    (tmp / "dis.csv").write_bytes(_csv(dis))

    load_records(engine, "disputes", tmp / "dis.csv", load_mapping(EXAMPLES / "disputes.toml", "disputes"))
    # A patrol car's GPS export: one shift across grid C, two fixes far outside, one with no position.
    gps = [{"车辆": "湖滨巡逻一车", "时间": (GPS_START + timedelta(minutes=2 * k, hours=8)).strftime("%Y-%m-%d %H:%M:%S"),
            "经度": f"{X0 + D + 0.001 + 0.0001 * k:.6f}", "纬度": f"{Y0 + 0.002:.6f}"} for k in range(90)]
    for minutes, xy in ((50, FAR), (40, FAR), (30, None)):
        gps.append({**gps[0], "时间": (NOW - timedelta(minutes=minutes, seconds=30) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S"),
                    "经度": f"{xy[0]:.6f}" if xy else "", "纬度": f"{xy[1]:.6f}" if xy else ""})
    (tmp / "gps.csv").write_bytes(_csv(gps))
    g = load_records(engine, "gps", tmp / "gps.csv", parse_mapping(
        {"source": {"system": "车载定位", "crs": "EPSG:4326"}, "fields": {"team": "车辆", "time": "时间", "x": "经度", "y": "纬度"}}, "gps"))
    assert g.counts["inserted"] == 90 and g.counts["outside"] == 2 and g.counts["unlocated"] == 1
    engine.dispose()
    world = World(reader_url(url))
    local = timedelta(hours=8)
    world.rows["incidents"] = [(datetime.strptime(r["time"], "%Y-%m-%d %H:%M:%S") - local, _where(union, r["x"], r["y"])) for r in inc]
    world.rows["reports"] = [(datetime.strptime(r["上报时间"], "%Y-%m-%d %H:%M:%S") - local, _where(union, r["经度"], r["纬度"])) for r in rep]
    names = {ft["properties"]["name"] for ft in _features()}
    world.rows["disputes"] = [(_local_midnight(date.fromisoformat(r["排查日期"])), "in" if r["所属网格"] in names else "unlocated") for r in dis]
    world.rows["gps"] = [(datetime.strptime(r["时间"], "%Y-%m-%d %H:%M:%S") - local, _where(union, r["经度"], r["纬度"])) for r in gps]
    return world


@pytest.fixture(scope="module")
def imported_url(imported) -> str:
    return imported.url


@pytest.fixture
def imported_env(imported_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", imported_url)
    if (a := audit_url(imported_url)) is not None:
        monkeypatch.setenv("DASHBOARD_AUDIT_URL", a)
    monkeypatch.setenv("DASHBOARD_NOW", NOW.isoformat())


def _clean(at) -> str:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    text = html_text(at)
    assert "Traceback" not in text and "本栏暂不可用" not in text and "数据源暂不可用" not in text
    return text


@pytest.mark.parametrize("page", PAGES)
def test_every_desk_page_renders_on_imported_data(imported_env, page):
    params = {"grid": "G-A"} if page == "grid" else {"period": "30d"}
    text = _clean(open_page(f"pages/desk/{page}.py", params))
    assert "湖滨派出所" in text


def test_the_station_categories_filter_and_outside_rows(imported_env):
    text = _clean(open_page("pages/desk/trends.py", {"period": "30d", "cat": f"Theft from Vehicle,{LONG_CATEGORY}"}))
    assert "Theft from Vehicle" in text and LONG_CATEGORY in text
    text = _clean(open_page("pages/desk/overview.py", {"period": "30d"}))
    assert "辖区外" in text


@pytest.mark.parametrize("view", list(rotation.VIEWS))
def test_every_wall_view_renders_on_imported_data(imported_env, view):
    text = _clean(open_page("pages/wall/wall.py", {"view": view}))
    assert f'data-view="{view}"' in text


# --- 辖区外: the rows in no grid, said beside the figures by place -----------------------

# page → (its URL parameters, the kinds its figures by place count, with the note's noun)
DESK_NOTES = {
    "overview": ({"period": "30d"}, [("incidents", "起警情")]),
    "trends": ({"period": "30d"}, [("incidents", "起警情")]),
    "reports": ({"period": "30d"}, [("reports", "件网格上报")]),
    "dispatch": ({"period": "30d"}, [("reports", "件网格上报")]),
    "disputes": ({"period": "30d"}, [("disputes", "起矛盾纠纷")]),
    "grid": ({"period": "30d"}, [("incidents", "起警情"), ("reports", "件网格上报"), ("disputes", "起矛盾纠纷")]),
    # the patrol page judges only the tracked part of the period
    "patrol": ({"period": "30d"}, [("incidents", "起警情"), ("gps", "个巡逻定位点")], "tracked"),
}
# wall view → (kind, window, what the line says it counts, unit)
WALL_NOTES = {
    "overview": ("incidents", "today", "今日警情", "起"),
    "patrol": ("incidents", "today", "今日警情", "起"),
    "reports": ("reports", "today", "今日上报", "条"),
    "dispatch": ("reports", "month", "本月上报（未建派单）", "条"),
    "trends": ("incidents", "7d", "近7天警情", "起"),
    "disputes": ("disputes", "month", "本月纠纷", "起"),
}


def _counted(text: str, label: str, noun: str) -> set[int]:
    """The figures the page gives for ``label`` ("辖区外", "无法定位") and ``noun`` (a block's text may be walked more than once)."""
    return {int(n.replace(",", "")) for n in re.findall(label + r" ([\d,]+) " + re.escape(noun) + "（", text)}


def test_the_fixture_has_rows_outside_and_unlocated_in_every_window(imported):
    """Else the checks below could pass on pages that never say anything."""
    for kind in ("incidents", "reports"):
        for window in ("30d", "today"):
            out, unl = imported.away(kind, window)
            assert out > 0 and unl > 0, (kind, window, out, unl)
    assert imported.away("disputes", "month") == (0, 3) and imported.away("disputes", "30d") == (0, 4)
    assert imported.away("gps", "tracked") == (2, 1) and all(imported.away("incidents", "tracked"))


@pytest.mark.parametrize("page", list(DESK_NOTES))
def test_desk_pages_say_how_many_rows_fell_outside(imported, imported_env, page):
    params, kinds, *window = DESK_NOTES[page]
    text = _clean(open_page(f"pages/desk/{page}.py", params))
    for kind, noun in kinds:
        out, unl = imported.away(kind, (window or ["30d"])[0])
        assert _counted(text, "辖区外", noun) == ({out} if out else set()), kind
        assert _counted(text, "无法定位", noun) == ({unl} if unl else set()), kind
    # narrowed to a grid: those rows are in no grid nor community, so nothing is said
    text = _clean(open_page(f"pages/desk/{page}.py", {**params, "grid": "G-A"}))
    assert "辖区外" not in text and "无法定位" not in text


def _wall_line(what: str, unit: str, out: int, unl: int) -> str:
    parts = ([f"辖区外 {out:,} {unit}"] if out else []) + ([f"无法定位 {unl:,} {unit}"] if unl else [])
    return f"{what}另有 {' · '.join(parts)}，未计入各网格"


@pytest.mark.parametrize("view", list(WALL_NOTES))
def test_wall_views_say_how_many_rows_fell_outside(imported, imported_env, view):
    kind, window, what, unit = WALL_NOTES[view]
    out, unl = imported.away(kind, window)
    text = _clean(open_page("pages/wall/wall.py", {"view": view}))
    assert f'data-view="{view}"' in text
    assert _wall_line(what, unit, out, unl) in text, re.findall(r"jw-w-away[^<]*", text)
    assert len(set(re.findall(r'jw-w-away">[^<]*', text))) == 1


@pytest.mark.parametrize("page", PAGES)
def test_the_demo_world_says_nothing_about_rows_outside(app_env, page):
    text = _clean(open_page(f"pages/desk/{page}.py", {"period": "30d"}))
    assert "辖区外" not in text and "无法定位" not in text


@pytest.mark.parametrize("view", list(rotation.VIEWS))
def test_the_demo_wall_says_nothing_about_rows_outside(app_env, view):
    text = _clean(open_page("pages/wall/wall.py", {"view": view}))
    assert "jw-w-away" not in text and "辖区外" not in text

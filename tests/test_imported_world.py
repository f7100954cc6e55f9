"""Every desk page and every wall view on a station's own data, loaded with
``python -m dashboard.load``: MultiPolygon places with a hole and an enclave,
English and 60-character categories, incidents outside every grid, reports
whose export has no urgency, tasks without officers, no patrols, no cameras,
no grid workers. No exception, no traceback, and the rows outside every grid
counted where the figures are by place."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime, timedelta

import pytest

from dashboard import rotation
from dashboard.database import make_writer
from dashboard.load.mapping import parse_mapping
from dashboard.load.places import load_places
from dashboard.load.records import load_records
from dashboard.migrate import upgrade
from tests.apptest import html_text, open_page
from tests.conftest import audit_url, reader_url
from tests.test_load import D, LONG_CATEGORY, X0, Y0, _features

NOW = datetime(2026, 11, 20, 6, 30)  # UTC
PAGES = ["overview", "reports", "dispatch", "patrol", "trends", "disputes", "grid"]
CATEGORIES = ["Theft from Vehicle", LONG_CATEGORY, "盗窃", "治安", "电信诈骗"]


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _point(rng: random.Random) -> tuple[float, float]:
    return X0 - 0.02 + rng.random() * (4 * D + 0.03), Y0 + rng.random() * 3 * D  # some fall in no grid


@pytest.fixture(scope="module")
def imported_url(scratch, tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("imported")
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
    (tmp / "dis.csv").write_bytes(_csv(dis))
    from tests.test_load import EXAMPLES
    from dashboard.load.mapping import load_mapping

    load_records(engine, "disputes", tmp / "dis.csv", load_mapping(EXAMPLES / "disputes.toml", "disputes"))
    engine.dispose()
    return reader_url(url)


@pytest.fixture
def imported_env(imported_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", imported_url)
    if (a := audit_url(imported_url)) is not None:
        monkeypatch.setenv("DASHBOARD_AUDIT_URL", a)
    monkeypatch.setenv("DASHBOARD_NOW", NOW.isoformat())


def _clean(at) -> str:  # noqa: ANN001
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

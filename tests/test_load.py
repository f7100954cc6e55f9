"""python -m dashboard.load: a station's own places and records, on both backends.

Every fixture is built here: a GeoJSON/KML/zipped Shapefile (GBK .dbf) of a
station whose grid A is a MultiPolygon with a hole and an island, whose grid
B is the enclave filling that hole, with a neighbour C sharing A's east edge,
a bow-tie that must be repaired, an overlap and a gap; a GB18030 CSV of
incidents (18-digit ids, a 60-character category, points in the hole, on a
boundary, outside every grid, a malformed time, a duplicate); an Excel file
whose ids Excel stores as numbers; reports with tasks and a deadline rule;
disputes placed by grid name; GPS tracks of two patrol teams (a gap that splits
a shift, a fix outside every grid, a bad time, a re-import, an overlapping later
export, a fix that bridges two shifts, named shifts).
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import shapefile
from sqlalchemy import func, select

from dashboard.db import schema
from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.filters import Filters
from dashboard.writers.load.cli import main as load_main
from dashboard.writers.load.mapping import MappingError, load_mapping, parse_mapping
from dashboard.writers.load.places import load_places
from dashboard.writers.load.records import load_records, rejected_rows
from dashboard.writers.load.sources import open_table, read_features
from dashboard.writers.load.vocab import load_vocabulary
from queries import patrol
from queries.imports import outside_rows
from queries.measures import hotspots
from queries.vocabulary import vocabulary

EXAMPLES = Path(__file__).resolve().parents[1] / "dashboard" / "writers" / "load" / "examples"
pytestmark = pytest.mark.backend

X0, Y0, D = 119.50, 26.60, 0.01  # the station's south-west corner and a grid's size (degrees)
LONG_CATEGORY = "Theft of property from a motor vehicle parked on a public st"  # 60 characters
assert len(LONG_CATEGORY) == 60


def _box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def _features() -> list[dict]:
    """A: a square with a hole (filled by B) and an island; C east of A; F
    overlapping C's east edge; E a bow-tie east of F; G a U whose gap A closes."""
    a_outer = _box(X0, Y0, X0 + D, Y0 + D)
    hole = _box(X0 + 0.003, Y0 + 0.003, X0 + 0.007, Y0 + 0.007)
    island = _box(X0 - 0.02, Y0, X0 - 0.015, Y0 + 0.005)
    c = _box(X0 + D, Y0, X0 + 2 * D, Y0 + D)
    bowtie = [[X0 + 3 * D, Y0], [X0 + 4 * D, Y0 + D], [X0 + 4 * D, Y0], [X0 + 3 * D, Y0 + D], [X0 + 3 * D, Y0]]  # east of F
    f = _box(X0 + 2 * D - 0.001, Y0, X0 + 3 * D, Y0 + D)  # overlaps C by 0.001° × D
    # G: a U over the square north of A, open to the south where A closes it: a gap of D × D.
    g = [[X0 - D, Y0 + D], [X0, Y0 + D], [X0, Y0 + 2 * D], [X0 + D, Y0 + 2 * D], [X0 + D, Y0 + D], [X0 + 2 * D, Y0 + D],
         [X0 + 2 * D, Y0 + 3 * D], [X0 - D, Y0 + 3 * D], [X0 - D, Y0 + D]]

    def feat(code: str, name: str, comm: str, geom: dict) -> dict:
        return {"type": "Feature", "properties": {"code": code, "name": name, "community": comm, "pop": "1200"}, "geometry": geom}

    return [
        feat("G-A", "东湖网格", "东湖社区", {"type": "MultiPolygon", "coordinates": [[a_outer, hole[::-1]], [island]]}),
        feat("G-B", "湖心网格", "东湖社区", {"type": "Polygon", "coordinates": [hole]}),
        feat("G-C", "南岸网格", "南岸社区", {"type": "Polygon", "coordinates": [c]}),
        feat("G-E", "蝴蝶网格", "南岸社区", {"type": "Polygon", "coordinates": [bowtie]}),
        feat("G-F", "码头网格", "南岸社区", {"type": "Polygon", "coordinates": [f]}),
        feat("G-G", "北山网格", "北山社区", {"type": "Polygon", "coordinates": [g]}),
        feat("G-X", "无形网格", "北山社区", None),
    ]


@pytest.fixture
def station_db(scratch, tmp_path) -> tuple:
    url = scratch.new("load")
    engine = make_writer(url)
    upgrade(engine)
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": _features()}, ensure_ascii=False), encoding="utf-8")
    s = load_places(engine, path, station="ST1", station_name="东湖派出所", crs="EPSG:4326", name_field="name", code_field="code", community_field="community", population_field="pop")
    yield engine, s
    engine.dispose()


def _grid_id(engine, code: str) -> int:
    with engine.connect() as c:
        return c.execute(select(schema.grids.c.id).where(schema.grids.c.code == code)).scalar_one()


# --- places ---------------------------------------------------------------------


def test_places_keep_multipolygons_and_holes_and_report_what_they_fixed(station_db):
    engine, s = station_db
    assert s.grids == {"inserted": 6, "updated": 0, "unchanged": 0, "rejected": 1}
    assert s.communities["inserted"] == 3
    assert s.multipart == 2 and s.with_holes == 1  # A, and the bow-tie repaired into two triangles
    assert any("无形网格" in i.zh and "没有几何" in i.zh for i in s.of("rejected"))
    assert any("蝴蝶网格" in i.zh and "已修复" in i.zh for i in s.of("repaired"))
    [ov] = [i for i in s.of("overlap") if set(i.grids) == {"G-C", "G-F"}]
    # 0.001° × 0.01° at 26.6°N: about 111.2 m × 994.6 m ≈ 110,600 m² (ellipsoidal: within 1 %).
    assert ov.area_m2 == pytest.approx(0.001 * 0.01 * 111_320 * 99_560, rel=0.02)
    [gap] = s.of("gap")
    assert gap.area_m2 == pytest.approx(D * D * 110_900 * 99_560, rel=0.02)
    assert {"G-A", "G-G"} <= set(gap.grids)
    with engine.connect() as c:
        row = c.execute(select(schema.grids).where(schema.grids.c.code == "G-A")).one()
        geom = json.loads(row.boundary_geojson)
        assert geom["type"] == "MultiPolygon" and len(geom["coordinates"]) == 2
        assert len(geom["coordinates"][0]) == 2 or len(geom["coordinates"][1]) == 2  # the hole is kept
        # Area: the square less its hole, plus the island.
        km2 = (D * D - 0.004 * 0.004 + 0.005 * 0.005) * 111.32 * 99.56
        assert row.area_km2 == pytest.approx(km2, rel=0.02)
        assert row.population == 1200
        n_batches = c.execute(select(func.count()).select_from(schema.import_batches)).scalar()
        assert n_batches == 1


def test_places_reload_is_idempotent_and_dry_run_writes_nothing(station_db, tmp_path):
    engine, _ = station_db
    path = tmp_path / "grids.geojson"
    again = load_places(engine, path, station="ST1", crs="EPSG:4326", name_field="name", code_field="code", community_field="community", population_field="pop")
    assert again.grids["unchanged"] == 6 and again.grids["inserted"] == 0 and again.grids["updated"] == 0
    with engine.connect() as c:
        before = c.execute(select(func.count()).select_from(schema.import_batches)).scalar()
    dry = load_places(engine, path, station="ST2", crs="EPSG:4326", name_field="name", dry_run=True)
    assert dry.grids["inserted"] == 6 and dry.batch_id is None
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.stations)).scalar() == 1
        assert c.execute(select(func.count()).select_from(schema.import_batches)).scalar() == before


def test_places_refuse_coordinates_that_do_not_match_the_declared_crs(scratch, tmp_path):
    engine = make_writer(scratch.new("crs"))
    upgrade(engine)
    path = tmp_path / "m.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": _features()[:1]}), encoding="utf-8")
    with pytest.raises(MappingError, match="像是经纬度"):
        load_places(engine, path, station="S", crs="EPSG:32650", name_field="name")
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.grids)).scalar() == 0
    engine.dispose()


def test_kml_and_a_zipped_shapefile_with_a_gbk_dbf(tmp_path):
    # KML: a polygon with an inner boundary, and extended data.
    kml = tmp_path / "g.kml"
    ring = " ".join(f"{x},{y},0" for x, y in _box(X0, Y0, X0 + D, Y0 + D))
    inner = " ".join(f"{x},{y},0" for x, y in _box(X0 + 0.003, Y0 + 0.003, X0 + 0.007, Y0 + 0.007))
    kml.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>东湖网格</name>
        <ExtendedData><SchemaData><SimpleData name="编码">G-A</SimpleData></SchemaData></ExtendedData>
        <Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs>
        <innerBoundaryIs><LinearRing><coordinates>{inner}</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark></Document></kml>""",
        encoding="utf-8",
    )
    [f], _ = read_features(kml)
    assert f.properties == {"name": "东湖网格", "编码": "G-A"}
    assert f.geometry["type"] == "Polygon" and len(f.geometry["coordinates"]) == 2
    # Shapefile with a GBK attribute table and no .cpg, zipped.
    base = tmp_path / "shp" / "grids"
    base.parent.mkdir()
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON, encoding="gbk") as w:
        w.field("名称", "C", 40)
        w.field("社区", "C", 40)
        w.poly([_box(X0, Y0, X0 + D, Y0 + D)[::-1]])
        w.record("东湖网格", "东湖社区")
    z = tmp_path / "grids.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for ext in (".shp", ".shx", ".dbf"):
            zf.write(str(base) + ext, "grids" + ext)
    feats, notes = read_features(z)
    assert feats[0].properties == {"名称": "东湖网格", "社区": "东湖社区"}
    assert any("GB18030" in n for n in notes)
    assert feats[0].geometry["type"] == "Polygon"


# --- records --------------------------------------------------------------------

INCIDENT_MAPPING = f"""
[source]
system = "110"
timezone = "Asia/Shanghai"
crs = "EPSG:4326"

[fields]
id = "警情编号"
received_at = {{ column = "报警时间", format = "%Y/%m/%d %H:%M" }}
category = {{ column = "警情类别", map = {{ "盗窃案" = "盗窃", "长类别" = "{LONG_CATEGORY}" }} }}
place = "地点"
x = "经度"
y = "纬度"
grid = "网格"
"""


def _incident_rows() -> list[dict]:
    inside_a = (X0 + 0.001, Y0 + 0.001)
    in_hole = (X0 + 0.005, Y0 + 0.005)  # inside A's outer ring, in its hole: grid B
    on_edge = (X0 + D, Y0 + 0.005)  # on the A|C edge: the grid to the east (C)
    outside = (X0 + 0.5, Y0 + 0.5)
    rows = [
        ("110350100202611200001", "2026/11/19 08:15", "盗窃案", inside_a),
        ("110350100202611200002", "2026/11/19 09:00", "治安", in_hole),
        ("110350100202611200003", "2026/11/19 10:00", "长类别", on_edge),
        ("110350100202611200004", "2026/11/19 11:00", "盗窃案", outside),
        ("110350100202611200005", "2026/13/45 11:00", "盗窃案", inside_a),  # a bad date
        ("110350100202611200001", "2026/11/19 08:15", "盗窃案", inside_a),  # a duplicate of the first
        ("110350100202611200006", "2026/11/19 12:00", "纠纷", None),  # no point: by grid name
    ]
    out = []
    for sid, t, cat, pt in rows:
        out.append({"警情编号": sid, "报警时间": t, "警情类别": cat, "地点": "东湖路12号", "经度": "" if pt is None else f"{pt[0]:.6f}", "纬度": "" if pt is None else f"{pt[1]:.6f}", "网格": "南岸网格" if pt is None else ""})
    return out


def _write_csv(path: Path, rows: list[dict], encoding: str) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_gb18030_incidents_nothing_lost_and_idempotent(station_db, tmp_path):
    engine, _ = station_db
    path = _write_csv(tmp_path / "警情.csv", _incident_rows(), "gb18030")
    m = parse_mapping(tomllib.loads(INCIDENT_MAPPING), "incidents", INCIDENT_MAPPING)
    s = load_records(engine, "incidents", path, m, station_code="ST1")
    assert any("GB18030" in n for n in s.notes)
    assert s.rows_read == 7
    assert s.counts["inserted"] == 4 and s.counts["duplicate"] == 1
    assert s.counts["rejected"] == 1 and s.counts["outside"] == 1
    assert any("第 5 行 · 接警时间：无法解析 '2026/13/45 11:00'" in e for e in s.rejected_examples)
    with engine.connect() as c:
        got = {r.source_id: r for r in c.execute(select(schema.incidents))}
    assert len(got) == 4  # the outside row is kept in the batch, not in the live table
    assert got["110350100202611200001"].grid_id == _grid_id(engine, "G-A")  # 21 digits, as text
    assert got["110350100202611200002"].grid_id == _grid_id(engine, "G-B")  # in A's hole: the enclave
    assert got["110350100202611200003"].grid_id == _grid_id(engine, "G-C")  # on the edge: east
    assert got["110350100202611200003"].category == LONG_CATEGORY
    assert got["110350100202611200006"].grid_id == _grid_id(engine, "G-C")  # by grid name
    # Local 08:15 in Shanghai is 00:15 UTC.
    assert got["110350100202611200001"].received_at == datetime(2026, 11, 19, 0, 15)
    rej = rejected_rows(engine, s.batch_id)
    assert {r["结果"] for r in rej} == {"拒收", "辖区外"}
    assert any("无法解析" in r["原因"] and "cannot parse" in r["reason"] for r in rej)
    # Outside rows are counted for the station, in the window, not for a community.
    window = (datetime(2026, 11, 18), datetime(2026, 11, 20))
    with engine.connect() as c:
        st = c.execute(select(schema.stations.c.id)).scalar()
        comm = c.execute(select(schema.communities.c.id)).scalars().first()
    assert outside_rows(engine, Filters(), "incidents", window).outside == 1
    assert outside_rows(engine, Filters(station_id=st), "incidents", window).outside == 1
    assert outside_rows(engine, Filters(community_id=comm), "incidents", window).total == 0
    assert outside_rows(engine, Filters(categories=("治安",)), "incidents", window).total == 0
    # The same file again changes nothing.
    again = load_records(engine, "incidents", path, m, station_code="ST1")
    assert again.counts["inserted"] == 0 and again.counts["updated"] == 0
    assert again.counts["unchanged"] == 4 and again.counts["duplicate"] == 1
    assert outside_rows(engine, Filters(), "incidents", window).outside == 1  # counted once, not per batch
    # An updated file: one row's category changed, one row fixed.
    rows = _incident_rows()
    rows[1]["警情类别"] = "盗窃案"
    rows[4]["报警时间"] = "2026/11/19 11:30"
    path2 = _write_csv(tmp_path / "警情2.csv", rows, "utf-8-sig")
    s3 = load_records(engine, "incidents", path2, m, station_code="ST1")
    assert s3.counts["updated"] == 1 and s3.counts["inserted"] == 1 and s3.counts["rejected"] == 0
    with engine.connect() as c:
        assert c.execute(select(schema.incidents.c.category).where(schema.incidents.c.source_id == "110350100202611200002")).scalar() == "盗窃"
        assert c.execute(select(func.count()).select_from(schema.incidents)).scalar() == 5
        vocab = set(c.execute(select(schema.vocabulary.c.code).where(schema.vocabulary.c.kind == "incident_category")).scalars())
    assert LONG_CATEGORY in vocab and "盗窃" in vocab


def test_dry_run_writes_nothing(station_db, tmp_path):
    engine, _ = station_db
    path = _write_csv(tmp_path / "警情.csv", _incident_rows(), "utf-8")
    m = parse_mapping(tomllib.loads(INCIDENT_MAPPING), "incidents", INCIDENT_MAPPING)
    with engine.connect() as c:
        staged = c.execute(select(func.count()).select_from(schema.import_rows)).scalar()
    s = load_records(engine, "incidents", path, m, dry_run=True)
    assert s.counts["inserted"] == 4 and s.counts["outside"] == 1 and s.batch_id is None
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.incidents)).scalar() == 0
        assert c.execute(select(func.count()).select_from(schema.import_rows)).scalar() == staged
        assert c.execute(select(func.count()).select_from(schema.import_batches).where(schema.import_batches.c.kind == "incidents")).scalar() == 0


def test_excel_ids_stored_as_numbers_are_reported_and_read_as_text(station_db, tmp_path):
    engine, _ = station_db
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["事件编号", "上报时间", "事件类型", "紧急程度", "事件描述", "事发地址", "经度", "纬度", "网格编码", "处置状态", "承办部门", "派遣时间", "反馈期限", "反馈时间", "办结时间", "回访结果"])
    ws.append([20261119001, datetime(2026, 11, 19, 9, 0), "消防安全", "紧急", "楼道堆放杂物", "东湖路1号", X0 + 0.001, Y0 + 0.001, "", "处理中", "消防救援站", datetime(2026, 11, 19, 9, 30), None, None, None, None])
    ws.append([20261119002, datetime(2026, 11, 19, 10, 0), "纠纷", "普通", "邻里噪音", "东湖路2号", X0 + 0.011, Y0 + 0.002, "", "已办结", "社区居委会", datetime(2026, 11, 19, 10, 5), datetime(2026, 11, 26, 10, 5), datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 20, 10, 0), "满意"])
    ws.append([20261119003, datetime(2026, 11, 19, 11, 0), "其他", None, "路灯不亮", "南岸路3号", X0 + 0.012, Y0 + 0.003, "", "作废", None, None, None, None, None, None])
    path = tmp_path / "事件.xlsx"
    wb.save(path)
    m = load_mapping(EXAMPLES / "grid_reports.toml", "reports")
    # The example declares GCJ-02 (phone apps); these fixture points are WGS84.
    m.crs = "EPSG:4326"
    s = load_records(engine, "reports", path, m)
    assert any("事件编号" in n and "已存为数字" in n for n in s.notes)
    assert s.counts["inserted"] == 2 and s.counts["rejected"] == 1  # 作废 is not one of the six states
    assert any("处置状态" in e for e in s.rejected_examples)
    with engine.connect() as c:
        reps = {r.source_id: r for r in c.execute(select(schema.reports))}
        tasks = {r.report_id: r for r in c.execute(select(schema.tasks))}
        events = c.execute(select(func.count()).select_from(schema.task_events)).scalar()
        depts = set(c.execute(select(schema.departments.c.name)).scalars())
    assert set(reps) == {"20261119001", "20261119002"}  # no ".0"
    fire = tasks[reps["20261119001"].id]
    assert fire.state == "处置中" and reps["20261119001"].urgency == "紧急"
    assert fire.deadline_rule and "4 小时" in fire.deadline_rule  # derived, and marked so
    assert fire.deadline_at == datetime(2026, 11, 19, 5, 0)  # 09:00 local + 4 h = 13:00 local = 05:00 UTC
    done = tasks[reps["20261119002"].id]
    assert done.state == "已办结" and done.deadline_rule is None and done.satisfied is True
    assert {"消防救援站", "社区居委会"} <= depts
    assert events >= 5


def test_disputes_by_grid_name_and_a_mapping_that_lacks_what_it_needs(station_db, tmp_path):
    engine, _ = station_db
    rows = [
        {"台账编号": "TZ-1", "排查日期": "2026-11-02", "纠纷类型": "邻里纠纷", "化解情况": "已化解", "调处层级": "网格员", "当事人数": "", "简要情况": "漏水", "办结日期": "2026-11-03", "所属网格": "东湖网格"},
        {"台账编号": "TZ-2", "排查日期": "2026年11月05日", "纠纷类型": "物业纠纷", "化解情况": "正在调处", "调处层级": "社区民警", "当事人数": "3", "简要情况": "停车", "办结日期": "", "所属网格": "不存在的网格"},
    ]
    path = _write_csv(tmp_path / "纠纷.csv", rows, "utf-8-sig")
    s = load_records(engine, "disputes", path, load_mapping(EXAMPLES / "disputes.toml", "disputes"))
    assert s.counts["inserted"] == 1 and s.counts["unlocated"] == 1
    with engine.connect() as c:
        d = c.execute(select(schema.disputes)).one()
    assert (d.status, d.level, d.parties, d.grid_id) == ("化解", 1, 2, _grid_id(engine, "G-A"))
    with pytest.raises(MappingError, match="必需字段"):
        parse_mapping({"source": {"system": "x"}, "fields": {"found_at": "a", "grid": "g"}}, "disputes")
    with pytest.raises(MappingError, match="坐标系"):
        parse_mapping({"source": {"system": "x"}, "fields": {"received_at": "a", "category": "c", "x": "x", "y": "y"}}, "incidents")


def test_every_shipped_mapping_example_parses():
    kinds = {"110_incidents": "incidents", "grid_reports": "reports", "disputes": "disputes", "vancouver_thefts": "incidents", "patrol_gps": "gps"}
    for name, kind in kinds.items():
        m = load_mapping(EXAMPLES / f"{name}.toml", kind)
        assert m.kind == kind and m.system


def test_the_command_line_prints_a_summary_and_exports_rejects(station_db, tmp_path, monkeypatch, capsys):
    engine, _ = station_db
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    path = _write_csv(tmp_path / "警情.csv", _incident_rows(), "gb18030")
    mp = tmp_path / "m.toml"
    mp.write_text(INCIDENT_MAPPING, encoding="utf-8")
    out = tmp_path / "rejects.csv"
    assert load_main(["incidents", str(path), "--mapping", str(mp), "--rejects", str(out)]) == 0
    text = capsys.readouterr().out
    assert "辖区外" in text and "拒收原因" in text
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    assert load_main(["batches"]) == 0
    listing = capsys.readouterr().out
    assert "警情" in listing and "警情.csv" in listing
    # A usage error: one clear line, exit 2, no traceback.
    assert load_main(["incidents", str(tmp_path / "missing.csv"), "--mapping", str(mp)]) == 2
    assert "找不到文件" in capsys.readouterr().err


def test_open_table_reads_every_cell_as_text(tmp_path):
    p = _write_csv(tmp_path / "t.csv", [{"身份证号": "350102199001011234", "电话": "013900001111", "金额": "1e5"}], "utf-8")
    t = open_table(p)
    [(no, row)] = list(t.rows())
    assert no == 1 and row == {"身份证号": "350102199001011234", "电话": "013900001111", "金额": "1e5"}


# --- patrol GPS tracks ------------------------------------------------------------

GPS_MAPPING = """
[source]
system = "车载定位"
timezone = "Asia/Shanghai"
crs = "EPSG:4326"
shift_gap_minutes = 60

[fields]
team = "队伍名称"
time = { column = "定位时间", format = "%Y-%m-%d %H:%M:%S" }
x = "经度"
y = "纬度"
kind = { column = "队伍类型", map = { "巡防车" = "巡防队", "红袖标" = "红袖标巡逻队" }, default = "巡防队" }
"""
EAST, SOUTH = "东湖巡防一队", "南岸红袖标巡逻队"
IN_A = (X0 + 0.001, Y0 + 0.001)  # grid A, below its hole
IN_C = (X0 + D + 0.002, Y0 + 0.002)


def _fix(team: str, kind: str, local: str, pt: tuple[float, float], device: str = "") -> dict:
    return {"设备编号": device or f"GPS-{len(team)}", "队伍名称": team, "队伍类型": kind, "定位时间": local, "经度": f"{pt[0]:.6f}", "纬度": f"{pt[1]:.6f}"}


def _track(team: str, kind: str, day: str, start: tuple[int, int], minutes: int, pt: tuple[float, float], step: int = 2) -> list[dict]:
    """A fix every ``step`` minutes for ``minutes`` from local ``start``, creeping east from ``pt``."""
    out = []
    for k in range(0, minutes + 1, step):
        h, m = divmod(start[0] * 60 + start[1] + k, 60)
        out.append(_fix(team, kind, f"{day} {h:02d}:{m:02d}:00", (pt[0] + 0.0002 * (k // step), pt[1])))
    return out


def _gps_rows() -> list[dict]:
    east = _track(EAST, "巡防车", "2026-11-19", (8, 0), 20, IN_A)  # 11 fixes, 08:00–08:20, grid A
    east.append(_fix(EAST, "巡防车", "2026-11-19 08:21:00", (X0 + 0.5, Y0 + 0.5)))  # outside every grid
    east.append(_fix(EAST, "巡防车", "2026/13/45 08:22", IN_A))  # a bad time
    east.append(dict(east[0]))  # a duplicate of the first fix
    east += _track(EAST, "巡防车", "2026-11-19", (9, 50), 10, IN_C)  # 90 minutes later: a second shift, 6 fixes
    south = _track(SOUTH, "红袖标", "2026-11-19", (20, 30), 10, IN_C)  # a night shift, 6 fixes
    return east + south


def _shifts(engine) -> list[tuple]:
    s, t = schema.patrol_shifts, schema.patrol_teams
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(
            select(t.c.name, s.c.shift, s.c.started_at, s.c.ended_at, func.count(schema.patrol_points.c.id))
            .select_from(s.join(t, t.c.id == s.c.team_id).outerjoin(schema.patrol_points, schema.patrol_points.c.shift_id == s.c.id))
            .group_by(t.c.name, s.c.id, s.c.shift, s.c.started_at, s.c.ended_at)
            .order_by(t.c.name, s.c.started_at)
        )]


def _points(engine) -> list[tuple]:
    p = schema.patrol_points
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(p.c.id, p.c.shift_id, p.c.at, p.c.lat, p.c.lon, p.c.grid_id, p.c.h3).order_by(p.c.id))]


def test_gps_tracks_become_teams_shifts_and_points_and_reload_idempotently(station_db, tmp_path):
    engine, _ = station_db
    m = parse_mapping(tomllib.loads(GPS_MAPPING), "gps", GPS_MAPPING)
    path = _write_csv(tmp_path / "巡逻轨迹.csv", _gps_rows(), "gb18030")
    s = load_records(engine, "gps", path, m, station_code="ST1")
    assert any("GB18030" in n for n in s.notes)
    assert s.rows_read == 26
    assert s.counts["inserted"] == 23 and s.counts["outside"] == 1 and s.counts["rejected"] == 1 and s.counts["duplicate"] == 1
    assert s.counts["updated"] == s.counts["unchanged"] == s.counts["unlocated"] == 0
    assert any("定位时间：无法解析 '2026/13/45 08:22'" in e for e in s.rejected_examples)
    with engine.connect() as c:
        teams = {r.name: r for r in c.execute(select(schema.patrol_teams))}
        st = c.execute(select(schema.stations.c.id).where(schema.stations.c.code == "ST1")).scalar_one()
        outside = c.execute(select(schema.import_rows).where(schema.import_rows.c.batch_id == s.batch_id, schema.import_rows.c.status == "outside")).one()
    assert {n: (t.kind, t.station_id, t.members) for n, t in teams.items()} == {EAST: ("巡防队", st, 0), SOUTH: ("红袖标巡逻队", st, 0)}
    assert outside.source_id == f"{EAST}@2026-11-19 00:21:00" and outside.lat == pytest.approx(Y0 + 0.5)
    # Local times in Shanghai, stored as UTC; the 90-minute gap splits the east team's morning.
    first = [
        (EAST, "白", datetime(2026, 11, 19, 0, 0), datetime(2026, 11, 19, 0, 20), 11),
        (EAST, "白", datetime(2026, 11, 19, 1, 50), datetime(2026, 11, 19, 2, 0), 6),
        (SOUTH, "黑", datetime(2026, 11, 19, 12, 30), datetime(2026, 11, 19, 12, 40), 6),
    ]
    assert _shifts(engine) == first
    grid_a, grid_c = _grid_id(engine, "G-A"), _grid_id(engine, "G-C")
    pts = _points(engine)
    assert {p[5] for p in pts[:11]} == {grid_a} and {p[5] for p in pts[11:]} == {grid_c}
    assert all(p[6] for p in pts)  # every point has its H3 cell
    # The rows not loaded, and why.
    rej = rejected_rows(engine, s.batch_id)
    assert sorted(r["结果"] for r in rej) == ["拒收", "辖区外"]
    window = (datetime(2026, 11, 18), datetime(2026, 11, 21))
    assert outside_rows(engine, Filters(), "gps", window).outside == 1
    # The same file again changes nothing: no new point, shift, team or moved point.
    before = _points(engine)
    again = load_records(engine, "gps", path, m, station_code="ST1")
    assert again.counts["unchanged"] == 23 and again.counts["inserted"] == again.counts["updated"] == 0
    assert again.counts["duplicate"] == 1 and again.counts["outside"] == 1 and again.counts["rejected"] == 1
    assert _points(engine) == before and _shifts(engine) == first
    assert outside_rows(engine, Filters(), "gps", window).outside == 1  # once, not per batch
    # A later export overlapping the first: the east team's second shift continues to 10:30 (one fix of
    # the overlap moved), the south team starts a new day shift the next morning.
    rows = _track(EAST, "巡防车", "2026-11-19", (9, 50), 40, IN_C)  # 09:50–10:30, the first 6 fixes known
    rows[2]["经度"] = f"{IN_C[0] + 0.0011:.6f}"
    rows += _track(SOUTH, "红袖标", "2026-11-20", (8, 5), 4, IN_C)
    path2 = _write_csv(tmp_path / "巡逻轨迹2.csv", rows, "utf-8")
    s2 = load_records(engine, "gps", path2, m, station_code="ST1")
    assert s2.counts["unchanged"] == 5 and s2.counts["updated"] == 1 and s2.counts["inserted"] == 15 + 3
    assert "班次（按间隔超过 60 分钟划分）：新建 1 个，延长已有 1 个，合并 0 个" in s2.notes
    assert _shifts(engine) == [
        first[0],
        (EAST, "白", datetime(2026, 11, 19, 1, 50), datetime(2026, 11, 19, 2, 30), 21),
        first[2],
        (SOUTH, "白", datetime(2026, 11, 20, 0, 5), datetime(2026, 11, 20, 0, 9), 3),
    ]
    assert len(_points(engine)) == 23 + 18  # no point twice
    with engine.connect() as c:
        moved = c.execute(select(schema.patrol_points.c.lon).where(schema.patrol_points.c.at == datetime(2026, 11, 19, 1, 54))).scalar_one()
    assert moved == pytest.approx(IN_C[0] + 0.0011)
    # One fix at 09:05 bridges the east team's two shifts (45 minutes to each): one shift again.
    path3 = _write_csv(tmp_path / "补传.csv", [_fix(EAST, "巡防车", "2026-11-19 09:05:00", IN_A)], "utf-8")
    s3 = load_records(engine, "gps", path3, m, station_code="ST1")
    assert s3.counts["inserted"] == 1 and "班次（按间隔超过 60 分钟划分）：新建 0 个，延长已有 1 个，合并 1 个" in s3.notes
    assert _shifts(engine)[0] == (EAST, "白", datetime(2026, 11, 19, 0, 0), datetime(2026, 11, 19, 2, 30), 11 + 1 + 21)
    assert len(_shifts(engine)) == 3
    # The patrol pages see the tracks: incidents in the cell the east team crossed make a hot spot it reached.
    inc = [{"警情编号": f"J{i}", "报警时间": "2026/11/19 09:00", "警情类别": "盗窃案", "地点": "东湖路", "经度": f"{IN_A[0]:.6f}", "纬度": f"{IN_A[1]:.6f}", "网格": ""} for i in range(3)]
    load_records(engine, "incidents", _write_csv(tmp_path / "警情.csv", inc, "utf-8"), parse_mapping(tomllib.loads(INCIDENT_MAPPING), "incidents", INCIDENT_MAPPING))
    pieces = hotspots.coverage_pieces(engine, Filters(), window)
    day = hotspots.summarize_coverage(pieces, "白")
    assert day.hot_cells == 1 and day.reached == 1 and day.coverage.value == 1.0
    night = hotspots.summarize_coverage(pieces, "黑")
    assert night.reached == 0  # the south team's night was in grid C, far from the hot spot
    in_a = pieces[pieces["grid_id"] == grid_a]
    assert int(in_a["points_day"].sum()) == 12 and int(in_a["points_night"].sum()) == 0
    assert patrol.on_duty_count(engine, Filters(), datetime(2026, 11, 19, 12, 35)) == 1
    live = patrol.live_positions(engine, Filters(), datetime(2026, 11, 19, 12, 35))
    assert list(live["team"]) == [SOUTH] and list(live["shift"]) == ["黑"]
    assert set(patrol.visited_cells(engine, Filters(grid_id=grid_c), window)["h3"]) == {p[6] for p in _points(engine) if p[5] == grid_c}


def test_gps_shift_column_dry_run_and_the_command_line(station_db, tmp_path, monkeypatch, capsys):
    engine, _ = station_db
    text = GPS_MAPPING.replace('team = "队伍名称"', 'team = "设备编号"\nshift = "班次"\nmembers = "人数"')
    m = parse_mapping(tomllib.loads(text), "gps", text)
    rows = _track("车A", "巡防车", "2026-11-19", (19, 30), 10, IN_A) + _track("车A", "巡防车", "2026-11-19", (23, 0), 10, IN_A)
    for i, r in enumerate(rows):
        r.update(设备编号="GPS-0351", 班次="B-1119" if i < 6 else "B-1119N", 人数="3")
    rows[-1]["人数"] = "三"  # not a number
    path = _write_csv(tmp_path / "轨迹.csv", rows, "utf-8-sig")
    dry = load_records(engine, "gps", path, m, dry_run=True)
    assert dry.counts["inserted"] == 11 and dry.counts["rejected"] == 1 and dry.batch_id is None
    assert _shifts(engine) == [] and _points(engine) == []
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.patrol_teams)).scalar() == 0
    mp = tmp_path / "gps.toml"
    mp.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert load_main(["gps", str(path), "--mapping", str(mp), "--station", "ST1"]) == 0
    out = capsys.readouterr().out
    assert "巡逻轨迹导入" in out and "按导出的班次编号" in out and "队员人数" in out
    # Named shifts: no gap rule (19:30 local starts a 黑 shift by the hour, 23:00 another).
    assert _shifts(engine) == [
        ("GPS-0351", "黑", datetime(2026, 11, 19, 11, 30), datetime(2026, 11, 19, 11, 40), 6),
        ("GPS-0351", "黑", datetime(2026, 11, 19, 15, 0), datetime(2026, 11, 19, 15, 8), 5),
    ]
    with engine.connect() as c:
        assert c.execute(select(schema.patrol_teams.c.members)).scalar_one() == 3
        assert set(c.execute(select(schema.patrol_shifts.c.source_id)).scalars()) == {"B-1119", "B-1119N"}
    # Again, with the bad cell fixed: that fix extends its named shift, nothing else moves.
    rows[-1]["人数"] = "3"
    _write_csv(path, rows, "utf-8-sig")
    again = load_records(engine, "gps", path, m)
    assert again.counts["inserted"] == 1 and again.counts["unchanged"] == 11
    assert _shifts(engine)[1][3:] == (datetime(2026, 11, 19, 15, 10), 6)
    assert load_main(["batches"]) == 0
    assert "巡逻轨迹" in capsys.readouterr().out


def test_gps_mappings_need_a_position():
    with pytest.raises(MappingError, match="坐标 x 和 y"):
        parse_mapping({"source": {"system": "x"}, "fields": {"team": "a", "time": "t"}}, "gps")
    with pytest.raises(MappingError, match="shift_gap_minutes"):
        parse_mapping({"source": {"system": "x", "crs": "EPSG:4326", "shift_gap_minutes": 0}, "fields": {"team": "a", "time": "t", "x": "x", "y": "y"}}, "gps")


def test_gps_patrol_minutes_follow_the_devices_interval(station_db, tmp_path):
    """A handset logging every 15 s for 30 minutes is 30 minutes of patrol, not 121 × 2;
    a later export continuing the shift keeps its points adding up to its time."""
    engine, _ = station_db
    m = parse_mapping(tomllib.loads(GPS_MAPPING), "gps", GPS_MAPPING)

    def fixes(start_s: int, stop_s: int) -> list[dict]:
        out = []
        for s in range(start_s, stop_s + 1, 15):
            h, rest = divmod(8 * 3600 + s, 3600)
            out.append(_fix(EAST, "巡防车", f"2026-11-19 {h:02d}:{rest // 60:02d}:{rest % 60:02d}", (IN_A[0] + 0.00001 * (s // 15), IN_A[1])))
        return out

    window = (datetime(2026, 11, 18), datetime(2026, 11, 21))
    load_records(engine, "gps", _write_csv(tmp_path / "a.csv", fixes(0, 1800), "utf-8"), m, station_code="ST1")
    minutes = hotspots.summarize_coverage(hotspots.coverage_pieces(engine, Filters(), window), None).patrol_minutes
    assert minutes == pytest.approx(121 * 30 / 120)  # each fix stands for the track's mean interval
    load_records(engine, "gps", _write_csv(tmp_path / "b.csv", fixes(1800, 3600), "utf-8"), m, station_code="ST1")
    pieces = hotspots.coverage_pieces(engine, Filters(), window)
    assert int(pieces["points_all"].sum()) == 241
    assert hotspots.summarize_coverage(pieces, None).patrol_minutes == pytest.approx(241 * 60 / 240)
    assert hotspots.summarize_coverage(pieces, "白").patrol_minutes == pytest.approx(241 * 60 / 240)
    assert hotspots.summarize_coverage(pieces, "黑").patrol_minutes == 0


def test_the_vocabulary_command_sets_order_colours_and_key_categories(station_db, tmp_path, monkeypatch, capsys):
    engine, _ = station_db
    load_records(engine, "incidents", _write_csv(tmp_path / "inc.csv", _incident_rows(), "utf-8"), parse_mapping(tomllib.loads(INCIDENT_MAPPING), "incidents", INCIDENT_MAPPING))
    learned = vocabulary(engine, "incident_category").codes()
    assert {"盗窃", "治安", LONG_CATEGORY} <= set(learned)
    path = tmp_path / "vocab.toml"
    path.write_text(f'[[incident_category]]\ncode = "{LONG_CATEGORY}"\ncolour = "#E4572E"\nkey = true\n\n[[incident_category]]\ncode = "盗窃"\nkey = true\n\n'
                    '[[incident_category]]\ncode = "New term"\n', encoding="utf-8")
    dry = load_vocabulary(engine, path, dry_run=True)
    assert dry.added == ["incident_category:New term"] and vocabulary(engine, "incident_category").codes() == learned  # nothing written
    s = load_vocabulary(engine, path)
    assert s.kinds == {"incident_category": 3} and set(s.kept_after["incident_category"]) == set(learned) - {LONG_CATEGORY, "盗窃"}
    v = vocabulary(engine, "incident_category")
    assert v.codes()[:3] == (LONG_CATEGORY, "盗窃", "New term") and set(v.codes()[3:]) == set(learned) - {LONG_CATEGORY, "盗窃"}
    assert v.key_codes() == (LONG_CATEGORY, "盗窃")
    colours = v.colours(["#111111", "#222222", "#333333", "#444444"])
    assert colours[LONG_CATEGORY] == "#e4572e" and colours["盗窃"] == "#222222"
    # The same file again changes nothing; the command lists what is stored.
    assert load_vocabulary(engine, path).added == [] and vocabulary(engine, "incident_category") == v
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert load_main(["vocabulary", "--kind", "incident_category"]) == 0
    out = capsys.readouterr().out
    assert "#e4572e" in out and "New term" in out


@pytest.mark.parametrize("text, message", [
    ('[[incident_categories]]\ncode = "a"\n', "没有这些类型"),
    ('[[urgency]]\nname = "特急"\n', "未知的键 name"),
    ('[[urgency]]\ncode = "特急"\ncolour = "red"\n', "#rrggbb"),
    ('[[urgency]]\ncode = "特急"\n\n[[urgency]]\ncode = "特急"\n', "重复"),
    (f'[[incident_category]]\ncode = "{"长" * 81}"\n', "超过 80"),
])
def test_a_bad_vocabulary_file_is_refused_and_writes_nothing(station_db, tmp_path, text, message):
    engine, _ = station_db
    path = tmp_path / "v.toml"
    path.write_text(text, encoding="utf-8")
    with engine.connect() as c:
        before = c.execute(select(func.count()).select_from(schema.vocabulary)).scalar_one()
    with pytest.raises(MappingError, match=message):
        load_vocabulary(engine, path)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.vocabulary)).scalar_one() == before


def test_the_shipped_vocabulary_example_loads(station_db):
    engine, _ = station_db
    s = load_vocabulary(engine, EXAMPLES / "vocabulary.toml", dry_run=True)
    assert s.kinds == {"incident_category": 4, "urgency": 3}

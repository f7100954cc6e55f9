"""Loading a station's places (communities and grids) from GeoJSON, KML or a zipped Shapefile.

Each feature becomes a grid; its community is named by a property (or one
community for the whole file). Geometry is kept whole: MultiPolygons, holes
and islands are stored as they are (GeoJSON text, WGS84). The source CRS is
declared (``--crs``), never guessed; coordinates that do not look like the
declared system stop the load before anything is written.

Nothing is silently accepted or dropped: invalid geometry is repaired
(shapely's ``make_valid``, keeping the polygonal parts) and reported with its
area before and after; features without polygons are rejected with the
reason; two features with one code are merged into one grid and reported;
overlaps between grids and gaps inside the jurisdiction (holes of the union
that no grid fills) are reported with their areas in m² and the grids
involved. Points in an overlap go to the grid with the lowest id (the
locator's rule), so the report says where that rule decides.

Re-loading a file updates grids and communities by code; grids of the station
that the file no longer holds are kept (rows point at them) and reported.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.strtree import STRtree
from shapely.validation import explain_validity
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from dashboard import crs as crslib
from dashboard import geo
from dashboard.db import schema
from dashboard.writers.load.mapping import MappingError
from dashboard.writers.load.sources import Feature, read_features, sha256_of

MIN_REPORTED_M2 = 1.0  # overlaps and gaps smaller than this are counted but not listed one by one


@dataclass
class PlaceIssue:
    kind: str  # repaired / rejected / merged / overlap / gap / kept
    zh: str
    area_m2: float | None = None
    grids: tuple[str, ...] = ()


@dataclass
class PlacesSummary:
    file: str
    station: str
    batch_id: int | None
    dry_run: bool
    features: int = 0
    communities: dict[str, int] = field(default_factory=lambda: {"inserted": 0, "updated": 0, "unchanged": 0})
    grids: dict[str, int] = field(default_factory=lambda: {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0})
    issues: list[PlaceIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    multipart: int = 0
    with_holes: int = 0

    def of(self, kind: str) -> list[PlaceIssue]:
        return [i for i in self.issues if i.kind == kind]


@dataclass
class _Grid:
    code: str
    name: str
    community: str
    community_code: str
    shape: MultiPolygon | Polygon
    population: int
    features: list[int]
    raw: dict


def _code(station: str, name: str) -> str:
    c = f"{station}-{name}"
    if len(c) <= 64:
        return c
    return c[:55] + "-" + hashlib.sha1(c.encode()).hexdigest()[:8]


def _polygonal(g) -> MultiPolygon | Polygon | None:
    """The polygonal parts of a geometry (2D), or None when it has none."""
    g = shapely.force_2d(g)
    if isinstance(g, (Polygon, MultiPolygon)):
        return g if not g.is_empty else None
    polys = []
    for part in getattr(g, "geoms", []):
        p = _polygonal(part)
        if p is not None:
            polys.extend(p.geoms if isinstance(p, MultiPolygon) else [p])
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _m2(g) -> float:
    return geo.geometry_area_km2(mapping(g)) * 1e6


def _check_degrees(features: list[Feature], declared: str) -> None:
    xs, ys = [], []
    for f in features[:50]:
        if not f.geometry:
            continue
        try:
            b = shape(f.geometry).bounds
        except Exception:  # noqa: BLE001 - a broken geometry is reported later, per feature
            continue
        xs += [b[0], b[2]]
        ys += [b[1], b[3]]
    try:
        crslib.check_declared(xs, ys, declared, "地块坐标")
    except crslib.CrsError as exc:
        raise MappingError(str(exc)) from exc


def load_places(
    engine: Engine,
    path: Path | str,
    *,
    station: str,
    crs: str,
    name_field: str,
    code_field: str | None = None,
    community_field: str | None = None,
    community_code_field: str | None = None,
    community: str | None = None,
    population_field: str | None = None,
    station_name: str | None = None,
    branch: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PlacesSummary:
    t0 = time.monotonic()
    path = Path(path)
    declared = crslib.parse_crs(crs)
    if not station or len(station) > 32:
        raise MappingError("--station 需要派出所编码（不超过 32 个字符）/ --station CODE is required")
    features, notes = read_features(path, encoding)
    s = PlacesSummary(path.name, station, None, dry_run, features=len(features), notes=notes)
    s.notes.append(f"坐标系 {declared}（声明）")
    if not features:
        raise MappingError("文件中没有要素 / the file holds no features")
    props = set().union(*(f.properties for f in features))
    for opt, fld in (("--name-field", name_field), ("--code-field", code_field), ("--community-field", community_field), ("--community-code-field", community_code_field), ("--population-field", population_field)):
        if fld and fld not in props:
            raise MappingError(f"{opt} {fld}：要素没有这个属性（有：{'、'.join(sorted(props)[:20])}）/ no such property")
    _check_degrees(features, declared)
    station_label = station_name or station
    grids: dict[str, _Grid] = {}
    for f in features:
        name = (f.properties.get(name_field) or "").strip()
        label = f"第 {f.index} 个要素「{name or '无名称'}」"
        if not name:
            s.issues.append(PlaceIssue("rejected", f"{label}：名称属性 {name_field} 为空，未导入"))
            s.grids["rejected"] += 1
            continue
        if not f.geometry:
            s.issues.append(PlaceIssue("rejected", f"{label}：没有几何，未导入"))
            s.grids["rejected"] += 1
            continue
        try:
            g = shape(crslib.transform_geometry(f.geometry, declared))
        except Exception as exc:  # noqa: BLE001 - shapely/pyproj errors vary; the message says which feature
            s.issues.append(PlaceIssue("rejected", f"{label}：几何无法读取（{exc}），未导入"))
            s.grids["rejected"] += 1
            continue
        poly = _polygonal(g)
        if poly is None:
            s.issues.append(PlaceIssue("rejected", f"{label}：几何是 {g.geom_type}，不是面，未导入"))
            s.grids["rejected"] += 1
            continue
        if not poly.is_valid:
            why = explain_validity(poly)
            before = abs(_m2(poly.buffer(0))) if poly.buffer(0).is_valid else None
            fixed = _polygonal(shapely.make_valid(poly))
            if fixed is None:
                s.issues.append(PlaceIssue("rejected", f"{label}：几何无效（{why}），修复后为空，未导入"))
                s.grids["rejected"] += 1
                continue
            after = _m2(fixed)
            s.issues.append(PlaceIssue("repaired", f"{label}：几何无效（{why}），已修复；面积 {after:,.0f} m²" + (f"（修复前约 {before:,.0f} m²）" if before else ""), after))
            poly = fixed
        code = (f.properties.get(code_field) or "").strip() if code_field else ""
        code = code[:64] if code else _code(station, name)
        comm = (f.properties.get(community_field) or "").strip() if community_field else ""
        comm = comm or community or station_label
        ccode = (f.properties.get(community_code_field) or "").strip()[:64] if community_code_field else ""
        ccode = ccode or _code(station, comm)
        pop = 0
        if population_field:
            try:
                pop = int(float(f.properties.get(population_field) or 0))
            except ValueError:
                s.notes.append(f"{label}：人口 '{f.properties.get(population_field)}' 不是数字，按 0 计")
        if code in grids:
            prev = grids[code]
            prev.shape = _polygonal(shapely.union(prev.shape, poly)) or prev.shape
            prev.features.append(f.index)
            s.issues.append(PlaceIssue("merged", f"{label}：编码 {code} 与第 {prev.features[0]} 个要素相同，已合并为一个网格"))
            continue
        grids[code] = _Grid(code, name[:128], comm[:128], ccode, poly, pop, [f.index], f.properties)
    if not grids:
        raise MappingError("没有可导入的网格（全部被拒收，见上）/ no feature could be loaded")
    for g in grids.values():
        if isinstance(g.shape, MultiPolygon) and len(g.shape.geoms) > 1:
            s.multipart += 1
        parts = g.shape.geoms if isinstance(g.shape, MultiPolygon) else [g.shape]
        if any(p.interiors for p in parts):
            s.with_holes += 1
    _overlaps_and_gaps(list(grids.values()), s)
    _write(engine, s, grids, station, station_label, branch, path, dry_run, now)
    s.seconds = round(time.monotonic() - t0, 2)
    return s


def _overlaps_and_gaps(grids: list[_Grid], s: PlacesSummary) -> None:
    shapes = [g.shape for g in grids]
    tree = STRtree(shapes)
    small = 0
    for i, j in zip(*tree.query(shapes, predicate="intersects")):
        if i >= j:
            continue
        inter = shapely.intersection(shapes[i], shapes[j])
        poly = _polygonal(inter)
        if poly is None:
            continue  # they only touch
        a = _m2(poly)
        if a < MIN_REPORTED_M2:
            small += 1
            continue
        lo, hi = sorted((grids[i], grids[j]), key=lambda g: g.code)
        s.issues.append(PlaceIssue("overlap", f"网格「{grids[i].name}」与「{grids[j].name}」重叠 {a:,.0f} m²；落在重叠处的记录归入先导入的网格", a, (grids[i].code, grids[j].code)))
    union = shapely.union_all(shapes)
    parts = union.geoms if isinstance(union, MultiPolygon) else [union] if isinstance(union, Polygon) else []
    for part in parts:
        for ring in part.interiors:
            hole = Polygon(ring)
            a = _m2(hole)
            if a < MIN_REPORTED_M2:
                small += 1
                continue
            around = tuple(g.code for g in grids if g.shape.boundary.distance(hole.boundary) < 1e-9 or g.shape.intersects(hole.boundary))
            names = "、".join(next(x.name for x in grids if x.code == c) for c in around[:6])
            s.issues.append(PlaceIssue("gap", f"辖区内有 {a:,.0f} m² 不属于任何网格（周边网格：{names}）；落在其中的记录计为辖区外", a, around))
    if small:
        s.notes.append(f"另有 {small} 处小于 {MIN_REPORTED_M2:g} m² 的重叠或缝隙（数字化误差），未逐一列出")
    s.issues.sort(key=lambda i: (i.kind, -(i.area_m2 or 0)))


def _geom_fields(g) -> dict:
    gj = geo.to_geojson(g)
    lat, lon = geo.geometry_centroid(gj)
    if not g.contains(shapely.Point(lon, lat)):  # a ring-shaped grid: its cell sits inside it
        lat, lon = geo.label_point(gj)
    return {"boundary_geojson": gj, "area_km2": round(geo.geometry_area_km2(gj), 6), "centroid_lat": lat, "centroid_lon": lon, "h3": geo.h3_cell(lat, lon)}


def _write(engine: Engine, s: PlacesSummary, grids: dict[str, _Grid], station: str, station_label: str, branch: str | None, path: Path, dry_run: bool, now: datetime | None) -> None:
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    st, cm, gr = schema.stations, schema.communities, schema.grids
    everything = shapely.union_all([g.shape for g in grids.values()])
    with engine.connect() as conn:
        tx = conn.begin()
        slat, slon = geo.geometry_centroid(geo.to_geojson(everything))
        sid = conn.execute(select(st.c.id).where(st.c.code == station)).scalar()
        if sid is None:
            sid = conn.execute(st.insert().values(code=station, name=station_label[:64], branch=(branch or "")[:64], centroid_lat=slat, centroid_lon=slon).returning(st.c.id)).scalar_one()
        else:
            vals = {"centroid_lat": slat, "centroid_lon": slon}
            if station_label != station:
                vals["name"] = station_label[:64]
            if branch:
                vals["branch"] = branch[:64]
            conn.execute(update(st).where(st.c.id == sid).values(**vals))
        communities: dict[str, list[_Grid]] = {}
        for g in grids.values():
            communities.setdefault(g.community_code, []).append(g)
        cids = {}
        for ccode, members in sorted(communities.items()):
            u = shapely.union_all([g.shape for g in members])
            lat, lon = geo.label_point(geo.to_geojson(u)) if len(members) > 1 else geo.geometry_centroid(geo.to_geojson(u))
            row = conn.execute(select(cm.c.id, cm.c.name, cm.c.station_id, cm.c.centroid_lat, cm.c.centroid_lon).where(cm.c.code == ccode)).first()
            vals = {"station_id": sid, "name": members[0].community, "centroid_lat": lat, "centroid_lon": lon}
            if row is None:
                cids[ccode] = conn.execute(cm.insert().values(code=ccode, **vals).returning(cm.c.id)).scalar_one()
                s.communities["inserted"] += 1
            else:
                cids[ccode] = row.id
                same = row.name == vals["name"] and row.station_id == sid and abs(row.centroid_lat - lat) < 1e-9 and abs(row.centroid_lon - lon) < 1e-9
                if not same:
                    conn.execute(update(cm).where(cm.c.id == row.id).values(**vals))
                s.communities["unchanged" if same else "updated"] += 1
        existing = {r.code: r for r in conn.execute(select(gr.c.id, gr.c.code, gr.c.name, gr.c.community_id, gr.c.boundary_geojson, gr.c.population).where(gr.c.code.in_(list(grids))))}
        staged = []
        for code, g in grids.items():
            vals = {"community_id": cids[g.community_code], "name": g.name, "population": g.population, **_geom_fields(g.shape)}
            old = existing.get(code)
            if old is None:
                gid = conn.execute(gr.insert().values(code=code, **vals).returning(gr.c.id)).scalar_one()
                status = "inserted"
            else:
                gid = old.id
                same = old.name == g.name and old.community_id == vals["community_id"] and old.boundary_geojson == vals["boundary_geojson"] and old.population == g.population
                if not same:
                    conn.execute(update(gr).where(gr.c.id == old.id).values(**vals))
                status = "unchanged" if same else "updated"
            s.grids[status] += 1
            staged.append((g, status, gid))
        others = conn.execute(
            select(gr.c.code, gr.c.name).join(cm, cm.c.id == gr.c.community_id).where(cm.c.station_id == sid, gr.c.code.not_in(list(grids)))
        ).all()
        if others:
            s.notes.append(f"数据库中本所另有 {len(others)} 个网格不在本文件中，已保留未删除：{'、'.join(r.name for r in others[:8])}{'…' if len(others) > 8 else ''}")
        if dry_run:
            tx.rollback()
            return
        b = schema.import_batches
        counts = {"inserted": s.grids["inserted"], "updated": s.grids["updated"], "unchanged": s.grids["unchanged"], "rejected": s.grids["rejected"]}
        bid = conn.execute(
            b.insert().values(
                kind="places", source_system="places", file_name=path.name[:255], sha256=sha256_of(path), station_code=station, mapping=None,
                dry_run=False, started_at=now, finished_at=datetime.now(timezone.utc).replace(tzinfo=None), status="done", rows_read=s.features,
                notes=json.dumps(s.notes + [i.zh for i in s.issues], ensure_ascii=False), **counts,
            ).returning(b.c.id)
        ).scalar_one()
        s.batch_id = bid
        recs = []
        for g, status, gid in staged:
            errs = [{"field": "geometry", "column": "", "zh": i.zh, "en": i.kind} for i in s.issues if g.code in i.grids or any(f"第 {k} 个要素" in i.zh for k in g.features)]
            recs.append({"batch_id": bid, "row_no": g.features[0], "source_id": g.code, "status": status, "raw": json.dumps(g.raw, ensure_ascii=False), "errors": json.dumps(errs, ensure_ascii=False) if errs else None, "target_id": gid})
        for i in s.of("rejected"):
            recs.append({"batch_id": bid, "row_no": 0, "source_id": None, "status": "rejected", "raw": "{}", "errors": json.dumps([{"field": "geometry", "column": "", "zh": i.zh, "en": "rejected"}], ensure_ascii=False), "target_id": None})
        conn.execute(schema.import_rows.insert(), recs)
        tx.commit()

"""What every kind of load shares: a source row read into typed values (``Row``),
the grids rows may land in (``Places``), the batch's summary, and the staging
of every source row into ``import_rows`` with what became of it and why.
``records`` (incidents, reports, disputes) and ``gps`` (patrol tracks) build on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from sqlalchemy import select
from sqlalchemy.engine import Connection

from dashboard.db import schema
from dashboard.geo import GridLocator
from dashboard.writers.bulk import bulk_insert
from dashboard.writers.load.mapping import REQUIRED, TARGETS, CellError, Mapping, MappingError, parse_bool, parse_int, parse_number, parse_time, raw_value

STATUS_ZH = {
    "inserted": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "duplicate": "重复",
    "rejected": "拒收",
    "outside": "辖区外",
    "unlocated": "无法定位",
}


@dataclass
class LoadSummary:
    kind: str
    file: str
    batch_id: int | None
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: {s: 0 for s in schema.IMPORT_ROW_STATUSES})
    rows_read: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    rejected_examples: list[str] = field(default_factory=list)  # the first messages, for the terminal
    reasons: dict[str, int] = field(default_factory=dict)  # rejected rows by (field: reason kind)
    outside_examples: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.counts["inserted"] + self.counts["updated"]


@dataclass
class Row:
    row_no: int
    raw: dict[str, str]
    values: dict[str, object] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    source_id: str | None = None
    status: str = ""
    target_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    grid_id: int | None = None
    hash: str = ""

    def error(self, spec_field: str, column: str, label: str, exc: CellError) -> None:
        self.errors.append(
            {
                "field": spec_field,
                "column": column,
                "zh": f"第 {self.row_no} 行 · {label}：{exc.zh}",
                "en": f"row {self.row_no} · {spec_field} ({column}): {exc.en}",
            }
        )


class Places:
    """The grids rows may land in: a point locator, and lookup by code or name."""

    def __init__(self, conn: Connection, station_code: str | None):
        g, cm = schema.grids, schema.communities
        q = select(g.c.id, g.c.code, g.c.name, g.c.boundary_geojson, g.c.centroid_lat, g.c.centroid_lon, cm.c.station_id).join(cm, cm.c.id == g.c.community_id)
        self.station_id: int | None = None  # the station asked for, or the only one there is
        if station_code:
            st = conn.execute(select(schema.stations.c.id).where(schema.stations.c.code == station_code)).scalar()
            if st is None:
                raise MappingError(f"数据库中没有派出所 {station_code}；请先导入地块（python -m dashboard.load places … --station {station_code}）/ no such station")
            q = q.where(cm.c.station_id == st)
            self.station_id = st
        rows = conn.execute(q.order_by(schema.grids.c.id)).all()
        if not rows:
            raise MappingError("数据库中还没有网格；请先导入地块（python -m dashboard.load places …）/ no grids yet: load places first")
        self.locator = GridLocator((r.id, r.boundary_geojson) for r in rows)
        self.by_key: dict[str, int] = {}
        for r in rows:
            self.by_key.setdefault(r.code.strip().casefold(), r.id)
        for r in rows:
            self.by_key.setdefault(r.name.strip().casefold(), r.id)
        self.centre = {r.id: (r.centroid_lat, r.centroid_lon) for r in rows}
        self.station_of = {r.id: r.station_id for r in rows}
        if self.station_id is None and len(set(self.station_of.values())) == 1:
            self.station_id = rows[0].station_id  # one station: the station of every row


def chunks(it: Iterator, n: int) -> Iterator[list]:
    while True:
        chunk = list(islice(it, n))
        if not chunk:
            return
        yield chunk


def parse_fields(kind: str, m: Mapping, row_no: int, raw: dict[str, str]) -> Row:
    """A source row's mapped fields read into typed values, a message per cell that cannot be read or is required and empty."""
    r = Row(row_no, raw)
    targets = TARGETS[kind]
    for name, spec in m.fields.items():
        label, typ = targets[name]
        try:
            text = raw_value(spec, raw)
            if text is None:
                r.values[name] = None
                continue
            if typ == "time":
                r.values[name] = parse_time(text, spec, m.tz)
            elif typ == "number":
                r.values[name] = parse_number(text)
            elif typ == "bool":
                r.values[name] = parse_bool(text)
            elif typ == "int":
                r.values[name] = parse_int(text)
            else:
                r.values[name] = text
        except CellError as exc:
            r.error(name, spec.source(), label, exc)
            r.values[name] = None
    for name in REQUIRED[kind]:
        if r.values.get(name) is None and not any(e["field"] == name for e in r.errors):
            spec = m.fields[name]
            r.error(name, spec.source(), targets[name][0], CellError("为空", "is empty"))
    return r


def too_long(r: Row, m: Mapping, name: str, limit: int) -> None:
    v = r.values.get(name)
    if isinstance(v, str) and len(v) > limit:
        spec = m.fields[name]
        r.error(name, spec.source(), TARGETS[m.kind][name][0], CellError(f"超过 {limit} 个字符（{len(v)} 个）", f"longer than {limit} characters ({len(v)})"))
        r.values[name] = None


def count_rows(summary: LoadSummary, rows: list[Row]) -> None:
    """A chunk's rows into the summary: counts by status, the reasons rows were rejected, the first examples."""
    for r in rows:
        if r.status == "":
            r.status = "unlocated"
        summary.counts[r.status] += 1
        if r.status == "rejected":
            for e in r.errors:
                if e.get("level") != "note":
                    key = f"{e['field']}：{e['zh'].split('：', 1)[-1][:30]}"
                    key = key if "'" not in key else key.split("'")[0] + "…"
                    summary.reasons[key] = summary.reasons.get(key, 0) + 1
                    if len(summary.rejected_examples) < 10:
                        summary.rejected_examples.append(e["zh"])
        if r.status == "outside" and len(summary.outside_examples) < 5:
            summary.outside_examples.append(f"第 {r.row_no} 行 · ({r.lat}, {r.lon})")


def stage_rows(conn: Connection, batch_id: int | None, rows: list[Row], time_field: str, category_field: str | None) -> None:
    """Every source row of a chunk into import_rows: its raw values, what became of it and why (not on a dry run)."""
    if batch_id is None:
        return
    recs = []
    for r in rows:
        at = r.values.get(time_field)
        cat = r.values.get(category_field) if category_field else None
        recs.append(
            (
                batch_id, r.row_no, r.source_id, r.status, json.dumps(r.raw, ensure_ascii=False),
                json.dumps(r.errors, ensure_ascii=False) if r.errors else None,
                at if isinstance(at, datetime) else None, (cat or None) if isinstance(cat, str) else None,
                r.lat, r.lon, r.target_id,
            )
        )
    bulk_insert(conn, schema.import_rows, ["batch_id", "row_no", "source_id", "status", "raw", "errors", "at", "category", "lat", "lon", "target_id"], recs)

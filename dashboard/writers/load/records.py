"""Loading records (incidents, reports with their tasks, disputes) from a table file
(and, through the same batch and staging, patrol GPS tracks: ``dashboard.writers.load.gps``).

One batch per file, in one transaction: the batch row, one staged row per
source row (its raw values, what became of it and why), and the live rows
upserted on (source system, source id). Nothing is lost: a row that fails
validation is staged as ``rejected`` with a message per column; a row whose
point is in no grid is staged as ``outside`` (and counted on the pages as
辖区外); a row with no usable point and no grid named is ``unlocated``.

Source ids: the mapped ``id`` column; a file without one gets a content key
(the sha1 of the row's text and its occurrence number among identical rows),
so the same file loaded twice changes nothing; an edited row of such a file
then reads as a new row, which the summary says.

A point on the boundary of two grids goes to one of them by the locator's
rule (``dashboard.geo.GridLocator``: half-open edges, the grid to the east,
or to the north on an east-west edge; the lowest grid id where grids overlap).
A row with both a point and a grid column is placed by its point.

Memory stays bounded by the chunk size, except for the content keys of a file
without an id column (about 80 bytes per distinct row).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Engine

from dashboard import crs as crslib
from dashboard import station
from dashboard.db import schema
from dashboard.geo import h3_cells
from dashboard.writers.bulk import bulk_insert
from dashboard.writers.load.gps import GpsWriter, parse_point
from dashboard.writers.load.mapping import EVENT_TIME, CellError, Mapping, MappingError
from dashboard.writers.load.rows import STATUS_ZH, LoadSummary, Places, Row, chunks, count_rows, parse_fields, stage_rows, too_long
from dashboard.writers.load.sources import open_table, sha256_of

CHUNK = 5000
LIVE = {"incidents": schema.incidents, "reports": schema.reports, "disputes": schema.disputes}
VOCAB_KIND = {"incidents": "incident_category", "reports": "report_category", "disputes": "dispute_kind"}
CATEGORY_FIELD = {"incidents": "category", "reports": "category", "disputes": "kind"}
TASK_FIELDS = ("state", "department", "dispatched_at", "deadline_at", "feedback_at", "closed_at", "visited_at", "satisfied")


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            n += block.count(b"\n")
    return max(n - 1, 0)


def load_records(
    engine: Engine,
    kind: str,
    path: Path | str,
    mapping: Mapping,
    *,
    station_code: str | None = None,
    dry_run: bool = False,
    chunk_size: int = CHUNK,
    progress: Callable[[int, int | None], None] | None = None,
    now: datetime | None = None,
) -> LoadSummary:
    """Load one file into the live tables (or, with ``dry_run``, only say what would happen)."""
    t0 = time.monotonic()
    path = Path(path)
    if mapping.kind != kind:
        raise MappingError(f"映射文件是 {mapping.kind} 的，不能用于 {kind} / mapping is for another kind")
    table = open_table(path, mapping.encoding, mapping.sheet)
    missing = sorted(mapping.columns_used() - set(table.header))
    if missing:
        raise MappingError(
            f"文件中没有映射用到的列：{'、'.join(missing)}（文件的列：{'、'.join(table.header[:30])}）/ columns not in the file: {', '.join(missing)}"
        )
    summary = LoadSummary(kind, path.name, None, dry_run, notes=list(table.notes))
    if "id" not in mapping.fields and kind in LIVE:
        summary.notes.append("映射没有来源编号列（id）：按行内容识别记录，同一文件重复导入不会重复写入；修改过的行会作为新记录导入")
    sha = sha256_of(path)
    total = _count_lines(path) if table.kind == "csv" else None
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.connect() as conn:
        places = Places(conn, station_code)
        conn.rollback()  # end the read's implicit transaction; the batch has its own
        batch_id = None
        if not dry_run:
            with conn.begin():
                batch_id = conn.execute(
                    schema.import_batches.insert().values(
                        kind=kind, source_system=mapping.system, file_name=path.name[:255], sha256=sha, station_code=station_code,
                        mapping=mapping.text, dry_run=False, started_at=now, status="running",
                    ).returning(schema.import_batches.c.id)
                ).scalar_one()
            summary.batch_id = batch_id
        occurrences: dict[bytes, int] = {}
        if kind == "gps":  # track points: shifts derived from the points (dashboard.writers.load.gps)
            writer = GpsWriter(conn, mapping, batch_id, now, summary, places)
            parse = lambda no, raw: parse_point(mapping, no, raw)  # noqa: E731
        else:
            writer = _Writer(conn, kind, mapping, batch_id, now, summary)
            parse = lambda no, raw: _parse(kind, mapping, no, raw, occurrences)  # noqa: E731
        try:
            with conn.begin() as tx:
                checked = False
                next_analyze = chunk_size
                for chunk in chunks(table.rows(), chunk_size):
                    rows = [parse(no, raw) for no, raw in chunk]
                    if not checked:
                        _check_coordinates(mapping, rows)
                        checked = True
                    _locate(rows, mapping, places)
                    writer.write(rows)
                    summary.rows_read += len(rows)
                    if conn.dialect.name == "postgresql" and summary.rows_read >= next_analyze:
                        # The tables grow inside this one transaction, unseen by autovacuum: without fresh
                        # statistics the planner reads source_id IN (…) as a scan of every row of the system
                        # (measured by bench/load.py: 2,185 rows/s at 200k rows before, 10,999 after).
                        conn.exec_driver_sql(f"ANALYZE {writer.analyze}, import_rows")
                        next_analyze *= 2
                    if progress:
                        progress(summary.rows_read, total)
                summary.notes.extend(n for n in table.notes if n not in summary.notes)
                writer.finish()
                if dry_run:
                    tx.rollback()
        except BaseException as exc:
            if batch_id is not None:
                with conn.begin():
                    conn.execute(
                        update(schema.import_batches)
                        .where(schema.import_batches.c.id == batch_id)
                        .values(status="failed", finished_at=datetime.now(timezone.utc).replace(tzinfo=None), notes=json.dumps([str(exc)[:500]], ensure_ascii=False))
                    )
            raise
        summary.seconds = round(time.monotonic() - t0, 2)
        if batch_id is not None:
            with conn.begin():
                conn.execute(
                    update(schema.import_batches)
                    .where(schema.import_batches.c.id == batch_id)
                    .values(
                        status="done",
                        finished_at=datetime.now(timezone.utc).replace(tzinfo=None),
                        rows_read=summary.rows_read,
                        notes=json.dumps(summary.notes, ensure_ascii=False),
                        **summary.counts,
                    )
                )
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA analysis_limit = 2000")
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
    return summary


# --- parsing --------------------------------------------------------------------


def _parse(kind: str, m: Mapping, row_no: int, raw: dict[str, str], occurrences: dict[bytes, int]) -> Row:
    r = parse_fields(kind, m, row_no, raw)
    _check_kind_values(kind, r, m)
    sid = r.values.get("id")
    if sid:
        r.source_id = str(sid)[:128]
    else:
        digest = hashlib.sha1(json.dumps(raw, ensure_ascii=False, sort_keys=True).encode()).digest()
        n = occurrences.get(digest[:10], 0) + 1
        occurrences[digest[:10]] = n
        r.source_id = f"~{digest.hex()[:24]}#{n}"
    if r.errors:
        r.status = "rejected"
    return r


def _check_kind_values(kind: str, r: Row, m: Mapping) -> None:
    for name, col in LIVE[kind].c.items():
        if name in r.values and hasattr(col.type, "length") and col.type.length:
            too_long(r, m, name, col.type.length)
    too_long(r, m, "department", schema.departments.c.name.type.length)  # a task's, not the live table's column
    if kind == "reports" and r.values.get("state") is not None and r.values["state"] not in schema.TASK_STATES:
        r.error("state", m.fields["state"].source(), "处置状态", CellError(f"'{r.values['state']}' 不是六种状态之一（{'、'.join(schema.TASK_STATES)}），请在映射中用 map 对应", f"'{r.values['state']}' is not one of the six task states"))
    if kind == "disputes":
        if r.values.get("status") is not None and r.values["status"] not in schema.DISPUTE_STATUSES:
            r.error("status", m.fields["status"].source(), "调处状态", CellError(f"'{r.values['status']}' 不是 {'、'.join(schema.DISPUTE_STATUSES)} 之一", f"'{r.values['status']}' is not a dispute status"))
        lv = r.values.get("level")
        if lv is not None and lv not in (1, 2, 3):
            r.error("level", m.fields["level"].source(), "调处层级", CellError(f"应为 1、2 或 3，而不是 {lv}", f"must be 1, 2 or 3, not {lv}"))


def _check_coordinates(m: Mapping, rows: list[Row]) -> None:
    """Refuse a batch whose coordinates do not look like the declared CRS, before anything is written."""
    if "x" not in m.fields:
        return
    pts = [(r.values["x"], r.values["y"]) for r in rows if r.values.get("x") is not None and r.values.get("y") is not None]
    try:
        crslib.check_declared([p[0] for p in pts], [p[1] for p in pts], m.crs)
    except crslib.CrsError as exc:
        raise MappingError(str(exc)) from exc


def _locate(rows: list[Row], m: Mapping, places: Places) -> None:
    pending = [r for r in rows if not r.errors]
    with_xy = [r for r in pending if r.values.get("x") is not None and r.values.get("y") is not None and (r.values["x"] != 0 or r.values["y"] != 0)]
    if with_xy:
        lon, lat = crslib.to_wgs84([r.values["x"] for r in with_xy], [r.values["y"] for r in with_xy], m.crs)
        ids = places.locator.locate_many(lat, lon)
        for r, a, o, g in zip(with_xy, lat.tolist(), lon.tolist(), ids.tolist()):
            if not (np.isfinite(a) and np.isfinite(o)) or not (-90 <= a <= 90 and -180 <= o <= 180):
                r.error("x", m.fields["x"].source(), "坐标", CellError("坐标无法换算为经纬度", "coordinates cannot be converted to longitude/latitude"))
                r.status = "rejected"
                continue
            r.lat, r.lon = round(a, 7), round(o, 7)
            if g >= 0:
                r.grid_id = int(g)
            else:
                r.status = "outside"
    located = {id(r) for r in with_xy}
    for r in pending:
        if id(r) in located:
            continue
        name = r.values.get("grid")
        gid = places.by_key.get(str(name).strip().casefold()) if name else None
        if gid is None:
            r.status = "unlocated"
            if name:
                r.errors.append({"field": "grid", "column": m.fields["grid"].source(), "zh": f"第 {r.row_no} 行 · 网格：没有名为或编码为 '{name}' 的网格", "en": f"row {r.row_no} · grid: no grid named or coded '{name}'"})
            continue
        r.grid_id = gid
        r.lat, r.lon = places.centre[gid]  # no point in the source: the grid's centre, and the row says so
        r.errors.append({"field": "x", "column": "", "zh": f"第 {r.row_no} 行 · 坐标：缺失，按网格定位到网格中心", "en": f"row {r.row_no} · no coordinates: placed at its grid's centre", "level": "note"})


# --- writing --------------------------------------------------------------------


def _hash(values: dict[str, object]) -> str:
    def enc(v: object) -> object:
        return v.isoformat() if isinstance(v, datetime) else v

    return hashlib.sha1(json.dumps({k: enc(v) for k, v in sorted(values.items())}, ensure_ascii=False).encode()).hexdigest()


class _Writer:
    def __init__(self, conn: Connection, kind: str, m: Mapping, batch_id: int | None, now: datetime, summary: LoadSummary):
        self.conn, self.kind, self.m, self.batch_id, self.now, self.summary = conn, kind, m, batch_id, now, summary
        self.table = LIVE[kind]
        self.analyze = self.table.name  # the live table whose statistics a long load refreshes
        self.categories: dict[str, int] = {}
        self.departments: dict[str, int] = {}
        self.has_task = kind == "reports" and any(f in m.fields for f in TASK_FIELDS)
        self.derived_deadlines = 0

    # live values per kind
    def live_values(self, r: Row) -> dict[str, object]:
        v = r.values
        if self.kind == "incidents":
            out = {
                "received_at": v["received_at"], "arrived_at": v.get("arrived_at"), "closed_at": v.get("closed_at"),
                "category": v["category"], "subtype": v.get("subtype") or "", "place": v.get("place") or "", "outcome": v.get("outcome"),
            }
        elif self.kind == "reports":
            out = {
                "reported_at": v["reported_at"], "place": v.get("place") or "", "reporter_id": None, "category": v["category"],
                "urgency": v.get("urgency"), "text": v.get("text") or "", "source": (v.get("source") or self.m.system)[:32],
            }
            for f in TASK_FIELDS:
                if f in self.m.fields:
                    out["task_" + f] = v.get(f)
        else:
            out = {
                "found_at": v["found_at"], "kind": v["kind"], "status": v["status"], "level": v["level"], "parties": v.get("parties") or 2,
                "summary": v.get("summary") or "", "closed_at": v.get("closed_at"), "visited_at": v.get("visited_at"), "satisfied": v.get("satisfied"),
                "visit_due_at": None, "report_id": None,
            }
        out["grid_id"] = r.grid_id
        if self.kind != "disputes":  # disputes carry a grid and an H3 cell, no point
            out["lat"], out["lon"] = r.lat, r.lon
        return out

    def write(self, rows: list[Row]) -> None:
        conn, t = self.conn, self.table
        good = [r for r in rows if r.status == "" and r.grid_id is not None]
        for r in good:
            r.values["_live"] = self.live_values(r)
            r.hash = _hash(r.values["_live"])
        keys = sorted({r.source_id for r in good})
        existing: dict[str, tuple[int, str | None]] = {}
        for part in chunks(iter(keys), 2000):
            for row in conn.execute(select(t.c.id, t.c.source_id, t.c.source_hash).where(t.c.source_system == self.m.system, t.c.source_id.in_(part))):
                existing[row.source_id] = (row.id, row.source_hash)
        seen_in_batch: set[str] = set()
        if self.batch_id is not None and existing:
            ir = schema.import_rows
            for part in chunks(iter(sorted(existing)), 2000):
                seen_in_batch.update(
                    conn.execute(
                        select(ir.c.source_id).where(ir.c.batch_id == self.batch_id, ir.c.source_id.in_(part), ir.c.status.in_(("inserted", "updated", "unchanged")))
                    ).scalars()
                )
        inserts: list[Row] = []
        updates: list[Row] = []
        chunk_keys: dict[str, Row] = {}
        for r in good:
            prior = chunk_keys.get(r.source_id)
            if prior is not None:  # the same source id twice in one chunk
                if prior.hash == r.hash:
                    r.status, r.target_id = "duplicate", None
                    continue
                # a later row of the file with new values: it wins
                prior.values["_live"], prior.hash = r.values["_live"], r.hash
                r.status = "duplicate"
                r.errors.append({"field": "id", "column": "", "zh": f"第 {r.row_no} 行 · 来源编号与第 {prior.row_no} 行相同，内容不同：以本行为准", "en": f"row {r.row_no} · same source id as row {prior.row_no} with other values: this row's values were kept", "level": "note"})
                continue
            chunk_keys[r.source_id] = r
            if r.source_id in existing:
                tid, h = existing[r.source_id]
                r.target_id = tid
                if r.source_id in seen_in_batch:
                    r.status = "duplicate" if h == r.hash else "updated"
                    if r.status == "updated":
                        updates.append(r)
                elif h == r.hash:
                    r.status = "unchanged"
                else:
                    r.status = "updated"
                    updates.append(r)
            else:
                r.status = "inserted"
                inserts.append(r)
        self._insert(inserts)
        self._update(updates)
        for r in good:
            cat = r.values.get(CATEGORY_FIELD[self.kind])
            if cat:
                self.categories[cat] = self.categories.get(cat, 0) + 1
        count_rows(self.summary, rows)
        stage_rows(self.conn, self.batch_id, rows, EVENT_TIME[self.kind], CATEGORY_FIELD[self.kind])

    def _department(self, name: str | None) -> int | None:
        if not name:
            return None
        if name in self.departments:
            return self.departments[name]
        d = schema.departments
        did = self.conn.execute(select(d.c.id).where(d.c.name == name)).scalar()
        if did is None:
            did = self.conn.execute(d.insert().values(name=name, kind="职能部门").returning(d.c.id)).scalar_one()
        self.departments[name] = did
        return did

    def _rule_deadline(self, created: datetime, category: str, urgency: str | None) -> tuple[datetime | None, str | None]:
        """The first matching deadline rule of the mapping, or of the station
        file when the mapping has none; working days in the station's zone."""
        st = station.current()
        for rule in self.m.deadline_rules or st.deadline_rules:
            if rule.matches(category, urgency):
                return rule.deadline(created, st.zone), rule.label
        return None, None

    def _task(self, r: Row, report_id: int) -> dict:
        v = r.values["_live"]
        get = lambda f: v.get("task_" + f)  # noqa: E731
        state = get("state")
        if state is None:  # no state column: the furthest step the times show
            state = next((s for s, f in (("已回访", "visited_at"), ("已办结", "closed_at"), ("已反馈", "feedback_at"), ("已派发", "dispatched_at")) if get(f)), "待研判")
        deadline, rule = get("deadline_at"), None
        if deadline is None:
            deadline, rule = self._rule_deadline(v["reported_at"], v["category"], v.get("urgency"))
            self.derived_deadlines += deadline is not None
        return {
            "report_id": report_id, "grid_id": v["grid_id"], "h3": v["h3"], "category": v["category"], "urgency": v.get("urgency"),
            "created_at": v["reported_at"], "state": state, "officer_id": None, "department_id": self._department(get("department")),
            "dispatched_at": get("dispatched_at"), "deadline_at": deadline, "deadline_rule": rule, "feedback_at": get("feedback_at"),
            "closed_at": get("closed_at"), "visited_at": get("visited_at"), "satisfied": get("satisfied"), "transfer_count": 0,
            "version": 1, "updated_at": self.now,
        }

    def _events(self, task_id: int, task: dict) -> list[dict]:
        """The closed loop's events as the task's times show them (derived; actor = the source system)."""
        steps = [("创建", "待研判", task["created_at"]), ("派发" if task["department_id"] is None else "转派", "已派发", task["dispatched_at"]),
                 ("反馈", "已反馈", task["feedback_at"]), ("办结", "已办结", task["closed_at"]), ("回访", "已回访", task["visited_at"])]
        out = []
        for event, to_state, at in steps:
            if at is None:
                continue
            out.append({"task_id": task_id, "seq": len(out) + 1, "at": at, "event": event, "actor": f"导入 · {self.m.system}"[:64], "to_state": to_state,
                        "officer_id": None, "department_id": task["department_id"] if event in ("派发", "转派") else None,
                        "deadline_at": task["deadline_at"] if event in ("派发", "转派") else None, "note": None})
        if task["state"] in ("处置中",) and out:
            out.append({**out[-1], "seq": len(out) + 1, "event": "签收", "to_state": "处置中", "department_id": None, "deadline_at": None})
        return out

    def _insert(self, rows: list[Row]) -> None:
        if not rows:
            return
        t = self.table
        lats = [r.lat for r in rows]
        lons = [r.lon for r in rows]
        cells = h3_cells(lats, lons)
        records = []
        for r, cell in zip(rows, cells):
            v = r.values["_live"]
            v["h3"] = cell
            rec = {k: x for k, x in v.items() if not k.startswith("task_")}
            rec.update(source_system=self.m.system, source_id=r.source_id, source_hash=r.hash)
            records.append(rec)
        cols = list(records[0])
        bulk_insert(self.conn, t, cols, [tuple(rec[c] for c in cols) for rec in records])
        ids = {}
        for part in chunks(iter([r.source_id for r in rows]), 2000):
            ids.update(self.conn.execute(select(t.c.source_id, t.c.id).where(t.c.source_system == self.m.system, t.c.source_id.in_(part))).all())
        for r in rows:
            r.target_id = ids[r.source_id]
        if self.has_task:
            self._write_tasks(rows, fresh=True)

    def _write_tasks(self, rows: list[Row], fresh: bool) -> None:
        tk, ev = schema.tasks, schema.task_events
        if not fresh:
            old = self.conn.execute(select(tk.c.id).where(tk.c.report_id.in_([r.target_id for r in rows]))).scalars().all()
            if old:
                self.conn.execute(delete(ev).where(ev.c.task_id.in_(old)))
                self.conn.execute(delete(tk).where(tk.c.id.in_(old)))
        tasks = [self._task(r, r.target_id) for r in rows]
        cols = list(tasks[0])
        bulk_insert(self.conn, tk, cols, [tuple(x[c] for c in cols) for x in tasks])
        by_report = dict(self.conn.execute(select(tk.c.report_id, tk.c.id).where(tk.c.report_id.in_([r.target_id for r in rows]))).all())
        events = [e for x in tasks for e in self._events(by_report[x["report_id"]], x)]
        if events:
            ecols = list(events[0])
            bulk_insert(self.conn, ev, ecols, [tuple(e[c] for c in ecols) for e in events])

    def _update(self, rows: list[Row]) -> None:
        if not rows:
            return
        t = self.table
        cells = h3_cells([r.lat for r in rows], [r.lon for r in rows])
        for r, cell in zip(rows, cells):
            v = r.values["_live"]
            v["h3"] = cell
            rec = {k: x for k, x in v.items() if not k.startswith("task_")}
            self.conn.execute(update(t).where(t.c.id == r.target_id).values(**rec, source_hash=r.hash))
        if self.has_task:
            self._write_tasks(rows, fresh=False)

    def finish(self) -> None:
        """The station's vocabulary learns the categories the file brought."""
        if self.derived_deadlines:
            self.summary.notes.append(f"{self.derived_deadlines} 件任务的反馈期限按站点规则推算（tasks.deadline_rule 记明规则）")
        if not self.categories:
            return
        vk = VOCAB_KIND[self.kind]
        v = schema.vocabulary
        known = set(self.conn.execute(select(v.c.code).where(v.c.kind == vk)).scalars())
        top = self.conn.execute(select(func.coalesce(func.max(v.c.sort_order), -1)).where(v.c.kind == vk)).scalar()
        new = [c for c, _ in sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0])) if c not in known]
        if new:
            self.conn.execute(v.insert(), [{"kind": vk, "code": c, "name": c, "sort_order": top + 1 + i, "colour": None, "key_category": False} for i, c in enumerate(new)])
            self.summary.notes.append(f"新类别 {len(new)} 个已加入站点词表：{'、'.join(new[:8])}{'…' if len(new) > 8 else ''}")


def rejected_rows(engine: Engine, batch_id: int) -> list[dict]:
    """The rows of a batch that were not loaded (rejected, outside, unlocated), with their messages."""
    ir = schema.import_rows
    with engine.connect() as conn:
        rows = conn.execute(
            select(ir.c.row_no, ir.c.status, ir.c.source_id, ir.c.errors, ir.c.raw)
            .where(ir.c.batch_id == batch_id, ir.c.status.in_(("rejected", "outside", "unlocated")))
            .order_by(ir.c.row_no)
        ).all()
    out = []
    for r in rows:
        errs = json.loads(r.errors) if r.errors else []
        out.append(
            {
                "行号": r.row_no,
                "结果": STATUS_ZH[r.status],
                "来源编号": r.source_id,
                "原因": "；".join(e["zh"].split(" · ", 1)[-1] for e in errs) or ("不在任何网格内" if r.status == "outside" else ""),
                "reason": "; ".join(e["en"].split(" · ", 1)[-1] for e in errs) or ("in no grid" if r.status == "outside" else ""),
                "原始数据": r.raw,
            }
        )
    return out


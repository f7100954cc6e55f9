"""Loading patrol GPS track points: ``python -m dashboard.load gps FILE --mapping M.toml``.

A positioning device's export (a patrol car's, a foot patrol's handset): one
row per fix, with the team or device, the time and the position. The rows go
through the same staging as the records (``dashboard.writers.load.records``: one batch
per file in one transaction, every row in ``import_rows`` with what became of
it and why); the live rows are ``patrol_teams``, ``patrol_shifts`` and
``patrol_points``.

Teams: matched by name (the ``team`` field, as written) within the station:
the one named by ``--station``, else the only station that has grids, else the
station of the grid the team's point falls in. A team not yet known is created
with the mapped kind (one of ``schema.PATROL_TEAM_KINDS``; 巡防队 when the
mapping gives none), members (0 when the export does not say) and community
(by name or code within the station); a known team takes the kind, members and
community the file maps, when they differ.

Points: keyed by (team, time): a device reports one fix per instant. A point
already stored for the team at that time is 未变 when its position is the same,
更新 (moved, with its grid and H3 cell) when not; a second row of the file for
the same team and time is 重复 (the first one kept). Loading the same file
twice changes nothing; a later export that overlaps an earlier one adds only
its new points. A point in no grid cannot be a live row (``grid_id`` is NOT
NULL): it is staged as 辖区外 and counted, as are rows without a usable
position (无法定位) and rows with a bad cell (拒收, a message per cell).

Shifts, when the file has a shift column: one shift per (team, shift id),
stored with that id (``patrol_shifts.source_id``), from its first to its last
loaded point. Without one (or for a row whose shift cell is empty), shifts are
derived per team from the loaded points: **a team's points belong to one shift
as long as consecutive points are at most ``[source] shift_gap_minutes``
(default 60) apart; a longer gap starts a new shift.** The rule is applied to
the team's stored derived shifts and the new points together, so a load
extends a shift its points continue (earlier or later), joins two shifts a
point now bridges, and starts a new shift after a gap; the result does not
depend on how the points are split between files or ordered within one.
started_at/ended_at are the shift's first and last loaded point (points
outside every grid do not extend a shift). 白 or 黑 by the local time
(Asia/Shanghai) of its start, as the pages split the day
(``queries.measures.DAY_SHIFT_HOURS``, 白 08:00–20:00) with an hour's grace
before each change: a shift starting from 07:00 to 18:59 is 白, else 黑
(the demo's crews set out within twenty minutes of 08:00 and 20:00).

巡逻时长: each point stands for its shift's mean interval, set at the end of
the load on every shift that got points (``patrol_shifts.point_minutes`` =
span / (points − 1); NULL for a one-point shift, which the pages count as
``queries.measures.PATROL_POINT_MINUTES``, the demo feed's 2 minutes). A
device logging every 15 s is then not counted eight times over.

Memory stays bounded by the chunk size: points are looked up and written per
chunk; what is kept across chunks is a cache of the teams and of shifts by id.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection

from dashboard.db import schema
from dashboard.geo import h3_cells
from dashboard.timeutil import to_local
from dashboard.writers.bulk import bulk_insert
from dashboard.writers.load.mapping import CellError, Mapping
from dashboard.writers.load.rows import LoadSummary, Places, Row, chunks, count_rows, parse_fields, stage_rows, too_long
from queries.measures.hotspots import DAY_SHIFT_HOURS, PATROL_POINT_MINUTES

DEFAULT_KIND = schema.PATROL_TEAM_KINDS[0]
SHIFT_GRACE_HOURS = 1  # a crew setting out up to an hour before a shift change belongs to the shift it starts
PART = 1000  # keys per IN (…) look-up


def shift_label(started_at: datetime) -> str:
    """白 or 黑 for a shift starting at ``started_at`` (naive UTC), by its local hour (see the module doc)."""
    h = to_local(started_at).hour
    return "白" if DAY_SHIFT_HOURS[0] - SHIFT_GRACE_HOURS <= h < DAY_SHIFT_HOURS[1] - SHIFT_GRACE_HOURS else "黑"


def point_key(team: str, at: datetime) -> str:
    """The staged source id of a point: its team and its time (UTC)."""
    return f"{team}@{at.isoformat(sep=' ')}"[:128]


def parse_point(m: Mapping, row_no: int, raw: dict[str, str]) -> Row:
    """One source row as a track point (fields, checks, its key), rejected with a message per bad cell."""
    r = parse_fields("gps", m, row_no, raw)
    too_long(r, m, "team", schema.patrol_teams.c.name.type.length)
    too_long(r, m, "community", schema.communities.c.name.type.length)
    too_long(r, m, "shift", schema.patrol_shifts.c.source_id.type.length)
    kind = r.values.get("kind")
    if kind is not None and kind not in schema.PATROL_TEAM_KINDS:
        r.error("kind", m.fields["kind"].source(), "队伍类型", CellError(
            f"'{kind}' 不是 {'、'.join(schema.PATROL_TEAM_KINDS)} 之一，请在映射中用 map 对应", f"'{kind}' is not a patrol team kind: map it in the mapping"))
        r.values["kind"] = None
    members = r.values.get("members")
    if members is not None and not 0 <= members <= 9999:
        r.error("members", m.fields["members"].source(), "队员人数", CellError(f"应在 0 到 9999 之间，而不是 {members}", f"must be between 0 and 9999, not {members}"))
        r.values["members"] = None
    team, at = r.values.get("team"), r.values.get("time")
    if team and isinstance(at, datetime):
        r.source_id = point_key(team, at)
    if r.errors:
        r.status = "rejected"
    return r


class GpsWriter:
    """Writes one chunk of located track points at a time (see the module doc); the batch's counts go to ``summary``."""

    analyze = "patrol_points, patrol_shifts"

    def __init__(self, conn: Connection, m: Mapping, batch_id: int | None, now: datetime, summary: LoadSummary, places: Places):
        self.conn, self.m, self.batch_id, self.now, self.summary, self.places = conn, m, batch_id, now, summary, places
        self.gap = timedelta(minutes=m.shift_gap_minutes)
        self.station = places.station_id  # None: several stations, each team in its point's
        self.teams: dict[tuple[int, str], int] = {}  # (station id, name) -> team id
        self.refreshed: set[int] = set()  # known teams whose kind/members/community this batch has set
        self.shift_by_source: dict[tuple[int, str], list] = {}  # (team id, shift id) -> [id, started_at, ended_at]
        self.new_teams: list[str] = []
        self.created: set[int] = set()  # shifts this batch made
        self.extended: set[int] = set()  # stored shifts it lengthened
        self.joined = 0
        self.no_community: set[str] = set()
        self.intervals: list[float] = []  # seconds between a team's consecutive new points (the first 20,000)
        self.touched: set[int] = set()  # shifts that got points: their point_minutes are set again at the end

    # --- teams ------------------------------------------------------------------

    def _community(self, station: int, name: str | None) -> int | None:
        if not name:
            return None
        c = schema.communities
        cid = self.conn.execute(
            select(c.c.id).where(c.c.station_id == station, or_(c.c.name == name, c.c.code == name)).order_by(c.c.id).limit(1)
        ).scalar()
        if cid is None:
            self.no_community.add(name)
        return cid

    def _team(self, name: str, r: Row) -> int:
        station = self.station if self.station is not None else self.places.station_of[r.grid_id]
        key = (station, name)
        tid = self.teams.get(key)
        if tid is not None:
            return tid
        t = schema.patrol_teams
        row = self.conn.execute(select(t.c.id, t.c.kind, t.c.members, t.c.community_id).where(t.c.station_id == station, t.c.name == name).order_by(t.c.id).limit(1)).first()
        v = r.values
        if row is None:
            tid = self.conn.execute(
                t.insert().values(
                    station_id=station, community_id=self._community(station, v.get("community")), name=name,
                    kind=v.get("kind") or DEFAULT_KIND, members=v.get("members") or 0,
                ).returning(t.c.id)
            ).scalar_one()
            self.new_teams.append(name)
        else:
            tid = row.id
            change = {}
            if v.get("kind") and v["kind"] != row.kind:
                change["kind"] = v["kind"]
            if v.get("members") is not None and v["members"] != row.members:
                change["members"] = v["members"]
            if v.get("community"):
                cid = self._community(station, v["community"])
                if cid is not None and cid != row.community_id:
                    change["community_id"] = cid
            if change:
                self.conn.execute(update(t).where(t.c.id == tid).values(**change))
        self.teams[key] = tid
        return tid

    # --- one chunk ----------------------------------------------------------------

    def write(self, rows: list[Row]) -> None:
        good: list[Row] = []
        first: dict[str, Row] = {}
        for r in rows:
            if r.status != "" or r.grid_id is None:
                continue
            prior = first.get(r.source_id)
            if prior is not None:  # the same team and time twice in this chunk: the first row stands
                self._duplicate(r, prior.row_no, (prior.lat, prior.lon))
                continue
            first[r.source_id] = r
            good.append(r)
        team_of: dict[int, int] = {}  # id(row) -> team id
        for r in good:
            team_of[id(r)] = self._team(r.values["team"], r)
        existing = self._existing(good, team_of)
        seen = self._seen_in_batch([r.source_id for r in good if (team_of[id(r)], r.values["time"]) in existing])
        inserts: list[Row] = []
        moved: list[tuple[Row, int]] = []
        for r in good:
            hit = existing.get((team_of[id(r)], r.values["time"]))
            if hit is None:
                inserts.append(r)
                continue
            pid, lat, lon = hit
            r.target_id = pid
            if r.source_id in seen:  # an earlier row of this file, in an earlier chunk, stored it
                self._duplicate(r, None, (lat, lon))
            elif (lat, lon) == (r.lat, r.lon):
                r.status = "unchanged"
            else:
                r.status = "updated"
                moved.append((r, pid))
        self._move(moved)
        self._insert(inserts, team_of)
        count_rows(self.summary, rows)
        stage_rows(self.conn, self.batch_id, rows, "time", None)

    def _duplicate(self, r: Row, prior_row: int | None, kept: tuple[float | None, float | None]) -> None:
        r.status = "duplicate"
        if kept != (r.lat, r.lon):
            where = f"第 {prior_row} 行" if prior_row else "本文件较前的一行"
            r.errors.append({
                "field": "time", "column": "", "level": "note",
                "zh": f"第 {r.row_no} 行 · 同一队伍同一时刻已有{where}的定位，位置不同：保留先出现的一行",
                "en": f"row {r.row_no} · the same team and time as {'row ' + str(prior_row) if prior_row else 'an earlier row'} at another position: the first was kept",
            })

    def _existing(self, good: list[Row], team_of: dict[int, int]) -> dict[tuple[int, datetime], tuple[int, float, float]]:
        """Points already stored for these (team, time) keys: (team id, at) -> (point id, lat, lon)."""
        if not good:
            return {}
        p, s = schema.patrol_points, schema.patrol_shifts
        teams = sorted(set(team_of.values()))
        out: dict[tuple[int, datetime], tuple[int, float, float]] = {}
        for part in chunks(iter(sorted({r.values["time"] for r in good})), PART):
            q = (
                select(s.c.team_id, p.c.at, p.c.id, p.c.lat, p.c.lon)
                .select_from(p.join(s, s.c.id == p.c.shift_id))
                .where(p.c.at.in_(part), s.c.team_id.in_(teams))
                .order_by(p.c.id)
            )
            for row in self.conn.execute(q):
                out.setdefault((row.team_id, row.at), (row.id, row.lat, row.lon))
        return out

    def _seen_in_batch(self, keys: list[str]) -> set[str]:
        if self.batch_id is None or not keys:
            return set()
        ir = schema.import_rows
        seen: set[str] = set()
        for part in chunks(iter(sorted(set(keys))), PART):
            seen.update(self.conn.execute(
                select(ir.c.source_id).where(ir.c.batch_id == self.batch_id, ir.c.source_id.in_(part), ir.c.status.in_(("inserted", "updated", "unchanged")))
            ).scalars())
        return seen

    def _move(self, moved: list[tuple[Row, int]]) -> None:
        if not moved:
            return
        p = schema.patrol_points
        cells = h3_cells([r.lat for r, _ in moved], [r.lon for r, _ in moved])
        for (r, pid), cell in zip(moved, cells):
            self.conn.execute(update(p).where(p.c.id == pid).values(lat=r.lat, lon=r.lon, grid_id=r.grid_id, h3=cell))

    def _insert(self, rows: list[Row], team_of: dict[int, int]) -> None:
        if not rows:
            return
        by_team: dict[int, list[Row]] = {}
        for r in rows:
            by_team.setdefault(team_of[id(r)], []).append(r)
        shift_of: dict[int, int] = {}  # id(row) -> shift id
        for tid, pts in by_team.items():
            pts.sort(key=lambda r: r.values["time"])
            times = [r.values["time"] for r in pts]
            if len(self.intervals) < 20_000:
                self.intervals.extend(d for d in ((b - a).total_seconds() for a, b in zip(times, times[1:])) if 0 < d <= self.gap.total_seconds())
            named = [r for r in pts if r.values.get("shift")]
            derived = [r for r in pts if not r.values.get("shift")]
            for r, sid in self._named_shifts(tid, named):
                shift_of[id(r)] = sid
            for r, sid in self._derived_shifts(tid, derived):
                shift_of[id(r)] = sid
        self.touched.update(shift_of.values())
        p = schema.patrol_points
        cells = h3_cells([r.lat for r in rows], [r.lon for r in rows])
        cols = ["shift_id", "at", "lat", "lon", "grid_id", "h3"]
        bulk_insert(self.conn, p, cols, [(shift_of[id(r)], r.values["time"], r.lat, r.lon, r.grid_id, c) for r, c in zip(rows, cells)])
        ids: dict[tuple[int, datetime], int] = {}
        shift_ids = sorted(set(shift_of.values()))
        for part in chunks(iter(sorted({r.values["time"] for r in rows})), PART):
            for row in self.conn.execute(select(p.c.shift_id, p.c.at, p.c.id).where(p.c.shift_id.in_(shift_ids), p.c.at.in_(part)).order_by(p.c.id)):
                ids.setdefault((row.shift_id, row.at), row.id)
        for r in rows:
            r.status, r.target_id = "inserted", ids[(shift_of[id(r)], r.values["time"])]

    def _named_shifts(self, tid: int, pts: list[Row]):  # yields (row, shift id)
        """Shifts the export names: one per (team, shift id), spanning its points."""
        s = schema.patrol_shifts
        groups: dict[str, list[Row]] = {}
        for r in pts:
            groups.setdefault(str(r.values["shift"]), []).append(r)
        for name, rs in groups.items():
            lo, hi = rs[0].values["time"], rs[-1].values["time"]  # rows are sorted by time
            got = self.shift_by_source.get((tid, name))
            if got is None:
                row = self.conn.execute(select(s.c.id, s.c.started_at, s.c.ended_at).where(s.c.team_id == tid, s.c.source_id == name).order_by(s.c.id).limit(1)).first()
                if row is not None:
                    got = [row.id, row.started_at, row.ended_at]
            if got is None:
                sid = self._new_shift(tid, lo, hi, name)
                self.shift_by_source[(tid, name)] = [sid, lo, hi]
            else:
                sid, start, end = got
                new_start, new_end = min(start, lo), (None if end is None else max(end, hi))
                if (new_start, new_end) != (start, end):
                    self.conn.execute(update(s).where(s.c.id == sid).values(started_at=new_start, ended_at=new_end, shift=shift_label(new_start)))
                    self.extended.add(sid)
                self.shift_by_source[(tid, name)] = [sid, new_start, new_end]
            for r in rs:
                yield r, sid

    def _derived_shifts(self, tid: int, pts: list[Row]):  # yields (row, shift id)
        """The gap rule over the team's stored derived shifts near these points and the points themselves."""
        if not pts:
            return
        s, p = schema.patrol_shifts, schema.patrol_points
        lo, hi = pts[0].values["time"], pts[-1].values["time"]
        near = self.conn.execute(
            select(s.c.id, s.c.started_at, s.c.ended_at, s.c.prevented, s.c.caught)
            .where(s.c.team_id == tid, s.c.source_id.is_(None), s.c.started_at <= hi + self.gap,
                   or_(s.c.ended_at.is_(None), s.c.ended_at >= lo - self.gap))
            .order_by(s.c.started_at, s.c.id)
        ).all()
        # (start, end, shift row or None, point row or None), swept in time order.
        items = [(x.started_at, x.ended_at or x.started_at, x, None) for x in near] + [(r.values["time"], r.values["time"], None, r) for r in pts]
        items.sort(key=lambda it: (it[0], it[2] is None))
        groups: list[list] = []
        end = None
        for it in items:
            if end is None or it[0] - end > self.gap:
                groups.append([])
                end = it[1]
            groups[-1].append(it)
            end = max(end, it[1])
        for g in groups:
            rows = [it[3] for it in g if it[3] is not None]
            if not rows:
                continue
            old = [it[2] for it in g if it[2] is not None]
            start = min(it[0] for it in g)
            stop = max(it[1] for it in g)
            if not old:
                sid = self._new_shift(tid, start, stop, None)
            else:
                keep, others = old[0], old[1:]
                sid = keep.id
                if others:  # the new points bridge stored shifts: one shift again
                    gone = [o.id for o in others]
                    self.conn.execute(update(p).where(p.c.shift_id.in_(gone)).values(shift_id=sid))
                    self.conn.execute(schema.patrol_shifts.delete().where(s.c.id.in_(gone)))
                    self.joined += len(gone)
                    self.created.difference_update(gone)
                    self.extended.difference_update(gone)
                new_end = None if any(o.ended_at is None for o in old) else stop
                if others or (start, new_end) != (keep.started_at, keep.ended_at):
                    self.conn.execute(
                        update(s).where(s.c.id == sid).values(
                            started_at=start, ended_at=new_end, shift=shift_label(start),
                            prevented=sum(o.prevented for o in old), caught=sum(o.caught for o in old),
                        )
                    )
                    self.extended.add(sid)
            for r in rows:
                yield r, sid

    def _new_shift(self, tid: int, start: datetime, end: datetime, source_id: str | None) -> int:
        s = schema.patrol_shifts
        sid = self.conn.execute(
            s.insert().values(team_id=tid, shift=shift_label(start), started_at=start, ended_at=end, prevented=0, caught=0, source_id=source_id).returning(s.c.id)
        ).scalar_one()
        self.created.add(sid)
        return sid

    def _set_point_minutes(self) -> None:
        """Each touched shift's point_minutes: its track's span / (points − 1), the
        mean interval, so its points add up to the time it patrolled; NULL (the
        pages' default interval) for a shift of one point."""
        s, p = schema.patrol_shifts, schema.patrol_points
        for part in chunks(iter(sorted(self.touched)), PART):
            spans = self.conn.execute(
                select(p.c.shift_id, func.count(), func.min(p.c.at), func.max(p.c.at)).where(p.c.shift_id.in_(part)).group_by(p.c.shift_id)
            ).all()
            for sid, n, first, last in spans:
                minutes = (last - first).total_seconds() / 60 / (n - 1) if n > 1 else None
                self.conn.execute(update(s).where(s.c.id == sid).values(point_minutes=minutes))

    def finish(self) -> None:
        self._set_point_minutes()
        n = self.summary.notes
        if self.new_teams:
            n.append(f"新建巡逻队 {len(self.new_teams)} 个：{'、'.join(self.new_teams[:8])}{'…' if len(self.new_teams) > 8 else ''}")
        rule = "按导出的班次编号" if "shift" in self.m.fields else f"按间隔超过 {self.m.shift_gap_minutes:g} 分钟划分"
        n.append(f"班次（{rule}）：新建 {len(self.created)} 个，延长已有 {len(self.extended - self.created)} 个，合并 {self.joined} 个")
        if self.no_community:
            n.append(f"本所没有这些社区，巡逻队未关联社区：{'、'.join(sorted(self.no_community)[:8])}")
        if "kind" not in self.m.fields and self.new_teams:
            n.append(f"映射没有队伍类型（kind）：新建的巡逻队按「{DEFAULT_KIND}」登记")
        if self.intervals:
            typical = statistics.median(self.intervals)
            n.append(f"定位间隔约 {typical:.0f} 秒（中位数）；巡逻时长按各班次轨迹的平均定位间隔计，不按固定 {PATROL_POINT_MINUTES:g} 分钟")

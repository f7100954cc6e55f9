"""The live simulator: the grid app (网格通), the command room and 110 writing in real time.

``python -m dashboard.simulate [--speed X] [--seed N] [--duration S] [--once]
[--wait] [--gps-step S] [--tick S]`` writes into the database ``DATABASE_URL``
names (default: the embedded SQLite file) while the dashboard reads it:

* **grid reports**, one by one, each with its dispatch task (待研判, version 1)
  and the task's 创建 event, written in one transaction; the task is created
  at the report's own time (the platform files every report into the queue);
* **the dispatch loop** moving on for every open task, whoever wrote it:
  派发 to the community officer or 转派 to a department with a feedback
  deadline, a possible second 转派, 签收, 反馈, 办结, 回访 (with satisfaction).
  Each change is one transaction: ``UPDATE tasks ... WHERE id = :id AND
  version = :v`` and the next ``task_events`` row (seq = v + 1); when the
  update finds no row another writer moved the task first, and the change is
  skipped (it is planned again from the task's new version);
* **110 incidents**, received now; ``arrived_at`` (or, for the ones handled by
  phone, nothing) and later ``closed_at`` with an outcome are filled in by the
  simulator when they happen: an open incident has NULLs, as in the demo;
* **patrol**: shifts start and end at the day/night change (白 08:00–20:00,
  黑 20:00–08:00 local, each team ±20 min as in the demo), the on-duty teams
  send a GPS point every ``PATROL_STEP_S`` (120 s) moving along street
  crossings of their station, and 预防制止/抓获 grow during the shift.

Rates and durations are the demo world's (``dashboard.demo``) at the same local
hour and weekday: about 45 reports and 18 incidents a day per station, from
about 0.3 reports an hour at night to 4 an hour at 10:00 and 15:00; dispatch
delays, deadlines (DEADLINE_OFFICER / DEADLINE_DEPT), acceptance, feedback
(6.5 % late), closing and visits (80 %, 96 % satisfied) drawn from the demo's
distributions. ``--speed X`` runs the simulated world X times faster from the
moment the simulator starts: X times more arrivals and loop/110 durations X
times shorter; feedback deadlines stay real (they are rules, not rates), and
patrol shifts stay on the clock.

Nothing is written in the past. Work already waiting when the simulator starts
(the demo's open tasks and incidents) is drawn conditionally on how long it
has waited, so it neither all falls due at once nor stalls; new arrivals start
at the first step. A shift found on duty past its time ends at the start; a
shift the roster has on duty now that nobody started is started with its
scheduled time if at least an hour of it is left; GPS tracks are not
back-filled.

Everything random is drawn from ``numpy`` generators keyed by the seed and the
thing drawn (a task and its version, an incident, an hour slot, a shift), so a
given seed, database and sequence of ``step`` times writes the same rows.

Reference data (places, people, departments, street names, hot spots, where
patrols usually go) is read from the database, so the simulator works on any
database with the schema and places, not only the demo's.

Other writers: the loop and 110 updates are optimistic (a row someone else
changed first is skipped), so several simulators, the grid app and 110 may
write at once. Patrol shifts are started by whoever gets there first; two
simulators started at the same instant could both start the same team's shift,
so run one simulator with patrols per database. A ``Simulator`` object is not
thread-safe: one per thread.

The command line refuses (status 2, one clear line) a database without schema
or places (``--wait``: waits for the demo to be complete, i.e. for its last
table, the 一标三实 base records); while the database is locked or unreachable
it prints one line per attempt and retries with backoff (1 s doubling to 30 s);
Ctrl-C or SIGTERM stop it with a summary line; ``--duration`` bounds the run
(status 1 if it ran out while the database was unreachable).

API for tests and other code::

    sim = Simulator(engine, seed=1, speed=1.0)
    lines = sim.step(now)        # writes everything due up to ``now``, returns log lines
    report_id = sim.new_report(now)
    incident_id = sim.new_incident(now)
    for tr in sim.due_transitions(now):   # the loop's next changes, not yet written
        sim.apply_transition(tr)          # False: another writer moved the task first
"""

from __future__ import annotations

import argparse
import heapq
import math
import re
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import and_, func, insert, inspect, or_, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from dashboard.config import load_settings
from dashboard.db import schema
from dashboard.db.database import DatabaseEmpty, DatabaseUnavailable, describe_url, make_writer, translate_error
from dashboard.db.health import check_database
from dashboard.geo import KM_PER_DEG, GridLocator, h3_cell, parse_rings
from dashboard.timeutil import utcnow
from dashboard.writers import world

PATROL_STEP_S = world.PATROL_STEP_S
VISIT_WINDOW = timedelta(days=30)  # 已办结 tasks older than this get no follow-up visit any more
INCIDENT_WINDOW = timedelta(days=3)  # open incidents older than this are left alone
HOTSPOT_MIN = 20  # incidents at one place in 90 days that make it a hot spot
ON_DUTY_MIN = timedelta(hours=1)  # a missed shift is started late only with this much of it left
SHIFT_HOURS = {"白": 8, "黑": 20}  # local start hour of each shift
SHIFT_OUTCOMES = {"白": (0.45, 0.08), "黑": (0.55, 0.17)}  # 预防制止, 抓获 per shift (demo)
REDBAND = "红袖标巡逻队"  # volunteer teams: day shifts only

# Keys of the random streams (the second element of every generator key).
K_REPORTS, K_INCIDENTS, K_TASK, K_INC_LIFE, K_ROSTER, K_SHIFT_START, K_SHIFT, K_WALK, K_MANUAL, K_LABEL, K_STREETS, K_MANUAL_INC = range(101, 113)

_STREET_RE = re.compile(r"^(\D+?[路街巷道])\d+号$")
_GATES = ("东门", "南门", "北门", "中心广场", "地下车库")
_EPOCH = datetime(1970, 1, 1)
_COS0 = math.cos(math.radians(world.CENTER[0]))


class SimulatorRefused(Exception):
    """The database has no schema or no places: nothing to simulate in."""

    def __init__(self, en: str):
        super().__init__(en)
        self.en = en


# --- small helpers ----------------------------------------------------------------------


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *(int(k) for k in keys)])


def _sec(dt: datetime) -> float:
    return (dt - _EPOCH).total_seconds()


def _dt(s: float) -> datetime:
    return _EPOCH + timedelta(seconds=int(math.ceil(s - 1e-6)))


def _naive_utc(now: datetime) -> datetime:
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    return now


def _lognormal(median: float, sigma: float, z: float, floor: float) -> float:
    return max(floor, round(median * math.exp(sigma * z)))


def _clock(at: datetime, now: datetime | None = None) -> str:
    """Local wall-clock time of ``at`` for the log; with the date when it is not ``now``'s day."""
    loc = at + world.LOCAL_OFFSET
    if now is not None and loc.date() != (now + world.LOCAL_OFFSET).date():
        return loc.strftime("%m-%d %H:%M:%S")
    return loc.strftime("%H:%M:%S")


def _is_db_error(exc: BaseException) -> bool:
    return isinstance(exc, (SQLAlchemyError, DBAPIError, OSError, sqlite3.Error))


# --- what the simulator plans -------------------------------------------------------------


@dataclass(frozen=True)
class TaskSnap:
    """The columns of a task that decide its next change."""

    id: int
    version: int
    state: str
    grid_id: int
    category: str
    urgency: str
    updated_at: datetime
    officer_id: int | None
    department_id: int | None
    dispatched_at: datetime | None
    deadline_at: datetime | None
    feedback_at: datetime | None
    transfer_count: int


_SNAP_COLS = [schema.tasks.c[f] for f in TaskSnap.__dataclass_fields__]


@dataclass(frozen=True)
class Transition:
    """One step of the closed loop for one task: the task row it expects and the event it appends."""

    task_id: int
    version: int  # the version the task must still have
    at: datetime
    event: str
    to_state: str
    actor: str
    officer_id: int | None
    department_id: int | None
    deadline_at: datetime | None
    note: str | None
    changes: tuple[tuple[str, object], ...]  # further task columns to set
    snap: TaskSnap = field(repr=False, compare=False)

    def after(self) -> TaskSnap:
        """The task as it is once this transition is written."""
        ch = dict(self.changes)
        return replace(
            self.snap,
            version=self.version + 1,
            state=self.to_state,
            updated_at=self.at,
            **{k: v for k, v in ch.items() if k in TaskSnap.__dataclass_fields__},
        )


@dataclass(frozen=True)
class Arrival:
    """A new grid report or 110 incident the rates call for."""

    at: datetime
    kind: str  # "report" | "incident"
    station_id: int
    category: str | None  # incidents: their category (one stream per category)
    key: tuple[int, ...]  # the generator key of its contents


@dataclass
class _Walker:
    """A patrol team moving along street crossings: from node ``a`` towards ``b``."""

    station_id: int
    night: bool
    a: int
    b: int
    progress: float
    next_at: float  # epoch seconds of its next GPS point
    rng: np.random.Generator


@dataclass
class _StreetGraph:
    lat: np.ndarray
    lon: np.ndarray
    grid: np.ndarray
    nbrs: list[np.ndarray]
    pi: dict[bool, np.ndarray]  # night? -> attraction per node


# --- the simulator -------------------------------------------------------------------------


class Simulator:
    """Writes the live world into ``engine`` (a writer, see ``database.make_writer``).

    ``seed`` keys every random draw; ``speed`` multiplies the arrival rates and
    divides the durations of the loop and of 110 handling; ``gps_step_s`` is
    the GPS interval (the dashboard counts each point as 2 minutes of patrol,
    so a shorter step over-counts 巡逻时长); ``patrol=False`` leaves patrols
    alone; ``on_line`` receives each log line as it is written (the command line
    prints them). The constructor only reads: it loads the places and people and
    raises ``SimulatorRefused`` when the database has no schema or no places.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        seed: int = 0,
        speed: float = 1.0,
        gps_step_s: float = PATROL_STEP_S,
        patrol: bool = True,
        on_line: Callable[[str], None] | None = None,
    ):
        if not speed > 0:
            raise ValueError("speed must be positive")
        if not gps_step_s > 0:
            raise ValueError("gps_step_s must be positive")
        self.engine = engine
        self.seed = int(seed)
        self.speed = float(speed)
        self.gps_step_s = float(gps_step_s)
        self.patrol = patrol
        self.on_line = on_line
        self.origin: datetime | None = None  # the first instant the simulator ran at
        self._clock: datetime | None = None  # arrivals are planned up to here
        self._pending: list[Arrival] = []  # planned arrivals not yet written
        self._lines: list[str] = []
        self._manual = 0
        self._manual_inc = 0
        self._plans: dict[TaskSnap, Transition | None] = {}
        self._slot_cache: dict[int, list[Arrival]] = {}
        self._factors: dict[int, tuple[int, int, float, float]] = {}
        self._inc_hours = {c: world.hour_profile(*v[2]) for c, v in world.INCIDENT_CATS.items()}
        self._walkers: dict[int, _Walker] = {}
        self._shift_base: dict[int, tuple[int, int, datetime]] = {}
        self.counts = {"reports": 0, "incidents": 0, "task_changes": 0, "skipped": 0, "incident_changes": 0, "shifts": 0, "gps_points": 0}
        self.reload()

    # ----- reference data

    def reload(self) -> None:
        """(Re)load places, people, departments, street names, hot spots and patrol habits."""
        with self.engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            missing = [t.name for t in schema.ALL_TABLES if t.name not in names]
            if missing:
                raise SimulatorRefused(
                    f"the database has no schema (missing table(s): {', '.join(missing[:4])}{' …' if len(missing) > 4 else ''}); "
                    "run `python -m dashboard.demo` first (or `python -m dashboard.migrate` and load places)"
                )
            self._load(conn)

    def _load(self, conn) -> None:
        s = schema
        self.stations = {r.id: r for r in conn.execute(select(s.stations.c.id, s.stations.c.code, s.stations.c.name).order_by(s.stations.c.id))}
        comm = {r.id: r for r in conn.execute(select(s.communities.c.id, s.communities.c.station_id, s.communities.c.name).order_by(s.communities.c.id))}
        grid_rows = conn.execute(
            select(s.grids.c.id, s.grids.c.community_id, s.grids.c.code, s.grids.c.boundary_geojson, s.grids.c.population, s.grids.c.area_km2, s.grids.c.centroid_lat, s.grids.c.centroid_lon).order_by(s.grids.c.id)
        ).all()
        if not self.stations or not grid_rows:
            raise SimulatorRefused("the database has the schema but no places (stations and grids); run `python -m dashboard.demo` first")
        self.communities = comm
        self.grids = {r.id: r for r in grid_rows}
        self.grid_station = {r.id: comm[r.community_id].station_id for r in grid_rows if r.community_id in comm}
        self.locator = GridLocator((r.id, r.boundary_geojson) for r in grid_rows)
        self.grid_box = {gid: tuple(self.locator.boxes[k]) for k, gid in enumerate(self.locator.ids.tolist())}
        self.station_grids: dict[int, list[int]] = {sid: [] for sid in self.stations}
        for gid, sid in self.grid_station.items():
            self.station_grids.setdefault(sid, []).append(gid)
        self.station_grids = {k: sorted(v) for k, v in self.station_grids.items() if v}
        if not self.station_grids:
            raise SimulatorRefused("the database's grids belong to no station; run `python -m dashboard.demo` first")
        self.station_ids = sorted(self.station_grids)

        # Compounds per grid.
        self.compounds: dict[int, list] = {}
        for r in conn.execute(select(s.compounds.c.id, s.compounds.c.grid_id, s.compounds.c.name, s.compounds.c.buildings, s.compounds.c.lat, s.compounds.c.lon).order_by(s.compounds.c.id)):
            self.compounds.setdefault(r.grid_id, []).append(r)

        # People: community officers, command-room staff, grid workers.
        self.officers = {r.id: r for r in conn.execute(select(s.officers.c.id, s.officers.c.station_id, s.officers.c.community_id, s.officers.c.name, s.officers.c.role).order_by(s.officers.c.id))}
        self.comm_officer: dict[int, int] = {}
        self.command_staff: dict[int, list[str]] = {}
        for o in self.officers.values():
            if o.role == "民警" and o.community_id is not None:
                self.comm_officer.setdefault(o.community_id, o.id)
            elif o.role == "民警" and len(self.command_staff.setdefault(o.station_id, [])) < 4:
                self.command_staff[o.station_id].append(o.name)
        self.workers: dict[int, list] = {}
        for r in conn.execute(select(s.grid_workers.c.id, s.grid_workers.c.grid_id, s.grid_workers.c.kind, s.grid_workers.c.active).order_by(s.grid_workers.c.id)):
            self.workers.setdefault(r.grid_id, []).append(r)

        # Departments: the demo's category -> department options, matched by name (or kind).
        depts = conn.execute(select(s.departments.c.id, s.departments.c.name, s.departments.c.kind).order_by(s.departments.c.id)).all()
        self.dept_name = {d.id: d.name for d in depts}
        by_name = {d.name: d.id for d in depts}
        by_kind: dict[str, int] = {}
        for d in depts:
            by_kind.setdefault(d.kind, d.id)
        self.demo_dept = [by_name.get(n, by_kind.get(k)) for n, k in world.DEPARTMENTS]
        self.dept_labels: dict[int, list[str]] = {}
        recent = conn.execute(
            select(s.task_events.c.department_id, s.task_events.c.actor)
            .where(s.task_events.c.department_id.is_not(None), s.task_events.c.event.in_(("签收", "反馈")))
            .order_by(s.task_events.c.id.desc())
            .limit(600)
        ).all()
        for d, actor in recent:
            if d in self.dept_name and actor.startswith(self.dept_name[d]):
                self.dept_labels.setdefault(d, [])
                if actor not in self.dept_labels[d]:
                    self.dept_labels[d].append(actor)
        for v in self.dept_labels.values():
            v.sort()

        # Street names per station, from the places already written (else the demo's stems).
        self.streets: dict[int, list[str]] = {}
        for t, col in ((s.reports, s.reports.c.place), (s.incidents, s.incidents.c.place)):
            for grid_id, place in conn.execute(select(t.c.grid_id, col).order_by(t.c.id.desc()).limit(3000)):
                m = _STREET_RE.match(place or "")
                sid = self.grid_station.get(grid_id)
                if m and sid is not None:
                    lst = self.streets.setdefault(sid, [])
                    if m.group(1) not in lst:
                        lst.append(m.group(1))
        for sid in self.station_ids:
            if len(self.streets.get(sid, [])) < 3:
                r = _rng(self.seed, K_STREETS, sid)
                self.streets[sid] = [world.STREET_STEMS[i] + world.STREET_SUFFIXES[j] for i, j in zip(r.choice(len(world.STREET_STEMS), 10, replace=False).tolist(), r.integers(0, len(world.STREET_SUFFIXES), 10).tolist())]
            else:
                self.streets[sid].sort()

        self._load_hotspots(conn)
        self.teams = {r.id: r for r in conn.execute(select(s.patrol_teams.c.id, s.patrol_teams.c.station_id, s.patrol_teams.c.name, s.patrol_teams.c.kind).order_by(s.patrol_teams.c.id))}
        self.station_teams: dict[int, list[int]] = {}
        for t in self.teams.values():
            self.station_teams.setdefault(t.station_id, []).append(t.id)
        self.graphs: dict[int, _StreetGraph] = {}
        if self.patrol:
            self._load_patrol_habits(conn)
        self._walkers.clear()
        self._slot_cache.clear()

    def _load_hotspots(self, conn) -> None:
        """Hot spots: places where incidents keep happening (name, centre, spread, categories)."""
        i = schema.incidents
        last = conn.execute(select(func.max(i.c.received_at))).scalar()
        self.hotspots: dict[int, list[dict]] = {}
        if last is None:
            return
        rows = conn.execute(select(i.c.place, i.c.lat, i.c.lon, i.c.category, i.c.grid_id).where(i.c.received_at >= last - timedelta(days=90))).all()
        groups: dict[str, list] = {}
        for place, lat, lon, cat, gid in rows:
            groups.setdefault((place or "").removesuffix("附近"), []).append((lat, lon, cat, gid))
        for name in sorted(groups):
            pts = groups[name]
            if len(pts) < HOTSPOT_MIN or not name or _STREET_RE.match(name):
                continue
            lat = np.array([p[0] for p in pts])
            lon = np.array([p[1] for p in pts])
            clat, clon = float(np.median(lat)), float(np.median(lon))
            d = np.hypot((lat - clat) * KM_PER_DEG, (lon - clon) * KM_PER_DEG * _COS0) * 1000
            sid = self.grid_station.get(max(set(p[3] for p in pts), key=lambda g: sum(1 for p in pts if p[3] == g)))
            if sid is None:
                continue
            cats: dict[str, int] = {}
            for p in pts:
                cats[p[2]] = cats.get(p[2], 0) + 1
            self.hotspots.setdefault(sid, []).append(
                {"name": name, "lat": clat, "lon": clon, "sigma_m": float(np.clip(np.sqrt(np.mean(d**2) / 2), 60, 400)), "cats": cats}
            )

    def _load_patrol_habits(self, conn) -> None:
        """Street crossings per station and where patrols went in the last 14 days (day, night)."""
        p, sh = schema.patrol_points, schema.patrol_shifts
        last = conn.execute(select(func.max(p.c.at))).scalar()
        counts: dict[tuple[str, bool], int] = {}
        if last is not None:
            q = (
                select(p.c.h3, sh.c.shift, func.count())
                .select_from(p.join(sh, sh.c.id == p.c.shift_id))
                .where(p.c.at >= last - timedelta(days=14))
                .group_by(p.c.h3, sh.c.shift)
            )
            for cell, shift, n in conn.execute(q):
                counts[(cell, shift == "黑")] = int(n)
        for sid in self.station_ids:
            self.graphs[sid] = self._street_graph(sid, counts)

    def _street_graph(self, sid: int, counts: dict[tuple[str, bool], int]) -> _StreetGraph:
        rng = _rng(self.seed, K_WALK, sid, 0)
        lats, lons, gids = [], [], []
        for gid in self.station_grids[sid]:
            ring = parse_rings(self.grids[gid].boundary_geojson)[0]
            pts = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
            cand: list[tuple[float, float]] = []
            if len(pts) == 4:  # a quadrilateral (the demo's grids): a 3 × 3 lattice of crossings
                q = np.asarray(pts)
                for a in range(3):
                    for b in range(3):
                        u, v = (a + 0.5) / 3, (b + 0.5) / 3
                        x, y = (1 - u) * (1 - v) * q[0] + u * (1 - v) * q[1] + u * v * q[2] + (1 - u) * v * q[3]
                        cand.append((float(y), float(x)))
            else:  # any other polygon: crossings about every 200 m
                n = max(4, int(round(self.grids[gid].area_km2 / 0.04)))
                cand = [self._uniform_in_grid(rng, gid) for _ in range(n)]
            for la, lo in cand:
                if self.locator.locate(la, lo) == gid:
                    lats.append(la)
                    lons.append(lo)
                    gids.append(gid)
            if not any(g == gid for g in gids):
                la, lo = self._uniform_in_grid(rng, gid)
                lats.append(la)
                lons.append(lo)
                gids.append(gid)
        lat, lon = np.asarray(lats), np.asarray(lons)
        x, y = lon * KM_PER_DEG * _COS0, lat * KM_PER_DEG
        d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        np.fill_diagonal(d, np.inf)
        n = len(lat)
        nn = d.min(axis=1) if n > 1 else np.zeros(n)
        limit = 1.6 * float(np.median(nn)) if n > 1 else 0.0
        adj: list[set[int]] = [set() for _ in range(n)]
        for i in range(n):
            if n == 1:
                break
            order = np.argsort(d[i], kind="stable")[:4]
            picks = [int(j) for j in order if d[i, j] <= limit] or [int(order[0])]
            for j in picks:
                adj[i].add(j)
                adj[j].add(i)
        nbrs = [np.asarray(sorted(a), dtype=np.int64) for a in adj]
        cells = [h3_cell(a, b) for a, b in zip(lat.tolist(), lon.tolist())]
        per_cell: dict[str, int] = {}
        for c in cells:
            per_cell[c] = per_cell.get(c, 0) + 1
        pi: dict[bool, np.ndarray] = {}
        for night in (False, True):
            hist = np.array([counts.get((c, night), 0) / per_cell[c] for c in cells], dtype=float)
            if hist.sum() > 0:
                pi[night] = hist + 0.05 * hist.mean()
            else:  # no patrol history: hot spots draw the patrols, as in the demo
                w = np.ones(n)
                for h in self.hotspots.get(sid, []):
                    dk2 = ((lat - h["lat"]) * KM_PER_DEG) ** 2 + ((lon - h["lon"]) * KM_PER_DEG * _COS0) ** 2
                    w += 6 * np.exp(-dk2 / (2 * (h["sigma_m"] * 1.3 / 1000) ** 2))
                pi[night] = w
        return _StreetGraph(lat, lon, np.asarray(gids, dtype=np.int64), nbrs, pi)

    # ----- geometry

    def _uniform_in_grid(self, rng: np.random.Generator, gid: int) -> tuple[float, float]:
        x0, y0, x1, y1 = self.grid_box[gid]
        for _ in range(400):
            la, lo = float(rng.uniform(y0, y1)), float(rng.uniform(x0, x1))
            if self.locator.locate(la, lo) == gid:
                return la, lo
        g = self.grids[gid]
        return float(g.centroid_lat), float(g.centroid_lon)

    def _near(self, rng: np.random.Generator, lat: float, lon: float, sigma_m: float, gid: int | None) -> tuple[float, float, int] | None:
        """A point about ``sigma_m`` from (lat, lon) inside grid ``gid`` (any grid when None)."""
        for _ in range(12):
            la = lat + rng.standard_normal() * sigma_m / 1000 / KM_PER_DEG
            lo = lon + rng.standard_normal() * sigma_m / 1000 / (KM_PER_DEG * _COS0)
            got = self.locator.locate(la, lo)
            if got is not None and (gid is None or got == gid):
                return float(la), float(lo), got
        return None

    def _pick_grid(self, rng: np.random.Generator, sid: int) -> int:
        """A grid of the station, by population (by area where populations are unknown)."""
        gs = self.station_grids[sid]
        pop = np.array([float(self.grids[g].population or 0) for g in gs])
        w = pop if (pop > 0).all() else np.array([max(1e-6, float(self.grids[g].area_km2 or 0)) for g in gs])
        return gs[int(rng.choice(len(gs), p=w / w.sum()))]

    def _place(self, rng: np.random.Generator, gid: int, compound=None) -> str:
        """'XX小区3号楼', 'XX小区东门' or 'XX路128号', as the demo writes them."""
        x, k = float(rng.random()), int(rng.integers(1, 300))
        cps = self.compounds.get(gid, [])
        if cps and (compound is not None or x < 0.6):
            c = compound if compound is not None else cps[int(rng.integers(0, len(cps)))]
            if x < 0.5 or compound is not None and x < 0.85:
                return f"{c.name}{1 + k % max(1, c.buildings)}号楼"
            return f"{c.name}{_GATES[k % 5]}"
        streets = self.streets[self.grid_station[gid]]
        return f"{streets[int(rng.integers(0, len(streets)))]}{k}号"

    # ----- the world's clock

    def _start(self, now: datetime) -> datetime:
        now = _naive_utc(now)
        if self.origin is None:
            self.origin = now.replace(microsecond=0)
            self._clock = now
        return now

    def _due(self, base: datetime, delay_s: float) -> datetime:
        """When a change ``delay_s`` world-seconds after ``base`` happens.

        The world runs at real speed up to ``origin`` (when the simulator started)
        and ``speed`` times faster after it.
        """
        b = _sec(base)
        o = _sec(self.origin) if self.origin is not None else b
        wb = b if b <= o else o + (b - o) * self.speed
        w = wb + delay_s
        real = w if w <= o else o + (w - o) / self.speed
        return max(base + timedelta(seconds=1), _dt(real))

    # ----- arrivals (reports and incidents)

    def _slot_factors(self, slot: int) -> tuple[int, int, float, float]:
        """Local hour, local weekday and the demo's seasonal factors (5 %, 15 %) of an hour slot."""
        f = self._factors.get(slot)
        if f is None:
            mid = np.array([slot * 3600 + 1800])
            f = (int(world.local_hour(mid)[0]), int(world.local_weekday(mid)[0]), float(world.seasonal(mid, 0.05)[0]), float(world.seasonal(mid, 0.15)[0]))
            if len(self._factors) > 10000:
                self._factors.clear()
            self._factors[slot] = f
        return f

    def _report_rate(self, slot: int) -> float:
        """The demo's reports per hour and station (its rate at the end of its history)."""
        lh, wd, season, _ = self._slot_factors(slot)
        return 42.0 / 24 * float(world.REPORT_HOURS[lh]) * world.WEEKDAY_PROFILES["workday"][wd] * season

    def _incident_rate(self, slot: int, cat: str) -> float:
        """The demo's incidents of one category per hour and station (its rate at the end of its history)."""
        lh, wd, _, season = self._slot_factors(slot)
        now_rate, _yoy, _hours, wdp, _hot = world.INCIDENT_CATS[cat]
        return now_rate / 24 * float(self._inc_hours[cat][lh]) * world.WEEKDAY_PROFILES[wdp][wd] * season

    def hourly_rates(self, at: datetime) -> dict[str, float]:
        """Expected reports and incidents per hour (all stations, at this speed) in the hour of ``at``."""
        slot = int(_sec(_naive_utc(at)) // 3600)
        n = len(self.station_ids)
        return {
            "reports": n * self.speed * self._report_rate(slot),
            "incidents": n * self.speed * sum(self._incident_rate(slot, c) for c in schema.INCIDENT_CATEGORIES),
        }

    def _slot_arrivals(self, slot: int) -> list[Arrival]:
        if slot in self._slot_cache:
            return self._slot_cache[slot]
        out: list[Arrival] = []
        for sid in self.station_ids:
            streams = [("report", None, K_REPORTS, 0, self._report_rate(slot))]
            for ci, c in enumerate(schema.INCIDENT_CATEGORIES):
                streams.append(("incident", c, K_INCIDENTS, ci, self._incident_rate(slot, c)))
            for kind, cat, key, ci, rate in streams:
                rng = _rng(self.seed, key, sid, ci, slot)
                n = int(rng.poisson(rate * self.speed))
                secs = np.sort(rng.integers(0, 3600, n)).tolist()
                for k, s in enumerate(secs):
                    out.append(Arrival(_EPOCH + timedelta(seconds=slot * 3600 + s), kind, sid, cat, (key, sid, ci, slot, k)))
        out.sort(key=lambda a: (a.at, a.kind, a.station_id, a.key))
        if len(self._slot_cache) > 48:
            self._slot_cache.clear()
        self._slot_cache[slot] = out
        return out

    def planned_arrivals(self, start: datetime, end: datetime) -> list[Arrival]:
        """The reports and incidents due in (start, end], in time order. Pure: reads and writes nothing."""
        start, end = _naive_utc(start), _naive_utc(end)
        out: list[Arrival] = []
        for slot in range(int(_sec(start) // 3600), int(_sec(end) // 3600) + 1):
            out.extend(a for a in self._slot_arrivals(slot) if start < a.at <= end)
        return out

    # ----- writing a report

    def new_report(self, now: datetime, *, grid_id: int | None = None, category: str | None = None) -> int:
        """Write one grid report at ``now`` with its task (待研判, version 1) and 创建 event; return its id."""
        now = self._start(now).replace(microsecond=0)
        rng = _rng(self.seed, K_MANUAL, self._manual)
        self._manual += 1
        sid = self.grid_station[grid_id] if grid_id is not None else self.station_ids[int(rng.integers(0, len(self.station_ids)))]
        rid, _snap = self._write_report(now, rng, sid, grid_id=grid_id, category=category)
        return rid

    def _write_report(self, at: datetime, rng: np.random.Generator, sid: int, *, grid_id: int | None = None, category: str | None = None) -> tuple[int, TaskSnap]:
        cats = schema.REPORT_CATEGORIES
        p = np.array([world.REPORT_CATS[c][0] for c in cats])
        cat = category if category is not None else cats[int(rng.choice(len(cats), p=p / p.sum()))]
        if cat not in cats:
            raise ValueError(f"unknown report category {cat!r}")
        urg = schema.URGENCIES[int(rng.choice(3, p=world.URGENCY_P[cat]))]
        gid = grid_id if grid_id is not None else self._pick_grid(rng, sid)
        # Where: near one of the grid's compounds (half the time) or anywhere in the grid.
        cps = self.compounds.get(gid, [])
        compound, spot = None, None
        if cps and rng.random() < 0.5:
            c = cps[int(rng.integers(0, len(cps)))]
            spot = self._near(rng, c.lat, c.lon, 25.0, gid)
            compound = c if spot is not None else None
        lat, lon = (spot[0], spot[1]) if spot is not None else self._uniform_in_grid(rng, gid)
        place = self._place(rng, gid, compound)
        tpls = world.REPORT_TEMPLATES[cat]
        text = tpls[int(rng.integers(0, len(tpls)))].format(place=place, reason=world.DISPUTE_REASONS[int(rng.integers(0, len(world.DISPUTE_REASONS)))])
        e = float(rng.random())
        if e < 0.125:
            text += f"反映人联系电话{world.phone_numbers(rng, 1)[0]}。"
        elif e < 0.165:
            text += f"当事人身份证号{world.id_number(rng)}。"
        elif e < 0.175:
            text += f"当事人身份证号{world.id_number(rng)}，联系电话{world.phone_numbers(rng, 1)[0]}。"
        reporter = self._pick_reporter(rng, gid)
        source = "网格通" if rng.random() < 0.9 else "警民联系群"
        cell = h3_cell(lat, lon)
        cmd = self._command(sid, float(rng.random()))
        with self.engine.begin() as conn:
            rid = conn.execute(
                insert(schema.reports).values(
                    reported_at=at, grid_id=gid, h3=cell, lat=lat, lon=lon, place=place, reporter_id=reporter, category=cat, urgency=urg, text=text, source=source
                )
            ).inserted_primary_key[0]
            tid = conn.execute(
                insert(schema.tasks).values(
                    report_id=rid, grid_id=gid, h3=cell, category=cat, urgency=urg, created_at=at, state="待研判", transfer_count=0, version=1, updated_at=at
                )
            ).inserted_primary_key[0]
            conn.execute(insert(schema.task_events).values(task_id=tid, seq=1, at=at, event="创建", actor=cmd, to_state="待研判", note=f"网格上报：{cat}"))
        self.counts["reports"] += 1
        self._log(f"{_clock(at)} report #{rid} {self.grids[gid].code} {cat} {urg}")
        snap = TaskSnap(tid, 1, "待研判", gid, cat, urg, at, None, None, None, None, None, 0)
        return int(rid), snap

    def _pick_reporter(self, rng: np.random.Generator, gid: int) -> int | None:
        ws = [w for w in self.workers.get(gid, []) if w.active] or self.workers.get(gid, [])
        if not ws:
            return None
        w = np.array([world.REPORTER_W.get(x.kind, 1.0) for x in ws])
        return int(ws[int(rng.choice(len(ws), p=w / w.sum()))].id)

    def _command(self, sid: int, u: float) -> str:
        staff = self.command_staff.get(sid) or []
        return f"指挥室 {staff[int(u * len(staff))]}" if staff else "指挥室 值班员"

    # ----- writing an incident

    def new_incident(self, now: datetime, *, station_id: int | None = None, category: str | None = None) -> int:
        """Write one 110 incident received at ``now`` (arrival and close follow later); return its id."""
        now = self._start(now).replace(microsecond=0)
        rng = _rng(self.seed, K_MANUAL_INC, self._manual_inc)
        self._manual_inc += 1
        sid = station_id if station_id is not None else self.station_ids[int(rng.integers(0, len(self.station_ids)))]
        if category is None:
            w = np.array([world.INCIDENT_CATS[c][0] for c in schema.INCIDENT_CATEGORIES])
            category = schema.INCIDENT_CATEGORIES[int(rng.choice(len(w), p=w / w.sum()))]
        return self._write_incident(now, rng, sid, category)

    def _write_incident(self, at: datetime, rng: np.random.Generator, sid: int, cat: str) -> int:
        if cat not in schema.INCIDENT_CATEGORIES:
            raise ValueError(f"unknown incident category {cat!r}")
        hot_share = world.INCIDENT_CATS[cat][4]
        spots = [h for h in self.hotspots.get(sid, []) if h["cats"].get(cat, 0) > 0]
        u_hot, u_pick, u_near, u_sub = (float(x) for x in rng.random(4))
        located = None
        place = None
        if spots and u_hot < hot_share:
            w = np.array([h["cats"][cat] for h in spots], dtype=float)
            h = spots[int(np.searchsorted(np.cumsum(w / w.sum()), u_pick, side="right").clip(0, len(spots) - 1))]
            located = self._near(rng, h["lat"], h["lon"], h["sigma_m"], None)
            if located is not None and self.grid_station.get(located[2]) != sid:
                located = None
            place = h["name"] + ("附近" if u_near < 2 / 3 else "")
        if located is None:
            gid = self._pick_grid(rng, sid)
            la, lo = self._uniform_in_grid(rng, gid)
            located = (la, lo, gid)
            place = self._place(rng, gid)
        lat, lon, gid = located
        subs = world.INCIDENT_SUBTYPES[cat]
        subtype = subs[int(u_sub * len(subs))]
        with self.engine.begin() as conn:
            iid = conn.execute(
                insert(schema.incidents).values(received_at=at, category=cat, subtype=subtype, grid_id=gid, h3=h3_cell(lat, lon), lat=lat, lon=lon, place=place)
            ).inserted_primary_key[0]
        self.counts["incidents"] += 1
        self._log(f"{_clock(at)} 110 incident #{iid} {self.grids[gid].code} {cat}/{subtype}")
        return int(iid)

    # ----- the dispatch loop

    def _open_tasks(self, conn, now: datetime) -> list[TaskSnap]:
        t = schema.tasks
        q = select(*_SNAP_COLS).where(
            or_(
                t.c.state.in_(("待研判", "已派发", "处置中", "已反馈")),
                and_(t.c.state == "已办结", t.c.updated_at >= now - VISIT_WINDOW),
            ),
            t.c.updated_at <= now,
        )
        return [TaskSnap(*row) for row in conn.execute(q.order_by(t.c.id))]

    def _assignee_label(self, snap: TaskSnap, officer_id: int | None, dept_id: int | None) -> str:
        if dept_id is not None:
            name = self.dept_name.get(dept_id, "职能部门")
            labels = self.dept_labels.get(dept_id)
            r = _rng(self.seed, K_LABEL, snap.id, dept_id)
            if labels:
                return labels[int(r.integers(0, len(labels)))]
            surname = world.SURNAMES[(dept_id * 7 + self.seed) % len(world.SURNAMES)]
            return f"{name} {surname}{world.DEPT_TITLES[int(r.integers(0, len(world.DEPT_TITLES)))]}"
        o = self.officers.get(officer_id)
        if o is None:
            return "社区民警"
        if o.community_id is not None and self.comm_officer.get(o.community_id) == o.id:
            return f"{self.communities[o.community_id].name.removesuffix('社区')}社区民警 {o.name}"
        return f"民警 {o.name}"

    def next_transition(self, snap: TaskSnap) -> Transition | None:
        """The task's next change (not yet due, perhaps), or None when its loop has ended."""
        if snap in self._plans:
            return self._plans[snap]
        tr = self._plan(snap)
        tr = self._finish(tr) if tr is not None else None
        self._plans[snap] = tr
        return tr

    def _survived(self, since: datetime) -> float:
        """World-seconds a task or incident has already waited, unchanged, when the simulator started."""
        if self.origin is None or since >= self.origin:
            return 0.0
        return (self.origin - since).total_seconds()

    def _plan(self, snap: TaskSnap) -> Transition | None:
        """Draw the task's next change from the demo's distributions.

        A task that already waited ``E`` seconds when the simulator started is
        drawn conditionally on its delay exceeding ``E`` (by rejection, with
        generators keyed by the task, its version and the attempt), so nothing
        is written in the past and old work does not all fall due at once.
        """
        waited = self._survived(snap.updated_at)
        spec = None
        for attempt in range(64):
            spec = self._draw(snap, _rng(self.seed, K_TASK, snap.id, snap.version, attempt))
            if spec is None:
                return None  # the loop ends here for this task
            if spec[0] > waited:
                break
        else:  # a very long wait: go on as if it had just started
            spec = (waited + spec[0], *spec[1:])
        delay, event, to_state, actor, officer, dept, note, changes, window = spec
        at = self._due(snap.updated_at, delay)
        deadline = None
        ch = dict(changes)
        if window is not None:  # a dispatch: the deadline runs from now, in real time
            deadline = at + timedelta(seconds=window)
            ch.update(
                dispatched_at=snap.dispatched_at or at,
                deadline_at=deadline,
                officer_id=officer,
                department_id=dept,
                transfer_count=snap.transfer_count + (event == "转派"),
            )
        return Transition(snap.id, snap.version, at, event, to_state, actor, officer, dept, deadline, note, tuple(sorted(ch.items())), snap)

    def _draw(self, snap: TaskSnap, rng: np.random.Generator) -> tuple | None:
        """(delay_s, event, to_state, actor, officer_id, department_id, note, changes, deadline window or None)."""
        u = rng.random(6).tolist()
        z = rng.standard_normal(3).tolist()
        frac = float(rng.beta(1.6, 3.0))
        urg = schema.URGENCIES.index(snap.urgency) if snap.urgency in schema.URGENCIES else 0
        cat = snap.category if snap.category in world.REPORT_CATS else "其他"
        sid = self.grid_station.get(snap.grid_id, self.station_ids[0])
        grid = self.grids.get(snap.grid_id)

        if snap.state == "待研判":
            delay = _lognormal((1500, 600, 240)[urg], 0.7, z[0], 60)
            opts = [d for d in (self.demo_dept[i] for i in world.REPORT_CATS[cat][2]) if d is not None]
            off = self.comm_officer.get(grid.community_id) if grid is not None else None
            if opts and (u[0] < world.REPORT_CATS[cat][1] or off is None):
                d = opts[int(u[1] * len(opts))]
                return (delay, "转派", "已派发", self._command(sid, u[2]), None, d, f"转{self.dept_name[d]}处置，请限时反馈", {}, world.DEADLINE_DEPT[urg])
            if off is None:
                return None  # nobody to send it to: it waits for the command room
            return (delay, "派发", "已派发", self._command(sid, u[2]), off, None, "请社区民警限时反馈处置情况", {}, world.DEADLINE_OFFICER[urg])

        to_dept = snap.department_id is not None
        window = (world.DEADLINE_DEPT if to_dept else world.DEADLINE_OFFICER)[urg]
        label = self._assignee_label(snap, snap.officer_id, snap.department_id)
        if snap.state == "已派发":
            if to_dept and snap.transfer_count == 1 and u[0] < 0.17:  # the department sends it back: a second 转派
                opts = list(world.REPORT_CATS[cat][2])
                alt = opts + [i for i in (0, 5, 8) if i not in opts]
                choices = [d for d in (self.demo_dept[i] for i in alt) if d is not None and d != snap.department_id]
                if choices:
                    d2 = choices[int(u[1] * len(choices))]
                    note = f"{self.dept_name.get(snap.department_id, '原部门')}反馈不属本部门职责，改派{self.dept_name[d2]}"
                    return (_lognormal(5 * 3600, 0.6, z[0], 1800), "转派", "已派发", self._command(sid, u[2]), None, d2, note, {}, window)
            med = (4 * 3600, 3600, 1200)[urg] if to_dept else (1800, 900, 300)[urg]
            delay = min(_lognormal(med, 0.7, z[1], 60), window // 2)
            return (delay, "签收", "处置中", label, snap.officer_id, snap.department_id, None, {}, None)

        if snap.state == "处置中":
            accept = snap.updated_at
            deadline = snap.deadline_at or (accept + timedelta(seconds=window))
            room = (deadline - accept).total_seconds()
            if u[0] < 0.065:  # late: some time after the deadline
                fb = room + max(300, window * 0.08 * math.exp(0.9 * z[2]))
            else:
                fb = min(max(120, frac * room), room - 60)
            fbs = world.FEEDBACK_TEXTS[cat]
            return (max(60.0, fb), "反馈", "已反馈", label, snap.officer_id, snap.department_id, fbs[int(u[1] * len(fbs))], {}, None)

        if snap.state == "已反馈":
            return (_lognormal(3 * 3600, 0.8, z[0], 300), "办结", "已办结", self._command(sid, u[2]), None, None, None, {"closed_at": None}, None)

        if snap.state == "已办结":
            if u[0] >= 0.80:
                return None  # no follow-up visit for this one (as for a fifth of the demo's)
            sat = u[1] < 0.96
            note = "群众满意" if sat else "群众不满意，已再次沟通"
            return (_lognormal(1.5 * 86400, 0.6, z[0], 3600), "回访", "已回访", self._command(sid, u[2]), None, None, note, {"satisfied": sat, "visited_at": None}, None)
        return None

    def _finish(self, tr: Transition) -> Transition:
        """Timestamp columns that take the transition's own time."""
        ch = dict(tr.changes)
        if tr.event == "反馈" and tr.snap.feedback_at is None:
            ch["feedback_at"] = tr.at
        if "closed_at" in ch:
            ch["closed_at"] = tr.at
        if "visited_at" in ch:
            ch["visited_at"] = tr.at
        return replace(tr, changes=tuple(sorted(ch.items())))

    def due_transitions(self, now: datetime) -> list[Transition]:
        """The loop's changes due by ``now`` for the tasks as they are in the database (one per task)."""
        now = self._start(now)
        with self.engine.connect() as conn:
            snaps = self._open_tasks(conn, now)
        out = []
        for s in snaps:
            tr = self.next_transition(s)
            if tr is not None and tr.at <= now:
                out.append(tr)
        live = set(snaps)
        self._plans = {k: v for k, v in self._plans.items() if k in live}
        return sorted(out, key=lambda t: (t.at, t.task_id))

    def apply_transition(self, tr: Transition) -> bool:
        """Write one change: bump the task if it still has ``tr.version`` and append its event.

        Returns False (and writes nothing) when another writer changed the task first.
        """
        tr = self._finish(tr)
        t, e = schema.tasks, schema.task_events
        values = dict(tr.changes)
        values.update(state=tr.to_state, version=tr.version + 1, updated_at=tr.at)
        try:
            with self.engine.begin() as conn:
                res = conn.execute(update(t).where(t.c.id == tr.task_id, t.c.version == tr.version).values(**values))
                if res.rowcount != 1:
                    raise _Moved()
                conn.execute(
                    insert(e).values(
                        task_id=tr.task_id,
                        seq=tr.version + 1,
                        at=tr.at,
                        event=tr.event,
                        actor=tr.actor,
                        to_state=tr.to_state,
                        officer_id=tr.officer_id,
                        department_id=tr.department_id,
                        deadline_at=tr.deadline_at,
                        note=tr.note,
                    )
                )
        except (_Moved, IntegrityError):
            self.counts["skipped"] += 1
            self._log(f"{_clock(tr.at)} task #{tr.task_id} {tr.event} skipped: another writer moved it first")
            return False
        self.counts["task_changes"] += 1
        code = self.grids[tr.snap.grid_id].code if tr.snap.grid_id in self.grids else f"grid {tr.snap.grid_id}"
        who = ""
        if tr.event in ("派发", "转派", "签收", "反馈"):
            who = " " + (self.dept_name.get(tr.department_id, "") if tr.department_id is not None else self._assignee_label(tr.snap, tr.officer_id, None))
        self._log(f"{_clock(tr.at)} task #{tr.task_id} {tr.event} -> {tr.to_state} {code}{who}")
        return True

    # ----- 110 incidents after they are received

    def _incident_plan(self, iid: int, received: datetime, arrived: datetime | None, cat: str) -> tuple[datetime, dict]:
        """An open incident's next change: the unit arrives, or it is closed (after arriving, or by phone)."""
        cat = cat if cat in world.INCIDENT_CATS else "求助"
        base = received if arrived is None else arrived
        waited = self._survived(base)
        for attempt in range(64):
            rng = _rng(self.seed, K_INC_LIFE, iid, 0 if arrived is None else 1, attempt)
            u = rng.random(3).tolist()
            z = rng.standard_normal(3).tolist()
            phone = u[0] < world.NO_ARRIVAL.get(cat, 0.01)
            if arrived is None and not phone:
                delay, what = _lognormal(8 * 60, 0.633, z[0], 60), "arrived_at"
            elif arrived is None:
                delay, what = _lognormal(15 * 60, 0.6, z[1], 120), "closed_at"
            else:
                delay, what = _lognormal(3 * 3600 if cat == "刑事" else 40 * 60, 0.7, z[2], 300), "closed_at"
            if delay > waited:
                break
        else:
            delay += waited
        at = self._due(base, delay)
        if what == "arrived_at":
            return at, {"arrived_at": at}
        outs = world.INCIDENT_OUTCOMES[cat]
        return at, {"closed_at": at, "outcome": outs[int(u[1] * len(outs))]}

    def _apply_incident(self, iid: int, received: datetime, arrived: datetime | None, values: dict) -> bool:
        """Write an incident's change if it is still as planned from (open, ``arrived``); else skip it."""
        i = schema.incidents
        cond = [i.c.id == iid, i.c.closed_at.is_(None), i.c.arrived_at.is_(None) if arrived is None else i.c.arrived_at == arrived]
        with self.engine.begin() as conn:
            n = conn.execute(update(i).where(*cond).values(**values)).rowcount
        if n != 1:
            return False
        self.counts["incident_changes"] += 1
        if "arrived_at" in values:
            mins = (values["arrived_at"] - received).total_seconds() / 60
            self._log(f"{_clock(values['arrived_at'])} 110 incident #{iid} arrived after {mins:.1f} min")
        else:
            self._log(f"{_clock(values['closed_at'])} 110 incident #{iid} closed: {values['outcome']}")
        return True

    # ----- one step

    def step(self, now: datetime) -> list[str]:
        """Write everything due up to ``now`` (naive UTC); return the log lines, in order.

        New reports and incidents the rates call for since the last step, every
        change of the loop and of open incidents that fell due (chained: a task
        may move more than once), patrol shifts starting or ending, and GPS
        points. A database error propagates; what was not written yet is
        written by the next step.
        """
        now = self._start(now)
        self._lines = []
        if now > self._clock:
            self._pending.extend(self.planned_arrivals(self._clock, now))
            self._clock = now
        heap: list[tuple] = []
        n = 0

        def push(at: datetime, order: int, item) -> None:
            nonlocal n
            if at <= now:
                heapq.heappush(heap, (at, order, n, item))
                n += 1

        for a in self._pending:
            push(a.at, 0, ("arrival", a))
        for tr in self.due_transitions(now):
            push(tr.at, 1, ("task", tr))
        with self.engine.connect() as conn:
            i = schema.incidents
            open_inc = conn.execute(
                select(i.c.id, i.c.received_at, i.c.arrived_at, i.c.category).where(i.c.closed_at.is_(None), i.c.received_at >= now - INCIDENT_WINDOW, i.c.received_at <= now).order_by(i.c.id)
            ).all()
        for iid, received, arrived, cat in open_inc:
            at, values = self._incident_plan(iid, received, arrived, cat)
            push(at, 2, ("incident", (iid, received, arrived, cat, values)))

        while heap:
            at, _, _, (kind, item) = heapq.heappop(heap)
            if kind == "arrival":
                if item.kind == "report":
                    _rid, snap = self._write_report(item.at, _rng(self.seed, *item.key), item.station_id)
                    tr = self.next_transition(snap)
                    if tr is not None:
                        push(tr.at, 1, ("task", tr))
                else:
                    iid = self._write_incident(item.at, _rng(self.seed, *item.key), item.station_id, item.category)
                    nat, values = self._incident_plan(iid, item.at, None, item.category)
                    push(nat, 2, ("incident", (iid, item.at, None, item.category, values)))
                self._pending.remove(item)
            elif kind == "task":
                if self.apply_transition(item):
                    nxt = self.next_transition(item.after())
                    if nxt is not None:
                        push(nxt.at, 1, ("task", nxt))
            else:
                iid, received, arrived, cat, values = item
                if self._apply_incident(iid, received, arrived, values) and "arrived_at" in values:
                    nat, nvalues = self._incident_plan(iid, received, values["arrived_at"], cat)
                    push(nat, 2, ("incident", (iid, received, values["arrived_at"], cat, nvalues)))
        if self.patrol:
            self._patrol(now)
        return list(self._lines)

    def once(self, now: datetime) -> list[str]:
        """One batch: what is due now, plus one new grid report and one 110 incident."""
        now = self._start(now)
        self._lines = []
        self.new_report(now)
        self.new_incident(now)
        first = list(self._lines)
        return first + self.step(now)

    # ----- patrol

    def roster(self, sid: int, day: date) -> dict[str, list[int]]:
        """Which teams of a station work the day and the night shift of local ``day`` (the demo's rule)."""
        teams = self.station_teams.get(sid, [])
        rng = _rng(self.seed, K_ROSTER, sid, day.toordinal())
        n_w = 4 if rng.random() < 0.75 else 3
        n_b = 3 if rng.random() < 0.85 else 2
        perm = rng.permutation(len(teams)).tolist()
        night = [teams[i] for i in perm if self.teams[teams[i]].kind != REDBAND][:n_b]
        dayt = [teams[i] for i in perm if teams[i] not in night][:n_w]
        return {"白": dayt, "黑": night}

    def _shift_start(self, team: int, day: date, shift: str) -> datetime:
        rng = _rng(self.seed, K_SHIFT_START, team, day.toordinal(), SHIFT_HOURS[shift])
        nominal = datetime.combine(day, datetime.min.time()) + timedelta(hours=SHIFT_HOURS[shift]) - world.LOCAL_OFFSET
        return nominal + timedelta(seconds=int(np.clip(rng.normal(0, 480), -1200, 1200)))

    def _shift_plan(self, shift_id: int, started: datetime, shift: str) -> tuple[datetime, list[datetime], list[datetime]]:
        """A shift's end and the times of its 预防制止 and 抓获, keyed by the shift."""
        rng = _rng(self.seed, K_SHIFT, shift_id)
        end = started + timedelta(seconds=12 * 3600 + int(np.clip(rng.normal(0, 600), -1500, 1500)))
        if self.origin is not None and started < self.origin and end < self.origin:
            end = self.origin  # found on duty past its time: it ends now, not in the past
        lam_p, lam_c = SHIFT_OUTCOMES.get(shift, SHIFT_OUTCOMES["白"])
        span = (end - started).total_seconds()
        prev = sorted(started + timedelta(seconds=int(x * span)) for x in rng.random(int(rng.poisson(lam_p))).tolist())
        caught = sorted(started + timedelta(seconds=int(x * span)) for x in rng.random(int(rng.poisson(lam_c))).tolist())
        return end, prev, caught

    def _patrol(self, now: datetime) -> None:
        s, p = schema.patrol_shifts, schema.patrol_points
        # 1. Start the shifts due now (unless someone else already staffed that shift).
        with self.engine.connect() as conn:
            recent = conn.execute(select(s.c.team_id, s.c.started_at).where(s.c.started_at >= now - timedelta(hours=14), s.c.started_at <= now)).all()
        today = (now + world.LOCAL_OFFSET).date()
        for sid in self.station_ids:
            mine = set(self.station_teams.get(sid, []))
            if not mine:
                continue
            for day, shift in ((today - timedelta(days=1), "黑"), (today, "白"), (today, "黑")):
                nominal = datetime.combine(day, datetime.min.time()) + timedelta(hours=SHIFT_HOURS[shift]) - world.LOCAL_OFFSET
                there = {tm for tm, st in recent if tm in mine and abs((st - nominal).total_seconds()) <= 3600}
                roster = self.roster(sid, day)[shift]
                if there - set(roster):
                    continue  # this shift was staffed by another writer (or the demo)
                for tm in roster:
                    st0 = self._shift_start(tm, day, shift)
                    if tm in there or not (st0 <= now < st0 + timedelta(hours=12) - ON_DUTY_MIN):
                        continue
                    with self.engine.begin() as conn:
                        shid = conn.execute(insert(s).values(team_id=tm, shift=shift, started_at=st0, prevented=0, caught=0)).inserted_primary_key[0]
                    self.counts["shifts"] += 1
                    self._log(f"{_clock(st0, now)} patrol shift #{shid} {self.teams[tm].name} {shift}班 on duty")

        # 2. GPS points of the shifts on duty, up to now or their end.
        with self.engine.connect() as conn:
            open_shifts = conn.execute(select(s.c.id, s.c.team_id, s.c.shift, s.c.started_at, s.c.prevented, s.c.caught).where(s.c.ended_at.is_(None), s.c.started_at <= now).order_by(s.c.id)).all()
            need = [r.id for r in open_shifts if r.id not in self._walkers]
            last_pts = {}
            for shid in need:
                row = conn.execute(select(p.c.at, p.c.lat, p.c.lon).where(p.c.shift_id == shid).order_by(p.c.at.desc()).limit(1)).first()
                if row is not None:
                    last_pts[shid] = row
        plans = {r.id: self._shift_plan(r.id, r.started_at, r.shift) for r in open_shifts}
        rows, moved = [], {}
        floor = _sec(self.origin) - self.gps_step_s
        for r in open_shifts:
            team = self.teams.get(r.team_id)
            if team is None or team.station_id not in self.graphs:
                continue
            w = self._walkers.get(r.id) or self._new_walker(r, last_pts.get(r.id), floor)
            w = _Walker(w.station_id, w.night, w.a, w.b, w.progress, w.next_at, _copy_rng(w.rng))
            stop = _sec(min(now, plans[r.id][0]))
            while w.next_at <= stop:
                rows.append(self._walk(w, r.id))
                w.next_at += self.gps_step_s
            moved[r.id] = w
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(p), rows)
            self.counts["gps_points"] += len(rows)
            self._log(f"{_clock(max(x['at'] for x in rows), now)} gps {len(rows)} point{'s' if len(rows) != 1 else ''} from {len({x['shift_id'] for x in rows})} shift(s)")
        self._walkers.update(moved)

        # 3. Outcomes so far, and the shifts that are over.
        for r in open_shifts:
            end, prev, caught = plans[r.id]
            upto = min(now, end)
            if r.id not in self._shift_base:  # what the shift had achieved when we first saw it
                self._shift_base[r.id] = (r.prevented, r.caught, max(r.started_at, self.origin))
            b_p, b_c, since = self._shift_base[r.id]
            n_p = max(r.prevented, b_p + sum(1 for x in prev if since < x <= upto))
            n_c = max(r.caught, b_c + sum(1 for x in caught if since < x <= upto))
            name = self.teams[r.team_id].name if r.team_id in self.teams else f"team {r.team_id}"
            if end <= now:
                with self.engine.begin() as conn:
                    ok = conn.execute(update(s).where(s.c.id == r.id, s.c.ended_at.is_(None)).values(ended_at=end, prevented=n_p, caught=n_c)).rowcount
                self._walkers.pop(r.id, None)
                self._shift_base.pop(r.id, None)
                if ok:
                    self.counts["shifts"] += 1
                    self._log(f"{_clock(end, now)} patrol shift #{r.id} {name} {r.shift}班 off duty (预防制止 {n_p}, 抓获 {n_c})")
            elif (n_p, n_c) != (r.prevented, r.caught):
                with self.engine.begin() as conn:
                    ok = conn.execute(update(s).where(s.c.id == r.id, s.c.ended_at.is_(None), s.c.prevented == r.prevented, s.c.caught == r.caught).values(prevented=n_p, caught=n_c)).rowcount
                if ok:
                    what = ", ".join(f"{k} +{v}" for k, v in (("预防制止", n_p - r.prevented), ("抓获", n_c - r.caught)) if v)
                    self._log(f"{_clock(upto, now)} patrol shift #{r.id} {name} {what}")

    def _new_walker(self, r, last, floor: float) -> _Walker:
        sid = self.teams[r.team_id].station_id
        g = self.graphs[sid]
        night = r.shift == "黑"
        rng = _rng(self.seed, K_WALK, r.id, 1)
        start = _sec(r.started_at)
        if last is not None:
            d = (g.lat - last.lat) ** 2 + ((g.lon - last.lon) * _COS0) ** 2
            node = int(np.argmin(d))
            t = _sec(last.at) + self.gps_step_s
        else:
            pi = g.pi[night]
            node = int(rng.choice(len(pi), p=pi / pi.sum()))
            t = start
        if t < floor:  # no back-filling before the simulator started: the next point on the shift's beat
            t += math.ceil((floor - t) / self.gps_step_s) * self.gps_step_s
        return _Walker(sid, night, node, node, 0.0, t, rng)

    def _walk(self, w: _Walker, shift_id: int) -> dict:
        """Advance a walker by one GPS interval and return the point's row."""
        g = self.graphs[w.station_id]
        pi = g.pi[w.night]
        w.progress += self.gps_step_s / PATROL_STEP_S
        while w.progress >= 1.0:
            w.progress -= 1.0
            w.a = w.b
            nb = g.nbrs[w.a]
            if len(nb):
                c = int(nb[int(w.rng.integers(0, len(nb)))])
                acc = (pi[c] * len(nb)) / (pi[w.a] * max(1, len(g.nbrs[c])))
                w.b = c if w.rng.random() < acc else w.a
        f = w.progress
        lat = g.lat[w.a] + (g.lat[w.b] - g.lat[w.a]) * f
        lon = g.lon[w.a] + (g.lon[w.b] - g.lon[w.a]) * f
        la = float(lat + w.rng.standard_normal() * 12.0 / 1000 / KM_PER_DEG)
        lo = float(lon + w.rng.standard_normal() * 12.0 / 1000 / (KM_PER_DEG * _COS0))
        gid = self.locator.locate(la, lo)
        if gid is None:
            la, lo = float(lat), float(lon)
            gid = self.locator.locate(la, lo)
        if gid is None:
            la, lo, gid = float(g.lat[w.a]), float(g.lon[w.a]), int(g.grid[w.a])
        return {"shift_id": shift_id, "at": _dt(w.next_at), "lat": la, "lon": lo, "grid_id": int(gid), "h3": h3_cell(la, lo)}

    # ----- output

    def _log(self, line: str) -> None:
        self._lines.append(line)
        if self.on_line is not None:
            self.on_line(line)


class _Moved(Exception):
    """The task's version changed under us."""


def _copy_rng(r: np.random.Generator) -> np.random.Generator:
    c = np.random.default_rng()
    c.bit_generator.state = r.bit_generator.state
    return c


# --- command line ----------------------------------------------------------------------------


def _positive(kind: type) -> Callable[[str], float]:
    def parse(s: str):
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {s!r}") from None
        if not v > 0:
            raise argparse.ArgumentTypeError(f"must be positive: {s!r}")
        return v

    return parse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m dashboard.simulate",
        description="Write live grid reports, the dispatch loop, 110 incidents and patrol GPS into DATABASE_URL (default: the embedded SQLite file), in real time.",
    )
    ap.add_argument("--speed", type=_positive(float), default=1.0, metavar="X", help="run the world X times faster: X times the demo's hourly rates, durations / X (default 1)")
    ap.add_argument("--seed", type=int, default=None, metavar="N", help="seed of every random draw (default: from the clock, printed)")
    ap.add_argument("--duration", type=_positive(float), default=None, metavar="S", help="stop after S seconds (default: run until Ctrl-C)")
    ap.add_argument("--once", action="store_true", help="write one batch (one report, one incident, everything due, a GPS point per shift) and exit")
    ap.add_argument("--gps-step", type=_positive(float), default=float(PATROL_STEP_S), metavar="S", help=f"seconds between GPS points of a patrol (default {PATROL_STEP_S}; the dashboard counts a point as 2 minutes of patrol)")
    ap.add_argument("--tick", type=_positive(float), default=1.0, metavar="S", help="seconds between two steps (default 1)")
    ap.add_argument(
        "--wait",
        action="store_true",
        help="when there is no world yet (no file, schema, places or base data), wait for one, e.g. while the dashboard generates its demo data, instead of exiting with status 2",
    )
    args = ap.parse_args(argv)

    settings = load_settings()
    url = settings.database_url
    try:
        where = describe_url(url)
    except Exception:  # noqa: BLE001 - a URL that cannot be parsed
        print("error: DATABASE_URL is not a valid SQLAlchemy URL", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    t0 = time.monotonic()
    stop_at = None if args.duration is None else t0 + args.duration

    def remaining() -> float:
        return math.inf if stop_at is None else stop_at - time.monotonic()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    except ValueError:  # not the main thread
        pass

    def out(line: str) -> None:
        print(line, flush=True)

    sim: Simulator | None = None
    engine = None
    backoff = 1.0
    said_waiting = False
    last_reload = time.monotonic()
    try:
        while True:
            try:
                if sim is None:
                    problem, advice = None, True
                    path = _sqlite_file(url)
                    if path is not None and not path.exists():
                        problem = f"SQLite file {path} does not exist"  # never created by us
                    else:
                        engine = engine or make_writer(url)
                        health = check_database(engine, settings, reader=False)
                        if not health.ok and isinstance(health.error, DatabaseUnavailable):
                            raise _Unavailable(health.error.en)
                        if not health.ok:
                            problem, advice = health.error.en, isinstance(health.error, DatabaseEmpty)
                        elif args.wait and not _world_complete(engine):
                            problem = "the world is still being written (no 一标三实 base data yet)"
                    if problem is None:
                        try:
                            sim = Simulator(engine, seed=seed, speed=args.speed, gps_step_s=args.gps_step, on_line=out)
                        except SimulatorRefused as exc:
                            problem = exc.en
                    if problem is not None:
                        if not args.wait:
                            print(f"error: {problem}", file=sys.stderr)
                            if advice:
                                print("the simulator writes into an existing world: run `python -m dashboard.demo` first", file=sys.stderr)
                            return 2
                        if not said_waiting:
                            print(f"{_clock(utcnow())} waiting for a world in {where}: {problem}", flush=True)
                            said_waiting = True
                        if remaining() <= 0:
                            print("error: no world to simulate in before --duration ran out", file=sys.stderr)
                            return 2
                        time.sleep(min(5.0, max(0.0, remaining())))
                        continue
                    print(
                        f"simulating into {where}: {len(sim.station_ids)} station(s), {len(sim.grids)} grids, speed {args.speed:g}, seed {seed}"
                        + ("" if args.once else "; Ctrl-C stops"),
                        flush=True,
                    )
                if args.once:
                    sim.once(utcnow())
                    return 0
                sim.step(utcnow())
                backoff = 1.0
                if time.monotonic() - last_reload > 3600:  # people and places change now and then
                    sim.reload()
                    last_reload = time.monotonic()
            except SimulatorRefused as exc:
                print(f"error: {exc.en}", file=sys.stderr)
                return 2
            except Exception as exc:
                if not (_is_db_error(exc) or isinstance(exc, _Unavailable)):
                    raise
                msg = str(exc) if isinstance(exc, _Unavailable) else translate_error(exc, url).en
                low = msg.lower()
                if "no such table" in low or ("relation" in low and "does not exist" in low):
                    print(f"error: {msg}", file=sys.stderr)
                    return 2
                if "locked" in low or "busy" in low:
                    msg = f"{where} is locked by another writer"
                wait = min(backoff, max(0.0, remaining()))
                print(f"{_clock(utcnow())} database unavailable: {msg}; retrying in {wait:.0f} s", file=sys.stderr, flush=True)
                backoff = min(backoff * 2, 30.0)
                if remaining() <= 0:
                    return 1
                time.sleep(wait)
                continue
            left = remaining()
            if left <= 0:
                break
            time.sleep(min(args.tick, left))
    except KeyboardInterrupt:
        print("stopped", flush=True)
    if sim is not None:
        c = sim.counts
        print(
            f"wrote {c['reports']} reports, {c['incidents']} incidents, {c['task_changes']} task changes ({c['skipped']} skipped), "
            f"{c['incident_changes']} incident updates, {c['shifts']} shift changes, {c['gps_points']} GPS points in {time.monotonic() - t0:.0f} s",
            flush=True,
        )
    return 0


def _sqlite_file(url: str):
    """The file behind an SQLite URL (None for other backends and in-memory databases)."""

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _world_complete(engine: Engine) -> bool:
    """Has the demo finished writing? Its last transaction writes the 一标三实 base data."""
    with engine.connect() as conn:
        return conn.execute(select(schema.base_records.c.id).limit(1)).first() is not None


class _Unavailable(Exception):
    """The database cannot be reached right now."""


if __name__ == "__main__":
    sys.exit(main())

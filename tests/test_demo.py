"""The demo world generator: determinism, refusal, geometry, and the closed loop's consistency.

Runs on the session's backend (SQLite files, or PostgreSQL with DATABASE_URL
set) with a short history (``months=2``) to stay quick.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, insert, select

from dashboard.db import schema
from dashboard.db.database import make_writer
from dashboard.geo import GridLocator, h3_cell, parse_rings, point_in_geometry, polygon_area_km2
from dashboard.writers import demo, world

# The same "now" and seed as the shared fixture world (tests/conftest.py).
FIXTURE_END = datetime(2026, 11, 20, 6, 30)
FIXTURE_SEED = 11

MONTHS = 2
ROOT = Path(__file__).resolve().parent.parent


def _fingerprint(engine) -> dict[str, tuple[int, str]]:
    """Per table: row count and a hash of every row in id order."""
    out = {}
    with engine.connect() as conn:
        for t in schema.ALL_TABLES:
            h = hashlib.sha256()
            n = 0
            for row in conn.execute(select(t).order_by(t.c.id)):
                h.update(repr(tuple(row)).encode())
                n += 1
            out[t.name] = (n, h.hexdigest())
    return out


@pytest.fixture(scope="module")
def small_world(scratch):
    url = scratch.new("demo")
    engine = make_writer(url)
    calls: list[tuple[float, str]] = []
    summary = demo.generate(engine, scale="station", seed=FIXTURE_SEED, end=FIXTURE_END, months=MONTHS, progress=lambda f, m: calls.append((f, m)))
    yield {"url": url, "engine": engine, "summary": summary, "progress": calls}
    engine.dispose()


@pytest.fixture(scope="module")
def fingerprint(small_world):
    return _fingerprint(small_world["engine"])


# --- the run itself ---------------------------------------------------------------------


def test_summary_and_progress(small_world):
    s = small_world["summary"]
    assert isinstance(s, demo.DemoSummary)
    assert (s.scale, s.seed, s.end) == ("station", FIXTURE_SEED, FIXTURE_END)
    assert list(s.counts) == [t.name for t in schema.ALL_TABLES]
    assert s.counts["stations"] == 1 and s.counts["communities"] == 6 and s.counts["compounds"] == 46
    assert 36 <= s.counts["grids"] <= 44
    assert s.counts["officers"] == 43
    assert 250 <= s.counts["grid_workers"] <= 360
    assert s.counts["patrol_teams"] == 8
    for t in ("reports", "tasks", "task_events", "disputes", "mediation_steps", "incidents", "patrol_shifts", "patrol_points", "cameras", "base_records"):
        assert s.counts[t] > 0, t
    with small_world["engine"].connect() as conn:
        for t in schema.ALL_TABLES:
            assert conn.execute(select(func.count()).select_from(t)).scalar() == s.counts[t.name]
    fracs = [f for f, _ in small_world["progress"]]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0 and 0 <= fracs[0]
    assert all(re.search(r"[\u4e00-\u9fff]", m) for _, m in small_world["progress"])


def test_rough_volumes(small_world):
    """Daily volumes in the last month are in the shapes of the articles."""
    since = FIXTURE_END - timedelta(days=30)
    with small_world["engine"].connect() as conn:
        inc = conn.execute(select(func.count()).where(schema.incidents.c.received_at >= since)).scalar() / 30
        rep = conn.execute(select(func.count()).where(schema.reports.c.reported_at >= since)).scalar() / 30
        dis = conn.execute(select(func.count()).where(schema.disputes.c.found_at >= since)).scalar() / 30
        kinds = conn.execute(select(func.count(func.distinct(schema.grid_workers.c.kind)))).scalar()
    assert 12 <= inc <= 25
    assert 30 <= rep <= 60
    assert 1.5 <= dis <= 5
    assert kinds == len(schema.GRID_WORKER_KINDS)


# --- determinism, refusal, replace ----------------------------------------------------------


def test_same_seed_same_rows_other_seed_other_rows(scratch, small_world, fingerprint):
    b = make_writer(scratch.new("demo_b"))
    demo.generate(b, scale="station", seed=FIXTURE_SEED, end=FIXTURE_END, months=MONTHS)
    assert _fingerprint(b) == fingerprint
    b.dispose()

    c = make_writer(scratch.new("demo_c"))
    other = demo.generate(c, scale="station", seed=FIXTURE_SEED + 1, end=FIXTURE_END, months=MONTHS)
    fc = _fingerprint(c)
    assert fc != fingerprint
    assert fc["reports"] != fingerprint["reports"] and fc["grids"] != fingerprint["grids"]
    assert other.counts["stations"] == 1

    # A database with data is refused without replace ...
    with pytest.raises(demo.DemoRefused) as err:
        demo.generate(c, scale="station", seed=FIXTURE_SEED, end=FIXTURE_END, months=MONTHS)
    assert re.search(r"[\u4e00-\u9fff]", err.value.zh) and "replace" in str(err.value)
    assert _fingerprint(c) == fc  # and left untouched
    # ... and replaced with it: the very rows a fresh database gets.
    demo.generate(c, scale="station", seed=FIXTURE_SEED, end=FIXTURE_END, months=MONTHS, replace=True)
    assert _fingerprint(c) == fingerprint

    # Sequences follow the explicit ids: the next plain INSERT gets max(id) + 1.
    with c.begin() as conn:
        top = conn.execute(select(func.max(schema.departments.c.id))).scalar()
        new_id = conn.execute(insert(schema.departments).values(name="测试部门", kind="其他").returning(schema.departments.c.id)).scalar()
    assert new_id == top + 1
    c.dispose()


# --- geometry -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grids(small_world):
    with small_world["engine"].connect() as conn:
        return conn.execute(select(schema.grids).order_by(schema.grids.c.id)).mappings().all()


def test_grids_tile_the_station(grids):
    xs = [p[0] for g in grids for ring in parse_rings(g["boundary_geojson"]) for p in ring]
    ys = [p[1] for g in grids for ring in parse_rings(g["boundary_geojson"]) for p in ring]
    box = [(min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys))]
    station_km2 = polygon_area_km2(box)
    assert 12 <= station_km2 <= 16
    total = sum(g["area_km2"] for g in grids)
    assert total == pytest.approx(station_km2, rel=0.005)
    for g in grids:
        assert g["area_km2"] == pytest.approx(polygon_area_km2(g["boundary_geojson"]), rel=1e-4)
        assert point_in_geometry(g["boundary_geojson"], g["centroid_lat"], g["centroid_lon"])
        assert g["h3"] == h3_cell(g["centroid_lat"], g["centroid_lon"])
        geo = json.loads(g["boundary_geojson"])
        assert geo["type"] == "Polygon" and geo["coordinates"][0][0] == geo["coordinates"][0][-1]

    loc = GridLocator((g["id"], g["boundary_geojson"]) for g in grids)
    rng = np.random.default_rng(1)
    lon = rng.uniform(min(xs), max(xs), 1500)
    lat = rng.uniform(min(ys), max(ys), 1500)
    many = loc.locate_many(lat, lon)
    for a, b, m in zip(lat.tolist(), lon.tolist(), many.tolist()):
        holders = [g["id"] for g in grids if point_in_geometry(g["boundary_geojson"], a, b)]
        assert len(holders) == 1  # no gaps, no overlaps
        assert loc.locate(a, b) == holders[0] == m


@pytest.mark.parametrize("table", ["incidents", "patrol_points", "reports", "cameras", "compounds"])
def test_located_rows_are_inside_their_grid(small_world, grids, table):
    t = schema.metadata.tables[table]
    loc = GridLocator((g["id"], g["boundary_geojson"]) for g in grids)
    with small_world["engine"].connect() as conn:
        n = conn.execute(select(func.count()).select_from(t)).scalar()
        step = max(1, n // 400)
        rows = conn.execute(select(t.c.id, t.c.lat, t.c.lon, t.c.grid_id, t.c.h3).where(t.c.id % step == 0)).all()
    assert len(rows) >= min(n, 300)
    for _, lat, lon, grid_id, cell in rows:
        assert loc.locate(lat, lon) == grid_id
        assert cell == h3_cell(lat, lon)


def test_tasks_and_disputes_share_their_reports_place(small_world):
    r, t, d = schema.reports, schema.tasks, schema.disputes
    with small_world["engine"].connect() as conn:
        bad_t = conn.execute(
            select(func.count()).select_from(t.join(r, r.c.id == t.c.report_id)).where((t.c.grid_id != r.c.grid_id) | (t.c.h3 != r.c.h3) | (t.c.category != r.c.category) | (t.c.urgency != r.c.urgency) | (t.c.created_at < r.c.reported_at))
        ).scalar()
        bad_d = conn.execute(select(func.count()).select_from(d.join(r, r.c.id == d.c.report_id)).where((d.c.grid_id != r.c.grid_id) | (d.c.h3 != r.c.h3) | (r.c.category != "矛盾纠纷"))).scalar()
        linked = conn.execute(select(func.count()).where(d.c.report_id.is_not(None))).scalar()
        wrong_reporter = conn.execute(
            select(func.count()).select_from(r.join(schema.grid_workers, schema.grid_workers.c.id == r.c.reporter_id)).where(schema.grid_workers.c.grid_id != r.c.grid_id)
        ).scalar()
    assert bad_t == 0 and bad_d == 0 and linked > 0 and wrong_reporter == 0


# --- the closed loop --------------------------------------------------------------------------


def test_task_columns_agree_with_their_events(small_world):
    t, e = schema.tasks, schema.task_events
    with small_world["engine"].connect() as conn:
        tasks = {row.id: row for row in conn.execute(select(t))}
        events: dict[int, list] = {}
        for row in conn.execute(select(e).order_by(e.c.task_id, e.c.seq)):
            events.setdefault(row.task_id, []).append(row)
    assert tasks and set(events) == set(tasks)
    overdue = 0
    end = FIXTURE_END
    for tid, task in tasks.items():
        evs = events[tid]
        assert [x.seq for x in evs] == list(range(1, len(evs) + 1))
        assert [x.at for x in evs] == sorted(x.at for x in evs)
        assert task.version == len(evs)
        assert task.state == evs[-1].to_state
        assert task.updated_at == evs[-1].at
        assert task.created_at == evs[0].at and evs[0].event == "创建"
        assert all(x.at <= end for x in evs)
        dispatches = [x for x in evs if x.event in ("派发", "转派")]
        assert task.dispatched_at == (dispatches[0].at if dispatches else None)
        assert task.deadline_at == (dispatches[-1].deadline_at if dispatches else None)
        assert task.transfer_count == sum(x.event == "转派" for x in evs)
        if dispatches:
            assert (task.officer_id, task.department_id) == (dispatches[-1].officer_id, dispatches[-1].department_id)
        else:
            assert task.officer_id is None and task.department_id is None
        assert not (task.officer_id is not None and task.department_id is not None)
        for col, name in (("feedback_at", "反馈"), ("closed_at", "办结"), ("visited_at", "回访")):
            hits = [x.at for x in evs if x.event == name]
            assert getattr(task, col) == (hits[0] if hits else None)
        assert (task.satisfied is None) == (task.visited_at is None)
        assert task.state in schema.TASK_STATES and all(x.event in schema.TASK_EVENT_TYPES for x in evs)
        if task.state in ("已派发", "处置中") and task.deadline_at < end:
            overdue += 1
    states = {s: sum(1 for x in tasks.values() if x.state == s) for s in schema.TASK_STATES}
    assert states["已回访"] > states["已办结"] > 0
    assert states["已派发"] + states["处置中"] > 10  # work in progress at the end of the world
    assert 1 <= overdue <= 40


def test_disputes_and_mediation_steps_agree(small_world):
    d, m = schema.disputes, schema.mediation_steps
    with small_world["engine"].connect() as conn:
        disputes = {row.id: row for row in conn.execute(select(d))}
        steps: dict[int, list] = {}
        for row in conn.execute(select(m).order_by(m.c.dispute_id, m.c.level)):
            steps.setdefault(row.dispute_id, []).append(row)
    for did, dp in disputes.items():
        ss = steps[did]
        assert [s.level for s in ss] == list(range(1, len(ss) + 1))
        assert dp.level == ss[-1].level
        assert all(s.outcome == "升级" for s in ss[:-1])
        if dp.status == "调处中":
            assert dp.closed_at is None and ss[-1].ended_at is None and ss[-1].outcome is None
        else:
            assert dp.closed_at == ss[-1].ended_at and ss[-1].outcome == dp.status
            assert dp.visit_due_at == dp.closed_at + timedelta(days=7)
        assert (dp.satisfied is None) == (dp.visited_at is None)
    closed = [x for x in disputes.values() if x.status != "调处中"]
    assert sum(x.status == "化解" for x in closed) / len(closed) >= 0.9


def test_patrol_shifts_and_points(small_world):
    s, p = schema.patrol_shifts, schema.patrol_points
    with small_world["engine"].connect() as conn:
        open_shifts = conn.execute(select(s.c.started_at).where(s.c.ended_at.is_(None))).scalars().all()
        first, last = conn.execute(select(func.min(p.c.at), func.max(p.c.at))).one()
        outside = conn.execute(
            select(func.count()).select_from(p.join(s, s.c.id == p.c.shift_id)).where((p.c.at < s.c.started_at) | (s.c.ended_at.is_not(None) & (p.c.at > s.c.ended_at)))
        ).scalar()
    assert open_shifts and all(FIXTURE_END - timedelta(hours=13) < t <= FIXTURE_END for t in open_shifts)
    assert first >= FIXTURE_END - timedelta(days=world.PATROL_DAYS) and last <= FIXTURE_END
    assert outside == 0


# --- command line --------------------------------------------------------------------------------


def _run_cli(env_url: str | None, *args: str, sqlite_path: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if env_url:
        env["DATABASE_URL"] = env_url
    if sqlite_path is not None:
        env["DASHBOARD_SQLITE_PATH"] = str(sqlite_path)
    return subprocess.run([sys.executable, "-m", "dashboard.demo", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_cli_unreachable_database_one_line_exit_1():
    r = _run_cli("postgresql+psycopg://nobody@127.0.0.1:1/nowhere", "--scale", "station")
    assert r.returncode == 1
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("error:")


def test_cli_writes_then_refuses(scratch, tmp_path):
    url = scratch.new("demo_cli")
    is_sqlite = url.startswith("sqlite")
    path = Path(url.removeprefix("sqlite:///")) if is_sqlite else None
    env_url = None if is_sqlite else url  # SQLite: the embedded default, redirected by DASHBOARD_SQLITE_PATH
    args = ("--seed", "3", "--months", "1", "--end", "2026-11-20T06:30")
    r = _run_cli(env_url, *args, sqlite_path=path)
    assert r.returncode == 0, r.stderr
    summary = r.stdout.strip().splitlines()[-1]
    assert "rows" in summary and "stations=1" in summary and re.search(r"in [0-9.]+ s$", summary)
    r2 = _run_cli(env_url, *args, sqlite_path=path)
    assert r2.returncode == 1
    lines = [x for x in r2.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "replace" in lines[0] and "Traceback" not in r2.stderr

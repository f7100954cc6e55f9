"""The live simulator (``dashboard.simulate``): complete rows, a consistent loop, concurrency, patrols, rates, CLI.

Runs on the session's backend (SQLite files, or PostgreSQL with DATABASE_URL
set) on a small demo world of its own (the shared ``world`` fixture is only
read by other tests). The tests below share that world and walk forward on one
time line after its end, each starting where the previous one stopped, so the
last tests check the whole database after every kind of writer has been at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from dashboard.db import schema
from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.geo import GridLocator, distance_km, h3_cell, polygon_geojson
from dashboard.timeutil import utcnow
from dashboard.writers import world
from dashboard.writers.bulk import reset_sequences
from dashboard.writers.simulate import PATROL_STEP_S, Simulator, SimulatorRefused, TaskSnap
from tests import worlds
from tests.conftest import backend_name

pytestmark = pytest.mark.backend

END = datetime(2026, 11, 20, 6, 30)  # the world's end: 14:30 in Asia/Shanghai
SEED = 23
ROOT = Path(__file__).resolve().parent.parent
LOCAL = timedelta(hours=8)

# The time line (UTC) the tests walk along, after the world's end.
T_REPORTS = END + timedelta(minutes=1)
T_LOOP = END + timedelta(minutes=10)  # one hour at speed 20
T_CONFLICT = END + timedelta(minutes=80)
T_PATROL = END + timedelta(hours=5)  # 19:30 local, across the day/night change at 20:00
T_DAY = END + timedelta(hours=7)  # a day at speed 1


@pytest.fixture(scope="module")
def sim_world(scratch):
    url = worlds.world(scratch, "sim", scale="station", seed=SEED, end=END, months=2)
    engine = make_writer(url)
    yield {"url": url, "engine": engine}
    engine.dispose()


@pytest.fixture(scope="module")
def locator(sim_world):
    with sim_world["engine"].connect() as conn:
        return GridLocator(conn.execute(select(schema.grids.c.id, schema.grids.c.boundary_geojson)).all())


# --- checks shared by the tests --------------------------------------------------------------

# Which event may follow which state (None: the task does not exist yet).
ALLOWED = {
    "创建": {None},
    "派发": {"待研判"},
    "转派": {"待研判", "已派发"},
    "签收": {"已派发"},
    "反馈": {"处置中"},
    "办结": {"已反馈"},
    "回访": {"已办结"},
}


def check_loop(engine, until: datetime) -> dict[int, list]:
    """Every task agrees with its event log, exactly as the demo's do; returns the events by task."""
    t, e = schema.tasks, schema.task_events
    with engine.connect() as conn:
        tasks = {row.id: row for row in conn.execute(select(t))}
        events: dict[int, list] = {}
        for row in conn.execute(select(e).order_by(e.c.task_id, e.c.seq)):
            events.setdefault(row.task_id, []).append(row)
    assert tasks and set(events) == set(tasks)
    for tid, task in tasks.items():
        evs = events[tid]
        assert [x.seq for x in evs] == list(range(1, len(evs) + 1)), tid
        assert [x.at for x in evs] == sorted(x.at for x in evs), tid
        assert all(x.at <= until for x in evs), tid
        assert task.version == len(evs), tid
        assert task.state == evs[-1].to_state and task.updated_at == evs[-1].at, tid
        assert task.created_at == evs[0].at and evs[0].event == "创建", tid
        state = None
        for x in evs:
            assert state in ALLOWED[x.event], (tid, state, x.event)
            state = x.to_state
        dispatches = [x for x in evs if x.event in ("派发", "转派")]
        assert task.dispatched_at == (dispatches[0].at if dispatches else None), tid
        assert task.deadline_at == (dispatches[-1].deadline_at if dispatches else None), tid
        assert task.transfer_count == sum(x.event == "转派" for x in evs), tid
        if dispatches:
            last = dispatches[-1]
            assert (task.officer_id, task.department_id) == (last.officer_id, last.department_id), tid
            assert last.deadline_at > last.at
            assert (last.officer_id is None) != (last.department_id is None), tid
        else:
            assert task.officer_id is None and task.department_id is None, tid
        for col, name in (("feedback_at", "反馈"), ("closed_at", "办结"), ("visited_at", "回访")):
            hits = [x.at for x in evs if x.event == name]
            assert len(hits) <= 1 and getattr(task, col) == (hits[0] if hits else None), (tid, col)
        assert (task.satisfied is None) == (task.visited_at is None), tid
        stamps = [task.created_at, task.dispatched_at, task.feedback_at, task.closed_at, task.visited_at]
        present = [s for s in stamps if s is not None]
        assert present == sorted(present), tid
        assert task.state in schema.TASK_STATES and all(x.event in schema.TASK_EVENT_TYPES for x in evs)
    return events


def check_incidents(engine, until: datetime) -> None:
    i = schema.incidents
    with engine.connect() as conn:
        rows = conn.execute(select(i.c.id, i.c.received_at, i.c.arrived_at, i.c.closed_at, i.c.outcome, i.c.category, i.c.subtype)).all()
    for iid, rec, arr, clo, out, cat, sub in rows:
        assert rec <= until, iid
        assert arr is None or rec < arr <= until, iid
        assert clo is None or (arr or rec) < clo <= until, iid
        assert (out is None) == (clo is None), iid
        assert cat in schema.INCIDENT_CATEGORIES and sub in world.INCIDENT_SUBTYPES[cat], iid


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def walk(sim: Simulator, start: datetime, end: datetime, step: timedelta) -> list[str]:
    lines, t = [], start
    while t <= end:
        lines += sim.step(t)
        t += step
    return lines


# --- refusal -----------------------------------------------------------------------------------


def test_refuses_a_database_without_schema_or_places(scratch):
    empty = make_writer(scratch.new("sim_empty"))
    with pytest.raises(SimulatorRefused) as err:
        Simulator(empty)
    assert "python -m dashboard.demo" in err.value.en and "schema" in err.value.en
    upgrade(empty)  # the schema, but no places
    with pytest.raises(SimulatorRefused) as err:
        Simulator(empty)
    assert "python -m dashboard.demo" in err.value.en and "places" in err.value.en
    with empty.connect() as conn:  # and it wrote nothing
        assert all(conn.execute(select(func.count()).select_from(t)).scalar() == 0 for t in schema.ALL_TABLES)
    empty.dispose()


# --- one report ----------------------------------------------------------------------------------


def test_a_new_report_is_complete_and_consistent(sim_world, locator):
    engine = sim_world["engine"]
    sim = Simulator(engine, seed=1, patrol=False)
    with engine.connect() as conn:
        grid = conn.execute(select(schema.grids.c.id, schema.grids.c.code).order_by(schema.grids.c.id).limit(1).offset(7)).one()
    made = []
    for k in range(24):
        kw = {"category": "噪音扰民"} if k == 0 else {"grid_id": grid.id} if k == 1 else {}
        rid = sim.new_report(T_REPORTS + timedelta(seconds=k), **kw)
        made.append((rid, k, kw))
    assert len({m[0] for m in made}) == len(made)
    r, t, e, w = schema.reports, schema.tasks, schema.task_events, schema.grid_workers
    cats = Counter()
    with engine.connect() as conn:
        for rid, k, kw in made:
            rep = conn.execute(select(r).where(r.c.id == rid)).one()
            at = T_REPORTS + timedelta(seconds=k)
            assert rep.reported_at == at
            assert locator.locate(rep.lat, rep.lon) == rep.grid_id  # inside its grid
            assert rep.h3 == h3_cell(rep.lat, rep.lon)
            assert rep.category in schema.REPORT_CATEGORIES and rep.urgency in schema.URGENCIES
            assert rep.place and rep.place in rep.text and rep.source in ("网格通", "警民联系群")
            assert rep.reporter_id is not None
            assert conn.execute(select(w.c.grid_id).where(w.c.id == rep.reporter_id)).scalar() == rep.grid_id
            if "category" in kw:
                assert rep.category == kw["category"]
            if "grid_id" in kw:
                assert rep.grid_id == kw["grid_id"]
            cats[rep.category] += 1
            task = conn.execute(select(t).where(t.c.report_id == rid)).one()
            assert (task.grid_id, task.h3, task.category, task.urgency) == (rep.grid_id, rep.h3, rep.category, rep.urgency)
            assert (task.state, task.version, task.created_at, task.updated_at, task.transfer_count) == ("待研判", 1, at, at, 0)
            assert task.officer_id is None and task.department_id is None and task.dispatched_at is None and task.deadline_at is None
            evs = conn.execute(select(e).where(e.c.task_id == task.id)).all()
            assert len(evs) == 1
            ev = evs[0]
            assert (ev.seq, ev.at, ev.event, ev.to_state, ev.note) == (1, at, "创建", "待研判", f"网格上报：{rep.category}")
            assert ev.actor.startswith("指挥室 ")
    assert len(cats) >= 4  # a mix of categories, not one template
    assert sim.counts["reports"] == len(made)
    check_loop(engine, T_REPORTS + timedelta(minutes=1))


# --- determinism and rates (pure planning: nothing written) ----------------------------------------


def test_the_same_seed_plans_the_same_world(sim_world):
    engine = sim_world["engine"]
    a, b, c = (Simulator(engine, seed=s, patrol=False) for s in (5, 5, 6))
    t0, t1 = END + timedelta(days=1), END + timedelta(days=2)
    pa, pb, pc = (s.planned_arrivals(t0, t1) for s in (a, b, c))
    assert pa == pb and pa != pc
    assert all(t0 < x.at <= t1 for x in pa) and [x.at for x in pa] == sorted(x.at for x in pa)
    # The loop's next changes too: same seed, same changes; another seed, other ones.
    for s in (a, b, c):
        s.due_transitions(T_REPORTS)  # starts their clocks
    later = T_REPORTS + timedelta(hours=30)
    da, db, dc = ([(x.task_id, x.at, x.event, x.actor, x.note, x.changes) for x in s.due_transitions(later)] for s in (a, b, c))
    assert da and da == db and da != dc


def test_rates_at_speed_one_match_the_demo(sim_world):
    """28 days of planned arrivals against the demo's last 28 days: volumes and the daily rhythm."""
    engine = sim_world["engine"]
    sim = Simulator(engine, seed=9, patrol=False)
    days = 28
    t0 = END
    planned = sim.planned_arrivals(t0, t0 + timedelta(days=days))
    with engine.connect() as conn:
        rep_hist = conn.execute(select(schema.reports.c.reported_at).where(schema.reports.c.reported_at > END - timedelta(days=days))).scalars().all()
        inc_hist = conn.execute(select(schema.incidents.c.received_at).where(schema.incidents.c.received_at > END - timedelta(days=days))).scalars().all()
    for kind, hist in (("report", rep_hist), ("incident", inc_hist)):
        sim_t = [x.at for x in planned if x.kind == kind]
        ratio = len(sim_t) / len(hist)
        assert 0.75 <= ratio <= 1.33, (kind, len(sim_t), len(hist))
        # Per local hour of the day: the same rhythm (loose: each 6-hour block within 35 %).
        for h0 in range(0, 24, 6):
            a = sum(1 for x in sim_t if h0 <= (x + LOCAL).hour < h0 + 6)
            b = sum(1 for x in hist if h0 <= (x + LOCAL).hour < h0 + 6)
            assert 0.65 <= a / b <= 1.55, (kind, h0, a, b)
    per_day = sum(1 for x in planned if x.kind == "report") / days
    assert 30 <= per_day <= 60  # the demo's ~45 a day per station
    # Busy daytime, quiet night: reports per hour at 10:00 local vs 03:00 local.
    assert sim.hourly_rates(datetime(2026, 11, 23, 2))["reports"] > 5 * sim.hourly_rates(datetime(2026, 11, 22, 19))["reports"]
    # --speed multiplies every rate.
    fast = Simulator(engine, seed=9, speed=30, patrol=False)
    n1 = len(sim.planned_arrivals(t0, t0 + timedelta(days=2)))
    n30 = len(fast.planned_arrivals(t0, t0 + timedelta(days=2)))
    assert 25 <= n30 / n1 <= 35
    assert fast.hourly_rates(t0)["reports"] == pytest.approx(30 * sim.hourly_rates(t0)["reports"])


# --- the loop over an hour ----------------------------------------------------------------------


def test_an_hour_of_the_loop_stays_consistent(sim_world):
    engine = sim_world["engine"]
    e = schema.task_events
    with engine.connect() as conn:
        top_event = conn.execute(select(func.max(e.c.id))).scalar()
    n_reports = count(engine, schema.reports)
    n_incidents = count(engine, schema.incidents)
    sim = Simulator(engine, seed=2, speed=20, patrol=False)
    t1 = T_LOOP + timedelta(hours=1)
    planned = sim.planned_arrivals(T_LOOP, t1)
    lines = walk(sim, T_LOOP, t1, timedelta(minutes=2))
    # Everything the rates planned was written, and nothing else.
    assert count(engine, schema.reports) - n_reports == sum(1 for x in planned if x.kind == "report") == sim.counts["reports"]
    assert count(engine, schema.incidents) - n_incidents == sum(1 for x in planned if x.kind == "incident") == sim.counts["incidents"]
    assert sim.counts["reports"] >= 30  # ~3.5 an hour at 15:00 local, times 20
    events = check_loop(engine, t1)
    new = [x for evs in events.values() for x in evs if x.id > top_event]
    kinds = Counter(x.event for x in new)
    assert {"创建", "派发", "签收", "反馈", "办结"} <= set(kinds), kinds
    assert kinds["转派"] + kinds["派发"] >= 20
    assert all(T_LOOP <= x.at <= t1 for x in new)  # never written in the past
    assert sim.counts["task_changes"] == len(new) - kinds["创建"] and sim.counts["skipped"] == 0
    # One printed line per write, in the documented shape.
    assert len(lines) == sum(sim.counts.values())
    assert any(line.endswith(("一般", "紧急", "特急")) and " report #" in line for line in lines)
    check_incidents(engine, t1)
    # Tasks of new reports went round the loop, deadlines by urgency and assignee as in the demo.
    t = schema.tasks
    with engine.connect() as conn:
        moved = conn.execute(select(t).where(t.c.created_at >= T_LOOP, t.c.dispatched_at.is_not(None))).all()
    assert moved
    for task in moved:
        u = schema.URGENCIES.index(task.urgency)
        window = (world.DEADLINE_DEPT if task.department_id is not None else world.DEADLINE_OFFICER)[u]
        assert (task.deadline_at - max(x.at for x in events[task.id] if x.event in ("派发", "转派"))).total_seconds() == window


# --- two writers ----------------------------------------------------------------------------------


def test_a_concurrent_version_bump_makes_the_simulator_skip(sim_world):
    engine = sim_world["engine"]
    t0, t1 = T_CONFLICT, T_CONFLICT + timedelta(minutes=20)
    mine = Simulator(engine, seed=3, speed=50, patrol=False)
    other = Simulator(engine, seed=4, speed=50, patrol=False)
    mine.due_transitions(t0)
    other.due_transitions(t0)
    theirs_all = {x.task_id: x for x in other.due_transitions(t1)}
    planned = [x for x in mine.due_transitions(t1) if x.task_id in theirs_all]
    assert len(planned) >= 10
    tr = planned[0]
    # Another writer moves the same task first (its own change, a version bump and an event).
    theirs = theirs_all[tr.task_id]
    assert theirs.version == tr.version
    assert other.apply_transition(theirs) is True
    assert mine.apply_transition(tr) is False  # skipped, not overwritten
    assert mine.counts["skipped"] == 1
    t, e = schema.tasks, schema.task_events
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == tr.task_id)).one()
        evs = conn.execute(select(e).where(e.c.task_id == tr.task_id).order_by(e.c.seq)).all()
    assert row.version == tr.version + 1 == len(evs)
    assert (row.state, row.updated_at, evs[-1].actor, evs[-1].at) == (theirs.to_state, theirs.at, theirs.actor, theirs.at)
    # A plain version bump by a third writer (no event of ours to race): skipped too.
    tr2 = planned[1]
    with engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == tr2.task_id).values(version=t.c.version + 1))
    assert mine.apply_transition(tr2) is False
    with engine.begin() as conn:  # put it back as it was (the test's own tampering)
        conn.execute(update(t).where(t.c.id == tr2.task_id).values(version=t.c.version - 1))
    # Re-planned from the database, the task moves on from the other writer's version.
    snap = TaskSnap(*(getattr(row, f) for f in TaskSnap.__dataclass_fields__))
    nxt = mine.next_transition(snap)
    assert nxt is None or (nxt.version == tr.version + 1 and nxt.at > theirs.at)
    # Both writers apply everything they planned, one after the other: the second skips what the first moved.
    a = mine.due_transitions(t1)
    b = other.due_transitions(t1)
    ok_a = [mine.apply_transition(x) for x in a]
    ok_b = [other.apply_transition(x) for x in b]
    assert all(ok_a)
    moved_by_a = {x.task_id for x in a}
    assert not any(ok for x, ok in zip(b, ok_b) if x.task_id in moved_by_a)
    check_loop(engine, t1)


def test_two_writers_at_once_lose_no_update(sim_world):
    """Two simulators stepping the same times in two threads: every task still agrees with its log."""
    engine = sim_world["engine"]
    t0 = T_CONFLICT + timedelta(minutes=30)
    sims = [Simulator(engine, seed=s, speed=40, patrol=False) for s in (11, 12)]
    errors: list[BaseException] = []

    def run(sim: Simulator) -> None:
        try:
            walk(sim, t0, t0 + timedelta(minutes=30), timedelta(minutes=5))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in sims]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert sum(s.counts["task_changes"] for s in sims) > 0
    check_loop(engine, t0 + timedelta(minutes=30))
    check_incidents(engine, t0 + timedelta(minutes=30))  # an incident is never closed before its arrival


# --- patrol ---------------------------------------------------------------------------------------


def test_patrols_change_shift_and_their_points_land_in_their_grids(sim_world, locator):
    engine = sim_world["engine"]
    s, p, tm = schema.patrol_shifts, schema.patrol_points, schema.patrol_teams
    with engine.connect() as conn:
        top = conn.execute(select(func.max(p.c.id))).scalar()
        open_before = conn.execute(select(s.c.id, s.c.shift).where(s.c.ended_at.is_(None))).all()
        top_shift = conn.execute(select(func.max(s.c.id))).scalar()
    assert open_before and all(x.shift == "白" for x in open_before)  # 14:30 local: the day shift
    sim = Simulator(engine, seed=7, patrol=True)
    t1 = T_PATROL + timedelta(minutes=90)  # 19:30 -> 21:00 local
    lines = walk(sim, T_PATROL, t1, timedelta(minutes=5))
    assert any("黑班 on duty" in x for x in lines) and any("off duty" in x for x in lines)
    with engine.connect() as conn:
        shifts = {r.id: r for r in conn.execute(select(s, tm.c.kind).join(tm, tm.c.id == s.c.team_id))}
        pts = conn.execute(select(p).where(p.c.id > top).order_by(p.c.shift_id, p.c.at)).all()
    # The day shift went home around 20:00 local, the night shift came on around 20:00 local.
    for x in open_before:
        sh = shifts[x.id]
        assert sh.ended_at is not None and T_PATROL <= sh.ended_at <= t1
        assert sh.ended_at - sh.started_at <= timedelta(hours=12, minutes=25)
    night = [sh for sid, sh in shifts.items() if sid > top_shift]
    assert 2 <= len(night) <= 3
    for sh in night:
        assert sh.shift == "黑" and sh.ended_at is None and sh.kind != "红袖标巡逻队"
        local = sh.started_at + LOCAL
        # the data's clock, not the test's: the night shift starts within 20 minutes of 20:00 local
        assert local.date() == (T_PATROL + LOCAL).date() and abs(local - local.replace(hour=20, minute=0, second=0)) <= timedelta(minutes=20)
    assert count(engine, s, s.c.ended_at.is_(None)) == len(night)
    # Points: inside their grids, on the feed's 2-minute beat, within their shift, a walking pace apart.
    assert len(pts) >= 60
    by_shift: dict[int, list] = {}
    for pt in pts:
        assert locator.locate(pt.lat, pt.lon) == pt.grid_id
        assert pt.h3 == h3_cell(pt.lat, pt.lon)
        sh = shifts[pt.shift_id]
        assert sh.started_at <= pt.at <= (sh.ended_at or t1)
        by_shift.setdefault(pt.shift_id, []).append(pt)
    assert set(by_shift) >= {x.id for x in open_before} | {sh.id for sh in night}
    for rows in by_shift.values():
        for a, b in zip(rows, rows[1:]):
            assert (b.at - a.at).total_seconds() == PATROL_STEP_S
            assert distance_km(a.lat, a.lon, b.lat, b.lon) < 0.6
    assert sim.counts["gps_points"] == len(pts)
    # Patrols stay in their station and keep to its streets: many grids visited, not one spot.
    assert len({pt.grid_id for pt in pts}) >= 5


def test_the_roster_follows_the_demo_rules(sim_world):
    """Per local day: 3–4 teams by day, 2–3 by night, never the same team twice, no volunteers at night."""
    sim = Simulator(sim_world["engine"], seed=12, patrol=False)
    with sim_world["engine"].connect() as conn:
        kinds = dict(conn.execute(select(schema.patrol_teams.c.id, schema.patrol_teams.c.kind)).all())
    sizes = Counter()
    for sid in sim.station_ids:
        for k in range(120):
            r = sim.roster(sid, (END + LOCAL).date() + timedelta(days=k))
            assert 3 <= len(r["白"]) <= 4 and 2 <= len(r["黑"]) <= 3
            assert not set(r["白"]) & set(r["黑"])
            assert all(kinds[t] != "红袖标巡逻队" for t in r["黑"])
            sizes[len(r["白"]), len(r["黑"])] += 1
    assert len(sizes) >= 3  # the mix varies from day to day


def test_a_faster_gps_step_moves_smoothly_along_the_streets(sim_world, locator):
    """--gps-step 20: points every 20 s, interpolated between crossings, still each in its own grid."""
    engine = sim_world["engine"]
    p = schema.patrol_points
    with engine.connect() as conn:
        top = conn.execute(select(func.max(p.c.id))).scalar()
    t0 = T_PATROL + timedelta(minutes=100)  # 21:10 local: the night shift
    sim = Simulator(engine, seed=10, gps_step_s=20, patrol=True)
    walk(sim, t0, t0 + timedelta(minutes=20), timedelta(minutes=1))
    with engine.connect() as conn:
        pts = conn.execute(select(p).where(p.c.id > top).order_by(p.c.shift_id, p.c.at)).all()
    by_shift: dict[int, list] = {}
    for pt in pts:
        assert locator.locate(pt.lat, pt.lon) == pt.grid_id and pt.h3 == h3_cell(pt.lat, pt.lon)
        by_shift.setdefault(pt.shift_id, []).append(pt)
    assert len(by_shift) >= 2 and all(len(v) >= 55 for v in by_shift.values())
    steps = []
    for rows in by_shift.values():
        for a, b in zip(rows, rows[1:]):
            assert (b.at - a.at).total_seconds() == 20
            steps.append(distance_km(a.lat, a.lon, b.lat, b.lon))
    assert max(steps) < 0.15  # a sixth of a 2-minute hop, plus GPS noise
    assert sum(steps) / len(steps) > 0.01  # and they do move


# --- a day at speed 1 ----------------------------------------------------------------------------------


def test_a_day_at_speed_one(sim_world):
    engine = sim_world["engine"]
    r = schema.reports
    sim = Simulator(engine, seed=8, speed=1, patrol=False)
    t1 = T_DAY + timedelta(days=1)
    before = count(engine, r)
    walk(sim, T_DAY, t1, timedelta(minutes=30))
    with engine.connect() as conn:
        new = conn.execute(select(r.c.reported_at).where(r.c.reported_at > T_DAY)).scalars().all()
    assert len(new) == count(engine, r) - before == sim.counts["reports"]
    assert 25 <= len(new) <= 70  # the demo's ~45 a day
    daytime = sum(1 for x in new if 8 <= (x + LOCAL).hour < 20)
    assert daytime >= 0.7 * len(new)
    assert sim.counts["task_changes"] >= 60 and sim.counts["incident_changes"] >= 10
    check_loop(engine, t1)
    check_incidents(engine, t1)


# --- command line ------------------------------------------------------------------------------------


def _run_cli(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "dashboard.simulate", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_cli_once_writes_a_batch(sim_world):
    engine = sim_world["engine"]
    n = count(engine, schema.reports), count(engine, schema.incidents)
    res = _run_cli(sim_world["url"], "--once", "--seed", "3", "--wait")  # a whole world: --wait does not wait
    assert res.returncode == 0, res.stderr
    out = res.stdout.splitlines()
    assert out[0].startswith("simulating into ") and "seed 3" in out[0]
    assert any(" report #" in x for x in out) and any(" 110 incident #" in x for x in out)
    assert (count(engine, schema.reports), count(engine, schema.incidents)) == (n[0] + 1, n[1] + 1)
    assert "Traceback" not in res.stderr
    # Whatever wrote into it, the world is still consistent.
    with engine.connect() as conn:
        latest = conn.execute(select(func.max(schema.task_events.c.at))).scalar()
    check_loop(engine, latest)
    check_incidents(engine, utcnow() + timedelta(minutes=1))


def test_cli_refuses_an_empty_database(scratch):
    res = _run_cli(scratch.new("sim_cli_empty"), "--once")
    assert res.returncode == 2
    assert "python -m dashboard.demo" in res.stderr and "Traceback" not in res.stderr
    if backend_name() == "sqlite":
        missing = scratch.tmp / "nowhere" / "missing.sqlite"
        res = _run_cli(f"sqlite:///{missing}", "--once")
        assert res.returncode == 2 and "python -m dashboard.demo" in res.stderr
        assert not missing.exists() and not missing.parent.exists()


def _places_only(scratch) -> str:
    """A database with the schema and one grid, nothing else: places from another system, no demo."""
    url = scratch.new("sim_places")
    engine = make_writer(url)
    upgrade(engine)
    ring = [(119.55, 26.66), (119.556, 26.66), (119.556, 26.665), (119.55, 26.665), (119.55, 26.66)]
    with engine.begin() as conn:
        conn.execute(schema.stations.insert().values(id=1, code="TST", name="测试派出所", branch="测试分局", centroid_lat=26.6625, centroid_lon=119.553))
        conn.execute(schema.communities.insert().values(id=1, station_id=1, code="TST-C01", name="测试社区", centroid_lat=26.6625, centroid_lon=119.553))
        conn.execute(
            schema.grids.insert().values(
                id=1, community_id=1, code="TST-C01-G01", name="测试社区第1网格", boundary_geojson=polygon_geojson(ring),
                area_km2=0.33, centroid_lat=26.6625, centroid_lon=119.553, h3=h3_cell(26.6625, 119.553), population=0,
            )
        )
        reset_sequences(conn, schema.ALL_TABLES)
    engine.dispose()
    return url


def test_cli_works_on_bare_places_and_waits_for_a_whole_world(scratch):
    url = _places_only(scratch)
    # --wait: places but no base data yet (as while the demo is being written): it waits, then gives up.
    res = _run_cli(url, "--wait", "--once", "--duration", "1")
    assert res.returncode == 2 and "waiting for a world" in res.stdout and "Traceback" not in res.stderr
    # Without --wait it simulates whatever places there are: no workers, officers or teams needed.
    res = _run_cli(url, "--once", "--seed", "1")
    assert res.returncode == 0, res.stderr
    engine = make_writer(url)
    with engine.connect() as conn:
        rep = conn.execute(select(schema.reports)).one()
        inc = conn.execute(select(schema.incidents)).one()
    assert rep.grid_id == inc.grid_id == 1 and rep.reporter_id is None
    assert rep.place.endswith("号") and inc.place.endswith("号")
    check_loop(engine, utcnow() + timedelta(minutes=1))
    engine.dispose()


def test_cli_retries_an_unreachable_database_without_a_traceback():
    res = _run_cli("postgresql+psycopg://nobody@127.0.0.1:1/nowhere", "--duration", "2", timeout=60)
    assert res.returncode == 1
    assert "database unavailable" in res.stderr and "retrying" in res.stderr
    assert "Traceback" not in res.stderr


def test_snapshots_are_what_the_database_holds():
    """``TaskSnap`` mirrors the task columns the simulator plans from (a guard against schema drift)."""
    assert set(TaskSnap.__dataclass_fields__) <= {c.name for c in schema.tasks.columns}

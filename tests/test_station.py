"""The station file (dashboard.station): its time zone buckets every figure
(SQL local day and hour on both backends, the periods, 今日), its targets turn
the tiles red, its deadline rules date imported tasks, its quiet-feed limits
reach the wall; a bad file stops with a message naming the key."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dashboard import station, timeutil
from dashboard.config import load_settings
from dashboard.db import schema
from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.filters import Filters
from dashboard.writers.load.mapping import parse_mapping
from dashboard.writers.load.places import load_places
from dashboard.writers.load.records import load_records
from queries import dispatch, disputes, incidents
from tests.test_load import X0, Y0, _features

pytestmark = pytest.mark.backend

# UTC instants around both of Vancouver's 2026 clock changes (8 March, 1 November)
# and a midnight in Kolkata (+5:30) and Shanghai (+8).
TIMES = [datetime(2026, 3, 8, h, m) for h in (7, 8, 9, 10, 11) for m in (0, 40)] + [
    datetime(2026, 11, 1, h, 30) for h in (6, 7, 8, 9, 10)
] + [datetime(2026, 11, 19, 18, 20), datetime(2026, 11, 19, 18, 40), datetime(2026, 11, 19, 15, 59), datetime(2026, 11, 19, 16, 1)]


@pytest.fixture
def timed_db(scratch, tmp_path):
    """A station of imported grids and one incident at each of TIMES (stored UTC)."""
    engine = make_writer(scratch.new("station"))
    upgrade(engine)
    places = tmp_path / "grids.geojson"
    places.write_text(json.dumps({"type": "FeatureCollection", "features": _features()}, ensure_ascii=False), encoding="utf-8")
    load_places(engine, places, station="TZ1", station_name="时区派出所", crs="EPSG:4326", name_field="name", code_field="code", community_field="community")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "utc", "x", "y"])
    for i, t in enumerate(TIMES):
        w.writerow([f"T{i}", t.strftime("%Y-%m-%d %H:%M"), f"{X0 + 0.001:.6f}", f"{Y0 + 0.001:.6f}"])
    path = tmp_path / "inc.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    m = parse_mapping({"source": {"system": "110", "timezone": "UTC", "crs": "EPSG:4326"},
                       "fields": {"id": "id", "received_at": {"column": "utc", "format": "%Y-%m-%d %H:%M"}, "category": {"value": "治安"}, "x": "x", "y": "y"}}, "incidents")
    assert load_records(engine, "incidents", path, m).loaded == len(TIMES)
    yield engine
    engine.dispose()


def _expected(zone: str) -> tuple[Counter, Counter]:
    z = ZoneInfo(zone)
    local = [t.replace(tzinfo=timezone.utc).astimezone(z) for t in TIMES]
    return Counter(t.date().isoformat() for t in local), Counter((t.weekday(), t.hour) for t in local)


@pytest.mark.parametrize("zone", ["America/Vancouver", "Asia/Kolkata", "Asia/Shanghai"])
def test_sql_buckets_by_the_station_zone_on_both_backends(timed_db, station_settings, zone):
    st = station_settings(f'time_zone = "{zone}"\n')
    assert (st.fixed_offset is None) == (zone == "America/Vancouver")
    days, hours = _expected(zone)
    window = (datetime(2026, 1, 1), datetime(2027, 1, 1))
    got = incidents.daily_counts(timed_db, Filters(), window)
    assert dict(zip(got["day"], got["n"].astype(int))) == dict(days)
    how = incidents.hour_of_week(timed_db, Filters(), window)
    got_hours = Counter({(int(r.weekday), int(r.hour)): int(r.n) for r in how.itertuples() if r.n})
    assert got_hours == hours


def test_python_conversions_follow_the_zone_across_a_clock_change(station_settings):
    station_settings('time_zone = "America/Vancouver"\n')
    # 2026-03-08 02:00 local does not exist: 10:00 UTC is 03:00 PDT, 09:59 UTC is 01:59 PST.
    assert timeutil.to_local(datetime(2026, 3, 8, 10, 0)) == datetime(2026, 3, 8, 3, 0)
    assert timeutil.to_local(datetime(2026, 3, 8, 9, 59)) == datetime(2026, 3, 8, 1, 59)
    assert timeutil.day_start_utc(date(2026, 7, 1)) == datetime(2026, 7, 1, 7, 0)  # PDT, UTC−7
    assert timeutil.day_start_utc(date(2026, 12, 1)) == datetime(2026, 12, 1, 8, 0)  # PST, UTC−8
    # 01:30 on 1 November happens twice: the first pass (PDT).
    assert timeutil.to_utc(datetime(2026, 11, 1, 1, 30)) == datetime(2026, 11, 1, 8, 30)
    # A filter's 今日 is the local day: 2026-11-20 06:30 UTC is the 19th in Vancouver.
    assert timeutil.local_today(datetime(2026, 11, 20, 6, 30)) == date(2026, 11, 19)
    f = Filters().with_period("today", date(2026, 11, 19))
    assert f.window(datetime(2026, 11, 20, 6, 30)) == (datetime(2026, 11, 19, 8, 0), datetime(2026, 11, 20, 6, 30))
    for utc in (datetime(2026, 3, 8, 9, 30), datetime(2026, 11, 1, 9, 30), datetime(2026, 6, 1, 12, 0)):
        assert timeutil.to_utc(timeutil.to_local(utc)) == utc


def test_the_default_is_shanghai_and_a_fixed_offset_costs_nothing():
    st = station.current()
    assert st.time_zone == "Asia/Shanghai" and st.fixed_offset == timedelta(hours=8) and st.source == os.devnull
    assert timeutil.to_local(datetime(2026, 11, 19, 16, 0)) == datetime(2026, 11, 20, 0, 0)


def test_a_mapping_without_a_zone_reads_times_in_the_station_zone(station_settings):
    station_settings('time_zone = "Asia/Kolkata"\n')
    m = parse_mapping({"source": {"system": "110", "crs": "EPSG:4326"}, "fields": {"id": "a", "received_at": "b", "category": "c", "x": "x", "y": "y"}}, "incidents")
    assert m.tz.key == "Asia/Kolkata"


def test_station_deadline_rules_date_imported_tasks_when_the_mapping_has_none(scratch, tmp_path, station_settings):
    station_settings('[[deadline_rules]]\nurgency = "特急"\nhours = 2\n\n[[deadline_rules]]\nworking_days = 3\n')
    engine = make_writer(scratch.new("rules"))
    upgrade(engine)
    places = tmp_path / "grids.geojson"
    places.write_text(json.dumps({"type": "FeatureCollection", "features": _features()}, ensure_ascii=False), encoding="utf-8")
    load_places(engine, places, station="RU1", station_name="规则派出所", crs="EPSG:4326", name_field="name", code_field="code", community_field="community")
    path = tmp_path / "rep.csv"
    # Friday 2026-11-20 10:00 Shanghai: 3 working days → Wednesday 25th 10:00; 特急: +2 h.
    path.write_text("编号,时间,类别,紧急程度,部门,经度,纬度\nR1,2026-11-20 10:00,治安隐患,一般,城管,%.6f,%.6f\nR2,2026-11-20 10:00,治安隐患,特急,城管,%.6f,%.6f\n"
                    % (X0 + 0.001, Y0 + 0.001, X0 + 0.001, Y0 + 0.001), encoding="utf-8")
    m = parse_mapping({"source": {"system": "网格通", "crs": "EPSG:4326"},
                       "fields": {"id": "编号", "reported_at": {"column": "时间", "format": "%Y-%m-%d %H:%M"}, "category": "类别", "urgency": "紧急程度", "department": "部门", "x": "经度", "y": "纬度"}}, "reports")
    s = load_records(engine, "reports", path, m)
    assert s.loaded == 2
    with engine.connect() as c:
        rows = {r.source_id: r for r in c.execute(
            select(schema.reports.c.source_id, schema.tasks.c.deadline_at, schema.tasks.c.deadline_rule).join(schema.tasks, schema.tasks.c.report_id == schema.reports.c.id))}
    assert rows["R1"].deadline_at == datetime(2026, 11, 25, 2, 0) and "3 个工作日" in rows["R1"].deadline_rule
    assert rows["R2"].deadline_at == datetime(2026, 11, 20, 4, 0) and "特急" in rows["R2"].deadline_rule
    engine.dispose()


def test_targets_turn_the_tiles_red(world, station_settings):
    now = datetime(2026, 11, 20, 6, 30)
    f = Filters().with_period("month", timeutil.local_today(now))
    by_key = {k.key: k for k in disputes.kpis(world, f, f.window(now), now)}
    res = by_key["resolution"].compared.ratio.value
    assert res is not None and 0 < res < 1
    station_settings(f"[targets]\nresolution = {min(1.0, res + 0.001):.4f}\nsatisfaction = 0.01\n")
    by_key = {k.key: k for k in disputes.kpis(world, f, f.window(now), now)}
    assert by_key["resolution"].alarm and not by_key["satisfaction"].alarm
    station_settings(f"[targets]\nresolution = {max(0.001, res - 0.001):.4f}\n")
    assert not {k.key: k for k in disputes.kpis(world, f, f.window(now), now)}["resolution"].alarm

    loop = {k.key: k for k in dispatch.loop_kpis(world, f, now)}
    assert not loop["on_time"].alarm  # no 按时反馈率 target by default
    on_time = loop["on_time"].compared.ratio.value
    station_settings(f"[targets]\nfeedback_on_time = {min(1.0, on_time + 0.001):.4f}\n")
    assert {k.key: k for k in dispatch.loop_kpis(world, f, now)}["on_time"].alarm


def test_quiet_feed_limits_come_from_the_file_and_the_environment_overrides(station_settings):
    station_settings("[wall]\nquiet_reports_minutes = 90\nquiet_incidents_minutes = 45\n")
    s = load_settings({})
    assert (s.quiet_reports_min, s.quiet_incidents_min) == (90, 45)
    assert load_settings({"DASHBOARD_QUIET_REPORTS_MIN": "30"}).quiet_reports_min == 30


@pytest.mark.parametrize("text, key", [
    ('time_zone = "Asia/Beijing"\n', "time_zone"),
    ('time_zone = "Asia/Shanghai\'; DROP TABLE incidents; --"\n', "time_zone"),
    ("[targets]\nresolution = 95\n", "resolution"),
    ("[targets]\nresolve = 0.9\n", "resolve"),
    ("[wall]\nquiet_reports_minutes = 0\n", "quiet_reports_minutes"),
    ("[[deadline_rules]]\nhours = 2\nworking_days = 3\n", "deadline_rules"),
    ("[[deadline_rules]]\ncategory = \"治安\"\n", "deadline_rules"),
    ("colour = \"red\"\n", "colour"),
    ("time_zone = \n", "TOML"),
])
def test_a_bad_station_file_names_the_key_and_stops_the_start(station_settings, text, key):
    with pytest.raises(station.StationError, match=key):
        station_settings(text)
    with pytest.raises(SystemExit, match="站点设置有误"):
        load_settings({})


def test_the_shipped_example_parses_to_the_defaults_it_documents():
    st = station.load_station(Path(__file__).resolve().parents[1] / "station.example.toml")
    d = station.Station()
    assert (st.time_zone, st.targets, st.quiet_reports_min, st.quiet_incidents_min) == (d.time_zone, d.targets, d.quiet_reports_min, d.quiet_incidents_min)
    assert [r.label for r in st.deadline_rules] == ["规则：全部/特急 2 小时", "规则：消防隐患/紧急 4 小时", "规则：全部/全部 10 个工作日"]
    vancouver = station.load_station(Path(__file__).resolve().parents[1] / "dashboard" / "writers" / "load" / "examples" / "vancouver_station.toml")
    assert vancouver.time_zone == "America/Vancouver" and vancouver.fixed_offset is None

"""A report with several tasks (closed, then opened again) is one report:
every list of reports shows it once, with its newest task's state."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import tasks
from dashboard.filters import Filters
from queries import grid_profile, reports
from queries._common import Window
from tests import handmade as H

pytestmark = pytest.mark.backend

WINDOW: Window = (datetime(2026, 11, 1), H.NOW)


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("handtasks")
    upgrade(make_writer(url))
    H.build(make_writer(url))
    base = dict(h3="x", category="治安隐患", urgency="一般", grid_id=H.A1, report_id=2, updated_at=H.NOW)
    with make_writer(url).begin() as c:  # report 2: closed by a department, then opened again for the officer
        c.execute(insert(tasks).values(**base, id=20, created_at=H.D("2026-11-20 06:01"), state="已办结", department_id=1,
                                       dispatched_at=H.D("2026-11-20 06:02"), closed_at=H.D("2026-11-20 06:05")))
        c.execute(insert(tasks).values(**base, id=21, created_at=H.D("2026-11-20 06:10"), state="已派发", officer_id=1,
                                       dispatched_at=H.D("2026-11-20 06:10"), deadline_at=H.D("2026-11-21 06:10")))
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


def test_the_grid_profile_lists_a_report_with_two_tasks_once(engine):
    f = Filters(grid_id=H.A1)
    rp = grid_profile.latest_reports(engine, f, WINDOW)
    assert list(rp["report_id"]) == [2, 1]
    assert rp.set_index("report_id").loc[2, "task_state"] == "已派发"  # the newest task's
    assert len(rp) == reports.count(engine, f.places_only(), WINDOW)


def test_the_reports_feed_agrees(engine):
    f = Filters(grid_id=H.A1)
    df = reports.latest(engine, f, WINDOW, limit=50)
    assert list(df["id"]) == [2, 1] and df.set_index("id").loc[2, "task_id"] == 21

"""Each measure against hand-computed figures on the hand-built world (tests/handmade.py),
on the session's backend, plus the pure arithmetic and its edge cases."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from sqlalchemy import select

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import tasks
from dashboard.filters import Filters
from dashboard.ui import fmt
from queries import dispatch, grid_profile, incidents, reports
from queries.measures import arithmetic, incident_stats, loop, mediation
from queries.measures.arithmetic import Ratio, change
from queries.measures.windows import last_year_window, previous_window
from tests import handmade as H

pytestmark = pytest.mark.backend

ALL = Filters()
C1 = Filters(community_id=H.C1)
B1 = Filters(grid_id=H.B1)


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("hand")
    upgrade(make_writer(url))
    H.build(make_writer(url))
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


# --- arithmetic ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cur, base, expected",
    [(12, 10, 0.2), (5, 10, -0.5), (0, 4, -1.0), (7, 7, 0.0), (5, 0, None), (0, 0, None), (None, 3, None), (3, None, None), (float("nan"), 3, None), (3, float("nan"), None)],
)
def test_change(cur, base, expected):
    got = change(cur, base)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_ratio_zero_denominator_is_none_and_shows_dash():
    assert Ratio(0, 0).value is None
    assert fmt.pct(Ratio(0, 0).value) == "—"
    assert fmt.change(change(3, 0)) == "—"
    assert Ratio(47, 50).value == pytest.approx(0.94)


def test_point_change_for_rates():
    assert arithmetic.point_change(0.962, 0.95) == pytest.approx(0.012)
    assert arithmetic.point_change(None, 0.9) is None
    c = arithmetic.compare_rates(Ratio(19, 20), Ratio(9, 10), Ratio(0, 0))
    assert c.value == pytest.approx(0.95) and c.yoy == pytest.approx(0.05) and c.pop is None


def test_last_year_window_handles_leap_day():
    # 29 Feb 2024 00:00 local = 28 Feb 16:00 UTC
    w = (datetime(2024, 2, 28, 16), datetime(2024, 3, 1, 16))
    assert last_year_window(w) == (datetime(2023, 2, 27, 16), datetime(2023, 3, 1, 16))


def test_previous_window_same_time_yesterday_and_calendar_month():
    today = (datetime(2026, 11, 19, 16), H.NOW)
    assert previous_window(today) == (datetime(2026, 11, 18, 16), datetime(2026, 11, 19, 6, 30))
    assert previous_window(H.MONTH, "month") == (datetime(2026, 9, 30, 16), datetime(2026, 10, 20, 6, 30))
    week = (datetime(2026, 11, 13, 16), datetime(2026, 11, 20, 16))
    assert previous_window(week) == (datetime(2026, 11, 6, 16), datetime(2026, 11, 13, 16))


def test_previous_month_window_clamps_month_end():
    # 31 Mar local → 28 Feb (2026 is not a leap year)
    w = (datetime(2026, 2, 28, 16), datetime(2026, 3, 30, 16))  # 1 Mar .. 31 Mar 00:00 local
    s, e = previous_window(w, "month")
    assert (s, e) == (datetime(2026, 1, 31, 16), datetime(2026, 2, 27, 16))


@pytest.mark.parametrize("x, kind, text", [(0.125, "count", "↑12.5%"), (-0.5, "count", "↓50.0%"), (0.0, "count", "持平"), (None, "count", "—"), (0.012, "rate", "↑1.2个百分点"), (float("inf"), "count", "—")])
def test_change_formatting(x, kind, text):
    assert fmt.change(x, kind) == text


def test_count_formatting():
    assert fmt.count(1234) == "1,234"
    assert fmt.count(58000) == "5.80万"
    assert fmt.count(None) == "—"
    assert fmt.count(float("nan")) == "—"


# --- the dispatch loop --------------------------------------------------------------


def test_on_time_feedback_rate_counts_open_overdue_tasks_as_late(engine):
    # deadlines in the month: T1 ok, T2 late, T3 open past deadline (late), T6 ok, T7 ok
    assert loop.on_time_feedback_rate(engine, ALL, H.MONTH) == Ratio(3, 5)
    assert loop.on_time_feedback_rate(engine, C1, H.MONTH) == Ratio(2, 4)
    assert loop.on_time_feedback_rate(engine, B1, H.MONTH) == Ratio(1, 1)


def test_closure_rate_judged_at_window_end(engine):
    # created in the month: T1 T2 T3 T4 T5 T7; closed by its end: T1 T2 (T7 closes after)
    assert loop.closure_rate(engine, ALL, H.MONTH) == Ratio(2, 6)
    assert loop.closure_rate(engine, B1, H.MONTH) == Ratio(0, 0)
    assert loop.closure_rate(engine, B1, H.MONTH).value is None


def test_overdue_count_at_instants(engine):
    assert loop.overdue_count(engine, ALL, H.NOW) == 1  # T3
    assert loop.overdue_count(engine, ALL, H.D("2026-11-06 02:00")) == 1  # T2 before its late feedback
    assert loop.overdue_count(engine, ALL, H.D("2026-11-07 12:00")) == 0
    assert loop.overdue_count(engine, B1, H.NOW) == 0


def test_mean_time_to_close(engine):
    # closed in the month: T1 26 h, T2 72 h, T6 336 h
    assert loop.mean_time_to_close_hours(engine, ALL, H.MONTH) == pytest.approx((26 + 72 + 336) / 3)
    assert loop.mean_time_to_close_hours(engine, ALL, (H.D("2020-01-01"), H.D("2020-02-01"))) is None


def test_follow_up_and_satisfaction(engine):
    assert loop.follow_up_rate(engine, ALL, H.MONTH) == Ratio(2, 3)
    assert loop.task_satisfaction_rate(engine, ALL, H.MONTH) == Ratio(1, 2)


def test_snapshot_states(engine):
    assert dispatch.pending_count(engine, ALL, H.NOW) == 1  # T5
    assert dispatch.in_progress_count(engine, ALL, H.NOW) == 2  # T3, T4
    assert dispatch.pending_count(engine, ALL, H.D("2026-11-05 00:30")) == 1  # T2 before dispatch
    df = dispatch.state_counts(engine, ALL)
    assert dict(zip(df.state, df.n)) == {"待研判": 1, "已派发": 1, "处置中": 1, "已反馈": 1, "已办结": 1, "已回访": 2}


# --- disputes ----------------------------------------------------------------------------


def test_resolution_rate(engine):
    assert mediation.resolution_rate(engine, ALL, H.MONTH) == Ratio(1, 2)
    assert mediation.resolution_rate(engine, C1, H.MONTH) == Ratio(1, 2)
    assert mediation.resolution_rate(engine, B1, H.MONTH) == Ratio(0, 0)


def test_dispute_satisfaction(engine):
    assert mediation.dispute_satisfaction_rate(engine, ALL, H.MONTH) == Ratio(2, 2)


# --- incidents and reports ---------------------------------------------------------------


def test_response_times_nearest_rank(engine):
    df = incident_stats.response_times(engine, ALL, H.MONTH)
    row = df.iloc[0]
    assert (row["group"], row["n"], row["median_min"], row["p90_min"]) == ("全部", 8, pytest.approx(9), pytest.approx(30))
    by_cat = incident_stats.response_times(engine, ALL, H.MONTH, by="category").set_index("group")
    assert by_cat.loc["盗窃", "median_min"] == pytest.approx(10) and by_cat.loc["盗窃", "p90_min"] == pytest.approx(20)
    assert by_cat.loc["求助", "n"] == 1 and by_cat.loc["求助", "p90_min"] == pytest.approx(3)
    assert by_cat.loc["治安", "median_min"] == pytest.approx(9) and by_cat.loc["治安", "p90_min"] == pytest.approx(30)
    by_comm = incident_stats.response_times(engine, ALL, H.MONTH, by="community").set_index("group")
    assert by_comm.loc["甲社区", "n"] == 5 and by_comm.loc["甲社区", "median_min"] == pytest.approx(10)
    assert by_comm.loc["乙社区", "p90_min"] == pytest.approx(30)


def test_response_times_empty_and_category_filter(engine):
    assert incident_stats.response_times(engine, ALL, (H.D("2020-01-01"), H.D("2020-02-01"))).empty
    df = incident_stats.response_times(engine, Filters(categories=("治安",)), H.MONTH)
    assert df.iloc[0]["n"] == 3


def test_counts_today_cut_at_now(engine):
    today = (datetime(2026, 11, 19, 16), H.NOW)
    assert reports.count(engine, ALL, today) == 2
    assert reports.count(engine, ALL, previous_window(today)) == 1  # report 4, not 5
    assert incidents.count(engine, ALL, H.MONTH) == 9
    assert incidents.count(engine, ALL, last_year_window(H.MONTH)) == 1
    assert incidents.count(engine, Filters(categories=("盗窃", "求助")), H.MONTH) == 6
    assert math.isclose(change(incidents.count(engine, ALL, H.MONTH), incidents.count(engine, ALL, last_year_window(H.MONTH))), 8.0)


# --- 未办结 and 在办: two populations, two names ----------------------------------------------
#
# At NOW (11-20 06:30): T3 处置中 (overdue), T4 已派发, T5 待研判, T7 已反馈
# (feedback 11-12 10:00, closed 11-20 07:00, after now); T1, T2, T6 closed.
# At 11-12 12:00 T7 has its feedback and T3 is still out; at 11-12 05:00 T7 was
# dispatched and waiting for feedback; at 11-06 12:00 T2 was past its deadline
# without feedback (feedback 11-07) and T1 closed (11-03).


def _ids(engine, condition) -> list[int]:
    with engine.connect() as c:
        return sorted(int(r[0]) for r in c.execute(select(tasks.c.id).where(condition)))


@pytest.mark.parametrize(
    "at, unclosed, before_feedback",
    [
        (H.NOW, [3, 4, 5, 7], [3, 4, 5]),
        (datetime(2026, 11, 12, 12, 0), [3, 7], [3]),
        (datetime(2026, 11, 12, 5, 0), [3, 7], [3, 7]),
        (datetime(2026, 11, 6, 12, 0), [2], [2]),
        (datetime(2026, 11, 1, 12, 0), [6], []),  # T6: feedback 11-01 00:00, closed 11-03
    ],
)
def test_unclosed_and_before_feedback_by_hand(engine, at, unclosed, before_feedback):
    assert _ids(engine, loop.unclosed_condition(at)) == unclosed
    assert _ids(engine, loop.before_feedback_condition(at)) == before_feedback
    # 在办 is 未办结 without the tasks whose feedback is in (已反馈)
    assert set(before_feedback) <= set(unclosed)
    # the dispatch queue counts 未办结, the grid profile's 在办派单 counts 在办
    assert dispatch.unclosed_count(engine, ALL, at) == len(unclosed)
    assert grid_profile.before_feedback_count(engine, ALL, at) == len(before_feedback)
    assert sorted(dispatch.unclosed_tasks(engine, ALL, at)["id"]) == unclosed

"""The grid profile's baseline (measures, section "grid profile") and its queries
against figures computed by hand.

Pure arithmetic first (buckets, mean and Poisson band, 高于基线), then a tiny
world: tests/handmade.py (unchanged) plus incidents of our own in grid B1, in a
scratch database of this module. "now" = 2026-11-20 06:30 UTC (14:30 local);
the period is 近30天 = local days 10-22 .. 11-20, window
[2026-10-21 16:00, now) UTC.

Weekly buckets for a 30-day period: 26 weeks ending 11-20 (the newest is
11-14..11-20, the oldest 2026-05-23..05-29: 11-20 − 25×7 days), and 52
baseline weeks before them, 2025-05-24..05-30 up to 2026-05-16..05-22.

Incidents in B1 (ours all 盗窃; handmade's three B1 incidents are 治安):

    UTC time             local          bucket               counts
    2025-11-12 04:00 ×1  11-12 12:00    base 2025-11-08..14  begins before the table's first
                                                             day (2025-11-10, handmade #100
                                                             in A1): left out of the baseline
    2025-12-01 04:00 ×108 12-01 12:00   base 2025-11-29..12-05  usable
    2026-05-22 16:00 ×1  05-23 00:00    shown 05-23..05-29   first shown week, not baseline
    2026-11-10 02:00 ×3  11-10 10:00    shown 11-07..11-13   (handmade, 治安)
    2026-11-13 16:30 ×1  11-14 00:30    shown 11-14..11-20   local day, not UTC day
    2026-11-18 02:00 ×8  11-18 10:00    shown 11-14..11-20
    2026-11-20 07:00 ×1  11-20 15:00    after now: not counted

Usable baseline weeks: those beginning on or after 2025-11-10, i.e. from
2025-11-15 (2025-05-24 + 25×7) to 2026-05-16: 52 − 25 = 27 weeks. Mean =
108 / 27 = 4.0, band = 4 ± 2·√4 = [0, 8]. Week 11-14..11-20 has 1 + 8 = 9 > 8
and ≥ 3: 高于基线. Week 11-07..11-13 has 3 ≤ 8: not.

Reports in B1 (handmade): 11-19 05:00 and 07:00 UTC (local 11-19) → week
11-14..11-20 = 2; 11-20 07:00 is after now. The reports table begins on
2026-11-19 (handmade #4), after every baseline week: no baseline.
Disputes in B1 (handmade): found 10-01 (local 10-01 08:00, week 09-26..10-02)
and 11-15 (week 11-14..11-20); the table begins 2026-10-01: no baseline.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import incidents
from dashboard.filters import Filters
from queries import grid_profile as gp
from queries.measures import arithmetic
from queries.measures.baseline import Baseline, Bucket, above_band, activity_buckets, bucket_baseline, bucket_totals, poisson_baseline
from tests import handmade as H

pytestmark = pytest.mark.backend

D = H.D
TODAY = date(2026, 11, 20)
B1_30D = Filters(community_id=H.C2, grid_id=H.B1).with_period("30d", TODAY)
WINDOW = B1_30D.window(H.NOW)


# --- pure arithmetic ------------------------------------------------------------------------


def test_weekly_buckets_for_a_short_period():
    unit, shown, base = activity_buckets(date(2026, 10, 22), date(2026, 11, 20))
    assert unit == "week" and len(shown) == 26 and len(base) == 52
    assert shown[-1] == Bucket(date(2026, 11, 14), date(2026, 11, 20))
    assert shown[0] == Bucket(date(2026, 5, 23), date(2026, 5, 29))  # 11-20 − 175 days
    assert base[-1] == Bucket(date(2026, 5, 16), date(2026, 5, 22))
    assert base[0] == Bucket(date(2025, 5, 24), date(2025, 5, 30))  # 05-22 − 357 days
    # contiguous 7-day buckets
    allb = base + shown
    assert all((b.last - b.first).days == 6 for b in allb)
    assert all(b.first == a.last + timedelta(days=1) for a, b in zip(allb, allb[1:]))


def test_weekly_buckets_cover_a_long_period_and_one_day():
    # 2026-01-01 .. 11-20 is 324 days: ceil(324 / 7) = 47 weeks, the first from 2025-12-27
    unit, shown, base = activity_buckets(date(2026, 1, 1), date(2026, 11, 20))
    assert unit == "week" and len(shown) == 47 and shown[0].first == date(2025, 12, 27) and len(base) == 52
    # today only: still 26 weeks, ending today
    unit, shown, _ = activity_buckets(TODAY, TODAY)
    assert unit == "week" and len(shown) == 26 and shown[-1].last == TODAY
    # 371 days is still weekly (53 weeks), 372 days is by month
    assert activity_buckets(TODAY - timedelta(days=370), TODAY)[0] == "week"
    assert len(activity_buckets(TODAY - timedelta(days=370), TODAY)[1]) == 53
    assert activity_buckets(TODAY - timedelta(days=371), TODAY)[0] == "month"


def test_monthly_buckets_are_clipped_calendar_months():
    unit, shown, base = activity_buckets(date(2025, 1, 15), date(2026, 11, 20))
    assert unit == "month" and len(shown) == 23  # Jan 2025 .. Nov 2026
    assert shown[0] == Bucket(date(2025, 1, 15), date(2025, 1, 31))
    assert shown[1] == Bucket(date(2025, 2, 1), date(2025, 2, 28))
    assert shown[-1] == Bucket(date(2026, 11, 1), date(2026, 11, 20))
    assert len(base) == 12 and base[0] == Bucket(date(2024, 1, 1), date(2024, 1, 31)) and base[-1] == Bucket(date(2024, 12, 1), date(2024, 12, 31))
    assert base[1].last == date(2024, 2, 29)  # leap year


def test_poisson_band():
    b = poisson_baseline([1, 3, 5, 7])  # mean 4, √4 = 2: 4 ± 4
    assert (b.mean, b.low, b.high, b.buckets) == (4.0, 0.0, 8.0, 4)
    b = poisson_baseline([16, 16, 16])  # 16 ± 8
    assert (b.low, b.high) == (8.0, 24.0)
    b = poisson_baseline([0, 0, 9])  # mean 3, 2√3 = 3.4641: low floored at 0
    assert b.mean == 3.0 and b.low == 0.0 and b.high == pytest.approx(6.4641016)
    assert poisson_baseline([]) == Baseline(None, None, None, 0)


def test_above_band_needs_the_band_and_three_events():
    b = poisson_baseline([1, 3, 5, 7])  # high 8
    assert not above_band(8, b) and above_band(9, b)
    quiet = poisson_baseline([0, 0, 0, 1])  # mean 0.25, high 0.25 + 2·0.5 = 1.25
    assert quiet.high == pytest.approx(1.25)
    assert not above_band(2, quiet)  # above the band but fewer than 3 events
    assert above_band(3, quiet)
    assert not above_band(100, Baseline(None, None, None, 0))
    assert not above_band(None, b)


def test_baseline_leaves_out_buckets_before_the_data_begins():
    d0 = date(2026, 1, 5)
    buckets = [Bucket(d0 + timedelta(days=7 * i), d0 + timedelta(days=7 * i + 6)) for i in range(4)]
    counts = [5, 1, 3, 8]
    # data from d0+8: the buckets beginning d0+14 and d0+21 count: (3 + 8) / 2 = 5.5
    b = bucket_baseline(counts, buckets, d0 + timedelta(days=8))
    assert b.buckets == 2 and b.mean == 5.5
    assert bucket_baseline(counts, buckets, d0).mean == 17 / 4
    assert bucket_baseline(counts, buckets, None) == Baseline(None, None, None, 0)
    assert bucket_baseline(counts, buckets, d0 + timedelta(days=30)).mean is None


def test_bucket_totals_sum_days_and_drop_days_outside():
    buckets = [Bucket(date(2026, 1, 1), date(2026, 1, 7)), Bucket(date(2026, 1, 8), date(2026, 1, 14))]
    daily = pd.DataFrame({"day": [date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 7), date(2026, 1, 8), date(2026, 1, 15)], "n": [100, 1, 2, 4, 100]})
    assert bucket_totals(daily, buckets) == [3, 4]
    assert bucket_totals(pd.DataFrame(columns=["day", "n"]), buckets) == [0, 0]
    # a gap between buckets (a month clipped to the period): its days are dropped
    gap = [Bucket(date(2025, 12, 1), date(2025, 12, 31)), Bucket(date(2026, 1, 8), date(2026, 1, 31))]
    assert bucket_totals(daily, gap) == [100, 104]  # 12-31; 01-08 + 01-15 (01-01 and 01-07 dropped)


# --- the tiny world -------------------------------------------------------------------------


def _incidents(start_id: int, at: datetime, n: int) -> list[dict]:
    base = dict(h3="x", lat=26.66, lon=119.56, place="乙路", subtype="其他", category="盗窃", grid_id=H.B1, arrived_at=None, closed_at=None, outcome=None)
    return [{**base, "id": start_id + i, "received_at": at} for i in range(n)]


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("gridhand")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    rows = (
        _incidents(200, D("2025-11-12 04:00"), 1)
        + _incidents(300, D("2025-12-01 04:00"), 108)
        + _incidents(500, D("2026-05-22 16:00"), 1)
        + _incidents(600, D("2026-11-13 16:30"), 1)
        + _incidents(700, D("2026-11-18 02:00"), 8)
        + _incidents(800, D("2026-11-20 07:00"), 1)
    )
    with writer.begin() as conn:
        conn.execute(insert(incidents), rows)
    writer.dispose()
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


def _series(act: pd.DataFrame, source: str) -> pd.DataFrame:
    return act[act["source"] == source].set_index("last")


def test_activity_incidents_against_hand_baseline(engine):
    act = gp.activity(engine, B1_30D, WINDOW)
    assert len(act) == 3 * 26 and set(act["unit"]) == {"week"}
    inc = _series(act, "incidents")
    assert inc["mean"].iloc[0] == pytest.approx(4.0) and inc["low"].iloc[0] == 0.0 and inc["high"].iloc[0] == pytest.approx(8.0)
    assert set(inc["baseline_buckets"]) == {27}
    assert inc.loc[date(2026, 11, 20), "n"] == 9 and bool(inc.loc[date(2026, 11, 20), "above"])
    assert inc.loc[date(2026, 11, 13), "n"] == 3 and not bool(inc.loc[date(2026, 11, 13), "above"])
    assert inc.loc[date(2026, 5, 29), "n"] == 1  # 05-23 00:00 local: the first shown week
    assert int(inc["n"].sum()) == 13 and int(inc["above"].sum()) == 1


def test_activity_categories_apply_to_incidents_only(engine):
    f = Filters(community_id=H.C2, grid_id=H.B1, categories=("盗窃",)).with_period("30d", TODAY)
    act = gp.activity(engine, f, f.window(H.NOW))
    inc = _series(act, "incidents")
    assert inc.loc[date(2026, 11, 13), "n"] == 0  # handmade's B1 incidents are 治安
    assert inc.loc[date(2026, 11, 20), "n"] == 9 and inc["mean"].iloc[0] == pytest.approx(4.0)
    assert int(_series(act, "reports")["n"].sum()) == 2


def test_activity_reports_and_disputes_have_no_baseline(engine):
    act = gp.activity(engine, B1_30D, WINDOW)
    rep = _series(act, "reports")
    assert rep.loc[date(2026, 11, 20), "n"] == 2 and int(rep["n"].sum()) == 2
    assert rep["mean"].isna().all() and set(rep["baseline_buckets"]) == {0} and not rep["above"].any()
    dis = _series(act, "disputes")
    assert dis.loc[date(2026, 10, 2), "n"] == 1 and dis.loc[date(2026, 11, 20), "n"] == 1 and int(dis["n"].sum()) == 2
    assert dis["mean"].isna().all()


def test_ranking_and_counts_by_hand(engine):
    """Window 10-22..11-20 local. Incidents: B1 3 + 1 + 8 = 12, A1 4, A2 2.
    Reports: A1 #1, #2; B1 #4, #5 (#3 after now). Disputes found: A1 #1, A2 #2,
    B1 #4 (#3 on 10-01 is before). Open at now: T3 (处置中), T4 (已派发), T5
    (待研判) in A1; T7 has feedback. Overdue: T3 (deadline 11-11)."""
    df = gp.grid_ranking(engine, Filters().with_period("30d", TODAY), WINDOW, H.NOW)
    assert list(df["grid_id"]) == [H.B1, H.A1, H.A2] and list(df["rank"]) == [1, 2, 3]
    by = df.set_index("grid_id")
    assert by.loc[H.B1, ["incidents", "reports", "disputes", "before_feedback", "overdue"]].tolist() == [12, 2, 1, 0, 0]
    assert by.loc[H.A1, ["incidents", "reports", "disputes", "before_feedback", "overdue"]].tolist() == [4, 2, 1, 3, 1]
    assert by.loc[H.A2, ["incidents", "reports", "disputes", "before_feedback", "overdue"]].tolist() == [2, 0, 1, 0, 0]
    c1 = gp.grid_ranking(engine, Filters(community_id=H.C1), WINDOW, H.NOW)
    assert list(c1["grid_id"]) == [H.A1, H.A2]
    assert gp.before_feedback_count(engine, Filters(grid_id=H.A1), H.NOW) == 3
    # yesterday at the same time: T3 and T4 (T5 not yet created)
    assert gp.before_feedback_count(engine, Filters(grid_id=H.A1), H.NOW - timedelta(days=1)) == 2
    tasks_a1 = gp.before_feedback_tasks(engine, Filters(grid_id=H.A1), H.NOW)
    assert list(tasks_a1["task_id"]) == [3, 4, 5]  # overdue first, then by deadline, none last
    assert list(tasks_a1["overdue"]) == [True, False, False]


def test_kpis_by_hand(engine):
    """B1, 近30天: 12 incidents. 同比 base = the same days of 2025 (10-22..11-20
    local), which begin before the incidents table does (2025-11-10, handmade
    #100), as the baseline's weeks above: counted anyway it would be the one
    2025-11-12 incident, +1100% and 显著 (p = 28 / 8192 = 0.0034), from a year
    that is only in the data for its last ten days; by the coverage rule "—".
    环比 base = the 30 days before: 0 → "—"."""
    k = {x.key: x for x in gp.kpis(engine, B1_30D, H.NOW)}
    c = k["incidents"].compared
    assert (c.value, c.yoy_base, c.pop_base) == (12, None, 0)
    assert c.yoy is None and not c.yoy_sig and c.pop is None
    assert arithmetic.poisson_p_value(12, 1) == pytest.approx(28 / 8192)  # what the mark would have said
    assert k["reports"].compared.value == 2 and k["disputes"].compared.value == 1
    a1 = {x.key: x for x in gp.kpis(engine, Filters(community_id=H.C1, grid_id=H.A1).with_period("30d", TODAY), H.NOW)}
    # 在办派单 now T3 T4 T5; one period (30 days) back, 10-21 06:30: none of A1's tasks existed yet
    assert (a1["before_feedback"].compared.value, a1["before_feedback"].compared.pop_base, a1["before_feedback"].compared.pop) == (3, 0, None)
    assert gp.before_feedback_count(engine, Filters(grid_id=H.A1), H.D("2026-10-21 06:30")) == 0
    assert a1["overdue"].compared.value == 1 and a1["overdue"].alarm
    assert a1["cameras_online"].compared.value is None  # no cameras in the tiny world: "—"


def test_population_density_by_hand(engine):
    # A1: 100 people on 0.25 km², B1: 100 on 0.5 km²
    assert gp.grid_card(engine, H.A1).iloc[0]["population_density"] == pytest.approx(400)
    assert gp.grid_card(engine, H.B1).iloc[0]["population_density"] == pytest.approx(200)
    assert gp.population_density(100, 0) is None and gp.population_density(None, 1.0) is None
    assert gp.grid_card(engine, 987654).empty

"""The trends page's measures and queries against figures computed by hand, on the
session's backend: the Poisson test behind the 显著 mark, 同比/环比 per category
with base coverage, time buckets, the hour-of-week grid and 到场时间 by grid.

The world: tests/handmade.py's places (C1 = 甲社区 with grids A1, A2; C2 = 乙社区
with grid B1), its incidents replaced by the ones below. "now" is
2026-11-20 06:30 UTC (Friday 14:30 local). Times are UTC; local = UTC + 8 h.

W    = 本月 = [2026-10-31 16:00, 2026-11-20 06:30)  (1–20 Nov local)
LY   = last_year_window(W) = [2025-10-31 16:00, 2025-11-20 06:30)
PREV = previous_window(W, "month") = [2026-09-30 16:00, 2026-10-20 06:30)

  刑事  W: 10 × 2026-11-02 01:15 (local Mon 11-02 09:15), grid A1, arrival +5 min
           10 × 2026-11-08 19:00 (local Mon 11-09 03:00, UTC still Sunday), B1, +20 min
        LY: 8 × 2025-11-05 02:00 (A1)          PREV: 10 × 2026-10-05 02:00 (A2)
  盗窃  W: 2026-10-31 16:00 (= W's start, local Sun 11-01 00:00, counts), A2, +8 min
           4 × 2026-11-19 23:00 (local Fri 11-20 07:00), A2, +10/+12/+14/+30 min
        2026-11-20 06:30 (= now: outside W, half-open)
        PREV: 5 × 2026-10-10 02:00 (A2); 2026-10-20 06:30 (= PREV's end: outside)
  纠纷  LY: 3 × 2025-11-15 02:00 (B1)
  其他  W: 2026-11-10 02:00 (local Tue 10:00), B1: a category another system wrote
  治安  2025-06-01 00:00 (B1): the feed's first record, in no window
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import delete, insert

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import INCIDENT_CATEGORIES
from dashboard.db.schema import incidents as incidents_table
from dashboard.filters import Filters
from dashboard.ui import fmt
from queries import incidents
from queries.measures import arithmetic, incident_stats, windows
from queries.measures.arithmetic import poisson_p_value, significant
from queries.measures.windows import last_year_window, previous_window
from tests import handmade as H

pytestmark = pytest.mark.backend

D = H.D
NOW = H.NOW
W = H.MONTH
ALL = Filters()


def _rows() -> list[dict]:
    out: list[dict] = []

    def add(n: int, at: str, cat: str, grid: int, arrive_min: list[float | None] | None = None) -> None:
        for i in range(n):
            rec = D(at)
            m = arrive_min[i] if arrive_min else None
            out.append(
                dict(
                    id=1000 + len(out), received_at=rec, arrived_at=None if m is None else rec + timedelta(minutes=m),
                    category=cat, subtype="测试", grid_id=grid, h3="x", lat=26.66, lon=119.55, place="某路1号",
                )
            )

    add(10, "2026-11-02 01:15", "刑事", H.A1, [5] * 10)
    add(10, "2026-11-08 19:00", "刑事", H.B1, [20] * 10)
    add(8, "2025-11-05 02:00", "刑事", H.A1)
    add(10, "2026-10-05 02:00", "刑事", H.A2)
    add(1, "2026-10-31 16:00", "盗窃", H.A2, [8])
    add(4, "2026-11-19 23:00", "盗窃", H.A2, [10, 12, 14, 30])
    add(1, "2026-11-20 06:30", "盗窃", H.A2)
    add(5, "2026-10-10 02:00", "盗窃", H.A2)
    add(1, "2026-10-20 06:30", "盗窃", H.A2)
    add(3, "2025-11-15 02:00", "纠纷", H.B1)
    add(1, "2026-11-10 02:00", "其他", H.B1)
    add(1, "2025-06-01 00:00", "治安", H.B1)
    return out


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("trends")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    with writer.begin() as conn:
        conn.execute(delete(incidents_table))  # our own incidents only (our own database)
        H._Conn(conn).execute(insert(incidents_table), _rows())
    writer.dispose()
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


# --- the Poisson test behind 显著 -------------------------------------------------------


@pytest.mark.parametrize(
    "cur, base, ratio, expected",
    [
        # n = 28, q = 1/2: 2 · P(X ≥ 20) = 2 · (C(28,20)+…+C(28,28)) / 2^28 = 2 · 4,791,323 / 268,435,456 = 0.0357
        (20, 8, 1.0, 0.0357),
        # n = 14: 2 · (C(14,10)+C(14,11)+…+C(14,14)) / 2^14 = 2 · 1471 / 16384 = 0.1796
        (10, 4, 1.0, 0.1796),
        (4, 10, 1.0, 0.1796),  # symmetric
        # n = 5: only 5–0 and 0–5 are as unlikely: 2 / 32
        (5, 0, 1.0, 0.0625),
        # n = 6: 2 / 64
        (6, 0, 1.0, 0.03125),
        # n = 30: 2 · 53,009,102 / 2^30 = 0.0987
        (20, 10, 1.0, 0.0987),
        # n = 3: 2 / 8
        (0, 3, 1.0, 0.25),
        # equal counts: every outcome is at most as likely as the observed mode → 1
        (7, 7, 1.0, 1.0),
        # current period twice as long: q = 2/3, mode of Binomial(14, 2/3) is 10 → 1
        (10, 4, 2.0, 1.0),
    ],
)
def test_poisson_p_value_exact(cur, base, ratio, expected):
    assert poisson_p_value(cur, base, ratio) == pytest.approx(expected, abs=5e-5)


def test_poisson_p_value_nothing_to_test():
    assert poisson_p_value(0, 0) is None
    assert poisson_p_value(-1, 3) is None
    assert poisson_p_value(3, 2, exposure_ratio=0) is None


def test_significant_large_counts_use_normal_approximation():
    # n = 5800 > 5000: z = (|3000 − 2900| − 0.5) / √(5800/4) = 99.5 / 38.08 = 2.61 → p ≈ 0.009
    assert significant(3000, 2800)
    # n = 5100: z = (50 − 0.5) / √1275 = 1.39 → p ≈ 0.17
    assert not significant(2600, 2500)
    assert poisson_p_value(3000, 2800) == pytest.approx(0.00898, abs=2e-4)


def test_significant_small_counts_and_unknowns():
    assert significant(20, 8) and not significant(10, 4) and not significant(5, 0) and significant(6, 0)
    assert not significant(None, 3) and not significant(3, None) and not significant(2.5, 1)
    # compare() carries the marks; the change itself is shown either way
    c = arithmetic.compare(10, 4, 20)
    assert c.yoy == pytest.approx(1.5) and not c.yoy_sig
    assert c.pop == pytest.approx(-0.5) and not c.pop_sig  # 10 vs 20: p = 0.099
    assert fmt.change_marked(c.yoy, sig=c.yoy_sig) == "↑150.0%"
    assert fmt.change_marked(1.5, sig=True) == "↑150.0%（显著）"


# --- coverage of a comparison base ------------------------------------------------------


def test_base_complete():
    since = D("2025-06-01 00:00")
    assert windows.base_complete((since, since + timedelta(days=1)), since)
    assert not windows.base_complete((since - timedelta(seconds=1), since), since)
    assert windows.base_complete((D("2020-01-01"), D("2020-02-01")), None)


def test_first_received_at(engine):
    assert incidents.first_received_at(engine) == D("2025-06-01 00:00")


# --- 同比/环比 per category --------------------------------------------------------------


def test_by_category_compared_month(engine):
    comp = incidents.by_category_compared(engine, ALL, W, "month")
    assert comp.last_year == last_year_window(W) == (D("2025-10-31 16:00"), NOW - timedelta(days=365))
    assert comp.previous == previous_window(W, "month") == (D("2026-09-30 16:00"), D("2026-10-20 06:30"))
    assert comp.yoy_complete and comp.pop_complete
    # every tracked category, in order, then the one another system wrote
    assert [c for c, _ in comp.rows] == [*INCIDENT_CATEGORIES, "其他"]
    x = comp.get("刑事")
    # 20 now, 8 last year, 10 before: 同比 (20−8)/8 = +150% (p = 0.0357: 显著),
    # 环比 (20−10)/10 = +100% (p = 0.0987: not marked)
    assert (x.value, x.yoy_base, x.pop_base) == (20, 8, 10)
    assert x.yoy == pytest.approx(1.5) and x.yoy_sig
    assert x.pop == pytest.approx(1.0) and not x.pop_sig
    t = comp.get("盗窃")
    # W's first instant counts, "now" does not; PREV's end does not: 5 vs 0 vs 5
    assert (t.value, t.yoy_base, t.pop_base) == (5, 0, 5)
    assert t.yoy is None and not t.yoy_sig  # zero base → "—"
    assert t.pop == 0.0 and fmt.change(t.pop) == "持平"
    j = comp.get("纠纷")
    assert (j.value, j.yoy_base, j.pop_base, j.yoy, j.pop) == (0, 3, 0, -1.0, None) and not j.yoy_sig  # p = 0.25
    z = comp.get("治安")
    assert (z.value, z.yoy_base, z.pop_base, z.yoy, z.pop) == (0, 0, 0, None, None)
    assert comp.get("其他").value == 1
    # total 26 (20 + 5 + 1) vs 11 (8 + 3) vs 15 (10 + 5)
    assert (comp.total.value, comp.total.yoy_base, comp.total.pop_base) == (26, 11, 15)
    assert comp.total.yoy == pytest.approx(15 / 11) and comp.total.yoy_sig  # p = 0.0201
    assert comp.total.pop == pytest.approx(11 / 15) and not comp.total.pop_sig  # p = 0.117
    df = comp.frame()
    assert list(df.columns) == ["category", "n", "n_last_year", "n_previous", "yoy", "pop", "yoy_sig", "pop_sig"]
    assert int(df["n"].sum()) == 26 and len(df) == 11


def test_by_category_compared_filters(engine):
    comp = incidents.by_category_compared(engine, Filters(categories=("盗窃", "纠纷")), W, "month")
    assert [c for c, _ in comp.rows] == ["盗窃", "纠纷"]
    assert (comp.total.value, comp.total.yoy_base, comp.total.pop_base) == (5, 3, 5)
    comp = incidents.by_category_compared(engine, Filters(grid_id=H.B1), W, "month")
    # B1: 刑事 10 (local 11-09) and 其他 1 now; 纠纷 3 last year; nothing before
    assert (comp.get("刑事").value, comp.get("刑事").yoy_base, comp.get("刑事").pop_base) == (10, 0, 0)
    assert (comp.total.value, comp.total.yoy_base, comp.total.pop_base) == (11, 3, 0)


def test_by_category_compared_base_not_covered(engine):
    year = (D("2025-12-31 16:00"), NOW)  # 本年: 1 Jan local until now
    comp = incidents.by_category_compared(engine, ALL, year, "year")
    # last year starts 2024-12-31 16:00 and the year before steps back 324 days
    # to 2025-02-10 16:00: both before the first record (2025-06-01) → unknown
    assert comp.previous[0] == D("2025-02-10 16:00")
    assert not comp.yoy_complete and not comp.pop_complete
    assert comp.data_since == D("2025-06-01 00:00")
    x = comp.get("刑事")
    assert (x.value, x.yoy_base, x.pop_base, x.yoy, x.pop, x.yoy_sig) == (30, None, None, None, None, False)
    # 刑事 20 + 10, 盗窃 5 + 5 + the one at PREV's end, 其他 1
    assert comp.get("盗窃").value == 11 and comp.total.value == 42 and comp.total.yoy is None
    assert comp.frame()["n_last_year"].isna().all()


def test_by_category_compared_empty_window(engine):
    comp = incidents.by_category_compared(engine, ALL, (D("2020-01-01"), D("2020-02-01")), "custom")
    assert comp.total.value == 0 and comp.total.yoy is None and comp.total.pop is None
    assert not comp.yoy_complete  # 2019 is before the feed's first record
    # Every category of the station's vocabulary (the demo's list, then the data's other values), each at zero.
    shown = [c for c, _ in comp.rows]
    assert shown[: len(INCIDENT_CATEGORIES)] == list(INCIDENT_CATEGORIES) and shown[len(INCIDENT_CATEGORIES):] == ["其他"]


# --- time buckets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hours, expected",
    [(14.5, "hour"), (24, "hour"), (48, "day"), (31 * 24, "day"), (32 * 24, "week"), (184 * 24, "week"), (185 * 24, "month")],
)
def test_trend_grain(hours, expected):
    start = D("2026-01-31 16:00")  # a local midnight
    assert incidents.trend_grain((start, start + timedelta(hours=hours))) == expected


def _cell(df: pd.DataFrame, bucket: str, cat: str) -> int:
    return int(df[(df["bucket"] == pd.Timestamp(bucket)) & (df["category"] == cat)]["n"].iloc[0])


def test_category_series_days(engine):
    df = incidents.category_series(engine, ALL, W)  # 20 local days → by day
    assert len(df) == 20 * 11 and df["bucket"].nunique() == 20
    assert df["bucket"].min() == pd.Timestamp("2026-11-01") and df["bucket"].max() == pd.Timestamp("2026-11-20")
    assert _cell(df, "2026-11-02", "刑事") == 10
    assert _cell(df, "2026-11-09", "刑事") == 10  # local Monday, although UTC says Sunday
    assert _cell(df, "2026-11-08", "刑事") == 0
    assert _cell(df, "2026-11-01", "盗窃") == 1 and _cell(df, "2026-11-20", "盗窃") == 4
    assert _cell(df, "2026-11-10", "其他") == 1
    assert int(df["n"].sum()) == 26
    assert df[df["bucket"] == pd.Timestamp("2026-11-02")]["label"].iloc[0] == "11-02"


def test_category_series_weeks_months_hours(engine):
    wk = incidents.category_series(engine, ALL, W, "week")
    # Monday weeks, the first cut at Sunday 1 Nov and the last at Friday 20 Nov
    labels = list(dict.fromkeys(wk["label"]))
    assert labels == ["11-01至11-01", "11-02至11-08", "11-09至11-15", "11-16至11-20"]
    assert _cell(wk, "2026-11-02", "刑事") == 10 and _cell(wk, "2026-11-09", "刑事") == 10
    assert _cell(wk, "2026-11-01", "盗窃") == 1 and _cell(wk, "2026-11-16", "盗窃") == 4
    assert _cell(wk, "2026-11-09", "其他") == 1 and int(wk["n"].sum()) == 26
    mo = incidents.category_series(engine, ALL, W, "month")
    assert list(dict.fromkeys(mo["label"])) == ["2026年11月（1–20日）"]
    assert _cell(mo, "2026-11-01", "刑事") == 20 and int(mo["n"].sum()) == 26
    today = (D("2026-11-19 16:00"), NOW)  # local 00:00 → 14:30: 15 hourly buckets
    hr = incidents.category_series(engine, ALL, today)
    assert hr["bucket"].nunique() == 15 and hr["label"].iloc[0] == "11-20 00时"
    assert _cell(hr, "2026-11-20 07:00", "盗窃") == 4 and int(hr["n"].sum()) == 4


def test_category_series_filters_and_empty(engine):
    df = incidents.category_series(engine, Filters(categories=("盗窃",)), W)
    assert set(df["category"]) == {"盗窃"} and int(df["n"].sum()) == 5
    df = incidents.category_series(engine, Filters(grid_id=H.B1), W)
    assert int(df["n"].sum()) == 11 and set(df["category"]) == set(INCIDENT_CATEGORIES) | {"其他"}
    df = incidents.category_series(engine, Filters(grid_id=H.B1), (D("2020-01-01"), D("2020-01-03")))
    assert int(df["n"].sum()) == 0 and len(df) == 3 * 11  # every day and category (the 10 of the demo, 其他 from the data), zeros
    assert incidents.category_series(engine, ALL, (NOW, NOW)).empty


def test_hour_of_week(engine):
    df = incidents.hour_of_week(engine, ALL, W)
    assert len(df) == 168 and int(df["n"].sum()) == 26
    cells = {(int(r.weekday), int(r.hour)): int(r.n) for r in df.itertuples() if r.n}
    # Mon 09 (刑事), Mon 03 (刑事, UTC Sunday 19:00), Sun 00 (盗窃), Fri 07 (盗窃), Tue 10 (其他)
    assert cells == {(0, 9): 10, (0, 3): 10, (6, 0): 1, (4, 7): 4, (1, 10): 1}
    assert incidents.hour_of_week(engine, Filters(community_id=H.C2), W)["n"].sum() == 11


# --- 到场时间 by grid ------------------------------------------------------------------------


def test_response_times_by_grid(engine):
    df = incident_stats.response_times(engine, ALL, W, by="grid").set_index("group")
    # A1: ten at 5 min; B1: ten at 20 min; A2: 8, 10, 12, 14, 30 → median = 3rd = 12,
    # p90 = the 5th (nearest rank: smallest with ≥ 4.5 values at or below) = 30
    assert df.loc["甲社区第1网格", "n"] == 10 and df.loc["甲社区第1网格", "p90_min"] == pytest.approx(5)
    assert df.loc["乙社区第1网格", "median_min"] == pytest.approx(20)
    assert df.loc["甲社区第2网格", "n"] == 5
    assert df.loc["甲社区第2网格", "median_min"] == pytest.approx(12) and df.loc["甲社区第2网格", "p90_min"] == pytest.approx(30)
    # the same definition one level up: 甲社区 = A1 + A2 = 5 ×10, 8, 10, 12, 14, 30:
    # median = 8th value = 5, p90 = 14th (≥ 13.5) = 14
    com = incident_stats.response_times(engine, ALL, W, by="community").set_index("group")
    assert com.loc["甲社区", "n"] == 15 and com.loc["甲社区", "median_min"] == pytest.approx(5)
    assert com.loc["甲社区", "p90_min"] == pytest.approx(14)

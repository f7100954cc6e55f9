"""预警 early warning: the arithmetic (measures.warning) on hand-computed
fixtures, and its queries (queries.warning) on a hand-built world and on the
demo world.

The hand-built world is tests/handmade.py (unchanged) plus incidents of our
own. "now" = 2026-11-20 06:30 UTC (14:30 local), today = 11-20.

    本周 window   local 11-14 .. 11-20 (today cut at now)
    guard band   11-07 .. 11-13 and 10-31 .. 11-06 (handmade's eleven incidents of
                 11-10 lie here: not counted anywhere)
    baseline     12 weeks 08-08..08-14 .. 10-24..10-30; the incidents table begins
                 2025-11-10 (handmade #100), so all 12 are usable. The reports
                 table begins 2026-11-19: no report is tested.

    B1 盗窃  2 a week in every baseline week (mean 2, variance 0: Poisson);
            this week 8 on 11-18 10:00 local + 1 at 11-13 16:30 UTC (= 11-14
            00:30 local, inside the window) = 9; one more after now (not counted)
    B1 治安  none in the baseline; today 4 (11-20 10:00 local)
    A2 盗窃  baseline weeks alternating 0, 8 (mean 4, variance 12·16/11 = 192/11:
            dispersion index 11·(192/11)/4 = 48 on 11 degrees of freedom →
            over-dispersed, negative binomial); this week 9
    A1 求助  none in the baseline; this week 2 (11-16): below the minimum count

Family: grids A1, A2, B1 × categories seen since 08-08 (盗窃, 求助, 治安) × (本周, 今日) = 18 tests.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert

from dashboard.config import load_settings
from dashboard.db import audit
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import audit_log, incidents
from dashboard.filters import Filters
from queries import warning as wq
from queries.measures import warning as wm
from tests import handmade as H
from tests.conftest import FIXTURE_END

D = H.D
TODAY = date(2026, 11, 20)


def _poisson_sf(k: int, mu: float) -> float:
    return 1 - sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k))


# --- pure arithmetic ------------------------------------------------------------------------


def test_poisson_tails_known_values():
    assert wm.poisson_sf(0, 3.0) == 1.0
    assert wm.poisson_sf(1, 2.0) == pytest.approx(1 - math.exp(-2))
    assert wm.poisson_sf(3, 1.0) == pytest.approx(1 - 2.5 / math.e)  # 0.0803014
    assert wm.poisson_sf(5, 1.0) == pytest.approx(1 - math.exp(-1) * (1 + 1 + 1 / 2 + 1 / 6 + 1 / 24), rel=1e-9)  # 0.0036598
    assert wm.poisson_sf(9, 2.0) == pytest.approx(0.000237447, rel=1e-5)
    assert wm.poisson_sf(3, 0.0) == 0.0
    # far in the tail: summed upwards, not 1 − cdf (which would be 0.0)
    assert wm.poisson_sf(30, 2.0) == pytest.approx(math.exp(-2) * 2**30 / math.factorial(30), rel=0.1)
    assert 0 < wm.poisson_sf(30, 2.0) < 1e-20


def test_negative_binomial_tail_and_moments():
    # mean 2, variance 6: r = 4/4 = 1, the geometric law: P(X ≥ k) = (m/(1+m))^k
    assert wm.negbin_r(2, 6) == 1.0
    assert wm.negbin_sf(3, 2.0, 6.0) == pytest.approx((2 / 3) ** 3)
    assert wm.negbin_sf(1, 2.0, 6.0) == pytest.approx(2 / 3)
    assert wm.negbin_sf(20, 2.0, 6.0) == pytest.approx((2 / 3) ** 20, rel=1e-9)
    # no extra variance: Poisson
    assert wm.negbin_r(2, 2) is None and wm.negbin_sf(3, 2.0, 2.0) == wm.poisson_sf(3, 2.0)
    # a wider law has a fatter tail
    assert wm.negbin_sf(9, 4.0, 192 / 11) > wm.poisson_sf(9, 4.0)


def test_chi_square_tail():
    assert wm.chi2_sf(19.675, 11) == pytest.approx(0.05, abs=1e-4)  # the table's 95% point
    assert wm.chi2_sf(2.0, 2) == pytest.approx(math.exp(-1))  # df 2: e^(−x/2)
    assert wm.chi2_sf(0.0, 5) == 1.0


def test_over_dispersion_switch():
    steady = wm.Sample.of([2] * 12)
    assert (steady.mean, steady.variance) == (2.0, 0.0) and not wm.overdispersed(steady)
    wild = wm.Sample.of([0, 8] * 6)
    assert wild.mean == 4.0 and wild.variance == pytest.approx(192 / 11) and wm.overdispersed(wild)
    # variance above the mean but within Poisson chance: index 11·5/4 = 13.75 < 19.675
    mild = wm.Sample(12, 4.0, 5.0)
    assert not wm.overdispersed(mild)
    assert wm.overdispersed(wm.Sample(12, 4.0, 8.0))  # index 22 > 19.675
    t = wm.check("incidents", 1, "盗窃", "week", 9, wild, 12)
    assert t.model == "negbin" and t.p == pytest.approx(wm.negbin_sf(9, 4.0, 192 / 11))
    t = wm.check("incidents", 1, "盗窃", "week", 9, steady, 12)
    assert t.model == "poisson" and t.p == pytest.approx(0.000237447, rel=1e-5)


def test_mean_floor_and_no_baseline():
    t = wm.check("incidents", 1, "治安", "week", 3, wm.Sample.of([0] * 12), 12)
    assert t.mean == pytest.approx(1 / 12) and t.p == pytest.approx(_poisson_sf(3, 1 / 12))
    assert wm.check("incidents", 1, "治安", "week", 3, wm.Sample.of([]), 12) is None


def test_benjamini_hochberg_worked_by_hand():
    # sorted p: 0.001 0.012 0.013 0.2 0.9, m = 5: m·p/rank = 0.005 0.030 0.02167 0.25 0.9;
    # running minimum from the top: 0.9 0.25 0.02167 0.02167 0.005
    q = wm.bh_qvalues([0.2, 0.013, 0.9, 0.001, 0.012])
    assert q == pytest.approx([0.25, 0.065 / 3, 0.9, 0.005, 0.065 / 3])
    assert wm.bh_qvalues([]) == []
    assert wm.bh_qvalues([1.0, 1.0]) == [1.0, 1.0]


def _t(p: float, count: int = 5) -> wm.Check:
    return wm.Check("incidents", 1, "盗窃", "week", count, 1.0, 12, "poisson", p)


def test_fdr_needs_q_and_the_minimum_count():
    judged = wm.fdr([_t(0.001), _t(0.012), _t(0.013, count=2), _t(0.2), _t(0.9)])
    assert [t.warn for t in judged] == [True, True, False, False, False]  # the third: q 0.0217 but 2 < MIN_COUNT
    assert judged[2].q == pytest.approx(0.065 / 3)
    # the same p among 400 grid tests: q = 400·p/rank, nothing warns
    many = wm.fdr([_t(0.001), _t(0.012)] + [_t(0.5)] * 398)
    assert not any(t.warn for t in many)


def test_windows_and_guard_band():
    assert wm.window_days(TODAY) == wm.Days(date(2026, 11, 14), date(2026, 11, 20))
    weeks = wm.baseline_weeks(TODAY)
    assert len(weeks) == 12 and weeks[-1] == wm.Days(date(2026, 10, 24), date(2026, 10, 30))
    assert weeks[0] == wm.Days(date(2026, 8, 8), date(2026, 8, 14))
    assert all((w.last - w.first).days == 6 for w in weeks)
    assert wm.usable_weeks(weeks, date(2026, 9, 1)) == weeks[4:]  # 09-05.. onwards
    assert wm.usable_weeks(weeks, None) == []


def test_reason_in_words():
    t = wm.Check("incidents", 7, "盗窃", "week", 9, 2.1, 12, "poisson", 0.001)
    assert wm.reason("第7网格", t) == "第7网格 盗窃 本周 9 起，基线 2.1 起，p=0.001（泊松，前12周）"
    t = wm.Check("reports", 7, "噪音扰民", "today", 4, 0.25, 84, "negbin", 0.00001)
    assert wm.reason("第7网格", t, "件", "上报·噪音扰民") == "第7网格 上报·噪音扰民 今日 4 件，基线 0.2 件，p<0.001（负二项，前84天）"


# --- the hand-built world -------------------------------------------------------------------


def _inc(start_id: int, grid: int, cat: str, at: datetime, n: int) -> list[dict]:
    base = dict(h3="x", lat=26.66, lon=119.56, place="乙路", subtype="其他", arrived_at=None, closed_at=None, outcome=None)
    return [{**base, "id": start_id + i, "grid_id": grid, "category": cat, "received_at": at} for i in range(n)]


def _rows() -> list[dict]:
    rows: list[dict] = []
    nid = 1000
    for i, w in enumerate(wm.baseline_weeks(TODAY)):
        noon = datetime.combine(w.first + timedelta(days=3), datetime.min.time()) + timedelta(hours=4)  # 12:00 local
        rows += _inc(nid, H.B1, "盗窃", noon, 2)
        rows += _inc(nid + 10, H.A2, "盗窃", noon, 8 if i % 2 else 0)
        nid += 100
    rows += _inc(5000, H.B1, "盗窃", D("2026-11-18 02:00"), 8)
    rows += _inc(5100, H.B1, "盗窃", D("2026-11-13 16:30"), 1)
    rows += _inc(5200, H.B1, "盗窃", D("2026-11-20 07:00"), 1)  # after now
    rows += _inc(5300, H.B1, "治安", D("2026-11-20 02:00"), 4)
    rows += _inc(5400, H.A2, "盗窃", D("2026-11-17 02:00"), 9)
    rows += _inc(5500, H.A1, "求助", D("2026-11-16 02:00"), 2)
    return rows


@pytest.fixture(scope="module")
def hand(scratch):
    url = scratch.new("warnhand")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    with writer.begin() as conn:
        conn.execute(insert(incidents), _rows())
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng, writer
    eng.dispose()
    writer.dispose()


@pytest.mark.backend
def test_hand_world_warns_where_it_must(hand):
    eng, _ = hand
    r = wq.run(eng, Filters(), H.NOW)
    assert (r.tests, r.grids) == (18, 3)
    w = r.warnings
    got = [(x.grid_id, x.category, x.scope, int(x.count)) for x in w.itertuples()]
    assert got == [(H.B1, "治安", "today", 4), (H.B1, "治安", "week", 4), (H.B1, "盗窃", "week", 9)]
    p_today, p_week, p_theft = _poisson_sf(4, 1 / 84), _poisson_sf(4, 1 / 12), _poisson_sf(9, 2.0)
    assert list(w["p"]) == pytest.approx([p_today, p_week, p_theft], rel=1e-6)
    # BH by hand over 18 tests: ranks 1, 2, 3
    assert list(w["q"]) == pytest.approx([18 * p_today, 18 * p_week / 2, 18 * p_theft / 3], rel=1e-6)
    theft = w.iloc[2]
    assert theft["mean"] == 2.0 and theft["model"] == "poisson" and theft["baseline_n"] == 12
    assert theft["reason"] == "乙社区第1网格 盗窃 本周 9 起，基线 2.0 起，p<0.001（泊松，前12周）"
    assert (theft["grid"], theft["community"], theft["lat"], theft["lon"]) == ("乙社区第1网格", "乙社区", 26.6625, 119.5625)
    assert theft["acked_at"] is None


@pytest.mark.backend
def test_hand_world_over_dispersed_grid_and_minimum_count(hand):
    eng, _ = hand
    weeks = wm.baseline_weeks(TODAY)
    daily = wq.daily_counts(eng, "incidents", Filters(), weeks[0].first, H.NOW)
    tests = {(t.grid_id, t.category, t.scope): t for t in wq.tests_of(daily, "incidents", [H.A1, H.A2, H.B1], TODAY, date(2025, 11, 10))}
    a2 = tests[(H.A2, "盗窃", "week")]
    assert (a2.count, a2.mean, a2.model) == (9, 4.0, "negbin")
    assert a2.p == pytest.approx(wm.negbin_sf(9, 4.0, 192 / 11)) and a2.p > 0.1  # Poisson would say 0.021
    a1 = tests[(H.A1, "求助", "week")]
    assert a1.count == 2 and a1.p == pytest.approx(_poisson_sf(2, 1 / 12))
    judged = {(t.grid_id, t.category, t.scope): t for t in wm.fdr(list(tests.values()))}
    assert judged[(H.A1, "求助", "week")].q == pytest.approx(18 * a1.p / 4) and judged[(H.A1, "求助", "week")].q < wm.FDR_Q
    assert not judged[(H.A1, "求助", "week")].warn  # 2 < MIN_COUNT
    # the guard band: handmade's 11-10 incidents are nowhere
    assert tests[(H.A1, "盗窃", "week")].count == 0 and tests[(H.A1, "盗窃", "week")].mean == pytest.approx(1 / 12)


@pytest.mark.backend
def test_hand_world_filters_narrow_the_list_not_the_family(hand):
    eng, _ = hand
    full = wq.run(eng, Filters(), H.NOW).warnings
    c2 = wq.run(eng, Filters(community_id=H.C2), H.NOW)
    assert c2.tests == 18 and list(c2.warnings["q"]) == pytest.approx(list(full["q"]))
    assert wq.run(eng, Filters(community_id=H.C1), H.NOW).warnings.empty
    assert len(wq.warnings(eng, Filters(community_id=H.C2, grid_id=H.B1), H.NOW)) == 3
    only = wq.warnings(eng, Filters(categories=("盗窃",)), H.NOW)
    assert list(only["category"]) == ["盗窃"]
    # a person who may see community C1 only: the same family (the whole station), B1's warnings not shown
    scoped = wq.run(eng, Filters(scope=(H.C1,)), H.NOW)
    assert scoped.grids == wq.run(eng, Filters(), H.NOW).grids and scoped.tests == c2.tests
    assert scoped.warnings.empty
    assert len(wq.warnings(eng, Filters(scope=(H.C2,)), H.NOW)) == len(full)


@pytest.mark.backend
def test_acknowledgement_covers_its_window_only(hand):
    eng, writer = hand
    key_today = wq.warning_key("incidents", H.B1, "today", "治安")
    key_week = wq.warning_key("incidents", H.B1, "week", "治安")
    key_theft = wq.warning_key("incidents", H.B1, "week", "盗窃")
    assert key_today == f"incidents:{H.B1}:today:治安"
    entry = dict(username="zhangsan", role="commander", action=wq.ACK_ACTION, object_type=wq.ACK_OBJECT, client=None)
    with writer.begin() as conn:  # at chosen instants (audit.record stamps the real clock)
        conn.execute(
            insert(audit_log),
            [
                {**entry, "at": D("2026-11-20 05:30"), "object_id": key_today, "detail": "已通知社区民警"},  # today 13:30 local
                {**entry, "at": D("2026-11-19 15:00"), "object_id": key_week, "detail": "昨日确认"},  # 11-19 23:00 local: this week, not today
                {**entry, "at": D("2026-11-12 00:00"), "object_id": key_theft, "detail": "上周确认"},  # before the week began
            ],
        )
    w = wq.warnings(eng, Filters(), H.NOW).set_index("key")
    assert w.loc[key_today, "ack_note"] == "已通知社区民警" and w.loc[key_today, "acked_by"] == "zhangsan"
    assert w.loc[key_week, "ack_note"] == "昨日确认"
    assert w.loc[key_theft, "acked_at"] is None  # the window has moved past it
    # the same acknowledgement does not cover today's warning of tomorrow
    tomorrow = wq.warnings(eng, Filters(), H.NOW + timedelta(days=1)).set_index("key")
    assert key_today not in tomorrow.index or tomorrow.loc[key_today, "acked_at"] is None
    # written through the audit writer (the real clock): read back as the newest
    audit.record(writer, username="lisi", role="duty", action=wq.ACK_ACTION, object_type=wq.ACK_OBJECT, object_id=key_theft, detail="复核")
    acks = wq.acknowledgements(eng, D("2026-11-01 00:00"))
    assert list(acks["key"])[0] == key_theft and acks.iloc[0]["note"] == "复核" and len(acks) == 4
    assert wq.warnings(eng, Filters(), H.NOW).set_index("key").loc[key_theft, "acked_by"] == "lisi"


# --- the demo world -------------------------------------------------------------------------


@pytest.mark.backend
def test_demo_world_raises_few_warnings(world):
    """The demo world (40 grids, no outbreak planted) at the fixture's end: 1,520
    tests, 0 warnings; 9 tests have p < 0.05 and at least 3 events, which an
    uncorrected rule would all have raised."""
    r = wq.run(world, Filters(), FIXTURE_END)
    assert r.grids == 40 and r.tests > 1000
    assert len(r.warnings) <= 2

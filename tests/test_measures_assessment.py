"""量化考核 against hand-computed figures: the rules and the arithmetic
(``queries.measures.assessment``, pure) and the month per worker (``queries.assessment``)
on the hand-built world plus ``handmade.build_assessment`` (October 2026, local).

    worker     grid  base (地址/人口/房屋/单位)  reports hazards dup  disputes (resolved)  rejected  due on-time  score  rank
    W1 王小明  A1    6 (3/2/1/0)               5       3       0    2 (1)                0         4   2        16.6   2/3 (甲)
    W2 李红    A2    400 (0/400/0/0)           3       1       2    0 (0)                0         0   0        30.0   1/3
    W3 赵一    A1    0                          0       0       0    0                    0         0   0         0.0   3/3
    W4 钱二    A2    inactive, nothing: not listed
    W5 孙三    B1    10 (0/0/0/10)             4       2       1    1 (0)                1         1   1         6.0   1/3 (乙)
    W6 周四    B1    1 (1/0/0/0), inactive      0       0       0    0                    0         0   0         0.1   2/3
    W7 吴五    B1    1 (1/0/0/0)               0       0       0    0                    0         0   0         0.1   2/3

W1: 0.1×6 + 2×3 + 3×2 + 2×1 + 1×2 = 16.6. W2: min(0.1×400, 30) + 2×1 − 1×2 = 30.
W5: 0.1×10 + 2×2 + 3×1 + 1×1 − 1×1 − 2×1 = 6.0. W6 and W7 tie at 0.1 and share rank 2.
The reasons of every cell are beside the rows in tests/handmade.py.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest

from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.filters import Filters
from queries import assessment as aq
from queries.measures import assessment as am
from queries.measures import loop
from queries.measures.arithmetic import Ratio
from tests import handmade as H

OCT = date(2026, 10, 1)
EXPECTED = {
    # worker: base, (base by kind), reports, hazards, duplicates, found, resolved, rejected, due, on_time, score, rank, peers
    H.W1: (6, (3, 2, 1, 0), 5, 3, 0, 2, 1, 0, 4, 2, 16.6, 2, 3),
    H.W2: (400, (0, 400, 0, 0), 3, 1, 2, 0, 0, 0, 0, 0, 30.0, 1, 3),
    H.W3: (0, (0, 0, 0, 0), 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 3, 3),
    H.W5: (10, (0, 0, 0, 10), 4, 2, 1, 1, 0, 1, 1, 1, 6.0, 1, 3),
    H.W6: (1, (1, 0, 0, 0), 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 2, 3),
    H.W7: (1, (1, 0, 0, 0), 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 2, 3),
}
FIELDS = ["base_records", None, "reports", "hazards", "duplicates", "disputes_found", "disputes_resolved", "rejected", "feedback_due", "on_time", "score", "rank", "peers"]


# --- the rules and the arithmetic (no SQL) ---------------------------------------------------


def test_hazards_are_the_categories_ending_in_yinhuan():
    assert am.HAZARD_CATEGORIES == ("治安隐患", "消防隐患")
    assert am.is_hazard("安全隐患") and am.is_hazard(" 消防隐患 ")
    assert not am.is_hazard("矛盾纠纷") and not am.is_hazard(None) and not am.is_hazard("隐患排查记录")


def test_duplicates_same_cell_and_category_within_24_hours():
    t = datetime(2026, 10, 1)
    df = pd.DataFrame(
        [
            (1, "治安隐患", "a", t),
            (2, "治安隐患", "a", t.replace(hour=23, minute=59)),  # 23:59 later: duplicate
            (3, "治安隐患", "b", t),  # another cell
            (4, "消防隐患", "a", t),  # another category
            (5, "治安隐患", "a", datetime(2026, 10, 3)),  # 24:01 after #2: not
            (7, "消防隐患", "a", t),  # same instant as #4, higher id: duplicate
            (6, "治安隐患", "a", datetime(2026, 10, 4)),  # exactly 24 h after #5: duplicate
        ],
        columns=["id", "category", "h3", "reported_at"],
    ).sample(frac=1, random_state=3)  # any row order
    flags = am.duplicate_flags(df)
    assert dict(zip(df["id"], flags)) == {1: False, 2: True, 3: False, 4: False, 5: False, 7: True, 6: True}
    assert am.duplicate_flags(df.iloc[0:0]).empty


def test_score_weights_and_cap():
    row = dict(base_records=400, hazards=1, disputes_found=0, disputes_resolved=0, on_time=0, duplicates=2, rejected=0)
    assert am.score(row) == 30.0
    row = dict(base_records=6, hazards=3, disputes_found=2, disputes_resolved=1, on_time=2, duplicates=0, rejected=0)
    assert am.score(row) == 16.6
    assert am.score({**row, "rejected": 1, "duplicates": 1}) == pytest.approx(13.6)
    assert "至多 30 分" in am.SCORE_WORDS and "不予受理 × 2" in am.SCORE_WORDS


def test_ranks_within_each_group_ties_share_the_lowest():
    values = pd.Series([5.0, 3.0, 3.0, 1.0, 2.0, 9.0])
    groups = pd.Series([1, 1, 1, 1, 2, 2])
    assert list(am.ranks(values, groups)) == [1, 2, 2, 4, 2, 1]
    assert am.ranks(pd.Series([], dtype=float), pd.Series([], dtype=int)).empty


def test_funnel_limits_by_hand():
    # p̄ = 0.8, n = 25: standard error sqrt(0.8 × 0.2 / 25) = 0.08
    lo, hi = am.funnel_limits(0.8, 25, am.Z_95)
    assert lo == pytest.approx(0.8 - 1.959964 * 0.08) and hi == pytest.approx(0.8 + 1.959964 * 0.08)  # 0.6432, 0.9568
    lo, hi = am.funnel_limits(0.8, 25, am.Z_998)
    assert lo == pytest.approx(0.8 - 3.090232 * 0.08) and hi == 1.0  # 0.5528; 1.0472 clipped
    assert am.funnel_limits(0.8, 0, am.Z_95) == (0.0, 1.0)
    assert am.funnel_band(25, 25, 0.8) == "高于95%上限"  # 1.0 > 0.9568, not above the clipped 1.0
    assert am.funnel_band(20, 25, 0.8) == "控制限内"
    assert am.funnel_band(15, 25, 0.8) == "低于95%下限"  # 0.60 between 0.5528 and 0.6432
    assert am.funnel_band(12, 25, 0.8) == "低于99.8%下限"  # 0.48
    assert am.funnel_band(0, 2, 0.8) == "低于95%下限"  # 0.8 − 1.96 × 0.283 = 0.246 > 0; 0.8 − 3.09 × 0.283 < 0
    assert am.funnel_band(2, 2, 0.8) == "控制限内"  # few cases: 100% is not above the limits
    assert am.funnel_band(0, 0, 0.8) is None and am.funnel_band(1, 2, None) is None
    assert am.funnel_band(30, 30, 0.5) == "高于99.8%上限"  # 0.5 + 3.09 × 0.0913 = 0.782
    assert am.pooled_rate([1, 2], [2, 3]) == pytest.approx(0.6) and am.pooled_rate([], []) is None
    curve = am.funnel_curve(0.8, 25)
    assert curve["n"].iloc[0] == 1 and curve["n"].iloc[-1] == 25
    assert (curve["lo998"] <= curve["lo95"]).all() and (curve["hi95"] <= curve["hi998"]).all()


def test_month_windows_are_local_calendar_months():
    assert aq.month_window(date(2026, 10, 15)) == H.OCTOBER
    months = aq.recent_months(date(2026, 11, 20))
    assert months[0] == date(2026, 10, 1) and months[-1] == date(2025, 11, 1) and len(months) == aq.MONTHS_OFFERED
    assert aq.recent_months(date(2026, 1, 31), 2) == [date(2025, 12, 1), date(2025, 11, 1)]


# --- the month per worker, on the session's backend -------------------------------------------


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("handassess")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    H.build_assessment(writer)
    yield writer
    writer.dispose()


def _by_worker(df: pd.DataFrame) -> dict[int, tuple]:
    out = {}
    for r in df.itertuples():
        d = r._asdict()
        vals = [tuple(d[c] for c in am.KIND_COLUMNS.values()) if f is None else d[f] for f in FIELDS]
        out[int(r.worker_id)] = tuple(vals)
    return out


@pytest.mark.backend
def test_october_per_worker(engine):
    df = aq.monthly(engine, Filters(), OCT)
    assert list(df.columns) == aq.COLUMNS
    assert _by_worker(df) == EXPECTED
    assert list(df["worker_id"]) == [H.W2, H.W1, H.W3, H.W5, H.W6, H.W7]  # community, rank, worker
    assert list(df["community"]) == ["甲社区"] * 3 + ["乙社区"] * 3
    w = df.set_index("worker_id")
    assert w.loc[H.W1, "on_time_rate"] == 0.5 and w.loc[H.W1, "resolved_share"] == 0.5
    assert math.isnan(w.loc[H.W2, "on_time_rate"]) and math.isnan(w.loc[H.W2, "resolved_share"])
    assert w.loc[H.W5, "on_time_rate"] == 1.0 and w.loc[H.W5, "resolved_share"] == 0.0
    assert not w.loc[H.W6, "active"] and w.loc[H.W1, "name"] == "王小明" and w.loc[H.W2, "grid"] == "甲社区第2网格"


@pytest.mark.backend
def test_on_time_feedback_is_the_loop_measure(engine):
    """The workers' 按时反馈 add up to 按时反馈率 over the same month (every task due in
    October has a reporter), computed by ``loop.on_time_feedback_rate`` itself."""
    df = aq.monthly(engine, Filters(), OCT)
    assert loop.on_time_feedback_rate(engine, Filters(), H.OCTOBER) == Ratio(int(df["on_time"].sum()), int(df["feedback_due"].sum())) == Ratio(3, 5)


@pytest.mark.backend
def test_places_and_scope_choose_the_workers(engine):
    df = aq.monthly(engine, Filters(community_id=H.C2), OCT)
    assert list(df["worker_id"]) == [H.W5, H.W6, H.W7] and list(df["rank"]) == [1, 2, 2]
    df = aq.monthly(engine, Filters(scope=(H.C1,)), OCT)
    assert list(df["worker_id"]) == [H.W2, H.W1, H.W3]
    df = aq.monthly(engine, Filters(grid_id=H.A2), OCT)  # W4 is inactive and has nothing
    assert list(df["worker_id"]) == [H.W2] and list(df["rank"]) == [1] and list(df["peers"]) == [1]
    assert aq.monthly(engine, Filters(community_id=H.C2, scope=(H.C1,)), OCT).empty


@pytest.mark.backend
def test_september_by_local_time(engine):
    """09-30 15:00 UTC is 23:00 local: September's. W1's base record, W5's report 108 and
    task 105 (due 09-30 23:00 local, feedback at 22:00) fall in it."""
    w = aq.monthly(engine, Filters(), date(2026, 9, 1)).set_index("worker_id")
    assert (w.loc[H.W1, "base_records"], w.loc[H.W1, "score"]) == (1, 0.1)
    assert tuple(w.loc[H.W5, ["reports", "hazards", "duplicates", "feedback_due", "on_time", "score"]]) == (1, 0, 0, 1, 1, 1.0)
    assert set(w.index) == {H.W1, H.W2, H.W3, H.W5, H.W7}  # W6 inactive with nothing in September

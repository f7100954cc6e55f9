"""The 矛盾纠纷 page's measures and queries against hand-computed figures.

The world is tests/handmade.py (its four disputes d1–d4 unchanged) plus the
disputes d10–d16 and three mediation steps inserted below, in a database of
this module's own. "now" is H.NOW = 2026-11-20 06:30 UTC; the month window
H.MONTH is [2026-10-31 16:00, now) (1 Nov 00:00 local .. now).

    id  grid  kind  found        level status  closed        visit due    visited (satisfied)
    d1  A1    邻里  11-01 00:00  1     化解    11-05 00:00   —            11-12 00:00 (yes)
    d2  A2    邻里  11-02 00:00  3     未化解  11-06 00:00   —            —
    d3  B1    邻里  10-01 00:00  1     化解    10-15 00:00   —            11-03 00:00 (yes)
    d4  B1    邻里  11-15 00:00  1     调处中  —
    d10 A1    婚姻  11-03 00:00  2     化解    11-08 00:00   11-15 00:00  —
    d11 A2    物业  11-10 00:00  1     化解    11-14 00:00   11-21 00:00  —
    d12 B1    邻里  11-12 00:00  3     化解    11-18 00:00   11-25 00:00  11-19 00:00 (no)
    d13 B1    劳资  11-16 00:00  1     化解    11-19 12:00   11-30 00:00  —
    d14 A1    邻里  11-18 00:00  2     调处中  —
    d15 B1    其他  10-20 00:00  1     化解    10-25 00:00   11-01 00:00  11-20 07:00 (yes), after now
    d16 A2    邻里  11-20 07:00  1     调处中  —   (found after now)
    d17 B1    消费  10-28 00:00  1     化解    11-02 00:00   11-09 00:00  11-05 00:00 (yes)  (found before the month, closed in it)
    d18 B1    邻里  2025-06-01   1     化解    2025-06-10    —            —   the disputes table's first record, in no
                                                                         window: every 同比/环比 base below is covered

Communities: C1 = grids A1, A2; C2 = grid B1.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard.config import load_settings
from dashboard.db.database import make_reader, make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import disputes as disputes_t
from dashboard.db.schema import mediation_steps
from dashboard.filters import Filters
from queries import disputes
from queries.measures import mediation
from queries.measures.arithmetic import Ratio
from tests import handmade as H

pytestmark = pytest.mark.backend

D = H.D
ALL = Filters()
C1 = Filters(community_id=H.C1)
C2 = Filters(community_id=H.C2)
B1 = Filters(grid_id=H.B1)
MONTH_F = Filters(period="month")


@pytest.fixture(scope="module")
def engine(scratch):
    url = scratch.new("handdisp")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    base = dict(h3="x", parties=2, summary="测试纠纷，联系电话13812345678")
    rows = [
        dict(id=10, grid_id=H.A1, kind="婚姻家庭", found_at=D("2026-11-03 00:00"), level=2, status="化解", closed_at=D("2026-11-08 00:00"), visit_due_at=D("2026-11-15 00:00")),
        dict(id=11, grid_id=H.A2, kind="物业纠纷", found_at=D("2026-11-10 00:00"), level=1, status="化解", closed_at=D("2026-11-14 00:00"), visit_due_at=D("2026-11-21 00:00")),
        dict(id=12, grid_id=H.B1, kind="邻里纠纷", found_at=D("2026-11-12 00:00"), level=3, status="化解", closed_at=D("2026-11-18 00:00"), visit_due_at=D("2026-11-25 00:00"), visited_at=D("2026-11-19 00:00"), satisfied=False),
        dict(id=13, grid_id=H.B1, kind="劳资纠纷", found_at=D("2026-11-16 00:00"), level=1, status="化解", closed_at=D("2026-11-19 12:00"), visit_due_at=D("2026-11-30 00:00")),
        dict(id=14, grid_id=H.A1, kind="邻里纠纷", found_at=D("2026-11-18 00:00"), level=2, status="调处中"),
        dict(id=15, grid_id=H.B1, kind="其他纠纷", found_at=D("2026-10-20 00:00"), level=1, status="化解", closed_at=D("2026-10-25 00:00"), visit_due_at=D("2026-11-01 00:00"), visited_at=D("2026-11-20 07:00"), satisfied=True),
        dict(id=16, grid_id=H.A2, kind="邻里纠纷", found_at=D("2026-11-20 07:00"), level=1, status="调处中"),
        dict(id=17, grid_id=H.B1, kind="消费纠纷", found_at=D("2026-10-28 00:00"), level=1, status="化解", closed_at=D("2026-11-02 00:00"), visit_due_at=D("2026-11-09 00:00"), visited_at=D("2026-11-05 00:00"), satisfied=True),
        dict(id=18, grid_id=H.B1, kind="邻里纠纷", found_at=D("2025-06-01 00:00"), level=1, status="化解", closed_at=D("2025-06-10 00:00")),
    ]
    steps = [
        dict(id=1, dispute_id=12, level=1, mediator="网格员 王小明", started_at=D("2026-11-12 01:00"), ended_at=D("2026-11-13 00:00"), outcome="升级"),
        dict(id=2, dispute_id=12, level=2, mediator="社区民警 张警官", started_at=D("2026-11-13 00:00"), ended_at=D("2026-11-15 00:00"), outcome="升级"),
        dict(id=3, dispute_id=12, level=3, mediator="司法所 李四", started_at=D("2026-11-15 00:00"), ended_at=D("2026-11-18 00:00"), outcome="化解"),
    ]
    with writer.begin() as conn:
        c = H._Conn(conn)
        c.execute(insert(disputes_t), [{**base, **r} for r in rows])
        c.execute(insert(mediation_steps), steps)
    writer.dispose()
    eng = make_reader(load_settings({"DATABASE_URL": url}))
    yield eng
    eng.dispose()


def _pairs(df: pd.DataFrame) -> dict:
    return {g: (int(n), int(d)) for g, n, d in zip(df["group"], df["numerator"], df["denominator"])}


# --- grouped 化解率 / 满意率 -------------------------------------------------------------------


def test_resolution_rate_by_place_and_kind(engine):
    # closed in the month: d1 化解, d2 未化解, d10, d11 (C1); d12, d13, d17 (C2; d17 found in October);
    # d3 and d15 closed in October
    assert _pairs(mediation.resolution_rate_by(engine, ALL, H.MONTH, "community")) == {H.C1: (3, 4), H.C2: (3, 3)}
    assert _pairs(mediation.resolution_rate_by(engine, ALL, H.MONTH, "grid")) == {H.A1: (2, 2), H.A2: (1, 2), H.B1: (3, 3)}
    # kinds: 邻里 d1 化解, d2 未化解, d12 化解; 婚姻 d10; 物业 d11; 劳资 d13; 消费 d17
    assert _pairs(mediation.resolution_rate_by(engine, ALL, H.MONTH, "kind")) == {
        "邻里纠纷": (2, 3), "婚姻家庭": (1, 1), "物业纠纷": (1, 1), "劳资纠纷": (1, 1), "消费纠纷": (1, 1),
    }
    assert _pairs(mediation.resolution_rate_by(engine, C1, H.MONTH, "grid")) == {H.A1: (2, 2), H.A2: (1, 2)}
    by = mediation.resolution_rate_by(engine, ALL, H.MONTH, "community").set_index("group")
    assert by.loc[H.C1, "rate"] == pytest.approx(0.75)


def test_satisfaction_rate_by_place(engine):
    # visits in the month: d1 yes (C1), d3 yes (closed in October), d12 no, d17 yes (C2); d15's visit comes after now
    assert _pairs(mediation.dispute_satisfaction_rate_by(engine, ALL, H.MONTH, "community")) == {H.C1: (1, 1), H.C2: (2, 3)}
    assert _pairs(mediation.dispute_satisfaction_rate_by(engine, B1, H.MONTH, "grid")) == {H.B1: (2, 3)}


@pytest.mark.parametrize("f", [ALL, C1, C2, B1], ids=["all", "C1", "C2", "B1"])
@pytest.mark.parametrize("window", [H.MONTH, (D("2026-10-01 00:00"), H.NOW), (D("2020-01-01 00:00"), D("2020-02-01 00:00"))], ids=["month", "oct-now", "empty"])
def test_grouped_rates_add_up_to_the_scalar(engine, f, window):
    for measure, scalar in (("resolution", mediation.resolution_rate), ("satisfaction", mediation.dispute_satisfaction_rate)):
        whole = scalar(engine, f, window)
        one = mediation.dispute_ratio_by(engine, f, window, measure, None)
        assert Ratio(int(one["numerator"][0]), int(one["denominator"][0])) == whole
        for by in mediation.DISPUTE_GROUPS:
            parts = mediation.dispute_ratio_by(engine, f, window, measure, by)
            assert Ratio(int(parts["numerator"].sum()), int(parts["denominator"].sum())) == whole, (measure, by)


def test_overall_figures_by_hand(engine):
    assert mediation.resolution_rate(engine, ALL, H.MONTH) == Ratio(6, 7)
    assert mediation.dispute_satisfaction_rate(engine, ALL, H.MONTH) == Ratio(3, 4)
    empty = mediation.dispute_ratio_by(engine, ALL, (D("2020-01-01"), D("2020-02-01")), "resolution", None)
    assert int(empty["denominator"][0]) == 0 and pd.isna(empty["rate"][0])


def test_bad_group_or_measure(engine):
    with pytest.raises(ValueError):
        mediation.dispute_ratio_by(engine, ALL, H.MONTH, "resolution", "street")
    with pytest.raises(ValueError):
        mediation.dispute_ratio_by(engine, ALL, H.MONTH, "happiness", None)


# --- snapshots: 调处中 and 回访待办 --------------------------------------------------------------


def test_open_at_an_instant(engine):
    # now: d4 and d14; d16 is found after now (the status column still says 调处中)
    assert disputes.open_at(engine, ALL, H.NOW) == 2
    assert disputes.open_count(engine, ALL) == 3
    # 17 Nov 00:00: d4 (found 15th), d12 (closed 18th), d13 (closed 19th)
    assert disputes.open_at(engine, ALL, D("2026-11-17 00:00")) == 3
    assert disputes.open_at(engine, C1, D("2026-11-17 00:00")) == 0


def test_visit_backlog(engine):
    # now + 7 days = 11-27 06:30: d10 (due 15th, overdue), d15 (due 1st, visited only after now: overdue),
    # d11 (due 21st, upcoming); d12 and d17 visited; d13 due 30th, beyond the horizon; d1–d3 have no due date
    assert mediation.visit_backlog(engine, ALL, H.NOW) == mediation.VisitBacklog(3, 2)
    assert mediation.visit_backlog(engine, ALL, H.NOW, 0) == mediation.VisitBacklog(2, 2)
    assert mediation.visit_backlog(engine, C1, H.NOW) == mediation.VisitBacklog(2, 1)
    assert mediation.visit_backlog(engine, B1, H.NOW) == mediation.VisitBacklog(1, 1)
    # 10 Nov 00:00: closed by then d10 (due 15th, upcoming) and d15 (overdue); d17 visited on the 5th
    assert mediation.visit_backlog(engine, ALL, D("2026-11-10 00:00")) == mediation.VisitBacklog(2, 1)


def test_visits_due_list_puts_overdue_first(engine):
    df = disputes.visits_due(engine, ALL, H.NOW)
    # overdue, most recently due first (d10 due 15th, d15 due 1st), then upcoming (d11)
    assert df["id"].tolist() == [10, 15, 11]
    assert df["overdue"].tolist() == [True, True, False]
    assert set(df.columns) >= {"kind", "community", "grid", "summary", "status", "closed_at", "visit_due_at"}
    assert disputes.visits_due(engine, ALL, H.NOW, limit=1)["id"].tolist() == [10, 11]
    assert disputes.visits_due(engine, C2, H.NOW)["id"].tolist() == [15]
    assert disputes.visits_due(engine, ALL, D("2020-01-01")).empty


# --- counts, kinds and levels ------------------------------------------------------------------


def test_found_and_escalated_counts(engine):
    # found in the month: d1, d2, d4, d10, d11, d12, d13, d14 (d3, d15, d17 in October; d16 after now)
    assert disputes.found_count(engine, ALL, H.MONTH) == 8
    assert disputes.found_count(engine, C1, H.MONTH) == 5
    # level 3: d2, d12
    assert disputes.escalated_count(engine, ALL, H.MONTH) == 2
    assert disputes.escalated_count(engine, C1, H.MONTH) == 1


def test_by_kind_level(engine):
    df = disputes.by_kind_level(engine, ALL, H.MONTH)
    got = {(k, lv, s): n for k, lv, s, n in zip(df["kind"], df["level"], df["status"], df["n"])}
    assert got == {
        ("邻里纠纷", 1, "调处中"): 1,  # d4
        ("邻里纠纷", 1, "化解"): 1,  # d1
        ("邻里纠纷", 2, "调处中"): 1,  # d14
        ("邻里纠纷", 3, "化解"): 1,  # d12
        ("邻里纠纷", 3, "未化解"): 1,  # d2
        ("婚姻家庭", 2, "化解"): 1,  # d10
        ("物业纠纷", 1, "化解"): 1,  # d11
        ("劳资纠纷", 1, "化解"): 1,  # d13
    }
    # kinds in DISPUTE_KINDS order, statuses in DISPUTE_STATUSES order
    assert df["kind"].tolist()[:5] == ["邻里纠纷"] * 5 and df["kind"].tolist()[5:] == ["婚姻家庭", "物业纠纷", "劳资纠纷"]
    assert df["status"].tolist()[:2] == ["调处中", "化解"]
    assert set(df["level_name"]) == {"网格员", "社区民警", "司法所/律师/人民调解员"}


def test_level_funnel(engine):
    fun = disputes.level_funnel(engine, ALL, H.MONTH).set_index("level")
    # closed in the month (化解率's population): level 1 d1, d11, d13, d17 化解 (d17 found in October);
    # level 2 d10 化解; level 3 d2 未化解, d12 化解. Found in the month and still open at its end:
    # d4 (level 1), d14 (level 2); d16 is found after now
    assert fun.loc[1, ["reached", "resolved", "unresolved", "open", "escalated"]].tolist() == [9, 4, 0, 1, 4]
    assert fun.loc[2, ["reached", "resolved", "unresolved", "open", "escalated"]].tolist() == [4, 1, 0, 1, 2]
    assert fun.loc[3, ["reached", "resolved", "unresolved", "open", "escalated"]].tolist() == [2, 1, 1, 0, 0]
    # the 化解 stage is the 化解率 tile's numerator, 化解 + 未化解 its denominator: 6/7
    assert mediation.resolution_rate(engine, ALL, H.MONTH) == Ratio(int(fun["resolved"].sum()), int(fun["resolved"].sum() + fun["unresolved"].sum()))
    # judged as the window stood at its end: d13 (closed 11-19 12:00) was still open on 11-19 at 00:00
    early = disputes.level_funnel(engine, ALL, (H.MONTH[0], D("2026-11-19 00:00"))).set_index("level")
    assert early.loc[1, ["resolved", "open"]].tolist() == [3, 2]
    empty = disputes.level_funnel(engine, ALL, (D("2020-01-01"), D("2020-02-01")))
    assert len(empty) == 3 and int(empty["reached"].sum()) == 0
    # 基层化解占比: resolved at level 1 or 2 (d1 d11 d13 d17; d10) / resolved (and d12 at level 3)
    assert disputes.grassroots_resolution(disputes.level_funnel(engine, ALL, H.MONTH)) == Ratio(5, 6)
    assert disputes.grassroots_resolution(empty) == Ratio(0, 0) and disputes.grassroots_resolution(empty).value is None


def test_kind_totals(engine):
    kinds = disputes.kind_totals(disputes.by_kind_level(engine, ALL, H.MONTH))
    # 邻里纠纷 d4 d1 d14 d12 d2 (d12 and d2 at level 3); the rest one each, in the station's order
    assert kinds.values.tolist() == [["邻里纠纷", 5, 2], ["婚姻家庭", 1, 0], ["物业纠纷", 1, 0], ["劳资纠纷", 1, 0]]
    assert disputes.kind_totals(disputes.by_kind_level(engine, ALL, (D("2020-01-01"), D("2020-02-01")))).empty


def test_escalated_list_and_steps(engine):
    df = disputes.escalated(engine, ALL, H.MONTH)
    assert df["id"].tolist() == [12, 2]  # newest first
    assert df["steps"].tolist() == ["网格员 → 社区民警 → 司法所（化解）", ""]  # d2 has no steps recorded
    assert "李四" not in " ".join(df["steps"])  # names never go into the chain
    assert disputes.escalated(engine, ALL, H.MONTH, limit=1)["id"].tolist() == [12]
    assert disputes.escalated(engine, C2, (D("2020-01-01"), D("2020-02-01"))).empty


def test_detail(engine):
    d = disputes.detail(engine, 12)
    assert d is not None
    assert d.dispute["kind"] == "邻里纠纷" and d.dispute["status"] == "化解" and d.dispute["community_id"] == H.C2
    assert d.dispute["visited_at"] == D("2026-11-19 00:00") and d.dispute["satisfied"] is not None and not d.dispute["satisfied"]
    assert d.dispute["report_id"] is None and d.dispute["closed_at"] == D("2026-11-18 00:00")
    assert d.steps["level"].tolist() == [1, 2, 3]
    assert d.steps["outcome"].tolist() == ["升级", "升级", "化解"]
    assert d.steps["level_name"].tolist()[2] == "司法所/律师/人民调解员"
    assert disputes.detail(engine, 14).steps.empty
    assert disputes.detail(engine, 999999) is None
    assert disputes.detail(engine, 999999999999) is None  # beyond INTEGER: no database error on PostgreSQL
    assert disputes.detail(engine, 0) is None


def test_rates_by_place(engine):
    df = disputes.rates_by_place(engine, ALL, H.MONTH, "community").set_index("place_id")
    assert df.index.tolist() == [H.C1, H.C2]
    # C1 found d1, d2, d10, d11, d14; C2 found d4, d12, d13 (closed d12, d13, d17; visited d3, d12, d17)
    assert df.loc[H.C1, ["found", "resolved", "closed", "satisfied", "visits"]].tolist() == [5, 3, 4, 1, 1]
    assert df.loc[H.C2, ["found", "resolved", "closed", "satisfied", "visits"]].tolist() == [3, 3, 3, 2, 3]
    grids_ = disputes.rates_by_place(engine, C1, H.MONTH, "grid").set_index("place_id")
    assert grids_.index.tolist() == [H.A1, H.A2]
    assert grids_.loc[H.A2, ["found", "resolved", "closed", "visits"]].tolist() == [2, 1, 2, 0]
    assert pd.isna(grids_.loc[H.A2, "satisfaction_rate"]) and grids_.loc[H.A2, "resolution_rate"] == pytest.approx(0.5)
    empty = disputes.rates_by_place(engine, ALL, (D("2020-01-01"), D("2020-02-01")), "community")
    assert len(empty) == 2 and int(empty["closed"].sum()) == 0
    with pytest.raises(ValueError):
        disputes.rates_by_place(engine, ALL, H.MONTH, "kind")


def test_kpis_by_hand(engine):
    k = {x.key: x for x in disputes.kpis(engine, MONTH_F, H.MONTH, H.NOW)}
    assert [x.label for x in disputes.kpis(engine, MONTH_F, H.MONTH, H.NOW)] == ["新发现纠纷", "调处中", "本月化解率", "本月满意率", "升级至三级", "回访待办"]
    # 环比 window of 本月: 1–20 Oct 14:30 local = [09-30 16:00, 10-20 06:30): found d3, d15; closed d3 (化解)
    assert k["found"].compared.value == 8 and k["found"].compared.pop_base == 2 and k["found"].compared.pop == pytest.approx(3.0)
    assert k["found"].compared.yoy is None  # nothing last year: "—"
    assert k["resolution"].compared.value == pytest.approx(6 / 7) and k["resolution"].detail == "6/7" and k["resolution"].alarm
    assert k["resolution"].compared.pop == pytest.approx(6 / 7 - 1.0)
    assert k["satisfaction"].compared.value == pytest.approx(3 / 4) and k["satisfaction"].alarm
    assert k["escalated"].compared.value == 2
    # snapshots: now vs 10-20 06:30 (now moved back as far as the 环比 window): d15 open then, no visits due
    assert k["open"].compared.value == 2 and k["open"].compared.pop_base == 1
    assert k["visits"].compared.value == 3 and k["visits"].detail == "超期 2" and k["visits"].alarm
    assert k["visits"].compared.pop_base == 0 and k["visits"].compared.pop is None


@pytest.mark.parametrize(
    "mediator, unit",
    [
        ("司法所 李四", "司法所"),
        ("人民调解员 张 三", "人民调解员"),
        ("社区民警 林清俊", "社区民警"),
        ("律师 王 五", "律师"),  # the last space splits the name, not the unit
        ("欧阳 娜娜", "司法所/律师/人民调解员"),  # a name with a space is no unit: the level's name
        ("张三", "司法所/律师/人民调解员"),
        (None, "司法所/律师/人民调解员"),
    ],
)
def test_step_unit_never_shows_a_name(mediator, unit):
    assert disputes.step_unit(3, mediator) == unit

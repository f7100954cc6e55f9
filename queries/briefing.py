"""领导汇报, the leadership briefing: one period's figures for a station, a community or a grid.

Nothing here is measured anew: every figure is taken from the function that
draws it on a desk page, with the same filters, so the briefing and the pages
agree by construction (and tests/test_briefing.py checks that they do):

* headline: 警情总数 (警情趋势's ``incidents.by_category_compared`` total),
  网格上报 (``reports.count`` by ``windows.Periods``), the 派单队列 tiles
  (``dispatch.loop_kpis``), the 矛盾纠纷 tiles (``disputes.kpis``) and the
  巡逻覆盖 tiles (``patrol.kpis``, all shifts);
* categories: ``incidents.by_category_compared``;
* the dispatch loop: ``dispatch.loop_by`` by department and by community, and
  what is overdue now (``dispatch.overdue_by``);
* disputes against the station's targets: ``disputes.rates_by_place``;
* patrol coverage by shift (白班, 黑班): ``patrol.kpis`` on ``hotspots.summarize_coverage``;
* the grids under early warning now: ``warning.run``.

The words (the summary paragraph) and the files (PDF, HTML, Excel) are made
above this layer (``dashboard.printout``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import station, timeutil
from dashboard.filters import Filters, period_name, place_label
from queries import dispatch, disputes, incidents, overview, patrol, places, reports, warning
from queries._common import Window
from queries.kpi import Kpi
from queries.measures import hotspots, loop, windows

# Shifts of the patrol section, in order: all day, day shift, night shift (patrol.SHIFT_LABELS).
SHIFTS: tuple[str | None, ...] = (None, "白", "黑")
# The categories called out as rising or falling most, each way.
MOVERS = 3


@dataclass(frozen=True)
class Movers:
    """The categories that rose or fell most against one base.

    ``basis`` is "yoy" (同比) or "pop" (环比): 同比 where the data cover last
    year, else 环比, else None (nothing to compare). ``rose``/``fell``: rows
    of ``CategoryComparison.frame()`` (with ``diff``, the change in 起),
    largest change first, at most MOVERS each, zero changes left out.
    """

    basis: str | None
    rose: pd.DataFrame
    fell: pd.DataFrame


@dataclass(frozen=True)
class Briefing:
    """One briefing, made at ``now`` for a period (``first``..``last``, local days)
    and a place; the window is the period's, cut at ``now``. Nothing of the
    person's scope is kept: it narrows the figures, as on every page, and two
    filters that give the same figures give the same briefing."""

    first: date
    last: date
    now: datetime
    window: Window
    station: str  # the station's name (or the names, several stations in scope)
    place: str  # 全辖区, a community or a grid
    period: str  # the period's label ("上月 · 2026-11")
    headline: tuple[Kpi, ...]
    categories: incidents.CategoryComparison
    movers: Movers
    trend: overview.DailyTrend
    loop: tuple[Kpi, ...]
    loop_by_department: pd.DataFrame
    loop_by_community: pd.DataFrame
    overdue_by_department: pd.DataFrame  # dispatch.overdue_by at now, keyed as loop_by (overdue_as_loop)
    overdue_by_community: pd.DataFrame
    close_times: loop.CloseTimes  # of the tasks closed in the period (派单队列's 处置时长)
    dispute_kpis: tuple[Kpi, ...]
    disputes_by_community: pd.DataFrame
    targets: station.Targets
    patrol: dict[str | None, tuple[Kpi, ...]]  # shift → the 巡逻覆盖 tiles
    patrol_clipped: bool  # the period begins before the stored tracks
    warnings: pd.DataFrame  # warning.COLUMNS
    warning_tests: int
    density: pd.DataFrame  # overview.grid_density: the map

    def kpi(self, key: str) -> Kpi:
        """A headline tile by key (KeyError when it is not there)."""
        return next(k for k in self.headline if k.key == key)


def movers(comp: incidents.CategoryComparison) -> Movers:
    """``Movers`` of a category comparison: the change in 起 against 同比's base
    where it is covered, else 环比's."""
    df = comp.frame()
    basis = "yoy" if comp.yoy_complete else "pop" if comp.pop_complete else None
    if basis is None or df.empty:
        empty = df.iloc[0:0].assign(diff=pd.Series(dtype=int))
        return Movers(basis, empty, empty)
    base = "n_last_year" if basis == "yoy" else "n_previous"
    df = df.assign(diff=df["n"].astype(int) - pd.to_numeric(df[base]).fillna(0).astype(int))
    rose = df[df["diff"] > 0].sort_values(["diff", "category"], ascending=[False, True]).head(MOVERS)
    fell = df[df["diff"] < 0].sort_values(["diff", "category"], ascending=[True, True]).head(MOVERS)
    return Movers(basis, rose.reset_index(drop=True), fell.reset_index(drop=True))


def overdue_as_loop(od: pd.DataFrame) -> pd.DataFrame:
    """``dispatch.overdue_by(..., "department")`` with the officers' and the unheld
    tasks under ``dispatch.loop_by``'s keys and names (``loop.UNIT_OFFICER`` 社区民警,
    ``loop.UNIT_NONE`` 未派发), so the two join on (key, group) into one row each:
    overdue_by writes them as OFFICERS_KEY (-1) and UNASSIGNED_KEY (-2, 未指派)."""
    if od.empty:
        return od
    out = od.copy()
    officers, unheld = out["key"] == dispatch.OFFICERS_KEY, out["key"] == dispatch.UNASSIGNED_KEY
    out.loc[officers, ["key", "group"]] = [loop.UNIT_OFFICER, "社区民警"]
    out.loc[unheld, ["key", "group"]] = [loop.UNIT_NONE, "未派发"]
    return out


def names(engine: Engine, f: Filters) -> tuple[str, str]:
    """(the station's name, the place in words) for the briefing's title.

    The station is the one the place belongs to; for the whole district, the
    stations in scope (three names, then 等). The place is the pages' scope
    label (``filters.place_label``), a grid prefixed with its community unless its
    name already says it ("东湖社区第1网格")."""
    cat = places.catalogue(engine)
    place = place_label(cat, f)
    grid = cat.by_id("grid", f.grid_id)
    community = cat.by_id("community", grid.parent_id if grid else f.community_id)
    if grid and community and not grid.name.startswith(community.name):
        place = f"{community.name} · {place}"
    home = cat.by_id("station", community.parent_id if community else f.station_id)
    if home is not None:
        return home.name, place
    stations = [s.name for s in cat.stations]
    return ("、".join(stations[:3]) + ("等" if len(stations) > 3 else "") if stations else "—"), place


def briefing(engine: Engine, f: Filters, now: datetime | None = None) -> Briefing:
    """The briefing of ``f``'s places and period at ``now`` (naive UTC).

    ``f`` must have a period with dates (``Filters.with_period``). Counts are
    of the period (cut at ``now``); 当前 figures (待派单, 处置中, 超期, 调处中,
    预警) are at ``now``, as on the pages.
    """
    now = now or timeutil.utcnow()
    w = f.window(now)
    if w is None:
        raise ValueError("the briefing needs a period with dates (Filters.with_period)")
    places_only = f.places_only()
    comp = incidents.by_category_compared(engine, f, w, f.period)
    p = windows.periods(w, f.period, now)
    since = windows.feed_starts(engine)
    report_n = p.compare(lambda win: reports.count(engine, places_only, win), since.reports)
    loop_kpis = tuple(dispatch.loop_kpis(engine, f, now))
    dispute_kpis = tuple(disputes.kpis(engine, f, w, now))

    first = hotspots.patrol_track_start(engine)
    wins = patrol.comparison_windows(w, f.period, first)

    def pieces(win: Window | None) -> pd.DataFrame | None:
        return None if win is None else hotspots.coverage_pieces(engine, f, win)

    cur, prev, ly = pieces(wins.current), pieces(wins.previous), pieces(wins.last_year)
    on_duty = patrol.on_duty_compared(engine, f, now)

    def summary(pc: pd.DataFrame | None, shift: str | None) -> hotspots.PatrolCoverage | None:
        return None if pc is None else hotspots.summarize_coverage(pc, shift)

    patrol_kpis = {
        s: tuple(patrol.kpis(summary(cur, s), summary(prev, s), summary(ly, s), on_duty, w, f.period)) for s in SHIFTS
    }
    run = warning.run(engine, f, now)
    by_key = {k.key: k for k in (*loop_kpis, *dispute_kpis, *patrol_kpis[None])}
    headline = (
        Kpi("incidents", "警情总数", "count", comp.total),
        Kpi("reports", "网格上报", "count", report_n, higher_is_better=None),
        by_key["closure"],
        by_key["on_time"],
        by_key["found"],
        by_key["resolution"],
        by_key["hot_coverage"],
        by_key["overdue"],
    )
    od = overdue_as_loop(dispatch.overdue_by(engine, places_only, now, "department"))
    title_station, place = names(engine, f)
    return Briefing(
        first=f.start,
        last=f.end,
        now=now,
        window=w,
        station=title_station,
        place=place,
        period=period_name(f.period, f.start, f.end),
        headline=headline,
        categories=comp,
        movers=movers(comp),
        trend=overview.period_trend(engine, f, now),
        loop=loop_kpis,
        loop_by_department=dispatch.loop_by(engine, places_only, w, "department"),
        loop_by_community=dispatch.loop_by(engine, places_only, w, "community"),
        overdue_by_department=od,
        close_times=loop.time_to_close(engine, places_only, w),
        overdue_by_community=dispatch.overdue_by(engine, places_only, now, "community"),
        dispute_kpis=dispute_kpis,
        disputes_by_community=disputes.rates_by_place(engine, f, w, "community"),
        targets=station.current().targets,
        patrol=patrol_kpis,
        patrol_clipped=wins.clipped,
        warnings=run.warnings,
        warning_tests=run.tests,
        density=overview.grid_density(engine, f, now),
    )

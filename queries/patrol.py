"""Patrols (巡逻): shifts and their GPS points."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from dashboard.db.schema import patrol_points, patrol_shifts, patrol_teams
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries.kpi import Kpi
from queries.measures import arithmetic, hotspots, windows

# A shift counts as present in an area when it sent a GPS point there this recently.
PRESENCE_WINDOW = timedelta(minutes=30)


def on_duty_count(engine: Engine, f: Filters, at: datetime) -> int:
    """Patrol shifts on duty at ``at`` with a GPS point in the filtered area in the
    half hour before it. Grain: one number."""
    pts = apply_filters(
        select(patrol_points.c.shift_id).distinct(),
        f,
        grid_col=patrol_points.c.grid_id,
        time_col=patrol_points.c.at,
        window=(at - PRESENCE_WINDOW, at + timedelta(seconds=1)),
    ).subquery()
    stmt = (
        select(func.count())
        .select_from(patrol_shifts.join(pts, pts.c.shift_id == patrol_shifts.c.id))
        .where(patrol_shifts.c.started_at <= at, or_(patrol_shifts.c.ended_at.is_(None), patrol_shifts.c.ended_at > at))
    )
    return int(fetch_one(engine, stmt)[0])


LIVE_COLUMNS = ["shift_id", "team", "kind", "shift", "at", "lat", "lon", "grid_id"]


def live_positions(engine: Engine, f: Filters, at: datetime) -> pd.DataFrame:
    """Where the patrols are now: the latest GPS point of each shift on duty at
    ``at`` among its points in the filtered area in the half hour before
    (``PRESENCE_WINDOW``, as ``on_duty_count``: one row per shift it counts).

    Grain: one row per shift, ordered by team name. Columns: shift_id, team
    (team name), kind (PATROL_TEAM_KINDS), shift (白/黑), at (naive UTC time of
    the point), lat, lon, grid_id (the grid the point falls in).
    """
    rank = func.row_number().over(partition_by=patrol_points.c.shift_id, order_by=(patrol_points.c.at.desc(), patrol_points.c.id.desc()))
    pts = apply_filters(
        select(
            patrol_points.c.shift_id, patrol_points.c.at, patrol_points.c.lat, patrol_points.c.lon, patrol_points.c.grid_id,
            rank.label("rk"),
        ),
        f,
        grid_col=patrol_points.c.grid_id,
        time_col=patrol_points.c.at,
        window=(at - PRESENCE_WINDOW, at + timedelta(seconds=1)),
    ).subquery("pts")
    stmt = (
        select(
            pts.c.shift_id, patrol_teams.c.name.label("team"), patrol_teams.c.kind, patrol_shifts.c.shift,
            pts.c.at, pts.c.lat, pts.c.lon, pts.c.grid_id,
        )
        .select_from(
            pts.join(patrol_shifts, patrol_shifts.c.id == pts.c.shift_id).join(patrol_teams, patrol_teams.c.id == patrol_shifts.c.team_id)
        )
        .where(pts.c.rk == 1, patrol_shifts.c.started_at <= at, or_(patrol_shifts.c.ended_at.is_(None), patrol_shifts.c.ended_at > at))
        .order_by(patrol_teams.c.name, pts.c.shift_id)
    )
    df = fetch_df(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=LIVE_COLUMNS)
    df["at"] = pd.to_datetime(df["at"])
    return df[LIVE_COLUMNS]


def visited_cells(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """H3 cells (res 9) patrols passed through. Grain: one row per cell.

    Columns: h3, points (GPS points in the cell), shifts (distinct shifts).
    """
    stmt = apply_filters(
        select(
            patrol_points.c.h3,
            func.count().label("points"),
            func.count(patrol_points.c.shift_id.distinct()).label("shifts"),
        ),
        f,
        grid_col=patrol_points.c.grid_id,
        time_col=patrol_points.c.at,
        window=window,
    )
    return fetch_df(engine, stmt.group_by(patrol_points.c.h3).order_by(patrol_points.c.h3))


# --- patrol coverage page (巡逻覆盖) -------------------------------------------------
# The measures (hot pieces, 热点覆盖率, patrol minutes and the shares) are defined
# in queries.measures.hotspots; what follows shapes them for the page. The page fetches
# ``hotspots.coverage_pieces`` once per window (one GROUP BY over the GPS points,
# all shifts at once) and everything below is arithmetic on those aggregated rows.

SHIFT_LABELS: dict[str | None, str] = {None: "全部", "白": "白班", "黑": "黑班"}
SHIFT_HOURS_LABEL: dict[str | None, str] = {None: "全天", "白": "08:00–20:00", "黑": "20:00–次日08:00"}
RANKING_LIMIT = 200


@dataclass(frozen=True)
class PatrolWindows:
    """The windows of the coverage figures and their 环比/同比 bases.

    ``current`` is the tracked part of the window (None: no track data in it);
    ``previous``/``last_year`` are None when the tracks do not reach back to
    their start (their change shows "—"); ``clipped`` says the window begins
    before the stored tracks (``track_start``).
    """

    window: Window | None
    current: Window | None
    previous: Window | None
    last_year: Window | None
    clipped: bool
    track_start: datetime | None


def comparison_windows(window: Window | None, period: str | None, track_start: datetime | None) -> PatrolWindows:
    """Which windows to measure for a page period: ``windows.periods(window,
    period)``, its bases kept only where the stored tracks cover them
    (``Periods.covered``) and the window itself is not clipped. Grain: one PatrolWindows."""
    current = hotspots.tracked_window(window, track_start)
    if window is None or current is None:
        return PatrolWindows(window, None, None, None, bool(window and track_start and window[0] < track_start), track_start)
    p = windows.periods(window, period)
    clipped = current[0] > window[0]
    yoy_ok, pop_ok = p.covered(track_start)
    return PatrolWindows(
        window,
        current,
        p.previous if not clipped and pop_ok else None,
        p.last_year if not clipped and yoy_ok else None,
        clipped,
        track_start,
    )


def on_duty_compared(engine: Engine, f: Filters, at: datetime) -> arithmetic.Compared:
    """在岗巡逻 at ``at`` (``on_duty_count``) against the snapshot instants of the
    filter's period (``windows.periods_of(f, at)``: the same instant last year
    and one period back); an instant whose presence window (PRESENCE_WINDOW
    before it) begins before the stored tracks is unknown. Grain: one Compared
    (kind "level", no significance mark: duty rosters are planned, not random events)."""
    first = windows.feed_starts(engine).patrol
    since = datetime.max if first is None else first + PRESENCE_WINDOW
    places_only = f.places_only()
    return windows.periods_of(f, at).compare_at(lambda t: on_duty_count(engine, places_only, t), since, "level")


def kpis(
    now: hotspots.PatrolCoverage | None,
    previous: hotspots.PatrolCoverage | None,
    last_year: hotspots.PatrolCoverage | None,
    on_duty: arithmetic.Compared,
    window: Window | None = None,
    period: str | None = None,
) -> list[Kpi]:
    """The page's tiles, in screen order: 在岗巡逻, 巡逻时长 (hours), 热点覆盖率,
    热点未覆盖, 热点巡逻占比. ``now`` None = no track data in the window (every
    figure "—"); a None base gives "—" for that change. ``window``/``period``
    (the page's) name what the changes compare with (``windows.basis_texts``,
    ``span_note``). Grain: one Kpi per tile."""

    def get(c: hotspots.PatrolCoverage | None, attr: str):
        if c is None:
            return None
        v = getattr(c, attr)
        return v.value if isinstance(v, arithmetic.Ratio) else v

    cov = now.coverage if now is not None else arithmetic.Ratio(0, 0)
    def compared(attr: str, kind: str) -> arithmetic.Compared:  # the bases are None where not tracked (comparison_windows)
        out = arithmetic.comparison(get(now, attr), get(last_year, attr), get(previous, attr), kind)
        if window is None:
            return out
        yoy_text, pop_text = windows.basis_texts(period, window)
        return replace(out, yoy_basis=yoy_text, pop_basis=pop_text, span=windows.span_note(period, window))

    hours = compared("patrol_hours", "level")
    coverage = compared("coverage", "rate")
    unreached = compared("unreached", "level")
    share = compared("patrol_share", "rate")
    inc_share = get(now, "incident_share")
    return [
        Kpi("on_duty", "在岗巡逻", "count", on_duty, "队", higher_is_better=True),
        Kpi("patrol_hours", "巡逻时长", "count", hours, "小时", higher_is_better=True),
        Kpi("hot_coverage", "热点覆盖率", "rate", coverage, f"{cov.numerator}/{cov.denominator}" if cov.denominator else None, higher_is_better=True),
        Kpi("hot_unreached", "热点未覆盖", "count", unreached, "个单元", alarm=bool(unreached.value), higher_is_better=False),
        Kpi(
            "hot_patrol_share",
            "热点巡逻占比",
            "rate",
            share,
            None if inc_share is None else f"警情占{inc_share * 100:.0f}%",
            higher_is_better=True,
        ),
    ]


def shift_split(pieces: pd.DataFrame) -> pd.DataFrame:
    """Coverage and the hot-spot shares for 全部, 白班 and 黑班 side by side.

    Grain: one row per shift (None = 全部, "白", "黑"). Columns: shift, label,
    hours (the shift's clock hours), hot_cells, reached, unreached, coverage,
    patrol_hours, patrol_share, incident_share, area_share (None = "—").
    """
    rows = []
    for shift in (None, "白", "黑"):
        c = hotspots.summarize_coverage(pieces, shift)
        rows.append(
            {
                "shift": shift,
                "label": SHIFT_LABELS[shift],
                "hours": SHIFT_HOURS_LABEL[shift],
                "hot_cells": c.hot_cells,
                "reached": c.reached,
                "unreached": c.unreached,
                "coverage": c.coverage.value,
                "patrol_hours": c.patrol_hours,
                "patrol_share": c.patrol_share,
                "incident_share": c.incident_share,
                "area_share": c.area_share,
            }
        )
    return pd.DataFrame(rows).astype({"coverage": object, "patrol_share": object, "incident_share": object, "area_share": object})


def map_cells(pieces: pd.DataFrame, shift: str | None = None) -> pd.DataFrame:
    """H3 cells to draw: every cell patrols of ``shift`` passed, and every cell
    holding a hot piece.

    Grain: one row per H3 cell (its pieces in several grids summed). Columns:
    h3, grid_id (the grid of its hot piece, else of its most patrolled piece:
    where a click drills), minutes (patrol minutes), incidents, hot_incidents,
    hot (any piece hot), unreached (a hot piece no patrol reached). Busiest first.
    """
    cols = ["h3", "grid_id", "minutes", "incidents", "hot_incidents", "hot", "unreached"]
    parts = hotspots.coverage_parts(pieces, shift)
    parts = parts[(parts["patrol_minutes"] > 0) | parts["is_hot"]]
    if parts.empty:
        return pd.DataFrame(columns=cols)
    parts = parts.assign(open_hot=parts["is_hot"] & ~parts["is_reached"])
    home = parts.sort_values(["is_hot", "patrol_minutes", "grid_id"], ascending=[False, False, True]).drop_duplicates("h3")[["h3", "grid_id"]]
    agg = parts.groupby("h3", as_index=False).agg(
        minutes=("patrol_minutes", "sum"),
        incidents=("incidents", "sum"),
        hot_incidents=("hot_incidents", "sum"),
        hot=("is_hot", "any"),
        unreached=("open_hot", "any"),
    )
    out = agg.merge(home, on="h3")[cols]
    return out.sort_values(["minutes", "h3"], ascending=[False, True]).reset_index(drop=True)


def grid_ranking(pieces: pd.DataFrame, shapes: pd.DataFrame, shift: str | None = None, limit: int = RANKING_LIMIT) -> pd.DataFrame:
    """Grids ranked by the "警力跟着警情走" gap.

    Grain: one row per grid of ``shapes`` (``places.grid_shapes``), at most
    ``limit``. Columns: grid_id, name, community, community_id, hot_cells,
    reached, unreached, incidents, incident_share (hot pieces' share of the
    grid's incidents), patrol_hours, patrol_share (share of the grid's patrol
    time spent in its hot pieces; 0 when no patrol), area_share, gap
    (incident_share − patrol_share, in 0..1; None without hot pieces). Order:
    most unreached hot pieces, then the widest gap, then most hot pieces, then
    most incidents.
    """
    by = hotspots.coverage_by(pieces, shift, "grid_id")
    out = shapes[["grid_id", "name", "community", "community_id"]].merge(by, on="grid_id", how="left")
    for col in hotspots.COVERAGE_FIELDS:
        out[col] = out[col].fillna(0)
    out["unreached"] = (out["hot_cells"] - out["reached"]).astype(int)
    has_hot = out["hot_cells"] > 0
    out["incident_share"] = (out["hot_incidents"] / out["incidents"].where(out["incidents"] > 0)).where(has_hot)
    out["patrol_share"] = (out["hot_minutes"] / out["patrol_minutes"].where(out["patrol_minutes"] > 0)).fillna(0.0).where(has_hot)
    out["area_share"] = (out["hot_area_km2"] / out["area_km2"].where(out["area_km2"] > 0)).where(has_hot)
    out["gap"] = out["incident_share"] - out["patrol_share"]
    out["patrol_hours"] = out["patrol_minutes"] / 60.0
    for col in ("hot_cells", "reached", "incidents"):
        out[col] = out[col].astype(int)
    out = out.sort_values(
        ["unreached", "gap", "hot_cells", "incidents", "name"], ascending=[False, False, False, False, True], na_position="last"
    )
    cols = ["grid_id", "name", "community", "community_id", "hot_cells", "reached", "unreached", "incidents",
            "incident_share", "patrol_hours", "patrol_share", "area_share", "gap"]  # fmt: skip
    return out[cols].head(limit).reset_index(drop=True)

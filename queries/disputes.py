"""Disputes (矛盾纠纷) and their three-level mediation (三级联调)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard import mask, station
from dashboard.db.schema import DISPUTE_STATUSES, MEDIATION_LEVELS, communities, disputes, grids, mediation_steps
from dashboard.filters import Filters
from queries._common import Window, apply_filters, fetch_df, fetch_one
from queries.kpi import Kpi
from queries.measures import arithmetic, mediation, windows
from queries.vocabulary import vocabulary


def open_count(engine: Engine, f: Filters) -> int:
    """Disputes still being mediated (调处中) now. Grain: one number."""
    stmt = apply_filters(select(func.count()).select_from(disputes).where(disputes.c.status == "调处中"), f, grid_col=disputes.c.grid_id)
    return int(fetch_one(engine, stmt)[0])


def found_by_level(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Disputes found in ``window`` by the highest mediation level reached and status.

    Grain: one row per (level, status) with any. Columns: level, level_name, status, n.
    """
    stmt = apply_filters(
        select(disputes.c.level, disputes.c.status, func.count().label("n")).select_from(disputes),
        f,
        grid_col=disputes.c.grid_id,
        time_col=disputes.c.found_at,
        window=window,
    )
    df = fetch_df(engine, stmt.group_by(disputes.c.level, disputes.c.status).order_by(disputes.c.level, disputes.c.status))
    df.insert(1, "level_name", [MEDIATION_LEVELS.get(int(x), str(x)) for x in df["level"]])
    return df


# --- the 矛盾纠纷 page ---------------------------------------------------------------

LEVEL_SHORT = {1: "一级", 2: "二级", 3: "三级"}
MAX_INTEGER_ID = 2**31 - 1  # the largest value of an INTEGER id column on both backends


def _found(f: Filters, window: Window, *cols, where=None):
    stmt = select(*cols).select_from(disputes)
    if where is not None:
        stmt = stmt.where(where)
    return apply_filters(stmt, f, grid_col=disputes.c.grid_id, time_col=disputes.c.found_at, window=window)


def found_count(engine: Engine, f: Filters, window: Window) -> int:
    """新发现纠纷: disputes found in ``window``. Grain: one number."""
    return int(fetch_one(engine, _found(f, window, func.count()))[0])


def escalated_count(engine: Engine, f: Filters, window: Window) -> int:
    """升级至三级: disputes found in ``window`` whose mediation reached level 3. Grain: one number."""
    return int(fetch_one(engine, _found(f, window, func.count(), where=disputes.c.level == 3))[0])


def open_at(engine: Engine, f: Filters, at: datetime) -> int:
    """调处中 at the instant ``at`` (found by then, not closed by then). Grain: one number.

    At the data's present this equals ``open_count`` (the status column).
    """
    stmt = select(func.count()).select_from(disputes).where(mediation.dispute_open_condition(at))
    return int(fetch_one(engine, apply_filters(stmt, f, grid_col=disputes.c.grid_id))[0])


def kpis(engine: Engine, f: Filters, window: Window, now: datetime) -> list[Kpi]:
    """The six tiles of the 矛盾纠纷 page, in screen order.

    Grain: one Kpi each: 新发现纠纷 (found in ``window``), 调处中 (at ``now``),
    化解率, 满意率 (over ``window``; ``alarm`` when below the station's target, 95% by default; the
    detail gives "n/d"), 升级至三级 (found in ``window``, reached level 3),
    回访待办 (at ``now``, due within 7 days; detail gives the overdue ones,
    ``alarm`` when any). Every 同比/环比 by ``windows.periods(window,
    f.period, now)`` with the disputes' first record as coverage: counts with
    the Poisson 显著 mark, rates by percentage points, snapshots at the same
    instant last year and at ``now`` moved back one period.
    """
    p = windows.periods(window, f.period, now)
    since = windows.feed_starts(engine).disputes

    def counted(fn):
        return p.compare(lambda w: fn(engine, f, w), since)

    def rated(fn):
        return p.compare(lambda w: fn(engine, f, w), since, "rate")

    targets = station.current().targets
    res = rated(mediation.resolution_rate)
    sat = rated(mediation.dispute_satisfaction_rate)
    opened = p.compare_at(lambda t: open_at(engine, f, t), since)
    backlog = mediation.visit_backlog(engine, f, now)
    visits = p.compare_at(lambda t: mediation.visit_backlog(engine, f, t).pending, since, value=backlog.pending)
    name = windows.period_name(f)  # 本月化解率, 近30天化解率: the label names its window
    return [
        Kpi("found", "新发现纠纷", "count", counted(found_count), higher_is_better=None),
        Kpi("open", "调处中", "count", opened, "当前"),
        Kpi("resolution", f"{name}化解率", "rate", res, res.detail, alarm=res.ratio.below(targets.resolution), higher_is_better=True),
        Kpi("satisfaction", f"{name}满意率", "rate", sat, sat.detail, alarm=sat.ratio.below(targets.satisfaction), higher_is_better=True),
        Kpi("escalated", "升级至三级", "count", counted(escalated_count)),
        Kpi("visits", "回访待办", "count", visits, f"超期 {backlog.overdue}", alarm=backlog.overdue > 0),
    ]


def by_kind_level(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """Disputes found in ``window`` by kind, highest mediation level reached and status.

    Grain: one row per (kind, level, status) with any, kinds in
    the station's order (``queries.vocabulary``), then level, then status in
    ``DISPUTE_STATUSES`` order. Columns: kind, level, level_name, status, n.
    """
    stmt = _found(f, window, disputes.c.kind, disputes.c.level, disputes.c.status, func.count().label("n"))
    df = fetch_df(engine, stmt.group_by(disputes.c.kind, disputes.c.level, disputes.c.status))
    df["level"] = df["level"].astype(int)
    df["n"] = df["n"].astype(int)
    df.insert(2, "level_name", [MEDIATION_LEVELS.get(int(x), str(x)) for x in df["level"]])
    kind_order = {k: i for i, k in enumerate(vocabulary(engine, "dispute_kind").codes())}
    status_order = {s: i for i, s in enumerate(DISPUTE_STATUSES)}
    df = df.assign(
        _k=[kind_order.get(k, len(kind_order)) for k in df["kind"]],
        _s=[status_order.get(s, len(status_order)) for s in df["status"]],
    )
    return df.sort_values(["_k", "kind", "level", "_s"]).drop(columns=["_k", "_s"]).reset_index(drop=True)


def level_funnel(engine: Engine, f: Filters, window: Window) -> pd.DataFrame:
    """三级联调 funnel of the disputes handled in ``window``: those closed in it
    (化解率's own population: ``mediation.dispute_ratio_by(..., "resolution",
    by="level")``, so the funnel's 化解 stage adds up to the 化解率 tile's
    numerator and 化解 + 未化解 to its denominator, for the same window) and
    those found in it and still in mediation at its end (调处中 as of then).

    Grain: one row per level 1..3 (always three rows). Columns: level,
    level_name, reached (disputes of that population whose mediation got to
    this level or beyond), resolved (closed in the window as 化解 at this
    level), unresolved (未化解), open (调处中 at this level at the window's
    end), escalated (went on to the next level). reached = resolved +
    unresolved + open + escalated.
    """
    closed = mediation.dispute_ratio_by(engine, f, window, "resolution", by="level")
    resolved = {int(g): int(n) for g, n in zip(closed["group"], closed["numerator"])}
    unresolved = {int(g): int(d - n) for g, n, d in zip(closed["group"], closed["numerator"], closed["denominator"])}
    stmt = _found(f, window, disputes.c.level, func.count().label("n"), where=mediation.dispute_open_condition(window[1]))
    df = fetch_df(engine, stmt.group_by(disputes.c.level))
    still_open = {int(lv): int(n) for lv, n in zip(df["level"], df["n"])} if len(df) else {}
    at = {lv: resolved.get(lv, 0) + unresolved.get(lv, 0) + still_open.get(lv, 0) for lv in set(resolved) | set(still_open)}
    rows = []
    for lv in (1, 2, 3):
        rows.append(
            {
                "level": lv,
                "level_name": MEDIATION_LEVELS[lv],
                "reached": sum(n for l2, n in at.items() if l2 >= lv),
                "resolved": resolved.get(lv, 0),
                "unresolved": unresolved.get(lv, 0),
                "open": still_open.get(lv, 0),
                "escalated": sum(n for l2, n in at.items() if l2 > lv),
            }
        )
    return pd.DataFrame(rows, columns=["level", "level_name", "reached", "resolved", "unresolved", "open", "escalated"])


GRASSROOTS_LEVELS = (1, 2)  # 网格员, 社区民警: mediation that stayed in the community


def grassroots_resolution(funnel: pd.DataFrame) -> arithmetic.Ratio:
    """基层化解占比 of a ``level_funnel``: disputes resolved at level 1 or 2
    (网格员, 社区民警; "矛盾不上交") / disputes resolved at any level. The
    denominator is the funnel's 化解 stage, i.e. the 化解率 tile's numerator.
    Grain: one Ratio (value None when nothing was resolved)."""
    resolved = funnel["resolved"].astype(int)
    low = resolved[funnel["level"].astype(int).isin(GRASSROOTS_LEVELS)]
    return arithmetic.Ratio(int(low.sum()), int(resolved.sum()))


def kind_totals(kind_level: pd.DataFrame) -> pd.DataFrame:
    """Disputes per kind from ``by_kind_level``'s rows, and how many of them went
    up to level 3 (司法所/律师/人民调解员).

    Grain: one row per kind present. Columns: kind, n, escalated (level ≥ 3).
    Most disputes first; kinds with equal counts keep ``by_kind_level``'s
    (the station's) order.
    """
    if kind_level.empty:
        return pd.DataFrame({"kind": pd.Series(dtype=object), "n": pd.Series(dtype=int), "escalated": pd.Series(dtype=int)})
    level3 = kind_level["n"].where(kind_level["level"].astype(int) >= 3, 0)
    out = kind_level.assign(escalated=level3).groupby("kind", sort=False)[["n", "escalated"]].sum().reset_index()
    out = out.astype({"n": int, "escalated": int})
    return out.sort_values("n", ascending=False, kind="stable").reset_index(drop=True)


def _places_join():
    return disputes.join(grids, grids.c.id == disputes.c.grid_id).join(communities, communities.c.id == grids.c.community_id)


def _step_chains(engine: Engine, ids_stmt) -> dict[int, str]:
    """"网格员 → 社区民警 → 司法所（化解）" for each dispute id selected by ``ids_stmt``:
    the units in order; an outcome is named for the last step and for any step
    that did not simply escalate ("进行中" while a step is open)."""
    stmt = (
        select(mediation_steps.c.dispute_id, mediation_steps.c.level, mediation_steps.c.mediator, mediation_steps.c.outcome)
        .where(mediation_steps.c.dispute_id.in_(ids_stmt))
        .order_by(mediation_steps.c.dispute_id, mediation_steps.c.level, mediation_steps.c.started_at)
    )
    steps = fetch_df(engine, stmt)
    chains: dict[int, list[tuple[str, str]]] = {}
    for did, lv, who, outcome in zip(steps["dispute_id"], steps["level"], steps["mediator"], steps["outcome"]):
        chains.setdefault(int(did), []).append((step_unit(int(lv), who), outcome if isinstance(outcome, str) else "进行中"))
    out = {}
    for did, chain in chains.items():
        out[did] = " → ".join(
            f"{unit}（{outcome}）" if i == len(chain) - 1 or outcome != "升级" else unit for i, (unit, outcome) in enumerate(chain)
        )
    return out


def step_unit(level: int, mediator: str | None) -> str:
    """Who mediated at a level, without the person: the unit before the name
    ("司法所 张三" → "司法所"), else the level's name. The unit is what
    ``mask.unit`` recognises: splitting on the last space would show a name
    typed with a space ("欧阳 娜娜" → "欧阳") or two words ("律师 王 五")."""
    return mask.unit(mediator) or MEDIATION_LEVELS.get(level, str(level))


def escalated(engine: Engine, f: Filters, window: Window, limit: int = 200) -> pd.DataFrame:
    """Disputes found in ``window`` that reached level 3 (司法所/律师/人民调解员), newest first.

    Grain: one row per dispute, at most ``limit``. Columns: id, found_at
    (naive UTC), kind, community_id, community, grid_id, grid, summary (raw:
    mask before showing), status, closed_at, steps (the mediation chain, e.g.
    "网格员·升级 → 社区民警·升级 → 司法所·化解", no names).
    """
    base = (
        select(
            disputes.c.id,
            disputes.c.found_at,
            disputes.c.kind,
            communities.c.id.label("community_id"),
            communities.c.name.label("community"),
            disputes.c.grid_id,
            grids.c.name.label("grid"),
            disputes.c.summary,
            disputes.c.status,
            disputes.c.closed_at,
        )
        .select_from(_places_join())
        .where(disputes.c.level == 3)
    )
    base = apply_filters(base, f, grid_col=disputes.c.grid_id, time_col=disputes.c.found_at, window=window)
    base = base.order_by(disputes.c.found_at.desc(), disputes.c.id.desc()).limit(limit)
    df = fetch_df(engine, base)
    ids = select(base.subquery().c.id)
    chains = _step_chains(engine, ids) if len(df) else {}
    df["steps"] = [chains.get(int(i), "") for i in df["id"]]
    return df


def visits_due(
    engine: Engine, f: Filters, at: datetime, horizon_days: float = 7, limit: int = 200, most_overdue_first: bool = False
) -> pd.DataFrame:
    """Follow-up visits to make (回访待办) at ``at``: closed disputes not visited by then
    whose visit is past due (overdue) or due within ``horizon_days``.

    Grain: one row per dispute: the overdue ones first (most recently due
    first, at most ``limit``), then the upcoming ones (soonest first, at most
    ``limit``), so a long overdue backlog never hides the visits due this week.
    Columns: id, kind, community_id, community, grid_id, grid, summary (raw:
    mask before showing), status, closed_at, visit_due_at (naive UTC), overdue (bool).

    ``most_overdue_first`` (the wall, cut to the rows that fit): the overdue
    ones longest overdue first, so a cut hides the least overdue, never the
    most (``limit`` still applies to each part).
    """
    cols = (
        disputes.c.id,
        disputes.c.kind,
        communities.c.id.label("community_id"),
        communities.c.name.label("community"),
        disputes.c.grid_id,
        grids.c.name.label("grid"),
        disputes.c.summary,
        disputes.c.status,
        disputes.c.closed_at,
        disputes.c.visit_due_at,
    )
    parts = []
    for late in (True, False):
        stmt = select(*cols).select_from(_places_join()).where(mediation.visit_pending_condition(at, horizon_days))
        stmt = stmt.where(disputes.c.visit_due_at < at if late else disputes.c.visit_due_at >= at)
        if late and not most_overdue_first:
            order = (disputes.c.visit_due_at.desc(), disputes.c.id.desc())
        else:
            order = (disputes.c.visit_due_at, disputes.c.id)
        stmt = apply_filters(stmt, f, grid_col=disputes.c.grid_id).order_by(*order).limit(limit)
        part = fetch_df(engine, stmt)
        part["overdue"] = late
        parts.append(part)
    df = pd.concat(parts, ignore_index=True) if any(len(p) for p in parts) else parts[0]
    df["overdue"] = df["overdue"].astype(bool)
    return df


@dataclass(frozen=True)
class DisputeDetail:
    """One dispute (``dispute``: column → value; times naive UTC) and its mediation steps."""

    dispute: dict
    steps: pd.DataFrame


def detail(engine: Engine, dispute_id: int) -> DisputeDetail | None:
    """One dispute with its place and every mediation step; None when it does not exist.

    Grain: one dispute. ``dispute`` keys: id, report_id, kind, found_at,
    parties, summary (raw), level, status, closed_at, visit_due_at, visited_at,
    satisfied, grid_id, grid, grid_code, community_id, community. ``steps``
    columns: level, level_name, mediator (raw: mask before showing),
    started_at, ended_at, outcome (None while ongoing); ordered by level and start.
    An id outside the INTEGER column's range cannot exist (PostgreSQL would
    reject the comparison): None without asking.
    """
    if not 0 < dispute_id <= MAX_INTEGER_ID:
        return None
    stmt = select(
        disputes.c.id,
        disputes.c.report_id,
        disputes.c.kind,
        disputes.c.found_at,
        disputes.c.parties,
        disputes.c.summary,
        disputes.c.level,
        disputes.c.status,
        disputes.c.closed_at,
        disputes.c.visit_due_at,
        disputes.c.visited_at,
        disputes.c.satisfied,
        disputes.c.grid_id,
        grids.c.name.label("grid"),
        grids.c.code.label("grid_code"),
        communities.c.id.label("community_id"),
        communities.c.name.label("community"),
    ).select_from(_places_join()).where(disputes.c.id == dispute_id)
    rows = fetch_df(engine, stmt)
    if rows.empty:
        return None
    d = {k: (None if _missing(v) else v) for k, v in rows.iloc[0].to_dict().items()}
    for k in ("found_at", "closed_at", "visit_due_at", "visited_at"):
        if d[k] is not None:
            d[k] = pd.Timestamp(d[k]).to_pydatetime()
    steps = fetch_df(
        engine,
        select(mediation_steps.c.level, mediation_steps.c.mediator, mediation_steps.c.started_at, mediation_steps.c.ended_at, mediation_steps.c.outcome)
        .where(mediation_steps.c.dispute_id == dispute_id)
        .order_by(mediation_steps.c.level, mediation_steps.c.started_at, mediation_steps.c.id),
    )
    steps.insert(1, "level_name", [MEDIATION_LEVELS.get(int(x), str(x)) for x in steps["level"]])
    return DisputeDetail(d, steps)


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def rates_by_place(engine: Engine, f: Filters, window: Window, by: str = "community") -> pd.DataFrame:
    """新发现, 化解率 and 满意率 per community (``by="community"``) or grid (``"grid"``) in scope.

    Grain: one row per place in scope, places without disputes included (zeros,
    rates NaN), ordered by code. The rates are ``mediation.resolution_rate_by`` /
    ``dispute_satisfaction_rate_by``: their numerators and denominators add up to
    the page's 化解率/满意率 tiles. Columns: place_id, code, name, community_id,
    found, resolved, closed, resolution_rate, satisfied, visits, satisfaction_rate.
    """
    if by == "community":
        places = (
            select(communities.c.id.label("place_id"), communities.c.code, communities.c.name, communities.c.id.label("community_id"))
            .where(communities.c.id.in_(apply_filters(select(grids.c.community_id), f, grid_col=grids.c.id)))
            .order_by(communities.c.code)
        )
        group_col = grids.c.community_id
        src = disputes.join(grids, grids.c.id == disputes.c.grid_id)
    elif by == "grid":
        places = apply_filters(
            select(grids.c.id.label("place_id"), grids.c.code, grids.c.name, grids.c.community_id), f, grid_col=grids.c.id
        ).order_by(grids.c.code)
        group_col = disputes.c.grid_id
        src = disputes
    else:
        raise ValueError("by must be 'community' or 'grid'")
    out = fetch_df(engine, places)
    found = fetch_df(
        engine,
        apply_filters(
            select(group_col.label("place_id"), func.count().label("found")).select_from(src),
            f,
            grid_col=disputes.c.grid_id,
            time_col=disputes.c.found_at,
            window=window,
        ).group_by(group_col),
    )
    res = mediation.resolution_rate_by(engine, f, window, by).rename(
        columns={"group": "place_id", "numerator": "resolved", "denominator": "closed", "rate": "resolution_rate"}
    )
    sat = mediation.dispute_satisfaction_rate_by(engine, f, window, by).rename(
        columns={"group": "place_id", "numerator": "satisfied", "denominator": "visits", "rate": "satisfaction_rate"}
    )
    out["place_id"] = out["place_id"].astype("int64")
    for part in (found, res, sat):
        part["place_id"] = part["place_id"].astype("int64")
        out = out.merge(part, on="place_id", how="left")
    for c in ("found", "resolved", "closed", "satisfied", "visits"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype(int)
    for c in ("resolution_rate", "satisfaction_rate"):
        out[c] = pd.to_numeric(out[c]).astype(float)
    out["place_id"] = out["place_id"].astype(int)
    out["community_id"] = out["community_id"].astype(int)
    return out[["place_id", "code", "name", "community_id", "found", "resolved", "closed", "resolution_rate", "satisfied", "visits", "satisfaction_rate"]]

"""预警 early warning: per grid × category counts this week and today against the
grid's own baseline (the arithmetic, the windows and the constants are in
``queries.measures.warning``), and their acknowledgements.

The family of tests (what the false-discovery-rate control counts) is every
grid of the filter's station, whatever community or grid the filter narrows to
and whatever the person's scope: the filter and ``Filters.scope`` narrow the
list shown, never the test, so a grid's warning is the same on the 预警 page,
in its profile, for a community and for every person who may see the grid. ``Filters.categories`` (incident categories)
narrows the incident warnings shown the same way. The period of the filter
does not apply: the windows are always 本周 and 今日 at ``now``.

Acknowledgements (确认) are entries of the audit trail (action
``warning_ack``, object type ``warning``; the dashboard writes them with
``dashboard.ui.frame.write_audit``): an acknowledgement covers a warning of the
same source, grid, window and category while it was made inside that window
(today for 今日, the 7 days for 本周); once the window has moved past it, a
warning still standing shows again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard import timeutil
from dashboard.db.schema import audit_log, incidents, reports
from dashboard.filters import Filters
from queries import places
from queries._common import apply_filters, fetch_df
from queries._sql import local_day
from queries.measures import warning as wm
from queries.measures import windows

SOURCES = ("incidents", "reports")
SOURCE_LABELS = {"incidents": "警情", "reports": "上报"}
SOURCE_NOUNS = {"incidents": "起", "reports": "件"}
_COLS = {
    "incidents": (incidents.c.received_at, incidents.c.grid_id, incidents.c.category),
    "reports": (reports.c.reported_at, reports.c.grid_id, reports.c.category),
}
ACK_ACTION = "warning_ack"
ACK_OBJECT = "warning"
KEY_MAX = 64  # audit_log.object_id

GRID_CHECK_COLUMNS = ["source", "source_label", "category", "count", "mean", "p", "q", "warn"]
COLUMNS = [
    "key", "source", "source_label", "grid_id", "grid_code", "grid", "community_id", "community", "category", "scope",
    "scope_label", "count", "mean", "baseline_n", "model", "p", "q", "reason", "lat", "lon",
    "acked_at", "acked_by", "ack_note",
]


def family_filters(f: Filters) -> Filters:
    """The places every test of a run is drawn from: the filter's whole station."""
    return Filters(station_id=f.station_id)


def warning_key(source: str, grid_id: int, scope: str, category: str) -> str:
    """The acknowledgement's object id (cut to ``audit_log.object_id``'s 64 characters)."""
    return f"{source}:{int(grid_id)}:{scope}:{category}"[:KEY_MAX]


def daily_counts(engine: Engine, source: str, f: Filters, first_day: date, now: datetime) -> pd.DataFrame:
    """Rows of ``source`` per grid, category and local day from ``first_day`` to ``now``.

    Grain: one row per (grid, category, day) that has any. Columns: grid_id,
    category, day (datetime.date), n.
    """
    time_col, grid_col, cat_col = _COLS[source]
    day = local_day(time_col).label("day")
    stmt = select(grid_col.label("grid_id"), cat_col.label("category"), day, func.count().label("n")).select_from(time_col.table)
    stmt = apply_filters(stmt, f, grid_col=grid_col, time_col=time_col, window=(timeutil.day_start_utc(first_day), now))
    df = fetch_df(engine, stmt.group_by(grid_col, cat_col, day))
    df["day"] = [date.fromisoformat(str(d)) for d in df["day"]]
    return df


def tests_of(daily: pd.DataFrame, source: str, grid_ids: list[int], today: date, data_start: date | None) -> list[wm.Check]:
    """Every test of one source: each grid × category seen in ``daily`` × (本周, 今日)."""
    weeks = wm.usable_weeks(wm.baseline_weeks(today), data_start)
    if len(weeks) < wm.MIN_BASELINE_WEEKS or daily.empty:
        return []
    win = wm.window_days(today)
    base_days = [w.first + timedelta(days=i) for w in weeks for i in range(7)]
    day_index = {d: i for i, d in enumerate(base_days)}
    week_of = {d: i // 7 for d, i in day_index.items()}
    counts: dict[tuple[int, str], dict] = {}
    for r in daily.itertuples(index=False):
        c = counts.setdefault((int(r.grid_id), str(r.category)), {"week": 0, "today": 0, "weeks": [0] * len(weeks), "days": [0] * len(base_days)})
        n = int(r.n)
        if win.first <= r.day <= win.last:
            c["week"] += n
            if r.day == today:
                c["today"] += n
        elif r.day in day_index:
            c["weeks"][week_of[r.day]] += n
            c["days"][day_index[r.day]] += n
    cats = sorted({k[1] for k in counts})
    empty = {"week": 0, "today": 0, "weeks": [0] * len(weeks), "days": [0] * len(base_days)}
    out = []
    for g in grid_ids:
        for cat in cats:
            c = counts.get((g, cat), empty)
            for scope, n, sample, span in (
                ("week", c["week"], c["weeks"], len(weeks)),
                ("today", c["today"], c["days"], len(base_days)),
            ):
                t = wm.check(source, g, cat, scope, n, wm.Sample.of(sample), span)
                if t is not None:
                    out.append(t)
    return out


def acknowledgements(engine: Engine, since: datetime | None) -> pd.DataFrame:
    """Warning acknowledgements in the audit trail since ``since`` (None: all).

    Grain: one row per entry, newest first. Columns: key, at (naive UTC), username, note.
    """
    stmt = (
        select(audit_log.c.object_id.label("key"), audit_log.c.at, audit_log.c.username, audit_log.c.detail.label("note"))
        .where(audit_log.c.action == ACK_ACTION, audit_log.c.object_type == ACK_OBJECT)
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    )
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= since)
    return fetch_df(engine, stmt)


@dataclass(frozen=True)
class Run:
    """One run of the early warning.

    ``warnings``: the warnings in the filter's places (COLUMNS), smallest p
    first. ``tests``: how many tests the family held (the m of the FDR
    control); ``grids``: grids in the family.
    """

    warnings: pd.DataFrame
    tests: int
    grids: int
    # A filter narrowed to one grid: every test of that grid's week (warning or not),
    # smallest p first. Columns: GRID_CHECK_COLUMNS. Empty otherwise.
    grid_checks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GRID_CHECK_COLUMNS))


def run(engine: Engine, f: Filters, now: datetime) -> Run:
    """The early warning at ``now`` (see the module docstring and ``measures.warning``)."""
    today = timeutil.local_today(now)
    fam = family_filters(f)
    shapes = places.grid_shapes(engine, fam)
    grid_ids = [int(g) for g in shapes["grid_id"]]
    first_day = wm.baseline_weeks(today)[0].first
    starts = windows.feed_starts(engine)
    tests: list[wm.Check] = []
    for source in SOURCES:
        began = getattr(starts, source)
        data_start = None if began is None else timeutil.to_local(began).date()
        tests += tests_of(daily_counts(engine, source, fam, first_day, now), source, grid_ids, today, data_start)
    judged = wm.fdr(tests)
    info = shapes.set_index("grid_id")
    # the list shown: the grids the filter's places and the person's scope leave (the shared filter)
    shown = set(info.index) if f.places_only() == fam else {int(g) for g in places.grid_shapes(engine, f.places_only())["grid_id"]}
    rows = []
    for t in judged:
        if not t.warn or t.grid_id not in shown:
            continue
        if t.source == "incidents" and f.categories and t.category not in f.categories:
            continue
        g = info.loc[t.grid_id]
        what = t.category if t.source == "incidents" else f"上报·{t.category}"
        rows.append(
            {
                "key": warning_key(t.source, t.grid_id, t.scope, t.category),
                "source": t.source,
                "source_label": SOURCE_LABELS[t.source],
                "grid_id": t.grid_id,
                "grid_code": g["code"],
                "grid": g["name"],
                "community_id": int(g["community_id"]),
                "community": g["community"],
                "category": t.category,
                "scope": t.scope,
                "scope_label": wm.SCOPE_WORDS[t.scope],
                "count": t.count,
                "mean": t.mean,
                "baseline_n": t.baseline_n,
                "model": t.model,
                "p": t.p,
                "q": t.q,
                "reason": wm.reason(g["name"], t, SOURCE_NOUNS[t.source], what),
                "lat": float(g["centroid_lat"]),
                "lon": float(g["centroid_lon"]),
            }
        )
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if not c.startswith("ack")])
    df = _with_acks(engine, df, today)
    df = df.sort_values(["p", "grid_code", "category", "scope"], kind="stable").reset_index(drop=True)
    mine = [t for t in judged if f.grid_id is not None and t.grid_id == f.grid_id and t.scope == "week" and t.grid_id in shown]
    checks = pd.DataFrame(
        [(t.source, SOURCE_LABELS[t.source], t.category, t.count, t.mean, t.p, t.q, t.warn) for t in sorted(mine, key=lambda t: (t.p, t.source, t.category))],
        columns=GRID_CHECK_COLUMNS,
    )
    return Run(df, len(tests), len(grid_ids), checks)


def _with_acks(engine: Engine, df: pd.DataFrame, today: date) -> pd.DataFrame:
    week_start = timeutil.day_start_utc(wm.window_days(today).first)
    day_start = timeutil.day_start_utc(today)
    acks = acknowledgements(engine, week_start) if len(df) else pd.DataFrame(columns=["key", "at", "username", "note"])
    latest: dict[str, tuple] = {}
    for a in acks.itertuples(index=False):
        latest.setdefault(str(a.key), (pd.Timestamp(a.at).to_pydatetime(), a.username, a.note))
    at, by, note = [], [], []
    for key, scope in zip(df["key"], df["scope"]):
        hit = latest.get(key)
        if hit is not None and hit[0] >= (day_start if scope == "today" else week_start):
            at.append(hit[0])
            by.append(hit[1])
            note.append(hit[2])
        else:
            at.append(None)
            by.append(None)
            note.append(None)
    df = df.copy()
    df["acked_at"], df["acked_by"], df["ack_note"] = pd.Series(at, dtype=object), pd.Series(by, dtype=object), pd.Series(note, dtype=object)
    return df


def warnings(engine: Engine, f: Filters, now: datetime) -> pd.DataFrame:
    """The warnings of ``run`` only. Grain: one row per warning (grid × category ×
    window), smallest p first. Columns: COLUMNS."""
    return run(engine, f, now).warnings

"""量化考核, the monthly assessment of grid workers: the rules and the arithmetic (no SQL).

Per grid worker (``grid_workers``) and calendar month (local time of the station):

* 采集基础信息 (一标三实): ``base_records`` the worker collected (``collector_id``) in the month, by kind.
* 上报隐患: the worker's reports (``reporter_id``) in the month whose category is a
  hazard: ``is_hazard`` (a category whose name ends in 隐患: 治安隐患 and 消防隐患 in the
  demo's words, ``HAZARD_CATEGORIES``; a station's own 安全隐患 counts too).
* 发现纠纷: disputes found in the month whose report (``disputes.report_id``) the worker
  reported; 已化解: of those, closed as 化解 by the month's end. Their share
  (已化解 / 发现纠纷) is not 化解率 (``mediation.resolution_rate``: over disputes
  closed in the window): it follows the disputes a worker found.
* 重复上报: ``duplicate_flags``: a report is a duplicate when another report (by anyone) of
  the same category in the same H3 cell (resolution 9, about a street block) was made
  within the 24 hours before it (``DUPLICATE_HOURS``; at the same instant, the one with
  the higher id). Counted for the worker who made the later report.
* 不予受理 (rejected): the worker's reports whose task was closed (in the month) without
  ever being dispatched or transferred (no 派发, no 转派): the command room closed it
  itself. A report the command room never made a task of is not counted: the data
  cannot tell a rejected report from one kept for information.
* 按时反馈: the tasks of the worker's reports whose feedback deadline fell in the month,
  and of those the ones with feedback by the deadline: 按时反馈率 as
  ``queries.measures.loop`` defines it (an open task past its deadline counts as late).

The score (考核得分) is a weighted sum of those counts, the weights ``SCORE_WEIGHTS``
(points per item), with the base-record points capped at ``BASE_RECORDS_CAP``:

    得分 = min(0.1 × 采集, 30) + 2 × 上报隐患 + 3 × 发现纠纷 + 2 × 已化解
           + 1 × 按时反馈 − 1 × 重复上报 − 2 × 不予受理

``ranks`` ranks the workers by score within each community (1 = best; equal scores share
a rank, the next rank skips: 1, 2, 2, 4).

The funnel plot (``funnel_limits``, ``funnel_band``): a rate k/n per worker against its
volume n, with the pooled rate p̄ = Σk / Σn of the workers shown and control limits
p̄ ± z·sqrt(p̄(1 − p̄)/n) (clipped to 0..1) at 95% (z = 1.96) and 99.8% (z = 3.09): a
worker with few cases sits inside the wide limits, so a rate of 0% or 100% on two cases
is not read as the worst or the best.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from dashboard.db.schema import BASE_RECORD_KINDS, REPORT_CATEGORIES

HAZARD_SUFFIX = "隐患"
HAZARD_CATEGORIES = tuple(c for c in REPORT_CATEGORIES if c.endswith(HAZARD_SUFFIX))  # 治安隐患, 消防隐患
DUPLICATE_HOURS = 24
RESOLVED_STATUS = "化解"

# Points per item of the month (see the module's docstring); negative = a deduction.
SCORE_WEIGHTS: dict[str, float] = {
    "base_records": 0.1,
    "hazards": 2.0,
    "disputes_found": 3.0,
    "disputes_resolved": 2.0,
    "on_time": 1.0,
    "duplicates": -1.0,
    "rejected": -2.0,
}
BASE_RECORDS_CAP = 30.0  # at most this many points from base records (300 records)
SCORE_WORDS = (
    f"得分 = 采集基础信息 × {SCORE_WEIGHTS['base_records']:g}（至多 {BASE_RECORDS_CAP:g} 分）"
    f" + 上报隐患 × {SCORE_WEIGHTS['hazards']:g} + 发现纠纷 × {SCORE_WEIGHTS['disputes_found']:g}"
    f" + 已化解 × {SCORE_WEIGHTS['disputes_resolved']:g} + 按时反馈 × {SCORE_WEIGHTS['on_time']:g}"
    f" − 重复上报 × {-SCORE_WEIGHTS['duplicates']:g} − 不予受理 × {-SCORE_WEIGHTS['rejected']:g}"
)

# Funnel plot: two-sided control limits.
Z_95 = 1.959964
Z_998 = 3.090232
FUNNEL_LEVELS = {"95%": Z_95, "99.8%": Z_998}
BANDS = ("高于99.8%上限", "高于95%上限", "控制限内", "低于95%下限", "低于99.8%下限")
COUNT_COLUMNS = ("base_records", "hazards", "disputes_found", "disputes_resolved", "duplicates", "rejected", "feedback_due", "on_time")
KIND_COLUMNS = {kind: f"base_{i}" for i, kind in enumerate(BASE_RECORD_KINDS)}  # 标准地址 → base_0 …


def is_hazard(category: object) -> bool:
    """A report category that is a hazard (隐患): its name ends in 隐患."""
    return isinstance(category, str) and category.strip().endswith(HAZARD_SUFFIX)


def duplicate_flags(df: pd.DataFrame, hours: float = DUPLICATE_HOURS) -> pd.Series:
    """True for each report (row of ``df``: id, category, h3, reported_at) made within
    ``hours`` after another report of the same category in the same H3 cell; same
    instant: the higher id is the duplicate. Indexed like ``df``."""
    if df.empty:
        return pd.Series([], dtype=bool, index=df.index)
    d = df.assign(_t=pd.to_datetime(df["reported_at"])).sort_values(["_t", "id"], kind="stable")
    prev = d.groupby(["category", "h3"], sort=False)["_t"].shift(1)
    flag = prev.notna() & ((d["_t"] - prev) <= pd.Timedelta(hours=hours))
    return flag.reindex(df.index).astype(bool)


def score(row: pd.Series | dict) -> float:
    """考核得分 of one worker's month (the counts named in ``SCORE_WEIGHTS``)."""
    base = min(SCORE_WEIGHTS["base_records"] * float(row["base_records"]), BASE_RECORDS_CAP)
    rest = sum(w * float(row[k]) for k, w in SCORE_WEIGHTS.items() if k != "base_records")
    return round(base + rest, 2)


def scores(df: pd.DataFrame) -> pd.Series:
    """``score`` of every row."""
    return pd.Series([score(r) for _, r in df.iterrows()], index=df.index, dtype=float)


def ranks(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Rank of each value within its group, highest first; ties share the lowest rank (1, 2, 2, 4)."""
    if values.empty:
        return pd.Series([], dtype=int, index=values.index)
    return values.groupby(groups).rank(method="min", ascending=False).astype(int)


def pooled_rate(k: Iterable[float], n: Iterable[float]) -> float | None:
    """p̄ = Σk / Σn; None when there is nothing to rate."""
    sk, sn = float(sum(k)), float(sum(n))
    return sk / sn if sn > 0 else None


def funnel_limits(p_bar: float, n: float, z: float) -> tuple[float, float]:
    """(lower, upper) control limits of a rate at volume ``n``: p̄ ± z·sqrt(p̄(1 − p̄)/n), in 0..1."""
    if n <= 0:
        return 0.0, 1.0
    half = z * math.sqrt(p_bar * (1.0 - p_bar) / n)
    return max(0.0, p_bar - half), min(1.0, p_bar + half)


def funnel_band(k: float, n: float, p_bar: float | None) -> str | None:
    """Where a worker's k/n falls against the limits (one of ``BANDS``); None without cases."""
    if n <= 0 or p_bar is None:
        return None
    p = k / n
    lo998, hi998 = funnel_limits(p_bar, n, Z_998)
    lo95, hi95 = funnel_limits(p_bar, n, Z_95)
    if p > hi998:
        return BANDS[0]
    if p > hi95:
        return BANDS[1]
    if p < lo998:
        return BANDS[4]
    if p < lo95:
        return BANDS[3]
    return BANDS[2]


def funnel_curve(p_bar: float, n_max: float, points: int = 60) -> pd.DataFrame:
    """The limit lines for a plot: columns n, lo95, hi95, lo998, hi998 for n from 1 to ``n_max``."""
    top = max(2.0, float(n_max))
    ns = sorted({1.0 + (top - 1.0) * i / (points - 1) for i in range(points)})
    rows = []
    for n in ns:
        lo95, hi95 = funnel_limits(p_bar, n, Z_95)
        lo998, hi998 = funnel_limits(p_bar, n, Z_998)
        rows.append({"n": n, "lo95": lo95, "hi95": hi95, "lo998": lo998, "hi998": hi998})
    return pd.DataFrame(rows)

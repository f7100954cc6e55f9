"""The grid profile (网格画像): a grid's counts against its own Poisson baseline.

Pure arithmetic on per-day counts (the SQL is in ``queries.grid_profile``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from dashboard import timeutil

# 网格画像: a grid's incidents, reports and disputes against its OWN baseline.
#
# * Buckets are whole local days (the station's zone). For a period of up to 182
#   days the chart shows ACTIVITY_WEEKS (26) weeks of 7 days ending on the
#   period's last day (the newest week ends today when the period does); for a
#   period of 183..371 days, the weeks covering it; beyond that, calendar
#   months (the first and last month clipped to the period).
# * Baseline = mean count per bucket over the BASELINE_WEEKS (52) weeks (or
#   BASELINE_MONTHS (12) months) just before the first bucket shown. Buckets
#   that begin before the source's first record (the first day the table has
#   any row at all) are left out: "no data yet" is not "a quiet week". No
#   usable bucket → no baseline.
# * Band = mean ± BAND_K (2)·√mean, the Poisson spread (a count's variance
#   equals its mean), low end floored at 0.
# * A bucket is 高于基线 when its count > mean + 2·√mean AND ≥ MIN_ABOVE_COUNT
#   (3): with a mean near 0 the band is near 0 and a single event would
#   otherwise raise an alarm.


ACTIVITY_WEEKS = 26
BASELINE_WEEKS = 52
BASELINE_MONTHS = 12
WEEKLY_MAX_DAYS = 371  # 53 weeks: longer periods are shown by month
BAND_K = 2.0
MIN_ABOVE_COUNT = 3


@dataclass(frozen=True)
class Bucket:
    """Local days ``first``..``last`` (both inclusive) of one bar."""

    first: date
    last: date


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _month_end(d: date) -> date:
    return timeutil.shift_months(_month_start(d), 1) - timedelta(days=1)


def activity_buckets(first_day: date, last_day: date) -> tuple[str, list[Bucket], list[Bucket]]:
    """(unit "week"|"month", buckets shown, baseline buckets) for the local days
    ``first_day``..``last_day`` of a period (see the section comment). Oldest first."""
    if last_day < first_day:
        first_day = last_day
    span = (last_day - first_day).days + 1
    if span <= WEEKLY_MAX_DAYS:
        n = ACTIVITY_WEEKS if span <= 182 else math.ceil(span / 7)
        ends = [last_day - timedelta(days=7 * i) for i in range(n + BASELINE_WEEKS - 1, -1, -1)]
        buckets = [Bucket(e - timedelta(days=6), e) for e in ends]
        return "week", buckets[BASELINE_WEEKS:], buckets[:BASELINE_WEEKS]
    shown = []
    m = _month_start(first_day)
    while m <= last_day:
        shown.append(Bucket(max(m, first_day), min(_month_end(m), last_day)))
        m = timeutil.shift_months(m, 1)
    base_first = timeutil.shift_months(_month_start(first_day), -BASELINE_MONTHS)
    base = [Bucket(timeutil.shift_months(base_first, i), _month_end(timeutil.shift_months(base_first, i))) for i in range(BASELINE_MONTHS)]
    return "month", shown, base


def bucket_totals(daily: pd.DataFrame, buckets: Sequence[Bucket]) -> list[int]:
    """Sum a per-day frame (columns day: datetime.date, n) into ``buckets`` (contiguous, oldest first)."""
    if not buckets:
        return []
    totals = [0] * len(buckets)
    if daily is None or daily.empty:
        return totals
    firsts = pd.Series([pd.Timestamp(b.first) for b in buckets])
    lasts = [pd.Timestamp(b.last) for b in buckets]
    days = pd.to_datetime(pd.Series(list(daily["day"])))
    idx = firsts.searchsorted(days, side="right") - 1
    ok = (idx >= 0) & pd.Series([i >= 0 and d <= lasts[i] for i, d in zip(idx, days)]).to_numpy()
    sums = pd.Series(daily["n"].astype(int).to_numpy()[ok]).groupby(idx[ok]).sum()
    for i, v in sums.items():
        totals[int(i)] = int(v)
    return totals


@dataclass(frozen=True)
class Baseline:
    """A grid's own normal: mean count per bucket and the Poisson band around it.

    All None (and ``buckets`` 0) when no reference bucket had data to judge by.
    """

    mean: float | None
    low: float | None
    high: float | None
    buckets: int


def poisson_baseline(counts: Sequence[int], k: float = BAND_K) -> Baseline:
    """Mean of ``counts`` with the band mean ± k·√mean (low end ≥ 0)."""
    if not counts:
        return Baseline(None, None, None, 0)
    mean = sum(int(c) for c in counts) / len(counts)
    half = k * math.sqrt(mean)
    return Baseline(mean, max(0.0, mean - half), mean + half, len(counts))


def bucket_baseline(counts: Sequence[int], buckets: Sequence[Bucket], data_start: date | None, k: float = BAND_K) -> Baseline:
    """``poisson_baseline`` over the reference buckets that begin on or after
    ``data_start`` (the source's first day with any row; None = no rows at all)."""
    if data_start is None:
        return Baseline(None, None, None, 0)
    return poisson_baseline([int(c) for c, b in zip(counts, buckets) if b.first >= data_start], k)


def above_band(count: int | None, baseline: Baseline) -> bool:
    """高于基线: above mean + k·√mean and at least MIN_ABOVE_COUNT events."""
    if count is None or baseline.high is None:
        return False
    return count > baseline.high and count >= MIN_ABOVE_COUNT

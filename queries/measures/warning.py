"""Early warning (预警, 治安态势分析预警): a grid's counts this week and today
against its OWN baseline, with false-discovery-rate control across every test
of a run.

Pure arithmetic (no SQL; the counts come from ``queries.warning``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

# 预警: which grid × category counts are well above the grid's own normal.
#
# * Windows (local days of the station's zone): 本周 = the WINDOW_DAYS (7) local
#   days ending today, today cut at now; 今日 = today from local midnight to now.
#   A running day is judged against whole days of baseline: a warning before
#   the day is over understates, never overstates.
# * Baseline = the BASELINE_WEEKS (12) whole weeks of 7 days before the window,
#   after a guard band of GUARD_WEEKS (2) weeks just before it (left out, so an
#   outbreak that began last week does not raise its own baseline). For 本周 the
#   sample is the 12 weekly counts, for 今日 the 84 daily counts of the same
#   days. Weeks that begin before the source table's first record are left
#   out ("no data yet" is not "a quiet week"); fewer than MIN_BASELINE_WEEKS (6)
#   usable weeks → no test.
# * Mean used = max(sample mean, one event over the whole baseline span), so a
#   category the grid never had is not a certain alarm at its first cases.
# * Count model: Poisson, p = P(X ≥ k | mean). Where the sample is
#   over-dispersed (variance > mean and the dispersion index
#   (n−1)·s²/mean, χ² with n−1 degrees of freedom under Poisson, has an upper
#   tail below DISPERSION_ALPHA (0.05)), a negative binomial with the sample's
#   mean and variance (method of moments: r = mean² / (variance − mean)).
#   Tails are summed exactly from lgamma terms.
# * A test can warn only with a count ≥ MIN_COUNT (3).
# * Benjamini–Hochberg at FDR_Q (0.05) over ALL tests of one run (every grid ×
#   category × window of the family, those under MIN_COUNT included): q-value
#   = min over j ≥ rank of m·p(j)/j; a test warns when q ≤ FDR_Q and count ≥
#   MIN_COUNT.

WINDOW_DAYS = 7
BASELINE_WEEKS = 12
GUARD_WEEKS = 2
MIN_BASELINE_WEEKS = 6
MIN_COUNT = 3
DISPERSION_ALPHA = 0.05
FDR_Q = 0.05
_TAIL_EPS = 1e-16
_MAX_TERMS = 100_000

SCOPES = ("week", "today")
SCOPE_WORDS = {"week": "本周", "today": "今日"}
MODEL_WORDS = {"poisson": "泊松", "negbin": "负二项"}


# --- the windows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """Local days ``first``..``last``, both inclusive."""

    first: date
    last: date


def window_days(today: date) -> Days:
    """本周: the WINDOW_DAYS local days ending ``today``."""
    return Days(today - timedelta(days=WINDOW_DAYS - 1), today)


def baseline_weeks(today: date) -> list[Days]:
    """The BASELINE_WEEKS weeks of the baseline, oldest first, after the guard band."""
    last = today - timedelta(days=WINDOW_DAYS * (GUARD_WEEKS + 1))
    ends = [last - timedelta(days=7 * i) for i in range(BASELINE_WEEKS - 1, -1, -1)]
    return [Days(e - timedelta(days=6), e) for e in ends]


def usable_weeks(weeks: Sequence[Days], data_start: date | None) -> list[Days]:
    """The baseline weeks that begin on or after the source's first local day (None: no data at all)."""
    if data_start is None:
        return []
    return [w for w in weeks if w.first >= data_start]


# --- tails ----------------------------------------------------------------------------------


def _upper_tail(k: int, logpmf, mode: float) -> float:
    """Σ_{i ≥ k} pmf(i), summed from k upwards until the terms vanish past the mode."""
    if k <= 0:
        return 1.0
    total = 0.0
    i = k
    while i < k + _MAX_TERMS:
        term = math.exp(logpmf(i))
        total += term
        if i > mode and term <= _TAIL_EPS * total:
            break
        i += 1
    return min(1.0, total)


def poisson_sf(k: int, mean: float) -> float:
    """P(X ≥ k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if k <= mean:  # the lower side is the short sum here
        lower = sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1)) for i in range(k))
        return min(1.0, max(0.0, 1.0 - lower))
    return _upper_tail(k, lambda i: i * math.log(mean) - mean - math.lgamma(i + 1), mean)


def negbin_r(mean: float, variance: float) -> float | None:
    """Method-of-moments size r = mean² / (variance − mean); None unless variance > mean > 0."""
    if mean <= 0 or variance <= mean:
        return None
    return mean * mean / (variance - mean)


def negbin_sf(k: int, mean: float, variance: float) -> float:
    """P(X ≥ k) for the negative binomial with this mean and variance (> mean):
    pmf(i) = Γ(i+r) / (Γ(r)·i!) · p^r · (1−p)^i, r = mean²/(variance−mean), p = r/(r+mean)."""
    r = negbin_r(mean, variance)
    if r is None:
        return poisson_sf(k, mean)
    if k <= 0:
        return 1.0
    lp, lq = math.log(r / (r + mean)), math.log(mean / (r + mean))

    def logpmf(i: int) -> float:
        return math.lgamma(i + r) - math.lgamma(r) - math.lgamma(i + 1) + r * lp + i * lq

    if k <= mean:
        lower = sum(math.exp(logpmf(i)) for i in range(k))
        return min(1.0, max(0.0, 1.0 - lower))
    return _upper_tail(k, logpmf, mean)


def gamma_q(a: float, x: float) -> float:
    """The regularized upper incomplete gamma Q(a, x) (series below a+1, Lentz's continued fraction above)."""
    if x <= 0:
        return 1.0
    lead = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(lead))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(lead) * h)


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df ≥ x)."""
    return gamma_q(df / 2, x / 2)


# --- one test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A baseline sample: its size, mean and (n−1) variance."""

    n: int
    mean: float
    variance: float

    @staticmethod
    def of(counts: Sequence[int]) -> Sample:
        n = len(counts)
        if n == 0:
            return Sample(0, 0.0, 0.0)
        mean = sum(counts) / n
        var = sum((c - mean) ** 2 for c in counts) / (n - 1) if n > 1 else 0.0
        return Sample(n, mean, var)


def overdispersed(s: Sample, alpha: float = DISPERSION_ALPHA) -> bool:
    """Variance > mean and the dispersion index test rejects Poisson at ``alpha``."""
    if s.n < 2 or s.mean <= 0 or s.variance <= s.mean:
        return False
    return chi2_sf((s.n - 1) * s.variance / s.mean, s.n - 1) < alpha


@dataclass(frozen=True)
class Check:
    """One grid × category × window against its baseline (``q`` and ``warn`` set by ``fdr``)."""

    source: str  # incidents | reports
    grid_id: int
    category: str
    scope: str  # week | today
    count: int
    mean: float  # the mean used (after the floor), per week or per day
    baseline_n: int  # weeks (or days) in the sample
    model: str  # poisson | negbin
    p: float
    q: float | None = None
    warn: bool = False


def check(source: str, grid_id: int, category: str, scope: str, count: int, sample: Sample, span: int) -> Check | None:
    """The test of ``count`` against ``sample`` (``span`` = its length in the window's unit
    for the floor: weeks for 本周, days for 今日). None without enough baseline."""
    if sample.n == 0:
        return None
    mean = max(sample.mean, 1.0 / span)
    if overdispersed(sample):
        return Check(source, grid_id, category, scope, count, mean, sample.n, "negbin", negbin_sf(count, mean, sample.variance))
    return Check(source, grid_id, category, scope, count, mean, sample.n, "poisson", poisson_sf(count, mean))


# --- false discovery rate -------------------------------------------------------------------


def bh_qvalues(ps: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    q = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        q[i] = min(1.0, running)
    return q


def fdr(tests: Sequence[Check], level: float = FDR_Q, min_count: int = MIN_COUNT) -> list[Check]:
    """Every test with its q-value and whether it warns (q ≤ level and count ≥ min_count)."""
    qs = bh_qvalues([t.p for t in tests])
    return [replace(t, q=q, warn=q <= level and t.count >= min_count) for t, q in zip(tests, qs)]


# --- words ----------------------------------------------------------------------------------


def p_text(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def reason(grid_name: str, t: Check, noun: str = "起", what: str | None = None) -> str:
    """The warning in words, e.g. "第7网格 盗窃 本周 9 起，基线 2.1 起，p=0.001（泊松）"."""
    label = what or t.category
    return (
        f"{grid_name} {label} {SCOPE_WORDS[t.scope]} {t.count} {noun}，基线 {t.mean:.1f} {noun}，{p_text(t.p)}"
        f"（{MODEL_WORDS[t.model]}，前{t.baseline_n}{'周' if t.scope == 'week' else '天'}）"
    )

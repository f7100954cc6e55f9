"""The arithmetic of every measure: rates, changes, significance, comparisons.

No SQL and no windows here (those are ``queries.measures.windows``). A figure
that cannot be computed (a zero base, nothing to rate) is ``None``; the screen
shows "—" for it, never ∞ or NaN.

* 同比 yoy = (this period − same period last year) / same period last year.
* 环比 pop = (this period − the period just before, same length) / that period.
  Both have the formula ``change``; their windows are ``windows.Periods``'.
* Kinds of a comparison (``comparison``):
  "count": events counted; relative change, with the Poisson 显著 mark (the
  test allows for base windows of another length, e.g. a month of 28 days);
  "rate": a Ratio (or a share in 0..1); change in percentage points, no mark;
  "level": a mean, a median, hours, a roster; relative change, no mark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    """A rate with its parts, so the screen can show "47/50" next to "94.0%"."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def below(self, target: float | None) -> bool:
        """Short of a target (the station's, ``dashboard.station.Targets``);
        never when there is no target or nothing to rate."""
        return target is not None and self.value is not None and self.value < target


def change(current: float | None, base: float | None) -> float | None:
    """Relative change (current − base) / base: the formula of both 同比 and 环比.

    None when either side is unknown or the base is zero (no ∞, no NaN).
    """
    if current is None or base is None:
        return None
    if isinstance(current, float) and math.isnan(current) or isinstance(base, float) and math.isnan(base):
        return None
    if base == 0:
        return None
    return (current - base) / base


# A 同比/环比 change of a count is marked only below this p-value. Small counts
# are never marked: with 5 events or fewer in both periods together even 5 vs 0
# gives p = 0.0625.
SIGNIFICANCE_LEVEL = 0.05
_EXACT_LIMIT = 5000


def poisson_p_value(current: int, base: int, exposure_ratio: float = 1.0) -> float | None:
    """Two-sided p-value of "the two counts come from the same Poisson rate".

    The conditional (exact) test: given n = current + base events, under the
    null hypothesis ``current`` ~ Binomial(n, q) with q = r / (1 + r), where r
    is the ratio of the current period's length to the base period's (1 for
    同比 and 环比, which compare periods of equal length). The p-value sums the
    probabilities of every outcome no more likely than the one observed. Above
    5,000 events the normal approximation with continuity correction is used.
    None when there is nothing to test (n = 0) or a count is negative.
    """
    if current is None or base is None or current < 0 or base < 0 or exposure_ratio <= 0:
        return None
    current, base = int(current), int(base)
    n = current + base
    if n == 0:
        return None
    q = exposure_ratio / (1.0 + exposure_ratio)
    if n > _EXACT_LIMIT:
        sd = math.sqrt(n * q * (1 - q))
        z = max(abs(current - n * q) - 0.5, 0.0) / sd
        return min(1.0, math.erfc(z / math.sqrt(2)))
    lq, l1q = math.log(q), math.log1p(-q)
    lfn = math.lgamma(n + 1)

    def logpmf(k: int) -> float:
        return lfn - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lq + (n - k) * l1q

    observed = logpmf(current)
    tol = observed + 1e-7  # outcomes as likely as the observed one count too (float noise)
    total = 0.0
    for k in range(n + 1):
        lp = logpmf(k)
        if lp <= tol:
            total += math.exp(lp)
    return min(1.0, total)


def significant(current: float | None, base: float | None, exposure_ratio: float = 1.0) -> bool:
    """True when a change between two event counts is unlikely to be noise (Poisson test, p < 0.05)."""
    if current is None or base is None:
        return False
    if not (float(current).is_integer() and float(base).is_integer()):
        return False
    p = poisson_p_value(int(current), int(base), exposure_ratio)
    return p is not None and p < SIGNIFICANCE_LEVEL


@dataclass(frozen=True)
class Compared:
    """A figure with its 同比 and 环比 (None = "—") and the bases they came from.

    ``yoy_sig``/``pop_sig`` mark a change of a count that a Poisson test finds
    significant (p < 0.05); small counts show their change without the mark.
    Rates and levels never carry the mark. ``ratio`` is a rate's current
    numerator and denominator (for "47/50"), None for other kinds.
    """

    value: float | None
    yoy: float | None
    pop: float | None
    yoy_base: float | None
    pop_base: float | None
    yoy_sig: bool = False
    pop_sig: bool = False
    ratio: Ratio | None = None
    # What the 同比/环比 compare with, in words ("对比 去年同日同一时刻"), and the
    # span of a calendar period so far ("本月 2 天"): set by ``Periods.judge``
    # (``basis_texts``, ``span_note``); None where the figure was not compared there.
    yoy_basis: str | None = None
    pop_basis: str | None = None
    span: str | None = None

    @property
    def detail(self) -> str | None:
        """A rate's "numerator/denominator", None for other kinds."""
        return None if self.ratio is None else f"{self.ratio.numerator}/{self.ratio.denominator}"


def point_change(current: float | None, base: float | None) -> float | None:
    """Change of a rate in percentage points (0.962 vs 0.950 → +0.012).

    Rates (办结率, 化解率…) are compared by difference, not by relative change:
    "同比上升1.2个百分点" is how a briefing states it. None when either is unknown.
    """
    if current is None or base is None:
        return None
    return current - base


COMPARISON_KINDS = ("count", "rate", "level")


def _rate_value(x: Ratio | float | None) -> float | None:
    return x.value if isinstance(x, Ratio) else x


def comparison(
    value: float | Ratio | None,
    yoy_base: float | Ratio | None,
    pop_base: float | Ratio | None,
    kind: str = "count",
    yoy_exposure: float = 1.0,
    pop_exposure: float = 1.0,
) -> Compared:
    """The arithmetic of every 同比/环比: ``value`` against its two bases (None = unknown).

    ``kind`` is one of COMPARISON_KINDS (see the module docstring); the
    exposures are the current window's length over each base's, for the
    significance test of counts.
    """
    if kind == "rate":
        v, y, p = _rate_value(value), _rate_value(yoy_base), _rate_value(pop_base)
        return Compared(v, point_change(v, y), point_change(v, p), y, p, ratio=value if isinstance(value, Ratio) else None)
    if kind == "level":
        return Compared(value, change(value, yoy_base), change(value, pop_base), yoy_base, pop_base)
    if kind == "count":
        return Compared(
            value,
            change(value, yoy_base),
            change(value, pop_base),
            yoy_base,
            pop_base,
            significant(value, yoy_base, yoy_exposure),
            significant(value, pop_base, pop_exposure),
        )
    raise ValueError(f"kind must be one of {COMPARISON_KINDS}")


def compare(value: float | None, yoy_base: float | None, pop_base: float | None) -> Compared:
    """A count with its 同比 and 环比 and whether each change is significant (``comparison``)."""
    return comparison(value, yoy_base, pop_base, "count")


def compare_rates(value: Ratio, yoy_base: Ratio | None, pop_base: Ratio | None) -> Compared:
    """A rate with its 同比/环比 as percentage-point differences (``comparison``)."""
    return comparison(value, yoy_base, pop_base, "rate")

"""One KPI tile of the desk pages: a figure, how it compares, whether it is bad news.

A leaf of the query layer: it needs only the comparison arithmetic
(``Compared``), so every query module and page can import ``Kpi`` at the top
without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from queries.measures.arithmetic import Compared


@dataclass(frozen=True)
class Kpi:
    """One tile: a figure, how it compares, and whether it is bad news.

    ``kind`` is "count" (同比/环比 are relative changes) or "rate" (value in
    0..1, 同比/环比 are percentage-point differences). ``detail`` is e.g.
    "47/50" for a rate. ``alarm`` marks a figure the wall shows in red.
    """

    key: str
    label: str
    kind: str
    compared: Compared
    detail: str | None = None
    alarm: bool = False
    # True: up is good news (rates); False: up is bad (incidents, backlog);
    # None: neither (more reports means more eyes, not more trouble).
    higher_is_better: bool | None = False

    @property
    def yoy_basis(self) -> str | None:
        """What the 同比 compares with, in words ("对比 去年同日同一时刻"): the Periods' own."""
        return self.compared.yoy_basis

    @property
    def pop_basis(self) -> str | None:
        """What the 环比 compares with ("对比 昨日同一时刻")."""
        return self.compared.pop_basis

    @property
    def span(self) -> str | None:
        """"本月 2 天" when the tile's window is a calendar period so far."""
        return self.compared.span

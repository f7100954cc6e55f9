"""The station's own words: categories, urgencies and dispute kinds.

The ``vocabulary`` table holds, per kind, the codes the data rows carry with
the name the screen shows, their order, an optional colour and the "key
category" flag (重点类别: the trends page's tiles). The demo seeds it with its
lists; an import adds the categories its file brought. Values found in the
data but missing from the table (another system wrote them) are appended, so
nothing the database holds is left off a legend or a filter. A database from
before the vocabulary existed reads the demo's lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from dashboard.db import schema
from queries._common import fetch_df

MAX_KEY = 5  # key categories shown as tiles when the station flagged none
_DATA_COLUMN = {
    "incident_category": schema.incidents.c.category,
    "report_category": schema.reports.c.category,
    "dispute_kind": schema.disputes.c.kind,
    "urgency": schema.reports.c.urgency,
}


@dataclass(frozen=True)
class Term:
    code: str
    name: str
    order: int
    colour: str | None  # the station's own; None = the screen's palette by position
    key: bool


@dataclass(frozen=True)
class Vocabulary:
    kind: str
    terms: tuple[Term, ...]

    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def colours(self, palette: list[str] | tuple[str, ...]) -> dict[str, str]:
        """Each code's colour: the station's own, else the palette by position."""
        return {t.code: t.colour or palette[t.order % len(palette)] for t in self.terms}

    def name(self, code: str) -> str:
        for t in self.terms:
            if t.code == code:
                return t.name
        return code

    def key_codes(self) -> tuple[str, ...]:
        """The key categories: those flagged, else the first few in the station's order."""
        flagged = tuple(t.code for t in self.terms if t.key)
        return flagged or self.codes()[:MAX_KEY]


def vocabulary(engine: Engine, kind: str) -> Vocabulary:
    """One kind of the station's vocabulary, in its order, with the data's other values after.

    Grain: one Term per code.
    """
    v = schema.vocabulary
    rows = fetch_df(engine, select(v.c.code, v.c.name, v.c.sort_order, v.c.colour, v.c.key_category).where(v.c.kind == kind).order_by(v.c.sort_order, v.c.code))
    if len(rows):
        # A NULL colour comes back as NaN when other rows have one: the palette's, then.
        base = [(r.code, r.name, bool(r.key_category), r.colour if isinstance(r.colour, str) and r.colour else None) for r in rows.itertuples()]
    else:
        base = [(d["code"], d["name"], d["key_category"], None) for d in schema.default_vocabulary() if d["kind"] == kind]
    col = _DATA_COLUMN.get(kind)
    known = {b[0] for b in base}
    extra: list[str] = []
    if col is not None:
        found = fetch_df(engine, select(col.label("code")).where(col.is_not(None)).distinct())
        extra = sorted(str(c) for c in found["code"] if str(c) not in known)
    terms = []
    for i, (code, name, key, colour) in enumerate(base + [(c, c, False, None) for c in extra]):
        terms.append(Term(code, name, i, colour, key))
    return Vocabulary(kind, tuple(terms))

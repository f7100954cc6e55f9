"""Small SQL expressions that differ between SQLite and PostgreSQL.

Stored times are naive UTC. The local day, hour and weekday are those of the
station's time zone (``dashboard.station``): a zone with a fixed offset (all of
China) adds it in SQL; a zone with daylight saving converts per row, with
``AT TIME ZONE`` on PostgreSQL and the ``jw_local`` function every SQLite
engine registers (``dashboard.db.database``). The zone is part of the expression
(and so of SQLAlchemy's statement cache key); its name is checked against the
IANA list before it reaches SQL text, and an offset is a whole number.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from dashboard import station
from dashboard.timeutil import SQLITE_LOCAL_FUNCTION


def _zone_clause() -> ColumnElement:
    """The station's zone as a literal for the compilers: '+480' (minutes, fixed
    offset) or the quoted IANA name."""
    st = station.current()
    offset = st.fixed_offset
    if offset is not None:
        return literal_column(f"{int(offset.total_seconds() // 60):+d}")
    return literal_column("'%s'" % station.check_zone(st.time_zone))


def _parts(element, compiler, **kw) -> tuple[str, str]:
    ts, zone = list(element.clauses)
    return compiler.process(ts, **kw), zone.name


def _sqlite_local(element, compiler, **kw) -> tuple[str, str]:
    """(the time argument, the modifier) of SQLite's date functions, in local time."""
    ts, zone = _parts(element, compiler, **kw)
    if zone.startswith("'"):
        return f"{SQLITE_LOCAL_FUNCTION}({ts}, {zone})", ""
    return ts, f", '{zone} minutes'"


def _pg_local(element, compiler, **kw) -> str:
    ts, zone = _parts(element, compiler, **kw)
    if zone.startswith("'"):
        return f"(({ts} AT TIME ZONE 'UTC') AT TIME ZONE {zone})"
    return f"({ts} + interval '{zone} minutes')"


class _local_day(FunctionElement):
    type = String()
    inherit_cache = True
    name = "local_day"


class _local_hour(FunctionElement):
    type = Integer()
    inherit_cache = True
    name = "local_hour"


class _local_weekday(FunctionElement):
    type = Integer()
    inherit_cache = True
    name = "local_weekday"


def local_day(ts: ColumnElement) -> ColumnElement:
    """Local calendar day of a UTC timestamp, as text 'YYYY-MM-DD'."""
    return _local_day(ts, _zone_clause())


def local_hour(ts: ColumnElement) -> ColumnElement:
    """Local hour of day 0..23 of a UTC timestamp."""
    return _local_hour(ts, _zone_clause())


def local_weekday(ts: ColumnElement) -> ColumnElement:
    """Local day of week of a UTC timestamp, 0 = Sunday .. 6 = Saturday."""
    return _local_weekday(ts, _zone_clause())


@compiles(_local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    return "date(%s%s)" % _sqlite_local(element, compiler, **kw)


@compiles(_local_day, "postgresql")
def _local_day_pg(element, compiler, **kw):
    return "to_char(%s, 'YYYY-MM-DD')" % _pg_local(element, compiler, **kw)


@compiles(_local_hour, "sqlite")
def _local_hour_sqlite(element, compiler, **kw):
    return "CAST(strftime('%%H', %s%s) AS INTEGER)" % _sqlite_local(element, compiler, **kw)


@compiles(_local_hour, "postgresql")
def _local_hour_pg(element, compiler, **kw):
    return "CAST(EXTRACT(HOUR FROM %s) AS INTEGER)" % _pg_local(element, compiler, **kw)


@compiles(_local_weekday, "sqlite")
def _local_weekday_sqlite(element, compiler, **kw):
    return "CAST(strftime('%%w', %s%s) AS INTEGER)" % _sqlite_local(element, compiler, **kw)


@compiles(_local_weekday, "postgresql")
def _local_weekday_pg(element, compiler, **kw):
    return "CAST(EXTRACT(DOW FROM %s) AS INTEGER)" % _pg_local(element, compiler, **kw)


class minutes_between(FunctionElement):
    """Minutes from the first timestamp to the second (may be fractional)."""

    type = Float()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element, compiler, **kw):
    a, b = list(element.clauses)
    return "((julianday(%s) - julianday(%s)) * 1440.0)" % (compiler.process(b, **kw), compiler.process(a, **kw))


@compiles(minutes_between, "postgresql")
def _minutes_pg(element, compiler, **kw):
    a, b = list(element.clauses)
    return "(EXTRACT(EPOCH FROM (%s - %s)) / 60.0)" % (compiler.process(b, **kw), compiler.process(a, **kw))

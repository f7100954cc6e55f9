"""Small SQL expressions that differ between SQLite and PostgreSQL.

Stored times are naive UTC; Asia/Shanghai is a fixed UTC+8 (no DST since 1991),
so local day and hour are computed by adding 8 hours in SQL.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class local_day(FunctionElement):
    """Local calendar day of a UTC timestamp, as text 'YYYY-MM-DD'."""

    type = String()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):  # noqa: ANN001
    return "date(%s, '+8 hours')" % compiler.process(element.clauses, **kw)


@compiles(local_day, "postgresql")
def _local_day_pg(element, compiler, **kw):  # noqa: ANN001
    return "to_char(%s + interval '8 hours', 'YYYY-MM-DD')" % compiler.process(element.clauses, **kw)


class local_hour(FunctionElement):
    """Local hour of day 0..23 of a UTC timestamp."""

    type = Integer()
    inherit_cache = True
    name = "local_hour"


@compiles(local_hour, "sqlite")
def _local_hour_sqlite(element, compiler, **kw):  # noqa: ANN001
    return "CAST(strftime('%%H', %s, '+8 hours') AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(local_hour, "postgresql")
def _local_hour_pg(element, compiler, **kw):  # noqa: ANN001
    return "CAST(EXTRACT(HOUR FROM %s + interval '8 hours') AS INTEGER)" % compiler.process(element.clauses, **kw)


class local_weekday(FunctionElement):
    """Local day of week of a UTC timestamp, 0 = Sunday .. 6 = Saturday."""

    type = Integer()
    inherit_cache = True
    name = "local_weekday"


@compiles(local_weekday, "sqlite")
def _local_weekday_sqlite(element, compiler, **kw):  # noqa: ANN001
    return "CAST(strftime('%%w', %s, '+8 hours') AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(local_weekday, "postgresql")
def _local_weekday_pg(element, compiler, **kw):  # noqa: ANN001
    return "CAST(EXTRACT(DOW FROM %s + interval '8 hours') AS INTEGER)" % compiler.process(element.clauses, **kw)


class minutes_between(FunctionElement):
    """Minutes from the first timestamp to the second (may be fractional)."""

    type = Float()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element, compiler, **kw):  # noqa: ANN001
    a, b = list(element.clauses)
    return "((julianday(%s) - julianday(%s)) * 1440.0)" % (compiler.process(b, **kw), compiler.process(a, **kw))


@compiles(minutes_between, "postgresql")
def _minutes_pg(element, compiler, **kw):  # noqa: ANN001
    a, b = list(element.clauses)
    return "(EXTRACT(EPOCH FROM (%s - %s)) / 60.0)" % (compiler.process(b, **kw), compiler.process(a, **kw))


def as_float(expr: ColumnElement) -> ColumnElement:
    from sqlalchemy import cast

    return cast(expr, Float)

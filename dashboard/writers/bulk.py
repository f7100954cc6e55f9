"""Bulk loading: PostgreSQL COPY, or chunked executemany elsewhere.

Used by the demo generator (millions of rows at district scale). Rows are
plain tuples in the order of ``columns``, holding Python values (int, float,
str, bool, naive UTC datetime, None), never numpy scalars.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

from psycopg import sql
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.engine import Connection

from dashboard.db import schema

DEFAULT_CHUNK = 10_000


def _table(table: Table | str) -> Table:
    if isinstance(table, Table):
        return table
    return schema.metadata.tables[table]


def bulk_insert(
    conn: Connection,
    table: Table | str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    chunk_size: int = DEFAULT_CHUNK,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` inside the caller's transaction.

    PostgreSQL: one ``COPY ... FROM STDIN`` through psycopg 3 on the
    connection's own DBAPI connection (same transaction). Other backends:
    SQLAlchemy Core ``executemany`` in chunks of ``chunk_size``. Returns the
    number of rows written.
    """
    t = _table(table)
    cols = list(columns)
    unknown = [c for c in cols if c not in t.c]
    if unknown:
        raise ValueError(f"table {t.name} has no column(s) {unknown}")
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        return _copy_postgres(conn, t, cols, rows)
    stmt = t.insert()
    n = 0
    it = iter(rows)
    while True:
        chunk = list(islice(it, chunk_size))
        if not chunk:
            break
        conn.execute(stmt, [dict(zip(cols, r)) for r in chunk])
        n += len(chunk)
    return n


def _pg_type(col) -> str | None:
    """PostgreSQL type name for binary COPY, or None when we do not know it."""
    t = col.type
    if isinstance(t, SmallInteger):
        return "int2"
    if isinstance(t, BigInteger):
        return "int8"
    if isinstance(t, Integer):
        return "int4"
    if isinstance(t, Float):
        return "float8"
    if isinstance(t, DateTime):
        return "timestamptz" if t.timezone else "timestamp"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, (String, Text)):
        return "text"  # varchar and text share their binary format
    return None


def _copy_postgres(conn: Connection, t: Table, cols: list[str], rows: Iterable[Sequence]) -> int:
    types = [_pg_type(t.c[c]) for c in cols]
    binary = all(types)  # binary COPY is ~15 % faster; it needs every column's type up front
    target = sql.Identifier(t.schema, t.name) if t.schema else sql.Identifier(t.name)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")).format(
        target, sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    )
    raw = conn.connection.driver_connection
    n = 0
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        if binary:
            copy.set_types(types)
        write = copy.write_row
        for r in rows:
            write(r)
            n += 1
    return n


def reset_sequences(conn: Connection, tables: Iterable[Table | str]) -> None:
    """After explicit ids were written: move each table's id sequence to max(id).

    PostgreSQL only (``pg_get_serial_sequence`` + ``setval``), so the next
    ordinary INSERT (the grid app, 110, the simulator) gets max(id) + 1. SQLite
    picks max(rowid) + 1 by itself, so this is a no-op there.
    """
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        t = _table(table)
        if "id" not in t.c:
            continue
        name = f"{t.schema}.{t.name}" if t.schema else t.name
        seq = conn.execute(select(func.pg_get_serial_sequence(name, "id"))).scalar()
        if seq is None:
            continue
        top = conn.execute(select(func.max(t.c.id))).scalar()
        # setval(seq, 1, false): the next value is 1 on an empty table.
        conn.execute(select(func.setval(seq, top if top is not None else 1, top is not None)))

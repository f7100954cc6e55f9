"""PostgreSQL roles for the dashboard, so that read-only is the database's own rule.

``python -m dashboard.roles`` (run as the owner of the tables, e.g. the role
that ran ``python -m dashboard.migrate``, or a superuser) creates or updates
three login roles on the database ``DATABASE_URL`` names:

* **reader** (default ``jwrh_reader``): the dashboard's ``DATABASE_URL``.
  SELECT on every table and nothing else; tables created later by the owner
  are readable too (default privileges). ``default_transaction_read_only`` is
  set on the role as well, as a second line only: the grants are the rule.
* **writer** (default ``jwrh_writer``): the simulator's and importer's
  ``DATABASE_URL``. SELECT, INSERT, UPDATE and DELETE on the data tables,
  SELECT only on the tables of accounts and the audit trail
  (``PROTECTED_TABLES``), which it can neither change nor erase.
* **audit** (default ``jwrh_audit``): the dashboard's ``DASHBOARD_AUDIT_URL``.
  INSERT into ``audit_log`` and nothing else: it writes who opened which
  personal data, and cannot read, change or delete the trail.

Run it again after every migration (new tables get their grants). Passwords
come from environment variables named on the command line (never from the
command line itself, which other users of the host can see); without one a
role has no password and logs in the way ``pg_hba.conf`` allows (peer, cert).

``python -m dashboard.roles --check`` prints what the role in
``DATABASE_URL`` could change (nothing, for a proper reader) and exits 1 if
anything.

Utility statements such as ``GRANT`` and ``CREATE ROLE`` cannot take bound
parameters: role, table and schema names are checked against a strict
pattern and composed as identifiers by psycopg (``psycopg.sql``), passwords
as literals it escapes (``_ddl``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass

from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from dashboard.config import load_settings
from dashboard.db.database import describe_url, make_writer, reader_write_powers, run_command

# Tables the writer may read but not change: accounts, the audit trail and
# the schema version. Every other table of ours is a data table.
PROTECTED_TABLES = ("alembic_version", "users", "user_communities", "audit_log")
AUDIT_TABLE = "audit_log"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class RoleNames:
    reader: str = "jwrh_reader"
    writer: str = "jwrh_writer"
    audit: str = "jwrh_audit"

    def __post_init__(self) -> None:
        for n in (self.reader, self.writer, self.audit):
            if not ROLE_NAME.match(n):
                raise ValueError(f"role name {n!r} must be lower-case letters, digits and _ (at most 63)")
        if len({self.reader, self.writer, self.audit}) != 3:
            raise ValueError("the reader, writer and audit roles must be three different roles")


def _ddl(conn: Connection, template: str, *names: str, literal: str | None = None) -> None:
    """Run a utility statement (GRANT, CREATE ROLE …): these take no bound
    parameters, so the names go in as identifiers quoted by psycopg
    (``{}`` in ``template``) and a password as a literal it escapes (``{lit}``);
    the names are also pattern-checked first."""
    for n in names:
        if not ROLE_NAME.match(n):
            raise ValueError(f"unsafe identifier {n!r}")
    parts = {"lit": sql.Literal(literal)} if literal is not None else {}
    stmt = sql.SQL(template).format(*(sql.Identifier(n) for n in names), **parts)
    with conn.connection.dbapi_connection.cursor() as cur:  # the same transaction as conn
        cur.execute(stmt)


def _tables(conn: Connection) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        )
    )
    return [r[0] for r in rows if ROLE_NAME.match(r[0])]


def _sequences(conn: Connection) -> list[tuple[str, str | None]]:
    """(sequence, the table that owns it) of the schema."""
    rows = conn.execute(
        text(
            "SELECT s.relname, t.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
            "LEFT JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "LEFT JOIN pg_class t ON t.oid = d.refobjid "
            "WHERE n.nspname = current_schema() AND s.relkind = 'S'"
        )
    )
    return [(s, t) for s, t in rows if ROLE_NAME.match(s)]


def _role_exists(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first() is not None


def apply(engine: Engine, names: RoleNames = RoleNames(), passwords: dict[str, str] | None = None, log=print) -> None:
    """Create or update the three roles and their grants on ``engine``'s database."""
    if engine.dialect.name != "postgresql":
        raise SystemExit(
            "roles are a PostgreSQL feature; on SQLite the dashboard's reader opens the file read-only "
            "(mode=ro, query_only and an authorizer that allows reading only)"
        )
    passwords = passwords or {}
    with engine.begin() as conn:
        db = conn.execute(text("SELECT current_database()")).scalar()
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        owner = conn.execute(text("SELECT current_user")).scalar()
        for n in (db, schema, owner):
            if not ROLE_NAME.match(n):
                raise SystemExit(f"unsupported database, schema or user name {n!r} (lower-case letters, digits and _ only)")
        for role in (names.reader, names.writer, names.audit):
            verb = "updated" if _role_exists(conn, role) else "created"
            if verb == "created":
                _ddl(conn, "CREATE ROLE {} LOGIN", role)
            # Never more than a login: no superuser, no role or database creation, no RLS bypass.
            _ddl(conn, "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT", role)
            if role in passwords:
                _ddl(conn, "ALTER ROLE {} PASSWORD {lit}", role, literal=passwords[role])
            _ddl(conn, "GRANT CONNECT ON DATABASE {} TO {}", db, role)
            _ddl(conn, "GRANT USAGE ON SCHEMA {} TO {}", schema, role)
            _ddl(conn, "REVOKE CREATE ON SCHEMA {} FROM {}", schema, role)
            log(f"role {role} {verb}")
        _ddl(conn, "ALTER ROLE {} SET default_transaction_read_only = on", names.reader)
        tables = _tables(conn)
        for t in tables:
            for role in (names.reader, names.writer, names.audit):
                _ddl(conn, "REVOKE ALL ON TABLE {} FROM {}", t, role)
            _ddl(conn, "GRANT SELECT ON TABLE {} TO {}", t, names.reader)
            if t in PROTECTED_TABLES:
                _ddl(conn, "GRANT SELECT ON TABLE {} TO {}", t, names.writer)
            else:
                _ddl(conn, "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {} TO {}", t, names.writer)
            if t == AUDIT_TABLE:
                _ddl(conn, "GRANT INSERT ON TABLE {} TO {}", t, names.audit)
        for seq, table in _sequences(conn):
            for role in (names.reader, names.writer, names.audit):
                _ddl(conn, "REVOKE ALL ON SEQUENCE {} FROM {}", seq, role)
            if table is None or table not in PROTECTED_TABLES:
                _ddl(conn, "GRANT USAGE, SELECT, UPDATE ON SEQUENCE {} TO {}", seq, names.writer)
            if table == AUDIT_TABLE:
                _ddl(conn, "GRANT USAGE ON SEQUENCE {} TO {}", seq, names.audit)
        # Tables the owner creates later (a new migration) are readable at once;
        # the writer's and the audit role's grants come with the next run of this.
        _ddl(conn, "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}", owner, schema, names.reader)
        log(f"grants on {len(tables)} tables of {db}.{schema}: {names.reader} SELECT; {names.writer} data tables; {names.audit} INSERT into {AUDIT_TABLE}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dashboard.roles", description=__doc__.split("\n\n")[0])
    p.add_argument("--reader", default=RoleNames.reader, help="reader role name (default %(default)s)")
    p.add_argument("--writer", default=RoleNames.writer, help="writer role name (default %(default)s)")
    p.add_argument("--audit", default=RoleNames.audit, help="audit role name (default %(default)s)")
    for r in ("reader", "writer", "audit"):
        p.add_argument(f"--{r}-password-env", metavar="VAR", help=f"take the {r} role's password from environment variable VAR")
    p.add_argument("--check", action="store_true", help="print what the role in DATABASE_URL could change; exit 1 if anything")
    a = p.parse_args(argv)
    url = load_settings().database_url
    engine = make_writer(url)

    def body() -> int:
        if a.check:
            with engine.connect() as conn:
                powers = reader_write_powers(conn)
            if powers:
                print(f"{describe_url(url)} can write: " + "; ".join(powers))
                return 1
            print(f"{describe_url(url)} can only read")
            return 0
        names = RoleNames(a.reader, a.writer, a.audit)
        passwords = {}
        for r in ("reader", "writer", "audit"):
            var = getattr(a, f"{r}_password_env")
            if var:
                if not os.environ.get(var):
                    raise ValueError(f"environment variable {var} is empty or unset")
                passwords[getattr(names, r)] = os.environ[var]
        apply(engine, names, passwords)
        return 0

    return run_command(body, url, engine)

if __name__ == "__main__":
    sys.exit(main())

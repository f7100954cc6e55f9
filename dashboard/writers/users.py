"""Accounts and roles: ``python -m dashboard.users``.

Run on the database ``DATABASE_URL`` names, as its owner (the PostgreSQL
writer and reader roles may not change accounts). Every change is written to
the audit trail as ``user_admin`` by ``cli:<operating-system user>``.

    python -m dashboard.users add zhangsan --role commander --name 张三 --station WLT
    python -m dashboard.users add lisi --role duty --community WLT-C01 --community WLT-C02
    python -m dashboard.users update zhangsan --role leader
    python -m dashboard.users disable lisi
    python -m dashboard.users list
    python -m dashboard.users wall-key wall-01 --station WLT    # prints the key once
    python -m dashboard.users audit --since 2026-12-01

Roles: duty 值班员 (view), commander 指挥员 (view, open personal data per
item), leader 所领导 (as commander, and read the audit trail), admin 管理员
(view, read the audit trail), wall 大屏 (the LED wall only, with a key).
Without --station and --community an account sees every station.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from dashboard import auth, timeutil
from dashboard.config import load_settings
from dashboard.db import audit
from dashboard.db.database import make_writer, run_command
from dashboard.db.schema import USER_ROLES, user_communities, users
from queries import accounts

WALL_KEY_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits


class UsageError(Exception):
    pass


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in a bare container
        return "cli"


def _check(username: str, role: str | None) -> None:
    if not auth.USERNAME.match(username):
        raise UsageError(f"user name {username!r}: letters, digits and . _ @ - only, at most 64")
    if role is not None and role not in USER_ROLES:
        raise UsageError(f"role {role!r}: one of {', '.join(USER_ROLES)}")


def _user_id(conn, username: str) -> int | None:
    return conn.execute(select(users.c.id).where(users.c.username == username)).scalar()


def _set_communities(conn, uid: int, codes: list[str]) -> None:
    conn.execute(delete(user_communities).where(user_communities.c.user_id == uid))
    if codes:
        conn.execute(insert(user_communities), [{"user_id": uid, "community_code": c} for c in sorted(set(codes))])


def _audit(engine: Engine, username: str, detail: str) -> None:
    audit.record(engine, username=_actor(), role="admin", action="user_admin", object_type="user", object_id=username, detail=detail)


def add(engine: Engine, username: str, role: str, *, name: str = "", station: str | None = None, communities: list[str] | None = None, key_hash: str | None = None) -> None:
    _check(username, role)
    now = timeutil.utcnow()
    with engine.begin() as conn:
        if _user_id(conn, username) is not None:
            raise UsageError(f"user {username} exists; use update")
        uid = conn.execute(
            insert(users).values(
                username=username, display_name=name, role=role, station_code=station, active=True, key_hash=key_hash,
                created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]
        _set_communities(conn, uid, communities or [])
    _audit(engine, username, f"add role={role} station={station or '*'} communities={','.join(communities or []) or '*'}")


def change(
    engine: Engine,
    username: str,
    *,
    role: str | None = None,
    name: str | None = None,
    station: str | None = None,
    all_stations: bool = False,
    communities: list[str] | None = None,
    all_communities: bool = False,
    active: bool | None = None,
    key_hash: str | None = None,
) -> None:
    _check(username, role)
    values: dict = {"updated_at": timeutil.utcnow()}
    if role is not None:
        values["role"] = role
    if name is not None:
        values["display_name"] = name
    if station is not None:
        values["station_code"] = station
    if all_stations:
        values["station_code"] = None
    if active is not None:
        values["active"] = active
    if key_hash is not None:
        values["key_hash"] = key_hash
    with engine.begin() as conn:
        uid = _user_id(conn, username)
        if uid is None:
            raise UsageError(f"no user {username}")
        conn.execute(update(users).where(users.c.id == uid).values(**values))
        if communities is not None or all_communities:
            _set_communities(conn, uid, [] if all_communities else communities or [])
    said = {k: v for k, v in values.items() if k not in ("updated_at", "key_hash")}
    if key_hash is not None:
        said["key"] = "new"
    if communities is not None or all_communities:
        said["communities"] = "*" if all_communities else ",".join(communities or [])
    _audit(engine, username, "update " + " ".join(f"{k}={v}" for k, v in said.items()))


def wall_key(engine: Engine, name: str, *, station: str | None = None, communities: list[str] | None = None) -> str:
    """Create the wall account ``name`` or give it a new key; returns the key (shown once)."""
    key = secrets.token_urlsafe(WALL_KEY_BYTES)
    h = auth.hash_key(key)
    with engine.connect() as conn:
        row = conn.execute(select(users.c.id, users.c.role).where(users.c.username == name)).first()
    if row is None:
        add(engine, name, "wall", name=name, station=station, communities=communities, key_hash=h)
    else:
        if row.role != "wall":
            raise UsageError(f"{name} is a {row.role} account, not a wall")
        change(engine, name, key_hash=h, station=station, communities=communities, active=True)
    return key


def _print_table(rows: list[list[str]], head: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
    for r in [head, *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dashboard.users", description="Accounts and roles of the dashboard.")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="add an account")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=USER_ROLES)
    a.add_argument("--name", default="", help="display name, e.g. 张三")
    a.add_argument("--station", help="station code (scope); default every station")
    a.add_argument("--community", action="append", default=[], help="community code (scope); repeat for several")
    u = sub.add_parser("update", help="change an account")
    u.add_argument("username")
    u.add_argument("--role", choices=USER_ROLES)
    u.add_argument("--name")
    u.add_argument("--station")
    u.add_argument("--all-stations", action="store_true")
    u.add_argument("--community", action="append")
    u.add_argument("--all-communities", action="store_true")
    for verb in ("disable", "enable"):
        sub.add_parser(verb, help=f"{verb} an account").add_argument("username")
    sub.add_parser("list", help="list the accounts")
    w = sub.add_parser("wall-key", help="create a wall account or give it a new key (printed once)")
    w.add_argument("name")
    w.add_argument("--station")
    w.add_argument("--community", action="append")
    au = sub.add_parser("audit", help="print the audit trail, newest first")
    au.add_argument("--user")
    au.add_argument("--since", help="YYYY-MM-DD (local date)")
    au.add_argument("--limit", type=int, default=50)
    args = p.parse_args(argv)

    url = load_settings().database_url
    engine = make_writer(url)

    def body() -> None:
        if args.cmd == "add":
            add(engine, args.username, args.role, name=args.name, station=args.station, communities=args.community)
            print(f"added {args.username} ({auth.ROLES[args.role].label})")
        elif args.cmd == "update":
            change(
                engine, args.username, role=args.role, name=args.name, station=args.station, all_stations=args.all_stations,
                communities=args.community, all_communities=args.all_communities,
            )
            print(f"updated {args.username}")
        elif args.cmd in ("disable", "enable"):
            change(engine, args.username, active=args.cmd == "enable")
            print(f"{args.cmd}d {args.username}")
        elif args.cmd == "list":
            df = accounts.accounts(engine)
            rows = [
                [r.username, r.display_name, f"{r.role} {auth.ROLES[r.role].label}" if r.role in auth.ROLES else r.role,
                 r.station_code if isinstance(r.station_code, str) else "*", r.communities or "*", "yes" if r.active else "no", "yes" if r.has_key else ""]
                for r in df.itertuples()
            ]
            _print_table(rows, ["username", "name", "role", "station", "communities", "active", "wall key"])
        elif args.cmd == "wall-key":
            key = wall_key(engine, args.name, station=args.station, communities=args.community)
            print(f"wall account {args.name}: key (shown once, store it in the wall's kiosk URL only):\n{key}")
            print(f"open the wall with: http://HOST:8501/wall?key={key}")
        elif args.cmd == "audit":
            since = None
            if args.since:
                since = timeutil.day_start_utc(datetime.strptime(args.since, "%Y-%m-%d").date())
            df = accounts.audit_entries(engine, since=since, username=args.user, limit=args.limit)
            rows = [
                [timeutil.fmt_local(r.at, timeutil.SECOND), r.username, r.role or "", r.action,
                 f"{r.object_type or ''} {r.object_id or ''}".strip(), r.client or "", (r.detail or "")[:80]]
                for r in df.itertuples()
            ]
            _print_table(rows, ["at (local)", "user", "role", "action", "object", "from", "detail"])

    return run_command(body, url, engine, usage_errors=(UsageError, ValueError))

if __name__ == "__main__":
    sys.exit(main())

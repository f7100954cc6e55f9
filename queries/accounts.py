"""Accounts, the audit trail and facts about the data set (reads only; the
writers are ``dashboard.users`` and ``dashboard.db.audit``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from dashboard.db.schema import audit_log, dataset_info, user_communities, users
from queries._common import fetch_df


@dataclass(frozen=True)
class Account:
    """One row of ``users`` with its community scope."""

    username: str
    display_name: str
    role: str
    station_code: str | None
    community_codes: tuple[str, ...]
    active: bool


def _account(engine: Engine, cond) -> Account | None:
    df = fetch_df(
        engine,
        select(users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.station_code, users.c.active).where(cond).limit(1),
    )
    if df.empty:
        return None
    r = df.iloc[0]
    codes = fetch_df(
        engine,
        select(user_communities.c.community_code).where(user_communities.c.user_id == int(r["id"])).order_by(user_communities.c.community_code),
    )
    return Account(
        username=str(r["username"]),
        display_name=str(r["display_name"] or ""),
        role=str(r["role"]),
        station_code=None if pd.isna(r["station_code"]) else str(r["station_code"]),
        community_codes=tuple(str(c) for c in codes["community_code"]),
        active=bool(r["active"]),
    )


def account(engine: Engine, username: str) -> Account | None:
    """The account named ``username`` (active or not), or None. Grain: one user."""
    return _account(engine, users.c.username == username)


def account_by_key(engine: Engine, key_hash: str) -> Account | None:
    """The account whose wall key hashes to ``key_hash`` (sha256 hex), or None."""
    return _account(engine, users.c.key_hash == key_hash)


def accounts(engine: Engine) -> pd.DataFrame:
    """Every account. Grain: one row per user. Columns: username, display_name,
    role, station_code, communities (comma-separated codes), active, has_key, updated_at."""
    df = fetch_df(
        engine,
        select(
            users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.station_code, users.c.active,
            users.c.key_hash.isnot(None).label("has_key"), users.c.updated_at,
        ).order_by(users.c.username),
    )
    sc = fetch_df(engine, select(user_communities.c.user_id, user_communities.c.community_code).order_by(user_communities.c.community_code))
    by_user = sc.groupby("user_id")["community_code"].agg(",".join).to_dict() if len(sc) else {}
    df["communities"] = [by_user.get(int(i), "") for i in df["id"]]
    return df.drop(columns=["id"])


def audit_entries(engine: Engine, since: datetime | None = None, username: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The audit trail, newest first. Grain: one row per entry. Columns: id, at
    (UTC), username, role, action, object_type, object_id, detail, client."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= since)
    if username is not None:
        stmt = stmt.where(audit_log.c.username == username)
    return fetch_df(engine, stmt)


def dataset_facts(engine: Engine) -> dict[str, str]:
    """Facts about the data set, e.g. {"origin": "demo"} for the generated world."""
    df = fetch_df(engine, select(dataset_info.c.key, dataset_info.c.value))
    return dict(zip(df["key"], df["value"]))

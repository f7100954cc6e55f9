"""Who is at the screen, and what they may see: identity, roles and scope.

Anyone who reaches the port would otherwise see live patrol positions,
today's incident locations and report texts with addresses. The way a person
is identified is chosen by ``DASHBOARD_AUTH``:

* ``dev`` (the default of the two-command README): no sign-in. Everyone is
  the demo user (``DEV_USER``, role 指挥员, every station), and every page and
  the wall carries "演示模式 · 未启用登录". Never for a real station.
* ``header``: the intranet's reverse proxy or single-sign-on gateway has
  authenticated the person and names them in a header
  (``DASHBOARD_AUTH_HEADER``, default ``X-Remote-User``). The proxy must
  overwrite that header on every request (README: the nginx snippet), and
  Streamlit listens on 127.0.0.1 only (``dashboard.serve`` insists), so only
  the proxy can reach it. With ``DASHBOARD_PROXY_SECRET`` set the proxy also
  sends ``X-Jwrh-Proxy-Secret``: a request without it is refused, which keeps
  out other local processes too.
* ``oidc``: Streamlit's own ``st.login`` against an OIDC provider (e.g. the
  intranet's Keycloak; ``[auth]`` in ``.streamlit/secrets.toml``); the claim
  ``DASHBOARD_OIDC_CLAIM`` (default ``preferred_username``, then ``email``)
  names the person.

In every mode a wall may present a long-lived key instead: ``/wall?key=…``
(made by ``python -m dashboard.users wall-key``; only its sha256 is stored),
or, behind the proxy, a client certificate that the proxy turns into the
header like any other user. A person named by any of these must have an
active row in ``users`` (``python -m dashboard.users``): their role gives
their rights (``ROLES``), their station and communities their scope, which
every query honours through ``Filters.scope``.

This module holds the rules only (no Streamlit): ``dashboard.ui.frame`` reads
the headers, ``st.user`` and the URL and calls ``identify``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Callable, Mapping

from dashboard.filters import Catalogue

PROXY_SECRET_HEADER = "X-Jwrh-Proxy-Secret"
KEY_PARAM = "key"
USERNAME = re.compile(r"^[\w.@-]{1,64}$")  # letters (CJK too), digits, . _ @ -


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    desk: bool  # the desk pages
    wall: bool  # the LED wall
    unmask: bool  # open full names and phones, per item, audited
    audit: bool  # read the audit trail


ROLES: dict[str, Role] = {
    "duty": Role("duty", "值班员", desk=True, wall=True, unmask=False, audit=False),
    "commander": Role("commander", "指挥员", desk=True, wall=True, unmask=True, audit=False),
    "leader": Role("leader", "所领导", desk=True, wall=True, unmask=True, audit=True),
    "admin": Role("admin", "管理员", desk=True, wall=True, unmask=False, audit=True),
    "wall": Role("wall", "大屏", desk=False, wall=True, unmask=False, audit=False),
}
DEV_USER = "demo"


@dataclass(frozen=True)
class Identity:
    username: str
    display_name: str
    role: Role
    station_code: str | None  # None: every station
    community_codes: tuple[str, ...]  # empty: every community of the station(s)
    via: str  # "dev", "header", "oidc" or "key"
    client: str | None = None  # where the request came from, for the audit trail

    @property
    def label(self) -> str:
        """How the header names the person: "张三（指挥员）"."""
        return f"{self.display_name or self.username}（{self.role.label}）"


@dataclass(frozen=True)
class Denied:
    """Nobody, or somebody who may not see this: the page shows ``zh`` and stops."""

    zh: str
    en: str
    username: str | None = None
    sign_in: bool = False  # offer st.login (OIDC, not signed in yet)
    audit: bool = True  # write a "denied" entry (not for "please sign in")


def hash_key(key: str) -> str:
    """A wall key as stored: sha256 hex (the key itself is never stored)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def client_address(headers: Mapping[str, str], direct: str | None, *, behind_proxy: bool) -> str | None:
    """The client's address: behind the trusted proxy, what it says (X-Real-IP,
    else the first X-Forwarded-For hop); otherwise the socket's peer."""
    if behind_proxy:
        real = (headers.get("X-Real-Ip") or headers.get("X-Real-IP") or "").strip()
        if real:
            return real[:128]
        fwd = (headers.get("X-Forwarded-For") or "").split(",")[0].strip()
        if fwd:
            return fwd[:128]
    return direct[:128] if direct else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def _from_account(acc, via: str, client: str | None) -> Identity | Denied:  # queries.accounts.Account
    if not acc.active:
        return Denied(f"账号 {acc.username} 已停用，无权访问。请联系管理员。", f"account {acc.username} is disabled", acc.username)
    role = ROLES.get(acc.role)
    if role is None:
        return Denied(f"账号 {acc.username} 的角色无效，无权访问。请联系管理员。", f"account {acc.username} has unknown role {acc.role!r}", acc.username)
    return Identity(acc.username, acc.display_name, role, acc.station_code, acc.community_codes, via, client)


def identify(
    *,
    mode: str,
    lookup: Callable[[str], object | None],
    lookup_key: Callable[[str], object | None],
    headers: Mapping[str, str],
    params: Mapping[str, str],
    user: Mapping[str, object] | None,
    client: str | None,
    header_name: str = "X-Remote-User",
    proxy_secret: str | None = None,
    oidc_claim: str = "preferred_username",
) -> Identity | Denied:
    """Who this is, or why not. ``lookup(username)`` / ``lookup_key(hash)`` return
    an account (``queries.accounts.Account``) or None; ``user`` is ``st.user``."""
    key = params.get(KEY_PARAM)
    if isinstance(key, list):
        key = key[-1] if key else None
    if mode == "header" and proxy_secret is not None:
        sent = _header(headers, PROXY_SECRET_HEADER) or ""
        if not hmac.compare_digest(sent.encode(), proxy_secret.encode()):
            return Denied(
                "请通过单位统一入口访问看板（本请求未经认证代理）。",
                f"request without the proxy's {PROXY_SECRET_HEADER}: not through the trusted proxy",
            )
    if key:
        if not isinstance(key, str) or len(key) > 200:
            return Denied("大屏密钥无效。", "malformed wall key")
        acc = lookup_key(hash_key(key))
        if acc is None:
            return Denied("大屏密钥无效或已被更换，请联系管理员。", "unknown wall key")
        ident = _from_account(acc, "key", client)
        if isinstance(ident, Identity) and ident.role.code != "wall":
            return Denied("该密钥不是大屏密钥。", f"key of non-wall account {ident.username}", ident.username)
        return ident
    if mode == "dev":
        return Identity(DEV_USER, "演示用户", ROLES["commander"], None, (), "dev", client)
    if mode == "header":
        name = (_header(headers, header_name) or "").strip()
        if not name:
            return Denied(
                "未识别登录身份：请通过单位统一认证入口访问看板。",
                f"no {header_name} header: not signed in at the proxy",
                audit=False,
            )
        via = "header"
    elif mode == "oidc":
        if not user or not user.get("is_logged_in"):
            return Denied("请先登录。", "not signed in", sign_in=True, audit=False)
        name = str(user.get(oidc_claim) or user.get("email") or "").strip()
        if not name:
            return Denied("登录信息中缺少用户名，无法识别身份。", f"OIDC claims lack {oidc_claim} and email")
        via = "oidc"
    else:
        return Denied("看板登录方式配置有误。", f"unknown DASHBOARD_AUTH {mode!r}")
    if not USERNAME.match(name):
        return Denied("登录用户名格式无效。", f"malformed user name {name[:64]!r}")
    acc = lookup(name)
    if acc is None:
        return Denied(f"账号 {name} 未在看板登记，无权访问。请联系管理员开通。", f"unknown user {name}", name)
    return _from_account(acc, via, client)


def may_open(ident: Identity, *, wall: bool) -> Denied | None:
    """None when the role may open the wall (``wall``) or a desk page."""
    if wall and not ident.role.wall:
        return Denied("您的角色不能打开指挥大屏。", f"role {ident.role.code} may not open the wall", ident.username)
    if not wall and not ident.role.desk:
        return Denied("大屏账号只能打开指挥大屏（/wall）。", f"role {ident.role.code} may open the wall only", ident.username)
    return None


def scope_of(ident: Identity, cat: Catalogue) -> tuple[Catalogue, tuple[int, ...] | None] | Denied:
    """The places ``ident`` may see: the catalogue cut to them, and the
    community ids every query is held to (None: no limit)."""
    if ident.station_code is None and not ident.community_codes:
        return cat, None
    comms = list(cat.communities)
    if ident.station_code is not None:
        station = cat.by_code("station", ident.station_code)
        comms = [c for c in comms if station is not None and c.parent_id == station.id]
    if ident.community_codes:
        comms = [c for c in comms if c.code in ident.community_codes]
    if not comms:
        where = "、".join(x for x in (ident.station_code, *ident.community_codes) if x)
        return Denied(
            f"您的账号辖区（{where}）在当前数据中不存在，无可显示的数据。请联系管理员。",
            f"scope {where} of {ident.username} matches no place",
            ident.username,
        )
    ids = {c.id for c in comms}
    station_ids = {c.parent_id for c in comms}
    return (
        Catalogue(
            stations=tuple(s for s in cat.stations if s.id in station_ids),
            communities=tuple(c for c in cat.communities if c.id in ids),
            grids=tuple(g for g in cat.grids if g.parent_id in ids),
        ),
        tuple(sorted(ids)),
    )

"""Sign-in, roles and scope (dashboard.auth, the frame, dashboard.users) and the
append-only audit trail, on the session's backend.

The rules are tested directly; the pages through AppTest in each mode: the
trusted header (AppTest cannot send headers, so ``frame.request_headers`` is
replaced), OIDC (``at.user`` seeds ``st.user``), a wall key, and the
development mode that the two-command README starts. The header mode behind
a real nginx is in test_auth_browser.py.
"""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from streamlit.testing.v1 import AppTest

from bench.queries import (  # the benchmark's list of every query function
    ID_MAX,
    call,
    query_functions,
)
from dashboard import auth, mask
from dashboard.config import load_settings
from dashboard.db import audit
from dashboard.db.database import make_writer
from dashboard.filters import Filters
from dashboard.ui import frame
from dashboard.writers import users
from queries import accounts, incidents, places, reports
from tests.apptest import APP, html_text, open_page
from tests.browser import ROOT
from tests.conftest import FIXTURE_END, audit_url

pytestmark = pytest.mark.backend

NOW = FIXTURE_END


# --- accounts on the session's world --------------------------------------------


@pytest.fixture(scope="module")
def admin(world_url):
    engine = make_writer(world_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def people(admin, cat):
    """Accounts of every role; one scoped to the first community. Returns the wall key."""
    c1 = cat.communities[0].code
    station = cat.stations[0].code
    existing = set(accounts.accounts(admin)["username"])
    for name, role, kw in [
        ("t_duty", "duty", {"communities": [c1]}),
        ("t_commander", "commander", {"name": "张指挥", "station": station}),
        ("t_leader", "leader", {}),
        ("t_off", "duty", {}),
        ("t_ghost", "duty", {"station": "NO-SUCH"}),
    ]:
        if name not in existing:
            users.add(admin, name, role, **kw)
    users.change(admin, "t_off", active=False)
    key = users.wall_key(admin, "t_wall", communities=[c1])
    frame._account.clear()
    frame._account_by_key.clear()
    return {"key": key, "community": c1}


def _lookups(engine):
    return {"lookup": lambda n: accounts.account(engine, n), "lookup_key": lambda h: accounts.account_by_key(engine, h)}


# --- the rules --------------------------------------------------------------------


def test_dev_mode_is_the_demo_commander(world):
    ident = auth.identify(mode="dev", headers={}, params={}, user=None, client="1.2.3.4", **_lookups(world))
    assert isinstance(ident, auth.Identity) and ident.via == "dev" and ident.role.code == "commander"


@pytest.mark.parametrize(
    "headers, expect",
    [
        ({"X-Remote-User": "t_commander"}, "t_commander"),
        ({"x-remote-user": "t_leader"}, "t_leader"),  # header names are case-insensitive
        ({}, "未识别登录身份"),
        ({"X-Remote-User": "nobody"}, "未在看板登记"),
        ({"X-Remote-User": "t_off"}, "已停用"),
        ({"X-Remote-User": "a b<script>"}, "格式无效"),
    ],
)
def test_header_mode(world, people, headers, expect):
    ident = auth.identify(mode="header", headers=headers, params={}, user=None, client=None, **_lookups(world))
    if isinstance(ident, auth.Identity):
        assert ident.username == expect and ident.via == "header"
    else:
        assert expect in ident.zh


def test_proxy_secret_is_required_when_set(world, people):
    common = dict(mode="header", params={}, user=None, client=None, proxy_secret="s" * 20, **_lookups(world))
    denied = auth.identify(headers={"X-Remote-User": "t_commander"}, **common)
    assert isinstance(denied, auth.Denied) and "统一入口" in denied.zh
    ok = auth.identify(headers={"X-Remote-User": "t_commander", "X-Jwrh-Proxy-Secret": "s" * 20}, **common)
    assert isinstance(ok, auth.Identity)


def test_oidc_mode(world, people):
    common = dict(mode="oidc", headers={}, params={}, client=None, **_lookups(world))
    assert auth.identify(user={"is_logged_in": False}, **common).sign_in
    ident = auth.identify(user={"is_logged_in": True, "preferred_username": "t_leader", "email": "x@y"}, **common)
    assert isinstance(ident, auth.Identity) and ident.username == "t_leader"
    by_mail = auth.identify(user={"is_logged_in": True, "email": "t_commander"}, **common)
    assert isinstance(by_mail, auth.Identity)


def test_wall_key(world, people):
    common = dict(mode="header", headers={}, user=None, client=None, **_lookups(world))
    ident = auth.identify(params={"key": people["key"]}, **common)
    assert isinstance(ident, auth.Identity) and ident.role.code == "wall" and ident.via == "key"
    assert auth.may_open(ident, wall=True) is None
    assert "只能打开指挥大屏" in auth.may_open(ident, wall=False).zh
    bad = auth.identify(params={"key": people["key"][:-1] + "x"}, **common)
    assert isinstance(bad, auth.Denied) and "密钥无效" in bad.zh
    # the key itself is nowhere in the database, only its hash
    with world.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE key_hash = :k"), {"k": people["key"]}).scalar() == 0


def test_scope_cuts_the_catalogue(world, people, cat):
    duty = auth.identify(mode="header", headers={"X-Remote-User": "t_duty"}, params={}, user=None, client=None, **_lookups(world))
    scoped, ids = auth.scope_of(duty, cat)
    c1 = cat.by_code("community", people["community"])
    assert ids == (c1.id,) and [c.code for c in scoped.communities] == [c1.code]
    assert {g.id for g in scoped.grids} == {g.id for g in cat.grids_of(c1.id)}
    leader = auth.identify(mode="header", headers={"X-Remote-User": "t_leader"}, params={}, user=None, client=None, **_lookups(world))
    assert auth.scope_of(leader, cat) == (cat, None)
    ghost = auth.identify(mode="header", headers={"X-Remote-User": "t_ghost"}, params={}, user=None, client=None, **_lookups(world))
    assert "不存在" in auth.scope_of(ghost, cat).zh


def test_every_query_honours_the_scope(world, cat):
    """The scope alone gives what the community filter gives, for every query
    function that takes Filters (parts of the place filter cannot widen it)."""

    c = cat.communities[1]
    today = FIXTURE_END.date()
    scoped = Filters(scope=(c.id,)).with_period("30d", today)
    narrowed = Filters(community_id=c.id, scope=(c.id,)).with_period("30d", today)
    plain = Filters(community_id=c.id).with_period("30d", today)
    ID_MAX.update({"task_id": 1, "report_id": 1, "dispute_id": 1, "incident_id": 1, "grid_id": 1})
    checked = 0
    for name, fn in query_functions():
        if "f" not in inspect.signature(fn).parameters:
            continue
        a, b = call(fn, world, narrowed, NOW), call(fn, world, plain, NOW)
        assert _same(a, b), f"{name}: scope changed a community-filtered result"
        checked += 1
    assert checked > 40
    # and the scope alone never shows another community's rows
    other = cat.communities[0]
    w = scoped.window(NOW)
    assert incidents.count(world, replace_scope(scoped, other.id), w) + incidents.count(world, scoped, w) <= incidents.count(world, Filters(), w)
    by_grid = incidents.by_grid(world, scoped, w)
    assert set(by_grid["grid_id"]) <= {g.id for g in cat.grids_of(c.id)}
    latest = reports.latest(world, scoped.places_only(), w, limit=200)
    assert set(latest["grid_id"]) <= {g.id for g in cat.grids_of(c.id)}
    shapes = places.grid_shapes(world, scoped)
    assert set(shapes["community_id"]) == {c.id}
    # a grid outside the scope gives nothing, even when named directly
    foreign = cat.grids_of(other.id)[0]
    assert incidents.count(world, Filters(grid_id=foreign.id, scope=(c.id,)), w) == 0


def replace_scope(f: Filters, community_id: int) -> Filters:
    return replace(f, scope=(community_id,))


def _same(a, b) -> bool:


    if dataclasses.is_dataclass(a) and not isinstance(a, type):  # field by field (a field may be a DataFrame)
        return type(a) is type(b) and all(_same(getattr(a, x.name), getattr(b, x.name)) for x in dataclasses.fields(a))
    if isinstance(a, pd.DataFrame):  # the same rows; ties may come in either order
        if list(a.columns) != list(b.columns) or len(a) != len(b):
            return False
        key = [c for c in a.columns if a[c].map(lambda v: isinstance(v, (int, float, str))).all()]
        sa, sb = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
        return sa.equals(sb)
    return a == b


# --- the audit trail is append-only -----------------------------------------------


def test_audit_trail_refuses_update_and_delete_even_for_its_owner(admin):
    audit.record(admin, username="t_x", role="duty", action="unmask", object_type="report", object_id=1, detail="test")
    for statement in ("UPDATE audit_log SET username = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError) as err:
            with admin.begin() as conn:
                conn.execute(text(statement))
        assert "append-only" in str(err.value)
    if admin.dialect.name == "postgresql":
        with pytest.raises(DBAPIError):
            with admin.begin() as conn:
                conn.execute(text("TRUNCATE audit_log"))
    assert len(accounts.audit_entries(admin, username="t_x")) >= 1


def test_audit_writer_can_only_insert(world_reader_url, admin):
    s = load_settings({"DATABASE_URL": world_reader_url, **({"DASHBOARD_AUDIT_URL": a} if (a := audit_url(world_reader_url)) else {})})
    w = audit.make_audit_writer(s)
    audit.record(w, username="t_writer", role="duty", action="sign_in")
    for statement in ("SELECT count(*) FROM reports", "INSERT INTO departments (id, name, kind) VALUES (999, 'x', 'y')", "SELECT * FROM audit_log"):
        with pytest.raises(DBAPIError):
            with w.begin() as conn:
                conn.execute(text(statement))
    w.dispose()


def test_no_audit_no_unmask_on_a_reader_without_insert(world_reader_url):
    """PostgreSQL with no DASHBOARD_AUDIT_URL: the reader role cannot write the trail, so nothing is unmasked."""

    if not world_reader_url.startswith("postgresql"):
        pytest.skip("SQLite writes the trail into the same file")
    w = audit.make_audit_writer(load_settings({"DATABASE_URL": world_reader_url}))
    with pytest.raises(audit.AuditUnavailable) as err:
        audit.record(w, username="t", role="duty", action="unmask")
    assert "不能显示明文" in err.value.zh
    w.dispose()


# --- the users command ----------------------------------------------------------------


def test_users_command(world_url, people):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dashboard.users", *args], cwd=ROOT, env={"PATH": "/usr/bin:/bin", "DATABASE_URL": world_url},
            capture_output=True, text=True, timeout=60,
        )

    listed = run("list")
    assert listed.returncode == 0 and "t_commander" in listed.stdout and "指挥员" in listed.stdout
    assert run("add", "t_cli", "--role", "duty", "--name", "李值班").returncode in (0, 2)  # 2: left by an earlier run
    assert run("update", "t_cli", "--role", "leader").returncode == 0
    bad = run("add", "x y", "--role", "duty")
    assert bad.returncode == 2 and "user name" in bad.stderr
    trail = run("audit", "--user", "cli:" + __import__("getpass").getuser(), "--limit", "5")
    assert trail.returncode == 0 and "user_admin" in trail.stdout


# --- the pages, in each mode ----------------------------------------------------------


@pytest.fixture
def header_mode(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_AUTH", "header")

    def as_user(name: str | None, **extra: str) -> None:
        hdrs = {"X-Remote-User": name} if name else {}
        hdrs.update(extra)
        monkeypatch.setattr(frame, "request_headers", lambda: hdrs)

    return as_user


def test_dev_mode_pages_and_wall_are_marked(app_env):
    at = open_page("pages/desk/overview.py")
    assert not at.exception
    body = html_text(at)
    assert "演示模式 · 未启用登录" in body and "演示数据" in body and "演示用户（指挥员）" in body
    wall = open_page("pages/wall/wall.py")
    assert not wall.exception
    assert "演示模式 · 未启用登录" in html_text(wall) and "演示数据" in html_text(wall)


def test_header_mode_without_a_user_shows_nothing(header_mode):
    header_mode(None)
    at = open_page("pages/desk/overview.py")
    assert not at.exception
    assert any("未识别登录身份" in e.value for e in at.error)
    assert "今日警情" not in html_text(at)


def test_header_mode_unknown_user_is_refused_and_audited(header_mode, admin):
    header_mode("t_stranger")
    at = open_page("pages/desk/reports.py")
    assert any("未在看板登记" in e.value for e in at.error)
    assert "今日上报" not in html_text(at)
    trail = accounts.audit_entries(admin, username="t_stranger", limit=5)
    assert "denied" in set(trail["action"])


def test_header_mode_user_sees_their_name_and_no_demo_mode_mark(header_mode, people):
    header_mode("t_commander")
    at = open_page("pages/desk/overview.py")
    assert not at.exception and not at.error
    body = html_text(at)
    assert "张指挥（指挥员）" in body and "未启用登录" not in body and "今日警情" in body


def test_scoped_user_sees_their_community_only(header_mode, people, cat):
    header_mode("t_duty")
    at = open_page("pages/desk/overview.py")
    assert not at.exception
    mine = cat.by_code("community", people["community"])
    community_box = at.selectbox(key="jw_community")
    assert set(community_box.options) == {"全部社区", mine.name}
    other = next(c for c in cat.communities if c.id != mine.id)
    at = open_page("pages/desk/overview.py", {"community": other.code})
    assert any("未知的社区" in w.value for w in at.warning)  # outside the scope: as if unknown


def test_scoped_user_cannot_open_another_communitys_report(header_mode, people, world, cat):
    header_mode("t_duty")
    mine = cat.by_code("community", people["community"])
    mine_grids = {g.id for g in cat.grids_of(mine.id)}
    w = Filters().with_period("30d", FIXTURE_END.date()).window(NOW)
    df = reports.latest(world, Filters(), w, limit=200)
    foreign = int(df[~df["grid_id"].isin(mine_grids)].iloc[0]["id"])
    at = open_page("pages/desk/reports.py", {"report": str(foreign)})
    assert not at.exception
    assert any("不在您的辖区内" in x.value for x in at.warning)


def test_duty_has_no_unmask_button_commander_has_and_it_is_audited(header_mode, people, world, admin):
    w = Filters().with_period("30d", FIXTURE_END.date()).window(NOW)
    rid = int(reports.latest(world, Filters(), w, limit=1).iloc[0]["id"])
    header_mode("t_leader")
    at = open_page("pages/desk/reports.py", {"report": str(rid)})
    show = [b for b in at.button if b.label == "显示明文"]
    assert len(show) == 1
    before = len(accounts.audit_entries(admin, username="t_leader", limit=500))
    at = show[0].click().run()
    assert not at.exception
    assert any(b.label == "隐藏明文" for b in at.button)
    trail = accounts.audit_entries(admin, username="t_leader", limit=500)
    assert len(trail) == before + 1
    last = trail.iloc[0]
    assert last["action"] == "unmask" and last["object_type"] == "report" and last["object_id"] == str(rid)
    header_mode("t_duty")
    at = open_page("pages/desk/reports.py", {"report": str(rid)})
    assert not any(b.label == "显示明文" for b in at.button)


def test_unmasked_detail_shows_the_full_name(header_mode, people, world):
    w = Filters().with_period("30d", FIXTURE_END.date()).window(NOW)
    df = reports.latest(world, Filters(), w, limit=50)
    row = df[df["reporter"].notna()].iloc[0]
    rid, full = int(row["id"]), str(row["reporter"])
    header_mode("t_leader")
    at = open_page("pages/desk/reports.py", {"report": str(rid)})
    assert full not in html_text(at) and mask.name(full) in html_text(at)
    at = next(b for b in at.button if b.label == "显示明文").click().run()
    assert full in html_text(at)
    at = next(b for b in at.button if b.label == "隐藏明文").click().run()
    assert full not in html_text(at)


def test_wall_key_opens_the_wall_not_the_desk(header_mode, people):
    header_mode(None)
    wall = open_page("pages/wall/wall.py", {"key": people["key"]})
    assert not wall.exception
    assert "今日警情" in html_text(wall) and "无权访问" not in html_text(wall)
    desk = open_page("pages/desk/overview.py", {"key": people["key"]})
    assert any("只能打开指挥大屏" in e.value for e in desk.error)
    bad = open_page("pages/wall/wall.py", {"key": "wrong"})
    assert "密钥无效" in html_text(bad) and "今日警情" not in html_text(bad)


def test_oidc_mode_asks_to_sign_in_then_knows_the_user(app_env, people, monkeypatch):
    monkeypatch.setenv("DASHBOARD_AUTH", "oidc")
    at = AppTest.from_file(APP, default_timeout=120)
    at.user = {"is_logged_in": False}
    at.switch_page("pages/desk/overview.py").run()
    assert any("请先登录" in e.value for e in at.error)
    assert any(b.label == "登录" for b in at.button)
    at = AppTest.from_file(APP, default_timeout=120)
    at.user = {"is_logged_in": True, "preferred_username": "t_commander", "email": "zhang@example.org"}
    at.switch_page("pages/desk/overview.py").run()
    assert not at.exception and not at.error
    assert "张指挥（指挥员）" in html_text(at) and any(b.label == "退出登录" for b in at.button)


def test_audit_page_for_the_roles_that_may_read_it(header_mode, people):
    header_mode("t_leader")
    at = open_page("pages/desk/audit.py")
    assert not at.exception and not at.error
    assert any(p.label == "审计日志" for p in at.get("page_link"))
    assert "审计日志" in html_text(at) and len(at.dataframe) == 1
    shown = at.dataframe[0].value
    assert {"时间", "用户", "操作", "来源地址"} <= set(shown.columns) and len(shown) > 0
    header_mode("t_duty")
    at = open_page("pages/desk/audit.py")
    assert any("无权查看审计日志" in e.value for e in at.error)
    at = open_page("pages/desk/overview.py")
    assert not any(p.label == "审计日志" for p in at.get("page_link"))

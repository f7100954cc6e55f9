"""The app's frame: engine, database health, first-run demo data, the shared
filter bar (kept in the URL) and cached calls into ``queries``.

Pages call ``context()`` to get what the frame prepared and ``cached(...)``
to run a query function; they never see SQL or build an engine.
"""

from __future__ import annotations

import html
import importlib
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable

import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import auth, mask, timeutil
from dashboard.config import CACHE_MAX_ENTRIES, PROJECT_ROOT, TTL_HISTORY, TTL_LIVE, TTL_PLACES, Settings, load_settings
from dashboard.db import audit
from dashboard.db.database import DatabaseEmpty, DatabaseVanished, DataError, forget_held, log_error, make_reader, make_writer, mark_held, vanished
from dashboard.db.health import Health, check_database
from dashboard.db.schema import INCIDENT_CATEGORIES
from dashboard.filters import PERIODS, URL_KEYS, Catalogue, Filters, decode, encode, period_name, place_label, resolve_period
from dashboard.ui import nav, recovery, widgets
from dashboard.writers.demo import generate
from queries import accounts, dispatch, places
from queries.vocabulary import vocabulary

NOW_RESOLUTION_S = 10  # "now" is floored to this, so cached calls share keys
RETRY_EVERY_S = 2  # a page stopped by a database error checks again this often


@dataclass(frozen=True)
class Context:
    settings: Settings
    engine: Engine
    catalogue: Catalogue  # the places this person may see (auth.scope_of)
    filters: Filters  # with filters.scope set to the same
    now: datetime  # naive UTC, floored to NOW_RESOLUTION_S
    identity: auth.Identity | None = None
    facts: dict[str, str] | None = None  # queries.accounts.dataset_facts

    @property
    def db_key(self) -> str:
        return self.settings.database_url

    def can_see_grid(self, grid_id: int | None) -> bool:
        """Is this grid within the signed-in person's scope?"""
        return grid_id is not None and self.catalogue.by_id("grid", int(grid_id)) is not None

    def marks(self) -> list[str]:
        """What every screen must say about itself: no sign-in, generated data."""
        out = []
        if self.settings.auth_mode == "dev":
            out.append("演示模式 · 未启用登录")
        if (self.facts or {}).get("origin") == "demo":
            out.append("演示数据")
        return out

    def scope_label(self) -> str:
        """Human description of the place filter, e.g. "五里亭社区第3网格" (``filters.place_label``)."""
        return place_label(self.catalogue, self.filters)

    def period_label(self) -> str:
        f = self.filters
        return period_name(f.period, f.start, f.end)


# --- resources ----------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_reader(load_settings())


@st.cache_resource(ttl=10, show_spinner=False)
def _health(url: str) -> Health:
    return check_database(_engine(url), load_settings())


@st.cache_resource(show_spinner=False)
def _first_run_lock() -> threading.Lock:
    return threading.Lock()


@st.cache_data(ttl=TTL_PLACES, max_entries=8, show_spinner=False)
def _catalogue(_engine: Engine, db_key: str) -> Catalogue:
    return places.catalogue(_engine)


TTL_ACCOUNTS = 30  # a disabled account or a changed role takes effect within this


@st.cache_data(ttl=TTL_ACCOUNTS, max_entries=256, show_spinner=False)
def _account(_engine: Engine, db_key: str, username: str):  # queries.accounts.Account | None

    return accounts.account(_engine, username)


@st.cache_data(ttl=TTL_ACCOUNTS, max_entries=64, show_spinner=False)
def _account_by_key(_engine: Engine, db_key: str, key_hash: str):
    return accounts.account_by_key(_engine, key_hash)


@st.cache_data(ttl=TTL_PLACES, max_entries=8, show_spinner=False)
def _facts(_engine: Engine, db_key: str) -> dict[str, str]:
    return accounts.dataset_facts(_engine)


@st.cache_resource(show_spinner=False)
def _audit_engine(url: str, audit_url: str | None) -> Engine:
    return audit.make_audit_writer(load_settings())


def _run(_engine: Engine, fn_path: str, args: tuple) -> Any:
    mod, name = fn_path.rsplit(".", 1)
    return getattr(importlib.import_module(mod), name)(_engine, *args)


@st.cache_data(ttl=TTL_LIVE, max_entries=CACHE_MAX_ENTRIES, show_spinner=False)
def _cached_live(_engine: Engine, db_key: str, fn_path: str, args: tuple) -> Any:
    return _run(_engine, fn_path, args)


@st.cache_data(ttl=TTL_HISTORY, max_entries=CACHE_MAX_ENTRIES, show_spinner=False)
def _cached_history(_engine: Engine, db_key: str, fn_path: str, args: tuple) -> Any:
    return _run(_engine, fn_path, args)


def cached(ctx: Context, fn: Callable[..., Any], *args: Any, live: bool = True) -> Any:
    """Call ``fn(engine, *args)`` through a bounded cache (TTL_LIVE or TTL_HISTORY)."""
    path = f"{fn.__module__}.{fn.__qualname__}"
    runner = _cached_live if live else _cached_history
    return runner(ctx.engine, ctx.db_key, path, args)


# --- start-up -------------------------------------------------------------------------


def _health_error(settings: Settings, health: Health) -> DataError | None:
    """What is wrong, as a reader reports it: on the embedded path, an empty or
    missing database where one was read before is an outage, not a first run."""
    return vanished(settings.database_url, health.error) if settings.embedded else health.error


def _generate_demo(settings: Settings) -> None:
    """First run on the embedded database: write the demo world, with a progress bar."""
    with _first_run_lock():
        if check_database(_engine(settings.database_url), settings).ok:
            return  # another session did it while we waited
        bar = st.progress(0.0, text="首次运行：正在生成演示数据…")
        writer = make_writer(settings.database_url)
        generate(
            writer,
            scale=settings.demo_scale,
            seed=settings.demo_seed,
            months=settings.demo_months,
            progress=lambda frac, msg: bar.progress(min(max(frac, 0.0), 1.0), text=f"首次运行：{msg}"),
        )
        writer.dispose()  # closes the connection: SQLite folds its WAL into the file
        bar.empty()
    _health.clear()
    _catalogue.clear()
    _department_names.clear()


# --- outages ------------------------------------------------------------------------
#
# A page that cannot start (database down, or not yet usable) stops with a
# clear message and a fragment that checks the database every RETRY_EVERY_S
# seconds and reruns the whole app once it is usable: no reload, no click.
# The wall's version is a full-screen red wall-styled message with the time
# the outage was first seen. A wall session that already showed data carries
# on with the places it last had instead (its tiles keep their last data under
# red banners), so a full rerun during an outage never blanks the wall, and
# reruns as a whole once the database is back (rerun_when_back), so tiles that
# refresh only every 30 or 60 s drop their banners with the others. A desk
# page whose own queries lost the database reruns the same way.

_DOWN_SINCE, _DOWN_ERROR, _DOWN_CHECKED = "_jw_down_since", "_jw_down_error", "_jw_down_checked"

WALL_OUTAGE_CSS = PROJECT_ROOT / "assets" / "wall-outage.css"
WALL_CLOCK_JS = PROJECT_ROOT / "assets" / "wall-clock.js"


def _recheck(settings: Settings) -> DataError | None:
    """None when the database is usable again (healthy, places readable); else what is wrong."""
    engine = _engine(settings.database_url)
    health = check_database(engine, settings)
    if not health.ok:
        return _health_error(settings, health)
    try:
        _catalogue(engine, settings.database_url)
    except DataError as err:
        return err
    return None


@st.fragment(run_every=RETRY_EVERY_S)
def _retry_until_usable(wall: bool) -> None:
    """Check the database every RETRY_EVERY_S s; rerun the app once it is usable.
    On the wall, also (re)draw the outage message with its running age."""
    ss = st.session_state
    if time.monotonic() - ss.get(_DOWN_CHECKED, 0.0) >= 1.0:  # the run that just failed has checked
        ss[_DOWN_CHECKED] = time.monotonic()
        err = _recheck(load_settings())
        if err is None:
            _health.clear()
            st.rerun()
        ss[_DOWN_ERROR] = err
    if wall:
        err = ss[_DOWN_ERROR]
        since = ss[_DOWN_SINCE]
        gap = int((timeutil.utcnow() - since).total_seconds())
        since_ms = int(since.replace(tzinfo=timezone.utc).timestamp() * 1000)
        # The seconds run on in the browser (assets/wall-clock.js) while the server checks.
        st.html(
            f'<div class="jw-w-down" data-since="{since.isoformat()}" data-jw-real-ms="{int(time.time() * 1000)}">'
            f'<div class="jw-w-down-title">⚠ 数据源中断</div>'
            f'<div class="jw-w-down-msg">{html.escape(err.zh)}</div>'
            f'<div class="jw-w-down-age">{timeutil.fmt_local(since, timeutil.CLOCK_S)} 起无法取得数据，已中断 '
            f'<span data-jw-since-ms="{since_ms}">{gap}</span> 秒'
            f" · 每 {RETRY_EVERY_S} 秒自动重试，恢复后自动显示</div></div>"
        )


def _stop_with(err: DataError, *, wall: bool = False) -> None:
    ss = st.session_state
    ss.setdefault(_DOWN_SINCE, timeutil.utcnow())
    ss[_DOWN_ERROR] = err
    ss[_DOWN_CHECKED] = time.monotonic()
    if wall:
        widgets.load_script(WALL_CLOCK_JS)
    if wall and VIA in st.query_params:
        # Show the wall's own link while it waits (start_wall would drop "via"
        # once the database is back, and the address would change then).
        st.query_params.from_dict({k: v for k, v in st.query_params.to_dict().items() if k != VIA})
    if not wall:
        st.markdown("#### ⚠ 数据源中断")
        widgets.data_error(err, retry=False)
        st.caption(f"页面每 {RETRY_EVERY_S} 秒自动重试，数据库恢复后自动显示；也可点击下方按钮立即重试。")
        if st.button("重新连接", key="jw_retry"):
            _health.clear()
            st.rerun()
        if isinstance(err, DatabaseVanished):
            _offer_new_demo()
    _retry_until_usable(wall)
    st.stop()


def _offer_new_demo() -> None:
    """The one way a new demo world is written where a database was: a click,
    confirmed, by someone at a desk page (never the wall, never by itself)."""
    with st.expander("改为生成新的演示数据（将丢弃此位置原有数据的记录）"):
        st.caption("仅在确认原数据库无需恢复时使用：看板将在原位置生成一套新的演示数据。")
        sure = st.checkbox("我确认原数据库不再需要恢复", key="jw_new_demo_sure")
        if st.button("生成新的演示数据", key="jw_new_demo", disabled=not sure):
            settings = load_settings()
            forget_held(settings.database_url)
            _health.clear()
            _generate_demo(settings)
            st.rerun()


def _settings() -> Settings:
    """The settings, or a clear message on the page when one is unusable:
    load_settings raises SystemExit for a bad value, which Streamlit's script
    runner does not catch (the page would stay blank)."""
    try:
        return load_settings()
    except SystemExit as err:
        st.error(f"看板配置有误，页面无法显示。请管理员修正以下环境变量后重启看板：{widgets.md_escape(err)}", icon="⚠️")
        st.stop()
        raise  # st.stop() does not return


def _open(settings: Settings, *, wall: bool) -> Catalogue:
    """Check the database (making demo data on the first run of the embedded
    one) and load the places; stop with a self-retrying message when that
    fails, or (wall only) fall back to the places this session last had."""
    health = _health(settings.database_url)
    if not health.ok and settings.embedded and isinstance(_health_error(settings, health), DatabaseEmpty):
        _generate_demo(settings)
        health = _health(settings.database_url)
    err: DataError | None = None
    if not health.ok:
        assert health.error is not None
        _health.clear()  # retry on the next run rather than caching the failure
        err = _health_error(settings, health)
    else:
        if settings.embedded:
            mark_held(settings.database_url)
        try:
            cat = _catalogue(_engine(settings.database_url), settings.database_url)
        except DataError as exc:
            _health.clear()
            err = exc
    if err is not None:
        prev = st.session_state.get(recovery.CONTEXT)
        if wall and isinstance(prev, Context) and prev.db_key == settings.database_url:
            return prev.catalogue
        _stop_with(err, wall=wall)
    for k in (_DOWN_SINCE, _DOWN_ERROR, _DOWN_CHECKED):
        st.session_state.pop(k, None)
    return cat


# --- who is looking ------------------------------------------------------------------
#
# The request's headers, st.user and address are read through these three
# functions (AppTest cannot seed headers, so tests replace request_headers).


def request_headers() -> dict[str, str]:
    try:
        h = st.context.headers.to_dict()
    except Exception:  # noqa: BLE001 - no request (a bare script run): no headers
        return {}
    return {str(k): str(v) for k, v in h.items()} if isinstance(h, dict) else {}


def request_user() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no [auth] configured: nobody is signed in
        return {}


def direct_address() -> str | None:
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no request (a bare script run): no address
        return None
    return ip if isinstance(ip, str) else None


def write_audit(
    ident: auth.Identity | None,
    action: str,
    object_type: str | None = None,
    object_id: Any = None,
    detail: str | None = None,
    *,
    username: str | None = None,
    client: str | None = None,
) -> bool:
    """Append to the audit trail as ``ident`` (or, for someone not identified,
    as ``username`` from ``client``); False (and a log line) when it cannot be written."""
    settings = load_settings()
    try:
        audit.record(
            _audit_engine(settings.database_url, settings.audit_url),
            username=ident.username if ident else (username or "-"), role=ident.role.code if ident else None, action=action,
            object_type=object_type, object_id=object_id, detail=detail, client=ident.client if ident else client,
        )
        return True
    except DataError as err:
        log_error(err)
        return False


def _deny(d: auth.Denied, settings: Settings, *, wall: bool) -> None:
    """Stop the page with the reason, in Chinese (audited once per session)."""
    ss = st.session_state
    if d.audit and ss.get("_jw_denied") != d.en:
        ss["_jw_denied"] = d.en
        client = auth.client_address(request_headers(), direct_address(), behind_proxy=settings.auth_mode == "header")
        write_audit(None, "denied", detail=d.en, username=d.username, client=client)
    if wall:
        widgets.load_css(WALL_OUTAGE_CSS)
        st.html(
            f'<div class="jw-w-down jw-w-denied"><div class="jw-w-down-title">⚠ 无权访问</div>'
            f'<div class="jw-w-down-msg">{html.escape(d.zh)}</div></div>'
        )
    else:
        widgets.header("警网融合指挥大屏 · 综合指挥室", "访问受限")
        st.error(d.zh, icon="🔒")
        if d.sign_in:
            st.button("登录", key="jw_login", type="primary", on_click=_login, args=(settings.oidc_provider,))
    st.stop()


def _login(provider: str | None) -> None:
    if provider:
        st.login(provider)
    else:
        st.login()


def _identify(settings: Settings, engine: Engine, full: Catalogue, *, wall: bool) -> tuple[auth.Identity, Catalogue, tuple[int, ...] | None]:
    """Who is looking, the places they may see and their scope; stops the page when nobody may."""
    headers = request_headers()
    client = auth.client_address(headers, direct_address(), behind_proxy=settings.auth_mode == "header")
    db = settings.database_url
    try:
        ident = auth.identify(
            mode=settings.auth_mode,
            lookup=lambda name: _account(engine, db, name),
            lookup_key=lambda h: _account_by_key(engine, db, h),
            headers=headers,
            params=st.query_params.to_dict(),
            user=request_user() if settings.auth_mode == "oidc" else None,
            client=client,
            header_name=settings.auth_header,
            proxy_secret=settings.proxy_secret,
            oidc_claim=settings.oidc_claim,
        )
    except DataError as err:
        _stop_with(err, wall=wall)
        raise
    if isinstance(ident, auth.Identity) and (refused := auth.may_open(ident, wall=wall)) is not None:
        ident = refused
    if isinstance(ident, auth.Denied):
        _deny(ident, settings, wall=wall)
        raise AssertionError("unreachable")  # st.stop() does not return
    scoped = auth.scope_of(ident, full)
    if isinstance(scoped, auth.Denied):
        _deny(scoped, settings, wall=wall)
        raise AssertionError("unreachable")
    ss = st.session_state
    if ss.get("_jw_signed_in") != ident.username:
        ss["_jw_signed_in"] = ident.username
        write_audit(ident, "sign_in", detail=f"via {ident.via}, {'wall' if wall else 'desk'}")
    return ident, scoped[0], scoped[1]


# --- personal data, per item ---------------------------------------------------------
#
# Names, phones and ID numbers are masked everywhere. A role that may see them
# (auth.Role.unmask) opens one item at a time at the desk: the click writes
# the audit trail first, and only a written entry opens the item, for
# REVEAL_S seconds or until 隐藏明文 or another item is opened.

REVEAL_S = 300
_REVEALED = "_jw_revealed"  # (item key, time.monotonic() when opened)
_REVEAL_ERROR = "_jw_reveal_error"


@dataclass(frozen=True)
class Personal:
    """How one item's personal data is shown: masked, or in full (audited).

    ``units``: the departments' names (``queries.dispatch.department_names``):
    a department is a unit, not a person, and is shown unmasked in a name field
    ("东侨物业服务中心", "城管 李*"); officers and grid workers stay masked."""

    shown: bool
    units: frozenset[str] = frozenset()

    def name(self, s: str | None) -> str:
        return (s or "").strip() if self.shown else mask.name(s, self.units)

    def phone(self, s: str | None) -> str:
        return (s or "").strip() if self.shown else mask.phone(s)

    def text(self, s: str | None) -> str:
        return (s or "") if self.shown else mask.text(s)


MASKED = Personal(False)


def _reveal(key: str, kind: str, obj_id: Any, what: str) -> None:
    ctx = st.session_state.get(recovery.CONTEXT)
    ident = ctx.identity if ctx else None
    if ident is None or not ident.role.unmask:
        return
    if write_audit(ident, "unmask", kind, obj_id, detail=what):
        st.session_state[_REVEALED] = (key, time.monotonic())
        st.session_state.pop(_REVEAL_ERROR, None)
    else:
        st.session_state[_REVEAL_ERROR] = key


def _hide() -> None:
    st.session_state.pop(_REVEALED, None)


def personal(kind: str, obj_id: Any, what: str) -> Personal:
    """The personal data of item ``kind``/``obj_id`` (e.g. "report", 123): masked,
    unless the signed-in role may unmask and opened it here. Draws the
    显示明文 / 隐藏明文 button for such a role; ``what`` says in the audit
    trail what was shown ("上报人姓名、电话、上报内容")."""
    ctx = context()
    masked = Personal(False, department_names(ctx))
    ident = ctx.identity
    if ident is None or not ident.role.unmask:
        return masked
    key = f"{kind}:{obj_id}"
    ss = st.session_state
    opened = ss.get(_REVEALED)
    if opened and opened[0] == key and time.monotonic() - opened[1] < REVEAL_S:
        with st.container(horizontal=True, key=f"jw-reveal-{kind}"):
            st.button("隐藏明文", key=f"jw_hide_{key}", on_click=_hide, icon=":material/visibility_off:")
            st.caption(f"明文显示中（{REVEAL_S // 60} 分钟后自动隐藏）· 本次查看已记入审计：{ident.label}")
        return Personal(True)
    with st.container(horizontal=True, key=f"jw-reveal-{kind}"):
        st.button(
            "显示明文", key=f"jw_show_{key}", on_click=_reveal, args=(key, kind, obj_id, what), icon=":material/visibility:",
            help="显示本条的完整姓名、电话和证件号码；每次查看都记入审计（谁、何时、何处、查看了什么）。",
        )
        if ss.get(_REVEAL_ERROR) == key:
            st.error(audit.REFUSED_ZH, icon="🔒")
    return masked


@st.cache_data(ttl=TTL_PLACES, max_entries=8, show_spinner=False)
def _department_names(_engine: Engine, db_key: str) -> frozenset[str]:
    return dispatch.department_names(_engine)


@st.cache_data(ttl=TTL_PLACES, max_entries=8, show_spinner=False)
def _incident_categories(_engine: Engine, db_key: str) -> tuple[str, ...]:
    return vocabulary(_engine, "incident_category").codes()


def incident_categories(engine: Engine, db_key: str) -> tuple[str, ...]:
    """The station's incident categories (``?cat=`` accepts these), cached like the places.
    A database that cannot answer leaves the filter to the demo's list rather than
    failing the page before its own outage message can be drawn."""
    try:
        return _incident_categories(engine, db_key)
    except DataError:
        return INCIDENT_CATEGORIES


def department_names(ctx: Context) -> frozenset[str]:
    """The departments' names (units, never masked as persons), cached like the places."""
    return _department_names(ctx.engine, ctx.db_key)


def _dataset_facts(settings: Settings, engine: Engine) -> dict[str, str]:
    try:
        return _facts(engine, settings.database_url)
    except DataError:
        return {}


def _now(settings: Settings) -> datetime:
    n = settings.now_override or timeutil.utcnow()
    return n.replace(second=n.second - n.second % NOW_RESOLUTION_S, microsecond=0)


def start(current: str | None = None) -> Context:
    """Check the database, make demo data on first run, draw the header, the page
    menu (``current`` is the running page's url_path) and the filter bar.

    Stops the script (after a clear message, no traceback) when the data
    source cannot be used; the page then checks every RETRY_EVERY_S seconds and
    comes up by itself once the database is usable again.
    """
    st.session_state[recovery.RUN_AT] = time.monotonic()
    settings = _settings()
    full = _open(settings, wall=False)
    engine = _engine(settings.database_url)
    ident, cat, scope = _identify(settings, engine, full, wall=False)
    now = _now(settings)
    head = st.container()
    menu_box = st.container()
    filters = replace(filter_bar(cat, now, current, incident_categories(engine, settings.database_url)), scope=scope)
    ctx = Context(settings, engine, cat, filters, now, ident, _dataset_facts(settings, engine))
    with head:
        page_header(cat, now, ctx.scope_label(), ctx)
    with menu_box:
        menu(current, encode(filters, cat), ident)
    st.session_state[recovery.CONTEXT] = ctx
    st.session_state["_jw_page"] = next((p.key for p in (*nav.PAGES, nav.AUDIT) if p.url_path == current), None)
    return ctx


def start_wall(current: str | None = None) -> tuple[Context, list[str]]:
    """The wall's frame: the same database checks and URL filters as ``start``
    (decoded by ``filters.decode``), but no header, menu or filter bar: the wall
    draws its own header and is never touched. Returns the context and the
    warnings about unusable URL values (the wall shows them in one line).

    When the database cannot be used: a wall that already showed data in this
    session carries on with the places it had (its tiles keep their last data
    under red banners); a wall opened during the outage shows a full-screen
    red message and comes up by itself once the database is usable again.
    """
    st.session_state[recovery.RUN_AT] = time.monotonic()
    settings = _settings()
    widgets.load_css(WALL_OUTAGE_CSS)
    full = _open(settings, wall=True)
    engine = _engine(settings.database_url)
    ident, cat, scope = _identify(settings, engine, full, wall=True)
    now = _now(settings)
    params = st.query_params.to_dict()
    filters, warnings = decode(params, cat, timeutil.local_today(now), incident_categories(engine, settings.database_url))
    filters = replace(filters, scope=scope)
    # Keep the URL a link to this wall: usable filters only, plus the wall's own
    # parameters. "via" (added by the "/?wall=1" redirect) makes the string differ
    # from the one switch_page sent, so the browser shows it (see filter_bar).
    enc = encode(filters, cat)
    others = {k: v for k, v in params.items() if k not in URL_KEYS and k != VIA}
    if {k: v for k, v in params.items() if k in URL_KEYS} != enc or VIA in params:
        st.query_params.from_dict({**others, **enc})
    ctx = Context(settings, engine, cat, filters, now, ident, _dataset_facts(settings, engine))
    st.session_state[recovery.CONTEXT] = ctx
    st.session_state["_jw_page"] = None
    st.session_state["_jw_wall_warnings"] = warnings
    recovery.rerun_when_back()
    return ctx, warnings


def context() -> Context:
    """The Context the frame prepared for this run (pages call this)."""
    ctx = st.session_state.get(recovery.CONTEXT)
    if ctx is None:  # a page run without the frame: never expected, but never a traceback
        return start()
    return ctx


# --- the page menu and drill-down ------------------------------------------------------


def menu(current: str | None, params: dict[str, str], ident: auth.Identity | None = None) -> None:
    """One link per page, carrying the current filters (not a page's own
    parameters); the audit trail's link only for the roles that may read it."""
    pages = list(nav.PAGES) + ([nav.AUDIT] if ident is not None and ident.role.audit else [])
    cols = st.columns(len(pages), gap="small")
    for col, p in zip(cols, pages):
        with col:
            st.page_link(p.path, label=p.title, icon=p.icon, query_params=params, disabled=p.url_path == current, width="stretch")


def selection_key(name: str) -> str:
    """Key for a clickable chart/map/table: renewed after every drill-down, so a
    selection made on one visit never fires again when the user comes back."""
    return f"{name}-{st.session_state.get('_jw_nonce', 0)}"


_KEEP = object()
MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number cannot exist (and PostgreSQL would reject it)
VIA = "via"


def drill(
    target: str | None = None,
    *,
    station_id: Any = _KEEP,
    community_id: Any = _KEEP,
    grid_id: Any = _KEEP,
    categories: Any = _KEEP,
    params: dict[str, str] | None = None,
) -> None:
    """Go to a narrower view: page ``target`` (a key of ``nav.BY_KEY``; None = this
    page) with the place narrowed to ``station_id``/``community_id``/``grid_id``, the incident
    ``categories`` set (a tuple, or None for all) and the period kept, plus page
    parameters such as ``{"task": "123"}``. Never returns."""
    ctx = context()
    f = ctx.filters
    cat = ctx.catalogue
    station, community, grid = f.station_id, f.community_id, f.grid_id
    if station_id is not _KEEP and station_id != station:
        station, community, grid = station_id, None, None
    if grid_id is not _KEEP:
        grid = grid_id
        if grid is not None and (g := cat.by_id("grid", grid)):
            community = g.parent_id
    if community_id is not _KEEP:
        community = community_id
        if grid is not None and (g := cat.by_id("grid", grid)) and g.parent_id != community:
            grid = None
    if community is not None and (c := cat.by_id("community", community)) and len(cat.stations) > 1:
        station = c.parent_id  # the filter bar shows the station of the community
    narrowed = replace(f, station_id=station, community_id=community, grid_id=grid)
    if categories is not _KEEP:
        narrowed = replace(narrowed, categories=tuple(categories) if categories else None)
    # "via" is consumed by the next run's filter bar (see there): it makes the URL
    # that run writes differ from the one switch_page sent.
    here = st.session_state.get("_jw_page")
    query = {**encode(narrowed, cat), **(params or {})}
    if target is not None and target != here:
        # to another page only: a second history entry, but that page's URL shows
        query[VIA] = here or "page"
    st.session_state["_jw_nonce"] = st.session_state.get("_jw_nonce", 0) + 1
    # Widget values do not survive a switch_page made mid-run: the next run's
    # filter bar seeds them from this, whatever the URL comparison says.
    st.session_state["_jw_pending"] = narrowed
    key = target or here
    path = nav.BY_KEY[key].path if key in nav.BY_KEY else nav.BY_KEY["overview"].path
    st.switch_page(path, query_params=query)


def id_param(name: str, label: str) -> int | None:
    """A page's own id parameter (e.g. ``?task=123``): an int, or None with a
    visible warning when it is malformed."""
    raw = st.query_params.get(name)
    if raw in (None, ""):
        return None
    # Length first: int() refuses strings of more than 4,300 digits (ValueError).
    if isinstance(raw, str) and len(raw) <= len(str(MAX_ID)) and raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    shown = str(raw)[:32] + ("…" if len(str(raw)) > 32 else "")
    st.warning(f"已忽略无效的{label}编号 {name}={widgets.md_escape(shown)}", icon="⚠️")
    return None


# --- the filter bar ---------------------------------------------------------------------

_K = {k: f"jw_{k}" for k in ("station", "community", "grid", "period", "dates", "cats")}
ALL = 0  # the "全部" option of a place selector (ids start at 1; None would show a placeholder)


def _seed(f: Filters) -> None:
    ss = st.session_state
    ss[_K["station"]] = f.station_id or ALL
    ss[_K["community"]] = f.community_id or ALL
    ss[_K["grid"]] = f.grid_id or ALL
    ss[_K["period"]] = f.period
    ss[_K["dates"]] = (f.start, f.end)
    ss[_K["cats"]] = list(f.categories or ())


def _on_station() -> None:
    st.session_state[_K["community"]] = ALL
    st.session_state[_K["grid"]] = ALL


def _on_community() -> None:
    st.session_state[_K["grid"]] = ALL


def _place_select(col, label: str, all_label: str, places: tuple, key: str, on_change=None) -> int | None:
    """A selectbox of places with 全部 first; returns the id or None for all."""
    ss = st.session_state
    opts = [ALL] + [p.id for p in places]
    if ss.get(key) not in opts:
        ss[key] = ALL
    names = {p.id: p.name for p in places}
    picked = col.selectbox(label, opts, key=key, format_func=lambda x: all_label if x == ALL else names[x], on_change=on_change, placeholder="请选择")
    return None if picked in (None, ALL) else int(picked)


def page_header(cat: Catalogue, now: datetime, scope: str, ctx: Context | None = None) -> None:
    """Station name, 综合指挥室, scope and the data time: the first line of every
    page; then who is signed in and the marks (演示模式, 演示数据)."""
    names = [p.name for p in cat.stations]
    station = "、".join(names) if len(names) <= 2 else f"{len(names)}个派出所"
    ident = ctx.identity if ctx else None
    marks = ctx.marks() if ctx else []
    who = ident.label if ident else ""
    zone = timeutil.zone_note()
    widgets.header(f"{station} · 综合指挥室", f"{scope} · 数据截至 {timeutil.fmt_local(now, timeutil.SECOND)}{zone}", who=who, marks=marks)
    if ident is not None and ident.via == "oidc":
        st.button("退出登录", key="jw_logout", on_click=st.logout)


def filter_bar(cat: Catalogue, now: datetime, current: str | None = None, categories: tuple[str, ...] = INCIDENT_CATEGORIES) -> Filters:
    """Draw 派出所/社区/网格/时段 selectors, synchronised with the URL.

    The URL is read first and checked here (Streamlit would drop a bad value
    silently): anything unusable gives a visible warning and the default. The
    URL is then rewritten from the widgets, so every view is a link.
    """
    today = timeutil.local_today(now)
    params = st.query_params.to_dict()
    from_url, warnings = decode(params, cat, today, categories)
    url_filters = {k: v for k, v in params.items() if k in URL_KEYS}
    last = st.session_state.get("_jw_last_url")
    pending = st.session_state.pop("_jw_pending", None)
    # A URL without filters on the page that drew the last one is the back
    # button returning to 全辖区 (the server keeps a page's query string, so a
    # rerun of the same page never loses it); on another page it is a menu
    # link that dropped them, and the session's filters carry on.
    same_page = st.session_state.get("_jw_last_page", current) == current
    if pending is not None:
        _seed(pending)  # a drill-down
    elif last is None or (url_filters != last and (url_filters or same_page)):
        _seed(from_url)  # a fresh session, a pasted link or the back button

    ss = st.session_state
    multi_station = len(cat.stations) > 1
    cols = st.columns([1.2, 1.3, 1.3, 1.0, 1.6] if multi_station else [1.3, 1.3, 1.0, 1.6], vertical_alignment="bottom")
    i = 0
    station_id = None
    if multi_station:
        station_id = _place_select(cols[i], "派出所", "全部派出所", cat.stations, _K["station"], _on_station)
        i += 1
    elif cat.stations:
        station_id = cat.stations[0].id
    community_id = _place_select(cols[i], "社区", "全部社区", cat.communities_of(station_id), _K["community"], _on_community)
    i += 1
    grid_id = _place_select(cols[i], "网格", "全部网格", cat.grids_of(community_id, station_id), _K["grid"])
    i += 1
    if ss.get(_K["period"]) not in PERIODS:
        ss[_K["period"]] = "30d"
    period = cols[i].selectbox("时段", list(PERIODS), key=_K["period"], format_func=lambda k: PERIODS[k], filter_mode=None, placeholder="请选择")
    i += 1
    start = end = None
    if period == "custom":
        dates = ss.get(_K["dates"])
        if not (isinstance(dates, (tuple, list)) and len(dates) == 2 and all(dates)):
            ss[_K["dates"]] = (from_url.start, from_url.end)
        picked = cols[i].date_input("起止日期", key=_K["dates"], max_value=today, format="YYYY-MM-DD")
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            start, end = picked
        else:
            period = from_url.period if from_url.period != "custom" else "30d"
    else:
        s, e = resolve_period(period, today)
        cols[i].html(f'<div class="jw-sub" style="padding-bottom:.6rem">{s:%Y-%m-%d} 至 {e:%Y-%m-%d}</div>')

    cats = tuple(ss.get(_K["cats"]) or ()) or None
    f = Filters(
        station_id=station_id if multi_station else None,
        community_id=community_id,
        grid_id=grid_id,
        categories=cats,
    ).with_period(period, today, start, end)

    if warnings:  # plain text holding URL values and place names: escaped for Markdown
        st.warning(widgets.md_escape("；".join(warnings)), icon="⚠️")

    enc = encode(f, cat)
    # After st.switch_page to another page the browser drops the query string
    # while the server keeps it, and ignores a rewrite to the same string
    # (streamlit#9050, still so in 1.67): drill() adds "via", and dropping it
    # here sends a different string, which the browser then shows.
    page_changed = ss.get("_jw_last_page", current) != current
    if enc != url_filters or page_changed or VIA in params:
        others = {k: v for k, v in params.items() if k not in URL_KEYS and k != VIA}
        st.query_params.from_dict({**others, **enc})
    ss["_jw_last_url"] = enc
    ss["_jw_last_page"] = current
    return f

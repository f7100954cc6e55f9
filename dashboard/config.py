"""Settings, read once from the environment.

``DATABASE_URL`` (an SQLAlchemy URL) selects the database; without it the
dashboard uses the embedded SQLite file ``data/dashboard.sqlite`` next to the
code and generates demo data there on first run.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dt_time
from pathlib import Path
from urllib.parse import urlsplit

from dashboard import station

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "dashboard.sqlite"

# Named cache lifetimes (seconds) for st.cache_data: every cached call names how
# stale its answer may be (places change rarely, live counts every few seconds).
TTL_PLACES = 300
TTL_LIVE = 10
TTL_HISTORY = 120
CACHE_MAX_ENTRIES = 64


@dataclass(frozen=True)
class TileSource:
    """An XYZ raster tile server on the intranet, e.g.
    ``http://tiles.intranet:8080/{z}/{x}/{y}.png`` ({-y} for TMS row order)."""

    url: str
    max_zoom: int = 18
    # The tiles are tinted down to this share of their brightness so that grid
    # boundaries, fills and labels stay readable on the dark screen.
    brightness: float = 0.4


@dataclass(frozen=True)
class Settings:
    database_url: str
    embedded: bool  # True when DATABASE_URL is unset: the demo SQLite file
    query_timeout_s: float  # every dashboard query is cut off after this
    connect_timeout_s: int
    demo_scale: str
    demo_seed: int
    demo_months: int
    # DASHBOARD_NOW (ISO, naive UTC) freezes the dashboard's clock: for tests,
    # screenshots and replaying a past day. Unset in production.
    now_override: datetime | None = None
    # The wall's "feed has gone quiet" banner: no new grid report / 110 incident
    # for this many minutes usually means an upstream system is down (the
    # station file's [wall] quiet_*_minutes; DASHBOARD_QUIET_* override it).
    quiet_reports_min: int = 360
    quiet_incidents_min: int = 240
    # The wall's alarms (a new 紧急/特急 report, a task just gone 超期) flash for
    # this many seconds unless acknowledged; the chime plays only when enabled
    # (the kiosk browser also needs --autoplay-policy=no-user-gesture-required).
    alarm_seconds: int = 300
    alarm_sound: bool = False
    # The wall reloads itself once a day at this local time (HH:MM[:SS]), as a
    # guard against a browser that grows over days; None = never.
    wall_reload_at: dt_time | None = dt_time(4, 0)
    # Optional intranet base map (DASHBOARD_TILE_*): None means no base map,
    # the maps show grid boundaries on the dark background.
    tiles: TileSource | None = None
    # The reader must not be able to write (PostgreSQL: checked at start-up,
    # see database.reader_write_powers); 1 lets it run anyway, for development.
    allow_writable_reader: bool = False
    # Sign-in (dashboard.auth): "dev" (no sign-in, marked on every screen),
    # "header" (a trusted header from the intranet's proxy) or "oidc" (st.login).
    auth_mode: str = "dev"
    auth_header: str = "X-Remote-User"
    proxy_secret: str | None = None  # header mode: the proxy also sends X-Jwrh-Proxy-Secret
    oidc_provider: str | None = None  # the [auth.<provider>] of secrets.toml; None = [auth] itself
    oidc_claim: str = "preferred_username"
    # Where the audit trail is written (dashboard.db.audit); None = DATABASE_URL's
    # database (SQLite: the same file; PostgreSQL: the reader, which a proper
    # read-only role refuses, so nothing is unmasked until this is set).
    audit_url: str | None = None


def configure_logging() -> None:
    """Our loggers (``jwrh.*``) to stderr with a time stamp, next to Streamlit's
    own lines; once per process (the router calls this on every run)."""
    log = logging.getLogger("jwrh")
    if getattr(log, "_jw_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log._jw_configured = True  # type: ignore[attr-defined]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    try:
        st = station.current()
    except station.StationError as exc:
        raise SystemExit(f"站点设置有误 / bad station settings: {exc}") from None
    url = env.get("DATABASE_URL", "").strip()
    embedded = not url
    if embedded:
        url = sqlite_url(Path(env.get("DASHBOARD_SQLITE_PATH", str(DEFAULT_SQLITE_PATH))))
    return Settings(
        database_url=url,
        embedded=embedded,
        query_timeout_s=float(env.get("DASHBOARD_QUERY_TIMEOUT", "8")),
        connect_timeout_s=int(env.get("DASHBOARD_CONNECT_TIMEOUT", "2")),
        demo_scale=env.get("DASHBOARD_DEMO_SCALE", "station"),
        demo_seed=int(env.get("DASHBOARD_DEMO_SEED", "7")),
        demo_months=int(env.get("DASHBOARD_DEMO_MONTHS", "18")),
        now_override=_parse_now(env.get("DASHBOARD_NOW", "")),
        quiet_reports_min=_positive_int(env, "DASHBOARD_QUIET_REPORTS_MIN", st.quiet_reports_min),
        quiet_incidents_min=_positive_int(env, "DASHBOARD_QUIET_INCIDENTS_MIN", st.quiet_incidents_min),
        alarm_seconds=_positive_int(env, "DASHBOARD_ALARM_SECONDS", 300, "seconds"),
        alarm_sound=_flag(env, "DASHBOARD_ALARM_SOUND"),
        wall_reload_at=_reload_at(env.get("DASHBOARD_WALL_RELOAD_AT", "04:00")),
        tiles=_tile_source(env),
        allow_writable_reader=_flag(env, "DASHBOARD_ALLOW_WRITABLE_READER"),
        **_auth_settings(env),
    )


AUTH_MODES = ("dev", "header", "oidc")


def _auth_settings(env: dict[str, str]) -> dict:
    mode = env.get("DASHBOARD_AUTH", "").strip().lower() or "dev"
    if mode not in AUTH_MODES:
        raise SystemExit(f"DASHBOARD_AUTH must be dev, header or oidc, got {mode!r}")
    header = env.get("DASHBOARD_AUTH_HEADER", "").strip() or "X-Remote-User"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", header):
        raise SystemExit(f"DASHBOARD_AUTH_HEADER must be an HTTP header name, got {header!r}")
    secret = env.get("DASHBOARD_PROXY_SECRET", "").strip() or None
    if secret is not None and len(secret) < 16:
        raise SystemExit("DASHBOARD_PROXY_SECRET must be at least 16 characters")
    provider = env.get("DASHBOARD_OIDC_PROVIDER", "").strip() or None
    if provider is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", provider):
        raise SystemExit(f"DASHBOARD_OIDC_PROVIDER must be the name of an [auth.<name>] section, got {provider!r}")
    claim = env.get("DASHBOARD_OIDC_CLAIM", "").strip() or "preferred_username"
    audit = env.get("DASHBOARD_AUDIT_URL", "").strip() or None
    return {
        "auth_mode": mode,
        "auth_header": header,
        "proxy_secret": secret,
        "oidc_provider": provider,
        "oidc_claim": claim,
        "audit_url": audit,
    }


def parse_time_of_day(raw: str) -> dt_time | None:
    """"HH:MM" or "HH:MM:SS" → a time; "off" / "never" / "0" → None; else ValueError."""
    raw = raw.strip().lower()
    if raw in ("off", "never", "0", "no", "false"):
        return None
    parts = raw.split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts):
        raise ValueError(raw)
    h, m, sec = (int(p) for p in (parts + ["0"])[:3])
    return dt_time(h, m, sec)  # ValueError when out of range


def _reload_at(raw: str) -> dt_time | None:
    try:
        return parse_time_of_day(raw or "04:00")
    except ValueError:
        raise SystemExit(f"DASHBOARD_WALL_RELOAD_AT must be a local time HH:MM[:SS] or 'off', got {raw!r}") from None


def _flag(env: dict[str, str], key: str) -> bool:
    raw = env.get(key, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SystemExit(f"{key} must be 1 or 0, got {raw!r}")


def _positive_int(env: dict[str, str], key: str, default: int, unit: str = "minutes") -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) <= 0:
        raise SystemExit(f"{key} must be a positive whole number of {unit}, got {raw!r}")
    return int(raw)


def _tile_source(env: dict[str, str]) -> TileSource | None:
    url = env.get("DASHBOARD_TILE_URL", "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SystemExit(f"DASHBOARD_TILE_URL is not a valid URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SystemExit(f"DASHBOARD_TILE_URL must be an http:// or https:// URL of a tile server, got {url!r}")
    if any(c.isspace() or c in "\"'<>\\" for c in url):
        raise SystemExit(f"DASHBOARD_TILE_URL must not contain spaces, quotes or backslashes, got {url!r}")
    missing = [p for p in ("{z}", "{x}") if p not in url] + ([] if "{y}" in url or "{-y}" in url else ["{y}"])
    if missing:
        raise SystemExit(f"DASHBOARD_TILE_URL must contain {{z}}, {{x}} and {{y}} (or {{-y}}), {', '.join(missing)} missing in {url!r}")
    max_zoom = _int_in(env, "DASHBOARD_TILE_MAX_ZOOM", 18, 0, 24)
    raw = env.get("DASHBOARD_TILE_BRIGHTNESS", "").strip()
    brightness = TileSource.brightness
    if raw:
        try:
            brightness = float(raw)
        except ValueError:
            brightness = -1.0
        if not 0.1 <= brightness <= 1.0:
            raise SystemExit(f"DASHBOARD_TILE_BRIGHTNESS must be a number from 0.1 to 1, got {raw!r}")
    return TileSource(url=url, max_zoom=max_zoom, brightness=brightness)


def _int_in(env: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise SystemExit(f"{key} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def _parse_now(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise SystemExit(f"DASHBOARD_NOW must be an ISO date-time in UTC, got {value!r}") from None

"""Settings, read once from the environment.

``DATABASE_URL`` (an SQLAlchemy URL) selects the database; without it the
dashboard uses the embedded SQLite file ``data/dashboard.sqlite`` next to the
code and generates demo data there on first run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "dashboard.sqlite"

# Named cache lifetimes (seconds) for st.cache_data; see STYLE.md rule 6.
TTL_PLACES = 300
TTL_LIVE = 10
TTL_HISTORY = 120
CACHE_MAX_ENTRIES = 64


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
    # for this many minutes usually means an upstream system is down.
    quiet_reports_min: int = 360
    quiet_incidents_min: int = 240


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
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
        quiet_reports_min=_positive_int(env, "DASHBOARD_QUIET_REPORTS_MIN", 360),
        quiet_incidents_min=_positive_int(env, "DASHBOARD_QUIET_INCIDENTS_MIN", 240),
    )


def _positive_int(env: dict[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise SystemExit(f"{key} must be a positive whole number of minutes, got {raw!r}")
    return int(raw)


def _parse_now(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise SystemExit(f"DASHBOARD_NOW must be an ISO date-time in UTC, got {value!r}") from None

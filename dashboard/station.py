"""The station's own settings: its time zone, its targets, its deadline rules
and how long a feed may stay quiet before the wall says so.

They live in a TOML file, ``station.toml`` beside the code, or the file named
by ``DASHBOARD_STATION_FILE``; without either, the defaults below (a station
in China: Asia/Shanghai, 化解率 and 满意率 ≥ 95%, no 按时反馈率 target, no
deadline rules). ``station.example.toml`` documents every key. The file is
read once per process; a bad value stops the start with a message naming the
key, in Chinese and English, rather than running on a guess.

The time zone is the one every figure is bucketed in: a local day, hour and
weekday in SQL (``queries._sql``), the periods of the filter bar, 今日 and
本月 on the tiles, and working days for deadline rules. A zone without
daylight saving (Asia/Shanghai, Asia/Urumqi, Etc/GMT-8) is a fixed offset and
costs nothing; a zone with it (America/Vancouver) is converted per row: on
PostgreSQL with ``AT TIME ZONE``, on SQLite with a function the engine
registers (``dashboard.db.database``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = PROJECT_ROOT / "station.toml"
DEFAULT_ZONE = "Asia/Shanghai"


class StationError(ValueError):
    """A station file that cannot be used, with a message in Chinese / English."""


@dataclass(frozen=True)
class Targets:
    resolution: float = 0.95  # 化解率 of closed disputes
    satisfaction: float = 0.95  # 满意率 of return visits
    feedback_on_time: float | None = None  # 按时反馈率 of dispatched tasks; None = no target set


@dataclass(frozen=True)
class DeadlineRule:
    """A feedback deadline for a task whose source gave none: the first rule
    whose category and urgency match (None matches any) gives ``hours`` after
    the report, or ``working_days`` (Monday to Friday, in the station's zone)."""

    category: str | None = None
    urgency: str | None = None
    hours: float | None = None
    working_days: int | None = None

    def matches(self, category: str | None, urgency: str | None) -> bool:
        return self.category in (None, category) and self.urgency in (None, urgency)

    def deadline(self, created: datetime, zone: ZoneInfo) -> datetime:
        if self.hours is not None:
            return created + timedelta(hours=self.hours)
        return working_days_after(created, int(self.working_days or 0), zone)

    @property
    def label(self) -> str:
        span = f"{self.hours:g} 小时" if self.hours is not None else f"{self.working_days} 个工作日"
        return f"规则：{self.category or '全部'}/{self.urgency or '全部'} {span}"[:64]


@dataclass(frozen=True)
class Station:
    time_zone: str = DEFAULT_ZONE
    targets: Targets = field(default_factory=Targets)
    deadline_rules: tuple[DeadlineRule, ...] = ()
    quiet_reports_min: int = 360  # the wall's 上报中断 banner after this many minutes without a report
    quiet_incidents_min: int = 240  # … and without a 110 incident
    source: str = "默认设置"  # the file it came from, for the screen and the log

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.time_zone)

    @property
    def fixed_offset(self) -> timedelta | None:
        """The zone's offset from UTC when it never changes (no daylight saving
        in the years a station's data spans), else None."""
        return _fixed_offset(self.time_zone)


def working_days_after(start: datetime, days: int, zone: ZoneInfo) -> datetime:
    """``days`` working days (Monday to Friday) after ``start`` (naive UTC), at the same local time."""
    local = start.replace(tzinfo=timezone.utc).astimezone(zone)
    left = days
    while left > 0:
        local = local + timedelta(days=1)
        if local.weekday() < 5:
            left -= 1
    return local.astimezone(timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=16)
def zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=16)
def _fixed_offset(name: str) -> timedelta | None:
    zone = zone_named(name)
    offsets = {
        datetime(year, month, 15, 12, tzinfo=timezone.utc).astimezone(zone).utcoffset()
        for year in range(1992, 2041)
        for month in (1, 4, 7, 10)
    }
    return offsets.pop() if len(offsets) == 1 else None


def check_zone(name: object, key: str = "time_zone") -> str:
    """An IANA zone name this machine knows (the only kind that reaches SQL text)."""
    text = str(name or "").strip()
    if text not in _known_zones():
        raise StationError(f"{key}：未知时区 {text!r}，应为 IANA 时区名，例如 Asia/Shanghai / unknown time zone {text!r}")
    return text


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_deadline_rules(raw: object, where: str = "deadline_rules") -> tuple[DeadlineRule, ...]:
    """``[[deadline_rules]]`` tables (a station file or an import mapping) → rules, checked."""
    if raw in (None, []):
        return ()
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise StationError(f"{where} 应为 [[deadline_rules]] 表数组 / {where} must be an array of tables")
    rules = []
    for i, r in enumerate(raw, 1):
        at = f"{where} 第 {i} 条"
        unknown = set(r) - {"category", "urgency", "hours", "working_days"}
        if unknown:
            raise StationError(f"{at}：未知的键 {'、'.join(sorted(unknown))} / unknown keys")
        if ("hours" in r) == ("working_days" in r):
            raise StationError(f"{at}：需要 hours 或 working_days 之一 / give hours or working_days, not both")
        hours = r.get("hours")
        days = r.get("working_days")
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 366):
            raise StationError(f"{at}：hours 应为正数 / hours must be a positive number")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= 366):
            raise StationError(f"{at}：working_days 应为正整数 / working_days must be a positive whole number")
        for k in ("category", "urgency"):
            if k in r and not isinstance(r[k], str):
                raise StationError(f"{at}：{k} 应为文字 / {k} must be text")
        rules.append(DeadlineRule(r.get("category"), r.get("urgency"), float(hours) if hours is not None else None, days))
    return tuple(rules)


def _rate(doc: dict, key: str, default: float | None) -> float | None:
    if key not in doc:
        return default
    v = doc[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 1:
        raise StationError(f"[targets] {key} 应为 0 到 1 之间的比例，例如 0.95 / {key} must be a share from 0 to 1, e.g. 0.95")
    return float(v)


def _minutes(doc: dict, key: str, default: int) -> int:
    v = doc.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= 7 * 24 * 60:
        raise StationError(f"[wall] {key} 应为正整数分钟数 / {key} must be a positive whole number of minutes")
    return v


def parse_station(doc: dict, source: str = "station.toml") -> Station:
    unknown = set(doc) - {"time_zone", "targets", "deadline_rules", "wall"}
    if unknown:
        raise StationError(f"{source}：未知的键 {'、'.join(sorted(unknown))} / unknown keys")
    targets_doc = doc.get("targets") or {}
    wall_doc = doc.get("wall") or {}
    if not isinstance(targets_doc, dict) or not isinstance(wall_doc, dict):
        raise StationError(f"{source}：[targets] 和 [wall] 应为表 / [targets] and [wall] must be tables")
    for name, sub, keys in (("targets", targets_doc, {"resolution", "satisfaction", "feedback_on_time"}),
                            ("wall", wall_doc, {"quiet_reports_minutes", "quiet_incidents_minutes"})):
        extra = set(sub) - keys
        if extra:
            raise StationError(f"[{name}] 未知的键 {'、'.join(sorted(extra))}（可用：{'、'.join(sorted(keys))}）/ unknown keys")
    d = Targets()
    return Station(
        time_zone=check_zone(doc.get("time_zone", DEFAULT_ZONE)),
        targets=Targets(
            resolution=_rate(targets_doc, "resolution", d.resolution),
            satisfaction=_rate(targets_doc, "satisfaction", d.satisfaction),
            feedback_on_time=_rate(targets_doc, "feedback_on_time", d.feedback_on_time),
        ),
        deadline_rules=parse_deadline_rules(doc.get("deadline_rules")),
        quiet_reports_min=_minutes(wall_doc, "quiet_reports_minutes", Station.quiet_reports_min),
        quiet_incidents_min=_minutes(wall_doc, "quiet_incidents_minutes", Station.quiet_incidents_min),
        source=source,
    )


def load_station(path: Path | str) -> Station:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StationError(f"读不到站点设置文件 {path}：{exc.strerror or exc} / cannot read the station file") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StationError(f"站点设置文件 {path} 不是有效的 TOML：{exc} / not valid TOML") from exc
    return parse_station(doc, str(path))


def station_path(env: dict[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    named = env.get("DASHBOARD_STATION_FILE", "").strip()
    if named:
        return Path(named)
    return DEFAULT_FILE if DEFAULT_FILE.is_file() else None


@lru_cache(maxsize=1)
def current() -> Station:
    """This process's station settings (read once; tests call ``current.cache_clear()``)."""
    path = station_path()
    return Station() if path is None else load_station(path)

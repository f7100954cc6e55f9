"""Time zone rules: the database stores naive UTC, the screen shows Asia/Shanghai.

China has had no daylight saving since 1991, so local time is UTC+8 all year;
SQL that groups by local day or hour adds a fixed 8 hours (``queries._sql``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
UTC_OFFSET = timedelta(hours=8)


def utcnow() -> datetime:
    """Current time as naive UTC (the storage convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(ts: datetime) -> datetime:
    """Naive UTC -> naive Asia/Shanghai."""
    return ts + UTC_OFFSET


def to_utc(local: datetime) -> datetime:
    """Naive Asia/Shanghai -> naive UTC."""
    return local - UTC_OFFSET


def local_today(now_utc: datetime | None = None) -> date:
    return to_local(now_utc or utcnow()).date()


def day_start_utc(day: date) -> datetime:
    """UTC instant at which local ``day`` begins."""
    return to_utc(datetime.combine(day, time.min))


def shift_year(day: date, years: int) -> date:
    """Same calendar day ``years`` away; 29 Feb falls back to 28 Feb."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def shift_months(day: date, months: int) -> date:
    """Same day of month ``months`` away, clamped to the month's last day."""
    m = day.month - 1 + months
    y = day.year + m // 12
    m = m % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(y, m, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def fmt_local(ts: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    return "—" if ts is None else to_local(ts).strftime(fmt)

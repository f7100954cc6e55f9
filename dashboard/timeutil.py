"""Time zone rules: the database stores naive UTC, the screen shows the
station's local time (``dashboard.station``: Asia/Shanghai unless the station
file names another zone).

A zone without daylight saving (all of China since 1991) is a fixed offset:
the conversions add it, and work on a pandas Series as on a datetime. A zone
with daylight saving is converted through ``zoneinfo`` (scalars only); an
ambiguous autumn hour reads as its first pass, a skipped spring hour moves on.
SQL that groups by local day or hour is in ``queries._sql``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from dashboard import station


def utcnow() -> datetime:
    """Current time as naive UTC (the storage convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(ts: datetime) -> datetime:
    """Naive UTC -> naive local time of the station."""
    st = station.current()
    offset = st.fixed_offset
    if offset is not None:
        return ts + offset
    return ts.replace(tzinfo=timezone.utc).astimezone(st.zone).replace(tzinfo=None)


def to_utc(local: datetime) -> datetime:
    """Naive local time of the station -> naive UTC."""
    st = station.current()
    offset = st.fixed_offset
    if offset is not None:
        return local - offset
    return local.replace(tzinfo=st.zone).astimezone(timezone.utc).replace(tzinfo=None)


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


def zone_note() -> str:
    """" (America/Vancouver)" after a shown time when the station is not on
    China's clock, so nobody reads it as Beijing time; "" otherwise."""
    name = station.current().time_zone
    return "" if name == station.DEFAULT_ZONE else f"（{name}）"


# The time formats of the screens, by name: every time shown goes through fmt_local.
CLOCK = "%H:%M"
CLOCK_S = "%H:%M:%S"
SHORT = "%m-%d %H:%M"
MINUTE = "%Y-%m-%d %H:%M"
SECOND = "%Y-%m-%d %H:%M:%S"
DAY = "%Y-%m-%d"
MONTH_DAY = "%m-%d"


def fmt_local(ts: object, fmt: str = SHORT) -> str:
    """A stored UTC time (naive datetime, a pandas Timestamp, numpy datetime64 or ISO text)
    in the station's zone; "—" when missing (None, NaT, NaN)."""
    if ts is None or ts != ts:  # NaT and NaN are not equal to themselves
        return "—"
    if isinstance(ts, str):  # SQLite's text for an aggregate of a time column
        ts = datetime.fromisoformat(ts)
    elif hasattr(ts, "to_pydatetime"):  # pandas
        ts = ts.to_pydatetime()
    elif hasattr(ts, "astype") and hasattr(ts, "item"):  # numpy.datetime64
        ts = ts.astype("datetime64[us]").item()
    return to_local(ts).strftime(fmt)


# SQLite has no time zones: engines register this function (dashboard.db.database)
# for the local day/hour of a zone with daylight saving (queries._sql).
SQLITE_LOCAL_FUNCTION = "jw_local"


def sqlite_local_text(ts: str | None, zone: str) -> str | None:
    """``jw_local(ts, zone)``: a stored UTC time (SQLite text) as local time text."""
    if ts is None:
        return None
    try:
        at = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    local = at.replace(tzinfo=timezone.utc).astimezone(station.zone_named(zone))
    return local.strftime("%Y-%m-%d %H:%M:%S")

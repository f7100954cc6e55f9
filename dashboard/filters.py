"""The one filter object pages pass to queries, and its URL codec.

``Filters`` is frozen; ``None`` means "all". Places are database ids; the
period is a pair of local dates (the station's zone, dashboard.station), both inclusive, plus the name
of the preset it came from so a link to "近30天" stays relative.

The URL carries codes, not ids (``?community=WLT-C01&grid=WLT-C01-G03&period=7d``),
so links survive a reload of the data. ``decode`` never raises: every value it
cannot use becomes a warning (in Chinese, for the screen) and the default.
Turning a ``Filters`` into SQL is done in one place: ``queries._common.apply_filters``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from dashboard import timeutil

PERIODS: dict[str, str] = {
    "today": "今日",
    "7d": "近7天",
    "30d": "近30天",
    "month": "本月",
    "quarter": "本季度",
    "year": "本年",
    "last_week": "上周",
    "last_month": "上月",
    "last_quarter": "上季度",
    "last_year": "上年",
    "custom": "自定义",
}
# Whole calendar periods that ended before today (``resolve_period``): their
# label names the period itself ("上月 · 2026-11"), not a range ending today.
DEFAULT_PERIOD = "30d"
EARLIEST_DATE = date(2000, 1, 1)
MAX_PARAM_LEN = 64
MAX_CAT_LEN = 1024  # ?cat= lists the station's own categories, up to 80 characters each
URL_KEYS = ("station", "community", "grid", "period", "start", "end", "cat")


@dataclass(frozen=True)
class Filters:
    station_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    start: date | None = None  # local date, inclusive
    end: date | None = None  # local date, inclusive
    categories: tuple[str, ...] | None = None
    period: str = DEFAULT_PERIOD
    # The community ids the signed-in person may see (``dashboard.auth.scope_of``);
    # None = no limit. Set by the frame, never by the URL; ANDed with the place
    # filter in ``queries._common.place_clause``, so every query honours it.
    scope: tuple[int, ...] | None = None

    def window(self, now: datetime | None = None) -> tuple[datetime, datetime] | None:
        """The period as a half-open UTC interval [start, end), cut at ``now``.

        Cutting at ``now`` matters for comparisons: today so far is compared with
        yesterday up to the same time, not with the whole of yesterday.
        """
        if self.start is None or self.end is None:
            return None
        now = now or timeutil.utcnow()
        start = timeutil.day_start_utc(self.start)
        end = min(timeutil.day_start_utc(self.end + timedelta(days=1)), now)
        return start, max(start, end)

    def with_period(self, period: str, today: date, start: date | None = None, end: date | None = None) -> Filters:
        s, e = resolve_period(period, today, start, end)
        return replace(self, period=period, start=s, end=e)

    def places_only(self) -> Filters:
        """The same places (and scope), no period and no categories."""
        return Filters(station_id=self.station_id, community_id=self.community_id, grid_id=self.grid_id, scope=self.scope)


def resolve_period(period: str, today: date, start: date | None = None, end: date | None = None) -> tuple[date, date]:
    """Local first and last day (inclusive) of a preset period: one ending today
    (今日 … 本年), or the whole previous ISO week (Monday–Sunday), calendar month,
    quarter or year (上周, 上月, 上季度, 上年), or the custom dates."""
    if period == "today":
        return today, today
    if period == "7d":
        return today - timedelta(days=6), today
    if period == "30d":
        return today - timedelta(days=29), today
    if period == "month":
        return today.replace(day=1), today
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if period == "year":
        return date(today.year, 1, 1), today
    if period == "last_week":  # Monday to Sunday of the previous ISO week
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if period == "last_month":
        first = today.replace(day=1)
        last = first - timedelta(days=1)
        return last.replace(day=1), last
    if period == "last_quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        last = first - timedelta(days=1)
        return date(last.year, 3 * ((last.month - 1) // 3) + 1, 1), last
    if period == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if period == "custom" and start is not None and end is not None:
        return start, end
    return resolve_period(DEFAULT_PERIOD, today)


# --- the place catalogue the codec validates against ---------------------------


@dataclass(frozen=True)
class Place:
    id: int
    code: str
    name: str
    parent_id: int | None  # station for a community, community for a grid


@dataclass(frozen=True)
class Catalogue:
    """All stations, communities and grids, small enough to hold in memory."""

    stations: tuple[Place, ...]
    communities: tuple[Place, ...]
    grids: tuple[Place, ...]
    _by_code: dict[str, dict[str, Place]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_code.update(
            station={p.code: p for p in self.stations},
            community={p.code: p for p in self.communities},
            grid={p.code: p for p in self.grids},
        )

    def by_code(self, level: str, code: str) -> Place | None:
        return self._by_code[level].get(code)

    def by_id(self, level: str, pid: int | None) -> Place | None:
        if pid is None:
            return None
        return next((p for p in getattr(self, _PLURAL[level]) if p.id == pid), None)

    def communities_of(self, station_id: int | None) -> tuple[Place, ...]:
        return tuple(c for c in self.communities if station_id is None or c.parent_id == station_id)

    def grids_of(self, community_id: int | None, station_id: int | None = None) -> tuple[Place, ...]:
        if community_id is not None:
            return tuple(g for g in self.grids if g.parent_id == community_id)
        allowed = {c.id for c in self.communities_of(station_id)}
        return tuple(g for g in self.grids if g.parent_id in allowed)


_PLURAL = {"station": "stations", "community": "communities", "grid": "grids"}


def place_label(catalogue: Catalogue, f: Filters) -> str:
    """The place filter in words: the grid's, the community's or the station's
    name, or 全辖区 (the pages' scope label; the briefing's title)."""
    if f.grid_id is not None and (g := catalogue.by_id("grid", f.grid_id)):
        return g.name
    if f.community_id is not None and (c := catalogue.by_id("community", f.community_id)):
        return c.name
    if f.station_id is not None and (s := catalogue.by_id("station", f.station_id)):
        return s.name
    return "全辖区"


# --- codec ------------------------------------------------------------------------


def _first(params: Mapping[str, object], key: str) -> str | None:
    v = params.get(key)
    if isinstance(v, (list, tuple)):
        v = v[-1] if v else None
    if v is None:
        return None
    return str(v).strip()


def _show(value: str) -> str:
    """A user's value, cut short, on one line, for a message. Messages are plain
    text: each screen escapes them for where they go (Markdown on the desk pages,
    HTML on the wall)."""
    v = value if len(value) <= 24 else value[:24] + "…"
    return "".join(" " if unicodedata.category(c)[0] == "C" else c for c in v)


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def period_name(period: str, start: date | None, end: date | None) -> str:
    """The period as a label: "上月 · 2026-11", "上季度 · 2026年第3季度",
    "上周 · 11-23 至 11-29", the others "近30天（11-01 至 11-30）" (with years
    when the range crosses one)."""
    name = PERIODS.get(period, period)
    if start is None or end is None:
        return name
    if period == "last_month":
        return f"{name} · {start:%Y-%m}"
    if period == "last_quarter":
        return f"{name} · {start.year}年第{(start.month - 1) // 3 + 1}季度"
    if period == "last_week":
        return f"{name} · {start:%m-%d} 至 {end:%m-%d}"
    if period == "last_year":
        return f"{name} · {start.year}年"
    if start.year != end.year:
        return f"{name}（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）"
    return f"{name}（{start:%m-%d} 至 {end:%m-%d}）"


def decode(
    params: Mapping[str, object],
    catalogue: Catalogue,
    today: date,
    known_categories: tuple[str, ...] = (),
) -> tuple[Filters, list[str]]:
    """URL parameters -> (Filters, warnings). Never raises; bad values fall back to defaults."""
    warnings: list[str] = []
    values: dict[str, str] = {}
    for key in URL_KEYS:
        raw = _first(params, key)
        if raw is None or raw == "":
            continue
        if len(raw) > (MAX_CAT_LEN if key == "cat" else MAX_PARAM_LEN):
            warnings.append(f"已忽略过长的参数 {key}（{len(raw)} 个字符）")
            continue
        values[key] = raw

    station = community = grid = None
    if "station" in values:
        station = catalogue.by_code("station", values["station"])
        if station is None:
            warnings.append(f"已忽略未知的派出所 station={_show(values['station'])}，显示全部派出所")
    if "community" in values:
        community = catalogue.by_code("community", values["community"])
        if community is None:
            warnings.append(f"已忽略未知的社区 community={_show(values['community'])}，显示全部社区")
        elif station is not None and community.parent_id != station.id:
            warnings.append(f"社区 {community.name} 不属于 {station.name}，已忽略社区筛选")
            community = None
    if "grid" in values:
        grid = catalogue.by_code("grid", values["grid"])
        if grid is None:
            warnings.append(f"已忽略未知的网格 grid={_show(values['grid'])}")
        elif community is not None and grid.parent_id != community.id:
            warnings.append(f"网格 {grid.name} 不属于 {community.name}，已忽略网格筛选")
            grid = None
        elif community is None and station is not None:
            parent = catalogue.by_id("community", grid.parent_id)
            if parent is None or parent.parent_id != station.id:
                warnings.append(f"网格 {grid.name} 不属于 {station.name}，已忽略网格筛选")
                grid = None
    if grid is not None and community is None:
        community = catalogue.by_id("community", grid.parent_id)
    if community is not None and station is None:
        station = catalogue.by_id("station", community.parent_id)

    period = values.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        warnings.append(f"已忽略未知的时段 period={_show(period)}，显示{PERIODS[DEFAULT_PERIOD]}")
        period = DEFAULT_PERIOD
    start = end = None
    if "start" in values or "end" in values:
        ok = True
        for key in ("start", "end"):
            if key in values:
                d = _parse_date(values[key])
                if d is None:
                    warnings.append(f"已忽略格式错误的日期 {key}={_show(values[key])}（应为 YYYY-MM-DD）")
                    ok = False
                elif not (EARLIEST_DATE <= d <= today + timedelta(days=366)):
                    warnings.append(f"已忽略超出范围的日期 {key}={d.isoformat()}")
                    ok = False
                elif d > today and key == "start":
                    warnings.append(f"开始日期 {d.isoformat()} 晚于今天，已忽略自定义时段")
                    ok = False
                elif d > today:  # nothing can have happened yet; the date picker ends today
                    warnings.append(f"结束日期 {d.isoformat()} 晚于今天，已改为今天 {today.isoformat()}")
                    end = today
                elif key == "start":
                    start = d
                else:
                    end = d
        if ok:
            start = start or end
            end = end or today
            if start > end:
                warnings.append(f"开始日期 {start} 晚于结束日期 {end}，已忽略自定义时段")
                ok = False
        if ok:
            period = "custom"
        else:
            start = end = None
            if period == "custom":
                period = DEFAULT_PERIOD
    elif period == "custom":
        warnings.append("自定义时段缺少开始/结束日期，显示" + PERIODS[DEFAULT_PERIOD])
        period = DEFAULT_PERIOD

    categories: tuple[str, ...] | None = None
    if "cat" in values:
        asked = [c.strip() for c in values["cat"].split(",") if c.strip()]
        good = tuple(c for c in asked if c in known_categories)
        bad = [c for c in asked if c not in known_categories]
        if bad:
            warnings.append("已忽略未知的类别 " + "、".join(_show(b) for b in bad))
        categories = good or None

    s, e = resolve_period(period, today, start, end)
    f = Filters(
        station_id=station.id if station else None,
        community_id=community.id if community else None,
        grid_id=grid.id if grid else None,
        start=s,
        end=e,
        categories=categories,
        period=period,
    )
    return f, warnings


def encode(f: Filters, catalogue: Catalogue) -> dict[str, str]:
    """Filters -> URL parameters; defaults are left out so links stay short."""
    out: dict[str, str] = {}
    if f.grid_id is not None and (g := catalogue.by_id("grid", f.grid_id)):
        out["grid"] = g.code
    if f.community_id is not None and (c := catalogue.by_id("community", f.community_id)):
        out["community"] = c.code
    if f.station_id is not None and len(catalogue.stations) > 1 and (s := catalogue.by_id("station", f.station_id)):
        out["station"] = s.code
    if f.period != DEFAULT_PERIOD:
        out["period"] = f.period
    if f.period == "custom" and f.start and f.end:
        out["start"] = f.start.isoformat()
        out["end"] = f.end.isoformat()
    if f.categories:
        out["cat"] = ",".join(f.categories)
    return out

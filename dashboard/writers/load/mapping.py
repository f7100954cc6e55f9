"""Mapping files: how a station's export becomes our rows.

A mapping is a TOML file (worked examples in ``dashboard/writers/load/examples/``)::

    [source]
    system = "110"              # the source system: re-imports upsert on (system, id)
    timezone = "Asia/Shanghai"  # the zone the file's times are written in (default: the station's)
    crs = "EPSG:4490"           # the coordinates' system, declared (see dashboard.crs)
    encoding = "auto"           # or utf-8, utf-8-sig, gb18030
    sheet = 1                   # Excel: sheet number or name
    shift_gap_minutes = 60      # gps: a longer gap between a team's points starts a new shift

    [fields]
    id = "警情编号"                                   # a column, written plainly
    received_at = { column = "报警时间", format = "%Y-%m-%d %H:%M:%S" }
    received_at = { columns = ["年", "月", "日"], format = "%Y %m %d" }  # joined by spaces
    category = { column = "警情类别", map = { "盗窃案" = "盗窃" }, unmapped = "keep" }
    x = "经度"
    y = "纬度"
    subtype = { value = "未分类" }                     # a constant

Every field is one of: a column name; ``{column=…}`` or ``{columns=[…]}``
(joined by ``join``, default one space) with optional ``format`` (time
fields: one strptime format or a list tried in order), ``map`` (value →
value; ``unmapped = "keep"`` (default), ``"reject"`` or ``"null"``) and
``default`` (used when the cell is empty); or ``{value=…}``, a constant.
Fields a file lacks are left out: they stay missing (NULL), never invented.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard import station
from dashboard.crs import CrsError, parse_crs


class MappingError(ValueError):
    """A mapping file that cannot be used; the message is Chinese, then English."""


# Target fields per kind: name -> (Chinese label, type). Types: time, text, number, bool, int.
TARGETS: dict[str, dict[str, tuple[str, str]]] = {
    "incidents": {
        "id": ("来源编号", "text"),
        "received_at": ("接警时间", "time"),
        "arrived_at": ("到场时间", "time"),
        "closed_at": ("结案时间", "time"),
        "category": ("警情类别", "text"),
        "subtype": ("警情细类", "text"),
        "place": ("地点", "text"),
        "outcome": ("处理结果", "text"),
        "x": ("横坐标/经度", "number"),
        "y": ("纵坐标/纬度", "number"),
        "grid": ("网格", "text"),
    },
    "reports": {
        "id": ("来源编号", "text"),
        "reported_at": ("上报时间", "time"),
        "category": ("上报类别", "text"),
        "urgency": ("紧急程度", "text"),
        "text": ("内容", "text"),
        "place": ("地点", "text"),
        "source": ("来源渠道", "text"),
        "x": ("横坐标/经度", "number"),
        "y": ("纵坐标/纬度", "number"),
        "grid": ("网格", "text"),
        # The dispatch loop, when the export carries it (one task per report).
        "state": ("处置状态", "text"),
        "department": ("承办部门", "text"),
        "dispatched_at": ("派发时间", "time"),
        "deadline_at": ("反馈期限", "time"),
        "feedback_at": ("反馈时间", "time"),
        "closed_at": ("办结时间", "time"),
        "visited_at": ("回访时间", "time"),
        "satisfied": ("是否满意", "bool"),
    },
    "disputes": {
        "id": ("来源编号", "text"),
        "found_at": ("发现时间", "time"),
        "kind": ("纠纷类型", "text"),
        "status": ("调处状态", "text"),
        "level": ("调处层级", "int"),
        "parties": ("当事人数", "int"),
        "summary": ("简要情况", "text"),
        "closed_at": ("结案时间", "time"),
        "visited_at": ("回访时间", "time"),
        "satisfied": ("是否满意", "bool"),
        "x": ("横坐标/经度", "number"),
        "y": ("纵坐标/纬度", "number"),
        "grid": ("网格", "text"),
    },
    # Patrol GPS track points (dashboard.writers.load.gps): one row per position fix.
    "gps": {
        "team": ("巡逻队/设备", "text"),
        "time": ("定位时间", "time"),
        "x": ("横坐标/经度", "number"),
        "y": ("纵坐标/纬度", "number"),
        "kind": ("队伍类型", "text"),
        "members": ("队员人数", "int"),
        "community": ("所属社区", "text"),
        "shift": ("班次编号", "text"),
    },
}
# Fields a row cannot do without (besides a place: coordinates or a grid).
REQUIRED = {
    "incidents": ("received_at", "category"),
    "reports": ("reported_at", "category"),
    "disputes": ("found_at", "kind", "status", "level"),
    "gps": ("team", "time"),
}
# The time every figure counts a row by.
EVENT_TIME = {"incidents": "received_at", "reports": "reported_at", "disputes": "found_at", "gps": "time"}
# GPS: a team's points more than this far apart belong to two shifts (``[source] shift_gap_minutes``).
DEFAULT_SHIFT_GAP_MINUTES = 60.0

DEFAULT_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
)
TRUE_WORDS = {"1", "true", "yes", "y", "是", "满意", "基本满意", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "不满意", "f"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    columns: tuple[str, ...] = ()
    join: str = " "
    value: object = None  # a constant
    formats: tuple[str, ...] = ()
    map: dict[str, str] | None = None
    unmapped: str = "keep"  # keep / reject / null
    default: str | None = None

    @property
    def constant(self) -> bool:
        return not self.columns

    def source(self) -> str:
        return "+".join(self.columns) if self.columns else "(常量)"


@dataclass
class Mapping:
    kind: str
    system: str
    tz: ZoneInfo
    crs: str
    encoding: str | None
    sheet: str | int | None
    fields: dict[str, FieldSpec]
    text: str  # the file as read (stored with the batch)
    # The mapping's own rules; without any, the station file's (dashboard.station).
    deadline_rules: tuple[station.DeadlineRule, ...] = ()
    shift_gap_minutes: float = DEFAULT_SHIFT_GAP_MINUTES  # gps only

    def columns_used(self) -> set[str]:
        return {c for f in self.fields.values() for c in f.columns}


def load_mapping(path: Path | str, kind: str) -> Mapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        doc = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise MappingError(f"找不到映射文件 {path} / no such mapping file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"映射文件 {path.name} 格式错误：{exc} / malformed TOML") from exc
    return parse_mapping(doc, kind, text)


def parse_mapping(doc: dict, kind: str, text: str = "") -> Mapping:
    if kind not in TARGETS:
        raise MappingError(f"未知的数据类型 {kind!r} / unknown kind")
    src = doc.get("source") or {}
    system = str(src.get("system") or "").strip()
    if not system or len(system) > 32:
        raise MappingError("映射文件需要 [source] system = \"…\"（来源系统名，不超过 32 个字符）/ [source] system is required")
    tzname = str(src.get("timezone") or station.current().time_zone)
    try:
        tz = ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MappingError(f"未知时区 {tzname!r} / unknown time zone") from exc
    crs_text = src.get("crs")
    fields_doc = doc.get("fields") or {}
    if ("x" in fields_doc or "y" in fields_doc) and not crs_text:
        raise MappingError("映射了坐标（x、y）就必须声明坐标系 [source] crs，例如 \"EPSG:4326\"、\"GCJ-02\"、\"EPSG:32610\" / declare the coordinates' CRS")
    try:
        crs = parse_crs(str(crs_text)) if crs_text else "EPSG:4326"
    except CrsError as exc:
        raise MappingError(str(exc)) from exc
    targets = TARGETS[kind]
    unknown = [k for k in fields_doc if k not in targets]
    if unknown:
        raise MappingError(f"{kind} 没有这些字段：{'、'.join(unknown)}（可用：{'、'.join(targets)}）/ unknown target fields")
    specs = {name: _field(name, raw, targets[name][1]) for name, raw in fields_doc.items()}
    missing = [f for f in REQUIRED[kind] if f not in specs]
    if missing:
        raise MappingError("映射缺少必需字段：" + "、".join(f"{m}（{targets[m][0]}）" for m in missing) + " / required fields missing")
    if kind == "gps" and not {"x", "y"} <= set(specs):
        raise MappingError("轨迹点需要映射坐标 x 和 y（经度、纬度或投影坐标）/ gps needs x and y")
    if not ({"x", "y"} <= set(specs) or "grid" in specs):
        raise MappingError("映射需要坐标（x 和 y）或网格（grid）之一，才能把记录落到网格 / map x and y, or grid")
    if ("x" in specs) != ("y" in specs):
        raise MappingError("坐标需要同时映射 x 和 y / map both x and y")
    try:
        rules = station.parse_deadline_rules(doc.get("deadline_rules"))
    except station.StationError as exc:
        raise MappingError(str(exc)) from exc
    gap = src.get("shift_gap_minutes", DEFAULT_SHIFT_GAP_MINUTES)
    if isinstance(gap, bool) or not isinstance(gap, (int, float)) or not 1 <= gap <= 24 * 60:
        raise MappingError("[source] shift_gap_minutes 应为 1 到 1440 之间的分钟数 / shift_gap_minutes must be minutes between 1 and 1440")
    return Mapping(kind, system, tz, crs, src.get("encoding"), src.get("sheet"), specs, text, rules, float(gap))


def _field(name: str, raw: object, typ: str) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(name, columns=(raw,), formats=DEFAULT_TIME_FORMATS if typ == "time" else ())
    if not isinstance(raw, dict):
        raise MappingError(f"字段 {name} 的写法不对：应为列名或 {{ column = … }} / bad field spec")
    if "value" in raw:
        return FieldSpec(name, value=raw["value"])
    cols = raw.get("columns") or ([raw["column"]] if "column" in raw else [])
    if not cols or not all(isinstance(c, str) for c in cols):
        raise MappingError(f"字段 {name} 需要 column、columns 或 value / field needs column, columns or value")
    fmts = raw.get("format") or ()
    fmts = (fmts,) if isinstance(fmts, str) else tuple(fmts)
    if typ == "time" and not fmts:
        fmts = DEFAULT_TIME_FORMATS
    vmap = raw.get("map")
    if vmap is not None and not isinstance(vmap, dict):
        raise MappingError(f"字段 {name} 的 map 应为表 / map must be a table")
    unmapped = raw.get("unmapped", "keep")
    if unmapped not in ("keep", "reject", "null"):
        raise MappingError(f"字段 {name} 的 unmapped 只能是 keep、reject 或 null / bad unmapped")
    return FieldSpec(
        name,
        columns=tuple(cols),
        join=str(raw.get("join", " ")),
        formats=fmts,
        map={str(k).strip(): v for k, v in vmap.items()} if vmap else None,
        unmapped=unmapped,
        default=None if raw.get("default") is None else str(raw["default"]),
    )


class CellError(ValueError):
    """One field of one row that cannot be read: (zh, en) messages."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def raw_value(spec: FieldSpec, row: dict[str, str]) -> str | None:
    """The text a field reads from a row (joined columns, value map applied), None when empty."""
    if spec.constant:
        return None if spec.value is None else str(spec.value)
    parts = [(row.get(c) or "").strip() for c in spec.columns]
    text = spec.join.join(parts) if any(parts) else ""
    if not text:
        text = spec.default or ""
    if not text:
        return None
    if spec.map is not None:
        if text in spec.map:
            v = spec.map[text]
            return None if v is None or v == "" else str(v)
        if spec.unmapped == "reject":
            raise CellError(f"值 '{_short(text)}' 不在映射表中", f"value '{_short(text)}' is not in the value map")
        if spec.unmapped == "null":
            return None
    return text


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[:n] + "…"


def parse_time(text: str, spec: FieldSpec, tz: ZoneInfo) -> datetime:
    """A local time in ``tz`` as naive UTC (what the schema stores)."""
    t = text.strip()
    for fmt in spec.formats:
        try:
            local = datetime.strptime(t, fmt)
            break
        except ValueError:
            continue
    else:
        try:  # ISO 8601, with or without an offset
            local = datetime.fromisoformat(t)
        except ValueError:
            raise CellError(f"无法解析 '{_short(t)}'", f"cannot parse '{_short(t)}' as a time") from None
    if not 1990 <= local.year <= 2100:
        raise CellError(f"年份超出范围 '{_short(t)}'", f"year out of range in '{_short(t)}'")
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)  # fold=0: an ambiguous autumn hour reads as its first pass
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def parse_number(text: str) -> float:
    t = text.strip().replace(",", "") if text.count(",") and text.count(".") else text.strip().replace(",", ".")
    try:
        v = float(t)
    except ValueError:
        raise CellError(f"不是数字 '{_short(text)}'", f"not a number '{_short(text)}'") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise CellError(f"不是有限的数字 '{_short(text)}'", f"not a finite number '{_short(text)}'")
    return v


def parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise CellError(f"无法判断是/否 '{_short(text)}'", f"not a yes/no value '{_short(text)}'")


def parse_int(text: str) -> int:
    v = parse_number(text)
    if not v.is_integer():
        raise CellError(f"不是整数 '{_short(text)}'", f"not a whole number '{_short(text)}'")
    return int(v)

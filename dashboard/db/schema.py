"""The shared database schema: SQLAlchemy Core tables, one module.

Conventions that every writer of this database (the grid app, 110, the demo
generator, the simulator) must follow:

* Times are naive ``DateTime`` values in **UTC**. The screen shows them in
  the station's zone, Asia/Shanghai by default (``dashboard.station``, ``dashboard.timeutil``).
* Every located row carries ``grid_id`` (the grid it falls in; exactly one) and
  ``h3``: the H3 cell at resolution ``dashboard.geo.H3_RESOLUTION`` (9, about 0.1 km², edge
  about 174 m: a street block) of its point, computed when the row is written,
  so hot spots and patrol coverage are plain ``GROUP BY h3`` on both backends.
* Categories, states and kinds are short Chinese strings, the words the
  command room uses; their allowed values are listed below as constants.

The tables are created and upgraded only by the Alembic migrations in
``dashboard/db/migrations``; ``tests/test_migrations.py`` proves that the
migrations and these definitions agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

# Naming convention so that Alembic and both backends agree on constraint names.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- vocabularies -----------------------------------------------------------

REPORT_CATEGORIES = (
    "矛盾纠纷",
    "治安隐患",
    "消防隐患",
    "违章搭建",
    "噪音扰民",
    "设施损坏",
    "电诈线索",
    "求助",
    "其他",
)
URGENCIES = ("一般", "紧急", "特急")

# Dispatch task states, in the order of the closed loop (闭环).
TASK_STATES = ("待研判", "已派发", "处置中", "已反馈", "已办结", "已回访")
# Open = not closed yet (the 派单队列 queue); 已反馈 waits for the command room to close it.
OPEN_TASK_STATES = ("待研判", "已派发", "处置中", "已反馈")
TASK_EVENT_TYPES = (
    "创建",  # task created from a report
    "派发",  # dispatched to the community officer
    "转派",  # transferred to a department (or to another one)
    "签收",  # assignee accepted; work in progress
    "反馈",  # feedback given
    "办结",  # closed
    "回访",  # follow-up visit done (with satisfaction)
)

INCIDENT_CATEGORIES = (
    "刑事",
    "治安",
    "电信诈骗",
    "盗窃",
    "入室盗窃",
    "盗窃电动自行车",
    "侵财",
    "接触类",
    "纠纷",
    "求助",
)

DISPUTE_KINDS = ("邻里纠纷", "婚姻家庭", "物业纠纷", "劳资纠纷", "债务纠纷", "交通事故", "消费纠纷", "其他纠纷")
DISPUTE_STATUSES = ("调处中", "化解", "未化解")
# Three-level joint mediation (三级联调).
MEDIATION_LEVELS = {1: "网格员", 2: "社区民警", 3: "司法所/律师/人民调解员"}

GRID_WORKER_KINDS = (
    "网格员",
    "网格长",
    "楼栋长",
    "综治协管员",
    "社区党员",
    "政法协理员",
    "物业保安",
    "红袖标志愿者",
    "义警",
    "外卖骑手",
    "快递员",
    "平安志愿者",
    "信息员",
    "调解员",
)
PATROL_TEAM_KINDS = ("巡防队", "红袖标巡逻队", "商圈巡防队", "城市巡逻队")
SHIFTS = ("白", "黑")
BASE_RECORD_KINDS = ("标准地址", "实有人口", "实有房屋", "实有单位")
CAMERA_KINDS = ("出入口", "楼栋", "道路", "重点部位")

# --- places -----------------------------------------------------------------

stations = Table(
    "stations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(64), nullable=False),  # e.g. 五里亭派出所
    Column("branch", String(64), nullable=False),  # 分局, e.g. 东侨公安分局
    Column("centroid_lat", Float, nullable=False),
    Column("centroid_lon", Float, nullable=False),
)

communities = Table(
    "communities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("station_id", Integer, ForeignKey("stations.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("centroid_lat", Float, nullable=False),
    Column("centroid_lon", Float, nullable=False),
)

grids = Table(
    "grids",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", Integer, ForeignKey("communities.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    # GeoJSON Polygon or MultiPolygon geometry (lon/lat, WGS84, holes kept), as text: portable on both backends.
    Column("boundary_geojson", Text, nullable=False),
    Column("area_km2", Float, nullable=False),
    Column("centroid_lat", Float, nullable=False),
    Column("centroid_lon", Float, nullable=False),
    Column("h3", String(16), nullable=False),  # cell of the centroid
    Column("population", Integer, nullable=False, server_default="0"),
)

compounds = Table(  # 小区
    "compounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("households", Integer, nullable=False),
    Column("buildings", Integer, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("h3", String(16), nullable=False),
)

# --- people and units -------------------------------------------------------

officers = Table(  # 社区民警 / 辅警
    "officers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("station_id", Integer, ForeignKey("stations.id"), nullable=False, index=True),
    Column("community_id", Integer, ForeignKey("communities.id"), nullable=True, index=True),
    Column("name", String(32), nullable=False),
    Column("badge", String(16), nullable=False),
    Column("role", String(16), nullable=False),  # 民警 / 辅警
    Column("phone", String(20), nullable=False),
)

grid_workers = Table(  # 网格力量
    "grid_workers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False, index=True),
    Column("name", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # one of GRID_WORKER_KINDS
    Column("phone", String(20), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
)

departments = Table(  # 职能部门
    "departments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
)

# --- grid reports and the dispatch loop ---------------------------------------

reports = Table(  # 网格上报 / 社情民意
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reported_at", DateTime, nullable=False),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False),
    Column("h3", String(16), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("place", String(256), nullable=False),
    Column("reporter_id", Integer, ForeignKey("grid_workers.id"), nullable=True),
    Column("category", String(80), nullable=False),  # REPORT_CATEGORIES, or the station's vocabulary
    Column("urgency", String(16), nullable=True),  # URGENCIES; NULL = the source had none
    Column("text", Text, nullable=False),
    Column("source", String(32), nullable=False, server_default="网格通"),
    # Where an imported row came from (python -m dashboard.load): re-imports upsert on
    # (source_system, source_id); source_hash tells an unchanged row from an updated one.
    Column("source_system", String(32), nullable=True),
    Column("source_id", String(128), nullable=True),
    Column("source_hash", String(40), nullable=True),
    Index("ix_reports_source", "source_system", "source_id", unique=True),
    Index("ix_reports_grid_time", "grid_id", "reported_at"),
    Index("ix_reports_time", "reported_at"),
    Index("ix_reports_h3", "h3"),
)

tasks = Table(  # 派单: one per report that the command room handles
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=True, index=True),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False),
    Column("h3", String(16), nullable=False),
    Column("category", String(80), nullable=False),
    Column("urgency", String(16), nullable=True),  # NULL = the source had none
    Column("created_at", DateTime, nullable=False),
    Column("state", String(8), nullable=False),  # TASK_STATES, current
    # Current assignee: the community officer or a department (never both).
    Column("officer_id", Integer, ForeignKey("officers.id"), nullable=True),
    Column("department_id", Integer, ForeignKey("departments.id"), nullable=True),
    Column("dispatched_at", DateTime, nullable=True),  # first dispatch or transfer
    Column("deadline_at", DateTime, nullable=True),  # current feedback deadline (限时反馈)
    # Set when deadline_at was derived by a station rule (an import lacked one): the rule, in words.
    Column("deadline_rule", String(64), nullable=True),
    Column("feedback_at", DateTime, nullable=True),
    Column("closed_at", DateTime, nullable=True),
    Column("visited_at", DateTime, nullable=True),
    Column("satisfied", Boolean, nullable=True),  # from the follow-up visit
    Column("transfer_count", SmallInteger, nullable=False, server_default="0"),
    # Optimistic concurrency: every change appends an event and bumps version.
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_tasks_grid_created", "grid_id", "created_at"),
    Index("ix_tasks_created", "created_at"),
    Index("ix_tasks_state_deadline", "state", "deadline_at"),
)

task_events = Table(  # append-only log of the closed loop
    "task_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", Integer, ForeignKey("tasks.id"), nullable=False),
    Column("seq", Integer, nullable=False),  # 1, 2, ... per task (= task version after it)
    Column("at", DateTime, nullable=False),
    Column("event", String(8), nullable=False),  # TASK_EVENT_TYPES
    Column("actor", String(64), nullable=False),  # who did it (name and unit)
    Column("to_state", String(8), nullable=False),
    Column("officer_id", Integer, ForeignKey("officers.id"), nullable=True),
    Column("department_id", Integer, ForeignKey("departments.id"), nullable=True),
    Column("deadline_at", DateTime, nullable=True),
    Column("note", Text, nullable=True),
    Index("ix_task_events_task_seq", "task_id", "seq", unique=True),
    Index("ix_task_events_at", "at"),
)

# --- disputes and mediation ----------------------------------------------------

disputes = Table(  # 矛盾纠纷
    "disputes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=True),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False),
    Column("h3", String(16), nullable=False),
    Column("kind", String(80), nullable=False),  # DISPUTE_KINDS, or the station's vocabulary
    Column("found_at", DateTime, nullable=False),
    Column("parties", SmallInteger, nullable=False, server_default="2"),
    Column("summary", Text, nullable=False),
    Column("level", SmallInteger, nullable=False),  # current/last mediation level 1..3
    Column("status", String(8), nullable=False),  # DISPUTE_STATUSES
    Column("closed_at", DateTime, nullable=True),
    Column("visit_due_at", DateTime, nullable=True),
    Column("visited_at", DateTime, nullable=True),
    Column("satisfied", Boolean, nullable=True),
    # Where an imported row came from (python -m dashboard.load): re-imports upsert on
    # (source_system, source_id); source_hash tells an unchanged row from an updated one.
    Column("source_system", String(32), nullable=True),
    Column("source_id", String(128), nullable=True),
    Column("source_hash", String(40), nullable=True),
    Index("ix_disputes_source", "source_system", "source_id", unique=True),
    Index("ix_disputes_grid_found", "grid_id", "found_at"),
    Index("ix_disputes_found", "found_at"),
    Index("ix_disputes_closed", "closed_at"),
)

mediation_steps = Table(  # 三级联调: one row per level tried
    "mediation_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dispute_id", Integer, ForeignKey("disputes.id"), nullable=False, index=True),
    Column("level", SmallInteger, nullable=False),  # 1 grid worker, 2 officer, 3 司法所/lawyer/mediator
    Column("mediator", String(64), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=True),
    Column("outcome", String(8), nullable=True),  # 化解 / 未化解 / 升级 ; NULL while ongoing
)

# --- 110 incidents ------------------------------------------------------------

incidents = Table(  # 警情
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("received_at", DateTime, nullable=False),
    Column("arrived_at", DateTime, nullable=True),
    Column("closed_at", DateTime, nullable=True),
    Column("category", String(80), nullable=False),  # INCIDENT_CATEGORIES, or the station's vocabulary
    Column("subtype", String(80), nullable=False),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False),
    Column("h3", String(16), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("place", String(256), nullable=False),
    Column("outcome", String(128), nullable=True),
    # Where an imported row came from (python -m dashboard.load): re-imports upsert on
    # (source_system, source_id); source_hash tells an unchanged row from an updated one.
    Column("source_system", String(32), nullable=True),
    Column("source_id", String(128), nullable=True),
    Column("source_hash", String(40), nullable=True),
    Index("ix_incidents_source", "source_system", "source_id", unique=True),
    Index("ix_incidents_grid_received", "grid_id", "received_at"),
    Index("ix_incidents_received", "received_at"),
    Index("ix_incidents_h3", "h3"),
)

# --- patrol -----------------------------------------------------------------------

patrol_teams = Table(
    "patrol_teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("station_id", Integer, ForeignKey("stations.id"), nullable=False, index=True),
    Column("community_id", Integer, ForeignKey("communities.id"), nullable=True),
    Column("name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # PATROL_TEAM_KINDS
    Column("members", SmallInteger, nullable=False),
)

patrol_shifts = Table(
    "patrol_shifts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("patrol_teams.id"), nullable=False, index=True),
    Column("shift", String(4), nullable=False),  # 白 / 黑
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=True),  # NULL while on duty
    Column("prevented", SmallInteger, nullable=False, server_default="0"),  # 预防制止
    Column("caught", SmallInteger, nullable=False, server_default="0"),  # 抓获
    # The export's own shift id, when a GPS import's file has one (python -m dashboard.load gps);
    # NULL for shifts the importer derived from the points' gaps, and for the demo's.
    Column("source_id", String(128), nullable=True),
    # Minutes of patrol one GPS point of this shift stands for: its track's mean
    # interval (span / (points − 1)), set by the GPS importer; NULL = the demo
    # feed's fixed interval (queries.measures.PATROL_POINT_MINUTES).
    Column("point_minutes", Float, nullable=True),
    Index("ix_patrol_shifts_started", "started_at"),
    Index("ix_patrol_shifts_team_source", "team_id", "source_id"),
)

patrol_points = Table(  # GPS track points
    "patrol_points",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shift_id", Integer, ForeignKey("patrol_shifts.id"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False),
    Column("h3", String(16), nullable=False),
    Index("ix_patrol_points_grid_at", "grid_id", "at"),
    Index("ix_patrol_points_at", "at"),
    Index("ix_patrol_points_shift", "shift_id", "at"),
)

# --- cameras and base data ----------------------------------------------------------

cameras = Table(  # 视频监控点位
    "cameras",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False, index=True),
    Column("h3", String(16), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # CAMERA_KINDS
    Column("online", Boolean, nullable=False),
    Column("last_seen_at", DateTime, nullable=True),
)

base_records = Table(  # 一标三实: one row per address, person, house or unit collected
    "base_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("grid_id", Integer, ForeignKey("grids.id"), nullable=False),
    Column("h3", String(16), nullable=False),
    Column("kind", String(8), nullable=False),  # BASE_RECORD_KINDS
    Column("collected_at", DateTime, nullable=False),
    Column("collector_id", Integer, ForeignKey("grid_workers.id"), nullable=True),
    Index("ix_base_records_grid_kind", "grid_id", "kind"),
    Index("ix_base_records_collected", "collected_at"),
)

# --- about the data set -------------------------------------------------------

dataset_info = Table(  # one row per fact about the data set, e.g. ("origin", "demo")
    "dataset_info",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", String(200), nullable=False),
)

# Columns only an import fills (the demo and the simulator leave them NULL).
IMPORT_COLUMNS = frozenset({"source_system", "source_id", "source_hash", "deadline_rule", "point_minutes"})

# --- imports (python -m dashboard.load) ----------------------------------------
#
# Every source row is staged with its raw values: nothing a station brings is
# lost, a rejected row keeps its reasons, and a row outside every grid is kept
# (and counted on the pages as 辖区外) instead of being dropped.

IMPORT_KINDS = ("places", "incidents", "reports", "disputes", "gps")
# What became of a source row: written (new), updated, unchanged (same as the
# live row), duplicate (same source id and values as an earlier row of the
# file), rejected (failed validation; errors say why), outside (located but in
# no grid), unlocated (no usable coordinates and no grid named).
IMPORT_ROW_STATUSES = ("inserted", "updated", "unchanged", "duplicate", "rejected", "outside", "unlocated")

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # IMPORT_KINDS
    Column("source_system", String(32), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("station_code", String(64), nullable=True),
    Column("mapping", Text, nullable=True),  # the mapping file's text, as used
    Column("dry_run", Boolean, nullable=False, server_default="0"),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("status", String(16), nullable=False),  # running / done / failed
    Column("rows_read", Integer, nullable=False, server_default="0"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("duplicate", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("outside", Integer, nullable=False, server_default="0"),
    Column("unlocated", Integer, nullable=False, server_default="0"),
    Column("notes", Text, nullable=True),  # warnings about the file as a whole (JSON list)
    Index("ix_import_batches_started", "started_at"),
)

import_rows = Table(
    "import_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False),
    Column("row_no", Integer, nullable=False),  # the line in the source file (1 = first data row)
    Column("source_id", String(128), nullable=True),
    Column("status", String(16), nullable=False),  # IMPORT_ROW_STATUSES
    Column("raw", Text, nullable=False),  # the source row as read (JSON object of text values)
    Column("errors", Text, nullable=True),  # JSON list of {"column", "field", "zh", "en"}
    Column("at", DateTime, nullable=True),  # the row's event time (UTC) when it could be read
    Column("category", String(80), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("target_id", Integer, nullable=True),  # the live row written or matched
    Index("ix_import_rows_batch_row", "batch_id", "row_no"),
    Index("ix_import_rows_batch_source", "batch_id", "source_id"),
    Index("ix_import_rows_status_at", "status", "at"),
)

# --- the station's own words --------------------------------------------------------

VOCABULARY_KINDS = ("report_category", "incident_category", "urgency", "dispute_kind", "department")

vocabulary = Table(  # categories, urgencies, kinds as the station names them (seeded from the lists above)
    "vocabulary",
    metadata,
    Column("kind", String(32), primary_key=True),  # VOCABULARY_KINDS
    Column("code", String(80), primary_key=True),  # the value stored in the data rows
    Column("name", String(80), nullable=False),  # what the screen shows
    Column("sort_order", Integer, nullable=False, server_default="0"),
    Column("colour", String(16), nullable=True),  # "#rrggbb"; None = from the palette by order
    Column("key_category", Boolean, nullable=False, server_default="0"),  # 重点类别
)

# The incident categories the command room watches most closely (重点类别: the trends page's tiles).
KEY_CATEGORIES = ("刑事", "电信诈骗", "盗窃", "入室盗窃", "纠纷")


def default_vocabulary() -> list[dict]:
    """The vocabulary rows for the lists above (the demo world's words)."""
    lists = (
        ("report_category", REPORT_CATEGORIES),
        ("incident_category", INCIDENT_CATEGORIES),
        ("urgency", URGENCIES),
        ("dispute_kind", DISPUTE_KINDS),
    )
    return [
        {"kind": kind, "code": v, "name": v, "sort_order": i, "colour": None, "key_category": kind == "incident_category" and v in KEY_CATEGORIES}
        for kind, values in lists
        for i, v in enumerate(values)
    ]


# --- accounts and the audit trail ------------------------------------------------
#
# Places are named by code, not id, and carry no foreign key: a scope outlives
# a reload of the place data (the demo's --replace, an import), as links do.

USER_ROLES = ("duty", "commander", "leader", "admin", "wall")  # labels and rights: dashboard.auth.ROLES

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),  # the proxy's header, the OIDC claim, or a wall's name
    Column("display_name", String(64), nullable=False, server_default=""),
    Column("role", String(16), nullable=False),  # USER_ROLES
    Column("station_code", String(32), nullable=True),  # scope: one station; NULL = every station
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("key_hash", String(64), nullable=True, unique=True),  # a wall's key: sha256 hex, never the key
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

user_communities = Table(  # a narrower scope: only these communities (of the user's station)
    "user_communities",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("community_code", String(32), primary_key=True),
)

audit_log = Table(  # append-only: triggers refuse UPDATE and DELETE on both backends
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),  # UTC
    Column("username", String(64), nullable=False),
    Column("role", String(16), nullable=True),
    Column("action", String(32), nullable=False),  # AUDIT_ACTIONS
    Column("object_type", String(32), nullable=True),  # report, task, dispute, grid, user
    Column("object_id", String(64), nullable=True),
    Column("detail", Text, nullable=True),
    Column("client", String(128), nullable=True),  # address the request came from
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_user_at", "username", "at"),
    # No INSERT … RETURNING id: the audit role may insert but not read the trail.
    implicit_returning=False,
)
AUDIT_ACTIONS = ("unmask", "sign_in", "denied", "user_admin", "wall_ack", "warning_ack")

# Tables in dependency order (parents first), for bulk loads and resets.
ALL_TABLES = [
    stations,
    communities,
    grids,
    compounds,
    officers,
    grid_workers,
    departments,
    reports,
    tasks,
    task_events,
    disputes,
    mediation_steps,
    incidents,
    patrol_teams,
    patrol_shifts,
    patrol_points,
    cameras,
    base_records,
]

# Outside the place and event data: the facts about the data set (rewritten
# with it by the demo generator), and the accounts and audit trail (never
# touched by the demo's --replace: the trail cannot be deleted).
META_TABLES = [dataset_info, vocabulary]
IMPORT_TABLES = [import_batches, import_rows]
ACCOUNT_TABLES = [users, user_communities, audit_log]

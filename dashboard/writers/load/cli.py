"""``python -m dashboard.load``: a station's own places and records into DATABASE_URL.

    python -m dashboard.load places FILE --station CODE --crs EPSG:4326 --name-field name [...]
    python -m dashboard.load incidents|reports|disputes FILE --mapping MAPPING.toml [--dry-run]
    python -m dashboard.load gps FILE --mapping MAPPING.toml [--station CODE] [--dry-run]   # patrol GPS tracks
    python -m dashboard.load vocabulary [FILE.toml] [--kind K] [--dry-run]   # the station's words: order, colours, 重点类别
    python -m dashboard.load batches              # what was loaded, when, with what result
    python -m dashboard.load rejects BATCH [--out FILE.csv]   # rows not loaded, and why

Messages are Chinese first (the operator's language), with the English after a slash.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tomllib
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from dashboard.config import load_settings
from dashboard.crs import CrsError
from dashboard.db.database import make_writer, run_command
from dashboard.db.migrate import upgrade
from dashboard.db.schema import VOCABULARY_KINDS
from dashboard.writers.load.mapping import MappingError, load_mapping
from dashboard.writers.load.places import load_places
from dashboard.writers.load.records import load_records, rejected_rows
from dashboard.writers.load.rows import STATUS_ZH
from dashboard.writers.load.sources import SourceError
from dashboard.writers.load.vocab import current_vocabulary, load_vocabulary
from queries.imports import KIND_ZH, batches

KINDS = ("incidents", "reports", "disputes", "gps")
KIND_HELP = {
    "incidents": "incidents from CSV or Excel with a mapping file",
    "reports": "grid reports (with their dispatch tasks) from CSV or Excel with a mapping file",
    "disputes": "disputes from CSV or Excel with a mapping file",
    "gps": "patrol GPS track points (a device export, CSV or Excel) with a mapping file: teams, shifts (split where a team's points are more than [source] shift_gap_minutes apart, unless the file has a shift column) and points",
}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m dashboard.load", description="Load a station's own places and records into DATABASE_URL (default: the embedded SQLite file).")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("places", help="communities and grids from GeoJSON, KML/KMZ or a zipped Shapefile")
    p.add_argument("file", type=Path)
    p.add_argument("--mapping", type=Path, help="a TOML file with [source] crs/encoding and [places] options (instead of the options below)")
    p.add_argument("--station", help="the station's code (created if new)")
    p.add_argument("--station-name", help="the station's name, e.g. 五里亭派出所")
    p.add_argument("--branch", help="the branch (分局) the station belongs to")
    p.add_argument("--crs", help="the file's coordinate system, declared: EPSG:4326, EPSG:4490, EPSG:32650, EPSG:4549, GCJ-02, BD-09")
    p.add_argument("--name-field", help="the property holding the grid's name")
    p.add_argument("--code-field", help="the property holding the grid's code (default: station code + name)")
    p.add_argument("--community-field", help="the property holding the grid's community (parent)")
    p.add_argument("--community-code-field", help="the property holding the community's code")
    p.add_argument("--community", help="one community name for every grid of the file")
    p.add_argument("--population-field", help="the property holding the population")
    p.add_argument("--encoding", help="the attribute table's encoding (Shapefile .dbf): utf-8, gb18030; default: .cpg or detected")
    p.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    for kind in KINDS:
        r = sub.add_parser(kind, help=KIND_HELP[kind], description=KIND_HELP[kind])
        r.add_argument("file", type=Path)
        r.add_argument("--mapping", type=Path, required=True, help="the TOML mapping (see dashboard/writers/load/examples/)")
        r.add_argument("--station", help="place rows only in this station's grids (default: every grid)" + ("; the station the teams belong to" if kind == "gps" else ""))
        r.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing to the live tables")
        r.add_argument("--rejects", type=Path, help="also write the rows not loaded (and why) to this CSV")
        r.add_argument("--chunk", type=int, default=5000, help=argparse.SUPPRESS)
    w = sub.add_parser("vocabulary", help="the station's vocabulary (order, colours, key categories): set it from a TOML file, or list it")
    w.add_argument("file", type=Path, nargs="?", help="a TOML file of [[incident_category]] … terms (see dashboard/writers/load/examples/vocabulary.toml); without it, list the vocabulary")
    w.add_argument("--kind", choices=VOCABULARY_KINDS, help="list only this kind")
    w.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    sub.add_parser("batches", help="list the import batches")
    x = sub.add_parser("rejects", help="the rows of a batch that were not loaded, with the reasons")
    x.add_argument("batch", type=int)
    x.add_argument("--out", type=Path, help="write them to this CSV (UTF-8 with BOM, opens in Excel)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = load_settings().database_url
    engine = make_writer(url)
    con = Console(highlight=False, width=None if sys.stdout.isatty() else 200)  # a log file gets whole lines

    def body() -> int:
        if args.command in ("places", "vocabulary", *KINDS):
            upgrade(engine)
        if args.command == "places":
            return _places(engine, args, con)
        if args.command in KINDS:
            return _records(engine, args, con)
        if args.command == "vocabulary":
            return _vocabulary(engine, args, con)
        if args.command == "batches":
            return _batches(engine, con)
        return _rejects(engine, args, con)

    return run_command(body, url, engine, usage_errors=(MappingError, SourceError, CrsError, ValueError))


def _places(engine, args, con: Console) -> int:

    opts = {k: getattr(args, k) for k in ("station", "station_name", "branch", "crs", "name_field", "code_field", "community_field", "community_code_field", "community", "population_field", "encoding")}
    if args.mapping:
        try:
            doc = tomllib.loads(args.mapping.read_text(encoding="utf-8-sig"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise MappingError(f"映射文件无法读取：{exc} / cannot read the mapping") from exc
        src, pl = doc.get("source") or {}, doc.get("places") or {}
        for k in opts:
            if opts[k] is None:
                opts[k] = pl.get(k, src.get(k))
    for need, flag in (("station", "--station"), ("crs", "--crs"), ("name_field", "--name-field")):
        if not opts[need]:
            raise MappingError(f"缺少 {flag}（坐标系必须声明，不做猜测）/ {flag} is required")
    s = load_places(engine, args.file, dry_run=args.dry_run, **opts)
    con.print(f"[bold]地块导入[/] {s.file} → 派出所 {s.station}{'（试运行，未写入）' if s.dry_run else f'（批次 {s.batch_id}）'}")
    for n in s.notes:
        con.print(f"  · {n}")
    t = Table("", "新增", "更新", "未变", "拒收")
    t.add_row("社区", *(str(s.communities[k]) for k in ("inserted", "updated", "unchanged")), "—")
    t.add_row("网格", *(str(s.grids[k]) for k in ("inserted", "updated", "unchanged", "rejected")))
    con.print(t)
    con.print(f"  要素 {s.features} 个；多部分（MultiPolygon）网格 {s.multipart} 个，带洞网格 {s.with_holes} 个；用时 {s.seconds:.1f} s")
    for kind, title in (("rejected", "拒收"), ("repaired", "已修复"), ("merged", "已合并"), ("overlap", "重叠"), ("gap", "缝隙")):
        items = s.of(kind)
        if items:
            con.print(f"[bold]{title} {len(items)} 处[/]")
            for i in items[:20]:
                con.print(f"  · {i.zh}")
            if len(items) > 20:
                con.print(f"  · 另 {len(items) - 20} 处未列出（见批次 {s.batch_id} 的记录）")
    return 0


def _records(engine, args, con: Console) -> int:

    mapping = load_mapping(args.mapping, args.command)
    cols = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*cols, console=con, transient=True) as bar:
        task = bar.add_task(f"读取 {args.file.name}", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        s = load_records(engine, args.command, args.file, mapping, station_code=args.station, dry_run=args.dry_run, chunk_size=args.chunk, progress=progress)
    head = "（试运行：以下是将会发生的，未写入任何数据）" if s.dry_run else f"（批次 {s.batch_id}）"
    con.print(f"[bold]{ {'incidents': '警情', 'reports': '网格上报', 'disputes': '矛盾纠纷', 'gps': '巡逻轨迹'}[args.command] }导入[/] {s.file} {head}")
    for n in s.notes:
        con.print(f"  · {n}")
    t = Table("读取", *(STATUS_ZH[k] for k in ("inserted", "updated", "unchanged", "duplicate", "rejected", "outside", "unlocated")), "用时")
    t.add_row(f"{s.rows_read:,}", *(f"{s.counts[k]:,}" for k in ("inserted", "updated", "unchanged", "duplicate", "rejected", "outside", "unlocated")), f"{s.seconds:.1f} s")
    con.print(t)
    rate = s.rows_read / s.seconds if s.seconds else 0
    kept = "不计入巡逻覆盖" if args.command == "gps" else "页面按「辖区外」计数"
    con.print(f"  载入 {s.loaded:,} 行（{rate:,.0f} 行/秒）；辖区外 {s.counts['outside']:,} 行、无法定位 {s.counts['unlocated']:,} 行已保留在批次中，{kept}")
    if s.reasons:
        con.print("[bold]拒收原因[/]")
        for k, n in sorted(s.reasons.items(), key=lambda kv: -kv[1])[:15]:
            con.print(f"  · {k}：{n:,} 行")
        for e in s.rejected_examples[:5]:
            con.print(f"    例：{e}")
    for e in s.outside_examples[:3]:
        con.print(f"  · 辖区外 例：{e}")
    if args.rejects:
        if s.batch_id is None:
            con.print("  · 试运行不保存批次，--rejects 未写出；去掉 --dry-run 后可导出")
        else:
            n = _write_csv(rejected_rows(engine, s.batch_id), args.rejects)
            con.print(f"  · 未载入的 {n:,} 行已写入 {args.rejects}")
    return 0


def _write_csv(rows: list[dict], out: Path) -> int:
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["行号", "结果", "来源编号", "原因", "reason", "原始数据"])
        w.writeheader()
        w.writerows(rows)
    return len(rows)


def _vocabulary(engine, args, con: Console) -> int:

    if args.file is not None:
        s = load_vocabulary(engine, args.file, dry_run=args.dry_run)
        con.print(f"[bold]词表[/] {s.file}{'（试运行，未写入）' if s.dry_run else ''}")
        for kind, n in s.kinds.items():
            con.print(f"  · {kind}：按文件顺序设定 {n} 项")
        if s.added:
            con.print(f"  · 新增 {len(s.added)} 项：{'、'.join(s.added[:10])}{'…' if len(s.added) > 10 else ''}")
        for kind, left in s.kept_after.items():
            con.print(f"  · {kind}：文件未列出的 {len(left)} 项保留，排在其后：{'、'.join(left[:10])}{'…' if len(left) > 10 else ''}")
    t = Table("类型", "取值", "顺序", "颜色", "重点类别")
    for r in current_vocabulary(engine, args.kind):
        t.add_row(r["kind"], r["code"], str(r["sort_order"]), r["colour"] or "（调色板）", "是" if r["key_category"] else "")
    con.print(t)
    return 0


def _batches(engine, con: Console) -> int:

    df = batches(engine)
    t = Table("批次", "类型", "文件", "开始（UTC）", "状态", "读取", "新增", "更新", "未变", "重复", "拒收", "辖区外", "无法定位")
    for r in df.itertuples():
        t.add_row(str(r.id), KIND_ZH.get(r.kind, r.kind), r.file_name, str(r.started_at)[:19], r.status, *(f"{getattr(r, c):,}" for c in ("rows_read", "inserted", "updated", "unchanged", "duplicate", "rejected", "outside", "unlocated")))
    con.print(t)
    return 0


def _rejects(engine, args, con: Console) -> int:

    rows = rejected_rows(engine, args.batch)
    if args.out:
        con.print(f"{_write_csv(rows, args.out):,} 行已写入 {args.out}")
        return 0
    w = csv.DictWriter(sys.stdout, fieldnames=["行号", "结果", "来源编号", "原因", "reason", "原始数据"])
    w.writeheader()
    w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

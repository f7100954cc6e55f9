"""``python -m dashboard.briefing``: the leadership briefing (领导汇报) as files, for a scheduled run.

    python -m dashboard.briefing --period month --out 上月汇报.pdf
    python -m dashboard.briefing --period week --community WLT-C01 --out 周报.pdf --out 周报.xlsx
    python -m dashboard.briefing --period custom --start 2026-10-01 --end 2026-10-31 --out 十月.html

``--period``: week, month, quarter, year are the last whole ones (上周, 上月,
上季度, 上年: what a run on the 1st of the month reports); any other key of
``dashboard.filters.PERIODS`` (today, 7d, 30d, year, custom …) is the filter
bar's period of that name. Places are
codes, as in the URL (``--station``, ``--community``, ``--grid``). Each
``--out`` names a file whose extension (.pdf, .html, .xlsx) says what to write.
The figures are those of the desk pages for the same filters
(``queries.briefing``). Messages are Chinese first, then English; a bad
argument or an unreachable database exits with status 2 and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from dashboard import timeutil
from dashboard.config import load_settings
from dashboard.db.database import DataError, make_reader, translate_error
from dashboard.filters import PERIODS, decode
from dashboard.printout import export
from queries import briefing, places

# The briefing's own words for the last whole periods.
LAST = {"week": "last_week", "month": "last_month", "quarter": "last_quarter", "year": "last_year"}


def _fail(zh: str, en: str) -> int:
    print(f"{zh}\n{en}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.briefing", description="领导汇报：PDF、可打印的 HTML、Excel / the leadership briefing as files")
    ap.add_argument("--period", default="month", help="week | month | quarter | year（上一个完整的周/月/季/年）或 " + " | ".join(k for k in PERIODS if k != "month"))
    ap.add_argument("--start", help="自定义时段的第一天 YYYY-MM-DD（--period custom）")
    ap.add_argument("--end", help="自定义时段的最后一天 YYYY-MM-DD")
    ap.add_argument("--station", help="派出所代码")
    ap.add_argument("--community", help="社区代码，如 WLT-C01")
    ap.add_argument("--grid", help="网格代码，如 WLT-C01-G03")
    ap.add_argument("--out", action="append", required=True, help="输出文件 .pdf / .html / .xlsx（可多次给出）")
    args = ap.parse_args(argv)

    outs = [Path(o) for o in args.out]
    bad = [str(o) for o in outs if o.suffix.lower().lstrip(".") not in export.FORMATS]
    if bad:
        return _fail(f"无法识别的输出格式：{'、'.join(bad)}（应为 .pdf、.html 或 .xlsx）", f"unknown output format: {', '.join(bad)} (use .pdf, .html or .xlsx)")
    period = LAST.get(args.period, args.period)
    if period not in PERIODS:
        return _fail(f"无法识别的时段：{args.period}", f"unknown period: {args.period}")
    if period == "custom" and not (args.start and args.end):
        return _fail("自定义时段需要 --start 和 --end", "--period custom needs --start and --end")

    settings = load_settings()
    now = settings.now_override or timeutil.utcnow()
    t0 = time.perf_counter()
    try:
        engine = make_reader(settings)
        catalogue = places.catalogue(engine)
        params = {k: v for k, v in dict(station=args.station, community=args.community, grid=args.grid, period=period, start=args.start, end=args.end).items() if v}
        f, warnings = decode(params, catalogue, timeutil.local_today(now))
        if warnings:
            return _fail("参数有误：" + "；".join(warnings), "bad arguments (see the message above)")
        b = briefing.briefing(engine, f, now)
        made = time.perf_counter()
        files = export.files(b, tuple(dict.fromkeys(o.suffix.lower().lstrip(".") for o in outs)))
    except (DataError, SQLAlchemyError) as exc:
        err = translate_error(exc)
        return _fail(f"数据库不可用：{err.zh}", f"database problem: {err.en}")
    except export.ExportError as exc:
        return _fail(str(exc), "export failed")
    for o in outs:
        o.parent.mkdir(parents=True, exist_ok=True)
        o.write_bytes(files[o.suffix.lower().lstrip(".")])
        print(f"已写出 {o}（{len(files[o.suffix.lower().lstrip('.')]):,} 字节）")
    print(f"{b.station} · {b.place} · {b.period}：取数 {made - t0:.1f} 秒，生成文件 {time.perf_counter() - made:.1f} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())

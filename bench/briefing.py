"""Benchmark: the leadership briefing (领导汇报), from the database to each file.

    DATABASE_URL=... python bench/briefing.py [--period month] [--community CODE] [--repeat 3]

Prints, for the briefing of the period (the last whole month by default): the
time to gather its figures (``queries.briefing.briefing``, every query), the
time to draw the charts (kaleido: the first call starts chromium, the later
ones reuse it), and the time to write each file (PDF by WeasyPrint, HTML,
Excel), with the files' sizes and the PDF's pages; medians over ``--repeat``
runs after the first (the first run's chart time, with chromium's start, is
printed on its own). Uses DASHBOARD_NOW if set, else the newest incident as "now".
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from dashboard import timeutil  # noqa: E402
from dashboard.briefing import LAST  # noqa: E402
from dashboard.config import load_settings  # noqa: E402
from dashboard.db.database import describe_url, make_reader  # noqa: E402
from dashboard.db.schema import incidents  # noqa: E402
from dashboard.filters import decode  # noqa: E402
from dashboard.printout import charts, document, export  # noqa: E402
from queries import briefing, places  # noqa: E402


def pdf_pages(data: bytes) -> str:
    """The PDF's page count by pdfinfo (poppler-utils), "?" without it."""
    if shutil.which("pdfinfo") is None:
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        tmp.write(data)
        tmp.flush()
        out = subprocess.run(["pdfinfo", tmp.name], capture_output=True, text=True).stdout
    return next((line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")), "?")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--period", default="month")
    ap.add_argument("--community")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    settings = load_settings()
    engine = make_reader(settings)
    now = settings.now_override
    if now is None:
        with engine.connect() as c:
            now = c.execute(select(func.max(incidents.c.received_at))).scalar_one()
    params = {"period": LAST.get(args.period, args.period)} | ({"community": args.community} if args.community else {})
    f, warnings = decode(params, places.catalogue(engine), timeutil.local_today(now))
    if warnings:
        print("；".join(warnings))
        return 2
    print(f"database {describe_url(settings.database_url)}, now {now:%Y-%m-%d %H:%M} UTC, filters {params}")
    heights = {key: h for key, _t, _b, h in charts.CHARTS}
    rows: dict[str, list[float]] = {k: [] for k in ("figures", "charts", "pdf", "html", "xlsx")}
    first_charts = None
    sizes: dict[str, int] = {}
    for i in range(args.repeat + 1):
        t = time.perf_counter()
        b = briefing.briefing(engine, f, now)
        t_fig = time.perf_counter() - t
        t = time.perf_counter()
        svgs = export.chart_svgs({k: (fig, heights.get(k)) for k, fig in charts.figures(b).items()})
        t_charts = time.perf_counter() - t
        doc = document.render(b, svgs)
        timings = {}
        for kind, make in (("pdf", lambda: export.to_pdf(doc)), ("html", lambda: export.to_html(doc)), ("xlsx", lambda: export.to_xlsx(b))):
            t = time.perf_counter()
            data = make()
            timings[kind] = time.perf_counter() - t
            sizes[kind] = len(data)
            if kind == "pdf":
                pages = pdf_pages(data)
        if i == 0:
            first_charts = t_charts
            print(f"first run: figures {t_fig:.2f} s, charts {t_charts:.2f} s (chromium starting), pdf {timings['pdf']:.2f} s")
            continue
        rows["figures"].append(t_fig)
        rows["charts"].append(t_charts)
        for k, v in timings.items():
            rows[k].append(v)
    med = {k: statistics.median(v) for k, v in rows.items() if v}
    print(f"{b.station} · {b.place} · {b.period}: {len(b.density)} grids, {len(b.warnings)} warnings")
    print(f"median of {args.repeat}: figures {med['figures']:.2f} s · charts {med['charts']:.2f} s (5 charts) · "
          f"PDF {med['pdf']:.2f} s · HTML {med['html'] * 1000:.0f} ms · Excel {med['xlsx'] * 1000:.0f} ms")
    total = med["figures"] + med["charts"] + med["pdf"]
    print(f"a PDF from the database: {total:.2f} s warm, {total - med['charts'] + (first_charts or 0):.2f} s with chromium's start")
    print(f"sizes: PDF {sizes['pdf'] / 1024:.0f} KiB ({pages} pages) · HTML {sizes['html'] / 1024:.0f} KiB · Excel {sizes['xlsx'] / 1024:.0f} KiB")
    export._stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

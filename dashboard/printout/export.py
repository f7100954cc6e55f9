"""The briefing's files: PDF (WeasyPrint), printable HTML, Excel (openpyxl).

Charts go through kaleido, which drives the machine's own chromium (Debian's
``/usr/bin/chromium``; nothing is downloaded) with plotly.js from the plotly
package and MathJax off, so no request leaves the machine. One kaleido server
per process is started on first use and kept (about 2 s to start, then about
0.2 s a chart); a lock serialises the sessions that export at once. WeasyPrint
is given a URL fetcher that allows only the document's own data URIs,
and finds the Noto CJK fonts through fontconfig, embedding the glyphs it uses.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import threading

import kaleido
import plotly.graph_objects as go
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from dashboard import timeutil
from dashboard.printout import charts, document, tables
from dashboard.ui import xlsx
from queries.briefing import Briefing

log = logging.getLogger(__name__)

FORMATS = {"pdf": "application/pdf", "html": "text/html", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
_lock = threading.Lock()
_server = {"up": False}


class ExportError(RuntimeError):
    """An export that could not be made, with a message in Chinese for the screen."""


def _browser() -> str | None:
    if os.environ.get("BROWSER_PATH"):
        return os.environ["BROWSER_PATH"]
    return next((p for p in map(shutil.which, CHROMIUM) if p), None)


def page_generator() -> kaleido.PageGenerator:
    """kaleido's page: plotly.js from the installed plotly package, no MathJax (its default is a CDN)."""
    return kaleido.PageGenerator(mathjax=False)


def _stop() -> None:
    if _server["up"]:
        kaleido.stop_sync_server(silence_warnings=True)
        _server["up"] = False


def chart_svgs(figs: dict[str, tuple[go.Figure, int | None]]) -> dict[str, str]:
    """Each figure (key → (figure, height on paper)) as SVG text, restyled for paper."""
    browser = _browser()
    if browser is None:
        raise ExportError("未找到 chromium 浏览器，无法把图表转成图片（请安装 Debian 的 chromium 软件包）")
    os.environ.setdefault("BROWSER_PATH", browser)
    with _lock:
        try:
            return _draw(figs)
        except Exception:  # kaleido and chromium fail in many ways (a crashed or slow browser): start afresh once
            log.warning("briefing charts failed; restarting kaleido and trying once more", exc_info=True)
            _stop()
            return _draw(figs)


def _draw(figs: dict[str, tuple[go.Figure, int | None]]) -> dict[str, str]:
    if not _server["up"]:
        kaleido.start_sync_server(page_generator=page_generator(), silence_warnings=True)
        _server["up"] = True
        atexit.register(_stop)
    out = {}
    for key, (fig, height) in figs.items():
        paper = charts.paper(fig, height)
        data = kaleido.calc_fig_sync(paper, opts=dict(format="svg", width=paper.layout.width, height=paper.layout.height))
        out[key] = data.decode("utf-8") if isinstance(data, bytes) else str(data)
    return out


def _fetcher() -> URLFetcher:
    """WeasyPrint's fetcher for this document: its own data URIs, nothing from a network or a disk."""
    return URLFetcher(allowed_protocols=("data",))


def rendered(b: Briefing, figs: dict[str, go.Figure] | None = None) -> str:
    """The document's HTML with its charts (the page passes the figures it drew);
    charts that could not be drawn are replaced by the reason, in words."""
    figs = figs or charts.figures(b)
    heights = {key: h for key, _t, _b, h in charts.CHARTS}
    try:
        svgs = chart_svgs({k: (f, heights.get(k)) for k, f in figs.items()})
        err = None
    except ExportError as exc:
        svgs, err = {}, str(exc)
    except Exception as exc:  # kaleido/chromium failing twice: the document goes out without charts, saying so
        log.exception("briefing charts failed")
        svgs, err = {}, f"图表引擎出错：{type(exc).__name__}"
    return document.render(b, svgs, err)


def to_html(doc: str) -> bytes:
    return doc.encode("utf-8")


def to_pdf(doc: str) -> bytes:
    return HTML(string=doc, url_fetcher=_fetcher()).write_pdf()


def to_xlsx(b: Briefing) -> bytes:
    """The tables, one sheet each, with the briefing's title and period on every sheet."""
    ts = tables.all_tables(b)
    title = f"{document.title(b)} · {b.place} · {b.period}"
    sheets = [(t.name, t.frame) for t in ts]
    notes = [document.dates_text(b)]
    percent = sorted({c for t in ts for c in t.percent})
    return xlsx.assessment_workbook(title, sheets, notes=notes, made_at=timeutil.to_local(b.now), percent_columns=percent)


def files(b: Briefing, kinds: tuple[str, ...] = ("pdf", "html", "xlsx"), figs: dict[str, go.Figure] | None = None) -> dict[str, bytes]:
    """The files asked for (kind → bytes); the document is rendered once for PDF and HTML."""
    out: dict[str, bytes] = {}
    doc = rendered(b, figs) if {"pdf", "html"} & set(kinds) else None
    for kind in kinds:
        if kind == "pdf":
            out[kind] = to_pdf(doc)
        elif kind == "html":
            out[kind] = to_html(doc)
        elif kind == "xlsx":
            out[kind] = to_xlsx(b)
        else:
            raise ValueError(f"unknown format {kind!r}")
    return out


def file_name(b: Briefing, kind: str) -> str:
    """领导汇报_五里亭派出所_全辖区_2026-11-01_2026-11-30.pdf"""
    return f"领导汇报_{b.station}_{b.place.replace(' · ', '_')}_{b.first}_{b.last}.{kind}".replace("/", "_")

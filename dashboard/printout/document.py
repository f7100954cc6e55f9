"""The briefing as one self-contained HTML document, for A4 portrait.

The same text is the printable HTML and, through WeasyPrint, the PDF: the
page's margin boxes carry the station and period (top) and 第 N 页 / 共 M 页
(bottom); every chart, the map and each table row keep together
(``break-inside: avoid``), and a table's header repeats on the next page.
Images are inline (SVG as data URIs), so the file opens offline.
"""

from __future__ import annotations

import base64
import html
from datetime import time, timedelta

from dashboard import timeutil
from dashboard.printout import charts, staticmap, tables, words
from dashboard.ui import maps
from queries.briefing import Briefing

SECTIONS = (
    ("一、总体情况", ("headline",), ()),
    ("二、警情态势", ("categories",), ("trend", "categories")),
    ("三、派单闭环", ("loop_department", "loop_community"), ("loop",)),
    ("四、矛盾纠纷", ("disputes",), ("disputes",)),
    ("五、巡逻防控", ("patrol",), ("patrol",)),
    ("六、网格预警与警情分布", ("warnings",), ()),
)
TABLE_KEYS = ("headline", "categories", "loop_department", "loop_community", "disputes", "patrol", "warnings")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def title(b: Briefing) -> str:
    return f"{b.station}领导汇报"


def running_head(b: Briefing) -> str:
    return f"{b.station} · {b.place} · {b.period}"


def dates_text(b: Briefing) -> str:
    """"2026年11月01日 至 2026年11月30日"; a period still running ends at its time so far."""
    first = timeutil.to_local(b.window[0])
    end = timeutil.to_local(b.window[1])
    if end.time() == time(0):
        return f"{first:%Y年%m月%d日} 至 {end - timedelta(days=1):%Y年%m月%d日}"
    return f"{first:%Y年%m月%d日} 至 {end:%Y年%m月%d日 %H:%M}"


def css(b: Briefing) -> str:
    return f"""
@page {{
  size: A4 portrait;
  margin: 20mm 16mm 18mm 16mm;
  @top-left {{ content: {_css_string(running_head(b))}; font-size: 9pt; color: #555; }}
  @top-right {{ content: "领导汇报"; font-size: 9pt; color: #555; }}
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 9pt; color: #555; }}
}}
html {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; font-size: 10.5pt; color: #1d2433; }}
body {{ margin: 0 auto; max-width: 178mm; }}
h1 {{ font-size: 20pt; text-align: center; margin: 0 0 4pt; }}
.sub {{ text-align: center; color: #444; margin-bottom: 2pt; }}
h2 {{ font-size: 13pt; border-left: 4pt solid #1f6fb2; padding-left: 6pt; margin: 14pt 0 6pt; break-after: avoid; }}
h3 {{ font-size: 11pt; margin: 8pt 0 4pt; break-after: avoid; }}
p.summary {{ text-indent: 2em; line-height: 1.7; margin: 4pt 0; text-align: justify; }}
figure {{ margin: 6pt 0; break-inside: avoid; page-break-inside: avoid; }}
figure img {{ width: 100%; height: auto; display: block; }}
figcaption {{ font-weight: bold; font-size: 10pt; margin-bottom: 2pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4pt 0 2pt; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{ border: 0.5pt solid #9aa3b2; padding: 2pt 4pt; text-align: center; }}
th {{ background: #e4eaf4; }}
td.l {{ text-align: left; }}
.note {{ color: #555; font-size: 8.5pt; margin: 0 0 6pt; }}
.legend {{ font-size: 8.5pt; color: #333; }}
.sw {{ display: inline-block; width: 10pt; height: 8pt; margin: 0 2pt 0 6pt; vertical-align: middle; border: 0.5pt solid #888; }}
.sw.warn {{ background: #fff; border: 2pt solid #d0021b; }}
.empty {{ color: #555; font-style: italic; }}
@media screen {{ body {{ padding: 16px; }} }}
"""


def _img(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}">'


def _table_html(t: tables.Table) -> str:
    e = html.escape
    shown = t.display(printed=True)
    if shown.empty:
        body = f'<p class="empty">{e(t.name)}：无</p>'
    else:
        head = "".join(f"<th>{e(str(c))}</th>" for c in shown.columns)
        rows = []
        for row in shown.itertuples(index=False):
            cells = []
            for c, v in zip(shown.columns, row):
                text = f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
                cls = ' class="l"' if c in ("原因", "指标", "对比口径") else ""
                cells.append(f"<td{cls}>{e(text)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    note = f'<p class="note">{e(t.note)}</p>' if t.note else ""
    return f"<h3>{e(t.name)}</h3>{body}{note}"


def render(b: Briefing, svgs: dict[str, str], chart_error: str | None = None) -> str:
    """The document's HTML text. ``svgs``: chart key → SVG (``export.chart_svgs``);
    a chart missing from it is replaced by ``chart_error`` in words."""
    e = html.escape
    tbl = dict(zip(TABLE_KEYS, tables.all_tables(b)))
    titles = {key: t for key, t, _build, _h in charts.CHARTS}
    days = maps.window_days(b.window)
    made = timeutil.to_local(b.now)
    parts = [
        f"<h1>{e(title(b))}</h1>",
        f'<div class="sub">{e(b.place)} · {e(b.period)}（{e(dates_text(b))}）</div>',
        f'<div class="sub">制表时间 {made:%Y-%m-%d %H:%M} · 数据来源：警网融合指挥平台</div>',
    ]
    for heading, table_keys, chart_keys in SECTIONS:
        parts.append(f"<h2>{e(heading)}</h2>")
        if heading.startswith("一"):
            parts.append("".join(f'<p class="summary">{e(s)}</p>' for s in words.summary(b)))
        for key in chart_keys:
            if key in svgs:
                parts.append(f"<figure><figcaption>{e(titles[key])}</figcaption>{_img(svgs[key], titles[key])}</figure>")
            else:
                parts.append(f'<p class="empty">{e(titles[key])}：图表未能生成（{e(chart_error or "原因不明")}），数据见下表</p>')
        if heading.startswith("六"):
            warned = set(int(g) for g in b.warnings["grid_id"]) if len(b.warnings) else set()
            svg = staticmap.density_svg(b.density, days, warned)
            parts.append(f"<figure><figcaption>网格警情密度 · {e(b.period)}</figcaption>{_img(svg, '网格警情密度')}{staticmap.legend_html(days)}</figure>")
        for key in table_keys:
            parts.append(_table_html(tbl[key]))
    body = "\n".join(parts)
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title(b))} · {e(b.period)}</title>'
        f"<style>{css(b)}</style></head><body>{body}</body></html>"
    )

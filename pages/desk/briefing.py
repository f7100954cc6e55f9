"""领导汇报: the station chief's briefing for a period, for the station, a community or a grid.

The filter bar's places and period choose it (上周, 上月, 上季度, 上年 or 自定义
for a whole period; 本月 … for one still running). The page shows what the
files hold, in the same order: the generated summary, the headline tiles, the
categories that rose or fell, the dispatch loop by department and community,
disputes against the targets, patrol coverage by shift, the grids under early
warning and the map. Every figure is ``queries.briefing``'s, taken from the
desk pages' own functions; the PDF, the printable HTML and the Excel workbook
are made on the server when their button is pressed (``dashboard.printout``).
"""

from __future__ import annotations

import base64
import html

import plotly.graph_objects as go
import streamlit as st

from dashboard.printout import charts, document, export, staticmap, tables, words
from dashboard.ui import maps, plots, widgets
from dashboard.ui.frame import cached, context
from queries import briefing

ctx = context()
f = ctx.filters
E = html.escape

if f.window(ctx.now) is None:
    widgets.empty_state("未选择时段")
    st.stop()

b = None
with widgets.section():
    b = cached(ctx, briefing.briefing, f, ctx.now, live=False)
if b is None:
    st.stop()  # the section said why; the page retries by itself

figs = charts.figures(b)
titles = {key: title for key, title, _build, _h in charts.CHARTS}


def chart(key: str) -> None:
    fig = figs[key]
    plots.show(plots.style(go.Figure(fig), height=int(fig.layout.height or 380)), key=f"briefing-{key}")


def chart_pair(first: str, second: str) -> None:
    """Two of the charts side by side, each under its title."""
    for col, key in zip(st.columns(2, gap="medium"), (first, second)):
        with col, widgets.section():
            widgets.panel_title(titles[key])
            chart(key)


def show_table(t: tables.Table) -> None:
    widgets.panel_title(t.name, t.note)
    shown = t.display(printed=True)
    if shown.empty:
        widgets.empty_state(f"{t.name}：无")
    else:
        st.dataframe(shown, hide_index=True, width="stretch", placeholder="—")


def downloads() -> None:
    """The three files, each made when its button is pressed (on a thread of its own)."""
    cols = st.columns(3)
    for col, (kind, label, icon) in zip(cols, (("pdf", "下载 PDF", ":material/picture_as_pdf:"), ("html", "下载可打印 HTML", ":material/print:"), ("xlsx", "下载 Excel", ":material/table_view:"))):
        col.download_button(
            label,
            data=lambda kind=kind: export.files(b, (kind,), figs)[kind],
            file_name=export.file_name(b, kind),
            mime=export.FORMATS[kind],
            key=f"briefing-{kind}",
            on_click="ignore",
            icon=icon,
            width="stretch",
            help="A4 纵向，页眉为派出所与时段，页脚为页码；图表与地图由服务器生成，无需联网" if kind != "xlsx" else "每张表一个工作表，比率为数值格式",
        )


with widgets.section():
    widgets.panel_title(f"{document.title(b)} · {b.place} · {b.period}", "时段与范围取自上方筛选：上周、上月、上季度、上年或自定义时段；派出所、社区或网格")
    st.html(f'<div class="jw-note">{E(document.dates_text(b))}；待派单、超期、调处中与预警为此刻数</div>')
    downloads()
with widgets.section():
    widgets.panel_title("汇报摘要", "由下方各项数字自动生成；“显著”指经泊松检验，这样的变化由随机波动造成的概率低于5%")
    st.html('<div class="jw-brief-summary">' + "".join(f"<p>{E(s)}</p>" for s in words.summary(b)) + "</div>")
    widgets.kpi_row(list(b.headline), columns=4)

chart_pair("trend", "categories")
with widgets.section():
    show_table(tables.categories(b))

chart_pair("loop", "disputes")
# the tables are wide (up to ten columns): each gets the page's width
for make in (tables.loop_by_department, tables.loop_by_community, tables.disputes):
    with widgets.section():
        show_table(make(b))

left, right = st.columns(2, gap="medium")
with left, widgets.section():
    widgets.panel_title(titles["patrol"])
    chart("patrol")
with right, widgets.section():
    show_table(tables.patrol_shifts(b))

left, right = st.columns([1, 1.2], gap="medium")
with left, widgets.section():
    days = maps.window_days(b.window)
    warned = {int(g) for g in b.warnings["grid_id"]} if len(b.warnings) else set()
    widgets.panel_title(f"网格警情密度 · {b.period}", "与汇报文件中的地图相同：按总览的固定色阶着色，红框为预警网格")
    svg = staticmap.density_svg(b.density, days, warned)
    st.html(
        f'<div class="jw-brief-map"><img alt="网格警情密度" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"></div>'
        + staticmap.legend_html(days)
    )
with right, widgets.section():
    show_table(tables.warnings(b))

"""网格上报 live reports: KPI tiles, counts by category, the newest reports (filterable
on the page, personal data masked) and one report's detail with its task's history.

Drill-down: a click on a category bar narrows the table to that category; a click
on a table row opens the report (``?report=<id>``); 关闭详情 drops the parameter.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import mask, timeutil
from dashboard.ui import fmt, plots, widgets
from dashboard.ui.frame import MASKED, Personal, cached, context, drill, id_param, personal, selection_key
from dashboard.ui.palette import ACCENT, AMBER
from queries import dispatch, imports, reports
from queries.vocabulary import vocabulary

K_CATS = "rp_cats"  # page-local multiselects, in the URL as ?rcat= and ?urg=
K_URG = "rp_urg"
URL_OF = {K_CATS: "rcat", K_URG: "urg"}
K_LAST = "rp_last_url"  # what this session last wrote for them
K_CHART = "rp_chart_round"  # renewed after a bar click so the click fires once
LIMIT = 200
URGENT = reports.URGENT
URGENCY_MARK = {"特急": "●● 特急", "紧急": "● 紧急", "一般": "一般"}  # glyphs the CJK font has (no emoji font on the wall)

ctx = context()
f = ctx.filters
w = f.window(ctx.now)
ss = st.session_state
e = html.escape
# The period as the screen names it; a custom range with its years, so an empty one is unmistakable.
PERIOD = f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d}" if f.period == "custom" and f.start and f.end else ctx.period_label()


def _urgency_badge(u: str) -> str:
    cls = "jw-rp-urg-hi" if u == "特急" else "jw-rp-urg-mid" if u == "紧急" else "jw-rp-urg-lo"
    return f'<span class="jw-rp-urg {cls}">{e(u)}</span>'


# --- one report ---------------------------------------------------------------------------


def _history_html(hist: pd.DataFrame, pm: Personal = MASKED) -> str:
    items = []
    for r in hist.itertuples():
        who = pm.name(r.officer) if isinstance(r.officer, str) else (r.department if isinstance(r.department, str) else "")
        bits = [f'<span class="jw-rp-ev">{e(r.event)}</span> <span class="jw-rp-actor">{e(pm.name(r.actor))}</span> → {e(r.to_state)}']
        if who:
            bits.append(f"承办：{e(who)}")
        if r.deadline_at is not None and not pd.isna(r.deadline_at):
            bits.append(f"限时反馈 {e(timeutil.fmt_local(r.deadline_at, timeutil.MINUTE))}")
        note = f'<div class="jw-rp-note">{e(pm.text(r.note))}</div>' if isinstance(r.note, str) and r.note else ""
        items.append(f'<li><span class="jw-rp-time">{e(timeutil.fmt_local(r.at, timeutil.MINUTE))}</span> {" · ".join(bits)}{note}</li>')
    return f'<ol class="jw-rp-history">{"".join(items)}</ol>'


def show_detail(report_id: int) -> None:
    d = cached(ctx, reports.detail, report_id, ctx.now)
    if d is None or not ctx.can_see_grid(d.grid_id):
        st.warning(f"上报编号 {report_id} 不存在或不在您的辖区内：可能编号有误或该上报已被删除。", icon="⚠️")
        if st.button("关闭，返回上报列表", key="rp_close_missing"):
            drill(None)
        return
    with st.container(border=True):
        head, close = st.columns([5, 1], vertical_alignment="center")
        with head:
            st.html(
                f'<div class="jw-rp-title">上报 #{d.id} · {e(d.category)} {_urgency_badge(d.urgency)}'
                f'<span class="jw-sub">　{e(timeutil.fmt_local(d.reported_at, timeutil.MINUTE))} · {e(d.community)} · {e(d.grid)}</span></div>'
            )
        with close:
            if st.button("✕ 关闭详情", key="rp_close", width="stretch"):
                drill(None)
        pm = personal("report", d.id, "上报内容、地点、上报人、承办人和处置记录中的姓名")
        left, right = st.columns([1, 1], gap="large")
        reporter = pm.name(d.reporter) if d.reporter else "—"
        kind = f"（{e(d.reporter_kind)}）" if d.reporter_kind else ""
        with left:
            st.html(
                '<dl class="jw-rp-fields">'
                f"<dt>上报内容</dt><dd class=\"jw-rp-text\">{e(pm.text(d.text))}</dd>"
                f"<dt>地点</dt><dd>{e(pm.text(d.place))}</dd>"
                f"<dt>时间</dt><dd>{e(timeutil.fmt_local(d.reported_at, timeutil.MINUTE))}</dd>"
                f"<dt>类别 / 紧急程度</dt><dd>{e(d.category)} · {_urgency_badge(d.urgency)}</dd>"
                f"<dt>社区 / 网格</dt><dd>{e(d.community)} · {e(d.grid)}</dd>"
                f"<dt>上报人</dt><dd>{e(reporter)}{kind} · 来源 {e(pm.text(d.source))}</dd>"
                "</dl>"
            )
        with right:
            if d.task_id is None:
                st.html('<div class="jw-rp-task"><b>尚未建单</b>：指挥室还未对该上报研判派单。</div>')
                return
            assignee = pm.name(d.officer) + "（社区民警）" if d.officer else (d.department or "—")
            overdue = '<span class="jw-rp-overdue">已超期</span>' if d.overdue else ""
            st.html(
                f'<div class="jw-rp-task"><b>派单 #{d.task_id}</b> · 当前状态 <b>{e(d.task_state or "—")}</b>{overdue}'
                f"<br>当前承办：{e(assignee)} · 反馈期限：{e(timeutil.fmt_local(d.deadline_at, timeutil.MINUTE))}"
                f"<br>派发/转派：{e(timeutil.fmt_local(d.dispatched_at, timeutil.MINUTE))} · 转派 {d.transfer_count or 0} 次</div>"
            )
            hist = cached(ctx, dispatch.task_history, d.task_id)
            widgets.panel_title(f"处置过程（{len(hist)} 步）")
            if hist.empty:
                st.html('<div class="jw-note">该派单暂无处置记录。</div>')
            else:
                st.html(_history_html(hist, pm))


# --- the page's own filters in the URL ----------------------------------------------------
#
# A bar click or a pick in the two multiselects is a new history entry (the
# URL is written from the script, which Streamlit's browser side pushes), so
# Back undoes it; a URL that differs from what this session last wrote (a
# pasted link, Back, Forward) seeds the multiselects.


def seed_from_url(options: dict[str, tuple[str, ...]]) -> None:
    last = ss.get(K_LAST) or {}
    for key, name in URL_OF.items():
        raw = st.query_params.get(name) or ""
        if ss.get(K_LAST) is not None and raw == last.get(name, ""):
            continue
        values = [v for v in raw.split(",") if v]
        bad = [v for v in values if v not in options[key]]
        if bad:
            st.warning(f"已忽略未知的{'上报类别' if key == K_CATS else '紧急程度'} {name}={widgets.md_escape('、'.join(bad)[:40])}", icon="⚠️")
        ss[key] = [v for v in values if v in options[key]]


def write_to_url() -> None:
    now = {name: ",".join(ss.get(key) or []) for key, name in URL_OF.items()}
    for name, value in now.items():
        if (st.query_params.get(name) or "") != value:
            if value:
                st.query_params[name] = value
            else:
                del st.query_params[name]
    ss[K_LAST] = now


# --- counts by category --------------------------------------------------------------------


def report_categories() -> tuple[str, ...]:
    """The station's report categories, in its order (``queries.vocabulary``)."""
    return cached(ctx, vocabulary, "report_category", live=False).codes()


def report_urgencies() -> tuple[str, ...]:
    """The station's urgency levels, in its order (``queries.vocabulary``)."""
    return tuple(cached(ctx, vocabulary, "urgency", live=False).codes())


def category_chart(by: pd.DataFrame, picked: list[str]) -> None:
    counts = dict(zip(by["category"], by["n"].astype(int)))
    known = report_categories()
    cats = [c for c in known if c in counts] + sorted(c for c in counts if c not in known)
    cats = cats + [c for c in known if c not in counts]  # zero bars last
    cats = sorted(cats, key=lambda c: counts.get(c, 0))  # largest on top (plotly draws bottom-up)
    ns = [counts.get(c, 0) for c in cats]
    colors = [AMBER if c in picked else ACCENT for c in cats]
    fig = go.Figure(
        go.Bar(
            # drawn escaped (plots.esc); the click maps back through the raw customdata
            x=ns, y=[plots.esc(c) for c in cats], orientation="h", marker_color=colors, customdata=cats, text=[fmt.count(n) for n in ns],
            textposition="outside", cliponaxis=False, hovertemplate="%{y}：%{x} 件<extra>点击筛选</extra>",
        )
    )
    plots.style(fig, height=540, legend=False)
    fig.update_layout(margin=dict(l=10, r=60, t=10, b=10), xaxis=dict(title="上报（件）", rangemode="tozero"), yaxis=dict(tickfont=dict(size=17)))
    event = plots.show(fig, key=selection_key(f"reports-cat-{ss.get(K_CHART, 0)}"), on_select="rerun")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points:
        p = points[0]
        cat = p.get("customdata") or p.get("y") or p.get("label")
        if isinstance(cat, list):
            cat = cat[0] if cat else None
        if cat in report_categories():
            ss[K_CATS] = [cat]  # before the multiselect exists in this run
            ss[K_CHART] = ss.get(K_CHART, 0) + 1
            st.rerun()


# --- the newest reports ------------------------------------------------------------------------


def _table_view(df: pd.DataFrame) -> pd.DataFrame:
    """Screen columns: every typed text masked, times local, urgency marked."""
    return pd.DataFrame(
        {
            "时间": [timeutil.fmt_local(pd.Timestamp(t).to_pydatetime(), timeutil.SHORT) for t in df["reported_at"]],
            "紧急程度": [URGENCY_MARK.get(u, u) if isinstance(u, str) else "—" for u in df["urgency"]],
            "类别": df["category"].astype(str),
            "社区": df["community"].astype(str),
            "网格": [_short_grid(g, c) for g, c in zip(df["grid"], df["community"])],
            "地点": [mask.text(p) for p in df["place"]],
            "内容": [mask.text(t) for t in df["text"]],
            "上报人": [
                (mask.name(n) if isinstance(n, str) else "—") + (f"（{k}）" if isinstance(k, str) else "")
                for n, k in zip(df["reporter"], df["reporter_kind"])
            ],
            "派单状态": [s if isinstance(s, str) else "未建单" for s in df["task_state"]],
        }
    )


def _short_grid(grid: str, community: str) -> str:
    """南岸社区第5网格 → 第5网格 (the community has its own column)."""
    return grid[len(community):] if isinstance(grid, str) and isinstance(community, str) and grid.startswith(community) and len(grid) > len(community) else str(grid)


def _row_style(row: pd.Series) -> list[str]:
    """Urgent rows tinted, their urgency cell in full colour."""
    u = row["紧急程度"] if isinstance(row["紧急程度"], str) else ""  # an import may carry none
    cols = list(row.index)
    if u.endswith("特急"):
        base, cell = "background-color: rgba(255,90,95,0.16)", "background-color: #c8373c; color: #ffffff; font-weight: 700"
    elif u.endswith("紧急"):
        base, cell = "background-color: rgba(255,176,32,0.10)", "background-color: #b97b06; color: #ffffff; font-weight: 700"
    else:
        return [""] * len(row)
    return [cell if c == "紧急程度" else base for c in cols]


def latest_table() -> None:
    title = st.container()
    c1, c2 = st.columns([3, 2])
    cats = c1.multiselect("上报类别", list(report_categories()), key=K_CATS, placeholder="全部类别（点击左侧柱条也可筛选）", label_visibility="collapsed")
    urg = c2.multiselect("紧急程度", list(report_urgencies()), key=K_URG, placeholder="全部紧急程度", label_visibility="collapsed")
    df = cached(ctx, reports.latest, f, w, tuple(cats) or None, tuple(urg) or None, LIMIT)
    with title:
        widgets.panel_title(f"最新上报 · {ctx.scope_label()}")
    if df.empty:
        narrowed = "、".join([*cats, *urg])
        widgets.empty_state(f"“{ctx.scope_label()}” 在 {PERIOD} 内没有{('“' + narrowed + '”') if narrowed else ''}上报")
        return
    n_urgent = int(df["urgency"].isin(URGENT).sum())
    more = f"最新 {LIMIT} 条" if len(df) >= LIMIT else f"共 {len(df)} 条"
    with title:
        st.html(
            f'<div class="jw-note jw-rp-count">{more}，其中紧急/特急 <b class="jw-target-miss">{n_urgent}</b> 条 · 点击一行查看详情与处置过程</div>'
        )
    row = widgets.table(
        _table_view(df),
        name="reports-latest",
        file_name="最新上报",
        style=lambda v: v.style.apply(_row_style, axis=1),
        sort_keys={"时间": pd.to_datetime(df["reported_at"])},
        search=True,
        select_key=selection_key("reports-table"),
        height=462,
        width="stretch",
        column_config={
            "时间": st.column_config.TextColumn("时间", width=100),
            "紧急程度": st.column_config.TextColumn("紧急程度", width=82),
            "类别": st.column_config.TextColumn("类别", width=82),
            "社区": st.column_config.TextColumn("社区", width=86),
            "网格": st.column_config.TextColumn("网格", width=78),
            "地点": st.column_config.TextColumn("地点", width=130),
            "内容": st.column_config.TextColumn("内容", width="large"),
            "上报人": st.column_config.TextColumn("上报人", width=112),
            "派单状态": st.column_config.TextColumn("派单状态", width=76),
        },
    )
    if row is not None:
        keep = {name: ",".join(ss[key]) for key, name in URL_OF.items() if ss.get(key)}
        drill(None, params={**keep, "report": str(int(df.iloc[row]["id"]))})


# --- the page ------------------------------------------------------------------------------------

seed_from_url({K_CATS: report_categories(), K_URG: report_urgencies()})
with widgets.section():
    widgets.kpi_row(cached(ctx, reports.kpis, f, ctx.now))
report_id = id_param("report", "上报")
if report_id is not None:
    with widgets.section():
        show_detail(report_id)
left, right = st.columns([1, 2.6], gap="medium")
with left, widgets.section():
    widgets.panel_title(f"分类统计 · {PERIOD}")
    total = cached(ctx, reports.count, f.places_only(), w)
    by = cached(ctx, reports.by_category, f.places_only(), w)
    if total == 0 or by.empty:
        widgets.empty_state(f"“{ctx.scope_label()}” 在 {PERIOD} 内无网格上报")
    else:
        category_chart(by, list(ss.get(K_CATS) or []))
    widgets.outside_caption(cached(ctx, imports.outside_rows, f.places_only(), "reports", w, live=False), "件网格上报")
with right, widgets.section():
    latest_table()
write_to_url()

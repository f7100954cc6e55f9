"""派单队列 dispatch queue: the tasks 未办结 (overdue first, in red), the loop's
KPI tiles, the period's tasks by state, on-time feedback / closure / time to
close by department and by community, and one task's full event history.

未办结 means created and not yet closed (办结) at this moment: states
待研判, 已派发, 处置中 and 已反馈 (``queries.measures.loop.unclosed_condition``).

Drill-down: a click on a queue row opens that task (``?task=<id>``, its event
log as a timeline and its report, names and text masked; 返回派单队列 drops the
parameter); a click on a community's bar narrows the page to that community.
本周超期: the overdue tasks by grid, community or responsible unit; a row
narrows the page to that grid or community, or opens that unit's overdue list
(``?held_by=<department id>|officers|unassigned``).
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import timeutil
from dashboard.db.schema import TASK_STATES
from dashboard.ui import fmt, plots, widgets
from dashboard.ui.frame import MASKED, Personal, cached, context, drill, id_param, personal, selection_key
from dashboard.ui.palette import ACCENT, AMBER, GREEN, MUTED, RED, VIOLET
from queries import dispatch, imports
from queries.measures import loop, windows

QUEUE_LIMIT = 500
MAX_COMMUNITIES = 15
STATE_COLORS = {"待研判": AMBER, "已派发": ACCENT, "处置中": ACCENT, "已反馈": VIOLET, "已办结": GREEN, "已回访": GREEN}

ctx = context()
f = ctx.filters
places = f.places_only()
w = f.window(ctx.now)
e = html.escape


# --- small formatting helpers (page-local) ---------------------------------------------------


def _span(minutes: float) -> str:
    """A duration for the queue: "2天4小时", "3小时20分", "45分"."""
    m = int(round(abs(minutes)))
    d, rest = divmod(m, 1440)
    h, mm = divmod(rest, 60)
    if d:
        return f"{d}天{h}小时"
    if h:
        return f"{h}小时{mm}分"
    return f"{mm}分"


def _assignee(officer, department, pm: Personal = MASKED) -> str:
    """Who holds the task: the community officer (name masked) or the department."""
    if isinstance(department, str) and department:
        return department
    if isinstance(officer, str) and officer:
        return f"社区民警 {pm.name(officer)}"
    return "未派发"


def _time_left(phase: int, minutes_left: float, created_at, now) -> str:
    if phase == dispatch.PHASE_OVERDUE:
        return f"超期 {_span(minutes_left)}"
    if phase == dispatch.PHASE_PENDING:
        waited = (pd.Timestamp(now) - pd.Timestamp(created_at)).total_seconds() / 60.0
        return f"待派单 已等{_span(waited)}"
    if phase == dispatch.PHASE_FEEDBACK:
        return "已反馈 待办结"
    if minutes_left is None or (isinstance(minutes_left, float) and math.isnan(minutes_left)):
        return "无时限"
    return f"剩 {_span(minutes_left)}"


def _transfers(n: int) -> str:
    if n >= 2:
        return f"转派×{n}"
    return "1次" if n == 1 else ""


# --- the queue -----------------------------------------------------------------------------


def queue_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The open tasks as the screen shows them (Chinese headers, masked names)."""
    now = ctx.now
    return pd.DataFrame(
        {
            "编号": df["id"].astype(int),
            "状态": df["state"],
            "时限": [_time_left(p, m, c, now) for p, m, c in zip(df["phase"], df["minutes_left"], df["created_at"])],
            "反馈期限": [timeutil.fmt_local(t) for t in df["deadline_at"]],
            "承办": [_assignee(o, d) for o, d in zip(df["officer"], df["department"])],
            "类别": df["category"],
            "紧急": df["urgency"],
            "社区": df["community"],
            "网格": df["grid"].str.replace(r"^.*社区", "", regex=True),
            "转派": [_transfers(int(n)) for n in df["transfer_count"]],
        }
    )


def queue_table(df: pd.DataFrame, total: int, overdue_n: int) -> None:
    shown = queue_frame(df)
    overdue = df["overdue"].to_numpy()
    multi = (df["transfer_count"] >= 2).to_numpy()

    def row_style(row: pd.Series) -> list[str]:
        if overdue[row.name]:
            return [f"color: {RED}; background-color: rgba(255, 90, 95, 0.16)"] * len(row)
        return [""] * len(row)

    def transfer_style(col: pd.Series) -> list[str]:
        return [f"color: {AMBER}; background-color: rgba(255, 176, 32, 0.14)" if multi[i] else "" for i in col.index]

    def urgency_style(col: pd.Series) -> list[str]:
        return [f"color: {RED}" if v == "特急" else (f"color: {AMBER}" if v == "紧急" else "") for v in col]

    def styler(v: pd.DataFrame):
        return v.style.apply(row_style, axis=1).apply(transfer_style, subset=["转派"]).apply(urgency_style, subset=["紧急"])

    cfg = {
        "编号": st.column_config.NumberColumn("编号", format="%d", width="small"),
        "状态": st.column_config.TextColumn("状态", width="small"),
        "时限": st.column_config.TextColumn("时限", help="超期：已过反馈期限仍未反馈（红色）；剩：距反馈期限", width="medium"),
        "反馈期限": st.column_config.TextColumn("反馈期限", width="small"),
        "承办": st.column_config.TextColumn("承办", width="medium"),
        "类别": st.column_config.TextColumn("类别", width="small"),
        "紧急": st.column_config.TextColumn("紧急", width="small"),
        "社区": st.column_config.TextColumn("社区", width=95),
        "网格": st.column_config.TextColumn("网格", width="small"),
        "转派": st.column_config.TextColumn("转派", help="转派次数；两次及以上标黄", width="small"),
    }
    row = widgets.table(
        shown,
        name="dp-queue",
        file_name="未办结任务",
        column_config=cfg,
        style=styler,
        sort_keys={"时限": df["minutes_left"], "反馈期限": df["deadline_at"], "转派": df["transfer_count"]},
        search=True,
        select_key=selection_key("dp-queue"),
        height=600,
        row_height=40,
    )
    if row is not None:
        drill(None, params={"task": str(int(df.iloc[row]["id"]))})
    more = f"，显示前 {fmt.count(len(df))} 件" if total > len(df) else ""
    st.html(
        f'<div class="jw-legend"><span class="jw-dp-tag jw-dp-red">超期 {fmt.count(overdue_n)} 件</span>排在最前（红色）'
        f'<span class="jw-dp-tag jw-dp-amber">转派×2</span>多次转派'
        f"<span>· 共 {fmt.count(total)} 件未办结{more} · 点击一行查看该任务的流转记录</span></div>"
    )


# --- charts and tables of the period ----------------------------------------------------------


def state_chart(states: pd.DataFrame) -> None:
    labels = [f"{fmt.count(n)}（{fmt.pct(share, 0)}）" for n, share in zip(states["n"], states["share"])]
    fig = go.Figure(
        go.Bar(
            x=states["n"],
            y=[plots.esc(s) for s in states["state"]],
            orientation="h",
            marker_color=[STATE_COLORS.get(s, MUTED) for s in states["state"]],
            text=labels,
            textposition="outside",
            textfont=dict(size=17),
            cliponaxis=False,
            hovertemplate="%{y}：%{x} 件<extra></extra>",
        )
    )
    plots.style(fig, height=600, legend=False)
    fig.update_yaxes(categoryorder="array", categoryarray=list(TASK_STATES)[::-1], tickfont=dict(size=18))
    fig.update_xaxes(title="任务（件）", rangemode="tozero", range=[0, max(1, int(states["n"].max())) * 1.35])
    plots.show(fig, key="dp-states")


def _rate_cfg(label: str, help_: str):
    """A rate column: values in percent (0–100), one decimal, with a bar."""
    return st.column_config.ProgressColumn(label, help=help_, format="%.1f%%", min_value=0.0, max_value=100.0, width="small")


def department_table(df: pd.DataFrame) -> None:
    shown = pd.DataFrame(
        {
            "承办单位": df["group"],
            "按时反馈率": df["on_time_rate"] * 100,
            "应反馈": df["due"],
            "办结率": df["closure_rate"] * 100,
            "新建": df["created"],
            "平均处置时长": [_hours(h, "") for h in df["mean_close_hours"]],
            "处置时长中位数": [_hours(h, "") for h in df["median_close_hours"]],
            "时段内办结": df["closed_in_window"],
        }
    )
    widgets.table(
        shown,
        name="dp-departments",
        file_name="按承办单位",
        sort_keys={"平均处置时长": df["mean_close_hours"], "处置时长中位数": df["median_close_hours"]},
        height=min(600, 42 + 40 * len(shown)),
        row_height=40,
        column_config={
            "承办单位": st.column_config.TextColumn("承办单位", width="medium"),
            "按时反馈率": _rate_cfg("按时反馈率", "反馈期限在本时段内的任务中按时反馈的比例（到期未反馈算超时）"),
            "应反馈": st.column_config.NumberColumn("应反馈", format="%d", width="small"),
            "办结率": _rate_cfg("办结率", "本时段新建的任务中，到时段末已办结的比例"),
            "新建": st.column_config.NumberColumn("新建", format="%d", width="small"),
            "平均处置时长": st.column_config.TextColumn("平均处置时长（小时）", help="本时段办结的任务从创建到办结的平均小时数（办结早于创建的异常数据不计）"),
            "处置时长中位数": st.column_config.TextColumn("处置时长中位数（小时）", help="本时段办结的任务从创建到办结的小时数的中位数（办结早于创建的异常数据不计）"),
            "时段内办结": st.column_config.NumberColumn("办结", format="%d", width="small", help="本时段办结、处置时长有效的任务数"),
        },
    )


def community_chart(df: pd.DataFrame) -> None:
    """Both rates per community (bars drawn bottom-up); many communities (a
    district): only the MAX_COMMUNITIES with the lowest on-time feedback rate."""
    if len(df) > MAX_COMMUNITIES:
        d = df.sort_values(["on_time_rate", "created"], ascending=[True, False], na_position="last").head(MAX_COMMUNITIES)
        d = d.iloc[::-1]  # the worst on top
        st.html(f'<div class="jw-note">共 {len(df)} 个社区，显示按时反馈率最低的 {MAX_COMMUNITIES} 个（选择派出所可看全部）</div>')
    else:
        d = df.sort_values("created", ascending=True)
    # community names are drawn escaped (plots.esc); a click maps back through the id in customdata[0]
    times = [_close_text(h, m) for h, m in zip(d["mean_close_hours"], d["median_close_hours"])]
    names = [f"{plots.esc(g)}<br><span style='font-size:14px;color:{MUTED}'>{t}</span>" for g, t in zip(d["group"], times)]
    custom = [[int(k), plots.esc(g), t] for k, g, t in zip(d["key"], d["group"], times)]
    fig = go.Figure()
    # horizontal groups draw the first trace lowest: 办结率 first puts 按时反馈率 on top (legend reversed to match)
    for col, label, color in (("closure_rate", "办结率", GREEN), ("on_time_rate", "按时反馈率", ACCENT)):
        fig.add_trace(
            go.Bar(
                x=d[col],
                y=names,
                orientation="h",
                name=label,
                marker_color=color,
                customdata=custom,
                text=[fmt.pct(v) for v in d[col]],
                textposition="outside",
                textfont=dict(size=15),
                cliponaxis=False,
                hovertemplate="%{customdata[1]} " + label + " %{x:.1%}<br>%{customdata[2]}<extra></extra>",
            )
        )
    plots.style(fig, height=max(260, 80 + 70 * len(d)))
    fig.update_layout(barmode="group", bargap=0.25, legend_traceorder="reversed")
    fig.update_xaxes(tickformat=".0%", range=[0, 1.18], title=None)
    fig.update_yaxes(tickfont=dict(size=17))
    event = plots.show(fig, key=selection_key("dp-communities"), on_select="rerun")
    points = event.selection.points if event is not None and event.selection else []
    if points:
        cd = points[0].get("customdata")
        if cd:
            drill(None, community_id=int(cd[0]))


def _hours(h: float | None, label: str = "平均处置{}小时") -> str:
    """Hours to close, "—" when no task closed."""
    if h is None or (isinstance(h, float) and math.isnan(h)):
        return fmt.DASH
    return label.format(f"{h:.1f}") if label else f"{h:.1f}"


def _close_text(mean: float | None, median: float | None) -> str:
    """"平均处置12.3小时 · 中位8.1小时" (the median beside the mean)."""
    if _hours(mean, "") == fmt.DASH:
        return _hours(mean)
    return f"{_hours(mean)} · 中位{_hours(median, '')}小时"


# --- 本周超期: where the overdue work is and who holds it ------------------------------------

OVERDUE_VIEWS = {"按网格": "grid", "按社区": "community", "按承办单位": "department"}
HELD_BY = {"officers": dispatch.OFFICERS_KEY, "unassigned": dispatch.UNASSIGNED_KEY}


def held_by_param() -> int | None:
    """``?held_by=<department id>|officers|unassigned``: the overdue list of one
    responsible unit; None (with a warning when malformed) otherwise."""
    raw = st.query_params.get("held_by")
    if raw in (None, ""):
        return None
    if raw in HELD_BY:
        return HELD_BY[raw]
    if isinstance(raw, str) and len(raw) <= 9 and raw.isascii() and raw.isdigit() and int(raw) > 0:
        return int(raw)
    st.warning(f"已忽略无效的承办单位 held_by={widgets.md_escape(str(raw)[:32])}", icon="⚠️")
    return None


def _held_param(key: int) -> str:
    return next((k for k, v in HELD_BY.items() if v == key), str(key))


def overdue_panel() -> None:
    """The overdue tasks at this moment by grid, community or responsible unit:
    a click on a row narrows the page to that grid or community (the queue then
    lists its tasks, overdue first) or opens that unit's overdue list."""
    label = st.segmented_control("超期分布", list(OVERDUE_VIEWS), default="按网格", key="dp-overdue-by", label_visibility="collapsed") or "按网格"
    by = OVERDUE_VIEWS[label]
    od = cached(ctx, dispatch.overdue_by, places, ctx.now, by)
    total, week = int(od["overdue"].sum()), int(od["this_week"].sum())
    widgets.panel_title(f"本周超期 · {label} · 此刻超期 {fmt.count(total)} 件，其中本周到期 {fmt.count(week)} 件")
    if od.empty:
        widgets.empty_state(f"“{ctx.scope_label()}” 此刻没有超期任务")
        return
    what = {"grid": "网格", "community": "社区", "department": "承办单位"}[by]
    cols: dict[str, Any] = {}
    if by == "grid":  # grid names repeat across communities (第5网格): say whose
        cat = ctx.catalogue
        cols["社区"] = [getattr(cat.by_id("community", getattr(cat.by_id("grid", int(k)), "parent_id", None)), "name", "") for k in od["key"]]
    shown = pd.DataFrame(
        {
            **cols,
            what: od["group"] if by != "grid" else od["group"].str.replace(r"^.*社区", "", regex=True),
            "超期": od["overdue"],
            "本周到期": od["this_week"],
            "最久超期": [_span(d * 1440) for d in od["max_days"]],
        }
    )
    cfg = {
        "社区": st.column_config.TextColumn("社区", width="medium"),
        what: st.column_config.TextColumn(what, width="medium"),
        "超期": st.column_config.NumberColumn("超期", format="%d 件", help="此刻已过反馈期限、仍未反馈也未办结的任务"),
        "本周到期": st.column_config.NumberColumn("本周到期", format="%d 件", help="其中反馈期限在本周（周一 0 时起）的"),
        "最久超期": st.column_config.TextColumn("最久超期", help="其中最早的反馈期限至今"),
    }
    row = widgets.table(
        shown, name=f"dp-overdue-{by}", file_name=f"超期任务{label}", column_config=cfg,
        sort_keys={"最久超期": od["max_days"]}, search=len(shown) > 15, select_key=selection_key(f"dp-overdue-{by}"),
        height=min(400, 40 + 36 * len(shown)), row_height=36,
    )
    if row is not None:
        key = int(od.iloc[row]["key"])
        if by == "grid":
            drill(None, grid_id=key)
        elif by == "community":
            drill(None, community_id=key)
        else:
            drill(None, params={"held_by": _held_param(key)})
    hint = "点击一行：该网格的派单队列（超期在前）" if by == "grid" else ("点击一行：该社区的派单队列（超期在前）" if by == "community" else "点击一行：该单位的超期任务")
    st.html(f'<div class="jw-legend">{hint}</div>')


def held_by_view(key: int) -> None:
    """One responsible unit's overdue tasks, most overdue first (a row opens the task)."""
    od = cached(ctx, dispatch.overdue_by, places, ctx.now, "department")
    row = od[od["key"] == key]
    name = str(row["group"].iloc[0]) if len(row) else None
    if st.button("← 返回派单队列", key="dp-held-back"):
        drill(None, params={})
    if name is None:
        st.html(f'<div class="jw-note">“{e(ctx.scope_label())}”此刻没有该承办单位的超期任务</div>')
        return
    tasks = cached(ctx, dispatch.unclosed_tasks, places, ctx.now, QUEUE_LIMIT, None, key)
    n = int(row["overdue"].iloc[0])
    widgets.panel_title(f"{name} · 此刻超期 {fmt.count(n)} 件 · {ctx.scope_label()}")
    queue_table(tasks, n, n)


# --- one task --------------------------------------------------------------------------------


def back_button(key: str) -> None:
    if st.button("← 返回派单队列", key=key):
        drill(None)


def task_view(task_id: int) -> None:
    detail = cached(ctx, dispatch.task_detail, task_id, ctx.now)
    back_button("dp-back-top")
    if detail is None or not ctx.can_see_grid(detail.grid_id):
        st.warning(f"没有编号为 {task_id} 的派单任务，或该任务不在您的辖区内（链接中的 task={task_id} 有误，或该任务已不存在）", icon="⚠️")
        return
    hist = cached(ctx, dispatch.task_history, task_id)
    d = detail
    flag = f'<span class="jw-dp-tag jw-dp-red">超期 {_span((ctx.now - d.deadline_at).total_seconds() / 60)}</span>' if d.overdue else ""
    moved = f'<span class="jw-dp-tag jw-dp-amber">转派×{d.transfer_count}</span>' if d.transfer_count >= 2 else ""
    st.html(
        f'<div class="jw-dp-title">任务 #{d.id} · {e(d.category)} · {e(d.urgency)} · {e(d.state)}{flag}{moved}</div>'
    )
    pm = personal("task", d.id, "上报内容、地点、承办民警和流转记录中的姓名")
    left, right = st.columns([1, 1.35], gap="large")
    with left:
        widgets.panel_title("任务信息")
        satisfied = "—" if d.satisfied is None else ("满意" if d.satisfied else "不满意")
        fields = [
            ("社区 / 网格", f"{d.community} / {d.grid}"),
            ("当前承办", _assignee(d.officer, d.department, pm)),
            ("转派次数", str(d.transfer_count)),
            ("创建", timeutil.fmt_local(d.created_at, timeutil.MINUTE)),
            ("派发", timeutil.fmt_local(d.dispatched_at, timeutil.MINUTE)),
            ("反馈期限", timeutil.fmt_local(d.deadline_at, timeutil.MINUTE)),
            ("反馈", timeutil.fmt_local(d.feedback_at, timeutil.MINUTE)),
            ("办结", timeutil.fmt_local(d.closed_at, timeutil.MINUTE)),
            ("回访", f"{timeutil.fmt_local(d.visited_at, timeutil.MINUTE)}（{satisfied}）" if d.visited_at else "—"),
        ]
        st.html('<dl class="jw-dp-fields">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in fields) + "</dl>")
        widgets.panel_title("上报内容")
        if d.report_text:
            st.html(
                f'<div class="jw-dp-report"><div class="jw-dp-meta">{e(timeutil.fmt_local(d.reported_at, timeutil.MINUTE))} · {e(pm.text(d.place))}</div>'
                f"{e(pm.text(d.report_text))}</div>"
            )
        else:
            st.html('<div class="jw-note">该任务没有关联的网格上报</div>')
    with right:
        widgets.panel_title(f"流转记录（{len(hist)} 条）")
        if hist.empty:
            widgets.empty_state("该任务没有流转记录")
        else:
            st.html(timeline_html(hist, pm))


def timeline_html(hist: pd.DataFrame, pm: Personal = MASKED) -> str:
    items = []
    for r in hist.itertuples():
        bits = [f'<span class="jw-dp-ev">{e(r.event)}</span>', f'<span class="jw-dp-state">→ {e(r.to_state)}</span>']
        bits.append(f'<span class="jw-dp-actor">{e(pm.name(r.actor))}</span>')
        holder = r.department if isinstance(r.department, str) and r.department else (f"社区民警 {pm.name(r.officer)}" if isinstance(r.officer, str) and r.officer else "")
        if holder:
            bits.append(f'<span class="jw-dp-holder">承办：{e(holder)}</span>')
        if r.deadline_at is not None and not pd.isna(r.deadline_at):
            bits.append(f'<span class="jw-dp-deadline">限时反馈 {e(timeutil.fmt_local(r.deadline_at, timeutil.MINUTE))}</span>')
        note = f'<div class="jw-dp-note">{e(pm.text(r.note))}</div>' if isinstance(r.note, str) and r.note else ""
        cls = ' class="jw-dp-transfer"' if r.event == "转派" else ""
        items.append(f'<li{cls}><span class="jw-dp-time">{e(timeutil.fmt_local(r.at, timeutil.MINUTE))}</span>{"".join(bits)}{note}</li>')
    return f'<ol class="jw-dp-timeline">{"".join(items)}</ol>'


# --- the page --------------------------------------------------------------------------------

task_id = id_param("task", "派单")
if task_id is not None:
    with widgets.section():
        task_view(task_id)
    st.stop()

held_by = held_by_param()
if held_by is not None:
    with widgets.section():
        held_by_view(held_by)
    st.stop()

kpis = None
with widgets.section():
    kpis = cached(ctx, dispatch.loop_kpis, f, ctx.now)
    widgets.kpi_row(kpis)
    st.html(
        f'<div class="jw-note">待派单、处置中、超期为此刻数；按时反馈率、办结率、平均处置时长为 {e(ctx.period_label())}。'
        "同比/环比：比率按百分点；时刻数与去年同一时刻、上一周期的同一时刻（今日为昨日此刻）相比；"
        "比较期早于数据起始时显示“—”。</div>"
    )
with widgets.section():
    times = cached(ctx, loop.time_to_close, places, w)
    if times.excluded:
        st.html(f'<div class="jw-note jw-dp-quality">数据异常：{fmt.count(times.excluded)} 件办结早于创建，已排除（不计入处置时长）</div>')

with widgets.section():
    overdue_panel()

left, right = st.columns([1.9, 1], gap="medium")
with left, widgets.section():
    total = cached(ctx, dispatch.unclosed_count, places, ctx.now)
    queue = cached(ctx, dispatch.unclosed_tasks, places, ctx.now, QUEUE_LIMIT)
    if kpis is not None:
        overdue_n = int(next(k for k in kpis if k.key == "overdue").compared.value)
    else:
        overdue_n = int(cached(ctx, loop.overdue_count, places, ctx.now))
    widgets.panel_title(f"未办结任务 · 共 {fmt.count(total)} 件 · 超期 {fmt.count(overdue_n)} 件")
    if queue.empty:
        widgets.empty_state(f"“{ctx.scope_label()}” 当前没有未办结的任务")
    else:
        queue_table(queue, total, overdue_n)
with right, widgets.section():
    widgets.panel_title(f"本时段新建任务的当前状态 · {ctx.period_label()}")
    states = cached(ctx, dispatch.state_counts, places, w, live=False)
    if int(states["n"].sum()) == 0:
        widgets.empty_state(f"“{ctx.scope_label()}” 在 {ctx.period_label()} 内没有新建任务")
    else:
        state_chart(states)

left, right = st.columns([1.25, 1], gap="medium")
with left, widgets.section():
    widgets.panel_title(f"按承办单位 · {ctx.period_label()}")
    by_dept = cached(ctx, dispatch.loop_by, places, w, "department", live=False)
    if by_dept.empty:
        widgets.empty_state(f"“{ctx.scope_label()}” 在 {ctx.period_label()} 内没有到期、新建或办结的任务")
    else:
        department_table(by_dept)
with right, widgets.section():
    by_comm = cached(ctx, dispatch.loop_by, places, w, "community", live=False)
    hint = " · 点击社区查看该社区" if len(by_comm) > 1 else ""
    widgets.panel_title(f"按社区 · {windows.period_name(f)}按时反馈率与办结率{hint}")
    if by_comm.empty:
        widgets.empty_state(f"“{ctx.scope_label()}” 在 {ctx.period_label()} 内没有到期、新建或办结的任务")
    else:
        community_chart(by_comm)
    widgets.outside_caption(cached(ctx, imports.outside_rows, places, "reports", w, live=False), "件网格上报", "未建派单，未计入网格统计")

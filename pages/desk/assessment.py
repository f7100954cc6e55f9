"""量化考核: the monthly assessment of grid workers, by community, with the month's ranks.

A month picker (kept in the URL as ``?month=YYYY-MM``; default 上月, the last whole
month), the summary line, the table by community (rank by score within the community;
names masked unless a role that may see them opens this sheet, audited), the funnel
plot of 按时反馈率 or the disputes' 化解占比 against volume with its control limits, and
the monthly assessment sheet as an Excel workbook (one sheet per community).

Every figure and the score are defined in ``queries.measures.assessment``; the filter
bar's places choose the workers (by their own grid), its period and categories do not apply.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import timeutil
from dashboard.ui import fmt, plots, widgets, xlsx
from dashboard.ui.frame import cached, context, personal
from dashboard.ui.palette import ACCENT, AMBER, GREEN, GUIDE, MUTED, RED
from queries import assessment as aq
from queries.measures import assessment as am

ctx = context()
f = ctx.filters
SCOPE = ctx.scope_label()
E = html.escape
TODAY = timeutil.local_today(ctx.now)
MONTHS = aq.recent_months(TODAY)
MONTH_KEY = "jw_assess_month"
MONTH_URL = "_jw_assess_month_url"

RATES = {
    "on_time": ("按时反馈率", "on_time", "feedback_due", "应反馈任务数", "件"),
    "resolved": ("纠纷化解占比", "disputes_resolved", "disputes_found", "发现纠纷数", "起"),
}
BAND_COLORS = {am.BANDS[0]: GREEN, am.BANDS[1]: GREEN, am.BANDS[2]: ACCENT, am.BANDS[3]: AMBER, am.BANDS[4]: RED}


def month_label(m) -> str:
    return f"{m.year}年{m.month:02d}月"


def month_picker():
    """The month, from ``?month=YYYY-MM`` (seeds the picker when the URL changes); a bad
    value gives a warning and 上月. The picker writes its choice back (上月: no parameter)."""
    codes = {f"{m:%Y-%m}": m for m in MONTHS}
    ss = st.session_state
    raw = st.query_params.get("month")
    if raw not in (None, "", *codes):
        st.warning(f"已忽略无效的月份 month={widgets.md_escape(str(raw)[:32])}（可选近 {len(MONTHS)} 个整月），显示上月", icon="⚠️")
        raw = None
    from_url = raw or next(iter(codes))
    if ss.get(MONTH_URL) != from_url or ss.get(MONTH_KEY) not in codes:
        ss[MONTH_KEY] = from_url
    left, _ = st.columns([1, 3])
    picked = left.selectbox("考核月份", list(codes), format_func=lambda c: month_label(codes[c]), key=MONTH_KEY, filter_mode=None)
    picked = picked if picked in codes else next(iter(codes))
    if picked == next(iter(codes)):
        if "month" in st.query_params:
            del st.query_params["month"]
    elif st.query_params.get("month") != picked:
        st.query_params["month"] = picked
    ss[MONTH_URL] = picked
    return codes[picked]


def station_name() -> str:
    cat = ctx.catalogue
    if f.station_id is not None and (s := cat.by_id("station", f.station_id)):
        return s.name
    return cat.stations[0].name if len(cat.stations) == 1 else "全辖区"


def summary(df: pd.DataFrame, month) -> None:
    due, ok = int(df["feedback_due"].sum()), int(df["on_time"].sum())
    st.html(
        f'<div class="jw-gp-summary" data-headline="assessment">“{E(SCOPE)}” · {month_label(month)}：网格力量 <b data-kpi="人数">{len(df)}</b> 人，'
        f'采集基础信息 <b>{df["base_records"].sum():,}</b> 条，上报隐患 <b>{df["hazards"].sum():,}</b> 件，'
        f'发现纠纷 <b>{df["disputes_found"].sum():,}</b> 起（已化解 {df["disputes_resolved"].sum():,} 起），'
        f'重复上报 <b>{df["duplicates"].sum():,}</b> 件，不予受理 <b>{df["rejected"].sum():,}</b> 件，'
        f"按时反馈率 <b>{fmt.pct(ok / due if due else None)}</b>（{ok:,}/{due:,}）。考核只看所选月份，不随“时段”筛选变化</div>"
    )


def legend(df: pd.DataFrame) -> None:
    rules = [
        am.SCORE_WORDS + "；社区内按得分排名，同分同名次",
        f"上报隐患：类别以“{am.HAZARD_SUFFIX}”结尾的上报（{'、'.join(am.HAZARD_CATEGORIES)}）",
        f"重复上报：同一 H3 单元、同一类别在此前 {am.DUPLICATE_HOURS} 小时内已有上报（不论谁报）",
        "不予受理：上报生成的任务未经派发或转派即办结；未生成任务的上报不计（数据无法区分不予受理与仅作登记）"
        + ("；所选月份无此类记录" if df.empty or df["rejected"].sum() == 0 else ""),
        "按时反馈：其上报所生成任务中，反馈期限在当月的任务按期限反馈的件数（与派单队列的按时反馈率同一口径）",
        "发现纠纷：当月发现、由其上报引出的纠纷；已化解：其中月底前化解的",
    ]
    st.html('<div class="jw-legend" style="flex-direction: column; align-items: flex-start">' + "".join(f"<span>{E(r)}</span>" for r in rules) + "</div>")


def view_of(df: pd.DataFrame, names) -> pd.DataFrame:
    """The table as the screen (and the Excel sheet) shows it, Chinese headers."""
    kinds = aq.kind_names()
    p_bar = am.pooled_rate(df["on_time"], df["feedback_due"])
    view = pd.DataFrame(
        {
            "社区": df["community"],
            "排名": [f"{int(r)}/{int(n)}" for r, n in zip(df["rank"], df["peers"])],
            "姓名": [names(n) for n in df["name"]],
            "类别": df["kind"],
            "网格": df["grid"],
            "得分": df["score"].round(1),
            "采集基础信息": df["base_records"],
            **{kinds[c]: df[c] for c in am.KIND_COLUMNS.values()},
            "上报隐患": df["hazards"],
            "上报总数": df["reports"],
            "发现纠纷": df["disputes_found"],
            "已化解": df["disputes_resolved"],
            "重复上报": df["duplicates"],
            "不予受理": df["rejected"],
            "应反馈": df["feedback_due"],
            "按时反馈": df["on_time"],
            "按时反馈率": [fmt.pct(x) for x in df["on_time_rate"]],
            "漏斗位置": [am.funnel_band(k, n, p_bar) or fmt.DASH for k, n in zip(df["on_time"], df["feedback_due"])],
        }
    )
    return view


def table(df: pd.DataFrame, view: pd.DataFrame) -> None:
    widgets.table(
        view,
        name="assessment",
        file_name="量化考核",
        search=len(view) > 10,
        sort_keys={"排名": list(zip(df["community_id"], df["rank"])), "按时反馈率": list(df["on_time_rate"])},
        height=min(40 + 36 * len(view), 560),
        column_config={
            "得分": st.column_config.NumberColumn("得分", format="%.1f", help=am.SCORE_WORDS),
            "排名": st.column_config.TextColumn("排名", help="社区内按得分的名次 / 社区参评人数"),
            "漏斗位置": st.column_config.TextColumn("漏斗位置", help="按时反馈率相对全体平均水平的控制限（见漏斗图）"),
        },
    )


def funnel(df: pd.DataFrame, names) -> None:
    key = st.radio("漏斗图指标", list(RATES), format_func=lambda k: RATES[k][0], horizontal=True, key="jw_assess_rate", label_visibility="collapsed")
    label, num, den, x_title, noun = RATES.get(key, RATES["on_time"])
    d = df[df[den] > 0]
    p_bar = am.pooled_rate(d[num], d[den])
    if d.empty or p_bar is None:
        widgets.empty_state(f"“{SCOPE}”所选月份没有可计算{label}的网格力量")
        return
    curve = am.funnel_curve(p_bar, float(d[den].max()))
    fig = go.Figure()
    for lo, hi, z, dash in (("lo998", "hi998", "99.8%", "dot"), ("lo95", "hi95", "95%", "dash")):
        for col, show in ((hi, True), (lo, False)):
            fig.add_trace(
                go.Scatter(
                    x=curve["n"], y=curve[col], mode="lines", line=dict(color=MUTED if z == "99.8%" else GUIDE, dash=dash, width=1.5),
                    name=f"{z}控制限", legendgroup=z, showlegend=show, hoverinfo="skip",
                )
            )
    fig.add_hline(y=p_bar, line=dict(color=GUIDE, width=1), annotation_text=f"平均 {fmt.pct(p_bar)}", annotation_position="bottom right")
    bands = [am.funnel_band(k, n, p_bar) for k, n in zip(d[num], d[den])]
    custom = [[plots.esc(names(n)), plots.esc(c), int(k), int(m), b] for n, c, k, m, b in zip(d["name"], d["community"], d[num], d[den], bands)]
    fig.add_trace(
        go.Scatter(
            x=d[den], y=d[num] / d[den], mode="markers", name="网格力量",
            marker=dict(size=10, color=[BAND_COLORS[b] for b in bands], line=dict(width=1, color="#0b1220")),
            customdata=custom,
            hovertemplate="%{customdata[0]}（%{customdata[1]}）<br>" + label + " %{y:.1%}（%{customdata[2]}/%{customdata[3]}）<br>%{customdata[4]}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=f"{x_title}（{noun}）", rangemode="tozero")
    fig.update_yaxes(title_text=label, tickformat=".0%", range=[-0.03, 1.05])
    plots.show(plots.style(fig, height=440), key="assess-funnel")
    st.html(
        f'<div class="jw-legend">每个点是一名网格力量；平均水平 = 全体合计（{fmt.pct(p_bar)}），控制限 = 平均水平 ± 系数 × 标准误'
        "（95%：1.96，99.8%：3.09）。件数少的人控制限宽，落在限内即与平均水平无显著差别，不因偶然排在首末</div>"
    )


def download(df: pd.DataFrame, view: pd.DataFrame, month) -> None:
    sheets = [(str(c), view[view["社区"] == c].drop(columns=["社区"])) for c in dict.fromkeys(view["社区"])]
    title = f"{station_name()} 网格力量量化考核表（{month_label(month)}）"
    notes = [am.SCORE_WORDS + "；排名为社区内名次 / 参评人数", f"范围：{SCOPE}；姓名按屏幕显示（遮挡）"]
    data = xlsx.assessment_workbook(title, sheets, notes=notes, made_at=timeutil.to_local(ctx.now))
    st.download_button(
        "下载月度考核表", data, file_name=f"量化考核_{month:%Y-%m}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="assess-xlsx", on_click="ignore",
        icon=":material/download:", help="每个社区一张工作表：标题、口径说明、表头与屏幕一致，姓名保持屏幕上的遮挡状态",
    )


month = month_picker()
with widgets.section():
    df = cached(ctx, aq.monthly, f.places_only(), month, live=False)
    summary(df, month)
    legend(df)
    if df.empty:
        widgets.empty_state(f"“{SCOPE}”没有网格力量，或所选月份 {month_label(month)} 没有任何考核记录")
    else:
        pm = personal("assessment", f"{month:%Y-%m}", f"量化考核表（{month_label(month)}，{SCOPE}）中网格力量的姓名")
        view = view_of(df, pm.name)
        left, right = st.columns([1.5, 1], gap="medium")
        with left, widgets.section():
            widgets.panel_title("考核表 · 社区内按得分排名", title=am.SCORE_WORDS)
            table(df, view)
            download(df, view, month)
        with right, widgets.section():
            widgets.panel_title("漏斗图 · 比率与件数", title="比率对件数作图，附 95% 与 99.8% 控制限")
            funnel(df, pm.name)

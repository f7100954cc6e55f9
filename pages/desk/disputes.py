"""矛盾纠纷 disputes: three-level joint mediation (三级联调) for the period.

KPI tiles (新发现纠纷, 调处中, 化解率, 满意率, 升级至三级, 回访待办) with 同比/环比 and
the station's targets (95% unless its station file says otherwise); disputes by kind and level; the level funnel ("矛盾不上交");
化解率/满意率 by community or grid (click to drill down); the disputes that
went to level 3 and the follow-up visits due (click a row for the dispute).
``?dispute=<id>`` shows one dispute with its mediation steps.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import mask, station, timeutil
from dashboard.db.schema import MEDIATION_LEVELS
from dashboard.ui import fmt, plots, widgets
from dashboard.ui.frame import cached, context, drill, id_param, personal, selection_key
from dashboard.ui.palette import ACCENT, AMBER, GREEN, MUTED, RED, TEXT
from queries import disputes, imports
from queries.measures import mediation, windows

ctx = context()
f = ctx.filters
w = f.window(ctx.now)
here = f.places_only()

LEVEL_COLORS = {1: GREEN, 2: ACCENT, 3: AMBER}
STATUS_COLORS = {"化解": GREEN, "调处中": ACCENT, "未化解": RED}
LEVEL_LABEL = {lv: f"{disputes.LEVEL_SHORT[lv]} {name}" for lv, name in MEDIATION_LEVELS.items()}
LEGEND = {1: "一级 网格员", 2: "二级 社区民警", 3: "三级 司法所/律师/调解员"}


def _place(community: str, grid: str) -> str:
    """"五里亭社区第3网格" already names its community; other names get both."""
    return grid if str(grid).startswith(str(community)) else f"{community} · {grid}"


def _empty_reason(what: str) -> str:
    return f"“{ctx.scope_label()}” 在 {ctx.period_label()} 内{what}"


# --- one dispute --------------------------------------------------------------------------


def _back_button(key: str) -> None:
    if st.button("← 返回纠纷总览", key=key):
        drill(None)


def dispute_detail(d: disputes.DisputeDetail) -> None:
    r = d.dispute
    status = r["status"]
    color = STATUS_COLORS.get(status, MUTED)
    sat = {True: "满意", False: "不满意"}.get(r["satisfied"], fmt.DASH)
    if r["visited_at"] is not None:
        visit = f"{timeutil.fmt_local(r['visited_at'], timeutil.MINUTE)} 已回访（{sat}）"
    elif r["visit_due_at"] is not None:
        late = r["visit_due_at"] < ctx.now
        visit = f"未回访，期限 {timeutil.fmt_local(r['visit_due_at'], timeutil.MINUTE)}" + ("（已超期）" if late else "")
    else:
        visit = "办结后安排回访" if status == "调处中" else fmt.DASH
    source = f"网格上报 #{int(r['report_id'])}" if r["report_id"] is not None else "走访排查等其他途径"
    e = html.escape
    pm = personal("dispute", int(r["id"]), "纠纷概要和调处人姓名")
    facts = [
        ("发现时间", timeutil.fmt_local(r["found_at"], timeutil.MINUTE)),
        ("地点", _place(r["community"], r["grid"])),
        ("类型", r["kind"]),
        ("当事人", f"{int(r['parties'])} 方"),
        ("当前级别", LEVEL_LABEL.get(int(r["level"]), str(r["level"]))),
        ("办结时间", timeutil.fmt_local(r["closed_at"], timeutil.MINUTE)),
        ("回访", visit),
        ("来源", source),
    ]
    cells = "".join(f'<div class="jw-dd-item"><span>{e(k)}</span><b>{e(str(v))}</b></div>' for k, v in facts)
    st.html(
        f'<div class="jw-dd"><div class="jw-dd-head">纠纷 #{int(r["id"])} · {e(r["kind"])}'
        f'<span class="jw-dd-status" style="color:{color};border-color:{color}">{e(status)}</span></div>'
        f'<div class="jw-dd-summary">{e(pm.text(r["summary"]))}</div>'
        f'<div class="jw-dd-grid">{cells}</div></div>'
    )
    widgets.panel_title("调处经过（三级联调）")
    steps = d.steps
    if steps.empty:
        widgets.empty_state("尚未开始调处（等待网格员首次介入）")
    else:
        rows = []
        for s in steps.itertuples():
            ended = s.ended_at if not pd.isna(s.ended_at) else None
            took = fmt.minutes((pd.Timestamp(ended) - pd.Timestamp(s.started_at)).total_seconds() / 60) if ended is not None else "进行中"
            outcome = s.outcome if isinstance(s.outcome, str) else "进行中"
            rows.append(
                {
                    "level": LEVEL_LABEL.get(int(s.level), str(s.level)),
                    "mediator": pm.name(s.mediator),
                    "started": timeutil.fmt_local(s.started_at, timeutil.MINUTE),
                    "ended": timeutil.fmt_local(ended, timeutil.MINUTE),
                    "took": took,
                    "outcome": outcome,
                }
            )
        table = pd.DataFrame(rows)
        colors = {"化解": GREEN, "未化解": RED, "升级": AMBER, "进行中": ACCENT}
        widgets.table(
            table,
            name="disputes-sessions",
            file_name="调解经过",
            style=lambda v: v.style.map(lambda x: f"color: {colors.get(x, '')}; font-weight: 600" if x in colors else "", subset=["outcome"]),
            width="stretch",
            column_config={
                "level": st.column_config.TextColumn("级别"),
                "mediator": st.column_config.TextColumn("调解人"),
                "started": st.column_config.TextColumn("开始"),
                "ended": st.column_config.TextColumn("结束"),
                "took": st.column_config.TextColumn("用时"),
                "outcome": st.column_config.TextColumn("结果"),
            },
        )
    left, right, _ = st.columns([1, 1, 4])
    with left:
        _back_button("disputes-back")
    with right:
        if st.button("查看所在网格画像", key="disputes-grid"):
            drill("grid", grid_id=int(r["grid_id"]))


# --- the page --------------------------------------------------------------------------------


def target_strip(kpis: list) -> None:
    """化解率/满意率 against the 95% targets, stated plainly: 达标 green, 未达标 red."""
    parts = []
    targets = station.current().targets
    for k, target in (("resolution", targets.resolution), ("satisfaction", targets.satisfaction)):
        kpi = next(x for x in kpis if x.key == k)
        v = kpi.compared.value
        if v is None:
            parts.append(f'<span class="jw-flat">{kpi.label} {fmt.DASH}（本期无{"办结" if k == "resolution" else "回访"}纠纷，目标 ≥{fmt.target(target)}）</span>')
        elif v >= target:
            parts.append(f'<span class="jw-target-ok">{kpi.label} {fmt.pct(v)} ≥ 目标{fmt.target(target)} · 达标</span>')
        else:
            parts.append(f'<span class="jw-target-miss">{kpi.label} {fmt.pct(v)} &lt; 目标{fmt.target(target)} · 未达标</span>')
    st.html(f'<div class="jw-targets">{ctx.period_label()} · {"".join(parts)}</div>')


def kind_level_chart(df: pd.DataFrame) -> None:
    by = st.segmented_control("着色", ["按调处级别", "按当前状态"], default="按调处级别", key="disputes-colour", label_visibility="collapsed")
    fig = go.Figure()
    if by == "按当前状态":
        groups = [(s, s, STATUS_COLORS[s], df[df["status"] == s]) for s in STATUS_COLORS]
    else:
        groups = [(lv, LEGEND[lv], LEVEL_COLORS[lv], df[df["level"] == lv]) for lv in (1, 2, 3)]
    kinds = list(dict.fromkeys(df["kind"]))  # the query's order: the station's vocabulary
    shown = [plots.esc(k) for k in kinds]  # the axis draws escaped names
    for _, name, color, part in groups:
        n = part.groupby("kind")["n"].sum()
        fig.add_trace(
            go.Bar(
                x=shown,
                y=[int(n.get(k, 0)) for k in kinds],
                name=name,
                marker_color=color,
                hovertemplate=f"%{{x}} · {name}：%{{y}} 起<extra></extra>",
            )
        )
    totals = df.groupby("kind")["n"].sum()
    fig.add_trace(
        go.Scatter(
            x=shown, y=[int(totals.get(k, 0)) for k in kinds], mode="text", text=[str(int(totals.get(k, 0))) for k in kinds],
            textposition="top center", textfont=dict(size=16, color=TEXT), showlegend=False, hoverinfo="skip",
        )
    )
    plots.style(fig, height=400)
    fig.update_layout(
        barmode="stack", legend=dict(traceorder="normal", font=dict(size=14)),
        yaxis=dict(title="纠纷（起）", rangemode="tozero"), xaxis=dict(tickfont=dict(size=15)),
    )
    fig.update_yaxes(range=[0, max(1, int(totals.max())) * 1.15])
    plots.show(fig, key="disputes-kind-level")


def funnel_chart(fun: pd.DataFrame) -> None:
    labels = ["一级<br>网格员", "二级<br>社区民警", "三级<br>司法所/律师/调解员"]
    segments = [("resolved", "化解", GREEN), ("escalated", "升级", AMBER), ("open", "调处中", ACCENT), ("unresolved", "未化解", RED)]
    fig = go.Figure()
    for col, name, color in segments:
        vals = [int(x) for x in fun[col]]
        fig.add_trace(
            go.Bar(
                y=labels, x=vals, name=name, orientation="h", marker_color=color,
                text=[str(v) if v else "" for v in vals], textposition="inside", insidetextanchor="middle",
                textfont=dict(size=16), hovertemplate=f"%{{y}} · {name}：%{{x}} 起<extra></extra>",
            )
        )
    top = max(1, int(fun["reached"].max()))
    for lab, reached in zip(labels, fun["reached"]):
        fig.add_annotation(y=lab, x=int(reached), text=f" 到达 {int(reached)} 起", showarrow=False, xanchor="left", font=dict(size=15, color=TEXT))
    plots.style(fig, height=400)
    fig.update_layout(barmode="stack", legend=dict(traceorder="normal", font=dict(size=14)), xaxis=dict(range=[0, top * 1.35], title="纠纷（起）"), yaxis=dict(autorange="reversed", tickfont=dict(size=15)))
    plots.show(fig, key="disputes-funnel")
    low = disputes.grassroots_resolution(fun)
    st.html(
        f'<div class="jw-legend">本期化解 {low.denominator} 起（即化解率的分子）· 一、二级（网格员、社区民警）化解 {low.numerator} 起，'
        f"占已化解 {fmt.pct(low.value)} · 矛盾不上交</div>"
    )


def _rate_cell(ok: int, n: int, rate: float, target: float) -> tuple[str, str]:
    if not n or pd.isna(rate):
        return fmt.DASH, fmt.DASH
    return f"{fmt.pct(rate)}  {ok}/{n}", "达标" if rate >= target else "未达标"


def rates_table(rates: pd.DataFrame, by: str) -> None:
    rows = []
    for r in rates.itertuples():
        res, res_ok = _rate_cell(r.resolved, r.closed, r.resolution_rate, station.current().targets.resolution)
        sat, sat_ok = _rate_cell(r.satisfied, r.visits, r.satisfaction_rate, station.current().targets.satisfaction)
        rows.append({"name": r.name, "found": int(r.found), "res": res, "res_ok": res_ok, "sat": sat, "sat_ok": sat_ok})
    table = pd.DataFrame(rows, columns=["name", "found", "res", "res_ok", "sat", "sat_ok"])
    paint = {"达标": f"color: {GREEN}; font-weight: 600", "未达标": f"color: {RED}; font-weight: 700"}
    picked = widgets.table(
        table,
        name=f"disputes-rates-{by}",
        file_name="化解率与满意率（按社区）" if by == "community" else "化解率与满意率（按网格）",
        style=lambda v: v.style.map(lambda x: paint.get(x, ""), subset=["res_ok", "sat_ok"]),
        sort_keys={"res": rates["resolution_rate"], "sat": rates["satisfaction_rate"]},
        search=len(table) > 15,
        select_key=selection_key(f"disputes-rates-{by}"),
        width="stretch",
        height="auto",
        column_config={
            "name": st.column_config.TextColumn("社区" if by == "community" else "网格", width=150 if by == "grid" else 100),
            "found": st.column_config.NumberColumn("新发现", format="%d", width=62),
            "res": st.column_config.TextColumn("化解率", width=118),
            "res_ok": st.column_config.TextColumn("化解", width=62),
            "sat": st.column_config.TextColumn("满意率", width=118),
            "sat_ok": st.column_config.TextColumn("满意", width=62),
        },
    )
    if picked is not None:
        pid = int(rates.iloc[picked]["place_id"])
        if by == "community":
            drill(None, community_id=pid)
        elif f.grid_id is None:
            drill(None, grid_id=pid)
        else:
            drill("grid", grid_id=pid)
    hint = {"community": "点击社区查看其网格", "grid": "点击网格进一步下钻" if f.grid_id is None else "点击查看网格画像"}[by]
    st.html(f'<div class="jw-legend">目标：化解率、满意率 ≥95% · 化解率按本期办结、满意率按本期回访计 · {hint}</div>')


def _open_dispute(picked: int | None, df: pd.DataFrame) -> None:
    if picked is not None:
        drill(None, params={"dispute": str(int(df.iloc[picked]["id"]))})


def escalated_table(df: pd.DataFrame, total: int) -> None:
    table = pd.DataFrame(
        {
            "found": [timeutil.fmt_local(x) for x in df["found_at"]],
            "kind": df["kind"],
            "place": [_place(c, g) for c, g in zip(df["community"], df["grid"])],
            "summary": [mask.text(s) for s in df["summary"]],
            "status": df["status"],
            "steps": df["steps"],
        }
    )
    picked = widgets.table(
        table,
        name="disputes-escalated",
        file_name="升级纠纷",
        style=lambda v: v.style.map(lambda x: f"color: {STATUS_COLORS[x]}; font-weight: 600" if x in STATUS_COLORS else "", subset=["status"]),
        sort_keys={"found": df["found_at"]},
        search=len(table) > 15,
        select_key=selection_key("disputes-escalated"),
        width="stretch",
        height="auto",
        column_config={
            "found": st.column_config.TextColumn("发现时间", width=105),
            "kind": st.column_config.TextColumn("类型", width=80),
            "place": st.column_config.TextColumn("社区/网格", width=140),
            "summary": st.column_config.TextColumn("概要", width=270),
            "status": st.column_config.TextColumn("状态", width=65),
            "steps": st.column_config.TextColumn("调处经过", width=330),
        },
    )
    more = f"，显示最新 {len(df)} 起" if total > len(df) else ""
    st.html(f'<div class="jw-legend">共 {total} 起{more} · 点击一行查看调处经过</div>')
    _open_dispute(picked, df)


def visits_table(df: pd.DataFrame, backlog: mediation.VisitBacklog) -> None:
    now = ctx.now

    def when(due, late: bool) -> str:
        days = (pd.Timestamp(due).to_pydatetime() - now).total_seconds() / 86400
        if late:
            return f"超期 {max(1, int(-days))} 天" if -days >= 1 else "超期不足1天"
        return "今日到期" if days < 1 else f"{int(days)} 天后到期"

    table = pd.DataFrame(
        {
            "due": [timeutil.fmt_local(x, timeutil.DAY) for x in df["visit_due_at"]],
            "when": [when(d, bool(o)) for d, o in zip(df["visit_due_at"], df["overdue"])],
            "kind": df["kind"],
            "place": [_place(c, g) for c, g in zip(df["community"], df["grid"])],
            "summary": [mask.text(s) for s in df["summary"]],
            "status": df["status"],
        }
    )
    late = df["overdue"].tolist()
    picked = widgets.table(
        table,
        name="disputes-visits",
        file_name="待回访纠纷",
        style=lambda v: v.style.apply(lambda row: [f"color: {RED}" if late[row.name] else "" for _ in row], axis=1),
        sort_keys={"due": df["visit_due_at"], "when": df["visit_due_at"]},
        search=len(table) > 15,
        select_key=selection_key("disputes-visits"),
        width="stretch",
        height="auto",
        column_config={
            "due": st.column_config.TextColumn("回访期限", width=100),
            "when": st.column_config.TextColumn("状态", width=95),
            "kind": st.column_config.TextColumn("类型", width=80),
            "place": st.column_config.TextColumn("社区/网格", width=140),
            "summary": st.column_config.TextColumn("概要", width="large"),
            "status": st.column_config.TextColumn("调处结果", width=75),
        },
    )
    upcoming = backlog.pending - backlog.overdue
    shown = f" · 显示 {len(df)} 起" if len(df) < backlog.pending else ""
    st.html(
        f'<div class="jw-legend"><span class="jw-target-miss">超期 {backlog.overdue} 起</span>'
        f"<span>7天内到期 {upcoming} 起{shown} · 点击一行查看纠纷</span></div>"
    )
    _open_dispute(picked, df)


def overview_page() -> None:
    kpis = None
    with widgets.section():
        kpis = cached(ctx, disputes.kpis, f, w, ctx.now)
        widgets.kpi_row(kpis)
        target_strip(kpis)
    with widgets.section():
        widgets.outside_caption(cached(ctx, imports.outside_rows, here, "disputes", w, live=False), "起矛盾纠纷")

    by = "community" if f.community_id is None and f.grid_id is None else "grid"
    kind_level = None  # the kinds chart starts from it
    with widgets.section():
        kind_level = cached(ctx, disputes.by_kind_level, here, w, live=False)
    c1, c2, c3 = st.columns([1.1, 0.9, 1.25], gap="medium")
    with c1, widgets.section():
        widgets.panel_title("纠纷类型 × 调处级别 · 本期新发现")
        if kind_level is None:
            pass  # the section above says why
        elif kind_level.empty:
            widgets.empty_state(_empty_reason("无新发现纠纷"))
        else:
            kind_level_chart(kind_level)
    with c2, widgets.section():
        widgets.panel_title(
            "三级联调漏斗 · 本期办结及新发现在调处",
            title="本期办结的纠纷（化解、未化解，与化解率同一口径）及本期新发现、期末仍在调处的纠纷，按到达的调处级别",
        )
        fun = cached(ctx, disputes.level_funnel, here, w, live=False)
        if int(fun["reached"].sum()) == 0:
            widgets.empty_state(_empty_reason("无办结或在调处的纠纷"))
        else:
            funnel_chart(fun)
    with c3, widgets.section():
        widgets.panel_title(f"{'各社区' if by == 'community' else '各网格'}{windows.period_name(f)}化解率 · 满意率")
        rates = cached(ctx, disputes.rates_by_place, here, w, by, live=False)
        if rates.empty:
            widgets.empty_state(f"筛选条件“{ctx.scope_label()}”下没有{'社区' if by == 'community' else '网格'}")
        elif int(rates[["found", "closed", "visits"]].to_numpy().sum()) == 0:
            widgets.empty_state(_empty_reason("无新发现、办结或回访的纠纷"))
        else:
            rates_table(rates, by)

    c4, c5 = st.columns([1.2, 1], gap="medium")
    with c4, widgets.section():
        widgets.panel_title("升级至三级的纠纷（司法所/律师/人民调解员）")
        esc = cached(ctx, disputes.escalated, here, w, 200, live=False)
        if esc.empty:
            widgets.empty_state(_empty_reason("无升级至三级的纠纷"))
        else:
            total = next(k for k in kpis if k.key == "escalated").compared.value if kpis is not None else None
            escalated_table(esc, int(total or len(esc)))
    with c5, widgets.section():
        widgets.panel_title("回访待办（已超期及7天内到期）")
        due = cached(ctx, disputes.visits_due, here, ctx.now, 7, 200)
        backlog = cached(ctx, mediation.visit_backlog, here, ctx.now, 7)
        if due.empty:
            widgets.empty_state(f"“{ctx.scope_label()}” 当前无待回访纠纷")
        else:
            visits_table(due, backlog)


dispute_id = id_param("dispute", "纠纷")
shown = False
if dispute_id is not None:
    with widgets.section():
        found = cached(ctx, disputes.detail, dispute_id)
        if found is None or not ctx.can_see_grid(found.dispute["grid_id"]):
            st.warning(f"纠纷 #{dispute_id} 不存在或不在您的辖区内：编号有误或已被删除。下面是纠纷总览。", icon="⚠️")
            _back_button("disputes-back-missing")
        else:
            dispute_detail(found)
            shown = True
if not shown:
    overview_page()

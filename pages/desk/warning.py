"""预警 early warning: the grids whose incidents or reports this week (or today)
run well above their own baseline, with the reason in words, on a map, and
acknowledged with a note (written to the audit trail).

The test, its windows and its false-discovery-rate control are in
``queries.measures.warning``; the filter bar's places and incident categories
narrow the list, its period does not apply (always 本周 and 今日).
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from dashboard import timeutil
from dashboard.ui import maps, widgets
from dashboard.ui.frame import cached, context, drill, selection_key, write_audit
from dashboard.ui.palette import AMBER, RED, rgba
from queries import places
from queries import warning as wq
from queries.measures import warning as wm

ctx = context()
f = ctx.filters
SCOPE = ctx.scope_label()
E = html.escape
TODAY = timeutil.local_today(ctx.now)
WIN = wm.window_days(TODAY)
BASE = wm.baseline_weeks(TODAY)
NOTE_MAX = 300
JUST_ACKED = "_jw_warning_acked"  # this session's acknowledgements, shown before the cache renews
FLASH = "_jw_warning_flash"  # the confirmation, said once after the rerun

TOOLTIP = {"html": "<b>{title}</b><div>{line1}</div><div>{line2}</div>"}
WARN_FILL = rgba(RED, 150)
ACKED_FILL = rgba(AMBER, 110)


def _acked(df: pd.DataFrame) -> list[bool]:
    mine = st.session_state.get(JUST_ACKED, {})
    return [pd.notna(a) or k in mine for k, a in zip(df["key"], df["acked_at"])]


def _state(row, mine: dict) -> str:
    if pd.notna(row.acked_at):
        return f"已确认（{row.acked_by} {timeutil.fmt_local(row.acked_at, timeutil.SHORT)}）"
    if row.key in mine:
        return "已确认（刚刚）"
    return "待确认"


def summary(r: wq.Run, df: pd.DataFrame) -> None:
    n_ack = sum(_acked(df))
    st.html(
        f'<div class="jw-gp-summary" data-headline="warning">“{E(SCOPE)}” · 本周 {WIN.first:%m-%d}至{WIN.last:%m-%d}（今日截至 '
        f'{timeutil.fmt_local(ctx.now, "%H:%M")}）：预警 <b data-kpi="预警">{len(df)}</b> 项，其中待确认 '
        f'<b class="{"jw-target-miss" if len(df) - n_ack else ""}">{len(df) - n_ack}</b> 项'
        f"；本次共检验 {r.tests:,} 项（{r.grids} 个网格 × 类别 × 本周/今日）。预警只看本周和今日，不随“时段”筛选变化</div>"
    )


def legend() -> None:
    st.html(
        f'<div class="jw-legend">基线：各网格自身前 {wm.BASELINE_WEEKS} 周（{BASE[0].first:%m-%d}至{BASE[-1].last:%m-%d}，'
        f"本周之前 {wm.GUARD_WEEKS} 周不计入，以免正在发生的聚集抬高基线）；泊松检验，基线周间波动过大时用负二项；"
        f"本期至少 {wm.MIN_COUNT} 起（件）才可能预警；全辖区所有检验一并校正，错误发现率不超过 {wm.FDR_Q:.0%}；"
        "偶然概率 = 按基线偶然达到本期数的概率，校正后 = 经错误发现率校正的同一概率</div>"
    )


def table(df: pd.DataFrame) -> None:
    mine = st.session_state.get(JUST_ACKED, {})
    view = pd.DataFrame(
        {
            "原因": df["reason"],
            "状态": [_state(r, mine) for r in df.itertuples()],
            "本期": df["count"].astype(int),
            "基线": df["mean"].round(2),
            "偶然概率": df["p"],
            "校正后": df["q"],
            "模型": df["model"].map(wm.MODEL_WORDS),
            "网格": df["grid"],
            "社区": df["community"],
            "来源": df["source_label"],
            "类别": df["category"],
            "窗口": df["scope_label"],
        }
    )
    row = widgets.table(
        view,
        name="warnings",
        file_name="预警",
        search=len(view) > 10,
        select_key=selection_key("warnings"),
        height=min(40 + 36 * len(view), 460),
        column_config={
            "本期": st.column_config.NumberColumn("本期", format="%d"),
            "基线": st.column_config.NumberColumn("基线", format="%.2f", help=f"前{wm.BASELINE_WEEKS}周平均每周（今日：平均每天）"),
            "偶然概率": st.column_config.NumberColumn("偶然概率", format="%.2e", help="按本网格基线，偶然达到本期数或更多的概率"),
            "校正后": st.column_config.NumberColumn("校正后", format="%.3f", help="经错误发现率校正（全辖区所有检验一并计算）"),
            "原因": st.column_config.TextColumn("原因", width="large"),
        },
    )
    st.html('<div class="jw-legend">点击一行进入该网格的画像</div>')
    if row is not None and row < len(df):
        drill("grid", grid_id=int(df.iloc[row]["grid_id"]))


def warning_map(df: pd.DataFrame, shapes: pd.DataFrame) -> None:
    acked = dict(zip(df["key"], _acked(df)))
    by_grid: dict[int, list] = {}
    for r in df.itertuples():
        by_grid.setdefault(int(r.grid_id), []).append(r)
    base_recs, warn_shapes, warn_recs = [], [], []
    for s in shapes.itertuples():
        ws = by_grid.get(int(s.grid_id))
        base_recs.append({"title": s.name, "line1": s.community, "line2": "无预警" if not ws else ""})
        if not ws:
            continue
        all_acked = all(acked[w.key] for w in ws)
        warn_shapes.append(s.boundary_geojson)
        warn_recs.append(
            {
                "grid_id": int(s.grid_id),
                "fill": ACKED_FILL if all_acked else WARN_FILL,
                "title": s.name,
                "line1": "；".join(f"{w.source_label}·{w.category} {w.scope_label} {int(w.count)}" for w in ws[:4]) + ("…" if len(ws) > 4 else ""),
                "line2": "已确认 · 点击查看画像" if all_acked else "待确认 · 点击查看画像",
            }
        )
    view = maps.view_state(maps.rings(shapes["boundary_geojson"]), 760, 480)
    layers = [maps.grid_outline_layer(shapes, layer_id="warn-all", pickable=True, extra=base_recs)]
    if warn_recs:
        layers.append(maps.shaded_grid_layer(maps.part_rows(warn_shapes, warn_recs), "warn-grids"))
    stations = {p.id: p.name for p in ctx.catalogue.stations}
    layers += maps.place_label_layers(shapes, stations, view, narrowed=f.community_id is not None or f.grid_id is not None, size=15)
    names = [{"label": w[0].grid, "centroid_lon": float(w[0].lon), "centroid_lat": float(w[0].lat)} for w in by_grid.values()]
    layers.append(maps.label_layer(names, "warn-labels", 13))  # the warned grids by name, over the community names
    event = st.pydeck_chart(maps.deck(layers, view, TOOLTIP), height=500, key=selection_key("warn-map"), on_select="rerun", selection_mode="single-object")
    try:
        objs = (event.selection["objects"] or {}).get("warn-grids") or []
    except (AttributeError, KeyError, TypeError):
        objs = []
    if objs and objs[0].get("grid_id"):
        drill("grid", grid_id=int(objs[0]["grid_id"]))
    sw = '<span class="jw-swatch" style="background: rgba({},{},{},1)"></span>'
    st.html(f'<div class="jw-legend"><span>{sw.format(*WARN_FILL[:3])}待确认</span><span>{sw.format(*ACKED_FILL[:3])}已确认</span><span>点击网格查看画像</span></div>')


def ack_form(df: pd.DataFrame) -> None:
    widgets.panel_title("确认预警 · 记入审计日志")
    open_ = df[[not a for a in _acked(df)]]
    if open_.empty:
        st.html('<div class="jw-note">所列预警均已确认</div>')
        return
    reasons = dict(zip(open_["key"], open_["reason"]))
    with st.form("warning-ack", clear_on_submit=True, border=False):
        key = st.selectbox("预警", list(reasons), format_func=lambda k: reasons[k], key="warning-ack-key")
        note = st.text_area("处置说明", max_chars=NOTE_MAX, key="warning-ack-note", placeholder="例如：已通知社区民警加强巡逻，并核查近期警情")
        sent = st.form_submit_button("确认")
    if not sent:
        return
    if not (note or "").strip():
        st.warning("请填写处置说明后再确认。")
        return
    if write_audit(ctx.identity, wq.ACK_ACTION, wq.ACK_OBJECT, key, note.strip()):
        st.session_state.setdefault(JUST_ACKED, {})[key] = note.strip()
        st.session_state[FLASH] = f"已确认：{reasons[key]}（已记入审计日志）"
        st.rerun()
    else:
        st.error("审计记录无法写入，未能确认。请联系管理员检查审计配置（DASHBOARD_AUDIT_URL）。")


if (said := st.session_state.pop(FLASH, None)) is not None:
    st.success(widgets.md_escape(said))
with widgets.section():
    # Weekly windows: judged at the minute and kept up to two minutes (about 2 s a run
    # for a 400-grid district); this session sees its own 确认 at once (JUST_ACKED).
    r = cached(ctx, wq.run, f, ctx.now.replace(second=0, microsecond=0), live=False)
    df = r.warnings
    summary(r, df)
    legend()
    if df.empty:
        widgets.empty_state(f"“{SCOPE}”本周及今日没有网格的警情或上报明显高于其自身基线")
    else:
        left, right = st.columns([1.35, 1], gap="medium")
        with left, widgets.section():
            widgets.panel_title("预警列表 · 按偶然概率排序")
            table(df)
            ack_form(df)
        with right, widgets.section():
            widgets.panel_title("预警网格分布")
            shapes = cached(ctx, places.grid_shapes, f.places_only(), live=False)
            if shapes.empty:
                widgets.empty_state(f"筛选条件“{SCOPE}”下没有网格边界")
            else:
                warning_map(df, shapes)

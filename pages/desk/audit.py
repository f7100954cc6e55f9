"""审计日志: who opened which personal data, who signed in, who was refused, and
every change of an account, newest first; for the roles that may read it
(所领导, 管理员). The trail is append-only (see dashboard/db/audit.py); this page
only reads it: the newest entries, narrowed on the page by person and kind.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from dashboard import timeutil
from dashboard.ui import widgets
from dashboard.ui.frame import cached, context
from queries import accounts

ACTIONS = {"unmask": "查看明文", "sign_in": "登录", "denied": "拒绝访问", "user_admin": "账号管理", "wall_ack": "大屏告警已知悉", "warning_ack": "预警确认"}
OBJECTS = {"report": "上报", "task": "派单", "dispute": "纠纷", "grid": "网格", "user": "账号", "warning": "预警", "assessment": "量化考核表"}
LIMIT = 500

ctx = context()
ident = ctx.identity
if ident is None or not ident.role.audit:
    st.error("您的角色无权查看审计日志（仅所领导、管理员）。", icon="🔒")
    st.stop()

with widgets.section():
    # The trail is kept in real time, whatever the dashboard's clock replays:
    # the newest entries, narrowed on the page by person and kind.
    df = cached(ctx, accounts.audit_entries, None, None, LIMIT)
    left, right = st.columns(2)
    who = left.multiselect("用户", sorted(set(df["username"])), key="audit_users", placeholder="全部用户")
    what = right.multiselect("操作", list(ACTIONS), format_func=lambda a: ACTIONS[a], key="audit_actions", placeholder="全部操作")
    if who:
        df = df[df["username"].isin(who)]
    if what:
        df = df[df["action"].isin(what)]
    widgets.panel_title(f"审计日志 · 最新 {len(df)} 条（最多显示 {LIMIT} 条）")
    if df.empty:
        widgets.empty_state("没有符合条件的审计记录")
    else:
        counts = df["action"].map(ACTIONS).fillna(df["action"]).value_counts()
        st.html(
            '<div class="jw-note">'
            + " · ".join(f"{html.escape(str(k))} <b>{int(v)}</b> 条" for k, v in counts.items())
            + "。记录只增不改：数据库触发器拒绝修改和删除。</div>"
        )
        table = pd.DataFrame(
            {
                "时间": [timeutil.fmt_local(t, timeutil.SECOND) for t in df["at"]],
                "用户": df["username"],
                "角色": df["role"].fillna(""),
                "操作": df["action"].map(ACTIONS).fillna(df["action"]),
                "对象": [f"{OBJECTS.get(t, t or '')} {i or ''}".strip() for t, i in zip(df["object_type"], df["object_id"])],
                "来源地址": df["client"].fillna(""),
                "说明": df["detail"].fillna(""),
            }
        )
        widgets.table(table, name="audit", file_name="审计记录", search=True, width="stretch", height=640)

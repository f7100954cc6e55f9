"""The briefing's tables with Chinese headers, one definition for the page, the
printed document and the Excel workbook.

A ``Table`` keeps numbers as numbers (rates in 0..1, named in
``percent``) so the workbook can compute with them; ``display`` formats a copy
for HTML ("—" for what cannot be computed).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.printout import words
from dashboard.ui import fmt
from queries import patrol
from queries.briefing import SHIFTS, Briefing
from queries.measures import warning as wm


@dataclass(frozen=True)
class Table:
    name: str  # the heading and the workbook's sheet name
    frame: pd.DataFrame
    percent: tuple[str, ...] = ()  # columns of rates in 0..1
    hours: tuple[str, ...] = ()  # columns of hours (one decimal)
    note: str | None = None
    printed: tuple[str, ...] | None = None  # the columns the page and the document show (None: all; Excel has all)

    def display(self, printed: bool = False) -> pd.DataFrame:
        """The frame as text, as the screen writes it (``printed``: only the printed columns)."""
        out = self.frame.copy()
        if printed and self.printed:
            out = out[list(self.printed)]
        for c in out.columns:
            if c in self.percent or c in self.hours:
                kind = "rate" if c in self.percent else "hours"
                out[c] = [fmt.kpi_value(kind, None if pd.isna(v) else float(v)) for v in out[c]]
            else:
                out[c] = [fmt.DASH if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in out[c]]
        return out


def headline(b: Briefing) -> Table:
    rows = []
    for k in b.headline:
        c = k.compared
        rows.append(
            {
                "指标": k.label,
                "数值": words.value(k),
                "说明": k.detail or "",
                "同比": fmt.change_marked(c.yoy, k.kind, c.yoy_sig),
                "环比": fmt.change_marked(c.pop, k.kind, c.pop_sig),
                "对比口径": " / ".join(x.removeprefix("对比 ") for x in (k.yoy_basis, k.pop_basis) if x),
            }
        )
    return Table("核心指标", pd.DataFrame(rows), note="同比、环比为计数的相对变化（标“显著”者经泊松检验，由随机波动造成的概率低于5%），比率的变化以百分点计")


def categories(b: Briefing) -> Table:
    df = b.categories.frame()
    rows = [
        {
            "类别": r.category,
            "本期（起）": int(r.n),
            "去年同期（起）": r.n_last_year,
            "同比": fmt.change_marked(r.yoy, "count", bool(r.yoy_sig)),
            "上期（起）": r.n_previous,
            "环比": fmt.change_marked(r.pop, "count", bool(r.pop_sig)),
        }
        for r in df.itertuples()
    ]
    cols = ["类别", "本期（起）", "去年同期（起）", "同比", "上期（起）", "环比"]
    return Table("警情分类", pd.DataFrame(rows, columns=cols))


def _loop(df: pd.DataFrame, overdue: pd.DataFrame, who: str) -> pd.DataFrame:
    od = overdue[["key", "group", "overdue"]] if len(overdue) else pd.DataFrame(columns=["key", "group", "overdue"])
    out = df.merge(od, on=["key", "group"], how="outer")
    for c in ("due", "on_time", "created", "closed", "overdue"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype(int)
    out = out.sort_values(["created", "overdue", "group"], ascending=[False, False, True], ignore_index=True)
    return pd.DataFrame(
        {
            who: out["group"],
            "派单（件）": out["created"],
            "办结（件）": out["closed"],
            "办结率": out["closure_rate"],
            "应反馈（件）": out["due"],
            "按时反馈（件）": out["on_time"],
            "按时反馈率": out["on_time_rate"],
            "平均处置时长（小时）": out["mean_close_hours"],
            "处置时长中位数（小时）": out["median_close_hours"],
            "当前超期（件）": out["overdue"],
        }
    )


LOOP_PERCENT = ("办结率", "按时反馈率")
LOOP_HOURS = ("平均处置时长（小时）", "处置时长中位数（小时）")


def loop_by_department(b: Briefing) -> Table:
    return Table(
        "派单闭环·按部门",
        _loop(b.loop_by_department, b.overdue_by_department, "承办单位"),
        LOOP_PERCENT,
        LOOP_HOURS,
        "派单、办结、按时反馈为本时段；当前超期为截至制表时刻；承办单位为任务当前所在单位（社区民警承办的合为一行）",
    )


def loop_by_community(b: Briefing) -> Table:
    return Table("派单闭环·按社区", _loop(b.loop_by_community, b.overdue_by_community, "社区"), LOOP_PERCENT, LOOP_HOURS)


def disputes(b: Briefing) -> Table:
    t = b.targets
    df = b.disputes_by_community

    def mark(rate: float, n: int, target: float) -> str:
        return fmt.DASH if not n or pd.isna(rate) else ("达标" if rate >= target else "未达标")

    out = pd.DataFrame(
        {
            "社区": df["name"],
            "新发现（起）": df["found"],
            "已办结（起）": df["closed"],
            "化解（起）": df["resolved"],
            "化解率": df["resolution_rate"],
            f"化解率≥{fmt.target(t.resolution)}": [mark(r, n, t.resolution) for r, n in zip(df["resolution_rate"], df["closed"])],
            "回访（次）": df["visits"],
            "满意（次）": df["satisfied"],
            "满意率": df["satisfaction_rate"],
            f"满意率≥{fmt.target(t.satisfaction)}": [mark(r, n, t.satisfaction) for r, n in zip(df["satisfaction_rate"], df["visits"])],
        }
    )
    return Table("矛盾纠纷·按社区", out, ("化解率", "满意率"), note=f"目标：化解率、满意率均不低于 {fmt.target(t.resolution)}、{fmt.target(t.satisfaction)}")


def patrol_shifts(b: Briefing) -> Table:
    rows = []
    for s in SHIFTS:
        k = {x.key: x for x in b.patrol[s]}
        rows.append(
            {
                "班次": f"{patrol.SHIFT_LABELS[s]}（{patrol.SHIFT_HOURS_LABEL[s]}）",
                "巡逻时长（小时）": k["patrol_hours"].compared.value,
                "已覆盖/热点单元": k["hot_coverage"].detail or "—",
                "热点覆盖率": k["hot_coverage"].compared.value,
                "热点未覆盖（个）": k["hot_unreached"].compared.value,
                "热点巡逻占比": k["hot_patrol_share"].compared.value,
                "覆盖率环比": fmt.change(k["hot_coverage"].compared.pop, "rate"),
            }
        )
    note = "热点：近期警情集中的巡逻单元；覆盖：本班次有巡逻轨迹经过"
    if b.patrol_clipped:
        note += "；时段早于轨迹数据起点，只计有轨迹的部分"
    return Table("巡逻覆盖·白班与黑班", pd.DataFrame(rows), ("热点覆盖率", "热点巡逻占比"), ("巡逻时长（小时）",), note)


def warnings(b: Briefing) -> Table:
    w = b.warnings
    out = pd.DataFrame(
        {
            "网格": w["grid"],
            "社区": w["community"],
            "来源": w["source_label"],
            "类别": w["category"],
            "时段": w["scope_label"],
            "计数": w["count"],
            "基线": w["mean"].round(1),
            "p值": w["p"].map(wm.p_text),
            "原因": w["reason"],
            "已确认": ["是" if pd.notna(a) else "否" for a in w["acked_at"]],
        }
    )
    return Table("网格预警（当前）", out, printed=("网格", "类别", "原因", "已确认"), note=f"每个网格、每个类别与其自身基线比较，全辖区 {b.warning_tests} 项检验按错误发现率 5% 控制")


def all_tables(b: Briefing) -> list[Table]:
    return [headline(b), categories(b), loop_by_department(b), loop_by_community(b), disputes(b), patrol_shifts(b), warnings(b)]

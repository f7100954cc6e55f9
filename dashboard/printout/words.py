"""The briefing in words: each figure as the tiles write it, and the summary paragraph.

Every number in the paragraph is a field of the ``Briefing`` (hence of the
desk pages' own functions), formatted by ``dashboard.ui.fmt`` as the tiles
format it, so "共接报警情 523 起" in the PDF is the 523 on 警情趋势's tile.
"""

from __future__ import annotations

from dashboard.ui import fmt
from queries.briefing import Briefing
from queries.kpi import Kpi
from queries.measures.arithmetic import Compared

WARNINGS_NAMED = 3  # the summary names at most this many warnings


def value(k: Kpi) -> str:
    """A tile's figure as the tile shows it ("523", "89.1%"; hours with one decimal, "56.7")."""
    return fmt.kpi_value(k.kind, k.compared.value)


def change_phrase(word: str, x: float | None, kind: str, sig: bool) -> str | None:
    """"同比下降20.0%（显著）", "环比上升1.2个百分点", "同比持平"; None when unknown."""
    text = fmt.change(x, kind)
    if text == fmt.DASH:
        return None
    if text == "持平":
        return f"{word}持平"
    verb = "上升" if text.startswith("↑") else "下降"
    return f"{word}{verb}{text[1:]}" + ("（显著）" if sig else "")


def changes(c: Compared, kind: str) -> str:
    """The 同比 and 环比 of a figure as a clause ("同比下降20.0%（显著），环比下降12.5%"), or
    "无可比数据" when neither is known."""
    parts = [p for p in (change_phrase("同比", c.yoy, kind, c.yoy_sig), change_phrase("环比", c.pop, kind, c.pop_sig)) if p]
    return "，".join(parts) if parts else "无可比数据"


def _with_detail(k: Kpi) -> str:
    """A rate with its parts ("93.0%（1099/1182）"); "—" alone when there is nothing to rate."""
    return f"{value(k)}（{k.detail}）" if k.kind == "rate" and k.detail and k.compared.value is not None else value(k)


def incidents_sentence(b: Briefing) -> str:
    inc, rep = b.kpi("incidents"), b.kpi("reports")
    return (
        f"{b.period}，{b.place}共接报警情 {value(inc)} 起，{changes(inc.compared, 'count')}；"
        f"网格员上报事件 {value(rep)} 件，{changes(rep.compared, 'count')}。"
    )


def movers_sentence(b: Briefing) -> str | None:
    """The categories that rose or fell most; only a significant change is called 显著."""
    m = b.movers
    if m.basis is None or (m.rose.empty and m.fell.empty):
        return None
    word = "同比" if m.basis == "yoy" else "环比"
    sig_col = "yoy_sig" if m.basis == "yoy" else "pop_sig"
    parts = []
    for frame, verb, more in ((m.rose, "上升", "增加"), (m.fell, "下降", "减少")):
        if frame.empty:
            continue
        sig = frame[frame[sig_col].astype(bool)]
        plain = frame[~frame[sig_col].astype(bool)]
        if not sig.empty:
            names = "、".join(sig["category"])
            counts = "、".join(f"{abs(int(d))}" for d in sig["diff"])
            parts.append(f"{names}{word}显著{verb}（分别{more} {counts} 起）" if len(sig) > 1 else f"{names}{word}显著{verb}（{more} {counts} 起）")
        if not plain.empty:
            names = "、".join(plain["category"])
            counts = "、".join(f"{abs(int(d))}" for d in plain["diff"])
            parts.append(f"{names}{word}{more} {counts} 起，变化不显著")
    return "分类看，" + "；".join(parts) + "。"


def loop_sentence(b: Briefing) -> str:
    k = {x.key: x for x in b.loop}
    on_time, closure, mean, overdue = k["on_time"], k["closure"], k["mean_close"], k["overdue"]
    text = (
        f"派单闭环：{on_time.label} {_with_detail(on_time)}，{changes(on_time.compared, 'rate')}；"
        f"{closure.label} {_with_detail(closure)}，{changes(closure.compared, 'rate')}；"
        f"平均处置时长 {value(mean)} 小时（中位数 {fmt.DASH if b.close_times.median_hours is None else f'{b.close_times.median_hours:.1f}'} 小时）；当前超期 {value(overdue)} 件"
    )
    od = b.overdue_by_department
    if len(od):
        top = od.iloc[0]
        text += f"，其中{top['group']} {int(top['overdue'])} 件"
    return text + "。"


def disputes_sentence(b: Briefing) -> str:
    k = {x.key: x for x in b.dispute_kpis}
    found, res, sat = k["found"], k["resolution"], k["satisfaction"]
    t = b.targets

    def against(kpi: Kpi, target: float, nothing: str) -> str:
        if kpi.compared.value is None:
            return nothing
        return f"{'未达到' if kpi.alarm else '达到'} {fmt.target(target)} 目标"

    text = (
        f"矛盾纠纷：新发现 {value(found)} 起，{changes(found.compared, 'count')}；"
        f"{res.label} {_with_detail(res)}，{against(res, t.resolution, '无已办结纠纷')}；"
        f"{sat.label} {_with_detail(sat)}，{against(sat, t.satisfaction, '无回访')}"
    )
    below = []
    for r in b.disputes_by_community.itertuples():
        misses = []
        if r.closed and r.resolution_rate < t.resolution:
            misses.append(f"化解率 {fmt.pct(r.resolution_rate)}")
        if r.visits and r.satisfaction_rate < t.satisfaction:
            misses.append(f"满意率 {fmt.pct(r.satisfaction_rate)}")
        if misses:
            below.append(f"{r.name}（{'、'.join(misses)}）")
    if below:
        text += "；未达标的社区：" + "、".join(below)
    return text + "。"


def patrol_sentence(b: Briefing) -> str:
    day = {x.key: x for x in b.patrol["白"]}
    night = {x.key: x for x in b.patrol["黑"]}
    whole = {x.key: x for x in b.patrol[None]}
    if whole["hot_coverage"].compared.value is None:
        return "巡逻防控：本时段无巡逻轨迹数据或无热点。"
    return (
        f"巡逻防控：热点覆盖率白班 {value(day['hot_coverage'])}、黑班 {value(night['hot_coverage'])}，"
        f"热点未覆盖白班 {value(day['hot_unreached'])} 个、黑班 {value(night['hot_unreached'])} 个单元；"
        f"巡逻时长共 {value(whole['patrol_hours'])} 小时。"
    )


def warnings_sentence(b: Briefing) -> str:
    w = b.warnings
    if w.empty:
        return f"预警：当前无网格预警（共检验 {b.warning_tests:,} 项，错误发现率控制在 5%）。"
    named = "；".join(str(r) for r in w["reason"].head(WARNINGS_NAMED))
    more = f"等（共 {len(w)} 条）" if len(w) > WARNINGS_NAMED else ""
    return f"预警：当前 {w['grid_id'].nunique()} 个网格处于预警，{named}{more}。"


def summary(b: Briefing) -> list[str]:
    """The summary paragraph, sentence by sentence (the page and the files join them)."""
    out = [incidents_sentence(b), movers_sentence(b), loop_sentence(b), disputes_sentence(b), patrol_sentence(b), warnings_sentence(b)]
    return [s for s in out if s]

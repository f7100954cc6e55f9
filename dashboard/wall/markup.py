"""HTML pieces of the LED wall's views (pages/wall/wall.py): plain functions from
query results to markup, styled by assets/wall.css. Nothing here queries or
imports Streamlit, so each piece is tested on its own.

Everything shown is escaped; personal names go through ``mask`` before they
get here or in here (never raw on the wall).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import pandas as pd

from dashboard import mask, timeutil
from dashboard.ui import fmt, plots
from dashboard.wall.layout import text_em
from queries import reports
from queries.wall import FEED_DAYS

e = html.escape


def title(text: str, aside: str = "") -> str:
    span = f"<span>{aside}</span>" if aside else ""
    return f'<div class="jw-w-title">{e(text)}{span}</div>'


def none(text: str) -> str:
    return f'<div class="jw-w-none">{e(text)}</div>'


def outside_html(o, unit: str, what: str) -> str:  # queries.imports.Outside
    """The wall's line for imported rows in no grid (``what``: the figures' window and
    kind, e.g. "今日警情"); empty when there are none."""
    if not o.total:
        return ""
    parts = [f"辖区外 {o.outside:,} {unit}"] if o.outside else []
    if o.unlocated:
        parts.append(f"无法定位 {o.unlocated:,} {unit}")
    return f'<div class="jw-w-away">{e(what)}另有 {e(" · ".join(parts))}，未计入各网格</div>'


def columns_html(head: str, labels: Sequence[str], now: Sequence[int], before: Sequence[int], *, unit: str,
                 key_now: str, key_before: str, upto: int | None = None, tips: Sequence[str] | None = None,
                 partial: str | None = None) -> str:
    """A strip of paired columns (this period solid, the comparison behind it).
    ``upto``: buckets after this index are in the future (no solid column).
    ``partial`` (``plots.partial_note``: "今日截至 14:30"): the bucket at ``upto``
    (the last one when ``upto`` is None) is still running: its column is hollow
    and dashed, and says so on hover."""
    running = (len(labels) - 1 if upto is None else upto) if partial else None
    top = max(max(now, default=0), max(before, default=0), 1)
    cols = []
    for i, label in enumerate(labels):
        t = 100 * now[i] / top
        y = 100 * before[i] / top
        future = " future" if upto is not None and i > upto else ""
        tip = tips[i] if tips else label
        if i == running:
            future, tip = " partial", f"{tip}（{partial}）"
        cols.append(
            f'<div class="jw-w-hour{future}" title="{e(tip)} {key_now} {now[i]} {unit} / {key_before} {before[i]} {unit}">'
            f'<div class="jw-w-bars"><div class="jw-w-bar y" style="height:{y:.1f}%"></div>'
            f'<div class="jw-w-bar t" style="height:{t:.1f}%"></div></div><div class="jw-w-hl">{e(label)}</div></div>'
        )
    return (
        f'<div class="jw-w-trend">{head}'
        f'<div class="jw-w-hours">{"".join(cols)}</div></div>'
    )


def legend(now: str, before: str) -> str:
    return f'<i class="jw-w-key t"></i>{e(now)} <i class="jw-w-key y"></i>{e(before)}'


def hourly_html(title_text: str, today: list[int], yesterday: list[int], hour_now: int, unit: str, at: datetime | None = None) -> str:
    """24 hourly columns, today against yesterday; with ``at`` (the instant the
    figures were taken) the running hour's column is drawn apart ("本小时截至 HH:MM")."""
    head = title(title_text, f"今日 {sum(today)} {unit} · 昨日全天 {sum(yesterday)} {unit}　{legend('今日', '昨日')}")
    labels = [f"{h:02d}" if h % 3 == 0 else "" for h in range(24)]
    note = plots.partial_note((at - timedelta(hours=1), at), at, "hour") if at is not None else None
    return columns_html(head, labels, today, yesterday, unit=unit, key_now="今日", key_before="昨日", upto=hour_now,
                        tips=[f"{h:02d}时" for h in range(24)], partial=note)


def daily_html(title_text: str, trend, unit: str) -> str:  # queries.overview.DailyTrend
    """Daily columns (``trend.days``: day, n, n_last_year) against the same days
    last year; the 同比 is the trend's own (``trend.total``, by
    ``queries.measures.windows.Periods``: "—" with no mark where last year is not in the data)."""
    df = trend.days
    days = list(df["day"])
    n = [int(v) for v in df["n"]]
    ly = [0 if v is None or pd.isna(v) else int(v) for v in df["n_last_year"]]
    c = trend.total
    last = f"去年同期 {fmt.count(c.yoy_base)} {unit}" if trend.yoy_covered else "去年同期早于数据起始"
    change = fmt.change_marked(c.yoy, "count", c.yoy_sig)
    head = title(title_text, f"共 {fmt.count(c.value)} {unit} · {e(last)} · 同比 {e(change)}　{legend('本期', '去年同期')}")
    labels = [f"{d.month}/{d.day}" if i % 5 == 0 or i == len(days) - 1 else "" for i, d in enumerate(days)]
    note = plots.partial_note(trend.periods.current, trend.periods.at, "day")  # today so far: its column apart
    return columns_html(head, labels, n, ly, unit=unit, key_now="本期", key_before="去年同期", tips=[f"{d:%m-%d}" for d in days],
                        partial=note)


def hbars_html(head: str, rows: Iterable[tuple[str, float, str]], *, alarm: Iterable[bool] | None = None) -> str:
    """Horizontal bars: (label, value, figure text) per row, longest = full width."""
    rows = list(rows)
    alarms = list(alarm) if alarm is not None else [False] * len(rows)
    top = max((v for _, v, _ in rows), default=0) or 1
    items = "".join(
        f'<div class="jw-w-hbar{" alarm" if a else ""}"><span class="jw-w-hbar-label">{e(label)}</span>'
        f'<span class="jw-w-hbar-track"><i style="width:{100 * v / top:.1f}%"></i></span>'
        f'<span class="jw-w-hbar-fig">{e(fig)}</span></div>'
        for (label, v, fig), a in zip(rows, alarms)
    )
    return f'<div class="jw-w-panel">{head}<div class="jw-w-hbars">{items}</div></div>'


def table_html(head: str, headers: Sequence[str], rows: Iterable[Sequence[str]], *, bad: Iterable[Sequence[bool]] | None = None,
               num_from: int = 1, foot: str = "") -> str:
    """A wall table: text cells, escaped; ``bad`` marks cells in red; columns from
    ``num_from`` on are figures (right-aligned, tabular); ``foot`` (markup, e.g.
    ``more_html``) under the table."""
    rows = [list(r) for r in rows]
    flags = [list(b) for b in bad] if bad is not None else [[False] * len(headers) for _ in rows]
    th = "".join(f'<th class="{"num" if i >= num_from else ""}">{e(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(
            f'<td class="{"num" if i >= num_from else ""}{" bad" if flag[i] else ""}">{e(c)}</td>' for i, c in enumerate(r)
        ) + "</tr>"
        for r, flag in zip(rows, flags)
    )
    return f'<div class="jw-w-panel">{head}<table class="jw-w-table"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>{foot}</div>'


def fit_style(label: str, value: str) -> str:
    """A KPI tile's or card's label width (em) and figure length as CSS variables:
    assets/wall.css sizes both to fit the tile's width, so neither is ever cut."""
    return f"--jw-label-em: {max(1.0, text_em(label)):g}; --jw-value-chars: {max(1, len(value))}"


def basis_html(text: str | None) -> str:
    """A card's small aside, inline (no extra line: a view's cards fill their panel):
    what a 同比/环比 compares with ("去年同月同期"), or the span ("本月 2 天")."""
    return f'<span class="jw-w-card-basis"> · {e(text.removeprefix("对比 "))}</span>' if text else ""


def kpi_cards_html(kpis, columns: int = 2, rows: int | None = None) -> str:  # list[queries.overview.Kpi]
    """Big figures for a view (``queries.overview.Kpi``): value, detail and
    同比/环比 in words, each with what it compares with, and the span of a
    calendar period ("本月 20 天") after the detail; red when ``alarm``.
    ``rows``: at most this many rows of cards (the wall's budget at its type
    scale); the cards left out are named in a footer "另 2 项未显示：…", never cut."""
    kpis = list(kpis)
    shown = kpis if rows is None else kpis[: max(1, rows) * columns]
    rest = kpis[len(shown):]
    cards = []
    for k in shown:
        c = k.compared
        if k.kind == "rate":
            value = fmt.pct(c.value)
        elif k.kind == "hours":
            value = "—" if c.value is None else f"{c.value:.1f}"
        else:
            value = fmt.count(c.value)
        cmp_kind = "rate" if k.kind == "rate" else "count"
        cmp = (f'<div class="jw-w-card-cmp">同比 {e(fmt.change_marked(c.yoy, cmp_kind, c.yoy_sig))}{basis_html(k.yoy_basis)}</div>'
               f'<div class="jw-w-card-cmp">环比 {e(fmt.change_marked(c.pop, cmp_kind, c.pop_sig))}{basis_html(k.pop_basis)}</div>')
        if k.detail:
            detail = f'<div class="jw-w-card-detail">{e(k.detail)}{basis_html(k.span)}</div>'
        else:
            detail = f'<div class="jw-w-card-detail">{basis_html(k.span).replace(" · ", "", 1)}</div>' if k.span else ""
        cards.append(
            f'<div class="jw-w-card{" alarm" if k.alarm else ""}" style="{fit_style(k.label, value)}" data-kpi="{e(k.key)}">'
            f'<div class="jw-w-card-label">{e(k.label)}</div>'
            f'<div class="jw-w-card-value">{e(value)}</div>{detail}{cmp}</div>'
        )
    foot = ""
    if rest:
        names = "、".join(k.label for k in rest)
        foot = (f'<div class="jw-w-more cut" data-total="{len(kpis)}" data-shown="{len(shown)}" data-hidden="{len(rest)}">'
                f'另 {len(rest)} 项未显示：{e(names)}</div>')
    return f'<div class="jw-w-cards" style="grid-template-columns: repeat({columns}, minmax(0, 1fr))">' + "".join(cards) + "</div>" + foot


# --- the report feed and the dispatch queue ---------------------------------------------

AMBER_MINUTES = 120  # a deadline closer than this is shown amber


def list_open(kind: str, rows: int, cols: int) -> str:
    """The opening tag of a wall list laid out as exactly ``rows`` rows per column
    (``cols`` columns): every item the page passes is on screen, so the footer's
    "另 N 件未显示" is true at any screen height and type size (an item taller
    than its row is clipped inside the row, never pushed out of view)."""
    per_col = max(1, -(-rows // max(1, cols)))
    return (f'<ul class="jw-w-{kind} cols{cols}" data-rows="{rows}" '
            f'style="grid-template-rows: repeat({per_col}, minmax(0, 1fr)); grid-template-columns: repeat({cols}, minmax(0, 1fr))">')


def more_html(lst, unit: str, why: str) -> str:  # queries.wall.WallList
    """The footer of a list: "显示 8 件 · 另 115 件未显示（较不紧急）" (``why``: what
    the hidden rows are), or "共 8 件，已全部显示"; the figures also as data
    attributes (``data-total``, ``data-shown``, ``data-hidden``, ``data-at``)."""
    hidden = lst.hidden
    text = f"显示 {fmt.count(lst.shown)} {unit} · 另 {fmt.count(hidden)} {unit}未显示（{why}）" if hidden else f"共 {fmt.count(lst.total)} {unit}，已全部显示"
    return (f'<div class="jw-w-more{" cut" if hidden else ""}" data-total="{lst.total}" data-shown="{lst.shown}" '
            f'data-hidden="{hidden}" data-at="{lst.at.isoformat()}">{e(text)}</div>')


def cut_text(total: int, shown: int, unit: str) -> str:
    """A short table's cut, for its title: "共 9 个，另 5 个未显示" / "共 4 个"."""
    hidden = max(0, total - shown)
    return f"共 {fmt.count(total)} {unit}，另 {fmt.count(hidden)} {unit}未显示" if hidden else f"共 {fmt.count(total)} {unit}"


def cut_span(total: int, shown: int, unit: str) -> str:
    """``cut_text`` as markup with its figures in data attributes (for tests and the eye alike)."""
    return (f'<b class="jw-w-cut" data-total="{total}" data-shown="{min(shown, total)}" data-hidden="{max(0, total - shown)}">'
            f'{e(cut_text(total, shown, unit))}</b>')


def feed_html(lst, *, rows: int, flashing: set[str] = frozenset(), cols: int = 1) -> str:  # queries.wall.FeedList
    """The newest reports (newest first): time, category, urgency badge, place,
    masked text; the header gives today's count (the strip's 今日上报) and the
    window's, the footer how many older ones are not shown."""
    df = lst.rows
    head = title("最新网格上报", f"今日 {fmt.count(lst.today)} 条（紧急·特急 {fmt.count(lst.urgent_today)}）· 近{FEED_DAYS}天 {fmt.count(lst.total)} 条")
    if df.empty:
        return head + none(f"近{FEED_DAYS}天暂无上报")
    items = []
    for r in df.head(rows).itertuples():
        urgent = r.urgency in reports.URGENT
        flash = f"report:{int(r.id)}" in flashing
        badge = f'<span class="jw-w-urg">{e(r.urgency)}</span>' if urgent else ""
        items.append(
            f'<li class="jw-w-report{" urgent" if urgent else ""}{" flash" if flash else ""}" data-report-id="{int(r.id)}">'
            f'<div class="jw-w-report-head"><span class="jw-w-hhmm">{timeutil.fmt_local(r.reported_at, timeutil.CLOCK)}</span>'
            f'<span class="jw-w-cat">{e(r.category)}</span>{badge}'
            f'<span class="jw-w-place">{e(r.community)} · {e(r.grid)}</span></div>'
            f'<div class="jw-w-text">{e(mask.text(r.text))}</div></li>'
        )
    return head + list_open("feed", rows, cols) + "".join(items) + "</ul>" + more_html(lst, "条", "较早的上报")


def left_text(minutes: float) -> str:
    """A countdown: 剩 2时05分 / 剩 42分08秒 / 超期 1时12分."""
    secs = int(abs(minutes) * 60)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    if h >= 24:
        span = f"{h // 24}天{h % 24}时"
    elif h:
        span = f"{h}时{m:02d}分"
    else:
        span = f"{m}分{s:02d}秒"
    return ("超期 " if minutes < 0 else "剩 ") + span


def assignee(officer: object, department: object) -> str:
    """The officer (masked) or the department a task is with; "" when neither."""
    if isinstance(officer, str) and officer:
        return mask.name(officer)
    return department if isinstance(department, str) else ""


def queue_html(lst, now: datetime, *, rows: int, flashing: set[str] = frozenset(), cols: int = 1) -> str:  # queries.wall.QueueList
    """Open tasks with their countdowns, overdue first (``queries.wall.queue``):
    amber when under AMBER_MINUTES left, red when overdue, flashing while newly
    overdue (``flashing`` holds alarm keys). The header's 超期 is the strip's."""
    items = []
    for r in lst.rows.head(rows).itertuples():
        if pd.notna(r.deadline_at):
            minutes = (r.deadline_at.to_pydatetime() - now).total_seconds() / 60
            level = "red" if minutes < 0 else "amber" if minutes < AMBER_MINUTES else "ok"
            count = left_text(minutes)
        else:
            waited = (now - r.created_at.to_pydatetime()).total_seconds() / 60
            level, count = "wait", "已等 " + left_text(waited)[2:]
        flash = " flash" if f"task:{int(r.id)}" in flashing else ""
        who = assignee(r.officer, r.department)
        urg = f'<span class="jw-w-urg">{e(r.urgency)}</span>' if r.urgency in reports.URGENT else ""
        items.append(
            f'<li class="jw-w-task {level}{flash}" data-task-id="{int(r.id)}" data-phase="{int(r.phase)}">'
            f'<div class="jw-w-task-head"><span class="jw-w-cat">{e(r.category)}</span>{urg}'
            f'<span class="jw-w-state">{e(r.state)}</span><span class="jw-w-left">{e(count)}</span></div>'
            f'<div class="jw-w-task-sub">{e(r.community)} · {e(r.grid)}<span class="jw-w-who">{e(who or "待派单")}</span></div></li>'
        )
    head = title("派单队列", f"未办结 {fmt.count(lst.total)} 件 · 超期 {fmt.count(lst.overdue)} 件")
    if not items:
        return head + none("暂无未办结工单")
    return head + list_open("queue", rows, cols) + "".join(items) + "</ul>" + more_html(lst, "件", "较不紧急")


# --- alarms ----------------------------------------------------------------------------


def alarm_text(r) -> str:  # a row of queries.wall.alarms
    """One alarm in words: "14:02 特急上报 · 消防隐患 · 东湖社区第3网格" /
    "13:40 工单超期 · 设施损坏 · 北岸社区第5网格 · 张*"."""
    at = timeutil.fmt_local(r.at.to_pydatetime() if hasattr(r.at, "to_pydatetime") else r.at, timeutil.CLOCK)
    if r.kind == "report":
        return f"{at} {r.urgency}上报 · {r.category} · {r.grid}"
    who = assignee(r.officer, r.department)
    return f"{at} 工单超期 · {r.category} · {r.grid}" + (f" · {who}" if who else "")


def alarm_html(df: pd.DataFrame, limit: int = 3) -> str:
    items = "".join(
        f'<span class="jw-w-alarm-item" data-alarm="{e(r.key)}">{e(alarm_text(r))}</span>' for r in df.head(limit).itertuples()
    )
    more = f'<span class="jw-w-alarm-more">等 {len(df)} 条</span>' if len(df) > limit else ""
    return f'<div class="jw-w-alarm" data-alarms="{len(df)}"><span class="jw-w-alarm-head">告警</span>{items}{more}</div>'

"""Shared UI pieces: theme, KPI tiles, empty states, error banners."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.config import PROJECT_ROOT
from dashboard.db.database import DatabaseUnavailable, DataError, QueryTimeout
from dashboard.ui import fmt, recovery

CSS_PATH = PROJECT_ROOT / "assets" / "style.css"
ZH_JS = PROJECT_ROOT / "assets" / "zh.js"



# --- text that is not ours, inside Markdown ---------------------------------------------
#
# Streamlit renders the body of st.warning/error/info/success/caption/markdown/
# write/toast and every widget label (and st.radio's options) as GitHub-flavoured
# Markdown plus its own extensions: links and images (an image makes the browser
# fetch it: a request out of the closed network), headings, lists, tables,
# ``:color[…]``/``:small[…]`` directives, ``:material/icon:``, ``:streamlit:`` and
# emoji shortcodes, and LaTeX between ``$``. CommonMark lets a backslash escape any
# ASCII punctuation character, which then shows literally, so escaping all of them
# turns every construct of the Markdown itself into plain text. What works on the
# parsed text instead (measured in a browser, Streamlit 1.67): GFM's autolinks
# (``www.x.cn``, ``http://…``, ``a@b.cn`` become links after the escapes are
# resolved) and the ``:name:`` shortcodes; a WORD JOINER (U+2060: invisible, no
# width, no line break) on both sides of every ".", ":" and "@" breaks them.
# ``:material/`` is rewritten before parsing, which the escaped "/" prevents.
# Line breaks and other control characters would start new blocks (a heading,
# an indented code block): they become spaces. st.selectbox and st.multiselect
# show their options as plain text (measured too): those are never escaped.

_MD_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")  # every ASCII punctuation character
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
WJ = "\u2060"


def _md_char(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"{WJ}\\{c}{WJ}" if c in ".:@" else f"\\{c}"


def md_escape(text: object) -> str:
    """``text`` (a database string, a URL value…) made to show literally inside
    Streamlit Markdown (alert bodies, captions, labels): ASCII punctuation
    backslash-escaped, autolinks and shortcodes broken by invisible word joiners,
    line breaks and control characters turned into spaces."""
    return _MD_PUNCT.sub(_md_char, _CONTROL.sub(" ", str(text)))


@st.cache_data(show_spinner=False, max_entries=8)
def _asset(path: str, mtime: float) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_css(path: Path = CSS_PATH) -> None:
    st.html(f"<style>{_asset(str(path), path.stat().st_mtime)}</style>")


def load_script(path: Path) -> None:
    """One of our own scripts from ``assets/`` (never anything from outside)."""
    st.html(f"<script>{_asset(str(path), path.stat().st_mtime)}</script>", unsafe_allow_javascript=True)


def _cmp_class(x: float | None, higher_is_better: bool | None) -> str:
    """Colour of a change: green when good news, red when bad, plain when neither."""
    if x is None or round(x * 100, 1) == 0 or higher_is_better is None:
        return "jw-flat"
    up = x > 0
    good = up == higher_is_better
    return ("jw-up-" if up else "jw-down-") + ("good" if good else "bad")


SIG_TITLE = "泊松检验：这样的变化由随机波动造成的概率低于5%"


def change_html(x: float | None, kind: str = "count", higher_is_better: bool | None = False, sig: bool = False) -> str:
    """A coloured 同比/环比 value; a significant change of a count gets a 显著 mark."""
    mark = f'<span class="jw-sig" title="{SIG_TITLE}">显著</span>' if sig and x is not None else ""
    return f'<span class="{_cmp_class(x, higher_is_better)}">{html.escape(fmt.change(x, kind))}</span>{mark}'


def kpi_tile(
    label: str, value: str, *, yoy: str, pop: str, detail: str | None = None, alarm: bool = False,
    yoy_basis: str | None = None, pop_basis: str | None = None, span: str | None = None,
) -> str:
    """HTML of one KPI tile; ``yoy``/``pop`` are ``change_html`` fragments.
    ``yoy_basis``/``pop_basis`` (what each compares with, ``Kpi.yoy_basis``)
    show on hover of their line and in the small line under them; ``span``
    ("本月 2 天") heads that line."""
    e = html.escape
    det = f'<span class="jw-kpi-detail">{e(detail)}</span>' if detail else ""

    def cmp_line(word: str, fragment: str, basis: str | None) -> str:
        tip = f' title="{e(word)}：{e(basis)}"' if basis else ""
        return f'<div class="jw-kpi-cmp"{tip}>{word} {fragment}</div>'

    bases = [b.removeprefix("对比 ") for b in (yoy_basis, pop_basis) if b]
    note_parts = ([span] if span else []) + (["对比 " + " / ".join(bases)] if bases else [])
    note = f'<div class="jw-kpi-basis">{e(" · ".join(note_parts))}</div>' if note_parts else ""
    return (
        f'<div class="jw-kpi{" alarm" if alarm else ""}" data-kpi="{e(label)}">'
        f'<div class="jw-kpi-label">{e(label)}</div>'
        f'<div class="jw-kpi-value">{e(value)}{det}</div>'
        + cmp_line("同比", yoy, yoy_basis)
        + cmp_line("环比", pop, pop_basis)
        + note
        + "</div>"
    )


def kpi_row(kpis, columns: int | None = None) -> None:  # list[queries.overview.Kpi]
    """A row of KPI tiles (``Kpi`` objects: label, kind, compared, detail, alarm, higher_is_better)."""
    tiles = []
    for k in kpis:
        c = k.compared
        value = fmt.kpi_value(k.kind, c.value)
        tiles.append(
            kpi_tile(
                k.label,
                value,
                yoy=change_html(c.yoy, k.kind, k.higher_is_better, c.yoy_sig),
                pop=change_html(c.pop, k.kind, k.higher_is_better, c.pop_sig),
                detail=k.detail,
                alarm=k.alarm,
                yoy_basis=k.yoy_basis,
                pop_basis=k.pop_basis,
                span=k.span,
            )
        )
    st.html(kpi_row_html(tiles, columns))


def kpi_row_html(tiles: list[str], columns: int | None = None) -> str:
    """A row of ``kpi_tile`` HTML: ``columns`` (default: all) tiles a row where the
    page is wide enough, fewer a row (wrapping) where a tile would be narrower than
    its figure and comparisons need (assets/style.css: a 1366 px laptop)."""
    n = columns or len(tiles)
    return f'<div class="jw-kpi-row" style="--jw-kpi-n: {n}">' + "".join(tiles) + "</div>"


def header(title: str, subtitle: str, *, who: str = "", marks: list[str] | None = None) -> None:
    """The first line of a page; ``marks`` (演示模式 · 未启用登录, 演示数据) as amber chips."""
    chips = "".join(f'<span class="jw-mark">{html.escape(m)}</span>' for m in marks or [])
    user = f'<span class="jw-who">{html.escape(who)}</span>' if who else ""
    st.html(
        f'<div class="jw-header"><span class="jw-title">{html.escape(title)}</span>{chips}'
        f'<span class="jw-sub jw-head-sub">{html.escape(subtitle)}</span>{user}</div>'
    )


def panel_title(text: str, title: str | None = None) -> None:
    """A panel's heading; ``title`` is a definition shown on hover (dotted underline)."""
    if title:
        st.html(f'<div class="jw-panel-title jw-defined" title="{html.escape(title)}">{html.escape(text)}</div>')
    else:
        st.html(f'<div class="jw-panel-title">{html.escape(text)}</div>')


def empty_state(reason: str) -> None:
    """无数据, with the filter that caused it."""
    st.html(f'<div class="jw-empty"><b>无数据</b>{html.escape(reason)}</div>')


def data_error(err: DataError, *, retry: bool = True) -> None:
    """A data-source problem, in Chinese, without a traceback. The page then
    retries by itself: when the database could not be reached, it reruns once
    the database is back (``recovery.rerun_when_back``); after a query that timed
    out, it reruns after ``recovery.RETRY_SLOW_S`` seconds (``recovery.retry_later``)."""
    st.error(md_escape(err.zh), icon="⚠️")
    if not retry:
        return
    if isinstance(err, DatabaseUnavailable):
        recovery.once_per_run("back", recovery.rerun_when_back)
    elif isinstance(err, QueryTimeout):
        st.caption(f"本栏将在 {recovery.RETRY_SLOW_S} 秒后自动重试；其余各栏照常显示。")
        recovery.once_per_run("later", recovery.retry_later)


@contextmanager
def section():
    """One part of a page: a data-source error inside it is shown in its place
    (``data_error``, which also arranges the retry) and the page goes on with
    its other parts, so one timed-out query does not blank the tiles that
    succeeded."""
    try:
        yield
    except DataError as err:
        data_error(err)


def outside_note(o, noun: str, effect: str = "未计入网格统计") -> str:  # queries.imports.Outside
    """The line beside figures by place that says how many imported rows fell in
    no grid, and what that leaves them out of (``effect``)."""
    parts = [f"辖区外 {o.outside:,} {noun}（坐标不在任何网格内）"] if o.outside else []
    if o.unlocated:
        parts.append(f"无法定位 {o.unlocated:,} {noun}（无坐标、无网格）")
    return "，".join(parts) + f"：已保留在导入批次中，{effect}（python -m dashboard.load rejects 批次号 可列出）"


def outside_caption(o, noun: str, effect: str = "未计入网格统计") -> None:  # queries.imports.Outside
    """``outside_note`` as a caption beside figures by place, only when there is any."""
    if o.total:
        st.caption(outside_note(o, noun, effect))


# --- tables: Streamlit's own toolbar and column menus are English --------------------
#
# assets/style.css hides the dataframe toolbar (Download as CSV, Search, Fullscreen) and
# the column menus (Sort ascending, Pin column, Hide column, Autosize…); ``table`` gives
# every desk table the controls we own instead, in Chinese: a sort choice (applied in
# pandas before display), a 搜索 filter where a table is long, and 下载 CSV (UTF-8 with
# BOM, the headers as shown, the rows as shown: the frame passed in is already masked).

DEFAULT_ORDER = "默认顺序"
MISSING = "—"


def _label(col: str, column_config: Mapping[str, Any] | None) -> str:
    cfg = (column_config or {}).get(col)
    if isinstance(cfg, str):
        return cfg
    if isinstance(cfg, Mapping) and cfg.get("label"):
        return str(cfg["label"])
    return str(col)


def sort_options(view: pd.DataFrame, column_config: Mapping[str, Any] | None = None) -> list[str]:
    """"默认顺序" and, for every column, 按<header>升序 / 按<header>降序."""
    out = [DEFAULT_ORDER]
    for col in view.columns:
        lab = _label(col, column_config)
        out += [f"按{lab}降序", f"按{lab}升序"]
    return out


def _sorted(view: pd.DataFrame, choice: str, column_config, sort_keys) -> pd.DataFrame:
    if choice == DEFAULT_ORDER:
        return view
    for col in view.columns:
        lab = _label(col, column_config)
        for word, ascending in (("降序", False), ("升序", True)):
            if choice == f"按{lab}{word}":
                raw = (sort_keys or {}).get(col)
                keys = pd.Series(list(raw)).loc[view.index] if raw is not None else view[col]  # labels are positions
                try:
                    order = keys.sort_values(ascending=ascending, kind="stable", na_position="last").index
                except TypeError:  # mixed types in an imported column: by their text
                    order = keys.astype(str).sort_values(ascending=ascending, kind="stable").index
                return view.loc[order]
    return view


def search_rows(view: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows in which some cell, as text, contains ``text`` (case-insensitive)."""
    needle = text.strip().casefold()
    if not needle or view.empty:
        return view
    hit = view.astype(str).apply(lambda col: col.str.casefold().str.contains(needle, regex=False)).any(axis=1)
    return view[hit]


def csv_bytes(view: pd.DataFrame, column_config: Mapping[str, Any] | None = None) -> bytes:
    """``view`` as CSV for Excel: UTF-8 with BOM, the screen's (Chinese) headers."""
    out = view.rename(columns={c: _label(c, column_config) for c in view.columns})
    return out.to_csv(index=False).encode("utf-8-sig")


def table(
    view: pd.DataFrame,
    *,
    name: str,
    file_name: str,
    column_config: Mapping[str, Any] | None = None,
    style: Callable[[pd.DataFrame], Any] | None = None,
    sort_keys: Mapping[str, Sequence[Any]] | None = None,
    search: bool = False,
    select_key: str | None = None,
    **kwargs: Any,
) -> int | None:
    """A desk table with our own Chinese controls above it (see above).

    ``view`` is what the screen shows (masked, Chinese values); its rows are
    sorted and filtered here, and ``style`` (a function of the frame drawn,
    returning a Styler; row labels are positions in ``view``) is applied after.
    ``sort_keys`` gives a column's order where its text does not sort (durations,
    "85%"). With ``select_key`` a click on a row reruns and the row's position in
    ``view`` as passed is returned (so the page maps it back to its own frame)."""
    view = view.reset_index(drop=True)
    text = ""
    if search:
        left, mid, right = st.columns([2.2, 2, 1], vertical_alignment="bottom")
        text = left.text_input("搜索", key=f"tbl-{name}-search", placeholder="搜索：任一列包含的文字", label_visibility="collapsed")
    else:
        mid, right = st.columns([3, 1], vertical_alignment="bottom")
    choice = mid.selectbox(
        "排序", sort_options(view, column_config), key=f"tbl-{name}-sort", format_func=lambda o: f"排序：{o}", label_visibility="collapsed",
        filter_mode=None,  # no typing: Streamlit's "No results" can never show
        placeholder="请选择",
    )
    shown = _sorted(search_rows(view, text), choice, column_config, sort_keys)
    right.download_button(
        "下载 CSV", csv_bytes(shown, column_config), file_name=f"{file_name}.csv", mime="text/csv",
        key=f"tbl-{name}-csv", on_click="ignore", help="下载当前显示的行（排序、搜索后），表头与屏幕一致，个人信息保持遮挡",
    )
    if shown.empty:
        empty_state(f"没有包含“{text.strip()}”的行")
        return None
    data = style(shown) if style is not None else shown
    opts = dict(hide_index=True, column_config=column_config, placeholder=MISSING, **kwargs)
    if select_key is None:
        st.dataframe(data, **opts)
        return None
    event = st.dataframe(data, on_select="rerun", selection_mode="single-row", key=select_key, **opts)
    try:
        rows = event.selection["rows"]
    except (AttributeError, KeyError, TypeError):
        return None
    if not rows or int(rows[0]) >= len(shown):
        return None
    return int(shown.index[int(rows[0])])

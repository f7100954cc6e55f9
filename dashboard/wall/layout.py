"""The LED wall's geometry at a type scale (``?scale=``): region heights, KPI
columns and every list's row budget, from one set of sizes in vh.

The wall (pages/wall/wall.py, assets/wall.css) is a fixed frame: header, KPI
strip, main region, foot strip, each a share of the screen's height. A larger
type scale must reflow, not clip: the KPI strip wraps to two rows of four when
eight tiles no longer fit their figures side by side, the main region gets what
is left, and each list's row budget (rows passed to the query, rows laid out on
screen, and the footer's "另 N 件未显示") is the number of its items that fit
that region at that type size. Everything here is plain arithmetic on the CSS
sizes below (kept in step with assets/wall.css, whose type sizes are
``calc(<vh> * var(--ws))``), so the page computes the budgets before it queries
and the CSS receives the same heights as variables (``css_vars``).

Three factors come from the scale ``s``:

- ``s`` itself for all running text (list items, titles, labels, tables);
- ``head`` = min(s, 1.25) for the header line (station, view, date and clock
  are already the largest text on the wall; they grow a quarter at most so
  that they stay on one line without overlapping) and for the small lines
  under a KPI figure (detail, comparison caption);
- ``foot`` = min(s, 1.25) for the foot strip (hourly columns, the loop and
  place tables under the main region): it keeps a fixed share of the height,
  and at scale 2 a title, a table's header row and one row would not fit it;
- ``value`` = s up to 1, then (1 + s) / 2 for the KPI figures, which at scale 1
  are 2.8 times the labels' size: at scale 2 they are 1.5 times larger, still
  the largest type on the wall, and four of them fit a 1920 px row.

The sizes assume a 16:9 screen (1920×1080, 3840×2160 at device scale factor
2); a screen more than three times as wide as tall (a 5760×1080 spliced wall)
keeps the eight tiles in one row (``css_vars`` adds a media query), and the
main region is then taller than the budgets assume: rows get taller, no item
is hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KPI_TILES = 8  # queries.wall.kpis: the strip's tiles
REGIONS_VH = 95.0  # head + KPI + main + foot strip at scale 1 (6 + 14 + 55 + 20); padding and gaps take the rest
GAP_VH = 0.8  # between regions and between KPI rows (wall.css)
HEAD_VH, KPI_ROW_MIN_VH, FOOT_VH = 6.0, 14.0, 20.0
SAFETY = 0.98  # budgets use 98 % of the room: fonts' metrics differ a little from the nominal line heights

# type sizes (vh at scale 1) and line heights, as in assets/wall.css
TITLE = 2.1 * 1.25 + 0.6  # .jw-w-title: font, line height, bottom margin
FOOT_LINE = 1.6 * 1.5 + 0.4  # .jw-w-more
KPI_PAD = 2 * 0.8 + 0.2  # .jw-w-kpi padding and border
KPI_LABEL = 2.0 * 1.2
KPI_VALUE = 5.6 * 1.05
KPI_SMALL = 2 * 1.5 * 1.2  # two small lines: the detail (667/790) and a comparison caption
ITEM_TEXT = (1.7 + 1.6) * 1.22  # a feed or queue item: head line + second line (.jw-w-report/.jw-w-task)
ITEM_PAD = 1.0 + 0.45  # the item's padding + the list's row gap
CARD = (1.6 + 0.2, 1.8 * 1.2, 4.2 * 1.15, 3 * 1.45 * 1.2)  # .jw-w-card: padding, label, figure, detail + 同比 + 环比
TABLE_ROW = 1.6 * 1.45 + 0.45  # .jw-w-table td: font × line height + padding and border
PANEL_PAD = 1.6 + 0.2  # .jw-w-panel padding and border


def text_em(text: str) -> float:
    """The width of ``text`` in em: CJK (and full-width) characters 1, others 0.6."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in text)


def head_factor(s: float) -> float:
    return min(s, 1.25)


def value_factor(s: float) -> float:
    return s if s <= 1 else (1 + s) / 2


@dataclass(frozen=True)
class Layout:
    """The wall at type scale ``scale``: heights in vh, KPI columns, row budgets."""

    scale: float
    head_vh: float
    kpi_cols: int
    kpi_rows: int
    kpi_vh: float
    foot_vh: float
    main_vh: float
    map_vh: float  # the map's canvas under its title
    list_rows: int  # per column of a feed/queue/回访/今日110警情 list in the main region
    patrol_rows: int  # table rows of 在岗巡逻力量 in a main-region column
    table_rows: int  # table rows in the foot strip
    category_rows: int  # rows of a main-region table or bar list (警情分类, 本月纠纷类型)
    card_rows: int  # rows of KPI cards (two a row) in a main-region column (本月派单闭环, 本月矛盾纠纷)
    wide_kpi_vh: float  # the strip's height on a screen wider than 3:1 (one row)
    wide_main_vh: float

    def css_vars(self) -> str:
        """The ``:root`` rule (and the wide-screen media query) that assets/wall.css reads."""
        s = self.scale
        base = (
            f":root {{ --ws: {s:g}; --wsh: {head_factor(s):g}; --wsv: {value_factor(s):g}; --wsf: {head_factor(s):g}; "
            f"--jw-head-h: {self.head_vh:.2f}vh; --jw-kpi-h: {self.kpi_vh:.2f}vh; --jw-kpi-cols: {self.kpi_cols}; "
            f"--jw-main-h: {self.main_vh:.2f}vh; --jw-foot-h: {self.foot_vh:.2f}vh; --jw-map-h: {self.map_vh:.2f}vh; }}"
        )
        if self.kpi_cols >= KPI_TILES:
            return base
        wide_map = self.map_vh + self.wide_main_vh - self.main_vh
        return base + (
            f"\n@media (min-aspect-ratio: 3/1) {{ :root {{ --jw-kpi-h: {self.wide_kpi_vh:.2f}vh; --jw-kpi-cols: {KPI_TILES}; "
            f"--jw-main-h: {self.wide_main_vh:.2f}vh; --jw-map-h: {wide_map:.2f}vh; }} }}"
        )


def kpi_row_vh(s: float) -> float:
    """One row of KPI tiles: padding, label, figure and two small lines."""
    return max(KPI_ROW_MIN_VH, KPI_PAD + KPI_LABEL * s + KPI_VALUE * value_factor(s) + KPI_SMALL * head_factor(s))


def kpi_columns(s: float) -> int:
    """Eight tiles in a row up to scale 1.2 (a 16:9 screen); four in two rows above:
    at 1.5 a figure such as 84.4% needs more than an eighth of 1920 px."""
    return KPI_TILES if s < 1.25 else 4


def fit(room_vh: float, per_row_vh: float, at_most: int, s: float = 2.0) -> int:
    """Rows of ``per_row_vh`` that fit ``room_vh`` (with SAFETY), at most ``at_most``,
    at least 1; ``at_most`` itself at scale 1 and below."""
    if s <= 1:
        return at_most
    return max(1, min(at_most, math.floor(room_vh * SAFETY / per_row_vh)))


def layout(s: float, *, list_rows: int = 7, patrol_rows: int = 14, table_rows: int = 4, category_rows: int = 8) -> Layout:
    """The wall at type scale ``s`` (0.5–3). The keyword arguments are the budgets
    at scale 1 and below (measured: tests/test_wall_browser.py); a larger scale
    gets as many rows as fit, never more than these."""
    head = HEAD_VH * max(1.0, head_factor(s))
    cols = kpi_columns(s)
    rows = -(-KPI_TILES // cols)
    row = kpi_row_vh(s)
    kpi = rows * row + (rows - 1) * GAP_VH
    foot = FOOT_VH if s <= 1 else max(15.0, FOOT_VH - 5 * (s - 1))
    main = REGIONS_VH - head - kpi - foot
    title = TITLE * s
    foot_line = FOOT_LINE * s
    item = ITEM_TEXT * s + ITEM_PAD
    trow = TABLE_ROW * s
    return Layout(
        scale=s,
        head_vh=head,
        kpi_cols=cols,
        kpi_rows=rows,
        kpi_vh=kpi,
        foot_vh=foot,
        main_vh=main,
        map_vh=main - title - 1.8,  # 50vh at scale 1
        list_rows=fit(main - title - foot_line, item, list_rows, s),
        # panel padding, title, the table's header row and the footer line
        patrol_rows=fit(main - PANEL_PAD - title - trow - foot_line, trow, patrol_rows, s),
        # in the foot strip's type (``head_factor``): panel padding, title, the header row
        table_rows=fit(foot - PANEL_PAD - TITLE * head_factor(s) - TABLE_ROW * head_factor(s), TABLE_ROW * head_factor(s), table_rows, s),
        category_rows=fit(main - PANEL_PAD - title - 1.6 * 1.4 * s - trow, trow, category_rows, s),
        card_rows=fit(main - title, CARD[0] + CARD[1] * s + CARD[2] * value_factor(s) + CARD[3] * head_factor(s) + GAP_VH, 3, s),
        wide_kpi_vh=row,
        wide_main_vh=REGIONS_VH - head - row - foot,
    )

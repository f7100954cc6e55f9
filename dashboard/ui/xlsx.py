"""Excel workbooks of desk tables (openpyxl), built on the server: no Streamlit here.

``assessment_workbook`` writes the monthly assessment sheet (量化考核表): one sheet per
community, each with a title row (the station and the month), a line of definitions,
the Chinese headers, the workers' rows as the screen shows them (names masked) and a
line for the signatures, ready to print on A4 landscape.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

FONT_NAME = "宋体"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
SHEET_MAX = 31  # Excel's limit on a sheet name
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name for ``name`` (no []:*?/\\, at most 31 characters)."""
    base = _SHEET_BAD.sub("_", str(name)).strip().strip("'") or "工作表"
    out, i = base[:SHEET_MAX], 2
    while out in taken:
        suffix = f"({i})"
        out, i = base[: SHEET_MAX - len(suffix)] + suffix, i + 1
    taken.add(out)
    return out


def _cell(v):
    """A frame's value as an Excel cell value (NaN and NA become empty)."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        return v.item()
    return v


def assessment_workbook(
    title: str,
    sheets: Sequence[tuple[str, pd.DataFrame]],
    notes: Sequence[str] = (),
    made_at: datetime | None = None,
    percent_columns: Sequence[str] = (),
) -> bytes:
    """The workbook as bytes: one sheet per (name, frame) of ``sheets``.

    Each sheet: row 1 ``title`` and the sheet's name (merged over the columns, bold),
    then one row per note, the headers (the frame's column names, Chinese), the rows,
    and a last line 制表时间 / 审核人（签字）. ``percent_columns`` are shown as 0.0%.
    ``made_at`` is the local time the sheet was made (shown as given)."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for name, frame in sheets or [("无数据", pd.DataFrame())]:
        ws = wb.create_sheet(sheet_name(name, taken))
        width = max(1, len(frame.columns))
        ws.cell(row=1, column=1, value=f"{title} · {name}").font = Font(name=FONT_NAME, size=16, bold=True)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
        ws.row_dimensions[1].height = 30
        r = 2
        for note in notes:
            c = ws.cell(row=r, column=1, value=note)
            c.font = Font(name=FONT_NAME, size=10)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
            ws.row_dimensions[r].height = 15 * max(1, len(note) // max(20, 6 * width) + 1)
            r += 1
        head = r
        for j, col in enumerate(frame.columns, start=1):
            c = ws.cell(row=head, column=j, value=str(col))
            c.font = Font(name=FONT_NAME, bold=True)
            c.fill = _HEAD_FILL
            c.border = _BOX
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        pct = {j for j, col in enumerate(frame.columns, start=1) if col in set(percent_columns)}
        for i, row in enumerate(frame.itertuples(index=False), start=head + 1):
            for j, v in enumerate(row, start=1):
                c = ws.cell(row=i, column=j, value=_cell(v))
                c.font = Font(name=FONT_NAME)
                c.border = _BOX
                if j in pct:
                    c.number_format = "0.0%"
        last = head + len(frame) + 2
        made = f"制表时间：{made_at:%Y-%m-%d %H:%M}" if made_at else "制表时间："
        ws.cell(row=last, column=1, value=f"{made}        制表人（签字）：              审核人（签字）：").font = Font(name=FONT_NAME)
        for j, col in enumerate(frame.columns, start=1):
            longest = max([len(str(col))] + [len(str(_cell(v) or "")) for v in frame.iloc[:, j - 1]]) if len(frame) else len(str(col))
            ws.column_dimensions[get_column_letter(j)].width = min(30, max(6, 2 * longest + 2))
        ws.freeze_panes = ws.cell(row=head + 1, column=1)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{head}:{head}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

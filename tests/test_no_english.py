"""No English on the screen (issue 12), the parts no other browser test opens: one
item's detail view per page that has one, walked in a real browser for Latin
words (tests/zh.py says what counts), and one table's header hovered and
clicked: no English menu or toolbar appears. Every desk page (tests/test_browser.py)
and every wall view (tests/test_wall_browser.py) is walked by the test that
opens it already, so no page is loaded twice for this.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.browser import Browser
from tests.zh import english, english_on

pytestmark = [pytest.mark.browser]


def test_the_word_check_itself():
    assert english([["text", "九成用时 12分钟 · WLT-C01-G02 · 面积（km²） · 下载 CSV · 下载 PDF · 下载可打印 HTML · 下载 Excel · 8930e1d8c2fffff"]]) == []
    assert english([["text", "Download as CSV"]]) and english([["aria-label", "Sort ascending"]])
    assert english([["text", "巡逻h"]]) and english([["text", "P90"]])  # a word glued to Chinese counts


def _urls(world) -> list[str]:
    """One item's detail view on each page that has one."""
    with world.connect() as c:
        task = c.execute(text("SELECT min(id) FROM tasks")).scalar()
        report = c.execute(text("SELECT min(r.id) FROM reports r JOIN tasks t ON t.report_id = r.id")).scalar()
        dispute = c.execute(text("SELECT min(dispute_id) FROM mediation_steps")).scalar()
        grid = c.execute(text("SELECT code FROM grids ORDER BY id LIMIT 1")).scalar()
    return [f"grid?grid={grid}", f"dispatch?task={task}", f"reports?report={report}", f"disputes?dispute={dispute}"]


def _open(b: Browser, url: str) -> None:
    b.page.goto(url)
    b.page.wait_for_selector(".jw-header", timeout=60_000)
    b.drawn()


def test_no_english_on_any_detail_view(server, chromium, world):
    b = Browser(chromium)
    found = {}
    try:
        for url in _urls(world):
            _open(b, f"{server}/{url}")
            assert b.page.locator('[data-testid="stException"]').count() == 0, url
            b.page.mouse.move(1, 1)  # hover nothing
            if bad := english_on(b.page):
                found[url] = bad
    finally:
        b.close()
    assert not found, "\n".join(f"{u}:\n  " + "\n  ".join(v) for u, v in found.items())


def test_no_english_menu_on_a_table(server, chromium):
    """Hover a table, its header and the header's menu corner, then click the
    header: Streamlit's toolbar and column menu stay hidden, nothing English shows
    (without style.css the hover alone shows Download as CSV, Search, Fullscreen,
    Show/hide columns). Then our own 下载 CSV gives the rows with Chinese headers."""
    b = Browser(chromium)
    try:
        _open(b, f"{server}/dispatch")
        grid = b.page.locator('[data-testid="stDataFrame"]').first
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        assert box
        b.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        b.page.wait_for_timeout(500)
        for x in (box["x"] + 60, box["x"] + box["width"] / 3 - 12):  # a header cell and its menu corner
            b.page.mouse.move(x, box["y"] + 16)
            b.page.wait_for_timeout(500)
            assert english_on(b.page) == []
            b.page.mouse.click(x, box["y"] + 16)
            b.page.wait_for_timeout(800)
            assert english_on(b.page) == []
            for testid in ("stElementToolbar", "stDataFrameColumnMenu"):
                menus = b.page.locator(f'[data-testid="{testid}"]')
                assert all(not menus.nth(i).is_visible() for i in range(menus.count())), testid
            b.page.keyboard.press("Escape")
        # our own 下载 CSV: BOM, the screen's Chinese headers (本周超期 first, then the queue)
        for i, (head, name) in enumerate((("社区,网格,超期,本周到期,最久超期", "超期任务按网格.csv"), ("编号,状态,时限,反馈期限,承办", "未办结任务.csv"))):
            with b.page.expect_download(timeout=30_000) as dl:
                b.page.get_by_role("button", name="下载 CSV").nth(i).click()
            with open(dl.value.path(), "rb") as fh:
                data = fh.read()
            assert data.startswith(b"\xef\xbb\xbf")
            assert data.decode("utf-8-sig").splitlines()[0].startswith(head)
            assert dl.value.suggested_filename == name
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()

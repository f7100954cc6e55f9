"""No English on the screen (issue 12): every desk page of the demo world, every wall view, and one
item's detail view per page that has one, are walked in a real browser for Latin
words in what a person can see: visible text nodes (HTML and plotly's SVG) and
the title / aria-label / placeholder / alt attributes of visible elements. Then
one table's header is hovered and clicked: no English menu or toolbar appears.

Allowed (``ALLOWED`` and ``CODE``, kept small on purpose): units and terms the
station uses as they are (km², CSV, GPS, H3), and codes (WLT-C01-G02, H3 cell
ids). Material icons are drawn from their English ligature names
(``:material/dashboard:``): the font shows a picture, not the word, so those
spans are skipped. Text drawn inside a canvas (the table cells, the map) is not
in the DOM; the table cells show our own Chinese frames, and ``ui.table``
draws missing values as "—" instead of Streamlit's "None".
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from dashboard.ui import nav
from dashboard.wall import rotation
from tests.browser import Browser

pytestmark = [pytest.mark.browser]

ALLOWED = {"km", "CSV", "GPS", "H3"}
CODE = re.compile(r"^(?:[A-Z]{2,}(?:-[A-Z0-9]+)+|[0-9a-f]{15})$")  # WLT-C01-G02; an H3 cell id
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
LATIN = re.compile(r"[A-Za-z]{2,}")  # the brief's definition of a word; single letters are caught too (below)

# Everything a person sees on the page, as (where, text) pairs.
WALK_JS = """
() => {
  const seen = (el) => el && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
      && el.getClientRects().length > 0;
  const skip = (el) => el.closest('script, style, noscript, [data-testid="stIconMaterial"]');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const t = n.nodeValue.trim();
    if (!t || !el || skip(el) || !seen(el)) continue;
    out.push(["text <" + el.tagName.toLowerCase() + (el.dataset.testid ? " " + el.dataset.testid : "") + ">", t]);
  }
  for (const el of document.body.querySelectorAll("[title], [aria-label], [placeholder], [alt]")) {
    if (skip(el) || !seen(el)) continue;
    for (const a of ["title", "aria-label", "placeholder", "alt"]) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push([a + " of <" + el.tagName.toLowerCase() + ">", v.trim()]);
    }
  }
  return out;
}
"""


def _foreign(token: str) -> bool:
    """A word of two Latin letters or more, or a letter in a short form (P90, 巡逻h)."""
    if token in ALLOWED or CODE.match(token):
        return False
    return bool(LATIN.search(token) or re.search(r"[A-Za-z]", token))


def english(pairs: list[list[str]]) -> list[str]:
    """The (where, text) pairs holding a Latin word that is neither allowed nor a code."""
    bad = []
    for where, value in pairs:
        words = [t for t in TOKEN.findall(value) if _foreign(t)]
        if words:
            bad.append(f"{where}: {words} in {value[:120]!r}")
    return bad


def test_the_word_check_itself():
    assert english([["text", "九成用时 12分钟 · WLT-C01-G02 · 面积（km²） · 下载 CSV · 8930e1d8c2fffff"]]) == []
    assert english([["text", "Download as CSV"]]) and english([["aria-label", "Sort ascending"]])
    assert english([["text", "巡逻h"]]) and english([["text", "P90"]])  # a word glued to Chinese counts


def _urls(world) -> list[str]:
    """Every desk page, then one item's detail view where a page has one."""
    with world.connect() as c:
        task = c.execute(text("SELECT min(id) FROM tasks")).scalar()
        report = c.execute(text("SELECT min(r.id) FROM reports r JOIN tasks t ON t.report_id = r.id")).scalar()
        dispute = c.execute(text("SELECT min(dispute_id) FROM mediation_steps")).scalar()
        grid = c.execute(text("SELECT code FROM grids ORDER BY id LIMIT 1")).scalar()
    urls = [p.url_path for p in nav.PAGES]
    return urls + [f"grid?grid={grid}", f"dispatch?task={task}", f"reports?report={report}", f"disputes?dispute={dispute}"]


def _open(b: Browser, url: str) -> None:
    b.page.goto(url)
    b.page.wait_for_selector(".jw-header", timeout=60_000)
    b.settle()
    b.page.wait_for_timeout(1000)  # plotly and deck.gl draw after the script settles
    b.settle()


def test_no_english_on_any_desk_page(server, chromium, world):
    b = Browser(chromium)
    found = {}
    try:
        for url in _urls(world):
            _open(b, f"{server}/{url}")
            assert b.page.locator('[data-testid="stException"]').count() == 0, url
            b.page.mouse.move(1, 1)  # hover nothing
            if bad := english(b.page.evaluate(WALK_JS)):
                found[url] = bad
    finally:
        b.close()
    assert not found, "\n".join(f"{u}:\n  " + "\n  ".join(v) for u, v in found.items())


def test_no_english_on_any_wall_view(server, chromium):
    """Every view of the LED wall, as an unattended screen shows it."""
    b = Browser(chromium)
    found = {}
    try:
        for view in rotation.VIEWS:
            url = f"{server}/wall?view={view}"
            b.page.goto(url)
            b.page.wait_for_selector(f'[data-view="{view}"]', timeout=60_000)
            b.settle()
            b.page.wait_for_timeout(1000)
            b.settle()
            assert b.page.locator('[data-testid="stException"]').count() == 0, url
            if bad := english(b.page.evaluate(WALK_JS)):
                found[view] = bad
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
            assert english(b.page.evaluate(WALK_JS)) == []
            b.page.mouse.click(x, box["y"] + 16)
            b.page.wait_for_timeout(800)
            assert english(b.page.evaluate(WALK_JS)) == []
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

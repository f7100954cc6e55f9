"""What counts as English on the screen, for the browser tests (issue 12).

A page is walked for Latin words in what a person can see: visible text nodes
(HTML and plotly's SVG) and the title / aria-label / placeholder / alt
attributes of visible elements. Allowed (``ALLOWED`` and ``CODE``, kept small on
purpose): units and terms the station uses as they are (km², GPS, H3, and the
file formats a download button names: CSV, PDF, HTML, Excel), and codes
(WLT-C01-G02, H3 cell ids). Material icons are drawn from their English
ligature names (``:material/dashboard:``): the font shows a picture, not the
word, so those spans are skipped. Text drawn inside a canvas (the table cells,
the map) is not in the DOM; the table cells show our own Chinese frames, and
``ui.table`` draws missing values as "—" instead of Streamlit's "None".
"""

from __future__ import annotations

import re

ALLOWED = {"km", "CSV", "PDF", "HTML", "Excel", "GPS", "H3"}
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


def english_on(page) -> list[str]:
    """The Latin words a person sees on ``page`` (a Playwright page) now."""
    return english(page.evaluate(WALK_JS))

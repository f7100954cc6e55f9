"""领导汇报's three files, downloaded in a real browser as a person would: each
button makes its file on the server when pressed (the PDF through kaleido on
the machine's chromium and WeasyPrint), and what arrives is a PDF, an Excel
workbook and a self-contained printable HTML page with every chart drawn.
Nothing leaves the machine. The page itself at 1920×1080: tests/test_browser.py."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tests.browser import Browser

pytestmark = pytest.mark.browser

NAME = "领导汇报_五里亭派出所_全辖区_2026-10-01_2026-10-31"
# a URL from another host in an attribute or a CSS url() of the document
REMOTE = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)\s*(?:https?:)?//""", re.I)
SVG_URI = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def _download(b: Browser, label: str) -> tuple[str, bytes]:
    # :visible: Streamlit keeps a hidden copy of each button, for measuring
    button = b.page.locator('[data-testid="stDownloadButton"] button:visible', has_text=label)
    assert button.count() == 1, label
    with b.page.expect_download(timeout=60_000) as info:
        button.click()
    d = info.value
    assert d.failure() is None, (label, d.failure())
    return d.suggested_filename, Path(d.path()).read_bytes()


def test_the_three_files_download(server, chromium):
    b = Browser(chromium)
    try:
        b.page.goto(f"{server}/briefing?period=last_month")
        for sel in (".jw-brief-summary", ".js-plotly-plot", '[data-testid="stDataFrame"]', ".jw-brief-map img"):
            b.page.wait_for_selector(sel, timeout=60_000)
        b.drawn()

        name, pdf = _download(b, "下载 PDF")
        assert name == f"{NAME}.pdf"
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000, len(pdf)

        name, xlsx = _download(b, "下载 Excel")
        assert name == f"{NAME}.xlsx"
        assert xlsx.startswith(b"PK")

        name, raw = _download(b, "下载可打印 HTML")
        assert name == f"{NAME}.html"
        doc = raw.decode("utf-8")
        assert doc.startswith("<!doctype html>") and "共接报警情" in doc
        assert "图表未能生成" not in doc  # the charts were drawn, not replaced by words
        svgs = [base64.b64decode(s).decode("utf-8") for s in SVG_URI.findall(doc)]
        assert len(svgs) == 6  # five charts and the map
        for text in (doc, *svgs):
            assert not REMOTE.search(text), REMOTE.search(text)

        assert b.page.locator('[data-testid="stException"]').count() == 0
        b.screenshot("page-briefing-downloads")
        assert b.external == [], b.external
        assert b.console_errors == [], b.console_errors
    finally:
        b.close()

"""Helpers for browser tests: a fresh Streamlit server and headless Debian chromium.

One chromium per test session (the ``chromium`` fixture in tests/conftest.py,
``launched_chromium`` here); each test opens its own context and page in it
(``Browser``), so nothing a test leaves (cookies, storage, open pages) reaches
the next one."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_chromium() -> None:
    """Skip with a reason where chromium or playwright is absent, except under CI=true."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    try:
        import playwright  # noqa: F401, PLC0415 - optional: the test skips with a reason without playwright
    except ImportError:
        missing.append("the playwright package (pip install -e '.[test]')")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail("browser tests must run under CI=true but these are missing: " + "; ".join(missing))
        pytest.skip("browser test needs " + "; ".join(missing))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """The dashboard (``python -m dashboard.serve``) as a child process on ``port``
    (a free one by default). ``stop(kill=True)`` ends it with SIGKILL, as a crash
    would; ``start()`` again brings a new server up on the same port."""

    def __init__(self, env: dict[str, str], port: int | None = None):
        self.env = env
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log: str | None = None

    def start(self, timeout: float = 60) -> str:
        log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
        self.log = log.name
        cmd = [
            sys.executable, "-m", "dashboard.serve",
            "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return self.base
            except OSError:
                time.sleep(0.2)
        self.stop(kill=True)
        raise RuntimeError("streamlit did not start: " + Path(self.log).read_text(errors="replace")[-2000:])

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@contextmanager
def streamlit_server(env: dict[str, str], port: int | None = None):
    """Start the dashboard on ``port`` (a free one by default); yield its base URL."""
    server = StreamlitServer(env, port)
    try:
        yield server.start()
    finally:
        server.stop()


def is_benign_console(msg: str, url: str) -> bool:
    """Streamlit's own base-path probes on deep links (404 for <page>/_stcore/health, host-config)."""
    return "_stcore/health" in url or "_stcore/host-config" in url or (
        "404" in msg and ("_stcore/health" in msg or "_stcore/host-config" in msg)
    )


@contextmanager
def launched_chromium():
    """Playwright and one headless Debian chromium, closed at the end."""
    require_chromium()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional: a browser test skips with a reason without playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# True once the script is idle, the fonts are in, every visible plotly chart has drawn
# its SVG and every visible deck.gl canvas has its container's width (deck.gl starts
# at the default 300x150 and sizes the canvas on its first frame).
DRAWN = """() => {
  if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')) return false;
  const shown = el => el.offsetParent !== null && el.getBoundingClientRect().width > 0;
  for (const c of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (shown(c) && !c.querySelector('.main-svg')) return false;
  for (const d of document.querySelectorAll('[data-testid="stDeckGlJsonChart"]')) {
    if (!shown(d)) continue;
    const c = d.querySelector('canvas');
    if (!c || c.getBoundingClientRect().width < 0.9 * d.getBoundingClientRect().width) return false;
  }
  return document.fonts.status === 'loaded';
}"""


class Browser:
    """A fresh context and page in the session's ``chromium`` that records console
    errors and off-machine requests; ``context`` options (``http_credentials``,
    ``extra_http_headers``, ...) go to ``new_context``."""

    def __init__(self, chromium, width: int = 1920, height: int = 1080, scale: float = 1.0, **context):
        self.ctx = chromium.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale, **context)
        self.page = self.ctx.new_page()
        self.external: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("request", self._on_request)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self.console_errors.append(f"pageerror: {e}"))

    def _on_request(self, req) -> None:
        host = urlparse(req.url).hostname
        if req.url.startswith(("data:", "blob:")):
            return
        if host not in LOCAL_HOSTS:
            self.external.append(req.url)

    def _on_console(self, msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if not is_benign_console(msg.text, url):
            self.console_errors.append(f"{msg.text} @ {url}")

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the script has stopped running for a second and a half."""
        self.page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
        end, quiet = time.monotonic() + timeout, None
        while time.monotonic() < end:
            busy = self.page.locator('[data-testid="stStatusWidget"]').count() + self.page.locator('[data-testid="stSkeleton"]').count()
            if busy:
                quiet = None
            elif quiet is None:
                quiet = time.monotonic()
            elif time.monotonic() - quiet > 1.5:
                return
            time.sleep(0.25)
        raise TimeoutError("page did not settle")

    def drawn(self, timeout: float = 60.0) -> None:
        """Settle, then wait until the charts and maps on screen have drawn (``DRAWN``)."""
        self.settle(timeout)
        self.page.wait_for_function(DRAWN, timeout=timeout * 1000, polling=100)

    def map_drawn(self, canvas=None, timeout: float = 30.0) -> None:
        """Wait until a deck.gl canvas (the first on the page by default) shows something
        and has stopped changing: two screenshots 300 ms apart alike and not one colour.
        A WebGL canvas keeps no pixels for script to read, so the screen is looked at."""
        canvas = canvas if canvas is not None else self.page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
        end, last = time.monotonic() + timeout, None
        while time.monotonic() < end:
            shot = self._visible_clip(canvas)
            if shot is not None and shot == last and any(lo != hi for lo, hi in Image.open(io.BytesIO(shot)).getextrema()):
                return
            last = shot
            time.sleep(0.3)
        raise TimeoutError("the map did not finish drawing")

    def _visible_clip(self, element) -> bytes | None:
        """A screenshot of the part of ``element`` inside the viewport (None if none is),
        taken as a clip of the page: no wait for the element to hold still."""
        box, vp = element.bounding_box(), self.page.viewport_size
        if not box:
            return None
        x0, y0 = max(box["x"], 0), max(box["y"], 0)
        x1, y1 = min(box["x"] + box["width"], vp["width"]), min(box["y"] + box["height"], vp["height"])
        if x1 - x0 < 1 or y1 - y0 < 1:
            return None
        return self.page.screenshot(clip={"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0})

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.ctx.close()

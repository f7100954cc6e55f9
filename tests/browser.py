"""Helpers for browser tests: a fresh Streamlit server and headless Debian chromium."""

from __future__ import annotations

import os
import shutil
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
        import playwright  # noqa: F401
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


@contextmanager
def streamlit_server(env: dict[str, str]):
    """Start the dashboard (``python -m dashboard.serve``) on a free port; yield its base URL."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    cmd = [
        sys.executable, "-m", "dashboard.serve",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("streamlit did not start: " + Path(log.name).read_text(errors="replace")[-2000:])
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def is_benign_console(msg: str, url: str) -> bool:
    """Streamlit's own base-path probes on deep links (404 for <page>/_stcore/health, host-config)."""
    return "_stcore/health" in url or "_stcore/host-config" in url or (
        "404" in msg and ("_stcore/health" in msg or "_stcore/host-config" in msg)
    )


class Browser:
    """One headless chromium page that records console errors and off-machine requests."""

    def __init__(self, pw, width: int = 1920, height: int = 1080, scale: float = 1.0):
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        self.ctx = pw.chromium.launch_persistent_context(
            self.profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height}, device_scale_factor=scale,
        )
        self.page = self.ctx.pages[0] if self.ctx.pages else self.ctx.new_page()
        self.external: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("request", self._on_request)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self.console_errors.append(f"pageerror: {e}"))

    def _on_request(self, req) -> None:  # noqa: ANN001
        host = urlparse(req.url).hostname
        if req.url.startswith(("data:", "blob:")):
            return
        if host not in LOCAL_HOSTS:
            self.external.append(req.url)

    def _on_console(self, msg) -> None:  # noqa: ANN001
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

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.ctx.close()
        shutil.rmtree(self.profile, ignore_errors=True)

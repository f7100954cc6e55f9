"""Trusted-header sign-in behind a real nginx (Debian's package) on loopback.

nginx runs the README's own ``location`` block (read from README.md, so the
documentation and the test cannot drift apart) behind HTTP basic auth, which
sets ``$remote_user``; Streamlit runs with DASHBOARD_AUTH=header on
127.0.0.1 and DASHBOARD_PROXY_SECRET. In headless Chromium:

* a registered user signs in at nginx and sees the dashboard under their name;
* a client that sends its own ``X-Remote-User`` still is who nginx says;
* a user nginx knows but the dashboard does not is refused, in Chinese;
* no credentials: nginx answers 401, nothing of the dashboard is served;
* straight to Streamlit's port, bypassing nginx, with a forged header: refused
  (the proxy's secret is missing).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dashboard.db.database import make_writer
from dashboard.ui import frame
from dashboard.writers import users
from queries import accounts
from tests.browser import ROOT, Browser, free_port, require_chromium, streamlit_server
from tests.conftest import FIXTURE_END, audit_url

pytestmark = [pytest.mark.backend, pytest.mark.browser]

SECRET = "test-proxy-secret-0123456789"
PASSWORD = "pw-for-tests"


def readme_nginx_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert m, "README.md lost its nginx snippet"
    return m.group(1)


def _htpasswd(path: Path, names: list[str]) -> None:
    digest = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    path.write_text("".join(f"{n}:{{SHA}}{digest}\n" for n in names))


@pytest.fixture(scope="module")
def accounts_for_nginx(world_url):
    admin = make_writer(world_url)
    have = set(accounts.accounts(admin)["username"])
    if "n_commander" not in have:
        users.add(admin, "n_commander", "commander", name="王指挥")
    if "n_leader" not in have:
        users.add(admin, "n_leader", "leader", name="赵所长")
    admin.dispose()
    frame._account.clear()


@pytest.fixture(scope="module")
def stack(world_reader_url, accounts_for_nginx, tmp_path_factory):
    """Streamlit (header mode) behind nginx; yields (nginx base URL, streamlit base URL)."""
    require_chromium()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing under CI=true (apt-get install nginx)")
        pytest.skip("needs Debian's nginx (apt-get install nginx)")
    env = {
        "DATABASE_URL": world_reader_url,
        "DASHBOARD_NOW": FIXTURE_END.isoformat(),
        "DASHBOARD_AUTH": "header",
        "DASHBOARD_PROXY_SECRET": SECRET,
    }
    if (a := audit_url(world_reader_url)) is not None:
        env["DASHBOARD_AUDIT_URL"] = a
    with streamlit_server(env) as app:
        app_port = int(app.rsplit(":", 1)[1])
        d = tmp_path_factory.mktemp("nginx")
        for sub in ("logs", "tmp"):
            (d / sub).mkdir()
        _htpasswd(d / "htpasswd", ["n_commander", "n_leader", "n_stranger"])
        block = readme_nginx_block().replace("127.0.0.1:8501", f"127.0.0.1:{app_port}")
        block = block.replace("change-me-to-a-long-random-string", SECRET)
        port = free_port()
        user = "user root;\n" if os.geteuid() == 0 else ""
        (d / "nginx.conf").write_text(
            f"""{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {d}/logs/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        auth_basic "jwrh";
        auth_basic_user_file {d}/htpasswd;
{block}
    }}
}}
"""
        )
        proc = subprocess.Popen([nginx, "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"], stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(50):
                try:
                    urllib.request.urlopen(base + "/_stcore/health", timeout=1)
                except urllib.error.HTTPError as err:
                    if err.code == 401:
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("nginx did not start: " + (d / "logs" / "error.log").read_text(errors="replace"))
            yield base, app
        finally:
            proc.terminate()
            proc.wait(10)



def _browser(chromium, user: str | None, headers: dict[str, str] | None = None) -> Browser:
    return Browser(
        chromium,
        http_credentials={"username": user, "password": PASSWORD} if user else None,
        extra_http_headers=headers or None,
    )


def _text(b: Browser) -> str:
    return b.page.locator('[data-testid="stApp"]').inner_text()


def test_signed_in_user_sees_the_dashboard_under_their_name(stack, chromium):
    base, _ = stack
    b = _browser(chromium, "n_commander")
    try:
        b.page.goto(f"{base}/overview")
        b.page.wait_for_selector(".jw-kpi", timeout=60_000)
        b.settle()
        body = _text(b)
        assert "王指挥（指挥员）" in body and "今日警情" in body
        assert "未启用登录" not in body
        assert b.page.locator('[data-testid="stException"]').count() == 0
        b.screenshot("auth-nginx-signed-in")
    finally:
        b.close()


def test_a_forged_identity_header_is_overwritten_by_nginx(stack, chromium):
    base, _ = stack
    b = _browser(chromium, "n_commander", {"X-Remote-User": "n_leader"})
    try:
        b.page.goto(f"{base}/overview")
        b.page.wait_for_selector(".jw-who", timeout=60_000)
        b.settle()
        who = b.page.locator(".jw-who").inner_text()
        assert who == "王指挥（指挥员）", who
    finally:
        b.close()


def test_a_user_unknown_to_the_dashboard_is_refused(stack, chromium):
    base, _ = stack
    b = _browser(chromium, "n_stranger")
    try:
        b.page.goto(f"{base}/overview")
        b.page.get_by_text("未在看板登记").wait_for(timeout=60_000)
        b.settle()
        assert "今日警情" not in _text(b)
        b.screenshot("auth-nginx-refused")
    finally:
        b.close()


def test_without_credentials_nginx_serves_nothing(stack):
    base, _ = stack
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{base}/overview", timeout=5)
    assert err.value.code == 401


def test_bypassing_nginx_with_a_forged_header_is_refused(stack, chromium):
    _, app = stack
    b = _browser(chromium, None, {"X-Remote-User": "n_leader"})
    try:
        b.page.goto(f"{app}/overview")
        b.page.get_by_text("统一入口").wait_for(timeout=60_000)
        b.settle()
        assert "今日警情" not in _text(b) and "赵所长" not in _text(b)
    finally:
        b.close()

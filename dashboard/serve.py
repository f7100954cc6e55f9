"""Start the dashboard: ``python -m dashboard.serve [streamlit options]``.

The same as ``streamlit run streamlit_app.py`` with one difference that
matters for deep links. Streamlit decides once per process whether an app
"uses the pages directory" (legacy multipage mode) by checking that ``pages/``
exists; until a session has run ``st.navigation`` it runs the very first
request through a legacy page list, which cannot know ``/overview`` and shows
a "Page not found" toast (with a console error) although the right page then
renders. Our ``pages/`` holds only subfolders for ``st.navigation``, so we
state that up front, in the same process as the server, before it starts.

``--simulate X`` (ours, not Streamlit's) also starts the live simulator
(``python -m dashboard.simulate --wait --speed X``) beside the server and stops
it when the server stops, so the demo wall is alive out of the box.

The script is named by its absolute path, and Streamlit reads the
``.streamlit/config.toml`` beside the main script (after the one in the working
directory, which it overrides), so the repo's settings (dark theme, minimal
toolbar, ``client.showErrorDetails = "none"``: no tracebacks in the browser)
apply from any working directory (``tests/test_injection.py`` checks it).
"""

from __future__ import annotations

import os
import subprocess
import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from dashboard.config import PROJECT_ROOT, load_settings
from dashboard.db.database import ReaderCanWrite, make_reader
from dashboard.db.health import check_database


def main(argv: list[str] | None = None) -> None:
    PagesManager.uses_pages_directory = False
    args = list(sys.argv[1:] if argv is None else argv)
    speed, args = _take_simulate(args)
    _refuse_a_writable_reader()
    args = _listen_for_the_proxy(args)
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "streamlit_app.py"), *args]
    sim = None
    if speed is not None:
        sim = subprocess.Popen([sys.executable, "-m", "dashboard.simulate", "--wait", "--speed", speed], cwd=PROJECT_ROOT)
    try:
        cli.main()
    finally:
        if sim is not None:
            sim.terminate()
            try:
                sim.wait(5)
            except subprocess.TimeoutExpired:
                sim.kill()


def _refuse_a_writable_reader() -> None:
    """Exit before starting when DATABASE_URL's role could write (see
    ``database.reader_write_powers``). A database that is down or empty does
    not stop the start: the pages say so and come up when it is usable."""

    try:
        settings = load_settings()
    except SystemExit:
        return  # the pages show the bad setting in Chinese
    engine = make_reader(settings)
    try:
        health = check_database(engine, settings)
    finally:
        engine.dispose()
    if isinstance(health.error, ReaderCanWrite):
        sys.exit(f"error: {health.error.en}")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _listen_for_the_proxy(args: list[str]) -> list[str]:
    """In DASHBOARD_AUTH=header mode the identity header is trusted, so only the
    proxy may reach Streamlit: listen on 127.0.0.1 unless told otherwise, and
    refuse another address without DASHBOARD_PROXY_SECRET (then every request
    must carry the proxy's secret, see dashboard.auth)."""

    try:
        settings = load_settings()
    except SystemExit:
        return args
    if settings.auth_mode != "header":
        return args
    address = os.environ.get("STREAMLIT_SERVER_ADDRESS")
    for i, a in enumerate(args):
        if a == "--server.address" and i + 1 < len(args):
            address = args[i + 1]
        elif a.startswith("--server.address="):
            address = a.split("=", 1)[1]
    if address is None:
        return [*args, "--server.address", "127.0.0.1"]
    if address.strip("[]") not in LOOPBACK and settings.proxy_secret is None:
        sys.exit(
            f"error: DASHBOARD_AUTH=header trusts the {settings.auth_header} header, so Streamlit must listen on 127.0.0.1 "
            f"behind the proxy; to listen on {address} set DASHBOARD_PROXY_SECRET (the proxy sends it in X-Jwrh-Proxy-Secret)"
        )
    return args


def _take_simulate(args: list[str]) -> tuple[str | None, list[str]]:
    """Split ``--simulate X`` / ``--simulate=X`` off the Streamlit arguments."""
    rest, speed, i = [], None, 0
    while i < len(args):
        a = args[i]
        if a == "--simulate":
            if i + 1 >= len(args):
                sys.exit("error: --simulate needs a speed, e.g. --simulate 30")
            speed, i = args[i + 1], i + 2
            continue
        if a.startswith("--simulate="):
            speed = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    if speed is not None:
        try:
            if float(speed) <= 0:
                raise ValueError
        except ValueError:
            sys.exit(f"error: --simulate wants a positive speed, not {speed!r}")
    return speed, rest


if __name__ == "__main__":
    main()

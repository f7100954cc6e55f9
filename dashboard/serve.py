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

import subprocess
import sys

from dashboard.config import PROJECT_ROOT


def main(argv: list[str] | None = None) -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    args = list(sys.argv[1:] if argv is None else argv)
    speed, args = _take_simulate(args)
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

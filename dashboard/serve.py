"""Start the dashboard: ``python -m dashboard.serve [streamlit options]``.

The same as ``streamlit run streamlit_app.py`` with one difference that
matters for deep links. Streamlit decides once per process whether an app
"uses the pages directory" (legacy multipage mode) by checking that ``pages/``
exists; until a session has run ``st.navigation`` it runs the very first
request through a legacy page list, which cannot know ``/overview`` and shows
a "Page not found" toast (with a console error) although the right page then
renders. Our ``pages/`` holds only subfolders for ``st.navigation``, so we
state that up front, in the same process as the server, before it starts.
"""

from __future__ import annotations

import sys

from dashboard.config import PROJECT_ROOT


def main(argv: list[str] | None = None) -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "streamlit_app.py"), *args]
    cli.main()


if __name__ == "__main__":
    main()

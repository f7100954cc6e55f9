"""Shared AppTest helpers: open one page of the app with URL parameters."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def open_page(page: str | None, params: dict[str, str] | None = None) -> AppTest:
    """Run the app with ``params`` in the URL on ``page`` (a path such as
    "pages/desk/reports.py"; None = the default route) and return the AppTest."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    if page is not None:
        at.switch_page(page)
    return at.run()


def html_text(at: AppTest) -> str:
    """All text the run produced, including st.html blocks."""
    parts = []
    for node in at.main:
        parts.append(_walk(node))
    return "\n".join(parts)


def _walk(node) -> str:
    out = []
    proto = getattr(node, "proto", None)
    if proto is not None:
        for attr in ("body", "value", "label"):
            v = getattr(proto, attr, None)
            if isinstance(v, str):
                out.append(v)
    for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
        out.append(_walk(child))
    return "\n".join(out)

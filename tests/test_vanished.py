"""The embedded SQLite file disappears (or is emptied) while the dashboard runs:
every page says 数据源中断 and nothing is written at that path; a new demo is
written only on a path that never held a database, or after an explicit click."""

from __future__ import annotations

import os

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.db import database
from tests.apptest import APP, html_text

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    path = tmp_path / "dashboard.sqlite"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DASHBOARD_SQLITE_PATH", str(path))
    monkeypatch.setenv("DASHBOARD_DEMO_MONTHS", "1")
    yield path
    database.forget_held(f"sqlite:///{path}")
    st.cache_resource.clear()
    st.cache_data.clear()


def _run(page: str | None = None) -> AppTest:
    # A fresh look at the database on every run (the health check is cached for 10 s).
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    if page:
        at.switch_page(page)
    return at.run()


def test_a_vanished_file_is_an_outage_on_desk_and_wall_and_no_demo_is_written(embedded, tmp_path):
    at = _run()
    assert not at.exception, at.exception
    assert embedded.exists() and database.held_marker(embedded).exists()
    assert "今日警情" in html_text(at)

    os.rename(embedded, tmp_path / "away.sqlite")  # a restore gone wrong
    for page in (None, "pages/desk/reports.py", "pages/wall/wall.py"):
        at = _run(page)
        assert not at.exception, at.exception
        text = html_text(at) + "\n".join(e.value for e in at.error)
        assert "数据源中断" in text, (page, text[:400])
        assert "数据库文件已不存在" in text
        assert not embedded.exists(), f"{page or 'overview'} wrote a new database over the vanished path"

    # Restored: the page comes back with the old data.
    os.replace(tmp_path / "away.sqlite", embedded)
    at = _run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "今日警情" in html_text(at) and "数据源中断" not in html_text(at)

    # Emptied instead of removed (a truncated copy): an outage too, and untouched.
    for side in ("-wal", "-shm"):
        embedded.with_name(embedded.name + side).unlink(missing_ok=True)
    embedded.write_bytes(b"")
    at = _run()
    assert not at.exception, at.exception
    assert "数据源中断" in html_text(at) and embedded.stat().st_size == 0


def test_a_new_demo_over_a_vanished_file_needs_a_confirmed_click(embedded):
    _run()
    size = embedded.stat().st_size
    embedded.unlink()
    at = _run()
    button = at.button(key="jw_new_demo")
    assert button.disabled  # not before the confirmation is ticked
    at.checkbox(key="jw_new_demo_sure").check().run()
    assert not embedded.exists()  # ticking alone writes nothing
    at.button(key="jw_new_demo").click().run()
    assert not at.exception, at.exception
    assert embedded.exists() and embedded.stat().st_size > 0.5 * size
    at = _run()
    assert "今日警情" in html_text(at) and "数据源中断" not in html_text(at)


def test_without_the_marker_a_fresh_server_treats_the_path_as_a_first_run(embedded):
    _run()
    embedded.unlink()
    database.forget_held(f"sqlite:///{embedded}")  # a new machine: no marker, a new process
    at = _run()
    assert not at.exception, at.exception
    assert embedded.exists() and "今日警情" in html_text(at)

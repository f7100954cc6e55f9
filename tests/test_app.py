"""AppTest of the app: the overview under several filters, bad URL values and
database problems. No exception anywhere; a warning where the URL was bad."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from streamlit.testing.v1 import AppTest

from dashboard.db.database import QueryTimeout, make_writer
from dashboard.ui import frame
from queries.vocabulary import vocabulary
from tests.apptest import APP, html_text, open_page
from tests.conftest import reader_url


def run(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


FILTER_SETS = [
    {},
    {"community": "WLT-C01"},
    {"grid": "WLT-C02-G01"},
    {"community": "WLT-C03", "period": "7d"},
    {"period": "today"},
    {"period": "custom", "start": "2026-11-01", "end": "2026-11-15"},
    {"cat": "盗窃,入室盗窃", "period": "quarter"},
]


@pytest.mark.parametrize("params", FILTER_SETS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
def test_overview_renders(app_env, params):
    at = run(params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [w.value for w in at.warning]
    text = html_text(at)
    for label in ("今日警情", "今日上报", "待派单", "处置中", "超期", "本月办结率", "本月化解率"):
        assert label in text
    assert "同比" in text and "环比" in text
    assert "综合指挥室" in text
    # the URL keeps the filters the run used
    for k, v in params.items():
        assert at.query_params.get(k) in (v, [v]), (k, at.query_params)


BAD = [
    ({"community": "NOPE"}, "未知的社区"),
    ({"grid": "abc"}, "未知的网格"),
    ({"start": "2025-13-45"}, "格式错误的日期"),
    ({"community": "' OR 1=1 --"}, "未知的社区"),
    ({"period": "forever"}, "未知的时段"),
    ({"community": "WLT-C01", "grid": "WLT-C02-G01"}, "不属于"),
    ({"cat": "飞碟"}, "未知的类别"),
]


@pytest.mark.parametrize("params, needle", BAD, ids=[str(p) for p, _ in BAD])
def test_bad_url_values_warn(app_env, params, needle):
    at = run(params)
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert needle in warnings, warnings
    assert "今日警情" in html_text(at)  # the page still renders with the defaults
    for k in params:
        if k in ("community", "grid", "start", "period", "cat"):
            bad_value = params[k]
            assert at.query_params.get(k) != bad_value or k == "community" and needle == "不属于"


def test_empty_period_shows_no_data_not_error(app_env):
    at = run({"start": "2001-01-01", "end": "2001-01-31"})
    assert not at.exception and not at.error
    text = html_text(at)
    assert "无警情" in text or "无数据" in text


def test_widget_change_updates_url(app_env):
    at = run()
    at.selectbox(key="jw_period").select("7d").run()
    assert not at.exception
    assert at.query_params.get("period") in ("7d", ["7d"])
    at.selectbox(key="jw_community").select(2).run()  # options are community ids; None = 全部社区
    assert not at.exception
    code = at.query_params.get("community")
    assert code in ("WLT-C02", ["WLT-C02"]), at.query_params
    # the grid list now holds only that community's grids
    grid = at.selectbox(key="jw_grid")
    assert len(grid.options) > 2 and all(o == "全部网格" or o.startswith(grid.options[1][:3]) for o in grid.options)


def test_an_error_no_part_of_the_page_caught_is_said_by_the_router(app_env, monkeypatch):
    """streamlit_app.py runs every page inside ``widgets.section``: a query that
    times out at the top of a page (outside any section of its own) gives the
    Chinese message and its retry note, not a traceback."""
    real = frame.cached

    def timing_out(ctx, fn, *args, **kw):
        if fn is vocabulary:
            raise QueryTimeout("canceling statement due to statement timeout")
        return real(ctx, fn, *args, **kw)

    monkeypatch.setattr(frame, "cached", timing_out)  # the page imports it by name on every run
    at = open_page("pages/desk/trends.py")
    assert not at.exception
    assert [e.value for e in at.error] == ["查询超时"]
    assert any("自动重试" in c.value for c in at.caption)


def test_unreachable_database_gives_message(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5999/nowhere")
    at = run()
    assert not at.exception
    assert any("数据库无法连接" in e.value for e in at.error)


@pytest.mark.backend
def test_empty_named_database_is_not_written(scratch, monkeypatch):
    url = scratch.new("appempty")
    with make_writer(url).connect():
        pass
    monkeypatch.setenv("DATABASE_URL", reader_url(url))
    at = run()
    assert not at.exception
    assert any("数据库为空" in e.value for e in at.error)

    with make_writer(url).connect() as c:
        assert inspect(c).get_table_names() == []


def test_first_run_generates_demo_data(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DASHBOARD_SQLITE_PATH", str(tmp_path / "first.sqlite"))
    monkeypatch.setenv("DASHBOARD_DEMO_MONTHS", "2")
    at = run()
    assert not at.exception, at.exception
    assert not at.error
    assert (tmp_path / "first.sqlite").exists()
    assert "今日警情" in html_text(at)


@pytest.mark.backend
@pytest.mark.parametrize(
    "page, params, needle",
    [
        ("pages/desk/warning.py", {}, 'data-headline="warning"'),
        ("pages/desk/assessment.py", {"month": "2026-10"}, 'data-headline="assessment"'),
        ("pages/desk/briefing.py", {"period": "last_month"}, "共接报警情"),
    ],
    ids=["warning", "assessment", "briefing"],
)
def test_the_analysis_pages_on_the_sessions_backend(app_env, page, params, needle):
    """预警, 量化考核 and 领导汇报 on the backend the session runs on (PostgreSQL in CI's
    second pass; their own tests, with exact figures, run in the SQLite pass)."""
    at = open_page(page, params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert needle in html_text(at)

"""The 预警 page under AppTest: on the demo world (no warning: the empty state)
and on a copy of it with an outbreak planted (9 盗窃 in 东湖社区第1网格 on 11-18,
against a baseline of 0.17 a week): the table, the map, the acknowledgement
(written to the audit trail) and the grid profile's small panel.
Exact figures: test_warning.py."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import make_url

from dashboard.db.schema import audit_log, grids, incidents
from dashboard.ui.widgets import md_escape
from tests import apptest
from tests.apptest import html_text

PAGE = "pages/desk/warning.py"
GRID = "WLT-C02-G01"


@pytest.fixture(scope="module")
def outbreak_url(world_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    u = make_url(world_url)
    if u.get_backend_name() != "sqlite":
        pytest.skip("the page tests run in the SQLite pass")
    path = tmp_path_factory.mktemp("outbreak") / "outbreak.sqlite"
    shutil.copy(u.database, path)
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        gid = conn.execute(select(grids.c.id).where(grids.c.code == GRID)).scalar_one()
        top = conn.execute(select(func.max(incidents.c.id))).scalar_one()
        like = dict(conn.execute(select(incidents).limit(1)).mappings().one())
        rows = [{**like, "id": top + 1 + i, "grid_id": gid, "category": "盗窃", "received_at": datetime(2026, 11, 18, 2, 0) + timedelta(minutes=10 * i)} for i in range(9)]
        conn.execute(insert(incidents), rows)
    eng.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def outbreak_env(app_env, outbreak_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", outbreak_url)
    return outbreak_url


def test_demo_world_shows_the_empty_state(app_env):
    at = apptest.open_page(PAGE, {})
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    text = html_text(at)
    assert '预警 <b data-kpi="预警">0</b> 项' in text and "本次共检验 1,520 项（40 个网格" in text
    assert "无数据" in text and "没有网格的警情或上报明显高于其自身基线" in text
    assert not at.dataframe


def test_outbreak_is_listed_mapped_and_acknowledged(outbreak_env):
    at = apptest.open_page(PAGE, {})
    assert not at.exception, at.exception
    assert not at.error and not at.warning
    text = html_text(at)
    assert '预警 <b data-kpi="预警">1</b> 项' in text
    table = at.dataframe[0].value
    assert list(table["网格"]) == ["东湖社区第1网格"] and list(table["状态"]) == ["待确认"]
    assert table.iloc[0]["原因"].startswith("东湖社区第1网格 盗窃 本周 9 起，基线 0.2 起，p<0.001")
    assert len(at.get("deck_gl_json_chart")) == 1
    # acknowledge with a note: refused without one, then written to the audit trail
    def submit() -> None:
        buttons = [b for b in at.get("button") if getattr(b, "label", "") == "确认"]
        assert buttons, "the form's 确认 button"
        buttons[0].click()
        at.run()

    submit()
    assert [w.value for w in at.warning] == ["请填写处置说明后再确认。"]
    at.text_area(key="warning-ack-note").input("已通知社区民警加强巡逻")
    submit()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [md_escape("已确认：" + table.iloc[0]["原因"] + "（已记入审计日志）")]
    assert list(at.dataframe[0].value["状态"]) == ["已确认（刚刚）"]
    eng = create_engine(outbreak_env)
    with eng.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.action == "warning_ack")).mappings().one()
    eng.dispose()
    assert row["object_type"] == "warning" and row["detail"] == "已通知社区民警加强巡逻" and row["object_id"].endswith(":week:盗窃")
    assert Path(make_url(outbreak_env).database).exists()


def test_other_community_has_none_and_grid_profile_shows_its_warning(outbreak_env):
    at = apptest.open_page(PAGE, {"community": "WLT-C01"})
    assert not at.exception, at.exception
    assert '预警 <b data-kpi="预警">0</b> 项' in html_text(at)
    at = apptest.open_page("pages/desk/grid.py", {"grid": GRID})
    assert not at.exception, at.exception
    text = html_text(at)
    assert 'data-warnings="1"' in text and "东湖社区第1网格 盗窃 本周 9 起" in text

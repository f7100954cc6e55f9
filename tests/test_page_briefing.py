"""The 领导汇报 page under AppTest on the demo world: 上月 for the station (summary,
tiles, charts, tables, the three download buttons), 上周 for one community (the
title names it) and a bad period in the URL (the frame's warning). The files
themselves are made when a button is pressed: tests/test_briefing_browser.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import make_url

from dashboard.ui.widgets import md_escape
from tests import apptest
from tests.apptest import html_text

PAGE = "pages/desk/briefing.py"
TILE = re.compile(r'<div class="jw-kpi(?: alarm)?" data-kpi=')
SUMMARY = re.compile(r'<div class="jw-brief-summary">(.*?)</div>', re.S)


@pytest.fixture(autouse=True)
def _sqlite_only(world_url: str) -> None:
    if make_url(world_url).get_backend_name() != "sqlite":
        pytest.skip("the page tests run in the SQLite pass")


def _open(params: dict[str, str]):
    at = apptest.open_page(PAGE, params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_last_month_for_the_station(app_env):
    at = _open({"period": "last_month"})
    assert not at.warning, [w.value for w in at.warning]
    text = html_text(at)
    summary = SUMMARY.search(text)
    assert summary, "the summary paragraph"
    assert "上月 · 2026-10，全辖区共接报警情 " in summary.group(1)
    assert "五里亭派出所领导汇报 · 全辖区 · 上月 · 2026-10</div>" in text
    assert "2026年10月01日 至 2026年10月31日" in text
    rows = [h.proto.body for h in at.get("html") if h.proto.body.startswith('<div class="jw-kpi-row"')]
    assert len(rows) == 1 and len(TILE.findall(rows[0])) == 8
    assert len(at.get("plotly_chart")) == 5
    # categories, loop by department and by community, disputes, patrol shifts; the
    # demo world raises no warning, so that table is the empty state
    assert len(at.dataframe) == 5 and all(not df.value.empty for df in at.dataframe)
    assert "网格预警（当前）：无" in text
    # 当前超期 by unit adds up to the 超期 tile, the officers' tasks in one row with theirs
    overdue = int(re.search(r'data-kpi="超期"><div class="jw-kpi-label">超期</div><div class="jw-kpi-value">([0-9,]+)<', rows[0]).group(1))
    by_unit, by_community = at.dataframe[1].value, at.dataframe[2].value
    assert by_unit["承办单位"].is_unique and (by_unit["承办单位"] == "社区民警").sum() == 1
    assert by_unit["当前超期（件）"].astype(int).sum() == overdue == by_community["当前超期（件）"].astype(int).sum()
    officers = by_unit[by_unit["承办单位"] == "社区民警"].iloc[0]
    assert int(officers["派单（件）"]) > 0 and int(officers["当前超期（件）"]) > 0
    assert '<div class="jw-brief-map"><img alt="网格警情密度" src="data:image/svg+xml;base64,' in text
    assert [b.proto.label for b in at.get("download_button")] == ["下载 PDF", "下载可打印 HTML", "下载 Excel"]


def test_last_week_for_a_community_names_it(app_env, cat):
    name = cat.by_code("community", "WLT-C02").name
    at = _open({"period": "last_week", "community": "WLT-C02"})
    assert not at.warning, [w.value for w in at.warning]
    text = html_text(at)
    assert f"五里亭派出所领导汇报 · {name} · 上周 · 11-09 至 11-15</div>" in text
    assert f"上周 · 11-09 至 11-15，{name}共接报警情 " in SUMMARY.search(text).group(1)
    assert len(at.get("download_button")) == 3


def test_a_bad_period_in_the_url_is_a_warning(app_env):
    at = _open({"period": "nonsense"})
    assert [w.value for w in at.warning] == [md_escape("已忽略未知的时段 period=nonsense，显示近30天")]
    assert "共接报警情" in SUMMARY.search(html_text(at)).group(1)

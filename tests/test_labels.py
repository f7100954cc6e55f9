"""One label, one figure: every 办结率/化解率/按时反馈率/满意率 label on the desk and the
wall names its window (本月办结率, 近30天办结率, 所选时段化解率…), and the tiles say what
their 同比/环比 compare with. The labels are collected from the pages run in AppTest."""

from __future__ import annotations

import html
import re

import pytest

from dashboard.filters import PERIODS
from tests.apptest import html_text, open_page

RATES = ("办结率", "化解率", "按时反馈率", "满意率")
WINDOWS = tuple(PERIODS.values()) + ("所选时段",)
# tile labels, panel titles and the wall's titles (the text before any inner element)
LABEL = re.compile(r'class="(?:jw-kpi-label|jw-panel-title[^"]*|jw-w-kpi-label|jw-w-card-label|jw-w-title)"[^>]*>([^<]*)<')

DESK = ["overview", "dispatch", "disputes", "reports", "patrol", "trends"]
PERIOD_PARAMS = [{}, {"period": "month"}, {"period": "7d"}, {"period": "custom", "start": "2026-11-03", "end": "2026-11-12"}]


def labels(text: str) -> list[str]:
    return [html.unescape(m).strip() for m in LABEL.findall(text)]


def bare(found: list[str]) -> list[str]:
    """Labels that name a rate but no window."""
    return [x for x in found if any(r in x for r in RATES) and not any(w in x for w in WINDOWS)]


def test_bare_is_caught():
    assert bare(["办结率", "按社区 · 按时反馈率与办结率", "今日警情"]) == ["办结率", "按社区 · 按时反馈率与办结率"]
    assert bare(["本月办结率", "近30天按时反馈率", "所选时段化解率"]) == []


@pytest.mark.parametrize("params", PERIOD_PARAMS, ids=lambda p: p.get("period", "default"))
def test_no_desk_rate_label_without_its_window(app_env, params):
    seen = []
    for page in DESK:
        at = open_page(f"pages/desk/{page}.py", params)
        assert not at.exception, (page, at.exception)
        found = labels(html_text(at))
        assert found, page
        assert not bare(found), (page, bare(found))
        seen += found
    rates = [x for x in seen if any(r in x for r in RATES)]
    assert len(rates) >= 5, rates  # the pages do show rates: the check is not vacuous


@pytest.mark.parametrize("view", ["overview", "dispatch", "disputes"])
def test_no_wall_rate_label_without_its_window(app_env, view):
    at = open_page("pages/wall/wall.py", {"view": view})
    assert not at.exception, at.exception
    found = labels(html_text(at))
    assert [x for x in found if any(r in x for r in RATES)], found
    assert not bare(found), bare(found)


def test_overview_tiles_say_what_they_compare_and_the_month_span(app_env):
    text = html_text(open_page("pages/desk/overview.py"))
    assert 'title="同比：对比 去年同日同一时刻"' in text and 'title="环比：对比 昨日同一时刻"' in text
    assert 'title="同比：对比 去年同月同期"' in text and 'title="环比：对比 上月同期"' in text
    assert "本月 20 天 · 对比 去年同月同期 / 上月同期" in text


def test_trends_tiles_name_the_period_basis(app_env):
    text = html_text(open_page("pages/desk/trends.py", {"period": "7d"}))
    assert 'title="环比：对比 上一等长时段（前7天）"' in text and 'title="同比：对比 去年同期"' in text


def test_dispatch_labels_differ_by_window(app_env):
    text = html_text(open_page("pages/desk/dispatch.py"))
    assert "近30天办结率" in labels(text) and "本月办结率" in labels(html_text(open_page("pages/desk/overview.py")))

"""The 量化考核 page under AppTest, on the hand-built world with its October workers
(tests/handmade.py ``build_assessment``; figures computed by hand in
test_measures_assessment.py) and on the demo world; and its Excel sheet, read back
with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, select

from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import audit_log
from dashboard.ui import xlsx
from dashboard.ui.widgets import md_escape
from tests import apptest
from tests import handmade as H
from tests.apptest import html_text

PAGE = "pages/desk/assessment.py"


@pytest.fixture(scope="module")
def assess_url(scratch) -> str:
    url = scratch.new("pageassess")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    H.build_assessment(writer)
    writer.dispose()
    return url


@pytest.fixture(scope="module")
def bare_url(scratch) -> str:
    """The hand-built world without grid workers."""
    url = scratch.new("pagebare")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    writer.dispose()
    return url


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DASHBOARD_NOW", H.NOW.isoformat())


def _clean(at) -> str:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return html_text(at)


def test_october_by_hand(assess_url, monkeypatch):
    _env(monkeypatch, assess_url)
    at = apptest.open_page(PAGE, {})
    text = _clean(at)
    assert not at.warning
    assert "全辖区” · 2026年10月：网格力量 <b data-kpi=\"人数\">6</b> 人" in text
    assert "采集基础信息 <b>418</b> 条" in text and "上报隐患 <b>6</b> 件" in text and "重复上报 <b>3</b> 件" in text
    assert "不予受理 <b>1</b> 件" in text and "按时反馈率 <b>60.0%</b>（3/5）" in text
    view = at.dataframe[0].value
    assert list(view["社区"]) == ["甲社区"] * 3 + ["乙社区"] * 3
    assert list(view["排名"]) == ["1/3", "2/3", "3/3", "1/3", "2/3", "2/3"]
    assert list(view["姓名"]) == ["李*", "王**", "赵*", "孙*", "周*", "吴*"]  # masked
    assert list(view["得分"]) == [30.0, 16.6, 0.0, 6.0, 0.1, 0.1]
    assert list(view["按时反馈率"]) == ["—", "50.0%", "—", "100.0%", "—", "—"]
    assert list(view["实有人口"]) == [400, 2, 0, 0, 0, 0]
    assert len(at.get("plotly_chart")) == 1
    assert at.selectbox(key="jw_assess_month").value == "2026-10"


def test_month_from_the_url_and_a_bad_one(assess_url, monkeypatch):
    _env(monkeypatch, assess_url)
    at = apptest.open_page(PAGE, {"month": "2026-09"})
    text = _clean(at)
    assert "2026年09月：网格力量 <b data-kpi=\"人数\">5</b> 人" in text
    at = apptest.open_page(PAGE, {"month": "2026-13", "community": "TST-C02"})
    assert not at.exception
    assert [w.value for w in at.warning] == [f"已忽略无效的月份 month={md_escape('2026-13')}（可选近 12 个整月），显示上月"]
    assert list(at.dataframe[0].value["姓名"]) == ["孙*", "周*", "吴*"]


def test_the_empty_state(bare_url, monkeypatch):
    _env(monkeypatch, bare_url)
    at = apptest.open_page(PAGE, {})
    text = _clean(at)
    assert "无数据" in text and "没有网格力量" in text
    assert not at.dataframe


def test_demo_world_renders(app_env):
    at = apptest.open_page(PAGE, {"community": "WLT-C01"})
    text = _clean(at)
    assert 'data-headline="assessment"' in text and "2026年10月" in text
    assert "所选月份无此类记录" in text  # the demo world closes no task it did not dispatch
    view = at.dataframe[0].value
    assert set(view["社区"]) == {view["社区"].iloc[0]} and len(view) > 10
    assert view["排名"].iloc[0] == f"1/{len(view)}"
    assert len(at.get("plotly_chart")) == 1


def test_the_workbook_reads_back():
    a = pd.DataFrame({"排名": ["1/2", "2/2"], "姓名": ["李*", "王**"], "得分": [30.0, 16.6], "按时反馈率": [None, 0.5]})
    b = pd.DataFrame({"排名": ["1/1"], "姓名": ["孙*"], "得分": [6.0], "按时反馈率": [1.0]})
    data = xlsx.assessment_workbook(
        "测试派出所 网格力量量化考核表（2026年10月）", [("甲社区", a), ("乙/社区:2", b)], notes=["口径说明"],
        made_at=datetime(2026, 11, 20, 14, 30), percent_columns=["按时反馈率"],
    )
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["甲社区", "乙_社区_2"]
    ws = wb["甲社区"]
    assert ws["A1"].value == "测试派出所 网格力量量化考核表（2026年10月） · 甲社区" and ws["A1"].font.b
    assert ws["A2"].value == "口径说明"
    assert [c.value for c in ws[3]] == ["排名", "姓名", "得分", "按时反馈率"]
    assert [c.value for c in ws[4]] == ["1/2", "李*", 30.0, None]
    assert [c.value for c in ws[5]] == ["2/2", "王**", 16.6, 0.5] and ws["D5"].number_format == "0.0%"
    assert ws["A7"].value.startswith("制表时间：2026-11-20 14:30")
    assert ws.page_setup.orientation == "landscape" and ws.freeze_panes == "A4"
    assert wb["乙_社区_2"]["B4"].value == "孙*"
    assert xlsx.sheet_name("x" * 40, {"x" * 31}) == "x" * 28 + "(2)"


def test_the_page_offers_the_workbook(assess_url, monkeypatch):
    _env(monkeypatch, assess_url)
    at = apptest.open_page(PAGE, {})
    _clean(at)
    buttons = at.get("download_button")
    assert len(buttons) == 2  # the table's CSV and the sheet


def test_the_sheet_is_unmasked_only_through_the_audit_trail(assess_url, monkeypatch):
    _env(monkeypatch, assess_url)
    at = apptest.open_page(PAGE, {})
    assert "李红" not in set(at.dataframe[0].value["姓名"])
    at = next(b for b in at.button if b.label == "显示明文").click().run()
    assert not at.exception
    assert list(at.dataframe[0].value["姓名"]) == ["李红", "王小明", "赵一", "孙三", "周四", "吴五"]
    eng = create_engine(assess_url)
    with eng.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.action == "unmask")).mappings().one()
    eng.dispose()
    assert (row["object_type"], row["object_id"]) == ("assessment", "2026-10")

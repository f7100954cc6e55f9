"""widgets.table's own controls (sort, search, CSV) without a browser."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.ui import widgets


def _view() -> pd.DataFrame:
    return pd.DataFrame({"name": ["乙", "甲", "丙"], "时限": ["2天", "3小时", "45分"], "n": [2, None, 1]})


CFG = {"name": st.column_config.TextColumn("网格"), "n": st.column_config.NumberColumn("件数")}


def test_sort_options_are_chinese_and_use_the_headers():
    opts = widgets.sort_options(_view(), CFG)
    assert opts[0] == "默认顺序"
    assert "按网格降序" in opts and "按件数升序" in opts and "按时限降序" in opts
    assert not any("name" in o for o in opts)


def test_sort_by_key_and_missing_last():
    v = _view()
    out = widgets._sorted(v, "按时限升序", CFG, {"时限": [2880, 180, 45]})
    assert list(out["时限"]) == ["45分", "3小时", "2天"]
    assert list(out.index) == [2, 1, 0]  # labels stay positions in the frame passed in
    assert list(widgets._sorted(v, "按件数降序", CFG, None)["n"].fillna(-1)) == [2, 1, -1]
    assert widgets._sorted(v, "默认顺序", CFG, None) is v


def test_sort_keys_after_search():
    v = _view()
    hit = widgets.search_rows(v, "天")
    assert list(hit.index) == [0]
    out = widgets._sorted(widgets.search_rows(v, "分"), "按时限降序", CFG, {"时限": [2880, 180, 45]})
    assert list(out.index) == [2]


def test_search_is_case_insensitive_and_blank_keeps_all():
    v = pd.DataFrame({"a": ["WLT-C01-G02", "x"]})
    assert len(widgets.search_rows(v, "  ")) == 2
    assert list(widgets.search_rows(v, "wlt-c01").index) == [0]


def test_csv_has_bom_and_the_screen_headers():
    data = widgets.csv_bytes(_view(), CFG)
    assert data.startswith(b"\xef\xbb\xbf")
    head = data.decode("utf-8-sig").splitlines()[0]
    assert head == "网格,时限,件数"

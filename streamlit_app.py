"""警网融合指挥大屏: the router. Page config, the shared frame and filter bar, the page list."""

import streamlit as st

from dashboard import frame, ui

st.set_page_config(page_title="警网融合指挥大屏", page_icon="🚓", layout="wide", initial_sidebar_state="collapsed")
ui.load_css()

OVERVIEW = st.Page("pages/desk/overview.py", title="总览", icon="📊", url_path="overview")
HOME = st.Page("pages/desk/home.py", title="首页", url_path="home", default=True)
page = st.navigation([HOME, OVERVIEW], position="hidden")
if page.url_path == HOME.url_path:
    # "/" is not a page of its own: every view has one URL, so go to the overview, filters kept.
    st.switch_page(OVERVIEW, query_params=st.query_params.to_dict())
frame.start()
page.run()

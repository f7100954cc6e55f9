"""警网融合指挥大屏: the router. Page config, the shared frame and filter bar, the page list."""

import streamlit as st

from dashboard import frame, ui

st.set_page_config(page_title="警网融合指挥大屏", page_icon="🚓", layout="wide", initial_sidebar_state="collapsed")
ui.load_css()

PAGES = [
    st.Page("pages/desk/overview.py", title="总览", icon="📊", url_path="overview", default=True),
]
page = st.navigation(PAGES, position="hidden")
frame.start()
page.run()

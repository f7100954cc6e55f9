"""警网融合指挥大屏: the router. Page config, the shared frame and filter bar, the page list."""

import streamlit as st

from dashboard import frame, nav, ui

st.set_page_config(page_title="警网融合指挥大屏", page_icon="🚓", layout="wide", initial_sidebar_state="collapsed")
ui.load_css()

HOME = st.Page(nav.HOME.path, title=nav.HOME.title, url_path=nav.HOME.url_path, default=True)
PAGES = {p.key: st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in nav.PAGES}
page = st.navigation([HOME, *PAGES.values()], position="hidden")
if page.url_path == HOME.url_path:
    # "/" is not a page of its own: every view has one URL, so go to the overview, filters kept.
    st.switch_page(PAGES["overview"], query_params=st.query_params.to_dict())
frame.start(page.url_path)
page.run()

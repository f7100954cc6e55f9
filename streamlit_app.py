"""警网融合指挥大屏: the router. Page config, the shared frame and filter bar, the page list."""

import streamlit as st

from dashboard.config import configure_logging
from dashboard.ui import frame, nav, widgets

configure_logging()

st.set_page_config(page_title="警网融合指挥大屏", page_icon="🚓", layout="wide", initial_sidebar_state="collapsed")
widgets.load_css()
widgets.load_script(widgets.ZH_JS)  # Streamlit's own English words (aria-labels, placeholders) in Chinese

HOME = st.Page(nav.HOME.path, title=nav.HOME.title, url_path=nav.HOME.url_path, default=True)
PAGES = {p.key: st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in nav.PAGES}
AUDIT = st.Page(nav.AUDIT.path, title=nav.AUDIT.title, icon=nav.AUDIT.icon, url_path=nav.AUDIT.url_path)
WALL = st.Page(nav.WALL.path, title=nav.WALL.title, icon=nav.WALL.icon, url_path=nav.WALL.url_path)
page = st.navigation([HOME, *PAGES.values(), AUDIT, WALL], position="hidden")
if page.url_path == HOME.url_path:
    # "/" is not a page of its own: every view has one URL, so go to the overview
    # (or to the LED wall with "?wall=1"), filters kept.
    params = st.query_params.to_dict()
    if params.pop("wall", None) not in (None, "", "0"):
        st.switch_page(WALL, query_params={**params, frame.VIA: "home"})
    st.switch_page(PAGES["overview"], query_params=params)
if page.url_path == WALL.url_path:
    frame.start_wall(page.url_path)
else:
    frame.start(page.url_path)
with widgets.section():  # a data-source error no part of the page caught: said in Chinese, retried, never a traceback
    page.run()

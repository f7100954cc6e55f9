"""The root URL "/": the router sends it on to the overview (see streamlit_app.py)."""

import streamlit as st

st.switch_page("pages/desk/overview.py", query_params=st.query_params.to_dict())

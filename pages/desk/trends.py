"""Placeholder until the page is written (issue 4)."""

import streamlit as st

from dashboard import ui
from dashboard.frame import context

ctx = context()
ui.empty_state("本页面正在建设中")

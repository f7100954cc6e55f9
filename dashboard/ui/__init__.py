"""The Streamlit room shared by the desk pages and the wall: the frame (engines
per server, the filter bar, drill-downs, outage pages, sign-in), page pieces,
formatting, maps, plots, the live-tile thread pool and the retry fragments.

Reads through ``queries``; never imports a writer (but the first-run demo).
"""

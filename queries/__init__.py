"""The query layer: the only place where SQL is written.

One module per area (places, reports, dispatch, incidents, patrol, disputes)
plus the package ``measures``, where each measure the screens show is defined
exactly once (one submodule per area, listed in its docstring), and ``kpi``,
the desk pages' tile.
Every function takes an engine and a frozen ``Filters`` and returns a
DataFrame or a small dataclass; its docstring states the grain and columns.
Nothing here imports Streamlit.
"""

"""Every measure the screens show (办结率, 按时反馈率, 化解率, 满意率, 到场时间, 同比/环比, patrol coverage…), each defined exactly once, one submodule per area.

Import the submodule you use (``from queries.measures import loop``); this
package re-exports nothing.

* ``arithmetic``: Ratio, change (同比/环比's formula), point_change, the
  Poisson test (poisson_p_value, significant), Compared and ``comparison``.
  No SQL.
* ``windows``: the 同比/环比 windows and the coverage rule: Periods,
  periods/periods_of, last_year_window, previous_window, base_complete,
  FeedStarts/feed_starts, and their words (basis_texts, span_note, period_name,
  window_days).
* ``parts``: SQL pieces several areas share ("had happened by", the
  nearest-rank quantile).
* ``loop``: the dispatch loop (派单闭环): 按时反馈率, 办结率, 超期, 处置时长,
  回访率, tasks' 满意率, and their versions by unit or community.
* ``mediation``: disputes: 化解率, disputes' 满意率 (by group too), 调处中,
  回访待办.
* ``incident_stats``: incidents: 到场时间, counts per category with 同比/环比.
* ``grid_reports``: grid reports (网格上报): 已派单占比.
* ``baseline``: the grid profile's own baseline (buckets, Poisson band, 高于基线).
* ``warning``: 预警, the early warning: windows with a guard band, Poisson and
  negative-binomial tails, the over-dispersion test, Benjamini–Hochberg, the words.
* ``hotspots``: patrol coverage (巡逻覆盖): hot pieces, 热点覆盖率, patrol minutes.
* ``assessment``: 量化考核, the grid workers' month: hazards, duplicates, 不予受理, the
  score and its weights, ranks within a community, the funnel plot's control limits.

Conventions: windows are half-open UTC intervals [start, end); "as of" means
judged at the window's end; a measure that cannot be computed is ``None``
(the screen shows "—", never ∞ or NaN).
"""

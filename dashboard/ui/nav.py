"""The page table: every page's file, title and URL, in menu order.

``streamlit_app.py`` builds ``st.Page`` objects from it; the frame draws the
menu from it and drill-downs name their target by its key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    key: str
    path: str  # relative to the project root (the folder of streamlit_app.py)
    title: str
    icon: str  # Streamlit Material Symbols name: the font ships with Streamlit, no emoji font needed
    url_path: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "pages/desk/overview.py", "总览", ":material/dashboard:", "overview"),
    PageSpec("reports", "pages/desk/reports.py", "网格上报", ":material/campaign:", "reports"),
    PageSpec("dispatch", "pages/desk/dispatch.py", "派单队列", ":material/assignment:", "dispatch"),
    PageSpec("patrol", "pages/desk/patrol.py", "巡逻覆盖", ":material/local_police:", "patrol"),
    PageSpec("trends", "pages/desk/trends.py", "警情趋势", ":material/trending_up:", "trends"),
    PageSpec("disputes", "pages/desk/disputes.py", "矛盾纠纷", ":material/handshake:", "disputes"),
    PageSpec("grid", "pages/desk/grid.py", "网格画像", ":material/grid_view:", "grid"),
    PageSpec("warning", "pages/desk/warning.py", "预警", ":material/warning:", "warning"),
    PageSpec("assessment", "pages/desk/assessment.py", "量化考核", ":material/military_tech:", "assessment"),
    PageSpec("briefing", "pages/desk/briefing.py", "领导汇报", ":material/summarize:", "briefing"),
)
BY_KEY = {p.key: p for p in PAGES}
HOME = PageSpec("home", "pages/desk/home.py", "首页", ":material/home:", "home")
# The audit trail: in the menu only for the roles that may read it (auth.Role.audit).
AUDIT = PageSpec("audit", "pages/desk/audit.py", "审计日志", ":material/policy:", "audit")
# The LED wall: a page of its own, outside the desk menu ("/?wall=1" leads here).
WALL = PageSpec("wall", "pages/wall/wall.py", "指挥大屏", ":material/tv:", "wall")

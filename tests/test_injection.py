"""Injection (issue 10): strings that are not ours reach the screen as text.

Database strings (place names, categories, dispute kinds) and URL values are
drawn through three interpreters: Streamlit's Markdown (alerts, captions,
labels), plotly's pseudo-HTML (ticks, legends, hover texts) and the pydeck
tooltip template. A small hand-built world (tests/handmade.py) whose names are
Markdown links, images and headings and plotly HTML runs every desk page; the
rendered element protos must hold the escaped forms and nothing live. Then the
URL values that used to raise a traceback, and the error-details setting.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from dashboard import timeutil
from dashboard.config import PROJECT_ROOT, load_settings
from dashboard.db.database import make_writer
from dashboard.db.migrate import upgrade
from dashboard.db.schema import communities, disputes, grids, incidents, reports
from dashboard.filters import _show
from dashboard.ui import plots, widgets
from tests import conftest
from tests import handmade as H
from tests.apptest import html_text, open_page
from tests.conftest import FIXTURE_END

pytestmark = pytest.mark.backend

# Markdown: a live link, an image the browser would fetch, a heading after a line break;
# plotly pseudo-HTML: a live link, bold, italics, a huge span, superscript, an entity
# that must stay literal. Within the schema's lengths (names 64, categories and kinds
# 16 characters: PostgreSQL enforces them).
MD_LINK = "[点](http://e.cn)"
MD_IMAGE = "![](http://e.cn/a)"
EVIL_COMMUNITY = f"甲{MD_LINK}\n# 标{MD_IMAGE}<a href=//e.cn>链</a>"
EVIL_GRID = f"甲<span style=font-size:99px>大</span><b>粗</b>{MD_LINK}"
EVIL_REPORT_CAT = "<b>治安</b>隐患"
EVIL_INCIDENT_CAT = "<i>盗窃</i>&amp;"
EVIL_KIND = "<sup>邻里</sup>纠纷"
# what must never reach the screen unescaped
LIVE_MARKDOWN = ("](http", "\n#", "![")
LIVE_PLOTLY = ("<a href", "<b>粗", "<b>治安", "<i>盗", "<sup>邻", "<span style=font-size:99px")

assert all(len(n) <= 64 for n in (EVIL_COMMUNITY, EVIL_GRID))
assert all(len(n) <= 16 for n in (EVIL_REPORT_CAT, EVIL_INCIDENT_CAT, EVIL_KIND))
assert H.NOW == FIXTURE_END  # the app's frozen clock below is the hand-built world's "now"


@pytest.fixture(scope="module")
def evil_url(scratch) -> str:
    """The hand-built world with hostile names, on the session's backend."""
    url = scratch.new("evil")
    writer = make_writer(url)
    upgrade(writer)
    H.build(writer)
    with writer.begin() as conn:
        conn.execute(update(communities).where(communities.c.id == H.C1).values(name=EVIL_COMMUNITY))
        conn.execute(update(grids).where(grids.c.id == H.A1).values(name=EVIL_GRID))
        conn.execute(update(reports).where(reports.c.id.in_([1, 2])).values(category=EVIL_REPORT_CAT))
        conn.execute(update(incidents).where(incidents.c.category == "盗窃").values(category=EVIL_INCIDENT_CAT))
        conn.execute(update(disputes).where(disputes.c.id.in_([1, 2])).values(kind=EVIL_KIND))
    writer.dispose()
    return url


@pytest.fixture
def evil_env(evil_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # As the dashboard reads it: through conftest's read-only role where the suite has one.
    as_reader = getattr(conftest, "reader_url", lambda url: url)
    monkeypatch.setenv("DATABASE_URL", as_reader(evil_url))
    monkeypatch.setenv("DASHBOARD_NOW", H.NOW.isoformat())


def run(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = open_page(page, params or {})
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- the helpers ----------------------------------------------------------------------------


def test_md_escape_leaves_no_markdown():
    s = widgets.md_escape(EVIL_COMMUNITY + " :red[x] :material/home: :smile: $x$ www.evil.example a@b.cn `c` | t |")
    assert "\n" not in s
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", s)  # drop every escaped character
    assert not re.search(r"[!-/:-@\[-`{-~]", bare), bare  # no ASCII punctuation is left bare
    for c in ".:@":  # autolinks and :shortcodes: are broken by invisible word joiners
        assert c not in s.replace(f"{widgets.WJ}\\{c}{widgets.WJ}", "")
    assert widgets.md_escape("甲社区第1网格") == "甲社区第1网格"  # Chinese text is untouched


def test_plots_esc_is_html_escape_without_quotes():
    assert plots.esc("<a href='//e.cn'>链</a>&amp;") == "&lt;a href='//e.cn'&gt;链&lt;/a&gt;&amp;amp;"
    assert plots.esc('a"b') == 'a"b'  # plotly shows &quot; literally


# --- Markdown -----------------------------------------------------------------------------------


def assert_inert(body: str, evil: str | None = None) -> None:
    for live in LIVE_MARKDOWN:
        assert live not in body, body
    if evil is not None:
        assert widgets.md_escape(evil) in body, body


def test_place_names_in_the_filter_warning_are_escaped(evil_env):
    # "网格 <grid> 不属于 <community>": both names come from the database
    at = run("pages/desk/overview.py", {"community": "TST-C01", "grid": "TST-C02-G01"})
    (w,) = at.warning
    assert "不属于" in w.value
    assert_inert(w.value, EVIL_COMMUNITY)


@pytest.mark.parametrize("page, key", [("pages/desk/overview.py", "community"), ("pages/desk/trends.py", "period")])
@pytest.mark.parametrize("value", [MD_LINK, MD_IMAGE, "# 标题"])
def test_url_values_in_warnings_are_escaped(evil_env, page, key, value):
    (w,) = run(page, {key: value}).warning
    assert_inert(w.value, _show(value))  # the codec cuts a value to 24 characters


@pytest.mark.parametrize(
    "page, key", [("pages/desk/reports.py", "report"), ("pages/desk/dispatch.py", "task"), ("pages/desk/disputes.py", "dispute")]
)
def test_id_parameter_warnings_are_escaped(evil_env, page, key):
    at = run(page, {key: MD_IMAGE})
    assert_inert(" ".join(w.value for w in at.warning), MD_IMAGE)


def test_shift_warning_is_escaped(evil_env):
    at = run("pages/desk/patrol.py", {"shift": MD_LINK})
    assert_inert(" ".join(w.value for w in at.warning), MD_LINK)


def test_scope_in_the_no_incidents_caption_is_escaped(evil_env):
    at = run("pages/desk/overview.py", {"community": "TST-C01", "period": "today"})
    captions = [c.value for c in at.caption if "无警情" in c.value]
    assert captions, [c.value for c in at.caption]
    assert_inert(captions[0], EVIL_COMMUNITY)


# --- plotly ---------------------------------------------------------------------------------------


def figures(at: AppTest) -> dict[str, dict]:
    """Every plotly figure of the run, by its key (element ids are "$$ID-<hash>-<key>")."""
    return {re.sub(r"^\$\$ID-[0-9a-f]+-", "", el.proto.id): json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def drawn_strings(fig: dict) -> list[str]:
    """Every string plotly draws or formats: trace data and names, hover texts, layout (not customdata)."""
    out: list[str] = []

    def walk(x, key: str = "") -> None:
        if key == "customdata":
            return
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, key)

    walk(fig.get("data", []))
    walk(fig.get("layout", {}))
    return out


def assert_plotly_escaped(fig: dict, evil: str) -> None:
    texts = drawn_strings(fig)
    joined = "\n".join(texts)
    for live in LIVE_PLOTLY:
        assert live not in joined, [t for t in texts if live in t]
    assert any(plots.esc(evil) in t for t in texts), texts


def test_report_categories_are_escaped_on_the_bars(evil_env):
    figs = figures(run("pages/desk/reports.py"))
    (fig,) = [f for f in figs.values() if any(plots.esc(EVIL_REPORT_CAT) in t for t in drawn_strings(f))]
    assert_plotly_escaped(fig, EVIL_REPORT_CAT)
    assert EVIL_REPORT_CAT in fig["data"][0]["customdata"]  # a click still maps back to the stored category


def test_community_names_are_escaped_on_the_dispatch_chart(evil_env):
    figs = figures(run("pages/desk/dispatch.py"))
    fig = next(f for k, f in figs.items() if "dp-communities" in k)
    assert_plotly_escaped(fig, EVIL_COMMUNITY)
    assert H.C1 in [row[0] for row in fig["data"][0]["customdata"]]  # a click maps back to the id


def test_dispute_kinds_are_escaped_on_the_axis(evil_env):
    figs = figures(run("pages/desk/disputes.py"))
    assert_plotly_escaped(figs["disputes-kind-level"], EVIL_KIND)


def test_incident_categories_and_places_are_escaped_on_the_trend_charts(evil_env):
    figs = figures(run("pages/desk/trends.py"))
    series = figs["trends-series"]
    assert_plotly_escaped(series, EVIL_INCIDENT_CAT)
    assert plots.esc(EVIL_INCIDENT_CAT) in [t.get("name") for t in series["data"]]  # the legend
    assert all(EVIL_INCIDENT_CAT not in (t.get("hovertemplate") or "") for t in series["data"])
    cat_bar = next(f for k, f in figs.items() if "trends-cat" in k)
    assert_plotly_escaped(cat_bar, EVIL_INCIDENT_CAT)
    assert EVIL_INCIDENT_CAT in cat_bar["data"][-1]["customdata"]  # the drill-down gets the stored category
    rt_cat = next(f for k, f in figs.items() if "trends-rt-cat" in k)
    assert_plotly_escaped(rt_cat, EVIL_INCIDENT_CAT)
    rt_place = next(f for k, f in figs.items() if "trends-rt-community" in k)
    assert_plotly_escaped(rt_place, EVIL_COMMUNITY)
    assert EVIL_COMMUNITY in rt_place["data"][0]["customdata"]  # matched against the catalogue's names


# --- pydeck tooltips --------------------------------------------------------------------------


def decks(at: AppTest) -> list[tuple[dict, dict]]:
    """(spec, tooltip) of every pydeck chart of the run."""
    out = []
    for el in at.get("deck_gl_json_chart"):
        spec = json.loads(el.proto.json)
        tooltip = json.loads(el.proto.tooltip) if el.proto.tooltip else {}
        out.append((spec, tooltip))
    return out


def tooltip_records(spec: dict, template: str) -> list[dict]:
    """The records of pickable layers, with the fields the template names."""
    fields = re.findall(r"{(.*?)}", template)
    recs = []
    for layer in spec.get("layers", []):
        if layer.get("pickable") and isinstance(layer.get("data"), list):
            for rec in layer["data"]:
                recs.append({k: rec.get(k) for k in fields})
    return recs


def assert_tooltips_escaped_once(at: AppTest, names: tuple[str, ...]) -> None:
    """Streamlit 1.67 fills a tooltip's {field}s with the record's values HTML-escaped:
    the markup must be in the template, the records must hold plain text (the
    names as stored): markup in a record shows as literal tags, an escaped name
    shows as &lt;…."""
    checked = 0
    for spec, tooltip in decks(at):
        template = tooltip.get("html") if isinstance(tooltip, dict) else None
        if not template:
            continue
        assert "<b>" in template  # the template's own tags
        recs = tooltip_records(spec, template)
        assert recs and all(None not in r.values() for r in recs), template  # every field filled
        values = [str(v) for r in recs for v in r.values()]
        assert not any("&lt;" in v or "&gt;" in v for v in values), values  # not escaped by us
        assert not any(v.startswith("<b>") or "<br/>" in v for v in values), values  # no markup of ours in the data
        for name in names:
            assert name in values, (name, values)
        checked += 1
    assert checked, "no map with a tooltip"


def test_grid_ranking_map_tooltips(evil_env):
    assert_tooltips_escaped_once(run("pages/desk/grid.py"), (EVIL_GRID, EVIL_COMMUNITY))


def test_grid_profile_map_tooltips(evil_env):
    # on A2 (甲社区第2网格) the evil A1 is a neighbour, and A2's community is the evil one
    assert_tooltips_escaped_once(run("pages/desk/grid.py", {"grid": "TST-C01-G02"}), (EVIL_GRID, EVIL_COMMUNITY))


def test_overview_map_tooltips(evil_env):
    assert_tooltips_escaped_once(run("pages/desk/overview.py"), (EVIL_GRID, EVIL_COMMUNITY))


# --- URL values that raised a traceback -------------------------------------------------------

DESK = ["overview", "reports", "dispatch", "patrol", "trends", "disputes", "grid"]
TODAY = timeutil.local_today(FIXTURE_END)


@pytest.mark.parametrize("page", DESK)
@pytest.mark.parametrize("ahead", [1, 366])
def test_an_end_date_after_today_is_cut_to_today(app_env, page, ahead):
    start, end = TODAY - timedelta(days=6), TODAY + timedelta(days=ahead)
    at = open_page(f"pages/desk/{page}.py", {"start": start.isoformat(), "end": end.isoformat()})
    assert not at.exception, [e.value for e in at.exception]
    assert "晚于今天" in " ".join(w.value for w in at.warning)
    assert at.query_params.get("end") in (TODAY.isoformat(), [TODAY.isoformat()])


@pytest.mark.parametrize(
    "page, key", [("pages/desk/reports.py", "report"), ("pages/desk/dispatch.py", "task"), ("pages/desk/disputes.py", "dispute")]
)
def test_an_id_of_more_than_4300_digits_is_a_warning(app_env, page, key):
    at = open_page(page, {key: "9" * 4301})
    assert not at.exception, [e.value for e in at.exception]
    assert "已忽略无效的" in " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("rotate", ["overview:²⁰", "overview:60,dispatch:①⓪", "all:٣٠"])
def test_unicode_digits_in_rotate_are_a_warning(app_env, rotate):
    at = open_page("pages/wall/wall.py", {"rotate": rotate})
    assert not at.exception, [e.value for e in at.exception]
    assert "已忽略无效的轮播项" in html_text(at)


def test_unicode_digits_in_a_minutes_setting_are_a_clear_error():
    with pytest.raises(SystemExit, match="DASHBOARD_QUIET_REPORTS_MIN"):
        load_settings({"DASHBOARD_QUIET_REPORTS_MIN": "²"})


# --- error details ------------------------------------------------------------------------------

SHOW_OPTION = """
import streamlit.config as config
import streamlit.web.bootstrap as bootstrap
bootstrap.run = lambda *a, **k: print("OPTION", config.get_option("client.showErrorDetails"))
from dashboard import serve
serve.main([])
"""


def test_serve_runs_with_the_repos_error_details_setting(tmp_path: Path):
    """``python -m dashboard.serve`` from any working directory: Streamlit's
    effective client.showErrorDetails is the repo's "none" (no tracebacks, file
    paths or exception texts in the browser). The server itself is stubbed."""
    out = subprocess.run(
        [sys.executable, "-c", SHOW_OPTION], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "OPTION none" in out.stdout, out.stdout + out.stderr[-2000:]

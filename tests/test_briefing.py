"""领导汇报: the briefing's figures are the desk pages' (queries.briefing), and its files
(python -m dashboard.briefing: PDF, HTML, Excel) carry them.

* the headline against the tiles the desk pages show under AppTest for the same
  filters (上月, the whole station and 东湖社区), one run per page and filter;
* the command line run once (in a subprocess, started when the module starts so
  it renders while the pages run): the PDF's text (pdftotext), pages, size and
  fonts (pdfinfo, pdffonts), its first page as a PNG (pdftoppm, into
  tests/artifacts/briefing-page1.png), the HTML offline, the workbook's sheets;
* the command line's refusals (status 2, a Chinese message, no file);
* the words and the movers by hand;
* on the session's backend (the PostgreSQL pass too): the briefing's parts add up.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from PIL import Image

from dashboard import briefing as cli
from dashboard import timeutil
from dashboard.filters import Filters
from dashboard.printout import tables, words
from queries import briefing
from queries.incidents import CategoryComparison
from queries.kpi import Kpi
from queries.measures.arithmetic import Ratio, comparison
from tests import apptest
from tests.apptest import html_text
from tests.browser import ARTIFACTS
from tests.conftest import FIXTURE_END, backend_name

ROOT = Path(__file__).resolve().parent.parent
NOW = FIXTURE_END
TODAY = timeutil.local_today(NOW)
PERIOD_LABEL = "上月 · 2026-10"  # FIXTURE_END is 2026-11-20
COMMUNITY = "WLT-C02"
CASES = {"station": {}, "community": {"community": COMMUNITY}}
# page → the tiles it shows that the briefing's headline repeats (label → headline key)
PAGES = {
    "pages/desk/trends.py": {"警情总数": "incidents"},
    "pages/desk/dispatch.py": {"上月按时反馈率": "on_time", "上月办结率": "closure", "超期": "overdue"},
    "pages/desk/disputes.py": {"新发现纠纷": "found", "上月化解率": "resolution"},
    "pages/desk/patrol.py": {"热点覆盖率": "hot_coverage"},
}
POPPLER = ("pdftotext", "pdfinfo", "pdffonts", "pdftoppm")


def squeeze(text: str) -> str:
    """Text without whitespace: pdftotext -layout breaks and pads lines as the page lays them out."""
    return re.sub(r"\s+", "", text)


def tile(text: str, label: str) -> tuple[str, str | None]:
    """A tile's figure and its small detail ("1213/1285"; None without one), as the page writes them."""
    m = re.search(
        rf'data-kpi="{re.escape(html.escape(label))}">.*?<div class="jw-kpi-value">([^<]*)(?:<span class="jw-kpi-detail">([^<]*)</span>)?</div>', text
    )
    assert m, f"tile {label} not found"
    return html.unescape(m.group(1)), None if m.group(2) is None else html.unescape(m.group(2))


def tile_value(text: str, label: str) -> str:
    return tile(text, label)[0]


def sqlite_pass() -> None:
    if backend_name() != "sqlite":
        pytest.skip("the page and file tests run in the SQLite pass")


def filters_of(cat, case: str) -> Filters:
    code = CASES[case].get("community")
    cid = None if code is None else next(c.id for c in cat.communities if c.code == code)
    return Filters(community_id=cid).with_period("last_month", TODAY)


def cli_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DASHBOARD_NOW=NOW.isoformat(),
        DASHBOARD_STATION_FILE=os.devnull,
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])]),
    )
    return env


# --- module fixtures: the pages once per filter, the command line once ------------------------


@pytest.fixture(scope="module")
def cli_run(world_reader_url, tmp_path_factory):
    """The command line writing the station's 上月 briefing as .pdf, .html and .xlsx,
    started at once (it renders while the page tests run); ``cli_files`` waits for it."""
    sqlite_pass()
    out = tmp_path_factory.mktemp("briefing")
    files = {k: out / f"上月汇报.{k}" for k in ("pdf", "html", "xlsx")}
    args = [sys.executable, "-m", "dashboard.briefing", "--period", "month"]
    for p in files.values():
        args += ["--out", str(p)]
    proc = subprocess.Popen(args, cwd=ROOT, env=cli_env(world_reader_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc, files
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="module", autouse=True)
def _start_cli_early(request):
    """Start the command line before the first test of the module, where a selected test needs its files."""
    wanted = any("cli_files" in getattr(item, "fixturenames", ()) for item in request.session.items if item.module is request.module)
    if wanted and backend_name() == "sqlite":
        request.getfixturevalue("cli_run")


@pytest.fixture(scope="module")
def cli_files(cli_run):
    proc, files = cli_run
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "已写出" in stdout and PERIOD_LABEL in stdout, stdout
    return files


@pytest.fixture(scope="module")
def page_env(world_reader_url):
    sqlite_pass()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", world_reader_url)
        mp.setenv("DASHBOARD_NOW", NOW.isoformat())
        yield


@pytest.fixture(scope="module")
def pages(page_env):
    """(case, page) → the page's text under AppTest, each page run once per filter."""
    seen: dict[tuple[str, str], str] = {}

    def text(case: str, page: str) -> str:
        if (case, page) not in seen:
            at = apptest.open_page(page, {"period": "last_month", **CASES[case]})
            assert not at.exception, at.exception
            assert not at.error, [e.value for e in at.error]
            assert not at.warning, [w.value for w in at.warning]
            seen[case, page] = html_text(at)
        return seen[case, page]

    return text


@pytest.fixture(scope="module")
def tiles(pages):
    """case → label → the value the desk page's tile shows."""
    return lambda case: {label: tile_value(pages(case, page), label) for page, labels in PAGES.items() for label in labels}


@pytest.fixture(scope="module")
def briefings(world, cat):
    made: dict[str, briefing.Briefing] = {}

    def get(case: str) -> briefing.Briefing:
        if case not in made:
            made[case] = briefing.briefing(world, filters_of(cat, case), NOW)
        return made[case]

    return get


# --- the figures are the pages' ----------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_headline_equals_the_desk_tiles(pages, briefings, case):
    b = briefings(case)
    shown = {label: tile(pages(case, page), label) for page, labels in PAGES.items() for label in labels}
    want = {label: (words.value(b.kpi(key)), b.kpi(key).detail) for labels in PAGES.values() for label, key in labels.items()}
    assert want == shown
    assert b.period == PERIOD_LABEL
    assert b.place == ("东湖社区" if case == "community" else "全辖区") and b.station == "五里亭派出所"
    # the community's figures are its own, not the station's
    if case == "community":
        assert int(b.kpi("incidents").compared.value) < int(briefings("station").kpi("incidents").compared.value)


@pytest.mark.parametrize("case", list(CASES))
def test_summary_states_the_tiles(tiles, pages, briefings, case):
    b = briefings(case)
    shown = tiles(case)
    dispatch_page = pages(case, "pages/desk/dispatch.py")
    text = squeeze("".join(words.summary(b)))
    on_time = next(k for k in b.loop if k.key == "on_time")
    for needle in (
        f"{b.place}共接报警情{shown['警情总数']}起",
        f"上月按时反馈率{shown['上月按时反馈率']}（{on_time.compared.detail}）",
        f"上月办结率{shown['上月办结率']}",
        f"平均处置时长{tile_value(dispatch_page, '平均处置时长')}小时",
        f"当前超期{shown['超期']}件",
        f"新发现{shown['新发现纠纷']}起",
        f"上月化解率{shown['上月化解率']}",
    ):
        assert needle in text, (needle, text)


def test_warnings_sentence_is_the_warning_page(pages, briefings):
    """预警 is of now, whatever the period: the count and the tests the 预警 page states."""
    b = briefings("station")
    text = pages("station", "pages/desk/warning.py")
    n = len(b.warnings)
    assert f'预警 <b data-kpi="预警">{n}</b> 项' in text and f"本次共检验 {b.warning_tests:,} 项" in text
    sentence = words.warnings_sentence(b)
    assert (f"共检验 {b.warning_tests:,} 项" in sentence) if n == 0 else (f"当前 {b.warnings['grid_id'].nunique()} 个网格处于预警" in sentence)


# --- the files ---------------------------------------------------------------------------------


def require_poppler() -> None:
    missing = [p for p in POPPLER if shutil.which(p) is None]
    if missing:
        pytest.skip("needs poppler-utils (" + ", ".join(missing) + ")")


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_pdf_carries_the_pages_figures(cli_files, tiles):
    require_poppler()
    pdf = cli_files["pdf"]
    info = run("pdfinfo", str(pdf))
    pages_n = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages_n >= 2
    assert re.search(r"^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info, re.M), info
    text = run("pdftotext", "-layout", str(pdf), "-")
    flat = squeeze(text)
    assert "五里亭派出所" in text and PERIOD_LABEL in text
    # every page has its footer: 第 i 页 / 共 N 页, N the PDF's pages
    footers = [(int(i), int(n)) for i, n in re.findall(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", text)]
    assert footers == [(i, pages_n) for i in range(1, pages_n + 1)]
    # the running head on each page
    assert text.count(f"五里亭派出所 · 全辖区 · {PERIOD_LABEL}") >= pages_n
    shown = tiles("station")
    assert f"共接报警情{shown['警情总数']}起" in flat
    assert f"上月按时反馈率{shown['上月按时反馈率']}" in flat
    assert f"上月化解率{shown['上月化解率']}" in flat
    for heading in ("一、总体情况", "二、警情态势", "三、派单闭环", "四、矛盾纠纷", "五、巡逻防控", "六、网格预警与警情分布"):
        assert heading in flat
    assert "图表未能生成" not in flat, re.findall(r"图表未能生成（[^）]*）", flat)  # the charts were drawn (chromium through kaleido)


def test_pdf_embeds_the_cjk_fonts(cli_files):
    require_poppler()
    rows = run("pdffonts", str(cli_files["pdf"])).splitlines()[2:]
    assert rows
    fonts = [r.split() for r in rows]
    assert all("Noto-Sans-CJK" in f[0] for f in fonts), rows
    # columns after the name: type (several words), encoding, emb, sub, uni, object, generation
    assert all(f[-5] == "yes" for f in fonts), rows


def test_pdf_first_page_as_png(cli_files):
    require_poppler()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / "briefing-page1"
    png = stem.with_suffix(".png")
    png.unlink(missing_ok=True)
    run("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile", str(cli_files["pdf"]), str(stem))
    assert png.exists() and png.stat().st_size > 5_000
    with Image.open(png) as im:
        assert im.size[0] == pytest.approx(210 / 25.4 * 50, abs=2) and im.size[1] == pytest.approx(297 / 25.4 * 50, abs=2)
        grey = im.convert("L")
        dark = sum(grey.histogram()[:128])
    assert dark > 0.01 * im.size[0] * im.size[1]  # text and tables, not a blank page


def test_html_is_self_contained_with_the_summary(cli_files, briefings, tiles):
    doc = cli_files["html"].read_text(encoding="utf-8")
    for bad in ('src="http', "href=\"http", "url(http", "src='http", "@import"):
        assert bad not in doc
    assert "data:image/svg+xml;base64," in doc
    shown = tiles("station")
    assert f"全辖区共接报警情 {shown['警情总数']} 起" in doc
    for sentence in words.summary(briefings("station")):
        assert html.escape(sentence) in doc


def test_workbook_sheets_and_categories(cli_files, tiles):
    wb = openpyxl.load_workbook(cli_files["xlsx"], read_only=True)
    assert wb.sheetnames == ["核心指标", "警情分类", "派单闭环·按部门", "派单闭环·按社区", "矛盾纠纷·按社区", "巡逻覆盖·白班与黑班", "网格预警（当前）"]
    rows = list(wb["警情分类"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "类别")
    col = rows[head].index("本期（起）")
    body = []
    for r in rows[head + 1 :]:
        if r[0] is None:
            break
        body.append(r)
    assert len(body) >= 5 and all(isinstance(r[col], int) for r in body)
    assert f"{sum(r[col] for r in body):,}" == tiles("station")["警情总数"]
    assert PERIOD_LABEL in rows[0][0]
    core = list(wb["核心指标"].iter_rows(values_only=True))
    h = next(i for i, r in enumerate(core) if r[0] == "指标")
    values = {r[0]: r[1] for r in core[h + 1 :] if r[0]}
    assert values["上月按时反馈率"] == tiles("station")["上月按时反馈率"]
    assert values["上月化解率"] == tiles("station")["上月化解率"]
    wb.close()


# --- the command line refuses bad input ----------------------------------------------------------


@pytest.mark.parametrize(
    "args, out, message",
    [
        (["--community", "WLT-C99"], "汇报.pdf", "未知的社区"),
        ([], "汇报.doc", "无法识别的输出格式"),
        (["--period", "custom"], "汇报.pdf", "自定义时段需要 --start 和 --end"),
        (["--period", "custom", "--start", "2026-10-01"], "汇报.pdf", "自定义时段需要 --start 和 --end"),
    ],
    ids=["unknown-community", "doc", "custom-without-dates", "custom-without-end"],
)
def test_cli_refuses_bad_input(world_reader_url, tmp_path, monkeypatch, capsys, args, out, message):
    """Status 2 (``main``'s return is the process's: ``sys.exit(main())``), the reason in Chinese, no file."""
    monkeypatch.setenv("DATABASE_URL", world_reader_url)
    monkeypatch.setenv("DASHBOARD_NOW", NOW.isoformat())
    assert cli.main(["--period", "month", *args, "--out", str(tmp_path / out), "--out", str(tmp_path / "汇报.xlsx")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert list(tmp_path.iterdir()) == []


# --- the words and the movers by hand ------------------------------------------------------------


def test_change_phrase():
    assert words.change_phrase("同比", -0.2, "count", True) == "同比下降20.0%（显著）"
    assert words.change_phrase("环比", 0.125, "count", False) == "环比上升12.5%"
    assert words.change_phrase("环比", 0.012, "rate", False) == "环比上升1.2个百分点"
    assert words.change_phrase("同比", -0.0301, "rate", False) == "同比下降3.0个百分点"
    assert words.change_phrase("同比", 0.0001, "count", True) == "同比持平"
    assert words.change_phrase("同比", None, "count", True) is None
    c = comparison(8, 10, None)
    assert words.changes(c, "count") == "同比下降20.0%"
    assert words.changes(comparison(8, None, None), "count") == "无可比数据"
    # a tile's figure as the tile writes it: hours with one decimal (派单队列's 平均处置时长), counts grouped
    assert words.value(Kpi("mean_close", "平均处置时长", "hours", comparison(56.66, None, None, "level"))) == "56.7"
    assert words.value(Kpi("incidents", "警情总数", "count", comparison(1234, None, None))) == "1,234"
    assert words.value(Kpi("on_time", "按时反馈率", "rate", comparison(Ratio(47, 50), None, None, "rate"))) == "94.0%"


def _comparison(rows: dict[str, tuple[int, int, int]], yoy_complete: bool, pop_complete: bool) -> CategoryComparison:
    """category → (now, last year, previous); an incomplete base is unknown (None), as by_category_compared makes it."""
    cs = tuple((k, comparison(n, ly if yoy_complete else None, prev if pop_complete else None)) for k, (n, ly, prev) in rows.items())
    total = comparison(*(sum(v[i] for v in rows.values()) for i in range(3)))
    w = (NOW.replace(day=1), NOW)
    return CategoryComparison(cs, total, w, w, w, yoy_complete, pop_complete, None)


ROWS = {
    "盗窃": (30, 10, 28),  # 同比 +20, 环比 +2
    "诈骗": (5, 25, 9),  # 同比 −20, 环比 −4
    "纠纷": (40, 39, 30),  # 同比 +1, 环比 +10
    "求助": (12, 12, 12),  # no change either way
    "治安": (7, 9, 1),  # 同比 −2, 环比 +6
    "刑事": (3, 4, 8),  # 同比 −1, 环比 −5
    "侵财": (8, 2, 10),  # 同比 +6, 环比 −2
    "入室盗窃": (2, 3, 0),  # 同比 −1 (ties 刑事: by name), 环比 +2
}


def test_movers_by_hand():
    m = briefing.movers(_comparison(ROWS, True, True))
    assert m.basis == "yoy"
    assert list(zip(m.rose["category"], m.rose["diff"])) == [("盗窃", 20), ("侵财", 6), ("纠纷", 1)]
    assert list(zip(m.fell["category"], m.fell["diff"])) == [("诈骗", -20), ("治安", -2), ("入室盗窃", -1)]
    assert bool(m.rose.iloc[0]["yoy_sig"]) and bool(m.fell.iloc[0]["yoy_sig"])  # 30 against 10, 5 against 25
    # 同比 not covered: 环比
    m = briefing.movers(_comparison(ROWS, False, True))
    assert m.basis == "pop"
    assert list(zip(m.rose["category"], m.rose["diff"])) == [("纠纷", 10), ("治安", 6), ("入室盗窃", 2)]
    assert list(zip(m.fell["category"], m.fell["diff"])) == [("刑事", -5), ("诈骗", -4), ("侵财", -2)]
    # neither: nothing to call out
    m = briefing.movers(_comparison(ROWS, False, False))
    assert m.basis is None and m.rose.empty and m.fell.empty
    # only risers: nothing falls
    m = briefing.movers(_comparison({"盗窃": (3, 1, 1), "求助": (2, 2, 2)}, True, True))
    assert list(m.rose["category"]) == ["盗窃"] and m.fell.empty


# --- on the session's backend: the parts add up --------------------------------------------------


@pytest.mark.backend
def test_briefing_adds_up(world, cat):
    b = briefing.briefing(world, filters_of(cat, "station"), NOW)
    assert b.period == PERIOD_LABEL and b.place == "全辖区" and b.station == "五里亭派出所"
    inc = b.kpi("incidents").compared.value
    cats = b.categories.frame()
    assert inc > 0 and int(cats["n"].sum()) == inc
    assert b.movers.basis == "yoy"  # 14 months of data cover last October
    loop = {k.key: k for k in b.loop}
    closure, on_time = loop["closure"].compared.ratio, loop["on_time"].compared.ratio
    for by in (b.loop_by_department, b.loop_by_community):
        assert (int(by["created"].sum()), int(by["closed"].sum())) == (closure.denominator, closure.numerator)
        assert (int(by["due"].sum()), int(by["on_time"].sum())) == (on_time.denominator, on_time.numerator)
        assert int(by["closed_in_window"].sum()) == b.close_times.n
    overdue = b.kpi("overdue").compared.value
    assert overdue > 0
    assert int(b.overdue_by_department["overdue"].sum()) == int(b.overdue_by_community["overdue"].sum()) == overdue
    d = {k.key: k for k in b.dispute_kpis}
    dc = b.disputes_by_community
    assert len(dc) == len(cat.communities)
    assert int(dc["found"].sum()) == d["found"].compared.value
    res, sat = d["resolution"].compared.ratio, d["satisfaction"].compared.ratio
    assert (int(dc["resolved"].sum()), int(dc["closed"].sum())) == (res.numerator, res.denominator)
    assert (int(dc["satisfied"].sum()), int(dc["visits"].sum())) == (sat.numerator, sat.denominator)
    # patrol: the day and night shifts' hours add up to the whole day's
    hours = {s: next(k for k in b.patrol[s] if k.key == "patrol_hours").compared.value for s in briefing.SHIFTS}
    assert hours[None] > 0 and hours["白"] + hours["黑"] == pytest.approx(hours[None])
    assert b.kpi("hot_coverage") is next(k for k in b.patrol[None] if k.key == "hot_coverage")
    # the tables and the words are made from it without a database
    t = {x.name: x for x in tables.all_tables(b)}
    assert int(t["警情分类"].frame["本期（起）"].sum()) == inc
    assert list(t["核心指标"].frame["数值"]) == [words.value(k) for k in b.headline]
    assert int(t["派单闭环·按部门"].frame["当前超期（件）"].sum()) == overdue
    assert words.summary(b)[0].startswith(f"{PERIOD_LABEL}，全辖区共接报警情 {words.value(b.kpi('incidents'))} 起")
    # the community's briefing is its share of the station's
    c = briefing.briefing(world, filters_of(cat, "community"), NOW)
    row = dc[dc["code"] == COMMUNITY].iloc[0]
    assert c.place == "东湖社区" and c.station == "五里亭派出所"
    assert {k.key: k for k in c.dispute_kpis}["found"].compared.value == row["found"]
    com = b.loop_by_community[b.loop_by_community["key"] == int(row["place_id"])].iloc[0]
    assert next(k for k in c.loop if k.key == "closure").compared.ratio.denominator == com["created"]
    assert pd.notna(c.kpi("incidents").compared.value) and c.kpi("incidents").compared.value < inc

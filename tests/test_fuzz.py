"""Fuzzing the URL (hypothesis): whatever the address bar holds, no traceback.

(a) The codec on its own: ``filters.decode`` with arbitrary dicts of URL keys
to arbitrary values (huge, unicode digits, control characters, lists) never
raises and always returns usable Filters; ``decode(encode(f))`` gives back a
valid ``f`` without warnings.

(b) Every page through AppTest (the demo world, clock frozen): random values
for the shared filter keys and the page's own keys; the page must never show an
exception, an error with a traceback, or a warning whose text Markdown could
turn into a link or a new block. AppTest runs cost about 0.2–2 s each, so each
page gets a few random examples plus the inputs that used to raise.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dashboard import timeutil
from dashboard.db.schema import INCIDENT_CATEGORIES
from dashboard.filters import EARLIEST_DATE, PERIODS, URL_KEYS, Catalogue, Filters, Place, decode, encode
from tests.apptest import open_page
from tests.conftest import FIXTURE_END

# --- values a URL can hold ----------------------------------------------------------------

TODAY = timeutil.local_today(FIXTURE_END)
UNICODE_DIGITS = "²³¹⁰①⓪٣٠０１２３४५߀𝟘𝟙"
HOSTILE = [
    "",
    " ",
    "9" * 4301,
    "1" + "0" * 5000,
    "-1",
    "0",
    "2147483648",
    "１２",  # full-width digits
    "²⁰",
    "٣٠",
    "①",
    "nan",
    "inf",
    "-0",
    "1e400",
    "\x00",
    "a\nb",
    "\r\n# 标题",
    "\u202e逆序",
    "[点我](http://evil.example)",
    "![x](http://evil.example/a.png)",
    "<b>粗</b>",
    "' OR 1=1 --",
    "%00",
    "${x}",
    "{x}",
    (TODAY + timedelta(days=1)).isoformat(),
    (TODAY + timedelta(days=366)).isoformat(),
    (TODAY + timedelta(days=367)).isoformat(),
    "2026-02-30",
    "20261120",
    "2026-W47-5",
    "0001-01-01",
    "9999-12-31",
]


def _digits() -> st.SearchStrategy[str]:
    """Digit strings, ASCII or not, short or beyond int()'s 4,300-digit limit."""
    return st.one_of(
        st.text(alphabet="0123456789" + UNICODE_DIGITS, min_size=1, max_size=12),
        st.builds(lambda d, n: d * n, st.sampled_from(list("9" + UNICODE_DIGITS)), st.integers(4290, 4400)),
    )


def _dates() -> st.SearchStrategy[str]:
    return st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat) | st.dates(
        min_value=TODAY - timedelta(days=800), max_value=TODAY + timedelta(days=400)
    ).map(date.isoformat)


def scalar(valid: list[str] | None = None) -> st.SearchStrategy[str]:
    """One URL value: arbitrary text (control characters included), digits, dates,
    hostile strings and, when given, valid values."""
    parts = [st.text(max_size=80), st.sampled_from(HOSTILE), _digits(), _dates(), st.text(max_size=3000).map(lambda s: s * 2)]
    if valid:
        parts = [st.sampled_from(valid)] * 3 + parts
    return st.one_of(parts)


def value(valid: list[str] | None = None) -> st.SearchStrategy[object]:
    """A value as a URL gives it (a string), or as a repeated key gives it (a list)."""
    return st.one_of(scalar(valid), scalar(valid), st.lists(scalar(valid), max_size=3))


# --- (a) the codec --------------------------------------------------------------------------

CAT = Catalogue(
    stations=(Place(1, "WLT", "五里亭派出所", None), Place(2, "CY", "慈音派出所", None)),
    communities=(Place(1, "WLT-C01", "五里亭社区", 1), Place(2, "WLT-C02", "东湖社区", 1), Place(3, "CY-C01", "慈音社区", 2)),
    grids=(
        Place(1, "WLT-C01-G01", "五里亭社区第1网格", 1),
        Place(2, "WLT-C02-G01", "东湖社区第1网格", 2),
        Place(3, "CY-C01-G01", "慈音社区第1网格", 3),
        Place(4, "CY-C01-G02", "慈音社区第2网格", 3),
    ),
)
ONE_STATION = Catalogue(stations=CAT.stations[:1], communities=CAT.communities[:2], grids=CAT.grids[:2])
CODES = {
    "station": ["WLT", "CY"],
    "community": ["WLT-C01", "WLT-C02", "CY-C01"],
    "grid": ["WLT-C01-G01", "WLT-C02-G01", "CY-C01-G01"],
    "period": list(PERIODS),
    "start": [(TODAY - timedelta(days=20)).isoformat()],
    "end": [(TODAY - timedelta(days=2)).isoformat(), TODAY.isoformat()],
    "cat": ["盗窃", "盗窃,入室盗窃", "盗窃,飞碟"],
}
url_params = st.builds(
    lambda ours, others: {**others, **ours},
    st.fixed_dictionaries({}, optional={k: value(CODES[k]) for k in URL_KEYS}),
    st.dictionaries(st.text(max_size=8), value(), max_size=2),
)


def assert_valid(f: Filters, warnings: list[str], cat: Catalogue) -> None:
    assert isinstance(f, Filters)
    assert f.period in PERIODS
    assert f.start is not None and f.end is not None and EARLIEST_DATE <= f.start <= f.end <= TODAY
    if f.grid_id is not None:
        g = cat.by_id("grid", f.grid_id)
        assert g is not None and g.parent_id == f.community_id
    if f.community_id is not None:
        c = cat.by_id("community", f.community_id)
        assert c is not None and (f.station_id is None or c.parent_id == f.station_id)
    if f.station_id is not None:
        assert cat.by_id("station", f.station_id) is not None
    assert f.categories is None or (f.categories and set(f.categories) <= set(INCIDENT_CATEGORIES))
    for w in warnings:
        assert isinstance(w, str) and w
        assert not any(c in w for c in "\n\r\x00\u202e"), repr(w)  # one line, no control characters


@settings(max_examples=400, deadline=None)
@given(params=url_params, multi=st.booleans())
@example(params={"end": (TODAY + timedelta(days=1)).isoformat()}, multi=True)
@example(params={"start": (TODAY + timedelta(days=1)).isoformat()}, multi=True)
@example(params={"end": (TODAY + timedelta(days=366)).isoformat(), "period": "custom"}, multi=False)
@example(params={"community": "9" * 5000, "grid": ["²⁰", "\x00"], "cat": "盗窃,\n# 标题"}, multi=True)
def test_decode_never_raises_and_gives_valid_filters(params, multi):
    cat = CAT if multi else ONE_STATION
    f, warnings = decode(params, cat, TODAY, INCIDENT_CATEGORIES)
    assert_valid(f, warnings, cat)
    # what decode gave is a fixed point: encoding and decoding it again changes
    # nothing, except that encode leaves out the one station of a one-station
    # catalogue (``?station=WLT`` alone then reads as the whole area)
    again = f if multi or f.community_id is not None else replace(f, station_id=None)
    assert decode(encode(f, cat), cat, TODAY, INCIDENT_CATEGORIES) == (again, [])


@st.composite
def valid_filters(draw, cat: Catalogue) -> Filters:
    """Filters as the filter bar makes them: a place (its parents implied), a period, categories."""
    level = draw(st.sampled_from(["all", "station", "community", "grid"] if len(cat.stations) > 1 else ["all", "community", "grid"]))
    station = community = grid = None
    if level == "grid":
        g = draw(st.sampled_from(cat.grids))
        grid, community = g.id, g.parent_id
    elif level == "community":
        community = draw(st.sampled_from(cat.communities)).id
    elif level == "station":
        station = draw(st.sampled_from(cat.stations)).id
    if community is not None:
        station = cat.by_id("community", community).parent_id
    period = draw(st.sampled_from(list(PERIODS)))
    start = end = None
    if period == "custom":
        end = draw(st.dates(min_value=EARLIEST_DATE, max_value=TODAY))
        start = draw(st.dates(min_value=EARLIEST_DATE, max_value=end))
    cats = draw(st.lists(st.sampled_from(INCIDENT_CATEGORIES), unique=True, max_size=4))
    f = Filters(station_id=station, community_id=community, grid_id=grid, categories=tuple(cats) or None)
    return f.with_period(period, TODAY, start, end)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), multi=st.booleans())
def test_encode_decode_round_trips(data, multi):
    cat = CAT if multi else ONE_STATION
    f = data.draw(valid_filters(cat))
    assert decode(encode(f, cat), cat, TODAY, INCIDENT_CATEGORIES) == (f, [])


# --- (b) every page through AppTest ----------------------------------------------------------

PAGE_CODES = {
    "station": ["WLT"],
    "community": ["WLT-C01", "WLT-C03", "WLT-C06"],
    "grid": ["WLT-C01-G01", "WLT-C02-G03", "WLT-C06-G04"],
    "period": list(PERIODS),
    "start": [(TODAY - timedelta(days=10)).isoformat(), "2025-11-01"],
    "end": [(TODAY - timedelta(days=1)).isoformat(), TODAY.isoformat()],
    "cat": ["盗窃", "电信诈骗,纠纷"],
}
OWN = {
    "overview": {},
    "reports": {"report": ["1", "17996", "999999999"]},
    "dispatch": {"task": ["1", "16170", "999999999"]},
    "patrol": {"shift": ["all", "day", "night"]},
    "trends": {},
    "disputes": {"dispute": ["1", "1231", "999999999"]},
    "grid": {},
    "warning": {},
    "assessment": {"month": ["2026-10", "2026-13", "1999-01", "上月"]},
    "briefing": {},
    "wall": {
        "view": ["overview", "dispatch", "patrol", "disputes", "warning"],
        "rotate": ["overview:60,dispatch:30", "all:45", "overview:²⁰"],
        "scale": ["1.5", "0.5", "3"],
        "sound": ["1", "0"],
        "reload": ["04:00", "off", "23:59:59"],
    },
}
PATHS = {p: f"pages/desk/{p}.py" for p in OWN if p != "wall"} | {"wall": "pages/wall/wall.py"}


def page_params(page: str) -> st.SearchStrategy[dict[str, object]]:
    keys = {k: value(v) for k, v in PAGE_CODES.items()} | {k: value(v) for k, v in OWN[page].items()}
    return st.fixed_dictionaries({}, optional=keys)


def assert_no_traceback(page: str, params: dict) -> None:
    at = open_page(PATHS[page], params)
    assert not at.exception, (params, [e.value for e in at.exception])
    for err in at.error:
        assert "Traceback" not in err.value and 'File "' not in err.value, (params, err.value)
    for w in at.warning:
        assert "\n" not in w.value and "](" not in w.value, (params, w.value)  # Markdown-escaped


KNOWN_BAD = [
    {"start": (TODAY - timedelta(days=6)).isoformat(), "end": (TODAY + timedelta(days=1)).isoformat()},
    {"end": (TODAY + timedelta(days=366)).isoformat(), "period": "custom"},
    {"community": "[点我](http://evil.example)", "grid": "![x](http://evil.example/a.png)", "cat": "\n# 标题"},
]
OWN_BAD = {
    "reports": [{"report": "9" * 4301}, {"report": "²"}],
    "dispatch": [{"task": "9" * 4301}, {"task": "①"}],
    "disputes": [{"dispute": "9" * 4301}, {"dispute": "٣"}],
    "patrol": [{"shift": "[点我](http://evil.example)"}],
    "assessment": [{"month": "9" * 4301}, {"month": "２０２６-１０"}],
    "wall": [
        {"rotate": "overview:²⁰"},
        {"rotate": "overview:60,dispatch:①⓪," * 30, "view": "9" * 4301, "scale": "²", "reload": "²:⁰⁰", "sound": "\x00"},
        {"scale": "nan", "reload": "99:99", "view": "<b>x</b>"},
    ],
}
FUZZ = settings(
    max_examples=10,
    deadline=None,
    database=None,  # AppTest examples are slow to replay; a failure prints its own reproduction
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _page_test(page: str, examples: int | None = None):
    @(FUZZ if examples is None else settings(FUZZ, max_examples=examples))
    @given(params=page_params(page))
    def test(app_env, params):
        assert_no_traceback(page, params)

    for params in KNOWN_BAD + OWN_BAD.get(page, []):
        test = example(params=params)(test)
    test.__name__ = f"test_{page}_page_never_shows_a_traceback"
    return test


test_overview_page_never_shows_a_traceback = _page_test("overview")
test_reports_page_never_shows_a_traceback = _page_test("reports")
test_dispatch_page_never_shows_a_traceback = _page_test("dispatch")
test_patrol_page_never_shows_a_traceback = _page_test("patrol")
test_trends_page_never_shows_a_traceback = _page_test("trends")
test_disputes_page_never_shows_a_traceback = _page_test("disputes")
test_grid_page_never_shows_a_traceback = _page_test("grid")
test_wall_never_shows_a_traceback = _page_test("wall")
# The newer pages with fewer random examples (each run of 领导汇报 gathers a whole briefing):
# the known-bad values above still run on each.
test_warning_page_never_shows_a_traceback = _page_test("warning", 4)
test_assessment_page_never_shows_a_traceback = _page_test("assessment", 4)
test_briefing_page_never_shows_a_traceback = _page_test("briefing", 4)


"""One time formatter for every screen: ``timeutil.fmt_local`` takes what the
queries return (a naive UTC datetime, a pandas Timestamp, numpy datetime64,
SQLite's text for an aggregate) and shows it in the station's zone, "—" when
missing; the formats have names."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from dashboard import timeutil

AT = datetime(2026, 11, 20, 6, 30, 5)  # 14:30:05 in Asia/Shanghai


@pytest.mark.parametrize("value", [AT, pd.Timestamp(AT), np.datetime64(AT), "2026-11-20 06:30:05.000000", "2026-11-20T06:30:05"])
def test_every_shape_of_a_stored_time_reads_the_same(value):
    assert timeutil.fmt_local(value) == "11-20 14:30"
    assert timeutil.fmt_local(value, timeutil.SECOND) == "2026-11-20 14:30:05"
    assert timeutil.fmt_local(value, timeutil.CLOCK) == "14:30"


@pytest.mark.parametrize("missing", [None, pd.NaT, float("nan"), np.datetime64("NaT")])
def test_a_missing_time_is_a_dash(missing):
    assert timeutil.fmt_local(missing, timeutil.MINUTE) == "—"


def test_the_station_zone_applies(station_settings):
    station_settings('time_zone = "America/Vancouver"\n')
    assert timeutil.fmt_local(AT, timeutil.MINUTE) == "2026-11-19 22:30"

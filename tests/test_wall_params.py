"""The wall's URL parameters decode into one frozen WallParams, the way the
filters do: every bad value is ignored with a warning in Chinese, nothing raises."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import time as dt_time

import pytest

from dashboard.config import load_settings
from dashboard.wall import rotation
from dashboard.wall.params import WallParams, decode

SETTINGS = load_settings({})


def test_no_parameters_give_the_settings_defaults():
    p, warnings = decode({}, SETTINGS)
    assert warnings == []
    assert p == WallParams(1.0, rotation.DEFAULT_VIEW, (), SETTINGS.wall_reload_at, SETTINGS.alarm_sound)
    with pytest.raises(FrozenInstanceError):
        p.scale = 2  # type: ignore[misc]


def test_good_values_are_taken():
    p, warnings = decode({"scale": "1.5", "view": "dispatch", "rotate": "overview:60,dispatch:30", "reload": "04:00", "sound": "1"}, SETTINGS)
    assert warnings == []
    assert p.scale == 1.5 and p.pinned == "dispatch" and p.reload_at == dt_time(4, 0) and p.sound is True
    assert [(s.view, s.dwell_s) for s in p.steps] == [("overview", 60), ("dispatch", 30)]
    off, _ = decode({"reload": "off", "sound": "off"}, replace(SETTINGS, alarm_sound=True))
    assert off.reload_at is None and off.sound is False


@pytest.mark.parametrize(
    "query, field, fallback, says",
    [
        ({"scale": "9"}, "scale", 1.0, "字号倍数 scale=9"),
        ({"scale": "big"}, "scale", 1.0, "字号倍数 scale=big"),
        ({"scale": "nan"}, "scale", 1.0, "字号倍数"),
        ({"view": "<b>x</b>"}, "pinned", rotation.DEFAULT_VIEW, "未知的大屏视图"),
        ({"reload": "25:99"}, "reload_at", SETTINGS.wall_reload_at, "自动刷新时间 reload=25:99"),
    ],
)
def test_a_bad_value_is_ignored_with_a_warning(query, field, fallback, says):
    p, warnings = decode(query, SETTINGS)
    assert getattr(p, field) == fallback
    assert len(warnings) == 1 and says in warnings[0]

"""Numbers as people read them: coverage.views.labels."""

from __future__ import annotations

import math

import pytest

from coverage.views.labels import fmt_hours, fmt_minutes, fmt_people


def test_minutes_read_as_hours_and_minutes():
    assert fmt_minutes(45.2) == "45 min"
    assert fmt_minutes(394) == "6 h 34 min"
    assert fmt_minutes(60) == "1 h 00 min"
    assert fmt_minutes(59.6) == "1 h 00 min"  # rounded to the minute first


@pytest.mark.parametrize("unreachable", [math.inf, math.nan, None])
def test_an_unreachable_community_says_so(unreachable):
    assert fmt_minutes(unreachable) == "no road route"
    assert fmt_hours(unreachable) == "no road"


def test_compact_hours_and_people():
    assert fmt_hours(394) == "6:34" and fmt_hours(45.2) == "0:45" and fmt_hours(0) == "0:00"
    assert fmt_people(1234567.9) == "1,234,567" and fmt_people(0) == "0"


def test_the_words_go_through_gettext():
    catalogue = {"no road route": "роҳ нест", "no road": "—", "{hours} h {minutes:02d} min": "{hours} соат {minutes:02d} дақ",
                 "{minutes} min": "{minutes} дақ", "{count:,}": "{count:_}"}

    def tajik(text: str) -> str:
        return catalogue.get(text, text)

    assert fmt_minutes(394, gettext=tajik) == "6 соат 34 дақ"
    assert fmt_minutes(45, gettext=tajik) == "45 дақ"
    assert fmt_minutes(math.inf, gettext=tajik) == "роҳ нест"
    assert fmt_hours(math.inf, gettext=tajik) == "—" and fmt_hours(394, gettext=tajik) == "6:34"
    assert fmt_people(12345, gettext=tajik) == "12_345"

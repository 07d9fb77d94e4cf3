"""Numbers as people read them: minutes, hours:minutes and head counts.

One set of formatters for every face (the command line, the dashboard, later the
briefs). Each takes an optional gettext function (``coverage.views.i18n.translator``)
for its words; without one the text is English.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Gettext = Callable[[str], str]


def _english(text: str) -> str:
    return text


def _unreachable(minutes: float | None) -> bool:
    return minutes is None or not math.isfinite(minutes)


def fmt_minutes(minutes: float | None, *, gettext: Gettext | None = None) -> str:
    """A travel time in minutes as '2 h 05 min' / '45 min'; 'no road route' when
    unreachable (infinite, NaN or None).

    Parameters
    ----------
    minutes : float or None
        Minutes, rounded to whole minutes.
    gettext : callable, optional
        Translates the patterns; default English.

    Returns
    -------
    str
    """
    _ = gettext or _english
    if _unreachable(minutes):
        return _("no road route")
    hours, mins = divmod(int(round(minutes)), 60)
    if hours:
        return _("{hours} h {minutes:02d} min").format(hours=hours, minutes=mins)
    return _("{minutes} min").format(minutes=mins)


def fmt_hours(minutes: float | None, *, gettext: Gettext | None = None) -> str:
    """A travel time in minutes as 'h:mm' ('2:05'), compact for tables; 'no road'
    when unreachable.

    Parameters
    ----------
    minutes : float or None
        Minutes, rounded to whole minutes; infinite, NaN or None is unreachable.
    gettext : callable, optional
        Translates 'no road'; default English.

    Returns
    -------
    str
    """
    _ = gettext or _english
    if _unreachable(minutes):
        return _("no road")
    hours, mins = divmod(int(round(minutes)), 60)
    return f"{hours}:{mins:02d}"


def fmt_people(count: float, *, gettext: Gettext | None = None) -> str:
    """A number of people with thousands separators: '12,345' (whole people, rounded
    down, as the census figures are). ``gettext`` may translate the pattern
    ``'{count:,}'`` (e.g. to a narrow space as separator).

    Parameters
    ----------
    count : float
        People; truncated to an integer.
    gettext : callable, optional
        Translates the pattern; default English.

    Returns
    -------
    str
    """
    _ = gettext or _english
    return _("{count:,}").format(count=int(count))

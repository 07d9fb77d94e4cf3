"""Numbers as people read them: minutes, hours:minutes and head counts.

One set of formatters for every face (the command line, the dashboard, later the
briefs). Each takes an optional gettext function (``coverage.views.i18n.translator``)
for its words; without one the text is English.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

Gettext = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 (gettext's name for 'extract, translate later')
    """Mark ``message`` for the catalogues; translated where it is shown."""
    return message


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


def fmt_places(places: object, *, gettext: Gettext | None = None) -> str:
    """A service's beds or places: the whole number, or 'unknown' when not known (never 0).

    Parameters
    ----------
    places : int, float, str or None
        As the services table holds it (``Int64`` with NA, float with NaN, or text).
    gettext : callable, optional
        Translates 'unknown'; default English.

    Returns
    -------
    str
    """
    _ = gettext or _english
    text = "" if places is None else str(places).strip()
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = float("nan")
    if text == "" or value != value:  # NaN or pd.NA/None → unknown
        return _("unknown")
    return f"{int(value):d}"


# A village's "estimated" population is the district's 2020 census total (less its
# GeoNames towns) shared out by place size (village 1, hamlet 0.3): every village of a
# district gets the same figure. Wherever such a figure appears it says so.
ESTIMATE_NOTE = N_("even share of the district total, not a count")
COUNTED_NOTE = N_("counted")


def population_notes(estimated: pd.Series, *, gettext: Gettext | None = None) -> pd.Series:
    """What each community's population figure is: :data:`ESTIMATE_NOTE` where
    ``estimated`` is true, else :data:`COUNTED_NOTE` (same index)."""
    _ = gettext or _english
    flags = estimated.fillna(False).astype(bool).to_numpy()
    return pd.Series(np.where(flags, _(ESTIMATE_NOTE), _(COUNTED_NOTE)), index=estimated.index)


# what the figures count, as the words a table or export uses
MEASURE_WORDS: dict[str, str] = {"women": "women", "population": "people"}


def measure_columns(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    """A district or region table whose ``population*`` columns count ``measure``,
    renamed so a file says what it counts: ``women``, ``women_within``,
    ``women_beyond`` for women; unchanged (``population*``) for all people.

    Parameters
    ----------
    table : DataFrame
        :func:`coverage.analysis.gaps.district_summary` or ``region_totals`` output.
    measure : str
        ``"women"`` or ``"population"`` (:data:`coverage.config.MEASURES`).

    Returns
    -------
    DataFrame
        A renamed copy (people counts unchanged).
    """
    if measure != "women":
        return table.copy()
    names = {c: "women" + c[len("population"):] for c in table.columns
             if c in ("population", "population_within", "population_beyond")}
    return table.rename(columns=names)

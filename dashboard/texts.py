"""The dashboard's words in the browser session's language: the translator, service type
labels and number formats.

The language is the session's own (the sidebar's *Language* box, mirrored in the URL as
``lang``): :func:`_` looks it up in ``st.session_state`` on every call, so two browsers
with different languages never share one, and nothing here holds a language between runs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coverage.views import i18n, labels, maps, names

LANGUAGE_KEY = "language"  # the sidebar widget's key (one of i18n.LANGUAGES)


def language() -> str:
    """The session's language: the sidebar's choice, else the URL's ``lang`` (the first
    run of a session, before the sidebar is drawn), else English."""
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen is None:
        chosen = st.query_params.get("lang")
    return i18n.normalise_language(chosen)


def gettext() -> i18n.Gettext:
    """The session's gettext function, to pass to the library (``gettext=``)."""
    return i18n.translator(language())


def _(message: str) -> str:
    """``message`` in the session's language."""
    return gettext()(message)


TYPE_LABELS = {key: label for key, (label, _colour, _symbol) in maps.SERVICE_STYLE.items()}  # English


def type_label(service_type: str, gettext: i18n.Gettext | None = None) -> str:
    """A service type's name in the session's language (or ``gettext``'s)."""
    return (gettext or _)(TYPE_LABELS.get(service_type, service_type))


def type_labeller() -> i18n.Gettext:
    """A widget's ``format_func`` for service types, bound to this run's language (a
    ``format_func`` may be called outside the script run, where the session is unknown)."""
    bound = i18n.translator(language())
    return lambda service_type: type_label(service_type, bound)


def fmt_minutes(minutes: float | None) -> str:
    """:func:`coverage.views.labels.fmt_minutes` in the dashboard's language."""
    return labels.fmt_minutes(minutes, gettext=gettext())


def fmt_people(count: float) -> str:
    """:func:`coverage.views.labels.fmt_people` in the dashboard's language."""
    return labels.fmt_people(count, gettext=gettext())


def fmt_places(places: object) -> str:
    """:func:`coverage.views.labels.fmt_places` in the dashboard's language ('unknown' for NA)."""
    return labels.fmt_places(places, gettext=_)


def type_phrase(types: tuple[str, ...]) -> str:
    return _(" or ").join(type_label(t).lower() for t in types)


def counted(measure: str, *, capital: bool = False) -> str:
    """What the figures count, as a word: 'women' (the default measure) or 'people'."""
    if measure == "women":
        return _("Women") if capital else _("women")
    return _("People") if capital else _("people")


def measure_choices() -> dict[str, str]:
    """The sidebar's word for each measure (config.MEASURES), in this run's language."""
    return {"women": _("Women"), "population": _("All people")}


def place_names(frame: pd.DataFrame, column: str = "name") -> pd.Series:
    """Place names of ``frame[column]`` in the session language's script (Latin for
    English, Cyrillic for Russian and Tajik); districts by their own Tajik name where
    the data has one."""
    known = None
    if column == "district":
        from dashboard import loaders  # loaders imports this module

        known = names.own_names(loaders.inputs().districts).get(language())
    return names.display_names(frame, language(), column=column, known=known)


def in_script(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with its place-name ``columns`` in the session language's script."""
    present = [c for c in columns if c in frame.columns]
    return frame.assign(**{c: place_names(frame, c) for c in present}) if present else frame


def season_word(season: str) -> str:
    """A season (config.SEASONS) as a word in a sentence: 'summer', 'winter'."""
    return {"summer": _("summer"), "winter": _("winter")}.get(season, season)

"""The dashboard's words: the translator, service type labels and number formats."""

from __future__ import annotations

from coverage.views import labels, maps
from coverage.views.i18n import translator

_ = translator("en")


TYPE_LABELS = {key: label for key, (label, _colour, _symbol) in maps.SERVICE_STYLE.items()}


def fmt_minutes(minutes: float | None) -> str:
    """:func:`coverage.views.labels.fmt_minutes` in the dashboard's language."""
    return labels.fmt_minutes(minutes, gettext=_)


def fmt_people(count: float) -> str:
    """:func:`coverage.views.labels.fmt_people` in the dashboard's language."""
    return labels.fmt_people(count, gettext=_)


def fmt_places(places: object) -> str:
    """:func:`coverage.views.labels.fmt_places` in the dashboard's language ('unknown' for NA)."""
    return labels.fmt_places(places, gettext=_)


def type_phrase(types: tuple[str, ...]) -> str:
    return _(" or ").join(TYPE_LABELS.get(t, t).lower() for t in types)


def counted(measure: str, *, capital: bool = False) -> str:
    """What the figures count, as a word: 'women' (the default measure) or 'people'."""
    if measure == "women":
        return _("Women") if capital else _("women")
    return _("People") if capital else _("people")


MEASURE_CHOICES = {"women": _("Women"), "population": _("All people")}  # the sidebar's options

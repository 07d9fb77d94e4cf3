"""The sidebar every page shares (types, threshold, season, regions) and the analysis it asks for."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from coverage import analysis, config
from dashboard.loaders import approximate_roads, inputs, network_path, tiles_default, travel_times
from dashboard.session import sign_in_box, signed_in_user
from dashboard.texts import TYPE_LABELS, _


@dataclass(frozen=True)
class Choice:
    """What the user picked in the sidebar."""

    service_types: tuple[str, ...]
    threshold_min: float
    season: str
    regions: tuple[str, ...]
    tiles: bool


def sidebar(default_types: tuple[str, ...] = ("shelter",)) -> Choice:
    """Service type(s), threshold, season and region filter; the same keys on every
    page, so a choice follows the user from page to page."""
    data = inputs()
    present = [t for t in config.SERVICE_TYPES if t in set(data.services["type"])]
    st.sidebar.header(_("What and where"))
    types = st.sidebar.multiselect(
        _("Service type(s)"), present, default=[t for t in default_types if t in present] or present[:1],
        format_func=lambda t: TYPE_LABELS.get(t, t), key="service_types",
        help=_("With several types, the nearest of any of them counts."),
    )
    threshold = st.sidebar.slider(_("Threshold (minutes by road)"), 15, 240, int(config.DEFAULT_THRESHOLD_MIN),
                                  step=5, key="threshold")
    season = st.sidebar.radio(_("Season"), config.SEASONS, key="season", horizontal=True,
                              format_func=lambda s: {"summer": _("Summer"), "winter": _("Winter (passes closed)")}[s])
    all_regions = sorted(data.communities["region"].dropna().unique())
    focus = [r for r in config.FOCUS_REGIONS if r in all_regions]
    regions = st.sidebar.multiselect(_("Regions"), all_regions, default=focus, key="regions")
    tiles = st.sidebar.checkbox(_("Background map (needs internet)"), value=tiles_default(), key="tiles")
    st.sidebar.caption(_("Road network: approximate trunk roads (see About the data). "
                         "Rural populations are estimates.") if approximate_roads() else
                       _("Road network: OpenStreetMap extract {name}. Rural populations are estimates.")
                       .format(name=network_path().name))
    with st.sidebar.expander(_("Staff sign-in"), expanded=signed_in_user() is not None):
        sign_in_box(st, key="sidebar_signin")
    return Choice(tuple(types), float(threshold), season, tuple(regions), tiles)


def current_analysis(choice: Choice) -> analysis.Analysis | None:
    if not choice.service_types:
        st.info(_("Choose at least one service type in the sidebar."))
        return None
    if not choice.regions:
        st.info(_("Choose at least one region in the sidebar."))
        return None
    times = travel_times(choice.season)
    return analysis.analyse(inputs(), times, choice.service_types, choice.threshold_min, season=choice.season,
                            regions=choice.regions)

"""Streamlit glue shared by the pages: cached loading, the sidebar, number formatting.

Pages stay thin: they call these helpers and the ``coverage`` library; nothing here
computes travel times itself. Travel times are computed once per (season, network,
services version) and cached for every session of the server.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from coverage import analysis, maps, privacy, settings
from coverage.i18n import translator

_ = translator("en")

TYPE_LABELS = {key: label for key, (label, _colour, _symbol) in maps.SERVICE_STYLE.items()}


def data_dir() -> Path:
    """The data step's folder (``COVERAGE_DATA_DIR`` overrides, e.g. for tests)."""
    return Path(os.environ.get("COVERAGE_DATA_DIR", settings.DATA_DIR))


def network_path() -> Path:
    """The road network file (``COVERAGE_NETWORK``: a real OSM extract instead of the default)."""
    return Path(os.environ.get("COVERAGE_NETWORK", settings.DEFAULT_NETWORK))


@dataclass(frozen=True)
class Choice:
    """What the user picked in the sidebar."""

    service_types: tuple[str, ...]
    threshold_min: float
    season: str
    regions: tuple[str, ...]
    tiles: bool


def fmt_minutes(minutes: float) -> str:
    if minutes is None or not math.isfinite(minutes):
        return _("no road route")
    total = int(round(minutes))
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


def fmt_people(count: float) -> str:
    return f"{int(count):,}"


@st.cache_resource(show_spinner=False)
def inputs() -> analysis.Inputs:
    """Districts, communities and services, read once per server (data step if needed)."""
    with st.spinner(_("Preparing boundaries, communities and services (first start only) …")):
        return analysis.load_inputs(data_dir(), population_path=os.environ.get("COVERAGE_POPULATION") or None)


@st.cache_resource(show_spinner=False)
def travel_times(season: str) -> pd.DataFrame:
    """Minutes from every community to the nearest service of every type, per season."""
    status = st.status(_("Computing travel times for the {season} road network …").format(season=season))
    table = analysis.travel_times(inputs(), season=season, network_path=network_path(),
                                  config=settings.load_settings(), progress=status.write)
    status.update(label=_("Travel times ready ({season})").format(season=season), state="complete")
    return table


@st.cache_resource(show_spinner=False)
def public_services() -> gpd.GeoDataFrame:
    """The services as the public may see them (confidential ones at town level)."""
    data = inputs()
    return privacy.public_services(data.services, data.places)


@st.cache_resource(show_spinner=False)
def display_districts() -> gpd.GeoDataFrame:
    return maps.display_districts(inputs().districts)


def sidebar(default_types: tuple[str, ...] = ("shelter",)) -> Choice:
    """Service type(s), threshold, season and region filter; the same keys on every
    page, so a choice follows the user from page to page."""
    data = inputs()
    present = [t for t in settings.SERVICE_TYPES if t in set(data.services["type"])]
    st.sidebar.header(_("What and where"))
    types = st.sidebar.multiselect(
        _("Service type(s)"), present, default=[t for t in default_types if t in present] or present[:1],
        format_func=lambda t: TYPE_LABELS.get(t, t), key="service_types",
        help=_("With several types, the nearest of any of them counts."),
    )
    threshold = st.sidebar.slider(_("Threshold (minutes by road)"), 15, 240, int(settings.DEFAULT_THRESHOLD_MIN),
                                  step=5, key="threshold")
    season = st.sidebar.radio(_("Season"), settings.SEASONS, key="season", horizontal=True,
                              format_func=lambda s: {"summer": _("Summer"), "winter": _("Winter (passes closed)")}[s])
    all_regions = sorted(data.communities["region"].dropna().unique())
    focus = [r for r in settings.FOCUS_REGIONS if r in all_regions]
    regions = st.sidebar.multiselect(_("Regions"), all_regions, default=focus, key="regions")
    tiles = st.sidebar.checkbox(_("Background map (needs internet)"),
                                value=os.environ.get("COVERAGE_MAP_TILES", "").lower() not in ("none", "off"),
                                key="tiles")
    st.sidebar.caption(_("Road network: approximate trunk roads (see About the data). "
                         "Rural populations are estimates."))
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


def type_phrase(types: tuple[str, ...]) -> str:
    return _(" or ").join(TYPE_LABELS.get(t, t).lower() for t in types)


@st.cache_resource(show_spinner=False)
def organisation_reach(season: str) -> pd.DataFrame:
    """People within 30/60/120 min of each organisation's services, per district."""
    from coverage import reach, roads

    data = inputs()
    config = settings.load_settings()
    network = roads.load_network(network_path(), season=season, settings=config)
    times = reach.organisation_times(network, data.communities, data.services, config)
    return reach.reach_table(times, data.communities)

"""The Scenarios page's shared state: one :class:`coverage.analysis.scenarios.Baseline` per
server and data version (networks and baseline travel times, computed once and shared by
every session), and the roads a user may close."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from coverage import analysis
from coverage.analysis import scenarios
from dashboard import loaders


@st.cache_resource(show_spinner=False, max_entries=2)
def _baseline(key: str, network: str, _data: analysis.Inputs) -> scenarios.Baseline:
    # travel times of the registered services come from the pages' shared cache
    return scenarios.Baseline(_data, network_path=Path(network), settings=loaders.settings(),
                              times_source=loaders.travel_times)


def baseline() -> scenarios.Baseline:
    """The baseline every scenario on this server is compared with (public inputs)."""
    return _baseline(loaders.inputs_key(), str(loaders.network_path()), loaders.inputs())


@st.cache_resource(show_spinner=False, max_entries=4)
def _roads(key: str, network: str, season: str, _baseline: scenarios.Baseline) -> pd.DataFrame:
    return _baseline.roads(season)


def closable_roads(season: str = "summer") -> pd.DataFrame:
    """The named roads of the season's network (label, name, ref, highway, km, way_ids)."""
    return _roads(loaders.inputs_key(), str(loaders.network_path()), season, baseline())


SITES_KEY = "scn_sites"  # the Scenarios page's proposed sites (list of ProposedSite.to_dict())


def propose_sites(sites: list[scenarios.ProposedSite]) -> None:
    """Put proposed sites into this session's scenario (e.g. from a location-allocation
    suggestion: one click, then the Scenarios page shows them with before/after)."""
    st.session_state.setdefault(SITES_KEY, []).extend(site.to_dict() for site in sites)

"""Cached loading for the pages: settings, the registry, inputs, travel times, reach.

Services come from the registry (created and seeded from ``data/services/services.csv``
on first use) and pass the privacy edge (:func:`coverage.views.privacy.public_inputs`,
inside ``analysis.load_inputs``) before anything is computed from them: every figure on
every page comes from each confidential service's public (town) point, whoever is signed
in. Every cached loader is keyed by the registry's version (its last history id, one
cheap query per call), so an edit made on the staff page, or by another process, shows on
every page at the next rerun. Travel times and reach are keyed by a fingerprint of the
open services' ids, types, points and organisations.
"""

from __future__ import annotations

import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from coverage import analysis, config
from coverage.analysis import allocation, seasons
from coverage.digests import text_sha256
from coverage.engine.roads import is_default_network
from coverage.registry import store
from coverage.views import maps, privacy
from dashboard.texts import _, season_word


def settings() -> config.Settings:
    """This server's settings (defaults < coverage.toml < ``COVERAGE_*`` environment),
    read at each call so a changed environment (tests) takes effect at the next run."""
    return config.load_settings()


def data_dir() -> Path:
    """The data step's folder (``COVERAGE_DATA_DIR`` overrides, e.g. for tests)."""
    return settings().data_dir


def network_path() -> Path:
    """The road network file (``COVERAGE_NETWORK``: a real OSM extract instead of the default)."""
    return settings().network_path


def approximate_roads() -> bool:
    """True when the routing runs on the project's approximate default trunk-road network
    (captions and legends say so); False for a real OSM extract (``COVERAGE_NETWORK``)."""
    return is_default_network(network_path())


@st.cache_data(show_spinner=False, max_entries=4)
def _winter_roads(network: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return seasons.winter_roads(network, settings=settings())


def winter_roads() -> pd.DataFrame:
    """The named roads of the routing network that winter closes or slows, with km
    (:func:`coverage.analysis.seasons.winter_roads`), cached per network file version."""
    path = network_path()
    stat = path.stat()
    return _winter_roads(str(path), stat.st_mtime_ns, stat.st_size)


def population_path() -> Path | None:
    """A user population layer instead of the census communities (``COVERAGE_POPULATION``)."""
    return settings().population_path


# Columns of the registry that never enter the engine's inputs (the engine needs points,
# not street addresses).
ENGINE_DROPPED_COLUMNS: tuple[str, ...] = ("address",)


def store_path() -> Path | store.StoreURL:
    """The registry: env ``COVERAGE_STORE`` (a GeoPackage file or a ``postgresql://``
    URL), else ``private/registry.gpkg``."""
    return store.store_location(settings=settings())


@st.cache_resource(show_spinner=False, max_entries=8)
def _registry(location: str) -> store.BaseServiceStore:
    return store.open_store(location)


def registry() -> store.BaseServiceStore:
    """The services registry, created and seeded from the shipped list on first use."""
    location = store_path()
    if isinstance(location, Path) and not location.exists():
        _registry.clear()  # first run, or the file was moved away: create (seed) it again
    return _registry(str(location))


def registry_version() -> int:
    """Grows with every change to the registry (one small query)."""
    return registry().version()


def _services_fingerprint(services: gpd.GeoDataFrame) -> str:
    """What travel times and reach depend on: ids, types, points, organisations."""
    columns = [c for c in ("service_id", "type", "lon", "lat", "org", "organisation") if c in services.columns]
    text = services[columns].sort_values("service_id").to_csv(index=False)
    return text_sha256(text, chars=16)


@st.cache_resource(show_spinner=False, max_entries=4)
def _inputs(data_folder: str, population: str, registry_file: str, version: int) -> tuple[analysis.Inputs, str]:
    table = _registry(registry_file).services(include_closed=False)
    table = table.drop(columns=[c for c in ENGINE_DROPPED_COLUMNS if c in table.columns])
    with st.spinner(_("Preparing boundaries, communities and services (first start only) …")):
        # load_inputs hands back privacy.public_inputs: confidential services at their
        # public point, so this shared cache never holds an exact point.
        data = analysis.load_inputs(Path(data_folder), population_path=population or None, services_table=table)
    return data, _services_fingerprint(data.services)


def _current_inputs() -> tuple[analysis.Inputs, str]:
    return _inputs(str(data_dir()), str(population_path() or ""), str(registry().path),
                   registry_version())


def inputs() -> analysis.Inputs:
    """Districts, communities and the registry's open services as every public figure
    is computed from them (confidential ones at their public point, public columns
    only: :func:`coverage.views.privacy.public_inputs`), read once per registry version
    (data step if needed)."""
    return _current_inputs()[0]


def inputs_key() -> str:
    """Changes when anything travel times depend on changes (data, population, services)."""
    _data, fingerprint = _current_inputs()
    return f"{data_dir()}|{population_path() or ''}|{fingerprint}"


TRAVEL_TIME_TABLES_KEPT = 8  # (season, network, services) combinations kept in memory


@st.cache_resource(show_spinner=False)
def _travel_time_tables() -> dict[tuple[str, str, str], pd.DataFrame]:
    """Travel-time tables this server has computed, shared by every session. Filled
    outside any cached function, so the computation can report progress live (a
    cached function would only replay its messages when it has finished)."""
    return {}


@st.cache_resource(show_spinner=False)
def _travel_time_lock() -> threading.Lock:
    """One computation at a time: a second session asking for the same table waits
    for the first instead of computing it again."""
    return threading.Lock()


def travel_times(season: str) -> pd.DataFrame:
    """Minutes from every community to the nearest service of every type, per season;
    computed once per (season, network, services' points) with live progress (building
    a network from a large extract takes minutes), then shared by every session."""
    key = (season, str(network_path()), inputs_key())
    tables = _travel_time_tables()
    if key in tables:
        return tables[key]
    with _travel_time_lock():
        if key in tables:  # computed by another session while this one waited
            return tables[key]
        label = _("Computing travel times for the {season} road network …").format(season=season_word(season))
        with st.status(label, expanded=True) as status:
            table = analysis.travel_times(inputs(), season=season, network_path=network_path(),
                                          settings=settings(), progress=status.write)
            status.update(label=_("Travel times ready ({season})").format(season=season_word(season)), state="complete",
                          expanded=False)
        while len(tables) >= TRAVEL_TIME_TABLES_KEPT:
            tables.pop(next(iter(tables)))  # the oldest
        tables[key] = table
    return table


@st.cache_resource(show_spinner=False, max_entries=4)
def _public_services(registry_file: str, version: int, key: str, _data: analysis.Inputs) -> gpd.GeoDataFrame:
    return privacy.public_services(_data.services, _data.places)


def public_services() -> gpd.GeoDataFrame:
    """The services as the public may see them (confidential ones at town level),
    whoever is signed in: use this for anything labelled public (exports, briefs)."""
    return _public_services(str(registry().path), registry_version(), inputs_key(), inputs())


@st.cache_resource(show_spinner=False, max_entries=2)
def _display_districts(data_folder: str, _districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return maps.display_districts(_districts)


def display_districts() -> gpd.GeoDataFrame:
    return _display_districts(str(data_dir()), inputs().districts)


def tiles_default() -> bool:
    """Background tiles unless ``COVERAGE_MAP_TILES`` is none/off (no internet)."""
    return settings().map_tiles_url is not None


@st.cache_resource(show_spinner=False, max_entries=8)
def _organisation_times(season: str, service_types: tuple[str, ...], network: str, key: str,
                        _data: analysis.Inputs) -> pd.DataFrame:
    from coverage.analysis import reach
    from coverage.engine import roads

    current = settings()
    road_network = roads.load_network(Path(network), season=season, settings=current)
    chosen = _data.services[_data.services["type"].isin(list(service_types))]
    return reach.organisation_times(road_network, _data.communities, chosen, current, by_type=True)


def organisation_times(season: str, service_types: tuple[str, ...]) -> pd.DataFrame:
    """Minutes from every community to each organisation's nearest service of each of the
    given types (public inputs), rows (community_id, org, service_type, minutes, service_id)."""
    return _organisation_times(season, tuple(sorted(service_types)), str(network_path()), inputs_key(), inputs())


def organisation_reach(season: str, service_types: tuple[str, ...], *, threshold_min: float,
                       regions: tuple[str, ...], measure: str):
    """Every reach figure for the choice (:func:`coverage.analysis.reach.summarise`): women
    (or all people, by ``measure``) within 30 / 60 / 120 min and ``threshold_min`` of each
    organisation's services of ``service_types``, per district, type and region, and what each
    organisation alone adds, in ``regions``."""
    from coverage.analysis import reach

    return reach.summarise(organisation_times(season, service_types), inputs().communities,
                           threshold_min=threshold_min, regions=regions, measure=measure)


@st.cache_resource(show_spinner=False, max_entries=8)
def _capacity_minutes(season: str, service_types: tuple[str, ...], threshold_min: float, network: str, key: str,
                      _data: analysis.Inputs) -> tuple[gpd.GeoDataFrame, tuple[str, ...], np.ndarray]:
    from coverage.analysis import capacity
    from coverage.engine import roads

    current = settings()
    known, unknown = capacity.capacity_services(_data, service_types)
    road_network = roads.load_network(Path(network), season=season, settings=current)
    minutes = capacity.service_minutes(road_network, _data.communities, known, limit_minutes=threshold_min,
                                       settings=current)
    return known, unknown, minutes


def capacity_minutes(season: str, service_types: tuple[str, ...],
                     threshold_min: float) -> tuple[gpd.GeoDataFrame, tuple[str, ...], np.ndarray]:
    """The services of ``service_types`` with known places (public points), the public
    names of those with unknown places, and the community × service minutes bounded by
    ``threshold_min`` (:func:`coverage.analysis.capacity.service_minutes`), cached."""
    return _capacity_minutes(season, tuple(sorted(service_types)), float(threshold_min), str(network_path()),
                             inputs_key(), inputs())


@st.cache_data(show_spinner=False, max_entries=16)
def _site_plan(method: str, service_type: str, k: int, threshold_min: float, measure: str, season: str,
               regions: tuple[str, ...], towns: tuple[str, ...], network: str, key: str,
               _data: analysis.Inputs) -> allocation.SitePlan:
    from coverage.engine import roads

    current = settings()
    road_network = roads.load_network(Path(network), season=season, settings=current)
    return allocation.plan_sites(_data, service_type, method=method, k=k, threshold_min=threshold_min,
                                 measure=measure, regions=regions, towns=towns, network=road_network,
                                 settings=current)


def site_plan(method: str, service_type: str, *, k: int, threshold_min: float, measure: str, season: str,
              regions: tuple[str, ...], towns: tuple[str, ...] = ()) -> allocation.SitePlan:
    """Suggested new sites (:func:`coverage.analysis.allocation.plan_sites`, public inputs),
    computed once per choice and data version and shared by every session."""
    return _site_plan(method, service_type, int(k), float(threshold_min), measure, season,
                      tuple(sorted(regions)), tuple(towns), str(network_path()), inputs_key(), inputs())


def site_candidates(regions: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Towns and district seats in ``regions`` that a new site may be suggested at."""
    candidates = allocation.default_candidates(inputs())
    return candidates[candidates["region"].isin(list(regions))].reset_index(drop=True)

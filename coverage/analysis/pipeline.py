"""The whole pipeline behind one call, shared by the command line and the dashboard.

``load_inputs`` reads what the data step wrote (running it first when files are
missing and a mirror is known); ``travel_times`` runs the engine once per network and
season; ``analyse`` turns travel times into gaps for a type and threshold, which is
cheap and is what moves when a user drags the threshold slider.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage import config
from coverage.analysis import gaps
from coverage.data import boundaries, communities, services, sources
from coverage.engine import roads, travel
from coverage.errors import InputError
from coverage.progress import Progress, reporter
from coverage.views import privacy


@dataclass(frozen=True)
class DataPaths:
    """Where the data step's outputs live for a data folder."""

    data_dir: Path

    @property
    def districts(self) -> Path:
        return self.data_dir / config.DISTRICTS_FILE.relative_to(config.DATA_DIR)

    @property
    def communities(self) -> Path:
        return self.data_dir / config.COMMUNITIES_FILE.relative_to(config.DATA_DIR)

    @property
    def health(self) -> Path:
        return self.data_dir / config.HEALTH_FILE.relative_to(config.DATA_DIR)

    def ready(self) -> bool:
        return self.districts.exists() and self.communities.exists()


@dataclass(frozen=True)
class Inputs:
    """Everything the engine needs, in EPSG:4326.

    ``services`` as :func:`load_inputs` returns them have passed
    :func:`coverage.views.privacy.public_inputs`: every confidential service stands at
    its public (town) point, so every figure computed from them is a public figure.
    """

    districts: gpd.GeoDataFrame
    regions: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    services: gpd.GeoDataFrame  # confidential ones at their public point (privacy.engine_services)
    places: gpd.GeoDataFrame  # public points that confidential services are shown at


@dataclass(frozen=True)
class Analysis:
    """Gaps for one choice of service type(s) and threshold (minutes)."""

    service_types: tuple[str, ...]
    threshold_min: float
    season: str
    communities: gpd.GeoDataFrame  # community_gaps
    districts: pd.DataFrame  # district_summary
    ranking: pd.DataFrame  # rank_underserved
    totals: pd.DataFrame  # region_totals


def ensure_data(data_dir: Path | None = None, mirror: Path | None = None, progress: Progress | None = None, *,
                settings: config.Settings | None = None) -> DataPaths:
    """Run the data step if its outputs are missing; return their paths. ``data_dir`` and
    ``mirror`` default to ``settings``' (default :func:`coverage.config.load_settings`)."""
    settings = config.load_settings() if settings is None else settings
    paths = DataPaths(Path(data_dir) if data_dir is not None else settings.data_dir)
    if not paths.ready():
        found = config.mirror_dir(mirror, settings=settings)
        reporter(progress)(f"Preparing data from {found or 'the public sources (download)'} …")
        sources.run_data_step(found, data_dir=paths.data_dir, download=found is None, progress=progress)
    return paths


def load_inputs(
    data_dir: Path | None = None,
    services_path: Path | None = None,
    services_table: gpd.GeoDataFrame | None = None,
    population_path: Path | None = None,
    include_osm_health: bool = False,
    mirror: Path | None = None,
    progress: Progress | None = None,
    *,
    settings: config.Settings | None = None,
) -> Inputs:
    """Districts, communities (or a user population layer) and services, validated.

    The services (the shipped list, ``services_path`` or ``services_table``, which may
    hold exact confidential points) come back through
    :func:`coverage.views.privacy.public_inputs`: each confidential service at its
    public point, public columns only, so travel times, ranks and reach computed from
    the result can be published. ``data_dir``, ``services_path``, ``population_path``
    and ``mirror`` default to the fields of ``settings`` (default
    :func:`coverage.config.load_settings`); a ``services_table`` replaces the services file.
    """
    settings = config.load_settings() if settings is None else settings
    paths = ensure_data(data_dir, mirror, progress, settings=settings)
    population_path = population_path if population_path is not None else settings.population_path
    districts = boundaries.load_districts(paths.districts)
    regions = boundaries.load_regions(paths.districts)
    settlements = communities.load_communities(paths.communities)
    comms = settlements
    if population_path is not None:
        comms = communities.load_user_population(Path(population_path), districts)
    if services_table is None:
        services_table = services.load_services(Path(services_path or settings.services_path))
    svc = services.assign_district_ids(services_table, districts)
    if include_osm_health and paths.health.exists():
        health = services.assign_district_ids(services.load_health_facilities(paths.health), districts)
        svc = gpd.GeoDataFrame(pd.concat([svc, health], ignore_index=True), geometry="geometry", crs=svc.crs)
    places = privacy.settlement_points(settlements, districts)
    return privacy.public_inputs(
        Inputs(districts=districts, regions=regions, communities=comms, services=svc, places=places))


def check_threshold(threshold_min: float) -> float:
    """The threshold in minutes as a float, or an :class:`InputError`
    (``input.threshold``) unless 0 < minutes <= :data:`config.MAX_THRESHOLD_MIN`
    (NaN and infinity refused)."""
    try:
        value = float(threshold_min)
    except (TypeError, ValueError):
        value = math.nan
    if not (0 < value <= config.MAX_THRESHOLD_MIN):  # also False for NaN
        raise InputError(f"the threshold must be a number of minutes above 0 and at most "
                         f"{config.MAX_THRESHOLD_MIN:g}, not {threshold_min!r}", message_id="input.threshold",
                         field="threshold", value=str(threshold_min), max_min=config.MAX_THRESHOLD_MIN)
    return value


def travel_times(
    inputs: Inputs,
    season: str = "summer",
    network_path: Path | None = None,
    settings: config.Settings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Minutes from every community to the nearest service of every type present.
    ``network_path``: default ``settings.network_path`` (``settings`` default
    :func:`coverage.config.load_settings`)."""
    if season not in config.SEASONS:
        raise InputError(f"season must be one of {config.SEASONS}, not {season!r}", message_id="input.unknown_season",
                         season=str(season), known=config.SEASONS)
    settings = config.load_settings() if settings is None else settings
    network = roads.load_network(network_path, season=season, settings=settings, progress=progress)
    reporter(progress)(f"Nearest service of each of {inputs.services['type'].nunique()} types for "
                       f"{len(inputs.communities):,} communities on {network.n_nodes:,} road nodes …")
    return travel.nearest_service_times(network, inputs.communities, inputs.services, settings=settings)


def analyse(
    inputs: Inputs,
    times: pd.DataFrame,
    service_type: str | Sequence[str],
    threshold_min: float = config.DEFAULT_THRESHOLD_MIN,
    season: str = "summer",
    regions: Sequence[str] | None = None,
) -> Analysis:
    """Gaps for the chosen type(s) and threshold, optionally limited to some regions."""
    types = (service_type,) if isinstance(service_type, str) else tuple(service_type)
    unknown = [t for t in types if t not in config.SERVICE_TYPES]
    if unknown:
        raise InputError(f"unknown service type(s) {unknown}; choose from {', '.join(config.SERVICE_TYPES)}",
                         message_id="services.unknown_type", types=unknown, known=config.SERVICE_TYPES)
    check_threshold(threshold_min)
    comms = inputs.communities
    if regions:
        comms = comms[comms["region"].isin(regions)]
    per_community = gaps.community_gaps(times, comms, threshold_min, types)
    district_table = gaps.district_summary(per_community, inputs.districts)
    ranking = gaps.rank_underserved(per_community, privacy.public_columns(inputs.services))
    return Analysis(
        service_types=types,
        threshold_min=float(threshold_min),
        season=season,
        communities=per_community,
        districts=district_table,
        ranking=ranking,
        totals=gaps.region_totals(per_community),
    )

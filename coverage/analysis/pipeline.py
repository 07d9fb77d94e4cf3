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
        """GeoPackage with the ``districts`` and ``regions`` layers (EPSG:4326)."""
        return self.data_dir / config.DISTRICTS_FILE.relative_to(config.DATA_DIR)

    @property
    def communities(self) -> Path:
        """GeoPackage with the ``communities`` layer (EPSG:4326 points)."""
        return self.data_dir / config.COMMUNITIES_FILE.relative_to(config.DATA_DIR)

    @property
    def health(self) -> Path:
        """GeoPackage of OSM hospitals and clinics (EPSG:4326 points); optional."""
        return self.data_dir / config.HEALTH_FILE.relative_to(config.DATA_DIR)

    def ready(self) -> bool:
        """Whether the districts and communities files both exist (health is optional)."""
        return self.districts.exists() and self.communities.exists()


@dataclass(frozen=True)
class Inputs:
    """Everything the engine needs, in EPSG:4326.

    Tables and their columns are listed in docs/ARCHITECTURE.md ("Tables"):
    ``districts`` and ``regions`` (polygons, ``population`` in people), ``communities``
    (points, ``community_id``, ``population`` in people, ``district_id``, ``region``),
    ``services`` (points, ``service_id``, ``type``, public columns) and ``places``
    (points, ``place``, ``district_id``).

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
    """Gaps for one choice of service type(s) and threshold (minutes).

    ``communities`` is :func:`coverage.analysis.gaps.community_gaps` (EPSG:4326 points),
    ``districts`` :func:`~coverage.analysis.gaps.district_summary`, ``ranking``
    :func:`~coverage.analysis.gaps.rank_underserved` and ``totals``
    :func:`~coverage.analysis.gaps.region_totals`; ``threshold_min`` is in minutes and
    ``season`` one of :data:`coverage.config.SEASONS`; ``measure`` (one of
    :data:`coverage.config.MEASURES`) is what the ``population*`` columns of
    ``districts`` and ``totals`` count: women (default) or all people.
    """

    service_types: tuple[str, ...]
    threshold_min: float
    season: str
    communities: gpd.GeoDataFrame  # community_gaps
    districts: pd.DataFrame  # district_summary
    ranking: pd.DataFrame  # rank_underserved
    totals: pd.DataFrame  # region_totals
    measure: str = config.DEFAULT_MEASURE


def ensure_data(data_dir: Path | None = None, mirror: Path | None = None, progress: Progress | None = None, *,
                settings: config.Settings | None = None) -> DataPaths:
    """Run the data step if its outputs are missing; return their paths.

    Parameters
    ----------
    data_dir : Path, optional
        Folder the data step writes to; default ``settings.data_dir``.
    mirror : Path, optional
        Local mirror of the public sources; default from ``settings`` (see
        :func:`coverage.config.mirror_dir`). With no mirror the sources are downloaded.
    progress : Progress, optional
        Callback for progress messages.
    settings : Settings, optional
        Default :func:`coverage.config.load_settings`.

    Returns
    -------
    DataPaths
        The paths of the data step's outputs under ``data_dir``.
    """
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

    Parameters
    ----------
    data_dir : Path, optional
        Folder of the data step's outputs (run first if they are missing).
    services_path : Path, optional
        Services CSV/XLSX/GeoJSON; ignored when ``services_table`` is given.
    services_table : GeoDataFrame, optional
        Services already read (e.g. the registry's), columns as in
        :func:`coverage.data.services.validate_services`, EPSG:4326 points.
    population_path : Path, optional
        A user population layer replacing the communities
        (:func:`coverage.data.communities.load_user_population`).
    include_osm_health : bool
        Add the data step's OSM hospitals and clinics (``type`` "medical") when present.
    mirror : Path, optional
        Local mirror of the public sources for :func:`ensure_data`.
    progress : Progress, optional
        Callback for progress messages.
    settings : Settings, optional
        Default :func:`coverage.config.load_settings`.

    Returns
    -------
    Inputs
        All tables in EPSG:4326; ``services`` with ``district_id`` assigned, public points
        and public columns only.

    Raises
    ------
    CoverageError
        A missing or invalid input file (e.g. ``ServicesError``, ``CommunityError``,
        ``BoundaryError``, ``DataStepError``).
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
    """The threshold in minutes as a float.

    Parameters
    ----------
    threshold_min : float
        Minutes; anything ``float()`` accepts.

    Returns
    -------
    float
        The threshold in minutes.

    Raises
    ------
    InputError
        ``input.threshold`` unless 0 < minutes <= :data:`config.MAX_THRESHOLD_MIN`
        (NaN and infinity refused).
    """
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

    Parameters
    ----------
    inputs : Inputs
        From :func:`load_inputs` (public service points).
    season : str
        One of :data:`coverage.config.SEASONS`; roads closed in that season are left out.
    network_path : Path, optional
        OSM road file; default ``settings.network_path``.
    settings : Settings, optional
        Speeds and access rules; default :func:`coverage.config.load_settings`.
    progress : Progress, optional
        Callback for progress messages.

    Returns
    -------
    DataFrame
        One row per (community, service type) as
        :func:`coverage.engine.travel.nearest_service_times`: ``community_id``,
        ``service_type``, ``minutes``, ``service_id``, ``access_minutes``,
        ``network_minutes`` (minutes), ``direct`` (bool).

    Raises
    ------
    InputError
        ``input.unknown_season`` for an unknown season.
    """
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
    *,
    measure: str = config.DEFAULT_MEASURE,
) -> Analysis:
    """Gaps for the chosen type(s) and threshold, optionally limited to some regions.

    Cheap (no routing): this is what reruns when the threshold or type changes.

    Parameters
    ----------
    inputs : Inputs
        From :func:`load_inputs`.
    times : DataFrame
        From :func:`travel_times` (``community_id``, ``service_type``, ``minutes``, ...).
    service_type : str or sequence of str
        One or more of :data:`coverage.config.SERVICE_TYPES`; with several, the nearest
        of any counts.
    threshold_min : float
        Minutes; a community further than this (or unreachable) is underserved.
    season : str
        Recorded on the result (the season ``times`` were computed for).
    regions : sequence of str, optional
        Keep only communities of these regions.
    measure : str
        What the district and region figures count: ``"women"`` (default; the census
        female share per district) or ``"population"`` (all people).

    Returns
    -------
    Analysis

    Raises
    ------
    InputError
        ``services.unknown_type`` for an unknown type, ``input.threshold`` for a bad
        threshold, ``input.measure`` for an unknown measure.
    """
    types = (service_type,) if isinstance(service_type, str) else tuple(service_type)
    unknown = [t for t in types if t not in config.SERVICE_TYPES]
    if unknown:
        raise InputError(f"unknown service type(s) {unknown}; choose from {', '.join(config.SERVICE_TYPES)}",
                         message_id="services.unknown_type", types=unknown, known=config.SERVICE_TYPES)
    check_threshold(threshold_min)
    gaps.check_measure(measure)
    comms = inputs.communities
    if regions:
        comms = comms[comms["region"].isin(regions)]
    per_community = gaps.community_gaps(times, comms, threshold_min, types)
    district_table = gaps.district_summary(per_community, inputs.districts, measure=measure)
    ranking = gaps.rank_underserved(per_community, privacy.public_columns(inputs.services), measure=measure)
    return Analysis(
        service_types=types,
        threshold_min=float(threshold_min),
        season=season,
        communities=per_community,
        districts=district_table,
        ranking=ranking,
        totals=gaps.region_totals(per_community, measure=measure),
        measure=measure,
    )

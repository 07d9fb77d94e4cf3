"""Capacity-aware coverage: how many shelter places are within reach, per 100,000 women,
by district, and where the estimated demand exceeds them (issue 13, Capacity).

The two-step floating catchment area method (2SFCA; Luo & Wang 2003, the family PySAL's
``access`` package implements), with a catchment of ``threshold_min`` minutes by road:

1. each service j with known places S_j gets a ratio R_j = S_j / Σ_i P_i over the
   communities i within the threshold of it (P = women by default, or all people):
   places per woman in its catchment;
2. each community's accessibility A_i = Σ_j R_j over the services within the threshold
   of it: places per woman within reach.

A district's figure is the women-weighted mean of its communities' A_i, times 100,000:
places per 100,000 women within reach. Σ_i P_i A_i over a district is the district's
share of the places (the shares of all districts add up to the places of every service
that reaches someone). A service whose places are unknown is left out and counted,
never read as zero places.

Demand is an ESTIMATE from an assumption the user can change: places needed at any one
time = the district's people × ``demand_per_10k`` ÷ 10,000 (default
:data:`coverage.config.CAPACITY_DEMAND_PER_10K`, the Council of Europe's minimum standard
of one family place per 10,000 inhabitants; see :data:`coverage.config.CAPACITY_DEMAND_SOURCE`).
A district's demand exceeds the places in reach when it is larger than its share.

Every figure is computed from public inputs (``analysis.load_inputs``: confidential
services at their public town point), so it is a public figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import config
from coverage.analysis import gaps
from coverage.analysis.pipeline import Inputs, check_threshold
from coverage.data import services as svc
from coverage.engine import od, roads
from coverage.errors import InputError
from coverage.views import privacy

PER_PEOPLE = 100_000  # accessibility is reported as places per this many women (or people)

DISTRICT_COLUMNS: tuple[str, ...] = (
    "district_id", "district", "region", "counted", "population", "places_share", "per_100k",
    "demand_places", "shortfall", "exceeds",
)
SERVICE_COLUMNS: tuple[str, ...] = (
    "service_id", "name", "type", "org", "town", "district", "region", "places", "counted_within", "ratio_per_100k",
)


@dataclass(frozen=True)
class Capacity:
    """Capacity-aware coverage for one choice of service types, threshold and count.

    Attributes
    ----------
    service_types
        The service types whose places count (e.g. ``("shelter",)``).
    threshold_min
        The catchment, minutes by road.
    measure
        What ``counted`` counts: ``"women"`` (default) or ``"population"`` (all people).
    demand_per_10k
        The assumption behind ``demand_places``: places needed at one time per 10,000
        inhabitants (an estimate; see :data:`coverage.config.CAPACITY_DEMAND_SOURCE`).
    districts
        One row per district (:data:`DISTRICT_COLUMNS`): ``counted`` (women or people in
        its communities), ``population`` (people), ``places_share`` (the district's share
        of the places within reach, 2SFCA, an estimate), ``per_100k`` (places per 100,000
        counted within reach, an estimate), ``demand_places`` (estimate), ``shortfall``
        (demand − share, ≥ 0) and ``exceeds`` (demand larger than the share). Most
        short first.
    services
        One row per service with known places (:data:`SERVICE_COLUMNS`), public columns
        only: ``counted_within`` (women or people within the threshold of it) and
        ``ratio_per_100k`` (its places per 100,000 of them; NaN when it reaches no one).
    unknown
        Public names of the services of these types whose places are unknown (left out).
    unreached_places
        Places of services that no community reaches within the threshold.
    """

    service_types: tuple[str, ...]
    threshold_min: float
    measure: str
    demand_per_10k: float
    districts: pd.DataFrame
    services: pd.DataFrame
    unknown: tuple[str, ...]
    unreached_places: float

    @property
    def unknown_count(self) -> int:
        """How many services were left out because their places are unknown."""
        return len(self.unknown)

    @property
    def total_places(self) -> float:
        """Known places of the services analysed."""
        return float(self.services["places"].sum())


def two_step_fca(minutes: np.ndarray, supply: np.ndarray, demand: np.ndarray, *,
                 threshold_min: float) -> tuple[np.ndarray, np.ndarray]:
    """The two-step floating catchment area method on a travel-time matrix.

    Parameters
    ----------
    minutes : ndarray
        (n_communities, n_services) minutes from each community to each service (``inf``
        when unreachable or beyond a bound).
    supply : ndarray
        (n_services,) places of each service (finite, ≥ 0).
    demand : ndarray
        (n_communities,) women (or people) of each community.
    threshold_min : float
        Catchment in minutes: a pair counts when ``minutes <= threshold_min``.

    Returns
    -------
    ratio : ndarray
        (n_services,) places per person within the catchment of each service; NaN for a
        service no one (with people) can reach.
    access : ndarray
        (n_communities,) Σ of the ratios of the services within reach (places per person;
        0 when none is in reach).
    """
    within = np.asarray(minutes, dtype=float) <= threshold_min
    demand = np.asarray(demand, dtype=float)
    supply = np.asarray(supply, dtype=float)
    reached = demand @ within  # (n_services,) people within each catchment
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reached > 0, supply / reached, np.nan)
    access = within @ np.nan_to_num(ratio, nan=0.0)
    return ratio, access


def capacity_services(inputs: Inputs, service_types: Sequence[str]) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """The public services of ``service_types`` with known places, and the public names of
    those whose places are unknown (left out, never read as zero).

    Parameters
    ----------
    inputs : Inputs
        From :func:`coverage.analysis.load_inputs` (public points, EPSG:4326).
    service_types : sequence of str
        Types from :data:`coverage.config.SERVICE_TYPES`.

    Returns
    -------
    known : GeoDataFrame
        Public columns plus ``org``; ``places`` as float.
    unknown : tuple of str
        Public names (:func:`coverage.views.privacy.public_name`) of the others.

    Raises
    ------
    InputError
        ``services.unknown_type`` for a type not in :data:`coverage.config.SERVICE_TYPES`.
    """
    types = tuple(service_types)
    bad = [t for t in types if t not in config.SERVICE_TYPES]
    if bad or not types:
        raise InputError(f"unknown service type(s) {bad}; choose from {', '.join(config.SERVICE_TYPES)}",
                         message_id="services.unknown_type", types=bad, known=config.SERVICE_TYPES)
    chosen = inputs.services[inputs.services["type"].isin(types)].reset_index(drop=True)
    places = (svc.places_values(chosen["places"]) if "places" in chosen
              else np.full(len(chosen), np.nan))
    known = chosen[~np.isnan(places)].assign(places=places[~np.isnan(places)]).reset_index(drop=True)
    unknown = chosen[np.isnan(places)]
    names = tuple(privacy.public_name(unknown)) if len(unknown) else ()
    return gpd.GeoDataFrame(known, geometry="geometry", crs=inputs.services.crs), names


def service_minutes(network: roads.RoutingNetwork, communities: gpd.GeoDataFrame, services: gpd.GeoDataFrame, *,
                    limit_minutes: float, settings: config.Settings | None = None) -> np.ndarray:
    """(n_communities, n_services) minutes from each community to each service, ``inf``
    beyond ``limit_minutes`` (:func:`coverage.engine.od.od_minutes`, bounded searches).

    Parameters
    ----------
    network : RoutingNetwork
        From :func:`coverage.engine.roads.load_network`.
    communities, services : GeoDataFrame
        Points (EPSG:4326); services at their public points.
    limit_minutes : float
        The catchment, minutes.
    settings : Settings, optional
        Access speeds and snapping; default :func:`coverage.config.load_settings`.

    Returns
    -------
    ndarray
        float minutes.
    """
    if len(services) == 0 or len(communities) == 0:
        return np.full((len(communities), len(services)), np.inf)
    return od.od_minutes(network, communities, services, limit_minutes=limit_minutes, settings=settings)


def _check_rate(demand_per_10k: float) -> float:
    try:
        value = float(demand_per_10k)
    except (TypeError, ValueError):
        value = float("nan")
    if not (0 <= value <= 10_000):  # also False for NaN
        raise InputError(f"the demand rate must be a number of places per 10,000 people from 0 to 10,000, "
                         f"not {demand_per_10k!r}", message_id="input.demand_rate", field="demand_rate",
                         value=str(demand_per_10k))
    return value


def capacity_coverage(inputs: Inputs, services: gpd.GeoDataFrame, minutes: np.ndarray, *, service_types: Sequence[str],
                      threshold_min: float, measure: str = config.DEFAULT_MEASURE,
                      demand_per_10k: float = config.CAPACITY_DEMAND_PER_10K, unknown: Sequence[str] = (),
                      regions: Sequence[str] | None = None) -> Capacity:
    """Places per 100,000 women within reach by district, and where demand exceeds them.

    Parameters
    ----------
    inputs : Inputs
        Public inputs (communities with ``women``, ``population``, ``district_id``).
    services : GeoDataFrame
        Services with known places, as :func:`capacity_services` returns them.
    minutes : ndarray
        (n_communities, n_services) from :func:`service_minutes` (rows in
        ``inputs.communities`` order).
    service_types : sequence of str
        Recorded on the result.
    threshold_min : float
        Catchment, minutes.
    measure : str
        ``"women"`` (default) or ``"population"``: what the ratios count.
    demand_per_10k : float
        Places needed at one time per 10,000 inhabitants (an assumption, 0–10,000).
    unknown : sequence of str
        Public names of the services left out for unknown places (recorded on the result).
    regions : sequence of str, optional
        Keep only these regions' districts in the table (the ratios always count every
        community, so a service's catchment does not stop at a region border).

    Returns
    -------
    Capacity

    Raises
    ------
    InputError
        ``input.threshold``, ``input.measure`` or ``input.demand_rate`` for a bad value.
    """
    threshold = check_threshold(threshold_min)
    gaps.check_measure(measure)
    rate = _check_rate(demand_per_10k)
    comms = inputs.communities
    counted = comms[measure].to_numpy(dtype=float)
    supply = services["places"].to_numpy(dtype=float)
    ratio, access = two_step_fca(minutes, supply, counted, threshold_min=threshold)
    within = np.asarray(minutes, dtype=float) <= threshold
    per_community = pd.DataFrame({
        "district_id": comms["district_id"].to_numpy(), "district": comms["district"].to_numpy(),
        "region": comms["region"].to_numpy(), "counted": counted,
        "population": comms["population"].to_numpy(dtype=float), "share": counted * access,
    })
    table = per_community.groupby(["district_id", "district", "region"], as_index=False).agg(
        counted=("counted", "sum"), population=("population", "sum"), places_share=("share", "sum"))
    table["per_100k"] = np.where(table["counted"] > 0, table["places_share"] / table["counted"].where(
        table["counted"] > 0, 1) * PER_PEOPLE, 0.0)
    table["demand_places"] = table["population"] * rate / 10_000
    table["shortfall"] = np.maximum(table["demand_places"] - table["places_share"], 0.0)
    table["exceeds"] = table["demand_places"] > table["places_share"]
    if regions:
        table = table[table["region"].isin(list(regions))]
    table = table.sort_values(["shortfall", "per_100k"], ascending=[False, True]).reset_index(drop=True)
    public = privacy.public_columns(services, extra=("org",))
    service_table = pd.DataFrame({c: public[c].to_numpy() if c in public else "" for c in SERVICE_COLUMNS[:7]})
    service_table["name"] = privacy.public_name(services).to_numpy() if len(services) else []
    service_table["places"] = supply
    service_table["counted_within"] = counted @ within if len(services) else np.zeros(0)
    service_table["ratio_per_100k"] = ratio * PER_PEOPLE
    unreached = float(supply[np.isnan(ratio)].sum()) if len(supply) else 0.0
    return Capacity(service_types=tuple(service_types), threshold_min=threshold, measure=measure,
                    demand_per_10k=rate, districts=table[list(DISTRICT_COLUMNS)], services=service_table,
                    unknown=tuple(unknown), unreached_places=unreached)


def run_capacity(inputs: Inputs, *, service_types: Sequence[str] = config.CAPACITY_TYPES,
                 threshold_min: float = config.DEFAULT_THRESHOLD_MIN, season: str = "summer",
                 measure: str = config.DEFAULT_MEASURE, demand_per_10k: float | None = None,
                 regions: Sequence[str] | None = None, network_path: Path | None = None,
                 settings: config.Settings | None = None) -> Capacity:
    """Load the road network for ``season`` and run :func:`capacity_coverage` (the
    command line's path; the dashboard caches :func:`service_minutes` itself).

    Parameters
    ----------
    inputs : Inputs
        From :func:`coverage.analysis.load_inputs` (public points).
    service_types, threshold_min, measure, regions
        As :func:`capacity_coverage`.
    season : str
        One of :data:`coverage.config.SEASONS`.
    demand_per_10k : float, optional
        Default ``settings.capacity_demand_per_10k``.
    network_path : Path, optional
        Road file; default ``settings.network_path``.
    settings : Settings, optional
        Default :func:`coverage.config.load_settings`.

    Returns
    -------
    Capacity

    Raises
    ------
    InputError
        A bad type, threshold, measure, season or demand rate.
    """
    settings = config.load_settings() if settings is None else settings
    threshold = check_threshold(threshold_min)
    if season not in config.SEASONS:
        raise InputError(f"season must be one of {config.SEASONS}, not {season!r}", message_id="input.unknown_season",
                         season=str(season), known=config.SEASONS)
    known, unknown = capacity_services(inputs, service_types)
    network = roads.load_network(network_path or settings.network_path, season=season, settings=settings)
    minutes = service_minutes(network, inputs.communities, known, limit_minutes=threshold, settings=settings)
    rate = settings.capacity_demand_per_10k if demand_per_10k is None else demand_per_10k
    return capacity_coverage(inputs, known, minutes, service_types=service_types, threshold_min=threshold,
                             measure=measure, demand_per_10k=rate, unknown=unknown, regions=regions)

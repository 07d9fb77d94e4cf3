"""The one edge every public output passes through.

Exact points of confidential services (shelters) live only in the store. Anything that
leaves toward a browser, a file or a log for the public goes through
:func:`public_services`, which moves each confidential service to its *public point*
(the point of its settlement: the nearest town or city, or its district seat) and
keeps only whitelisted columns, so no address or private note leaks. Points are
snapped, never jittered: jitter around a true point can be averaged away.

Every public *figure* (minutes, underserved ranks, reach, district summaries) is
computed from the same public points: :func:`engine_services` is what the travel
engine is given, and :func:`public_inputs` applies it to a whole
:class:`coverage.analysis.Inputs` (``load_inputs`` calls it for the dashboard and the
command line alike). Travel minutes from exact points would give every community a
ring around the shelter, and enough rings locate it to a few metres.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from coverage import config

# Columns a public view may show; anything else (address, phone, staff notes) is dropped.
PUBLIC_COLUMNS: tuple[str, ...] = (
    "service_id",
    "name",
    "organisation",
    "type",
    "town",
    "district",
    "district_id",
    "region",
    "lon",
    "lat",
    "location_precision",
    "confidential",
    "capacity",
    "places",  # beds or places (published capacities; not a location)
    "opened_year",
    "source",
    "source_date",
    "confidence",
)
# Columns the travel engine and the reach figures need beyond the public ones.
ENGINE_COLUMNS: tuple[str, ...] = ("org",)
SETTLEMENT_PLACES = ("city", "town")


def settlement_points(communities: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Named points a confidential service may be shown at (EPSG:4326), ``kind`` =
    ``settlement``: every city and town among the communities, plus each district seat
    when the districts table has one. A confidential service is moved to the nearest.

    Only gazetteer points count, never another service's point: a shelter shown at the
    point of a public crisis centre would tell everyone it is in that building.

    Parameters
    ----------
    communities : GeoDataFrame
        Gazetteer communities (``name``, ``place``, point geometry, any CRS).
    districts : GeoDataFrame, optional
        Districts; their seats count when ``seat``, ``seat_lon`` and ``seat_lat``
        (degrees, EPSG:4326) are present.

    Returns
    -------
    GeoDataFrame
        ``name``, ``kind`` ("settlement") and point geometry in EPSG:4326.
    """
    towns = communities[communities["place"].isin(SETTLEMENT_PLACES)][["name", "geometry"]]
    frames = [towns.assign(kind="settlement")]
    if districts is not None and {"seat", "seat_lon", "seat_lat"} <= set(districts.columns):
        seats = districts[districts["seat"].fillna("").astype(str) != ""]
        frames.append(
            gpd.GeoDataFrame(
                {"name": seats["seat"].to_numpy(), "kind": "settlement"},
                geometry=gpd.points_from_xy(seats["seat_lon"], seats["seat_lat"]),
                crs=config.CRS_STORE,
            )
        )
    places = pd.concat([f.to_crs(config.CRS_STORE) for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(places, geometry="geometry", crs=config.CRS_STORE)


def public_services(services: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None,
                    extra: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Services as the public may see them.

    Every confidential row is moved to its public point: the nearest ``settlement``
    point in ``places`` (see :func:`settlement_points`), taking that place's name as its
    ``town`` and a plain name made of its organisation, type and town (the registry's
    own name and town text never go out for it: staff may have typed an address there),
    and marked ``settlement`` (or kept at
    ``district`` when it was only known to district level), whatever precision it was
    recorded at, so a mislabelled exact point cannot slip through. With no ``places``
    no confidential point can be made safe, so confidential rows are dropped rather
    than shown.

    Parameters
    ----------
    services : GeoDataFrame
        Services with at least ``confidential`` (and, for confidential rows, ``lon``,
        ``lat``, ``location_precision``, ``organisation``, ``type``), points with a CRS.
    places : GeoDataFrame, optional
        Public points (:func:`settlement_points`); the nearest is found in EPSG:32642 metres.
    extra : tuple of str
        Columns kept besides :data:`PUBLIC_COLUMNS`.

    Returns
    -------
    GeoDataFrame
        The public columns present and the geometry, index reset, CRS of ``services``;
        confidential rows moved (``lon``/``lat`` in degrees of the place's EPSG:4326
        point, ``town``, ``name``, ``location_precision``) or dropped.
    """
    out = services.copy()
    confidential = out["confidential"].astype(bool).to_numpy()
    if places is None or places.empty:
        out = out[~confidential]
    else:
        to_move = confidential
        if to_move.any():
            out = _snap_to_places(out, to_move, places)
    return public_columns(out, extra)


def public_columns(services: gpd.GeoDataFrame, extra: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Only the :data:`PUBLIC_COLUMNS` (and ``extra``, and the geometry) of a services
    table, so no address, owner or private note goes along; points are left as they are.

    Returns
    -------
    GeoDataFrame
        The columns of :data:`PUBLIC_COLUMNS` + ``extra`` that ``services`` has, in that
        order, plus ``geometry``; CRS of ``services``, index reset.
    """
    keep = [c for c in PUBLIC_COLUMNS + tuple(extra) if c in services.columns]
    return gpd.GeoDataFrame(services[keep + ["geometry"]], geometry="geometry",
                            crs=services.crs).reset_index(drop=True)


def engine_services(services: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The services every public figure is computed from (EPSG:4326).

    The same rows and points as :func:`public_services` (each confidential service at
    its public point, or left out when there are no ``places``), with the
    :data:`ENGINE_COLUMNS` the engine and the reach figures need. Give the travel
    engine this, never the registry's table: minutes from an exact point can be
    triangulated back to it.

    Parameters
    ----------
    services : GeoDataFrame
        Services, possibly with exact confidential points.
    places : GeoDataFrame, optional
        Public points (:func:`settlement_points`).

    Returns
    -------
    GeoDataFrame
        :func:`public_services` with ``extra=ENGINE_COLUMNS`` (adds ``org``).
    """
    return public_services(services, places, extra=ENGINE_COLUMNS)


InputsT = TypeVar("InputsT")


def public_inputs(inputs: InputsT) -> InputsT:
    """A :class:`coverage.analysis.Inputs` whose ``services`` are :func:`engine_services`
    of its services and places: what the dashboard and the command line compute every
    public figure from. Applying it twice changes nothing.

    Parameters
    ----------
    inputs : Inputs
        Any dataclass with ``services`` and ``places`` fields.

    Returns
    -------
    Inputs
        A copy with ``services`` replaced; other fields shared.
    """
    return dataclasses.replace(inputs, services=engine_services(inputs.services, inputs.places))


def public_name(services: pd.DataFrame) -> pd.Series:
    """The name a confidential service goes out under: "<org> <type> (<town>)", e.g.
    "Ghamkhori shelter (Bokhtar)", from the short organisation name (or the organisation)
    and the public town, never the registry's free-text name.

    Parameters
    ----------
    services : DataFrame
        Needs ``organisation``, ``type`` and ``town``; ``org`` when present.

    Returns
    -------
    Series of str
        Aligned with ``services``; no brackets when the town is empty.
    """
    org = services["org"].fillna("").astype(str) if "org" in services else pd.Series("", index=services.index)
    org = org.where(org.str.strip() != "", services["organisation"].fillna("").astype(str))
    kind = services["type"].astype(str).str.replace("_", " ")
    town = services["town"].fillna("").astype(str)
    name = (org.str.strip() + " " + kind).str.strip()
    return name.where(town.str.strip() == "", name + " (" + town + ")")


def _snap_to_places(out: gpd.GeoDataFrame, to_move: np.ndarray, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric_places = places.to_crs(config.CRS_METRIC)
    xy = np.column_stack([metric_places.geometry.x, metric_places.geometry.y])
    settlement = (places["kind"] == "settlement").to_numpy() if "kind" in places else np.ones(len(places), bool)
    if not settlement.any():
        settlement = np.ones(len(places), bool)
    moving = out[to_move].to_crs(config.CRS_METRIC)
    moving_xy = np.column_stack([moving.geometry.x, moving.geometry.y])
    _, nearest = cKDTree(xy[settlement]).query(moving_xy)
    nearest = np.flatnonzero(settlement)[nearest]
    snapped = places.iloc[nearest]
    lon = snapped.geometry.x.to_numpy()
    lat = snapped.geometry.y.to_numpy()
    out = out.copy()
    out.loc[to_move, "lon"] = lon
    out.loc[to_move, "lat"] = lat
    out.loc[to_move, "town"] = snapped["name"].to_numpy()
    out.loc[to_move, "name"] = public_name(out.loc[to_move])
    was_district = out["location_precision"].astype(str).to_numpy() == "district"
    out.loc[to_move & ~was_district, "location_precision"] = "settlement"
    geometry = np.array(out.geometry.to_numpy(), dtype=object)
    geometry[to_move] = gpd.points_from_xy(lon, lat)
    return out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=out.crs))

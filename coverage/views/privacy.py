"""The one edge every public output passes through.

Exact points of confidential services (shelters) live only in the store and in the
travel engine. Anything that leaves toward a browser, a file or a log for the public
goes through :func:`public_services`, which moves each confidential service to the
point of its settlement (the nearest town or city) or, failing that, its district
seat, and keeps only whitelisted columns, so no address or private note leaks.
Points are snapped, never jittered: jitter around a true point can be averaged away.
"""

from __future__ import annotations

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
    "opened_year",
    "source",
    "source_date",
    "confidence",
)
SETTLEMENT_PLACES = ("city", "town")


def settlement_points(communities: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Named points a confidential service may be shown at: every city and town among
    the communities, plus each district seat when the districts table has one."""
    towns = communities[communities["place"].isin(SETTLEMENT_PLACES)][["name", "geometry"]]
    frames = [towns]
    if districts is not None and {"seat", "seat_lon", "seat_lat"} <= set(districts.columns):
        seats = districts[districts["seat"].fillna("").astype(str) != ""]
        frames.append(
            gpd.GeoDataFrame(
                {"name": seats["seat"].to_numpy()},
                geometry=gpd.points_from_xy(seats["seat_lon"], seats["seat_lat"]),
                crs=config.CRS_STORE,
            )
        )
    places = pd.concat([f.to_crs(config.CRS_STORE) for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(places, geometry="geometry", crs=config.CRS_STORE)


def public_services(services: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Services as the public may see them.

    Every confidential row is moved to the nearest settlement point in ``places`` (see
    :func:`settlement_points`) and marked ``settlement`` (or kept at ``district`` when it
    was only known to district level), whatever precision it was recorded at, so a
    mislabelled exact point cannot slip through. With no ``places`` no confidential
    point can be made safe, so confidential rows are dropped rather than shown.
    """
    out = services.copy()
    confidential = out["confidential"].astype(bool).to_numpy()
    if places is None or places.empty:
        out = out[~confidential]
    else:
        to_move = confidential
        if to_move.any():
            out = _snap_to_places(out, to_move, places)
    return public_columns(out)


def public_columns(services: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Only the :data:`PUBLIC_COLUMNS` (and the geometry) of a services table, so no
    address, owner or private note goes along; points are left as they are."""
    keep = [c for c in PUBLIC_COLUMNS if c in services.columns]
    return gpd.GeoDataFrame(services[keep + ["geometry"]], geometry="geometry",
                            crs=services.crs).reset_index(drop=True)


def _snap_to_places(out: gpd.GeoDataFrame, to_move: np.ndarray, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric_places = places.to_crs(config.CRS_METRIC)
    tree = cKDTree(np.column_stack([metric_places.geometry.x, metric_places.geometry.y]))
    moving = out[to_move].to_crs(config.CRS_METRIC)
    _, nearest = tree.query(np.column_stack([moving.geometry.x, moving.geometry.y]))
    snapped = places.iloc[nearest]
    lon = snapped.geometry.x.to_numpy()
    lat = snapped.geometry.y.to_numpy()
    out = out.copy()
    out.loc[to_move, "lon"] = lon
    out.loc[to_move, "lat"] = lat
    out.loc[to_move, "town"] = snapped["name"].to_numpy()
    was_district = out["location_precision"].astype(str).to_numpy() == "district"
    out.loc[to_move & ~was_district, "location_precision"] = "settlement"
    geometry = np.array(out.geometry.to_numpy(), dtype=object)
    geometry[to_move] = gpd.points_from_xy(lon, lat)
    return out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=out.crs))

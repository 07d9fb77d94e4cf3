"""Who is underserved: per community, per district, ranked.

Input is the travel table of :func:`coverage.travel.nearest_service_times` (one row
per community and service type, minutes by road). A community is *underserved* for a
threshold when its nearest service of the chosen type(s) is more than ``threshold_min``
minutes away, or unreachable.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import config
from coverage.errors import InputError


def check_measure(measure: str) -> str:
    """The measure the figures count, checked.

    Parameters
    ----------
    measure : str
        One of :data:`coverage.config.MEASURES`: ``"women"`` (default everywhere) or
        ``"population"`` (all people).

    Returns
    -------
    str
        ``measure``, unchanged.

    Raises
    ------
    InputError
        ``input.measure`` for anything else.
    """
    if measure not in config.MEASURES:
        raise InputError(f"unknown measure {measure!r}; choose from {', '.join(config.MEASURES)}",
                         message_id="input.measure", field="measure", value=str(measure),
                         known=config.MEASURES)
    return measure


def _as_types(service_type: str | Sequence[str]) -> list[str]:
    return [service_type] if isinstance(service_type, str) else list(service_type)


def community_gaps(
    times: pd.DataFrame,
    communities: gpd.GeoDataFrame,
    threshold_min: float,
    service_type: str | Sequence[str],
) -> gpd.GeoDataFrame:
    """Communities with ``minutes`` to the nearest service of the chosen type(s), the
    ``service_id`` and ``service_type`` reached, and ``underserved`` (bool).

    With several types, the nearest of any of them counts (e.g. "a shelter or a crisis
    centre"). Communities with no reachable service get ``minutes = inf``.

    Parameters
    ----------
    times : DataFrame
        :func:`coverage.engine.travel.nearest_service_times` rows: ``community_id``,
        ``service_type``, ``minutes``, ``service_id``, ``access_minutes``.
    communities : GeoDataFrame
        Communities (``community_id``, ``population`` in people, ``district_id``, ...),
        points in EPSG:4326.
    threshold_min : float
        Minutes.
    service_type : str or sequence of str
        The type(s) that count.

    Returns
    -------
    GeoDataFrame
        ``communities``' columns plus ``minutes`` (float, ``inf`` unreachable),
        ``service_id``, ``service_type``, ``access_minutes`` (minutes), ``underserved``
        (bool: not within ``threshold_min``) and ``threshold_min``; same CRS as
        ``communities``.
    """
    types = _as_types(service_type)
    chosen = times[times["service_type"].isin(types)]
    if chosen.empty:
        nearest = pd.DataFrame(
            {"community_id": communities["community_id"], "minutes": np.inf,
             "service_id": None, "service_type": None, "access_minutes": np.nan}
        )
    else:
        order = chosen.sort_values(["community_id", "minutes"], kind="stable")
        nearest = order.drop_duplicates("community_id", keep="first")[
            ["community_id", "minutes", "service_id", "service_type", "access_minutes"]
        ]
    out = communities.merge(nearest, on="community_id", how="left")
    out["minutes"] = out["minutes"].fillna(np.inf).astype(float)
    out["underserved"] = ~(out["minutes"] <= float(threshold_min))
    out["threshold_min"] = float(threshold_min)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=communities.crs)


def district_summary(gaps: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None = None, *,
                     measure: str = config.DEFAULT_MEASURE) -> pd.DataFrame:
    """Per district: ``population`` (the measure counted: women or all people),
    ``population_within`` / ``population_beyond`` the threshold, ``share_within`` (0–1),
    measure-weighted ``mean_minutes`` of the reachable, and the ``worst_community`` with
    its ``worst_minutes``.

    Sorted by the measure beyond the threshold, most first. ``districts`` (optional) adds
    districts with no community and today's names/regions from the boundaries table.

    Parameters
    ----------
    gaps : GeoDataFrame
        From :func:`community_gaps` (needs ``district_id``, ``district``, ``region``,
        ``community_id``, ``name``, ``population``, ``minutes``, ``underserved``,
        ``threshold_min``).
    districts : GeoDataFrame, optional
        Boundaries table (``district_id``, ``district``, ``region``).
    measure : str
        The communities column counted (:data:`coverage.config.MEASURES`): ``"women"``
        (default) or ``"population"`` (all people).

    Returns
    -------
    DataFrame
        One row per district with a community: ``district_id``, ``district``,
        ``region``, ``communities``, ``population``, ``population_within``,
        ``population_beyond`` (people of the measure), ``measure``, ``communities_beyond``, ``share_within`` (0–1,
        NaN with no people), ``mean_minutes`` (``inf`` when none is reachable),
        ``worst_community``, ``worst_minutes`` and ``threshold_min`` (minutes).
    """
    frame = pd.DataFrame(gaps.drop(columns="geometry"))
    frame["population"] = frame[check_measure(measure)]
    frame["pop_within"] = np.where(frame["underserved"], 0, frame["population"])
    finite = np.isfinite(frame["minutes"])
    frame["pop_minutes"] = np.where(finite, frame["minutes"] * frame["population"], 0.0)
    frame["pop_finite"] = np.where(finite, frame["population"], 0)
    grouped = frame.groupby("district_id", sort=False)
    summary = grouped.agg(
        district=("district", "first"),
        region=("region", "first"),
        communities=("community_id", "size"),
        population=("population", "sum"),
        population_within=("pop_within", "sum"),
        pop_minutes=("pop_minutes", "sum"),
        pop_finite=("pop_finite", "sum"),
        communities_beyond=("underserved", "sum"),
    )
    worst_idx = frame.sort_values("minutes", ascending=False, kind="stable").drop_duplicates("district_id").set_index(
        "district_id"
    )
    summary["worst_community"] = worst_idx["name"].reindex(summary.index)
    summary["worst_minutes"] = worst_idx["minutes"].reindex(summary.index)
    summary["population_beyond"] = summary["population"] - summary["population_within"]
    summary["share_within"] = np.where(summary["population"] > 0,
                                       summary["population_within"] / summary["population"].clip(lower=1), np.nan)
    summary["mean_minutes"] = np.where(summary["pop_finite"] > 0,
                                       summary["pop_minutes"] / summary["pop_finite"].clip(lower=1), np.inf)
    summary = summary.drop(columns=["pop_minutes", "pop_finite"]).reset_index()
    if districts is not None:
        names = districts[["district_id", "district", "region"]]
        summary = names.merge(summary.drop(columns=["district", "region"]), on="district_id", how="left")
        summary = summary[summary["communities"].notna()]
    summary["threshold_min"] = float(gaps["threshold_min"].iloc[0]) if len(gaps) else np.nan
    summary["measure"] = measure
    int_cols = ["communities", "population", "population_within", "population_beyond", "communities_beyond"]
    summary[int_cols] = summary[int_cols].astype("int64")
    return summary.sort_values(["population_beyond", "population"], ascending=[False, False]).reset_index(drop=True)


def region_totals(gaps: gpd.GeoDataFrame, *, measure: str = config.DEFAULT_MEASURE) -> pd.DataFrame:
    """Women (or all people) within and beyond the threshold per region and overall
    (last row 'All').

    Parameters
    ----------
    gaps : GeoDataFrame
        From :func:`community_gaps` (needs ``region``, the measure's column, ``underserved``).
    measure : str
        The communities column counted: ``"women"`` (default) or ``"population"``.

    Returns
    -------
    DataFrame
        ``region``, ``population``, ``population_within``, ``population_beyond``
        (people of the measure), ``share_within`` (0–1) and ``measure``.
    """
    frame = pd.DataFrame(gaps.drop(columns="geometry"))
    frame["population"] = frame[check_measure(measure)]
    frame["pop_within"] = np.where(frame["underserved"], 0, frame["population"])
    totals = frame.groupby("region").agg(population=("population", "sum"), population_within=("pop_within", "sum"))
    totals.loc["All"] = totals.sum()
    totals["population_beyond"] = totals["population"] - totals["population_within"]
    totals["share_within"] = totals["population_within"] / totals["population"].clip(lower=1)
    totals["measure"] = measure
    return totals.reset_index()


def rank_underserved(gaps: gpd.GeoDataFrame, public_services: pd.DataFrame | None = None, *,
                     measure: str = config.DEFAULT_MEASURE) -> pd.DataFrame:
    """Underserved communities, most women (or people) first: name, district, region,
    population, women, minutes, and (with ``public_services``) the nearest service's name, organisation
    and town.

    ``public_services`` must be the public view of the services
    (:func:`coverage.views.privacy.public_services` / ``public_columns`` of public
    inputs), never the registry's table: its town text is what every row shows, and a
    registry's staff text ("behind school No 12") must not reach a public table.

    Parameters
    ----------
    gaps : GeoDataFrame
        From :func:`community_gaps`.
    public_services : DataFrame, optional
        Public services (``service_id`` and any of ``name``, ``organisation``, ``town``).
    measure : str
        The column the ranking sorts by: ``"women"`` (default) or ``"population"``.

    Returns
    -------
    DataFrame
        The underserved communities (no geometry): ``community_id``, ``name``, ``place``,
        ``district``, ``region``, ``population``, ``women`` (people), ``estimated``, ``minutes``,
        ``service_id``, ``service_type`` (those present), plus ``nearest_service``,
        ``nearest_service_organisation`` and ``nearest_service_town`` with
        ``public_services``; sorted by the measure then minutes, descending.
    """
    check_measure(measure)
    under = pd.DataFrame(gaps[gaps["underserved"]].drop(columns="geometry"))
    columns = ["community_id", "name", "place", "district", "region", "population", "women", "estimated",
               "minutes", "service_id", "service_type"]
    under = under[[c for c in columns if c in under]]
    if public_services is not None and len(under):
        names = {"name": "nearest_service", "organisation": "nearest_service_organisation",
                 "town": "nearest_service_town"}
        lookup = pd.DataFrame(public_services)[["service_id", *[c for c in names if c in public_services]]]
        under = under.merge(lookup.rename(columns=names), on="service_id", how="left")
    return under.sort_values([measure, "minutes"], ascending=[False, False], kind="stable").reset_index(drop=True)

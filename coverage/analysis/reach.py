"""Reach per organisation: how many women (or people) live within 30 / 60 / 120 minutes
of any of an organisation's services, by district, by service type and by region.

Each (organisation, service type) pair is one group in the same multi-source engine pass
used for service types, so the figures use the same roads, access model and population
as the coverage map; an organisation's minutes to "any of its services" are the least
over its types. One person can be within reach of several organisations, so the
organisations' totals do not add up to the number within reach of any service;
:func:`reach_table` reports that figure separately (:data:`ANY_ORGANISATION`).

Counts follow a *measure* (:data:`coverage.config.MEASURES`): ``"women"`` (default, the
communities' ``women`` column) or ``"population"`` (all people). Tables keep the column
names ``population`` and ``within_<t>`` whatever the measure and carry a ``measure``
column, as :func:`coverage.analysis.gaps.district_summary` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import config
from coverage.analysis.gaps import check_measure
from coverage.engine import travel

REACH_THRESHOLDS_MIN: tuple[int, ...] = (30, 60, 120)
ANY_ORGANISATION = "Any organisation"
_GROUP_SEPARATOR = "\x1f"  # joins organisation and type into one engine group name


def within_column(threshold_min: float) -> str:
    """The column holding the count within ``threshold_min`` minutes: ``within_60``."""
    return f"within_{float(threshold_min):g}"


def organisation_times(network, communities: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
                       settings: config.Settings | None = None, *, by_type: bool = False) -> pd.DataFrame:
    """Minutes from every community to the nearest service of each organisation (``org``)
    and of any organisation (:data:`ANY_ORGANISATION`).

    Parameters
    ----------
    network : RoutingNetwork
        From :func:`coverage.engine.roads.load_network`.
    communities : GeoDataFrame
        ``community_id`` and point geometry (EPSG:4326).
    services : GeoDataFrame
        Public services (``service_id``, ``org``, ``type``, point geometry).
    settings : Settings, optional
        Access speeds and snapping; default :func:`coverage.config.load_settings`.
    by_type : bool
        Also split by service type: one row per (community, org, service type).

    Returns
    -------
    DataFrame
        ``community_id``, ``org``, (with ``by_type``) ``service_type``, ``minutes``
        (``inf`` unreachable) and ``service_id`` of the nearest service.
    """
    org = services["org"].astype(str)
    kind = services["type"].astype(str)
    by_org = services.assign(type=org + _GROUP_SEPARATOR + kind)
    by_any = services.assign(type=ANY_ORGANISATION + _GROUP_SEPARATOR + kind)
    grouped = gpd.GeoDataFrame(pd.concat([by_org, by_any], ignore_index=True), geometry="geometry", crs=services.crs)
    times = travel.nearest_service_times(network, communities, grouped, settings=settings)
    if times.empty:
        parts = pd.DataFrame({0: pd.Series(dtype=object), 2: pd.Series(dtype=object)})
    else:
        parts = times["service_type"].astype(str).str.partition(_GROUP_SEPARATOR)
    typed = pd.DataFrame({"community_id": times["community_id"], "org": parts[0], "service_type": parts[2],
                          "minutes": times["minutes"].astype(float), "service_id": times["service_id"]})
    return typed if by_type else per_organisation(typed)


def per_organisation(org_times: pd.DataFrame) -> pd.DataFrame:
    """Rows split by service type collapsed to each organisation's nearest service of
    any of those types (the least minutes); rows without ``service_type`` unchanged.

    Returns
    -------
    DataFrame
        ``community_id``, ``org``, ``minutes``, ``service_id``.
    """
    if "service_type" not in org_times.columns:
        return org_times
    ordered = org_times.sort_values(["community_id", "org", "minutes"], kind="stable")
    nearest = ordered.drop_duplicates(["community_id", "org"], keep="first")
    return nearest[["community_id", "org", "minutes", "service_id"]].reset_index(drop=True)


def _counted(communities: gpd.GeoDataFrame, measure: str) -> pd.DataFrame:
    """community_id, district_id, district, region and ``population`` = the measure's count."""
    column = check_measure(measure)
    people = pd.DataFrame(communities[["community_id", "district_id", "district", "region"]])
    people["population"] = communities[column].to_numpy()
    return people


def _within(merged: pd.DataFrame, thresholds: Sequence[float]) -> dict[str, tuple[str, str]]:
    """Add the ``within_<t>`` columns (the count when minutes <= t, else 0); their aggregations."""
    for t in thresholds:
        merged[within_column(t)] = np.where(merged["minutes"].to_numpy() <= t, merged["population"], 0)
    return {within_column(t): (within_column(t), "sum") for t in thresholds}


def reach_table(org_times: pd.DataFrame, communities: gpd.GeoDataFrame,
                thresholds: Sequence[float] = REACH_THRESHOLDS_MIN, *,
                measure: str = config.DEFAULT_MEASURE) -> pd.DataFrame:
    """Women (or people) within each threshold of each organisation, per district.

    Parameters
    ----------
    org_times : DataFrame
        :func:`organisation_times` rows (split by type or not: an organisation counts
        with its nearest service of any type given).
    communities : GeoDataFrame
        ``community_id``, ``district_id``, ``district``, ``region`` and the measure's column.
    thresholds : sequence of float
        Minutes.
    measure : str
        ``"women"`` (default) or ``"population"`` (all people).

    Returns
    -------
    DataFrame
        ``org``, ``district_id``, ``district``, ``region``, ``population`` (the measure's
        count of the district's communities), ``within_<t>`` per threshold and
        ``measure``. Rows of one organisation add up, over districts, to its total reach.
    """
    merged = per_organisation(org_times).merge(_counted(communities, measure), on="community_id", how="inner")
    table = merged.groupby(["org", "district_id", "district", "region"], as_index=False).agg(
        population=("population", "sum"), **_within(merged, thresholds))
    table["measure"] = measure
    return table.sort_values(["org", within_column(thresholds[-1])], ascending=[True, False]).reset_index(drop=True)


def organisation_totals(table: pd.DataFrame, thresholds: Sequence[float] = REACH_THRESHOLDS_MIN, *,
                        by: Sequence[str] = ("org",)) -> pd.DataFrame:
    """Reach summed over districts per organisation (and per ``by``'s other columns,
    e.g. ``("org", "region")``), most-reaching organisation first, any-organisation rows last.

    Parameters
    ----------
    table : DataFrame
        :func:`reach_table` (or :func:`type_table`) rows.
    thresholds : sequence of float
        Minutes; their ``within_<t>`` columns are summed.
    by : sequence of str
        Grouping columns, starting with ``org``.

    Returns
    -------
    DataFrame
        ``by``'s columns and ``within_<t>`` per threshold (counts of the table's measure).
    """
    cols = [within_column(t) for t in thresholds]
    keys = list(by)
    totals = table.groupby(keys, as_index=False)[cols].sum()
    rank = totals.groupby("org")[cols[-1]].transform("sum")
    is_any = totals["org"] == ANY_ORGANISATION
    totals = totals.assign(_any=is_any, _rank=rank).sort_values(
        ["_any", "_rank", "org", *keys[1:]], ascending=[True, False, True, *[True] * (len(keys) - 1)], kind="stable")
    return totals.drop(columns=["_any", "_rank"]).reset_index(drop=True)


def type_table(type_times: pd.DataFrame, communities: gpd.GeoDataFrame,
               thresholds: Sequence[float] = REACH_THRESHOLDS_MIN, *,
               measure: str = config.DEFAULT_MEASURE) -> pd.DataFrame:
    """Women (or people) within each threshold of each organisation's services of each type.

    Parameters
    ----------
    type_times : DataFrame
        :func:`organisation_times` with ``by_type=True``.
    communities : GeoDataFrame
        ``community_id`` and the measure's column.
    thresholds : sequence of float
        Minutes.
    measure : str
        ``"women"`` (default) or ``"population"``.

    Returns
    -------
    DataFrame
        ``org``, ``service_type``, ``within_<t>`` per threshold, ``measure``; most-reaching
        organisation first, the any-organisation rows last.
    """
    merged = type_times.merge(_counted(communities, measure), on="community_id", how="inner")
    table = merged.groupby(["org", "service_type"], as_index=False).agg(**_within(merged, thresholds))
    order = {t: i for i, t in enumerate(config.SERVICE_TYPES)}
    table = organisation_totals(table.assign(_order=table["service_type"].map(order)), thresholds,
                                by=("org", "_order", "service_type")).drop(columns="_order")
    table["measure"] = measure
    return table


def sole_reach(org_times: pd.DataFrame, communities: gpd.GeoDataFrame, threshold_min: float, *,
               measure: str = config.DEFAULT_MEASURE) -> pd.DataFrame:
    """What each organisation alone adds: women (or people) within ``threshold_min``
    minutes of one of its services and of no other organisation's, i.e. who would lose
    access within the threshold without it.

    Parameters
    ----------
    org_times : DataFrame
        :func:`organisation_times` rows (the any-organisation rows are ignored).
    communities : GeoDataFrame
        ``community_id``, ``region`` and the measure's column.
    threshold_min : float
        Minutes.
    measure : str
        ``"women"`` (default) or ``"population"``.

    Returns
    -------
    DataFrame
        ``org``, ``region``, ``people_alone`` (the measure's count), ``measure``; one row
        per (organisation, region) with such people, most first.
    """
    times = per_organisation(org_times)
    within = times[(times["org"] != ANY_ORGANISATION) & (times["minutes"] <= threshold_min)]
    reached_by = within.groupby("community_id")["org"].transform("size")
    alone = within[reached_by.to_numpy() == 1]
    merged = alone.merge(_counted(communities, measure), on="community_id", how="inner")
    table = merged.groupby(["org", "region"], as_index=False).agg(people_alone=("population", "sum"))
    table["measure"] = measure
    return table.sort_values("people_alone", ascending=False).reset_index(drop=True)


@dataclass(frozen=True)
class Reach:
    """Every reach figure for one choice (types, threshold, regions, measure).

    Counts are of ``measure`` (women or all people); minutes by road.

    Attributes
    ----------
    thresholds : tuple of float
        The ``within_<t>`` columns of every table (30, 60, 120 and the chosen threshold).
    threshold_min : float
        The chosen threshold (minutes): ``by_type``, ``by_region`` and ``alone`` use it.
    by_district : DataFrame
        :func:`reach_table` of the chosen regions.
    totals : DataFrame
        Per organisation (:func:`organisation_totals`).
    by_type : DataFrame
        Per organisation × service type (:func:`type_table`).
    by_region : DataFrame
        Per organisation × region.
    alone : DataFrame
        :func:`sole_reach` of the chosen regions.
    population : int
        The measure's count of every community in the chosen regions.
    """

    thresholds: tuple[float, ...]
    threshold_min: float
    measure: str
    regions: tuple[str, ...]
    by_district: pd.DataFrame
    totals: pd.DataFrame
    by_type: pd.DataFrame
    by_region: pd.DataFrame
    alone: pd.DataFrame
    population: int

    @property
    def chosen(self) -> str:
        """The column of the chosen threshold (``within_<threshold_min>``)."""
        return within_column(self.threshold_min)


def summarise(type_times: pd.DataFrame, communities: gpd.GeoDataFrame, *, threshold_min: float,
              regions: Sequence[str] | None = None, measure: str = config.DEFAULT_MEASURE,
              thresholds: Sequence[float] = REACH_THRESHOLDS_MIN) -> Reach:
    """All reach tables for one choice, as the Reach page and ``python -m coverage reach`` show them.

    Parameters
    ----------
    type_times : DataFrame
        :func:`organisation_times` with ``by_type=True`` (services of the chosen types).
    communities : GeoDataFrame
        Communities with ``region`` and the measure's column.
    threshold_min : float
        The chosen threshold, minutes (added to ``thresholds``).
    regions : sequence of str, optional
        Only communities in these regions count (default all).
    measure : str
        ``"women"`` (default) or ``"population"``.
    thresholds : sequence of float
        Minutes shown side by side (default 30, 60, 120).

    Returns
    -------
    Reach
    """
    check_measure(measure)
    if regions is not None:
        communities = communities[communities["region"].isin(list(regions))]
    steps = tuple(sorted({*(float(t) for t in thresholds), float(threshold_min)}))
    by_district = reach_table(type_times, communities, steps, measure=measure)
    by_region = organisation_totals(by_district, steps, by=("org", "region"))
    by_region["measure"] = measure
    return Reach(
        thresholds=steps, threshold_min=float(threshold_min), measure=measure,
        regions=tuple(sorted(communities["region"].dropna().unique())),
        by_district=by_district, totals=organisation_totals(by_district, steps),
        by_type=type_table(type_times, communities, steps, measure=measure), by_region=by_region,
        alone=sole_reach(type_times, communities, threshold_min, measure=measure),
        population=int(communities[measure].sum()),
    )

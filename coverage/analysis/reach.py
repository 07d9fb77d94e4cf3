"""Reach per organisation: how many people live within 30 / 60 / 120 minutes of any of
an organisation's services, by district.

Each organisation's services are one group in the same multi-source engine pass used
for service types, so the figures use the same roads, access model and population as
the coverage map. One person can be within reach of several organisations, so the
organisations' totals do not add up to the number of people within reach of any
service; :func:`reach_table` reports that figure separately.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import config
from coverage.engine import travel

REACH_THRESHOLDS_MIN: tuple[int, ...] = (30, 60, 120)
ANY_ORGANISATION = "Any organisation"


def organisation_times(network, communities: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
                       settings: config.Settings | None = None) -> pd.DataFrame:
    """Minutes from every community to the nearest service of each organisation (``org``),
    and of any organisation, as rows (community_id, org, minutes)."""
    by_org = services.assign(type=services["org"].astype(str))
    by_any = services.assign(type=ANY_ORGANISATION)
    grouped = gpd.GeoDataFrame(pd.concat([by_org, by_any], ignore_index=True), geometry="geometry", crs=services.crs)
    times = travel.nearest_service_times(network, communities, grouped, settings=settings)
    return times.rename(columns={"service_type": "org"})[["community_id", "org", "minutes", "service_id"]]


def reach_table(org_times: pd.DataFrame, communities: gpd.GeoDataFrame,
                thresholds: Sequence[int] = REACH_THRESHOLDS_MIN) -> pd.DataFrame:
    """People within each threshold of each organisation, per district.

    Columns: org, district_id, district, region, population (of the district's
    communities in the table), and ``within_<t>`` for every threshold t (people).
    Rows for one organisation add up, over districts, to its total reach."""
    people = pd.DataFrame(communities[["community_id", "district_id", "district", "region", "population"]])
    merged = org_times.merge(people, on="community_id", how="inner")
    for t in thresholds:
        merged[f"within_{t}"] = np.where(merged["minutes"] <= t, merged["population"], 0)
    columns = {f"within_{t}": "sum" for t in thresholds}
    table = merged.groupby(["org", "district_id", "district", "region"], as_index=False).agg(
        population=("population", "sum"), **{k: (k, v) for k, v in columns.items()}
    )
    return table.sort_values(["org", f"within_{thresholds[-1]}"], ascending=[True, False]).reset_index(drop=True)


def organisation_totals(table: pd.DataFrame, thresholds: Sequence[int] = REACH_THRESHOLDS_MIN) -> pd.DataFrame:
    """One row per organisation: people within each threshold, summed over districts,
    most-reaching first, with the any-organisation row last."""
    cols = [f"within_{t}" for t in thresholds]
    totals = table.groupby("org", as_index=False)[cols].sum()
    order = totals["org"] == ANY_ORGANISATION
    totals = pd.concat([totals[~order].sort_values(cols[-1], ascending=False), totals[order]], ignore_index=True)
    return totals


def sole_reach(org_times: pd.DataFrame, communities: gpd.GeoDataFrame, threshold_min: float) -> pd.DataFrame:
    """What each organisation alone adds: people within ``threshold_min`` minutes of one
    of its services and of no other organisation's, i.e. who would lose access within
    the threshold without it. Columns: org, region, people_alone (people); one row per
    (organisation, region) with such people, most first. ``org_times`` as
    :func:`organisation_times` returns it (the any-organisation rows are ignored)."""
    within = org_times[(org_times["org"] != ANY_ORGANISATION) & (org_times["minutes"] <= threshold_min)]
    reached_by = within.groupby("community_id")["org"].transform("size")
    alone = within[reached_by.to_numpy() == 1]
    people = pd.DataFrame(communities[["community_id", "region", "population"]])
    merged = alone.merge(people, on="community_id", how="inner")
    table = merged.groupby(["org", "region"], as_index=False).agg(people_alone=("population", "sum"))
    return table.sort_values("people_alone", ascending=False).reset_index(drop=True)

"""The figures behind a district or region brief, its map, its tables and its layers.

One place computes what a brief, the Report page and ``python -m coverage brief`` /
``export`` show, from public inputs (``analysis.load_inputs``: every shelter at its town
point) and the travel-time table; :mod:`coverage.views.briefs`,
:mod:`coverage.views.static_maps` and :mod:`coverage.views.exports` turn the results into
PDF, PNG, CSV, XLSX, GeoJSON and GPKG.

Areas: a district (today's name or any alias, either script, any case:
:func:`coverage.data.boundaries.find_district`), a region (its name or its short form,
"DRS"), or the whole country for exports.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coverage import config
from coverage.analysis import reach
from coverage.analysis.pipeline import Analysis, Inputs, analyse
from coverage.data import boundaries
from coverage.engine import roads
from coverage.errors import InputError
from coverage.views import briefs as brief_views
from coverage.views import labels, names, privacy, static_maps

Gettext = Callable[[str], str]
NEAREST_HELP_TYPES: tuple[str, ...] = ("shelter", "crisis_centre")  # the brief's "nearest help" lines
UNDERSERVED_SHOWN = 5
COORD_DECIMALS = 5  # community points in exports (~1 m; public gazetteer points)


@dataclass(frozen=True)
class Area:
    """What a brief or export covers: ``kind`` "district", "region" or "country";
    ``name`` as shown; ``region`` (of a district, or the region itself; "" for the
    country); ``district_ids``; a district's ``seat`` name and ``seat_lonlat``
    (degrees, EPSG:4326) when the boundaries table has one."""

    kind: str
    name: str
    region: str
    district_ids: tuple[str, ...]
    seat: str | None = None
    seat_lonlat: tuple[float, float] | None = None


def _region_key(name: str) -> set[str]:
    """Ways a region may be typed: 'Districts of Republican Subordination (DRS)' →
    {'districts of republican subordination (drs)', 'districts of republican subordination', 'drs'}."""
    text = str(name).strip().casefold()
    keys = {text}
    found = re.match(r"^(.*?)\s*\(([^)]+)\)\s*$", text)
    if found:
        keys |= {found.group(1).strip(), found.group(2).strip()}
    return keys


def find_area(districts: pd.DataFrame, *, district: str | None = None, region: str | None = None) -> Area:
    """The area a brief or export covers.

    Parameters
    ----------
    districts : DataFrame
        The districts table (``district_id``, ``district``, ``district_aliases``,
        ``region``, optional ``seat``, ``seat_lon``, ``seat_lat``).
    district : str, optional
        A district name in either spelling or script, any case ("Kulob", "KŬLOB", "Кӯлоб").
    region : str, optional
        A region name or its short form ("Khatlon", "sughd", "DRS").

    Returns
    -------
    Area
        The district, the region or (neither given) the whole country.

    Raises
    ------
    InputError
        ``input.area_both`` for both, ``input.unknown_district`` /
        ``input.unknown_region`` for a name that matches nothing.
    """
    if district and region:
        raise InputError("give a district or a region, not both", message_id="input.area_both",
                         district=str(district), region=str(region))
    if district:
        try:
            row = boundaries.find_district(districts, district)
        except KeyError:
            raise InputError(f"no district named {district!r} (by today's name or any alias)",
                             message_id="input.unknown_district", field="district", name=str(district)) from None
        seat = str(row.get("seat") or "").strip() or None
        lonlat = None
        if seat and pd.notna(row.get("seat_lon")) and pd.notna(row.get("seat_lat")):
            lonlat = (float(row["seat_lon"]), float(row["seat_lat"]))
        return Area("district", str(row["district"]), str(row["region"]), (str(row["district_id"]),), seat, lonlat)
    if region:
        wanted = str(region).strip().casefold()
        for name in sorted(districts["region"].dropna().unique()):
            if wanted in _region_key(name):
                ids = districts.loc[districts["region"] == name, "district_id"].astype(str)
                return Area("region", str(name), str(name), tuple(ids))
        known = ", ".join(sorted(districts["region"].dropna().unique()))
        raise InputError(f"no region named {region!r}; choose from {known}", message_id="input.unknown_region",
                         field="region", name=str(region), known=known)
    return Area("country", "Tajikistan", "", tuple(districts["district_id"].astype(str)))


def area_analysis(inputs: Inputs, times: pd.DataFrame, area: Area, service_types: Sequence[str], *,
                  threshold_min: float = config.DEFAULT_THRESHOLD_MIN, season: str = "summer",
                  measure: str = config.DEFAULT_MEASURE) -> Analysis:
    """:func:`coverage.analysis.analyse` for the area's region (or everywhere for the
    country): neighbours stay in ``communities`` for the map; :func:`area_rows` picks
    the area's rows."""
    regions = [area.region] if area.region else None
    return analyse(inputs, times, list(service_types), threshold_min, season=season, regions=regions,
                   measure=measure)


def area_rows(frame: pd.DataFrame, area: Area) -> pd.DataFrame:
    """The rows of a community or district table that lie in the area (by ``district_id``,
    or by ``district`` and ``region`` for tables without ids)."""
    if "district_id" in frame.columns:
        return frame[frame["district_id"].astype(str).isin(area.district_ids)]
    if area.kind == "district":
        return frame[(frame["district"] == area.name) & (frame["region"] == area.region)]
    if area.kind == "region":
        return frame[frame["region"] == area.region]
    return frame


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value below which half of the total weight lies (lower weighted median);
    NaN with no weight. ``inf`` values sort last, so an area where most people cannot
    reach help by road gives ``inf``."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = weights > 0
    if not keep.any():
        return math.nan
    order = np.argsort(values[keep], kind="stable")
    ordered, cumulative = values[keep][order], np.cumsum(weights[keep][order])
    return float(ordered[np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def _seat_community(communities: gpd.GeoDataFrame, lonlat: tuple[float, float]) -> str | None:
    """``community_id`` of the area's community nearest the seat point (metres, UTM 42N)."""
    if communities.empty:
        return None
    metric = communities.to_crs(config.CRS_METRIC)
    seat = gpd.GeoSeries(gpd.points_from_xy([lonlat[0]], [lonlat[1]]), crs=config.CRS_STORE).to_crs(config.CRS_METRIC)
    distance = np.hypot(metric.geometry.x.to_numpy() - seat.x.iloc[0], metric.geometry.y.to_numpy() - seat.y.iloc[0])
    return str(communities["community_id"].iloc[int(np.argmin(distance))])


def nearest_help(times: pd.DataFrame, communities: gpd.GeoDataFrame, area: Area, *,
                 measure: str = config.DEFAULT_MEASURE,
                 service_types: Sequence[str] = NEAREST_HELP_TYPES) -> tuple[brief_views.NearestHelp, ...]:
    """Minutes to the nearest service of each type (public points) from the district
    seat (the area's community nearest the seat point) and the ``measure``-weighted
    median over the area's communities (minutes; ``inf`` unreachable).

    Parameters
    ----------
    times : DataFrame
        :func:`coverage.analysis.travel_times` rows (``community_id``, ``service_type``, ``minutes``).
    communities : GeoDataFrame
        The area's communities (``community_id``, the ``measure`` column, points).
    area : Area
    measure : str
        The weights: ``"women"`` or ``"population"``.
    service_types : sequence of str
        The types reported (default shelter and crisis centre).
    """
    seat_id = _seat_community(communities, area.seat_lonlat) if area.seat_lonlat else None
    out = []
    for service_type in service_types:
        chosen = times[times["service_type"] == service_type].set_index("community_id")["minutes"]
        minutes = chosen.reindex(communities["community_id"]).fillna(np.inf).to_numpy(dtype=float)
        median = weighted_median(minutes, communities[measure].to_numpy(dtype=float))
        seat_minutes = float(chosen.get(seat_id, np.inf)) if seat_id is not None else None
        out.append(brief_views.NearestHelp(service_type, median, area.seat if seat_id else None, seat_minutes))
    return tuple(out)


def brief_content(inputs: Inputs, times: pd.DataFrame, area: Area, result: Analysis, *,
                  approximate_roads: bool = True, scenario_title: str | None = None,
                  scenario_summary: str | None = None, made_on: dt.date | None = None) -> brief_views.Brief:
    """The figures of a brief, from :func:`area_analysis`'s ``result`` (public inputs).

    ``total`` and ``within`` are the sums of the area's rows of ``result.districts``
    (the library's district figures, so the brief equals the dashboard and the CLI)."""
    districts = area_rows(result.districts, area)
    comms = area_rows(result.communities, area)
    ranking = area_rows(result.ranking, area).head(UNDERSERVED_SHOWN)
    underserved = pd.DataFrame({
        "name": ranking["name"].astype(str), "district": ranking["district"].astype(str),
        "count": ranking[result.measure].astype("int64"), "minutes": ranking["minutes"].astype(float),
        "nearest_town": ranking["nearest_service_town"] if "nearest_service_town" in ranking else None,
        "estimated": True,
    })
    return brief_views.Brief(
        area=area.name, area_kind=area.kind, region=area.region, measure=result.measure,
        threshold_min=result.threshold_min, season=result.season, service_types=result.service_types,
        total=int(districts["population"].sum()), within=int(districts["population_within"].sum()),
        communities=int(districts["communities"].sum()), communities_beyond=int(districts["communities_beyond"].sum()),
        nearest=nearest_help(times, comms, area, measure=result.measure), underserved=underserved.reset_index(drop=True),
        made_on=made_on or dt.date.today(), approximate_roads=approximate_roads,
        scenario_title=scenario_title, scenario_summary=scenario_summary,
    )


def _district_names(inputs: Inputs, language: str) -> dict[str, str]:
    """The districts' own names in ``language`` (empty for English: the stored names are Latin)."""
    return names.own_names(inputs.districts).get(language, {})


def brief_map(inputs: Inputs, area: Area, result: Analysis, *, gettext: Gettext | None = None,
              stand_alone: bool = False, approximate_roads: bool = True, language: str | None = None) -> Figure:
    """The area's static map (:func:`coverage.views.static_maps.area_map`), services at
    their public points. ``stand_alone``: with a title and the sources in small print
    (the PNG download); ``language``: district names (and the title's area) in its script
    (``en``, ``ru``, ``tg``; as stored without one)."""
    _ = gettext or (lambda text: text)
    districts, area_name = inputs.districts, area.name
    if language is not None:
        known = _district_names(inputs, language)
        districts = districts.assign(district=names.display_names(districts, language, column="district",
                                                                  known=known).to_numpy())
        area_name = known.get(area.name) or names.display_name(area.name, language)
    title = footer = None
    if stand_alone:
        title = _("{area}: minutes by road to the nearest {types}").format(
            area=area_name, types=brief_views.types_phrase(result.service_types, _))
        footer = brief_views.attribution_line(_, approximate_roads=approximate_roads)
    size = (static_maps.MAP_SIZE_IN[0], static_maps.MAP_SIZE_IN[1] + 0.6) if stand_alone else static_maps.MAP_SIZE_IN
    return static_maps.area_map(districts, result.communities, privacy.public_columns(inputs.services),
                                area.district_ids, gettext=_, title=title, footer=footer, size_in=size)


def brief_pdf(inputs: Inputs, times: pd.DataFrame, area: Area, result: Analysis, *, gettext: Gettext | None = None,
              approximate_roads: bool = True, scenario_title: str | None = None, scenario_summary: str | None = None,
              made_on: dt.date | None = None, map_dpi: int = 200, language: str | None = None) -> bytes:
    """The one-page PDF brief of ``area`` (map + figures), as bytes; ``language``: place
    names in its script (``en`` Latin, ``ru``/``tg`` Cyrillic; as stored without one)."""
    content = brief_content(inputs, times, area, result, approximate_roads=approximate_roads,
                            scenario_title=scenario_title, scenario_summary=scenario_summary, made_on=made_on)
    if language is not None:
        content = brief_views.brief_in_language(content, language, district_names=_district_names(inputs, language))
    png = static_maps.figure_png(brief_map(inputs, area, result, gettext=gettext, language=language), dpi=map_dpi)
    return brief_views.brief_pdf(content, png, gettext=gettext)


def map_png(inputs: Inputs, area: Area, result: Analysis, *, gettext: Gettext | None = None,
            approximate_roads: bool = True, dpi: int = 200, language: str | None = None) -> bytes:
    """The area's map as a stand-alone PNG (title, legend, scale bar, north arrow, sources);
    ``language``: place names in its script (as stored without one)."""
    fig = brief_map(inputs, area, result, gettext=gettext, stand_alone=True, approximate_roads=approximate_roads,
                    language=language)
    return static_maps.figure_png(fig, dpi=dpi)


# --- reach per organisation (funders) ------------------------------------------------------


def area_reach(inputs: Inputs, area: Area, service_types: Sequence[str], *, season: str = "summer",
               measure: str = config.DEFAULT_MEASURE, settings: config.Settings | None = None,
               thresholds: Sequence[int] = reach.REACH_THRESHOLDS_MIN,
               org_times: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reach per organisation in the area, counting ``measure`` (women by default).

    ``org_times``: :func:`coverage.analysis.reach.organisation_times` of the services of
    ``service_types`` already computed (the dashboard's cache); by default computed here
    on the ``season``'s network.

    Returns
    -------
    (DataFrame, DataFrame)
        :func:`coverage.analysis.reach.reach_table` of the area's districts (the
        ``population`` and ``within_<t>`` columns count the measure) and the
        organisation-times rows it was made from (``community_id``, ``org``, ``minutes``).
    """
    comms = area_rows(inputs.communities, area)
    comms = comms.assign(population=comms[measure])
    chosen = inputs.services[inputs.services["type"].isin(list(service_types))]
    if chosen.empty:
        empty = pd.DataFrame(columns=["org", "district_id", "district", "region", "population",
                                      *[f"within_{t}" for t in thresholds]])
        return empty, pd.DataFrame(columns=["community_id", "org", "minutes", "service_id"])
    if org_times is None:
        settings = config.load_settings() if settings is None else settings
        network = roads.load_network(season=season, settings=settings)
        org_times = reach.organisation_times(network, comms, chosen, settings)
    else:
        org_times = org_times[org_times["community_id"].isin(comms["community_id"])]
    return reach.reach_table(org_times, comms, thresholds=thresholds, measure=measure), org_times


def reach_pdf(inputs: Inputs, summary: brief_views.ReachSummary, *, gettext: Gettext | None = None,
              language: str | None = None) -> bytes:
    """The funders' reach PDF (:func:`coverage.views.briefs.reach_pdf`), its region and
    district names in the script of ``language`` (as stored without one)."""
    if language is not None:
        summary = brief_views.reach_in_language(summary, language, district_names=_district_names(inputs, language))
    return brief_views.reach_pdf(summary, gettext=gettext)


def reach_summary(inputs: Inputs, area: Area, service_types: Sequence[str], *, threshold_min: float,
                  season: str = "summer", measure: str = config.DEFAULT_MEASURE,
                  settings: config.Settings | None = None, approximate_roads: bool = True,
                  made_on: dt.date | None = None, org_times: pd.DataFrame | None = None) -> brief_views.ReachSummary:
    """The funders' summary of the area: reach per organisation at 30 / 60 / 120 min and
    the chosen threshold, and what each organisation alone adds within the threshold
    (``org_times`` as in :func:`area_reach`)."""
    thresholds = tuple(sorted({*reach.REACH_THRESHOLDS_MIN, int(threshold_min)}))
    table, org_times = area_reach(inputs, area, service_types, season=season, measure=measure, settings=settings,
                                  thresholds=thresholds, org_times=org_times)
    comms = area_rows(inputs.communities, area)
    comms = comms.assign(population=comms[measure])
    alone = reach.sole_reach(org_times, comms, threshold_min, measure=measure) if len(org_times) else pd.DataFrame(
        columns=["org", "region", "people_alone"])
    totals = reach.organisation_totals(table, thresholds) if len(table) else table
    within = [f"within_{t}" for t in thresholds]
    if len(totals):  # organisations that reach no one here (the other region's) are left out
        totals = totals[(totals[within].sum(axis=1) > 0) | (totals["org"] == reach.ANY_ORGANISATION)]
    by_district = table[table["org"] == reach.ANY_ORGANISATION][["district", "population", *within]]
    return brief_views.ReachSummary(
        region=area.name, measure=measure, season=season, service_types=tuple(service_types), thresholds=thresholds,
        threshold_min=float(int(threshold_min)), total=int(comms[measure].sum()),
        totals=totals.reset_index(drop=True), districts=by_district.reset_index(drop=True),
        alone={str(k): int(v) for k, v in alone.groupby("org")["people_alone"].sum().items()},
        made_on=made_on or dt.date.today(), approximate_roads=approximate_roads,
        any_organisation=reach.ANY_ORGANISATION)


# --- tables and layers for export ----------------------------------------------------------


def export_tables(inputs: Inputs, area: Area, result: Analysis, *, reach_table: pd.DataFrame | None = None,
                  gettext: Gettext | None = None) -> dict[str, pd.DataFrame]:
    """The tables behind a brief, for CSV/XLSX: ``communities`` (every community of the
    area with minutes, nearest public service, lon/lat of its gazetteer point),
    ``districts`` (the district table, columns named for the measure), ``underserved``
    (ranked), ``services`` (public columns and points) and, if given, ``reach``.

    Only public values: the services come from ``inputs`` (public points), their names
    and towns are the public ones; no address or note column exists to export."""
    public = privacy.public_columns(inputs.services)
    comms = area_rows(result.communities, area)
    names = public.set_index("service_id")[["name", "town"]]
    table = pd.DataFrame(comms.drop(columns="geometry"))
    table["nearest_service"] = table["service_id"].map(names["name"])
    table["nearest_service_town"] = table["service_id"].map(names["town"])
    table["population_note"] = labels.population_notes(table["estimated"], gettext=gettext).to_numpy()
    table["minutes"] = table["minutes"].where(np.isfinite(table["minutes"])).round(1)
    table["lon"] = comms.geometry.x.round(COORD_DECIMALS).to_numpy()
    table["lat"] = comms.geometry.y.round(COORD_DECIMALS).to_numpy()
    keep = ["community_id", "name", "place", "district", "region", "population", "women", "estimated",
            "population_note", "minutes", "underserved", "threshold_min", "service_type", "service_id",
            "nearest_service", "nearest_service_town", "lon", "lat"]
    services_area = area_rows(public, area) if area.kind != "country" else public
    tables = {
        "communities": table[[c for c in keep if c in table.columns]].reset_index(drop=True),
        "districts": labels.measure_columns(area_rows(result.districts, area), result.measure).reset_index(drop=True),
        "underserved": area_rows(result.ranking, area).reset_index(drop=True),
        "services": pd.DataFrame(services_area.drop(columns="geometry")).reset_index(drop=True),
    }
    if reach_table is not None:
        tables["reach"] = reach_table.reset_index(drop=True)
    return tables


def export_layers(inputs: Inputs, area: Area, result: Analysis) -> dict[str, gpd.GeoDataFrame]:
    """The map's layers for GeoJSON/GPKG (EPSG:4326): ``districts`` (polygons with the
    district figures), ``communities`` (points with minutes) and ``services`` (public
    points and columns: shelters at their town)."""
    districts = area_rows(inputs.districts, area)[["district_id", "district", "region", "geometry"]]
    figures = labels.measure_columns(area_rows(result.districts, area), result.measure)
    figures = figures.drop(columns=[c for c in ("district", "region") if c in figures.columns])
    polygons = gpd.GeoDataFrame(districts.merge(figures, on="district_id", how="left"), geometry="geometry",
                                crs=inputs.districts.crs)
    comms = area_rows(result.communities, area)
    comms = comms.assign(minutes=comms["minutes"].where(np.isfinite(comms["minutes"])).round(1))
    keep = ["community_id", "name", "place", "district", "region", "population", "women", "estimated", "minutes",
            "underserved", "threshold_min", "service_type", "service_id", "geometry"]
    public = privacy.public_columns(inputs.services)
    services_area = area_rows(public, area) if area.kind != "country" else public
    return {
        "districts": polygons.to_crs(config.CRS_STORE),
        "communities": gpd.GeoDataFrame(comms[[c for c in keep if c in comms.columns]], geometry="geometry",
                                        crs=comms.crs).to_crs(config.CRS_STORE),
        "services": services_area.to_crs(config.CRS_STORE),
    }

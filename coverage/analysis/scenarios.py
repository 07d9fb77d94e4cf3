"""What-if scenarios: close services, add proposed sites, close roads, change the season,
and see who gains or loses access to help.

A :class:`Scenario` is data (it can be saved as JSON beside the registry and reloaded);
:func:`run_scenario` compares it with the *baseline*, the registered services on the
unchanged network of the baseline season, and returns a :class:`ScenarioResult`: women
(or all people) within the threshold overall, by region and by district before and after,
and the communities whose status (within / beyond the threshold) changes, with minutes
before and after. It never changes the registry.

Privacy: the baseline services are the public inputs (:func:`coverage.analysis.load_inputs`
hands back :func:`coverage.views.privacy.public_inputs`), and proposed sites pass the same
edge (:func:`coverage.views.privacy.engine_services`): a proposed shelter is confidential
like every shelter and every figure is computed from its public (town) point.

Speed: a :class:`Baseline` keeps, per season, the road network and the travel times of
the registered services, and the baseline gaps per (season, types, threshold, regions).
A scenario then recomputes only what it changes: the service types whose services it
closes or adds (on the baseline network), or, when it closes roads or changes the season,
the chosen types on that season's network with the closed ways' edges removed
(:func:`coverage.engine.closures.close_ways`, no rebuild).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import config
from coverage.analysis import gaps
from coverage.analysis.pipeline import Inputs, check_threshold
from coverage.data import boundaries
from coverage.data import services as svc
from coverage.engine import closures, roads, travel
from coverage.errors import InputError
from coverage.views import privacy

PROPOSED_PREFIX = "PROPOSED-"
PROPOSED_ORGANISATION = "Proposed site"
WITHIN, BEYOND = "within", "beyond"
CHANGED_COLUMNS = [
    "community_id", "name", "place", "district_id", "district", "region", "population", "women", "estimated",
    "minutes_before", "minutes_after", "nearest_before", "nearest_after", "status_before", "status_after",
]
DISTRICT_COLUMNS = [
    "district_id", "district", "region", "population", "within_before", "within_after", "change",
    "share_before", "share_after", "measure",
]
TOTAL_COLUMNS = ["region", "population", "within_before", "within_after", "change", "share_before",
                 "share_after", "measure"]


# --- the scenario as data ----------------------------------------------------------------


@dataclass(frozen=True)
class ProposedSite:
    """A site a scenario adds: a service ``type`` at a ``town`` (a place name, resolved on
    the gazetteer at run time) or at a point (``lon``/``lat``, degrees EPSG:4326), run by
    ``org`` (optional). A proposed shelter is confidential: every figure uses its town."""

    type: str
    town: str = ""
    lon: float | None = None
    lat: float | None = None
    org: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The site as JSON-ready values (``lon``/``lat`` omitted when not given)."""
        out: dict[str, Any] = {"type": self.type, "town": self.town, "org": self.org}
        if self.lon is not None and self.lat is not None:
            out.update(lon=float(self.lon), lat=float(self.lat))
        return out


@dataclass(frozen=True)
class ClosedRoad:
    """A closed road: its OSM way id (the default network's segment id; stable across
    rebuilds) and the name it was shown under when it was closed (for display only)."""

    way_id: int
    name: str = ""


@dataclass(frozen=True)
class Scenario:
    """One what-if: services closed (by id), proposed sites added, roads closed (by way
    id), the season it is evaluated in, and how it is measured (service types counted,
    threshold in minutes, women or all people)."""

    name: str = ""
    closed_services: tuple[str, ...] = ()
    added_sites: tuple[ProposedSite, ...] = ()
    season: str = "summer"
    closed_roads: tuple[ClosedRoad, ...] = ()
    threshold_min: float = config.DEFAULT_THRESHOLD_MIN
    measure: str = config.DEFAULT_MEASURE
    service_types: tuple[str, ...] = ("shelter",)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as JSON-ready values (what a saved scenario's body holds)."""
        return {
            "name": self.name,
            "closed_services": list(self.closed_services),
            "added_sites": [s.to_dict() for s in self.added_sites],
            "season": self.season,
            "closed_roads": [{"way_id": int(r.way_id), "name": r.name} for r in self.closed_roads],
            "threshold_min": float(self.threshold_min),
            "measure": self.measure,
            "service_types": list(self.service_types),
        }

    @property
    def way_ids(self) -> tuple[int, ...]:
        """The closed roads' way ids."""
        return tuple(int(r.way_id) for r in self.closed_roads)


def _bad_body(problem: str) -> InputError:
    return InputError(f"not a readable scenario: {problem}", message_id="scenario.bad_body", problem=problem)


def scenario_from_dict(data: Mapping[str, Any]) -> Scenario:
    """A :class:`Scenario` from :meth:`Scenario.to_dict` values (e.g. a saved body), checked
    with :func:`check_scenario`.

    Parameters
    ----------
    data : Mapping
        Keys as :meth:`Scenario.to_dict`; missing keys take the defaults.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        ``scenario.bad_body`` for values of the wrong kind, or what :func:`check_scenario` raises.
    """
    if not isinstance(data, Mapping):
        raise _bad_body("expected an object")
    try:
        sites = tuple(
            ProposedSite(type=str(s["type"]), town=str(s.get("town") or ""),
                         lon=None if s.get("lon") is None else float(s["lon"]),
                         lat=None if s.get("lat") is None else float(s["lat"]), org=str(s.get("org") or ""))
            for s in data.get("added_sites") or ())
        road_list = tuple(ClosedRoad(way_id=int(r["way_id"]), name=str(r.get("name") or ""))
                          for r in data.get("closed_roads") or ())
        scenario = Scenario(
            name=str(data.get("name") or ""),
            closed_services=tuple(str(s) for s in data.get("closed_services") or ()),
            added_sites=sites,
            season=str(data.get("season") or "summer"),
            closed_roads=road_list,
            threshold_min=float(data.get("threshold_min", config.DEFAULT_THRESHOLD_MIN)),
            measure=str(data.get("measure") or config.DEFAULT_MEASURE),
            service_types=tuple(str(t) for t in data.get("service_types") or ("shelter",)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise _bad_body(f"{type(err).__name__}: {err}") from None
    return check_scenario(scenario)


def check_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` with its values checked (not yet against the data: see :func:`run_scenario`).

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    Scenario
        Unchanged.

    Raises
    ------
    InputError
        ``input.unknown_season``, ``input.threshold``, ``input.measure``,
        ``services.unknown_type`` (a counted type or a proposed site's), or
        ``scenario.site_location`` (a site with neither a town nor a point in Tajikistan).
    """
    if scenario.season not in config.SEASONS:
        raise InputError(f"season must be one of {config.SEASONS}, not {scenario.season!r}",
                         message_id="input.unknown_season", season=str(scenario.season), known=config.SEASONS)
    check_threshold(scenario.threshold_min)
    gaps.check_measure(scenario.measure)
    types = list(scenario.service_types) + [s.type for s in scenario.added_sites]
    unknown = sorted({t for t in types if t not in config.SERVICE_TYPES})
    if unknown or not scenario.service_types:
        raise InputError(f"unknown service type(s) {unknown or '(none chosen)'}; choose from "
                         f"{', '.join(config.SERVICE_TYPES)}", message_id="services.unknown_type", types=unknown,
                         known=config.SERVICE_TYPES)
    bounds = config.TJ_BOUNDS
    for number, site in enumerate(scenario.added_sites, start=1):
        has_point = site.lon is not None and site.lat is not None
        if has_point and not (bounds["lon_min"] <= site.lon <= bounds["lon_max"]
                              and bounds["lat_min"] <= site.lat <= bounds["lat_max"]):
            raise InputError(f"proposed site {number} ({site.type}): its point is outside Tajikistan",
                             message_id="scenario.site_location", site=number, type=site.type)
        if not has_point and not site.town.strip():
            raise InputError(f"proposed site {number} ({site.type}): give a town or a point",
                             message_id="scenario.site_location", site=number, type=site.type)
    return scenario


# --- proposed sites ----------------------------------------------------------------------


def _town_key(name: str) -> str:
    """Matching key for a town name: Uzbek-Latin o' (Tajik ŭ) read as u, then
    :func:`coverage.data.boundaries.normalise_name` (case, accents, script, spelling)."""
    text = str(name)
    for mark in ("o'", "oʻ", "o’", "O'", "Oʻ", "O’"):
        text = text.replace(mark, "u")
    return boundaries.normalise_name(text, drop_words=False)


def town_choices(inputs: Inputs) -> list[str]:
    """Town names a proposed site can be placed at: the cities, towns and district seats
    that confidential services are shown at (:func:`coverage.views.privacy.settlement_points`),
    sorted, each once.

    Parameters
    ----------
    inputs : Inputs

    Returns
    -------
    list of str
    """
    return sorted({str(n) for n in inputs.places["name"] if str(n).strip()}, key=str.casefold)


def find_town(inputs: Inputs, name: str) -> tuple[str, float, float]:
    """The place a typed town name means: the cities, towns and district seats first, then
    every community (villages too); spelling, accents and script do not matter.

    Parameters
    ----------
    inputs : Inputs
    name : str
        A place name as typed.

    Returns
    -------
    tuple
        ``(name, lon, lat)``: the place's name as the data spells it and its point (degrees,
        EPSG:4326).

    Raises
    ------
    InputError
        ``scenario.unknown_town`` naming up to five close names.
    """
    import difflib

    wanted = _town_key(name)
    for table in (inputs.places, inputs.communities):
        if "population" in table.columns:  # the biggest place of that name first
            table = table.sort_values("population", ascending=False, kind="stable")
        keys = table["name"].map(_town_key)
        hits = table[keys == wanted]
        if wanted and len(hits):
            point = hits.geometry.iloc[0]
            return str(hits["name"].iloc[0]), float(point.x), float(point.y)
    names = town_choices(inputs)
    by_key = {_town_key(n): n for n in names}
    close = [by_key[k] for k in difflib.get_close_matches(wanted, list(by_key), n=5, cutoff=0.6)]
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(f"no town or village named {name!r} in the data{hint}", message_id="scenario.unknown_town",
                     town=str(name), suggestions=close)


def proposed_services(inputs: Inputs, sites: Sequence[ProposedSite]) -> gpd.GeoDataFrame:
    """The proposed sites as rows of a services table, at the point given or their town's
    point (exact: treat like registry rows, never publish as they are).

    Parameters
    ----------
    inputs : Inputs
        Gazetteer (``places``, ``communities``) and ``districts``.
    sites : sequence of ProposedSite

    Returns
    -------
    GeoDataFrame
        Columns of :data:`coverage.data.services.REQUIRED_COLUMNS` plus ``org`` and
        ``district_id``; ids ``PROPOSED-1``, ``PROPOSED-2``, …; every shelter confidential;
        EPSG:4326.

    Raises
    ------
    InputError
        ``scenario.unknown_town`` for a town not in the data.
    """
    rows = []
    places = inputs.places.to_crs(config.CRS_METRIC)
    for number, site in enumerate(sites, start=1):
        if site.lon is not None and site.lat is not None:
            lon, lat = float(site.lon), float(site.lat)
            point = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=config.CRS_STORE).to_crs(config.CRS_METRIC)
            nearest = int(places.distance(point.iloc[0]).to_numpy().argmin()) if len(places) else -1
            town = site.town.strip() or (str(inputs.places["name"].iloc[nearest]) if nearest >= 0 else "")
            precision = "exact"
        else:
            town, lon, lat = find_town(inputs, site.town)
            precision = "settlement"
        label = site.type.replace("_", " ")
        rows.append({
            "service_id": f"{PROPOSED_PREFIX}{number}",
            "name": f"Proposed {label} ({town})",
            "organisation": site.org.strip() or PROPOSED_ORGANISATION,
            "org": site.org.strip() or PROPOSED_ORGANISATION,
            "type": site.type, "town": town, "district": "", "district_id": "", "region": "",
            "lon": lon, "lat": lat, "location_precision": precision,
            "confidential": site.type == "shelter",  # every shelter is confidential, a proposed one too
        })
    if not rows:
        empty = {c: pd.Series(dtype=object) for c in (*svc.REQUIRED_COLUMNS, "org", "district_id")}
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=config.CRS_STORE), crs=config.CRS_STORE)
    frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
                             crs=config.CRS_STORE)
    frame = svc.assign_district_ids(frame, inputs.districts)
    names = inputs.districts.set_index("district_id")
    frame["district"] = frame["district_id"].map(names["district"]).fillna("").astype(str)
    frame["region"] = frame["district_id"].map(names["region"]).fillna("").astype(str)
    return frame


def public_proposed(inputs: Inputs, sites: Sequence[ProposedSite]) -> gpd.GeoDataFrame:
    """The proposed sites as every figure and view uses them: through
    :func:`coverage.views.privacy.engine_services` (a proposed shelter at its town's
    public point, named "<org> shelter (<town>)", public columns and ``org`` only).

    Parameters
    ----------
    inputs : Inputs
    sites : sequence of ProposedSite

    Returns
    -------
    GeoDataFrame
        EPSG:4326, like ``inputs.services``.
    """
    return privacy.engine_services(proposed_services(inputs, sites), inputs.places)


# --- the baseline ------------------------------------------------------------------------


TimesSource = Callable[[str], pd.DataFrame]


@dataclass
class Baseline:
    """The registered services on the unchanged networks, computed once and kept.

    Holds, per season, the routing network and the travel times of ``inputs.services``
    (all types); and per (season, types, regions) each community's nearest service. Explicit
    state: whoever runs many scenarios keeps one (the dashboard per server, a benchmark per
    run); nothing is global.

    Parameters
    ----------
    inputs : Inputs
        Public inputs (:func:`coverage.analysis.load_inputs`).
    network_path : Path, optional
        OSM road file; default ``settings.network_path``.
    settings : Settings, optional
        Default :func:`coverage.config.load_settings`.
    times_source : callable, optional
        ``season → travel times`` of ``inputs`` (e.g. the dashboard's shared cache); default
        computed here with :func:`coverage.engine.travel.nearest_service_times`.
    """

    inputs: Inputs
    network_path: Path | None = None
    settings: config.Settings | None = None
    times_source: TimesSource | None = None
    _times: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _nearest: dict[tuple[Any, ...], Nearest] = field(default_factory=dict, repr=False)
    _ways: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Resolve the settings once."""
        self.settings = self.settings if self.settings is not None else config.load_settings()

    def network(self, season: str) -> roads.RoutingNetwork:
        """The season's routing network (cached by :func:`coverage.engine.roads.load_network`)."""
        return roads.load_network(self.network_path, season=season, settings=self.settings)

    def roads(self, season: str) -> pd.DataFrame:
        """The roads of the season's network a user may close, by label
        (:func:`coverage.engine.closures.closable_roads`: ``label``, ``name``, ``ref``,
        ``highway``, ``km``, ``way_ids``); the file's ways are read once."""
        return closures.closable_roads(self.network(season), self.ways())

    def ways(self) -> pd.DataFrame:
        """Every drivable way of the network file (:func:`coverage.engine.closures.way_table`),
        read once."""
        if self._ways is None:
            self._ways = closures.way_table(self.network_path, settings=self.settings)
        return self._ways

    def times(self, season: str) -> pd.DataFrame:
        """Travel times of the registered services in ``season`` (all types), computed once."""
        if season not in self._times:
            if self.times_source is not None:
                self._times[season] = self.times_source(season)
            else:
                self._times[season] = travel.nearest_service_times(
                    self.network(season), self.inputs.communities, self.inputs.services, settings=self.settings)
        return self._times[season]

    def nearest(self, season: str, types: tuple[str, ...], regions: tuple[str, ...]) -> Nearest:
        """Baseline minutes to the nearest service of ``types`` per community of ``regions``,
        computed once per choice."""
        key = (season, types, regions)
        if key not in self._nearest:
            self._nearest[key] = nearest_of(self.times(season), _communities(self.inputs, regions), types)
        return self._nearest[key]


def _communities(inputs: Inputs, regions: tuple[str, ...]) -> gpd.GeoDataFrame:
    comms = inputs.communities
    return comms[comms["region"].isin(regions)] if regions else comms


@dataclass(frozen=True)
class Nearest:
    """Per community (in the order of the communities table given): ``minutes`` to the
    nearest service of the chosen types (``inf``: none reachable) and its ``service_id``."""

    minutes: np.ndarray
    service_id: np.ndarray


def nearest_of(times: pd.DataFrame, communities: pd.DataFrame, types: Sequence[str]) -> Nearest:
    """The nearest service of any of ``types`` for each community, as
    :func:`coverage.analysis.gaps.community_gaps` finds it, vectorised (no merge).

    Parameters
    ----------
    times : DataFrame
        :func:`coverage.engine.travel.nearest_service_times` rows.
    communities : DataFrame
        ``community_id`` per row; the result follows its order.
    types : sequence of str

    Returns
    -------
    Nearest
        ``minutes`` (float, minutes; ``inf`` when unreachable) and ``service_id`` (object,
        None when unreachable), aligned with ``communities``.
    """
    n = len(communities)
    chosen = times[times["service_type"].isin(list(types))]
    pos = pd.Index(communities["community_id"]).get_indexer(chosen["community_id"])
    ok = pos >= 0
    pos = pos[ok]
    minutes = chosen["minutes"].to_numpy(dtype=float)[ok]
    ids = chosen["service_id"].to_numpy(dtype=object)[ok]
    out_min = np.full(n, np.inf)
    out_id = np.full(n, None, dtype=object)
    if len(pos):
        order = np.lexsort((minutes, pos))
        first = np.r_[True, pos[order][1:] != pos[order][:-1]]
        pick = order[first]
        out_min[pos[pick]] = np.where(np.isnan(minutes[pick]), np.inf, minutes[pick])
        out_id[pos[pick]] = ids[pick]
    return Nearest(minutes=out_min, service_id=out_id)


# --- running a scenario ------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioResult:
    """Before and after one scenario (figures count ``scenario.measure``: women or people).

    Attributes
    ----------
    scenario : Scenario
    baseline_season : str
        The season of the "before" figures (registered services, no road closed).
    totals : DataFrame
        :data:`TOTAL_COLUMNS` per region and overall (last row ``All``): ``population``,
        ``within_before``, ``within_after``, ``change`` (people of the measure),
        ``share_before``, ``share_after`` (0–1).
    districts : DataFrame
        :data:`DISTRICT_COLUMNS` for every district with a community, largest change first
        (losses and gains alike), then by name.
    changed : DataFrame
        :data:`CHANGED_COLUMNS`: communities whose status (``within`` / ``beyond`` the
        threshold) changes, with ``minutes_before``/``minutes_after`` (``inf``: no route)
        and the nearest service's public name before and after; most people of the
        measure first.
    communities : DataFrame
        Every community counted: :data:`CHANGED_COLUMNS` (no geometry), status or not.
    closed : DataFrame
        The closed services as the public sees them (``service_id``, ``name``, ``type``, ``town``).
    added : GeoDataFrame
        The proposed sites as every figure uses them (public points: a shelter at its town).
    roads : DataFrame
        ``way_id``, ``name``, ``on_network`` (False: the road is not on this season's
        network, e.g. winter closes it anyway, or it left the file).
    minutes_changed : int
        Communities whose minutes changed by a minute or more (or that gained or lost
        every route).
    seconds : float
        Wall-clock seconds the run took.
    """

    scenario: Scenario
    baseline_season: str
    totals: pd.DataFrame
    districts: pd.DataFrame
    changed: pd.DataFrame
    communities: pd.DataFrame
    closed: pd.DataFrame
    added: gpd.GeoDataFrame
    roads: pd.DataFrame
    minutes_changed: int
    seconds: float

    def overall(self) -> pd.Series:
        """The ``All`` row of :attr:`totals`."""
        return self.totals.set_index("region").loc["All"]


def run_scenario(
    inputs: Inputs,
    scenario: Scenario,
    *,
    baseline_season: str | None = None,
    regions: Sequence[str] | None = None,
    baseline: Baseline | None = None,
    network_path: Path | None = None,
    settings: config.Settings | None = None,
) -> ScenarioResult:
    """Before and after ``scenario``: figures within its threshold overall, by region and by
    district, and the communities whose status changes.

    "Before" is the registered services (``inputs.services``) on the unchanged network of
    ``baseline_season``; "after" is the scenario's services (closed ones removed, proposed
    ones added at their public point) on the network of ``scenario.season`` with its closed
    roads removed. A community is *within* when its nearest service of any of
    ``scenario.service_types`` is at most ``scenario.threshold_min`` minutes away (as
    :func:`coverage.analysis.gaps.community_gaps`).

    Parameters
    ----------
    inputs : Inputs
        Public inputs (:func:`coverage.analysis.load_inputs`); never changed.
    scenario : Scenario
    baseline_season : str, optional
        Season of the "before" figures; default the scenario's season (then only the
        scenario's own changes show).
    regions : sequence of str, optional
        Count only communities of these regions.
    baseline : Baseline, optional
        Kept state from earlier runs (networks, baseline travel times); a new one is made
        when not given (``network_path`` and ``settings`` are then used).
    network_path : Path, optional
        OSM road file for a new baseline.
    settings : Settings, optional
        For a new baseline.

    Returns
    -------
    ScenarioResult

    Raises
    ------
    InputError
        What :func:`check_scenario` raises; ``scenario.unknown_service`` for a closed id not
        among the services; ``scenario.unknown_town`` for a proposed site's town.
    """
    started = time.perf_counter()
    check_scenario(scenario)
    base_season = baseline_season or scenario.season
    if base_season not in config.SEASONS:
        raise InputError(f"season must be one of {config.SEASONS}, not {base_season!r}",
                         message_id="input.unknown_season", season=str(base_season), known=config.SEASONS)
    if baseline is None:
        baseline = Baseline(inputs, network_path=network_path, settings=settings)
    types = tuple(dict.fromkeys(scenario.service_types))
    region_key = tuple(sorted(regions or ()))
    services = inputs.services
    known = set(services["service_id"].astype(str))
    unknown = [s for s in scenario.closed_services if s not in known]
    if unknown:
        raise InputError(f"no open service with id(s) {', '.join(unknown)}", message_id="scenario.unknown_service",
                         service_ids=unknown)
    closed_ids = set(scenario.closed_services)
    is_closed = services["service_id"].isin(closed_ids).to_numpy()
    added = public_proposed(inputs, scenario.added_sites)
    after_services = gpd.GeoDataFrame(pd.concat([services[~is_closed], added], ignore_index=True),
                                      geometry="geometry", crs=services.crs)
    network = baseline.network(scenario.season)
    road_ids = scenario.way_ids
    missing = set(closures.missing_ways(network, road_ids))
    closing = [w for w in road_ids if w not in missing]
    counted = after_services[after_services["type"].isin(types)]
    comms = _communities(inputs, region_key)
    if closing:
        after_times = travel.nearest_service_times(closures.close_ways(network, closing), comms, counted,
                                                   settings=baseline.settings)
        after = nearest_of(after_times, comms, types)
    else:  # the season's own network: recompute only the types the scenario touches
        touched = set(added["type"]) | set(services.loc[is_closed, "type"])
        redo = tuple(t for t in types if t in touched)
        kept = tuple(t for t in types if t not in touched)
        after = baseline.nearest(scenario.season, kept, region_key) if kept else None
        if redo:
            fresh = nearest_of(travel.nearest_service_times(network, comms, counted[counted["type"].isin(redo)],
                                                            settings=baseline.settings), comms, redo)
            after = fresh if after is None else _nearer(after, fresh)
        if after is None:  # no type counted at all (cannot happen after check_scenario)
            after = Nearest(np.full(len(comms), np.inf), np.full(len(comms), None, dtype=object))
    before = baseline.nearest(base_season, types, region_key)
    table = _community_table(comms, before, after, scenario.threshold_min, services, after_services)
    measure = scenario.measure
    return ScenarioResult(
        scenario=scenario,
        baseline_season=base_season,
        totals=_totals(table, measure),
        districts=_districts(table, inputs.districts, measure),
        changed=_changed(table, measure),
        communities=table,
        closed=pd.DataFrame(privacy.public_columns(services[is_closed])[["service_id", "name", "type", "town"]]),
        added=added,
        roads=pd.DataFrame({"way_id": pd.Series(road_ids, dtype="int64"),
                            "name": pd.Series([r.name for r in scenario.closed_roads], dtype=object),
                            "on_network": pd.Series([w not in missing for w in road_ids], dtype=bool)}),
        minutes_changed=_minutes_changed(before.minutes, after.minutes),
        seconds=time.perf_counter() - started,
    )


def _nearer(a: Nearest, b: Nearest) -> Nearest:
    """Per community the nearer of two results (ties: ``a``)."""
    take_b = b.minutes < a.minutes
    return Nearest(np.where(take_b, b.minutes, a.minutes), np.where(take_b, b.service_id, a.service_id))


def _community_table(comms: pd.DataFrame, before: Nearest, after: Nearest, threshold_min: float,
                     services_before: pd.DataFrame, services_after: pd.DataFrame) -> pd.DataFrame:
    names_before = services_before.set_index("service_id")["name"]
    names_after = services_after.set_index("service_id")["name"]
    within_before = before.minutes <= float(threshold_min)
    within_after = after.minutes <= float(threshold_min)
    columns = {c: comms[c].to_numpy() for c in ("community_id", "name", "place", "district_id", "district", "region",
                                                 "population", "women", "estimated") if c in comms.columns}
    table = pd.DataFrame({
        **columns,
        "minutes_before": before.minutes, "minutes_after": after.minutes,
        "nearest_before": pd.Series(before.service_id).map(names_before).to_numpy(),
        "nearest_after": pd.Series(after.service_id).map(names_after).to_numpy(),
        "status_before": np.where(within_before, WITHIN, BEYOND),
        "status_after": np.where(within_after, WITHIN, BEYOND),
    })
    return table


def _sums(table: pd.DataFrame, key: str, measure: str) -> pd.DataFrame:
    """The measure in total and within before/after, per value of ``key`` (vectorised)."""
    codes, uniques = pd.factorize(table[key], sort=True)
    weight = table[measure].to_numpy(dtype=np.int64)
    n = len(uniques)

    def total(mask: np.ndarray | None = None) -> np.ndarray:
        w = weight if mask is None else np.where(mask, weight, 0)
        return np.bincount(codes, weights=w, minlength=n).round().astype(np.int64)

    return pd.DataFrame({
        key: uniques, "population": total(),
        "within_before": total(table["status_before"].to_numpy() == WITHIN),
        "within_after": total(table["status_after"].to_numpy() == WITHIN),
    })


def _finish(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    frame["change"] = frame["within_after"] - frame["within_before"]
    frame["share_before"] = frame["within_before"] / frame["population"].clip(lower=1)
    frame["share_after"] = frame["within_after"] / frame["population"].clip(lower=1)
    frame["measure"] = measure
    return frame


def _totals(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    regions = _sums(table, "region", measure)
    overall = regions[["population", "within_before", "within_after"]].sum().to_frame().T.assign(region="All")
    out = pd.concat([regions, overall], ignore_index=True)
    out[["population", "within_before", "within_after"]] = out[["population", "within_before",
                                                                 "within_after"]].astype("int64")
    return _finish(out, measure)[TOTAL_COLUMNS]


def _districts(table: pd.DataFrame, districts: pd.DataFrame, measure: str) -> pd.DataFrame:
    sums = _sums(table, "district_id", measure)
    names = districts[["district_id", "district", "region"]].drop_duplicates("district_id")
    out = _finish(names.merge(sums, on="district_id", how="inner"), measure)
    order = np.lexsort((out["district"].astype(str).to_numpy(), -out["change"].abs().to_numpy()))
    return out.iloc[order].reset_index(drop=True)[DISTRICT_COLUMNS]


def _changed(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    out = table[table["status_before"] != table["status_after"]]
    out = out.sort_values([measure, "minutes_after"], ascending=[False, True], kind="stable")
    return out[[c for c in CHANGED_COLUMNS if c in out.columns]].reset_index(drop=True)


def _minutes_changed(before: np.ndarray, after: np.ndarray) -> int:
    both = np.isfinite(before) & np.isfinite(after)
    moved = np.zeros(len(before), dtype=bool)
    moved[both] = np.abs(after[both] - before[both]) >= 1.0
    return int((moved | (np.isfinite(before) != np.isfinite(after))).sum())


def parse_site(text: str) -> ProposedSite:
    """A proposed site as typed on the command line: ``TYPE@TOWN`` or ``TYPE@LON,LAT``,
    optionally ``:ORG`` at the end (``crisis_centre@Kulob``, ``shelter@69.78,37.91:Ghamkhori``).

    Parameters
    ----------
    text : str

    Returns
    -------
    ProposedSite

    Raises
    ------
    InputError
        ``scenario.site_syntax`` when the text has no ``@`` or a bad point.
    """
    kind, at, rest = str(text).partition("@")
    if not at or not kind.strip() or not rest.strip():
        raise InputError(f"{text!r}: write a proposed site as TYPE@TOWN or TYPE@LON,LAT (optionally :ORG), "
                         "e.g. crisis_centre@Kulob", message_id="scenario.site_syntax", text=str(text))
    place, _colon, org = rest.partition(":")
    parts = [p.strip() for p in place.split(",")]
    if len(parts) == 2:
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            lon = lat = math.nan
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise InputError(f"{text!r}: a point is two numbers, LON,LAT in degrees", message_id="scenario.site_syntax",
                             text=str(text))
        return ProposedSite(type=kind.strip(), lon=lon, lat=lat, org=org.strip())
    return ProposedSite(type=kind.strip(), town=place.strip(), org=org.strip())


def find_roads(roads_table: pd.DataFrame, text: str, ways: pd.DataFrame | None = None) -> tuple[ClosedRoad, ...]:
    """The roads a user means by ``text``: a way id, or a road's label or name
    (``"M41 Tavildara – Qalaikhumb"``, ``"Tavildara-Qalaikhumb"``: case, accents and dashes
    do not matter).

    Parameters
    ----------
    roads_table : DataFrame
        :meth:`Baseline.roads` of the season.
    text : str
    ways : DataFrame, optional
        :meth:`Baseline.ways`: names a way id that is not on the season's network (winter
        closes it anyway).

    Returns
    -------
    tuple of ClosedRoad
        Every way of the road, named by its label (a way id found nowhere: one road named
        ``way <id>``).

    Raises
    ------
    InputError
        ``scenario.unknown_road`` naming up to five close labels.
    """
    import difflib

    raw = str(text).strip()
    if raw.isdigit():
        for label, ids in zip(roads_table["label"], roads_table["way_ids"]):
            if int(raw) in ids:
                return (ClosedRoad(int(raw), str(label)),)
        if ways is not None and (ways["way_id"] == int(raw)).any():
            return (ClosedRoad(int(raw), str(ways.loc[ways["way_id"] == int(raw), "label"].iloc[0])),)
        return (ClosedRoad(int(raw), f"way {raw}"),)
    wanted = travel.normalise_name(raw)
    for column in ("label", "name"):
        keys = roads_table[column].astype(str).map(travel.normalise_name)
        hits = roads_table[keys == wanted]
        if len(hits):
            return tuple(ClosedRoad(int(w), str(label)) for label, ids in zip(hits["label"], hits["way_ids"])
                         for w in ids)
    labels = {travel.normalise_name(label): str(label) for label in roads_table["label"]}
    close = [labels[k] for k in difflib.get_close_matches(wanted, list(labels), n=5, cutoff=0.5)]
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(f"no road named {raw!r} on the network{hint}", message_id="scenario.unknown_road",
                     road=raw, suggestions=close)


def applicable(inputs: Inputs, scenario: Scenario) -> tuple[Scenario, list[str]]:
    """A saved scenario as it can run on today's services: closed ids that are no longer
    among the open services are left out (and returned, so a page can say so).

    Parameters
    ----------
    inputs : Inputs
    scenario : Scenario

    Returns
    -------
    tuple
        ``(scenario, dropped_ids)``.
    """
    known = set(inputs.services["service_id"].astype(str))
    dropped = [s for s in scenario.closed_services if s not in known]
    if not dropped:
        return scenario, []
    kept = tuple(s for s in scenario.closed_services if s in known)
    return dataclasses.replace(scenario, closed_services=kept), dropped


def touched_types(inputs: Inputs, closed_services: Iterable[str], sites: Iterable[ProposedSite]) -> tuple[str, ...]:
    """The service types a scenario's closures and proposed sites belong to, in
    :data:`coverage.config.SERVICE_TYPES` order.

    Parameters
    ----------
    inputs : Inputs
    closed_services : iterable of str
        Service ids.
    sites : iterable of ProposedSite

    Returns
    -------
    tuple of str
    """
    ids = set(closed_services)
    found = set(inputs.services.loc[inputs.services["service_id"].isin(ids), "type"]) | {s.type for s in sites}
    return tuple(t for t in config.SERVICE_TYPES if t in found)

"""Where to open the next site: location-allocation given the sites that exist.

Two questions, both over a candidate × community matrix of road minutes
(:func:`coverage.engine.od.od_minutes`: travel from each community to each candidate):

- :func:`maximal_covering` (MCLP): which ``k`` new sites bring the most women (or people)
  within ``threshold_min`` minutes of a site of the type. Communities already within the
  threshold of an existing site count as covered: the new sites are judged only by the
  communities they add. Solved with ``spopt.locate.MCLP`` (HiGHS through ``pulp``) on the
  communities not yet covered, grouped by which candidates reach them (same answer, a much
  smaller model).
- :func:`p_median`: which ``p`` new sites, added to the existing ones, make the
  women-weighted (or people-weighted) sum of minutes to the nearest site smallest. Solved as
  a HiGHS mixed-integer model (``highspy``) of the minutes each new site saves, with one
  assignment variable per (community, candidate) pair only where the candidate is nearer than
  the nearest existing site. spopt's ``PMedian`` takes the existing sites as predefined
  facilities but builds one variable per (community, candidate) pair and one ``pulp`` object
  per coefficient: on the default data (2,646 communities × 144 towns, p = 3, 2 busy cores) it
  took 87 s against 20-30 s for this sparse form (42,656 pairs instead of 381,024), with the
  same optimum; a greedy-and-swap choice starts the solver, and is returned (``optimal``
  False) if the time limit passes first. A community no site reaches
  counts as :data:`coverage.config.UNREACHABLE_MINUTES` minutes.

Both solvers run offline (HiGHS ships inside ``highspy``). Sites are listed in the order
that adds the most first; ``adds`` is what each adds to those before it (marginal gain).
Everything here is computed from the services given, which :func:`coverage.analysis.load_inputs`
has already moved to public points (:mod:`coverage.views.privacy`), and from public
candidates (towns and district seats), so the result is a public figure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse

from coverage import config
from coverage.analysis.gaps import check_measure
from coverage.analysis.pipeline import Inputs, check_threshold
from coverage.data.boundaries import normalise_name
from coverage.engine import od, roads
from coverage.errors import InputError

METHODS: tuple[str, ...] = ("mclp", "pmedian")
SITE_COLUMNS = ("rank", "name", "kind", "district", "region", "adds", "minutes_saved", "geometry")


@dataclass(frozen=True)
class SitePlan:
    """Suggested new sites and what they change.

    Attributes
    ----------
    sites : GeoDataFrame
        One row per new site, best first (EPSG:4326 points): ``rank`` (1 = adds most),
        ``name``, ``kind`` (``town``/``seat``/``user``), ``district``, ``region``, ``adds``
        (women or people newly within ``threshold_min`` thanks to this site, after those
        ranked before it) and ``minutes_saved`` (women- or people-weighted minutes of travel
        it saves, after those ranked before it; NaN for ``mclp``, whose matrix stops at the
        threshold).
    method : str
        ``"mclp"`` or ``"pmedian"``.
    measure : str
        What ``adds`` counts: ``"women"`` or ``"population"``.
    threshold_min : float
        Minutes.
    covered_before, covered_after : int
        Women (or people) within ``threshold_min`` of a site before and after the new sites.
    total : int
        Women (or people) in all communities.
    weighted_minutes_before, weighted_minutes_after : float
        Sum over communities of count × minutes to the nearest site (unreachable counted as
        :data:`coverage.config.UNREACHABLE_MINUTES`); NaN for ``mclp``.
    optimal : bool
        The solver proved the choice optimal (False: best found within the time limit).
    """

    sites: gpd.GeoDataFrame
    method: str
    measure: str
    threshold_min: float
    covered_before: int
    covered_after: int
    total: int
    weighted_minutes_before: float
    weighted_minutes_after: float
    optimal: bool

    @property
    def adds(self) -> int:
        """Women (or people) the new sites bring within the threshold, together."""
        return self.covered_after - self.covered_before


# --- candidates -------------------------------------------------------------------------


def default_candidates(inputs: Inputs) -> gpd.GeoDataFrame:
    """Towns, cities and district seats of the gazetteer, each once (EPSG:4326).

    A seat that is also a listed town (same name, within
    :data:`coverage.config.CANDIDATE_MERGE_M` metres) is kept once, as a town.

    Parameters
    ----------
    inputs : Inputs
        From :func:`coverage.analysis.load_inputs`: ``communities`` (``place`` city/town) and
        ``districts`` (``seat``, ``seat_lon``, ``seat_lat``).

    Returns
    -------
    GeoDataFrame
        ``name``, ``kind`` (``town`` or ``seat``), ``district``, ``region``, points.
    """
    com = inputs.communities
    towns = com[com["place"].isin(("city", "town"))]
    frames = [gpd.GeoDataFrame({"name": towns["name"].astype(str).to_numpy(), "kind": "town"},
                               geometry=towns.geometry.to_numpy(), crs=com.crs).to_crs(config.CRS_STORE)]
    d = inputs.districts
    if {"seat", "seat_lon", "seat_lat"} <= set(d.columns):
        seats = d[d["seat"].fillna("").astype(str).str.strip() != ""]
        frames.append(gpd.GeoDataFrame({"name": seats["seat"].astype(str).to_numpy(), "kind": "seat"},
                                       geometry=gpd.points_from_xy(seats["seat_lon"], seats["seat_lat"]),
                                       crs=config.CRS_STORE))
    places = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=config.CRS_STORE)
    xy = od.as_xy(places)
    key = places["name"].map(normalise_name).to_numpy()
    # Same name and within the merge distance of an earlier row: the same place.
    same = (key[:, None] == key[None, :]) & (np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
                                             <= config.CANDIDATE_MERGE_M)
    first = np.argmax(same, axis=1) == np.arange(len(places))
    return with_districts(places[first].reset_index(drop=True), inputs.districts)


def with_districts(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``points`` with the ``district`` and ``region`` they lie in ("" outside every district)."""
    points = points.drop(columns=[c for c in ("district", "region") if c in points.columns])
    joined = gpd.sjoin(points, districts[["district", "region", "geometry"]].to_crs(points.crs),
                       how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out = points.copy()
    out["district"] = joined["district"].fillna("").astype(str).to_numpy()
    out["region"] = joined["region"].fillna("").astype(str).to_numpy()
    return out


def candidates_named(inputs: Inputs, names: Sequence[str]) -> gpd.GeoDataFrame:
    """Candidates picked by name among the default candidates, then all communities.

    Parameters
    ----------
    inputs : Inputs
        Communities and districts to look the names up in.
    names : sequence of str
        Place names as typed (case- and accent-insensitive).

    Returns
    -------
    GeoDataFrame
        As :func:`default_candidates`, one row per name (``kind`` ``user`` for a village).

    Raises
    ------
    InputError
        ``allocation.unknown_candidate`` naming the first name found nowhere.
    """
    towns = default_candidates(inputs)
    com = inputs.communities.to_crs(config.CRS_STORE)
    pool = gpd.GeoDataFrame(pd.concat([
        towns[["name", "kind", "geometry"]],
        gpd.GeoDataFrame({"name": com["name"].astype(str).to_numpy(), "kind": "user"},
                         geometry=com.geometry.to_numpy(), crs=config.CRS_STORE),
    ], ignore_index=True), geometry="geometry", crs=config.CRS_STORE)
    keys = pool["name"].map(normalise_name)
    rows = []
    for name in names:
        hits = np.flatnonzero(keys.to_numpy() == normalise_name(name))
        if not len(hits):
            raise InputError(f"no town or community named {name!r} to try as a site",
                             message_id="allocation.unknown_candidate", field="candidates", value=str(name))
        rows.append(hits[0])
    return with_districts(pool.iloc[rows].reset_index(drop=True), inputs.districts)


# --- the matrices -----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteProblem:
    """Numbers a location-allocation solver needs (arrays aligned with the communities).

    Attributes
    ----------
    minutes : ndarray
        (n_communities, n_candidates) minutes from each community to each candidate
        (``inf`` unreachable or beyond the limit it was computed with).
    existing : ndarray
        (n_communities,) minutes to the nearest existing site of the type(s) (``inf`` none).
    weights : ndarray
        (n_communities,) women or people.
    """

    minutes: np.ndarray
    existing: np.ndarray
    weights: np.ndarray


def build_problem(
    inputs: Inputs,
    service_type: str | Sequence[str],
    candidates: gpd.GeoDataFrame,
    network: roads.RoutingNetwork,
    *,
    measure: str = config.DEFAULT_MEASURE,
    limit_minutes: float | None = None,
    settings: config.Settings | None = None,
) -> SiteProblem:
    """Minutes from every community to every candidate and to the nearest existing site.

    Parameters
    ----------
    inputs : Inputs
        Communities (``women``/``population``) and services (public points).
    service_type : str or sequence of str
        Existing services of these types count as sites already there.
    candidates : GeoDataFrame
        Candidate points (any CRS).
    network : RoutingNetwork
        The road network of the season.
    measure : str
        ``"women"`` (default) or ``"population"``.
    limit_minutes : float, optional
        Bound the candidate matrix (MCLP needs nothing beyond its threshold); minutes.
    settings : Settings, optional
        Access speeds and snapping; default :func:`coverage.config.load_settings`.

    Returns
    -------
    SiteProblem
    """
    measure = check_measure(measure)
    types = [service_type] if isinstance(service_type, str) else list(service_type)
    existing_sites = inputs.services[inputs.services["type"].astype(str).isin(types)]
    com = inputs.communities
    minutes = od.od_minutes(network, com, candidates, limit_minutes=limit_minutes, settings=settings)
    existing = od.od_minutes(network, com, existing_sites, limit_minutes=limit_minutes, settings=settings)
    nearest = existing.min(axis=1) if existing.shape[1] else np.full(len(com), np.inf)
    weights = com[measure].fillna(0).to_numpy(dtype=float)
    return SiteProblem(minutes=minutes, existing=nearest, weights=weights)


# --- solvers on arrays ------------------------------------------------------------------


def _check_count(count: int, n_candidates: int, field: str) -> int:
    if not (isinstance(count, (int, np.integer)) and 1 <= count <= n_candidates):
        raise InputError(f"the number of new sites must be a whole number from 1 to {n_candidates} "
                         f"(the candidates), not {count!r}", message_id="allocation.site_count",
                         field=field, value=str(count), max_count=n_candidates)
    return int(count)


def solve_mclp(cover: np.ndarray, covered_now: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` candidates covering the most weight not yet covered (MCLP).

    Parameters
    ----------
    cover : ndarray
        (n, m) bool: candidate j covers community i (within the threshold).
    covered_now : ndarray
        (n,) bool: already covered by an existing site (counts as covered).
    weights : ndarray
        (n,) women or people.
    k : int
        New sites, 1 ≤ k ≤ m.

    Returns
    -------
    ndarray
        (k,) candidate indices, ascending.
    """
    import pulp
    from spopt.locate import MCLP

    cover = np.asarray(cover, dtype=bool)
    m = cover.shape[1]
    k = _check_count(k, m, "k")
    # Only communities a candidate reaches and no existing site covers can change the count;
    # communities reached by the same candidates are one demand point (weights summed).
    open_rows = ~np.asarray(covered_now, dtype=bool) & cover.any(axis=1) & (np.asarray(weights) > 0)
    if not open_rows.any():
        return np.arange(k)
    patterns, group = np.unique(cover[open_rows], axis=0, return_inverse=True)
    demand = np.bincount(group.ravel(), weights=np.asarray(weights, dtype=float)[open_rows])
    # Candidates that reach no open community cannot add anything: keep them out of the
    # model, and fill with them only when fewer useful candidates than k exist.
    useful = np.flatnonzero(patterns.any(axis=0))
    if len(useful) <= k:
        rest = np.setdiff1d(np.arange(m), useful)
        return np.sort(np.concatenate([useful, rest[:k - len(useful)]]))
    cost = np.where(patterns[:, useful], 0.0, 1.0)  # 0 = covered within the radius
    model = MCLP.from_cost_matrix(cost, demand, service_radius=0.5, p_facilities=k)
    with _quiet_stdout():
        model.solve(pulp.HiGHS(msg=False, timeLimit=config.ALLOCATION_TIME_LIMIT_S))
    chosen = np.array([j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5], dtype=np.int64)
    return np.sort(useful[chosen])


def savings_matrix(minutes: np.ndarray, existing: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n, m) weighted minutes each candidate would save each community on its own:
    ``weights × max(existing − minutes, 0)``, unreachable as :data:`config.UNREACHABLE_MINUTES`."""
    cap = config.UNREACHABLE_MINUTES
    d = np.minimum(np.asarray(minutes, dtype=float), cap)
    e = np.minimum(np.asarray(existing, dtype=float), cap)
    return np.asarray(weights, dtype=float)[:, None] * np.maximum(e[:, None] - d, 0.0)


def _greedy_swap(savings: np.ndarray, p: int) -> np.ndarray:
    """A good start for the solver: greedy additions, then best single swaps until none helps."""
    n, m = savings.shape
    chosen: list[int] = []
    best = np.zeros(n)
    for _ in range(p):
        gain = np.maximum(savings - best[:, None], 0.0).sum(axis=0)
        gain[chosen] = -1.0
        chosen.append(int(np.argmax(gain)))
        best = np.maximum(best, savings[:, chosen[-1]])
    value = best.sum()
    improved = True
    while improved and p < m:
        improved = False
        for out in list(chosen):
            others = [j for j in chosen if j != out]
            base = savings[:, others].max(axis=1) if others else np.zeros(n)
            totals = np.maximum(savings, base[:, None]).sum(axis=0)
            totals[chosen] = -1.0
            j = int(np.argmax(totals))
            if totals[j] > value * (1 + 1e-12) + 1e-9:
                chosen[chosen.index(out)] = j
                value = totals[j]
                improved = True
    return np.array(sorted(chosen), dtype=np.int64)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence the C-level banner HiGHS prints the first time a solver is made in a process."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (embedded): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve_pmedian(minutes: np.ndarray, existing: np.ndarray, weights: np.ndarray, p: int) -> tuple[np.ndarray, bool]:
    """Indices of the ``p`` candidates that, added to the existing sites, minimise the
    weighted minutes to the nearest site (p-median with the existing sites fixed open).

    Model (HiGHS MIP): maximise Σ s_ij z_ij (s_ij = weighted minutes saved,
    :func:`savings_matrix`) over pairs with s_ij > 0, Σ_j z_ij ≤ 1 per community,
    z_ij ≤ x_j, Σ x_j = p, x binary; equal to minimising Σ w_i min(existing_i, min_{j open} d_ij).

    Parameters
    ----------
    minutes : ndarray
        (n, m) minutes community → candidate (``inf`` unreachable).
    existing : ndarray
        (n,) minutes to the nearest existing site (``inf`` none).
    weights : ndarray
        (n,) women or people.
    p : int
        New sites, 1 ≤ p ≤ m.

    Returns
    -------
    chosen : ndarray
        (p,) candidate indices, ascending.
    optimal : bool
        HiGHS proved optimality within :data:`config.ALLOCATION_TIME_LIMIT_S`.
    """
    import highspy

    savings = savings_matrix(minutes, existing, weights)
    n, m = savings.shape
    p = _check_count(p, m, "p")
    start = _greedy_swap(savings, p)
    rows, cols = np.nonzero(savings > 0)
    pairs = len(rows)
    if pairs == 0:
        return start, True
    scale = savings.max()
    clients, client_row = np.unique(rows, return_inverse=True)
    n_cols = m + pairs
    z = m + np.arange(pairs)
    one = np.ones(pairs)
    a = scipy.sparse.vstack([
        scipy.sparse.csr_array((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, n_cols)),
        scipy.sparse.csr_array((one, (client_row.ravel(), z)), shape=(len(clients), n_cols)),
        scipy.sparse.csr_array((np.r_[one, -one], (np.r_[np.arange(pairs), np.arange(pairs)], np.r_[z, cols])),
                               shape=(pairs, n_cols)),
    ]).tocsr()
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(config.ALLOCATION_TIME_LIMIT_S))
    h.addVars(n_cols, np.zeros(n_cols), np.ones(n_cols))
    h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), np.r_[np.zeros(m), savings[rows, cols] / scale])
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    lower = np.r_[p, np.full(len(clients) + pairs, -np.inf)]
    upper = np.r_[p, np.ones(len(clients)), np.zeros(pairs)]
    h.addRows(a.shape[0], lower, upper, a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data)
    h.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger))
    # The greedy-and-swap choice as a starting solution (each community to its best open site).
    x0 = np.zeros(n_cols)
    x0[start] = 1.0
    open_savings = np.where(np.isin(cols, start), savings[rows, cols], -1.0)
    best_pair = pd.Series(open_savings).groupby(rows).idxmax().to_numpy()
    x0[m + best_pair[open_savings[best_pair] > 0]] = 1.0
    solution = highspy.HighsSolution()
    solution.col_value = list(x0)
    h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    values = np.asarray(h.getSolution().col_value[:m]) if h.getInfo().primal_solution_status else np.zeros(m)
    chosen = np.flatnonzero(values > 0.5)
    if len(chosen) != p:  # no solution within the time limit: the greedy-and-swap one
        return start, False
    return np.sort(chosen), status == highspy.HighsModelStatus.kOptimal


# --- the plan ---------------------------------------------------------------------------


def rank_sites(
    chosen: np.ndarray, minutes: np.ndarray, existing: np.ndarray, weights: np.ndarray, threshold_min: float,
    *, by: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order ``chosen`` by what each adds to those before it (``by`` = ``"covered"`` for the
    count within ``threshold_min``, ``"minutes"`` for weighted minutes saved), greedily.

    Returns
    -------
    order : ndarray
        ``chosen`` reordered, best first.
    adds : ndarray
        Count newly within the threshold, per site in that order (marginal).
    saved : ndarray
        Weighted minutes saved, per site in that order (marginal).
    """
    cap = config.UNREACHABLE_MINUTES
    current = np.minimum(existing, cap)
    remaining = [int(j) for j in chosen]
    order, adds, saved = [], [], []
    for _ in range(len(remaining)):
        cand = np.minimum(minutes[:, remaining], cap)
        new = np.minimum(current[:, None], cand)
        gain_cover = ((new <= threshold_min) & ~(current[:, None] <= threshold_min)) * weights[:, None]
        gain_min = (current[:, None] - new) * weights[:, None]
        key = gain_cover.sum(axis=0) if by == "covered" else gain_min.sum(axis=0)
        tie = gain_min.sum(axis=0) if by == "covered" else gain_cover.sum(axis=0)
        pick = int(np.lexsort((-np.arange(len(remaining)), tie, key))[-1])  # ties: the first listed
        order.append(remaining[pick])
        adds.append(gain_cover[:, pick].sum())
        saved.append(gain_min[:, pick].sum())
        current = new[:, pick]
        remaining.pop(pick)
    return np.array(order, dtype=np.int64), np.array(adds), np.array(saved)


def plan_from_choice(
    chosen: np.ndarray, problem: SiteProblem, candidates: gpd.GeoDataFrame, *, method: str, measure: str,
    threshold_min: float, optimal: bool,
) -> SitePlan:
    """A :class:`SitePlan` for the candidate indices ``chosen``."""
    by = "covered" if method == "mclp" else "minutes"
    order, adds, saved = rank_sites(chosen, problem.minutes, problem.existing, problem.weights,
                                    threshold_min, by=by)
    cap = config.UNREACHABLE_MINUTES
    before = np.minimum(problem.existing, cap)
    after = np.minimum(before, np.minimum(problem.minutes[:, order], cap).min(axis=1)) if len(order) else before
    w = problem.weights
    picked = candidates.iloc[order].to_crs(config.CRS_STORE).reset_index(drop=True)
    sites = gpd.GeoDataFrame({
        "rank": np.arange(1, len(order) + 1),
        "name": picked["name"].astype(str).to_numpy(),
        "kind": picked["kind"].astype(str).to_numpy() if "kind" in picked else "user",
        "district": picked["district"].astype(str).to_numpy() if "district" in picked else "",
        "region": picked["region"].astype(str).to_numpy() if "region" in picked else "",
        "adds": np.rint(adds).astype(np.int64),
        "minutes_saved": saved if method == "pmedian" else np.nan,
    }, geometry=picked.geometry.to_numpy(), crs=config.CRS_STORE)
    return SitePlan(
        sites=sites[list(SITE_COLUMNS)], method=method, measure=measure, threshold_min=float(threshold_min),
        covered_before=int(round(w[before <= threshold_min].sum())),
        covered_after=int(round(w[after <= threshold_min].sum())), total=int(round(w.sum())),
        # MCLP's matrix stops at the threshold: its minutes beyond are unknown, so no sums.
        weighted_minutes_before=float((w * before).sum()) if method == "pmedian" else np.nan,
        weighted_minutes_after=float((w * after).sum()) if method == "pmedian" else np.nan,
        optimal=optimal,
    )


def _setup(
    inputs: Inputs, service_type: str | Sequence[str], candidates: gpd.GeoDataFrame | None,
    network: roads.RoutingNetwork | None, settings: config.Settings | None,
) -> tuple[gpd.GeoDataFrame, roads.RoutingNetwork, config.Settings]:
    settings = settings if settings is not None else config.load_settings()
    types = [service_type] if isinstance(service_type, str) else list(service_type)
    unknown = [t for t in types if t not in config.SERVICE_TYPES]
    if unknown or not types:
        raise InputError(f"unknown service type(s) {unknown}; choose from {', '.join(config.SERVICE_TYPES)}",
                         message_id="services.unknown_type", types=unknown, known=config.SERVICE_TYPES)
    candidates = default_candidates(inputs) if candidates is None else candidates
    if candidates.empty:
        raise InputError("no candidate sites to choose from", message_id="allocation.no_candidates",
                         field="candidates")
    network = network if network is not None else roads.load_network(settings.network_path, "summer", settings)
    return candidates, network, settings


def maximal_covering(
    inputs: Inputs,
    service_type: str | Sequence[str],
    *,
    k: int,
    threshold_min: float,
    measure: str = config.DEFAULT_MEASURE,
    candidates: gpd.GeoDataFrame | None = None,
    network: roads.RoutingNetwork | None = None,
    settings: config.Settings | None = None,
) -> SitePlan:
    """The ``k`` new sites that bring the most women (or people) within ``threshold_min``
    minutes of a site of ``service_type``, given the existing ones (MCLP).

    Parameters
    ----------
    inputs : Inputs
        From :func:`coverage.analysis.load_inputs` (public service points).
    service_type : str or sequence of str
        Type(s) of the new sites; existing services of these types are already there.
    k : int
        Number of new sites.
    threshold_min : float
        Minutes by road (and off-road access) that count as within reach.
    measure : str
        ``"women"`` (default) or ``"population"``.
    candidates : GeoDataFrame, optional
        Points to choose from (``name``; ``kind``, ``district``, ``region`` optional); default
        :func:`default_candidates`.
    network : RoutingNetwork, optional
        Road network of the season; default the settings' network in summer.
    settings : Settings, optional
        Default :func:`coverage.config.load_settings`.

    Returns
    -------
    SitePlan
        ``adds``: women (or people) each site brings within the threshold.

    Raises
    ------
    InputError
        Bad type, threshold, measure or ``k``; no candidates.
    """
    threshold_min = check_threshold(threshold_min)
    candidates, network, settings = _setup(inputs, service_type, candidates, network, settings)
    problem = build_problem(inputs, service_type, candidates, network, measure=measure,
                            limit_minutes=threshold_min, settings=settings)
    chosen = solve_mclp(problem.minutes <= threshold_min, problem.existing <= threshold_min, problem.weights, k)
    return plan_from_choice(chosen, problem, candidates, method="mclp", measure=measure,
                            threshold_min=threshold_min, optimal=True)


def p_median(
    inputs: Inputs,
    service_type: str | Sequence[str],
    *,
    p: int,
    threshold_min: float = config.DEFAULT_THRESHOLD_MIN,
    measure: str = config.DEFAULT_MEASURE,
    candidates: gpd.GeoDataFrame | None = None,
    network: roads.RoutingNetwork | None = None,
    settings: config.Settings | None = None,
) -> SitePlan:
    """The ``p`` new sites that, with the existing ones, make the women- (or people-)
    weighted minutes to the nearest site of ``service_type`` smallest (p-median).

    Parameters are as :func:`maximal_covering` (``p`` new sites); ``threshold_min`` only
    sets what ``adds`` and ``covered_*`` count, not the choice.

    Returns
    -------
    SitePlan
        ``minutes_saved``: weighted minutes each site saves; ``optimal`` False when HiGHS
        stopped at :data:`coverage.config.ALLOCATION_TIME_LIMIT_S` with a good, unproven choice.
    """
    threshold_min = check_threshold(threshold_min)
    candidates, network, settings = _setup(inputs, service_type, candidates, network, settings)
    # Minutes past UNREACHABLE_MINUTES count as that many: the searches may stop there.
    problem = build_problem(inputs, service_type, candidates, network, measure=measure,
                            limit_minutes=config.UNREACHABLE_MINUTES, settings=settings)
    chosen, optimal = solve_pmedian(problem.minutes, problem.existing, problem.weights, p)
    return plan_from_choice(chosen, problem, candidates, method="pmedian", measure=measure,
                            threshold_min=threshold_min, optimal=optimal)


def plan_sites(
    inputs: Inputs,
    service_type: str | Sequence[str],
    *,
    method: str,
    k: int,
    threshold_min: float,
    measure: str = config.DEFAULT_MEASURE,
    regions: Sequence[str] | None = None,
    towns: Sequence[str] = (),
    network: roads.RoutingNetwork | None = None,
    settings: config.Settings | None = None,
) -> SitePlan:
    """One entry in front of :func:`maximal_covering` and :func:`p_median`, for a planner's
    area: the communities and candidate towns of ``regions`` only.

    Parameters
    ----------
    inputs : Inputs
        From :func:`coverage.analysis.load_inputs` (public service points).
    service_type : str or sequence of str
        Type(s) of the new sites.
    method : str
        ``"mclp"`` (most women or people within ``threshold_min``) or ``"pmedian"``
        (smallest weighted minutes).
    k : int
        Number of new sites.
    threshold_min : float
        Minutes that count as within reach.
    measure : str
        ``"women"`` (default) or ``"population"``.
    regions : sequence of str, optional
        Count only the communities of these regions and suggest only towns in them
        (every existing service still counts, wherever it is); default all.
    towns : sequence of str
        Candidate names (:func:`candidates_named`); empty = every town and district seat of
        ``regions`` (:func:`default_candidates`).
    network, settings
        As :func:`maximal_covering`.

    Returns
    -------
    SitePlan
        Totals count the communities of ``regions``.

    Raises
    ------
    InputError
        ``allocation.bad_method``; ``allocation.no_candidates`` when no town lies in
        ``regions``; as :func:`maximal_covering`.
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose from {', '.join(METHODS)}",
                         message_id="allocation.bad_method", field="method", value=str(method),
                         known=list(METHODS))
    area = inputs
    if regions is not None:
        area = dataclasses.replace(inputs, communities=inputs.communities[inputs.communities["region"].isin(list(regions))])
    candidates = candidates_named(inputs, towns) if len(towns) else default_candidates(inputs)
    if regions is not None and not len(towns):
        candidates = candidates[candidates["region"].isin(list(regions))].reset_index(drop=True)
    options = dict(threshold_min=threshold_min, measure=measure, candidates=candidates, network=network,
                   settings=settings)
    if method == "mclp":
        return maximal_covering(area, service_type, k=k, **options)
    return p_median(area, service_type, p=k, **options)

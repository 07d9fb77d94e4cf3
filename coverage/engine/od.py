"""Bounded origin–destination matrices: minutes from every from-point to every to-point.

Shared by location-allocation (candidate sites × communities), capacity (services ×
communities) and scenarios. Same model as :mod:`coverage.engine.travel`: minutes(a → b) =
access(a → one of its road nodes) + road minutes + access(one of b's road nodes → b),
minimised over each point's ``settings.snap_candidates`` nearest nodes, or the straight-line
access time from a to b when that is shorter.

Direction: travel runs *from* each ``from_points`` row *to* each ``to_points`` column (for
coverage: from a community to a service or candidate site; one-way streets matter). The
result does not depend on how it is computed: the search runs from whichever side has fewer
distinct points (to-side over the transposed matrix, from-side over the matrix), one virtual
node per distinct point whose edges into its candidate nodes weigh its access minutes, all
sources in one ``scipy.sparse.csgraph.dijkstra(indices=..., limit=limit_minutes)`` call
(split in chunks only when the dense result would exceed :data:`coverage.config.OD_MAX_CELLS`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial.distance import cdist

from coverage import config
from coverage.config import Settings, load_settings
from coverage.engine.roads import RoutingNetwork, points_xy, snap_candidates
from coverage.engine.travel import access_minutes
from coverage.errors import InputError


def as_xy(points: Any) -> np.ndarray:
    """(n, 2) EPSG:32642 metres of ``points``.

    Parameters
    ----------
    points : GeoDataFrame, GeoSeries or array_like
        Point geometries in any CRS (EPSG:4326 when unset; projected to EPSG:32642), or an
        (n, 2) array that is *already* x/y metres in EPSG:32642 (unlike
        :func:`coverage.engine.roads.points_xy`, which reads arrays as lon/lat degrees).

    Returns
    -------
    ndarray
        (n, 2) float metres; NaN rows for missing or empty geometries.
    """
    if getattr(points, "geometry", None) is not None:
        return points_xy(points)
    return np.asarray(points, dtype=float).reshape(-1, 2)


def _with_virtual_points(
    matrix: scipy.sparse.csr_array, nodes: np.ndarray, offsets: np.ndarray
) -> scipy.sparse.csr_array:
    """``matrix`` (n × n minutes) plus one row per point: virtual node ``n + i`` → each of
    ``nodes[i]`` (-1 = none) weighing ``offsets[i]`` minutes. Rows appended to the CSR arrays."""
    m = matrix if isinstance(matrix, scipy.sparse.csr_array) else scipy.sparse.csr_array(matrix)
    n, s = m.shape[0], len(nodes)
    keep = (nodes >= 0) & np.isfinite(offsets)
    per_row = keep.sum(axis=1)
    indptr = np.concatenate([m.indptr, m.indptr[-1] + np.cumsum(per_row).astype(m.indptr.dtype)])
    indices = np.concatenate([m.indices, nodes[keep].astype(m.indices.dtype)])
    data = np.concatenate([m.data, offsets[keep].astype(float)])
    return scipy.sparse.csr_array((data, indices, indptr), shape=(n + s, n + s))


def _network_minutes(
    graph: scipy.sparse.csr_array,
    sources: np.ndarray,
    targets: np.ndarray,
    limit_minutes: float,
) -> np.ndarray:
    """(len(sources), len(targets)) minutes from each source to each target node, bounded.

    One Dijkstra call over all sources unless the dense (sources × nodes) result would pass
    :data:`coverage.config.OD_MAX_CELLS`; then as few chunks as fit."""
    n = graph.shape[0]
    per_call = max(1, config.OD_MAX_CELLS // max(n, 1))
    out = np.empty((len(sources), len(targets)))
    for start in range(0, len(sources), per_call):
        chunk = sources[start:start + per_call]
        dist = dijkstra(graph, directed=True, indices=chunk, limit=limit_minutes)
        out[start:start + len(chunk)] = dist[:, targets]
    return out


def _run_side(
    network: RoutingNetwork,
    graph: scipy.sparse.csr_array,
    run_xy: np.ndarray,
    other_xy: np.ndarray,
    limit_minutes: float,
    settings: Settings,
) -> np.ndarray:
    """(len(run_xy), len(other_xy)) road minutes, access at both ends included, from each
    run-side point (virtual source over ``graph``) to each other-side point.

    With ``graph`` = ``network.matrix`` the run side is the from-side; with
    ``network.matrix_t`` it is the to-side (times *to* it)."""
    k = settings.snap_candidates
    result = np.full((len(run_xy), len(other_xy)), np.inf)
    run_ok = np.isfinite(run_xy).all(axis=1)
    other_ok = np.isfinite(other_xy).all(axis=1)
    if not run_ok.any() or not other_ok.any() or network.n_nodes == 0:
        return result
    # Dedupe identical points on the run side: one virtual source per distinct point.
    distinct, inverse = np.unique(run_xy[run_ok], axis=0, return_inverse=True)
    run_node, run_dist = snap_candidates(network, distinct, k)
    n = network.n_nodes
    augmented = _with_virtual_points(graph, run_node, access_minutes(run_dist, network, settings))
    # Dedupe the other side's candidate nodes: the search reads each node's column once.
    other_node, other_dist = snap_candidates(network, other_xy[other_ok], k)
    other_access = access_minutes(other_dist, network, settings)
    targets, target_of = np.unique(other_node, return_inverse=True)
    target_of = target_of.reshape(other_node.shape)
    road = _network_minutes(augmented, n + np.arange(len(distinct)), targets, limit_minutes)
    best = np.full((len(distinct), len(target_of)), np.inf)
    for c in range(other_node.shape[1]):  # ≤ snap_candidates passes, each vectorised
        np.minimum(best, road[:, target_of[:, c]] + other_access[:, c], out=best)
    result[np.ix_(run_ok, other_ok)] = best[inverse.ravel()]
    return result


def od_minutes(
    network: RoutingNetwork,
    from_points: Any,
    to_points: Any,
    *,
    limit_minutes: float | None = None,
    settings: Settings | None = None,
) -> np.ndarray:
    """Minutes travelling from each of ``from_points`` to each of ``to_points``.

    Parameters
    ----------
    network : RoutingNetwork
        From :func:`coverage.engine.roads.load_network` (minutes matrix, EPSG:32642 nodes).
    from_points, to_points : GeoDataFrame, GeoSeries or array_like
        Where trips start (e.g. communities) and end (e.g. services, candidate sites): point
        geometries in any CRS (EPSG:4326 when unset), or (n, 2) x/y metres in EPSG:32642
        (see :func:`as_xy`).
    limit_minutes : float, optional
        Bound in minutes: pairs further apart are ``inf`` (and the searches stop there).
        None: no bound.
    settings : Settings, optional
        Access speeds (km/h), detour factor and snap candidates; default
        :func:`coverage.config.load_settings`.

    Returns
    -------
    ndarray
        (len(from_points), len(to_points)) float minutes, ``inf`` when unreachable, beyond
        ``limit_minutes`` or for a point without coordinates. The row minimum equals
        :func:`coverage.engine.travel.nearest_service_times`' minutes to the nearest of
        ``to_points``.

    Raises
    ------
    InputError
        ``od.bad_limit`` when ``limit_minutes`` is negative or not a number.
    """
    settings = settings if settings is not None else load_settings()
    if limit_minutes is None:
        limit = np.inf
    else:
        limit = float(limit_minutes)
        if np.isnan(limit) or limit < 0:
            raise InputError(f"time limit must be a non-negative number of minutes, not {limit_minutes!r}",
                             message_id="od.bad_limit", limit_minutes=str(limit_minutes))
    from_xy, to_xy = as_xy(from_points), as_xy(to_points)
    n_from = len(np.unique(from_xy[np.isfinite(from_xy).all(axis=1)], axis=0))
    n_to = len(np.unique(to_xy[np.isfinite(to_xy).all(axis=1)], axis=0))
    if n_to <= n_from:  # search backwards from the to-points: minutes *to* them
        minutes = _run_side(network, network.matrix_t, to_xy, from_xy, limit, settings).T
    else:
        minutes = _run_side(network, network.matrix, from_xy, to_xy, limit, settings)
    if len(from_xy) and len(to_xy):
        straight = cdist(from_xy, to_xy)
        straight[np.isnan(straight)] = np.inf
        np.minimum(minutes, access_minutes(straight, network, settings), out=minutes)
    minutes[minutes > limit] = np.inf
    return np.ascontiguousarray(minutes)

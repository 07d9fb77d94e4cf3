"""Travel times from communities to the nearest service of each type, and point-to-point routes.

Model (see docs/ARCHITECTURE.md): minutes(community → nearest service of a type) =
access(community → its road node) + road minutes + access(service's road node → service),
or the straight-line access time straight to a service when that is shorter. Access time =
straight-line metres × ``access_detour_factor`` ÷ access speed.

Travel runs from a community *to* a service, so the search runs backwards: one multi-source
Dijkstra per service type over the transposed minutes matrix, starting from one virtual node
per service whose edge into the service's road node weighs that service's access minutes.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from coverage import config
from coverage.config import Settings, load_settings
from coverage.engine.roads import RoutingNetwork, points_xy, snap_candidates
from coverage.errors import InputError

TIMES_COLUMNS = (
    "community_id", "service_type", "minutes", "service_id", "access_minutes",
    "network_minutes", "direct",
)


# --- access -----------------------------------------------------------------------------


def access_speed_kph(network: RoutingNetwork, settings: Settings) -> float:
    """Off-network speed (km/h): driving local roads on a sparse trunk network, else walking.

    Returns
    -------
    float
        ``settings.access_speed_sparse_kph`` when ``network.sparse``, else
        ``settings.access_speed_dense_kph`` (km/h).
    """
    return settings.access_speed_sparse_kph if network.sparse else settings.access_speed_dense_kph


def access_minutes(distance_m: Any, network: RoutingNetwork, settings: Settings) -> np.ndarray:
    """Minutes to cover straight-line ``distance_m`` (metres) off the road network.

    Parameters
    ----------
    distance_m : array_like
        Straight-line distances in metres (EPSG:32642); ``inf`` stays ``inf``.
    network : RoutingNetwork
        Decides the access speed (:func:`access_speed_kph`).
    settings : Settings
        ``access_detour_factor`` and the access speeds (km/h).

    Returns
    -------
    ndarray
        Minutes: metres × ``access_detour_factor`` ÷ access speed.
    """
    metres = np.asarray(distance_m, dtype=float) * settings.access_detour_factor
    return metres / (access_speed_kph(network, settings) * 1000.0 / 60.0)


# --- engine -----------------------------------------------------------------------------


def with_virtual_sources(
    matrix_t: scipy.sparse.csr_array, source_nodes: np.ndarray, source_offsets: np.ndarray
) -> scipy.sparse.csr_array:
    """``matrix_t`` plus one row per source: virtual node ``n + i`` → ``source_nodes[i]``
    weighing ``source_offsets[i]`` minutes. Built by appending CSR rows (no re-sorting).

    Parameters
    ----------
    matrix_t : csr_array
        (n, n) minutes.
    source_nodes : ndarray
        (k,) node indices.
    source_offsets : ndarray
        (k,) minutes.

    Returns
    -------
    csr_array
        (n + k, n + k) minutes.
    """
    m = matrix_t if isinstance(matrix_t, scipy.sparse.csr_array) else scipy.sparse.csr_array(matrix_t)
    n, k = m.shape[0], len(source_nodes)
    indptr = np.concatenate([m.indptr, m.indptr[-1] + np.arange(1, k + 1, dtype=m.indptr.dtype)])
    indices = np.concatenate([m.indices, np.asarray(source_nodes, dtype=m.indices.dtype)])
    data = np.concatenate([m.data, np.asarray(source_offsets, dtype=float)])
    return scipy.sparse.csr_array((data, indices, indptr), shape=(n + k, n + k))


def multi_source_minutes(
    matrix_t: scipy.sparse.csr_array, source_nodes: np.ndarray, source_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from every node to the nearest source, and which source, in one Dijkstra.

    ``matrix_t``: transposed minutes matrix (``matrix_t[j, i]`` = minutes of road i → j), so a
    search *from* the sources over it gives times *to* them. ``source_offsets``: minutes added
    at each source (its own off-road access). Returns ``(dist, nearest)``: ``dist[i]`` minutes
    (``inf`` when no source is reachable) and ``nearest[i]`` the position in ``source_nodes``
    (-1 when unreachable).

    Parameters
    ----------
    matrix_t : csr_array
        (n, n) transposed minutes matrix.
    source_nodes : ndarray
        (k,) node index of each source.
    source_offsets : ndarray
        (k,) finite, non-negative minutes.

    Returns
    -------
    dist : ndarray
        (n,) minutes to the nearest source, ``inf`` when unreachable.
    nearest : ndarray
        (n,) int64 position in ``source_nodes``, -1 when unreachable.

    Raises
    ------
    ValueError
        Lengths differ, an offset is negative or not finite, or a node is out of range.
    """
    source_nodes = np.asarray(source_nodes, dtype=np.int64)
    source_offsets = np.asarray(source_offsets, dtype=float)
    n, k = matrix_t.shape[0], len(source_nodes)
    if k == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    if source_offsets.shape != source_nodes.shape:
        raise ValueError("source_nodes and source_offsets must have the same length")
    if not (np.isfinite(source_offsets).all() and (source_offsets >= 0).all()):
        raise ValueError("source offsets must be finite, non-negative minutes")
    if source_nodes.min() < 0 or source_nodes.max() >= n:
        raise ValueError("source node index out of range")
    graph = with_virtual_sources(matrix_t, source_nodes, source_offsets)
    dist, _pred, sources = dijkstra(
        graph, directed=True, indices=np.arange(n, n + k), min_only=True,
        return_predecessors=True,
    )
    nearest = np.where(sources[:n] >= n, sources[:n] - n, -1).astype(np.int64)
    return dist[:n], nearest


# --- nearest services -------------------------------------------------------------------


def _service_types(services: pd.DataFrame) -> list[str]:
    """Types present, in ``SERVICE_TYPES`` order, then any others alphabetically."""
    present = set(services["type"].dropna().astype(str))
    known = [t for t in config.SERVICE_TYPES if t in present]
    return known + sorted(present - set(known))


def _nearest_of_type(
    network: RoutingNetwork,
    com_node: np.ndarray,
    com_xy: np.ndarray,
    com_access: np.ndarray,
    services: pd.DataFrame,
    settings: Settings,
) -> dict[str, np.ndarray]:
    """Columns for one service type (arrays aligned with the communities).

    ``com_node`` / ``com_access``: (n, k) candidate entry nodes of each community and the
    off-road minutes to each; the best candidate is chosen per community."""
    n_com = len(com_node)
    svc_xy = points_xy(services)
    ok = np.isfinite(svc_xy).all(axis=1)
    svc_xy, svc_ids = svc_xy[ok], services["service_id"].to_numpy(dtype=object)[ok]
    minutes = np.full(n_com, np.inf)
    access = np.full(n_com, np.nan)
    road = np.full(n_com, np.inf)
    chosen = np.full(n_com, -1, dtype=np.int64)
    direct = np.zeros(n_com, dtype=bool)
    if len(svc_xy):
        svc_node, svc_dist = snap_candidates(network, svc_xy, settings.snap_candidates)
        k_svc = svc_node.shape[1]
        svc_access = access_minutes(svc_dist, network, settings)
        # One virtual source per (service, candidate node), service-major: source p is
        # service p // k_svc.
        dist, via = multi_source_minutes(network.matrix_t, svc_node.ravel(), svc_access.ravel())
        via = np.where(via >= 0, via // k_svc, -1)
        on_net = com_node >= 0
        candidate_total = np.where(on_net, com_access + dist[np.maximum(com_node, 0)], np.inf)
        best = np.argmin(candidate_total, axis=1)
        rows = np.arange(n_com)
        net_total = candidate_total[rows, best]
        net_via = np.where(np.isfinite(net_total), via[np.maximum(com_node[rows, best], 0)], -1)
        com_access = com_access[rows, best]
        # For the access/network split only: Dijkstra does not say which entry node of
        # the service was used, so its shortest off-road leg stands for it (the total
        # minutes are exact either way).
        svc_access_best = svc_access.min(axis=1)
        # Straight to the nearest service of the type, when that beats the road.
        has_xy = np.isfinite(com_xy).all(axis=1)
        direct_min = np.full(n_com, np.inf)
        direct_via = np.full(n_com, -1, dtype=np.int64)
        if has_xy.any():
            d, j = cKDTree(svc_xy).query(com_xy[has_xy], k=1)
            direct_min[has_xy] = access_minutes(d, network, settings)
            direct_via[has_xy] = j
        direct = direct_min < net_total
        minutes = np.where(direct, direct_min, net_total)
        chosen = np.where(direct, direct_via, net_via)
        reached = np.isfinite(minutes)
        by_road = reached & ~direct
        svc_leg = np.where(by_road, svc_access_best[np.maximum(net_via, 0)], 0.0)
        access = np.where(direct, direct_min, np.where(by_road, com_access + svc_leg, np.nan))
        road = np.where(direct, 0.0, np.where(by_road, np.maximum(net_total - access, 0.0), np.inf))
        chosen = np.where(reached, chosen, -1)
    service_id = np.full(n_com, None, dtype=object)
    service_id[chosen >= 0] = svc_ids[chosen[chosen >= 0]]
    return {"minutes": minutes, "service_id": service_id, "access_minutes": access,
            "network_minutes": road, "direct": direct}


def nearest_service_times(
    network: RoutingNetwork,
    communities: pd.DataFrame,
    services: pd.DataFrame,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Minutes from every community to the nearest service of each type present.

    ``communities``: GeoDataFrame with ``community_id`` and point geometry; ``services``:
    GeoDataFrame with ``service_id``, ``type`` and point geometry (any CRS; EPSG:4326 if unset).
    One row per (community, service type), columns:

    - ``minutes``: total minutes (``inf`` when no service of the type can be reached);
    - ``service_id``: the nearest service (None when unreachable);
    - ``access_minutes``: minutes off the road network (community leg + service leg, or the
      whole trip when going straight is faster);
    - ``network_minutes``: minutes on the road network (0 when ``direct``; ``inf`` unreachable);
    - ``direct``: True when the straight-line trip beat the road.

    ``minutes = access_minutes + network_minutes`` for every reached row.

    Parameters
    ----------
    network : RoutingNetwork
        From :func:`coverage.engine.roads.load_network` (minutes matrix, EPSG:32642 nodes).
    communities : GeoDataFrame
        ``community_id`` and point geometry (projected to EPSG:32642 for distances).
    services : GeoDataFrame
        ``service_id``, ``type`` and point geometry.
    settings : Settings, optional
        Access speeds (km/h), detour factor, snap candidates; default
        :func:`coverage.config.load_settings`.

    Returns
    -------
    DataFrame
        Columns :data:`TIMES_COLUMNS`: ``community_id``, ``service_type``, ``minutes``,
        ``service_id``, ``access_minutes``, ``network_minutes``, ``direct``; types in
        :data:`coverage.config.SERVICE_TYPES` order. Empty (those columns) without services.

    Raises
    ------
    KeyError
        ``community_id``, ``service_id`` or ``type`` is missing.
    """
    settings = settings if settings is not None else load_settings()
    for frame, column in ((communities, "community_id"), (services, "service_id"),
                          (services, "type")):
        if column not in frame.columns:
            raise KeyError(f"missing column {column!r}")
    com_xy = points_xy(communities)
    com_node, com_dist = snap_candidates(network, com_xy, settings.snap_candidates)
    com_access = access_minutes(com_dist, network, settings)
    community_ids = communities["community_id"].to_numpy()
    frames = []
    for stype in _service_types(services):
        cols = _nearest_of_type(
            network, com_node, com_xy, com_access,
            services[services["type"].astype(str) == stype], settings,
        )
        frames.append(pd.DataFrame({"community_id": community_ids, "service_type": stype, **cols}))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TIMES_COLUMNS})
    return pd.concat(frames, ignore_index=True)[list(TIMES_COLUMNS)]


# --- point-to-point routes --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A fastest road route between two named network nodes.

    Attributes
    ----------
    minutes : float
        Travel time on the road network, minutes.
    km : float
        Length along the same edges, km.
    towns : list of str
        Named nodes on the way, origin and destination included.
    nodes : ndarray
        Node indices (rows of the network matrices) along the path.
    """

    minutes: float
    km: float
    towns: list[str]  # named nodes on the way, origin and destination included
    nodes: np.ndarray  # node indices (rows of the network matrices) along the path


_APOSTROPHES = re.compile(r"[’'`ʼʻ‘´]")
_SEPARATORS = re.compile(r"[\s\-‐–—_/]+")
_BRACKETS = re.compile(r"\([^)]*\)")


def normalise_name(name: str) -> str:
    """Case-, accent- and apostrophe-insensitive form: "Kŭlob" → "kulob", "Mŭ’minobod" →
    "muminobod" (NFKD, combining marks and apostrophes removed, dashes as spaces).

    Brackets are kept; :func:`find_node` also tries names without them.
    """
    decomposed = unicodedata.normalize("NFKD", str(name))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _APOSTROPHES.sub("", stripped).casefold()
    return _SEPARATORS.sub(" ", stripped).strip()


def _without_brackets(name: str) -> str:
    return _SEPARATORS.sub(" ", _BRACKETS.sub(" ", name)).strip()


def find_node(network: RoutingNetwork, place: str) -> int:
    """Index of the node named ``place`` (accent/case-insensitive; "(…)" parts optional).

    Parameters
    ----------
    network : RoutingNetwork
        Its ``node_names`` are searched.
    place : str
        A place name as typed by a user.

    Returns
    -------
    int
        Row of the node in the network matrices (the first match).

    Raises
    ------
    InputError
        ``route.unknown_place``, naming up to five close matches (``suggestions``), when
        no node has that name (places cut off in the network's season are not on it).
    """
    wanted = normalise_name(place)
    names = [normalise_name(n) for n in network.node_names]
    for candidates in (names, [_without_brackets(n) for n in names]):
        hits = [i for i, n in enumerate(candidates) if n and n == wanted]
        if hits:
            return hits[0]
    named = sorted({str(n) for n in network.node_names if n})
    by_norm = {normalise_name(n): n for n in named}
    close = difflib.get_close_matches(wanted, list(by_norm), n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(by_norm[c]) for c in close)}?" if close else ""
    raise InputError(
        f"no place named {place!r} on the {network.season or 'road'} network "
        f"({len(named)} named places; places cut off in this season are not on it){hint}",
        message_id="route.unknown_place", place=str(place), season=network.season or "",
        suggestions=[by_norm[c] for c in close],
    )


def route(network: RoutingNetwork, origin: str, destination: str) -> Route:
    """Fastest route between two named places on ``network`` (its season is built in).

    Minutes from the ``matrix``, km from ``length_m`` along the same edges.

    Parameters
    ----------
    network : RoutingNetwork
        The network of one season.
    origin, destination : str
        Place names (see :func:`find_node`).

    Returns
    -------
    Route

    Raises
    ------
    InputError
        ``route.unknown_place`` for a name not on the network, ``route.no_road`` when
        ``destination`` cannot be reached from ``origin``.
    """
    start, end = find_node(network, origin), find_node(network, destination)
    dist, pred = dijkstra(network.matrix, directed=True, indices=start, return_predecessors=True)
    if not np.isfinite(dist[end]):
        raise InputError(f"no road from {origin!r} to {destination!r} on this network", message_id="route.no_road",
                         origin=origin, destination=destination)
    path = [end]
    while path[-1] != start:
        path.append(int(pred[path[-1]]))
    nodes = np.array(path[::-1], dtype=np.int64)
    metres = np.asarray(network.length_m[nodes[:-1], nodes[1:]]).sum() if len(nodes) > 1 else 0.0
    towns = [str(network.node_names[i]) for i in nodes if network.node_names[i]]
    return Route(minutes=float(dist[end]), km=float(metres) / 1000.0, towns=towns, nodes=nodes)

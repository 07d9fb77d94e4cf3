"""Highway ways (flat arrays from :mod:`coverage.engine.osm_read`) → contracted road edges.

The fast builder, all numpy/scipy, no graph object:

1. the speed and access rules of :mod:`coverage.engine.road_rules` run once per distinct tag
   combination (a country has a few thousand) and are spread to the ways by index;
2. segments = consecutive node references of a drivable way; a reference to a node missing
   from the file (clipped extract) is dropped and the way is split there (counted);
3. segment length in metres: haversine on a sphere of radius 6,371,009 m (osmnx's formula);
   a way's ``length`` tag is split over its segments in proportion to those lengths (not on
   a clipped way: its tag measures the whole way);
4. minutes = metres / speed; closed ways (the season) go; one-way rules as osmnx's;
5. degree-2 contraction: a node stays when it is named, a dead end, a junction, a change of
   way (so every contracted edge belongs to one OSM way: its stable id and name), or where
   one-way meets two-way; chains between kept nodes become one edge (minutes and metres
   summed);
6. the largest strongly connected component (share of nodes dropped reported).

Shortest-path minutes between kept nodes equal those of the osmnx reference path
(:func:`coverage.engine.roads.load_graph`); ``tests/test_network_paths.py`` checks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from coverage.config import Settings
from coverage.engine.osm_read import WayTable
from coverage.engine.road_rules import edge_speed_kph, is_drivable
from coverage.progress import Progress, reporter

EARTH_RADIUS_M = 6_371_009.0  # osmnx.distance.EARTH_RADIUS_M (mean radius, metres)


@dataclass(frozen=True)
class NetworkEdges:
    """Contracted, strongly connected road network as arrays.

    Nodes: ``node_ids`` (OSM ids), ``node_lonlat`` (n, 2) degrees EPSG:4326, ``node_names``.
    Edges (directed): ``u``/``v`` node positions, ``minutes``, ``metres``, ``way_id`` (OSM
    way id) and ``name_code`` (index into ``names``; 0 = unnamed).
    """

    node_ids: np.ndarray
    node_lonlat: np.ndarray
    node_names: np.ndarray
    u: np.ndarray
    v: np.ndarray
    minutes: np.ndarray
    metres: np.ndarray
    way_id: np.ndarray
    name_code: np.ndarray
    names: np.ndarray
    dropped_share: float  # share of nodes outside the largest strongly connected component
    missing_nodes: int  # distinct nodes referenced by drivable ways but absent from the file


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle metres between lon/lat degree arrays (EPSG:4326), osmnx's formula."""
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((np.deg2rad(lon2) - np.deg2rad(lon1)) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(1, h))) * EARTH_RADIUS_M


def combo_rules(table: WayTable, settings: Settings, season: str) -> tuple[np.ndarray, np.ndarray]:
    """Per tag combination: drivable (bool) and speed in km/h (NaN when closed in ``season``)."""
    speeds = settings.highway_speed_kph
    drivable = np.array([is_drivable(tags, speeds) for tags in table.combos], dtype=bool)
    kph = np.array([edge_speed_kph(tags, settings, season) if ok else None
                    for tags, ok in zip(table.combos, drivable, strict=True)], dtype=float)
    kph[~(kph > 0)] = np.nan  # None (closed) and non-positive speeds
    return drivable.reshape(-1), kph.reshape(-1)


def build_edges(table: WayTable, settings: Settings, season: str, *,
                progress: Progress | None = None) -> NetworkEdges:
    """The contracted, strongly connected network of ``table`` for ``season`` (see module)."""
    drivable, kph = combo_rules(table, settings, season)
    n_ways = len(table.way_id)
    way_of_ref = np.repeat(np.arange(n_ways, dtype=np.int64), np.diff(table.way_start))
    keep_ref = drivable[table.way_combo][way_of_ref] if n_ways else np.zeros(0, dtype=bool)
    # osmnx drops consecutive repeats of a node within a way
    repeat = np.zeros(len(keep_ref), dtype=bool)
    repeat[1:] = (table.ref[1:] == table.ref[:-1]) & (way_of_ref[1:] == way_of_ref[:-1])
    keep_ref &= ~repeat
    ref, way, lon, lat = table.ref[keep_ref], way_of_ref[keep_ref], table.lon[keep_ref], table.lat[keep_ref]
    present = ~np.isnan(lon)
    missing_nodes = len(_unique(ref[~present]))
    # segments: consecutive references of one way, both present (a missing node splits the way)
    seg = np.flatnonzero((way[1:] == way[:-1]) & present[1:] & present[:-1])
    a, b, seg_way = seg, seg + 1, way[seg]
    metres = haversine_m(lon[a], lat[a], lon[b], lat[b])
    metres = _apply_length_tags(metres, seg_way, table, clipped=_unique(way[~present]))
    # nodes of the drivable network (before seasonal closures), by OSM id
    node_ids, inverse = _unique_inverse(np.concatenate([ref[a], ref[b]]))
    su, sv = inverse[: len(a)], inverse[len(a):]
    first = np.full(len(node_ids), -1, dtype=np.int64)
    first[inverse] = np.concatenate([a, b])
    node_lonlat = np.column_stack([lon[first], lat[first]]) if len(first) else np.empty((0, 2))
    node_names = _node_names(node_ids, table)
    reporter(progress)(f"Computing minutes on {len(a):,} road segments ({season})…")
    # season: closed segments go; minutes from the way's speed
    speed = kph[table.way_combo[seg_way]]
    open_ = ~np.isnan(speed)
    su, sv, seg_way, metres, speed = su[open_], sv[open_], seg_way[open_], metres[open_], speed[open_]
    minutes = metres / 1000.0 / speed * 60.0
    direction = table.way_direction[seg_way]
    fwd, back = direction >= 0, direction <= 0
    u = np.concatenate([su[fwd], sv[back]])
    v = np.concatenate([sv[fwd], su[back]])
    edge_way = np.concatenate([seg_way[fwd], seg_way[back]])
    e_min = np.concatenate([minutes[fwd], minutes[back]])
    e_m = np.concatenate([metres[fwd], metres[back]])
    # geometry-only nodes cut off by a closure go; named ones stay (and count as dropped)
    alive = node_names != ""
    alive[u] = True
    alive[v] = True
    reporter(progress)(f"Contracting {int(alive.sum()):,} road nodes…")
    keep_node, cu, cv, c_min, c_m, c_way = contract(u, v, e_min, e_m, edge_way, alive, node_names != "")
    # renumber kept nodes, then the largest strongly connected component
    kept = np.flatnonzero(keep_node)
    position = np.full(len(node_ids), -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    cu, cv = position[cu], position[cv]
    n = len(kept)
    if n:
        graph = scipy.sparse.csr_array((np.ones(len(cu)), (cu, cv)), shape=(n, n))
        _count, labels = connected_components(graph, directed=True, connection="strong")
        largest = np.argmax(np.bincount(labels))
        in_scc = labels == largest
    else:
        in_scc = np.zeros(0, dtype=bool)
    scc = np.flatnonzero(in_scc)
    final = np.full(n, -1, dtype=np.int64)
    final[scc] = np.arange(len(scc))
    keep_edge = in_scc[cu] & in_scc[cv] if len(cu) else np.zeros(0, dtype=bool)
    nodes = kept[scc]
    return NetworkEdges(
        node_ids=node_ids[nodes],
        node_lonlat=node_lonlat[nodes].reshape(-1, 2),
        node_names=node_names[nodes],
        u=final[cu[keep_edge]],
        v=final[cv[keep_edge]],
        minutes=c_min[keep_edge],
        metres=c_m[keep_edge],
        way_id=table.way_id[c_way[keep_edge]],
        name_code=table.way_name[c_way[keep_edge]],
        names=table.names,
        dropped_share=(n - len(scc)) / n if n else 0.0,
        missing_nodes=missing_nodes,
    )


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: numpy's hash-based unique is slower on ints)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, per input value, its position among them."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if len(values) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _apply_length_tags(metres: np.ndarray, seg_way: np.ndarray, table: WayTable, clipped: np.ndarray) -> np.ndarray:
    """Segment metres with each tagged way's ``length`` split in proportion to them."""
    tag = table.way_length_m.copy()
    tag[clipped] = np.nan  # a clipped way's tag measures more than what is in the file
    tagged = ~np.isnan(tag[seg_way])
    if not tagged.any():
        return metres
    n_ways = len(table.way_id)
    straight = np.bincount(seg_way, weights=metres, minlength=n_ways)
    pieces = np.bincount(seg_way, minlength=n_ways)
    w = seg_way[tagged]
    out = metres.copy()
    scaled = straight[w] > 0
    out_t = np.where(scaled, metres[tagged] * tag[w] / np.where(scaled, straight[w], 1.0), tag[w] / pieces[w])
    out[tagged] = out_t
    return out


def _node_names(node_ids: np.ndarray, table: WayTable) -> np.ndarray:
    """The ``name`` tag of each node (``""`` when none), by OSM id."""
    names = np.full(len(node_ids), "", dtype=table.node_name_values.dtype if len(table.node_name_values) else str)
    if len(table.node_name_ids) and len(node_ids):
        pos = np.searchsorted(node_ids, table.node_name_ids)
        pos_ok = pos < len(node_ids)
        hit = np.zeros(len(pos), dtype=bool)
        hit[pos_ok] = node_ids[pos[pos_ok]] == table.node_name_ids[pos_ok]
        names[pos[hit]] = table.node_name_values[hit]
    return names


def contract(
    u: np.ndarray, v: np.ndarray, minutes: np.ndarray, metres: np.ndarray, way: np.ndarray,
    alive: np.ndarray, named: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Degree-2 contraction of a directed multigraph given as edge arrays.

    A node is passed through (removed) when it is alive, not named, has no self-loop, all its
    edges belong to one way, it has exactly two neighbours and either one edge in and one out
    (one-way road) or two in and two out (two-way road). Every chain of edges through such
    nodes becomes one edge between kept nodes with summed minutes and metres. A ring of
    pass-through nodes keeps one of its nodes.

    Returns ``(keep_node, u, v, minutes, metres, way)`` of the contracted edges.
    """
    n = len(alive)
    endpoint = _endpoints(u, v, way, n) | named
    endpoint &= alive
    while True:
        result = _chains(u, v, minutes, metres, way, endpoint)
        if isinstance(result, np.ndarray):  # rings without a kept node: keep one, redo
            endpoint[result] = True
            continue
        return (endpoint, *result)


def _endpoints(u: np.ndarray, v: np.ndarray, way: np.ndarray, n: int) -> np.ndarray:
    """Nodes that cannot be passed through (see :func:`contract`), by the edge arrays."""
    out_deg = np.bincount(u, minlength=n)
    in_deg = np.bincount(v, minlength=n)
    loop = np.zeros(n, dtype=bool)
    loop[u[u == v]] = True
    # distinct neighbours (undirected) and distinct directed partners
    u64, v64 = u.astype(np.int64), v.astype(np.int64)
    pairs = _unique(np.concatenate([u64 * n + v64, v64 * n + u64]))
    neighbours = np.bincount(pairs // n, minlength=n)
    uv = _unique(u64 * n + v64)
    distinct_out = np.bincount(uv // n, minlength=n)
    distinct_in = np.bincount(uv % n, minlength=n)
    # one way at the node: smallest and largest way index over its edges agree
    lowest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    highest = np.full(n, -1, dtype=np.int64)
    for ends in (u, v):
        np.minimum.at(lowest, ends, way)
        np.maximum.at(highest, ends, way)
    one_way_id = lowest == highest
    pass_through = (
        ~loop & one_way_id & (neighbours == 2) & (distinct_out == out_deg) & (distinct_in == in_deg)
        & (((in_deg == 1) & (out_deg == 1)) | ((in_deg == 2) & (out_deg == 2)))
    )
    return ~pass_through


def _chains(u, v, minutes, metres, way, endpoint):
    """Contract chains; or the nodes to keep when a ring has no endpoint (then call again)."""
    n_edges = len(u)
    if n_edges == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0), empty
    order = np.argsort(u, kind="stable")
    u, v, minutes, metres, way = u[order], v[order], minutes[order], metres[order], way[order]
    n = len(endpoint)
    out_start = np.searchsorted(u, np.arange(n))
    out_deg = np.bincount(u, minlength=n)
    # the edge that continues each edge through a pass-through node
    through = ~endpoint[v]
    e = np.flatnonzero(through)
    first = out_start[v[e]]
    second = np.where(out_deg[v[e]] > 1, first + 1, first)
    nxt = np.where(v[first] != u[e], first, second)
    links = scipy.sparse.csr_array((np.ones(len(e)), (e, nxt)), shape=(n_edges, n_edges))
    _count, chain = connected_components(links, directed=False)
    head = endpoint[u]  # chain's first edge starts at a kept node
    n_chains = chain.max() + 1
    has_head = np.zeros(n_chains, dtype=bool)
    has_head[chain[head]] = True
    if not has_head.all():
        ring_edges = np.flatnonzero(~has_head[chain])
        first_of_ring = np.full(n_chains, n_edges, dtype=np.int64)
        np.minimum.at(first_of_ring, chain[ring_edges], ring_edges)
        return _unique(u[first_of_ring[first_of_ring < n_edges]])
    tail = ~through  # chain's last edge ends at a kept node
    c_u = np.empty(n_chains, dtype=np.int64)
    c_v = np.empty(n_chains, dtype=np.int64)
    c_way = np.empty(n_chains, dtype=np.int64)
    c_u[chain[head]] = u[head]
    c_way[chain[head]] = way[head]
    c_v[chain[tail]] = v[tail]
    c_min = np.bincount(chain, weights=minutes, minlength=n_chains)
    c_m = np.bincount(chain, weights=metres, minlength=n_chains)
    return c_u, c_v, c_min, c_m, c_way

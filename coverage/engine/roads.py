"""Road network: OSM file → routing matrix (fast builder, cached) and the osmnx reference path.

:func:`load_network` (what the engine uses) builds a :class:`RoutingNetwork` (CSR matrices of
minutes and metres, node coordinates in EPSG:4326 and EPSG:32642, node names, per edge the
OSM way id and name) with no networkx graph: :mod:`coverage.engine.osm_read` reads the
highway ways with pyosmium into flat arrays and :mod:`coverage.engine.osm_network` turns
them into contracted edges (rules in :mod:`coverage.engine.road_rules`); the result is cached
on disk per (file sha256, season, speed settings) and in memory.

:func:`load_graph` is the osmnx reference path, kept for display and for the tests that
prove both give the same shortest-path minutes:

1. ``osmnx.graph_from_xml`` (unsimplified, every component kept) with the tags we need
   (a ``.pbf``/``.bz2``/``.gz`` file is first converted to OSM XML with pyosmium);
2. keep drivable highway classes (the classes listed in ``Settings.highway_speed_kph``);
3. edge ``length`` (metres): a way's ``length`` tag split over its pieces in proportion to
   their great-circle lengths, else osmnx's great-circle length;
4. edge ``travel_min`` (minutes) from class speed × surface factor, tunnel speed, ``maxspeed``
   cap and the season (winter closures and avalanche slow-down);
5. ``osmnx.simplify_graph`` summing ``length`` and ``travel_min`` (named nodes stay nodes);
6. the largest strongly connected component (share of nodes dropped in ``G.graph``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import xml.etree.ElementTree as ET
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse
from pyproj import Transformer
from scipy.spatial import cKDTree

from coverage import config
from coverage.config import Settings, load_settings
from coverage.digests import file_sha256, text_sha256
from coverage.engine.osm_network import build_edges
from coverage.engine.osm_read import osm_format, read_ways
from coverage.engine.road_rules import (  # noqa: F401  (re-exported: the rules' public home was here)
    NO_ACCESS,
    TUNNEL_VALUES,
    closed_in_winter,
    edge_speed_kph,
    highway_class,
    is_drivable,
    parse_length_m,
    parse_maxspeed_kph,
)
from coverage.errors import InputError, NetworkFormatError
from coverage.progress import Progress, reporter

# OSM way tags copied onto graph edges (osmnx drops every tag not listed).
USEFUL_TAGS_WAY: tuple[str, ...] = (
    "highway", "surface", "smoothness", "terrain", "tunnel", "ref", "name", "maxspeed", "oneway", "junction", "access",
    "motor_vehicle", "motorcar", "area", "service", "bridge", "hazard", "seasonal:winter",
    "winter_road", "access:conditional", "motor_vehicle:conditional",
)
# OSM node tags copied onto graph nodes; a node with `name` is never simplified away.
USEFUL_TAGS_NODE: tuple[str, ...] = ("name", "place", "geonameid", "highway", "ref", "tunnel")
# Bump when the build below changes, so disk caches built by older code are not reused.
# 2: pyosmium/numpy builder, per-edge way ids and names, missing-node count; 3: terrain, smoothness
CACHE_FORMAT = 3
_MEMORY_CACHE_SIZE = 8

_TO_METRIC = Transformer.from_crs(config.CRS_STORE, config.CRS_METRIC, always_xy=True)


# --- reading the OSM file -------------------------------------------------------------


@contextlib.contextmanager
def _osmnx_tags() -> Iterator[Any]:
    """Temporarily widen osmnx's tag lists; restore them so other callers see defaults."""
    import osmnx as ox

    old_way, old_node = ox.settings.useful_tags_way, ox.settings.useful_tags_node
    ox.settings.useful_tags_way = sorted(set(old_way) | set(USEFUL_TAGS_WAY))
    ox.settings.useful_tags_node = sorted(set(old_node) | set(USEFUL_TAGS_NODE))
    try:
        yield ox
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node = old_way, old_node


def read_way_lengths(xml_path: Path) -> dict[int, float]:
    """Way id → ``length`` tag in metres, for the ways that have one.

    osmnx overwrites every edge's ``length`` with the great-circle length, so the way tag is
    read in a separate streaming pass (elements are cleared as we go to keep memory flat).
    """
    lengths: dict[int, float] = {}
    for _event, elem in ET.iterparse(xml_path, events=("end",)):
        if elem.tag == "way":
            for tag in elem.iter("tag"):
                if tag.get("k") == "length":
                    metres = parse_length_m(tag.get("v"))
                    if metres is not None and metres > 0:
                        lengths[int(elem.get("id"))] = metres
                    break
            elem.clear()
        elif elem.tag in ("node", "relation"):
            elem.clear()
    return lengths


def _to_xml(source: Path, out_dir: Path, progress: Progress, *, split_missing: bool) -> Path:
    """The highway ways of any OSM file libosmium reads (and their nodes) as plain OSM XML.

    ``split_missing``: a way that references nodes missing from the file (a clipped extract)
    is written as its pieces between the missing nodes (new negative way ids, ``length`` tag
    dropped: it measured the whole way), as the fast builder reads it; osmnx itself refuses
    such a file ("Some edges missing nodes").
    """
    import osmium
    import osmium.filter

    fmt = osm_format(source)
    reporter(progress)(f"Converting {source.name} to OSM XML (roads only)…")
    out = out_dir / "roads.osm"
    try:
        if not split_missing:
            # libosmium collects the ways' nodes (with their tags: town names live on
            # nodes); Python only sees the highway ways.
            with osmium.BackReferenceWriter(str(out), ref_src=osmium.io.File(str(source), fmt),
                                            overwrite=True, remove_tags=False) as writer:
                ways = osmium.FileProcessor(osmium.io.File(str(source), fmt), osmium.osm.WAY)
                for way in ways.with_filter(osmium.filter.KeyFilter("highway")):
                    writer.add(way)
            return out
        piece_id = -1
        with osmium.SimpleWriter(str(out), overwrite=True) as writer:
            objects = (osmium.FileProcessor(osmium.io.File(str(source), fmt), osmium.osm.NODE | osmium.osm.WAY)
                       .with_locations("flex_mem"))
            for obj in objects:
                if obj.is_node():
                    writer.add_node(obj)
                elif "highway" in obj.tags:
                    refs = [(n.ref, n.location.valid()) for n in obj.nodes]
                    if all(ok for _ref, ok in refs):
                        writer.add_way(obj)
                        continue
                    tags = {t.k: t.v for t in obj.tags if t.k != "length"}
                    piece: list[int] = []
                    for ref, ok in [*refs, (0, False)]:
                        if ok:
                            piece.append(ref)
                        elif piece:
                            writer.add_way(osmium.osm.mutable.Way(id=piece_id, nodes=piece, tags=tags))
                            piece_id -= 1
                            piece = []
    except RuntimeError as exc:  # libosmium's errors for a damaged or truncated file
        raise NetworkFormatError(f"{source}: not a readable OpenStreetMap file ({exc})",
                                 message_id="network.unreadable", path=str(source)) from exc
    return out


def _read_osmnx(path: Path, ox: Any, progress: Progress) -> tuple[nx.MultiDiGraph, dict[int, float]]:
    """osmnx's unsimplified graph of ``path`` (any format) and its ways' ``length`` tags."""
    plain = osm_format(path) == "osm"
    with tempfile.TemporaryDirectory(prefix="coverage-osm-") as tmp:
        xml = path if plain else _to_xml(path, Path(tmp), progress, split_missing=False)
        reporter(progress)(f"Reading {path.name} with osmnx…")
        try:
            try:
                G = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
            except ValueError as exc:
                if "missing nodes" not in str(exc):
                    raise
                xml = _to_xml(path, Path(tmp), progress, split_missing=True)
                G = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
            return G, read_way_lengths(xml)
        except ET.ParseError as exc:
            raise NetworkFormatError(f"{path}: not a readable OpenStreetMap file ({exc})",
                                     message_id="network.unreadable", path=str(path)) from exc


def _keep_drivable(G: nx.MultiDiGraph, settings: Settings) -> None:
    """Drop non-road edges (footways, rivers, buildings in a raw extract) and orphan nodes."""
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
            if not is_drivable(d, settings.highway_speed_kph)]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])


def _apply_length_tags(G: nx.MultiDiGraph, way_lengths: Mapping[int, float]) -> None:
    """Replace great-circle edge lengths by the way's ``length`` tag, split by piece length.

    The split uses the forward pieces only (osmnx adds a ``reversed`` copy of two-way ways),
    so both directions of a way get the same total.
    """
    if not way_lengths:
        return
    straight: dict[int, float] = defaultdict(float)
    pieces: dict[int, int] = defaultdict(int)
    tagged = []
    for _u, _v, d in G.edges(data=True):
        way = d.get("osmid")
        if isinstance(way, (int, np.integer)) and way in way_lengths:
            tagged.append(d)
            if not d.get("reversed", False):
                straight[way] += float(d["length"])
                pieces[way] += 1
    for d in tagged:
        way = d["osmid"]
        if straight[way] > 0:
            d["length"] = float(d["length"]) * way_lengths[way] / straight[way]
        elif pieces[way]:  # all nodes at one point: share the tag equally
            d["length"] = way_lengths[way] / pieces[way]


def _add_travel_minutes(G: nx.MultiDiGraph, settings: Settings, season: str) -> None:
    """Set ``speed_kph`` and ``travel_min`` (minutes) on every edge; remove closed edges."""
    closed = []
    for u, v, k, d in G.edges(keys=True, data=True):
        speed = edge_speed_kph(d, settings, season)
        if speed is None or speed <= 0:
            closed.append((u, v, k))
            continue
        d["speed_kph"] = speed
        d["travel_min"] = float(d["length"]) / 1000.0 / speed * 60.0
    G.remove_edges_from(closed)
    # Geometry-only nodes orphaned by a closure go; named places stay so that the
    # dropped share reports a place cut off for the season.
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0 and "name" not in G.nodes[n]])


def _require_network_file(path: Path) -> None:
    """Refuse a missing road file (FileNotFoundError) or one that is not a regular file
    (a folder, device or pipe: :class:`NetworkFormatError`) before anything opens it."""
    if not path.exists():
        raise FileNotFoundError(f"road network file not found: {path}")
    if not path.is_file():
        raise NetworkFormatError(f"{path}: not a regular file (a folder, device or pipe)",
                                 message_id="network.not_a_file", path=str(path))


def load_graph(
    path: Path | str | None = None,
    season: str = "summer",
    settings: Settings | None = None,
    *,
    progress: Progress | None = None,
) -> nx.MultiDiGraph:
    """Drivable road graph of an OSM file, with edge ``length`` (metres) and ``travel_min``.

    The osmnx reference path (display, tests, the proof that :func:`load_network`'s fast
    builder gives the same minutes); :func:`load_network` does not use it.
    ``path``: ``.osm`` (``.xml``), ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf``; ways' references
    to nodes missing from the file split the way there (as the fast builder does).
    ``season``: ``"summer"`` or ``"winter"`` (winter removes ``seasonal:winter=closed`` edges
    and slows ``hazard=avalanche`` edges). ``settings``: speeds (and the default ``path``,
    ``settings.network_path``); default :func:`load_settings`. Returns a simplified osmnx
    MultiDiGraph (EPSG:4326 node ``x``/``y``) reduced to its largest strongly connected
    component; ``G.graph`` holds ``dropped_share``, ``season``, ``source``.
    """
    settings = settings if settings is not None else load_settings()
    path = Path(path) if path is not None else settings.network_path
    if season not in config.SEASONS:
        raise InputError(f"season must be one of {config.SEASONS}, not {season!r}", message_id="input.unknown_season",
                         season=str(season), known=config.SEASONS)
    _require_network_file(path)
    osm_format(path)  # an unknown file name ending is refused before reading
    with _osmnx_tags() as ox:
        G, way_lengths = _read_osmnx(path, ox, progress)
    _keep_drivable(G, settings)
    if G.number_of_edges() == 0:
        raise NetworkFormatError(f"{path}: no drivable highway ways found", message_id="network.no_roads",
                                 path=str(path))
    _apply_length_tags(G, way_lengths)
    _add_travel_minutes(G, settings, season)
    reporter(progress)("Simplifying the road graph…")
    G = ox.simplify_graph(
        G, node_attrs_include=["name"], edge_attr_aggs={"length": sum, "travel_min": sum}
    )
    before = G.number_of_nodes()
    G = ox.truncate.largest_component(G, strongly=True)
    _set_effective_speed(G)
    G.graph.update(
        dropped_share=(before - G.number_of_nodes()) / before if before else 0.0,
        season=season,
        source=str(path),
    )
    return G


def _set_effective_speed(G: nx.MultiDiGraph) -> None:
    """After simplification ``speed_kph`` is a list; store the edge's average speed instead."""
    for _u, _v, d in G.edges(data=True):
        minutes = d["travel_min"]
        d["speed_kph"] = d["length"] / 1000.0 / (minutes / 60.0) if minutes > 0 else math.inf


# --- routing network ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RoutingNetwork:
    """Compact, read-only routing form of a road graph.

    ``matrix[i, j]``: minutes from node i to node j (fastest of parallel edges);
    ``length_m[i, j]``: metres of that same edge. Rows/columns follow ``node_ids``.
    """

    matrix: scipy.sparse.csr_array  # minutes, [from, to]
    node_ids: np.ndarray  # osmid per row
    node_xy: np.ndarray  # (n, 2) metres, EPSG:32642
    node_lonlat: np.ndarray  # (n, 2) degrees, EPSG:4326
    node_names: np.ndarray  # place name or "" per node
    sparse: bool  # trunk network → access by local-road driving
    dropped_share: float  # share of nodes dropped outside the largest SCC
    season: str
    source: str
    length_m: scipy.sparse.csr_array  # metres, same sparsity pattern as `matrix`
    # per edge, aligned with `matrix.data`: the OSM way id (the default network's segment id)
    # and its name as an index into `names` (0 = unnamed)
    edge_way_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    edge_name_code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    names: np.ndarray = field(default_factory=lambda: np.array([""]))
    missing_nodes: int = 0  # nodes referenced by the file's roads but not in it (clipped extract)

    @property
    def n_nodes(self) -> int:
        return int(self.matrix.shape[0])

    def edge_names(self) -> np.ndarray:
        """Street/road name per edge, aligned with ``matrix.data`` (``""`` when unnamed)."""
        return self.names[self.edge_name_code]

    @cached_property
    def matrix_t(self) -> scipy.sparse.csr_array:
        """Transposed minutes matrix (CSR): rows are 'to' nodes, for many-to-one searches."""
        return _read_only_csr(self.matrix.T.tocsr())

    @cached_property
    def kdtree(self) -> cKDTree:
        """KD-tree over ``node_xy`` (EPSG:32642 metres)."""
        return cKDTree(self.node_xy)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _read_only_csr(matrix: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
    for part in (matrix.data, matrix.indices, matrix.indptr):
        part.flags.writeable = False
    return matrix


def project_lonlat(lonlat: np.ndarray) -> np.ndarray:
    """(n, 2) lon/lat degrees (EPSG:4326) → (n, 2) metres (EPSG:32642), vectorised."""
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    x, y = _TO_METRIC.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def build_routing_network(G: nx.MultiDiGraph, settings: Settings | None = None) -> RoutingNetwork:
    """CSR matrices of edge minutes and metres plus node arrays for a ``load_graph`` graph.

    Parallel edges keep the fastest one; self-loops are dropped (never on a shortest path).
    ``sparse`` = node count ≤ ``settings.sparse_network_max_nodes``. A simplified edge that
    joins several ways carries the first way's id and name.
    """
    settings = settings if settings is not None else load_settings()
    node_ids = np.asarray(list(G.nodes))
    lonlat = np.array([(d["x"], d["y"]) for _n, d in G.nodes(data=True)], dtype=float)
    names = np.array([str(d.get("name") or "") for _n, d in G.nodes(data=True)], dtype=str)
    edges = list(G.edges(data=True))
    position = pd.Index(node_ids)
    way_names = [str(_as_list(e[2].get("name"))[0] or "") for e in edges]
    unique_names, name_code = np.unique(np.array(["", *way_names], dtype=str), return_inverse=True)
    return routing_network(
        node_ids=node_ids, node_lonlat=lonlat, node_names=names,
        u=position.get_indexer([e[0] for e in edges]), v=position.get_indexer([e[1] for e in edges]),
        minutes=np.array([e[2]["travel_min"] for e in edges], dtype=float),
        metres=np.array([e[2]["length"] for e in edges], dtype=float),
        way_id=np.array([int(_as_list(e[2].get("osmid"))[0]) for e in edges], dtype=np.int64),
        name_code=name_code[1:], names=unique_names, settings=settings,
        dropped_share=float(G.graph.get("dropped_share", 0.0)), season=str(G.graph.get("season", "")),
        source=str(G.graph.get("source", "")), missing_nodes=int(G.graph.get("missing_nodes", 0)),
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def routing_network(
    *, node_ids: np.ndarray, node_lonlat: np.ndarray, node_names: np.ndarray, u: np.ndarray, v: np.ndarray,
    minutes: np.ndarray, metres: np.ndarray, way_id: np.ndarray, name_code: np.ndarray, names: np.ndarray,
    settings: Settings, dropped_share: float, season: str, source: str, missing_nodes: int = 0,
) -> RoutingNetwork:
    """A :class:`RoutingNetwork` from node arrays (lon/lat degrees, EPSG:4326) and directed edge
    arrays (``u``/``v`` node positions, minutes, metres, way id, name code into ``names``)."""
    n = len(node_ids)
    lonlat = np.asarray(node_lonlat, dtype=float).reshape(-1, 2)
    kept = _fastest_edges(u, v, minutes)
    matrix, length = edge_arrays_to_csr(u[kept], v[kept], minutes[kept], metres[kept], n)
    return RoutingNetwork(
        matrix=matrix,
        node_ids=_read_only(np.asarray(node_ids)),
        node_xy=_read_only(project_lonlat(lonlat) if n else np.empty((0, 2))),
        node_lonlat=_read_only(lonlat),
        node_names=_read_only(np.asarray(node_names, dtype=str)),
        sparse=n <= settings.sparse_network_max_nodes,
        dropped_share=float(dropped_share),
        season=season,
        source=source,
        length_m=length,
        edge_way_id=_read_only(np.asarray(way_id, dtype=np.int64)[kept]),
        edge_name_code=_read_only(np.asarray(name_code, dtype=np.int32)[kept]),
        names=_read_only(np.asarray(names, dtype=str)),
        missing_nodes=int(missing_nodes),
    )


def _fastest_edges(u: np.ndarray, v: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Positions of the edges a CSR keeps: no self-loops, the fastest of parallel edges,
    sorted by (u, v) (the order of the CSR's ``data``)."""
    order = np.lexsort((minutes, v, u))  # by (u, v), fastest first
    order = order[u[order] != v[order]]
    su, sv = u[order], v[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (su[1:] != su[:-1]) | (sv[1:] != sv[:-1])
    return order[first]


def edge_arrays_to_csr(
    u: np.ndarray, v: np.ndarray, minutes: np.ndarray, metres: np.ndarray, n: int
) -> tuple[scipy.sparse.csr_array, scipy.sparse.csr_array]:
    """(minutes, metres) CSR matrices from edge arrays; duplicates keep the fastest edge."""
    kept = _fastest_edges(u, v, minutes)
    u, v, minutes, metres = u[kept], v[kept], minutes[kept], metres[kept]
    # Explicit zero-minute edges stay edges: csgraph treats stored zeros as edges.
    shape = (n, n)
    time_m = scipy.sparse.csr_array((minutes, (u, v)), shape=shape)
    dist_m = scipy.sparse.csr_array((metres, (u, v)), shape=shape)
    return _read_only_csr(time_m), _read_only_csr(dist_m)


# --- caching --------------------------------------------------------------------------

_NETWORK_FIELDS = (
    "highway_speed_kph", "default_speed_kph", "surface_speed_factor", "terrain_speed_factor",
    "smoothness_speed_factor", "tunnel_speed_kph",
    "winter_avalanche_speed_factor", "sparse_network_max_nodes",
)
_memory: OrderedDict[tuple[Any, ...], RoutingNetwork] = OrderedDict()


def _settings_key(settings: Settings) -> str:
    """JSON of the settings that change the routing network (not access speeds etc.)."""
    wanted = {f.name for f in fields(settings)} & set(_NETWORK_FIELDS)
    plain = {}
    for name in sorted(wanted):
        value = getattr(settings, name)
        plain[name] = dict(sorted(value.items())) if isinstance(value, Mapping) else value
    return json.dumps(plain, sort_keys=True)


def _cache_file(cache_dir: Path, file_hash: str, season: str, settings_key: str) -> Path:
    key = json.dumps([CACHE_FORMAT, file_hash, season, settings_key])
    return cache_dir / "routing" / f"{text_sha256(key, chars=32)}.npz"


def _save(network: RoutingNetwork, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".npz")
    os.close(fd)
    m, length = network.matrix, network.length_m
    try:
        np.savez(
            tmp,
            indptr=m.indptr, indices=m.indices, minutes=m.data, metres=length.data,
            node_ids=network.node_ids, node_xy=network.node_xy, node_lonlat=network.node_lonlat,
            node_names=network.node_names, edge_way_id=network.edge_way_id,
            edge_name_code=network.edge_name_code, names=network.names,
            meta=np.array(json.dumps({
                "sparse": network.sparse, "dropped_share": network.dropped_share,
                "season": network.season, "source": network.source,
                "missing_nodes": network.missing_nodes,
            })),
        )
        os.replace(tmp, target)  # atomic: a half-written cache is never read
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load(target: Path) -> RoutingNetwork:
    with np.load(target, allow_pickle=False) as z:
        n = len(z["node_ids"])
        parts = (z["indices"], z["indptr"])
        meta = json.loads(str(z["meta"]))
        return RoutingNetwork(
            matrix=_read_only_csr(scipy.sparse.csr_array((z["minutes"], *parts), shape=(n, n))),
            node_ids=_read_only(z["node_ids"]),
            node_xy=_read_only(z["node_xy"]),
            node_lonlat=_read_only(z["node_lonlat"]),
            node_names=_read_only(z["node_names"]),
            sparse=bool(meta["sparse"]),
            dropped_share=float(meta["dropped_share"]),
            season=meta["season"],
            source=meta["source"],
            length_m=_read_only_csr(scipy.sparse.csr_array((z["metres"], *parts), shape=(n, n))),
            edge_way_id=_read_only(z["edge_way_id"]),
            edge_name_code=_read_only(z["edge_name_code"]),
            names=_read_only(z["names"]),
            missing_nodes=int(meta["missing_nodes"]),
        )


def load_network(
    path: Path | str | None = None,
    season: str = "summer",
    settings: Settings | None = None,
    progress: Progress | None = None,
    *,
    cache_dir: Path | str | None = None,
) -> RoutingNetwork:
    """The routing network of an OSM file for ``season``, built fast and cached.

    Built by :func:`build_network` (pyosmium straight to numpy; no networkx graph) and cached
    in memory (last few networks) and on disk under ``cache_dir`` (default
    ``settings.CACHE_DIR``), keyed by the file's sha256, the season and the speed settings.
    ``path``: ``.osm`` (``.xml``), ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf``; default
    ``settings.network_path``. ``settings``: default :func:`load_settings`.
    ``progress``: optional callable receiving short status strings during a long build.
    """
    settings = settings if settings is not None else load_settings()
    path = Path(path) if path is not None else settings.network_path
    _require_network_file(path)  # before hashing it: a pipe would hang, a device never end
    cache_root = Path(cache_dir) if cache_dir is not None else config.CACHE_DIR
    stat = path.stat()
    skey = _settings_key(settings)
    mem_key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, season, skey, str(cache_root))
    if mem_key in _memory:
        _memory.move_to_end(mem_key)
        return _memory[mem_key]
    target = _cache_file(cache_root, file_sha256(path), season, skey)
    network = None
    if target.exists():
        try:
            network = _load(target)
        except (OSError, ValueError, KeyError):
            network = None  # unreadable cache: rebuild and overwrite
    if network is None:
        network = build_network(path, season, settings, progress=progress)
        reporter(progress)("Saving the routing network to the cache…")
        with contextlib.suppress(OSError):  # a read-only data folder must not break routing
            _save(network, target)
    _memory[mem_key] = network
    while len(_memory) > _MEMORY_CACHE_SIZE:
        _memory.popitem(last=False)
    return network


def build_network(
    path: Path | str, season: str = "summer", settings: Settings | None = None, *, progress: Progress | None = None,
) -> RoutingNetwork:
    """The routing network of an OSM file, uncached: pyosmium → numpy arrays → contracted CSR.

    Same rules and the same shortest-path minutes as :func:`load_graph` +
    :func:`build_routing_network` (see :mod:`coverage.engine.osm_network`), in a fraction of
    the time and memory. Raises NetworkFormatError for an unknown or damaged file or one
    without drivable roads.
    """
    path = Path(path)
    if season not in config.SEASONS:
        raise InputError(f"season must be one of {config.SEASONS}, not {season!r}", message_id="input.unknown_season",
                         season=str(season), known=config.SEASONS)
    _require_network_file(path)
    settings = settings if settings is not None else load_settings()
    reporter(progress)(f"Reading the roads of {path.name}…")
    table = read_ways(path, progress=progress)
    reporter(progress)(f"Read {len(table.way_id):,} highway ways ({len(table.ref):,} node references).")
    edges = build_edges(table, settings, season, progress=progress)
    if len(edges.u) == 0:
        raise NetworkFormatError(f"{path}: no drivable highway ways found", message_id="network.no_roads",
                                 path=str(path))
    if edges.missing_nodes:
        reporter(progress)(f"{edges.missing_nodes:,} nodes referenced by roads are not in the file "
                       "(a clipped extract): the roads were cut there.")
    reporter(progress)(f"Building the routing matrix ({len(edges.node_ids):,} nodes, {len(edges.u):,} edges)…")
    return routing_network(
        node_ids=edges.node_ids, node_lonlat=edges.node_lonlat, node_names=edges.node_names, u=edges.u, v=edges.v,
        minutes=edges.minutes, metres=edges.metres, way_id=edges.way_id, name_code=edges.name_code,
        names=edges.names, settings=settings, dropped_share=edges.dropped_share, season=season, source=str(path),
        missing_nodes=edges.missing_nodes,
    )


def is_default_network(path: Path | str) -> bool:
    """True when ``path`` is the project's authored, approximate trunk-road network (messages
    call only that one approximate; a real OSM extract is not)."""
    return Path(path).resolve() == Path(config.DEFAULT_NETWORK).resolve()


def clear_memory_cache() -> None:
    """Forget in-process networks (the disk cache stays)."""
    _memory.clear()


# --- snapping -------------------------------------------------------------------------


def points_xy(points: Any) -> np.ndarray:
    """(n, 2) EPSG:32642 metres for a GeoDataFrame/GeoSeries (any CRS, default EPSG:4326)
    or an (n, 2) array of lon/lat degrees. Missing/empty geometries give NaN rows."""
    geoms = getattr(points, "geometry", None)
    if geoms is not None:
        if geoms.crs is None:
            geoms = geoms.set_crs(config.CRS_STORE)
        geoms = geoms.to_crs(config.CRS_METRIC)
        ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
        xy = np.full((len(geoms), 2), np.nan)
        if ok.any():
            xy[ok, 0] = geoms[ok].x.to_numpy()
            xy[ok, 1] = geoms[ok].y.to_numpy()
        return xy
    return project_lonlat(np.asarray(points, dtype=float).reshape(-1, 2))


def snap(network: RoutingNetwork, points: Any) -> tuple[np.ndarray, np.ndarray]:
    """Nearest network node for every point, all at once (KD-tree in EPSG:32642).

    ``points``: GeoDataFrame/GeoSeries of points, or (n, 2) lon/lat degrees.
    Returns ``(node_index, distance_m)``; a point without coordinates gets index -1 and
    distance ``inf``.
    """
    xy = points_xy(points)
    return snap_xy(network, xy)


def snap_candidates(network: RoutingNetwork, xy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest nodes of each point of (n, 2) EPSG:32642 metres: (n, k) node
    indices (-1 for points without coordinates) and distances in metres (inf).

    Several candidates, not one: the nearest node is not always the best way onto the
    road network (a pass road's end may be nearest but lead nowhere in winter)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    k = max(1, min(int(k), network.n_nodes))
    index = np.full((len(xy), k), -1, dtype=np.int64)
    distance = np.full((len(xy), k), np.inf)
    ok = np.isfinite(xy).all(axis=1)
    if ok.any() and network.n_nodes:
        d, i = network.kdtree.query(xy[ok], k=k)
        index[ok], distance[ok] = np.asarray(i).reshape(-1, k), np.asarray(d).reshape(-1, k)
    return index, distance


def snap_xy(network: RoutingNetwork, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`snap` for (n, 2) EPSG:32642 metres."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    index = np.full(len(xy), -1, dtype=np.int64)
    distance = np.full(len(xy), np.inf)
    ok = np.isfinite(xy).all(axis=1)
    if ok.any() and network.n_nodes:
        d, i = network.kdtree.query(xy[ok], k=1)
        index[ok], distance[ok] = i, d
    return index, distance


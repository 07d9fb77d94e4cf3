"""Road network: OSM file → osmnx graph with travel minutes → compact routing matrix.

The project's authored trunk network (``data/roads/tj_trunk_roads.osm``) and a real
OpenStreetMap extract go through exactly the same path:

1. ``osmnx.graph_from_xml`` (unsimplified, every component kept) with the tags we need;
2. keep drivable highway classes (the classes listed in ``Settings.highway_speed_kph``);
3. edge ``length`` (metres): a way's ``length`` tag split over its pieces in proportion to
   their great-circle lengths, else osmnx's great-circle length;
4. edge ``travel_min`` (minutes) from class speed × surface factor, tunnel speed, ``maxspeed``
   cap and the season (winter closures and avalanche slow-down);
5. ``osmnx.simplify_graph`` summing ``length`` and ``travel_min`` (named nodes stay nodes);
6. the largest strongly connected component (share of nodes dropped in ``G.graph``).

:func:`build_routing_network` turns the graph into a :class:`RoutingNetwork` (CSR matrices of
minutes and metres, node coordinates in EPSG:4326 and EPSG:32642, node names) that
:mod:`coverage.travel` routes on; :func:`load_network` caches it on disk and in memory.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
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
from coverage.errors import InputError, NetworkFormatError
from coverage.progress import Progress, reporter

# OSM way tags copied onto graph edges (osmnx drops every tag not listed).
USEFUL_TAGS_WAY: tuple[str, ...] = (
    "highway", "surface", "tunnel", "ref", "name", "maxspeed", "oneway", "junction", "access",
    "motor_vehicle", "motorcar", "area", "service", "bridge", "hazard", "seasonal:winter",
    "winter_road", "access:conditional", "motor_vehicle:conditional",
)
# OSM node tags copied onto graph nodes; a node with `name` is never simplified away.
USEFUL_TAGS_NODE: tuple[str, ...] = ("name", "place", "geonameid", "highway", "ref", "tunnel")
NO_ACCESS = frozenset({"no", "private"})
TUNNEL_VALUES = frozenset({"yes", "building_passage", "avalanche_protector", "culvert"})
XML_SUFFIXES = (".osm", ".xml", ".osm.xml")
PBF_SUFFIX = ".osm.pbf"
# Bump when the build below changes, so disk caches built by older code are not reused.
CACHE_FORMAT = 1
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


_LENGTH_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(m|km|mi|ft|')?\s*$", re.IGNORECASE)
_LENGTH_UNIT_M = {None: 1.0, "m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048, "'": 0.3048}


def parse_length_m(value: str | None) -> float | None:
    """An OSM ``length`` tag in metres ("5040", "5.04 km"); None when absent or unparseable."""
    if not value:
        return None
    match = _LENGTH_RE.match(value)
    if not match:
        return None
    unit = match.group(2).lower() if match.group(2) else None
    return float(match.group(1)) * _LENGTH_UNIT_M[unit]


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


def _pbf_to_xml(pbf: Path, out_dir: Path, progress: Progress | None) -> Path:
    """Convert the highway ways of an ``.osm.pbf`` (and their nodes) to OSM XML with pyosmium."""
    try:
        import osmium  # optional: only needed for .pbf input
        import osmium.filter
    except ImportError as exc:
        raise NetworkFormatError(
            f"{pbf}: reading .osm.pbf needs the optional 'osmium' package (pip install osmium). "
            "Or convert it to OSM XML first, keeping only roads:\n"
            f"  osmium tags-filter {pbf.name} w/highway -o roads.osm.pbf && "
            "osmium cat roads.osm.pbf -o roads.osm\n"
            f"  (or: osmconvert {pbf.name} -o=all.osm && osmfilter all.osm "
            "--keep='highway=' -o=roads.osm)\nthen pass the .osm file.", message_id="network.pbf_needs_osmium"
        ) from exc
    reporter(progress)(f"Converting {pbf.name} to OSM XML (roads only)…")
    out = out_dir / (pbf.name[: -len(PBF_SUFFIX)] + ".osm")
    try:
        # libosmium reads the file and collects the ways' nodes (with their tags: town
        # names live on nodes); Python only sees the highway ways.
        with osmium.BackReferenceWriter(str(out), ref_src=str(pbf), overwrite=True, remove_tags=False) as writer:
            ways = osmium.FileProcessor(str(pbf), osmium.osm.WAY).with_filter(osmium.filter.KeyFilter("highway"))
            for way in ways:
                writer.add(way)
    except RuntimeError as exc:  # libosmium's errors for a damaged or truncated file
        raise NetworkFormatError(f"{pbf}: not a readable .osm.pbf file ({exc})",
                                 message_id="network.unreadable") from exc
    return out


@contextlib.contextmanager
def _as_xml(path: Path, progress: Progress | None) -> Iterator[Path]:
    """The OSM XML file to read: the path itself, or a temporary conversion of a PBF."""
    name = path.name.lower()
    if name.endswith(PBF_SUFFIX):
        with tempfile.TemporaryDirectory(prefix="coverage-pbf-") as tmp:
            yield _pbf_to_xml(path, Path(tmp), progress)
    elif name.endswith(XML_SUFFIXES):
        yield path
    else:
        raise NetworkFormatError(
            f"{path}: unknown road network format; expected OSM XML (.osm, .xml) or .osm.pbf",
            message_id="network.unknown_format"
        )


# --- edge attributes ------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _values(value: Any) -> list[str]:
    """Tag value(s) as lower-case strings; osmnx gives lists after simplification and
    OSM uses ``;`` for several values."""
    out: list[str] = []
    for item in _as_list(value):
        out += [part.strip().lower() for part in str(item).split(";") if part.strip()]
    return out


def highway_class(value: Any, speeds: Mapping[str, float]) -> str | None:
    """The first class in ``value`` (str or osmnx list) that has a speed, else None."""
    for cls in _values(value):
        if cls in speeds:
            return cls
    return None


def parse_maxspeed_kph(value: Any) -> float | None:
    """Lowest numeric ``maxspeed`` in km/h ("50", "30 mph", lists); None for "RU:rural" etc."""
    found: list[float] = []
    for item in _values(value):
        match = re.match(r"^([0-9]+(?:\.[0-9]+)?)\s*(mph|km/h|kmh|kph)?$", item)
        if match:
            kph = float(match.group(1)) * (1.609344 if match.group(2) == "mph" else 1.0)
            if kph > 0:
                found.append(kph)
    return min(found) if found else None


_WINTER_WORDS = ("winter", "nov", "dec", "jan", "feb", "mar")


def closed_in_winter(data: Mapping[str, Any]) -> bool:
    """``seasonal:winter=closed|no`` (our authored tag), or an ``access:conditional`` /
    ``motor_vehicle:conditional`` of ``no @ (…)`` whose condition names winter months."""
    if {"closed", "no"} & set(_values(data.get("seasonal:winter"))):
        return True
    for key in ("access:conditional", "motor_vehicle:conditional"):
        for rule in _values(data.get(key)):
            value, _, condition = rule.partition("@")
            if value.strip() == "no" and any(word in condition for word in _WINTER_WORDS):
                return True
    return False


def edge_speed_kph(data: Mapping[str, Any], settings: Settings, season: str) -> float | None:
    """Driving speed on one edge in km/h, or None when the edge is closed in ``season``."""
    if season == "winter" and closed_in_winter(data):
        return None
    if season == "summer" and "yes" in _values(data.get("winter_road")):
        return None  # ice/snow roads exist only in winter
    cls = highway_class(data.get("highway"), settings.highway_speed_kph)
    speed = settings.highway_speed_kph.get(cls, settings.default_speed_kph)
    factors = [settings.surface_speed_factor[s] for s in _values(data.get("surface"))
               if s in settings.surface_speed_factor]
    if factors:
        speed *= min(factors)  # a mixed-surface simplified edge drives like its worst part
    if TUNNEL_VALUES & set(_values(data.get("tunnel"))):
        # Tunnels are slow, but a tunnel on a residential street is no faster than the street.
        speed = min(speed, settings.tunnel_speed_kph)
    cap = parse_maxspeed_kph(data.get("maxspeed"))
    if cap is not None:
        speed = min(speed, cap)
    if season == "winter" and "avalanche" in _values(data.get("hazard")):
        speed *= settings.winter_avalanche_speed_factor
    return speed


def _is_drivable(data: Mapping[str, Any], speeds: Mapping[str, float]) -> bool:
    if highway_class(data.get("highway"), speeds) is None:
        return False
    if "yes" in _values(data.get("area")):
        return False
    for key in ("access", "motor_vehicle", "motorcar"):
        if NO_ACCESS & set(_values(data.get(key))):
            return False
    return True


def _keep_drivable(G: nx.MultiDiGraph, settings: Settings) -> None:
    """Drop non-road edges (footways, rivers, buildings in a raw extract) and orphan nodes."""
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
            if not _is_drivable(d, settings.highway_speed_kph)]
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

    ``path``: OSM XML (``.osm``/``.xml``), or ``.osm.pbf`` when pyosmium is installed.
    ``season``: ``"summer"`` or ``"winter"`` (winter removes ``seasonal:winter=closed`` edges
    and slows ``hazard=avalanche`` edges). ``settings``: speeds (and the default ``path``,
    ``settings.network_path``); default :func:`load_settings`. Returns a simplified osmnx
    MultiDiGraph (EPSG:4326 node ``x``/``y``) reduced to its largest strongly connected component; ``G.graph`` holds ``dropped_share``, ``season``, ``source``.
    """
    settings = settings if settings is not None else load_settings()
    path = Path(path) if path is not None else settings.network_path
    if season not in config.SEASONS:
        raise InputError(f"season must be one of {config.SEASONS}, not {season!r}", message_id="input.unknown_season",
                         season=str(season), known=config.SEASONS)
    _require_network_file(path)
    report = reporter(progress)
    with _as_xml(path, progress) as xml_path, _osmnx_tags() as ox:
        report(f"Reading {path.name} with osmnx…")
        G = ox.graph_from_xml(xml_path, bidirectional=False, simplify=False, retain_all=True)
        way_lengths = read_way_lengths(xml_path)
    _keep_drivable(G, settings)
    if G.number_of_edges() == 0:
        raise NetworkFormatError(f"{path}: no drivable highway ways found", message_id="network.no_roads")
    _apply_length_tags(G, way_lengths)
    _add_travel_minutes(G, settings, season)
    report("Simplifying the road graph…")
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

    @property
    def n_nodes(self) -> int:
        return int(self.matrix.shape[0])

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
    ``sparse`` = node count ≤ ``settings.sparse_network_max_nodes``.
    """
    settings = settings if settings is not None else load_settings()
    node_ids = np.asarray(list(G.nodes))
    n = len(node_ids)
    lonlat = np.array([(d["x"], d["y"]) for _n, d in G.nodes(data=True)], dtype=float)
    names = np.array([str(d.get("name") or "") for _n, d in G.nodes(data=True)], dtype=str)
    edges = list(G.edges(data=True))
    position = pd.Index(node_ids)
    u = position.get_indexer([e[0] for e in edges])
    v = position.get_indexer([e[1] for e in edges])
    minutes = np.array([e[2]["travel_min"] for e in edges], dtype=float)
    metres = np.array([e[2]["length"] for e in edges], dtype=float)
    matrix, length = edge_arrays_to_csr(u, v, minutes, metres, n)
    return RoutingNetwork(
        matrix=matrix,
        node_ids=_read_only(node_ids),
        node_xy=_read_only(project_lonlat(lonlat) if n else np.empty((0, 2))),
        node_lonlat=_read_only(lonlat.reshape(-1, 2)),
        node_names=_read_only(names),
        sparse=n <= settings.sparse_network_max_nodes,
        dropped_share=float(G.graph.get("dropped_share", 0.0)),
        season=str(G.graph.get("season", "")),
        source=str(G.graph.get("source", "")),
        length_m=length,
    )


def edge_arrays_to_csr(
    u: np.ndarray, v: np.ndarray, minutes: np.ndarray, metres: np.ndarray, n: int
) -> tuple[scipy.sparse.csr_array, scipy.sparse.csr_array]:
    """(minutes, metres) CSR matrices from edge arrays; duplicates keep the fastest edge."""
    keep = u != v
    u, v, minutes, metres = u[keep], v[keep], minutes[keep], metres[keep]
    order = np.lexsort((minutes, v, u))  # by (u, v), fastest first
    u, v, minutes, metres = u[order], v[order], minutes[order], metres[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, minutes, metres = u[first], v[first], minutes[first], metres[first]
    # Explicit zero-minute edges stay edges: csgraph treats stored zeros as edges.
    shape = (n, n)
    time_m = scipy.sparse.csr_array((minutes, (u, v)), shape=shape)
    dist_m = scipy.sparse.csr_array((metres, (u, v)), shape=shape)
    return _read_only_csr(time_m), _read_only_csr(dist_m)


# --- caching --------------------------------------------------------------------------

_NETWORK_FIELDS = (
    "highway_speed_kph", "default_speed_kph", "surface_speed_factor", "tunnel_speed_kph",
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
    import osmnx

    key = json.dumps([CACHE_FORMAT, osmnx.__version__, file_hash, season, settings_key])
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
            node_names=network.node_names,
            meta=np.array(json.dumps({
                "sparse": network.sparse, "dropped_share": network.dropped_share,
                "season": network.season, "source": network.source,
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
        )


def load_network(
    path: Path | str | None = None,
    season: str = "summer",
    settings: Settings | None = None,
    progress: Progress | None = None,
    *,
    cache_dir: Path | str | None = None,
) -> RoutingNetwork:
    """:func:`load_graph` + :func:`build_routing_network`, cached.

    Cached in memory (last few networks) and on disk under ``cache_dir`` (default
    ``settings.CACHE_DIR``), keyed by the file's sha256, the season and the speed settings.
    ``path``: default ``settings.network_path``; ``settings``: default :func:`load_settings`.
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
        G = load_graph(path, season, settings, progress=progress)
        reporter(progress)("Building the routing matrix…")
        network = build_routing_network(G, settings)
        with contextlib.suppress(OSError):  # a read-only data folder must not break routing
            _save(network, target)
    _memory[mem_key] = network
    while len(_memory) > _MEMORY_CACHE_SIZE:
        _memory.popitem(last=False)
    return network


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

"""Road closures by stable way identity: a network with some roads taken out, and the
list of roads a user may close.

Every edge of a :class:`~coverage.engine.roads.RoutingNetwork` carries the OSM way id it
belongs to (``edge_way_id``; the degree-2 contraction keeps a node wherever one way meets
another, so an edge never mixes two ways). On the project's default network a way is one
corridor segment (id = crc32 of its end places, fixed by ``tools/author_trunk_network.py``);
on an OpenStreetMap extract it is the OSM way id. Both survive a rebuild of the routing
matrix, so a closure saved as way ids still means the same roads later.

:func:`close_ways` drops the edges of the given ways from the CSR matrices (no rebuild, no
new contraction or component search: O(edges)). Nodes stay; a node whose every road is
closed is simply unreachable through the network. Knows ways, minutes and metres only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse

from coverage.config import Settings, load_settings
from coverage.engine.osm_read import read_ways
from coverage.engine.road_rules import is_drivable
from coverage.engine.roads import RoutingNetwork, _read_only, _read_only_csr
from coverage.engine.winter_roads import way_lengths_km

WAY_COLUMNS = ["way_id", "name", "ref", "highway", "km", "label"]
ROAD_COLUMNS = ["label", "name", "ref", "highway", "km", "way_ids"]


def road_label(ref: str, name: str, way_id: int) -> str:
    """What a user sees for a road: ``"M41 Tavildara – Qalaikhumb"`` (ref, then name),
    the name or the ref alone, or ``"way 123"`` for a road with neither.

    Parameters
    ----------
    ref : str
        The way's ``ref`` tag (road number), may be empty.
    name : str
        The way's ``name`` tag, may be empty.
    way_id : int
        The way's OSM id (used only when it has no ref and no name).

    Returns
    -------
    str
        The label.
    """
    ref, name = str(ref or "").strip(), str(name or "").strip()
    text = " ".join(part for part in (ref, name) if part)
    return text or f"way {int(way_id)}"


def way_table(path: Path | str | None = None, *, settings: Settings | None = None) -> pd.DataFrame:
    """Every drivable way of an OSM file with its name, road number, class and length.

    Parameters
    ----------
    path : path-like, optional
        OSM file (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``); default
        ``settings.network_path``.
    settings : Settings, optional
        Highway classes that count as drivable; default :func:`coverage.config.load_settings`.

    Returns
    -------
    pandas.DataFrame
        One row per drivable way: ``way_id`` (int64, OSM id), ``name``, ``ref``,
        ``highway``, ``km`` (its ``length`` tag, else its great-circle length, kilometres)
        and ``label`` (:func:`road_label`).
    """
    settings = settings if settings is not None else load_settings()
    table = read_ways(Path(path) if path is not None else settings.network_path)
    drivable = np.array([is_drivable(tags, settings.highway_speed_kph) for tags in table.combos], dtype=bool)
    highway = np.array([str(tags.get("highway", "")) for tags in table.combos] or [""], dtype=object)
    keep = drivable[table.way_combo] if len(table.way_id) else np.zeros(0, dtype=bool)
    refs = table.refs[table.way_ref] if len(table.way_ref) == len(table.way_id) else np.full(len(table.way_id), "")
    frame = pd.DataFrame({
        "way_id": table.way_id.astype(np.int64),
        "name": np.asarray(table.names)[table.way_name].astype(object),
        "ref": np.asarray(refs).astype(object),
        "highway": highway[table.way_combo] if len(table.way_id) else np.zeros(0, dtype=object),
        "km": way_lengths_km(table),
    })[keep].reset_index(drop=True)
    frame["label"] = [road_label(r, n, w) for r, n, w in zip(frame["ref"], frame["name"], frame["way_id"])]
    return frame[WAY_COLUMNS]


def closable_roads(network: RoutingNetwork, ways: pd.DataFrame, *, named_only: bool = True) -> pd.DataFrame:
    """The roads of ``network`` a user may close, one row per label (a road cut into several
    OSM ways is one row holding all their ids).

    Parameters
    ----------
    network : RoutingNetwork
        Only ways with at least one edge in it are listed (a road winter already closed is
        not on the winter network).
    ways : pandas.DataFrame
        :func:`way_table` of the network's file.
    named_only : bool
        Leave out ways with neither a name nor a ref (on a real extract: thousands of
        unnamed tracks; they can still be closed by id).

    Returns
    -------
    pandas.DataFrame
        ``label``, ``name``, ``ref``, ``highway`` (of the longest way), ``km`` (summed,
        kilometres) and ``way_ids`` (tuple of int, sorted), sorted by label.
    """
    present = np.unique(np.asarray(network.edge_way_id, dtype=np.int64))
    rows = ways[ways["way_id"].isin(present)]
    if named_only:
        rows = rows[(rows["name"].astype(str) != "") | (rows["ref"].astype(str) != "")]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROAD_COLUMNS})
    rows = rows.sort_values("km", ascending=False, kind="stable")
    grouped = rows.groupby("label", sort=True).agg(
        name=("name", "first"), ref=("ref", "first"), highway=("highway", "first"), km=("km", "sum"),
        way_ids=("way_id", lambda ids: tuple(sorted(int(i) for i in ids))))
    return grouped.reset_index()[ROAD_COLUMNS]


def close_ways(network: RoutingNetwork, way_ids: Iterable[int]) -> RoutingNetwork:
    """``network`` without the edges of the given ways (both directions), everything else
    shared.

    The minutes and metres matrices keep their other entries in order, ``edge_way_id``
    and ``edge_name_code`` stay aligned with ``matrix.data``, nodes (and the cached KD-tree
    of their points) are unchanged; ``matrix_t`` is derived afresh from the new matrix.
    Costs one pass over the edges, no rebuild.

    Parameters
    ----------
    network : RoutingNetwork
        Any routing network (any season).
    way_ids : iterable of int
        OSM way ids (the default network's segment ids); ids not on the network are ignored
        (see :func:`missing_ways`).

    Returns
    -------
    RoutingNetwork
        ``network`` itself when no edge is closed, else a new network.
    """
    wanted = np.unique(np.fromiter((int(w) for w in way_ids), dtype=np.int64))
    closed = np.isin(network.edge_way_id, wanted) if len(wanted) else np.zeros(0, dtype=bool)
    if not closed.any():
        return network
    keep = ~closed
    n = network.n_nodes
    m, length = network.matrix, network.length_m
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(m.indptr))
    indptr = np.zeros(n + 1, dtype=m.indptr.dtype)
    np.cumsum(np.bincount(rows[keep], minlength=n), out=indptr[1:])
    indices = m.indices[keep]
    matrix = _read_only_csr(scipy.sparse.csr_array((m.data[keep], indices, indptr), shape=(n, n)))
    metres = _read_only_csr(scipy.sparse.csr_array((length.data[keep], indices.copy(), indptr.copy()), shape=(n, n)))
    out = dataclasses.replace(
        network, matrix=matrix, length_m=metres,
        edge_way_id=_read_only(network.edge_way_id[keep].copy()),
        edge_name_code=_read_only(network.edge_name_code[keep].copy()),
    )
    if "kdtree" in network.__dict__:  # same nodes: share the KD-tree already built
        out.__dict__["kdtree"] = network.__dict__["kdtree"]
    return out


def missing_ways(network: RoutingNetwork, way_ids: Iterable[int]) -> list[int]:
    """The way ids of ``way_ids`` with no edge on ``network`` (a road winter closes, or a
    way that is no longer in the file), in the order given.

    Parameters
    ----------
    network : RoutingNetwork
        The network the closure is meant for.
    way_ids : iterable of int
        OSM way ids.

    Returns
    -------
    list of int
        The ids not found.
    """
    present = set(np.unique(network.edge_way_id).tolist())
    return [int(w) for w in way_ids if int(w) not in present]

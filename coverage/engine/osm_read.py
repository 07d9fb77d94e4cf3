"""Read the highway ways of an OSM file into flat arrays (pyosmium/libosmium, no graph).

One pass entirely inside libosmium (C++): node locations go to a flexible in-memory index
(``flex_mem``); named nodes and ``highway=*`` ways, with their nodes' locations, are written
to a temporary OPL file (libosmium's one-line-per-object text format). Python then reads
that text in bulk: the node references and locations of all ways are parsed by numpy in one
call, and only the ways' tags are split per way. Per way we keep its id, the tags the speed
rules read (as one interned tag combination), its name, its ``ref`` (road number), its ``length`` tag and its
direction; per node reference the node id and its location (EPSG:4326 degrees, exactly the
file's decimal value). Everything else in the file is skipped in C++.

Formats: ``.osm`` / ``.osm.xml`` / ``.xml``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``
(libosmium reads them all natively). A reference to a node that is not in the file (a
clipped extract) gets a NaN location; :mod:`coverage.engine.osm_network` drops it.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import osmium.filter

from coverage.engine.road_rules import RULE_TAGS, parse_length_m, way_direction
from coverage.errors import NetworkFormatError
from coverage.progress import Progress, reporter

# File name endings libosmium reads, and the format string it is told (the file name alone
# does not tell libosmium that ".xml" is OSM XML).
OSM_FORMATS: tuple[tuple[str, str], ...] = (
    (".osm.pbf", "pbf"), (".pbf", "pbf"),
    (".osm.bz2", "osm.bz2"), (".osm.xml.bz2", "osm.bz2"), (".xml.bz2", "osm.bz2"),
    (".osm.gz", "osm.gz"), (".osm.xml.gz", "osm.gz"), (".xml.gz", "osm.gz"),
    (".osm.xml", "osm"), (".osm", "osm"), (".xml", "osm"),
)
SUFFIXES_TEXT = ".osm, .osm.bz2, .osm.gz, .osm.pbf (or .xml)"
# OPL output: no metadata, way nodes written as n<id>x<lon>y<lat> ("n<id>xy" when unknown)
_OPL_FORMAT = "opl,add_metadata=false,locations_on_ways=true"
_MISSING = b"x999y999"  # what "xy" (unknown location) becomes before the numbers are parsed
_NUMBERS = bytes.maketrans(b"nxy,", b"    ")
_ESCAPE = re.compile(r"%([0-9a-fA-F]+)%")
_KEY_SET = frozenset(RULE_TAGS) | {"oneway", "junction"}  # tags that make a way's combination


def osm_format(path: Path) -> str:
    """libosmium's format string for ``path`` from its name; NetworkFormatError if unknown."""
    name = Path(path).name.lower()
    for suffix, fmt in OSM_FORMATS:
        if name.endswith(suffix):
            return fmt
    raise NetworkFormatError(
        f"{path}: unknown road network format; expected OpenStreetMap data as {SUFFIXES_TEXT}",
        message_id="network.unknown_format", path=str(path),
    )


@dataclass(frozen=True)
class WayTable:
    """The highway ways of one OSM file as flat arrays.

    ``way_*`` arrays have one entry per way; ``ref``, ``lon`` and ``lat`` one per node
    reference, way after way (``way_start[i]:way_start[i+1]``). ``lon``/``lat``: degrees
    (EPSG:4326), NaN when the node is not in the file.
    """

    way_id: np.ndarray  # int64
    way_combo: np.ndarray  # int32 index into ``combos``
    way_name: np.ndarray  # int32 index into ``names`` (0 = no name)
    way_direction: np.ndarray  # int8: 1 forward one-way, -1 reverse one-way, 0 both ways
    way_length_m: np.ndarray  # float64 ``length`` tag in metres, NaN when absent
    way_start: np.ndarray  # int64, len(way_id) + 1 offsets into the reference arrays
    ref: np.ndarray  # int64 node ids
    lon: np.ndarray  # float64 degrees
    lat: np.ndarray  # float64 degrees
    combos: tuple[dict[str, str], ...]  # the rule tags (and oneway, junction) present, per combination
    names: np.ndarray  # str, names[0] == ""
    node_name_ids: np.ndarray  # int64 ids of nodes with a ``name`` tag
    node_name_values: np.ndarray  # str, their names
    way_ref: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # int32 index into ``refs``
    refs: np.ndarray = field(default_factory=lambda: np.array([""]))  # str ``ref`` tags (road numbers), refs[0] == ""


def read_ways(path: Path, *, progress: Progress | None = None) -> WayTable:
    """Read ``path`` once and return its highway ways (see :class:`WayTable`).

    Raises NetworkFormatError for an unknown file name ending or a damaged file.
    """
    path = Path(path)
    fmt = osm_format(path)
    with tempfile.TemporaryDirectory(prefix="coverage-osm-") as tmp:
        opl = Path(tmp) / "roads.opl"
        try:
            locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
            locations.ignore_errors()  # a clipped extract: unknown nodes stay unknown
            with osmium.SimpleWriter(osmium.io.File(str(opl), _OPL_FORMAT)) as writer:
                osmium.apply(
                    osmium.io.File(str(path), fmt), locations,
                    osmium.filter.EntityFilter(osmium.osm.NODE | osmium.osm.WAY),
                    osmium.filter.KeyFilter("name").enable_for(osmium.osm.NODE),
                    osmium.filter.KeyFilter("highway").enable_for(osmium.osm.WAY),
                    writer,
                )
        except RuntimeError as exc:  # libosmium: damaged, truncated or not OSM at all
            raise NetworkFormatError(
                f"{path}: not a readable OpenStreetMap file ({exc})",
                message_id="network.unreadable", path=str(path),
            ) from exc
        reporter(progress)(f"Parsing the roads of {path.name} ({opl.stat().st_size / 1e6:,.0f} MB of text)…")
        return parse_opl(opl.read_bytes(), str(path))


def parse_opl(text: bytes, source: str = "") -> WayTable:
    """:class:`WayTable` of OPL text as written by :func:`read_ways` (named nodes, then ways)."""
    lines = text.split(b"\n")
    del text  # the caller keeps no reference: free it before the lines are copied again
    node_ids: list[int] = []
    node_names: list[str] = []
    way_ids: list[int] = []
    way_tags: list[bytes] = []
    way_nodes: list[bytes] = []
    for line in lines:
        kind = line[:1]
        if kind == b"w":
            head, _, rest = line.partition(b" T")
            tags, _, nodes = rest.rpartition(b" N")
            way_ids.append(int(head[1:]))
            way_tags.append(tags)
            way_nodes.append(nodes)
        elif kind == b"n":
            head, _, rest = line.partition(b" T")
            tags = _tags(rest.rpartition(b" x")[0])
            node_ids.append(int(head[1:]))
            node_names.append(tags.get("name", ""))
    counts = np.array([nodes.count(b",") + 1 if nodes else 0 for nodes in way_nodes], dtype=np.int64)
    del lines
    numbers = b" ".join(way_nodes)
    del way_nodes
    numbers = numbers.replace(b"xy", _MISSING).translate(_NUMBERS)
    values = np.fromstring(numbers, sep=" ")  # C parser; text mode (not the deprecated binary one)
    if len(values) != 3 * counts.sum():
        raise NetworkFormatError(f"{source}: the ways' node lists could not be read",
                                 message_id="network.unreadable", path=source)
    values = values.reshape(-1, 3)
    lon, lat = values[:, 1].copy(), values[:, 2].copy()
    missing = lon == 999
    lon[missing] = np.nan
    lat[missing] = np.nan
    combo_index: dict[tuple[tuple[str, str], ...], int] = {}
    name_index: dict[str, int] = {"": 0}
    ref_index: dict[str, int] = {"": 0}
    n_ways = len(way_ids)
    way_combo = np.empty(n_ways, dtype=np.int32)
    way_name = np.empty(n_ways, dtype=np.int32)
    way_ref = np.empty(n_ways, dtype=np.int32)
    length_m = np.full(n_ways, np.nan)
    for i, raw in enumerate(way_tags):
        tags = _tags(raw)
        key = tuple(sorted(item for item in tags.items() if item[0] in _KEY_SET))
        combo = combo_index.get(key)
        if combo is None:
            combo = combo_index[key] = len(combo_index)
        way_combo[i] = combo
        name = tags.get("name") or ""
        code = name_index.get(name)
        if code is None:
            code = name_index[name] = len(name_index)
        way_name[i] = code
        ref = tags.get("ref") or ""
        ref_code = ref_index.get(ref)
        if ref_code is None:
            ref_code = ref_index[ref] = len(ref_index)
        way_ref[i] = ref_code
        if "length" in tags:
            metres = parse_length_m(tags["length"])
            if metres is not None and metres > 0:
                length_m[i] = metres
    combos = tuple(dict(key) for key in combo_index)
    combo_direction = np.array([way_direction(c.get("oneway"), c.get("junction")) for c in combos], dtype=np.int8)
    start = np.zeros(n_ways + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return WayTable(
        way_id=np.array(way_ids, dtype=np.int64),
        way_combo=way_combo,
        way_name=way_name,
        way_direction=combo_direction[way_combo] if n_ways else np.zeros(0, dtype=np.int8),
        way_length_m=length_m,
        way_start=start,
        ref=values[:, 0].astype(np.int64),
        lon=lon,
        lat=lat,
        combos=combos,
        names=np.array(list(name_index), dtype=str),
        node_name_ids=np.array(node_ids, dtype=np.int64),
        node_name_values=np.array(node_names, dtype=str),
        way_ref=way_ref,
        refs=np.array(list(ref_index), dtype=str),
    )


def _tags(raw: bytes) -> dict[str, str]:
    """OPL tags ``k=v,k=v`` (``%hex%`` escapes) as a dict."""
    if not raw:
        return {}
    out = {}
    for item in raw.decode("utf-8").split(","):
        key, _, value = item.partition("=")
        if "%" in item:
            key, value = _unescape(key), _unescape(value)
        out[key] = value
    return out


def _unescape(text: str) -> str:
    text = text.replace("%20%", " ")  # the common case (spaces in names) without the regex
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "%" in text else text

"""Read the highway ways of an OSM file into flat arrays with pyosmium (no graph).

One streaming pass through libosmium: node locations go to a flexible in-memory index
(``flex_mem``), named nodes and ``highway=*`` ways reach Python. Per way we keep its id,
the tags the speed rules read (as one interned tag combination), its name, its ``length``
tag and its direction; per node reference the node id and its location (EPSG:4326, in
libosmium's 1e-7 degree integers). Everything else in the file is skipped in C++.

Formats: ``.osm`` / ``.osm.xml`` / ``.xml``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``
(libosmium reads them all natively). A reference to a node that is not in the file (a
clipped extract) keeps the undefined location; :mod:`coverage.engine.osm_network` drops it.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
import osmium.filter

from coverage.engine.road_rules import RULE_TAGS, parse_length_m, way_direction
from coverage.errors import NetworkFormatError

# File name endings libosmium reads, and the format string it is told (the file name alone
# does not tell libosmium that ".xml" is OSM XML).
OSM_FORMATS: tuple[tuple[str, str], ...] = (
    (".osm.pbf", "pbf"), (".pbf", "pbf"),
    (".osm.bz2", "osm.bz2"), (".osm.xml.bz2", "osm.bz2"), (".xml.bz2", "osm.bz2"),
    (".osm.gz", "osm.gz"), (".osm.xml.gz", "osm.gz"), (".xml.gz", "osm.gz"),
    (".osm.xml", "osm"), (".osm", "osm"), (".xml", "osm"),
)
SUFFIXES_TEXT = ".osm, .osm.bz2, .osm.gz, .osm.pbf (or .xml)"
UNDEFINED_COORDINATE = 2147483647  # libosmium's x/y of a location it does not know
_PROGRESS_EVERY_WAYS = 100_000


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

    ``way_*`` arrays have one entry per way; ``ref``, ``x`` and ``y`` one per node reference,
    way after way (``way_start[i]:way_start[i+1]``). ``x``/``y``: longitude/latitude in
    1e-7 degrees (EPSG:4326), ``UNDEFINED_COORDINATE`` when the node is not in the file.
    """

    way_id: np.ndarray  # int64
    way_combo: np.ndarray  # int32 index into ``combos``
    way_name: np.ndarray  # int32 index into ``names`` (0 = no name)
    way_direction: np.ndarray  # int8: 1 forward one-way, -1 reverse one-way, 0 both ways
    way_length_m: np.ndarray  # float64 ``length`` tag in metres, NaN when absent
    way_start: np.ndarray  # int64, len(way_id) + 1 offsets into the reference arrays
    ref: np.ndarray  # int64 node ids
    x: np.ndarray  # int32 longitude × 1e7
    y: np.ndarray  # int32 latitude × 1e7
    combos: tuple[dict[str, str], ...]  # the RULE_TAGS present, per distinct combination
    names: np.ndarray  # str, names[0] == ""
    node_name_ids: np.ndarray  # int64 ids of nodes with a ``name`` tag
    node_name_values: np.ndarray  # str, their names


def read_ways(path: Path, *, progress=None) -> WayTable:
    """Stream ``path`` once and return its highway ways (see :class:`WayTable`).

    Raises NetworkFormatError for an unknown file name ending or a damaged file.
    """
    path = Path(path)
    fmt = osm_format(path)
    reader = _WayReader(progress)
    try:
        reader.apply_file(
            osmium.io.File(str(path), fmt), locations=True, idx="flex_mem",
            filters=[osmium.filter.KeyFilter("name").enable_for(osmium.osm.NODE),
                     osmium.filter.KeyFilter("highway").enable_for(osmium.osm.WAY)],
        )
    except RuntimeError as exc:  # libosmium: damaged, truncated or not OSM at all
        raise NetworkFormatError(
            f"{path}: not a readable OpenStreetMap file ({exc})",
            message_id="network.unreadable", path=str(path),
        ) from exc
    return reader.table()


class _WayReader(osmium.SimpleHandler):
    """pyosmium handler collecting named nodes and highway ways into flat arrays."""

    def __init__(self, progress) -> None:  # noqa: ANN001
        super().__init__()
        self.progress = progress
        self.combo_index: dict[tuple[str | None, ...], int] = {}
        self.name_index: dict[str, int] = {"": 0}
        self.way_id, self.way_combo, self.way_name = array("q"), array("i"), array("i")
        self.way_direction, self.way_length, self.counts = array("b"), array("d"), array("q")
        self.refs, self.xs, self.ys = array("q"), array("i"), array("i")
        self.node_ids: list[int] = []
        self.node_names: list[str] = []

    def node(self, obj) -> None:  # noqa: ANN001
        self.node_ids.append(obj.id)
        self.node_names.append(obj.tags.get("name"))

    def way(self, obj) -> None:  # noqa: ANN001
        tags = obj.tags
        key = tuple(tags.get(k) for k in RULE_TAGS)
        combo = self.combo_index.get(key)
        if combo is None:
            combo = self.combo_index[key] = len(self.combo_index)
        name = tags.get("name") or ""
        code = self.name_index.get(name)
        if code is None:
            code = self.name_index[name] = len(self.name_index)
        length = tags.get("length")
        metres = parse_length_m(length) if length is not None else None
        self.way_id.append(obj.id)
        self.way_combo.append(combo)
        self.way_name.append(code)
        self.way_direction.append(way_direction(tags.get("oneway"), tags.get("junction")))
        self.way_length.append(metres if metres is not None and metres > 0 else math.nan)
        nodes = obj.nodes
        self.counts.append(len(nodes))
        ref, x, y = self.refs.append, self.xs.append, self.ys.append
        for node in nodes:
            ref(node.ref)
            x(node.x)
            y(node.y)
        if self.progress is not None and len(self.way_id) % _PROGRESS_EVERY_WAYS == 0:
            self.progress(f"Read {len(self.way_id):,} highway ways…")

    def table(self) -> WayTable:
        """The arrays read so far as a :class:`WayTable`."""
        return _table(self)


def _table(reader: _WayReader) -> WayTable:
    combo_index, name_index, counts = reader.combo_index, reader.name_index, reader.counts
    combos = tuple({k: v for k, v in zip(RULE_TAGS, key, strict=True) if v is not None} for key in combo_index)
    start = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(_as_numpy(counts, np.int64), out=start[1:])
    return WayTable(
        way_id=_as_numpy(reader.way_id, np.int64),
        way_combo=_as_numpy(reader.way_combo, np.int32),
        way_name=_as_numpy(reader.way_name, np.int32),
        way_direction=_as_numpy(reader.way_direction, np.int8),
        way_length_m=_as_numpy(reader.way_length, np.float64),
        way_start=start,
        ref=_as_numpy(reader.refs, np.int64),
        x=_as_numpy(reader.xs, np.int32),
        y=_as_numpy(reader.ys, np.int32),
        combos=combos,
        names=np.array(list(name_index), dtype=str),
        node_name_ids=np.array(reader.node_ids, dtype=np.int64),
        node_name_values=np.array(reader.node_names, dtype=str),
    )


def _as_numpy(values: array, dtype: type) -> np.ndarray:
    """The array's buffer as numpy (no copy); an empty array of ``dtype`` when empty."""
    return np.frombuffer(values, dtype=dtype) if len(values) else np.empty(0, dtype=dtype)

"""Author the project's trunk-road network (OSM XML) from the shared corridor sketch.

Reads ``tj_road_corridors/corridors.csv`` (53 hand-authored segments between 51 places, see
``SOURCE.md`` beside it) and writes ``data/roads/tj_trunk_roads.osm``:

- one node per distinct place (``name``, ``place=town``, ``geonameid`` when known; the four
  tunnel nodes carry ``tunnel=yes`` instead of ``place``);
- one two-way way per segment, tagged ``highway`` (the corridor's road class), ``surface``,
  ``terrain`` (project tag: plain / hill / mountain / high_mountain, from :data:`TERRAIN`),
  ``smoothness=bad`` where the facts call the road degraded or poor, ``ref``, ``name`` ("<from> – <to>"), ``length`` (metres: published length, else the estimate),
  ``hazard=avalanche`` / ``seasonal:winter=closed`` from ``winter_risk``;
- one ``tunnel=yes`` way per tunnel node (its published length, centred on the tunnel node),
  cut out of the two mainline segments it sits between, so tunnels get their own slow speed
  while every place-to-place road length stays as published;
- straight-line shape nodes every ``--spacing-km`` so the road draws as a line on a map
  (routing lengths come from the ``length`` tag, split over the pieces by the loader).

Output is deterministic: ids derive from GeoNames ids or CRC32 of names, elements are sorted,
no timestamps. Run from the project root::

    python tools/author_trunk_network.py            # default input and output
    python tools/author_trunk_network.py --help
"""

from __future__ import annotations

import argparse
import csv
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from coverage import config

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Published tunnel lengths in metres (SOURCE.md: Anzob/Istiqlol 5,040 m; Shahriston 5,253 m;
# Khatlon/Chormaghzak 4,430 m; Ozodi/Shar-Shar 2,223 m). Keys are corridors.csv node names.
TUNNEL_LENGTH_M: dict[str, float] = {
    "Anzob (Istiqlol) tunnel": 5040.0,
    "Shahriston tunnel": 5253.0,
    "Khatlon (Chormaghzak) tunnel": 4430.0,
    "Ozodi (Shar-Shar) tunnel": 2223.0,
}
# Terrain of each corridor segment (project tag `terrain`, read by coverage.engine.road_rules
# through Settings.terrain_speed_factor), with the corridor fact behind it. corridors.csv has no
# terrain column: the classes come from its notes and SOURCE.md (pass heights, gorges, and the
# plains / hills / mountain detour class SOURCE.md used for each guessed length).
#   plain          valley floor or lowland (Fergana valley, Vakhsh and Kulob lowlands)
#   hill           foothills, low ridges, broad river valleys
#   mountain       a road climbing to or descending from a pass, or in a narrow gorge
#   high_mountain  the approaches to the high passes/tunnels (about 2,700–3,400 m) and the
#                  narrow Panj-gorge road along the Afghan border
TERRAIN: dict[tuple[str, str], tuple[str, str]] = {
    ("Dushanbe", "Varzob"): ("hill", "lower Varzob valley, 800-1,300 m"),
    ("Varzob", "Anzob (Istiqlol) tunnel"): ("high_mountain", "Varzob gorge climb to the tunnel at ~2,700 m; avalanche km 62-73"),
    ("Anzob (Istiqlol) tunnel", "Ayní"): ("mountain", "descent via the Yagnob/Fan gorge to the Zeravshan"),
    ("Ayní", "Shahriston tunnel"): ("high_mountain", "serpentine climb to the tunnel below the 3,378 m pass"),
    ("Shahriston tunnel", "Shahriston"): ("mountain", "gentler northern descent"),
    ("Shahriston", "Istaravshan"): ("hill", "foothills into the Fergana valley rim"),
    ("Istaravshan", "Khujand"): ("plain", "Fergana valley"),
    ("Ayní", "Panjakent"): ("hill", "Zeravshan valley floor, road rebuilt 2012-15"),
    ("Khujand", "Buston"): ("plain", "Fergana valley"),
    ("Buston", "Ghafurov"): ("plain", "Fergana valley"),
    ("Ghafurov", "Konibodom"): ("plain", "Fergana valley"),
    ("Konibodom", "Isfara"): ("plain", "Fergana valley"),
    ("Khujand", "Shaydon"): ("hill", "SOURCE.md length uses the hills detour factor"),
    ("Khujand", "Nov"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Nov", "Zafarobod"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Khujand", "Bŭston"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Dushanbe", "Vahdat"): ("plain", "Hisor valley, multi-lane"),
    ("Vahdat", "Khatlon (Chormaghzak) tunnel"): ("mountain", "climb to the Chormaghzak ridge tunnel"),
    ("Khatlon (Chormaghzak) tunnel", "Ozodi (Shar-Shar) tunnel"): ("mountain", "between the Chormaghzak and Shar-Shar ridges"),
    ("Ozodi (Shar-Shar) tunnel", "Danghara"): ("hill", "descent into the Danghara valley"),
    ("Danghara", "Kŭlob"): ("hill", "rolling loess hills to the Kulob lowland"),
    ("Ozodi (Shar-Shar) tunnel", "Norak"): ("hill", "SOURCE.md length uses the hills detour factor"),
    ("Dushanbe", "Somoniyon"): ("plain", "Hisor valley, 4-lane"),
    ("Somoniyon", "Obikiik"): ("hill", "crosses a low ridge (corridors.csv note)"),
    ("Obikiik", "Bokhtar"): ("plain", "Vakhsh valley"),
    ("Bokhtar", "Levakant"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Levakant", "Danghara"): ("hill", "SOURCE.md length uses the hills detour factor"),
    ("Bokhtar", "Kolkhozobod"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Kolkhozobod", "Dŭstí"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Dŭstí", "Panji Poyon"): ("plain", "Panj lowland"),
    ("Bokhtar", "Vakhsh"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Vakhsh", "Panj"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Kolkhozobod", "Qubodiyon"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Qubodiyon", "Shahritus"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Shahritus", "Ayvaj"): ("plain", "Kofarnihon lowland to the Uzbek border"),
    ("Kŭlob", "Moskva"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Moskva", "Farkhor"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Farkhor", "Panj"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Kŭlob", "Mŭ’minobod"): ("hill", "SOURCE.md length uses the hills detour factor"),
    ("Mŭ’minobod", "Khovaling"): ("mountain", "SOURCE.md length uses the mountain detour factor"),
    ("Khovaling", "Baljuvon"): ("mountain", "SOURCE.md length uses the mountain detour factor"),
    ("Baljuvon", "Sarikhosor"): ("mountain", "mountain road, 1960s-built (corridors.csv note)"),
    ("Kŭlob", "Sovet"): ("hill", "SOURCE.md length uses the hills detour factor"),
    ("Kŭlob", "Hulbuk"): ("plain", "SOURCE.md length uses the plains detour factor"),
    ("Kŭlob", "Shŭrobod"): ("mountain", "climbs to the Shurobod pass (1,600 m)"),
    ("Shŭrobod", "Qalaikhumb"): ("high_mountain", "down to the Panj, then ~120 km of narrow border gorge: rockfall, fords"),
    ("Qalaikhumb", "Khorugh"): ("high_mountain", "Panj gorge; worst part Qalaikhumb-Vanj"),
    ("Vahdat", "Fayzobod"): ("hill", "Kofarnihon valley"),
    ("Fayzobod", "Obigarm"): ("hill", "Kofarnihon/Obigarm valley, paved"),
    ("Obigarm", "Darband"): ("mountain", "new road with two tunnels through the Kabudjar landslide zone"),
    ("Darband", "Rasht"): ("hill", "SOURCE.md length uses the hills detour factor; Rasht valley"),
    ("Darband", "Tavildara"): ("mountain", "Obikhingou valley"),
    ("Tavildara", "Qalaikhumb"): ("high_mountain", "over the Khaburabot pass, ~3,250 m"),
}
TERRAIN_ORDER = ("plain", "hill", "mountain", "high_mountain")
# Words in corridors.csv `surface` or `note` that mean the road is in bad condition
# (OSM `smoothness=bad`): "paved (with degraded/gravel stretches)", "paved (poor, being
# rebuilt)", "unpaved, poorly maintained".
BAD_CONDITION_WORDS = ("degraded", "poor")
# Rank used to pick the mainline (the two best-class segments) through a tunnel node.
CLASS_RANK = {"motorway": 0, "trunk": 1, "primary": 2, "secondary": 3, "tertiary": 4}
EARTH_RADIUS_M = 6_371_009.0  # same mean radius osmnx uses for great-circle lengths

# Id ranges keep the three kinds of ids apart (checked for collisions at run time).
NON_GEONAMES_PLACE_BASE = 100_000_000  # + crc32(name) % 1e8, for tunnels and Ayvaj
WAY_ID_MOD = 100_000_000  # way id = 1 + crc32(key) % this
SHAPE_NODE_BASE = 10_000_000_000  # + way_id * 100 + k, for shape and portal nodes

FILE_COMMENT = """
  Tajikistan trunk-road network (Khatlon, Sughd, Dushanbe/DRS links): APPROXIMATE.
  Authored by tools/author_trunk_network.py from ../shared/data/tj_road_corridors/corridors.csv;
  every fact (route, road class, surface, length, winter risk, tunnel) comes from the sources
  listed in tj_road_corridors/SOURCE.md. It is a corridor sketch, not a surveyed network:
  geometry is straight lines between towns, most lengths are estimates (crow-fly x detour
  factor), and road classes are a judgement. The `length` way tag (metres) carries the road
  length; loaders must split it over the way's pieces instead of measuring the straight lines.

  To use a real road network instead, download an OpenStreetMap extract of Tajikistan
  (e.g. Geofabrik tajikistan-latest.osm.pbf), keep the roads and convert to OSM XML:
      osmium tags-filter tajikistan-latest.osm.pbf w/highway -o tj_roads.osm.pbf
      osmium cat tj_roads.osm.pbf -o tj_roads.osm
  (or osmconvert + osmfilter), then point the tool at tj_roads.osm. The loader reads both
  files the same way through osmnx.graph_from_xml.
"""


@dataclass(frozen=True)
class Place:
    """A corridor end point (WGS84 degrees)."""

    name: str
    lat: float
    lon: float
    geonameid: int | None

    @property
    def is_tunnel(self) -> bool:
        return self.name in TUNNEL_LENGTH_M


@dataclass
class Segment:
    """One corridors.csv row: a two-way road between two places."""

    row: int
    a: str
    b: str
    length_m: float
    road_class: str
    surface: str | None
    ref: str | None
    winter_risk: str
    confidence: str
    published: bool
    terrain: str
    smoothness: str | None


@dataclass
class Way:
    """An OSM way ready to write: node ids in order plus tags."""

    id: int
    nodes: list[int]
    tags: dict[str, str] = field(default_factory=dict)


# --- reading ------------------------------------------------------------------------


def _float(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def _geonameid(text: str) -> int | None:
    value = _float(text)
    return int(value) if value is not None else None


def map_surface(text: str) -> str | None:
    """corridors.csv surface → OSM ``surface``: "paved (…)" → paved, "unknown"/empty → None."""
    text = (text or "").strip().lower()
    if not text or text == "unknown":
        return None
    return text.split()[0].strip("(),;")


def read_corridors(path: Path) -> tuple[dict[str, Place], list[Segment]]:
    """Places (checked for consistent coordinates) and segments, in file order."""
    places: dict[str, Place] = {}
    segments: list[Segment] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh)):
            for end in ("from", "to"):
                name = row[f"{end}_place"].strip()
                place = Place(
                    name,
                    float(row[f"{end}_lat"]),
                    float(row[f"{end}_lon"]),
                    _geonameid(row[f"{end}_geonameid"]),
                )
                _add_place(places, place)
            published = _float(row["length_km"])
            length_km = published if published is not None else _float(row["length_km_est"])
            if length_km is None or length_km <= 0:
                raise ValueError(f"{path}: row {row_no + 2} has no usable length")
            a, b = row["from_place"].strip(), row["to_place"].strip()
            if (a, b) not in TERRAIN:
                raise ValueError(f"{path}: row {row_no + 2} ({a} – {b}) has no terrain in TERRAIN")
            condition = f"{row['surface']} {row['note']}".lower()
            segments.append(
                Segment(
                    row=row_no,
                    a=row["from_place"].strip(),
                    b=row["to_place"].strip(),
                    length_m=length_km * 1000.0,
                    road_class=row["road_class"].strip().lower(),
                    surface=map_surface(row["surface"]),
                    ref=row["road_ref"].strip() or None,
                    winter_risk=row["winter_risk"].strip().lower() or "none",
                    confidence=row["confidence"].strip().lower(),
                    published=published is not None,
                    terrain=TERRAIN[(a, b)][0],
                    smoothness="bad" if any(w in condition for w in BAD_CONDITION_WORDS) else None,
                )
            )
    missing = set(TUNNEL_LENGTH_M) - set(places)
    if missing:
        raise ValueError(f"{path}: tunnel node(s) {sorted(missing)} not found")
    return places, segments


def _add_place(places: dict[str, Place], place: Place) -> None:
    known = places.get(place.name)
    if known is None:
        places[place.name] = place
    elif abs(known.lat - place.lat) > 1e-6 or abs(known.lon - place.lon) > 1e-6:
        raise ValueError(f"place {place.name!r} has two coordinates: {known} vs {place}")


# --- geometry -----------------------------------------------------------------------


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def lerp(p: tuple[float, float], q: tuple[float, float], t: float) -> tuple[float, float]:
    """Straight (lat, lon) interpolation; fine over the ≤150 km of one segment."""
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


# --- ids ----------------------------------------------------------------------------


def place_id(place: Place) -> int:
    if place.geonameid is not None:
        return place.geonameid
    return NON_GEONAMES_PLACE_BASE + zlib.crc32(place.name.encode("utf-8")) % 100_000_000


def way_id(key: str) -> int:
    return 1 + zlib.crc32(key.encode("utf-8")) % WAY_ID_MOD


def shape_id(owner_way: int, k: int) -> int:
    return SHAPE_NODE_BASE + owner_way * 100 + k


# --- building -----------------------------------------------------------------------


@dataclass
class Network:
    nodes: dict[int, tuple[float, float, dict[str, str]]] = field(default_factory=dict)
    ways: list[Way] = field(default_factory=list)

    def add_node(self, nid: int, lat: float, lon: float, tags: dict[str, str] | None = None) -> int:
        if nid in self.nodes and self.nodes[nid][:2] != (lat, lon):
            raise ValueError(f"node id collision: {nid}")
        self.nodes[nid] = (lat, lon, tags or {})
        return nid


@dataclass(frozen=True)
class Portal:
    """Where a segment joins a tunnel way instead of the tunnel node (the cut-off metres)."""

    node: int
    lat: float
    lon: float
    cut_m: float


def _mainline(tunnel: str, segments: list[Segment]) -> list[Segment]:
    touching = [s for s in segments if tunnel in (s.a, s.b)]
    if len(touching) < 2:
        raise ValueError(f"tunnel {tunnel!r} must sit between two segments, found {len(touching)}")
    ranked = sorted(touching, key=lambda s: (CLASS_RANK.get(s.road_class, 9), s.row))
    return sorted(ranked[:2], key=lambda s: s.row)


def _other_end(seg: Segment, name: str) -> str:
    return seg.b if seg.a == name else seg.a


def _crow_ratio(seg: Segment, places: dict[str, Place]) -> float:
    """Straight-line metres per road metre of a segment (≤ 1)."""
    a, b = places[seg.a], places[seg.b]
    return min(1.0, great_circle_m(a.lat, a.lon, b.lat, b.lon) / seg.length_m)


def build_tunnels(
    places: dict[str, Place], segments: list[Segment], net: Network
) -> dict[tuple[int, str], Portal]:
    """Add one tunnel way per tunnel node; return the portal each segment end must use.

    The tunnel is centred on the tunnel node: half its road length is cut from each of the two
    mainline segments, and each portal lies on the straight line towards that neighbour (at the
    same straight distance on both sides, scaled by the segments' crow/road ratio). Spur segments (Ozodi → Norak) start at the portal nearer to their far end and are
    shortened by the same half, so the road distance from the tunnel node is kept.
    """
    portals: dict[tuple[int, str], Portal] = {}
    for tunnel, tunnel_m in sorted(TUNNEL_LENGTH_M.items()):
        t = places[tunnel]
        half = tunnel_m / 2.0
        wid = way_id(f"tunnel|{tunnel}")
        main = _mainline(tunnel, segments)
        side_portals: list[Portal] = []
        # Both portals sit at the same straight-line distance from the tunnel node, so a
        # loader splitting the tunnel's `length` tag by straight length gives each side half.
        straight_half = half * min(_crow_ratio(s, places) for s in main)
        for k, seg in enumerate(main, start=1):
            far = places[_other_end(seg, tunnel)]
            if seg.length_m <= half + 100.0:
                raise ValueError(f"segment {seg.a} – {seg.b} shorter than half of {tunnel}")
            crow_m = great_circle_m(t.lat, t.lon, far.lat, far.lon)
            lat, lon = lerp((t.lat, t.lon), (far.lat, far.lon), straight_half / crow_m)
            portal = Portal(net.add_node(shape_id(wid, k), lat, lon), lat, lon, half)
            portals[(seg.row, tunnel)] = portal
            side_portals.append(portal)
        for seg in segments:
            if tunnel in (seg.a, seg.b) and seg not in main:
                far = places[_other_end(seg, tunnel)]
                nearest = min(
                    side_portals, key=lambda p: great_circle_m(p.lat, p.lon, far.lat, far.lon)
                )
                portals[(seg.row, tunnel)] = nearest
        first, second = (places[_other_end(s, tunnel)].name for s in main)
        tags = {
            "highway": main[0].road_class,
            "tunnel": "yes",
            "layer": "-1",
            "name": tunnel,
            "length": f"{tunnel_m:.0f}",
            "note": f"between {first} and {second}; length published (SOURCE.md)",
        }
        if main[0].surface:
            tags["surface"] = main[0].surface
        # The bore lies under the worse terrain of its two approaches (its speed is the
        # tunnel speed anyway, see Settings.tunnel_speed_kph).
        tags["terrain"] = max((s.terrain for s in main), key=TERRAIN_ORDER.index)
        refs = {s.ref for s in main if s.ref}
        if len(refs) == 1:
            tags["ref"] = refs.pop()
        node_seq = [side_portals[0].node, place_id(t), side_portals[1].node]
        net.ways.append(Way(wid, node_seq, tags))
    return portals


def segment_tags(seg: Segment, length_m: float) -> dict[str, str]:
    """OSM tags of one corridor way (length already shortened by tunnel halves)."""
    tags = {"highway": seg.road_class, "name": f"{seg.a} – {seg.b}", "length": f"{length_m:.0f}"}
    if seg.surface:
        tags["surface"] = seg.surface
    if seg.ref:
        tags["ref"] = seg.ref
    tags["terrain"] = seg.terrain
    if seg.smoothness:
        tags["smoothness"] = seg.smoothness
    if seg.winter_risk == "avalanche_risk":
        tags["hazard"] = "avalanche"
    elif seg.winter_risk == "pass_closure_risk":
        tags["seasonal:winter"] = "closed"
    basis = "published" if seg.published else "estimated"
    tags["note"] = f"confidence {seg.confidence}; length {basis} (corridors.csv row {seg.row + 2})"
    tags["source"] = "tj_road_corridors/corridors.csv"
    return tags


def build_segment(
    seg: Segment,
    places: dict[str, Place],
    portals: dict[tuple[int, str], Portal],
    net: Network,
    spacing_m: float,
) -> None:
    """Add one segment way with straight-line shape nodes about every ``spacing_m``."""
    wid = way_id(f"segment|{seg.a}|{seg.b}")
    ends: list[tuple[int, float, float]] = []
    length_m = seg.length_m
    for name in (seg.a, seg.b):
        portal = portals.get((seg.row, name))
        if portal is not None:
            ends.append((portal.node, portal.lat, portal.lon))
            length_m -= portal.cut_m
        else:
            p = places[name]
            ends.append((place_id(p), p.lat, p.lon))
    pieces = max(1, math.ceil(length_m / spacing_m))
    node_seq = [ends[0][0]]
    for k in range(1, pieces):
        lat, lon = lerp(ends[0][1:], ends[1][1:], k / pieces)
        node_seq.append(net.add_node(shape_id(wid, k), lat, lon))
    node_seq.append(ends[1][0])
    net.ways.append(Way(wid, node_seq, segment_tags(seg, length_m)))


def build_network(places: dict[str, Place], segments: list[Segment], spacing_m: float) -> Network:
    """Place nodes, tunnel ways and segment ways; ids checked for collisions."""
    net = Network()
    for place in places.values():
        tags = {"name": place.name}
        if place.is_tunnel:
            tags["tunnel"] = "yes"
        else:
            tags["place"] = "town"
        if place.geonameid is not None:
            tags["geonameid"] = str(place.geonameid)
        net.add_node(place_id(place), round(place.lat, 7), round(place.lon, 7), tags)
    if len(net.nodes) != len(places):
        raise ValueError("two places share a node id")
    portals = build_tunnels(places, segments, net)
    for seg in segments:
        build_segment(seg, places, portals, net, spacing_m)
    if len({w.id for w in net.ways}) != len(net.ways):
        raise ValueError("two ways share an id")
    return net


# --- writing ------------------------------------------------------------------------


def _tag_lines(tags: dict[str, str], indent: str) -> list[str]:
    return [f"{indent}<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]


def to_osm_xml(net: Network) -> str:
    """The network as OSM XML 0.6 text (nodes then ways, each sorted by id)."""
    if "--" in FILE_COMMENT:
        raise ValueError("XML comments must not contain '--'")
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<!--{FILE_COMMENT}-->",
        '<osm version="0.6" generator="coverage tools/author_trunk_network.py" upload="false">',
    ]
    for nid in sorted(net.nodes):
        lat, lon, tags = net.nodes[nid]
        attrs = f'id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        if tags:
            lines.append(f"  <node {attrs}>")
            lines += _tag_lines(tags, "    ")
            lines.append("  </node>")
        else:
            lines.append(f"  <node {attrs}/>")
    for way in sorted(net.ways, key=lambda w: w.id):
        lines.append(f'  <way id="{way.id}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in way.nodes]
        lines += _tag_lines(way.tags, "    ")
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def default_corridors() -> Path | None:
    mirror = config.mirror_dir()
    return mirror / "tj_road_corridors" / "corridors.csv" if mirror else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corridors", nargs="?", type=Path, default=default_corridors(),
                        help="corridors.csv (default: <mirror>/tj_road_corridors/corridors.csv)")
    parser.add_argument("--out", type=Path, default=config.DEFAULT_NETWORK,
                        help=f"output OSM XML (default: {config.DEFAULT_NETWORK})")
    parser.add_argument("--spacing-km", type=float, default=10.0,
                        help="distance between straight-line shape nodes (km)")
    args = parser.parse_args(argv)
    if args.corridors is None or not Path(args.corridors).exists():
        parser.error(f"corridors.csv not found: {args.corridors} (set COVERAGE_MIRROR or pass it)")
    places, segments = read_corridors(Path(args.corridors))
    net = build_network(places, segments, args.spacing_km * 1000.0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_osm_xml(net), encoding="utf-8")
    print(f"wrote {args.out}: {len(net.nodes)} nodes, {len(net.ways)} ways "
          f"({len(places)} places, {len(segments)} segments, {len(TUNNEL_LENGTH_M)} tunnels)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

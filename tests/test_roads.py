"""Road network loading: the authored trunk file, a real-OSM-style file, speeds, caching."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from coverage import config
from coverage.config import Settings
from coverage.engine import roads

SETTINGS = Settings()  # defaults, whatever a developer's coverage.toml says


@pytest.fixture(scope="module")
def summer():
    return roads.load_graph(config.DEFAULT_NETWORK, "summer", SETTINGS)


@pytest.fixture(scope="module")
def winter():
    return roads.load_graph(config.DEFAULT_NETWORK, "winter", SETTINGS)


def _names(G) -> set[str]:
    return {d["name"] for _n, d in G.nodes(data=True) if d.get("name")}


def _edges_named(G, a: str, b: str):
    return [d for u, v, d in G.edges(data=True)
            if G.nodes[u].get("name") == a and G.nodes[v].get("name") == b]


def test_authored_file_loads_with_positive_minutes(summer):
    assert summer.number_of_edges() > 90
    minutes = [d["travel_min"] for _u, _v, d in summer.edges(data=True)]
    assert min(minutes) > 0
    assert {"Khujand", "Bokhtar", "Kŭlob", "Dushanbe", "Tavildara"} <= _names(summer)
    assert summer.graph["dropped_share"] == 0.0
    assert summer.graph["season"] == "summer"


def test_length_tag_is_honoured_and_split(summer):
    # Istaravshan–Khujand is published as 78 km; the straight line is ~67 km.
    (edge,) = _edges_named(summer, "Istaravshan", "Khujand")
    assert edge["length"] == pytest.approx(78_000, abs=2)
    # Varzob → tunnel node = 50.4 km segment minus half the tunnel + that half (5,040 m tunnel).
    (edge,) = _edges_named(summer, "Varzob", "Anzob (Istiqlol) tunnel")
    assert edge["length"] == pytest.approx(50_400, abs=2)


def test_tunnel_is_slower_than_trunk(summer):
    (edge,) = _edges_named(summer, "Varzob", "Anzob (Istiqlol) tunnel")
    trunk_only = edge["length"] / 1000 / SETTINGS.highway_speed_kph["trunk"] * 60
    assert edge["travel_min"] > trunk_only + 1.0


def test_winter_drops_tavildara_and_slows_m34(summer, winter):
    closed = [d for _u, _v, d in summer.edges(data=True) if d.get("seasonal:winter") == "closed"]
    assert len(closed) == 4  # Darband–Tavildara–Qalaikhumb, both directions
    assert not [d for _u, _v, d in winter.edges(data=True) if d.get("seasonal:winter")]
    assert "Tavildara" not in _names(winter)
    assert winter.graph["dropped_share"] > 0  # Tavildara is cut off
    (s,) = _edges_named(summer, "Varzob", "Anzob (Istiqlol) tunnel")
    (w,) = _edges_named(winter, "Varzob", "Anzob (Istiqlol) tunnel")
    assert w["travel_min"] > s["travel_min"]


def test_every_authored_way_has_a_terrain_and_the_pamir_roads_are_slow(summer):
    terrains = set()  # osmnx gives a list where a simplified edge joins several ways
    for _u, _v, d in summer.edges(data=True):
        value = d.get("terrain")
        terrains |= set(value) if isinstance(value, list) else {value}
    assert terrains == set(config.TERRAIN_SPEED_FACTOR)  # every way tagged, every class used
    (panj,) = _edges_named(summer, "Shŭrobod", "Qalaikhumb")
    (fergana,) = _edges_named(summer, "Ghafurov", "Konibodom")
    assert panj["terrain"] == "high_mountain" and panj["smoothness"] == "bad"
    assert fergana["terrain"] == "plain" and "smoothness" not in fergana
    panj_kph = panj["length"] / 1000 / (panj["travel_min"] / 60)
    assert panj_kph < 30 < fergana["length"] / 1000 / (fergana["travel_min"] / 60)


ONEWAY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="38.5600" lon="68.7800"><tag k="name" v="West"/></node>
  <node id="2" lat="38.5600" lon="68.7900"/>
  <node id="3" lat="38.5600" lon="68.8000"><tag k="name" v="East"/></node>
  <node id="4" lat="38.5800" lon="68.7900"/>
  <node id="5" lat="38.5500" lon="68.7900"/>
  <node id="6" lat="38.5510" lon="68.7910"/>
  <node id="7" lat="38.5520" lon="68.7900"/>
  <way id="10">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/><tag k="name" v="One-way St"/>
  </way>
  <way id="11">
    <nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="tertiary"/><tag k="surface" v="asphalt"/><tag k="maxspeed" v="30"/>
  </way>
  <way id="12">
    <nd ref="2"/><nd ref="5"/>
    <tag k="highway" v="footway"/>
  </way>
  <way id="13">
    <nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="5"/>
    <tag k="building" v="yes"/>
  </way>
</osm>
"""


def write_oneway_osm(directory: Path) -> Path:
    path = directory / "oneway.osm"
    path.write_text(ONEWAY_OSM, encoding="utf-8")
    return path


def test_real_osm_style_file_without_length_tags(tmp_path):
    G = roads.load_graph(write_oneway_osm(tmp_path), "summer", SETTINGS)
    # footway and building dropped; shape nodes 2 and 4 simplified into the West/East edges
    assert set(G.nodes) == {1, 3}
    assert {d.get("highway") for _u, _v, d in G.edges(data=True)} <= {"residential", "tertiary"}
    west_east = G.get_edge_data(1, 3)
    assert west_east is not None and G.get_edge_data(3, 1) is not None
    one_way = [d for d in G.get_edge_data(1, 3).values() if d.get("name") == "One-way St"]
    back = [d for d in G.get_edge_data(3, 1).values() if d.get("name") == "One-way St"]
    assert one_way and not back
    # No length tag: osmnx's great-circle length (0.02° of longitude at 38.56° N ≈ 1.74 km).
    assert one_way[0]["length"] == pytest.approx(1740, rel=0.01)
    assert one_way[0]["travel_min"] == pytest.approx(1.740 / 20 * 60, rel=0.01)
    # maxspeed=30 caps the tertiary class speed (35 km/h).
    detour = [d for d in G.get_edge_data(3, 1).values() if d.get("highway") == "tertiary"][0]
    assert detour["speed_kph"] == pytest.approx(30.0)


def test_unknown_format_is_refused(tmp_path):
    bad = tmp_path / "roads.shp"
    bad.write_text("x")
    with pytest.raises(roads.NetworkFormatError, match="unknown road network format"):
        roads.load_graph(bad, "summer", SETTINGS)


def _to_pbf(xml: Path, out: Path) -> Path:
    """The same OSM data as .osm.pbf, written by libosmium (as a Geofabrik extract is)."""
    import osmium

    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    return out


def _edge_table(G) -> list[tuple]:
    return sorted((u, v, str(d.get("name")), str(d.get("highway")), round(d["length"], 3), round(d["travel_min"], 6))
                  for u, v, d in G.edges(data=True))


@pytest.mark.parametrize("source", ["oneway", "trunk"])
def test_pbf_extract_loads_like_the_same_data_as_xml(tmp_path, source):
    xml = write_oneway_osm(tmp_path) if source == "oneway" else config.DEFAULT_NETWORK
    pbf = _to_pbf(xml, tmp_path / f"{source}.osm.pbf")
    from_xml = roads.load_graph(xml, "winter", SETTINGS)
    from_pbf = roads.load_graph(pbf, "winter", SETTINGS)
    assert _edge_table(from_pbf) == _edge_table(from_xml)
    assert _names(from_pbf) == _names(from_xml)  # node tags (town names) survive the conversion


def test_route_by_town_name_on_a_pbf_extract(tmp_path):
    from coverage.engine import travel

    pbf = _to_pbf(config.DEFAULT_NETWORK, tmp_path / "tj.osm.pbf")
    network = roads.load_network(pbf, season="summer", settings=SETTINGS, cache_dir=tmp_path / "cache")
    trip = travel.route(network, "Khujand", "Bokhtar")
    assert 6 * 60 <= trip.minutes <= 8 * 60


def test_damaged_pbf_gets_a_clear_message(tmp_path):
    pbf = tmp_path / "tj.osm.pbf"
    pbf.write_bytes(b"\0")
    with pytest.raises(roads.NetworkFormatError, match="not a readable OpenStreetMap file"):
        roads.load_graph(pbf, "summer", SETTINGS)


def test_season_is_validated():
    with pytest.raises(ValueError, match="season"):
        roads.load_graph(config.DEFAULT_NETWORK, "spring", SETTINGS)


@pytest.mark.parametrize(
    ("tags", "season", "expected"),
    [
        ({"highway": "trunk"}, "summer", 65.0),
        ({"highway": ["track", "trunk"]}, "summer", 15.0),  # osmnx list: first known class
        ({"highway": "trunk", "surface": "gravel"}, "summer", 65.0 * 0.65),
        ({"highway": "trunk", "tunnel": "yes"}, "summer", 40.0),
        ({"highway": "trunk", "maxspeed": "50"}, "summer", 50.0),
        ({"highway": "trunk", "maxspeed": "RU:rural"}, "summer", 65.0),
        ({"highway": "trunk", "hazard": "avalanche"}, "winter", 65.0 * 0.75),
        ({"highway": "trunk", "hazard": "avalanche"}, "summer", 65.0),
        ({"highway": "primary", "seasonal:winter": "closed"}, "winter", None),
        ({"highway": "primary", "access:conditional": "no @ (Dec-Apr)"}, "winter", None),
        ({"highway": "weird"}, "summer", SETTINGS.default_speed_kph),
        ({"highway": "trunk", "terrain": "plain"}, "summer", 65.0),
        ({"highway": "trunk", "terrain": "high_mountain"}, "summer", 65.0 * 0.8),
        ({"highway": "primary", "terrain": ["hill", "mountain"]}, "summer", 55.0 * 0.9),
        ({"highway": "trunk", "terrain": "moon"}, "summer", 65.0),  # unknown terrain: class speed
        ({"highway": "trunk", "smoothness": "bad"}, "summer", 65.0 * 0.5),
        # the worse of surface and smoothness, not both: gravel already drives rough
        ({"highway": "primary", "surface": "gravel", "smoothness": "bad", "terrain": "mountain"},
         "summer", 55.0 * 0.9 * 0.5),
        ({"highway": "trunk", "terrain": "high_mountain", "hazard": "avalanche"}, "winter",
         65.0 * 0.8 * 0.75),
        ({"highway": "trunk", "terrain": "high_mountain", "tunnel": "yes"}, "summer", 40.0),
    ],
)
def test_edge_speed(tags, season, expected):
    speed = roads.edge_speed_kph(tags, SETTINGS, season)
    assert speed == (None if expected is None else pytest.approx(expected))


def test_length_tag_parsing():
    assert roads.parse_length_m("5040") == 5040
    assert roads.parse_length_m("5.04 km") == pytest.approx(5040)
    assert roads.parse_length_m("long") is None


def test_routing_network_arrays(tmp_path):
    net = roads.load_network(config.DEFAULT_NETWORK, "summer", SETTINGS, cache_dir=tmp_path)
    assert net.sparse and net.season == "summer"
    assert net.matrix.shape == net.length_m.shape == (net.n_nodes, net.n_nodes)
    assert np.array_equal(net.matrix.indices, net.length_m.indices)
    assert net.node_xy.shape == (net.n_nodes, 2)
    # UTM 42N eastings/northings for Tajikistan.
    assert 100_000 < net.node_xy[:, 0].min() and net.node_xy[:, 0].max() < 900_000
    assert 4_000_000 < net.node_xy[:, 1].min() < net.node_xy[:, 1].max() < 4_600_000
    assert (net.matrix.data > 0).all()


def test_load_network_caches_in_memory_and_on_disk(tmp_path):
    messages: list[str] = []
    first = roads.load_network(config.DEFAULT_NETWORK, "winter", SETTINGS, messages.append,
                               cache_dir=tmp_path)
    assert messages  # progress was reported during the build
    assert roads.load_network(config.DEFAULT_NETWORK, "winter", SETTINGS, cache_dir=tmp_path) is first
    assert list((tmp_path / "routing").glob("*.npz"))
    roads.clear_memory_cache()
    messages.clear()
    again = roads.load_network(config.DEFAULT_NETWORK, "winter", SETTINGS, messages.append,
                               cache_dir=tmp_path)
    assert not messages  # read from disk, not rebuilt
    assert again is not first
    assert np.array_equal(again.matrix.toarray(), first.matrix.toarray())
    assert list(again.node_names) == list(first.node_names)
    faster = dataclasses.replace(SETTINGS, highway_speed_kph={**SETTINGS.highway_speed_kph,
                                                              "trunk": 80.0})
    other = roads.load_network(config.DEFAULT_NETWORK, "winter", faster, cache_dir=tmp_path)
    assert other.matrix.sum() < first.matrix.sum()


def test_snap_all_points_at_once(tmp_path):
    net = roads.load_network(config.DEFAULT_NETWORK, "summer", SETTINGS, cache_dir=tmp_path)
    khujand = net.node_lonlat[list(net.node_names).index("Khujand")]
    points = np.array([khujand + [0.01, 0.0], [np.nan, np.nan]])
    index, distance = roads.snap(net, points)
    assert net.node_names[index[0]] == "Khujand"
    assert 700 < distance[0] < 1000  # 0.01° of longitude at 40.3° N ≈ 850 m
    assert index[1] == -1 and np.isinf(distance[1])


def test_winter_roads_names_the_tagged_ways_of_the_default_network():
    """Against the authored file read independently: every way tagged closed in winter is
    listed closed with its length tag in km, every avalanche way (not closed) slowed."""
    import xml.etree.ElementTree as ET

    from coverage.engine.winter_roads import winter_roads

    expected: dict[tuple[str, str], float] = {}
    for way in ET.parse(config.DEFAULT_NETWORK).getroot().iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        status = ("closed" if tags.get("seasonal:winter") == "closed"
                  else "slowed" if tags.get("hazard") == "avalanche" else None)
        if status:
            key = (tags.get("name", ""), status)
            expected[key] = expected.get(key, 0.0) + float(tags["length"]) / 1000.0
    found = winter_roads(config.DEFAULT_NETWORK)
    assert {"closed", "slowed"} <= set(found["status"])
    got = {(r.name, r.status): r.km for r in found.itertuples()}
    assert got.keys() == expected.keys()
    assert all(abs(got[k] - expected[k]) < 1e-6 for k in expected)
    assert list(found["status"]).index("slowed") == (found["status"] == "closed").sum()  # closed first


def test_winter_roads_of_a_file_without_seasonal_tags_is_empty(tmp_path):
    from coverage.analysis.seasons import winter_roads_line
    from coverage.engine.winter_roads import winter_roads

    path = tmp_path / "plain.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="38.5" lon="68.7"/><node id="2" lat="38.6" lon="68.8"/>'
        '<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/><tag k="name" v="A"/></way>'
        '<way id="11"><nd ref="2"/><nd ref="1"/><tag k="highway" v="footway"/><tag k="hazard" v="avalanche"/></way>'
        '</osm>', encoding="utf-8")
    found = winter_roads(path)
    assert found.empty  # the avalanche footway is not a road the engine drives
    assert "none" in winter_roads_line(found)

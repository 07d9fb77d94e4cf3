"""Travel engine: route times, name matching, engine equality with networkx, one-way streets."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import scipy.sparse
from test_roads import write_oneway_osm  # same module pytest collected (tests/ on sys.path)

from coverage import config
from coverage.config import Settings, load_settings
from coverage.engine import roads, travel

SETTINGS = Settings()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("routing-cache")


@pytest.fixture(scope="module")
def summer(cache):
    return roads.load_network(config.DEFAULT_NETWORK, "summer", SETTINGS, cache_dir=cache)


@pytest.fixture(scope="module")
def winter(cache):
    return roads.load_network(config.DEFAULT_NETWORK, "winter", SETTINGS, cache_dir=cache)


# --- routes -----------------------------------------------------------------------------


def test_khujand_bokhtar_takes_six_to_eight_hours(summer):
    r = travel.route(summer, "Khujand", "Bokhtar")
    assert 6 * 60 <= r.minutes <= 8 * 60
    assert r.km == pytest.approx(420, abs=5)
    assert r.towns[0] == "Khujand" and r.towns[-1] == "Bokhtar" and "Dushanbe" in r.towns


def test_dushanbe_khujand_takes_four_and_a_half_to_six_hours(summer):
    r = travel.route(summer, "Dushanbe", "Khujand")
    assert 4.5 * 60 <= r.minutes <= 6 * 60
    assert r.km == pytest.approx(330, abs=3)
    assert "Anzob (Istiqlol) tunnel" in r.towns and "Shahriston tunnel" in r.towns


def published_trips() -> list[tuple[str, str, float, float]]:
    """The published summer trip times (hours) the default network is checked against."""
    mirror = config.mirror_dir()
    table = mirror / "tj_road_corridors" / "published_trip_times.csv" if mirror else None
    if table is None or not table.exists():
        pytest.fail("published_trip_times.csv missing: set COVERAGE_MIRROR to the data mirror")
    import pandas as pd

    trips = pd.read_csv(table)
    return list(trips[["from_place", "to_place", "low_h", "high_h"]].itertuples(index=False, name=None))


def test_every_published_trip_falls_inside_its_range(summer):
    trips = published_trips()
    assert {(a, b) for a, b, _lo, _hi in trips} >= {("Dushanbe", "Khujand"), ("Dushanbe", "Qalaikhumb")}
    outside = []
    for origin, destination, low_h, high_h in trips:
        minutes = travel.route(summer, origin, destination).minutes
        if not low_h * 60 <= minutes <= high_h * 60:
            outside.append((origin, destination, round(minutes), low_h, high_h))
    assert not outside


def test_dushanbe_qalaikhumb_is_a_mountain_trip_in_both_seasons(summer, winter):
    # Was 5 h 46 min when the Panj road drove like the plains; travellers: 8 h by car,
    # 9-12 h by shared 4WD. In winter the Khaburabot pass is closed: via Kulob, slower.
    summer_trip = travel.route(summer, "Dushanbe", "Qalaikhumb")
    winter_trip = travel.route(winter, "Dushanbe", "Qalaikhumb")
    assert 8 * 60 <= summer_trip.minutes <= 12 * 60
    assert "Kŭlob" in winter_trip.towns and "Tavildara" not in winter_trip.towns
    assert winter_trip.minutes > summer_trip.minutes
    kulob_leg = travel.route(summer, "Kulob", "Qalaikhumb")
    assert kulob_leg.minutes / 60 > kulob_leg.km / 35  # slower than 35 km/h on average


def test_terrain_factors_are_overridable_in_coverage_toml(tmp_path, cache, summer):
    toml = tmp_path / "coverage.toml"
    toml.write_text("[terrain_speed_factor]\nhigh_mountain = 1.0\n"
                    "[smoothness_speed_factor]\nbad = 1.0\n", encoding="utf-8")
    flat = load_settings(path=toml, env={})
    assert flat.terrain_speed_factor["mountain"] == config.TERRAIN_SPEED_FACTOR["mountain"]
    net = roads.load_network(config.DEFAULT_NETWORK, "summer", flat, cache_dir=cache)
    assert travel.route(net, "Kulob", "Qalaikhumb").minutes < travel.route(
        summer, "Kulob", "Qalaikhumb").minutes - 60


def test_winter_is_slower_on_m34(summer, winter):
    assert travel.route(winter, "Khujand", "Dushanbe").minutes > travel.route(
        summer, "Khujand", "Dushanbe").minutes


def test_names_match_without_accents_case_or_apostrophes(summer):
    assert travel.route(summer, "kulob", "AYNI").towns[0] == "Kŭlob"
    assert travel.route(summer, "Muminobod", "Kulob").towns[0] == "Mŭ’minobod"
    assert travel.route(summer, "Ozodi tunnel", "Norak").towns[0] == "Ozodi (Shar-Shar) tunnel"


def test_unknown_name_lists_close_matches(summer, winter):
    with pytest.raises(ValueError, match="Kŭlob"):
        travel.route(summer, "Kulab", "Dushanbe")
    with pytest.raises(ValueError, match="Tavildara|no place"):
        travel.route(winter, "Tavildara", "Dushanbe")


def test_settings_toml_override_changes_route_time(tmp_path, cache, summer):
    toml = tmp_path / "coverage.toml"
    toml.write_text("[highway_speed_kph]\ntrunk = 90\n", encoding="utf-8")
    fast = load_settings(path=toml, env={})
    assert fast.highway_speed_kph["trunk"] == 90 and fast.highway_speed_kph["primary"] == 55
    net = roads.load_network(config.DEFAULT_NETWORK, "summer", fast, cache_dir=cache)
    assert travel.route(net, "Dushanbe", "Khujand").minutes < travel.route(
        summer, "Dushanbe", "Khujand").minutes - 30


# --- engine equality ----------------------------------------------------------------------


def networkx_multi_source(matrix: scipy.sparse.csr_array, nodes, offsets) -> np.ndarray:
    """Reference: networkx on the *reversed* road graph from one virtual node per source."""
    G = nx.from_scipy_sparse_array(matrix, create_using=nx.DiGraph).reverse(copy=True)
    virtual = [("v", i) for i in range(len(nodes))]
    G.add_weighted_edges_from(zip(virtual, map(int, nodes), map(float, offsets)))
    lengths = nx.multi_source_dijkstra_path_length(G, virtual)
    out = np.full(matrix.shape[0], np.inf)
    for node, minutes in lengths.items():
        if not isinstance(node, tuple):
            out[node] = minutes
    return out


def random_road_matrix(n: int, m: int, seed: int) -> scipy.sparse.csr_array:
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.uniform(0.5, 30.0, m)
    w[rng.random(m) < 0.02] = 0.0  # zero-minute links must still count as links
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    minutes, _ = roads.edge_arrays_to_csr(u, v, w, w * 1000, n)
    return minutes


def test_engine_equals_networkx_on_random_graph():
    matrix = random_road_matrix(400, 1400, seed=3)
    rng = np.random.default_rng(4)
    nodes = rng.choice(400, 7, replace=False)
    offsets = rng.uniform(0, 15, 7)
    offsets[0] = 0.0
    dist, nearest = travel.multi_source_minutes(matrix.T.tocsr(), nodes, offsets)
    expected = networkx_multi_source(matrix, nodes, offsets)
    assert np.allclose(dist, expected)
    assert (np.isfinite(dist) == (nearest >= 0)).all()
    # `nearest` names a service that really achieves the minimum.
    per_source = scipy.sparse.csgraph.dijkstra(matrix.T.tocsr(), indices=nodes)
    reached = np.flatnonzero(nearest >= 0)
    via = per_source[nearest[reached], reached] + offsets[nearest[reached]]
    assert np.allclose(via, dist[reached])


def _points(lonlat: np.ndarray, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        columns, geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=config.CRS_STORE
    )


def test_nearest_service_times_equal_networkx_on_default_network(summer):
    rng = np.random.default_rng(11)
    lonlat = np.column_stack([rng.uniform(67.5, 71.5, 300), rng.uniform(36.9, 40.9, 300)])
    communities = _points(lonlat, community_id=[f"c{i}" for i in range(300)])
    svc_nodes = rng.choice(summer.n_nodes, 6, replace=False)
    svc_lonlat = summer.node_lonlat[svc_nodes] + rng.uniform(-0.05, 0.05, (6, 2))
    services = _points(svc_lonlat, service_id=[f"s{i}" for i in range(6)],
                       type=["shelter"] * 4 + ["legal_aid"] * 2)
    times = travel.nearest_service_times(summer, communities, services, SETTINGS)
    assert list(times.columns) == list(travel.TIMES_COLUMNS)
    assert len(times) == 600 and set(times["service_type"]) == {"shelter", "legal_aid"}

    # Communities and services join the road at any of their k nearest nodes.
    k = SETTINGS.snap_candidates
    com_xy = roads.points_xy(communities)
    com_node, com_d = roads.snap_candidates(summer, com_xy, k)
    com_access = travel.access_minutes(com_d, summer, SETTINGS)
    for stype, group in services.groupby("type"):
        s_node, s_d = roads.snap_candidates(summer, roads.points_xy(group), k)
        s_access = travel.access_minutes(s_d, summer, SETTINGS)
        to_service = networkx_multi_source(summer.matrix, s_node.ravel(), s_access.ravel())
        by_road = (to_service[com_node] + com_access).min(axis=1)
        straight = np.hypot(*(com_xy[:, None, :] - roads.points_xy(group)[None, :, :]).T).T
        direct = travel.access_minutes(straight.min(axis=1), summer, SETTINGS)
        rows = times[times["service_type"] == stype].set_index("community_id")
        rows = rows.loc[communities["community_id"]]
        assert np.allclose(rows["minutes"], np.minimum(by_road, direct))
        road_rows = ~rows["direct"].to_numpy()
        assert road_rows.any() and (~road_rows).any()
        assert np.allclose(rows["minutes"].to_numpy()[road_rows], by_road[road_rows])
        assert np.allclose(rows["minutes"], rows["access_minutes"] + rows["network_minutes"])
        assert set(rows["service_id"]) <= set(group["service_id"])


# --- one-way streets: travel runs community → service ----------------------------------------


def test_one_way_street_is_used_in_the_travel_direction_only(tmp_path):
    net = roads.load_network(write_oneway_osm(tmp_path), "summer", SETTINGS,
                             cache_dir=tmp_path / "cache")
    west, east = (int(np.flatnonzero(net.node_names == name)[0]) for name in ("West", "East"))
    # Slow walking off-road so the straight-line shortcut never wins.
    slow = dataclasses.replace(SETTINGS, access_speed_sparse_kph=0.1)

    def trip(origin: int, destination: int) -> float:
        community = _points(net.node_lonlat[[origin]], community_id=["c"])
        service = _points(net.node_lonlat[[destination]], service_id=["s"], type=["shelter"])
        row = travel.nearest_service_times(net, community, service, slow).iloc[0]
        assert not row["direct"] and row["service_id"] == "s"
        return float(row["minutes"])

    one_way = 1.740 / 20 * 60  # residential one-way street West → East, ~5.2 min
    assert trip(west, east) == pytest.approx(one_way, rel=0.02)
    # East → West must take the tertiary detour (maxspeed 30) through the northern node.
    assert trip(east, west) > one_way * 1.2
    assert trip(east, west) == pytest.approx(
        travel.route(net, "East", "West").minutes, rel=1e-9)


def test_unreachable_and_empty_inputs(summer):
    communities = _points(np.array([[69.0, 38.5]]), community_id=["c"])
    no_services = _points(np.empty((0, 2)), service_id=[], type=[])
    empty = travel.nearest_service_times(summer, communities, no_services, SETTINGS)
    assert empty.empty and list(empty.columns) == list(travel.TIMES_COLUMNS)
    dist, nearest = travel.multi_source_minutes(summer.matrix_t, np.array([], int), np.array([]))
    assert np.isinf(dist).all() and (nearest == -1).all()

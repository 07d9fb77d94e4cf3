"""Location-allocation (analysis/allocation.py): hand-made instances whose optimum is worked out
below, brute force on small random ones, and the default data checked against a direct engine run."""

from __future__ import annotations

import itertools
import re

import geopandas as gpd
import numpy as np
import pytest

from coverage import analysis, config
from coverage.analysis import allocation, gaps
from coverage.cli import main
from coverage.config import Settings
from coverage.engine import od, roads, travel
from coverage.errors import InputError

INF = np.inf
SETTINGS = Settings()


# --- MCLP by hand -------------------------------------------------------------------------
# Communities 0-5 weigh 10 each; community 6 weighs 1000 and is already within 60 min of an
# existing site. Candidates (cover = within 60 min):
#   BIG   covers 1, 2, 3, 4 and 6   → adds 40 (6 is covered already; 1040 if that were ignored)
#   LEFT  covers 0, 1, 2            → adds 30
#   RIGHT covers 3, 4, 5            → adds 30
#   FAR   covers nothing
# k = 1: BIG (40). k = 2: LEFT + RIGHT = 60, while BIG + either = 50 (greedy would stop there).
MCLP_COVER = np.array([
    # BIG LEFT RIGHT FAR
    [0, 1, 0, 0],
    [1, 1, 0, 0],
    [1, 1, 0, 0],
    [1, 0, 1, 0],
    [1, 0, 1, 0],
    [0, 0, 1, 0],
    [1, 0, 0, 0],
], dtype=bool)
MCLP_WEIGHTS = np.array([10, 10, 10, 10, 10, 10, 1000], dtype=float)
MCLP_EXISTING = np.array([INF, INF, INF, INF, INF, INF, 10.0])


def _points(names: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": names, "kind": "user", "district": "", "region": ""},
                            geometry=gpd.points_from_xy(np.arange(len(names)) * 0.1 + 69.0, [38.5] * len(names)),
                            crs=config.CRS_STORE)


def test_mclp_hand_instance_counts_existing_coverage_and_beats_greedy():
    covered_now = MCLP_EXISTING <= 60
    assert list(allocation.solve_mclp(MCLP_COVER, covered_now, MCLP_WEIGHTS, 1)) == [0]
    assert list(allocation.solve_mclp(MCLP_COVER, covered_now, MCLP_WEIGHTS, 2)) == [1, 2]
    # Ignoring the existing site would favour BIG: the solver must not.
    assert 0 in allocation.solve_mclp(MCLP_COVER, np.zeros(7, dtype=bool), MCLP_WEIGHTS, 2)


def test_mclp_plan_lists_what_each_site_adds():
    minutes = np.where(MCLP_COVER, 30.0, 90.0)
    problem = allocation.SiteProblem(minutes=minutes, existing=MCLP_EXISTING, weights=MCLP_WEIGHTS)
    chosen = allocation.solve_mclp(minutes <= 60, MCLP_EXISTING <= 60, MCLP_WEIGHTS, 2)
    plan = allocation.plan_from_choice(chosen, problem, _points(["BIG", "LEFT", "RIGHT", "FAR"]), method="mclp",
                                       measure="women", threshold_min=60, optimal=True)
    assert set(plan.sites["name"]) == {"LEFT", "RIGHT"}
    assert list(plan.sites["adds"]) == [30, 30] and list(plan.sites["rank"]) == [1, 2]
    assert (plan.covered_before, plan.covered_after, plan.total, plan.adds) == (1000, 1060, 1060, 60)
    assert plan.sites.crs.to_epsg() == 4326


def test_mclp_with_more_sites_than_useful_candidates_still_returns_k():
    chosen = allocation.solve_mclp(MCLP_COVER, MCLP_EXISTING <= 60, MCLP_WEIGHTS, 4)
    assert list(chosen) == [0, 1, 2, 3]


# --- p-median by hand ---------------------------------------------------------------------
# Communities a, b, c weigh 1 each; the existing site is 100 min from each (300 in all).
#   MID   40, 40, 40   → saves 60 + 60 + 60 = 180 alone
#   L      0, 50, 100  → saves 100 + 50 = 150 alone
#   R    100, 50, 0    → saves 50 + 100 = 150 alone
# p = 1: MID (300 − 180 = 120 weighted minutes). p = 2: L + R leaves 0 + 50 + 0 = 50;
# MID + L leaves 0 + 40 + 40 = 80, MID + R the same: the greedy first pick (MID) is not in it.
PM_MINUTES = np.array([[40.0, 0.0, 100.0], [40.0, 50.0, 50.0], [40.0, 100.0, 0.0]])
PM_EXISTING = np.array([100.0, 100.0, 100.0])
PM_WEIGHTS = np.ones(3)


def test_pmedian_hand_instance():
    chosen, optimal = allocation.solve_pmedian(PM_MINUTES, PM_EXISTING, PM_WEIGHTS, 1)
    assert list(chosen) == [0] and optimal
    chosen, optimal = allocation.solve_pmedian(PM_MINUTES, PM_EXISTING, PM_WEIGHTS, 2)
    assert list(chosen) == [1, 2] and optimal
    problem = allocation.SiteProblem(minutes=PM_MINUTES, existing=PM_EXISTING, weights=PM_WEIGHTS)
    plan = allocation.plan_from_choice(chosen, problem, _points(["MID", "L", "R"]), method="pmedian",
                                       measure="population", threshold_min=60, optimal=optimal)
    assert plan.weighted_minutes_before == 300 and plan.weighted_minutes_after == 50
    assert plan.sites["minutes_saved"].sum() == pytest.approx(250)
    # L and R tie (150 minutes, two communities within 60 min each): the first listed leads;
    # then R saves c's 100 minutes and adds c (b is within 60 min of L already).
    assert list(plan.sites["name"]) == ["L", "R"]
    assert list(plan.sites["minutes_saved"]) == [150, 100]
    assert list(plan.sites["adds"]) == [2, 1]
    assert plan.covered_after == 3 and plan.covered_before == 0


def test_pmedian_existing_site_nearer_than_a_candidate_is_kept():
    # Community b already has a site 10 min away: only a and c can gain, and L + R still win.
    existing = np.array([100.0, 10.0, 100.0])
    chosen, _ = allocation.solve_pmedian(PM_MINUTES, existing, PM_WEIGHTS, 2)
    assert list(chosen) == [1, 2]
    # An unreachable community (inf) counts as a day: reaching it matters most.
    minutes = np.array([[5.0, INF], [INF, 5.0], [INF, 5.0]])
    chosen, _ = allocation.solve_pmedian(minutes, np.array([INF, 20.0, 20.0]), np.array([1.0, 5.0, 5.0]), 1)
    assert list(chosen) == [0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_solvers_equal_brute_force_on_small_random_instances(seed):
    rng = np.random.default_rng(seed)
    n, m, k = 30, 8, 3
    minutes = rng.uniform(5, 150, size=(n, m))
    minutes[rng.random((n, m)) < 0.1] = INF
    existing = rng.uniform(20, 200, size=n)
    existing[rng.random(n) < 0.2] = INF
    weights = rng.integers(1, 1000, size=n).astype(float)

    def covered(sites):
        best = np.minimum(existing, minutes[:, list(sites)].min(axis=1))
        return weights[best <= 60].sum()

    def weighted(sites):
        cap = config.UNREACHABLE_MINUTES
        return (weights * np.minimum(np.minimum(existing, cap),
                                     np.minimum(minutes[:, list(sites)], cap).min(axis=1))).sum()

    combos = list(itertools.combinations(range(m), k))
    chosen = allocation.solve_mclp(minutes <= 60, existing <= 60, weights, k)
    assert covered(chosen) == max(covered(c) for c in combos)
    chosen, optimal = allocation.solve_pmedian(minutes, existing, weights, k)
    assert optimal and weighted(chosen) == pytest.approx(min(weighted(c) for c in combos), rel=1e-9)


def test_bad_site_counts_are_clear_errors():
    for bad in (0, 5, 2.5):
        with pytest.raises(InputError) as caught:
            allocation.solve_mclp(MCLP_COVER, MCLP_EXISTING <= 60, MCLP_WEIGHTS, bad)
        assert caught.value.message_id == "allocation.site_count"
    with pytest.raises(InputError):
        allocation.solve_pmedian(PM_MINUTES, PM_EXISTING, PM_WEIGHTS, 4)


# --- the default data ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(prepared_data_dir) -> analysis.Inputs:
    return analysis.load_inputs(prepared_data_dir)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    return roads.load_network(config.DEFAULT_NETWORK, "summer", SETTINGS,
                              cache_dir=tmp_path_factory.mktemp("routing-cache"))


def _women_within(network, inputs, services, threshold_min):
    times = travel.nearest_service_times(network, inputs.communities, services, SETTINGS)
    com = gaps.community_gaps(times, inputs.communities, threshold_min, "crisis_centre")
    return int(com.loc[~com["underserved"], "women"].sum())


def test_default_candidates_are_towns_and_seats_once(inputs):
    cand = allocation.default_candidates(inputs)
    assert set(cand["kind"]) == {"town", "seat"}
    assert len(cand) >= 80 and cand["district"].ne("").mean() > 0.95
    # A seat that is also a listed town is one candidate; names shared by places further apart stay.
    keys = cand["name"].map(travel.normalise_name).to_numpy()
    xy = od.as_xy(cand)
    same = (keys[:, None] == keys[None, :]) & ~np.eye(len(cand), dtype=bool)
    assert (np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))[same] > config.CANDIDATE_MERGE_M).all()
    seats = allocation.default_candidates(inputs)["kind"].eq("seat").sum()
    assert seats < inputs.districts["seat"].fillna("").ne("").sum()  # some seats were towns already


def test_mclp_on_default_data_matches_a_direct_engine_run(inputs, network):
    plan = allocation.maximal_covering(inputs, "crisis_centre", k=2, threshold_min=60, network=network,
                                       settings=SETTINGS)
    existing = inputs.services[inputs.services["type"] == "crisis_centre"]
    assert plan.covered_before == _women_within(network, inputs, existing, 60)
    new = plan.sites.assign(service_id=["new-1", "new-2"], type="crisis_centre")[["service_id", "type", "geometry"]]
    with_new = gpd.GeoDataFrame(
        np.concatenate([existing[["service_id", "type", "geometry"]].to_numpy(), new.to_numpy()]),
        columns=["service_id", "type", "geometry"], geometry="geometry", crs=config.CRS_STORE)
    assert plan.covered_after == _women_within(network, inputs, with_new, 60)
    assert plan.sites["adds"].sum() == plan.adds > 0
    assert plan.sites["adds"].is_monotonic_decreasing
    # Two sites never add less than the best one alone.
    single = allocation.maximal_covering(inputs, "crisis_centre", k=1, threshold_min=60, network=network,
                                         settings=SETTINGS)
    assert plan.adds >= single.adds


def test_pmedian_on_default_data_saves_minutes(inputs, network):
    some = allocation.default_candidates(inputs).iloc[::4]  # a quarter of the towns: a quick solve
    plan = allocation.p_median(inputs, "crisis_centre", p=2, candidates=some, network=network, settings=SETTINGS)
    assert len(plan.sites) == 2 and plan.optimal
    assert plan.weighted_minutes_after < plan.weighted_minutes_before
    assert plan.sites["minutes_saved"].sum() == pytest.approx(
        plan.weighted_minutes_before - plan.weighted_minutes_after, rel=1e-9)


def test_candidates_by_name_and_unknown_names(inputs):
    picked = allocation.candidates_named(inputs, ["kulob", "Khorugh"])
    assert list(picked["name"].map(travel.normalise_name)) == ["kulob", "khorugh"]
    with pytest.raises(InputError) as caught:
        allocation.candidates_named(inputs, ["Atlantis"])
    assert caught.value.message_id == "allocation.unknown_candidate"


def test_cli_site_prints_sites_and_what_they_add(prepared_data_dir, capsys):
    code = main(["--data-dir", str(prepared_data_dir), "site", "--type", "crisis_centre", "--k", "2",
                 "--threshold", "60"])
    out = capsys.readouterr().out
    assert code == 0
    assert "adds" in out and "Women within 60 min of a crisis centre" in out
    assert "Running HiGHS" not in out
    assert not re.search(r"[\u0400-\u04FF]", out), "the English table names towns in Latin script"
    code = main(["--data-dir", str(prepared_data_dir), "site", "--k", "0"])
    assert code == 2 and "number of new sites" in capsys.readouterr().out

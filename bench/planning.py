"""Benchmark the planning engine: the candidate × community matrix and the location-allocation solves.

On a synthetic OSM extract (``bench/network.py``'s generator, ``tools/make_synthetic_extract.py``,
seeded and cached under ``out/bench/``; the default 1,000,000 raw nodes contract to more than
100,000 routing nodes) built by :func:`coverage.engine.roads.load_network`, with seeded
communities (default 2,646, the count of the real gazetteer) scattered up to 3 km around random
nodes, 300 candidate sites and 5 existing sites, it times:

- ``matrix_s``: :func:`coverage.engine.od.od_minutes` for all communities × 300 candidates,
  bounded at ``--limit`` minutes (one bounded multi-source Dijkstra call); ``matrix_full_s``
  the same bounded at :data:`coverage.config.UNREACHABLE_MINUTES` (what the p-median needs);
- ``baseline_s``: the same matrix one Dijkstra call per candidate (``od_minutes`` on one
  candidate at a time, unbounded), checked equal to the bounded matrix within the limit;
  ``speedup`` = ``baseline_s / matrix_s``;
- ``solve_s``: :func:`coverage.analysis.allocation.solve_mclp` (k = 5, threshold ``--limit``
  min) and :func:`~coverage.analysis.allocation.solve_pmedian` (p = 5), women weights, the 5
  existing sites fixed;
- ``scenario_s`` (``bench/scenario.py``): close one site (Najoti Kudakon's shelter in Kulob)
  and recompute every figure (all service types; overall, by region, by district, the
  communities that change) against a kept baseline, on the default data (target < 1 s) and on
  this extract with the real communities (target < 5 s); ``scenario_road_s`` closes a road too.

Target: ``matrix_s`` ≤ 5 s on ≥ 100,000 nodes. The network is built (or read from the cache)
and its transposed matrix and KD-tree made before timing, as in a dashboard session. Run
from the project root (not part of the test suite)::

    .venv/bin/python bench/planning.py [--nodes 1000000] [--communities 2646] [--candidates 300]
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "bench"))

from network import extract  # noqa: E402  (bench/network.py: the synthetic extract generator)

from coverage import config  # noqa: E402
from coverage.analysis import allocation  # noqa: E402
from coverage.config import Settings  # noqa: E402
from coverage.engine import od, roads  # noqa: E402

TARGET_MATRIX_S = 5.0
MIN_NODES = 100_000


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def points_near_nodes(network: roads.RoutingNetwork, count: int, spread_m: float,
                      rng: np.random.Generator) -> np.ndarray:
    """``count`` points (EPSG:32642 metres) up to ``spread_m`` from random network nodes."""
    centre = network.node_xy[rng.integers(0, network.n_nodes, count)]
    return centre + rng.uniform(-spread_m, spread_m, size=(count, 2))


def timed(label: str, func, *args, **kwargs):
    """``func(...)``, its wall-clock seconds; prints them with the CPU seconds of this process
    (a fairer figure on a shared, loaded machine) and the load average."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.3f} s (cpu {time.process_time() - cpu:.3f} s, load {os.getloadavg()[0]:.2f})",
          flush=True)
    return result, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="raw nodes of the synthetic extract")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--communities", type=int, default=2646)
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--existing", type=int, default=5)
    parser.add_argument("--limit", type=float, default=60.0, help="minutes: matrix bound and MCLP threshold")
    parser.add_argument("--sites", type=int, default=5, help="k of the MCLP and p of the p-median")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-scenario", action="store_true", help="leave out scenario_s")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    settings = Settings()
    path = extract(args.nodes, args.seed)
    network, build_s = timed("network (build or cache)", roads.load_network, path, "summer", settings,
                             cache_dir=PROJECT_ROOT / "out" / "bench" / "cache")
    _ = network.matrix_t, network.kdtree  # made once per session, before the timings
    print(f"{path.name}: {network.n_nodes:,} nodes, {network.matrix.nnz:,} edges, {os.cpu_count()} CPUs")
    if network.n_nodes < MIN_NODES:
        print(f"fewer than {MIN_NODES:,} nodes: raise --nodes")
        return 1
    rng = np.random.default_rng(args.seed)
    communities = points_near_nodes(network, args.communities, 3000.0, rng)
    candidates = points_near_nodes(network, args.candidates, 500.0, rng)
    existing_xy = points_near_nodes(network, args.existing, 500.0, rng)
    women = rng.integers(50, 5000, size=args.communities).astype(float)

    print(f"{args.communities:,} communities × {args.candidates} candidates:")
    bounded, matrix_s = timed(f"matrix_s (limit {args.limit:g} min)", od.od_minutes, network, communities,
                              candidates, limit_minutes=args.limit, settings=settings)
    # The p-median's matrix: minutes past UNREACHABLE_MINUTES count as that many anyway.
    full, matrix_full_s = timed(f"matrix_full_s (limit {config.UNREACHABLE_MINUTES:g} min, for the p-median)",
                                od.od_minutes, network, communities, candidates,
                                limit_minutes=config.UNREACHABLE_MINUTES, settings=settings)
    within = bounded <= args.limit
    assert np.array_equal(within, full <= args.limit) and np.allclose(bounded[within], full[within])
    baseline_s = None
    if not args.skip_baseline:
        def one_call_per_candidate() -> np.ndarray:
            return np.column_stack([od.od_minutes(network, communities, candidates[j:j + 1], settings=settings)
                                    for j in range(len(candidates))])
        per_candidate, baseline_s = timed("baseline_s (one Dijkstra call per candidate)", one_call_per_candidate)
        assert np.allclose(per_candidate[within], bounded[within])
        assert np.array_equal(per_candidate <= args.limit, within)

    existing = od.od_minutes(network, communities, existing_xy, settings=settings).min(axis=1)
    pairs = int((allocation.savings_matrix(full, existing, women) > 0).sum())
    timed("import spopt and pulp (once per process, not part of solve_s)", importlib.import_module, "spopt.locate")
    print(f"solves (k = p = {args.sites}, {args.existing} existing sites, threshold {args.limit:g} min; "
          f"p-median pairs nearer than an existing site: {pairs:,}):")
    chosen_mclp, mclp_s = timed("solve_s mclp", allocation.solve_mclp, bounded <= args.limit,
                                existing <= args.limit, women, args.sites)
    (chosen_pm, optimal), pmedian_s = timed("solve_s pmedian", allocation.solve_pmedian, full, existing, women,
                                            args.sites)
    print(f"  mclp sites {chosen_mclp.tolist()}; pmedian sites {chosen_pm.tolist()} "
          f"({'optimal' if optimal else 'time limit: best found'})")

    print(f"nodes={network.n_nodes} communities={args.communities} candidates={args.candidates}")
    print(f"matrix_s={matrix_s:.3f} (≤ {TARGET_MATRIX_S:g}) matrix_full_s={matrix_full_s:.3f}"
          + (f" baseline_s={baseline_s:.3f} speedup={baseline_s / matrix_s:.1f}" if baseline_s else ""))
    print(f"solve_s mclp={mclp_s:.3f} pmedian={pmedian_s:.3f} peak_rss_mb={peak_rss_mb():.0f}")
    ok = matrix_s <= TARGET_MATRIX_S
    if not args.skip_scenario:
        from scenario import TARGET_DEFAULT_S, TARGET_LARGE_S
        from scenario import measure as measure_scenario

        on_default, on_extract = measure_scenario(None, 3), measure_scenario(path, 3)
        print(f"scenario_s default={on_default['scenario_s']:.3f} (< {TARGET_DEFAULT_S:g}; "
              f"{on_default['nodes']} nodes) extract={on_extract['scenario_s']:.3f} (< {TARGET_LARGE_S:g}; "
              f"{on_extract['nodes']:,} nodes) scenario_road_s default={on_default['scenario_road_s']:.3f} "
              f"extract={on_extract['scenario_road_s']:.3f}")
        ok = ok and on_default["scenario_s"] < TARGET_DEFAULT_S and on_extract["scenario_s"] < TARGET_LARGE_S
    print("target met" if ok else "TARGET MISSED")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())

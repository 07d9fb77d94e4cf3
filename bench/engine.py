"""Benchmark the travel engine against networkx on a large road-like graph.

Builds a perturbed 2-D grid (default 640 × 640 = 409,600 nodes, ~0.5 km spacing) with some
roads removed, random diagonal roads, direction-dependent minutes (climbs are slower) and a
few one-way links, picks random service nodes with random access offsets for each of several
service types, and times, on the same transposed matrix:

- ``coverage.travel.multi_source_minutes`` (the csgraph multi-source call travel.py uses), and
- ``networkx.multi_source_dijkstra_path_length`` from one virtual node per service,

asserting equal minutes. Prints ``engine_s``, ``networkx_s``, ``speedup``, ``per_type_s`` and
``peak_rss_mb`` (process peak, from ``resource.getrusage``). Targets: speedup ≥ 20,
≤ 0.25 s per type, peak RSS < 1.5 GB. Run from the project root::

    .venv/bin/python bench/engine.py            # add --strict to exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse

from coverage.engine.travel import multi_source_minutes

PROJECT_ROOT = Path(__file__).resolve().parent.parent

TARGET_SPEEDUP = 20.0
TARGET_PER_TYPE_S = 0.25
TARGET_RSS_MB = 1500.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def road_grid(side: int, rng: np.random.Generator) -> scipy.sparse.csr_array:
    """Minutes matrix [from, to] of a perturbed ``side`` × ``side`` road grid."""
    n = side * side
    ids = np.arange(n).reshape(side, side)
    spacing_m = 500.0
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(n, 2)
    xy = xy * spacing_m + rng.uniform(-150, 150, size=(n, 2))
    height = rng.normal(0, 30, size=n).cumsum() % 400  # a rough terrain for climb penalties
    pairs = [
        np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()]),  # east-west roads
        np.column_stack([ids[:-1, :].ravel(), ids[1:, :].ravel()]),  # north-south roads
    ]
    grid = np.concatenate(pairs)
    grid = grid[rng.random(len(grid)) > 0.08]  # 8 % of links missing (rivers, ridges)
    diag_cells = rng.random((side - 1) * (side - 1)) < 0.06  # random diagonal "roads"
    diag = np.column_stack([ids[:-1, :-1].ravel(), ids[1:, 1:].ravel()])[diag_cells]
    undirected = np.concatenate([grid, diag])
    u, v = undirected[:, 0], undirected[:, 1]
    metres = np.hypot(*(xy[u] - xy[v]).T)
    kph = rng.choice([20.0, 30.0, 45.0, 65.0], size=len(u), p=[0.4, 0.3, 0.2, 0.1])
    climb = np.clip((height[v] - height[u]) / 400.0, -0.5, 0.5)
    fwd = metres / 1000 / kph * 60 * (1 + climb)  # uphill slower, downhill faster
    back = metres / 1000 / kph * 60 * (1 - climb)
    two_way = rng.random(len(u)) > 0.02  # 2 % one-way links
    rows = np.concatenate([u, v[two_way]])
    cols = np.concatenate([v, u[two_way]])
    minutes = np.concatenate([fwd, back[two_way]])
    return scipy.sparse.csr_array((minutes, (rows, cols)), shape=(n, n))


def run(side: int, types: int, per_type: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    matrix = road_grid(side, rng)
    matrix_t = matrix.T.tocsr()  # travel is community → service: search the reverse graph
    build_s = time.perf_counter() - t0
    n = matrix.shape[0]
    jobs = [
        (rng.choice(n, size=per_type, replace=False), rng.uniform(0, 20, size=per_type))
        for _ in range(types)
    ]

    per_type_s, engine = [], []
    for nodes, offsets in jobs:
        t = time.perf_counter()
        dist, nearest = multi_source_minutes(matrix_t, nodes, offsets)
        per_type_s.append(time.perf_counter() - t)
        engine.append((dist, nearest))
    engine_rss = peak_rss_mb()

    t = time.perf_counter()
    G = nx.from_scipy_sparse_array(matrix_t, create_using=nx.DiGraph)
    nx_build_s = time.perf_counter() - t
    networkx_s = 0.0
    for k, (nodes, offsets) in enumerate(jobs):
        virtual = [("service", k, i) for i in range(len(nodes))]
        G.add_weighted_edges_from(zip(virtual, nodes.tolist(), offsets.tolist()))
        t = time.perf_counter()
        lengths = nx.multi_source_dijkstra_path_length(G, virtual, weight="weight")
        networkx_s += time.perf_counter() - t
        G.remove_nodes_from(virtual)
        expected = np.full(n, np.inf)
        keys = np.fromiter((key for key in lengths if not isinstance(key, tuple)), dtype=np.int64)
        expected[keys] = [lengths[key] for key in keys.tolist()]
        dist, nearest = engine[k]
        assert np.allclose(dist, expected), f"type {k}: engine and networkx minutes differ"
        reached = nearest >= 0
        assert np.isfinite(dist[reached]).all() and (nearest < len(nodes)).all()

    engine_s = float(sum(per_type_s))
    return {
        "nodes": int(n),
        "edges": int(matrix.nnz),
        "types": types,
        "services_per_type": per_type,
        "graph_build_s": round(build_s, 3),
        "networkx_graph_build_s": round(nx_build_s, 3),
        "engine_s": round(engine_s, 4),
        "networkx_s": round(networkx_s, 3),
        "speedup": round(networkx_s / engine_s, 1),
        "per_type_s": [round(s, 4) for s in per_type_s],
        "engine_peak_rss_mb": round(engine_rss, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "equal": True,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="travel engine vs networkx")
    parser.add_argument("--side", type=int, default=640, help="grid side (nodes = side²)")
    parser.add_argument("--types", type=int, default=3, help="service types")
    parser.add_argument("--per-type", type=int, default=30, help="services per type")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    result = run(args.side, args.types, args.per_type, args.seed)
    for key, value in result.items():
        print(f"{key}: {value}")
    met = {
        "speedup>=20": result["speedup"] >= TARGET_SPEEDUP,
        "per_type<=0.25s": max(result["per_type_s"]) <= TARGET_PER_TYPE_S,
        "peak_rss<1.5GB": result["peak_rss_mb"] < TARGET_RSS_MB,
    }
    print("targets:", json.dumps(met))
    return 1 if args.strict and not all(met.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

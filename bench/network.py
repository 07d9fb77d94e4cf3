"""Benchmark building the routing network from a country-size OSM extract: old vs new path.

Generates (seeded, once, cached under ``out/bench/``) a synthetic Tajikistan-size extract with
``tools/make_synthetic_extract.py`` (default 2.2 M nodes, ~365 k highway ways) and builds it:

- ``new``: :func:`coverage.engine.roads.load_network` (pyosmium → numpy → CSR) into an empty
  cache: the first build (``build_s``);
- ``cached``: the same call in a fresh process reading the disk cache (``cached_s``);
- ``old``: the osmnx path (``load_graph`` + ``build_routing_network``), minutes on 2.2 M
  nodes (``--skip-old`` to leave it out, ``--old-nodes`` to time it on a smaller file,
  where the new path is timed too for the ratio);
- ``pyrosm``: ``pyrosm.OSM(file).get_network(network_type="driving")`` as a yardstick (it
  reads the file into a GeoDataFrame of edges, on several threads; it does not contract;
  its own result cache in the temp folder is cleared first so this is a first read).

Every measurement runs in its own subprocess; ``peak_rss_mb`` is that child's peak resident
set size (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a wrapper process that
runs only that child) and ``cpu_s`` its CPU time (user + system; on a shared, loaded machine
a fairer figure than the wall-clock ``build_s``). The load average is printed with each figure.
Targets on 2.2 M nodes: first build ≤ 60 s and ≤ 2.5 GB, cached ≤ 5 s. Run from the
project root (not part of the test suite)::

    .venv/bin/python bench/network.py [--nodes 2200000] [--skip-old] [--old-nodes 300000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TARGET_BUILD_S = 60.0
TARGET_RSS_MB = 2500.0
TARGET_CACHED_S = 5.0


def _worker(kind: str, path: str, cache_dir: str) -> dict:
    """Run one build in this process; return its seconds (imports excluded) and a size."""
    if kind == "pyrosm":
        import pyrosm

        pyrosm.OSM.clear_cache(path)  # pyrosm caches results in the temp folder: time a first read
        start = time.perf_counter()
        edges = pyrosm.OSM(path).get_network(network_type="driving")
        return {"build_s": time.perf_counter() - start, "edges": len(edges)}
    from coverage.config import Settings
    from coverage.engine import roads

    settings = Settings()
    start = time.perf_counter()
    if kind == "old":
        network = roads.build_routing_network(roads.load_graph(path, "summer", settings), settings)
    else:  # new / cached: the same call; cached finds the file the new build wrote
        network = roads.load_network(path, "summer", settings, cache_dir=cache_dir)
    return {"build_s": time.perf_counter() - start, "nodes": network.n_nodes, "edges": int(network.matrix.nnz)}


def _measure_child(kind: str, path: str, cache_dir: str) -> dict:
    """Wrapper process: run the worker as its only child, add the child's peak RSS."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--worker", kind, path, cache_dir],
                         capture_output=True, text=True, check=False)
    process_s = time.perf_counter() - start
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = process_s  # the whole child, Python start-up and imports included
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # the child's CPU time: less load-dependent
    result["peak_rss_mb"] = usage.ru_maxrss / 1024.0
    return result


def measure(kind: str, path: Path, cache_dir: Path) -> dict:
    """One measurement in a fresh wrapper subprocess (so RUSAGE_CHILDREN sees one child)."""
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, __file__, "--wrap", kind, str(path), str(cache_dir)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_1min"] = round(load, 2)
    print(f"  {kind:7s} " + "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                       for k, v in result.items()), flush=True)
    return result


def extract(nodes: int, seed: int) -> Path:
    """The synthetic extract with ``nodes`` nodes (generated once into out/bench/)."""
    path = PROJECT_ROOT / "out" / "bench" / f"synthetic_{nodes}_{seed}.osm.pbf"
    if not path.exists():
        subprocess.run([sys.executable, str(PROJECT_ROOT / "tools" / "make_synthetic_extract.py"), str(path),
                        "--nodes", str(nodes), "--seed", str(seed)], check=True)
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("--worker", "--wrap"):
        mode, kind, path, cache_dir = argv
        result = _worker(kind, path, cache_dir) if mode == "--worker" else _measure_child(kind, path, cache_dir)
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2_200_000, help="nodes of the synthetic extract")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-old", action="store_true", help="do not run the (slow) osmnx path")
    parser.add_argument("--old-nodes", type=int, default=None,
                        help="time the old path (and the new, for the ratio) on a smaller extract")
    parser.add_argument("--skip-pyrosm", action="store_true")
    args = parser.parse_args(argv)
    path = extract(args.nodes, args.seed)
    print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-network-") as cache:
        results["new"] = measure("new", path, Path(cache))
        results["cached"] = measure("cached", path, Path(cache))
    if not args.skip_pyrosm:
        try:
            import pyrosm  # noqa: F401
        except ImportError:
            print("  pyrosm not installed: no yardstick")
        else:
            results["pyrosm"] = measure("pyrosm", path, Path(tempfile.gettempdir()))
    if not args.skip_old:
        ratio_path = extract(args.old_nodes, args.seed) if args.old_nodes else path
        if ratio_path != path:
            print(f"old/new ratio on {ratio_path.name}:")
            with tempfile.TemporaryDirectory(prefix="bench-network-") as cache:
                new_small = measure("new", ratio_path, Path(cache))
        else:
            new_small = results["new"]
        results["old"] = measure("old", ratio_path, Path(tempfile.gettempdir()))
        if "build_s" in results["old"] and "build_s" in new_small:
            print(f"old/new: build_s ratio {results['old']['build_s'] / new_small['build_s']:.1f}, "
                  f"cpu_s ratio {results['old']['cpu_s'] / new_small['cpu_s']:.1f}, "
                  f"peak_rss_mb ratio {results['old']['peak_rss_mb'] / new_small['peak_rss_mb']:.1f}")
    new, cached = results["new"], results["cached"]
    if "build_s" in new and "build_s" in cached:
        ok = (new["build_s"] <= TARGET_BUILD_S and new["peak_rss_mb"] <= TARGET_RSS_MB
              and cached["build_s"] <= TARGET_CACHED_S)
        print(f"build_s={new['build_s']:.1f} (≤ {TARGET_BUILD_S:g}) peak_rss_mb={new['peak_rss_mb']:.0f} "
              f"(≤ {TARGET_RSS_MB:g}) cached_s={cached['build_s']:.2f} (≤ {TARGET_CACHED_S:g}): "
              f"{'targets met' if ok else 'TARGET MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

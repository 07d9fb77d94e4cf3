"""Write a seeded, synthetic, country-size OpenStreetMap extract (``.osm.pbf``) for benchmarks.

The default is Tajikistan-sized: ~2.2 M nodes and ~365 k highway ways over Tajikistan's
bounding box (EPSG:4326). The road layout is a jittered lattice of junctions; each lattice
link is kept with a probability so that about ``ways`` remain (a giant connected component
plus islands, as in a real extract), and each way gets a few shape nodes along it. Tags
follow a realistic mix: classes (mostly residential, unclassified, track and service, a few
per cent trunk/primary/secondary, some footways that the router must drop), ``oneway``
(yes / -1 / roundabouts), ``maxspeed`` (numbers and ``RU:urban``), ``surface``, ``name``,
plus the winter tags the router reads (``hazard=avalanche``, ``seasonal:winter=closed``)
and named town nodes. Not real data: for timing and memory only.

Usage::

    python tools/make_synthetic_extract.py out/tj_synthetic.osm.pbf [--nodes 2200000] [--seed 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

BBOX = (67.35, 36.68, 75.15, 41.05)  # Tajikistan: lon min, lat min, lon max, lat max
NODES_PER_WAY = 6.0  # ~2.2 M nodes / ~365 k ways
CLASSES = (  # (highway, share of ways)
    ("residential", 0.42), ("unclassified", 0.17), ("track", 0.13), ("service", 0.09),
    ("tertiary", 0.07), ("secondary", 0.04), ("primary", 0.02), ("trunk", 0.01),
    ("living_street", 0.01), ("footway", 0.03), ("path", 0.01),
)
SURFACES = (("asphalt", 0.35), ("unpaved", 0.2), ("gravel", 0.15), ("dirt", 0.1), ("compacted", 0.05),
            (None, 0.15))
MAXSPEEDS = (("40", 0.3), ("60", 0.35), ("90", 0.2), ("RU:urban", 0.15))


def _choice(rng: np.random.Generator, table: tuple, size: int) -> np.ndarray:
    values = np.array([v for v, _p in table], dtype=object)
    p = np.array([p for _v, p in table])
    return values[rng.choice(len(values), size=size, p=p / p.sum())]


def generate(out: Path, *, nodes: int = 2_200_000, seed: int = 1) -> dict[str, int]:
    """Write the extract to ``out`` (format from the name, e.g. ``.osm.pbf``); return counts."""
    import osmium

    rng = np.random.default_rng(seed)
    ways_wanted = int(nodes / NODES_PER_WAY)
    # lattice of junctions: side s gives 2 s² links; keep ~ways_wanted of them
    side = int(np.ceil(np.sqrt(ways_wanted / (2 * 0.72))))
    keep_p = min(1.0, ways_wanted / (2 * side * (side - 1)))
    lon0, lat0, lon1, lat1 = BBOX
    gx, gy = np.meshgrid(np.linspace(lon0, lon1, side), np.linspace(lat0, lat1, side))
    step = ((lon1 - lon0) / side, (lat1 - lat0) / side)
    jlon = (gx.ravel() + rng.uniform(-0.3, 0.3, side * side) * step[0])
    jlat = (gy.ravel() + rng.uniform(-0.3, 0.3, side * side) * step[1])
    idx = np.arange(side * side).reshape(side, side)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(a)) < keep_p
    a, b = a[keep], b[keep]
    n_ways = len(a)
    # shape nodes per way so that the total is ~nodes
    shape_total = max(0, nodes - side * side)
    counts = rng.poisson(shape_total / n_ways, n_ways)
    n_junction = side * side
    shape_start = n_junction + 1 + np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_nodes = n_junction + int(counts.sum())
    lon = np.empty(n_nodes)
    lat = np.empty(n_nodes)
    lon[:n_junction], lat[:n_junction] = jlon, jlat
    way_of_shape = np.repeat(np.arange(n_ways), counts)
    k = np.arange(len(way_of_shape)) - np.repeat(shape_start - n_junction - 1, counts)
    t = (k + 1) / (counts[way_of_shape] + 1)
    wiggle = rng.normal(0, 0.08, len(t)) * step[0]
    lon[n_junction:] = jlon[a[way_of_shape]] + t * (jlon[b[way_of_shape]] - jlon[a[way_of_shape]]) + wiggle
    lat[n_junction:] = jlat[a[way_of_shape]] + t * (jlat[b[way_of_shape]] - jlat[a[way_of_shape]]) + wiggle
    # tags
    highway = _choice(rng, CLASSES, n_ways)
    surface = _choice(rng, SURFACES, n_ways)
    maxspeed = np.where(rng.random(n_ways) < 0.12, _choice(rng, MAXSPEEDS, n_ways), None)
    r = rng.random(n_ways)
    oneway = np.where(r < 0.06, "yes", np.where(r < 0.07, "-1", np.where(r < 0.09, "no", None)))
    roundabout = rng.random(n_ways) < 0.005
    named = rng.random(n_ways) < 0.45
    avalanche = (rng.random(n_ways) < 0.01) & np.isin(highway, ["trunk", "primary", "secondary"])
    closed = (rng.random(n_ways) < 0.02) & (highway == "track")
    town = rng.random(n_junction) < 0.004
    # OPL text (one line per object, built in bulk), then libosmium converts it in C++
    node_tags = np.full(n_nodes, "", dtype=object)
    towns = np.flatnonzero(town)
    node_tags[towns] = [f"name=Town%20%{i + 1},place=village" for i in towns]
    lines = [f"n{i + 1} v1 x{x:.7f} y{y:.7f} T{t}"
             for i, (x, y, t) in enumerate(zip(lon.tolist(), lat.tolist(), node_tags.tolist(), strict=True))]
    tags = np.char.add("highway=", highway.astype(str)).astype(object)
    for key, values, present in (
        ("surface", surface, surface != None),  # noqa: E711  (object arrays)
        ("maxspeed", maxspeed, maxspeed != None),  # noqa: E711
        ("oneway", oneway, oneway != None),  # noqa: E711
        ("junction", np.full(n_ways, "roundabout", dtype=object), roundabout),
        ("name", np.array([f"{h.capitalize()}%20%road%20%{w % 5000}" for w, h in enumerate(highway)], dtype=object),
         named),
        ("hazard", np.full(n_ways, "avalanche", dtype=object), avalanche),
        ("seasonal:winter", np.full(n_ways, "closed", dtype=object), closed),
    ):
        tags[present] = tags[present] + f",{key}=" + values[present].astype(str)
    first, last = a + 1, b + 1
    for w in range(n_ways):
        inner = ",n".join(map(str, range(int(shape_start[w]), int(shape_start[w] + counts[w]))))
        middle = f",n{inner}" if counts[w] else ""
        lines.append(f"w{w + 1} v1 T{tags[w]} Nn{first[w]}{middle},n{last[w]}")
    with tempfile.TemporaryDirectory(prefix="synthetic-osm-") as tmp:
        opl = Path(tmp) / "extract.opl"
        opl.write_text("\n".join(lines) + "\n", encoding="utf-8")
        del lines
        if out.exists():
            out.unlink()
        writer = osmium.WriteHandler(str(out))
        osmium.apply(osmium.io.File(str(opl), "opl"), writer)
        writer.close()
    return {"nodes": n_nodes, "ways": n_ways}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output file, e.g. out/tj_synthetic.osm.pbf")
    parser.add_argument("--nodes", type=int, default=2_200_000, help="about this many nodes (default 2.2 M)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    counts = generate(args.out, nodes=args.nodes, seed=args.seed)
    size_mb = args.out.stat().st_size / 1e6
    print(f"{args.out}: {counts['nodes']:,} nodes, {counts['ways']:,} highway ways, {size_mb:.1f} MB "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

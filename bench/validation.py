"""Check the default network's speeds against published trip times (summer).

Reads ``tj_road_corridors/published_trip_times.csv`` from the data mirror (door-to-door times
between towns that travellers and agencies have published, with sources: see SOURCE.md
beside it) and routes every pair on the project's default trunk network with the speeds in
the settings (``coverage.toml`` and ``COVERAGE_*`` apply, as for the command line). Prints,
per pair, the model's time against the published range and the error (minutes outside the
range, 0 inside it; and against the range's middle), then a summary: median absolute error
against the middle, and how many pairs fall inside their range.

The speeds are not fitted one pair at a time: one factor per terrain class
(``terrain_speed_factor``), the surface and smoothness factors and the class speeds explain
all pairs together. ``--grid`` re-runs the check over a small grid of terrain and
``smoothness=bad`` factors and prints the best few settings by (pairs inside, median error),
which is how the defaults in ``coverage/config.py`` were chosen. Run from the project root::

    .venv/bin/python bench/validation.py [--season summer] [--grid]

Model times are estimates from a corridor sketch (straight lines, mostly estimated lengths);
the published times are shared-taxi and car times from the sources named in the CSV.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

from coverage import config
from coverage.engine import roads, travel


def published_trips(mirror: Path) -> pd.DataFrame:
    """The published pairs: ``from_place``, ``to_place``, ``low_h``, ``high_h``, ``mode``, ``source``."""
    table = pd.read_csv(mirror / "tj_road_corridors" / "published_trip_times.csv")
    return table


def compare(network: roads.RoutingNetwork, trips: pd.DataFrame) -> pd.DataFrame:
    """One row per published pair: model minutes and km, the published range (minutes), and
    ``error_min`` (minutes outside the range, signed: + too slow, − too fast; 0 inside) and
    ``error_mid_min`` (model − middle of the range)."""
    rows = []
    for trip in trips.itertuples(index=False):
        r = travel.route(network, trip.from_place, trip.to_place)
        low, high = trip.low_h * 60.0, trip.high_h * 60.0
        error = r.minutes - high if r.minutes > high else (r.minutes - low if r.minutes < low else 0.0)
        rows.append({
            "pair": f"{trip.from_place} – {trip.to_place}", "model_min": r.minutes, "km": r.km,
            "low_min": low, "high_min": high, "inside": low <= r.minutes <= high,
            "error_min": error, "error_mid_min": r.minutes - (low + high) / 2.0,
            "via": " → ".join(r.towns),
        })
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> dict[str, float]:
    """``median_abs_error_min`` (against the ranges' middles), ``inside`` (count), ``pairs``."""
    return {
        "median_abs_error_min": float(statistics.median(table["error_mid_min"].abs())),
        "median_abs_error_outside_min": float(statistics.median(table["error_min"].abs())),
        "inside": int(table["inside"].sum()),
        "pairs": len(table),
    }


def _hm(minutes: float) -> str:
    return f"{int(minutes // 60)} h {int(round(minutes % 60)):02d}"


def print_table(table: pd.DataFrame, season: str) -> None:
    print(f"Default network ({season}) vs published trip times; model times are estimates")
    print(f"{'pair':28} {'model':>9} {'km':>5}  {'published':>17}  {'error':>7}  {'vs middle':>9}")
    for row in table.itertuples(index=False):
        published = f"{_hm(row.low_min)} – {_hm(row.high_min)}"
        mark = "inside" if row.inside else f"{row.error_min:+.0f} min"
        print(f"{row.pair:28} {_hm(row.model_min):>9} {row.km:5.0f}  {published:>17}  {mark:>7}  "
              f"{row.error_mid_min:+8.0f}m")
        print(f"    via {row.via}")
    s = summary(table)
    print(f"summary: {s['inside']} of {s['pairs']} pairs inside the published range; "
          f"median absolute error {s['median_abs_error_min']:.0f} min against the ranges' middles, "
          f"{s['median_abs_error_outside_min']:.0f} min outside the ranges")


def grid(settings: config.Settings, trips: pd.DataFrame, cache_dir: Path) -> None:
    """Print the best settings of a small grid (terrain factors, smoothness=bad factor)."""
    results = []
    hills, mountains, highs, bads = (0.85, 0.9, 0.95, 1.0), (0.7, 0.8, 0.85, 0.9), (0.6, 0.7, 0.75, 0.8), (0.4, 0.5, 0.6)
    for hill, mountain, high, bad in itertools.product(hills, mountains, highs, bads):
        if not (hill >= mountain >= high):
            continue
        trial = dataclasses.replace(
            settings,
            terrain_speed_factor={**settings.terrain_speed_factor, "hill": hill, "mountain": mountain,
                                  "high_mountain": high},
            smoothness_speed_factor={**settings.smoothness_speed_factor, "bad": bad},
        )
        network = roads.load_network(settings.network_path, "summer", trial, cache_dir=cache_dir)
        s = summary(compare(network, trips))
        results.append((-s["inside"], s["median_abs_error_min"], hill, mountain, high, bad))
    print("best of the grid (inside, median |model − middle| min, hill, mountain, high_mountain, bad):")
    for neg_inside, err, *values in sorted(results)[:10]:
        print(f"  {-neg_inside} inside  {err:5.0f} min   " + "  ".join(f"{v:.2f}" for v in values))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--season", choices=config.SEASONS, default="summer")
    parser.add_argument("--grid", action="store_true", help="search a small grid of terrain factors")
    args = parser.parse_args(argv)
    settings = config.load_settings()
    mirror = config.mirror_dir(settings=settings)
    if mirror is None or not (mirror / "tj_road_corridors" / "published_trip_times.csv").exists():
        print("published_trip_times.csv not found: set COVERAGE_MIRROR", file=sys.stderr)
        return 2
    trips = published_trips(mirror)
    with tempfile.TemporaryDirectory() as tmp:
        network = roads.load_network(settings.network_path, args.season, settings, cache_dir=Path(tmp))
        print_table(compare(network, trips), args.season)
        if args.grid:
            grid(settings, trips, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

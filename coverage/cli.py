"""Command line: every analysis the dashboard shows, without the dashboard.

    python -m coverage data [--mirror DIR | --download]
    python -m coverage analyse --type shelter --threshold 120 --season winter --out results.gpkg
    python -m coverage route Khujand Bokhtar [--season winter]
    python -m coverage check-services FILE
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd
from rich.console import Console
from rich.table import Table

from . import analysis, roads, services, settings, sources, travel

console = Console()


def _progress(message: str) -> None:
    console.log(message)


def fmt_minutes(minutes: float) -> str:
    """'2 h 05 min' / '45 min' / 'unreachable'."""
    if not math.isfinite(minutes):
        return "unreachable"
    total = int(round(minutes))
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


def cmd_data(args: argparse.Namespace) -> int:
    mirror = None if args.download else settings.mirror_dir(args.mirror)
    if mirror is None and not args.download:
        console.print("[red]No mirror folder found: give --mirror DIR, set COVERAGE_MIRROR, or use --download.")
        return 2
    with console.status("Running the data step …"):
        manifest = sources.run_data_step(mirror, data_dir=Path(args.data_dir), download=args.download,
                                         progress=_progress)
    table = Table(title="Data step outputs")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, entry in manifest.get("outputs", {}).items():
        table.add_row(str(name), f"{entry.get('rows', '')}")
    console.print(table)
    console.print(f"Manifest: {Path(args.data_dir) / 'manifest.json'}")
    return 0


def _district_table(result: analysis.Analysis, limit: int) -> Table:
    types = " or ".join(t.replace("_", " ") for t in result.service_types)
    table = Table(title=f"Districts by people beyond {result.threshold_min:g} min of a {types} ({result.season})")
    for column, justify in (("district", "left"), ("region", "left"), ("population", "right"),
                            ("within", "right"), ("beyond", "right"), ("share within", "right"),
                            ("worst community", "left"), ("worst", "right")):
        table.add_column(column, justify=justify)
    for row in result.districts.head(limit).itertuples(index=False):
        table.add_row(
            str(row.district), str(row.region), f"{row.population:,}", f"{row.population_within:,}",
            f"{row.population_beyond:,}", f"{row.share_within:.0%}", str(row.worst_community),
            fmt_minutes(row.worst_minutes),
        )
    return table


def write_results(result: analysis.Analysis, out: Path) -> list[Path]:
    """Write per-community results (and the district table) to .gpkg, .geojson or .csv."""
    out = Path(out)
    suffix = out.suffix.lower()
    communities = result.communities.copy()
    communities["minutes"] = communities["minutes"].where(communities["minutes"].map(math.isfinite))
    written = [out]
    if suffix == ".gpkg":
        import pyogrio

        pyogrio.write_dataframe(communities, out, layer="communities")
        pyogrio.write_dataframe(pd.DataFrame(result.districts), out, layer="districts", append=True)
    elif suffix in (".geojson", ".json"):
        communities.to_file(out, driver="GeoJSON")
        districts_out = out.with_name(out.stem + "_districts.csv")
        services.neutralise_formulas(result.districts).to_csv(districts_out, index=False)
        written.append(districts_out)
    elif suffix == ".csv":
        table = pd.DataFrame(communities.drop(columns="geometry"))
        table["lon"] = communities.geometry.x.round(5)
        table["lat"] = communities.geometry.y.round(5)
        services.neutralise_formulas(table).to_csv(out, index=False)
        districts_out = out.with_name(out.stem + "_districts.csv")
        services.neutralise_formulas(result.districts).to_csv(districts_out, index=False)
        written.append(districts_out)
    else:
        raise ValueError(f"{out}: choose .gpkg, .geojson or .csv")
    return written


def cmd_analyse(args: argparse.Namespace) -> int:
    config = settings.load_settings()
    inputs = analysis.load_inputs(
        Path(args.data_dir), services_path=args.services, population_path=args.population,
        include_osm_health=args.osm_health, mirror=args.mirror, progress=_progress,
    )
    with console.status(f"Computing travel times ({args.season}) …"):
        times = analysis.travel_times(inputs, season=args.season, network_path=Path(args.network), config=config,
                                      progress=_progress)
    result = analysis.analyse(inputs, times, args.type, args.threshold, season=args.season,
                              regions=args.region or None)
    console.print(_district_table(result, args.limit))
    all_row = result.totals[result.totals["region"] == "All"].iloc[0]
    console.print(
        f"People within {args.threshold:g} min: [bold]{int(all_row.population_within):,}[/] of "
        f"{int(all_row.population):,} ({all_row.share_within:.0%}); beyond: "
        f"[bold red]{int(all_row.population_beyond):,}[/]. Rural community populations are estimates "
        f"(census district totals shared over settlements); the default road network is approximate."
    )
    if args.out:
        for path in write_results(result, Path(args.out)):
            console.print(f"Wrote {path}")
    return 0


def cmd_route(args: argparse.Namespace) -> int:
    config = settings.load_settings()
    network = roads.load_network(Path(args.network), season=args.season, settings=config, progress=_progress)
    try:
        found = travel.route(network, args.origin, args.destination)
    except ValueError as err:
        console.print(f"[red]{err}")
        return 2
    console.print(
        f"{args.origin} → {args.destination} ({args.season}): [bold]{fmt_minutes(found.minutes)}[/] by car, "
        f"{found.km:,.0f} km"
    )
    console.print("Via: " + " → ".join(found.towns))
    return 0


def cmd_check_services(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        table = services.read_services(path.read_bytes(), str(path))
    except services.ServicesError as err:
        console.print(f"[red]{err}", markup=False, style="red")
        return 1
    console.print(f"{path}: {len(table)} services, all rows valid.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m coverage", description="Women's crisis services coverage, Tajikistan")
    parser.add_argument("--data-dir", default=str(settings.DATA_DIR), help="data folder (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="assemble boundaries, communities and health facilities")
    data.add_argument("--mirror", help="offline mirror folder (default: $COVERAGE_MIRROR or ../shared/data)")
    data.add_argument("--download", action="store_true", help="download the public sources instead of a mirror")
    data.set_defaults(func=cmd_data)

    an = sub.add_parser("analyse", aliases=["analyze"], help="travel time to the nearest service; who is underserved")
    an.add_argument("--type", nargs="+", default=["shelter"], choices=settings.SERVICE_TYPES, metavar="TYPE",
                    help=f"service type(s): {', '.join(settings.SERVICE_TYPES)} (default: shelter)")
    an.add_argument("--threshold", type=float, default=settings.DEFAULT_THRESHOLD_MIN, help="minutes (default: 60)")
    an.add_argument("--season", choices=settings.SEASONS, default="summer")
    an.add_argument("--region", action="append", help="limit to a region (repeatable), e.g. Khatlon")
    an.add_argument("--out", help="write results to .gpkg, .geojson or .csv")
    an.add_argument("--network", default=str(settings.DEFAULT_NETWORK), help="road network: .osm / .osm.pbf")
    an.add_argument("--services", help="services file (default: data/services/services.csv)")
    an.add_argument("--population", help="user population layer (points or H3 cells; GPKG/GeoJSON/CSV)")
    an.add_argument("--osm-health", action="store_true", help="add OpenStreetMap hospitals/clinics as 'medical'")
    an.add_argument("--mirror", help="mirror folder for the data step if data is missing")
    an.add_argument("--limit", type=int, default=20, help="rows of the district table to print")
    an.set_defaults(func=cmd_analyse)

    rt = sub.add_parser("route", help="drive time and the towns on the way")
    rt.add_argument("origin")
    rt.add_argument("destination")
    rt.add_argument("--season", choices=settings.SEASONS, default="summer")
    rt.add_argument("--network", default=str(settings.DEFAULT_NETWORK))
    rt.set_defaults(func=cmd_route)

    chk = sub.add_parser("check-services", help="validate a services file (CSV/XLSX/GeoJSON) row by row")
    chk.add_argument("file")
    chk.set_defaults(func=cmd_check_services)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

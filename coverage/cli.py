"""Command line: every analysis the dashboard shows, without the dashboard.

    python -m coverage data [--mirror DIR | --download]
    python -m coverage analyse --type shelter --threshold 120 --season winter --out results.gpkg
    python -m coverage capacity --type shelter --threshold 120 [--count women|people] [--demand-rate 1.0]
    python -m coverage reach --type shelter crisis_centre --threshold 90 --count women
    python -m coverage route Khujand Bokhtar [--season winter]
    python -m coverage site --type crisis_centre --k 3 --threshold 60 [--method mclp|pmedian]
    python -m coverage check-services FILE
    python -m coverage add-user --username NAME --organisation KEY [--role staff|admin] …
    python -m coverage export-services --public --format geojson --out services.geojson
    python -m coverage brief --district Kulob --lang tg --out brief.pdf   (.png: the map; --funders: reach)
    python -m coverage export --district Kulob --format xlsx --out kulob.xlsx
    python -m coverage scenario --close-service KHT-NK-SH1 --add crisis_centre@Kulob --season winter [--save NAME]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

from coverage import analysis, config
from coverage.analysis import allocation, reach, scenarios, seasons
from coverage.data import services, sources
from coverage.engine import roads, travel
from coverage.errors import CoverageError, OutputError
from coverage.registry import auth, store
from coverage.views import i18n, messages, names
from coverage.views.labels import fmt_hours, fmt_minutes, measure_columns

console = Console()


def _log(message: str) -> None:
    """Where long steps report progress (:data:`coverage.progress.Progress`): the console log."""
    console.log(message)


def cmd_data(args: argparse.Namespace, settings: config.Settings) -> int:
    """``python -m coverage data``: run the data step from the mirror (or download); exit code."""
    mirror = None if args.download else config.mirror_dir(settings=settings)
    if mirror is None and not args.download:
        console.print("[red]No mirror folder found: give --mirror DIR, set COVERAGE_MIRROR, or use --download.")
        return 2
    with console.status("Running the data step …"):
        manifest = sources.run_data_step(mirror, data_dir=settings.data_dir, download=args.download,
                                         progress=_log)
    table = Table(title="Data step outputs")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, entry in manifest.get("outputs", {}).items():
        table.add_row(str(name), f"{entry.get('rows', '')}")
    console.print(table)
    console.print(f"Manifest: {settings.data_dir / 'manifest.json'}")
    return 0


def short_region(region: str) -> str:
    """'Districts of Republican Subordination (DRS)' → 'DRS', so the table fits a terminal."""
    found = re.search(r"\(([A-Z]{2,})\)\s*$", str(region))
    return found.group(1) if found else str(region)


def _district_table(result: analysis.Analysis, limit: int) -> Table:
    types = " or ".join(t.replace("_", " ") for t in result.service_types)
    counted = COUNT_WORDS[result.measure]
    source = ("women (2020 census female share per district, derived from the sex ratio; villages estimated)"
              if result.measure == "women" else "people (2020 census; villages estimated)")
    table = Table(title=f"Districts by {counted} beyond {result.threshold_min:g} min of a {types} ({result.season})",
                  caption=f"within / beyond: {source}; "
                          "h:mm: hours:minutes by road to the district's farthest community",
                  box=box.SIMPLE_HEAD)  # light borders: the table fits an 80-column terminal
    for column, justify in (("district", "left"), ("region", "left"), ("within", "right"), ("beyond", "right"),
                            ("share", "right"), ("farthest community", "left"), ("h:mm", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in result.districts.head(limit).itertuples(index=False):
        table.add_row(
            str(row.district), short_region(row.region), f"{row.population_within:,}",
            f"{row.population_beyond:,}", f"{row.share_within:.0%}", str(row.worst_community),
            fmt_hours(row.worst_minutes),
        )
    return table


# ``--count`` word → analysis measure, and back for the table's words
COUNT_MEASURES: dict[str, str] = {"women": "women", "people": "population"}
COUNT_WORDS: dict[str, str] = {m: w for w, m in COUNT_MEASURES.items()}

RESULT_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson", ".json", ".csv")
EXPORT_SUFFIXES: dict[str, tuple[str, ...]] = {"csv": (".csv",), "geojson": (".geojson", ".json"), "gpkg": (".gpkg",)}


def check_out_path(out: str | os.PathLike[str], suffixes: Sequence[str]) -> Path:
    """The output path, checked before any work: one of ``suffixes``, not an existing
    folder, device or pipe (``/dev/full``), and in a folder this process can write
    (created if missing; probed by creating and removing a temporary file, which also
    works for root and read-only mounts). Raises :class:`OutputError`."""
    out = Path(out)
    if out.exists() and not out.is_file():
        raise OutputError(f"{out}: exists and is not a regular file (a folder or device); choose a file name",
                          message_id="cli.out_not_a_file", field="--out", path=str(out))
    if out.suffix.lower() not in suffixes:
        raise OutputError(f"{out}: choose a file ending in {', '.join(suffixes)}", message_id="cli.out_bad_suffix",
                          field="--out", path=str(out), suffixes=tuple(suffixes))
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".coverage-probe-"):
            pass
    except OSError as err:
        raise OutputError(f"{out}: cannot write in {folder} ({err.strerror or err})", message_id="cli.out_not_writable",
                          field="--out", path=str(out), reason=str(err.strerror or err)) from None
    return out


def _write_failed(out: Path, err: BaseException) -> OutputError:
    reason = getattr(err, "strerror", None) or (str(err).splitlines() or [type(err).__name__])[0]
    return OutputError(f"{out}: writing failed ({reason}); the file was not written", message_id="cli.out_write_failed",
                       field="--out", path=str(out), reason=str(reason))


def write_results(result: analysis.Analysis, out: Path) -> list[Path]:
    """Write per-community results (and the district table) to .gpkg, .geojson or .csv.

    A write that fails (a full disk, a folder that went away) is an :class:`OutputError`
    and the files begun are removed."""
    out = check_out_path(out, RESULT_SUFFIXES)
    import pyogrio.errors

    try:
        return _write_results(result, out)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FeatureError, pyogrio.errors.FieldError) as err:
        for partial in (out, out.with_name(out.stem + "_districts.csv")):
            if partial.is_file():
                partial.unlink(missing_ok=True)
        raise _write_failed(out, err) from None


def _write_results(result: analysis.Analysis, out: Path) -> list[Path]:
    suffix = out.suffix.lower()
    communities = result.communities.copy()
    communities["minutes"] = communities["minutes"].where(communities["minutes"].map(math.isfinite))
    districts = measure_columns(result.districts, result.measure)  # the file says what it counts
    written = [out]
    if suffix == ".gpkg":
        import pyogrio

        out.unlink(missing_ok=True)  # a fresh file: appending the districts layer to an old one doubled it
        pyogrio.write_dataframe(communities, out, layer="communities")
        pyogrio.write_dataframe(pd.DataFrame(districts), out, layer="districts", append=True)
    elif suffix in (".geojson", ".json"):
        communities.to_file(out, driver="GeoJSON")
        districts_out = out.with_name(out.stem + "_districts.csv")
        services.neutralise_formulas(districts).to_csv(districts_out, index=False)
        written.append(districts_out)
    elif suffix == ".csv":
        table = pd.DataFrame(communities.drop(columns="geometry"))
        table["lon"] = communities.geometry.x.round(5)
        table["lat"] = communities.geometry.y.round(5)
        services.neutralise_formulas(table).to_csv(out, index=False)
        districts_out = out.with_name(out.stem + "_districts.csv")
        services.neutralise_formulas(districts).to_csv(districts_out, index=False)
        written.append(districts_out)
    return written


def cmd_analyse(args: argparse.Namespace, settings: config.Settings) -> int:
    """``analyse``: travel minutes to the nearest service of the chosen types (from public
    points), the district table for the threshold, and the optional ``--out`` file; exit code."""
    if args.out:  # a bad --out is refused now, not after minutes of computing
        check_out_path(args.out, RESULT_SUFFIXES)
    inputs = analysis.load_inputs(include_osm_health=args.osm_health, progress=_log, settings=settings)
    with console.status(f"Computing travel times ({args.season}) …"):
        times = analysis.travel_times(inputs, season=args.season, settings=settings, progress=_log)
    result = analysis.analyse(inputs, times, args.type, args.threshold, season=args.season,
                              regions=args.region or None, measure=COUNT_MEASURES[args.count])
    console.print(_district_table(result, args.limit))
    all_row = result.totals[result.totals["region"] == "All"].iloc[0]
    console.print(
        f"{args.count.capitalize()} within {args.threshold:g} min: [bold]{int(all_row.population_within):,}[/] of "
        f"{int(all_row.population):,} ({all_row.share_within:.0%}); beyond: "
        f"[bold red]{int(all_row.population_beyond):,}[/]. Rural community populations are estimates "
        f"(census district totals shared over settlements); "
        + ("the default road network is approximate." if roads.is_default_network(settings.network_path)
           else f"roads from {Path(settings.network_path).name} (OpenStreetMap).")
    )
    # the network is in the memory cache by now: this only reads its missing-node count
    _report_missing_nodes(roads.load_network(season=args.season, settings=settings))
    _report_winter_roads(args.season, settings)
    if args.out:
        for path in write_results(result, Path(args.out)):
            console.print(f"Wrote {path}")
    return 0


def _capacity_table(result, limit: int) -> Table:
    """The district table of :func:`coverage.analysis.capacity.capacity_coverage` (estimates)."""
    word = COUNT_WORDS[result.measure]
    table = Table(title=f"Shelter places within {result.threshold_min:g} min by road, per district "
                        f"(2SFCA; every figure an estimate)", box=box.SIMPLE_HEAVY)
    for header in ("District", "Region", f"{word.capitalize()}", "Places in reach (est.)",
                   f"Per 100,000 {word} (est.)", "Demand, places (est.)", "Short by (est.)"):
        table.add_column(header, justify="left" if header in ("District", "Region") else "right")
    for row in result.districts.head(limit).itertuples(index=False):
        table.add_row(row.district, row.region, f"{int(row.counted):,}", f"{row.places_share:.1f}",
                      f"{row.per_100k:.2f}", f"{row.demand_places:.1f}",
                      f"[red]{row.shortfall:.1f}[/]" if row.exceeds else "0")
    return table


def cmd_capacity(args: argparse.Namespace, settings: config.Settings) -> int:
    """``capacity``: places per 100,000 women (or people) within the threshold by district
    (two-step floating catchment, public points) and where the estimated demand exceeds them."""
    from coverage.analysis import capacity

    inputs = analysis.load_inputs(progress=_log, settings=settings)
    with console.status(f"Computing travel times to services with places ({args.season}) …"):
        result = capacity.run_capacity(inputs, service_types=args.type, threshold_min=args.threshold,
                                       season=args.season, measure=COUNT_MEASURES[args.count],
                                       regions=args.region or None, settings=settings)
    console.print(_capacity_table(result, args.limit))
    short = result.districts[result.districts["exceeds"]]
    console.print(
        f"{result.total_places:g} known places in {len(result.services)} service(s); "
        f"{result.unknown_count} service(s) with unknown places left out"
        + (f" ({'; '.join(result.unknown)})" if result.unknown else "") + ". "
        f"Demand exceeds the places in reach in {len(short)} of {len(result.districts)} districts "
        f"(short by {short['shortfall'].sum():,.0f} places in all)."
        + (f" {result.unreached_places:g} place(s) reach no community within the threshold."
           if result.unreached_places else ""),
        markup=False, highlight=False)
    console.print(
        f"Assumption (estimate): {result.demand_per_10k:g} place(s) needed at any one time per 10,000 inhabitants "
        f"(default: {config.CAPACITY_DEMAND_SOURCE}); change it with --demand-rate. Places per shelter are "
        "published figures (lower bound of a range), community {word} are estimates.".format(
            word=COUNT_WORDS[result.measure]),
        markup=False, highlight=False)
    return 0


def _counts_table(frame: pd.DataFrame, keys: dict[str, str], values: dict[str, str], title: str) -> Table:
    """A rich table of ``frame``: ``keys`` (column → heading, left) then ``values`` (column → heading,
    counts with thousands separators, right)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for heading in keys.values():
        table.add_column(heading, overflow="fold")
    for heading in values.values():
        table.add_column(heading, justify="right")
    for row in frame.to_dict("records"):
        table.add_row(*[short_region(row[c]) if c == "region" else str(row[c]) for c in keys],
                      *[f"{int(row[c]):,}" for c in values])
    return table


def cmd_reach(args: argparse.Namespace, settings: config.Settings) -> int:
    """``reach``: women (or all people) within 30 / 60 / 120 min and ``--threshold`` of each
    organisation's services of ``--type``, side by side per type and per region, and what each
    organisation alone adds (the Reach page's figures, :func:`coverage.analysis.reach.summarise`,
    from public points); ``--out`` writes the per-district table as CSV; exit code."""
    if args.out:
        check_out_path(args.out, (".csv",))
    inputs = analysis.load_inputs(progress=_log, settings=settings)
    network = roads.load_network(season=args.season, settings=settings, progress=_log)
    chosen = inputs.services[inputs.services["type"].isin(args.type)]
    with console.status(f"Computing reach per organisation ({args.season}) …"):
        times = reach.organisation_times(network, inputs.communities, chosen, settings, by_type=True)
    report = reach.summarise(times, inputs.communities, threshold_min=args.threshold, regions=args.region or None,
                             measure=COUNT_MEASURES[args.count])
    who, chosen_col = args.count, report.chosen
    types = " or ".join(t.replace("_", " ") for t in args.type)
    steps = {reach.within_column(t): f"≤{t:g} min" for t in report.thresholds}
    console.print(_counts_table(report.totals, {"org": "organisation"}, steps,
                                f"{who.capitalize()} within reach of any {types} of each organisation ({args.season})"))
    console.print(f"{who.capitalize()} in {', '.join(short_region(r) for r in report.regions)}: "
                  f"{report.population:,}. Anyone near several organisations counts for each; "
                  f"'{reach.ANY_ORGANISATION}' counts each once.", soft_wrap=True)
    console.print(_counts_table(report.by_type, {"org": "organisation", "service_type": "type"},
                                {chosen_col: f"≤{args.threshold:g} min"},
                                f"{who.capitalize()} within {args.threshold:g} min, per service type"))
    console.print(_counts_table(report.by_region, {"org": "organisation", "region": "region"},
                                {chosen_col: f"≤{args.threshold:g} min"},
                                f"{who.capitalize()} within {args.threshold:g} min, per region"))
    console.print(_counts_table(report.alone, {"org": "organisation", "region": "region"},
                                {"people_alone": "only it reaches"},
                                f"What each organisation alone adds: {who} within {args.threshold:g} min of it "
                                "and of no other"))
    if args.out:
        out = Path(args.out)
        try:
            services.neutralise_formulas(measure_columns(report.by_district, report.measure)).to_csv(out, index=False)
        except OSError as err:
            out.unlink(missing_ok=True)
            raise _write_failed(out, err) from None
        console.print(f"Wrote {out}")
    return 0


def cmd_route(args: argparse.Namespace, settings: config.Settings) -> int:
    """``route A B``: drive minutes and kilometres between two named places and the towns on the way."""
    network = roads.load_network(season=args.season, settings=settings, progress=_log)
    try:
        found = travel.route(network, args.origin, args.destination)
    except ValueError as err:
        console.print(str(err), style="red", markup=False, highlight=False, soft_wrap=True)
        return 2
    console.print(
        f"{args.origin} → {args.destination} ({args.season}): [bold]{fmt_minutes(found.minutes)}[/] by car, "
        f"{found.km:,.0f} km"
    )
    console.print("Via: " + " → ".join(found.towns))
    _report_missing_nodes(network)
    _report_winter_roads(args.season, settings)
    return 0


def cmd_site(args: argparse.Namespace, settings: config.Settings) -> int:
    """``site``: where ``--k`` new sites of a type would reach the most women (``mclp``) or
    shorten their trips most (``pmedian``), given the existing ones; from public points only."""
    inputs = analysis.load_inputs(progress=_log, settings=settings)
    network = roads.load_network(season=args.season, settings=settings, progress=_log)
    candidates = None
    if args.candidates:
        names = [n.strip() for part in args.candidates for n in part.split(",") if n.strip()]
        candidates = allocation.candidates_named(inputs, names)
    measure = COUNT_MEASURES[args.count]
    options = dict(threshold_min=args.threshold, measure=measure, candidates=candidates, network=network,
                   settings=settings)
    with console.status("Choosing sites …"):
        if args.method == "mclp":
            plan = allocation.maximal_covering(inputs, args.type, k=args.k, **options)
        else:
            plan = allocation.p_median(inputs, args.type, p=args.k, **options)
    console.print(_site_table(plan, args))
    counted = COUNT_WORDS[plan.measure]
    console.print(
        f"{counted.capitalize()} within {plan.threshold_min:g} min of a {_types_words(args.type)}: "
        f"{plan.covered_before:,} now, [bold]{plan.covered_after:,}[/] with these sites "
        f"(+{plan.adds:,}) of {plan.total:,}."
        + ("" if plan.optimal else " The solver stopped at its time limit: a good choice, not proven the best.")
    )
    return 0


def _types_words(types: Sequence[str]) -> str:
    return " or ".join(t.replace("_", " ") for t in types)


def _site_table(plan: allocation.SitePlan, args: argparse.Namespace) -> Table:
    counted = COUNT_WORDS[plan.measure]
    goal = (f"most {counted} within {plan.threshold_min:g} min" if plan.method == "mclp"
            else f"least {counted}-weighted minutes")
    table = Table(title=f"{len(plan.sites)} new {_types_words(args.type)} site(s) ({plan.method}: {goal}, "
                        f"{args.season})",
                  caption=f"adds: {counted} newly within {plan.threshold_min:g} min, after the sites above it",
                  box=box.SIMPLE_HEAD)
    for column, justify in (("#", "right"), ("site", "left"), ("district", "left"), ("region", "left"),
                            ("adds", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    if plan.method == "pmedian":
        table.add_column("minutes saved per person", justify="right")
    for row in plan.sites.itertuples(index=False):
        # the table is English: town names in Latin script whatever the gazetteer stores (Исфара → Isfara)
        cells = [str(row.rank), names.display_name(str(row.name), "en"), str(row.district), short_region(row.region),
                 f"{row.adds:,}"]
        if plan.method == "pmedian":
            total = plan.total or 1
            cells.append(f"{row.minutes_saved / total:.1f}")
        table.add_row(*cells)
    return table


def _report_winter_roads(season: str, settings: config.Settings) -> None:
    """In winter, one line naming the roads the network closes and slows (with km)."""
    if season == "winter":
        line = seasons.winter_roads_line(seasons.winter_roads(settings.network_path, settings=settings))
        console.print(line[0].upper() + line[1:] + ".", markup=False, highlight=False, soft_wrap=True)


def _report_missing_nodes(network: roads.RoutingNetwork) -> None:
    """A clipped extract's roads were cut where they left the file: say how many nodes."""
    if network.missing_nodes:
        console.print(f"Note: {network.missing_nodes:,} nodes referenced by roads in {Path(network.source).name} "
                      "are not in the file (a clipped extract); the roads were cut there.", style="yellow",
                      soft_wrap=True)


def cmd_check_services(args: argparse.Namespace, settings: config.Settings) -> int:
    """``check-services FILE``: validate a services file row by row; 0 if valid, 1 if not."""
    path = Path(args.file)
    try:
        table = services.read_services(services.read_file(path), str(path))
    except services.ServicesError as err:
        console.print(str(err), markup=False, highlight=False, style="red", soft_wrap=True)
        return 1
    console.print(f"{path}: {len(table)} services, all rows valid.")
    return 0


def cmd_export_services(args: argparse.Namespace, settings: config.Settings) -> int:
    """The registry as a file. ``--public`` goes through the privacy edge (confidential
    services at their settlement, public columns only); ``--staff`` is the full copy
    with exact points and addresses, for the organisations' own records only."""
    out = check_out_path(args.out, EXPORT_SUFFIXES[args.format])
    registry = store.open_store(store.store_location(settings=settings))
    places = None
    if args.public:
        inputs = analysis.load_inputs(services_table=registry.services(), progress=_log, settings=settings)
        places = inputs.places
    data = registry.export(args.format, public=args.public, places=places)
    try:
        if args.public:
            out.write_bytes(data)
        else:  # exact shelter points: readable by the owner only, from the first byte
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
    except OSError as err:
        out.unlink(missing_ok=True)
        raise _write_failed(out, err) from None
    kind = "public copy (confidential services at town level)" if args.public else \
        "STAFF copy: exact points and addresses; keep it private"
    console.print(f"Wrote {out} ({args.format}, {kind})")
    return 0


BRIEF_SUFFIXES: tuple[str, ...] = (".pdf", ".png")
EXPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx", "geojson", "gpkg")  # coverage.views.exports.FORMATS
# brief and export import matplotlib, fpdf2 and openpyxl when they run, so other commands start quickly


def _briefs():
    from coverage.analysis import briefs

    return briefs


def _area_result(args: argparse.Namespace, settings: config.Settings):
    """Public inputs, travel times, the area asked for and its analysis (brief, export)."""
    briefs = _briefs()
    inputs = analysis.load_inputs(progress=_log, settings=settings)
    area = briefs.find_area(inputs.districts, district=args.district, region=args.region)
    with console.status(f"Computing travel times ({args.season}) …"):
        times = analysis.travel_times(inputs, season=args.season, settings=settings, progress=_log)
    result = briefs.area_analysis(inputs, times, area, args.type, threshold_min=args.threshold, season=args.season,
                                  measure=COUNT_MEASURES[args.count])
    return inputs, times, area, result


def _write_bytes(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as err:
        out.unlink(missing_ok=True)
        raise _write_failed(out, err) from None


def cmd_brief(args: argparse.Namespace, settings: config.Settings) -> int:
    """``brief``: the one-page PDF brief of a district or region (``--out x.pdf``), its map
    alone (``--out x.png``) or, with ``--funders``, the reach-per-organisation summary;
    from public inputs only (every shelter at its town)."""
    out = check_out_path(args.out, (".pdf",) if args.funders else BRIEF_SUFFIXES)
    briefs = _briefs()
    gettext = i18n.translator(settings.language)  # --lang (before or after the command) or COVERAGE_LANG
    inputs, times, area, result = _area_result(args, settings)
    approximate = roads.is_default_network(settings.network_path)
    if args.funders:
        summary = briefs.reach_summary(inputs, area, args.type, threshold_min=args.threshold, season=args.season,
                                       measure=COUNT_MEASURES[args.count], settings=settings,
                                       approximate_roads=approximate)
        data = briefs.reach_pdf(inputs, summary, gettext=gettext, language=settings.language)
    elif out.suffix.lower() == ".png":
        data = briefs.map_png(inputs, area, result, gettext=gettext, approximate_roads=approximate,
                              language=settings.language)
    else:
        data = briefs.brief_pdf(inputs, times, area, result, gettext=gettext, approximate_roads=approximate,
                                scenario_title=args.scenario_title, scenario_summary=args.scenario_summary,
                                language=settings.language)
    _write_bytes(out, data)
    console.print(f"Wrote {out} ({area.kind} {area.name}, {settings.language})", markup=False, highlight=False)
    return 0


def cmd_export(args: argparse.Namespace, settings: config.Settings) -> int:
    """``export``: the tables behind a brief (CSV files or one XLSX workbook) or its layers
    (one GeoJSON or GeoPackage), for a district, a region or the whole country; public
    inputs only (shelters at their town, public columns), formulas neutralised."""
    from coverage.views import exports

    briefs = _briefs()
    out = check_out_path(args.out, exports.SUFFIXES[args.format])
    inputs, _times, area, result = _area_result(args, settings)
    if args.format in ("csv", "xlsx"):
        reach_table, _org_times = briefs.area_reach(inputs, area, args.type, season=args.season,
                                                    measure=COUNT_MEASURES[args.count], settings=settings)
        tables = briefs.export_tables(inputs, area, result, reach_table=reach_table,
                                      gettext=i18n.translator(settings.language))
        if args.format == "csv":
            try:
                written = exports.write_tables_csv(tables, out)
            except OSError as err:
                raise _write_failed(out, err) from None
        else:
            _write_bytes(out, exports.tables_xlsx(tables))
            written = [out]
    else:
        layers = briefs.export_layers(inputs, area, result)
        _write_bytes(out, exports.layers_geojson(layers) if args.format == "geojson" else exports.layers_gpkg(layers))
        written = [out]
    for path in written:
        console.print(f"Wrote {path}", markup=False, highlight=False)
    return 0


def _area_flags(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """--district / --region and the analysis choices shared by ``brief`` and ``export``."""
    where = parser.add_mutually_exclusive_group(required=required)
    where.add_argument("--district", help="a district, by today's name or an older spelling, any case or script")
    where.add_argument("--region", help="a region: Khatlon, Sughd, DRS, …")
    parser.add_argument("--type", nargs="+", default=["shelter"], choices=config.SERVICE_TYPES, metavar="TYPE",
                        help=f"service type(s): {', '.join(config.SERVICE_TYPES)} (default: shelter)")
    parser.add_argument("--threshold", type=threshold_minutes, default=config.DEFAULT_THRESHOLD_MIN,
                        help=f"minutes, above 0 and at most {config.MAX_THRESHOLD_MIN:g} (default: 60)")
    parser.add_argument("--season", choices=config.SEASONS, default="summer")
    parser.add_argument("--count", choices=tuple(COUNT_MEASURES), default="women",
                        help="what the figures count: women (default) or all people")
    # SUPPRESS: no default here, so `--lang tg brief …` (the global flag) is not reset by this one
    parser.add_argument("--lang", choices=tuple(i18n.LANGUAGES), default=argparse.SUPPRESS,
                        help="language (default: $COVERAGE_LANG or en)")
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--network", type=Path, help="road network (default: $COVERAGE_NETWORK or the trunk roads)")
    parser.add_argument("--services", type=Path,
                        help="services file (default: data/services/services.csv); confidential services are "
                             "shown and counted at their town only")


def _scenario_from_args(args: argparse.Namespace, inputs: analysis.Inputs, baseline: scenarios.Baseline,
                        registry: store.BaseServiceStore | None) -> scenarios.Scenario:
    """The scenario the flags describe: a saved one (``--load``) with the flags added to it."""
    loaded = scenarios.scenario_from_dict(registry.load_scenario(args.load)["body"]) if args.load else None
    start = loaded or scenarios.Scenario()
    season = args.season or start.season
    sites = start.added_sites + tuple(scenarios.parse_site(text) for text in args.add or ())
    closed = start.closed_services + tuple(s for s in args.close_service or () if s not in start.closed_services)
    table = baseline.roads(season) if args.close_road else None
    road_list = start.closed_roads + tuple(r for text in args.close_road or ()
                                           for r in scenarios.find_roads(table, text, baseline.ways()))
    types = tuple(args.type) if args.type else (
        start.service_types if loaded else (scenarios.touched_types(inputs, closed, sites) or ("shelter",)))
    return scenarios.check_scenario(scenarios.Scenario(
        name=args.save or (loaded.name if loaded else ""), closed_services=closed, added_sites=sites, season=season,
        closed_roads=road_list, service_types=types,
        threshold_min=args.threshold if args.threshold is not None else start.threshold_min,
        measure=COUNT_MEASURES[args.count] if args.count else start.measure))


def _scenario_tables(result: scenarios.ScenarioResult, limit: int) -> list[Table]:
    """Regions, the districts that change and the communities that change status."""
    scenario = result.scenario
    counted = COUNT_WORDS[scenario.measure]
    regions = Table(title=f"{counted.capitalize()} within {scenario.threshold_min:g} min, before "
                          f"({result.baseline_season}) and after ({scenario.season})", box=box.SIMPLE_HEAD)
    for column in ("region", counted, "before", "after", "change"):
        regions.add_column(column, justify="left" if column == "region" else "right")
    for row in result.totals.itertuples(index=False):
        regions.add_row(short_region(row.region), f"{row.population:,}", f"{row.within_before:,} ({row.share_before:.0%})",
                        f"{row.within_after:,} ({row.share_after:.0%})", f"{row.change:+,}")
    moved = result.districts[result.districts["change"] != 0]
    districts = Table(title=f"Districts that change ({len(moved)})", box=box.SIMPLE_HEAD)
    for column in ("district", "region", "before", "after", "change"):
        districts.add_column(column, justify="left" if column in ("district", "region") else "right")
    for row in moved.head(limit).itertuples(index=False):
        districts.add_row(str(row.district), short_region(row.region), f"{row.within_before:,}",
                          f"{row.within_after:,}", f"{row.change:+,}")
    changed = Table(title=f"Communities whose status changes ({len(result.changed)})", box=box.SIMPLE_HEAD,
                    caption=f"{counted}: estimates (census district totals shared over settlements)")
    for column in ("community", "district", counted, "before", "after", "now"):
        changed.add_column(column, justify="right" if column in (counted, "before", "after") else "left",
                           overflow="fold")
    for row in result.changed.head(limit).itertuples(index=False):
        changed.add_row(str(row.name), str(row.district), f"{getattr(row, scenario.measure):,}",
                        fmt_minutes(row.minutes_before), fmt_minutes(row.minutes_after), str(row.status_after))
    return [regions, districts, changed]


def cmd_scenario(args: argparse.Namespace, settings: config.Settings) -> int:
    """``scenario``: before/after a what-if (services closed or added, roads closed, the
    season), from public points; optionally saved to or loaded from the registry's
    ``scenarios`` table (never the services). Exit code."""
    registry = store.open_store(store.store_location(settings=settings)) if (args.save or args.load or args.list) \
        else None
    if args.list:
        saved = registry.saved_scenarios()
        for row in saved.itertuples(index=False):
            console.print(f"{row.name}  (by {row.author}, {row.created_at})", markup=False, highlight=False)
        if saved.empty:
            console.print("No saved scenarios.")
        return 0
    if args.save and not (args.author or "").strip():
        console.print("--save needs --author NAME (who saves the scenario).", style="red")
        return 2
    inputs = analysis.load_inputs(progress=_log, settings=settings)
    baseline = scenarios.Baseline(inputs, settings=settings)
    scenario = _scenario_from_args(args, inputs, baseline, registry)
    base_season = args.baseline_season or scenario.season
    scenarios.run_scenario(inputs, scenarios.Scenario(season=base_season, service_types=scenario.service_types,
                                                      threshold_min=scenario.threshold_min), baseline=baseline)
    result = scenarios.run_scenario(inputs, scenario, baseline=baseline, baseline_season=base_season,
                                    regions=args.region or None)
    counted = COUNT_WORDS[scenario.measure]
    types = " or ".join(t.replace("_", " ") for t in scenario.service_types)
    console.print(f"Scenario{' ' + repr(scenario.name) if scenario.name else ''}: {counted} within "
                  f"{scenario.threshold_min:g} min of a {types}", markup=False, highlight=False)
    for row in result.closed.itertuples(index=False):
        console.print(f"  closed: {row.name} [{row.service_id}]", markup=False, highlight=False)
    for row in result.added.itertuples(index=False):
        console.print(f"  added (proposed): {row.name}", markup=False, highlight=False)
    for row in result.roads.itertuples(index=False):
        note = "" if row.on_network else f" (not on the {scenario.season} network: nothing to close)"
        console.print(f"  road closed: {row.name} [way {row.way_id}]{note}", markup=False, highlight=False,
                      soft_wrap=True)
    overall = result.overall()
    console.print(f"{counted.capitalize()} within {scenario.threshold_min:g} min: before {overall.within_before:,} "
                  f"({overall.share_before:.0%}, {result.baseline_season}), after {overall.within_after:,} "
                  f"({overall.share_after:.0%}, {scenario.season}); change [bold]{overall.change:+,}[/].", soft_wrap=True)
    for table in _scenario_tables(result, args.limit):
        console.print(table)
    console.print(f"{result.minutes_changed:,} communities' minutes changed; recomputed in {result.seconds:.2f} s. "
                  "Figures use every shelter's public (town) point, proposed ones too"
                  + ("; the default road network is approximate." if roads.is_default_network(settings.network_path)
                     else "."), soft_wrap=True)
    if args.save:
        saved = registry.save_scenario(args.save, scenario.to_dict(), args.author.strip(), replace=args.replace)
        console.print(f"Saved scenario {saved['name']!r} (by {saved['author']}, {saved['created_at']}).",
                      markup=False, highlight=False)
    return 0


# Errors about the user's input or set-up, reported as a message (exit code 2) rather
# than a traceback; anything else is a bug and keeps its traceback.
INPUT_ERRORS: tuple[type[Exception], ...] = (CoverageError, FileNotFoundError)


def threshold_minutes(text: str) -> float:
    """The argparse type of ``--threshold``: minutes, 0 < value <= config.MAX_THRESHOLD_MIN."""
    try:
        return analysis.check_threshold(text)
    except CoverageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m coverage`` (every command and its flags)."""
    parser = argparse.ArgumentParser(prog="python -m coverage", description="Women's crisis services coverage, Tajikistan")
    parser.add_argument("--data-dir", type=Path,
                        help=f"data folder (default: $COVERAGE_DATA_DIR or {config.DATA_DIR})")
    parser.add_argument("--lang", choices=config.LANGUAGES,
                        help="language of messages and errors (default: $COVERAGE_LANG or en)")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="assemble boundaries, communities and health facilities")
    data.add_argument("--mirror", type=Path, help="offline mirror folder (default: $COVERAGE_MIRROR or ../shared/data)")
    data.add_argument("--download", action="store_true", help="download the public sources instead of a mirror")
    data.set_defaults(func=cmd_data)

    an = sub.add_parser("analyse", aliases=["analyze"], help="travel time to the nearest service; who is underserved")
    an.add_argument("--type", nargs="+", default=["shelter"], choices=config.SERVICE_TYPES, metavar="TYPE",
                    help=f"service type(s): {', '.join(config.SERVICE_TYPES)} (default: shelter)")
    an.add_argument("--threshold", type=threshold_minutes, default=config.DEFAULT_THRESHOLD_MIN,
                    help=f"minutes, above 0 and at most {config.MAX_THRESHOLD_MIN:g} (default: 60)")
    an.add_argument("--season", choices=config.SEASONS, default="summer")
    an.add_argument("--region", action="append", help="limit to a region (repeatable), e.g. Khatlon")
    an.add_argument("--count", choices=tuple(COUNT_MEASURES), default="women",
                    help="what the figures count: women (2020 census female share per district; default) "
                         "or all people")
    an.add_argument("--out", help="write results to .gpkg, .geojson or .csv")
    an.add_argument("--network", type=Path,
                    help="road network: .osm / .osm.pbf (default: $COVERAGE_NETWORK or the shipped trunk roads)")
    an.add_argument("--services", type=Path,
                    help="services file (default: data/services/services.csv); it may hold exact points of "
                         "confidential services: every figure is computed from their public (town) point")
    an.add_argument("--population", type=Path,
                    help="user population layer (points or H3 cells; GPKG/GeoJSON/CSV; default: $COVERAGE_POPULATION)")
    an.add_argument("--osm-health", action="store_true", help="add OpenStreetMap hospitals/clinics as 'medical'")
    an.add_argument("--mirror", type=Path, help="mirror folder for the data step if data is missing")
    an.add_argument("--limit", type=int, default=20, help="rows of the district table to print")
    an.set_defaults(func=cmd_analyse)

    cap = sub.add_parser("capacity", help="shelter places within reach per 100,000 women by district; "
                                          "where demand exceeds them (estimates)")
    cap.add_argument("--type", nargs="+", default=list(config.CAPACITY_TYPES), choices=config.SERVICE_TYPES,
                     metavar="TYPE", help="service type(s) whose places count (default: shelter)")
    cap.add_argument("--threshold", type=threshold_minutes, default=config.DEFAULT_THRESHOLD_MIN,
                     help="catchment in minutes by road (default: 60)")
    cap.add_argument("--season", choices=config.SEASONS, default="summer")
    cap.add_argument("--region", action="append", help="list only this region's districts (repeatable)")
    cap.add_argument("--count", choices=tuple(COUNT_MEASURES), default="women",
                     help="places per 100,000 women (default) or per 100,000 people")
    cap.add_argument("--demand-rate", type=float, dest="demand_rate",
                     help=f"ASSUMPTION: places needed at one time per 10,000 inhabitants (default "
                          f"{config.CAPACITY_DEMAND_PER_10K:g}: {config.CAPACITY_DEMAND_SOURCE}; "
                          "or capacity_demand_per_10k in coverage.toml)")
    cap.add_argument("--network", type=Path, help="road network (default: $COVERAGE_NETWORK or the shipped trunk roads)")
    cap.add_argument("--services", type=Path, help="services file with a places column (default: the shipped list)")
    cap.add_argument("--limit", type=int, default=25, help="rows of the district table to print")
    cap.set_defaults(func=cmd_capacity)

    rc = sub.add_parser("reach", help="women (or people) within reach of each organisation, per type and region")
    rc.add_argument("--type", nargs="+", default=["shelter"], choices=config.SERVICE_TYPES, metavar="TYPE",
                    help=f"service type(s): {', '.join(config.SERVICE_TYPES)} (default: shelter)")
    rc.add_argument("--threshold", type=threshold_minutes, default=config.DEFAULT_THRESHOLD_MIN,
                    help="minutes, shown beside 30 / 60 / 120 (default: 60)")
    rc.add_argument("--season", choices=config.SEASONS, default="summer")
    rc.add_argument("--region", action="append", help="limit to a region (repeatable); default all regions")
    rc.add_argument("--count", choices=tuple(COUNT_MEASURES), default="women",
                    help="what the figures count: women (default) or all people")
    rc.add_argument("--out", help="write the per-district table to a .csv file")
    rc.add_argument("--network", type=Path, help="road network (default: $COVERAGE_NETWORK or the shipped trunk roads)")
    rc.add_argument("--services", type=Path, help="services file (default: data/services/services.csv)")
    rc.add_argument("--mirror", type=Path, help="mirror folder for the data step if data is missing")
    rc.set_defaults(func=cmd_reach)

    rt = sub.add_parser("route", help="drive time and the towns on the way")
    rt.add_argument("origin")
    rt.add_argument("destination")
    rt.add_argument("--season", choices=config.SEASONS, default="summer")
    rt.add_argument("--network", type=Path, help="road network (default: $COVERAGE_NETWORK or the shipped trunk roads)")
    rt.set_defaults(func=cmd_route)

    st = sub.add_parser("site", help="where new sites of a type would reach the most women (location-allocation)")
    st.add_argument("--type", nargs="+", default=["crisis_centre"], choices=config.SERVICE_TYPES, metavar="TYPE",
                    help="type of the new sites; existing services of the type(s) count as already there "
                         "(default: crisis_centre)")
    st.add_argument("--k", type=int, default=3, help="number of new sites (default: 3)")
    st.add_argument("--threshold", type=threshold_minutes, default=config.DEFAULT_THRESHOLD_MIN,
                    help="minutes that count as within reach (default: 60)")
    st.add_argument("--method", choices=allocation.METHODS, default="mclp",
                    help="mclp: most within the threshold (default); pmedian: least weighted minutes")
    st.add_argument("--count", choices=tuple(COUNT_MEASURES), default="women",
                    help="what to count: women (default) or all people")
    st.add_argument("--candidates", action="append",
                    help="towns or communities to choose from, comma-separated (default: towns and district seats)")
    st.add_argument("--season", choices=config.SEASONS, default="summer")
    st.add_argument("--network", type=Path, help="road network (default: $COVERAGE_NETWORK or the shipped trunk roads)")
    st.add_argument("--services", type=Path, help="services file (default: data/services/services.csv)")
    st.add_argument("--mirror", type=Path, help="mirror folder for the data step if data is missing")
    st.set_defaults(func=cmd_site)

    chk = sub.add_parser("check-services", help="validate a services file (CSV/XLSX/GeoJSON) row by row")
    chk.add_argument("file")
    chk.set_defaults(func=cmd_check_services)

    au = sub.add_parser("add-user", add_help=False,
                        help="add or reset a dashboard user (see `python -m coverage add-user --help`)")
    au.set_defaults(func=None)

    ex = sub.add_parser("export-services", help="write the services registry as CSV, GeoJSON or GeoPackage")
    who = ex.add_mutually_exclusive_group(required=True)
    who.add_argument("--public", action="store_true",
                     help="the public copy: confidential services (shelters) at town level, public columns only")
    who.add_argument("--staff", action="store_true",
                     help="the full staff copy with exact points, addresses and closed services (private!)")
    ex.add_argument("--format", choices=store.EXPORT_FORMATS, default="csv")
    ex.add_argument("--out", required=True, help="file to write")
    ex.add_argument("--store", default=None,
                    help="registry: a GeoPackage file or a postgresql:// URL "
                         "(default: $COVERAGE_STORE or private/registry.gpkg)")
    ex.set_defaults(func=cmd_export_services)

    br = sub.add_parser("brief", help="one-page PDF brief of a district or region (.pdf), its map (.png), or "
                                      "--funders: reach per organisation")
    _area_flags(br, required=True)
    br.add_argument("--funders", action="store_true", help="the funders' summary: reach per organisation (PDF)")
    br.add_argument("--scenario-title", help="title of the scenario the brief shows, if any")
    br.add_argument("--scenario-summary", help="one or two sentences on the scenario")
    br.set_defaults(func=cmd_brief)

    xp = sub.add_parser("export", help="tables (csv, xlsx) or layers (geojson, gpkg) of a district, region or "
                                       "the country, public only")
    xp.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    _area_flags(xp, required=False)
    xp.set_defaults(func=cmd_export)

    scn = sub.add_parser("scenario", help="what if a service closes, a site opens, a road or pass closes: "
                                          "before and after")
    scn.add_argument("--close-service", action="append", metavar="ID", help="close a service (repeatable)")
    scn.add_argument("--add", action="append", metavar="TYPE@PLACE",
                     help="add a proposed site: TYPE@TOWN or TYPE@LON,LAT, optionally :ORG "
                          "(e.g. crisis_centre@Kulob; repeatable); a proposed shelter counts at its town")
    scn.add_argument("--close-road", action="append", metavar="WAYID|NAME",
                     help="close a road by way id or name, e.g. 'M41 Tavildara – Qalaikhumb' (repeatable)")
    scn.add_argument("--season", choices=config.SEASONS, help="season of the scenario (default: summer)")
    scn.add_argument("--baseline-season", choices=config.SEASONS,
                     help="season of the 'before' figures (default: the scenario's)")
    scn.add_argument("--type", nargs="+", choices=config.SERVICE_TYPES, metavar="TYPE",
                     help="service type(s) counted (default: the types closed or added, else shelter)")
    scn.add_argument("--threshold", type=threshold_minutes, help="minutes (default: 60)")
    scn.add_argument("--count", choices=tuple(COUNT_MEASURES), help="women (default) or people")
    scn.add_argument("--region", action="append", help="count only this region (repeatable)")
    scn.add_argument("--limit", type=int, default=20, help="rows of the district and community tables")
    scn.add_argument("--save", metavar="NAME", help="save the scenario under NAME beside the registry")
    scn.add_argument("--replace", action="store_true", help="with --save: replace a saved scenario of that name")
    scn.add_argument("--author", help="with --save: who saves it")
    scn.add_argument("--load", metavar="NAME", help="start from a saved scenario (flags add to it)")
    scn.add_argument("--list", action="store_true", help="list the saved scenarios")
    scn.add_argument("--store", default=None,
                     help="registry holding the saved scenarios: a GeoPackage file or a postgresql:// URL")
    scn.add_argument("--network", type=Path, help="road network (default: $COVERAGE_NETWORK or the shipped trunk roads)")
    scn.add_argument("--services", type=Path, help="services file (default: data/services/services.csv)")
    scn.set_defaults(func=cmd_scenario)
    return parser


# Flags that are settings: flag destination → Settings field (the flag wins over
# coverage.toml and the COVERAGE_* environment).
SETTINGS_FLAGS: dict[str, str] = {
    "data_dir": "data_dir", "network": "network_path", "services": "services_path",
    "population": "population_path", "mirror": "mirror_dir", "store": "store", "lang": "language",
    "demand_rate": "capacity_demand_per_10k",
}


def settings_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The settings given as flags (those not given are left out)."""
    return {field: getattr(args, flag) for flag, field in SETTINGS_FLAGS.items()
            if getattr(args, flag, None) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a CoverageError is printed as its one message (exit 2), never a traceback."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "add-user":
        return auth.main_add_user(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    language = getattr(args, "lang", None) or config.DEFAULT_LANGUAGE  # until the settings (COVERAGE_LANG) are read
    try:
        settings = config.load_settings(overrides=settings_overrides(args))
        language = settings.language
        return int(args.func(args, settings) or 0)
    except INPUT_ERRORS as err:  # bad input or set-up: the message names the file, row and problem
        shown = messages.error_text(err, gettext=i18n.translator(language)) if isinstance(err, CoverageError) \
            else str(err)
        console.print(shown, style="red", markup=False, highlight=False, soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())

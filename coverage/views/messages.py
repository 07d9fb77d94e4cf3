"""Errors and upload problems in the reader's language, translated at the edge.

A :class:`coverage.errors.CoverageError` (and each :class:`coverage.errors.Problem` of a
rejected upload) carries a ``message_id`` and ``params``. :data:`TEMPLATES` gives each
message id its English template (the catalogues' msgid); :func:`error_text` and
:func:`problem_text` fill the translated template with the error's params. Where a
language has no translation, or the params do not fill the template, the error's own
English message (which often names more detail) is shown, so nothing is lost.
``tests/test_i18n.py`` checks every message id used in the code has a template whose
placeholders the raise sites give, and that every catalogue translates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coverage.errors import CoverageError, Problem, ServicesError
from coverage.views.i18n import N_, Gettext

TEMPLATES: dict[str, str] = {
    # family defaults
    "error": N_("Something went wrong."),
    "auth.error": N_("A users-file or sign-in problem."),
    "auth.not_configured": N_("Sign-in is not configured."),
    "boundaries.invalid": N_("The boundary or census input does not have the expected shape."),
    "config.invalid": N_("A setting is not valid."),
    "data_step.failed": N_("The data step could not run; nothing was written."),
    "input.invalid": N_("This input cannot be used."),
    "network.unreadable": N_("{path}: not a readable OpenStreetMap file."),
    "output.failed": N_("The output file cannot be written."),
    "population.invalid": N_("The population layer is not valid."),
    "registry.error": N_("The services registry cannot do that."),
    "registry.permission_denied": N_("Your organisation does not own this service."),
    "registry.unknown_service": N_("No service with that id in the registry."),
    "services.invalid": N_("{source}: {count} problem(s)"),
    "table.invalid": N_("The file cannot be read as a table."),
    # sign-in and users
    "auth.cookie_secret_unreadable": N_("{path}: cannot read the session secret; fix the file's permissions, delete "
                                        "it to generate a new one, or set COVERAGE_COOKIE_SECRET."),
    "auth.cookie_secret_unwritable": N_("{path}: cannot write the generated session secret; make the private folder "
                                        "writable or set COVERAGE_COOKIE_SECRET."),
    "auth.empty_secret": N_("An empty secret cannot sign session tokens."),
    "auth.organisation_invalid": N_("The organisation must be a key such as 'najoti-kudakon' (lower-case letters, "
                                    "digits, '-', '_')."),
    "auth.password_is_username": N_("The password must not be the username."),
    "auth.password_too_long": N_("The password must be at most {max_bytes} bytes."),
    "auth.password_too_short": N_("The password must have at least {min_chars} characters."),
    "auth.role_invalid": N_("The role must be one of: {roles}."),
    "auth.short_cookie_secret": N_("COVERAGE_COOKIE_SECRET is shorter than {min_chars} characters; sign-in needs a "
                                   "long secret. Set a longer one, or unset it to let the dashboard generate one."),
    "auth.short_stored_cookie_secret": N_("{path}: the session secret there is shorter than {min_chars} characters; "
                                          "delete the file to generate a new one, or set COVERAGE_COOKIE_SECRET."),
    "auth.user_exists": N_("User '{username}' already exists (use --replace to reset them)."),
    "auth.user_incomplete": N_("{path}: user '{username}' needs {fields}."),
    "auth.user_role_invalid": N_("{path}: user '{username}' needs a role, one of: {roles}."),
    "auth.username_invalid": N_("The username must be 2–64 characters: lower-case letters, digits, '.', '_' or '-'."),
    "auth.users_file_not_a_mapping": N_("{path}: expected a list of users (username → user)."),
    "auth.users_file_unreadable": N_("{path}: not a readable users file ({reason})."),
    # boundaries, communities, population layer
    "boundaries.adm2_outside_adm1": N_("Some districts lie in no region polygon."),
    "boundaries.ambiguous_name": N_("A district name or alias is ambiguous."),
    "boundaries.census_missing": N_("Some districts have no 2020 census population."),
    "boundaries.no_women_column": N_("The boundary layer was written before women were counted; run the data "
                                     "step again (python -m coverage data)."),
    "communities.no_women_column": N_("The communities layer was written before women were counted; run the data "
                                      "step again (python -m coverage data)."),
    "boundaries.missing_column": N_("The boundary layer lacks a required column."),
    "boundaries.regions_differ": N_("The regions differ between the region layer and the districts."),
    "communities.duplicate_id": N_("A settlement id appears twice."),
    "communities.missing_column": N_("The settlements table lacks a required column (name, place, lat, lon)."),
    "communities.no_communities": N_("Cannot share a non-zero total over no communities."),
    "communities.rounding_failed": N_("Sharing the district totals over the communities failed."),
    "population.h3_missing": N_("The population layer has an H3 column but the h3 package is not installed; "
                                "add lon/lat columns or install h3."),
    "population.no_coordinates": N_("The population layer needs lon/lat columns or an H3 column."),
    "population.no_population_column": N_("The population layer has no population column."),
    "population.no_rows": N_("The population layer has no rows."),
    "population.not_found": N_("The population file was not found."),
    "population.row_invalid": N_("A row of the population layer is not valid."),
    "population.rows_invalid": N_("Rows of the population layer are not valid."),
    "population.unreadable": N_("The population file cannot be read."),
    "population.unsupported_format": N_("Unsupported population file format (use .gpkg, .geojson or .csv)."),
    # settings and command line
    "cli.out_bad_suffix": N_("{path}: choose a file ending in {suffixes}."),
    "cli.out_not_a_file": N_("{path}: exists and is not a regular file (a folder or device); choose a file name."),
    "cli.out_not_writable": N_("{path}: cannot write there ({reason})."),
    "cli.out_write_failed": N_("{path}: writing failed ({reason}); the file was not written."),
    "config.file_missing": N_("{source}: the settings file does not exist."),
    "config.file_unreadable": N_("{source}: not a readable TOML settings file."),
    "config.unknown_key": N_("{source}: unknown setting."),
    "config.not_a_number": N_("{source}: setting '{field}' must be a number (got {value})."),
    "config.out_of_range": N_("{source}: setting '{field}' is out of range (got {value})."),
    "config.not_a_table": N_("{source}: setting '{field}' must be a table of numbers (got {value})."),
    "config.not_an_integer": N_("{source}: setting '{field}' must be a whole number (got {value})."),
    "config.not_a_path": N_("{source}: setting '{field}' must be a non-empty text or path (got {value})."),
    "config.path_missing": N_("{source}: setting '{field}' names a path that does not exist (got {value})."),
    "config.not_a_folder": N_("{source}: setting '{field}' must be a folder, not a file (got {value})."),
    "config.not_a_file": N_("{source}: setting '{field}' must be a file, not a folder (got {value})."),
    "config.unknown_language": N_("{source}: setting '{field}' must be one of en, ru, tg (got {value})."),
    "config.bad_tiles": N_("{source}: setting '{field}' must be a tile URL with {{z}}, {{x}} and {{y}}, or none / off "
                           "(got {value})."),
    # data step
    "data_step.boundaries_api": N_("The geoBoundaries service did not give the boundaries."),
    "data_step.boundaries_empty": N_("The boundaries download has no features."),
    "data_step.boundaries_not_geojson": N_("The boundaries download is not GeoJSON."),
    "data_step.census_missing_column": N_("The census table lacks a required column."),
    "data_step.census_needs_mirror": N_("The 2020 census district totals cannot be downloaded; give the mirror "
                                        "folder (COVERAGE_MIRROR)."),
    "data_step.census_not_a_number": N_("A census figure is not a number."),
    "data_step.census_women_out_of_range": N_("A census count of women is not between 0 and the population."),
    "data_step.districts_failed": N_("Building the districts failed."),
    "data_step.download_failed": N_("A download failed."),
    "data_step.mirror_incomplete": N_("The mirror folder lacks files the data step needs."),
    "data_step.no_mirror": N_("There is no mirror folder (set COVERAGE_MIRROR)."),
    "data_step.no_settlements": N_("OpenStreetMap (Overpass) returned no settlements."),
    "data_step.overpass_failed": N_("The request to OpenStreetMap (Overpass) failed."),
    "data_step.population_mismatch": N_("The community figures do not add up to the census district totals."),
    # analysis and routing
    "input.measure": N_("Unknown measure '{value}'; choose from {known}."),
    "input.threshold": N_("The threshold must be a number of minutes above 0 and at most {max_min:g}, not {value}."),
    "input.unknown_season": N_("The season must be one of {known}, not '{season}'."),
    "route.no_road": N_("No road from '{origin}' to '{destination}' on this network."),
    "route.unknown_place": N_("No place named '{place}' on the network."),
    "services.unknown_type": N_("Unknown service type(s) {types}; choose from {known}."),
    "input.demand_rate": N_("The demand rate must be a number of places per 10,000 people from 0 to 10,000, "
                            "not {value}."),
    "input.area_both": N_("Give a district or a region, not both."),
    "input.unknown_district": N_("No district named '{name}' (by today's name or any older one)."),
    "input.unknown_region": N_("No region named '{name}'; choose from {known}."),
    "allocation.no_candidates": N_("There are no candidate sites to choose from."),
    "allocation.site_count": N_("The number of new sites must be a whole number from 1 to {max_count} (the "
                                "candidates), not {value}."),
    "allocation.unknown_candidate": N_("No town or community named '{value}' to try as a site."),
    "allocation.bad_method": N_("Unknown method '{value}'; choose from {known}."),
    "od.bad_limit": N_("The time limit must be a non-negative number of minutes, not {limit_minutes}."),
    # what-if scenarios
    "scenario.bad_body": N_("Not a readable scenario: {problem}."),
    "scenario.site_location": N_("Proposed site {site} ({type}): give a town, or a point inside Tajikistan."),
    "scenario.site_syntax": N_("'{text}': write a proposed site as TYPE@TOWN or TYPE@LON,LAT (optionally :ORG), "
                               "e.g. crisis_centre@Kulob."),
    "scenario.unknown_road": N_("No road named '{road}' on the network."),
    "scenario.unknown_service": N_("No open service with id(s) {service_ids}."),
    "scenario.unknown_town": N_("No town or village named '{town}' in the data."),
    # road network files
    "network.no_roads": N_("{path}: no drivable roads found."),
    "network.not_a_file": N_("{path}: not a regular file (a folder, device or pipe)."),
    "network.unknown_format": N_("{path}: unknown road network format; expected OpenStreetMap data (.osm, .osm.pbf)."),
    # registry
    "registry.address_too_long": N_("is longer than {max_chars} characters"),
    "registry.already_closed": N_("The service is already closed (since {closed_date})."),
    "registry.busy": N_("The registry is busy with another change; try again."),
    "registry.cannot_connect": N_("Cannot connect to the registry database."),
    "registry.closed_date_by_close": N_("Use close or reopen to change the closing date."),
    "registry.closed_date_future": N_("{value} is in the future; close a service once it has closed"),
    "registry.closed_date_invalid": N_("'{value}' is not a date (YYYY-MM-DD)"),
    "registry.create_failed": N_("The new registry failed its integrity check ({reason})."),
    "registry.damaged": N_("The registry file is damaged ({reason}); it was not changed. Restore it from a backup, "
                           "or move it aside to start a new registry."),
    "registry.disk_full": N_("The disk is full; the change was not saved."),
    "registry.missing": N_("There is no registry here yet."),
    "registry.no_user": N_("Every change needs the name of who made it."),
    "registry.not_a_file": N_("The registry is not a regular file."),
    "registry.not_a_registry": N_("This is not a services registry."),
    "registry.not_closed": N_("The service is not closed."),
    "registry.nothing_to_import": N_("there are no rows to import"),
    "registry.owner_org_invalid": N_("'{value}' is not an organisation key (lower-case letters, digits, '-', '_')"),
    "registry.permission_denied.add": N_("{user} may add services only for {organisation}."),
    "registry.permission_denied.change": N_("This service belongs to {owner_org}; {user} ({organisation}) may not "
                                            "change it."),
    "registry.permission_denied.import": N_("{user} may import services only for {organisation}, not {foreign}."),
    "registry.permission_denied.owner": N_("Only an admin may hand a service to another organisation."),
    "registry.permission_denied.scenario": N_("{user} may not replace or delete the scenario '{name}': someone "
                                              "else saved it."),
    "registry.postgis_missing": N_("The registry database needs the PostGIS extension."),
    "registry.refused": N_("The registry database refused the change."),
    "registry.scenario_body": N_("The scenario '{name}' cannot be saved (not plain data, or too large)."),
    "registry.scenario_exists": N_("A scenario named '{name}' exists already; choose another name or replace it."),
    "registry.scenario_name": N_("A scenario needs a name of 1 to {max_chars} characters."),
    "registry.service_id_fixed": N_("A service id never changes; close this service and add a new one."),
    "registry.unknown_column": N_("unknown column (known: {known})"),
    "registry.unknown_scenario": N_("No saved scenario named '{name}'."),
    "registry.unknown_export_format": N_("Unknown export format '{format}' (one of {known})."),
    "registry.unreadable": N_("Cannot read the registry ({reason})."),
    "registry.unsupported_location": N_("Registry location '{scheme}://…' is not supported; give a file path or a "
                                        "postgresql:// URL."),
    "registry.url_needed": N_("A PostGIS registry needs a postgresql:// URL."),
    "registry.url_not_file": N_("This is a database URL, not a registry file."),
    "registry.write_failed": N_("The registry could not be written ({reason}); the change was not saved."),
    # rows of an uploaded services file
    "services.duplicate_id": N_("duplicate id '{service_id}' (first used on row {first_row})"),
    "services.empty": N_("is empty"),
    "services.formula": N_("starts with =, +, - or @, which a spreadsheet would run as a formula"),
    "services.id_characters": N_("the service id may hold letters, digits, '-' and '_' only ('{value}')"),
    "services.id_taken": N_("id '{service_id}' is already used by a service in the registry"),
    "services.invalid_value": N_("is not a valid value ('{value}')"),
    "services.missing_column": N_("required column is missing"),
    "services.not_a_number": N_("is not a number"),
    "services.not_boolean": N_("is not true or false ('{value}')"),
    "services.outside": N_("the point lies outside Tajikistan"),
    "services.places_not_a_number": N_("is not a number (beds or places as a whole number; leave it empty when "
                                       "unknown)"),
    "services.places_negative": N_("must not be negative"),
    "services.places_fraction": N_("must be a whole number of places"),
    "services.places_too_large": N_("is too many places for one service; check the figure"),
    "services.shelter_confidential": N_("shelters are always confidential; stored as confidential"),
    "services.swapped": N_("latitude and longitude look swapped"),
    "services.unknown_column": N_("unknown column (known: {known})"),
    "services.unknown_confidence": N_("unknown confidence ('{value}')"),
    "services.unknown_precision": N_("unknown location precision ('{value}')"),
    "services.problem": N_("this row has a problem"),
    # files read as tables
    "table.binary": N_("holds NUL bytes: a binary file, not UTF-8 text; save the file as UTF-8 CSV"),
    "table.cell_too_long": N_("a cell is longer than {max_chars:,} characters"),
    "table.csv_unreadable": N_("not a readable CSV file: {reason}"),
    "table.empty": N_("the file is empty"),
    "table.geojson_bad_feature": N_("feature {feature} is not a valid GeoJSON Feature"),
    "table.geojson_no_features": N_("not a GeoJSON FeatureCollection: no 'features' list"),
    "table.json_too_deep": N_("not a GeoJSON FeatureCollection: the JSON is nested too deeply"),
    "table.json_unreadable": N_("not a GeoJSON FeatureCollection: {reason}"),
    "table.no_header": N_("the file has no header row"),
    "table.no_rows": N_("the file has a header but no rows"),
    "table.not_a_file": N_("is not a regular file (a folder, device or pipe)"),
    "table.not_found": N_("no such file"),
    "table.not_utf8": N_("not UTF-8 text (byte {byte}); save the file as UTF-8"),
    "table.too_large": N_("the file is {size_bytes:,} bytes; the limit is {max_bytes:,}"),
    "table.too_many_columns": N_("the table has {columns:,} columns; the limit is {max_columns:,}"),
    "table.too_many_rows": N_("the table has more than {max_rows:,} rows (the limit)"),
    "table.unreadable": N_("cannot be opened ({reason})"),
    "table.xlsx_too_large": N_("the workbook unpacks to {size_bytes:,} bytes; the limit is {max_bytes:,}"),
    "table.xlsx_too_many_cells": N_("a worksheet reaches beyond {max_rows:,} rows or {max_columns:,} columns "
                                    "(the limits)"),
    "table.xlsx_too_many_members": N_("the workbook holds {members:,} parts; the limit is {max_members:,}"),
    "table.xlsx_unreadable": N_("not a readable XLSX workbook ({reason})"),
}
ROW = N_("row {row}")
FILE = N_("file")
COLUMN = N_("column '{column}'")
SERVICE = N_("service_id {service_id}")
MORE = N_("… and {count} more")


def _shown(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params as the templates show them: lists and tuples joined with ', '."""
    return {k: ", ".join(map(str, v)) if isinstance(v, (list, tuple, set, frozenset)) else v for k, v in params.items()}


def _fill(message_id: str, params: Mapping[str, Any], english: str, gettext: Gettext) -> str:
    template = TEMPLATES.get(message_id)
    if template is None:
        return english
    translated = gettext(template)
    if translated == template:  # English, or no translation: the raise site's own (fuller) text
        return english
    try:
        return translated.format(**_shown(params))
    except (KeyError, IndexError, ValueError):
        return english


def problem_message(problem: Problem, *, gettext: Gettext) -> str:
    """What is wrong in one upload problem (``is empty``), in the language of ``gettext``."""
    return _fill(problem.message_id, {"column": problem.column, **problem.params}, problem.message, gettext)


def problem_text(problem: Problem, *, gettext: Gettext) -> str:
    """One upload problem line (``row 3 (service_id x), column 'lat': is empty``) in the
    language of ``gettext``."""
    message = problem_message(problem, gettext=gettext)
    if gettext(ROW) == ROW:  # English: the line exactly as Problem writes it
        return str(problem)
    where = gettext(FILE) if problem.row == 0 else gettext(ROW).format(row=problem.row)
    ident = f" ({gettext(SERVICE).format(service_id=problem.service_id)})" if problem.service_id else ""
    col = ", " + gettext(COLUMN).format(column=problem.column) if problem.column else ""
    return f"{where}{ident}{col}: {message}"


def error_text(err: CoverageError, *, gettext: Gettext) -> str:
    """``err`` as one message in the language of ``gettext`` (a services file's error
    lists its problems, one per line, as :class:`ServicesError` does in English).

    Parameters
    ----------
    err : CoverageError
        The error (its ``message_id`` and ``params``).
    gettext : callable
        :func:`coverage.views.i18n.translator` of the reader's language.

    Returns
    -------
    str
        The translated message; the error's English text where the catalogue has none.
    """
    if isinstance(err, ServicesError):
        head = _fill(ServicesError.default_id, {"source": err.source, "count": len(err.problems)},
                     f"{err.source}: {len(err.problems)} problem(s)", gettext)
        shown = [f"  - {problem_text(p, gettext=gettext)}" for p in err.problems[: ServicesError.MAX_SHOWN]]
        extra = len(err.problems) - ServicesError.MAX_SHOWN
        if extra > 0:
            shown.append("  " + gettext(MORE).format(count=extra))
        return "\n".join([head, *shown])
    text = _fill(err.message_id, {"field": err.field, **err.params}, str(err), gettext)
    if err.row and text is not str(err) and "{row}" not in TEMPLATES.get(err.message_id, ""):
        text = f"{gettext(ROW).format(row=err.row)}: {text}"
    return text

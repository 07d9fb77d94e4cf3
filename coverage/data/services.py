"""The services table: read, validate row by row, and return a GeoDataFrame.

A services file (CSV, XLSX or GeoJSON) is read as text, checked against one pandera
schema plus the geographic checks pandera cannot express (coordinates inside
Tajikistan, latitude/longitude swapped), and only then turned into typed columns.
Every problem is reported with the file, the row (line number for CSV/XLSX, feature
number for GeoJSON) and what is wrong; nothing is returned when any row fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pandera.pandas as pa

from coverage import config

from coverage.data import tables
from coverage.errors import Problem, ServicesError

REQUIRED_COLUMNS: tuple[str, ...] = (
    "service_id",
    "name",
    "organisation",
    "type",
    "town",
    "district",
    "region",
    "lon",
    "lat",
    "location_precision",
    "confidential",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "org",  # short organisation name for reach figures; empty → organisation
    "district_id",
    "capacity",
    "places",  # beds or places, a whole number; empty = unknown (never read as zero)
    "opened_year",
    "source",
    "source_date",
    "confidence",
    "note",
    "closed_date",
)
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# ``places`` is a number, checked (and written back as digits) by its own rule.
TEXT_COLUMNS: tuple[str, ...] = tuple(c for c in ALL_COLUMNS if c not in ("lon", "lat", "places"))

MAX_UPLOAD_BYTES = config.MAX_UPLOAD_BYTES  # a services list is a few hundred rows; 5 MB is far beyond
FORMULA_PREFIXES = ("=", "+", "-", "@")
# The message id of a row whose latitude and longitude look swapped (the staff page offers to swap them).
SWAPPED_COORDINATES = "services.swapped"
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}


# --- reading ---------------------------------------------------------------------------


def read_table(data: bytes, source_name: str) -> tuple[pd.DataFrame, int]:
    """Raw bytes of a CSV, XLSX or GeoJSON file → all-text DataFrame and the line
    number of its first data row (2 for CSV/XLSX with a header, 1 for GeoJSON features).

    Raises ServicesError (one file-level :class:`Problem` whose ``message_id`` is the
    reader's ``table.*`` id) for an empty file, a file over the size limit, text that
    is not UTF-8, a format it cannot read, or a table beyond the row/column caps
    (:data:`config.MAX_TABLE_ROWS`, :data:`config.MAX_TABLE_COLUMNS`; for XLSX also the
    unpacked-size and member caps), all checked before the table is built.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    source_name : str
        File name: its suffix picks the reader (``.xlsx``/``.xlsm``, ``.geojson``/``.json``,
        else CSV) and it names the file in messages.

    Returns
    -------
    frame : DataFrame
        Every cell a str (GeoJSON points become ``lon``/``lat`` in degrees, EPSG:4326).
    first_row : int
        File line (or feature number) of the first data row.

    Raises
    ------
    ServicesError
        As above.
    """
    try:
        tables.require_content(data)
        tables.check_size(data, max_bytes=MAX_UPLOAD_BYTES)
        suffix = Path(source_name).suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            return tables.read_xlsx(data), 2
        text = tables.decode_utf8(data)
        if suffix in (".geojson", ".json"):
            return tables.read_geojson_text(text), 1
        frame = tables.read_csv_text(text, max_rows=config.MAX_TABLE_ROWS)
    except tables.TableError as err:
        raise ServicesError(source_name, [Problem(err.line, "", err.message, message_id=err.message_id,
                                                  params=err.params)]) from None
    return frame, 2


def read_file(path: str | Path) -> bytes:
    """The bytes of a services file named on the command line or in settings, read
    with the upload cap; a missing file, folder, device or pipe is a ServicesError.

    Raises
    ------
    ServicesError
        One file-level problem with the reader's ``table.*`` message id.
    """
    try:
        return tables.read_file_bytes(path, max_bytes=MAX_UPLOAD_BYTES)
    except tables.TableError as err:
        raise ServicesError(str(path), [Problem(0, "", err.message, message_id=err.message_id,
                                                params=err.params)]) from None


# --- validating ----------------------------------------------------------------------------


# What is wrong with a ``places`` cell (one kind per cell, so each bad cell gets one line):
# error text in the schema → message id.
_PLACES_ERRORS: dict[str, tuple[str, str]] = {
    "not_a_number": ("is not a number (beds or places as a whole number; leave it empty when unknown)",
                     "services.places_not_a_number"),
    "negative": ("must not be negative", "services.places_negative"),
    "fraction": ("must be a whole number of places", "services.places_fraction"),
    "too_large": (f"is more than {config.MAX_SERVICE_PLACES} places, too many for one service; check the figure",
                  "services.places_too_large"),
}


def _places_numbers(text: pd.Series) -> pd.Series:
    """``places`` cells as floats: empty → NaN (unknown), a decimal comma accepted,
    anything that is not a finite number → NaN too (tell them apart by the text)."""
    numbers = pd.to_numeric(text.astype(str).str.strip().str.replace(",", ".", regex=False), errors="coerce")
    return numbers.where(np.isfinite(numbers.astype(float)))


def places_problem_kinds(text: pd.Series) -> pd.Series:
    """What is wrong with each ``places`` cell: ``""`` (fine, or empty = unknown), or one
    of ``not_a_number``, ``negative``, ``fraction``, ``too_large`` (in that order of
    precedence, so a cell has one kind).

    Parameters
    ----------
    text : Series
        The cells as typed (str).

    Returns
    -------
    Series of str
        Same index.
    """
    stripped = text.astype(str).str.strip()
    number = _places_numbers(stripped)
    kind = pd.Series("", index=text.index, dtype=object)
    kind[(stripped != "") & number.isna()] = "not_a_number"
    ok = number.notna()
    kind[ok & (number < 0)] = "negative"
    kind[ok & (number >= 0) & (number != np.floor(number))] = "fraction"
    kind[ok & (number >= 0) & (number == np.floor(number)) & (number > config.MAX_SERVICE_PLACES)] = "too_large"
    return kind


def places_values(places: pd.Series) -> np.ndarray:
    """Places as float (NaN = unknown) from a typed ``Int64`` column or its text form.

    Parameters
    ----------
    places : Series
        ``places`` as :func:`validate_services` returns it (``Int64``, NA = unknown) or as
        text (``""`` = unknown).

    Returns
    -------
    ndarray
        float64 places, NaN where unknown.
    """
    return _places_numbers(places.astype(object).where(places.notna(), "")).to_numpy(dtype=float)


def _text_schema() -> pa.DataFrameSchema:
    """Checks on the text columns; coordinates are checked separately (need both at once)."""
    not_blank = pa.Check(lambda s: s.str.strip() != "", element_wise=False, error="is empty")
    places_checks = [pa.Check(lambda s, k=kind: places_problem_kinds(s) != k, element_wise=False, error=message)
                     for kind, (message, _id) in _PLACES_ERRORS.items()]
    return pa.DataFrameSchema(
        {
            "service_id": pa.Column(str, [not_blank, pa.Check.str_matches(r"^[A-Za-z0-9_.\-]+$",
                                   error="may hold only letters, digits, '-', '_' and '.'")]),
            "name": pa.Column(str, not_blank),
            "type": pa.Column(str, pa.Check.isin(config.SERVICE_TYPES,
                              error=f"is not a known service type ({', '.join(config.SERVICE_TYPES)})")),
            "location_precision": pa.Column(str, pa.Check.isin(config.LOCATION_PRECISIONS,
                                            error=f"must be one of {', '.join(config.LOCATION_PRECISIONS)}")),
            "confidential": pa.Column(str, pa.Check.isin(sorted(_TRUE | _FALSE),
                                      error="must be true or false")),
            "confidence": pa.Column(str, pa.Check.isin(("",) + config.CONFIDENCE_LEVELS,
                                    error=f"must be empty or one of {', '.join(config.CONFIDENCE_LEVELS)}"),
                                    required=False),
            "places": pa.Column(str, places_checks, required=False),
        },
        strict=False,
    )


# A cell problem before it becomes a Problem: (frame index, column, message, message_id, params).
_CellProblem = tuple[int, str, str, str, dict]
_SCHEMA_IDS = {"service_id": "services.id_characters", "type": "services.unknown_type",
               "location_precision": "services.unknown_precision", "confidential": "services.not_boolean",
               "confidence": "services.unknown_confidence"}


_PLACES_IDS = dict(_PLACES_ERRORS.values())


def _schema_problems(frame: pd.DataFrame) -> list[_CellProblem]:
    """Every failing cell of the pandera schema (text columns; never a coordinate)."""
    checked = frame.assign(
        type=frame["type"].str.strip(),
        location_precision=frame["location_precision"].str.strip(),
        confidential=frame["confidential"].str.strip().str.lower(),
        **({"confidence": frame["confidence"].str.strip()} if "confidence" in frame else {}),
    )
    try:
        _text_schema().validate(checked, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        out = []
        for index, column, check, value in cases[["index", "column", "check", "failure_case"]].itertuples(index=False):
            if index is None or pd.isna(index):
                continue
            message = str(check)
            if message == "is empty":
                out.append((int(index), str(column), message, "services.empty", {}))
                continue
            shown = "" if value is None or value == "" else f" ('{value}')"
            message_id = _PLACES_IDS.get(message) if column == "places" else None
            out.append((int(index), str(column), f"{message}{shown}",
                        message_id or _SCHEMA_IDS.get(str(column), "services.invalid_value"),
                        {"value": "" if value is None else str(value)}))
        return out
    return []


def _confidential_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows marked confidential, and every shelter whatever its flag says."""
    flagged = frame["confidential"].str.strip().str.lower().isin(_TRUE) if "confidential" in frame else False
    shelter = frame["type"].str.strip().str.lower().eq("shelter") if "type" in frame else False
    return pd.Series(flagged | shelter, index=frame.index).astype(bool)


SHELTER_NOTICE = "shelters are always confidential; stored as confidential"


def confidentiality_notices(frame: pd.DataFrame, first_row: int = 2) -> list[Problem]:
    """One notice per shelter whose ``confidential`` flag says false: every shelter is
    stored (and published) as confidential whatever the flag says (see
    :func:`validate_services`). ``first_row`` as there; rows are the user's file lines.

    Parameters
    ----------
    frame : DataFrame
        The all-text table as read (``type``, ``confidential``, ``service_id``).
    first_row : int
        File line of the first data row.

    Returns
    -------
    list of Problem
        ``services.shelter_confidential`` notices (not errors); empty without the columns.
    """
    if "type" not in frame or "confidential" not in frame:
        return []
    frame = frame.reset_index(drop=True)
    flag = frame["confidential"].map(lambda v: str(v).strip().lower() in _TRUE if not isinstance(v, bool) else v)
    shelter = frame["type"].astype(str).str.strip().str.lower().eq("shelter")
    ids = frame["service_id"].astype(str).str.strip() if "service_id" in frame else pd.Series("", index=frame.index)
    return [Problem(int(i) + first_row, "confidential", SHELTER_NOTICE, ids[i], message_id="services.shelter_confidential")
            for i in frame.index[shelter & ~flag]]


def _coordinate_problems(frame: pd.DataFrame) -> tuple[list[_CellProblem], np.ndarray, np.ndarray]:
    """Empty, non-numeric, swapped and outside-Tajikistan coordinates. A confidential
    row's (or any shelter's) values are never repeated, in the message or its params."""
    lon = pd.to_numeric(frame["lon"].str.strip().str.replace(",", ".", regex=False), errors="coerce")
    lat = pd.to_numeric(frame["lat"].str.strip().str.replace(",", ".", regex=False), errors="coerce")
    inside = pd.Series(tables.inside_tajikistan(lon, lat), index=frame.index)
    swapped_inside = pd.Series(tables.inside_tajikistan(lat, lon), index=frame.index)
    problems: list[_CellProblem] = []
    # A confidential row's point is never repeated in a message (messages reach logs and screens).
    secret = _confidential_rows(frame)
    for idx in frame.index[lon.isna() | lat.isna()]:
        for col, values in (("lon", lon), ("lat", lat)):
            if pd.isna(values[idx]):
                raw = frame.at[idx, col].strip()
                if not raw:
                    problems.append((idx, col, "is empty", "services.empty", {}))
                elif secret[idx]:
                    problems.append((idx, col, "is not a number (value not repeated: confidential service)",
                                     "services.not_a_number", {}))
                else:
                    problems.append((idx, col, f"is not a number ('{raw}')", "services.not_a_number", {"value": raw}))
    bad = ~inside & lon.notna() & lat.notna()
    for idx in frame.index[bad & swapped_inside]:
        if secret[idx]:
            problems.append((idx, "lat/lon", "latitude and longitude look swapped (values not repeated: confidential "
                                              "service); swap the lat and lon values of this row",
                             SWAPPED_COORDINATES, {}))
        else:
            problems.append((idx, "lat/lon", f"latitude and longitude look swapped (lat={lat[idx]}, lon={lon[idx]}); "
                                              f"swap them: lat={lon[idx]}, lon={lat[idx]}",
                             SWAPPED_COORDINATES, {"lat": float(lat[idx]), "lon": float(lon[idx])}))
    for idx in frame.index[bad & ~swapped_inside]:
        if secret[idx]:
            problems.append((idx, "lat/lon", "the point lies outside Tajikistan", "services.outside", {}))
        else:
            problems.append((idx, "lat/lon", f"the point (lat={lat[idx]}, lon={lon[idx]}) lies outside Tajikistan",
                             "services.outside", {"lat": float(lat[idx]), "lon": float(lon[idx])}))
    return problems, lon.to_numpy(), lat.to_numpy()


def _formula_problems(frame: pd.DataFrame) -> list[_CellProblem]:
    problems = []
    for column in (c for c in TEXT_COLUMNS if c in frame):
        starts = frame[column].str.lstrip().str[:1].isin(FORMULA_PREFIXES)
        for idx in frame.index[starts]:
            problems.append((idx, column, "starts with =, +, - or @, which a spreadsheet would run as a formula",
                             "services.formula", {}))
    return problems


def validate_services(
    frame: pd.DataFrame,
    source_name: str,
    first_row: int = 2,
    existing_ids: Iterable[str] = (),
) -> gpd.GeoDataFrame:
    """Check an all-text services table and return it typed, as points in EPSG:4326.

    ``first_row`` is the file line of the first data row, so messages name the row a
    user sees in their editor. ``existing_ids`` are ids already in the store: a new
    row may not reuse one. Every shelter comes back ``confidential=True`` whatever its
    flag said (:func:`confidentiality_notices` names such rows for the user). Raises
    :class:`ServicesError` listing every problem.

    Parameters
    ----------
    frame : DataFrame
        All-text table with :data:`REQUIRED_COLUMNS` (optional :data:`OPTIONAL_COLUMNS`);
        ``lon``/``lat`` in decimal degrees (WGS 84; a decimal comma is accepted).
    source_name : str
        Names the file in messages.
    first_row : int
        File line of the first data row.
    existing_ids : iterable of str
        Ids a row may not reuse.

    Returns
    -------
    GeoDataFrame
        :data:`ALL_COLUMNS` in that order (``lon``/``lat`` float degrees,
        ``confidential`` bool, ``places`` nullable ``Int64`` (beds or places; NA =
        unknown, never zero), the rest str; ``org`` defaults to ``organisation``) plus
        point ``geometry`` in EPSG:4326.

    Raises
    ------
    ServicesError
        Missing or unknown columns, no rows, or every bad cell (unknown type, empty
        required text, bad or swapped or outside-Tajikistan coordinates, formula
        prefixes, duplicate or taken ids, ``places`` that is not a whole number from 0 to
        :data:`coverage.config.MAX_SERVICE_PLACES`). A confidential row's coordinates are never
        repeated in a message.
    """
    if frame.empty and len(frame.columns) == 0:
        raise ServicesError(source_name, [Problem(0, "", "the file is empty", message_id="table.empty")])
    frame = frame.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in ALL_COLUMNS]
    file_problems = [Problem(0, c, "required column is missing", message_id="services.missing_column",
                             params={"column": c}) for c in missing]
    file_problems += [Problem(0, c, f"unknown column (known: {', '.join(ALL_COLUMNS)})",
                              message_id="services.unknown_column", params={"column": c, "known": ALL_COLUMNS})
                      for c in unknown]
    if file_problems:
        raise ServicesError(source_name, file_problems)
    if frame.empty:
        raise ServicesError(source_name, [Problem(0, "", "the file has a header but no rows",
                                                  message_id="table.no_rows")])
    frame = frame.fillna("").astype(str)

    cell_problems = _schema_problems(frame) + _formula_problems(frame)
    coord_problems, lon, lat = _coordinate_problems(frame)
    cell_problems += coord_problems
    ids = frame["service_id"].str.strip()
    for idx in frame.index[ids.duplicated(keep="first") & (ids != "")]:
        first = int(frame.index[ids == ids[idx]][0]) + first_row
        cell_problems.append((idx, "service_id", f"duplicate id '{ids[idx]}' (first used on row {first})",
                              "services.duplicate_id", {"service_id": ids[idx], "first_row": first}))
    taken = set(existing_ids)
    for idx in frame.index[ids.isin(taken)]:
        cell_problems.append((idx, "service_id", f"id '{ids[idx]}' is already used by a service in the registry",
                              "services.id_taken", {"service_id": ids[idx]}))
    if cell_problems:
        problems = sorted(
            (Problem(idx + first_row, col, msg, ids[idx], message_id=mid, params=params)
             for idx, col, msg, mid, params in cell_problems),
            key=lambda p: (p.row, p.column),
        )
        raise ServicesError(source_name, problems)

    typed = frame.assign(
        service_id=ids,
        type=frame["type"].str.strip(),
        location_precision=frame["location_precision"].str.strip(),
        confidential=_confidential_rows(frame),  # every shelter, whatever its flag says
        lon=lon,
        lat=lat,
    )
    for column in OPTIONAL_COLUMNS:
        if column not in typed:
            typed[column] = ""
    typed["places"] = pd.array(_places_numbers(typed["places"]).round(), dtype="Int64")  # NA = unknown
    typed = typed[list(ALL_COLUMNS)]
    typed["org"] = typed["org"].where(typed["org"].str.strip() != "", typed["organisation"])
    return gpd.GeoDataFrame(typed, geometry=gpd.points_from_xy(lon, lat), crs=config.CRS_STORE)


def read_services(data: bytes, source_name: str, existing_ids: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Bytes of an uploaded services file → validated GeoDataFrame (or ServicesError).

    :func:`read_table` then :func:`validate_services`; same columns and CRS (EPSG:4326).
    """
    frame, first_row = read_table(data, source_name)
    return validate_services(frame, source_name, first_row=first_row, existing_ids=existing_ids)


def load_services(
    path: Path = config.SERVICES_CSV,
    districts: gpd.GeoDataFrame | None = None,
    include_closed: bool = False,
) -> gpd.GeoDataFrame:
    """The services list from a CSV/XLSX/GeoJSON file, validated; with ``districts``
    given, ``district_id`` is filled from the polygon each point lies in.

    Parameters
    ----------
    path : Path
        The services file.
    districts : GeoDataFrame, optional
        Boundaries (``district_id``, polygons) for :func:`assign_district_ids`.
    include_closed : bool
        Keep rows with a ``closed_date``.

    Returns
    -------
    GeoDataFrame
        As :func:`validate_services` (EPSG:4326 points), index reset.

    Raises
    ------
    ServicesError
        The file cannot be read or a row is invalid.
    """
    path = Path(path)
    services = read_services(read_file(path), str(path))
    if not include_closed:
        services = services[services["closed_date"].str.strip() == ""]
    if districts is not None:
        services = assign_district_ids(services, districts)
    return services.reset_index(drop=True)


def assign_district_ids(services: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill ``district_id`` from the district polygon that contains each point; points
    on no polygon (border seams) take the nearest one within 20 km, else ''.

    The join runs in EPSG:32642 metres; ``region`` is left as given.

    Parameters
    ----------
    services : GeoDataFrame
        Services with a ``district_id`` column (replaced) and points with a CRS.
    districts : GeoDataFrame
        ``district_id`` and polygons.

    Returns
    -------
    GeoDataFrame
        A copy of ``services`` (same CRS) with ``district_id`` as str.
    """
    joined = gpd.sjoin_nearest(
        services.drop(columns=["district_id"]).to_crs(config.CRS_METRIC),
        districts[["district_id", "geometry"]].to_crs(config.CRS_METRIC),
        how="left",
        max_distance=20_000,
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    out = services.copy()
    out["district_id"] = joined["district_id"].fillna("").astype(str).to_numpy()
    return out


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as formulas get a leading apostrophe.

    Apply to every CSV/XLSX export (OWASP "CSV injection").

    Parameters
    ----------
    frame : DataFrame
        Any table; only object/string columns are touched.

    Returns
    -------
    DataFrame
        A copy; cells starting (after leading spaces) with ``=``, ``+``, ``-`` or ``@``
        get a leading ``'``.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype("string")
            risky = text.str.lstrip().str[:1].isin(FORMULA_PREFIXES).fillna(False)
            out[column] = out[column].where(~risky, "'" + text)
    return out


def load_health_facilities(path: Path = config.HEALTH_FILE) -> gpd.GeoDataFrame:
    """OpenStreetMap hospitals and clinics as a services-shaped layer (type ``medical``).

    Written by the data step; an optional layer because OSM coverage is incomplete.

    Parameters
    ----------
    path : Path
        The data step's health GeoPackage (any CRS; polygons become representative points).

    Returns
    -------
    GeoDataFrame
        :data:`ALL_COLUMNS` + point ``geometry`` in EPSG:4326; ``service_id``
        ``osm-<type>-<id>``, ``type`` "medical", ``confidential`` False.
    """
    import pyogrio

    layer = pyogrio.read_dataframe(path)
    layer = layer.to_crs(config.CRS_STORE)
    points = layer.geometry.representative_point()
    out = gpd.GeoDataFrame(
        {
            "service_id": "osm-" + layer["osm_type"].astype(str) + "-" + layer["osm_id"].astype(str)
            if "osm_id" in layer
            else "osm-" + layer.index.astype(str),
            "name": layer.get("name", pd.Series("", index=layer.index)).fillna("").astype(str),
            "organisation": "OpenStreetMap health facility",
            "type": "medical",
            "town": layer.get("addr:city", pd.Series("", index=layer.index)).fillna("").astype(str),
            "district": layer.get("district", pd.Series("", index=layer.index)).fillna("").astype(str),
            "region": layer.get("region", pd.Series("", index=layer.index)).fillna("").astype(str),
            "lon": points.x.to_numpy(),
            "lat": points.y.to_numpy(),
            "location_precision": "exact",
            "confidential": False,
            "source": "© OpenStreetMap contributors (ODbL), HOT export",
        },
        geometry=points.to_numpy(),
        crs=config.CRS_STORE,
    )
    for column in ALL_COLUMNS:
        if column not in out:
            out[column] = ""
    return out[list(ALL_COLUMNS) + ["geometry"]]

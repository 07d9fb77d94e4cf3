"""Reading the tables people bring (a services list, a population layer): files read
with a size cap, UTF-8 text, CSV, XLSX and GeoJSON into all-text tables, and the
Tajikistan bounding-box test for their points.

Every reader refuses a hostile file *before* it can cost memory or time: a device, a
folder or a pipe is refused before it is opened for reading; a file is read up to its
cap and no further; an XLSX (a zip) is measured from its member list and each
worksheet's cell references are streamed before openpyxl builds anything; a CSV's rows
and columns are counted before pandas parses it; a GeoJSON's shape is checked feature
by feature. Caps are :mod:`coverage.config` constants (``MAX_*``, ``XLSX_MAX_*``).

A problem is a :class:`TableError` with the file line it concerns (0 = the whole
file), a stable ``message_id`` (``table.*``) and its ``params``; each caller turns it
into its own error type, naming the file. No message repeats a cell's value.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from coverage import config
from coverage.errors import TableError

# --- files ---------------------------------------------------------------------------------


def read_file_bytes(path: str | os.PathLike[str], *, max_bytes: int = config.MAX_UPLOAD_BYTES) -> bytes:
    """The bytes of a regular file, at most ``max_bytes`` of them.

    A missing or unreadable file, a folder, a device (``/dev/zero``) or a pipe (FIFO) is
    refused with a :class:`TableError` and never read: the file is opened without
    blocking and checked with ``fstat`` before the first read, so a pipe cannot hang the
    caller and a device cannot be read forever.

    Parameters
    ----------
    path : str or PathLike
        The file.
    max_bytes : int
        Cap in bytes.

    Returns
    -------
    bytes

    Raises
    ------
    TableError
        ``table.not_found``, ``table.not_a_file``, ``table.unreadable`` or
        ``table.too_large`` (row 0).
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise TableError(0, "no such file", message_id="table.not_found", path=str(path)) from None
    except IsADirectoryError:
        raise TableError(0, "is a folder, not a file", message_id="table.not_a_file",
                         path=str(path)) from None
    except OSError as err:
        raise TableError(0, f"cannot be opened ({err.strerror})", message_id="table.unreadable",
                         path=str(path), reason=str(err.strerror)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a pipe" if stat.S_ISFIFO(info.st_mode) \
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a special file"
            raise TableError(0, f"is {kind}, not a regular file", message_id="table.not_a_file",
                             path=str(path), kind=kind)
        if info.st_size > max_bytes:
            raise _too_large(info.st_size, max_bytes)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # closed by the file object
            data = fh.read(max_bytes + 1)  # a file that grew while read is still capped
    except OSError as err:
        raise TableError(0, f"cannot be read ({err.strerror})", message_id="table.unreadable",
                         path=str(path), reason=str(err.strerror)) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return data


def check_regular_file(path: str | os.PathLike[str], *, max_bytes: int) -> None:
    """Refuse (TableError) a path that is missing, not a regular file (a folder, device
    or pipe: checked with ``stat``, which never blocks) or larger than ``max_bytes``,
    for files another library will open (GeoPackage, GeoJSON read by pyogrio).

    Parameters
    ----------
    path : str or PathLike
        The file.
    max_bytes : int
        Cap in bytes.

    Raises
    ------
    TableError
        ``table.not_found``, ``table.unreadable``, ``table.not_a_file`` or ``table.too_large``.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise TableError(0, "no such file", message_id="table.not_found", path=str(path)) from None
    except OSError as err:
        raise TableError(0, f"cannot be opened ({err.strerror})", message_id="table.unreadable", path=str(path),
                         reason=str(err.strerror)) from None
    if not stat.S_ISREG(info.st_mode):
        raise TableError(0, "is not a regular file (a folder, device or pipe)", message_id="table.not_a_file",
                         path=str(path))
    if info.st_size > max_bytes:
        raise _too_large(info.st_size, max_bytes)


def _too_large(size: int, max_bytes: int) -> TableError:
    return TableError(0, f"the file is {size:,} bytes; the limit is {max_bytes:,}", message_id="table.too_large",
                      size_bytes=size, max_bytes=max_bytes)


def check_size(data: bytes, *, max_bytes: int = config.MAX_UPLOAD_BYTES) -> None:
    """Refuse bytes over ``max_bytes``.

    Raises
    ------
    TableError
        ``table.too_large``.
    """
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)


def require_content(data: bytes) -> None:
    """Refuse a file that is empty or holds only white space (or only NUL bytes).

    Raises
    ------
    TableError
        ``table.empty``.
    """
    if not data.strip(b" \t\r\n\f\v\x00"):
        raise TableError(0, "the file is empty", message_id="table.empty")


def decode_utf8(data: bytes) -> str:
    """The file's text (a UTF-8 byte-order mark is dropped); a TableError names the
    line of the first byte that is not UTF-8. Text holding NUL bytes is refused (a
    binary file, or one saved as UTF-16).

    Raises
    ------
    TableError
        ``table.not_utf8`` or ``table.binary``, with the line.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise TableError(line, f"not UTF-8 text (byte {err.start}); save the file as UTF-8",
                         message_id="table.not_utf8", byte=err.start) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text[:nul].count("\n") + 1
        raise TableError(line, "holds NUL bytes: a binary file, not UTF-8 text; save the file as UTF-8 CSV",
                         message_id="table.binary")
    return text


# --- CSV -----------------------------------------------------------------------------------


def read_csv_text(text: str, *, max_rows: int | None = None,
                  max_columns: int = config.MAX_TABLE_COLUMNS) -> pd.DataFrame:
    """CSV text → DataFrame of strings, empty cells as '' (nothing guessed as NaN).

    Rows (``max_rows`` data rows, None = no cap), columns and cell length
    (:data:`config.MAX_CSV_FIELD_CHARS`) are counted in one streaming pass before
    pandas parses the text, so a line of a million commas costs no more than its bytes.

    Parameters
    ----------
    text : str
        The CSV, header first.
    max_rows : int, optional
        Cap on data rows; None for no cap.
    max_columns : int
        Cap on columns.

    Returns
    -------
    DataFrame
        The header's columns, every cell a str.

    Raises
    ------
    TableError
        Too many rows or columns, a cell too long, or text pandas cannot parse.
    """
    _scan_csv(text, max_rows=max_rows, max_columns=max_columns)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as err:
        reason = str(err).splitlines()[-1] if str(err) else "parser error"
        raise TableError(0, f"not a readable CSV file: {reason}", message_id="table.csv_unreadable",
                         reason=reason) from None
    except pd.errors.EmptyDataError:
        raise TableError(0, "the file has no header row", message_id="table.no_header") from None


def _scan_csv(text: str, *, max_rows: int | None, max_columns: int) -> None:
    reader = csv.reader(io.StringIO(text))
    saved = csv.field_size_limit()
    csv.field_size_limit(config.MAX_CSV_FIELD_CHARS)
    try:
        for number, row in enumerate(reader):
            if len(row) > max_columns:
                raise _too_many_columns(len(row), max_columns, line=reader.line_num)
            if max_rows is not None and number > max_rows:  # row 0 is the header
                raise _too_many_rows(max_rows)
    except csv.Error as err:
        if "field larger" in str(err):
            raise TableError(reader.line_num, f"a cell is longer than {config.MAX_CSV_FIELD_CHARS:,} characters",
                             message_id="table.cell_too_long", max_chars=config.MAX_CSV_FIELD_CHARS) from None
        raise TableError(reader.line_num, f"not a readable CSV file: {err}", message_id="table.csv_unreadable",
                         reason=str(err)) from None
    finally:
        csv.field_size_limit(saved)


def _too_many_rows(max_rows: int) -> TableError:
    return TableError(0, f"the table has more than {max_rows:,} rows (the limit)", message_id="table.too_many_rows",
                      max_rows=max_rows)


def _too_many_columns(count: int, max_columns: int, line: int = 0) -> TableError:
    return TableError(line, f"the table has {count:,} columns; the limit is {max_columns:,}",
                      message_id="table.too_many_columns", columns=count, max_columns=max_columns)


# --- XLSX ----------------------------------------------------------------------------------

_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_SHEET_MEMBER = re.compile(r"^xl/worksheets/[^/]+\.xml$")


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + (ord(char) - 64)
    return number


def _ref(text: str) -> tuple[int, int] | None:
    """'XFD1048576' → (row 1048576, column 16384); None if not a cell reference."""
    found = _CELL_REF.match(text.strip())
    return (int(found.group(2)), _column_number(found.group(1))) if found else None


def check_xlsx(data: bytes, *, max_rows: int = config.MAX_TABLE_ROWS,
               max_columns: int = config.MAX_TABLE_COLUMNS) -> None:
    """Refuse an XLSX that would cost more than its caps to open, before it is parsed.

    The zip's member list gives the member count and their unpacked sizes (Python's
    ``zipfile`` never unpacks a member beyond its declared size, so the sum is a true
    bound); each worksheet is then streamed and its ``<dimension ref>`` and every row
    and cell reference checked against ``max_rows`` (+1 for the header) and
    ``max_columns``, so a 5 KB file with one cell at XFD1048576 is refused unparsed.

    Raises
    ------
    TableError
        ``table.xlsx_*`` (not a zip, too many members, too large unpacked, no
        worksheet, unreadable, too many cells).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise TableError(0, "not a readable XLSX workbook (not a zip file)", message_id="table.xlsx_unreadable",
                         reason="not a zip file") from None
    with archive:
        if len(members) > config.XLSX_MAX_MEMBERS:
            raise TableError(0, f"the workbook holds {len(members):,} parts; the limit is {config.XLSX_MAX_MEMBERS:,}",
                             message_id="table.xlsx_too_many_members", members=len(members),
                             max_members=config.XLSX_MAX_MEMBERS)
        unpacked = sum(m.file_size for m in members)
        if unpacked > config.XLSX_MAX_UNCOMPRESSED_BYTES:
            raise TableError(0, f"the workbook unpacks to {unpacked:,} bytes; the limit is "
                                f"{config.XLSX_MAX_UNCOMPRESSED_BYTES:,}", message_id="table.xlsx_too_large",
                             size_bytes=unpacked, max_bytes=config.XLSX_MAX_UNCOMPRESSED_BYTES)
        sheets = [m for m in members if _SHEET_MEMBER.match(m.filename)]
        if not sheets:
            raise TableError(0, "not a readable XLSX workbook (no worksheet)", message_id="table.xlsx_unreadable",
                             reason="no worksheet")
        for member in sheets:
            try:
                with archive.open(member) as stream:
                    _check_sheet(stream, max_rows=max_rows + 1, max_columns=max_columns)
            except TableError:
                raise
            except (ElementTree.ParseError, zipfile.BadZipFile, ValueError, OSError, EOFError,
                    NotImplementedError, RuntimeError) as err:
                raise TableError(0, f"not a readable XLSX workbook ({type(err).__name__})",
                                 message_id="table.xlsx_unreadable", reason=type(err).__name__) from None


def _check_sheet(stream, *, max_rows: int, max_columns: int) -> None:
    """Stream one worksheet's XML; refuse a dimension, row or cell beyond the caps."""
    row, column = 0, 0
    parser = ElementTree.iterparse(stream, events=("start", "end"))
    for event, element in parser:
        tag = element.tag.rsplit("}", 1)[-1]
        if event == "end":
            if tag in ("row", "c"):
                element.clear()
            continue
        if tag == "dimension":
            for corner in str(element.get("ref", "")).split(":"):
                found = _ref(corner)
                if found and (found[0] > max_rows or found[1] > max_columns):
                    raise _sheet_too_big(max_rows - 1, max_columns)
        elif tag == "row":
            r = element.get("r")
            row = int(r) if r and r.isdigit() else row + 1
            column = 0
            if row > max_rows:
                raise _sheet_too_big(max_rows - 1, max_columns)
        elif tag == "c":
            found = _ref(element.get("r", ""))
            if found:
                row, column = max(row, found[0]), found[1]
            else:
                column += 1
            if row > max_rows or column > max_columns:
                raise _sheet_too_big(max_rows - 1, max_columns)


def _sheet_too_big(max_rows: int, max_columns: int) -> TableError:
    return TableError(0, f"a worksheet reaches beyond {max_rows:,} rows or {max_columns:,} columns (the limits)",
                      message_id="table.xlsx_too_many_cells", max_rows=max_rows, max_columns=max_columns)


def read_xlsx(data: bytes, *, max_rows: int = config.MAX_TABLE_ROWS,
              max_columns: int = config.MAX_TABLE_COLUMNS) -> pd.DataFrame:
    """The first worksheet of an XLSX as an all-text DataFrame (empty cells '').

    :func:`check_xlsx` runs first; only a workbook within the caps reaches openpyxl.

    Parameters
    ----------
    data : bytes
        The workbook.
    max_rows, max_columns : int
        Caps on data rows (the header comes on top) and columns.

    Returns
    -------
    DataFrame
        The first row's columns, every cell a str.

    Raises
    ------
    TableError
        As :func:`check_xlsx`, or ``table.xlsx_unreadable`` naming only the exception's
        kind (its text may quote a cell).
    """
    check_xlsx(data, max_rows=max_rows, max_columns=max_columns)
    try:
        frame = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds for a broken workbook
        # The exception's text may quote a cell (a confidential coordinate): only its kind is shown.
        raise TableError(0, f"not a readable XLSX workbook ({type(err).__name__})",
                         message_id="table.xlsx_unreadable", reason=type(err).__name__) from None
    return frame.astype(str).replace({"nan": "", "None": ""})


# --- GeoJSON -------------------------------------------------------------------------------


def read_geojson_text(text: str, *, max_rows: int = config.MAX_TABLE_ROWS,
                      max_columns: int = config.MAX_TABLE_COLUMNS) -> pd.DataFrame:
    """A GeoJSON FeatureCollection of points → all-text DataFrame (properties plus
    ``lon``/``lat`` from each Point geometry, WGS 84 degrees).

    Refused with a TableError: text that is not JSON (or nested too deeply for the
    parser), a document without a ``features`` list, a feature that is not an object,
    ``properties`` or ``geometry`` that are not objects, more than ``max_rows`` features
    or ``max_columns`` distinct properties. The row of a feature problem is its number
    (from 1).

    Returns
    -------
    DataFrame
        One row per feature: its properties and ``lon``/``lat`` (degrees, EPSG:4326,
        '' without a Point), every cell a str; empty without features.

    Raises
    ------
    TableError
        ``table.json_*`` / ``table.geojson_*`` or too many rows or columns.
    """
    try:
        doc = json.loads(text)
    except RecursionError:
        raise TableError(0, "not a GeoJSON FeatureCollection: the JSON is nested too deeply",
                         message_id="table.json_too_deep") from None
    except ValueError as err:  # JSONDecodeError, or a number too long to convert
        reason = err.msg if isinstance(err, json.JSONDecodeError) else "a number is too long"
        raise TableError(0, f"not a GeoJSON FeatureCollection: {reason}", message_id="table.json_unreadable",
                         reason=reason) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise TableError(0, "not a GeoJSON FeatureCollection: no 'features' list",
                         message_id="table.geojson_no_features")
    if len(features) > max_rows:
        raise _too_many_rows(max_rows)
    records = []
    names: set[str] = set()
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            raise TableError(number, f"feature {number} is not a GeoJSON Feature object",
                             message_id="table.geojson_bad_feature", feature=number)
        props = feature.get("properties")
        geom = feature.get("geometry")
        if not isinstance(props, (dict, type(None))) or not isinstance(geom, (dict, type(None))):
            raise TableError(number, f"feature {number}: 'properties' and 'geometry' must be objects",
                             message_id="table.geojson_bad_feature", feature=number)
        record = {str(k): "" if v is None else str(v) for k, v in (props or {}).items()}
        names.update(record)
        if len(names) > max_columns:
            raise _too_many_columns(len(names), max_columns)
        coords = (geom or {}).get("coordinates") if (geom or {}).get("type") == "Point" else None
        if isinstance(coords, list) and len(coords) >= 2:
            record["lon"], record["lat"] = str(coords[0]), str(coords[1])
        else:
            record.setdefault("lon", "")
            record.setdefault("lat", "")
        records.append(record)
    return pd.DataFrame.from_records(records).astype(str) if records else pd.DataFrame()


# --- places --------------------------------------------------------------------------------


def inside_tajikistan(lon: np.ndarray | pd.Series, lat: np.ndarray | pd.Series) -> np.ndarray:
    """True where (lon, lat) in WGS 84 degrees lies in :data:`config.TJ_BOUNDS`
    (NaN → False).

    Parameters
    ----------
    lon, lat : array_like
        Degrees (EPSG:4326).

    Returns
    -------
    ndarray of bool
        Same length as ``lon``; the bounding box is a coarse test, edges included.
    """
    b = config.TJ_BOUNDS
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= b["lon_min"]) & (lon <= b["lon_max"]) & (lat >= b["lat_min"]) & (lat <= b["lat_max"])
